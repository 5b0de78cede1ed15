r"""Non-parametric calibrators: histogram binning and isotonic regression, one-vs-rest.

Both map a score :math:`s \in [0, 1]` — P(class 1) of a binary classifier, or each class's
softmax probability for K ≥ 3 classes — to an observed frequency, and share
:class:`~softmaxkit.calibration.TemperatureScaling`'s interface (``fit(logits, labels, *,
where=None)``, ``predict_proba``; NumPy or Dask logits; masks). With K ≥ 3 classes the K
calibrated scores are divided by their sum; a row whose calibrated scores are all 0 (every
class's score fell where no sample of that class was seen) becomes **uniform over its
admissible classes** — scikit-learn's choice; it is never NaN (netcal divides by zero there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from softmaxkit._base.optional import require
from softmaxkit.calibration._ovr import (
    Scores,
    check_positive_int,
    fit_data,
    gather_scores,
    models,
    ovr_predict,
    positives,
)

__all__ = ["HistogramBinning", "IsotonicCalibration"]


def _bin_index(s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each score: bins ``[e_b, e_{b+1})``, the last closed; clipped to the ends."""
    n_bins = edges.shape[0] - 1
    return np.clip(np.searchsorted(edges, s, side="right") - 1, 0, n_bins - 1)


def _each_model(sc: Scores, calibrate: Callable[[int, np.ndarray], np.ndarray]) -> np.ndarray:
    """(n, M) calibrated scores: ``calibrate(j, s_j)`` of each model's scores ``s_j``."""
    s = np.exp(sc.log_s)
    out = np.empty_like(s)
    for j in range(s.shape[1]):
        out[:, j] = calibrate(j, s[:, j])
    return out


def _hist_block(
    a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, edges: np.ndarray,
    binary: bool,
) -> np.ndarray:
    """Per model and bin: [samples, positives] (flattened (2, M, B))."""
    sc = Scores(x, m, binary)
    n_models = sc.cand.shape[1]
    pos = positives(yc, n_models)
    n_bins = edges.shape[1] - 1
    out = np.zeros((2, n_models, n_bins))
    s = np.exp(sc.log_s)
    for j in range(n_models):
        c = sc.cand[:, j]
        idx = _bin_index(s[c, j], edges[j])
        out[0, j] = np.bincount(idx, minlength=n_bins)
        out[1, j] = np.bincount(idx, weights=pos[c, j].astype(float), minlength=n_bins)
    return out.ravel()


class HistogramBinning:
    r"""Histogram binning (Zadrozny & Elkan, ICML 2001), one-vs-rest for K classes.

    The score range [0, 1] is cut into ``n_bins`` bins :math:`[e_b, e_{b+1})` (the last
    closed); a score in bin b is replaced by the fraction of positives among the validation
    samples in that bin, :math:`\hat\theta_b = \frac{\sum_{i \in b} [y_i = j]}{|b|}`, which is
    the maximum-likelihood piecewise-constant map. An **empty bin** maps to its centre
    :math:`(e_b + e_{b+1})/2` (netcal's choice: no evidence, the diagonal).

    Parameters
    ----------
    n_bins : int, default 10
    strategy : {"uniform", "quantile"}, default "uniform"
        Bins of equal width, or with equal numbers of validation scores (each model's
        quantiles, outer edges 0 and 1). ``"uniform"`` fits in one pass over blocks of
        rows (bounded memory, Dask: one task per chunk); ``"quantile"`` needs every score
        at once (8 bytes per sample and model).
    chunk_rows : int, optional

    Attributes
    ----------
    edges_ : numpy.ndarray, shape (M, n_bins + 1)
        Bin edges of the M models (M = 1 for a binary classifier, else K).
    values_ : numpy.ndarray, shape (M, n_bins)
        Calibrated score of each bin.
    counts_ : numpy.ndarray, shape (M, n_bins)
        Validation samples in each bin.

    Examples
    --------
    >>> z = np.log(np.array([0.1, 0.15, 0.3, 0.8, 0.85, 0.9]) / np.array([0.9, 0.85, 0.7,
    ...                                                                      0.2, 0.15, 0.1]))
    >>> hb = HistogramBinning(n_bins=2).fit(z, [0, 0, 1, 1, 1, 0])   # binary logits
    >>> hb.values_
    array([[0.33333333, 0.66666667]])
    >>> hb.predict_proba(np.array([0.0, 3.0])).round(4)          # s = 0.5 is in the last bin
    array([[0.3333, 0.6667],
           [0.3333, 0.6667]])
    """

    def __init__(
        self, n_bins: int = 10, *, strategy: Literal["uniform", "quantile"] = "uniform",
        chunk_rows: int | None = None,
    ) -> None:
        self.n_bins = check_positive_int(n_bins, "n_bins", "HistogramBinning")
        if strategy not in ("uniform", "quantile"):
            raise ValueError("HistogramBinning: strategy must be 'uniform' or 'quantile', got "
                             f"{strategy!r}")
        self.strategy = strategy
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return f"HistogramBinning(n_bins={self.n_bins}, strategy={self.strategy!r})"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> HistogramBinning:
        """Count the validation samples and positives per bin; arguments as
        :meth:`TemperatureScaling.fit`.

        Returns
        -------
        HistogramBinning
            ``self``.
        """
        fn = "HistogramBinning.fit"
        n_bins = check_positive_int(self.n_bins, "n_bins", fn)
        data, y = fit_data(logits, labels, where, fn, self.chunk_rows)
        n_models = models(data.k, data.binary)
        binary = n_models == 1
        grid = np.linspace(0.0, 1.0, n_bins + 1)
        if self.strategy == "uniform":
            edges = np.tile(grid, (n_models, 1))
            tot = data.reduce(y, _hist_block, edges, binary).reshape(2, n_models, n_bins)
            counts, hits = tot[0], tot[1]
        else:
            log_s, pos, cand = gather_scores(data, y)
            s = np.exp(log_s)
            edges = np.empty((n_models, n_bins + 1))
            counts = np.zeros((n_models, n_bins))
            hits = np.zeros((n_models, n_bins))
            for j in range(n_models):
                sj = s[cand[:, j], j]
                e = np.quantile(sj, grid) if sj.size else grid.copy()
                e[0], e[-1] = 0.0, 1.0
                edges[j] = e
                idx = _bin_index(sj, e)
                counts[j] = np.bincount(idx, minlength=n_bins)
                hits[j] = np.bincount(idx, weights=pos[cand[:, j], j].astype(float),
                                      minlength=n_bins)
        centre = 0.5 * (edges[:, :-1] + edges[:, 1:])
        with np.errstate(invalid="ignore", divide="ignore"):
            self.values_ = np.where(counts > 0, hits / np.maximum(counts, 1), centre)
        self.edges_ = edges
        self.counts_ = counts
        self.binary_ = data.binary
        self.n_classes_ = data.k
        return self

    def _calibrate(self, sc: Scores) -> np.ndarray:
        return _each_model(sc, lambda j, s: self.values_[j, _bin_index(s, self.edges_[j])])

    def predict_proba(self, logits: Any, *, where: Any = None) -> Any:
        """Calibrated probabilities (N, K) ((N, 2) for one binary logit), renormalised
        one-vs-rest (see the module notes). NumPy in, NumPy out; Dask in, Dask out."""
        return ovr_predict(self, "values_", logits, where, "HistogramBinning.predict_proba")


class IsotonicCalibration:
    r"""Isotonic regression calibration (Zadrozny & Elkan, KDD 2002), one-vs-rest.

    For each model, the non-decreasing map :math:`m` minimising
    :math:`\sum_i ([y_i = j] - m(s_i))^2` over the validation scores (the pool-adjacent-
    violators solution, which also maximises the likelihood among monotone maps). Tied
    scores are merged first (their mean label, weighted by their count), and new scores are
    mapped by linear interpolation between the fitted points, constant beyond the smallest
    and largest — exactly scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``.

    Parameters
    ----------
    chunk_rows : int, optional
        Rows per block while the scores are computed; the fit holds every score (8 bytes per
        sample and model, Dask logits are computed into this process), since the
        pool-adjacent-violators algorithm needs them sorted.

    Attributes
    ----------
    thresholds_ : list of numpy.ndarray
        Per model, the distinct validation scores (increasing).
    values_ : list of numpy.ndarray
        Per model, the fitted map at those scores (non-decreasing, in [0, 1]).

    Notes
    -----
    A model with no candidate sample (its class never admissible) maps every score to 0.
    The maps are step-like, so calibrated scores of 0 are common; see the module notes for
    a row where all are 0.

    Examples
    --------
    >>> s = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7])
    >>> ic = IsotonicCalibration().fit(np.log(s / (1 - s)), [0, 1, 0, 1, 1, 1])
    >>> ic.values_[0]
    array([0. , 0.5, 0.5, 1. , 1. , 1. ])
    >>> ic.predict_proba(np.log([0.25 / 0.75]))[:, 1].round(4)
    array([0.5])
    """

    def __init__(self, *, chunk_rows: int | None = None) -> None:
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return "IsotonicCalibration()"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> IsotonicCalibration:
        """Fit the monotone maps; arguments as :meth:`TemperatureScaling.fit`.

        Returns
        -------
        IsotonicCalibration
            ``self``.
        """
        fn = "IsotonicCalibration.fit"
        isotonic_regression = require("scipy.optimize", fn=fn).isotonic_regression
        data, y = fit_data(logits, labels, where, fn, self.chunk_rows)
        log_s, pos, cand = gather_scores(data, y)
        thresholds, values = [], []
        for j in range(log_s.shape[1]):
            s = np.exp(log_s[cand[:, j], j])
            t = pos[cand[:, j], j].astype(float)
            if s.size == 0:
                thresholds.append(np.array([0.0]))
                values.append(np.array([0.0]))
                continue
            u, inverse = np.unique(s, return_inverse=True)
            w = np.bincount(inverse, minlength=u.size).astype(float)
            mean = np.bincount(inverse, weights=t, minlength=u.size) / w
            fitted = isotonic_regression(mean, weights=w, increasing=True).x
            thresholds.append(u)
            values.append(np.clip(fitted, 0.0, 1.0))
        self.thresholds_, self.values_ = thresholds, values
        self.binary_ = data.binary
        self.n_classes_ = data.k
        return self

    def _calibrate(self, sc: Scores) -> np.ndarray:
        return _each_model(sc, lambda j, s: np.interp(s, self.thresholds_[j], self.values_[j]))

    def predict_proba(self, logits: Any, *, where: Any = None) -> Any:
        """Calibrated probabilities (N, K) ((N, 2) for one binary logit), renormalised
        one-vs-rest (see the module notes). NumPy in, NumPy out; Dask in, Dask out."""
        return ovr_predict(self, "values_", logits, where, "IsotonicCalibration.predict_proba")
