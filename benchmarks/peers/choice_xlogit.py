"""Greene's TravelMode fitted in xlogit: conditional logits to full precision.

xlogit is a test extra of softmaxkit; the choice-model tests compare with it live, and this
script prints the same fits for the README and for review::

    python benchmarks/peers/choice_xlogit.py

Models (the shipped ``softmaxkit/data/travelmode.csv``, 210 travellers, base ``car``):

* ``greene``: Greene's specification (Econometric Analysis, 5th ed., 2003, Table 21.11):
  V_j = const_j + b_gc gc_j + b_ttme ttme_j + g hinc·[j = air]; the interaction is a column
  ``hinc_air`` used as a generic variable;
* ``clogit``: V_j = const_j + b_gc gc_j + b_ttme ttme_j + g_j hinc (``hinc`` an individual
  variable: one coefficient per non-base mode);
* ``clogit_unbalanced``: ``clogit`` with the bus unavailable to every third traveller who did
  not choose it (ids divisible by 3): xlogit's ``avail=`` on the full panel.

Two things about xlogit 0.2.7 that the script works around, and says so:

* it expects the rows of each choice situation sorted by alternative label (it drops the
  base's constant by its position in the sorted labels, not by the rows' labels): the data are
  sorted by (id, mode) before the fit; unsorted, the constants come out relabelled against the
  wrong base with no warning;
* its BFGS stops when |d·g| < 1e-6 (d the quasi-Newton step), about 1e-4 from the optimum in
  the constants: the fit is run again with ``gtol=1e-14`` passed to its own BFGS, so that the
  printed values are the maximum to ~1e-8. Its standard errors come from its default
  finite-difference Hessian of the analytic gradient (``num_hess=True``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "softmaxkit" / "data" / "travelmode.csv"


def load() -> pd.DataFrame:
    data = pd.read_csv(DATA).sort_values(["id", "mode"], kind="stable").reset_index(drop=True)
    data["hinc_air"] = data["hinc"] * (data["mode"] == "air")
    return data


def unbalanced_avail(data: pd.DataFrame) -> np.ndarray:
    """0 for the bus of travellers whose id is divisible by 3 and who did not choose it."""
    drop = (data["mode"] == "bus") & (data["id"] % 3 == 0) & (data["choice"] == 0)
    return (~drop).to_numpy().astype(int)


def tighten() -> None:
    """Pass ``gtol=1e-14`` to xlogit's BFGS (its stopping rule is |d·g| < gtol)."""
    import xlogit.multinomial_logit as xm

    minimize = xm._minimize

    def tight(fn, x, args, method, tol, options):  # type: ignore[no-untyped-def]
        return minimize(fn, x, args, method, tol, {**options, "gtol": 1e-14})

    xm._minimize = tight


def fit(data: pd.DataFrame, name: str, generic: list[str], isvars: list[str],
        avail: np.ndarray | None = None) -> None:
    from xlogit import MultinomialLogit

    names = generic + isvars
    model = MultinomialLogit()
    model.fit(X=data[names], y=data["choice"], varnames=names, isvars=isvars or None,
              alts=data["mode"], ids=data["id"], avail=avail, base_alt="car",
              fit_intercept=True, tol_opts={"ftol": 1e-15}, verbose=0)
    print(f"== {name} (xlogit, {data['id'].nunique()} travellers)")
    for label, value, se in zip(model.coeff_names, model.coeff_, model.stderr, strict=True):
        label = str(label)
        if label.startswith("_intercept."):  # softmaxkit's names: const:<alt>, <var>:<alt>
            label = "const:" + label.removeprefix("_intercept.")
        else:
            label = label.replace(".", ":")
        print(f"{label:<16} {float(value)!r:<24} {float(se)!r}")
    print(f"llf {float(model.loglikelihood)!r}")
    print(f"converged {model.convergence}")


def main() -> None:
    tighten()
    data = load()
    fit(data, "greene", ["gc", "ttme", "hinc_air"], [])
    fit(data, "clogit", ["gc", "ttme"], ["hinc"])
    fit(data, "clogit_unbalanced", ["gc", "ttme"], ["hinc"], avail=unbalanced_avail(data))


if __name__ == "__main__":
    main()
