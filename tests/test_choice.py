"""ConditionalLogit (the conditional logit): Greene's published TravelMode table, xlogit live,
Biogeme recorded, unbalanced choice sets, closed forms, invariants and every bad-data refusal."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import softmaxkit
from softmaxkit.choice import ChoiceDataError, ConditionalLogit, _likelihood
from softmaxkit.mlogit import SeparationError

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

MODES = {1: "air", 2: "train", 3: "bus", 4: "car"}  # statsmodels' coding of `mode`
RTOL = 1e-6  # the bar against xlogit: params, bse and llf


def travelmode() -> pd.DataFrame:
    """Greene's TravelMode (statsmodels' ``modechoice``): 210 travellers × 4 modes."""
    d = sm.datasets.modechoice.load_pandas().data.copy()
    d["alt"] = d["mode"].map(MODES)
    d["id"] = d["individual"].astype(int)
    d["hinc_air"] = d["hinc"] * (d["alt"] == "air")
    # xlogit wants each group's rows sorted by alternative label (see its base handling).
    return d.sort_values(["id", "alt"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def tm() -> pd.DataFrame:
    return travelmode()


@pytest.fixture(scope="module")
def clogit(tm: pd.DataFrame) -> ConditionalLogit:
    return ConditionalLogit(["gc", "ttme"], ["hinc"], base="car").fit(tm)


# --------------------------------------------------------------------------- published

# Greene, Econometric Analysis, 5th ed. (2003), Table 21.11 (p. 729), the conditional logit of
# TravelMode with ASCs (car the base), GC, TTME and HINC×AIR; the values to full precision are
# R mlogit's fit of that table as recorded in statsmodels' discrete-choice test results
# ("Replicate Greene (2003: Page 729)"): llf −199.1284, llnull −283.7588, AIC 410.2567.
GREENE_PARAMS = {"gc": -0.0155015067043374, "ttme": -0.0961246217793847,
                 "const:air": 5.20743292761953, "hinc_air": 0.0132870137736127,
                 "const:train": 3.86903570401292, "const:bus": 3.16319033000995}
GREENE_BSE = {"gc": 0.00440799307835216, "ttme": 0.0104398465313473,
              "const:air": 0.779055142508082, "hinc_air": 0.0102624069997369,
              "const:train": 0.443126852001293, "const:bus": 0.450265930527341}


def test_greene_published_table(tm: pd.DataFrame) -> None:
    m = ConditionalLogit(["gc", "ttme", "hinc_air"], base="car").fit(tm)
    names = list(GREENE_PARAMS)
    # R's own stopping rule leaves ~1e-6 relative in its constants: 2e-6 relative.
    np.testing.assert_allclose(m.params_[names], [GREENE_PARAMS[n] for n in names], rtol=2e-6)
    np.testing.assert_allclose(m.bse_[names], [GREENE_BSE[n] for n in names], rtol=2e-6)
    assert round(m.llf_, 4) == -199.1284
    assert round(m.llnull_, 4) == round(-210 * math.log(4), 4) == -291.1218
    assert round(m.aic_, 4) == 410.2567
    assert m.converged_


# Biogeme 3.3.2 (benchmarks/peers/choice_biogeme.py, Rao–Cramér standard errors from its
# analytic Hessian) on the same model: gc, ttme generic, hinc individual, ASCs, base car.
BIOGEME_CLOGIT = {
    "const:air": (5.8748134059899915, 0.8020903434981862),
    "const:bus": (4.1302839900521775, 0.6763627836104034),
    "const:train": (5.549857343063736, 0.6404244355301922),
    "gc": (-0.010927351986017669, 0.0045877513186581564),
    "hinc:air": (-0.005373491815462789, 0.011529403321605668),
    "hinc:bus": (-0.02858418501979662, 0.01544418046528196),
    "hinc:train": (-0.056561864649906764, 0.013973349610727348),
    "ttme": (-0.09546055219255901, 0.010473199389946427),
}
BIOGEME_CLOGIT_LLF = -189.52515257993394


def test_biogeme_recorded(clogit: ConditionalLogit) -> None:
    names = list(BIOGEME_CLOGIT)
    np.testing.assert_allclose(clogit.params_[names], [BIOGEME_CLOGIT[n][0] for n in names],
                               rtol=1e-6)
    np.testing.assert_allclose(clogit.bse_[names], [BIOGEME_CLOGIT[n][1] for n in names],
                               rtol=1e-6)
    assert clogit.llf_ == pytest.approx(BIOGEME_CLOGIT_LLF, rel=1e-12)


# --------------------------------------------------------------------------- xlogit live


def _xlogit_fit(data: pd.DataFrame, generic: list[str], isvars: list[str],
                avail: np.ndarray | None = None, init: np.ndarray | None = None) -> object:
    xlogit = pytest.importorskip("xlogit")
    names = generic + isvars
    x = xlogit.MultinomialLogit()
    x.fit(X=data[names], y=data["choice"], varnames=names, isvars=isvars or None,
          alts=data["alt"], ids=data["id"], avail=avail, base_alt="car", fit_intercept=True,
          init_coeff=init, verbose=0)
    return x


def _xlogit_names(x: object) -> list[str]:
    out = []
    for n in map(str, x.coeff_names):
        out.append("const:" + n.removeprefix("_intercept.") if n.startswith("_intercept.")
                   else n.replace(".", ":"))
    return out


def _compare_xlogit(m: ConditionalLogit, data: pd.DataFrame, generic: list[str],
                    isvars: list[str], avail: np.ndarray | None = None) -> None:
    # From xlogit's own start its BFGS stops ~1e-4 short of the optimum (|d·g| < 1e-6) ...
    x0 = _xlogit_fit(data, generic, isvars, avail)
    names = _xlogit_names(x0)
    assert sorted(names) == sorted(m.param_names_)
    np.testing.assert_allclose(x0.coeff_, m.params_[names], rtol=1e-3, atol=1e-5)
    # ... so it is restarted from ours: its BFGS must find nothing to improve (a point that
    # is not the optimum moves), and its ℓ and standard errors there must agree.
    init = m.params_[names].to_numpy()
    x = _xlogit_fit(data, generic, isvars, avail, init=init)
    np.testing.assert_allclose(x.coeff_, init, rtol=RTOL, atol=1e-9)
    assert x.loglikelihood == pytest.approx(m.llf_, rel=RTOL)
    np.testing.assert_allclose(x.stderr, m.bse_[names], rtol=RTOL)


def test_xlogit_live(clogit: ConditionalLogit, tm: pd.DataFrame) -> None:
    _compare_xlogit(clogit, tm, ["gc", "ttme"], ["hinc"])


def _unbalanced(tm: pd.DataFrame) -> np.ndarray:
    """The bus is unavailable to travellers with id divisible by 3 who did not choose it."""
    return ~((tm["alt"] == "bus") & (tm["id"] % 3 == 0) & (tm["choice"] == 0)).to_numpy()


def test_unbalanced_against_xlogit_avail(tm: pd.DataFrame) -> None:
    keep = _unbalanced(tm)
    long = tm[keep].reset_index(drop=True)
    m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car").fit(long)
    # llnull: equal shares among each group's *available* alternatives.
    sizes = long.groupby("id").size()
    assert m.llnull_ == pytest.approx(-np.log(sizes).sum(), rel=1e-14)
    assert (sizes == 3).sum() == 59  # 70 ids divisible by 3, 11 of them chose the bus
    _compare_xlogit(m, tm, ["gc", "ttme"], ["hinc"], avail=keep.astype(int))
    p = m.predict_proba(tm[keep])
    assert np.isfinite(p).all() and (p > 0).all()
    np.testing.assert_allclose(pd.Series(p).groupby(long["id"]).sum(), 1.0, rtol=1e-14)


# --------------------------------------------------------------------------- the API


def test_names_and_statistics(clogit: ConditionalLogit) -> None:
    assert clogit.param_names_ == ["const:air", "const:bus", "const:train", "gc", "ttme",
                                   "hinc:air", "hinc:bus", "hinc:train"]
    assert list(clogit.params_.index) == clogit.param_names_
    assert clogit.base_ == "car" and list(clogit.alternatives_) == ["air", "bus", "car", "train"]
    k = 8
    assert clogit.aic_ == pytest.approx(-2 * clogit.llf_ + 2 * k)
    assert clogit.bic_ == pytest.approx(-2 * clogit.llf_ + k * math.log(210))
    assert clogit.prsquared_ == pytest.approx(1 - clogit.llf_ / clogit.llnull_)
    assert clogit.nobs_ == 210
    np.testing.assert_allclose(clogit.zvalues_, clogit.params_ / clogit.bse_)
    z = clogit.zvalues_["gc"]
    assert clogit.pvalues_["gc"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    ci = clogit.conf_int(0.1)
    np.testing.assert_allclose(ci["upper"] - clogit.params_, 1.6448536269514722 * clogit.bse_)
    np.testing.assert_allclose(np.sqrt(np.diag(clogit.cov_params_)), clogit.bse_)
    text = str(clogit.summary())
    for name in clogit.param_names_:
        assert re.search(rf"^{re.escape(name)}\s+-?\d", text, re.M), name
    assert "-189.5252" in text and "Base alternative:" in text
    assert softmaxkit.ConditionalLogit is ConditionalLogit


def test_polars_equals_pandas(tm: pd.DataFrame, clogit: ConditionalLogit) -> None:
    pl = pytest.importorskip("polars")
    m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car").fit(pl.from_pandas(tm))
    np.testing.assert_array_equal(m.params_, clogit.params_)
    np.testing.assert_array_equal(m.predict_proba(pl.from_pandas(tm)), clogit.predict_proba(tm))


def test_predict_proba_is_the_masked_softmax(tm: pd.DataFrame, clogit: ConditionalLogit) -> None:
    # Rows in another order, one alternative dropped from some groups: aligned with the rows.
    rng = np.random.default_rng(3)
    new = tm[_unbalanced(tm)].sample(frac=1.0, random_state=4).reset_index(drop=True)
    p = clogit.predict_proba(new)
    b = clogit.params_
    v = (new["gc"] * b["gc"] + new["ttme"] * b["ttme"]
         + new["alt"].map(lambda a: b.get(f"const:{a}", 0.0))
         + new["hinc"] * new["alt"].map(lambda a: b.get(f"hinc:{a}", 0.0)))
    ev = np.exp(v)
    expected = ev / ev.groupby(new["id"]).transform("sum")
    np.testing.assert_allclose(p, expected, rtol=1e-13)
    pred = clogit.predict(new)
    best = expected.groupby(new["id"]).transform("max") == expected
    np.testing.assert_array_equal(pred, best.astype(int))
    assert pred.sum() == 210
    del rng


def test_weights_equal_replication(tm: pd.DataFrame) -> None:
    w = tm.assign(w=np.where(tm["id"] % 2 == 0, 2.0, 1.0))
    twice = pd.concat([tm, tm[tm["id"] % 2 == 0].assign(id=lambda f: f["id"] + 1000)])
    a = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", weights="w").fit(w)
    b = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car").fit(twice)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-10)
    np.testing.assert_allclose(a.bse_, b.bse_, rtol=1e-10)
    assert a.llf_ == pytest.approx(b.llf_, rel=1e-13)


def test_block_size_does_not_change_the_fit(tm: pd.DataFrame, clogit: ConditionalLogit,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_likelihood, "_BLOCK_ELEMENTS", 1)  # 64 groups per block
    m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car").fit(tm)
    np.testing.assert_allclose(m.params_, clogit.params_, rtol=1e-12)
    assert m.llf_ == pytest.approx(clogit.llf_, rel=1e-14)


def test_base_changes_only_the_constants(tm: pd.DataFrame, clogit: ConditionalLogit) -> None:
    m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="air").fit(tm)
    assert m.llf_ == pytest.approx(clogit.llf_, rel=1e-12)
    assert m.params_["gc"] == pytest.approx(clogit.params_["gc"], rel=1e-8)
    # const:car (base air) = −const:air (base car); const:bus = const:bus − const:air.
    assert m.params_["const:car"] == pytest.approx(-clogit.params_["const:air"], rel=1e-8)
    assert m.params_["const:bus"] == pytest.approx(
        clogit.params_["const:bus"] - clogit.params_["const:air"], rel=1e-8)


# --------------------------------------------------------------------------- elasticities


def _fd_elasticity(m: ConditionalLogit, data: pd.DataFrame, variable: str,
                   alt: str | None) -> np.ndarray:
    """d log P / d log x by central differences of predict_proba: the variable scaled by
    (1 ± h) on the rows of ``alt`` (all rows for an individual variable)."""
    h = 1e-6
    rows = np.ones(len(data), bool) if alt is None else (data["alt"] == alt).to_numpy()
    up, down = data.copy(), data.copy()
    up.loc[rows, variable] *= 1 + h
    down.loc[rows, variable] *= 1 - h
    return (np.log(m.predict_proba(up)) - np.log(m.predict_proba(down))) / (2 * h)


def test_elasticities_closed_form_and_fd(tm: pd.DataFrame, clogit: ConditionalLogit) -> None:
    e = clogit.elasticities(tm, "gc")
    p = clogit.predict_proba(tm)
    beta = clogit.params_["gc"]
    dis = e.disaggregate
    for wrt in ["air", "car"]:
        fd = _fd_elasticity(clogit, tm, "gc", wrt)
        got = dis[dis["wrt"] == wrt].set_index(["group", "alternative"])["elasticity"]
        ref = pd.Series(fd, index=pd.MultiIndex.from_arrays([tm["id"], tm["alt"]]))
        np.testing.assert_allclose(got.loc[ref.index], ref, rtol=1e-6, atol=1e-9)
        # closed form: own β x (1 − P), cross −β x_h P_h
        xh = tm.loc[tm["alt"] == wrt].set_index("id")["gc"]
        ph = pd.Series(p[tm["alt"] == wrt], index=tm.loc[tm["alt"] == wrt, "id"])
        cross = got.xs("bus", level="alternative") if wrt != "bus" else None
        np.testing.assert_allclose(cross, -beta * xh * ph, rtol=1e-12)
    own = dis[dis["alternative"] == dis["wrt"]].groupby("alternative")["elasticity"].mean()
    np.testing.assert_allclose(np.diag(e.average.loc[own.index, own.index]), own)
    # Cross elasticities of the logit do not depend on the alternative whose P is read (IIA).
    avg = e.average.to_numpy()
    off = ~np.eye(4, dtype=bool)
    for col in range(4):
        assert np.ptp(avg[off[:, col], col]) < 1e-12
    ind = clogit.elasticities(tm, "hinc")
    fd = _fd_elasticity(clogit, tm, "hinc", None)
    got = ind.disaggregate.set_index(["group", "alternative"])["elasticity"]
    idx = pd.MultiIndex.from_arrays([tm["id"], tm["alt"]])
    np.testing.assert_allclose(got.loc[idx], fd, rtol=1e-6, atol=1e-9)
    assert ind.kind == "individual" and list(ind.at_mean.index) == ["air", "bus", "car", "train"]
    with pytest.raises(ValueError, match="variable 'psize' is not a variable of the model"):
        clogit.elasticities(tm, "psize")


def test_elasticities_at_mean_as_mlogit_effects(tm: pd.DataFrame,
                                                clogit: ConditionalLogit) -> None:
    # mlogit::effects' default: one representative traveller at the mean covariates.
    b = clogit.params_
    means = tm.groupby("alt")[["gc", "ttme"]].mean()
    hinc = tm.groupby("id")["hinc"].first().mean()
    alts = ["air", "bus", "car", "train"]
    v = np.array([b.get(f"const:{a}", 0.0) + b["gc"] * means.loc[a, "gc"]
                  + b["ttme"] * means.loc[a, "ttme"] + b.get(f"hinc:{a}", 0.0) * hinc
                  for a in alts])
    p = np.exp(v) / np.exp(v).sum()
    x = means.loc[alts, "gc"].to_numpy()
    expected = b["gc"] * x[None, :] * (np.eye(4) - p[None, :])
    np.testing.assert_allclose(clogit.elasticities(tm, "gc").at_mean, expected, rtol=1e-12)


# --------------------------------------------------------------------------- invariants


def _small(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(40):
        alts = [a for a in "abcd" if a == "a" or rng.random() < 0.8]
        v = {a: rng.normal() for a in alts}
        x = {a: rng.normal() for a in alts}
        u = {a: 0.8 * x[a] + v[a] * 0.3 + rng.gumbel() for a in alts}
        best = max(u, key=u.get)
        z = rng.normal()
        for a in alts:
            rows.append({"id": g, "alt": a, "choice": int(a == best), "x": x[a], "w": v[a],
                         "z": z})
    return pd.DataFrame(rows)


SMALL = _small(0)
SMALL_FIT = ConditionalLogit(["x", "w"], ["z"], base="a").fit(SMALL)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_row_order_and_labels_do_not_matter(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shuffled = SMALL.iloc[rng.permutation(len(SMALL))]
    m = ConditionalLogit(["x", "w"], ["z"], base="a").fit(shuffled)
    np.testing.assert_allclose(m.params_, SMALL_FIT.params_, rtol=1e-9, atol=1e-12)
    assert m.llf_ == pytest.approx(SMALL_FIT.llf_, rel=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(-50, 50), min_size=40, max_size=40))
def test_group_constant_shift_leaves_the_fit(shifts: list[float]) -> None:
    shifted = SMALL.assign(x=SMALL["x"] + np.asarray(shifts)[SMALL["id"]])
    m = ConditionalLogit(["x", "w"], ["z"], base="a").fit(shifted)
    np.testing.assert_allclose(m.params_, SMALL_FIT.params_, rtol=1e-7, atol=1e-9)
    assert m.llf_ == pytest.approx(SMALL_FIT.llf_, rel=1e-10)


# --------------------------------------------------------------------------- bad data


def _bad(data: pd.DataFrame, match: str, kind: str, **kw: object) -> ChoiceDataError:
    with pytest.raises(ChoiceDataError, match=match) as info:
        ConditionalLogit(["x", "w"], ["z"], base="a", **kw).fit(data)
    assert info.value.kind == kind
    return info.value


def test_refuses_group_without_choice() -> None:
    d = SMALL.copy()
    d.loc[d["id"] == 7, "choice"] = 0
    err = _bad(d, r"group 7 has no chosen row \(choice is 0 on all its \d rows: ", "no-choice")
    assert err.group == 7


def test_refuses_group_with_two_choices() -> None:
    d = SMALL.copy()
    rows = d.index[d["id"] == 5][:2]
    d.loc[d["id"] == 5, "choice"] = 0
    d.loc[rows, "choice"] = 1
    err = _bad(d, rf"group 5 has 2 chosen rows \(rows {rows[0]}, {rows[1]}\)", "two-choices")
    assert err.group == 5 and err.row == rows[1]


def test_refuses_choice_outside_01() -> None:
    d = SMALL.copy()
    d.loc[9, "choice"] = 2
    g = d.loc[9, "id"]
    err = _bad(d, rf"row 9 \(group {g}\): choice = 2 \(column 'choice'\) is not 0 or 1", "choice")
    assert err.row == 9 and err.column == "choice"
    d.loc[9, "choice"] = np.nan
    _bad(d, r"row 9 \(group \d+\): choice = nan", "choice")


def test_refuses_group_with_one_alternative() -> None:
    d = SMALL[~((SMALL["id"] == 3) & (SMALL["alt"] != "a"))].copy()
    d.loc[d["id"] == 3, "choice"] = 1
    _bad(d, r"group 3 has only one available alternative \('a', row \d+\)", "one-alternative")


def test_refuses_duplicate_rows() -> None:
    d = pd.concat([SMALL, SMALL.iloc[[4]]], ignore_index=True)
    g, a = SMALL.loc[4, "id"], SMALL.loc[4, "alt"]
    _bad(d, rf"group {g} has 2 rows for alternative '{a}' \(rows 4, {len(SMALL)}\)",
         "duplicate")


def test_refuses_nonfinite_covariates() -> None:
    d = SMALL.copy()
    d.loc[11, "w"] = np.inf
    g = d.loc[11, "id"]
    err = _bad(d, rf"row 11 \(group {g}\), column 'w' is inf; every covariate must be finite",
               "nonfinite")
    assert (err.row, err.column, err.group) == (11, "w", g)
    d = SMALL.copy()
    d.loc[2, "z"] = np.nan
    _bad(d, r"row 2 \(group 0\), column 'z' is nan", "nonfinite")


def test_refuses_generic_variable_constant_within_groups() -> None:
    d = SMALL.assign(w=SMALL["z"])
    _bad(d, "alternative variable 'w' is constant within every group, so its generic "
         "coefficient is not identified", "not-identified")


def test_refuses_individual_variable_that_varies() -> None:
    d = SMALL.copy()
    d.loc[d.index[d["id"] == 2][1], "z"] += 1.0
    _bad(d, r"individual variable 'z' takes different values within group 2", "individual-varies")


def test_refuses_missing_column_and_bad_weights() -> None:
    err = _bad(SMALL.drop(columns="w"), r"the data have no column 'w' \(the alternative "
               "variable\\)", "column")
    assert err.column == "w"
    d = SMALL.assign(wt=1.0)
    d.loc[d.index[d["id"] == 4][0], "wt"] = 2.0
    _bad(d, r"the weight \(column 'wt'\) differs within group 4", "weight", weights="wt")


def test_refuses_missing_labels() -> None:
    d = SMALL.astype({"alt": object})
    d.loc[6, "alt"] = None
    _bad(d, r"row 6: the alternative \(column 'alt'\) is missing", "alternative")
    d = SMALL.astype({"id": float})
    d.loc[8, "id"] = np.nan
    _bad(d, r"row 8: the group label \(column 'id'\) is missing", "group")


def test_refuses_collinear_parameters() -> None:
    d = SMALL.assign(z=1.0)  # constant over all groups: collinear with the constants
    with pytest.raises(ValueError, match=r"'const:b', 'const:c', 'const:d', 'z:b', 'z:c', "
                       r"'z:d' are not identified"):
        ConditionalLogit(["x", "w"], ["z"], base="a").fit(d)


def test_separation_is_detected() -> None:
    # The chosen alternative always has the largest x: the x coefficient diverges.
    d = SMALL.copy()
    d["x"] = d["x"] + 10.0 * d["choice"]
    with pytest.raises(SeparationError, match=r"complete separation: alternative 'a' \(\d+ of "
                       r"its \d+ choices perfectly predicted\).*coefficients of .*'x'") as info:
        ConditionalLogit(["x", "w"], ["z"], base="a").fit(d)
    assert info.value.kind == "complete" and "x" in info.value.features


def test_unfitted_and_bad_arguments() -> None:
    with pytest.raises(AttributeError, match="not fitted yet"):
        ConditionalLogit(["x"]).predict_proba(SMALL)
    with pytest.raises(ValueError, match="base='zz' is not an alternative"):
        ConditionalLogit(["x"], base="zz").fit(SMALL)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        ConditionalLogit(["x"], tol=0).fit(SMALL)
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        ConditionalLogit(["x"]).fit(SMALL.to_numpy())
    with pytest.raises(ChoiceDataError, match=r"alternative 'e' .* is not one of the model's"):
        SMALL_FIT.predict_proba(SMALL.assign(alt=SMALL["alt"].replace("d", "e")))
