r"""Multinomial logit regression with a chosen base category: the statistician's softmax.

For ``K`` categories and a base category ``b``, the model is the base-state softmax of
``K − 1`` linear predictors,

.. math:: P(y_i = k \mid x_i) = \operatorname{base\_softmax}(x_i^\top B)_k
          = \frac{e^{x_i^\top \beta_k}}{1 + \sum_{l \ne b} e^{x_i^\top \beta_l}},
          \qquad \beta_b = 0,

so that :math:`\beta_{kj}` is the change of the log-odds :math:`\log(P_k / P_b)` per unit of
feature ``j``. :class:`MultinomialLogit` fits it by Newton's method on the log-likelihood

.. math:: \ell(B) = \sum_i \log \operatorname{softmax}(x_i^\top B)_{y_i}

(computed from :func:`softmaxkit.softmax` with the base logit fixed at 0, i.e.
:func:`softmaxkit.base_softmax`), with the closed-form gradient and Hessian that
follow from the softmax Jacobian :math:`\operatorname{diag}(p) - p p^\top`:

.. math:: \frac{\partial \ell}{\partial \beta_k} = \sum_i x_i (\mathbb{1}[y_i = k] - p_{ik}),
          \qquad
          -\frac{\partial^2 \ell}{\partial \beta_k \partial \beta_l^\top}
          = \sum_i p_{ik} (\delta_{kl} - p_{il})\, x_i x_i^\top .

**Memory.** The ``(n(K−1))²`` matrix of per-row Jacobian blocks is never formed. The
information matrix (``p(K−1)`` square, ``p`` = number of parameters per category) is
accumulated over blocks of rows as ``blockdiag_k(Xᵀ diag(p_k) X) − AᵀA``, where the block's
``A`` has columns ``p_k ⊙ x_j`` (one BLAS ``syrk`` per block of rows); the memory beyond the
data is ``O(rows_per_block · p(K−1) + (p(K−1))²)``, about 16 MiB per block.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit.inverse import base_softmax
from softmaxkit.maps import logsumexp, softmax

__all__ = [
    "ConvergenceWarning",
    "MarginalEffects",
    "MultinomialLogit",
    "SeparationError",
    "SeparationWarning",
    "Summary",
]

_FN = "MultinomialLogit"
# Elements of the per-block work array A (rows × p(K−1)): 2**21 float64 = 16 MiB.
_BLOCK_ELEMENTS = 1 << 21
_MAX_BLOCK_ROWS = 1 << 16
# Armijo constant and the smallest step fraction tried by the backtracking line search.
_ARMIJO = 1e-4
_MIN_STEP = 2.0**-30
# Squared Newton decrements (in units of standard errors²) below this that stop shrinking are
# rounding noise, so the iteration has reached the optimum to working precision.
_NOISE_DECREMENT = 1e-12
# Predicted gains below this many units of roundoff of |ℓ| are invisible to a line search.
_BLIND = 100 * np.finfo(np.float64).eps
# Newton iterations after which a fit that has not converged is tested for separation.
_SEPARATION_AFTER = 10
# With a penalty, the separation test runs by default only up to this many LP constraints.
_AUTO_LP_CONSTRAINTS = 100_000
# Information matrices more ill-conditioned than this at "convergence" are tested for
# separation: diverging coefficients make the fitted probabilities 0 or 1 in some direction.
_SUSPECT_CONDITION = 1e12


class ConvergenceWarning(UserWarning):
    """Newton's method stopped before the convergence criterion was met."""


class SeparationWarning(UserWarning):
    """A penalised fit on separated data: some estimates are determined by the penalty."""


class SeparationError(ValueError):
    """The maximum-likelihood estimate does not exist (complete or quasi-complete separation).

    Attributes
    ----------
    kind : str
        ``"complete"`` or ``"quasi-complete"``.
    categories : list
        The categories whose observations are perfectly predicted.
    features : list of str
        The parameters that diverge along the separating direction.
    """

    def __init__(self, message: str, kind: str, categories: list[Any], features: list[str]):
        super().__init__(message)
        self.kind = kind
        self.categories = categories
        self.features = features


# --------------------------------------------------------------------------- small helpers


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - exercised only without pandas
        return None
    return pandas


def _norm_sf2(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values ``2 Φ(−|z|) = erfc(|z|/√2)`` (stdlib, no SciPy)."""
    flat = [math.erfc(abs(float(v)) / math.sqrt(2.0)) if np.isfinite(v) else
            (0.0 if not np.isnan(v) else math.nan) for v in np.ravel(z)]
    return np.asarray(flat, dtype=np.float64).reshape(np.shape(z))


def _chi2_sf(x: float, k: int) -> float:
    r"""Survival function of the :math:`\chi^2_k` distribution for integer ``k`` (stdlib).

    .. math:: Q(k/2, x/2) = e^{-x/2} \sum_{i<k/2} \frac{(x/2)^i}{i!} \text{ (k even)}, \quad
              \operatorname{erfc}\sqrt{x/2} + e^{-x/2} \sum_{i<(k-1)/2}
              \frac{(x/2)^{i+1/2}}{\Gamma(i+3/2)} \text{ (k odd)},

    with the sum taken by :func:`softmaxkit.logsumexp` of the log terms, so that large ``x`` and
    ``k`` neither overflow nor lose the small tail.
    """
    if k <= 0 or math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    h = x / 2.0
    if k % 2 == 0:
        i = np.arange(k // 2, dtype=np.float64)
        logs = i * math.log(h) - np.array([math.lgamma(v + 1.0) for v in i]) - h
        return float(min(1.0, math.exp(float(logsumexp(logs)))))
    tail = math.erfc(math.sqrt(h))
    if k == 1:
        return tail
    i = np.arange((k - 1) // 2, dtype=np.float64)
    logs = (i + 0.5) * math.log(h) - np.array([math.lgamma(v + 1.5) for v in i]) - h
    return float(min(1.0, tail + math.exp(float(logsumexp(logs)))))


def _fmt(value: float, width: int, prec: int) -> str:
    """statsmodels' number style: fixed point in [1e-4, 1e4), else exponent; right aligned."""
    if not np.isfinite(value):
        text = str(value)
    elif value != 0 and not 1e-4 <= abs(value) < 1e4:
        text = f"{value:.{prec}e}"
    else:
        text = f"{value:.{prec}f}"
    return text.rjust(width)


def _plain(label: Any) -> Any:
    """A NumPy scalar label as the Python object it holds (``np.str_('a')`` → ``'a'``)."""
    return label.item() if isinstance(label, np.generic) else label


def _label_text(label: Any) -> str:
    return str(_plain(label))


# --------------------------------------------------------------------------- input handling


@dataclass
class _Design:
    x: np.ndarray  # (n, p) float64, intercept column first when fitted with one
    names: list[str]  # p parameter names
    frame_names: list[str] | None  # the input frame's column names, if X was a frame


def _frame_kind(obj: Any) -> str | None:
    module = type(obj).__module__.split(".")[0]
    if module == "pandas" and hasattr(obj, "columns"):
        return "pandas"
    if module == "polars" and hasattr(obj, "columns") and hasattr(obj, "schema"):
        return "polars"
    return None


def _frame_to_array(X: Any, kind: str, fn: str) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in X.columns]
    if kind == "pandas":
        pd = _pandas()
        for name, dtype in zip(names, X.dtypes, strict=True):
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TypeError(
                    f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                    "categorical feature first, e.g. pandas.get_dummies(X, drop_first=True))"
                )
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        for name, dtype in zip(names, X.dtypes, strict=True):
            if not (dtype.is_numeric() or str(dtype) == "Boolean"):
                raise TypeError(
                    f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                    "categorical feature first, e.g. X.to_dummies(columns, drop_first=True))"
                )
        values = X.cast({n: float for n in X.columns}).to_numpy()
    return np.asarray(values, dtype=np.float64), names


def _as_matrix(X: Any, fn: str) -> tuple[np.ndarray, list[str] | None]:
    kind = _frame_kind(X)
    if kind is not None:
        values, names = _frame_to_array(X, kind, fn)
    else:
        names = None
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{fn}: X must be a 2-D array of numbers or a data frame; {exc}") \
                from None
    if values.ndim == 1:
        raise ValueError(
            f"{fn}: X has shape {values.shape}; expected 2-D (n_samples, n_features) — for a "
            "single feature use X.reshape(-1, 1)"
        )
    if values.ndim != 2:
        raise ValueError(f"{fn}: X has shape {values.shape}; expected (n_samples, n_features)")
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        col = repr(names[j]) if names else str(j)
        raise ValueError(
            f"{fn}: X[{i}, {j}] (row {i}, column {col}) is {values[i, j]}; every feature value "
            "must be finite (drop or impute missing values first)"
        )
    return np.ascontiguousarray(values), names


def _as_labels(y: Any, n: int, fn: str) -> tuple[np.ndarray, str]:
    name = "y"
    kind = type(y).__module__.split(".")[0]
    if kind in ("pandas", "polars") and hasattr(y, "to_numpy"):
        if getattr(y, "name", None) not in (None, ""):
            name = str(y.name)
        if kind == "pandas":
            missing = np.asarray(y.isna())
        else:
            missing = np.asarray(y.is_null().to_numpy())
        if missing.any():
            i = int(np.argmax(missing))
            raise ValueError(f"{fn}: y[{i}] is missing; every observation needs a category")
        y = y.to_numpy()
    labels = np.asarray(y)
    if labels.dtype.kind == "O":
        for i, v in enumerate(labels.ravel()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                raise ValueError(f"{fn}: y[{i}] is missing; every observation needs a category")
    if labels.ndim != 1:
        raise ValueError(f"{fn}: y has shape {labels.shape}; expected 1-D (n_samples,)")
    if labels.shape[0] != n:
        raise ValueError(f"{fn}: y has {labels.shape[0]} labels but X has {n} rows")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        i = int(np.argmax(np.isnan(labels)))
        raise ValueError(f"{fn}: y[{i}] is NaN; every observation needs a category")
    if labels.dtype.kind not in "biufUSO":
        raise TypeError(f"{fn}: y has dtype {labels.dtype}; expected integer or string labels")
    return labels, name


def _block_rows(width: int) -> int:
    return int(max(256, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // max(1, width))))


# --------------------------------------------------------------------------- the numerics


@dataclass
class _State:
    """Log-likelihood, gradient and information at one parameter vector (unpenalised)."""

    llf: float
    grad: np.ndarray | None = None  # (m,), order k*p + j over the non-base categories
    info: np.ndarray | None = None  # (m, m) = −Hessian


def _full_coef(theta: np.ndarray, base: int) -> np.ndarray:
    """(p, K−1) parameters → (p, K) with the base category's zero column inserted."""
    return np.insert(theta, base, 0.0, axis=1)


@dataclass
class _Data:
    """The design in the two layouts the pass needs, the codes, and ``Xᵀ Y`` (fixed)."""

    x: np.ndarray  # (n, p) C-contiguous
    xt: np.ndarray  # (p, n) C-contiguous: the Hessian products run along the rows
    codes: np.ndarray  # (n,) category positions
    xty: np.ndarray  # (p, K): Σ_i x_i [y_i = k]

    @classmethod
    def of(cls, x: np.ndarray, codes: np.ndarray, k_all: int) -> _Data:
        xty = np.stack([np.bincount(codes, weights=col, minlength=k_all) for col in x.T])
        return cls(x, np.ascontiguousarray(x.T), codes, xty)


def _evaluate(data: _Data, theta: np.ndarray, base: int, *, derivatives: bool) -> _State:
    r"""One pass over the rows in blocks: ℓ, and with ``derivatives`` its gradient and −Hessian.

    Per block, ``P = softmax(X B)`` with the base column of ``B`` zero — exactly
    :func:`~softmaxkit.base_softmax` of the ``K − 1`` free predictors, without the copy that
    inserts the zero. Because the base logit is 0, ``logsumexp(x_i B) = −log p_{ib}``, so

    .. math:: \ell = \sum_i x_i^\top \beta_{y_i} + \sum_i \log p_{ib}
              = \langle X^\top Y, B\rangle + \sum_i \log p_{ib}

    (a block where some ``p_{ib}`` underflows to 0 takes :func:`~softmaxkit.logsumexp`
    instead). The gradient is ``XᵀY − Σ XᵀP``; the information
    ``Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ x_i x_iᵀ`` restricted to the non-base categories is built
    from ``Aᵀ = [p_k ⊙ x_j]_{kj}`` (``p(K−1)`` × rows, so that the products run along the rows)
    as ``blockdiag(Aᵀ X) − AᵀA``.
    """
    x, xt = data.x, data.xt
    n, p = x.shape
    k_all = theta.shape[1] + 1
    coef = _full_coef(theta, base)
    nonbase = np.delete(np.arange(k_all), base)
    m = p * (k_all - 1)
    rows = _block_rows(max(m, k_all))
    llf = float(np.sum(data.xty * coef))
    if derivatives:
        xtp = np.zeros((p, k_all))
        outer = np.zeros((m, m))
        diag = np.zeros((m, p))
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        r = xc.shape[0]
        eta = xc @ coef
        prob = softmax(eta, axis=-1)
        p_base = prob[:, base]
        if p_base.min() > 0:
            llf += float(np.log(p_base).sum())
        else:
            llf -= float(logsumexp(eta, axis=-1).sum())
        if not derivatives:
            continue
        xtc = xt[:, start:start + r]
        xtp += xtc @ prob
        a_t = (prob.T[nonbase][:, None, :] * xtc[None, :, :]).reshape(m, r)
        outer += a_t @ a_t.T  # NumPy hands A·Aᵀ of one array to BLAS syrk
        diag += a_t @ xc
    if not derivatives:
        return _State(llf)
    info = -outer
    for k in range(k_all - 1):
        sl = slice(k * p, (k + 1) * p)
        info[sl, sl] += diag[sl]
    info = (info + info.T) / 2.0
    g = np.delete(data.xty - xtp, base, axis=1).reshape(-1, order="F")
    return _State(llf, g, info)


@dataclass
class _Separation:
    kind: str  # "complete" or "quasi-complete"
    categories: list[Any]  # perfectly predicted categories
    counts: dict[Any, tuple[int, int]]  # category -> (perfectly predicted, observations)
    features: list[str]  # parameters that move along the direction


def _separation(x: np.ndarray, codes: np.ndarray, k_all: int, base: int,
                categories: np.ndarray, names: Sequence[str]) -> _Separation | None:
    """Linear-programming test for separation (Albert & Anderson 1984; Konis 2007).

    The MLE fails to exist exactly when a direction ``D`` (base column 0) has
    ``x_iᵀ(d_{y_i} − d_k) ≥ 0`` for every observation ``i`` and category ``k ≠ y_i``, with
    some inequality strict: moving along ``D`` never lowers any fitted probability of an
    observed category, so ℓ rises towards its supremum without attaining it. The LP maximises
    the sum of these margins over ``−1 ≤ D ≤ 1``; separation is *complete* when a second LP
    finds a direction with every margin strictly positive (then ℓ → 0).
    Returns None when the data overlap (the MLE exists).
    """
    try:
        from scipy.optimize import linprog
        from scipy.sparse import coo_array
    except ImportError:  # pragma: no cover - exercised only without SciPy
        return None
    n, p = x.shape
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    block = np.full(k_all, -1)
    block[np.delete(np.arange(k_all), base)] = np.arange(k_all - 1)
    others = np.broadcast_to(np.arange(k_all), (n, k_all))[
        np.arange(k_all)[None, :] != codes[:, None]
    ].reshape(n, k_all - 1)
    n_rows = n * (k_all - 1)
    obs = np.repeat(np.arange(n), k_all - 1)
    row_ids = np.arange(n_rows)
    ri, ci, vals = [], [], []
    own = block[codes][obs]
    other = block[others.ravel()]
    for sign, blk in ((1.0, own), (-1.0, other)):
        keep = blk >= 0
        rr, bb, oo = row_ids[keep], blk[keep], obs[keep]
        ri.append(np.repeat(rr, p))
        ci.append((bb[:, None] * p + np.arange(p)[None, :]).ravel())
        vals.append((sign * xs[oo]).ravel())
    m = p * (k_all - 1)
    margins = coo_array(
        (np.concatenate(vals), (np.concatenate(ri), np.concatenate(ci))), shape=(n_rows, m)
    ).tocsr()
    cost = -np.asarray(margins.sum(axis=0)).ravel()
    res = linprog(cost, A_ub=-margins, b_ub=np.zeros(n_rows), bounds=(-1.0, 1.0),
                  method="highs")
    if res.status != 0 or res.x is None:
        return None
    d = res.x
    mg = (margins @ d).reshape(n, k_all - 1)
    if mg.max() <= 1e-6 or mg.min() < -1e-7:
        return None
    # Complete separation: maximise the smallest margin s (variables D, s; s ≤ 1).
    ones = np.ones((n_rows, 1))
    from scipy.sparse import hstack

    res2 = linprog(np.r_[np.zeros(m), -1.0], A_ub=hstack([-margins, ones]).tocsr(),
                   b_ub=np.zeros(n_rows), bounds=[(-1.0, 1.0)] * m + [(None, 1.0)],
                   method="highs")
    complete = res2.status == 0 and res2.x is not None and -res2.fun > 1e-6
    if complete:
        d = res2.x[:m]
        mg = (margins @ d).reshape(n, k_all - 1)
    perfect = (mg > 1e-6).all(axis=1)
    counts: dict[Any, tuple[int, int]] = {}
    for k in range(k_all):
        mine = codes == k
        counts[_plain(categories[k])] = (int(perfect[mine].sum()), int(mine.sum()))
    cats = [_plain(c) for c, (hit, _) in counts.items() if hit > 0]
    if not cats:  # a direction that only excludes categories: name the ones it moves
        involved = np.zeros(k_all, dtype=bool)
        i_pos, k_pos = np.nonzero(mg > 1e-6)
        involved[codes[i_pos]] = True
        involved[others[i_pos, k_pos]] = True
        cats = [_plain(categories[k]) for k in np.flatnonzero(involved)]
    moving = np.abs(d.reshape(k_all - 1, p)).max(axis=0) > 1e-6
    feats = [names[j] for j in np.flatnonzero(moving)]
    return _Separation("complete" if complete else "quasi-complete", cats, counts, feats)


def _separation_message(sep: _Separation, penalized: bool) -> str:
    parts = []
    for c in sep.categories:
        hit, tot = sep.counts[c]
        if hit:
            parts.append(f"category {_label_text(c)!r} ({hit} of its {tot} observations "
                         "perfectly predicted)")
        else:
            parts.append(f"category {_label_text(c)!r}")
    feats = ", ".join(repr(f) for f in sep.features)
    head = (f"{sep.kind} separation: " + "; ".join(parts)
            + f". Along a direction of the coefficients of {feats} the log-likelihood keeps "
            "increasing, towards a supremum it never attains")
    if penalized:
        return (head + ", so the estimates of these categories are determined by the "
                "penalty (alpha), not by the data; their standard errors are not meaningful.")
    return (f"{_FN}.fit: the maximum-likelihood estimate does not exist — {head} (the "
            "coefficients diverge). Use penalty='l2' with alpha > 0, or merge the category "
            "with another, or drop the separating feature(s).")


def _check_rank(x: np.ndarray, names: Sequence[str], fit_intercept: bool) -> None:
    n, p = x.shape
    gram = np.zeros((p, p))
    rows = _block_rows(p)
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        gram += xc.T @ xc
    d = np.sqrt(np.diag(gram))
    zero = np.flatnonzero(d == 0)
    if zero.size:
        raise ValueError(
            f"{_FN}.fit: X column {names[zero[0]]!r} is all zeros; its coefficients are not "
            "identified (drop it)"
        )
    corr = gram / np.outer(d, d)
    w, v = np.linalg.eigh(corr)
    if w[0] <= 10 * p * np.finfo(np.float64).eps * w[-1]:
        null = np.abs(v[:, 0])
        culprits = [names[j] for j in np.flatnonzero(null > 0.1 * null.max())]
        hint = (" (a constant column duplicates the intercept: drop it, or pass "
                "fit_intercept=False)") if fit_intercept and "const" in culprits else ""
        raise ValueError(
            f"{_FN}.fit: X is rank deficient: the columns {', '.join(map(repr, culprits))} are "
            f"linearly dependent, so their coefficients are not identified{hint}"
        )


# --------------------------------------------------------------------------- results


def _labelled(values: np.ndarray, index: Any, columns: Any, *, index_name: Any = None,
              columns_name: Any = None) -> Any:
    pd = _pandas()
    if pd is None:  # pragma: no cover - exercised only without pandas
        return values
    frame = pd.DataFrame(values, index=index, columns=columns)
    frame.index.name = index_name
    frame.columns.name = columns_name
    return frame


@dataclass(frozen=True)
class MarginalEffects:
    """Marginal effects ``∂P(y = k)/∂x_j`` with delta-method standard errors.

    Attributes
    ----------
    at : str
        ``"overall"`` (average over the observations of the per-observation effects) or
        ``"mean"`` (the effect at the mean of the features).
    effects, bse, zvalues, pvalues
        Features (without the intercept) × categories (all ``K``, the base included); pandas
        DataFrames when pandas is installed, else NumPy arrays in that layout.
    cov : numpy.ndarray
        Covariance of the effects, ``(J·K, J·K)`` in the order category-major, feature-minor.
    """

    at: str
    effects: Any
    bse: Any
    zvalues: Any
    pvalues: Any
    cov: np.ndarray


class Summary:
    """The text table returned by :meth:`MultinomialLogit.summary` (``print`` it)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def as_text(self) -> str:
        """The table as a string."""
        return self._text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return self._text


# --------------------------------------------------------------------------- the estimator


class MultinomialLogit:
    r"""Multinomial logit regression with any category as the base, fitted by Newton's method.

    .. math:: \log \frac{P(y = k \mid x)}{P(y = b \mid x)} = x^\top \beta_k, \qquad
              P(y \mid x) = \operatorname{base\_softmax}(x^\top B, \text{base} = b)

    Parameters
    ----------
    base : label, optional
        The base (reference) category: any label of ``y`` (a string, an integer, ...).
        Default: the first label in sorted order (statsmodels' fixed choice).
    fit_intercept : bool, default True
        Add a column of ones (parameter ``"const"``, first) to ``X``.
    penalty : {None, "l2"}, default None
        ``"l2"`` maximises :math:`\ell(B) - \frac{\alpha}{2}\sum_{k,j\ne\text{const}}
        \beta_{kj}^2` (the intercepts are not penalised). The penalty is not invariant under
        a change of base: a penalised fit depends on ``base``.
    alpha : float, default 0.0
        Strength of the L2 penalty (on the *summed* log-likelihood; scikit-learn's ``C`` is
        ``1/alpha`` on its symmetric parametrisation, which penalises every category).
    tol : float, default 1e-8
        Convergence: stop when the Newton decrement :math:`\sqrt{g^\top H^{-1} g}` is at most
        ``tol``, i.e. the remaining Newton step is below ``tol`` standard errors in every
        direction (scale free, invariant under rescaling of the features). The iteration also
        stops, converged, when the decrement is below 1e-6 and no longer shrinks: that is the
        rounding noise of the gradient, the optimum to working precision.
    max_iter : int, default 100
        Most Newton iterations.
    check_separation : {"auto", True, False}, default "auto"
        Test for separation by linear programming (needs SciPy). ``"auto"``: when an
        unpenalised fit has not converged after 10 iterations or its information matrix is
        singular or nearly so, and for penalised fits when the test has at most 100,000
        constraints (``n·(K−1)``). ``True``: after every fit. ``False``: never.

    Attributes
    ----------
    categories_ : numpy.ndarray
        The ``K`` labels of ``y``, sorted; the column order of :meth:`predict_proba`.
    base_ : label
        The base category.
    param_names_ : list of str
        Row labels of :attr:`params_`: ``"const"`` (with an intercept), then the columns of
        ``X`` (a frame's column names, else ``x1``, ``x2``, ... as in statsmodels).
    feature_names_in_ : numpy.ndarray
        The frame's column names (only when ``X`` was a pandas or polars DataFrame).
    params_, bse_, zvalues_, pvalues_
        Estimates, standard errors, z statistics and two-sided normal p-values:
        parameters × non-base categories. A pandas DataFrame (index ``param_names_``,
        columns the non-base labels) when pandas is installed, else a NumPy array of that
        shape; ``np.asarray(model.params_)`` works either way.
    llf_, llnull_, prsquared_
        Log-likelihood at the estimate, of the intercept-only model
        (:math:`\sum_k n_k \log(n_k/n)`), and McFadden's pseudo-R² ``1 − llf/llnull``.
    llr_, llr_pvalue_
        Likelihood-ratio statistic ``2(llf − llnull)`` and its χ² p-value
        (``df_model_`` degrees of freedom).
    aic_, bic_
        ``−2 llf + 2 k`` and ``−2 llf + k log n`` with ``k = p(K−1)`` parameters.
    nobs_, df_model_, df_resid_
        ``n``; ``(p − 1)(K − 1)`` with an intercept (``p(K−1)`` without); ``n − p(K−1)``.
    converged_, n_iter_
        Whether the criterion was met, and the Newton iterations taken.

    Notes
    -----
    *Fitting.* Newton's method from the intercept-only solution, with a backtracking
    (Armijo) line search; each iteration is one pass over the rows that computes the
    probabilities with :func:`softmaxkit.softmax` (base logit 0: the base-state map), ℓ from
    them (``logsumexp(x_i B) = −log p_{ib}``), the gradient ``Xᵀ(Y − P)`` and the information matrix
    (see the module notes: blocks of rows, never the per-row ``(n(K−1))²`` structure). The
    covariance is the inverse information at the estimate returned (the iteration stops
    *before* taking a step below ``tol``, so ``cov_params()`` is evaluated exactly there).
    With a penalty it is the inverse of the penalised information: the curvature of the
    penalised objective (a Gaussian-prior posterior approximation), not a sampling
    covariance; ``llf_``, AIC and BIC are then the unpenalised log-likelihood at the
    penalised estimate and the nominal parameter count.

    *Changing the base* re-expresses the same fit: with base ``b`` and new base ``c``,

    .. math:: \beta^{(c)}_k = \beta^{(b)}_k - \beta^{(b)}_c \quad (k \ne c),
              \qquad \beta^{(b)}_b = 0,

    (so :math:`\beta^{(c)}_b = -\beta^{(b)}_c`), the covariance maps by the same linear map,
    and ``llf_``, the probabilities and the marginal effects do not change. :meth:`rebase`
    applies it without refitting.

    *Separation.* When the categories are separated by the features (Albert & Anderson
    1984), the MLE does not exist; an unpenalised fit raises :class:`SeparationError` naming
    the categories that are perfectly predicted and the diverging parameters (both complete
    and quasi-complete separation: in either case some coefficients are infinite). A
    penalised fit exists; it warns with :class:`SeparationWarning` naming the categories whose
    estimates are set by the penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.mlogit import MultinomialLogit
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5], [1.0], [2.0]])
    >>> y = np.array(["a", "b", "c", "c", "a", "a", "b", "c", "b", "b"])
    >>> model = MultinomialLogit(base="b").fit(x, y)
    >>> model.params_.round(4)         # log-odds against "b" (statsmodels cannot choose b)
    y           a       c
    param
    const  2.2134 -6.2598
    x1    -2.2407  2.6528
    >>> round(model.llf_, 6)
    -6.156708
    >>> model.predict_proba(np.array([[2.0]])).round(4)   # columns: categories_ a, b, c
    array([[0.0695, 0.6717, 0.2587]])
    >>> model.predict(np.array([[0.0], [3.0]]))
    array(['a', 'c'], dtype='<U1')
    """

    def __init__(
        self,
        base: Any = None,
        *,
        fit_intercept: bool = True,
        penalty: str | None = None,
        alpha: float = 0.0,
        tol: float = 1e-8,
        max_iter: int = 100,
        check_separation: bool | str = "auto",
    ) -> None:
        self.base = base
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.check_separation = check_separation

    # ---------------------------------------------------------------- sklearn protocol

    _PARAMS = ("base", "fit_intercept", "penalty", "alpha", "tol", "max_iter",
               "check_separation")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as scikit-learn's ``get_params``.

        Examples
        --------
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> MultinomialLogit(base="x", penalty="l2", alpha=1.0).get_params()["alpha"]
        1.0
        """
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> MultinomialLogit:
        """Set constructor arguments (as scikit-learn's ``set_params``); returns ``self``.

        Examples
        --------
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> MultinomialLogit().set_params(base=2, tol=1e-10)
        MultinomialLogit(base=2, tol=1e-10)
        """
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(
                    f"{_FN}.set_params: unknown parameter {name!r}; valid parameters are "
                    f"{', '.join(self._PARAMS)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {"base": None, "fit_intercept": True, "penalty": None, "alpha": 0.0,
                    "tol": 1e-8, "max_iter": 100, "check_separation": "auto"}
        shown = [f"{k}={getattr(self, k)!r}" for k in self._PARAMS
                 if getattr(self, k) != defaults[k] or type(getattr(self, k)) is not
                 type(defaults[k])]
        return f"{_FN}({', '.join(shown)})"

    # ---------------------------------------------------------------- validation

    def _validate(self) -> None:
        if self.penalty not in (None, "l2"):
            raise ValueError(f"{_FN}: penalty must be None or 'l2', got {self.penalty!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating |
                                                     np.integer):
            raise TypeError(f"{_FN}: alpha must be a number >= 0, got {alpha!r}")
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"{_FN}: alpha must be a finite number >= 0, got {alpha!r}")
        if self.penalty is None and alpha != 0:
            raise ValueError(
                f"{_FN}: alpha={alpha!r} has no effect without a penalty; pass penalty='l2'"
            )
        if not (isinstance(self.tol, int | float | np.floating) and self.tol > 0
                and math.isfinite(self.tol)):
            raise ValueError(f"{_FN}: tol must be a finite number > 0, got {self.tol!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int | np.integer) \
                or self.max_iter < 1:
            raise ValueError(f"{_FN}: max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.check_separation not in ("auto", True, False):
            raise ValueError(
                f"{_FN}: check_separation must be 'auto', True or False, got "
                f"{self.check_separation!r}"
            )

    def _design(self, X: Any, fn: str) -> _Design:
        values, frame_names = _as_matrix(X, fn)
        p_in = values.shape[1]
        names = frame_names or [f"x{j + 1}" for j in range(p_in)]
        if self.fit_intercept:
            values = np.hstack([np.ones((values.shape[0], 1)), values])
            names = ["const", *names]
        return _Design(np.ascontiguousarray(values), names, frame_names)

    # ---------------------------------------------------------------- fitting

    def fit(self, X: Any, y: Any) -> MultinomialLogit:
        """Fit by Newton's method; returns ``self``.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n_samples, n_features)
            Numeric features: a NumPy array, or a pandas or polars DataFrame (whose column
            names label the results). Every value must be finite.
        y : array_like or Series, shape (n_samples,)
            The category of each observation: integers, strings, ... (at least 2 distinct).

        Returns
        -------
        MultinomialLogit
            ``self``, fitted.

        Raises
        ------
        ValueError
            Bad shapes, non-finite features, missing labels, fewer than 2 categories, a
            ``base`` that is not a label of ``y``, a rank-deficient ``X``, or
            :class:`SeparationError` (the MLE does not exist, no penalty).
        TypeError
            Non-numeric features.

        Warns
        -----
        ConvergenceWarning
            ``max_iter`` reached, or the line search could not improve the objective.
        SeparationWarning
            Penalised fit on separated data.
        """
        self._validate()
        design = self._design(X, f"{_FN}.fit")
        x, names = design.x, design.names
        n, p = x.shape
        labels, yname = _as_labels(y, n, f"{_FN}.fit")
        try:
            categories, codes = np.unique(labels, return_inverse=True)
        except TypeError as exc:
            raise TypeError(
                f"{_FN}.fit: the labels of y cannot be sorted ({exc}); use labels of one type"
            ) from None
        codes = codes.astype(np.intp)
        k_all = categories.shape[0]
        if k_all < 2:
            raise ValueError(
                f"{_FN}.fit: y has {k_all} distinct label(s) {list(categories)!r}; a "
                "multinomial logit needs at least 2 categories"
            )
        base = self._base_index(categories)
        _check_rank(x, names, self.fit_intercept)

        alpha = float(self.alpha) if self.penalty == "l2" else 0.0
        pen = np.ones((p, k_all - 1))
        if self.fit_intercept:
            pen[0] = 0.0
        pen = alpha * pen.reshape(-1, order="F")

        counts = np.bincount(codes, minlength=k_all).astype(np.float64)
        llnull = float(np.sum(counts * (np.log(counts) - math.log(n))))
        theta = np.zeros((p, k_all - 1))
        if self.fit_intercept:  # start at the intercept-only MLE: log(n_k / n_b)
            theta[0] = np.delete(np.log(counts) - math.log(counts[base]), base)

        def objective(st: _State, th: np.ndarray) -> float:
            vec = th.reshape(-1, order="F")
            return st.llf - 0.5 * float(np.sum(pen * vec * vec))

        data = _Data.of(x, codes, k_all)
        state = _evaluate(data, theta, base, derivatives=True)
        f = objective(state, theta)
        converged = False
        trouble: str | None = None
        checked = False
        n_iter = 0
        decrement = previous = math.inf
        info = state.info
        while True:
            vec = theta.reshape(-1, order="F")
            g = state.grad - pen * vec
            info = state.info + np.diag(pen)
            try:
                chol = np.linalg.cholesky(info)
            except np.linalg.LinAlgError:
                trouble = "singular"
                break
            step = _chol_solve(chol, g)
            decrement = float(g @ step)
            if not math.isfinite(decrement):
                trouble = "singular"
                break
            if math.sqrt(max(decrement, 0.0)) <= self.tol:
                converged = True
                break
            if decrement < _NOISE_DECREMENT and decrement > 0.25 * previous:
                # Newton converges quadratically; a tiny decrement that no longer shrinks is
                # the rounding noise of the gradient: the optimum to working precision.
                converged = True
                break
            previous = decrement
            if n_iter >= self.max_iter:
                break
            if (n_iter >= _SEPARATION_AFTER and not checked and alpha == 0
                    and self.check_separation is not False):
                checked = True
                sep = _separation(x, codes, k_all, base, categories, names)
                if sep is not None:
                    raise SeparationError(_separation_message(sep, False), sep.kind,
                                          sep.categories, sep.features)
            accepted = self._line_search(data, theta, base, step, f, decrement, objective)
            if accepted is None:
                # No ascent is possible in floating point: we are at the optimum to working
                # precision if the predicted gain is at rounding level.
                converged = decrement <= 1e3 * np.finfo(np.float64).eps * max(1.0, abs(f))
                trouble = None if converged else "line search"
                break
            theta, state, f = accepted
            n_iter += 1

        may_check = self.check_separation is not False
        suspect = alpha == 0 and may_check and (
            trouble is not None or not converged or _condition(info) > _SUSPECT_CONDITION
        )
        if (suspect or (alpha == 0 and self.check_separation is True)) and not checked:
            sep = _separation(x, codes, k_all, base, categories, names)
            if sep is not None:
                raise SeparationError(_separation_message(sep, False), sep.kind,
                                      sep.categories, sep.features)
        if trouble == "singular":
            raise ValueError(
                f"{_FN}.fit: the information matrix became singular at iteration {n_iter} "
                "(fitted probabilities of exactly 0 or 1) and no separation was found; the "
                "features are probably extreme in scale or nearly collinear: rescale X, or "
                "use penalty='l2'"
            )
        if alpha > 0 and (self.check_separation is True or (
                self.check_separation == "auto" and n * (k_all - 1) <= _AUTO_LP_CONSTRAINTS)):
            sep = _separation(x, codes, k_all, base, categories, names)
            if sep is not None:
                warnings.warn(_separation_message(sep, True), SeparationWarning, stacklevel=2)
        if not converged:
            why = ("the line search could not improve the objective" if trouble ==
                   "line search" else f"max_iter={self.max_iter} iterations were reached")
            warnings.warn(
                f"{_FN}.fit: Newton's method did not converge ({why}; Newton decrement "
                f"{math.sqrt(max(decrement, 0.0)):.3g} > tol={self.tol:g}); the estimates and "
                "standard errors may be inaccurate",
                ConvergenceWarning,
                stacklevel=2,
            )

        cov = _chol_inverse(np.linalg.cholesky(info))
        self._store(x, codes, names, design.frame_names, categories, base, yname, theta, cov,
                    state.llf, llnull, converged, n_iter)
        return self

    @staticmethod
    def _line_search(data: _Data, theta: np.ndarray, base: int, step: np.ndarray, f: float,
                     slope: float, objective: Any) -> tuple[np.ndarray, _State, float] | None:
        """Backtracking from the full Newton step: the first trial also computes the
        derivatives (it is almost always accepted), later ones the log-likelihood only."""
        direction = step.reshape(theta.shape, order="F")
        if slope <= _BLIND * max(1.0, abs(f)):
            # The predicted gain is below the rounding error of ℓ: no comparison of values
            # can judge the step, and near the optimum the full Newton step is the right one.
            trial = theta + direction
            st = _evaluate(data, trial, base, derivatives=True)
            f_new = objective(st, trial)
            return (trial, st, f_new) if math.isfinite(f_new) else None
        t = 1.0
        first = True
        while t >= _MIN_STEP:
            trial = theta + t * direction
            with np.errstate(over="ignore", invalid="ignore"):
                st = _evaluate(data, trial, base, derivatives=first)
            f_new = objective(st, trial)
            if math.isfinite(f_new) and f_new >= f + _ARMIJO * t * slope and f_new >= f:
                if not first:
                    st = _evaluate(data, trial, base, derivatives=True)
                return trial, st, f_new
            first = False
            t /= 2.0
        return None

    def _base_index(self, categories: np.ndarray) -> int:
        if self.base is None:
            return 0
        want = self.base.item() if isinstance(self.base, np.generic) else self.base
        for i, c in enumerate(categories):
            have = c.item() if isinstance(c, np.generic) else c
            # A string never matches a number (base="3" is not the label 3), so say so.
            if isinstance(have, str) == isinstance(want, str) and have == want:
                return i
        shown = ", ".join(repr(_label_text(c)) for c in categories[:20])
        more = f", ... ({categories.shape[0]} in all)" if categories.shape[0] > 20 else ""
        raise ValueError(
            f"{_FN}: base={self.base!r} is not a label of y; the labels are [{shown}{more}]"
        )

    def _store(self, x: np.ndarray, codes: np.ndarray, names: list[str],
               frame_names: list[str] | None, categories: np.ndarray, base: int, yname: str,
               theta: np.ndarray, cov: np.ndarray, llf: float, llnull: float,
               converged: bool, n_iter: int) -> None:
        n, p = x.shape
        k_all = categories.shape[0]
        self._x = x
        self._codes = codes
        self._theta = theta
        self._cov = cov
        self._base_pos = base
        self._yname = yname
        self.categories_ = categories
        self.base_ = categories[base].item() if hasattr(categories[base], "item") \
            else categories[base]
        self.param_names_ = list(names)
        self.n_features_in_ = p - int(self.fit_intercept)
        if frame_names is not None:
            self.feature_names_in_ = np.asarray(frame_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        nonbase = np.delete(categories, base)
        se = np.sqrt(np.diag(cov)).reshape(p, k_all - 1, order="F")
        with np.errstate(divide="ignore", invalid="ignore"):
            z = theta / se
        self._bse = se
        self._z = z
        self._pv = _norm_sf2(z)
        cols = list(nonbase)
        self.params_ = _labelled(theta.copy(), names, cols, index_name="param",
                                 columns_name=yname)
        self.bse_ = _labelled(se, names, cols, index_name="param", columns_name=yname)
        self.zvalues_ = _labelled(z, names, cols, index_name="param", columns_name=yname)
        self.pvalues_ = _labelled(self._pv, names, cols, index_name="param",
                                  columns_name=yname)
        k = p * (k_all - 1)
        self.nobs_ = n
        self.df_model_ = (p - int(self.fit_intercept)) * (k_all - 1)
        self.df_resid_ = n - k
        self.llf_ = float(llf)
        self.llnull_ = float(llnull)
        self.prsquared_ = 1.0 - self.llf_ / self.llnull_ if self.llnull_ != 0 else math.nan
        self.llr_ = 2.0 * (self.llf_ - self.llnull_)
        self.llr_pvalue_ = _chi2_sf(self.llr_, self.df_model_) if self.df_model_ > 0 \
            else math.nan
        self.aic_ = -2.0 * self.llf_ + 2.0 * k
        self.bic_ = -2.0 * self.llf_ + k * math.log(n)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)

    # ---------------------------------------------------------------- results

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "_theta"):
            raise AttributeError(f"{_FN}.{what}: this model is not fitted yet; call fit(X, y)")

    def _flat_index(self) -> Any:
        pd = _pandas()
        nonbase = np.delete(self.categories_, self._base_pos)
        pairs = [(c, name) for c in nonbase for name in self.param_names_]
        if pd is None:  # pragma: no cover - exercised only without pandas
            return pairs
        return pd.MultiIndex.from_tuples(pairs, names=[self._yname, "param"])

    def cov_params(self) -> Any:
        """Covariance of the estimates: the inverse (penalised) information at the estimate.

        Returns
        -------
        DataFrame or numpy.ndarray
            ``(p(K−1), p(K−1))``, parameters ordered category-major (all parameters of the
            first non-base category, then the next, ...: ``params_`` flattened column by
            column, as statsmodels' MNLogit); a DataFrame with a (category, param) MultiIndex
            on both axes when pandas is installed.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> cov = MultinomialLogit().fit(x, y).cov_params()
        >>> cov.shape
        (4, 4)
        """
        self._check_fitted("cov_params")
        index = self._flat_index()
        return _labelled(self._cov.copy(), index, index)

    def conf_int(self, alpha: float = 0.05) -> Any:
        r"""Wald confidence intervals :math:`\hat\beta \pm z_{1-\alpha/2}\,\mathrm{se}`.

        Parameters
        ----------
        alpha : float, default 0.05
            1 − coverage, in (0, 1).

        Returns
        -------
        DataFrame or numpy.ndarray
            Rows in the order of :meth:`cov_params` ((category, param) MultiIndex), columns
            ``lower`` and ``upper``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).conf_int().shape
        (4, 2)
        """
        self._check_fitted("conf_int")
        if not (isinstance(alpha, int | float | np.floating) and 0 < alpha < 1):
            raise ValueError(f"{_FN}.conf_int: alpha must be in (0, 1), got {alpha!r}")
        q = statistics.NormalDist().inv_cdf(1.0 - alpha / 2.0)
        est = self._theta.reshape(-1, order="F")
        se = self._bse.reshape(-1, order="F")
        values = np.column_stack([est - q * se, est + q * se])
        return _labelled(values, self._flat_index(), ["lower", "upper"])

    def _prepare_new(self, X: Any, what: str) -> np.ndarray:
        self._check_fitted(what)
        fn = f"{_FN}.{what}"
        names_in = getattr(self, "feature_names_in_", None)
        if names_in is not None and _frame_kind(X) is not None:
            missing = [c for c in names_in if c not in [str(v) for v in X.columns]]
            if missing:
                raise ValueError(f"{fn}: X lacks the fitted column(s) {missing}")
            X = X[list(names_in)]
        design = self._design(X, fn)
        if design.x.shape[1] != self._x.shape[1]:
            raise ValueError(
                f"{fn}: X has {design.x.shape[1] - int(self.fit_intercept)} features; the "
                f"model was fitted with {self.n_features_in_}"
            )
        return design.x

    def predict_proba(self, X: Any) -> np.ndarray:
        """Category probabilities ``base_softmax(x B, base=b)``, columns in ``categories_`` order.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n_samples, n_features)
            As in :meth:`fit` (a frame is matched to the fitted columns by name).

        Returns
        -------
        numpy.ndarray, shape (n_samples, K)

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).predict_proba(x[:2]).sum(axis=1)
        array([1., 1.])
        """
        x = self._prepare_new(X, "predict_proba")
        return base_softmax(x @ self._theta, axis=-1, base=self._base_pos)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable category of each row (labels from ``categories_``).

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).predict(np.array([[0.0], [4.0]]))
        array([1, 2])
        """
        proba = self.predict_proba(X)
        return self.categories_[np.argmax(proba, axis=1)]

    def rebase(self, base: Any) -> MultinomialLogit:
        r"""The same fit expressed against another base category (no refitting).

        .. math:: \beta^{(c)}_k = \beta^{(b)}_k - \beta^{(b)}_c, \qquad
                  \Sigma^{(c)} = L \Sigma^{(b)} L^\top

        where ``L`` is that linear map on the stacked parameters. ``llf_`` and the
        probabilities are unchanged. For an unpenalised fit this equals refitting with
        ``base=c`` (up to the convergence tolerance); a penalised fit is re-expressed, not
        re-penalised.

        Parameters
        ----------
        base : label
            A label of ``y``.

        Returns
        -------
        MultinomialLogit
            A new fitted estimator with ``base=base``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> a = MultinomialLogit(base=0).fit(x, y)
        >>> b = a.rebase(2)
        >>> bool(np.isclose(a.llf_, b.llf_)), list(b.params_.columns)
        (True, [0, 1])
        """
        self._check_fitted("rebase")
        new = MultinomialLogit(**{**self.get_params(), "base": base})
        c = new._base_index(self.categories_)
        b = self._base_pos
        p, km1 = self._theta.shape
        k_all = km1 + 1
        # L maps the stacked non-base parameters of base b to those of base c.
        old_pos = {k: i for i, k in enumerate(np.delete(np.arange(k_all), b))}
        new_cats = np.delete(np.arange(k_all), c)
        lmap = np.zeros((km1, km1))
        for i, k in enumerate(new_cats):
            if k != b:
                lmap[i, old_pos[k]] += 1.0
            if c != b:
                lmap[i, old_pos[c]] -= 1.0
        big = np.kron(lmap, np.eye(p))
        theta = self._theta @ lmap.T
        cov = big @ self._cov @ big.T
        llnull = self.llnull_
        new._store(self._x, self._codes, self.param_names_,
                   list(self.feature_names_in_) if hasattr(self, "feature_names_in_")
                   else None, self.categories_, c, self._yname, theta, (cov + cov.T) / 2,
                   self.llf_, llnull, self.converged_, self.n_iter_)
        return new

    def marginal_effects(self, at: str = "overall") -> MarginalEffects:
        r"""Marginal effects of the features on each category's probability.

        .. math:: \frac{\partial P_k}{\partial x_j} = P_k\Big(\beta_{kj} -
                  \sum_l P_l \beta_{lj}\Big)

        averaged over the fitted observations (``at="overall"``, statsmodels' default) or
        evaluated at the mean of the features (``at="mean"``). They do not depend on the base.
        Standard errors by the delta method, with the closed-form derivative of the effects
        with respect to the parameters,

        .. math:: \frac{\partial\, \mathrm{ME}_{kj}}{\partial \beta_{mr}} =
                  x_r P_k\big[(\delta_{km} - P_m) A_{kj} - P_m A_{mj}\big]
                  + \delta_{jr} P_k(\delta_{km} - P_m),
                  \qquad A_{kj} = \beta_{kj} - \textstyle\sum_l P_l\beta_{lj}.

        Parameters
        ----------
        at : {"overall", "mean"}
            Where the effects are evaluated.

        Returns
        -------
        MarginalEffects
            Effects, standard errors, z and p-values: features (without the intercept) ×
            all ``K`` categories.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> me = MultinomialLogit().fit(x, y).marginal_effects()
        >>> float(np.asarray(me.effects).sum())     # effects on the K probabilities sum to 0
        0.0
        """
        self._check_fitted("marginal_effects")
        if at not in ("overall", "mean"):
            raise ValueError(f"{_FN}.marginal_effects: at must be 'overall' or 'mean', "
                             f"got {at!r}")
        x = self._x
        p, km1 = self._theta.shape
        k_all = km1 + 1
        base = self._base_pos
        coef = _full_coef(self._theta, base)  # (p, K)
        feat = np.arange(int(self.fit_intercept), p)
        jn = feat.size
        if jn == 0:
            raise ValueError(f"{_FN}.marginal_effects: the model has no features besides the "
                             "intercept")
        nonbase = np.delete(np.arange(k_all), base)
        rows = x.mean(axis=0, keepdims=True) if at == "mean" else x
        n = rows.shape[0]
        block = int(max(1, _BLOCK_ELEMENTS // (k_all * k_all * max(jn, p))))
        me = np.zeros((k_all, jn))
        jac1 = np.zeros((k_all, jn, km1, p))
        jac2 = np.zeros((k_all, km1))
        beta = coef[feat].T  # (K, J)
        for start in range(0, n, block):
            xc = rows[start:start + block]
            prob = base_softmax(xc @ self._theta, axis=-1, base=base)  # (r, K)
            bbar = prob @ beta  # (r, J)
            adev = beta[None, :, :] - bbar[:, None, :]  # (r, K, J)
            me += np.einsum("ik,ikj->kj", prob, adev)
            pm = prob[:, nonbase]  # (r, K−1)
            # term[i,k,j,m] = P_k[(δ_km − P_m) A_kj − P_m A_mj]
            delta = np.zeros((k_all, km1))
            delta[nonbase, np.arange(km1)] = 1.0
            t = (delta[None, :, None, :] - pm[:, None, None, :]) * adev[:, :, :, None]
            t -= pm[:, None, None, :] * adev[:, nonbase, :].transpose(0, 2, 1)[:, None, :, :]
            t *= prob[:, :, None, None]
            jac1 += np.einsum("ikjm,ir->kjmr", t, xc)
            jac2 += np.einsum("ik,ikm->km", prob, delta[None, :, :] - pm[:, None, :])
        me /= n
        jac1 /= n
        jac2 /= n
        for jj, r in enumerate(feat):
            jac1[:, jj, :, r] += jac2
        jac = jac1.reshape(k_all * jn, km1 * p)
        # Effects laid out category-major: row k*J + j.
        cov = jac @ self._cov @ jac.T
        se = np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(k_all, jn)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = me / se
        pv = _norm_sf2(z)
        names = [self.param_names_[r] for r in feat]
        cats = list(self.categories_)

        def lab(a: np.ndarray) -> Any:
            return _labelled(a.T.copy(), names, cats, index_name="feature",
                             columns_name=self._yname)

        return MarginalEffects(at, lab(me), lab(se), lab(z), lab(pv), cov)

    def summary(self, alpha: float = 0.05) -> Summary:
        """A text table of the fit, laid out like statsmodels' ``MNLogit`` summary.

        Parameters
        ----------
        alpha : float, default 0.05
            For the confidence-interval columns.

        Returns
        -------
        Summary
            ``print`` it, or ``.as_text()``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array(["no", "yes", "yes", "no", "yes", "maybe", "maybe", "maybe"])
        >>> print(MultinomialLogit(base="no").fit(x, y).summary())  # doctest: +ELLIPSIS
                             Multinomial Logit Regression Results
        ==============================================================================
        Dep. Variable:                      y   No. Observations:                    8
        Base category:                     no   Df Residuals:                        4
        ...
        """
        self._check_fitted("summary")
        q = statistics.NormalDist().inv_cdf(1.0 - alpha / 2.0)
        width = 78
        penal = self.penalty == "l2" and self.alpha > 0
        left = [
            ("Dep. Variable:", self._yname),
            ("Base category:", _label_text(self.base_)),
            ("Model:", "MultinomialLogit"),
            ("Method:", "Newton, L2 penalty" if penal else "MLE (Newton)"),
            ("Penalty alpha:" if penal else "Categories:",
             f"{self.alpha:g}" if penal else str(len(self.categories_))),
            ("converged:", str(self.converged_)),
            ("Iterations:", str(self.n_iter_)),
        ]
        right = [
            ("No. Observations:", f"{self.nobs_}"),
            ("Df Residuals:", f"{self.df_resid_}"),
            ("Df Model:", f"{self.df_model_}"),
            ("Pseudo R-squ.:", f"{self.prsquared_:.4f}"),
            ("Log-Likelihood:", f"{self.llf_:.5g}"),
            ("LL-Null:", f"{self.llnull_:.5g}"),
            ("LLR p-value:", f"{self.llr_pvalue_:#.4g}"),
        ]
        lines = ["Multinomial Logit Regression Results".center(width).rstrip(), "=" * width]
        for (lk, lv), (rk, rv) in zip(left, right, strict=True):
            # A long label pushes the right half along rather than being cut.
            lines.append(f"{lk:<18}{lv:>20}   {rk:<18}{rv:>19}" if len(lv) <= 20 else
                         f"{lk} {lv}   {rk:<18}{rv:>19}")
        lines.append(f"{'AIC:':<18}{self.aic_:>20.4f}   {'BIC:':<18}{self.bic_:>19.4f}")
        lines.append("=" * width)
        lo, hi = f"[{alpha / 2:.3f}", f"{1 - alpha / 2:.3f}]"
        nonbase = np.delete(self.categories_, self._base_pos)
        for k, cat in enumerate(nonbase):
            head = f"{self._yname}={_label_text(cat)}"
            if len(head) > 16:  # on a line of its own rather than cut
                lines.append(head)
                head = ""
            lines.append(f"{head:>16}{'coef':>11}{'std err':>11}{'z':>11}{'P>|z|':>11}"
                         f"{lo:>9}{hi:>9}")
            lines.append("-" * width)
            for j, name in enumerate(self.param_names_):
                b, s = self._theta[j, k], self._bse[j, k]
                label = name if len(name) <= 16 else name[:13] + "..."
                lines.append(
                    f"{label:<16}{_fmt(b, 11, 4)}{_fmt(s, 11, 3)}{_fmt(self._z[j, k], 11, 3)}"
                    f"{self._pv[j, k]:>11.3f}{_fmt(b - q * s, 9, 3)}"
                    f"{_fmt(b + q * s, 9, 3)}"
                )
            lines.append("-" * width if k < len(nonbase) - 1 else "=" * width)
        if penal:
            lines.append("Standard errors from the penalised information (not sampling "
                         "errors).")
        if not self.converged_:
            lines.append("Warning: Newton's method did not converge.")
        return Summary("\n".join(lines))


def _chol_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``(L Lᵀ) s = b`` given the Cholesky factor ``L``."""
    try:
        from scipy.linalg import solve_triangular
    except ImportError:  # pragma: no cover - exercised only without SciPy
        return np.linalg.solve(chol @ chol.T, b)
    w = solve_triangular(chol, b, lower=True)
    return solve_triangular(chol.T, w, lower=False)


def _chol_inverse(chol: np.ndarray) -> np.ndarray:
    eye = np.eye(chol.shape[0])
    inv = _chol_solve(chol, eye)
    return (inv + inv.T) / 2.0


def _condition(info: np.ndarray) -> float:
    d = np.sqrt(np.diag(info))
    if not np.all(d > 0):
        return math.inf
    w = np.linalg.eigvalsh(info / np.outer(d, d))
    return math.inf if w[0] <= 0 else float(w[-1] / w[0])
