r"""Calibrating a classifier: temperature, vector, Platt, beta, Dirichlet scaling, binning,
isotonic regression, and the calibration metrics.

A network's softmax outputs are usually over-confident. Temperature scaling (Guo et al., "On
Calibration of Modern Neural Networks", ICML 2017) divides every logit by one temperature T
fitted on held-out data by maximum likelihood; the metrics measure how far probabilities are
from the frequencies they claim. Where things live:

============================================  ======================================================
module                                        job
============================================  ======================================================
:mod:`~softmaxkit.calibration.scalers`        :class:`TemperatureScaling`, :class:`VectorScaling`,
                                              the objective :func:`temperature_nll` (with the proof
                                              that the fit is a one-dimensional convex problem)
:mod:`~softmaxkit.calibration.calibrators`    :class:`PlattScaling`, :class:`BetaCalibration`,
                                              :class:`DirichletCalibration` (its ODIR penalty
                                              :func:`odir_penalty`)
:mod:`~softmaxkit.calibration.binning`        :class:`HistogramBinning`,
                                              :class:`IsotonicCalibration` (one-vs-rest,
                                              renormalised)
:mod:`~softmaxkit.calibration.metrics`        :func:`expected_calibration_error`,
                                              :func:`maximum_calibration_error`,
                                              :func:`classwise_ece`,
                                              :func:`negative_log_likelihood`, :func:`brier_score`,
                                              :func:`reliability_table`
:mod:`~softmaxkit.calibration.plot`           :func:`reliability_diagram`,
                                              :func:`reliability_comparison` (matplotlib, loaded on
                                              first use)
:mod:`~softmaxkit.calibration.inputs`         logits read in blocks of rows (NumPy or Dask), labels
                                              (:func:`class_indices`), probabilities
============================================  ======================================================

Everything is a thin layer over :func:`softmaxkit.log_softmax` / :func:`softmaxkit.softmax`;
every public name is importable from ``softmaxkit.calibration`` itself.
"""

from __future__ import annotations

# class_indices, bin_reliability (the command line uses them) and Strategy are public but were
# never in __all__; the redundant aliases mark them as re-exported.
from softmaxkit.calibration.binning import HistogramBinning, IsotonicCalibration
from softmaxkit.calibration.calibrators import (
    BetaCalibration,
    DirichletCalibration,
    PlattScaling,
    odir_penalty,
)
from softmaxkit.calibration.inputs import class_indices as class_indices
from softmaxkit.calibration.metrics import (
    ReliabilityTable,
    brier_score,
    classwise_ece,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_table,
)
from softmaxkit.calibration.metrics import Strategy as Strategy
from softmaxkit.calibration.metrics import bin_reliability as bin_reliability
from softmaxkit.calibration.plot import reliability_comparison, reliability_diagram
from softmaxkit.calibration.scalers import (
    TemperatureNLL,
    TemperatureScaling,
    VectorScaling,
    temperature_nll,
)

__all__ = [
    "BetaCalibration",
    "DirichletCalibration",
    "HistogramBinning",
    "IsotonicCalibration",
    "PlattScaling",
    "ReliabilityTable",
    "TemperatureNLL",
    "TemperatureScaling",
    "VectorScaling",
    "brier_score",
    "classwise_ece",
    "expected_calibration_error",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "odir_penalty",
    "reliability_comparison",
    "reliability_diagram",
    "reliability_table",
    "temperature_nll",
]
