"""Chunked readers and writers for CSV, Parquet and ``.npy`` files.

The command line streams files that may be larger than memory: a reader yields
:class:`Block` objects of at most ``chunk_rows`` records, and a writer appends them to a
temporary file that replaces the output only when everything succeeded.

Formats are chosen by file extension:

==================  ==========================================================
``.csv``            text, a header row unless ``header=False``; ``.csv.gz`` too
``.parquet``/``.pq``  needs pyarrow (``pip install softmaxkit[cli]``)
``.npy``            a 2-D numeric array, memory-mapped (``np.load(mmap_mode="r")``)
==================  ==========================================================

Records are rows; the *selected* columns (``columns=``, names, shell globs or positions)
become a 2-D float64 array, the other columns are *passed through* unchanged.

Cells are parsed with Python's :class:`float` syntax (``1e-3``, ``inf``, ``-inf``, ``nan``
are numbers). A *missing* value is an empty or blank CSV cell or a Parquet null; by default
it is a bad record (``na="error"``), because silently turning it into NaN would turn the whole
row's probabilities into NaN far from the cause. ``na="nan"`` reads it as NaN, ``na="mask"``
as ``-inf``, i.e. an excluded entry (probability 0).

A bad record raises :class:`BadRecordError` naming the file, the 1-based data row (the header
is not counted, blank lines are skipped and not counted) and the column.

When pyarrow is installed CSV is read and written through its C++ CSV engine (several times
faster); any record it rejects is re-read with the standard-library :mod:`csv` module, which
accepts everything :class:`float` accepts and reports the exact row and column.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io as _io
import itertools
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

__all__ = [
    "BadRecordError",
    "Block",
    "InputError",
    "MissingFileError",
    "Reader",
    "Writer",
    "default_chunk_rows",
    "example_path",
    "file_format",
    "load_example",
    "open_reader",
    "open_writer",
    "select_columns",
]

Format = Literal["csv", "parquet", "npy"]
NaPolicy = Literal["error", "nan", "mask"]

_NA_VALUE = {"nan": np.nan, "mask": -np.inf}
_PIP_HINT = "pip install softmaxkit[cli]"
# Bytes of CSV text pyarrow parses per batch: large enough to amortise per-batch overhead,
# small enough that a batch's parsed columns stay a few tens of MB.
_ARROW_BLOCK_BYTES = 1 << 20
# Target number of cells per block when chunk_rows is not given (8 MiB of float64).
_AUTO_CELLS = 1 << 20


class InputError(Exception):
    """A problem with a file the user gave: missing, unreadable, or a bad record.

    Parameters
    ----------
    file : str
        The file as the user named it.
    row : int or None
        1-based data row (header not counted), if the problem is in one record.
    column : str or None
        Column name, if the problem is in one column.
    message : str
        What is wrong.
    """

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        loc = []
        if self.row is not None:
            loc.append(f"row {self.row}")
        if self.column is not None:
            loc.append(f"column {self.column}")
        if loc:
            where.append(", ".join(loc))
        return ": ".join([*where, self.message])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.row, self.column, self.message))


class BadRecordError(InputError, ValueError):
    """A record that cannot be read: non-numeric or missing cell, wrong number of fields."""


class MissingFileError(InputError, FileNotFoundError):
    """The input file does not exist."""


def _require_pyarrow(what: str) -> Any:
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"{what} needs pyarrow: {_PIP_HINT}") from exc
    return pyarrow


def _have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without the extra
        return False
    return True


def file_format(path: str | os.PathLike[str]) -> Format:
    """Return ``"csv"``, ``"parquet"`` or ``"npy"`` from a file name's extension.

    Raises
    ------
    InputError
        If the extension is none of ``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``, ``.npy``.
    """
    name = os.fspath(path).lower()
    if name in ("-", "") or name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".npy"):
        return "npy"
    raise InputError(
        os.fspath(path),
        None,
        None,
        "unknown file type; use a .csv, .csv.gz, .parquet, .pq or .npy extension",
    )


def default_chunk_rows(n_columns: int) -> int:
    """Rows per block when none is given: about 2**20 cells, at most 65536 rows."""
    return int(max(1, min(65536, _AUTO_CELLS // max(1, n_columns))))


# --------------------------------------------------------------------------- columns

_INT = re.compile(r"^[+-]?\d+$")
_SLICE = re.compile(r"^([+-]?\d+)?:([+-]?\d+)?$")


def select_columns(
    names: Sequence[str], specs: Sequence[str] | None, *, file: str = ""
) -> list[int]:
    """Resolve column specifications to sorted, distinct column positions.

    Each spec (comma-separated lists are split) is tried, in order, as

    1. an exact column name;
    2. a shell glob (``fnmatch``, case-sensitive) if it contains ``*``, ``?`` or ``[``;
    3. a 0-based position ``3`` (negative counts from the end) or a half-open range
       ``2:5``, ``:5``, ``5:`` (the only way to select columns of a ``.npy`` file, whose
       columns are named ``"0"``, ``"1"``, ...).

    Parameters
    ----------
    names : sequence of str
        The file's column names, in order.
    specs : sequence of str or None
        The specifications; None or empty selects every column.
    file : str
        File name for error messages.

    Returns
    -------
    list of int
        Positions in file order.

    Raises
    ------
    InputError
        If a spec matches nothing or a position is out of range.

    Examples
    --------
    >>> select_columns(["id", "logit_0", "logit_1", "label"], ["logit_*"])
    [1, 2]
    >>> select_columns(["a", "b", "c"], ["c,0"])
    [0, 2]
    >>> select_columns(["0", "1", "2", "3"], ["1:3"])
    [1, 2]
    """
    n = len(names)
    if not specs:
        return list(range(n))
    index = {name: i for i, name in enumerate(names)}
    chosen: set[int] = set()
    tokens: list[str] = []
    for spec in specs:
        tokens.extend([spec] if spec in index else [t.strip() for t in spec.split(",")])
    for tok in tokens:
        if tok == "":
            continue
        if tok in index:
            chosen.add(index[tok])
        elif any(c in tok for c in "*?["):
            hits = [i for i, name in enumerate(names) if fnmatch.fnmatchcase(name, tok)]
            if not hits:
                raise InputError(
                    file, None, tok, f"no column matches; columns are {_preview(names)}"
                )
            chosen.update(hits)
        elif _INT.match(tok):
            i = int(tok)
            if not -n <= i < n:
                raise InputError(file, None, tok, f"position out of range for {n} columns")
            chosen.add(i % n)
        elif m := _SLICE.match(tok):
            start, stop = (int(g) if g is not None else None for g in m.groups())
            hits = list(range(*slice(start, stop).indices(n)))
            if not hits:
                raise InputError(file, None, tok, f"range selects no column of {n}")
            chosen.update(hits)
        else:
            raise InputError(file, None, tok, f"no such column; columns are {_preview(names)}")
    if not chosen:
        raise InputError(file, None, None, "no column selected")
    return sorted(chosen)


def _preview(names: Sequence[str], k: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f", ... ({len(names)} in all)" if len(names) > k else "")


# --------------------------------------------------------------------------- blocks


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
        raise BadRecordError(
            file, row, column, f"{what} (use --na nan or --na mask to accept missing values)"
        )
    return _NA_VALUE[na]


def _parse_cells(
    cells: Sequence[Any], *, file: str, column: str, start: int, na: str
) -> tuple[np.ndarray, BadRecordError | None]:
    """Parse one column of text cells (None = null); return values and the first error."""
    try:
        return np.array(cells, dtype=np.float64), None
    except (ValueError, TypeError):
        pass  # locate the offending cell below; this is the rare path
    out = np.empty(len(cells), dtype=np.float64)
    for i, s in enumerate(cells):
        try:
            out[i] = float(s)
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


# --------------------------------------------------------------------------- CSV


class _CsvReader(Reader):
    def __init__(
        self,
        path: str,
        *,
        columns: Sequence[str] | None,
        chunk_rows: int | None,
        header: bool,
        na: str,
        delimiter: str,
        passthrough: bool,
        engine: str,
    ) -> None:
        self._stdin = path == "-"
        self.path = "<stdin>" if self._stdin else path
        self._file = path
        self.header = header
        self._na = na
        self._delim = delimiter
        self._gz = path.lower().endswith(".gz")
        self.progress_unit = "bytes"
        self.repeatable = not self._stdin
        self._stdin_source: _CsvSource | None = None
        if not self._stdin:
            self.progress_total = os.path.getsize(path)

        source = self._open_source()
        first = source.take(1)
        # pyarrow skips the header as the first physical line: only safe if it is one
        simple_header = source.line_num == 1
        if self._stdin:
            self._stdin_source = source  # standard input cannot be reopened: keep reading it
        else:
            source.close()  # each pass reopens the file
        if not first:
            raise InputError(self.path, None, None, "empty file: no header row or data")
        if header:
            names = first[0]
        else:
            names = [str(i) for i in range(len(first[0]))]
            source.pushback = first
        self._sel = self._setup(names, columns, passthrough, chunk_rows)
        self._pt_idx = [names.index(n) for n in self.passthrough]

        if engine not in ("auto", "pyarrow", "python"):
            raise ValueError(f"engine must be 'auto', 'pyarrow' or 'python', got {engine!r}")
        if engine == "pyarrow":
            _require_pyarrow("engine='pyarrow'")
        self._arrow = (
            engine != "python"
            and not self._stdin
            and (simple_header or not header)
            and _have_pyarrow()
        )

    def _open_source(self) -> _CsvSource:
        if self._stdin:
            buf = getattr(sys.stdin, "buffer", None)
            text = (
                _io.TextIOWrapper(buf, encoding="utf-8-sig", newline="")
                if buf is not None
                else sys.stdin
            )
            return _CsvSource(self.path, None, text, self._delim, closing=())
        try:
            raw: BinaryIO = open(self._file, "rb")
        except FileNotFoundError:
            raise MissingFileError(self.path, None, None, "no such file") from None
        binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if self._gz else raw
        text = _io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        return _CsvSource(self.path, raw, text, self._delim, closing=(text, raw))

    def blocks(self) -> Iterator[Block]:
        if self._stdin and self._stdin_source is None:
            raise InputError(self.path, None, None, "standard input can be read only once")
        done = 0
        if self._arrow:
            fast = self._arrow_blocks()
            try:
                for block in fast:
                    if block is None:  # pyarrow rejected a batch: re-read from there exactly
                        break
                    done += block.rows
                    yield block
                else:
                    return
            finally:
                fast.close()
        yield from self._python_blocks(skip=done)

    def _python_blocks(self, skip: int) -> Iterator[Block]:
        if self._stdin:
            source, self._stdin_source = self._stdin_source, None
        else:
            source = self._open_source()
            source.skip(skip + (1 if self.header else 0))
        assert source is not None
        try:
            width = len(self.names)
            start = skip
            while True:
                chunk = source.take(self.chunk_rows)
                ragged: BadRecordError | None = None
                if chunk and set(map(len, chunk)) != {width}:
                    k = next(i for i, row in enumerate(chunk) if len(row) != width)
                    ragged = self._ragged(start + k + 1, len(chunk[k]))
                    del chunk[k:]
                if chunk:
                    # Bad cells before the ragged row are reported first.
                    yield self._convert(chunk, start, source.raw)
                if ragged is not None:
                    raise ragged
                if len(chunk) < self.chunk_rows:
                    return
                start += len(chunk)
        finally:
            source.close()

    def _ragged(self, row: int, got: int) -> BadRecordError:
        width = len(self.names)
        column = self.names[got] if got < width else f"(extra field {width + 1})"
        return BadRecordError(self.path, row, column, f"expected {width} fields, found {got}")

    def _convert(self, chunk: list[list[str]], start: int, raw: BinaryIO | None) -> Block:
        cols = list(zip(*chunk, strict=True))
        values = np.empty((len(chunk), len(self._sel)), dtype=np.float64)
        errors = []
        for k, j in enumerate(self._sel):
            values[:, k], err = _parse_cells(
                cols[j], file=self.path, column=self.names[j], start=start, na=self._na
            )
            errors.append(err)
        _first_error(errors)
        passthrough = {self.names[j]: list(cols[j]) for j in self._pt_idx}
        progress = raw.tell() if raw is not None and not raw.closed else 0
        return Block(start, values, passthrough, progress)

    def _arrow_blocks(self) -> Iterator[Block | None]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        types = {n: pa.float64() for n in self.selected}
        types.update({n: pa.string() for n in self.passthrough})
        raw = open(self._file, "rb")
        try:
            source: Any = pa.PythonFile(raw, mode="r")
            if self._gz:
                source = pa.CompressedInputStream(source, "gzip")
            try:
                reader = pcsv.open_csv(
                    source,
                    read_options=pcsv.ReadOptions(
                        column_names=self.names,
                        skip_rows=1 if self.header else 0,
                        block_size=_ARROW_BLOCK_BYTES,
                    ),
                    parse_options=pcsv.ParseOptions(delimiter=self._delim),
                    convert_options=pcsv.ConvertOptions(
                        column_types=types,
                        include_columns=self.selected + self.passthrough,
                        null_values=[""],
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=True,
                    ),
                )
            except (pa.ArrowInvalid, UnicodeDecodeError):
                yield None
                return
            start = 0
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowInvalid, UnicodeDecodeError):
                    yield None
                    return
                progress = raw.tell()
                for off in range(0, batch.num_rows, self.chunk_rows):
                    part = batch.slice(off, self.chunk_rows)
                    yield _arrow_block(
                        part, self.selected, self.passthrough, start, progress, self.path, self._na
                    )
                    start += part.num_rows
        finally:
            raw.close()


class _CsvSource:
    """Non-blank rows of a CSV text stream, read in runs by the csv module."""

    def __init__(
        self, file: str, raw: BinaryIO | None, text: Any, delimiter: str, closing: tuple[Any, ...]
    ) -> None:
        self.file = file
        self.raw = raw
        self._reader = csv.reader(text, delimiter=delimiter)
        self._rows = filter(None, self._reader)  # drops blank lines
        self._closing = closing
        self.pushback: list[list[str]] = []

    def take(self, n: int) -> list[list[str]]:
        """The next ``n`` rows (fewer at the end of the file)."""
        rows, self.pushback = self.pushback[:n], self.pushback[n:]
        try:
            rows.extend(itertools.islice(self._rows, n - len(rows)))
        except UnicodeDecodeError as exc:
            raise InputError(self.file, None, None, f"not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise BadRecordError(self.file, None, None, f"malformed CSV: {exc}") from None
        return rows

    @property
    def line_num(self) -> int:
        """Physical lines read so far."""
        return int(self._reader.line_num)

    def skip(self, n: int) -> None:
        """Discard the next ``n`` rows without keeping them."""
        while n > 0:
            k = min(n, 65536)
            got = len(self.take(k))
            if got < k:
                return
            n -= k

    def close(self) -> None:
        for f in self._closing:
            f.close()


def _arrow_block(
    batch: Any,
    selected: list[str],
    passthrough: list[str],
    start: int,
    progress: int,
    file: str,
    na: str,
) -> Block:
    """Convert a pyarrow RecordBatch slice to a Block (selected columns to float64)."""
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
                arr.to_pylist(), file=file, column=name, start=start, na=na
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


# --------------------------------------------------------------------------- Parquet


class _ParquetReader(Reader):
    def __init__(
        self,
        path: str,
        *,
        columns: Sequence[str] | None,
        chunk_rows: int | None,
        na: str,
        passthrough: bool,
    ) -> None:
        pa = _require_pyarrow("reading Parquet files")
        import pyarrow.parquet as pq

        self.path = path
        self._na = na
        try:
            # pre_buffer (pyarrow's default) reads ahead over the whole file: memory then grows
            # with the file (5 GB of RSS for a 5 GB file); buffered reads keep it bounded.
            self._pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 22)
        except FileNotFoundError:
            raise MissingFileError(path, None, None, "no such file") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(path, None, None, f"not a readable Parquet file ({exc})") from None
        self._setup(list(self._pf.schema_arrow.names), columns, passthrough, chunk_rows)
        self.num_rows = self.progress_total = self._pf.metadata.num_rows

    def blocks(self) -> Iterator[Block]:
        start = 0
        for batch in self._pf.iter_batches(
            batch_size=self.chunk_rows, columns=self.selected + self.passthrough
        ):
            if batch.num_rows == 0:
                continue
            yield _arrow_block(
                batch,
                self.selected,
                self.passthrough,
                start,
                start + batch.num_rows,
                self.path,
                self._na,
            )
            start += batch.num_rows


# --------------------------------------------------------------------------- .npy


class _NpyReader(Reader):
    def __init__(
        self,
        path: str,
        *,
        columns: Sequence[str] | None,
        chunk_rows: int | None,
        passthrough: bool,
    ) -> None:
        self.path = path
        self.header = False
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise MissingFileError(path, None, None, "no such file") from None
        except (ValueError, OSError) as exc:
            raise InputError(path, None, None, f"not a readable .npy array ({exc})") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(path, None, None, "not a .npy array (an .npz archive?)")
        if arr.ndim != 2:
            raise InputError(
                path,
                None,
                None,
                f"expected a 2-D array (records x columns), got shape {arr.shape}; "
                "save x.reshape(1, -1) for a single vector",
            )
        if arr.dtype.kind not in "biuf":
            raise InputError(path, None, None, f"dtype {arr.dtype} is not a real number type")
        self._arr = arr
        self._sel = self._setup(
            [str(i) for i in range(arr.shape[1])], columns, passthrough, chunk_rows
        )
        self._pt = [int(n) for n in self.passthrough]
        self.num_rows = self.progress_total = int(arr.shape[0])

    def blocks(self) -> Iterator[Block]:
        n = self._arr.shape[0]
        whole = len(self._sel) == self._arr.shape[1]
        for start in range(0, n, self.chunk_rows):
            part = self._arr[start : start + self.chunk_rows]  # a view of the map: no I/O yet
            values = np.array(part if whole else part[:, self._sel], dtype=np.float64)
            passthrough = {str(j): np.array(part[:, j]) for j in self._pt}
            yield Block(start, values, passthrough, start + part.shape[0])


# --------------------------------------------------------------------------- open_reader


def open_reader(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    chunk_rows: int | None = None,
    header: bool = True,
    na: NaPolicy = "error",
    delimiter: str = ",",
    passthrough: bool = True,
    engine: Literal["auto", "pyarrow", "python"] = "auto",
) -> Reader:
    """Open a CSV, Parquet or ``.npy`` file for block-wise reading.

    Parameters
    ----------
    path : str or path-like
        The input; the format follows the extension (:func:`file_format`). ``"-"`` reads
        CSV from standard input (once only).
    columns : sequence of str, optional
        Columns to read as numbers (:func:`select_columns`); default all.
    chunk_rows : int, optional
        Most records per block; default :func:`default_chunk_rows` of the column count.
    header : bool
        CSV only: whether the first row names the columns. Without a header the columns
        are named ``"0"``, ``"1"``, ... like a ``.npy`` file's.
    na : {"error", "nan", "mask"}
        What a missing value (empty CSV cell, Parquet null) becomes: a
        :class:`BadRecordError`, NaN, or ``-inf`` (an excluded entry).
    delimiter : str
        CSV field separator.
    passthrough : bool
        Whether to carry the non-selected columns in each block.
    engine : {"auto", "pyarrow", "python"}
        CSV parser: pyarrow when installed ("auto"), or the :mod:`csv` module.

    Returns
    -------
    Reader
        Iterable of :class:`Block`; iterate again for a second pass (not standard input).

    Raises
    ------
    MissingFileError
        If the file does not exist.
    InputError
        If the file cannot be read as its format or a column spec matches nothing.
    ImportError
        For Parquet without pyarrow (``pip install softmaxkit[cli]``).
    """
    name = os.fspath(path)
    if na not in ("error", "nan", "mask"):
        raise ValueError(f"na must be 'error', 'nan' or 'mask', got {na!r}")
    fmt = file_format(name)
    if name != "-" and not os.path.exists(name):
        raise MissingFileError(name, None, None, "no such file")
    if name != "-" and os.path.isdir(name):
        raise InputError(name, None, None, "is a directory, not a file")
    if fmt == "csv":
        if len(delimiter) != 1:
            raise ValueError(f"delimiter must be one character, got {delimiter!r}")
        return _CsvReader(
            name,
            columns=columns,
            chunk_rows=chunk_rows,
            header=header,
            na=na,
            delimiter=delimiter,
            passthrough=passthrough,
            engine=engine,
        )
    if fmt == "parquet":
        return _ParquetReader(
            name, columns=columns, chunk_rows=chunk_rows, na=na, passthrough=passthrough
        )
    return _NpyReader(name, columns=columns, chunk_rows=chunk_rows, passthrough=passthrough)


# --------------------------------------------------------------------------- writers


class Writer:
    """Append blocks of columns to a file, atomically; see :func:`open_writer`.

    Data go to a temporary file next to the target, which replaces the target
    (``os.replace``) in :meth:`close`; :meth:`abort` (or leaving a ``with`` block by an
    exception) deletes it and leaves any existing target untouched.
    """

    def __init__(self, path: str | None, names: Sequence[str], stream: Any = None) -> None:
        self.path = path
        self.names = list(names)
        self.rows = 0
        self._tmp: str | None = None
        self._done = False
        if path is None:
            target = stream if stream is not None else sys.stdout
            buf = getattr(target, "buffer", None)
            if buf is not None:
                target.flush()
                self._file: Any = buf
            else:
                self._file = _TextSink(target)
        else:
            directory = os.path.dirname(os.path.abspath(path))
            fd, self._tmp = tempfile.mkstemp(
                dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
            )
            self._file = os.fdopen(fd, "wb")

    def write(self, columns: Sequence[Any], start: int = 0) -> None:
        """Append one block: ``columns[i]`` is the 1-D column for ``names[i]``."""
        if len(columns) != len(self.names):
            raise ValueError(f"expected {len(self.names)} columns, got {len(columns)}")
        n = len(columns[0]) if columns else 0
        if n:
            self._write(columns, start)
            self.rows += n

    def _write(self, columns: Sequence[Any], start: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _finish(self) -> None:
        """Write trailers; the file is still open."""

    def _discard(self) -> None:
        """Let go of format-level writers on failure, before the file is closed."""

    def close(self) -> None:
        """Finish the file and move it over the target."""
        if self._done:
            return
        try:
            self._finish()
            if self._tmp is None:
                self._file.flush()
                return
            self._file.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)  # mkstemp makes 0600; give a normal file's mode
            os.replace(self._tmp, self.path)  # type: ignore[arg-type]
            self._tmp = None
        except BaseException:
            self.abort()
            raise
        finally:
            self._done = True

    def abort(self) -> None:
        """Discard everything written; remove the temporary file."""
        self._done = True
        if self._tmp is None:
            return
        try:
            self._discard()
        except Exception:
            pass
        try:
            self._file.close()
        except Exception:
            pass
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass
        self._tmp = None

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _TextSink:
    """Bytes-to-text adapter for a text stream without a ``buffer`` (e.g. StringIO)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: bytes) -> None:
        self._stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class _CsvWriter(Writer):
    def __init__(
        self,
        path: str | None,
        names: Sequence[str],
        *,
        header: bool,
        delimiter: str,
        stream: Any = None,
    ) -> None:
        super().__init__(path, names, stream)
        self._delim = delimiter
        self._out = self._file
        if path is not None and path.lower().endswith(".gz"):
            self._out = gzip.GzipFile(fileobj=self._file, mode="wb", mtime=0)
        self._arrow = _have_pyarrow()
        if header:
            text = _io.StringIO()
            csv.writer(text, delimiter=delimiter, lineterminator="\n").writerow(self.names)
            self._out.write(text.getvalue().encode("utf-8"))

    def _write(self, columns: Sequence[Any], start: int) -> None:
        if self._arrow:
            self._out.write(_arrow_csv_bytes(columns, self._delim))
            return
        text = _io.StringIO()
        cells = [_py_strings(c) for c in columns]
        csv.writer(text, delimiter=self._delim, lineterminator="\n").writerows(
            zip(*cells, strict=True)
        )
        self._out.write(text.getvalue().encode("utf-8"))

    def _finish(self) -> None:
        if self._out is not self._file:
            self._out.close()

    def _discard(self) -> None:
        if self._out is not self._file:
            self._out.fileobj = None  # a detached GzipFile is closed and writes no trailer
            self._out = self._file


def _py_strings(col: Any) -> list[str]:
    if isinstance(col, np.ndarray):
        # repr of a Python float is the shortest string that reads back to the same double
        return (
            list(map(repr, col.tolist())) if col.dtype.kind == "f" else list(map(str, col.tolist()))
        )
    return ["" if v is None else str(v) for v in col]


def _arrow_csv_bytes(columns: Sequence[Any], delimiter: str) -> bytes:
    """CSV text of a block, built by pyarrow kernels (no Python loop over cells)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = []
    special = re.escape(delimiter) + '|"|\\r|\\n'
    for col in columns:
        arr = col if isinstance(col, pa.Array | pa.ChunkedArray) else pa.array(col)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.string())  # floats: shortest round-trip representation
        else:
            quote = pc.match_substring_regex(arr, special)
            if pc.any(quote).as_py():
                quoted = pc.binary_join_element_wise(
                    '"', pc.replace_substring(arr, '"', '""'), '"', ""
                )
                arr = pc.if_else(quote, quoted, arr)
        texts.append(pc.fill_null(arr, ""))
    lines = pc.binary_join_element_wise(*texts, delimiter)
    lines = pc.binary_join_element_wise(lines, "", "\n")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    _, offsets, data = lines.buffers()
    width = 8 if pa.types.is_large_string(lines.type) else 4
    off = np.frombuffer(offsets, dtype=np.int64 if width == 8 else np.int32)
    lo, hi = int(off[lines.offset]), int(off[lines.offset + len(lines)])
    return memoryview(data)[lo:hi].tobytes() if hi > lo else b""


def dictionary_columns(schema: Any) -> list[str]:
    """The columns worth dictionary-encoding in Parquet: all but the floating-point ones.

    Probabilities and logits almost never repeat, so a dictionary only costs time (pyarrow
    builds one per page before falling back to plain encoding: about 6 times slower writes).
    """
    import pyarrow as pa

    return [f.name for f in schema if not pa.types.is_floating(f.type)]


class _ParquetWriter(Writer):
    def __init__(self, path: str, names: Sequence[str]) -> None:
        _require_pyarrow("writing Parquet files")
        super().__init__(path, names)
        self._pq: Any = None
        self._schema: Any = None

    def _table(self, columns: Sequence[Any]) -> Any:
        import pyarrow as pa

        arrays = [c if isinstance(c, pa.Array | pa.ChunkedArray) else pa.array(c) for c in columns]
        table = pa.Table.from_arrays(arrays, names=self.names)
        if self._schema is not None and table.schema != self._schema:
            table = table.cast(self._schema)
        return table

    def _write(self, columns: Sequence[Any], start: int) -> None:
        import pyarrow.parquet as pq

        table = self._table(columns)
        if self._pq is None:
            self._schema = table.schema
            self._pq = pq.ParquetWriter(
                self._file, self._schema, use_dictionary=dictionary_columns(self._schema)
            )
        self._pq.write_table(table)

    def _finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._pq is None:  # no rows: still a valid file with the column names
            schema = pa.schema([(n, pa.float64()) for n in self.names])
            self._pq = pq.ParquetWriter(self._file, schema)
        self._pq.close()

    def _discard(self) -> None:
        if self._pq is not None:
            writer, self._pq = self._pq, None
            writer.close()  # while the file is open, so that it does not fail later in __del__


class _NpyWriter(Writer):
    """A 2-D float64 ``.npy`` written row block by row block.

    The header (which holds the shape) is reserved up front and rewritten at the end, so the
    data never have to be held in memory or copied.
    """

    _HEADER = 128

    def __init__(self, path: str, names: Sequence[str]) -> None:
        super().__init__(path, names)
        self._file.write(self._header(0))

    def _header(self, rows: int) -> bytes:
        text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {len(self.names)}), }}"
        body = text.ljust(self._HEADER - 10 - 1) + "\n"
        return b"\x93NUMPY\x01\x00" + (len(body)).to_bytes(2, "little") + body.encode("latin1")

    def _write(self, columns: Sequence[Any], start: int) -> None:
        block = np.empty((len(columns[0]), len(columns)), dtype="<f8")
        for k, col in enumerate(columns):
            block[:, k] = self._numeric(col, self.names[k], start)
        self._file.write(block.tobytes())

    def _numeric(self, col: Any, name: str, start: int) -> np.ndarray:
        if isinstance(col, np.ndarray) and col.dtype.kind in "biuf":
            return col
        if not isinstance(col, list | np.ndarray):
            import pyarrow as pa
            import pyarrow.compute as pc

            t = col.type
            if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
                return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
            col = col.to_pylist()
        values, err = _parse_cells(
            list(col), file=str(self.path), column=name, start=start, na="nan"
        )
        if err is not None:
            raise BadRecordError(
                str(self.path),
                err.row,
                name,
                f"{err.message}: a .npy file holds numbers only "
                "(drop the column with --no-passthrough or write CSV/Parquet)",
            )
        return values

    def _finish(self) -> None:
        self._file.seek(0)
        self._file.write(self._header(self.rows))


def open_writer(
    path: str | os.PathLike[str] | None,
    names: Sequence[str],
    *,
    header: bool = True,
    delimiter: str = ",",
    stream: Any = None,
) -> Writer:
    """Open an output for block-wise, atomic writing; the format follows the extension.

    Parameters
    ----------
    path : str, path-like or None
        Output file; None or ``"-"`` writes CSV to ``stream`` (default standard output),
        which is not atomic.
    names : sequence of str
        Column names (CSV header, Parquet schema; a ``.npy`` file has no names).
    header : bool
        CSV only: whether to write the header row.
    delimiter : str
        CSV field separator.
    stream : file-like, optional
        Where CSV goes when ``path`` is None.

    Returns
    -------
    Writer
        Use as a context manager: the target appears only if the block exits normally.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> with open_writer(out, ["a", "b"]) as w:
    ...     w.write([np.array([0.25]), np.array([0.75])])
    >>> out.read_text()
    'a,b\\n0.25,0.75\\n'
    """
    if path is None or os.fspath(path) == "-":
        return _CsvWriter(None, names, header=header, delimiter=delimiter, stream=stream)
    name = os.fspath(path)
    fmt = file_format(name)
    if fmt == "csv":
        return _CsvWriter(name, names, header=header, delimiter=delimiter)
    if fmt == "parquet":
        return _ParquetWriter(name, names)
    return _NpyWriter(name, names)


# --------------------------------------------------------------------------- example data


def example_path(name: str = "digits_logits.csv") -> Path:
    """Path of an example data file shipped with softmaxkit.

    ``digits_logits.csv``: held-out logits (``logit_0`` ... ``logit_9``) and true ``label``
    of an over-confident neural network on the UCI handwritten digits (899 rows); see
    ``softmaxkit/data/README.md`` for its provenance.

    Examples
    --------
    >>> example_path().name
    'digits_logits.csv'
    """
    res = files("softmaxkit").joinpath("data").joinpath(name)
    path = Path(str(res))
    if not path.is_file():
        shipped = sorted(
            p.name for p in files("softmaxkit").joinpath("data").iterdir() if p.name[0] != "."
        )
        raise FileNotFoundError(f"no example data file {name!r}; shipped: {shipped}")
    return path


def load_example(name: str = "digits_logits.csv") -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped digits logits as ``(logits (899, 10) float64, labels (899,) int64)``.

    Examples
    --------
    >>> logits, labels = load_example()
    >>> logits.shape, labels.shape, int(labels.max())
    ((899, 10), (899,), 9)
    """
    data = np.loadtxt(example_path(name), delimiter=",", skiprows=1)
    return np.ascontiguousarray(data[:, :-1]), data[:, -1].astype(np.int64)
