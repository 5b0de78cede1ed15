"""File formats by extension, block sizes, and whether pyarrow is there to read them."""

from __future__ import annotations

import os
from typing import Any, Literal

from softmaxkit.io._errors import InputError

__all__ = ["Format", "NaPolicy", "default_chunk_rows", "file_format"]

Format = Literal["csv", "parquet", "npy"]
NaPolicy = Literal["error", "nan", "mask"]

_PIP_HINT = "pip install softmaxkit[cli]"
# Target number of cells per block when chunk_rows is not given (8 MiB of float64).
_AUTO_CELLS = 1 << 20


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
