"""NumPy fast path for softmax, log_softmax and logsumexp over the last axis.

The generic array-API kernel makes a dozen full passes over the array with full-size
temporaries. Here rows are processed in blocks that fit in a core's cache, with per-thread
scratch buffers (``out=`` everywhere), on a small thread pool (NumPy releases the GIL inside
ufuncs), so the array is read from memory once and the result written once.

The arithmetic is chosen per block, always to the generic path's accuracy:

* **Moderate blocks** (every entry in [-700, 690 − log n], the common case): no shift at all.
  ``exp(x)`` of an exact input is within 1 ulp, so ``p = exp(x) / Σ exp(x)`` is as accurate
  as the shifted form and needs neither the max nor TwoSum. For log_softmax and logsumexp
  the sum of the *other* terms relative to the largest, ``s = Σ_{j≠k} exp(x_j) / exp(x_k)``,
  gives ``LSE = max + log1p(s)``, carried as a double-word ``hi + lo`` so that
  ``log_softmax = (x − hi) − lo`` rounds once relative to the result.
* **Other finite blocks**: the max-shift with TwoSum and double-word division by T, as in the
  generic kernel.
* **Blocks holding NaN or ±inf**: the generic kernel, which resolves those rows' limits.

Narrow rows (n ≤ ``_NARROW``) are transposed block by block so reductions run over contiguous
memory. float16/float32 are computed in float64 (so no rounding but the last matters). The fast
path returns None for what it does not cover (masks, temperature arrays, T = 0 or inf, several
axes, other dtypes); the caller then uses the generic path. Both paths are tested to agree.

When the optional native kernel is built (``softmaxkit._base.native``; off with
``SOFTMAXKIT_NATIVE=0``), float32 and float64 rows run through it instead: the same arithmetic
fused into one or two passes over memory, the rows split over the same thread pool with the GIL
released. Rows holding NaN or ±inf come back flagged and go to the generic kernel as here.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from softmaxkit._base import native
from softmaxkit._base.core import Prepared, Temperature
from softmaxkit._base.kernel import (
    divide_dw,
    log_softmax_generic,
    logsumexp_generic,
    softmax_generic,
)

_BLOCK = 1 << 17  # elements per block: big enough to amortise the calls that hold the GIL
_NARROW = 32
_PARALLEL_MIN = 1 << 16  # below this many elements threads cost more than they give
_LOW, _HIGH = -700.0, 690.0  # exp stays normal and finite on [_LOW, _HIGH - log n]

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


def executor() -> ThreadPoolExecutor:
    """The library's thread pool (:func:`num_threads` workers), shared by every fast path."""
    return _executor()


def _scratch(shape: tuple[int, ...], slot: int = 0) -> np.ndarray:
    """A float64 buffer of ``shape`` owned by the calling thread (reused across calls);
    different ``slot`` numbers give distinct buffers."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    size = math.prod(shape)
    buf = bufs.get(slot)
    if buf is None or buf.size < size:
        buf = bufs[slot] = np.empty(max(size, _BLOCK), dtype=np.float64)
    return buf[:size].reshape(shape)


_MAX_TEMPERATURES = 256
_NATIVE = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))
_KERNEL_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))  # what the native kernel serves
_MODES = {"softmax": 0, "log": 1, "lse": 2}


def _canonical(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any
               ) -> tuple[np.ndarray, Callable[[np.ndarray, bool], np.ndarray]] | None:
    """The input as a C-ordered float array whose last axis is the reduced one, and the map
    that puts a result of that layout back; None when the fast path does not apply.

    Integers, booleans, non-native byte order and masks (as −inf, which the rows then treat
    exactly like −inf entries) are brought to the fast path's form here, so that equal
    values give equal results whatever form they were passed in.
    """
    raw = prep.raw
    if temp.kind not in ("one", "scalar", "array") or raw.ndim == 0 or not axes or raw.size == 0:
        return None
    if raw.dtype.kind in "biu":
        raw = raw.astype(prep.compute_dtype)
    elif raw.dtype.newbyteorder("=") in _NATIVE and raw.dtype not in _NATIVE:
        raw = raw.astype(raw.dtype.newbyteorder("="))
    if raw.dtype not in _NATIVE:
        return None
    if mask is not None:
        raw = np.where(mask, raw, np.asarray(-np.inf, dtype=raw.dtype))
    nd, k = raw.ndim, len(axes)
    moved_to = tuple(range(nd - k, nd))
    moved = raw if axes == moved_to else np.moveaxis(raw, axes, moved_to)
    lead = moved.shape[: nd - k]
    flat = np.ascontiguousarray(moved).reshape((*lead, -1))

    def restore(out: np.ndarray, lse: bool) -> np.ndarray:
        out = out.reshape((*lead, *((1,) * k if lse else moved.shape[nd - k:])))
        return out if axes == moved_to else np.moveaxis(out, moved_to, axes)

    return flat, restore


def _by_row(op: Any, a: np.ndarray, col: np.ndarray, out: np.ndarray) -> None:
    """``op(a, col, out=out)`` computed in float64 whatever ``out``'s dtype.

    (A Python-float or float32 operand is "weak" in NumPy's promotion: without ``dtype`` a
    float32 row would be computed in float32. One broadcast call per block, not one call per
    row: per-row calls are faster on one thread but hold the GIL, which costs more on two.)
    """
    op(a, col, out=out, casting="same_kind", dtype=np.float64)


def _sum_rows(e: np.ndarray, ax: int) -> np.ndarray:
    """Sums along ``ax`` with kept dims, in an order that depends on the row alone.

    Along axis 1 NumPy sums each (contiguous) row pairwise. Along axis 0 (transposed narrow
    rows) NumPy's order depends on the number of columns, so add the rows one by one.
    """
    if ax == 1:
        return np.sum(e, axis=1, keepdims=True)
    total = e[0:1].copy()
    for j in range(1, e.shape[0]):
        total += e[j:j + 1]
    return total


def _sum_but_max(e: np.ndarray, ax: int) -> np.ndarray:
    """Σ e − max(e) along ``ax`` (kept dims) without cancellation: the largest term is left out.

    Along axis 0 a running (max, min) pass per row does it; along axis 1 the argmax entry is
    zeroed (``e`` is overwritten).
    """
    if ax == 1:
        idx = np.argmax(e, axis=1, keepdims=True)
        np.put_along_axis(e, idx, 0.0, axis=1)
        return np.sum(e, axis=1, keepdims=True)
    top = e[0:1].copy()
    rest = np.zeros_like(top)
    tmp = np.empty_like(top)
    for j in range(1, e.shape[0]):
        np.minimum(top, e[j:j + 1], out=tmp)
        rest += tmp
        np.maximum(top, e[j:j + 1], out=top)
    return rest


class _Job:
    """One call: the input as 2-D rows, the output, and the per-block arithmetic."""

    def __init__(self, raw: np.ndarray, out_dtype: np.dtype, temp: Temperature,
                 mode: str, out2: np.ndarray | None = None) -> None:
        self.n = raw.shape[-1]
        self.x2 = raw.reshape(-1, self.n)
        self.mode = mode
        self.temp = temp
        self.t: float | None = None if temp.kind == "one" else float(temp.value)
        self.double = raw.dtype == np.float64
        cols = 1 if mode == "lse" else self.n
        # The caller's ``out=`` (C-ordered, right shape and dtype) is written directly.
        self.out2 = np.empty((self.x2.shape[0], cols), dtype=out_dtype) if out2 is None else out2
        self.high = _HIGH - math.log(self.n)
        # Unshifted exp needs the exact input: fine for float64 at T = 1, and for lower
        # precisions at any T (x / T in float64 is exact enough for their results). For a
        # float64 logsumexp the common error of exp(max) would show where the result cancels
        # (max < 0 < log1p(s)), so it keeps the shifted error-free form.
        self.unshifted_ok = (self.t is None or not self.double) and not (
            self.double and mode == "lse"
        )

    # -- the three kinds of block -------------------------------------------------------

    def _classify(self, v: np.ndarray, ax: int) -> np.ndarray:
        """Per row: 0 = unshifted, 1 = shifted (finite, wide spread), 2 = generic (NaN, ±inf).

        The choice depends on the row alone, so a row's result never depends on the rows
        it is batched with.
        """
        rmax = np.max(v, axis=ax)
        rmin = np.min(v, axis=ax)
        if self.unshifted_ok:
            lo, hi = (rmin, rmax) if self.t is None else (rmin / self.t, rmax / self.t)
            unshifted = (lo >= _LOW) & (hi <= self.high)
            if unshifted.all():  # the common case, decided without further passes
                return np.zeros(rmax.shape, dtype=np.int8)
        with np.errstate(all="ignore"):
            # A spread beyond the float range (x − max overflows) is left to the kernel too.
            special = ~np.isfinite(rmax - rmin)
        cls = np.where(special, 2, 1).astype(np.int8)
        if self.unshifted_ok:
            cls[unshifted] = 0
        return cls

    def block(self, src: np.ndarray, v: np.ndarray, ax: int, dst: np.ndarray) -> None:
        """Write the result for the rows ``src`` into ``dst``; ``v`` is ``src`` in the layout
        the arithmetic runs in (transposed when ``ax == 0``)."""
        cls = self._classify(v, ax)
        first = int(cls[0])
        if (cls == first).all():
            self._kind(first, src, v, ax, dst)
            return
        for kind in np.unique(cls).tolist():
            idx = np.flatnonzero(cls == kind)
            sub_src = src[idx]
            sub_v = np.ascontiguousarray(v[:, idx]) if ax == 0 else sub_src
            sub_dst = np.empty((idx.size, dst.shape[1]), dtype=dst.dtype)
            self._kind(kind, sub_src, sub_v, ax, sub_dst)
            dst[idx] = sub_dst

    def _kind(self, kind: int, src: np.ndarray, v: np.ndarray, ax: int,
              dst: np.ndarray) -> None:
        if kind == 2:
            dst[...] = self.generic(src)
        elif kind == 1:
            self._store(self._shifted(v, ax), ax, dst)
        elif self.mode == "softmax":
            self._softmax_unshifted(v, ax, dst)
        elif ax == 0:
            self._log_unshifted_columns(v, dst)
        else:
            self._log_unshifted_rows(v, dst)

    def _store(self, val: np.ndarray, ax: int, dst: np.ndarray) -> None:
        if ax == 0:
            val = val.T
        if self.mode == "lse":
            dst[...] = val.reshape(dst.shape)
        else:
            np.copyto(dst, val, casting="same_kind")

    def _scaled_exp(self, v: np.ndarray) -> np.ndarray:
        e = _scratch(v.shape)
        if self.t is None:
            np.exp(v, out=e, dtype=np.float64)
        else:
            np.divide(v, self.t, out=e, dtype=np.float64)
            np.exp(e, out=e)
        return e

    def _softmax_unshifted(self, v: np.ndarray, ax: int, dst: np.ndarray) -> None:
        """p = exp(x) / Σ exp(x), the last operation writing straight into ``dst``."""
        e = self._scaled_exp(v)
        total = _sum_rows(e, ax)
        out = dst.T if ax == 0 else dst  # transposed rows: write through the transposed view
        if dst.dtype == np.float64:
            _by_row(np.divide, e, total, out)
        else:
            # A rounding in float64 is invisible after the cast: multiply by the reciprocal.
            _by_row(np.multiply, e, 1.0 / total, out)

    def _lse_parts(self, m_raw: np.ndarray, top: np.ndarray, rest: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(m, L, lse) per row from the max, exp(max) and the sum of the other exponentials."""
        m = m_raw if self.t is None else m_raw / self.t
        big_l = np.log1p(rest / top)
        lse = m_raw + (big_l if self.t is None else self.t * big_l)
        return m, big_l, lse

    def _write_log(self, v: np.ndarray, m: np.ndarray, big_l: np.ndarray,
                   out: np.ndarray) -> np.ndarray:
        """out = x/T − (m + L), with m + L carried as a double word so it rounds once."""
        hi = m + big_l
        bb = hi - m
        lo = (m - (hi - bb)) + (big_l - bb)
        # The first subtraction goes to contiguous scratch unless ``out`` itself is a
        # contiguous float64 block; only the last one writes (maybe strided) into ``out``.
        direct = out.dtype == np.float64 and out.flags.c_contiguous
        tmp = out if direct else _scratch(v.shape)
        if self.t is None:
            _by_row(np.subtract, v, hi, tmp)
        else:
            np.divide(v, self.t, out=tmp, dtype=np.float64)
            _by_row(np.subtract, tmp, hi, tmp)
        _by_row(np.subtract, tmp, lo, out)
        return out

    def _log_unshifted_rows(self, v: np.ndarray, dst: np.ndarray) -> None:
        """log_softmax / logsumexp for wide rows: argmax picks the term left out of s."""
        e = self._scaled_exp(v)
        idx = np.argmax(v, axis=1, keepdims=True)
        m_raw = np.take_along_axis(v, idx, axis=1).astype(np.float64)
        top = np.take_along_axis(e, idx, axis=1)
        np.put_along_axis(e, idx, 0.0, axis=1)
        rest = np.sum(e, axis=1, keepdims=True)
        m, big_l, lse = self._lse_parts(m_raw, top, rest)
        if self.mode == "lse":
            dst[...] = lse
        else:
            self._write_log(v, m, big_l, dst)

    def _log_unshifted_columns(self, vt: np.ndarray, dst: np.ndarray) -> None:
        """log_softmax / logsumexp for narrow rows, transposed: one pass per column keeps
        the running max and the running sum of everything but the max."""
        e = self._scaled_exp(vt)
        top = e[0].copy()
        rest = np.zeros_like(top)
        tmp = np.empty_like(top)
        m_raw = vt[0].astype(np.float64)
        for j in range(1, vt.shape[0]):
            np.minimum(top, e[j], out=tmp)
            rest += tmp
            np.maximum(top, e[j], out=top)
            np.maximum(m_raw, vt[j], out=m_raw)
        m, big_l, lse = self._lse_parts(m_raw, top, rest)
        if self.mode == "lse":
            dst[...] = lse.reshape(dst.shape)
            return
        self._write_log(vt, m, big_l, dst.T)

    def _shifted(self, v: np.ndarray, ax: int) -> np.ndarray:
        """Max-shift, TwoSum and double-word division (float64 only needs the error terms)."""
        xp = _namespace()
        m = np.max(v, axis=ax, keepdims=True).astype(np.float64)
        hi = _scratch(v.shape, 1)
        np.subtract(v, m, out=hi, dtype=np.float64)
        lo = None
        if self.double:
            # TwoSum: x − m = hi + lo exactly (rows whose spread overflows are not sent here).
            bb = _scratch(v.shape, 2)
            lo = _scratch(v.shape, 3)
            np.subtract(hi, v, out=bb)
            np.subtract(hi, bb, out=lo)
            np.subtract(v, lo, out=lo)
            np.add(bb, m, out=bb)
            np.subtract(lo, bb, out=lo)
            if self.t is not None:
                hi, lo = divide_dw(xp, hi, lo, self.t)
        elif self.t is not None:
            np.divide(hi, self.t, out=hi)
        e = np.exp(hi, out=_scratch(v.shape, 4))
        if lo is not None:
            corr = _scratch(v.shape, 2)
            np.multiply(e, lo, out=corr)
            e += corr
        if self.mode == "softmax":
            return e / _sum_rows(e, ax)
        big_l = np.log1p(_sum_but_max(e, ax))
        if self.mode == "lse":
            return m + (big_l if self.t is None else self.t * big_l)
        out = hi - big_l
        if lo is not None:
            out += lo
        return out

    def generic(self, rows: np.ndarray) -> np.ndarray:
        """The generic kernel on rows holding NaN or ±inf."""
        xp = _namespace()
        rows = rows.astype(np.float64) if rows.dtype != np.float64 else rows
        if self.mode == "softmax":
            return softmax_generic(xp, rows, (1,), self.temp, None)
        if self.mode == "log":
            return log_softmax_generic(xp, rows, (1,), self.temp, None)
        return logsumexp_generic(xp, rows, (1,), self.temp, None)[0]

    # -- drivers --------------------------------------------------------------------------

    def rows(self, r0: int, r1: int) -> None:
        """Compute rows r0:r1 (row layout, or transposed for narrow rows)."""
        # Floating-point error state is per thread: set it in the worker too.
        with np.errstate(all="ignore"):
            self._rows(r0, r1)

    def _wide_row(self, row: np.ndarray, dst: np.ndarray) -> bool:
        """One row longer than a block, in cache-sized column chunks: the sums first, then
        the output (exponentials recomputed: cheaper than a second trip through memory)."""
        if not self.unshifted_ok:
            return False
        lo, hi = float(np.min(row)), float(np.max(row))
        if self.t is not None:
            lo, hi = lo / self.t, hi / self.t
        if not (lo >= _LOW and hi <= self.high):
            return False
        n = row.shape[0]
        chunks = [(c, min(n, c + _BLOCK)) for c in range(0, n, _BLOCK)]
        if self.mode == "softmax":
            total = math.fsum(float(np.sum(self._scaled_exp(row[a:b]))) for a, b in chunks)
            for a, b in chunks:
                e = self._scaled_exp(row[a:b])
                if dst.dtype == np.float64:
                    np.divide(e, total, out=dst[a:b])
                else:
                    np.multiply(e, 1.0 / total, out=dst[a:b], casting="same_kind")
            return True
        k = int(np.argmax(row))
        parts = []
        top = 0.0
        for a, b in chunks:
            e = self._scaled_exp(row[a:b])
            if a <= k < b:
                top = float(e[k - a])
                e[k - a] = 0.0
            parts.append(float(np.sum(e)))
        m, big_l, lse = self._lse_parts(
            np.full((1, 1), float(row[k])), np.full((1, 1), top), np.full((1, 1), math.fsum(parts))
        )
        if self.mode == "lse":
            dst[...] = lse.reshape(dst.shape)
            return True
        for a, b in chunks:
            self._write_log(row[None, a:b], m, big_l, dst[None, a:b])
        return True

    def _rows(self, r0: int, r1: int) -> None:
        src = self.x2[r0:r1]
        dst = self.out2[r0:r1]
        if self.n > _BLOCK and r1 - r0 == 1 and self._wide_row(src[0], dst[0]):
            return
        narrow = self.n <= _NARROW
        v = np.ascontiguousarray(src.T) if narrow else src
        self.block(src, v, 0 if narrow else 1, dst)

    def _native(self) -> Any:
        """The native kernel when it serves this job, else None."""
        mod = native.load()
        if (
            mod is None
            or self.x2.dtype not in _KERNEL_DTYPES
            or self.out2.dtype not in _KERNEL_DTYPES
            or not (self.x2.flags.c_contiguous and self.out2.flags.c_contiguous)
        ):
            return None
        return mod

    def _run_native(self, mod: Any) -> np.ndarray:
        """All rows through the native kernel (contiguous spans, one per worker; each call
        releases the GIL), then the flagged rows (NaN, ±inf) through the generic kernel."""
        nrows = self.x2.shape[0]
        bad = np.zeros(nrows, dtype=np.uint8)
        args = (self.x2, self.out2, self.n, _MODES[self.mode], self.t, bad)
        k = min(num_threads(), nrows)
        if self.x2.size >= _PARALLEL_MIN and k > 1:
            bounds = [nrows * i // k for i in range(k + 1)]
            futures = [
                _executor().submit(mod.rows, *args, a, b)
                for a, b in itertools.pairwise(bounds)
            ]
            flagged = sum(f.result() for f in futures)
        else:
            flagged = mod.rows(*args, 0, nrows)
        if flagged:
            idx = np.flatnonzero(bad)
            with np.errstate(all="ignore"):
                self.out2[idx] = self.generic(self.x2[idx])
        return self.out2

    def run(self) -> np.ndarray:
        mod = self._native()
        if mod is not None:
            return self._run_native(mod)
        nrows = self.x2.shape[0]
        per = max(1, _BLOCK // max(self.n, 1))
        spans = [(i, min(nrows, i + per)) for i in range(0, nrows, per)]
        nthreads = num_threads()
        if self.x2.size >= _PARALLEL_MIN and len(spans) > 1 and nthreads > 1:
            groups = [spans[i::nthreads] for i in range(nthreads)]
            work: list[Callable[[], None]] = [
                (lambda g=g: [self.rows(a, b) for a, b in g]) for g in groups if g
            ]
            futures = [_executor().submit(w) for w in work]
            for f in futures:
                f.result()
        else:
            for a, b in spans:
                self.rows(a, b)
        return self.out2


def _run(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any,
         mode: str, out: np.ndarray | None = None) -> np.ndarray | None:
    canon = _canonical(prep, axes, temp, mask)
    if canon is None:
        return None
    flat, restore = canon
    out_dtype = np.dtype(prep.out_dtype)
    if out_dtype not in _NATIVE:
        out_dtype = np.dtype(np.float64)  # e.g. bfloat16: one rounding, by the caller
    if temp.kind != "array":
        cols = 1 if mode == "lse" else flat.shape[-1]
        direct = (
            out is not None
            and out.dtype == out_dtype
            and out.flags.c_contiguous
            and axes == tuple(range(prep.raw.ndim - len(axes), prep.raw.ndim))
            and out.size == flat.size // flat.shape[-1] * cols
        )
        out2 = out.reshape(-1, cols) if direct else None
        res = _Job(flat, out_dtype, temp, mode, out2).run()
        return out if direct else restore(res, mode == "lse")
    # One temperature per row: run the rows of each distinct temperature as one job, so a
    # row gets exactly the arithmetic (and result) it would get with a scalar temperature.
    t_rows = _canonical_temperature(temp.value, axes, flat.shape[:-1])
    if t_rows is None:
        return None
    values, inverse = np.unique(t_rows, return_inverse=True)
    if values.size > _MAX_TEMPERATURES or values[0] <= 0 or not np.isfinite(values[-1]):
        return None  # T = 0 / inf rows, or too many distinct values: the kernel does them
    x2 = flat.reshape(-1, flat.shape[-1])
    cols = 1 if mode == "lse" else x2.shape[1]
    out = np.empty((x2.shape[0], cols), dtype=out_dtype)
    for k, t in enumerate(values.tolist()):
        rows = np.flatnonzero(inverse == k)
        sub = Temperature("one") if t == 1.0 else Temperature("scalar", t)
        out[rows] = _Job(x2[rows], out_dtype, sub, mode).run()
    return restore(out.reshape((*flat.shape[:-1], cols)), mode == "lse")


def _canonical_temperature(t: np.ndarray, axes: tuple[int, ...],
                           lead: tuple[int, ...]) -> np.ndarray | None:
    """Per-row temperatures in the row order of the canonical layout (kept-dims input)."""
    if not isinstance(t, np.ndarray):
        return None
    nd = t.ndim
    kept = [i for i in range(nd) if i not in axes]
    squeezed = np.broadcast_to(t, t.shape).reshape([t.shape[i] for i in kept])
    return np.ascontiguousarray(squeezed, dtype=np.float64).reshape(-1) if squeezed.size == \
        math.prod(lead) else None


def softmax(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any, *,
            log: bool, out: np.ndarray | None = None) -> np.ndarray | None:
    """softmax / log_softmax on the fast path, or None when not covered. The result is
    written into ``out`` directly when its layout allows (the returned array is then ``out``).
    """
    return _run(prep, axes, temp, mask, "log" if log else "softmax", out)


def logsumexp(prep: Prepared, axes: tuple[int, ...], temp: Temperature,
              mask: Any, out: np.ndarray | None = None) -> np.ndarray | None:
    """logsumexp with kept dims on the fast path, or None when not covered (``out`` as for
    :func:`softmax`, in the kept-dims or the reduced shape)."""
    return _run(prep, axes, temp, mask, "lse", out)
