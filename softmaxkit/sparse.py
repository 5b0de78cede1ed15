"""Sparse relatives of softmax: sparsemax, 1.5-entmax and α-entmax.

These maps are α-entmax transformations (Peters, Niculae & Martins 2019),

.. math:: p_i = [(\\alpha - 1) z_i - \\tau]_+^{1/(\\alpha-1)}, \\qquad z = x / T,

with the threshold τ chosen so that the entries sum to 1. α = 2 is sparsemax (the Euclidean
projection onto the simplex, Martins & Astudillo 2016), α = 1.5 has an exact sort-based threshold,
other α > 1 are solved by bisection, and α → 1 is softmax. Unlike softmax they give exact zeros.
:func:`alpha_relu` (Tezekbayev et al. 2022) is the same formula with a fixed threshold τ and no
normalisation. Their derivatives live in :mod:`softmaxkit.derivatives`.

They share the semantics of the core maps: ``axis`` (int, tuple or None: the reduced axes are
treated as one flattened axis), ``temperature`` (T = 0 gives :func:`~softmaxkit.hardmax`, T = inf
the uniform distribution over admissible entries), ``where=`` masks (excluded entries get 0),
extended reals (−inf gives 0, +inf entries share the mass equally whatever T, a row with no
admissible entry gives zeros, NaN makes its own row NaN), low precision computed in float32
(float64 for NumPy) and returned in the input dtype.
"""

from __future__ import annotations

from typing import Any

from softmaxkit._base import dask as _dask
from softmaxkit._base import sparse_fast as _sparse_fast
from softmaxkit._base.core import finish, is_numpy, quiet, setup
from softmaxkit._base.dispatch import forward_moved, torch_autograd
from softmaxkit._base.sparse_kernel import (
    alpha_relu_values,
    check_alpha,
    check_budget,
    check_k,
    check_n_iter,
    check_relu_args,
    default_n_iter,
    solve,
    solve_budget,
)
from softmaxkit.maps import softmax

# The derivatives of these maps moved to softmaxkit.derivatives; the old names still resolve
# here, through the module __getattr__ below, with a DeprecationWarning.
_MOVED = (
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
)

__all__ = [  # the maps, then the forwarded names (still star-importable)
    "alpha_relu",
    "budget_sparsemax",
    "entmax",
    "entmax15",
    "sparsemax",
    *_MOVED,
]

Array = Any


def _run(fn: Any, name: str, x: Any, axis: Any, temperature: Any, where: Any, dtype: Any,
         a: float, iters: int | None, k: int | None = None, **kw: Any) -> Array:
    """The ladder every sparse map climbs: validate, route Dask blocks and empty arrays, try
    the NumPy fast path, and solve on the generic path with α = ``a``.

    ``fn`` is the public map (Dask runs it per block with the keywords ``kw``); ``name``
    selects the row solver (sparsemax and entmax15 are exact, entmax bisects ``iters`` times,
    by default enough for the compute dtype's precision); ``k`` asks the sort-based solvers
    to sort only the k largest entries of a row first.
    """
    prep = setup(name, x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        if k is not None:
            kw["k"] = k
        return _dask.blockwise(fn, prep, axes, temp, mask, **kw)
    if prep.empty:
        return finish(prep.xp, prep.x, prep.out_dtype)
    if iters is None:
        iters = default_n_iter(prep.compute_dtype)
    method = name if name != "entmax" else "bisect"
    if is_numpy(prep.raw) and axes:
        # Same results as the generic path; the fast path hands its special rows (NaN, +inf,
        # empty, T = 0 or inf) back to the generic solver itself. It needs no k: it already
        # sorts only the candidates, the entries within T/(α − 1) of the row's maximum.
        res = _sparse_fast.solve(prep, axes, temp, mask, a, method, iters)
        if res is not None:
            return finish(prep.xp, res, prep.out_dtype)
    return solve(prep, axes, temp, mask, a, method, iters, k)


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
    k: int | None = None,
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
    k : int, optional
        For very long rows: sort only the k largest entries of each row (a partial sort,
        ``torch.topk`` / ``jax.lax.top_k`` / ``numpy.partition``), doubling k for the rows
        whose support does not fit, as the ``entmax`` package's ``k``. The result is the
        same, bit for bit; only the time changes. NumPy input ignores it (its fast path
        already sorts only the entries within T of the maximum); traced or lazy values, whose
        supports cannot be inspected, sort whole rows.

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
    return _run(sparsemax, "sparsemax", x, axis, temperature, where, dtype, 2.0, 0,
                check_k(k, "sparsemax"))



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
    k: int | None = None,
) -> Array:
    r"""1.5-entmax (Peters, Niculae & Martins 2019), exact and sort-based.

    .. math:: p_i = [z_i/2 - \tau]_+^2, \qquad z = x/T, \quad \sum_i p_i = 1.

    With the sorted row :math:`z_{(1)} \ge \dots` halved, and :math:`\mu_k, s_k` the mean and
    mean square of its first k entries, the candidate thresholds are
    :math:`\tau_k = \mu_k - \sqrt{\max(0, (1 - k(s_k - \mu_k^2))/k)}`; the support size is the
    number of k with :math:`\tau_k \le z_{(k)}/2`, whose τ is taken.

    Parameters
    ----------
    x, axis, temperature, where, dtype, k
        As for :func:`sparsemax` (``k``: sort only the k largest entries first; same result).

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
    return _run(entmax15, "entmax15", x, axis, temperature, where, dtype, 1.5, 0,
                check_k(k, "entmax15"))



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
    the bisection those of the exact map (:func:`~softmaxkit.entmax_vjp` gives them in closed form).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax
    >>> entmax(np.array([0.0, 1.0, 2.0]), alpha=1.5)
    array([0.        , 0.16928109, 0.83071891])
    >>> entmax(np.array([0.0, 1.0, 2.0]), alpha=1.0)
    array([0.09003057, 0.24472847, 0.66524096])
    """
    a = check_alpha(alpha)
    check_n_iter(n_iter)
    if a == 1.0:
        return softmax(x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    # α = 1.5 and 2 also go through the bisection, so that entmax is one method continuous
    # in α (its tests compare it with the closed forms).
    return _run(entmax, "entmax", x, axis, temperature, where, dtype, a, n_iter, alpha=alpha,
                n_iter=n_iter)



@quiet
def budget_sparsemax(
    x: Any,
    /,
    budget: float = 2.0,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    n_iter: int | None = None,
) -> Array:
    r"""Budget sparsemax: the projection of ``x / T`` onto the capped simplex of sum ``budget``.

    .. math:: p = \arg\max_{0 \le q \le 1,\ \sum_i q_i = B}
              \langle q, x/T \rangle - \tfrac12 \lVert q \rVert^2, \qquad
              p_i = \mathrm{clip}(x_i/T - \tau, 0, 1).

    This is the ``entmax`` package's ``budget_bisect`` (the "k-subsets" relaxation): a
    *different map* from :func:`sparsemax`. Its rows sum to ``budget``, not 1, and every entry
    is at most 1 (a soft choice of about ``budget`` entries, e.g. a top-k mask); the support
    may hold more than ``budget`` entries. ``budget=1`` is :func:`sparsemax` (the cap never
    binds). For sparsemax with a partial sort, use ``sparsemax(x, k=...)``.

    Parameters
    ----------
    x, axis, temperature, where, dtype
        As for :func:`sparsemax`. T = 0 gives 1 to the ⌈B⌉ − 1 largest entries and shares the
        rest of the budget among those tied with the ⌈B⌉-th; T = inf spreads it uniformly.
    budget : float, default 2.0
        B > 0, the sum of each row.
    n_iter : int, optional
        Bisection steps before the closed-form step (default 60 in float64, 30 in float32).
        τ is then solved exactly on the sets the bisection found:
        :math:`\tau = (\sum_{0<p_i<1} z_i + \#\{p_i = 1\} - B) / \#\{0 < p_i < 1\}`.

    Returns
    -------
    array
        Values in [0, 1] summing to ``budget`` along ``axis``.

    Raises
    ------
    ValueError
        For a budget that is not a finite number > 0, and for a row with fewer admissible
        entries than the budget (it cannot hold it: every entry is at most 1). Under
        tracing such rows give NaN.

    Notes
    -----
    −inf and masked entries get 0; +inf entries each get ``min(1, B/#inf)`` and the finite
    entries share what is left (the limit along the ray); a row with no admissible entry
    gives zeros; NaN stays in its row. Gradients: PyTorch and JAX differentiate through the
    closed-form step, which gives the map's Jacobian ``diag(a) − a aᵀ/Σa`` (``a`` the
    indicator of 0 < p < 1), as ``budget_bisect``'s backward does.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import budget_sparsemax
    >>> budget_sparsemax(np.array([3.0, 1.2, 1.0, -1.0]), 2)
    array([1. , 0.6, 0.4, 0. ])
    >>> budget_sparsemax(np.array([3.0, 1.2, 1.0, -1.0]), 2, temperature=0)
    array([1., 1., 0., 0.])
    """
    b = check_budget(budget, "budget_sparsemax")
    check_n_iter(n_iter)
    prep = setup("budget_sparsemax", x, axis=axis, temperature=temperature, where=where,
                 dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(budget_sparsemax, prep, axes, temp, mask, budget=b,
                               n_iter=n_iter)
    if prep.empty:
        return finish(prep.xp, prep.x, prep.out_dtype)
    iters = default_n_iter(prep.compute_dtype) if n_iter is None else n_iter
    return solve_budget(prep, axes, temp, mask, b, iters, "budget_sparsemax")


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
    support (see :func:`~softmaxkit.alpha_relu_jvp`); PyTorch tensors that require grad go
    through an autograd Function with that closed form.

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
    a, t = check_relu_args(alpha, tau, "alpha_relu")
    prep = setup("alpha_relu", x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(alpha_relu, prep, axes, temp, mask, alpha=a, tau=t)
    if prep.empty:
        return finish(prep.xp, prep.x, prep.out_dtype)
    return finish(prep.xp, alpha_relu_values(prep, axes, temp, mask, a, t), prep.out_dtype)


def __getattr__(name: str) -> Any:
    """Forward the derivative names that moved to :mod:`softmaxkit.derivatives`.

    ``softmaxkit.sparse.sparsemax_jvp`` and its siblings (``*_jvp``, ``*_vjp``, ``*_jacobian``,
    ``*_hessian``, ``entmax_alpha_derivative``) keep working, with a ``DeprecationWarning``
    naming the new home. The derivatives sit on a floor above this module, so they are
    reached by module name through the plug-in point, never imported from here.
    """
    return forward_moved(__name__, name, _MOVED, "softmaxkit.derivatives")
