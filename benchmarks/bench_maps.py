"""Benchmark softmax, log_softmax and logsumexp against peers and the memory floor.

Run ``python benchmarks/bench_maps.py`` (or ``python benchmarks/run.py``, which runs every
benchmark suite) from the repository root; ``--help`` lists the flags. See ``benchmarks/README.md``
for how to read the table.

Every time is also given as a multiple of the *memory floor*: ``np.copyto(out, x)`` on the same
array, which reads n elements and writes n. A map that reads its whole input and writes a full-size
output cannot beat it, so "x floor" says how far an implementation is from the hardware's limit,
independently of how fast this particular machine is.

softmaxkit is measured twice in the same process: as installed (with the native kernel when it is
built, ``softmaxkit._base.native``) and on its NumPy path (``SOFTMAXKIT_NATIVE=0`` around each
call), so one run gives the before/after of the kernel. ``--repeat K`` runs the whole set K times
and keeps each case's best; the machine's load average is printed before and after every round,
because on a shared machine it moves every ratio.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

MAPS = ("softmax", "log_softmax", "logsumexp")
DTYPES = ("float64", "float32")
FULL_SHAPES: tuple[tuple[int, ...], ...] = ((4096, 4096), (2_000_000, 8), (64, 1_000_000))
# Small enough to finish in seconds; they mostly fit in cache, so "x floor" is only indicative.
QUICK_SHAPES: tuple[tuple[int, ...], ...] = ((256, 256), (50_000, 8), (8, 50_000))
# Rows at most this long count as "narrow": per-row overhead dominates, so the target is looser.
NARROW_MAX = 16
# Issue 17's targets as multiples of the floor: wide rows per (dtype, map), narrow rows any map.
FLOOR_LIMITS = {
    ("float32", "softmax"): 3.0,
    ("float32", "log_softmax"): 3.0,
    ("float32", "logsumexp"): 2.0,
    ("float64", "softmax"): 4.0,
    ("float64", "log_softmax"): 4.0,
    ("float64", "logsumexp"): 2.5,
}
NARROW_LIMIT = 5.0

FLOOR = "floor (np.copyto)"
OURS = "softmaxkit"
OURS_NUMPY = "softmaxkit NumPy path"
OURS_OUT = "softmaxkit(out=)"
INPLACE = "numpy in-place"
SCIPY = "scipy.special"
TORCH = "torch"
JAX = "jax.jit"
# Names accepted by --impls, in table order.
IMPL_NAMES = (OURS, OURS_NUMPY, INPLACE, SCIPY, TORCH, JAX)
IMPL_ALIASES = {
    "softmaxkit": OURS,
    "ours": OURS,
    "numpy-path": OURS_NUMPY,
    "softmaxkit-numpy": OURS_NUMPY,
    "numpy": INPLACE,
    "inplace": INPLACE,
    "numpy-inplace": INPLACE,
    "scipy": SCIPY,
    "scipy.special": SCIPY,
    "torch": TORCH,
    "jax": JAX,
    "jax.jit": JAX,
}

TORCH_THREADS = 2
# Failing cases named per verdict line; the table has the rest.
MAX_LISTED = 4


# --------------------------------------------------------------------------------------------
# Implementations
# --------------------------------------------------------------------------------------------


@dataclass
class Impl:
    """One implementation of the maps.

    Attributes
    ----------
    name : str
        Label in the table.
    fns : dict
        Map name -> callable taking the prepared state; a map missing here is not offered.
    prepare : callable
        ``prepare(x, out)`` -> state handed to ``fns``; runs once per shape and dtype, outside the
        timing (e.g. wrapping the NumPy array as a tensor without a copy).
    note : str
        Said once above the table (threads, precision settings, ...).
    """

    name: str
    fns: dict[str, Callable[[Any], Any]]
    prepare: Callable[[np.ndarray, np.ndarray], Any] = lambda x, out: x
    note: str = ""


def _inplace_softmax(state: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, buf = state
    m = np.max(x, axis=-1, keepdims=True)
    np.subtract(x, m, out=buf)
    np.exp(buf, out=buf)
    s = np.sum(buf, axis=-1, keepdims=True)
    np.divide(buf, s, out=buf)
    return buf


def _inplace_log_softmax(state: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, buf = state
    m = np.max(x, axis=-1, keepdims=True)
    np.subtract(x, m, out=buf)
    np.exp(buf, out=buf)
    s = np.sum(buf, axis=-1, keepdims=True)
    np.log(s, out=s)
    s += m
    # The exponentials are no longer needed, so the same buffer takes the result.
    np.subtract(x, s, out=buf)
    return buf


def _inplace_logsumexp(state: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, buf = state
    m = np.max(x, axis=-1, keepdims=True)
    np.subtract(x, m, out=buf)
    np.exp(buf, out=buf)
    s = np.sum(buf, axis=-1)
    np.log(s, out=s)
    s += m[..., 0]
    return s


def load_impls(wanted: Sequence[str]) -> tuple[list[Impl], list[str]]:
    """Import the implementations named in ``wanted``; skip, with a note, those missing.

    Parameters
    ----------
    wanted : sequence of str
        Canonical implementation names (see ``IMPL_NAMES``), in table order.

    Returns
    -------
    impls : list of Impl
        The importable ones.
    notes : list of str
        One line for each implementation skipped or configured specially.
    """
    impls: list[Impl] = []
    notes: list[str] = []
    for name in wanted:
        try:
            got = _LOADERS[name]()
        except Exception as exc:  # any import failure means "skip", never "crash"
            last = traceback.format_exception_only(exc)[-1].strip()
            notes.append(f"skipped {name}: not importable ({last})")
            continue
        for impl in got:
            impls.append(impl)
            if impl.note:
                notes.append(f"{impl.name}: {impl.note}")
    return impls, notes


def _load_ours() -> list[Impl]:
    h.use_working_tree()
    import softmaxkit as sk

    fns: dict[str, Callable[[Any], Any]] = {
        "softmax": lambda x: sk.softmax(x, axis=-1),
        "log_softmax": lambda x: sk.log_softmax(x, axis=-1),
        "logsumexp": lambda x: sk.logsumexp(x, axis=-1),
    }
    from softmaxkit._base import fast, native

    where = Path(sk.__file__).resolve().parent
    source = "the working tree" if where.is_relative_to(h.REPO_ROOT) else str(where)
    impls = [
        Impl(
            OURS,
            fns,
            note=f"version {getattr(sk, '__version__', '?')} from {source}; native kernel: "
            f"{native.reason()}; {fast.num_threads()} threads (SOFTMAXKIT_NUM_THREADS)",
        )
    ]
    # A preallocated-output variant is measured only where the public API offers one.
    with_out = {}
    for m in MAPS:
        fn = getattr(sk, m)
        if "out" in inspect.signature(fn).parameters:
            with_out[m] = fn
    if with_out:

        def prepare(x: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return x, out, np.empty(x.shape[:-1], dtype=x.dtype)

        fns_out: dict[str, Callable[[Any], Any]] = {}
        for m, fn in with_out.items():
            if m == "logsumexp":
                fns_out[m] = lambda s, fn=fn: fn(s[0], axis=-1, out=s[2])
            else:
                fns_out[m] = lambda s, fn=fn: fn(s[0], axis=-1, out=s[1])
        impls.append(Impl(OURS_OUT, fns_out, prepare=prepare))
    return impls


def _numpy_path(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` with the native kernel switched off for the duration of the call."""

    def call(x: Any) -> Any:
        old = os.environ.get("SOFTMAXKIT_NATIVE")
        os.environ["SOFTMAXKIT_NATIVE"] = "0"
        try:
            return fn(x)
        finally:
            if old is None:
                del os.environ["SOFTMAXKIT_NATIVE"]
            else:
                os.environ["SOFTMAXKIT_NATIVE"] = old

    return call


def _load_ours_numpy() -> list[Impl]:
    h.use_working_tree()
    import softmaxkit as sk

    fns = {m: _numpy_path(partial(getattr(sk, m), axis=-1)) for m in MAPS}
    return [Impl(OURS_NUMPY, fns, note="SOFTMAXKIT_NATIVE=0 around each call (the 'before')")]


def _load_inplace() -> list[Impl]:
    fns: dict[str, Callable[[Any], Any]] = {
        "softmax": _inplace_softmax,
        "log_softmax": _inplace_log_softmax,
        "logsumexp": _inplace_logsumexp,
    }
    return [
        Impl(
            INPLACE,
            fns,
            prepare=lambda x, out: (x, out),
            note="baseline: max, subtract, exp, sum, divide with out= into one preallocated "
            "buffer (naive max shift, no edge cases)",
        )
    ]


def _load_scipy() -> list[Impl]:
    import scipy
    from scipy import special

    fns: dict[str, Callable[[Any], Any]] = {
        "softmax": lambda x: special.softmax(x, axis=-1),
        "log_softmax": lambda x: special.log_softmax(x, axis=-1),
        "logsumexp": lambda x: special.logsumexp(x, axis=-1),
    }
    return [Impl(SCIPY, fns, note=f"scipy {scipy.__version__}, axis=-1")]


def _load_torch() -> list[Impl]:
    import torch

    torch.set_num_threads(TORCH_THREADS)
    fns: dict[str, Callable[[Any], Any]] = {
        "softmax": lambda t: torch.softmax(t, dim=-1),
        "log_softmax": lambda t: torch.log_softmax(t, dim=-1),
        "logsumexp": lambda t: torch.logsumexp(t, dim=-1),
    }
    return [
        Impl(
            TORCH,
            fns,
            prepare=lambda x, out: torch.from_numpy(x),
            note=f"torch {torch.__version__} on CPU, torch.set_num_threads({TORCH_THREADS}) "
            f"(get_num_threads()={torch.get_num_threads()}), input via torch.from_numpy (no copy)",
        )
    ]


def _load_jax() -> list[Impl]:
    # CPU only: a benchmark against NumPy on the host; also keeps JAX from probing accelerators.
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    # Without x64, JAX would silently compute the float64 cases in float32.
    jax.config.update("jax_enable_x64", True)
    jitted = {
        "softmax": jax.jit(lambda a: jax.nn.softmax(a, axis=-1)),
        "log_softmax": jax.jit(lambda a: jax.nn.log_softmax(a, axis=-1)),
        "logsumexp": jax.jit(lambda a: jax.nn.logsumexp(a, axis=-1)),
    }
    fns: dict[str, Callable[[Any], Any]] = {
        m: (lambda a, f=f: f(a).block_until_ready()) for m, f in jitted.items()
    }
    return [
        Impl(
            JAX,
            fns,
            prepare=lambda x, out: jax.device_put(jnp.asarray(x)).block_until_ready(),
            note=f"jax {jax.__version__} on {jax.default_backend()}, jit, x64 enabled, "
            "input copied to a device array once per shape (not timed), block_until_ready",
        )
    ]


_LOADERS: dict[str, Callable[[], list[Impl]]] = {
    OURS: _load_ours,
    OURS_NUMPY: _load_ours_numpy,
    INPLACE: _load_inplace,
    SCIPY: _load_scipy,
    TORCH: _load_torch,
    JAX: _load_jax,
}


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


def make_input(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Standard-normal logits scaled by 3: typical classifier / attention scores."""
    x = np.random.default_rng(seed).standard_normal(shape, dtype=np.dtype(dtype))
    x *= 3
    return x


def _reference(map_name: str, x: np.ndarray) -> np.ndarray:
    """The map in float64 on the rows of ``x`` (2-D), for the sanity check."""
    a = x.astype(np.float64)
    m = a.max(axis=-1, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(axis=-1, keepdims=True)
    if map_name == "softmax":
        return e / s
    if map_name == "log_softmax":
        return a - m - np.log(s)
    return (m + np.log(s))[:, 0]


def check_result(map_name: str, x: np.ndarray, result: Any) -> str | None:
    """Compare the first rows of ``result`` with a float64 reference; a message if they differ.

    A benchmark of a wrong answer is worthless, so every implementation's warm-up result is
    checked once. Only the first rows (about a million elements) are compared, to keep it cheap.
    """
    n = x.shape[-1]
    x2 = x.reshape(-1, n)
    rows = max(1, min(x2.shape[0], (1 << 20) // n))
    ref = _reference(map_name, x2[:rows])
    got = np.asarray(result)
    got = got.reshape(-1)[:rows] if map_name == "logsumexp" else got.reshape(-1, n)[:rows]
    if got.dtype != x.dtype:
        return f"returned {got.dtype} for {x.dtype} input"
    rtol = 1e-4 if x.dtype == np.float32 else 1e-10
    # log-probabilities and logsumexp are O(1) here, so an absolute tolerance of rtol is fair;
    # probabilities must match relatively, even the small ones.
    atol = 0.0 if map_name == "softmax" else rtol
    got64 = got.astype(np.float64)
    if not np.allclose(got64, ref, rtol=rtol, atol=atol):
        err = np.max(np.abs(got64 - ref) / (np.abs(ref) + atol + np.finfo(np.float64).tiny))
        return f"differs from the float64 reference (max rel err {err:.2g} > {rtol:g})"
    return None


def case_label(shape: tuple[int, ...], dtype: str) -> str:
    """``"4096x4096 f64"``."""
    return "x".join(str(d) for d in shape) + " " + dtype.replace("float", "f")


@dataclass
class Results:
    """Outcomes of one run, keyed by (shape, dtype, map, impl); the floor is impl ``FLOOR``."""

    times: dict[tuple[tuple[int, ...], str, str, str], h.Timing] = field(default_factory=dict)
    wrong: dict[tuple[tuple[int, ...], str, str, str], str] = field(default_factory=dict)
    failed: dict[tuple[tuple[int, ...], str, str, str], str] = field(default_factory=dict)


def run_cases(
    shapes: Sequence[tuple[int, ...]],
    dtypes: Sequence[str],
    maps: Sequence[str],
    impls: Sequence[Impl],
    budget: h.Budget,
    progress: Callable[[str], None],
) -> Results:
    """Time every (shape, dtype, map): the floor and each implementation, samples interleaved."""
    res = Results()
    for shape in shapes:
        for dtype in dtypes:
            label = case_label(shape, dtype)
            progress(f"{label}: allocating")
            # One input and one output buffer per shape and dtype, shared by all cases.
            x = make_input(shape, dtype)
            out = np.empty_like(x)
            states: dict[str, Any] = {}
            for impl in impls:
                try:
                    states[impl.name] = impl.prepare(x, out)
                except Exception as exc:
                    for map_name in maps:
                        res.failed[shape, dtype, map_name, impl.name] = _describe(exc)
            for map_name in maps:
                progress(f"{label}: {map_name}")
                calls: dict[str, Callable[[], Any]] = {FLOOR: partial(np.copyto, out, x)}
                for impl in impls:
                    fn = impl.fns.get(map_name)
                    if fn is not None and impl.name in states:
                        calls[impl.name] = partial(fn, states[impl.name])

                def check(
                    name: str,
                    result: Any,
                    case: tuple = (shape, dtype, map_name),
                    x: np.ndarray = x,
                ) -> None:
                    if name != FLOOR:
                        msg = check_result(case[2], x, result)
                        if msg:
                            res.wrong[(*case, name)] = msg

                for name, got in h.time_interleaved(calls, budget, on_warmup=check).items():
                    key = (shape, dtype, map_name, name)
                    if isinstance(got, Exception):
                        res.failed[key] = _describe(got)
                    else:
                        res.times[key] = got
                del calls
                h.free_memory()
            del x, out, states
            h.free_memory()
    return res


def _load() -> str:
    """The 1/5/15-minute load averages (``uptime``), or a note where the OS has none."""
    try:
        return "{:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover - not on Unix
        return "n/a"


def _merge(into: Results, got: Results, stat: str) -> None:
    """Keep each case's best timing over rounds; a wrong or failed result in any round stays."""
    for key, timing in got.times.items():
        old = into.times.get(key)
        if old is None or timing.stat(stat) < old.stat(stat):
            into.times[key] = timing
    into.wrong.update(got.wrong)
    into.failed.update(got.failed)


def _describe(exc: BaseException) -> str:
    return traceback.format_exception_only(exc)[-1].strip()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

HEADER = ("case", "impl", "median ms", "min ms", "x floor", "vs scipy", "vs torch")


def build_table(
    res: Results,
    shapes: Sequence[tuple[int, ...]],
    dtypes: Sequence[str],
    maps: Sequence[str],
    impl_names: Sequence[str],
    stat: str,
) -> h.Table:
    """One row per (case, implementation), plus the floor row heading each case.

    Ratios: "x floor" = t / t_floor; "vs scipy" = t_scipy / t and "vs torch" = t_torch / t,
    i.e. how many times faster than that peer (> 1 is faster).
    """
    table = h.Table(HEADER, right_align=frozenset(range(2, len(HEADER))))
    for shape in shapes:
        for dtype in dtypes:
            for map_name in maps:
                floor = res.times.get((shape, dtype, map_name, FLOOR))
                if floor is None:
                    continue
                t_floor = floor.stat(stat)
                case = f"{map_name} {case_label(shape, dtype)}"
                table.add(
                    [case, FLOOR, h.fmt_ms(floor.median), h.fmt_ms(floor.min), "1.00x", "-", "-"]
                )
                # A peer's wrong answer is no yardstick.
                peers = {
                    p: None
                    if (shape, dtype, map_name, p) in res.wrong
                    else res.times.get((shape, dtype, map_name, p))
                    for p in (SCIPY, TORCH)
                }
                for name in impl_names:
                    key = (shape, dtype, map_name, name)
                    if key in res.failed:
                        table.add([case, name, "failed", "", "", "", ""])
                        continue
                    timing = res.times.get(key)
                    if timing is None:
                        continue
                    t = timing.stat(stat)
                    ratios = [
                        h.fmt_ratio(peer.stat(stat) / t) if peer is not None else "-"
                        for peer in peers.values()
                    ]
                    label = name + (" (WRONG)" if key in res.wrong else "")
                    table.add(
                        [
                            case,
                            label,
                            h.fmt_ms(timing.median),
                            h.fmt_ms(timing.min),
                            h.fmt_ratio(t / t_floor),
                            *ratios,
                        ]
                    )
    return table


@dataclass
class Target:
    """A performance target on the softmaxkit rows, checked case by case."""

    title: str
    maps: tuple[str, ...]
    # (shape, dtype, map) -> (measured value, limit, passes)
    measure: Callable[[tuple[int, ...], str, str], tuple[float, float, bool] | None]
    unit: str
    peer: str | None = None


def verdicts(
    res: Results,
    shapes: Sequence[tuple[int, ...]],
    dtypes: Sequence[str],
    maps: Sequence[str],
    stat: str,
    ours_missing: str | None,
) -> list[str]:
    """One computed line per performance target: PASS, FAIL (with the failing cases) or n/a."""

    def t(shape: tuple[int, ...], dtype: str, map_name: str, impl: str) -> float | None:
        if (shape, dtype, map_name, impl) in res.wrong:
            return None
        timing = res.times.get((shape, dtype, map_name, impl))
        return None if timing is None else timing.stat(stat)

    def vs_floor(shape: tuple[int, ...], dtype: str, m: str) -> tuple[float, float, bool] | None:
        ours, floor = t(shape, dtype, m, OURS), t(shape, dtype, m, FLOOR)
        if ours is None or floor is None:
            return None
        limit = NARROW_LIMIT if shape[-1] <= NARROW_MAX else FLOOR_LIMITS[dtype, m]
        value = ours / floor
        return value, limit, value <= limit

    def speedup(peer: str, limit: float) -> Callable[..., tuple[float, float, bool] | None]:
        def measure(shape: tuple[int, ...], dtype: str, m: str) -> tuple[float, float, bool] | None:
            ours, other = t(shape, dtype, m, OURS), t(shape, dtype, m, peer)
            if ours is None or other is None:
                return None
            value = other / ours
            # "Faster" (limit 1) must be strictly faster; "2x faster" allows equality.
            return value, limit, value > limit if limit == 1.0 else value >= limit

        return measure

    targets = [
        Target(
            "x floor: wide rows f32 <= 3/3/2, f64 <= 4/4/2.5 (softmax/log_softmax/logsumexp), "
            f"rows of <= {NARROW_MAX} <= {NARROW_LIMIT:g}",
            MAPS,
            vs_floor,
            "x floor",
        ),
        Target(
            "faster than torch CPU everywhere", MAPS, speedup(TORCH, 1.0), "x torch speed", TORCH
        ),
        Target(
            ">= 2x faster than scipy.special everywhere",
            MAPS,
            speedup(SCIPY, 2.0),
            "x scipy speed",
            SCIPY,
        ),
    ]
    lines = []
    for target in targets:
        relevant = [m for m in target.maps if m in maps]
        if ours_missing:
            lines.append(f"n/a   {target.title}: {ours_missing}")
            continue
        if not relevant:
            lines.append(f"n/a   {target.title}: map not benchmarked in this run")
            continue
        checked: list[tuple[str, float, float, bool]] = []
        for shape in shapes:
            for dtype in dtypes:
                for m in relevant:
                    got = target.measure(shape, dtype, m)
                    if got is not None:
                        checked.append((f"{m} {case_label(shape, dtype)}", *got))
        if not checked:
            missing = target.peer or FLOOR
            lines.append(f"n/a   {target.title}: {missing} not measured (skipped or failed)")
            continue
        lower_is_better = target.measure is vs_floor
        # Worst first: the largest multiple of the floor, or the smallest speed-up.
        checked.sort(key=lambda c: -c[1] if lower_is_better else c[1])
        failing = [c for c in checked if not c[3]]
        if failing:
            shown = MAX_LISTED if len(failing) > MAX_LISTED + 1 else len(failing)
            detail = "; ".join(f"{c} {v:.2f}{target.unit}" for c, v, _, _ in failing[:shown])
            if len(failing) > shown:
                detail += f"; and {len(failing) - shown} more"
            lines.append(
                f"FAIL  {target.title}: {len(checked) - len(failing)}/{len(checked)} cases pass;"
                f" worst: {detail}"
            )
        else:
            # The tightest case shows the margin left.
            c, v, limit, _ = checked[0]
            lines.append(
                f"PASS  {target.title}: {len(checked)}/{len(checked)} cases; tightest: "
                f"{c} {v:.2f}{target.unit} (limit {limit:g})"
            )
    return lines


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (the shared ones come from ``_harness.add_common_arguments``)."""
    parser.add_argument(
        "--maps",
        type=h.csv_list,
        default=list(MAPS),
        help=f"comma-separated subset of {','.join(MAPS)} (default: all)",
    )
    parser.add_argument(
        "--dtypes",
        type=h.csv_list,
        default=list(DTYPES),
        help=f"comma-separated subset of {','.join(DTYPES)} (default: all)",
    )
    parser.add_argument(
        "--impls",
        type=h.csv_list,
        default=None,
        help="comma-separated implementations: softmaxkit, numpy, scipy, torch, jax "
        "(default: all installed; the floor is always measured)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the whole set this many times in this process and keep each case's best "
        "(default 1); the load average is printed around every round",
    )
    parser.add_argument(
        "--shapes",
        type=h.csv_list,
        default=None,
        help="comma-separated shapes like 4096x4096,2000000x8 (default: the standard set, or "
        "the quick set with --quick)",
    )


def _parse_shape(text: str) -> tuple[int, ...] | None:
    try:
        shape = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        return None
    return shape if shape and min(shape) >= 1 else None


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None; run before anything is printed."""
    bad_maps = [m for m in args.maps if m not in MAPS]
    if bad_maps:
        return f"--maps: unknown {bad_maps}; choose from {list(MAPS)}"
    bad_dtypes = [d for d in args.dtypes if d not in DTYPES]
    if bad_dtypes:
        return f"--dtypes: unknown {bad_dtypes}; choose from {list(DTYPES)}"
    bad_impls = [i for i in args.impls or () if i.lower() not in IMPL_ALIASES]
    if bad_impls:
        return f"--impls: unknown {bad_impls}; choose from {sorted(IMPL_ALIASES)}"
    bad_shapes = [s for s in args.shapes or () if _parse_shape(s) is None]
    if bad_shapes:
        return f"--shapes: {bad_shapes} are not shapes of positive sizes like 4096x4096"
    if getattr(args, "repeat", 1) < 1:
        return f"--repeat: must be at least 1, got {args.repeat}"
    return None


def _selection(
    args: argparse.Namespace,
) -> tuple[list[tuple[int, ...]], list[str], list[str], list[str]]:
    """Shapes, dtypes, maps and implementation names chosen by valid ``args``."""
    if args.shapes:
        shapes = [s for s in map(_parse_shape, args.shapes) if s is not None]
    else:
        shapes = list(QUICK_SHAPES if args.quick else FULL_SHAPES)
    if args.impls is None:
        impls = list(IMPL_NAMES)
    else:
        chosen = {IMPL_ALIASES[i.lower()] for i in args.impls}
        impls = [i for i in IMPL_NAMES if i in chosen]
    return shapes, list(args.dtypes), list(args.maps), impls


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the suite with parsed ``args`` and print the table and the verdicts."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    shapes, dtypes, maps, wanted = _selection(args)
    budget = h.QUICK_BUDGET if args.quick else h.FULL_BUDGET
    bullet = "- " if args.markdown else ""

    impls, notes = load_impls(wanted)
    ours_missing = None
    if OURS in wanted and not any(i.name == OURS for i in impls):
        ours_missing = "softmaxkit not importable"
    elif OURS not in wanted:
        ours_missing = "softmaxkit not selected (--impls)"

    out("")
    out(("## " if args.markdown else "== ") + "maps: softmax, log_softmax, logsumexp (last axis)")
    for note in [*notes, *h.threadpool_lines()]:
        out(bullet + note)
    out(
        bullet + f"timing: time.perf_counter, 1 warm-up then {budget.min_samples}-"
        f"{budget.max_samples} samples of ~{budget.seconds:g} s per row, taken in turn across "
        f"the rows of a case; x floor, ratios and verdicts use the {args.stat}; "
        "floor = np.copyto(out, x) of the same array"
    )
    if args.quick:
        out(bullet + "--quick: small shapes that fit in cache; x floor is indicative only")
    out("")

    def progress(msg: str) -> None:
        # A live status line on a terminal only; logs and pipes get just the report.
        if sys.stderr.isatty():
            print(f"\r\033[K  ... {msg}", end="", file=sys.stderr, flush=True)

    res = Results()
    for round_no in range(1, getattr(args, "repeat", 1) + 1):
        out(bullet + f"round {round_no}: load average before {_load()}")
        got = run_cases(shapes, dtypes, maps, impls, budget, progress)
        out(bullet + f"round {round_no}: load average after {_load()}")
        _merge(res, got, args.stat)
    out("")
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    impl_names = [i.name for i in impls]
    table = build_table(res, shapes, dtypes, maps, impl_names, args.stat)
    out(table.render(markdown=args.markdown))
    out("")
    for key, msg in {**res.wrong, **res.failed}.items():
        shape, dtype, m, name = key
        kind = "WRONG" if key in res.wrong else "FAILED"
        out(bullet + f"{kind}: {name} {m} {case_label(shape, dtype)}: {msg}")
    if res.wrong or res.failed:
        out("")
    out(("### " if args.markdown else "") + f"verdicts (softmaxkit, by {args.stat}):")
    for line in verdicts(res, shapes, dtypes, maps, args.stat, ours_missing):
        out(bullet + line)
    return 1 if res.wrong or res.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_maps.py``."""
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
