"""The maps on every installed array library agree with the NumPy results and keep the array kind.

The NumPy results are themselves checked against the oracle (test_maps.py); here every backend
runs a compact version of that suite (random rows, ±inf and empty rows, masks, temperatures,
axis tuples, logsumexp weights/sign/keepdims) and must agree within 4 ulp (each side is within 2
ulp of the exact value). Backends that are not installed are skipped.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import array_api_compat
import ml_dtypes
import numpy as np
import pytest

import softmaxkit as sk

MAPS = ("softmax", "log_softmax", "logsumexp", "hardmax")
INF = np.inf


@dataclass
class Backend:
    """How to move arrays into and out of one array library."""

    name: str
    to: Callable[[np.ndarray], Any]  # NumPy -> native, keeping the dtype
    back: Callable[[Any], np.ndarray]  # native -> NumPy
    is_native: Callable[[Any], bool]


def _numpy() -> Backend:
    return Backend("numpy", lambda a: np.array(a), np.asarray, array_api_compat.is_numpy_array)


def _strict() -> Backend:
    xps = pytest.importorskip("array_api_strict")
    return Backend(
        "array_api_strict",
        lambda a: xps.asarray(a),
        lambda a: np.asarray(a),
        lambda a: array_api_compat.is_array_api_strict_namespace(
            array_api_compat.array_namespace(a)
        ),
    )


def _torch() -> Backend:
    torch = pytest.importorskip("torch")

    def to(a: np.ndarray) -> Any:
        if a.dtype == ml_dtypes.bfloat16:
            return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
        return torch.from_numpy(np.ascontiguousarray(a))

    def back(t: Any) -> np.ndarray:
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:
            return t.float().numpy().astype(ml_dtypes.bfloat16)
        return t.numpy()

    return Backend("torch", to, back, array_api_compat.is_torch_array)


def _jax() -> Backend:
    pytest.importorskip("jax")
    import jax.numpy as jnp

    return Backend(
        "jax", lambda a: jnp.asarray(a), lambda a: np.asarray(a), array_api_compat.is_jax_array
    )


def _dask() -> Backend:
    da = pytest.importorskip("dask.array")

    def to(a: np.ndarray) -> Any:
        # chunks of 3 along every axis: every reduction crosses chunk boundaries
        return da.from_array(a, chunks=tuple(3 for _ in a.shape) or ())

    def back(a: Any) -> np.ndarray:
        return np.asarray(a.compute(scheduler="sync"))

    return Backend("dask", to, back, array_api_compat.is_dask_array)


_FACTORIES = {
    "numpy": _numpy,
    "array_api_strict": _strict,
    "torch": _torch,
    "jax": _jax,
    "dask": _dask,
}


@pytest.fixture(params=list(_FACTORIES))
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    b = _FACTORIES[request.param]()
    if b.name == "jax":
        import jax

        # float64 needs x64 mode; the context keeps the setting local to this test
        with jax.enable_x64(True):
            yield b
    else:
        yield b


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def assert_ulp_close(got: Any, ref: Any, n: float = 4, *, scale: Any = None, msg: str = ""):
    """|got - ref| ≤ n ulp (in ``ref``'s dtype) of max(|ref|, |scale|); specials equal."""
    ref = np.asarray(ref)
    got = np.asarray(got)
    assert got.shape == ref.shape, (msg, got.shape, ref.shape)
    assert got.dtype == ref.dtype, (msg, got.dtype, ref.dtype)
    g, r = got.astype(np.float64), ref.astype(np.float64)
    special = ~np.isfinite(r) | ~np.isfinite(g)
    np.testing.assert_array_equal(g[special], r[special], err_msg=msg)
    mag = np.abs(r)
    if scale is not None:
        mag = np.maximum(mag, np.abs(np.broadcast_to(np.asarray(scale, np.float64), mag.shape)))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    with np.errstate(over="ignore"):  # the spacing at the largest float is inf: no bound
        ulp = np.spacing(mag.astype(ref.dtype)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.where(special, 0.0, np.abs(g - r))
    bad = diff > n * ulp
    assert not bad.any(), f"{msg}: {g[bad][:4]} vs {r[bad][:4]} (ulp {ulp[bad][:4]})"


def compare(
    backend: Backend, name: str, x: np.ndarray, *, native: dict[str, Any] | None = None, **kw
) -> Any:
    """Run ``name`` on the backend's copy of ``x`` and on ``x``; assert they agree.

    ``native`` holds keyword arguments given as NumPy arrays that the backend receives
    converted (masks, temperature arrays, weights). XLA on CPU flushes subnormal results to
    zero (FTZ), which no library running on it can avoid: for JAX, a result the NumPy
    reference has as subnormal may come back as zero. Every normal result must agree.
    """
    native = native or {}
    fn = getattr(sk, name)
    ref = fn(x, **kw, **native)
    got = fn(backend.to(x), **kw, **{k: backend.to(v) for k, v in native.items()})
    pairs = list(zip(got, ref, strict=True)) if isinstance(ref, tuple) else [(got, ref)]
    for g, r in pairs:
        assert backend.is_native(g), f"{name} returned {type(g).__name__}"
        r = np.asarray(r)
        scale = None
        if name == "logsumexp":
            # logsumexp can cancel: compare at the magnitude it passes through (test_maps.py)
            where = native.get("where")
            masked = x if where is None else np.where(where, x, -INF)
            top = np.max(masked, axis=kw.get("axis", -1), keepdims=kw.get("keepdims", False))
            scale = np.where(np.isfinite(top), np.abs(top), 0.0)
        g_np = backend.back(g)
        if backend.name == "jax" and r.dtype.kind == "f":
            tiny = ml_dtypes.finfo(r.dtype).smallest_normal
            flushed = (np.abs(r.astype(np.float64)) < tiny) & (g_np.astype(np.float64) == 0)
            g_np = np.where(flushed, r, g_np).astype(r.dtype)
        assert_ulp_close(g_np, r, scale=scale, msg=f"{backend.name} {name} {kw}")
    return got


def _rows(rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    x = 30 * rng.standard_normal((7, 10))
    x[1] = -INF  # empty row
    x[2, [1, 4]] = INF  # +inf entries share the mass
    x[3, ::2] = -INF
    x[4, 0] = 1e300 if np.dtype(dtype) == np.float64 else 1e30
    top = float(np.finfo(dtype).max)
    x[6, :4] = [top, -top, top / 2, -top]  # x - max overflows unless handled
    return x.astype(dtype)


# --------------------------------------------------------------------------------------------
# the compact suite
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAPS)
def test_random_and_extended_rows(backend: Backend, name: str, rng: np.random.Generator):
    compare(backend, name, rng.standard_normal((5, 9)))
    compare(backend, name, _rows(rng))
    compare(backend, name, _rows(rng, np.float32))


@pytest.mark.parametrize("name", MAPS)
def test_masks(backend: Backend, name: str, rng: np.random.Generator) -> None:
    x = _rows(rng)
    mask = rng.random(x.shape) > 0.3
    mask[5] = False  # a fully masked row
    compare(backend, name, x, native={"where": mask})
    compare(backend, name, x, native={"where": mask[0]})  # broadcast along rows


@pytest.mark.parametrize("temperature", [0.37, 0.0, INF], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_temperature_scalar(backend: Backend, name: str, temperature: float, rng):
    compare(backend, name, _rows(rng), temperature=temperature)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_temperature_array(backend: Backend, name: str, rng: np.random.Generator) -> None:
    x = _rows(rng)
    t = np.array([[0.5], [2.0], [0.0], [INF], [1.0], [0.1], [3.0]])
    compare(backend, name, x, native={"temperature": t})


@pytest.mark.parametrize("name", MAPS)
def test_axis_tuple_and_none(backend: Backend, name: str, rng: np.random.Generator) -> None:
    x = 5 * rng.standard_normal((4, 5, 7))
    x[0, 1, :] = -INF
    compare(backend, name, x, axis=(0, 2))
    compare(backend, name, x, axis=0)
    compare(backend, name, x, axis=None)


def test_logsumexp_weights_sign_keepdims(backend: Backend, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((6, 8))
    b = rng.uniform(-1, 1, (6, 8))
    b[0] = 0.0
    compare(backend, "logsumexp", x, native={"b": b}, return_sign=True)
    compare(backend, "logsumexp", x, native={"b": np.abs(b)})
    compare(backend, "logsumexp", x, native={"b": np.abs(b)}, keepdims=True, axis=(0, 1))
    compare(backend, "logsumexp", x, keepdims=True)
    compare(backend, "logsumexp", _rows(rng), return_sign=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", MAPS)
def test_low_precision_keeps_dtype(backend: Backend, name: str, dtype: str, rng) -> None:
    if backend.name == "array_api_strict":
        pytest.skip("the array API standard has no float16/bfloat16")
    np_dtype = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    x = (8 * rng.standard_normal((6, 9))).astype(np_dtype)
    x[1, :] = -INF
    got = compare(backend, name, x)
    assert str(got.dtype).endswith(dtype)


# --------------------------------------------------------------------------------------------
# backend-specific behaviour
# --------------------------------------------------------------------------------------------


def test_torch_autograd_device_dtype(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(3 * rng.standard_normal((4, 6)), requires_grad=True)
    for name in ("softmax", "log_softmax", "logsumexp"):
        out = getattr(sk, name)(x, temperature=0.7)
        assert out.device == x.device and out.dtype == x.dtype
        assert out.grad_fn is not None, name
    lse = sk.logsumexp(x, temperature=0.7)
    lse.sum().backward()
    # the gradient of T·logsumexp(x/T) is softmax(x, T)
    expected = sk.softmax(x.detach(), temperature=0.7)
    torch.testing.assert_close(x.grad, expected, rtol=1e-13, atol=1e-15)
    x.grad = None
    p = sk.softmax(x)
    (p[:, 0]).sum().backward()
    s = p.detach()
    # d p_0 / d x_j = p_0 (δ_0j - p_j)
    jac_row = s[:, :1] * ((torch.arange(6) == 0).double() - s)
    torch.testing.assert_close(x.grad, jac_row, rtol=1e-12, atol=1e-15)


def test_torch_masked_and_inf_rows_backward_is_finite(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    data = 3 * rng.standard_normal((3, 5))
    data[1] = -np.inf
    x = torch.tensor(data, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True] * 5, [False] * 5])
    sk.softmax(x, where=mask).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_jax_jit_and_grad(rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    with jax.enable_x64(True):
        data = _rows(rng)
        x = jnp.asarray(data)
        mask = jnp.asarray(rng.random(data.shape) > 0.3)
        t = jnp.asarray(np.array([[0.5], [2.0], [0.0], [INF], [1.0], [0.1], [3.0]]))
        for name in ("softmax", "log_softmax", "logsumexp", "hardmax"):
            fn = getattr(sk, name)
            kw: dict[str, Any] = {"where": mask}
            if name != "hardmax":
                kw["temperature"] = t
            eager = fn(x, **kw)
            jitted = jax.jit(lambda v, m, fn=fn, kw=kw: fn(v, **{**kw, "where": m}))(x, mask)
            np.testing.assert_array_equal(np.asarray(jitted), np.asarray(eager), err_msg=name)
        y = jnp.asarray(3 * rng.standard_normal((5, 8)))
        grad = jax.grad(lambda v: sk.logsumexp(v).sum())(y)
        np.testing.assert_allclose(np.asarray(grad), np.asarray(sk.softmax(y)), rtol=1e-13)
        grad_t = jax.grad(lambda v: sk.logsumexp(v, temperature=0.3).sum())(y)
        np.testing.assert_allclose(
            np.asarray(grad_t), np.asarray(sk.softmax(y, temperature=0.3)), rtol=1e-12
        )


# The families of test_maps.py that JAX float64 must meet against the oracle, eager and jitted.
# "subnormal" is for softmax only: log_softmax and logsumexp there are sums of subnormal
# terms, which XLA on CPU flushes to zero inside the sum (jitted or not).
_JAX_CASES = [(name, case) for case in ("normal", "scaled700", "spread", "ties", "near_max")
              for name in ("softmax", "log_softmax", "logsumexp")]
_JAX_CASES += [("softmax", "subnormal")]


@pytest.mark.parametrize("mode", ["eager", "jit"])
@pytest.mark.parametrize(("name", "case"), _JAX_CASES, ids=[f"{n}-{c}" for n, c in _JAX_CASES])
def test_jax_float64_accuracy(name: str, case: str, mode: str) -> None:
    # Issue 14, case 10: without jit XLA on CPU flushed the subnormal correction e·r of terms
    # near 1e-300 to zero (448 ulp on "scaled700" softmax); under jit it fused to an FMA.
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    import oracle
    import test_maps

    x = test_maps.make_case(case, np.float64, rows=60)
    with jax.enable_x64(True):
        fn = getattr(sk, name)
        run = jax.jit(fn) if mode == "jit" else fn
        got = np.asarray(run(jnp.asarray(x)))
    exact, err = test_maps._exact_and_errors(name, x, got, np.dtype(np.float64), {})
    # A result the exact value has as subnormal may come back flushed (FTZ): not a loss.
    tiny = np.finfo(np.float64).smallest_normal
    flushed = (np.abs(oracle.round_to(exact, np.float64)) < tiny) & (got == 0)
    worst = float(np.where(flushed, 0.0, err).max())
    assert worst <= test_maps.ulp_bound(name, np.float64, case), (name, case, mode, worst)


def test_jax_float32_default(rng: np.random.Generator) -> None:
    pytest.importorskip("jax")
    import jax.numpy as jnp

    x = jnp.asarray(rng.standard_normal((3, 4)).astype(np.float32))
    for name in MAPS:
        out = getattr(sk, name)(x)
        assert out.dtype == jnp.float32


def _no_compute(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the map triggered a dask computation")


@pytest.mark.parametrize("name", MAPS)
def test_dask_is_lazy_and_chunked(name: str, rng: np.random.Generator) -> None:
    dask = pytest.importorskip("dask")
    import dask.array as da

    x = _rows(rng)
    mask = rng.random(x.shape) > 0.3
    dx = da.from_array(x, chunks=(2, 3))
    dm = da.from_array(mask, chunks=(2, 3))
    kw: dict[str, Any] = {} if name == "hardmax" else {"temperature": 0.5}
    with dask.config.set(scheduler=_no_compute):
        out = getattr(sk, name)(dx, where=dm, **kw)
        out_t = getattr(sk, name)(dx.T, axis=0, where=dm.T, **kw)
    assert isinstance(out, da.Array) and isinstance(out_t, da.Array)
    ref = getattr(sk, name)(x, where=mask, **kw)
    scale = np.abs(np.max(np.where(mask & np.isfinite(x), x, 0.0), axis=-1))
    s = scale if name == "logsumexp" else None
    with warnings.catch_warnings():
        # the computation runs later, outside the library: it must not warn either
        warnings.simplefilter("error")
        computed = out.compute(scheduler="sync")
        computed_t = out_t.compute(scheduler="sync")
        if name != "hardmax":
            limits = getattr(sk, name)(
                dx, temperature=np.array([[0.0], [INF], [1.0]] * 2 + [[2.0]])
            )
            limits.compute(scheduler="sync")
    assert_ulp_close(computed, ref, scale=s, msg=name)
    assert_ulp_close(computed_t, ref.T if ref.ndim == 2 else ref, scale=s)


@pytest.mark.parametrize("backend_name", ["array_api_strict", "torch", "jax", "dask"])
def test_errors_on_backends(backend_name: str) -> None:
    b = _FACTORIES[backend_name]()
    x = b.to(np.ones((2, 3)))
    with contextlib.ExitStack() as stack:
        if backend_name == "jax":
            import jax

            stack.enter_context(jax.enable_x64(True))
        with pytest.raises(ValueError, match="axis"):
            sk.softmax(x, axis=2)
        with pytest.raises(ValueError, match="temperature"):
            sk.softmax(x, temperature=-1.0)
        with pytest.raises(ValueError, match="where"):
            sk.softmax(x, where=b.to(np.ones((3, 2), dtype=bool)))
