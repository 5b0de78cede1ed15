r"""Compositional data: closure, the log-ratio transforms and zero replacement.

A *composition* is a vector of ``D`` non-negative parts whose information lies in the ratios
between them (proportions, counts, concentrations): ``x`` and ``c·x`` are the same composition.
Its log-ratio coordinates are inverse softmax with a particular choice of the free constant,
and their inverses are softmax:

=========================  ===============================================  ==================
transform                  in this library                                  inverse
=========================  ===============================================  ==================
:func:`clr` (centred)      ``inverse_softmax(x, gauge="center")``           :func:`clr_inv`
                                                                            = ``softmax``
:func:`alr` (additive,     ``inverse_softmax(x, gauge="reference",          :func:`alr_inv`
reference part ``r``)      reference=r, value=0)`` without the part ``r``   = ``base_softmax``
:func:`ilr` (isometric,    ``V·clr(x)`` for an orthonormal basis ``V``      :func:`ilr_inv`
basis ``V``)               of the clr plane (Helmert by default)            = ``softmax(Vᵀy)``
=========================  ===============================================  ==================

Compositions need not sum to 1: every transform is scale invariant, and the library's
``inverse_softmax(..., normalize=True)`` accepts any row with a positive sum and absorbs the
division by the row total into the gauge constant exactly (nothing is divided, so the closure
adds no rounding). :func:`closure` itself returns ``x / Σx``.

Zeros. ``log 0 = −inf`` is kept, never clipped: :func:`clr` maps a zero part to −inf and centres
the other parts over the positive ones (so clr's round trip gives the zero back exactly); in
:func:`alr` a zero part other than the reference maps to −inf, and a zero at the reference
raises (every log-ratio would be +inf). :func:`ilr` raises at a zero part, because every
balance that involves it would be ±inf or undefined. Replace zeros first with
:func:`replace_zeros` (multiplicative replacement) when a finite coordinate is needed.

Errors name the argument, the position and the value: ``ilr: x[3, 1] = 0 ...``. Lazy arrays
(Dask, JAX under ``jit``) are not inspected: a row that fails a check comes out NaN.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base.arrays import (
    delete,
    device_of,
    first_index,
    host_copy,
    rany,
    rmax,
    rsum,
    take,
)
from softmaxkit._base.core import (
    Setup,
    dtype_name,
    finish,
    full_like_scalar,
    index_in,
    is_lazy,
    quiet,
    setup,
)
from softmaxkit._base.errors import InvalidCompositionError, fmt_value, position, row_position
from softmaxkit.inverse import base_softmax, inverse_softmax
from softmaxkit.maps import softmax

__all__ = [
    "alr",
    "alr_inv",
    "closure",
    "clr",
    "clr_inv",
    "ilr",
    "ilr_basis",
    "ilr_inv",
    "replace_zeros",
]

Array = Any

# Orthonormality tolerance for a user's ilr basis: |V Vᵀ − I| and |V·1| entrywise. Loose enough
# for a basis stored in float32 or built by hand with rounded constants, tight enough that a
# basis off by more than that (which would give coordinates of a different geometry) is caught.
BASIS_ATOL = 1e-6


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _along(fn: str, x: Any, axis: Any, *, why: str, name: str, dtype: Any) -> tuple[Setup, int]:
    """:func:`setup` of a transform along one axis; returns (setup, axis)."""
    s = setup(fn, x, axis=axis, dtype=dtype, name=name, along=why)
    return s, s.axes[0]


def _n_parts(fn: str, shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = math.prod(shape[a] for a in axes)
    if n == 0:
        raise ValueError(
            f"{fn}: x has no parts along axis {axes[0] if len(axes) == 1 else axes}; "
            "a composition needs at least one part"
        )
    return n


_ZERO_ADVICE = "replace the zeros first, e.g. with replace_zeros(x)"


def _check_parts(
    fn: str,
    s: Setup,
    *,
    zeros: str = "allow",
    reference: tuple[int, int] | None = None,
) -> Array | None:
    """Check that every part is finite and >= 0 and every row has a positive part.

    ``zeros="raise"`` also rejects any zero part (ilr); ``reference=(axis, r)`` rejects a zero
    at position ``r`` (alr). Raises :class:`InvalidCompositionError` naming the first offender.
    For a lazy array nothing is inspected and the rows that fail are returned (to be set to
    NaN).
    """
    xp, raw, axes = s.xp, s.raw, s.axes
    x = s.x
    total = rsum(xp, x, axes)
    ref_slice = None
    if reference is not None:
        ax, r = reference
        ref_slice = take(xp, x, ax, r)
    if is_lazy(raw):
        bad = rany(xp, ~(x >= 0) | xp.isinf(x), axes) | ~(total > 0)
        if zeros == "raise":
            bad = bad | rany(xp, x == 0, axes)
        if ref_slice is not None:
            bad = bad | (ref_slice == 0)
        return bad
    in_name = dtype_name(raw.dtype)
    checks = (
        (xp.isnan(x), "is NaN; the parts of a composition must be finite numbers >= 0"),
        (xp.isinf(x), "is infinite; the parts of a composition must be finite numbers >= 0"),
        (
            x < 0,
            "is negative; the parts of a composition are amounts >= 0 (if these are "
            "log-ratio coordinates already, their inverse is clr_inv, alr_inv or ilr_inv)",
        ),
    )
    for cond, text in checks:
        idx = first_index(xp, cond)
        if idx is not None:
            value = fmt_value(float(host_copy(x)[idx]), in_name)
            reason = f"{value} {text}"
            raise InvalidCompositionError(
                f"{fn}: {position('x', idx)} = {reason}",
                "entry", idx, reason,
            )
    idx = first_index(xp, ~(total > 0))
    if idx is not None:
        reason = "every part is 0; a composition needs at least one positive part"
        raise InvalidCompositionError(
            f"{fn}: row {row_position('x', idx, axes)}: {reason}",
            "empty", idx, reason,
        )
    if ref_slice is not None and reference is not None:
        ax, r = reference
        idx = first_index(xp, ref_slice == 0)
        if idx is not None:
            full = tuple(r if k == ax else i for k, i in enumerate(idx))
            reason = (
                f"0 at the reference part {r}: the log-ratios log(x_k / x_{r}) of this row do "
                f"not exist; choose a reference part that is positive in every row, or "
                f"{_ZERO_ADVICE}"
            )
            raise InvalidCompositionError(
                f"{fn}: {position('x', full)} (row {row_position('x', full, axes)}) = {reason}",
                "reference",
                full,
                reason,
            )
    if zeros == "raise":
        idx = first_index(xp, x == 0)
        if idx is not None:
            reason = (
                "0: the ilr coordinates of a composition with a zero part do not exist (log 0 "
                "= -inf enters every balance that involves the part); "
                f"{_ZERO_ADVICE}, or use clr, which maps a zero part to -inf"
            )
            raise InvalidCompositionError(
                f"{fn}: {position('x', idx)} = {reason}",
                "zero", idx, reason,
            )
    return None


def _nan_rows(xp: Any, a: Array, bad: Array | None) -> Array:
    if bad is None:
        return a
    return xp.where(bad, full_like_scalar(xp, a, math.nan), a)


# --------------------------------------------------------------------------------------------
# closure and zero replacement
# --------------------------------------------------------------------------------------------


def _closed(xp: Any, x: Array, axes: tuple[int, ...]) -> Array:
    """``x / Σx`` along ``axes`` for parts >= 0 with a positive total, also when the total
    overflows (``[1e308, 1e308, 1]``): such rows are divided by their largest part first, so
    that their sum stays <= D. Other rows keep the one rounding of ``x / Σx``."""
    total = rsum(xp, x, axes)
    big = rmax(xp, x, axes)
    one = full_like_scalar(xp, big, 1.0)
    over = xp.isinf(total)
    y = x / xp.where(over & (big > 0), big, one)
    return y / xp.where(over, rsum(xp, y, axes), total)


@quiet
def closure(x: Any, /, *, axis: int | tuple[int, ...] | None = -1, dtype: Any = None) -> Array:
    r"""Rescale each composition to sum to 1: :math:`\mathcal{C}(x)_i = x_i / \sum_j x_j`.

    Parameters
    ----------
    x : array_like
        Parts ``>= 0`` (counts, amounts, proportions), any array-API array.
    axis : int, tuple of int or None, default -1
        The axis (or axes) holding a composition.
    dtype : dtype, optional
        Output dtype (default ``x``'s floating dtype; integers promote to the default float).

    Returns
    -------
    array
        Same shape and array kind as ``x``; each row sums to 1 within rounding.

    Raises
    ------
    ValueError
        Naming the position: a NaN, infinite or negative part, or a row whose parts are all 0.

    Notes
    -----
    Zeros stay exactly 0. The log-ratio transforms do not need a closed input: they are scale
    invariant and never divide by the total. A row whose total overflows (parts near the
    largest float) is divided by its largest part first, so ``[1e308, 1e308, 1]`` closes to
    ``[0.5, 0.5, 5e-309]``, not to zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import closure
    >>> closure(np.array([[2, 2, 6], [4, 4, 2]]))
    array([[0.2, 0.2, 0.6],
           [0.4, 0.4, 0.2]])
    """
    fn = "closure"
    s = setup(fn, x, axis=axis, dtype=dtype)
    xp, axes = s.xp, s.axes
    _n_parts(fn, s.shape, axes)
    bad = _check_parts(fn, s)
    out = _closed(xp, s.x, axes)
    return finish(xp, _nan_rows(xp, out, bad), s.out_dtype)


@quiet
def replace_zeros(x: Any, /, *, delta: Any = None, axis: int = -1, dtype: Any = None) -> Array:
    r"""Multiplicative replacement of zero parts (Martín-Fernández et al., 2003).

    With :math:`p = \mathcal{C}(x)` (the closed composition) and :math:`Z` the zero parts of a
    row,

    .. math:: r_i = \delta_i \text{ for } i \in Z, \qquad
              r_i = \Big(1 - \sum_{j \in Z} \delta_j\Big)\, p_i \text{ otherwise},

    so ``r`` sums to 1 and the ratios between the non-zero parts are unchanged (their clr
    differences, alr coordinates among themselves and the balances between them are kept).

    Parameters
    ----------
    x : array_like
        Parts ``>= 0``; need not sum to 1 (closed first).
    delta : float or array, optional
        The value given to a zero part, on the scale of proportions: a number in (0, 1), or an
        array broadcastable to ``x`` (e.g. per-part detection limits divided by the totals).
        Default :math:`1/D^2` for ``D`` parts, as scikit-bio's ``multi_replace``. A common
        choice in the literature is 65 % of the detection limit.
    axis : int, default -1
        The axis holding a composition.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        The closed composition with no zero part, shape and array kind of ``x``.

    Raises
    ------
    ValueError
        Naming the position: a NaN, infinite or negative part, a row of zeros, a ``delta``
        outside (0, 1), or a row whose replacements :math:`\sum_{j\in Z}\delta_j` reach 1 (they
        would take all the mass; use a smaller ``delta``).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import replace_zeros
    >>> replace_zeros(np.array([[0.2, 0.4, 0.4, 0.0], [0.0, 0.5, 0.5, 0.0]]))
    array([[0.1875, 0.375 , 0.375 , 0.0625],
           [0.0625, 0.4375, 0.4375, 0.0625]])
    >>> replace_zeros(np.array([3, 0, 1]), delta=0.01)
    array([0.7425, 0.01  , 0.2475])
    """
    fn = "replace_zeros"
    s, _ = _along(fn, x, axis, why="a composition lies along it", name="x", dtype=dtype)
    xp, axes = s.xp, s.axes
    n = _n_parts(fn, s.shape, axes)
    bad = _check_parts(fn, s)
    xc = s.x
    d = _parse_delta(fn, delta, n, xp, xc)
    zero = xc == 0
    d_arr = full_like_scalar(xp, xc, d) if isinstance(d, float) else d
    taken = rsum(xp, xp.where(zero, d_arr, full_like_scalar(xp, xc, 0.0)), axes)
    keep = 1.0 - taken
    if bad is None:
        idx = first_index(xp, ~(keep > 0))
        if idx is not None:
            k = int(host_copy(rsum(xp, xp.astype(zero, xc.dtype), axes))[idx])
            mass = float(host_copy(taken)[idx])
            reason = (
                f"the {k} zero part{'s' * (k != 1)} would take {mass:.6g} of the mass (>= 1) with "
                "this delta, leaving nothing for the others; use a smaller delta"
            )
            raise InvalidCompositionError(
                f"{fn}: row {row_position('x', idx, axes)}: {reason}",
                "delta", idx, reason,
            )
    else:
        bad = bad | ~(keep > 0)
    p = _closed(xp, xc, axes)
    out = xp.where(zero, d_arr, keep * p)
    return finish(xp, _nan_rows(xp, out, bad), s.out_dtype)


def _parse_delta(fn: str, delta: Any, n: int, xp: Any, like: Array) -> float | Array:
    """``delta``: None (1/n²), a number in (0, 1), or an array of them broadcastable to x."""
    if delta is None:
        return 1.0 / (n * n)
    if isinstance(delta, bool):
        raise TypeError(f"{fn}: delta must be a number in (0, 1), got {delta!r}")
    if isinstance(delta, numbers.Real) or (isinstance(delta, np.ndarray) and delta.ndim == 0):
        v = float(delta)
        if not 0.0 < v < 1.0:
            raise ValueError(
                f"{fn}: delta={v!r} is invalid; expected a number in (0, 1), the proportion "
                "given to each zero part"
            )
        return v
    arr = np.asarray(host_copy(delta) if array_api_compat.is_array_api_obj(delta) else delta)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: delta must be a number or an array of numbers, got {delta!r}")
    try:
        np.broadcast_shapes(arr.shape, tuple(like.shape))
    except ValueError:
        raise ValueError(
            f"{fn}: delta of shape {arr.shape} does not broadcast to x's shape {tuple(like.shape)}"
        ) from None
    bad = ~((arr > 0) & (arr < 1))
    if bad.any():
        idx = [int(i) for i in np.argwhere(bad)[0]]
        raise ValueError(
            f"{fn}: delta{idx} = {float(arr[tuple(idx)])!r} is invalid; expected numbers in (0, 1)"
        )
    return xp.asarray(arr, dtype=like.dtype, device=device_of(like))


# --------------------------------------------------------------------------------------------
# clr, alr
# --------------------------------------------------------------------------------------------


def _clr_fast(x: Any, axis: Any, dtype: Any) -> np.ndarray | None:
    """clr of a float32/float64 NumPy array along its last axis whose parts are all positive
    and finite, in three passes (log, row sums, subtract in place; float32 in float64, cast
    back); None for anything else.

    The checks cost nothing here: ``log x`` is finite exactly when the part is positive and
    finite (NaN → NaN, negative → NaN, 0 → −inf, +inf → +inf), and a row's sum of logs is
    finite exactly when every log in it is, so one test of the row sums (the sums the mean
    needs anyway) clears every part. A row that fails goes, with the whole call, to the
    general path, which raises naming the part or maps a zero to −inf. The result is the
    general path's bit for bit: the same logs, the same pairwise row sums, divided by the
    same count ``D`` (all parts finite), the same subtraction.
    """
    if type(x) is not np.ndarray or x.dtype not in _CLR_FAST_DTYPES or x.ndim == 0 \
            or x.size == 0:
        return None
    if axis != -1 and axis != x.ndim - 1 and axis != (-1,) and axis != (x.ndim - 1,):
        return None
    if dtype is not None and np.dtype(dtype) != x.dtype:
        return None
    # (No warning from the log of a bad part: clr runs under @quiet; the general path says why.)
    # float32 parts are computed in float64, as the general path does: the subtraction
    # cancels, and float32 logs would lose up to |log x| / |clr| of its ulps.
    logs = np.log(x, dtype=np.float64)
    total = np.sum(logs, axis=-1, keepdims=True)
    if not np.isfinite(total).all():
        return None
    total /= x.shape[-1]
    logs -= total
    return logs if x.dtype == np.float64 else logs.astype(x.dtype)


_CLR_FAST_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


@quiet
def clr(x: Any, /, *, axis: int | tuple[int, ...] | None = -1, dtype: Any = None) -> Array:
    r"""Centred log-ratio: :math:`\operatorname{clr}(x)_i = \log x_i - \frac1D \sum_j \log x_j`.

    It is ``inverse_softmax(x, gauge="center", normalize=True)``: the logits of the
    composition whose mean is 0. Scale invariant (``clr(c·x) == clr(x)``); the coordinates of a
    row sum to 0; :func:`clr_inv` (softmax) gives back ``closure(x)``.

    Parameters
    ----------
    x : array_like
        Parts ``>= 0`` (need not sum to 1), any array-API array.
    axis : int, tuple of int or None, default -1
        The axis (or axes) holding a composition.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        Same shape and array kind as ``x``.

    Raises
    ------
    ValueError
        Naming the position: a NaN, infinite or negative part, or a row whose parts are all 0.

    Notes
    -----
    *Zeros* (our rule): a zero part maps to −inf, and the mean runs over the positive parts
    only, :math:`\operatorname{clr}(x)_i = \log x_i - \frac{1}{|P|}\sum_{j\in P}\log x_j` for
    :math:`i \in P = \{j : x_j > 0\}`. The finite coordinates are then the clr of the
    sub-composition of positive parts (scikit-bio's ``rclr``, which writes NaN at the zeros),
    and ``clr_inv`` returns the zero exactly. The textbook clr of a composition with a zero
    does not exist (its geometric mean is 0); call :func:`replace_zeros` first when the zero
    is a rounded small amount rather than an absent part.

    *Accuracy*: one shift in log space per row (see :func:`softmaxkit.inverse_softmax`): equal
    parts give exactly 0, and the result is within a few ulp of the largest of
    :math:`|\log x_i|` and the mean.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import clr
    >>> clr(np.array([0.1, 0.3, 0.4, 0.2]))
    array([-0.79451346,  0.30409883,  0.5917809 , -0.10136628])
    >>> clr(np.array([1.0, 3.0, 4.0, 2.0]))      # scale invariant: the same composition
    array([-0.79451346,  0.30409883,  0.5917809 , -0.10136628])
    >>> clr(np.array([2.0, 0.0, 8.0]))           # a zero part is -inf; the rest is centred
    array([-0.69314718,        -inf,  0.69314718])
    """
    fast = _clr_fast(x, axis, dtype)
    if fast is not None:
        return fast
    fn = "clr"
    s = setup(fn, x, axis=axis, dtype=dtype)
    _n_parts(fn, s.shape, s.axes)
    _check_parts(fn, s)  # lazy rows that fail come out NaN from inverse_softmax
    return inverse_softmax(s.raw, axis=s.axes, gauge="center", normalize=True, dtype=dtype)


@quiet
def clr_inv(z: Any, /, *, axis: int | tuple[int, ...] | None = -1, dtype: Any = None) -> Array:
    r"""Inverse centred log-ratio: the closed composition :math:`\mathcal{C}(e^{z})`, i.e.
    :func:`softmaxkit.softmax`.

    .. math:: \operatorname{clr}^{-1}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}

    ``z`` need not sum to 0: softmax is shift invariant, so any logits of the composition are
    accepted (scikit-bio warns when a row does not sum to 0; the result is the same).

    Parameters
    ----------
    z : array_like
        clr coordinates (or any logits), any array-API array.
    axis : int, tuple of int or None, default -1
        The axis (or axes) holding a composition.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        The composition, summing to 1; same shape and array kind as ``z``.

    Notes
    -----
    Extended reals follow softmax: −inf (a zero part from :func:`clr`) gives exactly 0,
    +inf entries share the mass, NaN makes its row NaN. Accuracy: softmax's (≤ 5 ulp in float64).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import clr, clr_inv
    >>> clr_inv(np.array([0.1, 0.3, 0.4, 0.2]))
    array([0.21383822, 0.26118259, 0.28865141, 0.23632778])
    >>> clr_inv(clr(np.array([2.0, 0.0, 8.0])))  # closure(x), the zero exactly
    array([0.2, 0. , 0.8])
    """
    return softmax(z, axis=axis, dtype=dtype)


@quiet
def alr(x: Any, /, *, reference: int = 0, axis: int = -1, dtype: Any = None) -> Array:
    r"""Additive log-ratio against a reference part ``r``:
    :math:`\operatorname{alr}(x)_k = \log(x_k / x_r)`, ``k ≠ r``.

    It is ``inverse_softmax(x, gauge="reference", reference=r, value=0, normalize=True)`` with
    the reference's coordinate (exactly 0) dropped — the log-odds against a base category,
    i.e. :func:`softmaxkit.base_logits` with ``base=r``. ``D`` parts give ``D − 1`` coordinates.

    Parameters
    ----------
    x : array_like
        Parts ``>= 0`` (need not sum to 1), with ``x_r > 0`` in every row.
    reference : int, default 0
        Position ``r`` of the reference part (the common denominator) along ``axis``; negative
        counts from the end (``-1`` is the last part, the usual textbook choice). scikit-bio
        calls it ``ref_idx`` (default 0 as here).
    axis : int, default -1
        The axis holding a composition (a single axis).
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        ``x``'s shape with ``D − 1`` entries along ``axis``, in the parts' order without ``r``.

    Raises
    ------
    ValueError
        Naming the position: a NaN, infinite or negative part, a row of zeros, a ``reference``
        out of range, or a zero at the reference (choose another reference, or call
        :func:`replace_zeros` first).

    Notes
    -----
    A zero part other than the reference maps to −inf (and back to exactly 0 through
    :func:`alr_inv`). alr is not an isometry: use :func:`clr` or :func:`ilr` for distances.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import alr
    >>> alr(np.array([0.1, 0.3, 0.4, 0.2]))            # log(x_k / x_0), k = 1, 2, 3
    array([1.09861229, 1.38629436, 0.69314718])
    >>> alr(np.array([0.1, 0.3, 0.4, 0.2]), reference=-1)
    array([-0.69314718,  0.40546511,  0.69314718])
    """
    fn = "alr"
    s, ax = _along(fn, x, axis, why="the reference is a position along it", name="x", dtype=dtype)
    n = _n_parts(fn, s.shape, s.axes)
    r = index_in(reference, n, fn=fn, name="reference", what=f"axis {ax} of x")
    _check_parts(fn, s, reference=(ax, r))
    z = inverse_softmax(
        s.raw, axis=ax, gauge="reference", reference=r, value=0.0, normalize=True, dtype=dtype
    )
    return delete(s.xp, z, ax, r)


@quiet
def alr_inv(z: Any, /, *, reference: int = 0, axis: int = -1, dtype: Any = None) -> Array:
    r"""Inverse additive log-ratio: insert 0 at ``reference`` and apply softmax
    (:func:`softmaxkit.base_softmax` with ``base=reference``).

    .. math:: \operatorname{alr}^{-1}(z) = \mathcal{C}\big(e^{z_0}, \dots, e^{z_{r-1}}, 1,
              e^{z_r}, \dots, e^{z_{D-2}}\big)

    Parameters
    ----------
    z : array_like
        alr coordinates, ``D − 1`` along ``axis``.
    reference : int, default 0
        Position of the reference part in the output (``D`` parts), negative counts from the
        end.
    axis : int, default -1
        A single axis.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        The closed composition, ``D`` entries along ``axis``.

    Notes
    -----
    −inf coordinates give exactly 0; +inf coordinates share the mass (the reference gets 0);
    NaN makes its row NaN. The computation is softmax itself (≤ 5 ulp in float64).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import alr, alr_inv
    >>> alr_inv(alr(np.array([0.1, 0.3, 0.4, 0.2]), reference=2), reference=2)
    array([0.1, 0.3, 0.4, 0.2])
    >>> alr_inv(np.log([2.0, 3.0, 4.0]), reference=-1)
    array([0.2, 0.3, 0.4, 0.1])
    """
    fn = "alr_inv"
    s, ax = _along(fn, z, axis, why="the reference is a position along it", name="z", dtype=dtype)
    n = int(s.shape[ax]) + 1
    r = index_in(reference, n, fn=fn, name="reference", what=f"the output (axis {ax})")
    return base_softmax(s.raw, axis=ax, base=r, dtype=dtype)


# --------------------------------------------------------------------------------------------
# ilr
# --------------------------------------------------------------------------------------------


def ilr_basis(n: int) -> np.ndarray:
    r"""The default ilr basis: the ``(n − 1) × n`` Helmert matrix, rows orthonormal and ⟂ 1.

    .. math:: V_{j,k} = \frac{1}{\sqrt{i(i+1)}} \text{ for } k < i, \quad
              V_{j,i} = -\sqrt{\frac{i}{i+1}}, \quad V_{j,k} = 0 \text{ for } k > i,
              \qquad i = j + 1,

    so :math:`\operatorname{ilr}(x)_j = \sqrt{\tfrac{i}{i+1}}\,
    \log\big(g(x_0, \dots, x_{i-1}) / x_i\big)` with ``g`` the geometric mean: the balance of
    the first ``i`` parts against part ``i``. This is the basis of Egozcue et al. (2003)
    obtained by Gram–Schmidt, scikit-bio's default for ``ilr`` and ``scipy.linalg.helmert(n)``
    (without its first row).

    Parameters
    ----------
    n : int
        Number of parts, ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``(n − 1, n)`` float64, in clr coordinates (each row is the clr of a basis vector).

    Examples
    --------
    >>> from softmaxkit.compositions import ilr_basis
    >>> ilr_basis(3)
    array([[ 0.70710678, -0.70710678,  0.        ],
           [ 0.40824829,  0.40824829, -0.81649658]])
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"ilr_basis: n must be an integer >= 1, got {n!r}")
    n = int(n)
    i = np.arange(1, n, dtype=np.float64)[:, None]  # row j has i = j + 1
    k = np.arange(n, dtype=np.float64)[None, :]
    scale = 1.0 / np.sqrt(i * (i + 1.0))
    return np.where(k < i, scale, np.where(k == i, -i * scale, 0.0))


def check_ilr_basis(fn: str, basis: Any, n: int, xp: Any, like: Array) -> Array:
    """A user's ilr basis: ``(n − 1, n)``, finite, rows orthonormal and orthogonal to 1."""
    if not (array_api_compat.is_array_api_obj(basis) or isinstance(basis, (list, tuple))):
        raise TypeError(f"{fn}: basis must be a 2-D array, got {type(basis).__name__}")
    b = np.asarray(host_copy(basis) if array_api_compat.is_array_api_obj(basis) else basis)
    if b.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: basis must hold real numbers, got dtype {b.dtype}")
    b = b.astype(np.float64)
    want = (n - 1, n)
    if b.shape != want:
        hint = " (pass basis.T: the rows are the basis vectors)" if b.shape == want[::-1] else ""
        raise ValueError(
            f"{fn}: basis has shape {b.shape}; expected {want}: one row per coordinate, one "
            f"column per part, in clr coordinates{hint}"
        )
    if not np.isfinite(b).all():
        idx = [int(i) for i in np.argwhere(~np.isfinite(b))[0]]
        raise ValueError(f"{fn}: basis{idx} = {float(b[tuple(idx)])!r} is not finite")
    gram = b @ b.T - np.eye(n - 1)
    if gram.size and np.abs(gram).max() > BASIS_ATOL:
        j, k = (int(v) for v in np.unravel_index(np.abs(gram).argmax(), gram.shape))
        what = (
            f"row {j} has squared norm {float(gram[j, k]) + 1.0:.6g}"
            if j == k
            else f"rows {j} and {k} have inner product {float(gram[j, k]):.6g}"
        )
        raise ValueError(
            f"{fn}: basis is not orthonormal: {what} (tolerance {BASIS_ATOL:g}); an ilr "
            "basis needs orthonormal rows, e.g. ilr_basis(n) or a sequential binary partition"
        )
    sums = b.sum(axis=1)
    if sums.size and np.abs(sums).max() > BASIS_ATOL * math.sqrt(n):
        j = int(np.abs(sums).argmax())
        raise ValueError(
            f"{fn}: basis row {j} sums to {float(sums[j]):.6g}, not 0: the rows must be clr "
            "vectors (orthogonal to (1, ..., 1)), or the coordinates would depend on a constant "
            "that softmax forgets"
        )
    return xp.asarray(b, dtype=like.dtype, device=device_of(like))


def _helmert_forward(xp: Any, lc: Array) -> Array:
    """``lc @ ilr_basis(D).T`` along the last axis in O(D): cumulative sums, no D × D matrix."""
    n = int(lc.shape[-1])
    dev = device_of(lc)
    i = np.arange(1, n, dtype=np.float64)
    head = lc[..., : n - 1]
    csum = xp.cumulative_sum(head, axis=-1)  # Σ_{k<i} l_k
    scale = xp.asarray(1.0 / np.sqrt(i * (i + 1.0)), dtype=lc.dtype, device=dev)
    ii = xp.asarray(i, dtype=lc.dtype, device=dev)
    return (csum - ii * lc[..., 1:]) * scale


def _helmert_backward(xp: Any, y: Array) -> Array:
    """``y @ ilr_basis(D)`` along the last axis in O(D) (D − 1 = y's length)."""
    m = int(y.shape[-1])
    dev = device_of(y)
    i = np.arange(1, m + 1, dtype=np.float64)
    w = y * xp.asarray(1.0 / np.sqrt(i * (i + 1.0)), dtype=y.dtype, device=dev)
    # z_k = Σ_{j≥k} w_j − sqrt(k/(k+1))·y_{k−1}: a reverse cumulative sum (0 at k = D − 1).
    tail = xp.flip(xp.cumulative_sum(xp.flip(w, axis=-1), axis=-1), axis=-1)
    zeros = xp.zeros((*tuple(y.shape[:-1]), 1), dtype=y.dtype, device=dev)
    diag = y * xp.asarray(np.sqrt(i / (i + 1.0)), dtype=y.dtype, device=dev)
    return xp.concat([tail, zeros], axis=-1) - xp.concat([zeros, diag], axis=-1)


@quiet
def ilr(x: Any, /, *, basis: Any = None, axis: int = -1, dtype: Any = None) -> Array:
    r"""Isometric log-ratio: :math:`\operatorname{ilr}(x) = V\,\operatorname{clr}(x)`, the
    coordinates of ``x`` in an orthonormal basis of the simplex (Aitchison geometry).

    ``V`` is ``(D − 1) × D`` with orthonormal rows orthogonal to :math:`(1, \dots, 1)` (a
    basis of the clr plane). The default is the Helmert basis of :func:`ilr_basis`, the same
    as scikit-bio's default: :math:`\operatorname{ilr}(x)_j = \sqrt{\tfrac{i}{i+1}}\,
    \log\big(g(x_0..x_{i-1}) / x_i\big)`, ``i = j + 1``. Distances are kept:
    :math:`\lVert \operatorname{ilr}(x) - \operatorname{ilr}(y) \rVert` is the Aitchison
    distance.

    Parameters
    ----------
    x : array_like
        Positive parts (need not sum to 1), any array-API array.
    basis : array_like, optional
        A ``(D − 1, D)`` basis in clr coordinates (rows = basis vectors, as scikit-bio), e.g.
        from a sequential binary partition. Checked: finite, :math:`|VV^\top - I| \le 10^{-6}`
        and :math:`|V\mathbf{1}| \le 10^{-6}\sqrt{D}` entrywise. A concrete array (not a
        traced one); converted to ``x``'s array kind.
    axis : int, default -1
        The axis holding a composition (a single axis).
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        ``x``'s shape with ``D − 1`` entries along ``axis``.

    Raises
    ------
    ValueError
        Naming the position: a zero part (ilr coordinates do not exist there: call
        :func:`replace_zeros` first, or use :func:`clr`), a NaN, infinite or negative part, a
        row of zeros; a basis of the wrong shape, not orthonormal, or not orthogonal to 1.

    Notes
    -----
    The clr is ``inverse_softmax(x, gauge="center", normalize=True)``. With the default basis
    the product is formed in O(D) by cumulative sums (no ``D × D`` matrix). Accuracy: the
    logs cancel in the clr, so the error is measured in ulps of
    :math:`L \sum_k |V_{jk}|` with :math:`L = \max_i |\log x_i|`; against 50-digit values it
    is within 2 ulp (cumulative sums) and 1 ulp (explicit matrix).

    Unlike scikit-bio, a basis whose rows do not sum to 0 is rejected: its coordinates would
    not be inverted by :func:`ilr_inv`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import ilr, ilr_basis
    >>> x = np.array([0.1, 0.3, 0.4, 0.2])
    >>> ilr(x)
    array([-0.7768362 , -0.68339802,  0.11704769])
    >>> sbp = np.array([[1, 1, -1, -1], [1, -1, 0, 0], [0, 0, 1, -1]]) / np.array(
    ...     [[2.0], [np.sqrt(2)], [np.sqrt(2)]])   # balances {0,1}|{2,3}, 0|1, 2|3
    >>> ilr(x, basis=sbp)                   # first: log(sqrt(x0 x1) / sqrt(x2 x3))
    array([-0.49041463, -0.7768362 ,  0.49012907])
    """
    fn = "ilr"
    s, ax = _along(fn, x, axis, why="a composition lies along it", name="x", dtype=dtype)
    xp = s.xp
    n = _n_parts(fn, s.shape, s.axes)
    bad = _check_parts(fn, s, zeros="raise")
    lc = inverse_softmax(s.raw, axis=ax, gauge="center", normalize=True, dtype=s.compute_dtype)
    lc = xp.moveaxis(lc, ax, -1)
    if basis is None:
        y = _helmert_forward(xp, lc)
    else:
        v = check_ilr_basis(fn, basis, n, xp, lc)
        y = xp.matmul(lc, xp.matrix_transpose(v))
    y = xp.moveaxis(y, -1, ax)
    if bad is not None:
        y = _nan_rows(xp, y, bad)
    return finish(xp, y, s.out_dtype)


@quiet
def ilr_inv(y: Any, /, *, basis: Any = None, axis: int = -1, dtype: Any = None) -> Array:
    r"""Inverse isometric log-ratio: :math:`\operatorname{ilr}^{-1}(y) =
    \operatorname{softmax}(V^\top y)`.

    :math:`V^\top y` are the clr coordinates (they sum to 0 because the rows of ``V`` do), and
    softmax closes their exponentials.

    Parameters
    ----------
    y : array_like
        ilr coordinates, ``D − 1`` along ``axis``.
    basis : array_like, optional
        The ``(D − 1, D)`` basis used by :func:`ilr` (checked the same way); default
        :func:`ilr_basis`.
    axis : int, default -1
        A single axis.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        The closed composition, ``D`` entries along ``axis``.

    Notes
    -----
    Non-finite coordinates are passed to softmax through :math:`V^\top y`: NaN (or an
    ``inf − inf`` there) makes the row NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.compositions import ilr_inv
    >>> ilr_inv(np.array([0.1, 0.3, 0.6]))
    array([0.34180297, 0.29672718, 0.22054469, 0.14092516])
    """
    fn = "ilr_inv"
    s, ax = _along(fn, y, axis, why="a composition lies along it", name="y", dtype=dtype)
    xp = s.xp
    yc = xp.moveaxis(s.x, ax, -1)
    n = int(yc.shape[-1]) + 1
    if basis is None:
        z = _helmert_backward(xp, yc)
    else:
        v = check_ilr_basis(fn, basis, n, xp, yc)
        z = xp.matmul(yc, v)
    z = xp.moveaxis(z, -1, ax)
    return softmax(z, axis=ax, dtype=s.out_dtype)
