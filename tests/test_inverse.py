"""inverse_softmax (the four gauges) and the base-state bijection, against mpmath.

Accuracy is measured two ways:

* the logits themselves against their exact value ``T·log p_i + c`` (mpmath, 50 digits, the
  input floats taken as exact), in ulps of the largest magnitude the formula goes through;
* the round trip ``softmax(inverse_softmax(p), T)`` against ``p / Σp`` (exact). Here no
  algorithm can promise a fixed number of ulps: storing a logit as a float moves it by up to
  ``|x_i|·u`` (u = eps/2), which moves ``exp(x_i/T)`` by ``|x_i|·u/T`` relatively, and ``log p_i``
  and ``T·log p_i`` add two more roundings of size ``|log p_i|·u``. With
  ``a_i = 3|log p_i| + |x_i|/T`` the result satisfies
  ``|q_i - p_i| <= K·ulp(p_i) + u·p_i·(a_i + Σ_j p_j a_j)`` where ``K`` is softmax's own bound
  (5 ulp in float64, see test_maps; 1 in float32, computed in float64 and rounded), and that is
  what ``roundtrip_excess`` checks. ``test_report_roundtrip`` prints the observed maxima
  (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import mpmath
import numpy as np
import oracle
import pytest
from hypothesis import given
from hypothesis import strategies as st

import softmaxkit as sk
from softmaxkit.inverse import GAUGES

mpmath.mp.dps = oracle.DPS
INF = np.inf
TEMPERATURES = [1.0, 0.5, 3.0, 1e-3]
SOFTMAX_ULP = {np.dtype(np.float64): 5.0, np.dtype(np.float32): 1.0}
_OBSERVED: dict[tuple[str, str, float], float] = {}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def dirichlet(rng: np.random.Generator, shape: tuple[int, int], alpha: float, dtype: Any):
    """Rows on the simplex in ``dtype`` (summing to 1 within a few ulp), some with zeros."""
    p = rng.dirichlet(np.full(shape[1], alpha), size=shape[0])
    p[::7, 1] = 0.0  # exact zeros in some rows
    p = p / p.sum(axis=1, keepdims=True)
    return p.astype(dtype)


def exact_normalised(p: np.ndarray) -> np.ndarray:
    """p / Σp per row, exactly (object array of mpf)."""
    out = np.empty(p.shape, dtype=object)
    for i, row in enumerate(p.astype(np.float64)):
        s = mpmath.fsum([mpmath.mpf(float(v)) for v in row])
        out[i] = [mpmath.mpf(float(v)) / s for v in row]
    return out


def roundtrip_excess(p: np.ndarray, x: np.ndarray, q: np.ndarray, t: Any) -> np.ndarray:
    """How far the round trip exceeds the bound of the module docstring (<= 0 means within).

    Returns the error in ulps minus the allowed ulps, elementwise; zeros must come back exactly
    (an error there is +inf).
    """
    dtype = p.dtype
    u = float(np.finfo(dtype).eps) / 2
    p64 = p.astype(np.float64)
    with np.errstate(divide="ignore"):
        logp = np.where(p64 > 0, np.log(np.where(p64 > 0, p64, 1.0)), 0.0)
    ax = np.where(p64 > 0, np.abs(x.astype(np.float64)), 0.0) / t
    a = 3 * np.abs(logp) + ax
    s = p64 / p64.sum(axis=1, keepdims=True)
    rel = u * (a + (s * a).sum(axis=1, keepdims=True))
    err = oracle.ulp_error(q, exact_normalised(p), dtype)
    unit = np.spacing(np.abs(s).astype(dtype)).astype(np.float64)
    allowed = SOFTMAX_ULP[np.dtype(dtype)] + rel * s / unit
    return np.where(p64 == 0, np.where(q == 0, -1.0, INF), err - allowed)


def exact_logits(p: np.ndarray, t: float, gauge: str, value: float, ref: int = 0) -> np.ndarray:
    """T·log p_i + c with the gauge's c, exactly (object array of mpf; -inf at zeros)."""
    out = np.empty(p.shape, dtype=object)
    tt = mpmath.mpf(t)
    for i, row in enumerate(p.astype(np.float64)):
        logs = [mpmath.log(mpmath.mpf(float(v))) if v > 0 else None for v in row]
        fin = [v for v in logs if v is not None]
        v = mpmath.mpf(value)
        if gauge == "center":
            c = v - tt * mpmath.fsum(fin) / len(fin)
        elif gauge == "sum":
            c = (v - tt * mpmath.fsum(fin)) / len(fin)
        elif gauge == "reference":
            c = v - tt * logs[ref]
        else:
            c = v - tt * mpmath.log(mpmath.fsum([mpmath.mpf(float(w)) for w in row]))
        out[i] = [tt * lv + c if lv is not None else mpmath.mpf("-inf") for lv in logs]
    return out


def logit_scale(p: np.ndarray, expected: np.ndarray, t: float, value: float) -> np.ndarray:
    """The magnitude the formula passes through: max(|T·log p_i|, |x_i|, |c|, |value|)."""
    scale = np.empty(p.shape, dtype=object)
    for i, row in enumerate(p.astype(np.float64)):
        finite = [(k, e) for k, e in enumerate(expected[i]) if mpmath.isfinite(e)]
        logs = {k: abs(mpmath.mpf(t) * mpmath.log(mpmath.mpf(float(row[k])))) for k, _ in finite}
        c = max((abs(e - mpmath.mpf(t) * mpmath.log(mpmath.mpf(float(row[k])))) for k, e in finite))
        for k in range(p.shape[1]):
            e = expected[i][k]
            scale[i, k] = max(abs(e), logs.get(k, 0), c, abs(mpmath.mpf(value)))
    return scale


# --------------------------------------------------------------------------------------------
# the logits against their exact values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", TEMPERATURES)
@pytest.mark.parametrize("gauge", GAUGES)
def test_logits_against_exact(rng: np.random.Generator, dtype: Any, t: float, gauge: str) -> None:
    p = dirichlet(rng, (40, 6), 0.5, dtype)
    value = {"center": 0.0, "reference": -2.5, "sum": 1.5, "logsumexp": 0.75}[gauge]
    ref = 2 if gauge == "reference" else 0
    p[:, ref] = np.maximum(p[:, ref], dtype(0.01))
    p = (p / p.sum(axis=1, keepdims=True, dtype=np.float64)).astype(dtype)
    x = sk.inverse_softmax(p, temperature=t, gauge=gauge, value=value, reference=ref)
    assert x.dtype == dtype
    want = exact_logits(p, t, gauge, value, ref)
    err = oracle.ulp_error_scaled(x, want, logit_scale(p, want, t, value), dtype)
    # float64: log p, the row shift, the subtraction, the product by T and the addition of v
    # each round once (observed ≤ 2.4); float32 is computed in float64 and rounded once.
    assert err.max() <= (3.0 if dtype == np.float64 else 0.6), (gauge, t, err.max())
    assert np.array_equal(np.isneginf(x), p == 0)


def test_center_is_clr_and_reference_is_alr(rng: np.random.Generator) -> None:
    p = dirichlet(rng, (30, 5), 1.0, np.float64)
    p[:, 0] += 0.05  # a positive reference column
    p /= p.sum(axis=1, keepdims=True)
    pos = p > 0
    logs = np.log(np.where(pos, p, 1.0))
    # by hand: clr = log p - mean(log p) over the nonzero parts; alr = log p - log p_ref
    mean = np.where(pos, logs, 0.0).sum(axis=1, keepdims=True) / pos.sum(axis=1, keepdims=True)
    clr = np.where(pos, logs - mean, -INF)
    alr = np.where(pos, logs - logs[:, [3]], -INF)
    p[:, 3] += 0.0
    got_c = sk.inverse_softmax(p)
    got_a = sk.inverse_softmax(p, gauge="reference", reference=3)
    np.testing.assert_allclose(got_c, clr, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(np.isneginf(got_c), ~pos)
    np.testing.assert_allclose(np.where(pos, got_a, 0), np.where(pos, alr, 0), rtol=0, atol=1e-14)
    assert np.all(got_a[:, 3] == 0.0)  # exactly, not up to rounding
    np.testing.assert_array_equal(np.isneginf(got_a), ~pos)


def test_example_row_of_each_gauge() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    logs = [math.log(v) for v in p]
    mean = math.fsum(logs) / 4
    # the hand formulas round in another order: agree to an ulp of the logs (2.3 at most)
    close = {"rtol": 0, "atol": 4.5e-16}
    np.testing.assert_allclose(sk.inverse_softmax(p), [v - mean for v in logs], **close)
    np.testing.assert_allclose(
        sk.inverse_softmax(p, gauge="reference", reference=-1, value=1.0),
        [v - logs[3] + 1.0 for v in logs],
        **close,
    )
    x_sum = sk.inverse_softmax(p, gauge="sum", value=2.0)
    assert math.fsum(x_sum) == pytest.approx(2.0, abs=8.9e-16)  # four roundings of ~1
    x_lse = sk.inverse_softmax(p, gauge="logsumexp", temperature=2.0)
    np.testing.assert_allclose(x_lse, [2.0 * v for v in logs], **close)
    assert sk.logsumexp(x_lse, temperature=2.0) == pytest.approx(0.0, abs=4.5e-16)


# --------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", TEMPERATURES)
@pytest.mark.parametrize("gauge", GAUGES)
def test_roundtrip(rng: np.random.Generator, dtype: Any, t: float, gauge: str) -> None:
    p = dirichlet(rng, (60, 6), 0.3, dtype)
    ref = 2
    p[:, ref] = np.maximum(p[:, ref], dtype(1e-3))
    p = (p / p.sum(axis=1, keepdims=True, dtype=np.float64)).astype(dtype)
    value = {"center": 0.0, "reference": 0.0, "sum": 1.5, "logsumexp": 0.0}[gauge]
    x = sk.inverse_softmax(p, temperature=t, gauge=gauge, reference=ref, value=value)
    q = sk.softmax(x, temperature=t)
    excess = roundtrip_excess(p, x, q, t)
    assert excess.max() <= 0, (gauge, t, excess.max())
    assert np.array_equal(q == 0, p == 0)  # zeros come back exactly, and only zeros
    err = oracle.ulp_error(q, exact_normalised(p), dtype)
    key = (gauge, np.dtype(dtype).name, t)
    _OBSERVED[key] = max(_OBSERVED.get(key, 0.0), float(err[p > 0].max()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_roundtrip_well_conditioned_rows(rng: np.random.Generator, dtype: Any) -> None:
    """Where |log p| and |x|/T are O(1) the round trip is about softmax's own error.

    Observed: ≤ 3.5 ulp in float64 (softmax alone is within 5), ≤ 1.25 in float32.
    """
    p = rng.dirichlet(np.full(3, 20.0), size=200)  # every entry in about [0.1, 0.6]
    p = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    bound = 4.0 if dtype == np.float64 else 1.5
    exact = exact_normalised(p)
    for gauge in GAUGES:
        for t in TEMPERATURES:
            x = sk.inverse_softmax(p, gauge=gauge, temperature=t, normalize=True)
            err = oracle.ulp_error(sk.softmax(x, temperature=t), exact, dtype)
            assert err.max() <= bound, (gauge, t, err.max())


def test_report_roundtrip() -> None:
    """Print the largest round-trip errors seen (``pytest -s``); needs test_roundtrip first."""
    if not _OBSERVED:
        pytest.skip("run with test_roundtrip")
    lines = [f"{g:>10} {d:>8} T={t:<6g} max {e:6.2f} ulp" for (g, d, t), e in _OBSERVED.items()]
    print("\nround trip softmax(inverse_softmax(p)) vs p/sum(p):\n" + "\n".join(sorted(lines)))
    assert max(_OBSERVED.values()) < 1e3


_weights = st.lists(
    st.one_of(st.just(0.0), st.floats(1e-6, 1e3, allow_nan=False)), min_size=1, max_size=8
).filter(lambda w: sum(w) > 0)


@given(
    w=_weights,
    t=st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(1e-2, 1e2)),
    gauge=st.sampled_from(GAUGES),
    value=st.floats(-10, 10),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_roundtrip_property(w: list[float], t: float, gauge: str, value: float, dtype: Any):
    p = (np.array([w]) / math.fsum(w)).astype(dtype)
    ref = int(np.argmax(p[0]))
    x = sk.inverse_softmax(p, temperature=t, gauge=gauge, value=value, reference=ref)
    assert not np.isnan(x).any()
    assert np.array_equal(np.isneginf(x), p == 0)
    q = sk.softmax(x, temperature=t)
    assert roundtrip_excess(p, x, q, t).max() <= 0
    fin = x[0][p[0] > 0].astype(np.float64)
    # the invariants hold to the rounding of the magnitudes passed through: x, v and T·log p
    t_logp = t * np.abs(np.log(p[0][p[0] > 0].astype(np.float64))).max()
    magnitude = max(np.abs(fin).max(), abs(value), t_logp, 1.0)
    scale = magnitude * float(np.finfo(dtype).eps) * len(fin)
    if gauge == "center":
        assert abs(fin.mean() - value) <= 2 * scale
    elif gauge == "sum":
        assert abs(math.fsum(fin) - value) <= 2 * scale * len(fin)
    elif gauge == "reference":
        assert x[0, ref] == dtype(value)
    else:
        assert abs(float(sk.logsumexp(x[0], temperature=t)) - value) <= 2 * scale


@given(w=_weights, t=st.floats(0.1, 10), value=st.floats(-5, 5))
def test_gauges_differ_by_a_row_constant(w: list[float], t: float, value: float) -> None:
    p = np.array(w) / math.fsum(w)
    xs = [sk.inverse_softmax(p, temperature=t, gauge=g, value=value) for g in GAUGES[::2]]
    fin = p > 0
    d = xs[0][fin] - xs[1][fin]
    assert np.ptp(d) <= 1e-12 * max(1.0, np.abs(xs[0][fin]).max(), np.abs(xs[1][fin]).max())


# --------------------------------------------------------------------------------------------
# semantics: masks, normalisation, axes, temperature and value arrays, dtypes
# --------------------------------------------------------------------------------------------


def test_mask_excludes_entries_from_everything() -> None:
    p = np.array([[0.5, np.nan, 0.5, 7.0], [0.2, 0.8, -1.0, 0.0]])
    where = np.array([[True, False, True, False], [True, True, False, True]])
    x = sk.inverse_softmax(p, where=where)
    want0 = [0.0, -INF, 0.0, -INF]
    l2, l8 = math.log(0.2), math.log(0.8)
    want1 = [(l2 - l8) / 2, (l8 - l2) / 2, -INF, -INF]
    np.testing.assert_allclose(x, [want0, want1], rtol=1e-15)
    np.testing.assert_allclose(sk.softmax(x), [[0.5, 0, 0.5, 0], [0.2, 0.8, 0, 0]], rtol=1e-15)
    # every entry masked: the empty row, all -inf (softmax maps it back to zeros)
    empty = sk.inverse_softmax(np.array([[0.3, 0.3]]), where=np.array([[False, False]]))
    np.testing.assert_array_equal(empty, [[-INF, -INF]])
    np.testing.assert_array_equal(sk.softmax(empty), [[0.0, 0.0]])


def test_normalize_equals_dividing_first(rng: np.random.Generator) -> None:
    counts = rng.integers(0, 50, size=(20, 5)).astype(np.float64)
    counts[:, 0] += 1
    for gauge in GAUGES:
        got = sk.inverse_softmax(counts, gauge=gauge, normalize=True, temperature=1.5)
        want = sk.inverse_softmax(
            counts / counts.sum(axis=1, keepdims=True), gauge=gauge, temperature=1.5, atol=1e-14
        )
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match=r"greater than 1.*normalize=True"):
        sk.inverse_softmax(counts)


def test_axes_batches_and_per_row_arrays(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(4), size=(3, 5))  # (3, 5, 4)
    t = np.array([[[0.5]], [[1.0]], [[2.0]]])  # one temperature per leading index
    v = np.linspace(-1, 1, 15).reshape(3, 5, 1)
    x = sk.inverse_softmax(p, temperature=t, value=v)
    for i in range(3):
        for j in range(5):
            row = sk.inverse_softmax(p[i, j], temperature=float(t[i, 0, 0]), value=v[i, j, 0])
            np.testing.assert_array_equal(x[i, j], row)
    np.testing.assert_allclose(x.mean(axis=-1), v[..., 0], atol=1e-15)
    # axis=0 is the transpose; a tuple of axes treats a (5, 4) block as one distribution
    q = np.moveaxis(p, -1, 0)
    np.testing.assert_array_equal(
        sk.inverse_softmax(q, axis=0), np.moveaxis(sk.inverse_softmax(p), -1, 0)
    )
    block = p[0] / 5
    xb = sk.inverse_softmax(block, axis=(0, 1), gauge="logsumexp")
    np.testing.assert_allclose(xb, np.log(block), rtol=1e-15)
    np.testing.assert_allclose(sk.softmax(xb, axis=None), block, rtol=1e-14)
    np.testing.assert_allclose(sk.inverse_softmax(block, axis=None), xb - xb.mean(), atol=1e-15)


def test_dtypes() -> None:
    one_hot = np.array([[0, 1, 0], [1, 0, 0]])
    x = sk.inverse_softmax(one_hot, gauge="sum", value=3.0)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, [[-INF, 3.0, -INF], [3.0, -INF, -INF]])
    h = np.array([0.25, 0.75], dtype=np.float16)
    xh = sk.inverse_softmax(h)
    assert xh.dtype == np.float16
    np.testing.assert_array_equal(xh, np.array([-math.log(3) / 2, math.log(3) / 2], np.float16))
    assert sk.inverse_softmax(h, dtype=np.float64).dtype == np.float64
    # the default tolerance follows the input dtype: a float16 row off by 1e-3 is accepted
    assert sk.inverse_softmax(np.array([0.25, 0.7505], dtype=np.float16)).dtype == np.float16
    with pytest.raises(ValueError, match="sum to"):
        sk.inverse_softmax(np.array([0.25, 0.7505]))


def test_degenerate_shapes() -> None:
    # no axis: every entry is its own distribution, which must be 1
    np.testing.assert_array_equal(sk.inverse_softmax(np.array([1.0, 1.0]), axis=()), [0.0, 0.0])
    assert sk.inverse_softmax(np.float64(1.0), gauge="logsumexp", value=2.0) == 2.0
    with pytest.raises(ValueError, match=r"row p\[0\]: the probabilities sum to 0.5"):
        sk.inverse_softmax(np.array([0.5, 1.0]), axis=())
    assert sk.inverse_softmax(np.zeros((0, 3))).shape == (0, 3)
    assert sk.inverse_softmax(np.zeros((3, 0))).shape == (3, 0)  # rows of no entries: empty
    np.testing.assert_array_equal(sk.base_logits(np.ones((2, 1))), np.empty((2, 0)))
    ld = sk.base_logits_log_det_jacobian(np.ones((2, 1)))
    assert ld.tolist() == [0.0, 0.0] and not np.signbit(ld).any()  # the empty determinant


def test_atol() -> None:
    p = np.array([0.5, 0.5 + 1e-9])
    with pytest.raises(ValueError, match=r"row p\[:\]: the probabilities sum to 1.000000001"):
        sk.inverse_softmax(p)
    x = sk.inverse_softmax(p, atol=1e-8, gauge="logsumexp")
    assert sk.logsumexp(x) == pytest.approx(0.0, abs=1e-16)  # the gauge still holds exactly
    n_eps = 4 * 2 * np.finfo(np.float64).eps
    sk.inverse_softmax(np.array([0.5, 0.5 + 0.9 * n_eps]))  # within the default 4·n·eps
    with pytest.raises(ValueError, match="atol"):
        sk.inverse_softmax(np.array([0.5, 0.5 + 1.5 * n_eps]))


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "kwargs", "message"),
    [
        ([[0.5, 0.5], [1.2, 0.2]], {}, r"p\[1, 0\] = 1.2 is greater than 1"),
        ([[0.5, 0.5], [1.2, -0.2]], {}, r"p\[1, 1\] = -0.2 is negative"),  # checked first
        ([[0.5, 0.5], [0.3, -0.2]], {"normalize": True}, r"p\[1, 1\] = -0.2 is negative"),
        ([[0.5, np.nan], [0.3, 0.7]], {}, r"p\[0, 1\] = nan is NaN"),
        ([[0.5, 0.5], [np.inf, 0.7]], {"normalize": True}, r"p\[1, 0\] = inf is infinite"),
        ([[0.5, 0.5], [0.3, 0.6]], {}, r"row p\[1, :\]: the probabilities sum to 0.8999"),
        ([[0.5, 0.3], [0.5, 0.6]], {"axis": 0}, r"row p\[:, 1\]: the probabilities sum to 0.899"),
        ([[0.5, 0.5], [0.0, 0.0]], {"normalize": True}, r"row p\[1, :\]: the entries sum to 0"),
        ([[0.5, 0.5]], {"gauge": "clr"}, r"gauge='clr' is not a gauge; expected one of 'center'"),
        ([[0.5, 0.5]], {"gauge": "reference", "reference": 2}, r"reference=2 is out of range"),
        ([[0.5, 0.5]], {"gauge": "reference", "axis": None}, "axis must be a single integer"),
        (
            [[0.5, 0.5], [0.0, 1.0]],
            {"gauge": "reference"},
            r"p\[1, 0\] = 0 at the reference index 0 \(row p\[1, :\]\).*gauge='center'",
        ),
        (
            [[0.5, 0.5], [0.3, 0.7]],
            {
                "gauge": "reference",
                "reference": -2,
                "where": np.array([[1, 1], [0, 1]], bool),
                "normalize": True,
            },
            r"p\[1, 0\] is masked at the reference index 0",
        ),
        ([[0.5, 0.5]], {"temperature": 0}, "temperature=0 is not allowed.*not invertible"),
        ([[0.5, 0.5]], {"temperature": np.inf}, "temperature=inf is not allowed.*not invertible"),
        ([[0.5, 0.5]], {"temperature": np.array([[0.0]])}, r"temperature\[0, 0\] = 0.0"),
        ([[0.5, 0.5]], {"temperature": -1.0}, "temperature=-1.0 is invalid"),
        ([[0.5, 0.5]], {"value": np.nan}, "value=nan is invalid"),
        ([[0.5, 0.5]], {"value": np.array([[np.inf]])}, r"value\[0, 0\] = inf is invalid"),
        ([[0.5, 0.5]], {"atol": -1.0}, "atol=-1.0 is invalid"),
    ],
)
def test_errors_name_position_and_value(p: Any, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        sk.inverse_softmax(np.array(p), **kwargs)
    assert str(info.value).startswith("inverse_softmax: ")


def test_float32_values_print_as_float32() -> None:
    with pytest.raises(ValueError, match=r"p\[2\] = 1.1 is greater than 1"):
        sk.inverse_softmax(np.array([0.0, 0.0, 1.1], dtype=np.float32))


def test_type_errors() -> None:
    with pytest.raises(TypeError, match="reference must be an integer"):
        sk.inverse_softmax(np.array([0.5, 0.5]), gauge="reference", reference=0.5)
    with pytest.raises(TypeError, match="p must hold real numbers"):
        sk.inverse_softmax(np.array(["a", "b"]))


# --------------------------------------------------------------------------------------------
# base state
# --------------------------------------------------------------------------------------------


def test_base_softmax_inserts_the_fixed_state(rng: np.random.Generator) -> None:
    z = rng.normal(size=(4, 3)) * 3
    for base in (0, 2, -1, -4):
        got = sk.base_softmax(z, base=base, temperature=0.7)
        x = np.insert(z, base % 4, 0.0, axis=1)
        np.testing.assert_array_equal(got, sk.softmax(x, temperature=0.7))
    # axis 0, and TFP's SoftmaxCentered example (fixed state last)
    np.testing.assert_array_equal(sk.base_softmax(z.T, axis=0), sk.base_softmax(z).T)
    np.testing.assert_allclose(
        sk.base_softmax(np.log([2.0, 3.0, 4.0]), base=-1), [0.2, 0.3, 0.4, 0.1], rtol=1e-15
    )


def test_base_softmax_extended_reals_and_mask() -> None:
    z = np.array(
        [
            [-INF, 1.0, 0.0],  # -inf: probability 0
            [-INF, -INF, -INF],  # all -inf: the base state takes everything
            [INF, 1.0, INF],  # +inf entries share the mass, the base gets 0
            [np.nan, 0.0, 0.0],  # NaN: its row only
        ]
    )
    got = sk.base_softmax(z, base=1)
    e = math.e
    np.testing.assert_allclose(got[0], [0, 1 / (2 + e), e / (2 + e), 1 / (2 + e)], rtol=1e-15)
    np.testing.assert_array_equal(got[1], [0, 1, 0, 0])
    np.testing.assert_array_equal(got[2], [0.5, 0, 0, 0.5])
    assert np.isnan(got[3]).all()
    np.testing.assert_array_equal(sk.base_softmax(np.empty((2, 0))), [[1.0], [1.0]])
    masked = sk.base_softmax(np.array([5.0, 0.0]), where=np.array([False, True]))
    np.testing.assert_array_equal(masked, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(sk.base_softmax(np.array([1.0, -2.0]), temperature=0), [0, 1, 0])


def test_base_logits_is_the_exact_inverse(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(5), size=50)
    p[::5, 3] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    for base, t in [(0, 1.0), (2, 0.25), (-1, 4.0)]:
        z = sk.base_logits(p, base=base, temperature=t)
        assert z.shape == (50, 4)
        # it is inverse_softmax(gauge="reference", value=0) with the base dropped, bit for bit
        x = sk.inverse_softmax(p, gauge="reference", reference=base, temperature=t)
        np.testing.assert_array_equal(z, np.delete(x, base % 5, axis=1))
        back = sk.base_softmax(z, base=base, temperature=t)
        assert roundtrip_excess(p, x, back, t).max() <= 0
        assert np.array_equal(back == 0, p == 0)
    # and the other way round: z -> p -> z, to a few ulp of |z| plus the rounding of p
    z = rng.normal(size=(50, 4)) * 5
    zz = sk.base_logits(sk.base_softmax(z, base=1, temperature=2.0), base=1, temperature=2.0)
    np.testing.assert_allclose(zz, z, rtol=0, atol=2.0 * 16 * np.finfo(float).eps * 20)


def test_base_errors() -> None:
    with pytest.raises(ValueError, match=r"base_logits: p\[1, 0\] = 0 at the base index 0.*base"):
        sk.base_logits(np.array([[0.5, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"base=3 is out of range for the output \(axis 0\)"):
        sk.base_softmax(np.array([0.5, 0.5]), base=3)
    with pytest.raises(ValueError, match="base=-3 is out of range for p"):
        sk.base_logits(np.array([0.5, 0.5]), base=-3)
    with pytest.raises(ValueError, match="axis must be a single integer"):
        sk.base_softmax(np.zeros((2, 2)), axis=(0, 1))
    with pytest.raises(ValueError, match="base_logits: temperature=0 is not allowed"):
        sk.base_logits(np.array([0.5, 0.5]), temperature=0.0)
    with pytest.raises(ValueError, match=r"base_softmax: temperature=-2\.0 is invalid"):
        sk.base_softmax(np.array([0.5, 0.5]), temperature=-2.0)
    with pytest.raises(ValueError, match="at least one dimension"):
        sk.base_softmax(np.float64(1.0))


# --------------------------------------------------------------------------------------------
# log-determinants against mpmath
# --------------------------------------------------------------------------------------------


def mp_base_softmax(z: list[Any], t: Any, base: int) -> list[Any]:
    x = [mpmath.mpf(0), *z] if base == 0 else [*z[:base], mpmath.mpf(0), *z[base:]]
    e = [mpmath.exp(v / t) for v in x]
    s = mpmath.fsum(e)
    return [v / s for v in e]


def mp_jacobian(f: Any, at: list[Any], rows: list[int]) -> mpmath.matrix:
    """J[k, l] = d f(at)[rows[k]] / d at[l], by mpmath's high-precision differentiation."""
    m = len(at)
    jac = mpmath.matrix(len(rows), m)
    for col in range(m):
        order = tuple(1 if c == col else 0 for c in range(m))
        for r, k in enumerate(rows):
            jac[r, col] = mpmath.diff(lambda *v, k=k: f(list(v))[k], tuple(at), order)
    return jac


@pytest.mark.parametrize(("n", "base", "t"), [(2, 0, 1.0), (4, 0, 1.0), (4, 2, 0.5), (5, -1, 3.0)])
def test_log_det_jacobians_against_mpmath_determinants(
    rng: np.random.Generator, n: int, base: int, t: float
) -> None:
    b = base % n
    z = rng.normal(size=n - 1) * 1.5
    zm = [mpmath.mpf(float(v)) for v in z]
    tm = mpmath.mpf(t)
    full = mp_jacobian(lambda v: mp_base_softmax(v, tm, b), zm, list(range(n)))
    free_rows = [k for k in range(n) if k != b]
    free = mpmath.matrix([[full[k, c] for c in range(n - 1)] for k in free_rows])
    want_free = mpmath.log(abs(mpmath.det(free)))
    want_tfp = mpmath.log(mpmath.sqrt(mpmath.det(full.T * full)))
    got_free = sk.base_softmax_log_det_jacobian(z, base=base, temperature=t)
    got_tfp = sk.base_softmax_log_det_jacobian(z, base=base, temperature=t, convention="tfp")
    assert float(abs(got_free - want_free) / abs(want_free)) <= 1e-12
    assert float(abs(got_tfp - want_tfp) / abs(want_tfp)) <= 1e-12
    assert float(want_tfp - want_free) == pytest.approx(0.5 * math.log(n), rel=1e-13)

    # the inverse: free coordinates (p_k)_{k != base} -> z, p_base = 1 - sum of the others
    p = sk.base_softmax(z, base=base, temperature=t)
    q = [mpmath.mpf(float(p[k])) for k in free_rows]

    def inverse(v: list[Any]) -> list[Any]:
        pb = 1 - mpmath.fsum(v)
        return [tm * (mpmath.log(w) - mpmath.log(pb)) for w in v]

    want_inv = mpmath.log(abs(mpmath.det(mp_jacobian(inverse, q, list(range(n - 1))))))
    got_inv = sk.base_logits_log_det_jacobian(p, base=base, temperature=t)
    assert float(abs(got_inv - want_inv) / abs(want_inv)) <= 1e-12
    got_inv_tfp = sk.base_logits_log_det_jacobian(p, base=base, temperature=t, convention="tfp")
    assert float(abs(got_inv_tfp - (want_inv - mpmath.log(n) / 2))) <= 1e-12 * abs(want_inv)


def test_tfp_convention_is_tfps_formula(rng: np.random.Generator) -> None:
    """SoftmaxCentered.forward_log_det_jacobian = ½log(n) + Σz − n·softplus(logsumexp(z))."""
    z = rng.normal(size=(6, 3)) * 2
    n = 4
    lse = np.log(np.exp(z).sum(axis=1))
    tfp = 0.5 * np.log(n) + z.sum(axis=1) - n * np.logaddexp(0.0, lse)
    got = sk.base_softmax_log_det_jacobian(z, base=-1, convention="tfp")
    np.testing.assert_allclose(got, tfp, rtol=1e-14)
    # and its inverse_log_det_jacobian = -(½log(n) + Σ log y)
    y = sk.base_softmax(z, base=-1)
    np.testing.assert_allclose(
        sk.base_logits_log_det_jacobian(y, base=-1, convention="tfp"),
        -(0.5 * np.log(n) + np.log(y).sum(axis=1)),
        rtol=1e-14,
    )


def test_log_det_edge_cases() -> None:
    # saturated rows: the determinant underflows, its log does not
    assert sk.base_softmax_log_det_jacobian(np.array([1000.0])) == -1000.0
    np.testing.assert_array_equal(
        sk.base_softmax_log_det_jacobian(np.array([[-INF, 0.0], [INF, 0.0], [np.nan, 0.0]])),
        [-INF, -INF, np.nan],
    )
    assert sk.base_softmax_log_det_jacobian(np.empty(0)) == 0.0  # n = 1: the empty determinant
    assert sk.base_logits_log_det_jacobian(np.array([0.5, 0.0, 0.5])) == INF
    t = np.array([0.5, 2.0])
    z = np.array([[0.3, -0.1], [0.3, -0.1]])
    got = sk.base_softmax_log_det_jacobian(z, temperature=t[:, None])
    for i in range(2):
        assert got[i] == sk.base_softmax_log_det_jacobian(z[i], temperature=float(t[i]))
    p = np.array([2.0, 1.0, 1.0])
    np.testing.assert_allclose(
        sk.base_logits_log_det_jacobian(p, normalize=True),
        sk.base_logits_log_det_jacobian(p / 4),
        rtol=1e-15,
    )
    with pytest.raises(ValueError, match="convention='tf' is unknown; expected one of 'free'"):
        sk.base_softmax_log_det_jacobian(z, convention="tf")
    with pytest.raises(ValueError, match="temperature=inf is not allowed"):
        sk.base_softmax_log_det_jacobian(z, temperature=INF)
    with pytest.raises(ValueError, match=r"p\[0\] = 0 at the base index 0"):
        sk.base_logits_log_det_jacobian(np.array([0.0, 1.0]))


# --------------------------------------------------------------------------------------------
# backends
# --------------------------------------------------------------------------------------------


def test_torch(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    p = rng.dirichlet(np.ones(4), size=6)
    p[0, 2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    tp = torch.from_numpy(p)
    for gauge in GAUGES:
        got = sk.inverse_softmax(tp, gauge=gauge, temperature=2.0, reference=1)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        want = sk.inverse_softmax(p, gauge=gauge, temperature=2.0, reference=1)
        np.testing.assert_allclose(got.numpy(), want, rtol=4e-16, atol=4e-16)
    z = sk.base_logits(tp, base=1)
    np.testing.assert_array_equal(z.numpy(), sk.base_logits(p, base=1))
    np.testing.assert_allclose(sk.base_softmax(z, base=1).numpy(), p, rtol=1e-14)
    ld = sk.base_softmax_log_det_jacobian(z, base=1)
    np.testing.assert_allclose(ld.numpy(), sk.base_softmax_log_det_jacobian(z.numpy(), base=1))
    bad = tp.clone()
    bad[3, 1] = -0.5
    with pytest.raises(ValueError, match=r"p\[3, 1\] = -0.5 is negative"):
        sk.inverse_softmax(bad)
    # float32 stays float32; gradients flow: x_i = log p_i - log Σp, so d(Σx)/dp_i = 1/p_i - n/Σp
    t32 = torch.tensor([0.25, 0.75], dtype=torch.float32, requires_grad=True)
    x = sk.inverse_softmax(t32, gauge="logsumexp")
    assert x.dtype == torch.float32
    x.sum().backward()
    np.testing.assert_allclose(t32.grad.numpy(), [4.0 - 2.0, 4 / 3 - 2.0], rtol=1e-6)


@pytest.mark.parametrize("kind", ["jax", "dask", "array_api_strict"])
def test_other_backends(rng: np.random.Generator, kind: str) -> None:
    p = rng.dirichlet(np.ones(5), size=4)
    p[1, 0] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    with contextlib.ExitStack() as stack:
        if kind == "jax":
            jax = pytest.importorskip("jax")
            stack.enter_context(jax.enable_x64(True))  # float64, for this test only
            import jax.numpy as jnp

            to, back = jnp.asarray, np.asarray
        elif kind == "dask":
            da = pytest.importorskip("dask.array")
            to, back = (lambda a: da.from_array(a, chunks=(2, 5))), (lambda a: a.compute())
        else:
            xps = pytest.importorskip("array_api_strict")
            to, back = xps.asarray, np.asarray
        # concrete JAX arrays are checked like NumPy ones; only Dask (and traced JAX) are lazy
        check_backend(p, to, back, lazy=kind == "dask")


def check_backend(p: np.ndarray, to: Any, back: Any, *, lazy: bool) -> None:
    for gauge in GAUGES:
        got = sk.inverse_softmax(to(p), gauge=gauge, temperature=0.5, reference=2)
        assert type(got) is type(to(p))
        want = sk.inverse_softmax(p, gauge=gauge, temperature=0.5, reference=2)
        np.testing.assert_allclose(back(got), want, rtol=4e-16, atol=4e-16)
    z = sk.base_logits(to(p), base=-1)
    np.testing.assert_allclose(back(sk.base_softmax(z, base=-1)), p, rtol=1e-14, atol=0)
    np.testing.assert_allclose(
        back(sk.base_logits_log_det_jacobian(to(p), base=-1)),
        sk.base_logits_log_det_jacobian(p, base=-1),
        rtol=1e-15,
    )
    bad = p.copy()
    bad[2, 3] = -0.25
    if not lazy:
        with pytest.raises(ValueError, match=r"p\[2, 3\] = -0.25 is negative"):
            sk.inverse_softmax(to(bad))
    else:
        # lazy arrays are not inspected: a row that fails a check comes out NaN
        out = back(sk.inverse_softmax(to(bad)))
        assert np.isnan(out[2]).all() and not np.isnan(np.delete(out, 2, axis=0)).any()
        off = p.copy()
        off[0] *= 1.5  # sums to 1.5
        ref0 = p.copy()
        ref0[3] = [0.5, 0.0, 0.5, 0.0, 0.0]  # a zero at the reference
        for arr, kw in [(off, {}), (ref0, {"gauge": "reference", "reference": 1})]:
            out = back(sk.inverse_softmax(to(arr), **kw))
            nan_rows = np.isnan(out).all(axis=1)
            assert nan_rows.tolist() == [bool(arr is off), False, False, bool(arr is ref0)]
        assert np.isnan(back(sk.base_logits_log_det_jacobian(to(ref0), base=1))).tolist() == [
            False,
            False,
            False,
            True,
        ]


def test_jax_jit() -> None:
    jax = pytest.importorskip("jax")
    p = np.array([[0.25, 0.25, 0.5], [0.5, 0.0, 0.5]], dtype=np.float32)
    for gauge in GAUGES:
        fn = jax.jit(lambda q, g=gauge: sk.inverse_softmax(q, gauge=g, temperature=2.0))
        np.testing.assert_allclose(
            np.asarray(fn(jax.numpy.asarray(p))),
            sk.inverse_softmax(p, gauge=gauge, temperature=2.0),
            rtol=1e-6,
        )
    ld = jax.jit(lambda q: sk.base_logits_log_det_jacobian(q, base=-1))(jax.numpy.asarray(p))
    np.testing.assert_allclose(np.asarray(ld), [math.log(32), INF], rtol=1e-6)
