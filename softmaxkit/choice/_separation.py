"""Separation in the conditional logit: does the maximum-likelihood estimate exist?

The margins of group ``g`` are ``(d_{g,c_g} − d_{gk})ᵀ δ`` for every available alternative
``k`` other than the chosen ``c_g`` (``d`` the design rows): a direction ``δ`` with every margin
≥ 0 and some > 0 raises every chosen alternative's utility against every other, so ℓ rises
towards a supremum that no finite estimate attains. The margins matrix goes to the shared
linear program :func:`softmaxkit._base.separation.separating_direction`, as
:class:`~softmaxkit.MultinomialLogit` does with its own margins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.separation import MARGIN_TOL, separating_direction
from softmaxkit._base.tables import plain_label
from softmaxkit.choice._data import _Long
from softmaxkit.choice._likelihood import _Layout, design
from softmaxkit.mlogit import SeparationError

# Newton iterations after which a fit still iterating is tested for separation.
SEPARATION_AFTER = 10
# An information matrix more ill-conditioned than this at "convergence" is tested.
SUSPECT_CONDITION = 1e12


@dataclass
class _Found:
    kind: str
    alternatives: list[Any]
    counts: dict[Any, tuple[int, int]]
    params: list[str]


def find_separation(long: _Long, lay: _Layout, alternatives: np.ndarray,
                    names: list[str]) -> _Found | None:
    """Run the LP on the margins of the conditional logit; None when the data overlap."""
    from scipy.sparse import csr_array

    d = design(long, lay)  # (G, J, m)
    g, j, _ = d.shape
    rows = np.arange(g)
    diff = d[rows, long.chosen][:, None, :] - d  # (G, J, m)
    keep = long.avail.copy()
    keep[rows, long.chosen] = False
    margins = diff[keep]  # (pairs, m)
    if margins.shape[0] == 0:
        return None
    scale = np.abs(margins).max(axis=0)
    scale[scale == 0] = 1.0
    found = separating_direction(csr_array(margins / scale))
    if found is None:
        return None
    group_of = np.broadcast_to(rows[:, None], (g, j))[keep]
    positive = np.zeros(g, dtype=bool)
    # A group is perfectly predicted when all its margins are strictly positive.
    all_pos = np.ones(g, dtype=bool)
    np.logical_and.at(all_pos, group_of, found.margins > MARGIN_TOL)
    positive[:] = all_pos
    counts: dict[Any, tuple[int, int]] = {}
    for k in range(j):
        mine = long.chosen == k
        if mine.any():
            counts[plain_label(alternatives[k])] = (int(positive[mine].sum()), int(mine.sum()))
    alts = [a for a, (hit, _) in counts.items() if hit > 0]
    moving = np.abs(found.direction) > MARGIN_TOL
    params = [names[i] for i in np.flatnonzero(moving)]
    return _Found("complete" if found.complete else "quasi-complete", alts, counts, params)


def separation_error(found: _Found, fn: str) -> SeparationError:
    parts = [f"alternative {a!r} ({found.counts[a][0]} of its {found.counts[a][1]} choices "
             "perfectly predicted)" for a in found.alternatives]
    who = "; ".join(parts) if parts else "no choice perfectly predicted"
    params = ", ".join(repr(p) for p in found.params)
    return SeparationError(
        f"{fn}.fit: the maximum-likelihood estimate does not exist — {found.kind} separation: "
        f"{who}. Along a direction of the coefficients of {params} the log-likelihood keeps "
        "increasing towards a supremum it never attains (the coefficients diverge). Drop or "
        "merge the separating variable(s) or alternative(s).",
        found.kind, found.alternatives, found.params)


def unidentified(info: np.ndarray, names: list[str]) -> list[str] | None:
    """The parameters of a combination that the data cannot move (a null direction of the
    information at the start), or None when the information is nonsingular."""
    dg = np.sqrt(np.clip(np.diag(info), 0.0, None))
    zero = dg <= 1e-12 * max(1.0, float(dg.max(initial=0.0)))
    if zero.any():
        return [names[i] for i in np.flatnonzero(zero)]
    scaled = info / np.outer(dg, dg)
    w, vec = np.linalg.eigh(scaled)
    if w[0] > 1e-10 * max(1.0, w[-1]):
        return None
    v = vec[:, 0]
    return [names[i] for i in np.flatnonzero(np.abs(v) > 0.05 * np.abs(v).max())]
