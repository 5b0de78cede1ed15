"""Generate ``softmaxkit/data/anes96.csv``: the 1996 American National Election Study subset.

The shipped example of the multinomial logit (``softmaxkit mlogit --example``): the copy of
the ANES 1996 subset that statsmodels bundles (``statsmodels.datasets.anes96``, 944
respondents), written as a comma-separated file with two derived columns:

* ``logpopul`` = ``log(popul + 0.1)``, exactly as statsmodels' loader computes it (written
  with the shortest repr that round-trips, so a fit on the file equals statsmodels' example);
* ``party``, the label of ``PID`` (0 = "Strong Democrat" ... 6 = "Strong Republican").

Run once from the repository root (statsmodels is needed here only, it is not a dependency of
softmaxkit)::

    python scripts/make_anes96_data.py
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "softmaxkit" / "data" / "anes96.csv"
PARTY = (
    "Strong Democrat",
    "Weak Democrat",
    "Independent-Democrat",
    "Independent-Independent",
    "Independent-Republican",
    "Weak Republican",
    "Strong Republican",
)


def read_source() -> tuple[list[str], list[list[int]]]:
    """The columns and integer records of statsmodels' ``anes96.csv`` (whitespace separated)."""
    import statsmodels.datasets.anes96 as anes

    source = Path(anes.__file__).with_name("anes96.csv")
    lines = source.read_text().split("\n")
    names = [n.strip("'\"") for n in lines[0].split()]
    rows = [[int(v) for v in line.split()] for line in lines[1:] if line.strip()]
    return names, rows


def main() -> None:
    """Write the CSV (``--output`` to put it elsewhere)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    names, rows = read_source()
    popul, pid = names.index("popul"), names.index("PID")
    with args.output.open("w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow([*names, "logpopul", "party"])
        for row in rows:
            out.writerow([*row, repr(math.log(row[popul] + 0.1)), PARTY[row[pid]]])
    print(f"wrote {len(rows)} records to {args.output}")


if __name__ == "__main__":
    main()
