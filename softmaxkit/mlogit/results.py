r"""Results of a fit: the labelled tables, the statistics, marginal effects and the summary.

Estimates come back as pandas DataFrames labelled by parameter and category when pandas is
installed (else NumPy arrays in the same layout); p-values use the normal and χ² survival
functions computed here with the standard library (no SciPy); :class:`MarginalEffects` holds
the delta-method effects; :func:`_summary_text` lays the fit out like statsmodels' ``MNLogit``
summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.tables import SummaryText, norm_ppf
from softmaxkit._base.tables import fmt_number as _fmt
from softmaxkit._base.tables import norm_sf2 as _norm_sf2
from softmaxkit._base.tables import pandas_or_none as _pandas
from softmaxkit.maps import logsumexp
from softmaxkit.mlogit._design import _label_text

__all__ = ["MarginalEffects", "Summary"]


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


def _labelled(values: np.ndarray, index: Any, columns: Any, *, index_name: Any = None,
              columns_name: Any = None) -> Any:
    """``values`` as a DataFrame with these labels (``values`` itself without pandas)."""
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


class Summary(SummaryText):
    """The text table returned by :meth:`MultinomialLogit.summary` (``print`` it)."""


def _flat_index(categories: np.ndarray, base: int, names: Sequence[str], yname: str) -> Any:
    """The (category, param) labels of the stacked parameters, category-major."""
    pd = _pandas()
    nonbase = np.delete(categories, base)
    pairs = [(c, name) for c in nonbase for name in names]
    if pd is None:  # pragma: no cover - exercised only without pandas
        return pairs
    return pd.MultiIndex.from_tuples(pairs, names=[yname, "param"])


def _null_llf(counts: np.ndarray, n: int) -> float:
    r"""Log-likelihood of the intercept-only model, :math:`\sum_k n_k \log(n_k/n)`."""
    return float(np.sum(counts * (np.log(counts) - math.log(n))))


def _wald_interval(theta: np.ndarray, se: np.ndarray, alpha: float) -> np.ndarray:
    r"""``[β̂ − z se, β̂ + z se]`` (:math:`z = z_{1-\alpha/2}`), stacked category-major."""
    q = norm_ppf(1.0 - alpha / 2.0)
    est = theta.reshape(-1, order="F")
    se = se.reshape(-1, order="F")
    return np.column_stack([est - q * se, est + q * se])


def _marginal_effects(at: str, sums: tuple[np.ndarray, np.ndarray, np.ndarray], n: int,
                      feat: np.ndarray, cov_params: np.ndarray, param_names: Sequence[str],
                      categories: np.ndarray, yname: str) -> MarginalEffects:
    """The effects and their delta-method covariance from the row sums of
    :func:`~._blocks._me_accumulate` over ``n`` rows (see
    :meth:`MultinomialLogit.marginal_effects`)."""
    me, jac1, jac2 = sums
    k_all, jn, km1, p = jac1.shape
    me /= n
    jac1 /= n
    jac2 /= n
    for jj, r in enumerate(feat):
        jac1[:, jj, :, r] += jac2
    jac = jac1.reshape(k_all * jn, km1 * p)
    # Effects laid out category-major: row k*J + j.
    cov = jac @ cov_params @ jac.T
    se = np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(k_all, jn)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = me / se
    pv = _norm_sf2(z)
    names = [param_names[r] for r in feat]
    cats = list(categories)

    def lab(a: np.ndarray) -> Any:
        return _labelled(a.T.copy(), names, cats, index_name="feature", columns_name=yname)

    return MarginalEffects(at, lab(me), lab(se), lab(z), lab(pv), cov)


def _summary_text(model: Any, alpha: float) -> str:
    """The summary table of a fitted :class:`MultinomialLogit` (see its ``summary``): a
    header of fit statistics, then one block of estimates per non-base category."""
    q = norm_ppf(1.0 - alpha / 2.0)
    width = 78
    penal = model.penalty == "l2" and model.alpha > 0
    left = [
        ("Dep. Variable:", model._yname),
        ("Base category:", _label_text(model.base_)),
        ("Model:", "MultinomialLogit"),
        ("Method:", "Newton, L2 penalty" if penal else "MLE (Newton)"),
        ("Penalty alpha:" if penal else "Categories:",
         f"{model.alpha:g}" if penal else str(len(model.categories_))),
        ("converged:", str(model.converged_)),
        ("Iterations:", str(model.n_iter_)),
    ]
    right = [
        ("No. Observations:", f"{model.nobs_}"),
        ("Df Residuals:", f"{model.df_resid_}"),
        ("Df Model:", f"{model.df_model_}"),
        ("Pseudo R-squ.:", f"{model.prsquared_:.4f}"),
        ("Log-Likelihood:", f"{model.llf_:.5g}"),
        ("LL-Null:", f"{model.llnull_:.5g}"),
        ("LLR p-value:", f"{model.llr_pvalue_:#.4g}"),
    ]
    lines = ["Multinomial Logit Regression Results".center(width).rstrip(), "=" * width]
    for (lk, lv), (rk, rv) in zip(left, right, strict=True):
        # A long label pushes the right half along rather than being cut.
        lines.append(f"{lk:<18}{lv:>20}   {rk:<18}{rv:>19}" if len(lv) <= 20 else
                     f"{lk} {lv}   {rk:<18}{rv:>19}")
    lines.append(f"{'AIC:':<18}{model.aic_:>20.4f}   {'BIC:':<18}{model.bic_:>19.4f}")
    lines.append("=" * width)
    lo, hi = f"[{alpha / 2:.3f}", f"{1 - alpha / 2:.3f}]"
    nonbase = np.delete(model.categories_, model._base_pos)
    for k, cat in enumerate(nonbase):
        head = f"{model._yname}={_label_text(cat)}"
        if len(head) > 16:  # on a line of its own rather than cut
            lines.append(head)
            head = ""
        lines.append(f"{head:>16}{'coef':>11}{'std err':>11}{'z':>11}{'P>|z|':>11}"
                     f"{lo:>9}{hi:>9}")
        lines.append("-" * width)
        for j, name in enumerate(model.param_names_):
            b, s = model._theta[j, k], model._bse[j, k]
            label = name if len(name) <= 16 else name[:13] + "..."
            lines.append(
                f"{label:<16}{_fmt(b, 11, 4)}{_fmt(s, 11, 3)}{_fmt(model._z[j, k], 11, 3)}"
                f"{model._pv[j, k]:>11.3f}{_fmt(b - q * s, 9, 3)}"
                f"{_fmt(b + q * s, 9, 3)}"
            )
        lines.append("-" * width if k < len(nonbase) - 1 else "=" * width)
    if penal:
        lines.append("Standard errors from the penalised information (not sampling "
                     "errors).")
    if not model.converged_:
        lines.append("Warning: Newton's method did not converge.")
    return "\n".join(lines)
