"""Automatic differentiation with the closed-form derivatives of the maps.

Two submodules, each imported only when asked for (importing :mod:`softmaxkit` never imports
PyTorch or JAX):

* :mod:`softmaxkit.autodiff.torch` — a :class:`torch.autograd.Function` per map (softmax,
  log_softmax, logsumexp, hardmax) whose backward and forward-mode rules are the closed forms
  of :mod:`softmaxkit.derivatives`, twice differentiable;
* :mod:`softmaxkit.autodiff.jax` — ``jax.custom_jvp`` rules for the same maps (reverse mode
  follows by transposition), jit-compatible, with the temperature differentiated too.

In both, fully masked rows, −inf logits, rows holding +inf and the temperature limits get the
derivative of the limit (0 for softmax and log_softmax) instead of NaN.

:func:`torch_autograd` is the hook that routes the public maps through the PyTorch Functions
when their input is a tensor that requires grad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["torch_autograd"]

_F = TypeVar("_F", bound=Callable[..., Any])


def torch_autograd(fn: _F) -> _F:
    """Decorate a map so that torch tensors requiring grad go through its autograd Function.

    The wrapped map is called unchanged for every other input (and for calls the Function does
    not cover, see :func:`softmaxkit.autodiff.torch.apply`). The check is one attribute
    lookup, and PyTorch is imported only once a tensor that requires grad arrives.

    Parameters
    ----------
    fn : callable
        One of the maps ``softmax``, ``log_softmax``, ``logsumexp``, ``hardmax`` (its
        ``__name__`` selects the Function).

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

    @functools.wraps(fn)
    def wrapper(x: Any, /, *args: Any, **kwargs: Any) -> Any:
        if getattr(x, "requires_grad", False) and not args:
            from softmaxkit.autodiff import torch as _torch

            out = _torch.apply(name, x, **kwargs)
            if out is not NotImplemented:
                return out
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
