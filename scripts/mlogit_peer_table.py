"""Print the agreement of ``MultinomialLogit`` with statsmodels and scikit-learn (Markdown).

For three real data sets that ship with statsmodels (anes96, modechoice, fair) this fits
``MultinomialLogit()`` and statsmodels ``MNLogit(y, add_constant(X)).fit(method="newton")``
and prints the largest relative differences of the parameters, standard errors, log-likelihood
and average marginal effects (with their delta-method standard errors); then the largest
absolute difference of the predicted probabilities from scikit-learn's multinomial
``LogisticRegression(C=inf)`` (no penalty). The test suite asserts the same comparisons
(``tests/test_mlogit.py``). Run from the repository root::

    python scripts/mlogit_peer_table.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def datasets() -> dict[str, tuple]:
    """The three data sets as (X DataFrame, y Series) pairs."""
    import statsmodels.api as sm

    anes = sm.datasets.anes96.load_pandas()
    mode = sm.datasets.modechoice.load_pandas().data
    chosen = mode[mode["choice"] == 1].reset_index(drop=True)
    fair = sm.datasets.fair.load_pandas().data
    fair_x = ["rate_marriage", "age", "yrs_married", "children", "religious"]
    return {
        "anes96 (PID ~ 5 covariates)": (anes.exog, anes.endog.astype(int)),
        "modechoice (mode ~ hinc + psize)": (chosen[["hinc", "psize"]],
                                             chosen["mode"].astype(int)),
        "fair (occupation ~ 5 covariates)": (fair[fair_x], fair["occupation"].astype(int)),
    }


def rel(a: object, b: object) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main() -> None:
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    from softmaxkit.mlogit import MultinomialLogit

    print("| data set | n | K | params | bse | llf | AME | AME se | P vs sklearn (abs) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (X, y) in datasets().items():
        ours = MultinomialLogit().fit(X, y)
        ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", maxiter=100)
        me, sme = ours.marginal_effects(), ref.get_margeff()
        sk = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk.fit(X.to_numpy(), y.to_numpy())
        dp = float(np.max(np.abs(ours.predict_proba(X) - sk.predict_proba(X.to_numpy()))))
        print(f"| {name} | {len(y)} | {len(ours.categories_)} "
              f"| {rel(ours.params_, ref.params):.1e} | {rel(ours.bse_, ref.bse):.1e} "
              f"| {rel(ours.llf_, ref.llf):.1e} | {rel(me.effects, sme.margeff):.1e} "
              f"| {rel(me.bse, sme.margeff_se):.1e} | {dp:.1e} |")


if __name__ == "__main__":
    main()
