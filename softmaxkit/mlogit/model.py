r"""The estimator: :class:`MultinomialLogit`, its parameters, fit and readings of the fit.

``fit`` reads X and y (:mod:`._design`, or the Dask adapter :mod:`._dask`), runs the Newton
loop (:mod:`._newton`) over the block sums (:mod:`._blocks`) with the separation test of
:mod:`._separation` alongside, and stores the estimates; the tables and the summary come from
:mod:`.results`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from softmaxkit._base.newton import chol_inverse
from softmaxkit.inverse import base_softmax
from softmaxkit.mlogit import results as _results
from softmaxkit.mlogit._blocks import _me_accumulate
from softmaxkit.mlogit._dask import _dask_problem, _DaskData, _lazy_labels, _lazy_proba
from softmaxkit.mlogit._design import (
    _FN,
    _base_index,
    _dask_kind,
    _design_matrix,
    _fitted_columns,
    _frame_kind,
    _memory_problem,
)
from softmaxkit.mlogit._newton import _newton, _penalty_weights, _start
from softmaxkit.mlogit._separation import _SeparationCheck
from softmaxkit.mlogit._threads import blas_threads_for
from softmaxkit.mlogit.results import (
    MarginalEffects,
    Summary,
    _chi2_sf,
    _flat_index,
    _labelled,
    _marginal_effects,
    _norm_sf2,
    _null_llf,
    _summary_text,
    _wald_interval,
)

__all__ = ["MultinomialLogit"]


class MultinomialLogit:
    r"""Multinomial logit regression with any category as the base, fitted by Newton's method.

    .. math:: \log \frac{P(y = k \mid x)}{P(y = b \mid x)} = x^\top \beta_k, \qquad
              P(y \mid x) = \operatorname{base\_softmax}(x^\top B, \text{base} = b)

    Parameters
    ----------
    base : label, optional
        The base (reference) category: any label of ``y`` (a string, an integer, ...).
        Default: the first label in sorted order (statsmodels' fixed choice).
    fit_intercept : bool, default True
        Add a column of ones (parameter ``"const"``, first) to ``X``.
    penalty : {None, "l2"}, default None
        ``"l2"`` maximises :math:`\ell(B) - \frac{\alpha}{2}\sum_{k,j\ne\text{const}}
        \beta_{kj}^2` (the intercepts are not penalised). The penalty is not invariant under
        a change of base: a penalised fit depends on ``base``.
    alpha : float, default 0.0
        Strength of the L2 penalty (on the *summed* log-likelihood; scikit-learn's ``C`` is
        ``1/alpha`` on its symmetric parametrisation, which penalises every category).
    tol : float, default 1e-8
        Convergence: stop when the Newton decrement :math:`\sqrt{g^\top H^{-1} g}` is at most
        ``tol``, i.e. the remaining Newton step is below ``tol`` standard errors in every
        direction (scale free, invariant under rescaling of the features). The iteration also
        stops, converged, when the decrement is below 1e-6 and no longer shrinks: that is the
        rounding noise of the gradient, the optimum to working precision.
    max_iter : int, default 100
        Most Newton iterations.
    check_separation : {"auto", True, False}, default "auto"
        Test for separation by linear programming (needs SciPy). ``"auto"``: when an
        unpenalised fit has not converged after 10 iterations or its information matrix is
        singular or nearly so, and for penalised fits when the test has at most 100,000
        constraints (``n·(K−1)``). ``True``: after every fit. ``False``: never.

    Attributes
    ----------
    categories_ : numpy.ndarray
        The ``K`` labels of ``y``, sorted; the column order of :meth:`predict_proba`.
    base_ : label
        The base category.
    param_names_ : list of str
        Row labels of :attr:`params_`: ``"const"`` (with an intercept), then the columns of
        ``X`` (a frame's column names, else ``x1``, ``x2``, ... as in statsmodels).
    feature_names_in_ : numpy.ndarray
        The frame's column names (only when ``X`` was a pandas or polars DataFrame).
    params_, bse_, zvalues_, pvalues_
        Estimates, standard errors, z statistics and two-sided normal p-values:
        parameters × non-base categories. A pandas DataFrame (index ``param_names_``,
        columns the non-base labels) when pandas is installed, else a NumPy array of that
        shape; ``np.asarray(model.params_)`` works either way.
    llf_, llnull_, prsquared_
        Log-likelihood at the estimate, of the intercept-only model
        (:math:`\sum_k n_k \log(n_k/n)`), and McFadden's pseudo-R² ``1 − llf/llnull``.
    llr_, llr_pvalue_
        Likelihood-ratio statistic ``2(llf − llnull)`` and its χ² p-value
        (``df_model_`` degrees of freedom).
    aic_, bic_
        ``−2 llf + 2 k`` and ``−2 llf + k log n`` with ``k = p(K−1)`` parameters.
    nobs_, df_model_, df_resid_
        ``n``; ``(p − 1)(K − 1)`` with an intercept (``p(K−1)`` without); ``n − p(K−1)``.
    converged_, n_iter_
        Whether the criterion was met, and the Newton iterations taken.

    Notes
    -----
    *Fitting.* Newton's method from the intercept-only solution, with a backtracking
    (Armijo) line search; each iteration is one pass over the rows that computes the
    probabilities with :func:`softmaxkit.softmax` (base logit 0: the base-state map), ℓ from
    them (``logsumexp(x_i B) = −log p_{ib}``), the gradient ``Xᵀ(Y − P)`` and the information matrix
    (see the module notes: blocks of rows, never the per-row ``(n(K−1))²`` structure). The
    covariance is the inverse information at the estimate returned (the iteration stops
    *before* taking a step below ``tol``, so ``cov_params()`` is evaluated exactly there).
    With a penalty it is the inverse of the penalised information: the curvature of the
    penalised objective (a Gaussian-prior posterior approximation), not a sampling
    covariance; ``llf_``, AIC and BIC are then the unpenalised log-likelihood at the
    penalised estimate and the nominal parameter count.

    *Dask.* With a Dask array or DataFrame ``X`` every pass over the rows is a Dask
    reduction over row chunks (one computation per Newton iteration); only the separation
    test needs the rows in one process, and runs on Dask data only up to 100,000 constraints
    (see :meth:`fit`, Notes, for what happens beyond).

    *Changing the base* re-expresses the same fit: with base ``b`` and new base ``c``,

    .. math:: \beta^{(c)}_k = \beta^{(b)}_k - \beta^{(b)}_c \quad (k \ne c),
              \qquad \beta^{(b)}_b = 0,

    (so :math:`\beta^{(c)}_b = -\beta^{(b)}_c`), the covariance maps by the same linear map,
    and ``llf_``, the probabilities and the marginal effects do not change. :meth:`rebase`
    applies it without refitting.

    *Separation.* When the categories are separated by the features (Albert & Anderson
    1984), the MLE does not exist; an unpenalised fit raises :class:`SeparationError` naming
    the categories that are perfectly predicted and the diverging parameters (both complete
    and quasi-complete separation: in either case some coefficients are infinite). A
    penalised fit exists; it warns with :class:`SeparationWarning` naming the categories whose
    estimates are set by the penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.mlogit import MultinomialLogit
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5], [1.0], [2.0]])
    >>> y = np.array(["a", "b", "c", "c", "a", "a", "b", "c", "b", "b"])
    >>> model = MultinomialLogit(base="b").fit(x, y)
    >>> model.params_.round(4)         # log-odds against "b" (statsmodels cannot choose b)
    y           a       c
    param
    const  2.2134 -6.2598
    x1    -2.2407  2.6528
    >>> round(model.llf_, 6)
    -6.156708
    >>> model.predict_proba(np.array([[2.0]])).round(4)   # columns: categories_ a, b, c
    array([[0.0695, 0.6717, 0.2587]])
    >>> model.predict(np.array([[0.0], [3.0]]))
    array(['a', 'c'], dtype='<U1')
    """

    def __init__(
        self,
        base: Any = None,
        *,
        fit_intercept: bool = True,
        penalty: str | None = None,
        alpha: float = 0.0,
        tol: float = 1e-8,
        max_iter: int = 100,
        check_separation: bool | str = "auto",
    ) -> None:
        self.base = base
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.check_separation = check_separation

    # ---------------------------------------------------------------- sklearn protocol

    _PARAMS = ("base", "fit_intercept", "penalty", "alpha", "tol", "max_iter",
               "check_separation")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as scikit-learn's ``get_params``.

        Examples
        --------
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> MultinomialLogit(base="x", penalty="l2", alpha=1.0).get_params()["alpha"]
        1.0
        """
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> MultinomialLogit:
        """Set constructor arguments (as scikit-learn's ``set_params``); returns ``self``.

        Examples
        --------
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> MultinomialLogit().set_params(base=2, tol=1e-10)
        MultinomialLogit(base=2, tol=1e-10)
        """
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(
                    f"{_FN}.set_params: unknown parameter {name!r}; valid parameters are "
                    f"{', '.join(self._PARAMS)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {"base": None, "fit_intercept": True, "penalty": None, "alpha": 0.0,
                    "tol": 1e-8, "max_iter": 100, "check_separation": "auto"}
        shown = [f"{k}={getattr(self, k)!r}" for k in self._PARAMS
                 if getattr(self, k) != defaults[k] or type(getattr(self, k)) is not
                 type(defaults[k])]
        return f"{_FN}({', '.join(shown)})"

    # ---------------------------------------------------------------- validation

    def _validate(self) -> None:
        if self.penalty not in (None, "l2"):
            raise ValueError(f"{_FN}: penalty must be None or 'l2', got {self.penalty!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating |
                                                     np.integer):
            raise TypeError(f"{_FN}: alpha must be a number >= 0, got {alpha!r}")
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"{_FN}: alpha must be a finite number >= 0, got {alpha!r}")
        if self.penalty is None and alpha != 0:
            raise ValueError(
                f"{_FN}: alpha={alpha!r} has no effect without a penalty; pass penalty='l2'"
            )
        if not (isinstance(self.tol, int | float | np.floating) and self.tol > 0
                and math.isfinite(self.tol)):
            raise ValueError(f"{_FN}: tol must be a finite number > 0, got {self.tol!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int | np.integer) \
                or self.max_iter < 1:
            raise ValueError(f"{_FN}: max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.check_separation not in ("auto", True, False):
            raise ValueError(
                f"{_FN}: check_separation must be 'auto', True or False, got "
                f"{self.check_separation!r}"
            )

    # ---------------------------------------------------------------- fitting

    def fit(self, X: Any, y: Any) -> MultinomialLogit:
        """Fit by Newton's method; returns ``self``.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n_samples, n_features)
            Numeric features: a NumPy array, a pandas or polars DataFrame (whose column
            names label the results), or a Dask array or DataFrame (see Notes). Every value
            must be finite.
        y : array_like or Series, shape (n_samples,)
            The category of each observation: integers, strings, ... (at least 2 distinct);
            a Dask array or Series with Dask ``X``.

        Returns
        -------
        MultinomialLogit
            ``self``, fitted.

        Raises
        ------
        ValueError
            Bad shapes, non-finite features, missing labels, fewer than 2 categories, a
            ``base`` that is not a label of ``y``, a rank-deficient ``X``, or
            :class:`SeparationError` (the MLE does not exist, no penalty).
        TypeError
            Non-numeric features.

        Warns
        -----
        ConvergenceWarning
            ``max_iter`` reached, or the line search could not improve the objective.
        SeparationWarning
            Penalised fit on separated data; or (Dask data too large for the separation test)
            a converged unpenalised fit with the symptoms of separation (see Notes).

        Notes
        -----
        **Dask.** ``X`` may be a Dask array or a Dask DataFrame, and ``y`` a Dask array or
        Series (or in-memory labels, cut at the boundaries of ``X``'s row chunks). The rows
        stay where Dask keeps them; each pass is one Dask computation (on the active
        ``distributed.Client``, else Dask's default scheduler) whose tasks each return the
        small partial sums of one row chunk, added in a tree of fan-in 8:

        * a first pass checks every value (a non-finite feature or a missing label raises
          naming its global row and column: the chunks' offsets come with the pass), finds
          the categories (each chunk's distinct labels, merged) and computes the counts,
          ``XᵀY``, ``XᵀX`` (for the rank check) and the column means;
        * each Newton iteration (and each line-search trial) is one pass returning ℓ's row
          terms, ``XᵀP`` and the two parts of the information matrix — the same per-block
          code as for NumPy input, so the estimates agree with an in-memory fit up to the
          rounding of the sums' order (measured: 1e-13 relative, within 1e-12).

        ``X`` is read again by every pass (about ``n_iter_ + 2`` of them): ``persist()`` ``X``
        and ``y`` first when they fit in the cluster's memory. A Dask array is rechunked to
        whole rows; ``X`` and ``y`` chunks are paired by position (columns of one Dask
        DataFrame pair up; a Dask array ``y`` is rechunked like ``X`` when both chunk sizes
        are known; otherwise their numbers of chunks must agree). The separation test is a
        linear program over all ``n(K−1)`` row constraints in one process: on Dask data it
        runs, on rows gathered into this process, only when ``n(K−1) ≤ 100,000``. Beyond
        that, ``check_separation=True`` raises ``ValueError`` before iterating, and
        ``"auto"`` says what it could not test: a fit that does not converge warns
        (``ConvergenceWarning``) or raises (singular information) stating that separation
        could not be ruled out, and a converged unpenalised fit that shows the symptoms that
        trigger the test in memory (more than 10 Newton iterations, or a nearly singular
        information matrix) warns with :class:`SeparationWarning`. After a Dask fit,
        :meth:`marginal_effects` is a reduction too (``"overall"``: one more pass;
        ``"mean"``: the first pass's column means), and :meth:`predict_proba` and
        :meth:`predict` of Dask input return lazy Dask arrays.

        Examples
        --------
        >>> import dask.array as da
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5], [1.0], [2.0]])
        >>> y = np.array(["a", "b", "c", "c", "a", "a", "b", "c", "b", "b"])
        >>> lazy = MultinomialLogit(base="b").fit(da.from_array(x, chunks=4), y)
        >>> round(lazy.llf_, 6)                # the in-memory fit's, from three row chunks
        -6.156708
        """
        self._validate()
        fn = f"{_FN}.fit"
        read = _dask_problem if _dask_kind(X) is not None else _memory_problem
        problem = read(X, y, self.fit_intercept, fn)
        base = problem.base_position(self.base, fn)
        # A small in-memory fit runs its (tiny) BLAS products on one thread: see _threads.
        m = problem.p * (problem.k - 1)
        work = problem.n * m * m if problem.in_memory else math.inf
        with blas_threads_for(work):
            problem.check_rank(self.fit_intercept)
            alpha = float(self.alpha) if self.penalty == "l2" else 0.0
            separation = _SeparationCheck(self.check_separation, alpha, problem, base, fn)
            start = _start(problem.counts, base, problem.p, self.fit_intercept)
            penalty = _penalty_weights(alpha, problem.p, problem.k, self.fit_intercept)
            fit = _newton(problem.block_data(), start, base, penalty, tol=self.tol,
                          max_iter=self.max_iter, before_step=separation.during)
            said = separation.verdict(fit, self.tol, self.max_iter)
            cov = chol_inverse(np.linalg.cholesky(fit.info))
        for message, category in said:
            warnings.warn(message, category, stacklevel=2)
        self._store(problem.rows, problem.codes, problem.names, problem.frame_names,
                    problem.categories, base, problem.yname, fit.theta, cov, fit.state.llf,
                    _null_llf(problem.counts, problem.n), fit.converged, fit.n_iter)
        return self

    def _store(self, x: Any, codes: np.ndarray | None, names: list[str],
               frame_names: list[str] | None, categories: np.ndarray, base: int, yname: str,
               theta: np.ndarray, cov: np.ndarray, llf: float, llnull: float,
               converged: bool, n_iter: int) -> None:
        n, p = x.shape
        k_all = categories.shape[0]
        self._x = x
        self._codes = codes
        self._theta = theta
        self._cov = cov
        self._base_pos = base
        self._yname = yname
        self.categories_ = categories
        self.base_ = categories[base].item() if hasattr(categories[base], "item") \
            else categories[base]
        self.param_names_ = list(names)
        self.n_features_in_ = p - int(self.fit_intercept)
        if frame_names is not None:
            self.feature_names_in_ = np.asarray(frame_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        nonbase = np.delete(categories, base)
        se = np.sqrt(np.diag(cov)).reshape(p, k_all - 1, order="F")
        with np.errstate(divide="ignore", invalid="ignore"):
            z = theta / se
        self._bse = se
        self._z = z
        self._pv = _norm_sf2(z)
        cols = list(nonbase)
        pd = _results._pandas()  # (looked up at call time: a test may stand in for it)
        if pd is not None:  # the labels built once, shared by the four tables
            rows_ix = pd.Index(names, name="param")
            cols_ix = pd.Index(cols, name=yname)
            self.params_, self.bse_, self.zvalues_, self.pvalues_ = (
                pd.DataFrame(v, index=rows_ix, columns=cols_ix)
                for v in (theta.copy(), se, z, self._pv))
        else:  # pragma: no cover - exercised only without pandas
            self.params_, self.bse_, self.zvalues_, self.pvalues_ = (
                theta.copy(), se, z, self._pv)
        k = p * (k_all - 1)
        self.nobs_ = n
        self.df_model_ = (p - int(self.fit_intercept)) * (k_all - 1)
        self.df_resid_ = n - k
        self.llf_ = float(llf)
        self.llnull_ = float(llnull)
        self.prsquared_ = 1.0 - self.llf_ / self.llnull_ if self.llnull_ != 0 else math.nan
        self.llr_ = 2.0 * (self.llf_ - self.llnull_)
        self.llr_pvalue_ = _chi2_sf(self.llr_, self.df_model_) if self.df_model_ > 0 \
            else math.nan
        self.aic_ = -2.0 * self.llf_ + 2.0 * k
        self.bic_ = -2.0 * self.llf_ + k * math.log(n)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)

    # ---------------------------------------------------------------- results

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "_theta"):
            raise AttributeError(f"{_FN}.{what}: this model is not fitted yet; call fit(X, y)")

    def _flat_index(self) -> Any:
        return _flat_index(self.categories_, self._base_pos, self.param_names_, self._yname)

    def cov_params(self) -> Any:
        """Covariance of the estimates: the inverse (penalised) information at the estimate.

        Returns
        -------
        DataFrame or numpy.ndarray
            ``(p(K−1), p(K−1))``, parameters ordered category-major (all parameters of the
            first non-base category, then the next, ...: ``params_`` flattened column by
            column, as statsmodels' MNLogit); a DataFrame with a (category, param) MultiIndex
            on both axes when pandas is installed.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> cov = MultinomialLogit().fit(x, y).cov_params()
        >>> cov.shape
        (4, 4)
        """
        self._check_fitted("cov_params")
        index = self._flat_index()
        return _labelled(self._cov.copy(), index, index)

    def conf_int(self, alpha: float = 0.05) -> Any:
        r"""Wald confidence intervals :math:`\hat\beta \pm z_{1-\alpha/2}\,\mathrm{se}`.

        Parameters
        ----------
        alpha : float, default 0.05
            1 − coverage, in (0, 1).

        Returns
        -------
        DataFrame or numpy.ndarray
            Rows in the order of :meth:`cov_params` ((category, param) MultiIndex), columns
            ``lower`` and ``upper``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).conf_int().shape
        (4, 2)
        """
        self._check_fitted("conf_int")
        if not (isinstance(alpha, int | float | np.floating) and 0 < alpha < 1):
            raise ValueError(f"{_FN}.conf_int: alpha must be in (0, 1), got {alpha!r}")
        values = _wald_interval(self._theta, self._bse, alpha)
        return _labelled(values, self._flat_index(), ["lower", "upper"])

    def _prepare_new(self, X: Any, what: str) -> np.ndarray:
        self._check_fitted(what)
        fn = f"{_FN}.{what}"
        names_in = getattr(self, "feature_names_in_", None)
        if names_in is not None and _frame_kind(X) is not None:
            X = _fitted_columns(X, names_in, fn)
        design = _design_matrix(X, self.fit_intercept, fn)
        if design.x.shape[1] != self._theta.shape[0]:
            raise ValueError(
                f"{fn}: X has {design.x.shape[1] - int(self.fit_intercept)} features; the "
                f"model was fitted with {self.n_features_in_}"
            )
        return design.x

    def predict_proba(self, X: Any) -> np.ndarray:
        """Category probabilities ``base_softmax(x B, base=b)``, columns in ``categories_`` order.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n_samples, n_features)
            As in :meth:`fit` (a frame is matched to the fitted columns by name).

        Returns
        -------
        numpy.ndarray, shape (n_samples, K)
            A lazy Dask array (one task per row chunk) when ``X`` is a Dask array or
            DataFrame; a non-finite feature raises when it is computed, naming its row
            (a Dask DataFrame's: the partition and the row within it).

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).predict_proba(x[:2]).sum(axis=1)
        array([1., 1.])
        """
        if _dask_kind(X) is not None:
            return self._proba_dask(X, "predict_proba")
        x = self._prepare_new(X, "predict_proba")
        return base_softmax(x @ self._theta, axis=-1, base=self._base_pos)

    def _proba_dask(self, X: Any, what: str) -> Any:
        """Lazy probabilities of a Dask array or DataFrame: one task per row chunk."""
        self._check_fitted(what)
        return _lazy_proba(X, self._theta, self._base_pos, bool(self.fit_intercept),
                           self.categories_.shape[0], getattr(self, "feature_names_in_", None),
                           self.n_features_in_, f"{_FN}.{what}")

    def predict(self, X: Any) -> np.ndarray:
        """The most probable category of each row (labels from ``categories_``); a lazy Dask
        array for Dask ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> MultinomialLogit().fit(x, y).predict(np.array([[0.0], [4.0]]))
        array([1, 2])
        """
        proba = self.predict_proba(X)
        if _dask_kind(proba) is not None:
            return _lazy_labels(proba, self.categories_)
        return self.categories_[np.argmax(proba, axis=1)]

    def rebase(self, base: Any) -> MultinomialLogit:
        r"""The same fit expressed against another base category (no refitting).

        .. math:: \beta^{(c)}_k = \beta^{(b)}_k - \beta^{(b)}_c, \qquad
                  \Sigma^{(c)} = L \Sigma^{(b)} L^\top

        where ``L`` is that linear map on the stacked parameters. ``llf_`` and the
        probabilities are unchanged. For an unpenalised fit this equals refitting with
        ``base=c`` (up to the convergence tolerance); a penalised fit is re-expressed, not
        re-penalised.

        Parameters
        ----------
        base : label
            A label of ``y``.

        Returns
        -------
        MultinomialLogit
            A new fitted estimator with ``base=base``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> a = MultinomialLogit(base=0).fit(x, y)
        >>> b = a.rebase(2)
        >>> bool(np.isclose(a.llf_, b.llf_)), list(b.params_.columns)
        (True, [0, 1])
        """
        self._check_fitted("rebase")
        new = MultinomialLogit(**{**self.get_params(), "base": base})
        c = _base_index(base, self.categories_)
        b = self._base_pos
        p, km1 = self._theta.shape
        k_all = km1 + 1
        # L maps the stacked non-base parameters of base b to those of base c.
        old_pos = {k: i for i, k in enumerate(np.delete(np.arange(k_all), b))}
        new_cats = np.delete(np.arange(k_all), c)
        lmap = np.zeros((km1, km1))
        for i, k in enumerate(new_cats):
            if k != b:
                lmap[i, old_pos[k]] += 1.0
            if c != b:
                lmap[i, old_pos[c]] -= 1.0
        big = np.kron(lmap, np.eye(p))
        theta = self._theta @ lmap.T
        cov = big @ self._cov @ big.T
        llnull = self.llnull_
        new._store(self._x, self._codes, self.param_names_,
                   list(self.feature_names_in_) if hasattr(self, "feature_names_in_")
                   else None, self.categories_, c, self._yname, theta, (cov + cov.T) / 2,
                   self.llf_, llnull, self.converged_, self.n_iter_)
        return new

    def marginal_effects(self, at: str = "overall") -> MarginalEffects:
        r"""Marginal effects of the features on each category's probability.

        .. math:: \frac{\partial P_k}{\partial x_j} = P_k\Big(\beta_{kj} -
                  \sum_l P_l \beta_{lj}\Big)

        averaged over the fitted observations (``at="overall"``, statsmodels' default) or
        evaluated at the mean of the features (``at="mean"``). They do not depend on the base.
        Standard errors by the delta method, with the closed-form derivative of the effects
        with respect to the parameters,

        .. math:: \frac{\partial\, \mathrm{ME}_{kj}}{\partial \beta_{mr}} =
                  x_r P_k\big[(\delta_{km} - P_m) A_{kj} - P_m A_{mj}\big]
                  + \delta_{jr} P_k(\delta_{km} - P_m),
                  \qquad A_{kj} = \beta_{kj} - \textstyle\sum_l P_l\beta_{lj}.

        Parameters
        ----------
        at : {"overall", "mean"}
            Where the effects are evaluated.

        Returns
        -------
        MarginalEffects
            Effects, standard errors, z and p-values: features (without the intercept) ×
            all ``K`` categories.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array([0, 1, 1, 0, 1, 2, 2, 2])
        >>> me = MultinomialLogit().fit(x, y).marginal_effects()
        >>> float(np.asarray(me.effects).sum())     # effects on the K probabilities sum to 0
        0.0
        """
        self._check_fitted("marginal_effects")
        if at not in ("overall", "mean"):
            raise ValueError(f"{_FN}.marginal_effects: at must be 'overall' or 'mean', "
                             f"got {at!r}")
        x = self._x
        p = self._theta.shape[0]
        base = self._base_pos
        feat = np.arange(int(self.fit_intercept), p)
        if feat.size == 0:
            raise ValueError(f"{_FN}.marginal_effects: the model has no features besides the "
                             "intercept")
        if isinstance(x, _DaskData):
            # Both are reductions over the rows: the column means came with the fit's first
            # pass; the average effects are one more pass over the chunks.
            if at == "mean":
                n = 1
                sums = _me_accumulate(x.colmean[None, :], self._theta, base, feat)
            else:
                n = x.n
                # (copies: results that come back from a cluster may be read-only buffers)
                sums = tuple(np.array(a) for a in x.me_sums(self._theta, base, feat))
        else:
            rows = x.mean(axis=0, keepdims=True) if at == "mean" else x
            n = rows.shape[0]
            sums = _me_accumulate(rows, self._theta, base, feat)
        return _marginal_effects(at, sums, n, feat, self._cov, self.param_names_,
                                 self.categories_, self._yname)

    def summary(self, alpha: float = 0.05) -> Summary:
        """A text table of the fit, laid out like statsmodels' ``MNLogit`` summary.

        Parameters
        ----------
        alpha : float, default 0.05
            For the confidence-interval columns.

        Returns
        -------
        Summary
            ``print`` it, or ``.as_text()``.

        Examples
        --------
        >>> import numpy as np
        >>> from softmaxkit.mlogit import MultinomialLogit
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]])
        >>> y = np.array(["no", "yes", "yes", "no", "yes", "maybe", "maybe", "maybe"])
        >>> print(MultinomialLogit(base="no").fit(x, y).summary())  # doctest: +ELLIPSIS
                             Multinomial Logit Regression Results
        ==============================================================================
        Dep. Variable:                      y   No. Observations:                    8
        Base category:                     no   Df Residuals:                        4
        ...
        """
        self._check_fitted("summary")
        return Summary(_summary_text(self, alpha))
