"""Sampling from logits: categorical draws by the Gumbel-max trick and its relaxations.

If :math:`g_i` are independent standard Gumbel variables, :math:`\\arg\\max_i (z_i + g_i)` is
distributed as :math:`\\mathrm{softmax}(z)` (Gumbel 1954; Maddison, Tarlow & Minka 2014). So a
categorical draw needs one uniform-cost noise array and one ``argmax``, on any array library,
with no normalisation, no cumulative sum and no search; :func:`gumbel_softmax` replaces the
``argmax`` by a softmax at a relaxation temperature τ (Jang, Gu & Poole 2017; Maddison, Mnih &
Teh 2017) and :func:`gumbel_sparsemax` by a sparsemax.

Edge semantics (the maps' own): ``−inf`` and masked classes are never drawn; if a row holds
``+inf`` classes one of them is drawn, uniformly; ``temperature=0`` draws uniformly among the
maxima (the hardmax distribution), ``temperature=inf`` uniformly among the admissible classes.
These are exact: the noise only breaks ties among the classes the limit allows.

Seeds, per array library (``seed=None`` draws fresh entropy):

* NumPy, ``array_api_strict`` and other array-API arrays: anything
  :func:`numpy.random.default_rng` takes (an int, a :class:`numpy.random.Generator`, a
  ``SeedSequence``); the noise is drawn on the host and moved to the input's namespace.
* PyTorch: an int or a :class:`torch.Generator` (on the input's device); None uses PyTorch's
  global generator.
* JAX: a PRNG key (``jax.random.key(0)`` or a legacy ``jax.random.PRNGKey(0)``) or an int
  (turned into ``jax.random.key(seed)``). As usual in JAX the same key gives the same draws:
  split it between calls.
* Dask: an int, a Generator or None as for NumPy. The reduced axis is rechunked into one
  chunk and every block draws from its own stream, ``SeedSequence(entropy,
  spawn_key=block_index)``: the result is reproducible for a given seed and chunking, does
  not depend on the scheduler, but does change when the chunks along the batch axes change.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base.arrays import device_of, host_copy
from softmaxkit._base.core import Setup, full_like_scalar, is_lazy, quiet, setup
from softmaxkit._base.dispatch import is_jax_array, is_tensor
from softmaxkit._base.errors import InvalidInputError, row_position
from softmaxkit.maps import softmax
from softmaxkit.sparse import sparsemax

__all__ = ["gumbel_softmax", "gumbel_sparsemax", "sample_categorical"]

Array = Any

# Gumbel noise is clipped to ±_NOISE_BOUND: a uniform draw of exactly 0 or 1 would give an
# infinite noise (probability ~2^-53 per entry), and an infinite noise on an admissible class
# could tie with an excluded one. P(|g| > 700) is below e^-700: the clip changes nothing else.
_NOISE_BOUND = 700.0
_WHY_AXIS = "the draw is a position along it"


# --------------------------------------------------------------------------------------------
# Noise, per array library
# --------------------------------------------------------------------------------------------


def _check_n(n: Any, fn: str) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{fn}: n must be None or an integer >= 0, got {n!r}")
    return int(n)


def _numpy_rng(seed: Any, fn: str) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn}: seed must be None, an int, a numpy.random.Generator or a SeedSequence for "
            f"this input, got {type(seed).__name__} ({err})"
        ) from None


def _torch_generator(seed: Any, device: Any, fn: str) -> Any:
    import torch

    if seed is None or isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{fn}: seed must be None, an int or a torch.Generator for torch tensors, got "
            f"{type(seed).__name__}"
        )
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def _jax_key(seed: Any, fn: str) -> Any:
    import jax

    if seed is None:
        return jax.random.key(int(np.random.SeedSequence().generate_state(1)[0]))
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array):
        return seed
    raise TypeError(
        f"{fn}: seed must be None, an int or a JAX PRNG key (jax.random.key(0)) for JAX "
        f"arrays, got {type(seed).__name__}"
    )


def _gumbel(prep: Setup, shape: tuple[int, ...], seed: Any, fn: str) -> Array:
    """Standard Gumbel noise of ``shape`` in the compute dtype, on the input's library."""
    xp, dtype, raw = prep.xp, prep.compute_dtype, prep.raw
    if is_tensor(raw):
        import torch

        gen = _torch_generator(seed, raw.device, fn)
        e = torch.empty(shape, dtype=dtype, device=raw.device).exponential_(generator=gen)
        g = -torch.log(e)  # −log of an Exp(1) variable is standard Gumbel
    elif is_jax_array(raw):
        import jax

        g = jax.random.gumbel(_jax_key(seed, fn), shape, dtype=dtype)
    else:
        rng = _numpy_rng(seed, fn)
        g = xp.asarray(rng.gumbel(size=shape), dtype=dtype, device=device_of(raw))
    return xp.clip(g, -_NOISE_BOUND, _NOISE_BOUND)


# --------------------------------------------------------------------------------------------
# Scores whose argmax under Gumbel noise is a draw
# --------------------------------------------------------------------------------------------


def _last(xp: Any, a: Array, axis: int) -> Array:
    """``a`` with ``axis`` moved last."""
    if axis == a.ndim - 1:
        return a
    perm = (*(i for i in range(a.ndim) if i != axis), axis)
    return xp.permute_dims(a, perm)


def _restore(xp: Any, a: Array, axis: int) -> Array:
    """Undo :func:`_last`."""
    if axis == a.ndim - 1:
        return a
    perm = list(range(a.ndim - 1))
    perm.insert(axis, a.ndim - 1)
    return xp.permute_dims(a, tuple(perm))


def _scores(prep: Setup, axis: int) -> tuple[Array, Array, Array]:
    """Scores ``s`` (last axis = classes) with ``argmax(s + g)`` distributed as the map's
    probabilities, and the flags of rows holding NaN and of rows with nothing drawable.

    ``s = (x − max)/T`` on admissible classes and −inf elsewhere; rows at T = 0 keep 0 on
    their maxima, rows at T = inf 0 on every admissible class, rows holding +inf 0 on those.
    """
    xp = prep.xp
    x = _last(xp, prep.x, axis)
    ninf = full_like_scalar(xp, x, -math.inf)
    zero = full_like_scalar(xp, x, 0.0)
    if prep.mask is not None:
        x = xp.where(_last(xp, prep.mask, axis), x, ninf)
    nan = xp.isnan(x)
    nan_row = xp.any(nan, axis=-1)
    x = xp.where(nan, ninf, x)
    m = xp.max(x, axis=-1, keepdims=True)
    finite = xp.isfinite(x)
    m0 = xp.where(xp.isfinite(m), m, zero)
    temp = prep.temp
    shifted = xp.where(finite, x - m0, ninf)
    if temp.kind == "scalar":
        s = shifted / float(temp.value)
    elif temp.kind == "array":
        t = _last(xp, temp.value, axis)
        t_zero, t_inf = t == 0, t == math.inf
        s = shifted / xp.where(t_zero | t_inf, full_like_scalar(xp, t, 1.0), t)
        s = xp.where(t_zero, xp.where(x == m, zero, ninf), s)
        s = xp.where(t_inf, xp.where(finite, zero, ninf), s)
    elif temp.kind == "zero":
        s = xp.where(x == m, zero, ninf)
    elif temp.kind == "inf":
        s = xp.where(finite, zero, ninf)
    else:
        s = shifted
    s = xp.where(m == math.inf, xp.where(x == math.inf, zero, ninf), s)
    empty = xp.squeeze(m == -math.inf, axis=-1)
    return s, nan_row, empty


def _check_rows(prep: Setup, nan_row: Array, empty: Array, axis: int, fn: str) -> bool:
    """Raise naming the first row holding NaN or nothing drawable; False when the values
    cannot be inspected (traced or lazy), True otherwise."""
    if is_lazy(nan_row):
        return False
    bad_nan = host_copy(nan_row)
    bad_empty = host_copy(empty)
    for flags, why in ((bad_nan, "holds NaN"), (bad_empty, "has no drawable class (every "
                                                            "entry is -inf or masked)")):
        if np.any(flags):
            idx = [int(i) for i in np.argwhere(flags)[0]]
            idx.insert(axis, 0)
            where = row_position("logits", tuple(idx), (axis,))
            raise InvalidInputError(
                f"{fn}: row {where} {why}; every row needs at least one class with a finite "
                "or +inf logit that is not masked", "logits", tuple(idx), why,
            )
    return True


# --------------------------------------------------------------------------------------------
# Dask: one seeded stream per block
# --------------------------------------------------------------------------------------------


def _root_entropy(seed: Any, fn: str) -> Any:
    if isinstance(seed, np.random.SeedSequence):
        return seed.entropy
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return np.random.SeedSequence().entropy
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed)
    raise TypeError(
        f"{fn}: seed must be None, an int, a numpy.random.Generator or a SeedSequence for Dask "
        f"arrays, got {type(seed).__name__}"
    )


def _dask_blocks(fn: Callable[..., Any], prep: Setup, axis: int, seed: Any, name: str,
                 drop: bool, count: int | None, **kw: Any) -> Any:
    """Run ``fn`` (a public function of this module) on every block of whole rows, each with
    its own generator ``SeedSequence(entropy, spawn_key=block_index)``."""
    import dask.array as da

    if prep.temp.kind == "array":
        raise TypeError(f"{name}: an array temperature is not supported for Dask input; "
                        "pass a number")
    entropy = _root_entropy(seed, name)
    x = prep.raw.rechunk({axis: -1})
    extras = []
    if prep.mask is not None:
        extras.append(da.broadcast_to(da.asarray(prep.mask), x.shape).rechunk(x.chunks))
    t = {"one": 1.0, "zero": 0.0, "inf": math.inf}.get(prep.temp.kind, prep.temp.value)

    def run(block: Any, *others: Any, block_info: Any = None) -> Any:
        loc = tuple(block_info[0]["chunk-location"])
        gen = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=loc))
        where = others[0] if others else None
        return fn(block, seed=gen, axis=axis, temperature=t, where=where, **kw)

    if not drop:
        return da.map_blocks(run, x, *extras, dtype=prep.out_dtype,
                             meta=np.empty((0,) * x.ndim, dtype=prep.out_dtype))
    chunks = tuple(c for i, c in enumerate(x.chunks) if i != axis)
    if count is not None:
        return da.map_blocks(run, x, *extras, dtype=np.int64, drop_axis=axis, new_axis=0,
                             chunks=((count,), *chunks), meta=np.empty((0,) * x.ndim, np.int64))
    return da.map_blocks(run, x, *extras, dtype=np.int64, drop_axis=axis, chunks=chunks,
                         meta=np.empty((0,) * (x.ndim - 1), np.int64))


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


@quiet
def sample_categorical(
    logits: Any,
    n: int | None = None,
    *,
    seed: Any = None,
    axis: int = -1,
    temperature: Any = 1.0,
    where: Any = None,
) -> Array:
    r"""Draw class indices from ``softmax(logits / T)`` by the Gumbel-max trick.

    .. math:: I = \arg\max_i \left(\frac{x_i - \max_j x_j}{T} + g_i\right), \qquad
              g_i \sim \mathrm{Gumbel}(0, 1)\ \text{i.i.d.}, \qquad
              P(I = i) = \mathrm{softmax}(x / T)_i.

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities; any array-API array (NumPy, PyTorch, JAX, Dask, ...).
    n : int, optional
        Number of independent draws per row. None draws one, with the shape of ``logits``
        without ``axis``; an integer adds a leading axis of length ``n``.
    seed : optional
        The random stream, per array library (see the module docstring): NumPy Generator,
        SeedSequence or int; torch Generator or int; JAX PRNG key or int; None for fresh
        entropy (PyTorch: its global generator).
    axis : int, default -1
        The class axis (one axis: a draw is a position along it).
    temperature : float or array, default 1.0
        T ≥ 0, or an array broadcastable against ``logits`` with ``axis`` of length 1.
        T = 0 draws uniformly among each row's maxima (the hardmax distribution); T = inf
        uniformly among its admissible classes.
    where : array of bool, optional
        Classes that may be drawn; False entries never are.

    Returns
    -------
    array of int
        Indices along ``axis``, shape ``(n, *batch)`` (or ``batch`` when ``n`` is None),
        where ``batch`` is the shape of ``logits`` without ``axis``; int64 (JAX: its default
        integer).

    Raises
    ------
    InvalidInputError
        (a ValueError) naming the first row that holds NaN or has nothing to draw (every
        entry −inf or masked). Under ``jax.jit`` values cannot be inspected: such rows then
        give the index −1. With Dask the error is raised by the block that holds the row,
        when the result is computed.
    ValueError
        For ``n`` that is not a non-negative integer, and the usual ``axis`` /
        ``temperature`` / ``where`` errors.
    TypeError
        For a ``seed`` the array library cannot use.

    Notes
    -----
    Exact at the edges: a −inf or masked class has score −inf and is never drawn; if a row
    holds +inf classes, every other class is excluded and the noise picks one of them
    uniformly (the limit of the distribution along the ray, as :func:`softmax` shares their
    mass). The draws are exact up to the precision of the noise: float16/bfloat16 logits are
    computed in float32 (NumPy: float64). The noise is clipped to ±700, which moves no draw
    with probability above ``e^-700``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import sample_categorical
    >>> logits = np.log(np.array([0.2, 0.5, 0.3]))
    >>> draws = sample_categorical(logits, 100_000, seed=0)
    >>> np.round(np.bincount(draws) / 100_000, 2)
    array([0.2, 0.5, 0.3])
    >>> sample_categorical(np.array([[0.0, -np.inf, 1.0], [0.0, np.inf, 5.0]]), seed=1)
    array([2, 1])
    """
    fn = "sample_categorical"
    count = _check_n(n, fn)
    prep = setup(fn, logits, axis=axis, temperature=temperature, where=where, name="logits",
                 along=_WHY_AXIS)
    ax = prep.axes[0]
    if _dask.is_dask(prep.raw):
        return _dask_blocks(sample_categorical, prep, ax, seed, fn, True, count, n=count)
    xp = prep.xp
    s, nan_row, empty = _scores(prep, ax)
    concrete = _check_rows(prep, nan_row, empty, ax, fn)
    shape = tuple(s.shape) if count is None else (count, *s.shape)
    g = _gumbel(prep, shape, seed, fn)
    idx = xp.argmax(s + g, axis=-1)
    if not concrete:
        idx = xp.where(nan_row | empty, xp.asarray(-1, dtype=idx.dtype), idx)
    if is_tensor(prep.raw) or is_jax_array(prep.raw):
        return idx
    return xp.astype(idx, xp.int64)


def _relaxed(fn: str, soft_map: Callable[..., Any], logits: Any, tau: Any, hard: bool,
             seed: Any, axis: int, where: Any, public: Callable[..., Any]) -> Array:
    """The engine of :func:`gumbel_softmax` and :func:`gumbel_sparsemax`: ``soft_map(x + g)``
    at the relaxation temperature ``tau``, and with ``hard`` its one-hot argmax with the
    straight-through gradient."""
    if isinstance(hard, (bool, np.bool_)) is False:
        raise TypeError(f"{fn}: hard must be True or False, got {hard!r}")
    prep = setup(fn, logits, axis=axis, temperature=tau, where=where, name="logits",
                 along=_WHY_AXIS)
    ax = prep.axes[0]
    if _dask.is_dask(prep.raw):
        return _dask_blocks(public, prep, ax, seed, fn, False, None, hard=hard)
    xp = prep.xp
    raw = prep.raw
    g = _gumbel(prep, tuple(raw.shape), seed, fn)
    x = prep.x
    y_soft = soft_map(x + g, axis=ax, temperature=tau, where=prep.mask, dtype=prep.out_dtype)
    if not hard:
        return y_soft
    # The hard sample is the Gumbel-max draw with the same noise (the logits' own edge
    # rules: +inf classes share the draw uniformly), so y_hard = one_hot(argmax y_soft)
    # almost surely, and exactly for the limits.
    unit = setup(fn, x, axis=ax, temperature=1.0, where=prep.mask, name="logits")
    s, nan_row, empty = _scores(unit, ax)
    idx = xp.argmax(s + _last(xp, g, ax), axis=-1)
    k = s.shape[-1]
    classes = xp.arange(k, dtype=idx.dtype, device=device_of(idx))
    one_hot = xp.astype(classes == xp.expand_dims(idx, axis=-1), y_soft.dtype)
    one_hot = _restore(xp, one_hot, ax)
    # Rows with nothing to draw keep the soft map's value (zeros; NaN for NaN rows).
    ok = xp.expand_dims(~(nan_row | empty), axis=ax)
    y_hard = xp.where(ok, one_hot, y_soft)
    if is_tensor(y_soft):
        # Straight-through: the value is y_hard exactly (y_soft − y_soft.detach() is 0),
        # the gradient that of y_soft. Same as y_hard − y_soft.detach() + y_soft, whose
        # value can be off y_hard by an ulp.
        return y_hard + (y_soft - y_soft.detach())
    if is_jax_array(y_soft):
        from jax import lax

        return y_hard + (y_soft - lax.stop_gradient(y_soft))
    return y_hard


@quiet
def gumbel_softmax(
    logits: Any,
    temperature: Any = 1.0,
    *,
    hard: bool = False,
    seed: Any = None,
    axis: int = -1,
    where: Any = None,
) -> Array:
    r"""Gumbel-softmax (concrete) relaxation of a categorical draw, with straight-through.

    .. math:: y = \mathrm{softmax}\!\left(\frac{x + g}{\tau}\right), \qquad
              g_i \sim \mathrm{Gumbel}(0, 1)\ \text{i.i.d.}

    With ``hard=True`` the value is the one-hot vector of the Gumbel-max draw with the same
    noise, ``one_hot(argmax(x + g))``, and the gradient that of the soft ``y`` (the
    straight-through estimator ``y_hard − stop_gradient(y_soft) + y_soft``).

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities; any array-API array.
    temperature : float or array, default 1.0
        The relaxation temperature τ ≥ 0 (not a temperature of the logits): τ → 0 gives
        one-hot samples, τ = inf the uniform vector. Arrays broadcast as for :func:`softmax`.
    hard : bool, default False
        Return one-hot samples with the straight-through gradient.
    seed : optional
        As for :func:`sample_categorical` (NumPy Generator/int, torch Generator/int, JAX
        key/int; Dask: per-block streams).
    axis : int, default -1
        The class axis.
    where : array of bool, optional
        Classes that take part; False entries get exactly 0.

    Returns
    -------
    array
        Same shape, dtype and array kind as ``logits``; rows sum to 1.

    Notes
    -----
    The straight-through value is computed as ``y_hard + (y_soft − y_soft.detach())`` in
    PyTorch and ``y_hard + (y_soft − lax.stop_gradient(y_soft))`` in JAX: the same gradient as
    ``y_hard − y_soft.detach() + y_soft`` (``torch.nn.functional.gumbel_softmax``), and a value
    that is exactly one-hot. NumPy and other libraries return ``y_hard``. Edge cases follow
    :func:`softmax`: −inf and masked entries get 0, +inf entries share the soft mass (the
    hard draw picks one of them uniformly), a row with nothing admissible gives zeros and a
    NaN row NaN (both, hard or not: unlike :func:`sample_categorical`, nothing is raised).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import gumbel_softmax
    >>> y = gumbel_softmax(np.array([1.0, 2.0, -np.inf]), 0.5, seed=0)
    >>> float(y.sum()), float(y[2])
    (1.0, 0.0)
    >>> gumbel_softmax(np.array([1.0, 2.0, -np.inf]), 0.5, hard=True, seed=0)
    array([0., 1., 0.])
    """
    return _relaxed("gumbel_softmax", softmax, logits, temperature, hard, seed, axis, where,
                    gumbel_softmax)


@quiet
def gumbel_sparsemax(
    logits: Any,
    temperature: Any = 1.0,
    *,
    hard: bool = False,
    seed: Any = None,
    axis: int = -1,
    where: Any = None,
) -> Array:
    r"""The sparse analogue of :func:`gumbel_softmax`: sparsemax of the perturbed logits.

    .. math:: y = \mathrm{sparsemax}\!\left(\frac{x + g}{\tau}\right), \qquad
              g_i \sim \mathrm{Gumbel}(0, 1)\ \text{i.i.d.}

    The relaxed sample has exact zeros (as in the perturbed sparsemax relaxations of the
    literature); with ``hard=True`` the value is ``one_hot(argmax(x + g))``, the same
    Gumbel-max draw as :func:`gumbel_softmax` with that noise, and the gradient that of
    the sparse ``y``.

    Parameters
    ----------
    logits, temperature, hard, seed, axis, where
        As for :func:`gumbel_softmax`.

    Returns
    -------
    array
        Same shape, dtype and array kind as ``logits``; rows sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import gumbel_sparsemax
    >>> y = gumbel_sparsemax(np.array([0.0, 3.0, -np.inf]), 0.5, seed=0)
    >>> y.tolist()
    [0.0, 1.0, 0.0]
    """
    return _relaxed("gumbel_sparsemax", sparsemax, logits, temperature, hard, seed, axis,
                    where, gumbel_sparsemax)

