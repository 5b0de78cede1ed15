"""
Boltzmann populations against the temperature
=============================================

The canonical ensemble is a softmax: a state of energy :math:`\\varepsilon_i` is occupied
with probability :math:`p_i = \\exp(-\\varepsilon_i/kT) / Z`, i.e.
``softmax(-energies, temperature=kT)``. :func:`softmaxkit.populations` reads it that way and
takes a whole temperature scan in one call.

The shipped example holds the 13 conformers of n-dodecane (C12H26) of the ACONFL benchmark:
electronic energies in kcal/mol relative to the linear conformer.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import softmaxkit as sk
from softmaxkit.io import example_path

conformers = pd.read_csv(example_path("dodecane_conformers.csv"))
energies = conformers["energy_kcal_mol"].to_numpy()
temperatures = np.linspace(100.0, 1000.0, 181)

# One call: a temperature per row of the result (temperatures broadcast against the
# energies' shape without their state axis).
p = sk.populations(energies, temperatures, units="kcal/mol")
print(p.shape, "rows sum to", np.round(p.sum(axis=-1)[[0, -1]], 12))

# %%
# The linear conformer dominates at low temperature; as kT grows the mass spreads over the
# gauche conformers, and at T = inf it would be uniform over the 13 states.

fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
order = np.argsort(energies)
ax.stackplot(temperatures, p[:, order].T,
             labels=[f"{n} ({e:.2f})" for n, e in zip(conformers["conformer"][order],
                                                         energies[order], strict=True)])
ax.set_xlim(temperatures[0], temperatures[-1])
ax.set_ylim(0, 1)
ax.set_xlabel("temperature (K)")
ax.set_ylabel("population")
ax.set_title("n-dodecane conformers (energy in kcal/mol)")
ax.legend(ncol=2, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
plt.show()

# %%
# The thermodynamics of the same ensemble: free energy, mean energy, entropy and heat
# capacity per temperature, computed without cancellation (:func:`softmaxkit.thermodynamics`).

th = sk.thermodynamics(energies, temperatures, units="kcal/mol")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
ax1.plot(temperatures, th.U, label="U = <E>")
ax1.plot(temperatures, th.F, label="F = -kT log Z")
ax1.set_xlabel("temperature (K)")
ax1.set_ylabel("kcal/mol")
ax1.legend(frameon=False)
ax2.plot(temperatures, th.Cv * 1000.0, color="tab:red")
ax2.set_xlabel("temperature (K)")
ax2.set_ylabel("Cv (cal/(mol K))")
plt.show()
