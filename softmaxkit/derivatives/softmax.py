r"""Closed-form derivatives of softmax, log_softmax, logsumexp and hardmax.

Each derivative validates its arguments once (:func:`softmaxkit._base.core.setup`), computes
the map's output with the library's own map (so every edge case is inherited), evaluates the
formula of :mod:`softmaxkit.derivatives.forms` on it, and resolves the special rows: rows at
T = 0 or inf and rows holding +inf are locally constant (derivative 0), rows holding NaN are
NaN. The conventions (shapes, edge cases, accuracy) are those of :mod:`softmaxkit.derivatives`.

NumPy input reduced over its last axis without a mask takes a blocked, multi-threaded path for
the JVP/VJP of softmax and log_softmax (the same formulas, in place on cache-sized blocks;
special rows fall back to the generic path).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from softmaxkit import maps as _maps
from softmaxkit._base import fast as _fast
from softmaxkit._base.core import (
    Setup,
    full_like_scalar,
    quiet,
    reduced_shape,
    setup,
    squeeze_axes,
)
from softmaxkit.derivatives import forms
from softmaxkit.derivatives._rows import (
    Rows,
    as_namespace,
    cast,
    deliver,
    divisor,
    finish_rows,
    kept_entries,
    row_flags,
    rows_arranger,
    rows_divisor,
    same,
    tangent,
    to_rows,
    zeros_out,
)

__all__ = [
    "hardmax_hessian",
    "hardmax_jacobian",
    "hardmax_jvp",
    "hardmax_vjp",
    "log_softmax_hessian",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logsumexp_hessian",
    "logsumexp_jacobian",
    "logsumexp_jvp",
    "logsumexp_vjp",
    "softmax_hessian",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
]

Array = Any


def _setup(fn: str, x: Any, axis: Any, temperature: Any, where: Any) -> Setup:
    return setup(fn, x, axis=axis, temperature=temperature, where=where)


def _probs(c: Setup, raw: Any, axis: Any, temperature: Any, where: Any) -> Array:
    """p from the library's softmax, in the compute dtype (edge cases inherited)."""
    return _maps.softmax(raw, axis=axis, temperature=temperature, where=where,
                         dtype=c.compute_dtype)


# --------------------------------------------------------------------------------------------
# The softmax formulas with their special rows (shared with the base-state derivatives)
# --------------------------------------------------------------------------------------------


def softmax_jvp_rows(c: Setup, p: Array, v: Array, rows: Rows) -> Array:
    """:func:`forms.softmax_jvp` in the input layout, dead rows 0 and NaN rows NaN."""
    return finish_rows(c, forms.softmax_jvp(c.xp, p, v, c.axes, divisor(c)), rows, same)


def softmax_jacobian_rows(c: Setup, p: Array, rows: Rows, *, final: bool = False) -> Array:
    """:func:`forms.softmax_jacobian`, batch + (n, n), dead rows 0 and NaN rows NaN.

    ``final``: the result is returned as is, so NumPy may write it in the output dtype
    directly (each entry rounded once from the compute dtype).
    """
    t = rows_divisor(c, divisor(c))
    j = forms.softmax_jacobian(c.xp, to_rows(c, p), t, out_dtype=c.out_dtype if final else None)
    return finish_rows(c, j, rows, rows_arranger(c, 1))


def softmax_hessian_rows(c: Setup, p: Array, rows: Rows) -> Array:
    """:func:`forms.softmax_hessian`, batch + (n, n, n), dead rows 0 and NaN rows NaN."""
    h = forms.softmax_hessian(c.xp, to_rows(c, p), rows_divisor(c, divisor(c)))
    return finish_rows(c, h, rows, rows_arranger(c, 2))


# --------------------------------------------------------------------------------------------
# NumPy fast path for the JVP/VJP of softmax and log_softmax
# --------------------------------------------------------------------------------------------

# Elements per block: the few float64 scratch rows of a block stay in L2, so the arithmetic
# after p reads p, v and x from memory once and writes the result once.
_NP_BLOCK = 1 << 14
_NP_PARALLEL_MIN = 1 << 16  # below this many elements, threads cost more than they give


def _float32_native(c: Setup, v: Any) -> bool:
    """Whether a softmax JVP/VJP runs in float32 itself (:func:`_np_softmax32`): float32
    NumPy logits and tangent, float32 out, the last axis, no mask, a finite positive
    scalar temperature."""
    raw = c.raw
    return (
        type(raw) is np.ndarray
        and raw.dtype == np.float32
        and raw.ndim > 0
        and np.dtype(c.out_dtype) == np.float32
        and isinstance(v, np.ndarray)
        and v.dtype == np.float32
        and c.axes == (raw.ndim - 1,)
        and c.mask is None
        and c.temp.kind in ("one", "scalar")
    )


# float32 elements per block of _np_softmax32 (512 KiB per work array). Measured on 1000 ×
# 1000, 4096 × 1024 and 20000 × 64: 2^17 and 2^18 were fastest; 2^15 cost 1.5-1.8× more
# (a block's dozen NumPy calls cost about 60 µs however small it is).
_NP32_BLOCK = 1 << 17


def _np_softmax32(c: Setup, v: np.ndarray) -> np.ndarray | None:
    r"""The softmax JVP/VJP of float32 data in float32, fused per block of rows:

    .. math:: p = e^{(x - \max x)/T} / \textstyle\sum e^{(x - \max x)/T}, \qquad
              w = v - v_k, \qquad \dot p = p \odot (w - \langle p, w\rangle) / T

    with ``k`` the pivot (the largest ``p`` when it exceeds 1/2, else no shift), as the float64
    path. Why float32 is enough: ``p_i`` has ``g_i = 8 + |x_i − max x|/T`` float32 eps of
    relative error at most (the exponent is rounded once, then one exp, a pairwise sum, one
    division); the pivot removes the one large cancellation (``p_k ≈ 1``:
    ``v_k − ⟨p, v⟩ = −Σ_{i≠k} p_i w_i``, small and accurate); ``⟨p, w⟩`` is a pairwise row
    sum (``O(log n)`` roundings). So each entry is within
    ``eps₃₂ · p_i (g_i (|w_i| + |⟨p, w⟩|) + Σ_j g_j p_j |w_j|) / T`` of the exact derivative
    at the float32 inputs, plus its own rounding (and a few subnormal units where ``p_i`` is
    subnormal); measured in tests/test_perf_paths.py against float64, the worst entry used
    half of that bound, and ``2.5e-7`` of the row's largest derivative. Returns None when a
    block holds a row the formula does not cover (+inf, NaN, all −inf, a non-finite tangent):
    the caller then takes the generic path, which resolves those rows.
    """
    raw = c.raw
    n = raw.shape[-1]
    rows = raw.size // n if n else 0
    if rows == 0:
        return None
    t = float(c.temp.value)
    if not (math.isfinite(t) and t > 0):
        return None
    xr = raw.reshape(rows, n)
    vr = np.broadcast_to(v, raw.shape).reshape(rows, n)
    out = np.empty((rows, n), dtype=np.float32)
    block = max(1, _NP32_BLOCK // n)

    def work(r0: int, r1: int) -> bool:
        pbuf = np.empty((block, n), dtype=np.float32)
        wbuf = np.empty((block, n), dtype=np.float32)
        for b0 in range(r0, r1, block):
            b1 = min(b0 + block, r1)
            nb = b1 - b0
            xb, vb, pb, wb = xr[b0:b1], vr[b0:b1], pbuf[:nb], wbuf[:nb]
            ob = out[b0:b1]
            k = np.argmax(xb, axis=1)
            ar = np.arange(nb)
            top = xb[ar, k]
            if not np.isfinite(top).all():  # +inf, NaN (argmax finds it) or empty rows
                return False
            np.subtract(xb, top[:, None], out=pb)
            if t != 1.0:
                pb /= np.float32(t)
            # e = exp((x − max)/T), unnormalised (e_k = 1): p = e/Z is never formed, the
            # 1/Z goes into the pivot test, ⟨p, w⟩ = ⟨e, w⟩/Z and the final scale.
            np.exp(pb, out=pb)
            total = np.sum(pb, axis=1)
            piv = np.where(total < 2.0, vb[ar, k], np.float32(0.0))  # p_k = 1/Z > 1/2
            np.subtract(vb, piv[:, None], out=wb)
            np.multiply(pb, wb, out=ob)
            s = np.sum(ob, axis=1)
            if not np.isfinite(s).all():  # NaN/inf tangents: the generic path decides
                return False
            s /= total
            np.subtract(wb, s[:, None], out=wb)
            np.multiply(pb, wb, out=ob)
            # one scale per row, 1/(Z T), rounded once from float64
            ob *= (1.0 / (total.astype(np.float64) * t)).astype(np.float32)[:, None]
        return True

    threads = _fast.num_threads() if raw.size >= _NP_PARALLEL_MIN else 1
    if threads <= 1 or rows < 2 * block:
        ok = work(0, rows)
    else:
        pieces = min(rows // block, 4 * threads)
        cuts = [(rows * i // pieces) // block * block for i in range(pieces)] + [rows]
        jobs = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
        futures = [_fast.executor().submit(work, a, b) for a, b in jobs]
        ok = all([f.result() for f in futures])
    return out.reshape(raw.shape) if ok else None


def _softmax_rowwise(c: Setup, x: Any, axis: Any, temperature: Any, where: Any,
                     v: Any) -> np.ndarray | None:
    """The NumPy fast paths of the softmax JVP/VJP: float32 data in float32
    (:func:`_np_softmax32`), else float64 (:func:`_np_rowwise`); None when the generic path
    must run."""
    if _float32_native(c, v):
        fast = _np_softmax32(c, v)
        if fast is not None:
            return fast
    p = _probs(c, x, axis, temperature, where)
    return _np_rowwise(c, "softmax", p, v)


def _np_rowwise(c: Setup, kind: str, p: Array, v: Any) -> np.ndarray | None:
    """``kind`` in {"softmax", "log_softmax_jvp", "log_softmax_vjp"} over the last axis of
    NumPy arrays, in cache-sized blocks of rows on the library's thread pool.

    The formulas are those of the generic path (same pivot, same order of the sums). Returns
    None for what it does not cover — masks, several or other axes, T = 0 or inf, and any
    block holding a special row (NaN, +inf, empty) or a non-finite tangent where it is
    ignored — and the caller then takes the generic path, which resolves those.
    """
    raw = c.raw
    nd = raw.ndim
    if (
        not isinstance(raw, np.ndarray)
        or not isinstance(v, np.ndarray)
        or not isinstance(p, np.ndarray)
        or nd == 0
        or c.axes != (nd - 1,)
        or c.mask is not None
        or c.temp.kind in ("zero", "inf")
        or np.dtype(c.compute_dtype) != np.float64
    ):
        return None
    n = raw.shape[-1]
    rows = raw.size // n
    xr = raw.reshape(rows, n)
    pr = p.reshape(rows, n)
    vr = np.broadcast_to(v, raw.shape).reshape(rows, n)
    t_scalar: float | None = None
    t_rows: np.ndarray | None = None
    if c.temp.kind == "scalar":
        t_scalar = float(c.temp.value)
    elif c.temp.kind == "array":
        t_rows = np.ascontiguousarray(np.asarray(c.temp.value, dtype=np.float64)).reshape(rows)
        if not (np.isfinite(t_rows) & (t_rows > 0)).all():
            return None
    out = np.empty((rows, n), dtype=c.out_dtype)
    block = max(1, _NP_BLOCK // n)

    def work(r0: int, r1: int) -> bool:
        w = np.empty((block, n))
        tmp = np.empty((block, n))
        for b0 in range(r0, r1, block):
            b1 = min(b0 + block, r1)
            nb = b1 - b0
            pb, vb, xb = pr[b0:b1], vr[b0:b1], xr[b0:b1]
            wb, tb = w[:nb], tmp[:nb]
            ar = np.arange(nb)
            k = np.argmax(pb, axis=1)
            # The largest probability sits on a +inf entry if the row has one, and on a −inf
            # entry if the row is empty: reading x there finds the special rows (a NaN row
            # has NaN p and is caught by the sums below) without another pass over x.
            if not np.isfinite(xb[ar, k]).all():
                return False
            neg = None
            if kind != "softmax" and not np.min(pb) > 0:
                # −inf entries have p = 0, so only a block with a zero reads x again
                neg = xb == -np.inf
                if not neg.any():
                    neg = None
            if kind == "log_softmax_vjp":
                np.copyto(wb, vb)
                if neg is not None:
                    np.putmask(wb, neg, 0.0)
                s = np.sum(wb, axis=1)
                np.multiply(pb, s[:, None], out=tb)
                np.subtract(wb, tb, out=wb)
            else:
                piv = np.where(pb[ar, k] > 0.5, vb[ar, k], 0.0)
                np.subtract(vb, piv[:, None], out=wb)
                if neg is not None:
                    np.putmask(wb, neg, 0.0)
                np.multiply(pb, wb, out=tb)
                s = np.sum(tb, axis=1)
                np.subtract(wb, s[:, None], out=wb)
                if kind == "softmax":
                    np.multiply(pb, wb, out=wb)
                elif neg is not None:
                    np.putmask(wb, neg, 0.0)
            if not np.isfinite(s).all():  # NaN/inf tangents: the generic path decides
                return False
            if t_scalar is not None and t_scalar != 1.0:
                wb /= t_scalar
            elif t_rows is not None:
                wb /= t_rows[b0:b1, None]
            out[b0:b1] = wb
        return True

    threads = _fast.num_threads() if raw.size >= _NP_PARALLEL_MIN else 1
    if threads <= 1 or rows < 2 * block:
        ok = work(0, rows)
    else:
        pieces = min(rows // block, 4 * threads)
        cuts = [(rows * i // pieces) // block * block for i in range(pieces)] + [rows]
        jobs = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
        futures = [_fast.executor().submit(work, a, b) for a, b in jobs]
        ok = all([f.result() for f in futures])
    return out.reshape(raw.shape) if ok else None


# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------


@quiet
def softmax_jvp(
    x: Any,
    v: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.softmax`: ``J @ v`` without forming J.

    .. math:: \dot p = p \odot (v - \langle p, v\rangle) / T

    Parameters
    ----------
    x : array_like
        Logits, any array-API array.
    v : array_like
        Tangent, broadcastable to ``x``'s shape (NumPy arrays and lists are converted to
        ``x``'s array library).
    axis, temperature, where
        As for :func:`~softmaxkit.softmax`.

    Returns
    -------
    array
        The directional derivative, shape and array kind of ``x``.

    Notes
    -----
    O(n) per row. Masked and −inf entries get 0 and their tangent entries are ignored; rows at
    T = 0, T = inf or holding +inf are locally constant (0); empty rows give 0, NaN rows NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_jvp
    >>> softmax_jvp(np.array([0.0, np.log(3.0)]), np.array([1.0, 0.0]))
    array([ 0.1875, -0.1875])
    >>> softmax_jvp(np.array([0.0, 1.0, -np.inf]), np.array([1.0, 0.0, np.inf]), temperature=2)
    array([ 0.11750186, -0.11750186,  0.        ])
    """
    c = _setup("softmax_jvp", x, axis, temperature, where)
    vv = tangent(c, v, "v", cast=False)
    if c.empty:
        return zeros_out(c, c.shape)
    fast = _softmax_rowwise(c, x, axis, temperature, where, vv)
    if fast is not None:
        return deliver(c, fast)
    p = _probs(c, x, axis, temperature, where)
    return deliver(c, softmax_jvp_rows(c, p, cast(c, vv), row_flags(c)))


@quiet
def softmax_vjp(
    x: Any,
    u: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.softmax`: ``u @ J`` without forming J.

    .. math:: \bar x = p \odot (u - \langle p, u\rangle) / T

    (the Jacobian of softmax is symmetric, so this is also the JVP).

    Parameters
    ----------
    x : array_like
        Logits.
    u : array_like
        Cotangent, broadcastable to the shape of the output (= ``x``'s shape).
    axis, temperature, where
        As for :func:`~softmaxkit.softmax`.

    Returns
    -------
    array
        The pulled-back cotangent, shape and array kind of ``x``.

    Notes
    -----
    Edge cases as in :func:`softmax_jvp`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_vjp
    >>> softmax_vjp(np.array([0.0, np.log(3.0)]), np.array([1.0, 0.0]))
    array([ 0.1875, -0.1875])
    """
    c = _setup("softmax_vjp", x, axis, temperature, where)
    uu = tangent(c, u, "u", cast=False)
    if c.empty:
        return zeros_out(c, c.shape)
    fast = _softmax_rowwise(c, x, axis, temperature, where, uu)
    if fast is not None:
        return deliver(c, fast)
    p = _probs(c, x, axis, temperature, where)
    return deliver(c, softmax_jvp_rows(c, p, cast(c, uu), row_flags(c)))


@quiet
def softmax_jacobian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.softmax`: :math:`J = (\operatorname{diag} p - p p^T)/T`.

    Parameters
    ----------
    x : array_like
        Logits.
    axis, temperature, where
        As for :func:`~softmaxkit.softmax`.

    Returns
    -------
    array
        Shape ``batch + (n, n)``, ``J[..., i, j] = ∂p_i/∂x_j``, the reduced axes moved last
        (several reduced axes are flattened in C order into one of length n).

    Notes
    -----
    The diagonal is evaluated as ``p_i (1 − p_i) / T`` with ``1 − p_i`` computed to full
    relative accuracy (as the sum of the other probabilities when ``p_i > 1/2``), so every
    entry is accurate to a few ulp relative. Masked and −inf entries have exactly-zero rows
    and columns; rows at T = 0, T = inf or with +inf entries are 0; NaN rows are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_jacobian
    >>> softmax_jacobian(np.array([0.0, np.log(3.0)]))
    array([[ 0.1875, -0.1875],
           [-0.1875,  0.1875]])
    >>> softmax_jacobian(np.array([[0.0, 0.0], [0.0, 0.0]]), where=np.array([True, False])).shape
    (2, 2, 2)
    """
    c = _setup("softmax_jacobian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    return deliver(c, softmax_jacobian_rows(c, p, row_flags(c), final=True))


@quiet
def softmax_hessian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.softmax`: ``H[..., i, j, k] = ∂²p_i/∂x_j∂x_k``.

    .. math::
        H_{ijk} = p_i\,(2 p_j p_k - \delta_{ij} p_k - \delta_{ik} p_j - \delta_{jk} p_j
        + \delta_{ij}\delta_{jk}) / T^2

    Parameters
    ----------
    x : array_like
        Logits.
    axis, temperature, where
        As for :func:`~softmaxkit.softmax`.

    Returns
    -------
    array
        Shape ``batch + (n, n, n)`` (the reduced axes moved last, see :func:`softmax_jacobian`).

    Notes
    -----
    Each case of the Kronecker deltas is evaluated in factored form (e.g. ``p_i (1 − p_i)
    (1 − 2 p_i)`` for ``i = j = k``). Edge cases as for :func:`softmax_jacobian`. Memory is
    O(n³) per row: meant for small n.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_hessian
    >>> h = softmax_hessian(np.array([0.0, np.log(3.0)]))
    >>> h[0]  # second derivatives of p_0 = 1/4
    array([[ 0.09375, -0.09375],
           [-0.09375,  0.09375]])
    """
    c = _setup("softmax_hessian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    return deliver(c, softmax_hessian_rows(c, p, row_flags(c)))


# --------------------------------------------------------------------------------------------
# log_softmax
# --------------------------------------------------------------------------------------------


@quiet
def log_softmax_jvp(
    x: Any,
    v: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.log_softmax`.

    .. math:: \dot y = (v - \langle p, v\rangle) / T

    on the entries that take part (0 on masked and −inf entries, whose log-probability is the
    constant −inf).

    Parameters
    ----------
    x, v, axis, temperature, where
        As for :func:`softmax_jvp`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    Rows at T = 0, T = inf or holding +inf are constant (0); empty rows give 0, NaN rows NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_softmax_jvp
    >>> log_softmax_jvp(np.array([0.0, np.log(3.0), -np.inf]), np.array([1.0, 0.0, 5.0]))
    array([ 0.75, -0.25,  0.  ])
    """
    c = _setup("log_softmax_jvp", x, axis, temperature, where)
    vv = tangent(c, v, "v", cast=False)
    if c.empty:
        return zeros_out(c, c.shape)
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "log_softmax_jvp", p, vv)
    if fast is not None:
        return deliver(c, fast)
    x = c.x
    d = forms.log_softmax_jvp(xp, p, cast(c, vv), kept_entries(c, x), c.axes, divisor(c))
    return deliver(c, finish_rows(c, d, row_flags(c, x), same))


@quiet
def log_softmax_vjp(
    x: Any,
    u: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.log_softmax`.

    .. math:: \bar x = (u - p \textstyle\sum_i u_i) / T

    with ``u`` taken as 0 on masked and −inf entries (their outputs are constant).

    Parameters
    ----------
    x, u, axis, temperature, where
        As for :func:`softmax_vjp`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_softmax_vjp
    >>> log_softmax_vjp(np.array([0.0, np.log(3.0)]), np.array([1.0, 0.0]))
    array([ 0.75, -0.75])
    """
    c = _setup("log_softmax_vjp", x, axis, temperature, where)
    uu = tangent(c, u, "u", cast=False)
    if c.empty:
        return zeros_out(c, c.shape)
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "log_softmax_vjp", p, uu)
    if fast is not None:
        return deliver(c, fast)
    x = c.x
    d = forms.log_softmax_vjp(xp, p, cast(c, uu), kept_entries(c, x), c.axes, divisor(c))
    return deliver(c, finish_rows(c, d, row_flags(c, x), same))


@quiet
def log_softmax_jacobian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.log_softmax`: :math:`J_{ij} = (\delta_{ij} - p_j)/T`.

    Parameters
    ----------
    x, axis, temperature, where
        As for :func:`softmax_jacobian`.

    Returns
    -------
    array
        Shape ``batch + (n, n)``, ``J[..., i, j] = ∂ log p_i / ∂x_j``.

    Notes
    -----
    Rows of masked and −inf entries are 0 (their output is the constant −inf), and so are
    their columns (p_j = 0). The diagonal ``1 − p_i`` is computed to full relative accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_softmax_jacobian
    >>> log_softmax_jacobian(np.array([0.0, np.log(3.0), -np.inf]))
    array([[ 0.75, -0.75,  0.  ],
           [-0.25,  0.25,  0.  ],
           [ 0.  ,  0.  ,  0.  ]])
    """
    c = _setup("log_softmax_jacobian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    x = c.x
    t = rows_divisor(c, divisor(c))
    j = forms.log_softmax_jacobian(c.xp, to_rows(c, p), to_rows(c, kept_entries(c, x)), t)
    return deliver(c, finish_rows(c, j, row_flags(c, x), rows_arranger(c, 1)))


@quiet
def log_softmax_hessian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.log_softmax`.

    .. math:: H_{ijk} = -\,p_j (\delta_{jk} - p_k) / T^2

    for every entry i that takes part (the same matrix for every i: minus the softmax
    Jacobian over T); 0 for masked and −inf entries.

    Parameters
    ----------
    x, axis, temperature, where
        As for :func:`softmax_jacobian`.

    Returns
    -------
    array
        Shape ``batch + (n, n, n)``, ``H[..., i, j, k] = ∂² log p_i / ∂x_j ∂x_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_softmax_hessian
    >>> log_softmax_hessian(np.array([0.0, np.log(3.0)]))[1]
    array([[-0.1875,  0.1875],
           [ 0.1875, -0.1875]])
    """
    c = _setup("log_softmax_hessian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    x = c.x
    t = rows_divisor(c, divisor(c))
    h = forms.log_softmax_hessian(c.xp, to_rows(c, p), to_rows(c, kept_entries(c, x)), t)
    return deliver(c, finish_rows(c, h, row_flags(c, x), rows_arranger(c, 2)))


# --------------------------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------------------------


def _lse_weights(c: Setup, x: Any, axis: Any, temperature: Any, where: Any, b: Any) -> Array:
    """∂ logsumexp / ∂x: softmax, or with weights b the normalised ``b p / Σ b p``."""
    if b is None:
        return _probs(c, x, axis, temperature, where)
    w = tangent(c, b, "b")
    nz = w != 0
    keep = nz if c.mask is None else (c.mask & nz)
    p = _maps.softmax(x, axis=axis, temperature=temperature, where=keep, dtype=c.compute_dtype)
    return forms.logsumexp_weighted_grad(c.xp, p, w, c.axes)


def _reduced_cotangent(c: Setup, u: Any) -> Array:
    """A cotangent of logsumexp's output, returned with kept dims.

    ``u`` broadcasts to the reduced shape; with as many dimensions as ``x`` it is read with
    the reduced axes kept (length 1), with fewer as the output's shape without them.
    """
    xp = c.xp
    kept = reduced_shape(c.shape, c.axes)
    dropped = tuple(d for i, d in enumerate(c.shape) if i not in c.axes)
    arr = as_namespace(c, u, "u")
    shape = tuple(arr.shape)
    target = kept if len(shape) == len(c.shape) else dropped
    try:
        ok = np.broadcast_shapes(shape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{c.fn}: u of shape {shape} does not broadcast to logsumexp's output shape "
            f"{dropped} (or {kept} with kept dims)"
        )
    return xp.reshape(xp.broadcast_to(arr, target), kept)


@quiet
def logsumexp_jvp(
    x: Any,
    v: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.logsumexp`: :math:`\langle p, v\rangle`.

    Parameters
    ----------
    x, v : array_like
        Logits and a tangent broadcastable to ``x``'s shape.
    axis, temperature, where, b, keepdims
        As for :func:`~softmaxkit.logsumexp`. With weights ``b`` the gradient is
        ``b p / Σ b p`` (p the softmax over the entries with nonzero weight).

    Returns
    -------
    array
        The reduced shape (kept dims with ``keepdims``), like the map's output.

    Notes
    -----
    The gradient is ``softmax(x, temperature=T)`` in every row, limits included (hardmax at
    T = 0, uniform at T = inf, the share of the +inf entries); tangent entries where it is 0
    are ignored; an empty row gives 0, a NaN row NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logsumexp_jvp
    >>> logsumexp_jvp(np.array([0.0, np.log(3.0)]), np.array([1.0, 0.0]))
    np.float64(0.25)
    """
    c = _setup("logsumexp_jvp", x, axis, temperature, where)
    vv = tangent(c, v, "v")
    xp = c.xp
    if c.empty:
        shape = reduced_shape(c.shape, c.axes)
        z = zeros_out(c, shape)
        return z if keepdims else squeeze_axes(xp, z, c.axes)
    w = _lse_weights(c, x, axis, temperature, where, b)
    out = forms.logsumexp_jvp(xp, w, vv, c.axes)
    if not keepdims:
        out = squeeze_axes(xp, out, c.axes)
    return deliver(c, out, scalar=True)


@quiet
def logsumexp_vjp(
    x: Any,
    u: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.logsumexp`: :math:`\bar x = u\,p`.

    Parameters
    ----------
    x : array_like
        Logits.
    u : array_like
        Cotangent of the output: broadcastable to the reduced shape, with or without the
        reduced axes kept as length 1.
    axis, temperature, where, b
        As for :func:`logsumexp_jvp`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logsumexp_vjp
    >>> logsumexp_vjp(np.array([[0.0, np.log(3.0)], [0.0, 0.0]]), np.array([2.0, 1.0]))
    array([[0.5, 1.5],
           [0.5, 0.5]])
    """
    c = _setup("logsumexp_vjp", x, axis, temperature, where)
    uu = _reduced_cotangent(c, u)
    if c.empty:
        return zeros_out(c, c.shape)
    w = _lse_weights(c, x, axis, temperature, where, b)
    return deliver(c, forms.logsumexp_vjp(c.xp, w, uu))


@quiet
def logsumexp_jacobian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
) -> Array:
    r"""Gradient of :func:`~softmaxkit.logsumexp`: ``softmax(x, temperature=T)``.

    Parameters
    ----------
    x, axis, temperature, where, b
        As for :func:`logsumexp_jvp`.

    Returns
    -------
    array
        Shape ``batch + (n,)``: the reduced axes moved last (and flattened when several).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logsumexp_jacobian
    >>> logsumexp_jacobian(np.array([[0.0, np.log(3.0)]]), axis=1)
    array([[0.25, 0.75]])
    >>> logsumexp_jacobian(np.array([[0.0], [np.log(3.0)]]), axis=0)  # reduced axis moved last
    array([[0.25, 0.75]])
    """
    c = _setup("logsumexp_jacobian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n))
    return deliver(c, to_rows(c, _lse_weights(c, x, axis, temperature, where, b)))


@quiet
def logsumexp_hessian(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.logsumexp`: :math:`(\operatorname{diag} p - p p^T)/T`.

    The softmax Jacobian (with weights, of ``w = b p / Σ b p``).

    Parameters
    ----------
    x, axis, temperature, where, b
        As for :func:`logsumexp_jvp`.

    Returns
    -------
    array
        Shape ``batch + (n, n)``.

    Notes
    -----
    0 in rows where the gradient is locally constant: T = 0, T = inf, rows holding +inf;
    masked and −inf entries have zero rows and columns; NaN rows are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logsumexp_hessian
    >>> logsumexp_hessian(np.array([0.0, np.log(3.0) / 2]), temperature=0.5)
    array([[ 0.375, -0.375],
           [-0.375,  0.375]])
    """
    c = _setup("logsumexp_hessian", x, axis, temperature, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n))
    w = _lse_weights(c, x, axis, temperature, where, b)
    return deliver(c, softmax_jacobian_rows(c, w, row_flags(c), final=True))


# --------------------------------------------------------------------------------------------
# hardmax
# --------------------------------------------------------------------------------------------


def _hardmax_zeros(fn: str, x: Any, axis: Any, where: Any, kind: str) -> Array:
    c = _setup(fn, x, axis, 1.0, where)
    n, batch = c.n, c.batch
    shape = {
        "vec": c.shape,
        "jac": (*batch, n, n),
        "hess": (*batch, n, n, n),
    }[kind]
    z = zeros_out(c, shape)
    if c.empty:
        return z
    rows = row_flags(c, temperature_kills=False)
    if rows.nan is False:
        return deliver(c, z)
    xp = c.xp
    nan = rows.nan if kind == "vec" else rows_arranger(c, 1 if kind == "jac" else 2)(rows.nan)
    return deliver(c, xp.where(nan, full_like_scalar(xp, z, math.nan), z))


def hardmax_jvp(
    x: Any, v: Any, /, *, axis: int | tuple[int, ...] | None = -1, where: Any = None
) -> Array:
    """Forward-mode derivative of :func:`~softmaxkit.hardmax`: zero.

    hardmax is piecewise constant, so its derivative is 0 almost everywhere; at ties, where it
    is undefined, 0 is returned too. Rows holding NaN give NaN.

    Parameters
    ----------
    x, v : array_like
        Logits and a tangent broadcastable to ``x``'s shape (validated, otherwise unused).
    axis, where
        As for :func:`~softmaxkit.hardmax`.

    Returns
    -------
    array
        Zeros of ``x``'s shape (NaN in rows holding NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import hardmax_jvp
    >>> hardmax_jvp(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    array([0., 0.])
    """
    c = _setup("hardmax_jvp", x, axis, 1.0, where)
    tangent(c, v, "v")
    return _hardmax_zeros("hardmax_jvp", x, axis, where, "vec")


def hardmax_vjp(
    x: Any, u: Any, /, *, axis: int | tuple[int, ...] | None = -1, where: Any = None
) -> Array:
    """Reverse-mode derivative of :func:`~softmaxkit.hardmax`: zero (see :func:`hardmax_jvp`).

    Parameters
    ----------
    x, u : array_like
        Logits and a cotangent broadcastable to ``x``'s shape (validated, otherwise unused).
    axis, where
        As for :func:`~softmaxkit.hardmax`.

    Returns
    -------
    array
        Zeros of ``x``'s shape (NaN in rows holding NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import hardmax_vjp
    >>> hardmax_vjp(np.array([[1.0, 3.0], [np.nan, 0.0]]), np.ones((2, 2)))
    array([[ 0.,  0.],
           [nan, nan]])
    """
    c = _setup("hardmax_vjp", x, axis, 1.0, where)
    tangent(c, u, "u")
    return _hardmax_zeros("hardmax_vjp", x, axis, where, "vec")


def hardmax_jacobian(
    x: Any, /, *, axis: int | tuple[int, ...] | None = -1, where: Any = None
) -> Array:
    """Jacobian of :func:`~softmaxkit.hardmax`: zero almost everywhere (see :func:`hardmax_jvp`).

    Parameters
    ----------
    x, axis, where
        As for :func:`~softmaxkit.hardmax`.

    Returns
    -------
    array
        Zeros of shape ``batch + (n, n)`` (NaN in rows holding NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import hardmax_jacobian
    >>> hardmax_jacobian(np.array([1.0, 3.0]))
    array([[0., 0.],
           [0., 0.]])
    """
    return _hardmax_zeros("hardmax_jacobian", x, axis, where, "jac")


def hardmax_hessian(
    x: Any, /, *, axis: int | tuple[int, ...] | None = -1, where: Any = None
) -> Array:
    """Hessian of :func:`~softmaxkit.hardmax`: zero almost everywhere (see :func:`hardmax_jvp`).

    Parameters
    ----------
    x, axis, where
        As for :func:`~softmaxkit.hardmax`.

    Returns
    -------
    array
        Zeros of shape ``batch + (n, n, n)`` (NaN in rows holding NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import hardmax_hessian
    >>> hardmax_hessian(np.array([1.0, 3.0])).shape
    (2, 2, 2)
    """
    return _hardmax_zeros("hardmax_hessian", x, axis, where, "hess")

