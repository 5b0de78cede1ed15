"""Benchmark sparsemax, 1.5-entmax and α-entmax against the ``entmax`` package on CPU.

Run ``python benchmarks/bench_sparse.py`` (or ``python benchmarks/run.py``, which runs every
benchmark suite) from the repository root; ``--help`` lists the flags.

Two tables:

1. **Times** for the shapes 100,000×100 and 1,000×10,000 in float64 and float32: the memory
   floor (``np.copyto``), ``softmaxkit`` (the public function, NumPy fast path),
   ``softmaxkit generic`` (the same call with the fast path switched off: the array-API
   solvers every other backend runs) and the ``entmax`` package on ``torch.from_numpy(x)``
   (``entmax.sparsemax``, ``entmax.entmax15``, ``entmax.entmax_bisect`` with its default 50
   halvings), CPU, two threads. "vs entmax" = entmax time / this row's time (> 1: faster).
2. **Growth with n** at a fixed number of elements (n = 10 ... 100,000): nanoseconds per
   element of the sort-based maps (ours on the candidates; the package sorts whole rows) and
   of the α-entmax threshold (our Newton iterations on the candidates; the package's and our
   generic bisection on whole rows), with the candidates per row and the Newton iterations
   our fast path used (mean / max over rows).
3. **Long rows, top-k and budget** (float32, 64×10⁶ and 1×10⁷; ``--quick``: 8×10⁵ and
   1×10⁶): ``sparsemax`` / ``entmax15`` with ``k=100`` against the package's ``k=100`` (and
   without k), on NumPy (the fast path, which needs no k: it sorts only the entries within
   T of the maximum) and on torch tensors (our generic path with ``torch.topk``); and
   ``budget_sparsemax(x, 10)`` against ``budget_bisect(x, budget=10)`` (its default 50
   halvings) on 64×10⁴ rows. "vs entmax k=100" = the package's time with k=100 / this row's.

Input: standard-normal scores × 3, as in ``bench_maps.py``; T = 1.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling module imports plainly.
import _harness as h  # isort: skip
import numpy as np

MAPS = ("sparsemax", "entmax15", "entmax")
DTYPES = ("float64", "float32")
FULL_SHAPES: tuple[tuple[int, int], ...] = ((100_000, 100), (1_000, 10_000))
QUICK_SHAPES: tuple[tuple[int, int], ...] = ((5_000, 100), (50, 10_000))
GROWTH_NS = (10, 100, 1_000, 10_000, 100_000)
LONG_SHAPES: tuple[tuple[int, int], ...] = ((64, 1_000_000), (1, 10_000_000))
QUICK_LONG_SHAPES: tuple[tuple[int, int], ...] = ((8, 100_000), (1, 1_000_000))
TOP_K = 100
BUDGET = 10.0
BUDGET_SHAPE = (64, 10_000)
GROWTH_TOTAL = 1_000_000
QUICK_GROWTH_TOTAL = 100_000
DEFAULT_ALPHA = 1.5  # the entmax package's default for entmax_bisect

FLOOR = "floor (np.copyto)"
OURS = "softmaxkit"
GENERIC = "softmaxkit generic"
PEER = "entmax"
IMPL_NAMES = (OURS, GENERIC, PEER)
IMPL_ALIASES = {"softmaxkit": OURS, "ours": OURS, "generic": GENERIC, "entmax": PEER}
TORCH_THREADS = 2


@dataclass
class Impl:
    """One implementation: map name -> callable of the prepared input."""

    name: str
    fns: dict[str, Callable[[Any], Any]]
    prepare: Callable[[np.ndarray], Any] = lambda x: x
    note: str = ""


def _load_ours(alpha: float, generic: bool) -> Impl:
    h.use_working_tree()
    from softmaxkit._base import sparse_fast as _sparse_fast
    from softmaxkit.sparse import entmax, entmax15, sparsemax

    fns: dict[str, Callable[[Any], Any]] = {
        "sparsemax": sparsemax,
        "entmax15": entmax15,
        "entmax": lambda x: entmax(x, alpha=alpha),
    }
    if not generic:
        return Impl(OURS, fns, note="NumPy fast path (softmaxkit._sparse_fast)")

    def off(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(x: Any) -> Any:
            real = _sparse_fast.solve
            _sparse_fast.solve = lambda *a, **k: None  # the generic solvers, as for torch/JAX
            try:
                return fn(x)
            finally:
                _sparse_fast.solve = real

        return call

    return Impl(GENERIC, {m: off(f) for m, f in fns.items()},
                note="fast path switched off: the array-API solvers (sort; 30-60 halvings)")


def _load_peer(alpha: float) -> Impl:
    import entmax as E
    import torch

    torch.set_num_threads(TORCH_THREADS)
    fns: dict[str, Callable[[Any], Any]] = {
        "sparsemax": lambda t: E.sparsemax(t, dim=-1),
        "entmax15": lambda t: E.entmax15(t, dim=-1),
        "entmax": lambda t: E.entmax_bisect(t, alpha=alpha, dim=-1),
    }
    return Impl(PEER, fns, prepare=torch.from_numpy,
                note=f"entmax {h._version('entmax')} on torch {torch.__version__} CPU, "
                f"set_num_threads({TORCH_THREADS}), entmax_bisect n_iter=50 (its default), "
                "input via torch.from_numpy (no copy)")


def load_impls(wanted: Sequence[str], alpha: float) -> tuple[list[Impl], list[str]]:
    """The importable implementations among ``wanted``, and notes on the rest."""
    loaders = {OURS: lambda: _load_ours(alpha, False), GENERIC: lambda: _load_ours(alpha, True),
               PEER: lambda: _load_peer(alpha)}
    impls, notes = [], []
    for name in wanted:
        try:
            impl = loaders[name]()
        except Exception as exc:  # a missing peer is skipped, not fatal
            notes.append(f"skipped {name}: {traceback.format_exception_only(exc)[-1].strip()}")
            continue
        impls.append(impl)
        if impl.note:
            notes.append(f"{impl.name}: {impl.note}")
    return impls, notes


def make_input(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Standard-normal scores × 3."""
    x = np.random.default_rng(seed).standard_normal(shape, dtype=np.dtype(dtype))
    x *= 3
    return x


_REF_ROWS = 2_000


def reference(map_name: str, x: np.ndarray, alpha: float) -> np.ndarray:
    """The map in float64 on the first rows, by the generic solver (tested against the
    ``entmax`` package to 1e-12)."""
    h.use_working_tree()
    from softmaxkit._base import sparse_fast as _sparse_fast
    from softmaxkit.sparse import entmax, entmax15, sparsemax

    rows = x[:_REF_ROWS].astype(np.float64)
    real = _sparse_fast.solve
    _sparse_fast.solve = lambda *a, **k: None
    try:
        if map_name == "sparsemax":
            return sparsemax(rows)
        if map_name == "entmax15":
            return entmax15(rows)
        return entmax(rows, alpha=alpha)
    finally:
        _sparse_fast.solve = real


def check_result(ref: np.ndarray, x: np.ndarray, result: Any) -> str | None:
    """A message if the first rows of ``result`` differ from ``ref``.

    Tolerances are loose enough for the package's float32 bisection (~1e-6): this is a sanity
    check of the benchmark, not the accuracy test (tests/test_sparse_fast.py is).
    """
    got = np.asarray(result)
    if got.dtype != x.dtype:
        return f"returned {got.dtype} for {x.dtype} input"
    got = got[: ref.shape[0]].astype(np.float64)
    tol = 1e-5 if x.dtype == np.float32 else 1e-10
    err = float(np.max(np.abs(got - ref)))
    return None if err <= tol else f"differs from the float64 reference by {err:.2g} > {tol:g}"


@dataclass
class Results:
    """Timings keyed by (shape, dtype, map, impl)."""

    times: dict[tuple, h.Timing] = field(default_factory=dict)
    wrong: dict[tuple, str] = field(default_factory=dict)
    failed: dict[tuple, str] = field(default_factory=dict)


def run_cases(shapes: Sequence[tuple[int, int]], dtypes: Sequence[str], maps: Sequence[str],
              impls: Sequence[Impl], alpha: float, budget: h.Budget) -> Results:
    """Time the floor and every implementation per (shape, dtype, map), samples interleaved."""
    res = Results()
    for shape in shapes:
        for dtype in dtypes:
            x = make_input(shape, dtype)
            out = np.empty_like(x)
            states = {i.name: i.prepare(x) for i in impls}
            for map_name in maps:
                ref = reference(map_name, x, alpha)
                calls: dict[str, Callable[[], Any]] = {FLOOR: partial(np.copyto, out, x)}
                for impl in impls:
                    calls[impl.name] = partial(impl.fns[map_name], states[impl.name])

                def check(name: str, result: Any, key: tuple = (shape, dtype, map_name),
                          ref: np.ndarray = ref, x: np.ndarray = x) -> None:
                    if name != FLOOR:
                        msg = check_result(ref, x, result)
                        if msg:
                            res.wrong[(*key, name)] = msg

                for name, got in h.time_interleaved(calls, budget, on_warmup=check).items():
                    key = (shape, dtype, map_name, name)
                    if isinstance(got, Exception):
                        res.failed[key] = traceback.format_exception_only(got)[-1].strip()
                    else:
                        res.times[key] = got
                h.free_memory()
            del x, out, states
            h.free_memory()
    return res


def _label(shape: tuple[int, ...], dtype: str) -> str:
    return "x".join(str(d) for d in shape) + " " + dtype.replace("float", "f")


def build_table(res: Results, shapes: Sequence[tuple[int, int]], dtypes: Sequence[str],
                maps: Sequence[str], names: Sequence[str], alpha: float, stat: str) -> h.Table:
    """One row per (case, implementation) under the floor row of the case."""
    header = ("case", "impl", "median ms", "min ms", "x floor", "vs entmax")
    table = h.Table(header, right_align=frozenset(range(2, len(header))))
    for shape in shapes:
        for dtype in dtypes:
            for m in maps:
                floor = res.times.get((shape, dtype, m, FLOOR))
                if floor is None:
                    continue
                case = f"{m if m != 'entmax' else f'entmax a={alpha:g}'} {_label(shape, dtype)}"
                table.add([case, FLOOR, h.fmt_ms(floor.median), h.fmt_ms(floor.min), "1.00x",
                           "-"])
                peer = None if (shape, dtype, m, PEER) in res.wrong else \
                    res.times.get((shape, dtype, m, PEER))
                for name in names:
                    key = (shape, dtype, m, name)
                    if key in res.failed:
                        table.add([case, name, "failed", "", "", ""])
                        continue
                    t = res.times.get(key)
                    if t is None:
                        continue
                    ratio = h.fmt_ratio(peer.stat(stat) / t.stat(stat)) if peer else "-"
                    label = name + (" (WRONG)" if key in res.wrong else "")
                    table.add([case, label, h.fmt_ms(t.median), h.fmt_ms(t.min),
                               h.fmt_ratio(t.stat(stat) / floor.stat(stat)), ratio])
    return table


def verdict(res: Results, shapes: Sequence[tuple[int, int]], dtypes: Sequence[str],
            maps: Sequence[str], stat: str) -> str:
    """The target: softmaxkit at least at par with the entmax package in every case."""
    checked = []
    for shape in shapes:
        for dtype in dtypes:
            for m in maps:
                ours = res.times.get((shape, dtype, m, OURS))
                peer = res.times.get((shape, dtype, m, PEER))
                if ours is None or peer is None or (shape, dtype, m, PEER) in res.wrong \
                        or (shape, dtype, m, OURS) in res.wrong:
                    continue
                checked.append((peer.stat(stat) / ours.stat(stat), f"{m} {_label(shape, dtype)}"))
    if not checked:
        return "n/a   at par with the entmax package: softmaxkit or entmax not measured"
    checked.sort()
    worst, case = checked[0]
    failing = [c for c in checked if c[0] < 1.0]
    if failing:
        cases = "; ".join(f"{c} {v:.2f}x" for v, c in failing)
        return (f"FAIL  at par with the entmax package: {len(checked) - len(failing)}/"
                f"{len(checked)} cases; slower in: {cases}")
    return (f"PASS  at par with the entmax package: {len(checked)}/{len(checked)} cases; "
            f"tightest: {case} {worst:.2f}x")


# --------------------------------------------------------------------------------------------
# Growth with n
# --------------------------------------------------------------------------------------------

GROWTH_COLUMNS = (
    ("sk sparsemax", OURS, "sparsemax"),
    ("pkg sparsemax", PEER, "sparsemax"),
    ("sk entmax15", OURS, "entmax15"),
    ("pkg entmax15", PEER, "entmax15"),
    ("sk entmax", OURS, "entmax"),
    ("pkg bisect", PEER, "entmax"),
    ("sk generic bisect", GENERIC, "entmax"),
)


def growth_table(impls: Sequence[Impl], alpha: float, total: int, dtype: str,
                 budget: h.Budget) -> h.Table:
    """ns per element at a fixed number of elements, for n = 10 ... 100,000."""
    h.use_working_tree()
    from softmaxkit._base import sparse_fast as _sparse_fast

    by_name = {i.name: i for i in impls}
    cols = [c for c in GROWTH_COLUMNS if c[1] in by_name]
    header = ("n", "rows", *(c[0] for c in cols), "candidates", "Newton iters")
    table = h.Table(header, right_align=frozenset(range(len(header))))
    for n in GROWTH_NS:
        rows = max(1, total // n)
        x = make_input((rows, n), dtype, seed=1)
        states = {i.name: i.prepare(x) for i in impls}
        calls = {label: partial(by_name[impl].fns[m], states[impl]) for label, impl, m in cols}
        got = h.time_interleaved(calls, budget)
        cells = []
        for label, _, _ in cols:
            t = got.get(label)
            cells.append("failed" if not isinstance(t, h.Timing) else
                         f"{t.min / x.size * 1e9:.1f}")
        stats = _sparse_fast.profile(x, alpha=alpha)
        cells.append(f"{stats['mean_candidates']:.1f}/{stats['max_candidates']}")
        cells.append(f"{stats['mean_iterations']:.1f}/{stats['max_iterations']}")
        table.add([str(n), str(rows), *cells])
        del x, states, calls
        h.free_memory()
    return table


# --------------------------------------------------------------------------------------------
# Long rows: top-k and budget
# --------------------------------------------------------------------------------------------


def long_rows_table(shapes: Sequence[tuple[int, int]], budget: h.Budget,
                    stat: str) -> tuple[h.Table, list[str]]:
    """Times of the top-k maps and of budget sparsemax on long float32 rows, with the
    largest difference of each result from the package's (a sanity check)."""
    h.use_working_tree()
    import entmax as E
    import torch

    from softmaxkit.sparse import budget_sparsemax, entmax15, sparsemax

    torch.set_num_threads(TORCH_THREADS)
    header = ("case", "impl", "median ms", "min ms", "vs entmax k=100", "max |diff|")
    table = h.Table(header, right_align=frozenset(range(2, len(header))))
    notes: list[str] = []
    ours = {"sparsemax": sparsemax, "entmax15": entmax15}
    pkg = {"sparsemax": E.sparsemax, "entmax15": E.entmax15}
    cases: list[tuple[str, tuple[int, int], dict[str, Callable[[], Any]]]] = []
    for shape in shapes:
        x = make_input(shape, "float32", seed=2)
        t = torch.from_numpy(x)
        for m in ("sparsemax", "entmax15"):
            calls = {
                f"entmax k={TOP_K}": partial(pkg[m], t, dim=-1, k=TOP_K),
                "entmax (full sort)": partial(pkg[m], t, dim=-1),
                "softmaxkit NumPy": partial(ours[m], x),
                f"softmaxkit torch k={TOP_K}": partial(ours[m], t, k=TOP_K),
            }
            cases.append((f"{m} {_label(shape, 'float32')}", shape, calls))
    xb = make_input(BUDGET_SHAPE, "float32", seed=3)
    tb = torch.from_numpy(xb)
    cases.append((f"budget={BUDGET:g} {_label(BUDGET_SHAPE, 'float32')}", BUDGET_SHAPE, {
        f"entmax k={TOP_K}": partial(E.budget_bisect, tb, budget=BUDGET, dim=-1),
        "softmaxkit NumPy": partial(budget_sparsemax, xb, BUDGET),
        "softmaxkit torch": partial(budget_sparsemax, tb, BUDGET),
    }))
    for case, _, calls in cases:
        results: dict[str, Any] = {}

        def keep(name: str, result: Any, results: dict[str, Any] = results) -> None:
            results[name] = np.asarray(result)

        got = h.time_interleaved(calls, budget, on_warmup=keep)
        peer_name = f"entmax k={TOP_K}"
        peer = got.get(peer_name)
        ref = results.get(peer_name)
        for name in calls:
            timing = got.get(name)
            label = "entmax budget_bisect" if case.startswith("budget") and name == peer_name \
                else name
            if not isinstance(timing, h.Timing):
                table.add([case, label, "failed", "", "", ""])
                notes.append(f"FAILED: {label} {case}: {timing}")
                continue
            ratio = h.fmt_ratio(peer.stat(stat) / timing.stat(stat)) \
                if isinstance(peer, h.Timing) else "-"
            diff = "-" if ref is None or name not in results else \
                f"{float(np.max(np.abs(results[name].astype(np.float64) - ref))):.1e}"
            table.add([case, label, h.fmt_ms(timing.median), h.fmt_ms(timing.min), ratio,
                       diff])
        del results
        h.free_memory()
    return table, notes


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument("--sparse-maps", type=h.csv_list, default=list(MAPS),
                        help=f"comma-separated subset of {','.join(MAPS)} (default: all)")
    parser.add_argument("--sparse-dtypes", type=h.csv_list, default=list(DTYPES),
                        help=f"comma-separated subset of {','.join(DTYPES)} (default: all)")
    parser.add_argument("--sparse-impls", type=h.csv_list, default=None,
                        help="comma-separated subset of softmaxkit, generic, entmax "
                        "(default: all installed; the floor is always measured)")
    parser.add_argument("--sparse-alpha", type=float, default=DEFAULT_ALPHA,
                        help=f"α of entmax / entmax_bisect (default {DEFAULT_ALPHA})")
    parser.add_argument("--sparse-long-rows", action=argparse.BooleanOptionalAction,
                        default=True, help="run the long-row table (top-k, budget; default on)")
    parser.add_argument("--sparse-growth-total", type=int, default=None,
                        help=f"elements per case of the growth table (default {GROWTH_TOTAL:,}; "
                        f"{QUICK_GROWTH_TOTAL:,} with --quick; 0 skips the table)")


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    bad = [m for m in args.sparse_maps if m not in MAPS]
    if bad:
        return f"--sparse-maps: unknown {bad}; choose from {list(MAPS)}"
    bad = [d for d in args.sparse_dtypes if d not in DTYPES]
    if bad:
        return f"--sparse-dtypes: unknown {bad}; choose from {list(DTYPES)}"
    bad = [i for i in args.sparse_impls or () if i.lower() not in IMPL_ALIASES]
    if bad:
        return f"--sparse-impls: unknown {bad}; choose from {sorted(IMPL_ALIASES)}"
    if not (args.sparse_alpha > 1.0 and np.isfinite(args.sparse_alpha)):
        return f"--sparse-alpha: {args.sparse_alpha} is not a finite number > 1"
    if args.sparse_growth_total is not None and args.sparse_growth_total < 0:
        return f"--sparse-growth-total: {args.sparse_growth_total} is negative"
    return None


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the suite with parsed ``args``; print both tables; 1 if anything failed or was
    wrong."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    wanted = list(IMPL_NAMES) if args.sparse_impls is None else [
        i for i in IMPL_NAMES if i in {IMPL_ALIASES[j.lower()] for j in args.sparse_impls}]
    alpha = args.sparse_alpha
    budget = h.QUICK_BUDGET if args.quick else h.Budget(seconds=1.0, min_samples=3,
                                                        max_samples=5)
    bullet = "- " if args.markdown else ""
    impls, notes = load_impls(wanted, alpha)
    maps, dtypes = list(args.sparse_maps), list(args.sparse_dtypes)

    out("")
    out(("## " if args.markdown else "== ") + f"sparse maps: sparsemax, entmax15, entmax "
        f"(alpha={alpha:g}), last axis")
    for note in [*notes, *h.threadpool_lines()]:
        out(bullet + note)
    out(bullet + f"timing: time.perf_counter, 1 warm-up then {budget.min_samples}-"
        f"{budget.max_samples} samples per row, taken in turn across the rows of a case; "
        f"x floor and vs entmax use the {args.stat}; floor = np.copyto(out, x)")
    out("")
    res = run_cases(shapes, dtypes, maps, impls, alpha, budget)
    names = [i.name for i in impls]
    out(build_table(res, shapes, dtypes, maps, names, alpha, args.stat).render(args.markdown))
    out("")
    for key, msg in {**res.wrong, **res.failed}.items():
        kind = "WRONG" if key in res.wrong else "FAILED"
        out(bullet + f"{kind}: {key[3]} {key[2]} {_label(key[0], key[1])}: {msg}")
    if OURS in names:
        out(bullet + verdict(res, shapes, dtypes, maps, args.stat))

    total = args.sparse_growth_total
    total = (QUICK_GROWTH_TOTAL if args.quick else GROWTH_TOTAL) if total is None else total
    if total and OURS in names:
        out("")
        out(("### " if args.markdown else "") + f"growth with n: ns per element (min), "
            f"{total:,} float64 elements per case, alpha={alpha:g}")
        out(bullet + "sk = softmaxkit fast path (threshold on the candidates y > -1); pkg = "
            "entmax package (whole-row sort; bisection: 50 halvings over whole rows); sk "
            "generic bisect = the array-API solver; candidates and Newton iterations of sk "
            "entmax as mean/max per row")
        out("")
        out(growth_table(impls, alpha, total, "float64", budget).render(args.markdown))
    long_failed = False
    if args.sparse_long_rows and PEER in names:
        shapes_long = QUICK_LONG_SHAPES if args.quick else LONG_SHAPES
        out("")
        out(("### " if args.markdown else "") + f"long rows: top-k (k={TOP_K}) and budget "
            f"sparsemax (budget={BUDGET:g}), float32")
        out(bullet + "softmaxkit NumPy = the fast path (needs no k); softmaxkit torch = the "
            "generic path on torch tensors (torch.topk, k doubled while a support fills it); "
            "max |diff| = largest difference from the package's k=100 result "
            "(budget: from budget_bisect, 50 halvings)")
        out("")
        table, long_notes = long_rows_table(shapes_long, budget, args.stat)
        out(table.render(args.markdown))
        for note in long_notes:
            out(bullet + note)
        long_failed = bool(long_notes)
    return 1 if res.wrong or res.failed or long_failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_sparse.py``."""
    packages = (*h.PEER_PACKAGES, "entmax")
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv, packages=packages)


if __name__ == "__main__":
    sys.exit(main())
