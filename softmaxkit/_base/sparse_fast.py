"""NumPy fast path for sparsemax, 1.5-entmax and α-entmax over the last axis.

The generic solvers (:mod:`softmaxkit._base.sparse_kernel`) sort every full row in the compute
dtype and, for general α, bisect 30 to 60 times over every entry. Both do far more work than
needed: after the shift and scaling ``y = (α − 1)(x − max)/T`` the threshold τ lies in [−1, 0)
(the largest entry alone has mass (−τ)^{1/(α−1)} ≤ 1), so only the *candidates* ``y > −1`` can
be in the support. For typical scores that is a handful of entries per row, whatever the row
length.

Per block of rows (cache-sized, on the small thread pool of :mod:`softmaxkit._base.fast`):

1. the row maximum and one comparison ``x ≥ thr`` in the input dtype (``thr`` is rounded down
   and widened by a few ulps, so the candidate set is a superset of ``y > −1``: extra entries
   below −1 are outside the support and change nothing);
2. the candidates of each row, gathered into a small float64 matrix padded with the floor
   value −2 (never in the support). Rows are grouped by their number of candidates ``c``
   into widths ``2^⌈log2 c⌉`` (so the padding stays below half); rows whose candidates are at
   least half of the row use the whole row;
3. the threshold on that matrix:

   * **sparsemax, 1.5-entmax**: the exact sort-based formulas of the generic solvers on the
     candidates. The support is a prefix of the sorted row, the cumulative sums run in
     order, and the padding only follows the support, so the result is the generic one bit
     for bit;
   * **α-entmax**: Newton's method on ``H(τ) = ‖[y − τ]_+‖_q − 1`` with ``q = 1/(α − 1)``,
     started from τ = −1 and kept inside the bracket [−1, −(1/n)^(α−1)] of known signs (a
     step leaving it, or for α > 2 not halving the previous move, is replaced by bisection).
     For α ≤ 2, H is convex and decreasing, so the iterates rise monotonically to the root
     and converge quadratically once the support is found; on a single-entry support H is
     linear and one step is exact. A row stops, and is frozen, when its step is below 2 ulps
     of τ, F = Σ [y − τ]_+^q is within rounding of 1, or (α ≤ 2) F ≤ 1. The sums run left
     to right, so off-support entries add exact zeros: a row's τ does not depend on its width
     class, its route, the input dtype or the other rows;

4. zeros everywhere, then the support's values scattered into the output.

Rows of at most ``_NARROW`` (64) entries skip steps 1-2: the whole block is scaled and
solved as one matrix (same thresholds: the padding only ever follows the support); up to
``_NETWORK`` (10) entries the rows of sparsemax and 1.5-entmax are sorted by a sorting network
over the columns, and their row reductions run column by column (same numbers, same order of
the sums: see :func:`_network_tau`).

Rows holding NaN or +inf, rows with no admissible entry and rows at T = 0 or inf (temperature
arrays) go to the generic solver, row by row. The fast path covers float16/32/64 NumPy input
(integers are converted first) with scalar or per-row temperatures and masks; it returns None
for the rest, and for ``entmax`` with ``n_iter`` below 30, the smallest default (an explicitly
truncated bisection is the generic solver's business). All arithmetic on candidates is
float64 for every input dtype; the passes over the full array (maximum, comparison, zero fill)
run in the input dtype, so float32 costs no more than it would computed in float32.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from softmaxkit._base import fast as _fast
from softmaxkit._base import sparse_kernel
from softmaxkit._base.core import Prepared, Temperature

_BLOCK = 1 << 17  # elements per block (as in _fast): big enough to amortise Python overhead
_FLOOR = sparse_kernel.FLOOR  # the generic solvers' floor: below every threshold
_MIN_WIDTH = 4
# Rows at most this long are solved whole, without the candidate pass (see _Job._narrow).
# Measured on 2e6 standard-normal float32 entries: the whole rows were 1.2-1.5× faster than
# the candidates up to 128 entries, even at 256, and slower at 512; 64 keeps a margin for
# rows whose candidates are fewer (peaked scores), where the candidate route gains.
_NARROW = 64
_EPS = float(np.finfo(np.float64).eps)
# The generic bisection's smallest default (its Newton step then reaches full precision); a
# smaller explicit n_iter asks for the truncated answer, which is the generic solver's.
_FULL_BISECTION = 30
_MAX_NEWTON = 100  # never reached in practice (bisection fallback halves the bracket)
METHODS = sparse_kernel.METHODS


class Stats:
    """Counters of one call, for benchmarks: candidates per row and Newton iterations."""

    def __init__(self) -> None:
        self.rows = 0
        self.candidates = 0
        self.max_candidates = 0
        self.iterations = 0
        self.max_iterations = 0
        self.generic_rows = 0
        self._lock = threading.Lock()

    def add(self, counts: np.ndarray, iters: np.ndarray | None, generic: int) -> None:
        with self._lock:
            self.rows += int(counts.size)
            self.candidates += int(counts.sum())
            if counts.size:
                self.max_candidates = max(self.max_candidates, int(counts.max()))
            if iters is not None and iters.size:
                self.iterations += int(iters.sum())
                self.max_iterations = max(self.max_iterations, int(iters.max()))
            self.generic_rows += generic

    def as_dict(self) -> dict[str, float]:
        rows = max(self.rows, 1)
        return {
            "rows": self.rows,
            "mean_candidates": self.candidates / rows,
            "max_candidates": self.max_candidates,
            "mean_iterations": self.iterations / rows,
            "max_iterations": self.max_iterations,
            "generic_rows": self.generic_rows,
        }


# --------------------------------------------------------------------------------------------
# Thresholds on a small float64 matrix W (rows × width, max 0 per row, floor-padded)
# --------------------------------------------------------------------------------------------


# Rows at most this long are reduced column by column: NumPy's reductions along a short
# last axis pay a loop set-up per row (a row maximum of 13107 × 10 took 0.39 ms, the nine
# column maxima 0.05 ms), and an elementwise pass over the columns gives the same bits
# (maxima are exact; a cumulative sum adds left to right either way).
_COLUMNS = 16


def _row_max(x: np.ndarray) -> np.ndarray:
    """``np.max(x, axis=1)`` (NaN propagates), column by column for narrow rows."""
    if x.shape[1] > _COLUMNS or x.shape[1] == 0:
        return np.max(x, axis=1)
    m = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(m, x[:, j], out=m)
    return m


def _row_cumsum(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=1)`` (float64, C-contiguous result), column by column for narrow
    rows: the same additions in the same order."""
    if a.shape[1] > _COLUMNS or a.shape[1] == 0:
        return np.cumsum(a, axis=1)
    out = np.empty(a.shape, dtype=np.float64)
    out[:, 0] = a[:, 0]
    for j in range(1, a.shape[1]):
        np.add(out[:, j - 1], a[:, j], out=out[:, j])
    return out


def _row_count(cond: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(cond, axis=1)``, column by column for narrow rows."""
    if cond.shape[1] > _COLUMNS or cond.shape[1] == 0:
        return np.count_nonzero(cond, axis=1)
    count = cond[:, 0].astype(np.intp)
    for j in range(1, cond.shape[1]):
        np.add(count, cond[:, j], out=count)
    return count


def _sorted_desc(w: np.ndarray) -> np.ndarray:
    return np.sort(w, axis=1)[:, ::-1]


def _sparsemax_tau(w: np.ndarray) -> np.ndarray:
    """τ per row (kept dims), the same operations as ``sparse_kernel.sparsemax_rows``."""
    ys = _sorted_desc(w)
    cs = _row_cumsum(ys)
    cs -= 1
    k = np.arange(1, w.shape[1] + 1, dtype=np.float64)
    support = _row_count(k * ys > cs)
    rows = np.arange(w.shape[0])
    return (cs[rows, support - 1] / support)[:, None]


def _entmax15_tau(w: np.ndarray) -> np.ndarray:
    """τ per row (kept dims), the same operations as ``sparse_kernel.entmax15_rows``."""
    ys = _sorted_desc(w)
    k = np.arange(1, w.shape[1] + 1, dtype=np.float64)
    mean = _row_cumsum(ys) / k
    mean_sq = _row_cumsum(ys * ys) / k
    ss = k * (mean_sq - mean * mean)
    delta = (1 - ss) / k
    np.maximum(delta, 0.0, out=delta)  # equal to where(delta > 0, delta, 0): no NaN here
    tau = mean - np.sqrt(delta)
    support = _row_count(tau <= ys)
    return tau[np.arange(w.shape[0]), support - 1][:, None]


def _powers(d: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(d^q, d^(q−1)) with 0 where d = 0 (the support's terms of F and of −F'/q)."""
    if q == 1.0:
        return d, (d > 0).astype(np.float64)
    if q == 2.0:
        return d * d, d
    if q > 1.0:
        dq1 = np.power(d, q - 1.0)  # 0 stays 0
    else:
        dq1 = np.zeros_like(d)
        np.power(d, q - 1.0, out=dq1, where=d > 0)
    return dq1 * d, dq1


def _row_sums(a: np.ndarray) -> np.ndarray:
    """Sums along rows, added left to right.

    The running sum does not change when a 0 is added, so a row's sum is the same whatever
    entries off the support (floor padding, far candidates) its matrix holds: the result does
    not depend on the block's width class, on the route (candidates or whole row) nor on the
    input dtype. (NumPy's pairwise ``sum`` groups terms by the row length.)
    """
    return np.cumsum(a, axis=1)[:, -1]


def _entmax_tau(w: np.ndarray, alpha: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """τ per row (kept dims) of α-entmax on W by Newton's method on ‖[y − τ]_+‖_q = 1,
    and the iterations each row used.

    Bracket: F(τ) = Σ [y − τ]_+^q is ≥ 1 at τ = −1 (the maximum is 0) and ≤ 1 at
    τ = −(1/n)^(α−1) (at most n entries, each exceeding τ by at most −τ).
    """
    q = 1.0 / (alpha - 1.0)
    r = w.shape[0]
    lo = np.full(r, -1.0)
    hi = np.full(r, max(-1.0, -((1.0 / n) ** (alpha - 1.0))))
    tau = lo.copy()
    iters = np.zeros(r, dtype=np.int64)
    active = np.arange(r)
    # For α ≤ 2 (q ≥ 1) H is a q-norm of convex functions of τ, hence convex: from the left
    # end Newton rises monotonically to the root and never leaves the bracket. For α > 2 it
    # may bend either way: as in rtsafe, a Newton step must at least halve the previous move,
    # else the bracket is bisected.
    convex = alpha <= 2.0
    moved = np.full(r, np.inf)
    # F is known to a few ulps (one rounding per term and the sum): once it is that close to 1
    # the root is found to the precision the data allow.
    f_tol = 4.0 * _EPS * (2.0 + math.log2(n))
    for it in range(1, _MAX_NEWTON + 1):
        ta, la, ha = tau[active], lo[active], hi[active]
        wa = w if active.size == r else w[active]
        d = wa - ta[:, None]
        np.maximum(d, 0.0, out=d)
        dq, dq1 = _powers(d, q)
        f = _row_sums(dq)
        s1 = _row_sums(dq1)
        above = f >= 1.0
        la = np.where(above, ta, la)
        ha = np.where(above, ha, ta)
        # Newton on H = F^(1/q): τ + (H − 1)/(F^(1/q − 1) S1) = τ + (F − F^(1 − 1/q))/S1.
        with np.errstate(all="ignore"):
            step = (f - f ** (1.0 - 1.0 / q)) / s1
            new = ta + step
        inside = (new >= la) & (new <= ha) & np.isfinite(new)
        if not convex:
            inside &= np.abs(step) <= 0.5 * moved[active]
        new = np.where(inside, new, 0.5 * (la + ha))
        move = np.abs(new - ta)
        scale = 2.0 * _EPS * np.abs(ta)
        done = (move <= scale) | (ha - la <= scale) | (np.abs(f - 1.0) <= f_tol)
        if convex:
            # From the left F ≥ 1 in exact arithmetic: F ≤ 1 means τ is at the root to within
            # rounding, and a step left would only follow the noise.
            at_root = f <= 1.0
            done |= at_root
            new = np.where(at_root, ta, new)
        tau[active] = new
        lo[active], hi[active], moved[active] = la, ha, move
        iters[active] = it
        active = active[~done]
        if active.size == 0:
            break
    return tau[:, None], iters


def _finish(w: np.ndarray, tau: np.ndarray, method: str, alpha: float) -> np.ndarray:
    """Probabilities on W from τ (kept dims)."""
    d = w - tau
    np.maximum(d, 0.0, out=d)
    if method == "sparsemax":
        return d
    if method == "entmax15":
        return d * d
    p, _ = _powers(d, 1.0 / (alpha - 1.0))
    if p is d:
        p = d.copy()
    p /= _row_sums(p)[:, None]  # renormalised, as by the generic bisection
    return p


# Rows at most this long are sorted by a sorting network over the columns (_network_tau).
# Measured on 2e6 float32 entries (1.5-entmax / sparsemax): 2.1× / 2.1× faster than np.sort
# at 3 entries, 1.2-1.4× at 6-8, about even at 10-12, slower at 16.
_NETWORK = 10


@functools.cache
def _network(n: int) -> tuple[tuple[int, int], ...]:
    """Batcher's merge-exchange sorting network for ``n`` keys (Knuth, TAOCP 5.2.2, Algorithm
    M): the comparator pairs ``(i, j)``, ``i < j``, in order."""
    pairs: list[tuple[int, int]] = []
    t = max(1, math.ceil(math.log2(n)))
    p = 1 << (t - 1)
    while p > 0:
        q, r, d = 1 << (t - 1), 0, p
        while d > 0:
            pairs += [(i, i + d) for i in range(n - d) if i & p == r]
            d, q, r = q - p, q // 2, p
        p //= 2
    return tuple(pairs)


def _network_tau(w: np.ndarray, method: str) -> np.ndarray:
    """τ per row (kept dims) of sparsemax or 1.5-entmax on a narrow W, bit for bit the τ of
    :func:`_sparsemax_tau` / :func:`_entmax15_tau`.

    NumPy sorts a short row at about 30 ns of set-up per row, whatever its length; a sorting
    network over the columns of ``Wᵀ`` sorts every row at once with elementwise maxima and
    minima (exact, and no NaN reaches here), so the sorted rows are the same numbers. The
    cumulative sums then run over the sorted columns left to right, as ``np.cumsum`` does,
    and every other step is the same elementwise operation on the same operands.
    """
    r, n = w.shape
    cols = list(w.T.copy())  # n rows of r: W's columns, contiguous (a copy: sorted in place)
    spare = np.empty(r)
    for i, j in _network(n):  # descending: the larger value to the lower index
        np.maximum(cols[i], cols[j], out=spare)
        np.minimum(cols[i], cols[j], out=cols[j])
        cols[i], spare = spare, cols[i]
    count = np.zeros(r, dtype=np.intp)
    rows = np.arange(r)
    if method == "sparsemax":
        cs = np.empty((n, r))
        np.copyto(cs[0], cols[0])
        for k in range(1, n):
            np.add(cs[k - 1], cols[k], out=cs[k])
        cs -= 1
        for k in range(n):
            count += (k + 1.0) * cols[k] > cs[k]
        return (cs[count - 1, rows] / count)[:, None]
    total = np.empty(r)
    total_sq = np.empty(r)
    mean = np.empty(r)
    work = np.empty(r)
    taus = np.empty((n, r))
    for k in range(n):
        col = cols[k]
        kk = k + 1.0
        np.multiply(col, col, out=work)
        if k:
            total += col
            total_sq += work
        else:
            np.copyto(total, col)
            np.copyto(total_sq, work)
        # mean, mean_sq, ss = k (mean_sq − mean²), delta = (1 − ss)/k as in _entmax15_tau
        np.divide(total, kk, out=mean)
        np.divide(total_sq, kk, out=work)
        delta = taus[k]
        np.multiply(mean, mean, out=delta)
        np.subtract(work, delta, out=delta)
        delta *= kk
        np.subtract(1, delta, out=delta)
        delta /= kk
        np.maximum(delta, 0.0, out=delta)
        np.sqrt(delta, out=delta)
        np.subtract(mean, delta, out=delta)  # τ_k
        count += delta <= col
    return taus[count - 1, rows][:, None]


def _solve_narrow(w: np.ndarray, method: str, alpha: float, n: int) -> np.ndarray:
    """:func:`_solve_matrix` of a block of whole narrow rows (the probabilities only)."""
    if method in ("sparsemax", "entmax15") and 1 < w.shape[1] <= _NETWORK:
        tau = _network_tau(w, method)
        return _finish(w, tau, method, alpha)
    return _solve_matrix(w, method, alpha, n)[0]


def _solve_matrix(w: np.ndarray, method: str, alpha: float,
                  n: int) -> tuple[np.ndarray, np.ndarray | None]:
    if method == "sparsemax":
        return _finish(w, _sparsemax_tau(w), method, alpha), None
    if method == "entmax15":
        return _finish(w, _entmax15_tau(w), method, alpha), None
    tau, iters = _entmax_tau(w, alpha, n)
    return _finish(w, tau, method, alpha), iters


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------


class _Job:
    """One call: 2-D rows in, probabilities out, block by block."""

    def __init__(self, x2: np.ndarray, out_dtype: np.dtype, temp: Temperature,
                 t_rows: np.ndarray | None, alpha: float, method: str, n_iter: int,
                 stats: Stats | None) -> None:
        self.x2 = x2
        self.n = x2.shape[1]
        self.out2 = np.empty(x2.shape, dtype=out_dtype)
        self.temp = temp
        self.t_rows = t_rows
        self.t = float(temp.value) if temp.kind == "scalar" else None
        self.alpha = alpha
        self.method = method
        self.n_iter = n_iter
        self.stats = stats

    def _generic(self, rows: np.ndarray, r0: int) -> np.ndarray:
        """The generic solver on the rows ``rows`` (indices within the block at ``r0``)."""
        x = self.x2[r0 + rows].astype(np.float64)
        temp = self.temp
        if self.t_rows is not None:
            temp = Temperature("array", self.t_rows[r0 + rows][:, None])
        prep = Prepared(_fast._namespace(), x, np.dtype(np.float64), np.dtype(np.float64))
        return sparse_kernel.solve(prep, (1,), temp, None, self.alpha, self.method, self.n_iter)

    def _scaled(self, v: np.ndarray, m: np.ndarray, t: np.ndarray | float | None) -> np.ndarray:
        """y = (α − 1)((x − m)/T) in float64, floored at −2: the generic solvers' operations."""
        y = np.subtract(v, m, dtype=np.float64)
        if t is not None:
            y /= t
        if self.alpha != 2.0:
            y *= self.alpha - 1.0
        np.maximum(y, _FLOOR, out=y)
        return y

    def block(self, r0: int, r1: int) -> None:
        with np.errstate(all="ignore"):
            self._block(r0, r1)

    def _block(self, r0: int, r1: int) -> None:
        x = self.x2[r0:r1]
        dst = self.out2[r0:r1]
        rows, n = x.shape
        m = _row_max(x).astype(np.float64)
        special = ~np.isfinite(m)  # NaN, +inf, or nothing admissible
        t: Any = self.t
        if self.t_rows is not None:
            t = self.t_rows[r0:r1]
            special |= (t == 0) | (t == math.inf)
            t = np.where(special, 1.0, t)
        if n <= _NARROW and self.stats is None:
            self._narrow(x, dst, m, special, t, r0)
            return
        # Candidates: y > −1 ⇔ x > m − T/(α − 1) (up to rounding, covered by the margin).
        width = (1.0 if t is None else t) / (self.alpha - 1.0)
        thr = m - width * (1.0 + 1e-7) - np.spacing(np.abs(m))
        thr = np.where(special, np.nan, thr)
        thr_in = thr.astype(x.dtype)
        thr_in = np.where(thr_in > thr, np.nextafter(thr_in, x.dtype.type(-np.inf)), thr_in)
        cand = x >= thr_in[:, None]
        counts = np.count_nonzero(cand, axis=1)
        dst[...] = 0
        iters_all: list[np.ndarray] = []

        normal = ~special
        # Width class of each row, from its own candidate count alone (batch invariance).
        widths = np.maximum(_MIN_WIDTH, 1 << np.ceil(np.log2(np.maximum(counts, 1))).astype(int))
        widths[special] = 0
        widths[normal & (2 * widths >= n)] = n  # most of the row: solve the row itself
        scalar_t = not isinstance(t, np.ndarray)

        for wdt in np.unique(widths[normal]).tolist():
            idx = np.flatnonzero(widths == wdt)
            whole = idx.size == rows
            tt = t if scalar_t else t[idx][:, None]
            if wdt == n:
                xs = x if whole else x[idx]
                w = self._scaled(xs, m[idx][:, None], tt)
                p, it = _solve_matrix(w, self.method, self.alpha, n)
                if whole:
                    dst[...] = p
                else:
                    dst[idx] = p
            else:
                li, cc = np.nonzero(cand if whole else cand[idx])
                cnt = counts[idx]
                starts = np.cumsum(cnt) - cnt
                rank = np.arange(li.size) - starts[li]
                tv = tt if scalar_t else tt[li, 0]
                w = np.full((idx.size, wdt), _FLOOR)
                w[li, rank] = self._scaled(x[idx[li], cc], m[idx][li], tv)
                p, it = _solve_matrix(w, self.method, self.alpha, n)
                dst[idx[li], cc] = p[li, rank]
            if it is not None:
                iters_all.append(it)

        generic = np.flatnonzero(special)
        if generic.size:
            dst[generic] = self._generic(generic, r0)
        if self.stats is not None:
            iters = np.concatenate(iters_all) if iters_all else None
            self.stats.add(counts[normal], iters, int(generic.size))

    def _narrow(self, x: np.ndarray, dst: np.ndarray, m: np.ndarray, special: np.ndarray,
                t: Any, r0: int) -> None:
        """A block of narrow rows (at most :data:`_NARROW` entries): every row solved whole,
        without the candidate pass. Gathering a few candidates out of ten costs more than
        sorting the ten, and the threshold does not depend on the route (the padding only
        follows the support), so the result is the candidate route's bit for bit."""
        if not special.any():
            w = self._scaled(x, m[:, None], t if not isinstance(t, np.ndarray) else
                             t[:, None])
            dst[...] = _solve_narrow(w, self.method, self.alpha, self.n)
            return
        dst[...] = 0
        idx = np.flatnonzero(~special)
        if idx.size:
            tt = t if not isinstance(t, np.ndarray) else t[idx][:, None]
            w = self._scaled(x[idx], m[idx][:, None], tt)
            dst[idx] = _solve_narrow(w, self.method, self.alpha, self.n)
        generic = np.flatnonzero(special)
        dst[generic] = self._generic(generic, r0)

    def run(self) -> np.ndarray:
        nrows = self.x2.shape[0]
        per = max(1, _BLOCK // max(self.n, 1))
        spans = [(i, min(nrows, i + per)) for i in range(0, nrows, per)]
        nthreads = _fast.num_threads()
        if self.x2.size >= _fast._PARALLEL_MIN and len(spans) > 1 and nthreads > 1:
            groups = [spans[i::nthreads] for i in range(nthreads)]
            work: list[Callable[[], None]] = [
                (lambda g=g: [self.block(a, b) for a, b in g]) for g in groups if g
            ]
            futures = [_fast._executor().submit(w) for w in work]
            for f in futures:
                f.result()
        else:
            for a, b in spans:
                self.block(a, b)
        return self.out2


def solve(prep: Prepared, axes: tuple[int, ...], temp: Temperature, mask: Any, alpha: float,
          method: str, n_iter: int, stats: Stats | None = None) -> np.ndarray | None:
    """The map on the fast path, in the input layout (float64 for non-native output dtypes),
    or None when the fast path does not cover the call."""
    if method not in METHODS or (method == "bisect" and n_iter < _FULL_BISECTION):
        return None
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 1.0:
        return None  # e.g. one α per row: the generic solver's
    if not isinstance(prep.raw, np.ndarray) or temp.kind not in ("one", "scalar", "array"):
        return None
    canon = _fast._canonical(prep, axes, temp, mask)
    if canon is None:
        return None
    flat, restore = canon
    t_rows = None
    if temp.kind == "array":
        t_rows = _fast._canonical_temperature(temp.value, axes, flat.shape[:-1])
        if t_rows is None:
            return None
    out_dtype = np.dtype(prep.out_dtype)
    if out_dtype not in _fast._NATIVE:
        out_dtype = np.dtype(np.float64)
    x2 = flat.reshape(-1, flat.shape[-1])
    res = _Job(x2, out_dtype, temp, t_rows, alpha, method, n_iter, stats).run()
    return restore(res.reshape(flat.shape), False)


def profile(x: np.ndarray, *, alpha: float, method: str = "bisect",
            temperature: float = 1.0) -> dict[str, float]:
    """Counters of the fast path on ``x`` (last axis): candidates per row, Newton iterations.

    For benchmarks and diagnostics; ``method`` is ``"sparsemax"``, ``"entmax15"`` or
    ``"bisect"`` (general α). Candidates are the entries within T/(α − 1) of their row's
    maximum; only they can be in the support.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 2.0, 10.0], [0.0, 0.1, 0.2, 0.3]])
    >>> stats = profile(x, alpha=1.5)
    >>> stats["mean_candidates"], stats["max_iterations"]
    (2.5, 4)
    """
    from softmaxkit._base.core import setup

    prep = setup("entmax", x, axis=-1, temperature=temperature)
    axes, temp, mask = prep.axes, prep.temp, prep.mask
    stats = Stats()
    if solve(prep, axes, temp, mask, alpha, method, _FULL_BISECTION, stats) is None:
        raise ValueError("profile: the fast path does not cover this input")
    return stats.as_dict()
