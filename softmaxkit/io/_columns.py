"""Column selection: names, shell globs, positions and ranges, resolved to positions."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence

from softmaxkit.io._errors import InputError

__all__ = ["select_columns"]

_INT = re.compile(r"^[+-]?\d+$")
_SLICE = re.compile(r"^([+-]?\d+)?:([+-]?\d+)?$")


def select_columns(
    names: Sequence[str], specs: Sequence[str] | None, *, file: str = ""
) -> list[int]:
    """Resolve column specifications to sorted, distinct column positions.

    Each spec (comma-separated lists are split) is tried, in order, as

    1. an exact column name;
    2. a shell glob (``fnmatch``, case-sensitive) if it contains ``*``, ``?`` or ``[``;
    3. a 0-based position ``3`` (negative counts from the end) or a half-open range
       ``2:5``, ``:5``, ``5:`` (the only way to select columns of a ``.npy`` file, whose
       columns are named ``"0"``, ``"1"``, ...).

    Parameters
    ----------
    names : sequence of str
        The file's column names, in order.
    specs : sequence of str or None
        The specifications; None or empty selects every column.
    file : str
        File name for error messages.

    Returns
    -------
    list of int
        Positions in file order.

    Raises
    ------
    InputError
        If a spec matches nothing or a position is out of range.

    Examples
    --------
    >>> select_columns(["id", "logit_0", "logit_1", "label"], ["logit_*"])
    [1, 2]
    >>> select_columns(["a", "b", "c"], ["c,0"])
    [0, 2]
    >>> select_columns(["0", "1", "2", "3"], ["1:3"])
    [1, 2]
    """
    n = len(names)
    if not specs:
        return list(range(n))
    index = {name: i for i, name in enumerate(names)}
    chosen: set[int] = set()
    tokens: list[str] = []
    for spec in specs:
        tokens.extend([spec] if spec in index else [t.strip() for t in spec.split(",")])
    for tok in tokens:
        if tok == "":
            continue
        if tok in index:
            chosen.add(index[tok])
        elif any(c in tok for c in "*?["):
            hits = [i for i, name in enumerate(names) if fnmatch.fnmatchcase(name, tok)]
            if not hits:
                raise InputError(
                    file, None, tok, f"no column matches; columns are {_preview(names)}"
                )
            chosen.update(hits)
        elif _INT.match(tok):
            i = int(tok)
            if not -n <= i < n:
                raise InputError(file, None, tok, f"position out of range for {n} columns")
            chosen.add(i % n)
        elif m := _SLICE.match(tok):
            start, stop = (int(g) if g is not None else None for g in m.groups())
            hits = list(range(*slice(start, stop).indices(n)))
            if not hits:
                raise InputError(file, None, tok, f"range selects no column of {n}")
            chosen.update(hits)
        else:
            raise InputError(file, None, tok, f"no such column; columns are {_preview(names)}")
    if not chosen:
        raise InputError(file, None, None, "no column selected")
    return sorted(chosen)


def _preview(names: Sequence[str], k: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f", ... ({len(names)} in all)" if len(names) > k else "")
