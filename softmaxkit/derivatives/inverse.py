r"""Closed-form derivatives of the inverse maps: inverse_softmax (per gauge), base_softmax
and base_logits.

The inverse derivatives are formulas in the probabilities ``p`` (the inverse map's input): with
the finite logits ``F`` (zero and masked probabilities map to the constant −inf and get
exactly-zero rows and columns), ``∂x_i/∂p_j`` is ``T δ_ij / p_j`` minus the derivative of the
gauge's constant. They are evaluated here, once, per gauge. The base-state map
``base_softmax`` is the softmax of the logits extended by a fixed 0, so its derivatives are
the softmax forms of :mod:`softmaxkit.derivatives.forms` without the fixed state's columns;
``base_logits`` is ``inverse_softmax`` with the reference gauge, without the base row.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from softmaxkit._base.arrays import delete, insert, rsum
from softmaxkit._base.core import Setup, full_like_scalar, prepare, quiet, setup
from softmaxkit.derivatives import forms
from softmaxkit.derivatives._rows import (
    deliver,
    row_flags,
    rows_arranger,
    same,
    tangent,
    times_t,
    to_rows,
    zeros_out,
)
from softmaxkit.derivatives.softmax import (
    softmax_hessian_rows,
    softmax_jacobian_rows,
    softmax_jvp_rows,
)
from softmaxkit.inverse import base_logits, base_softmax, inverse_softmax

__all__ = [
    "base_logits_hessian",
    "base_logits_jacobian",
    "base_logits_jvp",
    "base_logits_vjp",
    "base_softmax_hessian",
    "base_softmax_jacobian",
    "base_softmax_jvp",
    "base_softmax_vjp",
    "inverse_softmax_hessian",
    "inverse_softmax_jacobian",
    "inverse_softmax_jvp",
    "inverse_softmax_vjp",
]

Array = Any


def _col(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-1)


def _row(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-2)


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
) -> tuple[Setup, Array, int | None]:
    """Validate through :func:`softmaxkit.inverse_softmax`; returns (context, finite logits,
    normalised reference index or None)."""
    c = setup(fn, p, axis=axis, temperature=temperature, where=where, name="p")
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
        dtype=c.compute_dtype,
    )
    ref = None
    if gauge == "reference":
        ref = int(reference) % c.shape[c.axes[0]]
    return c, x > -math.inf, ref


def _one_hot(c: Setup, index: int) -> Array:
    """True at ``index`` along the (single) reduced axis, broadcastable to the input."""
    ax = c.axes[0]
    n = c.shape[ax]
    hot = c.xp.arange(n, device=c.device) == index
    return c.xp.reshape(hot, tuple(n if k == ax else 1 for k in range(len(c.shape))))


def _rest(xp: Any, pr: Array, total: Array) -> Array:
    """``total − p_j`` along the last axis to full relative accuracy (cf. :func:`forms.complement`):
    the entry above half the total gets the sum of the others."""
    big = pr > 0.5 * total
    others = xp.sum(xp.where(big, full_like_scalar(xp, pr, 0.0), pr), axis=-1, keepdims=True)
    return xp.where(big, others, total - pr)


def _count(c: Setup, fin: Array) -> Array:
    """Number of finite logits per row (1 for rows without any, which are all zero)."""
    m = rsum(c.xp, c.xp.astype(fin, c.compute_dtype), c.axes)
    return c.xp.where(m > 0, m, full_like_scalar(c.xp, m, 1.0))


def _mass(c: Setup, p: Array, fin: Array, axes_last: bool = False) -> Array:
    xp = c.xp
    zero = full_like_scalar(xp, p, 0.0)
    if axes_last:
        s = xp.sum(xp.where(fin, p, zero), axis=-1, keepdims=True)
    else:
        s = rsum(xp, xp.where(fin, p, zero), c.axes)
    return xp.where(s > 0, s, full_like_scalar(xp, s, 1.0))


def _inverse_jvp_p(c: Setup, p: Array, fin: Array, v: Array, gauge: str, ref: int | None) -> Array:
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
    return times_t(c, xp.where(fin, w - sub, zero), same)


def _inverse_vjp_p(c: Setup, p: Array, fin: Array, u: Array, gauge: str, ref: int | None) -> Array:
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
    return times_t(c, xp.where(fin, g, zero), same)


def _inverse_jacobian_p(c: Setup, p: Array, fin: Array, gauge: str, ref: int | None) -> Array:
    """``J[..., i, j] = ∂x_i/∂p_j`` (rows layout), see :func:`inverse_softmax_jacobian`."""
    xp = c.xp
    pr = to_rows(c, p)
    fr = to_rows(c, fin)
    n = pr.shape[-1]
    zero = full_like_scalar(xp, pr, 0.0)
    ps = xp.where(fr, pr, full_like_scalar(xp, pr, 1.0))
    inv = _row(xp, 1.0 / ps)
    eye = forms.eye(xp, n, c.device)
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
    return times_t(c, j, rows_arranger(c, 1))


def _inverse_hessian_p(c: Setup, p: Array, fin: Array, gauge: str, ref: int | None) -> Array:
    """``H[..., i, j, k] = ∂²x_i/∂p_j∂p_k`` (rows layout), see :func:`inverse_softmax_hessian`."""
    xp = c.xp
    pr = to_rows(c, p)
    fr = to_rows(c, fin)
    n = pr.shape[-1]
    zero = full_like_scalar(xp, pr, 0.0)
    ps = xp.where(fr, pr, full_like_scalar(xp, pr, 1.0))
    inv2 = _row(xp, 1.0 / (ps * ps))  # indexed by j
    eye = forms.eye(xp, n, c.device)
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
    return times_t(c, h, rows_arranger(c, 2))


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
    c, fin, ref = _inverse_setup("inverse_softmax_jvp", p, axis, temperature, gauge, reference,
                                 value, atol, normalize, where)
    vv = tangent(c, v, "v")
    if c.empty:
        return zeros_out(c, c.shape)
    return deliver(c, _inverse_jvp_p(c, c.x, fin, vv, gauge, ref))


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
    c, fin, ref = _inverse_setup("inverse_softmax_vjp", p, axis, temperature, gauge, reference,
                                 value, atol, normalize, where)
    uu = tangent(c, u, "u")
    if c.empty:
        return zeros_out(c, c.shape)
    return deliver(c, _inverse_vjp_p(c, c.x, fin, uu, gauge, ref))


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
    c, fin, ref = _inverse_setup("inverse_softmax_jacobian", p, axis, temperature, gauge, reference,
                                 value, atol, normalize, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n))
    return deliver(c, _inverse_jacobian_p(c, c.x, fin, gauge, ref))


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
    c, fin, ref = _inverse_setup("inverse_softmax_hessian", p, axis, temperature, gauge, reference,
                                 value, atol, normalize, where)
    if c.empty:
        return zeros_out(c, (*c.batch, c.n, c.n, c.n))
    return deliver(c, _inverse_hessian_p(c, c.x, fin, gauge, ref))


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
) -> tuple[Setup, Setup, Array, int]:
    """(context of z, context of the extended logits x, p, normalised base)."""
    # The map validates z, the axis, the base and the mask, and names itself in its errors.
    probe = prepare(z, name="z", fn=fn)
    p = base_softmax(
        z, axis=axis, temperature=temperature, base=base, where=where, dtype=probe.compute_dtype
    )
    cz = setup(fn, z, axis=axis, temperature=temperature, where=where, name="z")
    xp = cz.xp
    ax = cz.axes[0]
    b = int(base) % (cz.shape[ax] + 1)
    x = insert(xp, cz.x, ax, b, 0.0)
    mask = None if cz.mask is None else insert(xp, cz.mask, ax, b, True)
    cx = dataclasses.replace(cz, raw=x, mask=mask)
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
    vv = tangent(cz, v, "v")
    if cx.empty:
        return zeros_out(cx, cx.shape)
    vx = insert(cx.xp, vv, cx.axes[0], b, 0.0)
    return deliver(cx, softmax_jvp_rows(cx, p, vx, row_flags(cx)))


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
    uu = tangent(cx, u, "u")
    if cx.empty:
        return zeros_out(cx, delete(cx.xp, cx.raw, cx.axes[0], b).shape)
    g = softmax_jvp_rows(cx, p, uu, row_flags(cx))
    return deliver(cx, delete(cx.xp, g, cx.axes[0], b))


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
        return zeros_out(cx, (*cx.batch, cx.n, cx.n - 1))
    j = softmax_jacobian_rows(cx, p, row_flags(cx))
    return deliver(cx, delete(cx.xp, j, -1, b))


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
        return zeros_out(cx, (*cx.batch, cx.n, cx.n - 1, cx.n - 1))
    h = softmax_hessian_rows(cx, p, row_flags(cx))
    return deliver(cx, delete(cx.xp, delete(cx.xp, h, -1, b), -2, b))


def _base_logits_setup(
    fn: str, p: Any, axis: Any, temperature: Any, base: Any, atol: Any, normalize: Any
) -> tuple[Setup, Array, int, tuple[int, ...]]:
    """(context of p, finite logits over all n entries, normalised base, shape of z)."""
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
    c = setup(fn, p, axis=axis, temperature=temperature, name="p")
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
    vv = tangent(c, v, "v")
    ax = c.axes[0]
    if c.empty:
        return zeros_out(c, delete(c.xp, c.raw, ax, b).shape)
    full = _inverse_jvp_p(c, c.x, fin, vv, "reference", b)
    return deliver(c, delete(c.xp, full, ax, b))


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
    uu = tangent(c, u, "u", shape=z_shape)
    if c.empty:
        return zeros_out(c, c.shape)
    full = insert(c.xp, uu, c.axes[0], b, 0.0)
    return deliver(c, _inverse_vjp_p(c, c.x, fin, full, "reference", b))


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
        return zeros_out(c, (*c.batch, max(c.n - 1, 0), c.n))
    j = _inverse_jacobian_p(c, c.x, fin, "reference", b)
    return deliver(c, delete(c.xp, j, -2, b))


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
        return zeros_out(c, (*c.batch, max(c.n - 1, 0), c.n, c.n))
    h = _inverse_hessian_p(c, c.x, fin, "reference", b)
    return deliver(c, delete(c.xp, h, -3, b))


for _f in (base_softmax_jvp, base_softmax_vjp, base_softmax_jacobian, base_softmax_hessian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _BASE_SOFTMAX_NOTES)
for _f in (base_logits_jvp, base_logits_vjp, base_logits_jacobian, base_logits_hessian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _BASE_LOGITS_NOTES)
del _f
