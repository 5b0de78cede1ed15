"""The ``softmaxkit weights`` command: model weights from a file of scores, as a table.

::

    softmaxkit weights FILE --method akaike|bic|pseudo-bma|bb-pseudo-bma|stacking
                       [--columns C ...] [--score-column C] [--label-column C]
                       [--seed N] [--n-bootstrap N] [--alpha A] [-o TABLE] [--example]

Two layouts, as the method needs (:func:`softmaxkit.model_weights`):

* ``akaike``, ``bic``: one record per model, a column of AIC (AICc) or BIC values
  (``--score-column``; by default the only numeric column, or the first whose name starts
  with ``aic``, ``bic`` or ``score``) and optionally a column naming the models
  (``--label-column``; by default the first text column);
* ``pseudo-bma``, ``bb-pseudo-bma``, ``stacking``: a matrix of pointwise (LOO) log predictive
  densities, one record per observation and one column per model (``--columns``; default
  all), e.g. ArviZ's ``loo(..., pointwise=True).loo_i`` or loo's ``pointwise[, "elpd_loo"]``
  of each model side by side.

Standard output shows the table (model, score, weight); ``-o`` writes it as CSV or Parquet.
A value that is not a number the method can use is a bad record (exit status 2, naming the
file, the 1-based data row and the column).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.bayes import METHODS, model_weights
from softmaxkit.cli._args import Rule, Text, add_command, delimiter, number, positive_int
from softmaxkit.cli._stream import cli_message, column_list, looks_numeric, text_table

__all__ = ["NAMES", "TEXTS", "add_parsers", "run"]

NAMES = ("weights",)

EXAMPLE = "eight_schools_loo.csv"
_CRITERIA = ("akaike", "bic")
_PREFIXES = ("aic", "bic", "score")

# The advice the command gives in its errors.
EXAMPLE_OR_FILE = "give FILE or --example, not both"
REQUIRED = "the following arguments are required: FILE (or --example)"
EXAMPLE_IS_LPD = (
    "the example holds pointwise log predictive densities: use --method pseudo-bma, "
    "bb-pseudo-bma or stacking"
)
BOOTSTRAP_ONLY = "--seed, --n-bootstrap and --alpha go with --method bb-pseudo-bma"
CRITERION_ONLY = "--score-column and --label-column go with --method akaike or bic"
COLUMNS_LPD_ONLY = "--columns selects the models of --method pseudo-bma, bb-pseudo-bma or stacking"
WHICH_SCORE = "which column holds the scores? name it with --score-column (columns: {columns})"
NOT_ONE_COLUMN = "--{what}-column {spec!r} matches {n} columns; name exactly one"
NO_STDIN = "FILE must be a file: the command reads it more than once (not standard input)"
TEXT_TABLE = "-o writes a table with a text column: use .csv or .parquet"
NOT_A_SCORE = "{value} is not a usable {what}; {why}"

TEXTS = {
    "weights": Text(
        "model weights (Akaike, BIC, pseudo-BMA, BB-pseudo-BMA, stacking) as a table",
        "AIC/BIC weights are softmax(-score/2) of a column with one record per model; the "
        "others take a matrix of pointwise log predictive densities, one column per model.",
        examples=(
            "softmaxkit weights --example",
            "softmaxkit weights --example --method bb-pseudo-bma --seed 1",
            "softmaxkit weights models.csv --method akaike --score-column AICc "
            "--label-column model",
            "softmaxkit weights loo_pointwise.csv --method stacking --columns 'model_*' "
            "-o weights.csv",
        ),
        notes="""\
--example uses the pointwise PSIS-LOO log predictive densities of four models of the eight
schools (ArviZ's centered and non-centered fits and two pooled models); see
softmaxkit/data/README.md for their source. Stacking solves its optimisation exactly: a
model's weight is exactly 0 where the optimum lies on a face of the simplex.
""",
        hints=(
            EXAMPLE_OR_FILE, REQUIRED, EXAMPLE_IS_LPD, BOOTSTRAP_ONLY, CRITERION_ONLY,
            COLUMNS_LPD_ONLY, WHICH_SCORE, NO_STDIN, TEXT_TABLE,
            *(NOT_ONE_COLUMN.replace("{what}", w) for w in ("score", "label")),
        ),
    ),
}

_POSITIVE: Rule = (lambda v: math.isfinite(v) and v > 0, "must be a finite number > 0")
_SEED: Rule = (lambda v: v >= 0, "must be >= 0")


def add_parsers(sub: Any) -> None:
    """Add the ``weights`` command."""
    p = add_command(sub, "weights", TEXTS["weights"])
    p.add_argument("input", nargs="?", metavar="FILE",
                   help="scores (.csv, .csv.gz, .parquet, .pq, .npy)")
    p.add_argument("--method", "-m", choices=METHODS, default="stacking",
                   help="akaike/bic: one record per model; the others: pointwise log "
                   "predictive densities, one column per model (default stacking)")
    p.add_argument("--columns", nargs="+", action="extend", metavar="C",
                   help="the models' columns of an lpd matrix: names, shell globs, positions "
                   "or ranges (default all)")
    p.add_argument("--score-column", metavar="C",
                   help="akaike/bic: the column of AIC (AICc) or BIC values (default the only "
                   "numeric column, or the first named aic*, bic* or score*)")
    p.add_argument("--label-column", metavar="C",
                   help="akaike/bic: the column naming the models (default the first text "
                   "column)")
    p.add_argument("--seed", type=number(int, _SEED), default=None, metavar="N",
                   help="bb-pseudo-bma: seed of the Bayesian bootstrap (default fresh draws)")
    p.add_argument("--n-bootstrap", type=positive_int, default=None, metavar="N",
                   help="bb-pseudo-bma: number of bootstrap draws (default 1000)")
    p.add_argument("--alpha", type=number(float, _POSITIVE), default=None, metavar="A",
                   help="bb-pseudo-bma: Dirichlet concentration of the draws (default 1)")
    p.add_argument("-o", "--output", metavar="TABLE",
                   help="also write the table (model, score, weight) to a .csv or .parquet file")
    p.add_argument("--example", action="store_true",
                   help="run on the shipped eight-schools LOO densities (see below)")
    p.add_argument("--no-header", action="store_true",
                   help="CSV input has no header row (columns 0, 1, ...)")
    p.add_argument("--delimiter", type=delimiter, default=",", metavar="D",
                   help="CSV separator (',')")
    p.add_argument("-q", "--quiet", action="store_true", help="no note on stderr")


def _inputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    """The input file, with the options checked against the method before any work."""
    if args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_FILE)
        if args.method in _CRITERIA:
            parser.error(EXAMPLE_IS_LPD)
        path = str(sio.example_path(EXAMPLE))
    elif args.input is None:
        parser.error(REQUIRED)
    elif args.input == "-":
        parser.error(NO_STDIN)
    else:
        path = args.input
    bootstrap = (args.seed, args.alpha, args.n_bootstrap)
    if args.method != "bb-pseudo-bma" and any(v is not None for v in bootstrap):
        parser.error(BOOTSTRAP_ONLY)
    if args.method in _CRITERIA:
        if args.columns:
            parser.error(COLUMNS_LPD_ONLY)
    elif args.score_column is not None or args.label_column is not None:
        parser.error(CRITERION_ONLY)
    if args.output not in (None, "-") and sio.file_format(args.output) == "npy":
        parser.error(TEXT_TABLE)
    return path


def _one_column(names: list[str], spec: str, path: str, what: str) -> str:
    positions = sio.select_columns(names, [spec], file=path)
    if len(positions) != 1:
        raise sio.InputError(path, None, None,
                             NOT_ONE_COLUMN.format(what=what, spec=spec, n=len(positions)))
    return names[positions[0]]


def _read(path: str, args: argparse.Namespace, columns: list[str] | None,
          passthrough: bool) -> tuple[sio.Reader, np.ndarray, list[sio.Block]]:
    reader = sio.open_reader(path, columns=columns, header=not args.no_header,
                             delimiter=args.delimiter, passthrough=passthrough)
    blocks = list(reader)
    values = (np.concatenate([b.values for b in blocks]) if blocks
              else np.empty((0, len(reader.selected))))
    return reader, values, blocks


def _readable(path: str, args: argparse.Namespace, name: str) -> bool:
    """Whether the first block of column ``name`` reads as numbers."""
    reader = sio.open_reader(path, columns=[name], header=not args.no_header,
                             delimiter=args.delimiter, passthrough=False)
    try:
        next(iter(reader), None)
    except sio.InputError:
        return False
    return True


def _criteria(path: str, args: argparse.Namespace) -> tuple[list[str], np.ndarray, str]:
    """(model labels, scores, the score column) of a file with one record per model."""
    probe = sio.open_reader(path, columns=[], header=not args.no_header,
                            delimiter=args.delimiter)
    names = list(probe.names)
    if args.score_column is not None:
        score = _one_column(names, args.score_column, path, "score")
    else:
        named = [n for n in names if n.lower().startswith(_PREFIXES)]
        numeric = named[:1] or [n for n in names if _readable(path, args, n)]
        if len(numeric) != 1:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise sio.InputError(path, None, None, WHICH_SCORE.format(columns=shown))
        score = numeric[0]
    label = None if args.label_column is None else _one_column(
        names, args.label_column, path, "label")
    reader, values, blocks = _read(path, args, [score], passthrough=True)
    if label is None:
        label = next((c for c in reader.passthrough
                      if blocks and not looks_numeric(blocks[0].passthrough[c])), None)
    n = values.shape[0]
    if label is None:
        labels = [f"model {i + 1}" for i in range(n)]
    elif label == score:
        labels = [f"{v:g}" for v in values[:, 0]]
    else:
        labels = [str(v) for b in blocks for v in column_list(b.passthrough[label])]
    return labels, values[:, 0], score


def _check(path: str, values: np.ndarray, names: list[str], method: str) -> None:
    """A bad record for what the method cannot use: NaN always, +inf in an lpd for stacking,
    -inf AIC/BIC (a model that would take every weight whatever the others)."""
    bad = np.isnan(values)
    if method == "stacking":
        bad |= values == math.inf
    if method in _CRITERIA:
        bad |= values == -math.inf
    if not bad.any():
        return
    i, j = (int(v) for v in np.argwhere(bad.reshape(values.shape[0], -1))[0])
    v = float(values.reshape(values.shape[0], -1)[i, j])
    if method in _CRITERIA:
        what = "AIC" if method == "akaike" else "BIC"
        why = "a criterion must be a number (+inf gives the model weight 0)"
    else:
        what = "log predictive density"
        why = ("stacking needs numbers or -inf (a model that gives the observation no density)"
               if v == math.inf else "it must be a number or -inf")
    shown = "NaN" if math.isnan(v) else f"{v:+g}"
    raise sio.BadRecordError(path, i + 1, names[j],
                             NOT_A_SCORE.format(value=shown, what=what, why=why))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``softmaxkit weights``; returns the exit status."""
    path = _inputs(args, parser)
    method = args.method
    if method in _CRITERIA:
        labels, scores, column = _criteria(path, args)
        if scores.size == 0:
            raise sio.InputError(path, None, None, "no records: there are no models to weigh")
        _check(path, scores[:, None], [column], method)
        weights = model_weights(scores, method=method)
        header = ["model", "AIC" if method == "akaike" else "BIC", "delta", "weight"]
        delta = scores - np.min(scores)
        cells = [[lab, f"{s:.6g}", f"{d:.6g}", f"{w:.6f}"]
                 for lab, s, d, w in zip(labels, scores, delta, weights, strict=True)]
        table_cols = ["model", header[1].lower(), "weight"]
        table = [labels, scores, weights]
        note = f"{len(labels)} models"
    else:
        reader, values, _ = _read(path, args, args.columns, passthrough=False)
        labels = list(reader.selected)
        if values.shape[0] == 0:
            raise sio.InputError(path, None, None, "no records: there are no observations")
        _check(path, values, labels, method)
        kw: dict[str, Any] = {}
        if method == "bb-pseudo-bma":
            kw = {"seed": args.seed,
                  "n_bootstrap": 1000 if args.n_bootstrap is None else args.n_bootstrap,
                  "alpha": 1.0 if args.alpha is None else args.alpha}
        try:
            weights = model_weights(values, method=method, **kw)
        except ValueError as exc:  # pragma: no cover - the checks above come first
            raise sio.InputError(path, None, None, cli_message(str(exc))) from None
        elpd = values.sum(axis=0)
        header = ["model", "elpd", "weight"]
        cells = [[lab, f"{e:.6g}", f"{w:.6f}"]
                 for lab, e, w in zip(labels, elpd, weights, strict=True)]
        table_cols = ["model", "elpd", "weight"]
        table = [labels, elpd, weights]
        note = f"{values.shape[0]} observations, {len(labels)} models"
    print(text_table(header, cells))
    print(f"method: {method} ({note})")
    if args.output not in (None, "-"):
        with sio.open_writer(args.output, table_cols, delimiter=args.delimiter) as writer:
            writer.write([np.asarray(table[0], dtype=object), *table[1:]])
        if not args.quiet:
            print(f"softmaxkit weights: table -> {args.output}", file=sys.stderr)
    return 0
