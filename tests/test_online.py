"""The online normaliser: OnlineLogSumExp against mpmath and against logsumexp / softmax /
log_softmax of the concatenated blocks, for any cut into blocks."""

from __future__ import annotations

import itertools

import numpy as np
import oracle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softmaxkit as sk
from softmaxkit import OnlineLogSumExp

INF = np.inf


def stream(x: np.ndarray, cuts: list[int], axis: int = -1, where: np.ndarray | None = None,
           **kw) -> OnlineLogSumExp:
    """Feed ``x`` cut at ``cuts`` along ``axis`` (empty blocks included where cuts repeat)."""
    lse = OnlineLogSumExp(axis=axis, **kw)
    edges = [0, *cuts, x.shape[axis]]
    for a, b in itertools.pairwise(edges):
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(a, b)
        lse.update(x[tuple(sl)], where=None if where is None else where[tuple(sl)])
    return lse


def rows(rng: np.random.Generator) -> np.ndarray:
    x = 30 * rng.standard_normal((8, 23))
    x[1] = -INF
    x[2, [3, 17]] = INF
    x[3, ::2] = -INF
    x[4, 0] = 1e300
    x[5] = np.linspace(-700, 10, 23)  # a rising maximum: rescaled at every block
    x[6] = 1e-3 * rng.standard_normal(23)  # result near log(23): no cancellation
    x[7, 5] = np.nan
    return x


@pytest.mark.parametrize("cuts", [[], [1], [5, 5, 11], list(range(1, 23))], ids=str)
def test_against_mpmath(cuts: list[int], rng: np.random.Generator) -> None:
    x = rows(rng)
    got = stream(x, cuts).value
    exact = oracle.logsumexp(x)
    scale = oracle.logsumexp_scale(x, exact)
    err = oracle.ulp_error_scaled(got, exact, scale, np.float64)
    assert np.nanmax(err) <= 2, err
    np.testing.assert_array_equal(np.isnan(got), np.isnan(sk.logsumexp(x)))


@pytest.mark.parametrize("temperature", [0.37, 5.0, 0.0, INF], ids=str)
def test_temperature(temperature: float, rng: np.random.Generator) -> None:
    x = rows(rng)
    got = stream(x, [4, 9, 9, 20], temperature=temperature).value
    exact = oracle.logsumexp(x, temperature=temperature)
    scale = oracle.logsumexp_scale(x, exact)
    err = oracle.ulp_error_scaled(got, exact, scale, np.float64)
    assert np.nanmax(err) <= 2, (temperature, err)
    ref = sk.logsumexp(x, temperature=temperature)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
    np.testing.assert_array_equal(got[~np.isfinite(ref)], ref[~np.isfinite(ref)])


def test_temperature_array_and_masks(rng: np.random.Generator) -> None:
    x = rows(rng)
    t = np.array([0.5, 1.0, 2.0, 0.0, INF, 3.0, 0.1, 1.0])[:, None]
    mask = rng.random(x.shape) > 0.3
    mask[0] = False
    lse = stream(x, [7, 15], where=mask, temperature=t)
    ref = sk.logsumexp(x, temperature=t, where=mask)
    exact = oracle.logsumexp(x, temperature=t, where=mask)
    scale = oracle.logsumexp_scale(x, exact, where=mask)
    assert np.nanmax(oracle.ulp_error_scaled(lse.value, exact, scale, np.float64)) <= 2
    np.testing.assert_array_equal(np.isnan(lse.value), np.isnan(ref))
    assert lse.value[0] == -INF
    np.testing.assert_array_equal(lse.count, (np.isfinite(x) & mask).sum(1))
    # softmax / log_softmax of every block against the final normaliser
    for a, b in ((0, 7), (7, 15), (15, 23)):
        p = lse.softmax(x[:, a:b], where=mask[:, a:b])
        lp = lse.log_softmax(x[:, a:b], where=mask[:, a:b])
        want = sk.softmax(x, temperature=t, where=mask)[:, a:b]
        want_log = sk.log_softmax(x, temperature=t, where=mask)[:, a:b]
        np.testing.assert_allclose(p, want, rtol=4e-15, atol=0)
        np.testing.assert_allclose(lp, want_log, rtol=4e-15, atol=1e-300)
        np.testing.assert_array_equal(np.isnan(lp), np.isnan(want_log))


@pytest.mark.parametrize("temperature", [1.0, 0.37, 0.0, INF], ids=str)
def test_softmax_of_blocks_against_mpmath(temperature: float, rng: np.random.Generator):
    x = rows(rng)
    lse = stream(x, [3, 12], temperature=temperature)
    p = np.concatenate([lse.softmax(x[:, :3]), lse.softmax(x[:, 3:12]),
                        lse.softmax(x[:, 12:])], axis=1)
    lp = np.concatenate([lse.log_softmax(x[:, :12]), lse.log_softmax(x[:, 12:])], axis=1)
    ok = ~np.isnan(x).any(axis=1)
    assert np.isnan(p[~ok]).all() and np.isnan(lp[~ok]).all()
    exact_p = oracle.softmax(x[ok], temperature=temperature)
    exact_lp = oracle.log_softmax(x[ok], temperature=temperature)
    assert np.max(oracle.ulp_error(p[ok], exact_p, np.float64)) <= 5
    assert np.max(oracle.ulp_error(lp[ok], exact_lp, np.float64)) <= 4


def test_float32_is_correctly_rounded_and_merge(rng: np.random.Generator) -> None:
    x = (20 * rng.standard_normal((6, 40))).astype(np.float32)
    a = stream(x[:, :17], [3, 9])
    b = stream(x[:, 17:], [1])
    both = a.merge(b)
    assert both.value.dtype == np.float32
    np.testing.assert_array_equal(both.value, sk.logsumexp(x))
    np.testing.assert_array_equal(b.merge(a).value, sk.logsumexp(x))
    assert a.merge(OnlineLogSumExp()).value.tolist() == a.value.tolist()
    with pytest.raises(ValueError, match="temperatures"):
        a.merge(stream(x, [], temperature=2.0))


def test_axis_and_batch_invariance(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 30, 3)) * 50
    lse = stream(x, [10, 11, 29], axis=1)
    assert lse.value.shape == (4, 3)
    single = stream(x[2:3], [10, 11, 29], axis=1)
    np.testing.assert_array_equal(single.value, lse.value[2:3])  # a row alone: same bits
    exact = oracle.logsumexp(x, axis=1)
    scale = oracle.logsumexp_scale(x, exact, axis=1)
    assert np.max(oracle.ulp_error_scaled(lse.value, exact, scale, np.float64)) <= 2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4) | st.sampled_from([-INF, INF]), min_size=1, max_size=30),
    st.lists(st.integers(0, 30), max_size=6),
    st.sampled_from([1.0, 0.25, 7.0]),
)
def test_any_cut_matches_whole_row(values: list[float], cuts: list[int], t: float) -> None:
    x = np.asarray(values)[None, :]
    cuts = sorted(min(c, x.shape[1]) for c in cuts)
    got = stream(x, cuts, temperature=t).value
    ref = sk.logsumexp(x, temperature=t)
    if not np.isfinite(ref[0]):
        assert got[0] == ref[0]
        return
    exact = oracle.logsumexp(x, temperature=t)
    scale = oracle.logsumexp_scale(x, exact)
    assert oracle.ulp_error_scaled(got, exact, scale, np.float64).max() <= 2


def test_errors() -> None:
    lse = OnlineLogSumExp()
    with pytest.raises(ValueError, match="no block seen"):
        _ = lse.value
    lse.update(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"does not match the stream's rows \(2,\)"):
        lse.update(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="axis must be one integer"):
        OnlineLogSumExp(axis=(0, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="temperature"):
        OnlineLogSumExp(temperature=-1.0).update(np.zeros(3))
    empty = OnlineLogSumExp().update(np.zeros((2, 0)))
    np.testing.assert_array_equal(empty.value, [-INF, -INF])
    np.testing.assert_array_equal(empty.update(np.zeros((2, 0))).count, [0, 0])
