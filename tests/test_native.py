"""The optional native kernel (``softmaxkit._base._native``) against the NumPy fast path and the
mpmath oracle.

What the design promises (``softmaxkit/_base/_native.c``): its ``exp`` is within 0.55 ulp
(measured ≤ 0.548 on 80000 arguments), exact at 0, with gradual underflow; rows go through the
NumPy fast path's arithmetic, so the results keep the accuracy suite's ulp bounds
(tests/test_maps.py); a row's bits depend on the row alone (not on its neighbours, the thread
count or the split of the rows); rows holding NaN or ±inf go to the generic kernel, so there,
and wherever the kernel is not used (float16, masks), both paths are bit-identical.
``SOFTMAXKIT_NATIVE=0`` switches it off.

The tests that need the built kernel are skipped where it is not built (a machine without a
C compiler); CI builds it and runs the accuracy suite both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import oracle
import pytest
from test_maps import make_case, ulp_bound

import softmaxkit as sk
from softmaxkit._base import fast, native

MAPS = ("softmax", "log_softmax", "logsumexp")
FLOATS = (np.dtype(np.float64), np.dtype(np.float32))

kernel = native.load()
needs_kernel = pytest.mark.skipif(kernel is None, reason=f"native kernel: {native.reason()}")


def _both(fn: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """``fn()`` with the native kernel, then with the NumPy fast path."""
    monkeypatch.delenv(native.ENV, raising=False)
    with_kernel = fn()
    monkeypatch.setenv(native.ENV, "0")
    numpy_path = fn()
    monkeypatch.delenv(native.ENV)
    return with_kernel, numpy_path


def _errors(name: str, x: np.ndarray, got: np.ndarray, **kw: Any) -> np.ndarray:
    dtype = x.dtype
    if name == "logsumexp":
        exact = oracle.logsumexp(x, **kw)
        scale = oracle.logsumexp_scale(x, exact, axis=-1)
        return oracle.ulp_error_scaled(got, exact, scale, dtype)
    return oracle.ulp_error(got, getattr(oracle, name)(x, **kw), dtype)


# --------------------------------------------------------------------------------------------
# the switch
# --------------------------------------------------------------------------------------------


def test_env_switch_turns_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("0", "off", "False"):
        monkeypatch.setenv(native.ENV, value)
        assert native.load() is None
        assert not native.enabled()
        assert native.ENV in native.reason() or "not built" in native.reason()


@needs_kernel
def test_kernel_is_used_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # The two paths round differently somewhere on float64 (different exp): if the switch did
    # nothing, every bit would agree.
    x = make_case("normal", np.float64, rows=64, cols=40)
    a, b = _both(lambda: sk.softmax(x), monkeypatch)
    assert not np.array_equal(a, b)
    assert native.reason().startswith("enabled (")
    assert kernel.isa() in ("avx512f", "avx2", "baseline")


# --------------------------------------------------------------------------------------------
# exp
# --------------------------------------------------------------------------------------------


@needs_kernel
def test_exp_within_055_ulp_and_exact_at_zero() -> None:
    rng = np.random.default_rng(17)
    a = np.concatenate([rng.uniform(-708, 709, 1500), rng.uniform(-1e-3, 1e-3, 300),
                        rng.uniform(-0.4, 0.4, 300), [0.0, -0.0, 1.0, -1.0, 709.78]])
    e = np.empty_like(a)
    kernel.exp(a, e)
    with mpmath.workprec(120):
        exact = [mpmath.exp(mpmath.mpf(float(v))) for v in a]
    err = oracle.ulp_error(e, exact, np.float64)
    assert err.max() <= 0.55, (a[np.argmax(err)], err.max())
    assert e[-5] == 1.0 and e[-4] == 1.0
    portable = np.empty_like(a)
    kernel.exp(a, portable, True)  # the plain C loop: the AVX-512 one must give the same bits
    np.testing.assert_array_equal(portable, e)


@needs_kernel
def test_exp_underflow_overflow_and_nan() -> None:
    tiny = np.finfo(np.float64).smallest_subnormal
    a = np.array([-720.0, -740.0, -744.4, -745.2, -746.0, -800.0, -1e300, -np.inf,
                  709.79, 710.0, 1e300, np.inf, np.nan])
    e = np.empty_like(a)
    kernel.exp(a, e)
    with mpmath.workprec(120):
        exact = [mpmath.exp(mpmath.mpf(float(v))) for v in a[:4]]
    # gradual underflow: within one unit of the smallest subnormal
    assert np.all(np.abs(e[:4] - np.array([float(v) for v in exact])) <= tiny)
    assert e[1] > 0 and e[2] > 0
    assert np.all(e[4:8] == 0.0)
    assert np.all(np.isposinf(e[8:12])) and np.isnan(e[12])


@needs_kernel
def test_rows_rejects_bad_arguments() -> None:
    x = np.zeros((2, 3))
    out = np.empty((2, 3))
    bad = np.zeros(2, dtype=np.uint8)
    with pytest.raises(TypeError, match="x: expected"):
        kernel.rows(x.astype(np.int64), out, 3, 0, None, bad, 0, 2)
    with pytest.raises(ValueError, match="sizes disagree"):
        kernel.rows(x, np.empty((2, 2)), 3, 0, None, bad, 0, 2)
    with pytest.raises(ValueError, match="t must be"):
        kernel.rows(x, out, 3, 0, 0.0, bad, 0, 2)
    with pytest.raises(ValueError, match="mode"):
        kernel.rows(x, out, 3, 7, None, bad, 0, 2)


# --------------------------------------------------------------------------------------------
# accuracy: both paths within the suite's bounds
# --------------------------------------------------------------------------------------------

SHAPES = [(40, 7), (30, 33), (3, 1500)]  # narrow (transposed blocks), wide, wide with long sums


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("case", ["normal", "scaled700", "subnormal", "ties"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_both_paths_within_ulp_bound(name: str, dtype: np.dtype, case: str,
                                     shape: tuple[int, int],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    x = make_case(case, dtype, rows=shape[0], cols=shape[1])
    bound = ulp_bound(name, dtype, case)
    for got in _both(lambda: getattr(sk, name)(x), monkeypatch):
        err = _errors(name, x, got)
        assert err.max() <= bound, (name, case, float(err.max()))


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("t", [0.37, 2.5, 3.0e5])
def test_both_paths_within_ulp_bound_with_temperature(name: str, dtype: np.dtype, t: float,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for shape in [(30, 9), (4, 300)]:
        x = make_case("scaled30", dtype, rows=shape[0], cols=shape[1])
        bound = ulp_bound(name, dtype)
        for got in _both(lambda x=x: getattr(sk, name)(x, temperature=t), monkeypatch):
            err = _errors(name, x, got, temperature=t)
            assert err.max() <= bound, (name, t, shape, float(err.max()))


# --------------------------------------------------------------------------------------------
# bit-identical where the paths coincide by design
# --------------------------------------------------------------------------------------------


def _special_rows(dtype: Any, n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((8, n)).astype(dtype)
    x[0, 1] = np.nan
    x[1, 0] = np.inf
    x[2, :] = -np.inf
    x[3, -1] = -np.inf
    x[4, 0], x[4, 1] = np.inf, -np.inf
    x[5, :2] = np.inf
    return x


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("n", [5, 64])
def test_special_rows_bit_identical(name: str, dtype: np.dtype, n: int,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """NaN / ±inf rows go to the generic kernel on both paths, whatever their neighbours."""
    x = _special_rows(dtype, n)
    with np.errstate(all="ignore"):
        a, b = _both(lambda: getattr(sk, name)(x), monkeypatch)
    np.testing.assert_array_equal(a[:6], b[:6])
    assert a.dtype == b.dtype == dtype


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_paths_identical_where_kernel_does_not_serve(name: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    x16 = make_case("normal", np.float16, rows=20, cols=40)
    a, b = _both(lambda: getattr(sk, name)(x16), monkeypatch)
    np.testing.assert_array_equal(a, b)
    x = make_case("normal", np.float64, rows=20, cols=40)
    where = np.random.default_rng(3).random(x.shape) < 0.8
    a, b = _both(lambda: getattr(sk, name)(x, where=where), monkeypatch)
    np.testing.assert_array_equal(a, b)
    # single-entry rows: exactly 1 / 0 on both
    a, b = _both(lambda: getattr(sk, name)(x[:, :1]), monkeypatch)
    np.testing.assert_array_equal(a, b)
    assert np.all(a == (1.0 if name == "softmax" else 0.0))


# --------------------------------------------------------------------------------------------
# batch invariance
# --------------------------------------------------------------------------------------------


def _mixed_batch(dtype: Any, n: int, rows: int) -> np.ndarray:
    """Rows of every kind: moderate (unshifted), wide spread (shifted), NaN/inf (generic)."""
    rng = np.random.default_rng(rows + n)
    x = rng.standard_normal((rows, n)) * rng.choice([1.0, 30.0, 900.0], size=(rows, 1))
    x[rng.random(rows) < 0.05, 0] = np.inf
    x[rng.random(rows) < 0.05, -1] = np.nan
    return x.astype(dtype)


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("n", [3, 32, 33, 3000])
@pytest.mark.parametrize("t", [1.0, 0.7])
def test_row_bits_do_not_depend_on_batch_or_threads(name: str, dtype: np.dtype, n: int,
                                                    t: float,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 2000 if n <= 33 else 40  # several blocks of rows and enough for the thread pool
    x = _mixed_batch(dtype, n, rows)
    fn = getattr(sk, name)
    with np.errstate(all="ignore"):
        whole = fn(x, temperature=t)
        picks = [0, 1, 7, rows // 2, rows - 1]
        for i in picks:
            alone = fn(x[i:i + 1], temperature=t)
            np.testing.assert_array_equal(alone[0], whole[i])
        shuffled = np.random.default_rng(0).permutation(rows)
        np.testing.assert_array_equal(fn(x[shuffled], temperature=t), whole[shuffled])
        monkeypatch.setenv("SOFTMAXKIT_NUM_THREADS", "1")
        np.testing.assert_array_equal(fn(x, temperature=t), whole)
        monkeypatch.setenv("SOFTMAXKIT_NUM_THREADS", "3")
        np.testing.assert_array_equal(fn(x, temperature=t), whole)


@needs_kernel
def test_kernel_spans_give_the_same_bits() -> None:
    """Direct calls on any split of the rows write the same bits (what the pool relies on)."""
    x = _mixed_batch(np.float64, 20, 700)
    for mode in (0, 1, 2):
        cols = 1 if mode == 2 else 20
        ref = np.empty((700, cols))
        bad_ref = np.zeros(700, dtype=np.uint8)
        kernel.rows(x, ref, 20, mode, None, bad_ref, 0, 700)
        out = np.empty((700, cols))
        bad = np.zeros(700, dtype=np.uint8)
        for a, b in [(0, 13), (13, 300), (300, 301), (301, 700)]:
            kernel.rows(x, out, 20, mode, None, bad, a, b)
        ok = bad_ref == 0
        np.testing.assert_array_equal(bad, bad_ref)
        np.testing.assert_array_equal(out[ok], ref[ok])
        flagged = ~np.isfinite(x).all(axis=1)
        np.testing.assert_array_equal(bad_ref.astype(bool), flagged)


@needs_kernel
def test_kernel_used_by_fast_path_with_out(monkeypatch: pytest.MonkeyPatch) -> None:
    x = make_case("normal", np.float32, rows=50, cols=70)
    out = np.empty_like(x)
    got = sk.log_softmax(x, out=out)
    assert got is out
    np.testing.assert_array_equal(out, sk.log_softmax(x))
    assert fast.num_threads() >= 1
