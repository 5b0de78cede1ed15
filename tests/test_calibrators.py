"""Calibrators beyond temperature (Platt, beta, Dirichlet, histogram binning, isotonic
regression) against scikit-learn, netcal, an independent SciPy maximisation and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit, log_softmax
from test_backends import Backend, backend  # noqa: F401

import softmaxkit as sk
from softmaxkit.calibration import (
    BetaCalibration,
    DirichletCalibration,
    HistogramBinning,
    IsotonicCalibration,
    PlattScaling,
    expected_calibration_error,
    negative_log_likelihood,
    odir_penalty,
)
from softmaxkit.io import load_example

ALL = (PlattScaling, BetaCalibration, DirichletCalibration, HistogramBinning,
       IsotonicCalibration)


def draw(rng: np.random.Generator, n: int, k: int, tstar: float = 2.0):
    """Logits and labels drawn from softmax(z / T*) (over-confident logits for T* > 1)."""
    z = rng.normal(scale=2.5, size=(n, k))
    p = np.asarray(sk.softmax(z, temperature=tstar))
    y = np.minimum((p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1), k - 1)
    return z, y


def binary(rng: np.random.Generator, n: int):
    s = rng.normal(size=n) * 2.0
    y = (rng.random(n) < expit(0.7 * s - 0.3)).astype(int)
    return s, y


def softmax_np(z):
    return np.exp(log_softmax(z, axis=1))


class Quiet:
    """netcal imports pyro/torch and prints/warns about its dependencies."""

    def __enter__(self):
        self.ctx = warnings.catch_warnings()
        self.ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)


def frozen(probs_of):
    """A fitted scikit-learn classifier whose predict_proba(X) is probs_of(X)."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Given(ClassifierMixin, BaseEstimator):
        def fit(self, x, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, x):
            return probs_of(np.asarray(x))

        def predict(self, x):
            return self.classes_[np.argmax(self.predict_proba(x), axis=1)]

    return Given


# --------------------------------------------------------------------------- Platt


def test_platt_smoothed_equals_sklearn_sigmoid(rng):
    from sklearn.calibration import _SigmoidCalibration

    s, y = binary(rng, 600)
    ref = _SigmoidCalibration().fit(s, y)  # expit(-(a s + b)), Platt's targets
    ours = PlattScaling(smoothing=True).fit(s, y)
    assert ours.coef_ == pytest.approx(-ref.a_, rel=1e-6)
    assert ours.intercept_ == pytest.approx(-ref.b_, rel=1e-6, abs=1e-7)
    s2 = rng.normal(size=300) * 3
    np.testing.assert_allclose(ours.predict_proba(s2)[:, 1], ref.predict(s2), atol=1e-7)


def test_platt_equals_calibrated_classifier_cv_sigmoid(rng):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    s, y = binary(rng, 500)
    p = expit(s)
    given = frozen(lambda x: np.column_stack([1 - x[:, 0], x[:, 0]]))().fit(p[:, None], y)
    cc = CalibratedClassifierCV(FrozenEstimator(given), method="sigmoid").fit(p[:, None], y)
    ours = PlattScaling(smoothing=True).fit(p, y)  # the same score: the probability
    p2 = rng.uniform(0.01, 0.99, 200)
    np.testing.assert_allclose(ours.predict_proba(p2), cc.predict_proba(p2[:, None]),
                               atol=1e-7)


def test_platt_is_the_maximum_likelihood_and_matches_netcal(rng):
    s, y = binary(rng, 800)
    ours = PlattScaling().fit(s, y)
    # The score equations of logistic regression hold at the optimum.
    r = expit(ours.coef_ * s + ours.intercept_) - y
    assert abs(r.mean()) < 1e-12 and abs((r * s).mean()) < 1e-12
    assert ours.nll_ == pytest.approx(negative_log_likelihood(ours.predict_proba(s), y),
                                      rel=1e-12)
    with Quiet():
        from netcal.scaling import LogisticCalibration

        nl = LogisticCalibration().fit(expit(s), y)  # netcal: a·logit(p) + b
        s2 = rng.normal(size=200) * 3
        ref = nl.transform(expit(s2))
    # netcal's optimiser differentiates numerically: agreement to its accuracy, and its
    # optimum is no better than ours.
    np.testing.assert_allclose(ours.predict_proba(s2)[:, 1], ref, atol=3e-5)
    w, b = float(nl._sites["weights"]["values"][0]), float(nl._sites["bias"]["values"][0])
    u = w * s + b
    assert ours.nll_ <= np.mean(np.logaddexp(0, u) - y * u) + 1e-15


def test_platt_separation_and_its_remedy():
    s = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(sk.SeparationError, match="smoothing=True"):
        PlattScaling().fit(s, y)
    with pytest.raises(sk.SeparationError, match="quasi-complete"):
        PlattScaling().fit(np.array([0.0, 1.0, 1.0, 2.0]), [0, 0, 1, 1])
    with pytest.raises(sk.SeparationError, match="one-sided"):
        PlattScaling().fit(s, np.ones(6, dtype=int))
    ps = PlattScaling(smoothing=True).fit(s, y)
    assert ps.converged_ and 0 < ps.coef_ < 10
    p = ps.predict_proba(s)[:, 1]
    assert 0 < p[0] and p[-1] < 1  # finite parameters: never exactly 0 or 1


def test_platt_two_columns_and_excluded_class(rng):
    s, y = binary(rng, 300)
    z2 = np.column_stack([np.zeros_like(s) - 1.0, s - 1.0])  # z1 - z0 = s
    a = PlattScaling().fit(s, y)
    b = PlattScaling().fit(z2, y)
    assert b.coef_ == pytest.approx(a.coef_, rel=1e-12)
    # A row with class 0 excluded is certain and does not move the fit.
    z3 = np.vstack([z2, [[-np.inf, 0.3]]])
    c = PlattScaling().fit(z3, np.r_[y, 1])
    assert c.coef_ == pytest.approx(a.coef_, rel=1e-10)
    np.testing.assert_array_equal(c.predict_proba(np.array([[-np.inf, 5.0]])), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="binary score"):
        PlattScaling().fit(np.zeros((4, 3)), [0, 1, 2, 0])


# --------------------------------------------------------------------------- beta


def test_beta_matches_netcal_binary(rng):
    s, y = binary(rng, 600)
    ours = BetaCalibration().fit(s, y)
    with Quiet():
        from netcal.scaling import BetaCalibration as NetcalBeta

        nb = NetcalBeta().fit(expit(s), y)
        w = nb._sites["weights"]["values"]  # its `weights` property raises KeyError
        s2 = rng.normal(size=200) * 2
        ref = nb.transform(expit(s2))
    # netcal's L-BFGS-B differentiates numerically: parameters agree to about 1e-4.
    assert ours.a_[0] == pytest.approx(w[0], abs=2e-4)
    assert ours.b_[0] == pytest.approx(w[1], abs=2e-4)
    assert ours.c_[0] == pytest.approx(nb.intercept[0], abs=2e-4)
    np.testing.assert_allclose(ours.predict_proba(s2)[:, 1], ref, atol=1e-5)
    # Our optimum is at least as good as netcal's (finite-difference L-BFGS-B).
    u = w[0] * np.log(expit(s)) - w[1] * np.log(expit(-s)) + nb.intercept[0]
    theirs = np.mean(np.logaddexp(0, u) - y * u)
    assert ours.nll_ <= theirs + 1e-12


def test_beta_bounds_and_kkt(rng):
    # Scores that a decreasing-in-(1-s) map fits best: b would go negative, held at 0.
    s = rng.uniform(0.02, 0.98, 2000)
    y = (rng.random(2000) < s ** 3).astype(int)
    bc = BetaCalibration().fit(np.log(s / (1 - s)), y)
    a, b, c = bc.a_[0], bc.b_[0], bc.c_[0]
    assert a > 2 and b >= 0
    f1, f2 = np.log(s), -np.log1p(-s)
    r = expit(a * f1 + b * f2 + c) - y
    g = np.array([(r * f1).mean(), (r * f2).mean(), r.mean()])
    assert abs(g[0]) < 1e-7 and abs(g[2]) < 1e-7
    assert (b > 0 and abs(g[1]) < 1e-7) or (b == 0 and g[1] >= -1e-9)


def test_beta_multiclass_is_one_vs_rest_renormalised(rng):
    z, y = draw(rng, 800, 4)
    bc = BetaCalibration().fit(z, y)
    s = softmax_np(z)
    for j in range(4):  # each class alone, as a binary problem on its probability
        one = BetaCalibration().fit(np.log(s[:, j]) - np.log1p(-s[:, j]), (y == j).astype(int))
        assert bc.a_[j] == pytest.approx(one.a_[0], rel=1e-4, abs=1e-6)
        assert bc.c_[j] == pytest.approx(one.c_[0], rel=1e-4, abs=1e-6)
    z2, _ = draw(rng, 100, 4)
    s2 = softmax_np(z2)
    raw = expit(bc.a_ * np.log(s2) - bc.b_ * np.log1p(-s2) + bc.c_)
    np.testing.assert_allclose(bc.predict_proba(z2), raw / raw.sum(1, keepdims=True),
                               rtol=1e-12)


def test_beta_features_stay_finite_where_s_rounds_to_one():
    z = np.array([[60.0, 0.0, -5.0], [0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 2.0, 0.0]] * 5)
    y = np.array([0, 2, 2, 1] * 5)
    y[3] = 0
    bc = BetaCalibration(alpha=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sk.SeparationWarning)
        bc.fit(z, y)
    p = bc.predict_proba(z)
    assert np.isfinite(p).all() and np.allclose(p.sum(1), 1)


def test_beta_separation_raises_then_penalty_warns(rng):
    z, y = draw(rng, 200, 3)
    y = np.argmax(z, axis=1)  # every label is its row's top class
    with pytest.raises(sk.SeparationError, match="alpha"):
        BetaCalibration().fit(z, y)
    with pytest.warns(sk.SeparationWarning):
        bc = BetaCalibration(alpha=1.0).fit(z, y)
    assert np.isfinite(bc.a_).all()


# --------------------------------------------------------------------------- Dirichlet


def dirichlet_reference(z, y, lam, mu):
    """The plain formula of Kull et al. (2019) maximised by SciPy's BFGS with numerical
    gradients: an independent implementation."""
    n, k = z.shape
    lq = log_softmax(z, axis=1)

    def loss(theta):
        w, b = theta[: k * k].reshape(k, k), theta[k * k:]
        nll = -log_softmax(lq @ w.T + b, axis=1)[np.arange(n), y].mean()
        off = sum(w[i, j] ** 2 for i in range(k) for j in range(k) if i != j)
        return nll + lam / (k * (k - 1)) * off + mu / k * float(b @ b)

    res = minimize(loss, np.r_[np.eye(k).ravel(), np.zeros(k)], method="BFGS",
                   options={"gtol": 1e-9})
    return res.x[: k * k].reshape(k, k), res.x[k * k:], res.fun


@pytest.mark.parametrize(("lam", "mu"), [(1e-2, 1e-2), (0.5, 0.05)])
def test_dirichlet_equals_an_independent_maximisation(rng, lam, mu):
    z, y = draw(rng, 400, 3)
    dc = DirichletCalibration(lam, mu).fit(z, y)
    w, b, fun = dirichlet_reference(z, y, lam, mu)
    objective = dc.nll_ + odir_penalty(dc.weights_, dc.bias_, lam, mu)
    assert objective <= fun + 1e-10 and objective == pytest.approx(fun, abs=1e-9)
    np.testing.assert_allclose(dc.weights_, w, atol=2e-4)
    np.testing.assert_allclose(dc.bias_, b, atol=2e-4)
    p_ref = softmax_np(log_softmax(z, axis=1) @ w.T + b)
    np.testing.assert_allclose(dc.predict_proba(z), p_ref, atol=1e-5)


def test_dirichlet_unpenalised_contains_temperature_scaling(rng):
    z, y = draw(rng, 500, 3, tstar=2.0)
    dc = DirichletCalibration(0.0, check_separation=False).fit(z, y)
    ts = sk.TemperatureScaling().fit(z, y)
    assert dc.nll_ <= ts.nll_ + 1e-12  # W = I / T is one of its candidates
    fun = dirichlet_reference(z, y, 0.0, 0.0)[2]
    assert dc.nll_ == pytest.approx(fun, abs=1e-8)


def test_odir_penalty_definition():
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(4, 4)), rng.normal(size=4)
    by_loop = sum(w[i, j] ** 2 for i in range(4) for j in range(4) if i != j)
    assert odir_penalty(w, b, 0.3, 0.7) == pytest.approx(0.3 / 12 * by_loop + 0.7 / 4 * (b @ b),
                                                         rel=1e-14)
    assert odir_penalty(np.diag([5.0, 7.0]), [0.0, 0.0], 9.0, 9.0) == 0.0  # diagonal free
    with pytest.raises(ValueError, match="lambda_"):
        odir_penalty(w, b, -1.0, 0.0)
    with pytest.raises(ValueError, match=r"\(K, K\)"):
        odir_penalty(w[:3], b, 1.0, 1.0)


def test_dirichlet_separation_on_the_digits():
    z, y = load_example()
    with pytest.raises(sk.SeparationError, match=r"lambda_ > 0 and mu > 0"):
        DirichletCalibration(0.0).fit(z[:400], y[:400])


def test_dirichlet_binary_and_transform(rng):
    s, y = binary(rng, 300)
    dc = DirichletCalibration(1e-3).fit(s, y)
    p = dc.predict_proba(s)
    assert p.shape == (300, 2)
    np.testing.assert_allclose(p, softmax_np(dc.transform(s)), rtol=1e-12)


# --------------------------------------------------------------------------- binning


def test_histogram_binning_matches_netcal(rng):
    z, y = draw(rng, 700, 4)
    z2, _ = draw(rng, 300, 4)
    with Quiet():
        from netcal.binning import HistogramBinning as NetcalHB

        for bins in (5, 10, 15):
            ref = NetcalHB(bins=bins).fit(softmax_np(z), y).transform(softmax_np(z2))
            ours = HistogramBinning(bins).fit(z, y).predict_proba(z2)
            np.testing.assert_allclose(ours, ref, rtol=1e-12)
        s, yb = binary(rng, 400)
        ref = NetcalHB(bins=10).fit(expit(s), yb).transform(expit(s[:50]))
    np.testing.assert_allclose(HistogramBinning(10).fit(s, yb).predict_proba(s[:50])[:, 1],
                               ref, rtol=1e-12)


def test_histogram_bins_by_hand():
    # Away from the edges: a score read back from logits may move by an ulp.
    s = np.array([0.05, 0.1, 0.3, 0.35, 0.65, 0.9, 0.95])
    y = np.array([0, 0, 1, 0, 1, 1, 1])
    hb = HistogramBinning(4).fit(np.log(s / (1 - s)), y)
    np.testing.assert_array_equal(hb.counts_, [[2, 2, 1, 2]])
    np.testing.assert_allclose(hb.values_, [[0.0, 0.5, 1.0, 1.0]])
    hb = HistogramBinning(5).fit(np.log(s / (1 - s)), y)  # bin [0.4, 0.6) is empty
    assert hb.counts_[0, 2] == 0 and hb.values_[0, 2] == pytest.approx(0.5)
    q = HistogramBinning(2, strategy="quantile").fit(np.log(s / (1 - s)), y)
    assert q.edges_[0, 1] == pytest.approx(np.quantile(s, 0.5))
    np.testing.assert_array_equal(q.counts_, [[3, 4]])


def test_isotonic_matches_sklearn(rng):
    from sklearn.isotonic import IsotonicRegression

    s, y = binary(rng, 500)
    s2 = rng.normal(size=200) * 3
    ref = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(expit(s), y)
    ours = IsotonicCalibration().fit(s, y)
    np.testing.assert_allclose(ours.predict_proba(s2)[:, 1], ref.predict(expit(s2)),
                               atol=1e-14)


def test_isotonic_equals_calibrated_classifier_cv_and_netcal(rng):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    z, y = draw(rng, 600, 4)
    z2, _ = draw(rng, 200, 4)
    p, p2 = softmax_np(z), softmax_np(z2)
    given = frozen(lambda x: x)().fit(p, y)
    cc = CalibratedClassifierCV(FrozenEstimator(given), method="isotonic").fit(p, y)
    ours = IsotonicCalibration().fit(z, y).predict_proba(z2)
    np.testing.assert_allclose(ours, cc.predict_proba(p2), atol=1e-13)
    with Quiet():
        from netcal.binning import IsotonicRegression as NetcalIR

        ref = NetcalIR().fit(p, y).transform(p2)
    np.testing.assert_allclose(ours, ref, atol=1e-13)


def test_all_zero_row_is_uniform_never_nan():
    # Each class has only negatives in the bin [0.3, 0.4): a row there maps to 0 for all.
    p = np.array([[0.35, 0.36, 0.29], [0.29, 0.35, 0.36], [0.36, 0.29, 0.35],
                  [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([2, 0, 1, 0, 1, 2])
    hb = HistogramBinning(10).fit(np.log(p), y)
    row = np.log(np.array([[0.34, 0.33, 0.33]]))
    assert (hb._calibrate(sk.calibration._ovr.Scores(row, None, False)) == 0).all()
    np.testing.assert_allclose(hb.predict_proba(row), [[1 / 3, 1 / 3, 1 / 3]])
    # ... uniform over the admissible classes only when a class is excluded.
    ovr = sk.calibration._ovr
    sc = ovr.Scores(np.array([[0.0, -np.inf, 1.0, 2.0]]), None, False)
    np.testing.assert_array_equal(ovr.renormalise(np.zeros((1, 4)), sc, False),
                                  [[1 / 3, 0.0, 1 / 3, 1 / 3]])
    with Quiet():
        from netcal.binning import HistogramBinning as NetcalHB

        theirs = NetcalHB(bins=10).fit(p, y).transform(np.exp(row))
    assert np.isnan(theirs).all()  # the peer divides 0 by 0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_isotonic_map_is_monotone_and_rows_sum_to_one(seed):
    rng = np.random.default_rng(seed)
    s, y = binary(rng, 60)
    ic = IsotonicCalibration().fit(s, y)
    grid = np.linspace(-8, 8, 101)
    assert (np.diff(ic.predict_proba(grid)[:, 1]) >= 0).all()
    z, yk = draw(rng, 80, 3)
    for model in (IsotonicCalibration(), HistogramBinning(7)):
        p = model.fit(z, yk).predict_proba(z)
        assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, rtol=1e-14)


# --------------------------------------------------------------------------- shared


def fitted(cls, z, y, **kw):
    extra = {"smoothing": True} if cls is PlattScaling else {}
    if cls is DirichletCalibration:
        extra = {"lambda_": 1e-2}
    return cls(**extra, **kw).fit(z, y)


@pytest.mark.parametrize("cls", ALL)
def test_chunked_equals_whole(rng, cls):
    z, y = (binary(rng, 120) if cls is PlattScaling else draw(rng, 120, 3))
    a = fitted(cls, z, y).predict_proba(z)
    b = fitted(cls, z, y, chunk_rows=7).predict_proba(z)
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("cls", ALL[1:])
def test_masks_exclude_classes(rng, cls):
    z, y = draw(rng, 150, 4)
    where = rng.random((150, 4)) > 0.2
    where[np.arange(150), y] = True
    kw = {"lambda_": 1e-2} if cls is DirichletCalibration else {}
    a = cls(**kw).fit(z, y, where=where)
    p = a.predict_proba(z, where=where)
    assert (p[~where] == 0).all() and np.allclose(p.sum(axis=1), 1)
    zm = np.ma.masked_array(z, mask=~where)
    b = cls(**kw).fit(zm, y)
    np.testing.assert_allclose(b.predict_proba(zm), p, rtol=1e-9, atol=1e-12)
    zi = np.where(where, z, -np.inf)
    np.testing.assert_allclose(a.predict_proba(zi), p, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls", ALL)
def test_errors_name_the_argument(rng, cls):
    z, y = (binary(rng, 50) if cls is PlattScaling else draw(rng, 50, 3))
    with pytest.raises(AttributeError, match="not fitted"):
        cls().predict_proba(z)
    bad = np.array(z, dtype=float)
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"logits\[3"):
        fitted(cls, bad, y)
    with pytest.raises(ValueError, match="out of range"):
        fitted(cls, z, np.full(50, 7))
    if cls is not PlattScaling:
        m = fitted(cls, z, y)
        with pytest.raises(ValueError, match="fitted on 3"):
            m.predict_proba(np.zeros((2, 4)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="n_bins"):
        HistogramBinning(0)
    with pytest.raises(TypeError, match="n_bins"):
        HistogramBinning(2.5)
    with pytest.raises(ValueError, match="strategy"):
        HistogramBinning(strategy="kmeans")
    with pytest.raises(ValueError, match="lambda_"):
        DirichletCalibration(-1.0)
    with pytest.raises(ValueError, match="mu"):
        DirichletCalibration(1.0, mu=float("nan"))
    with pytest.raises(TypeError, match="alpha"):
        BetaCalibration(alpha="1")
    with pytest.raises(TypeError, match="smoothing"):
        PlattScaling(smoothing="yes")


def test_metrics_of_calibrated_probabilities_match_peers(rng):
    from sklearn.metrics import log_loss

    z, y = draw(rng, 900, 5)
    z2, y2 = draw(rng, 900, 5)
    with Quiet():
        from netcal.metrics import ECE

        for model in (BetaCalibration(), HistogramBinning(10), IsotonicCalibration(),
                      DirichletCalibration(1e-2)):
            p = model.fit(z, y).predict_proba(z2)
            assert expected_calibration_error(p, y2, n_bins=15) == pytest.approx(
                ECE(bins=15).measure(p, y2), rel=1e-12)
            if (p > 0).all():  # log_loss clips zeros at machine epsilon; we give inf
                assert negative_log_likelihood(p, y2) == pytest.approx(
                    log_loss(y2, p, labels=range(5)), rel=1e-12)


def test_calibrators_improve_the_digits_held_out_nll():
    z, y = load_example()
    rng = np.random.default_rng(0)
    perm = rng.permutation(y.size)
    f, t = np.sort(perm[:450]), np.sort(perm[450:])
    before = negative_log_likelihood(np.exp(log_softmax(z[t], axis=1)), y[t])
    beta = BetaCalibration(alpha=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sk.SeparationWarning)
        beta.fit(z[f], y[f])
    assert negative_log_likelihood(beta.predict_proba(z[t]), y[t]) < before


def test_reliability_comparison_of_several_calibrators(rng):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from softmaxkit.calibration import reliability_comparison

    z, y = draw(rng, 300, 3)
    models = {"beta": BetaCalibration().fit(z, y), "hist": HistogramBinning(5).fit(z, y),
              "iso": IsotonicCalibration().fit(z, y)}
    fig = reliability_comparison(softmax_np(z), models, y, logits=z, ncols=2)
    tops = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel() == "accuracy"]
    assert [ax.get_title().split("\n")[0] for ax in tops] == ["before calibration", "beta",
                                                              "hist", "iso"]
    # Each panel's ECE is the calibrator's on the same samples.
    ece = expected_calibration_error(models["iso"].predict_proba(z), y)
    assert f"ECE {ece:.4f}" in tops[3].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="logits="):
        reliability_comparison(softmax_np(z), [models["beta"]], y)
    with pytest.raises(ValueError, match="titles has 2 entries for 3 panels"):
        reliability_comparison(softmax_np(z), list(models.values())[:2], y, logits=z,
                               titles=["a", "b"])


@pytest.mark.parametrize("cls", ALL)
def test_every_backend_fits_and_predicts_as_numpy(rng, backend: Backend, cls):  # noqa: F811
    z, y = (binary(rng, 60) if cls is PlattScaling else draw(rng, 60, 3))
    ref = fitted(cls, z, y).predict_proba(z)
    zb = backend.to(z)
    got = fitted(cls, zb, backend.to(y)).predict_proba(zb)
    # Dask in, Dask out; any other array library is read with numpy.asarray (as the fit does).
    assert backend.is_native(got) if backend.name == "dask" else isinstance(got, np.ndarray)
    np.testing.assert_allclose(backend.back(got) if backend.name == "dask" else got, ref,
                               rtol=1e-7, atol=1e-9)
