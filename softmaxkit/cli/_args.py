"""Argument types of the command line, and each command's texts built around its own options.

Every numeric option is parsed by a type made by one factory, :func:`number`: the kind
(``int`` or ``float``) and the rules the value must meet, each with the words that say what
is required. Two types are not numbers: :func:`delimiter` (one character, ``tab`` for a tab)
and :func:`kelvin` (a temperature, a list or a scan ``START:STOP:STEP``).

A command's help is a :class:`Text`: its one-line summary, its description, its examples
(whole command lines, each of which parses) and the hints its error messages give. Every
``--option`` these name is an option of that command; ``tests/test_cli_help.py`` checks it
for every command, so no command advertises what it does not have.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "NONNEGATIVE",
    "Rule",
    "Text",
    "add_command",
    "delimiter",
    "integer",
    "kelvin",
    "number",
    "positive_int",
    "temperature",
    "tolerance",
]

# A requirement on a parsed number: the test it must pass, and the words that say so
# ("must be >= 1"); a failure reads "<words>, got '<text>'".
Rule = tuple[Callable[[Any], bool], str]


def number(kind: type[int] | type[float] = float, *rules: Rule) -> Callable[[str], Any]:
    """An argparse type: text -> ``kind``, checked against ``rules`` in order.

    Parameters
    ----------
    kind : int or float
        What the text is parsed as (``int("1.5")`` fails: "not an integer").
    *rules : (test, words)
        Requirements, checked in order; the first that fails is the error, so a rule may
        assume the ones before it held.

    Returns
    -------
    callable
        ``str -> int | float``, raising :class:`argparse.ArgumentTypeError` with the
        message argparse prints after the option's name.

    Examples
    --------
    >>> fraction = number(float, (lambda v: 0 < v < 1, "must be strictly between 0 and 1"))
    >>> fraction("0.25")
    0.25
    >>> fraction("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be strictly between 0 and 1, got '1'
    >>> number(int)("x")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: not an integer: 'x'
    """
    what = "an integer" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        for test, words in rules:
            if not test(value):
                raise argparse.ArgumentTypeError(f"{words}, got {text!r}")
        return value

    return parse


# The types several commands share. NaN fails every comparison, so `v >= 0` also rejects it.
positive_int = number(int, (lambda v: v >= 1, "must be >= 1"))
integer = number(int)
temperature = number(
    float, (lambda t: t >= 0, "must be >= 0 (0 = hardmax limit, inf = uniform limit)")
)
# A finite number >= 0 (a penalty); a tolerance is also not 0, and says so only once the
# first rule held ("must be > 0" would be wrong advice for -1 or inf).
NONNEGATIVE: Rule = (lambda v: math.isfinite(v) and v >= 0, "must be a finite number >= 0")
tolerance = number(float, NONNEGATIVE, (lambda v: v != 0, "must be > 0"))


def delimiter(text: str) -> str:
    """A CSV separator: one character, or ``tab`` (or ``\\t``) for a tab."""
    text = "\t" if text in ("\\t", "tab") else text
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"must be one character (or 'tab'), got {text!r}")
    return text


def kelvin(text: str) -> np.ndarray:
    """Temperatures in kelvin: ``T``, ``T1,T2,...`` or ``START:STOP:STEP`` (STOP included
    when on the grid), each >= 0; at most 100000 of them."""
    try:
        if ":" in text:
            parts = [float(v) for v in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not (math.isfinite(start) and math.isfinite(stop) and step > 0 and stop >= start):
                raise argparse.ArgumentTypeError(
                    f"a scan START:STOP:STEP needs finite START <= STOP and STEP > 0, got {text!r}"
                )
            # The tolerance keeps STOP when rounding puts it a hair past the last step.
            n = math.floor((stop - start) / step + 1e-9) + 1
            if n > 100_000:
                raise argparse.ArgumentTypeError(f"{text!r} has {n} temperatures; at most 100000")
            values = start + step * np.arange(n)
        else:
            values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number, a comma list or START:STOP:STEP (kelvin), got {text!r}"
        ) from None
    bad = ~(values >= 0)
    if bad.any():
        raise argparse.ArgumentTypeError(
            f"temperatures must be >= 0 kelvin, got {values[bad][0]:g} in {text!r}"
        )
    return values


@dataclass(frozen=True)
class Text:
    """What a command says about itself.

    Attributes
    ----------
    summary : str
        One line: the command's entry in ``softmaxkit --help`` and the start of its own.
    description : str
        Follows ``"<name>: <summary>."`` at the top of the command's ``--help`` (after a
        space, or as a paragraph of its own if it starts with a newline).
    examples : tuple of str
        Whole command lines (``softmaxkit <name> ...``, optionally ``> file``); the epilog
        lists them and each must parse.
    notes : str
        The epilog's text after the examples.
    hints : tuple of str
        The advice the command's error messages give (templates, as printed); every
        ``--option`` in them is an option of the command.
    """

    summary: str
    description: str = ""
    examples: tuple[str, ...] = ()
    notes: str = ""
    hints: tuple[str, ...] = ()

    def epilog(self) -> str:
        """The ``--help`` epilog: the examples, then the notes."""
        lines = ["examples:", *(f"  {e}" for e in self.examples)]
        if self.notes:
            lines += ["", self.notes.rstrip("\n")]
        return "\n".join(lines) + "\n"


def add_command(
    sub: Any, name: str, text: Text, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the command ``name`` to the subcommands ``sub``, its help made from ``text``."""
    description = f"{name}: {text.summary}."
    if text.description:
        # A description that starts a paragraph of its own begins with its blank line.
        gap = "" if text.description.startswith("\n") else " "
        description += gap + text.description
    return sub.add_parser(  # type: ignore[no-any-return]
        name,
        parents=list(parents),
        help=text.summary,
        description=description,
        epilog=text.epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
