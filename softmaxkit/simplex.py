r"""Optimisation over the probability simplex as an unconstrained problem.

The base-state map :func:`~softmaxkit.base_softmax` is a bijection from
:math:`\mathbb{R}^{n-1}` onto the open simplex, so minimising ``f`` over the simplex is
minimising

.. math:: G(z) = f\big(\operatorname{base\_softmax}(z)\big), \qquad z \in \mathbb{R}^{n-1},

with any unconstrained optimiser, and the gradient is pulled back through the closed-form VJP of
the map (:func:`~softmaxkit.base_softmax_vjp`):

.. math:: \nabla G(z) = \big[p \odot (g - \langle p, g\rangle) / T\big]_{k \ne b},
          \qquad g = \nabla f(p).

Only the component of ``g`` tangent to the simplex matters: adding a constant to ``g`` changes
nothing, so ``f`` may be defined on the simplex alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from softmaxkit.derivatives import base_softmax_vjp
from softmaxkit.inverse import base_logits, base_softmax

__all__ = ["minimize_on_simplex"]

# How far the rows of p0 may sum from 1 before the start is refused; within it they are
# normalised (p0 is only a starting point, its exact normalisation does not matter).
_SUM_TOL = 1e-6


def _import_minimize() -> Callable[..., Any]:
    try:
        from scipy.optimize import minimize
    except ImportError as exc:
        raise ImportError(
            "minimize_on_simplex needs SciPy for the optimiser; install it with "
            "`pip install scipy` (or `pip install softmaxkit[test]`)"
        ) from exc
    return minimize


def _start(p0: Any) -> np.ndarray:
    """p0 as a float64 array of strictly positive rows (last axis) summing to 1."""
    fn = "minimize_on_simplex"
    try:
        p = np.asarray(p0, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: p0 must be an array of probabilities; {exc}") from None
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(
            f"{fn}: p0 of shape {p.shape} has no simplex axis; expected probabilities along "
            "the last axis (shape (n,) or (..., n) with n >= 1)"
        )
    bad = ~np.isfinite(p) | (p <= 0) | (p > 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        pos = ", ".join(map(str, idx))
        v = float(p[idx])
        if v == 0:
            why = (
                "the start must be strictly positive: the search runs over the logits "
                "z = base_logits(p), where a zero probability sits at z = -inf and can never "
                "move; start from an interior point, e.g. (1 - eps) * p0 + eps / n"
            )
        elif v < 0 or v > 1:
            why = "probabilities must be in (0, 1]"
        else:
            why = "probabilities must be finite numbers in (0, 1]"
        raise ValueError(f"{fn}: p0[{pos}] = {v!r}; {why}")
    sums = p.sum(axis=-1, keepdims=True)
    off = np.abs(sums - 1.0) > _SUM_TOL
    if off.any():
        row = tuple(int(i) for i in np.argwhere(off)[0][:-1])
        where = f"p0[{', '.join(map(str, row))}, :]" if row else "p0"
        raise ValueError(
            f"{fn}: {where} sums to {float(sums[(*row, 0)])!r}, not 1; pass a probability "
            "vector, e.g. p0 / p0.sum(axis=-1, keepdims=True)"
        )
    return p / sums


def minimize_on_simplex(
    f: Callable[..., Any],
    p0: Any,
    *,
    grad: Callable[..., Any] | bool | None = None,
    method: str = "L-BFGS-B",
    temperature: float = 1.0,
    base: int = 0,
    tol: float | None = None,
    options: dict[str, Any] | None = None,
    args: tuple[Any, ...] = (),
) -> Any:
    r"""Minimise ``f(p)`` over the probability simplex by unconstrained optimisation.

    Solves :math:`\min_{p \in \Delta^n} f(p)` as :math:`\min_{z \in \mathbb{R}^{n-1}}
    G(z)`, :math:`G = f \circ \operatorname{base\_softmax}`, with
    :func:`scipy.optimize.minimize`, starting at ``z0 = base_logits(p0)``. The gradient of G
    is the closed-form pull-back of :math:`g = \nabla f(p)`:
    :math:`\nabla G(z) = [p \odot (g - \langle p, g\rangle)/T]_{k \ne b}`.

    Parameters
    ----------
    f : callable
        ``f(p, *args) -> float``, the objective on the simplex (``p`` a float64 NumPy array of
        ``p0``'s shape). With ``grad=True`` it returns ``(value, gradient)`` instead.
    p0 : array_like
        Starting point: probabilities along the last axis, every entry strictly positive,
        each row summing to 1 (within 1e-6; it is then normalised). Several rows give a
        product of simplices, each row its own distribution.
    grad : callable, True or None, default None
        ``grad(p, *args)``, the gradient of ``f`` with respect to ``p`` (any array
        broadcastable to ``p``'s shape; only its part tangent to the simplex matters), or
        ``True`` when ``f`` returns ``(value, gradient)``. With None no gradient is supplied:
        gradient-based methods then let SciPy estimate the gradient of G by finite differences
        (SciPy's own approximation, with its accuracy of about the square root of the
        machine epsilon); gradient-free methods (``"Nelder-Mead"``, ``"Powell"``,
        ``"COBYLA"``) do not need one.
    method : str, default "L-BFGS-B"
        Any unconstrained method of :func:`scipy.optimize.minimize` that needs at most a
        gradient.
    temperature : float or array, default 1.0
        T of the map: ``p = base_softmax(z, temperature=T)``. Finite and > 0; it scales the
        search space (``z = T·(log p_k − log p_base)``) and so its conditioning, not the answer.
    base : int, default 0
        Position of the base state, whose logit is fixed at 0.
    tol : float, optional
        Passed to :func:`scipy.optimize.minimize` (for L-BFGS-B it sets ``ftol`` and
        ``gtol``; tight values such as 1e-12 are cheap here).
    options : dict, optional
        Passed to :func:`scipy.optimize.minimize`.
    args : tuple, default ()
        Extra arguments of ``f`` and ``grad``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``: the minimiser ``p`` on the simplex (entries ≥ 0, rows summing to 1, shape of
        ``p0``); ``z``: the unconstrained minimiser (``p = base_softmax(z, ...)``); ``fun``:
        ``f(x)``; ``jac``: the gradient of G at ``z`` when a gradient was available (near 0
        at an optimum); and SciPy's ``nit``, ``nfev``, ``njev``, ``status``, ``success``,
        ``message``.

    Raises
    ------
    ImportError
        If SciPy is not installed (``pip install scipy``).
    ValueError
        If ``p0`` has a zero, negative, NaN or > 1 entry (named, with the reason a zero cannot
        be a start), a row not summing to 1, or ``f(p0)`` is not a finite number; or for a
        temperature of 0 or inf (the map is then not invertible).

    Notes
    -----
    A minimiser on a face of the simplex (some :math:`p_k = 0`) lies at :math:`z_k \to -\infty`:
    the optimiser approaches it and stops when the gradient is below tolerance, so such entries
    come out small but positive. For convex ``f`` the problem in ``z`` need not be convex, but
    every stationary point of G in the interior is a stationary point of ``f`` on the simplex.
    With a very small ``tol``, L-BFGS-B may end with ``ABNORMAL_TERMINATION_IN_LNSRCH`` once
    ``f`` no longer decreases in floating point; the point is then as good as ``f`` can
    resolve. With ``n = 1`` the simplex is a point and ``p0`` is returned.

    Examples
    --------
    Minimise :math:`\mathrm{KL}(p \| q) + \langle c, p\rangle`, whose minimiser is
    :math:`\operatorname{softmax}(\log q - c)`:

    >>> import numpy as np
    >>> from softmaxkit import minimize_on_simplex, softmax
    >>> q = np.array([0.5, 0.3, 0.2])
    >>> c = np.array([1.0, 0.0, -1.0])
    >>> f = lambda p: np.sum(p * (np.log(p / q) + c))
    >>> g = lambda p: np.log(p / q) + 1.0 + c
    >>> res = minimize_on_simplex(f, np.full(3, 1 / 3), grad=g, tol=1e-12)
    >>> res.success, bool(abs(res.x.sum() - 1) < 1e-15)
    (True, True)
    >>> np.round(res.x, 8)
    array([0.17900002, 0.2919435 , 0.52905648])
    >>> np.round(softmax(np.log(q) - c), 8)
    array([0.17900002, 0.2919435 , 0.52905648])
    """
    fn = "minimize_on_simplex"
    if not callable(f):
        raise TypeError(f"{fn}: f must be callable, got {type(f).__name__}")
    if grad is not None and grad is not True and not callable(grad):
        raise TypeError(f"{fn}: grad must be a callable, True or None, got {grad!r}")
    if not isinstance(args, tuple):
        args = (args,)
    minimize = _import_minimize()
    p_start = _start(p0)
    shape = p_start.shape
    try:
        z0 = np.asarray(base_logits(p_start, temperature=temperature, base=base, atol=1e-12))
    except ValueError as exc:
        raise ValueError(f"{fn}: {exc}") from None
    zshape = z0.shape

    def point(zflat: np.ndarray) -> np.ndarray:
        z = zflat.reshape(zshape)
        return np.asarray(base_softmax(z, temperature=temperature, base=base))

    def value(p: np.ndarray) -> tuple[float, Any]:
        out = f(p, *args)
        g = None
        if grad is True:
            out, g = out
        elif grad is not None:
            g = grad(p, *args)
        return _scalar(fn, out), g

    def pullback(zflat: np.ndarray, g: Any) -> np.ndarray:
        g = np.asarray(g, dtype=np.float64)
        try:
            g = np.broadcast_to(g, shape)
        except ValueError:
            raise ValueError(
                f"{fn}: the gradient of f has shape {g.shape}, which does not broadcast to "
                f"p's shape {shape}"
            ) from None
        z = zflat.reshape(zshape)
        return np.asarray(base_softmax_vjp(z, g, temperature=temperature, base=base)).ravel()

    f0, _ = value(p_start.copy())
    if not np.isfinite(f0):
        raise ValueError(f"{fn}: f(p0) = {f0!r} is not a finite number")

    from scipy.optimize import OptimizeResult

    if z0.size == 0:
        # n = 1: the simplex is the single point p = (1,).
        return OptimizeResult(
            x=p_start,
            z=z0,
            fun=f0,
            nit=0,
            nfev=1,
            status=0,
            success=True,
            message="the simplex is a single point",
        )

    if grad is None:
        res = minimize(
            lambda zf: value(point(zf))[0], z0.ravel(), method=method, tol=tol, options=options
        )
    else:

        def objective(zf: np.ndarray) -> tuple[float, np.ndarray]:
            val, g = value(point(zf))
            return val, pullback(zf, g)

        res = minimize(objective, z0.ravel(), method=method, jac=True, tol=tol, options=options)

    z = np.asarray(res.x, dtype=np.float64).reshape(zshape)
    out = OptimizeResult(
        x=point(z.ravel()),
        z=z,
        fun=float(res.fun),
        nit=res.get("nit", 0),
        nfev=res.get("nfev", 0),
        status=res.get("status", 0),
        success=bool(res.success),
        message=res.get("message", ""),
    )
    if grad is not None:
        out.njev = res.get("njev", 0)
        jac = res.get("jac")
        if jac is not None:
            out.jac = np.asarray(jac, dtype=np.float64).reshape(zshape)
    return out


def _scalar(fn: str, v: Any) -> float:
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: f must return a real number, got {type(v).__name__}") from None
    if arr.size != 1:
        raise ValueError(f"{fn}: f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))
