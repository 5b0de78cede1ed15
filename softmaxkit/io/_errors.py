"""The errors of :mod:`softmaxkit.io`: a problem with a file the user gave.

Every error names the file, and where it can the 1-based data row and the column, so that the
command line can print one line that points at the cause. :class:`InputError` is the family;
:class:`BadRecordError` (also a :class:`ValueError`) is a record that cannot be read and
:class:`MissingFileError` (also a :class:`FileNotFoundError`) an input that does not exist.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BadRecordError", "InputError", "MissingFileError"]


class InputError(Exception):
    """A problem with a file the user gave: missing, unreadable, or a bad record.

    Parameters
    ----------
    file : str
        The file as the user named it.
    row : int or None
        1-based data row (header not counted), if the problem is in one record.
    column : str or None
        Column name, if the problem is in one column.
    message : str
        What is wrong.
    """

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        loc = []
        if self.row is not None:
            loc.append(f"row {self.row}")
        if self.column is not None:
            loc.append(f"column {self.column}")
        if loc:
            where.append(", ".join(loc))
        return ": ".join([*where, self.message])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.row, self.column, self.message))


class BadRecordError(InputError, ValueError):
    """A record that cannot be read: non-numeric or missing cell, wrong number of fields."""


class MissingFileError(InputError, FileNotFoundError):
    """The input file does not exist."""
