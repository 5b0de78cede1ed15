"""NumPy fast path for softmax, log_softmax and logsumexp over one axis.

The generic array-API path makes a dozen full passes over the array with full-size temporaries.
Here rows are processed in blocks that fit in a core's cache, with preallocated scratch buffers
(``out=`` everywhere) and on a small thread pool (NumPy releases the GIL inside ufuncs), so the
array is read from memory once and the result written once; the arithmetic is the same as the
generic path's (TwoSum for x − max, double-word division by T, log1p of the non-maximal terms).

* Narrow rows (n ≤ ``_NARROW``) are transposed block by block, so every reduction runs over
  contiguous memory instead of one short row at a time.
* Wide rows (n > ``_WIDE``) are processed one row at a time in column chunks: the maximum, then
  the sum of exponentials, then the output (exponentials recomputed, which is cheaper than a
  second round trip through memory).
* float16/float32 are computed in float64 block by block (no rounding before the last one
  matters), float64 with the error-free transformations.

Special blocks (a NaN, ±inf, or an entry that makes the sum non-finite) are handed to the
generic path, which resolves their limits; the fast path returns None for anything it does not
cover (masks, temperature arrays, T = 0 or inf, several axes, other dtypes), and the caller then
uses the generic path. Both paths are tested to agree.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from softmaxkit._core import Prepared, Temperature
from softmaxkit._kernel import (
    divide_dw,
    log_softmax_generic,
    logsumexp_generic,
    softmax_generic,
)

_BLOCK = 1 << 14  # elements per block: a few float64 buffers of this size stay in L2
_NARROW = 16
_WIDE = 1 << 15
_PARALLEL_MIN = 1 << 17  # below this many elements threads cost more than they give

_np_ns: Any = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


def _namespace() -> Any:
    global _np_ns
    if _np_ns is None:
        import array_api_compat.numpy as npx

        _np_ns = npx
    return _np_ns


def num_threads() -> int:
    """Worker threads of the fast path: ``SOFTMAXKIT_NUM_THREADS`` or the usable CPUs (≤ 8)."""
    env = os.environ.get("SOFTMAXKIT_NUM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=num_threads(), thread_name_prefix="softmaxkit")
        return _pool


def _scratch(shape: tuple[int, ...], k: int) -> list[np.ndarray]:
    """k float64 buffers of ``shape`` owned by the calling thread (reused across calls)."""
    key = (shape, k)
    bufs = getattr(_local, "bufs", None)
    if bufs is None or bufs[0] != key:
        bufs = (key, [np.empty(shape, dtype=np.float64) for _ in range(k)])
        _local.bufs = bufs
    return bufs[1]


def _supported(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any) -> bool:
    raw = prep.raw
    return (
        mask is None
        and temp.kind in ("one", "scalar")
        and raw.ndim >= 1
        and axes == (raw.ndim - 1,)
        and raw.dtype in (np.float64, np.float32, np.float16)
        and np.dtype(prep.out_dtype) in (np.float64, np.float32, np.float16)
        and raw.shape[-1] > 0
        and raw.size > 0
    )


def _shift(v: np.ndarray, m: np.ndarray, ax: int, exact: bool, t: float | None,
           bufs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """(x − m)/T as hi (+ lo) in float64 scratch buffers; lo is None when not needed."""
    hi = np.subtract(v, m, out=bufs[0], dtype=np.float64)
    if not exact:
        # Half/single input computed in double: the rounding of hi (and of hi / T) is far
        # below the result's precision, so no error term is needed.
        if t is not None:
            np.divide(hi, t, out=hi)
        return hi, None
    bb = np.subtract(hi, v, out=bufs[1])
    lo = np.subtract(hi, bb, out=bufs[2])
    np.subtract(v, lo, out=lo)
    np.add(bb, m, out=bb)
    np.subtract(lo, bb, out=lo)
    if t is not None:
        q, r = divide_dw(_namespace(), hi, lo, t)
        np.copyto(bufs[0], q)
        np.copyto(bufs[2], r)
        return bufs[0], bufs[2]
    return hi, lo


def _block(v: np.ndarray, ax: int, exact: bool, t: float | None, log: bool,
           mode: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """Process one block; ``v`` is 2-D, rows along the axis other than ``ax``.

    Returns (result_in_scratch, m, big_l) or None when the block holds special values.
    mode: "softmax" | "log" | "lse".
    """
    bufs = _scratch(v.shape, 4)
    if mode == "softmax":
        m = np.max(v, axis=ax, keepdims=True)
        idx = None
    else:
        idx = np.argmax(v, axis=ax, keepdims=True)
        m = np.take_along_axis(v, idx, axis=ax)
    if not np.isfinite(m).all():
        return None
    hi, lo = _shift(v, m, ax, exact, t, bufs)
    e = np.exp(hi, out=bufs[1])
    if lo is not None:
        corr = np.multiply(e, lo, out=bufs[3])
        np.add(e, corr, out=e)
    if mode == "softmax":
        total = np.sum(e, axis=ax, keepdims=True)
        if not np.isfinite(total).all():
            return None
        np.divide(e, total, out=e)
        return e, None, None
    np.put_along_axis(e, idx, 0.0, axis=ax)
    s = np.sum(e, axis=ax, keepdims=True)
    if not np.isfinite(s).all():
        return None
    big_l = np.log1p(s)
    if mode == "lse":
        return big_l, m, big_l
    np.subtract(hi, big_l, out=hi)
    if lo is not None:
        np.add(hi, lo, out=hi)
    return hi, m, big_l


def _generic_rows(prep: Prepared, rows: np.ndarray, temp: Temperature, mode: str) -> np.ndarray:
    """Fallback for a block with special values: the generic kernel on those rows."""
    xp = _namespace()
    rows = rows.astype(np.float64) if rows.dtype != np.float64 else rows
    if mode == "softmax":
        return softmax_generic(xp, rows, (1,), temp, None)
    if mode == "log":
        return log_softmax_generic(xp, rows, (1,), temp, None)
    return logsumexp_generic(xp, rows, (1,), temp, None)[0]


def _run(prep: Prepared, temp: Temperature, mode: str) -> np.ndarray:
    raw = prep.raw
    n = raw.shape[-1]
    x2 = raw.reshape(-1, n)
    rows = x2.shape[0]
    out_dtype = np.dtype(prep.out_dtype)
    if mode == "lse":
        out2 = np.empty((rows, 1), dtype=out_dtype)
    else:
        out2 = np.empty((rows, n), dtype=out_dtype)
    exact = raw.dtype == np.float64
    t = None if temp.kind == "one" else float(temp.value)

    if n > _WIDE:
        tasks = [(i, i + 1) for i in range(rows)]
        worker = _wide_worker
    else:
        per = max(1, _BLOCK // n)
        tasks = [(i, min(rows, i + per)) for i in range(0, rows, per)]
        worker = _narrow_worker if n <= _NARROW else _row_worker

    def job(span: tuple[int, int]) -> None:
        worker(prep, x2, out2, span, exact, t, temp, mode)

    if raw.size >= _PARALLEL_MIN and len(tasks) > 1 and num_threads() > 1:
        ex = _executor()
        nthreads = num_threads()
        # Few large tasks per thread keep the dispatch overhead small.
        chunks = [tasks[i::nthreads] for i in range(nthreads)]
        futures = [ex.submit(lambda c=c: [job(s) for s in c]) for c in chunks if c]
        for f in futures:
            f.result()
    else:
        for span in tasks:
            job(span)
    if mode == "lse":
        return out2.reshape(raw.shape[:-1] + (1,))
    return out2.reshape(raw.shape)


def _finish_block(out: np.ndarray, res: tuple | None, mode: str, transpose: bool,
                  prep: Prepared, rows: np.ndarray, temp: Temperature,
                  t: float | None) -> None:
    if res is None:
        out[...] = _generic_rows(prep, rows, temp, mode)
        return
    val, m, big_l = res
    if mode == "lse":
        lse = m + (big_l if t is None else t * big_l)
        out[...] = lse.T if transpose else lse
        return
    out[...] = val.T if transpose else val


def _row_worker(prep, x2, out2, span, exact, t, temp, mode) -> None:
    v = x2[span[0]:span[1]]
    res = _block(v, 1, exact, t, mode == "log", mode)
    _finish_block(out2[span[0]:span[1]], res, mode, False, prep, v, temp, t)


def _narrow_worker(prep, x2, out2, span, exact, t, temp, mode) -> None:
    v = np.ascontiguousarray(x2[span[0]:span[1]].T)
    res = _block(v, 0, exact, t, mode == "log", mode)
    _finish_block(out2[span[0]:span[1]], res, mode, True, prep, x2[span[0]:span[1]], temp, t)


def _wide_worker(prep, x2, out2, span, exact, t, temp, mode) -> None:
    """One long row in column chunks: max, then the sum, then the output."""
    i = span[0]
    row = x2[i]
    n = row.shape[0]
    out = out2[i]
    mi = int(np.argmax(row))
    m = row[mi]
    if not math.isfinite(float(m)):
        out[...] = _generic_rows(prep, x2[i:i + 1], temp, mode)[0]
        return
    m_arr = np.asarray(m, dtype=row.dtype).reshape(1)
    chunk = _BLOCK
    total = 0.0
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        bufs = _scratch((c1 - c0,), 4)
        hi, lo = _shift(row[c0:c1], m_arr, 0, exact, t, bufs)
        e = np.exp(hi, out=bufs[1])
        if lo is not None:
            np.multiply(e, lo, out=bufs[3])
            np.add(e, bufs[3], out=e)
        if c0 <= mi < c1 and mode != "softmax":
            e[mi - c0] = 0.0
        total += float(np.sum(e))
    if not math.isfinite(total):
        out[...] = _generic_rows(prep, x2[i:i + 1], temp, mode)[0]
        return
    if mode == "lse":
        big_l = math.log1p(total)
        out[0] = float(m) + (big_l if t is None else t * big_l)
        return
    big_l = math.log1p(total) if mode == "log" else 0.0
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        bufs = _scratch((c1 - c0,), 4)
        hi, lo = _shift(row[c0:c1], m_arr, 0, exact, t, bufs)
        if mode == "log":
            np.subtract(hi, big_l, out=hi)
            if lo is not None:
                np.add(hi, lo, out=hi)
            out[c0:c1] = hi
        else:
            e = np.exp(hi, out=bufs[1])
            if lo is not None:
                np.multiply(e, lo, out=bufs[3])
                np.add(e, bufs[3], out=e)
            np.divide(e, total, out=out[c0:c1], casting="same_kind")


def softmax(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any, *,
            log: bool) -> np.ndarray | None:
    """softmax / log_softmax on the fast path, or None when not covered."""
    if not _supported(prep, axes, temp, mask):
        return None
    return _run(prep, temp, "log" if log else "softmax")


def logsumexp(prep: Prepared, axes: tuple[int, ...], temp: Temperature,
              mask: Any) -> np.ndarray | None:
    """logsumexp with kept dims on the fast path, or None when not covered."""
    if not _supported(prep, axes, temp, mask):
        return None
    return _run(prep, temp, "lse")
