"""The ``calibrate`` command: calibration of a classifier's logits, with a report.

::

    softmaxkit calibrate LOGITS --labels COL|FILE [--columns C ...] [--validation-split 0.5]
                         [--seed 0] [--method temperature|vector|dirichlet|isotonic|
                         histogram|beta|platt] [--fit-bias] [--alpha A] [--lambda L] [--mu M]
                         [--beta-alpha A] [--smoothing] [--calibration-bins B]
                         [--n-bins 15] [--strategy uniform|quantile] [--plot out.png]
                         [-o probs.csv]
    softmaxkit calibrate --example [--plot out.png] [-o probs.csv]

The rows are shuffled (``--seed``) and split: the first part (``--validation-split`` of the
rows) fits the temperature, the rest is held out, and every metric is reported on it before
and after calibration. The calibrated probabilities of *all* rows are written with ``-o``,
with a column ``split`` saying which part each row was in.

Every logit is checked before the split (:func:`check_logits`), so an error names the row of
the file, whichever part the row would fall in: a NaN or ``+inf`` logit, a row whose logits
are all ``-inf`` (a fully masked row: it has no probabilities to calibrate, and its label's
likelihood is 0), and a row whose label's logit is ``-inf`` (its likelihood is 0 at every
temperature) are refused with exit status 2. A ``-inf`` logit of another class is an
excluded class (probability 0 before and after). With ``--engine dask`` the same checks run
on each partition as it is read, and name the partition and the row within it. The
library's warnings are printed as ``softmaxkit calibrate: warning: ...``
(``warnings_to_stderr`` of ``cli/_stream.py``), and its errors' advice names the
command's options (``--alpha``, ``--method``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from typing import Any

import numpy as np

from softmaxkit import calibration as cal
from softmaxkit import io as sio
from softmaxkit.cli import _dask, _stream
from softmaxkit.cli._args import Text, add_command, number, positive_int
from softmaxkit.cli._stream import CLUSTER_ONLY, DASK_OUTPUT, cli_message, warnings_to_stderr
from softmaxkit.maps import softmax

__all__ = ["NAMES", "TEXTS", "add_parsers", "check_logits", "run", "softmax_rows"]

NAMES = ("calibrate",)

# The advice the command gives in its errors.
EXAMPLE_OR_LOGITS = "give LOGITS or --example, not both"
REQUIRED = "the following arguments are required: LOGITS (or --example)"
LABELS_REQUIRED = "--labels COL|FILE is required (the true class of each row)"
BAD_DELIMITER = "--delimiter must be one character, got {text!r}"
FIT_BIAS = "--fit-bias applies to --method temperature (vector scaling has biases)"
ALPHA_VECTOR = "--alpha applies to --method vector (the penalty of its per-class parameters)"
ONLY_FOR = "{option} applies to --method {method}"
PLATT_BINARY = (
    "--method platt calibrates a binary classifier (one logit column, or two); this file has "
    "{k} logit columns"
)
METHODS = ("temperature", "vector", "dirichlet", "isotonic", "histogram", "beta", "platt")
# The options that belong to one method (option, argparse name, method).
_OWN_OPTIONS = (
    ("--lambda", "lambda_", "dirichlet"), ("--mu", "mu", "dirichlet"),
    ("--beta-alpha", "beta_alpha", "beta"), ("--smoothing", "smoothing", "platt"),
    ("--calibration-bins", "calibration_bins", "histogram"),
)
BAD_PLOT = "--plot writes a PNG file; give a name ending in .png, got {name!r}"
NOT_LABELS = (
    "--labels {spec!r} is neither a column of this file (columns: {columns}) nor an "
    "existing file"
)
DASK_PLOT = "--plot is not available with --engine dask"
DASK_LABELS = (
    "with --engine dask, --labels must name a column of the dataset ({spec!r} is not one)"
)
# A logit the fit cannot take (check_logits); the row is the file's.
NOT_FINITE = "the logit is {value}; logits must be finite (or -inf for an excluded class)"
MASKED_ROW = (
    "every logit is -inf (a fully masked row): it has no probabilities to calibrate and its "
    "label's likelihood is 0; remove the row"
)
# The library's advice in Python (calibration.scalers) as the command's options.
_CLI_WORDS = (
    ("VectorScaling(alpha=...)", "--method vector --alpha A"),
    ("BetaCalibration(alpha=...)", "--beta-alpha A"),
    ("such as alpha=1", "such as --beta-alpha 1"),
    ("Use lambda_ > 0 and mu > 0", "Use --lambda L > 0 (and --mu M > 0, by default L)"),
    ("e.g. lambda_=1e-2", "e.g. --lambda 0.01"),
    ("PlattScaling(smoothing=True)", "--smoothing"),
    ("e.g. alpha=1", "e.g. --alpha 1"),
    ("(fit_bias=False)", "(without --fit-bias)"),
    ("the penalty (alpha)", "the penalty (--alpha)"),
    ("TemperatureScaling", "--method temperature"),
)
LABEL_EXCLUDED = (
    "the logit of the label (class {label}) is -inf: its probability is 0 at every "
    "temperature, so the likelihood is 0; check the labels and this row"
)

TEXTS = {
    "calibrate": Text(
        "calibrate logits (temperature, vector, Dirichlet, beta, Platt scaling, histogram "
        "binning, isotonic regression); report calibration metrics",
        "Fits on a validation part of the rows and reports every metric before and after on "
        "the held-out part.",
        examples=(
            "softmaxkit calibrate --example --plot reliability.png",
            "softmaxkit calibrate logits.csv --labels label -o calibrated.csv",
            "softmaxkit calibrate scores.parquet --columns 'logit_*' --labels y "
            "--validation-split 0.3",
            "softmaxkit calibrate logits.npy --labels labels.csv --method vector --alpha 1",
            "softmaxkit calibrate --example --method histogram --calibration-bins 8",
            "softmaxkit calibrate --example --method isotonic --plot isotonic.png",
        ),
        notes="""\
LOGITS is .csv, .parquet or .npy; --labels names a column of LOGITS or a file with one column
(or a column named 'label'). Labels are class indices 0..K-1 in the order of the logit
columns. A single logit column is a binary classifier: P(class 1) = sigmoid(z / T).
Logits are finite, or -inf for an excluded class (probability 0). Refused with exit status 2,
naming the row of the file: a NaN or +inf logit, a row whose logits are all -inf (a fully
masked row: nothing to calibrate), a row whose label's logit is -inf (likelihood 0);
with --engine dask the message names the partition and the row within it.
""",
        hints=(
            EXAMPLE_OR_LOGITS, REQUIRED, LABELS_REQUIRED, BAD_DELIMITER, FIT_BIAS, ALPHA_VECTOR,
            PLATT_BINARY,
            CLUSTER_ONLY, BAD_PLOT, NOT_LABELS, DASK_OUTPUT, DASK_PLOT, DASK_LABELS,
            NOT_FINITE, MASKED_ROW, LABEL_EXCLUDED,
        ),
    ),
}


def add_parsers(sub: Any) -> None:
    """Add ``calibrate`` (its own options: the map commands' ones do not fit)."""
    p = add_command(sub, "calibrate", TEXTS["calibrate"])
    p.add_argument("input", nargs="?", metavar="LOGITS", help="logits file (.csv, .parquet, .npy)")
    p.add_argument(
        "--labels",
        metavar="COL|FILE",
        help="the true classes: a column of LOGITS, or a file (--example: 'label')",
    )
    p.add_argument(
        "--columns",
        nargs="+",
        action="extend",
        metavar="C",
        help="logit columns: names, globs ('logit_*'), positions or ranges; default every "
        "column but the labels",
    )
    p.add_argument(
        "--validation-split",
        type=number(float, (lambda f: 0.0 < f < 1.0, "must be strictly between 0 and 1")),
        default=0.5,
        metavar="F",
        help="fraction of the rows to fit on (default 0.5); the rest is held out",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    p.add_argument(
        "--method",
        choices=METHODS,
        default="temperature",
        help="temperature: one temperature (default); vector: one temperature and bias per "
        "class; dirichlet: softmax(W log q + b) (Kull et al. 2019); isotonic, histogram: "
        "one-vs-rest, renormalised; beta: Kull et al. 2017, one-vs-rest; platt: sigmoid of a "
        "binary score",
    )
    p.add_argument(
        "--lambda", dest="lambda_",
        type=number(float, (lambda a: math.isfinite(a) and a >= 0, "must be a finite number >= 0")),
        default=None, metavar="L",
        help="--method dirichlet: the ODIR off-diagonal penalty (default 0)",
    )
    p.add_argument(
        "--mu",
        type=number(float, (lambda a: math.isfinite(a) and a >= 0, "must be a finite number >= 0")),
        default=None, metavar="M",
        help="--method dirichlet: the ODIR intercept penalty (default: --lambda)",
    )
    p.add_argument(
        "--beta-alpha",
        type=number(float, (lambda a: math.isfinite(a) and a >= 0, "must be a finite number >= 0")),
        default=None, metavar="A",
        help="--method beta: L2 penalty towards the identity map (default 0); makes the fit "
        "exist when a class is separated",
    )
    p.add_argument(
        "--smoothing", action="store_true", default=None,
        help="--method platt: Platt's smoothed targets (N+ + 1)/(N+ + 2) and 1/(N- + 2)",
    )
    p.add_argument(
        "--calibration-bins", type=positive_int, default=None, metavar="B",
        help="--method histogram: bins of the calibration map (default 10)",
    )
    p.add_argument(
        "--fit-bias",
        action="store_true",
        help="temperature method: also fit a per-class bias (softmax(z/T + b))",
    )
    p.add_argument(
        "--alpha",
        type=number(float, (lambda a: math.isfinite(a) and a >= 0, "must be a finite number >= 0")),
        default=None,
        metavar="A",
        help="--method vector: L2 penalty pulling the per-class temperatures and biases "
        "towards one temperature (default 0, none); a penalty makes the fit exist when a "
        "class is separated",
    )
    p.add_argument(
        "--n-bins", type=positive_int, default=15, metavar="N", help="bins of the ECE (15)"
    )
    p.add_argument(
        "--strategy",
        choices=("uniform", "quantile"),
        default="uniform",
        help="ECE bins of equal width (default) or equal counts",
    )
    p.add_argument("--plot", metavar="PNG", help="save before/after reliability diagrams here")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="write the calibrated probabilities of every row (with a 'split' column); "
        "'-' = CSV on standard output, the report then goes to standard error",
    )
    p.add_argument(
        "--delimiter", default=",", metavar="D", help="CSV separator (',')"
    )
    p.add_argument("--no-header", action="store_true", help="CSV input has no header row")
    p.add_argument(
        "--example",
        action="store_true",
        help="run on the shipped digits classifier logits (columns logit_*, labels 'label')",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no report")
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: in this process (default); dask: fit and report by Dask reductions "
        "over a file, directory or glob of CSV/Parquet partitions (labels must be a column), "
        "writing a partitioned Parquet dataset to -o DIRECTORY",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --engine dask: the scheduler (default a local cluster on this machine)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="with --engine dask and no --scheduler: local worker processes (one per core)",
    )


def _read_logits(
    path: str, columns: list[str] | None, label_col: str | None, args: argparse.Namespace
) -> tuple[np.ndarray, list[str], dict[str, list[Any]], list[str]]:
    """(logits, logit column names, passthrough columns, passthrough names)."""
    kw = {"header": not args.no_header, "delimiter": args.delimiter}
    if columns is None:
        names = sio.open_reader(path, passthrough=False, **kw).names
        columns = [n for n in names if n != label_col]
        if not columns:
            raise sio.InputError(path, None, None, "no logit columns besides the labels")
    reader = sio.open_reader(path, columns=columns, passthrough=True, **kw)
    if label_col is not None and label_col in reader.selected:
        raise sio.InputError(
            path, None, label_col, "the label column is also selected as a logit column"
        )
    blocks, rest = [], {n: [] for n in reader.passthrough}
    for block in reader:
        blocks.append(block.values)
        for name, col in block.passthrough.items():
            rest[name].extend(col.tolist() if hasattr(col, "tolist") else list(col))
    if not blocks:
        raise sio.InputError(path, None, None, "no records")
    return np.concatenate(blocks), list(reader.selected), rest, list(reader.passthrough)


def _as_labels(values: list[Any], file: str, column: str) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not (math.isfinite(f) and f == int(f) and f >= 0):
            raise sio.InputError(
                file, i + 1, column, f"label {v!r} is not a class index (an integer >= 0)"
            )
        out[i] = int(f)
    return out


def _read_label_file(path: str, args: argparse.Namespace) -> np.ndarray:
    if sio.file_format(path) == "npy":
        arr = np.load(path, mmap_mode="r")
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise sio.InputError(
                path, None, None, f"expected one column of labels, got shape {arr.shape}"
            )
        return _as_labels(arr.tolist(), path, "0")
    names = sio.open_reader(
        path, passthrough=False, header=not args.no_header, delimiter=args.delimiter
    ).names
    if len(names) == 1:
        column = names[0]
    elif "label" in names:
        column = "label"
    else:
        raise sio.InputError(
            path, None, None,
            f"a labels file needs one column, or one named 'label'; it has {len(names)}: "
            f"{', '.join(names[:8])}",
        )
    reader = sio.open_reader(
        path, columns=[column], header=not args.no_header, delimiter=args.delimiter,
        passthrough=False,
    )
    values = np.concatenate([b.values[:, 0] for b in reader])
    return _as_labels(values.tolist(), path, column)


def _prob_names(columns: list[str], k: int) -> list[str]:
    if len(columns) == 1:  # binary: one logit, two probabilities
        return ["p_0", "p_1"]
    out = []
    for c in columns:
        out.append("p_" + (c[len("logit_") :] if c.startswith("logit_") else c))
    return out if len(set(out)) == len(out) else [f"p_{j}" for j in range(k)]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``calibrate``; return the exit status."""
    path, columns, label_spec = _inputs(args, parser)
    output = args.output
    if args.engine == "dask":
        return _run_dask(args, parser, path, columns, label_spec)
    if args.scheduler is not None or args.workers is not None:
        parser.error(CLUSTER_ONLY)
    if output not in (None, "-"):
        sio.file_format(output)
    if args.plot is not None:
        if os.path.splitext(args.plot)[1].lower() != ".png":
            parser.error(BAD_PLOT.format(name=args.plot))
        import matplotlib  # fail before the work when it is missing

        matplotlib.use("Agg")

    logits, y, k, selected, rest, rest_names = _load(args, path, columns, label_spec)
    if args.method == "platt" and len(selected) > 2:
        raise sio.InputError(path, None, None, PLATT_BINARY.format(k=len(selected)))
    check_logits(logits, y, path, selected)
    n = y.shape[0]
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(n)
    n_fit = min(max(round(args.validation_split * n), 1), n - 1)
    fit_idx, test_idx = np.sort(perm[:n_fit]), np.sort(perm[n_fit:])
    with warnings_to_stderr("calibrate", _CLI_WORDS):
        model = _fit(_scaler(args), logits[fit_idx], y[fit_idx], path)

    with warnings_to_stderr("calibrate", _CLI_WORDS):
        _finish(args, path, output, model, logits, y, k, fit_idx, test_idx, selected, rest,
                rest_names)
    return 0


def _finish(
    args: argparse.Namespace, path: str, output: str | None, model: Any, logits: np.ndarray,
    y: np.ndarray, k: int, fit_idx: np.ndarray, test_idx: np.ndarray, selected: list[str],
    rest: dict[str, list[Any]], rest_names: list[str],
) -> None:
    """The report on the held-out rows, the plot and the output of the fitted ``model``."""
    n = y.shape[0]
    # Only the held-out rows are needed before and after for the report; the output is
    # computed and written block by block (memory: the logits, plus the held-out part twice).
    test_logits = logits[test_idx]
    before = softmax(
        np.stack([np.zeros(test_idx.size), test_logits], axis=1)
        if logits.ndim == 1
        else test_logits
    )
    after = model.predict_proba(test_logits)
    del test_logits
    report = _report(model, args, path, n, k, fit_idx, test_idx, before, after, y)
    stream = sys.stderr if output == "-" else sys.stdout
    if not args.quiet:
        print(report, file=stream)
    if args.plot is not None:
        _save_plot(args, before, after, y[test_idx])
    del before, after
    if output is not None:
        names = _prob_names(selected, k)
        kept = [r for r in rest_names if r not in names and r != "split"]
        _write_calibrated(output, model, logits, fit_idx, [rest[r] for r in kept], kept, names)
        if not args.quiet and output != "-":
            print(f"calibrated probabilities of {n} rows -> {output}", file=stream)


def _inputs(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str, list[str] | None, str]:
    """The logits file, its column specs and the labels (a column or a file), checked."""
    if args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_LOGITS)
        path = str(sio.example_path())
        columns = args.columns or ["logit_*"]
        label_spec = args.labels or "label"
    else:
        if args.input is None:
            parser.error(REQUIRED)
        if args.labels is None:
            parser.error(LABELS_REQUIRED)
        path, columns, label_spec = args.input, args.columns, args.labels
    if path == "-":
        parser.error("calibrate reads LOGITS more than once; give a file, not standard input")
    if len(args.delimiter) != 1:
        parser.error(BAD_DELIMITER.format(text=args.delimiter))
    if args.method == "vector" and args.fit_bias:
        parser.error(FIT_BIAS)
    if args.method != "vector" and args.alpha is not None:
        parser.error(ALPHA_VECTOR)
    for option, name, method in _OWN_OPTIONS:
        if args.method != method and getattr(args, name) is not None:
            parser.error(ONLY_FOR.format(option=option, method=method))
    return path, columns, label_spec


def _load(
    args: argparse.Namespace, path: str, columns: list[str] | None, label_spec: str
) -> tuple[np.ndarray, np.ndarray, int, list[str], dict[str, list[Any]], list[str]]:
    """(logits, labels, classes, logit columns, passthrough columns, their names); one
    logit column (a binary classifier) gives 1-D logits."""
    if not os.path.exists(path):
        raise sio.MissingFileError(path, None, None, "no such file")
    names = sio.open_reader(
        path, passthrough=False, header=not args.no_header, delimiter=args.delimiter
    ).names
    label_col = label_spec if label_spec in names else None
    if label_col is None and not os.path.isfile(label_spec):
        columns_text = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        message = NOT_LABELS.format(spec=label_spec, columns=columns_text)
        raise sio.InputError(path, None, None, message)
    z, selected, rest, rest_names = _read_logits(path, columns, label_col, args)
    if label_col is not None:
        y = _as_labels(rest[label_col], path, label_col)
    else:
        y = _read_label_file(label_spec, args)
        if y.shape[0] != z.shape[0]:
            raise sio.InputError(
                label_spec, None, None,
                f"{y.shape[0]} labels for {z.shape[0]} rows of logits in {path}",
            )
    n, k = z.shape[0], max(2, z.shape[1])
    if n < 2:
        raise sio.InputError(path, None, None, f"need at least 2 rows to split, got {n}")
    bad = y >= k
    if bad.any():
        i = int(np.argmax(bad))
        where = (path, label_col) if label_col else (label_spec, None)
        raise sio.InputError(
            where[0], i + 1, where[1],
            f"label {y[i]} is out of range for {k} classes (expected 0..{k - 1})",
        )
    logits = z[:, 0] if z.shape[1] == 1 else z
    return logits, y, k, selected, rest, rest_names


def check_logits(logits: np.ndarray, y: np.ndarray, path: str, columns: list[str]) -> None:
    """Refuse, naming the file's row and column, a logit the fit or the report cannot take.

    Parameters
    ----------
    logits : ndarray
        ``(n, k)`` logits, or ``(n,)`` for a binary classifier (the logit of class 1).
    y : ndarray of int
        ``(n,)`` class indices, already checked to be in range.
    path, columns : str, list of str
        The file and the names of its logit columns, for the message.

    Raises
    ------
    softmaxkit.io.BadRecordError
        At the first row (1-based, as the reader numbers data rows) with, in this order: a
        NaN or ``+inf`` logit; only ``-inf`` logits (a fully masked row); a ``-inf`` logit
        on its label (a binary row: ``-inf`` with label 1). Such a row would fail the fit
        (with an index into the shuffled part) or give an infinite NLL in the report.

    Notes
    -----
    ``-inf`` on any other class is kept: the class is excluded (probability 0), as
    :class:`~softmaxkit.calibration.TemperatureScaling` defines it.
    """
    z = logits[:, None] if logits.ndim == 1 else logits
    rows = np.arange(z.shape[0])
    bad_value = np.isnan(z) | np.isposinf(z)
    if logits.ndim == 1:  # binary: -inf is P(class 1) = 0, impossible only with label 1
        masked = np.zeros(z.shape[0], dtype=bool)
        excluded = np.isneginf(logits) & (y == 1)
    else:
        masked = np.isneginf(z).all(axis=1)
        excluded = np.isneginf(z[rows, y])
    problem = bad_value.any(axis=1) | masked | excluded
    if not problem.any():
        return
    i = int(np.argmax(problem))
    if bad_value[i].any():
        j = int(np.argmax(bad_value[i]))
        value = "NaN" if np.isnan(z[i, j]) else "+inf"
        raise sio.BadRecordError(path, i + 1, columns[j], NOT_FINITE.format(value=value))
    if masked[i]:
        raise sio.BadRecordError(path, i + 1, None, MASKED_ROW)
    column = columns[0] if logits.ndim == 1 else columns[int(y[i])]
    raise sio.BadRecordError(path, i + 1, column, LABEL_EXCLUDED.format(label=int(y[i])))


def _scaler(args: argparse.Namespace) -> Any:
    """The unfitted model ``--method`` (and its options) asks for."""
    if args.method == "vector":
        return cal.VectorScaling(alpha=args.alpha or 0.0)
    if args.method == "dirichlet":
        return cal.DirichletCalibration(args.lambda_ or 0.0, args.mu)
    if args.method == "isotonic":
        return cal.IsotonicCalibration()
    if args.method == "histogram":
        return cal.HistogramBinning(args.calibration_bins or 10)
    if args.method == "beta":
        return cal.BetaCalibration(alpha=args.beta_alpha or 0.0)
    if args.method == "platt":
        return cal.PlattScaling(smoothing=bool(args.smoothing))
    return cal.TemperatureScaling(fit_bias=args.fit_bias)


def describe(model: Any, args: argparse.Namespace) -> list[str]:
    """The report's lines on the fitted ``model`` (before the validation NLL)."""
    if args.method == "vector":
        t = model.temperatures_
        penalty = f" (--alpha {args.alpha:g})" if args.alpha else ""
        return [
            f"vector scaling{penalty}: per-class temperatures {np.min(t):.4g} .. "
            f"{np.max(t):.4g}, "
            f"bias {np.min(model.bias_):+.4g} .. {np.max(model.bias_):+.4g}"
        ]
    if args.method == "dirichlet":
        w = model.weights_
        off = w - np.diag(np.diag(w))
        return [f"Dirichlet calibration (--lambda {args.lambda_ or 0:g}, --mu "
                f"{args.lambda_ or 0 if args.mu is None else args.mu:g}): diagonal of W "
                f"{np.min(np.diag(w)):.4g} .. {np.max(np.diag(w)):.4g}, largest off-diagonal "
                f"|W| {np.abs(off).max():.4g}, bias {np.min(model.bias_):+.4g} .. "
                f"{np.max(model.bias_):+.4g}"]
    if args.method == "beta":
        return [f"beta calibration (--beta-alpha {args.beta_alpha or 0:g}), {model.a_.size} "
                f"map(s): a {np.min(model.a_):.4g} .. {np.max(model.a_):.4g}, b "
                f"{np.min(model.b_):.4g} .. {np.max(model.b_):.4g}, c {np.min(model.c_):+.4g} "
                f".. {np.max(model.c_):+.4g}"]
    if args.method == "platt":
        smooth = " (Platt's smoothed targets)" if args.smoothing else ""
        return [f"Platt scaling{smooth}: P(class 1) = sigmoid({model.coef_:.4f} z "
                f"{model.intercept_:+.4f})"]
    if args.method == "histogram":
        return [f"histogram binning: {model.values_.shape[1]} bins, {model.values_.shape[0]} "
                "map(s), one-vs-rest, renormalised"]
    if args.method == "isotonic":
        steps = sum(int(np.unique(v).size) for v in model.values_)
        return [f"isotonic regression: {len(model.values_)} map(s), {steps} distinct levels, "
                "one-vs-rest, renormalised"]
    se = "" if math.isnan(model.temperature_se_) else f" +/- {model.temperature_se_:.4f} (se)"
    lines = [f"temperature T = {model.temperature_:.4f}{se}"]
    if model.bias_ is not None:
        lines.append("bias b = " + " ".join(f"{v:+.3f}" for v in model.bias_))
    return lines


def _validation_nll(model: Any) -> str:
    if isinstance(model, cal.BetaCalibration):
        return ("validation one-vs-rest log-loss at the optimum (summed over maps): "
                f"{model.nll_:.4f}")
    if isinstance(model, cal.HistogramBinning | cal.IsotonicCalibration):
        return ""
    return f"validation NLL at the optimum: {model.nll_:.4f}"


_NAMES = {
    "temperature": "temperature scaling", "vector": "vector scaling",
    "dirichlet": "Dirichlet calibration", "isotonic": "isotonic regression",
    "histogram": "histogram binning", "beta": "beta calibration", "platt": "Platt scaling",
}


def _fit(model: Any, logits: Any, labels: Any, path: str) -> Any:
    """``model`` fitted on the validation part; a failure is the input's."""
    try:
        model.fit(logits, labels)
    except _dask.PartitionError:
        raise  # a bad record met by a worker: already located
    except ValueError as exc:
        raise sio.InputError(
            path, None, None,
            f"cannot fit on the validation part: {cli_message(str(exc), _CLI_WORDS)}",
        ) from None
    return model


def _write_calibrated(
    output: str, model: Any, logits: np.ndarray, fit_idx: np.ndarray,
    kept: list[list[Any]], kept_names: list[str], prob_names: list[str],
) -> None:
    """The calibrated probabilities of every row, block by block, after the kept columns,
    with the ``split`` each row was in (``output`` ``-``: standard output)."""
    n = logits.shape[0]
    in_fit = np.zeros(n, dtype=bool)
    in_fit[fit_idx] = True
    block = max(1, (1 << 20) // len(prob_names))
    names = [*kept_names, *prob_names, "split"]
    with sio.open_writer(None if output == "-" else output, names) as w:
        for a in range(0, n, block):
            b = min(n, a + block)
            probs = model.predict_proba(logits[a:b])
            cols = [np.asarray(column[a:b], dtype=object) for column in kept]
            cols += [np.ascontiguousarray(probs[:, j]) for j in range(probs.shape[1])]
            split = np.where(in_fit[a:b], "fit", "test").astype(object)
            w.write([*cols, split], a)


def _report(
    model: Any, args: argparse.Namespace, path: str, n: int, k: int,
    fit_idx: np.ndarray, test_idx: np.ndarray, before: np.ndarray, after: np.ndarray,
    y: np.ndarray,
) -> str:
    bins = {"n_bins": args.n_bins, "strategy": args.strategy}
    yt = y[test_idx]
    pb, pa = before, after  # the held-out rows
    lines = [
        f"softmaxkit calibrate: {os.path.basename(path)}: {n} rows x {k} classes",
        f"fitted on {fit_idx.size} rows (--validation-split {args.validation_split:g}, "
        f"--seed {args.seed}); metrics on the other {test_idx.size}",
    ]
    lines += describe(model, args)
    if _validation_nll(model):
        lines.append(_validation_nll(model))
    kind = f"{args.n_bins} {args.strategy} bins"
    rows = [
        ("accuracy", lambda p: float(np.mean(np.argmax(p, axis=1) == yt))),
        ("negative log-likelihood", lambda p: cal.negative_log_likelihood(p, yt)),
        ("Brier score", lambda p: cal.brier_score(p, yt)),
        (f"ECE ({kind})", lambda p: cal.expected_calibration_error(p, yt, **bins)),
        (f"RMS calibration error (L2, {kind})",
         lambda p: cal.expected_calibration_error(p, yt, p=2, **bins)),
        (f"MCE ({kind})", lambda p: cal.maximum_calibration_error(p, yt, **bins)),
        (f"classwise ECE ({kind})", lambda p: cal.classwise_ece(p, yt, **bins)),
    ]
    width = max(len(r[0]) for r in rows)
    lines += ["", f"{'held-out metric':{width}}    before     after    change"]
    lines.append("-" * (width + 30))
    for name, fn in rows:
        b, a = fn(pb), fn(pa)
        lines.append(f"{name:{width}}  {b:8.4f}  {a:8.4f}  {a - b:+8.4f}")
    return "\n".join(lines)


def _save_plot(
    args: argparse.Namespace, before: np.ndarray, after: np.ndarray, y: np.ndarray
) -> None:
    import matplotlib.pyplot as plt

    fig = cal.reliability_comparison(
        before, after, y, n_bins=args.n_bins, strategy=args.strategy,
        titles=(f"before (T = 1), held-out N = {y.size}", f"after {_NAMES[args.method]}"),
    )
    target = os.path.abspath(args.plot)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=os.path.dirname(target))
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=120)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a plot is an ordinary file
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    if not args.quiet:
        stream = sys.stderr if args.output == "-" else sys.stdout
        print(f"reliability diagrams -> {args.plot}", file=stream)


# --------------------------------------------------------------------------- --engine dask


def _run_dask(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    path: str,
    columns: list[str] | None,
    label_col: str,
) -> int:
    """Fit and report with Dask: every pass over the rows is a Dask reduction.

    The split is drawn per row (a row is in the validation part with probability
    ``--validation-split``, from a generator seeded by ``--seed`` and the partition number),
    so it does not need the row count up front. The fit is
    :meth:`TemperatureScaling.fit` / :meth:`VectorScaling.fit` on Dask arrays (partial sums
    per row chunk). The held-out metrics come from per-partition sums and each held-out
    row's confidence and correctness (two numbers a row, for the ECE's bins); the
    class-wise ECE, which needs every class's probability binned, is not computed here.
    """
    _dask.require()
    output = args.output
    if output in (None, "-"):
        parser.error(DASK_OUTPUT)
    if args.plot is not None:
        parser.error(DASK_PLOT)
    frame, selected, kept = _dask_frame(args, parser, path, columns, label_col)
    if args.method == "platt" and len(selected) > 2:
        raise sio.InputError(path, None, None, PLATT_BINARY.format(k=len(selected)))
    k = max(2, len(selected))
    model = _scaler(args)
    try:
        return _fit_dask(args, model, frame, path, selected, kept, label_col, k, output)
    except _dask.PartitionError as exc:
        _stream.error(str(exc))
        return 2


def _fit_dask(
    args: argparse.Namespace, model: Any, frame: Any, path: str, selected: list[str],
    kept: list[str], label_col: str, k: int, output: str,
) -> int:
    """The Dask engine's fit, report and output (see :func:`_run_dask`)."""
    with _dask.client(args.scheduler, args.workers):
        part = frame[frame["_fit"]]
        z = part[selected].to_dask_array(lengths=True).astype(np.float64)
        y = part[label_col].to_dask_array(lengths=True)
        n_fit = int(z.shape[0])
        if n_fit == 0:
            raise sio.InputError(path, None, None, "the validation part is empty")
        with warnings_to_stderr("calibrate", _CLI_WORDS):
            _fit(model, z[:, 0] if len(selected) == 1 else z, y, path)
        total, bins = _dask_heldout(model, frame, selected, label_col, k)
        if int(total[0]) == 0:
            raise sio.InputError(path, None, None, "the held-out part is empty")
        rows = _dask_write(model, frame, selected, kept, k, output)
    if not args.quiet:
        print(_dask_report(args, model, path, rows, k, n_fit, total, bins))
    return 0


def _dask_frame(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    path: str,
    columns: list[str] | None,
    label_col: str,
) -> tuple[Any, list[str], list[str]]:
    """(the dataset with a column ``_fit``: the row's part of the split, logit columns,
    columns to pass through)."""
    frame = _dask.read_frame(path, header=not args.no_header, delimiter=args.delimiter)
    names = [str(c) for c in frame.columns]
    frame.columns = names
    if label_col not in names:
        parser.error(DASK_LABELS.format(spec=label_col))
    specs = columns or [n for n in names if n != label_col]
    selected = [names[i] for i in sio.select_columns(names, specs, file=path)]
    if label_col in selected:
        raise sio.InputError(
            path, None, label_col, "the label column is also selected as a logit column"
        )
    k = max(2, len(selected))
    kept = [n for n in names if n not in selected and n not in _prob_names(selected, k)]
    fraction, seed = args.validation_split, args.seed

    def with_split(part: Any, partition_info: dict[str, Any] | None = None) -> Any:
        number = (partition_info or {}).get("number", 0)
        _check_partition(part, number, path, selected, label_col, k)
        rng = np.random.default_rng([seed, number])
        return part.assign(_fit=rng.random(len(part)) < fraction)

    meta = frame._meta.assign(_fit=np.array([], dtype=bool))
    return frame.map_partitions(with_split, meta=meta), selected, kept


def _check_partition(
    part: Any, number: int, path: str, selected: list[str], label_col: str, k: int
) -> None:
    """The checks of the local engine (labels, :func:`check_logits`) on one partition, in
    every pass that reads it (no pass of its own); a bad record is a
    :class:`~softmaxkit.cli._dask.PartitionError` naming the partition and the 1-based row
    within it, as the row-wise commands' Dask engine names them."""
    values = part[selected].to_numpy(dtype=np.float64, na_value=np.nan)
    raw = part[label_col].to_numpy()
    try:
        try:  # vectorised; the row-by-row reading only finds the first bad label
            f = raw.astype(np.float64)
            ok = bool((np.isfinite(f) & (f == np.round(f)) & (f >= 0)).all())
        except (TypeError, ValueError):
            ok = False
        y = f.astype(np.int64) if ok else _as_labels(raw.tolist(), path, label_col)
        bad = y >= k
        if bad.any():
            i = int(np.argmax(bad))
            raise sio.BadRecordError(
                path, i + 1, label_col,
                f"label {y[i]} is out of range for {k} classes (expected 0..{k - 1})",
            )
        check_logits(values[:, 0] if values.shape[1] == 1 else values, y, path, selected)
    except sio.InputError as exc:
        where = [f"partition {number}", f"row {exc.row}"]
        if exc.column is not None:
            where.append(f"column {exc.column}")
        raise _dask.PartitionError(f"{path}: {', '.join(where)}: {exc.message}") from None


def _calibrated(model: Any, values: np.ndarray) -> np.ndarray:
    """The fitted model's probabilities of a block of logit rows (one column: binary)."""
    logits = values[:, 0] if values.shape[1] == 1 else values
    return np.asarray(model.predict_proba(logits))


def _dask_heldout(
    model: Any, frame: Any, selected: list[str], label_col: str, k: int
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Over the held-out rows: ``total`` = [rows, then hits, NLL and Brier sums before and
    after], and the confidences and hits before and after (for the ECE's bins)."""
    import dask

    def heldout(part: Any) -> tuple[np.ndarray, ...]:
        test = part[~part["_fit"].to_numpy()]
        values = test[selected].to_numpy(dtype=np.float64)
        labels = cal.class_indices(test[label_col].to_numpy(), len(test), k, "calibrate")
        pb = softmax_rows(values)
        pa = _calibrated(model, values)
        rows = np.arange(len(test))
        stats = []
        out = []
        for pr in (pb, pa):
            top = np.argmax(pr, axis=1)
            conf = pr[rows, top]
            hit = top == labels
            with np.errstate(divide="ignore"):
                nll = -np.log(pr[rows, labels]).sum()
            d = pr.copy()
            d[rows, labels] -= 1.0
            stats += [float(hit.sum()), float(nll), float(np.einsum("ij,ij->", d, d))]
            out += [conf, hit]
        return (np.array([len(test), *stats]), *out)

    parts = dask.compute(*[dask.delayed(heldout)(d) for d in frame.to_delayed()])
    total = np.sum([p[0] for p in parts], axis=0)
    bins = tuple(np.concatenate([p[i] for p in parts]) for i in range(1, 5))
    return total, bins


def _dask_write(
    model: Any, frame: Any, selected: list[str], kept: list[str], k: int, output: str
) -> int:
    """Write the calibrated probabilities of every row as a Parquet dataset; the row count."""
    import pandas as pd
    from distributed import get_client

    pnames = _prob_names(selected, k)

    def write_probs(part: Any) -> Any:
        import pandas as pd

        values = part[selected].to_numpy(dtype=np.float64)
        probs = _calibrated(model, values)
        cols = {r: part[r].to_numpy() for r in kept}
        for j, name in enumerate(pnames):
            cols[name] = probs[:, j]
        split = np.where(part["_fit"].to_numpy(), "fit", "test")
        cols["split"] = pd.array(split, dtype="string")
        return pd.DataFrame(cols, index=part.index)

    out_meta = pd.DataFrame(
        {
            **{r: frame._meta[r] for r in kept},
            **{c: pd.Series(dtype=np.float64) for c in pnames},
            "split": pd.Series(dtype="string"),
        }
    )
    result = frame.map_partitions(write_probs, meta=out_meta)
    return _dask.write_parquet(result, output, get_client(), progress=False)


def _dask_report(
    args: argparse.Namespace, model: Any, path: str, rows: int, k: int, n_fit: int,
    total: np.ndarray, bins: tuple[np.ndarray, ...],
) -> str:
    """The report of ``calibrate --engine dask`` (no class-wise ECE)."""
    conf_b, hit_b, conf_a, hit_a = bins
    n_test = int(total[0])
    tb = cal.bin_reliability(conf_b, hit_b, args.n_bins, args.strategy)
    ta = cal.bin_reliability(conf_a, hit_a, args.n_bins, args.strategy)
    kind = f"{args.n_bins} {args.strategy} bins"
    lines = [
        f"softmaxkit calibrate (dask): {path}: {rows} rows x {k} classes",
        f"fitted on {n_fit} rows (--validation-split {args.validation_split:g} per row, "
        f"--seed {args.seed}); metrics on the other {n_test}",
    ]
    lines += describe(model, args)[:1]
    if _validation_nll(model):
        lines.append(_validation_nll(model))
    table = [
        ("accuracy", total[1] / n_test, total[4] / n_test),
        ("negative log-likelihood", total[2] / n_test, total[5] / n_test),
        ("Brier score", total[3] / n_test, total[6] / n_test),
        (f"ECE ({kind})", tb.ece(1.0), ta.ece(1.0)),
        (f"RMS calibration error (L2, {kind})", tb.ece(2.0), ta.ece(2.0)),
        (f"MCE ({kind})", tb.ece(math.inf), ta.ece(math.inf)),
    ]
    width = max(len(r[0]) for r in table)
    lines += ["", f"{'held-out metric':{width}}    before     after    change"]
    lines.append("-" * (width + 30))
    for name, b, a in table:
        lines.append(f"{name:{width}}  {b:8.4f}  {a:8.4f}  {a - b:+8.4f}")
    lines.append(f"calibrated probabilities of {rows} rows -> {args.output}/")
    return "\n".join(lines)


def softmax_rows(values: np.ndarray) -> np.ndarray:
    """Uncalibrated probabilities (T = 1) of logits, one binary logit being ``[0, z]``."""
    if values.shape[1] == 1:
        values = np.concatenate([np.zeros_like(values), values], axis=1)
    return np.asarray(softmax(values, axis=-1))
