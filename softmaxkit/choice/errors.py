"""The exception and warning classes of a choice-model fit (public, re-exported by
:mod:`softmaxkit.choice` and :mod:`softmaxkit`).

Convergence and separation are the multinomial logit's classes
(:class:`~softmaxkit.ConvergenceWarning`, :class:`~softmaxkit.SeparationError`): the same
conditions, the same classes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ChoiceDataError", "NestingWarning"]


class ChoiceDataError(ValueError):
    """Long-format choice data that cannot be fitted, with the group (and row) at fault.

    Attributes
    ----------
    kind : str
        What is wrong: ``"column"`` (a missing column), ``"choice"`` (a choice value outside
        {0, 1}), ``"no-choice"`` / ``"two-choices"`` (a group with no chosen row, or more than
        one), ``"one-alternative"`` (a group with a single available alternative),
        ``"duplicate"`` (two rows for one (group, alternative)), ``"nonfinite"`` (a covariate
        that is NaN or infinite), ``"group"`` (a missing group label), ``"individual-varies"``
        (an individual variable not constant within a group), ``"weight"`` (a weight that is
        negative, non-finite or not constant within a group), ``"not-identified"`` (a generic
        variable constant within every group), ``"alternative"`` (an alternative the model
        does not know, or a missing one), ``"partition"`` (a group split across Dask
        partitions).
    group : object or None
        The label of the group at fault.
    row : int or None
        The 0-based position of the offending row in the input (within its partition for a
        Dask DataFrame, see ``partition``).
    column : str or None
        The column at fault.
    partition : int or None
        The Dask partition holding the row, for Dask input.
    reason : str
        The message without the method's name (the command line prefixes its own).

    Examples
    --------
    >>> import pandas as pd
    >>> from softmaxkit.choice import ChoiceDataError, ConditionalLogit
    >>> data = pd.DataFrame({"id": [1, 1, 2, 2], "alt": ["a", "b", "a", "b"],
    ...                      "choice": [1, 0, 1, 1], "x": [0.0, 1.0, 2.0, 0.5]})
    >>> try:
    ...     ConditionalLogit(alternative_vars=["x"]).fit(data)
    ... except ChoiceDataError as exc:
    ...     print(exc.kind, exc.group, exc.row)
    two-choices 2 3
    """

    def __init__(self, message: str, kind: str, *, reason: str, group: Any = None,
                 row: int | None = None, column: str | None = None,
                 partition: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.group = group
        self.row = row
        self.column = column
        self.partition = partition
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields: rebuilt explicitly, so that the error survives the pickling
        # of a Dask worker's exception.
        return (_rebuild, (self.args[0], self.kind, self.reason, self.group, self.row,
                           self.column, self.partition))


def _rebuild(message: str, kind: str, reason: str, group: Any, row: int | None,
             column: str | None, partition: int | None) -> ChoiceDataError:
    return ChoiceDataError(message, kind, reason=reason, group=group, row=row, column=column,
                           partition=partition)


class NestingWarning(UserWarning):
    """A nested logit whose dissimilarity parameter λ lies outside (0, 1].

    Such a fit is a valid likelihood maximum but not consistent with random utility
    maximisation for all values of the covariates (McFadden 1978; Train 2009, §4.2.1).

    Examples
    --------
    >>> import warnings
    >>> from softmaxkit.choice import NestingWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("lambda:a = 1.6 outside (0, 1]", NestingWarning)
    >>> caught[0].category.__name__
    'NestingWarning'
    """
