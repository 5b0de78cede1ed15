"""Top-k sparsemax / 1.5-entmax (the same map, bit for bit) and budget sparsemax (the
``entmax`` package's ``budget_bisect``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softmaxkit as sk
from softmaxkit import budget_sparsemax

INF = np.inf
torch = pytest.importorskip("torch")


def special_rows(rng: np.random.Generator, n: int = 400) -> np.ndarray:
    x = rng.standard_normal((9, n)) * np.array([0.01, 0.3, 1, 3, 30, 1, 1, 1, 1])[:, None]
    x[5] = -INF
    x[6, [3, 17]] = INF
    x[7, 11] = np.nan
    x[8, :] = 0.5  # all tied: the support is the whole row, k doubles to n
    return x


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
@pytest.mark.parametrize("k", [1, 7, 64, 1000])
def test_top_k_is_the_full_map_bit_for_bit(name: str, k: int, rng: np.random.Generator):
    fn = getattr(sk, name)
    x = special_rows(rng)
    t = rng.uniform(0.2, 3, (9, 1))
    full_np = fn(x, temperature=t)
    xt = torch.from_numpy(x)
    got = fn(xt, k=k, temperature=torch.from_numpy(t)).numpy()
    np.testing.assert_array_equal(got, fn(xt, temperature=torch.from_numpy(t)).numpy())
    np.testing.assert_array_equal(got[~np.isnan(got)], full_np[~np.isnan(full_np)])
    f32 = torch.from_numpy(x.astype(np.float32))
    np.testing.assert_array_equal(fn(f32, k=k).numpy(), fn(f32).numpy())
    assert np.array_equal(fn(x, k=k), fn(x), equal_nan=True)  # NumPy: the fast path
    strict = pytest.importorskip("array_api_strict")
    got_s = np.asarray(fn(strict.asarray(x), k=k))
    np.testing.assert_array_equal(np.isnan(got_s), np.isnan(full_np))


def test_top_k_jax_and_axis(rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x = special_rows(rng, 40)[[0, 3, 5, 6, 7]].T.astype(np.float32)  # rows along axis 0
    # (entmax15 shares the driver; torch covers it above: JAX compiles every new op)
    want = np.asarray(sk.sparsemax(jnp.asarray(x), axis=0))
    np.testing.assert_array_equal(np.asarray(sk.sparsemax(jnp.asarray(x), axis=0, k=5)), want)
    jit = jax.jit(lambda z: sk.sparsemax(z, axis=0, k=5))  # traced: whole-row sort
    np.testing.assert_array_equal(np.asarray(jit(jnp.asarray(x))), want)


def test_top_k_gradient_is_sparsemax_gradient(rng: np.random.Generator) -> None:
    x = torch.tensor(rng.standard_normal((3, 200)), requires_grad=True)
    u = torch.tensor(rng.standard_normal((3, 200)))
    (sk.sparsemax(x, k=4) * u).sum().backward()
    g_k = x.grad.clone()
    x.grad = None
    (sk.sparsemax(x) * u).sum().backward()
    torch.testing.assert_close(g_k, x.grad, rtol=1e-13, atol=1e-15)
    assert float(g_k.abs().max()) > 0


def test_k_is_validated() -> None:
    with pytest.raises(ValueError, match="k must be None or an integer >= 1"):
        sk.sparsemax(np.zeros(3), k=0)
    with pytest.raises(ValueError, match="entmax15: k must be"):
        sk.entmax15(np.zeros(3), k=2.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# budget sparsemax
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [1.5, 2.0, 3.7, 10.0])
def test_budget_equals_entmax_package(budget: float, rng: np.random.Generator) -> None:
    entmax = pytest.importorskip("entmax")
    x = rng.standard_normal((20, 30)) * 2
    ours = budget_sparsemax(x, budget)
    ref = entmax.budget_bisect(torch.from_numpy(x), budget=budget, n_iter=100).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-13, rtol=0)
    np.testing.assert_allclose(ours.sum(axis=1), budget, rtol=4e-16 * 30)
    assert ours.min() >= 0 and ours.max() <= 1
    # float32 through torch agrees with the float64 result rounded
    got32 = budget_sparsemax(torch.from_numpy(x.astype(np.float32)), budget).numpy()
    np.testing.assert_allclose(got32, budget_sparsemax(x.astype(np.float32), budget),
                               atol=2e-6)


def test_budget_one_is_sparsemax_and_closed_form(rng: np.random.Generator) -> None:
    x = rng.standard_normal((10, 25))
    np.testing.assert_allclose(budget_sparsemax(x, 1.0), sk.sparsemax(x), atol=4e-16)
    # closed form: x = [3, 1.2, 1, -1], B = 2: τ = -0.2 (shifted: -2.4), p = [1, .6, .4, 0]
    p = budget_sparsemax(np.array([3.0, 1.2, 1.0, -1.0]), 2)
    np.testing.assert_allclose(p, [1.0, 0.6, 0.4, 0.0], atol=4e-16)
    p = budget_sparsemax(np.array([3.0, 1.2, 1.0, -1.0]), 2, temperature=2.0)
    # z = [1.5, .6, .5, -.5]: τ = (0.6 + 0.5 + 1 - 2)/2 = 0.05 → [1, .55, .45, 0]
    np.testing.assert_allclose(p, [1.0, 0.55, 0.45, 0.0], atol=4e-16)


def test_budget_limits_and_edges() -> None:
    x = np.array([[3.0, 1.0, 1.0, 0.0],
                  [1.0, INF, -INF, 0.0],
                  [INF, INF, INF, 0.0],
                  [-INF, -INF, -INF, -INF],
                  [np.nan, 0.0, 1.0, 2.0]])
    p = budget_sparsemax(x, 2.0)
    np.testing.assert_allclose(p[0], [1.0, 0.5, 0.5, 0.0], atol=4e-16)
    np.testing.assert_array_equal(p[1], [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[2], [2 / 3, 2 / 3, 2 / 3, 0.0])
    np.testing.assert_array_equal(p[3], 0.0)
    assert np.isnan(p[4]).all()
    h = budget_sparsemax(x[:1], 2.5, temperature=0)
    np.testing.assert_array_equal(h, [[1.0, 0.75, 0.75, 0.0]])
    u = budget_sparsemax(x[:2], 2.0, temperature=INF)
    np.testing.assert_allclose(u, [[0.5] * 4, [0.5, 1.0, 0.0, 0.5]])
    mask = np.array([True, False, True, True])
    np.testing.assert_allclose(budget_sparsemax(x[0], 2.0, where=mask), [1.0, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"row \(1,\).*2 admissible entries, fewer than "
                                         r"budget=3.0"):
        budget_sparsemax(np.array([[0.0, 1.0, 2.0], [0.0, -INF, 1.0]]), 3.0)
    with pytest.raises(ValueError, match="budget must be"):
        budget_sparsemax(x, "2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"budget=0\.0 is invalid"):
        budget_sparsemax(x, 0.0)


def test_budget_gradient_matches_entmax_package(rng: np.random.Generator) -> None:
    entmax = pytest.importorskip("entmax")
    x = torch.tensor(rng.standard_normal((4, 12)) * 2, requires_grad=True)
    u = torch.tensor(rng.standard_normal((4, 12)))
    (budget_sparsemax(x, 3.0) * u).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    (entmax.budget_bisect(x, budget=3.0, n_iter=100) * u).sum().backward()
    torch.testing.assert_close(ours, x.grad, rtol=1e-10, atol=1e-12)
    assert float(ours.abs().max()) > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=3, max_size=20),
       st.floats(1.0, 3.0), st.sampled_from([0.3, 1.0, 4.0]))
def test_budget_is_the_projection(values: list[float], budget: float, t: float) -> None:
    x = np.asarray(values)
    p = budget_sparsemax(x, budget, temperature=t)
    assert abs(p.sum() - budget) <= 1e-12 * len(x)
    assert p.min() >= 0 and p.max() <= 1
    # KKT: entries strictly inside (0, 1) share z − p = τ; p = 0 below, p = 1 above
    z = x / t
    inside = (p > 1e-12) & (p < 1 - 1e-12)
    if inside.any():
        tau = (z - p)[inside]
        assert np.ptp(tau) <= 1e-9 * (1 + np.abs(z).max())
        assert np.all(z[p == 0] <= tau[0] + 1e-9 * (1 + np.abs(z).max()))
        assert np.all(z[p == 1] >= tau[0] + 1 - 1e-9 * (1 + np.abs(z).max()))
