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
is not counted, blank lines are skipped and not counted) and the column. A number beyond the
float64 range (``1e999``) is a bad record too unless ``overflow="inf"``. A file that cannot
be read or decompressed (a truncated ``.csv.gz``) raises :class:`InputError`. Errors carry a
``reason`` (:data:`REASONS`) from which a caller builds its advice; the messages never name
a command's options.

Outputs are written to ``.<target>.softmaxkit-<pid>-<random>.tmp`` beside the target and
renamed over it on success; :func:`check_output` refuses an unwritable location up front,
and a writer removes the temporary files that killed runs left for its target
(:func:`stale_temporary_files`).

When pyarrow is installed CSV is read and written through its C++ CSV engine (several times
faster); any record it rejects is re-read with the standard-library :mod:`csv` module, which
accepts everything :class:`float` accepts and reports the exact row and column.

The package sits beside the floors of softmaxkit (it imports nothing of softmaxkit); the
command line is its user. Where things live: ``_errors`` (the :class:`InputError` family),
``_formats`` (extensions, block sizes, pyarrow), ``_columns`` (:func:`select_columns`),
``_blocks`` (:class:`Block`, the :class:`Reader` base, cell parsing), ``_csv`` (the CSV
reader), ``_readers`` (Parquet, ``.npy``, :func:`open_reader`), ``_writers`` (every writer,
:func:`open_writer`) and ``_example`` (the shipped example data).
"""

from softmaxkit.io._blocks import Block, Reader
from softmaxkit.io._columns import select_columns
from softmaxkit.io._errors import REASONS, BadRecordError, InputError, MissingFileError
from softmaxkit.io._example import example_path, load_example
from softmaxkit.io._formats import Format as Format  # public, not in __all__ (as before)
from softmaxkit.io._formats import NaPolicy as NaPolicy
from softmaxkit.io._formats import default_chunk_rows, file_format
from softmaxkit.io._readers import open_reader
from softmaxkit.io._writers import Writer, check_output, open_writer, stale_temporary_files
from softmaxkit.io._writers import dictionary_columns as dictionary_columns

__all__ = [
    "REASONS",
    "BadRecordError",
    "Block",
    "InputError",
    "MissingFileError",
    "Reader",
    "Writer",
    "check_output",
    "default_chunk_rows",
    "example_path",
    "file_format",
    "load_example",
    "open_reader",
    "open_writer",
    "select_columns",
    "stale_temporary_files",
]
