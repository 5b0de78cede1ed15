"""Inputs of the calibration readings: logits read block by block, labels, probabilities.

Logits may be larger than memory: :class:`_Logits` hands them out as ``(N, K)`` float64 blocks
of rows (NumPy arrays in this process, Dask arrays one task per row chunk), so that every pass
of a fit holds a bounded amount of memory. Labels are class indices or one-hot rows, checked
once (NumPy) or chunk by chunk as a pass reads them (Dask). Probabilities for the metrics are
checked to lie on the simplex, so that logits passed by mistake are caught.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from softmaxkit._base.dask import is_dask

__all__ = ["class_indices", "masked_as_excluded", "masked_where"]

# Cells per block of rows: each block holds about five float64 arrays of this size (the
# logits, log-probabilities, probabilities, deviations and a mask), i.e. about 40 MiB.
_BLOCK_CELLS = 1 << 20


def masked_as_excluded(logits: Any) -> Any:
    """A NumPy masked array of logits as float64 with ``-inf`` at its masked entries (an
    excluded class, as ``where=False``: the values under the mask are not read); any other
    input unchanged.

    >>> masked_as_excluded(np.ma.masked_array([[1, 2], [3, 4]], mask=[[0, 1], [0, 0]]))
    array([[  1., -inf],
           [  3.,   4.]])
    """
    if not isinstance(logits, np.ma.MaskedArray):
        return logits
    data = np.ma.getdata(logits)
    hidden = np.ma.getmaskarray(logits)
    if not hidden.any():
        return data
    if data.dtype == bool or not (
        np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.integer)
    ):
        return data  # refused by the caller's dtype check, naming the dtype
    return np.where(hidden, -np.inf, data.astype(np.float64))


def masked_where(logits: Any, binary: bool, where: Any) -> tuple[Any, Any]:
    """``(values, where)`` for a prediction on NumPy masked logits: the plain values and
    ``where`` combined by logical and with "not masked" (for one binary logit per sample, the
    mask is class 1's: the sample's ``(N, 2)`` row ``[True, not masked]``). Any other input
    comes back unchanged."""
    if not isinstance(logits, np.ma.MaskedArray):
        return logits, where
    data = np.ma.getdata(logits)
    keep = ~np.ma.getmaskarray(logits)
    if keep.all():
        return data, where
    if binary:
        keep = keep.reshape(keep.shape[0])
        keep = np.stack([np.ones_like(keep), keep], axis=-1)
    return data, keep if where is None else np.logical_and(np.asarray(where), keep)


class _Logits:
    """Logits viewed as ``(N, K)`` blocks of float64; a single column is the binary ``[0, z]``."""

    def __init__(self, logits: Any, where: Any, fn: str, chunk_rows: int | None) -> None:
        self.fn = fn
        self.lazy = is_dask(logits)
        z = logits if self.lazy else np.asarray(masked_as_excluded(logits))
        if z.dtype == bool or not (
            np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)
        ):
            raise TypeError(f"{fn}: logits must be a real numeric array, got dtype {z.dtype}")
        if z.ndim == 2 and z.shape[1] == 1:
            z = z[:, 0]
        if z.ndim not in (1, 2):
            raise ValueError(
                f"{fn}: logits must be 1-D (binary: one logit per sample) or 2-D "
                f"(samples, classes), got shape {np.shape(logits)}"
            )
        self.binary = z.ndim == 1
        self.z = z
        self.n = int(z.shape[0])
        self.k = 2 if self.binary else int(z.shape[1])
        if self.n == 0:
            raise ValueError(f"{fn}: logits has no samples (shape {np.shape(logits)})")
        if self.k < 2:
            raise ValueError(f"{fn}: logits needs at least 2 classes, got shape {z.shape}")
        self.mask: Any = None
        if where is not None:
            w = where if is_dask(where) else np.asarray(where)
            if w.dtype != bool:
                raise TypeError(f"{fn}: where must be a boolean array, got dtype {w.dtype}")
            if is_dask(w) and not self.lazy:
                raise TypeError(f"{fn}: where is a Dask array but the logits are not")
            try:
                if self.lazy:
                    import dask.array as da

                    self.mask = da.broadcast_to(da.asarray(w), (self.n, self.k))
                else:
                    self.mask = np.broadcast_to(w, (self.n, self.k))
            except ValueError:
                raise ValueError(
                    f"{fn}: where of shape {w.shape} does not broadcast to the logits' "
                    f"(samples, classes) = {(self.n, self.k)}"
                ) from None
        if self.lazy:
            # Row blocks with whole rows: every block is one task of a pass.
            self.z = z.rechunk({1: -1}) if z.ndim == 2 else z
            if self.mask is not None:
                self.mask = self.mask.rechunk((self.z.chunks[0], (self.k,)))
        if chunk_rows is None:
            chunk_rows = max(1, _BLOCK_CELLS // self.k)
        if not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
            raise ValueError(f"{fn}: chunk_rows must be a positive integer, got {chunk_rows!r}")
        self.chunk_rows = int(chunk_rows)

    def blocks(self) -> Any:
        """Yield ``(start, x, mask)``: float64 logits of a block of rows and its mask (or None)."""
        yield from _blocks(self.z, self.mask, self.binary, self.chunk_rows, 0)

    def reduce(self, y: Any, block_fn: Any, *args: Any) -> np.ndarray:
        """``Σ_blocks block_fn(start, x, mask, labels, *args)`` (1-D float64 partial sums).

        NumPy logits are read block by block in this process. Dask logits make one task per
        row chunk (each reads its chunk in blocks of ``chunk_rows``), run by Dask's scheduler
        (a ``distributed`` cluster when a client is active); only the partial sums travel.
        """
        if not self.lazy:
            total: np.ndarray | None = None
            for a, x, m in self.blocks():
                part = block_fn(a, x, m, y[a : a + x.shape[0]], *args)
                total = part if total is None else total + part
            assert total is not None
            return total
        import dask

        reduce_chunk = dask.delayed(_reduce_chunk, pure=True)
        tasks = [
            reduce_chunk(
                block_fn, zb, mb, yb, a, self.binary, self.k, self.chunk_rows, self.fn, args
            )
            for zb, mb, yb, a in self.chunks(y)
        ]
        return np.sum(dask.compute(*tasks), axis=0)

    def chunks(self, y: Any) -> list[tuple[Any, Any, Any, int]]:
        """Dask logits: ``(z, mask, labels, start)`` of each row chunk, as delayed objects
        (the mask None when there is none; NumPy labels sliced to the chunk) — the tasks of
        one pass."""
        rows = self.z.chunks[0]
        starts = np.cumsum((0, *rows[:-1])).tolist()
        zs = self.z.to_delayed().ravel()
        ms = [None] * len(zs) if self.mask is None else self.mask.to_delayed().ravel()
        ys = y.to_delayed().ravel() if is_dask(y) else [
            y[a : a + r] for a, r in zip(starts, rows, strict=True)
        ]
        return list(zip(zs, ms, ys, starts, strict=True))


def _blocks(z: Any, mask: Any, binary: bool, chunk_rows: int, offset: int) -> Any:
    n = int(z.shape[0])
    for a in range(0, n, chunk_rows):
        b = min(a + chunk_rows, n)
        if binary:
            x = np.zeros((b - a, 2))
            x[:, 1] = z[a:b]
        else:
            x = np.array(z[a:b], dtype=np.float64)
        yield offset + a, x, None if mask is None else np.asarray(mask[a:b])


def _reduce_chunk(
    block_fn: Any,
    z: np.ndarray,
    mask: np.ndarray | None,
    y: np.ndarray,
    start: int,
    binary: bool,
    k: int,
    chunk_rows: int,
    fn: str,
    args: tuple[Any, ...],
) -> np.ndarray:
    """One task of a Dask pass: the partial sums of a chunk of rows."""
    y = class_indices(y, int(z.shape[0]), k, fn, offset=start)
    total: np.ndarray | None = None
    for a, x, m in _blocks(z, mask, binary, chunk_rows, start):
        part = block_fn(a, x, m, y[a - start : a - start + x.shape[0]], *args)
        total = part if total is None else total + part
    assert total is not None
    return total


def class_indices(labels: Any, n: int, k: int, fn: str, offset: int = 0) -> np.ndarray:
    """Class indices (int64) from integer labels or one-hot rows (``offset``: the position of
    the first, in messages)."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1 and k != 1:
        y = y[:, 0]
    if y.ndim == 2:
        if y.shape != (n, k):
            raise ValueError(
                f"{fn}: one-hot labels must have shape (samples, classes) = {(n, k)}, "
                f"got {y.shape}"
            )
        ok = ((y == 0) | (y == 1)).all(axis=1) & (np.count_nonzero(y, axis=1) == 1)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(
                f"{fn}: labels[{offset + row}] = {y[row].tolist()} is not one-hot; expected "
                "exactly one 1 and 0 elsewhere"
            )
        return np.argmax(y, axis=1).astype(np.int64)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"{fn}: labels must be {n} class indices or a one-hot ({n}, {k}) array, got "
            f"shape {y.shape}"
        )
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise TypeError(f"{fn}: labels must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{fn}: labels[{offset + i}] = {float(y[i])!r} is not an integer class index"
            )
    yi = y.astype(np.int64)
    bad = (yi < 0) | (yi >= k)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{fn}: labels[{offset + i}] = {yi[i]} is out of range; expected 0..{k - 1}"
        )
    return yi


def _data_labels(labels: Any, data: _Logits, fn: str) -> Any:
    """The labels of ``data``: validated class indices, or, for Dask labels, a Dask array in
    the logits' row chunks (validated chunk by chunk as each pass reads it)."""
    if not is_dask(labels):
        return class_indices(labels, data.n, data.k, fn)
    if not data.lazy:
        raise TypeError(f"{fn}: labels is a Dask array but the logits are not")
    if labels.shape[0] != data.n or labels.ndim not in (1, 2):
        raise ValueError(
            f"{fn}: labels must be {data.n} class indices or a one-hot ({data.n}, {data.k}) "
            f"array, got shape {labels.shape}"
        )
    rows = data.z.chunks[0]
    return labels.rechunk((rows,) if labels.ndim == 1 else (rows, (labels.shape[1],)))


def _probs(probs: Any, labels: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) float64 probabilities and int labels; a 1-D input is P(class 1) of a binary task.

    A NumPy masked array's masked entries are excluded classes, probability 0 (what softmax
    gives them); the rows must still sum to 1."""
    hidden = np.ma.getmaskarray(probs) if isinstance(probs, np.ma.MaskedArray) else None
    p = np.asarray(np.ma.getdata(probs) if hidden is not None else probs)
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise TypeError(f"{fn}: probs must be a real numeric array, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if hidden is not None:
        p = np.where(hidden, 0.0, p)
    if p.ndim == 1:
        p = np.stack([1.0 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"{fn}: probs must be (samples, classes) with at least 2 classes, or 1-D "
            f"P(class 1) of a binary task; got shape {np.shape(probs)}"
        )
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{fn}: probs[{i}, {j}] = {float(p[i, j])!r}; probabilities must be in [0, 1]"
        )
    # Lenient enough for probabilities written with 6 significant digits; catches logits.
    err = np.abs(p.sum(axis=1) - 1.0)
    tol = 1e-4
    if (err > tol).any():
        i = int(np.argmax(err > tol))
        raise ValueError(
            f"{fn}: probs[{i}] sums to {float(p[i].sum())!r}; each row must sum to 1 "
            f"(within {tol:g}) — pass probabilities, e.g. softmax(logits), not logits"
        )
    y = class_indices(labels, p.shape[0], p.shape[1], fn)
    return p, y

