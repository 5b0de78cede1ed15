"""Benchmark the calibrators: a large fit in bounded memory, and peers on small ones.

Run ``python benchmarks/bench_calibration.py`` (or ``python benchmarks/run.py``, which runs every
benchmark suite) from the repository root; ``--help`` lists the flags.

Two cases:

* **large**: ``TemperatureScaling().fit`` on 10^6 samples × 1000 classes of float32 logits
  (``--calib-large``), stored in a ``.npy`` file in a temporary directory and opened
  memory-mapped, so the input is not held in the process's own memory. Labels are drawn from
  ``softmax(z / T*)`` with T* = 1.5, so the fit must recover T* within its standard error.
  Reported: wall time of the fit, its passes over the data, and the peak of memory allocated
  through Python / NumPy during the fit (``tracemalloc``: the fit's working memory, which does
  not grow with the number of samples). The resident set size is not reported: it counts the
  pages of the memory-mapped input that were read (file-backed, dropped by the kernel when
  memory is needed), up to the size of the file.
* **peers**: the same kind of data at a size the peers handle (``--calib-small``, float64):
  softmaxkit against netcal's ``TemperatureScaling(method="mle")`` (SciPy L-BFGS-B with
  finite-difference gradients through PyTorch; it takes probabilities) and scikit-learn's
  private ``_TemperatureScaling``; each fit is timed (best of a few interleaved runs) and its T
  compared with softmaxkit's.
* **methods** (``--calib-methods``, default 20000x10; 2000x10 with ``--quick``): fit +
  predict of the calibrators beyond temperature against their peers on the same data —
  isotonic regression (scikit-learn ``CalibratedClassifierCV(method="isotonic")`` on a frozen
  classifier, netcal ``IsotonicRegression``), histogram binning (netcal), beta calibration
  (netcal, binary: the positive-class column), Platt scaling (scikit-learn
  ``_SigmoidCalibration``, binary) and Dirichlet calibration (no installed peer: time only).
  Reported: times and the largest difference of the calibrated probabilities from softmaxkit's.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h  # isort: skip
import numpy as np

TSTAR = 1.5
FULL_LARGE = (1_000_000, 1000)
QUICK_LARGE = (20_000, 100)
FULL_SMALL = (20_000, 100)
QUICK_SMALL = (2_000, 10)
FULL_METHODS = (20_000, 10)
QUICK_METHODS = (2_000, 10)


def _parse_shape(text: str) -> tuple[int, int] | None:
    try:
        shape = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        return None
    if len(shape) != 2 or min(shape) < 1 or shape[1] < 2:
        return None
    return shape  # type: ignore[return-value]


def _sample(sk: object, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels drawn from softmax(z / T*) by inverse-CDF sampling."""
    p = sk.softmax(z.astype(np.float64), temperature=TSTAR)  # type: ignore[attr-defined]
    y = (np.cumsum(p, axis=1) < rng.random((z.shape[0], 1))).sum(axis=1)
    return np.minimum(y, z.shape[1] - 1)


def make_large(path: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Write float32 logits to ``path`` (.npy) block by block; return the labels."""
    import softmaxkit as sk

    n, k = shape
    rng = np.random.default_rng(seed)
    z = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    y = np.empty(n, dtype=np.int64)
    step = max(1, (1 << 20) // k)
    for a in range(0, n, step):
        b = min(a + step, n)
        block = rng.standard_normal((b - a, k), dtype=np.float32) * np.float32(3.0)
        z[a:b] = block
        y[a:b] = _sample(sk, block, rng)
    z.flush()
    del z
    return y


def run_large(shape: tuple[int, int], out: Callable[[str], None], bullet: str) -> int:
    h.use_working_tree()
    from softmaxkit.calibration import TemperatureScaling

    n, k = shape
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "logits.npy")
        t0 = time.perf_counter()
        y = make_large(path, shape)
        made = time.perf_counter() - t0
        z = np.load(path, mmap_mode="r")
        gib = z.nbytes / 2**30
        tracemalloc.start()
        t0 = time.perf_counter()
        ts = TemperatureScaling().fit(z, y)
        wall = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del z
    passes = ts.n_iter_ + 1  # + the pass that checks the data and finds the ends
    zscore = (ts.temperature_ - TSTAR) / ts.temperature_se_
    table = h.Table(["case", "value"])
    table.add(["input", f"{n:,} x {k:,} float32 = {gib:.2f} GiB, memory-mapped .npy"])
    table.add(["data generation (not timed below)", f"{made:.1f} s"])
    table.add(["fit wall time", f"{wall:.1f} s"])
    table.add(["passes over the data", f"{passes} ({wall / passes:.1f} s per pass)"])
    table.add(["throughput", f"{n * k * passes / wall / 1e6:.0f} M logits/s"])
    table.add(["peak traced memory of the fit", f"{peak / 2**20:.1f} MiB"])
    table.add(
        ["T (T* = 1.5)", f"{ts.temperature_:.6f} +/- {ts.temperature_se_:.6f} (z = {zscore:+.2f})"]
    )
    out(table.render())
    ok = ts.converged_ and abs(zscore) < 5
    if not ok:
        out(bullet + f"WRONG: T* not recovered (converged={ts.converged_}, z={zscore:.2f})")
    return 0 if ok else 1


def run_peers(
    shape: tuple[int, int], budget: h.Budget, stat: str, out: Callable[[str], None], bullet: str
) -> int:
    h.use_working_tree()
    import softmaxkit as sk
    from softmaxkit.calibration import TemperatureScaling

    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape) * 3.0
    y = _sample(sk, z, rng)
    p = sk.softmax(z)
    calls: dict[str, Callable[[], float]] = {
        "softmaxkit": lambda: TemperatureScaling().fit(z, y).temperature_
    }
    notes = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from netcal.scaling import TemperatureScaling as NetcalTS

        def netcal_fit() -> float:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = NetcalTS(method="mle", use_cuda=False)
                m.fit(p, y)
            return 1.0 / float(m.weights[0])

        calls["netcal"] = netcal_fit
    except ImportError:
        notes.append("netcal not installed: skipped")
    try:
        from sklearn.calibration import _TemperatureScaling

        calls["scikit-learn"] = lambda: 1.0 / float(_TemperatureScaling().fit(z, y).beta_)
    except ImportError:
        notes.append("scikit-learn (with _TemperatureScaling) not installed: skipped")
    temps: dict[str, float] = {}
    timings = h.time_interleaved(calls, budget, on_warmup=lambda name, t: temps.update({name: t}))
    ref = temps.get("softmaxkit", math.nan)
    own = timings.get("softmaxkit")
    table = h.Table(
        ["impl", "median ms", "min ms", "T", "T rel. diff", "softmaxkit faster by"],
        right_align=frozenset({1, 2, 3, 4, 5}),
    )
    failed = 0
    for name, tm in timings.items():
        if isinstance(tm, Exception):
            out(bullet + f"FAILED: {name}: {type(tm).__name__}: {tm}")
            failed = 1
            continue
        t = temps[name]
        speed = (
            tm.stat(stat) / own.stat(stat) if isinstance(own, h.Timing) and name != "softmaxkit"
            else None
        )
        table.add([
            name, h.fmt_ms(tm.median), h.fmt_ms(tm.min), f"{t:.6f}",
            f"{abs(t - ref) / ref:.1e}", h.fmt_ratio(speed),
        ])
    for note in notes:
        out(bullet + note)
    out(f"{shape[0]:,} x {shape[1]:,} float64, labels from softmax(z / {TSTAR})")
    out(table.render())
    return failed


def _method_calls(
    z: np.ndarray, y: np.ndarray, zt: np.ndarray
) -> list[tuple[str, dict[str, Callable[[], np.ndarray]]]]:
    """Per method, {implementation: fit + predict on held-out logits zt -> probabilities}."""
    import softmaxkit as sk
    from softmaxkit import calibration as cal

    p, pt = np.asarray(sk.softmax(z)), np.asarray(sk.softmax(zt))
    s, st = z[:, 1] - z[:, 0], zt[:, 1] - zt[:, 0]  # a binary score: class 1 against 0
    yb = (y == 1).astype(int)[y <= 1]
    sb = s[y <= 1]
    pb, ptb = 1 / (1 + np.exp(-sb)), 1 / (1 + np.exp(-st))
    cases: list[tuple[str, dict[str, Callable[[], np.ndarray]]]] = [
        ("isotonic", {"softmaxkit": lambda: cal.IsotonicCalibration().fit(z, y).predict_proba(zt)}),
        ("histogram (10 bins)",
         {"softmaxkit": lambda: cal.HistogramBinning(10).fit(z, y).predict_proba(zt)}),
        ("beta (binary)",
         {"softmaxkit": lambda: cal.BetaCalibration().fit(sb, yb).predict_proba(st)[:, 1]}),
        ("Platt, smoothed (binary)", {"softmaxkit": lambda: cal.PlattScaling(
            smoothing=True).fit(sb, yb).predict_proba(st)[:, 1]}),
        ("Dirichlet (lambda 1e-2)",
         {"softmaxkit": lambda: cal.DirichletCalibration(1e-2).fit(z, y).predict_proba(zt)}),
    ]
    try:
        from sklearn.base import BaseEstimator, ClassifierMixin
        from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
        from sklearn.frozen import FrozenEstimator

        class Given(ClassifierMixin, BaseEstimator):
            def fit(self, x: np.ndarray, t: np.ndarray) -> Given:
                self.classes_ = np.unique(t)
                return self

            def predict_proba(self, x: np.ndarray) -> np.ndarray:
                return x

            def predict(self, x: np.ndarray) -> np.ndarray:
                return np.argmax(x, axis=1)

        def sk_iso() -> np.ndarray:
            given = FrozenEstimator(Given().fit(p, y))
            return CalibratedClassifierCV(given, method="isotonic").fit(p, y).predict_proba(pt)

        cases[0][1]["scikit-learn"] = sk_iso
        cases[3][1]["scikit-learn"] = lambda: _SigmoidCalibration().fit(sb, yb).predict(st)
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from netcal.binning import HistogramBinning, IsotonicRegression
            from netcal.scaling import BetaCalibration

        def quiet(fn: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
            def call() -> np.ndarray:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return fn()
            return call

        cases[0][1]["netcal"] = quiet(lambda: IsotonicRegression().fit(p, y).transform(pt))
        cases[1][1]["netcal"] = quiet(lambda: HistogramBinning(bins=10).fit(p, y).transform(pt))
        cases[2][1]["netcal"] = quiet(lambda: BetaCalibration().fit(pb, yb).transform(ptb))
    except ImportError:
        pass
    return cases


def run_methods(
    shape: tuple[int, int], budget: h.Budget, stat: str, out: Callable[[str], None], bullet: str
) -> int:
    h.use_working_tree()
    import softmaxkit as sk

    rng = np.random.default_rng(2)
    z = rng.standard_normal(shape) * 3.0
    y = _sample(sk, z, rng)
    zt = rng.standard_normal((shape[0] // 4, shape[1])) * 3.0
    table = h.Table(["method", "impl", "median ms", "min ms", "max |dp|", "softmaxkit faster by"],
                    right_align=frozenset({2, 3, 4, 5}))
    failed = 0
    for method, calls in _method_calls(z, y, zt):
        results: dict[str, np.ndarray] = {}
        timings = h.time_interleaved(calls, budget, on_warmup=results.__setitem__)
        own = timings.get("softmaxkit")
        for name, tm in timings.items():
            if isinstance(tm, Exception):
                out(bullet + f"FAILED: {method}: {name}: {type(tm).__name__}: {tm}")
                failed = 1
                continue
            diff = float(np.nanmax(np.abs(results[name] - results["softmaxkit"])))
            speed = (tm.stat(stat) / own.stat(stat)
                     if isinstance(own, h.Timing) and name != "softmaxkit" else None)
            table.add([method, name, h.fmt_ms(tm.median), h.fmt_ms(tm.min), f"{diff:.1e}",
                       h.fmt_ratio(speed)])
    out(f"{shape[0]:,} x {shape[1]:,} float64 fit, {zt.shape[0]:,} held-out rows predicted")
    out(table.render())
    return failed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this suite's flags (prefixed, so that they merge with the other suites' flags)."""
    parser.add_argument(
        "--calib-large",
        default=None,
        help="ROWSxCLASSES of the bounded-memory fit (default 1000000x1000; 20000x100 with "
        "--quick); 'none' skips it",
    )
    parser.add_argument(
        "--calib-small",
        default=None,
        help="ROWSxCLASSES of the comparison with netcal and scikit-learn (default 20000x100; "
        "2000x10 with --quick); 'none' skips it",
    )
    parser.add_argument(
        "--calib-methods",
        default=None,
        help="ROWSxCLASSES of the other calibrators against their peers (default 20000x10; "
        "2000x10 with --quick); 'none' skips it",
    )


def check_args(args: argparse.Namespace) -> str | None:
    """Return what is wrong with this suite's flags, or None."""
    for flag in ("calib_large", "calib_small", "calib_methods"):
        text = getattr(args, flag)
        if text is not None and text != "none" and _parse_shape(text) is None:
            return f"--{flag.replace('_', '-')}: {text!r} is not a shape like 1000000x1000"
    return None


def _shape(text: str | None, full: tuple[int, int], quick: tuple[int, int], q: bool):
    if text == "none":
        return None
    if text is not None:
        return _parse_shape(text)
    return quick if q else full


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the suite with parsed ``args``; print the tables; 1 if anything failed or was wrong."""
    problem = check_args(args)
    if problem:
        raise SystemExit(problem)
    bullet = "- " if args.markdown else ""
    out("")
    out(("## " if args.markdown else "== ") + "calibration: temperature scaling fits")
    status = 0
    large = _shape(args.calib_large, FULL_LARGE, QUICK_LARGE, args.quick)
    if large is not None:
        status |= run_large(large, out, bullet)
        out("")
    small = _shape(args.calib_small, FULL_SMALL, QUICK_SMALL, args.quick)
    if small is not None:
        budget = h.QUICK_BUDGET if args.quick else h.Budget(seconds=4.0, max_samples=5)
        status |= run_peers(small, budget, args.stat, out, bullet)
        out("")
    methods = _shape(args.calib_methods, FULL_METHODS, QUICK_METHODS, args.quick)
    if methods is not None:
        budget = h.QUICK_BUDGET if args.quick else h.Budget(seconds=2.0, max_samples=5)
        status |= run_methods(methods, budget, args.stat, out, bullet)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python benchmarks/bench_calibration.py``."""
    return h.standalone_main(__doc__, add_arguments, check_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
