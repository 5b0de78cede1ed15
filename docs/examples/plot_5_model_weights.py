"""
Model weights: pseudo-BMA against stacking
==========================================

Given pointwise leave-one-out log predictive densities ``lpd[i, k]`` of models ``k``,
pseudo-BMA weights are ``softmax(Σ_i lpd[:, k])``: the single best model takes nearly
everything. Stacking (:func:`softmaxkit.model_weights` with ``method="stacking"``) instead
finds the mixture of the models' predictive distributions that predicts best, an
optimisation over the simplex whose optimum is often on a face: exact zeros.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import softmaxkit as sk
from softmaxkit.io import example_path

# %%
# Data from a two-component mixture, and three fixed one-component models N(μ, 1) with
# μ = -2, 0, 2. The middle model is the best single one, so pseudo-BMA gives it all the
# weight; stacking sees that the two outer models together predict much better and gives
# the middle one exactly 0.

rng = np.random.default_rng(0)
y = np.where(rng.random(200) < 0.5, -2.0, 2.0) + rng.normal(size=200)
mu = np.array([-2.0, 0.0, 2.0])
lpd = -0.5 * (y[:, None] - mu) ** 2 - 0.5 * np.log(2 * np.pi)
names = ["N(-2, 1)", "N(0, 1)", "N(2, 1)"]

# %%
# The shipped pointwise LOO densities of ArviZ's eight-schools fits.

schools = pd.read_csv(example_path("eight_schools_loo.csv"))
sets = {"two-Gaussian mixture": (lpd, names),
        "eight schools": (schools.to_numpy(), list(schools.columns))}

methods = (("pseudo-bma", {}), ("bb-pseudo-bma", {"seed": 0}), ("stacking", {}))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for ax, (title, (data, labels)) in zip(axes, sets.items(), strict=True):
    x = np.arange(len(labels))
    for k, (method, kw) in enumerate(methods):
        w = sk.model_weights(data, method=method, **kw)
        print(f"{title:22} {method:14}", np.round(w, 4))
        ax.bar(x + (k - 1) * 0.27, w, 0.27, label=method)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("weight")
    ax.set_title(f"{title} ({data.shape[0]} observations)", fontsize=9)
axes[0].legend(fontsize=8, frameon=False)
plt.show()

# %%
# Akaike weights are a softmax too: ``softmax(-AIC / 2)``.

print(sk.model_weights(np.array([204.1, 202.3, 210.0]), method="akaike").round(4))
