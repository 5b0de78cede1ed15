"""Automatic differentiation with the closed-form derivatives of the maps.

Two submodules, each imported only when asked for (importing :mod:`softmaxkit` never imports
PyTorch or JAX):

* :mod:`softmaxkit.autodiff.torch` — a :class:`torch.autograd.Function` per map (softmax,
  log_softmax, logsumexp, hardmax, the sparse maps sparsemax, entmax15, entmax, alpha_relu,
  the two-class maps sigmoid, log_sigmoid, logit, and logcumsumexp) whose backward and
  forward-mode rules are the closed forms of :mod:`softmaxkit.derivatives.forms`; entmax
  also differentiates a tensor ``alpha`` (one per row or shared);
* :mod:`softmaxkit.autodiff.jax` — ``jax.custom_jvp`` rules for the same maps (reverse mode
  follows by transposition), jit-compatible, with the temperature differentiated too.

In both, each public function is generated from its map (signature and docstring, see
``_wrap``), and each rule evaluates the one array-API formula of its derivative. Fully masked
rows, −inf logits, rows holding +inf and the temperature limits get the derivative of the
limit (0 for softmax and log_softmax) instead of NaN.

The hook that routes the public maps through the PyTorch Functions,
:func:`torch_autograd`, lives on the floor below (:mod:`softmaxkit._base.dispatch`), which loads
:mod:`softmaxkit.autodiff.torch` by name; it is re-exported here for its old import path.
"""

from __future__ import annotations

from softmaxkit._base.dispatch import torch_autograd

__all__ = ["torch_autograd"]
