"""α-ReLU (Tezekbayev et al. 2022): against a 50-digit formula, the authors' reference code,
α-entmax at its own threshold, edge cases, backends and the closed-form derivatives."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import softmaxkit as sk
from softmaxkit.derivatives import alpha_relu_jacobian, alpha_relu_jvp, alpha_relu_vjp
from softmaxkit.sparse import alpha_relu, entmax

INF = math.inf


def _oracle(x: np.ndarray, alpha: float, tau: float, t: float) -> np.ndarray:
    """[(α − 1) x/T − τ]_+^(1/(α−1)) with every float taken exactly, at 50 digits."""
    with mpmath.workdps(50):
        a = mpmath.mpf(alpha)
        out = []
        for v in x.ravel():
            u = (a - 1) * mpmath.mpf(float(v)) / mpmath.mpf(t) - mpmath.mpf(tau)
            out.append(float(u ** (1 / (a - 1))) if u > 0 else 0.0)
    return np.array(out).reshape(x.shape)


def _oracle_slope(x: np.ndarray, alpha: float, tau: float, t: float) -> np.ndarray:
    """d r_i / d x_i = [(α − 1) x/T − τ]_+^((2−α)/(α−1)) / T, at 50 digits."""
    with mpmath.workdps(50):
        a = mpmath.mpf(alpha)
        out = []
        for v in x.ravel():
            u = (a - 1) * mpmath.mpf(float(v)) / mpmath.mpf(t) - mpmath.mpf(tau)
            out.append(float(u ** ((2 - a) / (a - 1)) / mpmath.mpf(t)) if u > 0 else 0.0)
    return np.array(out).reshape(x.shape)


@pytest.mark.parametrize("alpha", [1.1, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("tau", [0.0, 0.3, -0.5])
def test_against_the_multiprecision_formula(alpha: float, tau: float,
                                            rng: np.random.Generator) -> None:
    x = rng.normal(size=(8, 7)) * 2
    t = 0.7
    got = alpha_relu(x, alpha=alpha, tau=tau, temperature=t)
    ref = _oracle(x, alpha, tau, t)
    u = (alpha - 1) * x / t - tau
    np.testing.assert_array_equal(got == 0, ref == 0)
    # r = u^(1/(α−1)) amplifies the rounding of u by |z|/|u|/(α−1): stay clear of the threshold.
    far = np.abs(u) > 0.05
    cond = (1 + np.abs((alpha - 1) * x / t) / np.abs(u)) / (alpha - 1)
    rel = np.abs(got - ref) / np.where(ref > 0, ref, 1.0)
    assert (rel[far] <= 4 * np.finfo(float).eps * cond[far]).all()
    assert rel[far].max() < 1e-13


def test_equals_the_reference_code_and_relu() -> None:
    # The authors' ReLU15 (github.com/MaxatTezekbayev/alpha-relu): clamp(X/2 − τ, 0)², no
    # normalisation; α = 2 is the plain ReLU [x − τ]_+.
    x = np.linspace(-3, 3, 61)
    for tau in (0.0, 0.25, -0.4):
        np.testing.assert_array_equal(alpha_relu(x, 1.5, tau), np.maximum(x / 2 - tau, 0) ** 2)
        np.testing.assert_array_equal(alpha_relu(x, alpha=2.0, tau=tau), np.maximum(x - tau, 0))
    assert alpha_relu(x).sum() != pytest.approx(1.0)  # not normalised


@pytest.mark.parametrize("alpha", [1.3, 1.5, 2.0, 2.7])
def test_is_entmax_at_the_entmax_threshold(alpha: float, rng: np.random.Generator) -> None:
    # The paper's construction: α-entmax is α-ReLU with τ set to the normalising threshold.
    for _ in range(5):
        x = rng.normal(size=9) * 3
        p = entmax(x, alpha=alpha)
        i = int(np.argmax(p))
        tau = (alpha - 1) * x[i] - p[i] ** (alpha - 1)
        np.testing.assert_allclose(alpha_relu(x, alpha, tau), p, rtol=1e-10, atol=1e-14)


def test_monotone_sparse_and_temperature(rng: np.random.Generator) -> None:
    x = np.sort(rng.normal(size=50))
    r = alpha_relu(x, alpha=1.7, tau=0.2, temperature=0.5)
    assert (np.diff(r) >= 0).all()
    np.testing.assert_array_equal(r == 0, 0.7 * x / 0.5 <= 0.2)
    # Temperature only scales x.
    np.testing.assert_allclose(alpha_relu(x, alpha=1.7, temperature=4.0),
                               alpha_relu(x / 4.0, alpha=1.7), rtol=1e-15)


def test_edge_cases() -> None:
    x = np.array([[-INF, INF, 1.0, -1.0], [0.0, 2.0, np.nan, 1.0], [1.0, 2.0, 3.0, 4.0]])
    keep = np.array([True, True, True, True])[None].repeat(3, 0)
    keep[2, 1] = False
    r = alpha_relu(x, where=keep)
    np.testing.assert_array_equal(r[0], [0.0, INF, 0.25, 0.0])
    assert np.isnan(r[1]).all()  # a NaN makes its own row NaN, only that row
    np.testing.assert_array_equal(r[2], [0.25, 0.0, 2.25, 4.0])
    # A masked NaN is excluded like any masked entry.
    keep1 = np.array([True, True, False, True])
    np.testing.assert_array_equal(alpha_relu(x[1], where=keep1), [0.0, 1.0, 0.0, 0.25])
    # axis=None: one row; axis=(): every entry its own row.
    assert np.isnan(alpha_relu(x, axis=None)).all()
    per_entry = alpha_relu(x, axis=())
    assert np.isnan(per_entry).sum() == 1
    assert alpha_relu(np.zeros((0, 3))).shape == (0, 3)


def test_temperature_limits() -> None:
    x = np.array([[-2.0, 0.0, 1.0, INF, -INF]])
    tau = -0.5
    base = 0.5**2  # [−τ]_+^(1/(α−1)) at α = 1.5
    np.testing.assert_array_equal(alpha_relu(x, tau=tau, temperature=0),
                                  [[0.0, base, INF, INF, 0.0]])
    np.testing.assert_array_equal(alpha_relu(x, tau=tau, temperature=INF),
                                  [[base, base, base, INF, 0.0]])
    # The limits agree with small and large finite T (what they are limits of).
    small = alpha_relu(x[:, :3], tau=tau, temperature=1e-12)
    assert small[0, 0] == 0 and small[0, 1] == base and small[0, 2] > 1e20
    np.testing.assert_allclose(alpha_relu(x[:, :3], tau=tau, temperature=1e15), base,
                               rtol=1e-14)
    # Per-row temperature arrays holding the limits.
    t = np.array([[0.0], [INF], [2.0]])
    got = alpha_relu(np.repeat(x[:, :3], 3, 0), tau=tau, temperature=t)
    np.testing.assert_array_equal(got[0], [0.0, base, INF])
    np.testing.assert_array_equal(got[1], [base, base, base])
    np.testing.assert_allclose(got[2], alpha_relu(x[0, :3] / 2, tau=tau), rtol=1e-15)


@pytest.mark.parametrize("bad", [{"alpha": 1.0}, {"alpha": 0.5}, {"alpha": INF},
                                 {"alpha": np.nan}, {"alpha": True}, {"alpha": "2"},
                                 {"tau": INF}, {"tau": np.nan}, {"tau": [0.0]}])
def test_argument_errors(bad: dict) -> None:
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"alpha_relu: {name}"):
        alpha_relu(np.zeros(3), **bad)
    with pytest.raises(ValueError, match=f"alpha_relu_jvp: {name}"):
        alpha_relu_jvp(np.zeros(3), np.zeros(3), **bad)
    with pytest.raises(ValueError, match="temperature"):
        alpha_relu(np.zeros(3), temperature=-1.0)


def test_low_precision(rng: np.random.Generator) -> None:
    x = rng.normal(size=(20, 8)).astype(np.float32)
    ref = _oracle(x, 1.5, 0.1, 1.0)
    got = alpha_relu(x, tau=0.1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref.astype(np.float32), rtol=2e-7, atol=0)
    torch = pytest.importorskip("torch")
    for dt in (torch.float16, torch.bfloat16, torch.float32):
        xt = torch.tensor(x).to(dt)
        out = alpha_relu(xt, tau=0.1)
        assert out.dtype == dt
        # Computed in float32 and rounded once: within one ulp of the dtype plus the float32
        # rounding of u = x/2 − τ amplified by the conditioning |x/2|/|u|/(α − 1).
        xd = xt.double().numpy()
        exact = _oracle(xd, 1.5, 0.1, 1.0)
        u = xd / 2 - 0.1
        cond = (1 + np.abs(xd / 2) / np.abs(np.where(u != 0, u, 1.0))) / 0.5
        bound = float(torch.finfo(dt).eps) + 2 * float(np.finfo(np.float32).eps) * cond
        # (plus the spacing of the subnormals, where float16 has no relative precision)
        fi = torch.finfo(dt)
        err = np.abs(out.double().numpy() - exact)
        assert (err <= bound * exact + float(fi.tiny) * float(fi.eps)).all(), dt
        np.testing.assert_array_equal(out.double().numpy() == 0, exact == 0)


def test_backends(rng: np.random.Generator) -> None:
    x = rng.normal(size=(12, 5))
    t = np.full((12, 1), 0.7)
    ref = alpha_relu(x, alpha=1.8, tau=0.1, temperature=t)
    torch = pytest.importorskip("torch")
    got_t = alpha_relu(torch.tensor(x), alpha=1.8, tau=0.1, temperature=torch.tensor(t))
    assert isinstance(got_t, torch.Tensor)
    np.testing.assert_allclose(got_t.numpy(), ref, rtol=0, atol=1e-15)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    got_j = alpha_relu(jax.numpy.asarray(x), alpha=1.8, tau=0.1, temperature=0.7)
    assert isinstance(got_j, jax.Array)
    np.testing.assert_allclose(np.asarray(got_j), ref, rtol=0, atol=1e-15)
    da = pytest.importorskip("dask.array")
    lazy = alpha_relu(da.from_array(x, chunks=(4, 2)), alpha=1.8, tau=0.1, temperature=t,
                      where=np.ones(5, bool))
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), ref)
    xps = pytest.importorskip("array_api_strict")
    strict = alpha_relu(xps.asarray(x), alpha=1.8, tau=0.1, temperature=0.7)
    np.testing.assert_allclose(np.asarray(strict), ref, rtol=0, atol=1e-15)
    jvp_d = alpha_relu_jvp(da.from_array(x, chunks=(4, 5)), np.ones(5), alpha=1.8)
    np.testing.assert_allclose(np.asarray(jvp_d), alpha_relu_jvp(x, np.ones(5), alpha=1.8))


# --- derivatives ------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.25, 1.5, 2.0, 2.5])
def test_derivatives_against_the_formula(alpha: float, rng: np.random.Generator) -> None:
    x = rng.normal(size=(6, 5)) * 2
    v = rng.normal(size=(6, 5))
    t, tau = 0.8, 0.2
    slope = _oracle_slope(x, alpha, tau, t)
    kw = {"alpha": alpha, "tau": tau, "temperature": t}
    np.testing.assert_allclose(alpha_relu_jvp(x, v, **kw), slope * v, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(alpha_relu_vjp(x, v, **kw), slope * v, rtol=1e-12, atol=1e-300)
    jac = alpha_relu_jacobian(x, **kw)
    assert jac.shape == (6, 5, 5)
    np.testing.assert_allclose(jac, slope[:, :, None] * np.eye(5), rtol=1e-12, atol=1e-300)
    # The generic dispatch of the library reaches the same functions.
    np.testing.assert_array_equal(sk.jvp(alpha_relu, x, v, **kw), alpha_relu_jvp(x, v, **kw))
    np.testing.assert_array_equal(sk.vjp("alpha_relu", x, v, **kw), alpha_relu_vjp(x, v, **kw))
    np.testing.assert_array_equal(sk.jacobian(alpha_relu, x, **kw), jac)
    # A central difference confirms the slope away from the threshold.
    h = 1e-6
    fd = (alpha_relu(x + h, **kw) - alpha_relu(x - h, **kw)) / (2 * h)
    far = np.abs((alpha - 1) * x / t - tau) > 1e-2
    np.testing.assert_allclose(fd[far], slope[far], rtol=1e-6, atol=1e-8)


def test_derivative_edge_cases_and_axes() -> None:
    x = np.array([[-INF, INF, 1.0, -1.0], [0.0, 2.0, np.nan, 1.0]])
    v = np.array([[INF, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    j = alpha_relu_jvp(x, v)
    np.testing.assert_array_equal(j[0], [0.0, 0.0, 0.5, 0.0])  # ±inf entries are constant
    assert np.isnan(j[1]).all()
    jac = alpha_relu_jacobian(x)
    assert np.isnan(jac[1]).all() and np.isfinite(jac[0]).all()
    for t in (0.0, INF):
        np.testing.assert_array_equal(alpha_relu_vjp(x[:1], v[:1], temperature=t), 0.0)
    # Several axes: flattened rows, the diagonal in C order.
    x3 = np.arange(12.0).reshape(2, 3, 2) / 4
    jac3 = alpha_relu_jacobian(x3, axis=(0, 2))
    assert jac3.shape == (3, 4, 4)
    flat = np.moveaxis(x3, 1, 0).reshape(3, 4)
    np.testing.assert_allclose(jac3, np.eye(4) * alpha_relu_jvp(flat, np.ones(4))[:, :, None])
    keep = np.array([True, False, True, True])
    np.testing.assert_array_equal(alpha_relu_jvp(x[0], np.ones(4), where=keep)[1], 0.0)


def test_autodiff_wrappers(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(rng.normal(size=(5, 6)), requires_grad=True)
    u = torch.tensor(rng.normal(size=(5, 6)))
    r = alpha_relu(x, 1.7, -0.1, temperature=0.9)  # α, τ by position: the Function still
    assert type(r.grad_fn).__name__ == "_SparseBackward"
    (r * u).sum().backward()
    ref = alpha_relu_vjp(x.detach().numpy(), u.numpy(), alpha=1.7, tau=-0.1, temperature=0.9)
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-14, atol=0)
    assert torch.autograd.gradcheck(lambda z: alpha_relu(z, alpha=2.5, tau=0.2), (x,))
    xe = torch.tensor([[-INF, INF, 1.0], [0.0, np.nan, 1.0]], requires_grad=True)
    alpha_relu(xe).sum().backward()
    np.testing.assert_array_equal(xe.grad[0].numpy(), [0.0, 0.0, 0.5])
    assert torch.isnan(xe.grad[1]).all()

