"""Dask arrays: the maps run block by block on whole rows.

The reduced axes are rechunked into single chunks (lazily), and each block — whole rows — goes
through the same public function as a NumPy array would, inside the worker. This gives the
NumPy results exactly (the fast path is batch-invariant), uses the fast path on every worker,
and keeps floating-point warnings inside the library's own error state, whenever and wherever
the graph is computed. The price: one row must fit in a worker's memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from softmaxkit._base.core import Prepared, Temperature


def is_dask(x: Any) -> bool:
    """True for a Dask array (without importing dask when it is not loaded)."""
    import sys

    if "dask.array" not in sys.modules:
        return False
    import dask.array as da

    return isinstance(x, da.Array)


def _temperature_arg(temp: Temperature) -> Any:
    return {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(temp.kind, temp.value)


def blockwise(
    fn: Callable[..., Any],
    prep: Prepared,
    axes: tuple[int, ...],
    temp: Temperature,
    mask: Any,
    *,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
    sign: bool = False,
    **fixed: Any,
) -> Any:
    """Apply a public map ``fn`` to every block of whole rows of the Dask array ``prep.raw``.

    ``fn`` is the public function itself (the caller hands itself down, so this floor never
    looks a map up by name); ``fixed`` are further keywords passed to it unchanged
    (e.g. ``alpha``).

    For logsumexp, ``return_sign`` is the caller's flag (it changes the values where the
    weighted sum is negative) and ``sign=True`` returns the sign array instead of the values.
    """
    import dask.array as da


    x = prep.raw
    whole = {a: -1 for a in axes}
    x = x.rechunk(whole)
    extras: list[Any] = []
    names: list[str] = []
    for key, arr in (("where", mask), ("b", b)):
        if arr is not None:
            arr = da.broadcast_to(da.asarray(arr), x.shape).rechunk(x.chunks)
            extras.append(arr)
            names.append(key)
    t_arg = _temperature_arg(temp)
    if temp.kind == "array":
        t = da.asarray(temp.value)
        t_chunks = tuple((1,) if i in axes else c for i, c in enumerate(x.chunks))
        extras.append(t.rechunk(t_chunks))
        names.append("temperature")
    name = fn.__name__
    out_dtype = prep.out_dtype

    def run(block: Any, *others: Any) -> Any:
        kw: dict[str, Any] = {"axis": axes, "dtype": out_dtype, **fixed}
        if "temperature" not in names and name != "hardmax":
            kw["temperature"] = t_arg
        kw.update(zip(names, others, strict=True))
        if name == "logsumexp":
            kw["keepdims"] = True
            if return_sign:
                return fn(block, return_sign=True, **kw)[1 if sign else 0]
        return fn(block, **kw)

    if name != "logsumexp":
        return da.map_blocks(run, x, *extras, dtype=out_dtype, meta=x._meta.astype(out_dtype))
    chunks = tuple((1,) * len(c) if i in axes else c for i, c in enumerate(x.chunks))
    out = da.map_blocks(run, x, *extras, dtype=out_dtype, chunks=chunks,
                        meta=x._meta.astype(out_dtype))
    return out if keepdims else da.squeeze(out, axis=axes)
