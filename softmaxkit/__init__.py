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
  :func:`thermodynamics`, :func:`energies_from_populations` (units from CODATA via SciPy)
* compositional data: :func:`closure`, :func:`clr` / :func:`clr_inv`, :func:`alr` /
  :func:`alr_inv`, :func:`ilr` / :func:`ilr_inv` (:func:`ilr_basis`), :func:`replace_zeros`

Every map takes any array-API array (NumPy, PyTorch, JAX, Dask, ...), a temperature
(``T = 0`` is the hardmax limit, ``T = inf`` the uniform limit), any axis or tuple of axes,
a boolean ``where=`` mask, and extended reals (``±inf`` act as limits, never a stray NaN).
"""

from softmaxkit.boltzmann import (
    Thermodynamics,
    boltzmann_constant,
    convert_energy,
    energies_from_populations,
    partition_function,
    populations,
    thermodynamics,
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
    base_logits_hessian,
    base_logits_jacobian,
    base_logits_jvp,
    base_logits_vjp,
    base_softmax_hessian,
    base_softmax_jacobian,
    base_softmax_jvp,
    base_softmax_vjp,
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
from softmaxkit.simplex import minimize_on_simplex
from softmaxkit.sparse import (
    entmax,
    entmax15,
    entmax15_jacobian,
    entmax15_jvp,
    entmax15_vjp,
    entmax_jacobian,
    entmax_jvp,
    entmax_vjp,
    sparsemax,
    sparsemax_jacobian,
    sparsemax_jvp,
    sparsemax_vjp,
)

__all__ = [
    "Thermodynamics",
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
    "closure",
    "clr",
    "clr_inv",
    "convert_energy",
    "energies_from_populations",
    "entmax",
    "entmax15",
    "entmax15_jacobian",
    "entmax15_jvp",
    "entmax15_loss",
    "entmax15_loss_grad",
    "entmax15_vjp",
    "entmax_jacobian",
    "entmax_jvp",
    "entmax_loss",
    "entmax_loss_grad",
    "entmax_vjp",
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
    "minimize_on_simplex",
    "partition_function",
    "populations",
    "replace_zeros",
    "softmax",
    "softmax_hessian",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_loss",
    "softmax_loss_grad",
    "softmax_vjp",
    "sparsemax",
    "sparsemax_jacobian",
    "sparsemax_jvp",
    "sparsemax_loss",
    "sparsemax_loss_grad",
    "sparsemax_vjp",
    "thermodynamics",
    "vjp",
]
__version__ = "0.1.0"
