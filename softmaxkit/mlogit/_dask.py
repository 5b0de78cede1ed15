"""The Dask adapter: a fit, its marginal effects and its predictions on Dask arrays and
DataFrames, with the rows left where Dask keeps them.

X and y are paired as row chunks, one Dask task each. A first pass checks every value and
brings back the categories, their counts, ``XᵀY``, ``XᵀX`` and the column means; every later
pass (one per Newton iteration or line-search trial) is one Dask computation whose tasks
return the small :class:`~._blocks._Sums` of their chunk — the same per-block code as in
memory — added in a tree of fan-in :data:`_SPLIT_EVERY`. Predictions are lazy Dask arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit.inverse import base_softmax
from softmaxkit.mlogit._blocks import _accumulate, _gram, _me_accumulate, _Sums
from softmaxkit.mlogit._design import (
    _FN,
    _as_labels,
    _check_frame_dtypes,
    _check_label_dtype,
    _dask_kind,
    _first_nonfinite,
    _fitted_columns,
    _label_values,
    _matrix_values,
    _nonfinite_message,
    _param_names,
    _Problem,
    _sorted_labels,
    _with_intercept,
)

# Partial results are combined in a tree of this fan-in, so that the process that called
# fit() receives one (m, m) matrix per pass, not one per chunk.
_SPLIT_EVERY = 8


def _tree_compute(parts: list[Any], combine: Any) -> Any:
    """One Dask computation: ``combine`` the delayed per-chunk ``parts`` in a tree; the result.

    ``dask.compute`` runs it on the active ``distributed`` client if there is one, else on
    Dask's default (threaded) scheduler.
    """
    import dask

    merge = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)]
    (out,) = dask.compute(parts[0])
    return out


def _chunk_values(xb: Any, fn: str) -> np.ndarray:
    """A row chunk of X (NumPy block or pandas partition) as float64 values (unchecked)."""
    return _matrix_values(xb, fn)[0]


def _chunk_design(xb: Any, fit_intercept: bool, fn: str, where: tuple[str, int],
                  names: Sequence[str] | None) -> np.ndarray:
    """The design rows of a chunk; a non-finite value raises naming its row: the global row
    (``where = ("offset", first row)``) or, when the chunk's offset is unknown (a Dask
    DataFrame partition), the partition and the row within it."""
    values = _chunk_values(xb, fn)
    bad = _first_nonfinite(values)
    if bad is not None:
        i, j = bad
        if where[0] == "offset":
            raise ValueError(_nonfinite_message(fn, where[1] + i, j, names, values[i, j]))
        col = repr(names[j]) if names else str(j)
        raise ValueError(
            f"{fn}: X row {i} of partition {where[1]}, column {j} ({col}) is {values[i, j]}; "
            "every feature value must be finite (drop or impute missing values first)"
        )
    return _with_intercept(values, fit_intercept)


def _chunk_labels(yb: Any, rows: int, block: int, fn: str) -> tuple[np.ndarray,
                                                                     tuple[int, str] | None]:
    """The labels of a chunk and its first missing one ``(row in chunk, "missing"|"NaN")``."""
    labels, _, missing = _label_values(yb)
    if labels.ndim != 1:
        raise ValueError(f"{fn}: y has shape {labels.shape} in row chunk {block}; expected "
                         "1-D (n_samples,)")
    if labels.shape[0] != rows:
        raise ValueError(
            f"{fn}: row chunk {block} has {rows} rows of X but {labels.shape[0]} labels of y; "
            "X and y must be split into row chunks alike (e.g. columns of one Dask DataFrame)"
        )
    if missing is not None:
        return labels, (missing, "missing")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        return labels, (int(np.argmax(np.isnan(labels))), "NaN")
    _check_label_dtype(labels, fn)
    return labels, None


@dataclass
class _Scan:
    """The one-off statistics of the rows (partial over a run of chunks; they merge)."""

    rows: int
    bad_x: tuple[int, int, float] | None = None  # first non-finite X: (row, column, value)
    bad_y: tuple[int, str] | None = None  # first missing label: (row, "missing"|"NaN")
    labels: np.ndarray | None = None  # sorted distinct labels
    counts: np.ndarray | None = None  # (k,) observations per label
    xty: np.ndarray | None = None  # (p, k): Σ_i x_i [y_i = label]
    gram: np.ndarray | None = None  # (p, p): XᵀX (for the rank check)
    colsum: np.ndarray | None = None  # (p,): Σ_i x_i (for marginal effects at the mean)
    mismatch: tuple[int, int, int] | None = None  # first (chunk, rows of X, labels of y)


def _scan_chunk(xb: Any, yb: Any, block: int, fit_intercept: bool, fn: str) -> _Scan:
    """Pass one over a chunk: checks, its labels and their counts, XᵀY, XᵀX and Σx."""
    values = _chunk_values(xb, fn)
    rows = values.shape[0]
    if len(yb) != rows:  # reported for the first such chunk, whichever task ends first
        return _Scan(rows, mismatch=(block, rows, len(yb)))
    labels, bad_y = _chunk_labels(yb, rows, block, fn)
    bad = _first_nonfinite(values)
    if bad is not None or bad_y is not None:
        # The fit raises naming the first bad row once the chunks' offsets are known.
        bad_x = None if bad is None else (*bad, float(values[bad]))
        return _Scan(rows, bad_x, bad_y)
    x = _with_intercept(values, fit_intercept)
    cats, codes = _sorted_labels(labels, fn, return_inverse=True)
    codes = codes.astype(np.intp)
    k = cats.shape[0]
    xty = np.stack([np.bincount(codes, weights=col, minlength=k) for col in x.T]) \
        if x.shape[1] else np.zeros((0, k))
    return _Scan(rows, None, None, cats, np.bincount(codes, minlength=k).astype(np.float64),
                 xty, _gram(x), x.sum(axis=0))


def _merge_scans(*parts: _Scan) -> _Scan:
    """Merge the scans of consecutive runs of chunks, in row order (first bad rows shifted
    by the rows before them; labels united and their sums added)."""
    out = _Scan(0)
    for s in parts:
        out.mismatch = out.mismatch or s.mismatch
        if out.bad_x is None and s.bad_x is not None:
            out.bad_x = (out.rows + s.bad_x[0], s.bad_x[1], s.bad_x[2])
        if out.bad_y is None and s.bad_y is not None:
            out.bad_y = (out.rows + s.bad_y[0], s.bad_y[1])
        out.rows += s.rows
    if out.bad_x is not None or out.bad_y is not None or out.mismatch is not None:
        return out
    full = [s for s in parts if s.labels is not None and s.labels.size]
    if not full:
        return out
    labels = _sorted_labels(np.concatenate([s.labels for s in full]), f"{_FN}.fit")
    p = full[0].xty.shape[0]
    out.labels = labels
    out.counts = np.zeros(labels.shape[0])
    out.xty = np.zeros((p, labels.shape[0]))
    out.gram = np.zeros((p, p))
    out.colsum = np.zeros(p)
    for s in full:
        pos = np.searchsorted(labels, s.labels)
        out.counts[pos] += s.counts
        out.xty[:, pos] += s.xty
        out.gram += s.gram
        out.colsum += s.colsum
    return out


def _sums_chunk(xb: Any, coef: np.ndarray, base: int, derivatives: bool, fit_intercept: bool,
                err: dict[str, str], fn: str) -> _Sums:
    """One task of a Newton pass: the :class:`_Sums` of a row chunk."""
    # NumPy's error state is per thread: the caller's applies in the worker too.
    with np.errstate(**err):
        x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
        acc = _Sums.start(0.0, coef.shape[0], coef.shape[1], derivatives)
        _accumulate(x, np.ascontiguousarray(x.T), coef, base, acc)
    return acc


def _add_sums(*parts: _Sums) -> _Sums:
    out = _Sums(0.0) if parts[0].xtp is None else _Sums(
        0.0, np.zeros_like(parts[0].xtp), np.zeros_like(parts[0].outer),
        np.zeros_like(parts[0].diag))
    for s in parts:
        out.add(s)
    return out


def _gather_chunk(xb: Any, yb: Any, block: int, categories: np.ndarray, fit_intercept: bool,
                  fn: str) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's design rows and category codes (to gather small data in one process)."""
    x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
    labels, _ = _chunk_labels(yb, x.shape[0], block, fn)
    codes = np.searchsorted(categories, labels).astype(np.intp)
    np.minimum(codes, categories.shape[0] - 1, out=codes)
    if not np.all(categories[codes] == labels):
        raise ValueError(f"{fn}: row chunk {block} of y holds a label that the first pass did "
                         "not see (the data changed between passes)")
    return x, codes


def _concat_pairs(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]))


def _me_chunk(xb: Any, theta: np.ndarray, base: int, feat: np.ndarray, fit_intercept: bool,
              fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One task of the average marginal effects: the sums of a row chunk."""
    x = _with_intercept(_chunk_values(xb, fn), fit_intercept)
    return _me_accumulate(x, theta, base, feat)


def _add_arrays(*parts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.sum([part[i] for part in parts], axis=0) for i in range(len(parts[0])))


class _DaskData:
    """Dask X and y as pairs of row chunks (one Dask task each), with the one-off statistics
    of the first pass. Every later pass is one Dask computation over X's chunks whose tasks
    return small partial sums; the rows never come to this process."""

    def __init__(self, X: Any, y: Any, fit_intercept: bool, fn: str) -> None:
        self.fit_intercept = fit_intercept
        self.fn = fn
        kind = _dask_kind(X)
        lengths: tuple[float, ...] | None
        if kind == "series":
            raise ValueError(f"{fn}: X is a Dask Series (1-D); expected 2-D (n_samples, "
                             "n_features) — for a single feature use X.to_frame()")
        if kind == "array":
            if X.ndim != 2:
                hint = " — for a single feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
                raise ValueError(f"{fn}: X has shape {X.shape}; expected 2-D (n_samples, "
                                 f"n_features){hint}")
            if math.isnan(X.shape[1]):
                raise ValueError(f"{fn}: X has an unknown number of columns; compute its "
                                 "chunk sizes first (X.compute_chunk_sizes())")
            if X.dtype.kind not in "biuf":
                raise TypeError(f"{fn}: X has dtype {X.dtype}; expected a 2-D array of numbers "
                                "or a data frame")
            X = X.rechunk({1: -1})  # whole rows in every chunk
            self.xs = list(X.to_delayed().ravel())
            self.frame_names: list[str] | None = None
            p_in = int(X.shape[1])
            lengths = X.chunks[0] if not any(math.isnan(r) for r in X.chunks[0]) else None
        else:
            names = [str(c) for c in X.columns]
            _check_frame_dtypes(names, X.dtypes, "pandas", fn)
            self.xs = list(X.to_delayed())
            self.frame_names = names
            p_in = len(names)
            lengths = None
        self.names = _param_names(self.frame_names, p_in, fit_intercept)
        self.ys, self.yname = self._split_labels(y, lengths, fn)
        self._scan()

    def _split_labels(self, y: Any, lengths: tuple[float, ...] | None,
                      fn: str) -> tuple[list[Any], str]:
        """y in X's row chunks: a Dask array rechunked like X (when both chunkings are
        known), a Dask Series or array with as many chunks as X, or in-memory labels cut at
        X's chunk boundaries."""
        import dask

        nb = len(self.xs)
        ykind = _dask_kind(y)
        yname = "y"
        if ykind == "frame":
            raise ValueError(f"{fn}: y is a Dask DataFrame; expected 1-D labels (a Dask "
                             "Series or 1-D Dask array)")
        if ykind == "series":
            if y.name not in (None, ""):
                yname = str(y.name)
            if lengths is None:
                if y.npartitions != nb:
                    raise ValueError(
                        f"{fn}: X has {nb} row chunks but y has {y.npartitions} partitions; "
                        "pass X and y as columns of one Dask DataFrame (or partition them alike)"
                    )
                return list(y.to_delayed()), yname
            y = y.to_dask_array(lengths=True)
            ykind = "array"
        if ykind == "array":
            if y.ndim != 1:
                raise ValueError(f"{fn}: y has shape {y.shape}; expected 1-D (n_samples,)")
            if lengths is not None and not math.isnan(y.shape[0]):
                if y.shape[0] != sum(lengths):
                    raise ValueError(f"{fn}: y has {y.shape[0]} labels but X has "
                                     f"{int(sum(lengths))} rows")
                y = y.rechunk((tuple(int(r) for r in lengths),))
            elif y.numblocks[0] != nb:
                raise ValueError(
                    f"{fn}: X has {nb} row chunks but y has {y.numblocks[0]}; pass X and y "
                    "split into row chunks alike"
                )
            return list(y.to_delayed().ravel()), yname
        if lengths is None:  # in-memory labels: cut them where X's chunks end
            lengths = tuple(dask.compute(*[dask.delayed(len)(xb) for xb in self.xs]))
        n = int(sum(lengths))
        labels, yname = _as_labels(y, n, fn)
        stops = np.cumsum([int(r) for r in lengths])
        return [labels[a:b] for a, b in zip(np.r_[0, stops[:-1]], stops, strict=True)], yname

    def _scan(self) -> None:
        import dask

        fn = self.fn
        task = dask.delayed(_scan_chunk, pure=True)
        scan = _tree_compute(
            [task(xb, yb, i, self.fit_intercept, fn)
             for i, (xb, yb) in enumerate(zip(self.xs, self.ys, strict=True))],
            _merge_scans,
        )
        if scan.mismatch is not None:
            block, rows, labels = scan.mismatch
            raise ValueError(
                f"{fn}: row chunk {block} has {rows} rows of X but {labels} labels of y; X and "
                "y must be split into row chunks alike (e.g. columns of one Dask DataFrame)"
            )
        if scan.bad_x is not None:
            i, j, value = scan.bad_x
            raise ValueError(_nonfinite_message(fn, i, j, self.frame_names, value))
        if scan.bad_y is not None:
            i, what = scan.bad_y
            raise ValueError(f"{fn}: y[{i}] is {what}; every observation needs a category")
        self.n = scan.rows
        p = len(self.names)
        if scan.labels is None:  # no rows
            scan.labels, scan.counts = np.array([]), np.zeros(0)
            scan.xty, scan.gram, scan.colsum = np.zeros((p, 0)), np.zeros((p, p)), np.zeros(p)
        self.categories = scan.labels
        self.counts = scan.counts
        self.xty = scan.xty
        self.gram = scan.gram
        self.colmean = scan.colsum / max(1, self.n)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, len(self.names)

    def sums(self, coef: np.ndarray, base: int, derivatives: bool) -> _Sums:
        """One Newton pass: the :class:`_Sums` of all rows at ``coef`` (one computation)."""
        import dask

        task = dask.delayed(_sums_chunk, pure=True)
        err = np.geterr()
        return _tree_compute(
            [task(xb, coef, base, derivatives, self.fit_intercept, err, self.fn)
             for xb in self.xs],
            _add_sums,
        )

    def gather(self) -> tuple[np.ndarray, np.ndarray]:
        """All design rows and codes in this process (for the separation test, small data)."""
        import dask

        task = dask.delayed(_gather_chunk, pure=True)
        return _tree_compute(
            [task(xb, yb, i, self.categories, self.fit_intercept, self.fn)
             for i, (xb, yb) in enumerate(zip(self.xs, self.ys, strict=True))],
            _concat_pairs,
        )

    def me_sums(self, theta: np.ndarray, base: int,
                feat: np.ndarray) -> tuple[np.ndarray, ...]:
        """The sums over all rows behind the average marginal effects (one computation)."""
        import dask

        task = dask.delayed(_me_chunk, pure=True)
        return _tree_compute(
            [task(xb, theta, base, feat, self.fit_intercept, self.fn) for xb in self.xs],
            _add_arrays,
        )


def _proba_block(block: np.ndarray, theta: np.ndarray, base: int, fit_intercept: bool,
                 fn: str, names: Sequence[str] | None, block_info: Any = None) -> np.ndarray:
    """predict_proba of a chunk of a Dask array (rows numbered from the chunk's offset)."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    x = _chunk_design(block, fit_intercept, fn, ("offset", start), names)
    return base_softmax(x @ theta, axis=-1, base=base)


def _proba_partition(part: Any, theta: np.ndarray, base: int, fit_intercept: bool, fn: str,
                     names: Sequence[str] | None, index: int) -> np.ndarray:
    """predict_proba of a partition of a Dask DataFrame."""
    x = _chunk_design(part, fit_intercept, fn, ("partition", index), names)
    return base_softmax(x @ theta, axis=-1, base=base)


def _argmax_labels(proba: np.ndarray, categories: np.ndarray) -> np.ndarray:
    return categories[np.argmax(proba, axis=1)]


def _dask_problem(X: Any, y: Any, fit_intercept: bool, fn: str) -> _Problem:
    """Dask X and y for a fit: the adapter, with what its first pass found."""
    data = _DaskData(X, y, fit_intercept, fn)
    return _Problem(data.names, data.frame_names, data.yname, data.categories,
                    np.array(data.counts, dtype=np.float64), data.n, data, gram=data.gram)


def _lazy_proba(X: Any, theta: np.ndarray, base: int, fit_intercept: bool, k_all: int,
                names_in: Sequence[str] | None, n_features: int, fn: str) -> Any:
    """Lazy probabilities of a Dask array or DataFrame: one task per row chunk."""
    import dask
    import dask.array as da

    args = (theta, base, fit_intercept, fn)
    kind = _dask_kind(X)
    if kind == "frame":
        if names_in is not None:
            X = _fitted_columns(X, names_in, fn)
        names = [str(c) for c in X.columns]
        _check_frame_dtypes(names, X.dtypes, "pandas", fn)
        if len(names) != n_features:
            raise ValueError(f"{fn}: X has {len(names)} features; the model was fitted "
                             f"with {n_features}")
        task = dask.delayed(_proba_partition, pure=True)
        parts = [da.from_delayed(task(part, *args, names, i), shape=(math.nan, k_all),
                                 dtype=np.float64)
                 for i, part in enumerate(X.to_delayed())]
        return da.concatenate(parts, axis=0)
    if kind != "array" or X.ndim != 2:
        raise ValueError(f"{fn}: X has shape {X.shape}; expected a 2-D Dask array "
                         "(n_samples, n_features) or a Dask DataFrame")
    if X.shape[1] != n_features:
        raise ValueError(f"{fn}: X has {X.shape[1]} features; the model was fitted with "
                         f"{n_features}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: X has dtype {X.dtype}; expected numbers")
    X = X.rechunk({1: -1})
    return X.map_blocks(_proba_block, *args, None, chunks=(X.chunks[0], (k_all,)),
                        dtype=np.float64, meta=np.empty((0, 0)))


def _lazy_labels(proba: Any, categories: np.ndarray) -> Any:
    """The most probable category of each row of lazy probabilities (a lazy Dask array)."""
    return proba.map_blocks(_argmax_labels, categories, drop_axis=1, dtype=categories.dtype,
                            meta=np.empty((0,), dtype=categories.dtype))
