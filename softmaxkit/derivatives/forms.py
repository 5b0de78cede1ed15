r"""The closed forms of every derivative, as formulas in the map's own output.

Each function here is one formula, written once, that the public derivative functions of
:mod:`softmaxkit.derivatives` and the autograd rules of :mod:`softmaxkit.autodiff` both
evaluate: given the output the map computed (``p = softmax(x)``, ``log p``, the entmax
probabilities, the α-ReLU values ``r``), the tangent or cotangent and the temperature, it
returns the derivative. Nothing validates or calls a map; every call is an array-API call, so
the same formula runs on NumPy, PyTorch (differentiable again: the backward passes of the
torch Functions are themselves differentiable), JAX (traceable) and Dask arrays.

Conventions
-----------
``xp``
    The array-API namespace of the arrays (``array_api_compat.array_namespace(p)``).
``p``
    The map's output in the input's layout and the work dtype. The map has already resolved
    its edge cases: masked and −inf entries have ``p = 0``, an empty row is all zeros, a row
    holding NaN is NaN, a row holding +inf (and every row at T = 0) is hardmax, every row at
    T = inf uniform.
``axes``
    The reduced axes (a tuple; ``()`` makes every entry its own row).
``t``
    The temperature divisor: ``None`` (T = 1: no division), a Python float, or an array of the
    reduced shape with kept dimensions (in the rows layout ``batch + (1,)`` for the matrix forms
    named ``*_jacobian``/``*_hessian``). Where T is 0 or inf it must hold 1 (any finite
    positive number): those rows are handled by ``dead``.
``dead``
    Optional boolean array with kept dimensions: rows where the map is *locally constant*, so
    the derivative is 0 — rows at T = 0 (hardmax) or T = inf (uniform), and rows holding +inf
    (the mass stays on the +inf entries; not for α-ReLU, which is elementwise). The formula on
    such a row's output would otherwise give the derivative of a softmax that is not the one
    computed. Rows holding NaN must not be flagged: their NaN flows through the formula.

Edge cases that need no flag: entries with ``p = 0`` (masked, −inf, off the support) ignore
their tangent entries even when those are inf or NaN, and get 0; an empty row gives 0.

The matrix forms work on rows: ``pr`` has the reduced axes moved last and flattened,
``batch + (n,)``, and they return ``batch + (n, n)`` (Jacobians, ``J[..., i, j] = ∂y_i/∂x_j``)
or ``batch + (n, n, n)`` (Hessians, ``H[..., i, j, k] = ∂²y_i/∂x_j∂x_k``).

Examples
--------
>>> import numpy as np
>>> import array_api_compat
>>> from softmaxkit import softmax
>>> from softmaxkit.derivatives import forms
>>> x = np.array([1.0, 2.0, 3.0])
>>> xp = array_api_compat.array_namespace(x)
>>> p = softmax(x, temperature=2.0)
>>> v = np.array([1.0, 0.0, 0.0])
>>> forms.softmax_jvp(xp, p, v, (0,), 2.0)   # p ⊙ (v − ⟨p, v⟩)/T
array([ 0.0758036 , -0.02861894, -0.04718466])
>>> forms.sparse_jvp(xp, forms.sparse_weights(xp, p, 1.0, "entmax"), v, (0,), 2.0)  # α = 1
array([ 0.0758036 , -0.02861894, -0.04718466])
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from softmaxkit._base.arrays import device_of, rmax, rsum
from softmaxkit._base.core import Temperature, full_like_scalar

__all__ = [
    "RowClasses",
    "alpha_relu_jacobian",
    "alpha_relu_jvp",
    "classify_rows",
    "complement",
    "entmax_dalpha",
    "eye",
    "log_sigmoid_jvp",
    "log_sigmoid_second",
    "log_softmax_hessian",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logcumsumexp_tangent",
    "logit_jvp",
    "logit_second",
    "logsumexp_jvp",
    "logsumexp_temperature_derivative",
    "logsumexp_vjp",
    "logsumexp_weighted_grad",
    "pivot",
    "sigmoid_jvp",
    "sigmoid_second",
    "softmax_hessian",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "sparse_hessian",
    "sparse_jacobian",
    "sparse_jvp",
    "sparse_vjp",
    "sparse_weights",
    "taking_part",
    "temperature_divisor",
]

Array = Any
Divisor = Any  # None, a Python float, or a kept-dims array (see the module's conventions)


def _divide(a: Array, t: Divisor) -> Array:
    return a if t is None else a / t


def _expand(xp: Any, t: Divisor, extra: int) -> Divisor:
    """A rows-layout divisor ``batch + (1,)`` given ``extra`` more trailing axes."""
    if t is None or isinstance(t, float):
        return t
    for _ in range(extra):
        t = xp.expand_dims(t, axis=-1)
    return t


def _kill(xp: Any, a: Array, dead: Array | None) -> Array:
    return a if dead is None else xp.where(dead, full_like_scalar(xp, a, 0.0), a)


def _col(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-1)


def _row(xp: Any, a: Array) -> Array:
    return xp.expand_dims(a, axis=-2)


class RowClasses(NamedTuple):
    """What :func:`classify_rows` tells about an input: see there."""

    kept: Array
    dead: Array
    nan: Array
    divisor: Divisor


def _temperature_value(temperature: Any) -> Any:
    """A :class:`~softmaxkit._base.core.Temperature` record as a float or its array."""
    if not isinstance(temperature, Temperature):
        return temperature
    return {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(temperature.kind, temperature.value)


def classify_rows(
    xp: Any, x: Array, axes: tuple[int, ...], *, mask: Array | None = None,
    temperature: Any = 1.0, plus_inf_dead: bool = True,
) -> RowClasses:
    r"""Which entries take part, which rows are locally constant, which are NaN, and T.

    The one classification behind every derivative and autograd rule (the ``kept``, ``dead``
    and ``t`` arguments of the formulas here).

    Parameters
    ----------
    xp : namespace
        The array-API namespace of ``x``.
    x : array
        The map's input (any real dtype).
    axes : tuple of int
        The reduced axes (``()``: every entry is its own row).
    mask : array of bool, optional
        The validated ``where`` mask, broadcastable to ``x``.
    temperature : float, array or Temperature
        T as a Python number (0 and inf allowed), an array broadcastable to the reduced shape
        with kept dims, or the parsed :class:`~softmaxkit._base.core.Temperature` record.
        Pass 1.0 where the temperature must not freeze rows (hardmax).
    plus_inf_dead : bool, default True
        Whether a row holding +inf is constant (it is for the normalised maps, whose mass stays
        on the +inf entries; not for the elementwise α-ReLU).

    Returns
    -------
    RowClasses
        ``kept``
            bool, ``x``'s shape: the entries that take part — not masked and not −inf (NaN and
            +inf entries count as kept, so that their rows stay NaN or are zeroed as dead).
        ``dead``
            bool, kept dims: rows where the map is locally constant — rows holding +inf
            (when ``plus_inf_dead``), all rows at T = 0 or inf, and rows where an array T is
            0 or inf. Rows holding NaN are never dead (their NaN must flow).
        ``nan``
            bool, kept dims: rows holding NaN (among the entries that are not masked).
        ``divisor``
            T as the formulas take it: None for T = 1 and for a number T = 0 or inf (every
            row dead), a float, or an array (kept dims) holding 1 where T is 0 or inf.

    Every step is an array operation without a data-dependent branch, so the classification
    runs unchanged under ``jax.jit``, ``torch.func`` transforms and ``torch.compile``. An
    input without entries has no row dead or NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import array_api_compat
    >>> x = np.array([[1.0, np.inf], [np.nan, 0.0], [-np.inf, 2.0]])
    >>> rc = classify_rows(array_api_compat.array_namespace(x), x, (1,), temperature=2.0)
    >>> rc.dead.ravel(), rc.nan.ravel(), rc.divisor
    (array([ True, False, False]), array([False,  True, False]), 2.0)
    >>> rc.kept
    array([[ True,  True],
           [ True,  True],
           [False,  True]])
    """
    t = _temperature_value(temperature)
    kept = taking_part(x, mask)
    masked = x if mask is None else xp.where(mask, x, full_like_scalar(xp, x, -math.inf))
    if any(n == 0 for n in x.shape):
        # No entry: no row holds +inf or NaN (a maximum over no entry is undefined in most
        # namespaces).
        shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        nan = xp.zeros(shape, dtype=xp.bool, device=device_of(x))
        dead = nan
    else:
        m = rmax(xp, masked, axes)
        nan = xp.isnan(m)
        dead = m == math.inf if plus_inf_dead else xp.zeros_like(nan)
    if isinstance(t, (int, float)):
        if float(t) == 0.0 or math.isinf(t):
            dead = xp.ones_like(dead)
    else:
        dead = dead | (t == 0) | xp.isinf(t)
    return RowClasses(kept, dead & ~nan, nan, temperature_divisor(xp, t))


def taking_part(x: Array, mask: Array | None = None) -> Array:
    """The ``kept`` entries of :func:`classify_rows`: not masked and not −inf."""
    kept = x != -math.inf
    return kept if mask is None else kept & mask


def temperature_divisor(xp: Any, temperature: Any) -> Divisor:
    """The ``divisor`` of :func:`classify_rows`: None for T = 1, 0 or inf (a number), the
    float T, or the array T with 1 where it is 0 or inf (those rows are dead)."""
    t = _temperature_value(temperature)
    if isinstance(t, (int, float)):
        t = float(t)
        return None if t in (0.0, 1.0) or math.isinf(t) else t
    return xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t)


def eye(xp: Any, n: int, device: Any) -> Array:
    """The boolean identity matrix ``(n, n)`` on ``device``."""
    i = xp.arange(n, device=device)
    return xp.expand_dims(i, axis=1) == xp.expand_dims(i, axis=0)


def complement(xp: Any, p: Array) -> Array:
    """``1 − p`` along the last axis, to full relative accuracy.

    ``1 − p`` is exact arithmetic on a rounded p, so for p near 1 it keeps only the absolute
    accuracy of p. The one entry above 1/2 gets the sum of the other probabilities instead,
    which equals 1 − p to a few ulp relative.
    """
    big = p > 0.5
    rest = xp.sum(xp.where(big, full_like_scalar(xp, p, 0.0), p), axis=-1, keepdims=True)
    return xp.where(big, rest, 1.0 - p)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp: JVP and VJP
# --------------------------------------------------------------------------------------------


def pivot(xp: Any, p: Array, v: Array, axes: tuple[int, ...]) -> Array:
    """``v`` at the row's dominant entry (the one with ``p > 1/2``, if any; else 0), kept dims.

    ``v − ⟨p, v⟩`` is shift invariant, and shifting by this value removes its cancellation:
    when ``p_k ≈ 1`` the exact ``v_k − ⟨p, v⟩ = Σ_{j≠k} p_j (v_k − v_j)`` is small, and forming
    it as a difference of two O(|v|) numbers would leave an error of ulp·|v| on it. After the
    shift ``⟨p, v⟩`` is a sum over the small, accurately known ``p_j`` only.
    """
    return rsum(xp, xp.where(p > 0.5, v, full_like_scalar(xp, v, 0.0)), axes)


def softmax_jvp(
    xp: Any, p: Array, v: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    r"""JVP of softmax from its output: :math:`\dot p = p \odot (v - \langle p, v\rangle)/T`.

    Evaluated as ``p ⊙ (v₀ − ⟨p, v₀⟩)/T`` with ``v₀ = v − pivot`` (:func:`pivot`) on the
    entries with ``p ≠ 0`` and 0 elsewhere, so tangents at masked and −inf entries (even
    non-finite ones) are ignored. The Jacobian is symmetric: this is also the VJP.

    Edge cases: empty rows give 0 (p = 0); ``dead`` rows (T = 0 or inf, +inf entries) 0;
    NaN rows NaN.
    """
    v0 = xp.where(p != 0, v - pivot(xp, p, v, axes), full_like_scalar(xp, v, 0.0))
    s = rsum(xp, p * v0, axes)
    return _kill(xp, _divide(p * (v0 - s), t), dead)


def softmax_vjp(
    xp: Any, p: Array, u: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    r"""VJP of softmax from its output, :math:`\bar x = p \odot (u - \langle p, u\rangle)/T`:
    the same formula as :func:`softmax_jvp` (the Jacobian is symmetric)."""
    return softmax_jvp(xp, p, u, axes, t, dead)


def log_softmax_jvp(
    xp: Any, p: Array, v: Array, kept: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    r"""JVP of log_softmax: :math:`\dot y = (v - \langle p, v\rangle)/T` on the kept entries.

    ``p`` is the softmax (``exp`` of the log_softmax output); ``kept`` marks the entries that
    take part (not masked, not −inf; NaN and +inf entries count as kept). Entries not kept have
    the constant output −inf: derivative 0, their tangents ignored. The pivot of
    :func:`softmax_jvp` keeps ``v − ⟨p, v⟩`` accurate when one p is near 1.

    Edge cases: empty rows give 0 (nothing kept); ``dead`` rows 0; NaN rows NaN.
    """
    zero = full_like_scalar(xp, v, 0.0)
    v0 = xp.where(kept, v - pivot(xp, p, v, axes), zero)
    s = rsum(xp, p * v0, axes)
    return _kill(xp, _divide(xp.where(kept, v0 - s, zero), t), dead)


def log_softmax_vjp(
    xp: Any, p: Array, u: Array, kept: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    r"""VJP of log_softmax: :math:`\bar x = (u - p \sum_i u_i)/T`, u taken as 0 off ``kept``.

    Arguments as for :func:`log_softmax_jvp`. Edge cases: empty rows give 0; ``dead`` rows 0;
    NaN rows NaN.
    """
    u0 = xp.where(kept, u, full_like_scalar(xp, u, 0.0))
    return _kill(xp, _divide(u0 - p * rsum(xp, u0, axes), t), dead)


def logsumexp_weighted_grad(xp: Any, p: Array, b: Array, axes: tuple[int, ...]) -> Array:
    r"""Gradient of the weighted logsumexp, :math:`w = b \odot p / \sum b \odot p`.

    ``p`` is the softmax over the entries with nonzero weight. A weighted sum that is exactly
    0 (an empty row) has gradient 0, as the empty row of the unweighted map does. Without
    weights the gradient is ``p`` itself.
    """
    bp = b * p
    total = rsum(xp, bp, axes)
    zero = full_like_scalar(xp, total, 0.0)
    safe = xp.where(total == 0, full_like_scalar(xp, total, 1.0), total)
    return xp.where(total == 0, zero, bp / safe)


def logsumexp_jvp(xp: Any, w: Array, v: Array, axes: tuple[int, ...]) -> Array:
    r"""JVP of logsumexp from its gradient ``w`` (the softmax): :math:`\langle w, v\rangle`.

    Kept dimensions. Tangent entries where ``w = 0`` are ignored (even non-finite ones). The
    gradient carries the map's limits (hardmax at T = 0, uniform at T = inf, the share of the
    +inf entries): no ``dead`` flag applies. Empty rows give 0, NaN rows NaN.
    """
    v0 = xp.where(w != 0, v, full_like_scalar(xp, v, 0.0))
    return rsum(xp, w * v0, axes)


def logsumexp_vjp(xp: Any, w: Array, u: Array) -> Array:
    r"""VJP of logsumexp: :math:`\bar x = u\, w` with ``u`` of the kept-dims reduced shape."""
    return w * u


def logsumexp_temperature_derivative(
    xp: Any, p: Array, logp: Array, axes: tuple[int, ...]
) -> Array:
    r"""∂/∂T of :math:`T \log \sum e^{x/T}`: the entropy :math:`H(p) = -\sum p \log p`.

    ``(L − ⟨p, x⟩)/T`` evaluated from ``log p`` (the log_softmax output) without cancelling;
    entries with p = 0 add 0. Kept dimensions. (The derivative in x is :func:`logsumexp_jvp`.)
    """
    return -rsum(xp, xp.where(p > 0, p * logp, full_like_scalar(xp, p, 0.0)), axes)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax: Jacobians and Hessians (rows layout)
# --------------------------------------------------------------------------------------------


def softmax_jacobian(xp: Any, pr: Array, t: Divisor = None, *, out_dtype: Any = None) -> Array:
    r"""Jacobian of softmax from its output rows: :math:`(\operatorname{diag} p - p p^T)/T`.

    The diagonal is ``p (1 − p)/T`` with ``1 − p`` from :func:`complement`, so every entry is
    accurate to a few ulp relative. Entries with p = 0 have exactly-zero rows and columns.
    ``t`` is a rows-layout divisor ``batch + (1,)``; dead and NaN rows are the caller's.

    ``out_dtype`` (NumPy only) writes the result in that dtype directly: every entry is then
    rounded once from the work dtype (T is folded into the O(n) factor, the same two roundings
    as dividing the product, and the n² entries are written in one pass).
    """
    if isinstance(pr, np.ndarray):
        a = _divide(pr, t)
        n = pr.shape[-1]
        j = np.empty((*pr.shape, n), dtype=pr.dtype if out_dtype is None else out_dtype)
        np.multiply(-a[..., :, None], pr[..., None, :], out=j)
        idx = np.arange(n)
        j[..., idx, idx] = a * complement(xp, pr)
        return j
    j = -(_col(xp, pr) * _row(xp, pr))
    j = xp.where(eye(xp, pr.shape[-1], device_of(pr)), _col(xp, pr * complement(xp, pr)), j)
    return _divide(j, _expand(xp, t, 1))


def softmax_hessian(xp: Any, pr: Array, t: Divisor = None) -> Array:
    r"""Hessian of softmax from its output rows:
    :math:`T^2 H_{ijk} = p_i (2 p_j p_k - \delta_{ij} p_k - \delta_{ik} p_j - \delta_{jk} p_j
    + \delta_{ijk})`.

    Evaluated case by case in factored form so that nothing cancels that the exact value does
    not: ``2 p_i p_j p_k`` off every diagonal, ``p_i p_k (2 p_i − 1)`` for i = j ≠ k (and its
    mirror images), ``p_i (1 − p_i)(1 − 2 p_i)`` for i = j = k. Divided by T twice (T² could
    overflow). O(n³) memory per row.
    """
    n = pr.shape[-1]
    pi = _col(xp, _col(xp, pr))
    pj = _col(xp, _row(xp, pr))
    pk = _row(xp, _row(xp, pr))
    e = eye(xp, n, device_of(pr))
    ij = xp.expand_dims(e, axis=2)
    ik = xp.expand_dims(e, axis=1)
    jk = xp.expand_dims(e, axis=0)
    h = 2.0 * pi * pj * pk
    h = xp.where(ij & ~jk, pi * pk * (2.0 * pi - 1.0), h)
    h = xp.where(ik & ~jk, pi * pj * (2.0 * pi - 1.0), h)
    h = xp.where(jk & ~ij, pi * pj * (2.0 * pj - 1.0), h)
    ci = _col(xp, _col(xp, complement(xp, pr)))
    h = xp.where(ij & jk, pi * ci * (1.0 - 2.0 * pi), h)
    t3 = _expand(xp, t, 2)
    return _divide(_divide(h, t3), t3)


def log_softmax_jacobian(xp: Any, pr: Array, kept: Array, t: Divisor = None) -> Array:
    r"""Jacobian of log_softmax from the softmax rows: :math:`J_{ij} = (\delta_{ij} - p_j)/T`.

    Rows of entries not ``kept`` (masked, −inf: constant output −inf) are 0, and so are their
    columns (p_j = 0). The diagonal ``1 − p_i`` comes from :func:`complement`.
    """
    n = pr.shape[-1]
    j = -xp.broadcast_to(_row(xp, pr), (*pr.shape, n))
    j = xp.where(eye(xp, n, device_of(pr)), _col(xp, complement(xp, pr)), j)
    j = xp.where(_col(xp, kept), j, full_like_scalar(xp, j, 0.0))
    return _divide(j, _expand(xp, t, 1))


def log_softmax_hessian(xp: Any, pr: Array, kept: Array, t: Divisor = None) -> Array:
    r"""Hessian of log_softmax from the softmax rows: :math:`H_{ijk} = -p_j(\delta_{jk} -
    p_k)/T^2`, the same matrix (minus the softmax Jacobian over T) for every kept entry i, 0
    for the others."""
    jac = softmax_jacobian(xp, pr, t)
    keep = _col(xp, _col(xp, kept))
    h = xp.where(keep, -xp.expand_dims(jac, axis=-3), full_like_scalar(xp, jac, 0.0))
    return _divide(h, _expand(xp, t, 2))


# --------------------------------------------------------------------------------------------
# the sparse family: entmax (sparsemax, 1.5-entmax, α-entmax) and α-ReLU
# --------------------------------------------------------------------------------------------


def sparse_weights(xp: Any, p: Array, alpha: Any, kind: str = "entmax") -> Array:
    r"""The Jacobian's weights :math:`g = p^{2-\alpha}` on the support, 0 off it.

    Parameters
    ----------
    p : array
        The map's output (probabilities; α-ReLU's values r).
    alpha : float or array
        α (an array broadcastable to p for one α per row).
    kind : {"sparsemax", "entmax15", "entmax", "alpha_relu"}
        The map: sparsemax's weights are the support's indicator (α = 2), 1.5-entmax's
        ``√p``; ``"entmax"`` and ``"alpha_relu"`` take the power. α-ReLU's support is
        ``0 < r < inf`` (+inf entries are constant).

    Returns
    -------
    array
        g, NaN where p is NaN. The power is taken of 1 off the support (never of 0), so that
        differentiating the formula again gives no NaN there.
    """
    zero = full_like_scalar(xp, p, 0.0)
    on = (p > 0) & (p < math.inf) if kind == "alpha_relu" else p > 0
    if kind == "sparsemax":
        g = xp.astype(on, p.dtype)
    elif kind == "entmax15":
        g = xp.where(on, xp.sqrt(xp.where(on, p, full_like_scalar(xp, p, 1.0))), zero)
    else:
        g = xp.where(on, xp.where(on, p, full_like_scalar(xp, p, 1.0)) ** (2.0 - alpha), zero)
    return xp.where(xp.isnan(p), p, g)


def sparse_jvp(
    xp: Any, g: Array, v: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    r"""JVP of α-entmax from its weights: :math:`(\operatorname{diag}(g) - g g^T/\sum g)\,v/T`.

    ``g`` from :func:`sparse_weights`. Tangents off the support (g = 0; even non-finite ones)
    are ignored. The Jacobian is symmetric: this is also the VJP. α = 2 gives sparsemax's
    derivative, α → 1 softmax's.

    Edge cases: entries off the support, empty rows and rows whose weights are all 0 give 0;
    ``dead`` rows (T = 0 or inf, +inf entries) 0; NaN rows NaN.
    """
    zero = full_like_scalar(xp, g, 0.0)
    one = full_like_scalar(xp, g, 1.0)
    v = xp.where(g != 0, v, zero)
    if axes:
        sg = xp.sum(g, axis=axes, keepdims=True)
        q = xp.sum(g * v, axis=axes, keepdims=True) / xp.where(sg != 0, sg, one)
    else:
        q = v
    return _kill(xp, _divide(g * (v - q), t), dead)


def sparse_vjp(
    xp: Any, g: Array, u: Array, axes: tuple[int, ...], t: Divisor = None,
    dead: Array | None = None,
) -> Array:
    """VJP of α-entmax: :func:`sparse_jvp` (the Jacobian is symmetric)."""
    return sparse_jvp(xp, g, u, axes, t, dead)


def alpha_relu_jvp(xp: Any, g: Array, v: Array, t: Divisor = None,
                   dead: Array | None = None) -> Array:
    r"""JVP (and VJP: the Jacobian is diagonal) of α-ReLU: :math:`g \odot v / T`.

    ``g = r^{2−α}`` from :func:`sparse_weights` with ``kind="alpha_relu"`` (or already
    divided by T, with ``t=None``). Tangents where g = 0 (off the support, masked, ±inf
    entries) are ignored. At the threshold the derivative is taken from the zero side (0).
    ``dead``: rows at T = 0 or inf (α-ReLU is elementwise, so +inf entries do not freeze
    their row). NaN rows NaN.
    """
    v0 = xp.where(g != 0, v, full_like_scalar(xp, g, 0.0))
    return _kill(xp, _divide(g * v0, t), dead)


def alpha_relu_jacobian(xp: Any, gr: Array) -> Array:
    """Jacobian of α-ReLU from its weight rows (already divided by T): ``diag(g)``, NaN
    throughout a row holding NaN (the output row is NaN whatever the tangent)."""
    n = gr.shape[-1]
    ident = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    nan = xp.isnan(gr)
    gc = xp.expand_dims(gr, axis=-1)
    row_nan = xp.expand_dims(xp.any(nan, axis=-1, keepdims=True), axis=-1)
    return xp.where(row_nan, full_like_scalar(xp, gc, math.nan), ident * xp.where(
        xp.isnan(gc), full_like_scalar(xp, gc, 0.0), gc))


def sparse_jacobian(xp: Any, gr: Array, t: Divisor = None) -> Array:
    r"""Jacobian of α-entmax from its weight rows: :math:`(\operatorname{diag}(g) - g g^T /
    \sum g)/T`; rows whose weights are all 0 give 0 (and ``t`` is a rows-layout divisor)."""
    n = gr.shape[-1]
    one = full_like_scalar(xp, gr, 1.0)
    sg = xp.sum(gr, axis=-1, keepdims=True)
    ident = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    gc, grow = _col(xp, gr), _row(xp, gr)
    jac = ident * gc - gc * grow / _col(xp, xp.where(sg != 0, sg, one))
    return _divide(jac, _expand(xp, t, 1))


def sparse_hessian(xp: Any, pr: Array, gr: Array, alpha: float, t: Divisor = None) -> Array:
    r"""Hessian of α-entmax from its output and weight rows.

    With z = x/T, g = p^{2−α} on the support, S = Σg and J = diag(g) − g gᵀ/S (the Jacobian
    in z), the weights move as ∂g_i/∂z_k = (2−α) p_i^{1−α} J_ik = c_i (δ_ik − g_k/S) with
    c_i = (2−α) p_i^{3−2α} (0 off the support; the product form stays finite at the support's
    edge for α ≤ 1.5; α = 2 gives c = 0, α = 1.5 c = 1/2). Differentiating J then gives

    .. math:: T^2 H_{ijk} = \delta_{ij}\,G_{ik} - (G_{ik} g_j + g_i G_{jk})/S
              + g_i g_j \,\textstyle\sum_l G_{lk} / S^2, \qquad G_{ik} = \partial g_i/\partial z_k.

    Rows whose weights are all 0 (dead, empty) give 0; NaN rows NaN. O(n³) memory per row.
    """
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
    ident = xp.astype(xp.eye(n, dtype=gr.dtype, device=device_of(gr)), gr.dtype)
    dg = _col(xp, c) * (ident - _row(xp, gr / s))  # [.., i, k]
    ds = xp.sum(dg, axis=-2, keepdims=True)  # [.., 1, k]
    s3 = _col(xp, _col(xp, s))  # [.., 1, 1, 1]
    g_i = _col(xp, _col(xp, gr))  # [.., i, 1, 1]
    g_j = _col(xp, _row(xp, gr))  # [.., 1, j, 1]
    dg_ik = xp.expand_dims(dg, axis=-2)  # [.., i, 1, k]
    dg_jk = xp.expand_dims(dg, axis=-3)  # [.., 1, j, k]
    hess = (
        xp.expand_dims(ident, axis=-1) * dg_ik
        - (dg_ik * g_j + g_i * dg_jk) / s3
        + g_i * g_j * xp.expand_dims(ds, axis=-3) / (s3 * s3)
    )
    if t is None:
        return hess
    t3 = _expand(xp, t, 2)
    return hess / (t3 * t3)


# ψ(s) = (e^s − 1 − s)/s² = Σ_k s^k/(k+2)!, for 0 ≤ s < 1 (18 terms: the rest is < 1/19!).
_PSI = tuple(1.0 / math.factorial(k + 2) for k in range(18))


def entmax_dalpha(xp: Any, p: Array, logp: Array, eps: Any, axes: tuple[int, ...]) -> Array:
    r"""∂p/∂α of α-entmax from its output ``p`` and ``log p``, with ε = α − 1 ≥ 0.

    ``eps`` is a float, or an array of the reduced shape with kept dims (one α per row). With
    L = log p, S = p L, H = Σ S, g = p^(1−ε) (all on the support) the derivative is
    ``((p − g/Σg)/ε² − (S − H g/Σg)/ε`` (Correia, Niculae & Martins 2019, as in the ``entmax``
    package). Both terms are O(1/ε) and cancel as α → 1, so it is evaluated as
    ``[(p ρ̄ − ρ) − ε (S ρ̄ − H ρ)] / Σg`` with ``ρ = (g − p + ε S)/ε² = p L² ψ(−ε L)``,
    ``ρ̄ = Σ ρ``, ψ(s) = (e^s − 1 − s)/s²: no cancellation, and the α = 1 limit
    ``p (Σ p L² − L²)/2`` comes out of the same expression.

    Entries off the support give 0, NaN where p is NaN. Rows that are constant in α (T = 0 or
    inf, +inf entries) are the caller's to zero; empty rows give 0.
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


# --------------------------------------------------------------------------------------------
# the two-class maps (elementwise): sigmoid, log_sigmoid, logit
# --------------------------------------------------------------------------------------------


def sigmoid_jvp(
    xp: Any, s: Array, c: Array, v: Array, t: Divisor = None, dead: Array | None = None
) -> Array:
    r"""JVP (and VJP: the Jacobian is diagonal) of the sigmoid: :math:`\sigma(1-\sigma)\,v/T`.

    ``s = σ(x/T)`` and ``c = σ(−x/T)`` — the complement computed as a sigmoid, not as
    ``1 − s``, so that the derivative keeps its relative precision where σ is near 1. Tangent
    entries where the derivative is 0 (x = ±inf, or underflow) are ignored even when they are
    not finite; ``dead`` entries (T = 0 or inf) give 0; NaN gives NaN.
    """
    w = s * c
    v0 = xp.where(w != 0, v, full_like_scalar(xp, v, 0.0))
    return _kill(xp, _divide(w * v0, t), dead)


def sigmoid_second(
    xp: Any, s: Array, c: Array, d: Array, t: Divisor = None, dead: Array | None = None
) -> Array:
    r"""Second derivative of the sigmoid: :math:`\sigma(1-\sigma)(1-2\sigma)/T^2`.

    ``d = 1 − 2σ`` must come accurately (``tanh(−x/(2T))``: ``c − s`` would cancel near
    x = 0). Divided by T twice (T² could overflow). Edge cases as :func:`sigmoid_jvp`.
    """
    h = s * c * d
    return _kill(xp, _divide(_divide(h, t), t), dead)


def log_sigmoid_jvp(
    xp: Any, c: Array, v: Array, t: Divisor = None, dead: Array | None = None
) -> Array:
    r"""JVP (and VJP) of log_sigmoid: :math:`(1 - \sigma)\,v/T = \sigma(-x/T)\,v/T`.

    ``c = σ(−x/T)``; tangents where it is 0 are ignored. Edge cases as :func:`sigmoid_jvp`
    (at x = −inf the output is the constant −inf: c = 1 there, yet the entry is constant,
    so the caller passes it as ``dead``).
    """
    v0 = xp.where(c != 0, v, full_like_scalar(xp, v, 0.0))
    return _kill(xp, _divide(c * v0, t), dead)


def log_sigmoid_second(
    xp: Any, s: Array, c: Array, t: Divisor = None, dead: Array | None = None
) -> Array:
    r"""Second derivative of log_sigmoid: :math:`-\sigma(1-\sigma)/T^2`."""
    return _kill(xp, -_divide(_divide(s * c, t), t), dead)


def logit_jvp(xp: Any, p: Array, v: Array, scale: Any = None) -> Array:
    r"""JVP (and VJP) of the logit: :math:`T\,v / (p(1-p))`.

    ``scale`` is T (None for 1): the logit multiplies by it. ``1 − p`` is exact for p ≥ 1/2
    and correctly rounded below. At p = 0 and p = 1 the output is the constant ∓inf:
    derivative 0, the tangent ignored. NaN gives NaN.
    """
    zero = full_like_scalar(xp, p, 0.0)
    inside = (p > 0) & (p < 1)
    pq = xp.where(inside, p * (1.0 - p), full_like_scalar(xp, p, 1.0))
    v0 = xp.where(inside, v, zero)
    out = v0 / pq if scale is None else (v0 / pq) * scale
    out = xp.where(inside, out, zero)
    return xp.where(xp.isnan(p), p, out)


def logit_second(xp: Any, p: Array, scale: Any = None) -> Array:
    r"""Second derivative of the logit: :math:`T (2p - 1) / (p(1-p))^2`; 0 at p ∈ {0, 1}."""
    zero = full_like_scalar(xp, p, 0.0)
    inside = (p > 0) & (p < 1)
    pq = xp.where(inside, p * (1.0 - p), full_like_scalar(xp, p, 1.0))
    out = ((2.0 * p - 1.0) / pq) / pq
    if scale is not None:
        out = out * scale
    out = xp.where(inside, out, zero)
    return xp.where(xp.isnan(p), p, out)


# --------------------------------------------------------------------------------------------
# logcumsumexp
# --------------------------------------------------------------------------------------------


def logcumsumexp_tangent(
    xp: Any, a_pos: Array, a_neg: Array, y: Array, t: Divisor = None
) -> Array:
    r"""VJP (or JVP) of logcumsumexp from cumulative log-sum-exps of the split tangent.

    The derivative is :math:`\partial y_i/\partial x_j = e^{(x_j - y_i)/T}` for j ≤ i (the
    softmax of the prefix), so with the tangent split as ``v = v⁺ − v⁻`` (both ≥ 0):

    * VJP: :math:`\bar x_j = e^{(x_j + B^+_j)/T} - e^{(x_j + B^-_j)/T}` with
      ``B± = logcumsumexp(T log u± − y, reverse=True)``; pass ``a± = x + B±`` and ``y = 0``;
    * JVP: :math:`\dot y_i = e^{(A^+_i - y_i)/T} - e^{(A^-_i - y_i)/T}` with
      ``A± = logcumsumexp(x + T log v±)`` (``y`` the map's output). Not linear in ``v`` as
      array operations: the library's JVP uses the map's own scan instead
      (:func:`softmaxkit.scan.tangent_scan`), which JAX can transpose.

    Every exponent is ≤ ``T log max(v±)``-ish (each term of a prefix is at most its total), so
    nothing overflows. Where the exponent is not a number (an empty prefix, −inf − (−inf))
    the term is 0. ``t``: the divisor T (None for 1). The caller handles T = 0, T = inf and
    +inf entries (the derivative of the limits, through the prefix softmax).
    """
    zero = full_like_scalar(xp, y, 0.0)

    def term(a: Array) -> Array:
        z = _divide(a - y, t)
        return xp.where(xp.isnan(z) & ~xp.isnan(a) & ~xp.isnan(y), zero, xp.exp(z))

    return term(a_pos) - term(a_neg)
