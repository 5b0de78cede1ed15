"""Row helpers shared by the derivative families: tangents, special rows, layouts, results.

Every public derivative validates its arguments with :func:`softmaxkit._base.core.setup` (the
:class:`~softmaxkit._base.core.Setup` record is called ``c`` here), evaluates a formula of
:mod:`softmaxkit.derivatives.forms`, and then uses these helpers to resolve the rows where the
formula does not apply (locally constant rows get 0, NaN rows NaN) and to return the result in
the output dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base import sparse_kernel
from softmaxkit._base.arrays import numpy_scalar
from softmaxkit._base.core import (
    Setup,
    finish,
    full_like_scalar,
    is_lazy,
    prepare,
)
from softmaxkit.derivatives import forms

__all__ = [
    "Rows",
    "as_namespace",
    "cast",
    "deliver",
    "divisor",
    "finish_rows",
    "kept_entries",
    "row_flags",
    "rows_arranger",
    "rows_divisor",
    "same",
    "surely_false",
    "tangent",
    "times_t",
    "to_rows",
    "zeros_out",
]

Array = Any


# --------------------------------------------------------------------------------------------
# Tangents and cotangents
# --------------------------------------------------------------------------------------------


def as_namespace(c: Setup, a: Any, name: str, cast: bool = True) -> Array:
    """``a`` validated as a real array of ``c``'s namespace (in the compute dtype if ``cast``)."""
    prep = prepare(a, name=name, fn=c.fn)
    arr = prep.raw
    if prep.xp is not c.xp:
        if not isinstance(arr, np.ndarray):
            raise TypeError(
                f"{c.fn}: {name} is a {type(arr).__module__}.{type(arr).__name__} but the input "
                f"is a {type(c.raw).__module__}.{type(c.raw).__name__}; pass both from the same "
                "array library"
            )
        arr = c.xp.asarray(arr, device=c.device)
    if cast and arr.dtype != c.compute_dtype:
        arr = c.xp.astype(arr, c.compute_dtype)
    return arr


def tangent(
    c: Setup, v: Any, name: str, shape: tuple[int, ...] | None = None, cast: bool = True
) -> Array:
    """A tangent or cotangent: an array broadcastable to ``shape`` (default: the input's)."""
    shape = c.shape if shape is None else shape
    arr = as_namespace(c, v, name, cast)
    try:
        target = np.broadcast_shapes(tuple(arr.shape), shape)
    except ValueError:
        target = None
    if target != shape:
        raise ValueError(
            f"{c.fn}: {name} of shape {tuple(arr.shape)} does not broadcast to the shape "
            f"{shape} it must have"
        )
    return c.xp.broadcast_to(arr, shape)


def cast(c: Setup, a: Array) -> Array:
    """``a`` in the compute dtype."""
    return a if a.dtype == c.compute_dtype else c.xp.astype(a, c.compute_dtype)


# --------------------------------------------------------------------------------------------
# Special rows
# --------------------------------------------------------------------------------------------


def surely_false(xp: Any, cond: Any) -> bool:
    """True when ``cond`` is False or an inspectable all-False array (lazy arrays: unknown)."""
    if cond is False:
        return True
    if cond is True or is_lazy(cond):
        return False
    return not bool(xp.any(cond))


@dataclass(frozen=True)
class Rows:
    """Per-row flags in the kept-dims shape: ``dead`` rows have derivative 0, ``nan`` rows NaN
    (each False when no row is flagged)."""

    dead: Any  # array of bool or False
    nan: Any  # array of bool or False


def row_flags(c: Setup, x: Array | None = None, *, temperature_kills: bool = True) -> Rows:
    """Rows where the map is locally constant (+inf entries; T = 0 or inf) and rows with NaN:
    :func:`~softmaxkit.derivatives.forms.classify_rows` as flags (False when none is set).

    ``x`` is the input in the compute dtype (``c.x`` when not given).
    """
    xp = c.xp
    x = c.x if x is None else x
    rc = forms.classify_rows(xp, x, c.axes, mask=c.mask,
                             temperature=c.temp if temperature_kills else 1.0)
    dead, nan = rc.dead, rc.nan
    return Rows(
        False if surely_false(xp, dead) else dead, False if surely_false(xp, nan) else nan
    )


def finish_rows(c: Setup, a: Array, rows: Rows, arrange: Callable[[Array], Array]) -> Array:
    """Zero the dead rows and make the NaN rows NaN (flags mapped to ``a``'s layout)."""
    xp = c.xp
    if rows.dead is not False:
        a = xp.where(arrange(rows.dead), full_like_scalar(xp, a, 0.0), a)
    if rows.nan is not False:
        a = xp.where(arrange(rows.nan), full_like_scalar(xp, a, math.nan), a)
    return a


def kept_entries(c: Setup, x: Array | None = None) -> Array:
    """Entries that take part (``kept`` of
    :func:`~softmaxkit.derivatives.forms.classify_rows`)."""
    return forms.taking_part(c.x if x is None else x, c.mask)


# --------------------------------------------------------------------------------------------
# Temperature
# --------------------------------------------------------------------------------------------


def divisor(c: Setup) -> Any:
    """T as :mod:`~softmaxkit.derivatives.forms` takes it (``divisor`` of
    :func:`~softmaxkit.derivatives.forms.classify_rows`)."""
    return forms.temperature_divisor(c.xp, c.temp)


def rows_divisor(c: Setup, t: Any) -> Any:
    """A :func:`divisor` in the rows layout ``batch + (1,)`` (numbers as they are)."""
    return t if t is None or isinstance(t, float) else to_rows(c, t)


def times_t(c: Setup, a: Array, arrange: Callable[[Array], Array]) -> Array:
    """``a · T`` (the inverse maps scale by T; they reject T = 0 and inf)."""
    temp = c.temp
    if temp.kind == "scalar":
        return a * float(temp.value)
    if temp.kind == "array":
        return a * arrange(temp.value)
    return a


# --------------------------------------------------------------------------------------------
# Layouts and results
# --------------------------------------------------------------------------------------------


def same(a: Array) -> Array:
    """The identity arrangement (flags already in ``a``'s layout)."""
    return a


def to_rows(c: Setup, a: Array) -> Array:
    """Move the reduced axes of ``a`` (input layout, or kept dims) last and flatten them:
    ``batch + (n,)``, or ``batch + (1,)`` for kept-dims arrays."""
    return sparse_kernel.to_rows(c.xp, a, c.axes)[0]


def rows_arranger(c: Setup, extra: int) -> Callable[[Array], Array]:
    """Map kept-dims per-row arrays to ``batch + (1,) * (1 + extra)`` for matrix layouts."""

    def arrange(a: Array) -> Array:
        r = to_rows(c, a)
        for _ in range(extra):
            r = c.xp.expand_dims(r, axis=-1)
        return r

    return arrange


def zeros_out(c: Setup, shape: tuple[int, ...]) -> Array:
    """Zeros of ``shape`` in the output dtype (the derivative of an empty input)."""
    return c.xp.zeros(shape, dtype=c.out_dtype, device=c.device)


def deliver(c: Setup, a: Array, *, scalar: bool = False) -> Array:
    """The result in the output dtype; ``scalar``: a 0-d NumPy result as a NumPy scalar (like
    logsumexp's own reductions). Adding +0 turns the −0 of products like ``0 · (−p)`` (the
    entries of masked and −inf coordinates) into +0."""
    a = finish(c.xp, a + 0.0, c.out_dtype)
    return numpy_scalar(a) if scalar else a
