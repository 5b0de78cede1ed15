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

from softmaxkit._base.optional import require
from softmaxkit.derivatives import base_softmax_vjp
from softmaxkit.inverse import base_logits, base_softmax

__all__ = ["minimize_on_simplex"]

# How far the rows of p0 may sum from 1 before the start is refused; within it they are
# normalised (p0 is only a starting point, its exact normalisation does not matter).
_SUM_TOL = 1e-6


def _import_minimize() -> Callable[..., Any]:
    return require("scipy.optimize", fn="minimize_on_simplex").minimize


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
    kkt_tol: float = 1e-6,
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
    kkt_tol : float, default 1e-6
        ``success`` requires the first-order (KKT) conditions of the constrained problem to
        hold within ``kkt_tol · max(1, |f(x)|)``, measured by the Frank-Wolfe gap (see
        Notes).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``: the minimiser ``p`` on the simplex (entries ≥ 0, rows summing to 1, shape of
        ``p0``); ``z``: the unconstrained minimiser (``p = base_softmax(z, ...)``; −inf at
        entries that are exactly 0, NaN in a row whose base entry is 0); ``fun``:
        ``f(x)``; ``jac``: the gradient of G at ``z`` when a gradient was available (near 0
        at an optimum); ``kkt_gap``: the Frank-Wolfe gap at ``x`` (largest over the rows);
        and SciPy's ``nit``, ``nfev``, ``njev``, ``status``, ``message`` (summed over the
        searches). ``success`` is True only at a KKT point of the problem on the simplex
        (within ``kkt_tol``); otherwise it is False and ``message`` names the entry that
        violates the conditions.

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
    **Faces.** A minimiser on a face of the simplex (some :math:`p_k = 0`) lies at
    :math:`z_k \to -\infty`, and the search in z is stationary near *every* face (its
    gradient is :math:`p \odot r / T`, :math:`r_i = \partial f/\partial p_i - \langle p,
    \nabla f\rangle`): it can stall with mass missing from an entry that wants it. So the
    result is checked against the KKT conditions of the constrained problem — :math:`r_i = 0`
    where :math:`p_i > 0` and :math:`r_i \ge 0` where :math:`p_i = 0` — through the
    Frank-Wolfe gap :math:`\max_i(-r_i) = \langle p, \nabla f\rangle - \min_i
    \partial f/\partial p_i`, which is 0 exactly at a KKT point and bounds
    :math:`f(p) - \min f` for convex f. When it exceeds ``kkt_tol · max(1, |f|)`` an
    active-set round follows: a Frank-Wolfe step (with a line search on f) gives mass to the
    entries of lowest gradient, entries vanishing with a gradient above the support's are
    fixed at exactly 0, and f is minimised on that face (through ``softmax(z, where=face)``,
    to a tight tolerance: on the face the optimum is interior). Rounds repeat (at most 20)
    until the conditions hold; then such entries of ``x`` are exactly 0 and f is evaluated
    there (``f`` must then accept zeros outside the support of its own terms). Without
    ``grad`` the check uses one-sided differences of f towards each vertex (n evaluations
    per row, all on the simplex). For convex ``f`` the problem in ``z`` need not be convex,
    but every stationary point of G in the interior is a stationary point of ``f`` on the
    simplex. With a very small ``tol``, L-BFGS-B may end with
    ``ABNORMAL_TERMINATION_IN_LNSRCH`` once ``f`` no longer decreases in floating point; the
    point is then as good as ``f`` can resolve. With ``n = 1`` the simplex is a point and
    ``p0`` is returned.

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

    def solve(z_start: np.ndarray) -> Any:
        if grad is None:
            return minimize(lambda zf: value(point(zf))[0], z_start.ravel(), method=method,
                            tol=tol, options=options)

        def objective(zf: np.ndarray) -> tuple[float, np.ndarray]:
            val, g = value(point(zf))
            return val, pullback(zf, g)

        return minimize(objective, z_start.ravel(), method=method, jac=True, tol=tol,
                        options=options)

    def gradient(p: np.ndarray, fp: float) -> np.ndarray:
        """∇f(p) up to a constant per row: the user's, or the one-sided differences towards
        each vertex (feasible directions; they estimate g_i − ⟨p, g⟩, which is all the KKT
        conditions use)."""
        if grad is not None:
            g = value(p.copy())[1]
            return np.broadcast_to(np.asarray(g, dtype=np.float64), shape).copy()
        return _vertex_differences(lambda q: value(q)[0], p, fp)

    res = solve(z0)
    nit, nfev = res.get("nit", 0), res.get("nfev", 0)
    njev = res.get("njev", 0)
    z = np.asarray(res.x, dtype=np.float64).reshape(zshape)
    x = point(z.ravel())
    fun = float(res.fun)
    kkt = _KKT(shape, kkt_tol)
    rounds = 0
    on_face = False
    # The polish on a face converges tightly (there the optimum is interior), whatever tol.
    polish_tol = 1e-12 if tol is None else min(tol, 1e-12)
    while True:
        r = kkt.residuals(x, gradient(x, fun))
        if kkt.holds(r, fun) or rounds == _MAX_ROUNDS or not np.isfinite(r).all():
            break
        # The z-parametrisation is stationary near every face (its gradient is p ⊙ r / T):
        # the search stalls with entries that should be 0 still positive, or with mass
        # missing from entries that want it (r_i < 0). Active set: give mass to the latter
        # (a Frank-Wolfe step, with a line search on f), fix at exactly 0 the entries that
        # are vanishing with a gradient above the support's, and solve on that face, where
        # the optimum is interior and the search converges.
        rounds += 1
        limit = kkt.limit(fun)
        y, fy = x, fun
        moved = _towards_entering(lambda q: value(q)[0], x, fun, r, limit)
        if moved is not None:
            y, fy = moved
        vanishing = (r > limit) & (x <= 1e-6 * np.max(x, axis=-1, keepdims=True))
        face = _solve_on_face(value, y, ~vanishing, method, polish_tol, options,
                              grad is not None)
        if face is None or not face[1] <= fy:
            if fy < fun:  # keep the Frank-Wolfe step at least
                x, fun, on_face = y, fy, True
                continue
            break
        x, fun, res = face
        on_face = True
        nit += res.get("nit", 0)
        nfev += res.get("nfev", 0)
        njev += res.get("njev", 0)
    gap = kkt.gap(r)
    ok = kkt.holds(r, fun)
    # After a polish on a face the KKT check is the verdict (its tight search may end in a
    # line-search failure once f no longer decreases in floating point).
    success = ok and (bool(res.success) or on_face)
    message = res.get("message", "")
    if not ok:
        message = kkt.failure(r, gap, rounds, fun)
    elif rounds:
        message = (f"KKT conditions hold after {rounds} active-set round(s) on a face of the "
                   f"simplex (the last search: {message})")
    if on_face:
        with np.errstate(all="ignore"):
            try:
                z = np.asarray(base_logits(x, temperature=temperature, base=base, atol=1e-9))
            except ValueError:  # the base entry is 0: z is not defined on that face
                z = np.full(zshape, np.nan)
    out = OptimizeResult(
        x=x,
        z=z,
        fun=fun,
        nit=nit,
        nfev=nfev,
        status=res.get("status", 0),
        success=success,
        message=message,
        kkt_gap=float(gap.max()),
    )
    if grad is not None:
        out.njev = njev
        jac = res.get("jac")
        if on_face:  # the gradient of G at the final point: [p ⊙ r / T] without the base
            jac = np.delete(x * r / np.asarray(temperature, dtype=np.float64), base, axis=-1)
        if jac is not None:
            out.jac = np.asarray(jac, dtype=np.float64).reshape(zshape)
    return out


# Most Frank-Wolfe restarts after the first search.
_MAX_ROUNDS = 20


class _KKT:
    """The first-order optimality (KKT) conditions of ``min f`` over a product of simplices.

    With ``r_i = ∂f/∂p_i − ⟨p, ∇f⟩`` per row, p is a KKT point when ``r_i = 0`` wherever
    ``p_i > 0`` and ``r_i ≥ 0`` wherever ``p_i = 0``: the gradient is equal across the
    support, and no higher outside it. Both are measured by the Frank-Wolfe gap
    ``max_i(−r_i) = ⟨p, ∇f⟩ − min_i ∂f/∂p_i ≥ 0``, zero exactly at a KKT point (then
    ``Σ p_i |r_i| ≤ 2·gap``); for convex f it bounds ``f(p) − min f``.
    """

    def __init__(self, shape: tuple[int, ...], tol: float) -> None:
        self.shape = shape
        self.tol = tol

    def residuals(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g - np.sum(p * g, axis=-1, keepdims=True)

    def gap(self, r: np.ndarray) -> np.ndarray:
        return np.maximum(-np.min(r, axis=-1), 0.0)

    def limit(self, fun: float) -> float:
        """The largest gap accepted: ``kkt_tol · max(1, |f|)`` (the gap is in units of f)."""
        return self.tol * max(1.0, abs(fun))

    def holds(self, r: np.ndarray, fun: float) -> bool:
        return bool(np.isfinite(r).all() and (self.gap(r) <= self.limit(fun)).all())

    def failure(self, r: np.ndarray, gap: np.ndarray, rounds: int, fun: float) -> str:
        if not np.isfinite(r).all():
            return ("the gradient of f at the final point is not finite, so its optimality "
                    "(the KKT conditions on the simplex) cannot be checked")
        row = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.ndim else ()
        i = int(np.argmin(r[row]))
        where = f"p[{', '.join(str(int(a)) for a in (*row, i))}]"
        return (f"not a KKT point of the problem on the simplex: {where} has ∂f/∂p below "
                f"the gradient's average over the support by {float(gap[row]):.3g} (more "
                f"than kkt_tol · max(1, |f|) = {self.limit(fun):.3g}), so moving mass to it "
                f"lowers f; the search stalled near a face of the simplex (after {rounds} "
                "active-set round(s)). Try a tighter tol, another p0, or a larger kkt_tol")


def _solve_on_face(
    value: Callable[[np.ndarray], tuple[float, Any]],
    p: np.ndarray,
    free: np.ndarray,
    method: str,
    tol: float | None,
    options: dict[str, Any] | None,
    with_grad: bool,
) -> tuple[np.ndarray, float, Any] | None:
    """Minimise f on the face where the entries outside ``free`` are exactly 0, from p.

    The face is searched through ``p = softmax(z, where=free)`` (one logit per free entry, a
    constant per row being immaterial), whose gradient is ``p ⊙ (g − ⟨p, g⟩)`` on the free
    entries. None when f is not finite on the face (then the face is not taken).
    """
    from scipy.optimize import minimize

    from softmaxkit.maps import softmax

    free = free.copy()
    free[np.arange(free.shape[-1]) == np.argmax(p, axis=-1)[..., None]] = True  # rows non-empty
    start = np.where(free, np.maximum(p, np.finfo(np.float64).tiny), 0.0)
    start /= start.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        z_full = np.where(free, np.log(start), 0.0)
    n_free = int(free.sum())

    def point(zf: np.ndarray) -> np.ndarray:
        z = np.zeros(free.shape)
        z[free] = zf
        return np.asarray(softmax(z, where=free))

    f_start = value(point(z_full[free]))[0]
    if not np.isfinite(f_start):
        return None
    if with_grad:

        def objective(zf: np.ndarray) -> tuple[float, np.ndarray]:
            q = point(zf)
            val, g = value(q)
            g = np.broadcast_to(np.asarray(g, dtype=np.float64), q.shape)
            g = np.where(free, g, 0.0)  # entries fixed at 0 may have any gradient (even inf)
            full = q * (g - np.sum(q * g, axis=-1, keepdims=True))
            return val, full[free]

        res = minimize(objective, z_full[free], method=method, jac=True, tol=tol,
                       options=options)
    else:
        res = minimize(lambda zf: value(point(zf))[0], z_full[free], method=method, tol=tol,
                       options=options)
    x = point(np.asarray(res.x, dtype=np.float64).reshape(n_free))
    fx = float(res.fun)
    if not np.isfinite(fx):
        return None
    return x, fx, res


def _towards_entering(
    f: Callable[[np.ndarray], float], p: np.ndarray, fp: float, r: np.ndarray, tol: float
) -> tuple[np.ndarray, float] | None:
    """A Frank-Wolfe step with backtracking: from p towards, in every row that violates the
    KKT conditions, its entry of lowest ∂f/∂p (the vertex of steepest descent). None when no
    step of at most 1/2 lowers f."""
    bad = -np.min(r, axis=-1) > tol
    target = p.copy()
    if p.ndim == 1:
        if bad:
            target = np.zeros_like(p)
            target[int(np.argmin(r))] = 1.0
    else:
        rows = np.argwhere(bad)
        for row in map(tuple, rows):
            target[row] = 0.0
            target[(*row, int(np.argmin(r[row])))] = 1.0
    step = 0.5
    while step > 1e-12:
        q = (1.0 - step) * p + step * target
        q = q / q.sum(axis=-1, keepdims=True)
        fq = f(q.copy())
        if np.isfinite(fq) and fq < fp:
            return q, float(fq)
        step *= 0.25
    return None


def _vertex_differences(
    f: Callable[[np.ndarray], float], p: np.ndarray, fp: float
) -> np.ndarray:
    """One-sided differences of f towards each vertex: ``(f(p + h(e_i − p)) − f(p)) / h``
    ≈ ``∂f/∂p_i − ⟨p, ∇f⟩`` (rows of a product of simplices one at a time; every point
    evaluated stays on the simplex)."""
    h = np.sqrt(np.finfo(np.float64).eps)
    out = np.empty_like(p)
    flat = p.reshape(-1, p.shape[-1])
    res = out.reshape(-1, p.shape[-1])
    for k in range(flat.shape[0]):
        for i in range(flat.shape[1]):
            q = flat.copy()
            q[k] *= 1.0 - h
            q[k, i] += h
            res[k, i] = (f(q.reshape(p.shape)) - fp) / h
    return out


def _scalar(fn: str, v: Any) -> float:
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: f must return a real number, got {type(v).__name__}") from None
    if arr.size != 1:
        raise ValueError(f"{fn}: f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))
