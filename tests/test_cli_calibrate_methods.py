"""``softmaxkit calibrate --method dirichlet|isotonic|histogram|beta|platt``: the command reports
what the library computes on the same split, writes its probabilities, and checks the options
that belong to one method."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

from softmaxkit import calibration as cal
from softmaxkit.cli import main
from softmaxkit.io import load_example


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def split(n: int, fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    k = round(fraction * n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def table_value(out: str, metric: str) -> tuple[float, float]:
    line = next(ln for ln in out.splitlines() if ln.startswith(metric))
    before, after, _ = line[len(metric):].split()
    return float(before), float(after)


def synthetic_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """400 rows of 4 over-confident logits (labels from softmax(z / 2)) as a CSV file."""
    rng = np.random.default_rng(5)
    z = rng.normal(scale=2.5, size=(400, 4))
    p = np.exp(z / 2)
    p /= p.sum(axis=1, keepdims=True)
    y = np.minimum((p.cumsum(axis=1) < rng.random((400, 1))).sum(axis=1), 3)
    rows = "".join(",".join(f"{float(v)!r}" for v in r) + f",{c}\n"
                   for r, c in zip(z, y, strict=True))
    path.write_text("logit_0,logit_1,logit_2,logit_3,label\n" + rows)
    return z, y


def test_dirichlet_reports_what_the_library_computes(capsys, tmp_path):
    path, out_csv = tmp_path / "z.csv", tmp_path / "p.csv"
    z, y = synthetic_csv(path)
    code, out, err = run(["calibrate", str(path), "--labels", "label", "--method", "dirichlet",
                          "--lambda", "0.01", "--mu", "0.1", "-o", str(out_csv)], capsys)
    assert code == 0, err
    fit, test = split(len(y))
    dc = cal.DirichletCalibration(0.01, 0.1).fit(z[fit], y[fit])
    assert f"validation NLL at the optimum: {dc.nll_:.4f}" in out
    assert "(--lambda 0.01, --mu 0.1)" in out
    _, nll = table_value(out, "negative log-likelihood")
    assert nll == pytest.approx(cal.negative_log_likelihood(dc.predict_proba(z[test]), y[test]),
                                abs=6e-5)
    rows = list(csv.reader(io.StringIO(out_csv.read_text())))
    cols = [rows[0].index(f"p_{j}") for j in range(4)]
    probs = np.array([[float(r[c]) for c in cols] for r in rows[1:]])
    np.testing.assert_allclose(probs, dc.predict_proba(z), rtol=1e-6, atol=1e-9)


CASES = [
    (["--method", "isotonic"], lambda: cal.IsotonicCalibration()),
    (["--method", "histogram", "--calibration-bins", "8"], lambda: cal.HistogramBinning(8)),
    (["--method", "beta", "--beta-alpha", "1"], lambda: cal.BetaCalibration(alpha=1.0)),
]


@pytest.mark.parametrize(("options", "make"), CASES, ids=["isotonic", "histogram", "beta"])
def test_methods_report_what_the_library_computes(capsys, tmp_path, options, make):
    out_csv = tmp_path / "p.csv"
    code, out, err = run(["calibrate", "--example", "-o", str(out_csv), *options], capsys)
    assert code == 0, err
    z, y = load_example()
    fit, test = split(len(y))
    model = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(z[fit], y[fit])
    after = model.predict_proba(z[test])
    _, ece = table_value(out, "ECE (15 uniform bins)")
    assert ece == pytest.approx(cal.expected_calibration_error(after, y[test]), abs=6e-5)
    _, brier = table_value(out, "Brier score")
    assert brier == pytest.approx(cal.brier_score(after, y[test]), abs=6e-5)
    rows = list(csv.reader(io.StringIO(out_csv.read_text())))
    header, body = rows[0], rows[1:]
    probs = np.array([[float(r[header.index(f"p_{j}")]) for j in range(10)] for r in body])
    np.testing.assert_allclose(probs, model.predict_proba(z), rtol=1e-12, atol=1e-15)


def test_platt_on_a_binary_file(capsys, tmp_path):
    rng = np.random.default_rng(0)
    s = rng.normal(size=400) * 2
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.5 * s + 0.2)))).astype(int)
    path = tmp_path / "scores.csv"
    lines = "".join(f"{float(a)!r},{b}\n" for a, b in zip(s, y, strict=True))
    path.write_text("score,label\n" + lines)
    code, out, err = run(["calibrate", str(path), "--labels", "label", "--method", "platt"],
                         capsys)
    assert code == 0, err
    fit, _ = split(400)
    ps = cal.PlattScaling().fit(s[fit], y[fit])
    assert f"P(class 1) = sigmoid({ps.coef_:.4f} z {ps.intercept_:+.4f})" in out
    code, out, err = run(["calibrate", str(path), "--labels", "label", "--method", "platt",
                          "--smoothing"], capsys)
    assert code == 0 and "Platt's smoothed targets" in out


def test_method_advice_names_the_commands_options(capsys):
    code, out, err = run(["calibrate", "--example", "--method", "dirichlet"], capsys)
    assert (code, out) == (2, "")
    assert "separated" in err and "--lambda L > 0" in err and "lambda_" not in err
    code, out, err = run(["calibrate", "--example", "--method", "beta"], capsys)
    assert code == 2 and "--beta-alpha 1" in err and "alpha=" not in err
    code, out, err = run(["calibrate", "--example", "--method", "platt"], capsys)
    assert code == 2 and "binary classifier" in err and "10 logit columns" in err


@pytest.mark.parametrize(("options", "message"), [
    (["--lambda", "1"], "--lambda applies to --method dirichlet"),
    (["--method", "beta", "--mu", "1"], "--mu applies to --method dirichlet"),
    (["--beta-alpha", "1"], "--beta-alpha applies to --method beta"),
    (["--method", "histogram", "--smoothing"], "--smoothing applies to --method platt"),
    (["--calibration-bins", "5"], "--calibration-bins applies to --method histogram"),
    (["--method", "dirichlet", "--lambda", "-1"], "must be a finite number >= 0"),
])
def test_options_of_one_method_are_refused_elsewhere(capsys, options, message):
    code, _, err = run(["calibrate", "--example", *options], capsys)
    assert code == 2 and message in err


def test_plot_titles_the_method(capsys, tmp_path: Path):
    png = tmp_path / "iso.png"
    code, _, err = run(["calibrate", "--example", "--method", "isotonic", "--plot", str(png),
                          "-q"], capsys)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
