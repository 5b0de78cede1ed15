r"""The pieces of Newton's method that the likelihood fits share: the line search's constants,
solves with a Cholesky factor, and the scaled condition number of an information matrix.

Used by :mod:`softmaxkit.mlogit` and :mod:`softmaxkit.choice`, whose loops have the same
constants and solves. NumPy, and SciPy's triangular solves when SciPy is installed.

Examples
--------
>>> import numpy as np
>>> info = np.array([[4.0, 2.0], [2.0, 3.0]])
>>> chol = np.linalg.cholesky(info)
>>> bool(np.allclose(chol_solve(chol, np.array([2.0, 1.0])), np.linalg.solve(info, [2.0, 1.0])))
True
>>> bool(np.allclose(chol_inverse(chol), np.linalg.inv(info)))
True
>>> condition(np.diag([1.0, 4.0])), condition(np.zeros((2, 2)))   # unit diagonal once scaled
(1.0, inf)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ARMIJO", "BLIND", "MIN_STEP", "NOISE_DECREMENT", "chol_inverse", "chol_solve",
           "condition"]

# Armijo constant and the smallest step fraction tried by the backtracking line search.
ARMIJO = 1e-4
MIN_STEP = 2.0**-30
# Squared Newton decrements (in units of standard errors²) below this that stop shrinking are
# rounding noise, so the iteration has reached the optimum to working precision.
NOISE_DECREMENT = 1e-12
# Predicted gains below this many units of roundoff of |ℓ| are invisible to a line search.
BLIND = 100 * np.finfo(np.float64).eps


def chol_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``(L Lᵀ) s = b`` given the Cholesky factor ``L`` (C-contiguous, from NumPy).

    The two triangular solves are the LAPACK ``trtrs`` calls that
    ``scipy.linalg.solve_triangular(L, b, lower=True)`` and ``(Lᵀ, ·, lower=False)`` make
    (the same routine on the same Fortran-ordered operand, so the same numbers), called
    straight from SciPy's LAPACK wrappers: ``solve_triangular`` spends about 50 µs checking
    its arguments, which a small fit (a few ms) would pay twice per Newton iteration. A
    general solve without SciPy."""
    try:
        from scipy.linalg.lapack import dtrtrs
    except ImportError:  # pragma: no cover - exercised only without SciPy
        return np.linalg.solve(chol @ chol.T, b)
    if not (np.isfinite(chol).all() and np.isfinite(b).all()):
        # what solve_triangular's finiteness check refused
        raise ValueError("array must not contain infs or NaNs")
    lt = chol.T  # Fortran-ordered L, as LAPACK reads it
    w, info = dtrtrs(lt, b, lower=0, trans=1)  # L w = b, as Lᵀ stored upper, transposed
    if info == 0:
        w, info = dtrtrs(lt, w, lower=0, trans=0)  # Lᵀ s = w
    if info > 0:
        raise np.linalg.LinAlgError(f"singular matrix: resolution failed at diagonal {info - 1}")
    if info < 0:  # pragma: no cover - an invalid argument, which cannot happen here
        raise ValueError(f"illegal value in argument {-info} of the internal trtrs")
    return w


def chol_inverse(chol: np.ndarray) -> np.ndarray:
    """``(L Lᵀ)⁻¹`` given ``L``, symmetrised: the covariance from the information's factor."""
    inv = chol_solve(chol, np.eye(chol.shape[0]))
    return (inv + inv.T) / 2.0


def condition(info: np.ndarray) -> float:
    """Condition number of the information matrix scaled to unit diagonal (inf if singular)."""
    d = np.sqrt(np.diag(info))
    if not np.all(d > 0):
        return math.inf
    w = np.linalg.eigvalsh(info / np.outer(d, d))
    return math.inf if w[0] <= 0 else float(w[-1] / w[0])
