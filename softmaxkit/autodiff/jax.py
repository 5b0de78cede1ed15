r"""JAX differentiation rules for the maps: ``jax.custom_jvp`` with the closed forms.

Each map is a :func:`jax.custom_jvp` function whose primal is the library's own map (values,
edge cases and accuracy are those of :func:`softmaxkit.softmax` and its siblings) and whose
forward-mode rule is the closed form; reverse mode (``jax.grad``, ``jax.vjp``, ``jax.jacrev``)
follows by transposition, and higher derivatives (``jax.hessian``) by differentiating the rule,
which is itself written with these functions. Everything is jit-compatible.

With ``ẋ`` the tangent of the logits and ``Ṫ`` that of an array temperature (a temperature
given as a Python number is a constant), ``d = ẋ − (x − c)·Ṫ/T`` (``c`` any per-row constant;
the row's largest finite logit) is the tangent of ``x/T`` times T, and

* softmax: :math:`\dot p = p \odot (d - \langle p, d\rangle) / T`;
* log_softmax: :math:`\dot y = (d - \langle p, d\rangle) / T` on the entries that take part,
  0 on masked and −inf entries (constant −inf);
* logsumexp (:math:`L = T \log \sum_i e^{x_i/T}`): :math:`\dot L = \langle p, \dot x\rangle +
  \dot T\, H(p)` with :math:`H(p) = -\sum_i p_i \log p_i` the entropy of the softmax;
* hardmax: 0 (NaN in rows holding NaN).

Edge cases follow the limits, never NaN: a fully masked row, a row of −inf, masked and −inf
entries, rows holding +inf and ``T = 0`` / ``T = inf`` give 0 for softmax and log_softmax;
logsumexp's gradient is softmax in every row (hardmax at ``T = 0``, uniform at ``T = inf``,
shared among +inf entries, 0 in an empty row). Rows holding NaN give NaN, only there.

Usage::

    import jax, jax.numpy as jnp
    from softmaxkit.autodiff import jax as skj

    x = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    keep = jnp.array([[True, True, False], [False, False, False]])
    loss = lambda x: jnp.sum(skj.softmax(x, where=keep) * jnp.arange(3.0))
    jax.jit(jax.grad(loss))(x)              # 0 on the empty second row
    jax.hessian(lambda v: skj.logsumexp(v))(x[0])   # the softmax Jacobian
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from softmaxkit import maps as _maps
from softmaxkit._core import (
    normalize_axis,
    parse_temperature,
    prepare,
    prepare_mask,
    reduced_shape,
)

__all__ = ["hardmax", "log_softmax", "logsumexp", "softmax"]

Array = Any


@dataclass(frozen=True)
class _Spec:
    """Static part of a call: the map, its reduced axes, the shape of a row-wise quantity,
    a temperature given as a number (None when it is an array argument) and the dtype."""

    fn: str
    axes: tuple[int, ...]
    reduced: tuple[int, ...]
    temperature: float | None
    dtype: Any


def _setup(
    fn: str, x: Any, axis: Any, temperature: Any, where: Any, dtype: Any
) -> tuple[_Spec, Array, Array | None, Array | None]:
    """Validate with the core layer; returns (spec, x, array temperature or None, mask)."""
    if not isinstance(x, jax.Array):
        x = jnp.asarray(x)
    prep = prepare(x, fn=fn, dtype=dtype)
    axes = normalize_axis(axis, x.ndim, fn=fn)
    red = reduced_shape(tuple(x.shape), axes)
    device = _device(x)
    temp = parse_temperature(temperature, prep.xp, red, prep.compute_dtype, device, fn=fn)
    mask = prepare_mask(where, prep.xp, tuple(x.shape), device, fn=fn)
    if temp.kind == "array":
        t: Array | None = jnp.asarray(temperature)
        static = None
    else:
        t, static = None, float(temperature)
    return _Spec(fn, axes, red, static, dtype), x, t, mask


def _device(x: Array) -> Any:
    # Traced arrays under jit have no committed device; NumPy masks then go to the default.
    try:
        return x.device
    except Exception:
        return None


def _rsum(a: Array, axes: tuple[int, ...]) -> Array:
    return jnp.sum(a, axis=axes, keepdims=True) if axes else a


def _rmax(a: Array, axes: tuple[int, ...]) -> Array:
    # ``initial`` keeps empty rows (length-0 axes) well defined: −inf.
    return jnp.max(a, axis=axes, keepdims=True, initial=-math.inf) if axes else a


def _work_dtype(dtype: Any) -> Any:
    return jnp.promote_types(dtype, jnp.float32)


def _zero(a: Any) -> bool:
    return a is None or isinstance(a, SymbolicZero)


@dataclass(frozen=True)
class _Rows:
    """Per-call quantities of the rules: entries that take part, rows whose softmax is
    locally constant (``dead``: rows holding +inf, T = 0 or T = inf; not NaN rows), and the
    divisor T (1 where T is 0 or inf)."""

    kept: Array
    dead: Array
    scale: Array | float


def _rows(spec: _Spec, x: Array, t: Array | None, mask: Array | None, wd: Any) -> _Rows:
    kept = x != -math.inf
    masked = x
    if mask is not None:
        kept = kept & mask
        masked = jnp.where(mask, x, -math.inf)
    m = _rmax(masked, spec.axes)
    dead = m == math.inf
    scale: Array | float
    if t is None:
        tv = float(spec.temperature)  # type: ignore[arg-type]
        frozen = tv == 0.0 or math.isinf(tv)
        dead = dead | frozen
        scale = 1.0 if frozen else tv
    else:
        tk = jnp.broadcast_to(jnp.asarray(t, dtype=wd), spec.reduced)
        special = (tk == 0) | jnp.isinf(tk)
        dead = dead | special
        scale = jnp.where(special, jnp.ones_like(tk), tk)
    dead = dead & ~jnp.isnan(m)
    return _Rows(kept, dead, scale)


def _direction(
    spec: _Spec, r: _Rows, x: Array, t: Array | None, dx: Any, dt: Any, wd: Any
) -> Array | None:
    """T times the tangent of x/T, ``ẋ − (x − c)·Ṫ/T``, 0 on entries that do not take part;
    None when both tangents are symbolically zero."""
    d = None
    if not _zero(dx):
        d = jnp.where(r.kept, jnp.asarray(dx, dtype=wd), 0.0)
    if t is not None and not _zero(dt):
        fin = r.kept & jnp.isfinite(x)
        # Shift by the row's largest finite logit: the rules are shift invariant, and this
        # keeps (x − c)·Ṫ/T free of the overflow and cancellation of huge logits.
        c = _rmax(jnp.where(fin, x, -math.inf), spec.axes)
        c = jax.lax.stop_gradient(jnp.where(jnp.isfinite(c), c, 0.0))
        xs = jnp.where(fin, jnp.asarray(x, dtype=wd) - c, 0.0)
        dtk = jnp.broadcast_to(jnp.asarray(dt, dtype=wd), spec.reduced)
        term = xs * (dtk / r.scale)
        d = -term if d is None else d - term
    return d


def _primal(spec: _Spec, fn: Any, x: Array, t: Array | None, mask: Array | None) -> Array:
    temperature = spec.temperature if t is None else t
    return fn(x, axis=spec.axes, temperature=temperature, where=mask, dtype=spec.dtype)


# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _softmax(spec: _Spec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _primal(spec, _maps.softmax, x, t, mask)


@functools.partial(_softmax.defjvp, symbolic_zeros=True)
def _softmax_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    p = _softmax(spec, x, t, mask)
    wd = _work_dtype(p.dtype)
    r = _rows(spec, x, t, mask, wd)
    d = _direction(spec, r, x, t, dx, dt, wd)
    if d is None:
        return p, jnp.zeros_like(p)
    pw = jnp.asarray(p, dtype=wd)
    # Shift by d at the dominant entry (p > 1/2): the difference d − ⟨p, d⟩ then sums only
    # the small p_j instead of cancelling two O(|d|) numbers when p_k ≈ 1.
    pivot = _rsum(jnp.where(pw > 0.5, d, 0.0), spec.axes)
    d0 = jnp.where(pw != 0, d - pivot, 0.0)
    dp = pw * (d0 - _rsum(pw * d0, spec.axes)) / r.scale
    return p, jnp.where(r.dead, 0.0, dp).astype(p.dtype)


# --------------------------------------------------------------------------------------------
# log_softmax
# --------------------------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _log_softmax(spec: _Spec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _primal(spec, _maps.log_softmax, x, t, mask)


@functools.partial(_log_softmax.defjvp, symbolic_zeros=True)
def _log_softmax_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    y = _log_softmax(spec, x, t, mask)
    wd = _work_dtype(y.dtype)
    r = _rows(spec, x, t, mask, wd)
    d = _direction(spec, r, x, t, dx, dt, wd)
    if d is None:
        return y, jnp.zeros_like(y)
    p = jnp.exp(jnp.asarray(y, dtype=wd))
    pivot = _rsum(jnp.where(r.kept & (p > 0.5), d, 0.0), spec.axes)
    d0 = jnp.where(r.kept, d - pivot, 0.0)
    dy = jnp.where(r.kept, d0 - _rsum(p * d0, spec.axes), 0.0) / r.scale
    return y, jnp.where(r.dead, 0.0, dy).astype(y.dtype)


# --------------------------------------------------------------------------------------------
# logsumexp (kept dims; the public function squeezes)
# --------------------------------------------------------------------------------------------


def _lse_map(x: Array, **kwargs: Any) -> Array:
    return _maps.logsumexp(x, keepdims=True, **kwargs)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _logsumexp(spec: _Spec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _primal(spec, _lse_map, x, t, mask)


@functools.partial(_logsumexp.defjvp, symbolic_zeros=True)
def _logsumexp_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    lse = _logsumexp(spec, x, t, mask)
    wd = _work_dtype(lse.dtype)
    # The gradient is softmax, evaluated by the softmax rule so that second derivatives are
    # the softmax Jacobian (0 where softmax is locally constant).
    p = jnp.asarray(_softmax(spec, x, t, mask), dtype=wd)
    out = jnp.zeros(spec.reduced, dtype=wd)
    if not _zero(dx):
        v = jnp.where(p != 0, jnp.asarray(dx, dtype=wd), 0.0)
        out = out + _rsum(p * v, spec.axes)
    if t is not None and not _zero(dt):
        # ∂L/∂T = (L − ⟨p, x⟩)/T = H(p): the entropy, computed from log p without cancelling.
        logp = jnp.asarray(_log_softmax(spec, x, t, mask), dtype=wd)
        entropy = -_rsum(jnp.where(p > 0, p * logp, 0.0), spec.axes)
        out = out + jnp.broadcast_to(jnp.asarray(dt, dtype=wd), spec.reduced) * entropy
    return lse, out.astype(lse.dtype)


# --------------------------------------------------------------------------------------------
# hardmax
# --------------------------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _hardmax(spec: _Spec, x: Array, mask: Array | None) -> Array:
    return _maps.hardmax(x, axis=spec.axes, where=mask, dtype=spec.dtype)


@_hardmax.defjvp
def _hardmax_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, mask = primals
    dx, _ = tangents
    h = _hardmax(spec, x, mask)
    # Zero almost everywhere; a row holding NaN is NaN (hardmax is NaN on the whole row). The
    # tangent is written as linear in dx so that reverse mode (its transpose) agrees.
    factor = jnp.where(jnp.isnan(h), jnp.nan, 0.0).astype(h.dtype)
    return h, factor * jnp.asarray(dx, dtype=h.dtype)


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------


def softmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.softmax` with the closed-form JVP :math:`\dot p = p \odot (d -
    \langle p, d\rangle) / T`.

    Parameters
    ----------
    x : jax.Array or array_like
        Logits (converted with ``jnp.asarray``).
    axis, temperature, where, dtype
        As for :func:`softmaxkit.softmax`. A temperature given as an array is differentiated
        (``d = ẋ − (x − c)·Ṫ/T``); a Python number is a constant.

    Returns
    -------
    jax.Array
        ``softmaxkit.softmax(x, ...)``.

    Notes
    -----
    Derivatives are 0 (never NaN) on masked and −inf entries, in empty rows, in rows holding
    +inf, and at T = 0 or T = inf; NaN in rows holding NaN.
    """
    spec, x, t, mask = _setup("softmax", x, axis, temperature, where, dtype)
    return _softmax(spec, x, t, mask)


def log_softmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.log_softmax` with the closed-form JVP :math:`\dot y = (d - \langle
    p, d\rangle) / T` (0 on masked and −inf entries).

    Parameters
    ----------
    x : jax.Array or array_like
        Logits.
    axis, temperature, where, dtype
        As for :func:`softmax`.

    Returns
    -------
    jax.Array
        ``softmaxkit.log_softmax(x, ...)``.

    Notes
    -----
    Edge cases as for :func:`softmax`: no NaN in the derivative outside rows holding NaN, even
    where the output is −inf.
    """
    spec, x, t, mask = _setup("log_softmax", x, axis, temperature, where, dtype)
    return _log_softmax(spec, x, t, mask)


def logsumexp(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.logsumexp` with the closed-form JVP :math:`\dot L = \langle p, \dot x
    \rangle + \dot T\,H(p)`.

    Parameters
    ----------
    x : jax.Array or array_like
        Logits.
    axis, temperature, where, keepdims, dtype
        As for :func:`softmaxkit.logsumexp` (no weights ``b``, no ``return_sign``).

    Returns
    -------
    jax.Array
        The reduced result.

    Notes
    -----
    The gradient is ``softmax(x, temperature=T)`` in every row, limits included (hardmax at
    T = 0, uniform at T = inf, shared among +inf entries, 0 in an empty row); the derivative
    in an array temperature is the entropy of that softmax. The Hessian is the softmax
    Jacobian.
    """
    spec, x, t, mask = _setup("logsumexp", x, axis, temperature, where, dtype)
    out = _logsumexp(spec, x, t, mask)
    if keepdims or not spec.axes:
        return out
    return jnp.squeeze(out, axis=spec.axes)


def hardmax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    """:func:`softmaxkit.hardmax` with derivative 0 (NaN in rows holding NaN).

    Parameters
    ----------
    x : jax.Array or array_like
        Logits.
    axis, where, dtype
        As for :func:`softmaxkit.hardmax`.

    Returns
    -------
    jax.Array
        ``softmaxkit.hardmax(x, ...)``.
    """
    spec, x, _, mask = _setup("hardmax", x, axis, 1.0, where, dtype)
    return _hardmax(spec, x, mask)
