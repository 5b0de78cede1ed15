"""Sampling, the online normaliser, top-k and budget sparsemax on every backend (NumPy,
array_api_strict, PyTorch, JAX, Dask)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_backends import Backend, assert_ulp_close, backend  # noqa: F401

import softmaxkit as sk

INF = np.inf


def _seed(b: Backend, value: int) -> Any:
    if b.name == "torch":
        import torch

        return torch.Generator().manual_seed(value)
    if b.name == "jax":
        import jax

        return jax.random.key(value)
    return value


def _logits() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0.3, -1.2, 2.0, -INF, 0.0, 1.1],
                  [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                  [5.0, INF, 0.0, INF, -3.0, 1.0],
                  [-0.5, 0.5, -INF, 0.2, 3.0, -2.0]])
    mask = np.ones_like(x, dtype=bool)
    mask[3, 4] = False
    return x, mask


def test_sample_categorical_chi_square(backend: Backend) -> None:  # noqa: F811
    x, mask = _logits()
    n = 25_000  # 10^5 draws in all
    d = sample = sk.sample_categorical(backend.to(x), n, seed=_seed(backend, 1),
                                       where=backend.to(mask))
    assert backend.is_native(sample)
    d = np.asarray(backend.back(sample)).astype(np.int64)
    assert d.shape == (n, 4)
    p = sk.softmax(x, where=mask)
    for r in range(4):
        counts = np.bincount(d[:, r], minlength=6)
        assert not counts[p[r] == 0].any(), (r, counts)
        keep = p[r] > 0
        pv = stats.chisquare(counts[keep], p[r][keep] * n).pvalue if keep.sum() > 1 else 1.0
        assert pv > 1e-4, (backend.name, r, counts)
    # the test can fail: row 0 against the unmasked, T = 1.2 distribution is rejected
    counts = np.bincount(d[:, 0], minlength=6)
    wrong = sk.softmax(x[0], temperature=1.2)
    keep = wrong > 0
    assert stats.chisquare(counts[keep], wrong[keep] * n).pvalue < 1e-4


def test_sample_categorical_empty_row_raises(backend: Backend) -> None:  # noqa: F811
    x = np.array([[0.0, 1.0], [-INF, -INF], [2.0, 0.0]])
    with pytest.raises(ValueError, match="no drawable class"):
        out = sk.sample_categorical(backend.to(x), seed=_seed(backend, 0))
        backend.back(out)  # Dask raises when computed


@pytest.mark.parametrize("fn", ["gumbel_softmax", "gumbel_sparsemax"])
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_relaxations(backend: Backend, fn: str, hard: bool) -> None:  # noqa: F811
    x, mask = _logits()
    y = getattr(sk, fn)(backend.to(x), 0.5, hard=hard, seed=_seed(backend, 3),
                        where=backend.to(mask))
    assert backend.is_native(y)
    y = np.asarray(backend.back(y))
    assert y.shape == x.shape and y.dtype == np.float64
    assert_ulp_close(y.sum(axis=1), np.ones(4), 8, msg=fn)
    assert np.all(y[~mask] == 0) and np.all(y[x == -INF] == 0)
    assert np.all(y[2, [0, 2, 4, 5]] == 0)  # +inf entries take everything
    if hard:
        assert set(np.unique(y)) <= {0.0, 1.0}


def test_online_logsumexp(backend: Backend) -> None:  # noqa: F811
    rng = np.random.default_rng(4)
    x = 30 * rng.standard_normal((5, 18))
    x[1] = -INF
    x[2, 4] = INF
    mask = rng.random(x.shape) > 0.2
    lse = sk.OnlineLogSumExp(temperature=0.7)
    # blocks of one width (and an empty one): eager JAX compiles every op once per shape
    for a, b in ((0, 6), (6, 6), (6, 12), (12, 18)):
        lse.update(backend.to(x[:, a:b]), where=backend.to(mask[:, a:b]))
    value = lse.value
    assert backend.is_native(value)
    ref = sk.logsumexp(x, temperature=0.7, where=mask)
    scale = np.abs(np.max(np.where(mask & np.isfinite(x), x, 0), axis=1))
    assert_ulp_close(backend.back(value), ref, 2, scale=scale, msg="online")
    p = lse.softmax(backend.to(x[:, 6:12]), where=backend.to(mask[:, 6:12]))
    want = sk.softmax(x, temperature=0.7, where=mask)[:, 6:12]
    np.testing.assert_allclose(backend.back(p), want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_top_k(backend: Backend, name: str) -> None:  # noqa: F811
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 12))
    x[1, 7] = INF
    x[2] = -INF
    fn = getattr(sk, name)
    got = fn(backend.to(x), k=3, temperature=0.5)
    assert backend.is_native(got)
    full = fn(backend.to(x), temperature=0.5)
    np.testing.assert_array_equal(backend.back(got), backend.back(full))
    # entmax15: p = d², d = y − τ, is conditioned in absolute terms (scale 1)
    assert_ulp_close(backend.back(got), fn(x, temperature=0.5), 4, scale=1.0, msg=name)


def test_budget_sparsemax(backend: Backend) -> None:  # noqa: F811
    rng = np.random.default_rng(6)
    x = 2 * rng.standard_normal((4, 9))
    x[1, 2] = INF
    x[2] = -INF
    got = sk.budget_sparsemax(backend.to(x), 2.5)
    assert backend.is_native(got)
    ref = sk.budget_sparsemax(x, 2.5)
    np.testing.assert_allclose(backend.back(got), ref, atol=1e-14, rtol=0)
    np.testing.assert_allclose(ref.sum(axis=1), [2.5, 2.5, 0.0, 2.5], rtol=1e-15)
