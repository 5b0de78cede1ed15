"""BLAS threads for small fits: one thread when the products are too small to share.

A small fit (anes96: 944 rows, 36 parameters) makes a few dozen BLAS calls of a few
microseconds each. With the library's default threads, every call that OpenBLAS splits wakes
its worker threads; on a busy machine a wake-up waits for a free core, and the fit becomes
mostly waiting (measured on anes96: 30-140 ms instead of 3 ms, two cores under load). So a fit whose
work per pass, ``n·m²`` multiply-adds (``m = p(K−1)`` parameters), is below
:data:`SMALL_WORK` runs its BLAS calls on one thread; larger fits keep the default threads,
which pay for themselves there.

The limit needs ``threadpoolctl`` (installed with scikit-learn); without it the fit runs with
the default threads, as before. The limit is process-wide while the fit runs (as every BLAS
thread limit is): BLAS calls in other threads during a small fit run on one thread too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

# n·m² below this (about 0.2-0.5 s of one core per pass) runs on one BLAS thread. Measured
# on two cores (benchmarks/bench_mlogit.py, anes96 and n = 10³ … 10⁵, K = 3 … 20): one thread
# was 2-8× faster than two at every such size on a busy machine; beyond it the products are
# large enough for an idle machine's threads to pay for their wake-ups.
SMALL_WORK = 1 << 30

_lock = threading.Lock()
# The threadpoolctl controllers of the loaded BLAS libraries (found once: finding them walks
# the loaded shared objects, about 3 ms), False when threadpoolctl is not installed.
_controllers: Any = None
_active = 0  # fits running under the limit
_before: list[int] = []  # the thread counts the limit replaced


def _blas_controllers() -> Any:
    global _controllers
    with _lock:
        if _controllers is None:
            try:
                import scipy.linalg  # noqa: F401 - its BLAS too (the Cholesky solves)
            except ImportError:  # pragma: no cover - exercised only without SciPy
                pass
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # pragma: no cover - exercised only without threadpoolctl
                _controllers = False
            else:
                found = ThreadpoolController().select(user_api="blas").lib_controllers
                _controllers = list(found) or False
        return _controllers


@contextlib.contextmanager
def blas_threads_for(work: float) -> Iterator[bool]:
    """Run the block on one BLAS thread when ``work`` (multiply-adds per pass) is below
    :data:`SMALL_WORK`; yields whether the limit is in effect."""
    if work >= SMALL_WORK:
        yield False
        return
    controllers = _blas_controllers()
    if not controllers:
        yield False
        return
    global _active, _before
    with _lock:
        # Fits in several threads share one limit: the first sets it, the last restores.
        if _active == 0:
            _before = [c.num_threads for c in controllers]
            for c in controllers:
                c.set_num_threads(1)
        _active += 1
    try:
        yield True
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for c, n in zip(controllers, _before, strict=True):
                    c.set_num_threads(n)
