"""The autograd plug-in point: maps declare themselves differentiable without importing upward.

The public maps live on a floor below :mod:`softmaxkit.autodiff`, whose PyTorch rules are built
on them. So a map does not import its rules: :func:`torch_autograd` wraps it, and the rules are
loaded by module name (:data:`TORCH_RULES`) the first time a tensor that requires grad arrives.
Importing :mod:`softmaxkit` therefore never imports PyTorch, and no import runs back up.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["TORCH_RULES", "is_dual", "is_tensor", "torch_autograd"]

# The module holding one ``apply(name, x, **kwargs)`` entry for the maps' autograd Functions.
TORCH_RULES = "softmaxkit.autodiff.torch"


def _torch_rules() -> Any:
    """The PyTorch rules module, imported on first use."""
    return importlib.import_module(TORCH_RULES)


_F = TypeVar("_F", bound=Callable[..., Any])


def is_tensor(a: Any) -> bool:
    """True for a torch.Tensor (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def is_dual(a: Any) -> bool:
    """True for a torch tensor carrying a forward-mode tangent (``torch.autograd.forward_ad``,
    ``torch.func.jvp``): it does not require grad, yet it is being differentiated."""
    if not is_tensor(a):
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
    >>> from softmaxkit._base.dispatch import torch_autograd
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
            getattr(x, "requires_grad", False) or is_tensor(kwargs.get("alpha")) or is_dual(x)
        ) and len(args) <= len(positional):
            named = dict(zip(positional, args, strict=False))
            if not set(named) & set(kwargs):
                out = _torch_rules().apply(name, x, **named, **kwargs)
                if out is not NotImplemented:
                    return out
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
