"""The nested logit (RU2): Biogeme recorded, an independent maximisation of the textbook
likelihood, the analytic gradient and Hessian, elasticities, λ warnings and bad nests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from softmaxkit.choice import ConditionalLogit, NestingWarning, _data, _likelihood

pd = pytest.importorskip("pandas")
optimize = pytest.importorskip("scipy.optimize")
from test_choice import _fd_elasticity, _unbalanced, travelmode  # noqa: E402

GROUND = {"fly": ["air"], "ground": ["train", "bus", "car"]}

# Biogeme 3.3.2 on TravelMode, same utilities (ASCs, gc, ttme generic, hinc individual, base
# car), nests fly = {air} (μ = 1) and ground = {train, bus, car}, RU2 with μ = 1/λ; written
# by benchmarks/peers/choice_biogeme.py (its optimiser stopped at gradient norm 3.4e-5).
BIOGEME_NESTED = {
    "const:air": (3.8845326341944495, 1.1962978239955315),
    "const:bus": (3.0458637304114444, 0.7285337608757206),
    "const:train": (4.058935918100299, 0.8701837021713343),
    "gc": (-0.012308741165539485, 0.0037474807883450902),
    "hinc:air": (0.0023502884195690664, 0.01087198340881921),
    "hinc:bus": (-0.016212787124524834, 0.011687367348520938),
    "hinc:train": (-0.034654388581116, 0.013287031610152619),
    "lambda:ground": (0.6366357897704366, 0.15395315411163674),
    "ttme": (-0.07099829983186805, 0.015043432494392397),
}
BIOGEME_NESTED_LLF = -187.68245715740662


@pytest.fixture(scope="module")
def tm() -> pd.DataFrame:
    return travelmode()


@pytest.fixture(scope="module")
def nested(tm: pd.DataFrame) -> ConditionalLogit:
    return ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=GROUND).fit(tm)


def test_biogeme_recorded(nested: ConditionalLogit) -> None:
    names = list(BIOGEME_NESTED)
    assert sorted(names) == sorted(nested.param_names_)
    np.testing.assert_allclose(nested.params_[names], [BIOGEME_NESTED[n][0] for n in names],
                               rtol=1e-5)
    # Biogeme's standard errors are its analytic Hessian's at its (slightly earlier) stop.
    np.testing.assert_allclose(nested.bse_[names], [BIOGEME_NESTED[n][1] for n in names],
                               rtol=1e-5)
    assert nested.llf_ == pytest.approx(BIOGEME_NESTED_LLF, rel=1e-10)
    assert nested.converged_
    assert nested.nests_ == {"fly": ["air"], "ground": ["bus", "car", "train"]}
    assert "lambda:fly" not in nested.param_names_  # a one-alternative nest has no λ


# --------------------------------------------------------------------------- independent


def _arrays(data: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Groups × 4 modes (air, bus, car, train) in plain arrays, unavailable rows masked."""
    alts = ["air", "bus", "car", "train"]
    ids = np.unique(data["id"])
    pos = {a: i for i, a in enumerate(alts)}
    g = np.searchsorted(ids, data["id"])
    j = data["alt"].map(pos).to_numpy()
    avail = np.zeros((ids.size, 4), bool)
    avail[g, j] = True
    gc = np.zeros((ids.size, 4))
    ttme = np.zeros((ids.size, 4))
    gc[g, j], ttme[g, j] = data["gc"], data["ttme"]
    hinc = np.zeros(ids.size)
    hinc[g] = data["hinc"]
    y = np.zeros((ids.size, 4))
    y[g, j] = data["choice"]
    return avail, gc, ttme, hinc, y


def _textbook_loglik(theta: np.ndarray, arrays: tuple[np.ndarray, ...],
                     nests: list[list[int]]) -> float:
    """ℓ of the nested logit written the textbook way, with plain exp/log:
    P_j = e^{V_j/λ_k} S_k^{λ_k − 1} / Σ_l S_l^{λ_l}, S_k = Σ_{i∈k} e^{V_i/λ_k}."""
    avail, gc, ttme, hinc, y = arrays
    a_air, a_bus, a_train, b_gc, b_tt, h_air, h_bus, h_train, *lams = theta
    asc = np.array([a_air, a_bus, 0.0, a_train])
    hin = np.array([h_air, h_bus, 0.0, h_train])
    v = asc + b_gc * gc + b_tt * ttme + hin * hinc[:, None]
    lam = np.ones(len(nests))
    lam[[k for k, n in enumerate(nests) if len(n) > 1]] = lams
    if np.any(lam <= 0):
        return -np.inf
    s = np.zeros((v.shape[0], len(nests)))
    for k, members in enumerate(nests):
        for i in members:
            s[:, k] += avail[:, i] * np.exp(v[:, i] / lam[k])
    denom = sum(s[:, k] ** lam[k] for k in range(len(nests)))
    ll = 0.0
    for k, members in enumerate(nests):
        for i in members:
            p = np.exp(v[:, i] / lam[k]) * s[:, k] ** (lam[k] - 1.0) / denom
            ll += np.sum(y[:, i] * np.log(np.where(y[:, i] > 0, p, 1.0)))
    return float(ll)


@pytest.mark.parametrize("case", ["balanced", "unbalanced"])
def test_independent_maximisation(tm: pd.DataFrame, case: str) -> None:
    # Unbalanced: no bus for some travellers, and no air (a whole nest) for others.
    no_air = ((tm["alt"] == "air") & (tm["id"] % 5 == 0) & (tm["choice"] == 0)).to_numpy()
    data = tm if case == "balanced" else tm[_unbalanced(tm) & ~no_air].reset_index(drop=True)
    nests = {"public": ["train", "bus"], "fly": ["air"]}  # car a nest of its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # λ inside (0, 1]: no NestingWarning
        m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=nests).fit(data)
    order = ["const:air", "const:bus", "const:train", "gc", "ttme", "hinc:air", "hinc:bus",
             "hinc:train", "lambda:public"]
    arrays = _arrays(data)
    groups = [[3, 1], [0], [2]]  # train, bus | air | car

    def f(t: np.ndarray) -> float:
        return -_textbook_loglik(t, arrays, groups)

    start = np.r_[np.zeros(8), 0.8]
    with np.errstate(invalid="ignore"):  # its difference quotients at λ ≤ 0 (ℓ = −inf)
        res = optimize.minimize(f, start, method="BFGS",
                                options={"gtol": 1e-7, "maxiter": 2000})
    res = optimize.minimize(f, res.x, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-13, "maxfev": 20000})
    ours = m.params_[order].to_numpy()
    assert -res.fun == pytest.approx(m.llf_, rel=1e-10)
    assert -res.fun <= m.llf_ + 1e-9  # no better point than ours
    assert m.llf_ == pytest.approx(-f(ours), rel=1e-13)
    np.testing.assert_allclose(res.x, ours, rtol=2e-4, atol=1e-6)
    # Standard errors: the inverse of a (test-only) central-difference Hessian of the textbook
    # ℓ at our estimate.
    h = 1e-4 * np.maximum(np.abs(ours), 1e-2)
    hess = np.empty((9, 9))
    for i in range(9):
        for k in range(9):
            ei, ek = np.eye(9)[i] * h[i], np.eye(9)[k] * h[k]
            hess[i, k] = (f(ours + ei + ek) - f(ours + ei - ek) - f(ours - ei + ek)
                          + f(ours - ei - ek)) / (4 * h[i] * h[k])
    se = np.sqrt(np.diag(np.linalg.inv(hess)))
    np.testing.assert_allclose(m.bse_[order], se, rtol=1e-4)


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("nest_of", [[0, 1, 1, 1], [0, 0, 1, 1], [0, 1, 2, 1]])
def test_analytic_gradient_and_hessian(tm: pd.DataFrame, nest_of: list[int]) -> None:
    # Unbalanced: the bus missing for some, and air (a whole nest in two of the cases)
    # missing for travellers with id divisible by 5 who did not fly.
    no_air = (tm["alt"] == "air") & (tm["id"] % 5 == 0) & (tm["choice"] == 0)
    data = tm[_unbalanced(tm) & ~no_air.to_numpy()].reset_index(drop=True)
    cols = _data._Columns("choice", "alt", "id", ("gc", "ttme"), ("hinc",), None)
    long, _ = _data.read_long(data, cols, None, "test")
    nest_of_a = np.asarray(nest_of)
    free = np.bincount(nest_of_a) >= 2
    lay = _likelihood._Layout(4, 2, True, 2, 1, nest_of_a, free)
    rng = np.random.default_rng(sum(nest_of))
    theta = np.r_[rng.normal(size=lay.n_beta) * 0.02, 0.4 + 0.5 * rng.random(lay.n_lambda)]
    s = _likelihood.block_sums(long, theta, lay, True)

    def ll(t: np.ndarray) -> float:
        return _likelihood.block_sums(long, t, lay, False).llf

    eye = np.eye(theta.size)
    eps = 1e-6
    fd = np.array([(ll(theta + eps * e) - ll(theta - eps * e)) / (2 * eps) for e in eye])
    np.testing.assert_allclose(s.grad, fd, rtol=1e-6, atol=1e-6)
    fdh = np.array([(_likelihood.block_sums(long, theta + eps * e, lay, True).grad
                     - _likelihood.block_sums(long, theta - eps * e, lay, True).grad) / (2 * eps)
                    for e in eye])
    np.testing.assert_allclose(s.info, -fdh, rtol=1e-5, atol=1e-4 * np.abs(s.info).max())
    # At λ = 1 the nested logit is the conditional logit.
    one = theta.copy()
    one[lay.n_beta:] = 1.0
    flat = _likelihood._Layout(4, 2, True, 2, 1, None, None)
    assert ll(one) == pytest.approx(
        _likelihood.block_sums(long, one[:lay.n_beta], flat, False).llf, rel=1e-14)


# --------------------------------------------------------------------------- elasticities


def test_nested_elasticities(tm: pd.DataFrame, nested: ConditionalLogit) -> None:
    e = nested.elasticities(tm, "gc")
    dis = e.disaggregate
    idx = pd.MultiIndex.from_arrays([tm["id"], tm["alt"]])
    for wrt in ["bus", "air"]:
        fd = _fd_elasticity(nested, tm, "gc", wrt)
        got = dis[dis["wrt"] == wrt].set_index(["group", "alternative"])["elasticity"]
        np.testing.assert_allclose(got.loc[idx], fd, rtol=1e-6, atol=1e-9)
    # Closed form of a cross elasticity within the nest: β x_h (P_h|nest (1 − 1/λ) − P_h).
    lam = nested.params_["lambda:ground"]
    beta = nested.params_["gc"]
    p = pd.Series(nested.predict_proba(tm), index=idx)
    ground = p.drop("air", level=1)
    cond = ground / ground.groupby(level=0).transform("sum")
    x_bus = tm.set_index(["id", "alt"])["gc"].xs("bus", level=1)
    expected = beta * x_bus * (cond.xs("bus", level=1) * (1 - 1 / lam) - p.xs("bus", level=1))
    got = dis[(dis["wrt"] == "bus") & (dis["alternative"] == "train")].set_index("group")
    np.testing.assert_allclose(got["elasticity"], expected.loc[got.index], rtol=1e-11)
    ind = nested.elasticities(tm, "hinc")
    got = ind.disaggregate.set_index(["group", "alternative"])["elasticity"]
    np.testing.assert_allclose(got.loc[idx], _fd_elasticity(nested, tm, "hinc", None),
                               rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- λ and nests


def test_lambda_outside_unit_interval_warns(tm: pd.DataFrame) -> None:
    nests = {"public": ["train", "bus"], "other": ["air", "car"]}
    with pytest.warns(NestingWarning, match=r"lambda:other = 1\.638 outside \(0, 1\]: the nested "
                      "logit is then not consistent with random utility maximisation"):
        m = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=nests).fit(tm)
    assert m.params_["lambda:other"] > 1 and 0 < m.params_["lambda:public"] < 1
    assert m.converged_


def test_bad_nests(tm: pd.DataFrame) -> None:
    def fit(nests: object) -> None:
        ConditionalLogit(["gc"], base="car", nests=nests).fit(tm)

    with pytest.raises(ValueError, match=r"alternative 'bus' is in two nests \('a' and 'b'\)"):
        fit({"a": ["bus", "train"], "b": ["bus", "air"]})
    with pytest.raises(ValueError, match=r"nest 'a' lists 'boat', which is not an alternative"):
        fit({"a": ["boat", "train"]})
    with pytest.raises(ValueError, match="a single nest holding every alternative"):
        fit({"all": ["air", "bus", "car", "train"]})
    with pytest.raises(TypeError, match="nest 'a' must be a list of alternatives"):
        fit({"a": "bus"})


def test_nested_summary(nested: ConditionalLogit) -> None:
    text = str(nested.summary())
    assert "Nested Logit Results (RU2)" in text
    assert "Nest ground:" in text and "bus, car, train" in text
    assert "lambda:ground" in text and "0.6366" in text
