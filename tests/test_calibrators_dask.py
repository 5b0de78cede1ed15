"""The calibrators beyond temperature on Dask arrays: the fit's passes are Dask reductions (or
one gather, for isotonic regression and quantile bins) and give the NumPy numbers;
``predict_proba`` of Dask logits is a Dask array."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import softmaxkit as sk  # noqa: E402
from softmaxkit.calibration import (  # noqa: E402
    BetaCalibration,
    DirichletCalibration,
    HistogramBinning,
    IsotonicCalibration,
    PlattScaling,
)


def draw(rng: np.random.Generator, n: int, k: int):
    z = rng.normal(scale=2.5, size=(n, k))
    p = np.asarray(sk.softmax(z, temperature=2.0))
    y = np.minimum((p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1), k - 1)
    return z, y


MODELS = [  # beta, dirichlet, histogram, histogram-quantile, isotonic
    lambda: BetaCalibration(),
    lambda: DirichletCalibration(1e-2),
    lambda: HistogramBinning(8),
    lambda: HistogramBinning(8, strategy="quantile"),
    lambda: IsotonicCalibration(),
]


@pytest.mark.parametrize("make", MODELS)
def test_dask_fit_and_predict_equal_numpy(rng, make):
    z, y = draw(rng, 240, 3)
    where = rng.random((240, 3)) > 0.15
    where[np.arange(240), y] = True
    ref = make().fit(z, y, where=where)
    zd = da.from_array(z, chunks=(50, 3))
    wd = da.from_array(where, chunks=(70, 3))
    yd = da.from_array(y, chunks=60)
    got = make().fit(zd, yd, where=wd)
    p = got.predict_proba(zd, where=wd)
    assert isinstance(p, da.Array)
    np.testing.assert_allclose(p.compute(), ref.predict_proba(z, where=where), rtol=1e-7,
                               atol=1e-9)


def test_dask_platt_binary(rng):
    s = rng.normal(size=300) * 2
    y = (rng.random(300) < 1 / (1 + np.exp(-s))).astype(int)
    ref = PlattScaling().fit(s, y)
    got = PlattScaling().fit(da.from_array(s, chunks=70), da.from_array(y, chunks=70))
    assert got.coef_ == pytest.approx(ref.coef_, rel=1e-12)
    p = got.predict_proba(da.from_array(s, chunks=70))
    assert isinstance(p, da.Array) and p.shape == (300, 2)
    np.testing.assert_allclose(p.compute(), ref.predict_proba(s), rtol=1e-14)


def test_dask_separation_test_sees_every_chunk():
    # The separation statistics are minima and maxima folded over the chunks, not sums.
    s = np.array([-3.0, 1.0, -2.0, 2.0, -1.0, 3.0])
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(sk.SeparationError):
        PlattScaling().fit(da.from_array(s, chunks=2), da.from_array(y, chunks=2))
    s2 = np.array([-3.0, 1.0, -2.0, 2.0, 0.5, -1.0])  # a positive below a negative
    y2 = np.array([0, 1, 0, 1, 0, 1])
    PlattScaling().fit(da.from_array(s2, chunks=2), da.from_array(y2, chunks=2))
