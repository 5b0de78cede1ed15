"""The array-API kernel shared by softmax, log_softmax and logsumexp.

One pass of analysis produces, per reduced slice ("row"), the pieces every map needs:

* ``m``: the row maximum over admissible entries (not masked, not −inf);
* ``q + r``: (x − m) / T as an unevaluated sum of two floats. ``x − m`` is split exactly by
  TwoSum (Knuth) and the division by T is done in double-word arithmetic (Dekker's product
  via Veltkamp splitting), so that exp sees its argument to about twice the working
  precision: this is what keeps rows spread over hundreds of units within 2 ulp, where the
  textbook max-shift loses up to ~500 ulp (Blanchard, Higham & Higham, IMA J. Numer. Anal. 2021);
* ``e = exp(q)·(1 + r)`` for admissible entries and 0 elsewhere;
* ``k``: the number of entries equal to the maximum (each has ``e == 1`` exactly) and
  ``s = Σ e − k`` summed over the *other* entries plus ``k − 1``, so that ``log Σ e`` is computed
  as ``log1p(s)``, accurate even when the other terms are tiny.

Rows that are special — all entries masked or −inf ("empty"), holding +inf, holding NaN, or with
temperature 0 or inf — are overwritten afterwards by the limits laid out in the package docs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.core import Temperature, full_like_scalar, is_lazy
from softmaxkit._base.dispatch import is_traced_tensor

Array = Any

# Entries with (x - m) / T below -_CLAMP have exp == 0 in every float format; clamping them keeps
# the Veltkamp split from overflowing.
_CLAMP = 1.0e5
_SPLIT_BOUND = 1.0e30
# float64 terms exp(q) below _LOW get their correction e·r in a range scaled by _UP (see
# analyse): the product stays normal, so flushing subnormals to zero cannot drop it.
_LOW = 2.0**-900
_UP = 2.0**600


def _split_constant(dtype: Any) -> float:
    name = str(dtype)
    if "float64" in name:
        return 134217729.0  # 2**27 + 1
    return 4097.0  # 2**12 + 1: float32 (low precision is computed in float32)


def _two_prod_err(xp: Any, a: Array, b: Array | float, c: float) -> tuple[Array, Array]:
    """Dekker's TwoProduct without FMA: ``a*b = p + e`` exactly (barring under/overflow)."""
    p = a * b
    t = c * a
    ah = t - (t - a)
    al = a - ah
    if isinstance(b, float):
        # Split the scalar in the working precision, not in Python's float64.
        nd = _np_dtype(a.dtype)
        bs = nd(b)
        t_b = nd(c) * bs
        bh_s = t_b - (t_b - bs)
        bh, bl = float(bh_s), float(bs - bh_s)
    else:
        t_b = c * b
        bh = t_b - (t_b - b)
        bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def divide_dw(xp: Any, hi: Array, lo: Array, t: Array | float) -> tuple[Array, Array]:
    """(hi + lo) / t in double-word arithmetic: returns (q, r) with q + r ≈ (hi + lo) / t.

    A Python-float ``t`` is divided out as ``mantissa · 2**exponent`` (the power of two applied
    exactly, before the division when it shrinks the operands and after it otherwise, so
    neither the split nor the division overflows early), and the mantissa is carried as
    ``t_hi + t_lo`` in the working dtype, so a float32 computation still divides by the float64
    temperature the caller gave. An array ``t`` is used as rounded to the working dtype.
    """
    c = _split_constant(hi.dtype)
    post = 0
    t_lo = 0.0
    if isinstance(t, float):
        mant, expo = math.frexp(t)
        if expo > 0:
            # Scale first: hi / mant could overflow where hi / t does not.
            pre = 2.0**-expo
            hi, lo = hi * pre, lo * pre
        else:
            post = -expo
        t_hi = float(np.asarray(mant, dtype=_np_dtype(hi.dtype)))
        t_lo = mant - t_hi
        t = t_hi
    q = hi / t
    # Beyond _SPLIT_BOUND the split would overflow; such entries keep single-word accuracy.
    qc = xp.clip(q, -_SPLIT_BOUND, 0.0)
    p, e = _two_prod_err(xp, qc, t, c)
    num = (hi - p) - e + lo
    if t_lo != 0.0:
        num = num - qc * t_lo
    r = num / t
    r = xp.where(q < -_SPLIT_BOUND, full_like_scalar(xp, r, 0.0), r)
    if post != 0:
        half = post // 2
        f1, f2 = 2.0**half, 2.0 ** (post - half)
        q = (q * f1) * f2
        r = (r * f1) * f2
    zero = full_like_scalar(xp, r, 0.0)
    r = xp.where(q < -_CLAMP, zero, r)
    if not isinstance(t, float):
        # A split of a huge temperature would overflow; the correction is then negligible.
        r = xp.where(xp.isfinite(r), r, zero)
    return q, r


def _np_dtype(dtype: Any) -> Any:
    name = str(dtype).rsplit(".", 1)[-1]
    return np.float64 if name == "float64" else np.float32


@dataclass
class Parts:
    """Per-row pieces of the analysis (see the module docstring)."""

    xp: Any
    x: Array  # input with masked entries set to -inf
    admissible: Array  # finite entries (not masked)
    m: Array  # row max, keepdims
    q: Array  # scaled shifted logits, high part
    r: Array  # low part
    e: Array  # exp(q)(1 + r) on admissible entries, else 0
    top: Array  # entries equal to the max
    k: Array  # number of such entries
    s: Array  # sum(e) - 1, accurate
    b_top: Array | None = None  # with weights: sum of weights on the top entries


def analyse(
    xp: Any,
    x: Array,
    axes: tuple[int, ...],
    mask: Array | None,
    temp: Temperature,
    b: Array | None = None,
) -> Parts:
    """Compute the shared pieces for the maps (see module docstring)."""
    zero = full_like_scalar(xp, x, 0.0)
    if mask is not None:
        x = xp.where(mask, x, full_like_scalar(xp, x, -math.inf))
    m = xp.max(x, axis=axes, keepdims=True)
    finite_m = xp.isfinite(m)
    m0 = xp.where(finite_m, m, zero)
    admissible = xp.isfinite(x)
    xf = xp.where(admissible, x, m0)
    # TwoSum: x - m = hi + lo exactly.
    hi = xf - m0
    bb = hi - xf
    lo = (xf - (hi - bb)) + (-m0 - bb)
    # x − m can overflow to −inf for finite x (a spread beyond 1.8e308): that entry's
    # probability is 0 and it needs no error term.
    lo = xp.where(xp.isfinite(hi), lo, zero)
    if temp.kind == "scalar":
        q, r = divide_dw(xp, hi, lo, float(temp.value))
    elif temp.kind == "array":
        t = temp.value
        one = full_like_scalar(xp, t, 1.0)
        t_safe = xp.where((t == 0) | xp.isinf(t), one, t)
        q, r = divide_dw(xp, hi, lo, t_safe)
    else:
        q, r = hi, lo
    e = xp.exp(q)
    if "float64" in str(x.dtype):
        # e·(1 + r) as e + e·r keeps every bit of r. With |r| ≤ 2**-44, e·r falls below the
        # normal range once e < 2**-978, and backends that flush subnormals to zero (XLA on
        # CPU outside jit) would drop it: up to 500 ulp on probabilities near 1e-300. Such e
        # are scaled by 2**600 first (exact both ways while the result is normal; entries
        # above 2**-900 are multiplied and divided by 1, so their result is unchanged).
        low = e < _LOW
        scale = xp.where(low, full_like_scalar(xp, e, _UP), full_like_scalar(xp, e, 1.0))
        es = e * scale
        e = (es + es * r) / scale
    else:
        # Backends that flush subnormals to zero (XLA on CPU) would lose e*r when e is
        # near the bottom of the normal range; e*(1 + r) keeps the correction.
        e = e * (1.0 + r)
    e = xp.where(admissible, e, zero)
    top = admissible & (hi == 0)
    if b is not None:
        e = e * b
        b_top = xp.sum(xp.where(top, b, zero), axis=axes, keepdims=True)
        rest = xp.sum(xp.where(top, zero, e), axis=axes, keepdims=True)
        k = xp.sum(xp.astype(top, x.dtype), axis=axes, keepdims=True)
        s = (b_top - 1.0) + rest
        return Parts(xp, x, admissible, m, q, r, e, top, k, s, b_top)
    k = xp.sum(xp.astype(top, x.dtype), axis=axes, keepdims=True)
    rest = xp.sum(xp.where(top, zero, e), axis=axes, keepdims=True)
    s = rest + (k - 1.0)
    return Parts(xp, x, admissible, m, q, r, e, top, k, s)


def any_true(xp: Any, cond: Array) -> bool:
    """Whether any entry is true; always True for arrays whose values are not inspected: lazy
    ones, and torch tensors under ``torch.func`` transforms or ``torch.compile`` (the
    ``where`` is then applied, with the same result)."""
    if is_lazy(cond) or is_traced_tensor(cond):
        return True
    return bool(xp.any(cond))


def _row_flags(xp: Any, parts: Parts) -> tuple[Array, Array, Array]:
    """Boolean per-row flags: +inf present, empty, NaN present (keepdims shape)."""
    m = parts.m
    return m == math.inf, m == -math.inf, xp.isnan(m)


def hardmax_from(xp: Any, x: Array, m: Array, axes: tuple[int, ...]) -> Array:
    """Maxima share the mass equally; empty rows give zeros; NaN rows are NaN."""
    hit = (x == m) & (m > -math.inf)
    w = xp.astype(hit, x.dtype)
    k = xp.sum(w, axis=axes, keepdims=True)
    one = full_like_scalar(xp, k, 1.0)
    return w / xp.where(k > 0, k, one)


def _uniform_from(xp: Any, admissible: Array, axes: tuple[int, ...], dtype: Any) -> Array:
    w = xp.astype(admissible, dtype)
    n = xp.sum(w, axis=axes, keepdims=True)
    one = full_like_scalar(xp, n, 1.0)
    return w / xp.where(n > 0, n, one)


def _temperature_rows(xp: Any, temp: Temperature) -> tuple[Any, Any]:
    """(rows at T = 0, rows at T = inf) as booleans, or Python bools for a scalar T."""
    if temp.kind == "array":
        t = temp.value
        return t == 0, xp.isinf(t)
    return temp.kind == "zero", temp.kind == "inf"


def apply_where(xp: Any, cond: Any, value: Any, current: Array) -> Array:
    """``where(cond, value, current)`` that skips the work when ``cond`` is known to be False."""
    if cond is False:
        return current
    if cond is True:
        return xp.broadcast_to(value, current.shape) if hasattr(value, "shape") else value
    if not any_true(xp, cond):
        return current
    if not hasattr(value, "shape"):
        value = full_like_scalar(xp, current, value)
    return xp.where(cond, value, current)


def softmax_generic(
    xp: Any, xc: Array, axes: tuple[int, ...], temp: Temperature, mask: Array | None
) -> Array:
    """softmax on any namespace, special rows resolved."""
    parts = analyse(xp, xc, axes, mask, temp)
    total = 1.0 + parts.s
    p = parts.e / xp.where(total > 0, total, full_like_scalar(xp, total, 1.0))
    t_zero, t_inf = _temperature_rows(xp, temp)
    pinf, empty, nan = _row_flags(xp, parts)
    if t_inf is not False:
        p = apply_where(xp, t_inf, _uniform_from(xp, parts.admissible, axes, p.dtype), p)
    if t_zero is not False or any_true(xp, pinf):
        hard = hardmax_from(xp, parts.x, parts.m, axes)
        p = apply_where(xp, t_zero, hard, p)
        p = apply_where(xp, pinf, hard, p)
    p = apply_where(xp, empty, 0.0, p)
    p = apply_where(xp, nan, math.nan, p)
    return p


def pointwise(xp: Any, x: Array, mask: Array | None, *, log: bool) -> Array:
    """A reduction over no axis: each entry is its own row."""
    one = full_like_scalar(xp, x, 0.0 if log else 1.0)
    out = xp.where(xp.isinf(x) & (x < 0), full_like_scalar(xp, x, -math.inf if log else 0.0), one)
    if mask is not None:
        out = xp.where(mask, out, full_like_scalar(xp, x, -math.inf if log else 0.0))
    return xp.where(xp.isnan(x), x, out)


def log_softmax_generic(
    xp: Any, xc: Array, axes: tuple[int, ...], temp: Temperature, mask: Array | None
) -> Array:
    """log_softmax on any namespace, special rows resolved."""
    parts = analyse(xp, xc, axes, mask, temp)
    neg_inf = full_like_scalar(xp, xc, -math.inf)
    one = full_like_scalar(xp, parts.s, 1.0)
    # log1p(s) for s >= 0; guard the masked-out rows where s may be -1 (no entries).
    big_l = xp.log1p(xp.where(parts.s > -1.0, parts.s, one))
    out = xp.where(parts.admissible, (parts.q - big_l) + parts.r, neg_inf)
    t_zero, t_inf = _temperature_rows(xp, temp)
    pinf, empty, nan = _row_flags(xp, parts)
    if t_inf is not False:
        uni = _uniform_from(xp, parts.admissible, axes, out.dtype)
        out = apply_where(xp, t_inf, _log_weights(xp, uni), out)
    if t_zero is not False or any_true(xp, pinf):
        hard = _log_weights(xp, hardmax_from(xp, parts.x, parts.m, axes))
        out = apply_where(xp, t_zero, hard, out)
        out = apply_where(xp, pinf, hard, out)
    out = apply_where(xp, empty, -math.inf, out)
    out = apply_where(xp, nan, math.nan, out)
    return out


def _log_weights(xp: Any, w: Array) -> Array:
    """log of weights that are 0 or 1/k, with log 0 = −inf and no warning."""
    pos = w > 0
    one = full_like_scalar(xp, w, 1.0)
    return xp.where(pos, xp.log(xp.where(pos, w, one)), full_like_scalar(xp, w, -math.inf))


def logsumexp_generic(
    xp: Any,
    xc: Array,
    axes: tuple[int, ...],
    temp: Temperature,
    mask: Array | None,
    weights: Array | None = None,
    return_sign: bool = False,
) -> tuple[Array, Array | None]:
    """logsumexp (kept dims) and, with ``return_sign``, its sign, on any namespace."""
    parts = analyse(xp, xc, axes, mask, temp, b=weights)
    m, s = parts.m, parts.s
    one = full_like_scalar(xp, s, 1.0)
    total = s + 1.0  # the weighted sum relative to exp(max)
    if weights is None:
        big_l = xp.log1p(xp.where(s > -1.0, s, one))
        sign = None
    else:
        pos = total > 0
        safe_s = xp.where(pos, s, one)
        mag = xp.abs(total)
        big_l = xp.where(
            pos, xp.log1p(safe_s), xp.log(xp.where(total != 0, mag, one))
        )
        sign = xp.where(pos, one, xp.where(total < 0, -one, 0.0 * one))
        if not return_sign:
            big_l = xp.where(total < 0, full_like_scalar(xp, s, math.nan), big_l)
        big_l = xp.where(total == 0, full_like_scalar(xp, s, -math.inf), big_l)
    if temp.kind in ("one", "zero", "inf"):
        lse = m + big_l
    elif temp.kind == "scalar":
        lse = m + float(temp.value) * big_l
    else:
        t = temp.value
        lse = m + xp.where((t == 0) | xp.isinf(t), one, t) * big_l
    t_zero, t_inf = _temperature_rows(xp, temp)
    pinf, empty, nan = _row_flags(xp, parts)
    if t_zero is not False:
        lse = apply_where(xp, t_zero, m, lse)
    if t_inf is not False:
        lse = apply_where(xp, t_inf, _lse_inf_limit(xp, parts, axes, weights), lse)
    lse = apply_where(xp, pinf, math.inf, lse)
    lse = apply_where(xp, empty, -math.inf, lse)
    lse = apply_where(xp, nan, math.nan, lse)
    if sign is not None:
        sign = apply_where(xp, empty, 0.0, sign)
        sign = apply_where(xp, nan, math.nan, sign)
        if weights is not None:
            # Rows with +inf: the sign of the weights on the +inf entries.
            w_inf = xp.sum(
                xp.where(parts.x == math.inf, weights, full_like_scalar(xp, weights, 0.0)),
                axis=axes,
                keepdims=True,
            )
            sign = apply_where(xp, pinf, xp.sign(w_inf), sign)
    return lse, sign


def _lse_inf_limit(
    xp: Any, parts: Parts, axes: tuple[int, ...], weights: Array | None
) -> Array:
    """T → inf limit of T·log Σ b_i exp(x_i / T) for finite rows."""
    zero = full_like_scalar(xp, parts.x, 0.0)
    w = xp.astype(parts.admissible, parts.x.dtype) if weights is None else xp.where(
        parts.admissible, weights, zero
    )
    total = xp.sum(w, axis=axes, keepdims=True)
    mean = xp.sum(xp.where(parts.admissible, w * parts.x, zero), axis=axes, keepdims=True)
    one = full_like_scalar(xp, total, 1.0)
    out = xp.where(total > 1, full_like_scalar(xp, total, math.inf), mean)
    out = xp.where(total < 1, full_like_scalar(xp, total, -math.inf), out)
    return xp.where(total == one, mean, out)
