#!/usr/bin/env bash
# The maps and the sparse maps on one GPU, against torch and the entmax package.
#
#   benchmarks/gpu.sh                  # CUDA device 0, the full set: under 5 minutes on one GPU
#   benchmarks/gpu.sh --device cpu     # the same script on CPU torch, small shapes (a smoke test)
#   benchmarks/gpu.sh --quick          # small shapes on any device
#   benchmarks/gpu.sh --budget 200     # stop starting new cases after this many seconds
#
# For every case: softmaxkit (on torch tensors of that device) against torch.softmax /
# torch.log_softmax / torch.logsumexp, and sparsemax / entmax15 against the entmax package, each
# time as a multiple of a device-to-device copy of the same tensor (out.copy_(x): reads n, writes n)
# and as throughput (GB/s of input read plus output written). Times are the best of several
# repetitions, synchronised (CUDA events on a GPU). Every result is checked against the peer once
# before it is timed; a wrong one is marked WRONG, never timed as if it were right.
# Needs torch (and entmax for the sparse peers; skipped with a note if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
exec "$PY" - "$@" <<'PYEOF'
import argparse
import os
import sys
import time

sys.path.insert(0, os.getcwd())  # the working tree's softmaxkit

parser = argparse.ArgumentParser(prog="benchmarks/gpu.sh")
parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
parser.add_argument("--quick", action="store_true", help="small shapes (default on cpu)")
parser.add_argument("--budget", type=float, default=240.0,
                    help="seconds after which no new case starts (default 240)")
parser.add_argument("--seconds", type=float, default=None,
                    help="measuring time per implementation and case (default 0.25; 0.03 with "
                    "the small shapes)")
args = parser.parse_args(sys.argv[1:])

import torch  # noqa: E402

import softmaxkit as sk  # noqa: E402

dev = torch.device(args.device)
if dev.type == "cuda" and not torch.cuda.is_available():
    sys.exit("gpu.sh: torch sees no CUDA device (use --device cpu for a smoke test on the CPU)")
quick = args.quick or dev.type == "cpu"
if args.seconds is None:
    args.seconds = 0.03 if quick else 0.25
try:
    import entmax
except ImportError as exc:
    entmax = None
    entmax_note = f"entmax not importable ({exc}): sparse peers skipped"
else:
    entmax_note = f"entmax {getattr(entmax, '__version__', '?')}"

if dev.type == "cuda":
    props = torch.cuda.get_device_properties(dev)
    where = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
else:
    where = f"CPU, torch threads {torch.get_num_threads()}"
print(f"== device: {dev} ({where}); torch {torch.__version__}; softmaxkit "
      f"{getattr(sk, '__version__', '?')}; {entmax_note}")


def sync() -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def best_time(fn, seconds: float) -> float:
    """Best per-call seconds over repetitions lasting about ``seconds`` in all."""
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, min(100, int(0.01 / one)))  # a sample lasts at least ~10 ms
    reps = max(3, min(50, int(seconds / (one * inner))))
    best = float("inf")
    for _ in range(reps):
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            t = start.elapsed_time(end) / 1e3 / inner
        else:
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            t = (time.perf_counter() - t0) / inner
        best = min(best, t)
    return best


if quick:
    MAP_SHAPES = [(128, 128), (20_000, 8), (4, 20_000)]
    SPARSE_SHAPES = [(5_000, 10), (32, 1024)]
else:
    MAP_SHAPES = [(4096, 4096), (2_000_000, 8), (64, 1_000_000), (32768, 1024)]
    SPARSE_SHAPES = [(200_000, 10), (4096, 4096), (1024, 32768)]
MAP_DTYPES = [torch.float32, torch.float64]
SPARSE_DTYPES = [torch.float32]

MAPS = {
    "softmax": (lambda x: sk.softmax(x, axis=-1), lambda x: torch.softmax(x, dim=-1)),
    "log_softmax": (lambda x: sk.log_softmax(x, axis=-1), lambda x: torch.log_softmax(x, dim=-1)),
    "logsumexp": (lambda x: sk.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, dim=-1)),
}
SPARSE = {}
if entmax is not None:
    SPARSE = {
        "sparsemax": (lambda x: sk.sparsemax(x, axis=-1), lambda x: entmax.sparsemax(x, dim=-1)),
        "entmax15": (lambda x: sk.entmax15(x, axis=-1), lambda x: entmax.entmax15(x, dim=-1)),
    }

started = time.perf_counter()
header = (f"{'case':<28} {'impl':<12} {'ms':>9} {'x copy':>8} {'GB/s':>8} "
          f"{'speed vs peer':>14}")
print(header)
print("-" * len(header))
skipped = []


def run_group(maps: dict, shapes: list, dtypes: list, peer_name: str) -> None:
    for shape in shapes:
        for dtype in dtypes:
            if time.perf_counter() - started > args.budget:
                skipped.extend(f"{m} {shape} {dtype}" for m in maps)
                continue
            gen = torch.Generator(device=dev).manual_seed(0)
            x = 3 * torch.randn(shape, generator=gen, device=dev, dtype=dtype)
            out = torch.empty_like(x)
            t_copy = best_time(lambda: out.copy_(x), args.seconds)
            label_dt = str(dtype).replace("torch.float", "f")
            for name, (ours, peer) in maps.items():
                case = f"{name} {'x'.join(map(str, shape))} {label_dt}"
                ref = peer(x)
                got = ours(x)
                tol = 1e-4 if dtype == torch.float32 else 1e-10
                wrong = not torch.allclose(got.to(ref.dtype), ref, rtol=tol, atol=tol)
                n_out = ref.numel()
                nbytes = (x.numel() + n_out) * x.element_size()
                times = {}
                for impl, fn in (("softmaxkit", ours), (peer_name, peer)):
                    times[impl] = best_time(lambda fn=fn: fn(x), args.seconds)
                for impl, t in times.items():
                    vs = times[peer_name] / t if impl == "softmaxkit" else 1.0
                    flag = " WRONG" if (wrong and impl == "softmaxkit") else ""
                    print(f"{case:<28} {impl:<12} {t * 1e3:9.3f} {t / t_copy:7.2f}x "
                          f"{nbytes / t / 1e9:8.1f} {vs:13.2f}x{flag}", flush=True)
                del ref, got
            print(f"{'':<28} {'copy':<12} {t_copy * 1e3:9.3f} {1.0:7.2f}x "
                  f"{2 * x.numel() * x.element_size() / t_copy / 1e9:8.1f}", flush=True)
            del x, out
            if dev.type == "cuda":
                torch.cuda.empty_cache()


run_group(MAPS, MAP_SHAPES, MAP_DTYPES, "torch")
run_group(SPARSE, SPARSE_SHAPES, SPARSE_DTYPES, "entmax")
print(f"== {time.perf_counter() - started:.0f} s in all")
if skipped:
    print(f"== over the --budget of {args.budget:g} s, not run: " + "; ".join(skipped))
PYEOF
