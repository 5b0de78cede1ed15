r"""Calibrating a classifier: temperature scaling, vector scaling and the calibration metrics.

A network's softmax outputs are usually over-confident. Temperature scaling (Guo et al., "On
Calibration of Modern Neural Networks", ICML 2017) divides every logit by one temperature T
fitted on held-out data by maximum likelihood:

.. math:: \mathrm{NLL}(T) = \frac1N \sum_i \Bigl(\log\sum_j e^{z_{ij}/T} - z_{i y_i}/T\Bigr)
          = -\frac1N \sum_i \texttt{log\_softmax}(z_i, T)_{y_i}.

With :math:`\beta = 1/T` and :math:`p_i = \mathrm{softmax}(\beta z_i)` the derivatives are
moments of the logits under the model (the gradient of logsumexp is softmax):

.. math:: \frac{d\,\mathrm{NLL}}{d\beta} = \frac1N\sum_i \bigl(E_{p_i}[z_i] - z_{iy_i}\bigr),
          \qquad
          \frac{d^2\mathrm{NLL}}{d\beta^2} = \frac1N\sum_i \mathrm{Var}_{p_i}[z_i] \ge 0.

So the NLL is **convex in β = 1/T** (strictly, unless every row's logits are constant). In
:math:`u = \log T` it is *not* convex:
:math:`d^2\mathrm{NLL}/du^2 = \beta\,\mathrm{NLL}'(\beta) + \beta^2\,\mathrm{NLL}''(\beta)`
is positive for every T ≤ T* (there NLL'(β) ≥ 0), but as T → ∞ it behaves like
:math:`\beta\,\mathrm{NLL}'(0) < 0`: whenever a finite optimum exists the NLL is concave in
log T at large T. Being a convex function of a monotone reparametrisation it is unimodal in
log T all the same: its derivative changes sign once, at T*.

:class:`TemperatureScaling` finds that sign change by Newton's method in log T with the exact
first and second derivatives, safeguarded by a bracket (a step that leaves the bracket, or a
point where the NLL is concave in log T, is replaced by bisection). The data are processed in
blocks of rows, so memory does not grow with the number of samples (see ``chunk_rows``).

The metrics take probabilities and labels: :func:`expected_calibration_error` (top-label,
L1 by default, any Lp), :func:`maximum_calibration_error`, :func:`classwise_ece`,
:func:`negative_log_likelihood`, :func:`brier_score`, and :func:`reliability_table`, the
per-bin numbers they are computed from. :func:`reliability_diagram` and
:func:`reliability_comparison` draw them (matplotlib).

This module is a thin layer over :func:`softmaxkit.log_softmax` / :func:`softmaxkit.softmax`;
it works on NumPy arrays (other arrays are converted with :func:`numpy.asarray` to fit), and
:meth:`TemperatureScaling.predict_proba` of a fitted model without bias returns the input's
array kind.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from softmaxkit._base import dask as _dask
from softmaxkit._base.core import namespace
from softmaxkit.maps import log_softmax, softmax

__all__ = [
    "ReliabilityTable",
    "TemperatureNLL",
    "TemperatureScaling",
    "VectorScaling",
    "brier_score",
    "classwise_ece",
    "expected_calibration_error",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "reliability_comparison",
    "reliability_diagram",
    "reliability_table",
    "temperature_nll",
]

Strategy = Literal["uniform", "quantile"]

# Cells per block of rows: each block holds about five float64 arrays of this size (the
# logits, log-probabilities, probabilities, deviations and a mask), i.e. about 40 MiB.
_BLOCK_CELLS = 1 << 20


# --------------------------------------------------------------------------- input handling


class _Logits:
    """Logits viewed as ``(N, K)`` blocks of float64; a single column is the binary ``[0, z]``."""

    def __init__(self, logits: Any, where: Any, fn: str, chunk_rows: int | None) -> None:
        self.fn = fn
        self.lazy = _dask.is_dask(logits)
        z = logits if self.lazy else np.asarray(logits)
        if z.dtype == bool or not (
            np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)
        ):
            raise TypeError(f"{fn}: logits must be a real numeric array, got dtype {z.dtype}")
        if z.ndim == 2 and z.shape[1] == 1:
            z = z[:, 0]
        if z.ndim not in (1, 2):
            raise ValueError(
                f"{fn}: logits must be 1-D (binary: one logit per sample) or 2-D "
                f"(samples, classes), got shape {np.shape(logits)}"
            )
        self.binary = z.ndim == 1
        self.z = z
        self.n = int(z.shape[0])
        self.k = 2 if self.binary else int(z.shape[1])
        if self.n == 0:
            raise ValueError(f"{fn}: logits has no samples (shape {np.shape(logits)})")
        if self.k < 2:
            raise ValueError(f"{fn}: logits needs at least 2 classes, got shape {z.shape}")
        self.mask: Any = None
        if where is not None:
            w = where if _dask.is_dask(where) else np.asarray(where)
            if w.dtype != bool:
                raise TypeError(f"{fn}: where must be a boolean array, got dtype {w.dtype}")
            if _dask.is_dask(w) and not self.lazy:
                raise TypeError(f"{fn}: where is a Dask array but the logits are not")
            try:
                if self.lazy:
                    import dask.array as da

                    self.mask = da.broadcast_to(da.asarray(w), (self.n, self.k))
                else:
                    self.mask = np.broadcast_to(w, (self.n, self.k))
            except ValueError:
                raise ValueError(
                    f"{fn}: where of shape {w.shape} does not broadcast to the logits' "
                    f"(samples, classes) = {(self.n, self.k)}"
                ) from None
        if self.lazy:
            # Row blocks with whole rows: every block is one task of a pass.
            self.z = z.rechunk({1: -1}) if z.ndim == 2 else z
            if self.mask is not None:
                self.mask = self.mask.rechunk((self.z.chunks[0], (self.k,)))
        if chunk_rows is None:
            chunk_rows = max(1, _BLOCK_CELLS // self.k)
        if not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
            raise ValueError(f"{fn}: chunk_rows must be a positive integer, got {chunk_rows!r}")
        self.chunk_rows = int(chunk_rows)

    def blocks(self) -> Any:
        """Yield ``(start, x, mask)``: float64 logits of a block of rows and its mask (or None)."""
        yield from _blocks(self.z, self.mask, self.binary, self.chunk_rows, 0)

    def reduce(self, y: Any, block_fn: Any, *args: Any) -> np.ndarray:
        """``Σ_blocks block_fn(start, x, mask, labels, *args)`` (1-D float64 partial sums).

        NumPy logits are read block by block in this process. Dask logits make one task per
        row chunk (each reads its chunk in blocks of ``chunk_rows``), run by Dask's scheduler
        (a ``distributed`` cluster when a client is active); only the partial sums travel.
        """
        if not self.lazy:
            total: np.ndarray | None = None
            for a, x, m in self.blocks():
                part = block_fn(a, x, m, y[a : a + x.shape[0]], *args)
                total = part if total is None else total + part
            assert total is not None
            return total
        import dask

        rows = self.z.chunks[0]
        starts = np.cumsum((0, *rows[:-1])).tolist()
        zs = self.z.to_delayed().ravel()
        ms = [None] * len(zs) if self.mask is None else self.mask.to_delayed().ravel()
        ys = y.to_delayed().ravel() if _dask.is_dask(y) else [
            y[a : a + r] for a, r in zip(starts, rows, strict=True)
        ]
        reduce_chunk = dask.delayed(_reduce_chunk, pure=True)
        tasks = [
            reduce_chunk(
                block_fn, zb, mb, yb, a, self.binary, self.k, self.chunk_rows, self.fn, args
            )
            for zb, mb, yb, a in zip(zs, ms, ys, starts, strict=True)
        ]
        return np.sum(dask.compute(*tasks), axis=0)


def _blocks(z: Any, mask: Any, binary: bool, chunk_rows: int, offset: int) -> Any:
    n = int(z.shape[0])
    for a in range(0, n, chunk_rows):
        b = min(a + chunk_rows, n)
        if binary:
            x = np.zeros((b - a, 2))
            x[:, 1] = z[a:b]
        else:
            x = np.array(z[a:b], dtype=np.float64)
        yield offset + a, x, None if mask is None else np.asarray(mask[a:b])


def _reduce_chunk(
    block_fn: Any,
    z: np.ndarray,
    mask: np.ndarray | None,
    y: np.ndarray,
    start: int,
    binary: bool,
    k: int,
    chunk_rows: int,
    fn: str,
    args: tuple[Any, ...],
) -> np.ndarray:
    """One task of a Dask pass: the partial sums of a chunk of rows."""
    y = class_indices(y, int(z.shape[0]), k, fn, offset=start)
    total: np.ndarray | None = None
    for a, x, m in _blocks(z, mask, binary, chunk_rows, start):
        part = block_fn(a, x, m, y[a - start : a - start + x.shape[0]], *args)
        total = part if total is None else total + part
    assert total is not None
    return total


def class_indices(labels: Any, n: int, k: int, fn: str, offset: int = 0) -> np.ndarray:
    """Class indices (int64) from integer labels or one-hot rows (``offset``: the position of
    the first, in messages)."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1 and k != 1:
        y = y[:, 0]
    if y.ndim == 2:
        if y.shape != (n, k):
            raise ValueError(
                f"{fn}: one-hot labels must have shape (samples, classes) = {(n, k)}, "
                f"got {y.shape}"
            )
        ok = ((y == 0) | (y == 1)).all(axis=1) & (np.count_nonzero(y, axis=1) == 1)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(
                f"{fn}: labels[{offset + row}] = {y[row].tolist()} is not one-hot; expected "
                "exactly one 1 and 0 elsewhere"
            )
        return np.argmax(y, axis=1).astype(np.int64)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"{fn}: labels must be {n} class indices or a one-hot ({n}, {k}) array, got "
            f"shape {y.shape}"
        )
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise TypeError(f"{fn}: labels must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{fn}: labels[{offset + i}] = {float(y[i])!r} is not an integer class index"
            )
    yi = y.astype(np.int64)
    bad = (yi < 0) | (yi >= k)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{fn}: labels[{offset + i}] = {yi[i]} is out of range; expected 0..{k - 1}"
        )
    return yi


def _data_labels(labels: Any, data: _Logits, fn: str) -> Any:
    """The labels of ``data``: validated class indices, or, for Dask labels, a Dask array in
    the logits' row chunks (validated chunk by chunk as each pass reads it)."""
    if not _dask.is_dask(labels):
        return class_indices(labels, data.n, data.k, fn)
    if not data.lazy:
        raise TypeError(f"{fn}: labels is a Dask array but the logits are not")
    if labels.shape[0] != data.n or labels.ndim not in (1, 2):
        raise ValueError(
            f"{fn}: labels must be {data.n} class indices or a one-hot ({data.n}, {data.k}) "
            f"array, got shape {labels.shape}"
        )
    rows = data.z.chunks[0]
    return labels.rechunk((rows,) if labels.ndim == 1 else (rows, (labels.shape[1],)))


# --------------------------------------------------------------------------- the objective


class TemperatureNLL(NamedTuple):
    """Mean negative log-likelihood at one temperature and its derivatives.

    Attributes
    ----------
    nll : float
        :math:`\\mathrm{NLL}(T)`.
    d_beta, d2_beta : float
        First and second derivatives with respect to :math:`\\beta = 1/T`
        (:math:`\\frac1N\\sum_i E_{p_i}[z_i] - z_{iy_i}` and :math:`\\frac1N\\sum_i
        \\mathrm{Var}_{p_i}[z_i]`).
    beta : float
        :math:`1/T`.
    """

    nll: float
    d_beta: float
    d2_beta: float
    beta: float

    @property
    def d_log_t(self) -> float:
        """:math:`d\\,\\mathrm{NLL}/d\\log T = -\\beta\\,\\mathrm{NLL}'(\\beta)`."""
        return -self.beta * self.d_beta

    @property
    def d2_log_t(self) -> float:
        """:math:`d^2\\mathrm{NLL}/d(\\log T)^2 = \\beta\\,\\mathrm{NLL}'(\\beta) +
        \\beta^2\\,\\mathrm{NLL}''(\\beta)` (negative at large T: not convex in log T)."""
        return self.beta * self.d_beta + self.beta**2 * self.d2_beta


def _evaluate(data: _Logits, y: Any, beta: float) -> TemperatureNLL:
    """One pass over the blocks: NLL, its β-derivatives (sums of moments of z under p)."""
    nll, d1, d2 = data.reduce(y, _evaluate_block, 1.0 / beta)
    n = data.n
    return TemperatureNLL(float(nll) / n, float(d1) / n, float(d2) / n, beta)


def _evaluate_block(
    a: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, temperature: float
) -> np.ndarray:
    rows = np.arange(x.shape[0])
    logp = log_softmax(x, temperature=temperature, where=m)
    nll = -float(logp[rows, yc].sum())
    p = np.exp(logp, out=logp)
    if m is not None or not np.isfinite(x).all():
        # Excluded entries have p = 0 but may hold -inf (or anything, when masked).
        keep = np.isfinite(x) if m is None else (m & np.isfinite(x))
        x = np.where(keep, x, 0.0)
    mean = np.einsum("ij,ij->i", p, x)
    d1 = float(mean.sum() - x[rows, yc].sum())
    x -= mean[:, None]
    np.multiply(x, x, out=x)
    d2 = float(np.einsum("ij,ij->i", p, x).sum())  # einsum: no BLAS threads to wake
    return np.array([nll, d1, d2])


class _Limits(NamedTuple):
    d_beta_0: float  # dNLL/dβ at β = 0 (T = ∞)
    d2_beta_0: float  # d²NLL/dβ² at β = 0
    d_beta_inf: float  # dNLL/dβ as β → ∞ (T → 0)


def _limits(data: _Logits, y: Any, fn: str) -> _Limits:
    """Check the logits and labels; the derivatives at the ends β = 0 and β = ∞ (one pass).

    At β = 0 p is uniform over the admissible entries; as β → ∞ it concentrates on the row
    maxima, so E_p[z] → max z.
    """
    s0, s2, sinf = data.reduce(y, _limits_block, data.binary, fn)
    n = data.n
    return _Limits(float(s0) / n, float(s2) / n, float(sinf) / n)


def _limits_block(
    a: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, binary: bool, fn: str
) -> np.ndarray:
    rows = np.arange(x.shape[0])
    if np.isnan(x).any() or np.isposinf(x).any():
        i, j = np.argwhere(np.isnan(x) | np.isposinf(x))[0]
        col = "" if binary else f", {j}"
        raise ValueError(
            f"{fn}: logits[{a + i}{col}] = {float(x[i, j])!r}; expected finite logits (or -inf "
            "for an excluded class)"
        )
    keep = x > -np.inf if m is None else (m & (x > -np.inf))
    if not keep[rows, yc].all():
        i = int(np.flatnonzero(~keep[rows, yc])[0])
        raise ValueError(
            f"{fn}: the label of sample {a + i} (class {yc[i]}) is excluded (masked or "
            "-inf logit), so its likelihood is 0 at every temperature"
        )
    count = keep.sum(axis=1)
    xz = np.where(keep, x, 0.0)
    mean = xz.sum(axis=1) / count
    dev = np.where(keep, x - mean[:, None], 0.0)
    top = np.where(keep, x, -np.inf).max(axis=1)
    return np.array(
        [
            float((mean - x[rows, yc]).sum()),
            float(((dev * dev).sum(axis=1) / count).sum()),
            float((top - x[rows, yc]).sum()),
        ]
    )


def temperature_nll(
    logits: Any,
    labels: Any,
    temperature: float,
    *,
    where: Any = None,
    chunk_rows: int | None = None,
) -> TemperatureNLL:
    r"""Mean negative log-likelihood of temperature-scaled logits, with exact derivatives.

    .. math:: \mathrm{NLL}(\beta) = \frac1N\sum_i\Bigl(\log\sum_j e^{\beta z_{ij}}
              - \beta z_{iy_i}\Bigr), \quad \beta = 1/T,

    with :math:`\mathrm{NLL}'(\beta) = \frac1N\sum_i E_{p_i}[z_i] - z_{iy_i}` and
    :math:`\mathrm{NLL}''(\beta) = \frac1N\sum_i \mathrm{Var}_{p_i}[z_i] \ge 0`
    (:math:`p_i = \mathrm{softmax}(z_i/T)`): convex in β. The derivatives in log T are the
    properties ``d_log_t`` and ``d2_log_t`` of the result.

    Parameters
    ----------
    logits : array_like, shape (N, K), or (N,) / (N, 1) for a binary classifier
        A single column z is the binary model ``softmax([0, z])`` (the sigmoid).
    labels : array_like, shape (N,) of class indices, or (N, K) one-hot
    temperature : float
        T > 0, finite.
    where : array_like of bool, optional
        Broadcastable to (N, K): False marks a class absent from a sample (probability 0).
    chunk_rows : int, optional
        Rows per block (default about 2**20 cells per block).

    Returns
    -------
    TemperatureNLL
        ``(nll, d_beta, d2_beta, beta)``.

    Examples
    --------
    >>> z = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> r = temperature_nll(z, [0, 0], 1.0)
    >>> round(r.nll, 6), round(r.d_beta, 6), round(r.d2_beta, 6)
    (0.720095, 0.246326, 0.308293)
    """
    fn = "temperature_nll"
    t = _check_temperature(temperature, fn)
    data = _Logits(logits, where, fn, chunk_rows)
    y = _data_labels(labels, data, fn)
    _limits(data, y, fn)
    return _evaluate(data, y, 1.0 / t)


def _check_temperature(temperature: Any, fn: str) -> float:
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: temperature must be a number, got {temperature!r}") from None
    if not 0.0 < t < math.inf:
        raise ValueError(f"{fn}: temperature must be finite and > 0, got {temperature!r}")
    return t


def _newton_log_t(
    data: _Logits, y: np.ndarray, lim: _Limits, tol: float, max_iter: int
) -> tuple[float, TemperatureNLL, int, bool]:
    """Safeguarded Newton on g(v) = dNLL/dv, v = log β = -log T; g < 0 left of the root.

    g changes sign exactly once (NLL convex in β), so a bracket [lo, hi] with g(lo) < 0 < g(hi)
    always contains the optimum. Newton steps are taken when g' > 0 (convex there in log T)
    and they stay inside the bracket; otherwise the bracket is expanded or bisected.
    """
    # First guess: one Newton step in β from β = 0, which knows the scale of the logits.
    beta0 = -lim.d_beta_0 / lim.d2_beta_0 if lim.d2_beta_0 > 0 else 1.0
    v = math.log(beta0) if beta0 > 0 and math.isfinite(beta0) else 0.0
    lo, hi = -math.inf, math.inf
    expand = 1.0
    r = _evaluate(data, y, math.exp(v))
    for it in range(1, max_iter + 1):
        beta = r.beta
        g = beta * r.d_beta  # dNLL/dv
        gp = beta * r.d_beta + beta * beta * r.d2_beta
        if g == 0.0:
            return v, r, it, True
        if g < 0:
            lo = v
        else:
            hi = v
        cand = v - g / gp if gp > 0 else math.nan
        newton = lo < cand < hi and abs(cand - v) <= 4.0
        if newton and abs(cand - v) <= math.sqrt(tol):
            # Quadratic convergence: after this step the error is O(step²) <= tol, so take it
            # without paying another pass over the data to confirm.
            return cand, r, it, True
        if not (lo < cand < hi) or not math.isfinite(cand):
            if math.isfinite(lo) and math.isfinite(hi):
                cand = 0.5 * (lo + hi)
            else:
                cand = v + (expand if g < 0 else -expand)
                expand *= 2.0
        # Limit a step to a factor e**4 of the temperature: Newton from far away overshoots.
        cand = min(max(cand, v - 4.0), v + 4.0)
        step = cand - v
        if abs(step) <= tol or (hi - lo) <= tol:
            return v, r, it, True
        v = cand
        r = _evaluate(data, y, math.exp(v))
    return v, r, max_iter, False


def _fit_temperature(
    logits: Any, labels: Any, where: Any, chunk_rows: int | None, tol: float, max_iter: int,
    fn: str,
) -> tuple[_Logits, np.ndarray, float, TemperatureNLL | None, int, bool]:
    data = _Logits(logits, where, fn, chunk_rows)
    y = _data_labels(labels, data, fn)
    lim = _limits(data, y, fn)
    if lim.d_beta_inf <= 0:
        raise ValueError(
            f"{fn}: every sample's label has the largest logit, so the likelihood keeps "
            "increasing as T -> 0 and there is no finite optimal temperature; fit on data "
            "that contain misclassified samples"
        )
    if lim.d_beta_0 >= 0:
        warnings.warn(
            f"{fn}: the logits are no better than uniform guessing on these labels "
            f"(dNLL/d(1/T) = {lim.d_beta_0:.3g} >= 0 at T = inf): the optimal temperature is "
            "infinite and the calibrated probabilities are uniform",
            RuntimeWarning,
            stacklevel=3,
        )
        return data, y, math.inf, None, 0, True
    v, r, it, ok = _newton_log_t(data, y, lim, tol, max_iter)
    if not ok:
        warnings.warn(
            f"{fn}: Newton's method did not converge in {max_iter} iterations",
            RuntimeWarning,
            stacklevel=3,
        )
    return data, y, math.exp(-v), r, it, ok


def _check_fitted(model: Any, attr: str) -> None:
    if not hasattr(model, attr):
        raise AttributeError(
            f"{type(model).__name__} is not fitted yet: call fit(logits, labels) first"
        )


def _binary_input(z: Any, fn: str) -> tuple[Any, bool]:
    """(logits, binary?) where a single column means the binary model [0, z]."""
    shape = tuple(getattr(z, "shape", np.shape(z)))
    if len(shape) == 1:
        return z, True
    if len(shape) == 2 and shape[1] == 1:
        return z[:, 0], True
    if len(shape) != 2:
        raise ValueError(f"{fn}: logits must be 1-D or 2-D, got shape {shape}")
    return z, False


def _as_array(z: Any) -> Any:
    if isinstance(z, list | tuple | numbers.Number):
        return np.asarray(z, dtype=np.float64)
    return z


class TemperatureScaling:
    r"""Temperature scaling: ``softmax(z / T)`` with T fitted by maximum likelihood.

    Parameters
    ----------
    fit_bias : bool, default False
        Also fit a per-class bias b, added after scaling: ``softmax(z / T + b)`` (for a single
        binary logit this is Platt scaling, ``sigmoid(z / T + b)``). T and b are fitted jointly
        by L-BFGS (SciPy) with exact gradients, starting from the temperature-only optimum;
        the NLL is jointly convex in (1/T, b). b is defined up to a constant, and reported
        with mean 0.
    tol : float, default 1e-10
        Convergence tolerance on log T (and the L-BFGS tolerance with ``fit_bias``).
    max_iter : int, default 100
        Most Newton (or L-BFGS) iterations, each one pass over the data.
    chunk_rows : int, optional
        Rows per block; default about 2**20 cells per block. Working memory is about 40 bytes
        per cell of a block (≈ 40 MiB by default) besides the inputs, whatever N.

    Attributes
    ----------
    temperature_ : float
        The fitted T (``inf`` when the logits are no better than uniform guessing, with a
        warning).
    temperature_se_ : float
        Its standard error from the Fisher information:
        :math:`\mathrm{se}(\beta) = 1/\sqrt{N\,\mathrm{NLL}''(\beta)}`, :math:`\mathrm{se}(T) =
        \mathrm{se}(\beta)/\beta^2` (delta method; assumes the model is right).
        NaN with ``fit_bias``.
    bias_ : numpy.ndarray or None
        The per-class bias (``fit_bias=True``), mean 0; for a single binary column, the
        intercept added to the logit.
    nll_ : float
        Validation NLL at the optimum.
    n_iter_ : int
        Iterations (passes over the data after the first, checking one).
    converged_ : bool

    Notes
    -----
    ``fit`` minimises the NLL in log T by a safeguarded Newton method (see the module
    notes): the NLL is convex in 1/T but not in log T; it is unimodal in both. If every
    validation label has the largest logit the likelihood grows without bound as T → 0 and
    ``fit`` raises ``ValueError``.

    Examples
    --------
    >>> from softmaxkit.io import load_example
    >>> logits, labels = load_example()
    >>> ts = TemperatureScaling().fit(logits, labels)
    >>> round(ts.temperature_, 4)
    2.111
    >>> probs = ts.predict_proba(logits)
    >>> round(negative_log_likelihood(probs, labels), 4)     # 0.1263 before
    0.087
    """

    def __init__(
        self,
        fit_bias: bool = False,
        *,
        tol: float = 1e-10,
        max_iter: int = 100,
        chunk_rows: int | None = None,
    ) -> None:
        self.fit_bias = fit_bias
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return f"TemperatureScaling(fit_bias={self.fit_bias})"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> TemperatureScaling:
        """Fit T (and b) on validation logits and labels.

        Parameters
        ----------
        logits : array_like, shape (N, K); or (N,) / (N, 1) for one binary logit
            Finite logits; ``-inf`` marks an excluded class. NaN or ``+inf`` raise.
        labels : array_like, shape (N,) class indices, or (N, K) one-hot
        where : array_like of bool, optional
            Broadcastable to (N, K): False marks a class absent from a sample.

        Returns
        -------
        TemperatureScaling
            ``self``.
        """
        fn = "TemperatureScaling.fit"
        data, y, t, r, it, ok = _fit_temperature(
            logits, labels, where, self.chunk_rows, self.tol, self.max_iter, fn
        )
        self.binary_ = data.binary
        self.n_classes_ = data.k
        self.bias_ = None
        if r is None:  # T = inf
            self.temperature_, self.temperature_se_ = math.inf, math.nan
            self.nll_ = _evaluate(data, y, 1e-300).nll
            self.n_iter_, self.converged_ = it, ok
            return self
        if not self.fit_bias:
            self.temperature_ = t
            self.temperature_se_ = t * t / math.sqrt(data.n * r.d2_beta)
            self.nll_ = r.nll
            self.n_iter_, self.converged_ = it, ok
            return self
        w = np.array([1.0 / t])
        w, b, nll, it2, ok2 = _lbfgs(data, y, w, np.zeros(data.k), self.tol, self.max_iter, fn)
        self.temperature_ = math.inf if w[0] == 0 else 1.0 / float(w[0])
        self.temperature_se_ = math.nan
        self.bias_ = np.array([b[1] - b[0]]) if data.binary else b
        self.nll_ = nll
        self.n_iter_, self.converged_ = it + it2, ok and ok2
        return self

    def transform(self, logits: Any) -> Any:
        """Calibrated logits ``z / T (+ b)``, same shape and array kind as the input.

        Examples
        --------
        >>> ts = TemperatureScaling()
        >>> ts.temperature_, ts.bias_, ts.binary_ = 2.0, None, False
        >>> ts.transform(np.array([[2.0, 4.0]]))
        array([[1., 2.]])
        """
        _check_fitted(self, "temperature_")
        z = _as_array(logits)
        _, binary = _binary_input(z, "TemperatureScaling.transform")
        x = z / self.temperature_
        if self.bias_ is not None:
            xp = namespace(x)
            b = xp.asarray(self.bias_ if not binary else self.bias_[-1:], dtype=x.dtype)
            x = x + b
        return x

    def predict_proba(self, logits: Any, *, where: Any = None) -> Any:
        """Calibrated probabilities ``softmax(z / T (+ b))``; (N, 2) for one binary logit.

        Examples
        --------
        >>> ts = TemperatureScaling()
        >>> ts.temperature_, ts.bias_, ts.binary_ = 2.0, None, True
        >>> ts.predict_proba(np.array([0.0, 2.0 * np.log(3.0)]))
        array([[0.5 , 0.5 ],
               [0.25, 0.75]])
        """
        _check_fitted(self, "temperature_")
        z = _as_array(logits)
        zz, binary = _binary_input(z, "TemperatureScaling.predict_proba")
        if binary:
            x = self.transform(zz)
            xp = namespace(x)
            return softmax(xp.stack([xp.zeros_like(x), x], axis=-1), where=where)
        if self.bias_ is None:
            return softmax(z, temperature=self.temperature_, where=where)
        return softmax(self.transform(z), where=where)


def _pass_wb(
    data: _Logits, y: Any, w: np.ndarray, b: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """NLL of softmax(w ⊙ z + b) and its exact gradients (w scalar or per class)."""
    total = data.reduce(y, _wb_block, w, b)
    n = data.n
    nw = w.shape[0]
    return float(total[0]) / n, total[1 : 1 + nw] / n, total[1 + nw :] / n


def _wb_block(
    a: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, w: np.ndarray, b: np.ndarray
) -> np.ndarray:
    rows = np.arange(x.shape[0])
    if m is not None or not np.isfinite(x).all():
        keep = np.isfinite(x) if m is None else (m & np.isfinite(x))
        xz = np.where(keep, x, 0.0)
        m = keep
    else:
        xz = x
    logp = log_softmax(w * xz + b, where=m)
    nll = -float(logp[rows, yc].sum())
    r = np.exp(logp, out=logp)  # p - onehot(y): the gradient of each row's NLL
    r[rows, yc] -= 1.0
    gb = r.sum(axis=0)
    if w.shape[0] == 1:
        gw = np.array([float(np.einsum("ij,ij->i", r, xz).sum())])
    else:
        gw = np.einsum("ij,ij->j", r, xz)
    return np.concatenate([[nll], gw, gb])


def _lbfgs(
    data: _Logits, y: np.ndarray, w0: np.ndarray, b0: np.ndarray, tol: float, max_iter: int,
    fn: str,
) -> tuple[np.ndarray, np.ndarray, float, int, bool]:
    """Minimise the NLL of softmax(w ⊙ z + b) over (w ≥ 0, b) by L-BFGS-B, exact gradients.

    The gradient in b sums to 0 (softmax is shift invariant), so iterates started from a
    centred b stay centred.
    """
    from scipy.optimize import minimize

    nw = w0.shape[0]

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nll, gw, gb = _pass_wb(data, y, theta[:nw], theta[nw:])
        return nll, np.concatenate([gw, gb])

    res = minimize(
        f,
        np.concatenate([w0, b0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * nw + [(None, None)] * data.k,
        options={"maxiter": max_iter, "ftol": tol * 1e-3, "gtol": tol, "maxcor": 20},
    )
    if not res.success:
        warnings.warn(f"{fn}: L-BFGS-B stopped: {res.message}", RuntimeWarning, stacklevel=4)
    w, b = res.x[:nw], res.x[nw:]
    return w, b - b.mean(), float(res.fun), int(res.nit), bool(res.success)


class VectorScaling:
    r"""Vector scaling: one temperature and one bias per class, ``softmax(z / t + b)``.

    The NLL of ``softmax(w ⊙ z + b)`` with :math:`w_j = 1/t_j` is jointly convex in (w, b)
    (logsumexp of a linear function of the parameters minus a linear one). It is minimised by
    L-BFGS-B (SciPy) with exact gradients — :math:`\partial/\partial w_j = \frac1N\sum_i
    z_{ij}(p_{ij} - [y_i = j])`, :math:`\partial/\partial b_j = \frac1N\sum_i (p_{ij} -
    [y_i = j])` — under :math:`w_j \ge 0`, starting from the temperature-scaling optimum.

    Parameters
    ----------
    tol, max_iter, chunk_rows
        As for :class:`TemperatureScaling`.

    Attributes
    ----------
    temperatures_ : numpy.ndarray, shape (K,)
        Per-class temperatures :math:`t_j = 1/w_j` (``inf`` where :math:`w_j = 0`).
    bias_ : numpy.ndarray, shape (K,)
        Per-class bias, mean 0 (b is defined up to a constant).
    nll_, n_iter_, converged_
        As for :class:`TemperatureScaling`.

    Notes
    -----
    For one binary logit (the model ``[0, z]``) only the positive class's scale matters,
    and this is Platt scaling. With K classes it has 2K parameters: use it with enough
    validation data (it over-fits more easily than temperature scaling).

    Examples
    --------
    >>> from softmaxkit.io import load_example
    >>> logits, labels = load_example()
    >>> vs = VectorScaling().fit(logits, labels)
    >>> vs.temperatures_.shape, bool(vs.nll_ < 0.0870)
    ((10,), True)
    """

    def __init__(
        self, *, tol: float = 1e-10, max_iter: int = 1000, chunk_rows: int | None = None
    ) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return "VectorScaling()"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> VectorScaling:
        """Fit per-class temperatures and biases; arguments as :meth:`TemperatureScaling.fit`.

        Returns
        -------
        VectorScaling
            ``self``.
        """
        fn = "VectorScaling.fit"
        data, y, t, _, it, ok = _fit_temperature(
            logits, labels, where, self.chunk_rows, self.tol, 100, fn
        )
        w0 = np.full(data.k, 0.0 if math.isinf(t) else 1.0 / t)
        w, b, nll, it2, ok2 = _lbfgs(data, y, w0, np.zeros(data.k), self.tol, self.max_iter, fn)
        with np.errstate(divide="ignore"):
            self.temperatures_ = 1.0 / w
        self.bias_ = b
        self.binary_ = data.binary
        self.n_classes_ = data.k
        self.nll_ = nll
        self.n_iter_, self.converged_ = it + it2, ok and ok2
        return self

    def transform(self, logits: Any) -> Any:
        """Calibrated logits ``z / t + b`` (one binary logit: ``z / t_1 + b_1 - b_0``).

        Examples
        --------
        >>> vs = VectorScaling()
        >>> vs.temperatures_, vs.bias_ = np.array([1.0, 2.0]), np.array([-0.5, 0.5])
        >>> vs.transform(np.array([[2.0, 4.0]]))
        array([[1.5, 2.5]])
        """
        _check_fitted(self, "temperatures_")
        z = np.asarray(logits, dtype=float)
        zz, binary = _binary_input(z, "VectorScaling.transform")
        with np.errstate(invalid="ignore"):
            if binary:
                return zz / self.temperatures_[1] + (self.bias_[1] - self.bias_[0])
            return z / self.temperatures_ + self.bias_

    def predict_proba(self, logits: Any, *, where: Any = None) -> np.ndarray:
        """Calibrated probabilities ``softmax(z / t + b)``; (N, 2) for one binary logit."""
        _check_fitted(self, "temperatures_")
        z = np.asarray(logits, dtype=float)
        _, binary = _binary_input(z, "VectorScaling.predict_proba")
        x = self.transform(z)
        if binary:
            x = np.stack([np.zeros_like(x), x], axis=-1)
        return softmax(x, where=where)


# --------------------------------------------------------------------------- metrics


def _probs(probs: Any, labels: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) float64 probabilities and int labels; a 1-D input is P(class 1) of a binary task."""
    p = np.asarray(probs)
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise TypeError(f"{fn}: probs must be a real numeric array, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.ndim == 1:
        p = np.stack([1.0 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"{fn}: probs must be (samples, classes) with at least 2 classes, or 1-D "
            f"P(class 1) of a binary task; got shape {np.shape(probs)}"
        )
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{fn}: probs[{i}, {j}] = {float(p[i, j])!r}; probabilities must be in [0, 1]"
        )
    # Lenient enough for probabilities written with 6 significant digits; catches logits.
    err = np.abs(p.sum(axis=1) - 1.0)
    tol = 1e-4
    if (err > tol).any():
        i = int(np.argmax(err > tol))
        raise ValueError(
            f"{fn}: probs[{i}] sums to {float(p[i].sum())!r}; each row must sum to 1 "
            f"(within {tol:g}) — pass probabilities, e.g. softmax(logits), not logits"
        )
    y = class_indices(labels, p.shape[0], p.shape[1], fn)
    return p, y


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


# --------------------------------------------------------------------------- plots


def reliability_diagram(
    probs: Any,
    labels: Any,
    ax: Any = None,
    *,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    title: str | None = None,
    counts: bool = True,
    legend: bool = True,
) -> Any:
    """Reliability diagram: accuracy per confidence bin against the diagonal (matplotlib).

    Bars show each bin's accuracy; the hatched red boxes the gap to its mean confidence
    (above the bar: over-confident), ending at the bin's mean confidence (red tick); the dashed
    diagonal is perfect calibration; a panel below shows how many samples fall in each bin
    (log scale). ECE, MCE and N are written under the title. Needs matplotlib
    (``pip install softmaxkit[plot]``).

    Parameters
    ----------
    probs, labels, n_bins, strategy
        As for :func:`reliability_table`.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure. The counts panel is split off below it.
    title : str, optional
    counts : bool, default True
        Draw the counts panel.
    legend : bool, default True
        Draw the legend (above the diagram).

    Returns
    -------
    matplotlib.axes.Axes
        The diagram's axes (the counts panel is ``ax.counts_ax`` when drawn).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = reliability_diagram([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], n_bins=5)
    >>> ax.get_ylabel()
    'accuracy'
    """
    from softmaxkit._reliability_plot import draw_reliability

    table = reliability_table(probs, labels, n_bins=n_bins, strategy=strategy)
    return draw_reliability(table, ax, title=title, counts=counts, legend=legend)


def reliability_comparison(
    probs_before: Any,
    probs_after: Any,
    labels: Any,
    *,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    titles: tuple[str, str] = ("before calibration", "after calibration"),
) -> Any:
    """Two reliability diagrams side by side, e.g. before and after temperature scaling.

    Parameters
    ----------
    probs_before, probs_after : array_like, shape (N, K)
        Probabilities of the same samples.
    labels, n_bins, strategy
        As for :func:`reliability_table`.
    titles : (str, str)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = reliability_comparison([[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.4, 0.6]], [0, 0])
    >>> len(fig.axes)
    4
    """
    import matplotlib.pyplot as plt

    from softmaxkit._reliability_plot import draw_reliability

    fig = plt.figure(figsize=(10, 6.6), layout="constrained")
    grid = fig.subplots(2, 2, sharex=True, height_ratios=[3, 1])
    for col, pr, title in zip(range(2), (probs_before, probs_after), titles, strict=True):
        table = reliability_table(pr, labels, n_bins=n_bins, strategy=strategy)
        draw_reliability(table, grid[0, col], title=title, legend=False, counts_ax=grid[1, col])
    handles, names = grid[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=4, frameon=False)
    return fig
