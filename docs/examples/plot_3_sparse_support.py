"""
Sparse supports of α-entmax
===========================

α-entmax gives exact zeros: only entries within :math:`T/(\\alpha - 1)` of a row's maximum
can be non-zero. At α = 1 it is softmax (no zeros), at α = 2 sparsemax. On the shipped
digits logits we count the classes with non-zero probability per row as the temperature
grows, and how often the true label is among them.
"""

import matplotlib.pyplot as plt
import numpy as np

import softmaxkit as sk
from softmaxkit.io import load_example

logits, labels = load_example()
rows = np.arange(labels.size)
temperatures = np.geomspace(0.5, 40.0, 25)
alphas = {1.25: "α = 1.25", 1.5: "entmax15 (α = 1.5)", 2.0: "sparsemax (α = 2)", 3.0: "α = 3"}

size = {a: [] for a in alphas}
cover = {a: [] for a in alphas}
for alpha in alphas:
    for t in temperatures:
        p = sk.entmax(logits, alpha=alpha, temperature=t)
        size[alpha].append((p > 0).sum(axis=1).mean())
        cover[alpha].append((p[rows, labels] > 0).mean())

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for alpha, label in alphas.items():
    ax1.plot(temperatures, size[alpha], marker="o", ms=3, label=label)
    ax2.plot(temperatures, np.array(cover[alpha]) * 100, marker="o", ms=3, label=label)
ax1.axhline(10, color="0.5", ls="--", lw=1, label="softmax (α = 1)")
for ax in (ax1, ax2):
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
ax1.set_ylabel("mean number of non-zero classes")
ax2.set_ylabel("rows whose label is in the support (%)")
ax1.legend(frameon=False, fontsize=8)
plt.show()

# %%
# One row the network gets wrong: at T = 5, entmax15 keeps a short list of candidates that
# still holds the true label, where softmax spreads mass over all ten classes.

p = sk.entmax15(logits[11], temperature=5)
print("label", labels[11], "argmax", logits[11].argmax())
print("support", np.flatnonzero(p), "probabilities", p[p > 0].round(3))

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
width = 0.4
ax.bar(np.arange(10) - width / 2, sk.softmax(logits[11], temperature=5), width, label="softmax")
ax.bar(np.arange(10) + width / 2, p, width, label="entmax15")
ax.set_xticks(range(10))
ax.set_xlabel("class")
ax.set_ylabel("probability at T = 5")
ax.legend(frameon=False)
plt.show()
