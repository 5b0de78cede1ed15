r"""Choice models on long-format data: McFadden's conditional logit and the nested logit.

The econometrician reads softmax as a discrete choice: each group (a traveller, a shopper)
chooses one of its available alternatives with probability

.. math:: P_{gj} = \operatorname{softmax}(V_g)_j, \qquad
          V_{gj} = \alpha_j + x_{gj}^\top\beta + z_g^\top\gamma_j,

the masked softmax over the group's available alternatives; the nested logit's inclusive
value of nest ``k`` is ``logsumexp(V, temperature=λ_k)``. :class:`ConditionalLogit` fits both
(Newton's method with the analytic Hessian; a trust region for the nested model), reads pandas,
polars and Dask DataFrames in long format, and refuses bad data naming the group.

========================  ==================================================================
``_data``                 long-format data → compact arrays (groups × alternatives), checks
``_likelihood``           ℓ, gradient and information over blocks of groups (both models)
``_fit``                  Newton's method, the nested logit's trust region
``_separation``           the separation LP's margins for the conditional logit
``_dask``                 Dask DataFrames partitioned by group: one computation per pass
``_effects``              elasticities (closed forms)
``errors``                :class:`ChoiceDataError`, :class:`NestingWarning`
``results``               the summary, :class:`Elasticities`
``model``                 the estimator :class:`ConditionalLogit`
========================  ==================================================================
"""

from __future__ import annotations

from softmaxkit.choice.errors import ChoiceDataError, NestingWarning
from softmaxkit.choice.model import ConditionalLogit
from softmaxkit.choice.results import Elasticities, Summary

__all__ = ["ChoiceDataError", "ConditionalLogit", "Elasticities", "NestingWarning", "Summary"]
