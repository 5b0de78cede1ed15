"""Scaling out: the command line streaming in one process against ``--engine dask``.

Generates a Parquet dataset of float32 logits (``--gigabytes`` of values, default 5, in row
groups of about 64 MB), then runs, each as a child process of this script::

    softmaxkit softmax DATA -o OUT.parquet                        # single-process streaming
    softmaxkit softmax DATA --engine dask --workers W -o OUT_DIR  # a local Dask cluster

and prints rows per second and the memory high-water mark of each (the largest sum of the
resident set sizes of the command's whole process tree, sampled every 0.1 s, so Dask's
scheduler, nannies and workers are all counted). The generated data and the outputs are
removed at the end unless ``--keep``.

This is a standalone script (minutes, gigabytes of disk); it is not part of ``run.py``::

    python benchmarks/bench_scaling.py --gigabytes 5 --workdir /some/scratch/dir
    python benchmarks/bench_scaling.py --gigabytes 0.2          # a quick look
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

_harness_dir = Path(__file__).resolve().parent
sys.path.insert(0, str(_harness_dir))
import _harness as h  # noqa: E402


def make_dataset(path: Path, gigabytes: float, columns: int, seed: int = 0) -> int:
    """Write float32 logits (columns ``logit_0..``) and an int64 ``label``; return the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    rows_total = int(gigabytes * 1e9 / (4 * columns))
    group = max(1, int(64e6 / (4 * columns)))
    names = [f"logit_{j}" for j in range(columns)]
    schema = pa.schema([(n, pa.float32()) for n in names] + [("label", pa.int64())])
    written = 0
    with pq.ParquetWriter(path, schema, compression="none", use_dictionary=["label"]) as w:
        while written < rows_total:
            n = min(group, rows_total - written)
            x = rng.standard_normal((n, columns), dtype=np.float32) * 3
            # Labels drawn from softmax(x / 1.5) (Gumbel-max): a classifier over-confident
            # by T* = 1.5, so that `calibrate` has something to find.
            gumbel = rng.gumbel(size=(n, columns)).astype(np.float32)
            labels = np.argmax(x / 1.5 + gumbel, axis=1)
            arrays = [pa.array(col) for col in x.T]
            arrays.append(pa.array(labels.astype(np.int64)))
            w.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=n)
            written += n
    return rows_total


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd``; return wall seconds, peak tree RSS in bytes, and its stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return seconds, peak, err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=5.0, help="size of the values (5)")
    parser.add_argument("--columns", type=int, default=100, help="logit columns (100)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (2)")
    parser.add_argument(
        "--commands",
        default="softmax,calibrate",
        help="which commands to measure (softmax,calibrate)",
    )
    parser.add_argument(
        "--calibrate-gigabytes",
        type=float,
        default=1.0,
        help="size for the single-process `calibrate`, which holds its input in memory (1)",
    )
    parser.add_argument("--workdir", default=None, help="scratch directory (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the data and outputs")
    args = parser.parse_args(argv)

    h.print_facts(False)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="softmaxkit-scaling-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "logits.parquet"
    t0 = time.perf_counter()
    rows = make_dataset(data, args.gigabytes, args.columns)
    size = data.stat().st_size
    print(
        f"dataset: {rows:,} rows x {args.columns} float32 logits + label, "
        f"{size / 1e9:.2f} GB Parquet (uncompressed), made in {time.perf_counter() - t0:.0f} s"
    )
    small = work / "logits_small.parquet"
    small_rows = 0
    if "calibrate" in args.commands:
        small_rows = make_dataset(small, args.calibrate_gigabytes, args.columns, seed=1)
    sk = [sys.executable, "-m", "softmaxkit"]
    dask = ["--engine", "dask", "--workers", str(args.workers)]
    soft = [*sk, "softmax", str(data), "--columns", "logit_*"]

    def cal(path: Path) -> list[str]:
        return [*sk, "calibrate", str(path), "--labels", "label", "--columns", "logit_*"]

    cases = [
        (
            "softmax",
            "streaming, 1 process",
            rows,
            size,
            [*soft, "-o", str(work / "out.parquet"), "-q"],
        ),
        (
            "softmax",
            f"dask, {args.workers} local workers",
            rows,
            size,
            [*soft, *dask, "-o", str(work / "out_dir"), "-q"],
        ),
        (
            "calibrate",
            "in memory, 1 process",
            small_rows,
            small.stat().st_size if small.exists() else 0,
            [*cal(small), "-o", str(work / "cal.parquet"), "-q"],
        ),
        (
            "calibrate",
            f"dask, {args.workers} local workers",
            rows,
            size,
            [*cal(data), *dask, "-o", str(work / "cal_dir"), "-q"],
        ),
    ]
    print(
        f"\n{'command':<10} {'engine':<26} {'rows':>12} {'GB':>5} {'seconds':>8} "
        f"{'rows/s':>11} {'peak RSS':>10}"
    )
    try:
        wanted = set(args.commands.split(","))
        for command, name, n_rows, n_bytes, cmd in cases:
            if command not in wanted:
                continue
            seconds, peak, _ = run_measured(cmd)
            print(
                f"{command:<10} {name:<26} {n_rows:12,} {n_bytes / 1e9:5.2f} {seconds:8.1f} "
                f"{n_rows / seconds:11,.0f} {peak / 2**20:7.0f} MB"
            )
            for out in ("out.parquet", "out_dir", "cal.parquet", "cal_dir"):
                target = work / out
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
