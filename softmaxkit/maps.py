"""The core maps: softmax, log_softmax, logsumexp and hardmax.

All four share the semantics laid out in the package documentation:

* ``axis`` is an int, a tuple of ints (normalise jointly over several axes) or None (all axes);
* ``temperature`` T ≥ 0 is a number or an array broadcastable against the reduced shape;
  T = 0 is the hardmax limit, T = inf the uniform limit over admissible entries;
* ``where`` is a boolean mask; False entries are excluded (probability exactly 0);
* extended reals: −inf entries get probability 0; +inf entries share the mass equally (the
  limit along the ray, whatever T); a row with no admissible entry is *empty* and gives zeros
  (softmax), −inf (log_softmax, logsumexp); NaN propagates to its own row only;
* float16/bfloat16 are computed in float32 (float64 on the NumPy fast path) and returned in
  the input dtype; integers promote to the default float.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base import fast as _fast
from softmaxkit._base.arrays import device_of, size_of
from softmaxkit._base.core import (
    check_out,
    finish,
    full_like_scalar,
    is_numpy,
    prepare,
    quiet,
    reduced_shape,
    setup,
    squeeze_axes,
)
from softmaxkit._base.dispatch import torch_autograd
from softmaxkit._base.kernel import (
    apply_where,
    hardmax_from,
    log_softmax_generic,
    logsumexp_generic,
    pointwise,
    softmax_generic,
)

__all__ = ["hardmax", "log_softmax", "logsumexp", "softmax"]

Array = Any


def _out_dtype(out: Any, dtype: Any) -> Any:
    """With ``out=`` and no ``dtype=``, the result takes ``out``'s dtype (as in NumPy)."""
    if out is not None and dtype is None and isinstance(out, np.ndarray):
        return out.dtype
    return dtype


def _deliver(xp: Any, res: Array, out: Any, out_dtype: Any) -> Array:
    """The result in the output dtype, written into ``out`` when one was given."""
    if out is None:
        return finish(xp, res, out_dtype)
    if res is not out:
        np.copyto(out, res.reshape(out.shape), casting="same_kind")
    return out


@quiet
@torch_autograd
def softmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    out: Any = None,
) -> Array:
    r"""Softmax with a temperature: :math:`p_i = e^{x_i/T} / \sum_j e^{x_j/T}`.

    Parameters
    ----------
    x : array_like
        Logits; any array-API array (NumPy, PyTorch, JAX, Dask, ...). Integers promote to the
        default float.
    axis : int, tuple of int or None, default -1
        Axis or axes normalised jointly; None normalises over all axes.
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``x`` with the reduced axes of length 1.
        T = 0 gives :func:`hardmax`; T = inf the uniform distribution over admissible entries.
    where : array of bool, optional
        Entries that take part; False entries get probability exactly 0.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype, or ``out``'s).
    out : numpy.ndarray, optional
        NumPy only: an array of the result's shape to write into (it is returned). On the
        fast path the result goes straight into it, which saves allocating (and first
        touching) a new array; ``out`` may be ``x`` itself.

    Returns
    -------
    array
        Probabilities summing to 1 along ``axis``, same array kind and shape as ``x``.

    Notes
    -----
    Extended reals are limits: −inf entries get 0; if a row holds +inf entries they share the
    mass equally and every finite entry gets 0, whatever the temperature; a row whose entries
    are all −inf or masked gives all zeros (never NaN). A NaN makes its row NaN, and only that
    row. The computation splits ``x − max`` exactly (TwoSum) and divides by T in double-word
    arithmetic, so results are within a few ulp of the exact value (≤ 5 in float64, ≤ 1 in
    lower precisions) even for rows spread over hundreds of units, where the textbook
    max-shift loses hundreds of ulp.

    Dask arrays stay lazy: the reduced axes are rechunked into one chunk (a row must fit in a
    worker's memory) and every block runs the NumPy path, so the result equals NumPy's bit
    for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax
    >>> softmax(np.array([1.0, 2.0, 3.0]))
    array([0.09003057, 0.24472847, 0.66524096])
    >>> softmax(np.array([1.0, 2.0, 3.0]), temperature=0)
    array([0., 0., 1.])
    >>> softmax(np.array([[0.0, np.inf, np.inf], [-np.inf, -np.inf, -np.inf]]))
    array([[0. , 0.5, 0.5],
           [0. , 0. , 0. ]])
    """
    dtype = _out_dtype(out, dtype)
    prep = setup("softmax", x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    xp, out_dtype = prep.xp, prep.out_dtype
    if out is not None:
        check_out(out, prep.raw, tuple(prep.raw.shape), dtype, fn="softmax")
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(softmax, prep, axes, temp, mask)
    if size_of(prep.raw) == 0:
        return _deliver(xp, prep.x, out, out_dtype)
    if is_numpy(prep.raw):
        res = _fast.softmax(prep, axes, temp, mask, log=False, out=out)
        if res is not None:
            return _deliver(xp, res, out, out_dtype)
    xc = prep.x
    if not axes:
        return _deliver(xp, pointwise(xp, xc, mask, log=False), out, out_dtype)
    return _deliver(xp, softmax_generic(xp, xc, axes, temp, mask), out, out_dtype)


@quiet
@torch_autograd
def log_softmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    out: Any = None,
) -> Array:
    r"""Log of the softmax: :math:`x_i/T - \log\sum_j e^{x_j/T}`, computed without forming p.

    Parameters
    ----------
    x, axis, temperature, where, dtype, out
        As for :func:`softmax`.

    Returns
    -------
    array
        Log-probabilities (≤ 0) with the shape of ``x``; excluded entries are −inf.

    Notes
    -----
    The normaliser is ``max + T·log1p(s)`` where ``s`` sums the non-maximal terms, so the
    largest entry's log-probability stays accurate when the others are tiny. Edge cases as for
    :func:`softmax`: masked and −inf entries give −inf; in a row holding +inf entries those get
    ``−log k`` (k of them) and the rest −inf; an empty row gives −inf everywhere. At T = 0 the
    maxima get ``−log k``; at T = inf every admissible entry gets ``−log n``.

    Dask arrays stay lazy; the reduced axes are rechunked into one chunk and every block
    runs the NumPy path (bit-identical to NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_softmax
    >>> log_softmax(np.array([1.0, 2.0, 3.0]))
    array([-2.40760596, -1.40760596, -0.40760596])
    >>> log_softmax(np.array([0.0, -1000.0]))
    array([    0., -1000.])
    """
    dtype = _out_dtype(out, dtype)
    prep = setup("log_softmax", x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    xp, out_dtype = prep.xp, prep.out_dtype
    if out is not None:
        check_out(out, prep.raw, tuple(prep.raw.shape), dtype, fn="log_softmax")
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(log_softmax, prep, axes, temp, mask)
    if size_of(prep.raw) == 0:
        return _deliver(xp, prep.x, out, out_dtype)
    if is_numpy(prep.raw):
        res = _fast.softmax(prep, axes, temp, mask, log=True, out=out)
        if res is not None:
            return _deliver(xp, res, out, out_dtype)
    xc = prep.x
    if not axes:
        return _deliver(xp, pointwise(xp, xc, mask, log=True), out, out_dtype)
    return _deliver(xp, log_softmax_generic(xp, xc, axes, temp, mask), out, out_dtype)


@quiet
@torch_autograd
def logsumexp(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    r"""Smooth maximum :math:`T \log \sum_i b_i e^{x_i/T}` (b = 1 by default).

    Parameters
    ----------
    x, axis, temperature, where, dtype
        As for :func:`softmax`. Note the default ``axis=-1`` (SciPy's default is None).
    b : array_like, optional
        Weights broadcastable to ``x`` (as in ``scipy.special.logsumexp``); entries with
        ``b == 0`` are excluded like masked ones. Negative weights need ``return_sign=True``
        when the weighted sum is negative, otherwise the result is NaN (as in SciPy).
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    return_sign : bool, default False
        Also return the sign of the weighted sum (+1, −1, or 0 for an empty or zero sum).
    out : numpy.ndarray, optional
        NumPy only: an array of the reduced shape (with or without kept dimensions, as
        ``keepdims`` says) for the values; it is returned.

    Returns
    -------
    array, or (array, array) with ``return_sign``
        The reduced result; its gradient with respect to ``x`` is ``softmax(x, temperature=T)``.

    Notes
    -----
    Computed as ``max + T·log1p(s)`` with ``s`` the accurate sum of the non-maximal terms.
    T → 0 gives the maximum; T = inf gives +inf when more than one entry is admissible
    (without weights), the entry itself when exactly one is, and with weights summing to W:
    +inf if W > 1, the weighted mean if W == 1, −inf if W < 1. A row with +inf gives +inf; an
    empty row gives −inf (sign 0). The result can cancel (``max < 0 < log1p(s)``): its error is
    then bounded by a few ulp of ``|max|``, which is the conditioning of the problem.

    Dask arrays stay lazy; the reduced axes are rechunked into one chunk and every block
    runs the NumPy path (bit-identical to NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logsumexp
    >>> logsumexp(np.array([1.0, 2.0, 3.0]))
    np.float64(3.40760596444438)
    >>> logsumexp(np.array([1.0, 2.0, 3.0]), temperature=0)
    np.float64(3.0)
    >>> logsumexp(np.array([[0.0, 0.0], [-np.inf, -np.inf]]), axis=1)
    array([0.69314718,       -inf])
    >>> logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -2.0]), return_sign=True)
    (np.float64(0.0), np.float64(-1.0))
    """
    fn = "logsumexp"
    dtype = _out_dtype(out, dtype)
    prep = setup(fn, x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    if out is not None:
        rshape = reduced_shape(tuple(prep.raw.shape), axes)
        if not keepdims:
            rshape = tuple(n for i, n in enumerate(rshape) if i not in axes)
        check_out(out, prep.raw, rshape, dtype, fn=fn)
    if _dask.is_dask(prep.raw):
        if b is not None:
            _prepare_weights(prep.xp, b, prep.raw, fn)
        kw = {"b": b, "keepdims": keepdims, "return_sign": return_sign}
        res = _dask.blockwise(logsumexp, prep, axes, temp, mask, **kw)
        if not return_sign:
            return res
        return res, _dask.blockwise(logsumexp, prep, axes, temp, mask, sign=True, **kw)
    xp, out_dtype, raw = prep.xp, prep.out_dtype, prep.raw
    if size_of(raw) == 0:
        # Reducing over an empty axis: the sum of no terms, log 0 = −inf (sign 0).
        shape = reduced_shape(tuple(raw.shape), axes)
        dt, dev = prep.compute_dtype, device_of(raw)
        lse = xp.full(shape, -math.inf, dtype=dt, device=dev)
        sign = xp.zeros(shape, dtype=dt, device=dev) if return_sign else None
        return _lse_out(xp, lse, sign, axes, keepdims, return_sign, out_dtype, out)
    if is_numpy(raw) and b is None:
        res = _fast.logsumexp(prep, axes, temp, mask, out=out)
        if res is not None:
            return _lse_out(xp, res, None, axes, keepdims, return_sign, out_dtype, out)
    xc = prep.x  # the input in the compute dtype: only the generic path needs the copy
    weights = None
    if b is not None:
        weights = _prepare_weights(xp, b, xc, fn)
        nz = weights != 0
        mask = nz if mask is None else (mask & nz)
    lse, sign = logsumexp_generic(xp, xc, axes, temp, mask, weights, return_sign)
    return _lse_out(xp, lse, sign, axes, keepdims, return_sign, out_dtype, out)


def _lse_out(
    xp: Any,
    lse: Array,
    sign: Array | None,
    axes: tuple[int, ...],
    keepdims: bool,
    return_sign: bool,
    out_dtype: Any,
    out: Any = None,
) -> Any:
    if return_sign and sign is None:
        # Without weights the sum is positive unless it is empty (log 0 = −inf, sign 0).
        one = full_like_scalar(xp, lse, 1.0)
        sign = xp.where(lse > -math.inf, one, 0.0 * one)
        sign = xp.where(xp.isnan(lse), lse, sign)
    if not keepdims:
        lse = squeeze_axes(xp, lse, axes)
        if sign is not None:
            sign = squeeze_axes(xp, sign, axes)
    if out is not None:
        lse = _deliver(xp, lse, out, out_dtype)
    lse = finish(xp, lse, out_dtype)
    if return_sign:
        sign = finish(xp, sign, out_dtype)
    if isinstance(lse, np.ndarray) and lse.ndim == 0 and out is None:
        # Like NumPy's own reductions (and SciPy's logsumexp): a NumPy scalar, not a 0-d array.
        lse = lse[()]
        sign = sign[()] if return_sign else sign
    return (lse, sign) if return_sign else lse


def _prepare_weights(xp: Any, b: Any, like: Array, fn: str) -> Array:
    prep = prepare(b, name="b", fn=fn)
    w = prep.x
    if prep.xp is not xp:
        w = xp.asarray(np.asarray(w), device=device_of(like))
    w = xp.astype(w, like.dtype)
    try:
        target = np.broadcast_shapes(tuple(w.shape), tuple(like.shape))
    except ValueError:
        target = None
    if target != tuple(like.shape):
        raise ValueError(
            f"{fn}: b of shape {tuple(w.shape)} does not broadcast to the input's shape "
            f"{tuple(like.shape)}"
        )
    return xp.broadcast_to(w, like.shape)


@quiet
@torch_autograd
def hardmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""The T → 0 limit of softmax: the maxima of each row share the mass equally.

    Parameters
    ----------
    x, axis, where, dtype
        As for :func:`softmax`.

    Returns
    -------
    array
        ``1/k`` on the k maximal entries of each row, 0 elsewhere; an empty row (all masked or
        −inf) gives zeros, a row holding NaN gives NaN.

    Notes
    -----
    Piecewise constant: its derivative is zero almost everywhere (and undefined at ties).

    Dask arrays stay lazy; the reduced axes are rechunked into one chunk and every block
    runs the NumPy path (bit-identical to NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import hardmax
    >>> hardmax(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
    array([[0. , 0.5, 0.5],
           [1. , 0. , 0. ]])
    """
    prep = setup("hardmax", x, axis=axis, where=where, dtype=dtype)
    axes, mask = prep.axes, prep.mask
    if _dask.is_dask(prep.raw):
        return _dask.blockwise(hardmax, prep, axes, prep.temp, mask)
    xp, out_dtype, xc = prep.xp, prep.out_dtype, prep.x
    if size_of(xc) == 0:
        return finish(xp, xc, out_dtype)
    if not axes:
        return finish(xp, pointwise(xp, xc, mask, log=False), out_dtype)
    if mask is not None:
        xc = xp.where(mask, xc, full_like_scalar(xp, xc, -math.inf))
    m = xp.max(xc, axis=axes, keepdims=True)
    h = hardmax_from(xp, xc, m, axes)
    h = apply_where(xp, xp.isnan(m), math.nan, h)
    return finish(xp, h, out_dtype)
