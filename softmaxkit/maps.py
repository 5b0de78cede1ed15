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
import numbers
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base import fast as _fast
from softmaxkit._base.arrays import device_of, numpy_scalar, size_of
from softmaxkit._base.core import (
    check_out,
    dtype_name,
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
        return numpy_scalar(finish(xp, res, out_dtype))
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
        Probabilities summing to 1 along ``axis``, same array kind and shape as ``x`` (a 0-d
        NumPy input gives a NumPy scalar, as NumPy's ufuncs and SciPy do).

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
    if prep.empty:  # (the shape's product: torch.compile traces it, also in a Function)
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
    if prep.empty:
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

    A drop-in for ``scipy.special.logsumexp`` (SciPy's own test module passes on it, see
    ``tests/test_scipy_dropin.py``) apart from the default ``axis``.

    Parameters
    ----------
    x, axis, temperature, where, dtype
        As for :func:`softmax`. Note the default ``axis=-1`` (SciPy's default is None).
        Unlike the other maps, ``x`` may be complex (see Notes).
    b : array_like, optional
        Weights (as in ``scipy.special.logsumexp``); entries with ``b == 0`` are excluded like
        masked ones, whatever their ``x``. ``x`` and ``b`` broadcast together (a ``b`` of
        larger shape broadcasts ``x``; ``axis`` refers to the broadcast shape), and the result
        has their promoted dtype, ``result_type(x, b)`` (a float64 ``b`` gives float64 for
        float32 ``x``; integers still promote to the default float; a Python number ``b`` does
        not promote; ``dtype=`` overrides). Negative weights need ``return_sign=True``
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
        A 0-d NumPy result is returned as a NumPy scalar (as NumPy's reductions and SciPy do).

    Notes
    -----
    Computed as ``max + T·log1p(s)`` with ``s`` the accurate sum of the non-maximal terms.
    T → 0 gives the maximum; T = inf gives +inf when more than one entry is admissible
    (without weights), the entry itself when exactly one is, and with weights summing to W:
    +inf if W > 1, the weighted mean if W == 1, −inf if W < 1. A row with +inf gives +inf; an
    empty row gives −inf (sign 0). The result can cancel (``max < 0 < log1p(s)``): its error is
    then bounded by a few ulp of ``|max|``, which is the conditioning of the problem.

    Complex ``x`` (or ``b``) gives the principal value of ``log Σ b·exp(x)``, imaginary part in
    (−π, π], computed as ``x_k + log b_k + log1p(s)`` around an entry ``x_k`` of largest real
    part with ``log1p`` of the complex ``s`` in real arithmetic (tiny real and imaginary parts
    keep their relative precision); rows holding complex infinities follow C99, as the direct
    ``log(sum(exp(x)))`` does. With ``return_sign`` the value is ``log |Σ|`` (real) and the
    sign the unit complex number ``Σ/|Σ|``. Complex input takes ``temperature=1`` only (the
    smooth maximum is a real notion), no ``out=`` and no ``dtype=``; the other maps refuse it.

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
    >>> logsumexp(np.array([0.0, 1j * np.pi / 2]))     # log(1 + i)
    np.complex128(0.3465735902799727+0.7853981633974483j)
    >>> logsumexp(np.zeros((2, 1)), b=np.ones(3))       # b broadcasts x to (2, 3)
    array([1.09861229, 1.09861229])
    """
    fn = "logsumexp"
    x, b = _as_arrays(x), _as_arrays(b, keep_scalar=True)
    if _is_complex(x) or _is_complex(b):
        return _complex_logsumexp(x, axis, temperature, where, b, keepdims, return_sign, dtype, out)
    if b is not None:
        x, dtype = _with_weights(x, b, dtype, fn)
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
    if prep.empty:
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


def _as_arrays(a: Any, keep_scalar: bool = False) -> Any:
    """Lists and NumPy scalars as NumPy arrays (Python numbers too unless ``keep_scalar``).

    Anything NumPy cannot make an array of is returned as it is: :func:`setup` names it.
    """
    if keep_scalar and isinstance(a, numbers.Number) and not isinstance(a, np.generic):
        return a
    if isinstance(a, (list, tuple, numbers.Number)) or (
        isinstance(a, np.generic) and not isinstance(a, np.ndarray)
    ):
        try:
            return np.asarray(a)
        except ValueError:
            return a
    return a


def _is_complex(a: Any) -> bool:
    if a is None:
        return False
    if isinstance(a, numbers.Number) and not isinstance(a, np.generic):
        return isinstance(a, complex)
    dt = getattr(a, "dtype", None)
    return dt is not None and dtype_name(dt).startswith("complex")


def _weighted_dtype(xp: Any, x: Array, b: Any) -> Any:
    """``result_type(x, b)`` in ``x``'s namespace, or None where it is not a real float.

    A Python number ``b`` is weak (it does not promote, as in NumPy 2 and the array API).
    """
    if not hasattr(b, "dtype") or not hasattr(x, "dtype"):
        return None
    b_dtype = b.dtype
    if not isinstance(b, type(x)):
        b_dtype = getattr(xp, dtype_name(b.dtype), None)
        if b_dtype is None:
            return None
    try:
        res = xp.result_type(x.dtype, b_dtype)
    except (TypeError, ValueError):
        return None
    name = dtype_name(res)
    return res if name.startswith("float") or name == "bfloat16" else None


def _with_weights(x: Any, b: Any, dtype: Any, fn: str) -> tuple[Any, Any]:
    """SciPy's rules for weights: ``x`` broadcast against ``b``, dtype ``result_type(x, b)``.

    The result of ``logsumexp(a, b=b)`` is the one of ``log Σ b·exp(a)`` with ``b·exp(a)``
    evaluated by the array library's own promotion and broadcasting, as
    ``scipy.special.logsumexp`` defines it: a float64 ``b`` gives a float64 result for float32
    ``a`` (integers still promote to the default float), and a ``b`` of larger shape
    broadcasts ``a`` (``axis`` then refers to the broadcast shape). ``dtype=`` overrides.
    """
    if not array_api_compat.is_array_api_obj(x) or not hasattr(b, "shape"):
        return x, dtype  # setup() and _prepare_weights() name what is wrong
    xp = array_api_compat.array_namespace(x)
    if dtype is None:
        promoted = _weighted_dtype(xp, x, b)
        if promoted is not None and promoted != x.dtype:
            dtype = promoted
    try:
        target = np.broadcast_shapes(tuple(x.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(
            f"{fn}: b of shape {tuple(b.shape)} does not broadcast against the input's "
            f"shape {tuple(x.shape)}"
        ) from None
    if target != tuple(x.shape):
        x = xp.broadcast_to(x, target)
    return x, dtype


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


def _complex_dtypes(xp: Any, x: Array, b: Any) -> tuple[Any, Any]:
    """The result's complex dtype (``result_type(x, b)``) and the one to compute in."""
    if b is None or not hasattr(b, "dtype"):
        res = x.dtype
        if not dtype_name(res).startswith("complex"):
            # real x, Python complex b: the complex type of x's precision
            res = xp.complex64 if dtype_name(res) in ("float32", "float16") else xp.complex128
    else:
        b_dtype = b.dtype if isinstance(b, type(x)) else getattr(xp, dtype_name(b.dtype))
        res = xp.result_type(x.dtype, b_dtype)
        if not dtype_name(res).startswith("complex"):
            res = xp.complex128
    # NumPy computes single precision in double (as for real input): one rounding at the end.
    compute = np.complex128 if isinstance(x, np.ndarray) else res
    return res, compute


def _wrap_angle(xp: Any, t: Array) -> Array:
    """Angles in (−π, π], the principal branch of the logarithm; those inside stay untouched
    (subtracting a multiple of 2π would cost a tiny angle its relative precision)."""
    wrapped = t - (2 * math.pi) * xp.ceil((t - math.pi) / (2 * math.pi))
    return xp.where((t > -math.pi) & (t <= math.pi), t, wrapped)


def _complex_logsumexp(
    x: Any,
    axis: Any,
    temperature: Any,
    where: Any,
    b: Any,
    keepdims: bool,
    return_sign: bool,
    dtype: Any,
    out: Any,
) -> Any:
    """``log Σ b·exp(x)`` for complex ``x`` or ``b``, on the principal branch (as SciPy).

    With ``k`` an entry of largest real part, ``Σ b_j e^{x_j} = b_k e^{x_k} (1 + s)`` where
    ``s = Σ_{j≠k} (b_j/b_k) e^{x_j − x_k}``, so the result is ``x_k + log b_k + log1p(s)`` with
    ``log1p`` of a complex ``s`` evaluated in real arithmetic: the real part as
    ``½·log1p(2 Re s + |s|²)`` for small ``s`` (NumPy's complex ``log1p`` loses it) and the
    imaginary part as ``atan2(Im s, 1 + Re s)``. Where that is not finite (infinite or NaN
    entries) the result is the direct ``log Σ b·exp(x)``, whose complex infinities follow C99,
    as in SciPy. With ``return_sign`` the value is ``log |Σ|`` (real) and the sign the unit
    complex number ``Σ/|Σ|``.
    """
    fn = "logsumexp"
    if out is not None:
        raise TypeError(f"{fn}: out= is not supported for complex input")
    if dtype is not None:
        raise TypeError(
            f"{fn}: dtype={dtype!r} is not supported for complex input (the result has the "
            "complex dtype of x and b)"
        )
    if not array_api_compat.is_array_api_obj(x):
        setup(fn, x)  # raises the usual message for what is not an array
    xp = array_api_compat.array_namespace(x)
    res_dtype, ct = _complex_dtypes(xp, x, b)
    if b is not None:
        if not hasattr(b, "shape"):
            b = xp.asarray(b, dtype=ct, device=device_of(x))
        elif not isinstance(b, type(x)):
            b = xp.asarray(np.asarray(b), device=device_of(x))
        try:
            shape = np.broadcast_shapes(tuple(x.shape), tuple(b.shape))
        except ValueError:
            raise ValueError(
                f"{fn}: b of shape {tuple(b.shape)} does not broadcast against the input's "
                f"shape {tuple(x.shape)}"
            ) from None
        x = xp.broadcast_to(x, shape)
        b = xp.broadcast_to(xp.astype(b, ct), shape)
    a = xp.astype(x, ct)
    # The axes, temperature and mask are validated on the real part (same shape).
    prep = setup(fn, xp.real(a), axis=axis, temperature=temperature, where=where)
    axes, mask = prep.axes, prep.mask
    if prep.temp.kind != "one":
        raise ValueError(
            f"{fn}: temperature={temperature!r} is not supported for complex input; the "
            "smooth maximum T·log Σ exp(x/T) is defined for real x (use temperature=1)"
        )
    real_dt = xp.real(a).dtype
    dev = device_of(a)
    res_real = xp.float32 if dtype_name(res_dtype) == "complex64" else xp.float64
    shape = reduced_shape(tuple(a.shape), axes)
    if size_of(a) == 0:
        lse = xp.full(shape, -math.inf, dtype=real_dt, device=dev)
        sign = xp.zeros(shape, dtype=ct, device=dev)
        lse = lse if return_sign else xp.astype(lse, ct)
    else:
        lse, sign = _complex_lse_rows(xp, a, b, mask, axes, return_sign)
    if not keepdims:
        lse = squeeze_axes(xp, lse, axes)
        sign = squeeze_axes(xp, sign, axes) if return_sign else sign
    lse = finish(xp, lse, res_real if return_sign else res_dtype)
    if return_sign:
        return numpy_scalar(lse), numpy_scalar(finish(xp, sign, res_dtype))
    return numpy_scalar(lse)


def _complex_lse_rows(
    xp: Any, a: Array, b: Array | None, mask: Array | None, axes: tuple[int, ...], signed: bool
) -> tuple[Array, Array | None]:
    """The reduction of :func:`_complex_logsumexp` with kept axes: (value, sign or None)."""
    czero = xp.zeros((), dtype=a.dtype, device=device_of(a))
    # Excluded entries (masked, or zero weight) add nothing, whatever their value (SciPy's
    # rule for b == 0 even where a is inf or NaN).
    out_ = None if mask is None else ~mask
    if b is not None:
        out_ = (b == 0) if out_ is None else (out_ | (b == 0))
    if out_ is not None:
        a = xp.where(out_, czero - math.inf, a)
    re = xp.real(a)
    # One entry of largest real part per row (the last in C order when several tie).
    idx = xp.reshape(xp.arange(size_of(a), device=device_of(a)), a.shape)
    top = xp.where(re == xp.max(re, axis=axes, keepdims=True), idx, -1)
    pick = idx == xp.max(top, axis=axes, keepdims=True)
    m = xp.sum(xp.where(pick, a, czero), axis=axes, keepdims=True)
    terms = xp.exp(a - m)
    bk = None
    if b is not None:
        bk = xp.sum(xp.where(pick, b, czero), axis=axes, keepdims=True)
        terms = terms * b / bk
    s = xp.sum(xp.where(pick, czero, terms), axis=axes, keepdims=True)
    sr, si = xp.real(s), xp.imag(s)
    small = xp.abs(s) < 0.5
    mag = xp.where(
        small,
        0.5 * xp.log1p(sr * (2.0 + sr) + si * si),
        xp.log(xp.abs(s + 1.0)),
    )  # log |1 + s|
    ang = xp.atan2(si, 1.0 + sr)
    mag = mag + xp.real(m)
    ang = ang + xp.imag(m)
    if bk is not None:
        mag = mag + xp.log(xp.abs(bk))
        ang = ang + xp.atan2(xp.imag(bk), xp.real(bk))
    ang = _wrap_angle(xp, ang)
    ok = xp.isfinite(mag) & xp.isfinite(ang)
    # The direct sum, for the rows the careful one cannot represent (C99 complex infinities).
    direct = xp.exp(a) if b is None else b * xp.exp(a)
    total = xp.sum(direct, axis=axes, keepdims=True)
    if signed:
        unit = xp.astype(xp.cos(ang), a.dtype) + 1j * xp.astype(xp.sin(ang), a.dtype)
        sign = xp.where(ok, unit, xp.sign(total))
        return xp.where(ok, mag, xp.log(xp.abs(total))), sign
    value = xp.astype(mag, a.dtype) + 1j * xp.astype(ang, a.dtype)
    fallback = xp.log(total)
    fallback = xp.astype(xp.real(fallback), a.dtype) + 1j * xp.astype(
        _wrap_angle(xp, xp.imag(fallback)), a.dtype
    )
    return xp.where(ok, value, fallback), None


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
    if prep.empty:
        return finish(xp, xc, out_dtype)
    if not axes:
        return numpy_scalar(finish(xp, pointwise(xp, xc, mask, log=False), out_dtype))
    if mask is not None:
        xc = xp.where(mask, xc, full_like_scalar(xp, xc, -math.inf))
    m = xp.max(xc, axis=axes, keepdims=True)
    h = hardmax_from(xp, xc, m, axes)
    h = apply_where(xp, xp.isnan(m), math.nan, h)
    return finish(xp, h, out_dtype)
