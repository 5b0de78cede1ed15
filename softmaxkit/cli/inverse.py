"""The ``inverse`` command: logits back from probabilities, the constant fixed by a gauge.

::

    softmaxkit inverse INPUT [-o OUTPUT] [--gauge center|reference|sum|logsumexp]
                       [--reference K] [--value V] [--temperature T] [--normalize]
                       [--atol A] ...   (row-wise only: logits back from probabilities)

It takes the options of the map commands (:func:`softmaxkit.cli.maps.add_options`) and runs
the same way (:func:`softmaxkit.cli.maps.run_map`). A record that is not a probability
vector is an error naming its row and column, with the option that would accept it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit._base.errors import InvalidProbabilityError
from softmaxkit.cli import _stream, maps
from softmaxkit.cli._args import Rule, Text, add_command, integer, number
from softmaxkit.inverse import GAUGES, inverse_softmax

__all__ = ["NAMES", "TEXTS", "add_parsers", "run"]

NAMES = ("inverse",)

_SUMMARY = "logits x_i = T log p_i + c of each record of probabilities, c fixed by --gauge"

_FINITE: Rule = (math.isfinite, "must be finite")

NO_EXAMPLE = "the example holds logits; inverse takes probabilities"
ROW_ONLY = "inverse works row-wise only (each record is one distribution)"
REFERENCE_RANGE = (
    "--reference {r} is out of range for {k} selected column{s}; "
    "expected an integer in [{lo}, {hi}]"
)
SUM_HINT = "; use --normalize to divide each record by its sum, or a larger --atol"
GREATER_HINT = " (use --normalize for weights or counts)"
ZERO_REFERENCE = (
    "probability 0 in the reference column: its logit would be -inf; use "
    "--gauge center, or a --reference column that is positive in every record"
)

TEXTS = {
    "inverse": Text(
        _SUMMARY,
        "Row-wise only; zeros map to -inf. Rows must sum to 1 (within --atol) unless "
        "--normalize.",
        examples=(
            "softmaxkit inverse probs.csv --gauge reference --reference 0 -o log_odds.csv",
            "softmaxkit inverse probs.parquet --columns 'p_*' -T 2 -o logits.parquet",
            "softmaxkit inverse counts.csv --normalize --gauge sum -o logits.csv",
        ),
        notes=_stream.NOTES,
        hints=(
            *maps.HINTS, NO_EXAMPLE, ROW_ONLY, REFERENCE_RANGE, SUM_HINT, GREATER_HINT,
            ZERO_REFERENCE,
        ),
    ),
}


def add_parsers(sub: Any) -> None:
    """Add ``inverse``: the map commands' options plus the choice of the constant."""
    inv = add_command(sub, "inverse", TEXTS["inverse"])
    maps.add_options(
        inv,
        axis_help="row only (default): each record is one distribution; 'column' is refused",
        temperature_help="temperature T, finite and > 0 (default 1): softmax is not "
        "invertible at T = 0 or T = inf",
        example_help="refused: the shipped example holds logits, inverse takes probabilities",
    )
    inv.add_argument(
        "--gauge",
        choices=GAUGES,
        default="center",
        help="the constant: 'center' = finite logits have mean V (clr, default); "
        "'reference' = the logit of column K is V (alr); 'sum' = finite logits sum to V; "
        "'logsumexp' = T log sum exp(x/T) is V",
    )
    inv.add_argument(
        "--reference",
        type=integer,
        default=0,
        metavar="K",
        help="--gauge reference: position K among the selected columns (negative counts from "
        "the end; default 0)",
    )
    inv.add_argument(
        "--value",
        type=number(float, _FINITE),
        default=0.0,
        metavar="V",
        help="the gauge's value (default 0)",
    )
    inv.add_argument(
        "--normalize",
        action="store_true",
        help="divide each record by its sum first (accepts weights or counts)",
    )
    inv.add_argument(
        "--atol",
        type=number(float, _FINITE, (lambda a: a >= 0, "must be >= 0")),
        default=None,
        metavar="A",
        help="tolerance of |sum - 1| per record (default 4 n eps, n = number of columns)",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``inverse``; return the exit status."""
    return maps.run_map(args, parser, _row_function, _checks)


def _checks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.example:
        parser.error(NO_EXAMPLE)
    if args.axis != "row":
        parser.error(ROW_ONLY)
    if not 0.0 < args.temperature < math.inf:
        parser.error(
            f"inverse needs a finite temperature > 0, got {args.temperature:g}: softmax "
            "is not invertible at T = 0 (hardmax) or T = inf (uniform)"
        )


def _row_function(args: argparse.Namespace, path: str, selected: list[str]) -> Any:
    """The inverse of one block of records; a bad record raises :class:`sio.InputError` with
    its row within the block."""
    k = len(selected)
    if args.gauge == "reference" and not -k <= args.reference < k:
        message = REFERENCE_RANGE.format(r=args.reference, k=k, s="s" * (k != 1), lo=-k, hi=k - 1)
        raise sio.InputError(path, None, None, message)
    mask = args.na == "mask"

    def inverse(values: np.ndarray) -> np.ndarray:
        # --na mask reads missing cells as -inf: excluded entries, which map to -inf.
        where = values != -math.inf if mask else None
        try:
            return inverse_softmax(
                values,
                axis=-1,
                temperature=args.temperature,
                gauge=args.gauge,
                reference=args.reference,
                value=args.value,
                atol=args.atol,
                normalize=args.normalize,
                where=where,
            )
        except InvalidProbabilityError as exc:
            raise _bad_probability(path, selected, 0, exc) from None

    return inverse


def _bad_probability(
    path: str, selected: Sequence[str], start: int, exc: InvalidProbabilityError
) -> sio.InputError:
    """The library's error, located in the file: 1-based data row and column name."""
    row = start + exc.index[0] + 1
    column = None if exc.kind in ("sum", "empty") else selected[exc.index[1]]
    reason = exc.reason
    if exc.kind == "sum":
        reason += SUM_HINT
    elif exc.kind == "greater":
        reason += GREATER_HINT
    elif exc.kind == "reference":
        reason = ZERO_REFERENCE
    return sio.InputError(path, row, column, reason)
