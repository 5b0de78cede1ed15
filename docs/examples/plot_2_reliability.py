"""
Reliability diagrams before and after temperature scaling
=========================================================

A classifier's softmax outputs are often over-confident. Temperature scaling divides every
logit by one temperature fitted on held-out data (:class:`softmaxkit.TemperatureScaling`);
the reliability diagram shows, per confidence bin, how often the predicted class is right.

The data are the shipped held-out logits of a deliberately over-confident network on the UCI
handwritten digits (899 rows, 10 classes). We fit on every other row and evaluate on the rest.
"""

import matplotlib.pyplot as plt
import numpy as np

import softmaxkit as sk
from softmaxkit.io import load_example

logits, labels = load_example()
fit, test = np.arange(0, 899, 2), np.arange(1, 899, 2)
ts = sk.TemperatureScaling().fit(logits[fit], labels[fit])
print(f"T = {ts.temperature_:.3f} +/- {ts.temperature_se_:.3f}")

before = sk.softmax(logits[test])
after = ts.predict_proba(logits[test])
for name, p in (("before", before), ("after", after)):
    print(f"{name:6}  NLL {sk.negative_log_likelihood(p, labels[test]):.4f}  "
          f"ECE {sk.expected_calibration_error(p, labels[test]):.4f}")

# %%
# Only 12 of the 449 held-out rows are misclassified, so the binned errors are noisy: the
# counts panel under each diagram shows how few samples most bins hold.

sk.reliability_comparison(before, after, labels[test], titles=["softmax(z)", "softmax(z / T)"])
plt.show()

# %%
# On data whose over-confidence is known — labels drawn from ``softmax(z / 2.5)`` while the
# model reports ``softmax(z)`` — the fitted temperature recovers it and the gap closes.

rng = np.random.default_rng(0)
z = rng.normal(scale=4.0, size=(20_000, 10))
y = sk.sample_categorical(z / 2.5, seed=rng)
half = np.arange(z.shape[0]) % 2 == 0
known = sk.TemperatureScaling().fit(z[half], y[half])
print(f"fitted T = {known.temperature_:.3f} (true 2.5)")
sk.reliability_comparison(sk.softmax(z[~half]), known.predict_proba(z[~half]), y[~half])
plt.show()
