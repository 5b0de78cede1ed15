"""cross_entropy equals torch.nn.functional.cross_entropy on every option combination, and
keeps the library's mask and extended-real story where PyTorch gives NaN."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import softmaxkit as sk

torch = pytest.importorskip("torch")
F = torch.nn.functional

INF = np.inf

# (logits shape, target shape for class indices): PyTorch's three layouts.
SHAPES = [((5,), ()), ((6, 5), (6,)), ((3, 5, 2, 4), (3, 2, 4))]
COMBOS = list(itertools.product(
    range(len(SHAPES)), ["indices", "probabilities"], [False, True], [-100, 1],
    ["none", "mean", "sum"], [0.0, 0.1, 1.0],
))


def _case(rng: np.random.Generator, shape_id: int, kind: str, ignore: int, dtype: Any):
    shape, tshape = SHAPES[shape_id]
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    c = shape[0] if len(shape) == 1 else shape[1]
    if kind == "indices":
        y = rng.integers(0, c, tshape)
        if y.ndim:
            y.flat[::3] = ignore  # some targets ignored (every one in a 0-d target is not)
    else:
        y = rng.random(shape)
        y = (y / y.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)).astype(dtype)
    return x, y, c


def _torch_ce(x, y, w, **kw):
    return F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y),
                           weight=None if w is None else torch.from_numpy(w), **kw).numpy()


@pytest.mark.parametrize(("shape_id", "kind", "weighted", "ignore", "reduction", "eps"), COMBOS)
def test_equals_torch_on_every_combination(shape_id, kind, weighted, ignore, reduction, eps):
    rng = np.random.default_rng(COMBOS.index((shape_id, kind, weighted, ignore, reduction, eps)))
    x, y, c = _case(rng, shape_id, kind, ignore, np.float64)
    w = rng.uniform(0.2, 3.0, c) if weighted else None
    kw = {"ignore_index": ignore, "reduction": reduction, "label_smoothing": eps}
    if kind == "probabilities" and ignore >= 0:
        with pytest.raises(RuntimeError, match="ignore_index"):
            _torch_ce(x, y, w, **kw)
        with pytest.raises(ValueError, match="ignore_index=1 is not supported"):
            sk.cross_entropy(x, y, weight=w, **kw)
        return
    ref = _torch_ce(x, y, w, **kw)
    got = sk.cross_entropy(x, y, weight=w, **kw)
    assert np.shape(got) == ref.shape
    # torch's log p = x − logsumexp(x) cancels near p = 1: an ulp of the logsumexp, absolute
    tol = {"rtol": 2e-14, "atol": 4 * np.finfo(np.float64).eps * (1 + np.abs(x).max())}
    np.testing.assert_allclose(got, ref, **tol)
    # the same on torch tensors, returned as a tensor
    tw = None if w is None else torch.from_numpy(w)
    got_t = sk.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), weight=tw, **kw)
    assert isinstance(got_t, torch.Tensor)
    np.testing.assert_allclose(got_t.numpy(), ref, **tol)


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_float32_and_gradient_equal_torch(kind: str, reduction: str) -> None:
    rng = np.random.default_rng(7)
    x, y, c = _case(rng, 2, kind, -100, np.float32)
    w = rng.uniform(0.2, 3.0, c).astype(np.float32)
    kw = {"reduction": reduction, "label_smoothing": 0.2}
    xt = torch.from_numpy(x).requires_grad_(True)
    xr = torch.from_numpy(x.copy()).requires_grad_(True)
    got = sk.cross_entropy(xt, torch.from_numpy(y), weight=torch.from_numpy(w), **kw)
    ref = F.cross_entropy(xr, torch.from_numpy(y), weight=torch.from_numpy(w), **kw)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref, rtol=3e-6, atol=1e-7)
    got.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(xt.grad, xr.grad, rtol=1e-5, atol=1e-7)


def test_channels_last_axis() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 7, 5))  # (N, L, C)
    y = rng.integers(0, 5, (4, 7))
    ref = _torch_ce(np.ascontiguousarray(x.transpose(0, 2, 1)), y, None, reduction="none")
    np.testing.assert_allclose(sk.cross_entropy(x, y, axis=-1, reduction="none"), ref,
                               rtol=1e-14)


def test_temperature_is_the_loss_of_scaled_logits() -> None:
    rng = np.random.default_rng(2)
    x = 4 * rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    ref = _torch_ce(x / 0.7, y, None, label_smoothing=0.1)
    np.testing.assert_allclose(sk.cross_entropy(x, y, temperature=0.7, label_smoothing=0.1),
                               ref, rtol=1e-13)


def test_where_removes_classes() -> None:
    # A mask that excludes classes 1 and 3 everywhere is PyTorch on the remaining columns:
    # smoothing over the 3 admitted classes, their weights, the indices renumbered.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 5))
    keep = np.array([True, False, True, False, True])
    y = rng.choice([0, 2, 4], 8)
    y[2] = -100
    w = rng.uniform(0.5, 2.0, 5)
    new = {0: 0, 2: 1, 4: 2, -100: -100}
    y_sub = np.array([new[v] for v in y])
    for red in ("none", "mean", "sum"):
        got = sk.cross_entropy(x, y, where=keep, weight=w, label_smoothing=0.3, reduction=red)
        ref = _torch_ce(x[:, keep], y_sub, w[keep], label_smoothing=0.3, reduction=red)
        np.testing.assert_allclose(got, ref, rtol=1e-13)
    # a target on an excluded class costs +inf, never NaN
    y[0] = 1
    out = sk.cross_entropy(x, y, where=keep, reduction="none")
    assert out[0] == INF and np.isfinite(out[1:]).all()


def test_minus_inf_logits_give_limits_not_nan() -> None:
    x = np.array([[0.0, -INF, 1.0], [2.0, 0.0, -INF]])
    y = np.array([2, 0])
    # a −inf logit is a class of probability 0: smoothing mass on it is +inf (as in torch)
    assert sk.cross_entropy(x, y, label_smoothing=0.1) == INF
    ref = F.cross_entropy(torch.tensor(x), torch.tensor(y), label_smoothing=0.1).item()
    assert ref == INF
    # a zero weight on the −inf class: torch forms 0·(−inf) = NaN, the limit is 0
    w = np.array([1.0, 0.0, 1.0])
    xz = np.array([[0.0, -INF, 1.0], [2.0, 0.5, 0.0]])
    got = sk.cross_entropy(xz, y, weight=w, label_smoothing=0.1, reduction="none")
    torch_got = F.cross_entropy(torch.tensor(xz), torch.tensor(y), weight=torch.tensor(w),
                                label_smoothing=0.1, reduction="none").numpy()
    assert np.isnan(torch_got[0]) and np.isfinite(got).all()
    # row 0 is the same loss as over the two classes with weight 1 (0·log 0 = 0)
    lp = np.log(np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum())
    expected = 0.9 * -lp[1] + 0.1 / 3 * -(lp[0] + lp[1])
    np.testing.assert_allclose(got[0], expected, rtol=1e-14)
    np.testing.assert_allclose(got[1], torch_got[1], rtol=1e-14)
    # a zero target probability on a −inf class: 0 (torch: NaN)
    t = np.array([[0.5, 0.0, 0.5]])
    got_p = sk.cross_entropy(x[:1], t)
    assert np.isfinite(got_p)
    assert np.isnan(F.cross_entropy(torch.tensor(x[:1]), torch.tensor(t)).item())


def test_gradient_finite_at_minus_inf_and_masked() -> None:
    x = torch.tensor([[0.0, -INF, 1.0, 0.5], [1.0, 2.0, 3.0, 4.0]], dtype=torch.float64,
                     requires_grad=True)
    keep = torch.tensor([True, True, True, False])
    loss = sk.cross_entropy(x, torch.tensor([2, 0]), where=keep, label_smoothing=0.2)
    loss.backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad[0, 1] == 0 and x.grad[:, 3].eq(0).all()
    # on the admitted classes the gradient is (p − t')/ N, t' the smoothed target over 3
    p = torch.softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 0)
    t = torch.tensor([0.8 + 0.2 / 3, 0.2 / 3, 0.2 / 3], dtype=torch.float64)
    torch.testing.assert_close(x.grad[1, :3], (p - t) / 2, rtol=1e-13, atol=1e-15)


def test_jax_grad_finite() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    with jax.enable_x64(True):
        x = jnp.asarray([[0.0, -INF, 1.0], [1.0, 2.0, 3.0]])
        y = jnp.asarray([2, 0])
        g = jax.grad(lambda v: sk.cross_entropy(v, y))(x)
        assert np.isfinite(np.asarray(g)).all() and float(g[0, 1]) == 0.0
        xt = torch.tensor(np.asarray(x), requires_grad=True)
        sk.cross_entropy(xt, torch.tensor([2, 0])).backward()
        np.testing.assert_allclose(np.asarray(g), xt.grad.numpy(), rtol=1e-13, atol=1e-16)


def test_all_ignored_mean_is_nan_like_torch_and_sum_is_zero() -> None:
    x = np.zeros((3, 4))
    y = np.full(3, -100)
    assert np.isnan(sk.cross_entropy(x, y))
    assert np.isnan(_torch_ce(x, y, None))
    assert sk.cross_entropy(x, y, reduction="sum") == 0.0


def test_errors() -> None:
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"target\[1\] = 3 is not a class index in \[0, 3\)"):
        sk.cross_entropy(x, np.array([0, 3]))
    with pytest.raises(ValueError, match="neither class indices"):
        sk.cross_entropy(x, np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="without the class axis"):
        sk.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class"):
        sk.cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="real class probabilities"):
        sk.cross_entropy(x, np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="label_smoothing"):
        sk.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        sk.cross_entropy(x, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must be a 1-D array with one entry per class"):
        sk.cross_entropy(x, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(TypeError, match="ignore_index"):
        sk.cross_entropy(x, np.array([0, 1]), ignore_index=1.0)
    with pytest.raises(ValueError, match="at least one dimension"):
        sk.cross_entropy(np.float64(1.0), np.array(0))


def test_dask_invalid_index_gives_nan_lazily() -> None:
    da = pytest.importorskip("dask.array")
    x = np.random.default_rng(4).standard_normal((6, 4))
    y = np.array([0, 1, 2, 3, 9, 1])
    out = sk.cross_entropy(da.from_array(x, chunks=(2, 2)), da.from_array(y, chunks=2),
                           reduction="none")
    assert isinstance(out, da.Array)
    got = out.compute()
    assert np.isnan(got[4])
    ok = [0, 1, 2, 3, 5]
    np.testing.assert_allclose(got[ok], _torch_ce(x[ok], y[ok], None, reduction="none"),
                               rtol=1e-14)
