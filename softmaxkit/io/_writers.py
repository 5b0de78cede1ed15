"""Writers: blocks of columns appended to a temporary file that replaces the target on success.

CSV (text by pyarrow's kernels when installed, else the :mod:`csv` module; both write the
shortest text that reads back to the same double), Parquet (pyarrow) and ``.npy`` (float64,
the header rewritten at the end so nothing is held in memory).

The temporary file is named ``.<target>.softmaxkit-<pid>-<random>.tmp`` beside the target.
A run that is killed outright (SIGKILL, a power cut) cannot remove it; the next writer of
the same target removes every such file whose process no longer runs on this machine
(:func:`stale_temporary_files`), and reports them in :attr:`Writer.removed`.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from softmaxkit.io._blocks import _parse_cells
from softmaxkit.io._errors import BadRecordError, InputError
from softmaxkit.io._formats import _have_pyarrow, _require_pyarrow, file_format

__all__ = [
    "Writer",
    "check_output",
    "dictionary_columns",
    "open_writer",
    "stale_temporary_files",
]

# The temporary files of a writer: ".<target>.softmaxkit-<pid>-<random>.tmp".
_TMP_TAG = ".softmaxkit-"


def _tmp_prefix(target: str) -> str:
    return f".{os.path.basename(target)}{_TMP_TAG}{os.getpid()}-"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when that cannot be told)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no way to ask
        return True
    return True


def stale_temporary_files(target: str | os.PathLike[str]) -> list[str]:
    """The temporary files of writers of ``target`` whose process no longer runs.

    A writer's temporary file is ``.<target>.softmaxkit-<pid>-<random>.tmp`` in the
    target's directory; it is left behind only when its process was killed outright
    (SIGKILL, a crash of the machine). A file whose ``<pid>`` is a running process (this
    one included) is not stale: it may be a run writing the same target right now.

    Parameters
    ----------
    target : str or path-like
        The output file.

    Returns
    -------
    list of str
        Paths, sorted; empty when the directory cannot be listed.
    """
    name = os.fspath(target)
    directory = os.path.dirname(os.path.abspath(name))
    pattern = re.compile(
        re.escape(f".{os.path.basename(name)}{_TMP_TAG}") + r"(\d+)-[A-Za-z0-9_]+\.tmp"
    )
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    out = []
    for entry in entries:
        m = pattern.fullmatch(entry)
        if m and not _alive(int(m.group(1))):
            out.append(os.path.join(directory, entry))
    return sorted(out)


def _remove_stale(target: str) -> list[str]:
    """Remove the stale temporary files of ``target``; return those removed."""
    removed = []
    for path in stale_temporary_files(target):
        try:
            os.unlink(path)
        except OSError:  # gone already, or not ours to remove: leave it
            continue
        removed.append(path)
    return removed


class Writer:
    """Append blocks of columns to a file, atomically; see :func:`open_writer`.

    Data go to a temporary file next to the target, which replaces the target
    (``os.replace``) in :meth:`close`; :meth:`abort` (or leaving a ``with`` block by an
    exception) deletes it and leaves any existing target untouched.

    Attributes
    ----------
    removed : list of str
        Temporary files of earlier writers of the same target, killed before they could
        remove them, that opening this writer removed (see :func:`stale_temporary_files`).
    """

    def __init__(self, path: str | None, names: Sequence[str], stream: Any = None) -> None:
        self.path = path
        self.names = list(names)
        self.rows = 0
        self._tmp: str | None = None
        self._done = False
        self.removed: list[str] = []
        if path is None:
            target = stream if stream is not None else sys.stdout
            buf = getattr(target, "buffer", None)
            if buf is not None:
                target.flush()
                self._file: Any = buf
            else:
                self._file = _TextSink(target)
        else:
            check_output(path)
            directory = os.path.dirname(os.path.abspath(path))
            self.removed = _remove_stale(path)
            try:
                fd, self._tmp = tempfile.mkstemp(
                    dir=directory, prefix=_tmp_prefix(path), suffix=".tmp"
                )
            except OSError as exc:  # name the user's path, not the temporary file
                raise InputError(
                    path, None, None, f"cannot write here ({exc.strerror or exc})", reason="output"
                ) from None
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
            list(col), file=str(self.path), column=name, start=start, na="nan", overflow="inf"
        )
        if err is not None:
            raise BadRecordError(
                str(self.path),
                err.row,
                name,
                f"{err.message}: a .npy file holds numbers only",
                reason="text-output",
            )
        return values

    def _finish(self) -> None:
        self._file.seek(0)
        self._file.write(self._header(self.rows))


def check_output(path: str | os.PathLike[str]) -> None:
    """Refuse an output file that cannot be written, before anything is computed.

    Parameters
    ----------
    path : str or path-like
        The output file, as the user named it.

    Raises
    ------
    InputError
        Naming ``path`` (reason ``"output"``): when it is a directory, when its directory
        does not exist or is not a directory, or when that directory is not writable (the
        output is written beside the target and renamed over it, so it is the directory
        that must be writable, not an existing target).

    Examples
    --------
    >>> try:
    ...     check_output("/no/such/dir/out.csv")
    ... except InputError as exc:
    ...     print(exc, exc.reason, sep="; ")
    /no/such/dir/out.csv: the directory '/no/such/dir' does not exist; output
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        why = "is a directory; give a file name"
    else:
        directory = os.path.dirname(name) or "."
        if not os.path.exists(directory):
            why = f"the directory {directory!r} does not exist"
        elif not os.path.isdir(directory):
            why = f"{directory!r} is not a directory"
        elif not os.access(directory, os.W_OK | os.X_OK):
            why = f"the directory {directory!r} is not writable"
        else:
            return
    raise InputError(name, None, None, why, reason="output")


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

    Raises
    ------
    InputError
        If ``path`` cannot be written (:func:`check_output`).

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
