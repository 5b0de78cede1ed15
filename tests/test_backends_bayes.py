"""The Bayesian reading on every array library: the NumPy results, in the input's kind.

``posterior`` and the softmax methods of ``model_weights`` run in the input's namespace (Dask
stays lazy); ``stacking`` and ``bb-pseudo-bma`` optimise or resample on the host and return
the input's kind; ``gaussian_discriminant_logits`` uses the namespace's ``linalg.solve``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from test_backends import Backend, assert_ulp_close, backend  # noqa: F401

import softmaxkit as sk

INF = math.inf


def _back(b: Backend, a: Any) -> np.ndarray:
    assert b.is_native(a), f"{b.name}: got {type(a).__name__}"
    return b.back(a)


def _ll() -> np.ndarray:
    rng = np.random.default_rng(5)
    ll = 4 * rng.standard_normal((6, 5))
    ll[1] = -INF  # every class impossible
    ll[2, [0, 3]] = -INF
    ll[3, 1] = INF  # the +inf limit
    ll[4, 2] = np.nan  # a NaN row, alone
    return ll


def test_posterior(backend: Backend) -> None:  # noqa: F811
    ll = _ll()
    prior = np.array([0.1, 0.2, 0.3, 0.0, 0.4])
    for t in (1.0, 0.0):  # (2.5 and inf per row in the next test)
        ref = sk.posterior(ll, prior=prior, temperature=t)
        got = sk.posterior(backend.to(ll), prior=backend.to(prior), temperature=t)
        for name in ("probabilities", "log_probabilities", "log_evidence"):
            g, r = _back(backend, getattr(got, name)), np.asarray(getattr(ref, name))
            assert_ulp_close(g, r, 4, scale=1.0 if name != "probabilities" else None,
                             msg=f"{backend.name} {name} T={t}")


def test_posterior_log_prior_mask_and_temperature_array(backend: Backend) -> None:  # noqa: F811
    ll = _ll()
    lp = np.log(np.array([0.3, 0.1, 0.2, 0.25, 0.15]))
    mask = np.ones(ll.shape, dtype=bool)
    mask[0, 4] = False
    temps = np.array([[1.0], [2.0], [0.0], [INF], [0.5], [3.0]])
    ref = sk.posterior(ll, lp, where=mask, temperature=temps)
    got = sk.posterior(backend.to(ll), backend.to(lp), where=backend.to(mask),
                       temperature=backend.to(temps))
    assert_ulp_close(_back(backend, got.probabilities), ref.probabilities, 4)
    assert_ulp_close(_back(backend, got.log_evidence), ref.log_evidence, 4, scale=1.0)


@pytest.mark.parametrize("method", ["akaike", "bic", "pseudo-bma", "bb-pseudo-bma", "stacking"])
def test_model_weights(backend: Backend, method: str) -> None:  # noqa: F811
    rng = np.random.default_rng(9)
    if method in ("akaike", "bic"):
        scores = 200 + 5 * rng.standard_normal((3, 4))
        scores[1, 2] = INF
    else:
        scores = rng.normal(-1.5, 0.7, (12, 4))
        scores[:, 3] -= 1.0  # a dominated model: stacking gives it exactly 0
    kw = {"seed": 4, "n_bootstrap": 50} if method == "bb-pseudo-bma" else {}
    ref = sk.model_weights(scores, method=method, **kw)
    got = _back(backend, sk.model_weights(backend.to(scores), method=method, **kw))
    if method == "pseudo-bma":
        # each library sums the lpd column in its own order: the weights move by the
        # rounding of the sums (relative to Σ|lpd|), not by a few ulp
        bound = 8 * np.finfo(float).eps * np.abs(scores).sum(axis=0).max()
        np.testing.assert_allclose(got, ref, rtol=bound, atol=0)
    else:
        assert_ulp_close(got, np.asarray(ref), 4, msg=f"{backend.name} {method}")
    if method == "stacking":
        assert got[3] == 0.0


def test_gaussian_discriminant_logits(backend: Backend) -> None:  # noqa: F811
    rng = np.random.default_rng(2)
    means = rng.standard_normal((3, 4))
    a = rng.standard_normal((4, 4))
    cov = a @ a.T + np.eye(4)
    priors = np.array([0.5, 0.3, 0.2])
    w_ref, b_ref = sk.gaussian_discriminant_logits(means, cov, priors)
    w, b = sk.gaussian_discriminant_logits(backend.to(means), backend.to(cov),
                                           backend.to(priors))
    # a linear solve: compare at the magnitude of the rows (LAPACK differs between libraries)
    np.testing.assert_allclose(_back(backend, w), w_ref, rtol=0, atol=1e-13 * np.abs(w_ref).max())
    np.testing.assert_allclose(_back(backend, b), b_ref, rtol=0, atol=1e-13 * np.abs(b_ref).max())


def test_dask_posterior_stays_lazy() -> None:
    da = pytest.importorskip("dask.array")
    ll = _ll()
    x = da.from_array(ll, chunks=(2, 5))
    post = sk.posterior(x, prior=np.array([0.1, 0.2, 0.3, 0.0, 0.4]))
    assert isinstance(post.probabilities, da.Array) and isinstance(post.log_evidence, da.Array)
    ref = sk.posterior(ll, prior=np.array([0.1, 0.2, 0.3, 0.0, 0.4]))
    np.testing.assert_array_equal(post.probabilities.compute(scheduler="sync"),
                                  ref.probabilities)


def test_torch_gradient_of_the_log_evidence() -> None:
    torch = pytest.importorskip("torch")
    ll = torch.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, -3.0]], dtype=torch.float64,
                      requires_grad=True)
    prior = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    post = sk.posterior(ll, prior=prior)
    post.log_evidence.sum().backward()
    # d log p(x) / d log p(x|C_k) = p(C_k | x)
    np.testing.assert_allclose(ll.grad.numpy(), post.probabilities.detach().numpy(), rtol=1e-14)


def test_jax_jit_and_grad() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    with jax.enable_x64(True):
        prior = jnp.array([0.2, 0.3, 0.5])
        ll = jnp.array([[0.0, 1.0, 2.0], [-jnp.inf, -jnp.inf, -jnp.inf]])
        jitted = jax.jit(lambda x: sk.posterior(x, prior=prior).probabilities)(ll)
        ref = sk.posterior(np.asarray(ll), prior=np.asarray(prior)).probabilities
        np.testing.assert_allclose(np.asarray(jitted), ref, rtol=1e-15)
        # d log p(x) / d log p(x|C_k) = p(C_k | x)
        grad = jax.grad(lambda x: sk.posterior(x, prior=prior).log_evidence)(ll[0])
        np.testing.assert_allclose(np.asarray(grad), ref[0], rtol=1e-14)
