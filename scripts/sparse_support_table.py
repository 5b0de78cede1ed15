"""How the support of α-entmax grows with the temperature, on the shipped digits logits.

Prints the Markdown table of the README section "Which map?" (``docs/readme_sparse.md``): for
α in {1 (softmax), 1.25, 1.5 (entmax15), 2 (sparsemax), 3} and T in {0.5, 1, 2, 5, 10, 20},
the mean number of classes with non-zero probability per row of
``softmaxkit/data/digits_logits.csv`` (899 held-out rows, 10 classes), and how often the true
label is among them. With ``--plot PATH`` it also draws the mean support against T
(``docs/img/sparse_support.png``; matplotlib needed).

Run from the repository root::

    python scripts/sparse_support_table.py --plot docs/img/sparse_support.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from softmaxkit.io import load_example
from softmaxkit.sparse import entmax

ALPHAS = (1.0, 1.25, 1.5, 2.0, 3.0)
TEMPERATURES = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
NAMES = {1.0: "softmax", 1.5: "entmax15", 2.0: "sparsemax"}


def support_table(logits: np.ndarray, labels: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mean support size and label coverage, arrays of shape (len(ALPHAS), len(TEMPERATURES))."""
    size = np.empty((len(ALPHAS), len(TEMPERATURES)))
    cover = np.empty_like(size)
    rows = np.arange(labels.size)
    for i, alpha in enumerate(ALPHAS):
        for j, t in enumerate(TEMPERATURES):
            p = entmax(logits, alpha=alpha, temperature=t)
            size[i, j] = (p > 0).sum(axis=1).mean()
            cover[i, j] = (p[rows, labels] > 0).mean()
    return size, cover


def markdown(size: np.ndarray, cover: np.ndarray) -> str:
    """The table as Markdown: 'mean support (label covered %)' per α and T."""
    head = "| α | " + " | ".join(f"T = {t:g}" for t in TEMPERATURES) + " |"
    rule = "| --- |" + " ---: |" * len(TEMPERATURES)
    lines = [head, rule]
    for i, alpha in enumerate(ALPHAS):
        label = f"{alpha:g}" + (f" ({NAMES[alpha]})" if alpha in NAMES else "")
        cells = [f"{size[i, j]:.2f} ({100 * cover[i, j]:.1f}%)" for j in range(len(TEMPERATURES))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(size: np.ndarray, path: Path) -> None:
    """Mean support against T (log scale), one line per α."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=120)
    for i, alpha in enumerate(ALPHAS):
        label = f"α = {alpha:g}" + (f" ({NAMES[alpha]})" if alpha in NAMES else "")
        ax.plot(TEMPERATURES, size[i], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xticks(TEMPERATURES, [f"{t:g}" for t in TEMPERATURES])
    ax.set_xlabel("temperature T")
    ax.set_ylabel("mean support size (of 10 classes)")
    ax.set_title("α-entmax support on the digits logits (899 rows)")
    ax.set_ylim(0, 10.5)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plot", type=Path, default=None, help="also write this PNG figure")
    args = parser.parse_args(argv)
    logits, labels = load_example()
    size, cover = support_table(logits, labels)
    print(markdown(size, cover))
    if args.plot is not None:
        plot(size, args.plot)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
