r"""Elasticities of the choice probabilities, in closed form (see
:class:`~softmaxkit.choice.Elasticities`).

With :math:`\partial \log P_i / \partial V_h = \delta_{ih}/\lambda_c + (1 - 1/\lambda_c)
P_{h|c}[h \in c] - P_h` (``c`` the nest of ``i``; λ = 1 and no nests for the conditional
logit), the elasticity of :math:`P_i` with respect to a generic variable of alternative ``h``
is :math:`\beta x_h\, \partial\log P_i/\partial V_h`, and with respect to an individual
variable :math:`z \sum_h \gamma_h\, \partial\log P_i/\partial V_h`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmaxkit._base.tables import pandas_or_none
from softmaxkit.choice._data import _Long, _show
from softmaxkit.choice._likelihood import design, nest_state
from softmaxkit.choice.results import Elasticities


def _dlogp_dv(model: Any, blk: _Long) -> tuple[np.ndarray, np.ndarray]:
    """(G, J) probabilities and (G, J, J) derivatives ∂log P_i/∂V_h (0 where unavailable)."""
    lay = model._layout
    theta = model._theta
    v = design(blk, lay) @ theta[:lay.n_beta]
    eye = np.eye(v.shape[1])[None]
    if lay.nest_of is None:
        from softmaxkit.maps import softmax

        p = softmax(v, where=blk.avail)
        dl = eye - p[:, None, :]
    else:
        lam = lay.lambdas(theta)
        st = nest_state(blk, v, lam, lay)
        p = np.exp(st.logp)
        lam_i = lam[lay.nest_of][None, :, None]  # λ of i's nest
        same = (lay.nest_of[:, None] == lay.nest_of[None, :])[None]
        dl = eye / lam_i + (1.0 - 1.0 / lam_i) * same * st.cond[:, None, :] - p[:, None, :]
    both = blk.avail[:, :, None] & blk.avail[:, None, :]
    return p, np.where(both, dl, 0.0)


def elasticities(model: Any, long: _Long, variable: str) -> Elasticities:
    """The elasticities of :meth:`ConditionalLogit.elasticities` on the groups of ``long``."""
    cols = model._cols
    lay = model._layout
    theta = model._theta
    names = [_show(a) for a in model.alternatives_]
    j = len(names)
    fn = "ConditionalLogit.elasticities"
    mean_blk = _mean_group(long)
    if variable in cols.alternative_vars:
        k = cols.alternative_vars.index(variable)
        beta = theta[lay.n_const + k]
        _, dl = _dlogp_dv(model, long)
        el = beta * long.x[:, None, :, k] * dl  # (G, i, h)
        both = long.avail[:, :, None] & long.avail[:, None, :]
        average = _masked_mean(el, both)
        _, dl_m = _dlogp_dv(model, mean_blk)
        at_mean = beta * mean_blk.x[:, None, :, k] * dl_m
        gi, ii, hh = np.nonzero(both)
        pd = pandas_or_none()
        if pd is None:  # pragma: no cover - exercised only without pandas
            return Elasticities(variable, "alternative", average, at_mean[0],
                                np.stack([gi, ii, hh, el[gi, ii, hh]], axis=1))
        disaggregate = pd.DataFrame({
            "group": long.groups[gi], "alternative": np.asarray(names, dtype=object)[ii],
            "wrt": np.asarray(names, dtype=object)[hh], "elasticity": el[gi, ii, hh]})
        return Elasticities(variable, "alternative",
                            pd.DataFrame(average, index=names, columns=names),
                            pd.DataFrame(at_mean[0], index=names, columns=names),
                            disaggregate)
    if variable in cols.individual_vars:
        k = cols.individual_vars.index(variable)
        gamma = np.zeros(j)
        start = lay.n_const + lay.n_generic + k * (j - 1)
        gamma[lay.nonbase] = theta[start:start + j - 1]

        def one(blk: _Long) -> np.ndarray:
            _, dl = _dlogp_dv(model, blk)
            return blk.z[:, k:k + 1] * (dl @ gamma)

        el = one(long)
        average = _masked_mean(el, long.avail)
        at_mean = one(mean_blk)[0]
        gi, ii = np.nonzero(long.avail)
        pd = pandas_or_none()
        if pd is None:  # pragma: no cover - exercised only without pandas
            return Elasticities(variable, "individual", average, at_mean,
                                np.stack([gi, ii, el[gi, ii]], axis=1))
        disaggregate = pd.DataFrame({
            "group": long.groups[gi], "alternative": np.asarray(names, dtype=object)[ii],
            "elasticity": el[gi, ii]})
        return Elasticities(variable, "individual", pd.Series(average, index=names),
                            pd.Series(at_mean, index=names), disaggregate)
    known = ", ".join(repr(v) for v in (*cols.alternative_vars, *cols.individual_vars))
    raise ValueError(f"{fn}: variable {variable!r} is not a variable of the model ({known})")


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the groups (axis 0) of the entries where ``mask``; NaN where none is
    (a pair of alternatives never available together has no elasticity)."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _mean_group(long: _Long) -> _Long:
    """One group with every alternative available at the mean covariates: each alternative's
    generic variables averaged over the groups where it is available, the individual
    variables over all groups (R ``mlogit::effects``' default data)."""
    count = long.avail.sum(axis=0)  # (J,)
    x = (long.x * long.avail[:, :, None]).sum(axis=0) / np.maximum(count, 1)[:, None]
    z = long.z.mean(axis=0, keepdims=True)
    j = long.avail.shape[1]
    return _Long(x[None], z, np.ones((1, j), dtype=bool), None, None, np.array([0]),
                 np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), long.varies)
