"""Autodiff wrappers: PyTorch autograd Functions and JAX custom_jvp rules with closed forms.

The point of the wrappers is the edge cases, where the peers give NaN gradients: a fully
masked row, a row of −inf logits, +inf logits. Each such case is run on the peer (marked as
an expected, strict failure: if the peer ever fixes it, the test says so) and on ours.
Away from the edges the wrappers must agree with the public maps (values, bit for bit), with
the closed forms of ``softmaxkit.derivatives`` and with the peers' own derivatives.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys

import numpy as np
import pytest

import softmaxkit as sk

INF = math.inf

# torch.func imports modules that call the deprecated torch.jit.script (torch's own business)
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


def test_importing_softmaxkit_imports_neither_torch_nor_jax() -> None:
    code = (
        "import sys, softmaxkit, softmaxkit.autodiff, softmaxkit.simplex; "
        "print(sorted(m for m in ('torch', 'jax', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ============================================================================================
# PyTorch
# ============================================================================================

torch = pytest.importorskip("torch")
from softmaxkit.autodiff import torch as skt  # noqa: E402
from softmaxkit.autodiff import torch_autograd  # noqa: E402

F64 = torch.float64


def _t(a: object, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=F64, requires_grad=grad)


def _finite(y: torch.Tensor) -> torch.Tensor:
    """Outputs with the non-finite entries zeroed, as a loss would use them."""
    return torch.where(torch.isfinite(y), y, torch.zeros_like(y))


def _loss_grad(f, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, gradient of a weighted sum of the finite outputs)."""
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    w = torch.arange(1.0, 1.0 + y.numel(), dtype=y.dtype).reshape(y.shape)
    (_finite(y) * w).sum().backward()
    return y.detach(), x.grad


# Each case: (name, ours, plain torch, input); the last row of each input is the edge case.
_ROW = [1.0, 2.0, 3.0]
_MASK = torch.tensor([[True, True, False], [False, False, False]])
_TORCH_CASES = [
    (
        "softmax, fully masked row",
        lambda a: skt.softmax(a, where=_MASK),
        lambda a: torch.softmax(a.masked_fill(~_MASK, -INF), -1),
        [_ROW, _ROW],
    ),
    (
        "softmax, row of -inf",
        lambda a: skt.softmax(a),
        lambda a: torch.softmax(a, -1),
        [_ROW, [-INF, -INF, -INF]],
    ),
    (
        "log_softmax, row of -inf",
        lambda a: skt.log_softmax(a),
        lambda a: torch.log_softmax(a, -1),
        [_ROW, [-INF, -INF, -INF]],
    ),
    (
        "logsumexp, row of -inf",
        lambda a: skt.logsumexp(a),
        lambda a: torch.logsumexp(a, -1),
        [_ROW, [-INF, -INF, -INF]],
    ),
    (
        "softmax, +inf logits",
        lambda a: skt.softmax(a),
        lambda a: torch.softmax(a, -1),
        [_ROW, [INF, 1.0, INF]],
    ),
]


@pytest.mark.parametrize(
    "impl",
    [
        pytest.param(
            "torch",
            marks=pytest.mark.xfail(
                strict=True,
                reason="peer gap: NaN output or gradient (pytorch/pytorch #41508, #103749)",
            ),
        ),
        "softmaxkit",
    ],
)
@pytest.mark.parametrize("case", _TORCH_CASES, ids=[c[0] for c in _TORCH_CASES])
def test_torch_edge_rows_have_zero_gradient_not_nan(case, impl: str) -> None:
    _, ours, plain, x = case
    f = ours if impl == "softmaxkit" else plain
    y, g = _loss_grad(f, _t(x))
    assert not torch.isnan(g).any(), f"NaN gradient: {g}"
    assert not torch.isnan(y).any(), f"NaN output: {y}"
    # the edge row's gradient is exactly 0, and the regular row equals torch's own
    assert torch.equal(g[1], torch.zeros(3, dtype=F64))
    _, g_plain = _loss_grad(plain, _t(x))
    torch.testing.assert_close(g[0], g_plain[0], rtol=1e-14, atol=1e-15)


def test_torch_contrast_in_attention() -> None:
    """Attention with a fully masked query row (e.g. padding): softmax(scores) @ values."""
    scores = _t([_ROW, _ROW])
    values = _t([[1.0, -1.0], [0.5, 2.0], [3.0, 0.0]])

    def run(attend):
        s, v = scores.detach().clone().requires_grad_(True), values.detach().clone()
        v.requires_grad_(True)
        loss = (attend(s) @ v).sum()
        loss.backward()
        return loss.detach(), s.grad, v.grad

    loss, gs, gv = run(lambda s: torch.softmax(s.masked_fill(~_MASK, -INF), -1))
    assert torch.isnan(loss) and torch.isnan(gv).all()  # the masked row poisons everything
    loss, gs, gv = run(lambda s: skt.softmax(s, where=_MASK))
    assert torch.isfinite(loss) and torch.isfinite(gv).all() and torch.isfinite(gs).all()
    assert torch.equal(gs[1], torch.zeros(3, dtype=F64))
    p0 = sk.softmax(scores.detach()[0], where=_MASK[0])
    torch.testing.assert_close(gv, p0[:, None].expand(3, 2), rtol=0, atol=0)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Rows covering the cases: regular, −inf entries, masked, fully masked, +inf, NaN."""
    x = _t(
        [
            [0.3, -1.2, 2.5, 0.7],
            [-INF, 1.0, -0.5, 2.0],
            [0.1, 0.2, 0.3, 0.4],
            [1.0, 2.0, 3.0, 4.0],
            [INF, 0.0, INF, 1.0],
            [1.0, math.nan, 0.0, 2.0],
            [30.0, -20.0, 0.0, 29.0],
        ]
    )
    mask = torch.ones(x.shape, dtype=torch.bool)
    mask[2, 1] = False
    mask[3] = False
    return x, mask


_KW = [
    {},
    {"temperature": 0.37},
    {"temperature": 2.5},
    {"temperature": 0.0},
    {"temperature": INF},
]


@pytest.mark.parametrize("kw", _KW, ids=lambda kw: str(kw.get("temperature", 1.0)))
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "hardmax"])
def test_torch_values_and_gradients_match_closed_forms(name: str, kw: dict) -> None:
    x, mask = _batch()
    kw = {**kw, "where": mask}
    if name == "hardmax":
        kw.pop("temperature", None)
    ours = getattr(skt, name)
    y = ours(x, **kw)
    ref = getattr(sk, name)(x.detach(), **kw)
    torch.testing.assert_close(y.detach(), ref, rtol=0, atol=0, equal_nan=True)
    rng = np.random.default_rng(7)
    u = torch.tensor(rng.normal(size=tuple(y.shape)), dtype=F64)
    (gx,) = torch.autograd.grad(y, x, u)
    expected = getattr(sk, f"{name}_vjp")(x.detach(), u, **kw)
    torch.testing.assert_close(gx, expected, rtol=1e-14, atol=1e-15, equal_nan=True)
    # NaN only in the NaN row
    nan_rows = torch.isnan(gx).any(dim=-1)
    if name == "hardmax":
        assert nan_rows.tolist() == [False] * 5 + [True, False]
    else:
        assert nan_rows.tolist() == [False] * 5 + [True, False]
        assert torch.isnan(gx[5]).all()


def test_torch_temperature_array_and_several_axes() -> None:
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=(2, 3, 4)), dtype=F64, requires_grad=True)
    t = torch.tensor([[[0.5]], [[0.0]]], dtype=F64)
    for name in ("softmax", "log_softmax", "logsumexp"):
        y = getattr(skt, name)(x, axis=(1, 2), temperature=t)
        torch.testing.assert_close(
            y.detach(), getattr(sk, name)(x.detach(), axis=(1, 2), temperature=t)
        )
        u = torch.tensor(rng.normal(size=tuple(y.shape)), dtype=F64)
        (gx,) = torch.autograd.grad(y, x, u)
        ref = getattr(sk, f"{name}_vjp")(x.detach(), u, axis=(1, 2), temperature=t)
        torch.testing.assert_close(gx, ref, rtol=1e-14, atol=1e-15)
        if name != "logsumexp":
            assert torch.equal(gx[1], torch.zeros(3, 4, dtype=F64))  # T = 0: constant


_CHECKS = [
    ("softmax", {"temperature": 0.7}),
    ("softmax", {"axis": 0, "temperature": 1.9}),
    ("softmax", {"axis": (0, 1)}),
    ("log_softmax", {"temperature": 0.4}),
    ("log_softmax", {"axis": None, "temperature": 3.0}),
    ("logsumexp", {"temperature": 0.6}),
    ("logsumexp", {"axis": (0, 1), "temperature": 2.0}),
]


@pytest.mark.parametrize(("name", "kw"), _CHECKS, ids=[f"{n}-{k}" for n, k in _CHECKS])
def test_torch_gradcheck_and_gradgradcheck(name: str, kw: dict) -> None:
    rng = np.random.default_rng(11)
    x = torch.tensor(rng.normal(size=(3, 4)), dtype=F64, requires_grad=True)
    f = getattr(skt, name)
    assert torch.autograd.gradcheck(lambda a: f(a, **kw), (x,))
    assert torch.autograd.gradgradcheck(lambda a: f(a, **kw), (x,))


def test_torch_gradgradcheck_with_masks_and_infinite_logits() -> None:
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.normal(size=(4, 5)), dtype=F64)
    x[1, 2] = -INF
    x[2] = -INF
    x = x.requires_grad_(True)
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[0, 1] = False
    mask[3] = False
    t = torch.tensor([[0.5], [1.0], [2.0], [0.8]], dtype=F64)
    kept = (x.detach() != -INF) & mask
    funcs = [
        lambda a: skt.softmax(a, where=mask, temperature=t),
        # −inf outputs would make the numerical derivative NaN: compare where they are finite
        lambda a: torch.where(kept, skt.log_softmax(a, where=mask, temperature=t), 0.0),
        lambda a: torch.where(
            torch.isfinite(r := skt.logsumexp(a, where=mask, temperature=0.9)), r, 0.0
        ),
    ]
    for f in funcs:
        assert torch.autograd.gradcheck(f, (x,))
        assert torch.autograd.gradgradcheck(f, (x,))


def test_torch_logsumexp_gradient_is_softmax_and_hessian_the_jacobian() -> None:
    x, mask = _batch()
    x = x[[0, 1, 2, 3, 4, 6]].detach().requires_grad_(True)
    mask = mask[[0, 1, 2, 3, 4, 6]]
    for t in (1.0, 0.45, 0.0, INF):
        (g,) = torch.autograd.grad(skt.logsumexp(x, where=mask, temperature=t).sum(), x)
        assert torch.equal(g, sk.softmax(x.detach(), where=mask, temperature=t))
    row = x[0].detach().requires_grad_(True)
    h = torch.autograd.functional.hessian(lambda a: skt.logsumexp(a, temperature=0.45), row)
    torch.testing.assert_close(
        h, sk.softmax_jacobian(row.detach(), temperature=0.45), rtol=1e-14, atol=1e-16
    )


def test_torch_func_transforms_agree_with_closed_forms() -> None:
    from torch.func import hessian, jacfwd, jacrev

    rng = np.random.default_rng(2)
    x = torch.tensor(rng.normal(size=5), dtype=F64)
    x[3] = -INF
    for name in ("softmax", "log_softmax", "logsumexp"):
        f = functools.partial(getattr(skt, name), temperature=0.6)
        jac = sk.jacobian(getattr(sk, name), x, temperature=0.6)
        hes = sk.hessian(getattr(sk, name), x, temperature=0.6)
        torch.testing.assert_close(jacrev(f)(x), jac, rtol=1e-14, atol=1e-16)
        torch.testing.assert_close(jacfwd(f)(x), jac, rtol=1e-14, atol=1e-16)
        torch.testing.assert_close(hessian(f)(x), hes, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_low_precision_gradients(dtype: torch.dtype) -> None:
    rng = np.random.default_rng(9)
    x64 = torch.tensor(rng.normal(size=(3, 6)), dtype=F64)
    x = x64.to(dtype).requires_grad_(True)
    u = torch.tensor(rng.normal(size=(3, 6)), dtype=dtype)
    y = skt.softmax(x, temperature=0.8)
    assert y.dtype == dtype
    (g,) = torch.autograd.grad(y, x, u)
    assert g.dtype == dtype
    ref = sk.softmax_vjp(x.detach().to(F64), u.to(F64), temperature=0.8)
    tol = {torch.float32: 1e-6, torch.float16: 2e-3, torch.bfloat16: 2e-2}[dtype]
    torch.testing.assert_close(g.to(F64), ref, rtol=tol, atol=tol)


def test_torch_logsumexp_keepdims_and_sign() -> None:
    x = _t([[0.0, math.log(3.0)], [-INF, -INF]])
    out, sign = skt.logsumexp(x, return_sign=True)
    torch.testing.assert_close(out.detach(), sk.logsumexp(x.detach()))
    assert sign.tolist() == [1.0, 0.0]
    k = skt.logsumexp(x, keepdims=True)
    assert tuple(k.shape) == (2, 1)
    (g,) = torch.autograd.grad(k.sum(), x)
    assert g.tolist() == [[0.25, 0.75], [0.0, 0.0]]


def test_torch_errors_and_fallbacks() -> None:
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        skt.softmax(np.zeros(3))
    t = torch.tensor(0.5, dtype=F64, requires_grad=True)
    with pytest.raises(TypeError, match=r"softmax\(x / t\)"):
        skt.softmax(_t([1.0, 2.0]), temperature=t)
    with pytest.raises(ValueError, match="temperature"):
        skt.softmax(_t([1.0, 2.0]), temperature=-1.0)
    with pytest.raises(ValueError, match="axis"):
        skt.log_softmax(_t([1.0, 2.0]), axis=3)
    x = _t([1.0, 2.0])
    assert skt.apply("softmax", x.detach()) is NotImplemented  # nothing to differentiate
    assert skt.apply("softmax", np.zeros(2)) is NotImplemented
    assert skt.apply("logsumexp", x, b=np.ones(2)) is NotImplemented
    assert skt.apply("softmax", x, temperature=t) is NotImplemented
    assert skt.apply("softmax", x, bogus=1) is NotImplemented
    assert skt.apply("exp", x) is NotImplemented
    assert type(skt.apply("sparsemax", x).grad_fn).__name__ == "_SparseBackward"
    with torch.no_grad():
        assert skt.apply("softmax", x) is NotImplemented
    assert type(skt.apply("softmax", x).grad_fn).__name__ == "_SoftmaxBackward"


def test_torch_autograd_hook_routes_only_tensors_that_require_grad() -> None:
    hooked = {name: torch_autograd(getattr(sk.maps, name)) for name in ("softmax", "logsumexp")}
    assert hooked["softmax"].__doc__ == sk.maps.softmax.__doc__
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(
        hooked["softmax"](a, temperature=0.5), sk.softmax(a, temperature=0.5)
    )
    x = _t([[1.0, 2.0, 3.0], [-INF, -INF, -INF]])
    y = hooked["softmax"](x)
    assert type(y.grad_fn).__name__ == "_SoftmaxBackward"
    (g,) = torch.autograd.grad((y * torch.arange(3.0, dtype=F64)).sum(), x)
    assert torch.equal(g[1], torch.zeros(3, dtype=F64))
    # weights b are differentiable themselves: the plain path keeps them
    b = torch.tensor([1.0, 2.0, 0.5], dtype=F64, requires_grad=True)
    r = hooked["logsumexp"](x[0], b=b)
    assert type(r.grad_fn).__name__ != "_LogSumExpBackward"
    with pytest.raises(TypeError):
        hooked["softmax"](x, bogus=True)


# ============================================================================================
# JAX (transforms are jitted: eager JAX compiles every operation separately, which is slow)
# ============================================================================================

jax = pytest.importorskip("jax")
jnp = jax.numpy
from softmaxkit.autodiff import jax as skj  # noqa: E402

jit = jax.jit


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


_JAX_PEERS = {
    "softmax": lambda a: jax.nn.softmax(a, axis=-1),
    "log_softmax": lambda a: jax.nn.log_softmax(a, axis=-1),
    "logsumexp": lambda a: jax.nn.logsumexp(a, axis=-1),
}


@pytest.mark.parametrize(
    "impl",
    [
        pytest.param("jax.nn", marks=pytest.mark.xfail(strict=True, reason="peer gap: NaN")),
        "softmaxkit",
    ],
)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_jax_rows_of_minus_inf_have_zero_gradient(x64, name: str, impl: str) -> None:
    f = getattr(skj, name) if impl == "softmaxkit" else _JAX_PEERS[name]
    x = jnp.array([_ROW, [-INF, -INF, -INF]])

    def loss(a):
        y = f(a)
        w = jnp.arange(1.0, 1.0 + y.size).reshape(y.shape)
        return jnp.sum(jnp.where(jnp.isfinite(y), y, 0.0) * w)

    g = jit(jax.grad(loss))(x)
    assert not jnp.isnan(g).any()
    np.testing.assert_array_equal(np.asarray(g[1]), np.zeros(3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_jax_matches_jax_nn_where_finite(x64, name: str) -> None:
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.normal(size=(4, 6)) * 3)
    t = 0.7
    peer = {
        "softmax": lambda a: jax.nn.softmax(a / t),
        "log_softmax": lambda a: jax.nn.log_softmax(a / t),
        "logsumexp": lambda a: t * jax.nn.logsumexp(a / t, axis=-1),
    }[name]

    def ours(a):
        return getattr(skj, name)(a, temperature=t)

    y = ours(x)
    np.testing.assert_array_equal(y, getattr(sk, name)(x, temperature=t))
    np.testing.assert_allclose(y, peer(x), rtol=1e-14, atol=1e-15)
    u = jnp.asarray(rng.normal(size=y.shape))
    g = jit(jax.grad(lambda a: jnp.sum(ours(a) * u)))(x)
    gp = jit(jax.grad(lambda a: jnp.sum(peer(a) * u)))(x)
    np.testing.assert_allclose(g, gp, rtol=1e-12, atol=1e-14)
    h = jit(jax.hessian(lambda a: jnp.sum(ours(a[None]) * u[0])))(x[0])
    hp = jit(jax.hessian(lambda a: jnp.sum(peer(a[None]) * u[0])))(x[0])
    np.testing.assert_allclose(h, hp, rtol=1e-11, atol=1e-13)


def test_jax_eager_equals_jit(x64) -> None:
    x = jnp.array([[0.5, -1.0, 2.0], [-INF, -INF, -INF]])
    f = jax.grad(lambda a: jnp.sum(skj.logsumexp(a, temperature=0.5)))
    np.testing.assert_array_equal(f(x), jit(f)(x))
    np.testing.assert_array_equal(f(x), sk.softmax(x, temperature=0.5))


def test_jax_derivatives_match_closed_forms_with_edges(x64) -> None:
    x, mask = _batch()
    xn, mn = x.detach().numpy(), mask.numpy()
    xj, mj = jnp.asarray(xn), jnp.asarray(mn)
    rng = np.random.default_rng(8)
    for t in (0.37, 0.0, INF):  # T = 1 is covered by the comparisons with jax.nn
        for name in ("softmax", "log_softmax", "logsumexp"):

            def f(a, name=name, t=t):
                return getattr(skj, name)(a, where=mj, temperature=t)

            y = f(xj)
            np.testing.assert_array_equal(y, getattr(sk, name)(xj, where=mj, temperature=t))
            u = rng.normal(size=y.shape)
            v = rng.normal(size=xn.shape)
            g = jit(lambda a, c, f=f: jax.vjp(f, a)[1](c)[0])(xj, jnp.asarray(u))
            tangent = jit(lambda a, d, f=f: jax.jvp(f, (a,), (d,))[1])(xj, jnp.asarray(v))
            kw = {"where": mn, "temperature": t}
            ref_vjp = getattr(sk, f"{name}_vjp")(xn, u, **kw)
            ref_jvp = getattr(sk, f"{name}_jvp")(xn, v, **kw)
            np.testing.assert_allclose(g, ref_vjp, rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(tangent, ref_jvp, rtol=1e-14, atol=1e-15)
            # NaN in the NaN row (index 5) only
            assert np.isnan(np.asarray(g)).any(axis=-1).tolist() == [False] * 5 + [True, False]


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_jax_hessians_match_closed_forms(x64, name: str) -> None:
    x = jnp.array([0.3, -INF, 2.5, 0.7, -1.0])
    keep = jnp.array([True, True, True, False, True])
    kw = {"where": np.asarray(keep), "temperature": 0.8}

    def f(a):
        return getattr(skj, name)(a, where=keep, temperature=0.8)

    hes = sk.hessian(getattr(sk, name), np.asarray(x), **kw)
    jac = sk.jacobian(getattr(sk, name), np.asarray(x), **kw)
    np.testing.assert_allclose(jit(jax.hessian(f))(x), hes, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jit(jax.jacrev(jax.jacrev(f)))(x), hes, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jit(jax.jacfwd(f))(x), jac, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(jit(jax.jacrev(f))(x), jac, rtol=1e-14, atol=1e-16)


def test_jax_logsumexp_gradient_is_softmax(x64) -> None:
    x, mask = _batch()
    rows = [0, 1, 2, 3, 4, 6]
    xj, mj = jnp.asarray(x.detach().numpy()[rows]), jnp.asarray(mask.numpy()[rows])
    for t in (1.0, 0.45, 0.0, INF):
        g = jit(jax.grad(lambda a, t=t: jnp.sum(skj.logsumexp(a, where=mj, temperature=t))))(xj)
        np.testing.assert_array_equal(g, sk.softmax(xj, where=mj, temperature=t))


def test_jax_temperature_derivatives(x64) -> None:
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(6)
    x = jnp.asarray(rng.normal(size=(3, 5)) * 2)
    t = jnp.array([[0.5], [1.3], [2.0]])
    # d logsumexp / dT = entropy of softmax
    g = jit(jax.grad(lambda s: jnp.sum(skj.logsumexp(x, temperature=s))))(t)
    p = np.asarray(sk.softmax(x, temperature=t))
    entropy = -np.sum(p * np.log(p), axis=-1, keepdims=True)
    np.testing.assert_allclose(g, entropy, rtol=1e-14)
    # softmax and log_softmax: d/dT Σ u_i y_i against the exact values (mpmath, 40 digits) of
    # dp/dT = −p ⊙ (x − ⟨p, x⟩)/T² and d log p/dT = −(x − ⟨p, x⟩)/T²
    u = rng.normal(size=(3, 5))
    want: dict[str, list[float]] = {"softmax": [], "log_softmax": []}
    with mpmath.workdps(40):
        for xr, ur, tr in zip(np.asarray(x), u, np.asarray(t)[:, 0], strict=True):
            xs = [mpmath.mpf(float(v)) for v in xr]
            us = [mpmath.mpf(float(v)) for v in ur]
            ts = mpmath.mpf(float(tr))
            e = [mpmath.exp(v / ts) for v in xs]
            pm = [v / mpmath.fsum(e) for v in e]
            mean = mpmath.fsum(a * b for a, b in zip(pm, xs, strict=True))
            dlog = [-(v - mean) / ts**2 for v in xs]
            pairs = list(zip(us, pm, dlog, strict=True))
            want["softmax"].append(float(mpmath.fsum(a * b * c for a, b, c in pairs)))
            want["log_softmax"].append(float(mpmath.fsum(a * c for a, _, c in pairs)))
    for name in ("softmax", "log_softmax"):
        f = getattr(skj, name)
        got = jit(jax.grad(lambda s, f=f: jnp.sum(f(x, temperature=s) * u)))(t)
        np.testing.assert_allclose(np.asarray(got)[:, 0], want[name], rtol=1e-13)
    # a row with −inf entries and huge logits: finite, never NaN; an empty-but-one row: 0
    xe = jnp.array([[1e300, -INF, 1e300 - 1e285], [0.0, -INF, -INF]])
    ge = jit(jax.grad(lambda s: jnp.sum(skj.softmax(xe, temperature=s) * jnp.arange(3.0))))(
        jnp.array([[1e285], [1.0]])
    )
    assert np.isfinite(np.asarray(ge)).all()
    assert ge[1, 0] == 0.0


def test_jax_vmap_and_hardmax(x64) -> None:
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(3, 4)))
    gv = jit(jax.vmap(jax.grad(lambda a: skj.logsumexp(a, temperature=0.5))))(x)
    np.testing.assert_array_equal(gv, sk.softmax(x, temperature=0.5))
    xn = x.at[1, 2].set(jnp.nan)
    np.testing.assert_array_equal(skj.hardmax(xn), sk.hardmax(xn))

    def loss(a):
        h = skj.hardmax(a)
        return jnp.sum(jnp.where(jnp.isnan(h), 0.0, h))

    g = np.asarray(jit(jax.grad(loss))(xn))
    assert np.isnan(g).any(axis=-1).tolist() == [False, True, False]
    assert np.all(g[[0, 2]] == 0)


def test_jax_errors() -> None:
    with pytest.raises(ValueError, match="temperature"):
        skj.softmax(jnp.zeros(3), temperature=-1.0)
    with pytest.raises(ValueError, match="axis"):
        skj.logsumexp(jnp.zeros(3), axis=2)
    with pytest.raises(TypeError, match="where"):
        skj.log_softmax(jnp.zeros(3), where=jnp.zeros(3))
