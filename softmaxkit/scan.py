r"""Cumulative log-sum-exp: the running smooth maximum along an axis.

.. math:: y_i = T \log \sum_{j \le i} e^{x_j / T}

(``reverse=True`` sums over ``j ≥ i``). It is what a streaming softmax normaliser, a CTC or
HMM forward pass in log space, or a cumulative distribution of log-weights needs.

The textbook scan, ``y_i = logaddexp(y_{i−1}, x_i)`` (as PyTorch's ``logcumsumexp``
computes it), rounds the running value ``y`` to an ulp of itself at every step:
terms far below the running maximum are lost one by one (``1000 + log1p(e^{−40})`` rounds to
1000 however many of them there are), and the error grows with the length of the row. Here every
prefix is carried as ``M_i + T·log1p(s_i)`` — its running maximum ``M_i`` (an input value,
exact) and the sum ``s_i`` of the other terms relative to it — combined by a parallel prefix
scan (Hillis–Steele, ⌈log₂ n⌉ array passes, each pair combined as
``s = s_a + (1 + s_b)·e^{(M_b − M_a)/T}`` with the difference split exactly and divided by T
in double-word arithmetic). The small terms are summed among themselves and only added to the
maximum at the end, so the result is within a few ulp of the exact value, however long the
row and whatever the spread of its entries.
"""

from __future__ import annotations

import math
from typing import Any

from softmaxkit._base import dask as _dask
from softmaxkit._base.core import (
    Setup,
    finish,
    full_like_scalar,
    quiet,
    setup,
)
from softmaxkit._base.dispatch import torch_autograd
from softmaxkit._base.double_word import exp_dw
from softmaxkit._base.kernel import divide_dw

__all__ = ["logcumsumexp"]

Array = Any


@quiet
@torch_autograd
def logcumsumexp(
    x: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    reverse: bool = False,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""Cumulative smooth maximum :math:`y_i = T \log \sum_{j \le i} e^{x_j/T}` along ``axis``.

    Parameters
    ----------
    x : array_like
        Logits; any array-API array (NumPy, PyTorch, JAX, Dask, ...). Integers promote to the
        default float.
    axis : int, default -1
        The axis to scan along (one axis: the order of its entries matters).
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``x`` with ``axis`` of length 1 (one T per
        row). T = 0 gives the running maximum; T = inf gives the entry itself while a single
        admissible entry has been seen and +inf once there are two or more (the limit of
        ``logsumexp``).
    reverse : bool, default False
        Scan from the end: ``y_i = T log Σ_{j ≥ i} e^{x_j/T}``.
    where : array of bool, optional
        Entries that take part; a False entry adds nothing (exactly like an entry of −inf),
        so the running value carries over it.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        Same shape and array kind as ``x``; the last entry of a row (the first with
        ``reverse``) is ``logsumexp`` of the row.

    Notes
    -----
    Edge cases: the prefix before the first admissible entry is −inf (empty sums); from the
    first +inf on the result is +inf; from the first NaN on it is NaN (only in its row); an
    axis of length 0 gives an empty result. float16/bfloat16 are computed in float32 (float64
    on NumPy) and returned in their dtype.

    Accuracy: every prefix is ``M + T·log1p(s)`` with ``M`` its maximum and ``s`` the sum of
    the other terms relative to it, built by a parallel prefix scan of ⌈log₂ n⌉ passes, so
    the result stays within a few ulp of the exact value where the sequential
    ``logaddexp`` scan of PyTorch loses the small terms one step at a time (see the
    module docstring). Cost: O(n log n) per row.

    The derivative: ``∂y_i/∂x_j = exp((x_j − y_i)/T)`` for j ≤ i (the softmax of the prefix),
    see :func:`~softmaxkit.logcumsumexp_vjp`; PyTorch tensors that require grad go through an
    autograd Function with that closed form.

    Dask arrays stay lazy: ``axis`` is rechunked into one chunk and every block runs the
    NumPy path.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logcumsumexp
    >>> logcumsumexp(np.array([0.0, 0.0, np.log(2.0)]))
    array([0.        , 0.69314718, 1.38629436])
    >>> logcumsumexp(np.array([1.0, 3.0, 2.0]), temperature=0)   # the running maximum
    array([1., 3., 3.])
    >>> logcumsumexp(np.array([-np.inf, 1.0, np.inf, 0.0]))
    array([-inf,   1.,  inf,  inf])
    >>> x = np.r_[1000.0, np.full(10**5, 960.0)]    # 1000 + log1p(1e5·e^−40) = 1000 + 4.2e−13
    >>> float(logcumsumexp(x)[-1] - 1000.0)        # torch.logcumsumexp: 0.0
    4.547473508864641e-13
    """
    fn = "logcumsumexp"
    if not isinstance(reverse, bool):
        raise TypeError(f"{fn}: reverse must be a bool, got {reverse!r}")
    prep = setup(fn, x, axis=axis, temperature=temperature, where=where, dtype=dtype,
                 along="a cumulative sum runs along one axis")
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(logcumsumexp, prep, axes, temp, mask, reverse=reverse)
    xp = prep.xp
    if prep.empty:
        return finish(xp, prep.x, prep.out_dtype)
    return finish(xp, _scan(prep, reverse), prep.out_dtype)


def tangent_scan(prep: Setup, v: Array, reverse: bool) -> Array:
    r"""The forward-mode derivative of :func:`logcumsumexp` at finite T, linear in ``v``.

    :math:`\dot y_i = \sum_{j \le i} e^{(x_j - y_i)/T} v_j = w_i / (1 + s_i)`, where the
    prefix scan that builds ``s_i`` (see :func:`logcumsumexp`) carries
    ``w_i = Σ_{j≤i} e^{(x_j − M_i)/T} v_j`` along with it (combined as
    ``w = w_big + w_small·e^{(M_small − M_big)/T}``). Every operation on ``v`` is linear, so
    JAX can transpose it (reverse mode). Used by :mod:`softmaxkit.derivatives`; rows at T = 0
    or inf and prefixes holding +inf are the caller's. ``v`` must be 0 at masked and −inf
    entries. In the compute dtype, shaped like ``prep.x``.
    """
    return _scan(prep, reverse, v)


def _scan(prep: Setup, reverse: bool, v: Array | None = None) -> Array:
    """The cumulative log-sum-exp along ``prep.axes[0]`` in the compute dtype (with ``v``:
    its tangent, :func:`tangent_scan`)."""
    xp, temp = prep.xp, prep.temp
    ax = prep.axes[0]
    nd = prep.x.ndim
    x = prep.x
    if prep.mask is not None:
        x = xp.where(prep.mask, x, full_like_scalar(xp, x, -math.inf))
    # Work along the last axis.
    perm = (*(i for i in range(nd) if i != ax), ax)
    back = tuple(perm.index(i) for i in range(nd))
    x = xp.permute_dims(x, perm)
    t = temp.value if temp.kind == "array" else None
    if t is not None:
        t = xp.permute_dims(t, perm)
    if v is not None:
        v = xp.permute_dims(v, perm)
    if reverse:
        x = xp.flip(x, axis=-1)
        v = None if v is None else xp.flip(v, axis=-1)
    nan_seen = _cum_any(xp, xp.isnan(x))
    xs = xp.where(xp.isnan(x), full_like_scalar(xp, x, -math.inf), x)
    m, s, count, w = _prefix(xp, xs, temp, t, v)
    if w is not None:
        dy = w / (1.0 + s)
        dy = xp.where(nan_seen, full_like_scalar(xp, dy, math.nan), dy)
        if reverse:
            dy = xp.flip(dy, axis=-1)
        return xp.permute_dims(dy, back)
    if temp.kind == "one":
        y = m + xp.log1p(s)
    else:
        tt = float(temp.value) if temp.kind == "scalar" else t
        if temp.kind in ("zero", "inf"):
            tt = 1.0
        elif temp.kind == "array":
            tt = xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t)
        y = m + tt * xp.log1p(s)
    # The limits: T = 0 the running maximum; T = inf the entry itself while it is alone,
    # +inf beyond (the maximum covers the −inf of an empty prefix and the +inf entries).
    if temp.kind == "zero":
        y = m
    elif temp.kind == "inf":
        y = xp.where(count > 1, full_like_scalar(xp, m, math.inf), m)
    elif temp.kind == "array":
        y = xp.where(t == 0, m, y)
        y = xp.where(xp.isinf(t), xp.where(count > 1, full_like_scalar(xp, m, math.inf), m), y)
    y = xp.where(m == math.inf, m, y)  # an empty prefix gives −inf already: m = −inf, s = 0
    y = xp.where(nan_seen, full_like_scalar(xp, y, math.nan), y)
    if reverse:
        y = xp.flip(y, axis=-1)
    return xp.permute_dims(y, back)


def _cum_any(xp: Any, cond: Array) -> Array:
    """Whether ``cond`` held at or before each position along the last axis."""
    return _shift_scan(xp, cond, lambda a, b: a | b, False)


def _shift(xp: Any, a: Array, d: int, fill: Any) -> Array:
    """``a`` moved ``d`` places forward along the last axis, the first ``d`` set to ``fill``."""
    n = a.shape[-1]
    pad = xp.full((*a.shape[:-1], min(d, n)), fill, dtype=a.dtype, device=_device(a))
    return xp.concat([pad, a[..., : n - min(d, n)]], axis=-1)


def _device(a: Array) -> Any:
    import array_api_compat

    return array_api_compat.device(a)


def _shift_scan(xp: Any, a: Array, op: Any, fill: Any) -> Array:
    """Inclusive prefix scan of an associative ``op`` along the last axis (Hillis–Steele)."""
    n, d = a.shape[-1], 1
    while d < n:
        a = op(_shift(xp, a, d, fill), a)
        d *= 2
    return a


def _prefix(
    xp: Any, x: Array, temp: Any, t: Array | None, v: Array | None = None
) -> tuple[Array, Array, Array, Array | None]:
    """``(M, s, count, w)`` of every prefix: ``Σ_{j≤i} e^{x_j/T} = e^{M/T}(1 + s)``; ``w`` is
    ``Σ_{j≤i} e^{(x_j − M)/T} v_j`` when a tangent ``v`` is given (else None).

    ``x`` has no NaN (−inf stands for excluded entries). ``count`` is the number of admissible
    (> −inf) entries in the prefix (for the limit T = inf). Each pass combines the state of
    position i with that of i − d (the identity ``(−inf, 0)`` before the start):

    ``M = max(M_a, M_b)`` and ``s = s_big + (1 + s_small)·e^{(M_small − M_big)/T}``,

    where the difference of the maxima (two input values) is split exactly by TwoSum and
    divided by T in double-word arithmetic, so the exponential sees it to about twice the
    working precision. Ties add exactly ``1 + s_small``; an empty side adds nothing.
    """
    zero = full_like_scalar(xp, x, 0.0)
    m, s = x, xp.zeros_like(x)
    w = None
    if v is not None:
        # Each entry's own term is e^0 v_j = v_j (0 at excluded entries, which the caller
        # zeroed; an empty prefix keeps w = 0).
        w = xp.where(x > -math.inf, v, xp.zeros_like(v))
    count = xp.astype(x > -math.inf, x.dtype)
    t_safe: Any = None
    if temp.kind == "scalar":
        t_safe = float(temp.value)
    elif temp.kind == "array":
        assert t is not None
        t_safe = xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t)
    n, d = x.shape[-1], 1
    while d < n:
        m_a = _shift(xp, m, d, -math.inf)
        s_a = _shift(xp, s, d, 0.0)
        count = count + _shift(xp, count, d, 0.0)
        a_big = m_a >= m
        big = xp.where(a_big, m_a, m)
        small = xp.where(a_big, m, m_a)
        s_big = xp.where(a_big, s_a, s)
        s_small = xp.where(a_big, s, s_a)
        # small − big = hi + lo exactly (TwoSum); equal maxima (+inf included) give 0, an
        # empty side (small = −inf) gives −inf and adds nothing.
        live = (small > -math.inf) & (small != big)
        bf = xp.where(live, big, zero)
        sf = xp.where(live, small, zero)
        hi = sf - bf
        bb = hi - sf
        lo = (sf - (hi - bb)) + (-bf - bb)
        lo = xp.where(xp.isfinite(hi), lo, zero)
        if t_safe is not None:
            hi, lo = divide_dw(xp, hi, lo, t_safe)
        e = exp_dw(xp, hi, lo)
        e = xp.where(small == big, full_like_scalar(xp, e, 1.0), xp.where(live, e, zero))
        e = xp.where(small == -math.inf, zero, e)
        s = s_big + (1.0 + s_small) * e
        if w is not None:
            w_a = _shift(xp, w, d, 0.0)
            w = xp.where(a_big, w_a, w) + xp.where(a_big, w, w_a) * e
        m = big
        d *= 2
    return m, s, count, w
