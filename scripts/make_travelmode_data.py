"""Generate ``softmaxkit/data/travelmode.csv``: Greene's TravelMode data in long format.

The shipped example of the conditional and nested logit (``softmaxkit choice --example``,
:class:`softmaxkit.ConditionalLogit`): 210 travellers between Sydney, Canberra and Melbourne,
each with one row per mode (air, train, bus, car), as statsmodels bundles them
(``statsmodels.datasets.modechoice``, Greene's Table F18-2 / F21.2). The values are copied
unchanged; only the columns are renamed and the mode code is written as its label:

* ``individual`` → ``id``;
* ``mode`` 1, 2, 3, 4 → ``air``, ``train``, ``bus``, ``car`` (the coding in statsmodels'
  ``data.py`` for this data set);
* ``choice``, ``ttme``, ``invc``, ``invt``, ``gc``, ``hinc``, ``psize`` keep their names.

Run once from the repository root (statsmodels is needed here only, it is not a dependency of
softmaxkit)::

    python scripts/make_travelmode_data.py
"""

from __future__ import annotations

import csv

from _common import ROOT, bundled_csv, output_args

DEFAULT_OUTPUT = ROOT / "softmaxkit" / "data" / "travelmode.csv"
MODES = {1: "air", 2: "train", 3: "bus", 4: "car"}
COLUMNS = ("id", "mode", "choice", "ttme", "invc", "invt", "gc", "hinc", "psize")


def read_source() -> tuple[list[str], list[list[int]]]:
    """The columns and integer records of statsmodels' ``modechoice.csv`` (``;`` separated)."""
    import statsmodels.datasets.modechoice as modechoice

    return bundled_csv(modechoice, "modechoice.csv", ";")


def main() -> None:
    """Write the CSV (``--output`` to put it elsewhere)."""
    args = output_args(__doc__, DEFAULT_OUTPUT)
    names, rows = read_source()
    expected = ["individual", "mode", *COLUMNS[2:]]
    if names != expected:
        raise SystemExit(f"unexpected columns {names}; expected {expected}")
    with args.output.open("w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(COLUMNS)
        for row in rows:
            out.writerow([row[0], MODES[row[1]], *row[2:]])
    print(f"wrote {len(rows)} records to {args.output}")


if __name__ == "__main__":
    main()
