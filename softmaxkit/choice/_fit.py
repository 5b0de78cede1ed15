"""The estimation: Newton's method for the conditional logit, a trust region for the nested
logit, over a *source* of block sums (the rows in this process, or Dask partitions).

A source has ``sums(theta, layout, derivatives)`` returning :class:`~._likelihood._Sums`:
one pass over all groups (one Dask computation for Dask data).

*Conditional logit.* The log-likelihood is concave; Newton's method with the analytic
information and a backtracking (Armijo) line search, from β = 0 (equal shares among each
group's available alternatives), stops when the Newton decrement ``√(gᵀ H⁻¹ g)`` is at most
``tol`` (the remaining step is below ``tol`` standard errors in every direction), or when a
tiny decrement no longer shrinks (rounding noise).

*Nested logit.* Not concave in (β, λ). SciPy's ``trust-exact`` trust region with the analytic
gradient and Hessian, from the conditional fit (λ = 1, where the nested logit *is* the
conditional logit); then Newton steps as above, which meet the same criterion. Trial points
with some λ ≤ 0 have ℓ = −∞ and are rejected by the trust region.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.newton import (
    ARMIJO,
    BLIND,
    MIN_STEP,
    NOISE_DECREMENT,
    chol_inverse,
    chol_solve,
)
from softmaxkit._base.optional import require
from softmaxkit.choice._likelihood import _Layout, _Sums


@dataclass
class _Outcome:
    theta: np.ndarray
    state: _Sums  # ℓ, gradient and information at theta
    converged: bool
    trouble: str | None  # "singular", "line search" or None
    n_iter: int
    decrement: float


def covariance(info: np.ndarray) -> np.ndarray | None:
    """The inverse information (symmetrised), or None when it is not positive definite."""
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return None
    return chol_inverse(chol)


def newton(source: Any, lay: _Layout, theta: np.ndarray, *, tol: float, max_iter: int,
           before_step: Callable[[int], None], state: _Sums | None = None,
           n_iter: int = 0) -> _Outcome:
    """Newton's method with a backtracking line search from ``theta``."""
    st = state if state is not None else source.sums(theta, lay, True)
    decrement = previous = math.inf
    converged = False
    trouble: str | None = None
    while True:
        try:
            chol = np.linalg.cholesky(st.info)
        except np.linalg.LinAlgError:
            trouble = "singular"
            break
        step = chol_solve(chol, st.grad)
        decrement = float(st.grad @ step)
        if not math.isfinite(decrement):
            trouble = "singular"
            break
        if math.sqrt(max(decrement, 0.0)) <= tol or (
                decrement < NOISE_DECREMENT and decrement > 0.25 * previous):
            converged = True
            break
        previous = decrement
        if n_iter >= max_iter:
            break
        before_step(n_iter)
        accepted = _line_search(source, lay, theta, step, st.llf, decrement)
        if accepted is None:
            converged = decrement <= 1e3 * np.finfo(np.float64).eps * max(1.0, abs(st.llf))
            trouble = None if converged else "line search"
            break
        theta, st = accepted
        n_iter += 1
    return _Outcome(theta, st, converged, trouble, n_iter, decrement)


def _line_search(source: Any, lay: _Layout, theta: np.ndarray, step: np.ndarray, f: float,
                 slope: float) -> tuple[np.ndarray, _Sums] | None:
    """Backtracking from the full Newton step (the first trial with the derivatives)."""
    if slope <= BLIND * max(1.0, abs(f)):
        trial = theta + step
        st = source.sums(trial, lay, True)
        return (trial, st) if math.isfinite(st.llf) else None
    t = 1.0
    first = True
    while t >= MIN_STEP:
        trial = theta + t * step
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            st = source.sums(trial, lay, first)
        if math.isfinite(st.llf) and st.llf >= f + ARMIJO * t * slope and st.llf >= f:
            if not first:
                st = source.sums(trial, lay, True)
            return trial, st
        first = False
        t /= 2.0
    return None


def trust_region(source: Any, lay: _Layout, theta: np.ndarray, *, tol: float,
                 max_iter: int, fn: str) -> _Outcome:
    """The nested logit: SciPy's ``trust-exact`` with the analytic derivatives, then Newton."""
    optimize = require("scipy.optimize", fn=f"{fn}.fit (nested logit)")
    cache: dict[bytes, _Sums] = {}

    def at(x: np.ndarray) -> _Sums:
        key = x.tobytes()
        if key not in cache:
            cache.clear()  # one point at a time: fun, jac and hess share one pass
            cache[key] = source.sums(x, lay, True)
        return cache[key]

    def fun(x: np.ndarray) -> float:
        llf = at(x).llf
        return -llf if math.isfinite(llf) else math.inf

    def jac(x: np.ndarray) -> np.ndarray:
        g = at(x).grad
        return -g if g is not None else np.zeros_like(x)

    def hess(x: np.ndarray) -> np.ndarray:
        h = at(x).info
        return h if h is not None else np.eye(x.shape[0])

    res = optimize.minimize(fun, theta, jac=jac, hess=hess, method="trust-exact",
                            options={"gtol": 1e-9, "maxiter": max_iter})
    x = np.asarray(res.x, dtype=np.float64)
    st = at(x)
    n_iter = int(res.nit)
    # Finish with Newton steps where the information is positive definite (it is at a
    # strict maximum): the same stopping rule as the conditional logit.
    return newton(source, lay, x, tol=tol, max_iter=max(max_iter, n_iter + 20),
                  before_step=lambda _: None, state=st, n_iter=n_iter)


def not_converged_message(fit: _Outcome, tol: float, max_iter: int, fn: str) -> str:
    why = {"line search": "the line search could not improve the log-likelihood",
           "singular": "the information matrix is not positive definite"}.get(
        fit.trouble or "", f"max_iter={max_iter} iterations were reached")
    dec = math.sqrt(max(fit.decrement, 0.0)) if math.isfinite(fit.decrement) else math.inf
    return (f"{fn}: the fit did not converge ({why}; Newton decrement {dec:.3g} > "
            f"tol={tol:g}); the estimates and standard errors may be inaccurate")
