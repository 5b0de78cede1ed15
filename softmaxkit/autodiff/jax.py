r"""JAX differentiation rules for the maps: ``jax.custom_jvp`` with the closed forms.

Each map is a :func:`jax.custom_jvp` function whose primal is the library's own map (values,
edge cases and accuracy are those of :func:`softmaxkit.softmax` and its siblings) and whose
forward-mode rule is the closed form; reverse mode (``jax.grad``, ``jax.vjp``, ``jax.jacrev``)
follows by transposition, and higher derivatives (``jax.hessian``) by differentiating the rule,
which is itself written with these functions. Everything is jit-compatible. The formulas are
those of :mod:`softmaxkit.derivatives.forms`, evaluated on JAX arrays; the public functions'
signatures and docstrings are read from the maps (less ``out``, and logsumexp's ``b`` and
``return_sign``).

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

import numpy as np

from softmaxkit import derivatives as _derivatives
from softmaxkit import maps as _maps
from softmaxkit import sparse as _sparse
from softmaxkit._base import sparse_kernel
from softmaxkit._base.core import finish, normalize_axis, reduced_shape, setup
from softmaxkit._base.optional import require
from softmaxkit.autodiff._wrap import Generated, derived, parameters
from softmaxkit.derivatives import forms
from softmaxkit.scan import logcumsumexp as _logcumsumexp
from softmaxkit.sigmoid import log_sigmoid as _log_sigmoid
from softmaxkit.sigmoid import logit as _logit
from softmaxkit.sigmoid import sigmoid as _sigmoid

jax = require("jax", fn="softmaxkit.autodiff.jax")
jnp = require("jax.numpy", fn="softmaxkit.autodiff.jax")
SymbolicZero = require("jax.custom_derivatives", fn="softmaxkit.autodiff.jax").SymbolicZero

__all__ = [
    "alpha_relu",
    "apply",
    "entmax",
    "entmax15",
    "hardmax",
    "log_sigmoid",
    "log_softmax",
    "logcumsumexp",
    "logit",
    "logsumexp",
    "sigmoid",
    "softmax",
    "sparsemax",
]

Array = Any


@dataclass(frozen=True)
class _Spec:
    """Static part of a call: the map, its reduced axes, the shape of a row-wise quantity,
    a temperature given as a number (None when it is an array argument) and the dtype; the
    sparse maps add the static α, α-ReLU's τ and the bisection's ``n_iter``."""

    fn: str
    axes: tuple[int, ...]
    reduced: tuple[int, ...]
    temperature: float | None
    dtype: Any
    alpha: float = 1.0
    tau: float = 0.0
    n_iter: int | None = None


def _setup(
    fn: str, x: Any, kw: dict[str, Any], **sparse: Any
) -> tuple[_Spec, Array, Array | None, Array | None]:
    """Validate with the core layer; returns (spec, x, array temperature or None, mask).
    ``sparse``: the sparse maps' α, τ and ``n_iter``, already checked."""
    if not isinstance(x, jax.Array):
        x = jnp.asarray(x)
    temperature = kw.get("temperature", 1.0)
    s = setup(fn, x, axis=kw["axis"], temperature=temperature, where=kw["where"],
              dtype=kw["dtype"])
    if s.temp.kind == "array":
        t: Array | None = jnp.asarray(temperature)
        static = None
    else:
        t, static = None, float(temperature)
    red = reduced_shape(s.shape, s.axes)
    return _Spec(fn, s.axes, red, static, kw["dtype"], **sparse), x, t, s.mask


def _rmax(a: Array, axes: tuple[int, ...]) -> Array:
    # ``initial`` keeps empty rows (length-0 axes) well defined: −inf.
    return jnp.max(a, axis=axes, keepdims=True, initial=-math.inf) if axes else a


def _work_dtype(dtype: Any) -> Any:
    return jnp.promote_types(dtype, jnp.float32)


def _zero(a: Any) -> bool:
    return a is None or isinstance(a, SymbolicZero)


@dataclass(frozen=True)
class _Rows:
    """Per-call quantities of the rules: entries that take part, rows whose map is locally
    constant (``dead``: rows holding +inf — not for the elementwise α-ReLU —, T = 0 or
    T = inf; not NaN rows), and the divisor T (1 where T is 0 or inf)."""

    kept: Array
    dead: Array
    scale: Array | float


def _rows(spec: _Spec, x: Array, t: Array | None, mask: Array | None, wd: Any) -> _Rows:
    """:func:`softmaxkit.derivatives.forms.classify_rows` on the rule's arguments (a traced
    temperature array, in the work dtype and the reduced shape)."""
    temperature = (
        float(spec.temperature) if t is None
        else jnp.broadcast_to(jnp.asarray(t, dtype=wd), spec.reduced)
    )
    rc = forms.classify_rows(jnp, x, spec.axes, mask=mask, temperature=temperature,
                             plus_inf_dead=spec.fn != "alpha_relu")
    return _Rows(rc.kept, rc.dead, 1.0 if rc.divisor is None else rc.divisor)


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
        xs = jnp.where(fin, jnp.asarray(x, dtype=wd), 0.0)
        if spec.fn != "alpha_relu":
            # Shift by the row's largest finite logit: the maps are shift invariant (α-ReLU is
            # not), and this keeps (x − c)·Ṫ/T free of the overflow and cancellation of huge
            # logits.
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
    dp = forms.softmax_jvp(jnp, jnp.asarray(p, dtype=wd), d, spec.axes, r.scale, r.dead)
    return p, dp.astype(p.dtype)


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
    dy = forms.log_softmax_jvp(jnp, p, d, r.kept, spec.axes, r.scale, r.dead)
    return y, dy.astype(y.dtype)


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
        out = out + forms.logsumexp_jvp(jnp, p, jnp.asarray(dx, dtype=wd), spec.axes)
    if t is not None and not _zero(dt):
        # ∂L/∂T = H(p), the entropy, from log p (by the log_softmax rule, differentiable).
        logp = jnp.asarray(_log_softmax(spec, x, t, mask), dtype=wd)
        entropy = forms.logsumexp_temperature_derivative(jnp, p, logp, spec.axes)
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
# the sparse maps: sparsemax, entmax15, entmax, alpha_relu
# --------------------------------------------------------------------------------------------


def _sparse_primal(spec: _Spec, x: Array, t: Array | None, mask: Array | None) -> Array:
    temperature = spec.temperature if t is None else t
    kw = {"axis": spec.axes, "temperature": temperature, "where": mask, "dtype": spec.dtype}
    if spec.fn == "sparsemax":
        return _sparse.sparsemax(x, **kw)
    if spec.fn == "entmax15":
        return _sparse.entmax15(x, **kw)
    if spec.fn == "alpha_relu":
        return _sparse.alpha_relu(x, alpha=spec.alpha, tau=spec.tau, **kw)
    return _sparse.entmax(x, alpha=spec.alpha, n_iter=spec.n_iter, **kw)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _sparse_map(spec: _Spec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _sparse_primal(spec, x, t, mask)


@functools.partial(_sparse_map.defjvp, symbolic_zeros=True)
def _sparse_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    p = _sparse_map(spec, x, t, mask)
    wd = _work_dtype(p.dtype)
    r = _rows(spec, x, t, mask, wd)
    d = _direction(spec, r, x, t, dx, dt, wd)
    if d is None:
        return p, jnp.zeros_like(p)
    g = forms.sparse_weights(jnp, jnp.asarray(p, dtype=wd), spec.alpha, spec.fn)
    if spec.fn == "alpha_relu":
        out = forms.alpha_relu_jvp(jnp, g, d, r.scale, r.dead)
    else:
        out = forms.sparse_jvp(jnp, g, d, spec.axes, r.scale, r.dead)
    return p, out.astype(p.dtype)


# --------------------------------------------------------------------------------------------
# entmax with α an array (one α, or one per row): differentiable in α too
# --------------------------------------------------------------------------------------------


def _entmax_alpha_primal(spec: _Spec, x: Array, alpha: Array, t: Array | None,
                         mask: Array | None) -> Array:
    """entmax with α of the reduced shape (kept dims): the bisection takes α as an array, so
    α may be traced. Rows with α = 1 are softmax exactly."""
    temperature = spec.temperature if t is None else t
    prep = setup("entmax", x, axis=spec.axes, temperature=temperature, where=mask,
                 dtype=spec.dtype)
    if prep.empty:
        return finish(jnp, prep.x, prep.out_dtype)
    a = jnp.asarray(alpha, dtype=prep.compute_dtype)
    one = a == 1.0
    # α = 1 would divide by α − 1 in the bisection: those rows solve a stand-in α = 2 and
    # take softmax's value instead.
    rows = sparse_kernel.to_rows(jnp, jnp.where(one, 2.0, a), spec.axes)[0]
    n_iter = spec.n_iter or sparse_kernel.default_n_iter(prep.compute_dtype)
    p = sparse_kernel.solve(prep, spec.axes, prep.temp, prep.mask, rows, "bisect", n_iter)
    soft = _maps.softmax(x, axis=spec.axes, temperature=temperature, where=mask,
                         dtype=spec.dtype)
    # A traced α is not checked on entry: its invalid rows (α < 1, NaN, inf) are NaN here.
    bad = ~(jnp.isfinite(a) & (a >= 1.0))
    return jnp.where(bad, jnp.nan, jnp.where(one, soft, p)).astype(p.dtype)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _entmax_alpha(spec: _Spec, x: Array, alpha: Array, t: Array | None,
                  mask: Array | None) -> Array:
    return _entmax_alpha_primal(spec, x, alpha, t, mask)


@functools.partial(_entmax_alpha.defjvp, symbolic_zeros=True)
def _entmax_alpha_jvp(spec: _Spec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, alpha, t, mask = primals
    dx, dalpha, dt, _ = tangents
    p = _entmax_alpha(spec, x, alpha, t, mask)
    wd = _work_dtype(p.dtype)
    r = _rows(spec, x, t, mask, wd)
    pw = jnp.asarray(p, dtype=wd)
    a = jnp.asarray(alpha, dtype=wd)
    out = jnp.zeros_like(pw)
    d = _direction(spec, r, x, t, dx, dt, wd)
    if d is not None:
        g = forms.sparse_weights(jnp, pw, a, "entmax")
        out = out + forms.sparse_jvp(jnp, g, d, spec.axes, r.scale, r.dead)
    if not _zero(dalpha):
        # ∂p/∂α in closed form (0 in rows that do not depend on α: T = 0 or inf, +inf).
        logp = jnp.log(jnp.where(pw > 0, pw, 1.0))
        dp = forms.entmax_dalpha(jnp, pw, logp, a - 1.0, spec.axes)
        out = out + jnp.where(r.dead, 0.0, dp) * jnp.asarray(dalpha, dtype=wd)
    return p, out.astype(p.dtype)


def _alpha_array(alpha: Any, x: Array, axes: tuple[int, ...]) -> Array:
    """A JAX α checked (shape always; values when they are concrete), broadcast to the
    reduced shape."""
    red = reduced_shape(tuple(x.shape), axes)
    a = jnp.asarray(alpha)
    try:
        ok = jnp.broadcast_shapes(tuple(a.shape), red) == red
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"entmax: alpha of shape {tuple(a.shape)} does not broadcast to the reduced "
            f"shape {red} (x's shape with the reduced axes of length 1)"
        )
    if not jnp.issubdtype(a.dtype, jnp.floating):
        raise ValueError(f"entmax: a JAX alpha must be real floating, got {a.dtype}")
    try:
        values = np.asarray(a)
    except jax.errors.JAXTypeError:
        values = None  # traced (jit, grad): its values cannot be inspected
    if values is not None:
        bad = ~(np.isfinite(values) & (values >= 1))
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f"alpha{list(index)}" if index else "alpha"
            raise ValueError(
                f"entmax: {where} = {float(values[index])!r} is invalid; expected finite "
                "values >= 1"
            )
    return jnp.broadcast_to(a, red)


def _entmax_alpha_rule(x: Any, kw: dict[str, Any]) -> Array:
    sparse_kernel.check_n_iter(kw.get("n_iter"))
    if not isinstance(x, jax.Array):
        x = jnp.asarray(x)
    axes = normalize_axis(kw["axis"], x.ndim, fn="entmax")
    alpha = _alpha_array(kw["alpha"], x, axes)
    spec, x, t, mask = _setup("entmax", x, kw, n_iter=kw.get("n_iter"))
    return _entmax_alpha(spec, x, alpha, t, mask)


# --------------------------------------------------------------------------------------------
# the rules: rule(x, kw) with kw the public function's keywords (defaults filled in)
# --------------------------------------------------------------------------------------------


def _row_rule(fn: str, custom: Any) -> Any:
    """The rule of softmax or log_softmax: validate, then the ``custom_jvp`` function."""

    def rule(x: Any, kw: dict[str, Any]) -> Array:
        spec, x, t, mask = _setup(fn, x, kw)
        return custom(spec, x, t, mask)

    return rule


def _logsumexp_rule(x: Any, kw: dict[str, Any]) -> Array:
    spec, x, t, mask = _setup("logsumexp", x, kw)
    out = _logsumexp(spec, x, t, mask)
    if kw["keepdims"] or not spec.axes:
        return out
    return jnp.squeeze(out, axis=spec.axes)


def _hardmax_rule(x: Any, kw: dict[str, Any]) -> Array:
    spec, x, _, mask = _setup("hardmax", x, kw)
    return _hardmax(spec, x, mask)


def _sparse_rule(fn: str) -> Any:
    """The rule of one sparse map: α (and τ) checked before the common arguments."""

    def rule(x: Any, kw: dict[str, Any]) -> Array:
        tau = 0.0
        if fn == "alpha_relu":
            a, tau = sparse_kernel.check_relu_args(kw["alpha"], kw["tau"], "alpha_relu")
        elif fn == "entmax":
            if isinstance(kw["alpha"], jax.Array):
                return _entmax_alpha_rule(x, kw)
            a = sparse_kernel.check_alpha(kw["alpha"])
            if a == 1.0:
                return softmax(x, **{k: kw[k] for k in ("axis", "temperature", "where", "dtype")})
        else:
            a = 2.0 if fn == "sparsemax" else 1.5
        spec, x, t, mask = _setup(fn, x, kw, alpha=a, tau=tau, n_iter=kw.get("n_iter"))
        return _sparse_map(spec, x, t, mask)

    return rule


# --------------------------------------------------------------------------------------------
# the two-class maps and logcumsumexp: the rules are the public closed forms of
# softmaxkit.derivatives (written with derivatives.forms) evaluated on JAX arrays
# --------------------------------------------------------------------------------------------

_NEW_MAPS: dict[str, Any] = {
    "sigmoid": _sigmoid, "log_sigmoid": _log_sigmoid, "logit": _logit,
    "logcumsumexp": _logcumsumexp,
}


@dataclass(frozen=True)
class _NewSpec:
    """Static part of a call of a map of :data:`_NEW_MAPS` (``temperature`` None when it is
    an array argument; ``axis`` and ``reverse`` for logcumsumexp)."""

    fn: str
    temperature: float | None
    dtype: Any
    axis: int | None = None
    reverse: bool = False


def _new_kw(spec: _NewSpec, t: Array | None, mask: Array | None) -> dict[str, Any]:
    """The derivative functions' keywords."""
    kw: dict[str, Any] = {"temperature": spec.temperature if t is None else t}
    if spec.fn == "logcumsumexp":
        kw.update(axis=spec.axis, reverse=spec.reverse, where=mask)
    return kw


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _new_map(spec: _NewSpec, x: Array, t: Array | None, mask: Array | None) -> Array:
    return _NEW_MAPS[spec.fn](x, dtype=spec.dtype, **_new_kw(spec, t, mask))


@functools.partial(_new_map.defjvp, symbolic_zeros=True)
def _new_map_jvp(spec: _NewSpec, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    x, t, mask = primals
    dx, dt, _ = tangents
    y = _new_map(spec, x, t, mask)
    kw = _new_kw(spec, t, mask)
    jvp = getattr(_derivatives, f"{spec.fn}_jvp")
    out = jnp.zeros_like(y)
    if not _zero(dx):
        out = out + jvp(x, dx, **kw).astype(y.dtype)
    if t is not None and not _zero(dt):
        # y depends on T through x/T (sigmoid, log_sigmoid, logcumsumexp: shift by the row's
        # largest finite entry c, then ẏ = J(−(x − c)Ṫ/T) + Ṫ(y − c)/T) or as T·L (logit:
        # ẏ = Ṫ·y/T). Constant outputs (±inf) have no T-derivative.
        wd = _work_dtype(y.dtype)
        tt = jnp.asarray(t, dtype=wd)
        safe = jnp.where((tt == 0) | jnp.isinf(tt), 1.0, tt)
        rate = jnp.asarray(dt, dtype=wd) / safe
        yw = jnp.asarray(y, dtype=wd)
        if spec.fn == "logit":
            term = jnp.where(jnp.isfinite(yw), yw * rate, jnp.where(jnp.isnan(yw), yw, 0.0))
        else:
            xw = jnp.asarray(x, dtype=wd)
            fin = jnp.isfinite(xw)
            c = 0.0
            if spec.fn == "logcumsumexp":
                ax = normalize_axis(spec.axis, xw.ndim)
                c = _rmax(jnp.where(fin if mask is None else fin & mask, xw, -math.inf), ax)
                c = jax.lax.stop_gradient(jnp.where(jnp.isfinite(c), c, 0.0))
            v = jnp.where(fin, -(xw - c) * rate, 0.0)
            term = jvp(x, v, **kw).astype(wd)
            if spec.fn == "logcumsumexp":
                term = term + jnp.where(jnp.isfinite(yw), (yw - c) * rate, 0.0)
        out = out + term.astype(y.dtype)
    return y, out


def _new_rule(fn: str) -> Any:
    """The rule of a map of :data:`_NEW_MAPS`: validated by the core layer, then the
    ``custom_jvp`` function (an array temperature is differentiated)."""

    def rule(x: Any, kw: dict[str, Any]) -> Array:
        if not isinstance(x, jax.Array):
            x = jnp.asarray(x)
        temperature = kw["temperature"]
        axis = kw.get("axis") if fn == "logcumsumexp" else ()
        extra: dict[str, Any] = {}
        if fn == "logcumsumexp":
            extra = {"where": kw["where"], "along": "a cumulative sum runs along one axis"}
        s = setup(fn, x, axis=axis, temperature=temperature, dtype=kw["dtype"], **extra)
        t: Array | None = None
        static: float | None = None
        if s.temp.kind == "array":
            t = jnp.asarray(temperature)
        else:
            static = float(temperature)
        mask = None
        if fn == "logcumsumexp":
            mask = None if kw["where"] is None else jnp.asarray(kw["where"])
            spec = _NewSpec(fn, static, kw["dtype"], s.axes[0], bool(kw["reverse"]))
        else:
            spec = _NewSpec(fn, static, kw["dtype"])
        return _new_map(spec, x, t, mask)

    return rule


# --------------------------------------------------------------------------------------------
# public functions: each map's own signature and docstring, less ``out`` (``b``, return_sign)
# --------------------------------------------------------------------------------------------

_LEAD = ":func:`softmaxkit.{name}` on JAX arrays, with a closed-form ``jax.custom_jvp`` rule."
_X = """\
x : jax.Array or array_like
    The input (converted with ``jnp.asarray``), as for the map.
"""
_EDGES = (
    "A temperature given as an array is differentiated too (``d = ẋ − (x − c)·Ṫ/T``, c the "
    "row's largest finite logit); a Python number is a constant. Derivatives are 0 (never "
    "NaN) on masked and −inf entries, in empty rows, in rows holding +inf, and at T = 0 or "
    "T = inf; NaN in rows holding NaN."
)
_SPARSE_EDGES = _EDGES.replace("on masked", "off the support, on masked")


def _twin(map_fn: Any, rule: Any, formula: str, notes: str, params: Any = None,
          **annotations: str) -> Any:
    """The public function of ``map_fn``: its signature and docstring, computed by ``rule``."""
    gen = Generated(_LEAD, formula, notes, {"x": _X, **(params or {})})
    drop = ("out", "b", "return_sign") if map_fn.__name__ == "logsumexp" else ("out",)
    return derived(map_fn, rule, gen, module=__name__, drop=drop,
                   annotations={"x": "Any", "return": "Array", **annotations})


softmax = _twin(
    _maps.softmax, _row_rule("softmax", _softmax),
    r".. math:: \dot p = p \odot (d - \langle p, d\rangle) / T",
    _EDGES,
)
log_softmax = _twin(
    _maps.log_softmax, _row_rule("log_softmax", _log_softmax),
    r".. math:: \dot y = (d - \langle p, d\rangle) / T"
    "\n\non the entries that take part, 0 on masked and −inf entries (constant −inf).",
    _EDGES + " No NaN even where the output is −inf.",
)
logsumexp = _twin(
    _maps.logsumexp, _logsumexp_rule,
    r".. math:: \dot L = \langle p, \dot x\rangle + \dot T\,H(p)"
    "\n\nwith :math:`H(p) = -\\sum_i p_i \\log p_i` the entropy of the softmax.",
    "The gradient is ``softmax(x, temperature=T)`` in every row, limits included (hardmax at "
    "T = 0, uniform at T = inf, shared among +inf entries, 0 in an empty row); the derivative "
    "in an array temperature is the entropy of that softmax. The Hessian is the softmax "
    "Jacobian. Weights ``b`` and ``return_sign`` are not taken here.",
)
hardmax = _twin(
    _maps.hardmax, _hardmax_rule, "",
    "The derivative is 0 (hardmax is piecewise constant); NaN in rows holding NaN.",
)
sparsemax = _twin(
    _sparse.sparsemax, _sparse_rule("sparsemax"),
    r".. math:: \dot p = s \odot (d - \langle s, d\rangle/|S|) / T"
    "\n\n(s the indicator of the support S).",
    _SPARSE_EDGES,
)
entmax15 = _twin(
    _sparse.entmax15, _sparse_rule("entmax15"),
    r".. math:: \dot p = g \odot (d - \langle g, d\rangle / \textstyle\sum g) / T, \qquad"
    r" g = \sqrt p",
    _SPARSE_EDGES,
)
entmax = _twin(
    _sparse.entmax, _sparse_rule("entmax"),
    r".. math:: \dot p = g \odot (d - \langle g, d\rangle / \textstyle\sum g) / T, \qquad"
    r" g = p^{2-\alpha}",
    _SPARSE_EDGES + " A JAX array α is differentiated too (∂p/∂α in closed form, as "
    ":func:`softmaxkit.sparse.entmax_alpha_derivative`; 0 in rows that do not depend on α); a "
    "Python number is a constant, and a float α = 1 is :func:`softmax`.",
    params={"alpha": """\
alpha : float or jax.Array, default 1.5
    α ≥ 1. A JAX array (concrete, or traced under ``jax.jit``/``jax.grad``) is broadcast
    against the reduced shape — ``x``'s shape with the reduced axes of length 1 — so there can
    be one α per row; rows with α = 1 are softmax. Concrete values must be finite and ≥ 1
    (else ValueError); traced values cannot be checked, and rows with α < 1 or non-finite α
    are then NaN. ``softmaxkit.entmax`` routes a JAX α here."""},
    alpha="float | Array",
)
alpha_relu = _twin(
    _sparse.alpha_relu, _sparse_rule("alpha_relu"),
    r".. math:: \dot r = r^{2-\alpha} \odot (\dot x - x \dot T / T) / T"
    "\n\non 0 < r < inf.",
    "α and τ are constants; an array temperature is differentiated. Derivatives are 0 below "
    "the threshold, on masked and ±inf entries and at T = 0 or inf; NaN in rows holding NaN.",
)
_NEW_EDGES = (
    "A temperature given as an array is differentiated too; a Python number is a constant. "
    "Derivatives are 0 (never NaN) where the output is a constant ±inf and at T = 0 or inf; "
    "NaN where the input is NaN."
)
sigmoid = _twin(
    _sigmoid, _new_rule("sigmoid"),
    r".. math:: \dot y = \sigma(1 - \sigma)\,(\dot x - x \dot T / T) / T",
    _NEW_EDGES + " 1 − σ is σ(−x), never a subtraction.",
)
log_sigmoid = _twin(
    _log_sigmoid, _new_rule("log_sigmoid"),
    r".. math:: \dot y = \sigma(-x/T)\,(\dot x - x \dot T / T) / T",
    _NEW_EDGES,
)
logit = _twin(
    _logit, _new_rule("logit"),
    r".. math:: \dot y = T \dot p / (p(1 - p)) + \dot T\, y / T",
    _NEW_EDGES + " Values of p outside [0, 1] are checked only when they are concrete.",
)
logcumsumexp = _twin(
    _logcumsumexp, _new_rule("logcumsumexp"),
    r".. math:: \dot y_i = \sum_{j \le i} e^{(x_j - y_i)/T} \dot x_j",
    "Row i of the Jacobian is the softmax of the prefix (hardmax at T = 0, uniform at T = inf, "
    "shared among +inf entries), evaluated with two more cumulative log-sum-exps (O(n log n); "
    "O(n²) at T = 0 or inf, see :func:`softmaxkit.logcumsumexp_jvp`). " + _NEW_EDGES,
)


def apply(name: str, x: Any, /, **kwargs: Any) -> Any:
    """Call the map ``name`` through its JAX rule, when that applies.

    The hook used by the public maps for what only these rules compute: ``entmax`` with α a
    JAX array (one α, or one per row; concrete or traced under ``jax.jit``/``jax.grad``),
    differentiable in α. Anything else returns ``NotImplemented`` and the caller computes the
    map as usual (an unknown keyword included, so that the map raises its own error).

    Parameters
    ----------
    name : str
        The map's name.
    x : any
        The map's input.
    **kwargs
        The map's keywords.

    Returns
    -------
    jax.Array or NotImplemented
    """
    if name != "entmax" or not isinstance(kwargs.get("alpha"), jax.Array):
        return NotImplemented
    if not set(kwargs) <= set(parameters(entmax)):
        return NotImplemented
    return entmax(x, **kwargs)
