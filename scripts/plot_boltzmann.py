"""Make the figures of the "Boltzmann populations" README section.

Run from the repository root (needs matplotlib)::

    python scripts/plot_boltzmann.py

Writes ``docs/img/boltzmann_populations.png`` (the shipped n-dodecane conformers from 100 to
1000 K, the same figure as ``softmaxkit boltzmann --example -T 100:1000:5 --plot FILE``) and
``docs/img/boltzmann_heat_capacity.png`` (heat capacities from ``thermodynamics`` against
their closed forms: the two-level Schottky peak and the harmonic oscillator).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from softmaxkit.boltzmann import thermodynamics
from softmaxkit.cli import main

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"


def populations_figure() -> Path:
    path = OUT / "boltzmann_populations.png"
    code = main(
        [
            "boltzmann",
            "--example",
            "-T",
            "100:1000:5",
            "--plot",
            str(path),
            "-q",
            "-o",
            str(OUT / "_scratch.csv"),
        ]
    )
    (OUT / "_scratch.csv").unlink(missing_ok=True)
    if code != 0:
        raise SystemExit(code)
    return path


def heat_capacity_figure() -> Path:
    path = OUT / "boltzmann_heat_capacity.png"
    x = np.geomspace(0.05, 50, 400)  # kT / Δ (two levels) and kT / ħω (oscillator)
    t = x  # energies in K with Δ = ħω = 1 K, so T = x
    two = thermodynamics(np.array([0.0, 1.0]), t, units="K")
    levels = np.arange(5000) + 0.5  # e^-100 left out at kT = 50 ħω
    osc = thermodynamics(levels, t, units="K")
    y = 1 / x
    two_exact = y**2 * np.exp(y) / (np.exp(y) + 1) ** 2
    osc_exact = (y / 2) ** 2 / np.sinh(y / 2) ** 2

    fig, (ax, err) = plt.subplots(
        2, 1, figsize=(7.5, 5.8), sharex=True, height_ratios=(3, 1.3), layout="constrained"
    )
    ax.plot(x, two.Cv, lw=2.2, color="tab:blue", label="two levels, thermodynamics()")
    ax.plot(x, two_exact, lw=1, ls="--", color="black", label="closed forms")
    ax.plot(x, osc.Cv, lw=2.2, color="tab:orange", label="harmonic oscillator (5000 levels)")
    ax.plot(x, osc_exact, lw=1, ls="--", color="black")
    peak = 1 / 2.399357
    ax.axvline(peak, color="tab:blue", lw=0.8, ls=":")
    ax.annotate(
        "Schottky peak\nΔ/kT = 2.3994, Cv = 0.4392 k",
        (peak, 0.4392),
        xytext=(1.3, 0.42),
        textcoords="data",
        arrowprops={"arrowstyle": "->", "lw": 0.8},
        fontsize="small",
    )
    ax.set_xscale("log")
    ax.set_ylabel("Cv / k")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    ax.set_title("Heat capacity from the Boltzmann populations")
    for cv, exact, color in ((two.Cv, two_exact, "tab:blue"), (osc.Cv, osc_exact, "tab:orange")):
        rel = np.abs(cv - exact) / exact
        err.plot(x, np.maximum(rel, 1e-17), color=color, lw=1.2)
    err.set_yscale("log")
    err.set_ylim(1e-17, 1e-12)
    err.set_ylabel("relative error")
    err.set_xlabel("kT / Δ   (kT / ħω for the oscillator)")
    err.grid(alpha=0.3, which="major")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for p in (populations_figure(), heat_capacity_figure()):
        print(p.relative_to(OUT.parent.parent))
