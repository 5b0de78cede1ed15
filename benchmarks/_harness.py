"""Shared helpers for the benchmark scripts: timing, machine facts and table output.

The benchmarks are plain scripts (``python benchmarks/run.py``), not a test suite, so this module
keeps to the standard library plus NumPy. Everything else (SciPy, PyTorch, JAX) is optional and
imported by the individual ``bench_*.py`` files, which skip a peer that is not installed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


def use_working_tree() -> None:
    """Put the repository root first on ``sys.path``.

    ``python benchmarks/run.py`` puts ``benchmarks/`` on the path, not the repository root, so
    without this an uninstalled checkout could not be imported at all, and an installed one could
    shadow the tree being measured. A benchmark should measure the code next to it.
    """
    root = str(REPO_ROOT)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How much time to spend measuring one case.

    Parameters
    ----------
    seconds : float
        Target wall time for the timed samples of one case (warm-up not included).
    min_samples, max_samples : int
        Bounds on the number of samples k; the result is best-of-k (min) and median-of-k.
    min_sample_seconds : float
        A sample repeats the call until it lasts at least this long, so that timer resolution
        and call overhead do not dominate small cases.
    """

    seconds: float = 1.5
    min_samples: int = 3
    max_samples: int = 7
    min_sample_seconds: float = 0.005


FULL_BUDGET = Budget()
QUICK_BUDGET = Budget(seconds=0.08, min_samples=3, max_samples=5, min_sample_seconds=0.002)


@dataclass(frozen=True)
class Timing:
    """Per-call times of one case, in seconds.

    Attributes
    ----------
    median, min : float
        Median and minimum over the samples of the per-call time.
    samples : int
        Number of samples k.
    number : int
        Calls per sample.
    """

    median: float
    min: float
    samples: int
    number: int

    def stat(self, name: str) -> float:
        """Return the statistic called ``name`` ("median" or "min")."""
        return self.median if name == "median" else self.min


def time_call(
    fn: Callable[[], Any],
    budget: Budget,
    on_warmup: Callable[[Any], None] | None = None,
) -> Timing:
    """Time one zero-argument callable; see :func:`time_interleaved`, of which it is a special case.

    Raises
    ------
    Exception
        Whatever ``fn`` raised.
    """
    hook = None if on_warmup is None else (lambda _name, result: on_warmup(result))
    got = time_interleaved({"fn": fn}, budget, on_warmup=hook)["fn"]
    if isinstance(got, BaseException):
        raise got
    return got


def time_interleaved(
    calls: Mapping[str, Callable[[], Any]],
    budget: Budget,
    on_warmup: Callable[[str, Any], None] | None = None,
) -> dict[str, Timing | Exception]:
    """Time several callables with ``time.perf_counter``, taking their samples in turn.

    Each callable gets one warm-up call, which absorbs one-off costs (JIT compilation,
    first-touch page faults of fresh outputs, lazy imports), then one calibration call that sets
    how many calls make a sample (a sample lasts at least ``budget.min_sample_seconds``). The k
    samples are then taken round-robin: sample 1 of every callable, then sample 2, ... A slow
    phase of a noisy machine (another process, a descheduled virtual CPU) therefore hits every
    implementation of a case alike, and the ratios between them stay meaningful. k is chosen so
    that each callable gets about ``budget.seconds``, within ``[min_samples, max_samples]``:
    slow cases get fewer samples, so a full run stays within minutes.

    Parameters
    ----------
    calls : mapping of str to callable
        Zero-argument callables; each result is dropped at once so that large outputs do not
        pile up in memory between calls.
    budget : Budget
        Time budget per callable.
    on_warmup : callable, optional
        ``on_warmup(name, result)`` is given each warm-up result, e.g. to check it, so that
        checking costs no extra call.

    Returns
    -------
    dict of str to Timing or Exception
        Median and minimum per-call time over the samples, or the exception a callable raised
        (it is then left out of the remaining rounds).
    """
    out: dict[str, Timing | Exception] = {}
    number: dict[str, int] = {}
    samples: dict[str, list[float]] = {}
    estimate: dict[str, float] = {}  # seconds per sample
    for name, fn in calls.items():
        try:
            result = fn()
            if on_warmup is not None:
                on_warmup(name, result)
            del result
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
        except Exception as exc:  # a failing implementation must not end the run
            out[name] = exc
            continue
        n = 1
        if first < budget.min_sample_seconds:
            n = int(np.ceil(budget.min_sample_seconds / max(first, 1e-7)))
        number[name] = n
        estimate[name] = first * n
        # A slow call's calibration run doubles as its first sample.
        samples[name] = [first] if n == 1 else []
    if not number:
        return out
    per_sample = sum(estimate.values())
    k = int(budget.seconds * len(number) / max(per_sample, 1e-9))
    k = min(budget.max_samples, max(budget.min_samples, k))
    for _ in range(k):
        for name in list(number):
            if len(samples[name]) >= k:
                continue
            fn, n = calls[name], number[name]
            try:
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - t0) / n)
            except Exception as exc:
                out[name] = exc
                del number[name]
    for name in number:
        per_call = samples[name]
        out[name] = Timing(statistics.median(per_call), min(per_call), len(per_call), number[name])
    return {name: out[name] for name in calls if name in out}


def free_memory() -> None:
    """Collect garbage so that the previous case's arrays are gone before the next allocates."""
    gc.collect()


# --------------------------------------------------------------------------------------------
# Machine facts
# --------------------------------------------------------------------------------------------

_THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "XLA_FLAGS",
    "JAX_PLATFORMS",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module_name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module_name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts(packages: Iterable[str] = ()) -> list[str]:
    """Describe the machine and the libraries, one fact a line.

    Parameters
    ----------
    packages : iterable of str
        Distribution names whose versions to report besides NumPy.

    Returns
    -------
    list of str
        Lines such as ``"numpy 2.1.0"``; printed at the top of every benchmark run, because a
        table of times means little without them.
    """
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    lines = [
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}",
        f"cpu: {_cpu_model()}; os.cpu_count()={os.cpu_count()}, usable={affinity}",
        f"numpy {np.__version__}",
    ]
    lines += [f"{name} {_version(name)}" for name in packages]
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    env.update({k: os.environ[k] for k in _THREAD_ENV_VARS if k in os.environ})
    lines.append(
        "env: "
        + (
            ", ".join(f"{k}={v}" for k, v in sorted(env.items()))
            or "no OPENBLAS_*/OMP_NUM_THREADS/MKL_NUM_THREADS set"
        )
    )
    return lines


def threadpool_lines() -> list[str]:
    """Describe the native thread pools (BLAS, OpenMP) loaded so far, via ``threadpoolctl``.

    Call it after the libraries under test are imported: a pool is only seen once loaded.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl: not installed (native thread pools not reported)"]
    keys = ("user_api", "internal_api", "version", "num_threads", "prefix")
    return [
        "threadpool: {user_api}/{internal_api} {version} num_threads={num_threads} "
        "({prefix})".format(**{k: pool.get(k) for k in keys})
        for pool in threadpool_info()
    ]


PEER_PACKAGES = ("scipy", "torch", "jax", "jaxlib", "threadpoolctl")


def standalone_main(
    doc: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    check_args: Callable[[argparse.Namespace], str | None],
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None = None,
    packages: Iterable[str] = PEER_PACKAGES,
) -> int:
    """The ``main`` of one suite run on its own: its flags and the common ones, the machine
    facts, then the suite."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    add_common_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    problem = check_args(args)
    if problem:
        parser.error(problem)
    print_facts(args.markdown, packages=packages)
    return run(args)


def print_facts(markdown: bool = False, packages: Iterable[str] = PEER_PACKAGES) -> None:
    """Print :func:`machine_facts` under a heading (a Markdown list with ``markdown``)."""
    print("## machine" if markdown else "== machine")
    for line in machine_facts(packages):
        print(("- " if markdown else "") + line)


# --------------------------------------------------------------------------------------------
# Command line and output
# --------------------------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags every benchmark script understands."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small shapes and a short time budget: a smoke test that finishes in seconds",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as a Markdown table"
    )
    parser.add_argument(
        "--stat",
        choices=("median", "min"),
        default="min",
        help="statistic behind the x-floor column, the ratios and the verdicts: min "
        "(best-of-k, the default: noise only ever adds time) or median; both are printed",
    )


def csv_list(text: str) -> list[str]:
    """Split a comma-separated flag value, dropping blanks."""
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass
class Table:
    """A table of rows (each a list of cells) with a header, printable as text or Markdown."""

    header: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)
    right_align: frozenset[int] = frozenset()

    def add(self, row: Sequence[str]) -> None:
        """Append one row; it must have as many cells as the header."""
        if len(row) != len(self.header):
            raise ValueError(f"row has {len(row)} cells, header has {len(self.header)}")
        self.rows.append(list(row))

    def render(self, markdown: bool = False) -> str:
        """Return the table as aligned plain text, or as a Markdown table."""
        widths = [
            max(len(str(c)) for c in col) for col in zip(self.header, *self.rows, strict=True)
        ]

        def fmt(cells: Sequence[str]) -> list[str]:
            return [
                c.rjust(w) if i in self.right_align else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]

        if markdown:
            rule = [
                ("-" * (w - 1) + ":") if i in self.right_align else "-" * w
                for i, w in enumerate(widths)
            ]
            lines = [fmt(self.header), rule, *(fmt(r) for r in self.rows)]
            return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
        lines = [fmt(self.header), ["-" * w for w in widths], *(fmt(r) for r in self.rows)]
        return "\n".join("  ".join(cells).rstrip() for cells in lines)


def fmt_ms(seconds: float) -> str:
    """Format a time in milliseconds with three significant figures (whole ms from 100 up)."""
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.3g}"


def fmt_ratio(value: float | None) -> str:
    """Format a ratio like ``2.31x``; ``-`` when there is nothing to compare with."""
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.2f}x"
