"""The ``softmaxkit`` command: the softmax maps on CSV, Parquet and ``.npy`` files.

::

    softmaxkit softmax INPUT [-o OUTPUT] [--columns C ...] [--axis row|column]
                       [--temperature T] [--chunk-rows N] [--example] [--no-progress]
    softmaxkit log-softmax ...   (same options)
    softmaxkit logsumexp ...     (same options; writes one column ``logsumexp``)
    softmaxkit inverse INPUT [-o OUTPUT] [--gauge center|reference|sum|logsumexp]
                       [--reference K] [--value V] [--temperature T] [--normalize]
                       [--atol A] ...   (row-wise only: logits back from probabilities)

Files are streamed in blocks of ``--chunk-rows`` records, so memory stays bounded for inputs
larger than RAM. Row-wise (the default) each record is one vector. ``--axis column``
normalises down each column in two passes over the file: the first computes every block's
column logsumexp, which combine exactly (``lse = logsumexp([lse_1, lse_2, ...])``); the
second maps each block against the logsumexp of all the *other* blocks.

Output files are written to a temporary file beside the target and renamed over it only when
the whole run succeeded; standard output (no ``-o``) is streamed as results come, so a failed
run may have written part of it.

Exit status: 0 on success, 2 for a usage error, a missing file or a bad record (the message
names the file, the 1-based data row and the column), 1 for anything else (e.g. a missing
optional dependency or an unwritable output).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import softmaxkit
from softmaxkit import io as sio
from softmaxkit.inverse import GAUGES, InvalidProbabilityError

__all__ = ["build_parser", "main"]

# The readings' commands live in their own modules ``softmaxkit/_cli_<reading>.py``, each
# exposing ``COMMANDS`` (the command names it adds), ``add_parser(sub, common) -> None`` and
# ``run(args, parser) -> int``. Those modules import their optional dependencies inside
# ``run``, so building the parser stays cheap.


def _reading_modules() -> dict[str, Any]:
    import importlib
    import pkgutil

    found: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(softmaxkit.__path__), key=lambda m: m.name):
        if info.name.startswith("_cli_"):
            module = importlib.import_module(f"softmaxkit.{info.name}")
            for command in module.COMMANDS:
                found[command] = module
    return found

_MAPS: dict[str, Callable[..., Any]] = {
    "softmax": softmaxkit.softmax,
    "log-softmax": softmaxkit.log_softmax,
    "logsumexp": softmaxkit.logsumexp,
    "sparsemax": softmaxkit.sparsemax,
    "entmax15": softmaxkit.entmax15,
    "entmax": softmaxkit.entmax,
}
# The sparse maps need each whole record: they run row-wise only.
_SPARSE = {
    "sparsemax": "Euclidean projection of x/T onto the simplex (exact zeros), per record",
    "entmax15": "1.5-entmax of x/T (exact, sort-based; exact zeros), per record",
    "entmax": "alpha-entmax of x/T by bisection (--alpha; 1 = softmax, 2 = sparsemax), per record",
}

_HELP = {
    "softmax": "probabilities exp(x_i/T) / sum_j exp(x_j/T) of each record (or column)",
    "log-softmax": "log-probabilities (x_i - T logsumexp(x/T)) / T of each record (or column)",
    "logsumexp": "T log sum_j exp(x_j/T) of each record (or column): one column 'logsumexp'",
}

_EPILOG = """\
examples:
  softmaxkit softmax --example -o probs.csv
  softmaxkit softmax logits.parquet --columns 'logit_*' --temperature 2 -o probs.parquet
  softmaxkit log-softmax scores.npy --columns 0:100 -o logp.npy
  softmaxkit logsumexp logits.csv --columns 'logit_*' > lse.csv
  softmaxkit softmax counts.csv --axis column -o shares.csv
  softmaxkit inverse probs.csv --gauge reference --reference 0 -o log_odds.csv

Formats follow the extension: .csv (.csv.gz), .parquet/.pq (needs pyarrow:
pip install softmaxkit[cli]), .npy (memory-mapped). Without -o, CSV goes to standard
output. Columns not selected are copied through unchanged (unless --no-passthrough).
"""


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"must be >= 0 (0 = hardmax limit, inf = uniform limit), got {text!r}"
        )
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def _delimiter(text: str) -> str:
    text = "\t" if text in ("\\t", "tab") else text
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"must be one character (or 'tab'), got {text!r}")
    return text


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _tolerance(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


_INVERSE_HELP = "logits x_i = T log p_i + c of each record of probabilities, c fixed by --gauge"


def _add_inverse(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``inverse`` command: the common options plus the choice of the constant."""
    inv = sub.add_parser(
        "inverse",
        parents=[common],
        help=_INVERSE_HELP,
        description=f"inverse: {_INVERSE_HELP}. Row-wise only; zeros map to -inf. "
        "Rows must sum to 1 (within --atol) unless --normalize.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inv.add_argument(
        "--gauge",
        choices=GAUGES,
        default="center",
        help="the constant: 'center' = finite logits have mean V (clr, default); "
        "'reference' = the logit of column K is V (alr); 'sum' = finite logits sum to V; "
        "'logsumexp' = T log sum exp(x/T) is V",
    )
    inv.add_argument(
        "--reference",
        type=_integer,
        default=0,
        metavar="K",
        help="--gauge reference: position K among the selected columns (negative counts from "
        "the end; default 0)",
    )
    inv.add_argument(
        "--value", type=_finite, default=0.0, metavar="V", help="the gauge's value (default 0)"
    )
    inv.add_argument(
        "--normalize",
        action="store_true",
        help="divide each record by its sum first (accepts weights or counts)",
    )
    inv.add_argument(
        "--atol",
        type=_tolerance,
        default=None,
        metavar="A",
        help="tolerance of |sum - 1| per record (default 4 n eps, n = number of columns)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``softmaxkit`` command."""
    parser = argparse.ArgumentParser(
        prog="softmaxkit",
        description="Apply the softmax family to CSV, Parquet and .npy files, streaming.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=softmaxkit.__version__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="input file (.csv, .csv.gz, .parquet, .pq, .npy); '-' reads CSV from stdin",
    )
    common.add_argument(
        "-o", "--output", metavar="OUTPUT", help="output file; default CSV on standard output"
    )
    common.add_argument(
        "--columns",
        nargs="+",
        action="extend",
        metavar="C",
        help="columns to use: names, shell globs ('logit_*'), positions or ranges "
        "(3, 0:10); comma-separated lists allowed; default all (--example: logit_*)",
    )
    common.add_argument(
        "--axis",
        choices=("row", "column"),
        default="row",
        help="normalise each record (row, default) or down each column (two passes)",
    )
    common.add_argument(
        "--temperature",
        "-T",
        type=_temperature,
        default=1.0,
        metavar="T",
        help="temperature T >= 0; 0 is the hardmax limit, inf the uniform limit (default 1)",
    )
    common.add_argument(
        "--chunk-rows",
        type=_positive_int,
        default=None,
        metavar="N",
        help="records per block (bounds memory); default about 2**20 cells",
    )
    common.add_argument(
        "--na",
        choices=("error", "nan", "mask"),
        default="error",
        help="missing values (empty CSV cell, Parquet null): an error (default), NaN, "
        "or 'mask' = -inf, an excluded entry with probability 0",
    )
    common.add_argument(
        "--no-header", action="store_true", help="CSV input has no header row (columns 0, 1, ...)"
    )
    common.add_argument(
        "--delimiter", type=_delimiter, default=",", metavar="D", help="CSV separator (',')"
    )
    common.add_argument(
        "--no-passthrough", action="store_true", help="do not copy the unselected columns"
    )
    common.add_argument(
        "--example",
        action="store_true",
        help="run on the shipped example: held-out logits of a digits classifier "
        "(columns logit_0..logit_9, label passed through)",
    )
    common.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it is shown on a terminal)"
    )
    common.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: stream in this process (default); dask: run on a Dask cluster, reading "
        "a file, a directory or a glob of CSV/Parquet files as partitions and writing a "
        "partitioned Parquet dataset to -o DIRECTORY (row-wise only)",
    )
    common.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --engine dask: the scheduler to use (e.g. tcp://host:8786); "
        "default a local cluster on this machine",
    )
    common.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="with --engine dask and no --scheduler: worker processes of the local cluster "
        "(default one per core)",
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in _HELP.items():
        sub.add_parser(
            name,
            parents=[common],
            help=text,
            description=f"{name}: {text}.",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    _add_inverse(sub, common)
    for name, text in _SPARSE.items():
        sp = sub.add_parser(
            name,
            parents=[common],
            help=text,
            description=f"{name}: {text}. Row-wise only.",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "entmax":
            sp.add_argument(
                "--alpha", type=float, default=1.5, metavar="A",
                help="alpha >= 1 (default 1.5): 1 is softmax, 2 is sparsemax",
            )
    for module in dict.fromkeys(_reading_modules().values()):
        module.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for usage errors and bad input, 1 otherwise.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return _run(args, parser)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    except sio.InputError as exc:
        _error(str(exc))
        return 2
    except ImportError as exc:
        _error(str(exc))
        return 1
    except BrokenPipeError:
        # The reader of our standard output went away (e.g. `| head`): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _error(message: str) -> None:
    print(f"softmaxkit: error: {message}", file=sys.stderr)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    command: str = args.command
    readings = _reading_modules()
    if command in readings:
        return int(readings[command].run(args, parser))
    columns = args.columns
    if args.example:
        if args.input is not None:
            parser.error("give INPUT or --example, not both")
        path = str(sio.example_path())
        columns = columns or ["logit_*"]
    elif args.input is None:
        parser.error("the following arguments are required: INPUT (or --example)")
    else:
        path = args.input
    output = None if args.output in (None, "-") else args.output
    if args.engine == "dask":

        def plan(view: Any) -> tuple[list[str], _Layout, Callable[[np.ndarray], np.ndarray]]:
            names, layout = _layout(view, command, "row")
            return names, layout, _row_function(command, args, view.path, view.selected)

        return _run_dask(args, parser, path, columns, output, plan)
    if args.scheduler is not None or args.workers is not None:
        parser.error("--scheduler and --workers go with --engine dask")
    if output is not None:
        sio.file_format(output)  # an unknown extension fails before any work
    if args.axis == "column" and path == "-":
        parser.error("--axis column reads the input twice; give a file, not standard input")
    if command in _SPARSE and args.axis != "row":
        parser.error(f"{command} works row-wise only (each record is one distribution)")
    if command == "entmax" and not args.alpha >= 1.0:
        parser.error(f"--alpha must be a number >= 1, got {args.alpha:g}")
    if command == "inverse":
        if args.example:
            parser.error("the example holds logits; inverse takes probabilities")
        if args.axis != "row":
            parser.error("inverse works row-wise only (each record is one distribution)")
        if not 0.0 < args.temperature < math.inf:
            parser.error(
                f"inverse needs a finite temperature > 0, got {args.temperature:g}: softmax "
                "is not invertible at T = 0 (hardmax) or T = inf (uniform)"
            )

    reader = sio.open_reader(
        path,
        columns=columns,
        chunk_rows=args.chunk_rows,
        header=not args.no_header,
        na=args.na,
        delimiter=args.delimiter,
        passthrough=not args.no_passthrough,
    )
    names, layout = _layout(reader, command, args.axis)
    csv_in = sio.file_format(path) == "csv"
    show = not (args.no_progress or args.quiet) and _isatty(sys.stderr)
    passes = 2 if args.axis == "column" and command != "logsumexp" else 1
    progress = _Progress(show, reader.progress_total, reader.progress_unit, passes, command)
    with (
        sio.open_writer(
            output,
            names,
            header=not (csv_in and args.no_header),
            delimiter=args.delimiter,
        ) as writer,
        progress,
    ):
        if args.axis == "row":
            fn = _row_function(command, args, reader.path, reader.selected)
            rows = _by_rows(reader, fn, layout, writer, progress)
        else:
            rows = _by_columns(reader, command, args.temperature, layout, writer, progress)
    if output is not None and not args.quiet:
        k = len(reader.selected)
        kept = sum(kind == "pass" for kind, _ in layout)
        note = f"; {kept} column{'s' * (kept != 1)} passed through" if kept else ""
        print(
            f"softmaxkit {command}: {rows} row{'s' * (rows != 1)} x {k} "
            f"column{'s' * (k != 1)} ({args.axis}-wise, T={args.temperature:g}) -> "
            f"{output}{note}",
            file=sys.stderr,
        )
    return 0


def _run_dask(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    path: str,
    columns: Sequence[str] | None,
    output: str | None,
    plan: Callable[[Any], tuple[list[str], _Layout, Callable[[np.ndarray], np.ndarray]]],
) -> int:
    """``--engine dask``: the row-wise map of every partition, written as a Parquet dataset.

    ``plan(view)`` gives, for the dataset's columns (``view.path``, ``.names``, ``.selected``,
    ``.passthrough``), the output names, their layout and the row function: the same the
    local stream uses, so the results are the same.
    """
    from types import SimpleNamespace

    from softmaxkit import _dask_engine as engine

    command: str = args.command
    if output is None:
        parser.error("--engine dask writes a partitioned Parquet dataset: give -o DIRECTORY")
    if path == "-":
        parser.error("--engine dask reads files, not standard input")
    if getattr(args, "axis", "row") != "row":
        parser.error("--engine dask maps records (--axis row); --axis column streams locally")
    frame = engine.read_frame(path, header=not args.no_header, delimiter=args.delimiter)
    names = [str(c) for c in frame.columns]
    frame.columns = names
    selected = [names[i] for i in sio.select_columns(names, columns, file=path)]
    kept = [] if args.no_passthrough else [n for n in names if n not in selected]
    view = SimpleNamespace(path=path, names=names, selected=selected, passthrough=kept)
    out_names, layout, fn = plan(view)
    result = engine.map_rows(
        frame,
        path=path,
        selected=selected,
        out_names=out_names,
        layout=layout,
        fn=fn,
        na=args.na,
    )
    show = not (args.no_progress or args.quiet) and _isatty(sys.stderr)
    with engine.client(args.scheduler, args.workers) as client:
        try:
            rows = engine.write_parquet(result, output, client, progress=show)
        except engine.PartitionError as exc:
            _error(str(exc))
            return 2
    if not args.quiet:
        print(
            f"softmaxkit {command}: {rows} row{'s' * (rows != 1)} x {len(selected)} "
            f"column{'s' * (len(selected) != 1)} (dask, {frame.npartitions} partition"
            f"{'s' * (frame.npartitions != 1)}) -> {output}/",
            file=sys.stderr,
        )
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# Where each output column comes from: ("value", k) = k-th result column,
# ("pass", name) = passthrough column.
_Layout = list[tuple[str, Any]]


def _layout(reader: sio.Reader, command: str, axis: str) -> tuple[list[str], _Layout]:
    """Output column names and their sources, in input order."""
    if command == "logsumexp":
        if axis == "column":  # one record: the logsumexp of each selected column
            return list(reader.selected), [("value", k) for k in range(len(reader.selected))]
        if "logsumexp" in reader.passthrough:
            raise sio.InputError(
                reader.path,
                None,
                "logsumexp",
                "the output column 'logsumexp' would clash with this input column; "
                "select it, or use --no-passthrough",
            )
        layout: _Layout = [("pass", n) for n in reader.passthrough] + [("value", 0)]
        return [*reader.passthrough, "logsumexp"], layout
    position = {n: k for k, n in enumerate(reader.selected)}
    kept = set(reader.passthrough)
    names = [n for n in reader.names if n in position or n in kept]
    return names, [("value", position[n]) if n in position else ("pass", n) for n in names]


def _columns(layout: _Layout, result: np.ndarray, passthrough: dict[str, Any]) -> list[Any]:
    by_column = np.ascontiguousarray(result.T)  # contiguous 1-D columns for the writers
    return [by_column[key] if kind == "value" else passthrough[key] for kind, key in layout]


def _row_function(
    command: str, args: argparse.Namespace, path: str, selected: Sequence[str]
) -> Callable[[np.ndarray], np.ndarray]:
    """The map of one block of records, ``(rows, k) -> (rows, k or 1)``.

    Both engines call it: the single-process stream on each block, Dask on each partition.
    A bad record raises :class:`softmaxkit.io.InputError` with its row within the block.
    """
    temperature = args.temperature
    if command == "inverse":
        k = len(selected)
        if args.gauge == "reference" and not -k <= args.reference < k:
            raise sio.InputError(
                path,
                None,
                None,
                f"--reference {args.reference} is out of range for {k} selected "
                f"column{'s' * (k != 1)}; expected an integer in [{-k}, {k - 1}]",
            )
        mask = args.na == "mask"

        def inverse(values: np.ndarray) -> np.ndarray:
            # --na mask reads missing cells as -inf: excluded entries, which map to -inf.
            where = values != -math.inf if mask else None
            try:
                return softmaxkit.inverse_softmax(
                    values,
                    axis=-1,
                    temperature=temperature,
                    gauge=args.gauge,
                    reference=args.reference,
                    value=args.value,
                    atol=args.atol,
                    normalize=args.normalize,
                    where=where,
                )
            except InvalidProbabilityError as exc:
                raise _bad_probability(path, selected, 0, exc) from None

        return inverse
    fn = _MAPS[command]
    extra = {"alpha": args.alpha} if command == "entmax" else {}
    if command == "logsumexp":
        return lambda v: fn(v, axis=-1, temperature=temperature)[:, None]
    return lambda v: fn(v, axis=-1, temperature=temperature, **extra)


def _by_rows(
    reader: sio.Reader,
    fn: Callable[[np.ndarray], np.ndarray],
    layout: _Layout,
    writer: sio.Writer,
    progress: _Progress,
) -> int:
    rows = 0
    for block in reader:
        try:
            result = fn(block.values)
        except sio.InputError as exc:
            if exc.row is None:
                raise
            raise sio.InputError(exc.file, exc.row + block.start, exc.column, exc.message) from None
        writer.write(_columns(layout, result, block.passthrough), block.start)
        rows += block.rows
        progress.update(block.progress)
    return rows


def _bad_probability(
    path: str, selected: Sequence[str], start: int, exc: InvalidProbabilityError
) -> sio.InputError:
    """The library's error, located in the file: 1-based data row and column name."""
    row = start + exc.index[0] + 1
    column = None if exc.kind in ("sum", "empty") else selected[exc.index[1]]
    reason = exc.reason
    if exc.kind == "sum":
        reason += "; use --normalize to divide each record by its sum, or a larger --atol"
    elif exc.kind == "greater":
        reason += " (use --normalize for weights or counts)"
    elif exc.kind == "reference":
        reason = (
            "probability 0 in the reference column: its logit would be -inf; use "
            "--gauge center, or a --reference column that is positive in every record"
        )
    return sio.InputError(path, row, column, reason)


def _by_columns(
    reader: sio.Reader,
    command: str,
    temperature: float,
    layout: _Layout,
    writer: sio.Writer,
    progress: _Progress,
) -> int:
    """Column-wise map in two streaming passes (one for logsumexp).

    logsumexp combines exactly across blocks: ``lse(column) = lse([lse(block_0), ...])``,
    so one pass suffices for the ``logsumexp`` command.

    For softmax and log-softmax, pass 1 keeps per block ``c`` and column its maximum ``m_c``
    and ``s_c = lse(block_c - m_c)``, and counts what the limit cases need. With the column
    maximum ``M``, ``t_c = (m_c - M) + s_c`` is the block's logsumexp in a frame where the
    largest entry is 0. Pass 2 maps ``[block_c - M; R_c]`` with the maps themselves, where the
    pseudo-record ``R_c = lse([t_0, ..., t_{c-1}, t_{c+1}, ...])`` carries the other blocks'
    share of the normaliser (``exp(R_c / T)``); so the block's entries of the result are
    mathematically those of the whole column. Working relative to ``M`` keeps ``R_c`` of order
    ``T log(rows)``, so its rounding does not grow with the size of the logits; what remains
    is the rounding of ``x - M`` itself, a relative error of about ``|log p| 2**-53`` (a few
    ulp for the entries that carry the mass; the whole-array map subtracts exactly). ``R_c``
    comes from prefix and suffix logsumexps: the work is linear in the number of blocks.

    The pseudo-record cannot say *how many* entries share the mass in the limit cases,
    which are therefore counted: a column with a NaN is NaN; a column with ``+inf`` entries
    shares the mass equally among them; at ``T = 0`` among its maxima, at ``T = inf`` among
    its entries that are not ``-inf``; an all ``-inf`` column gives zeros (log-probability
    ``-inf``). These are the rules of :func:`softmaxkit.softmax`.
    """
    lse = softmaxkit.logsumexp
    k = len(reader.selected)
    finite_t = 0.0 < temperature < math.inf
    maxima: list[np.ndarray] = []
    partials: list[np.ndarray] = []
    sizes: list[int] = []
    stats = _ColumnStats(k)
    for block in reader:
        v = block.values
        sizes.append(block.rows)
        if command == "logsumexp":
            partials.append(lse(v, axis=0, temperature=temperature))
        else:
            m = stats.add(v)
            if finite_t:
                m = np.where(np.isfinite(m), m, 0.0)  # limit columns: any finite frame will do
                maxima.append(m)
                partials.append(lse(v - m, axis=0, temperature=temperature))
        progress.update(block.progress)
    rows = sum(sizes)
    if command == "logsumexp":
        if partials:
            result = lse(np.stack(partials), axis=0, temperature=temperature)
        else:  # no records: every column is empty, whose logsumexp is -inf
            result = np.full(k, -np.inf)
        writer.write(_columns(layout, result[None, :], {}), 0)
        return rows

    fn = _MAPS[command]
    frame = np.where(np.isfinite(stats.max), stats.max, 0.0)
    if finite_t:
        terms = [(m - frame) + s for m, s in zip(maxima, partials, strict=True)]
        prefix = [np.full(k, -np.inf)]
        for t in terms[:-1]:
            prefix.append(lse(np.stack([prefix[-1], t]), axis=0, temperature=temperature))
        suffix = [np.full(k, -np.inf)]
        for t in reversed(terms[1:]):
            suffix.append(lse(np.stack([suffix[-1], t]), axis=0, temperature=temperature))
        suffix.reverse()
    offset = reader.progress_total or 0
    for c, block in enumerate(reader):
        if c >= len(sizes) or block.rows != sizes[c]:
            raise sio.InputError(reader.path, None, None, "the file changed between the passes")
        v = block.values
        if finite_t:
            rest = lse(np.stack([prefix[c], suffix[c]]), axis=0, temperature=temperature)
            result = fn(np.vstack([v - frame, rest]), axis=0, temperature=temperature)[:-1]
        else:
            result = np.empty_like(v)  # every column is a limit case
        stats.limits(v, result, temperature, log=command == "log-softmax")
        writer.write(_columns(layout, result, block.passthrough), block.start)
        progress.update(offset + block.progress)
    return rows


class _ColumnStats:
    """Per-column counts that decide the limit cases of a column-wise softmax."""

    def __init__(self, k: int) -> None:
        self.has_nan = np.zeros(k, dtype=bool)
        self.n_posinf = np.zeros(k, dtype=np.int64)
        self.n_admissible = np.zeros(k, dtype=np.int64)  # entries > -inf
        self.max = np.full(k, -np.inf)  # maximum over non-NaN entries
        self.n_max = np.zeros(k, dtype=np.int64)

    def add(self, v: np.ndarray) -> np.ndarray:
        """Count one block in; return its column maxima over the non-NaN entries."""
        nan = np.isnan(v)
        self.has_nan |= nan.any(axis=0)
        self.n_posinf += np.count_nonzero(v == np.inf, axis=0)
        self.n_admissible += np.count_nonzero(v > -np.inf, axis=0)
        m = np.where(nan, -np.inf, v).max(axis=0)
        count = np.count_nonzero(v == m, axis=0)
        higher = m > self.max
        same = m == self.max
        self.n_max = np.where(higher, count, np.where(same, self.n_max + count, self.n_max))
        self.max = np.maximum(self.max, m)
        return m

    def limits(self, v: np.ndarray, out: np.ndarray, temperature: float, *, log: bool) -> None:
        """Overwrite the columns of ``out`` whose value is a limit, in place."""
        tier = self.n_posinf > 0
        winners = v == np.inf
        count = self.n_posinf
        if temperature == 0:
            winners = np.where(tier, winners, (v == self.max) & (self.max > -np.inf))
            count = np.where(tier, count, self.n_max)
            tier = np.ones_like(tier)
        elif temperature == math.inf:
            winners = np.where(tier, winners, v > -np.inf)
            count = np.where(tier, count, self.n_admissible)
            tier = np.ones_like(tier)
        tier &= ~self.has_nan
        if tier.any():
            safe = np.maximum(count, 1)  # no winner: every entry gets 0 (or -inf)
            if log:
                limit = np.where(winners, -np.log(safe.astype(np.float64)), -np.inf)
            else:
                limit = winners / safe
            out[:, tier] = limit[:, tier]
        if self.has_nan.any():
            out[:, self.has_nan] = np.nan


class _Progress:
    """A rich progress bar on stderr, or nothing; rich is imported only when shown."""

    def __init__(
        self, enabled: bool, total: int | None, unit: str, passes: int, command: str
    ) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._total = None if total is None else total * passes
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
        label = command + (" (2 passes)" if passes == 2 else "")
        self._label = label
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            amount,
            TimeRemainingColumn(),
            console=Console(file=sys.stderr, force_terminal=True),
            transient=True,
        )

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=self._total)
        return self

    def update(self, completed: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=completed)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
