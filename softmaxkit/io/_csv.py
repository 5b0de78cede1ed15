"""The CSV reader: pyarrow's C++ parser when it can, the :mod:`csv` module to locate errors.

Any batch pyarrow rejects is re-read from its first record with the standard-library
:mod:`csv` module, which accepts everything :class:`float` accepts and reports the exact
row and column; standard input (which cannot be reopened) is read by the :mod:`csv` module.

pyarrow reads the file through its own native file objects (a gzip file through its native
decompressor): its read-ahead runs on a background thread, which must never call back into
Python (a thread that does so while the interpreter exits aborts the process with
``terminate called without an active exception``). A file that cannot be read or
decompressed (truncated gzip, I/O error) is an :class:`InputError` with reason ``"read"``.

pyarrow reads a number beyond the float64 range ('1e999') as inf, like :class:`float`. With
``overflow="error"`` every infinity pyarrow returns is checked against its text, read by a
second pyarrow reader of the selected columns as text that follows the first batch by batch;
it is opened only when a batch holds an infinity, so files without one pay nothing.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import itertools
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np

from softmaxkit.io._blocks import (
    _INF_WORDS,
    Block,
    Reader,
    _arrow_block,
    _first_error,
    _overflow_error,
    _parse_cells,
)
from softmaxkit.io._errors import BadRecordError, InputError, MissingFileError
from softmaxkit.io._formats import _have_pyarrow, _require_pyarrow

__all__: list[str] = []

# Bytes of CSV text pyarrow parses per batch: large enough to amortise per-batch overhead,
# small enough that a batch's parsed columns stay a few tens of MB.
_ARROW_BLOCK_BYTES = 1 << 20

# What reading or decompressing a file raises: OSError (I/O, gzip.BadGzipFile, pyarrow's
# "Truncated compressed stream"), EOFError (a gzip file cut short), zlib.error (corrupt data).
_READ_ERRORS = (OSError, EOFError, zlib.error)

# Separators a one-column file may really be using, in the order they are suggested.
_OTHER_DELIMITERS = (";", "\t", "|", ",")


def _read_error(file: str, exc: BaseException, gz: bool) -> InputError:
    """A file that cannot be read (or decompressed) as an InputError naming it."""
    what = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    kind = "truncated or corrupt gzip data" if gz else "cannot read the file"
    return InputError(file, None, None, f"{kind} ({what})", reason="read")


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
        overflow: str = "error",
    ) -> None:
        self._stdin = path == "-"
        self._overflow = overflow
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
        try:
            first = source.take(1)
        except BaseException:
            source.close()
            raise
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
        self._other_delimiter = _other_delimiter(first[0], delimiter)
        try:
            self._sel = self._setup(names, columns, passthrough, chunk_rows)
        except InputError as exc:
            raise self._explained(exc) from None
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
        except OSError as exc:  # a directory, no permission, ...
            raise _read_error(self.path, exc, False) from None
        binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if self._gz else raw
        text = _io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        return _CsvSource(self.path, raw, text, self._delim, closing=(text, raw), gz=self._gz)

    def _explained(self, exc: InputError) -> InputError:
        """``exc``, marked as the symptom of a wrong delimiter when the file has one column
        whose text holds another separator ('a;b;c' read with ',')."""
        if exc.reason is not None or self._other_delimiter is None:
            return exc
        return _rebuilt(exc, reason="delimiter", detail=self._other_delimiter)

    def blocks(self) -> Iterator[Block]:
        try:
            yield from self._blocks()
        except InputError as exc:
            raise self._explained(exc) from None

    def _blocks(self) -> Iterator[Block]:
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
                cols[j],
                file=self.path,
                column=self.names[j],
                start=start,
                na=self._na,
                overflow=self._overflow,
            )
            errors.append(err)
        _first_error(errors)
        passthrough = {self.names[j]: list(cols[j]) for j in self._pt_idx}
        progress = raw.tell() if raw is not None and not raw.closed else 0
        return Block(start, values, passthrough, progress)

    def _open_arrow(self, raw: Any, types: dict[str, Any], columns: list[str]) -> Any:
        """A pyarrow streaming reader over the native file ``raw`` (gzip decompressed
        natively), converting ``columns`` to ``types``."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        source = pa.CompressedInputStream(raw, "gzip") if self._gz else raw
        return pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(
                column_names=self.names,
                skip_rows=1 if self.header else 0,
                block_size=_ARROW_BLOCK_BYTES,
            ),
            parse_options=pcsv.ParseOptions(delimiter=self._delim),
            convert_options=pcsv.ConvertOptions(
                column_types=types,
                include_columns=columns,
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=True,
            ),
        )

    def _arrow_blocks(self) -> Iterator[Block | None]:
        """Blocks parsed by pyarrow; None when pyarrow rejects a batch (the caller re-reads
        from there with the csv module, which locates the bad record exactly)."""
        import pyarrow as pa

        types = {n: pa.float64() for n in self.selected}
        types.update({n: pa.string() for n in self.passthrough})
        # Native files: pyarrow's read-ahead thread then never calls into Python.
        opened: list[Any] = []  # the readers, then the files, closed in this order
        try:
            raw = pa.OSFile(self._file, "r")
        except OSError as exc:
            raise _read_error(self.path, exc, False) from None
        texts = _TextFollower(self, opened)
        try:
            try:
                reader = self._open_arrow(raw, types, self.selected + self.passthrough)
            except (pa.ArrowInvalid, UnicodeDecodeError):
                yield None
                return
            except _READ_ERRORS as exc:
                raise _read_error(self.path, exc, self._gz) from None
            opened.append(reader)
            start = 0
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowInvalid, UnicodeDecodeError):
                    yield None
                    return
                except _READ_ERRORS as exc:
                    raise _read_error(self.path, exc, self._gz) from None
                progress = raw.tell()
                overflow = None
                if self._overflow == "error":
                    found = texts.overflow(batch, start)
                    if found is None:  # the text reader lost step: re-read exactly
                        yield None
                        return
                    overflow = found or None
                for off in range(0, batch.num_rows, self.chunk_rows):
                    part = batch.slice(off, self.chunk_rows)
                    args = (part, self.selected, self.passthrough, start, progress, self.path)
                    if overflow is not None and overflow.row <= start + part.num_rows:
                        _first_error([_block_error(*args, self._na), overflow])
                    yield _arrow_block(*args, self._na)
                    start += part.num_rows
        finally:
            for thing in reversed(opened):  # readers before the files under them
                thing.close()
            raw.close()


def _block_error(*args: Any) -> BadRecordError | None:
    """The error converting a block raises, or None."""
    try:
        _arrow_block(*args)
    except BadRecordError as exc:
        return exc
    return None


# How infinities are usually written (what writers of CSV, ours included, produce).
_INF_TEXTS: Any = None


def _inf_texts() -> Any:
    import pyarrow as pa

    global _INF_TEXTS
    if _INF_TEXTS is None:
        _INF_TEXTS = pa.array(
            [f"{s}{w}" for s in ("", "-", "+") for w in ("inf", "Inf", "INF", "Infinity")]
        )
    return _INF_TEXTS


class _TextFollower:
    """The selected columns as text, batch by batch in step with the float reader; opened
    at the first batch that holds an infinity (to tell 'inf' from '1e999')."""

    def __init__(self, owner: _CsvReader, opened: list[Any]) -> None:
        self._owner = owner
        self._opened = opened
        self._reader: Any = None
        self._batches = 0  # batches of the float reader seen
        self._read = 0  # batches this reader has read

    def overflow(self, batch: Any, start: int) -> BadRecordError | bool | None:
        """The first overflowing cell of ``batch`` (rows from ``start``) as an error; False
        when there is none; None when the text batches do not match the float ones."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self._batches += 1
        owner = self._owner
        columns = [
            (k, name, batch.column(name).to_numpy(zero_copy_only=False))
            for k, name in enumerate(owner.selected)
        ]
        if not any(np.isinf(v).any() for _, _, v in columns):
            return False
        text = self._batch()
        if text is None or text.num_rows != batch.num_rows:
            return None
        found: list[BadRecordError | None] = []
        for _, name, v in columns:
            where = np.flatnonzero(np.isinf(v))
            if where.size == 0:
                continue
            cells = text.column(name).take(where)
            # The usual spellings at C speed first; only the rest is normalised.
            odd = np.flatnonzero(~np.asarray(pc.is_in(cells, value_set=_inf_texts())))
            if odd.size == 0:
                continue
            words = pc.utf8_lower(pc.utf8_trim_whitespace(cells.take(odd)))
            words = pc.replace_substring_regex(words, "^[+-]", "", max_replacements=1)
            bad = np.flatnonzero(
                ~np.asarray(pc.is_in(words, value_set=pa.array(sorted(_INF_WORDS))))
            )
            if bad.size:
                i = int(where[odd[bad[0]]])
                cell = text.column(name)[i].as_py()
                found.append(_overflow_error(owner.path, start + i + 1, name, cell))
        if not found:
            return False
        try:
            _first_error(found)
        except BadRecordError as exc:
            return exc
        return False  # pragma: no cover - _first_error raised

    def _batch(self) -> Any:
        import pyarrow as pa

        owner = self._owner
        if self._reader is None:
            raw = pa.OSFile(owner._file, "r")
            self._opened.insert(0, raw)  # closed after the readers
            types = {n: pa.string() for n in owner.selected}
            self._reader = owner._open_arrow(raw, types, list(owner.selected))
            self._opened.append(self._reader)
        try:
            while self._read < self._batches:
                batch = self._reader.read_next_batch()
                self._read += 1
        except StopIteration:
            return None
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return None
        except _READ_ERRORS as exc:
            raise _read_error(owner.path, exc, owner._gz) from None
        return batch


def _other_delimiter(first: Sequence[str], delimiter: str) -> str | None:
    """The separator a one-column file seems to use instead of ``delimiter`` (its only
    field, the header or the first record, holds it), or None."""
    if len(first) != 1:
        return None
    for d in _OTHER_DELIMITERS:
        if d != delimiter and d in first[0]:
            return d
    return None


def _rebuilt(exc: InputError, *, reason: str, detail: str | None) -> InputError:
    """``exc`` with a reason (same class, place and message)."""
    return type(exc)(exc.file, exc.row, exc.column, exc.message, reason=reason, detail=detail)


class _CsvSource:
    """Non-blank rows of a CSV text stream, read in runs by the csv module."""

    def __init__(
        self,
        file: str,
        raw: BinaryIO | None,
        text: Any,
        delimiter: str,
        closing: tuple[Any, ...],
        gz: bool = False,
    ) -> None:
        self.file = file
        self._gz = gz
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
        except _READ_ERRORS as exc:
            raise _read_error(self.file, exc, self._gz) from None
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
            try:
                f.close()
            except _READ_ERRORS:  # a damaged gzip stream may fail again on close
                pass
