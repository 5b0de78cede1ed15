"""Separation of the scalers with biases: does the NLL of ``softmax(w ⊙ z + b)`` have a minimum?

Vector scaling (and temperature scaling with a bias) is a softmax model linear in its
parameters θ = (w, b): the logit of class k in sample i is ``w_k z_ik + b_k`` (or ``w z_ik +
b_k`` with one shared w). Like a multinomial logit, its NLL has no minimiser when a class is
*separated*: when some direction of (w, b) — with the scales that the fit keeps ≥ 0 only
growing — never lowers any sample's margin ``u_{i,y_i} − u_ik`` and raises some. On the
shipped digits logits, class 0 is separated by its own logit alone, and an unchecked fit
drives its scale and bias towards ±∞ while reporting convergence. The margins are handed to
the shared linear program :func:`softmaxkit._base.separation.separating_direction` (the one
:class:`~softmaxkit.MultinomialLogit` uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.optional import require
from softmaxkit._base.separation import MARGIN_TOL, separating_direction
from softmaxkit.calibration.inputs import _blocks, _Logits, class_indices

# The test runs by default (check_separation="auto") up to this many LP constraints, one per
# pair (sample, other admissible class): the LP then takes under a second (10 s at 1e6).
AUTO_LP_CONSTRAINTS = 100_000


@dataclass
class _Found:
    kind: str  # "complete" or "quasi-complete"
    classes: list[int]  # classes with perfectly predicted samples (or the ones moved)
    counts: dict[int, tuple[int, int]]  # class -> (perfectly predicted, samples)
    params: list[str]  # parameters that move along the direction


def _in_memory(data: _Logits, y: Any) -> tuple[Any, Any, np.ndarray]:
    """The logits, mask and class indices in this process (Dask ones computed once)."""
    if not data.lazy:
        return data.z, data.mask, np.asarray(y)
    import dask

    z, mask, labels = dask.compute(data.z, data.mask, y)
    return z, mask, class_indices(labels, data.n, data.k, data.fn)


def find_separation(data: _Logits, y: Any, per_class: bool) -> _Found | None:
    """Run the separation LP on the logits of ``data`` and labels ``y`` (class indices).

    ``per_class``: one scale per class (vector scaling), else one shared scale (temperature
    scaling with a bias). Returns None when the classes overlap (the minimiser exists).
    """
    # The LP needs SciPy; a missing SciPy is said in one line naming the extra.
    coo_array = require("scipy.sparse", fn=data.fn).coo_array
    k = data.k
    z, mask, yc = _in_memory(data, y)
    xs, keeps = [], []
    for _, x, m in _blocks(z, mask, data.binary, data.chunk_rows, 0):
        keep = np.isfinite(x) if m is None else (m & np.isfinite(x))
        xs.append(np.where(keep, x, 0.0))
        keeps.append(keep)
    x = np.concatenate(xs)
    keep = np.concatenate(keeps)
    n = x.shape[0]
    rows = np.arange(n)
    # One scale per column of w, so that every LP column lies in [-1, 1].
    scale = np.abs(x).max(axis=0) if per_class else np.full(k, np.abs(x).max())
    scale[scale == 0] = 1.0
    xs_ = x / scale
    pair = keep.copy()
    pair[rows, yc] = False  # the pairs (i, k): k admissible and not the label
    obs, other = np.nonzero(pair)
    own = yc[obs]
    n_pairs = obs.size
    if n_pairs == 0:
        return None
    r = np.arange(n_pairs)
    nw = k if per_class else 1
    w_own = own if per_class else np.zeros_like(own)
    w_other = other if per_class else np.zeros_like(other)
    ri = np.concatenate([r, r, r, r])
    ci = np.concatenate([w_own, w_other, nw + own, nw + other])
    vals = np.concatenate([xs_[obs, own], -xs_[obs, other], np.ones(n_pairs), -np.ones(n_pairs)])
    margins = coo_array((vals, (ri, ci)), shape=(n_pairs, nw + k)).tocsr()  # sums duplicates
    lower = np.r_[np.zeros(nw), -np.ones(k)]  # the fit keeps the scales w >= 0
    found = separating_direction(margins, lower)
    if found is None:
        return None
    positive = found.margins > MARGIN_TOL
    # A sample is perfectly predicted when all its margins are positive.
    not_all = np.bincount(obs[~positive], minlength=n) > 0
    has_pair = np.bincount(obs, minlength=n) > 0
    perfect = has_pair & ~not_all
    counts: dict[int, tuple[int, int]] = {}
    for c in range(k):
        mine = yc == c
        counts[c] = (int(perfect[mine].sum()), int(mine.sum()))
    classes = [c for c, (hit, _) in counts.items() if hit > 0]
    if not classes:  # a direction that only excludes classes: name the ones it moves
        involved = np.zeros(k, dtype=bool)
        involved[own[positive]] = True
        involved[other[positive]] = True
        classes = [int(c) for c in np.flatnonzero(involved)]
    d = found.direction.copy()
    d[nw:] -= np.median(d[nw:])  # a common shift of the biases changes nothing
    params = [f"scale[{j}]" if per_class else "scale" for j in range(nw)
              if abs(d[j]) > MARGIN_TOL]
    params += [f"bias[{j}]" for j in range(k) if abs(d[nw + j]) > MARGIN_TOL]
    return _Found("complete" if found.complete else "quasi-complete", classes, counts, params)


def separation_message(found: _Found, fn: str, penalized: bool, remedy: str) -> str:
    """The SeparationError message (unpenalised) or the SeparationWarning's (penalised)."""
    parts = []
    for c in found.classes:
        hit, tot = found.counts[c]
        parts.append(f"class {c} ({hit} of its {tot} samples perfectly predicted)" if hit
                     else f"class {c}")
    head = (f"{found.kind} separation: " + "; ".join(parts) + ". Along a direction of "
            + ", ".join(found.params) + " the likelihood keeps increasing, towards a supremum "
            "it never attains")
    if penalized:
        return (f"{fn}: {head}, so the scales and biases of these classes are determined by "
                "the penalty (alpha), not by the data.")
    return (f"{fn}: the maximum-likelihood estimate does not exist — {head}: the fit would "
            "drive these parameters towards ±infinity (probabilities of exactly 0 and 1, "
            f"over-confident on new data). {remedy}")
