"""Make the figure of the "Choice models" README section: mode shares against the car's cost.

Run from the repository root (needs matplotlib and pandas)::

    python scripts/figures/choice_shares.py

Fits the conditional logit and the nested logit (fly = {air}, ground = {train, bus, car}) of
the README on the shipped TravelMode data (``softmaxkit/data/travelmode.csv``), then raises or
lowers every traveller's generalised cost of the car by the same amount (−$30 … +$60; the data's
car ``gc`` runs from $30 to $200 or so) and plots each mode's predicted share: the mean over the
210 travellers of ``predict_proba``. Writes ``docs/img/choice_shares.png`` and prints the shares
at +$0 and +$40 (the README quotes them).

The two models agree at +$0 (both reproduce the sample's shares, as a logit with constants
does) and part ways as the car gets dearer: in the nested logit (λ_ground ≈ 0.64) the car loses
share faster, and train and bus, its substitutes in the ground nest, gain about as much as air
(in the conditional logit, about three quarters and half as much).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from softmaxkit import ConditionalLogit
from softmaxkit.io import example_path

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "choice_shares.png"
MODES = ("air", "train", "bus", "car")
COLOURS = {"air": "tab:blue", "train": "tab:green", "bus": "tab:orange", "car": "tab:red"}
NESTS = {"fly": ["air"], "ground": ["train", "bus", "car"]}


def shares(model: ConditionalLogit, data: pd.DataFrame, deltas: np.ndarray) -> np.ndarray:
    """(len(deltas), 4) mean predicted probability of each mode, car's gc shifted by delta."""
    out = np.empty((deltas.size, len(MODES)))
    car = (data["mode"] == "car").to_numpy()
    for i, delta in enumerate(deltas):
        shifted = data.assign(gc=data["gc"] + delta * car)
        p = model.predict_proba(shifted, alternative="mode", group="id")
        out[i] = [p[(data["mode"] == m).to_numpy()].mean() for m in MODES]
    return out


def main() -> None:
    data = pd.read_csv(example_path("travelmode.csv"))
    spec = {"alternative_vars": ["gc", "ttme"], "individual_vars": ["hinc"], "base": "car"}
    fit = {"choice": "choice", "alternative": "mode", "group": "id"}
    logit = ConditionalLogit(**spec).fit(data, **fit)
    nested = ConditionalLogit(**spec, nests=NESTS).fit(data, **fit)
    deltas = np.linspace(-30.0, 60.0, 91)
    s_logit, s_nested = shares(logit, data, deltas), shares(nested, data, deltas)

    fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=150)
    for k, mode in enumerate(MODES):
        ax.plot(deltas, s_logit[:, k], color=COLOURS[mode], lw=1.8, label=f"{mode}")
        ax.plot(deltas, s_nested[:, k], color=COLOURS[mode], lw=1.8, ls="--")
    ax.plot([], [], color="0.3", lw=1.8, label="conditional logit")
    ax.plot([], [], color="0.3", lw=1.8, ls="--", label="nested logit (fly | ground)")
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("change in the car's generalised cost gc ($, every traveller)")
    ax.set_ylabel("predicted share (mean probability)")
    ax.set_title("TravelMode: mode shares as the car's cost changes")
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT)
    print(f"wrote {OUT.relative_to(OUT.parents[2])}")
    for delta in (0.0, 40.0):
        i = int(np.argmin(np.abs(deltas - delta)))
        for name, s in (("conditional", s_logit), ("nested", s_nested)):
            text = ", ".join(f"{m} {v:.3f}" for m, v in zip(MODES, s[i], strict=True))
            print(f"gc(car) {delta:+.0f}: {name:<11} {text}")


if __name__ == "__main__":
    main()
