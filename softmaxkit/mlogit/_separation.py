"""Separation detection: the linear program that says whether the MLE exists, and when a fit
runs it and what the fit then says.

When the categories are separated by the features (Albert & Anderson 1984) the log-likelihood
rises towards a supremum it never attains and some coefficients diverge. An unpenalised fit
tests for it when Newton's method is slow or ends at a (nearly) singular information matrix,
and raises :class:`~softmaxkit.mlogit.SeparationError`; a penalised fit exists and warns with
:class:`~softmaxkit.mlogit.SeparationWarning`. The test needs all rows in one process, so on
Dask data it runs only up to :data:`_AUTO_LP_CONSTRAINTS` constraints, and beyond that the fit
says what it could not rule out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.newton import condition
from softmaxkit._base.optional import require
from softmaxkit._base.separation import MARGIN_TOL, separating_direction
from softmaxkit.mlogit._design import _FN, _label_text, _plain, _Problem
from softmaxkit.mlogit._newton import _not_converged, _Outcome
from softmaxkit.mlogit.errors import ConvergenceWarning, SeparationError, SeparationWarning

# Newton iterations after which a fit that has not converged is tested for separation.
_SEPARATION_AFTER = 10
# With a penalty, the separation test runs by default only up to this many LP constraints.
_AUTO_LP_CONSTRAINTS = 100_000
# Information matrices more ill-conditioned than this at "convergence" are tested for
# separation: diverging coefficients make the fitted probabilities 0 or 1 in some direction.
_SUSPECT_CONDITION = 1e12


@dataclass
class _Separation:
    """What the LP found: the kind of separation, the categories and the parameters."""

    kind: str  # "complete" or "quasi-complete"
    categories: list[Any]  # perfectly predicted categories
    counts: dict[Any, tuple[int, int]]  # category -> (perfectly predicted, observations)
    features: list[str]  # parameters that move along the direction


def _separation(x: np.ndarray, codes: np.ndarray, k_all: int, base: int,
                categories: np.ndarray, names: Sequence[str]) -> _Separation | None:
    """Linear-programming test for separation (Albert & Anderson 1984; Konis 2007): the
    margins of the multinomial logit, handed to the shared LP
    (:func:`softmaxkit._base.separation.separating_direction`).

    The MLE fails to exist exactly when a direction ``D`` (base column 0) has
    ``x_iᵀ(d_{y_i} − d_k) ≥ 0`` for every observation ``i`` and category ``k ≠ y_i``, with
    some inequality strict: moving along ``D`` never lowers any fitted probability of an
    observed category, so ℓ rises towards its supremum without attaining it. The LP maximises
    the sum of these margins over ``−1 ≤ D ≤ 1``; separation is *complete* when a second LP
    finds a direction with every margin strictly positive (then ℓ → 0).
    Returns None when the data overlap (the MLE exists).
    """
    from scipy.sparse import coo_array  # the caller checked SciPy (_SeparationCheck._find)

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
    found = separating_direction(margins)
    if found is None:
        return None
    d, complete = found.direction, found.complete
    mg = found.margins.reshape(n, k_all - 1)
    perfect = (mg > MARGIN_TOL).all(axis=1)
    counts: dict[Any, tuple[int, int]] = {}
    for k in range(k_all):
        mine = codes == k
        counts[_plain(categories[k])] = (int(perfect[mine].sum()), int(mine.sum()))
    cats = [_plain(c) for c, (hit, _) in counts.items() if hit > 0]
    if not cats:  # a direction that only excludes categories: name the ones it moves
        involved = np.zeros(k_all, dtype=bool)
        i_pos, k_pos = np.nonzero(mg > MARGIN_TOL)
        involved[codes[i_pos]] = True
        involved[others[i_pos, k_pos]] = True
        cats = [_plain(categories[k]) for k in np.flatnonzero(involved)]
    moving = np.abs(d.reshape(k_all - 1, p)).max(axis=0) > MARGIN_TOL
    feats = [names[j] for j in np.flatnonzero(moving)]
    return _Separation("complete" if complete else "quasi-complete", cats, counts, feats)


def _separation_message(sep: _Separation, penalized: bool) -> str:
    """The SeparationError message (unpenalised), or the SeparationWarning's (penalised)."""
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


class _SeparationCheck:
    """The separation test of one fit: when it runs, on which rows, and what the fit says.

    An unpenalised fit is tested once, by :meth:`during` when Newton's method is still
    iterating after :data:`_SEPARATION_AFTER` steps, or by :meth:`verdict` when it ended in
    trouble or at a nearly singular information matrix (or always, ``check_separation=True``).
    """

    def __init__(self, mode: bool | str, alpha: float, problem: _Problem, base: int,
                 fn: str) -> None:
        self.mode = mode  # check_separation: "auto", True or False
        self.alpha = alpha
        self.problem = problem
        self.base = base
        self.fn = fn
        # The separation test needs all rows in one process: Dask rows only when few.
        self.lp_rows = problem.n * (problem.k - 1)
        self.testable = problem.in_memory or self.lp_rows <= _AUTO_LP_CONSTRAINTS
        if mode is True and not self.testable:
            raise ValueError(
                f"{fn}: check_separation=True cannot run on these Dask data: the separation "
                f"test is a linear program over all n·(K−1) = {self.lp_rows} constraints in "
                f"one process, run on Dask data only up to {_AUTO_LP_CONSTRAINTS}; pass "
                "check_separation='auto' (the fit then says when it could not rule separation "
                "out) or False"
            )
        self.checked = False  # the unpenalised test ran during the iteration
        self.untested = False  # the test was due but the rows are too many to gather
        self._gathered: tuple[np.ndarray, np.ndarray] | None = None
        # Why the test could not run although it was due (SciPy missing), else None: the
        # fit then says so once, instead of returning as if the data overlapped.
        self.no_lp: str | None = None

    def _find(self) -> _Separation | None:
        """Run the LP on all rows (Dask rows gathered into this process once); None when the
        data overlap, or when SciPy, which solves the LP, is missing (noted in ``no_lp``)."""
        try:
            require("scipy.sparse", fn="the separation test")
            require("scipy.optimize", fn="the separation test")
        except ImportError as exc:
            self.no_lp = str(exc)
            return None
        p = self.problem
        if p.in_memory:
            x, codes = p.rows, p.codes
        else:
            if self._gathered is None:
                self._gathered = p.rows.gather()
            x, codes = self._gathered
        return _separation(x, codes, p.k, self.base, p.categories, p.names)

    def _test(self) -> None:
        """The unpenalised test: raise :class:`SeparationError` if the data are separated."""
        self.untested = not self.testable
        sep = self._find() if self.testable else None
        if sep is not None:
            raise SeparationError(_separation_message(sep, False), sep.kind, sep.categories,
                                  sep.features)

    def during(self, n_iter: int) -> None:
        """Before each Newton step: an unpenalised fit not converged after
        :data:`_SEPARATION_AFTER` iterations is tested (once)."""
        if (n_iter >= _SEPARATION_AFTER and not self.checked and self.alpha == 0
                and self.mode is not False):
            self.checked = True
            self._test()

    def verdict(self, fit: _Outcome, tol: float, max_iter: int) -> list[tuple[str, type]]:
        """After the Newton loop: raise :class:`SeparationError` (an unpenalised fit with the
        symptoms of separation, and separated data) or ``ValueError`` (a singular information
        matrix); else the warnings the fit owes, in order, as ``(message, category)``."""
        alpha, fn = self.alpha, self.fn
        may_check = self.mode is not False
        cond = math.nan
        if alpha == 0 and may_check and fit.trouble is None and fit.converged:
            cond = condition(fit.info)
        suspect = alpha == 0 and may_check and (
            fit.trouble is not None or not fit.converged or cond > _SUSPECT_CONDITION
        )
        if (suspect or (alpha == 0 and self.mode is True)) and not self.checked:
            self._test()
        untested_note = (
            f"; separation could not be ruled out: its test is a linear program over all "
            f"n·(K−1) = {self.lp_rows} constraints in one process, run on Dask data only up to "
            f"{_AUTO_LP_CONSTRAINTS} (fit a sample in memory to test it, or use penalty='l2')"
        ) if self.untested else ""
        if self.no_lp is not None:
            untested_note += f"; separation was not tested: {self.no_lp}"
        if fit.trouble == "singular":
            found = "separation could not be tested" if (
                self.untested or self.no_lp is not None) else "no separation was found"
            raise ValueError(
                f"{fn}: the information matrix became singular at iteration {fit.n_iter} "
                f"(fitted probabilities of exactly 0 or 1) and {found}; the "
                "features are probably extreme in scale or nearly collinear: rescale X, or "
                f"use penalty='l2'{untested_note}"
            )
        said: list[tuple[str, type]] = []
        if alpha > 0 and (self.mode is True or (
                self.mode == "auto" and self.lp_rows <= _AUTO_LP_CONSTRAINTS)):
            sep = self._find()
            if sep is not None:
                said.append((_separation_message(sep, True), SeparationWarning))
        if self.untested and fit.converged:
            # The symptoms that trigger the test in memory: many iterations (the estimates
            # drift towards infinity while ℓ flattens), or a nearly singular information.
            why = (f"the information matrix at the estimate is nearly singular (condition "
                   f"number {cond:.3g})" if cond > _SUSPECT_CONDITION else
                   f"Newton's method needed {fit.n_iter} iterations (more than "
                   f"{_SEPARATION_AFTER})")
            said.append((f"{fn}: {why}, a symptom of separated categories (estimates that "
                         f"diverge, with meaningless standard errors){untested_note}",
                         SeparationWarning))
        if self.no_lp is not None and fit.converged:
            # Said once per fit (a non-converged fit says it in its ConvergenceWarning).
            risk = ("some estimates may be determined by the penalty alone" if alpha > 0
                    else "these estimates may diverge (separated categories) without an error")
            said.append((f"{fn}: separation was not checked, so {risk}: {self.no_lp}",
                         SeparationWarning))
        if not fit.converged:
            said.append((_not_converged(fit, tol, max_iter, fn) + untested_note,
                         ConvergenceWarning))
        return said
