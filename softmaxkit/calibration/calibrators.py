r"""Parametric calibrators beyond temperature: Platt, beta and Dirichlet calibration.

All three share :class:`~softmaxkit.calibration.TemperatureScaling`'s interface: ``fit(logits,
labels, *, where=None)`` on validation data read in blocks of ``chunk_rows`` rows (NumPy, or Dask
with one task per row chunk: memory does not grow with N), then ``predict_proba(logits, *,
where=None)``. Logits are finite, or ``-inf`` for an excluded class; ``where=False`` and the
masked entries of a NumPy masked array exclude a class too (probability 0 before and after).
One logit per sample (shape (N,) or (N, 1)) is the binary classifier ``softmax([0, z])``.

- :class:`PlattScaling` (Platt 1999): :math:`P(y=1\mid s) = \sigma(a s + b)` on a binary score
  s, fitted by Newton's method with the exact 2×2 Hessian; optionally on Platt's smoothed
  targets.
- :class:`BetaCalibration` (Kull, Silva Filho & Flach, AISTATS 2017): :math:`\mathrm{logit}\,
  \mu(s) = a \log s - b \log(1-s) + c`, a, b ≥ 0, on s = P(class 1) (binary) or on each class's
  probability one-vs-rest, renormalised.
- :class:`DirichletCalibration` (Kull et al., NeurIPS 2019): ``softmax(W log q + b)`` on the
  log-probabilities :math:`\log q = \texttt{log\_softmax}(z)`, with the ODIR penalty
  (:func:`odir_penalty`).

Their fits are smooth convex problems solved with exact gradients. When the data are
*separated* the maximum-likelihood estimate does not exist (the parameters would diverge):
the fits test for it first and raise :class:`~softmaxkit.SeparationError`, or, with a
penalty, warn :class:`~softmaxkit.SeparationWarning`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from softmaxkit._base.errors import SeparationError, SeparationWarning
from softmaxkit._base.optional import require
from softmaxkit._base.separation import MARGIN_TOL, separating_direction
from softmaxkit.calibration._ovr import (
    Scores,
    check_nonneg,
    fit_data,
    fold,
    models,
    ovr_predict,
    positives,
    predict_blocks,
)
from softmaxkit.calibration._separation import _in_memory
from softmaxkit.calibration.inputs import _blocks, _data_labels, _Logits, masked_where
from softmaxkit.calibration.scalers import (
    _binary_input,
    _check_check_separation,
    _check_fitted,
    _limits,
)
from softmaxkit.maps import log_softmax, softmax

__all__ = ["BetaCalibration", "DirichletCalibration", "PlattScaling", "odir_penalty"]


def _softplus(u: np.ndarray) -> np.ndarray:
    """log(1 + e^u) without overflow."""
    return np.logaddexp(0.0, u)


def _sigmoid(u: np.ndarray) -> np.ndarray:
    """σ(u) = softmax([0, u])[1], exact in both tails."""
    return np.asarray(softmax(np.stack([np.zeros_like(u), u], axis=-1)))[..., 1]


def _side_stats(log_s: np.ndarray, pos: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Per model: [positives, negatives, min score of a positive, max of a negative,
    max of a positive, min of a negative] (the separation test's sufficient statistics)."""
    p, q = cand & pos, cand & ~pos
    big = np.inf
    return np.stack([
        p.sum(axis=0).astype(float),
        q.sum(axis=0).astype(float),
        np.where(p, log_s, big).min(axis=0, initial=big),
        np.where(q, log_s, -big).max(axis=0, initial=-big),
        np.where(p, log_s, -big).max(axis=0, initial=-big),
        np.where(q, log_s, big).min(axis=0, initial=big),
    ])


def _merge_stats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two blocks' :func:`_side_stats` as one."""
    return np.stack([a[0] + b[0], a[1] + b[1], np.minimum(a[2], b[2]), np.maximum(a[3], b[3]),
                     np.maximum(a[4], b[4]), np.minimum(a[5], b[5])])


def _separated(stats: np.ndarray, increasing_only: bool) -> list[tuple[int, str]]:
    """``(model, description)`` of every model whose data are separated by a threshold."""
    out = []
    for m in range(stats.shape[1]):
        n_pos, n_neg, min_pos, max_neg, max_pos, min_neg = stats[:, m]
        if n_pos == 0 or n_neg == 0:
            out.append((m, "one-sided: " + ("every" if n_neg == 0 else "no") +
                        " candidate sample is positive"))
            continue
        constant = min_pos == max_pos == max_neg == min_neg
        if max_neg <= min_pos and not constant:
            kind = "complete" if max_neg < min_pos else "quasi-complete"
            out.append((m, f"{kind}: every positive's score is >= every negative's"))
        elif not increasing_only and max_pos <= min_neg and not constant:
            kind = "complete" if max_pos < min_neg else "quasi-complete"
            out.append((m, f"{kind}: every positive's score is <= every negative's"))
    return out


def _model_name(m: int, n_models: int) -> str:
    return "class 1 (binary)" if n_models == 1 else f"class {m}"


# --------------------------------------------------------------------------- Platt


def _platt_block(
    a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, theta: np.ndarray,
    targets: tuple[float, float],
) -> np.ndarray:
    """[NLL on the targets, its gradient (2), Hessian (3), NLL on the labels]."""
    sc = Scores(x, m, True)
    cand = sc.cand[:, 0]
    s = np.where(cand, x[:, 1] - x[:, 0], 0.0)
    pos = yc == 1
    t = np.where(pos, targets[1], targets[0])
    u = theta[0] * s + theta[1]
    sp = _softplus(u)
    nll = float(((sp - t * u) * cand).sum())
    nll_labels = float(((sp - pos * u) * cand).sum())
    p = _sigmoid(u)
    r = (p - t) * cand
    h = p * (1.0 - p) * cand
    return np.array([nll, (r * s).sum(), r.sum(), (h * s * s).sum(), (h * s).sum(), h.sum(),
                     nll_labels])


def _platt_stats(a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray) -> np.ndarray:
    sc = Scores(x, m, True)
    # The score s = z1 - z0 orders the samples as log s does.
    return _side_stats((x[:, 1] - x[:, 0])[:, None], positives(yc, 1), sc.cand)


class PlattScaling:
    r"""Platt scaling of a binary score: :math:`P(y = 1 \mid s) = \sigma(a s + b)`.

    The score s is any real number that grows with the evidence for class 1 — a logit
    (one per sample, or the difference ``z[:, 1] - z[:, 0]`` of two columns), an SVM margin,
    a probability. (a, b) minimise the mean log-loss
    :math:`\frac1N\sum_i \mathrm{softplus}(a s_i + b) - t_i (a s_i + b)`, convex, by Newton's
    method with the exact Hessian :math:`\frac1N\sum_i \sigma_i(1-\sigma_i)\,[s_i, 1]^T
    [s_i, 1]` and a backtracking line search, each step one pass over the data.

    Parameters
    ----------
    smoothing : bool, default False
        False: targets :math:`t_i = y_i` (maximum likelihood). True: Platt's targets
        :math:`t_+ = (N_+ + 1)/(N_+ + 2)` for positives and :math:`t_- = 1/(N_- + 2)` for
        negatives (a Bayesian prior on the out-of-sample frequencies, Platt 1999 §2.2), as
        scikit-learn's ``CalibratedClassifierCV(method="sigmoid")`` always does. The smoothed
        problem has a minimiser even when the classes are separated.
    tol : float, default 1e-12
        Stop when the Newton decrement :math:`g^T H^{-1} g / 2` falls below ``tol``.
    max_iter : int, default 100
    chunk_rows : int, optional
        Rows per block (as :class:`TemperatureScaling`).

    Attributes
    ----------
    coef_, intercept_ : float
        a and b.
    nll_ : float
        Mean NLL of the validation labels (not the smoothed targets) at (a, b).
    n_iter_, converged_

    Raises
    ------
    SeparationError
        From :meth:`fit` without smoothing, when a threshold on s splits the classes (or a
        class is absent): the likelihood then grows towards 1 as :math:`|a| \to \infty`.

    Notes
    -----
    A sample with an excluded class (``where`` or ``-inf``) has a certain outcome: it is not
    used by the fit and keeps probabilities 0 and 1.

    Examples
    --------
    >>> s = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 0.2, -0.1])
    >>> y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    >>> ps = PlattScaling().fit(s, y)
    >>> round(ps.coef_, 4), round(ps.intercept_, 4)
    (1.187, -0.02)
    >>> ps.predict_proba(np.array([0.0])).round(4)
    array([[0.505, 0.495]])
    """

    def __init__(
        self, *, smoothing: bool = False, tol: float = 1e-12, max_iter: int = 100,
        chunk_rows: int | None = None,
    ) -> None:
        if not isinstance(smoothing, bool | np.bool_):
            raise TypeError(f"PlattScaling: smoothing must be True or False, got {smoothing!r}")
        self.smoothing = bool(smoothing)
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return "PlattScaling(smoothing=True)" if self.smoothing else "PlattScaling()"

    def fit(self, scores: Any, labels: Any, *, where: Any = None) -> PlattScaling:
        """Fit (a, b) on binary scores (N,) or two-column logits (N, 2) and labels 0/1.

        Returns
        -------
        PlattScaling
            ``self``.
        """
        fn = "PlattScaling.fit"
        data = _Logits(scores, where, fn, self.chunk_rows)
        if data.k != 2:
            raise ValueError(
                f"{fn}: Platt scaling calibrates a binary score: give one score per sample "
                f"(shape (N,)) or two columns, got {data.k} classes; for K classes use "
                "TemperatureScaling, VectorScaling or DirichletCalibration"
            )
        y = _data_labels(labels, data, fn)
        _limits(data, y, fn)
        stats = fold(data, y, _platt_stats, _merge_stats)
        n_pos, n_neg = float(stats[0, 0]), float(stats[1, 0])
        if not self.smoothing:
            found = _separated(stats, increasing_only=False)
            if found:
                raise SeparationError(
                    f"{fn}: the maximum-likelihood estimate does not exist — {found[0][1]} "
                    "(a threshold on the score splits the classes), so |a| or |b| would "
                    "grow without bound. Use PlattScaling(smoothing=True) (Platt's targets).",
                    found[0][1].split(":")[0], [1], ["coef", "intercept"],
                )
            targets = (0.0, 1.0)
        else:
            targets = (1.0 / (n_neg + 2.0), (n_pos + 1.0) / (n_pos + 2.0))
        n = data.n
        theta = np.array([0.0, math.log((n_pos + 1.0) / (n_neg + 1.0))])
        r = data.reduce(y, _platt_block, theta, targets) / n
        ok = False
        it = 0
        for it in range(1, self.max_iter + 1):  # noqa: B007 (it is reported)
            g = r[1:3]
            h = np.array([[r[3], r[4]], [r[4], r[5]]])
            try:
                step = -np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                step = -g
            decrement = -float(g @ step) / 2.0
            if decrement <= self.tol:
                # Quadratic convergence: the last step leaves an error O(step²); take it.
                theta = theta + step
                r = data.reduce(y, _platt_block, theta, targets) / n
                ok = True
                break
            t = 1.0
            while True:  # backtracking (Armijo): the log-loss is convex, so t = 1 mostly
                cand = theta + t * step
                rc = data.reduce(y, _platt_block, cand, targets) / n
                if rc[0] <= r[0] - 0.25 * t * 2.0 * decrement or t < 1e-10:
                    break
                t *= 0.5
            theta, r = cand, rc
        self.coef_, self.intercept_ = float(theta[0]), float(theta[1])
        self.nll_ = float(r[6])
        self.n_iter_, self.converged_ = it, ok
        self.binary_, self.n_classes_ = True, 2
        if not ok:
            warnings.warn(f"{fn}: Newton's method did not converge in {self.max_iter} "
                          "iterations", RuntimeWarning, stacklevel=2)
        return self

    def predict_proba(self, scores: Any, *, where: Any = None) -> Any:
        """``[1 - σ(a s + b), σ(a s + b)]``, shape (N, 2); a sample with an excluded class
        keeps probabilities 0 and 1. NumPy in, NumPy out; Dask in, Dask out."""
        fn = "PlattScaling.predict_proba"
        _check_fitted(self, "coef_")
        _, binary = _binary_input(scores, fn)
        scores, where = masked_where(scores, binary, where)
        a, b = self.coef_, self.intercept_

        def block(x: np.ndarray, m: np.ndarray | None) -> np.ndarray:
            sc = Scores(x, m, True)
            cand = sc.cand[:, 0]
            s = np.where(cand, x[:, 1] - x[:, 0], 0.0)
            p1 = np.where(cand, _sigmoid(a * s + b), sc.keep[:, 1].astype(float))
            return np.stack([1.0 - p1, p1], axis=1)

        return predict_blocks(self, scores, where, binary, fn, block)


# --------------------------------------------------------------------------- beta


def _beta_block(
    a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, theta: np.ndarray,
    binary: bool,
) -> np.ndarray:
    """[NLL (M), d/da (M), d/db (M), d/dc (M)] summed over the block's candidates."""
    sc = Scores(x, m, binary)
    n_models = sc.cand.shape[1]
    a, b, c = theta.reshape(3, n_models)
    f1 = np.where(sc.cand, sc.log_s, 0.0)
    f2 = np.where(sc.cand, -sc.log_1ms, 0.0)
    pos = positives(yc, n_models)
    u = a * f1 + b * f2 + c
    nll = np.where(sc.cand, _softplus(u) - pos * u, 0.0).sum(axis=0)
    r = np.where(sc.cand, _sigmoid(u) - pos, 0.0)
    return np.concatenate([nll, (r * f1).sum(axis=0), (r * f2).sum(axis=0), r.sum(axis=0)])


def _beta_stats(
    a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, binary: bool
) -> np.ndarray:
    sc = Scores(x, m, binary)
    return _side_stats(sc.log_s, positives(yc, sc.cand.shape[1]), sc.cand)


class BetaCalibration:
    r"""Beta calibration (Kull, Silva Filho & Flach 2017), one-vs-rest for K classes.

    For a score :math:`s \in (0, 1)` — P(class 1) of a binary classifier, or one class's
    softmax probability — the calibrated probability is

    .. math:: \mu(s) = \sigma\bigl(a \log s - b \log(1 - s) + c\bigr)
              = \frac{1}{1 + e^{-c}\,(1-s)^b / s^a}, \qquad a, b \ge 0,

    the family of likelihood ratios of two beta distributions (3 parameters: identity at
    a = b = 1, c = 0; it contains the sigmoid of the logit, a = b). It is a logistic regression
    on the features :math:`(\log s, -\log(1-s))`; (a, b, c) minimise its mean log-loss by
    L-BFGS-B with the exact gradient under a, b ≥ 0 (the paper's fit refits without a
    feature whose coefficient comes out negative, which reaches the same constrained
    optimum when one bound is active). The features are computed from the logits without
    forming s (``log_softmax``, and ``log(1 - s)`` of the largest class as a logsumexp of the
    others), so they stay finite where s rounds to 0 or 1.

    With K ≥ 3 classes, class j's map is fitted on :math:`(s_{ij}, [y_i = j])` and the K
    calibrated scores are divided by their sum (uniform over the admissible classes when
    they are all 0).

    Parameters
    ----------
    alpha : float, default 0.0
        L2 penalty towards the identity map on the *summed* log-loss of each model,
        :math:`\frac{\alpha}{2}\bigl((a-1)^2 + (b-1)^2 + c^2\bigr)`; with ``alpha > 0`` the
        fit exists on separated data.
    check_separation : bool, default True
        Test each model for separation first (a threshold on s splitting its samples, or a
        one-sided model: μ is increasing in s, so such data have no minimiser). Raises
        :class:`~softmaxkit.SeparationError` (``alpha == 0``) or warns (``alpha > 0``).
    tol : float, default 1e-10
        L-BFGS-B's tolerance on the projected gradient.
    max_iter : int, default 1000
    chunk_rows : int, optional

    Attributes
    ----------
    a_, b_, c_ : numpy.ndarray, shape (M,)
        Parameters of the M models (M = 1 for a binary classifier, else K).
    nll_ : float
        Sum over the models of their mean binary log-loss at the optimum (without penalty).
    n_iter_, converged_

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.uniform(0.01, 0.99, 400)
    >>> y = (rng.uniform(size=400) < s ** 2).astype(int)      # over-confident scores
    >>> bc = BetaCalibration().fit(np.log(s / (1 - s)), y)    # binary logits
    >>> bool(bc.a_[0] > 1.5)                                   # μ(s) ≈ s^2 needs a ≈ 2
    True
    """

    def __init__(
        self, *, alpha: float = 0.0, check_separation: bool = True, tol: float = 1e-10,
        max_iter: int = 1000, chunk_rows: int | None = None,
    ) -> None:
        self.alpha = check_nonneg(alpha, "alpha", "BetaCalibration")
        if not isinstance(check_separation, bool | np.bool_):
            raise TypeError("BetaCalibration: check_separation must be True or False, got "
                            f"{check_separation!r}")
        self.check_separation = bool(check_separation)
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return "BetaCalibration()" if self.alpha == 0 else f"BetaCalibration(alpha={self.alpha!r})"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> BetaCalibration:
        """Fit the M beta maps; arguments as :meth:`TemperatureScaling.fit`.

        Returns
        -------
        BetaCalibration
            ``self``.
        """
        fn = "BetaCalibration.fit"
        alpha = check_nonneg(self.alpha, "alpha", fn)
        minimize = require("scipy.optimize", fn=fn).minimize
        data, y = fit_data(logits, labels, where, fn, self.chunk_rows)
        n_models = models(data.k, data.binary)
        binary = n_models == 1
        if self.check_separation:
            stats = fold(data, y, _beta_stats, _merge_stats, binary)
            found = _separated(stats, increasing_only=True)
            if found:
                what = "; ".join(f"{_model_name(j, n_models)} ({d})" for j, d in found)
                if alpha == 0:
                    raise SeparationError(
                        f"{fn}: the maximum-likelihood estimate does not exist — {what}: the "
                        "calibration map, increasing in the score, would become a step "
                        "(probabilities of exactly 0 and 1). Use BetaCalibration(alpha=...) "
                        "(an L2 penalty towards the identity map, such as alpha=1).",
                        "complete", [j if not binary else 1 for j, _ in found],
                        ["a", "b", "c"],
                    )
                warnings.warn(f"{fn}: separated — {what}; the parameters of these models "
                              "are determined by the penalty (BetaCalibration(alpha=...)), "
                              "not by the data.",
                              SeparationWarning, stacklevel=2)
        n = data.n
        centre = np.concatenate([np.ones(2 * n_models), np.zeros(n_models)])

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            tot = data.reduce(y, _beta_block, theta, binary) / n
            val = float(tot[:n_models].sum())
            g = tot[n_models:].copy()
            if alpha > 0:
                d = theta - centre
                val += 0.5 * alpha / n * float(d @ d)
                g += alpha / n * d
            return val, g

        res = minimize(
            f, centre.copy(), jac=True, method="L-BFGS-B",
            bounds=[(0.0, None)] * (2 * n_models) + [(None, None)] * n_models,
            options={"maxiter": self.max_iter, "ftol": self.tol * 1e-3, "gtol": self.tol,
                     "maxcor": 20},
        )
        if not res.success:
            warnings.warn(f"{fn}: L-BFGS-B stopped: {res.message}", RuntimeWarning,
                          stacklevel=2)
        a, b, c = res.x.reshape(3, n_models)
        self.a_, self.b_, self.c_ = a.copy(), b.copy(), c.copy()
        nll = float(res.fun)
        if alpha > 0:
            d = res.x - centre
            nll -= 0.5 * alpha / n * float(d @ d)
        self.nll_ = nll
        self.n_iter_, self.converged_ = int(res.nit), bool(res.success)
        self.binary_ = data.binary
        self.n_classes_ = data.k
        return self

    def _calibrate(self, sc: Scores) -> np.ndarray:
        f1 = np.where(sc.cand, sc.log_s, 0.0)
        f2 = np.where(sc.cand, -sc.log_1ms, 0.0)
        return _sigmoid(self.a_ * f1 + self.b_ * f2 + self.c_)

    def predict_proba(self, logits: Any, *, where: Any = None) -> Any:
        """Calibrated probabilities, (N, K) ((N, 2) for one binary logit): the M maps applied
        to the softmax scores, renormalised one-vs-rest (see the class notes). NumPy in,
        NumPy out; Dask in, Dask out."""
        return ovr_predict(self, "a_", logits, where, "BetaCalibration.predict_proba")


# --------------------------------------------------------------------------- Dirichlet


def odir_penalty(weights: Any, bias: Any, lambda_: float, mu: float) -> float:
    r"""The ODIR penalty of Dirichlet calibration (Kull et al. 2019, §4):

    .. math:: \Omega(W, b) = \frac{\lambda}{K(K-1)} \sum_{i \ne j} W_{ij}^2
              + \frac{\mu}{K} \sum_j b_j^2,

    Off-Diagonal and Intercept Regularisation: the diagonal of W is free, so that the
    calibration map can still rescale each class's log-probability.

    Parameters
    ----------
    weights : array_like, shape (K, K)
    bias : array_like, shape (K,)
    lambda_, mu : float
        Non-negative strengths.

    Returns
    -------
    float

    Examples
    --------
    >>> odir_penalty([[1.0, 2.0], [3.0, 1.0]], [1.0, -1.0], 0.5, 0.1)
    3.35
    """
    fn = "odir_penalty"
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(bias, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 2 or b.shape != (w.shape[0],):
        raise ValueError(f"{fn}: weights must be (K, K) with K >= 2 and bias (K,), got "
                         f"{w.shape} and {b.shape}")
    lam = check_nonneg(lambda_, "lambda_", fn)
    m = check_nonneg(mu, "mu", fn)
    k = w.shape[0]
    off = w - np.diag(np.diag(w))
    return float(lam / (k * (k - 1)) * (off * off).sum() + m / k * (b @ b))


def _odir_grad(
    w: np.ndarray, b: np.ndarray, lam: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    k = w.shape[0]
    off = w - np.diag(np.diag(w))
    return 2.0 * lam / (k * (k - 1)) * off, 2.0 * mu / k * b


def _features(x: np.ndarray, m: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(log q with 0 at excluded classes, admissible mask) of a block of logits."""
    keep = np.isfinite(x) if m is None else (m & np.isfinite(x))
    if keep.all():  # the common case: no mask to apply (the masked kernel is slower)
        return np.asarray(log_softmax(x)), keep
    lq = np.asarray(log_softmax(x, where=keep))
    return np.where(keep, lq, 0.0), keep


def _dirichlet_block(
    a0: int, x: np.ndarray, m: np.ndarray | None, yc: np.ndarray, w: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """[summed NLL, gradient in W (K·K, row-major), gradient in b (K)]."""
    lq, keep = _features(x, m)
    rows = np.arange(x.shape[0])
    u = lq @ w.T + b
    logp = np.asarray(log_softmax(u) if keep.all() else log_softmax(u, where=keep))
    nll = -float(logp[rows, yc].sum())
    r = np.exp(logp, out=logp)
    r[rows, yc] -= 1.0
    return np.concatenate([[nll], (r.T @ lq).ravel(), r.sum(axis=0)])


def _dirichlet_separation(data: _Logits, y: Any, free_off: bool, free_bias: bool) -> list[str]:
    """The parameters that move along a direction of separation of ``softmax(W log q + b)``
    restricted to its unpenalised parameters (the diagonal of W, plus the off-diagonal when
    λ = 0 and the biases when μ = 0); [] when there is none (a minimiser exists)."""
    coo_array = require("scipy.sparse", fn=data.fn).coo_array
    k = data.k
    z, mask, yc = _in_memory(data, y)
    feats, keeps = [], []
    for _, x, m in _blocks(z, mask, data.binary, data.chunk_rows, 0):
        lq, keep = _features(x, m)
        feats.append(lq)
        keeps.append(keep)
    lq = np.concatenate(feats)
    keep = np.concatenate(keeps)
    n = lq.shape[0]
    scale = np.abs(lq).max(axis=0)
    scale[scale == 0] = 1.0
    xs = lq / scale
    pair = keep.copy()
    pair[np.arange(n), yc] = False
    obs, other = np.nonzero(pair)
    own = yc[obs]
    n_pairs = obs.size
    if n_pairs == 0:
        return []
    # Columns: W[j, c] at j*K + c (only those kept), then b[j] at K*K + j.
    cols_w = [(j, c) for j in range(k) for c in range(k) if free_off or j == c]
    index = {jc: i for i, jc in enumerate(cols_w)}
    r = np.arange(n_pairs)
    ri, ci, vals = [], [], []
    for (j, c), i in index.items():
        # margin(pair) gains W[j, c] x_c when j is the label, loses it when j is the other.
        sel_own = own == j
        sel_oth = other == j
        ri += [r[sel_own], r[sel_oth]]
        ci += [np.full(sel_own.sum(), i), np.full(sel_oth.sum(), i)]
        vals += [xs[obs[sel_own], c], -xs[obs[sel_oth], c]]
    m_cols = len(cols_w)
    names = [f"W[{j}, {c}]" for j, c in cols_w]
    if free_bias:
        ri += [r, r]
        ci += [m_cols + own, m_cols + other]
        vals += [np.ones(n_pairs), -np.ones(n_pairs)]
        names += [f"b[{j}]" for j in range(k)]
        m_cols += k
    margins = coo_array(
        (np.concatenate(vals), (np.concatenate(ri), np.concatenate(ci))),
        shape=(n_pairs, m_cols),
    ).tocsr()
    found = separating_direction(margins, -1.0)
    if found is None:
        return []
    d = found.direction.copy()
    if free_bias:
        d[m_cols - k:] -= np.median(d[m_cols - k:])
    moved = [nm for nm, v in zip(names, d, strict=True) if abs(v) > MARGIN_TOL]
    return moved or names


class DirichletCalibration:
    r"""Dirichlet calibration (Kull et al., NeurIPS 2019): matrix scaling of log-probabilities.

    .. math:: \hat p = \mathrm{softmax}(W \log q + b), \qquad
              \log q = \texttt{log\_softmax}(z),

    with W (K × K) and b (K) minimising the ODIR-penalised mean NLL

    .. math:: L(W, b) = -\frac1N\sum_i \log \hat p_{i y_i}
              + \frac{\lambda}{K(K-1)}\sum_{i\ne j} W_{ij}^2 + \frac{\mu}{K}\sum_j b_j^2

    (:func:`odir_penalty`), convex, by L-BFGS (SciPy) with the exact gradient
    :math:`\partial L/\partial W = \frac1N R^T \log Q + \partial\Omega/\partial W`,
    :math:`\partial L/\partial b = \frac1N R^T 1 + \partial\Omega/\partial b`,
    :math:`R = \hat P - Y`, starting from the identity (W = I, b = 0: the uncalibrated
    probabilities). It is the multinomial logistic regression of the labels on the
    log-probabilities; with W diagonal it contains vector scaling of the log-probabilities,
    with W = I/T temperature scaling.

    Parameters
    ----------
    lambda_ : float, default 0.0
        λ, the off-diagonal penalty.
    mu : float, optional
        μ, the intercept penalty; default ``lambda_`` (the paper tunes both; λ = μ is its
        common choice).
    check_separation : {"auto", True, False}, default "auto"
        Test for separation along the *unpenalised* parameters (the diagonal of W, the
        off-diagonal when λ = 0, the biases when μ = 0) before the fit, by the linear program
        :class:`~softmaxkit.MultinomialLogit` uses. ``"auto"``: when there are at most
        100 000 constraints (one per sample and other admissible class).
    tol : float, default 1e-10
        L-BFGS-B's gradient tolerance.
    max_iter : int, default 1000
    chunk_rows : int, optional

    Attributes
    ----------
    weights_ : numpy.ndarray, shape (K, K)
    bias_ : numpy.ndarray, shape (K,)
    nll_ : float
        Validation NLL at the optimum (without the penalty).
    n_iter_, converged_

    Raises
    ------
    SeparationError
        From :meth:`fit` when the data are separated along the unpenalised parameters: the
        NLL then has an infimum it never attains and those parameters would diverge. More
        penalty (λ > 0 and μ > 0) leaves only the diagonal free.

    Notes
    -----
    The unpenalised model is invariant under adding one vector to every row of W (and a
    constant to b), so its W is not unique; its probabilities are. Excluded classes (``-inf``
    logit, ``where=False``) enter the features as 0 and keep probability 0.

    Examples
    --------
    Logits twice too confident (labels drawn from ``softmax(z / 2)``): W comes out near I/2.

    >>> from softmaxkit import softmax
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(600, 3)) * 2
    >>> y = (softmax(z / 2).cumsum(axis=1) > rng.random((600, 1))).argmax(axis=1)
    >>> dc = DirichletCalibration(lambda_=1e-2).fit(z, y)
    >>> dc.weights_.round(1)
    array([[ 0.5, -0. , -0. ],
           [-0. ,  0.4,  0. ],
           [ 0. ,  0. ,  0.6]])
    """

    def __init__(
        self, lambda_: float = 0.0, mu: float | None = None, *,
        check_separation: bool | str = "auto", tol: float = 1e-10, max_iter: int = 1000,
        chunk_rows: int | None = None,
    ) -> None:
        fn = "DirichletCalibration"
        self.lambda_ = check_nonneg(lambda_, "lambda_", fn)
        self.mu = None if mu is None else check_nonneg(mu, "mu", fn)
        self.check_separation = _check_check_separation(check_separation, fn)
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        mu = "" if self.mu is None else f", mu={self.mu!r}"
        return f"DirichletCalibration(lambda_={self.lambda_!r}{mu})"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> DirichletCalibration:
        """Fit W and b; arguments as :meth:`TemperatureScaling.fit`.

        Returns
        -------
        DirichletCalibration
            ``self``.
        """
        fn = "DirichletCalibration.fit"
        lam = check_nonneg(self.lambda_, "lambda_", fn)
        mu = lam if self.mu is None else check_nonneg(self.mu, "mu", fn)
        mode = _check_check_separation(self.check_separation, fn)
        minimize = require("scipy.optimize", fn=fn).minimize
        data, y = fit_data(logits, labels, where, fn, self.chunk_rows)
        k, n = data.k, data.n
        if mode is True or (mode == "auto" and n * (k - 1) <= 100_000):
            moved = _dirichlet_separation(data, y, lam == 0, mu == 0)
            if moved:
                shown = ", ".join(moved[:6]) + (", ..." if len(moved) > 6 else "")
                raise SeparationError(
                    f"{fn}: the maximum-likelihood estimate does not exist — the classes are "
                    f"separated along {shown} (parameters the penalty leaves free), so they "
                    "would diverge (probabilities of exactly 0 and 1). "
                    + ("Use lambda_ > 0 and mu > 0 (the ODIR penalty), e.g. lambda_=1e-2."
                       if lam == 0 or mu == 0 else
                       "The diagonal of W is never penalised: use TemperatureScaling, or "
                       "VectorScaling(alpha=...)."),
                    "separation", [], moved,
                )

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[: k * k].reshape(k, k), theta[k * k:]
            tot = data.reduce(y, _dirichlet_block, w, b) / n
            gw, gb = _odir_grad(w, b, lam, mu)
            val = float(tot[0]) + odir_penalty(w, b, lam, mu)
            return val, np.concatenate([tot[1: 1 + k * k] + gw.ravel(), tot[1 + k * k:] + gb])

        theta0 = np.concatenate([np.eye(k).ravel(), np.zeros(k)])
        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter, "ftol": self.tol * 1e-3,
                                "gtol": self.tol, "maxcor": 30})
        if not res.success:
            warnings.warn(f"{fn}: L-BFGS-B stopped: {res.message}", RuntimeWarning,
                          stacklevel=2)
        self.weights_ = res.x[: k * k].reshape(k, k).copy()
        self.bias_ = res.x[k * k:].copy()
        self.nll_ = float(res.fun) - odir_penalty(self.weights_, self.bias_, lam, mu)
        self.n_iter_, self.converged_ = int(res.nit), bool(res.success)
        self.binary_ = data.binary
        self.n_classes_ = k
        return self

    def transform(self, logits: Any, *, where: Any = None) -> np.ndarray:
        """Calibrated logits ``W log_softmax(z) + b`` (N, K) (excluded classes: ``-inf``)."""
        fn = "DirichletCalibration.transform"
        _check_fitted(self, "weights_")
        _, binary = _binary_input(logits, fn)
        logits, where = masked_where(logits, binary, where)

        def block(x: np.ndarray, m: np.ndarray | None) -> np.ndarray:
            lq, keep = _features(x, m)
            return np.where(keep, lq @ self.weights_.T + self.bias_, -np.inf)

        return predict_blocks(self, logits, where, binary, fn, block)

    def predict_proba(self, logits: Any, *, where: Any = None) -> Any:
        """``softmax(W log_softmax(z) + b)``, (N, K) ((N, 2) for one binary logit). NumPy in,
        NumPy out; Dask in, Dask out."""
        fn = "DirichletCalibration.predict_proba"
        _check_fitted(self, "weights_")
        _, binary = _binary_input(logits, fn)
        logits, where = masked_where(logits, binary, where)

        def block(x: np.ndarray, m: np.ndarray | None) -> np.ndarray:
            lq, keep = _features(x, m)
            return np.asarray(softmax(lq @ self.weights_.T + self.bias_, where=keep))

        return predict_blocks(self, logits, where, binary, fn, block)
