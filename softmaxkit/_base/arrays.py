"""Array helpers shared by every floor, one copy each: reductions over row axes, slices along
one axis, devices and host copies.

Every function takes the array-API namespace ``xp`` explicitly and uses only array-API calls,
so the same code serves NumPy, PyTorch, JAX, Dask and ``array_api_strict``. A "row" is the set
of entries reduced together (the ``axes``); reductions keep the reduced axes with length 1.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "delete",
    "device_of",
    "first_index",
    "host_copy",
    "insert",
    "numpy_scalar",
    "rany",
    "rmax",
    "rsum",
    "size_of",
    "take",
]

Array = Any


def device_of(a: Array) -> Any:
    """The device ``a`` lives on (for creating arrays beside it)."""
    return array_api_compat.device(a)


def host_copy(a: Any) -> np.ndarray:
    """A NumPy copy of a concrete array of any library (for validation and error messages)."""
    if isinstance(a, np.ndarray):
        return a
    if array_api_compat.is_torch_array(a):
        return a.detach().cpu().numpy()
    try:
        return np.asarray(a)
    except Exception:  # e.g. a device array without __array__
        return np.asarray(array_api_compat.to_device(a, "cpu"))


def size_of(a: Array) -> int:
    """Number of elements; −1 when the shape is not known yet (lazy Dask arrays)."""
    size = getattr(a, "size", None)
    if size is None or not isinstance(size, int):
        shape = tuple(a.shape)
        if any(not isinstance(d, int) for d in shape):
            return -1
        return math.prod(shape)
    return size


def rsum(xp: Any, a: Array, axes: tuple[int, ...]) -> Array:
    """Sum over ``axes`` with kept dims.

    Over no axis it is the identity (each entry is its own row): ``torch.sum`` with ``dim=()``
    would sum everything.
    """
    return xp.sum(a, axis=axes, keepdims=True) if axes else a


def rmax(xp: Any, a: Array, axes: tuple[int, ...]) -> Array:
    """Maximum over ``axes`` with kept dims (the identity over no axis)."""
    return xp.max(a, axis=axes, keepdims=True) if axes else a


def rany(xp: Any, cond: Array, axes: tuple[int, ...]) -> Array:
    """Any over ``axes`` with kept dims (the identity over no axis)."""
    return xp.any(cond, axis=axes, keepdims=True) if axes else cond


def first_index(xp: Any, cond: Array) -> tuple[int, ...] | None:
    """Index of the first True entry of ``cond`` (C order), or None when there is none."""
    if not bool(xp.any(cond)):
        return None
    hits = np.argwhere(host_copy(cond))
    return tuple(int(i) for i in hits[0])


def take(xp: Any, a: Array, axis: int, index: int) -> Array:
    """``a`` at ``index`` along ``axis``, keeping the axis (length 1)."""
    key = tuple(slice(index, index + 1) if k == axis else slice(None) for k in range(a.ndim))
    return a[key]


def insert(xp: Any, a: Array, axis: int, index: int, fill: Any) -> Array:
    """Insert a slice filled with ``fill`` before position ``index`` along ``axis``."""
    axis %= a.ndim
    shape = tuple(1 if k == axis else d for k, d in enumerate(a.shape))
    piece = xp.full(shape, fill, dtype=a.dtype, device=device_of(a))
    before = tuple(slice(None, index) if k == axis else slice(None) for k in range(a.ndim))
    after = tuple(slice(index, None) if k == axis else slice(None) for k in range(a.ndim))
    return xp.concat([a[before], piece, a[after]], axis=axis)


def delete(xp: Any, a: Array, axis: int, index: int) -> Array:
    """Drop position ``index`` along ``axis``."""
    axis %= a.ndim
    before = tuple(slice(None, index) if k == axis else slice(None) for k in range(a.ndim))
    after = tuple(slice(index + 1, None) if k == axis else slice(None) for k in range(a.ndim))
    return xp.concat([a[before], a[after]], axis=axis)


def numpy_scalar(a: Any) -> Any:
    """A 0-d NumPy result as a NumPy scalar, as NumPy's ufuncs and reductions and SciPy return
    it; anything else unchanged.

    Examples
    --------
    >>> type(numpy_scalar(np.asarray(1.5))).__name__, numpy_scalar(np.ones(2)).shape
    ('float64', (2,))
    """
    if isinstance(a, np.ndarray) and a.ndim == 0:
        return a[()]
    return a
