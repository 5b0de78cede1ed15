"""Sampling from logits: Gumbel-max draws (chi-square on 10^5 draws), Gumbel-softmax and its
straight-through gradients, edge rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import softmaxkit as sk
from softmaxkit import gumbel_softmax, gumbel_sparsemax, sample_categorical

INF = np.inf
N_DRAWS = 100_000


def chi2_pvalue(draws: np.ndarray, probs: np.ndarray) -> float:
    """p-value of Pearson's chi-square test of ``draws`` against ``probs`` (zero-probability
    classes must never be drawn: a draw there gives p = 0)."""
    counts = np.bincount(np.asarray(draws).ravel(), minlength=probs.size)
    zero = probs == 0
    if counts[zero].any():
        return 0.0
    return float(stats.chisquare(counts[~zero], probs[~zero] * counts.sum()).pvalue)


LOGITS = np.array([0.3, -1.2, 2.0, -INF, 0.0, 1.1])


def test_draws_follow_softmax() -> None:
    draws = sample_categorical(LOGITS, N_DRAWS, seed=12345)
    assert draws.shape == (N_DRAWS,) and draws.dtype == np.int64
    p = sk.softmax(LOGITS)
    assert chi2_pvalue(draws, p) > 1e-4
    # The test can fail: a slightly wrong distribution (logits scaled by 1.1) is rejected.
    wrong = sk.softmax(LOGITS * 1.1)
    assert chi2_pvalue(draws, wrong) < 1e-4


@pytest.mark.parametrize("temperature", [0.5, 3.0])
def test_temperature_and_mask(temperature: float) -> None:
    mask = np.array([True, True, False, True, True, True])
    draws = sample_categorical(LOGITS, N_DRAWS, seed=7, temperature=temperature, where=mask)
    p = sk.softmax(LOGITS, temperature=temperature, where=mask)
    assert p[2] == 0 and p[3] == 0
    assert chi2_pvalue(draws, p) > 1e-4
    assert chi2_pvalue(draws, sk.softmax(LOGITS, temperature=temperature)) == 0.0


def test_limits_draw_uniformly_among_the_allowed() -> None:
    x = np.array([[1.0, 3.0, 3.0, -INF, 3.0],      # T = 0: the three maxima
                  [1.0, INF, -2.0, INF, 5.0]])      # +inf entries share
    d0 = sample_categorical(x, 30_000, seed=3, temperature=0)
    assert chi2_pvalue(d0[:, 0], np.array([0, 1, 1, 0, 1]) / 3) > 1e-4
    assert chi2_pvalue(d0[:, 1], np.array([0, 1, 0, 1, 0]) / 2) > 1e-4
    dinf = sample_categorical(x, 30_000, seed=4, temperature=INF)
    assert chi2_pvalue(dinf[:, 0], np.array([1, 1, 1, 0, 1]) / 4) > 1e-4
    assert chi2_pvalue(dinf[:, 1], np.array([0, 1, 0, 1, 0]) / 2) > 1e-4  # +inf first
    d1 = sample_categorical(x, 30_000, seed=5)
    assert set(np.unique(d1[:, 1])) == {1, 3}


def test_temperature_array_per_row(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    t = np.array([[0.5], [0.0], [INF]])
    d = sample_categorical(x, 40_000, seed=9, temperature=t)
    assert chi2_pvalue(d[:, 0], sk.softmax(x[0], temperature=0.5)) > 1e-4
    assert np.all(d[:, 1] == np.argmax(x[1]))
    assert chi2_pvalue(d[:, 2], np.full(4, 0.25)) > 1e-4


def test_shapes_axis_and_seeds(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 5, 3))
    one = sample_categorical(x, seed=0, axis=1)
    assert one.shape == (2, 3) and one.max() < 5
    many = sample_categorical(x, 4, seed=0, axis=1)
    assert many.shape == (4, 2, 3)
    np.testing.assert_array_equal(sample_categorical(x, 4, seed=0, axis=1), many)
    gen = np.random.default_rng(0)
    a = sample_categorical(x, 50, seed=gen)
    b = sample_categorical(x, 50, seed=gen)
    assert not np.array_equal(a, b)  # a Generator advances
    assert sample_categorical(x, 0, seed=0).shape == (0, 2, 5)


def test_axis_moves_classes() -> None:
    x = np.array([[0.0, -INF], [-INF, 0.0], [-INF, -INF]])  # classes on axis 0
    assert sample_categorical(x, seed=0, axis=0).tolist() == [0, 1]


def test_rows_with_nothing_to_draw_raise() -> None:
    x = np.array([[0.0, 1.0], [-INF, -INF], [0.0, 2.0]])
    with pytest.raises(sk.InvalidInputError, match=r"logits\[1, :\].*no drawable class"):
        sample_categorical(x, seed=0)
    with pytest.raises(ValueError, match=r"logits\[0, :\].*NaN"):
        sample_categorical(np.array([[np.nan, 1.0]]), seed=0)
    with pytest.raises(ValueError, match=r"logits\[:, 1\]"):
        sample_categorical(np.array([[0.0, 1.0], [2.0, 3.0]]), seed=0, axis=0,
                           where=np.array([[True, False], [True, False]]))
    with pytest.raises(ValueError, match="n must be"):
        sample_categorical(x[:1], -1)
    with pytest.raises(TypeError, match="seed"):
        sample_categorical(x[:1], seed="abc")
    with pytest.raises(ValueError, match="axis must be a single integer"):
        sample_categorical(x[:1], axis=(0, 1))


def test_gumbel_softmax_matches_its_definition() -> None:
    x = np.array([[0.3, -1.2, 2.0, -INF], [1.0, 1.0, 1.0, 1.0]])
    y = gumbel_softmax(x, 0.7, seed=11)
    g = np.clip(np.random.default_rng(11).gumbel(size=x.shape), -700, 700)
    np.testing.assert_array_equal(y, sk.softmax(x + g, temperature=0.7))
    assert y[0, 3] == 0
    hard = gumbel_softmax(x, 0.7, hard=True, seed=11)
    np.testing.assert_array_equal(hard, np.eye(4)[np.argmax(x + g, axis=1)])
    ys = gumbel_sparsemax(x, 0.7, seed=11)
    np.testing.assert_array_equal(ys, sk.sparsemax(x + g, temperature=0.7))


def test_gumbel_softmax_hard_frequencies_and_edges() -> None:
    x = np.tile(LOGITS, (N_DRAWS // 10, 1))
    hard = gumbel_softmax(x, 0.3, hard=True, seed=2)
    assert np.all(hard.sum(axis=1) == 1)
    assert chi2_pvalue(np.argmax(hard, axis=1), sk.softmax(LOGITS)) > 1e-4
    edge = np.array([[1.0, INF, INF], [-INF, -INF, -INF], [np.nan, 0.0, 1.0]])
    soft = gumbel_softmax(edge, seed=0)
    np.testing.assert_array_equal(soft[:2], [[0, 0.5, 0.5], [0, 0, 0]])
    assert np.isnan(soft[2]).all()
    h = gumbel_softmax(edge, hard=True, seed=0)
    assert h[0, 0] == 0 and h[0].sum() == 1 and np.all(h[1] == 0) and np.isnan(h[2]).all()
    with pytest.raises(TypeError, match="hard"):
        gumbel_softmax(edge, hard="yes")


def test_straight_through_gradient_torch() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor([[0.3, -1.2, 2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[1.0, -2.0, 0.5, 3.0]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(5)
    y = gumbel_softmax(x, 0.5, hard=True, seed=gen)
    assert set(y.detach().flatten().tolist()) == {0.0, 1.0}
    (y * w).sum().backward()
    # The same noise, soft: its gradient is the straight-through one.
    x2 = x.detach().clone().requires_grad_(True)
    y_soft = gumbel_softmax(x2, 0.5, seed=torch.Generator().manual_seed(5))
    (y_soft * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=0, atol=0)
    # closed form: J^T w of softmax((x + g)/τ) is p ⊙ (w − p·w)/τ
    p = y_soft.detach()
    expected = p * (w - (p * w).sum()) / 0.5
    torch.testing.assert_close(x.grad, expected, rtol=1e-12, atol=1e-14)
    # against torch's own definition with the same (soft) sample
    ref = y_soft.detach()
    idx = ref.argmax(-1)
    assert torch.equal(y.detach(), torch.nn.functional.one_hot(idx, 4).double())


def test_straight_through_gradient_jax() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    with jax.enable_x64(True):
        x = jnp.array([0.3, -1.2, 2.0, 0.5])
        w = jnp.array([1.0, -2.0, 0.5, 3.0])
        key = jax.random.key(3)

        def f(hard: bool):
            return lambda z: jnp.sum(gumbel_softmax(z, 0.5, hard=hard, seed=key) * w)

        # jit: one compilation instead of one per eager operation
        y, p = jax.jit(lambda z: (gumbel_softmax(z, 0.5, hard=True, seed=key),
                                  gumbel_softmax(z, 0.5, seed=key)))(x)
        assert sorted(np.asarray(y).tolist()) == [0.0, 0.0, 0.0, 1.0]
        g_hard = jax.jit(jax.grad(f(True)))(x)
        g_soft = jax.jit(jax.grad(f(False)))(x)
        np.testing.assert_array_equal(np.asarray(g_hard), np.asarray(g_soft))
        expected = p * (w - jnp.sum(p * w)) / 0.5
        np.testing.assert_allclose(np.asarray(g_hard), np.asarray(expected), rtol=1e-12,
                                   atol=1e-14)
        assert float(jnp.max(jnp.abs(g_hard))) > 0  # a real gradient, not zero


def test_jit_marks_empty_rows() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x = jnp.array([[0.0, 1.0], [-jnp.inf, -jnp.inf]])
    out = jax.jit(lambda z: sample_categorical(z, seed=jax.random.key(0)))(x)
    assert int(out[1]) == -1 and int(out[0]) in (0, 1)
