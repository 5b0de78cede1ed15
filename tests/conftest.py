"""Shared test configuration: hypothesis profiles and small fixtures.

Profiles (select with ``HYPOTHESIS_PROFILE=dev`` or ``--hypothesis-profile dev``):

* ``ci`` (default): derandomised, so a failure in CI reproduces on every run and machine;
* ``dev``: random, more examples, for hunting new counterexamples locally.

Both disable the per-example deadline: the first call of a map imports array backends and the
oracle runs in multiple precision, so timings are too uneven for a deadline to mean anything.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator, fresh for every test (tests do not depend on their order)."""
    return np.random.default_rng(20240611)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict) -> None:
    """Make ``np`` available to every doctest, as the docstrings assume."""
    doctest_namespace["np"] = np
