"""Accuracy of softmax, log_softmax, logsumexp and hardmax against the mpmath oracle, in ulps.

Every case draws inputs in the dtype under test, runs the library, and compares with the exact
result of the *same* input floats (see ``oracle.py``). The bounds (``ulp_bound``): float32 and
below are computed in float64 and rounded once, so they are held to 1 ulp. float64 cannot be:
NumPy's ``exp`` is itself only within 1 ulp (not correctly rounded), and softmax divides one such
term by a sum of them, so its bound is 5 ulp (observed ≤ 4.5) and log_softmax's 4 ulp (observed
≤ 3.1); logsumexp stays within 2. Rows whose non-maximal terms are subnormal lose the relative
precision of those terms: their error is bounded by a few units of the smallest subnormal,
which is what the "subnormal" case allows.

logsumexp is measured differently: ``lse = max + T·log Σ exp((x_i - max)/T)`` can cancel when
``max < 0 < T·log Σ`` and the result is then tiny compared with the terms it came from. Its
condition number is about ``|max| / |lse|``, so a perturbation of the input by half an ulp
already moves the result by about an ulp of ``|max|``, and no algorithm working in the input
precision can promise ulps of the tiny result. We therefore measure ``|got - exact|`` in ulps of
``max(|exact|, |max x|)``; whenever the result is at least as large as the maximum (no
cancellation: the well-conditioned case) this is exactly the ulp error of the result.

Run with ``-s`` to see the table of the largest errors observed (``test_report_max_ulp``).
"""

from __future__ import annotations

import math
from typing import Any

import ml_dtypes
import mpmath
import numpy as np
import oracle
import pytest
import scipy.special

import softmaxkit as sk

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = [np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16), BF16]
DTYPE_IDS = [d.name for d in DTYPES]
MAPS = ("softmax", "log_softmax", "logsumexp")
ULP_BOUND = 2.0  # the design's target; see ``ulp_bound`` for what is asserted
_F64_BOUNDS = {"softmax": 5.0, "log_softmax": 4.0, "logsumexp": 2.0}


def ulp_bound(name: str, dtype: Any, case: str = "") -> float:
    """The asserted bound for a map, result dtype and input family (module docstring)."""
    if np.dtype(dtype) != np.float64:
        return 1.0
    if case == "subnormal" and name != "softmax":
        return 8.0
    return _F64_BOUNDS.get(name, ULP_BOUND)
ROWS, COLS = 200, 33

# largest error seen per (map, dtype, case), filled by every accuracy check of this module
_OBSERVED: dict[tuple[str, str, str], float] = {}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _seed(*parts: object) -> int:
    """A seed that depends on the case only (tests must not depend on their order)."""
    return sum((i + 1) * ord(c) for i, c in enumerate("/".join(map(str, parts)))) % 2**32


def _finfo(dtype: Any) -> Any:
    return ml_dtypes.finfo(np.dtype(dtype))


def _cast(values: np.ndarray, dtype: Any) -> np.ndarray:
    """Cast float64 values to ``dtype``; overflow to ±inf is intended where it happens."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(dtype)


def _exact_and_errors(
    name: str, x: Any, got: Any, dtype: Any, oracle_kw: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The exact values and the elementwise errors (ulps; scaled ulps for logsumexp)."""
    if name == "logsumexp":
        exact = oracle.logsumexp(x, **oracle_kw)
        scale = oracle.logsumexp_scale(
            x,
            exact,
            axis=oracle_kw.get("axis", -1),
            where=oracle_kw.get("where"),
            keepdims=oracle_kw.get("keepdims", False),
        )
        return exact, oracle.ulp_error_scaled(got, exact, scale, dtype)
    exact = getattr(oracle, name)(x, **oracle_kw)
    return exact, oracle.ulp_error(got, exact, dtype)


def _describe_worst(
    name: str,
    x: np.ndarray,
    got: Any,
    exact: np.ndarray,
    err: np.ndarray,
    kw: dict[str, Any],
    bound: float = ULP_BOUND,
) -> str:
    """A failure message naming the worst entry, its input row, the numbers and the ulps."""
    idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    g = np.asarray(got)[idx]
    e = np.asarray(exact, dtype=object)[idx]
    shown = {k: (f"array{np.shape(v)}" if np.ndim(v) else v) for k, v in kw.items()}
    parts = [
        f"{name}({x.dtype}, {shown}): {int((err > bound).sum())} of {err.size} results are "
        f"over {bound} ulp; worst {float(err[idx]):.3f} ulp at index {tuple(map(int, idx))}",
        f"  got      {float(g)!r}",
        f"  expected {float(oracle.round_to(e, np.asarray(got).dtype))!r}"
        f" (exact {mpmath.nstr(e, 25)})",
    ]
    axis = kw.get("axis", -1)
    if x.ndim == 2 and axis in (-1, 1) and len(idx) >= 1:
        parts.append(f"  input row x[{int(idx[0])}] = {[float(v) for v in x[idx[0]]]!r}")
    elif x.size <= 64:
        parts.append(f"  input x = {x.astype(np.float64).tolist()!r}")
    return "\n".join(parts)


def check_accuracy(
    name: str,
    x: np.ndarray,
    *,
    case: str,
    bound: float | None = None,
    dtype: Any = None,
    **kw: Any,
) -> float:
    """Run ``softmaxkit.<name>(x, **kw)``, compare with the oracle, assert ``bound``.

    ``dtype`` is the expected result dtype (default: ``x``'s). Returns the largest error and
    records it for the report.
    """
    dtype = np.dtype(x.dtype if dtype is None else dtype)
    if bound is None:
        bound = ulp_bound(name, dtype, case)
    lib_kw = dict(kw)
    if dtype != x.dtype:
        lib_kw["dtype"] = dtype
    got = getattr(sk, name)(x, **lib_kw)
    assert np.asarray(got).dtype == dtype, f"{name}: result dtype {np.asarray(got).dtype}"
    oracle_kw = {k: v for k, v in kw.items() if k != "dtype"}
    exact, err = _exact_and_errors(name, x, got, dtype, oracle_kw)
    worst = float(err.max()) if err.size else 0.0
    key = (name, dtype.name, case)
    _OBSERVED[key] = max(_OBSERVED.get(key, 0.0), worst)
    assert worst <= bound, _describe_worst(name, x, got, exact, err, kw, bound)
    return worst


# --------------------------------------------------------------------------------------------
# input families
# --------------------------------------------------------------------------------------------


def _near_max_row(dtype: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    fi = _finfo(dtype)
    top = float(fi.max)
    step = top * float(fi.eps) / 2  # spacing just below the largest value
    pool = np.array([top, top - step, top - 2 * step, top - 7 * step, top / 2, -top, 0.0, 1.0])
    return rng.choice(pool, size=n)


def make_case(case: str, dtype: Any, rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    """The named input family, drawn in ``dtype`` (values exactly representable)."""
    rng = np.random.default_rng(_seed(case, np.dtype(dtype).name))
    fi = _finfo(dtype)
    if case == "normal":
        v = rng.standard_normal((rows, cols))
    elif case == "scaled30":
        v = 30 * rng.standard_normal((rows, cols))
    elif case == "scaled700":
        # the max-shift is inexact here and the textbook algorithm loses hundreds of ulp
        v = 700 * rng.standard_normal((rows, cols))
    elif case == "spread":
        top = math.log10(float(fi.max)) - 0.5
        low = math.log10(float(fi.tiny))
        v = rng.choice([-1.0, 1.0], (rows, cols)) * 10.0 ** rng.uniform(low, top, (rows, cols))
    elif case == "ties":
        v = rng.integers(-3, 4, (rows, cols)).astype(np.float64)
    elif case == "subnormal":
        # x - max spans the range where exp(x - max) is subnormal in the target dtype
        lo = -math.log(float(fi.smallest_subnormal))
        hi = -math.log(float(fi.smallest_normal))
        v = -rng.uniform(hi - 2, lo + 1, (rows, cols))
        v[:, 0] = 0.0
    elif case == "near_max":
        v = np.stack([_near_max_row(dtype, rng, cols) for _ in range(rows)])
    else:  # pragma: no cover - a typo in a parametrisation
        raise ValueError(case)
    return _cast(v, dtype)


CASES = ("normal", "scaled30", "scaled700", "spread", "ties", "subnormal", "near_max")


def _rows_for(dtype: Any) -> int:
    # Low precision has few distinct values: fewer rows cover it, and keep the suite fast.
    return ROWS if np.dtype(dtype).itemsize >= 4 else ROWS // 2


# --------------------------------------------------------------------------------------------
# accuracy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", MAPS)
def test_accuracy(name: str, case: str, dtype: np.dtype) -> None:
    x = make_case(case, dtype, rows=_rows_for(dtype))
    check_accuracy(name, x, case=case)


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
def test_accuracy_long_row(dtype: np.dtype) -> None:
    # one row of 1e5 entries: the sum of the non-maximal terms must not lose accuracy
    rng = np.random.default_rng(_seed("long", dtype.name))
    x = (4 * rng.standard_normal(100_000)).astype(dtype)
    for name in MAPS:
        check_accuracy(name, x, case="long row", axis=0)


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
@pytest.mark.parametrize("shape", [(300, 5), (60, 16), (60, 17), (8, 300)], ids=str)
@pytest.mark.parametrize("name", MAPS)
def test_accuracy_row_lengths(name: str, shape: tuple[int, int], dtype: np.dtype) -> None:
    # short rows and long rows may be processed differently (blocked, transposed, chunked)
    rng = np.random.default_rng(_seed("lengths", shape, dtype.name))
    x = (30 * rng.standard_normal(shape)).astype(dtype)
    check_accuracy(name, x, case="row lengths")
    check_accuracy(name, x, case="row lengths", temperature=0.37)


TEMPERATURES = (0.37, 3.0, 1e-3, 1e3)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("temperature", TEMPERATURES, ids=lambda t: f"T={t:g}")
@pytest.mark.parametrize("name", MAPS)
def test_accuracy_temperature(name: str, temperature: float, dtype: np.dtype) -> None:
    rows = _rows_for(dtype) // 2
    rng = np.random.default_rng(_seed("temperature", temperature, dtype.name))
    # x/T of order one (the division must be accurate) and x of order one (large x/T)
    fi = _finfo(dtype)
    scaled = np.clip(3 * temperature * rng.standard_normal((rows, COLS)), -fi.max, fi.max)
    plain = 3 * rng.standard_normal((rows, COLS))
    x = _cast(np.concatenate([scaled, plain]), dtype)
    check_accuracy(name, x, case=f"T={temperature:g}", temperature=temperature)


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
@pytest.mark.parametrize("name", MAPS)
def test_accuracy_temperature_array(name: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(_seed("t-array", dtype.name))
    x = _cast(5 * rng.standard_normal((120, 17)), dtype)
    t = 10.0 ** rng.uniform(-2, 2, (120, 1))
    check_accuracy(name, x, case="T array", temperature=t)
    # the same temperatures broadcast from the reduced shape without the kept axis
    check_accuracy(name, x.T.copy(), case="T array", axis=0, temperature=t.T)


@pytest.mark.parametrize("name", MAPS)
def test_temperature_array_with_limits(name: str) -> None:
    # rows with T = 0 (hardmax limit) and T = inf (uniform limit) next to ordinary rows
    rng = np.random.default_rng(_seed("t-limits"))
    x = np.round(4 * rng.standard_normal((6, 9)))
    x[:, 0] = x[:, 1]  # ties at T = 0 must share the mass
    x[1, 2] = -np.inf
    t = np.array([[0.0], [np.inf], [0.5], [0.0], [np.inf], [2.0]])
    check_accuracy(name, x, case="T array 0/inf", temperature=t)


@pytest.mark.parametrize("name", MAPS)
def test_axis_zero(name: str) -> None:
    rng = np.random.default_rng(_seed("axis0"))
    x = 20 * rng.standard_normal((33, 40))
    check_accuracy(name, x, case="axis", axis=0)
    got = getattr(sk, name)(x, axis=0)
    ref = getattr(sk, name)(np.ascontiguousarray(x.T), axis=-1)
    np.testing.assert_array_equal(got, ref.T)


@pytest.mark.parametrize("name", MAPS)
def test_axis_tuple(name: str) -> None:
    rng = np.random.default_rng(_seed("axis-tuple"))
    x = 10 * rng.standard_normal((4, 5, 6))
    check_accuracy(name, x, case="axis", axis=(0, 2))
    check_accuracy(name, x, case="axis", axis=(2, 0), temperature=np.full((1, 5, 1), 0.7))
    got = getattr(sk, name)(x, axis=(0, 2))
    assert np.shape(got) == ((5,) if name == "logsumexp" else x.shape)
    if name == "softmax":
        np.testing.assert_allclose(got.sum(axis=(0, 2)), 1.0, rtol=0, atol=24 * 2.0**-52)


@pytest.mark.parametrize("name", MAPS)
def test_axis_none(name: str) -> None:
    rng = np.random.default_rng(_seed("axis-none"))
    x = 10 * rng.standard_normal((5, 7))
    check_accuracy(name, x, case="axis", axis=None)
    got = getattr(sk, name)(x, axis=None)
    assert np.shape(got) == (() if name == "logsumexp" else x.shape)


@pytest.mark.parametrize("axis", [-1, 0, (0, 2), None], ids=str)
def test_logsumexp_keepdims(axis: Any) -> None:
    rng = np.random.default_rng(_seed("keepdims", axis))
    x = 10 * rng.standard_normal((3, 4, 5))
    check_accuracy("logsumexp", x, case="keepdims", axis=axis, keepdims=True)
    got = sk.logsumexp(x, axis=axis, keepdims=True)
    expected_shape = np.sum(x, axis=axis, keepdims=True).shape
    assert got.shape == expected_shape
    np.testing.assert_array_equal(
        np.squeeze(got, axis=axis) if axis is not None else got.reshape(()),
        sk.logsumexp(x, axis=axis),
    )


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
@pytest.mark.parametrize("name", MAPS)
def test_where_mask(name: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(_seed("where", dtype.name))
    x = _cast(30 * rng.standard_normal((120, 20)), dtype)
    mask = rng.random((120, 20)) > 0.3
    mask[0] = False  # an empty row
    mask[1] = False
    mask[1, 5] = True  # a single admissible entry
    check_accuracy(name, x, case="where", where=mask)
    # a mask broadcast along the rows
    check_accuracy(name, x, case="where", where=mask[7])
    got = getattr(sk, name)(x, where=mask)
    if name == "softmax":
        assert np.all(got[~mask] == 0)
        assert got[1, 5] == 1
    elif name == "log_softmax":
        assert np.all(got[~mask] == -np.inf)
        assert got[1, 5] == 0
    else:
        assert got[0] == -np.inf


def test_where_with_temperature_and_axis_tuple() -> None:
    rng = np.random.default_rng(_seed("where-t-axes"))
    x = 5 * rng.standard_normal((4, 3, 6))
    mask = rng.random((4, 1, 6)) > 0.4
    for name in MAPS:
        check_accuracy(name, x, case="where", axis=(0, 2), where=mask, temperature=0.37)


def test_logsumexp_weights_positive() -> None:
    rng = np.random.default_rng(_seed("b+"))
    x = 30 * rng.standard_normal((150, 12))
    b = rng.uniform(0, 3, (150, 12))
    b[rng.random((150, 12)) < 0.2] = 0.0  # zero weights remove entries
    b[3] = 0.0
    check_accuracy("logsumexp", x, case="b", b=b)
    got = sk.logsumexp(x, b=b)
    assert got[3] == -np.inf
    ref = scipy.special.logsumexp(x, b=b, axis=-1)
    ok = np.isfinite(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=8 * 2.0**-52, atol=0)
    check_accuracy("logsumexp", x, case="b", b=b[0], temperature=0.37)


def test_logsumexp_weights_signed() -> None:
    rng = np.random.default_rng(_seed("b+-"))
    x = 3 * rng.standard_normal((150, 8))
    b = rng.uniform(-1, 1, (150, 8))
    b[0] = [1.0, -1.0, 0, 0, 0, 0, 0, 0]  # exact cancellation: log 0 with sign 0
    x[0, :2] = 0.5
    got, sign = sk.logsumexp(x, b=b, return_sign=True)
    exact, exact_sign = oracle.logsumexp(x, b=b, return_sign=True)
    np.testing.assert_array_equal(sign, np.array([float(s) for s in exact_sign]))
    assert got[0] == -np.inf and sign[0] == 0
    # With weights of both signs the sum itself can cancel: relative to its terms, its
    # condition number is Σ|b_i|e^{x_i} / |Σ b_i e^{x_i}|, and log turns that relative error
    # into an absolute one.
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    with np.errstate(divide="ignore"):
        cond = np.sum(np.abs(b) * e, axis=-1) / np.abs(np.sum(b * e, axis=-1))
    scale = oracle.logsumexp_scale(x, exact)
    for i in range(1, len(x)):
        diff = abs(float(got[i]) - float(exact[i]))
        tol = 2 * oracle.ulp(float(scale[i]), np.float64) + 4 * cond[i] * 2.0**-52
        assert diff <= tol, (i, x[i].tolist(), b[i].tolist(), got[i], exact[i], cond[i])
    ref, ref_sign = scipy.special.logsumexp(x, b=b, axis=-1, return_sign=True)
    np.testing.assert_array_equal(sign[1:], ref_sign[1:])
    np.testing.assert_allclose(got[1:], ref[1:], rtol=0, atol=1e-9)


def test_logsumexp_negative_sum_without_sign_is_nan() -> None:
    # as in scipy: the log of a negative sum is NaN unless the sign is asked for
    x = np.array([0.0, 0.0])
    b = np.array([1.0, -2.0])
    with np.errstate(invalid="ignore"):
        ref = scipy.special.logsumexp(x, b=b)
    assert np.isnan(ref)
    assert np.isnan(sk.logsumexp(x, b=b))
    val, sign = sk.logsumexp(x, b=b, return_sign=True)
    assert val == 0.0 and sign == -1.0


# --------------------------------------------------------------------------------------------
# extended reals, empty rows, NaN, limits
# --------------------------------------------------------------------------------------------


def _extended_rows() -> np.ndarray:
    inf = np.inf
    return np.array(
        [
            [1.0, 2.0, -inf, 3.0],
            [-inf, -inf, -inf, -inf],  # empty
            [1.0, inf, inf, -inf],  # +inf entries share the mass
            [inf, -inf, 0.0, 5.0],
            [-inf, -inf, 7.0, -inf],  # a single admissible entry
            [-1e308, 1e308, -inf, 1e308],
        ]
    )


@pytest.mark.parametrize("name", MAPS)
def test_extended_reals(name: str) -> None:
    check_accuracy(name, _extended_rows(), case="±inf")
    check_accuracy(name, _extended_rows(), case="±inf", temperature=0.25)


def test_extended_reals_values() -> None:
    x = _extended_rows()
    p = sk.softmax(x)
    np.testing.assert_array_equal(p[1], 0.0)
    np.testing.assert_array_equal(p[2], [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(p[3], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(p[4], [0.0, 0.0, 1.0, 0.0])
    lp = sk.log_softmax(x)
    np.testing.assert_array_equal(lp[1], -np.inf)
    np.testing.assert_array_equal(lp[2], [-np.inf, -np.log(2), -np.log(2), -np.inf])
    lse = sk.logsumexp(x)
    np.testing.assert_array_equal(lse[1:5], [-np.inf, np.inf, np.inf, 7.0])
    assert lse[5] == 1e308  # 1e308 + log 2 rounds back to 1e308
    np.testing.assert_array_equal(sk.hardmax(x)[2], [0.0, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_empty_rows(dtype: np.dtype) -> None:
    x = _cast(np.array([[-np.inf] * 5, [1.0, 2.0, 3.0, 4.0, 5.0], [2.0] * 5]), dtype)
    mask = np.array([[True] * 5, [True] * 5, [False] * 5])
    p = sk.softmax(x, where=mask)
    assert p.dtype == dtype
    np.testing.assert_array_equal(p[[0, 2]].astype(np.float64), 0.0)
    lp = sk.log_softmax(x, where=mask)
    np.testing.assert_array_equal(lp[[0, 2]].astype(np.float64), -np.inf)
    lse = sk.logsumexp(x, where=mask)
    np.testing.assert_array_equal(lse[[0, 2]].astype(np.float64), -np.inf)
    np.testing.assert_array_equal(sk.hardmax(x, where=mask)[[0, 2]].astype(np.float64), 0.0)
    for t in (0.0, 0.5, np.inf):
        assert not np.any(np.isnan(sk.softmax(x, where=mask, temperature=t).astype(float)))
        assert np.all(sk.logsumexp(x, where=mask, temperature=t)[[0, 2]] == -np.inf)
    _, sign = sk.logsumexp(x, where=mask, return_sign=True)
    np.testing.assert_array_equal(sign.astype(np.float64), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("name", [*MAPS, "hardmax"])
def test_nan_stays_in_its_row(name: str) -> None:
    rng = np.random.default_rng(_seed("nan", name))
    x = rng.standard_normal((5, 6))
    x[2, 3] = np.nan
    x[4, 0] = np.inf
    got = np.asarray(getattr(sk, name)(x))
    nan_rows = np.isnan(got).reshape(5, -1).any(axis=1)
    np.testing.assert_array_equal(nan_rows, [False, False, True, False, False])
    assert np.isnan(got[2]).all()
    if name != "hardmax":
        check_accuracy(name, np.delete(x, 2, axis=0), case="nan row")


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
def test_temperature_zero_is_hardmax(dtype: np.dtype) -> None:
    rng = np.random.default_rng(_seed("T=0", dtype.name))
    x = rng.integers(-3, 4, (50, 7)).astype(dtype)
    x[0] = -np.inf
    x[1, :3] = np.inf
    mask = rng.random((50, 7)) > 0.2
    hard = sk.hardmax(x, where=mask)
    check_accuracy("softmax", x, case="T=0", temperature=0.0, where=mask)
    np.testing.assert_array_equal(sk.softmax(x, temperature=0.0, where=mask), hard)
    np.testing.assert_array_equal(
        sk.log_softmax(x, temperature=0.0, where=mask),
        np.log(hard, where=hard > 0, out=np.full_like(hard, -np.inf)),
    )
    top = np.max(np.where(mask, x, -np.inf), axis=-1)
    np.testing.assert_array_equal(sk.logsumexp(x, temperature=0.0, where=mask), top)
    np.testing.assert_array_equal(hard, oracle.round_to(oracle.hardmax(x, where=mask), dtype))


@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.float32)], ids=str)
def test_temperature_inf_is_uniform(dtype: np.dtype) -> None:
    rng = np.random.default_rng(_seed("T=inf", dtype.name))
    x = (10 * rng.standard_normal((40, 7))).astype(dtype)
    x[rng.random((40, 7)) < 0.2] = -np.inf
    x[0] = -np.inf
    mask = rng.random((40, 7)) > 0.2
    admissible = mask & (x > -np.inf)
    n = admissible.sum(axis=-1, keepdims=True)
    p = sk.softmax(x, temperature=np.inf, where=mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        uniform = np.where(admissible, (1.0 / n), 0.0).astype(dtype)
    np.testing.assert_array_equal(p, uniform)
    for name in MAPS:
        check_accuracy(name, x, case="T=inf", temperature=np.inf, where=mask)
    lse = sk.logsumexp(x, temperature=np.inf, where=mask)
    one = n[:, 0] == 1
    assert np.all(lse[n[:, 0] >= 2] == np.inf)
    assert np.all(lse[n[:, 0] == 0] == -np.inf)
    np.testing.assert_array_equal(lse[one], np.max(np.where(admissible, x, -np.inf), -1)[one])


@pytest.mark.parametrize("name", MAPS)
def test_dtype_argument(name: str) -> None:
    rng = np.random.default_rng(_seed("dtype-arg"))
    x64 = 30 * rng.standard_normal((60, 11))
    # down: the float64 input rounded once, to float32, at the end
    check_accuracy(name, x64, case="dtype=", dtype=np.float32)
    # up: float16 input computed to full float64 accuracy
    x16 = x64.astype(np.float16)
    check_accuracy(name, x16, case="dtype=", dtype=np.float64)
    got = getattr(sk, name)(x64, dtype="float32")
    assert np.asarray(got).dtype == np.float32


@pytest.mark.parametrize("name", [*MAPS, "hardmax"])
@pytest.mark.parametrize("int_dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_], ids=str)
def test_integer_input_promotes_to_float64(name: str, int_dtype: Any) -> None:
    rng = np.random.default_rng(_seed("int", name))
    x = rng.integers(0, 2 if int_dtype is np.bool_ else 100, (7, 9)).astype(int_dtype)
    got = getattr(sk, name)(x)
    assert np.asarray(got).dtype == np.float64
    np.testing.assert_array_equal(got, getattr(sk, name)(x.astype(np.float64)))
    if name != "hardmax":
        check_accuracy(name, x.astype(np.float64), case="int")


def test_float16_near_overflow() -> None:
    # exp(65504) overflows everything; the result must still be exact to float16
    x = np.array(
        [[65504, 65504, 65472], [65504, -65504, 0], [-65504, -65504, -65472], [60000, 65504, 1]],
        dtype=np.float16,
    )
    for name in MAPS:
        check_accuracy(name, x, case="near_max")
    lse = sk.logsumexp(x)
    assert lse.dtype == np.float16
    # 65504 + log 2 and 65504 + log(1 + e^-32) both round to 65504 (spacing 32), not to inf
    assert lse[0] == 65504 and lse[1] == 65504 and lse[3] == 65504
    np.testing.assert_array_equal(sk.softmax(x)[0], np.array([0.5, 0.5, 0], dtype=np.float16))


def test_scalar_and_single_entry() -> None:
    assert sk.softmax(np.float64(3.0)) == 1.0
    assert sk.log_softmax(np.array([3.0])) == 0.0
    assert sk.logsumexp(np.array([3.0])) == 3.0
    assert sk.logsumexp(np.array([-np.inf])) == -np.inf
    assert sk.softmax(np.array([np.inf]))[0] == 1.0


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------

ALL_MAPS = [*MAPS, "hardmax"]


@pytest.mark.parametrize("bad", [-1.0, -np.inf, np.nan, "hot", None, [1.0, -2.0]], ids=repr)
@pytest.mark.parametrize("name", MAPS)
def test_error_temperature(name: str, bad: Any) -> None:
    # a list stands for a per-row temperature array holding one bad entry
    t = np.array(bad)[:, None] if isinstance(bad, list) else bad
    with pytest.raises(ValueError, match="temperature"):
        getattr(sk, name)(np.ones((2, 3)), temperature=t)


@pytest.mark.parametrize("name", MAPS)
def test_error_temperature_shape(name: str) -> None:
    with pytest.raises(ValueError, match="temperature"):
        getattr(sk, name)(np.ones((2, 3)), temperature=np.ones(3))


@pytest.mark.parametrize("axis", [2, -3, (0, 5)], ids=str)
@pytest.mark.parametrize("name", ALL_MAPS)
def test_error_axis_out_of_range(name: str, axis: Any) -> None:
    with pytest.raises(ValueError, match="axis"):
        getattr(sk, name)(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("axis", [(0, 0), (1, -1), (0, 1, -2)], ids=str)
@pytest.mark.parametrize("name", ALL_MAPS)
def test_error_duplicate_axes(name: str, axis: Any) -> None:
    with pytest.raises(ValueError, match="axis"):
        getattr(sk, name)(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("name", ALL_MAPS)
def test_error_mask_not_broadcastable(name: str) -> None:
    with pytest.raises(ValueError, match="where"):
        getattr(sk, name)(np.ones((2, 3)), where=np.ones((2, 2), dtype=bool))


@pytest.mark.parametrize(
    "bad",
    [np.array(["a", "b"]), np.array([1.0, "x"], dtype=object), ["a", "b"], np.array([1 + 2j])],
    ids=["str", "object", "list-of-str", "complex"],
)
@pytest.mark.parametrize("name", ALL_MAPS)
def test_error_non_numeric_input(name: str, bad: Any) -> None:
    if name == "logsumexp" and np.iscomplexobj(bad):
        # complex logsumexp is defined, as in SciPy (issue 14, case 17); the other maps refuse
        assert sk.logsumexp(bad) == 1 + 2j
        return
    with pytest.raises(TypeError, match=r"\bx\b"):
        getattr(sk, name)(bad)


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def test_report_max_ulp() -> None:
    """Print the largest ulp error observed per case, map and dtype; assert the bound.

    The accuracy tests above fill the table; run alone, this test measures the standard input
    families itself.
    """
    for name in MAPS:
        for dtype in DTYPES:
            for case in CASES:
                if (name, dtype.name, case) not in _OBSERVED:
                    x = make_case(case, dtype, rows=_rows_for(dtype))
                    check_accuracy(name, x, case=case, bound=math.inf)
    cases = sorted({c for _, _, c in _OBSERVED}, key=lambda c: (c not in CASES, c))
    short = {"float64": "f64", "float32": "f32", "float16": "f16", "bfloat16": "bf16"}
    cw = max(len(c) for c in cases) + 1
    lines = [
        "largest error in ulp (logsumexp: in ulps of max(|lse|, |max x|)); - = not measured",
        " " * cw + "".join(f"{name:<{7 * len(DTYPES)}}" for name in MAPS),
        " " * cw + "".join(f"{short[d.name]:>6} " for _ in MAPS for d in DTYPES),
    ]
    over = []
    for c in cases:
        row = f"{c:<{cw}}"
        for name in MAPS:
            for dtype in DTYPES:
                v = _OBSERVED.get((name, dtype.name, c))
                row += f"{'-' if v is None else f'{v:.2f}':>6} "
                if v is not None and v > ulp_bound(name, dtype, c):
                    over.append(f"{name}/{dtype.name}/{c}: {v:.2f}")
        lines.append(row)
    print("\n" + "\n".join(lines))
    assert not over, "over the bound: " + ", ".join(over)
