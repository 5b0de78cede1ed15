"""The exception and warning classes a multinomial logit fit raises (public, re-exported by
:mod:`softmaxkit.mlogit` and :mod:`softmaxkit`)."""

from __future__ import annotations

from typing import Any

__all__ = ["ConvergenceWarning", "SeparationError", "SeparationWarning"]


class ConvergenceWarning(UserWarning):
    """Newton's method stopped before the convergence criterion was met."""


class SeparationWarning(UserWarning):
    """A penalised fit on separated data: some estimates are determined by the penalty."""


class SeparationError(ValueError):
    """The maximum-likelihood estimate does not exist (complete or quasi-complete separation).

    Attributes
    ----------
    kind : str
        ``"complete"`` or ``"quasi-complete"``.
    categories : list
        The categories whose observations are perfectly predicted.
    features : list of str
        The parameters that diverge along the separating direction.
    """

    def __init__(self, message: str, kind: str, categories: list[Any], features: list[str]):
        super().__init__(message)
        self.kind = kind
        self.categories = categories
        self.features = features
