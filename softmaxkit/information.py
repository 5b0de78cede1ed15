r"""Information from logits: entropy, Kullback–Leibler and Jensen–Shannon divergences, and the
Tsallis entropies of the sparse maps.

Every function here reads a distribution the way the maps define it — ``p = softmax(x / T)``
along ``axis``, with ``where=`` and −inf entries excluded, +inf entries sharing the mass, T = 0
the hardmax limit and T = inf the uniform limit — and never forms a probability that could
underflow before taking its logarithm: log-probabilities come from
:func:`~softmaxkit.log_softmax` (accurate to a few ulp of themselves) and probabilities from
:func:`~softmaxkit.softmax` (accurate relative to themselves, also when tiny). Each result is a
sum of per-entry terms that are all ≥ 0, so nothing cancels in the sum and a divergence is
never negative:

* entropy: :math:`H = \sum_i p_i\,(-\log p_i)`;
* KL: :math:`\mathrm{KL}(p\,\|\,q) = \sum_i q_i\,\varphi(d_i)` with :math:`d_i = \log p_i -
  \log q_i` and :math:`\varphi(d) = (d - 1)e^d + 1 \ge 0` (:math:`q\varphi(d) = p\,d - p + q`;
  the terms ``− p + q`` sum to 0), by its Taylor series for :math:`|d| < 1`. The log-ratio d is
  taken from the kernel's exact split of ``(x − max)/T`` (:mod:`softmaxkit._base.kernel`), not
  from two rounded log-probabilities, so it keeps its own relative accuracy;
* JS: :math:`\tfrac14 \sum_i (p_i + q_i)\,F(s_i)` with :math:`s_i = \tanh(d_i/2)` and
  :math:`F(s) = (1+s)\log(1+s) + (1-s)\log(1-s) \ge 0`, evaluated as
  :math:`s|d| - \log(1 + s^2/(1-s^2))` for :math:`|s| < 1/2`.

The limits are exact: :math:`0 \log 0 = 0` (excluded entries add nothing), KL is +inf exactly
when p gives mass to an entry q excludes, and no NaN appears except in a row whose input holds
NaN. A row with no admissible entry (all masked or −inf) is the empty distribution: its entropy
and divergences are 0, and KL(p ‖ q) is +inf when p is not empty but q is.

Gradients: PyTorch tensors that require grad and JAX arrays under ``jax.grad`` differentiate
through the maps' closed-form rules; excluded entries, empty rows, rows holding +inf and the
T = 0 / T = inf limits get gradient 0, never NaN. The closed forms are public as
:func:`entropy_grad` and :func:`kl_divergence_grad`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base.arrays import device_of, first_index, host_copy, numpy_scalar, rany, rsum
from softmaxkit._base.core import (
    Setup,
    Temperature,
    finish,
    full_like_scalar,
    is_lazy,
    quiet,
    setup,
    squeeze_axes,
)
from softmaxkit._base.dispatch import is_jax_array, is_tensor
from softmaxkit._base.errors import InvalidProbabilityError, fmt_value, position
from softmaxkit._base.kernel import analyse
from softmaxkit.derivatives import forms
from softmaxkit.maps import log_softmax, softmax

__all__ = [
    "entropy",
    "entropy_grad",
    "js_divergence",
    "kl_divergence",
    "kl_divergence_grad",
    "tsallis_entropy",
]

Array = Any

_LOG2 = math.log(2.0)


# --------------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------------


def _as_array(x: Any) -> Any:
    if isinstance(x, (list, tuple, numbers.Number)) or (
        isinstance(x, np.generic) and not isinstance(x, np.ndarray)
    ):
        return np.asarray(x)
    return x


def _setup(fn: str, x: Any, axis: Any, temperature: Any, where: Any, dtype: Any,
           name: str = "logits") -> Setup:
    return setup(fn, x, axis=axis, temperature=temperature, where=where, dtype=dtype, name=name)


def _probs(s: Setup, temperature: Any, dt: Any = None) -> tuple[Array, Array]:
    """(p, log p) of ``softmax(x/T)`` in the compute dtype ``dt`` (the setup's by default)."""
    kw = {"axis": s.axes, "temperature": temperature, "where": s.mask,
          "dtype": s.compute_dtype if dt is None else dt}
    return softmax(s.raw, **kw), log_softmax(s.raw, **kw)


def _out(xp: Any, rows: Array, axes: tuple[int, ...], keepdims: bool, out_dtype: Any) -> Array:
    """Per-row results (kept dims) in the output dtype and shape; a 0-d NumPy result is a NumPy
    scalar, as :func:`~softmaxkit.logsumexp` returns it."""
    if not keepdims:
        rows = squeeze_axes(xp, rows, axes)
    return numpy_scalar(finish(xp, rows, out_dtype))


def _pair(fn: str, logits_p: Any, logits_q: Any, axis: Any, temperature: Any, where: Any,
          dtype: Any) -> tuple[Setup, Setup, Any]:
    """Set up two logit arrays of one shape (broadcast) and one namespace; the compute dtype
    is the wider of the two."""
    a, b = _as_array(logits_p), _as_array(logits_q)
    # A NumPy array beside another library's array joins that library, on its device.
    if isinstance(a, np.ndarray) and not isinstance(b, np.ndarray) and hasattr(b, "shape"):
        a = array_api_compat.array_namespace(b).asarray(a, device=device_of(b))
    if isinstance(b, np.ndarray) and not isinstance(a, np.ndarray) and hasattr(a, "shape"):
        b = array_api_compat.array_namespace(a).asarray(b, device=device_of(a))
    try:
        array_api_compat.array_namespace(a, b)
    except TypeError:
        raise TypeError(
            f"{fn}: logits_p ({type(a).__name__}) and logits_q ({type(b).__name__}) must be "
            "arrays of the same library"
        ) from None
    if tuple(a.shape) != tuple(b.shape):
        try:
            shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
        except ValueError:
            raise ValueError(
                f"{fn}: logits_p of shape {tuple(a.shape)} and logits_q of shape "
                f"{tuple(b.shape)} do not broadcast together"
            ) from None
        xp = array_api_compat.array_namespace(a, b)
        a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
    sa = _setup(fn, a, axis, temperature, where, dtype, "logits_p")
    sb = _setup(fn, b, axis, temperature, where, dtype, "logits_q")
    xp = sa.xp
    dt = xp.result_type(sa.compute_dtype, sb.compute_dtype)
    out_dt = xp.result_type(sa.out_dtype, sb.out_dtype) if dtype is None else sa.out_dtype
    return sa, sb, (dt, out_dt)


def _detached(a: Array) -> Array:
    """``a`` cut from autodiff (PyTorch, JAX): a value correction that carries no gradient."""
    if is_tensor(a):
        return a.detach()
    if is_jax_array(a):
        import jax

        return jax.lax.stop_gradient(a)
    return a


def _log_ratio(sa: Setup, sb: Setup, dt: Any, lp: Array, lq: Array) -> Array:
    r""":math:`d = \log p - \log q` on the entries both admit (0 elsewhere), to a few ulp of
    itself.

    ``lp − lq`` rounds each log-probability to an ulp of its own size first: for entries far
    below the maximum (log p ≈ −700) that is an error of ~700 ulp in a d of order 1. Here d is
    taken from the kernel's pieces instead, ``((x − m)/T)`` as an exact double word and the
    row's ``log1p`` of the other terms: :math:`d = (q_a - q_b) + (r_a - r_b) - (L_a - L_b)`,
    whose differences round once relative to d. The value is added to ``lp − lq`` as a
    correction without gradient, so autodiff still runs through the maps' closed-form rules;
    rows the kernel does not resolve by formula (empty, +inf, NaN, T = 0 or inf) keep
    ``lp − lq``.
    """
    xp, axes = sa.xp, sa.axes
    zero = full_like_scalar(xp, lp, 0.0)
    both = (lp > -math.inf) & (lq > -math.inf)
    base = xp.where(both, lp - lq, zero)
    parts = []
    regular = both
    for st in (sa, sb):
        x = _detached(xp.astype(st.raw, dt))
        temp = st.temp
        if temp.kind == "array":
            temp = Temperature("array", _detached(xp.astype(temp.value, dt)))
        pc = analyse(xp, x, axes, st.mask, temp)
        one = full_like_scalar(xp, pc.s, 1.0)
        big_l = xp.log1p(xp.where(pc.s > -1.0, pc.s, one))
        parts.append((pc.q, pc.r, big_l))
        rc = forms.classify_rows(xp, x, axes, mask=st.mask, temperature=temp)
        regular = regular & ~rc.dead & ~rc.nan
    (qa, ra, la), (qb, rb, lb) = parts
    fine = ((qa - qb) + (ra - rb)) - (la - lb)
    use = regular & xp.isfinite(fine)
    return base + xp.where(use, fine - _detached(base), zero)


def _dask_rows(fn: Any, arrays: list[Setup], temperature: Any, keepdims: bool, out_dtype: Any,
               *, reduce: bool = True, pick: int | None = None, **kw: Any) -> Any:
    """Run ``fn`` (this module's public function) on blocks of whole rows of Dask arrays: the
    reduced axes in one chunk, every block through the NumPy path (bit-identical to NumPy, and
    its floating-point warnings stay inside the library wherever the graph is computed).

    ``reduce``: the result has the reduced shape (else the input's); ``pick``: the item of a
    tuple result; ``temperature`` None: ``fn`` takes none.
    """
    import dask.array as da

    first = arrays[0]
    axes = first.axes
    whole = {a: -1 for a in axes}
    xs = [da.asarray(st.raw).rechunk(whole) for st in arrays]
    chunks = xs[0].chunks
    xs = [x.rechunk(chunks) for x in xs]
    extras: list[Any] = []
    names: list[str] = []
    if first.mask is not None:
        extras.append(da.broadcast_to(da.asarray(first.mask), xs[0].shape).rechunk(chunks))
        names.append("where")
    if temperature is not None and first.temp.kind == "array":
        t_chunks = tuple((1,) if i in axes else c for i, c in enumerate(chunks))
        extras.append(da.asarray(first.temp.value).rechunk(t_chunks))
        names.append("temperature")
    n_in = len(xs)

    def run(*blocks: Any) -> Any:
        args = {"axis": axes, "dtype": out_dtype, **kw}
        if reduce:
            args["keepdims"] = True
        if temperature is not None and "temperature" not in names:
            args["temperature"] = temperature
        args.update(zip(names, blocks[n_in:], strict=True))
        res = fn(*blocks[:n_in], **args)
        return res if pick is None else res[pick]

    meta = np.empty((0,) * len(chunks), dtype=out_dtype)
    if not reduce:
        return da.map_blocks(run, *xs, *extras, dtype=out_dtype, meta=meta)
    out_chunks = tuple((1,) * len(c) if i in axes else c for i, c in enumerate(chunks))
    out = da.map_blocks(run, *xs, *extras, dtype=out_dtype, chunks=out_chunks, meta=meta)
    return out if keepdims else da.squeeze(out, axis=axes)


def _keepdims(fn: str, keepdims: Any) -> bool:
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{fn}: keepdims must be True or False, got {keepdims!r}")
    return bool(keepdims)


# --------------------------------------------------------------------------------------------
# entropy
# --------------------------------------------------------------------------------------------


def _entropy_rows(xp: Any, p: Array, lp: Array, axes: tuple[int, ...]) -> Array:
    zero = full_like_scalar(xp, lp, 0.0)
    pos = p > 0
    # −p·log p with 0·log 0 = 0; log p is replaced before the product so that no 0·(−inf)
    # (a NaN, also in the backward pass) is ever formed.
    terms = -(p * xp.where(pos, lp, zero))
    rows = rsum(xp, terms, axes)
    return xp.where(rany(xp, xp.isnan(lp), axes), full_like_scalar(xp, rows, math.nan), rows)


@quiet
def entropy(
    logits: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
) -> Array:
    r"""Shannon entropy (in nats) of ``softmax(logits / T)``, from the logits.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad p = \operatorname{softmax}(x/T).

    Parameters
    ----------
    logits : array_like
        Any array-API array (NumPy, PyTorch, JAX, Dask, ...); integers promote to the default
        float.
    axis : int, tuple of int or None, default -1
        The axis or axes of one distribution (None: all axes).
    temperature : float or array, default 1.0
        T ≥ 0 as for :func:`~softmaxkit.softmax` (0: the hardmax limit, inf: uniform).
    where : array of bool, optional
        Entries that take part; the others have probability 0 and add nothing.
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    dtype : dtype, optional
        Output dtype (default: the input's floating dtype). float16/bfloat16 are accumulated
        in float32 (float64 on NumPy).

    Returns
    -------
    array
        The entropy of each row, ``0 ≤ H ≤ log n`` (n admissible entries).

    Notes
    -----
    Summed as :math:`\sum_i p_i\,(-\log p_i)` — terms ≥ 0, each with p from
    :func:`~softmaxkit.softmax` and :math:`\log p` from :func:`~softmaxkit.log_softmax`, so a
    nearly one-hot row keeps its relative accuracy (the textbook
    :math:`\operatorname{logsumexp}(z) - \langle p, z\rangle` cancels there).
    Edge cases: masked and −inf entries add 0 (:math:`0 \log 0 = 0`); k entries at +inf give
    ``log k``; T = 0 gives ``log k`` for k tied maxima, T = inf ``log n``; an empty row gives 0;
    a row holding NaN gives NaN. The gradient with respect to the logits is
    :func:`entropy_grad`, :math:`-p \odot (\log p + H)/T`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entropy
    >>> entropy(np.array([[0.0, 0.0, 0.0, 0.0], [0.0, -np.inf, 0.0, -np.inf]]))   # log 4, log 2
    array([1.38629436, 0.69314718])
    >>> entropy(np.array([0.0, -40.0]))          # 41·e^-40, not 0: no cancellation
    np.float64(1.7418252446695514e-16)
    >>> entropy(np.array([1.0, 2.0, 3.0]), temperature=0)
    np.float64(0.0)
    """
    fn = "entropy"
    keep = _keepdims(fn, keepdims)
    s = _setup(fn, logits, axis, temperature, where, dtype)
    if _dask.is_dask(s.raw):
        return _dask_rows(entropy, [s], temperature, keep, s.out_dtype)
    p, lp = _probs(s, temperature)
    rows = _entropy_rows(s.xp, p, lp, s.axes)
    return _out(s.xp, rows, s.axes, keep, s.out_dtype)


def _divisor(xp: Any, rc: Any) -> Any:
    return 1.0 if rc.divisor is None else rc.divisor


@quiet
def entropy_grad(
    logits: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""Gradient of :func:`entropy` with respect to the logits, in closed form.

    .. math:: \frac{\partial H}{\partial x_i} = -\frac{p_i\,(\log p_i + H)}{T}.

    Parameters
    ----------
    logits, axis, temperature, where, dtype
        As for :func:`entropy`.

    Returns
    -------
    array
        The shape of ``logits``. Excluded entries, empty rows, rows holding +inf and rows at
        T = 0 or T = inf (where the entropy is locally constant) get 0; a row holding NaN gets
        NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import entropy_grad
    >>> entropy_grad(np.array([0.0, 1.0, -np.inf]))
    array([ 0.19661193, -0.19661193,  0.        ])
    """
    fn = "entropy_grad"
    s = _setup(fn, logits, axis, temperature, where, dtype)
    if _dask.is_dask(s.raw):
        return _dask_rows(entropy_grad, [s], temperature, False, s.out_dtype, reduce=False)
    xp = s.xp
    p, lp = _probs(s, temperature)
    h = _entropy_rows(xp, p, lp, s.axes)
    zero = full_like_scalar(xp, lp, 0.0)
    pos = p > 0
    g = xp.where(pos, -(p * (xp.where(pos, lp, zero) + h)), zero)
    rc = forms.classify_rows(xp, s.x, s.axes, mask=s.mask, temperature=s.temp)
    g = xp.where(rc.dead, zero, g / _divisor(xp, rc))
    g = xp.where(xp.isnan(h), full_like_scalar(xp, g, math.nan), g)
    return finish(xp, g, s.out_dtype)


# --------------------------------------------------------------------------------------------
# Kullback–Leibler
# --------------------------------------------------------------------------------------------

# φ(d) = (d − 1)e^d + 1 = Σ_{k≥2} (k − 1)/k! d^k = d² Σ_j c_j d^j with c_j = (j + 1)/(j + 2)!:
# enough terms for |d| < 1 in float64 (c_18·1 < 2^-60), and in float32.
_PHI = [(j + 1) / math.factorial(j + 2) for j in range(19)]
_PHI32 = _PHI[:11]


def _phi_series(xp: Any, d: Array) -> Array:
    coeffs = _PHI if "float64" in str(d.dtype) else _PHI32
    acc = full_like_scalar(xp, d, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = acc * d + c
    return acc * (d * d)


def _kl_rows(xp: Any, p: Array, lp: Array, q: Array, lq: Array, d: Array,
             axes: tuple[int, ...]) -> Array:
    """KL per row (kept dims) as Σ q·φ(d), d = log p − log q, every term ≥ 0."""
    zero = full_like_scalar(xp, lp, 0.0)
    in_p = lp > -math.inf
    in_q = lq > -math.inf
    both = in_p & in_q
    small = xp.abs(d) < 1.0
    near = q * _phi_series(xp, xp.where(small, d, zero))
    # Away from 0: q·φ(d) = p(d − 1) + q, no cancellation for d ≥ 1 and at most a factor 3.8
    # for d ≤ −1; an entry outside p's support (p = 0) adds q.
    far = xp.where(in_p & (p > 0), p * (d - 1.0), zero) + q
    terms = xp.where(both & small, near, far)
    rows = rsum(xp, terms, axes)
    # An empty p has no mass to compare (the identity Σ q·φ(d) = Σ p·d needs Σ p = Σ q).
    rows = xp.where(rany(xp, in_p, axes), rows, full_like_scalar(xp, rows, 0.0))
    # p puts mass where q has none: +inf (the exact limit, also where p underflowed).
    outside = rany(xp, in_p & ~in_q, axes)
    rows = xp.where(outside, full_like_scalar(xp, rows, math.inf), rows)
    nan = rany(xp, xp.isnan(lp) | xp.isnan(lq), axes)
    return xp.where(nan, full_like_scalar(xp, rows, math.nan), rows)


def _pair_reading(public: Any, rows_of: Any, logits_p: Any, logits_q: Any, axis: Any,
                  temperature: Any, where: Any, keepdims: Any, dtype: Any) -> Array:
    """The body of a divergence of two softmax distributions: validate the pair, hand Dask
    arrays to ``public`` block by block, else ``rows_of(xp, p, log p, q, log q, d, axes)``
    with d the accurate ``log p − log q`` of :func:`_log_ratio`."""
    fn = public.__name__
    keep = _keepdims(fn, keepdims)
    sa, sb, (dt, out_dt) = _pair(fn, logits_p, logits_q, axis, temperature, where, dtype)
    if _dask.is_dask(sa.raw):
        return _dask_rows(public, [sa, sb], temperature, keep, out_dt)
    p, lp = _probs(sa, temperature, dt)
    q, lq = _probs(sb, temperature, dt)
    d = _log_ratio(sa, sb, dt, lp, lq)
    rows = rows_of(sa.xp, p, lp, q, lq, d, sa.axes)
    return _out(sa.xp, rows, sa.axes, keep, out_dt)


_PAIR_PARAMS = """logits_p, logits_q : array_like
        The logits of p and of q: arrays of one library whose shapes broadcast together.
    axis : int, tuple of int or None, default -1
        The axis or axes of one distribution (None: all axes).
    temperature : float or array, default 1.0
        T ≥ 0, applied to both: ``p = softmax(logits_p / T)``, ``q = softmax(logits_q / T)``
        (0: the hardmax limits, inf: the uniform ones).
    where : array of bool, optional
        Entries that take part in both distributions; −inf logits exclude an entry from one.
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    dtype : dtype, optional
        Output dtype (default: the wider of the two floating dtypes). float16/bfloat16 are
        accumulated in float32 (float64 on NumPy)."""


@quiet
def kl_divergence(
    logits_p: Any,
    logits_q: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
) -> Array:
    r"""Kullback–Leibler divergence KL(p ‖ q) (in nats) of two softmax distributions.

    .. math:: \mathrm{KL}(p\,\|\,q) = \sum_i p_i \log\frac{p_i}{q_i}, \qquad
              p = \operatorname{softmax}(a/T),\; q = \operatorname{softmax}(b/T).

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        KL ≥ 0 per row (never negative, never NaN unless an input row holds NaN).

    Notes
    -----
    Summed as :math:`\sum_i q_i\,\varphi(d_i)`, :math:`d = \log p - \log q`,
    :math:`\varphi(d) = (d-1)e^d + 1 \ge 0` — the same value as :math:`\sum_i p_i d_i` (the
    extra terms :math:`q_i - p_i` sum to 0), but a sum of non-negative terms.

    **Accuracy.** d is not formed as a difference of two rounded log-probabilities (which
    costs an ulp of :math:`|\log p_i|`, hundreds of ulp of d for entries far below the
    maximum) but from the kernel's exact split of ``(x − max)/T`` (see
    :mod:`softmaxkit._base.kernel`): :math:`d_i = (q_{a,i} - q_{b,i}) + (r_{a,i} - r_{b,i}) -
    (L_a - L_b)`, rounding once relative to :math:`d_i` plus an ulp of the row terms
    :math:`L = \log\sum_j e^{z_j - \max z}\in[0, \log n]`. Each term is then within a few
    ulp of :math:`q_i\varphi(d_i)`, and KL within a few ulp (≤ 8 against mpmath in the
    tests). Near 0, where :math:`\mathrm{KL} \approx \tfrac12\sum_i p_i d_i^2` is second
    order in d, the bound is absolute,
    :math:`|\Delta\mathrm{KL}| \lesssim 4\,\varepsilon\,(1 + \log n) \sum_i p_i |d_i| +
    8\,\varepsilon\,\mathrm{KL}`, a relative error of order
    :math:`\varepsilon \log n / \sqrt{\mathrm{KL}}` at worst (measured: 1e-13 relative at
    KL ≈ 1e-18). Peers that sum :math:`p_i(\log p_i - \log q_i)` of rounded logs
    (``torch.distributions.kl_divergence``, ``scipy.special.rel_entr``) lose all digits
    there and return negative values. Autodiff sees ``log p − log q`` (the correction carries
    no gradient).

    Edge cases: an entry excluded from both adds 0; mass of p where q has none (a −inf logit
    of q, or q's hardmax at T = 0) gives +inf; an empty p gives 0 (an empty q then too, since
    there is no mass to place), a non-empty p with an empty q +inf; a NaN in either row gives
    NaN. The gradient is :func:`kl_divergence_grad`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import kl_divergence
    >>> kl_divergence(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    np.float64(1.150420765208883)
    >>> kl_divergence(np.array([0.0, 0.0]), np.array([0.0, -np.inf]))   # q excludes entry 1
    np.float64(inf)
    >>> kl_divergence(np.array([0.0, -np.inf]), np.array([0.0, 0.0]))   # log 2
    np.float64(0.6931471805599453)
    """
    return _pair_reading(kl_divergence, _kl_rows, logits_p, logits_q, axis, temperature, where,
                         keepdims, dtype)


@quiet
def kl_divergence_grad(
    logits_p: Any,
    logits_q: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
) -> tuple[Array, Array]:
    r"""Gradients of :func:`kl_divergence` with respect to both logit arrays, in closed form.

    .. math:: \frac{\partial\,\mathrm{KL}}{\partial a_i} = \frac{p_i\,(d_i - \mathrm{KL})}{T},
              \qquad \frac{\partial\,\mathrm{KL}}{\partial b_i} = \frac{q_i - p_i}{T},
              \qquad d_i = \log\frac{p_i}{q_i}.

    Parameters
    ----------
    logits_p, logits_q, axis, temperature, where, dtype
        As for :func:`kl_divergence`.

    Returns
    -------
    (array, array)
        The gradients with respect to ``logits_p`` and ``logits_q`` (their broadcast shape).
        Rows where KL is +inf (constant under finite moves of the logits), rows where a
        distribution is locally constant (empty, holding +inf, T = 0 or inf: that side's
        gradient) and excluded entries get 0; a row holding NaN gets NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import kl_divergence_grad
    >>> ga, gb = kl_divergence_grad(np.array([0.0, 0.0]), np.array([0.0, np.log(3.0)]))
    >>> ga, gb
    (array([ 0.27465307, -0.27465307]), array([-0.25,  0.25]))
    """
    fn = "kl_divergence_grad"
    sa, sb, (dt, out_dt) = _pair(fn, logits_p, logits_q, axis, temperature, where, dtype)
    if _dask.is_dask(sa.raw):
        return tuple(_dask_rows(kl_divergence_grad, [sa, sb], temperature, False, out_dt,
                                reduce=False, pick=i) for i in (0, 1))  # type: ignore[return-value]
    xp, axes = sa.xp, sa.axes
    p, lp = _probs(sa, temperature, dt)
    q, lq = _probs(sb, temperature, dt)
    d = _log_ratio(sa, sb, dt, lp, lq)
    kl = _kl_rows(xp, p, lp, q, lq, d, axes)
    zero = full_like_scalar(xp, lp, 0.0)
    both = (lp > -math.inf) & (lq > -math.inf)
    finite = kl < math.inf
    kl0 = xp.where(finite, kl, full_like_scalar(xp, kl, 0.0))
    ga = xp.where(both & (p > 0), p * (d - kl0), zero)
    # KL is 0 whatever q when p is empty
    gb = xp.where(rany(xp, lp > -math.inf, axes), q - p, zero)
    nan = xp.isnan(kl)
    out = []
    for g, s in ((ga, sa), (gb, sb)):
        rc = forms.classify_rows(xp, xp.astype(s.x, dt), axes, mask=s.mask, temperature=s.temp)
        g = xp.where(rc.dead | ~finite, zero, g / _divisor(xp, rc))
        g = xp.where(nan, full_like_scalar(xp, g, math.nan), g)
        out.append(finish(xp, g, out_dt))
    return out[0], out[1]


# --------------------------------------------------------------------------------------------
# Jensen–Shannon
# --------------------------------------------------------------------------------------------


def _js_rows(xp: Any, p: Array, lp: Array, q: Array, lq: Array, d: Array,
             axes: tuple[int, ...]) -> Array:
    zero = full_like_scalar(xp, lp, 0.0)
    in_p = lp > -math.inf
    in_q = lq > -math.inf
    ad = xp.abs(d)
    s_all = xp.tanh(ad / 2.0)
    # One of p, q without mass here, or s rounded to 1: F(1) = 2 log 2 (the formulas would
    # form 0·log 0 = 0·(−inf)).
    full = (in_p != in_q) | (s_all >= 1.0)
    s = xp.where(full, zero, s_all)
    # Near 0, F = log(1 − s²) + 2s·artanh(s) with artanh(s) = |d|/2 exactly, and the log as
    # −log1p(s²/(1 − s²)): a log1p of a positive argument (XLA's log1p on CPU is ~100 ulp off
    # on (−0.5, 0)).
    near = s * ad - xp.log1p((s * s) / (1.0 - s * s))
    far = (1.0 + s) * xp.log1p(s) + (1.0 - s) * xp.log1p(-s)
    f = xp.where(s < 0.5, near, far)
    f = xp.where(full, full_like_scalar(xp, f, 2.0 * _LOG2), f)
    terms = (p + q) * f / 4.0
    rows = rsum(xp, terms, axes)
    nan = rany(xp, xp.isnan(lp) | xp.isnan(lq), axes)
    return xp.where(nan, full_like_scalar(xp, rows, math.nan), rows)


@quiet
def js_divergence(
    logits_p: Any,
    logits_q: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
) -> Array:
    r"""Jensen–Shannon divergence (in nats) of two softmax distributions.

    .. math:: \mathrm{JS}(p, q) = \tfrac12\,\mathrm{KL}(p\,\|\,m) + \tfrac12\,\mathrm{KL}(q\,\|
              \,m), \qquad m = \tfrac12 (p + q).

    Symmetric, bounded by log 2, finite for any pair (also disjoint supports); its square
    root is a metric (``scipy.spatial.distance.jensenshannon`` returns that root).

    Parameters
    ----------
    {params}

    Returns
    -------
    array
        ``0 ≤ JS ≤ log 2`` per row.

    Notes
    -----
    Summed per entry as :math:`\tfrac14 (p_i + q_i)\,F(s_i)`, :math:`s_i = \tanh(d_i/2)` with
    :math:`d = \log p - \log q`, :math:`F(s) = (1+s)\log(1+s) + (1-s)\log(1-s) \ge 0`
    (for :math:`|s| < 1/2` as :math:`s\,|d| - \log(1 + s^2/(1 - s^2))`, that is
    :math:`\log(1-s^2) + 2s\operatorname{artanh} s`, which loses at most one bit): terms
    ≥ 0, no cancellation in the sum, and d as accurate as in :func:`kl_divergence`, so is the
    result (a few ulp; near 0 the absolute bound of :func:`kl_divergence`). An entry in one
    support only adds :math:`\tfrac12 p_i \log 2` (or q's); two empty rows give 0; NaN gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import js_divergence
    >>> js_divergence(np.array([0.0, -np.inf]), np.array([-np.inf, 0.0]))   # log 2
    np.float64(0.6931471805599453)
    >>> js_divergence(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    np.float64(0.2475880715384058)
    """
    return _pair_reading(js_divergence, _js_rows, logits_p, logits_q, axis, temperature, where,
                         keepdims, dtype)


# --------------------------------------------------------------------------------------------
# Tsallis
# --------------------------------------------------------------------------------------------


def _check_alpha(fn: str, alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{fn}: alpha must be a real number > 0, got {alpha!r}")
    a = float(alpha)
    if not (a > 0 and math.isfinite(a)):
        raise ValueError(f"{fn}: alpha={a!r} is invalid; expected a finite number > 0")
    return a


@quiet
def tsallis_entropy(
    p: Any,
    /,
    *,
    alpha: float = 1.5,
    axis: int | tuple[int, ...] | None = -1,
    where: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
) -> Array:
    r"""Tsallis α-entropy of probabilities: the regulariser of the entmax family.

    .. math:: H_\alpha(p) = \frac{1}{\alpha(\alpha - 1)} \sum_i \bigl(p_i - p_i^\alpha\bigr)
              \quad (\alpha \ne 1), \qquad H_1(p) = -\sum_i p_i \log p_i,

    the convention of Blondel, Martins & Niculae (2020) and of the ``entmax`` package:
    :math:`\operatorname{entmax}_\alpha(z) = \arg\max_{p \in \Delta} \langle z, p\rangle +
    H_\alpha(p)`. α = 1 is Shannon's entropy (softmax), α = 2 the Gini entropy
    :math:`\tfrac12(1 - \lVert p\rVert^2)` (sparsemax), α = 1.5 entmax15's.

    It takes probabilities, not logits: a sparse map's output has exact zeros, and the value
    of interest is the entropy of that output, ``tsallis_entropy(entmax(x, alpha=a), alpha=a)``
    (for softmax, :func:`entropy` from the logits is more accurate).

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1] (any array-API array). Rows need not sum to 1: the sum is the
        regulariser on the non-negative orthant.
    alpha : float, default 1.5
        α > 0, finite.
    axis : int, tuple of int or None, default -1
        The axis or axes of one distribution.
    where : array of bool, optional
        Entries that take part (the others add 0).
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    dtype : dtype, optional
        Output dtype; float16/bfloat16 are accumulated in float32 (float64 on NumPy).

    Returns
    -------
    array
        :math:`H_\alpha \ge 0` per row.

    Raises
    ------
    InvalidProbabilityError
        For an entry that is negative, greater than 1 or infinite (its position named); with
        lazy arrays (Dask, traced JAX) such a row gives NaN instead.

    Notes
    -----
    Each term :math:`p - p^\alpha = -p\,\operatorname{expm1}((\alpha-1)\log p)` is computed
    without cancellation (also for p near 1), and 0 adds 0. A row holding NaN gives NaN. Under
    autograd the derivative at :math:`p_i = 0` is the one-sided limit
    :math:`1/(\alpha(\alpha-1))` for α > 1.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import tsallis_entropy, sparsemax
    >>> tsallis_entropy(np.array([0.5, 0.5, 0.0]), alpha=2)       # (1 − 0.5)/2
    np.float64(0.25)
    >>> tsallis_entropy(sparsemax(np.array([0.0, 0.5, 2.0])), alpha=2)   # one-hot: 0
    np.float64(0.0)
    >>> tsallis_entropy(np.array([0.25, 0.75]), alpha=1)          # Shannon
    np.float64(0.5623351446188083)
    """
    fn = "tsallis_entropy"
    a = _check_alpha(fn, alpha)
    keep = _keepdims(fn, keepdims)
    s = setup(fn, p, axis=axis, where=where, dtype=dtype, name="p")
    if _dask.is_dask(s.raw):
        return _dask_rows(tsallis_entropy, [s], None, keep, s.out_dtype, alpha=a)
    xp, axes = s.xp, s.axes
    pc = s.x
    zero = full_like_scalar(xp, pc, 0.0)
    if s.mask is not None:
        pc = xp.where(s.mask, pc, zero)
    bad = (pc < 0) | (pc > 1)
    lazy = is_lazy(s.raw)
    if not lazy:
        idx = first_index(xp, bad)
        if idx is not None:
            v = float(host_copy(s.raw)[idx])
            what = "is negative" if v < 0 else "is greater than 1"
            reason = f"{fmt_value(v, str(s.raw.dtype).rsplit('.', 1)[-1])} {what}; " \
                     "probabilities must be in [0, 1]"
            raise InvalidProbabilityError(f"{fn}: {position('p', idx)} = {reason}",
                                          "greater" if v > 1 else "entry", idx, reason)
    pos = pc > 0
    one = full_like_scalar(xp, pc, 1.0)
    logp = xp.log(xp.where(pos, pc, one))
    if a == 1.0:
        terms = -(pc * logp)
    else:
        # g = 1 − p^(α−1), with its limit at p = 0 (1 for α > 1) so that the derivative of
        # p·g there is that limit, not 0 or NaN.
        g = -xp.expm1((a - 1.0) * logp)
        limit = 1.0 if a > 1 else -math.inf
        g = xp.where(pos, g, full_like_scalar(xp, pc, limit))
        terms = xp.where(pos | (a > 1), pc * g, zero) / (a * (a - 1.0))
    rows = rsum(xp, terms, axes)
    flag = rany(xp, xp.isnan(pc), axes)
    if lazy:
        flag = flag | rany(xp, bad, axes)
    rows = xp.where(flag, full_like_scalar(xp, rows, math.nan), rows)
    return _out(xp, rows, axes, keep, s.out_dtype)


for _fn in (kl_divergence, js_divergence):
    _fn.__doc__ = (_fn.__doc__ or "").replace("{params}", _PAIR_PARAMS)
del _fn
