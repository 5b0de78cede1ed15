"""Every public name and import path that worked before the package was restructured still works.

The lists below are the ``__all__`` of each public module as it was before the layout of floors
(``_base/``, ``derivatives/``, ``cli/``, ...); names may be added, never lost. (The sparse
maps' derivative names, moved to :mod:`softmaxkit.derivatives`, are checked with their
deprecated forwarding in ``test_sparse.py``.)
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import softmaxkit

TOP_LEVEL = (
    "ConvergenceWarning", "MultinomialLogit", "ReliabilityTable", "SeparationError",
    "SeparationWarning", "TemperatureNLL", "TemperatureScaling", "Thermodynamics",
    "VectorScaling", "alpha_relu", "alpha_relu_jacobian", "alpha_relu_jvp", "alpha_relu_vjp",
    "alr", "alr_inv", "base_logits", "base_logits_hessian", "base_logits_jacobian",
    "base_logits_jvp", "base_logits_log_det_jacobian", "base_logits_vjp", "base_softmax",
    "base_softmax_hessian", "base_softmax_jacobian", "base_softmax_jvp",
    "base_softmax_log_det_jacobian", "base_softmax_vjp", "boltzmann_constant", "brier_score",
    "classwise_ece", "closure", "clr", "clr_inv", "convert_energy", "energies_from_populations",
    "entmax", "entmax15", "entmax15_hessian", "entmax15_jacobian", "entmax15_jvp",
    "entmax15_loss", "entmax15_loss_grad", "entmax15_vjp", "entmax_alpha_derivative",
    "entmax_hessian", "entmax_jacobian", "entmax_jvp", "entmax_loss", "entmax_loss_grad",
    "entmax_vjp", "expected_calibration_error", "hardmax", "hardmax_hessian", "hardmax_jacobian",
    "hardmax_jvp", "hardmax_vjp", "hessian", "ilr", "ilr_basis", "ilr_inv", "inverse_softmax",
    "inverse_softmax_hessian", "inverse_softmax_jacobian", "inverse_softmax_jvp",
    "inverse_softmax_vjp", "jacobian", "jvp", "log_softmax", "log_softmax_hessian",
    "log_softmax_jacobian", "log_softmax_jvp", "log_softmax_vjp", "logsumexp",
    "logsumexp_hessian", "logsumexp_jacobian", "logsumexp_jvp", "logsumexp_vjp",
    "maximum_calibration_error", "minimize_on_simplex", "negative_log_likelihood",
    "partition_function", "populations", "reliability_comparison", "reliability_diagram",
    "reliability_table", "replace_zeros", "softmax", "softmax_hessian", "softmax_jacobian",
    "softmax_jvp", "softmax_loss", "softmax_loss_grad", "softmax_vjp", "sparsemax",
    "sparsemax_hessian", "sparsemax_jacobian", "sparsemax_jvp", "sparsemax_loss",
    "sparsemax_loss_grad", "sparsemax_vjp", "temperature_nll", "thermodynamics", "vjp",
)

MODULES = {
    "softmaxkit.maps": (
        "hardmax", "log_softmax", "logsumexp", "softmax",
    ),
    "softmaxkit.sparse": (
        "alpha_relu", "entmax", "entmax15", "sparsemax",
    ),
    "softmaxkit.inverse": (
        "base_logits", "base_logits_log_det_jacobian", "base_softmax",
        "base_softmax_log_det_jacobian", "inverse_softmax",
    ),
    "softmaxkit.derivatives": (
        "base_logits_hessian", "base_logits_jacobian", "base_logits_jvp", "base_logits_vjp",
        "base_softmax_hessian", "base_softmax_jacobian", "base_softmax_jvp", "base_softmax_vjp",
        "hardmax_hessian", "hardmax_jacobian", "hardmax_jvp", "hardmax_vjp", "hessian",
        "inverse_softmax_hessian", "inverse_softmax_jacobian", "inverse_softmax_jvp",
        "inverse_softmax_vjp", "jacobian", "jvp", "log_softmax_hessian", "log_softmax_jacobian",
        "log_softmax_jvp", "log_softmax_vjp", "logsumexp_hessian", "logsumexp_jacobian",
        "logsumexp_jvp", "logsumexp_vjp", "softmax_hessian", "softmax_jacobian", "softmax_jvp",
        "softmax_vjp", "vjp",
    ),
    "softmaxkit.autodiff": (
        "torch_autograd",
    ),
    "softmaxkit.losses": (
        "entmax15_loss", "entmax15_loss_grad", "entmax_loss", "entmax_loss_grad", "softmax_loss",
        "softmax_loss_grad", "sparsemax_loss", "sparsemax_loss_grad",
    ),
    "softmaxkit.simplex": (
        "minimize_on_simplex",
    ),
    "softmaxkit.boltzmann": (
        "UNITS", "Thermodynamics", "boltzmann_constant", "convert_energy",
        "energies_from_populations", "partition_function", "populations", "thermodynamics",
    ),
    "softmaxkit.mlogit": (
        "ConvergenceWarning", "MarginalEffects", "MultinomialLogit", "SeparationError",
        "SeparationWarning", "Summary",
    ),
    "softmaxkit.calibration": (
        "ReliabilityTable", "TemperatureNLL", "TemperatureScaling", "VectorScaling",
        "brier_score", "classwise_ece", "expected_calibration_error", "maximum_calibration_error",
        "negative_log_likelihood", "reliability_comparison", "reliability_diagram",
        "reliability_table", "temperature_nll",
    ),
    "softmaxkit.compositions": (
        "alr", "alr_inv", "closure", "clr", "clr_inv", "ilr", "ilr_basis", "ilr_inv",
        "replace_zeros",
    ),
    "softmaxkit.io": (
        "BadRecordError", "Block", "InputError", "MissingFileError", "Reader", "Writer",
        "default_chunk_rows", "example_path", "file_format", "load_example", "open_reader",
        "open_writer", "select_columns",
    ),
    "softmaxkit.cli": (
        "build_parser", "main",
    ),
    "softmaxkit.autodiff.torch": (
        "alpha_relu", "apply", "entmax", "entmax15", "hardmax", "log_softmax", "logsumexp",
        "softmax", "sparsemax",
    ),
    "softmaxkit.autodiff.jax": (
        "alpha_relu", "entmax", "entmax15", "hardmax", "log_softmax", "logsumexp", "softmax",
        "sparsemax",
    ),
}

@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name(name: str) -> None:
    assert name in softmaxkit.__all__
    assert getattr(softmaxkit, name) is not None


def test_top_level_all_is_sorted_and_importable() -> None:
    assert list(softmaxkit.__all__) == sorted(softmaxkit.__all__)
    namespace: dict[str, object] = {}
    exec("from softmaxkit import *", namespace)
    assert set(softmaxkit.__all__) <= set(namespace)


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, ns in MODULES.items() for n in ns])
def test_module_name(module: str, name: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, name), f"{module}.{name} is gone"


def test_importing_the_package_loads_no_autodiff_library() -> None:
    code = (
        "import sys, softmaxkit, softmaxkit.derivatives, softmaxkit.sparse;"
        "print(sorted(m for m in ('torch', 'jax', 'dask', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
