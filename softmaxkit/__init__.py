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
* information from logits: :func:`entropy`, :func:`kl_divergence`, :func:`js_divergence`
  (never a stray NaN, 0·log 0 = 0), the sparse maps' :func:`tsallis_entropy`, and
  :func:`cross_entropy` with PyTorch's options (weights, ``ignore_index``, label smoothing)
* the canonical ensemble: :func:`populations`, :func:`partition_function`,
  :func:`thermodynamics`, :func:`energies_from_populations` (exact SI units, CODATA hartree)
* multinomial logit regression with any base category: :class:`MultinomialLogit`
* choice models on long-format data: :class:`ConditionalLogit` (McFadden's conditional
  logit and the nested logit)
* calibrators beyond temperature: :class:`PlattScaling`, :class:`BetaCalibration`,
  :class:`DirichletCalibration`, :class:`HistogramBinning`, :class:`IsotonicCalibration`
* classifier calibration: :class:`TemperatureScaling`, :class:`VectorScaling`, the metrics
  (:func:`expected_calibration_error`, :func:`negative_log_likelihood`, :func:`brier_score`,
  ...) and :func:`reliability_diagram`
* the two-class case and cumulative sums: :func:`sigmoid`, :func:`log_sigmoid`, :func:`logit`,
  :func:`log1mexp`; :func:`logcumsumexp`
* sampling from logits: :func:`sample_categorical` (Gumbel-max), :func:`gumbel_softmax` and
  :func:`gumbel_sparsemax` (straight-through); the online normaliser
  :class:`OnlineLogSumExp`; long rows: ``sparsemax(x, k=...)`` and :func:`budget_sparsemax`
* compositional data: :func:`closure`, :func:`clr` / :func:`clr_inv`, :func:`alr` /
  :func:`alr_inv`, :func:`ilr` / :func:`ilr_inv` (:func:`ilr_basis`), :func:`replace_zeros`
* Bayes' rule as a softmax: :func:`posterior` (with the log evidence), :func:`model_weights`
  (Akaike, BIC, pseudo-BMA, BB-pseudo-BMA, stacking), :func:`gaussian_discriminant_logits`

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
from softmaxkit.bayes import (
    Posterior,
    gaussian_discriminant_logits,
    model_weights,
    posterior,
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
    BetaCalibration,
    DirichletCalibration,
    HistogramBinning,
    IsotonicCalibration,
    PlattScaling,
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
from softmaxkit.choice import ChoiceDataError, ConditionalLogit, NestingWarning
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
    log_sigmoid_hessian,
    log_sigmoid_jacobian,
    log_sigmoid_jvp,
    log_sigmoid_vjp,
    log_softmax_hessian,
    log_softmax_jacobian,
    log_softmax_jvp,
    log_softmax_vjp,
    logcumsumexp_hessian,
    logcumsumexp_jacobian,
    logcumsumexp_jvp,
    logcumsumexp_vjp,
    logit_hessian,
    logit_jacobian,
    logit_jvp,
    logit_vjp,
    logsumexp_hessian,
    logsumexp_jacobian,
    logsumexp_jvp,
    logsumexp_vjp,
    sigmoid_hessian,
    sigmoid_jacobian,
    sigmoid_jvp,
    sigmoid_vjp,
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
from softmaxkit.information import (
    entropy,
    entropy_grad,
    js_divergence,
    kl_divergence,
    kl_divergence_grad,
    tsallis_entropy,
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
    cross_entropy,
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
from softmaxkit.online import OnlineLogSumExp
from softmaxkit.sampling import gumbel_softmax, gumbel_sparsemax, sample_categorical
from softmaxkit.scan import logcumsumexp
from softmaxkit.sigmoid import log1mexp, log_sigmoid, logit, sigmoid
from softmaxkit.simplex import minimize_on_simplex
from softmaxkit.sparse import alpha_relu, budget_sparsemax, entmax, entmax15, sparsemax

__all__ = [
    "BetaCalibration",
    "ChoiceDataError",
    "ConditionalLogit",
    "ConvergenceWarning",
    "DirichletCalibration",
    "HistogramBinning",
    "InvalidCompositionError",
    "InvalidInputError",
    "InvalidProbabilityError",
    "IsotonicCalibration",
    "MultinomialLogit",
    "NestingWarning",
    "OnlineLogSumExp",
    "PlattScaling",
    "Posterior",
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
    "budget_sparsemax",
    "classwise_ece",
    "closure",
    "clr",
    "clr_inv",
    "convert_energy",
    "cross_entropy",
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
    "entropy",
    "entropy_grad",
    "expected_calibration_error",
    "gaussian_discriminant_logits",
    "gumbel_softmax",
    "gumbel_sparsemax",
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
    "js_divergence",
    "jvp",
    "kl_divergence",
    "kl_divergence_grad",
    "log1mexp",
    "log_sigmoid",
    "log_sigmoid_hessian",
    "log_sigmoid_jacobian",
    "log_sigmoid_jvp",
    "log_sigmoid_vjp",
    "log_softmax",
    "log_softmax_hessian",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logcumsumexp",
    "logcumsumexp_hessian",
    "logcumsumexp_jacobian",
    "logcumsumexp_jvp",
    "logcumsumexp_vjp",
    "logit",
    "logit_hessian",
    "logit_jacobian",
    "logit_jvp",
    "logit_vjp",
    "logsumexp",
    "logsumexp_hessian",
    "logsumexp_jacobian",
    "logsumexp_jvp",
    "logsumexp_vjp",
    "maximum_calibration_error",
    "minimize_on_simplex",
    "model_weights",
    "negative_log_likelihood",
    "partition_function",
    "populations",
    "posterior",
    "reliability_comparison",
    "reliability_diagram",
    "reliability_table",
    "replace_zeros",
    "sample_categorical",
    "sigmoid",
    "sigmoid_hessian",
    "sigmoid_jacobian",
    "sigmoid_jvp",
    "sigmoid_vjp",
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
    "tsallis_entropy",
    "vjp",
]
__version__ = "0.1.0"

# The autograd rules of a library the user has already imported (see the function's note).
_dispatch.load_rules_of_loaded_libraries()
