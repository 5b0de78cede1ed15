r"""Double-word arithmetic shared by the maps built on a split ``q + r`` of ``x/T``.

:func:`exp_dw` is the exponential of such a double word, as the kernel forms it in
:func:`softmaxkit._base.kernel.analyse`; :mod:`softmaxkit.sigmoid` and :mod:`softmaxkit.scan`
use this one copy. Array-API calls only.

Examples
--------
>>> import numpy as np
>>> q = np.array([0.0, -700.0, 1.0], dtype=np.float64)
>>> r = np.array([2.0**-60, 2.0**-60, 0.0])
>>> bool(np.all(exp_dw(np, q, r) == np.exp(q) + np.exp(q) * r))
True
>>> exp_dw(np, np.array([-2000.0]), np.array([0.0]))   # below 2**-900: scaled, still exact
array([0.])
"""

from __future__ import annotations

from typing import Any

__all__ = ["exp_dw"]

Array = Any


def exp_dw(xp: Any, q: Array, r: Array) -> Array:
    """``exp(q + r)`` for a double word ``q + r`` (``|r|`` ≤ half an ulp of ``q``).

    float64: ``e + e·r`` keeps every bit of r; where ``e < 2**-900`` the product would fall
    below the normal range, and backends that flush subnormals to zero (XLA on CPU) would
    drop it, so such ``e`` are scaled by ``2**600`` first (exact both ways). Other dtypes:
    ``e·(1 + r)``, which keeps the correction near the bottom of the normal range. (The
    same rule as the maps' kernel.)
    """
    e = xp.exp(q)
    if "float64" in str(e.dtype):
        one = xp.ones_like(e)
        scale = xp.where(e < 2.0**-900, one * 2.0**600, one)
        es = e * scale
        return (es + es * r) / scale
    return e * (1.0 + r)
