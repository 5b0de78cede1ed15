r"""The two-class case of softmax: the logistic sigmoid, its logarithm and its inverse.

With two classes and the second logit fixed at 0, softmax is the logistic sigmoid,

.. math:: \sigma_T(x) = \frac{e^{x/T}}{e^{x/T} + e^0} = \frac{1}{1 + e^{-x/T}}
          = \operatorname{softmax}([x, 0], T)_0,

and :func:`logit` is its inverse, the base-state logit of the pair ``(p, 1 − p)``. These maps
are elementwise (no ``axis``, no ``where``) and share the semantics of the core maps:

* ``temperature`` T ≥ 0 is a number or an array broadcastable against ``x``; T = 0 is the
  hardmax limit (1 for x > 0, 1/2 at x = 0, 0 for x < 0) and T = inf the uniform limit (1/2);
* extended reals are limits, taken before the temperature: ``sigmoid(+inf) = 1``,
  ``sigmoid(−inf) = 0`` at every T; NaN gives NaN; no other NaN appears;
* float16/bfloat16 are computed in float32 (float64 on NumPy, which then rounds once) and
  returned in the input dtype; integers promote to the default float.

Accuracy: everything is computed from ``e = exp(−|x|/T)`` ≤ 1, with ``|x|/T`` carried in
double-word arithmetic (a temperature does not cost the large arguments their precision), so
the results are within 1 ulp of the exact values over the whole float range — subnormal
``sigmoid(−745)``, ``log_sigmoid(−800) == −800``, ``log_sigmoid(40) ≈ −4.25e−18`` (which
``log(sigmoid(40))`` rounds to 0).
"""

from __future__ import annotations

import math
from typing import Any

from softmaxkit._base.arrays import first_index, host_copy
from softmaxkit._base.core import (
    Setup,
    dtype_name,
    finish,
    full_like_scalar,
    is_lazy,
    quiet,
    setup,
)
from softmaxkit._base.dask import is_dask
from softmaxkit._base.dispatch import is_traced_tensor, torch_autograd
from softmaxkit._base.double_word import exp_dw
from softmaxkit._base.errors import (
    InvalidInputError,
    InvalidProbabilityError,
    fmt_value,
    position,
)
from softmaxkit._base.kernel import divide_dw

__all__ = ["log1mexp", "log_sigmoid", "logit", "sigmoid"]

Array = Any


# --------------------------------------------------------------------------------------------
# the shared pieces: validation, Dask, and e = exp(−|x|/T)
# --------------------------------------------------------------------------------------------


def _setup(fn: str, x: Any, temperature: Any, dtype: Any, name: str = "x") -> Setup:
    """The core layer's validation with every entry its own row (an elementwise map)."""
    return setup(fn, x, axis=(), temperature=temperature, dtype=dtype, name=name)


def _dask_map(fn: Any, prep: Setup, **kw: Any) -> Array:
    """An elementwise map on a Dask array: every block runs the NumPy path (no rechunking; a
    temperature array is broadcast and chunked like ``x``)."""
    import dask.array as da

    x = prep.raw
    temp = prep.temp
    out_dtype = prep.out_dtype
    extras: list[Any] = []
    t_arg: Any = {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(temp.kind, temp.value)
    if temp.kind == "array":
        extras.append(da.broadcast_to(da.asarray(temp.value), x.shape).rechunk(x.chunks))

    def run(block: Any, *others: Any) -> Any:
        t = others[0] if others else t_arg
        return fn(block, temperature=t, dtype=out_dtype, **kw)

    return da.map_blocks(run, x, *extras, dtype=out_dtype, meta=x._meta.astype(out_dtype))


def _scaled(prep: Setup) -> tuple[Array, Array, Array, Array]:
    """``(a, e, q, r)``: ``a`` the input, ``q + r = −|a|/T`` in double-word arithmetic and
    ``e = exp(q + r)`` (≤ 1), with the limits of T = 0 and T = inf folded into ``q``.

    At T = 0, ``q`` is 0 where ``a = 0`` and −inf elsewhere (σ is then the hardmax of
    ``(a, 0)``); at T = inf, ``q`` is 0 for finite ``a`` (uniform) and stays −inf at ±inf (the
    limits along the ray come first). NaN stays NaN.
    """
    xp, a, temp = prep.xp, prep.x, prep.temp
    neg = -xp.abs(a)
    zero = full_like_scalar(xp, neg, 0.0)
    r = zero
    if temp.kind == "scalar":
        q, r = divide_dw(xp, neg, zero, float(temp.value))
    elif temp.kind == "array":
        t = temp.value
        t0, tinf = t == 0, xp.isinf(t)
        q, r = divide_dw(xp, neg, zero, xp.where(t0 | tinf, full_like_scalar(xp, t, 1.0), t))
        q = xp.where(t0, _hard(xp, neg), xp.where(tinf, _flat(xp, neg), q))
        r = xp.where(t0 | tinf, zero, r)
    elif temp.kind == "zero":
        q = _hard(xp, neg)
    elif temp.kind == "inf":
        q = _flat(xp, neg)
    else:
        q = neg
    e = exp_dw(xp, q, r)
    return a, e, q, r


def _ratio(xp: Any, num: Array, e: Array) -> Array:
    """``num / (1 + e)`` for ``|e| ≤ 1`` and ``num`` ∈ {1, e}, to about half an ulp: see
    :func:`_quotient`."""
    y, corr = _quotient(xp, num, e)
    res = y + xp.where(xp.isfinite(corr), corr, full_like_scalar(xp, corr, 0.0))
    return xp.where(xp.isnan(e), e, res)


def _quotient(xp: Any, num: Array, e: Array) -> tuple[Array, Array]:
    """``num / (1 + e) = y + corr`` as an unevaluated sum, for ``|e| ≤ 1``, ``num ≈ ±e`` or 1.

    ``1 + e = h + l`` exactly (Fast2Sum), and the quotient ``y = num/h`` is corrected by its
    residual ``num − y·(h + l)``, formed exactly with Dekker's product: the rounding of
    ``1 + e`` and of the division then cost nothing, and the result keeps only the error of
    ``e`` itself (the library's exp) plus the final rounding.
    """
    h = 1.0 + e
    lo = e - (h - 1.0)
    y = num / h
    c = 134217729.0 if "float64" in str(y.dtype) else 4097.0  # 2**27 + 1, 2**12 + 1
    # Veltkamp splits of y and h (both ≤ 2 in magnitude: no overflow).
    ty, th = c * y, c * h
    yh = ty - (ty - y)
    yl = y - yh
    hh = th - (th - h)
    hl = h - hh
    p = y * h
    pe = ((yh * hh - p) + yh * hl + yl * hh) + yl * hl
    # num − p is exact (p is within a factor 2 of num); y·l is a small correction.
    corr = ((num - p) - pe - y * lo) / h
    return y, corr


def _hard(xp: Any, neg: Array) -> Array:
    """−|x|/T at T = 0: 0 at x = 0, −inf elsewhere (NaN kept)."""
    return xp.where((neg == 0) | xp.isnan(neg), neg, full_like_scalar(xp, neg, -math.inf))


def _flat(xp: Any, neg: Array) -> Array:
    """−|x|/T at T = inf: 0 for finite x, −inf at ±inf (NaN kept)."""
    return xp.where(xp.isfinite(neg), full_like_scalar(xp, neg, 0.0), neg)


def _values_known(a: Any) -> bool:
    """Whether an array's values can be inspected (not Dask, not traced)."""
    return not (is_lazy(a) or is_traced_tensor(a))


# --------------------------------------------------------------------------------------------
# the maps
# --------------------------------------------------------------------------------------------


@quiet
@torch_autograd
def sigmoid(x: Any, /, *, temperature: Any = 1.0, dtype: Any = None) -> Array:
    r"""The logistic sigmoid with a temperature: :math:`\sigma_T(x) = 1 / (1 + e^{-x/T})`.

    The two-class softmax: ``sigmoid(x, temperature=T) == softmax([x, 0], temperature=T)[0]``.

    Parameters
    ----------
    x : array_like
        Logits (log-odds against a base class at 0); any array-API array (NumPy, PyTorch,
        JAX, Dask, ...). Integers promote to the default float.
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``x``. T = 0 gives the hardmax limit, T = inf
        the uniform limit 1/2.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        Probabilities in [0, 1], same shape and array kind as ``x``.

    Notes
    -----
    Computed as ``1/(1 + e)`` for x ≥ 0 and ``e/(1 + e)`` for x < 0 with ``e = exp(−|x|/T)``,
    so nothing overflows and tiny results keep their relative precision down to the
    subnormals (``sigmoid(-745.0) == 5e-324``). Edge cases: ``sigmoid(+inf) = 1``,
    ``sigmoid(−inf) = 0`` at every T; at T = 0, 1 for x > 0, 1/2 at 0 and 0 for x < 0; at
    T = inf, 1/2 for finite x; NaN gives NaN. Within 1 ulp of the exact value.

    The derivative is :math:`\sigma(1 - \sigma)/T`, formed from ``σ(x)`` and ``σ(−x)`` (see
    :func:`~softmaxkit.sigmoid_jvp`); PyTorch tensors that require grad go through an autograd
    Function with that closed form.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sigmoid
    >>> sigmoid(np.array([-np.inf, -745.0, 0.0, 2.0, np.inf]))
    array([0.00000000e+000, 4.94065646e-324, 5.00000000e-001, 8.80797078e-001,
           1.00000000e+000])
    >>> sigmoid(np.array([-1.0, 0.0, 1.0]), temperature=0)
    array([0. , 0.5, 1. ])
    """
    prep = _setup("sigmoid", x, temperature, dtype)
    if is_dask(prep.raw):
        return _dask_map(sigmoid, prep)
    xp = prep.xp
    if prep.empty:
        return finish(xp, prep.x, prep.out_dtype)
    a, e, _, _ = _scaled(prep)
    res = _ratio(xp, xp.where(a >= 0, full_like_scalar(xp, e, 1.0), e), e)
    return finish(xp, res, prep.out_dtype)


@quiet
@torch_autograd
def log_sigmoid(x: Any, /, *, temperature: Any = 1.0, dtype: Any = None) -> Array:
    r"""The log of the sigmoid: :math:`\log\sigma_T(x) = -\log(1 + e^{-x/T})`, without forming σ.

    The two-class log_softmax: ``log_sigmoid(x, temperature=T) ==
    log_softmax([x, 0], temperature=T)[0]``.

    Parameters
    ----------
    x, temperature, dtype
        As for :func:`sigmoid`.

    Returns
    -------
    array
        Log-probabilities (≤ 0), same shape and array kind as ``x``.

    Notes
    -----
    Computed as ``−log1p(e)`` for x ≥ 0 and ``x/T − log1p(e)`` for x < 0, with
    ``e = exp(−|x|/T)``: large positive x keep their tiny result
    (``log_sigmoid(40.0) = −4.248354255291589e−18``, where ``log(sigmoid(40))`` gives 0) and
    large negative x give ``x/T`` exactly (``log_sigmoid(-800.0) == -800.0``). Edge cases:
    ``log_sigmoid(−inf) = −inf``, ``log_sigmoid(+inf) = 0``; at T = 0, 0 for x > 0, −log 2 at 0,
    −inf for x < 0; at T = inf, −log 2 for finite x; NaN gives NaN. Within 1 ulp.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_sigmoid
    >>> log_sigmoid(np.array([-800.0, 0.0, 40.0]))
    array([-8.00000000e+02, -6.93147181e-01, -4.24835426e-18])
    """
    prep = _setup("log_sigmoid", x, temperature, dtype)
    if is_dask(prep.raw):
        return _dask_map(log_sigmoid, prep)
    xp = prep.xp
    if prep.empty:
        return finish(xp, prep.x, prep.out_dtype)
    a, e, q, r = _scaled(prep)
    tail = xp.log1p(e)
    # x < 0: q + r = −|x|/T = x/T; the sum of negatives does not cancel, and r is added last
    # so that its bits count. (+ 0.0 turns the −0.0 of −log1p(0) into 0.)
    res = xp.where(a >= 0, 0.0 - tail, (q - tail) + r)
    return finish(xp, res + 0.0, prep.out_dtype)


@quiet
@torch_autograd
def logit(p: Any, /, *, temperature: Any = 1.0, dtype: Any = None) -> Array:
    r"""The log-odds, inverse of :func:`sigmoid`: :math:`T \log\frac{p}{1 - p}`.

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1]; any array-API array.
    temperature : float or array, default 1.0
        T > 0 and finite (an array broadcastable against ``p``): the inverse of
        ``sigmoid(·, temperature=T)``. T = 0 and T = inf are not invertible (the sigmoid is
        then a step or the constant 1/2): ``ValueError``.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        Logits, same shape and array kind as ``p``; ``logit(0) = −inf``, ``logit(1) = +inf``.

    Raises
    ------
    InvalidProbabilityError
        (a ``ValueError``) for an entry that is NaN, negative or greater than 1, naming its
        position and value. Arrays whose values cannot be inspected (Dask, ``jax.jit``
        tracers, ``torch.compile``) are not checked: such entries give NaN there.
    ValueError
        For T = 0 or T = inf.

    Notes
    -----
    Computed as ``log(p/(1 − p))`` for p < 1/4, with the quotient in double-word arithmetic,
    and as ``2·atanh(2p − 1)`` above (where ``2p − 1`` is exact), so that logits near 0
    (p near 1/2) and near ±inf keep their relative precision: within 1 ulp (T = 1).
    ``logit(sigmoid(x)) == x`` up to the rounding of σ.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logit
    >>> logit(np.array([0.0, 0.25, 0.5, 1.0]))
    array([       -inf, -1.09861229,  0.        ,         inf])
    >>> logit(np.array([0.2, 1.5]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    softmaxkit._base.errors.InvalidProbabilityError: logit: p[1] = 1.5 is greater than 1; ...
    """
    fn = "logit"
    prep = _setup(fn, p, temperature, dtype, name="p")
    temp = prep.temp
    if temp.kind == "zero":
        raise ValueError(
            f"{fn}: temperature=0 is not allowed: the sigmoid at T = 0 is a step, which keeps "
            "only the sign of x; it is not invertible there; use a temperature > 0"
        )
    if temp.kind == "inf":
        raise ValueError(
            f"{fn}: temperature=inf is not allowed: the sigmoid at T = inf is 1/2 whatever x; "
            "it is not invertible there; use a finite temperature"
        )
    xp = prep.xp
    pc = prep.x
    if temp.kind == "array" and _values_known(temp.value):
        t = host_copy(temp.value)
        bad = ~((t > 0) & (t < math.inf))
        if bad.any():
            idx = tuple(int(i) for i in bad.nonzero()[0]) if t.ndim else ()
            raise ValueError(
                f"{fn}: temperature{list(idx)} = {float(t[idx])!r} is not allowed: the "
                "sigmoid is not invertible at T = 0 or T = inf; temperatures must be > 0 "
                "and finite"
            )
    if _values_known(pc) and not prep.empty:
        _check_probabilities(fn, xp, pc, prep.raw)
    if is_dask(prep.raw):
        return _dask_map(_logit_unchecked, prep)
    return _logit_unchecked(prep)


@quiet
def _logit_unchecked(p: Any, *, temperature: Any = 1.0, dtype: Any = None) -> Array:
    """The logit without the check of the values (Dask blocks, whose positions would be
    block-relative): entries outside [0, 1] give NaN. Takes a prepared record or an array."""
    prep = p if isinstance(p, Setup) else _setup("logit", p, temperature, dtype, name="p")
    xp, pc, temp = prep.xp, prep.x, prep.temp
    if prep.empty:
        return finish(xp, pc, prep.out_dtype)
    low = (pc < 0.25) & (pc > 0)
    one = full_like_scalar(xp, pc, 1.0)
    pl = xp.where(low, pc, full_like_scalar(xp, pc, 0.125))
    ph = xp.where(low, full_like_scalar(xp, pc, 0.5), pc)
    # p/(1 − p) = y + c in double word: the log then sees its argument to twice the precision.
    y, c = _quotient(xp, pl, -pl)
    res = xp.where(low, xp.log(y) + c / y, 2.0 * xp.atanh(2.0 * ph - one))
    if temp.kind == "scalar":
        res = res * float(temp.value)
    elif temp.kind == "array":
        res = res * temp.value
    return finish(xp, res, prep.out_dtype)


def _check_probabilities(fn: str, xp: Any, pc: Array, raw: Any) -> None:
    """Raise for the first entry that is NaN, negative or greater than 1."""
    checks = (
        (xp.isnan(pc), "is NaN; probabilities must be numbers in [0, 1]", "entry"),
        (pc < 0, "is negative; probabilities must be in [0, 1]", "entry"),
        (pc > 1, "is greater than 1; probabilities must be in [0, 1]", "greater"),
    )
    for cond, text, kind in checks:
        idx = first_index(xp, cond)
        if idx is not None:
            v = fmt_value(float(host_copy(pc)[idx]), dtype_name(raw.dtype))
            reason = f"{v} {text}"
            raise InvalidProbabilityError(f"{fn}: {position('p', idx)} = {reason}", kind, idx,
                                          reason)


@quiet
def log1mexp(x: Any, /, *, dtype: Any = None) -> Array:
    r"""``log(1 − exp(x))`` for x ≤ 0, accurately: the log of a complement given in log space.

    With ``x = log p`` this is ``log(1 − p)``; e.g. ``log1mexp(log_sigmoid(x)) ==
    log_sigmoid(−x)`` up to rounding.

    Parameters
    ----------
    x : array_like
        Values ≤ 0; any array-API array.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype).

    Returns
    -------
    array
        ``log(1 − e^x)`` (≤ 0), same shape and array kind as ``x``: 0 at −inf, −inf at 0.

    Raises
    ------
    InvalidInputError
        (a ``ValueError``) for an entry > 0 (whose ``1 − e^x`` is negative), naming its
        position. Arrays whose values cannot be inspected (Dask, traced) give NaN there.

    Notes
    -----
    Mächler's rule ("Accurately computing log(1 − exp(−|a|))", 2012): ``log(−expm1(x))`` for
    x > −log 2 and ``log1p(−exp(x))`` below, each accurate where the other cancels.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log1mexp
    >>> log1mexp(np.array([-np.inf, -50.0, -1e-20, 0.0]))
    array([ 0.00000000e+00, -1.92874985e-22, -4.60517019e+01,            -inf])
    """
    fn = "log1mexp"
    prep = setup(fn, x, axis=(), dtype=dtype)
    xp, xc = prep.xp, prep.x
    if _values_known(xc) and not prep.empty:
        idx = first_index(xp, xc > 0)
        if idx is not None:
            v = fmt_value(float(host_copy(xc)[idx]), dtype_name(prep.raw.dtype))
            reason = f"{v} is positive; log(1 - exp(x)) needs x <= 0"
            raise InvalidInputError(f"{fn}: {position('x', idx)} = {reason}", "entry", idx,
                                    reason)
    if is_dask(prep.raw):
        import dask.array as da

        return da.map_blocks(lambda b: log1mexp(b, dtype=prep.out_dtype), prep.raw,
                             dtype=prep.out_dtype, meta=prep.raw._meta.astype(prep.out_dtype))
    if prep.empty:
        return finish(xp, xc, prep.out_dtype)
    near = xc > -math.log(2.0)
    xn = xp.where(near, xc, full_like_scalar(xp, xc, -1.0))
    xf = xp.where(near, full_like_scalar(xp, xc, -1.0), xc)
    res = xp.where(near, xp.log(-xp.expm1(xn)), xp.log1p(-xp.exp(xf)))
    return finish(xp, res + 0.0, prep.out_dtype)  # (+ 0.0: log1mexp(−inf) is 0, not −0)
