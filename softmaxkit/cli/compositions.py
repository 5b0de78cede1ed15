"""Command-line log-ratio transforms of compositional data: ``clr``, ``alr``, ``ilr``.

::

    softmaxkit clr INPUT [-o OUTPUT] [--columns C ...] [--replace-zeros] [--delta D]
    softmaxkit alr INPUT [--reference K|NAME] ...
    softmaxkit ilr INPUT [--basis FILE] ...

Each record (row) of the selected columns is one composition (parts >= 0, any total). The
input/output rules are those of the map commands: CSV/Parquet/.npy by extension, streamed in
blocks of ``--chunk-rows`` records, unselected columns passed through, atomic output, exit
status 2 with file, row and column for a bad record.

Output columns: ``clr`` keeps the selected columns' names; ``alr`` drops the reference column
and keeps the other names (each holds ``log(part / reference)``); ``ilr`` writes the ``D − 1``
coordinates ``ilr_1 … ilr_{D−1}`` where the first selected column was.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np

from softmaxkit import compositions as comp
from softmaxkit import io as sio
from softmaxkit._base.errors import InvalidCompositionError
from softmaxkit.cli import _stream
from softmaxkit.cli._args import Text, add_command, number

__all__ = ["NAMES", "TEXTS", "add_parsers", "run"]

NAMES = ("clr", "alr", "ilr")

_DESCRIPTION = """

Each record of the selected columns is one composition: parts >= 0 (counts, amounts,
proportions; any total). A NaN, infinite or negative part is an error naming the row and
column. Zeros: clr writes -inf for a zero part (the others are centred over the positive
parts); alr writes -inf, and fails at a zero in the reference column; ilr fails at any zero.
--replace-zeros first replaces zeros multiplicatively (each zero becomes --delta, default
1/D^2 for D parts; the other parts shrink so the record sums to 1 and their ratios are kept).
--na mask reads a missing cell as an absent part (0)."""

# The advice these commands give in their errors.
ABSENT = "missing (an absent part, read as 0 by --na mask)"
SMALLER_DELTA = "a smaller --delta"
ZERO = (
    "part is {zero}: ilr coordinates do not exist with a zero part; use "
    "--replace-zeros (multiplicative replacement, --delta D), or clr, which writes -inf"
)
ZERO_REFERENCE = (
    "part is {zero} in the reference column: log-ratios against it do not exist; "
    "choose another --reference, or use --replace-zeros"
)
NOT_A_REFERENCE = (
    "--reference is neither a selected column nor an integer; selected: {shown}"
)
REFERENCE_RANGE = (
    "--reference {r} is out of range for {k} selected columns; expected an integer "
    "in [{lo}, {hi}] or a column name"
)
ILR_CLASH = (
    "an output column of ilr would have this name too; select it, rename it, "
    "or use --no-passthrough"
)
_HINTS = (*_stream.HINTS, ABSENT, SMALLER_DELTA)

_NOTES = _stream.NOTES

TEXTS = {
    "clr": Text(
        "centred log-ratio log(x_i / g(x)) of each record of parts (zero part: -inf)",
        _DESCRIPTION,
        examples=(
            "softmaxkit clr counts.csv --columns 'taxon_*' -o clr.csv",
            "softmaxkit clr counts.parquet --columns 'taxon_*' --replace-zeros -o clr.parquet",
        ),
        notes=_NOTES,
        hints=_HINTS,
    ),
    "alr": Text(
        "additive log-ratio log(x_k / x_ref) of each record against a reference column",
        _DESCRIPTION,
        examples=(
            "softmaxkit alr shares.csv --columns a b c d --reference d -o alr.csv",
            "softmaxkit alr counts.csv --columns 'taxon_*' --reference -1 --replace-zeros",
        ),
        notes=_NOTES,
        hints=(*_HINTS, ZERO_REFERENCE, NOT_A_REFERENCE, REFERENCE_RANGE),
    ),
    "ilr": Text(
        "isometric log-ratio (Helmert basis, or --basis) of each record of parts",
        _DESCRIPTION,
        examples=(
            "softmaxkit ilr shares.csv --columns a b c d --replace-zeros --delta 1e-4 -o ilr.csv",
            "softmaxkit ilr shares.csv --columns a b c d --basis balances.npy",
        ),
        notes=_NOTES,
        hints=(*_HINTS, ZERO, ILR_CLASH),
    ),
}


def add_parsers(sub: Any) -> None:
    """Add ``clr``, ``alr`` and ``ilr``: the streaming file options (no temperature, no
    column-wise maps, no example: they have no meaning for a composition), plus their own."""
    for name in NAMES:
        p = add_command(sub, name, TEXTS[name])
        _stream.add_files(p)
        _stream.add_reading(
            p,
            na_help="missing values (empty CSV cell, Parquet null): an error (default), NaN "
            "(an error too: parts must be finite), or 'mask' = an absent part (0)",
        )
        _stream.add_running(p)
        p.add_argument(
            "--replace-zeros",
            action="store_true",
            help="replace zero parts first (multiplicative replacement, see --delta)",
        )
        p.add_argument(
            "--delta",
            type=number(float, (lambda d: 0.0 < d < 1.0, "must be a number in (0, 1)")),
            default=None,
            metavar="D",
            help="the proportion given to each zero part by --replace-zeros (implies it); "
            "default 1/D^2 for D parts",
        )
        if name == "alr":
            p.add_argument(
                "--reference",
                default="0",
                metavar="K",
                help="the reference (denominator) part: a selected column's name, or its "
                "position among the selected columns (negative counts from the end; default 0)",
            )
        if name == "ilr":
            p.add_argument(
                "--basis",
                metavar="FILE",
                default=None,
                help="a (D-1) x D orthonormal basis in clr coordinates, one row per "
                "coordinate (.npy, or CSV without header); default the Helmert basis",
            )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``clr``, ``alr`` or ``ilr``; returns the exit status."""
    command: str = args.command
    path, columns = _stream.source(args, parser, None)
    output = _stream.target(args)
    replace = args.replace_zeros or args.delta is not None
    if args.engine == "dask":
        return _stream.run_dask(args, parser, path, columns, output, _plan(args))
    _stream.local_only(args, parser)
    if output is not None:
        sio.file_format(output)  # an unknown extension fails before any work
    reader = _stream.open_input(args, path, columns)
    names, layout, fn = _plan(args)(reader)
    k = len(reader.selected)
    rows = _stream.write(
        args,
        reader,
        path,
        output,
        names,
        passes=1,
        body=lambda writer, progress: _stream.by_rows(reader, fn, layout, writer, progress),
    )
    if output is not None and not args.quiet:
        note = " (zeros replaced)" if replace else ""
        print(
            f"softmaxkit {command}: {rows} row{'s' * (rows != 1)} x {k} part"
            f"{'s' * (k != 1)}{note} -> {output}",
            file=sys.stderr,
        )
    return 0


def _plan(args: argparse.Namespace) -> Any:
    """What the command does to a dataset whose columns are known: ``view -> (output names,
    layout, row function)``, the same for the local stream and ``--engine dask``."""
    command: str = args.command
    replace = args.replace_zeros or args.delta is not None
    mask = args.na == "mask"

    def plan(view: Any) -> tuple[list[str], Any, Any]:
        k = len(view.selected)
        if command != "clr" and k < 2:
            raise sio.InputError(
                view.path,
                None,
                None,
                f"{command} needs at least 2 parts (selected columns), got {k}",
            )
        ref = _reference(view, args.reference) if command == "alr" else None
        basis = _load_basis(args.basis, k) if command == "ilr" and args.basis else None
        names, layout = _layout(view, command, ref)

        def fn(values: np.ndarray) -> np.ndarray:
            missing = None
            if mask:
                missing = values == -math.inf
                values = np.where(missing, 0.0, values)
            try:
                if replace:
                    values = comp.replace_zeros(values, delta=args.delta)
                if command == "clr":
                    return comp.clr(values)
                if command == "alr":
                    return comp.alr(values, reference=ref)
                return comp.ilr(values, basis=basis)
            except InvalidCompositionError as exc:
                raise _located(view, exc, missing) from None

        return names, layout, fn

    return plan


def _reference(reader: sio.Reader, text: str) -> int:
    """``--reference``: a selected column's name, else a position among the selected columns."""
    k = len(reader.selected)
    if text in reader.selected:
        return reader.selected.index(text)
    try:
        r = int(text)
    except ValueError:
        shown = ", ".join(repr(n) for n in reader.selected[:8])
        raise sio.InputError(
            reader.path, None, text, NOT_A_REFERENCE.format(shown=shown)
        ) from None
    if not -k <= r < k:
        message = REFERENCE_RANGE.format(r=r, k=k, lo=-k, hi=k - 1)
        raise sio.InputError(reader.path, None, None, message)
    return r % k


def _load_basis(path: str, k: int) -> np.ndarray:
    """``--basis FILE``: a ``.npy`` array or a header-less CSV of numbers."""
    try:
        if sio.file_format(path) == "npy":
            basis = np.load(path, allow_pickle=False)
        else:
            basis = np.loadtxt(path, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise sio.MissingFileError(path, None, None, "no such file") from None
    except ValueError as exc:
        raise sio.InputError(path, None, None, f"not a numeric matrix: {exc}") from None
    basis = np.asarray(basis, dtype=np.float64)
    if basis.shape != (k - 1, k):
        raise sio.InputError(
            path,
            None,
            None,
            f"the basis has shape {basis.shape}; {k} selected parts need ({k - 1}, {k}): "
            "one row per ilr coordinate, one column per part",
        )
    try:
        comp.check_ilr_basis("ilr", basis, k, np, basis)
    except ValueError as exc:
        raise sio.InputError(path, None, None, str(exc).removeprefix("ilr: ")) from None
    return basis


def _layout(
    reader: sio.Reader, command: str, ref: int | None
) -> tuple[list[str], _stream.Layout]:
    """Output column names and sources (("value", k) or ("pass", name)), in input order."""
    position = {n: j for j, n in enumerate(reader.selected)}
    kept = set(reader.passthrough)
    names: list[str] = []
    layout: _stream.Layout = []
    placed = False
    for name in reader.names:
        if name in kept:
            names.append(name)
            layout.append(("pass", name))
        elif name in position:
            j = position[name]
            if command == "clr":
                names.append(name)
                layout.append(("value", j))
            elif command == "alr" and j != ref:
                names.append(name)
                layout.append(("value", j - (ref is not None and j > ref)))
            elif command == "ilr" and not placed:
                placed = True
                for c in range(len(reader.selected) - 1):
                    names.append(f"ilr_{c + 1}")
                    layout.append(("value", c))
    if command == "ilr":
        clash = sorted({f"ilr_{c + 1}" for c in range(len(reader.selected) - 1)} & kept)
        if clash:
            raise sio.InputError(reader.path, None, clash[0], ILR_CLASH)
    return names, layout


def _located(reader: Any, exc: Any, missing: np.ndarray | None) -> sio.InputError:
    """The library's error, located in its block of records (1-based row, column name), with
    the command line's advice."""
    row = exc.index[0] + 1
    column = reader.selected[exc.index[1]] if exc.kind in ("entry", "zero", "reference") else None
    was_missing = (
        missing is not None and column is not None and bool(missing[exc.index[0], exc.index[1]])
    )
    zero = ABSENT if was_missing else "0"
    if exc.kind == "entry":
        reason = exc.reason.split(";")[0] + "; the parts of a composition must be finite and >= 0"
    elif exc.kind == "zero":
        reason = ZERO.format(zero=zero)
    elif exc.kind == "reference":
        reason = ZERO_REFERENCE.format(zero=zero)
    elif exc.kind == "delta":
        reason = exc.reason.replace("a smaller delta", SMALLER_DELTA)
    else:
        reason = exc.reason
    return sio.InputError(reader.path, row, column, reason)
