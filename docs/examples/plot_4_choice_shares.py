"""
Mode shares of a conditional and a nested logit
===============================================

McFadden's conditional logit gives the travel modes available to a traveller the softmax of
their utilities; the nested logit groups modes whose unobserved parts are alike, with the
inclusive value ``logsumexp(V, temperature=λ)`` per nest. On Greene's TravelMode data
(shipped with softmaxkit) we raise every traveller's car cost and follow the predicted shares.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from softmaxkit import ConditionalLogit
from softmaxkit.io import example_path

data = pd.read_csv(example_path("travelmode.csv"))
spec = {"alternative_vars": ["gc", "ttme"], "individual_vars": ["hinc"], "base": "car"}
fit = {"choice": "choice", "alternative": "mode", "group": "id"}
logit = ConditionalLogit(**spec).fit(data, **fit)
nested = ConditionalLogit(**spec, nests={"fly": ["air"], "ground": ["train", "bus", "car"]})
nested.fit(data, **fit)
print(f"log-likelihood: conditional {logit.llf_:.4f}, nested {nested.llf_:.4f}; "
      f"lambda(ground) = {nested.params_['lambda:ground']:.4f}")

# %%
# The mean predicted probability of each mode as the car's generalised cost moves.

modes = ("air", "train", "bus", "car")
car = (data["mode"] == "car").to_numpy()
deltas = np.linspace(-30.0, 60.0, 31)


def shares(model):
    out = np.empty((deltas.size, len(modes)))
    for i, delta in enumerate(deltas):
        p = model.predict_proba(data.assign(gc=data["gc"] + delta * car),
                                alternative="mode", group="id")
        out[i] = [p[(data["mode"] == m).to_numpy()].mean() for m in modes]
    return out


s_logit, s_nested = shares(logit), shares(nested)
fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
for k, (mode, colour) in enumerate(zip(modes, ("C0", "C2", "C1", "C3"), strict=True)):
    ax.plot(deltas, s_logit[:, k], color=colour, label=mode)
    ax.plot(deltas, s_nested[:, k], color=colour, ls="--")
ax.plot([], [], color="0.3", label="conditional logit")
ax.plot([], [], color="0.3", ls="--", label="nested logit (fly | ground)")
ax.axvline(0.0, color="0.6", lw=0.8)
ax.set_xlabel("change in the car's generalised cost ($, every traveller)")
ax.set_ylabel("predicted share")
ax.set_ylim(0, None)
ax.legend(ncol=2, fontsize=8, frameon=False)
plt.show()

# %%
# The nested logit sends the car's travellers to train and bus (its nest) about as much as
# to air; the conditional logit moves them in proportion to the shares (IIA): its cross
# elasticities are equal in each column.

print(nested.elasticities(data, "gc").average.round(3))
print(logit.elasticities(data, "gc").average.round(3))
