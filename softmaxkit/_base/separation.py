"""The separation linear program: does a softmax model's maximum-likelihood estimate exist?

A model whose logits are linear in its parameters θ, ``u_ik = φ_ikᵀ θ`` (a multinomial logit,
vector or temperature scaling with biases), has a likelihood that rises towards a supremum
it never attains exactly when its categories are *separated* (Albert & Anderson 1984): there
is a direction ``d`` with every margin ``(φ_{i,y_i} − φ_ik)ᵀ d ≥ 0`` (observation ``i``, each
admissible category ``k ≠ y_i``) and some margin > 0. Moving along ``d`` then never lowers
the fitted probability of an observed category, so the parameters diverge. The readings build
the sparse matrix of margins of their own model (one row per pair ``(i, k)``) and ask
:func:`separating_direction` (SciPy's HiGHS; Konis 2007).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MARGIN_TOL", "Direction", "separating_direction"]

#: A margin above this counts as strictly positive (the columns are scaled to [-1, 1]).
MARGIN_TOL = 1e-6
# A margin below minus this means the LP's point is not a direction of separation.
_NEGATIVE_TOL = 1e-7


@dataclass(frozen=True)
class Direction:
    """A direction of separation found by :func:`separating_direction`.

    Attributes
    ----------
    direction : numpy.ndarray, shape (m,)
        ``d``, in the (scaled) parameter coordinates of the margins matrix, within the bounds.
    margins : numpy.ndarray, shape (rows,)
        ``A d``: every entry ≥ 0, those above :data:`MARGIN_TOL` strictly positive.
    complete : bool
        True when a direction makes *every* margin positive (complete separation: the
        log-likelihood tends to 0); ``direction`` and ``margins`` are then that direction's.
    """

    direction: np.ndarray
    margins: np.ndarray
    complete: bool


def separating_direction(margins: Any, lower: Any = -1.0) -> Direction | None:
    """A direction of separation of a model with the given margins matrix, or None.

    Parameters
    ----------
    margins : scipy.sparse array or numpy.ndarray, shape (rows, m)
        Row ``r`` holds the coefficients of the margin ``(φ_{i,y_i} − φ_ik)ᵀ d`` of one
        pair (observation, other admissible category); columns best scaled to [-1, 1].
    lower : float or array of shape (m,), default -1.0
        Lower bound of each coordinate of ``d`` (the upper bound is 1). Use 0 for a parameter
        constrained to be ≥ 0 by the fit: only directions the fit can move along count.

    Returns
    -------
    Direction or None
        None when no direction has a positive margin (the data overlap: the MLE exists), when
        the LP fails, or when SciPy is not installed (the test cannot run).

    Notes
    -----
    The first LP maximises the sum of the margins over ``lower ≤ d ≤ 1`` subject to every
    margin ≥ 0 (its optimum is 0 exactly when the data overlap); a second maximises the
    smallest margin, which is positive for complete separation.

    Examples
    --------
    Two observations of category 1 at x = 1, 2 and one of category 0 at x = −1: the slope
    separates them (one margin row per observation, coefficient ``±x``):

    >>> import numpy as np
    >>> found = separating_direction(np.array([[1.0], [2.0], [1.0]]))
    >>> found.complete, found.direction.tolist()
    (True, [1.0])
    >>> separating_direction(np.array([[1.0], [-1.0]])) is None
    True
    """
    try:
        from scipy.optimize import linprog
        from scipy.sparse import csr_array, hstack
    except ImportError:  # pragma: no cover - exercised only without SciPy
        return None
    a = csr_array(margins)
    n_rows, m = a.shape
    if n_rows == 0 or m == 0:
        return None
    lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (m,))
    bounds = [(float(b), 1.0) for b in lo]
    cost = -np.asarray(a.sum(axis=0)).ravel()
    res = linprog(cost, A_ub=-a, b_ub=np.zeros(n_rows), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return None
    d = res.x
    mg = a @ d
    if mg.max() <= MARGIN_TOL or mg.min() < -_NEGATIVE_TOL:
        return None
    # Complete separation: maximise the smallest margin s (variables d, s; s ≤ 1).
    ones = np.ones((n_rows, 1))
    res2 = linprog(np.r_[np.zeros(m), -1.0], A_ub=hstack([-a, ones]).tocsr(),
                   b_ub=np.zeros(n_rows), bounds=[*bounds, (None, 1.0)], method="highs")
    complete = res2.status == 0 and res2.x is not None and -res2.fun > MARGIN_TOL
    if complete:
        d = res2.x[:m]
        mg = a @ d
    return Direction(np.asarray(d, dtype=np.float64), np.asarray(mg, dtype=np.float64),
                     bool(complete))
