"""Closed-form Hessians of the sparse maps: against central differences of the closed-form
Jacobian (a check in the tests only), softmax's Hessian at α = 1, zero for sparsemax, and the
edge rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

import softmaxkit as sk


def numeric_hessian(alpha: float, x: np.ndarray, h: float = 1e-6, **kw) -> np.ndarray:
    """∂J_ij/∂x_k by central differences of the closed-form Jacobian (1-D x)."""
    n = x.shape[-1]
    out = np.empty((n, n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = h
        jp = sk.entmax_jacobian(x + e, alpha=alpha, **kw)
        jm = sk.entmax_jacobian(x - e, alpha=alpha, **kw)
        out[:, :, k] = (jp - jm) / (2 * h)
    return out


def support_margin(alpha: float, x: np.ndarray, t: float) -> float:
    """How far every entry is from the support's edge, in units of x (for the test points)."""
    p = sk.entmax(x, alpha=alpha, temperature=t)
    if alpha == 1.0:
        return math.inf
    z = (alpha - 1) * (x - x.max()) / t
    tau = (alpha - 1) * (x[p > 0] - x.max()).max() / t - p.max() ** (alpha - 1)
    return float(np.min(np.abs(z - tau)) * t / (alpha - 1))


@pytest.mark.parametrize("alpha", [1.25, 1.5, 1.7, 2.5])
@pytest.mark.parametrize("t", [1.0, 0.4])
def test_entmax_hessian_is_the_derivative_of_the_jacobian(
    alpha: float, t: float, rng: np.random.Generator
) -> None:
    checked = 0
    while checked < 5:
        x = rng.normal(size=6)
        if support_margin(alpha, x, t) < 1e-3:
            continue  # the Hessian jumps at the support's edge; keep away from it
        got = sk.entmax_hessian(x, alpha=alpha, temperature=t)
        want = numeric_hessian(alpha, x, temperature=t)
        np.testing.assert_allclose(got, want, atol=2e-6 * max(1.0, np.abs(want).max()))
        np.testing.assert_allclose(got, np.swapaxes(got, -1, -2), atol=1e-12)  # symmetric
        checked += 1


def test_special_cases_of_alpha(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(
        sk.entmax_hessian(x, alpha=1.0, temperature=0.7),
        sk.softmax_hessian(x, temperature=0.7),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_array_equal(sk.sparsemax_hessian(x), np.zeros((4, 5, 5, 5)))
    np.testing.assert_allclose(sk.entmax15_hessian(x), sk.entmax_hessian(x, alpha=1.5), atol=1e-13)


def test_dispatch_axes_and_edge_rows() -> None:
    x = np.array([[0.3, -0.2, 0.5], [0.0, -np.inf, np.inf], [np.nan, 0.0, 1.0]])
    h = sk.hessian(sk.entmax, x, alpha=1.3)
    assert h.shape == (3, 3, 3, 3)
    assert np.all(h[1] == 0)  # +inf row: constant
    assert np.isnan(h[2]).all()
    np.testing.assert_allclose(h[0], sk.entmax_hessian(x[0], alpha=1.3), atol=1e-15)
    cols = sk.hessian("entmax15", x[:1].T, axis=0)
    np.testing.assert_allclose(cols, sk.entmax15_hessian(x[:1]), atol=1e-15)
    assert np.all(sk.entmax15_hessian(x[:1], temperature=0) == 0)  # hardmax: constant


def test_torch_namespace_matches_numpy(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 4))
    got = sk.entmax_hessian(torch.asarray(x), alpha=1.6)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), sk.entmax_hessian(x, alpha=1.6), atol=1e-13)
