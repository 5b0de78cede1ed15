"""Stacking weights: softmaxkit's exact active-set Newton solver against ArviZ's formulation.

Run from the repository root (SciPy needed; ArviZ is not: its optimisation is reproduced)::

    python benchmarks/peers/bayes_stacking.py [--quick]

ArviZ 0.23.4 (``arviz.stats.stats._calculate_weights``, ``method="stacking"``) maximises
``Σ_i log Σ_k w_k exp(lpd_ik)`` with ``scipy.optimize.minimize`` (SLSQP, its default
tolerance) over the first K−1 weights, the last one ``max(1 − Σ, 0)``, starting from 1/K,
with its analytic gradient. The same formulation is timed here, vectorised (ArviZ loops over
the observations in Python, so this is faster than ArviZ itself). For each size the table
shows the time per call, the objective gained by softmaxkit over SLSQP
(``F_ours − F_slsqp``, ≥ 0 means ours is at least as good), and each method's largest KKT
violation ``max_k (g_k − n)⁺`` over all models plus ``max |g_k − n|`` on the support,
relative to n (0 at the exact optimum).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _harness as h

h.use_working_tree()

from softmaxkit.bayes import stacking_weights  # noqa: E402


def _lpd(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Pointwise lpd of k Gaussian one-component models on data from a 3-component mixture."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(c, 1.0, n // 3 + 1) for c in (-3.0, 0.0, 3.0)])[:n]
    centres = np.linspace(-4.0, 4.0, k)
    return -0.5 * (y[:, None] - centres) ** 2 - 0.5 * np.log(2 * np.pi)


def _slsqp(lpd: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    e = np.exp(lpd)
    k = e.shape[1]

    def full(w: np.ndarray) -> np.ndarray:
        return np.concatenate((w, [max(1.0 - np.sum(w), 0.0)]))

    def score(w: np.ndarray) -> float:
        return -float(np.sum(np.log(e @ full(w))))

    def grad(w: np.ndarray) -> np.ndarray:
        s = e @ full(w)
        g = -(e / s[:, None]).sum(axis=0)
        return g[:-1] - g[-1]

    cons = [{"type": "ineq", "fun": lambda x: -np.sum(x) + 1}, {"type": "ineq", "fun": np.sum}]
    res = minimize(score, np.full(k - 1, 1.0 / k), jac=grad, bounds=[(0.0, 1.0)] * (k - 1),
                   constraints=cons)
    return full(res["x"])


def _objective(lpd: np.ndarray, w: np.ndarray) -> float:
    w = np.clip(w, 0, None) / np.clip(w, 0, None).sum()
    return float(np.sum(np.log(np.exp(lpd) @ w)))


def _kkt(lpd: np.ndarray, w: np.ndarray) -> float:
    w = np.clip(w, 0, None) / np.clip(w, 0, None).sum()
    n = lpd.shape[0]
    e = np.exp(lpd)
    g = (e / (e @ w)[:, None]).sum(axis=0)
    on = w > 0
    return float(max(np.max(np.maximum(g - n, 0)), np.max(np.abs(g[on] - n))) / n)


def run(args: object) -> int:
    quick = getattr(args, "quick", False)
    budget = h.QUICK_BUDGET if quick else h.FULL_BUDGET
    sizes = [(50, 4), (1000, 8)] if quick else [(50, 4), (1000, 8), (10000, 8), (10000, 30)]
    table = h.Table(["n x K", "ours ms", "SLSQP ms", "ratio", "F_ours - F_slsqp",
                     "KKT ours", "KKT SLSQP", "zeros ours", "zeros SLSQP"],
                    right_align=frozenset(range(1, 9)))
    for n, k in sizes:
        lpd = _lpd(n, k)
        ours, theirs = stacking_weights(lpd), _slsqp(lpd)
        t = h.time_interleaved({"ours": lambda m=lpd: stacking_weights(m),
                                "slsqp": lambda m=lpd: _slsqp(m)}, budget)
        a, b = t["ours"].min, t["slsqp"].min
        table.add([f"{n} x {k}", h.fmt_ms(a), h.fmt_ms(b), h.fmt_ratio(b / a),
                   f"{_objective(lpd, ours) - _objective(lpd, theirs):.3g}",
                   f"{_kkt(lpd, ours):.2g}", f"{_kkt(lpd, theirs):.2g}",
                   str(int((ours == 0).sum())), str(int((theirs == 0).sum()))])
    print(table.render(getattr(args, "markdown", False)))
    return 0


if __name__ == "__main__":
    raise SystemExit(h.standalone_main(__doc__, lambda p: None, lambda a: None, run,
                                       packages=("scipy",)))
