"""The Bayesian reading: posterior, model weights, Gaussian discriminant logits.

References: an mpmath oracle (50 digits) for the posterior and the evidence, closed forms
(thermodynamic integration, the T limits, the 2-model stacking optimum as the root of a
1-D equation), the exact KKT conditions of stacking checked in multiple precision, ArviZ's
``compare`` weights recorded from ``benchmarks/peers/bayes_arviz.py`` (ArviZ 0.23.4) on the
pointwise LOO densities it computed (``softmaxkit/data/eight_schools_loo.csv``,
``tests/data/bayes_mixture_loo.csv``), and scikit-learn's
``LinearDiscriminantAnalysis`` / ``GaussianNB`` compared live.
"""

from __future__ import annotations

import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_backends import assert_ulp_close  # noqa: F401 - the shared ulp comparison

import softmaxkit as sk
from softmaxkit import io as sio
from softmaxkit.bayes import stacking_weights

DATA = Path(__file__).parent / "data"
INF = math.inf


def _lpd(name: str) -> np.ndarray:
    path = sio.example_path("eight_schools_loo.csv") if name == "eight_schools" else (
        DATA / f"bayes_{name}_loo.csv")
    return np.loadtxt(path, delimiter=",", skiprows=1)


# --------------------------------------------------------------------------------------------
# posterior: against an mpmath oracle
# --------------------------------------------------------------------------------------------

mpmath.mp.dps = 50


def _oracle(ll: np.ndarray, lp: np.ndarray, t: float = 1.0) -> tuple[np.ndarray, ...]:
    """Exact p, log p, log Z of ``softmax(ll / t + lp)`` per row, rounded to float64."""
    p = np.zeros(ll.shape)
    logp = np.zeros(ll.shape)
    lz = np.zeros(ll.shape[:-1])
    for idx in np.ndindex(ll.shape[:-1]):
        a = [mpmath.mpf(float(u)) / mpmath.mpf(t) + mpmath.mpf(float(v))
             for u, v in zip(ll[idx], lp[idx], strict=True)]
        z = mpmath.fsum(mpmath.exp(v) for v in a)
        lz[idx] = float(mpmath.log(z))
        for k, v in enumerate(a):
            p[(*idx, k)] = float(mpmath.exp(v) / z)
            logp[(*idx, k)] = float(v - mpmath.log(z))
    return p, logp, lz


def _within(got: np.ndarray, ref: np.ndarray, ulps: np.ndarray | float) -> None:
    ulp = np.spacing(np.abs(ref))
    err = np.abs(got - ref) / ulp
    assert np.all(err <= ulps), (err.max(), got, ref)


@pytest.mark.parametrize("t", [1.0, 0.3, 2.5])
def test_posterior_matches_the_oracle(rng: np.random.Generator, t: float) -> None:
    ll = 5 * rng.standard_normal((6, 5))
    prior = rng.dirichlet(np.ones(5))
    post = sk.posterior(ll, prior=prior, temperature=t)
    p, logp, lz = _oracle(ll, np.log(prior)[None, :] + 0 * ll, t)
    # The input is rounded once (ll + T log π, then / T inside): |x|/T·eps of the exponent.
    x = np.abs(ll / t) + np.abs(np.log(prior))
    _within(post.probabilities, p, 6 + 2 * x.max(axis=-1, keepdims=True))
    _within(post.log_probabilities, logp, 6 + 2 * x.max() / np.abs(logp).min())
    _within(post.log_evidence, lz, 6 + 2 * x.max() / np.abs(lz).min())
    # np.log(prior) rounds too; the oracle takes the rounded log, as the function does.
    assert np.allclose(post.probabilities.sum(axis=-1), 1.0, rtol=0, atol=4e-16)


def test_bayes_rule_by_hand() -> None:
    # p(x | C) = 0.5, 0.1, 0.3 with priors 0.2, 0.5, 0.3: evidence 0.1 + 0.05 + 0.09 = 0.24.
    post = sk.posterior(np.log([0.5, 0.1, 0.3]), prior=[0.2, 0.5, 0.3])
    np.testing.assert_allclose(post.probabilities, [0.1 / 0.24, 0.05 / 0.24, 0.09 / 0.24],
                               rtol=4e-16)
    assert post.log_evidence == pytest.approx(math.log(0.24), rel=1e-15)
    # The same with log_prior=, and unnormalised: the evidence moves by the log-normaliser.
    post2 = sk.posterior(np.log([0.5, 0.1, 0.3]), np.log([2.0, 5.0, 3.0]))
    np.testing.assert_allclose(post2.probabilities, post.probabilities, rtol=4e-16)
    assert post2.log_evidence == pytest.approx(math.log(0.24) + math.log(10.0), rel=1e-15)


def test_edge_semantics() -> None:
    ll = np.array([
        [0.0, -INF, -1.0, 2.0],        # an impossible class
        [-INF, -INF, -INF, -INF],      # every class impossible
        [1.0, 2.0, 3.0, np.nan],       # NaN only in its own row...
        [5.0, 1.0, 0.0, np.nan],       # ...unless the class is excluded (zero prior, below)
        [0.0, INF, INF, 1.0],          # +inf: the limit, shared in proportion to the prior
        [INF, 0.0, 0.0, 0.0],          # +inf on a class with prior 0 is excluded
    ])
    prior = np.array([[0.1, 0.2, 0.3, 0.4]] * 3 + [[0.5, 0.25, 0.25, 0.0]]
                     + [[0.1, 0.2, 0.6, 0.1]] + [[0.0, 0.5, 0.25, 0.25]])
    post = sk.posterior(ll, prior=prior)
    p, logp, lz = post.probabilities, post.log_probabilities, post.log_evidence
    assert p[0, 1] == 0 and logp[0, 1] == -INF
    assert p[1].tolist() == [0, 0, 0, 0] and np.all(logp[1] == -INF) and lz[1] == -INF
    assert np.isnan(p[2]).all() and np.isnan(lz[2])
    np.testing.assert_allclose(p[3, :3], sk.softmax(ll[3, :3] + np.log(prior[3, :3])), rtol=1e-15)
    assert p[3, 3] == 0 and np.isfinite(lz[3])
    np.testing.assert_allclose(p[4], [0, 0.25, 0.75, 0], rtol=1e-15)
    assert lz[4] == INF
    np.testing.assert_allclose(p[5], [0, 0.5, 0.25, 0.25], rtol=1e-15)
    assert not np.isnan(p[[0, 1, 3, 4, 5]]).any()
    # where= excludes like a zero prior
    masked = sk.posterior(ll[0], prior=prior[0], where=np.array([True, True, False, True]))
    ref = sk.posterior(ll[0], prior=[0.1 / 0.7, 0.2 / 0.7, 0.0, 0.4 / 0.7])
    np.testing.assert_allclose(masked.probabilities, ref.probabilities, rtol=1e-15)
    assert masked.log_evidence == pytest.approx(ref.log_evidence + math.log(0.7), rel=1e-14)


def test_temperature_limits() -> None:
    ll = np.array([[0.5, 2.0, 2.0, -INF], [-1.0, -3.0, -1.0, 0.0], [0.0, 0.0, -4.0, -INF]])
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    cold = sk.posterior(ll, prior=prior, temperature=0)
    # the maxima of the likelihood share in proportion to the prior
    np.testing.assert_allclose(cold.probabilities,
                               [[0, 0.4, 0.6, 0], [0, 0, 0, 1], [1 / 3, 2 / 3, 0, 0]], rtol=1e-15)
    # log Z_T → +inf / −inf / log(prior mass of the maxima) for max ℓ > 0 / < 0 / = 0
    np.testing.assert_allclose(cold.log_evidence, [INF, math.log(0.4), math.log(0.3)], rtol=1e-15)
    hot = sk.posterior(ll, prior=prior, temperature=INF)
    sixths = [1 / 6, 2 / 6, 3 / 6, 0]
    np.testing.assert_allclose(hot.probabilities, [sixths, prior, sixths], rtol=1e-15)
    np.testing.assert_allclose(hot.log_evidence, [math.log(0.6), 0.0, math.log(0.6)],
                               rtol=1e-15, atol=2e-16)
    # the limits are the limits of finite temperatures
    near0 = sk.posterior(ll, prior=prior, temperature=1e-3)
    np.testing.assert_allclose(near0.probabilities, cold.probabilities, atol=1e-300)
    near_inf = sk.posterior(ll, prior=prior, temperature=1e12)
    np.testing.assert_allclose(near_inf.probabilities, hot.probabilities, rtol=1e-10)
    np.testing.assert_allclose(near_inf.log_evidence, hot.log_evidence, atol=1e-10)
    # one temperature per row, as an array
    rows = sk.posterior(ll, prior=prior, temperature=np.array([[0.0], [INF], [2.0]]))
    np.testing.assert_array_equal(rows.probabilities[0], cold.probabilities[0])
    np.testing.assert_array_equal(rows.probabilities[1], hot.probabilities[1])
    np.testing.assert_array_equal(rows.probabilities[2],
                                  sk.posterior(ll[2], prior=prior, temperature=2.0).probabilities)


def test_power_posterior_and_thermodynamic_integration(rng: np.random.Generator) -> None:
    scipy_integrate = pytest.importorskip("scipy.integrate")
    ll = 3 * rng.standard_normal(6) - 2
    prior = rng.dirichlet(np.ones(6))
    # p_T ∝ p(x|C)^(1/T) π: the tempered likelihood, the prior kept
    t = 4.0
    ref = prior * np.exp(ll / t)
    np.testing.assert_allclose(sk.posterior(ll, prior=prior, temperature=t).probabilities,
                               ref / ref.sum(), rtol=1e-14)

    def mean_ll(beta: float) -> float:  # E_{p_(1/β)}[ℓ] = d/dβ log Z_(1/β)
        temp = INF if beta == 0 else 1.0 / beta
        return float(np.sum(sk.posterior(ll, prior=prior, temperature=temp).probabilities * ll))

    integral, _ = scipy_integrate.quad(mean_ll, 0.0, 1.0, epsabs=1e-13, epsrel=1e-13)
    assert integral == pytest.approx(float(sk.posterior(ll, prior=prior).log_evidence), rel=1e-11)


finite_rows = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
    elements=st.floats(-50, 50, allow_nan=False),
)


@given(ll=finite_rows, c=st.floats(-100, 100), t=st.sampled_from([0.5, 1.0, 3.0]))
def test_shift_invariance_and_batch(ll: np.ndarray, c: float, t: float) -> None:
    a = sk.posterior(ll, temperature=t)
    b = sk.posterior(ll + c, temperature=t)
    np.testing.assert_allclose(b.probabilities, a.probabilities, rtol=1e-11, atol=1e-300)
    # log Z_T moves by c / T; compare at the magnitude the sum passes through
    scale = np.abs(ll).max() / t + abs(c) / t + 10
    np.testing.assert_allclose(b.log_evidence, a.log_evidence + c / t, rtol=0,
                               atol=64 * np.finfo(float).eps * scale)
    for i in range(ll.shape[0]):
        row = sk.posterior(ll[i], temperature=t)
        np.testing.assert_array_equal(row.probabilities, a.probabilities[i])
        assert row.log_evidence == a.log_evidence[i]
    assert not np.isnan(a.probabilities).any()


def test_prior_is_checked_like_inverse_softmax_input() -> None:
    ll = np.zeros((2, 3))
    with pytest.raises(sk.InvalidProbabilityError, match=r"posterior: prior\[1\] = -0.2 is "
                       r"negative; probabilities must be in \[0, 1\]"):
        sk.posterior(ll, prior=[0.6, -0.2, 0.6])
    with pytest.raises(sk.InvalidProbabilityError, match=r"posterior: row prior\[1, :\]: the "
                       r"probabilities sum to 0.8999.*, not 1 .*pass log_prior="):
        sk.posterior(ll, prior=[[0.2, 0.3, 0.5], [0.3, 0.3, 0.3]])
    with pytest.raises(sk.InvalidProbabilityError, match=r"prior\[2\] = nan is NaN"):
        sk.posterior(ll, prior=[0.5, 0.5, np.nan])
    with pytest.raises(ValueError, match=r"posterior: log_prior\[0, 2\] = inf"):
        sk.posterior(ll, np.array([0.0, 0.0, INF]))
    with pytest.raises(TypeError, match="log_prior or prior, not both"):
        sk.posterior(ll, np.zeros(3), prior=np.ones(3) / 3)
    with pytest.raises(ValueError, match="does not broadcast"):
        sk.posterior(ll, np.zeros(4))
    with pytest.raises(ValueError, match="no class axis"):
        sk.posterior(ll, prior=np.ones(3) / 3, axis=0)
    with pytest.raises(ValueError, match="temperature"):
        sk.posterior(ll, temperature=-1.0)
    # the class axis first: a prior of shape (2, 1) broadcasts along the rows
    col = sk.posterior(np.log([[0.5, 0.2], [0.1, 0.4]]), prior=np.array([[0.25], [0.75]]), axis=0)
    np.testing.assert_allclose(col.probabilities[:, 0], [0.125 / 0.2, 0.075 / 0.2], rtol=1e-15)


def test_float32_keeps_its_dtype() -> None:
    post = sk.posterior(np.array([-1.0, -2.0, -3.0], np.float32), prior=[0.2, 0.3, 0.5])
    assert post.probabilities.dtype == np.float32
    assert post.log_evidence.dtype == np.float32
    ref = sk.posterior(np.array([-1.0, -2.0, -3.0]), prior=[0.2, 0.3, 0.5])
    np.testing.assert_allclose(post.probabilities, ref.probabilities, rtol=2e-7)


# --------------------------------------------------------------------------------------------
# generative classifiers: scikit-learn, live
# --------------------------------------------------------------------------------------------


def _classes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    means = np.array([[0.0, 0.0, 0.0], [2.0, 1.0, -1.0], [-1.0, 2.5, 0.5]])
    chol = np.array([[1.0, 0.0, 0.0], [0.5, 1.2, 0.0], [-0.3, 0.4, 0.8]])
    counts = (60, 30, 90)
    x = np.vstack([m + rng.standard_normal((c, 3)) @ chol.T
                   for m, c in zip(means, counts, strict=True)])
    y = np.repeat(np.arange(3), counts)
    return x, y


@pytest.mark.parametrize("solver", ["lsqr", "svd"])
def test_gaussian_discriminant_logits_is_lda(rng: np.random.Generator, solver: str) -> None:
    da = pytest.importorskip("sklearn.discriminant_analysis")
    x, y = _classes(rng)
    lda = da.LinearDiscriminantAnalysis(solver=solver, store_covariance=True).fit(x, y)
    w, b = sk.gaussian_discriminant_logits(lda.means_, lda.covariance_, lda.priors_)
    got = sk.softmax(x @ w.T + b)
    np.testing.assert_allclose(got, lda.predict_proba(x), rtol=1e-12, atol=1e-14)


def test_gaussian_discriminant_logits_closed_form(rng: np.random.Generator) -> None:
    stats = pytest.importorskip("scipy.stats")
    means = rng.standard_normal((4, 3))
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    priors = np.array([0.1, 0.2, 0.3, 0.4])
    x = rng.standard_normal((5, 3))
    w, b = sk.gaussian_discriminant_logits(means, cov, priors)
    joint = np.column_stack([stats.multivariate_normal(m, cov).logpdf(x) for m in means])
    ref = sk.posterior(joint, prior=priors)
    np.testing.assert_allclose(sk.softmax(x @ w.T + b), ref.probabilities, rtol=1e-12)
    # logsumexp of the affine logits is the log evidence less the shared quadratic term
    shared = (stats.multivariate_normal(np.zeros(3), cov).logpdf(x))
    np.testing.assert_allclose(sk.logsumexp(x @ w.T + b) + shared, ref.log_evidence, rtol=1e-12)
    # a zero prior removes its class
    w0, b0 = sk.gaussian_discriminant_logits(means, cov, [0.5, 0.0, 0.25, 0.25])
    assert b0[1] == -INF and np.all(sk.softmax(x @ w0.T + b0)[:, 1] == 0)
    # equal priors by default
    np.testing.assert_allclose(sk.gaussian_discriminant_logits(means, cov)[1],
                               sk.gaussian_discriminant_logits(means, cov, np.full(4, 0.25))[1],
                               rtol=1e-15)


def test_gaussian_discriminant_logits_errors() -> None:
    means = np.zeros((2, 2))
    with pytest.raises(ValueError, match="not positive definite"):
        sk.gaussian_discriminant_logits(means, np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"not symmetric: covariance\[0, 1\]"):
        sk.gaussian_discriminant_logits(means, np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        sk.gaussian_discriminant_logits(means, np.eye(3))
    with pytest.raises(ValueError, match="2-D"):
        sk.gaussian_discriminant_logits(np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"means\[1, 0\] = nan"):
        sk.gaussian_discriminant_logits(np.array([[0.0, 0.0], [np.nan, 0.0]]), np.eye(2))
    with pytest.raises(sk.InvalidProbabilityError, match=r"row prior\[:\]: the probabilities "
                       "sum to 0.5"):
        sk.gaussian_discriminant_logits(means, np.eye(2), [0.25, 0.25])


def test_posterior_on_gaussian_nb_joint_log_likelihood(rng: np.random.Generator) -> None:
    nb = pytest.importorskip("sklearn.naive_bayes")
    x, y = _classes(rng)
    model = nb.GaussianNB().fit(x, y)
    joint = model.predict_joint_log_proba(x)
    np.testing.assert_allclose(sk.posterior(joint).probabilities, model.predict_proba(x),
                               rtol=1e-12, atol=1e-14)
    # the same with the likelihood and the prior apart
    ll = joint - np.log(model.class_prior_)
    post = sk.posterior(ll, prior=model.class_prior_)
    np.testing.assert_allclose(post.probabilities, model.predict_proba(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(post.log_evidence, sk.logsumexp(joint), rtol=1e-13)


# --------------------------------------------------------------------------------------------
# model weights
# --------------------------------------------------------------------------------------------


def test_akaike_and_bic_weights() -> None:
    aic = np.array([204.1, 202.3, 210.0, 202.3])
    delta = aic - aic.min()
    ref = np.exp(-delta / 2) / np.exp(-delta / 2).sum()
    np.testing.assert_allclose(sk.model_weights(aic, method="akaike"), ref, rtol=1e-15)
    # BIC weights are the posterior model probabilities under equal priors (Schwarz)
    bic = np.array([[310.2, 305.0, 307.5], [1.0, 1.0, INF]])
    np.testing.assert_allclose(sk.model_weights(bic, method="bic"),
                               sk.posterior(-bic / 2).probabilities, rtol=1e-15)
    assert sk.model_weights(bic, method="bic")[1].tolist() == [0.5, 0.5, 0.0]
    # models along axis 0
    np.testing.assert_allclose(sk.model_weights(bic.T, method="bic", axis=0),
                               sk.model_weights(bic, method="bic").T, rtol=1e-15)
    assert sk.model_weights(np.full(3, INF), method="akaike").tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(sk.model_weights(np.array([1.0, np.nan]), method="akaike")).all()


# ArviZ 0.23.4, `python benchmarks/peers/bayes_arviz.py`: az.compare(models, method=...)
# weights in the column order of the lpd files (az.loo(...).loo_i of each model).
ARVIZ = {
    "eight_schools": {
        "stacking": [6.3203371816076632e-16, 8.6042284408449632e-16, 9.9999999999999822e-01,
                     2.6020852139652106e-16],
        "pseudo-bma": [0.2676902405019477, 0.28537695790537676, 0.3105937223011901,
                       0.1363390792914855],
        "bb-pseudo-bma": [0.26227337144878843, 0.27946494317728215, 0.30047847754955187,
                          0.15778320782437752],
    },
    "mixture": {
        "stacking": [5.978269514482716e-01, 4.021730485517203e-01, 0.0, 3.983520734411258e-14],
        "pseudo-bma": [1.0474388464164014e-50, 3.0347511703354137e-97, 9.9957721685425449e-01,
                       4.2278314574557390e-04],
        "bb-pseudo-bma": [1.1422538751648249e-16, 2.8717875074883715e-56, 9.7126629744457382e-01,
                          2.8733702555426646e-02],
    },
}


@pytest.mark.parametrize("dataset", list(ARVIZ))
def test_pseudo_bma_equals_arviz(dataset: str) -> None:
    lpd = _lpd(dataset)
    ref = ARVIZ[dataset]
    np.testing.assert_allclose(sk.model_weights(lpd, method="pseudo-bma"), ref["pseudo-bma"],
                               rtol=1e-13)
    # ArviZ draws the Bayesian bootstrap with scipy.stats.dirichlet(random_state=10), i.e.
    # RandomState(10).dirichlet: the same draws give the same weights.
    bb = sk.model_weights(lpd, method="bb-pseudo-bma", seed=np.random.RandomState(10))
    np.testing.assert_allclose(bb, ref["bb-pseudo-bma"], rtol=1e-12)


def _kkt(lpd: np.ndarray, w: np.ndarray) -> tuple[list[mpmath.mpf], mpmath.mpf]:
    """The gradient of F(w) = Σ log Σ w e^lpd, and F, in multiple precision."""
    n, k = lpd.shape
    e = [[mpmath.exp(mpmath.mpf(float(v))) for v in row] for row in lpd]
    total = mpmath.fsum(mpmath.mpf(float(v)) for v in w)  # on the simplex exactly
    s = [mpmath.fsum(mpmath.mpf(float(w[j])) / total * e[i][j] for j in range(k))
         for i in range(n)]
    g = [mpmath.fsum(e[i][j] / s[i] for i in range(n)) for j in range(k)]
    return g, mpmath.fsum(mpmath.log(v) for v in s)


def _assert_kkt(lpd: np.ndarray, w: np.ndarray, tol: float = 1e-10) -> None:
    n = lpd.shape[0]
    assert np.all(w >= 0) and abs(w.sum() - 1) <= 4e-16 * w.size
    g, _ = _kkt(lpd, w)
    for j, gj in enumerate(g):
        if w[j] > 0:
            assert abs(gj - n) <= tol * n, (j, gj, n)
        else:
            assert gj <= n * (1 + tol), (j, gj, n)


@pytest.mark.parametrize("dataset", list(ARVIZ))
def test_stacking_equals_arviz_and_is_exact(dataset: str) -> None:
    lpd = _lpd(dataset)
    w = sk.model_weights(lpd, method="stacking")
    ref = np.array(ARVIZ[dataset]["stacking"])
    # ArviZ's SLSQP stops at its own tolerance (~1e-6 here); ours is the KKT point.
    np.testing.assert_allclose(w, ref, rtol=0, atol=2e-6)
    _assert_kkt(lpd, w)
    # exact zeros off the support, and no worse than ArviZ's point (projected on the simplex)
    assert (w == 0).sum() == (2 if dataset == "mixture" else 3)
    ref = np.clip(ref, 0, None) / np.clip(ref, 0, None).sum()
    assert _kkt(lpd, w)[1] >= _kkt(lpd, ref)[1]


def test_stacking_two_models_closed_form(rng: np.random.Generator) -> None:
    lpd = np.column_stack([rng.normal(-1.0, 0.5, 25), rng.normal(-1.1, 0.7, 25)])
    w = sk.model_weights(lpd, method="stacking")
    a, b = ([mpmath.exp(mpmath.mpf(float(v))) for v in lpd[:, k]] for k in (0, 1))
    # the interior optimum solves Σ (a_i − b_i) / (u a_i + (1 − u) b_i) = 0 for u = w_1
    u = mpmath.findroot(
        lambda u: mpmath.fsum((x - y) / (u * x + (1 - u) * y) for x, y in zip(a, b, strict=True)),
        (mpmath.mpf("1e-9"), 1 - mpmath.mpf("1e-9")), solver="anderson",
    )
    assert 0 < float(u) < 1
    assert w[0] == pytest.approx(float(u), rel=1e-13, abs=1e-14)
    assert w[1] == pytest.approx(1 - float(u), rel=1e-13, abs=1e-14)


def test_stacking_on_a_face_and_degenerate_models(rng: np.random.Generator) -> None:
    base = rng.normal(-1.0, 0.6, (40, 2))
    # a third model uniformly worse than the first: its weight is exactly 0
    lpd = np.column_stack([base, base[:, 0] - 1.0])
    w = sk.model_weights(lpd, method="stacking")
    assert w[2] == 0.0
    _assert_kkt(lpd, w)
    np.testing.assert_allclose(w[:2], sk.model_weights(base, method="stacking"), rtol=1e-12)
    # duplicated models (a singular Hessian): the optimum value is unique, the split is not
    dup = np.column_stack([base, base[:, 1]])
    wd = sk.model_weights(dup, method="stacking")
    _assert_kkt(dup, wd)
    assert wd[1] + wd[2] == pytest.approx(w[1], rel=1e-10)
    # lpd of any magnitude: rows are shifted by their maxima
    _assert_kkt(lpd - 800.0, sk.model_weights(lpd - 800.0, method="stacking"))
    # the library's generic simplex optimiser agrees (to its own tolerance)
    simplex = sk.minimize_on_simplex(
        lambda p: -np.sum(np.log(np.exp(lpd) @ p)), np.full(3, 1 / 3),
        grad=lambda p: -(np.exp(lpd) / (np.exp(lpd) @ p)[:, None]).sum(axis=0), tol=1e-14,
    )
    np.testing.assert_allclose(w, simplex.x, atol=1e-6)


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 25), st.integers(2, 6)),
               elements=st.floats(-30, 5, allow_nan=False)),
)
def test_stacking_is_a_kkt_point(lpd: np.ndarray) -> None:
    w = stacking_weights(lpd)
    _assert_kkt(lpd, w, tol=1e-8)


def test_stacking_and_bootstrap_edges() -> None:
    lpd = np.array([[-1.0, -2.0], [-3.0, -1.5]])
    assert np.isnan(sk.model_weights(np.array([[np.nan, 0.0], [0.0, 0.0]]),
                                     method="stacking")).all()
    with pytest.raises(ValueError, match=r"scores\[1, 0\] = inf"):
        sk.model_weights(np.array([[0.0, 0.0], [INF, 0.0]]), method="stacking")
    with pytest.raises(ValueError, match=r"scores\[1, 0\] = inf"):  # axis=0: as given
        sk.model_weights(np.array([[0.0, 0.0], [INF, 0.0]]), method="stacking", axis=0)
    impossible = np.array([[-1.0, -2.0], [-INF, -INF]])
    for method in ("stacking", "pseudo-bma", "bb-pseudo-bma"):
        assert sk.model_weights(impossible, method=method).tolist() == [0.0, 0.0]
        assert sk.model_weights(np.zeros((0, 4)), method=method).tolist() == [0.25] * 4
        assert sk.model_weights(lpd[:, :1], method=method).tolist() == [1.0]
    # a model with an impossible observation gets 0 in pseudo-BMA, not in stacking
    one = np.array([[-1.0, -INF], [-3.0, -0.5], [-2.0, -0.4]])
    assert sk.model_weights(one, method="pseudo-bma")[1] == 0.0
    assert 0 < sk.model_weights(one, method="stacking")[1] < 1
    np.testing.assert_allclose(sk.model_weights(lpd.T, method="stacking", axis=0),
                               sk.model_weights(lpd, method="stacking"), rtol=1e-15)


def test_bootstrap_seeds() -> None:
    lpd = _lpd("mixture")
    a = sk.model_weights(lpd, method="bb-pseudo-bma", seed=3, n_bootstrap=200)
    b = sk.model_weights(lpd, method="bb-pseudo-bma", seed=np.random.default_rng(3),
                         n_bootstrap=200)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == pytest.approx(1.0, rel=1e-15)
    # Yao et al.'s estimator by hand: the mean of softmax(n · α @ lpd) over the draws
    draws = np.random.default_rng(3).dirichlet(np.ones(lpd.shape[0]), size=200)
    z = draws @ (lpd * lpd.shape[0])
    np.testing.assert_allclose(a, sk.softmax(z).mean(axis=0), rtol=1e-14)
    # a smaller alpha spreads the draws: the weights move towards the pseudo-BMA extremes less
    c = sk.model_weights(lpd, method="bb-pseudo-bma", seed=3, n_bootstrap=200, alpha=0.5)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "aic"}, ValueError, "method='aic' is not a method"),
        ({"method": "stacking", "seed": -1}, None, None),
        ({"method": "bb-pseudo-bma", "seed": -1}, TypeError, "seed must be"),
        ({"method": "bb-pseudo-bma", "n_bootstrap": 0}, ValueError, "n_bootstrap"),
        ({"method": "bb-pseudo-bma", "alpha": 0.0}, ValueError, "alpha"),
        ({"method": "stacking", "axis": 2}, ValueError, "axis"),
    ],
)
def test_model_weights_errors(kwargs: dict, error: type | None, match: str | None) -> None:
    lpd = np.array([[-1.0, -2.0], [-3.0, -1.5]])
    if error is None:  # the seed is only read by the bootstrap
        sk.model_weights(lpd, **kwargs)
        return
    with pytest.raises(error, match=match):
        sk.model_weights(lpd, **kwargs)


def test_lpd_methods_need_a_matrix() -> None:
    with pytest.raises(ValueError, match=r"2-D matrix .* got shape \(3,\)"):
        sk.model_weights(np.zeros(3), method="stacking")
    with pytest.raises(TypeError, match="required keyword-only argument"):
        sk.model_weights(np.zeros(3))  # type: ignore[call-arg]
