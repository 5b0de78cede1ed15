"""The package's exception classes for invalid input, and the pieces of their messages.

A function that rejects an entry or a row of its input raises one of these. They are
``ValueError`` subclasses (so ``except ValueError`` keeps working) that also carry *where* the
problem is, structured, so that the command line can name the file, row and column instead of
an array index. They are exported from :mod:`softmaxkit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "InvalidCompositionError",
    "InvalidInputError",
    "InvalidProbabilityError",
    "SeparationError",
    "SeparationWarning",
    "fmt_value",
    "position",
    "row_position",
]


class InvalidInputError(ValueError):
    """A bad entry or row of an input array, with its position.

    Attributes
    ----------
    kind : str
        What is wrong; the subclasses list their kinds.
    index : tuple of int
        The full index of the offending entry; for a whole row, the row's index with the
        reduced axes at 0.
    reason : str
        The message without the function name, the position and any advice (which depends on
        the caller: the library names arguments, the command line names options).

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> try:
    ...     sk.inverse_softmax(np.array([0.5, -0.1, 0.6]))
    ... except sk.InvalidProbabilityError as exc:
    ...     print(exc.kind, exc.index)
    entry (1,)
    """

    def __init__(self, message: str, kind: str, index: tuple[int, ...], reason: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.index = tuple(index)
        self.reason = reason


class InvalidProbabilityError(InvalidInputError):
    """A bad entry or row of a probability array ``p``.

    ``kind`` is ``"entry"`` (NaN, infinite or negative) or ``"greater"`` (an entry above 1),
    ``"sum"`` or ``"empty"`` (a row whose sum is not 1, or is 0 when normalising) or
    ``"reference"`` (a zero at the reference state, whose logit is fixed).
    """


class InvalidCompositionError(InvalidInputError):
    """A bad part or row of a composition.

    ``kind`` is ``"entry"`` (NaN, infinite or negative part), ``"empty"`` (a row whose parts
    are all 0), ``"zero"`` (a zero part where none is allowed), ``"reference"`` (a zero at the
    alr reference) or ``"delta"`` (a row whose zero replacements would take all the mass).
    """


class SeparationWarning(UserWarning):
    """A penalised fit on separated data: some estimates are determined by the penalty."""


class SeparationError(ValueError):
    """The maximum-likelihood estimate does not exist (complete or quasi-complete separation).

    Raised by :class:`~softmaxkit.MultinomialLogit` and by the calibration scalers with
    biases (:class:`~softmaxkit.calibration.VectorScaling`, ``TemperatureScaling(fit_bias=
    True)``) when their data are separated and no penalty makes the estimate exist.

    Attributes
    ----------
    kind : str
        ``"complete"`` or ``"quasi-complete"``.
    categories : list
        The categories (classes) whose observations are perfectly predicted.
    features : list of str
        The parameters that diverge along the separating direction.
    """

    def __init__(self, message: str, kind: str, categories: list[Any], features: list[str]):
        super().__init__(message)
        self.kind = kind
        self.categories = categories
        self.features = features


def fmt_value(v: float, dtype_name: str) -> str:
    """A value as the user's dtype prints it (``1.1`` for a float32 1.1, not 1.100000023...).

    >>> fmt_value(1.100000023841858, "float32")
    '1.1'
    """
    try:
        return str(np.dtype(dtype_name).type(v))
    except TypeError:
        return repr(float(v))


def position(name: str, index: tuple[int, ...]) -> str:
    """An entry's position as the user indexes it: ``position("p", (3, 1)) == "p[3, 1]"``."""
    return f"{name}[" + ", ".join(str(i) for i in index) + "]"


def row_position(name: str, index: tuple[int, ...], axes: tuple[int, ...]) -> str:
    """A row's position, the reduced axes shown as ``:``.

    >>> row_position("p", (3, 0), (1,))
    'p[3, :]'
    """
    return f"{name}[" + ", ".join(":" if k in axes else str(i) for k, i in enumerate(index)) + "]"
