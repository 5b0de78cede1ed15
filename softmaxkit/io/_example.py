"""The example data shipped in ``softmaxkit/data`` (provenance in its README)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

__all__ = ["example_path", "load_example"]


def example_path(name: str = "digits_logits.csv") -> Path:
    """Path of an example data file shipped with softmaxkit.

    ``digits_logits.csv``: held-out logits (``logit_0`` ... ``logit_9``) and true ``label``
    of an over-confident neural network on the UCI handwritten digits (899 rows); see
    ``softmaxkit/data/README.md`` for its provenance.

    Examples
    --------
    >>> example_path().name
    'digits_logits.csv'
    """
    res = files("softmaxkit").joinpath("data").joinpath(name)
    path = Path(str(res))
    if not path.is_file():
        shipped = sorted(
            p.name for p in files("softmaxkit").joinpath("data").iterdir() if p.name[0] != "."
        )
        raise FileNotFoundError(f"no example data file {name!r}; shipped: {shipped}")
    return path


def load_example(name: str = "digits_logits.csv") -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped digits logits as ``(logits (899, 10) float64, labels (899,) int64)``.

    Examples
    --------
    >>> logits, labels = load_example()
    >>> logits.shape, labels.shape, int(labels.max())
    ((899, 10), (899,), 9)
    """
    data = np.loadtxt(example_path(name), delimiter=",", skiprows=1)
    return np.ascontiguousarray(data[:, :-1]), data[:, -1].astype(np.int64)
