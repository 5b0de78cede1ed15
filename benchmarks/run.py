"""Run every benchmark suite in one process and print its table of times and ratios.

Usage, from the repository root::

    python benchmarks/run.py            # the full run (a few minutes)
    python benchmarks/run.py --quick    # a smoke test (seconds)
    python benchmarks/run.py --help     # all flags

Each suite is a ``bench_*.py`` module in this directory exposing ``add_arguments(parser)``,
``check_args(args) -> str | None`` and ``run(args) -> int``; the flags of all suites are
merged into one command line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Run as a script, this directory is first on sys.path, so the sibling helper imports plainly.
import _harness as h

# In the order they run.
SUITES = (
    "bench_maps", "bench_derivatives", "bench_calibration", "bench_mlogit", "bench_sparse",
    "bench_choice", "bench_information",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the merged flags, print the machine facts once, run each suite; worst exit code."""
    modules = [importlib.import_module(name) for name in SUITES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    h.add_common_arguments(parser)
    for module in modules:
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    for module in modules:
        problem = module.check_args(args)
        if problem:
            parser.error(problem)
    h.print_facts(args.markdown)
    return max(module.run(args) for module in modules)


if __name__ == "__main__":
    sys.exit(main())
