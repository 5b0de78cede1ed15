r"""Closed-form derivatives of every map: Jacobian, Hessian, JVP and VJP.

The package holds one module per family — :mod:`~softmaxkit.derivatives.softmax` (softmax,
log_softmax, logsumexp, hardmax), :mod:`~softmaxkit.derivatives.inverse` (inverse_softmax and
the base-state maps), :mod:`~softmaxkit.derivatives.sparse` (sparsemax, entmax15, entmax,
alpha_relu, and ∂p/∂α), :mod:`~softmaxkit.derivatives.sigmoid` (sigmoid, log_sigmoid, logit:
elementwise, so their ``*_jacobian``/``*_hessian`` are the elementwise derivatives, shaped like
``x``), :mod:`~softmaxkit.derivatives.scan` (logcumsumexp) — and
:mod:`~softmaxkit.derivatives.forms`, the formulas themselves on
the map's output, which the autograd rules of :mod:`softmaxkit.autodiff` evaluate too. Here are
the dispatchers :func:`jvp`, :func:`vjp`, :func:`jacobian` and :func:`hessian`, behind an
explicit table ``{map: {kind: derivative}}``.

Nothing here differentiates numerically: every derivative is a formula in the map's own output
(the probabilities ``p = softmax(x, temperature=T)``, computed by the library so that every edge
case is inherited), evaluated with array-API calls only, so it runs on NumPy, PyTorch, JAX and
Dask arrays and returns the same kind of array.

Shapes
------
A map reduces over ``axis`` (an int, a tuple of ints or None); the other axes are a batch.

* ``*_jvp(x, v)`` (forward mode, ``J @ v``) and ``*_vjp(x, u)`` (reverse mode, ``u @ J``) take
  and return arrays in the layout of the map's input and output; they cost O(n) per row and
  never form the Jacobian.
* ``*_jacobian(x)`` has shape ``batch + (m, n)`` with ``J[..., i, j] = ∂y_i / ∂x_j``: the reduced
  axes are moved to the end (as ``numpy.moveaxis`` would) and, when there are several, flattened
  in C order into one axis of length n (m for the output, which differs from n only for the
  base-state maps and is absent for the scalar logsumexp).
* ``*_hessian(x)`` has shape ``batch + (m, n, n)`` with ``H[..., i, j, k] = ∂²y_i / ∂x_j ∂x_k``
  (``batch + (n, n)`` for logsumexp).

Temperature and edge cases
--------------------------
``temperature`` is a number or an array broadcastable against the reduced shape, as for the
maps. Each derivative is the derivative of the map as the library computes it:

* masked (``where=False``) and −inf entries are constant (probability 0, log-probability −inf):
  their rows and columns of J are exactly 0, never NaN, and tangent entries there are ignored
  even when they are not finite;
* ``T = 0`` (hardmax) and ``T = inf`` (uniform) make softmax and log_softmax locally constant:
  derivative 0. The same holds for a row holding +inf entries (the mass stays on them);
* an empty row (every entry masked or −inf) has derivative 0; a row holding NaN gives NaN in its
  derivative, and only there;
* logsumexp's gradient is ``softmax(x, temperature=T)`` in every row, including its limits
  (hardmax at ``T = 0``, uniform at ``T = inf``, shared among +inf entries); its Hessian is 0
  where softmax is constant.

hardmax is piecewise constant, so its derivatives are 0 almost everywhere (and undefined at
ties, where 0 is returned as well).

Accuracy and speed
------------------
Jacobian and Hessian entries are evaluated in factored forms (``1 − p_i`` as the sum of the
other probabilities when ``p_i > 1/2``), so each is within a few ulp of the exact derivative at
the given floats; ``v − ⟨p, v⟩`` in the JVP/VJP is shifted by ``v`` at the dominant entry, so
it does not lose the small probabilities to cancellation when one ``p_i`` is near 1. NumPy
input reduced over its last axis without a mask takes a blocked, multi-threaded path for the
JVP/VJP of softmax and log_softmax (same formulas; special rows fall back to the generic path).

The sparse maps' derivatives use the weights ``g = p^(2−α)`` of their output on the support:
``(diag(g) − g gᵀ/Σg)/T`` for α-entmax (sparsemax: g is the support's indicator) and
``diag(r^(2−α))/T`` for the elementwise α-ReLU, which has no Hessian here.

Examples
--------
>>> import numpy as np
>>> import softmaxkit as sk
>>> x = np.array([1.0, 2.0, 3.0])
>>> sk.jvp(sk.softmax, x, np.array([1.0, 0.0, 0.0]))
array([ 0.08192507, -0.02203304, -0.05989202])
>>> sk.jacobian(sk.logsumexp, x)  # the gradient of logsumexp is softmax
array([0.09003057, 0.24472847, 0.66524096])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from softmaxkit import inverse as _inverse
from softmaxkit import maps as _maps
from softmaxkit import sparse as _sparse
from softmaxkit.derivatives import forms
from softmaxkit.derivatives.inverse import (
    base_logits_hessian,
    base_logits_jacobian,
    base_logits_jvp,
    base_logits_vjp,
    base_softmax_hessian,
    base_softmax_jacobian,
    base_softmax_jvp,
    base_softmax_vjp,
    inverse_softmax_hessian,
    inverse_softmax_jacobian,
    inverse_softmax_jvp,
    inverse_softmax_vjp,
)
from softmaxkit.derivatives.scan import (
    logcumsumexp_hessian,
    logcumsumexp_jacobian,
    logcumsumexp_jvp,
    logcumsumexp_vjp,
)
from softmaxkit.derivatives.sigmoid import (
    log_sigmoid_hessian,
    log_sigmoid_jacobian,
    log_sigmoid_jvp,
    log_sigmoid_vjp,
    logit_hessian,
    logit_jacobian,
    logit_jvp,
    logit_vjp,
    sigmoid_hessian,
    sigmoid_jacobian,
    sigmoid_jvp,
    sigmoid_vjp,
)
from softmaxkit.derivatives.softmax import (
    hardmax_hessian,
    hardmax_jacobian,
    hardmax_jvp,
    hardmax_vjp,
    log_softmax_hessian,
    log_softmax_jacobian,
    log_softmax_jvp,
    log_softmax_vjp,
    logsumexp_hessian,
    logsumexp_jacobian,
    logsumexp_jvp,
    logsumexp_vjp,
    softmax_hessian,
    softmax_jacobian,
    softmax_jvp,
    softmax_vjp,
)
from softmaxkit.derivatives.sparse import (
    alpha_relu_jacobian,
    alpha_relu_jvp,
    alpha_relu_vjp,
    entmax15_hessian,
    entmax15_jacobian,
    entmax15_jvp,
    entmax15_vjp,
    entmax_alpha_derivative,
    entmax_hessian,
    entmax_jacobian,
    entmax_jvp,
    entmax_vjp,
    sparsemax_hessian,
    sparsemax_jacobian,
    sparsemax_jvp,
    sparsemax_vjp,
)
from softmaxkit.scan import logcumsumexp as _logcumsumexp
from softmaxkit.sigmoid import log_sigmoid as _log_sigmoid
from softmaxkit.sigmoid import logit as _logit
from softmaxkit.sigmoid import sigmoid as _sigmoid

__all__ = [
    "alpha_relu_jacobian",
    "alpha_relu_jvp",
    "alpha_relu_vjp",
    "base_logits_hessian",
    "base_logits_jacobian",
    "base_logits_jvp",
    "base_logits_vjp",
    "base_softmax_hessian",
    "base_softmax_jacobian",
    "base_softmax_jvp",
    "base_softmax_vjp",
    "entmax15_hessian",
    "entmax15_jacobian",
    "entmax15_jvp",
    "entmax15_vjp",
    "entmax_alpha_derivative",
    "entmax_hessian",
    "entmax_jacobian",
    "entmax_jvp",
    "entmax_vjp",
    "forms",
    "hardmax_hessian",
    "hardmax_jacobian",
    "hardmax_jvp",
    "hardmax_vjp",
    "hessian",
    "inverse_softmax_hessian",
    "inverse_softmax_jacobian",
    "inverse_softmax_jvp",
    "inverse_softmax_vjp",
    "jacobian",
    "jvp",
    "log_sigmoid_hessian",
    "log_sigmoid_jacobian",
    "log_sigmoid_jvp",
    "log_sigmoid_vjp",
    "log_softmax_hessian",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logcumsumexp_hessian",
    "logcumsumexp_jacobian",
    "logcumsumexp_jvp",
    "logcumsumexp_vjp",
    "logit_hessian",
    "logit_jacobian",
    "logit_jvp",
    "logit_vjp",
    "logsumexp_hessian",
    "logsumexp_jacobian",
    "logsumexp_jvp",
    "logsumexp_vjp",
    "sigmoid_hessian",
    "sigmoid_jacobian",
    "sigmoid_jvp",
    "sigmoid_vjp",
    "softmax_hessian",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "sparsemax_hessian",
    "sparsemax_jacobian",
    "sparsemax_jvp",
    "sparsemax_vjp",
    "vjp",
]

Array = Any
Derivatives = dict[str, Callable[..., Array]]


# --------------------------------------------------------------------------------------------
# Generic dispatch: the explicit table {map: {kind: closed-form derivative}}
# --------------------------------------------------------------------------------------------


def _kinds(jvp: Callable[..., Array], vjp: Callable[..., Array],
           jacobian: Callable[..., Array], hessian: Callable[..., Array] | None = None
           ) -> Derivatives:
    out = {"jvp": jvp, "vjp": vjp, "jacobian": jacobian}
    if hessian is not None:
        out["hessian"] = hessian
    return out


# In this order the supported maps are listed in the dispatchers' error message.
TABLE: dict[Callable[..., Any], Derivatives] = {
    _maps.softmax: _kinds(softmax_jvp, softmax_vjp, softmax_jacobian, softmax_hessian),
    _maps.log_softmax: _kinds(
        log_softmax_jvp, log_softmax_vjp, log_softmax_jacobian, log_softmax_hessian
    ),
    _maps.logsumexp: _kinds(logsumexp_jvp, logsumexp_vjp, logsumexp_jacobian, logsumexp_hessian),
    _maps.hardmax: _kinds(hardmax_jvp, hardmax_vjp, hardmax_jacobian, hardmax_hessian),
    _inverse.inverse_softmax: _kinds(
        inverse_softmax_jvp, inverse_softmax_vjp, inverse_softmax_jacobian,
        inverse_softmax_hessian,
    ),
    _inverse.base_softmax: _kinds(
        base_softmax_jvp, base_softmax_vjp, base_softmax_jacobian, base_softmax_hessian
    ),
    _inverse.base_logits: _kinds(
        base_logits_jvp, base_logits_vjp, base_logits_jacobian, base_logits_hessian
    ),
    _sparse.sparsemax: _kinds(sparsemax_jvp, sparsemax_vjp, sparsemax_jacobian, sparsemax_hessian),
    _sparse.entmax15: _kinds(entmax15_jvp, entmax15_vjp, entmax15_jacobian, entmax15_hessian),
    _sparse.entmax: _kinds(entmax_jvp, entmax_vjp, entmax_jacobian, entmax_hessian),
    # α-ReLU has no closed-form Hessian.
    _sparse.alpha_relu: _kinds(alpha_relu_jvp, alpha_relu_vjp, alpha_relu_jacobian),
    # The two-class maps are elementwise: their "Jacobian" and "Hessian" are the elementwise
    # first and second derivatives, shaped like x.
    _sigmoid: _kinds(sigmoid_jvp, sigmoid_vjp, sigmoid_jacobian, sigmoid_hessian),
    _log_sigmoid: _kinds(log_sigmoid_jvp, log_sigmoid_vjp, log_sigmoid_jacobian,
                         log_sigmoid_hessian),
    _logit: _kinds(logit_jvp, logit_vjp, logit_jacobian, logit_hessian),
    _logcumsumexp: _kinds(logcumsumexp_jvp, logcumsumexp_vjp, logcumsumexp_jacobian,
                          logcumsumexp_hessian),
}


def _lookup(kind: str, fn: Any) -> Callable[..., Array]:
    """The ``kind`` derivative of the map ``fn`` (the function or its name)."""
    derivs: Derivatives | None = None
    if isinstance(fn, str):
        derivs = next((d for f, d in TABLE.items() if f.__name__ == fn), None)
    else:
        try:
            derivs = TABLE.get(fn)
        except TypeError:  # an unhashable object
            derivs = None
    if derivs is not None:
        if kind in derivs:
            return derivs[kind]
        raise TypeError(f"{kind}: {getattr(fn, '__name__', fn)} has no closed-form {kind}")
    names = ", ".join(f"softmaxkit.{f.__name__}" for f in TABLE)
    what = repr(fn) if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
    raise TypeError(
        f"{kind}: no closed-form derivative for {what}; supported maps (pass the function, or "
        f"its name): {names}"
    )


def jvp(fn: Callable[..., Any] | str, x: Any, v: Any, /, **kwargs: Any) -> Array:
    """Forward-mode derivative ``J @ v`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        One of :func:`~softmaxkit.softmax`, :func:`~softmaxkit.log_softmax`,
        :func:`~softmaxkit.logsumexp`, :func:`~softmaxkit.hardmax`,
        :func:`~softmaxkit.inverse_softmax`, :func:`~softmaxkit.base_softmax`,
        :func:`~softmaxkit.base_logits`, :func:`~softmaxkit.sparsemax`,
        :func:`~softmaxkit.entmax15`, :func:`~softmaxkit.entmax`,
        :func:`~softmaxkit.alpha_relu` (or its name).
    x : array_like
        The point (the map's input).
    v : array_like
        The tangent, shaped like ``x``.
    **kwargs
        The map's keywords (``axis``, ``temperature``, ``where``, ``gauge``, ``base``, ...).

    Returns
    -------
    array
        Shaped like the map's output; see ``softmax_jvp`` and its siblings for the formulas.

    Raises
    ------
    TypeError
        For a function without closed-form derivatives (the message lists the supported ones).

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.jvp(sk.softmax, np.array([0.0, np.log(9.0)]), np.array([1.0, 0.0]), temperature=2)
    array([ 0.09375, -0.09375])
    """
    return _lookup("jvp", fn)(x, v, **kwargs)


def vjp(fn: Callable[..., Any] | str, x: Any, u: Any, /, **kwargs: Any) -> Array:
    """Reverse-mode derivative ``u @ J`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point (the map's input).
    u : array_like
        The cotangent, shaped like the map's output.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shaped like ``x``.

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.vjp(sk.logsumexp, np.array([0.0, np.log(3.0)]), np.float64(1.0))
    array([0.25, 0.75])
    """
    return _lookup("vjp", fn)(x, u, **kwargs)


def jacobian(fn: Callable[..., Any] | str, x: Any, /, **kwargs: Any) -> Array:
    """Jacobian ``J[..., i, j] = ∂y_i/∂x_j`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shape ``batch + (m, n)``: the reduced axes moved last (flattened when several), ``m``
        the output's length (no such axis for logsumexp).

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.jacobian(sk.log_softmax, np.zeros((4, 3)), axis=0).shape   # 3 rows of 4 entries
    (3, 4, 4)
    >>> sk.jacobian(np.exp, np.zeros(3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: jacobian: no closed-form derivative for exp; supported maps ...
    """
    return _lookup("jacobian", fn)(x, **kwargs)


def hessian(fn: Callable[..., Any] | str, x: Any, /, **kwargs: Any) -> Array:
    """Hessian ``H[..., i, j, k] = ∂²y_i/∂x_j∂x_k`` of one of the library's maps, in closed form.

    Parameters
    ----------
    fn : callable or str
        A map of the library, as for :func:`jvp`.
    x : array_like
        The point.
    **kwargs
        The map's keywords.

    Returns
    -------
    array
        Shape ``batch + (m, n, n)`` (``batch + (n, n)`` for logsumexp).

    Raises
    ------
    TypeError
        For a function without closed-form derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> import softmaxkit as sk
    >>> sk.hessian("logsumexp", np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    return _lookup("hessian", fn)(x, **kwargs)
