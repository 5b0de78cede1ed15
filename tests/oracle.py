"""Reference implementation of the softmax maps in multiple precision (mpmath, 50 digits).

Every input float is taken as the exact binary number it stores; the maps are evaluated with
50 significant digits (plus guard bits where a sum can cancel) and only then rounded, correctly
and ties to even, to the dtype under test. The tests measure the library's error against these
values in ulps of the result dtype.

The semantics follow the library's design: ``where=False`` and ``-inf`` entries are excluded,
``+inf`` entries share the mass equally, an empty row gives softmax 0, log_softmax -inf and
logsumexp -inf, a NaN makes its row NaN, ``T = 0`` is the hardmax limit and ``T = inf`` the
uniform limit over the admissible entries.

The maps return object arrays of :class:`mpmath.mpf`; :func:`round_to` turns them into arrays of
a dtype, :func:`ulp_error` measures a computed array against them. The per-element work is done
on mpmath's raw number tuples (``mpmath.libmp``), which keeps a 200 × 33 comparison well under a
second; rows are cached, so the three maps of one input share the work.

Examples
--------
>>> import numpy as np
>>> p = softmax(np.array([[0.0, 1.0, 2.0]]))
>>> [round(float(v), 12) for v in p[0]]
[0.09003057317, 0.244728471055, 0.665240955775]
>>> float(logsumexp(np.array([0.0, 0.0]), axis=0)[()]) == float(np.log(2.0))
True
>>> bool(ulp_error(np.float64(0.1), mpmath.mpf(1) / 10, np.float64)[()] < 0.5)
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import ml_dtypes
import mpmath
import numpy as np
from mpmath import libmp

__all__ = [
    "DPS",
    "exact",
    "hardmax",
    "log_softmax",
    "logsumexp",
    "logsumexp_scale",
    "max_ulp",
    "round_to",
    "softmax",
    "ulp",
    "ulp_error",
    "ulp_error_scaled",
]

DPS = 50
"""Decimal digits of the working precision."""

_PREC = libmp.dps_to_prec(DPS)  # 169 bits
_GUARD = 64  # extra bits for sums and products that may cancel afterwards
_RND = libmp.round_nearest

_ZERO, _ONE = libmp.fzero, libmp.fone
_INF, _NINF, _NAN = libmp.finf, libmp.fninf, libmp.fnan

Raw = tuple  # mpmath's raw (sign, mantissa, exponent, bitcount) tuple


# --------------------------------------------------------------------------------------------
# exact conversion, rounding and ulps
# --------------------------------------------------------------------------------------------


def _raw(v: Any) -> Raw:
    """The exact raw mpmath value of a float, integer or mpf."""
    if isinstance(v, mpmath.mpf):
        return v._mpf_
    if isinstance(v, (bool, np.bool_, int, np.integer)):
        return libmp.from_int(int(v))
    # float() of a float16/bfloat16/float32/float64 scalar is exact: they all fit in a double
    return libmp.from_float(float(v))


def _mpf(r: Raw) -> mpmath.mpf:
    return mpmath.mp.make_mpf(r)


def exact(v: Any) -> mpmath.mpf:
    """Return the binary number stored in ``v`` as an mpf, without rounding.

    >>> exact(np.float32(0.1)) == mpmath.mpf(float(np.float32(0.1)))
    True
    >>> exact(np.float32(0.1)) == mpmath.mpf("0.1")
    False
    """
    return _mpf(_raw(v))


@functools.cache
def _format_of(name: str) -> tuple[int, int, float, int]:
    fi = ml_dtypes.finfo(np.dtype(name))
    fmax = float(fi.max)
    return int(fi.nmant) + 1, int(fi.minexp), fmax, math.frexp(fmax)[1]


def _format(dtype: Any) -> tuple[int, int, float, int]:
    """(precision in bits, minimum normal exponent, largest finite value, its binary exponent)."""
    return _format_of(np.dtype(dtype).name)


def _round_raw(v: Raw, fmt: tuple[int, int, float, int]) -> float:
    """Round an exact value to the format ``fmt`` (ties to even), returned as a Python float.

    The rounding works on the exact mantissa and exponent, so there is no double rounding
    through float64, and gradual underflow and overflow follow IEEE 754.
    """
    if v == _ZERO:
        return 0.0
    if v in (_INF, _NINF, _NAN):
        return libmp.to_float(v)
    p, emin, fmax, emax2 = fmt
    sign, man, exp, bc = v
    e_v = exp + bc - 1  # floor(log2 |v|), exact
    if e_v < emin - p:  # below half the smallest subnormal: rounds to zero
        return -0.0 if sign else 0.0
    if e_v > emax2:  # at least twice the largest value: overflows
        return -math.inf if sign else math.inf
    e_q = max(e_v - p + 1, emin - p + 1)  # exponent of the ulp at |v| in the target format
    shift = exp - e_q
    if shift >= 0:
        n = man << shift
    else:
        s = -shift
        n = man >> s
        rem = man - (n << s)
        half = 1 << (s - 1)
        if rem > half or (rem == half and n & 1):
            n += 1
    try:
        r = math.ldexp(n, e_q)
    except OverflowError:
        r = math.inf
    if r > fmax:
        r = math.inf
    return -r if sign else r


def _ulp_of(a: float, fmt: tuple[int, int, float, int]) -> float:
    p, emin, fmax, _ = fmt
    a = abs(a)
    if math.isinf(a):
        a = fmax
    if a == 0.0:
        return math.ldexp(1.0, emin - p + 1)
    _, e = math.frexp(a)  # a = m * 2**e with 0.5 <= m < 1
    return math.ldexp(1.0, max(e - 1, emin) - p + 1)


def ulp(r: float, dtype: Any) -> float:
    """Return the ulp of ``dtype`` at the representable value ``r``: ``numpy.spacing(abs(r))``.

    Zero and subnormals have the ulp of the smallest subnormal; ``±inf`` gets the ulp of the
    largest finite value (so an overflow is measured against the last finite step).

    >>> ulp(1.0, np.float64) == float(np.spacing(1.0))
    True
    >>> ulp(0.0, np.float16) == float(np.spacing(np.float16(0.0)))
    True
    >>> ulp(np.inf, np.float16)
    32.0
    """
    return _ulp_of(float(r), _format(dtype))


def round_to(values: Any, dtype: Any) -> np.ndarray:
    """Round an (object) array of exact values to ``dtype``, correctly rounded.

    >>> round_to(np.array([mpmath.mpf(65519), mpmath.mpf(65520)]), np.float16).tolist()
    [65504.0, inf]
    """
    arr = np.asarray(values, dtype=object)
    fmt = _format(dtype)
    flat = [_round_raw(_raw(v), fmt) for v in arr.reshape(-1)]
    # every value is representable in dtype, so this cast is exact
    return np.array(flat, dtype=np.float64).reshape(arr.shape).astype(dtype)


def _errors(got: Any, expected: Any, scale: Any, dtype: Any) -> np.ndarray:
    """|got - expected| in ulps of ``dtype`` at the rounded ``expected`` (or at ``scale``)."""
    got_arr = np.asarray(got)
    if dtype is None:
        dtype = got_arr.dtype
    fmt = _format(dtype)
    shape = got_arr.shape
    g = got_arr.astype(np.float64).reshape(-1)
    e_flat = np.broadcast_to(np.asarray(expected, dtype=object), shape).reshape(-1)
    s_flat = (
        None if scale is None else np.broadcast_to(np.asarray(scale, dtype=object), shape).ravel()
    )
    n = g.size
    r = np.empty(n)  # the correctly rounded expected value
    delta = np.zeros(n)  # r - exact, a fraction of an ulp, as a float
    unit = np.ones(n)  # the ulp the error is measured in
    special = np.zeros(n, dtype=bool)  # expected value must be matched exactly
    for i in range(n):
        e = _raw(e_flat[i])
        if e in (_NAN, _INF, _NINF, _ZERO):
            special[i] = True
            r[i] = libmp.to_float(e)
            continue
        ri = _round_raw(e, fmt)
        if math.isinf(ri):
            # beyond the largest finite value: inf is right, the largest value nearly so
            if g[i] == ri:
                special[i], r[i] = True, ri
                continue
            ri = math.copysign(fmt[2], ri)
        r[i] = ri
        delta[i] = libmp.to_float(libmp.mpf_sub(libmp.from_float(ri), e, 60, _RND))
        if s_flat is None:
            unit[i] = _ulp_of(ri, fmt)
        else:
            unit[i] = _ulp_of(_round_raw(libmp.mpf_abs(_raw(s_flat[i])), fmt), fmt)
    with np.errstate(invalid="ignore", over="ignore"):
        # g - r is exact when g is within a factor 2 of r; farther off, its rounding is moot
        err = np.abs((g - r) + delta) / unit
    same = (g == r) | (np.isnan(g) & np.isnan(r))
    err = np.where(special, np.where(same, 0.0, np.inf), err)
    err = np.where(np.isnan(g) & ~special, np.inf, err)
    return err.reshape(shape)


def ulp_error(got: Any, expected: Any, dtype: Any = None) -> np.ndarray:
    """Return the elementwise error of ``got`` in ulps of ``dtype`` at the exact value.

    The ulp is the spacing of ``dtype`` at the correctly rounded expected value. An exact value
    that is zero, infinite or NaN must be matched exactly (error 0, otherwise ``inf``); a NaN
    where a number was expected is an error of ``inf``. An exact value beyond the largest
    finite one may come back as inf or near the largest value (measured in its ulps).
    ``dtype`` defaults to ``got``'s dtype.

    >>> tiny = mpmath.mpf("1e-400")  # rounds to zero in float64
    >>> err = ulp_error(np.array([1.0, 1.0 + 2**-52, 0.0, 0.0]), [1, 1, tiny, 1e-300])
    >>> [round(v, 9) for v in err[:3].tolist()]
    [0.0, 1.0, 0.0]
    >>> bool(err[3] > 2**51)  # zero is 2**52 ulp away from a normal number
    True
    """
    return _errors(got, expected, None, dtype)


def ulp_error_scaled(got: Any, expected: Any, scale: Any, dtype: Any = None) -> np.ndarray:
    """Return ``|got - expected|`` in ulps of ``dtype`` at ``scale`` (elementwise).

    For results that can cancel (logsumexp near zero): the error is measured against the ulp of
    the magnitude the computation went through rather than the ulp of the tiny result. Infinite
    or NaN expected values must be matched exactly.
    """
    return _errors(got, expected, scale, dtype)


def max_ulp(got: Any, expected: Any, dtype: Any = None) -> float:
    """Return the largest elementwise :func:`ulp_error` (0 for an empty array)."""
    err = ulp_error(got, expected, dtype)
    return float(err.max()) if err.size else 0.0


# --------------------------------------------------------------------------------------------
# reshaping: reduced axes to the end, one row per reduction
# --------------------------------------------------------------------------------------------


def _normalize_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    norm = tuple(int(a) % ndim for a in axes)
    if len(set(norm)) != len(norm):
        raise ValueError(f"duplicate axes {axis}")
    return norm


def _key(a: np.ndarray) -> tuple:
    """A hashable, exact copy of a row (floats widened to float64, integers kept)."""
    if a.dtype.kind in "biu":
        return tuple(int(v) for v in a.tolist())
    return tuple(a.astype(np.float64).tolist())


class _Rows:
    """A view of ``x`` as (rows, n) with every reduction along the last axis of the view."""

    def __init__(self, x: Any, axis: Any, where: Any, temperature: Any, b: Any = None):
        x = np.asarray(x)
        self.scalar = x.ndim == 0
        if self.scalar:
            # a 0-d input is a row of one entry; results keep the 0-d shape
            x = x.reshape(1)
            axis = 0
            where = None if where is None else np.reshape(where, 1)
            b = None if b is None else np.reshape(b, 1)
        self.axes = _normalize_axes(axis, x.ndim)
        self.keep_shape = tuple(1 if i in self.axes else s for i, s in enumerate(x.shape))
        self.red_shape = tuple(s for i, s in enumerate(x.shape) if i not in self.axes)
        k = len(self.axes)
        self._dest = tuple(range(x.ndim - k, x.ndim))
        moved = np.moveaxis(x, self.axes, self._dest)
        self.moved_shape = moved.shape
        self.n = int(np.prod(moved.shape[x.ndim - k :], dtype=np.int64))
        self.rows = int(np.prod(self.red_shape, dtype=np.int64))
        self.x = moved.reshape(self.rows, self.n)

        def rows_of(a: Any) -> np.ndarray:
            full = np.broadcast_to(np.asarray(a), x.shape)
            return np.moveaxis(full, self.axes, self._dest).reshape(self.rows, self.n)

        self.keep = (
            np.ones((self.rows, self.n), dtype=bool) if where is None else rows_of(where)
        ).astype(bool)
        self.b = None if b is None else rows_of(b)
        t = np.broadcast_to(np.asarray(temperature, dtype=np.float64), self.keep_shape)
        self.t = np.moveaxis(t, self.axes, self._dest).reshape(self.rows)

    def row_args(self, i: int) -> tuple[tuple, tuple, float, tuple | None]:
        b = None if self.b is None else _key(self.b[i])
        return _key(self.x[i]), tuple(self.keep[i].tolist()), float(self.t[i]), b

    def elementwise(self, rows: list[Sequence[Raw]]) -> np.ndarray:
        out = np.empty((self.rows, self.n), dtype=object)
        for i, r in enumerate(rows):
            out[i, :] = [_mpf(v) for v in r] if r else []
        out = np.moveaxis(out.reshape(self.moved_shape), self._dest, self.axes)
        return out.reshape(()) if self.scalar else out

    def reduced(self, values: Sequence[Raw], keepdims: bool) -> np.ndarray:
        out = np.empty(self.rows, dtype=object)
        for i, v in enumerate(values):
            out[i] = _mpf(v)
        if self.scalar:
            return out.reshape(())
        return out.reshape(self.keep_shape if keepdims else self.red_shape)


# --------------------------------------------------------------------------------------------
# one row
# --------------------------------------------------------------------------------------------


def _log1p(r: Raw) -> Raw:
    """log(1 + r) for r > -1, accurate for tiny r (1 + r would drop it)."""
    with mpmath.workprec(_PREC + _GUARD):
        return mpmath.log1p(_mpf(r))._mpf_


@functools.lru_cache(maxsize=4096)
def _row(
    xs: tuple, keep: tuple, t: float, b: tuple | None
) -> tuple[tuple[Raw, ...], tuple[Raw, ...], Raw, Raw]:
    """(softmax, log_softmax, logsumexp, sign of the weighted sum) of one row, as raw values.

    softmax and log_softmax ignore ``b``; it is only passed for logsumexp.
    """
    if math.isnan(t) or t < 0:
        raise ValueError(f"oracle: temperature {t!r} is not in [0, inf]")
    n = len(xs)
    if b is not None:
        # a zero weight removes the entry, as in scipy.special.logsumexp
        keep = tuple(k and w != 0 for k, w in zip(keep, b, strict=True))
    fx = [float(v) for v in xs]
    if any(k and math.isnan(v) for v, k in zip(fx, keep, strict=True)):
        return (_NAN,) * n, (_NAN,) * n, _NAN, _NAN
    adm = [k and v != -math.inf for v, k in zip(fx, keep, strict=True)]
    n_adm = sum(adm)
    if n_adm == 0:
        return (_ZERO,) * n, (_NINF,) * n, _NINF, _ZERO
    top_x = max(v for v, a in zip(fx, adm, strict=True) if a)

    def shares(sel: list[bool]) -> tuple[tuple[Raw, ...], tuple[Raw, ...]]:
        k = sum(sel)
        p = libmp.mpf_div(_ONE, libmp.from_int(k), _PREC, _RND)
        lp = libmp.mpf_neg(libmp.mpf_log(libmp.from_int(k), _PREC, _RND))
        return (
            tuple(p if s else _ZERO for s in sel),
            tuple(lp if s else _NINF for s in sel),
        )

    if b is not None and (top_x == math.inf or t == 0 or math.isinf(t)):
        raise NotImplementedError("oracle: weights with +inf entries or T in {0, inf}")
    if top_x == math.inf:  # +inf entries share the mass, whatever T
        sm, lsm = shares([a and v == math.inf for v, a in zip(fx, adm, strict=True)])
        return sm, lsm, _INF, _ONE
    if t == 0:  # the hardmax limit; logsumexp tends to the maximum
        sm, lsm = shares([a and v == top_x for v, a in zip(fx, adm, strict=True)])
        return sm, lsm, libmp.from_float(top_x), _ONE
    if math.isinf(t):
        # uniform; T·log(n) + mean -> +inf for n >= 2, and T·log(e^{x/T}) = x for n = 1
        sm, lsm = shares(adm)
        return sm, lsm, (libmp.from_float(top_x) if n_adm == 1 else _INF), _ONE

    # A finite row. x_i - max is formed exactly before dividing by T: for rows spread over
    # 1e300 a rounded x_i/T - max/T would lose every digit.
    raw_t = libmp.from_float(t)
    xm = _raw(xs[fx.index(top_x)])
    prec = _PREC + _GUARD
    d: list[Raw | None] = []
    for v, a in zip(xs, adm, strict=True):
        if not a:
            d.append(None)
            continue
        di = libmp.mpf_sub(_raw(v), xm, 0)
        d.append(di if t == 1.0 else libmp.mpf_div(di, raw_t, prec, _RND))
    e = [None if di is None else libmp.mpf_exp(di, prec, _RND) for di in d]
    # S = top + rest: the maxima contribute their weights exactly; log S = log1p(rest) when
    # top = 1, since 1 + rest at working precision would drop a rest below 1e-50.
    top, rest = _ZERO, _ZERO
    for i, (di, ei) in enumerate(zip(d, e, strict=True)):
        if di is None:
            continue
        w = _ONE if b is None else _raw(b[i])
        if di == _ZERO:
            top = libmp.mpf_add(top, w, 0)
        else:
            rest = libmp.mpf_add(rest, libmp.mpf_mul(w, ei, prec, _RND), prec, _RND)
    total = libmp.mpf_add(top, rest, prec, _RND)
    if total == _ZERO:
        return (_ZERO,) * n, (_NINF,) * n, _NINF, _ZERO
    sign = _ONE if total[0] == 0 else libmp.mpf_neg(_ONE)
    if top == _ONE and libmp.mpf_gt(rest, libmp.mpf_neg(_ONE)):
        log_s = _log1p(rest)
    else:
        log_s = libmp.mpf_log(libmp.mpf_abs(total), prec, _RND)
    lse = libmp.mpf_add(xm, libmp.mpf_mul(raw_t, log_s, prec, _RND), _PREC, _RND)
    if b is not None:  # weighted rows feed logsumexp only
        return (), (), lse, sign
    sm = tuple(_ZERO if ei is None else libmp.mpf_div(ei, total, _PREC, _RND) for ei in e)
    lsm = tuple(_NINF if di is None else libmp.mpf_sub(di, log_s, _PREC, _RND) for di in d)
    return sm, lsm, lse, sign


# --------------------------------------------------------------------------------------------
# public maps
# --------------------------------------------------------------------------------------------


def softmax(x: Any, axis: Any = -1, temperature: Any = 1.0, where: Any = None) -> np.ndarray:
    """Exact softmax of ``x`` (object array of mpf, same shape as ``x``)."""
    r = _Rows(x, axis, where, temperature)
    return r.elementwise([_row(*r.row_args(i))[0] for i in range(r.rows)])


def log_softmax(x: Any, axis: Any = -1, temperature: Any = 1.0, where: Any = None) -> np.ndarray:
    """Exact log_softmax of ``x`` (object array of mpf, same shape as ``x``)."""
    r = _Rows(x, axis, where, temperature)
    return r.elementwise([_row(*r.row_args(i))[1] for i in range(r.rows)])


def hardmax(x: Any, axis: Any = -1, where: Any = None) -> np.ndarray:
    """Exact hardmax: the maxima of each row share the mass equally."""
    return softmax(x, axis=axis, temperature=0.0, where=where)


def logsumexp(
    x: Any,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Exact ``T·log Σ b_i exp(x_i/T)`` over ``axis`` (object array of mpf).

    With ``return_sign`` the pair (log of the absolute sum, sign) is returned; a sum that is
    exactly zero, and an empty row, give (-inf, 0).
    """
    r = _Rows(x, axis, where, temperature, b)
    res = [_row(*r.row_args(i)) for i in range(r.rows)]
    val = r.reduced([v[2] for v in res], keepdims)
    if return_sign:
        return val, r.reduced([v[3] for v in res], keepdims)
    return val


def logsumexp_scale(
    x: Any,
    lse: Any,
    axis: Any = -1,
    where: Any = None,
    keepdims: bool = False,
) -> np.ndarray:
    """Return max(|lse|, |max of the admissible x|) per reduction (object array).

    ``lse`` is the exact logsumexp of ``x`` (with the same ``axis``, ``where`` and
    ``keepdims``). This is the magnitude logsumexp passes through before it can cancel: the
    result is ``max + T·log Σ exp((x_i - max)/T)``. An error of a few ulps of this magnitude is
    the best a floating-point result can promise.
    """
    r = _Rows(x, axis, where, 1.0)
    flat = np.asarray(lse, dtype=object).reshape(-1)
    out = []
    for i in range(r.rows):
        vals = [float(v) for v, k in zip(r.x[i].tolist(), r.keep[i], strict=True) if k]
        top = max(vals, default=0.0)
        m = abs(top) if math.isfinite(top) else 0.0
        v = _raw(flat[i])
        mag = libmp.mpf_abs(v) if v not in (_INF, _NINF, _NAN) else _ZERO
        m_raw = libmp.from_float(m)
        out.append(mag if libmp.mpf_gt(mag, m_raw) else m_raw)
    return r.reduced(out, keepdims)
