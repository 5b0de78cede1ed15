"""Fenchel–Young losses of softmax, sparsemax, 1.5-entmax, α-entmax and α-ReLU.

For a regulariser Ω (the negative α-Tsallis entropy; Shannon's for α = 1) the Fenchel–Young
loss of scores ``x`` at temperature T against a target ``y`` on the simplex is

.. math:: L(x; y) = \\Omega^*(z) - \\langle z, y\\rangle + \\Omega(y), \\qquad z = x / T,

(Blondel, Martins & Niculae 2020). It is ≥ 0, zero exactly when the map's output p equals y,
and its gradient with respect to ``x`` is :math:`(p - y)/T`. α = 1 is the cross-entropy
(the KL divergence for a probability target), α = 2 the sparsemax loss.

Numerically the loss is not formed as a difference of the conjugate and the inner product
(they cancel for large or shifted scores). With c the threshold in the units of z
(:math:`p_i^{\\alpha-1} = (\\alpha-1)(z_i - c)` on the support S) it splits into one term per
entry, each ≥ 0:

.. math:: L = \\sum_{i \\in S} D_\\omega(y_i, p_i)
          + \\sum_{i \\notin S} \\Bigl(\\omega(y_i) + (c - z_i)\\, y_i\\Bigr),
          \\qquad \\omega(t) = \\frac{t^\\alpha}{\\alpha(\\alpha-1)},

with :math:`D_\\omega` the scalar Bregman divergence of ω; the scores enter only as
:math:`z_i - c`, measured from the row maximum. The divergences are exact sums of squares for
α = 2, :math:`(y - p)^2/2`, and α = 1.5, :math:`(\\sqrt y - \\sqrt p)^2 (\\sqrt y + \\sqrt p / 2)
/ 0.75`, and :math:`y \\log(y/p) - y + p` for α = 1; for other α the difference form is
clamped at 0.

α-ReLU (:func:`alpha_relu_loss`) is the same sum with the threshold held fixed,
:math:`c = \\tau/(\\alpha-1)`, instead of solved for: its regulariser
:math:`\\Omega(p) = \\sum_i \\omega(p_i) + c\\,p_i` on the non-negative orthant is separable,
so the loss is exactly that sum of per-entry terms, and its gradient is again
:math:`(r - y)/T` with r the α-ReLU output.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from softmaxkit._base.arrays import device_of, first_index, host_copy, numpy_scalar
from softmaxkit._base.core import Setup, finish, full_like_scalar, is_lazy, quiet, setup
from softmaxkit.maps import log_softmax, softmax

__all__ = [
    "alpha_relu_loss",
    "alpha_relu_loss_grad",
    "cross_entropy",
    "entmax15_loss",
    "entmax15_loss_grad",
    "entmax_loss",
    "entmax_loss_grad",
    "softmax_loss",
    "softmax_loss_grad",
    "sparsemax_loss",
    "sparsemax_loss_grad",
]

Array = Any

_REDUCTIONS = ("none", "mean", "sum")


def _target(prep: Setup, y: Any, ax: int, fn: str) -> Array:
    """The target as a dense distribution in ``x``'s namespace, shape and compute dtype."""
    xp, raw = prep.xp, prep.raw
    shape = tuple(raw.shape)
    n = shape[ax]
    if isinstance(y, (list, tuple, numbers.Number, np.ndarray, np.generic)):
        arr = np.asarray(y)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: y must hold class indices or probabilities, got dtype "
                            f"{arr.dtype}")
        y = xp.asarray(arr, device=device_of(raw))
    yshape = tuple(y.shape)
    if len(yshape) == len(shape) - 1:
        expected = shape[:ax] + shape[ax + 1 :]
        if yshape != expected:
            raise ValueError(
                f"{fn}: y of shape {yshape} read as class indices must have x's shape without "
                f"axis {ax}, {expected}"
            )
        if not xp.isdtype(y.dtype, "integral"):
            raise TypeError(f"{fn}: y of shape {yshape} must hold integer class indices, got "
                            f"dtype {y.dtype}")
        pos = first_index(xp, (y < 0) | (y >= n))
        if pos is not None:
            val = host_copy(y)[pos]
            raise ValueError(f"{fn}: y{list(pos)} = {val} is not a class index in [0, {n})")
        classes = xp.arange(n, device=device_of(raw))
        classes = xp.reshape(classes, tuple(n if i == ax else 1 for i in range(len(shape))))
        return xp.astype(xp.expand_dims(y, axis=ax) == classes, prep.compute_dtype)
    if len(yshape) == len(shape):
        try:
            ok = np.broadcast_shapes(yshape, shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{fn}: y of shape {yshape} read as a target distribution does not "
                             f"broadcast to x's shape {shape}")
        if xp.isdtype(y.dtype, "complex floating") or y.dtype == xp.bool:
            raise TypeError(f"{fn}: y must hold real probabilities, got dtype {y.dtype}")
        return xp.broadcast_to(xp.astype(y, prep.compute_dtype), shape)
    raise ValueError(
        f"{fn}: y of shape {yshape} is neither class indices (shape {shape[:ax] + shape[ax + 1:]})"
        f" nor a target distribution (shape {shape})"
    )


def _prepare_loss(fn: str, x: Any, y: Any, axis: Any, temperature: Any, where: Any,
                  reduction: Any) -> tuple[Setup, int, Any, Array]:
    """Validate the arguments; return (the scores' setup, class axis, T divisor, dense target).

    The scores, axis, temperature and mask go through :func:`setup`; a loss adds one class
    axis, a finite positive temperature, the reduction and the target.
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fn}: axis must be an int (one class axis), got {axis!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    s = setup(fn, x, axis=axis, temperature=temperature, where=where)
    xp, temp = s.xp, s.temp
    (ax,) = s.axes
    t: Any = 1.0
    limit = temp.kind in ("zero", "inf")
    if temp.kind == "scalar":
        t = float(temp.value)
    elif temp.kind == "array":
        t = temp.value
        limit = bool(xp.any((t == 0) | (t == math.inf)))
    if limit:
        # The loss scales as 1/T: at the hardmax and uniform limits it is not defined.
        raise ValueError(f"{fn}: temperature must be positive and finite for a loss, got "
                         f"{temperature!r}")
    return s, ax, t, _target(s, y, ax, fn)


def _map(alpha: float, x: Any, ax: int, temperature: Any, where: Any, dtype: Any,
         n_iter: int | None, tau: float | None = None) -> Array:
    from softmaxkit import sparse

    kw = {"axis": ax, "temperature": temperature, "where": where, "dtype": dtype}
    if tau is not None:
        return sparse.alpha_relu(x, alpha=alpha, tau=tau, **kw)
    if alpha == 1.0:
        return softmax(x, **kw)
    if n_iter is None and alpha == 2.0:
        return sparse.sparsemax(x, **kw)
    if n_iter is None and alpha == 1.5:
        return sparse.entmax15(x, **kw)
    return sparse.entmax(x, alpha=alpha, n_iter=n_iter, **kw)


def _reduce(xp: Any, rows: Array, reduction: str) -> Array:
    if reduction == "sum":
        return xp.sum(rows)
    if reduction == "mean":
        return xp.mean(rows)
    return rows


def _loss(fn: str, alpha: float, x: Any, y: Any, axis: Any, temperature: Any,
          where: Any, reduction: Any, n_iter: int | None, tau: float | None = None) -> Array:
    """The loss of α-entmax (α = 1: softmax), or of α-ReLU with threshold ``tau``."""
    prep, ax, t, yv = _prepare_loss(fn, x, y, axis, temperature, where, reduction)
    xp, dt, mask = prep.xp, prep.compute_dtype, prep.mask
    xc = prep.x
    zero = full_like_scalar(xp, xc, 0.0)
    one = full_like_scalar(xp, xc, 1.0)
    ninf = full_like_scalar(xp, xc, -math.inf)
    admissible = xc > -math.inf
    if mask is not None:
        admissible = admissible & mask
    pos = yv > 0
    ysafe = xp.where(pos, yv, one)
    # Target mass on an excluded entry (−inf or masked) costs an infinite loss.
    outside = xp.any(pos & ~admissible, axis=ax)
    if alpha == 1.0:
        lp = log_softmax(xc, axis=ax, temperature=temperature, where=where, dtype=dt)
        p = xp.exp(lp)
        lp_safe = xp.where(pos & admissible, lp, zero)
        term = xp.where(pos, yv * (xp.log(ysafe) - lp_safe), zero) - yv + p
        term = xp.where(term > 0, term, zero)
    else:
        p = _map(alpha, xc, ax, temperature, where, dt, n_iter, tau)
        a1 = alpha - 1.0
        if tau is None:
            xa = xp.where(admissible, xc, ninf)
            m = xp.max(xa, axis=ax, keepdims=True)
            m = xp.where(m > -math.inf, m, zero)
            zs = xp.where(admissible, (xc - m) / t, zero)
            pmax = xp.max(p, axis=ax, keepdims=True)
            c: Any = -(pmax**a1) / a1  # threshold in z units, from the largest entry (z − max = 0)
        else:
            # α-ReLU is not shift invariant: z itself, and the fixed threshold in its units.
            zs = xp.where(admissible, xc / t, zero)
            c = tau / a1
            # A +inf score has r = +inf: Ω*(z) and the loss are +inf (the terms give inf − inf).
            outside = outside | xp.any((xc == math.inf) & admissible, axis=ax)
        on = p > 0
        if alpha == 2.0:
            d = (yv - p) ** 2 / 2
        elif alpha == 1.5:
            s, r = xp.sqrt(yv), xp.sqrt(p)
            d = (s - r) ** 2 * (s + r / 2) / 0.75
        else:
            psafe = xp.where(on, p, one)
            d = (yv**alpha - p**alpha - alpha * psafe**a1 * (yv - p)) / (alpha * a1)
            d = xp.where(d > 0, d, zero)
        off = xp.where(pos, ysafe**alpha / (alpha * a1) + (c - zs) * yv, zero)
        off = xp.where(off > 0, off, zero)
        term = xp.where(on, d, off)
    rows = xp.sum(term, axis=ax)
    rows = xp.where(outside, xp.full_like(rows, math.inf), rows)
    if tau is not None:
        # A NaN score makes the α-ReLU row NaN; its fixed threshold would hide it.
        rows = xp.where(xp.any(xp.isnan(p), axis=ax), xp.full_like(rows, math.nan), rows)
    return finish(xp, _reduce(xp, rows, reduction), prep.out_dtype)


def _grad(fn: str, alpha: float, x: Any, y: Any, axis: Any, temperature: Any, where: Any,
          reduction: Any, n_iter: int | None, tau: float | None = None) -> Array:
    prep, ax, t, yv = _prepare_loss(fn, x, y, axis, temperature, where, reduction)
    xp = prep.xp
    p = _map(alpha, prep.x, ax, temperature, where, prep.compute_dtype, n_iter, tau)
    g = (p - yv) / t
    if reduction == "mean":
        shape = tuple(prep.raw.shape)
        g = g / max(1, math.prod(shape[:ax] + shape[ax + 1 :]))
    return finish(xp, g, prep.out_dtype)


_PARAMS = """x : array_like
        Scores; any array-API array (NumPy, PyTorch, JAX, ...).
    y : array_like
        The target: integer class indices of x's shape without ``axis``, or a distribution of
        x's shape (broadcastable to it) on the simplex along ``axis``.
    axis : int, default -1
        The class axis.
    temperature : float or array, default 1.0
        T > 0 and finite (the loss scales as 1/T), or an array broadcastable against ``x``
        with ``axis`` of length 1. The loss is the one of ``x / T``.
    where : array of bool, optional
        Classes that take part; the excluded ones get probability 0, and target mass on them
        (or on −inf scores) gives an infinite loss.
    reduction : {"none", "mean", "sum"}, default "none"
        "none" returns one loss per row (x's shape without ``axis``); "mean" and "sum" reduce
        over all rows."""

_RAISES = """ValueError
        If a class index in ``y`` is outside ``[0, n)``, ``y``'s shape fits neither form,
        ``temperature`` is 0, inf or invalid, or ``reduction`` is unknown.
    TypeError
        If ``y`` read as class indices is not integer, or ``axis`` is not an int."""

_GRAD_DOC = """Gradient of :func:`{loss}` with respect to ``x``: ``(p − y) / T``.

    p is :func:`~softmaxkit.{map}` of ``x`` at the temperature; with ``reduction="mean"`` it
    is also divided by the number of rows (``"sum"`` and ``"none"`` give the same array, the
    gradient of the sum).

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        Shape and array kind of ``x``.

    Raises
    ------
    {raises}
    """


@quiet
def softmax_loss(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                 where: Any = None, reduction: str = "none") -> Array:
    r"""Fenchel–Young loss of softmax: the cross-entropy, ``KL(y ‖ softmax(x/T))``.

    .. math:: L(x; y) = \operatorname{logsumexp}(z) - \langle z, y\rangle
              + \sum_i y_i \log y_i, \qquad z = x/T.

    For class indices this is ``−log softmax(x/T)[y]``, PyTorch's ``cross_entropy``; for a
    target distribution it is the KL divergence (``cross_entropy`` minus the target's entropy),
    so that the loss is 0 exactly when softmax(x/T) = y.

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        The losses, ≥ 0 (x's shape without ``axis``), or their mean or sum.

    Raises
    ------
    {raises}

    Notes
    -----
    Computed entry-wise as :math:`y_i \log(y_i/p_i) - y_i + p_i \ge 0` with
    :math:`\log p` from :func:`~softmaxkit.log_softmax`. A row with a NaN or +inf score
    gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_loss
    >>> softmax_loss(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), np.array([2, 0]))
    array([0.40760596, 1.09861229])
    """
    return _loss("softmax_loss", 1.0, x, y, axis, temperature, where, reduction, None)


@quiet
def sparsemax_loss(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                   where: Any = None, reduction: str = "none") -> Array:
    r"""Fenchel–Young loss of sparsemax (Martins & Astudillo 2016).

    .. math:: L(x; y) = \langle p - y, z\rangle + \tfrac12 (\lVert y\rVert^2 - \lVert p
              \rVert^2), \qquad z = x/T, \quad p = \operatorname{sparsemax}(z),

    for class indices ``y`` the ``entmax`` package's ``SparsemaxLoss``. It is 0 exactly when
    p = y, and unlike the cross-entropy it can be 0 for a finite ``x``.

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        The losses, ≥ 0 (x's shape without ``axis``), or their mean or sum.

    Raises
    ------
    {raises}

    Notes
    -----
    Computed as a sum of non-negative terms (see :mod:`softmaxkit.losses`):
    :math:`(y_i - p_i)^2/2` on the support, :math:`y_i^2/2 + (c - z_i) y_i` off it. A row with
    a NaN or +inf score gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_loss
    >>> sparsemax_loss(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]]), np.array([2, 2]))
    array([0., 0.])
    """
    return _loss("sparsemax_loss", 2.0, x, y, axis, temperature, where, reduction, None)


@quiet
def entmax15_loss(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                  where: Any = None, reduction: str = "none") -> Array:
    r"""Fenchel–Young loss of 1.5-entmax (Peters, Niculae & Martins 2019).

    .. math:: L(x; y) = \langle p - y, z\rangle + \frac{\sum_i y_i^{3/2} - \sum_i
              p_i^{3/2}}{0.75}, \qquad z = x/T, \quad p = \operatorname{entmax15}(z),

    for class indices ``y`` the ``entmax`` package's ``Entmax15Loss``.

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        The losses, ≥ 0 (x's shape without ``axis``), or their mean or sum.

    Raises
    ------
    {raises}

    Notes
    -----
    Computed as a sum of non-negative terms (see :mod:`softmaxkit.losses`). A row with a NaN
    or +inf score gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_loss
    >>> entmax15_loss(np.array([0.0, 1.0, 2.0]), np.array(1))
    array(1.06165587)
    """
    return _loss("entmax15_loss", 1.5, x, y, axis, temperature, where, reduction, None)


@quiet
def entmax_loss(x: Any, y: Any, /, *, alpha: float = 1.5, axis: Any = -1,
                temperature: Any = 1.0, where: Any = None, reduction: str = "none",
                n_iter: int | None = None) -> Array:
    r"""Fenchel–Young loss of α-entmax, for any α ≥ 1.

    .. math:: L(x; y) = \langle p - y, z\rangle + \frac{\sum_i y_i^\alpha - \sum_i
              p_i^\alpha}{\alpha(\alpha - 1)}, \qquad z = x/T,
              \quad p = \operatorname{entmax}_\alpha(z),

    for class indices ``y`` the ``entmax`` package's ``EntmaxBisectLoss``; α = 1 is
    :func:`softmax_loss`, α = 2 :func:`sparsemax_loss`.

    Parameters
    ----------
    {params}
    alpha : float, default 1.5
        α ≥ 1, finite.
    n_iter : int, optional
        Bisection steps for :func:`~softmaxkit.entmax`. By default α = 1.5 and α = 2 use the
        exact sort-based maps and other α the bisection at the dtype's precision.

    Returns
    -------
    array
        The losses, ≥ 0 (x's shape without ``axis``), or their mean or sum.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_loss
    >>> entmax_loss(np.array([0.0, 1.0, 2.0]), np.array(0), alpha=1.7)
    array(2.02133182)
    """
    return _loss("entmax_loss", _alpha(alpha), x, y, axis, temperature, where, reduction, n_iter)


def _alpha(alpha: Any) -> float:
    from softmaxkit._base.sparse_kernel import check_alpha as _check_alpha

    return _check_alpha(alpha)


@quiet
def softmax_loss_grad(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                      where: Any = None, reduction: str = "none") -> Array:
    r"""{doc}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import softmax_loss_grad
    >>> softmax_loss_grad(np.array([0.0, 0.0]), np.array(0), temperature=2)
    array([-0.25,  0.25])
    """
    return _grad("softmax_loss_grad", 1.0, x, y, axis, temperature, where, reduction, None)


@quiet
def sparsemax_loss_grad(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                        where: Any = None, reduction: str = "none") -> Array:
    r"""{doc}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sparsemax_loss_grad
    >>> sparsemax_loss_grad(np.array([0.1, 1.1, 0.2]), np.array(2))
    array([ 0.  ,  0.95, -0.95])
    """
    return _grad("sparsemax_loss_grad", 2.0, x, y, axis, temperature, where, reduction, None)


@quiet
def entmax15_loss_grad(x: Any, y: Any, /, *, axis: Any = -1, temperature: Any = 1.0,
                       where: Any = None, reduction: str = "none") -> Array:
    r"""{doc}

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax15_loss_grad
    >>> entmax15_loss_grad(np.array([0.0, 1.0, 2.0]), np.array(2))
    array([ 0.        ,  0.16928109, -0.16928109])
    """
    return _grad("entmax15_loss_grad", 1.5, x, y, axis, temperature, where, reduction, None)


@quiet
def entmax_loss_grad(x: Any, y: Any, /, *, alpha: float = 1.5, axis: Any = -1,
                     temperature: Any = 1.0, where: Any = None, reduction: str = "none",
                     n_iter: int | None = None) -> Array:
    r"""{doc}

    Other Parameters
    ----------------
    alpha, n_iter
        As for :func:`entmax_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entmax_loss_grad
    >>> entmax_loss_grad(np.array([0.0, 0.5, 1.0]), np.array(1), alpha=2)
    array([ 0.  , -0.75,  0.75])
    """
    return _grad("entmax_loss_grad", _alpha(alpha), x, y, axis, temperature, where, reduction,
                 n_iter)


@quiet
def alpha_relu_loss(x: Any, y: Any, /, *, alpha: float = 1.5, tau: float = 0.0,
                    axis: Any = -1, temperature: Any = 1.0, where: Any = None,
                    reduction: str = "none") -> Array:
    r"""The α-ReLU loss (Tezekbayev, Nikoulina, Gallé & Assylbekov, "Speeding Up Entmax",
    Findings of NAACL 2022, arXiv:2111.06832): the Fenchel–Young loss of
    :func:`~softmaxkit.sparse.alpha_relu`.

    .. math:: L(x; y) = \langle r - y, z\rangle - \Omega(r) + \Omega(y), \qquad
              \Omega(q) = \sum_i \frac{q_i^\alpha}{\alpha(\alpha-1)}
              + \frac{\tau}{\alpha-1}\, q_i, \qquad z = x/T,

    with :math:`r = [(\alpha-1) z - \tau]_+^{1/(\alpha-1)}` the (unnormalised) α-ReLU output,
    the maximiser of :math:`\langle z, q\rangle - \Omega(q)` over :math:`q \ge 0`. Its gradient
    is :math:`(r - y)/T` (:func:`alpha_relu_loss_grad`): the gradient the authors train with,
    the backward pass of their reference code (``alpharelu.ReLU15Loss``, α = 1.5,
    https://github.com/MaxatTezekbayev/alpha-relu).

    Parameters
    ----------
    {params}
    alpha : float, default 1.5
        α > 1, finite (as for :func:`~softmaxkit.sparse.alpha_relu`).
    tau : float, default 0.0
        The fixed threshold τ, finite (0 is the reference code's default).

    Returns
    -------
    array
        The losses, ≥ 0 (x's shape without ``axis``), or their mean or sum. A loss is 0
        exactly when r = y.

    Raises
    ------
    {raises}

    Notes
    -----
    The reference code's forward pass reports
    :math:`(\sum_i r_i - \sum_i r_i^\alpha)/(\alpha(\alpha-1)) + \langle r - e_y,
    z - \tau/(\alpha-1)\rangle`: this loss plus :math:`(\sum_i r_i - 1)/(\alpha(\alpha-1))`.
    That extra term vanishes only where r sums to 1, and its gradient is not in the authors'
    backward pass; the value returned here is the one whose gradient is :math:`(r - y)/T`
    (training is the same).

    Computed as a sum of non-negative per-entry terms (see :mod:`softmaxkit.losses`, with the
    fixed threshold :math:`c = \tau/(\alpha-1)`). A row with a NaN score gives NaN, a row with
    a +inf score (r = +inf) +inf; target mass on a masked or −inf entry gives +inf.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import alpha_relu_loss
    >>> x = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 2.0]])
    >>> alpha_relu_loss(x, np.array([2, 2]))   # r = [x/2]_+^2; the second row has r = y
    array([0.08333333, 0.        ])
    """
    a, t = _relu_args(alpha, tau)
    return _loss("alpha_relu_loss", a, x, y, axis, temperature, where, reduction, None, t)


@quiet
def alpha_relu_loss_grad(x: Any, y: Any, /, *, alpha: float = 1.5, tau: float = 0.0,
                         axis: Any = -1, temperature: Any = 1.0, where: Any = None,
                         reduction: str = "none") -> Array:
    r"""{doc}

    Other Parameters
    ----------------
    alpha, tau
        As for :func:`alpha_relu_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import alpha_relu_loss_grad
    >>> alpha_relu_loss_grad(np.array([0.0, 1.0, 2.0]), np.array(2))
    array([0.  , 0.25, 0.  ])
    """
    a, t = _relu_args(alpha, tau, "alpha_relu_loss_grad")
    return _grad("alpha_relu_loss_grad", a, x, y, axis, temperature, where, reduction, None,
                 t)


def _relu_args(alpha: Any, tau: Any, fn: str = "alpha_relu_loss") -> tuple[float, float]:
    from softmaxkit._base.sparse_kernel import check_relu_args

    return check_relu_args(alpha, tau, fn)


for _loss_fn in (softmax_loss, sparsemax_loss, entmax15_loss, entmax_loss, alpha_relu_loss):
    _loss_fn.__doc__ = (_loss_fn.__doc__ or "").replace("{params}", _PARAMS).replace(
        "{raises}", _RAISES)
for _grad_fn, _of, _m in ((softmax_loss_grad, "softmax_loss", "softmax"),
                          (sparsemax_loss_grad, "sparsemax_loss", "sparsemax"),
                          (entmax15_loss_grad, "entmax15_loss", "entmax15"),
                          (entmax_loss_grad, "entmax_loss", "entmax"),
                          (alpha_relu_loss_grad, "alpha_relu_loss", "sparse.alpha_relu")):
    _grad_fn.__doc__ = (_grad_fn.__doc__ or "").replace(
        "{doc}", _GRAD_DOC.format(loss=_of, map=_m, params=_PARAMS, raises=_RAISES))
del _loss_fn, _grad_fn, _of, _m


# --------------------------------------------------------------------------------------------
# cross-entropy as training code uses it (PyTorch's definitions)
# --------------------------------------------------------------------------------------------


def _ce_axis(fn: str, ndim: int, axis: Any) -> Any:
    """The class axis: PyTorch's (1, or 0 for a 1-D input) when ``axis`` is None."""
    if axis is None:
        if ndim == 0:
            raise ValueError(f"{fn}: logits must have at least one dimension (the classes)")
        return 0 if ndim == 1 else 1
    return axis


def _ce_weight(fn: str, weight: Any, prep: Setup, ax: int) -> Array | None:
    """Class weights as an array of x's namespace and compute dtype, shaped to broadcast
    along the class axis."""
    if weight is None:
        return None
    xp, raw = prep.xp, prep.raw
    n = prep.shape[ax]
    if isinstance(weight, (list, tuple, np.ndarray, np.generic)):
        arr = np.asarray(weight)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{fn}: weight must hold real numbers, got dtype {arr.dtype}")
        weight = xp.asarray(arr, device=device_of(raw))
    if not hasattr(weight, "shape") or tuple(weight.shape) != (n,):
        shape = tuple(getattr(weight, "shape", ()))
        raise ValueError(f"{fn}: weight must be a 1-D array with one entry per class ({n}), got "
                         f"shape {shape}")
    if weight.dtype == xp.bool or xp.isdtype(weight.dtype, "complex floating"):
        raise TypeError(f"{fn}: weight must hold real numbers, got dtype {weight.dtype}")
    w = xp.astype(weight, prep.compute_dtype)
    return xp.reshape(w, tuple(n if i == ax else 1 for i in range(len(prep.shape))))


def _ce_indices(fn: str, prep: Setup, y: Any, ax: int,
                ignore_index: int) -> tuple[Array, Array, Array]:
    """(one-hot selection of the target class, rows not ignored, rows with an invalid index)
    for class-index targets. An index outside ``[0, n)`` that is not ``ignore_index`` raises;
    lazy arrays cannot be inspected, and the caller makes those rows NaN instead."""
    xp, raw = prep.xp, prep.raw
    shape = prep.shape
    n = shape[ax]
    expected = shape[:ax] + shape[ax + 1 :]
    if tuple(y.shape) != expected:
        raise ValueError(f"{fn}: target of shape {tuple(y.shape)} read as class indices must "
                         f"have the logits' shape without the class axis {ax}, {expected}")
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(f"{fn}: target of shape {tuple(y.shape)} must hold integer class "
                        f"indices, got dtype {y.dtype}")
    valid = y != ignore_index
    bad = valid & ((y < 0) | (y >= n))
    if not is_lazy(y) and not is_lazy(raw):
        pos = first_index(xp, bad)
        if pos is not None:
            val = host_copy(y)[pos]
            raise ValueError(f"{fn}: target{list(pos)} = {val} is not a class index in "
                             f"[0, {n}) nor ignore_index ({ignore_index})")
    classes = xp.arange(n, device=device_of(raw))
    classes = xp.reshape(classes, tuple(n if i == ax else 1 for i in range(len(shape))))
    hit = (xp.expand_dims(y, axis=ax) == classes) & xp.expand_dims(valid, axis=ax)
    return hit, valid, bad


@quiet
def cross_entropy(
    logits: Any,
    target: Any,
    /,
    *,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    axis: int | None = None,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""Cross-entropy with PyTorch's options and definitions (``F.cross_entropy``).

    Equal to ``torch.nn.functional.cross_entropy(logits, target, weight, ignore_index=...,
    reduction=..., label_smoothing=...)`` on every combination of options, on any array
    library, with :math:`\log p` from :func:`~softmaxkit.log_softmax` (also at temperature T,
    with a mask). With class indices :math:`y_n` and class weights :math:`w` (1 by default),
    smoothing ε and C classes:

    .. math:: \ell_n = (1-\varepsilon)\, w_{y_n} (-\log p_{n,y_n})
              + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{n,c}),
              \qquad p_n = \operatorname{softmax}(x_n / T),

    :math:`\ell_n = 0` where :math:`y_n` = ``ignore_index``; "mean" is
    :math:`\sum_n \ell_n / \sum_{n\ \mathrm{not\ ignored}} w_{y_n}`. With a target
    distribution :math:`t_n` (the logits' shape), :math:`t' = (1-\varepsilon)\,t +
    \varepsilon/C` and :math:`\ell_n = -\sum_c w_c\, t'_{n,c} \log p_{n,c}`; "mean" divides
    by the number of rows.

    Parameters
    ----------
    logits : array_like
        Scores of shape (C,), (N, C) or (N, C, d1, ..., dk) — the class axis where PyTorch has
        it — or any shape with ``axis`` naming the class axis.
    target : array_like
        Integer class indices of the logits' shape without the class axis (``ignore_index``
        allowed), or real class probabilities of the logits' shape (broadcastable to it).
    weight : array_like, optional
        One real weight per class (shape (C,)).
    ignore_index : int, default -100
        Class-index targets equal to it add nothing and are not counted by "mean"
        (probability targets take no ignore_index: a non-negative one raises, as in PyTorch).
    reduction : {"mean", "sum", "none"}, default "mean"
        "none" returns one loss per row (the target's shape for class indices).
    label_smoothing : float, default 0.0
        ε in [0, 1]: the target mixed with the uniform distribution over the classes
        (over the classes ``where`` admits, when a mask is given).
    axis : int, optional
        The class axis; default PyTorch's: 1, or 0 for a 1-D input (use ``axis=-1`` for
        channels-last scores such as (N, L, C)).
    temperature : float or array, default 1.0
        The loss of ``logits / T`` (T ≥ 0, as for :func:`~softmaxkit.log_softmax`; T = 0 gives
        0 or +inf).
    where : array of bool, optional
        Classes that exist (broadcastable to the logits): excluded ones have probability 0,
        take no smoothing mass and are not counted in C; a target on one gives +inf.
    dtype : dtype, optional
        Output dtype; float16/bfloat16 are accumulated in float32 (float64 on NumPy).

    Returns
    -------
    array
        The loss: a scalar for "mean" and "sum", per row for "none".

    Raises
    ------
    ValueError
        For a class index outside ``[0, C)`` that is not ``ignore_index`` (its position named;
        with lazy arrays the loss becomes NaN instead), a target or weight of the wrong shape,
        ``label_smoothing`` outside [0, 1] or an unknown ``reduction``.
    TypeError
        For a class-index target that is not integer, or a probability target that is.

    Notes
    -----
    PyTorch's definitions, kept here, that surprise:

    * **Weighted mean** divides by :math:`\sum_n w_{y_n}` over the non-ignored targets, not by
      N: it is a weighted average of the per-row losses, and the label-smoothing part is
      divided by the same sum although its own weights are all the classes', not the
      target's.
    * **Label smoothing with weights** weights each class's share by its own :math:`w_c`;
      the smoothed target is not renormalised by the weights.
    * **Probability targets** do not take ``ignore_index`` (a non-negative one raises, the
      default −100 is unused), and their "mean" divides by the number of rows whatever the
      weights, so one-hot probability targets and class indices give
      different weighted means (equal unweighted ones).
    * **Every target ignored** with "mean" gives 0/0 = NaN, as PyTorch does (and an empty
      batch too); "sum" gives 0.

    Departures, where PyTorch returns NaN: a zero weight or a zero target probability on a
    class whose logit is −inf adds 0 here (:math:`0 \log 0 = 0`), and ``label_smoothing=1``
    drops the target term instead of forming :math:`0 \cdot \infty`. Mass on a −inf or
    excluded class (the target, or smoothing without ``where``) gives +inf, as in PyTorch.

    :func:`softmax_loss` is the Fenchel–Young loss: for a target distribution it is the KL
    divergence, 0 at a perfect fit, while this cross-entropy includes the target's entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import cross_entropy
    >>> x = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    >>> cross_entropy(x, np.array([0, 2]))
    np.float64(0.20557865810672138)
    >>> cross_entropy(x, np.array([0, -100]), reduction="none")
    array([0.2413113, 0.       ])
    >>> cross_entropy(x, np.array([0, 2]), weight=np.array([1.0, 1.0, 3.0]), label_smoothing=0.1)
    np.float64(0.3152393264572466)
    """
    fn = "cross_entropy"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) or \
            not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be a number in [0, 1], got "
                         f"{label_smoothing!r}")
    eps = float(label_smoothing)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{fn}: ignore_index must be an int, got {ignore_index!r}")
    ndim = len(getattr(logits, "shape", np.shape(logits)))
    ax_arg = _ce_axis(fn, ndim, axis)
    prep = setup(fn, logits, axis=ax_arg, temperature=temperature, where=where, dtype=dtype,
                 name="logits", along="the class axis")
    xp, dt, mask = prep.xp, prep.compute_dtype, prep.mask
    (ax,) = prep.axes
    shape = prep.shape
    n = shape[ax]
    w = _ce_weight(fn, weight, prep, ax)
    lp = log_softmax(prep.raw, axis=ax, temperature=temperature, where=mask, dtype=dt)
    zero = full_like_scalar(xp, lp, 0.0)
    y = target
    if isinstance(y, (list, tuple, numbers.Number, np.ndarray, np.generic)):
        arr = np.asarray(y)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: target must hold class indices or probabilities, got dtype "
                            f"{arr.dtype}")
        y = xp.asarray(arr, device=device_of(prep.raw))
    # The smoothing spreads over the classes that exist: all C, or the admitted ones.
    if mask is None:
        count: Any = float(n)
    else:
        count = xp.sum(xp.astype(mask, dt), axis=ax, keepdims=True)
        count = xp.where(count > 0, count, full_like_scalar(xp, count, 1.0))

    def weighted_nlog(sel: Array, coef: Array) -> Array:
        # −coef·log p on the selected entries, 0 elsewhere: 0·(−inf) is never formed, also
        # not in a backward pass (log p is replaced before the product).
        take = sel & (coef != 0)
        return -(coef * xp.where(take, lp, zero))

    if len(tuple(y.shape)) == len(shape) - 1:
        hit, valid, bad = _ce_indices(fn, prep, y, ax, int(ignore_index))
        wt = full_like_scalar(xp, lp, 1.0) if w is None else xp.broadcast_to(w, shape)
        rows = xp.sum(weighted_nlog(hit, wt), axis=ax)
        if eps == 1.0:
            rows = xp.zeros_like(rows)
        elif eps > 0.0:
            rows = (1.0 - eps) * rows
        if eps > 0.0:
            every = mask if mask is not None else xp.ones(shape, dtype=xp.bool,
                                                          device=device_of(lp))
            smooth = xp.sum(weighted_nlog(every, wt) * (eps / count), axis=ax)
            rows = rows + xp.where(valid, smooth, xp.zeros_like(smooth))
        rows = xp.where(bad, xp.full_like(rows, math.nan), rows)
        if reduction == "none":
            return finish(xp, rows, prep.out_dtype)
        total = xp.sum(rows)
        if reduction == "sum":
            return numpy_scalar(finish(xp, total, prep.out_dtype))
        denom = xp.sum(xp.where(hit, wt, zero))
        # every target ignored: 0/0 = NaN as in PyTorch (formed without a 0/0 warning)
        denom = xp.where(denom == 0, full_like_scalar(xp, denom, math.nan), denom)
        return numpy_scalar(finish(xp, total / denom, prep.out_dtype))
    if len(tuple(y.shape)) != len(shape):
        raise ValueError(
            f"{fn}: target of shape {tuple(y.shape)} is neither class indices (shape "
            f"{shape[:ax] + shape[ax + 1:]}) nor class probabilities (shape {shape})")
    try:
        ok = np.broadcast_shapes(tuple(y.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fn}: target of shape {tuple(y.shape)} read as class probabilities "
                         f"does not broadcast to the logits' shape {shape}")
    if not (xp.isdtype(y.dtype, "real floating")):
        raise TypeError(f"{fn}: target of the logits' shape must hold real class "
                        f"probabilities (a floating dtype), got dtype {y.dtype}")
    if ignore_index >= 0:
        # PyTorch refuses it too: a class cannot be ignored in a probability target.
        raise ValueError(f"{fn}: ignore_index={ignore_index} is not supported for probability "
                         "targets (only class-index targets can be ignored)")
    t = xp.broadcast_to(xp.astype(y, dt), shape)
    if eps > 0.0:
        share = eps / count
        if mask is not None:
            share = xp.where(mask, share, zero)
        t = t * (1.0 - eps) + share
    coef = t if w is None else t * w
    rows = xp.sum(weighted_nlog(xp.ones(shape, dtype=xp.bool, device=device_of(lp)), coef),
                  axis=ax)
    if reduction == "none":
        return finish(xp, rows, prep.out_dtype)
    total = xp.sum(rows)
    if reduction == "sum":
        return numpy_scalar(finish(xp, total, prep.out_dtype))
    n_rows = math.prod(shape) // n if n else 0
    return numpy_scalar(finish(xp, total / (n_rows if n_rows else math.nan), prep.out_dtype))
