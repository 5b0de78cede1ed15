"""The ``softmaxkit mlogit`` command: fit a multinomial logit and print its summary.

::

    softmaxkit mlogit FILE --target COL [--base LABEL] [--features C ...] [--no-intercept]
                      [--penalty l2 --alpha A] [--marginal-effects overall|mean]
                      [-o TABLE.csv] [--na error|drop] [--example]

The file (CSV, Parquet or ``.npy``) is read once, in blocks, into an unnamed temporary file
that the fit maps: each Newton step passes over it a block at a time, so the rows are never
all held in memory (peak memory grows with the labels, not with the features).
``--features`` are read as numbers; the ``--target`` column is read as text, and its labels
are integers if every one parses as an integer, numbers if every one parses as a number,
else strings. ``--base`` is matched the same way.

Before the fit, the command refuses (exit status 2, one line) what would fail slowly or
obscurely inside it: a feature value that is not finite (naming the file's 1-based data row
and column, as the reader numbers rows) and a ``--target`` with about as many distinct
labels as records (a continuous column given as the categories; :func:`check_categories`).
The library's messages and warnings are printed with the command's option names in place of
the Python ones (:func:`softmaxkit.cli._stream.cli_message`, ``warnings_to_stderr``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.cli import _dask
from softmaxkit.cli._args import (
    NONNEGATIVE,
    Text,
    add_command,
    delimiter,
    number,
    positive_int,
    tolerance,
)
from softmaxkit.cli._stream import (
    CLUSTER_ONLY,
    cli_message,
    column_list,
    ordered_columns,
    warnings_to_stderr,
)
from softmaxkit.mlogit import MultinomialLogit, SeparationError

__all__ = [
    "NAMES",
    "TEXTS",
    "add_parsers",
    "check_categories",
    "pd_unique",
    "run",
]

NAMES = ("mlogit",)

_EXAMPLE = {
    "file": "anes96.csv",
    "target": "PID",
    "features": ["logpopul", "selfLR", "age", "educ", "income"],
}

# The advice the command gives in its errors.
EXAMPLE_OR_FILE = "give FILE or --example, not both"
REQUIRED = "the following arguments are required: FILE (or --example)"
TARGET_REQUIRED = "the following arguments are required: --target"
ALPHA_NEEDS_L2 = "--alpha needs --penalty l2"
CONF_LEVEL = "--conf-level must be in (0, 1), got {level:g}"
TEXT_TABLE = "-o writes a table with text columns: use .csv or .parquet"
NOT_A_BASE = "--base {text!r} is not a label of this column; its labels are [{shown}]"
ONE_TARGET = "--target must name exactly one column"
NOT_A_TARGET = "--target must name a column of the dataset"
MISSING_CATEGORY = "missing category (use --na drop to skip such records)"
NOT_FINITE = (
    "{value} is not a finite number; every feature value must be finite (use --na drop to "
    "skip such records)"
)
TOO_MANY_LABELS = (
    "--target {target} has {k} distinct values in {n} records, so it is not a column of "
    "categories (a multinomial logit needs several records per category); {advice}"
)
TARGET_ADVICE = "did you mean --target {name} ({count} categories)?"
NO_CANDIDATE = "--target names the column of categories; numeric predictors go in --features"

TEXTS = {
    "mlogit": Text(
        "multinomial logit regression of a category column on numeric columns (summary table)",
        "Fitted by Newton's method; prints a table like statsmodels' MNLogit summary, with "
        "the base category of your choice.",
        examples=(
            "softmaxkit mlogit --example",
            "softmaxkit mlogit --example --base 3 --marginal-effects overall",
            "softmaxkit mlogit survey.csv --target party --base 'Independent' "
            "--features age income",
            "softmaxkit mlogit data.parquet --target y --features 'x_*' --penalty l2 --alpha 1 "
            "-o coef.csv",
        ),
        notes="""\
--example fits party identification (PID, 0 = strong Democrat ... 6 = strong Republican) on
log population, self-placement left-right, age, education and income in the 1996 American
National Election Study subset shipped with softmaxkit (public domain; statsmodels' anes96).
""",
        hints=(
            EXAMPLE_OR_FILE, REQUIRED, TARGET_REQUIRED, ALPHA_NEEDS_L2, CONF_LEVEL, TEXT_TABLE,
            NOT_A_BASE, ONE_TARGET, NOT_A_TARGET, MISSING_CATEGORY, CLUSTER_ONLY, NOT_FINITE,
            TOO_MANY_LABELS, TARGET_ADVICE, NO_CANDIDATE,
        ),
    ),
}


# A target is refused as "not categories" when it has more than this many distinct labels
# and they are more than half the records (or every record has its own label, n >= 3): a
# multinomial logit with K categories has (K - 1) x p coefficients, and categories seen
# once or twice are separated; a continuous column would only fail after a long fit.
MAX_SPARSE_CATEGORIES = 20
# A column suggested as the probable target has at most this many distinct values.
_SUGGEST_AT_MOST = 20

# The library's messages speak Python: "MultinomialLogit.fit: " in front, keyword arguments
# in the advice. On the command line they name the command's options (longest match first).
_CLI_WORDS = (
    ("X is rank deficient", "the features (with the intercept) are rank deficient"),
    ("X column ", "feature column "),
    ("pass fit_intercept=False", "use --no-intercept"),
    ("fit_intercept=False", "--no-intercept"),
    ("penalty='l2' with alpha > 0", "--penalty l2 (with --alpha > 0)"),
    ("penalty='l2'", "--penalty l2"),
    ("the penalty (alpha)", "the penalty (--alpha)"),
    ("max_iter=", "--max-iter "),
    ("tol=", "--tol "),
)


# The library's non-finite feature message (its row is a 0-based index into X), e.g. from
# the Dask engine, whose rows the command does not read itself.
_NONFINITE = re.compile(r"X\[\d+, \d+\] \(row (\d+), column '(.*)'\) is (\S+); every feature")


def _located(text: str, path: str) -> sio.InputError:
    """A fit's ValueError as the command's error: a non-finite feature at the file's 1-based
    row and column, like the reader's own errors; anything else in option names."""
    found = _NONFINITE.search(text)
    if found is None:
        return sio.InputError(path, None, None, cli_message(text, _CLI_WORDS))
    value = float(found.group(3))
    shown = "NaN" if math.isnan(value) else f"{value:+g}"
    row = int(found.group(1)) + 1
    return sio.BadRecordError(path, row, found.group(2), NOT_FINITE.format(value=shown))


def add_parsers(sub: Any) -> None:
    """Add the ``mlogit`` command (its own options: the map options do not apply)."""
    ml = add_command(sub, "mlogit", TEXTS["mlogit"])
    ml.add_argument("input", nargs="?", metavar="FILE",
                    help="input file (.csv, .csv.gz, .parquet, .pq, .npy)")
    ml.add_argument("--target", "-y", metavar="COL",
                    help="the column of categories (--example: PID)")
    ml.add_argument("--base", metavar="LABEL",
                    help="base (reference) category: a label of the target column (default: the "
                    "first label in sorted order)")
    ml.add_argument("--features", "-x", nargs="+", action="extend", metavar="C",
                    help="feature columns: names, shell globs, positions or ranges, comma "
                    "lists allowed (default: every column but the target), in the order given")
    ml.add_argument("--no-intercept", action="store_true", help="no constant term")
    ml.add_argument("--penalty", choices=("none", "l2"), default="none",
                    help="'l2': penalise the squared coefficients (not the intercepts)")
    ml.add_argument("--alpha", type=number(float, NONNEGATIVE), default=None, metavar="A",
                    help="strength of the L2 penalty (needs --penalty l2; default 1)")
    ml.add_argument("--tol", type=tolerance, default=1e-8, metavar="T",
                    help="stop when the Newton step is below T standard errors (default 1e-8)")
    ml.add_argument("--max-iter", type=positive_int, default=100, metavar="N",
                    help="most Newton iterations (default 100)")
    ml.add_argument("--marginal-effects", choices=("overall", "mean"), default=None,
                    help="also print the marginal effects dP/dx, averaged over the rows "
                    "('overall') or at the mean of the features ('mean')")
    ml.add_argument("--conf-level", type=float, default=0.95, metavar="L",
                    help="confidence level of the intervals (default 0.95)")
    ml.add_argument("-o", "--output", metavar="TABLE",
                    help="also write the coefficient table (category, param, coef, std_err, "
                    "z, p_value, ci_lower, ci_upper) to a .csv or .parquet file")
    ml.add_argument("--na", choices=("error", "drop"), default="error",
                    help="records with a missing value: an error naming them (default), or "
                    "dropped (their number is reported)")
    ml.add_argument("--no-header", action="store_true",
                    help="CSV input has no header row (columns 0, 1, ...)")
    ml.add_argument("--delimiter", type=delimiter, default=",", metavar="D",
                    help="CSV separator (',')")
    ml.add_argument("--example", action="store_true",
                    help="fit the shipped example: party identification in the ANES 1996 "
                    "subset (see below)")
    ml.add_argument("-q", "--quiet", action="store_true", help="no notes on stderr")
    ml.add_argument("--engine", choices=("local", "dask"), default="local",
                    help="local: read the file into this process (default); dask: fit by "
                    "Dask reductions over a file, directory or glob of CSV/Parquet partitions")
    ml.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="with --engine dask: the scheduler (default a local cluster)")
    ml.add_argument("--workers", type=positive_int, default=None, metavar="N",
                    help="with --engine dask and no --scheduler: local worker processes")


def _parse_labels(raw: list[Any] | list[np.ndarray]) -> np.ndarray:
    """Text labels → ints if all are integers, floats if all are numbers, else strings.

    ``raw`` is the labels, or a list of blocks of them (arrays of text): the blocks are
    converted one at a time, so that only one block's Python objects exist at once."""
    if raw and isinstance(raw[0], np.ndarray):
        blocks = [b for b in raw if b.size]
    else:
        blocks = [np.asarray([str(v).strip() for v in raw], dtype=object)]
    for kind in (int, float):
        try:
            parsed = [np.asarray([kind(str(t).strip()) for t in b]) for b in blocks]
        except ValueError:
            continue
        values = np.concatenate(parsed)
        if kind is float:
            if np.isnan(values).any():
                break
            if np.isfinite(values).all() and (values == np.floor(values)).all():
                # e.g. a .npy column: 1.0 is label 1
                return np.asarray([int(v) for v in values.tolist()])
        return values
    return np.concatenate([np.asarray([str(t).strip() for t in b], dtype=object)
                           for b in blocks])


def _match_base(text: str | None, labels: np.ndarray, file: str, column: str) -> Any:
    if text is None:
        return None
    value: Any = text
    if labels.dtype.kind in "iuf":
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is not None and labels.dtype.kind in "iu" and value.is_integer():
            value = int(value)
    if value is not None and np.any(labels == value):
        return value
    shown = ", ".join(str(v) for v in np.unique(labels)[:20])
    raise sio.InputError(file, None, column, NOT_A_BASE.format(text=text, shown=shown))


def check_categories(
    labels: np.ndarray,
    n: int,
    path: str,
    target: str,
    x: np.ndarray | None = None,
    names: list[str] | None = None,
) -> None:
    """Refuse a ``--target`` that is not a column of categories, before the fit.

    Parameters
    ----------
    labels : ndarray
        The distinct labels (or all of them: only the distinct count matters).
    n : int
        The number of records.
    path, target : str
        The file and the target column, for the message.
    x, names : ndarray and list of str, optional
        The feature columns read; one of them with 2 to 20 distinct values is suggested as
        the probable target.

    Raises
    ------
    softmaxkit.io.InputError
        When every record has its own label (``n >= 3``), or there are more than
        :data:`MAX_SPARSE_CATEGORIES` labels and they outnumber half the records: a
        continuous column given as ``--target``, whose fit would run long and end in a
        separation error listing every label.
    """
    k = int(np.unique(labels).shape[0])
    if not ((n >= 3 and k >= n) or (k > MAX_SPARSE_CATEGORIES and 2 * k > n)):
        return
    advice = NO_CANDIDATE
    if x is not None and names is not None:
        for j, name in enumerate(names):
            count = int(np.unique(x[:, j]).shape[0])
            if 2 <= count <= _SUGGEST_AT_MOST:
                advice = TARGET_ADVICE.format(name=name, count=count)
                break
    message = TOO_MANY_LABELS.format(target=target, k=k, n=n, advice=advice)
    raise sio.InputError(path, None, target, message)


def _read(path: str, target: str, features: list[str] | None, args: argparse.Namespace,
          ) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """(X, labels, feature names, dropped records) from the file."""
    probe = sio.open_reader(path, columns=[target], header=not args.no_header,
                            delimiter=args.delimiter, passthrough=False)
    if len(probe.selected) != 1:
        raise sio.InputError(path, None, target, ONE_TARGET)
    tname = probe.selected[0]
    names = probe.names
    if features:
        chosen = ordered_columns(names, features, path)
        if tname in chosen:
            raise sio.InputError(path, None, tname,
                                 "the target column cannot also be a feature")
    else:
        chosen = [n for n in names if n != tname]
        if not chosen:
            raise sio.InputError(path, None, None, "the file has no column besides the target")
    reader = sio.open_reader(path, columns=chosen, header=not args.no_header,
                             delimiter=args.delimiter,
                             na="nan" if args.na == "drop" else "error")
    if tname not in reader.passthrough:  # pragma: no cover - guarded above
        raise sio.InputError(path, None, tname, "target column not found")
    # One pass over the file: the features go, block by block, to an unnamed temporary file
    # mapped as the design (the fit then passes over it a block at a time, never holding the
    # file's rows in memory), and the labels stay as the text of each block.
    order = [reader.selected.index(c) for c in chosen]
    x, texts, n, dropped = _spool(path, reader, tname, order, chosen, args.na == "drop")
    if n == 0:
        raise sio.InputError(path, None, None, "no records to fit")
    return x, _parse_labels(texts), chosen, dropped


def _spool(path: str, reader: Any, tname: str, order: list[int], chosen: list[str],
           drop: bool) -> tuple[np.ndarray, list[np.ndarray], int, int]:
    """The reader's records as (features mapped from a temporary file, the labels' text per
    block, records kept, records dropped), checked as they stream by: with ``drop`` records
    with a missing label or a feature that is not finite are left out, else the first of
    them raises naming its 1-based data row."""
    p = len(chosen)
    texts: list[np.ndarray] = []
    n = dropped = 0
    with tempfile.TemporaryFile() as spool:
        for block in reader:
            x = np.ascontiguousarray(block.values[:, order], dtype=np.float64)
            raw = [str(v).strip() if v is not None else "" for v in
                   column_list(block.passthrough[tname])]
            missing = np.array([v == "" for v in raw], dtype=bool)
            finite = np.isfinite(x).all(axis=1)
            if drop:
                keep = ~missing & finite
                dropped += int((~keep).sum())
                x = x[keep]
                raw = [v for v, k in zip(raw, keep, strict=True) if k]
            else:
                if missing.any():
                    row = n + int(np.argmax(missing)) + 1
                    raise sio.BadRecordError(path, row, tname, MISSING_CATEGORY)
                if not finite.all():  # "nan", "inf" written in the file
                    i, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
                    value = "NaN" if np.isnan(x[i, j]) else f"{x[i, j]:+g}"
                    raise sio.BadRecordError(path, n + i + 1, chosen[j],
                                             NOT_FINITE.format(value=value))
            spool.write(x.tobytes())
            texts.append(np.asarray(raw, dtype=str))
            n += x.shape[0]
        spool.flush()
        if n == 0:
            return np.empty((0, p)), texts, 0, dropped
        # The map keeps its own handle on the file, which is deleted when the map is.
        mapped = np.memmap(spool, dtype=np.float64, mode="r", shape=(n, p))
    return mapped, texts, n, dropped


def _table(model: Any, level: float) -> tuple[list[str], list[Any]]:
    ci = np.asarray(model.conf_int(1.0 - level))
    est = np.asarray(model.params_).reshape(-1, order="F")
    se = np.asarray(model.bse_).reshape(-1, order="F")
    z = np.asarray(model.zvalues_).reshape(-1, order="F")
    pv = np.asarray(model.pvalues_).reshape(-1, order="F")
    nonbase = [c for c in model.categories_ if not c == model.base_]
    cats = [str(c) for c in nonbase for _ in model.param_names_]
    params = [n for _ in nonbase for n in model.param_names_]
    names = ["category", "param", "coef", "std_err", "z", "p_value", "ci_lower", "ci_upper"]
    return names, [cats, params, est, se, z, pv, ci[:, 0], ci[:, 1]]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Fit and print; 0 on success (usage errors exit 2 through ``parser.error``)."""
    if args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_FILE)
        path = str(sio.example_path(_EXAMPLE["file"]))
        target = args.target or _EXAMPLE["target"]
        features = args.features or (_EXAMPLE["features"] if args.target is None else None)
    else:
        if args.input is None:
            parser.error(REQUIRED)
        if args.target is None:
            parser.error(TARGET_REQUIRED)
        path, target, features = args.input, args.target, args.features
    if args.penalty == "none" and args.alpha is not None:
        parser.error(ALPHA_NEEDS_L2)
    if not 0.0 < args.conf_level < 1.0:
        parser.error(CONF_LEVEL.format(level=args.conf_level))
    output = None if args.output in (None, "-") else args.output
    if output is not None and sio.file_format(output) == "npy":
        parser.error(TEXT_TABLE)
    if sio.file_format(path) == "npy" and not args.quiet:
        print("softmaxkit mlogit: .npy columns are named 0, 1, ...", file=sys.stderr)

    penalty = None if args.penalty == "none" else "l2"
    alpha = (1.0 if args.alpha is None else args.alpha) if penalty else 0.0

    def fit(frame: Any, series: Any, labels: np.ndarray) -> Any:
        base = _match_base(args.base, labels, path, target)
        model = MultinomialLogit(base=base, fit_intercept=not args.no_intercept,
                                 penalty=penalty, alpha=alpha, tol=args.tol,
                                 max_iter=args.max_iter)
        with warnings_to_stderr("mlogit", _CLI_WORDS):
            try:
                model.fit(frame, series)
            except SeparationError as exc:
                message = cli_message(str(exc), _CLI_WORDS)
                raise sio.InputError(path, None, target, message) from None
            except (ValueError, TypeError) as exc:
                raise _located(str(exc), path) from None
        return model

    if args.engine == "dask":
        return _run_dask(args, path, target, features, fit, output)
    if args.scheduler is not None or args.workers is not None:
        parser.error(CLUSTER_ONLY)
    x, labels, names, dropped = _read(path, target, features, args)
    check_categories(labels, x.shape[0], path, target, x, names)
    model = fit(_frame(x, names), _series(labels, target), labels)
    if dropped and not args.quiet:
        print(f"softmaxkit mlogit: dropped {dropped} record{'s' * (dropped != 1)} with "
              "missing values", file=sys.stderr)
    _report(model, args, target, output)
    return 0


def _report(model: Any, args: argparse.Namespace, target: str, output: str | None) -> None:
    print(model.summary(alpha=1.0 - args.conf_level))
    if args.marginal_effects:
        me = model.marginal_effects(args.marginal_effects)
        print()
        print(_effects_text(me, model, target))
    if output is not None:
        cols, values = _table(model, args.conf_level)
        with sio.open_writer(output, cols, delimiter=args.delimiter) as writer:
            writer.write(values)
        if not args.quiet:
            print(f"softmaxkit mlogit: coefficient table -> {output}", file=sys.stderr)


def pd_unique(values: Any) -> Any:
    import pandas as pd

    return pd.unique(values)


def _run_dask(args: argparse.Namespace, path: str, target: str, features: list[str] | None,
              fit: Any, output: str | None) -> int:
    """``--engine dask``: the fit's passes are Dask reductions over the dataset's partitions
    (see :class:`~softmaxkit.mlogit.MultinomialLogit`); the report is the same."""
    frame = _dask.read_frame(path, header=not args.no_header, delimiter=args.delimiter)
    names = [str(c) for c in frame.columns]
    frame.columns = names
    if target not in names:
        raise sio.InputError(path, None, target, NOT_A_TARGET)
    if features:
        chosen = ordered_columns(names, features, path)
        if target in chosen:
            raise sio.InputError(path, None, target, "the target column cannot also be a feature")
    else:
        chosen = [n for n in names if n != target]
    with _dask.client(args.scheduler, args.workers):
        if args.na == "drop":
            # As the local engine: records with a missing category or a feature that is not
            # finite (NaN, or inf written in the file) are dropped.
            frame = frame.dropna(subset=[target])
            frame = frame[(frame[chosen].abs() < np.inf).all(axis=1)]
        # Distinct labels per partition, then overall: no shuffle for a handful of values.
        per_part = frame[target].map_partitions(lambda c: c.dropna().drop_duplicates())
        import dask

        distinct, n = dask.compute(per_part, frame[target].count())  # one pass over the data
        labels = np.asarray(pd_unique(distinct))
        check_categories(labels, int(n), path, target)
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            # CSV integers are read as floats by Dask: category 1.0 is label 1.
            frame[target] = frame[target].astype("int64")
            labels = labels.astype(np.int64)
        model = fit(frame[chosen], frame[target], labels)
        _report(model, args, target, output)
    return 0


def _frame(x: np.ndarray, names: list[str]) -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised only without pandas
        return x
    return pd.DataFrame(x, columns=names, copy=False)  # rows mapped from a file stay there


def _series(labels: np.ndarray, name: str) -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised only without pandas
        return labels
    return pd.Series(labels, name=name)


def _effects_text(me: Any, model: Any, target: str) -> str:
    effects, se = np.asarray(me.effects), np.asarray(me.bse)
    pv = np.asarray(me.pvalues)
    feats = [n for n in model.param_names_ if n != "const" or not model.fit_intercept]
    where = "averaged over the observations" if me.at == "overall" else "at the feature means"
    lines = [f"Marginal effects dP/dx ({where}); std err by the delta method", "=" * 78]
    for k, cat in enumerate(model.categories_):
        head = f"P({target}={cat})"
        head = head if len(head) <= 24 else head[:21] + "..."
        lines.append(f"{head:<24}{'dy/dx':>13}{'std err':>13}{'z':>13}{'P>|z|':>13}")
        lines.append("-" * 78)
        for j, name in enumerate(feats):
            label = name if len(name) <= 24 else name[:21] + "..."
            z = effects[j, k] / se[j, k] if se[j, k] > 0 else math.nan
            lines.append(f"{label:<24}{effects[j, k]:>13.4g}{se[j, k]:>13.4g}{z:>13.3f}"
                         f"{pv[j, k]:>13.3f}")
        lines.append("-" * 78 if k < len(model.categories_) - 1 else "=" * 78)
    return "\n".join(lines)
