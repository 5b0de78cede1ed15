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
from softmaxkit._base.core import (
    normalize_axis,
    parse_temperature,
    prepare,
    prepare_mask,
    reduced_shape,
)

__all__ = [
    "alpha_relu",
    "entmax",
    "entmax15",
    "hardmax",
    "log_softmax",
    "logsumexp",
    "softmax",
    "sparsemax",
]

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


# --------------------------------------------------------------------------------------------
# the sparse maps: sparsemax, entmax15, entmax, alpha_relu
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SparseSpec:
    """As :class:`_Spec`, plus the static α, α-ReLU's τ and the bisection's ``n_iter``."""

    fn: str
    axes: tuple[int, ...]
    reduced: tuple[int, ...]
    temperature: float | None
    dtype: Any
    alpha: float
    tau: float
    n_iter: int | None


def _sparse_primal(spec: _SparseSpec, x: Array, t: Array | None, mask: Array | None) -> Array:
    from softmaxkit import sparse

    temperature = spec.temperature if t is None else t
    kw = {"axis": spec.axes, "temperature": temperature, "where": mask, "dtype": spec.dtype}
    if spec.fn == "sparsemax":
        return sparse.sparsemax(x, **kw)
    if spec.fn == "entmax15":
        return sparse.entmax15(x, **kw)
    if spec.fn == "alpha_relu":
        return sparse.alpha_relu(x, alpha=spec.alpha, tau=spec.tau, **kw)
    return sparse.entmax(x, alpha=spec.alpha, n_iter=spec.n_iter, **kw)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _sparse(spec: _SparseSpec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _sparse_primal(spec, x, t, mask)


def _sparse_g(spec: _SparseSpec, p: Array) -> Array:
    """The Jacobian's weights from the output: p^(2−α) on the support (α-ReLU: on
    0 < r < inf), NaN where p is NaN."""
    on = (p > 0) & (p < math.inf) if spec.fn == "alpha_relu" else p > 0
    safe = jnp.where(on, p, 1.0)
    if spec.fn == "sparsemax":
        g = on.astype(p.dtype)
    elif spec.fn == "entmax15":
        g = jnp.where(on, jnp.sqrt(safe), 0.0)
    else:
        g = jnp.where(on, safe ** (2.0 - spec.alpha), 0.0)
    return jnp.where(jnp.isnan(p), p, g)


@functools.partial(_sparse.defjvp, symbolic_zeros=True)
def _sparse_jvp(spec: _SparseSpec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    p = _sparse(spec, x, t, mask)
    wd = _work_dtype(p.dtype)
    r = _rows(spec, x, t, mask, wd)  # type: ignore[arg-type]
    relu = spec.fn == "alpha_relu"
    if relu:
        # α-ReLU is elementwise: +inf entries do not freeze their row, and it is not shift
        # invariant, so the temperature term is x·Ṫ/T itself.
        dead: Any = False
        if t is None:
            tv = float(spec.temperature)  # type: ignore[arg-type]
            dead = tv == 0.0 or math.isinf(tv)
        else:
            tk = jnp.broadcast_to(jnp.asarray(t, dtype=wd), spec.reduced)
            dead = (tk == 0) | jnp.isinf(tk)
        d = None if _zero(dx) else jnp.where(r.kept, jnp.asarray(dx, dtype=wd), 0.0)
        if t is not None and not _zero(dt):
            fin = r.kept & jnp.isfinite(x)
            xs = jnp.where(fin, jnp.asarray(x, dtype=wd), 0.0)
            dtk = jnp.broadcast_to(jnp.asarray(dt, dtype=wd), spec.reduced)
            term = xs * (dtk / r.scale)
            d = -term if d is None else d - term
    else:
        dead = r.dead
        d = _direction(spec, r, x, t, dx, dt, wd)  # type: ignore[arg-type]
    if d is None:
        return p, jnp.zeros_like(p)
    g = _sparse_g(spec, jnp.asarray(p, dtype=wd))
    d0 = jnp.where(g != 0, d, 0.0)
    if relu:
        out = g * d0
    else:
        sg = _rsum(g, spec.axes)
        out = g * (d0 - _rsum(g * d0, spec.axes) / jnp.where(sg != 0, sg, 1.0))
    out = jnp.where(dead, 0.0, out / r.scale)
    return p, out.astype(p.dtype)


def _sparse_setup(
    fn: str, x: Any, axis: Any, temperature: Any, where: Any, dtype: Any, alpha: float,
    tau: float = 0.0, n_iter: int | None = None,
) -> tuple[_SparseSpec, Array, Array | None, Array | None]:
    spec, x, t, mask = _setup(fn, x, axis, temperature, where, dtype)
    sspec = _SparseSpec(fn, spec.axes, spec.reduced, spec.temperature, spec.dtype, alpha, tau,
                        n_iter)
    return sspec, x, t, mask


def sparsemax(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.sparsemax` with the closed-form JVP :math:`\dot p = s \odot (d -
    \langle s, d\rangle/|S|) / T` (s the support's indicator).

    Parameters
    ----------
    x : jax.Array or array_like
        Scores.
    axis, temperature, where, dtype
        As for :func:`softmaxkit.sparsemax`. A temperature given as an array is
        differentiated (``d = ẋ − (x − c)·Ṫ/T``); a Python number is a constant.

    Returns
    -------
    jax.Array
        ``softmaxkit.sparsemax(x, ...)``.

    Notes
    -----
    Derivatives are 0 (never NaN) off the support, in empty rows, in rows holding +inf and at
    T = 0 or inf; NaN in rows holding NaN.
    """
    spec, x, t, mask = _sparse_setup("sparsemax", x, axis, temperature, where, dtype, 2.0)
    return _sparse(spec, x, t, mask)


def entmax15(
    x: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.entmax15` with the closed-form JVP (weights g = √p).

    .. math:: \dot p = g \odot (d - \langle g, d\rangle / \textstyle\sum g) / T

    Parameters
    ----------
    x : jax.Array or array_like
        Scores.
    axis, temperature, where, dtype
        As for :func:`sparsemax`.

    Returns
    -------
    jax.Array
        ``softmaxkit.entmax15(x, ...)``.
    """
    spec, x, t, mask = _sparse_setup("entmax15", x, axis, temperature, where, dtype, 1.5)
    return _sparse(spec, x, t, mask)


def entmax(
    x: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    n_iter: int | None = None,
) -> Array:
    r""":func:`softmaxkit.entmax` with the closed-form JVP (weights g = p^(2−α)).

    Parameters
    ----------
    x : jax.Array or array_like
        Scores.
    alpha : float, default 1.5
        α ≥ 1, a constant here (for ∂p/∂α see
        :func:`softmaxkit.sparse.entmax_alpha_derivative`); α = 1 is :func:`softmax`.
    axis, temperature, where, dtype, n_iter
        As for :func:`softmaxkit.entmax` and :func:`sparsemax`.

    Returns
    -------
    jax.Array
        ``softmaxkit.entmax(x, ...)``.
    """
    from softmaxkit import sparse

    a = sparse._check_alpha(alpha)
    if a == 1.0:
        return softmax(x, axis=axis, temperature=temperature, where=where, dtype=dtype)
    spec, x, t, mask = _sparse_setup("entmax", x, axis, temperature, where, dtype, a,
                                     n_iter=n_iter)
    return _sparse(spec, x, t, mask)


def alpha_relu(
    x: Any,
    /,
    alpha: float = 1.5,
    tau: float = 0.0,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r""":func:`softmaxkit.sparse.alpha_relu` with the closed-form JVP
    :math:`\dot r = r^{2-\alpha} \odot (\dot x - x \dot T / T) / T` on 0 < r < inf.

    Parameters
    ----------
    x : jax.Array or array_like
        Scores.
    alpha, tau, axis, temperature, where, dtype
        As for :func:`softmaxkit.sparse.alpha_relu` (α and τ are constants; an array
        temperature is differentiated).

    Returns
    -------
    jax.Array
        ``alpha_relu(x, ...)``.
    """
    from softmaxkit import sparse

    a, tv = sparse._check_relu_args(alpha, tau, "alpha_relu")
    spec, x, t, mask = _sparse_setup("alpha_relu", x, axis, temperature, where, dtype, a, tv)
    return _sparse(spec, x, t, mask)
