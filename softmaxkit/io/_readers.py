"""The Parquet and ``.npy`` readers, and :func:`open_reader`, which picks a reader by extension."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

from softmaxkit.io._blocks import Block, Reader, _arrow_block
from softmaxkit.io._csv import _CsvReader
from softmaxkit.io._errors import InputError, MissingFileError
from softmaxkit.io._formats import NaPolicy, _require_pyarrow, file_format

__all__ = ["open_reader"]


class _ParquetReader(Reader):
    def __init__(
        self,
        path: str,
        *,
        columns: Sequence[str] | None,
        chunk_rows: int | None,
        na: str,
        passthrough: bool,
        overflow: str = "error",
    ) -> None:
        pa = _require_pyarrow("reading Parquet files")
        import pyarrow.parquet as pq

        self.path = path
        self._na = na
        self._overflow = overflow
        try:
            # pre_buffer (pyarrow's default) reads ahead over the whole file: memory then grows
            # with the file (5 GB of RSS for a 5 GB file); buffered reads keep it bounded.
            self._pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 22)
        except FileNotFoundError:
            raise MissingFileError(path, None, None, "no such file") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                path, None, None, f"not a readable Parquet file ({exc})", reason="read"
            ) from None
        self._setup(list(self._pf.schema_arrow.names), columns, passthrough, chunk_rows)
        self.num_rows = self.progress_total = self._pf.metadata.num_rows

    def blocks(self) -> Iterator[Block]:
        import pyarrow as pa

        start = 0
        batches = self._pf.iter_batches(
            batch_size=self.chunk_rows, columns=self.selected + self.passthrough
        )
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:  # a damaged page, an I/O error
                raise InputError(
                    self.path, None, None, f"cannot read the Parquet data ({exc})", reason="read"
                ) from None
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
                self._overflow,
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
        except (ValueError, OSError, EOFError) as exc:  # EOFError: a file cut short
            raise InputError(
                path, None, None, f"not a readable .npy array ({exc})", reason="read"
            ) from None
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
            try:
                values = np.array(part if whole else part[:, self._sel], dtype=np.float64)
            except OSError as exc:  # an I/O error paging the map in
                raise InputError(
                    self.path, None, None, f"cannot read ({exc})", reason="read"
                ) from None
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
    overflow: Literal["error", "inf"] = "error",
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
    overflow : {"error", "inf"}
        What a number written in text beyond the float64 range (``1e999``; above about
        1.8e308 in magnitude) becomes: a :class:`BadRecordError` naming the row, the column
        and the text (default; reason ``"overflow"``), or ``+-inf`` as :class:`float` reads
        it. ``inf``/``-inf`` written as such are infinities either way; a number too small
        for a float (``1e-999``) rounds to 0 as always; binary floats (Parquet doubles,
        ``.npy``) cannot overflow.

    Returns
    -------
    Reader
        Iterable of :class:`Block`; iterate again for a second pass (not standard input).

    Raises
    ------
    MissingFileError
        If the file does not exist.
    InputError
        If the file cannot be read as its format, is a directory, or a column spec matches
        nothing. A file that cannot be read or decompressed while it is iterated
        (a truncated ``.csv.gz``, an I/O error) raises an :class:`InputError` with reason
        ``"read"`` then.
    ImportError
        For Parquet without pyarrow (``pip install softmaxkit[cli]``).
    """
    name = os.fspath(path)
    if na not in ("error", "nan", "mask"):
        raise ValueError(f"na must be 'error', 'nan' or 'mask', got {na!r}")
    if overflow not in ("error", "inf"):
        raise ValueError(f"overflow must be 'error' or 'inf', got {overflow!r}")
    fmt = file_format(name)
    if name != "-" and not os.path.exists(name):
        raise MissingFileError(name, None, None, "no such file")
    if name != "-" and os.path.isdir(name):
        raise InputError(name, None, None, "is a directory, not a file", reason="read")
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
            overflow=overflow,
        )
    if fmt == "parquet":
        return _ParquetReader(
            name,
            columns=columns,
            chunk_rows=chunk_rows,
            na=na,
            passthrough=passthrough,
            overflow=overflow,
        )
    return _NpyReader(name, columns=columns, chunk_rows=chunk_rows, passthrough=passthrough)
