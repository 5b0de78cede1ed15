"""The Newton loop: Newton's method with a backtracking line search on the (penalised)
log-likelihood, from the intercept-only solution.

Each iteration solves ``H s = g`` by Cholesky (``H`` the penalised information, ``g`` the
penalised gradient, both from one pass of block sums) and stops when the Newton decrement
``√(gᵀ H⁻¹ g)`` — the remaining step in standard errors — is at most ``tol``, or when a tiny
decrement no longer shrinks (rounding noise: the optimum to working precision). The loop
knows nothing of separation: the fit hands it a callable that runs before every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.newton import ARMIJO, BLIND, MIN_STEP, NOISE_DECREMENT, chol_solve
from softmaxkit.mlogit._blocks import _evaluate, _State


def _penalty_weights(alpha: float, p: int, k_all: int, fit_intercept: bool) -> np.ndarray:
    """The L2 penalty's weight of each stacked parameter: ``alpha``, 0 for the intercepts."""
    pen = np.ones((p, k_all - 1))
    if fit_intercept:
        pen[0] = 0.0
    return alpha * pen.reshape(-1, order="F")


def _start(counts: np.ndarray, base: int, p: int, fit_intercept: bool) -> np.ndarray:
    """The starting parameters ``(p, K−1)``: the intercept-only MLE ``log(n_k / n_b)`` with an
    intercept, else zeros."""
    theta = np.zeros((p, counts.shape[0] - 1))
    if fit_intercept:  # start at the intercept-only MLE: log(n_k / n_b)
        theta[0] = np.delete(np.log(counts) - math.log(counts[base]), base)
    return theta


def _objective(st: _State, th: np.ndarray, pen: np.ndarray) -> float:
    """The penalised log-likelihood ``ℓ − ½ Σ pen·θ²`` at ``th`` (``st`` evaluated there)."""
    vec = th.reshape(-1, order="F")
    return st.llf - 0.5 * float(np.sum(pen * vec * vec))


@dataclass
class _Outcome:
    """Where the Newton loop stopped."""

    theta: np.ndarray  # (p, K−1) estimate
    state: _State  # ℓ, gradient and information at theta (unpenalised)
    info: np.ndarray  # the penalised information at theta
    converged: bool
    trouble: str | None  # "singular" (no Cholesky / non-finite step), "line search", or None
    n_iter: int
    decrement: float  # the last squared Newton decrement


def _newton(data: Any, theta: np.ndarray, base: int, pen: np.ndarray, *, tol: float,
            max_iter: int, before_step: Callable[[int], None]) -> _Outcome:
    """Newton's method from ``theta`` on the rows ``data`` (see :func:`~._blocks._evaluate`);
    ``before_step(n_iter)`` runs before every step (it may raise to end the fit)."""
    state = _evaluate(data, theta, base, derivatives=True)
    f = _objective(state, theta, pen)
    converged = False
    trouble: str | None = None
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
        step = chol_solve(chol, g)
        decrement = float(g @ step)
        if not math.isfinite(decrement):
            trouble = "singular"
            break
        if math.sqrt(max(decrement, 0.0)) <= tol:
            converged = True
            break
        if decrement < NOISE_DECREMENT and decrement > 0.25 * previous:
            # Newton converges quadratically; a tiny decrement that no longer shrinks is
            # the rounding noise of the gradient: the optimum to working precision.
            converged = True
            break
        previous = decrement
        if n_iter >= max_iter:
            break
        before_step(n_iter)
        accepted = _line_search(data, theta, base, step, f, decrement, pen)
        if accepted is None:
            # No ascent is possible in floating point: we are at the optimum to working
            # precision if the predicted gain is at rounding level.
            converged = decrement <= 1e3 * np.finfo(np.float64).eps * max(1.0, abs(f))
            trouble = None if converged else "line search"
            break
        theta, state, f = accepted
        n_iter += 1
    return _Outcome(theta, state, info, converged, trouble, n_iter, decrement)


def _line_search(data: Any, theta: np.ndarray, base: int, step: np.ndarray, f: float,
                 slope: float, pen: np.ndarray) -> tuple[np.ndarray, _State, float] | None:
    """Backtracking from the full Newton step: the first trial also computes the
    derivatives (it is almost always accepted), later ones the log-likelihood only."""
    direction = step.reshape(theta.shape, order="F")
    if slope <= BLIND * max(1.0, abs(f)):
        # The predicted gain is below the rounding error of ℓ: no comparison of values
        # can judge the step, and near the optimum the full Newton step is the right one.
        trial = theta + direction
        st = _evaluate(data, trial, base, derivatives=True)
        f_new = _objective(st, trial, pen)
        return (trial, st, f_new) if math.isfinite(f_new) else None
    t = 1.0
    first = True
    while t >= MIN_STEP:
        trial = theta + t * direction
        with np.errstate(over="ignore", invalid="ignore"):
            st = _evaluate(data, trial, base, derivatives=first)
        f_new = _objective(st, trial, pen)
        if math.isfinite(f_new) and f_new >= f + ARMIJO * t * slope and f_new >= f:
            if not first:
                st = _evaluate(data, trial, base, derivatives=True)
            return trial, st, f_new
        first = False
        t /= 2.0
    return None


def _not_converged(fit: _Outcome, tol: float, max_iter: int, fn: str) -> str:
    """What the ConvergenceWarning says of a fit that stopped short of ``tol``."""
    why = ("the line search could not improve the objective" if fit.trouble ==
           "line search" else f"max_iter={max_iter} iterations were reached")
    return (f"{fn}: Newton's method did not converge ({why}; Newton decrement "
            f"{math.sqrt(max(fit.decrement, 0.0)):.3g} > tol={tol:g}); the estimates and "
            "standard errors may be inaccurate")
