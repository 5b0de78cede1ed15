r"""The estimator :class:`ConditionalLogit`: McFadden's conditional logit and the nested logit
on long-format choice data.

``fit`` reads the data (:mod:`._data`, or the Dask adapter :mod:`._dask`), fits the
conditional logit by Newton's method (:mod:`._fit`) over the block sums of
:mod:`._likelihood`, with the separation test of :mod:`._separation` when the fit shows its
symptoms, then, with nests, the nested logit from there; the tables come from
:mod:`.results`, the elasticities from :mod:`._effects`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from softmaxkit._base.newton import condition
from softmaxkit._base.tables import norm_ppf, norm_sf2, pandas_or_none, plain_label
from softmaxkit.choice._dask import GATHER_LIMIT
from softmaxkit.choice._data import (
    _FN,
    _Columns,
    _is_dask_frame,
    _Long,
    _show,
    check_identified,
    read_long,
)
from softmaxkit.choice._fit import covariance, newton, not_converged_message, trust_region
from softmaxkit.choice._likelihood import InMemory, _Layout, block_size, probabilities
from softmaxkit.choice._separation import (
    SEPARATION_AFTER,
    SUSPECT_CONDITION,
    find_separation,
    separation_error,
    unidentified,
)
from softmaxkit.choice.errors import NestingWarning
from softmaxkit.choice.results import Elasticities, Summary, summary_text
from softmaxkit.mlogit import ConvergenceWarning, SeparationWarning

__all__ = ["ConditionalLogit"]


def _names_tuple(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise TypeError(f"{_FN}: {what} must be a sequence of column names, got "
                        f"{value!r}") from None
    for v in out:
        if not isinstance(v, str):
            raise TypeError(f"{_FN}: {what} must hold column names (strings), got {v!r}")
    return out


class ConditionalLogit:
    r"""McFadden's conditional logit, and the nested logit, on long-format choice data.

    Each group ``g`` (a choice situation) chooses one of its available alternatives. The
    utility of alternative ``j`` is

    .. math:: V_{gj} = \alpha_j + x_{gj}^\top\beta + z_g^\top\gamma_j,
              \qquad \alpha_b = 0,\ \gamma_b = 0 \text{ for the base } b,

    with ``alternative_vars`` :math:`x` (one *generic* coefficient each: cost, time),
    ``individual_vars`` :math:`z` (one coefficient per non-base alternative: income) and the
    alternative-specific constants :math:`\alpha`. The conditional logit's probabilities are
    the softmax of the utilities over the group's available alternatives (the core's masked
    :func:`softmaxkit.softmax`: an unavailable alternative has probability exactly 0):

    .. math:: P_{gj} = \frac{e^{V_{gj}}}{\sum_{k \in C_g} e^{V_{gk}}}.

    With ``nests`` it is the **nested logit** in the RU2 normalisation (the utilities are
    divided by the nest's λ inside the nest; Hensher & Greene 2002, Train 2009 §4.2; Biogeme's
    nested logit with its μ_k = 1/λ_k): for ``j`` in nest ``k``,

    .. math:: P_{gj} = \frac{e^{V_{gj}/\lambda_k}}{\sum_{i\in B_k} e^{V_{gi}/\lambda_k}}
              \cdot \frac{e^{I_{gk}}}{\sum_l e^{I_{gl}}}, \qquad
              I_{gk} = \lambda_k \log \sum_{i \in B_k \cap C_g} e^{V_{gi}/\lambda_k}
              = \operatorname{logsumexp}(V_g, \text{temperature}=\lambda_k),

    the inclusive value being the core map :func:`softmaxkit.logsumexp` at temperature
    :math:`\lambda_k`. λ = 1 for every nest gives back the conditional logit.

    Parameters
    ----------
    alternative_vars : sequence of str
        Columns that vary by alternative, each with one generic coefficient (named by the
        column, e.g. ``"gc"``).
    individual_vars : sequence of str
        Columns constant within each group, each with one coefficient per non-base
        alternative (named ``"<var>:<alt>"``).
    base : label, optional
        The alternative whose constant and individual coefficients are 0. Default: the first
        alternative in sorted order.
    nests : dict, optional
        ``{name: [alternatives...]}``. An alternative in no nest is a nest of its own. A nest
        of two or more alternatives has the parameter ``"lambda:<name>"``; a one-alternative
        nest has none (its λ is 1, it is not identified). λ outside (0, 1] is allowed but
        warned about (:class:`NestingWarning`: not consistent with random utility
        maximisation).
    weights : str, optional
        A column of weights, constant within each group (a choice situation's weight): ℓ is
        the weighted sum of the groups' log-probabilities, and the covariance the inverse of
        the weighted information (no sandwich correction).
    fit_intercept : bool, default True
        Alternative-specific constants ``"const:<alt>"`` for the non-base alternatives.
    tol : float, default 1e-8
        Stop when the Newton decrement :math:`\sqrt{g^\top H^{-1} g}` (the remaining step, in
        standard errors) is at most ``tol``.
    max_iter : int, default 100
        Most iterations.

    Attributes
    ----------
    params_, bse_, zvalues_, pvalues_ : pandas Series (NumPy arrays without pandas)
        Estimates, standard errors, z statistics and two-sided p-values, indexed by
        ``param_names_``: the constants ``"const:<alt>"``, the generic variables, the
        individual ones ``"<var>:<alt>"`` and the nest parameters ``"lambda:<nest>"``.
    cov_params_ : DataFrame (NumPy array)
        The inverse of the information (the negative analytic Hessian) at the estimate.
    llf_, llnull_, prsquared_
        Log-likelihood; that of equal shares among each group's available alternatives;
        McFadden's pseudo-R² ``1 − llf/llnull``.
    aic_, bic_
        ``−2 llf + 2k`` and ``−2 llf + k log n`` (``n`` = number of groups).
    converged_, n_iter_
        Whether the criterion was met; the iterations (conditional and nested together).
    alternatives_, base_, nests_, nobs_
        The sorted alternatives, the base, the nests (with the one-alternative nests added),
        the number of groups.

    Notes
    -----
    *Estimation.* The conditional logit's log-likelihood is concave: Newton's method with
    the analytic information, accumulated over blocks of groups (memory bounded by the block,
    not the data). The nested logit starts from the conditional fit (λ = 1) and uses a trust
    region (SciPy's ``trust-exact``) with the analytic gradient and Hessian, then Newton steps
    to the same criterion. The standard errors come from the **analytic** Hessian (derived in
    closed form, see :mod:`softmaxkit.choice._likelihood`), not finite differences.

    *Refused data* (:class:`ChoiceDataError`, naming the group and row): a group with no
    chosen row or several, a choice outside {0, 1}, a group with one available alternative,
    duplicate (group, alternative) rows, a non-finite covariate, an individual variable that
    varies within a group, a generic variable constant within every group (not identified).
    Separated data raise :class:`~softmaxkit.SeparationError`.

    *Dask.* A Dask DataFrame partitioned by group (every group within one partition) is
    fitted with each pass over the data — every Newton step, every trust-region trial — one
    Dask computation whose tasks return the partial sums of their partition.

    Examples
    --------
    >>> import pandas as pd
    >>> from softmaxkit.choice import ConditionalLogit
    >>> data = pd.DataFrame({
    ...     "id":     [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5],
    ...     "alt":    ["bus", "car", "train"] * 2 + ["bus", "car"] + ["bus", "car", "train"] * 2,
    ...     "choice": [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0],
    ...     "cost":   [1.0, 4.0, 2.0, 1.5, 3.0, 2.5, 1.0, 2.0, 2.0, 5.0, 1.0, 0.5, 3.5, 3.0],
    ... })
    >>> model = ConditionalLogit(alternative_vars=["cost"], base="car").fit(data)
    >>> model.params_.round(4)
    const:bus     -2.7510
    const:train   -2.7628
    cost          -1.2672
    dtype: float64
    >>> round(model.llf_, 4), round(model.llnull_, 4)    # llnull: 4 groups of 3, 1 of 2
    (-3.6841, -5.0876)
    >>> model.predict_proba(data).round(3)[:3]     # group 1: bus, car, train
    array([0.614, 0.215, 0.171])
    >>> print(model.summary())  # doctest: +ELLIPSIS
                              Conditional Logit Results
    ==============================================================================
    Model:               conditional logit   Choice situations:                  5
    ...
    """

    def __init__(self, alternative_vars: Sequence[str] = (),
                 individual_vars: Sequence[str] = (), base: Any = None,
                 nests: Mapping[str, Sequence[Any]] | None = None, weights: str | None = None,
                 fit_intercept: bool = True, tol: float = 1e-8, max_iter: int = 100) -> None:
        self.alternative_vars = alternative_vars
        self.individual_vars = individual_vars
        self.base = base
        self.nests = nests
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    _PARAMS = ("alternative_vars", "individual_vars", "base", "nests", "weights",
               "fit_intercept", "tol", "max_iter")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's ``get_params``).

        Examples
        --------
        >>> from softmaxkit.choice import ConditionalLogit
        >>> ConditionalLogit(["cost"], base="car").get_params()["base"]
        'car'
        """
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> ConditionalLogit:
        """Set constructor arguments (scikit-learn's ``set_params``); returns ``self``.

        Examples
        --------
        >>> from softmaxkit.choice import ConditionalLogit
        >>> ConditionalLogit(["cost"]).set_params(base="car", tol=1e-10)
        ConditionalLogit(alternative_vars=['cost'], base='car', tol=1e-10)
        """
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"{_FN}.set_params: unknown parameter {name!r}; valid "
                                 f"parameters are {', '.join(self._PARAMS)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {"alternative_vars": (), "individual_vars": (), "base": None,
                    "nests": None, "weights": None, "fit_intercept": True, "tol": 1e-8,
                    "max_iter": 100}
        shown = [f"{k}={getattr(self, k)!r}" for k in self._PARAMS
                 if not (getattr(self, k) == defaults[k]
                         or (k.endswith("_vars") and len(getattr(self, k)) == 0))]
        return f"{_FN}({', '.join(shown)})"

    # ---------------------------------------------------------------- fit

    def _columns(self, choice: str | None, alternative: str, group: str) -> _Columns:
        alt_vars = _names_tuple(self.alternative_vars, "alternative_vars")
        ind_vars = _names_tuple(self.individual_vars, "individual_vars")
        for name, what in ((choice, "choice"), (alternative, "alternative"), (group, "group")):
            if name is not None and not isinstance(name, str):
                raise TypeError(f"{_FN}.fit: {what} must be a column name (str), got {name!r}")
        if self.weights is not None and not isinstance(self.weights, str):
            raise TypeError(f"{_FN}: weights must be the name of a column (str), got "
                            f"{self.weights!r}")
        seen: dict[str, str] = {}
        for name, role in [*((v, "alternative_vars") for v in alt_vars),
                           *((v, "individual_vars") for v in ind_vars)]:
            if name in seen:
                raise ValueError(f"{_FN}: column {name!r} is listed twice (in {seen[name]} "
                                 f"and {role})")
            seen[name] = role
            if name in (choice, alternative, group):
                raise ValueError(f"{_FN}: column {name!r} is the choice, alternative or group "
                                 f"column; it cannot also be a variable ({role})")
        return _Columns(choice, alternative, group, alt_vars, ind_vars, self.weights)

    def _validate(self) -> None:
        if not (isinstance(self.tol, int | float | np.floating) and not isinstance(self.tol, bool)
                and math.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"{_FN}: tol must be a finite number > 0, got {self.tol!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int | np.integer) \
                or self.max_iter < 1:
            raise ValueError(f"{_FN}: max_iter must be an integer >= 1, got {self.max_iter!r}")

    def _nest_layout(self, alternatives: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                              dict[str, list[Any]]]:
        """``nests`` → nest position of each alternative, which nests have a λ, the nests."""
        nests = self.nests
        if not isinstance(nests, Mapping) or not nests:
            raise TypeError(f"{_FN}: nests must be a non-empty dict {{name: [alternatives]}}, "
                            f"got {nests!r}")
        labels = [plain_label(a) for a in alternatives]
        nest_of = np.full(len(labels), -1)
        out: dict[str, list[Any]] = {}
        for k, (name, members) in enumerate(nests.items()):
            if isinstance(members, str) or not isinstance(members, Sequence | set | frozenset
                                                          | np.ndarray):
                raise TypeError(f"{_FN}: nest {name!r} must be a list of alternatives, got "
                                f"{members!r}")
            members = list(members)
            if not members:
                raise ValueError(f"{_FN}: nest {name!r} is empty")
            for a in members:
                hits = [i for i, lab in enumerate(labels) if lab == plain_label(a)]
                if not hits:
                    raise ValueError(f"{_FN}: nest {name!r} lists {a!r}, which is not an "
                                     f"alternative of the data ({', '.join(map(repr, labels))})")
                if nest_of[hits[0]] >= 0:
                    raise ValueError(f"{_FN}: alternative {a!r} is in two nests ("
                                     f"{list(nests)[nest_of[hits[0]]]!r} and {name!r}); nests "
                                     "must not overlap")
                nest_of[hits[0]] = k
            out[str(name)] = [labels[i] for i in np.flatnonzero(nest_of == k)]
        k = len(out)
        for i in np.flatnonzero(nest_of < 0):
            name = _show(labels[i])
            if name in out:
                raise ValueError(f"{_FN}: alternative {labels[i]!r} is in no nest, and its own "
                                 f"nest's name {name!r} is taken; list it in a nest")
            nest_of[i] = k
            out[name] = [labels[i]]
            k += 1
        sizes = np.bincount(nest_of, minlength=k)
        if k == 1:
            raise ValueError(f"{_FN}: a single nest holding every alternative leaves its λ "
                             "unidentified (it only rescales the utilities); use two or more "
                             "nests")
        return nest_of, sizes >= 2, out

    def fit(self, data: Any, choice: str = "choice", alternative: str = "alt",
            group: str = "id") -> ConditionalLogit:
        """Fit the model to long-format data.

        Parameters
        ----------
        data : pandas or polars DataFrame, or Dask DataFrame
            One row per group and *available* alternative (an alternative without a row is
            unavailable to that group). A Dask DataFrame must hold each group in one
            partition.
        choice : str, default "choice"
            Column that is 1 on the chosen row of each group and 0 elsewhere.
        alternative : str, default "alt"
            Column of alternative labels.
        group : str, default "id"
            Column of group (choice situation) labels.

        Returns
        -------
        ConditionalLogit
            ``self``, fitted.

        Raises
        ------
        ChoiceDataError
            Bad data, naming the group (and the row and column).
        SeparationError
            The maximum-likelihood estimate does not exist.

        Notes
        -----
        Group and alternative labels may be of any type (the alternatives are sorted, the
        groups kept in order of first appearance). The rows need no particular order. An
        alternative that appears in no group is not known to the model; one that appears in
        some groups only is unavailable to the others.

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ...                      "alt": ["a", "b", "a", "b", "c", "a", "b", "c", "b", "c"],
        ...                      "choice": [1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
        ...                      "x": [0.5, 1.0, 2.0, 1.5, 0.0, 1.0, 0.2, 0.4, 1.0, 0.0]})
        >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)  # group 1: a, b only
        >>> model.params_.round(4)
        x   -0.2128
        dtype: float64
        >>> model.nobs_, round(model.llnull_, 4)      # equal shares: −(log 2 + 2 log 3 + log 2)
        (4, -3.5835)
        """
        fn = _FN
        self._validate()
        cols = self._columns(choice, alternative, group)
        if _is_dask_frame(data):
            from softmaxkit.choice._dask import DaskSource

            source: Any = DaskSource(data, cols, fn)
            alternatives, n_groups, llnull, varies = (source.alternatives, source.n_groups,
                                                      source.llnull, source.varies)
            gather = source.gather
        else:
            long, alternatives = read_long(data, cols, None, f"{fn}.fit")
            source = InMemory(long)
            n_groups, varies = long.n_groups, long.varies
            llnull = _null_llf(long)

            def gather() -> _Long | None:
                return long
        check_identified(varies, cols.alternative_vars, f"{fn}.fit")
        if alternatives.shape[0] < 2:
            raise ValueError(f"{fn}.fit: the data hold one alternative "
                             f"({plain_label(alternatives[0])!r}); a choice needs two or more")
        base = self._base_position(alternatives)
        lay = _Layout(alternatives.shape[0], base, bool(self.fit_intercept),
                      len(cols.alternative_vars), len(cols.individual_vars), None, None)
        names = _beta_names(cols, alternatives, base, bool(self.fit_intercept))
        if lay.n_beta == 0:
            raise ValueError(f"{fn}: the model has no parameters (no variables and "
                             "fit_intercept=False)")
        theta0 = np.zeros(lay.n_beta)
        start = source.sums(theta0, lay, True)
        bad = unidentified(start.info, names)
        if bad is not None:
            raise ValueError(
                f"{fn}.fit: the parameters {', '.join(map(repr, bad))} are not identified: a "
                "combination of them leaves every utility difference within every group "
                "unchanged (collinear variables, or an individual variable constant over all "
                "groups beside the constants); drop one")
        checked = False

        def during(n_iter: int) -> None:
            nonlocal checked
            if n_iter >= SEPARATION_AFTER and not checked:
                checked = True
                self._test_separation(gather(), lay, alternatives, names, fn)

        fit = newton(source, lay, theta0, tol=self.tol, max_iter=self.max_iter,
                     before_step=during, state=start)
        if not checked and (fit.trouble is not None or not fit.converged
                            or condition(fit.state.info) > SUSPECT_CONDITION):
            self._test_separation(gather(), lay, alternatives, names, fn)
        nests_out: dict[str, list[Any]] | None = None
        if self.nests is not None:
            nest_of, free, nests_out = self._nest_layout(alternatives)
            lay = _Layout(lay.n_alt, base, lay.fit_intercept, lay.n_generic, lay.n_individual,
                          nest_of, free)
            names = names + [f"lambda:{name}" for name, ok in zip(nests_out, free, strict=True)
                             if ok]
            theta0 = np.r_[fit.theta, np.ones(lay.n_lambda)]
            n0 = fit.n_iter
            fit = trust_region(source, lay, theta0, tol=self.tol, max_iter=self.max_iter, fn=fn)
            fit.n_iter += n0
        cov = covariance(fit.state.info)
        if cov is None:
            raise ValueError(
                f"{fn}.fit: the information matrix at the estimate is not positive definite "
                f"(after {fit.n_iter} iterations): the estimate is not a strict maximum; "
                "the model is probably not identified by these data")
        if not fit.converged:
            warnings.warn(not_converged_message(fit, self.tol, self.max_iter, fn),
                          ConvergenceWarning, stacklevel=2)
        self._store(fit.theta, cov, names, alternatives, base, lay, cols, fit.state.llf,
                    llnull, n_groups, fit.converged, fit.n_iter, nests_out)
        if lay.nest_of is not None:
            lam = fit.theta[lay.n_beta:]
            outside = [(n, float(v)) for n, v in zip(names[lay.n_beta:], lam, strict=True)
                       if not 0 < v <= 1]
            if outside:
                shown = ", ".join(f"{n} = {v:.4g}" for n, v in outside)
                warnings.warn(
                    f"{fn}.fit: {shown} outside (0, 1]: the nested logit is then not consistent "
                    "with random utility maximisation for all values of the covariates",
                    NestingWarning, stacklevel=2)
        return self

    def _base_position(self, alternatives: np.ndarray) -> int:
        if self.base is None:
            return 0
        hits = [i for i, a in enumerate(alternatives) if plain_label(a) == plain_label(self.base)]
        if not hits:
            raise ValueError(f"{_FN}: base={self.base!r} is not an alternative of the data "
                             f"({', '.join(repr(plain_label(a)) for a in alternatives)})")
        return hits[0]

    def _test_separation(self, long: _Long | None, lay: _Layout, alternatives: np.ndarray,
                         names: list[str], fn: str) -> None:
        if long is None:
            warnings.warn(
                f"{fn}.fit: the fit shows a symptom of separation (slow or singular Newton "
                "steps) that could not be tested: the separation test is a linear program "
                f"over all groups in one process, run on Dask data only up to {GATHER_LIMIT} "
                "rows; fit a sample in memory to test it", SeparationWarning, stacklevel=3)
            return
        found = find_separation(long, lay, alternatives, names)
        if found is not None:
            raise separation_error(found, fn)

    def _store(self, theta: np.ndarray, cov: np.ndarray, names: list[str],
               alternatives: np.ndarray, base: int, lay: _Layout, cols: _Columns, llf: float,
               llnull: float, n_groups: int, converged: bool, n_iter: int,
               nests: dict[str, list[Any]] | None) -> None:
        self._theta = theta
        self._cov = cov
        self._layout = lay
        self._cols = cols
        self.alternatives_ = alternatives
        self.base_ = plain_label(alternatives[base])
        self.nests_ = nests
        self.param_names_ = list(names)
        se = np.sqrt(np.diag(cov))
        z = theta / se
        self._se, self._z, self._pv = se, z, norm_sf2(z)
        self.params_ = _series(theta.copy(), names)
        self.bse_ = _series(se, names)
        self.zvalues_ = _series(z, names)
        self.pvalues_ = _series(self._pv, names)
        self.cov_params_ = _frame(cov.copy(), names, names)
        k = theta.shape[0]
        self.nobs_ = int(n_groups)
        self.llf_ = float(llf)
        self.llnull_ = float(llnull)
        self.prsquared_ = 1.0 - self.llf_ / self.llnull_ if self.llnull_ != 0 else math.nan
        self.aic_ = -2.0 * self.llf_ + 2.0 * k
        self.bic_ = -2.0 * self.llf_ + k * math.log(n_groups)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)

    # ---------------------------------------------------------------- results

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "_theta"):
            raise AttributeError(f"{_FN}.{what}: this model is not fitted yet; call "
                                 "fit(data, choice=..., alternative=..., group=...)")

    def conf_int(self, alpha: float = 0.05) -> Any:
        r"""Wald intervals :math:`\hat\theta \pm z_{1-\alpha/2}\,\mathrm{se}`; columns
        ``lower``, ``upper``, one row per parameter.

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3], "alt": ["a", "b"] * 3,
        ...                      "choice": [1, 0, 0, 1, 1, 0],
        ...                      "x": [0.0, 1.0, 1.0, 0.0, 0.5, 0.0]})
        >>> ConditionalLogit(["x"], fit_intercept=False).fit(data).conf_int().shape
        (1, 2)
        """
        self._check_fitted("conf_int")
        if not (isinstance(alpha, int | float | np.floating) and 0 < alpha < 1):
            raise ValueError(f"{_FN}.conf_int: alpha must be in (0, 1), got {alpha!r}")
        q = norm_ppf(1.0 - alpha / 2.0)
        values = np.stack([self._theta - q * self._se, self._theta + q * self._se], axis=1)
        return _frame(values, self.param_names_, ["lower", "upper"])

    def _read_new(self, data: Any, alternative: str | None, group: str | None,
                  what: str) -> _Long:
        self._check_fitted(what)
        cols = self._cols
        new = _Columns(None, alternative if alternative is not None else cols.alternative,
                       group if group is not None else cols.group, cols.alternative_vars,
                       cols.individual_vars, None)
        long, _ = read_long(data, new, self.alternatives_, f"{_FN}.{what}", need_two=False)
        return long

    def _proba_groups(self, long: _Long) -> np.ndarray:
        """(G, J) probabilities, block by block."""
        lay = self._layout
        size = block_size(lay)
        out = np.empty(long.avail.shape)
        for s in range(0, long.n_groups, size):
            out[s:s + size] = probabilities(long.block(s, s + size), self._theta, lay)
        return out

    def predict_proba(self, data: Any, alternative: str | None = None,
                      group: str | None = None) -> np.ndarray:
        """The probability of each row's alternative in its group, aligned with the rows.

        Parameters
        ----------
        data : pandas or polars DataFrame
            Long format with the fitted variables (a choice column is not needed).
        alternative, group : str, optional
            Column names; default those of :meth:`fit`.

        Returns
        -------
        numpy.ndarray, shape (n_rows,)
            Sums to 1 within each group (over its rows, i.e. its available alternatives).
            A group may hold a single row here (its probability is 1). For a Dask DataFrame
            partitioned by group: a lazy Dask Series with the frame's index.

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ...                      "alt": ["a", "b", "a", "b", "c", "a", "b", "c", "b", "c"],
        ...                      "choice": [1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
        ...                      "x": [0.5, 1.0, 2.0, 1.5, 0.0, 1.0, 0.2, 0.4, 1.0, 0.0]})
        >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)
        >>> model.predict_proba(data).round(3)
        array([0.527, 0.473, 0.275, 0.305, 0.42 , 0.301, 0.357, 0.342, 0.447, 0.553])
        """
        if _is_dask_frame(data):
            return self._lazy(data, alternative, group, "predict_proba")
        long = self._read_new(data, alternative, group, "predict_proba")
        proba = self._proba_groups(long)
        return proba[long.row_group, long.row_alt]

    def _lazy(self, data: Any, alternative: str | None, group: str | None, what: str) -> Any:
        """A lazy Dask Series over a Dask DataFrame partitioned by group: one task per
        partition, each the in-memory method on its partition."""
        self._check_fitted(what)
        method = getattr(self, what)
        pd = pandas_or_none()

        def part(frame: Any) -> Any:
            return pd.Series(method(frame, alternative, group), index=frame.index)

        return data.map_partitions(part, meta=(what, "f8" if what == "predict_proba" else "i8"))

    def predict(self, data: Any, alternative: str | None = None,
                group: str | None = None) -> np.ndarray:
        """1 on the row of each group's most probable alternative, 0 elsewhere (int64).

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ...                      "alt": ["a", "b", "a", "b", "c", "a", "b", "c", "b", "c"],
        ...                      "choice": [1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
        ...                      "x": [0.5, 1.0, 2.0, 1.5, 0.0, 1.0, 0.2, 0.4, 1.0, 0.0]})
        >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)
        >>> model.predict(data)
        array([1, 0, 0, 0, 1, 0, 1, 0, 0, 1])
        """
        if _is_dask_frame(data):
            return self._lazy(data, alternative, group, "predict")
        long = self._read_new(data, alternative, group, "predict")
        proba = np.where(long.avail, self._proba_groups(long), -1.0)
        best = np.argmax(proba, axis=1)
        return (long.row_alt == best[long.row_group]).astype(np.int64)

    def elasticities(self, data: Any, variable: str, alternative: str | None = None,
                     group: str | None = None) -> Elasticities:
        """Elasticities of the probabilities with respect to ``variable`` (own and cross).

        See :class:`~softmaxkit.choice.Elasticities` for the closed forms and the layout:
        disaggregate (per group), averaged over the groups, and at the mean covariates (as
        R's ``mlogit::effects``).

        Parameters
        ----------
        data : pandas or polars DataFrame
            Long format, as for :meth:`predict_proba`.
        variable : str
            One of ``alternative_vars`` or ``individual_vars``.
        alternative, group : str, optional
            Column names; default those of :meth:`fit`.

        Returns
        -------
        Elasticities

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ...                      "alt": ["a", "b", "a", "b", "c", "a", "b", "c", "b", "c"],
        ...                      "choice": [1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
        ...                      "x": [0.5, 1.0, 2.0, 1.5, 0.0, 1.0, 0.2, 0.4, 1.0, 0.0]})
        >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)
        >>> e = model.elasticities(data, "x")
        >>> e.average.round(3)       # row: whose probability; column: whose x changes
               a      b      c
        a -0.169  0.071  0.015
        b  0.079 -0.120  0.010
        c  0.090  0.069 -0.019
        """
        from softmaxkit.choice._effects import elasticities

        long = self._read_new(data, alternative, group, "elasticities")
        return elasticities(self, long, variable)

    def summary(self, alpha: float = 0.05) -> Summary:
        """A text table of the fit (``print`` it).

        Parameters
        ----------
        alpha : float, default 0.05
            For the confidence-interval columns.

        Examples
        --------
        >>> import pandas as pd
        >>> from softmaxkit.choice import ConditionalLogit
        >>> data = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ...                      "alt": ["a", "b", "a", "b", "c", "a", "b", "c", "b", "c"],
        ...                      "choice": [1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
        ...                      "x": [0.5, 1.0, 2.0, 1.5, 0.0, 1.0, 0.2, 0.4, 1.0, 0.0]})
        >>> model = ConditionalLogit(["x"], fit_intercept=False).fit(data)
        >>> print(model.summary())  # doctest: +ELLIPSIS
                                  Conditional Logit Results
        ==============================================================================
        Model:               conditional logit   Choice situations:                  4
        ...
        x                  -0.2128 ...
        """
        self._check_fitted("summary")
        q = norm_ppf(1.0 - alpha / 2.0)
        nested = self._layout.nest_of is not None
        title = "Nested Logit Results (RU2)" if nested else "Conditional Logit Results"
        alts = ", ".join(_show(a) for a in self.alternatives_)
        left = [("Model:", "nested logit" if nested else "conditional logit"),
                ("Alternatives:", alts if len(alts) <= 18 else f"{len(self.alternatives_)}"),
                ("Base alternative:", _show(self.base_)),
                ("Converged:", str(self.converged_)),
                ("Iterations:", str(self.n_iter_))]
        right = [("Choice situations:", str(self.nobs_)),
                 ("Log-likelihood:", f"{self.llf_:.4f}"),
                 ("LL-Null:", f"{self.llnull_:.4f}"),
                 ("McFadden R²:", f"{self.prsquared_:.4f}"),
                 ("AIC / BIC:", f"{self.aic_:.1f} / {self.bic_:.1f}")]
        if nested and self.nests_ is not None:
            for name, members in self.nests_.items():
                left.append((f"Nest {name}:", ", ".join(_show(m) for m in members)))
        return Summary(summary_text(title, left, right, self.param_names_, self._theta,
                                    self._se, self._z, self._pv, self._theta - q * self._se,
                                    self._theta + q * self._se, alpha))


def _beta_names(cols: _Columns, alternatives: np.ndarray, base: int,
                fit_intercept: bool) -> list[str]:
    nonbase = [_show(a) for i, a in enumerate(alternatives) if i != base]
    names = [f"const:{a}" for a in nonbase] if fit_intercept else []
    names += list(cols.alternative_vars)
    for v in cols.individual_vars:
        names += [f"{v}:{a}" for a in nonbase]
    return names


def _null_llf(long: _Long) -> float:
    """ℓ of equal shares among each group's available alternatives."""
    w = np.ones(long.n_groups) if long.w is None else long.w
    return float(-(w @ np.log(long.avail.sum(axis=1))))


def _series(values: np.ndarray, names: list[str]) -> Any:
    pd = pandas_or_none()
    if pd is None:  # pragma: no cover - exercised only without pandas
        return values
    return pd.Series(values, index=pd.Index(names))


def _frame(values: np.ndarray, index: list[str], columns: list[str]) -> Any:
    pd = pandas_or_none()
    if pd is None:  # pragma: no cover - exercised only without pandas
        return values
    return pd.DataFrame(values, index=index, columns=columns)
