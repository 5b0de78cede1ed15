r"""Block sums: the row sums behind every Newton pass, accumulated over blocks of rows.

One pass over the rows at the coefficients ``B`` gives the log-likelihood ℓ and, with the
derivatives, the gradient and the information matrix (see :func:`_evaluate`). The
``(n(K−1))²`` matrix of per-row Jacobian blocks is never formed: the information is summed
over blocks of rows as ``blockdiag_k(Xᵀ diag(p_k) X) − AᵀA`` (one BLAS ``syrk`` per block),
so the memory beyond the data is ``O(rows_per_block · p(K−1) + (p(K−1))²)``, about 16 MiB
per block. The same per-block code serves rows in this process (:class:`_Data`) and each row
chunk of a Dask fit (``_dask``), so both engines add up the same :class:`_Sums`.
"""

from __future__ import annotations

import mmap
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit.inverse import base_softmax
from softmaxkit.maps import logsumexp, softmax

# Elements of the per-block work array A (rows × p(K−1)): 2**21 float64 = 16 MiB.
_BLOCK_ELEMENTS = 1 << 21
_MAX_BLOCK_ROWS = 1 << 16


def _block_rows(width: int) -> int:
    """Rows per block for a work array ``width`` columns wide (read at call time, so that
    :data:`_BLOCK_ELEMENTS` can be lowered to test that blocking does not change the sums)."""
    return int(max(256, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // max(1, width))))


def _file_map(a: np.ndarray) -> tuple[np.memmap, int] | None:
    """The shared file mapping behind ``a`` (a :class:`numpy.memmap` opened ``"r"``, ``"r+"``
    or ``"w+"``, or a view of one) and the offset of ``a``'s first byte in it; None for memory
    that is not such a mapping (anonymous memory, or a copy-on-write ``"c"`` map)."""
    base: Any = a
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    if base is None or base.mode not in ("r", "r+", "w+") or not isinstance(
            getattr(base, "_mmap", None), mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    start = a.__array_interface__["data"][0]
    # np.memmap maps from the allocation granule below its offset.
    origin = base.__array_interface__["data"][0] - base.offset % mmap.ALLOCATIONGRANULARITY
    return base, start - origin


def _page_release(a: np.ndarray) -> Callable[[int, int], None] | None:
    """For rows of a shared file mapping (C-contiguous): ``release(r0, r1)`` hands the pages of
    rows ``[r0, r1)`` back to the kernel (``madvise(MADV_DONTNEED)``; the data stay in the
    file and are read again on the next pass), so a pass over a mapped design holds one block
    of it in memory, not all of it. None for other memory (nothing to release)."""
    found = _file_map(a) if a.flags.c_contiguous else None
    if found is None:
        return None
    base, offset = found
    row_bytes = a.strides[0]
    page = mmap.PAGESIZE

    def release(r0: int, r1: int) -> None:
        lo = offset + r0 * row_bytes
        hi = offset + r1 * row_bytes
        lo -= lo % page
        hi -= hi % page  # whole pages only: the next block's first rows stay
        if hi > lo:
            base._mmap.madvise(mmap.MADV_DONTNEED, lo, hi - lo)

    return release


def _scratch_rows(n: int, p: int) -> np.memmap:
    """An ``(n, p)`` float64 work array in an unnamed temporary file (deleted when the array
    is), for a design built from mapped rows: it stays out of memory as its source does."""
    with tempfile.TemporaryFile() as handle:
        handle.truncate(max(1, n * p * 8))
        # The map keeps its own handle on the file: it lives as long as the array.
        return np.memmap(handle, dtype=np.float64, mode="r+", shape=(n, p))


@dataclass
class _State:
    """Log-likelihood, gradient and information at one parameter vector (unpenalised)."""

    llf: float
    grad: np.ndarray | None = None  # (m,), order k*p + j over the non-base categories
    info: np.ndarray | None = None  # (m, m) = −Hessian


def _full_coef(theta: np.ndarray, base: int) -> np.ndarray:
    """(p, K−1) parameters → (p, K) with the base category's zero column inserted."""
    return np.insert(theta, base, 0.0, axis=1)


@dataclass
class _Data:
    """The design in the two layouts the pass needs, the codes, and ``Xᵀ Y`` (fixed)."""

    x: np.ndarray  # (n, p) C-contiguous
    # (p, n) C-contiguous: the Hessian products run along the rows. None for rows mapped from
    # a file: each block is transposed when it is read, so the rows stay out of memory.
    xt: np.ndarray | None
    codes: np.ndarray  # (n,) category positions
    xty: np.ndarray  # (p, K): Σ_i x_i [y_i = k]

    @classmethod
    def of(cls, x: np.ndarray, codes: np.ndarray, k_all: int) -> _Data:
        n, p = x.shape
        release = _page_release(x)
        if release is None:
            xty = np.stack([np.bincount(codes, weights=col, minlength=k_all) for col in x.T])
            return cls(x, np.ascontiguousarray(x.T), codes, xty)
        xty = np.zeros((p, k_all))
        rows = _block_rows(p)
        for start in range(0, n, rows):
            xc = x[start:start + rows]
            cc = codes[start:start + rows]
            xty += np.stack([np.bincount(cc, weights=col, minlength=k_all) for col in xc.T])
            release(start, start + xc.shape[0])
        return cls(x, None, codes, xty)


@dataclass
class _Sums:
    """The row sums of one pass: ℓ's row terms, and with derivatives ``XᵀP`` and the two parts
    of the information (``AᵀA`` and the per-category ``Aᵀ X`` blocks). Partial sums over row
    chunks add up to the sums over all rows."""

    llf: float
    xtp: np.ndarray | None = None  # (p, K)
    outer: np.ndarray | None = None  # (m, m)
    diag: np.ndarray | None = None  # (m, p)

    @classmethod
    def start(cls, llf: float, p: int, k_all: int, derivatives: bool) -> _Sums:
        if not derivatives:
            return cls(llf)
        m = p * (k_all - 1)
        return cls(llf, np.zeros((p, k_all)), np.zeros((m, m)), np.zeros((m, p)))

    def add(self, other: _Sums) -> _Sums:
        self.llf += other.llf
        if self.xtp is not None and other.xtp is not None:
            self.xtp += other.xtp
            self.outer += other.outer
            self.diag += other.diag
        return self


def _accumulate(x: np.ndarray, xt: np.ndarray | None, coef: np.ndarray, base: int,
                acc: _Sums) -> None:
    """Add the row sums of ``x`` (and ``xt = xᵀ``, C-contiguous, or None to transpose each
    block) at ``coef`` to ``acc``, in blocks of rows (the per-block work of :func:`_evaluate`,
    shared by both engines)."""
    n, p = x.shape
    k_all = coef.shape[1]
    nonbase = np.delete(np.arange(k_all), base)
    m = p * (k_all - 1)
    rows = _block_rows(max(m, k_all))
    derivatives = acc.xtp is not None
    release = _page_release(x)
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        r = xc.shape[0]
        eta = xc @ coef
        prob = softmax(eta, axis=-1)
        p_base = prob[:, base]
        if p_base.min() > 0:
            acc.llf += float(np.log(p_base).sum())
        else:
            acc.llf -= float(logsumexp(eta, axis=-1).sum())
        if not derivatives:
            if release is not None:
                release(start, start + r)
            continue
        xtc = xt[:, start:start + r] if xt is not None else np.ascontiguousarray(xc.T)
        acc.xtp += xtc @ prob
        a_t = (prob.T[nonbase][:, None, :] * xtc[None, :, :]).reshape(m, r)
        acc.outer += a_t @ a_t.T  # NumPy hands A·Aᵀ of one array to BLAS syrk
        acc.diag += a_t @ xc
        if release is not None:
            release(start, start + r)


def _evaluate(data: Any, theta: np.ndarray, base: int, *, derivatives: bool) -> _State:
    r"""One pass over the rows in blocks: ℓ, and with ``derivatives`` its gradient and −Hessian.

    Per block, ``P = softmax(X B)`` with the base column of ``B`` zero — exactly
    :func:`~softmaxkit.base_softmax` of the ``K − 1`` free predictors, without the copy that
    inserts the zero. Because the base logit is 0, ``logsumexp(x_i B) = −log p_{ib}``, so

    .. math:: \ell = \sum_i x_i^\top \beta_{y_i} + \sum_i \log p_{ib}
              = \langle X^\top Y, B\rangle + \sum_i \log p_{ib}

    (a block where some ``p_{ib}`` underflows to 0 takes :func:`~softmaxkit.logsumexp`
    instead). The gradient is ``XᵀY − Σ XᵀP``; the information
    ``Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ x_i x_iᵀ`` restricted to the non-base categories is built
    from ``Aᵀ = [p_k ⊙ x_j]_{kj}`` (``p(K−1)`` × rows, so that the products run along the rows)
    as ``blockdiag(Aᵀ X) − AᵀA``.

    ``data`` is a :class:`_Data` (rows in this process) or a ``_dask._DaskData`` (one Dask
    computation whose tasks return the :class:`_Sums` of their row chunks).
    """
    k_all = theta.shape[1] + 1
    p = theta.shape[0]
    coef = _full_coef(theta, base)
    acc = _Sums.start(float(np.sum(data.xty * coef)), p, k_all, derivatives)
    if isinstance(data, _Data):
        _accumulate(data.x, data.xt, coef, base, acc)
    else:
        acc.add(data.sums(coef, base, derivatives))
    if not derivatives:
        return _State(acc.llf)
    info = -acc.outer
    for k in range(k_all - 1):
        sl = slice(k * p, (k + 1) * p)
        info[sl, sl] += acc.diag[sl]
    info = (info + info.T) / 2.0
    g = np.delete(data.xty - acc.xtp, base, axis=1).reshape(-1, order="F")
    return _State(acc.llf, g, info)


def _gram(x: np.ndarray) -> np.ndarray:
    """``XᵀX``, summed over blocks of rows."""
    n, p = x.shape
    gram = np.zeros((p, p))
    rows = _block_rows(p)
    release = _page_release(x)
    for start in range(0, n, rows):
        xc = x[start:start + rows]
        gram += xc.T @ xc
        if release is not None:
            release(start, start + xc.shape[0])
    return gram


def _me_accumulate(rows: np.ndarray, theta: np.ndarray, base: int,
                  feat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums over ``rows`` (design rows) of the marginal effects and of the two parts of their
    derivative with respect to the parameters (see :meth:`MultinomialLogit.marginal_effects`),
    in blocks of rows."""
    p, km1 = theta.shape
    k_all = km1 + 1
    jn = feat.size
    coef = _full_coef(theta, base)  # (p, K)
    nonbase = np.delete(np.arange(k_all), base)
    n = rows.shape[0]
    block = int(max(1, _BLOCK_ELEMENTS // (k_all * k_all * max(jn, p))))
    me = np.zeros((k_all, jn))
    jac1 = np.zeros((k_all, jn, km1, p))
    jac2 = np.zeros((k_all, km1))
    beta = coef[feat].T  # (K, J)
    for start in range(0, n, block):
        xc = rows[start:start + block]
        prob = base_softmax(xc @ theta, axis=-1, base=base)  # (r, K)
        bbar = prob @ beta  # (r, J)
        adev = beta[None, :, :] - bbar[:, None, :]  # (r, K, J)
        me += np.einsum("ik,ikj->kj", prob, adev)
        pm = prob[:, nonbase]  # (r, K−1)
        # term[i,k,j,m] = P_k[(δ_km − P_m) A_kj − P_m A_mj]
        delta = np.zeros((k_all, km1))
        delta[nonbase, np.arange(km1)] = 1.0
        t = (delta[None, :, None, :] - pm[:, None, None, :]) * adev[:, :, :, None]
        t -= pm[:, None, None, :] * adev[:, nonbase, :].transpose(0, 2, 1)[:, None, :, :]
        t *= prob[:, :, None, None]
        jac1 += np.einsum("ikjm,ir->kjmr", t, xc)
        jac2 += np.einsum("ik,ikm->km", prob, delta[None, :, :] - pm[:, None, :])
    return me, jac1, jac2
