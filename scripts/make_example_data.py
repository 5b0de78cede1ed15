"""Generate ``softmaxkit/data/digits_logits.csv``: real, over-confident classifier logits.

The shipped example for the command line (``softmaxkit softmax --example``) and for
temperature-scaling calibration. A multilayer perceptron without weight decay is trained to
(nearly) zero training loss on half of scikit-learn's bundled copy of the UCI optical
handwritten digits; its pre-softmax scores on the other, held-out half are written together
with the true labels. Training a network this far without regularisation makes it
over-confident on unseen data, which is what a calibration example needs.

Run once from the repository root (scikit-learn is needed here only, it is not a dependency
of softmaxkit)::

    python scripts/make_example_data.py

Everything is seeded; the logits are rounded to 6 significant digits so that the file stays
small and last-bit differences between BLAS builds do not show.
"""

from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path

import numpy as np

SEED = 0
HIDDEN = (128, 128)
TEST_SIZE = 0.5
MAX_ITER = 1000
N_CLASSES = 10
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "softmaxkit" / "data" / "digits_logits.csv"


def make_logits() -> tuple[np.ndarray, np.ndarray]:
    """Train the classifier and return ``(held-out logits, held-out labels)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x = x / 16.0  # pixel counts are 0..16; scale to [0, 1] for the optimiser
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    # tol=0 and an unreachable n_iter_no_change: train for exactly MAX_ITER epochs, far past
    # the point where held-out loss stops improving, so the model ends up over-confident.
    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        alpha=0.0,
        solver="adam",
        max_iter=MAX_ITER,
        tol=0.0,
        n_iter_no_change=MAX_ITER + 1,
        random_state=SEED,
    )
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the point is to overtrain
        clf.fit(x_train, y_train)

    # Forward pass up to (not through) the output softmax: MLPClassifier's hidden layers
    # use ReLU, the output layer is affine.
    h = x_test
    for w, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
        h = np.maximum(h @ w + b, 0.0)
    logits = h @ clf.coefs_[-1] + clf.intercepts_[-1]

    # The logits must be the scores behind the classifier's own probabilities.
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    if not np.allclose(p, clf.predict_proba(x_test), rtol=1e-9, atol=1e-12):
        raise RuntimeError("forward pass does not reproduce MLPClassifier.predict_proba")
    if list(clf.classes_) != list(range(N_CLASSES)):
        raise RuntimeError(f"unexpected classes {clf.classes_}")
    return logits, y_test.astype(np.int64)


def write_csv(path: Path, logits: np.ndarray, labels: np.ndarray) -> None:
    """Write ``logit_0..logit_9,label`` with 6 significant digits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([f"logit_{k}" for k in range(logits.shape[1])] + ["label"])
        for row, label in zip(logits, labels, strict=True):
            w.writerow([f"{v:.6g}" for v in row] + [int(label)])


def summary(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, confidence, NLL, 15-bin ECE and the NLL-optimal temperature."""
    from scipy.optimize import minimize_scalar

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(labels)), labels].mean())

    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, 16)
    bins = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, 14)
    ece = sum(
        abs(conf[bins == b].mean() - correct[bins == b].mean()) * np.mean(bins == b)
        for b in range(15)
        if np.any(bins == b)
    )
    best = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return {
        "rows": float(len(labels)),
        "accuracy": float(correct.mean()),
        "mean_confidence": float(conf.mean()),
        "nll": nll(1.0),
        "ece_15": float(ece),
        "nll_optimal_temperature": float(best.x),
        "nll_at_optimum": float(best.fun),
        "max_abs_logit": float(np.abs(logits).max()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    logits, labels = make_logits()
    write_csv(args.output, logits, labels)
    # Summarise what was written (after rounding), not the in-memory float64 values.
    data = np.loadtxt(args.output, delimiter=",", skiprows=1)
    stats = summary(data[:, :N_CLASSES], data[:, N_CLASSES].astype(np.int64))
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size} bytes)")
    for key, value in stats.items():
        print(f"  {key:24s} {value:.6g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
