"""The ``softmaxkit calibrate`` command, run in-process through ``main``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

import softmaxkit as sk
from softmaxkit.calibration import (
    TemperatureScaling,
    brier_score,
    expected_calibration_error,
    negative_log_likelihood,
)
from softmaxkit.cli import main
from softmaxkit.io import load_example


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def split(n: int, fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The split the command documents: a seeded permutation, the first part fits."""
    perm = np.random.default_rng(seed).permutation(n)
    k = round(fraction * n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def table_value(out: str, metric: str) -> tuple[float, float]:
    line = next(ln for ln in out.splitlines() if ln.startswith(metric))
    before, after, _ = line[len(metric) :].split()
    return float(before), float(after)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    return rows[0], rows[1:]


def test_example_reports_the_fit_on_the_held_out_part(capsys, tmp_path):
    out_csv, png = tmp_path / "p.csv", tmp_path / "rel.png"
    code, out, err = run(
        ["calibrate", "--example", "-o", str(out_csv), "--plot", str(png)], capsys
    )
    assert code == 0, err
    z, y = load_example()
    fit, test = split(len(y))
    ts = TemperatureScaling().fit(z[fit], y[fit])
    assert f"temperature T = {ts.temperature_:.4f} +/- {ts.temperature_se_:.4f}" in out
    before, after = sk.softmax(z[test]), ts.predict_proba(z[test])
    for name, fn in [
        ("negative log-likelihood", negative_log_likelihood),
        ("Brier score", brier_score),
        ("ECE (15 uniform bins)", expected_calibration_error),
    ]:
        assert table_value(out, name) == pytest.approx(
            (round(fn(before, y[test]), 4), round(fn(after, y[test]), 4)), abs=1e-12
        )
    assert table_value(out, "negative log-likelihood")[1] < table_value(
        out, "negative log-likelihood"
    )[0]
    names, rows = read_csv(out_csv)
    assert names == ["label", *(f"p_{j}" for j in range(10)), "split"]
    probs = np.array([[float(v) for v in r[1:11]] for r in rows])
    np.testing.assert_allclose(probs, ts.predict_proba(z), rtol=1e-15)
    assert [r[-1] for r in rows] == ["fit" if i in set(fit) else "test" for i in range(len(y))]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_labels_from_a_file_and_options(capsys, tmp_path, rng):
    z = rng.normal(scale=3.0, size=(300, 4))
    p = sk.softmax(z, temperature=0.5)
    y = (p.cumsum(axis=1) < rng.random((300, 1))).sum(axis=1)
    logits = tmp_path / "z.npy"
    np.save(logits, z)
    labels = tmp_path / "y.csv"
    labels.write_text("y\n" + "\n".join(map(str, y)) + "\n")
    code, out, err = run(
        ["calibrate", str(logits), "--labels", str(labels), "--validation-split", "0.7",
         "--seed", "3", "--n-bins", "10", "--strategy", "quantile"],
        capsys,
    )
    assert code == 0, err
    fit, test = split(300, 0.7, 3)
    ts = TemperatureScaling().fit(z[fit], y[fit])
    assert f"T = {ts.temperature_:.4f}" in out
    assert "fitted on 210 rows" in out and "the other 90" in out
    ece = expected_calibration_error(
        ts.predict_proba(z[test]), y[test], n_bins=10, strategy="quantile"
    )
    assert table_value(out, "ECE (10 quantile bins)")[1] == pytest.approx(round(ece, 4))
    code, out, err = run(
        ["calibrate", str(logits), "--labels", str(labels), "--method", "vector"], capsys
    )
    assert code == 0, err
    assert "vector scaling: per-class temperatures" in out


def test_binary_single_column_and_stdout(capsys, tmp_path, rng):
    s = rng.normal(scale=3.0, size=200)
    y = (rng.random(200) < 1 / (1 + np.exp(-s / 2))).astype(int)
    f = tmp_path / "scores.csv"
    f.write_text("score,y\n" + "".join(f"{float(a)!r},{b}\n" for a, b in zip(s, y, strict=True)))
    code, out, err = run(["calibrate", str(f), "--labels", "y", "-o", "-"], capsys)
    assert code == 0, err
    assert "200 rows x 2 classes" in err  # the report moves to stderr
    names, rows = read_csv_text(out)
    assert names == ["y", "p_0", "p_1", "split"]
    fit, _ = split(200)
    ts = TemperatureScaling().fit(s[fit], y[fit])
    got = np.array([float(r[2]) for r in rows])
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-s / ts.temperature_)), rtol=1e-14)


def read_csv_text(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_errors(capsys, tmp_path):
    f = tmp_path / "z.csv"
    f.write_text("a,b,label\n1,2,0\n3,1,7\n0,0,1\n")
    code, _, err = run(["calibrate", str(f), "--labels", "label"], capsys)
    assert code == 2 and "row 2, column label: label 7 is out of range for 2 classes" in err
    code, _, err = run(["calibrate", str(f), "--labels", "nope"], capsys)
    assert code == 2 and "neither a column of this file" in err
    code, _, err = run(["calibrate", str(f)], capsys)
    assert code == 2 and "--labels COL|FILE is required" in err
    code, _, err = run(["calibrate", "--example", "--validation-split", "1"], capsys)
    assert code == 2 and "strictly between 0 and 1" in err
    code, _, err = run(["calibrate", "--example", "--plot", "x.pdf"], capsys)
    assert code == 2 and "ending in .png" in err
    g = tmp_path / "bad.csv"
    g.write_text("a,b,label\n1,2,x\n")
    code, _, err = run(["calibrate", str(g), "--labels", "label"], capsys)
    assert code == 2 and "row 1, column label: label 'x' is not a class index" in err
    # every validation label is the top class: no finite temperature, reported as bad input
    h = tmp_path / "sep.csv"
    h.write_text("a,b,label\n" + "5,0,0\n0,5,1\n" * 10)
    code, _, err = run(["calibrate", str(h), "--labels", "label"], capsys)
    assert code == 2 and "no finite optimal temperature" in err
