"""The plug-in points to higher floors: nothing below imports upward, it names a module.

* **Autograd.** The public maps live on a floor below :mod:`softmaxkit.autodiff`, whose PyTorch
  rules are built on them. So a map does not import its rules: :func:`torch_autograd` wraps
  it, and the rules are loaded by module name (:data:`TORCH_RULES`) the first time a tensor
  that requires grad arrives. Importing :mod:`softmaxkit` therefore never imports PyTorch.
  The same decorator hands ``entmax`` with a JAX array α to the JAX rules
  (:data:`JAX_RULES`), the one path that takes α as an array, differentiable in α.
* **Moved names.** A public name that moved to a higher floor keeps resolving at its old path
  through :func:`forward_moved`, called from the old module's ``__getattr__``, with a
  ``DeprecationWarning`` that names the new home.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Collection
from typing import Any, TypeVar

__all__ = [
    "JAX_RULES",
    "TORCH_RULES",
    "forward_moved",
    "is_dual",
    "is_jax_array",
    "is_tensor",
    "is_traced_tensor",
    "load_rules_of_loaded_libraries",
    "torch_autograd",
]

# The module holding one ``apply(name, x, **kwargs)`` entry for the maps' autograd Functions.
TORCH_RULES = "softmaxkit.autodiff.torch"
# The same entry for the JAX rules (entmax with an array α).
JAX_RULES = "softmaxkit.autodiff.jax"


_F = TypeVar("_F", bound=Callable[..., Any])


def load_rules_of_loaded_libraries() -> None:
    """Import the PyTorch rules now if PyTorch is already imported (called once, at the end of
    ``import softmaxkit``).

    The rules are otherwise loaded on the first tensor that requires grad; when that first call
    happens inside ``torch.compile(fullgraph=True)``, the import cannot be traced. With PyTorch
    already in the process the import costs nothing extra; without it nothing is imported.
    """
    if "torch" in sys.modules and TORCH_RULES not in sys.modules:
        importlib.import_module(TORCH_RULES)


def is_tensor(a: Any) -> bool:
    """True for a torch.Tensor (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def is_traced_tensor(a: Any) -> bool:
    """True for a torch tensor whose values cannot be inspected in Python: one wrapped by a
    ``torch.func`` transform (``vmap``, ``grad``, ``jacrev``, ...) or seen while
    ``torch.compile`` traces. Code that skips work after looking at values (``bool(t.any())``)
    must take its branch-free path for these."""
    if not is_tensor(a):
        return False
    import torch

    if torch.compiler.is_compiling():
        return True
    return bool(torch._C._functorch.is_functorch_wrapped_tensor(a))


def is_jax_array(a: Any) -> bool:
    """True for a JAX array or tracer (without importing jax when it is not loaded)."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(a, getattr(jax, "Array", ()))


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
    lookup, and PyTorch is imported only once a tensor that requires grad arrives. An ``alpha``
    that is a JAX array (entmax: one α or one per row, maybe traced) goes to
    :func:`softmaxkit.autodiff.jax.apply` the same way.

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
        alpha = kwargs.get("alpha")
        rules = None
        if getattr(x, "requires_grad", False) or is_tensor(alpha) or is_dual(x):
            rules = TORCH_RULES
        elif is_jax_array(alpha):
            rules = JAX_RULES
        if rules is not None and len(args) <= len(positional):
            named = dict(zip(positional, args, strict=False))
            if not set(named) & set(kwargs):
                # sys.modules first: torch.compile cannot trace import_module (a graph
                # break), but follows a module already loaded.
                module = sys.modules.get(rules) or importlib.import_module(rules)
                out = module.apply(name, x, **named, **kwargs)
                if out is not NotImplemented:
                    return out
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def forward_moved(module: str, name: str, moved: Collection[str], target: str) -> Any:
    """Resolve ``module.name`` for a public name that moved to the module ``target``.

    Called from the old module's ``__getattr__`` (which Python calls only for names the module
    does not have): names in ``moved`` are imported from ``target`` by module name and returned
    with a ``DeprecationWarning`` naming the new home; any other name raises the usual
    ``AttributeError``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fn = forward_moved("old.place", "sqrt", {"sqrt"}, "math")
    >>> fn(4.0), str(caught[0].message)
    (2.0, 'old.place.sqrt has moved: use math.sqrt; the old path will be removed')
    """
    if name not in moved:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new = importlib.import_module(target)
    home = f"{target}.{name}"
    package = sys.modules[target.partition(".")[0]]
    if package is not new and getattr(package, name, None) is getattr(new, name):
        home = f"{package.__name__}.{name} (or {home})"  # the shorter, top-level path first
    warnings.warn(
        f"{module}.{name} has moved: use {home}; the old path will be removed",
        DeprecationWarning,
        stacklevel=3,  # the caller of the old module's __getattr__
    )
    return getattr(new, name)
