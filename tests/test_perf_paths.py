"""The fast paths give the numbers of the paths they bypass.

* ``MultinomialLogit``: a small fit runs its BLAS products on one thread (``_threads``); the
  estimates equal those of a fit with the default threads, the thread counts come back after
  the fit (also after it raised), and the lazily run separation test still fires. Rows mapped
  from a file (``numpy.memmap``, as the ``mlogit`` command hands them over) are fitted in
  blocks without copying them into memory, to the in-memory estimates.
* ``clr``: the three-pass path for positive float arrays is the general path bit for bit; what
  it does not cover (zeros, bad parts) still reaches the general path and its messages.
* float32 ``softmax_vjp``/``softmax_jvp`` computed in float32: within a few float32 ulp of
  ``p_i (|w_i| + |⟨p, w⟩|)`` of the float64 derivative at the same inputs, and the special
  rows still resolved by the generic path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import softmaxkit as sk
from softmaxkit.compositions import clr
from softmaxkit.inverse import inverse_softmax
from softmaxkit.mlogit import MultinomialLogit, SeparationError, SeparationWarning

# --------------------------------------------------------------------------- mlogit


def _draw(n: int, k: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    coef = rng.normal(scale=0.5, size=(p, k))
    eta = x @ coef
    prob = np.exp(eta - eta.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    y = (prob.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    return x, np.minimum(y, k - 1)


def _blas_threads() -> list[int]:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.linalg  # noqa: F401 - its BLAS is one the fit limits
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_small_fit_on_one_blas_thread_equals_default_threads(monkeypatch) -> None:
    from softmaxkit.mlogit import _threads

    x, y = _draw(400, 4, 3)
    before = _blas_threads()
    seen: list[list[int]] = []
    original = _threads.blas_threads_for

    def spy(work: float):  # records the thread counts inside the fit
        ctx = original(work)

        class Wrapped:
            def __enter__(self):
                limited = ctx.__enter__()
                seen.append(_blas_threads())
                return limited

            def __exit__(self, *exc):
                return ctx.__exit__(*exc)

        return Wrapped()

    import softmaxkit.mlogit.model as model_module

    monkeypatch.setattr(model_module, "blas_threads_for", spy)
    small = MultinomialLogit().fit(x, y)
    assert seen and all(t == 1 for t in seen[0])  # 400·9² products: one thread
    assert _blas_threads() == before  # restored
    monkeypatch.setattr(_threads, "SMALL_WORK", 0)  # every fit keeps the default threads
    default = MultinomialLogit().fit(x, y)
    assert seen[-1] == before
    np.testing.assert_allclose(np.asarray(small.params_), np.asarray(default.params_),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(small.bse_), np.asarray(default.bse_), rtol=1e-12)
    assert small.llf_ == pytest.approx(default.llf_, rel=1e-14)
    assert small.n_iter_ == default.n_iter_


def test_lazy_separation_test_still_fires_and_threads_come_back() -> None:
    before = _blas_threads()
    x = np.arange(12.0)[:, None]
    y = np.array(["lo"] * 4 + ["mid"] * 4 + ["hi"] * 4)
    with pytest.raises(SeparationError, match="complete separation"):
        MultinomialLogit(base="mid").fit(x, y)
    assert _blas_threads() == before  # restored although the fit raised
    with pytest.warns(SeparationWarning, match="determined by the penalty"):
        m = MultinomialLogit(base="mid", penalty="l2", alpha=1.0).fit(x, y)
    assert m.converged_
    # Overlapping data: no separation, and the LP is not run for a converged unpenalised fit.
    import softmaxkit.mlogit._separation as separation

    xo, yo = _draw(300, 3, 2, seed=4)
    calls = []
    original = separation._separation

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    separation._separation = counting
    try:
        MultinomialLogit().fit(xo, yo)
    finally:
        separation._separation = original
    assert calls == []


def test_memmap_rows_fit_in_blocks_to_the_in_memory_estimates(tmp_path, monkeypatch) -> None:
    from softmaxkit.mlogit import _blocks

    x, y = _draw(3000, 3, 4, seed=1)
    path = tmp_path / "x.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    # Small blocks: many blocks and page releases in one fit.
    monkeypatch.setattr(_blocks, "_BLOCK_ELEMENTS", 1 << 12)
    got = MultinomialLogit().fit(mapped, y)
    want = MultinomialLogit().fit(x, y)
    assert isinstance(got._x, np.memmap)  # the design stayed in a file
    np.testing.assert_allclose(np.asarray(got.params_), np.asarray(want.params_),
                               rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(np.asarray(got.bse_), np.asarray(want.bse_), rtol=1e-11)
    assert got.llf_ == pytest.approx(want.llf_, rel=1e-13)
    np.testing.assert_array_equal(np.load(path), x)  # releasing pages lost nothing
    me_got = np.asarray(got.marginal_effects().effects)
    np.testing.assert_allclose(me_got, np.asarray(want.marginal_effects().effects),
                               rtol=1e-10, atol=1e-13)
    # A non-finite value in a mapped block is named by its global row and column.
    bad = x.copy()
    bad[2500, 2] = np.nan
    np.save(path, bad)
    with pytest.raises(ValueError, match=r"row 2500, column 2"):
        MultinomialLogit().fit(np.load(path, mmap_mode="r"), y)


def test_cli_labels_parsed_by_blocks_as_a_whole() -> None:
    from softmaxkit.cli.mlogit import _parse_labels

    for raw in (["1", " 2", "3"], ["1.0", "2", "3.0"], ["1.5", "2", "x"], ["a", "b ", "a"],
                ["2.5", "1e3", "-4"]):
        whole = _parse_labels(raw)
        blocks = _parse_labels([np.asarray(raw[:1], dtype=str), np.asarray([], dtype=str),
                                np.asarray(raw[1:], dtype=str)])
        assert whole.dtype == blocks.dtype, raw
        np.testing.assert_array_equal(whole, blocks)
    assert _parse_labels(["1", "2"]).dtype.kind == "i"
    assert _parse_labels(["1.0", "2.0"]).dtype.kind == "i"
    assert _parse_labels(["1.5", "2"]).dtype.kind == "f"
    assert _parse_labels(["a", "2"]).dtype == object


# --------------------------------------------------------------------------- clr


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (30, 5), (4, 3, 6), (9, 1)])
def test_clr_fast_path_is_the_general_path_bit_for_bit(dtype, shape) -> None:
    rng = np.random.default_rng(5)
    for x in (rng.random(shape) + 1e-3, np.exp(rng.normal(scale=40.0, size=shape)),
              rng.random(shape) * 1e-300):
        with np.errstate(over="ignore"):  # float32 overflows to inf: skipped below
            x = x.astype(dtype)
        if not ((x > 0) & np.isfinite(x)).all():  # 0 or inf in float32: not the fast path's
            continue
        general = inverse_softmax(x, axis=-1, gauge="center", normalize=True)
        got = clr(x)
        assert got.dtype == general.dtype == dtype
        np.testing.assert_array_equal(got, general)
        np.testing.assert_array_equal(clr(x, axis=x.ndim - 1), general)


def test_clr_cases_the_fast_path_leaves_to_the_general_path() -> None:
    zero = clr(np.array([2.0, 0.0, 8.0]))
    assert zero[1] == -np.inf
    np.testing.assert_allclose(zero[[0, 2]], [-np.log(2.0), np.log(2.0)], rtol=1e-15)
    with pytest.raises(ValueError, match=r"x\[1, 2\] = -1"):
        clr(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, -1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        clr(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="infinite"):
        clr(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="every part is 0"):
        clr(np.array([[1.0, 1.0], [0.0, 0.0]]))
    # another axis, an integer input and a dtype request go the general way, same numbers
    x = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]])
    np.testing.assert_array_equal(clr(x, axis=0), clr(x.T).T)
    np.testing.assert_array_equal(clr(np.array([1, 3, 4])), clr(np.array([1.0, 3.0, 4.0])))
    assert clr(x.astype(np.float32), dtype=np.float64).dtype == np.float64


# --------------------------------------------------------------------------- float32 vjp/jvp


def _f64_derivative(x: np.ndarray, u: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The float64 derivative at the float32 inputs, and the first-order scale of the float32
    path's error: with ``w`` the tangent less the pivot's entry, ``g_i = 8 + |x_i − max x|/T``
    (p's relative error in float32 eps: the exponent is rounded in float32, so it grows with
    the exponent) and ``S = Σ_j g_j p_j |w_j|`` (the error of ``⟨p, w⟩``),
    ``p_i (g_i (|w_i| + |⟨p, w⟩|) + S) / T``."""
    x64, u64 = x.astype(np.float64), u.astype(np.float64)
    ref = sk.softmax_vjp(x64, u64, temperature=t)
    p = sk.softmax(x64, temperature=t)
    k = np.argmax(p, axis=-1)[:, None]
    piv = np.where(np.take_along_axis(p, k, -1) > 0.5, np.take_along_axis(u64, k, -1), 0.0)
    w = u64 - piv
    s = np.sum(p * w, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        gap = np.nan_to_num(np.abs(x64 - x64.max(axis=-1, keepdims=True)) / t, posinf=0.0)
    g = 8.0 + gap
    row = np.sum(g * p * np.abs(w), axis=-1, keepdims=True)
    return ref, p * (g * (np.abs(w) + np.abs(s)) + row) / t


@pytest.mark.parametrize("t", [1.0, 0.5, 3.0])
def test_float32_vjp_jvp_in_float32_within_a_few_ulp(t: float) -> None:
    rng = np.random.default_rng(6)
    x = (4.0 * rng.standard_normal((300, 257))).astype(np.float32)  # several blocks, threads
    x[3, 5] = -np.inf
    x[4] = 40.0 * x[4]  # one row with p_k ≈ 1: the pivot's case
    u = rng.standard_normal(x.shape).astype(np.float32)
    ref, scale = _f64_derivative(x, u, t)
    eps = float(np.finfo(np.float32).eps)
    for fn in (sk.softmax_vjp, sk.softmax_jvp):
        got = fn(x, u, temperature=t)
        assert got.dtype == np.float32
        err = np.abs(got.astype(np.float64) - ref)
        # a few float32 roundings of the terms, the final rounding of the result, and where
        # p is subnormal in float32 (exponents below −87) a few units of the subnormal grid
        tiny = float(np.finfo(np.float32).smallest_subnormal)
        bound = eps * scale + np.spacing(np.abs(ref).astype(np.float32)) + 64 * tiny
        assert (err <= bound).all(), float(np.max(err / bound))
        assert got[3, 5] == 0.0
    # Measured: the worst entry is within 2e-7 of the largest derivative (float64: 5e-8 after
    # rounding to float32); relative to each row's scale it stays below 8 float32 eps.
    assert np.max(err) <= 2.5e-7 * np.abs(ref).max()


def test_float32_special_rows_still_take_the_generic_path() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((40, 8)).astype(np.float32)
    u = rng.standard_normal(x.shape).astype(np.float32)
    x[2, 1] = np.inf
    x[5, 3] = np.nan
    x[7] = -np.inf
    got = sk.softmax_vjp(x, u)
    assert got.dtype == np.float32
    assert (got[2] == 0).all() and np.isnan(got[5]).all() and (got[7] == 0).all()
    ok = np.ones(40, dtype=bool)
    ok[[2, 5, 7]] = False
    want = sk.softmax_vjp(x[ok], u[ok])  # the other rows alone: the float32 path
    np.testing.assert_allclose(got[ok], want, rtol=2e-6, atol=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN tangent: the generic path, no warning
        v = u.copy()
        v[0, 0] = np.nan
        assert np.isnan(sk.softmax_jvp(x[ok], v[ok])[0]).all()


def test_without_threadpoolctl_the_fit_keeps_the_default_threads(monkeypatch) -> None:
    from softmaxkit.mlogit import _threads

    x, y = _draw(300, 3, 2, seed=8)
    want = MultinomialLogit().fit(x, y)
    monkeypatch.setattr(_threads, "_controllers", False)  # as when it is not installed
    with _threads.blas_threads_for(1.0) as limited:
        assert limited is False
    got = MultinomialLogit().fit(x, y)
    np.testing.assert_allclose(np.asarray(got.params_), np.asarray(want.params_), rtol=1e-12)


# --------------------------------------------------------------------------- sparse, narrow rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [3, 10, 64])
def test_narrow_rows_solved_whole_equal_the_candidate_route(monkeypatch, dtype, n) -> None:
    from softmaxkit._base import sparse_fast

    rng = np.random.default_rng(9)
    x = (rng.standard_normal((700, n)) * rng.choice([0.3, 1.0, 8.0], size=(700, 1)))
    x = x.astype(dtype)
    special = x.copy()
    special[3, 1] = np.nan
    special[5, 0] = np.inf
    special[8] = -np.inf
    temps = np.linspace(0.2, 3.0, 700)[:, None]
    calls = [
        lambda a: sk.sparsemax(a),
        lambda a: sk.entmax15(a, temperature=0.7),
        lambda a: sk.sparsemax(a, temperature=temps),
        lambda a: sk.entmax(a, alpha=1.3),
        lambda a: sk.entmax(a, alpha=2.5, temperature=temps),
    ]
    narrow = [[f(a) for f in calls] for a in (x, special)]
    monkeypatch.setattr(sparse_fast, "_NARROW", 0)  # every row through the candidates
    for got_rows, a in zip(narrow, (x, special), strict=True):
        for got, f in zip(got_rows, calls, strict=True):
            want = f(a)
            assert got.dtype == want.dtype == dtype
            np.testing.assert_array_equal(got, want)
    assert np.isnan(narrow[1][0][3]).all() and narrow[1][0][5, 0] == 1.0


@pytest.mark.parametrize("n", [2, 3, 5, 8, 10])
def test_sorting_network_rows_equal_np_sort_rows(monkeypatch, n) -> None:
    from softmaxkit._base import sparse_fast

    rng = np.random.default_rng(10 + n)
    x = rng.standard_normal((3000, n)) * rng.choice([0.1, 1.0, 5.0], size=(3000, 1))
    x[::7, 0] = x[::7, 1 % n]  # ties
    x[5] = 0.0  # a row of equal entries
    temps = np.linspace(0.3, 2.0, 3000)[:, None]
    calls = [lambda a: sk.sparsemax(a), lambda a: sk.entmax15(a),
             lambda a: sk.sparsemax(a, temperature=temps),
             lambda a: sk.entmax15(a, temperature=3.0),
             lambda a: sk.sparsemax(a[7]), lambda a: sk.entmax15(a[:1])]  # one row
    for dtype in (np.float32, np.float64):
        a = x.astype(dtype)
        net = [f(a) for f in calls]
        monkeypatch.setattr(sparse_fast, "_NETWORK", 0)  # np.sort on whole rows
        for got, f in zip(net, calls, strict=True):
            np.testing.assert_array_equal(got, f(a))
        monkeypatch.setattr(sparse_fast, "_NETWORK", 10)
    # The network itself sorts every input of its size (0-1 principle on all 2^n patterns).
    pairs = sparse_fast._network(n)
    patterns = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)
    cols = list(patterns.T.copy())
    for i, j in pairs:
        cols[i], cols[j] = np.maximum(cols[i], cols[j]), np.minimum(cols[i], cols[j])
    np.testing.assert_array_equal(np.array(cols).T, -np.sort(-patterns, axis=1))
