"""Benchmark the closed-form derivatives of softmax against torch.func on CPU.

Run ``python benchmarks/bench_derivatives.py`` (or ``python benchmarks/run.py``, which runs every
benchmark suite) from the repository root; ``--help`` lists the flags.

Three operations of softmax over the last axis, each timed as one call from the logits:

* ``jvp``: ``softmaxkit.softmax_jvp(x, v)`` against ``torch.func.jvp(softmax, (x,), (v,))``;
* ``vjp``: ``softmaxkit.softmax_vjp(x, u)`` against ``torch.func.vjp(softmax, x)`` followed by
  the pull-back of ``u`` (forward and backward, as the closed form also computes p);
* ``jacobian``: ``softmaxkit.softmax_jacobian(x)`` (batch × n × n) against
  ``torch.func.vmap(torch.func.jacrev(softmax))(x)``.

A third row, ``numpy textbook``, is the closed form written directly in NumPy with a naive
max-shifted softmax and no edge cases (``p * (v - sum(p * v))``): what the accuracy and edge-case
handling of the library cost on top of the bare formula.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

OPS = ("jvp", "vjp", "jacobian")
DTYPES = ("float64", "float32")
# (rows, n): long rows for the O(n) products, short ones for the O(n²) Jacobian
FULL_SHAPES = {"jvp": (4096, 1024), "vjp": (4096, 1024), "jacobian": (1024, 64)}
QUICK_SHAPES = {"jvp": (256, 256), "vjp": (256, 256), "jacobian": (128, 32)}

OURS = "softmaxkit"
TORCH = "torch.func"
TEXTBOOK = "numpy textbook"
IMPL_NAMES = (OURS, TORCH, TEXTBOOK)
IMPL_ALIASES = {
    "softmaxkit": OURS,
    "ours": OURS,
    "torch": TORCH,
    "torch.func": TORCH,
    "numpy": TEXTBOOK,
    "textbook": TEXTBOOK,
}
TORCH_THREADS = 2


@dataclass
class Impl:
    """One implementation: op name -> callable of (x, t) where t is the tangent/cotangent."""

    name: str
    fns: dict[str, Callable[[Any, Any], Any]]
    convert: Callable[[np.ndarray], Any] = lambda a: a
    note: str = ""


def _load_ours() -> Impl:
    h.use_working_tree()
    import softmaxkit as sk

    return Impl(
        OURS,
        {
            "jvp": lambda x, v: sk.softmax_jvp(x, v),
            "vjp": lambda x, u: sk.softmax_vjp(x, u),
            "jacobian": lambda x, _: sk.softmax_jacobian(x),
        },
        note=f"version {getattr(sk, '__version__', '?')}; NumPy float32 is computed in float64",
    )


def _load_torch() -> Impl:
    import torch
    from torch.func import jacrev, jvp, vjp, vmap

    torch.set_num_threads(TORCH_THREADS)

    def f(a: Any) -> Any:
        return torch.softmax(a, dim=-1)

    def pull(x: Any, u: Any) -> Any:
        _, back = vjp(f, x)
        return back(u)[0]

    batched_jacobian = vmap(jacrev(f))
    return Impl(
        TORCH,
        {
            "jvp": lambda x, v: jvp(f, (x,), (v,))[1],
            "vjp": pull,
            "jacobian": lambda x, _: batched_jacobian(x),
        },
        convert=torch.from_numpy,
        note=f"torch {torch.__version__} on CPU, torch.set_num_threads({TORCH_THREADS}), "
        "tensors via torch.from_numpy (no copy)",
    )


def _textbook_p(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _textbook_jvp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = _textbook_p(x)
    return p * (v - np.sum(p * v, axis=-1, keepdims=True))


def _textbook_jacobian(x: np.ndarray, _: Any) -> np.ndarray:
    p = _textbook_p(x)
    j = -p[..., :, None] * p[..., None, :]
    idx = np.arange(x.shape[-1])
    j[..., idx, idx] += p
    return j


def _load_textbook() -> Impl:
    return Impl(
        TEXTBOOK,
        {"jvp": _textbook_jvp, "vjp": _textbook_jvp, "jacobian": _textbook_jacobian},
        note="baseline: the closed form in plain NumPy on a naive softmax (no edge cases)",
    )


_LOADERS: dict[str, Callable[[], Impl]] = {
    OURS: _load_ours,
    TORCH: _load_torch,
    TEXTBOOK: _load_textbook,
}


def load_impls(wanted: Sequence[str]) -> tuple[list[Impl], list[str]]:
    """Import the wanted implementations; skip, with a note, those that do not import."""
    impls, notes = [], []
    for name in wanted:
        try:
            impl = _LOADERS[name]()
        except Exception as exc:  # any import failure means "skip", never "crash"
            last = traceback.format_exception_only(exc)[-1].strip()
            notes.append(f"skipped {name}: not importable ({last})")
            continue
        impls.append(impl)
        if impl.note:
            notes.append(f"{impl.name}: {impl.note}")
    return impls, notes


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


def make_inputs(shape: tuple[int, int], dtype: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Logits 3·N(0, 1) (as in bench_maps) and a standard-normal tangent."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.dtype(dtype))
    x *= 3
    return x, rng.standard_normal(shape, dtype=np.dtype(dtype))


def reference(op: str, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The derivative in float64 from the textbook formula, for the sanity check."""
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    if op == "jacobian":
        return _textbook_jacobian(x64, None)
    return _textbook_jvp(x64, t64)


def check_result(op: str, x: np.ndarray, t: np.ndarray, result: Any) -> str | None:
    """Compare a result with the float64 reference, normwise per row; a message if it differs."""
    got = np.asarray(result)
    if got.dtype != x.dtype:
        return f"returned {got.dtype} for {x.dtype} input"
    ref = reference(op, x, t)
    if got.shape != ref.shape:
        return f"returned shape {got.shape}, expected {ref.shape}"
    rtol = 1e-4 if x.dtype == np.float32 else 1e-10
    err = np.abs(got.astype(np.float64) - ref).reshape(x.shape[0], -1).max(axis=1)
    scale = np.abs(ref).reshape(x.shape[0], -1).max(axis=1)
    worst = float(np.max(err / np.maximum(scale, np.finfo(np.float64).tiny)))
    if not worst <= rtol:
        return f"differs from the float64 reference (max normwise rel err {worst:.2g} > {rtol:g})"
    return None


def case_label(op: str, shape: tuple[int, int], dtype: str) -> str:
    """``"jvp 4096x1024 f64"``."""
    return f"{op} {shape[0]}x{shape[1]} " + dtype.replace("float", "f")


@dataclass
class Results:
    """Outcomes keyed by (op, dtype, impl)."""

    times: dict[tuple[str, str, str], h.Timing] = field(default_factory=dict)
    wrong: dict[tuple[str, str, str], str] = field(default_factory=dict)
    failed: dict[tuple[str, str, str], str] = field(default_factory=dict)


def run_cases(
    shapes: dict[str, tuple[int, int]],
    dtypes: Sequence[str],
    ops: Sequence[str],
    impls: Sequence[Impl],
    budget: h.Budget,
) -> Results:
    """Time every (op, dtype) for every implementation, samples interleaved."""
    res = Results()
    for op in ops:
        for dtype in dtypes:
            x, t = make_inputs(shapes[op], dtype)
            calls: dict[str, Callable[[], Any]] = {}
            for impl in impls:
                try:
                    args = (impl.convert(x), impl.convert(t))
                except Exception as exc:
                    res.failed[op, dtype, impl.name] = _describe(exc)
                    continue
                calls[impl.name] = partial(impl.fns[op], *args)

            def check(
                name: str,
                result: Any,
                case: tuple[str, str] = (op, dtype),
                inputs: tuple[np.ndarray, np.ndarray] = (x, t),
            ) -> None:
                msg = check_result(case[0], *inputs, result)
                if msg:
                    res.wrong[(*case, name)] = msg

            for name, got in h.time_interleaved(calls, budget, on_warmup=check).items():
                if isinstance(got, Exception):
                    res.failed[op, dtype, name] = _describe(got)
                else:
                    res.times[op, dtype, name] = got
            del calls, x, t
            h.free_memory()
    return res


def _describe(exc: BaseException) -> str:
    return traceback.format_exception_only(exc)[-1].strip()


HEADER = ("case", "impl", "median ms", "min ms", "vs torch.func", "x textbook")


def build_table(
    res: Results,
    shapes: dict[str, tuple[int, int]],
    dtypes: Sequence[str],
    ops: Sequence[str],
    impl_names: Sequence[str],
    stat: str,
) -> h.Table:
    """One row per (case, implementation).

    "vs torch.func" = t_torch / t (how many times faster than torch.func; > 1 is faster);
    "x textbook" = t / t_textbook (the cost over the bare NumPy formula).
    """
    table = h.Table(HEADER, right_align=frozenset(range(2, len(HEADER))))
    for op in ops:
        for dtype in dtypes:
            case = case_label(op, shapes[op], dtype)

            def t_of(name: str, op: str = op, dtype: str = dtype) -> float | None:
                if (op, dtype, name) in res.wrong:
                    return None
                timing = res.times.get((op, dtype, name))
                return None if timing is None else timing.stat(stat)

            t_torch, t_book = t_of(TORCH), t_of(TEXTBOOK)
            for name in impl_names:
                key = (op, dtype, name)
                if key in res.failed:
                    table.add([case, name, "failed", "", "", ""])
                    continue
                timing = res.times.get(key)
                if timing is None:
                    continue
                t = timing.stat(stat)
                label = name + (" (WRONG)" if key in res.wrong else "")
                table.add(
                    [
                        case,
                        label,
                        h.fmt_ms(timing.median),
                        h.fmt_ms(timing.min),
                        h.fmt_ratio(t_torch / t) if t_torch is not None else "-",
                        h.fmt_ratio(t / t_book) if t_book is not None else "-",
                    ]
                )
    return table


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _parse_shape(text: str) -> tuple[int, int] | None:
    try:
        shape = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        return None
    if len(shape) != 2 or min(shape) < 1:
        return None
    return shape  # type: ignore[return-value]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument(
        "--derivative-ops",
        type=h.csv_list,
        default=list(OPS),
        help=f"comma-separated subset of {','.join(OPS)} (default: all)",
    )
    parser.add_argument(
        "--derivative-dtypes",
        type=h.csv_list,
        default=list(DTYPES),
        help=f"comma-separated subset of {','.join(DTYPES)} (default: all)",
    )
    parser.add_argument(
        "--derivative-impls",
        type=h.csv_list,
        default=None,
        help="comma-separated implementations: softmaxkit, torch.func, numpy (the textbook "
        "formula) (default: all installed)",
    )
    parser.add_argument(
        "--jvp-shape",
        default=None,
        help="ROWSxN for jvp and vjp (default 4096x1024; 256x256 with --quick)",
    )
    parser.add_argument(
        "--jacobian-shape",
        default=None,
        help="ROWSxN for the Jacobian (default 1024x64; 128x32 with --quick)",
    )


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    bad = [o for o in args.derivative_ops if o not in OPS]
    if bad:
        return f"--derivative-ops: unknown {bad}; choose from {list(OPS)}"
    bad = [d for d in args.derivative_dtypes if d not in DTYPES]
    if bad:
        return f"--derivative-dtypes: unknown {bad}; choose from {list(DTYPES)}"
    bad = [i for i in args.derivative_impls or () if i.lower() not in IMPL_ALIASES]
    if bad:
        return f"--derivative-impls: unknown {bad}; choose from {sorted(IMPL_ALIASES)}"
    for flag in ("jvp_shape", "jacobian_shape"):
        text = getattr(args, flag)
        if text is not None and _parse_shape(text) is None:
            return f"--{flag.replace('_', '-')}: {text!r} is not a shape like 4096x1024"
    return None


def _selection(args: argparse.Namespace) -> tuple[dict[str, tuple[int, int]], list[str]]:
    shapes = dict(QUICK_SHAPES if args.quick else FULL_SHAPES)
    if args.jvp_shape:
        shapes["jvp"] = shapes["vjp"] = _parse_shape(args.jvp_shape)  # type: ignore[assignment]
    if args.jacobian_shape:
        shapes["jacobian"] = _parse_shape(args.jacobian_shape)  # type: ignore[assignment]
    if args.derivative_impls is None:
        impls = list(IMPL_NAMES)
    else:
        chosen = {IMPL_ALIASES[i.lower()] for i in args.derivative_impls}
        impls = [i for i in IMPL_NAMES if i in chosen]
    return shapes, impls


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the suite with parsed ``args``; print the table; 1 if anything failed or was wrong."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    shapes, wanted = _selection(args)
    ops, dtypes = list(args.derivative_ops), list(args.derivative_dtypes)
    budget = h.QUICK_BUDGET if args.quick else h.FULL_BUDGET
    bullet = "- " if args.markdown else ""
    impls, notes = load_impls(wanted)

    out("")
    title = "derivatives of softmax (last axis): jvp, vjp, jacobian"
    out(("## " if args.markdown else "== ") + title)
    for note in [*notes, *h.threadpool_lines()]:
        out(bullet + note)
    out(
        bullet + f"timing: time.perf_counter, 1 warm-up then {budget.min_samples}-"
        f"{budget.max_samples} samples of ~{budget.seconds:g} s per row, taken in turn across the "
        f"rows of a case; ratios use the {args.stat}; every warm-up result is checked against a "
        "float64 reference"
    )
    out("")
    res = run_cases(shapes, dtypes, ops, impls, budget)
    table = build_table(res, shapes, dtypes, ops, [i.name for i in impls], args.stat)
    out(table.render(markdown=args.markdown))
    for key, msg in {**res.wrong, **res.failed}.items():
        op, dtype, name = key
        kind = "WRONG" if key in res.wrong else "FAILED"
        out(bullet + f"{kind}: {name} {case_label(op, shapes[op], dtype)}: {msg}")
    return 1 if res.wrong or res.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_derivatives.py``."""
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
