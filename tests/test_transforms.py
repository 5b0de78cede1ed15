"""Transforms users apply to the maps: JAX α for entmax (differentiable, traced), and the
PyTorch function transforms (``torch.func.vmap``/``grad``/``jacrev``, ``torch.compile``).

Issue 14, cases 13 and 14.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import softmaxkit as sk

# --------------------------------------------------------------------------------------------
# entmax with a JAX array α (issue 14, case 13)
# --------------------------------------------------------------------------------------------


def test_jax_entmax_is_differentiable_in_alpha() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from softmaxkit.derivatives import entmax_alpha_derivative

    data = np.array([[0.0, 1.0, 2.0], [0.5, -1.0, 3.0], [1.0, 1.2, 0.9]])
    u = np.array([0.3, -1.0, 2.0])
    # n_iter = 20: the final Newton step still gives full precision, and XLA compiles less
    kw = {"n_iter": 20}
    with jax.enable_x64(True):
        x = jnp.asarray(data)
        # one α, traced by jax.grad through the public map (it raised before)
        g = jax.jit(jax.grad(lambda a: sk.entmax(x, alpha=a, **kw)[0, 2]))(1.5)
        ref = entmax_alpha_derivative(data[0], alpha=1.5)[2]
        assert float(ref) == pytest.approx(0.24846157, abs=1e-8)
        np.testing.assert_allclose(float(g), ref, rtol=1e-9)

        # one α per row (α = 1 is softmax), values and both gradients under jit
        def f(v: Any, a: Any) -> Any:
            return sk.entmax(v, alpha=a, **kw) @ jnp.asarray(u)

        alpha = jnp.asarray([[1.5], [1.2], [1.0]])
        out, pull = jax.vjp(f, x, alpha)
        gx, ga = pull(jnp.ones(3))
        for i, a in enumerate((1.5, 1.2, 1.0)):
            p = sk.entmax(data[i], alpha=a)
            np.testing.assert_allclose(float(out[i]), p @ u, rtol=1e-12)
            np.testing.assert_allclose(float(ga[i, 0]),
                                       entmax_alpha_derivative(data[i], alpha=a) @ u,
                                       rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(np.asarray(gx[i]),
                                       sk.entmax_vjp(data[i], u, alpha=a),
                                       rtol=1e-9, atol=1e-12)


def test_jax_entmax_alpha_errors() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x = jnp.zeros((2, 3))
    with pytest.raises(ValueError, match=r"entmax: alpha\[1, 0\] = 0.5 is invalid; expected"):
        sk.entmax(x, alpha=jnp.asarray([[1.5], [0.5]]))
    with pytest.raises(ValueError, match=r"alpha of shape \(3,\) does not broadcast"):
        sk.entmax(x, alpha=jnp.ones(3) * 1.5)
    # a traced α cannot be checked: its invalid rows are NaN, the others computed
    p = jax.jit(lambda a: sk.entmax(x, alpha=a))(jnp.asarray([[1.5], [0.5]]))
    assert np.isnan(np.asarray(p[1])).all() and np.allclose(np.asarray(p[0]), 1 / 3)


# --------------------------------------------------------------------------------------------
# torch.func transforms (issue 14, case 14)
# --------------------------------------------------------------------------------------------

_TORCH_MAPS = ("softmax", "log_softmax", "logsumexp", "hardmax", "sparsemax", "entmax15",
               "entmax", "alpha_relu")


def _torch_map(name: str) -> Any:
    return sk.sparse.alpha_relu if name == "alpha_relu" else getattr(sk, name)


def _edge_rows() -> np.ndarray:
    x = np.random.default_rng(14).standard_normal((4, 5))
    x[1, 2] = np.inf
    x[2] = -np.inf
    return x


@pytest.mark.parametrize("name", _TORCH_MAPS)
def test_torch_vmap_gives_the_maps_values(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn = _torch_map(name)
    x = torch.tensor(_edge_rows())
    # vmap used to stop at a data-dependent branch of the kernel (bool(tensor.any())).
    np.testing.assert_array_equal(torch.func.vmap(fn)(x).numpy(), fn(x).numpy())
    xg = x.clone().requires_grad_()
    out = torch.func.vmap(fn)(xg)  # through the autograd Function
    np.testing.assert_array_equal(out.detach().numpy(), fn(x).numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "entmax15", "sparsemax"])
def test_torch_jacrev_and_grad_under_vmap_are_the_closed_forms(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn = _torch_map(name)
    data = _edge_rows()
    jac = torch.func.vmap(torch.func.jacrev(fn))(torch.tensor(data)).numpy()
    np.testing.assert_allclose(jac, getattr(sk, f"{name}_jacobian")(data), rtol=1e-13,
                               atol=1e-15)
    u = np.arange(5.0)
    grad = torch.func.vmap(torch.func.grad(lambda v: fn(v) @ torch.tensor(u)))(
        torch.tensor(data)).numpy()
    np.testing.assert_allclose(grad, getattr(sk, f"{name}_vjp")(data, np.broadcast_to(
        u, data.shape)), rtol=1e-13, atol=1e-15)


def _compile_cases(torch: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Ordinary rows, a +inf entry, a row of −inf, a masked entry and a fully masked row, at
    T = 1, 0, 0.5 and inf."""
    x = _edge_rows()
    x[3, 0] = -np.inf
    keep = np.ones(x.shape, bool)
    keep[0, 1] = False
    keep[3] = False
    where = torch.tensor(keep)
    return x, [{}, {"where": where}, {"temperature": 0.0}, {"temperature": 0.5},
               {"temperature": 0.5, "where": where}, {"temperature": math.inf}]


# Dynamo's own note that it traces array-api-compat's lru_cache'd helpers: not ours to fix.
@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.parametrize("name", _TORCH_MAPS)
def test_torch_compile_fullgraph_gives_the_maps_values(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn = _torch_map(name)
    data, cases = _compile_cases(torch)
    if name == "hardmax":  # no temperature
        cases = [kw for kw in cases if "temperature" not in kw]
    if name == "entmax":  # fewer bisection steps: dynamo unrolls the loop (the same in eager)
        cases = [{**kw, "n_iter": 8} for kw in cases]
    x = torch.tensor(data)

    def all_cases(v: Any) -> tuple[Any, ...]:
        return tuple(fn(v, **kw) for kw in cases)

    # backend="eager": the point is that dynamo traces the whole map in one graph (it raised
    # at np.errstate in the decorator before); inductor's code generation would only add
    # minutes of compiling on a small CI machine.
    torch._dynamo.reset()
    compiled = torch.compile(all_cases, fullgraph=True, backend="eager")(x)
    for kw, got in zip(cases, compiled, strict=True):
        np.testing.assert_array_equal(got.numpy(), fn(x, **kw).numpy(), err_msg=str(kw))
    # requires_grad: through the autograd Function (its twin without jvp, which dynamo
    # refuses), values and closed-form gradients bit for bit. The rules are imported first:
    # dynamo cannot trace that import (see softmaxkit._base.dispatch).
    import softmaxkit.autodiff.torch  # noqa: F401

    torch._dynamo.reset()
    cases = cases[1::2]  # masked entries and rows, ±inf; T = 1, 0.5, inf (time)
    xc, xe = x.clone().requires_grad_(), x.clone().requires_grad_()
    got, want = torch.compile(all_cases, fullgraph=True, backend="eager")(xc), all_cases(xe)

    def loss(outs: tuple[Any, ...]) -> Any:
        return sum((torch.nan_to_num(o, 0.0, 0.0, 0.0) * torch.arange(
            float(o.numel()), dtype=o.dtype).reshape(o.shape)).sum() for o in outs)

    loss(got).backward()
    loss(want).backward()
    for kw, g, w in zip(cases, got, want, strict=True):
        np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy(), err_msg=str(kw))
    np.testing.assert_array_equal(xc.grad.numpy(), xe.grad.numpy())
    assert np.isfinite(xc.grad.numpy()).all()
    if name == "softmax":  # the limits themselves, not only eager's values
        assert compiled[1].numpy()[3].tolist() == [0.0] * 5  # fully masked row
        assert compiled[0].numpy()[1].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]  # +inf entry
