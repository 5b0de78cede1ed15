"""Autodiff of the sparse maps: torch autograd Functions and JAX custom_jvp rules with the
closed forms of :mod:`softmaxkit.sparse`, and the derivative of entmax with respect to α
(against the ``entmax`` package's ``entmax_bisect`` backward and finite differences)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from softmaxkit.derivatives import (
    alpha_relu_vjp,
    entmax15_vjp,
    entmax_alpha_derivative,
    entmax_vjp,
    sparsemax_vjp,
)
from softmaxkit.derivatives.forms import entmax_dalpha as _dp_dalpha
from softmaxkit.sparse import alpha_relu, entmax, entmax15, sparsemax

torch = pytest.importorskip("torch")
E = pytest.importorskip("entmax")

INF = math.inf

# (map, its closed-form VJP, keywords)
CASES = [
    (sparsemax, sparsemax_vjp, {}),
    (entmax15, entmax15_vjp, {}),
    (entmax, entmax_vjp, {"alpha": 1.3}),
    (entmax, entmax_vjp, {"alpha": 2.5}),
    (alpha_relu, alpha_relu_vjp, {"alpha": 1.7, "tau": -0.2}),
]
IDS = ["sparsemax", "entmax15", "entmax1.3", "entmax2.5", "alpha_relu"]


def _edge_rows() -> np.ndarray:
    return np.array(
        [
            [1.0, 2.0, -INF, 0.5],  # an −inf entry
            [-INF, -INF, -INF, -INF],  # empty
            [1.0, INF, 0.0, INF],  # +inf entries
            [1.0, np.nan, 0.0, 2.0],  # NaN
            [0.3, -0.2, 1.1, 0.9],  # ordinary
        ]
    )


# --- torch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fn", "vjp", "kw"), CASES, ids=IDS)
def test_torch_routes_through_the_function_and_matches_the_closed_form(
    fn: Any, vjp: Any, kw: dict, rng: np.random.Generator
) -> None:
    x = rng.normal(size=(7, 6)) * 1.5
    u = rng.normal(size=(7, 6))
    t = rng.uniform(0.5, 2.0, size=(7, 1))
    keep = rng.uniform(size=(7, 6)) > 0.2
    xt = torch.tensor(x, requires_grad=True)
    p = fn(xt, temperature=torch.tensor(t), where=torch.tensor(keep), **kw)
    assert type(p.grad_fn).__name__ == "_SparseBackward"
    np.testing.assert_allclose(p.detach().numpy(), fn(x, temperature=t, where=keep, **kw),
                               rtol=1e-14, atol=1e-16)
    (p * torch.tensor(u)).sum().backward()
    ref = vjp(x, u, temperature=t, where=keep, **kw)
    np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("fn", "vjp", "kw"), CASES, ids=IDS)
def test_torch_gradcheck_float64(fn: Any, vjp: Any, kw: dict) -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    keep = torch.rand(4, 6) > 0.2
    t = torch.tensor([[0.7], [1.0], [2.0], [0.4]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda z: fn(z, temperature=t, where=keep, **kw), (x,))
    assert torch.autograd.gradcheck(lambda z: fn(z, axis=0, **kw), (x,))
    # Forward mode (the Function's jvp) agrees with reverse mode.
    assert torch.autograd.gradcheck(lambda z: fn(z, **kw), (x,), check_forward_ad=True,
                                    check_backward_ad=False)


def test_torch_gradgradcheck() -> None:
    torch.manual_seed(1)
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda z: entmax(z, alpha=1.6), (x,))
    assert torch.autograd.gradgradcheck(lambda z: alpha_relu(z, alpha=1.5), (x,))


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_torch_grads_equal_the_entmax_package(name: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 9)) * 2
    u = torch.tensor(rng.normal(size=(30, 9)))
    a = torch.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ours = {"sparsemax": sparsemax, "entmax15": entmax15}[name]
    peer = {"sparsemax": E.sparsemax, "entmax15": E.entmax15}[name]
    (ours(a) * u).sum().backward()
    (peer(b, dim=-1) * u).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("fn", "vjp", "kw"), CASES, ids=IDS)
def test_torch_edge_rows(fn: Any, vjp: Any, kw: dict) -> None:
    x = torch.tensor(_edge_rows(), requires_grad=True)
    (fn(x, **kw) * torch.arange(1.0, 5.0, dtype=x.dtype)).sum().backward()
    g = x.grad.numpy()
    assert np.isnan(g[3]).all()
    assert np.isfinite(np.delete(g, 3, axis=0)).all()
    np.testing.assert_array_equal(g[1], 0.0)
    assert g[0, 2] == 0.0
    if fn is alpha_relu:  # elementwise: +inf entries are constant, the others are not
        assert g[2, 1] == 0 and g[2, 3] == 0 and g[2, 0] > 0
    else:  # the mass stays on the +inf entries
        np.testing.assert_array_equal(g[2], 0.0)
    for t in (0.0, INF):
        xt = torch.tensor(_edge_rows()[[0, 4]], requires_grad=True)
        fn(xt, temperature=t, **kw).sum().backward()
        np.testing.assert_array_equal(xt.grad.numpy(), 0.0)


def test_torch_float32_and_half() -> None:
    torch.manual_seed(2)
    for dt in (torch.float32, torch.float16):
        x = torch.randn(5, 7).to(dt).requires_grad_(True)
        p = entmax(x, alpha=1.4)
        assert p.dtype == dt
        p.sum().backward()
        assert x.grad.dtype == dt
        # Σ_i ∂p_i/∂x_j = 0: the output stays on the simplex.
        np.testing.assert_allclose(x.grad.float().numpy(), 0.0, atol=2e-3)


# --- the α derivative ------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.05, 1.3, 1.5, 2.0, 2.5])
def test_alpha_derivative_equals_entmax_bisect(alpha: float, rng: np.random.Generator) -> None:
    x = rng.normal(size=(40, 9)) * 2
    u = rng.normal(size=(40, 9))
    at = torch.full((40, 1), alpha, dtype=torch.float64, requires_grad=True)
    (E.entmax_bisect(torch.tensor(x), alpha=at, n_iter=100) * torch.tensor(u)).sum().backward()
    peer = at.grad.numpy()[:, 0]
    d = entmax_alpha_derivative(x, alpha=alpha)
    np.testing.assert_allclose((u * d).sum(-1), peer, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d.sum(-1), 0.0, atol=1e-13)
    # ... and our own torch path, α one per row.
    ours = torch.full((40, 1), alpha, dtype=torch.float64, requires_grad=True)
    (entmax(torch.tensor(x), alpha=ours) * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy()[:, 0], peer, rtol=0, atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 1.0 + 1e-9, 1.001, 1.2, 1.7, 3.0])
def test_alpha_derivative_against_finite_differences(alpha: float,
                                                     rng: np.random.Generator) -> None:
    x = rng.normal(size=(6, 8))
    t = 0.8
    d = entmax_alpha_derivative(x, alpha=alpha, temperature=t)
    h = 1e-5
    lo = max(alpha - h, 1.0)
    fd = (entmax(x, alpha=alpha + h, temperature=t) - entmax(x, alpha=lo, temperature=t)) / (
        alpha + h - lo)
    # One-sided at α = 1 (error O(h)), central elsewhere (O(h²) plus rounding/h).
    tol = 5e-5 if alpha - h < 1 else 2e-8
    np.testing.assert_allclose(d, fd, rtol=0, atol=tol)


def test_alpha_derivative_is_continuous_at_one(rng: np.random.Generator) -> None:
    # The α = 1 limit is p ⊙ (Σ p L² − L²)/2 (L = log p of the softmax).
    x = rng.normal(size=(10, 6)) * 3
    at1 = entmax_alpha_derivative(x, alpha=1.0)
    p = np.exp(x - x.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    lg = np.log(p)
    np.testing.assert_allclose(at1, p * ((p * lg * lg).sum(-1, keepdims=True) - lg * lg) / 2,
                               rtol=1e-12, atol=1e-15)
    # The closed form itself, at the same p, is continuous in ε = α − 1: its rearrangement
    # has no 1/ε cancellation, where the textbook form loses every digit at ε = 1e-12.
    eps = 1e-12
    near = _dp_dalpha(np, p, lg, eps, (1,))
    np.testing.assert_allclose(near, _dp_dalpha(np, p, lg, 0.0, (1,)), rtol=0, atol=1e-11)
    g = p ** (1 - eps)
    gs = g / g.sum(-1, keepdims=True)
    s_ = p * lg
    textbook = (p - gs) / eps**2 - (s_ - gs * s_.sum(-1, keepdims=True)) / eps
    assert np.abs(textbook - at1).max() > 1e-2
    # Through entmax itself (whose bisection is accurate to about 1e-9 at α = 1 + 1e-6).
    np.testing.assert_allclose(entmax_alpha_derivative(x, alpha=1 + 1e-6), at1, atol=2e-5)


def test_alpha_derivative_edge_rows_and_backends(rng: np.random.Generator) -> None:
    d = entmax_alpha_derivative(_edge_rows(), alpha=1.5)
    assert np.isnan(d[3]).all()
    np.testing.assert_array_equal(d[[1, 2]], 0.0)
    assert d[0, 2] == 0 and np.abs(d[4]).sum() > 0
    for t in (0.0, INF):
        np.testing.assert_array_equal(entmax_alpha_derivative(_edge_rows()[[0, 4]], temperature=t),
                                      0.0)
    x = rng.normal(size=(5, 6))
    ref = entmax_alpha_derivative(x, alpha=1.8, axis=0)
    got = entmax_alpha_derivative(torch.tensor(x), alpha=1.8, axis=0)
    np.testing.assert_allclose(got.numpy(), ref, rtol=0, atol=1e-14)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    got_j = entmax_alpha_derivative(jax.numpy.asarray(x), alpha=1.8, axis=0)
    np.testing.assert_allclose(np.asarray(got_j), ref, rtol=0, atol=1e-14)


def test_torch_alpha_gradient_shapes_and_gradcheck(rng: np.random.Generator) -> None:
    x = torch.tensor(rng.normal(size=(2, 3, 5)), requires_grad=True)
    u = torch.tensor(rng.normal(size=(2, 3, 5)))
    # One α per leading index, broadcast over the second axis (like entmax_bisect).
    a = torch.tensor([[[1.2]], [[1.8]]], dtype=torch.float64, requires_grad=True)
    p = entmax(x, alpha=a)
    for i, ai in enumerate((1.2, 1.8)):
        np.testing.assert_allclose(p[i].detach().numpy(),
                                   entmax(x[i].detach().numpy(), alpha=ai), rtol=1e-14,
                                   atol=1e-16)
    (p * u).sum().backward()
    assert a.grad.shape == (2, 1, 1)
    for i, ai in enumerate((1.2, 1.8)):
        d = entmax_alpha_derivative(x[i].detach().numpy(), alpha=ai)
        np.testing.assert_allclose(float(a.grad[i]), float((u[i].numpy() * d).sum()),
                                   rtol=1e-13)
    assert torch.autograd.gradcheck(lambda z, al: entmax(z, alpha=al), (x, a))
    scalar = torch.tensor(1.45, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, al: entmax(z, alpha=al, axis=(0, 2)), (x, scalar))
    assert torch.autograd.gradcheck(lambda al: entmax(x.detach(), alpha=al), (scalar,),
                                    check_forward_ad=True)
    # α per row without grad (inference) and α = 1 rows (softmax).
    with torch.no_grad():
        ones = torch.tensor([[[1.0]], [[2.0]]], dtype=torch.float64)
        q = entmax(x, alpha=ones)
    np.testing.assert_allclose(q[0].numpy(), torch.softmax(x[0].detach(), -1).numpy(),
                               rtol=1e-14)
    np.testing.assert_allclose(q[1].numpy(), sparsemax(x[1].detach().numpy()), atol=1e-15)


@pytest.mark.parametrize(("alpha", "match"), [
    (torch.tensor([1.5, 1.5]), "does not broadcast"),
    (torch.tensor([[1.5], [0.5]]), r"alpha\[1, 0\] = 0.5 is invalid"),
    (torch.tensor([[1.5], [float("nan")]]), "finite values >= 1"),
])
def test_torch_alpha_errors(alpha: Any, match: str) -> None:
    x = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        entmax(x, alpha=alpha)


# --- JAX --------------------------------------------------------------------------------------


@pytest.fixture
def skj() -> Any:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from softmaxkit.autodiff import jax as module

    return module


JAX_CASES = [("sparsemax", {}), ("entmax15", {}), ("entmax", {"alpha": 1.3}),
             ("entmax", {"alpha": 2.5}), ("alpha_relu", {"alpha": 1.7, "tau": -0.2})]


@pytest.mark.parametrize(("name", "kw"), JAX_CASES, ids=IDS)
def test_jax_check_grads(skj: Any, name: str, kw: dict, rng: np.random.Generator) -> None:
    import jax.numpy as jnp
    from jax.test_util import check_grads

    fn = getattr(skj, name)
    x = jnp.asarray(rng.normal(size=(3, 5)))
    t = jnp.asarray(rng.uniform(0.5, 2.0, size=(3, 1)))
    keep = jnp.asarray(rng.uniform(size=(3, 5)) > 0.2)
    # x and the temperature (given as an array, it is differentiated too), with a mask.
    check_grads(lambda z, s: fn(z, temperature=s, where=keep, **kw), (x, t), order=1,
                modes=("fwd", "rev"))


@pytest.mark.parametrize(("fn", "vjp", "kw"), CASES, ids=IDS)
def test_jax_grad_equals_the_closed_form(skj: Any, fn: Any, vjp: Any, kw: dict,
                                         rng: np.random.Generator) -> None:
    import jax
    import jax.numpy as jnp

    wrapped = getattr(skj, fn.__name__)
    x = rng.normal(size=(6, 5))
    u = rng.normal(size=(6, 5))
    grad = jax.grad(lambda z: (wrapped(z, temperature=1.3, **kw) * u).sum())
    if fn is sparsemax:  # jit-compatible (the bisection's unrolled loop compiles slowly)
        grad = jax.jit(grad)
    g = grad(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g), vjp(x, u, temperature=1.3, **kw), rtol=1e-13,
                               atol=1e-15)
    ge = jax.grad(lambda z: (wrapped(z, **kw) * jnp.arange(1.0, 5.0)).sum())(
        jnp.asarray(_edge_rows()))
    ge = np.asarray(ge)
    assert np.isnan(ge[3]).all() and np.isfinite(np.delete(ge, 3, axis=0)).all()
    np.testing.assert_array_equal(ge[1], 0.0)
