"""The CSV reader: pyarrow's C++ parser when it can, the :mod:`csv` module to locate errors.

Any batch pyarrow rejects is re-read from its first record with the standard-library
:mod:`csv` module, which accepts everything :class:`float` accepts and reports the exact
row and column; standard input (which cannot be reopened) is read by the :mod:`csv` module.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import itertools
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np

from softmaxkit.io._blocks import Block, Reader, _arrow_block, _first_error, _parse_cells
from softmaxkit.io._errors import BadRecordError, InputError, MissingFileError
from softmaxkit.io._formats import _have_pyarrow, _require_pyarrow

__all__: list[str] = []

# Bytes of CSV text pyarrow parses per batch: large enough to amortise per-batch overhead,
# small enough that a batch's parsed columns stay a few tens of MB.
_ARROW_BLOCK_BYTES = 1 << 20


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
