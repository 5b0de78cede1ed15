"""Greene's TravelMode fitted in Biogeme: the conditional and the nested logit, to full precision.

The peer values recorded in the choice-model tests and in the README come from this script.
Biogeme is not a dependency of softmaxkit (nor a test extra): run the script in an environment
that has it (it was run with Biogeme 3.3.2)::

    python benchmarks/peers/choice_biogeme.py

Models (the shipped ``softmaxkit/data/travelmode.csv``, 210 travellers, modes air, train,
bus, car; base ``car``):

* ``clogit``: V_j = const_j + b_gc gc_j + b_ttme ttme_j + g_j hinc (const and g zero for car);
* ``nested``: the same utilities, nests fly = {air}, ground = {train, bus, car}; the ground
  nest's dissimilarity λ is estimated (RU2, Biogeme's μ = 1/λ is written as ``1 / LAMBDA`` so
  that λ and its standard error are Biogeme's own), a one-alternative nest has λ = 1;
* ``clogit_unbalanced``: ``clogit`` with the bus unavailable to every third traveller who did
  not choose it (ids divisible by 3), Biogeme's availability conditions.

Standard errors are the Rao-Cramér ones (the inverse of Biogeme's analytic Hessian), the
classical errors softmaxkit reports. Output: ``name value std_err`` lines and the
log-likelihood, with ``repr`` (every digit). The fits use SciPy's optimiser in Biogeme
(``--algorithm scipy``, converged; Biogeme's default ``simple_bounds`` stops on the nested
model with "not converged" at the same point to ~1.5e-6) and ``--tolerance 1e-10``.

``--bench`` is Biogeme's side of ``benchmarks/bench_choice.py``: it rebuilds that benchmark's
synthetic data (``make_data``, same seed), converts it to Biogeme's wide layout (not timed),
times ``BIOGEME(...)`` + ``estimate()`` with Biogeme's default settings, and prints one JSON
line: seconds, llf, params, iterations and the peak resident memory of the fit.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "softmaxkit" / "data" / "travelmode.csv"
MODES = ("air", "train", "bus", "car")
BASE = "car"


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """One row per traveller: ``<var>_<mode>``, ``av_<mode>``, ``hinc`` and the chosen mode's
    number (1 = air ... 4 = car)."""
    out = pd.DataFrame({"id": np.sort(long["id"].unique())}).set_index("id")
    for k, mode in enumerate(MODES, start=1):
        rows = long[long["mode"] == mode].set_index("id")
        for var in ("gc", "ttme"):
            out[f"{var}_{mode}"] = rows[var].reindex(out.index).fillna(0.0)
        out[f"av_{mode}"] = rows["choice"].reindex(out.index).notna().astype(float)
        chosen = rows.index[rows["choice"] == 1]
        out.loc[chosen, "chosen"] = k
    out["hinc"] = long.groupby("id")["hinc"].first()
    return out.reset_index().astype(float)


def unbalanced(long: pd.DataFrame) -> pd.DataFrame:
    """The bus removed for travellers whose id is divisible by 3 and who did not choose it."""
    drop = (long["mode"] == "bus") & (long["id"] % 3 == 0) & (long["choice"] == 0)
    return long[~drop].reset_index(drop=True)


def fit(data: pd.DataFrame, nested: bool, name: str, tolerance: float, algorithm: str) -> None:
    from biogeme.biogeme import BIOGEME
    from biogeme.database import Database
    from biogeme.expressions import Beta, Variable
    from biogeme.models import loglogit, lognested
    from biogeme.nests import NestsForNestedLogit, OneNestForNestedLogit
    from biogeme.parameters import Parameters
    from biogeme.results_processing import EstimateVarianceCovariance

    database = Database(name, data)
    b_gc, b_ttme = Beta("gc", 0, None, None, 0), Beta("ttme", 0, None, None, 0)
    util, avail = {}, {}
    for k, mode in enumerate(MODES, start=1):
        v = b_gc * Variable(f"gc_{mode}") + b_ttme * Variable(f"ttme_{mode}")
        if mode != BASE:
            v = (Beta(f"const:{mode}", 0, None, None, 0)
                 + Beta(f"hinc:{mode}", 0, None, None, 0) * Variable("hinc") + v)
        util[k], avail[k] = v, Variable(f"av_{mode}")
    if nested:
        lam = Beta("lambda:ground", 1, 1e-3, None, 0)
        nests = NestsForNestedLogit(
            choice_set=list(util),
            tuple_of_nests=(
                OneNestForNestedLogit(nest_param=1.0, list_of_alternatives=[1], name="fly"),
                OneNestForNestedLogit(nest_param=1 / lam, list_of_alternatives=[2, 3, 4],
                                      name="ground"),
            ),
        )
        logprob = lognested(util, avail, nests, Variable("chosen"))
    else:
        logprob = loglogit(util, avail, Variable("chosen"))
    # A Parameters object: no biogeme.toml is read or written.
    model = BIOGEME(database, logprob, parameters=Parameters(), generate_html=False,
                    generate_yaml=False, save_iterations=False, tolerance=tolerance,
                    optimization_algorithm=algorithm)
    model.model_name = name
    results = model.estimate()
    rao = EstimateVarianceCovariance.RAO_CRAMER
    print(f"== {name} (Biogeme, {len(data)} travellers)")
    for beta in sorted(results.get_beta_values()):
        value = results.get_parameter_value(beta)
        se = results.get_parameter_std_err(beta, estimate_var_covar=rao)
        print(f"{beta:<16} {value!r:<24} {float(se)!r}")
    print(f"llf {results.final_loglikelihood!r}")
    print(f"converged {results.algorithm_has_converged}, gradient norm {results.gradient_norm!r}")


def bench_wide(frame: pd.DataFrame, j: int, p: int) -> pd.DataFrame:
    """The benchmark's long frame (sorted by id, alt 0..J-1, every alternative available) in
    wide layout: ``x<k>_<a>`` and the chosen alternative ``chosen`` (1-based)."""
    n = len(frame) // j
    out = {"chosen": frame["choice"].to_numpy().reshape(n, j).argmax(axis=1) + 1.0}
    for k in range(p):
        values = frame[f"x{k}"].to_numpy().reshape(n, j)
        for a in range(j):
            out[f"x{k}_{a}"] = values[:, a]
    return pd.DataFrame(out)


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class _HostStack:
    """``jax.numpy`` with ``stack`` done by NumPy (see :func:`bench`)."""

    def __init__(self, jnp: Any) -> None:
        self._jnp = jnp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jnp, name)

    def stack(self, arrays: Any, *args: Any, **kwargs: Any) -> Any:
        return self._jnp.asarray(np.stack([np.asarray(a) for a in arrays], *args, **kwargs))


def bench(n: int, j: int, p: int, nested: bool, seed: int) -> None:
    """Time Biogeme on ``benchmarks/bench_choice.py``'s data; print one JSON line.

    After the optimisation Biogeme computes the BHHH matrix as ``jnp.stack`` of one outer
    product per observation; XLA compiles that stack for its n operands, which took 81 of
    143 s at n = 5,000 here and grows with n. That one call is done by NumPy's ``stack``
    instead (the same matrix, far sooner): Biogeme's time is otherwise its own defaults.
    """
    import json
    import time

    import biogeme.jax_calculator.single_formula as single_formula

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench_choice import make_data, nest_members
    from biogeme.biogeme import BIOGEME
    from biogeme.database import Database
    from biogeme.expressions import Beta, Variable
    from biogeme.models import loglogit, lognested
    from biogeme.nests import NestsForNestedLogit, OneNestForNestedLogit
    from biogeme.parameters import Parameters

    single_formula.jnp = _HostStack(single_formula.jnp)
    wide_data = bench_wide(make_data(n, j, p, nested=nested, seed=seed), j, p)
    try:  # reset the peak resident set (Linux), so that it is the fit's
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    before = _rss_mb("VmRSS")
    t0 = time.perf_counter()
    database = Database("bench", wide_data)
    betas = [Beta(f"x{k}", 0, None, None, 0) for k in range(p)]
    util = {}
    for a in range(j):
        v = sum(b * Variable(f"x{k}_{a}") for k, b in enumerate(betas))
        if a:
            v = Beta(f"const:{a}", 0, None, None, 0) + v
        util[a + 1] = v
    if nested:
        nests = NestsForNestedLogit(
            choice_set=list(util),
            tuple_of_nests=tuple(
                OneNestForNestedLogit(nest_param=1 / Beta(f"lambda:{name}", 1, 1e-3, None, 0),
                                      list_of_alternatives=[a + 1 for a in members], name=name)
                for name, members in nest_members(j).items()
            ),
        )
        logprob = lognested(util, None, nests, Variable("chosen"))
    else:
        logprob = loglogit(util, None, Variable("chosen"))
    model = BIOGEME(database, logprob, parameters=Parameters(), generate_html=False,
                    generate_yaml=False, save_iterations=False)
    model.model_name = "bench"
    results = model.estimate()
    seconds = time.perf_counter() - t0
    params = {b: float(results.get_parameter_value(b)) for b in results.get_beta_values()}
    iterations = results.optimization_messages.get("Number of iterations", "-")
    print(json.dumps({"seconds": seconds, "llf": float(results.final_loglikelihood),
                      "params": params, "iterations": str(iterations).strip(),
                      "converged": bool(results.algorithm_has_converged),
                      "peak_rss_mb": _rss_mb("VmHWM") - before}))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tolerance", type=float, default=1e-10,
                        help="Biogeme's stopping tolerance on the relative gradient")
    parser.add_argument("--algorithm", default="scipy", help="Biogeme's optimisation algorithm")
    parser.add_argument("--bench", action="store_true",
                        help="time Biogeme on benchmarks/bench_choice.py's data instead")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--alternatives", type=int, default=6)
    parser.add_argument("--variables", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nested", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:  # Biogeme writes its files in the working dir
        os.chdir(tmp)
        if args.bench:
            bench(args.n, args.alternatives, args.variables, args.nested, args.seed)
            return
        long = pd.read_csv(DATA)
        for name, data, nested in (("clogit", wide(long), False), ("nested", wide(long), True),
                                   ("clogit_unbalanced", wide(unbalanced(long)), False)):
            fit(data, nested, name, args.tolerance, args.algorithm)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
