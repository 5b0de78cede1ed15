r"""The pieces of a fitted model's tables, one copy each: labels and frames as the tables read
them, two-sided normal p-values, statsmodels' number style and the printable summary.

Shared by :mod:`softmaxkit.mlogit` and :mod:`softmaxkit.choice` (one floor apart, each with its
own summary layout). Standard library and NumPy only: pandas is looked up at the point of use
and the p-values need no SciPy.

Examples
--------
>>> import numpy as np
>>> norm_sf2(np.array([0.0, 1.959963984540054, np.inf, np.nan])).round(6)
array([1.  , 0.05, 0.  ,  nan])
>>> fmt_number(0.5, 8, 3), fmt_number(12345.0, 11, 3), fmt_number(np.nan, 5, 2)
('   0.500', '  1.234e+04', '  nan')
>>> plain_label(np.str_("a")), frame_kind([1, 2])
('a', None)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SummaryText", "fmt_number", "frame_kind", "norm_ppf", "norm_sf2",
           "pandas_or_none", "plain_label"]


def pandas_or_none() -> Any:
    """The pandas module, or None without pandas (results are then NumPy arrays)."""
    try:
        import pandas
    except ImportError:  # pragma: no cover - exercised only without pandas
        return None
    return pandas


def plain_label(label: Any) -> Any:
    """A NumPy scalar label as the Python object it holds (``np.str_('a')`` → ``'a'``)."""
    return label.item() if isinstance(label, np.generic) else label


def frame_kind(obj: Any) -> str | None:
    """``"pandas"`` or ``"polars"`` for a data frame of those libraries, else None (neither
    library is imported to decide)."""
    module = type(obj).__module__.split(".")[0]
    if module == "pandas" and hasattr(obj, "columns"):
        return "pandas"
    if module == "polars" and hasattr(obj, "columns") and hasattr(obj, "schema"):
        return "polars"
    return None


def norm_sf2(z: np.ndarray) -> np.ndarray:
    r"""Two-sided normal p-values :math:`2\Phi(-|z|) = \operatorname{erfc}(|z|/\sqrt2)`
    (standard library, no SciPy): 0 at :math:`z = \pm\infty`, NaN at NaN; float64, the shape
    of ``z``."""
    flat = [math.erfc(abs(float(v)) / math.sqrt(2.0)) if not math.isnan(v) else math.nan
            for v in np.ravel(z)]
    return np.asarray(flat, dtype=np.float64).reshape(np.shape(z))


def norm_ppf(p: float) -> float:
    """The standard normal quantile :math:`\\Phi^{-1}(p)` (``statistics.NormalDist``)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def fmt_number(value: float, width: int, prec: int) -> str:
    """statsmodels' number style: fixed point in [1e-4, 1e4) (and 0), else exponent; a
    non-finite value as Python prints it; right aligned in ``width``."""
    if not np.isfinite(value):
        text = str(value)
    elif value != 0 and not 1e-4 <= abs(value) < 1e4:
        text = f"{value:.{prec}e}"
    else:
        text = f"{value:.{prec}f}"
    return text.rjust(width)


class SummaryText:
    """A finished text table: ``print`` it, or ``as_text()`` for the string.

    Examples
    --------
    >>> print(SummaryText("a table"))
    a table
    """

    def __init__(self, text: str) -> None:
        self._text = text

    def as_text(self) -> str:
        """The table as a string."""
        return self._text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return self._text
