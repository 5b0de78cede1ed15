"""Invariants of the maps, checked with hypothesis on float64 and float32 batches.

Each property is an identity of the exact maps. The library's results are each within 2 ulp of
the exact value, so two results that should agree may differ by the sum of their errors: the
comparisons allow 4 ulp (``assert_ulp_close``) unless both sides are computed the same way. The
inputs are chosen so that the transformed input is itself exact (x + c and x / T are exactly
representable), otherwise the identity would not hold for the floats.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import softmaxkit as sk

FLOAT_DTYPES = [np.dtype(np.float64), np.dtype(np.float32)]
MAPS = ("softmax", "log_softmax", "logsumexp")
INF = float("inf")


# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------


def _width(dtype: np.dtype) -> int:
    return 8 * dtype.itemsize


def extended(dtype: np.dtype) -> st.SearchStrategy[float]:
    """Any float of ``dtype`` but NaN: the whole finite range, subnormals, ±0 and ±inf."""
    finite = st.floats(allow_nan=False, allow_infinity=False, width=_width(dtype))
    return st.one_of(finite, finite, st.sampled_from([INF, -INF, 0.0, -0.0]))


def dyadic(dtype: np.dtype) -> st.SearchStrategy[float]:
    """k/8 for |k| ≤ 400, and -inf: adding an integer c with |c| ≤ 2**20 stays exact."""
    return st.one_of(st.integers(-400, 400).map(lambda k: k / 8), st.just(-INF))


@st.composite
def batches(
    draw: st.DrawFn,
    elements: Any = extended,
    dtypes: list[np.dtype] = FLOAT_DTYPES,
    max_rows: int = 4,
    max_cols: int = 7,
) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(st.tuples(st.integers(1, max_rows), st.integers(1, max_cols)))
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype)))


def masks(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray | None]:
    return st.one_of(st.none(), hnp.arrays(np.bool_, shape))


temperatures = st.one_of(
    st.sampled_from([0.0, 1.0, INF, 5e-324, 1e-300, 1e-3, 0.37, 3.0, 1e300]),
    st.floats(min_value=0.0, allow_nan=False, allow_infinity=True),
)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def assert_ulp_close(a: Any, b: Any, n: float, *, scale: Any = None, msg: str = "") -> None:
    """|a - b| ≤ n ulp of max(|a|, |b|, |scale|) in ``a``'s dtype; zeros, infs and NaN equal."""
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    dtype = a.dtype
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    special = ~np.isfinite(a64) | ~np.isfinite(b64)
    np.testing.assert_array_equal(a64[special], b64[special], err_msg=msg)
    mag = np.maximum(np.abs(a64), np.abs(b64))
    if scale is not None:
        mag = np.maximum(mag, np.abs(np.broadcast_to(scale, mag.shape)))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    with np.errstate(over="ignore"):  # the spacing at the largest float is inf: no bound
        ulp = np.spacing(mag.astype(dtype)).astype(np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf at the special entries, masked out
        diff = np.where(special, 0.0, np.abs(a64 - b64))
    bad = diff > n * ulp
    assert not bad.any(), (
        f"{msg}: {int(bad.sum())} entries differ by more than {n} ulp; first at "
        f"{np.argwhere(bad)[0].tolist()}: {a64[bad][0]!r} vs {b64[bad][0]!r}"
    )


def _eps(dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps)


# --------------------------------------------------------------------------------------------
# no stray NaN
# --------------------------------------------------------------------------------------------


@given(data=st.data(), x=batches(), t=temperatures, axis=st.sampled_from([-1, 0, None]))
def test_no_nan_from_extended_reals(data: st.DataObject, x: np.ndarray, t: float, axis: Any):
    """Finite values and ±inf never produce NaN, with or without mask, at any temperature."""
    mask = data.draw(masks(x.shape))
    for name in MAPS:
        got = np.asarray(getattr(sk, name)(x, axis=axis, temperature=t, where=mask))
        assert got.dtype == x.dtype
        assert not np.isnan(got).any(), (name, x.tolist(), t, axis, mask, got.tolist())
    hard = sk.hardmax(x, axis=axis, where=mask)
    assert not np.isnan(hard).any(), ("hardmax", x.tolist(), axis, mask)
    val, sign = sk.logsumexp(x, axis=axis, temperature=t, where=mask, return_sign=True)
    assert not np.isnan(val).any() and not np.isnan(sign).any()


@given(x=batches(), t=temperatures)
def test_softmax_is_a_distribution(x: np.ndarray, t: float) -> None:
    """Every row is zeros (empty) or non-negative and sums to 1 within n·eps."""
    p = sk.softmax(x, temperature=t).astype(np.float64)
    assert np.all(p >= 0) and np.all(p <= 1)
    s = p.sum(axis=-1)
    empty = np.all(x == -INF, axis=-1)
    assert np.all(s[empty] == 0)
    n = x.shape[-1]
    tol = max(n, 2) * _eps(x.dtype)
    assert np.all(np.abs(s[~empty] - 1) <= tol), (x.tolist(), t, s.tolist())


@given(data=st.data(), x=batches())
def test_masked_rows_sum_to_one(data: st.DataObject, x: np.ndarray) -> None:
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    p = sk.softmax(x, where=mask).astype(np.float64)
    assert np.all(p[~mask] == 0)
    s = p.sum(axis=-1)
    empty = ~np.any(mask & (x > -INF), axis=-1)
    assert np.all(s[empty] == 0)
    assert np.all(np.abs(s[~empty] - 1) <= max(x.shape[-1], 2) * _eps(x.dtype))


# --------------------------------------------------------------------------------------------
# invariances
# --------------------------------------------------------------------------------------------


@given(x=batches(elements=dyadic), c=st.integers(-(2**20), 2**20))
def test_shift_invariance(x: np.ndarray, c: int) -> None:
    shifted = (x + x.dtype.type(c)).astype(x.dtype)
    # x + c is exact here: |x + c| < 2**21 with three fractional bits fits 24 bits
    np.testing.assert_array_equal(shifted - x.dtype.type(c), x)
    assert_ulp_close(sk.softmax(shifted), sk.softmax(x), 4, msg="softmax")
    assert_ulp_close(sk.log_softmax(shifted), sk.log_softmax(x), 4, msg="log_softmax")
    lse, lse_shifted = sk.logsumexp(x), sk.logsumexp(shifted)
    finite = np.isfinite(lse)
    # lse + c rounds once more, at the magnitude of lse; logsumexp itself is measured at the
    # magnitude it passes through, max(|lse|, |max|)
    scale = np.maximum(np.abs(lse_shifted), np.abs(np.max(shifted, axis=-1)))
    scale = np.maximum(scale, np.abs(lse))
    assert_ulp_close(
        lse_shifted[finite],
        (lse + c)[finite].astype(x.dtype),
        6,
        scale=scale[finite],
        msg="logsumexp",
    )
    np.testing.assert_array_equal(lse_shifted[~finite], lse[~finite])


@given(
    x=batches(elements=lambda d: st.floats(-1e3, 1e3, width=_width(d), allow_subnormal=False)),
    k=st.integers(-6, 6),
)
def test_temperature_scaling(x: np.ndarray, k: int) -> None:
    """softmax(x, T) == softmax(x / T) when x / T is exact (T a power of two)."""
    t = 2.0**k
    scaled = (x / x.dtype.type(t)).astype(x.dtype)
    assume(np.array_equal(scaled * x.dtype.type(t), x))
    assert_ulp_close(sk.softmax(x, temperature=t), sk.softmax(scaled), 4, msg="softmax")
    assert_ulp_close(sk.log_softmax(x, temperature=t), sk.log_softmax(scaled), 4, msg="log_softmax")
    lse_t = sk.logsumexp(x, temperature=t)
    scale = np.maximum(np.abs(lse_t), np.abs(x.max(axis=-1)))
    assert_ulp_close(lse_t, (t * sk.logsumexp(scaled)).astype(x.dtype), 4, scale=scale)


@given(x=batches(elements=lambda d: st.integers(-20, 20).map(float)))
def test_low_temperature_approaches_hardmax(x: np.ndarray) -> None:
    hard = sk.hardmax(x).astype(np.float64)
    dist = [
        np.abs(sk.softmax(x, temperature=t).astype(np.float64) - hard).sum(axis=-1)
        for t in (10.0, 1.0, 0.1, 0.01)
    ]
    # the mass off the maxima decreases monotonically as T decreases
    tol = 4 * x.shape[-1] * _eps(x.dtype)
    for hotter, colder in itertools.pairwise(dist):
        assert np.all(colder <= hotter + tol)
    # gaps are at least 1, so at T = 1e-3 the other entries are below exp(-1000) = 0
    assert_ulp_close(sk.softmax(x, temperature=1e-3), sk.hardmax(x), 1)
    np.testing.assert_array_equal(sk.softmax(x, temperature=0.0), sk.hardmax(x))


@given(data=st.data(), x=batches(elements=lambda d: st.floats(-1e6, 1e6, width=_width(d))))
def test_high_temperature_approaches_uniform(data: st.DataObject, x: np.ndarray) -> None:
    n = x.shape[-1]
    uniform = np.full(x.shape, 1.0 / n, dtype=x.dtype)
    # (x - max) / T is below 1e-20: every exponential rounds to 1
    assert_ulp_close(sk.softmax(x, temperature=1e30), uniform, 1)
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    k = mask.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(mask, 1.0 / k, 0.0).astype(x.dtype)
    np.testing.assert_array_equal(sk.softmax(x, temperature=INF, where=mask), expected)


@given(data=st.data(), x=batches(), t=temperatures)
def test_mask_is_minus_inf(data: st.DataObject, x: np.ndarray, t: float) -> None:
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    blocked = np.where(mask, x, -INF).astype(x.dtype)
    for name in MAPS:
        a = getattr(sk, name)(x, where=mask, temperature=t)
        b = getattr(sk, name)(blocked, temperature=t)
        assert_ulp_close(a, b, 4, msg=name)
    np.testing.assert_array_equal(sk.hardmax(x, where=mask), sk.hardmax(blocked))


@given(data=st.data(), x=batches(max_rows=5))
def test_rows_are_independent(data: st.DataObject, x: np.ndarray) -> None:
    """The batch result equals the results of its rows computed one at a time."""
    t = data.draw(
        st.one_of(
            st.sampled_from([1.0, 0.37]),
            hnp.arrays(np.float64, (x.shape[0], 1), elements=st.sampled_from([0.0, 0.5, 2.0])),
        )
    )
    t_rows = np.broadcast_to(t, (x.shape[0], 1))
    for name in MAPS:
        batch = getattr(sk, name)(x, temperature=t)
        for i in range(x.shape[0]):
            single = getattr(sk, name)(x[i], temperature=float(t_rows[i, 0]))
            assert_ulp_close(batch[i], single, 4, msg=f"{name} row {i}")
    hard = sk.hardmax(x)
    for i in range(x.shape[0]):
        np.testing.assert_array_equal(hard[i], sk.hardmax(x[i]))


# --------------------------------------------------------------------------------------------
# relations between the maps
# --------------------------------------------------------------------------------------------

moderate = lambda d: st.floats(-300, 300, width=_width(d))  # noqa: E731


@given(x=batches(elements=moderate), t=st.sampled_from([1.0, 0.37, 3.0]))
def test_log_softmax_is_log_of_softmax(x: np.ndarray, t: float) -> None:
    p = sk.softmax(x, temperature=t).astype(np.float64)
    lp = sk.log_softmax(x, temperature=t).astype(np.float64)
    normal = p >= np.finfo(x.dtype).tiny
    eps = _eps(x.dtype)
    # softmax carries ≤ 2 ulp (relative 2 eps), which log turns into an absolute 2 eps
    tol = 4 * eps + 4 * eps * np.abs(lp)
    assert np.all(np.abs(np.log(p[normal]) - lp[normal]) <= tol[normal])


@given(x=batches(elements=moderate), t=st.sampled_from([1.0, 0.37, 3.0]))
def test_softmax_is_exp_of_log_softmax(x: np.ndarray, t: float) -> None:
    p = sk.softmax(x, temperature=t).astype(np.float64)
    lp = sk.log_softmax(x, temperature=t).astype(np.float64)
    normal = p >= np.finfo(x.dtype).tiny
    eps = _eps(x.dtype)
    # an error of 2 ulp in lp is a relative error of 2 eps |lp| after exp
    rtol = (2 * np.abs(lp) + 4) * eps
    assert np.all(np.abs(np.exp(lp[normal]) - p[normal]) <= rtol[normal] * p[normal])


@given(x=batches(elements=moderate))
def test_log_softmax_is_x_minus_logsumexp(x: np.ndarray) -> None:
    """log_softmax = x - logsumexp(x), the gradient relation of logsumexp in log form."""
    lp = sk.log_softmax(x).astype(np.float64)
    lse = sk.logsumexp(x, keepdims=True).astype(np.float64)
    ref = x.astype(np.float64) - lse
    scale = np.maximum(np.abs(x.astype(np.float64)), np.abs(lse))
    ulp = np.spacing(scale.astype(x.dtype)).astype(np.float64)
    assert np.all(np.abs(lp - ref) <= 4 * ulp)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@settings(max_examples=50)
@given(data=st.data())
def test_hardmax_is_zero_temperature_limit(dtype: np.dtype, data: st.DataObject) -> None:
    x = data.draw(hnp.arrays(dtype, (3, 5), elements=extended(dtype)))
    mask = data.draw(masks(x.shape))
    np.testing.assert_array_equal(
        sk.softmax(x, temperature=0.0, where=mask), sk.hardmax(x, where=mask)
    )
