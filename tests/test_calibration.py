"""Calibration: temperature / vector scaling and the metrics, against netcal, scikit-learn,
statsmodels, PyTorch autograd and closed forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import softmaxkit as sk
from softmaxkit.calibration import (
    ReliabilityTable,
    TemperatureScaling,
    VectorScaling,
    brier_score,
    classwise_ece,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_comparison,
    reliability_diagram,
    reliability_table,
    temperature_nll,
)
from softmaxkit.io import load_example


def draw(rng: np.random.Generator, n: int, k: int, tstar: float, scale: float = 3.0):
    """Logits z and labels drawn from softmax(z / T*): the true temperature is T*."""
    z = rng.normal(scale=scale, size=(n, k))
    p = sk.softmax(z, temperature=tstar)
    y = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return z, np.minimum(y, k - 1)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return load_example()


def netcal_quiet():
    """netcal imports pyro/torch and warns about its own dependencies."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


# --------------------------------------------------------------------------- objective


def nll_torch(z: np.ndarray, y: np.ndarray, t: float) -> tuple[float, float, float]:
    """NLL(β) and its first two β-derivatives by PyTorch autograd (float64)."""
    torch = pytest.importorskip("torch")
    zt = torch.tensor(z, dtype=torch.float64)
    yt = torch.tensor(y)

    def f(beta):
        return torch.nn.functional.cross_entropy(beta * zt, yt)

    beta = torch.tensor(1.0 / t, dtype=torch.float64, requires_grad=True)
    val = f(beta)
    (g,) = torch.autograd.grad(val, beta, create_graph=True)
    (h,) = torch.autograd.grad(g, beta)
    return float(val.detach()), float(g.detach()), float(h)


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0, 2.11, 30.0])
def test_nll_and_derivatives_match_autograd(digits, t):
    z, y = digits
    r = temperature_nll(z, y, t)
    ref = nll_torch(z, y, t)
    np.testing.assert_allclose([r.nll, r.d_beta, r.d2_beta], ref, rtol=1e-10, atol=1e-13)
    assert r.beta == 1.0 / t
    # log-T derivatives by the chain rule, β = exp(-u)
    assert r.d_log_t == pytest.approx(-ref[1] / t, rel=1e-10)
    assert r.d2_log_t == pytest.approx(ref[1] / t + ref[2] / t**2, rel=1e-9)


def test_convex_in_inverse_temperature_not_in_log_temperature(digits):
    z, y = digits
    ts = TemperatureScaling().fit(z, y)
    grid = np.geomspace(0.02, 1e4, 60)
    rs = [temperature_nll(z, y, t) for t in grid]
    # convex in β: the second derivative is a variance, never negative
    assert all(r.d2_beta > 0 for r in rs)
    # in log T: convex for T <= T* (NLL'(β) >= 0 there) ...
    assert all(r.d2_log_t > 0 for t, r in zip(grid, rs, strict=True) if t <= ts.temperature_)
    # ... but concave at large T, like β NLL'(0) < 0
    big = [r for t, r in zip(grid, rs, strict=True) if t > 20]  # crossover near T = 13
    assert all(r.d2_log_t < 0 for r in big)
    # unimodal all the same: dNLL/dlogT changes sign exactly once, at T*
    sign = np.sign([r.d_log_t for r in rs])
    assert np.count_nonzero(np.diff(sign)) == 1
    assert grid[np.argmax(sign > 0)] > ts.temperature_ > grid[np.argmax(sign > 0) - 1]
    # and the value along the grid goes down, then up
    vals = np.array([r.nll for r in rs])
    i = int(np.argmin(vals))
    assert (np.diff(vals[: i + 1]) < 0).all() and (np.diff(vals[i:]) > 0).all()


# --------------------------------------------------------------------------- the fit vs peers


def test_temperature_matches_netcal_and_sklearn(digits):
    z, y = digits
    ts = TemperatureScaling().fit(z, y)
    assert ts.converged_ and abs(temperature_nll(z, y, ts.temperature_).d_beta) < 1e-12
    ctx = netcal_quiet()
    try:
        from netcal.scaling import TemperatureScaling as NetcalTS

        nc = NetcalTS(method="mle", use_cuda=False)
        nc.fit(sk.softmax(z), y)  # netcal takes probabilities; its weight is 1/T
    finally:
        ctx.__exit__(None, None, None)
    t_netcal = 1.0 / float(nc.weights[0])
    assert t_netcal == pytest.approx(ts.temperature_, rel=1e-3)
    # netcal's optimiser uses finite differences (≈ 6e-6 off here): at its T the NLL is no lower
    assert temperature_nll(z, y, t_netcal).nll >= ts.nll_
    from sklearn.calibration import _TemperatureScaling

    beta = _TemperatureScaling().fit(z, y).beta_
    assert 1.0 / beta == pytest.approx(ts.temperature_, rel=1e-6)


def test_synthetic_netcal_and_chunking(rng):
    z, y = draw(rng, 3000, 7, 0.6)
    ts = TemperatureScaling().fit(z, y)
    small = TemperatureScaling(chunk_rows=7).fit(z, y)
    assert small.temperature_ == pytest.approx(ts.temperature_, rel=1e-12)
    ctx = netcal_quiet()
    try:
        from netcal.scaling import TemperatureScaling as NetcalTS

        nc = NetcalTS(method="mle", use_cuda=False)
        nc.fit(sk.softmax(z), y)
    finally:
        ctx.__exit__(None, None, None)
    assert 1.0 / float(nc.weights[0]) == pytest.approx(ts.temperature_, rel=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_known_temperature_within_its_standard_error(seed):
    rng = np.random.default_rng(seed)
    z, y = draw(rng, 20_000, 10, 2.5)
    ts = TemperatureScaling().fit(z, y)
    # se from the Fisher information N·NLL''(β) and the delta method
    r = temperature_nll(z, y, ts.temperature_)
    se = 1.0 / math.sqrt(z.shape[0] * r.d2_beta) * ts.temperature_**2
    # the last Newton step (<= 1e-5 in log T) is taken without another pass over the data, so
    # the curvature behind the reported se is the one from the point before it
    assert ts.temperature_se_ == pytest.approx(se, rel=1e-4)
    assert abs(ts.temperature_ - 2.5) < 3 * ts.temperature_se_
    assert 0.01 < ts.temperature_se_ < 0.05


def test_standard_error_is_calibrated():
    """Across replicates (T - T*)/se is close to standard normal."""
    rng = np.random.default_rng(7)
    zs = []
    for _ in range(120):
        z, y = draw(rng, 600, 5, 1.7)
        ts = TemperatureScaling().fit(z, y)
        zs.append((ts.temperature_ - 1.7) / ts.temperature_se_)
    zs = np.array(zs)
    assert abs(zs.mean()) < 0.3
    assert 0.8 < zs.std(ddof=1) < 1.2


def test_one_hot_labels_equal_indices(rng):
    z, y = draw(rng, 500, 4, 1.3)
    a = TemperatureScaling().fit(z, y).temperature_
    b = TemperatureScaling().fit(z, np.eye(4)[y]).temperature_
    c = TemperatureScaling().fit(z.astype(np.float32), y.astype(float)).temperature_
    assert a == b
    assert c == pytest.approx(a, rel=1e-6)


def test_masks_are_excluded_classes(rng):
    z, y = draw(rng, 800, 6, 1.5)
    y = np.where(y == 5, 0, y)  # class 5 never a label ...
    where = np.ones(6, dtype=bool)
    where[5] = False  # ... and absent from every sample
    masked = TemperatureScaling().fit(z, y, where=where)
    dropped = TemperatureScaling().fit(z[:, :5], y)
    assert masked.temperature_ == pytest.approx(dropped.temperature_, rel=1e-12)
    # a per-sample mask is the same as a -inf logit
    rows = rng.random((800, 6)) < 0.2
    rows[np.arange(800), y] = False
    zinf = np.where(rows, -np.inf, z)
    a = TemperatureScaling().fit(z, y, where=~rows).temperature_
    b = TemperatureScaling().fit(zinf, y).temperature_
    assert a == pytest.approx(b, rel=1e-12)
    p = masked.predict_proba(z, where=where)
    assert (p[:, 5] == 0).all()
    np.testing.assert_allclose(p[:, :5], dropped.predict_proba(z[:, :5]), rtol=1e-12)


def test_binary_single_column_and_platt_scaling(rng):
    s = rng.normal(scale=4.0, size=2000)
    y = (rng.random(2000) < 1.0 / (1.0 + np.exp(-(s / 2.0 - 0.7)))).astype(int)
    one = TemperatureScaling().fit(s, y)
    two = TemperatureScaling().fit(np.stack([np.zeros_like(s), s], axis=1), y)
    col = TemperatureScaling().fit(s[:, None], y)
    assert one.temperature_ == pytest.approx(two.temperature_, rel=1e-12)
    assert col.temperature_ == one.temperature_
    p = one.predict_proba(s)
    assert p.shape == (2000, 2)
    np.testing.assert_allclose(p[:, 1], 1.0 / (1.0 + np.exp(-s / one.temperature_)), rtol=1e-12)
    # with a bias this is Platt scaling, i.e. an unpenalised logistic regression of y on s
    import statsmodels.api as smapi

    platt = TemperatureScaling(fit_bias=True).fit(s, y)
    res = smapi.Logit(y, smapi.add_constant(s)).fit(disp=0, tol=1e-12)
    intercept, slope = res.params
    assert 1.0 / platt.temperature_ == pytest.approx(slope, rel=1e-6)
    assert platt.bias_[0] == pytest.approx(intercept, rel=1e-6)
    np.testing.assert_allclose(platt.predict_proba(s)[:, 1], res.predict(), rtol=1e-6)


def test_fit_bias_is_the_joint_optimum(rng):
    z, y = draw(rng, 3000, 5, 1.4)
    z = z + np.array([0.0, 1.0, -1.0, 0.5, 0.0])  # biased logits
    ts = TemperatureScaling().fit(z, y)
    tb = TemperatureScaling(fit_bias=True).fit(z, y)
    assert tb.nll_ < ts.nll_
    assert abs(tb.bias_.sum()) < 1e-12
    # the gradients vanish: in β, E_p[z] - z_y; in b, p - onehot(y)
    p = tb.predict_proba(z)
    r = p - np.eye(5)[y]
    assert abs(np.mean(np.sum(r * z, axis=1))) < 1e-6
    np.testing.assert_allclose(r.mean(axis=0), 0.0, atol=1e-6)
    assert negative_log_likelihood(p, y) == pytest.approx(tb.nll_, rel=1e-12)
    np.testing.assert_allclose(tb.transform(z), z / tb.temperature_ + tb.bias_)


def test_vector_scaling_matches_netcal(rng):
    z, y = draw(rng, 2000, 4, 1.0)
    z = z * np.array([0.5, 1.0, 2.0, 1.0])  # classes mis-scaled differently
    # netcal fits w ⊙ log p + b on the log-probabilities: give ours the same inputs
    logp = sk.log_softmax(z)
    vs = VectorScaling().fit(logp, y)
    assert vs.converged_
    ctx = netcal_quiet()
    try:
        from netcal.scaling import LogisticCalibration

        nc = LogisticCalibration(method="mle", use_cuda=False)
        nc.fit(sk.softmax(z), y)
        p_nc = nc.transform(sk.softmax(z))
    finally:
        ctx.__exit__(None, None, None)
    p = vs.predict_proba(logp)
    assert negative_log_likelihood(p, y) <= negative_log_likelihood(p_nc, y) + 1e-9
    np.testing.assert_allclose(p, p_nc, atol=2e-3)
    np.testing.assert_allclose(1.0 / vs.temperatures_, nc.weights, rtol=5e-3)
    ts = TemperatureScaling().fit(logp, y)
    assert vs.nll_ < ts.nll_


def test_transform_and_predict_proba(digits):
    z, y = digits
    ts = TemperatureScaling().fit(z, y)
    np.testing.assert_array_equal(ts.transform(z), z / ts.temperature_)
    np.testing.assert_allclose(ts.predict_proba(z), sk.softmax(z / ts.temperature_), rtol=1e-14)
    p32 = ts.predict_proba(z.astype(np.float32))
    assert p32.dtype == np.float32
    torch = pytest.importorskip("torch")
    pt = ts.predict_proba(torch.tensor(z))
    assert isinstance(pt, torch.Tensor)
    np.testing.assert_allclose(pt.numpy(), ts.predict_proba(z), rtol=1e-14)


def test_fit_errors_and_limits(rng):
    z, y = draw(rng, 50, 3, 1.0)
    with pytest.raises(ValueError, match=r"labels\[2\] = 3 is out of range"):
        TemperatureScaling().fit(z, np.r_[y[:2], 3, y[3:]])
    with pytest.raises(ValueError, match=r"labels\[0\] .* not one-hot"):
        TemperatureScaling().fit(z, np.full((50, 3), 0.5))
    bad = z.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"logits\[4, 1\] = nan"):
        TemperatureScaling().fit(bad, y)
    with pytest.raises(ValueError, match=r"label of sample 0 .* excluded"):
        TemperatureScaling().fit(z, y, where=np.eye(3, dtype=bool)[(y + 1) % 3])
    with pytest.raises(ValueError, match="no finite optimal temperature"):
        TemperatureScaling().fit(z, np.argmax(z, axis=1))
    with pytest.raises(AttributeError, match="not fitted"):
        TemperatureScaling().predict_proba(z)
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        temperature_nll(z, y, 0.0)
    # labels that the logits rank last: no better than uniform, so T = inf
    with pytest.warns(RuntimeWarning, match="infinite"):
        ts = TemperatureScaling().fit(z, np.argmin(z, axis=1))
    assert ts.temperature_ == math.inf
    np.testing.assert_allclose(ts.predict_proba(z), 1.0 / 3.0)


# --------------------------------------------------------------------------- metrics


def test_ece_mce_match_netcal(digits, rng):
    z, y = digits
    cases = [(sk.softmax(z), y)]
    zz, yy = draw(rng, 2000, 5, 0.5)
    cases.append((sk.softmax(zz), yy))
    ctx = netcal_quiet()
    try:
        from netcal.metrics import ECE, MCE

        for p, lab in cases:
            for n_bins in (5, 10, 15, 20):
                for strategy in ("uniform", "quantile"):
                    eq = strategy == "uniform"
                    ref = ECE(bins=n_bins, equal_intervals=eq).measure(p, lab)
                    ours = expected_calibration_error(p, lab, n_bins=n_bins, strategy=strategy)
                    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-15)
                ref = MCE(bins=n_bins).measure(p, lab)
                assert maximum_calibration_error(p, lab, n_bins=n_bins) == pytest.approx(
                    ref, rel=1e-12
                )
    finally:
        ctx.__exit__(None, None, None)


def test_nll_and_brier_match_sklearn(digits, rng):
    from sklearn.metrics import brier_score_loss, log_loss

    z, y = digits
    other = sk.softmax(draw(rng, 300, 5, 1.0)[0])
    for p, lab in [(sk.softmax(z), y), (other, rng.integers(0, 5, 300))]:
        k = p.shape[1]
        assert negative_log_likelihood(p, lab) == pytest.approx(
            log_loss(lab, p, labels=range(k)), rel=1e-12
        )
        by_hand = np.mean(np.sum((p - np.eye(k)[lab]) ** 2, axis=1))
        assert brier_score(p, lab) == pytest.approx(by_hand, rel=1e-12)
        assert brier_score(p, lab) == pytest.approx(
            brier_score_loss(lab, p, labels=range(k)), rel=1e-12
        )
    # binary: a 1-D input is P(class 1); sklearn's one-column score is half the two-class sum
    q = rng.random(200)
    lab = (rng.random(200) < q).astype(int)
    assert brier_score(q, lab) == pytest.approx(2 * np.mean((q - lab) ** 2), rel=1e-12)
    assert negative_log_likelihood(q, lab) == pytest.approx(log_loss(lab, q), rel=1e-12)
    assert negative_log_likelihood([[1.0, 0.0]], [1]) == math.inf  # nothing clipped


def test_reliability_table_by_hand():
    probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8], [0.0, 1.0], [0.7, 0.3]])
    labels = np.array([1, 0, 0, 1, 1])
    t = reliability_table(probs, labels, n_bins=4)
    assert isinstance(t, ReliabilityTable)
    np.testing.assert_array_equal(t.edges, [0.0, 0.25, 0.5, 0.75, 1.0])
    # confidences 0.5 (first argmax: class 0, wrong), 0.9, 0.8, 1.0, 0.7; 0.5 is an edge:
    # it goes to the bin on its right, 1.0 to the last bin
    np.testing.assert_array_equal(t.counts, [0, 0, 2, 3])
    np.testing.assert_allclose(t.confidence[2:], [0.6, 0.9])
    np.testing.assert_allclose(t.accuracy[2:], [0.0, 2 / 3])
    assert np.isnan(t.confidence[:2]).all() and np.isnan(t.accuracy[:2]).all()
    ece = (2 / 5) * 0.6 + (3 / 5) * (0.9 - 2 / 3)
    assert t.ece() == pytest.approx(ece)
    assert expected_calibration_error(probs, labels, n_bins=4) == pytest.approx(ece)
    l2 = math.sqrt((2 / 5) * 0.6**2 + (3 / 5) * (0.9 - 2 / 3) ** 2)
    assert expected_calibration_error(probs, labels, n_bins=4, p=2) == pytest.approx(l2)
    assert expected_calibration_error(probs, labels, n_bins=4, p=math.inf) == pytest.approx(0.6)
    assert maximum_calibration_error(probs, labels, n_bins=4) == pytest.approx(0.6)
    text = str(t)
    assert "[0.750, 1.000]" in text and "0.6000" in text
    q = reliability_table(probs, labels, n_bins=2, strategy="quantile")
    np.testing.assert_allclose(q.edges, [0.0, 0.8, 1.0])
    np.testing.assert_array_equal(q.counts, [2, 3])


def test_classwise_ece_by_loop(rng):
    p = sk.softmax(rng.normal(scale=2.0, size=(400, 4)))
    y = rng.integers(0, 4, 400)
    per = []
    for k in range(4):
        edges = np.linspace(0, 1, 11)
        e = 0.0
        for b in range(10):
            lo, hi = edges[b], edges[b + 1]
            inb = (p[:, k] >= lo) & ((p[:, k] < hi) if b < 9 else (p[:, k] <= hi))
            if inb.any():
                e += inb.mean() * abs(np.mean(y[inb] == k) - p[inb, k].mean())
        per.append(e)
    np.testing.assert_allclose(classwise_ece(p, y, n_bins=10, average=False), per, rtol=1e-12)
    assert classwise_ece(p, y, n_bins=10) == pytest.approx(np.mean(per), rel=1e-12)


def test_metric_errors():
    with pytest.raises(ValueError, match=r"probs\[1\] sums to 1.5"):
        expected_calibration_error([[0.5, 0.5], [1.0, 0.5]], [0, 1])
    with pytest.raises(ValueError, match=r"probs\[0, 0\] = -0.5"):
        brier_score([[-0.5, 1.5]], [0])
    with pytest.raises(ValueError, match="n_bins must be a positive integer, got 0"):
        expected_calibration_error([[0.5, 0.5]], [0], n_bins=0)
    with pytest.raises(ValueError, match="strategy must be 'uniform' or 'quantile'"):
        reliability_table([[0.5, 0.5]], [0], strategy="equal")
    with pytest.raises(ValueError, match="p must be >= 1"):
        expected_calibration_error([[0.5, 0.5]], [0], p=0.5)
    with pytest.raises(ValueError, match="labels must be 2 class indices"):
        negative_log_likelihood([[0.5, 0.5], [0.5, 0.5]], [0, 1, 1])


def test_calibration_improves_the_example(digits):
    z, y = digits
    before = sk.softmax(z)
    after = TemperatureScaling().fit(z, y).predict_proba(z)
    assert negative_log_likelihood(after, y) < negative_log_likelihood(before, y)
    assert expected_calibration_error(after, y) < expected_calibration_error(before, y)
    assert brier_score(after, y) < brier_score(before, y)
    # temperature scaling never changes the predicted class
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))


# --------------------------------------------------------------------------- plots


def test_reliability_diagram_draws_the_table(digits, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z, y = digits
    p = sk.softmax(z)
    table = reliability_table(p, y, n_bins=10)
    ax = reliability_diagram(p, y, n_bins=10, title="digits")
    full = table.counts > 0
    bars = ax.containers[0]
    np.testing.assert_allclose([b.get_height() for b in bars], table.accuracy[full])
    gaps = ax.containers[1]
    np.testing.assert_allclose([b.get_height() for b in gaps], np.abs(table.gap[full]))
    hist = ax.counts_ax.containers[0]
    np.testing.assert_array_equal([b.get_height() for b in hist], table.counts)
    assert ax.get_title().startswith("digits\nECE ")
    after = TemperatureScaling().fit(z, y).predict_proba(z)
    fig = reliability_comparison(p, after, y)
    out = tmp_path / "rel.png"
    fig.savefig(out, dpi=50)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close("all")


# --- separation and input checks (issue 14, cases 11 and 15) ------------------------------


def _cli_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The command line's default split (--validation-split 0.5 --seed 0)."""
    perm = np.random.default_rng(0).permutation(n)
    return np.sort(perm[: round(0.5 * n)]), np.sort(perm[round(0.5 * n):])


def test_vector_scaling_refuses_separated_classes(digits):
    """On the shipped digits logits (the command line's default half) class 0 is separated by
    its own logit: the last commit drove its scale to 40 (the others ≈ 0.5) and its bias to
    −482, reported converged_=True, and tripled the held-out NLL (0.092 -> 0.275)."""
    logits, labels = digits
    fit, _ = _cli_split(labels.size)
    with pytest.raises(sk.SeparationError) as info:
        VectorScaling().fit(logits[fit], labels[fit])
    err = info.value
    assert err.kind == "quasi-complete" and err.categories == [0]
    assert err.features == ["scale[0]", "bias[0]"]
    assert str(err).startswith(
        "VectorScaling.fit: the maximum-likelihood estimate does not exist — quasi-complete "
        "separation: class 0 (49 of its 49 samples perfectly predicted)."
    )
    assert "VectorScaling(alpha=...)" in str(err)
    # the same class as MultinomialLogit's (one detection, moved to the internal floor)
    assert sk.SeparationError is sk.mlogit.SeparationError


def test_vector_scaling_penalty_warns_and_generalises(digits):
    logits, labels = digits
    fit, test = _cli_split(labels.size)
    before = negative_log_likelihood(sk.softmax(logits[test]), labels[test])
    with pytest.warns(sk.SeparationWarning, match="determined by the penalty"):
        vs = VectorScaling(alpha=1.0).fit(logits[fit], labels[fit])
    assert vs.converged_ and repr(vs) == "VectorScaling(alpha=1.0)"
    w = 1.0 / vs.temperatures_
    assert w.max() < 0.6 and np.abs(vs.bias_).max() < 2.0  # nothing diverges
    after = negative_log_likelihood(vs.predict_proba(logits[test]), labels[test])
    assert round(before, 4) == 0.0921 and round(after, 4) == 0.0756
    # without the test the unpenalised fit runs away, as before
    vs0 = VectorScaling(check_separation=False).fit(logits[fit], labels[fit])
    assert 1.0 / vs0.temperatures_[0] > 20 and vs0.bias_[0] < -200
    assert negative_log_likelihood(vs0.predict_proba(logits[test]), labels[test]) > 2 * before


def test_vector_scaling_on_overlapping_data_is_unchanged(digits):
    """All 899 rows overlap: the test runs and finds nothing; the fit is the same."""
    logits, labels = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vs = VectorScaling().fit(logits, labels)
    assert vs.nll_ == pytest.approx(0.069504, abs=1e-5)


def test_scaler_arguments_are_checked():
    with pytest.raises(TypeError, match=r"^TemperatureScaling: fit_bias must be True or "
                       r"False, got 'no'$"):
        TemperatureScaling(fit_bias="no")
    ts = TemperatureScaling()
    ts.fit_bias = 1
    with pytest.raises(TypeError, match=r"TemperatureScaling\.fit: fit_bias must be True or"):
        ts.fit(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 0])
    assert TemperatureScaling(fit_bias=np.True_).fit_bias is True
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, got -1"):
        VectorScaling(alpha=-1)
    with pytest.raises(TypeError, match="check_separation must be 'auto', True or False"):
        VectorScaling(check_separation="yes")


# --------------------------------------------------------------------------------------------
# NumPy masked arrays: a masked logit is an excluded class, like -inf (issue 14)
# --------------------------------------------------------------------------------------------


def _masked_case():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 3)) * 2.0
    y = np.argmax(z + rng.normal(size=z.shape) * 2.0, axis=1)
    m = np.zeros(z.shape, bool)
    m[5, 2] = m[7, 0] = True
    y[5], y[7] = 0, 1  # labels on classes that stay
    zm = np.ma.masked_array(z.copy(), mask=m)
    zm.data[5, 2] = np.nan  # hidden: must not be read
    zm.data[7, 0] = 50.0  # hidden: would dominate its row if read
    zi = z.copy()
    zi[m] = -np.inf
    return zm, zi, y


@pytest.mark.parametrize("cls", [TemperatureScaling, VectorScaling])
def test_masked_logits_are_excluded_classes(cls):
    zm, zi, y = _masked_case()
    a, b = cls().fit(zm, y), cls().fit(zi, y)
    assert a.nll_ == b.nll_
    assert a.n_iter_ == b.n_iter_
    pa = a.predict_proba(zm)
    assert type(pa) is np.ndarray
    assert pa[5, 2] == 0.0 and pa[7, 0] == 0.0
    np.testing.assert_array_equal(pa, b.predict_proba(zi))
    t = a.transform(zm)  # the mask is kept on the calibrated logits
    assert np.ma.getmaskarray(t).tolist() == np.ma.getmaskarray(zm).tolist()


def test_masked_binary_logit_excludes_class_1():
    zm, _, _ = _masked_case()
    z = zm[:, 0]  # masked at sample 7
    noise = np.random.default_rng(1).normal(size=z.shape[0]) * 2.0
    yb = (np.ma.getdata(z) + noise > 0).astype(int)
    yb[7] = 0
    zi = np.ma.getdata(z).copy()
    zi[7] = -np.inf
    for cls in (TemperatureScaling, VectorScaling):
        a = cls().fit(z, yb)
        assert a.nll_ == cls().fit(zi, yb).nll_
        assert a.predict_proba(z)[7].tolist() == [1.0, 0.0]


def test_masked_probabilities_are_zero_in_the_metrics():
    p = np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6]])
    pm = np.ma.masked_array([[0.7, 0.3, 0.5], [0.2, 0.2, 0.6]], mask=[[0, 0, 1], [0, 0, 0]])
    y = [0, 2]
    assert negative_log_likelihood(pm, y) == negative_log_likelihood(p, y)
    assert negative_log_likelihood(pm, y) == pytest.approx(-(math.log(0.7) + math.log(0.6)) / 2)
    assert brier_score(pm, y) == brier_score(p, y) == pytest.approx(0.21)
    assert expected_calibration_error(pm, y, n_bins=5) == expected_calibration_error(
        p, y, n_bins=5
    )
