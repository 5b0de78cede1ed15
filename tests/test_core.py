"""The shared layer (argument handling, dtype policy, NumPy fast path) seen through the public API.

The helpers in ``softmaxkit._base.core`` are private and may change; these tests pin down what users
see: which inputs are accepted, the dtype of the result, how axes, temperatures, masks and
weights are validated, and that the NumPy fast path agrees with the generic path.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import oracle
import pytest

import softmaxkit as sk

MAPS = ("softmax", "log_softmax", "logsumexp", "hardmax")
TEMPERED = ("softmax", "log_softmax", "logsumexp")
BF16 = np.dtype(ml_dtypes.bfloat16)


def call(name: str, x: Any, **kw: Any) -> Any:
    return getattr(sk, name)(x, **kw)


def test_public_names() -> None:
    for name in MAPS:
        assert callable(getattr(sk, name))
        assert name in sk.__all__
    assert list(sk.__all__) == sorted(sk.__all__)


# --------------------------------------------------------------------------------------------
# dtype policy
# --------------------------------------------------------------------------------------------

POLICY = [
    # (input dtype, dtype=, result dtype)
    (np.float64, None, np.float64),
    (np.float32, None, np.float32),
    (np.float16, None, np.float16),
    (BF16, None, BF16),
    (np.int8, None, np.float64),
    (np.int64, None, np.float64),
    (np.uint8, None, np.float64),
    (np.bool_, None, np.float64),
    (np.float64, np.float32, np.float32),
    (np.float32, np.float64, np.float64),
    (np.float16, np.float32, np.float32),
    (np.int32, np.float16, np.float16),
    (np.float64, "float32", np.float32),
]


@pytest.mark.parametrize(("in_dtype", "dtype", "out_dtype"), POLICY, ids=str)
@pytest.mark.parametrize("name", MAPS)
def test_dtype_policy(name: str, in_dtype: Any, dtype: Any, out_dtype: Any) -> None:
    x = np.array([[0, 1, 2], [3, 1, 0]]).astype(in_dtype)
    kw = {} if dtype is None else {"dtype": dtype}
    got = call(name, x, **kw)
    assert np.asarray(got).dtype == np.dtype(out_dtype)
    # low precision is computed in float32 or better: the result is the correctly rounded one
    if name != "hardmax" and np.dtype(out_dtype).itemsize <= 2:
        ref = call(name, x.astype(np.float64))
        np.testing.assert_array_equal(np.asarray(got), np.asarray(ref).astype(out_dtype))


@pytest.mark.parametrize("dtype", [np.int32, np.complex128, "int64", "nonsense"], ids=str)
def test_dtype_argument_must_be_a_real_float(dtype: Any) -> None:
    with pytest.raises(TypeError, match="dtype"):
        sk.softmax(np.ones(3), dtype=dtype)


@pytest.mark.parametrize("name", MAPS)
def test_python_containers_and_scalars(name: str) -> None:
    got = call(name, [[1, 2, 3], [0, 0, 0]])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, call(name, np.array([[1.0, 2, 3], [0, 0, 0]])))
    scalar = np.asarray(call(name, 2.5))
    assert scalar.shape == () and scalar.dtype == np.float64


def test_zero_dimensional_input() -> None:
    # a 0-d input is a single entry: probability 1, log-probability 0, logsumexp itself
    assert sk.softmax(np.float64(-3.0)) == 1.0
    assert sk.log_softmax(np.float64(-3.0)) == 0.0
    assert sk.logsumexp(np.float64(-3.0)) == -3.0
    assert sk.softmax(np.float64(-np.inf)) == 0.0
    assert sk.logsumexp(np.float64(-np.inf)) == -np.inf
    assert sk.hardmax(np.float64(7.0)) == 1.0


@pytest.mark.parametrize("bad", [object(), "abc", {"a": 1}, [[1.0, 2.0], [3.0]]], ids=repr)
@pytest.mark.parametrize("name", MAPS)
def test_non_arrays_raise_type_error_naming_x(name: str, bad: Any) -> None:
    with pytest.raises(TypeError, match=r"\bx\b"):
        call(name, bad)


# --------------------------------------------------------------------------------------------
# axes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAPS)
def test_axis_spellings_agree(name: str, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((3, 4, 5))
    ref = call(name, x, axis=(0, 2))
    for axis in [(2, 0), (-1, 0), (0, -1), (-3, -1)]:
        np.testing.assert_array_equal(call(name, x, axis=axis), ref)
    np.testing.assert_array_equal(call(name, x, axis=-1), call(name, x, axis=2))
    np.testing.assert_array_equal(call(name, x, axis=(1,)), call(name, x, axis=1))
    np.testing.assert_array_equal(call(name, x, axis=None), call(name, x, axis=(0, 1, 2)))


@pytest.mark.parametrize("axis", [1.0, "0", True, (0, 1.5)], ids=repr)
@pytest.mark.parametrize("name", MAPS)
def test_axis_must_be_integers(name: str, axis: Any) -> None:
    with pytest.raises(TypeError, match="axis"):
        call(name, np.ones((2, 3)), axis=axis)


def test_empty_axis_tuple_makes_every_entry_its_own_row() -> None:
    x = np.array([[1.0, -np.inf], [np.inf, 0.0]])
    np.testing.assert_array_equal(sk.softmax(x, axis=()), [[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(sk.log_softmax(x, axis=()), [[0.0, -np.inf], [0.0, 0.0]])
    np.testing.assert_array_equal(sk.logsumexp(x, axis=()), x)


def test_zero_size_arrays() -> None:
    x = np.ones((0, 4))
    for name in MAPS:
        assert np.shape(call(name, x)) == ((0,) if name == "logsumexp" else (0, 4))
    # reducing over an axis of length 0 is an empty row: logsumexp -inf, as in scipy
    y = np.ones((3, 0))
    assert sk.softmax(y).shape == (3, 0)
    np.testing.assert_array_equal(sk.logsumexp(y), [-np.inf, -np.inf, -np.inf])


# --------------------------------------------------------------------------------------------
# temperature, mask and weight validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPERED)
def test_temperature_spellings_agree(name: str, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((3, 5))
    ref = call(name, x, temperature=2.0)
    for t in [2, np.float64(2.0), np.float32(2.0), np.array(2.0), np.full((3, 1), 2.0)]:
        np.testing.assert_array_equal(call(name, x, temperature=t), ref)
    per_row = [[0.5], [1.0], [4.0]]
    got = call(name, x, temperature=per_row)
    for i, t in enumerate([0.5, 1.0, 4.0]):
        np.testing.assert_array_equal(got[i], call(name, x[i], temperature=t))


@pytest.mark.parametrize("bad", [True, 1 + 1j, np.array([[1.0], [np.nan]])], ids=repr)
@pytest.mark.parametrize("name", TEMPERED)
def test_bad_temperatures_name_the_argument(name: str, bad: Any) -> None:
    with pytest.raises(ValueError, match="temperature"):
        call(name, np.ones((2, 3)), temperature=bad)


def test_temperature_error_names_the_position() -> None:
    t = np.array([[1.0], [2.0], [-0.5]])
    with pytest.raises(ValueError, match=r"temperature.*-0\.5"):
        sk.softmax(np.ones((3, 4)), temperature=t)


@pytest.mark.parametrize("name", MAPS)
def test_mask_spellings(name: str, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((2, 4))
    mask = np.array([[True, False, True, True], [False, True, True, False]])
    ref = call(name, x, where=mask)
    np.testing.assert_array_equal(call(name, x, where=mask.tolist()), ref)
    np.testing.assert_array_equal(call(name, x, where=True), call(name, x))
    np.testing.assert_array_equal(
        call(name, x, where=mask[:1]), call(name, x, where=np.repeat(mask[:1], 2, axis=0))
    )


@pytest.mark.parametrize("name", MAPS)
def test_mask_must_be_boolean(name: str) -> None:
    with pytest.raises(TypeError, match="where"):
        call(name, np.ones((2, 3)), where=np.ones((2, 3), dtype=np.int64))


def test_weights_validation() -> None:
    with pytest.raises(ValueError, match=r"\bb\b"):
        sk.logsumexp(np.ones((2, 3)), b=np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"\bb\b"):
        sk.logsumexp(np.ones((2, 3)), b=np.array(["a", "b", "c"]))
    # zero weights exclude entries exactly like a mask
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(
        sk.logsumexp(x, b=np.array([1.0, 0.0, 1.0])),
        sk.logsumexp(x, where=np.array([True, False, True])),
    )


# --------------------------------------------------------------------------------------------
# inputs are not modified, any memory layout works
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAPS)
def test_inputs_untouched_and_read_only_ok(name: str, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((4, 6))
    x[0, 0] = -np.inf
    mask = rng.random((4, 6)) > 0.3
    x_copy, mask_copy = x.copy(), mask.copy()
    x.setflags(write=False)
    mask.setflags(write=False)
    call(name, x, where=mask)
    call(name, x)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(mask, mask_copy)


@pytest.mark.parametrize("name", MAPS)
def test_memory_layouts_agree(name: str, rng: np.random.Generator) -> None:
    base = 3 * rng.standard_normal((6, 20))
    strided = base[:, ::2]
    fortran = np.asfortranarray(strided)
    ref = call(name, np.ascontiguousarray(strided))
    np.testing.assert_array_equal(call(name, strided), ref)
    np.testing.assert_array_equal(call(name, fortran), ref)
    big_endian = strided.astype(">f8")
    np.testing.assert_array_equal(call(name, big_endian), ref)


# --------------------------------------------------------------------------------------------
# the NumPy fast path
# --------------------------------------------------------------------------------------------


def _generic(name: str, x: np.ndarray, **kw: Any) -> Any:
    # an all-True mask gives the same mathematical result through the generic path
    return call(name, x, where=np.ones(x.shape, dtype=bool), **kw)


def _ulps_apart(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    special = ~np.isfinite(a64) | ~np.isfinite(b64)
    assert np.array_equal(a64[special], b64[special])
    mag = np.where(special, 0.0, np.maximum(np.abs(a64), np.abs(b64)))
    ulp = np.spacing(mag.astype(a.dtype)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return float(np.where(special, 0.0, np.abs(a64 - b64) / ulp).max())


@pytest.mark.parametrize("shape", [(500, 5), (64, 16), (64, 17), (40, 300), (2, 40000)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_fast_path_matches_generic_path(name: str, dtype: Any, shape: tuple[int, int]) -> None:
    """Narrow, medium and wide rows, every dtype the fast path takes, T = 1 and T = 0.37."""
    rng = np.random.default_rng(shape[1])
    x = (20 * rng.standard_normal(shape)).astype(dtype)
    x[0, :] = -np.inf
    x[1, 2] = np.inf
    for t in (1.0, 0.37):
        fast = call(name, x, temperature=t)
        generic = _generic(name, x, temperature=t)
        assert fast.dtype == generic.dtype == dtype
        # both are within 2 ulp of the exact value
        assert _ulps_apart(fast, generic) <= 4, (name, dtype, shape, t)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_fast_path_threads_keep_rows_independent(name: str) -> None:
    """A batch large enough to be split over threads gives every row its own result."""
    rng = np.random.default_rng(5)
    x = 10 * rng.standard_normal((3000, 100))
    whole = call(name, x)
    halves = np.concatenate([call(name, x[:1500]), call(name, x[1500:])])
    np.testing.assert_array_equal(whole, halves)
    rows = [0, 1499, 1500, 2999]
    exact = getattr(oracle, name)(x[rows])
    if name == "logsumexp":
        scale = oracle.logsumexp_scale(x[rows], exact)
        assert oracle.ulp_error_scaled(whole[rows], exact, scale).max() <= 2
    else:
        assert oracle.max_ulp(whole[rows], exact) <= 2


def test_wide_rows_equal_single_rows() -> None:
    rng = np.random.default_rng(6)
    x = 5 * rng.standard_normal((2, 70000))
    for name in ("softmax", "log_softmax", "logsumexp"):
        batch = call(name, x)
        for i in range(2):
            np.testing.assert_array_equal(batch[i], call(name, x[i]))


# --- NumPy masked arrays and the public exception classes (issue 14, case 15) -------------


def _masked() -> np.ma.MaskedArray:
    # the values under the mask are NaN and +inf: they must never be read
    data = np.array([[1.0, 2.0, np.nan, 0.5], [3.0, np.inf, 4.0, 5.0]])
    return np.ma.masked_array(data, mask=[[0, 0, 1, 0], [0, 1, 0, 0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "sparsemax"])
def test_masked_array_is_honoured_as_where(name: str) -> None:
    """The last commit dropped the mask: softmax of the first row was NaN, the second all
    mass on the hidden +inf. Now the masked entries are excluded like where=False."""
    fn = getattr(sk, name)
    x = _masked()
    keep = ~np.ma.getmaskarray(x)
    expected = fn(np.where(keep, x.data, 0.0), where=keep)
    got = fn(x)
    assert type(got) is np.ndarray  # a plain array, not a masked one
    np.testing.assert_array_equal(got, expected)
    assert not np.isnan(got).any()
    # combined with an explicit where by logical and
    extra = np.array([True, True, True, False])
    np.testing.assert_array_equal(fn(x, where=extra),
                                  fn(np.where(keep, x.data, 0.0), where=keep & extra))


def test_masked_array_numbers() -> None:
    x = _masked()
    p = sk.softmax(x)
    e = np.exp([1.0, 2.0, 0.5])
    np.testing.assert_allclose(p[0], [e[0] / e.sum(), e[1] / e.sum(), 0.0, e[2] / e.sum()],
                               rtol=1e-15)
    assert p[0, 2] == 0.0 and p[1, 1] == 0.0
    assert sk.log_softmax(x)[1, 1] == -np.inf
    lse = [np.log(e.sum()), np.log(np.exp([3.0, 4.0, 5.0]).sum())]
    np.testing.assert_allclose(sk.logsumexp(x), lse, rtol=1e-15)
    np.testing.assert_array_equal(sk.sparsemax(x), [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    # a mask with nothing masked is just the data
    np.testing.assert_array_equal(sk.softmax(np.ma.masked_array([1.0, 2.0])),
                                  sk.softmax(np.array([1.0, 2.0])))


def test_masked_array_refused_where_no_mask_can_go() -> None:
    x = np.ma.masked_array([0.2, 0.3, 0.5], mask=[0, 1, 0])
    with pytest.raises(TypeError, match=r"^clr: x is a masked array with 1 masked entry; clr "
                       r"cannot honour its mask here"):
        sk.clr(x)


def test_inverse_softmax_raises_the_public_class() -> None:
    with pytest.raises(sk.InvalidProbabilityError) as info:
        sk.inverse_softmax(np.array([0.5, -0.2, 0.7]))
    assert type(info.value) is sk.InvalidProbabilityError
    assert type(info.value).__name__ == "InvalidProbabilityError"
    assert info.value.kind == "entry" and info.value.index == (1,)
    assert isinstance(info.value, ValueError)
