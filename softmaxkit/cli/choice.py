"""The ``softmaxkit choice`` command: fit a conditional or nested logit and print its summary.

::

    softmaxkit choice FILE [--choice C] [--alternative A] [--group G]
                      [--alternative-vars C ...] [--individual-vars C ...] [--base LABEL]
                      [--nest NAME=ALT1,ALT2 ...] [--weights W] [--no-intercept]
                      [-o TABLE.csv] [--example]

The file (CSV, Parquet or ``.npy``) is in **long format**: one record per choice situation
(``--group``) and available alternative (``--alternative``), ``--choice`` 1 on the chosen
record of each group and 0 on the others; an alternative missing from a group's records is
unavailable to it. ``--alternative-vars`` vary by alternative and get one generic
coefficient each (cost, time); ``--individual-vars`` are constant within a group and get one
coefficient per non-base alternative (income). ``--nest`` makes it a nested logit (RU2), one
dissimilarity ``lambda:<nest>`` per nest of two or more alternatives. The model is
:class:`softmaxkit.ConditionalLogit`; the summary is its ``summary()``.

The numeric columns (choice, variables, weights) are read as numbers: a value that is not
one is refused by the reader with its 1-based data row and column. The alternative and group
columns are read as text: labels that all parse as integers are integers, else strings;
``--base`` and the ``--nest`` members are matched against them as written. Bad data that the
model refuses (:class:`softmaxkit.ChoiceDataError`: a group with no chosen record or two, a
choice outside {0, 1}, a duplicate alternative, a covariate that is not finite, ...) become
one line naming the file, the 1-based data row, the column and the group, exit status 2;
nothing is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.choice import ChoiceDataError, ConditionalLogit
from softmaxkit.cli._args import Text, add_command, delimiter, positive_int, tolerance
from softmaxkit.cli._stream import (
    cli_message,
    column_list,
    ordered_columns,
    warnings_to_stderr,
)
from softmaxkit.mlogit import SeparationError

__all__ = ["NAMES", "TEXTS", "add_parsers", "nest", "run"]

NAMES = ("choice",)

_EXAMPLE = {
    "file": "travelmode.csv",
    "choice": "choice",
    "alternative": "mode",
    "group": "id",
    "alternative_vars": ["gc", "ttme"],
    "individual_vars": ["hinc"],
    "base": "car",
}

# The advice the command gives in its errors.
EXAMPLE_OR_FILE = "give FILE or --example, not both"
REQUIRED = "the following arguments are required: FILE (or --example)"
NO_VARIABLES = "give --alternative-vars or --individual-vars (or both)"
CONF_LEVEL = "--conf-level must be in (0, 1), got {level:g}"
TEXT_TABLE = "-o writes a table with a text column: use .csv or .parquet"
TWO_ROLES = "column {name!r} is given twice (as {first} and {second}); a column has one role"
NOT_A_COLUMN = "no such column (--{option}); columns are {shown}"
NOT_A_BASE = "--base {text!r} is not an alternative; the alternatives are [{shown}]"
NOT_IN_NEST = "--nest {nest}: {text!r} is not an alternative; the alternatives are [{shown}]"
NEST_TWICE = "--nest {nest!r} is given twice; each nest once, with all its alternatives"
MISSING_LABEL = "missing {what} label; every record needs one"
NEST_FORMAT = "expected NAME=ALT1,ALT2,... (a nest name, '=', its alternatives), got {text!r}"

TEXTS = {
    "choice": Text(
        "conditional or nested logit on long-format choice data (summary table)",
        "McFadden's conditional logit by Newton's method; with --nest a nested logit (RU2, "
        "one dissimilarity lambda per nest). One record per choice situation and available "
        "alternative; prints a summary like Biogeme's or R mlogit's.",
        examples=(
            "softmaxkit choice --example",
            "softmaxkit choice --example --nest fly=air --nest ground=train,bus,car",
            "softmaxkit choice trips.csv --choice chosen --alternative mode --group trip "
            "--alternative-vars cost time --individual-vars income --base car -o coef.csv",
        ),
        notes="""\
--example fits Greene's TravelMode data shipped with softmaxkit (210 travellers between
Sydney, Canberra and Melbourne choosing air, train, bus or car; statsmodels' modechoice):
generalised cost gc and terminal time ttme with generic coefficients, household income hinc
with one coefficient per mode, constants, base car. Without --nest it is the conditional
logit; each --nest NAME=... groups alternatives (an alternative in no nest is a nest of its
own; lambda outside (0, 1] is reported with a warning).
""",
        hints=(
            EXAMPLE_OR_FILE, REQUIRED, NO_VARIABLES, CONF_LEVEL, TEXT_TABLE, TWO_ROLES,
            NOT_A_COLUMN, NOT_A_BASE, NOT_IN_NEST, NEST_TWICE, MISSING_LABEL, NEST_FORMAT,
        ),
    ),
}

# The library's messages name its keyword arguments; the command names its options instead
# (longest first where one contains another).
_CLI_WORDS = (
    ("pass fit_intercept=False", "use --no-intercept"),
    ("fit_intercept=False", "--no-intercept"),
    ("alternative_vars", "--alternative-vars"),
    ("individual_vars", "--individual-vars"),
    ("max_iter=", "--max-iter "),
    ("tol=", "--tol "),
    ("base=", "--base "),
)

# The model numbers rows from 0 (positions in the frame); the file's data rows from 1. A
# list of rows is "rows 5, 7"; a number after it with a decimal point ("row 4, 99.0 at ...")
# is a value, not a row.
_ROWS = re.compile(r"\b(rows?:? )(\d+(?![\d.])(?:, \d+(?![\d.]))*)")
# A message that starts with its own row ("row 5 (group 2): ..."): the line already has it.
_OWN_ROW = re.compile(r"^row (\d+) \((group .*?)\)(:|,)? ?")


def nest(text: str) -> tuple[str, tuple[str, ...]]:
    """An argparse type: ``NAME=ALT1,ALT2,...`` → ``(name, (alt, ...))``.

    Examples
    --------
    >>> nest("ground=train,bus,car")
    ('ground', ('train', 'bus', 'car'))
    >>> nest("fly")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected NAME=ALT1,ALT2,... (a nest name, ...), got 'fly'
    """
    name, sep, members = text.partition("=")
    alts = tuple(a.strip() for a in members.split(",") if a.strip())
    if not sep or not name.strip() or not alts:
        raise argparse.ArgumentTypeError(NEST_FORMAT.format(text=text))
    return name.strip(), alts


def add_parsers(sub: Any) -> None:
    """Add the ``choice`` command."""
    ch = add_command(sub, "choice", TEXTS["choice"])
    ch.add_argument("input", nargs="?", metavar="FILE",
                    help="input file in long format (.csv, .csv.gz, .parquet, .pq, .npy)")
    ch.add_argument("--choice", "-y", metavar="C", default=None,
                    help="the column that is 1 on the chosen record of each group, 0 on the "
                    "others (default: choice)")
    ch.add_argument("--alternative", "-a", metavar="A", default=None,
                    help="the column of alternative labels (default: alt; --example: mode)")
    ch.add_argument("--group", "-g", metavar="G", default=None,
                    help="the column naming each choice situation (default: id)")
    ch.add_argument("--alternative-vars", nargs="+", action="extend", metavar="C",
                    help="columns that vary by alternative, one generic coefficient each "
                    "(names, globs or positions; comma lists allowed)")
    ch.add_argument("--individual-vars", nargs="+", action="extend", metavar="C",
                    help="columns constant within a group, one coefficient per non-base "
                    "alternative")
    ch.add_argument("--base", metavar="LABEL",
                    help="the base alternative, whose constant and individual coefficients "
                    "are 0 (default: the first label in sorted order)")
    ch.add_argument("--nest", type=nest, action="append", metavar="NAME=ALT1,ALT2",
                    help="a nest of alternatives (repeat for each nest): a nested logit with "
                    "the dissimilarity lambda:NAME")
    ch.add_argument("--weights", metavar="W", default=None,
                    help="a column of weights, constant within each group")
    ch.add_argument("--no-intercept", action="store_true",
                    help="no alternative-specific constants")
    ch.add_argument("--tol", type=tolerance, default=1e-8,
                    metavar="T", help="stop when the Newton step is below T standard errors "
                    "(default 1e-8)")
    ch.add_argument("--max-iter", type=positive_int, default=100, metavar="N",
                    help="most iterations (default 100)")
    ch.add_argument("--conf-level", type=float, default=0.95, metavar="L",
                    help="confidence level of the intervals (default 0.95)")
    ch.add_argument("-o", "--output", metavar="TABLE",
                    help="also write the coefficient table (param, coef, std_err, z, p_value, "
                    "ci_lower, ci_upper) to a .csv or .parquet file")
    ch.add_argument("--no-header", action="store_true",
                    help="CSV input has no header row (columns 0, 1, ...)")
    ch.add_argument("--delimiter", type=delimiter, default=",", metavar="D",
                    help="CSV field separator (default ','; 'tab' for a tab)")
    ch.add_argument("--example", action="store_true",
                    help="fit the shipped example: Greene's TravelMode data (see below)")
    ch.add_argument("-q", "--quiet", action="store_true", help="no notes on stderr")


def _labels(raw: list[Any]) -> np.ndarray:
    """Text labels → integers if every one is an integer, else strings."""
    texts = [str(v).strip() for v in raw]
    try:
        return np.asarray([int(t) for t in texts], dtype=np.int64)
    except ValueError:
        return np.asarray(texts, dtype=object)


class _Spec:
    """The columns of each role, as resolved against the file's names."""

    def __init__(self, choice: str, alternative: str, group: str, alternative_vars: list[str],
                 individual_vars: list[str], weights: str | None) -> None:
        self.choice, self.alternative, self.group = choice, alternative, group
        self.alternative_vars, self.individual_vars = alternative_vars, individual_vars
        self.weights = weights

    def numeric(self) -> list[str]:
        extra = [self.weights] if self.weights is not None else []
        return [self.choice, *self.alternative_vars, *self.individual_vars, *extra]

    def check_roles(self, path: str) -> None:
        roles = [("--choice", self.choice), ("--alternative", self.alternative),
                 ("--group", self.group),
                 *(("--alternative-vars", c) for c in self.alternative_vars),
                 *(("--individual-vars", c) for c in self.individual_vars)]
        if self.weights is not None:
            roles.append(("--weights", self.weights))
        seen: dict[str, str] = {}
        for option, name in roles:
            if name in seen:
                message = TWO_ROLES.format(name=name, first=seen[name], second=option)
                raise sio.InputError(path, None, name, message)
            seen[name] = option


def _resolve(path: str, args: argparse.Namespace, example: bool) -> _Spec:
    """The roles' columns: the options, the example's defaults, the library's defaults."""
    defaults = _EXAMPLE if example else {"choice": "choice", "alternative": "alt", "group": "id"}
    probe = sio.open_reader(path, header=not args.no_header, delimiter=args.delimiter,
                            passthrough=False)
    names = list(probe.names)
    shown = ", ".join(repr(n) for n in names[:12]) + (" ..." if len(names) > 12 else "")

    def one(option: str) -> str:
        name = getattr(args, option) or defaults[option]
        if name not in names:
            raise sio.InputError(path, None, name, NOT_A_COLUMN.format(option=option,
                                                                       shown=shown))
        return str(name)

    avars, ivars = args.alternative_vars, args.individual_vars
    if example and not avars and not ivars:
        avars, ivars = _EXAMPLE["alternative_vars"], _EXAMPLE["individual_vars"]
    weights = None
    if args.weights is not None:
        if args.weights not in names:
            raise sio.InputError(path, None, args.weights,
                                 NOT_A_COLUMN.format(option="weights", shown=shown))
        weights = args.weights
    spec = _Spec(one("choice"), one("alternative"), one("group"),
                 ordered_columns(names, avars or [], path),
                 ordered_columns(names, ivars or [], path), weights)
    spec.check_roles(path)
    return spec


def _read(path: str, spec: _Spec, args: argparse.Namespace) -> Any:
    """The long-format data as a pandas DataFrame, rows in file order."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the cli extra
        raise ImportError('softmaxkit choice needs pandas: pip install "softmaxkit[cli]"'
                          ) from None
    numeric = spec.numeric()
    reader = sio.open_reader(path, columns=numeric, header=not args.no_header,
                             delimiter=args.delimiter)
    blocks: list[np.ndarray] = []
    raw: dict[str, list[Any]] = {spec.alternative: [], spec.group: []}
    for block in reader:
        blocks.append(block.values)
        for name, values in raw.items():
            values.extend(column_list(block.passthrough[name]))
    x = np.vstack(blocks) if blocks else np.empty((0, len(reader.selected)))
    if x.shape[0] == 0:
        raise sio.InputError(path, None, None, "no records to fit")
    frame = pd.DataFrame({c: x[:, reader.selected.index(c)] for c in numeric})
    for name, what in ((spec.alternative, "alternative"), (spec.group, "group")):
        values = raw[name]
        missing = [i for i, v in enumerate(values) if v is None or str(v).strip() == ""]
        if missing:
            raise sio.BadRecordError(path, missing[0] + 1, name, MISSING_LABEL.format(what=what))
        frame[name] = _labels(values)
    return frame


def _match(text: str, labels: np.ndarray) -> Any:
    """The label written as ``text`` (labels are integers or strings), or None."""
    for label in labels:
        if str(label) == text.strip():
            return label
    return None


def _nests(args: argparse.Namespace, labels: np.ndarray, path: str,
           column: str) -> dict[str, list[Any]] | None:
    if not args.nest:
        return None
    shown = ", ".join(str(v) for v in labels[:20])
    nests: dict[str, list[Any]] = {}
    for name, members in args.nest:
        if name in nests:
            raise sio.InputError(path, None, column, NEST_TWICE.format(nest=name))
        nests[name] = []
        for text in members:
            label = _match(text, labels)
            if label is None:
                message = NOT_IN_NEST.format(nest=name, text=text, shown=shown)
                raise sio.InputError(path, None, column, message)
            nests[name].append(label)
    return nests


def _located(exc: Any, path: str) -> sio.InputError:
    """A :class:`~softmaxkit.ChoiceDataError` as the command's error: the file's 1-based row
    and the column in front, the rows of the message counted from 1 as well."""
    message = cli_message(exc.reason, _CLI_WORDS)
    message = _ROWS.sub(
        lambda m: m.group(1) + ", ".join(str(int(r) + 1) for r in m.group(2).split(", ")),
        message,
    )
    row = None if exc.row is None else int(exc.row) + 1
    own = _OWN_ROW.match(message)
    if own is not None and row is not None and int(own.group(1)) == row:
        # "row 6 (group 2): choice = 2 ..." after "FILE: row 6, column choice: "
        rest = message[own.end():]
        message = f"{own.group(2)}: {rest}" if own.group(3) == ":" else f"{own.group(2)}, {rest}"
    if row is None:
        return sio.InputError(path, None, exc.column, message)
    return sio.BadRecordError(path, row, exc.column, message)


def _table(model: Any, level: float) -> tuple[list[str], list[Any]]:
    ci = np.asarray(model.conf_int(1.0 - level))
    values = [list(model.param_names_), np.asarray(model.params_), np.asarray(model.bse_),
              np.asarray(model.zvalues_), np.asarray(model.pvalues_), ci[:, 0], ci[:, 1]]
    return ["param", "coef", "std_err", "z", "p_value", "ci_lower", "ci_upper"], values


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Fit and print; 0 on success (usage errors exit 2 through ``parser.error``)."""
    if args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_FILE)
        path = str(sio.example_path(_EXAMPLE["file"]))
    else:
        if args.input is None:
            parser.error(REQUIRED)
        if not args.alternative_vars and not args.individual_vars:
            parser.error(NO_VARIABLES)
        path = args.input
    if not 0.0 < args.conf_level < 1.0:
        parser.error(CONF_LEVEL.format(level=args.conf_level))
    output = None if args.output in (None, "-") else args.output
    if output is not None and sio.file_format(output) == "npy":
        parser.error(TEXT_TABLE)
    if sio.file_format(path) == "npy" and not args.quiet:
        print("softmaxkit choice: .npy columns are named 0, 1, ...", file=sys.stderr)

    spec = _resolve(path, args, args.example)
    frame = _read(path, spec, args)
    labels = np.unique(frame[spec.alternative].to_numpy())
    base = _EXAMPLE["base"] if args.example and args.base is None else args.base
    if base is not None:
        matched = _match(base, labels)
        if matched is None:
            shown = ", ".join(str(v) for v in labels[:20])
            raise sio.InputError(path, None, spec.alternative,
                                 NOT_A_BASE.format(text=base, shown=shown))
        base = matched
    model = ConditionalLogit(
        alternative_vars=spec.alternative_vars, individual_vars=spec.individual_vars,
        base=base, nests=_nests(args, labels, path, spec.alternative), weights=spec.weights,
        fit_intercept=not args.no_intercept, tol=args.tol, max_iter=args.max_iter,
    )
    with warnings_to_stderr("choice", _CLI_WORDS):
        try:
            model.fit(frame, choice=spec.choice, alternative=spec.alternative, group=spec.group)
        except ChoiceDataError as exc:
            raise _located(exc, path) from None
        except SeparationError as exc:
            raise sio.InputError(path, None, None, cli_message(str(exc), _CLI_WORDS)) from None
        except (ValueError, TypeError) as exc:
            raise sio.InputError(path, None, None, cli_message(str(exc), _CLI_WORDS)) from None
    print(model.summary(alpha=1.0 - args.conf_level))
    if output is not None:
        cols, values = _table(model, args.conf_level)
        with sio.open_writer(output, cols, delimiter=args.delimiter) as writer:
            writer.write(values)
        if not args.quiet:
            print(f"softmaxkit choice: coefficient table -> {output}", file=sys.stderr)
    return 0
