"""The map commands ``softmax``, ``log-softmax``, ``logsumexp``, and the run they share with
``sparsemax``/``entmax15``/``entmax`` (:mod:`~softmaxkit.cli.sparse`) and ``inverse``
(:mod:`~softmaxkit.cli.inverse`).

::

    softmaxkit softmax INPUT [-o OUTPUT] [--columns C ...] [--axis row|column]
                       [--temperature T] [--chunk-rows N] [--example] [--no-progress]
    softmaxkit log-softmax ...   (same options)
    softmaxkit logsumexp ...     (same options; writes one column ``logsumexp``)

Row-wise (the default) each record is one vector, mapped block by block by the command's row
function (:func:`run_map`). ``--axis column`` normalises down each column in two passes over
the file (:func:`by_columns`): the first computes every block's column logsumexp, which
combine exactly (``lse = logsumexp([lse_1, lse_2, ...])``); the second maps each block
against the logsumexp of all the *other* blocks.

Output columns are named for what they hold (:func:`output_name`): a selected column
``logit_3`` becomes ``p_3`` (softmax and the sparse maps), ``logp_3`` (log-softmax) or, for
``inverse``, ``p_3`` becomes ``logit_3``; any other name gets the prefix (``score`` ->
``p_score``). Columns passed through keep their names; ``logsumexp`` writes one column
``logsumexp``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.cli import _stream
from softmaxkit.cli._args import Text, add_command, temperature
from softmaxkit.maps import log_softmax, logsumexp, softmax

__all__ = [
    "AXIS_HELP",
    "NAMES",
    "ROW_HINTS",
    "TEXTS",
    "add_options",
    "add_parsers",
    "by_columns",
    "naming_note",
    "output_layout",
    "output_name",
    "run",
    "run_map",
]

NAMES = ("softmax", "log-softmax", "logsumexp")

# The example's logits and the columns --example selects by default.
EXAMPLE_COLUMNS = "logit_*"
EXAMPLE_HELP = (
    "run on the shipped example: held-out logits of a digits classifier "
    "(columns logit_0..logit_9, label passed through)"
)
AXIS_HELP = "normalise each record (row, default) or down each column (two passes)"
TEMPERATURE_HELP = "temperature T >= 0; 0 is the hardmax limit, inf the uniform limit (default 1)"

# The advice the map commands give (beyond the streaming machinery's).
REQUIRED = "the following arguments are required: INPUT (or --example)"
READS_TWICE = "--axis column reads the input twice; give a file, not standard input"
LSE_CLASH = (
    "the output column 'logsumexp' would clash with this input column; "
    "select it, or use --no-passthrough"
)
NAME_CLASH = (
    "the output column {name!r} (from {source!r}) would clash with the input column "
    "{other!r}, passed through; rename it, or use --no-passthrough"
)
NAME_CLASH_SELECTED = (
    "the selected columns {source!r} and {other!r} would both be written as {name!r}; "
    "rename one of them"
)
# The hints of every map command; ROW_HINTS those of the row-wise-only ones (no --axis
# column), which add the --example ones if they have --example.
ROW_HINTS = (*_stream.HINTS, NAME_CLASH, NAME_CLASH_SELECTED)
HINTS = (*ROW_HINTS, _stream.DASK_ROWS, _stream.EXAMPLE_OR_INPUT, REQUIRED, READS_TWICE)

# What each map's output columns hold, as the prefix of their names (see output_name).
PREFIXES = {"softmax": "p_", "log-softmax": "logp_"}
# The prefixes that say what a column holds; output_name replaces them.
_QUANTITIES = ("logit_", "logp_", "p_")


def naming_note(prefix: str) -> str:
    """The help's line on how a map with output ``prefix`` names its columns."""
    source = "p_3" if prefix == "logit_" else "logit_3"
    return (
        f"The output columns are named for what they hold: {source} -> {prefix}3, any other "
        f"name gets the\nprefix (score -> {prefix}score); columns passed through keep their "
        "names.\n"
    )

TEXTS = {
    "softmax": Text(
        "probabilities exp(x_i/T) / sum_j exp(x_j/T) of each record (or column)",
        examples=(
            "softmaxkit softmax --example -o probs.csv",
            "softmaxkit softmax logits.parquet --columns 'logit_*' --temperature 2 "
            "-o probs.parquet",
            "softmaxkit softmax counts.csv --axis column -o shares.csv",
            "softmaxkit softmax 'logits/*.parquet' --columns 'logit_*' --engine dask -o probs/",
        ),
        notes=_stream.NOTES + naming_note("p_"),
        hints=HINTS,
    ),
    "log-softmax": Text(
        "log-probabilities (x_i - T logsumexp(x/T)) / T of each record (or column)",
        examples=(
            "softmaxkit log-softmax --example -o logp.csv",
            "softmaxkit log-softmax scores.npy --columns 0:100 -o logp.npy",
            "softmaxkit log-softmax logits.csv --columns 'logit_*' -T 0.5 --no-passthrough "
            "> logp.csv",
        ),
        notes=_stream.NOTES + naming_note("logp_"),
        hints=HINTS,
    ),
    "logsumexp": Text(
        "T log sum_j exp(x_j/T) of each record (or column): one column 'logsumexp'",
        examples=(
            "softmaxkit logsumexp --example -T 0",
            "softmaxkit logsumexp logits.csv --columns 'logit_*' > lse.csv",
            "softmaxkit logsumexp scores.parquet --axis column -o lse.csv",
        ),
        notes=_stream.NOTES,
        hints=(*HINTS, LSE_CLASH),
    ),
}

_MAPS: dict[str, Callable[..., Any]] = {
    "softmax": softmax,
    "log-softmax": log_softmax,
    "logsumexp": logsumexp,
}

# A command's row function: for the parsed arguments and the dataset's path and selected
# columns, the map of one block of records ``(rows, k) -> (rows, k or 1)``.
RowFactory = Callable[[argparse.Namespace, str, list[str]], _stream.RowFunction]


def add_options(
    p: argparse.ArgumentParser,
    *,
    row_only: bool = False,
    temperature_type: Callable[[str], float] = temperature,
    temperature_help: str = TEMPERATURE_HELP,
    example: bool = True,
) -> None:
    """The options of every map command, in the order of their help.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    row_only : bool
        The command maps whole records only: ``--axis`` is left out of the help (it is still
        parsed, so that ``--axis column`` gets the command's own "row-wise only" error and a
        script's ``--axis row`` keeps working).
    temperature_type, temperature_help : callable, str
        How ``--temperature`` is parsed and described (``inverse`` takes finite T > 0 only).
    example : bool
        Whether the command runs on the shipped example logits (``--example``); a command
        whose input is not logits (``inverse``) has no ``--example``.
    """
    _stream.add_files(p, example_columns=EXAMPLE_COLUMNS if example else None)
    p.add_argument(
        "--axis",
        choices=("row", "column"),
        default="row",
        help=argparse.SUPPRESS if row_only else AXIS_HELP,
    )
    p.add_argument(
        "--temperature",
        "-T",
        type=temperature_type,
        default=1.0,
        metavar="T",
        help=temperature_help,
    )
    _stream.add_reading(p)
    if example:
        p.add_argument("--example", action="store_true", help=EXAMPLE_HELP)
    _stream.add_running(p)


def add_parsers(sub: Any) -> None:
    """Add ``softmax``, ``log-softmax`` and ``logsumexp``."""
    for name in NAMES:
        add_options(add_command(sub, name, TEXTS[name]))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``softmax``, ``log-softmax`` or ``logsumexp``; return the exit status."""
    return run_map(args, parser, _row_function, prefix=PREFIXES.get(args.command))


def _row_function(args: argparse.Namespace, path: str, selected: list[str]) -> Any:
    fn = _MAPS[args.command]
    t = args.temperature
    if args.command == "logsumexp":
        return lambda v: fn(v, axis=-1, temperature=t)[:, None]
    return lambda v: fn(v, axis=-1, temperature=t)


def run_map(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    row_function: RowFactory,
    checks: Callable[[argparse.Namespace, argparse.ArgumentParser], None] | None = None,
    *,
    prefix: str | None = None,
    example: bool = True,
) -> int:
    """Run a map command: ``row_function`` maps the records (both engines), ``checks``
    refuses what the command cannot do (before either engine starts), ``prefix`` names the
    output columns (:func:`output_name`), ``example``: whether the command has ``--example``.
    """
    command: str = args.command
    path, columns = _stream.source(args, parser, EXAMPLE_COLUMNS if example else None)
    output = _stream.target(args)
    if checks is not None:
        checks(args, parser)
    if args.engine == "dask":

        def plan(view: Any) -> tuple[list[str], _stream.Layout, _stream.RowFunction]:
            names, layout = output_layout(view, command, "row", prefix)
            return names, layout, row_function(args, view.path, view.selected)

        return _stream.run_dask(args, parser, path, columns, output, plan)
    _stream.local_only(args, parser)
    if output is not None:
        sio.file_format(output)  # an unknown extension fails before any work
    if args.axis == "column" and path == "-":
        parser.error(READS_TWICE)

    reader = _stream.open_input(args, path, columns)
    names, layout = output_layout(reader, command, args.axis, prefix)
    passes = 2 if args.axis == "column" and command != "logsumexp" else 1

    def body(writer: sio.Writer, progress: _stream.Progress) -> int:
        if args.axis == "row":
            fn = row_function(args, reader.path, reader.selected)
            return _stream.by_rows(reader, fn, layout, writer, progress)
        return by_columns(reader, command, args.temperature, layout, writer, progress)

    rows = _stream.write(args, reader, path, output, names, passes=passes, body=body)
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


def output_name(name: str, prefix: str | None) -> str:
    """The name of the output column computed from the selected column ``name``.

    ``prefix`` says what the column now holds (``p_``, ``logp_``, ``logit_``); a prefix of
    this kind already on ``name`` is replaced, any other name gets it in front. None keeps
    the name.

    Examples
    --------
    >>> output_name("logit_3", "p_"), output_name("p_3", "logit_"), output_name("a", "logp_")
    ('p_3', 'logit_3', 'logp_a')
    >>> output_name("p_", "logit_"), output_name("x", None)
    ('logit_p_', 'x')
    """
    if prefix is None:
        return name
    for quantity in _QUANTITIES:
        if name.startswith(quantity) and len(name) > len(quantity):
            return prefix + name[len(quantity) :]
    return prefix + name


def output_layout(
    reader: Any, command: str, axis: str, prefix: str | None = None
) -> tuple[list[str], _stream.Layout]:
    """Output column names and their sources, in input order; the selected columns renamed
    by :func:`output_name` with ``prefix``.

    Raises
    ------
    softmaxkit.io.InputError
        When two output columns would have one name (a renamed column and a column passed
        through, or two renamed columns).
    """
    if command == "logsumexp":
        if axis == "column":  # one record: the logsumexp of each selected column
            return list(reader.selected), [("value", k) for k in range(len(reader.selected))]
        if "logsumexp" in reader.passthrough:
            raise sio.InputError(reader.path, None, "logsumexp", LSE_CLASH)
        layout: _stream.Layout = [("pass", n) for n in reader.passthrough] + [("value", 0)]
        return [*reader.passthrough, "logsumexp"], layout
    position = {n: k for k, n in enumerate(reader.selected)}
    kept = set(reader.passthrough)
    sources = [n for n in reader.names if n in position or n in kept]
    names: list[str] = []
    seen: dict[str, str] = {}  # output name -> the input column it comes from
    for n in sources:
        out = output_name(n, prefix) if n in position else n
        if out in seen:
            a, b = seen[out], n
            source, other = (a, b) if a in position else (b, a)
            template = NAME_CLASH_SELECTED if other in position else NAME_CLASH
            message = template.format(name=out, source=source, other=other)
            raise sio.InputError(reader.path, None, source, message)
        seen[out] = n
        names.append(out)
    layout = [("value", position[n]) if n in position else ("pass", n) for n in sources]
    return names, layout


# --------------------------------------------------------------------------- --axis column


def by_columns(
    reader: sio.Reader,
    command: str,
    temperature: float,
    layout: _stream.Layout,
    writer: sio.Writer,
    progress: _stream.Progress,
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
    lse = logsumexp
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
        writer.write(_stream.columns(layout, result[None, :], {}), 0)
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
        writer.write(_stream.columns(layout, result, block.passthrough), block.start)
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
