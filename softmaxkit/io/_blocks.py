"""What every reader yields and shares: :class:`Block`, the :class:`Reader` base, and the
conversion of text cells and Arrow columns to float64 with exact locations for bad records."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from softmaxkit.io._columns import select_columns
from softmaxkit.io._errors import BadRecordError, InputError
from softmaxkit.io._formats import default_chunk_rows

__all__ = ["Block", "Reader"]

_NA_VALUE = {"nan": np.nan, "mask": -np.inf}


@dataclass(frozen=True)
class Block:
    """A run of consecutive records.

    Attributes
    ----------
    start : int
        0-based position of the block's first record among the data rows.
    values : numpy.ndarray
        ``(rows, n_selected)`` float64 array of the selected columns, in file order.
    passthrough : dict
        The other columns by name, each a 1-D column of the block's rows: a NumPy array
        (``.npy``), a pyarrow array (Parquet, CSV read by pyarrow) or a list of str
        (CSV read by the :mod:`csv` module). Values are kept as they were in the file.
    progress : int
        How far through the input the reader is after this block, in
        :attr:`Reader.progress_unit` (for a progress bar).
    """

    start: int
    values: np.ndarray
    passthrough: dict[str, Any] = field(default_factory=dict)
    progress: int = 0

    @property
    def rows(self) -> int:
        """Number of records in the block."""
        return int(self.values.shape[0])


class Reader:
    """Iterate over a file in blocks; see :func:`open_reader`.

    Attributes
    ----------
    path : str
        The file as named by the user (``"<stdin>"`` for standard input).
    names : list of str
        Every column, in file order.
    selected : list of str
        Names of the columns read into :attr:`Block.values`.
    passthrough : list of str
        Names of the columns carried in :attr:`Block.passthrough`.
    header : bool
        Whether the file names its columns (CSV with a header, Parquet).
    chunk_rows : int
        Upper bound on a block's rows.
    num_rows : int or None
        Number of records when known without reading the file (Parquet, ``.npy``).
    progress_total, progress_unit : int or None, str
        Total for a progress bar, in ``"rows"`` or ``"bytes"``.
    repeatable : bool
        Whether the file can be iterated more than once (not standard input).
    """

    path: str
    names: list[str]
    selected: list[str]
    passthrough: list[str]
    header: bool = True
    chunk_rows: int
    num_rows: int | None = None
    progress_total: int | None = None
    progress_unit: str = "rows"
    repeatable: bool = True

    def _setup(
        self,
        names: list[str],
        columns: Sequence[str] | None,
        passthrough: bool,
        chunk_rows: int | None,
    ) -> list[int]:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise InputError(self.path, None, name, "column name appears twice in the header")
            seen.add(name)
        sel = select_columns(names, columns, file=self.path)
        self.names = list(names)
        self.selected = [names[i] for i in sel]
        chosen = set(sel)
        self.passthrough = (
            [n for i, n in enumerate(names) if i not in chosen] if passthrough else []
        )
        if chunk_rows is None:
            chunk_rows = default_chunk_rows(len(names))
        if not isinstance(chunk_rows, int | np.integer) or chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
        self.chunk_rows = int(chunk_rows)
        return sel

    def __iter__(self) -> Iterator[Block]:
        return self.blocks()

    def blocks(self) -> Iterator[Block]:  # pragma: no cover - abstract
        """Yield the file's records as :class:`Block` objects of at most ``chunk_rows`` rows."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.path!r}, selected={len(self.selected)}, "
            f"passthrough={len(self.passthrough)}, chunk_rows={self.chunk_rows})"
        )


def _na_fill(na: str, file: str, row: int, column: str, what: str) -> float:
    if na == "error":
        # No advice here: which option accepts missing values is the command's to say.
        raise BadRecordError(file, row, column, what, reason="missing")
    return _NA_VALUE[na]


# The texts that mean an infinity (after stripping blanks and one sign), as float() reads them.
_INF_WORDS = frozenset({"inf", "infinity"})


def _is_inf_word(text: Any) -> bool:
    """Whether ``text`` spells an infinity (``inf``, ``-Infinity``, ...), not a huge number."""
    word = str(text).strip().lower()
    return word.lstrip("+-") in _INF_WORDS and len(word) - len(word.lstrip("+-")) <= 1


def _overflow_error(file: str, row: int, column: str, text: Any) -> BadRecordError:
    return BadRecordError(
        file,
        row,
        column,
        f"{str(text).strip()!r} is too large for a float64, whose largest value is 1.8e308",
        reason="overflow",
    )


def _check_overflow(
    values: np.ndarray, texts: Sequence[Any], *, file: str, column: str, start: int
) -> BadRecordError | None:
    """The first cell read as +-inf whose text is a finite number too large for a float
    ('1e999'), or None. ``texts[i]`` is the text of ``values[i]``; only the infinite
    values are looked at, so a column without infinities costs one pass of isinf."""
    for i in np.flatnonzero(np.isinf(values)):
        if not _is_inf_word(texts[i]):
            return _overflow_error(file, start + int(i) + 1, column, texts[i])
    return None


def _parse_cells(
    cells: Sequence[Any],
    *,
    file: str,
    column: str,
    start: int,
    na: str,
    overflow: str = "error",
) -> tuple[np.ndarray, BadRecordError | None]:
    """Parse one column of text cells (None = null); return values and the first error.

    ``overflow="error"``: a finite number beyond the float64 range ('1e999', which float()
    reads as inf) is an error; ``"inf"``: it is read as +-inf.
    """
    try:
        out = np.array(cells, dtype=np.float64)
    except (ValueError, TypeError):
        pass  # locate the offending cell below; this is the rare path
    else:
        if overflow == "error":
            return out, _check_overflow(out, cells, file=file, column=column, start=start)
        return out, None
    out = np.empty(len(cells), dtype=np.float64)
    for i, s in enumerate(cells):
        try:
            out[i] = float(s)
            if overflow == "error" and math.isinf(out[i]) and not _is_inf_word(s):
                return out, _overflow_error(file, start + i + 1, column, s)
            continue
        except (ValueError, TypeError):
            pass
        try:
            if s is None or s.strip() == "":
                out[i] = _na_fill(na, file, start + i + 1, column, "missing value")
            else:
                raise BadRecordError(file, start + i + 1, column, f"{s!r} is not a number")
        except BadRecordError as err:
            return out, err
    return out, None


def _first_error(errors: Sequence[BadRecordError | None]) -> None:
    """Raise the error of the earliest row (then leftmost column) among per-column errors."""
    found = [(e.row or 0, k, e) for k, e in enumerate(errors) if e is not None]
    if found:
        raise min(found, key=lambda t: (t[0], t[1]))[2]


def _arrow_block(
    batch: Any,
    selected: list[str],
    passthrough: list[str],
    start: int,
    progress: int,
    file: str,
    na: str,
    overflow: str = "error",
) -> Block:
    """Convert a pyarrow RecordBatch slice to a Block (selected columns to float64).

    Text columns are parsed (``overflow`` as in :func:`_parse_cells`); float columns are
    taken as they are (a binary double cannot overflow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.empty((batch.num_rows, len(selected)), dtype=np.float64)
    errors: list[BadRecordError | None] = []
    for k, name in enumerate(selected):
        arr = batch.column(name)
        err = None
        t = arr.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            values[:, k], err = _parse_cells(
                arr.to_pylist(), file=file, column=name, start=start, na=na, overflow=overflow
            )
        elif (
            pa.types.is_floating(t)
            or pa.types.is_integer(t)
            or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)
        ):
            if not pa.types.is_float64(t):
                arr = pc.cast(arr, pa.float64())
            col = arr.to_numpy(zero_copy_only=False)
            if arr.null_count:
                nulls = np.flatnonzero(np.asarray(arr.is_null()))
                try:
                    fill = _na_fill(na, file, start + int(nulls[0]) + 1, name, "missing value")
                    col = col.copy()
                    col[nulls] = fill
                except BadRecordError as e:
                    err = e
            values[:, k] = col
        else:
            err = BadRecordError(file, start + 1, name, f"column of type {t} is not numeric")
        errors.append(err)
    _first_error(errors)
    return Block(start, values, {n: batch.column(n) for n in passthrough}, progress)
