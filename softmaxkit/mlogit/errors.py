"""The exception and warning classes a multinomial logit fit raises (public, re-exported by
:mod:`softmaxkit.mlogit` and :mod:`softmaxkit`).

:class:`SeparationError` and :class:`SeparationWarning` live in the internal floor
(``softmaxkit._base.errors``), because the calibration scalers raise them too; they are the
same classes here.
"""

from __future__ import annotations

from softmaxkit._base.errors import SeparationError, SeparationWarning

__all__ = ["ConvergenceWarning", "SeparationError", "SeparationWarning"]


class ConvergenceWarning(UserWarning):
    """Newton's method stopped before the convergence criterion was met."""
