"""The errors of :mod:`softmaxkit.io`: a problem with a file the user gave.

Every error names the file, and where it can the 1-based data row and the column, so that the
command line can print one line that points at the cause. :class:`InputError` is the family;
:class:`BadRecordError` (also a :class:`ValueError`) is a record that cannot be read and
:class:`MissingFileError` (also a :class:`FileNotFoundError`) an input that does not exist.

The messages say what is wrong with the file and never name an option of a command (this
package does not know which command reads it). Where the user has a way out, the error
carries a :attr:`InputError.reason` (one of :data:`REASONS`) and the command line adds the
advice its own options allow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REASONS", "BadRecordError", "InputError", "MissingFileError"]

# What a caller may do about an error, by its ``reason``:
#   "missing"     a missing value (empty CSV cell, Parquet null) read with na="error"
#   "overflow"    a number beyond the float64 range ('1e999') read with overflow="error"
#   "text-output" a text value written to a .npy output (numbers only)
#   "delimiter"   a CSV that looks separated by ``detail`` (e.g. ';'), not by the delimiter
#   "read"        the file could not be read or decompressed (truncated, corrupt, I/O error)
#   "output"      the output location cannot be written (missing directory, a directory, ...)
#   "same-file"   the output is the input file itself
REASONS = ("missing", "overflow", "text-output", "delimiter", "read", "output", "same-file")


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
        What is wrong (no advice naming a command's options; see ``reason``).
    reason : str, optional
        Machine-readable cause, one of :data:`REASONS`, for callers that can offer a way
        out (the command line turns it into a hint built from the command's own options);
        None when there is nothing more to say.
    detail : str, optional
        What goes with ``reason``: for ``"delimiter"`` the separator the file seems to use.

    Examples
    --------
    >>> err = BadRecordError("x.csv", 2, "b", "missing value", reason="missing")
    >>> str(err), err.reason
    ('x.csv: row 2, column b: missing value', 'missing')
    >>> str(err.shifted(100))
    'x.csv: row 102, column b: missing value'
    """

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        message: str,
        *,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        self.reason = reason
        self.detail = detail
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

    def shifted(self, offset: int) -> InputError:
        """The same error (same class, reason and detail) with its row moved by ``offset``:
        a row counted within a block becomes a row of the file. Without a row, ``self``."""
        if self.row is None:
            return self
        return _rebuild(
            type(self),
            self.file,
            self.row + offset,
            self.column,
            self.message,
            self.reason,
            self.detail,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self.file, self.row, self.column, self.message, self.reason, self.detail),
        )


def _rebuild(
    cls: type[InputError],
    file: str,
    row: int | None,
    column: str | None,
    message: str,
    reason: str | None,
    detail: str | None,
) -> InputError:
    return cls(file, row, column, message, reason=reason, detail=detail)


class BadRecordError(InputError, ValueError):
    """A record that cannot be read: non-numeric or missing cell, wrong number of fields."""


class MissingFileError(InputError, FileNotFoundError):
    """The input file does not exist."""
