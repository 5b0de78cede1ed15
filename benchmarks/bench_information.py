"""Benchmark entropy, KL divergence and cross-entropy against their peers.

Run ``python benchmarks/bench_information.py`` from the repository root (``--quick`` for a
smoke test, ``--help`` for the flags). Per shape (rows × classes, float64 logits):

* **entropy**: ``softmaxkit.entropy(x)`` against ``scipy.stats.entropy(scipy.special.softmax(x))``
  and ``torch.distributions.Categorical(logits=x).entropy()`` (CPU);
* **kl**: ``softmaxkit.kl_divergence(a, b)`` against ``scipy.stats.entropy(p, q)`` on the
  softmaxes and ``torch.distributions.kl_divergence`` of two Categoricals;
* **cross_entropy**: ``softmaxkit.cross_entropy(x, y, label_smoothing=0.1)`` against
  ``torch.nn.functional.cross_entropy`` on class indices (NumPy input for softmaxkit, a
  tensor for torch).

The peers' times include forming the probabilities from the logits (the work the caller
needs). Samples are interleaved (``_harness.time_interleaved``); the table shows the best
(``--stat min``) or median time per call and the ratio to softmaxkit (> 1: the peer is slower).
softmaxkit's accuracy work (the exact log-ratio of the KL divergence, terms that are all ≥ 0)
is part of its time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

FULL_SHAPES = ((10_000, 10), (1_000, 1_000), (100, 32_000))
QUICK_SHAPES = ((200, 10), (20, 300))
CASES = ("entropy", "kl", "cross_entropy")


def _calls(case: str, a: np.ndarray, b: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], Any]]:
    import softmaxkit as sk

    calls: dict[str, Callable[[], Any]] = {}
    if case == "entropy":
        calls["softmaxkit"] = lambda: sk.entropy(a)
    elif case == "kl":
        calls["softmaxkit"] = lambda: sk.kl_divergence(a, b)
    else:
        calls["softmaxkit"] = lambda: sk.cross_entropy(a, y, label_smoothing=0.1)
    try:
        from scipy.special import softmax as sp_softmax
        from scipy.stats import entropy as sp_entropy

        if case == "entropy":
            calls["scipy"] = lambda: sp_entropy(sp_softmax(a, axis=-1), axis=-1)
        elif case == "kl":
            calls["scipy"] = lambda: sp_entropy(sp_softmax(a, axis=-1), sp_softmax(b, axis=-1),
                                                axis=-1)
    except ImportError:
        pass
    try:
        import torch

        ta, tb, ty = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(y)
        dist = torch.distributions
        if case == "entropy":
            calls["torch"] = lambda: dist.Categorical(logits=ta).entropy()
        elif case == "kl":
            calls["torch"] = lambda: dist.kl_divergence(dist.Categorical(logits=ta),
                                                        dist.Categorical(logits=tb))
        else:
            calls["torch"] = lambda: torch.nn.functional.cross_entropy(ta, ty,
                                                                       label_smoothing=0.1)
    except ImportError:
        pass
    return calls


def accuracy(out: Callable[[str], None] = print) -> None:
    """Print the largest error against the mpmath oracle (``tests/oracle.py``, 50 digits) of
    entropy, KL and JS on row families, in ulps; near KL = 0 the relative error, beside the
    peers'."""
    import mpmath

    sys.path.insert(0, str(h.REPO_ROOT / "tests"))
    import test_information as ti  # the references of the test suite

    import softmaxkit as sk

    table = h.Table(["function", "rows", "dtype", "max error"], right_align=frozenset({3}))
    rng = np.random.default_rng(0)
    for kind in ti.KINDS:
        for dt in (np.float64, np.float32):
            a = ti.make_rows(kind, rng, 100).astype(dt)
            b = (a + rng.standard_normal(a.shape)).astype(dt)
            for name, got, exact in (
                ("entropy", sk.entropy(a), ti.ref_entropy(a)),
                ("kl_divergence", sk.kl_divergence(a, b), ti.ref_kl(a, b)),
                ("js_divergence", sk.js_divergence(a, b), ti.ref_js(a, b)),
            ):
                err = ti.oracle.ulp_error(got, exact, dt).max()
                table.add([name, kind, np.dtype(dt).name, f"{err:.2f} ulp"])
    try:
        import torch
        from scipy.special import rel_entr
        from scipy.special import softmax as sp_softmax
    except ImportError:  # pragma: no cover - the peers are test extras
        torch = None
    for scale in (1e-3, 1e-6, 1e-9):
        a = rng.standard_normal((100, 9))
        b = a + scale * rng.standard_normal(a.shape)
        exact = ti.ref_kl(a, b)

        def rel(got: Any, exact: Any = exact) -> str:
            errs = [float(abs(mpmath.mpf(float(g)) - e) / e) for g, e in zip(got, exact,
                                                                                strict=True)]
            return f"{max(errs):.1e} rel, {int(np.sum(np.asarray(got) < 0))} negative"

        table.add(["kl_divergence", f"b = a + {scale:g}·N(0,1)", "float64",
                   rel(sk.kl_divergence(a, b))])
        if torch is not None:
            tk = torch.distributions.kl_divergence(
                torch.distributions.Categorical(logits=torch.tensor(a)),
                torch.distributions.Categorical(logits=torch.tensor(b))).numpy()
            table.add(["  torch.distributions", "", "float64", rel(tk)])
            sc = rel_entr(sp_softmax(a, -1), sp_softmax(b, -1)).sum(-1)
            table.add(["  scipy rel_entr", "", "float64", rel(sc)])
    out("== information: accuracy against mpmath (100 rows x 9 per family)")
    out(table.render())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument("--info-cases", type=h.csv_list, default=list(CASES),
                        help=f"comma-separated subset of {','.join(CASES)} (default: all)")
    parser.add_argument("--info-accuracy", action="store_true",
                        help="print the accuracy table against mpmath instead of timing")


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    bad = [c for c in args.info_cases if c not in CASES]
    if bad:
        return f"--info-cases: unknown {bad}; choose from {list(CASES)}"
    return None


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the suite with parsed ``args`` and print its table."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    h.use_working_tree()
    if getattr(args, "info_accuracy", False):
        accuracy(out)
        return 0
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    budget = h.QUICK_BUDGET if args.quick else h.FULL_BUDGET
    table = h.Table(["case", "shape", "impl", "ms (min)", "ms (median)", "vs softmaxkit"],
                    right_align=frozenset({3, 4, 5}))
    rng = np.random.default_rng(0)
    failed = 0
    for shape in shapes:
        a = 3 * rng.standard_normal(shape)
        b = a + rng.standard_normal(shape)
        y = rng.integers(0, shape[1], shape[0])
        for case in args.info_cases:
            times = h.time_interleaved(_calls(case, a, b, y), budget)
            ours = times["softmaxkit"]
            for impl, t in times.items():
                if isinstance(t, BaseException):
                    table.add([case, f"{shape[0]}x{shape[1]}", impl, "error", str(t)[:30], "-"])
                    failed = 1
                    continue
                ratio = None if isinstance(ours, BaseException) else (
                    t.stat(args.stat) / ours.stat(args.stat))
                table.add([case, f"{shape[0]}x{shape[1]}", impl, h.fmt_ms(t.min),
                           h.fmt_ms(t.median), h.fmt_ratio(ratio)])
    out("## information" if args.markdown else "== information")
    out(table.render(args.markdown))
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_information.py``."""
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
