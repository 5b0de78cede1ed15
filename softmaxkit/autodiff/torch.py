r"""PyTorch autograd for the maps, with closed-form backward passes.

Each map is a :class:`torch.autograd.Function` whose forward pass is the library's own map
(so values, edge cases and accuracy are exactly those of :func:`softmaxkit.softmax` and its
siblings) and whose backward pass is the closed-form vector-Jacobian product of
:mod:`softmaxkit.derivatives.forms`, evaluated on the tensors through their array-API
namespace (so in differentiable torch operations):

* softmax: :math:`\bar x = p \odot (u - \langle p, u\rangle) / T`;
* log_softmax: :math:`\bar x = (u - p \textstyle\sum_i u_i) / T` (``u`` taken as 0 on masked
  and −inf entries, whose output is the constant −inf);
* logsumexp: :math:`\bar x = u\,p`, with ``p`` the softmax computed by the softmax Function,
  so that the Hessian is the softmax Jacobian;
* hardmax: 0 (it is piecewise constant; NaN in rows holding NaN).

So gradients are twice differentiable (``torch.autograd.gradcheck`` and ``gradgradcheck``
pass), the forward-mode rule (``jvp``) is closed-form too (``torch.func.jacfwd`` and
``torch.func.hessian`` work), and the edge cases get the derivative of the limit rather than
NaN: a fully masked row, a row of −inf, masked and −inf entries, rows holding +inf entries and
``T = 0`` / ``T = inf`` all have gradient exactly 0 (logsumexp: its gradient is softmax in
every row, including those limits). A row holding NaN gets NaN, and only that row. The
derivatives are those of :mod:`softmaxkit.derivatives`, which documents the conventions.

``torch.compile(..., fullgraph=True)`` traces the maps with tensors that require grad into
one graph, values and gradients bit for bit those of eager mode: it traces twins of the
Functions without their ``jvp`` (dynamo refuses a custom ``jvp``; forward mode does not run
under ``torch.compile``). The maps load this module by name on first use, an import dynamo
cannot trace; ``import softmaxkit`` therefore loads it at once when PyTorch is already
imported. Importing softmaxkit *before* torch, load it yourself before the first compiled call
(``import softmaxkit.autodiff.torch``, or one eager call).

The public functions are the maps' own: their signatures and docstrings are read from
:func:`softmaxkit.softmax` and its siblings (less ``out`` and logsumexp's weights ``b``).
The temperature is a number or a tensor broadcastable against the reduced shape, as for the
maps; it is not differentiated. To learn a temperature, differentiate ``softmax(x / t)``: the
division is an ordinary torch operation.

Usage::

    import torch
    from softmaxkit.autodiff import torch as skt

    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    keep = torch.tensor([[True, True, False], [False, False, False]])
    p = skt.softmax(x, where=keep, temperature=0.5)   # the second row is empty: zeros
    (p * torch.arange(3.0)).sum().backward()
    x.grad                                            # 0 in the empty row, never NaN

With ``torch.softmax(x.masked_fill(~keep, -inf), -1)`` the second row, and its gradient, are
NaN.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit import derivatives as _derivatives
from softmaxkit import maps as _maps
from softmaxkit import sparse as _sparse
from softmaxkit._base import sparse_kernel
from softmaxkit._base.arrays import rsum
from softmaxkit._base.core import normalize_axis, reduced_shape, setup
from softmaxkit._base.dispatch import is_dual
from softmaxkit._base.optional import require
from softmaxkit.autodiff._wrap import Generated, derived, parameters
from softmaxkit.derivatives import forms
from softmaxkit.scan import logcumsumexp as _logcumsumexp
from softmaxkit.sigmoid import log_sigmoid as _log_sigmoid
from softmaxkit.sigmoid import logit as _logit
from softmaxkit.sigmoid import sigmoid as _sigmoid

torch = require("torch", fn="softmaxkit.autodiff.torch")

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

Tensor = torch.Tensor
# The array-API namespace of torch tensors, in which the closed forms are written.
_XP = array_api_compat.array_namespace(torch.empty(0))


@dataclass(frozen=True, eq=False)
class _Spec:
    """What a Function needs besides its tensors.

    ``temperature`` is the value handed to the map (already validated); ``scale`` the divisor
    of the derivative (None for T = 1, 0 or inf, a float, or a kept-dims tensor with 1 where
    T is 0 or inf): rows at T = 0 or inf are flagged dead and their derivative set to 0. The
    sparse maps add α (None when α is the tensor input), α-ReLU's τ and the bisection's
    ``n_iter``.
    """

    fn: str
    axes: tuple[int, ...]
    temperature: Any
    scale: float | Tensor | None
    dtype: Any
    alpha: float | None = None
    tau: float = 0.0
    n_iter: int | None = None


@dataclass(frozen=True, eq=False)
class _Context:
    spec: _Spec
    mask: Tensor | None  # bool, broadcast to x's shape
    dead: Tensor  # bool, kept dims: rows whose softmax is locally constant (not NaN rows)
    kept: Tensor  # bool, x's shape: entries that take part (not masked, not −inf)


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """Derivatives of half-precision outputs are formed in float32, like the maps."""
    return torch.promote_types(dtype, torch.float32)


def _divisor(spec: _Spec, wd: torch.dtype) -> float | Tensor | None:
    """T as :mod:`softmaxkit.derivatives.forms` takes it, a tensor in the work dtype."""
    return spec.scale.to(wd) if isinstance(spec.scale, torch.Tensor) else spec.scale


def _check_tensor(fn: str, x: Any, temperature: Any) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"softmaxkit.autodiff.torch.{fn}: x must be a torch.Tensor, got "
            f"{type(x).__module__}.{type(x).__name__}; for other arrays use softmaxkit.{fn}"
        )
    if isinstance(temperature, torch.Tensor) and temperature.requires_grad:
        raise TypeError(
            f"softmaxkit.autodiff.torch.{fn}: the temperature is not differentiated here, but "
            "the temperature tensor requires grad; to learn a temperature t, differentiate "
            f"{fn}(x / t) instead"
        )


def _context(fn: str, x: Tensor, kw: dict[str, Any], plus_inf_dead: bool = True) -> _Context:
    """Validate the arguments (with the core layer's messages) and flag the special rows
    (``plus_inf_dead=False``: rows holding +inf are not constant, as for α-ReLU)."""
    temperature = kw.get("temperature", 1.0)
    s = setup(fn, x, axis=kw["axis"], temperature=temperature, where=kw["where"],
              dtype=kw["dtype"])
    with torch.no_grad():
        rc = forms.classify_rows(_XP, x.detach(), s.axes, mask=s.mask, temperature=s.temp,
                                 plus_inf_dead=plus_inf_dead)
    axes, mask, kept, dead, scale = s.axes, s.mask, rc.kept, rc.dead, rc.divisor
    return _Context(_Spec(fn, axes, temperature, scale, kw["dtype"]), mask, dead, kept)


# --------------------------------------------------------------------------------------------
# the closed forms of softmaxkit.derivatives.forms, in the work dtype (they are differentiable
# torch operations: the backward passes are differentiable too)
# --------------------------------------------------------------------------------------------


def _softmax_tangent(spec: _Spec, p: Tensor, v: Tensor, dead: Tensor) -> Tensor:
    """The JVP and, the Jacobian being symmetric, the VJP of softmax."""
    wd = _work_dtype(p.dtype)
    return forms.softmax_jvp(_XP, p.to(wd), v.to(wd), spec.axes, _divisor(spec, wd), dead)


def _log_softmax_tangent(
    spec: _Spec, y: Tensor, v: Tensor, dead: Tensor, kept: Tensor, form: Any
) -> Tensor:
    """``form`` (the JVP or the VJP of log_softmax) from the output y = log p."""
    wd = _work_dtype(y.dtype)
    p = torch.exp(y.to(wd))
    return form(_XP, p, v.to(wd), kept, spec.axes, _divisor(spec, wd), dead)


# --------------------------------------------------------------------------------------------
# the Functions
# --------------------------------------------------------------------------------------------


class _Softmax(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mask: Tensor | None, dead: Tensor, spec: _Spec) -> Tensor:
        return _maps.softmax(
            x.detach(), axis=spec.axes, temperature=spec.temperature, where=mask, dtype=spec.dtype
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, _, dead, spec = inputs
        ctx.spec, ctx.x_dtype = spec, x.dtype
        ctx.save_for_backward(output, dead)
        ctx.save_for_forward(output, dead)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None, None, None]:
        p, dead = ctx.saved_tensors
        return _softmax_tangent(ctx.spec, p, g, dead).to(ctx.x_dtype), None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        p, dead = ctx.saved_tensors
        return _softmax_tangent(ctx.spec, p, dx, dead).to(p.dtype)


class _LogSoftmax(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mask: Tensor | None, dead: Tensor, kept: Tensor, spec: _Spec) -> Tensor:
        return _maps.log_softmax(
            x.detach(), axis=spec.axes, temperature=spec.temperature, where=mask, dtype=spec.dtype
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, _, dead, kept, spec = inputs
        ctx.spec, ctx.x_dtype = spec, x.dtype
        ctx.save_for_backward(output, dead, kept)
        ctx.save_for_forward(output, dead, kept)

    @staticmethod
    def backward(ctx: Any, u: Tensor) -> tuple[Tensor, None, None, None, None]:
        y, dead, kept = ctx.saved_tensors
        gx = _log_softmax_tangent(ctx.spec, y, u, dead, kept, forms.log_softmax_vjp)
        gx = gx.to(ctx.x_dtype)
        return gx, None, None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        y, dead, kept = ctx.saved_tensors
        dy = _log_softmax_tangent(ctx.spec, y, dx, dead, kept, forms.log_softmax_jvp)
        return dy.to(y.dtype)


class _LogSumExp(torch.autograd.Function):
    """logsumexp with kept dims; its derivative is the softmax Function's output, so second
    derivatives go through the softmax Function's own closed-form backward."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mask: Tensor | None, dead: Tensor, spec: _Spec) -> Tensor:
        return _maps.logsumexp(
            x.detach(),
            axis=spec.axes,
            temperature=spec.temperature,
            where=mask,
            keepdims=True,
            dtype=spec.dtype,
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, mask, dead, spec = inputs
        ctx.spec, ctx.x_dtype, ctx.out_dtype = spec, x.dtype, output.dtype
        ctx.save_for_backward(x, mask, dead)
        ctx.save_for_forward(x, mask, dead)

    @staticmethod
    def _weights(ctx: Any) -> Tensor:
        x, mask, dead = ctx.saved_tensors
        p = _Softmax.apply(x, mask, dead, replace(ctx.spec, fn="softmax"))
        return p.to(_work_dtype(p.dtype))

    @staticmethod
    def backward(ctx: Any, u: Tensor) -> tuple[Tensor, None, None, None]:
        p = _LogSumExp._weights(ctx)
        gx = forms.logsumexp_vjp(_XP, p, u.to(p.dtype))
        return gx.to(ctx.x_dtype), None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        p = _LogSumExp._weights(ctx)
        return forms.logsumexp_jvp(_XP, p, dx.to(p.dtype), ctx.spec.axes).to(ctx.out_dtype)


class _Hardmax(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mask: Tensor | None, spec: _Spec) -> Tensor:
        return _maps.hardmax(x.detach(), axis=spec.axes, where=mask, dtype=spec.dtype)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        ctx.x_dtype = inputs[0].dtype
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def _zeros(h: Tensor, dtype: torch.dtype) -> Tensor:
        # Zero almost everywhere; NaN rows (the output is NaN on the whole row) stay NaN.
        zero = torch.zeros((), dtype=dtype, device=h.device)
        return torch.where(torch.isnan(h), torch.full_like(zero, math.nan), zero).expand(h.shape)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None, None]:
        (h,) = ctx.saved_tensors
        return _Hardmax._zeros(h, ctx.x_dtype), None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        (h,) = ctx.saved_tensors
        return _Hardmax._zeros(h, h.dtype)


# --------------------------------------------------------------------------------------------
# the sparse maps: sparsemax, entmax15, entmax (α differentiable too), alpha_relu
# --------------------------------------------------------------------------------------------


def _sum_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast gradient back to the shape of the input it was broadcast from."""
    lead = t.ndim - len(shape)
    if lead:
        t = t.sum(dim=tuple(range(lead)))
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and t.shape[i] != 1)
    if dims:
        t = t.sum(dim=dims, keepdim=True)
    return t.reshape(shape)


def _per_row_alpha(alpha: Tensor, x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """Validate a tensor α: broadcastable to the reduced shape, finite and ≥ 1."""
    red = reduced_shape(tuple(x.shape), axes)
    try:
        ok = tuple(torch.broadcast_shapes(tuple(alpha.shape), red)) == red
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"entmax: alpha of shape {tuple(alpha.shape)} does not broadcast to the reduced "
            f"shape {red} (x's shape with the reduced axes of length 1)"
        )
    if alpha.is_complex() or not alpha.is_floating_point():
        raise ValueError(f"entmax: a tensor alpha must be real floating, got {alpha.dtype}")
    with torch.no_grad():
        bad = ~(torch.isfinite(alpha) & (alpha >= 1))
        if bool(bad.any()):
            index = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"entmax: alpha{list(index)} = {float(alpha[index])!r} is invalid; expected "
                "finite values >= 1"
            )
    return alpha


def _entmax_rows(x: Tensor, alpha: Tensor, mask: Tensor | None, spec: _Spec) -> Tensor:
    """entmax with one α per row: the rows sharing an α are solved together."""
    axes = spec.axes
    red = reduced_shape(tuple(x.shape), axes)
    a = alpha.detach().expand(red)
    values = torch.unique(a)
    kw: dict[str, Any] = {"dtype": spec.dtype, "n_iter": spec.n_iter}
    if values.numel() == 1:
        return _sparse.entmax(x, alpha=float(values[0]), axis=axes,
                              temperature=spec.temperature, where=mask, **kw)
    rest = [i for i in range(x.ndim) if i not in axes]
    perm = (*rest, *axes)
    pshape = tuple(x.shape[i] for i in perm)
    rows = math.prod(x.shape[i] for i in rest)
    n = math.prod(x.shape[i] for i in axes)
    xr = x.permute(perm).reshape(rows, n)
    ar = a.permute(perm).reshape(rows)
    mr = None if mask is None else mask.expand(x.shape).permute(perm).reshape(rows, n)
    t = spec.temperature
    if isinstance(t, (numbers.Real, np.generic)) or (isinstance(t, np.ndarray) and t.ndim == 0):
        tr: Any = float(t)
    else:
        tt = torch.as_tensor(t, device=x.device)
        tr = torch.broadcast_to(tt, red).permute(perm).reshape(rows, 1)
    out: Tensor | None = None
    for v in values:
        idx = (ar == v).nonzero().squeeze(1)
        part = _sparse.entmax(
            xr[idx], alpha=float(v), axis=-1,
            temperature=tr if isinstance(tr, float) else tr[idx],
            where=None if mr is None else mr[idx], **kw,
        )
        if out is None:
            out = part.new_empty((rows, n))
        out[idx] = part
    assert out is not None
    return out.reshape(pshape).permute(tuple(int(i) for i in np.argsort(perm)))


def _alpha_in(spec: _Spec, alpha: Tensor | None, wd: torch.dtype) -> Any:
    """α as a float, or as a kept-dims tensor in the work dtype (detached from nothing: the
    backward is differentiable in α too)."""
    return spec.alpha if alpha is None else alpha.to(wd)


def _sparse_tangent(spec: _Spec, p: Tensor, v: Tensor, dead: Tensor, alpha: Any) -> Tensor:
    """J v (= vᵀ J: the Jacobian is symmetric), from the output's weights g = p^(2−α)."""
    g = forms.sparse_weights(_XP, p, alpha, spec.fn)
    t = _divisor(spec, p.dtype)
    if spec.fn == "alpha_relu":
        return forms.alpha_relu_jvp(_XP, g, v, t, dead)
    return forms.sparse_jvp(_XP, g, v, spec.axes, t, dead)


def _dp_dalpha(spec: _Spec, p: Tensor, dead: Tensor, alpha: Tensor) -> Tensor:
    """∂p/∂α (the closed form behind :func:`softmaxkit.entmax_alpha_derivative`)."""
    eps = alpha.expand(reduced_shape(tuple(p.shape), spec.axes)) - 1.0
    logp = torch.log(torch.where(p > 0, p, torch.ones_like(p)))
    d = forms.entmax_dalpha(_XP, p, logp, eps, spec.axes)
    return torch.where(dead, p.new_zeros(()), d)


class _Sparse(torch.autograd.Function):
    """sparsemax / entmax15 / entmax / alpha_relu with the closed-form derivatives; the
    second input is entmax's α as a tensor (None otherwise)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: Tensor, alpha: Tensor | None, mask: Tensor | None, dead: Tensor, spec: _Spec
    ) -> Tensor:
        x = x.detach()
        kw = {"axis": spec.axes, "temperature": spec.temperature, "where": mask,
              "dtype": spec.dtype}
        if spec.fn == "sparsemax":
            return _sparse.sparsemax(x, **kw)
        if spec.fn == "entmax15":
            return _sparse.entmax15(x, **kw)
        if spec.fn == "alpha_relu":
            return _sparse.alpha_relu(x, alpha=spec.alpha, tau=spec.tau, **kw)
        if alpha is None:
            return _sparse.entmax(x, alpha=spec.alpha, n_iter=spec.n_iter, **kw)
        return _entmax_rows(x, alpha, mask, spec)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, alpha, _, dead, spec = inputs
        ctx.spec, ctx.x_dtype = spec, x.dtype
        ctx.alpha_shape = None if alpha is None else tuple(alpha.shape)
        ctx.alpha_dtype = None if alpha is None else alpha.dtype
        ctx.save_for_backward(output, dead, alpha)
        ctx.save_for_forward(output, dead, alpha)

    @staticmethod
    def backward(ctx: Any, u: Tensor) -> tuple[Tensor | None, Tensor | None, None, None, None]:
        p, dead, alpha = ctx.saved_tensors
        spec = ctx.spec
        wd = _work_dtype(p.dtype)
        p, u = p.to(wd), u.to(wd)
        a = _alpha_in(spec, alpha, wd)
        gx = ga = None
        if ctx.needs_input_grad[0]:
            gx = _sparse_tangent(spec, p, u, dead, a).to(ctx.x_dtype)
        if alpha is not None and ctx.needs_input_grad[1]:
            u0 = torch.where(p != 0, u, p.new_zeros(()))
            d = _dp_dalpha(spec, p, dead, a)
            ga = _sum_to(rsum(_XP, u0 * d, spec.axes), ctx.alpha_shape).to(ctx.alpha_dtype)
        return gx, ga, None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor | None, dalpha: Tensor | None, *_: Any) -> Tensor:
        p, dead, alpha = ctx.saved_tensors
        spec = ctx.spec
        wd = _work_dtype(p.dtype)
        pw = p.to(wd)
        a = _alpha_in(spec, alpha, wd)
        out = torch.zeros_like(pw)
        if dx is not None:
            out = out + _sparse_tangent(spec, pw, dx.to(wd), dead, a)
        if alpha is not None and dalpha is not None:
            red = reduced_shape(tuple(p.shape), spec.axes)
            out = out + _dp_dalpha(spec, pw, dead, a) * dalpha.to(wd).expand(red)
        return out.to(p.dtype)




class _NoJvp:
    """Mixed into the twins that ``torch.compile`` traces: the Function less its ``jvp``.

    Dynamo refuses to trace a Function that defines ``jvp`` (a graph break, an error under
    ``fullgraph=True``); forward-mode AD does not run under ``torch.compile`` anyway. Values
    and the backward pass are the Function's own.
    """

    jvp = staticmethod(torch.autograd.Function.jvp)


class _SoftmaxCompiled(_NoJvp, _Softmax):
    pass


class _LogSoftmaxCompiled(_NoJvp, _LogSoftmax):
    pass


class _LogSumExpCompiled(_NoJvp, _LogSumExp):
    pass


class _HardmaxCompiled(_NoJvp, _Hardmax):
    pass


class _SparseCompiled(_NoJvp, _Sparse):
    pass


# --------------------------------------------------------------------------------------------
# the two-class maps and logcumsumexp: their backward and forward-mode rules are the public
# closed forms of softmaxkit.derivatives (written with derivatives.forms), which evaluate the
# maps again — through these Functions when the graph must be differentiated once more
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Call:
    """A map and its keywords (``kw`` for the map, ``dkw`` for its derivatives)."""

    fn: str
    kw: dict[str, Any]
    dkw: dict[str, Any]


_NEW_MAPS: dict[str, Any] = {
    "sigmoid": _sigmoid, "log_sigmoid": _log_sigmoid, "logit": _logit,
    "logcumsumexp": _logcumsumexp,
}


def _new_tangent(call: _Call, x: Tensor, v: Tensor, kind: str) -> Tensor:
    rule = getattr(_derivatives, f"{call.fn}_{kind}")
    return rule(x, v, **call.dkw)


class _Derived(torch.autograd.Function):
    """sigmoid, log_sigmoid, logit, logcumsumexp: value from the map, derivatives in closed
    form (twice differentiable: the rules call the maps through this Function)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, call: _Call) -> Tensor:
        return _NEW_MAPS[call.fn](x.detach(), **call.kw)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, call = inputs
        ctx.call, ctx.x_dtype = call, x.dtype
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return _new_tangent(ctx.call, x, g, "vjp").to(ctx.x_dtype), None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        (x,) = ctx.saved_tensors
        out_dtype = ctx.call.kw.get("dtype") or x.dtype
        return _new_tangent(ctx.call, x, dx, "jvp").to(out_dtype)


class _DerivedCompiled(_NoJvp, _Derived):
    pass


def _derived_rule(fn: str) -> Any:
    """The rule of a map of :data:`_NEW_MAPS`: checked, then the Function."""

    def rule(x: Any, kw: dict[str, Any]) -> Tensor:
        _check_tensor(fn, x, kw["temperature"])
        dkw = {k: v for k, v in kw.items() if k != "dtype"}
        if fn == "logcumsumexp" and isinstance(kw.get("where"), torch.Tensor):
            dkw["where"] = kw["where"]
        return _function(_Derived, _DerivedCompiled).apply(x, _Call(fn, dict(kw), dkw))

    return rule


def _function(cls: Any, twin: Any) -> Any:
    """``cls``, or under torch.compile its ``twin`` without ``jvp``."""
    return twin if torch.compiler.is_compiling() else cls


# --------------------------------------------------------------------------------------------
# the rules: rule(x, kw) with kw the public function's keywords (defaults filled in)
# --------------------------------------------------------------------------------------------


def _softmax(x: Any, kw: dict[str, Any]) -> Tensor:
    _check_tensor("softmax", x, kw["temperature"])
    c = _context("softmax", x, kw)
    return _function(_Softmax, _SoftmaxCompiled).apply(x, c.mask, c.dead, c.spec)


def _log_softmax(x: Any, kw: dict[str, Any]) -> Tensor:
    _check_tensor("log_softmax", x, kw["temperature"])
    c = _context("log_softmax", x, kw)
    return _function(_LogSoftmax, _LogSoftmaxCompiled).apply(x, c.mask, c.dead, c.kept, c.spec)


def _logsumexp(x: Any, kw: dict[str, Any]) -> Any:
    _check_tensor("logsumexp", x, kw["temperature"])
    c = _context("logsumexp", x, kw)
    out = _function(_LogSumExp, _LogSumExpCompiled).apply(x, c.mask, c.dead, c.spec)
    if not kw["keepdims"] and c.spec.axes:
        out = out.squeeze(c.spec.axes)
    if not kw["return_sign"]:
        return out
    # Without weights the sum is positive unless it is empty (log 0 = −inf, sign 0).
    lse = out.detach()
    sign = torch.where(lse > -math.inf, torch.ones_like(lse), torch.zeros_like(lse))
    return out, torch.where(torch.isnan(lse), lse, sign)


def _hardmax(x: Any, kw: dict[str, Any]) -> Tensor:
    _check_tensor("hardmax", x, None)
    c = _context("hardmax", x, kw)
    return _function(_Hardmax, _HardmaxCompiled).apply(x, c.mask, c.spec)


def _sparse_rule(fn: str) -> Any:
    """The rule of one sparse map: α (and τ, n_iter) checked before the common arguments."""

    def rule(x: Any, kw: dict[str, Any]) -> Tensor:
        _check_tensor(fn, x, kw["temperature"])
        alpha, n_iter = kw.get("alpha"), kw.get("n_iter")
        alpha_t: Tensor | None = None
        a: float | None = None
        tau = 0.0
        if fn == "alpha_relu":
            a, tau = sparse_kernel.check_relu_args(alpha, kw["tau"], fn)
        elif fn == "entmax":
            if isinstance(alpha, torch.Tensor):
                alpha_t = _per_row_alpha(alpha, x, normalize_axis(kw["axis"], x.ndim, fn=fn))
            else:
                a = sparse_kernel.check_alpha(alpha)
                if a == 1.0:  # softmax exactly, with its own Function
                    common = {k: kw[k] for k in ("axis", "temperature", "where", "dtype")}
                    return _maps.softmax(x, **common)
            sparse_kernel.check_n_iter(n_iter)
        else:
            a = 2.0 if fn == "sparsemax" else 1.5
        c = _context(fn, x, kw, plus_inf_dead=fn != "alpha_relu")
        spec = replace(c.spec, alpha=a, tau=tau, n_iter=n_iter)
        return _function(_Sparse, _SparseCompiled).apply(x, alpha_t, c.mask, c.dead, spec)

    return rule


# --------------------------------------------------------------------------------------------
# public functions: each map's own signature and docstring, less ``out`` (and ``b``)
# --------------------------------------------------------------------------------------------

_RAISES = """\
TypeError
    If ``x`` is not a torch.Tensor, or the temperature is a tensor that requires grad (the
    temperature is not differentiated here: to learn a temperature t, differentiate
    ``f(x / t)``).
"""
_EDGES = (
    "Gradients are 0 (never NaN) on masked and −inf entries, in empty rows, in rows holding "
    "+inf, and at T = 0 or T = inf; NaN in rows holding NaN."
)
_SPARSE_EDGES = (
    "Gradients are 0 (never NaN) off the support, on masked and −inf entries, in empty rows, "
    "in rows holding +inf and at T = 0 or inf; NaN in rows holding NaN."
)
_LEAD = ":func:`softmaxkit.{name}` on torch tensors, with closed-form backward and JVP rules."
_X = """\
x : torch.Tensor
    The input (a tensor that may require grad), as for the map.
"""


def _twin(
    map_fn: Any, rule: Any, formula: str, notes: str, params: Any = None, **annotations: str
) -> Any:
    """The public function of ``map_fn``: its signature and docstring, computed by ``rule``."""
    gen = Generated(_LEAD, formula, notes, {"x": _X, **(params or {})}, _RAISES)
    # logsumexp: no weights b (torch's own autograd differentiates them), maybe a sign.
    lse = map_fn.__name__ == "logsumexp"
    annotations = {"x": "Tensor", "return": "Any" if lse else "Tensor", **annotations}
    return derived(map_fn, rule, gen, module=__name__, drop=("out", "b") if lse else ("out",),
                   annotations=annotations)


softmax = _twin(
    _maps.softmax, _softmax,
    r".. math:: \bar x = p \odot (\bar p - \langle p, \bar p\rangle) / T",
    _EDGES + " Twice differentiable.",
)
log_softmax = _twin(
    _maps.log_softmax, _log_softmax,
    r""".. math:: \bar x = (\bar y - p \textstyle\sum_i \bar y_i) / T

    with :math:`\bar y` taken as 0 on masked and −inf entries (their output is the constant
    −inf).""",
    _EDGES + " The gradient is not NaN even where the output is −inf.",
)
logsumexp = _twin(
    _maps.logsumexp, _logsumexp,
    r".. math:: \bar x = \bar y\,p, \qquad p = \operatorname{softmax}(x / T)",
    "The gradient is ``softmax(x, temperature=T)`` in every row, limits included: the hardmax "
    "at T = 0, uniform at T = inf, shared among the +inf entries of a row; 0 in an empty row. "
    "The Hessian is the softmax Jacobian (0 where softmax is locally constant). Weights ``b`` "
    "are not taken here (:func:`softmaxkit.logsumexp` differentiates them with torch's own "
    "autograd); with ``return_sign`` the sign is 1, or 0 for an empty row.",
)
hardmax = _twin(
    _maps.hardmax, _hardmax, "",
    "hardmax is piecewise constant: its derivative is 0 almost everywhere (undefined at ties, "
    "where 0 is returned too); NaN in rows holding NaN. Unlike a result detached from the "
    "graph, this one can sit on the only path to a loss without breaking ``backward()``.",
)
sparsemax = _twin(
    _sparse.sparsemax, _sparse_rule("sparsemax"),
    r""".. math:: \bar x = s \odot (\bar p - \langle s, \bar p\rangle / |S|) / T,

    s the indicator of the support S.""",
    _SPARSE_EDGES,
)
entmax15 = _twin(
    _sparse.entmax15, _sparse_rule("entmax15"),
    r".. math:: \bar x = g \odot (\bar p - \langle g, \bar p\rangle / \textstyle\sum g) / T,"
    r" \qquad g = \sqrt p",
    _SPARSE_EDGES,
)
entmax = _twin(
    _sparse.entmax, _sparse_rule("entmax"),
    r""".. math:: \bar x = g \odot (\bar p - \langle g, \bar p\rangle / \textstyle\sum g) / T,
              \qquad \bar\alpha = \Bigl\langle \bar p, \frac{\partial p}{\partial\alpha}
              \Bigr\rangle,

    g = p^(2−α) on the support, ∂p/∂α as in
    :func:`softmaxkit.sparse.entmax_alpha_derivative` (summed over the rows that share an α).""",
    _SPARSE_EDGES + " With a tensor α, rows that share an α value are solved together, one "
    "bisection per distinct value; the α gradient is 0 in rows that do not depend on α "
    "(T = 0 or inf, rows holding +inf, empty rows).",
    params={"alpha": """\
alpha : float or torch.Tensor, default 1.5
    α ≥ 1. A tensor (it may require grad) is broadcast against the reduced shape — ``x``'s
    shape with the reduced axes of length 1 — so there can be one α per row, as in the
    ``entmax`` package's ``entmax_bisect``; its gradient has α's own shape. It must be
    finite and ≥ 1 (else ValueError). A float α = 1 is :func:`softmax` exactly."""},
    alpha="float | Tensor",
)
alpha_relu = _twin(
    _sparse.alpha_relu, _sparse_rule("alpha_relu"),
    r".. math:: \bar x = r^{2-\alpha} \odot \bar r / T \quad \text{on } 0 < r < \infty.",
    "Gradients are 0 below the threshold, on masked and ±inf entries and at T = 0 or inf; NaN "
    "in rows holding NaN. α and τ are numbers, not differentiated.",
)

sigmoid = _twin(
    _sigmoid, _derived_rule("sigmoid"),
    r".. math:: \bar x = \sigma(1 - \sigma)\,\bar y / T",
    "1 − σ is σ(−x), never a subtraction. Gradients are 0 (never NaN) at x = ±inf and at T = 0 "
    "or inf; NaN where x is NaN. Twice differentiable.",
)
log_sigmoid = _twin(
    _log_sigmoid, _derived_rule("log_sigmoid"),
    r".. math:: \bar x = \sigma(-x/T)\,\bar y / T",
    "Gradients are 0 (never NaN) at x = ±inf (−inf: the output is the constant −inf) and at "
    "T = 0 or inf; NaN where x is NaN. Twice differentiable.",
)
logit = _twin(
    _logit, _derived_rule("logit"),
    r".. math:: \bar p = T\,\bar y / (p(1 - p))",
    "Gradients are 0 at p = 0 and p = 1 (the output is the constant ∓inf there); NaN where p "
    "is NaN. Twice differentiable.",
)
logcumsumexp = _twin(
    _logcumsumexp, _derived_rule("logcumsumexp"),
    r".. math:: \bar x_j = \sum_{i \ge j} \bar y_i\, e^{(x_j - y_i)/T}",
    "Row i of the Jacobian is the softmax of the prefix (its limits included: hardmax at "
    "T = 0, uniform at T = inf, shared among +inf entries); the backward pass is two more "
    "cumulative log-sum-exps (see :func:`softmaxkit.logcumsumexp_vjp`), so it is O(n log n) "
    "and twice differentiable. 0 at masked and −inf entries; NaN from a NaN on.",
)

_FUNCTIONS: dict[str, Any] = {
    f.__name__: f
    for f in (softmax, log_softmax, logsumexp, hardmax, sparsemax, entmax15, entmax, alpha_relu,
              sigmoid, log_sigmoid, logit, logcumsumexp)
}
# The keywords a Function covers: its public function's, and logsumexp's b left at None.
_KEYWORDS = {name: {*parameters(f)} for name, f in _FUNCTIONS.items()}
_KEYWORDS["logsumexp"].add("b")


def apply(name: str, x: Any, /, **kwargs: Any) -> Any:
    """Call the map ``name`` through its autograd Function, when that applies.

    The hook used by the public maps: for a tensor that requires grad (with grad mode on) the
    result comes from the Function with the closed-form backward. Anything the Functions do not
    cover returns ``NotImplemented``, and the caller computes the map as usual: a tensor that
    does not require grad, weights ``b`` (differentiable themselves), a temperature tensor that
    requires grad, an unknown keyword (so that the map raises its own error).

    Parameters
    ----------
    name : str
        ``"softmax"``, ``"log_softmax"``, ``"logsumexp"``, ``"hardmax"``, ``"sparsemax"``,
        ``"entmax15"``, ``"entmax"`` or ``"alpha_relu"``.
    x : any
        The map's input.
    **kwargs
        The map's keywords.

    Returns
    -------
    torch.Tensor, tuple or NotImplemented
    """
    if name not in _FUNCTIONS or not isinstance(x, torch.Tensor):
        return NotImplemented
    alpha = kwargs.get("alpha")
    if isinstance(alpha, torch.Tensor) and name != "entmax":
        return NotImplemented
    # entmax takes a tensor α (one per row) only here, with or without grad.
    per_row = isinstance(alpha, torch.Tensor)
    wants_grad = x.requires_grad or (per_row and alpha.requires_grad)
    if not (per_row or (wants_grad and torch.is_grad_enabled()) or is_dual(x)):
        return NotImplemented
    if not set(kwargs) <= _KEYWORDS[name]:
        return NotImplemented
    t = kwargs.get("temperature")
    if isinstance(t, torch.Tensor) and t.requires_grad:
        return NotImplemented
    if kwargs.get("b") is not None:
        return NotImplemented
    kwargs.pop("b", None)
    return _FUNCTIONS[name](x, **kwargs)
