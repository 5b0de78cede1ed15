"""ArviZ's model weights on its own example data, the values ``tests/test_bayes.py`` records.

Run with ArviZ installed (it is not a test dependency; 0.23.4 produced the recorded values)::

    python benchmarks/peers/bayes_arviz.py [--write]

The models are ArviZ's two fits of the eight-schools data (``centered_eight``,
``non_centered_eight``, shipped with ArviZ) and two built from the centred fit's posterior
draws, so that the comparison has more than two models and a weight on a face of the simplex:
``pooled`` (every school has the common mean ``mu``: ``y_j ~ N(mu, sigma_j)``) and
``pooled_zero`` (``y_j ~ N(0, sigma_j)``, the same for every draw). The pointwise PSIS-LOO
log predictive densities ``loo_i`` that ``az.compare`` uses are extracted with ``az.loo``;
``--write`` saves them to ``softmaxkit/data/eight_schools_loo.csv`` (the
``softmaxkit weights --example`` data) and ``tests/data/bayes_mixture_loo.csv``. The script
prints the weights of ``az.compare(method=...)`` for "stacking", "pseudo-BMA" and
"BB-pseudo-BMA" (seed 10, 1000 bootstrap draws) in the column order of the file, and
softmaxkit's on the same matrix.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = {
    "eight_schools": ROOT / "softmaxkit" / "data" / "eight_schools_loo.csv",
    "mixture": ROOT / "tests" / "data" / "bayes_mixture_loo.csv",
}
MODELS = {
    "eight_schools": ("centered", "non_centered", "pooled", "pooled_zero"),
    "mixture": ("left", "right", "wide", "left_wide"),
}
SEED = 10
SIGMA = (15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0)


def _mixture() -> dict[str, object]:
    """Seeded data from two Gaussians and four models with posterior draws of a mean: the
    stacking optimum mixes "left" and "right" and gives the other two exactly 0."""
    import arviz as az
    import xarray as xr

    rng = np.random.default_rng(2018)
    y = np.concatenate([rng.normal(-2.0, 1.0, 30), rng.normal(2.0, 1.0, 20)])
    out = {}
    for name, (centre, sd) in {
        "left": (-2.0, 1.0), "right": (2.0, 1.0), "wide": (0.0, 2.5), "left_wide": (-2.0, 3.0)
    }.items():
        mu = rng.normal(centre, 0.1, size=(2, 500))
        ll = -0.5 * ((y - mu[..., None]) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)
        out[name] = az.InferenceData(
            posterior=xr.Dataset({"mu": (("chain", "draw"), mu)}),
            log_likelihood=xr.Dataset({"y": (("chain", "draw", "obs"), ll)}),
            observed_data=xr.Dataset({"y": (("obs",), y)}),
        )
    return out


def _models() -> dict[str, object]:
    import arviz as az
    import xarray as xr

    centered = az.load_arviz_data("centered_eight")
    non_centered = az.load_arviz_data("non_centered_eight")
    y = centered.observed_data["obs"]
    # The schools' standard errors (Rubin 1981); the files do not hold them, so they are
    # checked against the centred fit's own log-likelihood, log N(y_j | theta_j, sigma_j).
    sigma = xr.DataArray(np.array(SIGMA), coords={"school": y["school"]}, dims="school")
    mu = centered.posterior["mu"]

    def normal_logpdf(mean: object, sd: object) -> object:
        return -0.5 * ((y - mean) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)

    check = normal_logpdf(centered.posterior["theta"], sigma)
    stored = centered.log_likelihood["obs"]
    assert np.allclose(check.transpose(*stored.dims).values, stored.values, rtol=1e-10)

    pooled = normal_logpdf(mu, sigma).transpose("chain", "draw", "school")
    zero = normal_logpdf(0.0 * mu, sigma).transpose("chain", "draw", "school")
    out = {"centered": centered, "non_centered": non_centered}
    for name, ll in (("pooled", pooled), ("pooled_zero", zero)):
        out[name] = az.InferenceData(
            posterior=centered.posterior,
            log_likelihood=xr.Dataset({"obs": ll}),
            observed_data=centered.observed_data,
        )
    return out


def main() -> int:
    import warnings

    import arviz as az

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write the lpd matrix files")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # ArviZ's Pareto-k warnings: the weights are the point
    sys.path.insert(0, str(ROOT))
    from softmaxkit import model_weights

    np.set_printoptions(precision=17, floatmode="unique")
    for dataset, models in (("eight_schools", _models()), ("mixture", _mixture())):
        names = MODELS[dataset]
        lpd = np.column_stack(
            [np.asarray(az.loo(models[m], pointwise=True).loo_i) for m in names]
        )
        digest = hashlib.sha256(lpd.tobytes()).hexdigest()[:16]
        print(f"{dataset}: arviz {az.__version__}; loo_i {lpd.shape}, sha256 {digest}")
        if args.write:
            np.savetxt(DATA[dataset], lpd, delimiter=",", header=",".join(names), comments="",
                       fmt="%.17g")
            print(f"wrote {DATA[dataset].relative_to(ROOT)}")
        for method in ("stacking", "pseudo-BMA", "BB-pseudo-BMA"):
            kw = {"seed": SEED} if method == "BB-pseudo-BMA" else {}
            table = az.compare(models, method=method, **kw)
            w = np.array([float(table.loc[m, "weight"]) for m in names])
            print(f"  arviz      {method:14s} {w!r}")
        ours = {
            "stacking": model_weights(lpd, method="stacking"),
            "pseudo-bma": model_weights(lpd, method="pseudo-bma"),
            "bb-pseudo-bma": model_weights(
                lpd, method="bb-pseudo-bma", seed=np.random.RandomState(SEED)
            ),
        }
        for name, w in ours.items():
            print(f"  softmaxkit {name:14s} {w!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
