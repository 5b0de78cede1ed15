"""What the generating scripts share: their command line, the figures' backend and saving,
and statsmodels' bundled data files.

Imported by the scripts beside it (``python scripts/NAME.py`` puts this folder on the path).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"


def figure_args(doc: str | None) -> argparse.Namespace:
    """The options of a figure script (``--out`` DIRECTORY, default ``docs/img``), the
    directory created; the description is the first paragraph of ``doc``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=IMG, help="output directory (docs/img)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, target: Path, dpi: int) -> None:
    """Write ``fig`` to ``target``, close it and say so."""
    import matplotlib.pyplot as plt

    fig.savefig(target, dpi=dpi)
    plt.close(fig)
    print(f"wrote {target}")


def output_args(doc: str | None, default: Path) -> argparse.Namespace:
    """The options of a data script: ``--output`` FILE (default ``default``)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=default)
    return parser.parse_args()


def bundled_csv(module: Any, name: str, sep: str | None) -> tuple[list[str], list[list[int]]]:
    """The columns and integer records of the data file ``name`` that statsmodels ships
    beside ``module`` (fields split at ``sep``, whitespace when None; quotes and spaces
    around the column names removed)."""
    source = Path(module.__file__).with_name(name)
    lines = source.read_text().split("\n")
    names = [n.strip("'\" ") for n in lines[0].split(sep)]
    rows = [[int(v) for v in line.split(sep)] for line in lines[1:] if line.strip()]
    return names, rows
