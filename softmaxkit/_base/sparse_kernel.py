"""The array-API kernel of the sparse family: sparsemax, 1.5-entmax, α-entmax and α-ReLU.

The maps are α-entmax transformations :math:`p_i = [(\\alpha - 1) z_i - \\tau]_+^{1/(\\alpha-1)}`,
``z = x / T``, with the threshold τ that makes a row sum to 1 (α-ReLU fixes τ instead). Here
live the row solvers (exact sort-based thresholds for α = 2 and 1.5, bisection with a final
Newton step otherwise), the driver :func:`solve` that resolves the special rows (NaN, +inf,
empty, T = 0 or inf) around them, α-ReLU's values, and the argument checks shared by the
maps, their derivatives, the losses and the autograd rules.

Only array-API calls are used, so the same code serves NumPy, PyTorch, JAX and Dask blocks.
NumPy input usually takes :mod:`softmaxkit._base.sparse_fast` first (the public maps try it
before :func:`solve`); that path hands its special rows back to :func:`solve`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from softmaxkit._base.arrays import device_of, host_copy
from softmaxkit._base.core import (
    Prepared,
    Temperature,
    dtype_name,
    finish,
    full_like_scalar,
    is_lazy,
)
from softmaxkit._base.dispatch import is_jax_array, is_tensor, is_traced_tensor
from softmaxkit._base.kernel import any_true, hardmax_from, pointwise

__all__ = [
    "FLOOR",
    "METHODS",
    "alpha_relu_values",
    "bisect_rows",
    "budget_hard_rows",
    "budget_rows",
    "check_alpha",
    "check_budget",
    "check_k",
    "check_n_iter",
    "check_relu_args",
    "default_n_iter",
    "entmax15_rows",
    "entmax15_top_k_rows",
    "from_rows",
    "scaled_scores",
    "solve",
    "solve_budget",
    "sparsemax_rows",
    "sparsemax_top_k_rows",
    "to_rows",
    "top_k_desc",
]

Array = Any

# After shifting by the row maximum and scaling by (α − 1)/T, every entry of the support lies in
# (−1, 0] (the threshold τ is ≥ −1 because the largest entry alone has mass ≤ 1). Entries below
# −1 are outside the support, so they (and the −inf / masked ones) can be raised to this floor:
# the prefix sums of the sort-based solvers then stay finite and exact on the support.
FLOOR = -2.0

# The row solvers by name: the exact sort-based thresholds, and bisection for any α.
METHODS = ("sparsemax", "entmax15", "bisect")


# --------------------------------------------------------------------------------------------
# Argument checks (one copy: maps, derivatives, losses and autograd rules raise the same errors)
# --------------------------------------------------------------------------------------------


def check_alpha(alpha: Any) -> float:
    """α of :func:`softmaxkit.entmax` as a float: a finite real number ≥ 1.

    Raises
    ------
    ValueError
        Naming ``entmax`` and the value, for a non-number, NaN, infinity or α < 1.
    """
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


def check_n_iter(n_iter: Any) -> None:
    """Raise ``ValueError`` unless ``n_iter`` is None or a positive integer (entmax's steps)."""
    if n_iter is not None and (
        isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1
    ):
        raise ValueError(f"entmax: n_iter must be a positive integer, got {n_iter!r}")


def check_relu_args(alpha: Any, tau: Any, fn: str) -> tuple[float, float]:
    """α and τ of :func:`softmaxkit.sparse.alpha_relu` as floats: α > 1 finite, τ finite.

    Raises
    ------
    ValueError
        Naming ``fn`` and the argument, for a non-number (or an array that is not 0-d) or an
        out-of-range value.
    """
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


def check_k(k: Any, fn: str) -> int | None:
    """``k`` of the top-k solvers: None or an integer ≥ 1.

    Raises
    ------
    ValueError
        Naming ``fn`` and the value.
    """
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{fn}: k must be None or an integer >= 1 (the number of largest "
                         f"entries sorted first), got {k!r}")
    return int(k)


def check_budget(budget: Any, fn: str) -> float:
    """The budget of :func:`softmaxkit.budget_sparsemax`: a finite real number > 0.

    Raises
    ------
    ValueError
        Naming ``fn`` and the value.
    """
    if isinstance(budget, bool) or not isinstance(budget, (numbers.Real, np.ndarray)) or (
        isinstance(budget, np.ndarray) and budget.ndim != 0
    ):
        raise ValueError(f"{fn}: budget must be a real number > 0, got {budget!r}")
    b = float(budget)
    if not (0.0 < b < math.inf):
        raise ValueError(f"{fn}: budget={b!r} is invalid; expected a finite number > 0 (the "
                         "sum of the output; 1 gives sparsemax)")
    return b


def default_n_iter(compute_dtype: Any) -> int:
    """Bisection steps when ``n_iter`` is not given: each halving of the bracket (width < 1)
    gains one bit of the threshold, so 60 in float64 and 30 in float32."""
    return 60 if dtype_name(compute_dtype) == "float64" else 30


# --------------------------------------------------------------------------------------------
# Rows layout
# --------------------------------------------------------------------------------------------


def to_rows(xp: Any, a: Array, axes: tuple[int, ...]) -> tuple[Array, tuple[int, ...], tuple]:
    """Move ``axes`` last and flatten them into one; also return what undoes it.

    Returns
    -------
    rows, perm, pshape
        ``a`` as ``batch + (n,)`` (C order over the reduced axes), the permutation applied and
        the permuted shape, for :func:`from_rows`.
    """
    rest = [i for i in range(a.ndim) if i not in axes]
    perm = tuple(rest + list(axes))
    if perm != tuple(range(a.ndim)):
        a = xp.permute_dims(a, perm)
    pshape = tuple(a.shape)
    lead = pshape[: len(rest)]
    return xp.reshape(a, (*lead, math.prod(pshape[len(rest) :]))), perm, pshape


def from_rows(xp: Any, r: Array, perm: tuple[int, ...], pshape: tuple) -> Array:
    """Undo :func:`to_rows`."""
    r = xp.reshape(r, pshape)
    if perm != tuple(range(len(perm))):
        r = xp.permute_dims(r, tuple(int(i) for i in np.argsort(perm)))
    return r


# --------------------------------------------------------------------------------------------
# Row solvers (rows along the last axis, shifted so that their maximum is 0, floored at FLOOR)
# --------------------------------------------------------------------------------------------


def sparsemax_rows(xp: Any, y: Array) -> Array:
    """Sparsemax of rows ``y`` (max 0, entries in [FLOOR, 0]) along the last axis.

    The support size is the largest k with ``1 + k y_(k) > Σ_{j≤k} y_(j)`` over the sorted
    row, and ``τ = (Σ_{j≤k} y_(j) − 1)/k``.
    """
    n = y.shape[-1]
    ys = xp.sort(y, axis=-1, descending=True)
    cs = xp.cumulative_sum(ys, axis=-1) - 1
    k = xp.arange(1, n + 1, dtype=y.dtype, device=device_of(y))
    support = xp.sum(xp.astype(k * ys > cs, y.dtype), axis=-1, keepdims=True)
    zero = full_like_scalar(xp, y, 0.0)
    tau = xp.sum(xp.where(k == support, cs, zero), axis=-1, keepdims=True) / support
    return xp.where(y > tau, y - tau, zero)


def entmax15_rows(xp: Any, y: Array) -> Array:
    """1.5-entmax of rows ``y = (x − max)/(2T)`` (entries in [FLOOR, 0]) along the last axis.

    With μ_k and s_k the mean and mean square of the k largest entries, the candidate
    thresholds are ``τ_k = μ_k − √max(0, (1 − k(s_k − μ_k²))/k)``; the support size is the
    number of k with ``τ_k ≤ y_(k)``, whose τ is taken.
    """
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


def top_k_desc(xp: Any, y: Array, k: int) -> Array:
    """The ``k`` largest entries of each row of ``y``, in descending order (a partial sort:
    ``torch.topk``, ``jax.lax.top_k``, ``numpy.partition``; a full sort elsewhere)."""
    n = y.shape[-1]
    if k >= n:
        return xp.sort(y, axis=-1, descending=True)
    if is_tensor(y):
        import torch

        return torch.topk(y, k, dim=-1, largest=True, sorted=True).values
    if is_jax_array(y):
        from jax import lax

        return lax.top_k(y, k)[0]
    if isinstance(y, np.ndarray):
        part = np.partition(y, n - k, axis=-1)[..., n - k:]
        return np.sort(part, axis=-1)[..., ::-1]
    return xp.sort(y, axis=-1, descending=True)[..., :k]


def _top_k_threshold(xp: Any, y: Array, k: int | None,
                     tau_of: Any) -> Array:
    """τ (kept dims) of a sort-based solver computed on the ``k`` largest entries only.

    ``tau_of(ys)`` returns (τ, support size) from a descending prefix ``ys``. A row whose
    support fills the whole prefix may need more entries: k is doubled (as the ``entmax``
    package does) until no row's support fills its prefix, or the prefix is the whole row.
    Since the support is a prefix of the sorted row and the cumulative sums run in order, the
    τ of a resolved row is the full solver's, bit for bit. Values that cannot be inspected
    (traced, lazy) use the full sort.
    """
    n = y.shape[-1]
    if k is None or k >= n or is_lazy(y) or is_traced_tensor(y):
        return tau_of(xp.sort(y, axis=-1, descending=True))[0]
    tau, size = tau_of(top_k_desc(xp, y, k))
    while k < n:
        unresolved = size >= k
        if not any_true(xp, unresolved):
            break
        k = min(2 * k, n)
        tau2, size2 = tau_of(top_k_desc(xp, y, k))
        tau = xp.where(unresolved, tau2, tau)
        size = xp.where(unresolved, size2, size)
    return tau


def _sparsemax_tau(xp: Any, ys: Array) -> tuple[Array, Array]:
    k = xp.arange(1, ys.shape[-1] + 1, dtype=ys.dtype, device=device_of(ys))
    cs = xp.cumulative_sum(ys, axis=-1) - 1
    support = xp.sum(xp.astype(k * ys > cs, ys.dtype), axis=-1, keepdims=True)
    zero = full_like_scalar(xp, ys, 0.0)
    tau = xp.sum(xp.where(k == support, cs, zero), axis=-1, keepdims=True) / support
    return tau, support


def _entmax15_tau(xp: Any, ys: Array) -> tuple[Array, Array]:
    k = xp.arange(1, ys.shape[-1] + 1, dtype=ys.dtype, device=device_of(ys))
    mean = xp.cumulative_sum(ys, axis=-1) / k
    mean_sq = xp.cumulative_sum(ys * ys, axis=-1) / k
    ss = k * (mean_sq - mean * mean)
    delta = (1 - ss) / k
    zero = full_like_scalar(xp, ys, 0.0)
    tau = mean - xp.sqrt(xp.where(delta > 0, delta, zero))
    support = xp.sum(xp.astype(tau <= ys, ys.dtype), axis=-1, keepdims=True)
    tau_star = xp.sum(xp.where(k == support, tau, zero), axis=-1, keepdims=True)
    return tau_star, support


def sparsemax_top_k_rows(xp: Any, y: Array, k: int | None) -> Array:
    """:func:`sparsemax_rows` sorting only the ``k`` largest entries (doubling k as needed)."""
    tau = _top_k_threshold(xp, y, k, lambda ys: _sparsemax_tau(xp, ys))
    zero = full_like_scalar(xp, y, 0.0)
    return xp.where(y > tau, y - tau, zero)


def entmax15_top_k_rows(xp: Any, y: Array, k: int | None) -> Array:
    """:func:`entmax15_rows` sorting only the ``k`` largest entries (doubling k as needed)."""
    tau = _top_k_threshold(xp, y, k, lambda ys: _entmax15_tau(xp, ys))
    zero = full_like_scalar(xp, y, 0.0)
    d = xp.where(y > tau, y - tau, zero)
    return d * d


def budget_rows(xp: Any, y: Array, admissible: Array, budget: float, n_iter: int) -> Array:
    """Budget sparsemax of rows ``y`` (max 0; inadmissible entries anything): the projection
    onto ``{0 ≤ p ≤ 1, Σp = budget}``, ``p = clip(y − τ, 0, 1)``.

    τ is bracketed by [min − 1, max − budget/count] (F(τ) = Σ clip(y − τ, 0, 1) is count there
    and at most budget here), bisected ``n_iter`` times, and then solved in closed form on the
    sets it identifies: ``τ = (Σ_{0<p<1} y + #{p = 1} − budget) / #{0 < p < 1}``. The closed
    form carries the exact derivative for autodiff (the bisection carries none).
    """
    zero = full_like_scalar(xp, y, 0.0)
    one = full_like_scalar(xp, y, 1.0)
    big = full_like_scalar(xp, y, math.inf)
    ya = xp.where(admissible, y, -big)
    count = xp.sum(xp.astype(admissible, y.dtype), axis=-1, keepdims=True)
    ymin = xp.min(xp.where(admissible, y, big), axis=-1, keepdims=True)
    ymax = xp.max(xp.where(admissible, y, -big), axis=-1, keepdims=True)
    lo = xp.where(count > 0, ymin, zero) - 1.0
    hi = xp.where(count > 0, ymax, zero) - budget / xp.where(count > 0, count, one)
    lo, hi = xp.where(hi > lo, lo, hi), hi
    for _ in range(n_iter):
        mid = lo + (hi - lo) / 2
        f = xp.sum(xp.clip(ya - mid, 0.0, 1.0), axis=-1, keepdims=True)
        above = f >= budget
        lo = xp.where(above, mid, lo)
        hi = xp.where(above, hi, mid)
    tau0 = lo + (hi - lo) / 2
    d = ya - tau0
    active = (d > 0) & (d < 1)
    n_active = xp.sum(xp.astype(active, y.dtype), axis=-1, keepdims=True)
    n_ones = xp.sum(xp.astype(d >= 1, y.dtype), axis=-1, keepdims=True)
    s_active = xp.sum(xp.where(active, y, zero), axis=-1, keepdims=True)
    tau = (s_active + n_ones - budget) / xp.where(n_active > 0, n_active, one)
    # The closed form is the root when the sets are right; a τ outside the final bracket
    # (or no active entry, τ at a breakpoint) keeps the bisection's value.
    width = 4 * (hi - lo) + 8 * float(xp.finfo(y.dtype).eps) * (1 + xp.abs(tau0))
    good = (n_active > 0) & (xp.abs(tau - tau0) <= width)
    tau = xp.where(good, tau, tau0 + 0 * tau)
    return xp.where(admissible, xp.clip(ya - tau, 0.0, 1.0), zero)


def budget_hard_rows(xp: Any, z: Array, admissible: Array, budget: float) -> Array:
    """The T = 0 limit of budget sparsemax: 1 on the entries above the ⌈budget⌉-th largest,
    and the rest of the budget shared by the entries equal to it."""
    n = z.shape[-1]
    ninf = full_like_scalar(xp, z, -math.inf)
    zero = full_like_scalar(xp, z, 0.0)
    za = xp.where(admissible, z, ninf)
    ys = xp.sort(za, axis=-1, descending=True)
    r = min(max(math.ceil(budget), 1), n)
    theta = ys[..., r - 1: r]
    gt = za > theta
    eq = (za == theta) & admissible
    n_gt = xp.sum(xp.astype(gt, z.dtype), axis=-1, keepdims=True)
    n_eq = xp.sum(xp.astype(eq, z.dtype), axis=-1, keepdims=True)
    one = full_like_scalar(xp, z, 1.0)
    share = (budget - n_gt) / xp.where(n_eq > 0, n_eq, one)
    return xp.where(gt, one, xp.where(eq, share, zero))


def bisect_rows(xp: Any, y: Array, alpha: float, n_iter: int) -> Array:
    """α-entmax of rows ``y = (α − 1)(x − max)/T`` by bisection on the threshold.

    The bracket is [−1, −(1/n)^(α−1)] (as in the ``entmax`` package's ``entmax_bisect``); a
    final Newton step makes autodiff through the solver exact, and the result is renormalised.
    """
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


# --------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------


def _temperature_rows(xp: Any, temp: Temperature, axes: tuple[int, ...], one: Array
                      ) -> tuple[Any, Any, Any]:
    """(T = 0 flags, T = inf flags, divisor with 1 at those limits), in the rows layout; the
    flags are Python bools when the temperature is one number."""
    t_zero: Any = temp.kind == "zero"
    t_inf: Any = temp.kind == "inf"
    t_safe: Any = temp.value if temp.kind == "scalar" else 1.0
    if temp.kind == "array":
        t = to_rows(xp, temp.value, axes)[0]
        t_zero, t_inf = t == 0, t == math.inf
        t_safe = xp.where(t_zero | t_inf, one, t)
    return t_zero, t_inf, t_safe


def solve(
    prep: Prepared,
    axes: tuple[int, ...],
    temp: Temperature,
    mask: Array | None,
    alpha: float,
    method: str,
    n_iter: int,
    k: int | None = None,
) -> Array:
    """α-entmax of a validated input on the generic (array-API) path, in the output dtype.

    Parameters
    ----------
    prep : Prepared
        The input (its namespace, compute and output dtypes).
    axes, temp, mask
        The reduced axes, parsed temperature and mask, as :func:`softmaxkit._base.core.setup`
        returns them.
    alpha : float
        α > 1 (2 for sparsemax, 1.5 for 1.5-entmax).
    method : {"sparsemax", "entmax15", "bisect"}
        The row solver.
    n_iter : int
        Bisection steps (``method="bisect"`` only).
    k : int, optional
        Sort only the ``k`` largest entries of each row (``"sparsemax"`` and ``"entmax15"``),
        doubling k for rows whose support does not fit: the same result, faster for long rows
        with small supports.

    Notes
    -----
    Limits, in increasing priority: T = inf gives the uniform distribution over admissible
    entries, T = 0 hardmax, rows holding +inf share the mass among those (hardmax), empty
    rows give zeros, rows holding NaN give NaN. Over no axis each entry is its own row.
    """
    xp = prep.xp
    xc = prep.x
    if not axes:
        return finish(xp, pointwise(xp, xc, mask, log=False), prep.out_dtype)
    z, perm, pshape = to_rows(xp, xc, axes)
    ninf = full_like_scalar(xp, z, -math.inf)
    zero = full_like_scalar(xp, z, 0.0)
    one = full_like_scalar(xp, z, 1.0)
    if mask is not None:
        z = xp.where(to_rows(xp, mask, axes)[0], z, ninf)
    # Passes that change nothing are skipped (long rows: each costs a sweep of memory); the
    # values, and so the results, are the same either way. The maximum propagates NaN (as
    # the array API specifies), so it flags the NaN rows without a pass of its own.
    m = xp.max(z, axis=-1, keepdims=True)
    nan_row = xp.isnan(m)
    any_nan = any_true(xp, nan_row)
    if any_nan:
        z = xp.where(xp.isnan(z), ninf, z)
        m = xp.max(z, axis=-1, keepdims=True)
    pinf_row = m == math.inf
    t_zero, t_inf, t_safe = _temperature_rows(xp, temp, axes, one)

    finite_m = xp.where(xp.isfinite(m), m, zero)
    y = z - finite_m
    if not (isinstance(t_safe, float) and t_safe == 1.0):
        y = y / t_safe
    if not (isinstance(alpha, float) and alpha == 2.0):  # α may be an array (one per row)
        y = (alpha - 1.0) * y
    floor = full_like_scalar(xp, z, FLOOR)
    y = xp.where(y > FLOOR, y, floor)  # −inf, masked and far entries: outside the support
    # Rows settled by a limit below get a harmless stand-in, so that no inf − inf reaches the
    # solver (its NaN would leak into autodiff gradients even where the value is replaced).
    special = nan_row | pinf_row | (m == -math.inf)
    if any_true(xp, special):
        y = xp.where(special, zero, y)
    if method == "sparsemax":
        p = sparsemax_rows(xp, y) if k is None else sparsemax_top_k_rows(xp, y, k)
    elif method == "entmax15":
        p = entmax15_rows(xp, y) if k is None else entmax15_top_k_rows(xp, y, k)
    else:
        p = bisect_rows(xp, y, alpha, n_iter)

    # Limits, in increasing priority: T = inf, T = 0, +inf entries, empty rows, NaN rows.
    if t_inf is not False:
        admissible = z > -math.inf
        count = xp.sum(xp.astype(admissible, z.dtype), axis=-1, keepdims=True)
        uniform = xp.astype(admissible, z.dtype) / xp.where(count > 0, count, one)
        p = xp.where(t_inf, uniform, p) if t_inf is not True else uniform
    # The hardmax (a pass over the rows) only where a row needs it: T = 0, +inf or empty rows.
    limit_row = pinf_row | (m == -math.inf)
    if t_zero is not False or any_true(xp, limit_row):
        hard = hardmax_from(xp, z, m, (z.ndim - 1,))
        if t_zero is not False:
            p = xp.where(t_zero, hard, p) if t_zero is not True else hard
        p = xp.where(limit_row, hard, p)
    if any_nan:
        p = xp.where(nan_row, full_like_scalar(xp, z, math.nan), p)
    return finish(xp, from_rows(xp, p, perm, pshape), prep.out_dtype)


def solve_budget(
    prep: Prepared,
    axes: tuple[int, ...],
    temp: Temperature,
    mask: Array | None,
    budget: float,
    n_iter: int,
    fn: str,
) -> Array:
    """Budget sparsemax of a validated input on the generic path, in the output dtype.

    Limits (extended reals first, as for the other maps): a row holding +inf entries gives
    each of them ``min(1, budget/#inf)`` and spreads what is left over its finite entries by
    the map at its temperature; T = 0 gives 1 to the ⌈budget⌉ − 1 largest and shares the
    rest among the entries tied with the ⌈budget⌉-th; T = inf spreads the budget uniformly.
    Rows with no admissible entry give zeros, NaN rows NaN; a row with fewer admissible
    entries than the budget cannot hold it and raises (NaN when values cannot be inspected).
    """
    xp = prep.xp
    z, perm, pshape = to_rows(xp, prep.x, axes)
    ninf = full_like_scalar(xp, z, -math.inf)
    zero = full_like_scalar(xp, z, 0.0)
    one = full_like_scalar(xp, z, 1.0)
    if mask is not None:
        z = xp.where(to_rows(xp, mask, axes)[0], z, ninf)
    nan = xp.isnan(z)
    nan_row = xp.any(nan, axis=-1, keepdims=True)
    z = xp.where(nan, ninf, z)
    admissible = z > -math.inf
    finite = xp.isfinite(z)
    pinf = z == math.inf
    count = xp.sum(xp.astype(admissible, z.dtype), axis=-1, keepdims=True)
    n_inf = xp.sum(xp.astype(pinf, z.dtype), axis=-1, keepdims=True)
    n_fin = count - n_inf
    infeasible = (count < budget) & (count > 0) & ~nan_row
    if not (is_lazy(infeasible) or is_traced_tensor(infeasible)) and any_true(xp, infeasible):
        bad = np.asarray(host_copy(infeasible))[..., 0]
        row = [int(i) for i in np.argwhere(bad)[0]] if bad.ndim else []
        have = int(np.asarray(host_copy(count)).reshape(-1)[int(np.argmax(bad.reshape(-1)))])
        batch_shape = tuple(pshape[: len(pshape) - len(axes)])
        where_ = f"row {tuple(row)} of the batch shape {batch_shape}" if row else "the row"
        raise ValueError(
            f"{fn}: {where_} has {have} admissible entries, fewer than budget={budget!r}; "
            "each output is at most 1, so the row cannot sum to the budget"
        )
    m = xp.max(xp.where(finite, z, ninf), axis=-1, keepdims=True)
    m0 = xp.where(xp.isfinite(m), m, zero)
    t_zero, t_inf, t_safe = _temperature_rows(xp, temp, axes, one)
    y = xp.where(finite, (z - m0) / t_safe, zero)
    # +inf entries stand at budget + 2 above every finite one: each takes min(1, budget/#inf)
    # and the finite ones share the rest, which is the limit along the ray.
    y = xp.where(pinf, zero + (budget + 2.0), y)
    p = budget_rows(xp, y, admissible, budget, n_iter)
    if t_inf is not False:
        inf_share = xp.where(n_inf > budget, budget / xp.where(n_inf > 0, n_inf, one), one)
        rest = xp.where(n_inf >= budget, zero, (budget - n_inf) / xp.where(n_fin > 0, n_fin,
                                                                           one))
        uniform = xp.where(pinf, inf_share, xp.where(finite, rest, zero))
        p = xp.where(t_inf, uniform, p) if t_inf is not True else uniform
    if t_zero is not False:
        hard = budget_hard_rows(xp, z, admissible, budget)
        p = xp.where(t_zero, hard, p) if t_zero is not True else hard
    p = xp.where(count == 0, zero, p)
    p = xp.where(nan_row | infeasible, full_like_scalar(xp, z, math.nan), p)
    return finish(xp, from_rows(xp, p, perm, pshape), prep.out_dtype)


# --------------------------------------------------------------------------------------------
# α-ReLU: the entmax formula with a fixed threshold, elementwise
# --------------------------------------------------------------------------------------------


def scaled_scores(xp: Any, z: Array, temp: Temperature) -> tuple[Array, Array | bool]:
    """``x/T`` with its limits, and the flag of entries whose row is at T = 0 or inf.

    The limits: ``x/0 = sign(x)·inf`` (``0/0 = 0``); ``finite/inf = 0``, ``±inf/T = ±inf``.
    The flag (a Python bool for a scalar temperature) marks where the map is locally constant.
    """
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


def alpha_relu_values(
    prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Array | None, alpha: float,
    tau: float,
) -> Array:
    """``[(α − 1) x/T − τ]_+^{1/(α−1)}`` in the compute dtype; masked entries give 0 and a
    NaN makes its whole row (over ``axes``) NaN."""
    xp = prep.xp
    z = prep.x
    if mask is not None:
        z = xp.where(mask, z, full_like_scalar(xp, z, -math.inf))
    zt, _ = scaled_scores(xp, z, temp)
    u = (alpha - 1.0) * zt - tau
    on = u > 0
    one = full_like_scalar(xp, u, 1.0)
    r = xp.where(on, xp.where(on, u, one) ** (1.0 / (alpha - 1.0)),
                 full_like_scalar(xp, u, 0.0))
    nan = xp.isnan(z)
    if axes:
        nan = xp.any(nan, axis=axes, keepdims=True)
    return xp.where(nan, full_like_scalar(xp, r, math.nan), r)
