"""Generate the reliability diagrams shown in the README's calibration section.

* ``docs/img/reliability.png``: the shipped digits classifier, exactly what
  ``softmaxkit calibrate --example --plot docs/img/reliability.png`` draws (fit on a random
  half, diagrams of the other, held-out half, before and after temperature scaling);
* ``docs/img/reliability_synthetic.png``: 20,000 samples whose labels are drawn from
  ``softmax(z / 2.5)`` while the "network" reports ``softmax(z)`` — over-confident by a known
  temperature; the fit is on a separate 20,000 samples of the same kind.

Run from the repository root (needs matplotlib)::

    python scripts/make_reliability_figures.py

Everything is seeded.
"""

from __future__ import annotations

import numpy as np
from _common import figure_args, pyplot, save

TSTAR = 2.5


def synthetic(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    import softmaxkit as sk

    z = rng.normal(scale=3.0, size=(n, k))
    p = sk.softmax(z, temperature=TSTAR)
    y = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return z, np.minimum(y, k - 1)


def main() -> int:
    args = figure_args(__doc__)
    pyplot()
    import softmaxkit as sk
    from softmaxkit.calibration import TemperatureScaling, reliability_comparison
    from softmaxkit.cli import main as cli

    target = args.out / "reliability.png"
    status = cli(["calibrate", "--example", "--plot", str(target), "-q"])
    if status:
        return status
    print(f"wrote {target}")

    rng = np.random.default_rng(0)
    z_fit, y_fit = synthetic(rng, 20_000, 10)
    z, y = synthetic(rng, 20_000, 10)
    ts = TemperatureScaling().fit(z_fit, y_fit)
    fig = reliability_comparison(
        sk.softmax(z),
        ts.predict_proba(z),
        y,
        titles=(
            f"reported softmax(z): over-confident (true T* = {TSTAR})",
            f"after scaling: T = {ts.temperature_:.3f} ± {ts.temperature_se_:.3f}",
        ),
    )
    save(fig, args.out / "reliability_synthetic.png", dpi=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
