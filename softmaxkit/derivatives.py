r"""Closed-form derivatives of every map: Jacobian, Hessian, JVP and VJP.

Nothing here differentiates numerically: every derivative is a formula in the map's own output
(the probabilities ``p = softmax(x, temperature=T)``, computed by the library so that every edge
case is inherited), evaluated with array-API calls only, so it runs on NumPy, PyTorch, JAX and
Dask arrays and returns the same kind of array.

Shapes
------
A map reduces over ``axis`` (an int, a tuple of ints or None); the other axes are a batch.

* ``*_jvp(x, v)`` (forward mode, ``J @ v``) and ``*_vjp(x, u)`` (reverse mode, ``u @ J``) take
  and return arrays in the layout of the map's input and output; they cost O(n) per row and
  never form the Jacobian.
* ``*_jacobian(x)`` has shape ``batch + (m, n)`` with ``J[..., i, j] = ∂y_i / ∂x_j``: the reduced
  axes are moved to the end (as ``numpy.moveaxis`` would) and, when there are several, flattened
  in C order into one axis of length n (m for the output, which differs from n only for the
  base-state maps and is absent for the scalar logsumexp).
* ``*_hessian(x)`` has shape ``batch + (m, n, n)`` with ``H[..., i, j, k] = ∂²y_i / ∂x_j ∂x_k``
  (``batch + (n, n)`` for logsumexp).

Temperature and edge cases
--------------------------
``temperature`` is a number or an array broadcastable against the reduced shape, as for the
maps. Each derivative is the derivative of the map as the library computes it:

* masked (``where=False``) and −inf entries are constant (probability 0, log-probability −inf):
  their rows and columns of J are exactly 0, never NaN, and tangent entries there are ignored
  even when they are not finite;
* ``T = 0`` (hardmax) and ``T = inf`` (uniform) make softmax and log_softmax locally constant:
  derivative 0. The same holds for a row holding +inf entries (the mass stays on them);
* an empty row (every entry masked or −inf) has derivative 0; a row holding NaN gives NaN in its
  derivative, and only there;
* logsumexp's gradient is ``softmax(x, temperature=T)`` in every row, including its limits
  (hardmax at ``T = 0``, uniform at ``T = inf``, shared among +inf entries); its Hessian is 0
  where softmax is constant.

hardmax is piecewise constant, so its derivatives are 0 almost everywhere (and undefined at
ties, where 0 is returned as well).

Accuracy and speed
------------------
Jacobian and Hessian entries are evaluated in factored forms (``1 − p_i`` as the sum of the
other probabilities when ``p_i > 1/2``), so each is within a few ulp of the exact derivative at
the given floats; ``v − ⟨p, v⟩`` in the JVP/VJP is shifted by ``v`` at the dominant entry, so
it does not lose the small probabilities to cancellation when one ``p_i`` is near 1. NumPy
input reduced over its last axis without a mask takes a blocked, multi-threaded path for the
JVP/VJP of softmax and log_softmax (same formulas; special rows fall back to the generic path).

Examples
--------
>>> import numpy as np
>>> import softmaxkit as sk
>>> x = np.array([1.0, 2.0, 3.0])
>>> sk.jvp(sk.softmax, x, np.array([1.0, 0.0, 0.0]))
array([ 0.08192507, -0.02203304, -0.05989202])
>>> sk.jacobian(sk.logsumexp, x)  # the gradient of logsumexp is softmax
array([0.09003057, 0.24472847, 0.66524096])
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit import maps as _maps
from softmaxkit._base.arrays import delete, insert, rmax, rsum
from softmaxkit._base.core import (
    Temperature,
    finish,
    full_like_scalar,
    is_lazy,
    normalize_axis,
    parse_temperature,
    prepare,
    prepare_mask,
    quiet,
    reduced_shape,
    squeeze_axes,
)

__all__ = [
    "base_logits_hessian",
    "base_logits_jacobian",
    "base_logits_jvp",
    "base_logits_vjp",
    "base_softmax_hessian",
    "base_softmax_jacobian",
    "base_softmax_jvp",
    "base_softmax_vjp",
    "hardmax_hessian",
    "hardmax_jacobian",
    "hardmax_jvp",
    "hardmax_vjp",
    "hessian",
    "inverse_softmax_hessian",
    "inverse_softmax_jacobian",
    "inverse_softmax_jvp",
    "inverse_softmax_vjp",
    "jacobian",
    "jvp",
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
    "vjp",
]

Array = Any




# --------------------------------------------------------------------------------------------
# Setup shared by every derivative
# --------------------------------------------------------------------------------------------


class _Ctx:
    """A validated input: namespace, dtypes, reduced axes, temperature and mask.

    ``x`` (the input in the compute dtype) is converted on first use, so that the NumPy fast
    path, which converts block by block, never pays for a full-size copy.
    """

    def __init__(
        self,
        fn: str,
        xp: Any,
        raw: Array,
        axes: tuple[int, ...],
        temp: Temperature,
        mask: Array | None,
        dtype: Any,
        out_dtype: Any,
    ) -> None:
        self.fn, self.xp, self.raw, self.axes = fn, xp, raw, axes
        self.temp, self.mask, self.dtype, self.out_dtype = temp, mask, dtype, out_dtype

    @functools.cached_property
    def x(self) -> Array:
        if self.raw.dtype == self.dtype:
            return self.raw
        return self.xp.astype(self.raw, self.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.raw.shape)

    @property
    def n(self) -> int:
        return math.prod(self.shape[a] for a in self.axes)

    @property
    def batch(self) -> tuple[int, ...]:
        return tuple(d for i, d in enumerate(self.shape) if i not in self.axes)

    @property
    def device(self) -> Any:
        return array_api_compat.device(self.raw)

    @property
    def empty(self) -> bool:
        return math.prod(self.shape) == 0


def _setup(fn: str, x: Any, axis: Any, temperature: Any, where: Any, name: str = "x") -> _Ctx:
    prep = prepare(x, name=name, fn=fn)
    xp, raw = prep.xp, prep.raw
    axes = normalize_axis(axis, raw.ndim, fn=fn)
    shape = tuple(raw.shape)
    device = array_api_compat.device(raw)
    temp = parse_temperature(
        temperature, xp, reduced_shape(shape, axes), prep.compute_dtype, device, fn=fn
    )
    mask = prepare_mask(where, xp, shape, device, fn=fn)
    return _Ctx(fn, xp, raw, axes, temp, mask, prep.compute_dtype, prep.out_dtype)


def _as_namespace(c: _Ctx, a: Any, name: str, cast: bool = True) -> Array:
    """``a`` validated as a real array of ``c``'s namespace (in the compute dtype if ``cast``)."""
    prep = prepare(a, name=name, fn=c.fn)
    arr = prep.raw
    if prep.xp is not c.xp:
        if not isinstance(arr, np.ndarray):
            raise TypeError(
                f"{c.fn}: {name} is a {type(arr).__module__}.{type(arr).__name__} but the input "
                f"is a {type(c.raw).__module__}.{type(c.raw).__name__}; pass both from the same "
                "array library"
            )
        arr = c.xp.asarray(arr, device=c.device)
    if cast and arr.dtype != c.dtype:
        arr = c.xp.astype(arr, c.dtype)
    return arr


def _tangent(
    c: _Ctx, v: Any, name: str, shape: tuple[int, ...] | None = None, cast: bool = True
) -> Array:
    """A tangent or cotangent: an array broadcastable to ``shape`` (default: the input's)."""
    shape = c.shape if shape is None else shape
    arr = _as_namespace(c, v, name, cast)
    try:
        target = np.broadcast_shapes(tuple(arr.shape), shape)
    except ValueError:
        target = None
    if target != shape:
        raise ValueError(
            f"{c.fn}: {name} of shape {tuple(arr.shape)} does not broadcast to the shape "
            f"{shape} it must have"
        )
    return c.xp.broadcast_to(arr, shape)


def _cast(c: _Ctx, a: Array) -> Array:
    return a if a.dtype == c.dtype else c.xp.astype(a, c.dtype)


def _probs(c: _Ctx, raw: Any, axis: Any, temperature: Any, where: Any) -> Array:
    """p from the library's softmax, in the compute dtype (edge cases inherited)."""
    return _maps.softmax(raw, axis=axis, temperature=temperature, where=where, dtype=c.dtype)


# --------------------------------------------------------------------------------------------
# Row helpers: reductions, special rows, temperature, layout
# --------------------------------------------------------------------------------------------


def _surely_false(xp: Any, cond: Any) -> bool:
    """True when ``cond`` is False or an inspectable all-False array (lazy arrays: unknown)."""
    if cond is False:
        return True
    if cond is True or is_lazy(cond):
        return False
    return not bool(xp.any(cond))


@dataclass(frozen=True)
class _Rows:
    """Per-row flags in the kept-dims shape: ``dead`` rows have derivative 0, ``nan`` rows NaN."""

    dead: Any  # array of bool or False
    nan: Any  # array of bool or False


def _row_flags(c: _Ctx, x: Array | None = None, *, temperature_kills: bool = True) -> _Rows:
    """Rows where the map is locally constant (+inf entries; T = 0 or inf) and rows with NaN."""
    xp = c.xp
    x = c.x if x is None else x
    if c.mask is not None:
        x = xp.where(c.mask, x, full_like_scalar(xp, x, -math.inf))
    m = rmax(xp, x, c.axes)
    nan = xp.isnan(m)
    dead = m == math.inf
    if temperature_kills:
        temp = c.temp
        if temp.kind in ("zero", "inf"):
            dead = xp.ones_like(dead)
        elif temp.kind == "array":
            t = temp.value
            dead = dead | (t == 0) | xp.isinf(t)
    dead = dead & ~nan
    return _Rows(
        False if _surely_false(xp, dead) else dead, False if _surely_false(xp, nan) else nan
    )


def _finish_rows(c: _Ctx, a: Array, rows: _Rows, arrange: Callable[[Array], Array]) -> Array:
    """Zero the dead rows and make the NaN rows NaN (flags mapped to ``a``'s layout)."""
    xp = c.xp
    if rows.dead is not False:
        a = xp.where(arrange(rows.dead), full_like_scalar(xp, a, 0.0), a)
    if rows.nan is not False:
        a = xp.where(arrange(rows.nan), full_like_scalar(xp, a, math.nan), a)
    return a


def _over_t(c: _Ctx, a: Array, arrange: Callable[[Array], Array], power: int = 1) -> Array:
    """``a / T**power`` (dividing ``power`` times, which cannot overflow T**power). Rows at
    T = 0 or inf are left as they are: they are dead and zeroed by :func:`_finish_rows`."""
    temp = c.temp
    if temp.kind == "scalar":
        t = float(temp.value)
        for _ in range(power):
            a = a / t
    elif temp.kind == "array":
        xp = c.xp
        t = temp.value
        t = arrange(xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t))
        for _ in range(power):
            a = a / t
    return a


def _times_t(c: _Ctx, a: Array, arrange: Callable[[Array], Array]) -> Array:
    temp = c.temp
    if temp.kind == "scalar":
        return a * float(temp.value)
    if temp.kind == "array":
        return a * arrange(temp.value)
    return a


def _same(a: Array) -> Array:
    return a


def _to_rows(c: _Ctx, a: Array) -> Array:
    """Move the reduced axes of ``a`` (input layout, or kept dims) last and flatten them:
    ``batch + (n,)``, or ``batch + (1,)`` for kept-dims arrays."""
    xp = c.xp
    nd = len(c.shape)
    if not c.axes:
        return xp.reshape(a, (*c.batch, 1))
    k = len(c.axes)
    moved = xp.moveaxis(a, c.axes, tuple(range(nd - k, nd)))
    return xp.reshape(moved, (*c.batch, math.prod(moved.shape[nd - k :])))


def _rows_arranger(c: _Ctx, extra: int) -> Callable[[Array], Array]:
    """Map kept-dims per-row arrays to ``batch + (1,) * (1 + extra)`` for matrix layouts."""

    def arrange(a: Array) -> Array:
        r = _to_rows(c, a)
        for _ in range(extra):
            r = c.xp.expand_dims(r, axis=-1)
        return r

    return arrange


def _eye(c: _Ctx, n: int) -> Array:
    i = c.xp.arange(n, device=c.device)
    return c.xp.expand_dims(i, axis=1) == c.xp.expand_dims(i, axis=0)


def _col(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-1)


def _row(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-2)


def _complement(xp: Any, p: Array) -> Array:
    """1 − p along the last axis, to full relative accuracy.

    ``1 − p`` is exact arithmetic on a rounded p, so for p near 1 it keeps only the absolute
    accuracy of p. The one entry above 1/2 gets the sum of the other probabilities instead,
    which equals 1 − p to a few ulp relative.
    """
    big = p > 0.5
    rest = xp.sum(xp.where(big, full_like_scalar(xp, p, 0.0), p), axis=-1, keepdims=True)
    return xp.where(big, rest, 1.0 - p)


def _zeros_out(c: _Ctx, shape: tuple[int, ...]) -> Array:
    return c.xp.zeros(shape, dtype=c.out_dtype, device=c.device)


def _out(c: _Ctx, a: Array, *, scalar: bool = False) -> Array:
    """The result in the output dtype; ``scalar``: a 0-d NumPy result as a NumPy scalar (like
    logsumexp's own reductions). Adding +0 turns the −0 of products like ``0 · (−p)`` (the
    entries of masked and −inf coordinates) into +0."""
    a = finish(c.xp, a + 0.0, c.out_dtype)
    if scalar and isinstance(a, np.ndarray) and a.ndim == 0:
        return a[()]
    return a


# --------------------------------------------------------------------------------------------
# Softmax-family kernels on probabilities
# --------------------------------------------------------------------------------------------


def _pivot(c: _Ctx, p: Array, v: Array) -> Array:
    """v at the row's dominant entry (the one with p > 1/2, if any; else 0), kept dims.

    ``v − ⟨p, v⟩`` is shift invariant, and shifting by this value removes its cancellation:
    when p_k ≈ 1 the exact ``v_k − ⟨p, v⟩ = Σ_{j≠k} p_j (v_k − v_j)`` is small, and forming it
    as a difference of two O(|v|) numbers would leave an error of ulp·|v| on it. After the
    shift ``⟨p, v⟩`` is a sum over the small, accurately known p_j only.
    """
    xp = c.xp
    return rsum(xp, xp.where(p > 0.5, v, full_like_scalar(xp, v, 0.0)), c.axes)


def _softmax_jvp_p(c: _Ctx, p: Array, v: Array, rows: _Rows) -> Array:
    """p ⊙ (v − ⟨p, v⟩) / T in the input layout (the Jacobian is symmetric: also the VJP)."""
    xp = c.xp
    v0 = xp.where(p != 0, v - _pivot(c, p, v), full_like_scalar(xp, v, 0.0))
    s = rsum(xp, p * v0, c.axes)
    out = _over_t(c, p * (v0 - s), _same)
    return _finish_rows(c, out, rows, _same)


def _softmax_jacobian_p(c: _Ctx, p: Array, rows: _Rows, *, final: bool = False) -> Array:
    """(diag p − p pᵀ) / T, batch + (n, n); the diagonal as p (1 − p) with 1 − p accurate.

    ``final``: the result is returned as is, so NumPy may write it in the output dtype
    directly (each entry rounded once from the compute dtype).
    """
    xp = c.xp
    pr = _to_rows(c, p)
    arrange = _rows_arranger(c, 1)
    if isinstance(pr, np.ndarray):
        # One pass over the n² entries instead of three: T folded into the O(n) factor
        # (the same two roundings as dividing the product), the diagonal set in place.
        a = _over_t(c, pr, _rows_arranger(c, 0))
        j = np.empty((*pr.shape, pr.shape[-1]), dtype=c.out_dtype if final else pr.dtype)
        np.multiply(-a[..., :, None], pr[..., None, :], out=j)
        idx = np.arange(pr.shape[-1])
        j[..., idx, idx] = a * _complement(xp, pr)
        return _finish_rows(c, j, rows, arrange)
    j = -(_col(xp, pr) * _row(xp, pr))
    j = xp.where(_eye(c, pr.shape[-1]), _col(xp, pr * _complement(xp, pr)), j)
    return _finish_rows(c, _over_t(c, j, arrange), rows, arrange)


def _softmax_hessian_rows(c: _Ctx, pr: Array) -> Array:
    """T² ∂²p_i/∂x_j∂x_k = p_i (2 p_j p_k − δ_ij p_k − δ_ik p_j − δ_jk p_j + δ_ijk),

    evaluated case by case in factored form so that nothing cancels that the exact value
    does not: 2 p_i p_j p_k off every diagonal, p_i p_k (2 p_i − 1) for i = j ≠ k (and its
    mirror images), p_i (1 − p_i)(1 − 2 p_i) for i = j = k.
    """
    xp = c.xp
    n = pr.shape[-1]
    pi = _col(xp, _col(xp, pr))
    pj = _col(xp, _row(xp, pr))
    pk = _row(xp, _row(xp, pr))
    eye = _eye(c, n)
    ij = xp.expand_dims(eye, axis=2)
    ik = xp.expand_dims(eye, axis=1)
    jk = xp.expand_dims(eye, axis=0)
    h = 2.0 * pi * pj * pk
    h = xp.where(ij & ~jk, pi * pk * (2.0 * pi - 1.0), h)
    h = xp.where(ik & ~jk, pi * pj * (2.0 * pi - 1.0), h)
    h = xp.where(jk & ~ij, pi * pj * (2.0 * pj - 1.0), h)
    ci = _col(xp, _col(xp, _complement(xp, pr)))
    return xp.where(ij & jk, pi * ci * (1.0 - 2.0 * pi), h)


def _softmax_hessian_p(c: _Ctx, p: Array, rows: _Rows) -> Array:
    h = _softmax_hessian_rows(c, _to_rows(c, p))
    arrange = _rows_arranger(c, 2)
    return _finish_rows(c, _over_t(c, h, arrange, power=2), rows, arrange)


def _kept(c: _Ctx) -> Array:
    """Entries that take part (not masked, not −inf); NaN and +inf entries count as kept so
    that their rows stay NaN, or are zeroed as dead rows."""
    keep = c.x != -math.inf
    if c.mask is not None:
        keep = keep & c.mask
    return keep


# --------------------------------------------------------------------------------------------
# NumPy fast path for the JVP/VJP of softmax and log_softmax
# --------------------------------------------------------------------------------------------

# Elements per block: the few float64 scratch rows of a block stay in L2, so the arithmetic
# after p reads p, v and x from memory once and writes the result once.
_NP_BLOCK = 1 << 14
_NP_PARALLEL_MIN = 1 << 16  # below this many elements, threads cost more than they give


def _np_rowwise(c: _Ctx, kind: str, p: Array, v: Any) -> np.ndarray | None:
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
        or np.dtype(c.dtype) != np.float64
    ):
        return None
    from softmaxkit._base import fast as _fast

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
            if t_scalar is not None:
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
        futures = [_fast._executor().submit(work, a, b) for a, b in jobs]
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
    vv = _tangent(c, v, "v", cast=False)
    if c.empty:
        return _zeros_out(c, c.shape)
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "softmax", p, vv)
    if fast is not None:
        return _out(c, fast)
    return _out(c, _softmax_jvp_p(c, p, _cast(c, vv), _row_flags(c)))


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
    uu = _tangent(c, u, "u", cast=False)
    if c.empty:
        return _zeros_out(c, c.shape)
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "softmax", p, uu)
    if fast is not None:
        return _out(c, fast)
    return _out(c, _softmax_jvp_p(c, p, _cast(c, uu), _row_flags(c)))


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
        return _zeros_out(c, (*c.batch, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    return _out(c, _softmax_jacobian_p(c, p, _row_flags(c), final=True))


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
        return _zeros_out(c, (*c.batch, c.n, c.n, c.n))
    p = _probs(c, x, axis, temperature, where)
    return _out(c, _softmax_hessian_p(c, p, _row_flags(c)))


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
    vv = _tangent(c, v, "v", cast=False)
    if c.empty:
        return _zeros_out(c, c.shape)
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "log_softmax_jvp", p, vv)
    if fast is not None:
        return _out(c, fast)
    vv = _cast(c, vv)
    keep = _kept(c)
    zero = full_like_scalar(xp, vv, 0.0)
    v0 = xp.where(keep, vv - _pivot(c, p, vv), zero)
    s = rsum(xp, p * v0, c.axes)
    out = _over_t(c, xp.where(keep, v0 - s, zero), _same)
    return _out(c, _finish_rows(c, out, _row_flags(c), _same))


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
    uu = _tangent(c, u, "u", cast=False)
    if c.empty:
        return _zeros_out(c, c.shape)
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    fast = _np_rowwise(c, "log_softmax_vjp", p, uu)
    if fast is not None:
        return _out(c, fast)
    uu = _cast(c, uu)
    u0 = xp.where(_kept(c), uu, full_like_scalar(xp, uu, 0.0))
    out = _over_t(c, u0 - p * rsum(xp, u0, c.axes), _same)
    return _out(c, _finish_rows(c, out, _row_flags(c), _same))


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
        return _zeros_out(c, (*c.batch, c.n, c.n))
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    pr = _to_rows(c, p)
    keep = _col(xp, _to_rows(c, _kept(c)))
    j = -xp.broadcast_to(_row(xp, pr), (*pr.shape, pr.shape[-1]))
    j = xp.where(_eye(c, pr.shape[-1]), _col(xp, _complement(xp, pr)), j)
    j = xp.where(keep, j, full_like_scalar(xp, j, 0.0))
    arrange = _rows_arranger(c, 1)
    return _out(c, _finish_rows(c, _over_t(c, j, arrange), _row_flags(c), arrange))


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
        return _zeros_out(c, (*c.batch, c.n, c.n, c.n))
    xp = c.xp
    p = _probs(c, x, axis, temperature, where)
    rows = _row_flags(c)
    jac = _softmax_jacobian_p(c, p, rows)  # already over T, dead and NaN rows resolved
    keep = _col(xp, _col(xp, _to_rows(c, _kept(c))))
    h = xp.where(keep, -xp.expand_dims(jac, axis=-3), full_like_scalar(xp, jac, 0.0))
    arrange = _rows_arranger(c, 2)
    return _out(c, _finish_rows(c, _over_t(c, h, arrange), rows, arrange))


# --------------------------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------------------------


def _lse_weights(c: _Ctx, x: Any, axis: Any, temperature: Any, where: Any, b: Any) -> Array:
    """∂ logsumexp / ∂x: softmax, or with weights b the normalised ``b p / Σ b p``."""
    if b is None:
        return _probs(c, x, axis, temperature, where)
    xp = c.xp
    w = _tangent(c, b, "b")
    nz = w != 0
    keep = nz if c.mask is None else (c.mask & nz)
    p = _maps.softmax(x, axis=axis, temperature=temperature, where=keep, dtype=c.dtype)
    bp = w * p
    total = rsum(xp, bp, c.axes)
    zero = full_like_scalar(xp, total, 0.0)
    # A weighted sum that is exactly 0 (an empty row) has derivative 0, as the empty row of
    # the unweighted map does.
    safe = xp.where(total == 0, full_like_scalar(xp, total, 1.0), total)
    return xp.where(total == 0, zero, bp / safe)


def _reduced_cotangent(c: _Ctx, u: Any) -> Array:
    """A cotangent of logsumexp's output, returned with kept dims.

    ``u`` broadcasts to the reduced shape; with as many dimensions as ``x`` it is read with
    the reduced axes kept (length 1), with fewer as the output's shape without them.
    """
    xp = c.xp
    kept = reduced_shape(c.shape, c.axes)
    dropped = tuple(d for i, d in enumerate(c.shape) if i not in c.axes)
    arr = _as_namespace(c, u, "u")
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
    vv = _tangent(c, v, "v")
    xp = c.xp
    if c.empty:
        shape = reduced_shape(c.shape, c.axes)
        z = _zeros_out(c, shape)
        return z if keepdims else squeeze_axes(xp, z, c.axes)
    w = _lse_weights(c, x, axis, temperature, where, b)
    v0 = xp.where(w != 0, vv, full_like_scalar(xp, vv, 0.0))
    out = rsum(xp, w * v0, c.axes)
    if not keepdims:
        out = squeeze_axes(xp, out, c.axes)
    return _out(c, out, scalar=True)


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
        return _zeros_out(c, c.shape)
    w = _lse_weights(c, x, axis, temperature, where, b)
    return _out(c, w * uu)


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
        return _zeros_out(c, (*c.batch, c.n))
    return _out(c, _to_rows(c, _lse_weights(c, x, axis, temperature, where, b)))


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
        return _zeros_out(c, (*c.batch, c.n, c.n))
    w = _lse_weights(c, x, axis, temperature, where, b)
    return _out(c, _softmax_jacobian_p(c, w, _row_flags(c), final=True))


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
    z = _zeros_out(c, shape)
    if c.empty:
        return z
    rows = _row_flags(c, temperature_kills=False)
    if rows.nan is False:
        return _out(c, z)
    xp = c.xp
    nan = rows.nan if kind == "vec" else _rows_arranger(c, 1 if kind == "jac" else 2)(rows.nan)
    return _out(c, xp.where(nan, full_like_scalar(xp, z, math.nan), z))


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
    _tangent(c, v, "v")
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
    _tangent(c, u, "u")
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


# --------------------------------------------------------------------------------------------
# inverse_softmax
# --------------------------------------------------------------------------------------------

_GAUGE_DOC = """
    The derivative is taken with respect to ``p`` as unconstrained coordinates: the formula
    :math:`x_i = T \\log p_i + c(p)`, with ``c(p)`` the gauge's constant computed from
    ``T log p`` as given, is invariant under ``p → λp`` for every gauge (it is what
    ``normalize=True`` computes), so ``J @ p = 0``. Along directions inside the simplex
    (``Σ v = 0``) it is the derivative of the map restricted to the simplex, whichever extension
    one picks. Zero (and masked) probabilities stay on their face of the simplex: their logits
    are the constant −inf, so their rows and columns are exactly 0.
"""


def _inverse_setup(
    fn: str,
    p: Any,
    axis: Any,
    temperature: Any,
    gauge: Any,
    reference: Any,
    value: Any,
    atol: Any,
    normalize: Any,
    where: Any,
) -> tuple[_Ctx, Array, int | None]:
    """Validate through :func:`softmaxkit.inverse_softmax`; returns (context, finite logits,
    normalised reference index or None)."""
    from softmaxkit.inverse import inverse_softmax

    c = _setup(fn, p, axis, temperature, where, name="p")
    x = inverse_softmax(
        p,
        axis=axis,
        temperature=temperature,
        gauge=gauge,
        reference=reference,
        value=value,
        atol=atol,
        normalize=normalize,
        where=where,
        dtype=c.dtype,
    )
    ref = None
    if gauge == "reference":
        ref = int(reference) % c.shape[c.axes[0]]
    return c, x > -math.inf, ref


def _one_hot(c: _Ctx, index: int) -> Array:
    """True at ``index`` along the (single) reduced axis, broadcastable to the input."""
    ax = c.axes[0]
    n = c.shape[ax]
    hot = c.xp.arange(n, device=c.device) == index
    return c.xp.reshape(hot, tuple(n if k == ax else 1 for k in range(len(c.shape))))


def _rest(xp: Any, pr: Array, total: Array) -> Array:
    """``total − p_j`` along the last axis to full relative accuracy (cf. :func:`_complement`):
    the entry above half the total gets the sum of the others."""
    big = pr > 0.5 * total
    others = xp.sum(xp.where(big, full_like_scalar(xp, pr, 0.0), pr), axis=-1, keepdims=True)
    return xp.where(big, others, total - pr)


def _count(c: _Ctx, fin: Array) -> Array:
    """Number of finite logits per row (1 for rows without any, which are all zero)."""
    m = rsum(c.xp, c.xp.astype(fin, c.dtype), c.axes)
    return c.xp.where(m > 0, m, full_like_scalar(c.xp, m, 1.0))


def _mass(c: _Ctx, p: Array, fin: Array, axes_last: bool = False) -> Array:
    xp = c.xp
    zero = full_like_scalar(xp, p, 0.0)
    if axes_last:
        s = xp.sum(xp.where(fin, p, zero), axis=-1, keepdims=True)
    else:
        s = rsum(xp, xp.where(fin, p, zero), c.axes)
    return xp.where(s > 0, s, full_like_scalar(xp, s, 1.0))


def _inverse_jvp_p(c: _Ctx, p: Array, fin: Array, v: Array, gauge: str, ref: int | None) -> Array:
    xp = c.xp
    zero = full_like_scalar(xp, p, 0.0)
    ps = xp.where(fin, p, full_like_scalar(xp, p, 1.0))
    w = xp.where(fin, v / ps, zero)
    if gauge in ("center", "sum"):
        sub = rsum(xp, w, c.axes) / _count(c, fin)
    elif gauge == "reference":
        assert ref is not None
        sub = rsum(xp, xp.where(_one_hot(c, ref), w, zero), c.axes)
    else:
        sub = rsum(xp, xp.where(fin, v, zero), c.axes) / _mass(c, p, fin)
    return _times_t(c, xp.where(fin, w - sub, zero), _same)


def _inverse_vjp_p(c: _Ctx, p: Array, fin: Array, u: Array, gauge: str, ref: int | None) -> Array:
    xp = c.xp
    zero = full_like_scalar(xp, p, 0.0)
    ps = xp.where(fin, p, full_like_scalar(xp, p, 1.0))
    u0 = xp.where(fin, u, zero)
    total = rsum(xp, u0, c.axes)
    if gauge in ("center", "sum"):
        g = (u0 - total / _count(c, fin)) / ps
    elif gauge == "reference":
        assert ref is not None
        g = (u0 - xp.where(_one_hot(c, ref), total, zero)) / ps
    else:
        g = u0 / ps - total / _mass(c, p, fin)
    return _times_t(c, xp.where(fin, g, zero), _same)


def _inverse_jacobian_p(c: _Ctx, p: Array, fin: Array, gauge: str, ref: int | None) -> Array:
    """``J[..., i, j] = ∂x_i/∂p_j`` (rows layout), see :func:`inverse_softmax_jacobian`."""
    xp = c.xp
    pr = _to_rows(c, p)
    fr = _to_rows(c, fin)
    n = pr.shape[-1]
    zero = full_like_scalar(xp, pr, 0.0)
    ps = xp.where(fr, pr, full_like_scalar(xp, pr, 1.0))
    inv = _row(xp, 1.0 / ps)
    eye = _eye(c, n)
    eye_f = xp.astype(eye, pr.dtype)
    if gauge in ("center", "sum"):
        m = xp.sum(xp.astype(fr, pr.dtype), axis=-1, keepdims=True)
        m = xp.where(m > 0, m, full_like_scalar(xp, m, 1.0))
        j = (eye_f - _col(xp, 1.0 / m)) * inv
    elif gauge == "reference":
        assert ref is not None
        hot = xp.astype(xp.arange(n, device=c.device) == ref, pr.dtype)
        j = (eye_f - hot) * inv
    else:
        total = _mass(c, pr, fr, axes_last=True)
        # Diagonal 1/p_j − 1/S = (S − p_j)/(p_j S), with S − p_j accurate.
        diag = _rest(xp, xp.where(fr, pr, zero), total) / (ps * total)
        j = xp.where(eye, _col(xp, diag), -_col(xp, 1.0 / total))
    keep = _col(xp, fr) & _row(xp, fr)
    j = xp.where(keep, j, full_like_scalar(xp, j, 0.0))
    return _times_t(c, j, _rows_arranger(c, 1))


def _inverse_hessian_p(c: _Ctx, p: Array, fin: Array, gauge: str, ref: int | None) -> Array:
    """``H[..., i, j, k] = ∂²x_i/∂p_j∂p_k`` (rows layout), see :func:`inverse_softmax_hessian`."""
    xp = c.xp
    pr = _to_rows(c, p)
    fr = _to_rows(c, fin)
    n = pr.shape[-1]
    zero = full_like_scalar(xp, pr, 0.0)
    ps = xp.where(fr, pr, full_like_scalar(xp, pr, 1.0))
    inv2 = _row(xp, 1.0 / (ps * ps))  # indexed by j
    eye = _eye(c, n)
    eye_f = xp.astype(eye, pr.dtype)
    jk = xp.expand_dims(eye, axis=0)
    if gauge in ("center", "sum"):
        m = xp.sum(xp.astype(fr, pr.dtype), axis=-1, keepdims=True)
        m = xp.where(m > 0, m, full_like_scalar(xp, m, 1.0))
        ij = (_col(xp, 1.0 / m) - eye_f) * inv2  # (batch, i, j), lives on j == k
        h = xp.where(jk, _col(xp, ij), zero)
    elif gauge == "reference":
        assert ref is not None
        hot = xp.astype(xp.arange(n, device=c.device) == ref, pr.dtype)
        ij = (hot - eye_f) * inv2
        h = xp.where(jk, _col(xp, ij), zero)
    else:
        total = _mass(c, pr, fr, axes_last=True)
        inv_s2 = 1.0 / (total * total)  # (batch, 1)
        # −δ_ijk/p_j² + 1/S², the diagonal as −(S − p)(S + p)/(p S)² so that it cannot cancel.
        pz = xp.where(fr, pr, zero)
        diag = -(_rest(xp, pz, total) * (total + pz)) / (ps * ps * total * total)
        const = _col(xp, _col(xp, inv_s2))
        h = xp.broadcast_to(const, (*pr.shape, n, n))
        ijk = xp.expand_dims(eye, axis=2) & jk
        h = xp.where(ijk, _col(xp, _col(xp, diag)), h)
    keep = _col(xp, _col(xp, fr)) & _col(xp, _row(xp, fr)) & _row(xp, _row(xp, fr))
    h = xp.where(keep, h, zero)
    return _times_t(c, h, _rows_arranger(c, 2))


_INVERSE_P = """p : array_like
        Probabilities, validated as by :func:`~softmaxkit.inverse_softmax` (whose errors
        are raised)."""
_INVERSE_KW = """axis, temperature, gauge, reference, value, atol, normalize, where
        As for :func:`~softmaxkit.inverse_softmax` (``value`` does not enter the derivative)."""


@quiet
def inverse_softmax_jvp(
    p: Any,
    v: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    gauge: str = "center",
    reference: int = 0,
    value: Any = 0.0,
    atol: float | None = None,
    normalize: bool = False,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.inverse_softmax`, per gauge.

    With :math:`w_i = v_i / p_i` over the finite logits :math:`F` (:math:`m = |F|`):

    * ``"center"`` and ``"sum"`` (they differ by a constant):
      :math:`\dot x_i = T\,(w_i - \frac1m \sum_F w_j)`;
    * ``"reference"`` (index r): :math:`\dot x_i = T\,(w_i - w_r)` (exactly 0 at r);
    * ``"logsumexp"``: :math:`\dot x_i = T\,(w_i - \sum_F v_j / \sum_F p_j)`.

    Parameters
    ----------
    {p}
    v : array_like
        Tangent, broadcastable to ``p``'s shape (for a tangent of the simplex, ``Σ v = 0``).
    {kw}

    Returns
    -------
    array
        Shape and array kind of ``p``; 0 at zero and masked probabilities.

    Notes
    -----
    {gauge}
    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import inverse_softmax_jvp
    >>> p, v = np.array([0.25, 0.25, 0.5]), np.array([0.1, 0.0, -0.1])
    >>> inverse_softmax_jvp(p, v)
    array([ 0.33333333, -0.06666667, -0.26666667])
    >>> inverse_softmax_jvp(p, v, gauge="reference", reference=1)
    array([ 0.4,  0. , -0.2])
    """
    c, fin, ref = _inverse_setup(
        "inverse_softmax_jvp",
        p,
        axis,
        temperature,
        gauge,
        reference,
        value,
        atol,
        normalize,
        where,
    )
    vv = _tangent(c, v, "v")
    if c.empty:
        return _zeros_out(c, c.shape)
    return _out(c, _inverse_jvp_p(c, c.x, fin, vv, gauge, ref))


@quiet
def inverse_softmax_vjp(
    p: Any,
    u: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    gauge: str = "center",
    reference: int = 0,
    value: Any = 0.0,
    atol: float | None = None,
    normalize: bool = False,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.inverse_softmax`, per gauge.

    With :math:`u` taken as 0 off the finite logits :math:`F` (:math:`m = |F|`), for
    :math:`j \in F`:

    * ``"center"``, ``"sum"``: :math:`\bar p_j = T\,(u_j - \frac1m\sum_F u_i) / p_j`;
    * ``"reference"`` (index r): :math:`\bar p_j = T\,(u_j - \delta_{jr}\sum_F u_i) / p_j`;
    * ``"logsumexp"``: :math:`\bar p_j = T\,(u_j / p_j - \sum_F u_i / \sum_F p_i)`.

    Parameters
    ----------
    {p}
    u : array_like
        Cotangent of the logits, broadcastable to ``p``'s shape.
    {kw}

    Returns
    -------
    array
        Shape and array kind of ``p``; 0 at zero and masked probabilities.

    Notes
    -----
    {gauge}
    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import inverse_softmax_vjp
    >>> inverse_softmax_vjp(np.array([0.25, 0.25, 0.5]), np.array([1.0, 0.0, 0.0]))
    array([ 2.66666667, -1.33333333, -0.66666667])
    """
    c, fin, ref = _inverse_setup(
        "inverse_softmax_vjp",
        p,
        axis,
        temperature,
        gauge,
        reference,
        value,
        atol,
        normalize,
        where,
    )
    uu = _tangent(c, u, "u")
    if c.empty:
        return _zeros_out(c, c.shape)
    return _out(c, _inverse_vjp_p(c, c.x, fin, uu, gauge, ref))


@quiet
def inverse_softmax_jacobian(
    p: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    gauge: str = "center",
    reference: int = 0,
    value: Any = 0.0,
    atol: float | None = None,
    normalize: bool = False,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.inverse_softmax`: ``J[..., i, j] = ∂x_i/∂p_j``.

    For :math:`i, j \in F` (the finite logits, :math:`m = |F|`; 0 elsewhere):

    * ``"center"``, ``"sum"``: :math:`J_{ij} = T\,(\delta_{ij} - 1/m) / p_j`;
    * ``"reference"`` (index r): :math:`J_{ij} = T\,(\delta_{ij} - \delta_{rj}) / p_j`
      (row r is 0);
    * ``"logsumexp"``: :math:`J_{ij} = T\,(\delta_{ij} / p_j - 1/\sum_F p)`, the diagonal
      evaluated as :math:`T (\sum_F p - p_j)/(p_j \sum_F p)` so that it does not cancel.

    Parameters
    ----------
    {p}
    {kw}

    Returns
    -------
    array
        Shape ``batch + (n, n)``, the reduced axes moved last (see :func:`softmax_jacobian`).

    Notes
    -----
    {gauge}
    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import inverse_softmax_jacobian
    >>> inverse_softmax_jacobian(np.array([0.25, 0.75]), gauge="reference")
    array([[ 0.        ,  0.        ],
           [-4.        ,  1.33333333]])
    >>> inverse_softmax_jacobian(np.array([0.25, 0.0, 0.75]), gauge="logsumexp")
    array([[ 3.        ,  0.        , -1.        ],
           [ 0.        ,  0.        ,  0.        ],
           [-1.        ,  0.        ,  0.33333333]])
    """
    c, fin, ref = _inverse_setup(
        "inverse_softmax_jacobian",
        p,
        axis,
        temperature,
        gauge,
        reference,
        value,
        atol,
        normalize,
        where,
    )
    if c.empty:
        return _zeros_out(c, (*c.batch, c.n, c.n))
    return _out(c, _inverse_jacobian_p(c, c.x, fin, gauge, ref))


@quiet
def inverse_softmax_hessian(
    p: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    gauge: str = "center",
    reference: int = 0,
    value: Any = 0.0,
    atol: float | None = None,
    normalize: bool = False,
    where: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.inverse_softmax`: ``H[..., i, j, k] = ∂²x_i/∂p_j∂p_k``.

    For :math:`i, j, k \in F` (0 elsewhere):

    * ``"center"``, ``"sum"``: :math:`H_{ijk} = T\,\delta_{jk}(1/m - \delta_{ij}) / p_j^2`;
    * ``"reference"`` (index r): :math:`H_{ijk} = T\,\delta_{jk}(\delta_{rj} - \delta_{ij})
      / p_j^2`;
    * ``"logsumexp"``: :math:`H_{ijk} = T\,(1/(\sum_F p)^2 - \delta_{ij}\delta_{jk}/p_j^2)`.

    Parameters
    ----------
    {p}
    {kw}

    Returns
    -------
    array
        Shape ``batch + (n, n, n)``.

    Notes
    -----
    {gauge}
    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import inverse_softmax_hessian
    >>> inverse_softmax_hessian(np.array([0.5, 0.5]))[0]
    array([[-2.,  0.],
           [ 0.,  2.]])
    """
    c, fin, ref = _inverse_setup(
        "inverse_softmax_hessian",
        p,
        axis,
        temperature,
        gauge,
        reference,
        value,
        atol,
        normalize,
        where,
    )
    if c.empty:
        return _zeros_out(c, (*c.batch, c.n, c.n, c.n))
    return _out(c, _inverse_hessian_p(c, c.x, fin, gauge, ref))


for _f in (
    inverse_softmax_jvp,
    inverse_softmax_vjp,
    inverse_softmax_jacobian,
    inverse_softmax_hessian,
):
    _f.__doc__ = (
        (_f.__doc__ or "")
        .replace("{p}", _INVERSE_P)
        .replace("{kw}", _INVERSE_KW)
        .replace("{gauge}", _GAUGE_DOC.strip("\n").lstrip() + "\n")
    )


# --------------------------------------------------------------------------------------------
# base state
# --------------------------------------------------------------------------------------------


def _base_softmax_setup(
    fn: str, z: Any, axis: Any, temperature: Any, base: Any, where: Any
) -> tuple[_Ctx, _Ctx, Array, int]:
    """(context of z, context of the extended logits x, p, normalised base)."""
    from softmaxkit.inverse import base_softmax

    # The map validates z, the axis, the base and the mask, and names itself in its errors.
    probe = prepare(z, name="z", fn=fn)
    p = base_softmax(
        z, axis=axis, temperature=temperature, base=base, where=where, dtype=probe.compute_dtype
    )
    cz = _setup(fn, z, axis, temperature, where, name="z")
    xp = cz.xp
    ax = cz.axes[0]
    b = int(base) % (cz.shape[ax] + 1)
    x = insert(xp, cz.x, ax, b, 0.0)
    mask = None if cz.mask is None else insert(xp, cz.mask, ax, b, True)
    cx = _Ctx(fn, xp, x, cz.axes, cz.temp, mask, cz.dtype, cz.out_dtype)
    return cz, cx, p, b


_BASE_SOFTMAX_NOTES = """The derivative of ``softmax`` of the extended logits
    ``(z_0, …, 0, …, z_{n-2})`` (the fixed 0 at ``base``), restricted to the free entries:
    edge cases as for :func:`softmax_jacobian` (−inf and masked entries have zero rows and
    columns; rows at T = 0, T = inf or with +inf entries are 0; NaN rows NaN)."""


@quiet
def base_softmax_jvp(
    z: Any,
    v: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.base_softmax`.

    .. math:: \dot p = p \odot (\tilde v - \langle p, \tilde v\rangle) / T

    with :math:`\tilde v` the tangent with a 0 inserted at ``base``.

    Parameters
    ----------
    z : array_like
        Free logits (``n − 1`` along ``axis``).
    v : array_like
        Tangent, broadcastable to ``z``'s shape.
    axis, temperature, base, where
        As for :func:`~softmaxkit.base_softmax`.

    Returns
    -------
    array
        The shape of ``p`` (``n`` along ``axis``).

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax_jvp
    >>> base_softmax_jvp(np.array([np.log(3.0)]), np.array([1.0]))   # p = (1/4, 3/4)
    array([-0.1875,  0.1875])
    """
    cz, cx, p, b = _base_softmax_setup("base_softmax_jvp", z, axis, temperature, base, where)
    vv = _tangent(cz, v, "v")
    if cx.empty:
        return _zeros_out(cx, cx.shape)
    vx = insert(cx.xp, vv, cx.axes[0], b, 0.0)
    return _out(cx, _softmax_jvp_p(cx, p, vx, _row_flags(cx)))


@quiet
def base_softmax_vjp(
    z: Any,
    u: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.base_softmax`.

    .. math:: \bar z = \big[p \odot (u - \langle p, u\rangle) / T\big]_{k \ne b}

    Parameters
    ----------
    z : array_like
        Free logits (``n − 1`` along ``axis``).
    u : array_like
        Cotangent of ``p``, broadcastable to ``p``'s shape (``n`` along ``axis``).
    axis, temperature, base, where
        As for :func:`~softmaxkit.base_softmax`.

    Returns
    -------
    array
        The shape of ``z``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax_vjp
    >>> base_softmax_vjp(np.array([np.log(3.0)]), np.array([0.0, 1.0]))
    array([0.1875])
    """
    _, cx, p, b = _base_softmax_setup("base_softmax_vjp", z, axis, temperature, base, where)
    uu = _tangent(cx, u, "u")
    if cx.empty:
        return _zeros_out(cx, delete(cx.xp, cx.raw, cx.axes[0], b).shape)
    g = _softmax_jvp_p(cx, p, uu, _row_flags(cx))
    return _out(cx, delete(cx.xp, g, cx.axes[0], b))


@quiet
def base_softmax_jacobian(
    z: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.base_softmax`: ``J[..., i, k] = ∂p_i/∂z_k``.

    .. math:: J_{ik} = p_i(\delta_{ik'} - p_{k'}) / T

    with :math:`k'` the position of :math:`z_k` in ``p``: the softmax Jacobian of the extended
    logits without the column of the fixed state.

    Parameters
    ----------
    z : array_like
        Free logits (``n − 1`` along ``axis``).
    axis, temperature, base, where
        As for :func:`~softmaxkit.base_softmax`.

    Returns
    -------
    array
        Shape ``batch + (n, n − 1)`` (``axis`` moved last).

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax_jacobian
    >>> base_softmax_jacobian(np.array([0.0, 0.0]), base=1)
    array([[ 0.22222222, -0.11111111],
           [-0.11111111, -0.11111111],
           [-0.11111111,  0.22222222]])
    """
    _, cx, p, b = _base_softmax_setup("base_softmax_jacobian", z, axis, temperature, base, where)
    if cx.empty:
        return _zeros_out(cx, (*cx.batch, cx.n, cx.n - 1))
    j = _softmax_jacobian_p(cx, p, _row_flags(cx))
    return _out(cx, delete(cx.xp, j, -1, b))


@quiet
def base_softmax_hessian(
    z: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    where: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.base_softmax`: ``H[..., i, k, l] = ∂²p_i/∂z_k∂z_l``.

    The softmax Hessian (:func:`softmax_hessian`) of the extended logits without the fixed
    state's two columns.

    Parameters
    ----------
    z : array_like
        Free logits (``n − 1`` along ``axis``).
    axis, temperature, base, where
        As for :func:`~softmaxkit.base_softmax`.

    Returns
    -------
    array
        Shape ``batch + (n, n − 1, n − 1)``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax_hessian
    >>> base_softmax_hessian(np.array([np.log(3.0)]))   # d²p/dz² for p = (1/4, 3/4)
    array([[[ 0.09375]],
    <BLANKLINE>
           [[-0.09375]]])
    """
    _, cx, p, b = _base_softmax_setup("base_softmax_hessian", z, axis, temperature, base, where)
    if cx.empty:
        return _zeros_out(cx, (*cx.batch, cx.n, cx.n - 1, cx.n - 1))
    h = _softmax_hessian_p(cx, p, _row_flags(cx))
    return _out(cx, delete(cx.xp, delete(cx.xp, h, -1, b), -2, b))


def _base_logits_setup(
    fn: str, p: Any, axis: Any, temperature: Any, base: Any, atol: Any, normalize: Any
) -> tuple[_Ctx, Array, int, tuple[int, ...]]:
    """(context of p, finite logits over all n entries, normalised base, shape of z)."""
    from softmaxkit.inverse import base_logits

    probe = prepare(p, name="p", fn=fn)
    z = base_logits(
        p,
        axis=axis,
        temperature=temperature,
        base=base,
        atol=atol,
        normalize=normalize,
        dtype=probe.compute_dtype,
    )
    c = _setup(fn, p, axis, temperature, None, name="p")
    ax = c.axes[0]
    b = int(base) % c.shape[ax]
    fin = insert(c.xp, z > -math.inf, ax, b, True)
    return c, fin, b, tuple(z.shape)


_BASE_LOGITS_NOTES = """The derivative of ``inverse_softmax(p, gauge="reference",
    reference=base)`` without the base row (see :func:`inverse_softmax_jacobian`): taken with
    respect to ``p`` as unconstrained coordinates of :math:`z_k = T(\\log p_{k'} - \\log p_b)`,
    which is invariant under ``p → λp``; along directions inside the simplex (``Σ v = 0``) it
    is the derivative on the simplex. Zero probabilities (``z_k = −inf``) have zero rows and
    columns."""


@quiet
def base_logits_jvp(
    p: Any,
    v: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    atol: float | None = None,
    normalize: bool = False,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.base_logits`.

    .. math:: \dot z_k = T\,(v_{k'}/p_{k'} - v_b/p_b)

    Parameters
    ----------
    p : array_like
        Probabilities (``n`` along ``axis``), validated as by :func:`~softmaxkit.base_logits`.
    v : array_like
        Tangent, broadcastable to ``p``'s shape.
    axis, temperature, base, atol, normalize
        As for :func:`~softmaxkit.base_logits`.

    Returns
    -------
    array
        The shape of ``z`` (``n − 1`` along ``axis``).

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits_jvp
    >>> base_logits_jvp(np.array([0.25, 0.75]), np.array([-0.1, 0.1]))
    array([0.53333333])
    """
    c, fin, b, _ = _base_logits_setup(
        "base_logits_jvp", p, axis, temperature, base, atol, normalize
    )
    vv = _tangent(c, v, "v")
    ax = c.axes[0]
    if c.empty:
        return _zeros_out(c, delete(c.xp, c.raw, ax, b).shape)
    full = _inverse_jvp_p(c, c.x, fin, vv, "reference", b)
    return _out(c, delete(c.xp, full, ax, b))


@quiet
def base_logits_vjp(
    p: Any,
    u: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    atol: float | None = None,
    normalize: bool = False,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.base_logits`.

    .. math:: \bar p_{k'} = T\,u_k / p_{k'}, \qquad \bar p_b = -T \textstyle\sum_k u_k / p_b

    (0 at zero probabilities, whose ``z`` is the constant −inf).

    Parameters
    ----------
    p : array_like
        Probabilities (``n`` along ``axis``).
    u : array_like
        Cotangent of ``z``, broadcastable to ``z``'s shape (``n − 1`` along ``axis``).
    axis, temperature, base, atol, normalize
        As for :func:`~softmaxkit.base_logits`.

    Returns
    -------
    array
        The shape of ``p``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits_vjp
    >>> base_logits_vjp(np.array([0.25, 0.75]), np.array([1.0]))
    array([-4.        ,  1.33333333])
    """
    c, fin, b, z_shape = _base_logits_setup(
        "base_logits_vjp", p, axis, temperature, base, atol, normalize
    )
    uu = _tangent(c, u, "u", shape=z_shape)
    if c.empty:
        return _zeros_out(c, c.shape)
    full = insert(c.xp, uu, c.axes[0], b, 0.0)
    return _out(c, _inverse_vjp_p(c, c.x, fin, full, "reference", b))


@quiet
def base_logits_jacobian(
    p: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    atol: float | None = None,
    normalize: bool = False,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.base_logits`: ``J[..., k, j] = ∂z_k/∂p_j``.

    .. math:: J_{kj} = T\,(\delta_{k'j} - \delta_{bj}) / p_j

    Parameters
    ----------
    p : array_like
        Probabilities (``n`` along ``axis``).
    axis, temperature, base, atol, normalize
        As for :func:`~softmaxkit.base_logits`.

    Returns
    -------
    array
        Shape ``batch + (n − 1, n)`` (``axis`` moved last).

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits_jacobian
    >>> base_logits_jacobian(np.array([0.25, 0.75]))
    array([[-4.        ,  1.33333333]])
    """
    c, fin, b, _ = _base_logits_setup(
        "base_logits_jacobian", p, axis, temperature, base, atol, normalize
    )
    if c.empty:
        return _zeros_out(c, (*c.batch, max(c.n - 1, 0), c.n))
    j = _inverse_jacobian_p(c, c.x, fin, "reference", b)
    return _out(c, delete(c.xp, j, -2, b))


@quiet
def base_logits_hessian(
    p: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    atol: float | None = None,
    normalize: bool = False,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.base_logits`: ``H[..., k, j, l] = ∂²z_k/∂p_j∂p_l``.

    .. math:: H_{kjl} = T\,\delta_{jl}(\delta_{bj} - \delta_{k'j}) / p_j^2

    Parameters
    ----------
    p : array_like
        Probabilities (``n`` along ``axis``).
    axis, temperature, base, atol, normalize
        As for :func:`~softmaxkit.base_logits`.

    Returns
    -------
    array
        Shape ``batch + (n − 1, n, n)``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits_hessian
    >>> base_logits_hessian(np.array([0.5, 0.5]))
    array([[[ 4.,  0.],
            [ 0., -4.]]])
    """
    c, fin, b, _ = _base_logits_setup(
        "base_logits_hessian", p, axis, temperature, base, atol, normalize
    )
    if c.empty:
        return _zeros_out(c, (*c.batch, max(c.n - 1, 0), c.n, c.n))
    h = _inverse_hessian_p(c, c.x, fin, "reference", b)
    return _out(c, delete(c.xp, h, -3, b))


for _f in (base_softmax_jvp, base_softmax_vjp, base_softmax_jacobian, base_softmax_hessian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _BASE_SOFTMAX_NOTES)
for _f in (base_logits_jvp, base_logits_vjp, base_logits_jacobian, base_logits_hessian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _BASE_LOGITS_NOTES)
del _f


# --------------------------------------------------------------------------------------------
# Generic dispatch
# --------------------------------------------------------------------------------------------

_KINDS = ("jvp", "vjp", "jacobian", "hessian")
_NAMES = (
    "softmax",
    "log_softmax",
    "logsumexp",
    "hardmax",
    "inverse_softmax",
    "base_softmax",
    "base_logits",
)
# The sparse maps' closed forms live in softmaxkit.sparse (alpha_relu has no Hessian there).
_SPARSE_NAMES = ("sparsemax", "entmax15", "entmax", "alpha_relu")


@functools.cache
def _table() -> dict[Any, dict[str, Callable[..., Array]]]:
    """Map function -> {kind: closed-form derivative}; built on first use (inverse.py imports
    maps, and this module must not import it at load time to stay independent of it)."""
    from softmaxkit import inverse, sparse

    table: dict[Any, dict[str, Callable[..., Array]]] = {}
    for name in _NAMES:
        fn = getattr(_maps, name, None) or getattr(inverse, name)
        table[fn] = {kind: globals()[f"{name}_{kind}"] for kind in _KINDS}
    for name in _SPARSE_NAMES:
        table[getattr(sparse, name)] = {
            kind: getattr(sparse, f"{name}_{kind}")
            for kind in _KINDS
            if hasattr(sparse, f"{name}_{kind}")
        }
    return table


def _lookup(kind: str, fn: Any) -> Callable[..., Array]:
    table = _table()
    derivs: dict[str, Callable[..., Array]] | None = None
    if isinstance(fn, str):
        derivs = next((d for f, d in table.items() if f.__name__ == fn), None)
    else:
        try:
            derivs = table.get(fn)
        except TypeError:  # an unhashable object
            derivs = None
    if derivs is not None:
        if kind in derivs:
            return derivs[kind]
        raise TypeError(f"{kind}: {getattr(fn, '__name__', fn)} has no closed-form {kind}")
    names = ", ".join(f"softmaxkit.{n}" for n in (*_NAMES, *_SPARSE_NAMES))
    what = repr(fn) if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
    raise TypeError(
        f"{kind}: no closed-form derivative for {what}; supported maps (pass the function, or "
        f"its name): {names}"
    )


def jvp(fn: Callable[..., Any] | str, x: Any, v: Any, /, **kwargs: Any) -> Array:
    """Forward-mode derivative ``J @ v`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        One of :func:`~softmaxkit.softmax`, :func:`~softmaxkit.log_softmax`,
        :func:`~softmaxkit.logsumexp`, :func:`~softmaxkit.hardmax`,
        :func:`~softmaxkit.inverse_softmax`, :func:`~softmaxkit.base_softmax`,
        :func:`~softmaxkit.base_logits` (or its name).
    x : array_like
        The point (the map's input).
    v : array_like
        The tangent, shaped like ``x``.
    **kwargs
        The map's keywords (``axis``, ``temperature``, ``where``, ``gauge``, ``base``, ...).

    Returns
    -------
    array
        Shaped like the map's output; see ``softmax_jvp`` and its siblings for the formulas.

    Raises
    ------
    TypeError
        For a function without closed-form derivatives (the message lists the supported ones).

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.jvp(sk.softmax, np.array([0.0, np.log(9.0)]), np.array([1.0, 0.0]), temperature=2)
    array([ 0.09375, -0.09375])
    """
    return _lookup("jvp", fn)(x, v, **kwargs)


def vjp(fn: Callable[..., Any] | str, x: Any, u: Any, /, **kwargs: Any) -> Array:
    """Reverse-mode derivative ``u @ J`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point (the map's input).
    u : array_like
        The cotangent, shaped like the map's output.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shaped like ``x``.

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.vjp(sk.logsumexp, np.array([0.0, np.log(3.0)]), np.float64(1.0))
    array([0.25, 0.75])
    """
    return _lookup("vjp", fn)(x, u, **kwargs)


def jacobian(fn: Callable[..., Any] | str, x: Any, /, **kwargs: Any) -> Array:
    """Jacobian ``J[..., i, j] = ∂y_i/∂x_j`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shape ``batch + (m, n)``: the reduced axes moved last (flattened when several), ``m``
        the output's length (no such axis for logsumexp).

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.jacobian(sk.log_softmax, np.zeros((4, 3)), axis=0).shape   # 3 rows of 4 entries
    (3, 4, 4)
    >>> sk.jacobian(np.exp, np.zeros(3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: jacobian: no closed-form derivative for exp; supported maps ...
    """
    return _lookup("jacobian", fn)(x, **kwargs)


def hessian(fn: Callable[..., Any] | str, x: Any, /, **kwargs: Any) -> Array:
    """Hessian ``H[..., i, j, k] = ∂²y_i/∂x_j∂x_k`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shape ``batch + (m, n, n)`` (``batch + (n, n)`` for logsumexp).

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.hessian("logsumexp", np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    return _lookup("hessian", fn)(x, **kwargs)
