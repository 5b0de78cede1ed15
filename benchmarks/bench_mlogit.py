"""Benchmark MultinomialLogit.fit against statsmodels MNLogit on the same data.

Run ``python benchmarks/bench_mlogit.py`` (or ``python benchmarks/run.py``, which runs every
suite) from the repository root; ``--help`` lists the flags.

The first case (not with ``--quick``) is the shipped anes96 data: 944 rows, party
identification (K = 7) on five features, as in statsmodels' MNLogit example. Each other case
draws ``n`` rows of ``--mlogit-features`` standard-normal features and a category
out of ``K`` from a multinomial logit with coefficients N(0, 0.5²) (seeded), then times, in
turn, ``MultinomialLogit().fit(X, y)`` and ``statsmodels MNLogit(y, add_constant(X))
.fit(method="newton")`` followed by ``.bse`` (statsmodels computes its covariance on first
access; ours is part of ``fit``), so both rows produce the estimates and their standard
errors. The table gives the best of ``--mlogit-repeats`` runs of each, the speed-up
(statsmodels time / ours), the Newton iterations of each, and how far apart the two fits are:
``|Δllf|/|llf|`` and the largest relative difference of the parameters. A speed-up only counts
at equal log-likelihood; a fit that failed (statsmodels overflows to NaN on some data) is shown
as such.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

FULL_N = (1_000, 10_000, 100_000, 1_000_000)
FULL_K = (3, 5, 10, 20)
QUICK_N = (10_000,)
QUICK_K = (3, 5)
FEATURES = 5
# statsmodels' Hessian costs (K−1)² weighted n×p products per iteration: above this n(K−1)²
# a single statsmodels fit takes minutes, so only ours is timed (say --mlogit-sm-limit 0 to
# time everything).
SM_LIMIT = 1e8
TARGET = 2.0
EQUAL_LLF = 1e-8


def make_data(n: int, k: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features and categories drawn from a multinomial logit (base 0), seeded."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    coef = rng.normal(scale=0.5, size=(p + 1, k - 1))
    eta = np.column_stack([np.ones(n), x]) @ coef
    eta = np.column_stack([np.zeros(n), eta])
    prob = np.exp(eta - eta.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    u = rng.random(n)
    y = np.minimum((np.cumsum(prob, axis=1) < u[:, None]).sum(axis=1), k - 1)
    return x, y


ANES96_FEATURES = ("logpopul", "selfLR", "age", "educ", "income")


def anes96() -> tuple[np.ndarray, np.ndarray]:
    """The headline case: the shipped anes96 data (944 rows), party identification (K = 7) on
    five features, as in statsmodels' MNLogit example."""
    h.use_working_tree()
    from softmaxkit.io import example_path

    path = example_path("anes96.csv")
    names = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(len(names) - 1))
    cols = [names.index(c) for c in ANES96_FEATURES]
    return table[:, cols], table[:, names.index("PID")].astype(int)


def _ours() -> Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray, int]]:
    h.use_working_tree()
    from softmaxkit.mlogit import MultinomialLogit

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, int]:
        m = MultinomialLogit().fit(x, y)
        return m.llf_, np.asarray(m.params_), m.n_iter_

    return fit


def _statsmodels() -> Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray, int]] | None:
    try:
        import statsmodels.api as sm
    except ImportError:
        return None

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = sm.MNLogit(y, sm.add_constant(x)).fit(disp=0, method="newton", maxiter=100)
            r.bse  # noqa: B018 - the covariance is computed on first access
        return float(r.llf), np.asarray(r.params), int(r.mle_retvals["iterations"])

    return fit


def _limit_threads(threads: int | None) -> tuple[Any, str]:
    if threads is None:
        return None, "BLAS threads: library default"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, "BLAS threads: --mlogit-threads needs threadpoolctl; library default used"
    return threadpool_limits(limits=threads, user_api="blas"), f"BLAS threads: {threads}"


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument("--mlogit-n", type=h.csv_list, default=None,
                        help="rows, comma separated (default 1000,10000,100000,1000000; "
                        "--quick 10000)")
    parser.add_argument("--mlogit-k", type=h.csv_list, default=None,
                        help="categories, comma separated (default 3,5,10,20; --quick 3,5)")
    parser.add_argument("--mlogit-features", type=int, default=FEATURES,
                        help=f"features besides the intercept (default {FEATURES})")
    parser.add_argument("--mlogit-repeats", type=int, default=None,
                        help="fits timed per implementation, best kept (default 3; 1 when a "
                        "fit takes over 5 s)")
    parser.add_argument("--mlogit-sm-limit", type=float, default=SM_LIMIT,
                        help="skip statsmodels when n(K-1)^2 exceeds this (default 1e8; 0 = "
                        "never skip)")
    parser.add_argument("--mlogit-threads", type=int, default=None,
                        help="limit BLAS threads for both (needs threadpoolctl); default: as "
                        "configured")


def _ints(values: Sequence[str] | None, flag: str) -> str | None:
    for v in values or ():
        try:
            if int(float(v)) < 1:
                return f"{flag}: values must be >= 1, got {v!r}"
        except ValueError:
            return f"{flag}: not a number: {v!r}"
    return None


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    problem = _ints(args.mlogit_n, "--mlogit-n") or _ints(args.mlogit_k, "--mlogit-k")
    if problem:
        return problem
    if any(int(float(k)) < 2 for k in args.mlogit_k or ()):
        return "--mlogit-k: a multinomial logit needs K >= 2"
    if args.mlogit_features < 1:
        return "--mlogit-features must be >= 1"
    if args.mlogit_repeats is not None and args.mlogit_repeats < 1:
        return "--mlogit-repeats must be >= 1"
    return None


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Time every (n, K) case; print the table and the verdict; 1 if a fit of ours failed or
    disagreed with statsmodels."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    ns = [int(float(v)) for v in (args.mlogit_n or (QUICK_N if args.quick else FULL_N))]
    ks = [int(float(v)) for v in (args.mlogit_k or (QUICK_K if args.quick else FULL_K))]
    p = args.mlogit_features
    bullet = "- " if args.markdown else ""
    ours = _ours()
    peer = _statsmodels()
    limiter, threads_note = _limit_threads(args.mlogit_threads)
    out("")
    out(("## " if args.markdown else "== ") + "multinomial logit fit: softmaxkit vs statsmodels "
        "MNLogit (Newton)")
    out(f"{bullet}{p} features + intercept; times are the best of the repeats, in seconds; "
        f"{threads_note}")
    if peer is None:
        out(f"{bullet}statsmodels is not installed: only softmaxkit is timed")
    # One-off costs (imports, first BLAS calls) out of the way.
    wx, wy = make_data(2000, 3, p)
    ours(wx, wy)
    if peer is not None:
        peer(wx, wy)
    table = h.Table(["n", "K", "params", "softmaxkit s", "statsmodels s", "speed-up",
                     "iters", "|dllf|/|llf|", "max param rel diff"],
                    right_align=frozenset(range(9)))
    status = 0
    ratios: list[tuple[float, str]] = []
    skipped: list[str] = []
    cases: list[tuple[str, int, Any]] = [("anes96", 7, anes96)] if not args.quick else []
    cases += [(f"{n:,}", k, lambda n=n, k=k: make_data(n, k, p)) for n in ns for k in ks]
    try:
        for label, k, data in cases:
            x, y = data()
            n = x.shape[0]
            run_peer = peer is not None and (args.mlogit_sm_limit <= 0 or
                                             n * (k - 1) ** 2 <= args.mlogit_sm_limit)
            t_ours, res_ours = _time(lambda x=x, y=y: ours(x, y))
            t_peer, res_peer = (_time(lambda x=x, y=y: peer(x, y)) if run_peer
                                else (None, None))
            # Small fits vary most on a busy machine: more repeats where they are cheap.
            slowest = max(t_ours, t_peer or 0)
            repeats = args.mlogit_repeats or (1 if slowest > 5 else 9 if slowest < 0.1 else 3)
            for _ in range(repeats - 1):
                t_ours = min(t_ours, _time(lambda x=x, y=y: ours(x, y))[0])
                if run_peer:
                    t_peer = min(t_peer, _time(lambda x=x, y=y: peer(x, y))[0])
            llf, params, it = res_ours
            if not np.isfinite(llf):
                status = 1
            cells = [label, str(k), str((x.shape[1] + 1) * (k - 1)), f"{t_ours:.4f}"]
            if res_peer is None:
                cells += ["skipped", "-", f"{it}/-", "-", "-"]
                skipped.append(f"n={label} K={k}")
            else:
                llf_p, params_p, it_p = res_peer
                dllf = abs(llf - llf_p) / abs(llf_p) if np.isfinite(llf_p) else np.nan
                with np.errstate(invalid="ignore", divide="ignore"):
                    dpar = float(np.max(np.abs(params - params_p) / np.abs(params_p)))
                equal = np.isfinite(dllf) and dllf <= EQUAL_LLF
                ratio = t_peer / t_ours
                cells += [f"{t_peer:.4f}", h.fmt_ratio(ratio) if equal else "n/a",
                          f"{it}/{it_p}",
                          f"{dllf:.1e}" if np.isfinite(dllf) else "statsmodels NaN",
                          f"{dpar:.1e}" if np.isfinite(dpar) else "-"]
                if equal:
                    ratios.append((ratio, f"n={label} K={k}"))
                elif np.isfinite(llf_p) and llf_p > llf + EQUAL_LLF * abs(llf):
                    status = 1  # statsmodels found a better optimum: ours is wrong
            table.add(cells)
            h.free_memory()
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    out(table.render(args.markdown))
    if skipped:
        out(f"{bullet}statsmodels skipped (n(K-1)^2 > {args.mlogit_sm_limit:g}): "
            + ", ".join(skipped))
    if ratios:
        worst = min(ratios)
        verdict = "PASS" if worst[0] >= TARGET else "FAIL"
        out(f"{bullet}verdict: fit >= {TARGET:g}x faster than statsmodels at equal llf: "
            f"{verdict} (slowest speed-up {worst[0]:.2f}x at {worst[1]}; "
            f"{len(ratios)} cases compared)")
    else:
        out(f"{bullet}verdict: n/a (no case with statsmodels at equal llf)")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_mlogit.py``."""
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
