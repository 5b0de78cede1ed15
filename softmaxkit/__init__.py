"""softmaxkit: the softmax family, exact at the edges, fast, on every array library.

The maps between unconstrained space and the probability simplex:

* :func:`softmax`, :func:`log_softmax`, :func:`logsumexp`, :func:`hardmax`
* their inverses with an explicit constant: :func:`inverse_softmax`; the base-state bijection
  :func:`base_softmax` / :func:`base_logits` and its log-determinants
* closed-form derivatives of every map: :func:`jacobian`, :func:`hessian`, :func:`jvp`,
  :func:`vjp` (and per map, e.g. :func:`softmax_jvp`); autograd with those closed forms in
  :mod:`softmaxkit.autodiff` (PyTorch Functions, JAX ``custom_jvp`` rules)
* optimisation over the simplex through the base-state map: :func:`minimize_on_simplex`
* Fenchel–Young losses with their gradients ``(p − y)/T``: :func:`softmax_loss`
  (cross-entropy), :func:`sparsemax_loss`, :func:`entmax15_loss`, :func:`entmax_loss`
* the canonical ensemble: :func:`populations`, :func:`partition_function`,
  :func:`thermodynamics`, :func:`energies_from_populations` (exact SI units, CODATA hartree)
* multinomial logit regression with any base category: :class:`MultinomialLogit`
* classifier calibration: :class:`TemperatureScaling`, :class:`VectorScaling`, the metrics
  (:func:`expected_calibration_error`, :func:`negative_log_likelihood`, :func:`brier_score`,
  ...) and :func:`reliability_diagram`
* compositional data: :func:`closure`, :func:`clr` / :func:`clr_inv`, :func:`alr` /
  :func:`alr_inv`, :func:`ilr` / :func:`ilr_inv` (:func:`ilr_basis`), :func:`replace_zeros`

Every map takes any array-API array (NumPy, PyTorch, JAX, Dask, ...), a temperature
(``T = 0`` is the hardmax limit, ``T = inf`` the uniform limit), any axis or tuple of axes,
a boolean ``where=`` mask, and extended reals (``±inf`` act as limits, never a stray NaN).
Invalid entries or rows raise :class:`InvalidInputError` (a ``ValueError``) or one of its
subclasses, which carry the position of the offending entry.
"""

from softmaxkit._base import dispatch as _dispatch
from softmaxkit._base.errors import (
    InvalidCompositionError,
    InvalidInputError,
    InvalidProbabilityError,
)
from softmaxkit.boltzmann import (
    Thermodynamics,
    boltzmann_constant,
    convert_energy,
    energies_from_populations,
    partition_function,
    populations,
    thermodynamics,
)
from softmaxkit.calibration import (
    ReliabilityTable,
    TemperatureNLL,
    TemperatureScaling,
    VectorScaling,
    brier_score,
    classwise_ece,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_comparison,
    reliability_diagram,
    reliability_table,
    temperature_nll,
)
from softmaxkit.compositions import (
    alr,
    alr_inv,
    closure,
    clr,
    clr_inv,
    ilr,
    ilr_basis,
    ilr_inv,
    replace_zeros,
)
from softmaxkit.derivatives import (
    alpha_relu_jacobian,
    alpha_relu_jvp,
    alpha_relu_vjp,
    base_logits_hessian,
    base_logits_jacobian,
    base_logits_jvp,
    base_logits_vjp,
    base_softmax_hessian,
    base_softmax_jacobian,
    base_softmax_jvp,
    base_softmax_vjp,
    entmax15_hessian,
    entmax15_jacobian,
    entmax15_jvp,
    entmax15_vjp,
    entmax_alpha_derivative,
    entmax_hessian,
    entmax_jacobian,
    entmax_jvp,
    entmax_vjp,
    hardmax_hessian,
    hardmax_jacobian,
    hardmax_jvp,
    hardmax_vjp,
    hessian,
    inverse_softmax_hessian,
    inverse_softmax_jacobian,
    inverse_softmax_jvp,
    inverse_softmax_vjp,
    jacobian,
    jvp,
    log_softmax_hessian,
    log_softmax_jacobian,
    log_softmax_jvp,
    log_softmax_vjp,
    logsumexp_hessian,
    logsumexp_jacobian,
    logsumexp_jvp,
    logsumexp_vjp,
    softmax_hessian,
    softmax_jacobian,
    softmax_jvp,
    softmax_vjp,
    sparsemax_hessian,
    sparsemax_jacobian,
    sparsemax_jvp,
    sparsemax_vjp,
    vjp,
)
from softmaxkit.inverse import (
    base_logits,
    base_logits_log_det_jacobian,
    base_softmax,
    base_softmax_log_det_jacobian,
    inverse_softmax,
)
from softmaxkit.losses import (
    alpha_relu_loss,
    alpha_relu_loss_grad,
    entmax15_loss,
    entmax15_loss_grad,
    entmax_loss,
    entmax_loss_grad,
    softmax_loss,
    softmax_loss_grad,
    sparsemax_loss,
    sparsemax_loss_grad,
)
from softmaxkit.maps import hardmax, log_softmax, logsumexp, softmax
from softmaxkit.mlogit import (
    ConvergenceWarning,
    MultinomialLogit,
    SeparationError,
    SeparationWarning,
)
from softmaxkit.simplex import minimize_on_simplex
from softmaxkit.sparse import alpha_relu, entmax, entmax15, sparsemax

__all__ = [
    "ConvergenceWarning",
    "InvalidCompositionError",
    "InvalidInputError",
    "InvalidProbabilityError",
    "MultinomialLogit",
    "ReliabilityTable",
    "SeparationError",
    "SeparationWarning",
    "TemperatureNLL",
    "TemperatureScaling",
    "Thermodynamics",
    "VectorScaling",
    "alpha_relu",
    "alpha_relu_jacobian",
    "alpha_relu_jvp",
    "alpha_relu_loss",
    "alpha_relu_loss_grad",
    "alpha_relu_vjp",
    "alr",
    "alr_inv",
    "base_logits",
    "base_logits_hessian",
    "base_logits_jacobian",
    "base_logits_jvp",
    "base_logits_log_det_jacobian",
    "base_logits_vjp",
    "base_softmax",
    "base_softmax_hessian",
    "base_softmax_jacobian",
    "base_softmax_jvp",
    "base_softmax_log_det_jacobian",
    "base_softmax_vjp",
    "boltzmann_constant",
    "brier_score",
    "classwise_ece",
    "closure",
    "clr",
    "clr_inv",
    "convert_energy",
    "energies_from_populations",
    "entmax",
    "entmax15",
    "entmax15_hessian",
    "entmax15_jacobian",
    "entmax15_jvp",
    "entmax15_loss",
    "entmax15_loss_grad",
    "entmax15_vjp",
    "entmax_alpha_derivative",
    "entmax_hessian",
    "entmax_jacobian",
    "entmax_jvp",
    "entmax_loss",
    "entmax_loss_grad",
    "entmax_vjp",
    "expected_calibration_error",
    "hardmax",
    "hardmax_hessian",
    "hardmax_jacobian",
    "hardmax_jvp",
    "hardmax_vjp",
    "hessian",
    "ilr",
    "ilr_basis",
    "ilr_inv",
    "inverse_softmax",
    "inverse_softmax_hessian",
    "inverse_softmax_jacobian",
    "inverse_softmax_jvp",
    "inverse_softmax_vjp",
    "jacobian",
    "jvp",
    "log_softmax",
    "log_softmax_hessian",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logsumexp",
    "logsumexp_hessian",
    "logsumexp_jacobian",
    "logsumexp_jvp",
    "logsumexp_vjp",
    "maximum_calibration_error",
    "minimize_on_simplex",
    "negative_log_likelihood",
    "partition_function",
    "populations",
    "reliability_comparison",
    "reliability_diagram",
    "reliability_table",
    "replace_zeros",
    "softmax",
    "softmax_hessian",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_loss",
    "softmax_loss_grad",
    "softmax_vjp",
    "sparsemax",
    "sparsemax_hessian",
    "sparsemax_jacobian",
    "sparsemax_jvp",
    "sparsemax_loss",
    "sparsemax_loss_grad",
    "sparsemax_vjp",
    "temperature_nll",
    "thermodynamics",
    "vjp",
]
__version__ = "0.1.0"

# The autograd rules of a library the user has already imported (see the function's note).
_dispatch.load_rules_of_loaded_libraries()
