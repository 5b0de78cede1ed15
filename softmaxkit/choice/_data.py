"""Long-format choice data as the fit reads them: one row per (group, available alternative).

A frame (pandas or polars; a Dask DataFrame partition is a pandas frame) becomes the compact
arrays of :class:`_Long`: the generic covariates ``x`` (groups × alternatives × variables), the
individual covariates ``z`` (groups × variables), the availability mask, the chosen
alternative of each group, the weights, and where every input row went (so that predictions
come back aligned with the input rows). An alternative missing from a group's rows is
unavailable to it: its ``x`` entries are 0 and masked out of every softmax.

Every refusal names the group, and the row and column where there is one
(:class:`~softmaxkit.choice.ChoiceDataError`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit._base.tables import frame_kind, plain_label
from softmaxkit.choice.errors import ChoiceDataError

_FN = "ConditionalLogit"


def _show(label: Any) -> str:
    """A label as messages and tables show it: ``1.0`` as ``1``, strings as they are."""
    v = plain_label(label)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _is_dask_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Dask DataFrame (without importing Dask when it is not loaded)."""
    if not type(obj).__module__.startswith("dask") or "dask.dataframe" not in sys.modules:
        return False
    import dask.dataframe as dd

    return isinstance(obj, dd.DataFrame)


@dataclass(frozen=True)
class _Columns:
    """Which columns of the long frame hold what."""

    choice: str | None  # None when reading data for prediction
    alternative: str
    group: str
    alternative_vars: tuple[str, ...]
    individual_vars: tuple[str, ...]
    weights: str | None


@dataclass
class _Long:
    """Compact arrays of long-format data: groups × alternatives."""

    x: np.ndarray  # (G, J, a) generic covariates, 0 where unavailable
    z: np.ndarray  # (G, q) individual covariates
    avail: np.ndarray  # (G, J) bool
    chosen: np.ndarray | None  # (G,) alternative position of the chosen row
    w: np.ndarray | None  # (G,) weights, or None (all 1)
    groups: np.ndarray  # (G,) group labels, in order of first appearance
    row_group: np.ndarray  # (n,) group position of each input row
    row_alt: np.ndarray  # (n,) alternative position of each input row
    varies: np.ndarray  # (a,) bool: generic variable not constant within some group

    @property
    def n_groups(self) -> int:
        return int(self.avail.shape[0])

    def block(self, start: int, stop: int) -> _Long:
        """The groups ``start:stop`` (views; the row maps are not carried)."""
        empty = np.zeros(0, dtype=np.intp)
        return _Long(self.x[start:stop], self.z[start:stop], self.avail[start:stop],
                     None if self.chosen is None else self.chosen[start:stop],
                     None if self.w is None else self.w[start:stop],
                     self.groups[start:stop], empty, empty, self.varies)


class _Where:
    """Builds the refusals of one read: the method name and, for Dask, the partition."""

    def __init__(self, fn: str, partition: int | None) -> None:
        self.fn = fn
        self.partition = partition

    def row(self, r: int) -> str:
        return f"row {r}" if self.partition is None else \
            f"row {r} of partition {self.partition}"

    def error(self, kind: str, reason: str, *, group: Any = None, row: int | None = None,
              column: str | None = None) -> ChoiceDataError:
        return ChoiceDataError(f"{self.fn}: {reason}", kind, reason=reason,
                               group=None if group is None else plain_label(group), row=row,
                               column=column, partition=self.partition)


def _column(data: Any, name: str, kind: str, where: _Where, role: str) -> np.ndarray:
    """One column of a pandas or polars frame as a NumPy array."""
    if name not in list(data.columns):
        shown = ", ".join(repr(str(c)) for c in list(data.columns)[:20])
        raise where.error("column", f"the data have no column {name!r} (the {role}); its "
                          f"columns are {shown}", column=name)
    col = data.get_column(name) if kind == "polars" else data[name]
    values = col.to_numpy()
    if kind == "pandas" and values.dtype == object and hasattr(col, "isna"):
        # Nullable pandas dtypes (Int64, Float64) come back as objects with pd.NA.
        if col.dtype.kind in "iufb":
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values)


def _numeric(values: np.ndarray, name: str, where: _Where, groups: np.ndarray,
             row_group: np.ndarray) -> np.ndarray:
    """A covariate column as float64; the first NaN/inf (or non-number) names its row."""
    if values.dtype.kind in "biuf":
        out = values.astype(np.float64, copy=False)
    else:
        try:
            out = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            out = None
        if out is None:
            for r, v in enumerate(values):
                try:
                    float(v)
                except (TypeError, ValueError):
                    raise where.error(
                        "nonfinite", f"{where.row(r)} (group {_show(groups[row_group[r]])}), "
                        f"column {name!r} is {v!r}, not a number; every covariate must be a "
                        "finite number", group=groups[row_group[r]], row=r, column=name
                    ) from None
    bad = ~np.isfinite(out)
    if bad.any():
        r = int(np.argmax(bad))
        raise where.error(
            "nonfinite", f"{where.row(r)} (group {_show(groups[row_group[r]])}), column "
            f"{name!r} is {out[r]}; every covariate must be finite (drop or impute missing "
            "values first)", group=groups[row_group[r]], row=r, column=name)
    return out


def _factorize(values: np.ndarray, name: str, where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """Distinct labels in order of first appearance, and each row's position among them."""
    if values.dtype.kind == "f" and np.isnan(values).any():
        r = int(np.argmax(np.isnan(values)))
        raise where.error("group", f"{where.row(r)}: the group label (column {name!r}) is "
                          "missing; every row needs its group", row=r, column=name)
    if values.dtype == object:
        missing = [r for r, v in enumerate(values) if v is None or v != v]
        if missing:
            r = missing[0]
            raise where.error("group", f"{where.row(r)}: the group label (column {name!r}) "
                              "is missing; every row needs its group", row=r, column=name)
    try:
        uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    except TypeError:  # labels of mixed types: compare them as text
        uniq, first, inverse = np.unique(values.astype(str), return_index=True,
                                         return_inverse=True)
        uniq = values[first]
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return uniq[order], rank[inverse.ravel()].astype(np.intp)


def _sorted_alternatives(values: np.ndarray, name: str, where: _Where) -> np.ndarray:
    """The sorted distinct alternative labels of a column."""
    missing = np.isnan(values) if values.dtype.kind == "f" else (
        np.array([v is None or v != v for v in values], dtype=bool)
        if values.dtype == object else np.zeros(values.shape[0], dtype=bool))
    if missing.any():
        r = int(np.argmax(missing))
        raise where.error("alternative", f"{where.row(r)}: the alternative (column {name!r}) "
                          "is missing", row=r, column=name)
    try:
        return np.unique(values)
    except TypeError:
        raise where.error("alternative", f"the alternative column {name!r} mixes labels of "
                          "different types; use one type (all strings or all numbers)",
                          column=name) from None


def _alternative_codes(values: np.ndarray, alternatives: np.ndarray, name: str,
                       where: _Where) -> np.ndarray:
    """Each row's position among the (sorted) alternatives; an unknown label names its row."""
    try:
        codes = np.searchsorted(alternatives, values)
    except TypeError:
        codes = np.zeros(values.shape[0], dtype=np.intp)
    codes = np.minimum(codes, alternatives.shape[0] - 1).astype(np.intp)
    hit = alternatives[codes] == values
    if not np.all(hit):
        r = int(np.argmin(hit))
        known = ", ".join(repr(plain_label(a)) for a in alternatives)
        raise where.error("alternative", f"{where.row(r)}: alternative {plain_label(values[r])!r} "
                          f"(column {name!r}) is not one of the model's alternatives "
                          f"({known})", row=r, column=name)
    return codes


def _choice_values(values: np.ndarray, name: str, where: _Where, groups: np.ndarray,
                   row_group: np.ndarray) -> np.ndarray:
    """The choice column as booleans; a value other than 0/1 names its row and group."""
    if values.dtype.kind == "b":
        return values.astype(bool)
    ok = np.zeros(values.shape[0], dtype=bool)
    numeric = values.dtype.kind in "iuf"
    if numeric:
        ok = (values == 0) | (values == 1)
    else:
        for r, v in enumerate(values):
            ok[r] = isinstance(v, bool | int | float | np.bool_ | np.integer | np.floating) \
                and (v == 0 or v == 1)
    if not ok.all():
        r = int(np.argmin(ok))
        g = groups[row_group[r]]
        raise where.error(
            "choice", f"{where.row(r)} (group {_show(g)}): choice = {plain_label(values[r])!r} "
            f"(column {name!r}) is not 0 or 1; the chosen alternative of each group has 1, "
            "the others 0", group=g, row=r, column=name)
    return np.asarray(values == 1, dtype=bool)


def _rows_of(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5])
    return shown + (", ..." if rows.size > 5 else "")


def read_long(data: Any, cols: _Columns, alternatives: np.ndarray | None, fn: str, *,
              partition: int | None = None, need_two: bool = True) -> tuple[_Long, np.ndarray]:
    """Read and check long-format data; returns the compact arrays and the alternatives.

    ``alternatives`` None: they are the sorted distinct labels of the data (a fit); else the
    fitted ones (a prediction, or a Dask partition), and an unknown label is refused.
    ``cols.choice`` None reads data for prediction (no choice column, no choice checks).
    """
    where = _Where(fn, partition)
    kind = frame_kind(data)
    if kind is None:
        raise TypeError(f"{fn}: data must be a pandas or polars DataFrame (or a Dask "
                        f"DataFrame partitioned by group) in long format, got "
                        f"{type(data).__name__}")
    gvals = _column(data, cols.group, kind, where, "group column")
    groups, row_group = _factorize(gvals, cols.group, where)
    avals = _column(data, cols.alternative, kind, where, "alternative column")
    if alternatives is None:
        alternatives = _sorted_alternatives(avals, cols.alternative, where)
    row_alt = _alternative_codes(avals, alternatives, cols.alternative, where)
    n_groups, n_alt = groups.shape[0], alternatives.shape[0]
    choice = None
    if cols.choice is not None:
        choice = _choice_values(_column(data, cols.choice, kind, where, "choice column"),
                                cols.choice, where, groups, row_group)
    flat = row_group * n_alt + row_alt
    counts = np.bincount(flat, minlength=n_groups * n_alt)
    if (counts > 1).any():
        cell = int(np.argmax(counts > 1))
        rows = flat == cell
        g = groups[cell // n_alt]
        first = int(np.argmax(rows))
        raise where.error(
            "duplicate", f"group {_show(g)} has {int(counts[cell])} rows for alternative "
            f"{plain_label(alternatives[cell % n_alt])!r} (rows {_rows_of(rows)}); each "
            "alternative appears at most once per group", group=g, row=first,
            column=cols.alternative)
    avail = (counts > 0).reshape(n_groups, n_alt)
    chosen = None
    if choice is not None:
        per_group = np.bincount(row_group, weights=choice, minlength=n_groups)
        if (per_group == 0).any():
            gi = int(np.argmax(per_group == 0))
            rows = row_group == gi
            raise where.error(
                "no-choice", f"group {_show(groups[gi])} has no chosen row (choice is 0 on all "
                f"its {int(rows.sum())} rows: {_rows_of(rows)}); each group needs exactly one "
                "row with choice 1", group=groups[gi], row=int(np.argmax(rows)),
                column=cols.choice)
        if (per_group > 1).any():
            gi = int(np.argmax(per_group > 1))
            rows = (row_group == gi) & choice
            raise where.error(
                "two-choices", f"group {_show(groups[gi])} has {int(per_group[gi])} chosen rows "
                f"(rows {_rows_of(rows)}); each group needs exactly one row with choice 1",
                group=groups[gi], row=int(np.flatnonzero(rows)[1]), column=cols.choice)
        chosen = np.zeros(n_groups, dtype=np.intp)
        chosen[row_group[choice]] = row_alt[choice]
    if need_two:
        n_avail = avail.sum(axis=1)
        if (n_avail == 1).any():
            gi = int(np.argmax(n_avail == 1))
            r = int(np.argmax(row_group == gi))
            raise where.error(
                "one-alternative", f"group {_show(groups[gi])} has only one available "
                f"alternative ({plain_label(alternatives[row_alt[r]])!r}, {where.row(r)}); its "
                "choice carries no information: drop the group", group=groups[gi], row=r)
    a, q = len(cols.alternative_vars), len(cols.individual_vars)
    x = np.zeros((n_groups, n_alt, a))
    varies = np.zeros(a, dtype=bool)
    for k, name in enumerate(cols.alternative_vars):
        values = _numeric(_column(data, name, kind, where, "alternative variable"), name,
                          where, groups, row_group)
        x[row_group, row_alt, k] = values
        # Constant within every group ⟺ each group's max equals its min.
        hi = np.full(n_groups, -np.inf)
        lo = np.full(n_groups, np.inf)
        np.maximum.at(hi, row_group, values)
        np.minimum.at(lo, row_group, values)
        varies[k] = bool((hi > lo).any())
    z = np.zeros((n_groups, q))
    for k, name in enumerate(cols.individual_vars):
        values = _numeric(_column(data, name, kind, where, "individual variable"), name,
                          where, groups, row_group)
        first = np.zeros(n_groups)
        first[row_group[::-1]] = values[::-1]  # the group's first row wins
        differs = values != first[row_group]
        if differs.any():
            r = int(np.argmax(differs))
            gi = row_group[r]
            r0 = int(np.argmax(row_group == gi))
            raise where.error(
                "individual-varies", f"individual variable {name!r} takes different values "
                f"within group {_show(groups[gi])} ({plain_label(values[r0])!r} at "
                f"{where.row(r0)}, {plain_label(values[r])!r} at {where.row(r)}); an individual "
                "variable is constant within each group (one that varies by alternative belongs in "
                "alternative_vars)", group=groups[gi], row=r, column=name)
        z[:, k] = first
    w = None
    if cols.weights is not None:
        values = _column(data, cols.weights, kind, where, "weights column")
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise where.error("weight", f"the weights column {cols.weights!r} holds values "
                              "that are not numbers", column=cols.weights) from None
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            r = int(np.argmax(bad))
            g = groups[row_group[r]]
            raise where.error(
                "weight", f"{where.row(r)} (group {_show(g)}): weight {values[r]} (column "
                f"{cols.weights!r}) must be a finite number >= 0", group=g, row=r,
                column=cols.weights)
        w = np.zeros(n_groups)
        w[row_group[::-1]] = values[::-1]
        differs = values != w[row_group]
        if differs.any():
            r = int(np.argmax(differs))
            g = groups[row_group[r]]
            raise where.error(
                "weight", f"the weight (column {cols.weights!r}) differs within group "
                f"{_show(g)} ({where.row(r)}); a weight belongs to a choice situation, so it "
                "is constant within its group", group=g, row=r, column=cols.weights)
    return _Long(x, z, avail, chosen, w, groups, row_group, row_alt, varies), alternatives


def check_identified(varies: np.ndarray, names: Sequence[str], fn: str) -> None:
    """Refuse a generic variable that is constant within every group: it adds the same
    amount to every alternative's utility, cancels in the softmax, and has no estimate."""
    for k, name in enumerate(names):
        if not varies[k]:
            reason = (f"alternative variable {name!r} is constant within every group, so its "
                      "generic coefficient is not identified (it adds the same amount to every "
                      "alternative's utility, which the softmax cancels); pass it in "
                      "individual_vars to give each alternative its own coefficient")
            raise ChoiceDataError(f"{fn}: {reason}", "not-identified", reason=reason,
                                  column=name)
