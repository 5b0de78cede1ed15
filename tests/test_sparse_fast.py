"""The NumPy fast path of the sparse maps equals the generic solvers and the ``entmax`` package.

The generic path is obtained by switching the fast path off (``_sparse_fast.solve`` returning
None, which is what it does for inputs it does not cover); every comparison also checks that
the fast path really ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from softmaxkit._base import sparse_fast as _sparse_fast
from softmaxkit.sparse import entmax, entmax15, sparsemax

torch = pytest.importorskip("torch")
E = pytest.importorskip("entmax")

INF = math.inf
ALPHAS = [1.05, 1.3, 1.5, 2.0, 2.5, 4.0]


def _ours(name: str, alpha: float | None = None) -> Callable[..., Any]:
    if name == "sparsemax":
        return sparsemax
    if name == "entmax15":
        return entmax15
    return lambda x, **kw: entmax(x, alpha=alpha, **kw)


def _peer(name: str, alpha: float | None = None) -> Callable[[Any], Any]:
    if name == "sparsemax":
        return lambda t: E.sparsemax(t, dim=-1)
    if name == "entmax15":
        return lambda t: E.entmax15(t, dim=-1)
    return lambda t: E.entmax_bisect(t, alpha=alpha, dim=-1)


CASES = [("sparsemax", None), ("entmax15", None)] + [("entmax", a) for a in ALPHAS]
IDS = [n if a is None else f"entmax{a}" for n, a in CASES]
# The sort-based maps run the generic formulas on the candidates: equal bit for bit. The
# Newton threshold of α-entmax differs from the bisection's in the last bits.
TOL = {"sparsemax": 0.0, "entmax15": 0.0, "entmax": 1e-13}


def assert_close(got: np.ndarray, want: np.ndarray, alpha: float | None, atol: float) -> None:
    """Equal to ``atol``; for α > 2 compared as thresholds, through (p / max p)^(α−1).

    For α > 2, p = d^(1/(α−1)) has an unbounded derivative at d = y − τ = 0: an entry just
    above the threshold (d ~ 1e-16, as finely as float64 resolves τ ≈ −1) gets p ~ 1e-6 set
    by the last bit of τ, for any solver, and the renormalisation passes that on to the whole
    row. The thresholds must still agree: (p_i / p_max)^(α−1) = d_i / d_max is linear in τ,
    and d_max = −τ ≈ p_max^(α−1), so a threshold error δ shows as δ / p_max^(α−1). Solvers
    agree to δ = 1e-14 (bisection with 50 halvings resolves τ to about 1e-15).
    """
    if alpha is None or alpha <= 2:
        np.testing.assert_allclose(got, want, rtol=0, atol=atol, equal_nan=True)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    empty = (got == 0).all(axis=-1)
    np.testing.assert_array_equal(want[empty], 0)
    ok = ~np.isnan(got).any(axis=-1) & ~empty
    got, want = got[ok].astype(np.float64), want[ok].astype(np.float64)
    top = got.max(axis=-1, keepdims=True)
    ratio_got = (got / top) ** (alpha - 1.0)
    ratio_want = (want / want.max(axis=-1, keepdims=True)) ** (alpha - 1.0)
    tol = np.maximum(atol, 1e-14 / top ** (alpha - 1.0))
    err = np.abs(ratio_got - ratio_want)
    assert (err <= tol).all(), f"thresholds differ: max err/tol {np.max(err / tol):.3g}"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts the calls the fast path served; ``generic(fn, ...)`` then runs without it."""
    counter = {"fast": 0}
    real = _sparse_fast.solve

    def counting(*args: Any, **kw: Any) -> Any:
        res = real(*args, **kw)
        counter["fast"] += res is not None
        return res

    monkeypatch.setattr(_sparse_fast, "solve", counting)
    yield counter


def generic(monkeypatch: pytest.MonkeyPatch, fn: Callable[..., Any], x: Any, **kw: Any) -> Any:
    with monkeypatch.context() as m:
        m.setattr(_sparse_fast, "solve", lambda *a, **k: None)
        return fn(x, **kw)


def _check(monkeypatch: pytest.MonkeyPatch, calls: dict[str, int], name: str,
           alpha: float | None, x: Any, **kw: Any) -> np.ndarray:
    fn = _ours(name, alpha)
    before = calls["fast"]
    got = fn(x, **kw)
    assert calls["fast"] == before + 1, "the fast path did not run"
    want = generic(monkeypatch, fn, x, **kw)
    assert got.dtype == want.dtype and got.shape == want.shape
    # Last-bit differences of the float64 results may round to neighbouring float32 values.
    atol = TOL[name] if got.dtype == np.float64 or TOL[name] == 0 else np.finfo(got.dtype).eps
    assert_close(got, want, alpha, atol)
    return got


def _random_rows(rng: np.random.Generator) -> list[np.ndarray]:
    """Short, medium and long rows at scales from dense (0.01) to one-hot (100)."""
    return [rng.normal(size=(r, n)) * s for r, n in ((300, 3), (100, 40), (6, 3000))
            for s in (0.01, 0.3, 1.0, 3.0, 100.0)]


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_equals_generic_on_random_rows(name: str, alpha: float | None, calls: dict[str, int],
                                       monkeypatch: pytest.MonkeyPatch,
                                       rng: np.random.Generator) -> None:
    for x in _random_rows(rng):
        p = _check(monkeypatch, calls, name, alpha, x)
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-13)


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_equals_entmax_package(name: str, alpha: float | None, rng: np.random.Generator) -> None:
    fn, peer = _ours(name, alpha), _peer(name, alpha)
    for x in _random_rows(rng):
        assert_close(fn(x), peer(torch.tensor(x)).numpy(), alpha, 1e-12)
    # float32: ours is computed in float64 and rounded once, the package works in float32.
    # (For α > 2 the package's float32 bisection is off by up to 1e-4: see test_sparse.py.)
    x32 = np.concatenate([rng.normal(size=(200, 40)) * s for s in (0.3, 3.0)]).astype(np.float32)
    got = fn(x32)
    assert got.dtype == np.float32
    if alpha is None or alpha <= 2:
        np.testing.assert_allclose(got, peer(torch.tensor(x32)).numpy(), rtol=0, atol=1e-6)


def _adversarial() -> np.ndarray:
    rows = [
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # all tied
        [2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 2.0, 1.0],  # ties across the threshold
        [1e300, -1e300, 1e300, 0.0, 1e-300, -5.0, -1.7e308, 1.7e308],  # huge spread
        [1e15 + 1, 1e15, 1e15 + 0.5, 1e15 - 3, 1e15, 1e15, 1e15 + 0.25, 1e15],  # huge offset
        [0.0, 1e-17, 2e-17, -1e-17, 0.0, 0.0, 5e-324, -5e-324],  # tiny differences
        [3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0],
        [0.0, -INF, 2.0, -INF, 1.5, 1.9, -INF, 0.3],  # −inf entries
        [-INF, -INF, -INF, -INF, -INF, -INF, -INF, 5.0],  # one admissible entry
        [-INF] * 8,  # nothing admissible
        [0.0, INF, 1.0, INF, -INF, 3.0, 2.0, 1.0],  # +inf entries share the mass
        [0.0, 1.0, np.nan, 3.0, 1.0, 2.0, 0.5, -INF],  # NaN row
        [0.0, 1.0 - 1e-16, 1.0, 1.0 - 2e-16, 0.5, 0.5, 0.25, -0.5],  # near-ties at the top
    ]
    return np.array(rows)


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_adversarial_rows(name: str, alpha: float | None, calls: dict[str, int],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    x = _adversarial()
    p = _check(monkeypatch, calls, name, alpha, x)
    np.testing.assert_array_equal(p[8], np.zeros(8))
    np.testing.assert_array_equal(p[9], [0, 0.5, 0, 0.5, 0, 0, 0, 0])
    assert np.isnan(p[10]).all() and np.isfinite(np.delete(p, 10, axis=0)).all()
    np.testing.assert_array_equal(p[7], np.eye(8)[7])
    np.testing.assert_allclose(p[0], np.full(8, 1 / 8), rtol=1e-15)
    # The huge-spread row: the two entries at 1e300 and the one at 1.7e308 are 1.7e308
    # apart, so only the maximum survives.
    np.testing.assert_array_equal(p[2], np.eye(8)[7])
    # Where the entmax package is defined (finite rows), it agrees; except, for its
    # bisection, on the row offset by 1e15, which it bisects without shifting first (its
    # threshold then has a resolution of ulp(1e15) = 0.125).
    finite = [0, 1, 4, 5, 6, 11] + ([] if name == "entmax" else [3])
    assert_close(p[finite], _peer(name, alpha)(torch.tensor(x[finite])).numpy(), alpha, 1e-12)


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_masks_and_temperature_arrays(name: str, alpha: float | None, calls: dict[str, int],
                                      monkeypatch: pytest.MonkeyPatch,
                                      rng: np.random.Generator) -> None:
    x = rng.normal(size=(12, 30)) * 2
    where = rng.random((12, 30)) < 0.6
    where[3] = False  # all masked
    where[4] = True
    where[5, :] = False
    where[5, 7] = True  # one entry left
    x[6, 2] = np.nan  # masked NaN: the row is fine
    where[6, 2] = False
    x[7, where[7]] = INF  # masked +inf only in its admissible entries
    t = np.array([0.5, 1.0, 2.0, 0.0, INF, 3.0, 0.1, 1.0, 10.0, 100.0, 1e-3, 1.0])[:, None]
    p = _check(monkeypatch, calls, name, alpha, x, where=where, temperature=t)
    assert (p[~where] == 0).all()
    np.testing.assert_array_equal(p[3], np.zeros(30))
    np.testing.assert_array_equal(p[4], np.full(30, 1 / 30))  # T = inf: uniform
    np.testing.assert_array_equal(p[5], np.eye(30)[7])
    assert np.isfinite(p[6]).all()
    k = where[7].sum()
    np.testing.assert_array_equal(p[7], where[7] / k)
    # A scalar temperature equals the same per-row value.
    for i, ti in ((0, 0.5), (8, 10.0), (10, 1e-3)):
        row = _check(monkeypatch, calls, name, alpha, x[i:i + 1], where=where[i:i + 1],
                     temperature=ti)
        np.testing.assert_array_equal(row[0], p[i])


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_long_rows(name: str, alpha: float | None, calls: dict[str, int],
                   monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    n = 20_000
    tiny = rng.normal(size=(3, n))
    tiny[:, 17] = 40.0  # a support of one entry: a single candidate
    tiny[2, 9_000:9_003] = 39.9  # ... or a few
    full = rng.normal(size=(2, n)) * 1e-9  # every entry a candidate: the whole-row route
    mixed = np.concatenate([tiny, full, rng.normal(size=(2, n)) * 3])
    p = _check(monkeypatch, calls, name, alpha, mixed)
    assert (p[:2] > 0).sum(axis=1).tolist() == [1, 1]
    assert (p[2] > 0).sum() >= 2
    if alpha is None or alpha <= 2:
        assert ((p[3:5] > 0).sum(axis=1) == n).all()
    assert _sparse_fast.profile(full, alpha=alpha or 1.5)["max_candidates"] == n
    assert_close(p, _peer(name, alpha)(torch.tensor(mixed)).numpy(), alpha, 1e-12)


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
def test_batch_invariance(name: str, alpha: float | None, rng: np.random.Generator) -> None:
    # Rows of very different candidate counts share blocks (and threads: > 2^16 elements);
    # each row's result must be what it gets alone, bit for bit.
    fn = _ours(name, alpha)
    n = 64
    scales = np.array([0.01, 0.1, 0.5, 1.0, 3.0, 30.0])
    x = rng.normal(size=(3000, n)) * rng.choice(scales, size=(3000, 1))
    p = fn(x)
    for i in rng.choice(3000, size=40, replace=False).tolist():
        np.testing.assert_array_equal(fn(x[i:i + 1])[0], p[i])
    perm = rng.permutation(3000)
    np.testing.assert_array_equal(fn(x[perm]), p[perm])
    # Companions that are special rows (NaN, +inf) change nothing either.
    y = np.concatenate([x[:5], [[np.nan] * n], [[INF] * n]])
    np.testing.assert_array_equal(fn(y)[:5], p[:5])


@pytest.mark.parametrize(("name", "alpha"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_dtypes(name: str, alpha: float | None, dtype: Any, calls: dict[str, int],
                monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    x = (rng.normal(size=(50, 33)) * 4).astype(dtype)
    p = _check(monkeypatch, calls, name, alpha, x)
    assert p.dtype == (np.float64 if dtype == np.int64 else dtype)
    # Computed in float64 from the exact input, rounded once.
    exact = _ours(name, alpha)(x.astype(np.float64))
    np.testing.assert_array_equal(p, exact.astype(p.dtype))
    got = _ours(name, alpha)(x, dtype=np.float64)
    np.testing.assert_array_equal(got, exact)


@pytest.mark.parametrize(("name", "alpha"), CASES[:3], ids=IDS[:3])
def test_axes_and_layouts(name: str, alpha: float | None, calls: dict[str, int],
                          monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 5, 6)) * 2
    for axis in (0, 1, -1, (0, 2), None):
        _check(monkeypatch, calls, name, alpha, x, axis=axis)
    _check(monkeypatch, calls, name, alpha, np.asfortranarray(x[..., 0]))
    _check(monkeypatch, calls, name, alpha, x[:, ::2, ::-1])
    _check(monkeypatch, calls, name, alpha, rng.normal(size=7))
    t = np.array([0.5, 2.0, INF, 1.0, 0.0])[None, :, None]
    _check(monkeypatch, calls, name, alpha, x, axis=(0, 2), temperature=t)


def test_what_the_fast_path_leaves_to_the_generic_solver(calls: dict[str, int]) -> None:
    x = np.array([[0.0, 1.0, 2.0]])
    entmax(x, alpha=1.7, n_iter=10)  # an explicitly truncated bisection
    sparsemax(x, temperature=0.0)
    entmax15(x, temperature=INF)
    sparsemax(x, axis=())
    assert calls["fast"] == 0
    entmax(x, alpha=1.7)
    assert calls["fast"] == 1


def test_newton_iterations_and_candidates(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2000, 100)) * 3
    for alpha, most in ((1.05, 10), (1.3, 8), (1.5, 8), (2.5, 25), (8.0, 60)):
        stats = _sparse_fast.profile(x, alpha=alpha)
        assert stats["rows"] == 2000 and stats["generic_rows"] == 0
        assert 1 <= stats["mean_iterations"] <= stats["max_iterations"] <= most
        # Candidates: entries within T/(α − 1) of the row maximum.
        y = (alpha - 1.0) * (x - x.max(axis=1, keepdims=True))
        assert stats["mean_candidates"] == pytest.approx((y > -1).sum(axis=1).mean(), abs=0.01)
    # A single candidate is solved by the first step.
    one = np.eye(5)[None] * 100.0
    assert _sparse_fast.profile(one[0], alpha=1.3)["max_iterations"] == 1
    with pytest.raises(ValueError, match="fast path"):
        _sparse_fast.profile(x, alpha=1.3, temperature=0.0)


def test_newton_reaches_the_closed_forms(rng: np.random.Generator) -> None:
    # α = 2 and 1.5 through the Newton solver against the exact sort-based maps: a row whose
    # iteration stopped early or left the support would show here.
    x = np.concatenate([rng.normal(size=(4000, 40)) * s for s in (0.1, 0.5, 2.0, 8.0)])
    np.testing.assert_allclose(entmax(x, alpha=2.0), sparsemax(x), rtol=0, atol=1e-14)
    np.testing.assert_allclose(entmax(x, alpha=1.5), entmax15(x), rtol=0, atol=1e-14)
