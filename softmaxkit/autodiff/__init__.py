"""Automatic differentiation with the closed-form derivatives of the maps.

Two submodules, each imported only when asked for (importing :mod:`softmaxkit` never imports
PyTorch or JAX):

* :mod:`softmaxkit.autodiff.torch` — a :class:`torch.autograd.Function` per map (softmax,
  log_softmax, logsumexp, hardmax, and the sparse maps sparsemax, entmax15, entmax,
  alpha_relu) whose backward and forward-mode rules are the closed forms of
  :mod:`softmaxkit.derivatives` and :mod:`softmaxkit.sparse`; entmax also differentiates a
  tensor ``alpha`` (one per row or shared);
* :mod:`softmaxkit.autodiff.jax` — ``jax.custom_jvp`` rules for the same maps (reverse mode
  follows by transposition), jit-compatible, with the temperature differentiated too.

In both, fully masked rows, −inf logits, rows holding +inf and the temperature limits get the
derivative of the limit (0 for softmax and log_softmax) instead of NaN.

:func:`torch_autograd` is the hook that routes the public maps through the PyTorch Functions
when their input is a tensor that requires grad.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["torch_autograd"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _is_tensor(a: Any) -> bool:
    """True for a torch.Tensor (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def _is_dual(a: Any) -> bool:
    """True for a torch tensor carrying a forward-mode tangent (``torch.autograd.forward_ad``,
    ``torch.func.jvp``): it does not require grad, yet it is being differentiated."""
    if not _is_tensor(a):
        return False
    import torch

    return torch.autograd.forward_ad.unpack_dual(a).tangent is not None


def torch_autograd(fn: _F) -> _F:
    """Decorate a map so that torch tensors requiring grad go through its autograd Function.

    The wrapped map is called unchanged for every other input (and for calls the Function does
    not cover, see :func:`softmaxkit.autodiff.torch.apply`). The check is one attribute
    lookup, and PyTorch is imported only once a tensor that requires grad arrives.

    Parameters
    ----------
    fn : callable
        One of the maps ``softmax``, ``log_softmax``, ``logsumexp``, ``hardmax``,
        ``sparsemax``, ``entmax15``, ``entmax``, ``alpha_relu`` (its ``__name__`` selects the
        Function).

    Returns
    -------
    callable
        The map, with the same signature and docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.autodiff import torch_autograd
    >>> @torch_autograd
    ... def softmax(x, /, **kwargs):
    ...     return "plain path"
    >>> softmax(np.zeros(3))
    'plain path'
    """
    name = fn.__name__
    # Parameters that may be passed by position after x (alpha_relu's alpha and tau).
    positional = [
        p.name
        for p in list(inspect.signature(fn).parameters.values())[1:]
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]

    @functools.wraps(fn)
    def wrapper(x: Any, /, *args: Any, **kwargs: Any) -> Any:
        # A tensor α (entmax) goes through the Function even without grad: it is the one path
        # that takes one α per row.
        if (
            getattr(x, "requires_grad", False) or _is_tensor(kwargs.get("alpha")) or _is_dual(x)
        ) and len(args) <= len(positional):
            from softmaxkit.autodiff import torch as _torch

            named = dict(zip(positional, args, strict=False))
            if not set(named) & set(kwargs):
                out = _torch.apply(name, x, **named, **kwargs)
                if out is not NotImplemented:
                    return out
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
