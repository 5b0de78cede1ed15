"""What the calibrators beyond temperature share: one-vs-rest scores, gathering, prediction.

The one-vs-rest calibrators (beta, histogram binning, isotonic regression) see a classifier
through the scores :math:`s_{ij} = \\mathrm{softmax}(z_i)_j`. A binary classifier (one logit
per sample, or two columns) has one *model*, on :math:`s_{i1}`; K ≥ 3 classes have K models,
one per class, each fitted on the samples where its class is admissible and at least one
other class is (a sample with a single admissible class is certain, before and after).
Their outputs are renormalised over the admissible classes; a row whose calibrated scores are
all 0 becomes uniform over its admissible classes (scikit-learn's choice; netcal divides by
zero and returns NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from softmaxkit._base.dask import is_dask
from softmaxkit.calibration._separation import _in_memory
from softmaxkit.calibration.inputs import (
    _blocks,
    _data_labels,
    _Logits,
    class_indices,
    masked_where,
)
from softmaxkit.calibration.scalers import _binary_input, _check_fitted, _limits
from softmaxkit.maps import log_softmax, logsumexp

__all__ = ["Scores", "fit_data", "fold", "gather_scores", "ovr_predict", "predict_blocks",
           "renormalise"]


class Scores:
    """One block of rows seen by the one-vs-rest models.

    Attributes
    ----------
    log_s, log_1ms : ndarray, shape (n, M)
        :math:`\\log s` and :math:`\\log(1 - s)` of each model's score, both accurate
        (:math:`\\log(1-s)` of the largest class is a logsumexp of the others, not
        ``log1p(-s)``, which would round to ``-inf`` when s rounds to 1).
    cand : ndarray of bool, shape (n, M)
        Whether the sample is a training sample (and a free output) of the model.
    keep : ndarray of bool, shape (n, K)
        Admissible classes.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray | None, binary: bool) -> None:
        keep = np.isfinite(x) if m is None else (m & np.isfinite(x))
        lp = np.asarray(log_softmax(x) if keep.all() else log_softmax(x, where=keep))
        count = keep.sum(axis=1)
        self.keep = keep
        if binary or x.shape[1] == 2:
            self.log_s = lp[:, 1:]
            self.log_1ms = lp[:, :1]
            self.cand = (count == 2)[:, None]
            return
        with np.errstate(divide="ignore"):
            log_1ms = np.log1p(-np.exp(lp))
        rows = np.arange(x.shape[0])
        top = np.argmax(lp, axis=1)
        others = lp.copy()
        others[rows, top] = -np.inf
        log_1ms[rows, top] = np.asarray(logsumexp(others, axis=1))
        self.log_s = lp
        self.log_1ms = log_1ms
        self.cand = keep & (count >= 2)[:, None]


def fit_data(logits: Any, labels: Any, where: Any, fn: str,
             chunk_rows: int | None) -> tuple[_Logits, Any]:
    """The validation set of a fit: the logits read in blocks of ``chunk_rows``, the labels
    checked against them, and both checked to fit the accumulators (the checks and messages
    of :class:`~softmaxkit.calibration.TemperatureScaling`)."""
    data = _Logits(logits, where, fn, chunk_rows)
    y = _data_labels(labels, data, fn)
    _limits(data, y, fn)
    return data, y


def models(k: int, binary: bool) -> int:
    """The number of one-vs-rest models: 1 for a binary classifier, else K."""
    return 1 if binary or k == 2 else k


def positives(yc: np.ndarray, n_models: int) -> np.ndarray:
    """(n, M) bool: the sample is of the model's class (class 1 for a binary classifier)."""
    if n_models == 1:
        return (yc == 1)[:, None]
    return yc[:, None] == np.arange(n_models)[None, :]


def fold(data: _Logits, y: Any, block_fn: Any, combine: Any, *args: Any) -> Any:
    """``combine`` of ``block_fn(start, x, mask, labels, *args)`` over the blocks: as
    ``_Logits.reduce`` for statistics that are not sums (minima, maxima). Dask logits make
    one task per row chunk; only the per-chunk results travel."""
    if not data.lazy:
        out = None
        for a, x, m in data.blocks():
            part = block_fn(a, x, m, y[a : a + x.shape[0]], *args)
            out = part if out is None else combine(out, part)
        return out
    import dask

    task = dask.delayed(_fold_chunk, pure=True)
    parts = dask.compute(*[
        task(block_fn, combine, zb, mb, yb, a, data.binary, data.k, data.chunk_rows, data.fn,
             args)
        for zb, mb, yb, a in data.chunks(y)
    ])
    out = parts[0]
    for part in parts[1:]:
        out = combine(out, part)
    return out


def _fold_chunk(
    block_fn: Any, combine: Any, z: np.ndarray, mask: np.ndarray | None, y: np.ndarray,
    start: int, binary: bool, k: int, chunk_rows: int, fn: str, args: tuple[Any, ...],
) -> Any:
    y = class_indices(y, int(z.shape[0]), k, fn, offset=start)
    out = None
    for a, x, m in _blocks(z, mask, binary, chunk_rows, start):
        part = block_fn(a, x, m, y[a - start : a - start + x.shape[0]], *args)
        out = part if out is None else combine(out, part)
    return out


def gather_scores(data: _Logits, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All samples' ``(log s, positive, candidate)``, each (N, M), in this process.

    Used by the calibrators whose fit needs every score at once (isotonic regression,
    quantile bins): 8 + 2 bytes a cell; Dask logits are computed here.
    """
    z, mask, yc = _in_memory(data, y)
    m_ = models(data.k, data.binary)
    log_s = np.empty((data.n, m_))
    pos = np.empty((data.n, m_), dtype=bool)
    cand = np.empty((data.n, m_), dtype=bool)
    for a, x, m in _blocks(z, mask, data.binary, data.chunk_rows, 0):
        sc = Scores(x, m, data.binary)
        b = a + x.shape[0]
        log_s[a:b] = sc.log_s
        pos[a:b] = positives(yc[a:b], m_)
        cand[a:b] = sc.cand
    return log_s, pos, cand


def renormalise(c: np.ndarray, sc: Scores, binary: bool) -> np.ndarray:
    """(n, K) probabilities from the models' calibrated scores ``c`` (n, M).

    Binary: ``[1 - c, c]``. K classes: excluded classes 0, a sample with one admissible class
    certain, the others divided by their sum — or uniform over the admissible classes when
    every calibrated score of the row is 0 (never NaN).
    """
    keep = sc.keep
    if c.shape[1] == 1:
        p1 = np.where(sc.cand[:, 0], c[:, 0], keep[:, 1].astype(float))
        return np.stack([1.0 - p1, p1], axis=1)
    out = np.where(sc.cand, c, keep.astype(float))  # a lone admissible class gets 1
    total = out.sum(axis=1, keepdims=True)
    zero = total[:, 0] == 0
    if zero.any():
        out[zero] = keep[zero]
        total[zero, 0] = keep[zero].sum(axis=1)
    return out / total


def ovr_predict(model: Any, attr: str, logits: Any, where: Any, fn: str) -> Any:
    """``predict_proba`` of a one-vs-rest calibrator: ``model._calibrate(Scores)`` (n, M)
    renormalised; NumPy in, NumPy out; Dask in, Dask out (one task per row chunk)."""
    _check_fitted(model, attr)
    _, binary = _binary_input(logits, fn)
    logits, where = masked_where(logits, binary, where)

    def block(x: np.ndarray, m: np.ndarray | None) -> np.ndarray:
        sc = Scores(x, m, binary)
        return renormalise(model._calibrate(sc), sc, binary)

    return predict_blocks(model, logits, where, binary, fn, block)


def predict_blocks(model: Any, logits: Any, where: Any, binary: bool, fn: str, block: Any) -> Any:
    """Apply ``block(x, mask) -> (n, K)`` to (N, K) float64 logits (a binary logit as
    ``[0, z]``), checking the number of classes against the fit."""
    k = model.n_classes_
    if is_dask(logits):
        import dask.array as da

        z = logits.astype(np.float64)
        if z.ndim == 2 and z.shape[1] == 1:
            z = z[:, 0]
        if z.ndim == 1:
            z = da.stack([da.zeros_like(z), z], axis=1)
        _check_k(z.shape[1], k, binary, model, fn)
        z = z.rechunk({1: -1})
        if where is None:
            return z.map_blocks(lambda x: block(x, None), dtype=np.float64)
        w = da.broadcast_to(da.asarray(where), z.shape).rechunk(z.chunks)
        return da.map_blocks(block, z, w, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 2 and z.shape[1] == 1:
        z = z[:, 0]
    if z.ndim == 1:
        z = np.stack([np.zeros_like(z), z], axis=1)
    if z.ndim != 2:
        raise ValueError(f"{fn}: logits must be 1-D or 2-D, got shape {np.shape(logits)}")
    _check_k(z.shape[1], k, binary, model, fn)
    if np.isnan(z).any() or np.isposinf(z).any():
        i, j = np.argwhere(np.isnan(z) | np.isposinf(z))[0]
        raise ValueError(f"{fn}: logits[{i}, {j}] = {float(z[i, j])!r}; expected finite "
                         "logits (or -inf for an excluded class)")
    m = None
    if where is not None:
        w = np.asarray(where)
        if w.dtype != bool:
            raise TypeError(f"{fn}: where must be a boolean array, got dtype {w.dtype}")
        try:
            m = np.broadcast_to(w, z.shape)
        except ValueError:
            raise ValueError(f"{fn}: where of shape {w.shape} does not broadcast to the "
                             f"logits' (samples, classes) = {z.shape}") from None
    return block(z, m)


def _check_k(k: int, fitted: int, binary: bool, model: Any, fn: str) -> None:
    if k != fitted:
        raise ValueError(
            f"{fn}: logits have {k} classes{' (binary)' if binary else ''}; "
            f"{type(model).__name__} was fitted on {fitted}"
        )


def check_positive_int(value: Any, name: str, fn: str) -> int:
    """``value`` as an int ≥ 1, or ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{fn}: {name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{fn}: {name} must be >= 1, got {value!r}")
    return int(value)


def check_nonneg(value: Any, name: str, fn: str) -> float:
    """``value`` as a finite float ≥ 0, or ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{fn}: {name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{fn}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)
