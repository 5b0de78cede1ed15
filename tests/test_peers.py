"""Peers as oracles: SciPy, PyTorch and JAX agree with us on ordinary inputs.

Where we differ on purpose, the tests assert *both* behaviours, so that a change on either side
shows up here: empty rows (all -inf or all masked) are NaN in every peer and zeros/-inf with us;
+inf entries are NaN in every peer and share the mass with us; the textbook max-shift loses
hundreds of ulp on rows spread over hundreds of units and every significant digit of the
log-probability of a near-certain class, which we keep within 2 ulp.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import oracle
import pytest
import scipy.special

import softmaxkit as sk

INF = np.inf


def _ulp_diff(a: Any, b: Any, *, scale: Any = None) -> float:
    """Largest |a - b| in ulps of max(|b|, |scale|) in b's dtype; non-finite must be equal."""
    a = np.asarray(a)
    b = np.asarray(b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    special = ~np.isfinite(a64) | ~np.isfinite(b64)
    if not np.array_equal(a64[special], b64[special]):
        return np.inf
    mag = np.abs(b64)
    if scale is not None:
        mag = np.maximum(mag, np.abs(np.broadcast_to(scale, mag.shape)))
    ulp = np.spacing(mag.astype(b.dtype)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.where(special, 0.0, np.abs(a64 - b64))
    return float((diff / ulp).max())


def _inputs(scale: float, dtype: Any = np.float64, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((200, 33))).astype(dtype)


# ulp allowances for agreement on ordinary inputs: the peers' own errors (measured: softmax up
# to ~6 ulp, log_softmax ~2.5, logsumexp ~1) plus ours (≤ 2)
AGREE = {"softmax": 10.0, "log_softmax": 6.0, "logsumexp": 4.0}


def _peer_scipy(name: str, x: np.ndarray) -> np.ndarray:
    return getattr(scipy.special, name)(x, axis=-1)


def _peer_torch(name: str, x: np.ndarray) -> np.ndarray:
    torch = pytest.importorskip("torch")
    fn = {"softmax": torch.softmax, "log_softmax": torch.log_softmax, "logsumexp": None}[name]
    t = torch.from_numpy(x)
    return (torch.logsumexp(t, -1) if fn is None else fn(t, -1)).numpy()


def _peer_jax(name: str, x: np.ndarray) -> np.ndarray:
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        return np.asarray(getattr(jax.nn, name)(jax.numpy.asarray(x), axis=-1))


PEERS = {"scipy": _peer_scipy, "torch": _peer_torch, "jax": _peer_jax}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("peer", list(PEERS))
def test_agree_on_ordinary_inputs(peer: str, name: str, dtype: Any) -> None:
    x = _inputs(1.0, dtype)
    ours = getattr(sk, name)(x)
    theirs = PEERS[peer](name, x)
    assert np.asarray(theirs).dtype == ours.dtype
    scale = np.abs(x.max(axis=-1)) if name == "logsumexp" else None
    assert _ulp_diff(theirs, ours, scale=scale) <= AGREE[name]


# --------------------------------------------------------------------------------------------
# documented differences
# --------------------------------------------------------------------------------------------


def _empty_rows() -> np.ndarray:
    return np.array([[0.0, -INF, 1.0], [-INF, -INF, -INF]])


def test_empty_row_scipy_gives_nan_we_give_zeros() -> None:
    x = _empty_rows()
    with np.errstate(invalid="ignore"):
        theirs = scipy.special.softmax(x, axis=-1)
        theirs_log = scipy.special.log_softmax(x, axis=-1)
    assert np.isnan(theirs[1]).all() and np.isnan(theirs_log[1]).all()
    assert scipy.special.logsumexp(x, axis=-1)[1] == -INF  # scipy's logsumexp agrees with us
    np.testing.assert_array_equal(sk.softmax(x)[1], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(sk.log_softmax(x)[1], [-INF, -INF, -INF])
    assert sk.logsumexp(x)[1] == -INF
    # the other row is the same on both sides
    assert _ulp_diff(sk.softmax(x)[0], theirs[0]) <= 2


def test_empty_row_torch_gives_nan_we_give_zeros() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(_empty_rows())
    assert torch.isnan(torch.softmax(x, -1)[1]).all()
    assert torch.isnan(torch.log_softmax(x, -1)[1]).all()
    # the usual attention idiom: masked_fill(-inf) then softmax; fully masked rows are NaN
    scores = torch.zeros(2, 3)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    attn = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
    assert torch.isnan(attn[1]).all()
    ours = sk.softmax(scores, where=mask)
    assert isinstance(ours, torch.Tensor)
    torch.testing.assert_close(ours, torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]))
    torch.testing.assert_close(ours[0], attn[0])


def test_empty_row_jax_gives_nan_we_give_zeros() -> None:
    jax = pytest.importorskip("jax")
    x = jax.numpy.asarray(_empty_rows(), dtype=jax.numpy.float32)
    assert np.isnan(np.asarray(jax.nn.softmax(x))[1]).all()
    np.testing.assert_array_equal(np.asarray(sk.softmax(x))[1], [0.0, 0.0, 0.0])
    # with jax's own where= the fully masked row is zeros too
    mask = jax.numpy.asarray([[True, False, True], [False, False, False]])
    theirs = np.asarray(jax.nn.softmax(jax.numpy.zeros((2, 3)), where=mask))
    ours = np.asarray(sk.softmax(jax.numpy.zeros((2, 3)), where=mask))
    np.testing.assert_array_equal(theirs, ours)


def test_plus_inf_entries_peers_give_nan_we_share_the_mass() -> None:
    x = np.array([[1.0, INF, INF, -INF]])
    with np.errstate(invalid="ignore"):
        assert np.isnan(scipy.special.softmax(x, axis=-1)).all()
    np.testing.assert_array_equal(sk.softmax(x), [[0.0, 0.5, 0.5, 0.0]])
    np.testing.assert_array_equal(sk.log_softmax(x), [[-INF, -np.log(2), -np.log(2), -INF]])
    assert sk.logsumexp(x)[0] == INF and scipy.special.logsumexp(x, axis=-1)[0] == INF
    torch = pytest.importorskip("torch")
    assert torch.isnan(torch.softmax(torch.tensor(x), -1)).all()


def test_spread_rows_scipy_loses_hundreds_of_ulp() -> None:
    """Rows of normals × 700: x - max is inexact and exp amplifies its rounding error."""
    x = _inputs(700.0)
    exact = oracle.softmax(x)
    ours = oracle.max_ulp(sk.softmax(x), exact)
    theirs = oracle.max_ulp(scipy.special.softmax(x, axis=-1), exact)
    assert ours <= 2
    assert theirs > 100  # measured: about 500 ulp on these rows
    torch = pytest.importorskip("torch")
    torch_err = oracle.max_ulp(torch.softmax(torch.from_numpy(x), -1).numpy(), exact)
    assert torch_err > 100


def test_near_certain_class_log_probability() -> None:
    """log p of the winning class is -log1p(Σ others) ≈ -1e-20; log(Σ) rounds it to 0."""
    x = np.array([[0.0, -46.0, -50.0]])
    exact = oracle.log_softmax(x)
    ours = sk.log_softmax(x)
    assert oracle.max_ulp(ours, exact) <= 2
    assert -1.1e-20 < ours[0, 0] < -1.0e-20
    theirs = scipy.special.log_softmax(x, axis=-1)
    assert theirs[0, 0] == 0.0  # every digit lost
    torch = pytest.importorskip("torch")
    assert torch.log_softmax(torch.tensor(x), -1)[0, 0].item() == 0.0
    # the same effect over many rows: the peers are off by ~2**52 ulp
    rows = _inputs(30.0)
    exact_rows = oracle.log_softmax(rows)
    # 4 ulp: the float64 log_softmax bound (see test_maps.ulp_bound)
    assert oracle.max_ulp(sk.log_softmax(rows), exact_rows) <= 4
    assert oracle.max_ulp(scipy.special.log_softmax(rows, axis=-1), exact_rows) > 1e12


def test_scipy_default_axis_differs() -> None:
    """scipy.special.logsumexp reduces over all axes by default; we reduce the last one."""
    x = np.arange(6.0).reshape(2, 3)
    assert np.shape(scipy.special.logsumexp(x)) == ()
    assert sk.logsumexp(x).shape == (2,)
    assert _ulp_diff(sk.logsumexp(x, axis=None), scipy.special.logsumexp(x)) <= 2


def test_logsumexp_weights_match_scipy() -> None:
    rng = np.random.default_rng(11)
    x = 5 * rng.standard_normal((40, 6))
    b = rng.uniform(-1, 2, (40, 6))
    ours, sign = sk.logsumexp(x, b=b, return_sign=True)
    theirs, their_sign = scipy.special.logsumexp(x, b=b, axis=-1, return_sign=True)
    np.testing.assert_array_equal(sign, their_sign)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
