"""Make ``docs/img/model_weights.png``: stacking against pseudo-BMA weights.

Run from the repository root (needs matplotlib; ArviZ is not needed, the pointwise LOO
densities are the files that ``benchmarks/peers/bayes_arviz.py`` wrote)::

    python benchmarks/peers/bayes_figure.py

Two sets of models: the eight schools (``softmaxkit/data/eight_schools_loo.csv``: ArviZ's
centred and non-centred fits and two pooled models) and a seeded two-Gaussian mixture fit by
four one-component models (``tests/data/bayes_mixture_loo.csv``). Pseudo-BMA weights follow
each model's own elpd, so the single best model takes nearly everything; stacking weighs
the models as a mixture of predictive distributions, so models that are good on different
observations share the weight and a model that adds nothing gets exactly 0.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from softmaxkit import io as sio
from softmaxkit import model_weights

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "img" / "model_weights.png"
SETS = {
    "eight schools (ArviZ example fits)": sio.example_path("eight_schools_loo.csv"),
    "two-Gaussian mixture, one-component models": ROOT / "tests" / "data" / "bayes_mixture_loo.csv",
}
METHODS = (("pseudo-bma", "pseudo-BMA"), ("bb-pseudo-bma", "BB-pseudo-BMA"),
           ("stacking", "stacking"))


def main() -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for ax, (title, path) in zip(axes, SETS.items(), strict=True):
        lpd = np.loadtxt(path, delimiter=",", skiprows=1)
        names = path.read_text().splitlines()[0].split(",")
        x = np.arange(len(names))
        width = 0.27
        for k, (method, label) in enumerate(METHODS):
            kw = {"seed": 0} if method == "bb-pseudo-bma" else {}
            w = model_weights(lpd, method=method, **kw)
            bars = ax.bar(x + (k - 1) * width, w, width, label=label)
            for bar, v in zip(bars, w, strict=True):
                if v == 0:  # an exact zero on a face of the simplex
                    ax.annotate("0", (bar.get_x() + bar.get_width() / 2, 0.0),
                                ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, names, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{title}\n({lpd.shape[0]} observations)", fontsize=9)
        ax.set_ylabel("weight")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Model weights from pointwise LOO log predictive densities", fontsize=10)
    fig.savefig(OUT, dpi=120)
    plt.close(fig)
    return OUT


if __name__ == "__main__":
    print(main())
