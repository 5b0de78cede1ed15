"""The two-class maps: sigmoid, log_sigmoid, logit, log1mexp and their derivatives.

Accuracy is measured against the mpmath oracle in ulps of the result dtype, over the whole
float range. Bounds: float32 and float16 inputs are computed in float64 on NumPy and rounded
once, so they are held to half an ulp (plus a hair). float64 is held to the error NumPy's own
``exp``/``log1p`` leave (each within 1 ulp, not correctly rounded): the quotient ``1/(1 + e)``
is formed in double-word arithmetic, so sigmoid adds only its final rounding (observed ≤ 1.07
ulp at T = 1), log_sigmoid ≤ 1.19, logit ≤ 0.87; with a temperature, ``exp`` sees ``x/T`` as a
double word and the bound is 2 ulp (observed ≤ 1.9).

Run with ``-s`` to print the table of errors, with SciPy's ``expit``/``log_expit``/``logit`` and
PyTorch's ``sigmoid``/``logsigmoid``/``logit`` on the same inputs (``test_report_table``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import oracle
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

import softmaxkit as sk

mpmath.mp.dps = 60
RNG = np.random.default_rng(20261206)


def _x64() -> np.ndarray:
    """Logits over the whole float64 range that matters (|x| up to 800) and beyond."""
    return np.concatenate([
        RNG.uniform(-750, 750, 250), RNG.uniform(-40, 40, 250), RNG.uniform(-1, 1, 100),
        np.sinh(RNG.uniform(-7, 7, 100)), -np.exp(RNG.uniform(-700, 6.6, 60)),
        [-745.0, -744.4, -709.7, -800.0, 36.0, 37.0, 40.0, 0.0, 1e-300, -1e-300, 5e-324, 1e300],
    ])


def _mp(v: float) -> mpmath.mpf:
    return mpmath.mpf(float(v))


def ref_sigmoid(x: np.ndarray, t: float = 1.0) -> np.ndarray:
    return np.array([1 / (1 + mpmath.exp(-_mp(v) / _mp(t))) for v in x.ravel()],
                    dtype=object).reshape(x.shape)


def ref_log_sigmoid(x: np.ndarray, t: float = 1.0) -> np.ndarray:
    return np.array([-mpmath.log1p(mpmath.exp(-_mp(v) / _mp(t))) for v in x.ravel()],
                    dtype=object).reshape(x.shape)


def ref_logit(p: np.ndarray) -> np.ndarray:
    return np.array([mpmath.log(_mp(v) / (1 - _mp(v))) for v in p.ravel()], dtype=object)


def ref_log1mexp(x: np.ndarray) -> np.ndarray:
    # expm1 keeps tiny |x| (1 − e^x cancels at 60 digits below |x| ~ 1e-60)
    return np.array([mpmath.log(-mpmath.expm1(_mp(v))) if v > -1 else
                     mpmath.log1p(-mpmath.exp(_mp(v))) for v in x], dtype=object)


def _probs() -> np.ndarray:
    return np.concatenate([
        RNG.uniform(0, 1, 300), 10.0 ** RNG.uniform(-300, 0, 200),
        1 - 10.0 ** RNG.uniform(-16, -0.1, 200), [0.25, np.nextafter(0.25, 0), 0.5,
                                                   np.nextafter(0.5, 1), 5e-324],
    ])


# --------------------------------------------------------------------------------------------
# accuracy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("t", "bound"), [(1.0, 1.5), (0.7, 2.0), (3.0, 2.0)])
def test_sigmoid_float64_accuracy(t: float, bound: float) -> None:
    x = _x64()
    err = oracle.ulp_error(sk.sigmoid(x, temperature=t), ref_sigmoid(x, t), np.float64)
    assert err.max() <= bound, (x[np.argmax(err)], err.max())
    err = oracle.ulp_error(sk.log_sigmoid(x, temperature=t), ref_log_sigmoid(x, t), np.float64)
    assert err.max() <= bound, (x[np.argmax(err)], err.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_correctly_rounded(dtype: type) -> None:
    with np.errstate(over="ignore"):
        x = np.unique(_x64().astype(dtype))
    x = x[np.isfinite(x)]
    for fn, ref in ((sk.sigmoid, ref_sigmoid), (sk.log_sigmoid, ref_log_sigmoid)):
        got = fn(x)
        assert got.dtype == dtype
        assert oracle.ulp_error(got, ref(x), dtype).max() <= 0.5001, fn.__name__


def test_logit_and_log1mexp_accuracy() -> None:
    p = _probs()
    assert oracle.ulp_error(sk.logit(p), ref_logit(p), np.float64).max() <= 1.0
    x = -np.exp(RNG.uniform(-700, 6.5, 400))
    assert oracle.ulp_error(sk.log1mexp(x), ref_log1mexp(x), np.float64).max() <= 1.5
    # logit with a temperature: one more rounding (the product by T)
    got = sk.logit(p[:200], temperature=0.3)
    ref = np.array([_mp(0.3) * v for v in ref_logit(p[:200])], dtype=object)
    assert oracle.ulp_error(got, ref, np.float64).max() <= 1.5


def test_published_values() -> None:
    # the brief's checkpoints: subnormal sigmoid, exact −800, the tiny log_sigmoid(40)
    assert sk.sigmoid(np.float64(-745.0)) == 5e-324
    assert sk.sigmoid(np.array(-744.4)) == float(ref_sigmoid(np.array([-744.4]))[0])
    assert sk.log_sigmoid(np.array(-800.0)) == -800.0
    assert sk.log_sigmoid(np.array(40.0)) == -4.248354255291589e-18
    assert np.log(scipy.special.expit(40.0)) == 0.0  # what forming σ first gives
    assert sk.logit(np.array(0.0)) == -np.inf and sk.logit(np.array(1.0)) == np.inf
    assert sk.logit(np.array(0.5)) == 0.0
    # logit near 1/2 keeps its relative precision (2·atanh(2p − 1), 2p − 1 exact)
    p = np.nextafter(0.5, 1.0)
    assert oracle.ulp_error(sk.logit(np.array([p])), ref_logit(np.array([p])),
                            np.float64).max() <= 0.5


# --------------------------------------------------------------------------------------------
# sigmoid(x) == softmax([x, 0])[0]
# --------------------------------------------------------------------------------------------


def _pair(x: np.ndarray) -> np.ndarray:
    return np.stack([x, np.zeros_like(x)], axis=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("t", [1.0, 0.5, 0.0, np.inf])
def test_equals_two_class_softmax_bitwise_low_precision(dtype: type, t: float) -> None:
    # Case 1: float32/float16 input — both maps compute in float64 and round once, so every
    # bit agrees (both results are the correctly rounded value whenever it is not a tie).
    with np.errstate(over="ignore"):
        x = np.concatenate([_x64(), [np.inf, -np.inf]]).astype(dtype)
    np.testing.assert_array_equal(sk.sigmoid(x, temperature=t),
                                  sk.softmax(_pair(x), temperature=t)[..., 0])
    np.testing.assert_array_equal(sk.log_sigmoid(x, temperature=t),
                                  sk.log_softmax(_pair(x), temperature=t)[..., 0])


def test_equals_two_class_softmax_where_exact() -> None:
    # Case 2: float64 where the rounded value is certain: x = 0 (1/2), ±inf (1, 0), x ≥ 39
    # (1 − e^−39 rounds to 1), T = 0 (hardmax: 0, 1/2, 1) and T = inf (1/2 for finite x).
    x = np.array([0.0, np.inf, -np.inf, 39.0, 50.0, 700.0, 1e308])
    np.testing.assert_array_equal(sk.sigmoid(x), sk.softmax(_pair(x))[..., 0])
    np.testing.assert_array_equal(sk.sigmoid(x), [0.5, 1, 0, 1, 1, 1, 1])
    y = _x64()
    for t in (0.0, np.inf):
        np.testing.assert_array_equal(sk.sigmoid(y, temperature=t),
                                      sk.softmax(_pair(y), temperature=t)[..., 0])
    # Case 3: float64 elsewhere — both within their bounds of the exact value, so within
    # 2 ulp of each other (sigmoid is the more accurate one: see the accuracy tests).
    s, p = sk.sigmoid(y), sk.softmax(_pair(y))[..., 0]
    assert np.all(np.abs(s - p) <= 2 * np.spacing(np.abs(p)))
    # (at x = 37 the exact 1 − 8.5e−17 rounds to 1 − 2**−53; sigmoid has it, softmax 1.0)
    assert sk.sigmoid(np.array(37.0)) == 1 - 2.0**-53


# --------------------------------------------------------------------------------------------
# edge cases and errors
# --------------------------------------------------------------------------------------------


def test_limits_and_nan() -> None:
    x = np.array([-np.inf, -2.0, 0.0, 3.0, np.inf, np.nan])
    np.testing.assert_array_equal(sk.sigmoid(x, temperature=0), [0, 0, 0.5, 1, 1, np.nan])
    np.testing.assert_array_equal(sk.sigmoid(x, temperature=np.inf),
                                  [0, 0.5, 0.5, 0.5, 1, np.nan])
    ls = sk.log_sigmoid(x, temperature=0)
    np.testing.assert_array_equal(ls, [-np.inf, -np.inf, -math.log(2), 0, 0, np.nan])
    assert not np.signbit(ls[3])  # 0, not −0
    np.testing.assert_array_equal(sk.log_sigmoid(x, temperature=np.inf),
                                  [-np.inf, -math.log(2), -math.log(2), -math.log(2), 0, np.nan])
    # one temperature per entry, limits included
    t = np.array([0.0, 0.0, 2.0, np.inf, 1.0, 1.0])
    np.testing.assert_array_equal(sk.sigmoid(x, temperature=t),
                                  [0, 0, 0.5, 0.5, 1, np.nan])
    np.testing.assert_allclose(sk.sigmoid(np.array(3.0), temperature=2.0),
                               1 / (1 + math.exp(-1.5)), rtol=1e-15)
    # integers promote; log1mexp's ends
    assert sk.sigmoid(np.array([0, 1])).dtype == np.float64
    ends = sk.log1mexp(np.array([-np.inf, 0.0]))
    np.testing.assert_array_equal(ends, [0.0, -np.inf])
    assert not np.signbit(ends[0])


def test_logit_errors_name_the_position() -> None:
    p = np.array([[0.1, 0.2, 0.3], [0.4, 1.25, 0.6]])
    with pytest.raises(sk.InvalidProbabilityError, match=r"logit: p\[1, 1\] = 1.25 is greater"
                       ) as info:
        sk.logit(p)
    assert info.value.index == (1, 1) and info.value.kind == "greater"
    with pytest.raises(sk.InvalidProbabilityError, match=r"p\[2\] = -0.5 is negative"):
        sk.logit(np.array([0.0, 1.0, -0.5]))
    with pytest.raises(sk.InvalidProbabilityError, match=r"p\[0\] = nan is NaN"):
        sk.logit(np.array([np.nan]))
    with pytest.raises(ValueError, match="temperature=0 is not allowed"):
        sk.logit(np.array([0.5]), temperature=0)
    with pytest.raises(ValueError, match="temperature=inf is not allowed"):
        sk.logit(np.array([0.5]), temperature=np.inf)
    with pytest.raises(ValueError, match=r"temperature\[1\] = 0.0"):
        sk.logit(np.array([0.5, 0.5]), temperature=np.array([1.0, 0.0]))
    with pytest.raises(sk.InvalidInputError, match=r"log1mexp: x\[1\] = 0.5 is positive"):
        sk.log1mexp(np.array([-1.0, 0.5]))
    with pytest.raises(ValueError, match="temperature"):
        sk.sigmoid(np.array([1.0]), temperature=-1.0)
    with pytest.raises(TypeError, match="sigmoid: x must hold real numbers"):
        sk.sigmoid(np.array(["a"]))


def test_round_trip() -> None:
    x = RNG.uniform(-30, 30, 500)
    for t in (1.0, 0.25, 4.0):
        x = RNG.uniform(-30 * t, 30 * t, 500)
        back = sk.logit(sk.sigmoid(x, temperature=t), temperature=t)
        # σ is rounded once: x moves by |dx| ≈ ulp(σ)/σ' = T·ulp(σ)/(σ(1−σ))
        s = sk.sigmoid(x, temperature=t)
        s = np.where((s > 0) & (s < 1), s, 0.5)  # (σ = 0 or 1 loses x: not a round trip)
        tol = 2 * t * np.spacing(s) / (s * (1 - s)) + 4 * np.spacing(np.abs(x))
        assert np.all(np.abs(back - x) <= tol)
    np.testing.assert_allclose(sk.log1mexp(sk.log_sigmoid(x)), sk.log_sigmoid(-x),
                               rtol=1e-13, atol=1e-300)


@given(
    st.lists(st.one_of(st.floats(allow_nan=False), st.sampled_from([np.inf, -np.inf])),
             min_size=1, max_size=8),
    st.one_of(st.floats(0, 1e6), st.sampled_from([0.0, np.inf])),
)
def test_no_stray_nan(values: list[float], t: float) -> None:
    x = np.array(values)
    for fn in (sk.sigmoid, sk.log_sigmoid):
        out = fn(x, temperature=t)
        assert not np.isnan(out).any(), (fn.__name__, x, t, out)
    s = sk.sigmoid(x, temperature=t)
    assert np.all((s >= 0) & (s <= 1))
    assert not np.isnan(sk.sigmoid_jvp(x, np.ones_like(x), temperature=t)).any()
    assert not np.isnan(sk.log_sigmoid_jvp(x, np.ones_like(x), temperature=t)).any()
    assert not np.isnan(sk.logit(s)).any()


# --------------------------------------------------------------------------------------------
# derivatives
# --------------------------------------------------------------------------------------------


def test_derivatives_against_mpmath() -> None:
    # References: the derivatives' closed forms evaluated at 60 digits (σ(−x) for 1 − σ).
    x = np.array([-700.0, -30.0, -1.5, -1e-9, 0.0, 0.3, 2.0, 35.0, 600.0])
    for t in (1.0, 0.6):
        tm = _mp(t)
        s = [1 / (1 + mpmath.exp(-_mp(v) / tm)) for v in x]
        c = [1 / (1 + mpmath.exp(_mp(v) / tm)) for v in x]
        refs = {
            sk.sigmoid_jacobian: [a * b / tm for a, b in zip(s, c, strict=True)],
            sk.sigmoid_hessian: [a * b * (b - a) / tm**2 for a, b in zip(s, c, strict=True)],
            sk.log_sigmoid_jacobian: [b / tm for b in c],
            sk.log_sigmoid_hessian: [-a * b / tm**2 for a, b in zip(s, c, strict=True)],
        }
        for fn, ref in refs.items():
            err = oracle.ulp_error(fn(x, temperature=t), np.array(ref, dtype=object), np.float64)
            assert err.max() <= 4, (fn.__name__, t, err)
        # a finite-difference sanity check of the closed forms themselves (mpmath, exact input)
        d = mpmath.diff(lambda v, tm=tm: 1 / (1 + mpmath.exp(-v / tm)), _mp(0.3))
        assert abs(float(d) - sk.sigmoid_jacobian(np.array(0.3), temperature=t)) < 1e-15
    p = np.array([1e-200, 1e-5, 0.2, 0.5 + 1e-12, 0.75, 1 - 1e-9])
    tm = _mp(0.5)
    d1 = [tm / (_mp(v) * (1 - _mp(v))) for v in p]
    d2 = [tm * (2 * _mp(v) - 1) / (_mp(v) * (1 - _mp(v))) ** 2 for v in p]
    assert oracle.ulp_error(sk.logit_jacobian(p, temperature=0.5), np.array(d1, dtype=object),
                            np.float64).max() <= 2
    # the factor 2p − 1 is exact, and 1 − p is exact above 1/2
    assert oracle.ulp_error(sk.logit_hessian(p, temperature=0.5), np.array(d2, dtype=object),
                            np.float64).max() <= 4


def test_derivative_dispatch_and_edges() -> None:
    x = np.array([-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan])
    v = np.array([np.inf, 1.0, 2.0, -1.0, np.nan, 1.0])
    got = sk.jvp(sk.sigmoid, x, v, temperature=2.0)
    s = sk.sigmoid(x[1:4], temperature=2.0)
    np.testing.assert_allclose(got[1:4], s * (1 - s) * v[1:4] / 2, rtol=1e-15)
    assert got[0] == 0 and got[4] == 0 and np.isnan(got[5])  # ignored tangents, NaN row
    np.testing.assert_array_equal(sk.vjp("sigmoid", x, v), sk.sigmoid_vjp(x, v))
    np.testing.assert_array_equal(sk.jacobian(sk.log_sigmoid, x),
                                  sk.log_sigmoid_jacobian(x))
    np.testing.assert_array_equal(sk.log_sigmoid_jacobian(x)[[0, 4]], [0.0, 0.0])
    np.testing.assert_array_equal(sk.hessian(sk.logit, np.array([0.0, 0.5, 1.0])), [0, 0, 0])
    np.testing.assert_array_equal(sk.jvp(sk.logit, np.array([0.0, 1.0]),
                                         np.array([np.inf, 1.0])), [0.0, 0.0])
    # T = 0 and T = inf: locally constant maps
    for t in (0.0, np.inf):
        np.testing.assert_array_equal(sk.sigmoid_jacobian(x[:5], temperature=t), np.zeros(5))
        np.testing.assert_array_equal(sk.log_sigmoid_hessian(x[:5], temperature=t), np.zeros(5))
    # the derivative keeps its relative precision in the tail (1 − σ as σ(−x))
    assert sk.sigmoid_jacobian(np.array(40.0)) == pytest.approx(4.248354255291589e-18,
                                                                rel=1e-15)
    assert sk.log_sigmoid_jacobian(np.array(40.0)) == pytest.approx(4.248354255291589e-18,
                                                                    rel=1e-15)


# --------------------------------------------------------------------------------------------
# the table for the README: ours, SciPy and PyTorch against mpmath
# --------------------------------------------------------------------------------------------


def test_report_table(capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    x = _x64()
    p = _probs()
    rs, rl, rp = ref_sigmoid(x), ref_log_sigmoid(x), ref_logit(p)
    tx, tp = torch.from_numpy(x), torch.from_numpy(p)
    rows = [
        ("sigmoid", sk.sigmoid(x), scipy.special.expit(x), torch.sigmoid(tx).numpy(), rs),
        ("log_sigmoid", sk.log_sigmoid(x), scipy.special.log_expit(x),
         torch.nn.functional.logsigmoid(tx).numpy(), rl),
        ("logit", sk.logit(p), scipy.special.logit(p), torch.logit(tp).numpy(), rp),
    ]
    lines = ["| map (float64) | softmaxkit | scipy.special | torch |", "|---|---|---|---|"]
    for name, ours, sp, th, ref in rows:
        e = [oracle.ulp_error(a, ref, np.float64).max() for a in (ours, sp, th)]
        assert e[0] <= min(e[1:]) + 0.1, (name, e)  # never worse than the peers
        lines.append(f"| {name} | {e[0]:.2f} | {e[1]:.3g} | {e[2]:.3g} |")
    with capsys.disabled():
        print("\nmax ulp error vs mpmath over", x.size, "logits /", p.size, "probabilities")
        print("\n".join(lines))
