"""The sparse map commands ``sparsemax``, ``entmax15`` and ``entmax``: exact zeros, row-wise.

::

    softmaxkit sparsemax INPUT [-o OUTPUT] [--columns C ...] [--temperature T] ...
    softmaxkit entmax15 ...              (same options)
    softmaxkit entmax ... [--alpha A]    (alpha >= 1: 1 is softmax, 2 is sparsemax)

They take the options of the map commands (:func:`softmaxkit.cli.maps.add_options`) and run
the same way (:func:`softmaxkit.cli.maps.run_map`), but each needs its whole record: they
work row-wise only (``--axis`` is not offered; ``--axis column`` is refused). Their output
columns hold probabilities and are named ``p_*`` (:func:`softmaxkit.cli.maps.output_name`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from softmaxkit.cli import _stream, maps
from softmaxkit.cli._args import Text, add_command
from softmaxkit.sparse import entmax, entmax15, sparsemax

__all__ = ["NAMES", "TEXTS", "add_parsers", "run"]

NAMES = ("sparsemax", "entmax15", "entmax")

ROW_ONLY = "{command} works row-wise only (each record is one distribution)"
ALPHA = "--alpha must be a number >= 1, got {alpha:g}"
_HINTS = (*maps.ROW_HINTS, _stream.EXAMPLE_OR_INPUT, maps.REQUIRED, ROW_ONLY)

TEXTS = {
    "sparsemax": Text(
        "Euclidean projection of x/T onto the simplex (exact zeros), per record",
        "Row-wise only.",
        examples=(
            "softmaxkit sparsemax --example -o sparse.csv",
            "softmaxkit sparsemax scores.parquet --columns 'score_*' -T 0.5 -o sparse.parquet",
        ),
        notes=_stream.NOTES + maps.naming_note("p_"),
        hints=_HINTS,
    ),
    "entmax15": Text(
        "1.5-entmax of x/T (exact, sort-based; exact zeros), per record",
        "Row-wise only.",
        examples=(
            "softmaxkit entmax15 --example -o p.csv",
            "softmaxkit entmax15 logits.npy --columns 0:10 -o p.npy",
        ),
        notes=_stream.NOTES + maps.naming_note("p_"),
        hints=_HINTS,
    ),
    "entmax": Text(
        "alpha-entmax of x/T by bisection (--alpha; 1 = softmax, 2 = sparsemax), per record",
        "Row-wise only.",
        examples=(
            "softmaxkit entmax --example --alpha 1.2 -o p.csv",
            "softmaxkit entmax logits.csv --columns 'logit_*' --alpha 2 -o p.csv",
        ),
        notes=_stream.NOTES + maps.naming_note("p_"),
        hints=(*_HINTS, ALPHA),
    ),
}

_MAPS: dict[str, Callable[..., Any]] = {
    "sparsemax": sparsemax,
    "entmax15": entmax15,
    "entmax": entmax,
}


def add_parsers(sub: Any) -> None:
    """Add ``sparsemax``, ``entmax15`` and ``entmax`` (which also takes ``--alpha``)."""
    for name in NAMES:
        p = add_command(sub, name, TEXTS[name])
        maps.add_options(p, row_only=True)
        if name == "entmax":
            p.add_argument(
                "--alpha", type=float, default=1.5, metavar="A",
                help="alpha >= 1 (default 1.5): 1 is softmax, 2 is sparsemax",
            )  # fmt: skip


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``sparsemax``, ``entmax15`` or ``entmax``; return the exit status."""
    return maps.run_map(args, parser, _row_function, _checks, prefix="p_")


def _checks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.axis != "row":
        parser.error(ROW_ONLY.format(command=args.command))
    if args.command == "entmax" and not args.alpha >= 1.0:
        parser.error(ALPHA.format(alpha=args.alpha))


def _row_function(args: argparse.Namespace, path: str, selected: list[str]) -> Any:
    fn = _MAPS[args.command]
    t = args.temperature
    extra = {"alpha": args.alpha} if args.command == "entmax" else {}
    return lambda v: fn(v, axis=-1, temperature=t, **extra)
