"""MultinomialLogit against statsmodels MNLogit, scikit-learn and closed forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from softmaxkit.derivatives import softmax_jacobian
from softmaxkit.losses import softmax_loss_grad
from softmaxkit.mlogit import (
    ConvergenceWarning,
    MultinomialLogit,
    SeparationError,
    SeparationWarning,
    _blocks,
    results,
)

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

RTOL = 1e-6  # the bar for params, bse and llf against statsmodels


# --------------------------------------------------------------------------- real data


def _anes96() -> tuple[pd.DataFrame, pd.Series]:
    d = sm.datasets.anes96.load_pandas()
    return d.exog, d.endog.astype(int)


def _modechoice() -> tuple[pd.DataFrame, pd.Series]:
    """Greene & Hensher's travel-mode data, one row per traveller: the chosen mode on the
    traveller's household income and party size (both constant across the four rows)."""
    d = sm.datasets.modechoice.load_pandas().data
    chosen = d[d["choice"] == 1].reset_index(drop=True)
    return chosen[["hinc", "psize"]], chosen["mode"].astype(int).rename("mode")


def _fair() -> tuple[pd.DataFrame, pd.Series]:
    """Fair's affairs survey: the wife's occupation (6 classes) on five covariates."""
    d = sm.datasets.fair.load_pandas().data
    cols = ["rate_marriage", "age", "yrs_married", "children", "religious"]
    return d[cols], d["occupation"].astype(int).rename("occupation")


DATASETS = {"anes96": _anes96, "modechoice": _modechoice, "fair": _fair}


@pytest.fixture(scope="module")
def fits() -> dict[str, tuple]:
    out = {}
    for name, load in DATASETS.items():
        X, y = load()
        ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", maxiter=100)
        assert ref.mle_retvals["converged"]
        out[name] = (X, y, MultinomialLogit().fit(X, y), ref)
    return out


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.mark.parametrize("name", list(DATASETS))
def test_equals_statsmodels(fits, name):
    X, y, m, ref = fits[name]
    assert m.converged_
    np.testing.assert_allclose(np.asarray(m.params_), np.asarray(ref.params), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(m.bse_), np.asarray(ref.bse), rtol=RTOL)
    assert m.llf_ == pytest.approx(ref.llf, rel=1e-10)
    # statsmodels fits the null model iteratively; ours is the closed form sum n_k log(n_k/n)
    assert m.llnull_ == pytest.approx(ref.llnull, rel=1e-9)
    counts = y.value_counts().to_numpy()
    assert m.llnull_ == pytest.approx(np.sum(counts * np.log(counts / len(y))), rel=1e-14)
    # 1 − llf/llnull cancels: statsmodels' iterative llnull (~1e-10 off) shows at 1e-8
    assert m.prsquared_ == pytest.approx(ref.prsquared, rel=1e-6)
    assert m.aic_ == pytest.approx(ref.aic, rel=1e-10)
    assert m.bic_ == pytest.approx(ref.bic, rel=1e-10)
    assert m.llr_ == pytest.approx(ref.llr, rel=1e-6)
    assert m.llr_pvalue_ == pytest.approx(ref.llr_pvalue, rel=1e-5, abs=1e-300)
    assert (m.df_model_, m.df_resid_, m.nobs_) == (ref.df_model, ref.df_resid, ref.nobs)
    np.testing.assert_allclose(np.asarray(m.cov_params()), np.asarray(ref.cov_params()),
                               rtol=1e-6, atol=1e-12 * np.abs(np.asarray(ref.cov_params())).max())
    np.testing.assert_allclose(np.asarray(m.zvalues_), np.asarray(ref.tvalues), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(m.pvalues_), np.asarray(ref.pvalues), rtol=1e-5,
                               atol=1e-300)
    np.testing.assert_allclose(np.asarray(m.conf_int()), np.asarray(ref.conf_int()),
                               rtol=RTOL, atol=1e-9)
    # labels: statsmodels' exog names; the categories of y without the base
    assert m.param_names_ == list(ref.params.index)
    assert list(m.params_.columns) == sorted(set(y))[1:]
    np.testing.assert_allclose(m.predict_proba(X), ref.predict(sm.add_constant(X)), atol=1e-12)


@pytest.mark.parametrize("name", ["anes96", "modechoice"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_marginal_effects_equal_statsmodels(fits, name, at):
    _, _, m, ref = fits[name]
    me = m.marginal_effects(at)
    sme = ref.get_margeff(at=at)
    np.testing.assert_allclose(np.asarray(me.effects), sme.margeff, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.asarray(me.bse), sme.margeff_se, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(me.pvalues), sme.pvalues, rtol=1e-5, atol=1e-300)
    # the effects on the K probabilities sum to zero for every feature
    np.testing.assert_allclose(np.asarray(me.effects).sum(axis=1), 0.0, atol=1e-15)


def test_no_intercept_equals_statsmodels():
    X, y = _modechoice()
    m = MultinomialLogit(fit_intercept=False).fit(X, y)
    ref = sm.MNLogit(y, X).fit(disp=0, method="newton", maxiter=100)
    np.testing.assert_allclose(np.asarray(m.params_), np.asarray(ref.params), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(m.bse_), np.asarray(ref.bse), rtol=RTOL)
    assert m.llf_ == pytest.approx(ref.llf, rel=1e-10)
    assert m.param_names_ == ["hinc", "psize"]
    # p(K−1) slopes; statsmodels subtracts one per category even without a constant
    assert (m.df_model_, ref.df_model) == (6, 3)


@pytest.mark.parametrize("name", ["anes96", "modechoice"])
def test_probabilities_equal_sklearn(fits, name):
    lm = pytest.importorskip("sklearn.linear_model")
    X, y, m, _ = fits[name]
    # C = inf is scikit-learn's "no penalty" (penalty=None is deprecated since 1.8)
    sk = lm.LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X.to_numpy(), y.to_numpy())
    np.testing.assert_array_equal(sk.classes_, m.categories_)
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X.to_numpy()),
                               atol=1e-7)
    np.testing.assert_array_equal(m.predict(X), sk.predict(X.to_numpy()))


# --------------------------------------------------------------------------- the base


def test_any_base_equals_statsmodels_on_recoded_labels():
    """statsmodels always uses the first sorted label; recode y so that our base comes first."""
    X, y = _anes96()
    m = MultinomialLogit(base=4).fit(X, y)
    order = [4, 0, 1, 2, 3, 5, 6]
    recoded = y.map({lab: i for i, lab in enumerate(order)})
    ref = sm.MNLogit(recoded, sm.add_constant(X)).fit(disp=0, method="newton", maxiter=100)
    assert m.base_ == 4
    assert list(m.params_.columns) == order[1:]
    np.testing.assert_allclose(np.asarray(m.params_), np.asarray(ref.params), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(m.bse_), np.asarray(ref.bse), rtol=RTOL)
    assert m.llf_ == pytest.approx(ref.llf, rel=1e-10)


def test_change_of_base_is_the_documented_linear_map(fits):
    X, y, m0, _ = fits["anes96"]
    m3 = MultinomialLogit(base=3).fit(X, y)
    assert m3.llf_ == pytest.approx(m0.llf_, rel=1e-12)
    # beta^(3)_k = beta^(0)_k - beta^(0)_3, with beta^(0)_0 = 0
    b0 = np.asarray(m0.params_)
    full = np.column_stack([np.zeros(b0.shape[0]), b0])  # categories 0..6
    expected = (full - full[:, [3]])[:, [0, 1, 2, 4, 5, 6]]
    np.testing.assert_allclose(np.asarray(m3.params_), expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m3.predict_proba(X), m0.predict_proba(X), atol=1e-12)
    # rebase() applies the map without refitting, covariance included
    r3 = m0.rebase(3)
    np.testing.assert_allclose(np.asarray(r3.params_), np.asarray(m3.params_), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(np.asarray(r3.bse_), np.asarray(m3.bse_), rtol=1e-8)
    np.testing.assert_allclose(np.asarray(r3.cov_params()), np.asarray(m3.cov_params()),
                               rtol=1e-7, atol=1e-13)
    assert r3.llf_ == m0.llf_
    for at in ("overall", "mean"):
        np.testing.assert_allclose(np.asarray(m3.marginal_effects(at).effects),
                                   np.asarray(m0.marginal_effects(at).effects), atol=1e-12)
        np.testing.assert_allclose(np.asarray(m3.marginal_effects(at).bse),
                                   np.asarray(m0.marginal_effects(at).bse), rtol=1e-7)


def test_string_labels_pandas_and_polars_inputs():
    pl = pytest.importorskip("polars")
    X, y = _anes96()
    names = np.array(["SD", "WD", "ID", "II", "IR", "WR", "SR"], dtype=object)
    ys = pd.Series(names[y.to_numpy()], name="party")
    m = MultinomialLogit(base="II").fit(X, ys)
    m_np = MultinomialLogit(base=3).fit(X.to_numpy(), y.to_numpy())
    # sorted string labels: ID II IR SD SR WD WR; base II
    assert list(m.categories_) == ["ID", "II", "IR", "SD", "SR", "WD", "WR"]
    assert list(m.params_.columns) == ["ID", "IR", "SD", "SR", "WD", "WR"]
    assert m.params_.columns.name == "party"
    assert m.param_names_ == ["const", *X.columns]
    assert m_np.param_names_ == ["const", "x1", "x2", "x3", "x4", "x5"]
    assert not hasattr(m_np, "feature_names_in_")
    np.testing.assert_array_equal(m.feature_names_in_, X.columns)
    by_label = dict(zip(["SD", "WD", "ID", "II", "IR", "WR", "SR"], range(7), strict=True))
    for lab in m.params_.columns:
        np.testing.assert_allclose(m.params_[lab].to_numpy(),
                                   np.asarray(m_np.params_[by_label[lab]]), rtol=1e-9,
                                   atol=1e-12)
    assert m.llf_ == pytest.approx(m_np.llf_, rel=1e-12)
    mp = MultinomialLogit(base="II").fit(pl.from_pandas(X), pl.Series("party", ys.to_list()))
    np.testing.assert_allclose(np.asarray(mp.params_), np.asarray(m.params_), rtol=1e-12)
    assert mp.param_names_ == m.param_names_ and mp.params_.columns.name == "party"
    pred = m.predict(X.iloc[:50])
    assert pred.dtype == object and set(pred) <= set(names)
    # frames are matched by column name at prediction time
    np.testing.assert_allclose(m.predict_proba(X[X.columns[::-1]]), m.predict_proba(X))


# --------------------------------------------------------------------------- derivatives


def _small_problem(seed: int = 0, n: int = 40, k: int = 4, p: int = 3):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    codes = rng.integers(0, k, size=n)
    theta = rng.normal(scale=0.5, size=(p, k - 1))
    return x, codes, theta


@pytest.mark.parametrize("base", [0, 2])
def test_gradient_and_information_from_the_library_derivatives(base):
    """The blocked information equals Σ_i J_i ⊗ x_i x_iᵀ with J_i = softmax_jacobian rows
    (restricted to the non-base categories); the gradient equals −Σ x_i ⊗ softmax_loss_grad."""
    x, codes, theta = _small_problem()
    k = theta.shape[1] + 1
    st = _blocks._evaluate(_blocks._Data.of(x, codes, k), theta, base, derivatives=True)
    eta = x @ np.insert(theta, base, 0.0, axis=1)
    jac = softmax_jacobian(eta)  # (n, K, K) = diag(p) − p pᵀ per row
    nb = [c for c in range(k) if c != base]
    info = np.einsum("ikl,ia,ib->kalb", jac[:, nb][:, :, nb], x, x).reshape(
        len(nb) * x.shape[1], len(nb) * x.shape[1]
    )
    np.testing.assert_allclose(st.info, info, rtol=1e-12, atol=1e-13)
    onehot = np.eye(k)[codes]
    g = -(x.T @ softmax_loss_grad(eta, onehot))[:, nb]
    np.testing.assert_allclose(st.grad, g.reshape(-1, order="F"), rtol=1e-12, atol=1e-13)
    loglik = -np.sum(np.log(np.take_along_axis(
        np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True), codes[:, None], axis=1)))
    assert -st.llf == pytest.approx(loglik, rel=1e-13)


def test_row_blocks_do_not_change_the_fit(monkeypatch):
    """Forcing many small row blocks gives the same sums as one block."""
    X, y = _anes96()
    whole = MultinomialLogit().fit(X, y)
    monkeypatch.setattr(_blocks, "_BLOCK_ELEMENTS", 1000)  # 256-row blocks: 4 of them
    blocked = MultinomialLogit().fit(X, y)
    np.testing.assert_allclose(np.asarray(blocked.params_), np.asarray(whole.params_),
                               rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(np.asarray(blocked.bse_), np.asarray(whole.bse_), rtol=1e-11)
    assert blocked.llf_ == pytest.approx(whole.llf_, rel=1e-14)


def test_chi2_survival_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for x, k in [(0.5, 1), (3.0, 2), (30.0, 7), (577.0, 30), (1e4, 400), (2.0, 150)]:
        assert results._chi2_sf(x, k) == pytest.approx(stats.chi2.sf(x, k), rel=1e-12,
                                                       abs=1e-300)
    assert results._chi2_sf(0.0, 3) == 1.0


# --------------------------------------------------------------------------- penalty


def test_l2_penalty_is_the_penalised_optimum():
    """Stationarity of ℓ(B) − α/2 Σ β² (intercepts free), checked with an independent
    quasi-Newton optimiser of the same objective written with scipy.special.logsumexp."""
    opt = pytest.importorskip("scipy.optimize")
    special = pytest.importorskip("scipy.special")
    X, y = _modechoice()
    alpha = 5.0
    m = MultinomialLogit(penalty="l2", alpha=alpha, base=2).fit(X, y)
    x = np.column_stack([np.ones(len(X)), X.to_numpy()])
    codes = np.searchsorted([1, 2, 3, 4], y.to_numpy())
    nb = [0, 2, 3]

    def negobj(v):
        b = np.zeros((3, 4))
        b[:, nb] = v.reshape(3, 3, order="F")
        eta = x @ b
        ll = np.sum(eta[np.arange(len(x)), codes] - special.logsumexp(eta, axis=1))
        return -(ll - alpha / 2 * np.sum(b[1:] ** 2))

    def neggrad(v):
        b = np.zeros((3, 4))
        b[:, nb] = v.reshape(3, 3, order="F")
        eta = x @ b
        prob = special.softmax(eta, axis=1)
        g = x.T @ (np.eye(4)[codes] - prob)
        g[1:] -= alpha * b[1:]
        return -g[:, nb].reshape(-1, order="F")

    ref = opt.minimize(negobj, np.zeros(9), jac=neggrad, method="BFGS",
                       options={"gtol": 1e-10, "maxiter": 10000})
    np.testing.assert_allclose(np.asarray(m.params_).reshape(-1, order="F"), ref.x,
                               rtol=1e-5, atol=1e-7)
    unpen = MultinomialLogit(base=2).fit(X, y)
    assert m.llf_ < unpen.llf_  # the penalty costs likelihood
    assert np.sum(np.asarray(m.params_)[1:] ** 2) < np.sum(np.asarray(unpen.params_)[1:] ** 2)


# --------------------------------------------------------------------------- separation


def test_complete_separation_raises_naming_categories():
    x = np.arange(12.0)[:, None]
    y = np.array(["lo"] * 4 + ["mid"] * 4 + ["hi"] * 4)
    with pytest.raises(SeparationError, match="complete separation") as info:
        MultinomialLogit(base="mid").fit(x, y)
    err = info.value
    assert err.kind == "complete"
    assert set(err.categories) == {"lo", "mid", "hi"}
    assert "x1" in err.features
    assert "does not exist" in str(err) and "penalty='l2'" in str(err)


def _quasi_separated():
    rng = np.random.default_rng(3)
    n = 90
    z = rng.normal(size=n)
    d = (np.arange(n) % 3 == 0).astype(float)  # a dummy
    y = rng.choice(np.array(["a", "b", "c"]), size=n)
    y[d == 1] = "c"  # every d = 1 is a "c"; "c" also occurs with d = 0
    return np.column_stack([z, d]), y


def test_quasi_complete_separation_raises_and_penalty_warns():
    x, y = _quasi_separated()
    with pytest.raises(SeparationError, match="quasi-complete") as info:
        MultinomialLogit(base="a").fit(x, y)
    assert info.value.kind == "quasi-complete"
    assert info.value.categories == ["c"]
    assert info.value.features == ["x2"]  # the dummy, not the continuous feature
    c_count = int(np.sum(x[:, 1] == 1))
    assert f"{c_count} of its {int(np.sum(y == 'c'))} observations" in str(info.value)
    with pytest.warns(SeparationWarning, match="category 'c'") as rec:
        m = MultinomialLogit(base="a", penalty="l2", alpha=1.0).fit(x, y)
    assert "determined by the penalty" in str(rec[0].message)
    assert m.converged_ and np.all(np.isfinite(np.asarray(m.params_)))


def test_overlapping_data_raise_nothing():
    X, y = _modechoice()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MultinomialLogit(check_separation=True).fit(X, y)
        MultinomialLogit(penalty="l2", alpha=0.1).fit(X, y)


# --------------------------------------------------------------------------- API


def test_summary_layout(fits):
    m = fits["anes96"][2]
    text = str(m.summary())
    assert "Multinomial Logit Regression Results" in text
    assert "Base category:                       0" in text
    assert "Log-Likelihood:               -1461.9" in text
    assert "LLR p-value:               1.822e-102" in text
    # statsmodels' first coefficient row, same rounding
    assert "const               -0.3734      0.630     -0.593      0.553   -1.608    0.861" \
        in text
    assert text.count("PID=") == 6


def test_get_set_params_and_clone():
    base = pytest.importorskip("sklearn.base")
    m = MultinomialLogit(base="x", penalty="l2", alpha=2.0, tol=1e-9)
    assert m.get_params() == {"base": "x", "fit_intercept": True, "penalty": "l2",
                              "alpha": 2.0, "tol": 1e-9, "max_iter": 100,
                              "check_separation": "auto"}
    c = base.clone(m)
    assert c is not m and c.get_params() == m.get_params()
    assert m.set_params(alpha=3.0) is m and m.alpha == 3.0
    with pytest.raises(ValueError, match="unknown parameter 'C'"):
        m.set_params(C=1.0)
    assert repr(MultinomialLogit(base=2)) == "MultinomialLogit(base=2)"


def test_convergence_warning():
    X, y = _anes96()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        m = MultinomialLogit(max_iter=1, check_separation=False).fit(X, y)
    assert not m.converged_ and m.n_iter_ == 1


@pytest.mark.parametrize(
    ("kwargs", "X", "y", "exc", "match"),
    [
        ({"base": 9}, [[0.0], [1.0], [2.0]], [0, 1, 1], ValueError,
         r"base=9 is not a label of y; the labels are \['0', '1'\]"),
        ({"base": "1"}, [[0.0], [1.0], [2.0]], [0, 1, 1], ValueError, "base='1' is not a label"),
        ({}, [[0.0], [1.0], [2.0]], [1, 1, 1], ValueError, "at least 2 categories"),
        ({}, [[0.0], [np.nan], [2.0]], [0, 1, 1], ValueError, r"X\[1, 0\] .* is nan"),
        ({}, [[0.0], [1.0]], [0, 1, 1], ValueError, "y has 3 labels but X has 2 rows"),
        ({}, [0.0, 1.0, 2.0], [0, 1, 1], ValueError, "expected 2-D"),
        ({}, [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], [0, 1, 0, 1], ValueError,
         "rank deficient: the columns 'x1', 'x2'"),
        ({}, [[1.0, 0.0], [1.0, 2.0], [1.0, 4.0], [1.0, 1.0]], [0, 1, 1, 0], ValueError,
         "fit_intercept=False"),
        ({"penalty": "l1"}, [[0.0], [1.0]], [0, 1], ValueError, "penalty must be None or 'l2'"),
        ({"alpha": 1.0}, [[0.0], [1.0]], [0, 1], ValueError, "pass penalty='l2'"),
        ({"penalty": "l2", "alpha": -1.0}, [[0.0], [1.0]], [0, 1], ValueError, "alpha must"),
        ({"tol": 0.0}, [[0.0], [1.0]], [0, 1], ValueError, "tol must"),
        ({"max_iter": 0}, [[0.0], [1.0]], [0, 1], ValueError, "max_iter must"),
        ({}, [[0.0], [1.0], [2.0]], [0, None, 1], ValueError, r"y\[1\] is missing"),
    ],
)
def test_errors(kwargs, X, y, exc, match):
    with pytest.raises(exc, match=match):
        MultinomialLogit(**kwargs).fit(np.asarray(X), np.asarray(y, dtype=object)
                                       if None in y else np.asarray(y))


def test_frame_errors_name_the_column():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": ["u", "v", "u", "v"]})
    with pytest.raises(TypeError, match="X column 'b' has dtype"):
        MultinomialLogit().fit(X, [0, 1, 0, 1])
    X = pd.DataFrame({"a": [0.0, 1.0, np.nan, 3.0]})
    with pytest.raises(ValueError, match=r"row 2, column 'a'"):
        MultinomialLogit().fit(X, [0, 1, 0, 1])


def test_unfitted_and_shape_errors(fits):
    with pytest.raises(AttributeError, match="not fitted yet"):
        MultinomialLogit().predict_proba(np.zeros((1, 2)))
    X, _, m, _ = fits["anes96"]
    with pytest.raises(ValueError, match="X has 2 features; the model was fitted with 5"):
        m.predict_proba(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="lacks the fitted column"):
        m.predict(X.drop(columns="age"))
    with pytest.raises(ValueError, match="at must be"):
        m.marginal_effects("median")
    with pytest.raises(ValueError, match="alpha must be in"):
        m.conf_int(1.5)


def test_conf_int_level(fits):
    _, _, m, ref = fits["modechoice"]
    np.testing.assert_allclose(np.asarray(m.conf_int(0.1)), np.asarray(ref.conf_int(0.1)),
                               rtol=RTOL, atol=1e-9)
    ci = np.asarray(m.conf_int(0.32))
    half = (ci[:, 1] - ci[:, 0]) / 2
    z = 0.994457883209753  # Φ⁻¹(0.84)
    np.testing.assert_allclose(half, z * np.asarray(m.bse_).reshape(-1, order="F"), rtol=1e-12)
    assert math.isclose(float(np.asarray(m.params_).reshape(-1, order="F")[0]),
                        float((ci[0, 0] + ci[0, 1]) / 2), rel_tol=1e-12)


def test_two_categories_is_the_binary_logit():
    d = sm.datasets.anes96.load_pandas()
    X, vote = d.exog, d.data["vote"].astype(int)
    m = MultinomialLogit().fit(X, vote == 1)  # boolean labels: base False
    ref = sm.Logit(vote, sm.add_constant(X)).fit(disp=0, method="newton")
    assert list(m.categories_) == [False, True]
    np.testing.assert_allclose(np.asarray(m.params_)[:, 0], np.asarray(ref.params), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(m.bse_)[:, 0], np.asarray(ref.bse), rtol=RTOL)
    assert m.llf_ == pytest.approx(ref.llf, rel=1e-12)


def test_without_pandas_results_are_arrays(monkeypatch):
    monkeypatch.setattr(results, "_pandas", lambda: None)
    x, y = _modechoice()
    m = MultinomialLogit(base=3).fit(x.to_numpy(), y.to_numpy())
    assert type(m.params_) is np.ndarray and m.params_.shape == (3, 3)
    assert m.param_names_ == ["const", "x1", "x2"]
    assert type(m.cov_params()) is np.ndarray and m.cov_params().shape == (9, 9)
    assert m.conf_int().shape == (9, 2)
    assert np.asarray(m.marginal_effects().effects).shape == (2, 4)
    assert "mode" not in str(m.summary()) and "y=1" in str(m.summary())


def test_complex_x_is_refused():
    """The last commit fitted the real part with only a NumPy ComplexWarning."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2)) + 1j
    y = np.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"^MultinomialLogit.fit: X has complex dtype "
                           r"complex128; expected real numbers"):
            MultinomialLogit().fit(x, y)


def _without_scipy(monkeypatch):
    import sys

    for name in ("scipy", "scipy.sparse", "scipy.optimize"):
        monkeypatch.setitem(sys.modules, name, None)


def test_without_scipy_separation_not_checked_warns_once(monkeypatch):
    # Issue 14: in the core install the separated data used to fit with no word at all.
    x, y = _quasi_separated()
    _without_scipy(monkeypatch)
    hint = (
        "the separation test needs scipy, which is not installed: "
        'pip install "softmaxkit[stats]"'
    )
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = MultinomialLogit(base="a").fit(x, y)
    said = [r for r in rec if issubclass(r.category, SeparationWarning)]
    assert len(said) == 1
    assert str(said[0].message) == (
        "MultinomialLogit.fit: separation was not checked, so these estimates may diverge "
        f"(separated categories) without an error: {hint}"
    )
    assert m.converged_
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        MultinomialLogit(base="a", penalty="l2", alpha=1.0).fit(x, y)
    said = [str(r.message) for r in rec if issubclass(r.category, SeparationWarning)]
    assert said == [
        "MultinomialLogit.fit: separation was not checked, so some estimates may be "
        f"determined by the penalty alone: {hint}"
    ]


def test_without_scipy_singular_fit_says_separation_untested(monkeypatch):
    x = np.arange(12.0)[:, None]
    y = np.array(["lo"] * 4 + ["mid"] * 4 + ["hi"] * 4)
    _without_scipy(monkeypatch)
    with pytest.raises(ValueError, match="separation could not be tested") as info:
        MultinomialLogit(base="mid").fit(x, y)
    assert str(info.value).endswith(
        'separation was not tested: the separation test needs scipy, which is not installed: '
        'pip install "softmaxkit[stats]"'
    )
