"""minimize_on_simplex on problems whose answers are known in closed form or by a reference method.

* maximum entropy under a mean-energy constraint → the Boltzmann distribution p ∝ exp(−β E),
  β fixed by the constraint (solved by an augmented Lagrangian over the simplex);
* maximum-likelihood mixture weights → the fixed point of EM (implemented here);
* projections in KL divergence with a linear term, both directions:
  argmin KL(p‖q) + ⟨c, p⟩ = softmax(log q − c), and argmin KL(q‖p) + ⟨c, p⟩ = q / (c + μ).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

scipy_optimize = pytest.importorskip("scipy.optimize")

import softmaxkit as sk  # noqa: E402
from softmaxkit import minimize_on_simplex  # noqa: E402

TOL = 1e-6  # required agreement with the known answers (the measured errors are far smaller)


def _kl_linear(q: np.ndarray, c: np.ndarray):
    """f(p) = KL(p‖q) + ⟨c, p⟩ and its gradient log(p/q) + 1 + c.

    Minimiser: stationarity on the simplex is log(p_i/q_i) + 1 + c_i + μ = 0, so
    p_i ∝ q_i e^{−c_i}, i.e. p = softmax(log q − c) (strictly convex: the unique minimiser).
    """

    def f(p: np.ndarray) -> float:
        return float(np.sum(p * (np.log(p / q) + c)))

    def g(p: np.ndarray) -> np.ndarray:
        return np.log(p / q) + 1.0 + c

    return f, g


def test_kl_projection_with_linear_term() -> None:
    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(6))
    c = rng.normal(size=6)
    f, g = _kl_linear(q, c)
    res = minimize_on_simplex(f, np.full(6, 1 / 6), grad=g, tol=1e-14)
    expected = sk.softmax(np.log(q) - c)
    assert res.success
    assert np.max(np.abs(res.x - expected)) < TOL
    assert res.fun == pytest.approx(f(expected), rel=0, abs=1e-14)
    # the result lies on the simplex and is the image of the unconstrained optimum
    assert abs(res.x.sum() - 1.0) < 4e-16 and np.all(res.x > 0)
    np.testing.assert_array_equal(res.x, sk.base_softmax(res.z))
    assert res.z.shape == (5,) and res.jac.shape == (5,)
    assert np.max(np.abs(res.jac)) < 1e-7


def test_reverse_kl_projection_with_linear_term() -> None:
    """argmin KL(q‖p) + ⟨c, p⟩: stationarity −q_i/p_i + c_i + μ = 0 gives p_i = q_i/(c_i + μ)
    with μ > −min c the root of Σ q_i/(c_i + μ) = 1 (the sum decreases from +∞ to 0)."""
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(5))
    c = rng.uniform(0.0, 2.0, size=5)

    def f(p: np.ndarray) -> float:
        return float(np.sum(q * np.log(q / p)) + c @ p)

    def g(p: np.ndarray) -> np.ndarray:
        return -q / p + c

    lo = -c.min() + 1e-15
    mu = scipy_optimize.brentq(lambda m: np.sum(q / (c + m)) - 1.0, lo, 1e6, xtol=1e-15)
    expected = q / (c + mu)
    res = minimize_on_simplex(f, np.full(5, 0.2), grad=g, tol=1e-14)
    assert res.success
    assert np.max(np.abs(res.x - expected)) < TOL


def test_maximum_entropy_under_a_mean_constraint_is_boltzmann() -> None:
    """max H(p) s.t. ⟨p, E⟩ = Ē. The Lagrangian Σ p log p + β(⟨p, E⟩ − Ē) is stationary at
    p ∝ exp(−β E), β fixed by the constraint. Solved as a sequence of problems on the simplex
    (augmented Lagrangian: multiplier λ → β, penalty ρ fixed)."""
    energies = np.array([0.0, 0.7, 1.5, 2.0, 3.5, 5.0])
    target = 1.2  # below the uniform mean (2.1): β > 0

    def mean_energy(beta: float) -> float:
        return float(sk.softmax(-beta * energies) @ energies)

    beta = scipy_optimize.brentq(lambda b: mean_energy(b) - target, 0.0, 50.0, xtol=1e-15)
    expected = sk.softmax(-beta * energies)

    rho, lam = 10.0, 0.0
    p = np.full(6, 1 / 6)
    for _ in range(30):

        def fg(p: np.ndarray, lam: float = lam) -> tuple[float, np.ndarray]:
            gap = p @ energies - target
            val = np.sum(p * np.log(p)) + lam * gap + 0.5 * rho * gap**2
            return float(val), np.log(p) + 1.0 + (lam + rho * gap) * energies

        # Near the end f stops decreasing in floating point and L-BFGS-B may report an
        # abnormal line search; the accuracy of the final point is what is checked.
        p = minimize_on_simplex(fg, p, grad=True, tol=1e-15).x
        gap = p @ energies - target
        lam += rho * gap
        if abs(gap) < 1e-13:
            break
    assert abs(p @ energies - target) < 1e-8
    assert np.max(np.abs(p - expected)) < TOL
    assert lam == pytest.approx(beta, abs=TOL)


def _em(dens: np.ndarray, w: np.ndarray, iters: int = 100_000) -> np.ndarray:
    """EM for mixture weights with known component densities ``dens`` (N × K):
    w_k ← mean_j w_k f_k(x_j) / Σ_l w_l f_l(x_j), run to its fixed point."""
    for _ in range(iters):
        new = np.mean(dens * w / (dens @ w)[:, None], axis=0)
        if np.max(np.abs(new - w)) < 1e-16:
            return new
        w = new
    return w


def test_mixture_weights_match_em() -> None:
    rng = np.random.default_rng(2)
    means, sds = np.array([-2.0, 0.0, 3.0]), np.array([1.0, 0.5, 1.5])
    comp = rng.choice(3, size=1500, p=[0.5, 0.2, 0.3])
    data = rng.normal(means[comp], sds[comp])
    dens = np.exp(-0.5 * ((data[:, None] - means) / sds) ** 2) / (sds * np.sqrt(2 * np.pi))

    def nll(w: np.ndarray) -> float:
        return float(-np.mean(np.log(dens @ w)))

    def nll_grad(w: np.ndarray) -> np.ndarray:
        return -np.mean(dens / (dens @ w)[:, None], axis=0)

    w_em = _em(dens, np.full(3, 1 / 3))
    # the EM answer is the optimum: KKT, ∂ℓ/∂w_k = 1 for every k (all weights positive)
    np.testing.assert_allclose(-nll_grad(w_em), 1.0, atol=1e-12)
    res = minimize_on_simplex(nll, np.full(3, 1 / 3), grad=nll_grad, tol=1e-15)
    assert res.success
    assert np.max(np.abs(res.x - w_em)) < TOL
    assert res.fun == pytest.approx(nll(w_em), rel=1e-14)


def test_base_and_temperature_do_not_change_the_answer() -> None:
    rng = np.random.default_rng(3)
    q, c = rng.dirichlet(np.ones(4)), rng.normal(size=4)
    f, g = _kl_linear(q, c)
    expected = sk.softmax(np.log(q) - c)
    for base, t in [(0, 1.0), (2, 0.3), (-1, 4.0)]:
        res = minimize_on_simplex(f, np.full(4, 0.25), grad=g, base=base, temperature=t, tol=1e-14)
        assert np.max(np.abs(res.x - expected)) < TOL
        np.testing.assert_array_equal(res.x, sk.base_softmax(res.z, base=base, temperature=t))


def test_gradient_forms_and_gradient_free_methods() -> None:
    rng = np.random.default_rng(4)
    q, c = rng.dirichlet(np.ones(4)), rng.normal(size=4)
    f, g = _kl_linear(q, c)
    expected = sk.softmax(np.log(q) - c)
    p0 = np.array([0.1, 0.2, 0.3, 0.4])
    both = minimize_on_simplex(lambda p: (f(p), g(p)), p0, grad=True, tol=1e-14)
    assert np.max(np.abs(both.x - expected)) < TOL
    # no gradient: SciPy's finite differences on G, accurate to ~sqrt(eps)
    fd = minimize_on_simplex(f, p0, tol=1e-14)
    assert np.max(np.abs(fd.x - expected)) < TOL
    assert "jac" not in fd
    nm = minimize_on_simplex(
        f, p0, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 5000}
    )
    assert np.max(np.abs(nm.x - expected)) < TOL
    # extra arguments reach f and grad
    res = minimize_on_simplex(
        lambda p, s: s * f(p), p0, grad=lambda p, s: s * g(p), args=(2.0,), tol=1e-14
    )
    assert np.max(np.abs(res.x - expected)) < TOL


def test_product_of_simplices() -> None:
    rng = np.random.default_rng(5)
    q, c = rng.dirichlet(np.ones(4), size=3), rng.normal(size=(3, 4))
    f, g = _kl_linear(q, c)
    res = minimize_on_simplex(f, np.full((3, 4), 0.25), grad=g, tol=1e-14)
    assert res.x.shape == (3, 4) and res.z.shape == (3, 3)
    np.testing.assert_allclose(res.x.sum(axis=1), 1.0, rtol=0, atol=4e-16)
    assert np.max(np.abs(res.x - sk.softmax(np.log(q) - c))) < TOL


def test_minimiser_on_a_face_is_approached() -> None:
    """A linear objective is minimised at a vertex, z → −inf: the optimiser gets close."""
    c = np.array([0.3, -1.0, 0.5])
    res = minimize_on_simplex(
        lambda p: float(c @ p), np.full(3, 1 / 3), grad=lambda p: c, tol=1e-14
    )
    assert res.x[1] > 1 - TOL
    assert res.fun < c[1] + TOL


def test_single_point_simplex() -> None:
    res = minimize_on_simplex(lambda p: float(p[0] ** 2), [1.0])
    assert res.success and res.x.tolist() == [1.0] and res.fun == 1.0 and res.z.shape == (0,)


def test_bad_starts_and_arguments() -> None:
    f = lambda p: float(np.sum(p**2))  # noqa: E731
    with pytest.raises(ValueError, match=r"p0\[1\] = 0\.0; the start must be strictly positive"):
        minimize_on_simplex(f, [0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match=r"p0\[1, 0\] = 0\.0.*-inf"):
        minimize_on_simplex(f, [[0.5, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"p0\[0\] = -0\.2; probabilities must be in \(0, 1\]"):
        minimize_on_simplex(f, [-0.2, 0.6, 0.6])
    with pytest.raises(ValueError, match=r"p0\[2\] = nan"):
        minimize_on_simplex(f, [0.5, 0.5, np.nan])
    with pytest.raises(ValueError, match=r"p0 sums to 0\.89999+, not 1"):
        minimize_on_simplex(f, [0.3, 0.3, 0.3])
    with pytest.raises(ValueError, match="no simplex axis"):
        minimize_on_simplex(f, 1.0)
    with pytest.raises(ValueError, match=r"f\(p0\) = nan is not a finite number"):
        minimize_on_simplex(lambda p: float("nan"), [0.5, 0.5])
    with pytest.raises(ValueError, match="f must return a scalar"):
        minimize_on_simplex(lambda p: p, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"gradient of f has shape \(3,\).*\(2,\)"):
        minimize_on_simplex(f, [0.5, 0.5], grad=lambda p: np.ones(3))
    with pytest.raises(ValueError, match="temperature"):
        minimize_on_simplex(f, [0.5, 0.5], temperature=0.0)
    with pytest.raises(TypeError, match="f must be callable"):
        minimize_on_simplex(None, [0.5, 0.5])
    with pytest.raises(TypeError, match="grad must be a callable, True or None"):
        minimize_on_simplex(f, [0.5, 0.5], grad="yes")


def test_missing_scipy_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    expected = r'minimize_on_simplex needs scipy.*pip install "softmaxkit\[stats\]"'
    with pytest.raises(ImportError, match=expected):
        minimize_on_simplex(lambda p: 0.0, [0.5, 0.5])


# --- optima on a face of the simplex (issue 14, case 12) ----------------------------------


def _reverse_kl_on_face(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """argmin KL(q‖p) + ⟨c, p⟩ over the simplex when q has zeros (closed form).

    On the support S of q stationarity gives p_i = q_i / (c_i + μ); outside S f is linear in
    p_i with slope c_i, so p_i = 0 while c_i ≥ −μ (KKT). If some c_j (j ∉ S) is below −μ of
    the support-only solution, the multiplier is pinned at μ = −min_{j∉S} c_j and the mass
    left over goes to that j.
    """
    s = q > 0
    lo = -c[s].min()
    mu = scipy_optimize.brentq(lambda m: np.sum(q[s] / (c[s] + m)) - 1.0,
                               lo + 1e-15 * max(1.0, abs(lo)), lo + 1e6, xtol=1e-15)
    p = np.zeros_like(q)
    if (~s).any() and -mu > c[~s].min():
        mu = -c[~s].min()
        p[s] = q[s] / (c[s] + mu)
        p[np.flatnonzero(~s)[np.argmin(c[~s])]] = 1.0 - p[s].sum()
    else:
        p[s] = q[s] / (c[s] + mu)
    return p


def _reverse_kl(q: np.ndarray, c: np.ndarray):
    s = q > 0

    def f(p: np.ndarray) -> float:
        return float(np.sum(np.where(s, q * np.log(np.where(s, q, 1.0) / np.where(s, p, 1.0)),
                                     0.0)) + np.sum(c * p))

    def g(p: np.ndarray) -> np.ndarray:
        return np.where(s, -q / np.where(s, p, 1.0), 0.0) + c

    return f, g


def _instance(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    q = rng.dirichlet(np.ones(n))
    q[rng.random(n) < 0.3] = 0.0
    if q.sum() == 0:
        q[0] = 1.0
    return q / q.sum(), rng.normal(size=n)


def test_optimum_on_a_face_is_found_and_success_means_kkt() -> None:
    """Random KL projections whose optimum lies on a face (n = 6, fixed seed). On the last
    commit instance 10 ended at a wrong point with success=True (f 0.0236 above the optimum);
    now every instance ends at the closed form, at a KKT point."""
    rng = np.random.default_rng(12)
    for t in range(12):
        q, c = _instance(rng, 6)
        f, g = _reverse_kl(q, c)
        expected = _reverse_kl_on_face(q, c)
        res = minimize_on_simplex(f, np.full(6, 1 / 6), grad=g)
        assert res.success, (t, res.message)
        assert res.kkt_gap <= 1e-6 * max(1.0, abs(res.fun))
        assert f(res.x) - f(expected) < 2e-6, t
        assert np.max(np.abs(res.x - expected)) < 1e-4, t
        assert abs(res.x.sum() - 1.0) < 1e-14 and np.all(res.x >= 0)


def test_product_of_simplices_does_not_collapse_a_row() -> None:
    """3 rows of 4: on the last commit a row collapsed onto a face, f = -1.4289 against the
    optimum -1.4559, with success=True; now the optimum, with exact zeros where it has them."""
    rng = np.random.default_rng(17)
    q, c = (np.array(a) for a in zip(*[_instance(rng, 4) for _ in range(3)], strict=True))
    s = q > 0

    def f(p: np.ndarray) -> float:
        return float(np.sum(np.where(s, q * np.log(np.where(s, q, 1.0) / np.where(s, p, 1.0)),
                                     0.0)) + np.sum(c * p))

    def g(p: np.ndarray) -> np.ndarray:
        return np.where(s, -q / np.where(s, p, 1.0), 0.0) + c

    expected = np.array([_reverse_kl_on_face(q[i], c[i]) for i in range(3)])
    assert f(expected) == pytest.approx(-1.4559, abs=1e-4)
    res = minimize_on_simplex(f, np.full((3, 4), 0.25), grad=g)
    assert res.success, res.message
    assert res.fun == pytest.approx(f(expected), abs=1e-6)
    assert np.max(np.abs(res.x - expected)) < 1e-5
    np.testing.assert_array_equal(res.x[expected == 0], 0.0)  # finished on the face


def test_face_optimum_without_a_gradient() -> None:
    """grad=None: the KKT check uses one-sided differences towards the vertices."""
    rng = np.random.default_rng(12)
    for _ in range(11):
        q, c = _instance(rng, 6)  # the 11th is the instance that failed before
    f, _ = _reverse_kl(q, c)
    expected = _reverse_kl_on_face(q, c)
    res = minimize_on_simplex(f, np.full(6, 1 / 6))
    assert res.success, res.message
    assert f(res.x) - f(expected) < 1e-6


def test_not_a_kkt_point_is_reported() -> None:
    """A search cut short (one iteration) on a face problem: success=False, and the message
    names the entry that wants mass and the size of the violation."""
    rng = np.random.default_rng(12)
    for _ in range(11):
        q, c = _instance(rng, 6)
    f, g = _reverse_kl(q, c)
    res = minimize_on_simplex(f, np.full(6, 1 / 6), grad=g, options={"maxiter": 1})
    assert not res.success
    assert res.message.startswith("not a KKT point of the problem on the simplex: p[")
    assert "kkt_tol" in res.message and res.kkt_gap > 1e-6
