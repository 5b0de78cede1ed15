"""Calibration on Dask: the fit's passes are Dask reductions and give the NumPy numbers; the
``calibrate`` command with ``--engine dask`` reports what the library computes on the same
split."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from softmaxkit import calibration as cal  # noqa: E402
from softmaxkit import io as sio  # noqa: E402
from softmaxkit.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def synthetic(rng: np.random.Generator, n: int, k: int, t_true: float) -> tuple[Any, Any]:
    z = rng.normal(size=(n, k)) * 3.0
    p = np.exp(z / t_true)
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return z, y


def test_temperature_scaling_on_dask_equals_numpy(rng: np.random.Generator, client: Any) -> None:
    z, y = synthetic(rng, 60000, 7, 2.5)
    ref = cal.TemperatureScaling().fit(z, y)
    got = cal.TemperatureScaling().fit(da.from_array(z, chunks=(7000, 3)), da.from_array(y))
    # Same blocks in the same order per chunk; only the sum over chunks is associated
    # differently.
    assert got.temperature_ == pytest.approx(ref.temperature_, rel=1e-12)
    assert got.nll_ == pytest.approx(ref.nll_, rel=1e-12)
    assert got.temperature_se_ == pytest.approx(ref.temperature_se_, rel=1e-10)
    assert abs(got.temperature_ - 2.5) < 4 * got.temperature_se_


def test_bias_vector_and_masks_on_dask(rng: np.random.Generator, client: Any) -> None:
    z, y = synthetic(rng, 20000, 5, 1.7)
    mask = np.ones_like(z, dtype=bool)
    mask[::7, 4] = False
    mask[np.arange(z.shape[0]) % 7 == 0, y[np.arange(z.shape[0]) % 7 == 0]] = True
    zd = da.from_array(z, chunks=(3000, 5))
    a = cal.TemperatureScaling(fit_bias=True).fit(z, y, where=mask)
    b = cal.TemperatureScaling(fit_bias=True).fit(zd, y, where=mask)
    assert b.temperature_ == pytest.approx(a.temperature_, rel=1e-8)
    np.testing.assert_allclose(b.bias_, a.bias_, atol=1e-8)
    v = cal.VectorScaling().fit(z, y)
    w = cal.VectorScaling().fit(zd, da.from_array(y, chunks=5000))
    np.testing.assert_allclose(w.temperatures_, v.temperatures_, rtol=1e-7)


def test_binary_single_logit_on_dask(rng: np.random.Generator, client: Any) -> None:
    s = rng.normal(size=8000) * 4
    y = (rng.random(8000) < 1 / (1 + np.exp(-s / 3.0))).astype(int)
    a = cal.TemperatureScaling().fit(s, y)
    b = cal.TemperatureScaling().fit(da.from_array(s, chunks=1500), y)
    assert b.temperature_ == pytest.approx(a.temperature_, rel=1e-12)
    assert b.binary_


def test_bad_label_in_a_late_chunk_is_located(rng: np.random.Generator, client: Any) -> None:
    z, y = synthetic(rng, 10000, 4, 2.0)
    y[8765] = 9
    with pytest.raises(ValueError, match=r"labels\[8765\] = 9 is out of range; expected 0\.\.3"):
        cal.TemperatureScaling().fit(da.from_array(z, chunks=(1000, 4)), da.from_array(y))
    with pytest.raises(TypeError, match="labels is a Dask array but the logits are not"):
        cal.TemperatureScaling().fit(z, da.from_array(y))


def number(text: str, label: str, column: int) -> float:
    line = next(ln for ln in text.splitlines() if ln.startswith(label))
    return float(line[len(label) :].split()[column])


def test_calibrate_command_on_dask(
    tmp_path: Path, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "logits"
    root.mkdir()
    example = pd.read_csv(sio.example_path())
    for i, start in enumerate(range(0, len(example), 300)):
        example.iloc[start : start + 300].to_parquet(root / f"part-{i}.parquet", index=False)
    out = tmp_path / "probs"
    code = main(["calibrate", str(root), "--labels", "label", "--columns", "logit_*",
                 "--engine", "dask", "--scheduler", client.scheduler.address, "-o", str(out)])
    report = capsys.readouterr().out
    assert code == 0, report
    probs = pd.read_parquet(out)
    assert len(probs) == len(example) and (probs["label"] == example["label"]).all()
    fit = (probs["split"] == "fit").to_numpy()
    assert 0.4 < fit.mean() < 0.6
    z = example.filter(like="logit_").to_numpy()
    y = example["label"].to_numpy()
    model = cal.TemperatureScaling().fit(z[fit], y[fit])
    t = float(re.search(r"temperature T = ([0-9.]+)", report).group(1))
    assert t == pytest.approx(model.temperature_, abs=6e-5)  # printed to 4 decimals
    pa = model.predict_proba(z[~fit])
    # T agrees to ~1e-13 (sums associated per chunk); logits of ~30 amplify it 30-fold.
    np.testing.assert_allclose(probs.filter(like="p_").to_numpy()[~fit], pa, rtol=1e-10)
    yt = y[~fit]
    checks = {
        "negative log-likelihood": cal.negative_log_likelihood(pa, yt),
        "Brier score": cal.brier_score(pa, yt),
        "ECE (15 uniform bins)": cal.expected_calibration_error(pa, yt),
        "MCE (15 uniform bins)": cal.maximum_calibration_error(pa, yt),
    }
    for label, value in checks.items():
        assert number(report, label, 1) == pytest.approx(value, abs=6e-5), label


def test_calibrate_dask_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--example", "--engine", "dask"]) == 2
    assert "-o DIRECTORY" in capsys.readouterr().err
    assert main(["calibrate", "--example", "--workers", "2"]) == 2
    assert "--engine dask" in capsys.readouterr().err
