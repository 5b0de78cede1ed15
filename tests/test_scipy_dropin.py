"""SciPy's own tests of ``logsumexp``, ``softmax`` and ``log_softmax``, run on ours.

The README calls softmaxkit's ``logsumexp``/``softmax``/``log_softmax`` drop-in replacements
for ``scipy.special``'s. This module holds that claim to SciPy's own test module,
``scipy/special/tests/test_logsumexp.py`` of the *installed* SciPy (nothing of it is copied
here): its test classes are imported into this module, so pytest collects them here, and for
each test the names ``logsumexp``, ``softmax`` and ``log_softmax`` in SciPy's test module are
patched to ours. The only adaptation is the default axis, which is None in SciPy and -1 here
(``_ours`` below). The whole module is skipped when SciPy, or its tests, are not installed.

SciPy's ``xp`` and ``devices`` fixtures live in its ``conftest.py``, which cannot be loaded
here (it would change the hypothesis profile and the warning filters of the whole run); the
two fixtures below are their NumPy case, which is how SciPy runs these tests by default
(without ``SCIPY_ARRAY_API``). Not imported: the module-level ``test_wrap_radians``, which
tests SciPy's private helper ``_wrap_radians`` and none of the three functions.

Issue 14 (case 17): before, 54 of SciPy's 407 cases passed (complex input refused, ``b`` not
broadcasting ``a``, the result dtype following ``a`` alone, 0-d arrays instead of NumPy
scalars); now all of them pass. Departures that remain deliberate would be listed in
``DEPARTURES`` with their reason (and in the README's comparison table); there are none.
"""

from __future__ import annotations

import cmath
import importlib
import math
import warnings
from typing import Any

import mpmath as mp
import numpy as np
import pytest

import softmaxkit as sk

try:
    with warnings.catch_warnings():
        # SciPy's own markers (xfail_xp_backends, ...) are registered by its conftest only
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        scipy_tests: Any = importlib.import_module("scipy.special.tests.test_logsumexp")
except ImportError:  # no SciPy, or a SciPy installed without its tests
    scipy_tests = None

needs_scipy_tests = pytest.mark.skipif(
    scipy_tests is None, reason="SciPy (with its test modules) is not installed"
)

if scipy_tests is not None:
    # SciPy's test classes, collected here; their methods look up the three functions in
    # SciPy's test module, where the autouse fixture below puts ours.
    TestLogSumExp = scipy_tests.TestLogSumExp
    TestSoftmax = scipy_tests.TestSoftmax
    TestLogSoftmax = scipy_tests.TestLogSoftmax

# Deliberate departures from SciPy: {test name prefix (as pytest names it here): reason}.
# Each would be marked xfail (strict: it must keep failing, or be removed from here) and
# documented in the README's comparison table. None: every case of SciPy's module passes.
DEPARTURES: dict[str, str] = {}


def _ours(fn: Any) -> Any:
    """``fn`` with SciPy's default ``axis=None`` (ours is -1); everything else unchanged."""

    def wrapper(a: Any, axis: Any = None, **kwargs: Any) -> Any:
        return fn(a, axis=axis, **kwargs)

    wrapper.__name__ = fn.__name__
    return wrapper


@pytest.fixture(autouse=True)
def _softmaxkit_in_scipys_tests(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if scipy_tests is None:
        return
    for name in ("logsumexp", "softmax", "log_softmax"):
        monkeypatch.setattr(scipy_tests, name, _ours(getattr(sk, name)))
    for prefix, reason in DEPARTURES.items():
        if request.node.name.startswith(prefix):
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture
def xp() -> Any:
    """SciPy's ``xp`` fixture for NumPy: the namespace SciPy's tests expect."""
    from scipy._lib._array_api import array_namespace

    return array_namespace(np.empty(0))


@pytest.fixture
def devices(xp: Any) -> list[Any]:
    """SciPy's ``devices`` fixture for NumPy: every device, and None."""
    return [*xp.__array_namespace_info__().devices(), None]


@needs_scipy_tests
def test_scipy_functions_are_replaced() -> None:
    """The patch reaches SciPy's test module (else every case above would test SciPy)."""
    assert scipy_tests.logsumexp.__module__ == __name__
    assert scipy_tests.logsumexp([[0.0, 0.0]]) == np.log(2.0)  # axis=None, as SciPy's
    assert len(DEPARTURES) == 0


# --------------------------------------------------------------------------------------------
# The same behaviours on their own (these run without SciPy too), with exact expectations
# --------------------------------------------------------------------------------------------


def _mp_lse(row: np.ndarray, weights: np.ndarray | None = None) -> complex:
    mp.mp.dps = 50
    w = np.ones(len(row)) if weights is None else weights
    pairs = zip(row, w, strict=True)
    total = mp.fsum(mp.mpc(complex(wi)) * mp.exp(mp.mpc(complex(z))) for z, wi in pairs)
    return complex(mp.log(total))


def test_complex_logsumexp_against_mpmath() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-30, 30, (5, 7)) + 1j * rng.uniform(-40, 40, (5, 7))
    x[0, 0] = 700 + 0.25j  # exp overflows: the shift by the largest real part is needed
    res = sk.logsumexp(x, axis=1)
    assert res.dtype == np.complex128 and res.shape == (5,)
    ref = np.array([_mp_lse(row) for row in x])
    np.testing.assert_allclose(res, ref, rtol=4e-16, atol=0)
    assert np.all((res.imag > -math.pi) & (res.imag <= math.pi))  # the principal branch
    value, sign = sk.logsumexp(x, axis=1, return_sign=True)
    assert value.dtype == np.float64 and sign.dtype == np.complex128
    np.testing.assert_allclose(value, ref.real, rtol=4e-16)
    # the phase of an input with |Im x| ≈ 40 is known to ulp(40) ≈ 7e-15 only
    np.testing.assert_allclose(sign, np.exp(1j * ref.imag), rtol=0, atol=2 * np.spacing(40.0))


def test_complex_logsumexp_keeps_tiny_parts() -> None:
    # log(e^0 + e^{iε}) = log 2 + iε/2 to full relative precision (NumPy's complex log1p
    # loses the real part of log1p(s) for small s; ours does not).
    eps = 2.0**-55
    res = sk.logsumexp(np.array([0.0, 1j * eps]))
    assert isinstance(res, np.complex128)
    assert res == complex(math.log(2.0), eps / 2)
    assert sk.logsumexp(np.array([0.0, -100.0 + 0j])) == complex(math.log1p(math.exp(-100)), 0)


def test_complex_logsumexp_weights_mask_and_infinities() -> None:
    x = np.array([[1 + 1j, 2 - 1j, np.inf + 0j], [0j, 1j, 2j]])
    b = np.array([[1.0, -2.0, 0.0], [1.0, 1.0, 1.0]])  # b == 0 drops the infinite entry
    res = sk.logsumexp(x, b=b)
    np.testing.assert_allclose(res[0], _mp_lse(x[0, :2], b[0, :2]), rtol=4e-16)
    masked = sk.logsumexp(x, where=np.array([True, True, False]))
    np.testing.assert_allclose(masked[0], _mp_lse(x[0, :2]), rtol=4e-16)
    # infinite rows follow C99, as log(sum(exp(x))) does: here (inf + iπ/4)
    assert sk.logsumexp(np.array([complex(np.inf, 0.5), complex(np.inf, 1.0)])) == complex(
        np.inf, math.pi / 4
    )
    assert sk.logsumexp(np.array([complex(-np.inf, 1.0)])) == complex(-np.inf, 0.0)
    # a real x with a complex weight: log(-i (e + e^2)) = log(e + e^2) - iπ/2
    res = sk.logsumexp(np.array([1.0, 2.0]), b=-1j)
    assert res == pytest.approx(complex(math.log(math.e + math.e**2), -math.pi / 2), rel=1e-15)
    # complex64 stays complex64 (computed in complex128, rounded once)
    c64 = sk.logsumexp(np.array([1000, 1000], dtype=np.complex64))
    assert c64.dtype == np.complex64 and c64 == np.complex64(1000 + math.log(2))


def test_complex_input_refusals() -> None:
    x = np.array([1 + 1j, 2 - 1j])
    with pytest.raises(ValueError, match=r"logsumexp: temperature=2 is not supported for complex"):
        sk.logsumexp(x, temperature=2)
    with pytest.raises(TypeError, match=r"logsumexp: out= is not supported for complex input"):
        sk.logsumexp(x, out=np.empty(()))
    with pytest.raises(TypeError, match=r"logsumexp: dtype='float64' is not supported"):
        sk.logsumexp(x, dtype="float64")
    for fn in (sk.softmax, sk.log_softmax, sk.hardmax):  # complex only in logsumexp
        with pytest.raises(TypeError, match=r"x must hold real numbers"):
            fn(x)


def test_weights_broadcast_the_input() -> None:
    a = np.zeros((4, 1, 2, 1))
    b = np.ones((3, 1, 5))
    assert sk.logsumexp(a, b=b, axis=None) == math.log(120.0)
    res = sk.logsumexp(a, b=b, axis=-1)
    assert res.shape == (4, 3, 2)
    np.testing.assert_array_equal(res, np.full((4, 3, 2), math.log(5.0)))
    with pytest.raises(
        ValueError,
        match=r"b of shape \(3,\) does not broadcast against the "
        r"input's shape \(2, 2\)",
    ):
        sk.logsumexp(np.zeros((2, 2)), b=np.ones(3))


@pytest.mark.parametrize(
    ("a_dtype", "b", "expected"),
    [
        ("float32", np.array([1.0, -0.5]), "float64"),  # result_type(a, b), as SciPy
        ("float32", np.array([1, -1], np.int32), "float64"),  # NumPy: float32 + int32 -> f64
        ("float32", np.array([1.0, -0.5], np.float32), "float32"),
        ("float32", -0.5, "float32"),  # a Python number is weak
        ("float64", np.array([1.0, -0.5], np.float32), "float64"),
        ("int64", np.array([1.0, -0.5], np.float32), "float64"),
        ("float16", np.array([1.0, -0.5], np.float32), "float32"),
    ],
)
def test_weighted_result_dtype(a_dtype: str, b: Any, expected: str) -> None:
    a = np.array([2, 1], dtype=a_dtype)
    res = sk.logsumexp(a, b=b, return_sign=True)[0]
    assert res.dtype == np.dtype(expected)
    bb = np.broadcast_to(np.asarray(b, dtype=np.float64), (2,))
    ref = math.log(abs(bb[0] * math.e**2 + bb[1] * math.e))
    assert float(res) == pytest.approx(ref, rel=4 * float(np.finfo(expected).eps))
    # dtype= still decides when given
    assert sk.logsumexp(a, b=b, dtype="float32", return_sign=True)[0].dtype == np.float32


def test_zero_dimensional_results_are_numpy_scalars() -> None:
    assert repr(sk.softmax(1000, axis=None)) == "np.float64(1.0)"
    assert repr(sk.log_softmax(np.float32(1.0))) == "np.float32(0.0)"
    assert repr(sk.hardmax(np.array(2.0))) == "np.float64(1.0)"
    assert repr(sk.logsumexp(np.array(2.0))) == "np.float64(2.0)"
    out = np.empty(())
    assert sk.softmax(np.array(3.0), out=out) is out  # out= is returned as given
    assert isinstance(sk.softmax(np.array([3.0])), np.ndarray)


def test_complex_logsumexp_other_libraries() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([[1 + 1j, 2 - 1j, -2 + 3j], [0j, 700 + 1j, 699 - 2j]])
    ref = np.array([_mp_lse(row) for row in x])
    res = sk.logsumexp(torch.asarray(x))
    assert isinstance(res, torch.Tensor) and res.dtype == torch.complex128
    np.testing.assert_allclose(res.numpy(), ref, rtol=4e-16)
    assert cmath.isclose(complex(sk.logsumexp(torch.asarray(x[0]))), ref[0], rel_tol=4e-16)
