r"""PyTorch autograd for the maps, with closed-form backward passes.

Each map is a :class:`torch.autograd.Function` whose forward pass is the library's own map
(so values, edge cases and accuracy are exactly those of :func:`softmaxkit.softmax` and its
siblings) and whose backward pass is the closed-form vector-Jacobian product, written in
differentiable torch operations:

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
from dataclasses import dataclass, replace
from typing import Any

import torch

from softmaxkit import maps as _maps
from softmaxkit._core import (
    normalize_axis,
    parse_temperature,
    prepare,
    prepare_mask,
    reduced_shape,
)

__all__ = ["apply", "hardmax", "log_softmax", "logsumexp", "softmax"]

Tensor = torch.Tensor


@dataclass(frozen=True, eq=False)
class _Spec:
    """What a Function needs besides its tensors.

    ``temperature`` is the value handed to the map (already validated); ``scale`` the divisor
    of the derivative (None for T = 1, 0 or inf, a float, or a kept-dims tensor with 1 where
    T is 0 or inf): rows at T = 0 or inf are flagged dead and their derivative set to 0.
    """

    fn: str
    axes: tuple[int, ...]
    temperature: Any
    scale: float | Tensor | None
    dtype: Any


@dataclass(frozen=True, eq=False)
class _Context:
    spec: _Spec
    mask: Tensor | None  # bool, broadcast to x's shape
    dead: Tensor  # bool, kept dims: rows whose softmax is locally constant (not NaN rows)
    kept: Tensor  # bool, x's shape: entries that take part (not masked, not −inf)


def _rsum(a: Tensor, axes: tuple[int, ...]) -> Tensor:
    # No reduced axis: each entry is its own row (torch would reduce over all dims for ()).
    return torch.sum(a, dim=axes, keepdim=True) if axes else a


def _rmax(a: Tensor, axes: tuple[int, ...]) -> Tensor:
    return torch.amax(a, dim=axes, keepdim=True) if axes else a


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """Derivatives of half-precision outputs are formed in float32, like the maps."""
    return torch.promote_types(dtype, torch.float32)


def _scaled(a: Tensor, spec: _Spec) -> Tensor:
    if spec.scale is None:
        return a
    if isinstance(spec.scale, float):
        return a / spec.scale
    return a / spec.scale.to(a.dtype)


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


def _context(fn: str, x: Tensor, axis: Any, temperature: Any, where: Any, dtype: Any) -> _Context:
    """Validate the arguments (with the core layer's messages) and flag the special rows."""
    prep = prepare(x, fn=fn, dtype=dtype)
    axes = normalize_axis(axis, x.ndim, fn=fn)
    shape = tuple(x.shape)
    red = reduced_shape(shape, axes)
    temp = parse_temperature(temperature, prep.xp, red, prep.compute_dtype, x.device, fn=fn)
    mask = prepare_mask(where, prep.xp, shape, x.device, fn=fn)
    with torch.no_grad():
        xd = x.detach()
        kept = xd != -math.inf
        if mask is not None:
            kept = kept & mask
        if xd.numel() == 0:
            dead = torch.zeros(red, dtype=torch.bool, device=x.device)
        else:
            masked = xd if mask is None else torch.where(mask, xd, -math.inf)
            m = _rmax(masked, axes)
            # +inf entries keep the mass whatever the finite entries do.
            dead = (m == math.inf) | (temp.kind in ("zero", "inf"))
            if temp.kind == "array":
                dead = dead | (temp.value == 0) | torch.isinf(temp.value)
            dead = dead & ~torch.isnan(m)
    scale: float | Tensor | None = None
    if temp.kind == "scalar":
        scale = float(temp.value)
    elif temp.kind == "array":
        t = temp.value
        scale = torch.where((t == 0) | torch.isinf(t), torch.ones_like(t), t)
    spec = _Spec(fn, axes, temperature, scale, dtype)
    return _Context(spec, mask, dead, kept)


# --------------------------------------------------------------------------------------------
# closed forms (differentiable torch operations: the backward passes are differentiable too)
# --------------------------------------------------------------------------------------------


def _softmax_tangent(spec: _Spec, p: Tensor, v: Tensor, dead: Tensor) -> Tensor:
    """p ⊙ (v − ⟨p, v⟩) / T: the JVP and, the Jacobian being symmetric, the VJP of softmax."""
    wd = _work_dtype(p.dtype)
    p, v = p.to(wd), v.to(wd)
    zero = p.new_zeros(())
    # Shift by v at the dominant entry (p > 1/2): v − ⟨p, v⟩ then sums only the small,
    # accurately known p_j, instead of cancelling two O(|v|) numbers when p_k ≈ 1. Tangent
    # entries where p = 0 (masked, −inf) are ignored even when they are not finite.
    pivot = _rsum(torch.where(p > 0.5, v, zero), spec.axes)
    v0 = torch.where(p != 0, v - pivot, zero)
    out = _scaled(p * (v0 - _rsum(p * v0, spec.axes)), spec)
    return torch.where(dead, zero, out)


def _log_softmax_vjp(spec: _Spec, y: Tensor, u: Tensor, dead: Tensor, kept: Tensor) -> Tensor:
    """(u − p Σ u) / T, with u taken as 0 where the output is the constant −inf."""
    wd = _work_dtype(y.dtype)
    y, u = y.to(wd), u.to(wd)
    zero = y.new_zeros(())
    p = torch.exp(y)
    u0 = torch.where(kept, u, zero)
    out = _scaled(u0 - p * _rsum(u0, spec.axes), spec)
    return torch.where(dead, zero, out)


def _log_softmax_jvp(spec: _Spec, y: Tensor, v: Tensor, dead: Tensor, kept: Tensor) -> Tensor:
    """(v − ⟨p, v⟩) / T on the entries that take part, 0 elsewhere."""
    wd = _work_dtype(y.dtype)
    y, v = y.to(wd), v.to(wd)
    zero = y.new_zeros(())
    p = torch.exp(y)
    pivot = _rsum(torch.where(kept & (p > 0.5), v, zero), spec.axes)
    v0 = torch.where(kept, v - pivot, zero)
    out = _scaled(torch.where(kept, v0 - _rsum(p * v0, spec.axes), zero), spec)
    return torch.where(dead, zero, out)


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
        gx = _log_softmax_vjp(ctx.spec, y, u, dead, kept).to(ctx.x_dtype)
        return gx, None, None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        y, dead, kept = ctx.saved_tensors
        return _log_softmax_jvp(ctx.spec, y, dx, dead, kept).to(y.dtype)


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
        return (p * u.to(p.dtype)).to(ctx.x_dtype), None, None, None

    @staticmethod
    def jvp(ctx: Any, dx: Tensor, *_: Any) -> Tensor:
        p = _LogSumExp._weights(ctx)
        zero = p.new_zeros(())
        v = torch.where(p != 0, dx.to(p.dtype), zero)
        out = _rsum(p * v, ctx.spec.axes)
        return out.to(ctx.out_dtype)


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
# public functions
# --------------------------------------------------------------------------------------------


def softmax(
    x: Tensor,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Tensor:
    r""":func:`softmaxkit.softmax` with a closed-form backward pass.

    .. math:: p = \operatorname{softmax}(x / T), \qquad
              \bar x = p \odot (\bar p - \langle p, \bar p\rangle) / T

    Parameters
    ----------
    x : torch.Tensor
        Logits.
    axis, temperature, where, dtype
        As for :func:`softmaxkit.softmax` (the temperature is not differentiated).

    Returns
    -------
    torch.Tensor
        ``softmaxkit.softmax(x, ...)``, attached to the autograd graph.

    Raises
    ------
    TypeError
        If ``x`` is not a tensor, or the temperature is a tensor that requires grad.

    Notes
    -----
    Gradients are 0 (never NaN) on masked and −inf entries, in empty rows, in rows holding
    +inf, and at T = 0 or T = inf; NaN in rows holding NaN. Twice differentiable.
    """
    _check_tensor("softmax", x, temperature)
    c = _context("softmax", x, axis, temperature, where, dtype)
    return _Softmax.apply(x, c.mask, c.dead, c.spec)


def log_softmax(
    x: Tensor,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Tensor:
    r""":func:`softmaxkit.log_softmax` with a closed-form backward pass.

    .. math:: \bar x = (\bar y - p \textstyle\sum_i \bar y_i) / T

    with :math:`\bar y` taken as 0 on masked and −inf entries (their output is the constant
    −inf).

    Parameters
    ----------
    x : torch.Tensor
        Logits.
    axis, temperature, where, dtype
        As for :func:`softmaxkit.log_softmax` (the temperature is not differentiated).

    Returns
    -------
    torch.Tensor
        ``softmaxkit.log_softmax(x, ...)``, attached to the autograd graph.

    Raises
    ------
    TypeError
        As for :func:`softmax`.

    Notes
    -----
    Edge cases as for :func:`softmax`: the gradient never is NaN outside rows holding NaN, even
    where the output is −inf.
    """
    _check_tensor("log_softmax", x, temperature)
    c = _context("log_softmax", x, axis, temperature, where, dtype)
    return _LogSoftmax.apply(x, c.mask, c.dead, c.kept, c.spec)


def logsumexp(
    x: Tensor,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
    dtype: Any = None,
) -> Any:
    r""":func:`softmaxkit.logsumexp` with a closed-form backward pass: :math:`\bar x = \bar y\,p`.

    Parameters
    ----------
    x : torch.Tensor
        Logits.
    axis, temperature, where, keepdims, return_sign, dtype
        As for :func:`softmaxkit.logsumexp` (weights ``b`` are not supported here; the
        temperature is not differentiated).

    Returns
    -------
    torch.Tensor, or (torch.Tensor, torch.Tensor) with ``return_sign``
        The reduced result attached to the graph (and its sign: 1, or 0 for an empty row).

    Raises
    ------
    TypeError
        As for :func:`softmax`.

    Notes
    -----
    The gradient is ``softmax(x, temperature=T)`` in every row, limits included: the hardmax
    at T = 0, uniform at T = inf, shared among the +inf entries of a row; 0 in an empty row.
    The Hessian is the softmax Jacobian (0 where softmax is locally constant).
    """
    _check_tensor("logsumexp", x, temperature)
    c = _context("logsumexp", x, axis, temperature, where, dtype)
    out = _LogSumExp.apply(x, c.mask, c.dead, c.spec)
    if not keepdims and c.spec.axes:
        out = out.squeeze(c.spec.axes)
    if not return_sign:
        return out
    # Without weights the sum is positive unless it is empty (log 0 = −inf, sign 0).
    lse = out.detach()
    sign = torch.where(lse > -math.inf, torch.ones_like(lse), torch.zeros_like(lse))
    return out, torch.where(torch.isnan(lse), lse, sign)


def hardmax(
    x: Tensor,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    where: Any = None,
    dtype: Any = None,
) -> Tensor:
    """:func:`softmaxkit.hardmax` attached to the autograd graph, with gradient 0.

    Parameters
    ----------
    x : torch.Tensor
        Logits.
    axis, where, dtype
        As for :func:`softmaxkit.hardmax`.

    Returns
    -------
    torch.Tensor
        ``softmaxkit.hardmax(x, ...)``.

    Notes
    -----
    hardmax is piecewise constant: its derivative is 0 almost everywhere (undefined at ties,
    where 0 is returned too); NaN in rows holding NaN. Unlike a result detached from the
    graph, this one can sit on the only path to a loss without breaking ``backward()``.
    """
    _check_tensor("hardmax", x, None)
    c = _context("hardmax", x, axis, 1.0, where, dtype)
    return _Hardmax.apply(x, c.mask, c.spec)


_FUNCTIONS: dict[str, Any] = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "hardmax": hardmax,
}
_KEYWORDS = {
    "softmax": {"axis", "temperature", "where", "dtype"},
    "log_softmax": {"axis", "temperature", "where", "dtype"},
    "logsumexp": {"axis", "temperature", "where", "b", "keepdims", "return_sign", "dtype"},
    "hardmax": {"axis", "where", "dtype"},
}


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
        ``"softmax"``, ``"log_softmax"``, ``"logsumexp"`` or ``"hardmax"``.
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
    if not (x.requires_grad and torch.is_grad_enabled()):
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
