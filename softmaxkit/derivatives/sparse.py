r"""Closed-form derivatives of the sparse maps: sparsemax, entmax15, entmax and alpha_relu.

α-entmax (sparsemax is α = 2, 1.5-entmax α = 1.5) has the symmetric Jacobian
``(diag(g) − g gᵀ/Σg)/T`` with the weights ``g = p^(2−α)`` on the support of its output p; α-ReLU
(the same formula with a fixed threshold) the diagonal ``diag(r^(2−α))/T``. Each function here
validates its arguments, computes the map's output with the library's own map (so every edge
case is inherited), takes the weights and the formula from :mod:`softmaxkit.derivatives.forms`,
and returns the result in the output dtype. :func:`entmax_alpha_derivative` is ∂p/∂α.

Rows that are locally constant — at T = 0 (hardmax), T = inf (uniform), and rows holding +inf
entries (for the normalised maps) — get weights 0 and so derivative 0; empty rows have p = 0 and
so derivative 0; rows holding NaN give NaN.

These functions lived in :mod:`softmaxkit.sparse` before; that module still forwards their
names here (with a ``DeprecationWarning``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from softmaxkit._base.arrays import device_of, rsum
from softmaxkit._base.core import Setup, finish, full_like_scalar, quiet, setup
from softmaxkit._base.sparse_kernel import check_alpha, check_relu_args, to_rows
from softmaxkit.derivatives import forms
from softmaxkit.derivatives._rows import deliver
from softmaxkit.maps import log_softmax
from softmaxkit.sparse import alpha_relu, entmax, entmax15, sparsemax

__all__ = [
    "alpha_relu_jacobian",
    "alpha_relu_jvp",
    "alpha_relu_vjp",
    "entmax15_hessian",
    "entmax15_jacobian",
    "entmax15_jvp",
    "entmax15_vjp",
    "entmax_alpha_derivative",
    "entmax_hessian",
    "entmax_jacobian",
    "entmax_jvp",
    "entmax_vjp",
    "sparsemax_hessian",
    "sparsemax_jacobian",
    "sparsemax_jvp",
    "sparsemax_vjp",
]

Array = Any


# --------------------------------------------------------------------------------------------
# Shared steps: weights, tangents, the three kinds of result
# --------------------------------------------------------------------------------------------


def _weights(
    fn: str, x: Any, axis: Any, temperature: Any, where: Any, alpha: float, n_iter: int | None
) -> tuple[Setup, Array, Array, Any]:
    """The validated input, the map's output p, the Jacobian's weights g = p^(2−α) on the
    support (0 elsewhere and in constant rows) and the temperature divisor, in the compute
    dtype and the input layout.

    α = 2 and 1.5 take the exact maps (sparsemax, entmax15) and their exact weights. Rows are
    constant — weights 0 — at T = 0 (hardmax), T = inf (uniform) and when they hold +inf
    entries; empty rows have p = 0 and so g = 0; NaN rows keep their NaN, at every T.
    """
    c = setup(fn, x, axis=axis, temperature=temperature, where=where)
    axes, temp, mask = c.axes, c.temp, c.mask
    xp = c.xp
    kw = {"axis": axis, "temperature": temperature, "where": where, "dtype": c.compute_dtype}
    if alpha == 2.0:
        p, kind = sparsemax(x, **kw), "sparsemax"
    elif alpha == 1.5:
        p, kind = entmax15(x, **kw), "entmax15"
    else:
        p, kind = entmax(x, alpha=alpha, n_iter=n_iter, **kw), "entmax"
    g = forms.sparse_weights(xp, p, alpha, kind)
    # The one row classification (forms.classify_rows): constant rows get weight 0; a NaN
    # row is never constant, so its NaN flows (at T = 0 and inf too).
    rc = forms.classify_rows(xp, c.x, axes, mask=mask, temperature=temp)
    t: Any = 1.0 if rc.divisor is None else rc.divisor
    g = xp.where(rc.dead, full_like_scalar(xp, p, 0.0), g)
    return c, p, g, t


def _tangent(c: Setup, v: Any, name: str, fn: str) -> Array:
    """A tangent or cotangent in ``x``'s namespace, shape and compute dtype."""
    xp = c.xp
    if isinstance(v, (list, tuple, numbers.Number)) or isinstance(v, np.ndarray):
        arr = np.asarray(v)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: {name} must hold real numbers, got dtype {arr.dtype}")
        v = xp.asarray(arr, device=device_of(c.raw))
    shape = tuple(c.raw.shape)
    try:
        ok = np.broadcast_shapes(tuple(v.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: {name} of shape {tuple(v.shape)} does not broadcast to x's shape {shape}"
        )
    return xp.broadcast_to(xp.astype(v, c.compute_dtype), shape)


def _rows_t(c: Setup, t: Any) -> Any:
    """The divisor in the rows layout of the matrix forms."""
    return t if isinstance(t, float) else to_rows(c.xp, t, c.axes)[0]


def _jvp(fn: str, x: Any, v: Any, name: str, axis: Any, temperature: Any, where: Any,
         alpha: float, n_iter: int | None) -> Array:
    """``J v`` (= ``vᵀ J``: the Jacobian is symmetric) of α-entmax."""
    c, _, g, t = _weights(fn, x, axis, temperature, where, alpha, n_iter)
    return deliver(c, forms.sparse_jvp(c.xp, g, _tangent(c, v, name, fn), c.axes, t))


def _jacobian(fn: str, x: Any, axis: Any, temperature: Any, where: Any, alpha: float,
              n_iter: int | None) -> Array:
    """The Jacobian of α-entmax, ``batch + (n, n)``."""
    c, _, g, t = _weights(fn, x, axis, temperature, where, alpha, n_iter)
    gr = to_rows(c.xp, g, c.axes)[0]
    return deliver(c, forms.sparse_jacobian(c.xp, gr, _rows_t(c, t)))


def _hessian(fn: str, x: Any, axis: Any, temperature: Any, where: Any, alpha: float,
             n_iter: int | None) -> Array:
    """The Hessian of α-entmax, ``batch + (n, n, n)``."""
    c, p, g, t = _weights(fn, x, axis, temperature, where, alpha, n_iter)
    xp = c.xp
    pr, gr = to_rows(xp, p, c.axes)[0], to_rows(xp, g, c.axes)[0]
    return deliver(c, forms.sparse_hessian(xp, pr, gr, alpha, _rows_t(c, t)))


def _relu_weights(
    fn: str, x: Any, alpha: Any, tau: Any, axis: Any, temperature: Any, where: Any
) -> tuple[Setup, Array]:
    """The diagonal of α-ReLU's Jacobian, r^(2−α)/T on 0 < r < inf (0 elsewhere and in rows
    at T = 0 or inf), NaN in NaN rows; in the compute dtype and the input layout."""
    a, t = check_relu_args(alpha, tau, fn)
    c = setup(fn, x, axis=axis, temperature=temperature, where=where)
    temp = c.temp
    xp = c.xp
    r = alpha_relu(x, alpha=a, tau=t, axis=axis, temperature=temperature, where=where,
                   dtype=c.compute_dtype)
    zero = full_like_scalar(xp, r, 0.0)
    g = forms.sparse_weights(xp, r, a, "alpha_relu")
    if temp.kind == "scalar":
        g = g / temp.value
    elif temp.kind in ("zero", "inf"):
        g = zero * g
    elif temp.kind == "array":
        tv = temp.value
        limit = (tv == 0) | (tv == math.inf)
        g = xp.where(limit, zero, g / xp.where(limit, full_like_scalar(xp, tv, 1.0), tv))
    g = xp.where(xp.isnan(r), r, g)
    return c, g


def _relu_diagonal(
    fn: str, x: Any, v: Any, name: str, alpha: Any, tau: Any, axis: Any, temperature: Any,
    where: Any,
) -> Array:
    """``diag(g) v``: the JVP and the VJP of α-ReLU (its Jacobian is diagonal)."""
    c, g = _relu_weights(fn, x, alpha, tau, axis, temperature, where)
    return deliver(c, forms.alpha_relu_jvp(c.xp, g, _tangent(c, v, name, fn)))


# --------------------------------------------------------------------------------------------
# sparsemax, entmax15, entmax
# --------------------------------------------------------------------------------------------


@quiet
def sparsemax_jvp(
    x: Any, v: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.sparsemax`: ``J @ v`` without forming J.

    .. math:: J = \bigl(\operatorname{diag}(s) - s s^\top / |S|\bigr) / T, \qquad
              J v = s \odot (v - \langle s, v\rangle / |S|) / T,

    with s the indicator of the support S = {i : p_i > 0}. J is symmetric, so this is also
    the VJP.

    Parameters
    ----------
    x : array_like
        Scores, any array-API array.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`~softmaxkit.sparsemax`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    Sparsemax is piecewise linear; at a point where an entry enters or leaves the support
    (``x_i/T == τ``) this is the one-sided derivative the support defines. Entries off the
    support (masked, −inf, below the threshold) get 0 and their tangents are ignored; rows at
    T = 0 or inf, rows holding +inf and empty rows give 0; NaN rows give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_jvp
    >>> sparsemax_jvp(np.array([0.1, 1.1, 0.2]), np.array([1.0, 2.0, 4.0]))
    array([ 0., -1.,  1.])
    """
    return _jvp("sparsemax_jvp", x, v, "v", axis, temperature, where, 2.0, None)


@quiet
def sparsemax_vjp(
    x: Any, u: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.sparsemax`: ``u @ J`` (equal to ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`~softmaxkit.sparsemax`.

    Returns
    -------
    array
        Shape and array kind of ``x``; see :func:`sparsemax_jvp` for the formula and edge cases.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_vjp
    >>> sparsemax_vjp(np.array([0.1, 1.1, 0.2]), np.array([0.0, 1.0, 0.0]), temperature=2)
    array([-0.16666667,  0.33333333, -0.16666667])
    """
    return _jvp("sparsemax_vjp", x, u, "u", axis, temperature, where, 2.0, None)


@quiet
def sparsemax_jacobian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.sparsemax`, ``(diag(s) − s sᵀ/|S|)/T``.

    Parameters
    ----------
    x : array_like
        Scores.
    axis, temperature, where
        As for :func:`~softmaxkit.sparsemax`.

    Returns
    -------
    array
        Shape ``batch + (n, n)``: the reduced axes moved last and flattened (C order), as for
        the other ``*_jacobian`` functions of the library.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_jacobian
    >>> sparsemax_jacobian(np.array([0.1, 1.1, 0.2]))
    array([[ 0. ,  0. ,  0. ],
           [ 0. ,  0.5, -0.5],
           [ 0. , -0.5,  0.5]])
    """
    return _jacobian("sparsemax_jacobian", x, axis, temperature, where, 2.0, None)


_ENTMAX_DERIV_NOTES = """With p the output and g = p^(2−α) on the support (0 off it),

    .. math:: J = \\bigl(\\operatorname{diag}(g) - g g^\\top / \\textstyle\\sum_i g_i\\bigr) / T,

    which is symmetric (so the JVP and the VJP coincide); α = 2 gives sparsemax's Jacobian and
    α → 1 softmax's. Entries off the support (masked, −inf, below the threshold) get 0 and their
    tangents are ignored; rows at T = 0 or inf, rows holding +inf and empty rows give 0; NaN
    rows give NaN."""


@quiet
def entmax15_jvp(
    x: Any, v: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.entmax15`: ``J @ v`` with g = √p.

    Parameters
    ----------
    x : array_like
        Scores.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`~softmaxkit.entmax15`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_jvp
    >>> entmax15_jvp(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0]))
    array([ 0.        , -0.28347335,  0.28347335])
    """
    return _jvp("entmax15_jvp", x, v, "v", axis, temperature, where, 1.5, None)


@quiet
def entmax15_vjp(
    x: Any, u: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.entmax15`: ``u @ J`` (equal to ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`~softmaxkit.entmax15`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_vjp
    >>> entmax15_vjp(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0]))
    array([ 0.        , -0.28347335,  0.28347335])
    """
    return _jvp("entmax15_vjp", x, u, "u", axis, temperature, where, 1.5, None)


@quiet
def entmax15_jacobian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.entmax15`, ``batch + (n, n)`` (reduced axes last, flat).

    Parameters
    ----------
    x : array_like
        Scores.
    axis, temperature, where
        As for :func:`~softmaxkit.entmax15`.

    Returns
    -------
    array
        ``J[..., i, j] = ∂p_i/∂x_j``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_jacobian
    >>> entmax15_jacobian(np.array([0.0, 1.0, 2.0]))
    array([[ 0.        ,  0.        ,  0.        ],
           [ 0.        ,  0.28347335, -0.28347335],
           [ 0.        , -0.28347335,  0.28347335]])
    """
    return _jacobian("entmax15_jacobian", x, axis, temperature, where, 1.5, None)


@quiet
def entmax_jvp(
    x: Any,
    v: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.entmax` with respect to ``x``: ``J @ v``.

    Parameters
    ----------
    x : array_like
        Scores.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    alpha, axis, temperature, where, n_iter
        As for :func:`~softmaxkit.entmax`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_jvp
    >>> entmax_jvp(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0]), alpha=1.5)
    array([ 0.        , -0.28347335,  0.28347335])
    """
    a = check_alpha(alpha)
    return _jvp("entmax_jvp", x, v, "v", axis, temperature, where, a, n_iter)


@quiet
def entmax_vjp(
    x: Any,
    u: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.entmax` with respect to ``x``: ``u @ J``.

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    alpha, axis, temperature, where, n_iter
        As for :func:`~softmaxkit.entmax`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_vjp
    >>> entmax_vjp(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.0, 1.0]), alpha=2)
    array([ 0. , -0.5,  0.5])
    """
    a = check_alpha(alpha)
    return _jvp("entmax_vjp", x, u, "u", axis, temperature, where, a, n_iter)


@quiet
def entmax_jacobian(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.entmax` with respect to ``x``, shape ``batch + (n, n)``.

    Parameters
    ----------
    x : array_like
        Scores.
    alpha, axis, temperature, where, n_iter
        As for :func:`~softmaxkit.entmax`.

    Returns
    -------
    array
        ``J[..., i, j] = ∂p_i/∂x_j`` (reduced axes moved last and flattened).

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_jacobian
    >>> entmax_jacobian(np.array([0.0, 0.0]), alpha=3)
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    a = check_alpha(alpha)
    return _jacobian("entmax_jacobian", x, axis, temperature, where, a, n_iter)


for _f in (entmax15_jvp, entmax15_vjp, entmax15_jacobian, entmax_jvp, entmax_vjp,
           entmax_jacobian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _ENTMAX_DERIV_NOTES)
del _f


# --------------------------------------------------------------------------------------------
# Hessians
# --------------------------------------------------------------------------------------------


_HESSIAN_NOTES = """Shape ``batch + (n, n, n)`` with the reduced axes moved last and flattened,
    ``H[..., i, j, k] = ∂²p_i/∂x_j∂x_k``: the derivative of the Jacobian
    ``(diag(g) − g gᵀ/Σg)/T`` (g = p^(2−α) on the support) where the support does not change.
    Rows at T = 0 or inf, or holding +inf, are constant (zeros); NaN rows are NaN. Memory is
    O(n³) per row: meant for small n."""


@quiet
def sparsemax_hessian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    """Hessian of :func:`~softmaxkit.sparsemax`: zero wherever it exists.

    sparsemax is piecewise linear (an affine map on each region of constant support), so its
    second derivatives vanish except on the region boundaries, where the first derivative
    jumps. Returned as zeros of shape ``batch + (n, n, n)`` (NaN rows NaN) for use with
    :func:`~softmaxkit.hessian`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_hessian
    >>> float(np.abs(sparsemax_hessian(np.array([0.1, 1.1, 0.2]))).max())
    0.0
    """
    return _hessian("sparsemax_hessian", x, axis, temperature, where, 2.0, None)


@quiet
def entmax15_hessian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    """Hessian of :func:`~softmaxkit.entmax15`; see :func:`entmax_hessian` (c_i = 1/2 on support).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_hessian
    >>> entmax15_hessian(np.array([0.0, 0.5]))[0]
    array([[ 0.0680762, -0.0680762],
           [-0.0680762,  0.0680762]])
    """
    return _hessian("entmax15_hessian", x, axis, temperature, where, 1.5, None)


@quiet
def entmax_hessian(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Hessian of :func:`~softmaxkit.entmax` with respect to ``x``.

    With z = x/T, g = p^{2−α} and S = Σg over the support, the Jacobian in z is
    J = diag(g) − g gᵀ/S and the weights move as ∂g_i/∂z_k = G_ik = c_i (δ_ik − g_k/S),
    c_i = (2 − α) p_i^{3−2α}; then

    .. math:: T^2 H_{ijk} = \delta_{ij} G_{ik} - (G_{ik} g_j + g_i G_{jk})/S
              + g_i g_j \sum_l G_{lk} / S^2.

    α = 1 gives softmax's Hessian, α = 2 (sparsemax) zero. For α > 1.5 the factor
    p^{3−2α} grows without bound as an entry approaches the edge of the support: the
    second derivative is unbounded there.

    Returns
    -------
    array
        {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_hessian, softmax_hessian
    >>> x = np.array([0.3, -0.2, 0.5])
    >>> bool(np.allclose(entmax_hessian(x, alpha=1.0), softmax_hessian(x)))
    True
    """
    a = check_alpha(alpha)
    return _hessian("entmax_hessian", x, axis, temperature, where, a, n_iter)


entmax_hessian.__doc__ = (entmax_hessian.__doc__ or "").replace("{notes}", _HESSIAN_NOTES)


# --------------------------------------------------------------------------------------------
# Derivative of entmax with respect to α
# --------------------------------------------------------------------------------------------


@quiet
def entmax_alpha_derivative(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Derivative of :func:`~softmaxkit.entmax` in α: the array :math:`\partial p/\partial\alpha`.

    With p the output, L = log p, S = p ⊙ L, H = Σ S and g = p^(2−α) on the support,

    .. math:: \frac{\partial p}{\partial \alpha} = \frac{p - g/\sum g}{(\alpha - 1)^2}
              - \frac{S - H\, g/\sum g}{\alpha - 1}

    (Correia, Niculae & Martins 2019, "Adaptively Sparse Transformers", the backward pass of
    the ``entmax`` package's ``entmax_bisect``). It is one array shaped like ``x``: the JVP for
    a change dα is ``dα * entmax_alpha_derivative(x)``, the VJP for a cotangent u is
    ``sum(u * entmax_alpha_derivative(x), axis)``.

    Parameters
    ----------
    x : array_like
        Scores, any array-API array.
    alpha, axis, temperature, where, n_iter
        As for :func:`~softmaxkit.entmax` (α ≥ 1).

    Returns
    -------
    array
        Shape and array kind of ``x``; it sums to 0 over ``axis`` (p stays on the simplex).

    Notes
    -----
    The two terms above are each of order 1/(α − 1) and cancel as α → 1; they are evaluated in
    a rearranged form without that cancellation (``ρ = p L² ψ(−(α−1) L)`` with
    ψ(s) = (e^s − 1 − s)/s²), accurate near and at α = 1, where the limit is
    :math:`p \odot (\sum_j p_j L_j^2 - L^2)/2` (the α-derivative at softmax). The temperature
    only scales x, so it does not enter the formula. Entries off the support get 0; rows at
    T = 0 or inf and rows holding +inf (constant in α) get 0, empty rows 0, NaN rows NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_alpha_derivative
    >>> entmax_alpha_derivative(np.array([0.0, 1.0, 2.0]), alpha=1.5)
    array([ 0.        , -0.24846157,  0.24846157])
    >>> entmax_alpha_derivative(np.array([0.0, 1.0, 2.0]), alpha=1.0)  # at softmax
    array([-0.21063911, -0.10573097,  0.31637008])
    """
    a = check_alpha(alpha)
    fn = "entmax_alpha_derivative"
    c, p, g, _ = _weights(fn, x, axis, temperature, where, a, n_iter)
    xp = c.xp
    if not c.axes:
        return finish(xp, xp.where(xp.isnan(p), p, p * 0.0), c.out_dtype)
    if a == 1.0:
        logp = log_softmax(x, axis=axis, temperature=temperature, where=where,
                           dtype=c.compute_dtype)
    else:
        logp = xp.log(p)
    d = forms.entmax_dalpha(xp, p, logp, a - 1.0, c.axes)
    # Rows whose weights were zeroed are constant in α (T = 0 or inf, +inf entries).
    dead = rsum(xp, g, c.axes) == 0
    d = xp.where(dead, full_like_scalar(xp, d, 0.0), d)
    return deliver(c, d)


@quiet
def alpha_relu_jvp(
    x: Any,
    v: Any,
    /,
    *,
    alpha: float = 1.5,
    tau: float = 0.0,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.alpha_relu`: ``J @ v``, J diagonal.

    .. math:: J = \operatorname{diag}(g)/T, \qquad g_i = r_i^{2-\alpha} =
              [(\alpha-1) x_i/T - \tau]_+^{(2-\alpha)/(\alpha-1)},

    on the support ``0 < r_i < inf``. J is diagonal, so this is also the VJP.

    Parameters
    ----------
    x : array_like
        Scores, any array-API array.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    alpha, tau, axis, temperature, where
        As for :func:`~softmaxkit.alpha_relu`.

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Notes
    -----
    At the threshold (``(α−1) x_i/T = τ``) the derivative is taken from the zero side: 0 (for
    α > 2 the map has an infinite slope there). Masked, −inf and +inf entries (constant
    outputs 0 and inf) get 0 and their tangents are ignored, rows at T = 0 or inf get 0,
    NaN rows NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import alpha_relu_jvp
    >>> alpha_relu_jvp(np.array([-1.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    array([0. , 0.5, 1. ])
    """
    return _relu_diagonal("alpha_relu_jvp", x, v, "v", alpha, tau, axis, temperature, where)


@quiet
def alpha_relu_vjp(
    x: Any,
    u: Any,
    /,
    *,
    alpha: float = 1.5,
    tau: float = 0.0,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.alpha_relu`: ``u @ J`` (= ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    alpha, tau, axis, temperature, where
        As for :func:`~softmaxkit.alpha_relu`.

    Returns
    -------
    array
        Shape and array kind of ``x``; see :func:`alpha_relu_jvp` for the formula and edge
        cases.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import alpha_relu_vjp
    >>> alpha_relu_vjp(np.array([-1.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), temperature=2)
    array([0.  , 0.25, 0.75])
    """
    return _relu_diagonal("alpha_relu_vjp", x, u, "u", alpha, tau, axis, temperature, where)


@quiet
def alpha_relu_jacobian(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    tau: float = 0.0,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Jacobian of :func:`~softmaxkit.alpha_relu`, ``diag(r^{2−α})/T``, ``batch + (n, n)``.

    Parameters
    ----------
    x : array_like
        Scores.
    alpha, tau, axis, temperature, where
        As for :func:`~softmaxkit.alpha_relu`.

    Returns
    -------
    array
        ``J[..., i, j] = ∂r_i/∂x_j`` with the reduced axes moved last and flattened (C order),
        as for the other ``*_jacobian`` functions; see :func:`alpha_relu_jvp` for edge cases.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import alpha_relu_jacobian
    >>> alpha_relu_jacobian(np.array([-1.0, 1.0, 2.0]))
    array([[0. , 0. , 0. ],
           [0. , 0.5, 0. ],
           [0. , 0. , 1. ]])
    """
    c, g = _relu_weights("alpha_relu_jacobian", x, alpha, tau, axis, temperature, where)
    gr = to_rows(c.xp, g, c.axes)[0]
    return deliver(c, forms.alpha_relu_jacobian(c.xp, gr))
