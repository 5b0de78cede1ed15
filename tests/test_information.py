"""Entropy, KL and JS divergences from logits, and the Tsallis entropies: against mpmath (ulps),
closed forms, the peers (SciPy, torch.distributions), the limits, and autodiff."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import oracle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import softmaxkit as sk

INF = np.inf
LOG2 = np.log(2.0)


# --------------------------------------------------------------------------------------------
# the mpmath references (50 digits, on the oracle's exact softmax / log_softmax)
# --------------------------------------------------------------------------------------------


def _rows(a: Any) -> list:
    a = np.asarray(a, dtype=object)
    return list(a.reshape(-1, a.shape[-1]))


def ref_entropy(x: np.ndarray, **kw: Any) -> np.ndarray:
    with mpmath.workdps(60):
        out = [mpmath.fsum(-p * lp for p, lp in zip(pr, lr, strict=True) if p != 0)
               for pr, lr in zip(_rows(oracle.softmax(x, **kw)),
                                 _rows(oracle.log_softmax(x, **kw)), strict=True)]
    return np.array(out, dtype=object).reshape(x.shape[:-1])


def ref_kl(a: np.ndarray, b: np.ndarray, **kw: Any) -> np.ndarray:
    out = []
    with mpmath.workdps(60):
        for pr, lpr, lqr in zip(_rows(oracle.softmax(a, **kw)), _rows(oracle.log_softmax(a, **kw)),
                                _rows(oracle.log_softmax(b, **kw)), strict=True):
            terms = [p * (lp - lq) for p, lp, lq in zip(pr, lpr, lqr, strict=True) if p != 0]
            out.append(mpmath.fsum(terms) if all(mpmath.isfinite(t) for t in terms)
                       else mpmath.inf)
    return np.array(out, dtype=object).reshape(a.shape[:-1])


def ref_js(a: np.ndarray, b: np.ndarray, **kw: Any) -> np.ndarray:
    out = []
    with mpmath.workdps(60):
        for pr, qr in zip(_rows(oracle.softmax(a, **kw)), _rows(oracle.softmax(b, **kw)),
                          strict=True):
            s = mpmath.mpf(0)
            for p, q in zip(pr, qr, strict=True):
                m = (p + q) / 2
                s += (p * mpmath.log(p / m) if p else 0) + (q * mpmath.log(q / m) if q else 0)
            out.append(s / 2)
    return np.array(out, dtype=object).reshape(a.shape[:-1])


def make_rows(kind: str, rng: np.random.Generator, n: int = 40) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal((n, 9))
    if kind == "spread":
        return 30 * rng.standard_normal((n, 9))
    if kind == "one_hot":  # every other entry 20 to 700 below the maximum: H, KL are tiny
        return np.concatenate([np.zeros((n, 1)), -rng.uniform(20, 700, (n, 8))], axis=1)
    if kind == "large":  # logits near 1e4: p is a function of differences only
        return 1e4 + rng.standard_normal((n, 9))
    raise ValueError(kind)


KINDS = ["normal", "spread", "one_hot", "large"]


# --------------------------------------------------------------------------------------------
# accuracy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_entropy_ulps(kind: str, dtype: Any) -> None:
    rng = np.random.default_rng(1)
    x = make_rows(kind, rng).astype(dtype)
    exact = ref_entropy(x)
    err = oracle.ulp_error(sk.entropy(x), exact, dtype)
    # float32 is computed in float64 on NumPy and rounded once
    assert err.max() <= (3.0 if dtype == np.float64 else 0.5 + 1e-6), err.max()


def test_entropy_below_the_normal_range_is_absolute() -> None:
    # H ≈ 1.4e-321: the terms are subnormal, so their relative precision is gone; the error is
    # bounded by n·|log p|·2^-1074 (a subnormal spacing per entry, times its log).
    x = np.array([190.54348276, -896.49585287, -848.68729195, -1299.27567748, -554.85063196])
    exact = float(ref_entropy(x[None])[0])
    got = sk.entropy(x)
    assert abs(got - exact) <= 5 * 1500 * 2.0**-1074
    assert exact > 0


@pytest.mark.parametrize("kind", KINDS)
def test_kl_and_js_ulps(kind: str) -> None:
    rng = np.random.default_rng(2)
    a = make_rows(kind, rng)
    b = a + rng.standard_normal(a.shape)
    assert oracle.ulp_error(sk.kl_divergence(a, b), ref_kl(a, b), np.float64).max() <= 8
    assert oracle.ulp_error(sk.js_divergence(a, b), ref_js(a, b), np.float64).max() <= 8
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    err32 = oracle.ulp_error(sk.kl_divergence(a32, b32), ref_kl(a32, b32), np.float32)
    assert err32.max() <= 0.5 + 1e-6


def test_masks_and_temperature_ulps() -> None:
    rng = np.random.default_rng(3)
    a = 5 * rng.standard_normal((30, 8))
    b = a + rng.standard_normal(a.shape)
    keep = rng.random(a.shape) > 0.3
    keep[:, 0] = True
    t = rng.uniform(0.2, 3.0, (30, 1))
    kw = {"where": keep, "temperature": t}
    ok = {"where": keep, "temperature": t}
    assert oracle.ulp_error(sk.entropy(a, **kw), ref_entropy(a, **ok), np.float64).max() <= 3
    assert oracle.ulp_error(sk.kl_divergence(a, b, **kw), ref_kl(a, b, **ok),
                            np.float64).max() <= 8
    assert oracle.ulp_error(sk.js_divergence(a, b, **kw), ref_js(a, b, **ok),
                            np.float64).max() <= 8


@pytest.mark.parametrize("scale", [1e-3, 1e-6, 1e-9])
def test_kl_near_zero_relative_error_and_peers_lose_it(scale: float) -> None:
    """KL ≈ Σ p d²/2 is second order: our bound is ~ε·log n/√KL relative (docstring);
    measured far below it. The peers sum p·(log p − log q) of rounded logs."""
    torch = pytest.importorskip("torch")
    from scipy.special import rel_entr
    from scipy.special import softmax as sp_softmax

    rng = np.random.default_rng(4)
    a = rng.standard_normal((40, 9))
    b = a + scale * rng.standard_normal(a.shape)
    exact = ref_kl(a, b)
    ex = np.array([float(v) for v in exact])

    def rel(got: np.ndarray) -> float:
        return float(np.max(np.abs(np.array(
            [float(abs(mpmath.mpf(float(g)) - e) / e) for g, e in zip(got, exact, strict=True)]
        ))))

    eps = np.finfo(np.float64).eps
    ours = sk.kl_divergence(a, b)
    bound = 4 * eps * (1 + np.log(9)) / np.sqrt(ex) + 8 * eps
    assert rel(ours) <= bound.max()
    assert rel(ours) <= 1e-12  # what it measures: 4e-16 … 1.3e-13
    exact_js = ref_js(a, b)
    js = sk.js_divergence(a, b)
    rel_js = max(float(abs(mpmath.mpf(float(g)) - e) / e) for g, e in zip(js, exact_js,
                                                                           strict=True))
    assert rel_js <= 1e-12
    tk = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=torch.tensor(a)),
        torch.distributions.Categorical(logits=torch.tensor(b))).numpy()
    sc = rel_entr(sp_softmax(a, -1), sp_softmax(b, -1)).sum(-1)
    if scale <= 1e-6:
        assert rel(tk) > 1e-4 and rel(sc) > 1e-4
    if scale == 1e-9:
        assert (tk < 0).any() and (sc < 0).any() and (ours > 0).all()


# --------------------------------------------------------------------------------------------
# peers and closed forms
# --------------------------------------------------------------------------------------------


def test_equal_to_scipy_and_torch_distributions() -> None:
    torch = pytest.importorskip("torch")
    from scipy.spatial.distance import jensenshannon
    from scipy.special import softmax as sp_softmax
    from scipy.stats import entropy as sp_entropy

    rng = np.random.default_rng(5)
    a = 2 * rng.standard_normal((20, 6))
    b = 2 * rng.standard_normal((20, 6))
    p, q = sp_softmax(a, -1), sp_softmax(b, -1)
    np.testing.assert_allclose(sk.entropy(a), sp_entropy(p, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(sk.kl_divergence(a, b), sp_entropy(p, q, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(sk.js_divergence(a, b), jensenshannon(p, q, axis=-1) ** 2,
                               rtol=1e-12)
    ca = torch.distributions.Categorical(logits=torch.tensor(a))
    cb = torch.distributions.Categorical(logits=torch.tensor(b))
    np.testing.assert_allclose(sk.entropy(a), ca.entropy().numpy(), rtol=1e-14)
    np.testing.assert_allclose(sk.kl_divergence(a, b),
                               torch.distributions.kl_divergence(ca, cb).numpy(), rtol=1e-13)
    # a torch input gives a torch result with the same values
    got = sk.kl_divergence(torch.tensor(a), torch.tensor(b))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), sk.kl_divergence(a, b), rtol=1e-15)


def test_tsallis_closed_forms_and_mpmath() -> None:
    rng = np.random.default_rng(6)
    p = rng.dirichlet(np.ones(7), 30)
    p[0] = [1.0, 0, 0, 0, 0, 0, 0]
    p[1] = [0.5, 0.5, 0, 0, 0, 0, 0]
    np.testing.assert_allclose(sk.tsallis_entropy(p, alpha=2), (1 - (p**2).sum(-1)) / 2,
                               rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(sk.tsallis_entropy(p, alpha=1),
                               -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0),
                                       -1), rtol=1e-13)
    assert sk.tsallis_entropy(p[0], alpha=1.5) == 0.0
    for alpha in (0.5, 1.5, 3.0):
        got = sk.tsallis_entropy(p, alpha=alpha)
        with mpmath.workdps(50):
            exact = [mpmath.fsum(mpmath.mpf(v) - mpmath.mpf(v) ** alpha for v in row)
                     / (alpha * (alpha - 1)) for row in p]
        assert oracle.ulp_error(got, np.array(exact, dtype=object), np.float64).max() <= 4
    # near p = 1 the terms p − p^α cancel in the textbook form; here they do not
    near = np.array([1 - 2.0**-40, 2.0**-40])
    with mpmath.workdps(50):
        exact = mpmath.fsum(mpmath.mpf(v) - mpmath.mpf(v) ** 1.5 for v in near) / 0.75
    assert oracle.ulp_error(sk.tsallis_entropy(near, alpha=1.5), exact, np.float64) <= 2


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3])
def test_tsallis_is_the_entmax_regulariser(alpha: float) -> None:
    # The Fenchel–Young loss is <z, p − y> + H_α(p) − H_α(y) with p = entmax_α(z).
    rng = np.random.default_rng(7)
    x = 2 * rng.standard_normal((10, 6))
    y = rng.dirichlet(np.ones(6), 10)
    p = sk.entmax(x, alpha=alpha) if alpha != 2.0 else sk.sparsemax(x)
    loss = (np.sum(x * (p - y), -1) + sk.tsallis_entropy(p, alpha=alpha)
            - sk.tsallis_entropy(y, alpha=alpha))
    np.testing.assert_allclose(sk.entmax_loss(x, y, alpha=alpha), loss, rtol=1e-9, atol=1e-12)


def test_tsallis_errors_and_nan() -> None:
    with pytest.raises(sk.InvalidProbabilityError, match=r"p\[1\] = -0.1 is negative"):
        sk.tsallis_entropy(np.array([1.0, -0.1]))
    with pytest.raises(sk.InvalidProbabilityError, match=r"p\[0\] = 1.5 is greater than 1"):
        sk.tsallis_entropy(np.array([1.5, 0.0]))
    with pytest.raises(ValueError, match="alpha"):
        sk.tsallis_entropy(np.array([1.0]), alpha=0)
    with pytest.raises(TypeError, match="alpha"):
        sk.tsallis_entropy(np.array([1.0]), alpha="2")
    out = sk.tsallis_entropy(np.array([[0.5, np.nan], [0.5, 0.5]]), alpha=2)
    assert np.isnan(out[0]) and out[1] == 0.25
    # excluded entries add nothing
    assert sk.tsallis_entropy(np.array([0.5, 0.5, 0.9]), alpha=2,
                              where=np.array([True, True, False])) == 0.25


# --------------------------------------------------------------------------------------------
# limits and edge rows
# --------------------------------------------------------------------------------------------


def test_entropy_limits() -> None:
    x = np.array([
        [0.0, -INF, 0.0, -INF],      # two admissible entries: log 2
        [-INF, -INF, -INF, -INF],    # empty: 0
        [INF, 1.0, INF, INF],        # three +inf entries share the mass: log 3
        [np.nan, 1.0, 2.0, 3.0],     # NaN in its row only
        [1.0, 3.0, 3.0, 0.0],
    ])
    h = sk.entropy(x)
    np.testing.assert_allclose(h[[0, 1, 2]], [LOG2, 0.0, np.log(3)], rtol=1e-15)
    assert np.isnan(h[3]) and np.isfinite(h[4])
    assert sk.entropy(x[4], temperature=0) == pytest.approx(LOG2, rel=1e-15)  # tied maxima
    assert sk.entropy(x[4], temperature=INF) == pytest.approx(np.log(4), rel=1e-15)
    masked = sk.entropy(x[4], where=np.array([True, False, True, False]))
    np.testing.assert_allclose(masked, sk.entropy(np.array([1.0, 3.0])), rtol=1e-15)
    assert sk.entropy(x, keepdims=True).shape == (5, 1)
    assert sk.entropy(np.zeros((2, 3, 4)), axis=(0, 2)).shape == (3,)
    np.testing.assert_allclose(sk.entropy(np.zeros((2, 3, 4)), axis=(0, 2)), np.log(8))


def test_kl_js_limits() -> None:
    a = np.array([
        [0.0, 0.0, -INF],
        [0.0, -INF, 0.0],
        [-INF, -INF, -INF],
        [0.0, 1.0, 2.0],
        [np.nan, 0.0, 0.0],
    ])
    b = np.array([
        [0.0, -INF, 0.0],      # p has mass on entry 1, q none: inf
        [0.0, 0.0, 0.0],       # p ⊂ q: log(3/2)
        [0.0, 0.0, 0.0],       # empty p: 0
        [-INF, -INF, -INF],    # empty q, p not: inf
        [0.0, 0.0, 0.0],
    ])
    kl = sk.kl_divergence(a, b)
    assert kl[0] == INF and kl[3] == INF and kl[2] == 0.0 and np.isnan(kl[4])
    assert kl[1] == pytest.approx(np.log(1.5), rel=1e-15)
    js = sk.js_divergence(a, b)
    assert np.isnan(js[4]) and np.isfinite(js[:4]).all()
    assert js[0] == pytest.approx(0.5 * LOG2, rel=1e-15)  # half of each mass is disjoint
    assert js[3] == pytest.approx(0.5 * LOG2, rel=1e-15)  # p vs the empty q
    assert sk.js_divergence(np.array([0.0, -INF]), np.array([-INF, 0.0])) == LOG2
    # T = 0: hardmax; different argmax → inf, same → 0
    assert sk.kl_divergence(np.array([1.0, 2.0]), np.array([2.0, 1.0]), temperature=0) == INF
    assert sk.kl_divergence(np.array([1.0, 2.0]), np.array([0.0, 5.0]), temperature=0) == 0
    # T = inf: uniform over the admitted entries on both sides → 0
    assert sk.kl_divergence(np.array([1.0, 2.0]), np.array([9.0, 1.0]), temperature=INF) == 0


_finite = st.floats(-1e3, 1e3)
_entries = st.one_of(_finite, _finite, _finite, st.just(-INF), st.just(INF))


@settings(max_examples=60, deadline=None)
@given(a=hnp.arrays(np.float64, (3, 5), elements=_entries),
       b=hnp.arrays(np.float64, (3, 5), elements=_entries),
       keep=hnp.arrays(np.bool_, (3, 5)), t=st.sampled_from([1.0, 0.3, 0.0, INF]))
def test_no_stray_nan_and_bounds(a, b, keep, t) -> None:
    kw = {"where": keep, "temperature": t}
    h, kl, js = sk.entropy(a, **kw), sk.kl_divergence(a, b, **kw), sk.js_divergence(a, b, **kw)
    for v in (h, kl, js):
        assert not np.isnan(v).any()
    n = np.maximum(keep.sum(-1), 1)
    assert (h >= 0).all() and (h <= np.log(n) * (1 + 1e-14) + 1e-300).all()
    assert (kl >= 0).all()
    assert (js >= 0).all() and (js <= LOG2 * (1 + 1e-15)).all()
    np.testing.assert_allclose(js, sk.js_divergence(b, a, **kw), rtol=1e-13, atol=1e-300)


def test_errors() -> None:
    with pytest.raises(ValueError, match="do not broadcast"):
        sk.kl_divergence(np.zeros((2, 3)), np.zeros((2, 4)))
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="same library"):
        sk.kl_divergence(torch.zeros(3), __import__("jax").numpy.zeros(3))
    with pytest.raises(TypeError, match="keepdims"):
        sk.entropy(np.zeros(3), keepdims=1)
    with pytest.raises(ValueError, match="temperature"):
        sk.entropy(np.zeros(3), temperature=-1)
    # a NumPy array beside a tensor is taken into the tensor's library
    out = sk.kl_divergence(torch.zeros(3, dtype=torch.float64), np.array([0.0, 1.0, 2.0]))
    assert isinstance(out, torch.Tensor)


# --------------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------------


def test_closed_form_gradients_equal_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    a = 2 * rng.standard_normal((6, 5))
    b = 2 * rng.standard_normal((6, 5))
    t = 0.7
    at = torch.tensor(a, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    # torch's own formulas (finite rows): H = −Σ p log p, KL = Σ p (log p − log q)
    lp = torch.log_softmax(at / t, -1)
    lq = torch.log_softmax(bt / t, -1)
    h = -(lp.exp() * lp).sum()
    (gh,) = torch.autograd.grad(h, at, retain_graph=True)
    kl = (lp.exp() * (lp - lq)).sum()
    ga, gb = torch.autograd.grad(kl, (at, bt))
    np.testing.assert_allclose(sk.entropy_grad(a, temperature=t), gh.numpy(), rtol=1e-12,
                               atol=1e-15)
    got_a, got_b = sk.kl_divergence_grad(a, b, temperature=t)
    np.testing.assert_allclose(got_a, ga.numpy(), rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(got_b, gb.numpy(), rtol=1e-12, atol=1e-15)


def _edge_logits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.array([[0.0, -INF, 1.0, 0.5], [-INF] * 4, [INF, 0.0, 1.0, 2.0], [0.3, 1.0, 2.0, 0.0]])
    b = np.array([[1.0, 0.0, -1.0, 0.2], [0.0, 1.0, 2.0, 3.0], [0.0, 0.5, 1.0, 2.0],
                  [2.0, 0.0, 1.0, 0.5]])
    keep = np.array([[True, True, True, True], [True] * 4, [True] * 4,
                     [True, True, False, True]])
    return a, b, keep


def test_torch_autodiff_is_finite_and_equals_closed_forms() -> None:
    torch = pytest.importorskip("torch")
    a, b, keep = _edge_logits()
    at = torch.tensor(a, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    kt = torch.tensor(keep)
    sk.entropy(at, where=kt, temperature=0.8).sum().backward()
    assert torch.isfinite(at.grad).all()
    np.testing.assert_allclose(at.grad.numpy(), sk.entropy_grad(a, where=keep, temperature=0.8),
                               rtol=1e-12, atol=1e-15)
    at.grad = None
    sk.kl_divergence(at, bt, where=kt).sum().backward()
    ga, gb = sk.kl_divergence_grad(a, b, where=keep)
    assert torch.isfinite(at.grad).all() and torch.isfinite(bt.grad).all()
    np.testing.assert_allclose(at.grad.numpy(), ga, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(bt.grad.numpy(), gb, rtol=1e-12, atol=1e-15)
    at.grad = bt.grad = None
    sk.js_divergence(at, bt, where=kt).sum().backward()
    assert torch.isfinite(at.grad).all() and torch.isfinite(bt.grad).all()
    # ∂JS/∂a = ½ p ⊙ (g − <p, g>) with g = log p − log m (finite rows)
    p = sk.softmax(a[3], where=keep[3])
    q = sk.softmax(b[3], where=keep[3])
    m = (p + q) / 2
    g = np.where(p > 0, np.log(np.where(p > 0, p, 1) / np.where(m > 0, m, 1)), 0)
    np.testing.assert_allclose(at.grad[3].numpy(), 0.5 * p * (g - np.sum(p * g)), rtol=1e-11,
                               atol=1e-15)
    # torch.autograd.gradcheck on the entropy (finite, masked rows)
    x = torch.tensor(a[[0, 3]], requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda v: sk.entropy(v, where=torch.tensor(keep[[0, 3]])), (x,))
    # the Tsallis entropy's derivative at p = 0 is its one-sided limit 1/(α(α−1))
    pt = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64, requires_grad=True)
    sk.tsallis_entropy(pt, alpha=1.5).backward()
    np.testing.assert_allclose(pt.grad.numpy(), (1 - 1.5 * np.array([0.5, 0.5, 0]) ** 0.5)
                               / 0.75, rtol=1e-14)


def test_jax_autodiff_is_finite_and_equals_closed_forms() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    a, b, keep = _edge_logits()
    with jax.enable_x64(True):
        k = jnp.asarray(keep)

        def grads(u: Any, v: Any) -> Any:  # one compiled graph: eager JAX runs op by op
            gh = jax.grad(lambda w: sk.entropy(w, where=k, temperature=0.8).sum())(u)
            gk = jax.grad(lambda w, z: sk.kl_divergence(w, z, where=k).sum(),
                          argnums=(0, 1))(u, v)
            gj = jax.grad(lambda w: sk.js_divergence(w, v, where=k).sum())(u)
            return gh, gk, gj

        gh, (ga, gb), gj = jax.jit(grads)(jnp.asarray(a), jnp.asarray(b))
        np.testing.assert_allclose(np.asarray(gh), sk.entropy_grad(a, where=keep,
                                                                   temperature=0.8),
                                   rtol=1e-12, atol=1e-15)
        ra, rb = sk.kl_divergence_grad(a, b, where=keep)
        np.testing.assert_allclose(np.asarray(ga), ra, rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(np.asarray(gb), rb, rtol=1e-12, atol=1e-15)
        assert np.isfinite(np.asarray(gj)).all()
