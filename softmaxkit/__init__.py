"""softmaxkit: the softmax family, exact at the edges, fast, on every array library.

The maps between unconstrained space and the probability simplex:

* :func:`softmax`, :func:`log_softmax`, :func:`logsumexp`, :func:`hardmax`

Every map takes any array-API array (NumPy, PyTorch, JAX, Dask, ...), a temperature
(``T = 0`` is the hardmax limit, ``T = inf`` the uniform limit), any axis or tuple of axes,
a boolean ``where=`` mask, and extended reals (``±inf`` act as limits, never a stray NaN).
"""

from softmaxkit.maps import hardmax, log_softmax, logsumexp, softmax

__all__ = ["hardmax", "log_softmax", "logsumexp", "softmax"]
__version__ = "0.1.0"
