"""Generate ``docs/img/calibrators.png``: the calibrators side by side on the digits logits.

The shipped digits classifier's logits are split as ``softmaxkit calibrate --example`` splits
them (a permutation seeded with 0; the first half fits, the other half is held out). Each
method is fitted on the first half; the reliability diagrams are of the held-out half: before
calibration, then temperature scaling, vector scaling (``alpha=1``), Dirichlet calibration
(``lambda_=0.01``), beta calibration (``alpha=1``), histogram binning (10 bins) and isotonic
regression, through :func:`softmaxkit.calibration.reliability_comparison` given the fitted
calibrators.

Run from the repository root (needs matplotlib)::

    python scripts/make_calibrators_figure.py

Everything is seeded.
"""

from __future__ import annotations

import warnings

import numpy as np
from _common import figure_args, pyplot, save


def main() -> int:
    args = figure_args(__doc__)
    pyplot()
    import softmaxkit as sk
    from softmaxkit import calibration as cal
    from softmaxkit.io import load_example

    z, y = load_example()
    perm = np.random.default_rng(0).permutation(y.size)
    half = round(0.5 * y.size)
    fit, test = np.sort(perm[:half]), np.sort(perm[half:])
    methods = {
        "temperature": cal.TemperatureScaling(),
        "vector (alpha 1)": cal.VectorScaling(alpha=1.0),
        "Dirichlet (lambda 0.01)": cal.DirichletCalibration(0.01),
        "beta (alpha 1)": cal.BetaCalibration(alpha=1.0),
        "histogram (10 bins)": cal.HistogramBinning(10),
        "isotonic": cal.IsotonicCalibration(),
    }
    with warnings.catch_warnings():
        # Vector, Dirichlet and beta warn about the separated classes of these logits.
        warnings.simplefilter("ignore")
        for model in methods.values():
            model.fit(z[fit], y[fit])
    fig = cal.reliability_comparison(
        sk.softmax(z[test]), methods, y[test], logits=z[test],
        titles=[f"before (held-out N = {test.size})", *methods], ncols=4,
    )
    save(fig, args.out / "calibrators.png", dpi=90)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
