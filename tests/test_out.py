"""The ``out=`` argument of softmax, log_softmax and logsumexp (NumPy only)."""

from __future__ import annotations

import numpy as np
import pytest

import softmaxkit as sk


@pytest.fixture
def x() -> np.ndarray:
    x = 30 * np.random.default_rng(7).standard_normal((64, 40))
    x[3] = -np.inf
    x[5, 2] = np.inf
    x[9, 1] = np.nan
    return x


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(
    "kw", [{}, {"temperature": 0.37}, {"axis": 0}, {"axis": None}, {"temperature": 0.0}]
)
def test_out_equals_the_returned_result(name: str, kw: dict, x: np.ndarray) -> None:
    fn = getattr(sk, name)
    want = fn(x, **kw)
    for out in (np.empty_like(x), np.empty(x.shape[::-1]).T):  # C and Fortran order
        got = fn(x, out=out, **kw)
        assert got is out
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_out_dtype_and_in_place(name: str, x: np.ndarray) -> None:
    fn = getattr(sk, name)
    out32 = np.empty(x.shape, np.float32)
    np.testing.assert_array_equal(fn(x, out=out32), fn(x, dtype=np.float32))
    y = x.copy()
    assert fn(y, out=y) is y  # in place
    np.testing.assert_array_equal(y, fn(x))


def test_logsumexp_out(x: np.ndarray) -> None:
    out = np.empty(64)
    assert sk.logsumexp(x, out=out) is out
    np.testing.assert_array_equal(out, sk.logsumexp(x))
    kept = np.empty((64, 1))
    sk.logsumexp(x, keepdims=True, temperature=2.0, out=kept)
    np.testing.assert_array_equal(kept, sk.logsumexp(x, keepdims=True, temperature=2.0))
    w = np.full(x.shape, 0.5)
    sk.logsumexp(x, b=w, out=out)
    np.testing.assert_array_equal(out, sk.logsumexp(x, b=w))


def test_out_errors(x: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"out has shape \(3, 3\), expected \(64, 40\)"):
        sk.softmax(x, out=np.empty((3, 3)))
    with pytest.raises(TypeError, match="dtype"):
        sk.softmax(x, out=np.empty(x.shape, dtype=np.int64))
    with pytest.raises(TypeError, match="asked for"):
        sk.softmax(x, out=np.empty(x.shape, np.float32), dtype=np.float64)
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        sk.log_softmax(x, out=ro)
    with pytest.raises(ValueError, match="expected \\(64,\\)"):
        sk.logsumexp(x, out=np.empty((64, 1)))
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="NumPy arrays only"):
        sk.softmax(torch.ones(3), out=np.empty(3))
