r"""Calibration metrics of probabilities against labels, and the reliability table behind them.

Top-label metrics bin the confidence ``max_k p_k`` of every sample and compare each bin's mean
confidence with its accuracy: :func:`expected_calibration_error` (L1 by default, any Lp),
:func:`maximum_calibration_error` (L-infinity) and :func:`reliability_table` (the per-bin
numbers, also drawn by :mod:`softmaxkit.calibration.plot`). :func:`classwise_ece` bins every
class's probability on its own. :func:`negative_log_likelihood` and :func:`brier_score` are the
proper scoring rules. All take NumPy-convertible probabilities and labels.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from softmaxkit.calibration.inputs import _probs

__all__ = [
    "ReliabilityTable",
    "Strategy",
    "bin_reliability",
    "brier_score",
    "classwise_ece",
    "expected_calibration_error",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "reliability_table",
]

Strategy = Literal["uniform", "quantile"]


def _check_bins(n_bins: Any, strategy: str, fn: str) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"{fn}: n_bins must be a positive integer, got {n_bins!r}")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"{fn}: strategy must be 'uniform' or 'quantile', got {strategy!r}")
    return int(n_bins)


def _check_p(p: Any, fn: str) -> float:
    try:
        q = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: p must be a number >= 1 (or inf), got {p!r}") from None
    if not q >= 1:
        raise ValueError(f"{fn}: p must be >= 1 (or inf), got {p!r}")
    return q


@dataclass(frozen=True)
class ReliabilityTable:
    """Per-bin numbers behind a reliability diagram and the calibration errors.

    Bin b holds the samples whose confidence c satisfies ``edges[b] <= c < edges[b + 1]``
    (the last bin also holds ``c == edges[-1]``): NumPy's histogram convention, also used by
    netcal and scikit-learn's ``calibration_curve``.

    Attributes
    ----------
    edges : numpy.ndarray, shape (n_bins + 1,)
        Bin edges, from 0 to 1.
    counts : numpy.ndarray of int, shape (n_bins,)
        Samples per bin.
    confidence : numpy.ndarray, shape (n_bins,)
        Mean confidence in each bin (NaN for an empty bin).
    accuracy : numpy.ndarray, shape (n_bins,)
        Fraction correct in each bin (NaN for an empty bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.counts.sum())

    @property
    def gap(self) -> np.ndarray:
        """``confidence - accuracy`` per bin (> 0: over-confident; NaN for empty bins)."""
        return self.confidence - self.accuracy

    def ece(self, p: float = 1.0) -> float:
        r"""Calibration error :math:`\bigl(\sum_b \frac{n_b}{N}\,|\mathrm{acc}_b -
        \mathrm{conf}_b|^p\bigr)^{1/p}`; ``p = inf`` gives the largest gap (MCE)."""
        q = _check_p(p, "ReliabilityTable.ece")
        full = self.counts > 0
        gap = np.abs(self.gap[full])
        if q == math.inf:
            return float(gap.max())
        w = self.counts[full] / self.n
        return float(np.dot(w, gap**q) ** (1.0 / q))

    def __str__(self) -> str:
        lines = ["bin  range            count  confidence  accuracy     gap"]
        for b in range(self.counts.shape[0]):
            close = "]" if b == len(self.counts) - 1 else ")"
            rng = f"[{self.edges[b]:.3f}, {self.edges[b + 1]:.3f}{close}"
            if self.counts[b]:
                lines.append(
                    f"{b:3d}  {rng:15s} {self.counts[b]:6d}  {self.confidence[b]:10.4f}  "
                    f"{self.accuracy[b]:8.4f}  {self.gap[b]:+.4f}"
                )
            else:
                lines.append(f"{b:3d}  {rng:15s} {0:6d}           -         -        -")
        return "\n".join(lines)


def bin_reliability(
    conf: np.ndarray, hit: np.ndarray, n_bins: int, strategy: str
) -> ReliabilityTable:
    """The reliability table of confidences ``conf`` and hits ``hit`` (1 where the predicted
    class is right), binned ``"uniform"``-ly on [0, 1] or by ``"quantile"`` of ``conf``."""
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
    idx = np.searchsorted(edges[1:-1], conf, side="right")
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(idx, weights=conf, minlength=n_bins) / counts
        accuracy = np.bincount(idx, weights=hit.astype(np.float64), minlength=n_bins) / counts
    return ReliabilityTable(edges, counts, confidence, accuracy)


def reliability_table(
    probs: Any, labels: Any, *, n_bins: int = 15, strategy: Strategy = "uniform"
) -> ReliabilityTable:
    """Top-label reliability table: confidence ``max_k p_k`` binned, against accuracy.

    The predicted class is ``argmax_k p_k`` (the first on ties) and is correct when it equals
    the label.

    Parameters
    ----------
    probs : array_like, shape (N, K); or (N,) = P(class 1) of a binary task
        Probabilities: entries in [0, 1], rows summing to 1 (within 1e-4).
    labels : array_like, shape (N,) class indices, or (N, K) one-hot
    n_bins : int, default 15
    strategy : {"uniform", "quantile"}
        ``"uniform"``: edges ``linspace(0, 1, n_bins + 1)``; ``"quantile"``: edges at the
        quantiles of the confidences (equal counts, up to ties), the outer ones set to 0 and 1.

    Returns
    -------
    ReliabilityTable

    Examples
    --------
    >>> t = reliability_table([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], n_bins=2)
    >>> t.counts, t.confidence, t.accuracy
    (array([0, 3]), array([nan, 0.8]), array([       nan, 0.66666667]))
    """
    fn = "reliability_table"
    n_bins = _check_bins(n_bins, strategy, fn)
    p, y = _probs(probs, labels, fn)
    pred = np.argmax(p, axis=1)
    conf = p[np.arange(p.shape[0]), pred]
    return bin_reliability(conf, pred == y, n_bins, strategy)


def expected_calibration_error(
    probs: Any,
    labels: Any,
    *,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    p: float = 1.0,
) -> float:
    r"""Top-label expected calibration error (Naeini et al. 2015; Guo et al. 2017).

    .. math:: \mathrm{ECE}_p = \Bigl(\sum_b \frac{n_b}{N}\,
              \bigl|\mathrm{acc}_b - \mathrm{conf}_b\bigr|^p\Bigr)^{1/p}

    over the non-empty bins of :func:`reliability_table`; p = 1 is the usual ECE, p = 2 the
    root-mean-square calibration error, p = inf the maximum (:func:`maximum_calibration_error`).

    Parameters
    ----------
    probs, labels, n_bins, strategy
        As for :func:`reliability_table`.
    p : float, default 1
        The norm, p ≥ 1 (``inf`` allowed).

    Returns
    -------
    float
        In [0, 1].

    Notes
    -----
    Bins are left-closed (``[e_b, e_{b+1})``, the last closed), as in netcal and
    scikit-learn; Guo et al.'s reference code uses right-closed bins ``(e_b, e_{b+1}]``. The
    two agree unless a confidence falls exactly on an inner edge.

    Examples
    --------
    Four predictions with confidence 0.9, 0.8, 0.7, 0.55 (all in the upper of two bins: mean
    0.7375), two of them right (accuracy 0.5):

    >>> probs = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45]]
    >>> round(expected_calibration_error(probs, [0, 1, 1, 1], n_bins=2), 10)
    0.2375
    """
    q = _check_p(p, "expected_calibration_error")
    return reliability_table(probs, labels, n_bins=n_bins, strategy=strategy).ece(q)


def maximum_calibration_error(
    probs: Any, labels: Any, *, n_bins: int = 15, strategy: Strategy = "uniform"
) -> float:
    r"""Largest gap :math:`\max_b |\mathrm{acc}_b - \mathrm{conf}_b|` over non-empty bins.

    Arguments as for :func:`reliability_table`.

    Examples
    --------
    >>> probs = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]
    >>> round(maximum_calibration_error(probs, [0, 1, 1], n_bins=2), 10)   # 0.8 - 2/3
    0.1333333333
    """
    return reliability_table(probs, labels, n_bins=n_bins, strategy=strategy).ece(math.inf)


def classwise_ece(
    probs: Any,
    labels: Any,
    *,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    p: float = 1.0,
    average: bool = True,
) -> Any:
    r"""Class-wise ECE (Kull et al. 2019): every class's probability binned on its own.

    .. math:: \mathrm{cwECE} = \frac1K\sum_k \Bigl(\sum_b \frac{n_{kb}}{N}\,
              \bigl|\mathrm{freq}_{kb} - \mathrm{conf}_{kb}\bigr|^p\Bigr)^{1/p}

    where bin b of class k holds the samples with :math:`p_k` in it, :math:`\mathrm{conf}_{kb}`
    is their mean :math:`p_k` and :math:`\mathrm{freq}_{kb}` the fraction whose label is k.

    Parameters
    ----------
    probs, labels, n_bins, strategy, p
        As for :func:`expected_calibration_error` (quantile edges are per class).
    average : bool, default True
        Return the mean over classes; False returns the K per-class errors.

    Returns
    -------
    float or numpy.ndarray of shape (K,)

    Examples
    --------
    >>> classwise_ece([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], n_bins=2)
    0.3
    """
    fn = "classwise_ece"
    n_bins = _check_bins(n_bins, strategy, fn)
    q = _check_p(p, fn)
    pr, y = _probs(probs, labels, fn)
    per = np.array(
        [bin_reliability(pr[:, k], y == k, n_bins, strategy).ece(q) for k in range(pr.shape[1])]
    )
    return float(per.mean()) if average else per


def negative_log_likelihood(probs: Any, labels: Any) -> float:
    r"""Mean negative log-likelihood :math:`-\frac1N\sum_i \log p_{iy_i}` (the log loss).

    A zero probability on a true class gives ``inf`` (nothing is clipped).

    Examples
    --------
    >>> round(negative_log_likelihood([[0.5, 0.5], [0.25, 0.75]], [0, 1]), 6)
    0.490415
    """
    pr, y = _probs(probs, labels, "negative_log_likelihood")
    with np.errstate(divide="ignore"):
        return float(-np.log(pr[np.arange(pr.shape[0]), y]).mean())


def brier_score(probs: Any, labels: Any) -> float:
    r"""Multiclass Brier score :math:`\frac1N\sum_i\sum_k (p_{ik} - [y_i = k])^2` (Brier 1950).

    In [0, 2]. For a binary task it is twice the one-column score
    :math:`\frac1N\sum_i (p_{i1} - y_i)^2` of scikit-learn's ``brier_score_loss``.

    Examples
    --------
    >>> brier_score([[0.5, 0.5], [0.25, 0.75]], [0, 1])
    0.3125
    """
    pr, y = _probs(probs, labels, "brier_score")
    d = pr.copy()
    d[np.arange(pr.shape[0]), y] -= 1.0
    return float(np.einsum("ij,ij->", d, d) / pr.shape[0])
