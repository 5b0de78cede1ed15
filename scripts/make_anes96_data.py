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

import csv
import math

from _common import ROOT, bundled_csv, output_args

DEFAULT_OUTPUT = ROOT / "softmaxkit" / "data" / "anes96.csv"
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

    return bundled_csv(anes, "anes96.csv", None)


def main() -> None:
    """Write the CSV (``--output`` to put it elsewhere)."""
    args = output_args(__doc__, DEFAULT_OUTPUT)
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
