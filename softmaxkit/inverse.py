r"""Inverses of softmax: the logits back from the probabilities, with the constant made explicit.

Softmax forgets a constant per row: ``softmax(x + c, temperature=T) == softmax(x,
temperature=T)``. Every logit vector with ``softmax(x, temperature=T) == p`` is

.. math:: x_i = T \log p_i + c,

and :func:`inverse_softmax` makes the choice of ``c`` (the *gauge*) an argument:

=============  ==========================================================  =====================
gauge          the constant is fixed by                                    also known as
=============  ==========================================================  =====================
``center``     the finite logits have mean ``value``                       clr (compositional)
``reference``  the logit at index ``reference`` equals ``value``           alr, base category
``sum``        the finite logits sum to ``value``
``logsumexp``  ``logsumexp(x, temperature=T) == value``                    ``T·log p`` at 0
=============  ==========================================================  =====================

The *base-state* form fixes one logit at 0 once and for all and drops it, which makes softmax a
bijection between :math:`\bar{\mathbb{R}}^{n-1}` and the simplex :math:`\Delta^n`:
:func:`base_softmax` (forward), :func:`base_logits` (its exact inverse) and the log-determinants
of their Jacobians, :func:`base_softmax_log_det_jacobian` and
:func:`base_logits_log_det_jacobian`, for densities pushed through the map.

Validation (of NumPy, PyTorch, CuPy and array-API-strict input) names the position and the
value of the first bad entry. Lazy arrays — Dask, and JAX (whose arrays may be traced under
``jit``, so the library never reads their values) — are not inspected: a row that fails a
check (a NaN, infinite, negative or > 1 entry, a sum off 1, a zero at the reference, a
temperature of 0 or inf in an array) comes out NaN instead of raising.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base.arrays import (
    delete,
    device_of,
    first_index,
    host_copy,
    insert,
    rany,
    rsum,
    take,
)
from softmaxkit._base.core import (
    Setup,
    Temperature,
    dtype_name,
    finish,
    full_like_scalar,
    index_in,
    is_lazy,
    quiet,
    reduced_shape,
    setup,
    squeeze_axes,
)
from softmaxkit._base.errors import InvalidProbabilityError, fmt_value, position, row_position
from softmaxkit.maps import log_softmax, logsumexp, softmax

__all__ = [
    "base_logits",
    "base_logits_log_det_jacobian",
    "base_softmax",
    "base_softmax_log_det_jacobian",
    "inverse_softmax",
]

Array = Any

GAUGES = ("center", "reference", "sum", "logsumexp")
CONVENTIONS = ("free", "tfp")

# Default row-sum tolerance, in units of n·eps of the dtype of p. Probabilities that a softmax
# computed within 2 ulp sum to 1 within 2·eps; a sum of n terms accumulated in the same dtype
# adds up to (n − 1)·eps/2 more. 4·n·eps covers both with room for one more rounding upstream
# (e.g. a division by a row total) and still catches any genuinely unnormalised row.
_ATOL_FACTOR = 4.0


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _invertible(temp: Temperature, xp: Any, *, fn: str, lazy: bool) -> float | Array:
    """The parsed temperature as a finite positive float or an array of the reduced shape.

    At T = 0 softmax is hardmax and at T = inf the uniform distribution: both forget the
    logits, so no inverse exists there.
    """
    hint = "the map is not invertible at that temperature"
    if temp.kind == "one":
        return 1.0
    if temp.kind == "scalar":
        return float(temp.value)
    if temp.kind == "zero":
        raise ValueError(
            f"{fn}: temperature=0 is not allowed: softmax at T = 0 is hardmax, which keeps only "
            f"the position of the maximum; {hint}; use a temperature > 0"
        )
    if temp.kind == "inf":
        raise ValueError(
            f"{fn}: temperature=inf is not allowed: softmax at T = inf is uniform whatever the "
            f"logits; {hint}; use a finite temperature"
        )
    t = temp.value
    if not lazy:
        idx = first_index(xp, (t == 0) | xp.isinf(t))
        if idx is not None:
            bad = float(host_copy(t)[idx])
            raise ValueError(
                f"{fn}: temperature{list(idx)} = {bad!r} is not allowed ({hint}); "
                "temperatures must be finite and > 0"
            )
    return t


def _times(t: float | Array, a: Array) -> Array:
    return a if isinstance(t, float) and t == 1.0 else t * a


def _log_t(xp: Any, t: float | Array) -> float | Array:
    return math.log(t) if isinstance(t, float) else xp.log(t)


# --------------------------------------------------------------------------------------------
# validation of probabilities
# --------------------------------------------------------------------------------------------


@dataclass
class _LogP:
    """Validated probabilities, as logs, with the :class:`Setup` they were checked under."""

    entry: Setup  # p's entry record: namespace, dtypes, reduced axes, mask
    t: float | Array  # finite positive temperature, float or reduced-shape array
    logp: Array  # log p in the compute dtype; −inf at zeros and masked entries
    finite: Array  # logp > −inf
    lazy: bool
    bad_rows: Array | None  # lazy input: rows that failed a check, to be set to NaN


def _validated_log(
    fn: str,
    s: Setup,
    *,
    atol: Any,
    normalize: bool,
    advice_sum: str,
) -> _LogP:
    """Check ``p`` (entries, row sums, an invertible temperature) and return its logs."""
    xp, raw, axes, mask = s.xp, s.raw, s.axes, s.mask
    shape = s.shape
    lazy = is_lazy(raw)
    dev = s.device
    t = _invertible(s.temp, xp, fn=fn, lazy=lazy)
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"{fn}: normalize must be True or False, got {normalize!r}")
    in_name = dtype_name(raw.dtype)
    eps_name = in_name if in_name.startswith("float") or in_name == "bfloat16" else None
    tol = _tolerance(fn, atol, eps_name or dtype_name(s.out_dtype), shape, axes)

    pc = s.x
    zero = full_like_scalar(xp, pc, 0.0)
    if mask is not None:
        # Masked entries take no part: whatever they hold is ignored.
        pc = xp.where(mask, pc, zero)
    entries = _entry_checks(xp, pc, normalize)
    rows, total = _row_check(xp, pc, mask, axes, tol, normalize)
    if math.prod(shape[a] for a in axes) == 0:
        rows = xp.zeros(total.shape, dtype=xp.bool, device=dev)  # rows of no entries are empty
    bad_rows = None
    if lazy:
        # Values cannot be inspected without computing them: a row that fails a check becomes
        # NaN instead of raising (the same rule as a NaN entry in the maps).
        bad_rows = rows
        for cond, _, _ in entries:
            bad_rows = bad_rows | rany(xp, cond, axes)
        if not isinstance(t, float):
            bad_rows = bad_rows | (t == 0) | xp.isinf(t)
    else:
        _raise_entries(fn, xp, pc, in_name, entries)
        _raise_rows(fn, xp, rows, total, axes, tol, normalize, advice_sum)
    pos = pc > 0
    one = full_like_scalar(xp, pc, 1.0)
    logp = xp.where(pos, xp.log(xp.where(pos, pc, one)), full_like_scalar(xp, pc, -math.inf))
    return _LogP(s, t, logp, pos, lazy, bad_rows)


def _tolerance(
    fn: str, atol: Any, dtype_name: str, shape: tuple[int, ...], axes: tuple[int, ...]
) -> float:
    if atol is not None:
        if isinstance(atol, bool) or not isinstance(atol, numbers.Real):
            raise TypeError(f"{fn}: atol must be a number >= 0, got {atol!r}")
        value = float(atol)
        if math.isnan(value) or value < 0:
            raise ValueError(f"{fn}: atol={value!r} is invalid; expected a number >= 0")
        return value
    n = math.prod(shape[a] for a in axes)
    try:
        eps = float(np.finfo(np.dtype(dtype_name)).eps)
    except TypeError:  # pragma: no cover - a dtype NumPy does not know
        eps = float(np.finfo(np.float32).eps)
    return _ATOL_FACTOR * max(n, 1) * eps


_Check = tuple[Array, str, str]


def _entry_checks(xp: Any, pc: Array, normalize: bool) -> list[_Check]:
    """(bad entries, what is wrong, advice): NaN, infinite, negative, > 1 unless normalising."""
    checks: list[_Check] = [
        (xp.isnan(pc), "is NaN; probabilities must be numbers in [0, 1]", ""),
        (xp.isinf(pc), "is infinite; probabilities must be in [0, 1]", ""),
        (pc < 0, "is negative; probabilities must be in [0, 1]", ""),
    ]
    if not normalize:
        checks.append(
            (
                pc > 1,
                "is greater than 1; probabilities must be in [0, 1]",
                " (weights that are not normalised need normalize=True)",
            )
        )
    return checks


def _raise_entries(fn: str, xp: Any, pc: Array, in_name: str, checks: list[_Check]) -> None:
    """Raise for the first bad entry of the first failed check, naming position and value."""
    for cond, text, advice in checks:
        idx = first_index(xp, cond)
        if idx is not None:
            v = fmt_value(float(host_copy(pc)[idx]), in_name)
            reason = f"{v} {text}"
            kind = "greater" if advice else "entry"
            raise InvalidProbabilityError(
                f"{fn}: {position('p', idx)} = {reason}{advice}",
                kind, idx, reason,
            )


def _row_check(
    xp: Any, pc: Array, mask: Array | None, axes: tuple[int, ...], tol: float, normalize: bool
) -> tuple[Array, Array]:
    """(bad rows, row sums): a row with an admissible entry must sum to 1 within ``tol``, or
    to more than 0 when normalising. A row whose entries are all masked is empty, not bad:
    its logits are all −inf, like softmax's empty row."""
    total = rsum(xp, pc, axes)
    if normalize:
        bad = ~(total > 0)
    else:
        bad = ~(xp.abs(total - 1.0) <= tol)  # NaN sums are bad too
    if mask is not None:
        bad = bad & rany(xp, mask, axes)
    return bad, total


def _raise_rows(
    fn: str,
    xp: Any,
    bad: Array,
    total: Array,
    axes: tuple[int, ...],
    tol: float,
    normalize: bool,
    advice_sum: str,
) -> None:
    idx = first_index(xp, bad)
    if idx is None:
        return
    s = float(host_copy(total)[idx])
    if normalize:
        reason = "the entries sum to 0 and cannot be normalised; a distribution needs mass"
        raise InvalidProbabilityError(
            f"{fn}: row {row_position('p', idx, axes)}: {reason}",
            "empty", idx, reason,
        )
    reason = (
        f"the probabilities sum to {s!r}, not 1 (|sum - 1| = {abs(s - 1):.3g} > atol = {tol:.3g})"
    )
    message = f"{fn}: row {row_position('p', idx, axes)}: {reason}; {advice_sum}"
    raise InvalidProbabilityError(message, "sum", idx, reason)


def _parse_value(
    fn: str, value: Any, xp: Any, shape: tuple[int, ...], like: Array, lazy: bool
) -> float | Array:
    """The gauge value: a finite number, or an array broadcastable to the reduced shape."""
    if isinstance(value, bool):
        raise TypeError(f"{fn}: value must be a finite number, got {value!r}")
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{fn}: value={v!r} is invalid; the gauge value must be finite")
        return v
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if not array_api_compat.is_array_api_obj(value):
        raise TypeError(
            f"{fn}: value must be a finite number or an array of them, got {type(value).__name__}"
        )
    if isinstance(value, np.ndarray) and not isinstance(like, np.ndarray):
        arr = xp.asarray(value, dtype=like.dtype, device=device_of(like))
    else:
        arr = xp.astype(value, like.dtype)
    try:
        target = np.broadcast_shapes(tuple(arr.shape), shape)
    except ValueError:
        target = None
    if target != tuple(shape):
        raise ValueError(
            f"{fn}: value of shape {tuple(arr.shape)} does not broadcast against the reduced "
            f"shape {tuple(shape)} (the input's shape with the reduced axes kept as length 1)"
        )
    if not lazy:
        idx = first_index(xp, ~xp.isfinite(xp.broadcast_to(arr, shape)))
        if idx is not None:
            bad = float(host_copy(xp.broadcast_to(arr, shape))[idx])
            raise ValueError(f"{fn}: value{list(idx)} = {bad!r} is invalid; it must be finite")
    return xp.broadcast_to(arr, shape)


# --------------------------------------------------------------------------------------------
# inverse_softmax
# --------------------------------------------------------------------------------------------


def _check_gauge(fn: str, gauge: Any) -> str:
    if not isinstance(gauge, str) or gauge not in GAUGES:
        valid = ", ".join(repr(g) for g in GAUGES)
        raise ValueError(f"{fn}: gauge={gauge!r} is not a gauge; expected one of {valid}")
    return gauge


def _inverse(
    fn: str,
    s: Setup,
    *,
    gauge: str,
    ref: tuple[int, int] | None,
    value: Any,
    atol: Any,
    normalize: bool,
    reference_name: str = "reference",
    advice_sum: str = "pass normalize=True to divide each row by its sum, or a larger atol",
    advice_reference: str = "use gauge='center', or a reference where every row is positive",
) -> Array:
    """inverse_softmax of the validated input ``s``, in the compute dtype.

    ``ref`` is ``(axis, index)`` of the reference entry for ``gauge="reference"`` (checked by
    the caller against ``p``'s shape), else None.
    """
    lp = _validated_log(fn, s, atol=atol, normalize=normalize, advice_sum=advice_sum)
    xp, axes, t, logp, finite = s.xp, s.axes, lp.t, lp.logp, lp.finite
    shape = tuple(logp.shape)
    red = reduced_shape(shape, axes)
    val = _parse_value(fn, value, xp, red, logp, lp.lazy)
    zero_r = xp.zeros(red, dtype=logp.dtype, device=device_of(logp))
    count = rsum(xp, xp.astype(finite, logp.dtype), axes)
    has = count > 0
    safe_count = xp.where(has, count, zero_r + 1.0)

    # x = T·(log p − m) + v with a shift m in log space per row: subtracting first makes the
    # shared part of the logs cancel exactly (equal probabilities give exactly v, the reference
    # gives exactly v), and the only roundings left scale with |log p − m| and |x|.
    v: Any = val
    if gauge in ("center", "sum"):
        # log p ≤ 0 for probabilities: the sum does not cancel, so the mean is accurate.
        m = rsum(xp, xp.where(finite, logp, full_like_scalar(xp, logp, 0.0)), axes)
        m = m / safe_count
        if gauge == "sum":
            v = val / safe_count
    elif gauge == "logsumexp":
        # logsumexp(T·(log p − L) + v, T) = T·(log Σp − L) + v = v with L = log Σp (≈ 0, or
        # the row total's log when normalising), from the library's accurate logsumexp.
        m = logsumexp(logp, axis=axes, keepdims=True) if axes else logp
    else:  # reference
        assert ref is not None  # checked by the caller for this gauge
        ref_axis, ref_index = ref
        m = take(xp, logp, ref_axis, ref_index)
        if not lp.lazy:
            idx = first_index(xp, ~(m > -math.inf))
            if idx is not None:
                full = tuple(ref_index if k == ref_axis else i for k, i in enumerate(idx))
                state = "= 0"
                if s.mask is not None and not bool(host_copy(s.mask)[full]):
                    state = "is masked"
                consequence = (
                    "the log-odds against the base do not exist"
                    if reference_name == "base"
                    else "its logit would be -inf, and no constant makes it finite"
                )
                reason = (
                    f"{position('p', full)} {state} at the {reference_name} index {ref_index} "
                    f"(row {row_position('p', full, axes)}): {consequence}"
                )
                raise InvalidProbabilityError(
                    f"{fn}: {reason}; {advice_reference}", "reference", full, reason
                )
        elif lp.bad_rows is not None:
            lp.bad_rows = lp.bad_rows | ~(m > -math.inf)
    # Rows without a finite logit need no shift; a lazy row with a zero at the reference has
    # m = −inf (it is set to NaN below): 0 keeps inf − inf warnings out of deferred work.
    m = xp.where(has & xp.isfinite(m), m, zero_r)
    x = _times(t, logp - m)
    if not (isinstance(v, float) and v == 0.0):
        x = x + v
    x = xp.where(finite, x, full_like_scalar(xp, x, -math.inf))
    if lp.bad_rows is not None:
        x = xp.where(lp.bad_rows, full_like_scalar(xp, x, math.nan), x)
    return x


@quiet
def inverse_softmax(
    p: Any,
    /,
    *,
    axis: int | tuple[int, ...] | None = -1,
    temperature: Any = 1.0,
    gauge: str = "center",
    reference: int = 0,
    value: Any = 0.0,
    atol: float | None = None,
    normalize: bool = False,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""Logits ``x`` with ``softmax(x, temperature=T) == p``, the free constant fixed by a gauge.

    .. math:: x_i = T \log p_i + c \quad (\text{one } c \text{ per row}),

    where the gauge fixes ``c`` (sums and means run over the finite logits :math:`F`, i.e. the
    entries with :math:`p_i > 0` that are not masked; :math:`k = |F|`):

    * ``"center"``: :math:`\frac1k\sum_F x_i = v`, so
      :math:`x_i = T(\log p_i - \frac1k\sum_F \log p_j) + v`: at ``T=1, v=0`` the centred
      log-ratio (clr) of compositional data analysis;
    * ``"reference"``: :math:`x_r = v` for ``r = reference``, so
      :math:`x_i = T(\log p_i - \log p_r) + v`: at ``v=0`` the additive log-ratio (alr) with a
      zero at ``r`` (a base category);
    * ``"sum"``: :math:`\sum_F x_i = v` (the centred logits plus ``v/k``);
    * ``"logsumexp"``: ``logsumexp(x, temperature=T) == v``, so
      :math:`x_i = T \log p_i + v` (less :math:`T\log\sum p`, which is 0 for a normalised row).

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1], each row summing to 1 along ``axis``; any array-API array.
    axis : int, tuple of int or None, default -1
        Axis or axes that hold a distribution (as for :func:`softmaxkit.softmax`).
    temperature : float or array, default 1.0
        T > 0 and finite, or an array of them broadcastable against the reduced shape.
        T = 0 (hardmax) and T = inf (uniform) forget the logits: ``ValueError``.
    gauge : {"center", "reference", "sum", "logsumexp"}, default "center"
        How the constant is chosen (above).
    reference : int, default 0
        For ``gauge="reference"``: the position along ``axis`` (negative counts from the end)
        whose logit is set to ``value``. Needs a single ``axis`` and ``p > 0`` there in every
        row.
    value : float or array, default 0.0
        The gauge's value ``v``: a finite number, or an array broadcastable against the
        reduced shape (one per row).
    atol : float, optional
        Tolerance of the check ``|Σ p - 1| <= atol`` per row. Default ``4·n·eps`` with ``n``
        the row length and ``eps`` the machine epsilon of ``p``'s dtype (the default float for
        integer ``p``): a softmax computed within 2 ulp sums to 1 within ``2·eps``, and a
        sum accumulated in that dtype adds up to ``(n − 1)·eps/2``.
    normalize : bool, default False
        Divide each row by its sum first (then entries may exceed 1; a row must still have a
        positive sum). The division is never rounded: it is absorbed exactly into the constant.
    where : array of bool, optional
        Entries that take part; False entries are ignored (their values are not checked), map
        to −inf, and are left out of the sums and means of the gauge and of the row sum.
    dtype : dtype, optional
        Output dtype (default: ``p``'s floating dtype; integers promote to the default float).

    Returns
    -------
    array
        The logits, shape and array kind of ``p``.

    Raises
    ------
    ValueError
        Naming the position and value: a NaN, infinite, negative or (without ``normalize``)
        greater than 1 entry; a row whose sum is not 1 within ``atol`` (or 0 with
        ``normalize``); a ``reference`` out of range or at a zero (or masked) probability;
        a gauge that does not exist; a temperature that is 0, inf, negative or NaN.
    TypeError
        For non-numeric input, a non-integer ``reference``, or a non-boolean mask.

    Notes
    -----
    *Edge cases.* Zero probabilities map to −inf exactly (never to a clipped large negative
    number), so they come back as exact zeros; a row whose entries are all masked maps to all
    −inf (the empty row of :func:`softmaxkit.softmax`). Lazy arrays (Dask, JAX) skip the checks
    that need their values: bad entries then give NaN, and a zero at the reference makes its
    row NaN.

    *Accuracy.* The logits are computed as ``T·(log p_i − m) + v`` with one shift ``m`` per
    row in log space (the mean of the finite logs for "center" and "sum", ``log p_r`` for
    "reference", the library's :func:`softmaxkit.logsumexp` of ``log p`` for "logsumexp"), so
    the shared part of the logs cancels exactly: equal probabilities give exactly ``v``, the
    reference entry exactly ``v``. The result is within 2.5 ulp of
    ``max(|T·log p_i|, |x_i|, |c|)`` of the exact value in float64 (float32 is computed in
    float64 and rounded once: 0.5 ulp). The round trip ``softmax(inverse_softmax(p), T)`` then
    returns ``p`` up to softmax's own error plus a term no floating-point logit can avoid:
    storing ``x_i`` rounds it by up to ``|x_i|·eps/2``, which moves ``p_i`` relatively by
    ``|x_i|·eps/(2T)`` (and ``log p_i``, ``T·log p_i`` add ``|log p_i|·eps/2`` each). Measured
    on random rows: entries in [0.1, 0.6] come back within 3.5 ulp in float64 and 1.25 ulp in
    float32, for every gauge and T in {0.001, 0.5, 1, 3}; Dirichlet(1) rows of 6 (p down to
    ~1e-4) within 10 ulp; p ~ 1e-10 within ~25 ulp; a probability of 1e-300 cannot come back
    better than a few hundred ulp. For small T keep ``value`` near 0 (``|x_i|/T`` is the amplifier).
    "center" keeps the logits smallest and is usually the most accurate. Zeros come back
    exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import inverse_softmax, softmax
    >>> p = np.array([0.25, 0.25, 0.5])
    >>> inverse_softmax(p)                       # centred: the logits have mean 0 (clr)
    array([-0.23104906, -0.23104906,  0.46209812])
    >>> inverse_softmax(p, gauge="reference", reference=0)   # alr: logit 0 is 0
    array([0.        , 0.        , 0.69314718])
    >>> inverse_softmax(p, gauge="logsumexp")    # T·log p
    array([-1.38629436, -1.38629436, -0.69314718])
    >>> inverse_softmax(np.array([0.5, 0.0, 0.5]), temperature=2.0)  # zeros map to -inf
    array([  0., -inf,   0.])
    >>> softmax(inverse_softmax(p, temperature=3.0, gauge="sum", value=5.0), temperature=3.0)
    array([0.25, 0.25, 0.5 ])
    """
    fn = "inverse_softmax"
    _check_gauge(fn, gauge)
    along = "the reference is a position along it" if gauge == "reference" else None
    s = setup(
        fn, p, axis=axis, temperature=temperature, where=where, dtype=dtype, name="p", along=along
    )
    ref = None
    if gauge == "reference":
        # Checked before the data: cheap, and a common mistake.
        ref_axis = s.axes[0]
        what = f"axis {ref_axis} of p"
        ref = (ref_axis, index_in(reference, s.shape[ref_axis], fn=fn, name="reference", what=what))
    x = _inverse(fn, s, gauge=gauge, ref=ref, value=value, atol=atol, normalize=normalize)
    return finish(s.xp, x, s.out_dtype)


# --------------------------------------------------------------------------------------------
# base state
# --------------------------------------------------------------------------------------------


def _base_setup(
    fn: str,
    x: Any,
    *,
    axis: Any,
    base: Any,
    temperature: Any = 1.0,
    where: Any = None,
    dtype: Any = None,
    name: str,
    grow: int,
) -> tuple[Setup, int, int, int]:
    """The entry check of the base-state maps: the one state axis and the base position on
    it, then :func:`setup` over that axis.

    ``x`` is ``z`` (``grow=1``: the output has one more entry) or ``p`` (``grow=0``). Returns
    (the setup, the axis, the length n of the simplex side, the base index in ``[0, n)``).
    """
    why = "the base state is a position along it"
    s = setup(
        fn, x, axis=axis, temperature=temperature, where=where, dtype=dtype, name=name, along=why
    )
    ax = s.axes[0]
    n = s.shape[ax] + grow
    if n < 1:
        raise ValueError(f"{fn}: {name} has length 0 along axis {ax}; a simplex needs n >= 1")
    side = "the output" if grow else "p"
    b = index_in(base, n, fn=fn, name="base", what=f"{side} (axis {ax})")
    return s, ax, n, b


@quiet
def base_softmax(
    z: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    where: Any = None,
    dtype: Any = None,
) -> Array:
    r"""The base-state map :math:`\bar{\mathbb{R}}^{n-1} \to \Delta^n`: a logit 0 inserted at
    ``base``, then softmax.

    .. math:: p = \operatorname{softmax}\big((z_0, \dots, z_{b-1}, 0, z_b, \dots,
              z_{n-2}) / T\big), \qquad
              p_b = \frac{1}{1 + \sum_k e^{z_k/T}}, \quad
              p_{k'} = \frac{e^{z_k/T}}{1 + \sum_j e^{z_j/T}},

    where :math:`k'` is the position of :math:`z_k` in the output (``k`` for ``k < b``, ``k+1``
    otherwise). It is a bijection from :math:`\mathbb{R}^{n-1}` onto the open simplex, with
    inverse :func:`base_logits`.

    Parameters
    ----------
    z : array_like
        Free logits, ``n − 1`` of them along ``axis``.
    axis : int, default -1
        The axis along which the fixed state is inserted (a single axis).
    temperature : float or array, default 1.0
        As for :func:`softmaxkit.softmax` (T = 0 gives the hardmax of ``(z, 0)``, T = inf the
        uniform distribution over the admissible entries).
    base : int, default 0
        Position of the fixed state in the output, in ``[-n, n-1]`` (negative counts from the
        end: ``base=-1`` appends it, as TensorFlow Probability's ``SoftmaxCentered`` does).
    where : array of bool, optional
        Mask of ``z``'s shape (broadcastable): False entries get probability 0. The fixed state
        always takes part.
    dtype : dtype, optional
        Output dtype.

    Returns
    -------
    array
        ``p`` with ``n`` entries along ``axis``, summing to 1.

    Notes
    -----
    Extended reals follow the limits: :math:`z_k = -\infty` gives :math:`p_{k'} = 0`; if every
    :math:`z_k = -\infty` (or ``z`` is empty) then :math:`p_b = 1`; :math:`+\infty` entries share
    the mass equally (and :math:`p_b = 0`). The computation is :func:`softmaxkit.softmax` itself,
    so the accuracy (≤ 2 ulp) and the backends are those of softmax.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax
    >>> base_softmax(np.log([2.0, 3.0, 4.0]), base=-1)   # TFP's SoftmaxCentered example
    array([0.2, 0.3, 0.4, 0.1])
    >>> base_softmax(np.array([0.0, 0.0]))
    array([0.33333333, 0.33333333, 0.33333333])
    >>> base_softmax(np.array([-np.inf, -np.inf]))     # the base state takes all the mass
    array([1., 0., 0.])
    >>> base_softmax(np.array([np.inf, 1.0]), base=1)
    array([1., 0., 0.])
    """
    fn = "base_softmax"
    # Validated here so that errors name this function; softmax re-parses the same values.
    s, ax, _, b = _base_setup(
        fn, z, axis=axis, base=base, temperature=temperature, where=where, dtype=dtype,
        name="z", grow=1,
    )
    xp, mask = s.xp, s.mask
    # 0 is exact in every dtype, so the fixed state is inserted before any conversion and
    # softmax applies the library's dtype policy to the whole row.
    x = insert(xp, s.raw, ax, b, 0)
    if mask is not None:
        mask = insert(xp, mask, ax, b, True)
    return softmax(x, axis=ax, temperature=temperature, where=mask, dtype=s.out_dtype)


@quiet
def base_logits(
    p: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    atol: float | None = None,
    normalize: bool = False,
    dtype: Any = None,
) -> Array:
    r"""The exact inverse of :func:`base_softmax`: :math:`z_k = T(\log p_{k'} - \log p_b)`.

    This is ``inverse_softmax(p, gauge="reference", reference=base, value=0)`` with the base
    entry (which is exactly 0) dropped: the log-odds of every state against the base state
    (the parametrisation of a multinomial logit with a base category).

    Parameters
    ----------
    p : array_like
        Probabilities, ``n`` of them along ``axis``, with ``p[base] > 0`` in every row.
    axis : int, default -1
        The simplex axis (a single axis).
    temperature : float or array, default 1.0
        T > 0, finite (T = 0 and T = inf are not invertible: ``ValueError``).
    base : int, default 0
        Position of the base state, in ``[-n, n-1]``.
    atol, normalize, dtype
        As for :func:`inverse_softmax`.

    Returns
    -------
    array
        ``z`` with ``n − 1`` entries along ``axis``.

    Raises
    ------
    ValueError
        As :func:`inverse_softmax`; in particular when ``p[base] == 0`` in some row (named),
        where the log-odds against the base do not exist.

    Notes
    -----
    A zero probability at any other position gives :math:`z_k = -\infty`, which
    :func:`base_softmax` maps back to exactly 0. Accuracy and lazy arrays as for
    :func:`inverse_softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits, base_softmax
    >>> base_logits(np.array([0.2, 0.3, 0.4, 0.1]), base=-1)    # log([2, 3, 4])
    array([0.69314718, 1.09861229, 1.38629436])
    >>> z = base_logits(np.array([0.5, 0.25, 0.0, 0.25]), temperature=2.0)
    >>> z
    array([-1.38629436,        -inf, -1.38629436])
    >>> base_softmax(z, temperature=2.0)
    array([0.5 , 0.25, 0.  , 0.25])
    """
    fn = "base_logits"
    s, ax, _, b = _base_setup(
        fn, p, axis=axis, base=base, temperature=temperature, dtype=dtype, name="p", grow=0
    )
    x = _inverse(
        fn,
        s,
        gauge="reference",
        ref=(ax, b),
        value=0.0,
        atol=atol,
        normalize=normalize,
        reference_name="base",
        advice_reference="choose as base a state with positive probability in every row",
    )
    return finish(s.xp, delete(s.xp, x, ax, b), s.out_dtype)


def _convention(fn: str, convention: Any) -> str:
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        valid = ", ".join(repr(c) for c in CONVENTIONS)
        raise ValueError(f"{fn}: convention={convention!r} is unknown; expected one of {valid}")
    return convention


def _log_det_terms(xp: Any, t: float | Array, n: int, convention: str, ax: int) -> float | Array:
    """−(n−1)·log T (+ ½·log n for the TFP convention), squeezed to the result's shape."""
    log_t = _log_t(xp, t)
    term: float | Array = -(n - 1) * log_t
    if not isinstance(term, float):
        term = squeeze_axes(xp, term, (ax,))
    if convention == "tfp":
        term = term + 0.5 * math.log(n)
    return term


@quiet
def base_softmax_log_det_jacobian(
    z: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    convention: str = "free",
) -> Array:
    r"""Log of the Jacobian determinant of :func:`base_softmax`, for densities on the simplex.

    ``convention="free"`` (default): the map :math:`z \mapsto (p_k)_{k \ne b}` onto the
    ``n − 1`` free coordinates of the simplex (all coordinates but the base state's, which is
    :math:`1 - \sum_{k\ne b} p_k`). Its Jacobian is
    :math:`J_{kl} = \partial p_k / \partial z_l = \frac1T (p_k\delta_{kl} - p_k p_l)`,
    :math:`k, l \ne b`, i.e. :math:`\frac1T(\operatorname{diag}(q) - q q^\top)` with ``q`` the
    free probabilities; the matrix determinant lemma gives
    :math:`\det(\operatorname{diag} q)(1 - \sum q) = \prod_{k \ne b} p_k \cdot p_b`, so

    .. math:: \log\lvert\det J\rvert = -(n-1)\log T + \sum_{k=0}^{n-1} \log p_k

    (the sum over all ``n`` entries, the base included).

    ``convention="tfp"``: TensorFlow Probability's ``SoftmaxCentered`` bijector, which
    regards the image as the ``(n−1)``-dimensional surface :math:`\Delta^n \subset
    \mathbb{R}^n` and measures its volume: the lift from the free coordinates to
    :math:`\mathbb{R}^n` appends :math:`1 - \sum q`, with differential :math:`D` = identity
    plus a row of −1s, and :math:`\sqrt{\det D^\top D} = \sqrt{n}`. Hence
    :math:`\log\sqrt{\det(J_{\text{full}}^\top J_{\text{full}})} = \text{free} + \tfrac12\log n`
    (``n`` = number of output entries). TFP has no temperature and puts the fixed state last:
    at ``T=1, base=-1`` this equals TFP's
    ``forward_log_det_jacobian(z, event_ndims=1) = ½·log(n) + Σ z − n·softplus(logsumexp(z))``.
    The value does not depend on ``base``.

    Parameters
    ----------
    z : array_like
        Free logits (``n − 1`` along ``axis``).
    axis : int, default -1
        A single axis.
    temperature : float or array, default 1.0
        T > 0 and finite (the map is not a bijection at 0 or inf: ``ValueError``).
    base : int, default 0
        Position of the fixed state, as for :func:`base_softmax`.
    convention : {"free", "tfp"}, default "free"
        Which volume (above).

    Returns
    -------
    array
        ``z``'s shape without ``axis``.

    Notes
    -----
    Computed as the sum of :func:`softmaxkit.log_softmax` of the extended row (never the log
    of a softmax, which underflows), so it is accurate to a few ulp of
    :math:`\sum_k |\log p_k|` (the sum has no cancellation), and stays finite where the
    probabilities underflow. It is −inf where a probability is exactly 0 (an entry
    :math:`-\infty`, or :math:`+\infty` entries, which empty the base and the finite states):
    the map is singular there. NaN entries give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_softmax, base_softmax_log_det_jacobian
    >>> z = np.array([0.0, 0.0])          # p = (1/3, 1/3, 1/3): det = 1/27
    >>> base_softmax_log_det_jacobian(z)
    np.float64(-3.295836866004329)
    >>> base_softmax_log_det_jacobian(z, convention="tfp")    # + log(3)/2
    np.float64(-2.746530721670274)
    >>> float(np.exp(base_softmax_log_det_jacobian(np.array([1000.0]))))   # saturated
    0.0
    >>> base_softmax_log_det_jacobian(np.array([1000.0]))    # but the log is exact
    np.float64(-1000.0)
    """
    fn = "base_softmax_log_det_jacobian"
    conv = _convention(fn, convention)
    s, ax, n, b = _base_setup(
        fn, z, axis=axis, base=base, temperature=temperature, name="z", grow=1
    )
    xp = s.xp
    t = _invertible(s.temp, xp, fn=fn, lazy=is_lazy(s.raw))
    x = insert(xp, s.x, ax, b, 0)
    logp = log_softmax(x, axis=ax, temperature=temperature, dtype=s.compute_dtype)
    out = xp.sum(logp, axis=ax) + _log_det_terms(xp, t, n, conv, ax)
    out = finish(xp, out, s.out_dtype)
    if isinstance(out, np.ndarray) and out.ndim == 0:
        out = out[()]
    return out


@quiet
def base_logits_log_det_jacobian(
    p: Any,
    /,
    *,
    axis: int = -1,
    temperature: Any = 1.0,
    base: int = 0,
    convention: str = "free",
    atol: float | None = None,
    normalize: bool = False,
) -> Array:
    r"""Log of the Jacobian determinant of :func:`base_logits`: minus that of the forward map.

    .. math:: \log\lvert\det J\rvert = (n-1)\log T - \sum_{k=0}^{n-1} \log p_k
              \;\big(-\tfrac12 \log n \text{ for } \texttt{convention="tfp"}\big)

    i.e. ``-base_softmax_log_det_jacobian(base_logits(p), ...)``, with the same conventions
    (see :func:`base_softmax_log_det_jacobian`: "free" differentiates the map from the
    ``n − 1`` free coordinates :math:`(p_k)_{k\ne b}`; "tfp" is TensorFlow Probability's
    ``SoftmaxCentered.inverse_log_det_jacobian``). Computed from ``log p`` directly, without
    the detour through ``z``.

    Parameters
    ----------
    p : array_like
        Probabilities with ``p[base] > 0`` (checked as in :func:`base_logits`).
    axis, temperature, base, convention
        As for :func:`base_softmax_log_det_jacobian`.
    atol, normalize
        As for :func:`inverse_softmax` (with ``normalize=True``, of the normalised ``p``).

    Returns
    -------
    array
        ``p``'s shape without ``axis``; +inf where a probability other than the base is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import base_logits_log_det_jacobian
    >>> base_logits_log_det_jacobian(np.array([0.5, 0.25, 0.25]))     # log 32
    np.float64(3.465735902799726)
    >>> base_logits_log_det_jacobian(np.array([0.5, 0.25, 0.25]), temperature=2.0)  # log 128
    np.float64(4.852030263919617)
    """
    fn = "base_logits_log_det_jacobian"
    conv = _convention(fn, convention)
    s, ax, n, b = _base_setup(
        fn, p, axis=axis, base=base, temperature=temperature, name="p", grow=0
    )
    lp = _validated_log(
        fn,
        s,
        atol=atol,
        normalize=normalize,
        advice_sum="pass normalize=True to divide each row by its sum, or a larger atol",
    )
    xp, logp = s.xp, lp.logp
    no_base = ~(take(xp, logp, ax, b) > -math.inf)
    if not lp.lazy:
        idx = first_index(xp, no_base)
        if idx is not None:
            full = tuple(b if k == ax else i for k, i in enumerate(idx))
            raise ValueError(
                f"{fn}: {position('p', full)} = 0 at the base index {b} "
                f"(row {row_position('p', full, (ax,))}): "
                "base_logits is not defined there; choose as base a state with positive "
                "probability in every row"
            )
    total = xp.sum(logp, axis=ax)
    if normalize:
        # Σ log(p_k / s) = Σ log p_k − n·log s, with log s from the accurate logsumexp.
        total = total - n * logsumexp(logp, axis=ax)
    out = 0.0 - total - _log_det_terms(xp, lp.t, n, conv, ax)  # 0 − …: no −0.0 at n = 1
    if lp.bad_rows is not None:
        bad = squeeze_axes(xp, lp.bad_rows | no_base, (ax,))
        out = xp.where(bad, full_like_scalar(xp, out, math.nan), out)
    out = finish(xp, out, s.out_dtype)
    if isinstance(out, np.ndarray) and out.ndim == 0:
        out = out[()]
    return out
