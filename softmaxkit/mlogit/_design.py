"""Design-matrix coercion: X and y as the fit reads them.

X (a NumPy array, a pandas or polars DataFrame) becomes a C-contiguous float64 design matrix
with an intercept column first when fitted with one, and its parameter names; y becomes an
array of labels, its sorted distinct categories and each row's category code; ``base`` becomes
a position among the categories. Every check names what is wrong and where: the row and
column of a non-finite feature, the first missing label, a non-numeric column, a rank-deficient
design. The same checks serve the row chunks of a Dask fit (``_dask``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.arrays import first_index
from softmaxkit._base.errors import position
from softmaxkit._base.tables import frame_kind as _frame_kind
from softmaxkit._base.tables import plain_label as _plain
from softmaxkit.mlogit._blocks import _block_rows, _Data, _gram, _page_release, _scratch_rows

_FN = "MultinomialLogit"


def _label_text(label: Any) -> str:
    """A label as the messages and the summary show it."""
    return str(_plain(label))


@dataclass
class _Design:
    """X as a design matrix."""

    x: np.ndarray  # (n, p) float64, intercept column first when fitted with one
    names: list[str]  # p parameter names
    frame_names: list[str] | None  # the input frame's column names, if X was a frame


def _dask_kind(obj: Any) -> str | None:
    """``"array"``, ``"frame"`` or ``"series"`` for a Dask collection, else None (without
    importing Dask when it is not loaded)."""
    import sys

    if not type(obj).__module__.startswith("dask."):
        return None
    if "dask.array" in sys.modules:
        import dask.array as da

        if isinstance(obj, da.Array):
            return "array"
    if "dask.dataframe" in sys.modules:
        import dask.dataframe as dd

        if isinstance(obj, dd.DataFrame):
            return "frame"
        if isinstance(obj, dd.Series):
            return "series"
    return None




def _check_frame_dtypes(names: Sequence[str], dtypes: Any, kind: str, fn: str) -> None:
    """Numeric (or boolean) columns only: the frame's, or a Dask frame's (pandas dtypes)."""
    if kind == "pandas":
        import pandas as pd  # a pandas (or Dask) frame: pandas is installed

        for name, dtype in zip(names, dtypes, strict=True):
            if pd.api.types.is_complex_dtype(dtype):
                raise TypeError(
                    f"{fn}: X column {name!r} has complex dtype {dtype}; expected real numbers"
                )
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TypeError(
                    f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                    "categorical feature first, e.g. pandas.get_dummies(X, drop_first=True))"
                )
        return
    for name, dtype in zip(names, dtypes, strict=True):
        if not (dtype.is_numeric() or str(dtype) == "Boolean"):
            raise TypeError(
                f"{fn}: X column {name!r} has dtype {dtype}; expected numbers (encode a "
                "categorical feature first, e.g. X.to_dummies(columns, drop_first=True))"
            )


def _frame_to_array(X: Any, kind: str, fn: str) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in X.columns]
    _check_frame_dtypes(names, X.dtypes, kind, fn)
    if kind == "pandas" and all(dtype == np.float64 for dtype in X.dtypes):
        # Plain float64 columns need no missing-value conversion: no copy of a frame that
        # wraps one array (e.g. rows mapped from a file).
        values = X.to_numpy(dtype=np.float64)
    elif kind == "pandas":
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = X.cast({n: float for n in X.columns}).to_numpy()
    return np.asarray(values, dtype=np.float64), names


def _matrix_values(X: Any, fn: str) -> tuple[np.ndarray, list[str] | None]:
    """X as a 2-D float64 array and the frame's column names (no check of the values)."""
    kind = _frame_kind(X)
    if kind is not None:
        values, names = _frame_to_array(X, kind, fn)
    else:
        names = None
        if np.iscomplexobj(X):
            # np.asarray(..., float64) would keep the real part with only a ComplexWarning.
            raise TypeError(
                f"{fn}: X has complex dtype {np.asarray(X).dtype}; expected real numbers "
                "(pass X.real, or the real and imaginary parts as separate features)"
            )
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{fn}: X must be a 2-D array of numbers or a data frame; {exc}") \
                from None
    if values.ndim == 1:
        raise ValueError(
            f"{fn}: X has shape {values.shape}; expected 2-D (n_samples, n_features) — for a "
            "single feature use X.reshape(-1, 1)"
        )
    if values.ndim != 2:
        raise ValueError(f"{fn}: X has shape {values.shape}; expected (n_samples, n_features)")
    return values, names


def _first_nonfinite(values: np.ndarray) -> tuple[int, ...] | None:
    """(row, column) of the first non-finite value of a 2-D array, or None; in blocks of rows,
    so that the check holds one block's flags (and, for rows mapped from a file, one block of
    the rows) in memory at a time."""
    n, p = values.shape
    rows = _block_rows(p)
    release = _page_release(values)
    for start in range(0, n, rows):
        block = values[start:start + rows]
        # One reduction clears a block of finite values: their sum is finite or ±inf
        # from overflow, which the exact test below then rules out.
        if not np.isfinite(block.sum()):
            found = first_index(np, ~np.isfinite(block))
            if found is not None:
                return (start + found[0], found[1])
        if release is not None:
            release(start, start + block.shape[0])
    return None


def _nonfinite_message(fn: str, row: Any, j: int, names: Sequence[str] | None,
                       value: float) -> str:
    col = repr(names[j]) if names else str(j)
    return (f"{fn}: {position('X', (row, j))} (row {row}, column {col}) is {value}; every "
            "feature value must be finite (drop or impute missing values first)")


def _as_matrix(X: Any, fn: str) -> tuple[np.ndarray, list[str] | None]:
    values, names = _matrix_values(X, fn)
    bad = _first_nonfinite(values)
    if bad is not None:
        i, j = bad
        raise ValueError(_nonfinite_message(fn, i, j, names, values[i, j]))
    return np.ascontiguousarray(values), names


def _label_values(y: Any) -> tuple[np.ndarray, str, int | None]:
    """Labels as an array, the series' name (or ``"y"``), and the first missing label's
    position (None, NaN in an object array, a null of a pandas/polars series), or None."""
    name = "y"
    kind = type(y).__module__.split(".")[0]
    if kind in ("pandas", "polars") and hasattr(y, "to_numpy"):
        if getattr(y, "name", None) not in (None, ""):
            name = str(y.name)
        if kind == "pandas":
            missing = np.asarray(y.isna())
        else:
            missing = np.asarray(y.is_null().to_numpy())
        if missing.any():
            return np.asarray(y.to_numpy()), name, int(np.argmax(missing))
        y = y.to_numpy()
    labels = np.asarray(y)
    if labels.dtype.kind == "O":
        for i, v in enumerate(labels.ravel()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return labels, name, i
    return labels, name, None


def _as_labels(y: Any, n: int, fn: str) -> tuple[np.ndarray, str]:
    labels, name, missing = _label_values(y)
    if missing is not None:
        raise ValueError(f"{fn}: y[{missing}] is missing; every observation needs a category")
    if labels.ndim != 1:
        raise ValueError(f"{fn}: y has shape {labels.shape}; expected 1-D (n_samples,)")
    if labels.shape[0] != n:
        raise ValueError(f"{fn}: y has {labels.shape[0]} labels but X has {n} rows")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        i = int(np.argmax(np.isnan(labels)))
        raise ValueError(f"{fn}: y[{i}] is NaN; every observation needs a category")
    _check_label_dtype(labels, fn)
    return labels, name


def _check_label_dtype(labels: np.ndarray, fn: str) -> None:
    if labels.dtype.kind not in "biufUSO":
        raise TypeError(f"{fn}: y has dtype {labels.dtype}; expected integer or string labels")


def _sorted_labels(labels: np.ndarray, fn: str, **kwargs: Any) -> Any:
    """``np.unique(labels, **kwargs)``, with labels that cannot be ordered reported as such."""
    try:
        return np.unique(labels, **kwargs)
    except TypeError as exc:
        raise TypeError(
            f"{fn}: the labels of y cannot be sorted ({exc}); use labels of one type"
        ) from None


def _param_names(frame_names: Sequence[str] | None, p_in: int, fit_intercept: bool) -> list[str]:
    """The parameters' names: ``"const"`` first with an intercept, then the frame's column
    names, else ``x1``, ``x2``, ... (statsmodels' names)."""
    names = list(frame_names) if frame_names else [f"x{j + 1}" for j in range(p_in)]
    return ["const", *names] if fit_intercept else names


def _with_intercept(values: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """The design rows: a column of ones first with an intercept, C-contiguous. Rows mapped
    from a file (a :class:`numpy.memmap`) give a design in an unnamed temporary file, built
    block by block: the fit then holds one block of them in memory at a time."""
    release = _page_release(values) if values.flags.c_contiguous else None
    if release is None:
        if fit_intercept:
            values = np.hstack([np.ones((values.shape[0], 1)), values])
        return np.ascontiguousarray(values)
    if not fit_intercept:
        return values
    n, p = values.shape
    design = _scratch_rows(n, p + 1)
    out = _page_release(design)
    rows = _block_rows(p + 1)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        design[start:stop, 0] = 1.0
        design[start:stop, 1:] = values[start:stop]
        release(start, stop)
        if out is not None:
            out(start, stop)
    return design


def _design_matrix(X: Any, fit_intercept: bool, fn: str) -> _Design:
    """X in memory as the checked design matrix and its parameter names."""
    values, frame_names = _as_matrix(X, fn)
    names = _param_names(frame_names, values.shape[1], fit_intercept)
    return _Design(_with_intercept(values, fit_intercept), names, frame_names)


def _fitted_columns(X: Any, names_in: Sequence[str], fn: str) -> Any:
    """The columns a model was fitted on, selected by name from a (pandas, polars or Dask)
    frame ``X`` in the fitted order."""
    missing = [c for c in names_in if c not in [str(v) for v in X.columns]]
    if missing:
        raise ValueError(f"{fn}: X lacks the fitted column(s) {missing}")
    return X[list(names_in)]


def _check_gram(gram: np.ndarray, names: Sequence[str], fit_intercept: bool) -> None:
    """Raise when a column is all zeros or the columns are linearly dependent (from XᵀX)."""
    p = gram.shape[0]
    d = np.sqrt(np.diag(gram))
    zero = np.flatnonzero(d == 0)
    if zero.size:
        raise ValueError(
            f"{_FN}.fit: X column {names[zero[0]]!r} is all zeros; its coefficients are not "
            "identified (drop it)"
        )
    corr = gram / np.outer(d, d)
    w, v = np.linalg.eigh(corr)
    if w[0] <= 10 * p * np.finfo(np.float64).eps * w[-1]:
        null = np.abs(v[:, 0])
        culprits = [names[j] for j in np.flatnonzero(null > 0.1 * null.max())]
        hint = (" (a constant column duplicates the intercept: drop it, or pass "
                "fit_intercept=False)") if fit_intercept and "const" in culprits else ""
        raise ValueError(
            f"{_FN}.fit: X is rank deficient: the columns {', '.join(map(repr, culprits))} are "
            f"linearly dependent, so their coefficients are not identified{hint}"
        )


def _base_index(base: Any, categories: np.ndarray) -> int:
    """The position of the label ``base`` among the sorted ``categories`` (None: the first)."""
    if base is None:
        return 0
    want = base.item() if isinstance(base, np.generic) else base
    for i, c in enumerate(categories):
        have = c.item() if isinstance(c, np.generic) else c
        # A string never matches a number (base="3" is not the label 3), so say so.
        if isinstance(have, str) == isinstance(want, str) and have == want:
            return i
    shown = ", ".join(repr(_label_text(c)) for c in categories[:20])
    more = f", ... ({categories.shape[0]} in all)" if categories.shape[0] > 20 else ""
    raise ValueError(
        f"{_FN}: base={base!r} is not a label of y; the labels are [{shown}{more}]"
    )


@dataclass
class _Problem:
    """X and y as a fit reads them: the parameters' names, the categories and their counts,
    and the rows — in memory the design matrix and the category codes, else the Dask adapter
    (``_dask._DaskData``, whose first pass brought the counts and ``XᵀX``)."""

    names: list[str]  # p parameter names
    frame_names: list[str] | None  # the input frame's column names, if X was a frame
    yname: str  # the label series' name, or "y"
    categories: np.ndarray  # (K,) sorted distinct labels
    counts: np.ndarray  # (K,) float64 observations per category
    n: int
    rows: Any  # (n, p) design matrix, or the Dask adapter
    codes: np.ndarray | None = None  # (n,) category positions; None for Dask rows
    gram: np.ndarray | None = None  # XᵀX when a pass already summed it

    @property
    def p(self) -> int:
        return len(self.names)

    @property
    def k(self) -> int:
        return int(self.categories.shape[0])

    @property
    def in_memory(self) -> bool:
        return self.codes is not None

    def base_position(self, base: Any, fn: str) -> int:
        """Check that y has at least 2 categories; the position of ``base`` among them."""
        if self.k < 2:
            raise ValueError(
                f"{fn}: y has {self.k} distinct label(s) {list(self.categories)!r}; a "
                "multinomial logit needs at least 2 categories"
            )
        return _base_index(base, self.categories)

    def check_rank(self, fit_intercept: bool) -> None:
        """Raise when X has an all-zero column or linearly dependent columns."""
        gram = _gram(self.rows) if self.gram is None else self.gram
        _check_gram(gram, self.names, fit_intercept)

    def block_data(self) -> Any:
        """The rows as the block sums read them: a :class:`~._blocks._Data` in memory (the
        design in both layouts and ``XᵀY``), else the Dask adapter itself."""
        if self.codes is None:
            return self.rows
        return _Data.of(self.rows, self.codes, self.k)


def _memory_problem(X: Any, y: Any, fit_intercept: bool, fn: str) -> _Problem:
    """X and y in this process, checked: the design matrix, names, categories and codes."""
    if _dask_kind(y) is not None:
        y = y.compute()  # X is in memory, so its labels fit there too
    design = _design_matrix(X, fit_intercept, fn)
    n = design.x.shape[0]
    labels, yname = _as_labels(y, n, fn)
    categories, codes = _sorted_labels(labels, fn, return_inverse=True)
    codes = codes.astype(np.intp)
    counts = np.bincount(codes, minlength=categories.shape[0]).astype(np.float64)
    return _Problem(design.names, design.frame_names, yname, categories, counts, n, design.x,
                    codes)
