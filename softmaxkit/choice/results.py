r"""Results of a choice-model fit: the summary table and the elasticities.

The summary is laid out like statsmodels' and R ``mlogit``'s: the fit statistics, then one
line per parameter with its estimate, standard error, z, p-value and Wald interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.tables import SummaryText, fmt_number

__all__ = ["Elasticities", "Summary"]


class Summary(SummaryText):
    """The text table returned by :meth:`ConditionalLogit.summary` (``print`` it).

    Examples
    --------
    >>> print(Summary("a table"))
    a table
    """


def summary_text(title: str, left: list[tuple[str, str]], right: list[tuple[str, str]],
                 names: list[str], values: np.ndarray, se: np.ndarray, z: np.ndarray,
                 pv: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float) -> str:
    """The summary: a two-column header of statistics, then the parameter table."""
    width = 78
    lines = [title.center(width), "=" * width]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ("", "")
        b = right[i] if i < len(right) else ("", "")
        lines.append(f"{a[0]:<20}{a[1]:>18}   {b[0]:<20}{b[1]:>17}".rstrip())
    lines.append("=" * width)
    name_w = max(16, *(len(n) + 1 for n in names)) if names else 16
    lq, hq = f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"
    lines.append(" " * name_w + f"{'coef':>10}{'std err':>11}{'z':>9}{'P>|z|':>9}"
                 f"{lq:>11}{hq:>11}")
    lines.append("-" * max(width, name_w + 61))
    for i, name in enumerate(names):
        lines.append(f"{name:<{name_w}}" + fmt_number(values[i], 10, 4)
                     + fmt_number(se[i], 11, 3) + fmt_number(z[i], 9, 3) + f"{pv[i]:9.3f}"
                     + fmt_number(lo[i], 11, 3) + fmt_number(hi[i], 11, 3))
    lines.append("=" * max(width, name_w + 61))
    return "\n".join(lines)


@dataclass(frozen=True)
class Elasticities:
    r"""Elasticities of the choice probabilities with respect to one variable.

    For a generic (alternative) variable ``x`` with coefficient β, the elasticity of
    :math:`P_i` with respect to :math:`x_h` (own: ``i = h``; cross: ``i ≠ h``) is

    * conditional logit: :math:`\beta x_h (\delta_{ih} - P_h)`;
    * nested logit (RU2, ``i`` in nest ``c``):
      :math:`\beta x_h \big(\delta_{ih}/\lambda_c + (1 - 1/\lambda_c) P_{h|c}[h \in c]
      - P_h\big)`.

    For an individual variable ``z`` with coefficients :math:`\gamma_i` (0 for the base),
    the elasticity of :math:`P_i` is :math:`z(\gamma_i - \sum_h P_h\gamma_h)` (conditional)
    and :math:`z(\gamma_i/\lambda_c + (1 - 1/\lambda_c)\sum_{h\in c}P_{h|c}\gamma_h -
    \sum_h P_h \gamma_h)` (nested).

    Attributes
    ----------
    variable : str
        The variable.
    kind : str
        ``"alternative"`` (a generic variable) or ``"individual"``.
    average : DataFrame or Series (numpy.ndarray without pandas)
        The disaggregate elasticities averaged over the groups in which the alternatives are
        available: for a generic variable alternatives × alternatives, row ``i`` the
        probability, column ``h`` the alternative whose ``x`` changes; for an individual
        variable one value per alternative. NaN for a pair of alternatives that no group
        has available together (no elasticity exists there).
    at_mean : DataFrame or Series
        The elasticities at the mean covariates of each alternative (every alternative
        available), as R's ``mlogit::effects`` computes them by default; same layout.
    disaggregate : DataFrame or numpy.ndarray
        One row per group and available pair: columns ``group``, ``alternative`` (whose
        probability), ``wrt`` (whose ``x``; absent for an individual variable) and
        ``elasticity``.

    Examples
    --------
    >>> import pandas as pd
    >>> from softmaxkit.choice import ConditionalLogit
    >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3], "alt": ["a", "b"] * 3,
    ...                      "choice": [1, 0, 0, 1, 1, 0],
    ...                      "x": [0.0, 1.0, 1.0, 0.0, 0.5, 0.0]})
    >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)
    >>> e = model.elasticities(data, "x")
    >>> beta, p = model.params_["x"], model.predict_proba(data)
    >>> own = e.disaggregate.query("alternative == wrt")["elasticity"].to_numpy()
    >>> bool(np.allclose(own, beta * data["x"] * (1 - p)))    # β x_i (1 − P_i)
    True
    """

    variable: str
    kind: str
    average: Any
    at_mean: Any
    disaggregate: Any
