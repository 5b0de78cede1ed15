"""Sparse maps: sparsemax, entmax15, entmax — against the ``entmax`` package, and properties."""

from __future__ import annotations

import math
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import softmaxkit as sk

torch = pytest.importorskip("torch")
E = pytest.importorskip("entmax")

INF = math.inf
PEERS = {
    "sparsemax": lambda t: E.sparsemax(t, dim=-1),
    "entmax15": lambda t: E.entmax15(t, dim=-1),
}
OURS = {"sparsemax": sk.sparsemax, "entmax15": sk.entmax15}


def _at(alpha: float) -> Any:
    """``entmax`` at a fixed α, with the signature of the other maps."""

    def fn(x: Any, **kw: Any) -> Any:
        return sk.entmax(x, alpha=alpha, **kw)

    return fn


_IDS = ["sparsemax", "entmax15", "entmax"]


def _random_rows(rng: np.random.Generator) -> np.ndarray:
    """Rows at several scales (small scale: dense support; large: one or two entries)."""
    blocks = [rng.normal(size=(200, n)) * s for n in (2, 7, 50) for s in (0.1, 1.0, 10.0)]
    return np.concatenate([np.pad(b, ((0, 0), (0, 50 - b.shape[1])), constant_values=-1e3)
                           for b in blocks])


def _adversarial_rows() -> np.ndarray:
    """Ties, huge spread, huge offsets, all equal, one dominant entry."""
    return np.array(
        [
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            [2.0, 2.0, 1.0, 1.0, 0.0, 0.0],
            [1e300, -1e300, 1e300, 0.0, 1e-300, -5.0],
            [1e15 + 1, 1e15, 1e15 + 0.5, 1e15 - 3, 1e15, 1e15],
            [-1e6, -1e6 + 0.25, -1e6 + 0.5, -1e6, -1e6 - 1e-9, -1e6],
            [0.0, 1e-17, 2e-17, -1e-17, 0.0, 0.0],
            [0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
            [3.0, 2.0, 1.0, 0.0, -1.0, -2.0],
        ]
    )


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_equal_to_entmax_package_float64(name: str, rng: np.random.Generator) -> None:
    for x in (_random_rows(rng), _adversarial_rows()):
        ours = OURS[name](x)
        peer = PEERS[name](torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, peer, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_equal_to_entmax_package_float32(name: str, rng: np.random.Generator) -> None:
    x = _random_rows(rng).astype(np.float32)
    peer = PEERS[name](torch.tensor(x)).numpy()
    ours_np = OURS[name](x)
    ours_torch = OURS[name](torch.tensor(x))
    assert ours_np.dtype == np.float32 and ours_torch.dtype == torch.float32
    np.testing.assert_allclose(ours_np, peer, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours_torch.numpy(), peer, rtol=0, atol=1e-6)


@pytest.mark.parametrize("alpha", [1.25, 1.5, 2.0, 3.0])
def test_entmax_equal_to_entmax_bisect(alpha: float, rng: np.random.Generator) -> None:
    x = _random_rows(rng)
    peer = E.entmax_bisect(torch.tensor(x), alpha=alpha, dim=-1, n_iter=100).numpy()
    np.testing.assert_allclose(sk.entmax(x, alpha=alpha), peer, rtol=0, atol=1e-12)
    # float32 (PyTorch, so computed in float32): against the float64 result of the same input,
    # the package's own error reaches 2e-6 (α = 2) and 8e-5 (α = 3); ours stays below it.
    x32 = x.astype(np.float32)
    exact = sk.entmax(x32.astype(np.float64), alpha=alpha)
    peer32 = E.entmax_bisect(torch.tensor(x32), alpha=alpha, dim=-1).numpy()
    ours32 = sk.entmax(torch.tensor(x32), alpha=alpha).numpy()
    err_ours, err_peer = np.abs(ours32 - exact).max(), np.abs(peer32 - exact).max()
    assert err_ours <= err_peer
    assert err_ours < (1e-5 if alpha > 2 else 1e-6)
    np.testing.assert_allclose(sk.entmax(x32, alpha=alpha), exact, rtol=0,
                               atol=1e-6 if alpha > 2 else 1e-7)


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(3)], ids=_IDS)
def test_on_the_simplex_and_sparse(fn: Any, rng: np.random.Generator) -> None:
    x = _random_rows(rng)
    p = fn(x)
    assert p.min() >= 0
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-13)
    # The padding at −1000 is always far outside the support.
    assert (p[:, 7:][x[:, 7:] == -1e3] == 0).all()


def test_sparsemax_kkt(rng: np.random.Generator) -> None:
    # p is the projection of z iff p_i = z_i − τ on the support and z_i ≤ τ off it.
    z = np.concatenate([_random_rows(rng), _adversarial_rows()[:, :1].repeat(50, axis=1)])
    z = z[np.abs(z).max(axis=1) < 1e10]
    p = sk.sparsemax(z)
    support = p > 0
    tau = np.where(support, z - p, np.nan)
    tau_row = np.nanmean(tau, axis=1, keepdims=True)
    scale = np.maximum(1.0, np.abs(z).max(axis=1, keepdims=True))
    assert np.nanmax(np.abs(tau - tau_row) / scale) < 1e-14
    assert (np.where(support, -INF, z) <= tau_row + 1e-14 * scale).all()
    # Optimality against random feasible points: no point of the simplex is closer.
    q = rng.dirichlet(np.ones(z.shape[1]), size=z.shape[0])
    assert (((p - z) ** 2).sum(1) <= ((q - z) ** 2).sum(1) + 1e-9).all()


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.7)], ids=_IDS)
def test_permutation_equivariance_and_axis(fn: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 9)) * 2
    perm = rng.permutation(9)
    np.testing.assert_allclose(fn(x[:, perm]), fn(x)[:, perm], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(fn(x.T, axis=0), fn(x).T)
    x3 = x.reshape(30, 3, 3)
    np.testing.assert_array_equal(fn(x3, axis=(1, 2)), fn(x).reshape(30, 3, 3))
    np.testing.assert_array_equal(fn(x, axis=None), fn(x.reshape(1, -1)).reshape(30, 9))


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(2.5)], ids=_IDS)
def test_temperature_scaling_and_limits(fn: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(20, 6))
    for t in (0.05, 0.3, 7.0):
        np.testing.assert_allclose(fn(x, temperature=t), fn(x / t), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(fn(x, temperature=0), sk.hardmax(x))
    ties = np.array([[1.0, 3.0, 3.0, -INF]])
    np.testing.assert_array_equal(fn(ties, temperature=0), [[0, 0.5, 0.5, 0]])
    np.testing.assert_array_equal(fn(ties, temperature=INF), [[1 / 3, 1 / 3, 1 / 3, 0]])
    # Per-row temperatures, including the limits.
    t = np.array([[0.0], [INF], [2.0]])
    rows = np.array([[0.0, 1.0, 1.0], [0.0, 5.0, -INF], [0.0, 1.0, 2.0]])
    got = fn(rows, temperature=t)
    np.testing.assert_array_equal(got[0], [0, 0.5, 0.5])
    np.testing.assert_array_equal(got[1], [0.5, 0.5, 0])
    np.testing.assert_allclose(got[2], fn(rows[2] / 2.0), rtol=0, atol=1e-15)
    # A larger temperature never shrinks the support.
    s_small = (fn(x, temperature=0.5) > 0).sum(1)
    s_large = (fn(x, temperature=5.0) > 0).sum(1)
    assert (s_large >= s_small).all() and s_large.sum() > s_small.sum()
    with pytest.raises(ValueError, match="temperature"):
        fn(x, temperature=-1.0)


def _edge_rows() -> np.ndarray:
    return np.array(
        [
            [-INF, -INF, -INF],  # empty
            [0.0, INF, INF],  # +inf entries share
            [0.0, np.nan, 1.0],  # NaN in its row only
            [0.0, -INF, 2.0],  # −inf gets 0
            [0.0, 1.0, 2.0],
        ]
    )


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_edge_rows_and_the_entmax_package_contrast(name: str) -> None:
    x = _edge_rows()
    p = OURS[name](x)
    np.testing.assert_array_equal(p[0], [0, 0, 0])
    np.testing.assert_array_equal(p[1], [0, 0.5, 0.5])
    assert np.isnan(p[2]).all()
    np.testing.assert_allclose(p[3], OURS[name](np.array([0.0, 2.0]))[[0, 0, 1]] * [1, 0, 1])
    np.testing.assert_allclose(p[4], PEERS[name](torch.tensor(x[4:])).numpy()[0], atol=1e-15)
    assert np.isfinite(p[[0, 1, 3, 4]]).all()
    # The package fails on each of the special rows (its threshold index becomes −1) ...
    for row in x[:3]:
        with pytest.raises(RuntimeError):
            PEERS[name](torch.tensor(row[None]))
    # ... and agrees on the −inf one.
    np.testing.assert_allclose(p[3], PEERS[name](torch.tensor(x[3:4])).numpy()[0], atol=1e-15)


def test_entmax_edge_rows_and_bisect_contrast() -> None:
    x = _edge_rows()
    p = sk.entmax(x, alpha=1.8)
    peer = E.entmax_bisect(torch.tensor(x), alpha=1.8, dim=-1).numpy()
    np.testing.assert_array_equal(p[0], [0, 0, 0])
    np.testing.assert_array_equal(p[1], [0, 0.5, 0.5])
    assert np.isnan(p[2]).all() and np.isnan(peer[2]).all()
    # The package gives NaN for the empty row and for +inf entries.
    assert np.isnan(peer[0]).all() and np.isnan(peer[1]).all()
    np.testing.assert_allclose(p[3:], peer[3:], rtol=0, atol=1e-12)


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.3)], ids=_IDS)
def test_mask_equals_dropping(fn: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(40, 8))
    keep = rng.random((40, 8)) < 0.6
    keep[:, 0] = True
    keep[5] = False  # an all-masked row
    p = fn(x, where=keep)
    for i in range(40):
        expected = np.zeros(8)
        if keep[i].any():
            expected[keep[i]] = fn(x[i, keep[i]])
        np.testing.assert_allclose(p[i], expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(p[5], 0)


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.6)], ids=_IDS)
def test_low_precision_and_dtype(fn: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(50, 10)).astype(np.float16)
    p = fn(x)
    assert p.dtype == np.float16
    np.testing.assert_allclose(p.astype(np.float64), fn(x.astype(np.float64)), atol=1e-3)
    xt = torch.tensor(x.astype(np.float32)).to(torch.bfloat16)
    pt = fn(xt)
    assert pt.dtype == torch.bfloat16
    ref = fn(xt.to(torch.float64))
    assert float((pt.to(torch.float64) - ref).abs().max()) < 1e-2
    assert fn(x, dtype=np.float64).dtype == np.float64
    assert fn(np.array([[1, 2, 3]])).dtype == np.float64
    assert fn(np.zeros((0, 3))).shape == (0, 3)


def test_entmax_alpha_one_is_softmax_and_continuity(rng: np.random.Generator) -> None:
    x = rng.normal(size=(20, 7)) * 2
    np.testing.assert_array_equal(sk.entmax(x, alpha=1.0), sk.softmax(x))
    np.testing.assert_array_equal(sk.entmax(x, alpha=1, temperature=0.5),
                                  sk.softmax(x, temperature=0.5))
    errs = [np.abs(sk.entmax(x, alpha=1 + d) - sk.softmax(x)).max() for d in (1e-1, 1e-2, 1e-3)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-2
    np.testing.assert_allclose(sk.entmax(x, alpha=2.0), sk.sparsemax(x), rtol=0, atol=1e-14)
    np.testing.assert_allclose(sk.entmax(x, alpha=1.5), sk.entmax15(x), rtol=0, atol=1e-14)


@pytest.mark.parametrize("alpha", [0.5, -1.0, math.nan, INF, "2", None, True])
def test_entmax_alpha_errors(alpha: Any) -> None:
    with pytest.raises(ValueError, match="alpha"):
        sk.entmax(np.zeros(3), alpha=alpha)


@pytest.mark.parametrize("n_iter", [0, -3, 2.5, True])
def test_entmax_n_iter_errors(n_iter: Any) -> None:
    with pytest.raises(ValueError, match="n_iter"):
        sk.entmax(np.zeros(3), n_iter=n_iter)


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_torch_gradient_matches_entmax_package(name: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 9)) * 2
    u = torch.tensor(rng.normal(size=(30, 9)))
    a = torch.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    (OURS[name](a) * u).sum().backward()
    (PEERS[name](b) * u).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.7)], ids=_IDS)
def test_torch_edge_rows_have_finite_gradients(fn: Any) -> None:
    x = torch.tensor(_edge_rows()[[0, 1, 3, 4]], requires_grad=True)
    (fn(x) * torch.arange(3.0, dtype=x.dtype)).sum().backward()
    assert torch.isfinite(x.grad).all()
    np.testing.assert_array_equal(x.grad[:3].numpy(), 0)
    assert float(x.grad[3].abs().sum()) > 0 or fn is sk.sparsemax


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.4)], ids=_IDS)
def test_backends(fn: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(12, 5))
    ref = fn(x, temperature=np.full((12, 1), 0.7))
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    got = fn(jnp.asarray(x), temperature=0.7)
    assert isinstance(got, jax.Array)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=0, atol=1e-14)
    da = pytest.importorskip("dask.array")
    dx = da.from_array(x, chunks=(4, 2))
    lazy = fn(dx, temperature=np.full((12, 1), 0.7), where=np.ones(5, bool))
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), ref, rtol=0, atol=1e-15)
    xps = pytest.importorskip("array_api_strict")
    strict = fn(xps.asarray(x), temperature=0.7)
    np.testing.assert_allclose(np.asarray(strict), ref, rtol=0, atol=1e-14)


# --- closed-form derivatives -----------------------------------------------------------------

DERIVS = {
    "sparsemax": (sk.sparsemax_jvp, sk.sparsemax_vjp, sk.sparsemax_jacobian, {}),
    "entmax15": (sk.entmax15_jvp, sk.entmax15_vjp, sk.entmax15_jacobian, {}),
    "entmax": (sk.entmax_jvp, sk.entmax_vjp, sk.entmax_jacobian, {"alpha": 1.7}),
}


def _peer_fn(name: str, kw: dict) -> Any:
    if name == "entmax":
        return lambda t: E.entmax_bisect(t, alpha=kw["alpha"], dim=-1, n_iter=100)
    return PEERS[name]


@pytest.mark.parametrize("name", list(DERIVS))
def test_vjp_and_jacobian_match_entmax_package_autograd(
    name: str, rng: np.random.Generator
) -> None:
    jvp, vjp, jac, kw = DERIVS[name]
    x = rng.normal(size=(60, 8)) * 1.5
    u = rng.normal(size=(60, 8))
    xt = torch.tensor(x, requires_grad=True)
    (_peer_fn(name, kw)(xt) * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(vjp(x, u, **kw), xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(jvp(x, u, **kw), xt.grad.numpy(), rtol=0, atol=1e-12)
    j = jac(x, **kw)
    assert j.shape == (60, 8, 8)
    peer_j = torch.autograd.functional.jacobian(_peer_fn(name, kw), torch.tensor(x[:5]))
    for i in range(5):
        np.testing.assert_allclose(j[i], peer_j[i, :, i].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", j, u), jvp(x, u, **kw), atol=1e-14)
    np.testing.assert_allclose(j, np.swapaxes(j, -1, -2), rtol=0, atol=0)
    np.testing.assert_allclose(j.sum(-1), 0, atol=1e-14)


@pytest.mark.parametrize("alpha", [1.25, 2.0, 3.0])
def test_entmax_vjp_matches_entmax_bisect_autograd(alpha: float, rng: np.random.Generator) -> None:
    x = rng.normal(size=(100, 10))
    u = rng.normal(size=(100, 10))
    xt = torch.tensor(x, requires_grad=True)
    (E.entmax_bisect(xt, alpha=alpha, dim=-1, n_iter=100) * torch.tensor(u)).sum().backward()
    # g = p^(2−α) grows like 1/p for α = 3: the tiny p near the threshold amplify the last-bit
    # differences of the two bisections.
    np.testing.assert_allclose(sk.entmax_vjp(x, u, alpha=alpha), xt.grad.numpy(),
                               rtol=1e-9 if alpha > 2 else 0, atol=1e-12)
    if alpha == 2.0:
        np.testing.assert_allclose(sk.entmax_vjp(x, u, alpha=2), sk.sparsemax_vjp(x, u), atol=0)


def test_entmax_derivatives_at_alpha_one_are_softmax(rng: np.random.Generator) -> None:
    x = rng.normal(size=(10, 6))
    v = rng.normal(size=(10, 6))
    np.testing.assert_allclose(sk.entmax_jvp(x, v, alpha=1.0), sk.softmax_jvp(x, v), atol=1e-15)
    np.testing.assert_allclose(sk.entmax_jacobian(x, alpha=1.0, temperature=0.5),
                               sk.softmax_jacobian(x, temperature=0.5), atol=1e-14)


@pytest.mark.parametrize("name", list(DERIVS))
def test_derivative_temperature_axis_and_edge_rows(name: str, rng: np.random.Generator) -> None:
    jvp, vjp, jac, kw = DERIVS[name]
    x = rng.normal(size=(6, 5))
    v = rng.normal(size=(6, 5))
    np.testing.assert_allclose(jvp(x, v, temperature=0.3, **kw), jvp(x / 0.3, v, **kw) / 0.3,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vjp(x.T, v.T, axis=0, **kw), vjp(x, v, **kw).T, atol=0)
    np.testing.assert_allclose(jac(x.T, axis=0, **kw), jac(x, **kw), atol=0)
    edge = _edge_rows()
    tangent = np.ones_like(edge)
    tangent[3, 1] = np.inf  # at a −inf entry: ignored
    d = jvp(edge, tangent, **kw)
    np.testing.assert_array_equal(d[[0, 1, 3]], 0)
    assert np.isnan(d[2]).all()
    t = np.array([[0.0], [INF], [1.0], [1.0], [1.0]])
    d = jvp(edge[[4, 4, 4, 3, 4]], v[:5, :3], temperature=t, **kw)
    np.testing.assert_array_equal(d[:2], 0)
    assert np.abs(d[2]).sum() > 0 or name == "sparsemax"
    keep = np.array([True, False, True])
    masked = vjp(edge[4:], np.array([[1.0, np.nan, 2.0]]), where=keep, **kw)
    np.testing.assert_allclose(masked, vjp(edge[4:, [0, 2]], np.array([[1.0, 2.0]]), **kw)
                               [:, [0, 0, 1]] * [1, 0, 1], atol=1e-15)
    with pytest.raises(ValueError, match="v"):
        jvp(x, np.ones(4), **kw)


@pytest.mark.parametrize("name", list(DERIVS))
def test_derivative_backends(name: str, rng: np.random.Generator) -> None:
    jvp, vjp, jac, kw = DERIVS[name]
    x = rng.normal(size=(8, 4))
    v = rng.normal(size=(8, 4))
    ref = jvp(x, v, **kw)
    got = jvp(torch.tensor(x), torch.tensor(v), **kw)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-15)
    np.testing.assert_allclose(jac(torch.tensor(x), **kw).numpy(), jac(x, **kw), atol=1e-15)
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(x), v, **kw)), ref, atol=1e-14)
    da = pytest.importorskip("dask.array")
    lazy = jvp(da.from_array(x, chunks=(4, 2)), v, **kw)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), ref, atol=1e-15)


@pytest.mark.parametrize("alpha", [1.25, 1.7, 2.0, 3.0])
def test_autodiff_through_entmax_bisection_is_exact(alpha: float, rng: np.random.Generator) -> None:
    # The bisection's threshold carries no derivative; the final Newton step supplies dτ/dx.
    x = rng.normal(size=(40, 9))
    u = rng.normal(size=(40, 9))
    ref = sk.entmax_vjp(x, u, alpha=alpha)
    # For α > 2, g = p^(2−α) is large at tiny p: the last bits of p are amplified.
    rtol = 1e-9 if alpha > 2 else 0.0
    xt = torch.tensor(x, requires_grad=True)
    (sk.entmax(xt, alpha=alpha) * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=rtol, atol=1e-13)
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    g = jax.grad(lambda z: (sk.entmax(z, alpha=alpha) * u).sum())(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g), ref, rtol=rtol, atol=1e-13)


_SPECIAL = st.sampled_from([-INF, INF, 0.0, 1e308, -1e308, 1e-300, 5.0])


@given(
    rows=hnp.arrays(np.float64, (4, 5), elements=st.one_of(
        st.floats(-1e6, 1e6), _SPECIAL)),
    keep=hnp.arrays(np.bool_, (4, 5)),
    t=st.sampled_from([0.0, 1e-3, 1.0, 30.0, INF]),
)
def test_no_nan_and_on_the_simplex_or_empty(rows: np.ndarray, keep: np.ndarray, t: float) -> None:
    admissible = keep & (rows > -INF)
    for fn in (sk.sparsemax, sk.entmax15, _at(1.6)):
        p = fn(rows, where=keep, temperature=t)
        assert np.isfinite(p).all() and (p >= 0).all()
        sums = p.sum(axis=1)
        np.testing.assert_allclose(sums[admissible.any(axis=1)], 1.0, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(sums[~admissible.any(axis=1)], 0.0)
        assert (p[~admissible] == 0).all()


@pytest.mark.parametrize("fn", [sk.sparsemax, sk.entmax15, _at(1.3), _at(2.5)],
                         ids=["sparsemax", "entmax15", "entmax1.3", "entmax2.5"])
def test_torch_gradcheck(fn: Any) -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: fn(z, temperature=0.7), (x,))


def test_generic_derivative_dispatch_covers_the_sparse_maps() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 6))
    v = rng.standard_normal((4, 6))
    for fn, kw in ((sk.sparsemax, {}), (sk.entmax15, {}), (sk.entmax, {"alpha": 1.7})):
        name = fn.__name__
        np.testing.assert_array_equal(
            sk.jvp(fn, x, v, **kw), getattr(sk, f"{name}_jvp")(x, v, **kw)
        )
        np.testing.assert_array_equal(
            sk.vjp(name, x, v, **kw), getattr(sk, f"{name}_vjp")(x, v, **kw)
        )
        np.testing.assert_array_equal(
            sk.jacobian(fn, x, **kw), getattr(sk, f"{name}_jacobian")(x, **kw)
        )
        np.testing.assert_array_equal(
            sk.hessian(fn, x, **kw), getattr(sk, f"{name}_hessian")(x, **kw)
        )
    with pytest.raises(TypeError, match="no closed-form hessian"):
        sk.hessian(sk.alpha_relu, x)


def test_old_derivative_paths_forward_with_a_deprecation_warning() -> None:
    """The derivatives moved to softmaxkit.derivatives; softmaxkit.sparse.<name> still works."""
    import softmaxkit.derivatives as derivatives
    import softmaxkit.sparse as sparse

    moved = [
        f"{m}_{k}"
        for m in ("sparsemax", "entmax15", "entmax")
        for k in ("jvp", "vjp", "jacobian", "hessian")
    ] + ["alpha_relu_jvp", "alpha_relu_vjp", "alpha_relu_jacobian", "entmax_alpha_derivative"]
    for name in moved:
        with pytest.warns(DeprecationWarning, match=f"softmaxkit.sparse.{name} has moved"):
            fn = getattr(sparse, name)
        assert fn is getattr(derivatives, name) is getattr(sk, name)
        assert name in sparse.__all__  # star imports still bring them (with the warning)
    with pytest.warns(DeprecationWarning):
        from softmaxkit.sparse import entmax_alpha_derivative
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        entmax_alpha_derivative(x, alpha=1.3), sk.entmax_alpha_derivative(x, alpha=1.3)
    )
    # The maps themselves are not deprecated, and unknown names still raise.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sparse.sparsemax is sk.sparsemax
    with pytest.raises(AttributeError, match="no attribute 'sparsemax_gradient'"):
        sparse.sparsemax_gradient


@pytest.mark.parametrize("temperature", [0.0, math.inf])
def test_sparse_derivatives_keep_nan_rows_at_the_temperature_limits(temperature: float) -> None:
    """At T = 0 and inf the maps are constant (derivative 0), but a NaN row stays NaN."""
    x = np.array([[0.0, 1.0, 2.0], [0.0, np.nan, 1.0]])
    v = np.ones_like(x)
    for fn in (sk.sparsemax_jvp, sk.entmax15_jvp):
        got = fn(x, v, temperature=temperature)
        np.testing.assert_array_equal(got[0], np.zeros(3))
        assert np.isnan(got[1]).all()
