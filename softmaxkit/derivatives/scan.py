r"""Closed-form derivatives of :func:`~softmaxkit.logcumsumexp`.

Entry i of the output is ``T log Σ_{j≤i} e^{x_j/T}`` (j ≥ i with ``reverse``), a logsumexp of
the prefix, so row i of the Jacobian is the softmax of that prefix:

.. math:: \frac{\partial y_i}{\partial x_j} = e^{(x_j - y_i)/T}\,[j \le i]
          = \operatorname{softmax}(x_{\le i}, T)_j.

The JVP and VJP never form it. The JVP rides on the map's own prefix scan, which carries
``Σ e^{(x_j − M_i)/T} v_j`` beside its sum (linear in v, so JAX transposes it); the VJP splits
the cotangent into its positive and negative parts and takes differences of exponentials of
two more reversed cumulative log-sum-exps (see
:func:`~softmaxkit.derivatives.forms.logcumsumexp_tangent`). Both are O(n log n) per row and
overflow-free. From a prefix's first +inf on the
derivative is shared equally among its +inf entries (as for logsumexp: two cumulative sums).
At T = 0 (the hardmax of the prefix, shared among its ties) and T = inf (uniform over the
prefix's admissible entries) they contract the Jacobian, built from the library's softmax of
each prefix, O(n²) per row (also when an array temperature cannot be inspected). Masked and
−inf entries have zero columns; an empty prefix has a zero row; NaN propagates from its
position on, as in the map.

Shapes: ``logcumsumexp_jvp(x, v)`` and ``logcumsumexp_vjp(x, u)`` are shaped like ``x``;
``logcumsumexp_jacobian(x)`` is ``batch + (n, n)`` with ``J[..., i, j] = ∂y_i/∂x_j`` and
``logcumsumexp_hessian(x)`` ``batch + (n, n, n)`` (the axis moved last).
"""

from __future__ import annotations

import math
from typing import Any

from softmaxkit._base.core import Setup, full_like_scalar, quiet, setup
from softmaxkit.derivatives import forms
from softmaxkit.derivatives._rows import deliver, surely_false, tangent
from softmaxkit.derivatives.softmax import softmax_jacobian
from softmaxkit.maps import softmax
from softmaxkit.scan import logcumsumexp, tangent_scan

__all__ = [
    "logcumsumexp_hessian",
    "logcumsumexp_jacobian",
    "logcumsumexp_jvp",
    "logcumsumexp_vjp",
]

Array = Any
_ALONG = "a cumulative sum runs along one axis"


def _setup(fn: str, x: Any, axis: Any, temperature: Any, where: Any) -> Setup:
    return setup(fn, x, axis=axis, temperature=temperature, where=where, along=_ALONG)


def _last(c: Setup, a: Array) -> Array:
    """``a`` (x's layout or kept dims) with the scanned axis moved last."""
    ax, nd = c.axes[0], len(c.shape)
    return c.xp.permute_dims(a, (*(i for i in range(nd) if i != ax), ax))


def _from_last(c: Setup, a: Array) -> Array:
    ax, nd = c.axes[0], len(c.shape)
    perm = (*(i for i in range(nd) if i != ax), ax)
    return c.xp.permute_dims(a, tuple(perm.index(i) for i in range(nd)))


def _prefix_rows(c: Setup, reverse: bool) -> tuple[Array, Array, Any]:
    """``(X, W, T)``: every prefix as a masked row of an ``batch + (n, n)`` array (row i keeps
    the entries j ≤ i, or j ≥ i with ``reverse``, and the unmasked ones), with T in the rows
    layout ``batch + (1, 1)`` for the softmax over the last axis."""
    xp = c.xp
    xl = _last(c, c.x)
    n = xl.shape[-1]
    i = xp.arange(n, device=c.device)
    tri = xp.expand_dims(i, axis=1) >= xp.expand_dims(i, axis=0)  # [i, j]: j ≤ i
    if reverse:
        tri = xp.expand_dims(i, axis=1) <= xp.expand_dims(i, axis=0)
    shape = (*xl.shape, n)
    big = xp.broadcast_to(xp.expand_dims(xl, axis=-2), shape)
    keep = xp.broadcast_to(tri, shape)
    if c.mask is not None:
        keep = keep & xp.expand_dims(_last(c, c.mask), axis=-2)
    temp: Any = {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(c.temp.kind, c.temp.value)
    if c.temp.kind == "array":
        temp = xp.expand_dims(_last(c, c.temp.value), axis=-1)
    return big, keep, temp


def _special(c: Setup) -> bool:
    """Whether the Jacobian route is needed: T = 0 or inf somewhere (unknown for a lazy
    temperature array: then yes)."""
    xp, temp = c.xp, c.temp
    if temp.kind in ("zero", "inf"):
        return True
    return temp.kind == "array" and not surely_false(
        xp, (temp.value == 0) | xp.isinf(temp.value))


def _cumsum(c: Setup, a: Array, reverse: bool) -> Array:
    """Inclusive cumulative sum along the scanned axis, from the end with ``reverse``."""
    xp, ax = c.xp, c.axes[0]
    if reverse:
        return xp.flip(xp.cumulative_sum(xp.flip(a, axis=ax), axis=ax), axis=ax)
    return xp.cumulative_sum(a, axis=ax)


def _infinite(c: Setup, reverse: bool) -> tuple[Array, Array]:
    """``(at, k)``: the kept +inf entries, and how many of them each prefix holds. From the
    first one on, the prefix's softmax shares its mass among them: ``∂y_i/∂x_j = 1/k_i`` on
    them, 0 elsewhere (as for logsumexp)."""
    xp = c.xp
    at = forms.taking_part(c.x, c.mask) & (c.x == math.inf)
    return at, _cumsum(c, xp.astype(at, c.compute_dtype), reverse)


def _kw(c: Setup, temperature: Any, reverse: bool, where: Any) -> dict[str, Any]:
    return {"axis": c.axes[0], "temperature": temperature, "reverse": reverse, "where": where,
            "dtype": c.compute_dtype}


def _t_log(c: Setup, v: Array) -> Array:
    """``T·log v`` (v ≥ 0; log 0 = −inf) with T as the map takes it (finite here)."""
    xp, temp = c.xp, c.temp
    lv = xp.log(v)
    if temp.kind == "scalar":
        return lv * float(temp.value)
    if temp.kind == "array":
        return lv * temp.value
    return lv


@quiet
def logcumsumexp_jacobian(
    x: Any, /, *, axis: int = -1, temperature: Any = 1.0, reverse: bool = False,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.logcumsumexp`: row i is the softmax of the prefix.

    .. math:: J_{ij} = \partial y_i / \partial x_j = e^{(x_j - y_i)/T}\,[j \le i]

    Parameters
    ----------
    x, axis, temperature, reverse, where
        As for the map.

    Returns
    -------
    array
        ``batch + (n, n)`` (the scanned axis moved last). Every limit is the softmax's: the
        hardmax of the prefix at T = 0, uniform at T = inf, shared among +inf entries;
        masked and −inf entries give zero columns, an empty prefix a zero row.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logcumsumexp_jacobian
    >>> logcumsumexp_jacobian(np.array([0.0, 0.0, np.log(2.0)]))
    array([[1.  , 0.  , 0.  ],
           [0.5 , 0.5 , 0.  ],
           [0.25, 0.25, 0.5 ]])
    """
    c = _setup("logcumsumexp_jacobian", x, axis, temperature, where)
    big, keep, temp = _prefix_rows(c, reverse)
    return deliver(c, softmax(big, axis=-1, temperature=temp, where=keep))


@quiet
def logcumsumexp_hessian(
    x: Any, /, *, axis: int = -1, temperature: Any = 1.0, reverse: bool = False,
    where: Any = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.logcumsumexp`: the softmax Jacobian of each prefix.

    .. math:: H_{ijk} = \partial^2 y_i / \partial x_j \partial x_k
              = (\delta_{jk} q_j - q_j q_k)/T, \qquad q = \operatorname{softmax}(x_{\le i}, T)

    Returns
    -------
    array
        ``batch + (n, n, n)``; 0 where the prefix's softmax is locally constant (T = 0 or
        inf, +inf entries), as for logsumexp. O(n³) memory per row.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logcumsumexp_hessian
    >>> logcumsumexp_hessian(np.array([0.0, 0.0]))[1]
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    c = _setup("logcumsumexp_hessian", x, axis, temperature, where)
    big, keep, temp = _prefix_rows(c, reverse)
    return deliver(c, softmax_jacobian(big, axis=-1, temperature=temp, where=keep))


def _by_jacobian(c: Setup, v: Array, reverse: bool, transpose: bool) -> Array:
    """``J v`` (or ``uᵀ J``) through the prefix softmaxes, in x's layout."""
    xp = c.xp
    big, keep, temp = _prefix_rows(c, reverse)
    jac = softmax(big, axis=-1, temperature=temp, where=keep)
    vl = _last(c, v)
    zero = full_like_scalar(xp, jac, 0.0)
    if transpose:
        prod = xp.where(jac != 0, jac * xp.expand_dims(vl, axis=-1), zero)
        return _from_last(c, xp.sum(prod, axis=-2))
    prod = xp.where(jac != 0, jac * xp.expand_dims(vl, axis=-2), zero)
    return _from_last(c, xp.sum(prod, axis=-1))


@quiet
def logcumsumexp_jvp(
    x: Any, v: Any, /, *, axis: int = -1, temperature: Any = 1.0, reverse: bool = False,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.logcumsumexp` without forming J.

    .. math:: \dot y_i = \sum_{j \le i} e^{(x_j - y_i)/T} v_j = w_i / (1 + s_i)

    with ``y_i = M_i + T log1p(s_i)`` from the map's prefix scan, which carries
    ``w_i = Σ_{j≤i} e^{(x_j − M_i)/T} v_j`` along (linear in v, overflow-free).

    Parameters
    ----------
    x, axis, temperature, reverse, where
        As for the map.
    v : array_like
        The tangent, broadcastable to ``x``; its entries at masked and −inf positions are
        ignored (even non-finite ones).

    Returns
    -------
    array
        Shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logcumsumexp_jvp
    >>> logcumsumexp_jvp(np.array([0.0, 0.0, np.log(2.0)]), np.array([1.0, 0.0, -1.0]))
    array([ 1.  ,  0.5 , -0.25])
    """
    c = _setup("logcumsumexp_jvp", x, axis, temperature, where)
    xp = c.xp
    vv = tangent(c, v, "v")
    kept = forms.taking_part(c.x, c.mask)
    zero = full_like_scalar(xp, vv, 0.0)
    vv = xp.where(kept, vv, zero)
    if _special(c):
        return deliver(c, _by_jacobian(c, vv, reverse, transpose=False))
    at, k = _infinite(c, reverse)
    # The scan of the map carries Σ e^{(x_j − M)/T} v_j beside its sum: linear in v (JAX
    # transposes it for reverse mode), no overflow, and as accurate as the map.
    out = tangent_scan(c, xp.where(at, zero, vv), reverse)
    # From a prefix's first +inf on, the tangent is the mean of v over its +inf entries.
    one = full_like_scalar(xp, k, 1.0)
    shared = _cumsum(c, xp.where(at, vv, zero), reverse) / xp.where(k > 0, k, one)
    return deliver(c, xp.where(k > 0, shared, out))


@quiet
def logcumsumexp_vjp(
    x: Any, u: Any, /, *, axis: int = -1, temperature: Any = 1.0, reverse: bool = False,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.logcumsumexp` without forming J.

    .. math:: \bar x_j = \sum_{i \ge j} u_i e^{(x_j - y_i)/T}
              = e^{(x_j + B^+_j)/T} - e^{(x_j + B^-_j)/T},
              \qquad B^\pm = \operatorname{logcumsumexp}(T\log u^\pm - y,
              \text{reversed})

    Parameters
    ----------
    x, axis, temperature, reverse, where
        As for the map.
    u : array_like
        The cotangent, broadcastable to ``x``; entries where the output is the constant −inf
        (an empty prefix) are ignored.

    Returns
    -------
    array
        Shaped like ``x``; 0 at masked and −inf entries.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logcumsumexp_vjp
    >>> logcumsumexp_vjp(np.array([0.0, 0.0, np.log(2.0)]), np.array([0.0, 0.0, 1.0]))
    array([0.25, 0.25, 0.5 ])
    """
    c = _setup("logcumsumexp_vjp", x, axis, temperature, where)
    xp = c.xp
    uu = tangent(c, u, "u")
    kw = _kw(c, temperature, reverse, where)
    y = logcumsumexp(c.x, **kw)
    zero = full_like_scalar(xp, uu, 0.0)
    uu = xp.where(y == -math.inf, zero, uu)
    if _special(c):
        return deliver(c, _by_jacobian(c, uu, reverse, transpose=True))
    at, k = _infinite(c, reverse)
    one = full_like_scalar(xp, k, 1.0)
    # Outputs from a prefix's first +inf on depend on the +inf entries only (shared equally).
    shared = _cumsum(c, xp.where(k > 0, uu / xp.where(k > 0, k, one), zero), not reverse)
    uu = xp.where(k > 0, zero, uu)
    back = {**kw, "reverse": not reverse, "where": None}
    ys = xp.where(y == -math.inf, zero, y)
    b_pos = logcumsumexp(_t_log(c, xp.where(uu < 0, zero, uu)) - ys, **back)
    b_neg = logcumsumexp(_t_log(c, xp.where(uu < 0, -uu, zero)) - ys, **back)
    kept = forms.taking_part(c.x, c.mask)
    xk = xp.where(kept & ~at, c.x, full_like_scalar(xp, c.x, -math.inf))
    out = forms.logcumsumexp_tangent(xp, xk + b_pos, xk + b_neg, zero,
                                     forms.temperature_divisor(xp, c.temp))
    return deliver(c, xp.where(at, shared, out))
