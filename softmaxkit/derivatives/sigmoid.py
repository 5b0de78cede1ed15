r"""Closed-form derivatives of the two-class maps: sigmoid, log_sigmoid and logit.

These maps are elementwise, so their Jacobian is diagonal: ``*_jvp`` and ``*_vjp`` are the
same product, ``*_jacobian`` returns the diagonal (the elementwise derivative, shaped like
``x``) and ``*_hessian`` the elementwise second derivative, shaped like ``x`` too.

.. math::

    \sigma' = \sigma(1 - \sigma)/T, \qquad \sigma'' = \sigma(1-\sigma)(1-2\sigma)/T^2,

    (\log\sigma)' = (1 - \sigma)/T, \qquad (\log\sigma)'' = -\sigma(1-\sigma)/T^2,

    \operatorname{logit}' = T/(p(1-p)), \qquad \operatorname{logit}'' = T(2p-1)/(p(1-p))^2.

``1 − σ`` is computed as ``σ(−x)`` and ``1 − 2σ`` as ``tanh(−x/(2T))``, never by subtraction,
so every derivative keeps its relative precision in the tails. Edge cases: at T = 0 and
T = inf the maps are locally constant (derivative 0); at x = ±inf the sigmoid is constant (0),
log_sigmoid's −inf at x = −inf is constant (0); the logit's ∓inf at p ∈ {0, 1} is constant
(0); NaN gives NaN. Tangent entries where the derivative is 0 are ignored, even non-finite.
"""

from __future__ import annotations

from typing import Any

from softmaxkit._base.core import Setup, full_like_scalar, quiet, setup
from softmaxkit.derivatives import forms
from softmaxkit.derivatives._rows import deliver, tangent
from softmaxkit.sigmoid import logit as _logit
from softmaxkit.sigmoid import sigmoid as _sigmoid

__all__ = [
    "log_sigmoid_hessian",
    "log_sigmoid_jacobian",
    "log_sigmoid_jvp",
    "log_sigmoid_vjp",
    "logit_hessian",
    "logit_jacobian",
    "logit_jvp",
    "logit_vjp",
    "sigmoid_hessian",
    "sigmoid_jacobian",
    "sigmoid_jvp",
    "sigmoid_vjp",
]

Array = Any


def _setup(fn: str, x: Any, temperature: Any, name: str = "x") -> Setup:
    return setup(fn, x, axis=(), temperature=temperature, name=name)


def _dead(c: Setup) -> Any:
    """Entries where the map is locally constant because of T (0 or inf), or None."""
    xp, temp = c.xp, c.temp
    if temp.kind in ("zero", "inf"):
        return xp.ones(c.shape, dtype=xp.bool, device=c.device)
    if temp.kind == "array":
        t = temp.value
        return (t == 0) | xp.isinf(t)
    return None


def _halves(c: Setup, temperature: Any) -> tuple[Array, Array]:
    """``(σ(x/T), σ(−x/T))`` in the compute dtype."""
    x = c.x
    s = _sigmoid(x, temperature=temperature, dtype=c.compute_dtype)
    r = _sigmoid(-x, temperature=temperature, dtype=c.compute_dtype)
    return s, r


def _one_minus_two_sigma(c: Setup) -> Array:
    """``1 − 2σ(x/T) = tanh(−x/(2T))`` (0 where T is 0 or inf: those entries are dead)."""
    xp, temp, x = c.xp, c.temp, c.x
    if temp.kind == "scalar":
        x = x / float(temp.value)
    elif temp.kind == "array":
        t = temp.value
        x = x / xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t)
    return xp.tanh(-0.5 * x)


def _tangent(c: Setup, v: Any, name: str) -> Array:
    return tangent(c, v, name)


# --------------------------------------------------------------------------------------------
# sigmoid
# --------------------------------------------------------------------------------------------


@quiet
def sigmoid_jvp(x: Any, v: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.sigmoid`: :math:`\sigma(1-\sigma)\,v/T`.

    Parameters
    ----------
    x : array_like
        The point, any array-API array.
    v : array_like
        The tangent, broadcastable to ``x``.
    temperature : float or array, default 1.0
        As for the map.

    Returns
    -------
    array
        Shaped like ``x``. The Jacobian is diagonal, so this is also the VJP.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sigmoid_jvp
    >>> sigmoid_jvp(np.array([0.0, 40.0, np.inf]), np.array([1.0, 1.0, np.nan]))
    array([2.50000000e-01, 4.24835426e-18, 0.00000000e+00])
    """
    c = _setup("sigmoid_jvp", x, temperature)
    s, r = _halves(c, temperature)
    out = forms.sigmoid_jvp(c.xp, s, r, _tangent(c, v, "v"), forms.temperature_divisor(
        c.xp, c.temp), _dead(c))
    return deliver(c, out)


@quiet
def sigmoid_vjp(x: Any, u: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.sigmoid`: :math:`\sigma(1-\sigma)\,u/T`
    (the Jacobian is diagonal: the same product as :func:`sigmoid_jvp`).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sigmoid_vjp
    >>> sigmoid_vjp(np.array([0.0]), np.array([2.0]), temperature=2.0)
    array([0.25])
    """
    c = _setup("sigmoid_vjp", x, temperature)
    s, r = _halves(c, temperature)
    out = forms.sigmoid_jvp(c.xp, s, r, _tangent(c, u, "u"), forms.temperature_divisor(
        c.xp, c.temp), _dead(c))
    return deliver(c, out)


@quiet
def sigmoid_jacobian(x: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The derivative :math:`\sigma'(x) = \sigma(1-\sigma)/T`, elementwise (the diagonal of
    the diagonal Jacobian), shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sigmoid_jacobian
    >>> sigmoid_jacobian(np.array([-800.0, 0.0, 1.0]))
    array([0.        , 0.25      , 0.19661193])
    """
    c = _setup("sigmoid_jacobian", x, temperature)
    s, r = _halves(c, temperature)
    one = c.xp.ones_like(s)
    return deliver(c, forms.sigmoid_jvp(c.xp, s, r, one, forms.temperature_divisor(
        c.xp, c.temp), _dead(c)))


@quiet
def sigmoid_hessian(x: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The second derivative :math:`\sigma(1-\sigma)(1-2\sigma)/T^2`, elementwise, shaped
    like ``x`` (``1 − 2σ`` as ``tanh(−x/(2T))``, accurate near x = 0).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sigmoid_hessian
    >>> sigmoid_hessian(np.array([0.0, 1e-10, -1.0]))
    array([ 0.00000000e+00, -1.25000000e-11,  9.08577477e-02])
    """
    c = _setup("sigmoid_hessian", x, temperature)
    s, r = _halves(c, temperature)
    return deliver(c, forms.sigmoid_second(
        c.xp, s, r, _one_minus_two_sigma(c), forms.temperature_divisor(c.xp, c.temp), _dead(c)))


# --------------------------------------------------------------------------------------------
# log_sigmoid
# --------------------------------------------------------------------------------------------


def _log_dead(c: Setup) -> Any:
    """log_sigmoid is the constant −inf at x = −inf, and constant in T = 0 or inf."""
    at = c.x == -float("inf")
    dead = _dead(c)
    return at if dead is None else (dead | at)


@quiet
def log_sigmoid_jvp(x: Any, v: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.log_sigmoid`: :math:`(1-\sigma)\,v/T`
    with ``1 − σ = σ(−x/T)``; also the VJP.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_sigmoid_jvp
    >>> log_sigmoid_jvp(np.array([-np.inf, 0.0, 40.0]), np.array([np.inf, 1.0, 1.0]))
    array([0.00000000e+00, 5.00000000e-01, 4.24835426e-18])
    """
    c = _setup("log_sigmoid_jvp", x, temperature)
    _, r = _halves(c, temperature)
    return deliver(c, forms.log_sigmoid_jvp(c.xp, r, _tangent(c, v, "v"),
                                            forms.temperature_divisor(c.xp, c.temp),
                                            _log_dead(c)))


@quiet
def log_sigmoid_vjp(x: Any, u: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.log_sigmoid` (the same product as
    :func:`log_sigmoid_jvp`: the Jacobian is diagonal).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_sigmoid_vjp
    >>> log_sigmoid_vjp(np.array([0.0]), np.array([3.0]))
    array([1.5])
    """
    c = _setup("log_sigmoid_vjp", x, temperature)
    _, r = _halves(c, temperature)
    return deliver(c, forms.log_sigmoid_jvp(c.xp, r, _tangent(c, u, "u"),
                                            forms.temperature_divisor(c.xp, c.temp),
                                            _log_dead(c)))


@quiet
def log_sigmoid_jacobian(x: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The derivative :math:`(1-\sigma)/T = \sigma(-x/T)/T`, elementwise, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_sigmoid_jacobian
    >>> log_sigmoid_jacobian(np.array([-30.0, 0.0]))
    array([1. , 0.5])
    """
    c = _setup("log_sigmoid_jacobian", x, temperature)
    _, r = _halves(c, temperature)
    return deliver(c, forms.log_sigmoid_jvp(c.xp, r, c.xp.ones_like(r),
                                            forms.temperature_divisor(c.xp, c.temp),
                                            _log_dead(c)))


@quiet
def log_sigmoid_hessian(x: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The second derivative :math:`-\sigma(1-\sigma)/T^2`, elementwise, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import log_sigmoid_hessian
    >>> log_sigmoid_hessian(np.array([0.0]))
    array([-0.25])
    """
    c = _setup("log_sigmoid_hessian", x, temperature)
    s, r = _halves(c, temperature)
    return deliver(c, forms.log_sigmoid_second(c.xp, s, r,
                                               forms.temperature_divisor(c.xp, c.temp),
                                               _log_dead(c)))


# --------------------------------------------------------------------------------------------
# logit
# --------------------------------------------------------------------------------------------


def _logit_setup(fn: str, p: Any, temperature: Any) -> tuple[Setup, Any]:
    """Validate ``p`` and T as :func:`~softmaxkit.logit` does (its errors), and T as a factor."""
    c = _setup(fn, p, temperature, name="p")
    _logit(c.raw, temperature=temperature)  # raises for p outside [0, 1], T = 0 or inf
    temp = c.temp
    scale = None
    if temp.kind == "scalar":
        scale = float(temp.value)
    elif temp.kind == "array":
        scale = temp.value
    return c, scale


@quiet
def logit_jvp(p: Any, v: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Forward-mode derivative of :func:`~softmaxkit.logit`: :math:`T\,v/(p(1-p))`; also the
    VJP. 0 at p ∈ {0, 1}, where the output is the constant ∓inf.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logit_jvp
    >>> logit_jvp(np.array([0.0, 0.5, 0.9]), np.array([1.0, 1.0, 1.0]))
    array([ 0.        ,  4.        , 11.11111111])
    """
    c, scale = _logit_setup("logit_jvp", p, temperature)
    return deliver(c, forms.logit_jvp(c.xp, c.x, _tangent(c, v, "v"), scale))


@quiet
def logit_vjp(p: Any, u: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""Reverse-mode derivative of :func:`~softmaxkit.logit` (the same product as
    :func:`logit_jvp`).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logit_vjp
    >>> logit_vjp(np.array([0.5]), np.array([1.0]), temperature=0.5)
    array([2.])
    """
    c, scale = _logit_setup("logit_vjp", p, temperature)
    return deliver(c, forms.logit_jvp(c.xp, c.x, _tangent(c, u, "u"), scale))


@quiet
def logit_jacobian(p: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The derivative :math:`T/(p(1-p))`, elementwise, shaped like ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logit_jacobian
    >>> logit_jacobian(np.array([0.5, 0.75]))
    array([4.        , 5.33333333])
    """
    c, scale = _logit_setup("logit_jacobian", p, temperature)
    return deliver(c, forms.logit_jvp(c.xp, c.x, c.xp.ones_like(c.x), scale))


@quiet
def logit_hessian(p: Any, /, *, temperature: Any = 1.0) -> Array:
    r"""The second derivative :math:`T(2p-1)/(p(1-p))^2`, elementwise, shaped like ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import logit_hessian
    >>> logit_hessian(np.array([0.5, 0.75]))
    array([ 0.        , 14.22222222])
    """
    c, scale = _logit_setup("logit_hessian", p, temperature)
    return deliver(c, forms.logit_second(c.xp, c.x, scale))
