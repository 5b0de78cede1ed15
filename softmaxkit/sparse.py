"""Sparse relatives of softmax: sparsemax, 1.5-entmax and α-entmax.

These maps are α-entmax transformations (Peters, Niculae & Martins 2019),

.. math:: p_i = [(\\alpha - 1) z_i - \\tau]_+^{1/(\\alpha-1)}, \\qquad z = x / T,

with the threshold τ chosen so that the entries sum to 1. α = 2 is sparsemax (the Euclidean
projection onto the simplex, Martins & Astudillo 2016), α = 1.5 has an exact sort-based threshold,
other α > 1 are solved by bisection, and α → 1 is softmax. Unlike softmax they give exact zeros.
:func:`alpha_relu` (Tezekbayev et al. 2022) is the same formula with a fixed threshold τ and no
normalisation. :func:`entmax_alpha_derivative` gives ∂p/∂α.

They share the semantics of the core maps: ``axis`` (int, tuple or None: the reduced axes are
treated as one flattened axis), ``temperature`` (T = 0 gives :func:`~softmaxkit.hardmax`, T = inf
the uniform distribution over admissible entries), ``where=`` masks (excluded entries get 0),
extended reals (−inf gives 0, +inf entries share the mass equally whatever T, a row with no
admissible entry gives zeros, NaN makes its own row NaN), low precision computed in float32
(float64 for NumPy) and returned in the input dtype.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base.arrays import device_of, rsum
from softmaxkit._base.core import (
    Prepared,
    Temperature,
    dtype_name,
    finish,
    full_like_scalar,
    quiet,
    setup,
)
from softmaxkit._base.dispatch import torch_autograd
from softmaxkit._base.kernel import hardmax_from, pointwise

__all__ = [
    "alpha_relu",
    "alpha_relu_jacobian",
    "alpha_relu_jvp",
    "alpha_relu_vjp",
    "entmax",
    "entmax15",
    "entmax15_hessian",
    "entmax15_jacobian",
    "entmax15_jvp",
    "entmax15_vjp",
    "entmax_alpha_derivative",
    "entmax_hessian",
    "entmax_jacobian",
    "entmax_jvp",
    "entmax_vjp",
    "sparsemax",
    "sparsemax_hessian",
    "sparsemax_jacobian",
    "sparsemax_jvp",
    "sparsemax_vjp",
]

Array = Any

# After shifting by the row maximum and scaling by (α − 1)/T, every entry of the support lies in
# (−1, 0] (the threshold τ is ≥ −1 because the largest entry alone has mass ≤ 1). Entries below
# −1 are outside the support, so they (and the −inf / masked ones) can be raised to this floor:
# the prefix sums of the sort-based solvers then stay finite and exact on the support.
_FLOOR = -2.0



def _to_rows(xp: Any, a: Array, axes: tuple[int, ...]) -> tuple[Array, tuple[int, ...], tuple]:
    """Move ``axes`` last and flatten them into one; also return what undoes it."""
    rest = [i for i in range(a.ndim) if i not in axes]
    perm = tuple(rest + list(axes))
    if perm != tuple(range(a.ndim)):
        a = xp.permute_dims(a, perm)
    pshape = tuple(a.shape)
    lead = pshape[: len(rest)]
    return xp.reshape(a, (*lead, math.prod(pshape[len(rest) :]))), perm, pshape


def _from_rows(xp: Any, r: Array, perm: tuple[int, ...], pshape: tuple) -> Array:
    r = xp.reshape(r, pshape)
    if perm != tuple(range(len(perm))):
        r = xp.permute_dims(r, tuple(int(i) for i in np.argsort(perm)))
    return r


def _sparsemax_rows(xp: Any, y: Array) -> Array:
    """Sparsemax of rows ``y`` (max 0, entries in [_FLOOR, 0]) along the last axis."""
    n = y.shape[-1]
    ys = xp.sort(y, axis=-1, descending=True)
    cs = xp.cumulative_sum(ys, axis=-1) - 1
    k = xp.arange(1, n + 1, dtype=y.dtype, device=device_of(y))
    support = xp.sum(xp.astype(k * ys > cs, y.dtype), axis=-1, keepdims=True)
    zero = full_like_scalar(xp, y, 0.0)
    tau = xp.sum(xp.where(k == support, cs, zero), axis=-1, keepdims=True) / support
    return xp.where(y > tau, y - tau, zero)


def _entmax15_rows(xp: Any, y: Array) -> Array:
    """1.5-entmax of rows ``y = (x − max)/(2T)`` (entries in [_FLOOR, 0]) along the last axis."""
    n = y.shape[-1]
    ys = xp.sort(y, axis=-1, descending=True)
    k = xp.arange(1, n + 1, dtype=y.dtype, device=device_of(y))
    mean = xp.cumulative_sum(ys, axis=-1) / k
    mean_sq = xp.cumulative_sum(ys * ys, axis=-1) / k
    ss = k * (mean_sq - mean * mean)
    delta = (1 - ss) / k
    zero = full_like_scalar(xp, y, 0.0)
    tau = mean - xp.sqrt(xp.where(delta > 0, delta, zero))
    support = xp.sum(xp.astype(tau <= ys, y.dtype), axis=-1, keepdims=True)
    tau_star = xp.sum(xp.where(k == support, tau, zero), axis=-1, keepdims=True)
    d = xp.where(y > tau_star, y - tau_star, zero)
    return d * d


def _bisect_rows(xp: Any, y: Array, alpha: float, n_iter: int) -> Array:
    """α-entmax of rows ``y = (α − 1)(x − max)/T`` by bisection on the threshold."""
    n = y.shape[-1]
    zero = full_like_scalar(xp, y, 0.0)
    power = 1.0 / (alpha - 1.0)

    def mass(tau: Array) -> tuple[Array, Array]:
        d = xp.where(y > tau, y - tau, zero)
        p = d**power
        return p, xp.sum(p, axis=-1, keepdims=True) - 1

    # f(τ) = Σp − 1 is decreasing; f(−1) ≥ 0 (the maximum alone gives 1) and
    # f(−(1/n)^(α−1)) ≤ 0 (n entries each below 1/n).
    lo = xp.full((*y.shape[:-1], 1), -1.0, dtype=y.dtype, device=device_of(y))
    width = 1.0 - (1.0 / n) ** (alpha - 1.0)
    p = None
    for _ in range(n_iter):
        width /= 2
        mid = lo + width
        p, f = mass(mid)
        lo = xp.where(f >= 0, mid, lo)
    # One Newton step from the bracketed threshold. Its value change is at the last bit, but it
    # makes autodiff exact: the bisection's τ carries no derivative (it is built from
    # constants), and τ + (α−1)(Σp − 1)/Σg has, at the root, the implicit derivative
    # dτ/dy = g/Σg with g = p^(2−α).
    p, f = mass(lo)
    on = p > 0
    one = full_like_scalar(xp, y, 1.0)
    g = xp.where(on, xp.where(on, p, one) ** (2.0 - alpha), zero)
    sg = xp.sum(g, axis=-1, keepdims=True)
    step = (alpha - 1.0) * f / xp.where(sg > 0, sg, one)
    # The root is within the bracket (plus rounding, |τ| ≤ 1): a step beyond it would only come
    # from a bracket left wide by a small n_iter, where the bisection's value is kept.
    bound = 2 * width + 16 * float(xp.finfo(y.dtype).eps)
    step = xp.where(xp.abs(step) <= bound, step, zero * step)
    p, _ = mass(lo + step)
    return p / xp.sum(p, axis=-1, keepdims=True)


def _solve(
    prep: Prepared,
    axes: tuple[int, ...],
    temp: Temperature,
    mask: Array | None,
    alpha: float,
    method: str,
    n_iter: int,
    fast: bool = True,
) -> Array:
    """The shared driver: special rows, temperature, then the solver for ``alpha``.

    NumPy input goes to the fast path of :mod:`softmaxkit._base.sparse_fast` where it applies
    (same results; that path hands its NaN, +inf and T = 0/inf rows back here, ``fast=False``).
    """
    xp = prep.xp
    if fast and isinstance(prep.raw, np.ndarray) and axes:
        from softmaxkit._base import sparse_fast as _sparse_fast

        res = _sparse_fast.solve(prep, axes, temp, mask, alpha, method, n_iter)
        if res is not None:
            return finish(xp, res, prep.out_dtype)
    xc = prep.x
    if not axes:
        return finish(xp, pointwise(xp, xc, mask, log=False), prep.out_dtype)
    z, perm, pshape = _to_rows(xp, xc, axes)
    ninf = full_like_scalar(xp, z, -math.inf)
    zero = full_like_scalar(xp, z, 0.0)
    one = full_like_scalar(xp, z, 1.0)
    if mask is not None:
        z = xp.where(_to_rows(xp, mask, axes)[0], z, ninf)
    nan = xp.isnan(z)
    nan_row = xp.any(nan, axis=-1, keepdims=True)
    z = xp.where(nan, ninf, z)
    m = xp.max(z, axis=-1, keepdims=True)
    admissible = z > -math.inf
    pinf_row = m == math.inf

    t_zero: Any = temp.kind == "zero"
    t_inf: Any = temp.kind == "inf"
    t_safe: Any = temp.value if temp.kind == "scalar" else 1.0
    if temp.kind == "array":
        t = _to_rows(xp, temp.value, axes)[0]
        t_zero, t_inf = t == 0, t == math.inf
        t_safe = xp.where(t_zero | t_inf, one, t)

    finite_m = xp.where(xp.isfinite(m), m, zero)
    y = (alpha - 1.0) * ((z - finite_m) / t_safe)
    floor = full_like_scalar(xp, z, _FLOOR)
    y = xp.where(y > _FLOOR, y, floor)  # −inf, masked and far entries: outside the support
    # Rows settled by a limit below get a harmless stand-in, so that no inf − inf reaches the
    # solver (its NaN would leak into autodiff gradients even where the value is replaced).
    special = nan_row | pinf_row | (m == -math.inf)
    y = xp.where(special, zero, y)
    if method == "sparsemax":
        p = _sparsemax_rows(xp, y)
    elif method == "entmax15":
        p = _entmax15_rows(xp, y)
    else:
        p = _bisect_rows(xp, y, alpha, n_iter)

    # Limits, in increasing priority: T = inf, T = 0, +inf entries, empty rows, NaN rows.
    if t_inf is not False:
        count = xp.sum(xp.astype(admissible, z.dtype), axis=-1, keepdims=True)
        uniform = xp.astype(admissible, z.dtype) / xp.where(count > 0, count, one)
        p = xp.where(t_inf, uniform, p) if t_inf is not True else uniform
    hard = hardmax_from(xp, z, m, (z.ndim - 1,))
    if t_zero is not False:
        p = xp.where(t_zero, hard, p) if t_zero is not True else hard
    p = xp.where(pinf_row | (m == -math.inf), hard, p)
    p = xp.where(nan_row, full_like_scalar(xp, z, math.nan), p)
    return finish(xp, _from_rows(xp, p, perm, pshape), prep.out_dtype)


def _run(fn: Any, name: str, x: Any, axis: Any, temperature: Any, where: Any, dtype: Any,
         a: float, iters: int | None, **kw: Any) -> Array:
    """Validate, route Dask and empty arrays, and solve with α = ``a``, ``iters`` steps."""
    prep = setup(name, x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(fn, prep, axes, temp, mask, **kw)
    if math.prod(tuple(prep.raw.shape)) == 0:
        return finish(prep.xp, prep.x, prep.out_dtype)
    if iters is None:
        # Each halving of the bracket (width < 1) gains one bit of the threshold.
        iters = 60 if dtype_name(prep.compute_dtype) == "float64" else 30
    method = name if name != "entmax" else "bisect"
    return _solve(prep, axes, temp, mask, a, method, iters)


@quiet
@torch_autograd
def sparsemax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""Sparsemax: the Euclidean projection of ``x / T`` onto the probability simplex.

    .. math:: p = \arg\min_{q \in \Delta} \lVert q - x/T \rVert^2, \qquad
              p_i = [x_i/T - \tau]_+, \quad \sum_i p_i = 1.

    The threshold τ comes from sorting the row: with :math:`z_{(1)} \ge z_{(2)} \ge \dots`, the
    support size is the largest k with :math:`1 + k z_{(k)} > \sum_{j \le k} z_{(j)}`, and
    :math:`\tau = (\sum_{j \le k} z_{(j)} - 1)/k`.

    Parameters
    ----------
    x : array_like
        Scores; any array-API array (NumPy, PyTorch, JAX, Dask, ...).
    axis : int, tuple of int or None, default -1
        Axis or axes normalised jointly (several axes are treated as one flattened axis).
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``x`` with the reduced axes of length 1.
        T = 0 gives :func:`~softmaxkit.hardmax`; T = inf the uniform distribution over
        admissible entries. Larger T gives larger supports.
    where : array of bool, optional
        Entries that take part; False entries get exactly 0.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        Probabilities summing to 1 along ``axis``, with exact zeros outside the support.

    Notes
    -----
    −inf and masked entries get 0; if a row holds +inf entries they share the mass equally
    (whatever T); a row with no admissible entry gives zeros; a NaN makes its row NaN and
    only that row. (The ``entmax`` package gives NaN for all −inf rows and for +inf entries.)
    float16/bfloat16 are computed in float32 (float64 for NumPy) and returned in their dtype.
    PyTorch and JAX inputs stay differentiable through the closed form.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax
    >>> sparsemax(np.array([0.1, 1.1, 0.2]))
    array([0.  , 0.95, 0.05])
    >>> sparsemax(np.array([0.1, 1.1, 0.2]), temperature=10)
    array([0.29666667, 0.39666667, 0.30666667])
    >>> sparsemax(np.array([[1.0, np.inf, np.inf], [-np.inf, -np.inf, -np.inf]]))
    array([[0. , 0.5, 0.5],
           [0. , 0. , 0. ]])
    """
    return _run(sparsemax, "sparsemax", x, axis, temperature, where, dtype, 2.0, 0)


@quiet
@torch_autograd
def entmax15(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""1.5-entmax (Peters, Niculae & Martins 2019), exact and sort-based.

    .. math:: p_i = [z_i/2 - \tau]_+^2, \qquad z = x/T, \quad \sum_i p_i = 1.

    With the sorted row :math:`z_{(1)} \ge \dots` halved, and :math:`\mu_k, s_k` the mean and
    mean square of its first k entries, the candidate thresholds are
    :math:`\tau_k = \mu_k - \sqrt{\max(0, (1 - k(s_k - \mu_k^2))/k)}`; the support size is the
    number of k with :math:`\tau_k \le z_{(k)}/2`, whose τ is taken.

    Parameters
    ----------
    x, axis, temperature, where, dtype
        As for :func:`sparsemax`.

    Returns
    -------
    array
        Probabilities summing to 1 along ``axis``, sparse but smoother than sparsemax.

    Notes
    -----
    Edge cases as for :func:`sparsemax`: −inf and masked entries get 0, +inf entries share
    the mass, empty rows give zeros, NaN stays in its row; T = 0 is hardmax, T = inf uniform.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15
    >>> entmax15(np.array([0.0, 1.0, 4.0]))
    array([0., 0., 1.])
    >>> entmax15(np.array([0.0, 1.0, 2.0]))
    array([0.        , 0.16928109, 0.83071891])
    """
    return _run(entmax15, "entmax15", x, axis, temperature, where, dtype, 1.5, 0)


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (numbers.Real, np.ndarray)):
        raise ValueError(f"entmax: alpha must be a real number >= 1, got {alpha!r}")
    try:
        a = float(alpha)
    except TypeError:
        raise ValueError(f"entmax: alpha must be a real number >= 1, got {alpha!r}") from None
    if not (1.0 <= a < math.inf):
        raise ValueError(
            f"entmax: alpha={a!r} is invalid; expected a finite number >= 1 "
            "(1 gives softmax, 1.5 entmax15, 2 sparsemax)"
        )
    return a


@quiet
@torch_autograd
def entmax(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""α-entmax for any α ≥ 1, by bisection on the threshold.

    .. math:: p_i = [(\alpha - 1) z_i - \tau]_+^{1/(\alpha - 1)}, \qquad z = x/T,
              \quad \sum_i p_i = 1.

    Parameters
    ----------
    x, axis, temperature, where, dtype
        As for :func:`sparsemax`.
    alpha : float, default 1.5
        α ≥ 1 (finite). α = 1 returns :func:`~softmaxkit.softmax` exactly; α = 2 agrees with
        :func:`sparsemax` and α = 1.5 with :func:`entmax15` to the bisection's tolerance (use
        those for the exact closed forms). Larger α gives sparser outputs.
    n_iter : int, optional
        Bisection steps. The default (60 in float64, 30 in float32) halves the bracket, whose
        width is below 1, down to the compute dtype's precision.

    Returns
    -------
    array
        Probabilities summing to 1 along ``axis`` (renormalised after the bisection).

    Raises
    ------
    ValueError
        If ``alpha`` is below 1, NaN, infinite or not a number, or ``n_iter`` is not a positive
        integer.

    Notes
    -----
    Edge cases as for :func:`sparsemax`. The threshold is bracketed by
    :math:`[\max - 1, \max - n^{1-\alpha}]` of :math:`(\alpha-1) z`, as in the ``entmax``
    package's ``entmax_bisect``; a final Newton step makes PyTorch and JAX gradients through
    the bisection those of the exact map (:func:`entmax_vjp` gives them in closed form).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax
    >>> entmax(np.array([0.0, 1.0, 2.0]), alpha=1.5)
    array([0.        , 0.16928109, 0.83071891])
    >>> entmax(np.array([0.0, 1.0, 2.0]), alpha=1.0)
    array([0.09003057, 0.24472847, 0.66524096])
    """
    a = _check_alpha(alpha)
    if n_iter is not None and (
        isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1
    ):
        raise ValueError(f"entmax: n_iter must be a positive integer, got {n_iter!r}")
    if a == 1.0:
        from softmaxkit.maps import softmax

        return softmax(x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    # α = 1.5 and 2 also go through the bisection, so that entmax is one method continuous
    # in α (its tests compare it with the closed forms).
    return _run(entmax, "entmax", x, axis, temperature, where, dtype, a, n_iter, alpha=alpha,
                n_iter=n_iter)


# --------------------------------------------------------------------------------------------
# Closed-form derivatives
# --------------------------------------------------------------------------------------------


def _weights(
    fn: str, x: Any, axis: Any, temperature: Any, where: Any, alpha: float, n_iter: int | None
) -> tuple[Prepared, tuple[int, ...], Array, Any]:
    """:func:`_weights_p` without the probabilities."""
    prep, axes, _, g, t = _weights_p(fn, x, axis, temperature, where, alpha, n_iter)
    return prep, axes, g, t


def _weights_p(
    fn: str, x: Any, axis: Any, temperature: Any, where: Any, alpha: float, n_iter: int | None
) -> tuple[Prepared, tuple[int, ...], Array, Array, Any]:
    """The map's output p, the Jacobian's weights g = p^(2−α) on the support (0 elsewhere and
    in constant rows) and the temperature divisor, in the compute dtype and the input layout.

    Rows are constant — weights 0 — at T = 0 (hardmax), T = inf (uniform) and when they hold
    +inf entries; empty rows have p = 0 and so g = 0; NaN rows keep their NaN.
    """
    prep = setup(fn, x, axis=axis, temperature=temperature, where=where)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    xp, dt = prep.xp, prep.compute_dtype
    kw = {"axis": axis, "temperature": temperature, "where": where, "dtype": dt}
    if alpha == 2.0:
        p = sparsemax(x, **kw)
    elif alpha == 1.5:
        p = entmax15(x, **kw)
    else:
        p = entmax(x, alpha=alpha, n_iter=n_iter, **kw)
    zero = full_like_scalar(xp, p, 0.0)
    support = p > 0
    if alpha == 2.0:
        g = xp.astype(support, dt)
    elif alpha == 1.5:
        g = xp.sqrt(p)
    else:
        g = xp.where(support, p ** (2.0 - alpha), zero)
    g = xp.where(xp.isnan(p), p, g)
    xc = prep.x
    if mask is not None:
        xc = xp.where(mask, xc, full_like_scalar(xp, xc, -math.inf))
    dead = (xp.max(xc, axis=axes, keepdims=True) == math.inf) if axes else (xc == math.inf)
    t: Any = 1.0
    if temp.kind in ("zero", "inf"):
        dead = xp.ones_like(dead)
    elif temp.kind == "scalar":
        t = float(temp.value)
    elif temp.kind == "array":
        tv = temp.value
        limit = (tv == 0) | (tv == math.inf)
        dead = dead | limit
        t = xp.where(limit, full_like_scalar(xp, tv, 1.0), tv)
    g = xp.where(dead, zero, g)
    return prep, axes, p, g, t


def _tangent(prep: Prepared, v: Any, name: str, fn: str) -> Array:
    """A tangent or cotangent in ``x``'s namespace, shape and compute dtype."""
    xp = prep.xp
    if isinstance(v, (list, tuple, numbers.Number)) or isinstance(v, np.ndarray):
        arr = np.asarray(v)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: {name} must hold real numbers, got dtype {arr.dtype}")
        v = xp.asarray(arr, device=device_of(prep.raw))
    shape = tuple(prep.raw.shape)
    try:
        ok = np.broadcast_shapes(tuple(v.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: {name} of shape {tuple(v.shape)} does not broadcast to x's shape {shape}"
        )
    return xp.broadcast_to(xp.astype(v, prep.compute_dtype), shape)


def _apply(prep: Prepared, axes: tuple[int, ...], g: Array, t: Any, v: Array) -> Array:
    """(diag(g) − g gᵀ/Σg) v / T; the Jacobian is symmetric, so this is the JVP and the VJP."""
    xp = prep.xp
    zero = full_like_scalar(xp, g, 0.0)
    one = full_like_scalar(xp, g, 1.0)
    v = xp.where(g != 0, v, zero)  # tangents off the support (even inf) do not matter
    if axes:
        sg = xp.sum(g, axis=axes, keepdims=True)
        q = xp.sum(g * v, axis=axes, keepdims=True) / xp.where(sg != 0, sg, one)
    else:
        q = v
    out = g * (v - q) / t
    return finish(xp, out + 0.0, prep.out_dtype)


def _jacobian(prep: Prepared, axes: tuple[int, ...], g: Array, t: Any) -> Array:
    xp = prep.xp
    gr, _, _ = _to_rows(xp, g, axes)
    n = gr.shape[-1]
    one = full_like_scalar(xp, gr, 1.0)
    sg = xp.sum(gr, axis=-1, keepdims=True)
    eye = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    gc, grow = xp.expand_dims(gr, axis=-1), xp.expand_dims(gr, axis=-2)
    jac = eye * gc - gc * grow / xp.expand_dims(xp.where(sg != 0, sg, one), axis=-1)
    if not isinstance(t, float):
        t = xp.expand_dims(_to_rows(xp, t, axes)[0], axis=-1)
    return finish(xp, jac / t + 0.0, prep.out_dtype)


@quiet
def sparsemax_jvp(
    x: Any, v: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Forward-mode derivative of :func:`sparsemax`: ``J @ v`` without forming J.

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
        As for :func:`sparsemax`.

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
    prep, axes, g, t = _weights("sparsemax_jvp", x, axis, temperature, where, 2.0, None)
    return _apply(prep, axes, g, t, _tangent(prep, v, "v", "sparsemax_jvp"))


@quiet
def sparsemax_vjp(
    x: Any, u: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Reverse-mode derivative of :func:`sparsemax`: ``u @ J`` (equal to ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`sparsemax`.

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
    prep, axes, g, t = _weights("sparsemax_vjp", x, axis, temperature, where, 2.0, None)
    return _apply(prep, axes, g, t, _tangent(prep, u, "u", "sparsemax_vjp"))


@quiet
def sparsemax_jacobian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Jacobian of :func:`sparsemax`, ``(diag(s) − s sᵀ/|S|)/T``.

    Parameters
    ----------
    x : array_like
        Scores.
    axis, temperature, where
        As for :func:`sparsemax`.

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
    prep, axes, g, t = _weights("sparsemax_jacobian", x, axis, temperature, where, 2.0, None)
    return _jacobian(prep, axes, g, t)


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
    r"""Forward-mode derivative of :func:`entmax15`: ``J @ v`` with g = √p.

    Parameters
    ----------
    x : array_like
        Scores.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`entmax15`.

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
    prep, axes, g, t = _weights("entmax15_jvp", x, axis, temperature, where, 1.5, None)
    return _apply(prep, axes, g, t, _tangent(prep, v, "v", "entmax15_jvp"))


@quiet
def entmax15_vjp(
    x: Any, u: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Reverse-mode derivative of :func:`entmax15`: ``u @ J`` (equal to ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    axis, temperature, where
        As for :func:`entmax15`.

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
    prep, axes, g, t = _weights("entmax15_vjp", x, axis, temperature, where, 1.5, None)
    return _apply(prep, axes, g, t, _tangent(prep, u, "u", "entmax15_vjp"))


@quiet
def entmax15_jacobian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    r"""Jacobian of :func:`entmax15`, shape ``batch + (n, n)`` (reduced axes last, flattened).

    Parameters
    ----------
    x : array_like
        Scores.
    axis, temperature, where
        As for :func:`entmax15`.

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
    prep, axes, g, t = _weights("entmax15_jacobian", x, axis, temperature, where, 1.5, None)
    return _jacobian(prep, axes, g, t)


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
    r"""Forward-mode derivative of :func:`entmax` with respect to ``x``: ``J @ v``.

    Parameters
    ----------
    x : array_like
        Scores.
    v : array_like
        Tangent, broadcastable to ``x``'s shape.
    alpha, axis, temperature, where, n_iter
        As for :func:`entmax`.

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
    a = _check_alpha(alpha)
    prep, axes, g, t = _weights("entmax_jvp", x, axis, temperature, where, a, n_iter)
    return _apply(prep, axes, g, t, _tangent(prep, v, "v", "entmax_jvp"))


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
    r"""Reverse-mode derivative of :func:`entmax` with respect to ``x``: ``u @ J``.

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    alpha, axis, temperature, where, n_iter
        As for :func:`entmax`.

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
    a = _check_alpha(alpha)
    prep, axes, g, t = _weights("entmax_vjp", x, axis, temperature, where, a, n_iter)
    return _apply(prep, axes, g, t, _tangent(prep, u, "u", "entmax_vjp"))


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
    r"""Jacobian of :func:`entmax` with respect to ``x``, shape ``batch + (n, n)``.

    Parameters
    ----------
    x : array_like
        Scores.
    alpha, axis, temperature, where, n_iter
        As for :func:`entmax`.

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
    a = _check_alpha(alpha)
    prep, axes, g, t = _weights("entmax_jacobian", x, axis, temperature, where, a, n_iter)
    return _jacobian(prep, axes, g, t)


for _f in (entmax15_jvp, entmax15_vjp, entmax15_jacobian, entmax_jvp, entmax_vjp,
           entmax_jacobian):
    _f.__doc__ = (_f.__doc__ or "").replace("{notes}", _ENTMAX_DERIV_NOTES)
del _f


# --------------------------------------------------------------------------------------------
# Hessians
# --------------------------------------------------------------------------------------------


def _hessian(
    prep: Prepared, axes: tuple[int, ...], p: Array, g: Array, t: Any, alpha: float
) -> Array:
    r"""``H[..., i, j, k] = ∂²p_i/∂x_j∂x_k`` of α-entmax from its output and weights.

    With z = x/T, g = p^{2−α} on the support, S = Σg and J = diag(g) − g gᵀ/S (the Jacobian
    in z), the weights move as ∂g_i/∂z_k = (2−α) p_i^{1−α} J_ik = c_i (δ_ik − g_k/S) with
    c_i = (2−α) p_i^{3−2α} (0 off the support; the product form stays finite at the support's
    edge for α ≤ 1.5). Differentiating J then gives

    .. math:: T^2 H_{ijk} = \delta_{ij}\,G_{ik} - (G_{ik} g_j + g_i G_{jk})/S
              + g_i g_j \,\textstyle\sum_l G_{lk} / S^2, \qquad G_{ik} = \partial g_i/\partial z_k.
    """
    xp = prep.xp
    gr, _, _ = _to_rows(xp, g, axes)
    pr, _, _ = _to_rows(xp, p, axes)
    n = gr.shape[-1]
    one = full_like_scalar(xp, gr, 1.0)
    zero = full_like_scalar(xp, gr, 0.0)
    live = gr > 0
    if alpha == 2.0:
        c = zero
    elif alpha == 1.5:
        c = xp.where(live, 0.5 * one, zero)
    else:
        c = xp.where(live, (2.0 - alpha) * xp.where(live, pr, one) ** (3.0 - 2.0 * alpha), zero)
    c = xp.where(xp.isnan(gr), gr, c)
    sg = xp.sum(gr, axis=-1, keepdims=True)
    s = xp.where(sg != 0, sg, xp.ones_like(sg))
    eye = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    dg = xp.expand_dims(c, axis=-1) * (eye - xp.expand_dims(gr / s, axis=-2))  # [.., i, k]
    ds = xp.sum(dg, axis=-2, keepdims=True)  # [.., 1, k]
    s3 = xp.expand_dims(xp.expand_dims(s, axis=-1), axis=-1)  # [.., 1, 1, 1]
    g_i = xp.expand_dims(xp.expand_dims(gr, axis=-1), axis=-1)  # [.., i, 1, 1]
    g_j = xp.expand_dims(xp.expand_dims(gr, axis=-2), axis=-1)  # [.., 1, j, 1]
    dg_ik = xp.expand_dims(dg, axis=-2)  # [.., i, 1, k]
    dg_jk = xp.expand_dims(dg, axis=-3)  # [.., 1, j, k]
    hess = (
        xp.expand_dims(eye, axis=-1) * dg_ik
        - (dg_ik * g_j + g_i * dg_jk) / s3
        + g_i * g_j * xp.expand_dims(ds, axis=-3) / (s3 * s3)
    )
    if isinstance(t, float):
        hess = hess / (t * t)
    else:
        tr = _to_rows(xp, t, axes)[0]
        tr = xp.expand_dims(xp.expand_dims(tr, axis=-1), axis=-1)
        hess = hess / (tr * tr)
    return finish(xp, hess + 0.0, prep.out_dtype)


_HESSIAN_NOTES = """Shape ``batch + (n, n, n)`` with the reduced axes moved last and flattened,
    ``H[..., i, j, k] = ∂²p_i/∂x_j∂x_k``: the derivative of the Jacobian
    ``(diag(g) − g gᵀ/Σg)/T`` (g = p^(2−α) on the support) where the support does not change.
    Rows at T = 0 or inf, or holding +inf, are constant (zeros); NaN rows are NaN. Memory is
    O(n³) per row: meant for small n."""


@quiet
def sparsemax_hessian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    """Hessian of :func:`sparsemax`: zero wherever it exists.

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
    prep, axes, p, g, t = _weights_p("sparsemax_hessian", x, axis, temperature, where, 2.0, None)
    return _hessian(prep, axes, p, g, t, 2.0)


@quiet
def entmax15_hessian(
    x: Any, /, *, axis: Any = -1, temperature: Any = 1.0, where: Any = None
) -> Array:
    """Hessian of :func:`entmax15`; see :func:`entmax_hessian` (here c_i = 1/2 on the support).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_hessian
    >>> entmax15_hessian(np.array([0.0, 0.5]))[0]
    array([[ 0.0680762, -0.0680762],
           [-0.0680762,  0.0680762]])
    """
    prep, axes, p, g, t = _weights_p("entmax15_hessian", x, axis, temperature, where, 1.5, None)
    return _hessian(prep, axes, p, g, t, 1.5)


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
    r"""Hessian of :func:`entmax` with respect to ``x``.

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
    a = _check_alpha(alpha)
    prep, axes, p, g, t = _weights_p("entmax_hessian", x, axis, temperature, where, a, n_iter)
    return _hessian(prep, axes, p, g, t, a)


entmax_hessian.__doc__ = (entmax_hessian.__doc__ or "").replace("{notes}", _HESSIAN_NOTES)


# --------------------------------------------------------------------------------------------
# Derivative of entmax with respect to α
# --------------------------------------------------------------------------------------------

# ψ(s) = (e^s − 1 − s)/s² = Σ_k s^k/(k+2)!, for 0 ≤ s < 1 (18 terms: the rest is < 1/19!).
_PSI = tuple(1.0 / math.factorial(k + 2) for k in range(18))


def _dp_dalpha(xp: Any, p: Array, logp: Array, eps: Any, axes: tuple[int, ...]) -> Array:
    """∂p/∂α of α-entmax from its output ``p`` and ``log p``, with ε = α − 1 ≥ 0 (a float, or
    an array of the reduced shape with kept dims); NaN where p is NaN.

    With L = log p, S = p L, H = Σ S, g = p^(1−ε) (all on the support) the derivative is
    ``((p − g/Σg)/ε² − (S − H g/Σg)/ε``, as in the ``entmax`` package. Both terms are O(1/ε)
    and cancel as α → 1, so it is evaluated as
    ``[(p ρ̄ − ρ) − ε (S ρ̄ − H ρ)] / Σg`` with ``ρ = (g − p + ε S)/ε² = p L² ψ(−ε L)``,
    ``ρ̄ = Σ ρ``, ψ(s) = (e^s − 1 − s)/s²: no cancellation, and the α = 1 limit
    ``p (Σ p L² − L²)/2`` comes out of the same expression.
    """
    zero = full_like_scalar(xp, p, 0.0)
    one = full_like_scalar(xp, p, 1.0)
    on = p > 0
    ps = xp.where(on, p, one)
    lg = xp.where(on, logp, zero)
    s_ = p * lg
    s_ = xp.where(on, s_, zero)
    h = rsum(xp, s_, axes)
    arg = -eps * lg  # ≥ 0
    small = arg < 1
    sa = xp.where(small, arg, zero)
    psi = full_like_scalar(xp, p, _PSI[-1])
    for c in _PSI[-2::-1]:
        psi = psi * sa + c
    g = xp.where(on, ps ** (1.0 - eps), zero)
    if isinstance(eps, float):
        eps2: Any = eps * eps if eps > 0 else 1.0
    else:
        eps2 = xp.where(eps > 0, eps * eps, xp.ones_like(eps))
    rho = xp.where(small, ps * lg * lg * psi, (g - ps + eps * ps * lg) / eps2)
    rho = xp.where(on, rho, zero)
    rbar = rsum(xp, rho, axes)
    sg = rsum(xp, g, axes)
    d = ((p * rbar - rho) - eps * (s_ * rbar - h * rho)) / xp.where(sg > 0, sg, one)
    d = xp.where(on, d, zero)
    return xp.where(xp.isnan(p), p, d)


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
    r"""Derivative of :func:`entmax` with respect to α: the array :math:`\partial p/\partial\alpha`.

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
        As for :func:`entmax` (α ≥ 1).

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
    >>> from softmaxkit.sparse import entmax_alpha_derivative
    >>> entmax_alpha_derivative(np.array([0.0, 1.0, 2.0]), alpha=1.5)
    array([ 0.        , -0.24846157,  0.24846157])
    >>> entmax_alpha_derivative(np.array([0.0, 1.0, 2.0]), alpha=1.0)  # at softmax
    array([-0.21063911, -0.10573097,  0.31637008])
    """
    a = _check_alpha(alpha)
    fn = "entmax_alpha_derivative"
    prep, axes, p, g, _ = _weights_p(fn, x, axis, temperature, where, a, n_iter)
    xp = prep.xp
    if not axes:
        return finish(xp, xp.where(xp.isnan(p), p, p * 0.0), prep.out_dtype)
    if a == 1.0:
        from softmaxkit.maps import log_softmax

        logp = log_softmax(x, axis=axis, temperature=temperature, where=where,
                           dtype=prep.compute_dtype)
    else:
        logp = xp.log(p)
    d = _dp_dalpha(xp, p, logp, a - 1.0, axes)
    # Rows whose weights were zeroed are constant in α (T = 0 or inf, +inf entries).
    dead = rsum(xp, g, axes) == 0
    d = xp.where(dead, full_like_scalar(xp, d, 0.0), d)
    return finish(xp, d + 0.0, prep.out_dtype)


# --------------------------------------------------------------------------------------------
# α-ReLU (Tezekbayev et al. 2022): entmax with a fixed threshold
# --------------------------------------------------------------------------------------------


def _check_relu_args(alpha: Any, tau: Any, fn: str) -> tuple[float, float]:
    for name, v in (("alpha", alpha), ("tau", tau)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.ndarray)) or (
            isinstance(v, np.ndarray) and v.ndim != 0
        ):
            raise ValueError(f"{fn}: {name} must be a real number, got {v!r}")
    a, t = float(alpha), float(tau)
    if not (1.0 < a < math.inf):
        raise ValueError(
            f"{fn}: alpha={a!r} is invalid; expected a finite number > 1 (the exponent is "
            "1/(alpha − 1))"
        )
    if not math.isfinite(t):
        raise ValueError(f"{fn}: tau={t!r} is invalid; expected a finite number")
    return a, t


def _scaled_scores(xp: Any, z: Array, temp: Temperature) -> tuple[Array, Array | bool]:
    """``x/T`` with its limits (x/0 = sign(x)·inf, 0/0 = 0; finite/inf = 0, ±inf/T = ±inf),
    and the flag of entries whose row is at T = 0 or inf (locally constant)."""
    zero = full_like_scalar(xp, z, 0.0)
    pinf = full_like_scalar(xp, z, math.inf)
    ninf = full_like_scalar(xp, z, -math.inf)
    at_zero = xp.where(z > 0, pinf, xp.where(z < 0, ninf, xp.where(z == 0, zero, z)))
    at_inf = xp.where(xp.isinf(z), z, z * 0.0)
    if temp.kind == "one":
        return z, False
    if temp.kind == "scalar":
        return z / temp.value, False
    if temp.kind == "zero":
        return at_zero, True
    if temp.kind == "inf":
        return at_inf, True
    t = temp.value
    t_zero, t_inf = t == 0, t == math.inf
    one = full_like_scalar(xp, t, 1.0)
    zt = z / xp.where(t_zero | t_inf, one, t)
    return xp.where(t_zero, at_zero, xp.where(t_inf, at_inf, zt)), t_zero | t_inf


def _alpha_relu_core(
    prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Array | None, a: float,
    tau: float,
) -> Array:
    xp = prep.xp
    z = prep.x
    if mask is not None:
        z = xp.where(mask, z, full_like_scalar(xp, z, -math.inf))
    zt, _ = _scaled_scores(xp, z, temp)
    u = (a - 1.0) * zt - tau
    on = u > 0
    one = full_like_scalar(xp, u, 1.0)
    r = xp.where(on, xp.where(on, u, one) ** (1.0 / (a - 1.0)), full_like_scalar(xp, u, 0.0))
    nan = xp.isnan(z)
    if axes:
        nan = xp.any(nan, axis=axes, keepdims=True)
    return xp.where(nan, full_like_scalar(xp, r, math.nan), r)


@quiet
@torch_autograd
def alpha_relu(
    x: Any,
    /,
    alpha: float = 1.5,
    tau: float = 0.0,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""α-ReLU (Tezekbayev, Nikoulina, Gallé & Assylbekov 2022): α-entmax with a fixed threshold.

    .. math:: r_i = [(\alpha - 1)\, z_i - \tau]_+^{1/(\alpha-1)}, \qquad z = x / T.

    α-entmax has the same form with the threshold τ(z) that makes the row sum to 1; α-ReLU
    (arXiv:2111.06832, "Speeding Up Entmax", Findings of NAACL 2022) fixes τ, so it needs no
    sort or bisection: it costs one pass, like an activation. As in the paper and the authors'
    reference implementation, the output is **not normalised** (the paper trains it with its
    α-ReLU loss, under which the outputs come to sum to about 1); divide by the row sum if a
    distribution is needed. α = 1.5 gives ``[z/2 − τ]_+²``, α = 2 ``[z − τ]_+``.

    Parameters
    ----------
    x : array_like
        Scores; any array-API array (NumPy, PyTorch, JAX, Dask, ...).
    alpha : float, default 1.5
        α > 1 (finite). Larger α gives a flatter, more ReLU-like response.
    tau : float, default 0.0
        The fixed threshold (finite; not scaled by T). The paper treats it as a
        hyperparameter; its reference code defaults to 0.
    axis : int, tuple of int or None, default -1
        The rows: the map is elementwise, but a NaN makes its whole row NaN as for the
        other maps.
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``x`` with the reduced axes of length 1. The
        limits are those of the formula: at T = 0, ``x > 0`` gives +inf, ``x < 0`` gives 0 and
        ``x = 0`` gives ``[−τ]_+^{1/(α−1)}``; at T = inf every finite entry gives that value.
    where : array of bool, optional
        Entries that take part; False entries get exactly 0.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        Non-negative values with exact zeros where ``(α − 1) x/T ≤ τ``; same shape and array
        kind as ``x``.

    Raises
    ------
    ValueError
        If ``alpha`` is not a finite number > 1 or ``tau`` is not a finite number.

    Notes
    -----
    −inf and masked entries give 0, +inf entries give +inf (the limit; at every T), a NaN
    makes its row NaN. float16/bfloat16 are computed in float32 (float64 for NumPy) and
    returned in their dtype. The derivative is diagonal, ``∂r_i/∂x_i = r_i^{2−α}/T`` on the
    support (see :func:`alpha_relu_jvp`); PyTorch tensors that require grad go through an
    autograd Function with that closed form.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.sparse import alpha_relu
    >>> alpha_relu(np.array([-1.0, 0.5, 1.0, 2.0]))
    array([0.    , 0.0625, 0.25  , 1.    ])
    >>> alpha_relu(np.array([-1.0, 0.5, 1.0, 2.0]), alpha=2.0, tau=0.5)
    array([0. , 0. , 0.5, 1.5])
    >>> alpha_relu(np.array([[1.0, np.nan], [-np.inf, np.inf]]))
    array([[nan, nan],
           [ 0., inf]])
    """
    a, t = _check_relu_args(alpha, tau, "alpha_relu")
    prep = setup("alpha_relu", x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(alpha_relu, prep, axes, temp, mask, alpha=a, tau=t)
    if math.prod(tuple(prep.raw.shape)) == 0:
        return finish(prep.xp, prep.x, prep.out_dtype)
    return finish(prep.xp, _alpha_relu_core(prep, axes, temp, mask, a, t), prep.out_dtype)


def _relu_weights(
    fn: str, x: Any, alpha: Any, tau: Any, axis: Any, temperature: Any, where: Any
) -> tuple[Prepared, tuple[int, ...], Array]:
    """The diagonal of α-ReLU's Jacobian, r^(2−α)/T on 0 < r < inf (0 elsewhere and in rows
    at T = 0 or inf), NaN in NaN rows; in the compute dtype and the input layout."""
    a, t = _check_relu_args(alpha, tau, fn)
    prep = setup(fn, x, axis=axis, temperature=temperature, where=where)
    axes, temp = prep.axes, prep.temp
    xp = prep.xp
    r = alpha_relu(x, alpha=a, tau=t, axis=axis, temperature=temperature, where=where,
                   dtype=prep.compute_dtype)
    zero = full_like_scalar(xp, r, 0.0)
    one = full_like_scalar(xp, r, 1.0)
    on = (r > 0) & (r < math.inf)
    g = xp.where(on, xp.where(on, r, one) ** (2.0 - a), zero)
    if temp.kind == "scalar":
        g = g / temp.value
    elif temp.kind in ("zero", "inf"):
        g = zero * g
    elif temp.kind == "array":
        tv = temp.value
        limit = (tv == 0) | (tv == math.inf)
        g = xp.where(limit, zero, g / xp.where(limit, full_like_scalar(xp, tv, 1.0), tv))
    g = xp.where(xp.isnan(r), r, g)
    return prep, axes, g


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
    r"""Forward-mode derivative of :func:`alpha_relu`: ``J @ v`` with the diagonal Jacobian.

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
        As for :func:`alpha_relu`.

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
    >>> from softmaxkit.sparse import alpha_relu_jvp
    >>> alpha_relu_jvp(np.array([-1.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    array([0. , 0.5, 1. ])
    """
    return _relu_diagonal("alpha_relu_jvp", x, v, "v", alpha, tau, axis, temperature, where)


def _relu_diagonal(
    fn: str, x: Any, v: Any, name: str, alpha: Any, tau: Any, axis: Any, temperature: Any,
    where: Any,
) -> Array:
    """``diag(g) v``: the JVP and the VJP of α-ReLU (its Jacobian is diagonal)."""
    prep, _, g = _relu_weights(fn, x, alpha, tau, axis, temperature, where)
    vv = _tangent(prep, v, name, fn)
    xp = prep.xp
    vv = xp.where(g != 0, vv, full_like_scalar(xp, g, 0.0))
    return finish(xp, g * vv + 0.0, prep.out_dtype)


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
    r"""Reverse-mode derivative of :func:`alpha_relu`: ``u @ J`` (equal to ``J @ u``).

    Parameters
    ----------
    x : array_like
        Scores.
    u : array_like
        Cotangent, broadcastable to ``x``'s shape.
    alpha, tau, axis, temperature, where
        As for :func:`alpha_relu`.

    Returns
    -------
    array
        Shape and array kind of ``x``; see :func:`alpha_relu_jvp` for the formula and edge
        cases.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.sparse import alpha_relu_vjp
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
    r"""Jacobian of :func:`alpha_relu`, ``diag(r^{2−α})/T``, shape ``batch + (n, n)``.

    Parameters
    ----------
    x : array_like
        Scores.
    alpha, tau, axis, temperature, where
        As for :func:`alpha_relu`.

    Returns
    -------
    array
        ``J[..., i, j] = ∂r_i/∂x_j`` with the reduced axes moved last and flattened (C order),
        as for the other ``*_jacobian`` functions; see :func:`alpha_relu_jvp` for edge cases.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.sparse import alpha_relu_jacobian
    >>> alpha_relu_jacobian(np.array([-1.0, 1.0, 2.0]))
    array([[0. , 0. , 0. ],
           [0. , 0.5, 0. ],
           [0. , 0. , 1. ]])
    """
    prep, axes, g = _relu_weights("alpha_relu_jacobian", x, alpha, tau, axis, temperature,
                                  where)
    xp = prep.xp
    gr, _, _ = _to_rows(xp, g, axes)
    n = gr.shape[-1]
    eye = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    nan = xp.isnan(gr)
    gc = xp.expand_dims(gr, axis=-1)
    # NaN rows are NaN throughout (the output row is NaN whatever the tangent).
    row_nan = xp.expand_dims(xp.any(nan, axis=-1, keepdims=True), axis=-1)
    jac = xp.where(row_nan, full_like_scalar(xp, gc, math.nan), eye * xp.where(
        xp.isnan(gc), full_like_scalar(xp, gc, 0.0), gc))
    return finish(xp, jac + 0.0, prep.out_dtype)
