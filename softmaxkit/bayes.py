r"""The Bayesian reading of softmax: posteriors, evidence, model weights, generative classifiers.

Bayes' rule over classes :math:`C_1, \dots, C_K` is a softmax of the log joint densities,

.. math:: p(C_k \mid x) = \frac{p(x \mid C_k)\, p(C_k)}{\sum_j p(x \mid C_j)\, p(C_j)}
          = \operatorname{softmax}(a)_k, \qquad a_k = \log p(x \mid C_k) + \log p(C_k),

and the normaliser is the evidence, :math:`\log p(x) = \operatorname{logsumexp}(a)`. This
module names that reading and is a thin layer over the library's maps:

* :func:`posterior` — the posterior, its logarithm and the log evidence, with the maps' edge
  semantics (impossible classes, zero priors, rows where every class is impossible) and the
  tempered (power) posterior;
* :func:`model_weights` — model averaging and comparison: Akaike and BIC weights (a softmax
  of ``-score/2``), pseudo-BMA (a softmax of the summed pointwise LOO log densities), its
  Bayesian-bootstrap version, and stacking (the log score of the mixture maximised over the
  simplex, solved exactly on the face where the optimum lies);
* :func:`gaussian_discriminant_logits` — the affine logits of Gaussian classes with a shared
  covariance (linear discriminant analysis): softmax of them is the posterior.

The two-class case (the logistic sigmoid and its inverse, the logit) lives in
:mod:`softmaxkit.sigmoid`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base.arrays import device_of, first_index, host_copy, numpy_scalar, rany, rmax
from softmaxkit._base.core import (
    finish,
    full_like_scalar,
    is_lazy,
    prepare,
    quiet,
    setup,
    squeeze_axes,
)
from softmaxkit._base.errors import InvalidProbabilityError, position, row_position
from softmaxkit.inverse import inverse_softmax
from softmaxkit.maps import log_softmax, logsumexp, softmax

__all__ = [
    "METHODS",
    "Posterior",
    "gaussian_discriminant_logits",
    "model_weights",
    "posterior",
    "stacking_weights",
]

Array = Any

#: The methods of :func:`model_weights`.
METHODS = ("akaike", "bic", "pseudo-bma", "bb-pseudo-bma", "stacking")

# Stacking: the objective is a sum of −log(affine) terms, self-concordant, so Newton's method
# needs no line search once the squared Newton decrement is below 1/16 (Boyd & Vandenberghe,
# Convex Optimization, 9.6): from there the pure steps converge quadratically and the solver
# takes them until the step stops shrinking (rounding). A model off the support comes back
# when its gradient exceeds n·(1 + _KKT_TOL) (the constraint's multiplier is exactly n).
_PURE_NEWTON = 1.0 / 16.0
_KKT_TOL = 1e-10
_MAX_NEWTON = 200


# --------------------------------------------------------------------------------------------
# posterior
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posterior:
    """The result of :func:`posterior`.

    Attributes
    ----------
    probabilities : array
        :math:`p(C_k \\mid x)`, the shape of the log-likelihoods, summing to 1 along the class
        axis (0 for impossible, excluded or zero-prior classes; a row where every class is
        impossible is all 0).
    log_probabilities : array
        Their logarithms (−inf where the probability is 0).
    log_evidence : array
        :math:`\\log \\sum_k p(x \\mid C_k)^{1/T} p(C_k)`, the class axes removed (−inf for a
        row where every class is impossible).
    """

    probabilities: Array
    log_probabilities: Array
    log_evidence: Array


def _convert(xp: Any, a: Any, like: Array) -> Array:
    """``a`` (any array or number) as an ``xp`` array in ``like``'s dtype and device."""
    if isinstance(a, np.ndarray) and not isinstance(like, np.ndarray):
        return xp.asarray(a, dtype=like.dtype, device=device_of(like))
    if not array_api_compat.is_array_api_obj(a) or array_api_compat.array_namespace(a) is not xp:
        return xp.asarray(host_copy(a), dtype=like.dtype, device=device_of(like))
    return xp.astype(a, like.dtype)


def _broadcast(xp: Any, a: Array, shape: tuple[int, ...], fn: str, name: str) -> Array:
    try:
        target = np.broadcast_shapes(tuple(a.shape), shape)
    except ValueError:
        target = None
    if target != shape:
        raise ValueError(
            f"{fn}: {name} of shape {tuple(a.shape)} does not broadcast to the "
            f"log-likelihoods' shape {shape}"
        )
    return xp.broadcast_to(a, shape)


def _prior_logs(fn: str, prior: Any, ndim: int, axes: tuple[int, ...]) -> Array:
    """``log prior`` through :func:`softmaxkit.inverse_softmax` (gauge ``"logsumexp"``: the
    checks of probabilities, zeros mapped to −inf exactly), its messages naming ``prior``."""
    if isinstance(prior, (list, tuple, numbers.Number)):
        prior = np.asarray(prior, dtype=np.float64)
    if not array_api_compat.is_array_api_obj(prior):
        kind = type(prior).__name__
        raise TypeError(f"{fn}: prior must be an array of probabilities, got {kind}")
    if array_api_compat.is_jax_array(prior) and not is_lazy(prior):
        # A concrete JAX prior is checked on the host: inside jax.jit every operation on it
        # would be staged, and its values could not be inspected.
        prior = host_copy(prior)
    offset = ndim - prior.ndim
    p_axes = tuple(a - offset for a in axes)
    if offset < 0 or any(a < 0 for a in p_axes):
        raise ValueError(
            f"{fn}: prior of shape {tuple(prior.shape)} has no class axis matching axis "
            f"{axes} of the log-likelihoods ({ndim} dimensions); the prior must hold the "
            "classes along its own last axes, broadcasting against the log-likelihoods"
        )
    try:
        return inverse_softmax(prior, axis=p_axes, gauge="logsumexp")
    except InvalidProbabilityError as exc:
        idx = exc.index
        if exc.kind == "sum":
            message = (
                f"{fn}: row {row_position('prior', idx, p_axes)}: {exc.reason}; divide the "
                "prior by its sum, or pass log_prior= (which need not be normalised)"
            )
        elif exc.kind in ("entry", "greater"):
            message = f"{fn}: {position('prior', idx)} = {exc.reason}"
        else:  # pragma: no cover - the logsumexp gauge without normalize raises no other kind
            message = str(exc).replace("inverse_softmax:", f"{fn}:", 1)
        raise InvalidProbabilityError(message, exc.kind, idx, exc.reason) from None
    except TypeError as exc:
        raise TypeError(str(exc).replace("inverse_softmax:", f"{fn}:", 1)) from None


@quiet
def posterior(
    log_likelihood: Any,
    log_prior: Any = None,
    *,
    prior: Any = None,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Posterior:
    r"""Bayes' rule over classes: the posterior, its logarithm and the log evidence.

    .. math:: p_T(C_k \mid x) = \frac{p(x \mid C_k)^{1/T}\, p(C_k)}{Z_T}, \qquad
              Z_T = \sum_j p(x \mid C_j)^{1/T}\, p(C_j),

    i.e. ``softmax(log_likelihood / T + log_prior)`` along ``axis``, computed as
    ``softmax(ℓ + T·log π, temperature=T)`` (the map's accurate division by T), with
    ``log_evidence = log Z_T``. At T = 1 this is Bayes' rule and the evidence
    :math:`\log p(x)`.

    Parameters
    ----------
    log_likelihood : array_like
        :math:`\log p(x \mid C_k)` (or any log joint density, with no prior), classes along
        ``axis``; any array-API array (NumPy, PyTorch, JAX, Dask, ...).
    log_prior : array_like, optional
        :math:`\log p(C_k)`, broadcastable to ``log_likelihood``; need not be normalised (an
        unnormalised prior shifts ``log_evidence`` by its log-normaliser and nothing else).
        −inf excludes a class; +inf is refused. Default: no prior term (equal priors, with
        ``log_evidence`` then :math:`\log \sum_k p(x \mid C_k)^{1/T}`).
    prior : array_like, optional
        The prior as probabilities instead (not together with ``log_prior``): the classes
        along its own last axes (matching ``axis``), each row summing to 1, checked like the
        input of :func:`softmaxkit.inverse_softmax` (the entry or row that fails is named).
        Zeros exclude their classes.
    axis : int, tuple of int or None, default -1
        The class axis (or axes).
    temperature : float or array, default 1.0
        T ≥ 0: the tempered (power) posterior, the likelihood raised to :math:`1/T` and the
        prior kept. T = 0 puts the mass on the classes of largest likelihood, shared in
        proportion to their prior; T = inf gives the prior restricted to the possible
        classes. An array broadcasts against the reduced shape (one T per row).
    where : array of bool, optional
        Classes that take part; the others get probability exactly 0.

    Returns
    -------
    Posterior
        ``probabilities``, ``log_probabilities`` (the shape of ``log_likelihood``) and
        ``log_evidence`` (the class axes removed; a NumPy scalar for one row), in
        ``log_likelihood``'s floating dtype (integers promote to the default float).

    Raises
    ------
    ValueError
        For a prior that is not a distribution (naming the entry or row), a ``log_prior``
        entry of +inf, shapes that do not broadcast, a temperature < 0 or NaN.
    TypeError
        For both ``log_prior`` and ``prior``, or non-numeric input.

    Notes
    -----
    *Edge cases.* A log-likelihood of −inf is an impossible class (probability 0); a prior of
    0 (``log_prior`` −inf) or ``where=False`` excludes the class whatever its likelihood,
    even NaN. A row in which every class is impossible or excluded gives probabilities 0,
    log-probabilities −inf and log evidence −inf — never NaN. Log-likelihoods of +inf are
    limits: those classes share the mass in proportion to their prior, at every T, and the
    log evidence is +inf. A NaN likelihood of a class that takes part, or a NaN log prior,
    makes its row NaN, and only that row.

    *The limits in T.* :math:`\log Z_T` at T = 0 is the limit of :math:`\log \sum_k \pi_k
    e^{\ell_k/T}`: +inf if the largest log-likelihood is > 0, −inf if it is < 0, the log prior
    mass of the maxima if it is 0; at T = inf it is the log prior mass of the possible classes
    (0 for a normalised prior). The smooth maximum :math:`T \log Z_T` (the convention of
    :func:`softmaxkit.logsumexp`) is ``T * log_evidence``. The "cold posterior" that tempers
    the prior too is ``posterior(log_likelihood + log_prior, temperature=T)``.

    *Thermodynamic integration.* :math:`\frac{d}{dt} \log Z_{1/t} = E_{p_{1/t}}[\ell]`, so
    ``log_evidence`` at T = 1 is :math:`\int_0^1 E_t[\ell]\,dt` with the expectations under
    the posterior at T = 1/t (checked in the tests).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import posterior
    >>> ll = np.array([[np.log(0.5), np.log(0.1), -np.inf],   # log p(x | C_k), two x
    ...                [-np.inf, -np.inf, -np.inf]])
    >>> post = posterior(ll, prior=np.array([0.2, 0.8, 0.0]))
    >>> post.probabilities           # the second x is impossible under every class
    array([[0.55555556, 0.44444444, 0.        ],
           [0.        , 0.        , 0.        ]])
    >>> np.exp(post.log_evidence)    # p(x) = 0.2 * 0.5 + 0.8 * 0.1
    array([0.18, 0.  ])
    >>> posterior(ll[0], prior=np.array([0.2, 0.8, 0.0]), temperature=np.inf).probabilities
    array([0.2, 0.8, 0. ])
    """
    fn = "posterior"
    if log_prior is not None and prior is not None:
        raise TypeError(f"{fn}: give log_prior or prior, not both")
    s = setup(
        fn, log_likelihood, axis=axis, temperature=temperature, where=where, name="log_likelihood"
    )
    xp, axes, mask, temp = s.xp, s.axes, s.mask, s.temp
    ll = s.x
    shape = s.shape
    lazy = is_lazy(s.raw)
    lp = None
    if prior is not None:
        lp = _prior_logs(fn, prior, len(shape), axes)
    elif log_prior is not None:
        lp = prepare(log_prior, name="log_prior", fn=fn).raw
    if lp is not None:
        lp = _broadcast(xp, _convert(xp, lp, ll), shape, fn, "log_prior" if prior is None else
                        "prior")
        if not lazy and not is_lazy(lp):
            idx = first_index(xp, lp == math.inf)
            if idx is not None:
                raise ValueError(
                    f"{fn}: {position('log_prior', idx)} = inf; a log prior must be < inf "
                    "(-inf excludes a class)"
                )
    res = _posterior(xp, ll, lp, mask, axes, temp, lazy)
    probs, logp, lz = (finish(xp, a, s.out_dtype) for a in res)
    lz = numpy_scalar(squeeze_axes(xp, lz, axes))
    return Posterior(probs, logp, lz)


def _posterior(
    xp: Any,
    ll: Array,
    lp: Array | None,
    mask: Array | None,
    axes: tuple[int, ...],
    temp: Any,
    lazy: bool,
) -> tuple[Array, Array, Array]:
    """(p, log p, log Z with kept axes) in the compute dtype; see :func:`posterior`."""
    zero = full_like_scalar(xp, ll, 0.0)
    inf = full_like_scalar(xp, ll, math.inf)
    nan = full_like_scalar(xp, ll, math.nan)
    lp0 = xp.zeros_like(ll) if lp is None else lp
    # Classes that take part: not masked, prior > 0. Their NaNs (and any NaN log prior of a
    # class not masked) make the row NaN; excluded classes are never read.
    active = mask
    bad = None
    if lp is not None:
        pos = lp > -math.inf
        active = pos if active is None else (active & pos)
        bad = xp.isnan(lp) if mask is None else (xp.isnan(lp) & mask)
        bad = bad | (lp == math.inf)  # lazy input (eager input raised): NaN, as the maps do
    ll_nan = xp.isnan(ll) if active is None else (xp.isnan(ll) & active)
    bad = ll_nan if bad is None else (bad | ll_nan)
    rownan = rany(xp, bad, axes)
    is_top = ll == math.inf
    top = is_top if active is None else (is_top & active)
    has_top = rany(xp, top, axes)

    # One regime per row: +inf likelihoods (the limit along the ray, whatever T), T = 0,
    # T = inf, or a finite T > 0 (the common case, a softmax at temperature T).
    kind = temp.kind
    if kind == "array":
        t = temp.value
        ground = (t == 0) & ~has_top
        flat = (t == math.inf) & ~has_top
        t_safe = xp.where((t > 0) & (t < math.inf), t, xp.ones_like(t))
    else:
        t_val = {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(kind, temp.value)
        ground = ~has_top if kind == "zero" else None
        flat = ~has_top if kind == "inf" else None
        t_safe = float(t_val) if kind in ("one", "scalar") else 1.0

    if kind in ("zero", "inf"):
        p = xp.zeros_like(ll)
        logp = zero - inf + p
        lz = rmax(xp, zero - inf + p, axes)
    else:
        x = ll if lp is None else (ll + lp if kind == "one" else ll + t_safe * lp)
        tt = 1.0 if kind == "one" else t_safe
        p = softmax(x, axis=axes, temperature=tt, where=active)
        logp = log_softmax(x, axis=axes, temperature=tt, where=active)
        lz = logsumexp(x, axis=axes, temperature=tt, where=active, keepdims=True)
        if kind != "one":
            lz = lz / t_safe

    def override(rows: Array, among: Array, log_z: Array | None) -> None:
        nonlocal p, logp, lz
        p = xp.where(rows, softmax(lp0, axis=axes, where=among), p)
        logp = xp.where(rows, log_softmax(lp0, axis=axes, where=among), logp)
        if log_z is not None:
            lz = xp.where(rows, log_z, lz)

    def needed(rows: Array | None) -> bool:
        return rows is not None and (lazy or bool(xp.any(rows)))

    possible = ll > -math.inf if active is None else (active & (ll > -math.inf))
    if needed(ground):
        assert ground is not None
        filled = xp.where(possible, ll, zero - inf)
        mx = rmax(xp, filled, axes)
        ties = possible & (ll == mx)
        lz_ties = logsumexp(lp0, axis=axes, where=ties, keepdims=True)
        # Σ π e^{ℓ/T} as T → 0: +inf above 0, 0 below, the prior mass of the maxima at 0.
        big = xp.full_like(mx, math.inf)
        lz0 = xp.where(mx > 0, big, xp.where(mx < 0, -big, lz_ties))
        override(ground, ties, lz0)
    if needed(flat):
        assert flat is not None
        override(flat, possible, logsumexp(lp0, axis=axes, where=possible, keepdims=True))
    if needed(has_top):
        override(has_top, top, xp.full_like(lz, math.inf))
    if lazy or bool(xp.any(rownan)):
        p = xp.where(rownan, nan, p)
        logp = xp.where(rownan, nan, logp)
        lz = xp.where(rownan, nan, lz)
    return p, logp, lz


# --------------------------------------------------------------------------------------------
# model weights
# --------------------------------------------------------------------------------------------


def _check_method(fn: str, method: Any) -> str:
    if not isinstance(method, str) or method not in METHODS:
        valid = ", ".join(repr(m) for m in METHODS)
        raise ValueError(f"{fn}: method={method!r} is not a method; expected one of {valid}")
    return method


def _generator(fn: str, seed: Any) -> Any:
    """A NumPy generator from ``seed``; a ``RandomState`` is used as it is (it draws what
    ``scipy.stats.dirichlet.rvs(random_state=seed)`` draws, as ArviZ does)."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{fn}: seed must be None, an integer >= 0, a numpy.random.Generator, SeedSequence or "
        f"RandomState, got {seed!r}"
    )


def _positive_int(fn: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{fn}: {name} must be an integer >= 1, got {value!r}")
    return int(value)


@quiet
def model_weights(
    scores: Any,
    /,
    *,
    method: str,
    axis: int = -1,
    seed: Any = None,
    n_bootstrap: int = 1000,
    alpha: float = 1.0,
) -> Array:
    r"""Weights of competing models, for averaging their predictions or comparing them.

    * ``"akaike"``: ``scores`` are AIC (or AICc) values, one per model;
      :math:`w_k \propto e^{-\Delta_k/2}`;
    * ``"bic"``: BIC values; the same formula;
    * ``"pseudo-bma"``: pointwise LOO log predictive densities :math:`\ell_{ik}`, a matrix
      (n_obs, n_models); :math:`w_k \propto e^{\sum_i \ell_{ik}}`;
    * ``"bb-pseudo-bma"``: the same matrix; a Bayesian-bootstrap average of those weights;
    * ``"stacking"``: the same matrix;
      :math:`w = \arg\max_{w \in \Delta} \sum_i \log \sum_k w_k e^{\ell_{ik}}`,

    with :math:`\Delta_k = s_k - \min_j s_j`. Akaike weights (Burnham & Anderson 2002) and
    BIC weights (the posterior model probabilities under equal prior probabilities, in
    Schwarz's approximation) are ``softmax(-scores, temperature=2)``. Pseudo-BMA is a softmax
    of the estimated expected log predictive densities :math:`\widehat{elpd}_k = \sum_i
    \ell_{ik}`; BB-pseudo-BMA (Yao, Vehtari, Simpson & Gelman 2018) averages that softmax over
    ``n_bootstrap`` Bayesian-bootstrap draws :math:`z_k = n \sum_i \alpha_i \ell_{ik}`,
    :math:`\alpha \sim \mathrm{Dirichlet}(\text{alpha}, \dots)`, which accounts for the
    uncertainty of the elpd estimates; stacking (ibid.) maximises the log score of the mixture
    of the models' leave-one-out predictive densities over the simplex.

    Parameters
    ----------
    scores : array_like
        For ``"akaike"``/``"bic"``: the criteria, models along ``axis`` (other axes are
        batches). For the other methods: a 2-D matrix of pointwise log predictive densities
        (e.g. PSIS-LOO's ``loo_i``), one row per observation and one column per model
        (``axis=-1``; ``axis=0`` for models along the rows).
    method : {"akaike", "bic", "pseudo-bma", "bb-pseudo-bma", "stacking"}
        Keyword only, required: the scores mean different things to each.
    axis : int, default -1
        The model axis.
    seed : None, int, numpy.random.Generator, SeedSequence or RandomState
        ``"bb-pseudo-bma"`` only: the draws of the Bayesian bootstrap. An int seeds
        :func:`numpy.random.default_rng`; a ``RandomState`` draws exactly what ArviZ's
        ``compare(..., method="BB-pseudo-BMA", seed=s)`` draws with ``RandomState(s)``.
    n_bootstrap : int, default 1000
        ``"bb-pseudo-bma"``: the number of bootstrap draws (ArviZ's ``b_samples``, loo's
        ``BB_n``).
    alpha : float, default 1.0
        ``"bb-pseudo-bma"``: the Dirichlet concentration (1 is the Bayesian bootstrap).

    Returns
    -------
    array
        The weights, models along the last axis (for the lpd methods a vector of length
        n_models), in the input's array kind, device and floating dtype. ``"bb-pseudo-bma"``
        and ``"stacking"`` run on the host with NumPy (an optimisation and a resampling over
        the whole matrix) and bring the result back to the input's namespace; the others run
        in the input's namespace (Dask stays lazy).

    Raises
    ------
    ValueError
        For an unknown method, an lpd matrix that is not 2-D, a pointwise lpd of +inf with
        ``"stacking"`` (its objective is then unbounded), a bad ``n_bootstrap`` or ``alpha``.

    Notes
    -----
    *Edge cases*, as for the maps: an AIC/BIC of +inf (or a column of lpd with a −inf entry,
    for the pseudo-BMA methods) gives weight 0; −inf AIC takes all the weight (shared by
    ties); NaN scores give NaN weights. When no model is possible (every AIC +inf; for the
    lpd methods, an observation that every model gives −inf) the weights are all 0, as the
    empty rows of :func:`softmaxkit.softmax`. With no observations every model gets 1/K.

    *Stacking, solved exactly.* The objective :math:`F(w) = \sum_i \log \sum_k w_k
    e^{\ell_{ik}}` is concave, with gradient :math:`g_k = \sum_i e^{\ell_{ik}} / \sum_j w_j
    e^{\ell_{ij}}` and :math:`\langle w, g\rangle = n`; so :math:`w` is optimal if and only
    if :math:`g_k = n` where :math:`w_k > 0` and :math:`g_k \le n` where :math:`w_k = 0` (the
    KKT conditions, the multiplier of :math:`\sum w = 1` being exactly n). The solver is an
    active-set Newton method: Newton steps on the current face (the equality-constrained
    quadratic model, least squares when models are duplicated), a step to the face's boundary
    setting the blocking weight to exactly 0, and a model whose gradient exceeds n brought
    back by a line-searched step towards its vertex. It stops at the KKT point: weights
    off the support are exact zeros, and on the support :math:`|g_k - n| \le 10^{-10} n`.
    Rows are shifted by their maxima first (:math:`F` changes by a constant), so lpd of
    any magnitude are safe.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import model_weights
    >>> model_weights(np.array([100.0, 102.0, 110.0]), method="akaike")
    array([0.72747516, 0.26762315, 0.00490169])
    >>> lpd = np.array([[-1.0, -1.2, -3.0], [-2.0, -0.9, -3.1], [-0.5, -1.5, -3.2]])
    >>> model_weights(lpd, method="pseudo-bma")
    array([0.52414611, 0.47426701, 0.00158688])
    >>> model_weights(lpd, method="stacking")            # the third model gets exactly 0
    array([0.56393795, 0.43606205, 0.        ])
    """
    fn = "model_weights"
    method = _check_method(fn, method)
    if method in ("akaike", "bic"):
        s = setup(fn, scores, axis=axis, name="scores", along="the models lie along it")
        w = softmax(-s.x, axis=s.axes, temperature=2.0)
        return finish(s.xp, w, s.out_dtype)
    s = setup(fn, scores, axis=axis, name="scores", along="the models lie along it")
    if s.raw.ndim != 2:
        raise ValueError(
            f"{fn}: method={method!r} takes a 2-D matrix of pointwise log predictive densities "
            f"(observations x models), got shape {s.shape}"
        )
    xp, m_axis = s.xp, s.axes[0]
    if method == "pseudo-bma":
        elpd = xp.sum(s.x, axis=1 - m_axis, keepdims=True)
        w = softmax(elpd, axis=m_axis)
        return finish(xp, xp.reshape(w, (s.shape[m_axis],)), s.out_dtype)
    if method == "bb-pseudo-bma":
        rng = _generator(fn, seed)
        b = _positive_int(fn, "n_bootstrap", n_bootstrap)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (
            0 < float(alpha) < math.inf
        ):
            raise ValueError(f"{fn}: alpha must be a finite number > 0, got {alpha!r}")
    lpd = np.asarray(host_copy(s.x), dtype=np.float64)
    if m_axis == 0:
        lpd = lpd.T
    if method == "stacking":
        hit = np.argwhere(lpd == math.inf)
        if hit.size:
            idx = tuple(int(i) for i in hit[0])
            idx = idx if m_axis == 1 else idx[::-1]
            raise ValueError(
                f"{fn}: {position('scores', idx)} = inf; a pointwise log predictive density of "
                "+inf makes the stacking objective unbounded"
            )
        weights = stacking_weights(lpd)
    else:
        weights = _bayesian_bootstrap(lpd, rng, b, float(alpha))
    return xp.asarray(weights, dtype=s.out_dtype, device=device_of(s.raw))


def _bayesian_bootstrap(lpd: np.ndarray, rng: Any, b: int, alpha: float) -> np.ndarray:
    """BB-pseudo-BMA on the host: the mean over draws of ``softmax(n · α @ lpd)``."""
    n, k = lpd.shape
    if n == 0:
        return np.full(k, 1.0 / k)
    draws = rng.dirichlet(np.full(n, alpha), size=b)  # (b, n)
    finite = np.isfinite(lpd)
    # n·lpd first, then the weighted sums: the order of ArviZ (and loo), so that the same
    # draws give the same weights to the last bits. Infinite entries are limits per model:
    # any −inf (+inf) entry makes z −inf (+inf) whatever the (positive) draw.
    z = draws @ np.where(finite, lpd * n, 0.0)
    neg = (lpd == -math.inf).any(axis=0)
    pos = (lpd == math.inf).any(axis=0)
    z[:, neg & ~pos] = -math.inf
    z[:, pos & ~neg] = math.inf
    z[:, pos & neg] = math.nan
    z[:, np.isnan(lpd).any(axis=0)] = math.nan
    w = softmax(z, axis=-1)
    return np.asarray(np.mean(w, axis=0))


def _objective(e: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(e @ w)))


def _line_search(e: np.ndarray, w: np.ndarray, d: np.ndarray, t: float, slope: float) -> float:
    """Backtracking (Armijo) from step ``t`` along ``d``; 0 when no step increases F."""
    f0 = _objective(e, w)
    for _ in range(60):
        f = _objective(e, w + t * d)
        if f >= f0 + 1e-4 * t * slope and f > f0:
            return t
        t *= 0.5
    return 0.0


def _newton_step(r: np.ndarray, rho: np.ndarray, support: np.ndarray) -> tuple[np.ndarray, float]:
    """The Newton direction on the face ``support`` and its decrement (the predicted gain).

    Maximises ``ρ·d − ½ dᵀRᵀR d`` subject to ``Σ d = 0`` (the quadratic model of F with
    ``g = n + ρ``; the constant part of g does no work on the face). Least squares, so that
    duplicated models (a singular Hessian) get the minimum-norm step.
    """
    idx = np.flatnonzero(support)
    m = idx.size
    kkt = np.zeros((m + 1, m + 1))
    rs = r[:, idx]
    kkt[:m, :m] = rs.T @ rs
    kkt[:m, m] = 1.0
    kkt[m, :m] = 1.0
    sol = np.linalg.lstsq(kkt, np.concatenate([rho[idx], [0.0]]), rcond=None)[0]
    d = np.zeros(rho.size)
    d[idx] = sol[:m] - sol[:m].sum() / m  # exactly tangent to the face
    return d, max(float(rho @ d), 0.0)


def stacking_weights(lpd: Any) -> np.ndarray:
    r"""Stacking weights of a matrix of pointwise log predictive densities (NumPy, host).

    The engine of ``model_weights(lpd, method="stacking")`` (see its Notes): maximise
    :math:`\sum_i \log \sum_k w_k e^{\ell_{ik}}` over the simplex by an active-set Newton
    method that stops at the exact KKT point.

    Parameters
    ----------
    lpd : array_like
        (n_obs, n_models), no +inf entries.

    Returns
    -------
    numpy.ndarray
        The weights (n_models,), float64: NaN if ``lpd`` holds a NaN, zeros if an
        observation is −inf under every model, 1/K with no observations.

    Examples
    --------
    >>> import numpy as np
    >>> stacking_weights(np.array([[0.0, -1.0], [-1.0, 0.0]]))   # two symmetric models
    array([0.5, 0.5])
    """
    lpd = np.asarray(lpd, dtype=np.float64)
    n, k = lpd.shape
    if np.isnan(lpd).any():
        return np.full(k, math.nan)
    if n == 0:
        return np.full(k, 1.0 / k)
    top = lpd.max(axis=1, keepdims=True)
    if k == 0 or (top == -math.inf).any():
        return np.zeros(k)
    if k == 1:
        return np.ones(1)
    with np.errstate(under="ignore"):
        e = np.exp(lpd - top)  # each row holds a 1: no overflow, and F changes by a constant
    w = np.full(k, 1.0 / k)
    support = np.ones(k, dtype=bool)
    eps = np.finfo(np.float64).eps
    previous = math.inf  # the last pure Newton step's size
    for _ in range(_MAX_NEWTON * k):
        s = e @ w
        r = e / s[:, None]
        # g − n, summed as Σ (r_ik − 1): Σ_k w_k g_k = n for every w, so the residual is what
        # drives the step, and summing it directly keeps its accuracy near the optimum.
        rho = (r - 1.0).sum(axis=0)
        g = rho + n
        d, decrement = _newton_step(r, rho, support)
        size = float(np.max(np.abs(d)))
        pure = decrement < _PURE_NEWTON
        t = 0.0
        stalled = pure and (size <= 4 * eps or size >= 0.5 * previous)
        on = rho[support]
        if stalled and float(on.max() - on.min()) > _KKT_TOL * n:
            # Newton cannot resolve the face (curvature below rounding, e.g. one observation
            # and nearly equal models) but the gradient still says which way: follow it.
            d = np.where(support, rho - on.mean(), 0.0)
            decrement, pure, stalled = float(rho @ d), False, False
            cap = math.inf  # a gradient, not a Newton step: its natural length is not 1
        else:
            cap = 1.0
        if not stalled:
            shrink = d < 0
            ratios = -w[shrink] / d[shrink]
            t_max = float(min(cap, ratios.min())) if ratios.size else 1.0
            t = t_max if pure else _line_search(e, w, d, t_max, decrement)
            previous = size if pure else math.inf
        if t > 0.0:
            w = w + t * d
            # Weights the step took to the boundary (to rounding) leave the support.
            hit = support & (d < 0) & (w <= 4 * eps)
            if hit.any():
                support &= ~hit
                previous = math.inf
            w = np.where(support, np.maximum(w, 0.0), 0.0)
            w = w / w.sum()
            continue
        # Optimal on this face, to rounding. A weight left tiny by rounding whose model is
        # worse than the others' (g_k < n) belongs off it: exactly 0.
        previous = math.inf
        stale = support & (g < n * (1.0 - _KKT_TOL)) & (w <= 1e3 * eps)
        if stale.any() and stale.sum() < support.sum():
            support &= ~stale
            w = np.where(support, w, 0.0)
            w = w / w.sum()
            continue
        # A model off the face with g_j > n would raise F: a line-searched step towards its
        # vertex brings it back.
        out = np.flatnonzero(~support)
        if out.size == 0:
            break
        j = int(out[np.argmax(g[out])])
        if not g[j] > n * (1.0 + _KKT_TOL):
            break
        d = -w.copy()
        d[j] += 1.0
        t = _line_search(e, w, d, 1.0, float(rho @ d))
        if t == 0.0:
            break
        w = w + t * d
        support[j] = True
    return w


# --------------------------------------------------------------------------------------------
# generative classifiers
# --------------------------------------------------------------------------------------------


@quiet
def gaussian_discriminant_logits(
    means: Any, covariance: Any, priors: Any = None
) -> tuple[Array, Array]:
    r"""The affine logits of Gaussian classes with a shared covariance (LDA).

    For :math:`p(x \mid C_k) = \mathcal N(x; \mu_k, \Sigma)` and priors :math:`\pi_k`, the
    log joint density is, up to a term common to every class,

    .. math:: a_k(x) = w_k^\top x + b_k, \qquad w_k = \Sigma^{-1}\mu_k, \qquad
              b_k = -\tfrac12 \mu_k^\top \Sigma^{-1} \mu_k + \log \pi_k,

    so the posterior is ``softmax(x @ W.T + b)`` (the quadratic term :math:`-\frac12 x^\top
    \Sigma^{-1} x` is shared and cancels), and ``logsumexp`` of them is the log evidence up to
    that shared term.

    Parameters
    ----------
    means : array_like
        (K, d), the class means :math:`\mu_k`; any array-API array.
    covariance : array_like
        (d, d), the shared covariance, symmetric positive definite.
    priors : array_like, optional
        (K,), the class probabilities (summing to 1; checked as
        :func:`softmaxkit.inverse_softmax` checks its input); a zero gives ``b_k = -inf``, a
        class with posterior 0. Default: equal priors.

    Returns
    -------
    W : array
        (K, d), one row per class (scikit-learn's ``coef_`` layout).
    b : array
        (K,), the intercepts.

    Raises
    ------
    ValueError
        For shapes that do not fit, non-finite means or covariance, a covariance that is not
        symmetric or not positive definite (concrete arrays; lazy ones are not inspected),
        priors that are not a distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import gaussian_discriminant_logits, softmax
    >>> W, b = gaussian_discriminant_logits(np.array([[0.0, 0.0], [2.0, 0.0]]), np.eye(2),
    ...                                     np.array([0.5, 0.5]))
    >>> W, b
    (array([[0., 0.],
           [2., 0.]]), array([-0.69314718, -2.69314718]))
    >>> softmax(np.array([1.0, 5.0]) @ W.T + b)      # on the boundary x_1 = 1
    array([0.5, 0.5])
    """
    fn = "gaussian_discriminant_logits"
    pm = prepare(means, name="means", fn=fn)
    xp, mu = pm.xp, pm.x
    if mu.ndim != 2:
        raise ValueError(f"{fn}: means must be 2-D (classes x features), got shape {mu.shape}")
    k, d = (int(v) for v in mu.shape)
    cov = _convert(xp, prepare(covariance, name="covariance", fn=fn).raw, mu)
    if tuple(cov.shape) != (d, d):
        raise ValueError(
            f"{fn}: covariance of shape {tuple(cov.shape)} does not fit means of shape "
            f"{(k, d)}; expected ({d}, {d})"
        )
    if not is_lazy(mu) and not is_lazy(cov):
        _check_gaussian(fn, host_copy(mu), host_copy(cov))
    mu_t = xp.permute_dims(mu, (1, 0))
    if _dask.is_dask(cov) or _dask.is_dask(mu_t):
        # Dask's LU solve needs square blocks: the (small) matrices as single chunks.
        cov, mu_t = cov.rechunk((d, d)), mu_t.rechunk((d, k))
    wt = xp.linalg.solve(cov, mu_t)  # Σ⁻¹ μ_k as columns
    w = xp.permute_dims(wt, (1, 0))
    b = -0.5 * xp.sum(mu * w, axis=1)
    if priors is not None:
        lp = _prior_logs(fn, priors, 1, (0,))
        if tuple(lp.shape) != (k,):
            raise ValueError(f"{fn}: priors of shape {tuple(lp.shape)} do not fit {k} classes")
        b = b + _convert(xp, lp, b)
    else:
        b = b - math.log(k)
    return finish(xp, w, pm.out_dtype), finish(xp, b, pm.out_dtype)


def _check_gaussian(fn: str, mu: np.ndarray, cov: np.ndarray) -> None:
    mu = np.asarray(mu, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    for name, a in (("means", mu), ("covariance", cov)):
        bad = ~np.isfinite(a)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{fn}: {position(name, idx)} = {float(a[idx])!r}; it must be finite")
    scale = float(np.max(np.abs(cov))) if cov.size else 0.0
    asym = np.abs(cov - cov.T)
    if asym.size and float(asym.max()) > 1e-10 * scale:
        i, j = (int(v) for v in np.unravel_index(np.argmax(asym), asym.shape))
        raise ValueError(
            f"{fn}: covariance is not symmetric: covariance[{i}, {j}] = {cov[i, j]!r} but "
            f"covariance[{j}, {i}] = {cov[j, i]!r}"
        )
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{fn}: covariance is not positive definite (smallest eigenvalue "
            f"{float(np.linalg.eigvalsh((cov + cov.T) / 2)[0]):.3g}); a shared Gaussian "
            "covariance must be, e.g. add a small ridge to its diagonal"
        ) from None
