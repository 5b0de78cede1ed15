"""Fenchel–Young losses: against the ``entmax`` package and PyTorch, gradients and properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import softmaxkit as sk

torch = pytest.importorskip("torch")
E = pytest.importorskip("entmax")

INF = np.inf


def _entmax_at(alpha: float) -> tuple[Any, Any]:
    def loss(x: Any, y: Any, **kw: Any) -> Any:
        return sk.entmax_loss(x, y, alpha=alpha, **kw)

    def grad(x: Any, y: Any, **kw: Any) -> Any:
        return sk.entmax_loss_grad(x, y, alpha=alpha, **kw)

    return loss, grad


# (loss, its gradient, the map it belongs to)
FAMILY = {
    "softmax": (sk.softmax_loss, sk.softmax_loss_grad, sk.softmax),
    "sparsemax": (sk.sparsemax_loss, sk.sparsemax_loss_grad, sk.sparsemax),
    "entmax15": (sk.entmax15_loss, sk.entmax15_loss_grad, sk.entmax15),
    "entmax13": (*_entmax_at(1.3), lambda x, **kw: sk.entmax(x, alpha=1.3, **kw)),
    "entmax25": (*_entmax_at(2.5), lambda x, **kw: sk.entmax(x, alpha=2.5, **kw)),
}


def _rows(rng: np.random.Generator) -> np.ndarray:
    """Rows at several scales (dense to one-hot supports), with a large offset on some."""
    x = np.concatenate([rng.normal(size=(100, 9)) * s for s in (0.1, 1.0, 5.0, 30.0)])
    x[::7] += 1e4
    return x


def _peer(name: str) -> Any:
    if name == "softmax":
        return lambda x, y: torch.nn.functional.cross_entropy(x, y, reduction="none")
    if name == "sparsemax":
        return E.SparsemaxLoss(reduction="none")
    if name == "entmax15":
        return E.Entmax15Loss(k=None, reduction="none")
    alpha = {"entmax13": 1.3, "entmax25": 2.5}[name]
    return E.EntmaxBisectLoss(alpha=alpha, n_iter=60, reduction="none")


@pytest.mark.parametrize("name", list(FAMILY))
def test_equal_to_peers_float64(name: str, rng: np.random.Generator) -> None:
    x = _rows(rng)
    y = rng.integers(0, x.shape[1], size=x.shape[0])
    ours = FAMILY[name][0](x, y)
    peer = _peer(name)(torch.tensor(x), torch.tensor(y)).numpy()
    assert ours.shape == (x.shape[0],)
    np.testing.assert_allclose(ours, peer, rtol=1e-12, atol=1e-10)
    assert np.all(ours >= 0)


def test_softmax_loss_with_a_distribution_is_kl(rng: np.random.Generator) -> None:
    x = rng.normal(size=(50, 6))
    y = sk.softmax(rng.normal(size=(50, 6)))
    kl = torch.nn.functional.kl_div(torch.log_softmax(torch.tensor(x), -1), torch.tensor(y),
                                    reduction="none").sum(-1).numpy()
    np.testing.assert_allclose(sk.softmax_loss(x, y), kl, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(FAMILY))
def test_gradient_is_torch_autograd_of_the_loss(name: str, rng: np.random.Generator) -> None:
    loss, grad, _ = FAMILY[name]
    x = rng.normal(size=(30, 7)) * 2
    t = np.exp(rng.normal(size=(30, 1)) * 0.5)
    targets = [rng.integers(0, 7, size=30), sk.softmax(rng.normal(size=(30, 7)) * 3)]
    for y in targets:
        for reduction in ("sum", "mean"):
            xt = torch.tensor(x, requires_grad=True)
            loss(xt, torch.tensor(y), temperature=torch.tensor(t), reduction=reduction).backward()
            ours = grad(x, y, temperature=t, reduction=reduction)
            np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    # (p − y)/T, spelled out once.
    y = targets[0]
    p = FAMILY[name][2](x, temperature=t)
    onehot = np.eye(7)[y]
    np.testing.assert_allclose(grad(x, y, temperature=t), (p - onehot) / t, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", list(FAMILY))
def test_nonnegative_and_zero_at_the_own_output(name: str, rng: np.random.Generator) -> None:
    loss, _, fmap = FAMILY[name]
    x = _rows(rng)
    for y in (sk.softmax(rng.normal(size=x.shape)), sk.sparsemax(rng.normal(size=x.shape))):
        assert np.all(loss(x, y) >= 0)
    p = fmap(x, temperature=1.5)
    at_p = loss(x, p, temperature=1.5)
    # Zero up to rounding of p itself (the bisection maps renormalise).
    assert np.all(at_p >= 0) and np.max(at_p) < 1e-12
    if name != "softmax":  # sparse outputs: a one-hot p is reached at finite scores
        assert np.count_nonzero(p == 1.0) > 0
        np.testing.assert_array_equal(loss(x, np.argmax(x, axis=-1))[p.max(-1) == 1.0], 0.0)


@pytest.mark.parametrize("name", list(FAMILY))
def test_temperature_is_scaling_and_reductions(name: str, rng: np.random.Generator) -> None:
    loss = FAMILY[name][0]
    x = rng.normal(size=(20, 5))
    y = rng.integers(0, 5, size=20)
    np.testing.assert_allclose(loss(x, y, temperature=2.5), loss(x / 2.5, y), rtol=1e-13)
    full = loss(x, y)
    np.testing.assert_allclose(loss(x, y, reduction="sum"), full.sum(), rtol=1e-14)
    np.testing.assert_allclose(loss(x, y, reduction="mean"), full.mean(), rtol=1e-14)


@pytest.mark.parametrize("name", list(FAMILY))
def test_axis_mask_and_inadmissible_targets(name: str, rng: np.random.Generator) -> None:
    loss = FAMILY[name][0]
    x = rng.normal(size=(4, 6, 3))
    y = rng.integers(0, 6, size=(4, 3))
    moved = loss(np.moveaxis(x, 1, -1), y)
    np.testing.assert_allclose(loss(x, y, axis=1), moved, rtol=1e-14)
    # A masked class equals dropping it; target mass on it costs +inf.
    x2 = rng.normal(size=(10, 5))
    keep = np.array([True, True, False, True, True])
    y2 = rng.choice([0, 1, 3, 4], size=10)
    dropped = loss(x2[:, keep], np.searchsorted(np.flatnonzero(keep), y2))
    np.testing.assert_allclose(loss(x2, y2, where=keep), dropped, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(loss(x2, np.full(10, 2), where=keep), INF)
    x2[0, 4] = -INF
    assert loss(x2, np.array([4] + [0] * 9))[0] == INF
    assert np.isfinite(loss(x2, np.zeros(10, dtype=int))).all()


@pytest.mark.parametrize("name", list(FAMILY))
def test_float32_and_backends(name: str, rng: np.random.Generator) -> None:
    loss = FAMILY[name][0]
    x = rng.normal(size=(40, 8))
    y = rng.integers(0, 8, size=40)
    ref = loss(x, y)
    got32 = loss(x.astype(np.float32), y)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, ref, rtol=1e-5, atol=1e-6)
    got_t = loss(torch.tensor(x), torch.tensor(y))
    assert isinstance(got_t, torch.Tensor) and got_t.dtype == torch.float64
    np.testing.assert_allclose(got_t.numpy(), ref, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("fn", [sk.softmax_loss, sk.sparsemax_loss_grad, sk.entmax_loss])
def test_errors_name_y_axis_temperature_reduction(fn: Any) -> None:
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"y\[1\] = 4 is not a class index in \[0, 4\)"):
        fn(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"y\[2\] = -1"):
        fn(x, np.array([0, 1, -1]))
    with pytest.raises(ValueError, match="y of shape \\(2,\\)"):
        fn(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="y of shape \\(3, 5\\)"):
        fn(x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="y of shape \\(3, 4, 1, 1\\)"):
        fn(x, np.zeros((3, 4, 1, 1)))
    with pytest.raises(TypeError, match="y of shape \\(3,\\) must hold integer"):
        fn(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="temperature"):
        fn(x, np.array([0, 1, 2]), temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        fn(x, np.array([0, 1, 2]), temperature=INF)
    with pytest.raises(ValueError, match="reduction"):
        fn(x, np.array([0, 1, 2]), reduction="elementwise_mean")
    with pytest.raises(TypeError, match="axis"):
        fn(x, np.array([0, 1, 2]), axis=(0, 1))


def test_entmax_loss_alpha_endpoints_and_errors(rng: np.random.Generator) -> None:
    x = rng.normal(size=(25, 6)) * 3
    y = rng.integers(0, 6, size=25)
    np.testing.assert_allclose(sk.entmax_loss(x, y, alpha=1), sk.softmax_loss(x, y), rtol=1e-14)
    np.testing.assert_allclose(sk.entmax_loss(x, y, alpha=2), sk.sparsemax_loss(x, y), rtol=1e-14)
    np.testing.assert_allclose(sk.entmax_loss(x, y, alpha=1.5, n_iter=60),
                               sk.entmax15_loss(x, y), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="alpha"):
        sk.entmax_loss(x, y, alpha=0.5)


@pytest.mark.parametrize("name", list(FAMILY))
def test_shift_invariance_at_huge_offsets(name: str, rng: np.random.Generator) -> None:
    # Dyadic scores plus 2**40 are exact, so the loss must not change; a formula in the raw
    # scores (⟨p − y, x⟩, as the entmax package) loses ~2**40 · eps here.
    loss = FAMILY[name][0]
    x = rng.integers(-16, 16, size=(50, 7)) / 8.0
    y = rng.integers(0, 7, size=50)
    np.testing.assert_allclose(loss(x + 2.0**40, y), loss(x, y), rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------------------------
# the α-ReLU loss (issue 14, case 13)
# --------------------------------------------------------------------------------------------


def _reference_relu15_loss(x: np.ndarray, target: np.ndarray, tau: float) -> np.ndarray:
    """The forward value of the authors' ``alpharelu.ReLU15Loss`` (α = 1.5), transcribed."""
    p = np.clip(x / 2 - tau, 0, None) ** 2
    loss = (p.sum(1) - (p * np.sqrt(p)).sum(1)) / 0.75
    p[np.arange(len(x)), target] -= 1
    return loss + np.einsum("ij,ij->i", p, x - 2 * tau)


@pytest.mark.parametrize("tau", [0.0, 0.3, -0.2])
def test_alpha_relu_loss_is_the_papers_up_to_the_normalisation_term(tau: float, rng) -> None:
    x = 2 * rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    r = sk.sparse.alpha_relu(x, alpha=1.5, tau=tau)
    got = sk.alpha_relu_loss(x, y, tau=tau)
    # the reference value carries (Σr − 1)/(α(α−1)) on top of the Fenchel–Young loss
    np.testing.assert_allclose(got, _reference_relu15_loss(x, y, tau) - (r.sum(1) - 1) / 0.75,
                               rtol=1e-12, atol=1e-13)
    assert (got >= 0).all()
    # the gradient is the reference backward pass, r − e_y
    np.testing.assert_array_equal(sk.alpha_relu_loss_grad(x, y, tau=tau),
                                  r - np.eye(5)[y])


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3, 2.7])
def test_alpha_relu_loss_gradient_and_zero_at_its_own_output(alpha: float, rng) -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(2 * rng.standard_normal((5, 6)), requires_grad=True)
    target = sk.sparse.alpha_relu(rng.standard_normal((5, 6)) + 1, alpha=alpha, tau=0.1)
    kw = {"alpha": alpha, "tau": 0.1, "temperature": 0.7}
    # the loss written out as the conjugate form, differentiated by torch
    z = x / 0.7
    r = torch.clamp((alpha - 1) * z - 0.1, min=0) ** (1 / (alpha - 1))
    t = torch.tensor(target)

    def omega(q: Any) -> Any:
        return (q**alpha / (alpha * (alpha - 1)) + 0.1 / (alpha - 1) * q).sum(1)

    loss = ((r - t) * z).sum(1) - omega(r) + omega(t)
    loss.sum().backward()
    got = sk.alpha_relu_loss(x.detach().numpy(), target, **kw)
    np.testing.assert_allclose(got, loss.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sk.alpha_relu_loss_grad(x.detach().numpy(), target, **kw),
                               x.grad.numpy(), rtol=1e-10, atol=1e-12)
    own = sk.sparse.alpha_relu(x.detach().numpy(), alpha=alpha, tau=0.1, temperature=0.7)
    np.testing.assert_array_equal(sk.alpha_relu_loss(x.detach().numpy(), own, **kw), 0.0)


def test_alpha_relu_loss_edges_and_errors() -> None:
    x = np.array([[0.0, 1.0, np.nan], [0.0, np.inf, 1.0], [-np.inf, 1.0, 2.0], [0.0, 1.0, 2.0]])
    got = sk.alpha_relu_loss(x, np.array([0, 0, 0, 1]), where=np.array([True, True, True]))
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == np.inf and np.isfinite(got[3])
    assert sk.alpha_relu_loss(x[3:], np.array([1]), reduction="sum").shape == ()
    with pytest.raises(ValueError, match=r"alpha_relu_loss: alpha=1.0 is invalid"):
        sk.alpha_relu_loss(x, np.zeros(4, int), alpha=1.0)
    with pytest.raises(ValueError, match=r"alpha_relu_loss_grad: tau=inf is invalid"):
        sk.alpha_relu_loss_grad(x, np.zeros(4, int), tau=np.inf)
    with pytest.raises(ValueError, match="temperature must be positive and finite"):
        sk.alpha_relu_loss(x, np.zeros(4, int), temperature=0.0)
