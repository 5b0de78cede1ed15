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

:class:`VectorScaling` fits one temperature and one bias per class by L-BFGS-B (SciPy) on the
NLL of ``softmax(w ⊙ z + b)``, which is jointly convex in (w, b); ``fit_bias=True`` of
:class:`TemperatureScaling` does the same with one shared w.

The estimators work on NumPy arrays (other arrays are converted with :func:`numpy.asarray` to
fit) and Dask arrays (one task per row chunk); :meth:`TemperatureScaling.predict_proba` of a
fitted model without bias returns the input's array kind.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np

from softmaxkit._base.core import namespace
from softmaxkit._base.errors import SeparationError, SeparationWarning
from softmaxkit._base.optional import require
from softmaxkit.calibration._separation import (
    AUTO_LP_CONSTRAINTS,
    find_separation,
    separation_message,
)
from softmaxkit.calibration.inputs import _data_labels, _Logits, masked_where
from softmaxkit.maps import log_softmax, softmax

__all__ = ["TemperatureNLL", "TemperatureScaling", "VectorScaling", "temperature_nll"]


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


def _check_bool(value: Any, name: str, fn: str) -> bool:
    """``value`` if it is a boolean (Python or NumPy); else ``TypeError`` naming ``name``.

    A string such as ``"no"`` is truthy: accepting it would silently do the opposite.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{fn}: {name} must be True or False, got {value!r}")
    return bool(value)


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
) -> tuple[_Logits, np.ndarray, float, TemperatureNLL | None, int, bool, _Limits]:
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
        return data, y, math.inf, None, 0, True, lim
    v, r, it, ok = _newton_log_t(data, y, lim, tol, max_iter)
    if not ok:
        warnings.warn(
            f"{fn}: Newton's method did not converge in {max_iter} iterations",
            RuntimeWarning,
            stacklevel=3,
        )
    return data, y, math.exp(-v), r, it, ok, lim


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
        with mean 0. It must be ``True`` or ``False`` (``TypeError`` otherwise: a string such
        as ``"no"`` would be truthy). When a class is separated by the logits the biases have
        no finite optimum and ``fit`` raises :class:`~softmaxkit.SeparationError` (see
        :class:`VectorScaling`).
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
    >>> from softmaxkit.calibration import negative_log_likelihood
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
        self.fit_bias = _check_bool(fit_bias, "fit_bias", "TemperatureScaling")
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
            Finite logits; ``-inf`` marks an excluded class. NaN or ``+inf`` raise. The
            masked entries of a NumPy masked array are excluded classes too (read as
            ``-inf``; the values under the mask are not read), also in ``predict_proba``.
        labels : array_like, shape (N,) class indices, or (N, K) one-hot
        where : array_like of bool, optional
            Broadcastable to (N, K): False marks a class absent from a sample.

        Returns
        -------
        TemperatureScaling
            ``self``.
        """
        fn = "TemperatureScaling.fit"
        _check_bool(self.fit_bias, "fit_bias", fn)  # also when set after construction
        data, y, t, r, it, ok, lim = _fit_temperature(
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
        tested = _separation_test(
            data, y, False, "auto", 0.0, fn,
            "Fit the temperature alone (fit_bias=False), or use VectorScaling(alpha=...) for "
            "penalised biases.",
        )
        w = np.array([1.0 / t])
        w, b, nll, it2, ok2 = _lbfgs(data, y, w, np.zeros(data.k), self.tol, self.max_iter, fn)
        if not tested and _suspect(w, b, 1.0 / t, math.sqrt(lim.d2_beta_0)):
            _untested_warning(data, fn)
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
        # A masked logit is an excluded class (its mask joins where=; the value is not read).
        z, where = masked_where(z, binary, where)
        zz, _ = _binary_input(z, "TemperatureScaling.predict_proba")
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


def _penalty(theta: np.ndarray, nw: int, alpha: float, n: int) -> tuple[float, np.ndarray]:
    """``alpha / (2 N) · (Σ (w_j − w̄)² + Σ (b_j − b̄)²)`` and its gradient: the L2 penalty on
    the summed NLL, towards temperature scaling (one scale, no bias)."""
    w, b = theta[:nw], theta[nw:]
    dw, db = w - w.mean(), b - b.mean()
    c = alpha / n
    return 0.5 * c * float(dw @ dw + db @ db), c * np.concatenate([dw, db])


def _lbfgs(
    data: _Logits, y: np.ndarray, w0: np.ndarray, b0: np.ndarray, tol: float, max_iter: int,
    fn: str, alpha: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, float, int, bool]:
    """Minimise the NLL of softmax(w ⊙ z + b) over (w ≥ 0, b) by L-BFGS-B, exact gradients
    (plus the penalty :func:`_penalty` when ``alpha > 0``); returns the NLL without it.

    The gradient in b sums to 0 (softmax is shift invariant, the penalty centred), so
    iterates started from a centred b stay centred.
    """
    minimize = require("scipy.optimize", fn="VectorScaling.fit").minimize
    nw = w0.shape[0]

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nll, gw, gb = _pass_wb(data, y, theta[:nw], theta[nw:])
        g = np.concatenate([gw, gb])
        if alpha > 0:
            pen, gp = _penalty(theta, nw, alpha, data.n)
            return nll + pen, g + gp
        return nll, g

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
    nll = float(res.fun)
    if alpha > 0:
        nll -= _penalty(res.x, nw, alpha, data.n)[0]
    return w, b - b.mean(), nll, int(res.nit), bool(res.success)


def _check_check_separation(mode: Any, fn: str) -> bool | str:
    if not (mode == "auto" and isinstance(mode, str)) and not isinstance(mode, bool | np.bool_):
        raise TypeError(f"{fn}: check_separation must be 'auto', True or False, got {mode!r}")
    return mode if isinstance(mode, str) else bool(mode)


def _check_alpha(alpha: Any, fn: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{fn}: alpha must be a number >= 0, got {alpha!r}")
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"{fn}: alpha must be a finite number >= 0, got {alpha!r}")
    return float(alpha)


def _separation_test(
    data: _Logits, y: Any, per_class: bool, mode: bool | str, alpha: float, fn: str,
    remedy: str,
) -> bool:
    """Before a fit with biases: the separation LP (``mode`` True, or "auto" up to
    :data:`AUTO_LP_CONSTRAINTS` constraints). Raises :class:`SeparationError` for separated
    data without a penalty, warns :class:`SeparationWarning` with one. Returns whether the
    test ran."""
    constraints = data.n * (data.k - 1)
    if mode is False or (mode == "auto" and constraints > AUTO_LP_CONSTRAINTS):
        return False
    found = find_separation(data, y, per_class)
    if found is None:
        return True
    if alpha > 0:
        warnings.warn(separation_message(found, fn, True, remedy), SeparationWarning,
                      stacklevel=4)
        return True
    raise SeparationError(separation_message(found, fn, False, remedy), found.kind,
                          found.classes, found.params)


def _suspect(w: np.ndarray, b: np.ndarray, w_ts: float, spread: float) -> bool:
    """Symptoms of separation in a fit whose data were not tested: a scale more than 10
    times the temperature-scaling one, or a bias beyond 10 calibrated logit spreads."""
    if not (w_ts > 0 and math.isfinite(w_ts)):
        return False
    return bool(w.max() > 10 * w_ts or np.abs(b - np.median(b)).max() > 10 * w_ts * spread)


def _untested_warning(data: _Logits, fn: str) -> None:
    warnings.warn(
        f"{fn}: the fitted scales or biases are extreme (more than 10 times the temperature "
        "scaling's), a symptom of separated classes, whose estimates diverge; the separation "
        f"test did not run: it is a linear program over n·(K−1) = {data.n * (data.k - 1)} "
        f"constraints, run by default only up to {AUTO_LP_CONSTRAINTS} (pass "
        "check_separation=True to run it, or alpha > 0 for a penalised fit)",
        SeparationWarning,
        stacklevel=3,
    )


class VectorScaling:
    r"""Vector scaling: one temperature and one bias per class, ``softmax(z / t + b)``.

    The NLL of ``softmax(w ⊙ z + b)`` with :math:`w_j = 1/t_j` is jointly convex in (w, b)
    (logsumexp of a linear function of the parameters minus a linear one). It is minimised by
    L-BFGS-B (SciPy) with exact gradients — :math:`\partial/\partial w_j = \frac1N\sum_i
    z_{ij}(p_{ij} - [y_i = j])`, :math:`\partial/\partial b_j = \frac1N\sum_i (p_{ij} -
    [y_i = j])` — under :math:`w_j \ge 0`, starting from the temperature-scaling optimum.

    Parameters
    ----------
    alpha : float, default 0.0
        Strength of an L2 penalty towards temperature scaling: the fit minimises
        :math:`N\,\mathrm{NLL} + \frac{\alpha}{2}\bigl(\sum_j (w_j - \bar w)^2 +
        \sum_j (b_j - \bar b)^2\bigr)` (on the *summed* NLL, as
        :class:`~softmaxkit.MultinomialLogit`'s ``alpha``). It shrinks the per-class scales
        towards their common value and the biases towards 0 — temperature scaling is the
        limit ``alpha → ∞`` — and it makes the estimate exist on separated data.
    check_separation : {"auto", True, False}, default "auto"
        Test the data for separation before the fit (a linear program, as
        :class:`~softmaxkit.MultinomialLogit` does). ``"auto"`` tests when there are at most
        100 000 constraints (one per sample and other admissible class; Dask logits are then
        gathered) and, beyond, warns when the fitted parameters show the symptoms;
        ``True`` always tests; ``False`` never does.
    tol, max_iter, chunk_rows
        As for :class:`TemperatureScaling`.

    Attributes
    ----------
    temperatures_ : numpy.ndarray, shape (K,)
        Per-class temperatures :math:`t_j = 1/w_j` (``inf`` where :math:`w_j = 0`).
    bias_ : numpy.ndarray, shape (K,)
        Per-class bias, mean 0 (b is defined up to a constant).
    nll_ : float
        Validation NLL at the optimum (without the penalty).
    n_iter_, converged_
        As for :class:`TemperatureScaling`.

    Raises
    ------
    SeparationError
        From :meth:`fit`, without a penalty, when a class is separated: some direction of
        the scales and biases (scales only growing) never lowers any sample's margin
        :math:`u_{iy_i} - u_{ik}` and raises some, so the NLL decreases towards its infimum
        without attaining it and the parameters diverge (the fitted probabilities of that
        class become 0 and 1: over-confident on new data). With ``alpha > 0`` the fit
        exists and warns :class:`~softmaxkit.SeparationWarning` instead.

    Notes
    -----
    For one binary logit (the model ``[0, z]``) only the positive class's scale matters,
    and this is Platt scaling. With K classes it has 2K parameters: use it with enough
    validation data (it over-fits more easily than temperature scaling). Separation is not a
    corner case: on the shipped digits logits, half of the rows (the command line's default
    split) separate class 0 by its own logit, and an unpenalised fit would end with its
    scale about 80 times the others' and a held-out NLL three times that of the uncalibrated
    logits.

    Examples
    --------
    >>> from softmaxkit.io import load_example
    >>> logits, labels = load_example()
    >>> vs = VectorScaling().fit(logits, labels)
    >>> vs.temperatures_.shape, bool(vs.nll_ < 0.0870)
    ((10,), True)
    """

    def __init__(
        self,
        *,
        alpha: float = 0.0,
        check_separation: bool | str = "auto",
        tol: float = 1e-10,
        max_iter: int = 1000,
        chunk_rows: int | None = None,
    ) -> None:
        self.alpha = _check_alpha(alpha, "VectorScaling")
        self.check_separation = _check_check_separation(check_separation, "VectorScaling")
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return "VectorScaling()" if self.alpha == 0 else f"VectorScaling(alpha={self.alpha!r})"

    def fit(self, logits: Any, labels: Any, *, where: Any = None) -> VectorScaling:
        """Fit per-class temperatures and biases; arguments as :meth:`TemperatureScaling.fit`.

        Returns
        -------
        VectorScaling
            ``self``.

        Raises
        ------
        SeparationError
            Without a penalty, when a class is separated (see the class notes).
        """
        fn = "VectorScaling.fit"
        alpha = _check_alpha(self.alpha, fn)
        mode = _check_check_separation(self.check_separation, fn)
        data, y, t, _, it, ok, lim = _fit_temperature(
            logits, labels, where, self.chunk_rows, self.tol, 100, fn
        )
        tested = _separation_test(
            data, y, True, mode, alpha, fn,
            "Use VectorScaling(alpha=...) (an L2 penalty towards temperature scaling, e.g. "
            "alpha=1), or TemperatureScaling.",
        )
        w_ts = 0.0 if math.isinf(t) else 1.0 / t
        w0 = np.full(data.k, w_ts)
        w, b, nll, it2, ok2 = _lbfgs(data, y, w0, np.zeros(data.k), self.tol, self.max_iter, fn,
                                     alpha)
        if not tested and mode == "auto" and _suspect(w, b, w_ts, math.sqrt(lim.d2_beta_0)):
            _untested_warning(data, fn)
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
        # A masked array stays masked (NumPy's masked arithmetic), as TemperatureScaling's.
        z = np.ma.asarray(logits, dtype=float) if np.ma.isMaskedArray(logits) else np.asarray(
            logits, dtype=float
        )
        zz, binary = _binary_input(z, "VectorScaling.transform")
        with np.errstate(invalid="ignore"):
            if binary:
                return zz / self.temperatures_[1] + (self.bias_[1] - self.bias_[0])
            return z / self.temperatures_ + self.bias_

    def predict_proba(self, logits: Any, *, where: Any = None) -> np.ndarray:
        """Calibrated probabilities ``softmax(z / t + b)``; (N, 2) for one binary logit."""
        _check_fitted(self, "temperatures_")
        _, binary = _binary_input(logits, "VectorScaling.predict_proba")
        # A masked logit is an excluded class (its mask joins where=; the value is not read).
        logits, where = masked_where(logits, binary, where)
        z = np.asarray(logits, dtype=float)
        x = self.transform(z)
        if binary:
            x = np.stack([np.zeros_like(x), x], axis=-1)
        return softmax(x, where=where)
