"""Streaming a row-wise command over a file: the options, the engine, the blocks, the output.

The row-wise commands (the maps, ``inverse``, ``clr``/``alr``/``ilr``) share everything but
what they do to a block of records:

* their file options (:func:`add_files`, :func:`add_reading`, :func:`add_running`), with
  the same help everywhere;
* the input (:func:`source`: a file or the shipped example) and its reader
  (:func:`open_input`);
* the engine: ``--engine local`` streams blocks of ``--chunk-rows`` records through the
  command's row function (:func:`write`, :func:`by_rows`), with a progress bar on a terminal
  (:class:`Progress`; rich is imported only to draw it); ``--engine dask`` maps the
  partitions of a dataset with the same row function (:func:`run_dask`);
* the output: a temporary file beside the target, renamed over it only when the whole run
  succeeded (:func:`softmaxkit.io.open_writer`). An exception, Ctrl-C included, removes the
  temporary file and leaves any earlier output as it was; so does SIGTERM or SIGHUP, which
  :func:`signals` turns into :class:`Terminated` (exit 128 + n).

What every command shares before and after its work (``softmaxkit.cli.main`` applies them to
every command, so no command can forget them):

* :func:`check_paths`: every output location (``-o``, ``--plot``, ``--...-output``) is
  checked before anything is read: not the input file itself (by path, hard link or
  symbolic link), its directory exists and is writable, it is not a directory;
* :func:`explain`: an error of :mod:`softmaxkit.io` carries a ``reason``; the advice that
  goes with it is built here from the running command's own options (``--na`` and its
  choices, ``--delimiter``, ``--no-passthrough``, ``--allow-overflow``), so a hint never
  names an option the command lacks.

A command describes its output with a *layout*: for each output column, ``("value", k)``
(the k-th column of the row function's result) or ``("pass", name)`` (an input column
copied through).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.cli import _dask
from softmaxkit.cli._args import delimiter, positive_int

__all__ = [
    "CLUSTER_ONLY",
    "DASK_OUTPUT",
    "DASK_ROWS",
    "DASK_STDIN",
    "EXAMPLE_OR_INPUT",
    "HINTS",
    "NOTES",
    "Layout",
    "Plan",
    "Progress",
    "RowFunction",
    "Terminated",
    "add_files",
    "add_reading",
    "add_running",
    "by_rows",
    "check_paths",
    "column_list",
    "columns",
    "error",
    "explain",
    "isatty",
    "local_only",
    "looks_numeric",
    "open_input",
    "ordered_columns",
    "run_dask",
    "signals",
    "source",
    "target",
    "text_table",
    "write",
]

# Where each output column comes from: ("value", k) = k-th result column,
# ("pass", name) = passthrough column.
Layout = list[tuple[str, Any]]
RowFunction = Callable[[np.ndarray], np.ndarray]
# What a command does to a dataset whose columns are known (``view.path``, ``.names``,
# ``.selected``, ``.passthrough``): its output names, their layout and its row function.
Plan = Callable[[Any], tuple[list[str], Layout, RowFunction]]

# The advice the streaming machinery gives, shared by the row-wise commands; HINTS holds the
# part every one of them can give (DASK_ROWS: those with --axis; EXAMPLE_OR_INPUT: with
# --example).
CLUSTER_ONLY = "--scheduler and --workers go with --engine dask"
DASK_OUTPUT = "--engine dask writes a partitioned Parquet dataset: give -o DIRECTORY"
DASK_STDIN = "--engine dask reads files, not standard input"
DASK_ROWS = "--engine dask maps records (--axis row); --axis column streams locally"
EXAMPLE_OR_INPUT = "give INPUT or --example, not both"
HINTS = (CLUSTER_ONLY, DASK_OUTPUT, DASK_STDIN, _dask.NA_HINT)

NOTES = """\
Formats follow the extension: .csv (.csv.gz), .parquet/.pq (needs pyarrow:
pip install softmaxkit[cli]), .npy (memory-mapped). Without -o, CSV goes to standard
output. Columns not selected are copied through unchanged (unless --no-passthrough).
"""


def error(message: str) -> None:
    """One line on standard error, as argparse writes its own errors."""
    print(f"softmaxkit: error: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- signals


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C (writers remove their temporary
    files on the way out), then exit 128 + ``signum``.

    A :class:`BaseException`, as :class:`KeyboardInterrupt` is, so that no ``except
    Exception`` on the way stops it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


# The signals that end a run like Ctrl-C does (SIGINT raises KeyboardInterrupt already).
_ENDING = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated`; the handlers that
    were there before come back on exit. Outside the main thread (where Python cannot set
    handlers) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        # Once is enough: a second signal must not break the cleanup the first one started.
        for s in _ENDING:
            signal.signal(s, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in _ENDING}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# --------------------------------------------------------------------------- paths

# The arguments that name files a command writes (dests): -o/--output, --plot, and any
# --SOMETHING-output (e.g. boltzmann's --thermo-output); "-" is standard output.
_OUTPUTS = ("output", "plot")
# The arguments that may name files a command reads (calibrate's --labels: a file or a column).
_INPUTS = ("input", "labels")


def _inputs_of(args: argparse.Namespace) -> list[str]:
    """The existing files and directories the command reads (globs expanded)."""
    found = []
    for dest in _INPUTS:
        value = getattr(args, dest, None)
        if not isinstance(value, str) or value in ("", "-"):
            continue
        if os.path.exists(value):
            found.append(value)
        elif any(c in value for c in "*?["):  # a dataset given as a glob (--engine dask)
            found.extend(glob.glob(value))
    return found


def _same(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are one file (hard and symbolic links resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _is_within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies under it (links resolved)."""
    if _same(path, directory):
        return True
    if not os.path.isdir(directory):
        return False
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([real, top]) == top


def check_paths(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> None:
    """Refuse, before anything is read, an output that would replace the input or cannot
    be written.

    Every output argument (``-o``/``--output``, ``--plot``, ``--...-output``; not ``-``) is
    checked: it must not be an input file (same path, or the same file through a hard or
    symbolic link: :func:`os.path.samefile`) nor, for ``--engine dask`` (whose ``-o`` is a
    directory), contain one; then its location must be writable
    (:func:`softmaxkit.io.check_output`; with ``--engine dask`` a directory may be there).

    Raises
    ------
    softmaxkit.io.InputError
        Naming the output as the user gave it (reason ``"same-file"`` or ``"output"``).
    """
    inputs = _inputs_of(args)
    dask = getattr(args, "engine", "local") == "dask"
    for dest, value in sorted(vars(args).items()):
        if not (dest in _OUTPUTS or dest.endswith("_output")):
            continue
        if not isinstance(value, str) or value in ("", "-"):
            continue
        flag = _flag(parser, dest)
        writes_directory = dask and dest == "output"
        for source in inputs:
            if (writes_directory and _is_within(source, value)) or _same(source, value):
                what = "is" if _same(source, value) else "holds"
                raise sio.InputError(
                    value,
                    None,
                    None,
                    f"{flag} {what} the input {source}; writing it would replace the input "
                    "(give another output)",
                    reason="same-file",
                )
        if dask and dest == "output":
            if os.path.exists(value) and not os.path.isdir(value):
                raise sio.InputError(
                    value, None, None, "exists and is not a directory", reason="output"
                )
            # The dataset is written beside it and renamed over it: its parent must do.
            parent = os.path.dirname(os.path.abspath(value))
            if not os.access(parent, os.W_OK | os.X_OK):
                raise sio.InputError(
                    value,
                    None,
                    None,
                    f"the directory {os.path.dirname(value) or '.'!r} "
                    + ("is not writable" if os.path.isdir(parent) else "does not exist"),
                    reason="output",
                )
        else:
            sio.check_output(value)


def _flag(parser: argparse.ArgumentParser | None, dest: str) -> str:
    """The option that sets ``dest`` as the user would type it (``-o``, ``--plot``)."""
    if parser is not None:
        for action in _actions(parser):
            if action.dest == dest and action.option_strings:
                return min(action.option_strings, key=len)
    return "--" + dest.replace("_", "-")


# --------------------------------------------------------------------------- advice


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    # argparse has no public list of a parser's options; _actions has been there since 2.7.
    return list(parser._actions)


def _option(parser: argparse.ArgumentParser | None, flag: str) -> argparse.Action | None:
    if parser is None:
        return None
    for action in _actions(parser):
        if flag in action.option_strings:
            return action
    return None


def _delimiter_word(d: str) -> str:
    """A separator as the user types it after --delimiter (``tab`` for a tab)."""
    return "tab" if d == "\t" else repr(d)


def hint(exc: sio.InputError, parser: argparse.ArgumentParser | None) -> str | None:
    """The advice for ``exc`` (by its ``reason``) that the command of ``parser`` can
    follow: only its own options are named; None when there is none to give."""
    reason = exc.reason
    if reason == "missing":
        na = _option(parser, "--na")
        choices = [c for c in (na.choices or ()) if c != "error"] if na is not None else []
        if not choices:
            return None
        ways = " or ".join(f"--na {c}" for c in choices)
        accept = set(choices) <= {"nan", "mask"}
        return f"use {ways}" + (" to accept missing values" if accept else "")
    if reason == "overflow":
        if _option(parser, "--allow-overflow") is None:
            return None
        return "use --allow-overflow to read it as an infinity"
    if reason == "text-output":
        if _option(parser, "--no-passthrough") is None:
            return "write CSV/Parquet"
        return "drop the column with --no-passthrough or write CSV/Parquet"
    if reason == "delimiter" and exc.detail and _option(parser, "--delimiter") is not None:
        word = _delimiter_word(exc.detail)
        return f"the file looks {word}-separated: use --delimiter {word}"
    return None


def explain(exc: sio.InputError, parser: argparse.ArgumentParser | None = None) -> str:
    """The one line for ``exc``: its message, and the advice of :func:`hint` in brackets."""
    advice = hint(exc, parser)
    return f"{exc} ({advice})" if advice else str(exc)


# --------------------------------------------------------------------------- options


def add_files(p: argparse.ArgumentParser, *, example_columns: str | None = None) -> None:
    """INPUT, ``-o`` and ``--columns``; ``example_columns``: the default with ``--example``."""
    p.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="input file (.csv, .csv.gz, .parquet, .pq, .npy); '-' reads CSV from stdin",
    )
    p.add_argument(
        "-o", "--output", metavar="OUTPUT", help="output file; default CSV on standard output"
    )
    default = "default all" + (f" (--example: {example_columns})" if example_columns else "")
    p.add_argument(
        "--columns",
        nargs="+",
        action="extend",
        metavar="C",
        help="columns to use: names, shell globs ('logit_*'), positions or ranges "
        f"(3, 0:10); comma-separated lists allowed; {default}",
    )


def add_reading(p: argparse.ArgumentParser, *, na_help: str | None = None) -> None:
    """How the input is read: ``--chunk-rows``, ``--na`` (``na_help``: what its choices mean
    to the command), ``--no-header``, ``--delimiter``, ``--no-passthrough``."""
    p.add_argument(
        "--chunk-rows",
        type=positive_int,
        default=None,
        metavar="N",
        help="records per block (bounds memory); default about 2**20 cells",
    )
    p.add_argument(
        "--na",
        choices=("error", "nan", "mask"),
        default="error",
        help=na_help
        or "missing values (empty CSV cell, Parquet null): an error (default), NaN, "
        "or 'mask' = -inf, an excluded entry with probability 0",
    )
    p.add_argument(
        "--no-header", action="store_true", help="CSV input has no header row (columns 0, 1, ...)"
    )
    p.add_argument(
        "--delimiter", type=delimiter, default=",", metavar="D", help="CSV separator (',')"
    )
    p.add_argument(
        "--no-passthrough", action="store_true", help="do not copy the unselected columns"
    )
    p.add_argument(
        "--allow-overflow",
        action="store_true",
        help="read a number beyond the float64 range (1e999) as +-inf; by default it is "
        "a bad record (inf and -inf written as such are always read)",
    )


def add_running(p: argparse.ArgumentParser) -> None:
    """How the command runs: ``--no-progress``, ``--engine``, ``--scheduler``, ``--workers``,
    ``-q``."""
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it is shown on a terminal)"
    )
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: stream in this process (default); dask: run on a Dask cluster, reading "
        "a file, a directory or a glob of CSV/Parquet files as partitions and writing a "
        "partitioned Parquet dataset to -o DIRECTORY (row-wise only)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --engine dask: the scheduler to use (e.g. tcp://host:8786); "
        "default a local cluster on this machine",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="with --engine dask and no --scheduler: worker processes of the local cluster "
        "(default one per core)",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr"
    )


# --------------------------------------------------------------------------- input


def source(
    args: argparse.Namespace, parser: argparse.ArgumentParser, example_columns: str | None
) -> tuple[str, list[str] | None]:
    """The input file and the column specs: INPUT, or with ``--example`` the shipped digits
    logits and ``example_columns`` (a command without ``--example`` passes None)."""
    columns = args.columns
    if example_columns is not None and args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_INPUT)
        return str(sio.example_path()), columns or [example_columns]
    if args.input is None:
        more = "" if example_columns is None else " (or --example)"
        parser.error(f"the following arguments are required: INPUT{more}")
    return args.input, columns


def target(args: argparse.Namespace) -> str | None:
    """The output file; None for standard output (no ``-o``, or ``-o -``)."""
    return None if args.output in (None, "-") else args.output


def local_only(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuse the cluster options when the command runs in this process."""
    if args.scheduler is not None or args.workers is not None:
        parser.error(CLUSTER_ONLY)


def open_input(args: argparse.Namespace, path: str, columns: Sequence[str] | None) -> sio.Reader:
    """The reader of ``path`` with the command's reading options."""
    return sio.open_reader(
        path,
        columns=columns,
        chunk_rows=args.chunk_rows,
        header=not args.no_header,
        na=args.na,
        delimiter=args.delimiter,
        passthrough=not args.no_passthrough,
        overflow="inf" if getattr(args, "allow_overflow", False) else "error",
    )


# --------------------------------------------------------------------------- local engine


def isatty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for anything that cannot say)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def write(
    args: argparse.Namespace,
    reader: sio.Reader,
    path: str,
    output: str | None,
    names: Sequence[str],
    *,
    passes: int,
    body: Callable[[sio.Writer, Progress], int],
) -> int:
    """Open the output (atomic) and the progress bar, run ``body(writer, progress)`` and
    return the rows it wrote. A CSV input without a header gives a CSV output without one."""
    csv_in = sio.file_format(path) == "csv"
    show = not (args.no_progress or args.quiet) and isatty(sys.stderr)
    progress = Progress(show, reader.progress_total, reader.progress_unit, passes, args.command)
    with (
        sio.open_writer(
            output,
            names,
            header=not (csv_in and args.no_header),
            delimiter=args.delimiter,
        ) as writer,
        progress,
    ):
        if writer.removed and not args.quiet:
            n = len(writer.removed)
            print(
                f"softmaxkit {args.command}: removed {n} temporary file{'s' * (n != 1)} "
                f"of killed runs: {', '.join(writer.removed)}",
                file=sys.stderr,
            )
        return body(writer, progress)


def columns(layout: Layout, result: np.ndarray, passthrough: dict[str, Any]) -> list[Any]:
    """The output columns of one block, in the order of ``layout``."""
    by_column = np.ascontiguousarray(result.T)  # contiguous 1-D columns for the writers
    return [by_column[key] if kind == "value" else passthrough[key] for kind, key in layout]


def by_rows(
    reader: sio.Reader,
    fn: RowFunction,
    layout: Layout,
    writer: sio.Writer,
    progress: Progress,
) -> int:
    """Map every block with ``fn`` and write it; a bad record's row is located in the file."""
    rows = 0
    for block in reader:
        try:
            result = fn(block.values)
        except sio.InputError as exc:
            if exc.row is None:
                raise
            raise exc.shifted(block.start) from None
        writer.write(columns(layout, result, block.passthrough), block.start)
        rows += block.rows
        progress.update(block.progress)
    return rows


class Progress:
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

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=self._total)
        return self

    def update(self, completed: int) -> None:
        """Move the bar to ``completed`` (in the reader's unit, over all passes)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=completed)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()


# --------------------------------------------------------------------------- Dask engine


def run_dask(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    path: str,
    columns: Sequence[str] | None,
    output: str | None,
    plan: Plan,
) -> int:
    """``--engine dask``: the row-wise map of every partition, written as a Parquet dataset.

    ``plan(view)`` gives, for the dataset's columns (``view.path``, ``.names``, ``.selected``,
    ``.passthrough``), the output names, their layout and the row function: the same the
    local stream uses, so the results are the same.
    """
    command: str = args.command
    if output is None:
        parser.error(DASK_OUTPUT)
    if path == "-":
        parser.error(DASK_STDIN)
    if getattr(args, "axis", "row") != "row":
        parser.error(DASK_ROWS)
    frame = _dask.read_frame(path, header=not args.no_header, delimiter=args.delimiter)
    names = [str(c) for c in frame.columns]
    frame.columns = names
    selected = [names[i] for i in sio.select_columns(names, columns, file=path)]
    kept = [] if args.no_passthrough else [n for n in names if n not in selected]
    view = SimpleNamespace(path=path, names=names, selected=selected, passthrough=kept)
    out_names, layout, fn = plan(view)
    result = _dask.map_rows(
        frame,
        path=path,
        selected=selected,
        out_names=out_names,
        layout=layout,
        fn=fn,
        na=args.na,
        overflow="inf" if getattr(args, "allow_overflow", False) else "error",
    )
    show = not (args.no_progress or args.quiet) and isatty(sys.stderr)
    with _dask.client(args.scheduler, args.workers) as client:
        try:
            rows = _dask.write_parquet(result, output, client, progress=show)
        except _dask.PartitionError as exc:
            error(str(exc))
            return 2
    if not args.quiet:
        print(
            f"softmaxkit {command}: {rows} row{'s' * (rows != 1)} x {len(selected)} "
            f"column{'s' * (len(selected) != 1)} (dask, {frame.npartitions} partition"
            f"{'s' * (frame.npartitions != 1)}) -> {output}/",
            file=sys.stderr,
        )
    return 0


# Library messages start with the function that raised them (``MultinomialLogit.fit: ``).
_API_PREFIX = re.compile(r"^[A-Z]\w*(?:\.\w+)?: ")


def cli_message(text: str, words: Sequence[tuple[str, str]] = ()) -> str:
    """A library message as the command line says it: without the ``Class.method: `` it
    starts with, and with option names (``--no-intercept``) for the keyword arguments
    (``fit_intercept=False``) it advises: each ``(python, option)`` of ``words`` replaced in
    turn (each command passes its own table).

    Examples
    --------
    >>> cli_message("MultinomialLogit.fit: drop it, or pass fit_intercept=False",
    ...             [("pass fit_intercept=False", "use --no-intercept")])
    'drop it, or use --no-intercept'
    >>> cli_message("TemperatureScaling.fit: the logits are no better than uniform")
    'the logits are no better than uniform'
    """
    text = _API_PREFIX.sub("", text, count=1)
    for api, cli in words:
        text = text.replace(api, cli)
    return text


@contextlib.contextmanager
def warnings_to_stderr(
    command: str, words: Sequence[tuple[str, str]] = ()
) -> Iterator[None]:
    """Within the block, collect every warning; on leaving it print each once, as one line
    ``softmaxkit COMMAND: warning: ...`` on standard error (:func:`cli_message` with
    ``words``), instead of Python's ``file:line: RuntimeWarning: ...`` with its source line.

    The warnings are printed even when the block raises (they may explain the error).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen: set[str] = set()
            for w in caught:
                line = cli_message(str(w.message), words)
                if line not in seen:
                    seen.add(line)
                    print(f"softmaxkit {command}: warning: {line}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# the columns and tables of the commands that read a whole file (choice, mlogit, weights,
# boltzmann)
# --------------------------------------------------------------------------------------------


def column_list(col: Any) -> list[Any]:
    """A block's column (a pyarrow array or any sequence) as a Python list."""
    return list(col.to_pylist()) if hasattr(col, "to_pylist") else list(col)


def looks_numeric(col: Any) -> bool:
    """Whether the first 20 values of a column all read as numbers (a label column does not).

    Examples
    --------
    >>> looks_numeric(["1", "2.5", "inf"]), looks_numeric(["1", "car"])
    (True, False)
    """
    for v in column_list(col)[:20]:
        try:
            float(v)
        except (TypeError, ValueError):
            return False
    return True


def ordered_columns(names: list[str], specs: list[str], path: str) -> list[str]:
    """The columns the specs select (names, globs, positions or comma lists of them), in the
    order of the specs (each spec's matches in file order), without repeats.

    Examples
    --------
    >>> ordered_columns(["id", "cost", "time", "income"], ["time,cost", "c*"], "f.csv")
    ['time', 'cost']
    """
    chosen: dict[str, None] = {}
    for spec in specs:
        tokens = [spec] if spec in names else [t.strip() for t in spec.split(",") if t.strip()]
        for tok in tokens:
            for i in sio.select_columns(names, [tok], file=path):
                chosen.setdefault(names[i], None)
    return list(chosen)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Cells as aligned text: the first column (names) left, the others (numbers) right, two
    spaces apart.

    Examples
    --------
    >>> print(text_table(["model", "weight"], [["a", "0.25"], ["bb", "0.75"]]))
    model  weight
    a        0.25
    bb       0.75
    """
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])  # names left, numbers right
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])
