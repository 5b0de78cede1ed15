"""The information functions and cross_entropy on every array library: the same values as
NumPy (each side within a few ulp of the exact ones, test_information.py), the library's own
array kind, and float16/bfloat16 accumulated in float32."""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import pytest
from test_backends import Backend, assert_ulp_close, backend  # noqa: F401

import softmaxkit as sk

INF = np.inf


def _logits(rng: np.random.Generator, dtype: Any = np.float64) -> tuple[np.ndarray, ...]:
    a = 4 * rng.standard_normal((7, 6))
    b = a + rng.standard_normal(a.shape)
    a[1] = -INF                   # empty row
    a[2, [1, 4]] = INF            # +inf entries share the mass
    b[3, ::2] = -INF              # q excludes entries p has: KL = inf
    a[5, 0] = -INF
    keep = rng.random(a.shape) > 0.2
    keep[6] = False               # a fully masked row
    return a.astype(dtype), b.astype(dtype), keep


def run(bk: Backend, fn: Any, *args: Any, **kw: Any) -> Any:
    """``fn(*args, **kw)``. Every test here uses arrays of one shape (7, 6): eager JAX compiles
    each operation once per shape and dtype, seconds for the first call of a new shape."""
    return fn(*args, **kw)


def _check(bk: Backend, got: Any, ref: Any, n: float = 4, msg: str = "",
           scale: Any = None) -> None:
    assert bk.is_native(got), f"{msg}: returned {type(got).__name__}"
    assert_ulp_close(bk.back(got), np.asarray(ref), n, scale=scale, msg=f"{bk.name} {msg}")


# Scalar T = 1, and per row the other kinds (0.6, the hardmax and uniform limits) in one array
# (few calls: eager JAX dispatches every operation on its own).
_T_ROWS = np.array([[0.6], [1.0], [0.0], [INF], [0.6], [0.0], [INF]])


def _everything(a: Any, b: Any, keep: Any, t: Any) -> dict[str, Any]:
    """Every function on one pair of logit arrays, with and without the mask (one jit on
    JAX)."""
    out = {}
    for tag, kw in (("", {}), ("masked ", {"where": keep})):
        out[tag + "entropy"] = sk.entropy(a, temperature=t, **kw)
        out[tag + "entropy_grad"] = sk.entropy_grad(a, temperature=t, **kw)
        out[tag + "kl_divergence"] = sk.kl_divergence(a, b, temperature=t, **kw)
        out[tag + "js_divergence"] = sk.js_divergence(a, b, temperature=t, **kw)
        ga, gb = sk.kl_divergence_grad(a, b, temperature=t, **kw)
        out[tag + "kl_grad_p"], out[tag + "kl_grad_q"] = ga, gb
    return out


@pytest.mark.parametrize("scalar_t", [True, False], ids=["T=1", "T=rows"])
def test_entropy_and_divergences(backend: Backend, scalar_t: bool) -> None:  # noqa: F811
    a, b, keep = _logits(np.random.default_rng(0))
    t_np: Any = 1.0 if scalar_t else _T_ROWS
    if scalar_t:
        got = run(backend, lambda u, v, k: _everything(u, v, k, 1.0), backend.to(a),
                  backend.to(b), backend.to(keep))
    else:
        got = run(backend, _everything, backend.to(a), backend.to(b), backend.to(keep),
                  backend.to(_T_ROWS))
    ref = _everything(a, b, keep, t_np)
    for name, r in ref.items():
        if "grad" in name:
            # differences of probabilities (q − p, p·(d − KL), p·(log p + H)): ulps of 1/T
            _check(backend, got[name], r, 8, msg=name, scale=1.0 / 0.6)
        else:
            _check(backend, got[name], r, 8, msg=name)


def test_array_temperature_axis_tuple_keepdims(backend: Backend) -> None:  # noqa: F811
    rng = np.random.default_rng(1)
    a = 3 * rng.standard_normal((7, 6))
    b = 3 * rng.standard_normal((7, 6))
    _check(backend, run(backend, sk.entropy, backend.to(a), axis=(0, 1)),
           sk.entropy(a, axis=(0, 1)), msg="entropy axes")
    _check(backend, run(backend, sk.kl_divergence, backend.to(a), backend.to(b), axis=(0, 1),
                        temperature=0.5, keepdims=True),
           sk.kl_divergence(a, b, axis=(0, 1), temperature=0.5, keepdims=True), 8,
           msg="kl axes")
    _check(backend, run(backend, sk.js_divergence, backend.to(a), backend.to(b), axis=0),
           sk.js_divergence(a, b, axis=0), 8, msg="js axis 0")


def test_tsallis(backend: Backend) -> None:  # noqa: F811
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(6), 7)
    p[0] = [1.0, 0, 0, 0, 0, 0]
    keep = rng.random(p.shape) > 0.3
    for alpha in (1.0, 1.5, 2.0, 0.5):
        _check(backend, run(backend, sk.tsallis_entropy, backend.to(p), alpha=alpha),
               sk.tsallis_entropy(p, alpha=alpha), msg=f"tsallis {alpha}")
    _check(backend, run(backend, sk.tsallis_entropy, backend.to(p), where=backend.to(keep)),
           sk.tsallis_entropy(p, where=keep), msg="tsallis where")


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_cross_entropy(backend: Backend, kind: str) -> None:  # noqa: F811
    rng = np.random.default_rng(3)
    x = 3 * rng.standard_normal((7, 6))     # (N, C): the class axis is 1
    if kind == "indices":
        y = rng.integers(0, 6, 7)
        y[1] = -100
    else:
        y = rng.dirichlet(np.ones(6), 7)
    w = rng.uniform(0.5, 2.0, 6)
    for red in ("none", "mean", "sum"):
        kw = {"reduction": red, "label_smoothing": 0.1}
        got = run(backend, sk.cross_entropy, backend.to(x), backend.to(y),
                  weight=backend.to(w), **kw)
        _check(backend, got, sk.cross_entropy(x, y, weight=w, **kw), 8, msg=f"ce {red}")
    keep = rng.random(6) > 0.3
    keep[0] = True
    if kind == "indices":
        y = np.where(keep[y.clip(0)], y, -100)
    got = run(backend, sk.cross_entropy, backend.to(x), backend.to(y),
              where=backend.to(keep))
    _check(backend, got, sk.cross_entropy(x, y, where=keep), 8, msg="ce where")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_accumulates_in_float32(backend: Backend, dtype: str) -> None:  # noqa: F811
    if backend.name == "array_api_strict":
        pytest.skip("the array API standard has no float16/bfloat16")
    low = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    a, b, keep = _logits(np.random.default_rng(4))
    a, b = a.astype(low), b.astype(low)
    # The reference: the same low-precision inputs, exactly widened, computed in float32 and
    # rounded once to the low dtype (what accumulating in float32 means).
    wide_a, wide_b = a.astype(np.float32), b.astype(np.float32)
    cases = [
        (run(backend, sk.entropy, backend.to(a)), sk.entropy(wide_a)),
        (run(backend, sk.kl_divergence, backend.to(a), backend.to(b)),
         sk.kl_divergence(wide_a, wide_b)),
        (run(backend, sk.js_divergence, backend.to(a), backend.to(b), where=backend.to(keep)),
         sk.js_divergence(wide_a, wide_b, where=keep)),
    ]
    y = np.random.default_rng(5).integers(0, 6, 7)
    cases.append((run(backend, sk.cross_entropy, backend.to(a[:, :]), backend.to(y), axis=-1,
                                   reduction="none"),
                  sk.cross_entropy(wide_a, y, axis=-1, reduction="none")))
    p = np.random.default_rng(6).dirichlet(np.ones(6), 7).astype(low)
    cases.append((run(backend, sk.tsallis_entropy, backend.to(p)),
                  sk.tsallis_entropy(p.astype(np.float32))))
    for got, ref in cases:
        assert backend.is_native(got)
        assert str(got.dtype).endswith(dtype), got.dtype
        # one rounding to the low dtype: within 1 ulp of it (float32 has 13+ more bits)
        assert_ulp_close(backend.back(got), np.asarray(ref).astype(low), 1,
                         msg=f"{backend.name} {dtype}")


def test_dask_stays_lazy() -> None:
    dask = pytest.importorskip("dask")
    import dask.array as da

    a, b, keep = _logits(np.random.default_rng(7))

    def no_compute(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dask computation was triggered")

    da_a, da_b = da.from_array(a, chunks=(2, 3)), da.from_array(b, chunks=(3, 2))
    with dask.config.set(scheduler=no_compute):
        outs = [sk.entropy(da_a, where=keep), sk.kl_divergence(da_a, da_b, temperature=0.5),
                sk.js_divergence(da_a, da_b)]
    refs = [sk.entropy(a, where=keep), sk.kl_divergence(a, b, temperature=0.5),
            sk.js_divergence(a, b)]
    for out, ref in zip(outs, refs, strict=True):
        assert isinstance(out, da.Array)
        # every block runs the NumPy path: bit-identical
        np.testing.assert_array_equal(out.compute(scheduler="sync"), ref)
