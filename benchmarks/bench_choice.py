"""Benchmark ConditionalLogit.fit against xlogit (conditional logit) and Biogeme (nested logit).

Run ``python benchmarks/bench_choice.py`` from the repository root; ``--help`` lists the flags.

Each case draws ``n`` choice situations of ``J`` alternatives with ``--choice-vars``
standard-normal alternative attributes (generic coefficients) and alternative-specific
constants, the choices from the model itself (seeded; :func:`make_data`): a conditional logit
for the ``conditional`` case, a nested logit with two nests of half the alternatives each
(λ = 0.6 and 0.8) for the ``nested`` case. The data are a long pandas DataFrame, one row per
situation and alternative, sorted by situation and alternative (the order xlogit requires).

Timed, each from its own long or wide data to the estimates *and* their standard errors:

* softmaxkit: ``ConditionalLogit(vars, base=0[, nests=...]).fit(frame, alternative="alt")``
  (Newton's method with the analytic Hessian; the nested logit from the conditional fit by a
  trust region);
* xlogit 0.2.7 (conditional only): ``MultinomialLogit().fit(..., fit_intercept=True,
  base_alt=0)`` with its defaults (BFGS, then a finite-difference Hessian for the errors);
* Biogeme (``--choice-biogeme-python PYTHON``, an interpreter with Biogeme installed): it runs
  ``benchmarks/peers/choice_biogeme.py --bench`` in that interpreter, which rebuilds the same
  data with :func:`make_data` (same seed), converts it to Biogeme's wide layout (not timed) and
  times ``BIOGEME(...)`` + ``estimate()`` with its defaults. That one runs in its own process
  (another environment); softmaxkit and xlogit run in this one, their fits interleaved.

The table gives the best of ``--choice-repeats`` fits of each, the speed-up (peer time / ours),
the iterations, ``|Δllf|/|llf|`` and the largest absolute parameter difference. A speed-up
counts only at equal log-likelihood (``|Δllf|/|llf| <= 1e-8``). **Peak memory** is measured
on one extra, untimed fit of each in this process with :mod:`tracemalloc` (NumPy reports its
buffers to it: the memory a fit allocates above what it was given); for Biogeme, which
computes with JAX outside tracemalloc's view, the peak resident set size of its process
minus its size before the fit. ``--choice-threads N`` limits the BLAS threads of this
process (threadpoolctl) and is passed on to Biogeme's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

FULL_N = 100_000
QUICK_N = 5_000
ALTERNATIVES = 6
VARIABLES = 5
TARGET = 2.0
EQUAL_LLF = 1e-8
LAMBDAS = (0.6, 0.8)
CASES = ("conditional", "nested")
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers",
                           "choice_biogeme.py")


def true_params(j: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The generating constants (alternative 0 is the base) and coefficients."""
    asc = np.linspace(-0.5, 0.5, j)
    asc -= asc[0]
    beta = np.array([-1.0, 0.5, -0.5, 0.8, 0.3, -0.2, 0.6, -0.7])
    beta = np.resize(beta, p)
    return asc, beta


def nest_members(j: int) -> dict[str, list[int]]:
    """Two nests: the first half of the alternatives, and the rest."""
    half = j // 2
    return {"a": list(range(half)), "b": list(range(half, j))}


def make_data(n: int, j: int = ALTERNATIVES, p: int = VARIABLES, nested: bool = False,
              seed: int = 0) -> Any:
    """A long pandas DataFrame (``id``, ``alt``, ``choice``, ``x0`` ...) drawn from the model.

    With ``nested`` the choices follow the nested logit with :func:`nest_members` and
    :data:`LAMBDAS`, else the conditional logit. Seeded: the same arguments give the same data
    in any process (Biogeme's script rebuilds them).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, j, p))
    asc, beta = true_params(j, p)
    v = x @ beta + asc
    logp = np.empty_like(v)
    if nested:
        ivs = []
        for k, members in enumerate(nest_members(j).values()):
            s = v[:, members] / LAMBDAS[k]
            top = s.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
            logp[:, members] = s - lse[:, None]
            ivs.append(LAMBDAS[k] * lse)
        iv = np.stack(ivs, axis=1)
        top = iv.max(axis=1, keepdims=True)
        lnest = iv - (top + np.log(np.exp(iv - top).sum(axis=1, keepdims=True)))
        for k, members in enumerate(nest_members(j).values()):
            logp[:, members] += lnest[:, [k]]
    else:
        top = v.max(axis=1, keepdims=True)
        logp = v - (top + np.log(np.exp(v - top).sum(axis=1, keepdims=True)))
    u = rng.random(n)
    chosen = np.minimum((np.cumsum(np.exp(logp), axis=1) < u[:, None]).sum(axis=1), j - 1)
    frame = pd.DataFrame({
        "id": np.repeat(np.arange(n), j),
        "alt": np.tile(np.arange(j), n),
        "choice": (np.arange(j)[None, :] == chosen[:, None]).astype(np.int64).ravel(),
    })
    for k in range(p):
        frame[f"x{k}"] = x[:, :, k].ravel()
    return frame


def variables(p: int) -> list[str]:
    return [f"x{k}" for k in range(p)]


Fit = Callable[[Any], tuple[float, dict[str, float], int]]


def _ours(p: int, nested: bool, j: int) -> Fit:
    h.use_working_tree()
    from softmaxkit.choice import ConditionalLogit

    nests = nest_members(j) if nested else None

    def fit(frame: Any) -> tuple[float, dict[str, float], int]:
        m = ConditionalLogit(variables(p), base=0, nests=nests).fit(frame, alternative="alt")
        return float(m.llf_), {str(k): float(v) for k, v in m.params_.items()}, int(m.n_iter_)

    return fit


def _xlogit(p: int) -> Fit | None:
    try:
        from xlogit import MultinomialLogit
    except ImportError:
        return None
    names = variables(p)

    def fit(frame: Any) -> tuple[float, dict[str, float], int]:
        m = MultinomialLogit()
        m.fit(X=frame[names], y=frame["choice"], varnames=names, alts=frame["alt"],
              ids=frame["id"], base_alt=0, fit_intercept=True, verbose=0)
        params = {}
        for name, value in zip(m.coeff_names, m.coeff_, strict=True):
            name = str(name)
            name = "const:" + name.removeprefix("_intercept.") if name.startswith("_int") else name
            params[name] = float(value)
        return float(m.loglikelihood), params, int(m.total_iter)

    return fit


def _biogeme(python: str, n: int, j: int, p: int, nested: bool, seed: int,
             threads: int | None) -> dict[str, Any]:
    """Run Biogeme's side in ``python``; its JSON result (or ``{"error": ...}``)."""
    cmd = [python, PEER_SCRIPT, "--bench", "--n", str(n), "--alternatives", str(j),
           "--variables", str(p), "--seed", str(seed)]
    if nested:
        cmd.append("--nested")
    env = dict(os.environ)
    if threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {done.returncode}: {tail[0]}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def _peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (tracemalloc) during one call above the level at its start."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _limit_threads(threads: int | None) -> tuple[Any, str]:
    if threads is None:
        return None, "BLAS threads: library default"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, "BLAS threads: --choice-threads needs threadpoolctl; library default used"
    return threadpool_limits(limits=threads, user_api="blas"), f"BLAS threads: {threads}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument("--choice-n", type=int, default=None,
                        help=f"choice situations (default {FULL_N:,}; --quick {QUICK_N:,})")
    parser.add_argument("--choice-alternatives", type=int, default=ALTERNATIVES,
                        help=f"alternatives per situation (default {ALTERNATIVES})")
    parser.add_argument("--choice-vars", type=int, default=VARIABLES,
                        help=f"alternative attributes, generic coefficients (default {VARIABLES})")
    parser.add_argument("--choice-cases", type=h.csv_list, default=list(CASES),
                        help="which models: conditional,nested (default both)")
    parser.add_argument("--choice-repeats", type=int, default=None,
                        help="fits timed per implementation, best kept (default 3; 1 when a "
                        "fit takes over 20 s)")
    parser.add_argument("--choice-biogeme-python", default=None, metavar="PYTHON",
                        help="an interpreter with Biogeme installed, to time Biogeme (default: "
                        "Biogeme is not timed)")
    parser.add_argument("--choice-threads", type=int, default=None,
                        help="limit BLAS threads (needs threadpoolctl); default: as configured")
    parser.add_argument("--choice-seed", type=int, default=0, help="data seed (default 0)")


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    if args.choice_n is not None and args.choice_n < 10:
        return "--choice-n must be >= 10"
    if args.choice_alternatives < 4:
        return "--choice-alternatives must be >= 4 (two nests of two or more)"
    if args.choice_vars < 1:
        return "--choice-vars must be >= 1"
    unknown = set(args.choice_cases) - set(CASES)
    if unknown:
        return f"--choice-cases: unknown {sorted(unknown)}; choose from {list(CASES)}"
    if args.choice_repeats is not None and args.choice_repeats < 1:
        return "--choice-repeats must be >= 1"
    if args.choice_threads is not None and args.choice_threads < 1:
        return "--choice-threads must be >= 1"
    return None


def _compare(ours: tuple[float, dict[str, float], int],
             peer: tuple[float, dict[str, float], int]) -> tuple[float, float]:
    llf, params, _ = ours
    llf_p, params_p, _ = peer
    dllf = abs(llf - llf_p) / abs(llf_p) if np.isfinite(llf_p) else np.nan
    common = sorted(set(params) & set(params_p))
    dpar = max((abs(params[k] - params_p[k]) for k in common), default=np.nan)
    return dllf, dpar


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Time each case; print the table, the peak memory and the verdict; 1 if a fit of ours
    failed or a peer found a better optimum."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    n = args.choice_n or (QUICK_N if args.quick else FULL_N)
    j, p = args.choice_alternatives, args.choice_vars
    bullet = "- " if args.markdown else ""
    limiter, threads_note = _limit_threads(args.choice_threads)
    out("")
    out(("## " if args.markdown else "== ") + "choice models: softmaxkit ConditionalLogit vs "
        "xlogit (conditional) and Biogeme (nested)")
    out(f"{bullet}{n:,} choice situations x {j} alternatives x {p} variables (+ {j - 1} "
        f"constants); nests {nest_members(j)} with lambda {LAMBDAS}; times are the best of "
        f"the repeats, in seconds, estimates and standard errors; {threads_note}")
    table = h.Table(["model", "peer", "softmaxkit s", "peer s", "speed-up", "iters",
                     "|dllf|/|llf|", "max |dparam|", "peak MB ours/peer"],
                    right_align=frozenset(range(2, 9)))
    status = 0
    ratios: list[tuple[float, str]] = []
    notes: list[str] = []
    try:
        for case in args.choice_cases:
            nested = case == "nested"
            frame = make_data(n, j, p, nested=nested, seed=args.choice_seed)
            ours = _ours(p, nested, j)
            ours(make_data(500, j, p, nested=nested, seed=1))  # imports, first calls
            peers: dict[str, Callable[[], Any] | None] = {}
            xl = _xlogit(p) if not nested else None
            if xl is not None:
                xl(make_data(500, j, p, seed=1))
                peers["xlogit"] = lambda xl=xl, frame=frame: xl(frame)
            elif not nested:
                notes.append("xlogit is not installed: not timed")
            t_ours, res_ours = _timed(lambda ours=ours, frame=frame: ours(frame))
            timed = {name: _timed(fn) for name, fn in peers.items() if fn is not None}
            slow = max([t_ours, *(t for t, _ in timed.values())]) > 20
            repeats = args.choice_repeats or (1 if slow else 3)
            for _ in range(repeats - 1):  # interleaved: a slow phase hits both alike
                t_ours = min(t_ours, _timed(lambda ours=ours, frame=frame: ours(frame))[0])
                for name, fn in peers.items():
                    if fn is not None:
                        timed[name] = (min(timed[name][0], _timed(fn)[0]), timed[name][1])
            mem_ours = _peak_bytes(lambda ours=ours, frame=frame: ours(frame)) / 1e6
            if not np.isfinite(res_ours[0]):
                status = 1
            results = {name: (t, res, _peak_bytes(peers[name]) / 1e6)  # type: ignore[arg-type]
                       for name, (t, res) in timed.items()}
            if args.choice_biogeme_python:
                bio = _biogeme(args.choice_biogeme_python, n, j, p, nested, args.choice_seed,
                               args.choice_threads)
                if "error" in bio:
                    notes.append(f"Biogeme ({case}) failed: {bio['error']}")
                else:
                    results["Biogeme"] = (bio["seconds"], (bio["llf"], bio["params"],
                                                           bio["iterations"]),
                                          bio["peak_rss_mb"])
            elif nested or case == "conditional":
                notes.append(f"Biogeme ({case}) not timed: give --choice-biogeme-python")
            if not results:
                table.add([case, "-", f"{t_ours:.3f}", "-", "-", f"{res_ours[2]}/-", "-", "-",
                           f"{mem_ours:.0f}/-"])
            for name, (t_peer, res_peer, mem_peer) in results.items():
                dllf, dpar = _compare(res_ours, res_peer)
                equal = bool(np.isfinite(dllf) and dllf <= EQUAL_LLF)
                ratio = t_peer / t_ours
                table.add([case, name, f"{t_ours:.3f}", f"{t_peer:.3f}",
                           h.fmt_ratio(ratio) if equal else "n/a", f"{res_ours[2]}/{res_peer[2]}",
                           f"{dllf:.1e}", f"{dpar:.1e}", f"{mem_ours:.0f}/{mem_peer:.0f}"])
                if equal:
                    ratios.append((ratio, f"{case} vs {name}"))
                elif np.isfinite(res_peer[0]) and res_peer[0] > res_ours[0] + EQUAL_LLF * abs(
                        res_ours[0]):
                    status = 1  # the peer found a better optimum: ours is wrong
            del frame
            h.free_memory()
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    out(table.render(args.markdown))
    out(f"{bullet}peak MB: tracemalloc peak of one untimed fit in this process (softmaxkit, "
        "xlogit); Biogeme: peak resident set of its process minus its size before the fit")
    for note in notes:
        out(f"{bullet}{note}")
    if ratios:
        worst = min(ratios)
        verdict = "PASS" if worst[0] >= TARGET else "FAIL"
        out(f"{bullet}verdict: fit >= {TARGET:g}x faster than each peer at equal llf: {verdict} "
            f"(slowest speed-up {worst[0]:.2f}x, {worst[1]}; {len(ratios)} comparisons)")
    else:
        out(f"{bullet}verdict: n/a (no peer at equal llf)")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_choice.py``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return h.standalone_main(__doc__, add_arguments, check_args, run, argv,
                                 packages=("pandas", "scipy", "xlogit"))


if __name__ == "__main__":
    sys.exit(main())
