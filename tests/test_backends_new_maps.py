"""sigmoid, log_sigmoid, logit, log1mexp and logcumsumexp on every array library, with their
derivatives and autodiff rules.

Every backend must return its own array kind and agree with the NumPy results (themselves
checked against mpmath in test_sigmoid.py and test_scan.py) within 4 ulp; the derivatives
within a few ulp of the NumPy closed forms. PyTorch and JAX autodiff go through the closed-form
rules and are checked against the NumPy derivatives and by gradcheck / finite differences.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from test_backends import Backend, assert_ulp_close, backend  # noqa: F401

import softmaxkit as sk

INF, NAN = np.inf, np.nan
RNG = np.random.default_rng(7)


def _logits(dtype: Any = np.float64) -> np.ndarray:
    x = RNG.normal(size=(4, 7)) * 20
    x[0, :3] = [-INF, INF, 0.0]
    x[1, 2] = NAN
    x[2, :] = [-745.0, -40.0, 40.0, 800.0, -800.0, 1e-300, -3.0]
    return x.astype(dtype)


def _batch(b: Backend, calls: list[Any]) -> list[Any]:
    """Run thunks; on JAX all of them in one ``jax.jit`` (eager JAX compiles every new
    operation separately, which makes cold tests slow; one jit compiles them together)."""
    if b.name != "jax":
        return [c() for c in calls]
    import jax

    return list(jax.jit(lambda: tuple(c() for c in calls))())


def _close(b: Backend, got: Any, ref: np.ndarray, n: float = 4, msg: str = "") -> None:
    assert b.is_native(got), (msg, type(got))
    # XLA on CPU flushes subnormal results to zero: for JAX both sides are compared with
    # subnormals flushed (every other backend returns them).
    got = b.back(got)
    if b.name == "jax":
        ref = np.asarray(ref)
        tiny = np.finfo(ref.dtype).tiny
        with np.errstate(invalid="ignore"):
            ref = np.where(np.abs(ref) < tiny, 0.0 * ref, ref)
            got = np.where(np.abs(got) < tiny, 0.0 * got, got)
    assert_ulp_close(got, ref, n, msg=msg)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_family(backend: Backend, dtype: type) -> None:  # noqa: F811
    b = backend
    x = _logits(dtype)
    t_rows = np.array([[0.5], [1.0], [0.0], [INF]], dtype=dtype)
    calls, refs = [], []
    for t in (1.0, 0.3, 0.0, INF, t_rows):
        tt = b.to(t) if isinstance(t, np.ndarray) and b.name != "dask" else t
        for fn in (sk.sigmoid, sk.log_sigmoid):
            calls.append(lambda fn=fn, tt=tt: fn(b.to(x), temperature=tt))
            refs.append((fn(x, temperature=t), fn.__name__))
    p = sk.sigmoid(x[np.isfinite(x)].reshape(-1)[:10].astype(dtype))
    p = np.concatenate([p, np.array([0.0, 1.0, 0.5], dtype=dtype)])
    calls.append(lambda: sk.logit(b.to(p), temperature=2.0))
    refs.append((sk.logit(p, temperature=2.0), "logit"))
    z = -np.abs(x[np.isfinite(x)]).astype(dtype)
    calls.append(lambda: sk.log1mexp(b.to(z)))
    refs.append((sk.log1mexp(z), "log1mexp"))
    for got, (ref, msg) in zip(_batch(b, calls), refs, strict=True):
        _close(b, got, ref, msg=msg)


def test_logit_errors(backend: Backend) -> None:  # noqa: F811
    b = backend
    p = np.array([[0.2, 0.4], [0.9, 1.5]])
    if b.name == "dask":  # lazy: values are not inspected (NaN there)
        assert np.isnan(b.back(sk.logit(b.to(p)))[1, 1])
        return
    with pytest.raises(sk.InvalidProbabilityError, match=r"p\[1, 1\] = 1.5"):
        sk.logit(b.to(p))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logcumsumexp(backend: Backend, dtype: type) -> None:  # noqa: F811
    b = backend
    x = _logits(dtype)
    w = RNG.uniform(size=x.shape) > 0.25
    t_rows = np.array([[0.5], [1.0], [0.0], [INF]], dtype=dtype)
    calls, refs = [], []
    for kw in ({}, {"axis": 0, "reverse": True}, {"temperature": 0.3, "where": w},
               {"temperature": t_rows}, {"temperature": INF, "reverse": True}):
        refs.append((sk.logcumsumexp(x, **kw), str(kw)))
        kk = {k: (b.to(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        if b.name == "dask" and "temperature" in kw:
            kk["temperature"] = kw["temperature"]
        calls.append(lambda kk=kk: sk.logcumsumexp(b.to(x), **kk))
    for got, (ref, msg) in zip(_batch(b, calls), refs, strict=True):
        _close(b, got, ref, msg=msg)


def test_low_precision(backend: Backend) -> None:  # noqa: F811
    b = backend
    if b.name in ("array_api_strict", "dask"):
        pytest.skip("float16 is computed as NumPy's; bfloat16 is not in these namespaces")
    import ml_dtypes

    x = np.clip(_logits(np.float32), -60, 60)
    for dt in (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)):
        if b.name == "numpy" and dt == np.float16:
            continue
        xl = x.astype(dt)
        got_s, got_l = _batch(b, [lambda xl=xl: sk.sigmoid(b.to(xl)),
                                  lambda xl=xl: sk.logcumsumexp(b.to(xl))])
        assert b.back(got_s).dtype == dt
        # computed in float32 (float64 on NumPy), rounded once: within 1 ulp of NumPy
        assert_ulp_close(b.back(got_s), sk.sigmoid(xl), 1, msg=str(dt))
        assert_ulp_close(b.back(got_l), sk.logcumsumexp(xl), 1, msg=str(dt))


def test_derivatives(backend: Backend) -> None:  # noqa: F811
    b = backend
    x = _logits()
    v = RNG.normal(size=x.shape)
    calls, refs = [], []
    for fn in (sk.sigmoid, sk.log_sigmoid):
        for kind in ("jvp", "vjp"):
            d = getattr(sk, kind)
            calls.append(lambda d=d, fn=fn: d(fn, b.to(x), b.to(v), temperature=0.7))
            refs.append((d(fn, x, v, temperature=0.7), f"{fn.__name__} {kind}", 4))
        calls.append(lambda fn=fn: sk.hessian(fn, b.to(x)))
        refs.append((sk.hessian(fn, x), f"{fn.__name__} hessian", 4))
    p = np.array([0.0, 0.1, 0.5, 0.99, 1.0])
    calls.append(lambda: sk.jacobian(sk.logit, b.to(p)))
    refs.append((sk.jacobian(sk.logit, p), "logit", 2))
    for got, (ref, msg, n) in zip(_batch(b, calls), refs, strict=True):
        _close(b, got, ref, n, msg=msg)
    y = RNG.normal(size=(3, 6)) * 5
    y[0, 2] = INF
    u = RNG.normal(size=y.shape)
    got = _batch(b, [lambda: sk.jvp(sk.logcumsumexp, b.to(y), b.to(u), temperature=0.8),
                     lambda: sk.vjp(sk.logcumsumexp, b.to(y), b.to(u), temperature=0.8),
                     lambda: sk.jacobian(sk.logcumsumexp, b.to(y), axis=-1)])
    refs2 = [sk.logcumsumexp_jvp(y, u, temperature=0.8),
             sk.logcumsumexp_vjp(y, u, temperature=0.8), sk.logcumsumexp_jacobian(y)]
    for g, r in zip(got, refs2, strict=True):
        assert b.is_native(g)
        np.testing.assert_allclose(b.back(g), r, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------------
# autodiff
# --------------------------------------------------------------------------------------------


def test_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    from softmaxkit.autodiff import torch as skt

    x = torch.tensor(RNG.normal(size=(2, 4)) * 3, requires_grad=True)
    p = torch.tensor(RNG.uniform(0.05, 0.95, size=4), requires_grad=True)
    checks = [
        (lambda a: sk.sigmoid(a, temperature=0.7), x),
        (sk.log_sigmoid, x),
        (lambda a: sk.logit(a, temperature=1.5), p),
        (lambda a: sk.logcumsumexp(a, axis=0, temperature=0.6), x),
        (lambda a: sk.logcumsumexp(a, reverse=True), x),
    ]
    for f, a in checks:
        assert torch.autograd.gradcheck(f, (a,))
        assert torch.autograd.gradgradcheck(f, (a,))
    # the hook routes tensors that require grad through the Functions
    assert type(sk.sigmoid(x).grad_fn).__name__ == "_DerivedBackward"
    assert skt.logcumsumexp.__name__ == "logcumsumexp"
    # gradients equal the NumPy closed forms; edges give 0, never NaN
    e = torch.tensor([[-INF, -800.0, 0.0, 40.0, INF]], requires_grad=True)
    u = torch.ones_like(e)
    for fn, vjp in ((sk.sigmoid, sk.sigmoid_vjp), (sk.log_sigmoid, sk.log_sigmoid_vjp)):
        (g,) = torch.autograd.grad(fn(e), e, u)
        np.testing.assert_array_equal(g.numpy(), vjp(e.detach().numpy(), u.numpy()))
        assert not torch.isnan(g).any()
    m = torch.tensor([[True, False, True, True, True]])
    (g,) = torch.autograd.grad(sk.logcumsumexp(e, where=m), e, u)
    np.testing.assert_array_equal(g.numpy(), sk.logcumsumexp_vjp(
        e.detach().numpy(), u.numpy(), where=m.numpy()))
    assert g[0, 1] == 0 and g[0, 0] == 0
    # forward mode and vmap
    jf = torch.func.jacfwd(lambda a: sk.logcumsumexp(a))(x.detach()[0])
    np.testing.assert_allclose(jf.numpy(), sk.logcumsumexp_jacobian(x.detach().numpy()[0]),
                               rtol=1e-13)
    vm = torch.func.vmap(torch.func.grad(lambda a: sk.log_sigmoid(a).sum()))(x.detach())
    np.testing.assert_allclose(vm.numpy(), sk.log_sigmoid_jacobian(x.detach().numpy()),
                               rtol=1e-15)
    with pytest.raises(TypeError, match="temperature is not differentiated"):
        skt.sigmoid(x, temperature=torch.tensor(2.0, requires_grad=True))


def test_jax_rules() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from softmaxkit.autodiff import jax as skj

    with jax.enable_x64(True):
        x = jnp.asarray(RNG.normal(size=(2, 6)) * 3)
        u = jnp.asarray(RNG.normal(size=(2, 6)))

        @jax.jit
        def firsts(a: Any) -> Any:
            return (
                jax.grad(lambda a: jnp.sum(skj.logcumsumexp(a, temperature=0.5) * u))(a),
                jax.vmap(jax.grad(skj.sigmoid))(a[0]),
                jax.vmap(jax.grad(skj.log_sigmoid))(a[0]),
                jax.hessian(lambda a: skj.sigmoid(a).sum())(a[0]),
                jax.hessian(lambda a: skj.logcumsumexp(a)[-1])(a[0]),
            )

        g, gs, gl, hs, hl = firsts(x)
        xn = np.asarray(x)
        np.testing.assert_allclose(np.asarray(g), sk.logcumsumexp_vjp(
            xn, np.asarray(u), temperature=0.5), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(gs), sk.sigmoid_jacobian(xn[0]), rtol=1e-15)
        np.testing.assert_allclose(np.asarray(gl), sk.log_sigmoid_jacobian(xn[0]), rtol=1e-15)
        np.testing.assert_allclose(np.diag(np.asarray(hs)), sk.sigmoid_hessian(xn[0]),
                                   rtol=1e-14)
        np.testing.assert_allclose(np.asarray(hl), sk.logcumsumexp_hessian(xn[0])[-1],
                                   rtol=1e-12, atol=1e-15)

        # an array temperature is differentiated: compare with central differences
        fns = (lambda t: skj.sigmoid(x, temperature=t).sum(),
               lambda t: skj.logit(jnp.asarray([0.2, 0.7]), temperature=t).sum(),
               lambda t: skj.logcumsumexp(x, temperature=t).sum())

        @jax.jit
        def in_t(t: Any) -> Any:
            return tuple((jax.grad(f)(t), (f(t + 1e-6) - f(t - 1e-6)) / 2e-6) for f in fns)

        for grad, fd in in_t(jnp.asarray(0.8)):
            assert math.isclose(float(grad), float(fd), rel_tol=1e-6)
        # edges: no NaN gradient
        e = jnp.asarray([-INF, -800.0, 0.0, 40.0, INF])
        g = jax.jit(jax.grad(lambda a: (skj.sigmoid(a) + skj.log_sigmoid(a)
                                        + skj.logcumsumexp(a)).sum()))(e)
        assert not jnp.isnan(g).any()
