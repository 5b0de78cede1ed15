r"""Multinomial logit regression with a chosen base category: the statistician's softmax.

For ``K`` categories and a base category ``b``, the model is the base-state softmax of
``K − 1`` linear predictors,

.. math:: P(y_i = k \mid x_i) = \operatorname{base\_softmax}(x_i^\top B)_k
          = \frac{e^{x_i^\top \beta_k}}{1 + \sum_{l \ne b} e^{x_i^\top \beta_l}},
          \qquad \beta_b = 0,

so that :math:`\beta_{kj}` is the change of the log-odds :math:`\log(P_k / P_b)` per unit of
feature ``j``. :class:`MultinomialLogit` fits it by Newton's method on the log-likelihood

.. math:: \ell(B) = \sum_i \log \operatorname{softmax}(x_i^\top B)_{y_i}

(computed from :func:`softmaxkit.softmax` with the base logit fixed at 0, i.e.
:func:`softmaxkit.base_softmax`), with the closed-form gradient and Hessian that
follow from the softmax Jacobian :math:`\operatorname{diag}(p) - p p^\top`:

.. math:: \frac{\partial \ell}{\partial \beta_k} = \sum_i x_i (\mathbb{1}[y_i = k] - p_{ik}),
          \qquad
          -\frac{\partial^2 \ell}{\partial \beta_k \partial \beta_l^\top}
          = \sum_i p_{ik} (\delta_{kl} - p_{il})\, x_i x_i^\top .

**Memory.** The ``(n(K−1))²`` matrix of per-row Jacobian blocks is never formed. The
information matrix (``p(K−1)`` square, ``p`` = number of parameters per category) is
accumulated over blocks of rows as ``blockdiag_k(Xᵀ diag(p_k) X) − AᵀA``, where the block's
``A`` has columns ``p_k ⊙ x_j`` (one BLAS ``syrk`` per block of rows); the memory beyond the
data is ``O(rows_per_block · p(K−1) + (p(K−1))²)``, about 16 MiB per block. Rows mapped
from a file (a :class:`numpy.memmap`, as the ``mlogit`` command hands them over) stay there:
each pass reads them a block at a time and hands the block's pages back to the kernel.

**Dask.** The same sums are Dask reductions over row chunks when ``X`` is a Dask array or
DataFrame: each Newton iteration is one Dask computation whose tasks return the partial sums
(ℓ, ``XᵀP``, the information) of their chunk, so the fit runs on a cluster with the rows
left where they are (see :meth:`MultinomialLogit.fit`).

**Where things live.** One module per job, the floors inside the package from the bottom up:

========================  ==================================================================
``_blocks``               block sums: ℓ, ``XᵀP`` and the information over blocks of rows
``_design``               design-matrix coercion: X, y and ``base`` to arrays, names, codes
``_newton``               the Newton loop and its line search
``_threads``              one BLAS thread for small fits (their products cannot share)
``errors``                the exception and warning classes of a fit
``results``               labelled tables, p-values, :class:`MarginalEffects`, the summary
``_separation``           the separation LP, and when a fit runs it and what it says
``_dask``                 the Dask adapter: row chunks as Dask tasks, lazy predictions
``model``                 the estimator :class:`MultinomialLogit`
========================  ==================================================================
"""

from __future__ import annotations

from softmaxkit.mlogit.errors import ConvergenceWarning, SeparationError, SeparationWarning
from softmaxkit.mlogit.model import MultinomialLogit
from softmaxkit.mlogit.results import MarginalEffects, Summary

__all__ = [
    "ConvergenceWarning",
    "MarginalEffects",
    "MultinomialLogit",
    "SeparationError",
    "SeparationWarning",
    "Summary",
]
