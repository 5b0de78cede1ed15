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

**Dask.** The same sums are Dask reductions over row chunks when ``X`` is a Dask array or
DataFrame: each Newton iteration is one Dask computation whose tasks return the partial sums
(ℓ, ``XᵀP``, the information) of their chunk, so the fit runs on a cluster with the rows
left where they are (see :meth:`MultinomialLogit.fit`).
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


def _check_frame_dtypes(names: Sequence[str], dtypes: Any, kind: str, fn: str) -> None:
    """Numeric (or boolean) columns only: the frame's, or a Dask frame's (pandas dtypes)."""
    if kind == "pandas":
        pd = _pandas()
        for name, dtype in zip(names, dtypes, strict=True):
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TypeError(
                    f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                    "categorical feature first, e.g. pandas.get_dummies(X, drop_first=True))"
                )
        return
    for name, dtype in zip(names, dtypes, strict=True):
        if not (dtype.is_numeric() or str(dtype) == "Boolean"):
            raise TypeError(
                f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                "categorical feature first, e.g. X.to_dummies(columns, drop_first=True))"
            )


def _frame_to_array(X: Any, kind: str, fn: str) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in X.columns]
    _check_frame_dtypes(names, X.dtypes, kind, fn)
    if kind == "pandas":
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = X.cast({n: float for n in X.columns}).to_numpy()
    return np.asarray(values, dtype=np.float64), names


def _matrix_values(X: Any, fn: str) -> tuple[np.ndarray, list[str] | None]:
    """X as a 2-D float64 array and the frame's column names (no check of the values)."""
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
    return values, names


def _first_nonfinite(values: np.ndarray) -> tuple[int, int] | None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    i, j = (int(v) for v in np.argwhere(bad)[0])
    return i, j


def _nonfinite_message(fn: str, row: Any, j: int, names: Sequence[str] | None,
                       value: float) -> str:
    col = repr(names[j]) if names else str(j)
    return (f"{fn}: X[{row}, {j}] (row {row}, column {col}) is {value}; every feature value "
            "must be finite (drop or impute missing values first)")


def _as_matrix(X: Any, fn: str) -> tuple[np.ndarray, list[str] | None]:
    values, names = _matrix_values(X, fn)
    bad = _first_nonfinite(values)
    if bad is not None:
        i, j = bad
        raise ValueError(_nonfinite_message(fn, i, j, names, values[i, j]))
    return np.ascontiguousarray(values), names


def _label_values(y: Any) -> tuple[np.ndarray, str, int | None]:
    """Labels as an array, the series' name (or ``"y"``), and the first missing label's
    position (None, NaN in an object array, a null of a pandas/polars series), or None."""
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
            return np.asarray(y.to_numpy()), name, int(np.argmax(missing))
        y = y.to_numpy()
    labels = np.asarray(y)
    if labels.dtype.kind == "O":
        for i, v in enumerate(labels.ravel()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return labels, name, i
    return labels, name, None


def _as_labels(y: Any, n: int, fn: str) -> tuple[np.ndarray, str]:
    labels, name, missing = _label_values(y)
    if missing is not None:
        raise ValueError(f"{fn}: y[{missing}] is missing; every observation needs a category")
    if labels.ndim != 1:
        raise ValueError(f"{fn}: y has shape {labels.shape}; expected 1-D (n_samples,)")
    if labels.shape[0] != n:
        raise ValueError(f"{fn}: y has {labels.shape[0]} labels but X has {n} rows")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        i = int(np.argmax(np.isnan(labels)))
        raise ValueError(f"{fn}: y[{i}] is NaN; every observation needs a category")
    _check_label_dtype(labels, fn)
    return labels, name


def _check_label_dtype(labels: np.ndarray, fn: str) -> None:
    if labels.dtype.kind not in "biufUSO":
        raise TypeError(f"{fn}: y has dtype {labels.dtype}; expected integer or string labels")


def _sorted_labels(labels: np.ndarray, fn: str, **kwargs: Any) -> Any:
    """``np.unique(labels, **kwargs)``, with labels that cannot be ordered reported as such."""
    try:
        return np.unique(labels, **kwargs)
    except TypeError as exc:
        raise TypeError(
            f"{fn}: the labels of y cannot be sorted ({exc}); use labels of one type"
        ) from None


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


@dataclass
class _Sums:
    """The row sums of one pass: ℓ's row terms, and with derivatives ``XᵀP`` and the two parts
    of the information (``AᵀA`` and the per-category ``Aᵀ X`` blocks). Partial sums over row
    chunks add up to the sums over all rows."""

    llf: float
    xtp: np.ndarray | None = None  # (p, K)
    outer: np.ndarray | None = None  # (m, m)
    diag: np.ndarray | None = None  # (m, p)

    @classmethod
    def start(cls, llf: float, p: int, k_all: int, derivatives: bool) -> _Sums:
        if not derivatives:
            return cls(llf)
        m = p * (k_all - 1)
        return cls(llf, np.zeros((p, k_all)), np.zeros((m, m)), np.zeros((m, p)))

    def add(self, other: _Sums) -> _Sums:
        self.llf += other.llf
        if self.xtp is not None and other.xtp is not None:
            self.xtp += other.xtp
            self.outer += other.outer
            self.diag += other.diag
        return self


def _accumulate(x: np.ndarray, xt: np.ndarray, coef: np.ndarray, base: int,
                acc: _Sums) -> None:
    """Add the row sums of ``x`` (and ``xt = xᵀ``, C-contiguous) at ``coef`` to ``acc``, in
    blocks of rows (the per-block work of :func:`_evaluate`, shared by both engines)."""
    n, p = x.shape
    k_all = coef.shape[1]
    nonbase = np.delete(np.arange(k_all), base)
    m = p * (k_all - 1)
    rows = _block_rows(max(m, k_all))
    derivatives = acc.xtp is not None
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        r = xc.shape[0]
        eta = xc @ coef
        prob = softmax(eta, axis=-1)
        p_base = prob[:, base]
        if p_base.min() > 0:
            acc.llf += float(np.log(p_base).sum())
        else:
            acc.llf -= float(logsumexp(eta, axis=-1).sum())
        if not derivatives:
            continue
        xtc = xt[:, start:start + r]
        acc.xtp += xtc @ prob
        a_t = (prob.T[nonbase][:, None, :] * xtc[None, :, :]).reshape(m, r)
        acc.outer += a_t @ a_t.T  # NumPy hands A·Aᵀ of one array to BLAS syrk
        acc.diag += a_t @ xc


def _evaluate(data: Any, theta: np.ndarray, base: int, *, derivatives: bool) -> _State:
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

    ``data`` is a :class:`_Data` (rows in this process) or a :class:`_DaskData` (one Dask
    computation whose tasks return the :class:`_Sums` of their row chunks).
    """
    k_all = theta.shape[1] + 1
    p = theta.shape[0]
    coef = _full_coef(theta, base)
    acc = _Sums.start(float(np.sum(data.xty * coef)), p, k_all, derivatives)
    if isinstance(data, _Data):
        _accumulate(data.x, data.xt, coef, base, acc)
    else:
        acc.add(data.sums(coef, base, derivatives))
    if not derivatives:
        return _State(acc.llf)
    info = -acc.outer
    for k in range(k_all - 1):
        sl = slice(k * p, (k + 1) * p)
        info[sl, sl] += acc.diag[sl]
    info = (info + info.T) / 2.0
    g = np.delete(data.xty - acc.xtp, base, axis=1).reshape(-1, order="F")
    return _State(acc.llf, g, info)


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


def _gram(x: np.ndarray) -> np.ndarray:
    """``XᵀX``, summed over blocks of rows."""
    n, p = x.shape
    gram = np.zeros((p, p))
    rows = _block_rows(p)
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        gram += xc.T @ xc
    return gram


def _check_rank(x: np.ndarray, names: Sequence[str], fit_intercept: bool) -> None:
    _check_gram(_gram(x), names, fit_intercept)


def _check_gram(gram: np.ndarray, names: Sequence[str], fit_intercept: bool) -> None:
    """Raise when a column is all zeros or the columns are linearly dependent (from XᵀX)."""
    p = gram.shape[0]
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


def _me_accumulate(rows: np.ndarray, theta: np.ndarray, base: int,
                  feat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums over ``rows`` (design rows) of the marginal effects and of the two parts of their
    derivative with respect to the parameters (see :meth:`MultinomialLogit.marginal_effects`),
    in blocks of rows."""
    p, km1 = theta.shape
    k_all = km1 + 1
    jn = feat.size
    coef = _full_coef(theta, base)  # (p, K)
    nonbase = np.delete(np.arange(k_all), base)
    n = rows.shape[0]
    block = int(max(1, _BLOCK_ELEMENTS // (k_all * k_all * max(jn, p))))
    me = np.zeros((k_all, jn))
    jac1 = np.zeros((k_all, jn, km1, p))
    jac2 = np.zeros((k_all, km1))
    beta = coef[feat].T  # (K, J)
    for start in range(0, n, block):
        xc = rows[start:start + block]
        prob = base_softmax(xc @ theta, axis=-1, base=base)  # (r, K)
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
    return me, jac1, jac2


# --------------------------------------------------------------------------- Dask


def _dask_kind(obj: Any) -> str | None:
    """``"array"``, ``"frame"`` or ``"series"`` for a Dask collection, else None (without
    importing Dask when it is not loaded)."""
    import sys

    if not type(obj).__module__.startswith("dask."):
        return None
    if "dask.array" in sys.modules:
        import dask.array as da

        if isinstance(obj, da.Array):
            return "array"
    if "dask.dataframe" in sys.modules:
        import dask.dataframe as dd

        if isinstance(obj, dd.DataFrame):
            return "frame"
        if isinstance(obj, dd.Series):
            return "series"
    return None


# Partial results are combined in a tree of this fan-in, so that the process that called
# fit() receives one (m, m) matrix per pass, not one per chunk.
_SPLIT_EVERY = 8


def _tree_compute(parts: list[Any], combine: Any) -> Any:
    """One Dask computation: ``combine`` the delayed per-chunk ``parts`` in a tree; the result.

    ``dask.compute`` runs it on the active ``distributed`` client if there is one, else on
    Dask's default (threaded) scheduler.
    """
    import dask

    merge = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)]
    (out,) = dask.compute(parts[0])
    return out


def _chunk_values(xb: Any, fn: str) -> np.ndarray:
    """A row chunk of X (NumPy block or pandas partition) as float64 values (unchecked)."""
    return _matrix_values(xb, fn)[0]


def _with_intercept(values: np.ndarray, fit_intercept: bool) -> np.ndarray:
    if fit_intercept:
        values = np.hstack([np.ones((values.shape[0], 1)), values])
    return np.ascontiguousarray(values)


def _chunk_design(xb: Any, fit_intercept: bool, fn: str, where: tuple[str, int],
                  names: Sequence[str] | None) -> np.ndarray:
    """The design rows of a chunk; a non-finite value raises naming its row: the global row
    (``where = ("offset", first row)``) or, when the chunk's offset is unknown (a Dask
    DataFrame partition), the partition and the row within it."""
    values = _chunk_values(xb, fn)
    bad = _first_nonfinite(values)
    if bad is not None:
        i, j = bad
        if where[0] == "offset":
            raise ValueError(_nonfinite_message(fn, where[1] + i, j, names, values[i, j]))
        col = repr(names[j]) if names else str(j)
        raise ValueError(
            f"{fn}: X row {i} of partition {where[1]}, column {j} ({col}) is {values[i, j]}; "
            "every feature value must be finite (drop or impute missing values first)"
        )
    return _with_intercept(values, fit_intercept)


def _chunk_labels(yb: Any, rows: int, block: int, fn: str) -> tuple[np.ndarray,
                                                                     tuple[int, str] | None]:
    """The labels of a chunk and its first missing one ``(row in chunk, "missing"|"NaN")``."""
    labels, _, missing = _label_values(yb)
    if labels.ndim != 1:
        raise ValueError(f"{fn}: y has shape {labels.shape} in row chunk {block}; expected "
                         "1-D (n_samples,)")
    if labels.shape[0] != rows:
        raise ValueError(
            f"{fn}: row chunk {block} has {rows} rows of X but {labels.shape[0]} labels of y; "
            "X and y must be split into row chunks alike (e.g. columns of one Dask DataFrame)"
        )
    if missing is not None:
        return labels, (missing, "missing")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        return labels, (int(np.argmax(np.isnan(labels))), "NaN")
    _check_label_dtype(labels, fn)
    return labels, None


@dataclass
class _Scan:
    """The one-off statistics of the rows (partial over a run of chunks; they merge)."""

    rows: int
    bad_x: tuple[int, int, float] | None = None  # first non-finite X: (row, column, value)
    bad_y: tuple[int, str] | None = None  # first missing label: (row, "missing"|"NaN")
    labels: np.ndarray | None = None  # sorted distinct labels
    counts: np.ndarray | None = None  # (k,) observations per label
    xty: np.ndarray | None = None  # (p, k): Σ_i x_i [y_i = label]
    gram: np.ndarray | None = None  # (p, p): XᵀX (for the rank check)
    colsum: np.ndarray | None = None  # (p,): Σ_i x_i (for marginal effects at the mean)
    mismatch: tuple[int, int, int] | None = None  # first (chunk, rows of X, labels of y)


def _scan_chunk(xb: Any, yb: Any, block: int, fit_intercept: bool, fn: str) -> _Scan:
    """Pass one over a chunk: checks, its labels and their counts, XᵀY, XᵀX and Σx."""
    values = _chunk_values(xb, fn)
    rows = values.shape[0]
    if len(yb) != rows:  # reported for the first such chunk, whichever task ends first
        return _Scan(rows, mismatch=(block, rows, len(yb)))
    labels, bad_y = _chunk_labels(yb, rows, block, fn)
    bad = _first_nonfinite(values)
    if bad is not None or bad_y is not None:
        # The fit raises naming the first bad row once the chunks' offsets are known.
        bad_x = None if bad is None else (*bad, float(values[bad]))
        return _Scan(rows, bad_x, bad_y)
    x = _with_intercept(values, fit_intercept)
    cats, codes = _sorted_labels(labels, fn, return_inverse=True)
    codes = codes.astype(np.intp)
    k = cats.shape[0]
    xty = np.stack([np.bincount(codes, weights=col, minlength=k) for col in x.T]) \
        if x.shape[1] else np.zeros((0, k))
    return _Scan(rows, None, None, cats, np.bincount(codes, minlength=k).astype(np.float64),
                 xty, _gram(x), x.sum(axis=0))


def _merge_scans(*parts: _Scan) -> _Scan:
    """Merge the scans of consecutive runs of chunks, in row order (first bad rows shifted
    by the rows before them; labels united and their sums added)."""
    out = _Scan(0)
    for s in parts:
        out.mismatch = out.mismatch or s.mismatch
        if out.bad_x is None and s.bad_x is not None:
            out.bad_x = (out.rows + s.bad_x[0], s.bad_x[1], s.bad_x[2])
        if out.bad_y is None and s.bad_y is not None:
            out.bad_y = (out.rows + s.bad_y[0], s.bad_y[1])
        out.rows += s.rows
    if out.bad_x is not None or out.bad_y is not None or out.mismatch is not None:
        return out
    full = [s for s in parts if s.labels is not None and s.labels.size]
    if not full:
        return out
    labels = _sorted_labels(np.concatenate([s.labels for s in full]), f"{_FN}.fit")
    p = full[0].xty.shape[0]
    out.labels = labels
    out.counts = np.zeros(labels.shape[0])
    out.xty = np.zeros((p, labels.shape[0]))
    out.gram = np.zeros((p, p))
    out.colsum = np.zeros(p)
    for s in full:
        pos = np.searchsorted(labels, s.labels)
        out.counts[pos] += s.counts
        out.xty[:, pos] += s.xty
        out.gram += s.gram
        out.colsum += s.colsum
    return out


def _sums_chunk(xb: Any, coef: np.ndarray, base: int, derivatives: bool, fit_intercept: bool,
                err: dict[str, str], fn: str) -> _Sums:
    """One task of a Newton pass: the :class:`_Sums` of a row chunk."""
    # NumPy's error state is per thread: the caller's applies in the worker too.
    with np.errstate(**err):
        x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
        acc = _Sums.start(0.0, coef.shape[0], coef.shape[1], derivatives)
        _accumulate(x, np.ascontiguousarray(x.T), coef, base, acc)
    return acc


def _add_sums(*parts: _Sums) -> _Sums:
    out = _Sums(0.0) if parts[0].xtp is None else _Sums(
        0.0, np.zeros_like(parts[0].xtp), np.zeros_like(parts[0].outer),
        np.zeros_like(parts[0].diag))
    for s in parts:
        out.add(s)
    return out


def _gather_chunk(xb: Any, yb: Any, block: int, categories: np.ndarray, fit_intercept: bool,
                  fn: str) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's design rows and category codes (to gather small data in one process)."""
    x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
    labels, _ = _chunk_labels(yb, x.shape[0], block, fn)
    codes = np.searchsorted(categories, labels).astype(np.intp)
    np.minimum(codes, categories.shape[0] - 1, out=codes)
    if not np.all(categories[codes] == labels):
        raise ValueError(f"{fn}: row chunk {block} of y holds a label that the first pass did "
                         "not see (the data changed between passes)")
    return x, codes


def _concat_pairs(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]))


def _me_chunk(xb: Any, theta: np.ndarray, base: int, feat: np.ndarray, fit_intercept: bool,
              fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One task of the average marginal effects: the sums of a row chunk."""
    x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
    return _me_accumulate(x, theta, base, feat)


def _add_arrays(*parts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.sum([part[i] for part in parts], axis=0) for i in range(len(parts[0])))


class _DaskData:
    """Dask X and y as pairs of row chunks (one Dask task each), with the one-off statistics
    of the first pass. Every later pass is one Dask computation over X's chunks whose tasks
    return small partial sums; the rows never come to this process."""

    def __init__(self, X: Any, y: Any, fit_intercept: bool, fn: str) -> None:
        self.fit_intercept = fit_intercept
        self.fn = fn
        kind = _dask_kind(X)
        lengths: tuple[float, ...] | None
        if kind == "series":
            raise ValueError(f"{fn}: X is a Dask Series (1-D); expected 2-D (n_samples, "
                             "n_features) — for a single feature use X.to_frame()")
        if kind == "array":
            if X.ndim != 2:
                hint = " — for a single feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
                raise ValueError(f"{fn}: X has shape {X.shape}; expected 2-D (n_samples, "
                                 f"n_features){hint}")
            if math.isnan(X.shape[1]):
                raise ValueError(f"{fn}: X has an unknown number of columns; compute its "
                                 "chunk sizes first (X.compute_chunk_sizes())")
            if X.dtype.kind not in "biuf":
                raise TypeError(f"{fn}: X has dtype {X.dtype}; expected a 2-D array of numbers "
                                "or a data frame")
            X = X.rechunk({1: -1})  # whole rows in every chunk
            self.xs = list(X.to_delayed().ravel())
            self.frame_names: list[str] | None = None
            p_in = int(X.shape[1])
            lengths = X.chunks[0] if not any(math.isnan(r) for r in X.chunks[0]) else None
        else:
            names = [str(c) for c in X.columns]
            _check_frame_dtypes(names, X.dtypes, "pandas", fn)
            self.xs = list(X.to_delayed())
            self.frame_names = names
            p_in = len(names)
            lengths = None
        self.names = ([f"x{j + 1}" for j in range(p_in)] if self.frame_names is None
                      else list(self.frame_names))
        if fit_intercept:
            self.names = ["const", *self.names]
        self.ys, self.yname = self._split_labels(y, lengths, fn)
        self._scan()

    def _split_labels(self, y: Any, lengths: tuple[float, ...] | None,
                      fn: str) -> tuple[list[Any], str]:
        """y in X's row chunks: a Dask array rechunked like X (when both chunkings are
        known), a Dask Series or array with as many chunks as X, or in-memory labels cut at
        X's chunk boundaries."""
        import dask

        nb = len(self.xs)
        ykind = _dask_kind(y)
        yname = "y"
        if ykind == "frame":
            raise ValueError(f"{fn}: y is a Dask DataFrame; expected 1-D labels (a Dask "
                             "Series or 1-D Dask array)")
        if ykind == "series":
            if y.name not in (None, ""):
                yname = str(y.name)
            if lengths is None:
                if y.npartitions != nb:
                    raise ValueError(
                        f"{fn}: X has {nb} row chunks but y has {y.npartitions} partitions; "
                        "pass X and y as columns of one Dask DataFrame (or partition them alike)"
                    )
                return list(y.to_delayed()), yname
            y = y.to_dask_array(lengths=True)
            ykind = "array"
        if ykind == "array":
            if y.ndim != 1:
                raise ValueError(f"{fn}: y has shape {y.shape}; expected 1-D (n_samples,)")
            if lengths is not None and not math.isnan(y.shape[0]):
                if y.shape[0] != sum(lengths):
                    raise ValueError(f"{fn}: y has {y.shape[0]} labels but X has "
                                     f"{int(sum(lengths))} rows")
                y = y.rechunk((tuple(int(r) for r in lengths),))
            elif y.numblocks[0] != nb:
                raise ValueError(
                    f"{fn}: X has {nb} row chunks but y has {y.numblocks[0]}; pass X and y "
                    "split into row chunks alike"
                )
            return list(y.to_delayed().ravel()), yname
        if lengths is None:  # in-memory labels: cut them where X's chunks end
            lengths = tuple(dask.compute(*[dask.delayed(len)(xb) for xb in self.xs]))
        n = int(sum(lengths))
        labels, yname = _as_labels(y, n, fn)
        stops = np.cumsum([int(r) for r in lengths])
        return [labels[a:b] for a, b in zip(np.r_[0, stops[:-1]], stops, strict=True)], yname

    def _scan(self) -> None:
        import dask

        fn = self.fn
        task = dask.delayed(_scan_chunk, pure=True)
        scan = _tree_compute(
            [task(xb, yb, i, self.fit_intercept, fn)
             for i, (xb, yb) in enumerate(zip(self.xs, self.ys, strict=True))],
            _merge_scans,
        )
        if scan.mismatch is not None:
            block, rows, labels = scan.mismatch
            raise ValueError(
                f"{fn}: row chunk {block} has {rows} rows of X but {labels} labels of y; X and "
                "y must be split into row chunks alike (e.g. columns of one Dask DataFrame)"
            )
        if scan.bad_x is not None:
            i, j, value = scan.bad_x
            raise ValueError(_nonfinite_message(fn, i, j, self.frame_names, value))
        if scan.bad_y is not None:
            i, what = scan.bad_y
            raise ValueError(f"{fn}: y[{i}] is {what}; every observation needs a category")
        self.n = scan.rows
        p = len(self.names)
        if scan.labels is None:  # no rows
            scan.labels, scan.counts = np.array([]), np.zeros(0)
            scan.xty, scan.gram, scan.colsum = np.zeros((p, 0)), np.zeros((p, p)), np.zeros(p)
        self.categories = scan.labels
        self.counts = scan.counts
        self.xty = scan.xty
        self.gram = scan.gram
        self.colmean = scan.colsum / max(1, self.n)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, len(self.names)

    def sums(self, coef: np.ndarray, base: int, derivatives: bool) -> _Sums:
        """One Newton pass: the :class:`_Sums` of all rows at ``coef`` (one computation)."""
        import dask

        task = dask.delayed(_sums_chunk, pure=True)
        err = np.geterr()
        return _tree_compute(
            [task(xb, coef, base, derivatives, self.fit_intercept, err, self.fn)
             for xb in self.xs],
            _add_sums,
        )

    def gather(self) -> tuple[np.ndarray, np.ndarray]:
        """All design rows and codes in this process (for the separation test, small data)."""
        import dask

        task = dask.delayed(_gather_chunk, pure=True)
        return _tree_compute(
            [task(xb, yb, i, self.categories, self.fit_intercept, self.fn)
             for i, (xb, yb) in enumerate(zip(self.xs, self.ys, strict=True))],
            _concat_pairs,
        )

    def me_sums(self, theta: np.ndarray, base: int,
                feat: np.ndarray) -> tuple[np.ndarray, ...]:
        """The sums over all rows behind the average marginal effects (one computation)."""
        import dask

        task = dask.delayed(_me_chunk, pure=True)
        return _tree_compute(
            [task(xb, theta, base, feat, self.fit_intercept, self.fn) for xb in self.xs],
            _add_arrays,
        )


def _proba_block(block: np.ndarray, theta: np.ndarray, base: int, fit_intercept: bool,
                 fn: str, names: Sequence[str] | None, block_info: Any = None) -> np.ndarray:
    """predict_proba of a chunk of a Dask array (rows numbered from the chunk's offset)."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    x = _chunk_design(block, fit_intercept, fn, ("offset", start), names)
    return base_softmax(x @ theta, axis=-1, base=base)


def _proba_partition(part: Any, theta: np.ndarray, base: int, fit_intercept: bool, fn: str,
                     names: Sequence[str] | None, index: int) -> np.ndarray:
    """predict_proba of a partition of a Dask DataFrame."""
    x = _chunk_design(part, fit_intercept, fn, ("partition", index), names)
    return base_softmax(x @ theta, axis=-1, base=base)


def _argmax_labels(proba: np.ndarray, categories: np.ndarray) -> np.ndarray:
    return categories[np.argmax(proba, axis=1)]


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

    *Dask.* With a Dask array or DataFrame ``X`` every pass over the rows is a Dask
    reduction over row chunks (one computation per Newton iteration); only the separation
    test needs the rows in one process, and runs on Dask data only up to 100,000 constraints
    (see :meth:`fit`, Notes, for what happens beyond).

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
            Numeric features: a NumPy array, a pandas or polars DataFrame (whose column
            names label the results), or a Dask array or DataFrame (see Notes). Every value
            must be finite.
        y : array_like or Series, shape (n_samples,)
            The category of each observation: integers, strings, ... (at least 2 distinct);
            a Dask array or Series with Dask ``X``.

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
            Penalised fit on separated data; or (Dask data too large for the separation test)
            a converged unpenalised fit with the symptoms of separation (see Notes).

        Notes
        -----
        **Dask.** ``X`` may be a Dask array or a Dask DataFrame, and ``y`` a Dask array or
        Series (or in-memory labels, cut at the boundaries of ``X``'s row chunks). The rows
        stay where Dask keeps them; each pass is one Dask computation (on the active
        ``distributed.Client``, else Dask's default scheduler) whose tasks each return the
        small partial sums of one row chunk, added in a tree of fan-in 8:

        * a first pass checks every value (a non-finite feature or a missing label raises
          naming its global row and column: the chunks' offsets come with the pass), finds
          the categories (each chunk's distinct labels, merged) and computes the counts,
          ``XᵀY``, ``XᵀX`` (for the rank check) and the column means;
        * each Newton iteration (and each line-search trial) is one pass returning ℓ's row
          terms, ``XᵀP`` and the two parts of the information matrix — the same per-block
          code as for NumPy input, so the estimates agree with an in-memory fit up to the
          rounding of the sums' order (measured: 1e-13 relative, within 1e-12).

        ``X`` is read again by every pass (about ``n_iter_ + 2`` of them): ``persist()`` ``X``
        and ``y`` first when they fit in the cluster's memory. A Dask array is rechunked to
        whole rows; ``X`` and ``y`` chunks are paired by position (columns of one Dask
        DataFrame pair up; a Dask array ``y`` is rechunked like ``X`` when both chunk sizes
        are known; otherwise their numbers of chunks must agree). The separation test is a
        linear program over all ``n(K−1)`` row constraints in one process: on Dask data it
        runs, on rows gathered into this process, only when ``n(K−1) ≤ 100,000``. Beyond
        that, ``check_separation=True`` raises ``ValueError`` before iterating, and
        ``"auto"`` says what it could not test: a fit that does not converge warns
        (``ConvergenceWarning``) or raises (singular information) stating that separation
        could not be ruled out, and a converged unpenalised fit that shows the symptoms that
        trigger the test in memory (more than 10 Newton iterations, or a nearly singular
        information matrix) warns with :class:`SeparationWarning`. After a Dask fit,
        :meth:`marginal_effects` is a reduction too (``"overall"``: one more pass;
        ``"mean"``: the first pass's column means), and :meth:`predict_proba` and
        :meth:`predict` of Dask input return lazy Dask arrays.

        Examples
        --------
        >>> import dask.array as da
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5], [1.0], [2.0]])
        >>> y = np.array(["a", "b", "c", "c", "a", "a", "b", "c", "b", "b"])
        >>> lazy = MultinomialLogit(base="b").fit(da.from_array(x, chunks=4), y)
        >>> round(lazy.llf_, 6)                # the in-memory fit's, from three row chunks
        -6.156708
        """
        self._validate()
        fn = f"{_FN}.fit"
        lazy = _dask_kind(X) is not None
        data: _Data | _DaskData
        if lazy:
            data = _DaskData(X, y, self.fit_intercept, fn)
            names, frame_names, yname = data.names, data.frame_names, data.yname
            n, p = data.shape
            categories = data.categories
            codes = None
        else:
            if _dask_kind(y) is not None:
                y = y.compute()  # X is in memory, so its labels fit there too
            design = self._design(X, fn)
            x, names, frame_names = design.x, design.names, design.frame_names
            n, p = x.shape
            labels, yname = _as_labels(y, n, fn)
            categories, codes = _sorted_labels(labels, fn, return_inverse=True)
            codes = codes.astype(np.intp)
        k_all = categories.shape[0]
        if k_all < 2:
            raise ValueError(
                f"{fn}: y has {k_all} distinct label(s) {list(categories)!r}; a "
                "multinomial logit needs at least 2 categories"
            )
        base = self._base_index(categories)
        if lazy:
            _check_gram(data.gram, names, self.fit_intercept)
        else:
            _check_rank(x, names, self.fit_intercept)

        alpha = float(self.alpha) if self.penalty == "l2" else 0.0
        pen = np.ones((p, k_all - 1))
        if self.fit_intercept:
            pen[0] = 0.0
        pen = alpha * pen.reshape(-1, order="F")

        if lazy:
            counts = np.array(data.counts, dtype=np.float64)
        else:
            counts = np.bincount(codes, minlength=k_all).astype(np.float64)
        llnull = float(np.sum(counts * (np.log(counts) - math.log(n))))
        theta = np.zeros((p, k_all - 1))
        if self.fit_intercept:  # start at the intercept-only MLE: log(n_k / n_b)
            theta[0] = np.delete(np.log(counts) - math.log(counts[base]), base)

        def objective(st: _State, th: np.ndarray) -> float:
            vec = th.reshape(-1, order="F")
            return st.llf - 0.5 * float(np.sum(pen * vec * vec))

        # The separation test needs all rows in one process: Dask rows only when few.
        lp_rows = n * (k_all - 1)
        testable = not lazy or lp_rows <= _AUTO_LP_CONSTRAINTS
        if self.check_separation is True and not testable:
            raise ValueError(
                f"{fn}: check_separation=True cannot run on these Dask data: the separation "
                f"test is a linear program over all n·(K−1) = {lp_rows} constraints in one "
                f"process, run on Dask data only up to {_AUTO_LP_CONSTRAINTS}; pass "
                "check_separation='auto' (the fit then says when it could not rule separation "
                "out) or False"
            )
        gathered: list[tuple[np.ndarray, np.ndarray]] = []

        def separation() -> _Separation | None:
            if isinstance(data, _Data):
                return _separation(data.x, data.codes, k_all, base, categories, names)
            if not gathered:
                gathered.append(data.gather())
            return _separation(*gathered[0], k_all, base, categories, names)

        if not lazy:
            data = _Data.of(x, codes, k_all)
        state = _evaluate(data, theta, base, derivatives=True)
        f = objective(state, theta)
        converged = False
        trouble: str | None = None
        checked = untested = False
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
                untested = not testable
                sep = separation() if testable else None
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
        condition = math.nan
        if alpha == 0 and may_check and trouble is None and converged:
            condition = _condition(info)
        suspect = alpha == 0 and may_check and (
            trouble is not None or not converged or condition > _SUSPECT_CONDITION
        )
        if (suspect or (alpha == 0 and self.check_separation is True)) and not checked:
            untested = not testable
            sep = separation() if testable else None
            if sep is not None:
                raise SeparationError(_separation_message(sep, False), sep.kind,
                                      sep.categories, sep.features)
        untested_note = (
            f"; separation could not be ruled out: its test is a linear program over all "
            f"n·(K−1) = {lp_rows} constraints in one process, run on Dask data only up to "
            f"{_AUTO_LP_CONSTRAINTS} (fit a sample in memory to test it, or use penalty='l2')"
        ) if untested else ""
        if trouble == "singular":
            found = "separation could not be tested" if untested else \
                "no separation was found"
            raise ValueError(
                f"{fn}: the information matrix became singular at iteration {n_iter} "
                f"(fitted probabilities of exactly 0 or 1) and {found}; the "
                "features are probably extreme in scale or nearly collinear: rescale X, or "
                f"use penalty='l2'{untested_note}"
            )
        if alpha > 0 and (self.check_separation is True or (
                self.check_separation == "auto" and lp_rows <= _AUTO_LP_CONSTRAINTS)):
            sep = separation()
            if sep is not None:
                warnings.warn(_separation_message(sep, True), SeparationWarning, stacklevel=2)
        if untested and converged:
            # The symptoms that trigger the test in memory: many iterations (the estimates
            # drift towards infinity while ℓ flattens), or a nearly singular information.
            why = (f"the information matrix at the estimate is nearly singular (condition "
                   f"number {condition:.3g})" if condition > _SUSPECT_CONDITION else
                   f"Newton's method needed {n_iter} iterations (more than "
                   f"{_SEPARATION_AFTER})")
            warnings.warn(
                f"{fn}: {why}, a symptom of separated categories (estimates that diverge, "
                f"with meaningless standard errors){untested_note}",
                SeparationWarning,
                stacklevel=2,
            )
        if not converged:
            why = ("the line search could not improve the objective" if trouble ==
                   "line search" else f"max_iter={self.max_iter} iterations were reached")
            warnings.warn(
                f"{fn}: Newton's method did not converge ({why}; Newton decrement "
                f"{math.sqrt(max(decrement, 0.0)):.3g} > tol={self.tol:g}); the estimates and "
                f"standard errors may be inaccurate{untested_note}",
                ConvergenceWarning,
                stacklevel=2,
            )

        cov = _chol_inverse(np.linalg.cholesky(info))
        self._store(data if lazy else data.x, codes, names, frame_names, categories, base,
                    yname, theta, cov, state.llf, llnull, converged, n_iter)
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

    def _store(self, x: Any, codes: np.ndarray | None, names: list[str],
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
        if design.x.shape[1] != self._theta.shape[0]:
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
            A lazy Dask array (one task per row chunk) when ``X`` is a Dask array or
            DataFrame; a non-finite feature raises when it is computed, naming its row
            (a Dask DataFrame's: the partition and the row within it).

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).predict_proba(x[:2]).sum(axis=1)
        array([1., 1.])
        """
        if _dask_kind(X) is not None:
            return self._proba_dask(X, "predict_proba")
        x = self._prepare_new(X, "predict_proba")
        return base_softmax(x @ self._theta, axis=-1, base=self._base_pos)

    def _proba_dask(self, X: Any, what: str) -> Any:
        """Lazy probabilities of a Dask array or DataFrame: one task per row chunk."""
        import dask
        import dask.array as da

        self._check_fitted(what)
        fn = f"{_FN}.{what}"
        k_all = self.categories_.shape[0]
        args = (self._theta, self._base_pos, bool(self.fit_intercept), fn)
        kind = _dask_kind(X)
        if kind == "frame":
            names_in = getattr(self, "feature_names_in_", None)
            if names_in is not None:
                missing = [c for c in names_in if c not in [str(v) for v in X.columns]]
                if missing:
                    raise ValueError(f"{fn}: X lacks the fitted column(s) {missing}")
                X = X[list(names_in)]
            names = [str(c) for c in X.columns]
            _check_frame_dtypes(names, X.dtypes, "pandas", fn)
            if len(names) != self.n_features_in_:
                raise ValueError(f"{fn}: X has {len(names)} features; the model was fitted "
                                 f"with {self.n_features_in_}")
            task = dask.delayed(_proba_partition, pure=True)
            parts = [da.from_delayed(task(part, *args, names, i), shape=(math.nan, k_all),
                                     dtype=np.float64)
                     for i, part in enumerate(X.to_delayed())]
            return da.concatenate(parts, axis=0)
        if kind != "array" or X.ndim != 2:
            raise ValueError(f"{fn}: X has shape {X.shape}; expected a 2-D Dask array "
                             "(n_samples, n_features) or a Dask DataFrame")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"{fn}: X has {X.shape[1]} features; the model was fitted with "
                             f"{self.n_features_in_}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: X has dtype {X.dtype}; expected numbers")
        X = X.rechunk({1: -1})
        return X.map_blocks(_proba_block, *args, None, chunks=(X.chunks[0], (k_all,)),
                            dtype=np.float64, meta=np.empty((0, 0)))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable category of each row (labels from ``categories_``); a lazy Dask
        array for Dask ``X``.

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
        if _dask_kind(proba) is not None:
            cats = self.categories_
            return proba.map_blocks(_argmax_labels, cats, drop_axis=1, dtype=cats.dtype,
                                    meta=np.empty((0,), dtype=cats.dtype))
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
        feat = np.arange(int(self.fit_intercept), p)
        jn = feat.size
        if jn == 0:
            raise ValueError(f"{_FN}.marginal_effects: the model has no features besides the "
                             "intercept")
        if isinstance(x, _DaskData):
            # Both are reductions over the rows: the column means came with the fit's first
            # pass; the average effects are one more pass over the chunks.
            if at == "mean":
                n = 1
                me, jac1, jac2 = _me_accumulate(x.colmean[None, :], self._theta, base, feat)
            else:
                n = x.n
                # (copies: results that come back from a cluster may be read-only buffers)
                me, jac1, jac2 = (np.array(a) for a in x.me_sums(self._theta, base, feat))
        else:
            rows = x.mean(axis=0, keepdims=True) if at == "mean" else x
            n = rows.shape[0]
            me, jac1, jac2 = _me_accumulate(rows, self._theta, base, feat)
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
