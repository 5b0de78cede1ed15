"""The ``inverse`` command: logits back from probabilities, the constant fixed by a gauge.

::

    softmaxkit inverse INPUT [-o OUTPUT] [--gauge center|reference|sum|logsumexp]
                       [--reference K] [--value V] [--temperature T] [--normalize]
                       [--atol A] ...   (row-wise only: logits back from probabilities)

It takes the options of the map commands (:func:`softmaxkit.cli.maps.add_options`) and runs
the same way (:func:`softmaxkit.cli.maps.run_map`), row-wise only, without ``--example``
(the shipped example holds logits; ``softmaxkit softmax --example -o probs.csv`` makes
probabilities of it). ``--temperature`` must be finite and > 0: softmax is not invertible at
T = 0 or T = inf. The output columns hold logits and are named ``logit_*`` (``p_3`` ->
``logit_3``; :func:`softmaxkit.cli.maps.output_name`). A record that is not a probability
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
_INVERTIBLE: Rule = (
    lambda t: 0.0 < t < math.inf,
    "must be finite and > 0 (softmax is not invertible at T = 0 or T = inf)",
)

ROW_ONLY = "inverse works row-wise only (each record is one distribution)"
REFERENCE_RANGE = (
    "--reference {r} is out of range for {k} selected column{s}; "
    "expected an integer in [{lo}, {hi}]"
)
SUM_HINT = "; use --normalize to divide each record by its sum, or a larger --atol"
GREATER_HINT = (
    " (leave out a column that holds no probabilities with --columns, e.g. --columns 'p_*'; "
    "use --normalize for weights or counts)"
)
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
            # The first runs on the output of the first softmax example (the top-level help
            # shows them one after the other): its p_* columns, not the label passed through.
            "softmaxkit inverse probs.csv --columns 'p_*' -o logits.csv",
            "softmaxkit inverse probs.csv --columns 'p_*' --gauge reference --reference 0 "
            "-o log_odds.csv",
            "softmaxkit inverse probs.parquet --columns 'p_*' -T 2 -o logits.parquet",
            "softmaxkit inverse counts.csv --normalize --gauge sum -o logits.csv",
        ),
        notes=_stream.NOTES + maps.naming_note("logit_"),
        hints=(*maps.ROW_HINTS, ROW_ONLY, REFERENCE_RANGE, SUM_HINT, GREATER_HINT, ZERO_REFERENCE),
    ),
}


def add_parsers(sub: Any) -> None:
    """Add ``inverse``: the map commands' options plus the choice of the constant."""
    inv = add_command(sub, "inverse", TEXTS["inverse"])
    maps.add_options(
        inv,
        row_only=True,
        temperature_type=number(float, _INVERTIBLE),
        temperature_help="temperature T, finite and > 0 (default 1): softmax is not "
        "invertible at T = 0 or T = inf",
        example=False,
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
    return maps.run_map(args, parser, _row_function, _checks, prefix="logit_", example=False)


def _checks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.axis != "row":
        parser.error(ROW_ONLY)


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
