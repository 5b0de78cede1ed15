"""Dask DataFrames partitioned by group: the fit with the data left where Dask keeps them.

Every group must lie within one partition (``ddf.shuffle(on=group)`` or
``set_index(group)`` arranges it). A first computation brings back each partition's
alternative labels and group labels (to check that no group is split); a second reads each
partition into the compact arrays of :class:`~._data._Long` — with every check of the
in-memory fit, the row named within its partition — and keeps them on the workers
(``dask.persist``). Then every pass over the data — each Newton step, each trust-region trial —
is **one** Dask computation whose tasks return the small :class:`~._likelihood._Sums` of
their partition (the same block code as in memory), added in a tree of fan-in
:data:`_SPLIT_EVERY`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmaxkit._base.optional import require
from softmaxkit._base.tables import frame_kind
from softmaxkit.choice._data import (
    _Columns,
    _Long,
    _show,
    _sorted_alternatives,
    _Where,
    read_long,
)
from softmaxkit.choice._likelihood import _Layout, _Sums, add_sums, block_sums

_SPLIT_EVERY = 8
# The separation test gathers the groups into this process only up to this many LP rows.
GATHER_LIMIT = 100_000


def _labels(part: Any, cols: _Columns, index: int, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """A partition's sorted alternative labels and its distinct group labels."""
    where = _Where(fn, index)
    kind = frame_kind(part) or "pandas"
    if cols.alternative not in part.columns or cols.group not in part.columns:
        missing = cols.alternative if cols.alternative not in part.columns else cols.group
        raise where.error("column", f"the data have no column {missing!r}", column=missing)
    alts = part[cols.alternative].to_numpy() if kind == "pandas" else \
        part.get_column(cols.alternative).to_numpy()
    groups = part[cols.group].to_numpy() if kind == "pandas" else \
        part.get_column(cols.group).to_numpy()
    return _sorted_alternatives(np.asarray(alts), cols.alternative, where), np.unique(groups)


def _read(part: Any, cols: _Columns, alternatives: np.ndarray, index: int, fn: str) -> _Long:
    long, _ = read_long(part, cols, alternatives, fn, partition=index)
    return long


def _stats(long: _Long) -> tuple[int, float, np.ndarray, int]:
    """Groups, the equal-shares ℓ, which generic variables vary, and the LP's rows."""
    w = np.ones(long.n_groups) if long.w is None else long.w
    llnull = float(-(w @ np.log(long.avail.sum(axis=1))))
    return long.n_groups, llnull, long.varies, int(long.avail.sum() - long.n_groups)


def _sums(long: _Long, theta: np.ndarray, lay: _Layout, derivatives: bool,
          err: dict[str, str]) -> _Sums:
    with np.errstate(**err):  # NumPy's error state is per thread: carry the caller's
        return block_sums(long, theta, lay, derivatives)


def _concat(*parts: _Long) -> _Long:
    empty = np.zeros(0, dtype=np.intp)
    return _Long(np.concatenate([p.x for p in parts]), np.concatenate([p.z for p in parts]),
                 np.concatenate([p.avail for p in parts]),
                 np.concatenate([p.chosen for p in parts]),
                 None if parts[0].w is None else np.concatenate([p.w for p in parts]),
                 np.concatenate([p.groups for p in parts]), empty, empty, parts[0].varies)


class DaskSource:
    """A Dask DataFrame partitioned by group as a source of block sums."""

    def __init__(self, data: Any, cols: _Columns, fn: str) -> None:
        dask = require("dask", fn=f"{fn}.fit on a Dask DataFrame")
        self.fn = f"{fn}.fit"
        delayed = dask.delayed
        parts = list(data.to_delayed())
        label_tasks = [delayed(_labels, pure=True)(p, cols, i, self.fn)
                       for i, p in enumerate(parts)]
        labels = dask.compute(*label_tasks)
        alternatives = _sorted_alternatives(
            np.concatenate([a for a, _ in labels]), cols.alternative, _Where(self.fn, None))
        seen: dict[Any, int] = {}
        for i, (_, groups) in enumerate(labels):
            for g in groups.tolist():
                if g in seen:
                    reason = (f"group {_show(g)} is split between partitions {seen[g]} and {i}; "
                              "a Dask DataFrame must hold each group in one partition "
                              f"(e.g. data.shuffle(on={cols.group!r}))")
                    from softmaxkit.choice.errors import ChoiceDataError

                    raise ChoiceDataError(f"{self.fn}: {reason}", "partition", reason=reason,
                                          group=g, column=cols.group, partition=i)
                seen[g] = i
        self.alternatives = alternatives
        longs = [delayed(_read, pure=True)(p, cols, alternatives, i, self.fn)
                 for i, p in enumerate(parts)]
        self.longs = list(dask.persist(*longs))
        stats = dask.compute(*[delayed(_stats, pure=True)(lg) for lg in self.longs])
        self.n_groups = sum(s[0] for s in stats)
        self.llnull = float(sum(s[1] for s in stats))
        self.varies = np.logical_or.reduce([s[2] for s in stats])
        self.lp_rows = sum(s[3] for s in stats)
        self.passes = 0  # Dask computations run by sums(): one per pass over the data

    def sums(self, theta: np.ndarray, lay: _Layout, derivatives: bool) -> _Sums:
        """One pass over all partitions: one Dask computation."""
        import dask

        task = dask.delayed(_sums, pure=True)
        merge = dask.delayed(add_sums, pure=True)
        err = np.geterr()
        parts = [task(lg, theta, lay, derivatives, err) for lg in self.longs]
        while len(parts) > 1:
            parts = [merge(*parts[i:i + _SPLIT_EVERY])
                     for i in range(0, len(parts), _SPLIT_EVERY)]
        (out,) = dask.compute(parts[0])
        self.passes += 1
        return out

    def gather(self) -> _Long | None:
        """All groups in this process (for the separation LP), or None when too many."""
        if self.lp_rows > GATHER_LIMIT:
            return None
        import dask

        return _concat(*dask.compute(*self.longs))
