"""Compositions: closure, clr/alr/ilr and their inverses, zero replacement.

Checked against scikit-bio's ``skbio.stats.composition`` on the same inputs (random
compositions of several sizes, every reference part, batch shapes and axes), against closed
forms, and as views of ``inverse_softmax`` / ``softmax`` / ``base_softmax`` / ``base_logits``.
``test_report_skbio`` prints the largest differences (``pytest -s``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import softmaxkit as sk
from softmaxkit.compositions import (
    BASIS_ATOL,
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

skc = pytest.importorskip("skbio.stats.composition")

# Agreement with scikit-bio: both compute in float64 with different orders of operations
# (scikit-bio: log, mean, matmul; here: one shift in log space, cumulative sums).
PEER = {"rtol": 1e-12, "atol": 1e-12}
_REPORT: dict[str, float] = {}


def compositions(rng: np.random.Generator, shape: tuple[int, ...], scale: bool = True) -> Any:
    """Positive compositions along the last axis, not closed (random totals) when ``scale``."""
    *batch, d = shape
    x = rng.dirichlet(np.full(d, 0.7), size=tuple(batch) or None)
    if scale:
        x = x * rng.uniform(0.5, 1000.0, size=(*batch, 1) if batch else 1)
    return x


def record(name: str, ours: Any, theirs: Any) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, **PEER)
    err = float(np.max(np.abs(ours - theirs), initial=0.0))
    _REPORT[name] = max(_REPORT.get(name, 0.0), err)


SHAPES = [(5,), (40, 3), (30, 8), (6, 5, 7), (200, 50)]


# --------------------------------------------------------------------------------------------
# scikit-bio
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_clr_closure_match_skbio(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    x = compositions(rng, shape)
    for axis in range(-len(shape), len(shape)):
        record("closure", closure(x, axis=axis), skc.closure(x, axis=axis))
        record("clr", clr(x, axis=axis), skc.clr(x, axis=axis))
    z = clr(x)
    record("clr_inv", clr_inv(z), skc.clr_inv(z))


@pytest.mark.parametrize("shape", SHAPES)
def test_alr_matches_skbio_every_reference(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> None:
    x = compositions(rng, shape)
    d = shape[-1]
    for ref in [*range(d), -1, -d]:
        z = alr(x, reference=ref)
        record("alr", z, skc.alr(x, ref_idx=ref))
        record("alr_inv", alr_inv(z, reference=ref), skc.alr_inv(z, ref_idx=ref))
    if len(shape) > 1:
        record("alr", alr(x, reference=1, axis=0), skc.alr(x, ref_idx=1, axis=0))
        z = alr(x, reference=1, axis=0)
        record("alr_inv", alr_inv(z, reference=1, axis=0), skc.alr_inv(z, ref_idx=1, axis=0))


@pytest.mark.parametrize("shape", SHAPES)
def test_ilr_matches_skbio_default_basis(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    x = compositions(rng, shape)
    y = ilr(x)
    record("ilr", y, skc.ilr(x))
    record("ilr_inv", ilr_inv(y), skc.ilr_inv(y))
    if len(shape) == 2:
        # On 2-D input scikit-bio's axis handling (it swaps the axis with the last one, which
        # transposes the other axes of 3-D input) agrees with ours (a move of the axis).
        record("ilr", ilr(x, axis=0), skc.ilr(x, axis=0))
        y0 = ilr(x, axis=0)
        record("ilr_inv", ilr_inv(y0, axis=0), skc.ilr_inv(y0, axis=0))


def test_ilr_matches_skbio_user_basis(rng: np.random.Generator) -> None:
    x = compositions(rng, (50, 6))
    basis = np.asarray(
        skc.sbp_basis(
            np.array(
                [
                    [1, 1, 1, -1, -1, -1],
                    [1, -1, -1, 0, 0, 0],
                    [0, 1, -1, 0, 0, 0],
                    [0, 0, 0, 1, -1, -1],
                    [0, 0, 0, 0, 1, -1],
                ]
            )
        )
    )
    y = ilr(x, basis=basis)
    record("ilr (sbp basis)", y, skc.ilr(x, basis=basis))
    record("ilr_inv (sbp basis)", ilr_inv(y, basis=basis), skc.ilr_inv(y, basis=basis))
    # the first balance in closed form: sqrt(9/6) log(g(x0..x2) / g(x3..x5))
    g = np.log(x).reshape(50, 2, 3).mean(axis=2)
    np.testing.assert_allclose(y[:, 0], math.sqrt(1.5) * (g[:, 0] - g[:, 1]), rtol=1e-13)


def test_replace_zeros_matches_skbio(rng: np.random.Generator) -> None:
    x = compositions(rng, (60, 7))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[:, 0] += 1.0  # no row of zeros
    record("replace_zeros", replace_zeros(x), skc.multi_replace(x))
    record("replace_zeros", replace_zeros(x, delta=1e-3), skc.multi_replace(x, delta=1e-3))
    assert not (replace_zeros(x) == 0).any()


def test_clr_with_zeros_is_skbio_rclr_on_the_positive_parts(rng: np.random.Generator) -> None:
    x = compositions(rng, (40, 6))
    x[rng.random(x.shape) < 0.25] = 0.0
    x[:, 2] += 0.5
    z = clr(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = skc.rclr(x)
    pos = x > 0
    record("clr (zeros) vs rclr", z[pos], r[pos])
    assert np.all(z[~pos] == -np.inf) and np.isnan(r[~pos]).all()


def test_ilr_basis_is_skbio_and_scipy_helmert() -> None:
    scipy_linalg = pytest.importorskip("scipy.linalg")
    for n in (1, 2, 3, 10, 57):
        v = ilr_basis(n)
        assert v.shape == (n - 1, n)
        np.testing.assert_allclose(v, scipy_linalg.helmert(n), rtol=0, atol=1e-15)
        if n > 1:
            np.testing.assert_allclose(v, skc._base._gram_schmidt_basis(n), rtol=0, atol=1e-15)
            np.testing.assert_allclose(v @ v.T, np.eye(n - 1), atol=1e-14)
            np.testing.assert_allclose(v.sum(axis=1), 0.0, atol=1e-14)


def test_report_skbio() -> None:
    """Print the largest absolute differences against scikit-bio (run with -s)."""
    if not _REPORT:
        pytest.skip("run with the scikit-bio tests above")
    width = max(map(len, _REPORT))
    lines = [f"{k:<{width}}  max |ours - skbio| = {v:.3g}" for k, v in sorted(_REPORT.items())]
    print("\n" + "\n".join(lines))
    assert max(_REPORT.values()) < 1e-12


# --------------------------------------------------------------------------------------------
# closed forms and properties
# --------------------------------------------------------------------------------------------


def test_closed_forms() -> None:
    l2 = math.log(2.0)
    np.testing.assert_array_equal(clr(np.array([3.0, 3.0, 3.0])), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(clr(np.array([1.0, 2.0, 4.0])), [-l2, 0.0, l2], rtol=1e-15)
    np.testing.assert_allclose(alr(np.array([1.0, 2.0, 8.0])), [l2, 3 * l2], rtol=1e-15)
    np.testing.assert_allclose(alr(np.array([1.0, 2.0, 8.0]), reference=1), [-l2, 2 * l2])
    # two parts: ilr = log(x0 / x1) / sqrt 2
    np.testing.assert_allclose(ilr(np.array([6.0, 2.0])), [math.log(3.0) / math.sqrt(2)])
    # three parts: sqrt(2/3) log(sqrt(x0 x1) / x2)
    np.testing.assert_allclose(
        ilr(np.array([1.0, 4.0, 8.0]))[1], math.sqrt(2 / 3) * math.log(2.0 / 8.0), rtol=1e-15
    )
    np.testing.assert_allclose(alr_inv(np.log([2.0, 3.0, 4.0]), reference=-1), [0.2, 0.3, 0.4, 0.1])
    np.testing.assert_allclose(closure(np.array([1, 1, 2])), [0.25, 0.25, 0.5], rtol=0)


def test_views_of_the_core_maps(rng: np.random.Generator) -> None:
    x = compositions(rng, (30, 6))
    z = rng.normal(size=(30, 5))
    np.testing.assert_array_equal(clr(x), sk.inverse_softmax(x, gauge="center", normalize=True))
    for r in (0, 3, -1):
        np.testing.assert_array_equal(
            alr(x, reference=r), sk.base_logits(x, base=r, normalize=True)
        )
        np.testing.assert_array_equal(alr_inv(z, reference=r), sk.base_softmax(z, base=r))
    np.testing.assert_array_equal(clr_inv(z), sk.softmax(z))
    # the O(D) Helmert product agrees with the explicit matrix
    np.testing.assert_allclose(ilr(x), ilr(x, basis=ilr_basis(6)), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(ilr_inv(z), ilr_inv(z, basis=ilr_basis(6)), rtol=1e-14)


def test_scale_invariance_and_round_trips(rng: np.random.Generator) -> None:
    x = compositions(rng, (50, 9), scale=False)
    c = rng.uniform(1e-3, 1e5, size=(50, 1))
    for fn in (clr, alr, ilr):
        np.testing.assert_allclose(fn(c * x), fn(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clr(x).sum(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(clr_inv(clr(c * x)), x, rtol=1e-13)
    np.testing.assert_allclose(alr_inv(alr(c * x, reference=4), reference=4), x, rtol=1e-13)
    np.testing.assert_allclose(ilr_inv(ilr(c * x)), x, rtol=1e-13)
    np.testing.assert_allclose(ilr(ilr_inv(ilr(x))), ilr(x), rtol=1e-12, atol=1e-13)


def test_ilr_is_an_isometry(rng: np.random.Generator) -> None:
    x, y = compositions(rng, (40, 7)), compositions(rng, (40, 7))
    d_ilr = np.linalg.norm(ilr(x) - ilr(y), axis=1)
    d_clr = np.linalg.norm(clr(x) - clr(y), axis=1)  # the Aitchison distance
    np.testing.assert_allclose(d_ilr, d_clr, rtol=1e-12)


def test_zeros_follow_the_rule() -> None:
    x = np.array([[2.0, 0.0, 8.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    z = clr(x)
    l2 = math.log(2.0)
    np.testing.assert_allclose(z[0], [-l2, -np.inf, l2, -np.inf])
    np.testing.assert_array_equal(clr_inv(z), closure(x))  # zeros come back exactly
    a = alr(x, reference=2)
    np.testing.assert_allclose(a[0], [-2 * l2, -np.inf, -np.inf])
    back = alr_inv(a, reference=2)
    assert back[0, 1] == 0.0 and back[0, 3] == 0.0
    np.testing.assert_allclose(back, closure(x), rtol=1e-15)


def test_replace_zeros_properties(rng: np.random.Generator) -> None:
    x = rng.integers(0, 4, size=(100, 6)).astype(float)
    x[:, 5] += 1.0
    r = replace_zeros(x, delta=0.005)
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-15)
    assert np.all(r[x == 0] == 0.005)
    # ratios between the non-zero parts are kept
    pos = x > 0
    ratio_x = x / x[:, 5:6]
    ratio_r = r / r[:, 5:6]
    np.testing.assert_allclose(ratio_r[pos], ratio_x[pos], rtol=1e-14)
    # per-part delta: 65 % of a detection limit on the proportion scale
    limits = np.array([0.01, 0.02, 0.03, 0.01, 0.02, 0.03])
    r2 = replace_zeros(x, delta=0.65 * limits)
    np.testing.assert_array_equal(r2[x == 0], np.broadcast_to(0.65 * limits, x.shape)[x == 0])
    np.testing.assert_allclose(r2.sum(axis=1), 1.0, rtol=1e-15)
    # no zeros: the closure
    y = compositions(rng, (5, 4))
    np.testing.assert_array_equal(replace_zeros(y), closure(y))
    # default delta 1/D^2 on a worked example (scikit-bio's docstring)
    np.testing.assert_allclose(
        replace_zeros(np.array([0.2, 0.4, 0.4, 0.0])), [0.1875, 0.375, 0.375, 0.0625]
    )


def test_axis_and_batch(rng: np.random.Generator) -> None:
    x = compositions(rng, (4, 5, 6))
    for axis in (0, 1, 2, -1):
        moved = np.moveaxis(x, axis, -1)
        for fn, kw in ((clr, {}), (alr, {"reference": 2}), (ilr, {})):
            got = np.moveaxis(fn(x, axis=axis, **kw), axis, -1)
            row = fn(moved[1, 2], **kw)
            np.testing.assert_array_equal(got[1, 2], row)  # batch = loop over rows
        y = ilr(x, axis=axis)
        np.testing.assert_allclose(ilr_inv(y, axis=axis), closure(x, axis=axis), rtol=1e-13)
    # clr and closure over a tuple of axes (a 2-D composition)
    np.testing.assert_allclose(clr(x, axis=(1, 2)).sum(axis=(1, 2)), 0.0, atol=1e-13)
    np.testing.assert_allclose(closure(x, axis=(1, 2)).sum(axis=(1, 2)), 1.0, rtol=1e-15)


def test_dtypes(rng: np.random.Generator) -> None:
    counts = rng.integers(1, 50, size=(20, 5))
    assert clr(counts).dtype == np.float64
    np.testing.assert_allclose(clr(counts), clr(counts.astype(float)), rtol=0, atol=0)
    x = compositions(rng, (20, 5)).astype(np.float32)
    for fn in (closure, clr, alr, ilr, replace_zeros):
        got = fn(x)
        assert got.dtype == np.float32
        want = fn(x.astype(np.float64)).astype(np.float32)
        np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-7)
    y = ilr(x)
    assert ilr_inv(y).dtype == np.float32 and clr_inv(y).dtype == np.float32


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [closure, clr, alr, ilr, replace_zeros])
def test_bad_parts_are_named(fn: Any) -> None:
    x = np.array([[0.2, 0.3, 0.5], [0.1, -0.2, 0.3]])
    with pytest.raises(ValueError, match=r"^\w+: x\[1, 1\] = -0.2 is negative"):
        fn(x)
    x[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"x\[1, 1\] = nan is NaN"):
        fn(x)
    x[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"x\[1, 1\] = inf is infinite"):
        fn(x)
    with pytest.raises(ValueError, match=r"row x\[1, :\]: every part is 0"):
        fn(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="no parts"):
        fn(np.zeros((3, 0)))


def test_zero_errors_say_what_to_do() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"ilr: x\[1, 1\] = 0: .*replace_zeros\(x\)") as e:
        ilr(x)
    assert isinstance(e.value, sk.InvalidCompositionError) and e.value.index == (1, 1)
    with pytest.raises(ValueError, match=r"alr: x\[1, 1\] \(row x\[1, :\]\) = 0 at the reference"):
        alr(x, reference=1)
    with pytest.raises(ValueError, match="replace_zeros"):
        alr(x, reference=-2)
    np.testing.assert_array_equal(ilr(replace_zeros(x)).shape, (2, 2))  # the advice works


def test_argument_errors() -> None:
    x = np.array([0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match=r"alr: reference=3 is out of range"):
        alr(x, reference=3)
    with pytest.raises(TypeError, match="reference must be an integer"):
        alr(x, reference=1.0)
    with pytest.raises(ValueError, match=r"alr_inv: reference=-4 is out of range"):
        alr_inv(np.zeros(2), reference=-4)
    with pytest.raises(ValueError, match="axis must be a single integer"):
        ilr(np.ones((2, 3)), axis=(0, 1))
    with pytest.raises(ValueError, match=r"delta=1.0 is invalid; expected a number in \(0, 1\)"):
        replace_zeros(x, delta=1.0)
    with pytest.raises(ValueError, match=r"delta\[2\] = 0.0 is invalid"):
        replace_zeros(x, delta=np.array([0.1, 0.1, 0.0]))
    with pytest.raises(ValueError, match=r"row x\[0, :\]: the 3 zero parts would take 1.2"):
        replace_zeros(np.array([[1.0, 0.0, 0.0, 0.0]]), delta=0.4)
    with pytest.raises(ValueError, match="ilr_basis: n must be an integer >= 1"):
        ilr_basis(0)


def test_basis_is_validated() -> None:
    x = np.array([0.1, 0.2, 0.3, 0.4])
    v = ilr_basis(4)
    with pytest.raises(ValueError, match=r"shape \(4, 3\); expected \(3, 4\).*basis\.T"):
        ilr(x, basis=v.T)
    with pytest.raises(ValueError, match="not orthonormal: row 1 has squared norm 4"):
        ilr(x, basis=v * np.array([[1.0], [2.0], [1.0]]))
    skew = v.copy()
    skew[2] = v[2] + 0.1 * v[1]
    with pytest.raises(ValueError, match="rows 1 and 2 have inner product"):
        ilr_inv(np.zeros(3), basis=skew)
    # orthonormal rows that are not clr vectors: scikit-bio accepts this basis, we do not
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 3)))
    with pytest.raises(ValueError, match=r"basis row \d sums to .* not 0"):
        ilr(x, basis=q.T)
    skc.ilr(x, basis=q.T)  # no error there
    bad = v.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"basis\[0, 0\] = nan is not finite"):
        ilr(x, basis=bad)
    # within the documented tolerance is accepted
    ilr(x, basis=v + BASIS_ATOL / 10)


# --------------------------------------------------------------------------------------------
# other array libraries
# --------------------------------------------------------------------------------------------


def test_torch(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    x = compositions(rng, (20, 6))
    z = rng.normal(size=(20, 5))
    tx, tz = torch.from_numpy(x), torch.from_numpy(z)
    cases = [
        (closure, tx, x, {}),
        (clr, tx, x, {}),
        (alr, tx, x, {"reference": -2}),
        (ilr, tx, x, {}),
        (ilr, tx, x, {"basis": ilr_basis(6)}),
        (replace_zeros, tx, x, {}),
        (clr_inv, tz, z, {}),
        (alr_inv, tz, z, {"reference": 3}),
        (ilr_inv, tz, z, {}),
        (ilr_inv, tz, z, {"basis": torch.from_numpy(ilr_basis(6))}),
    ]
    for fn, t_in, n_in, kw in cases:
        got = fn(t_in, **kw)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64, fn.__name__
        np.testing.assert_allclose(got.numpy(), fn(n_in, **kw), rtol=1e-14, atol=1e-15)
    # gradients flow through the core maps: d/dx Σ_j w_j ilr(x)_j = (Vᵀw)_i / x_i
    leaf = tx[:3].clone().requires_grad_(True)
    w = torch.from_numpy(rng.normal(size=5))
    (ilr(leaf) * w).sum().backward()
    expected = (w.numpy() @ ilr_basis(6)) / x[:3]
    np.testing.assert_allclose(leaf.grad.numpy(), expected, rtol=1e-12)
    got32 = ilr(tx.float())
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.numpy(), ilr(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"ilr: x\[3, 2\] = 0"):
        t0 = tx.clone()
        t0[3, 2] = 0.0
        ilr(t0)


def test_array_api_strict(rng: np.random.Generator) -> None:
    xs = pytest.importorskip("array_api_strict")
    from softmaxkit._base.arrays import host_copy

    x = compositions(rng, (10, 5))
    for fn, kw in (
        (closure, {}),
        (clr, {}),
        (alr, {"reference": 2}),
        (ilr, {}),
        (replace_zeros, {}),
    ):
        got = fn(xs.asarray(x), **kw)
        assert type(got) is type(xs.asarray(x))
        np.testing.assert_allclose(host_copy(got), fn(x, **kw), rtol=1e-14, atol=1e-15)
    y = ilr(x)
    for fn in (clr_inv, alr_inv, ilr_inv):
        np.testing.assert_allclose(host_copy(fn(xs.asarray(y))), fn(y), rtol=1e-14, atol=1e-15)


def test_jax_and_dask(rng: np.random.Generator) -> None:
    jnp = pytest.importorskip("jax.numpy")
    da = pytest.importorskip("dask.array")
    x = compositions(rng, (10, 4))
    np.testing.assert_allclose(np.asarray(ilr(jnp.asarray(x))), ilr(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(np.asarray(clr(jnp.asarray(x))), clr(x), rtol=1e-14, atol=1e-15)
    # Dask is lazy: rows that fail a check come out NaN instead of raising
    bad = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 2.0, 3.0], [1.0, -1.0, 2.0, 3.0]])
    y = ilr(da.from_array(bad, chunks=(2, 4))).compute()
    np.testing.assert_allclose(y[0], ilr(bad[0]), rtol=1e-15)
    assert np.isnan(y[1:]).all()
    c = clr(da.from_array(bad, chunks=(2, 4))).compute()
    np.testing.assert_allclose(c[:2], clr(bad[:2]), rtol=1e-15)
    assert np.isnan(c[2]).all()


# --------------------------------------------------------------------------------------------
# accuracy against mpmath
# --------------------------------------------------------------------------------------------


def test_accuracy_against_mpmath(rng: np.random.Generator) -> None:
    """clr and ilr against 50-digit values, in ulps of the magnitudes the formulas go through.

    clr is ``log x_i − mean(log x)``: the logs (up to ``L = max_i |log x_i|``, large for
    unclosed counts) cancel, so its error is measured in ulps of ``L``. ilr adds the weighted
    sums ``Σ_k V_jk clr_k``; the clr error enters them as ``L·Σ_k |V_jk|``.
    """
    mpmath = pytest.importorskip("mpmath")
    oracle = pytest.importorskip("oracle")
    mpmath.mp.dps = oracle.DPS
    d = 8
    x = compositions(rng, (60, d))
    x[:20] *= 1e4  # large totals: large logs that cancel
    # the exact Helmert entries, not their float roundings
    v = [
        [
            (1 if k < j + 1 else (-(j + 1) if k == j + 1 else 0)) / mpmath.sqrt((j + 1) * (j + 2))
            for k in range(d)
        ]
        for j in range(d - 1)
    ]
    exact_clr, exact_ilr, scale_clr, scale_ilr = [], [], [], []
    for row in x:
        logs = [mpmath.log(mpmath.mpf(float(e))) for e in row]
        mean = mpmath.fsum(logs) / d
        c = [g - mean for g in logs]
        big = float(max(abs(g) for g in logs))
        exact_clr.append(c)
        exact_ilr.append([mpmath.fsum(v[j][k] * c[k] for k in range(d)) for j in range(d - 1)])
        scale_clr.append([big] * d)
        scale_ilr.append([big * float(mpmath.fsum(abs(e) for e in v[j])) for j in range(d - 1)])
    err_clr = oracle.ulp_error_scaled(clr(x), np.array(exact_clr, dtype=object), scale_clr)
    err_ilr = oracle.ulp_error_scaled(ilr(x), np.array(exact_ilr, dtype=object), scale_ilr)
    err_mat = oracle.ulp_error_scaled(
        ilr(x, basis=ilr_basis(d)), np.array(exact_ilr, dtype=object), scale_ilr
    )
    print(
        f"\nmax error in ulps: clr {err_clr.max():.2f}, ilr (cumulative sums) "
        f"{err_ilr.max():.2f}, ilr (matrix) {err_mat.max():.2f}"
    )
    assert err_clr.max() <= 2.5  # inverse_softmax's documented bound
    assert err_ilr.max() <= 4.0 and err_mat.max() <= 4.0


# --------------------------------------------------------------------------------------------
# totals beyond the largest float (issue 14)
# --------------------------------------------------------------------------------------------


def test_closure_and_replace_zeros_when_the_total_overflows():
    # [1e308, 1e308, 1] sums to inf: dividing by it gave zeros (and the command line then
    # said "every part is 0"); the row is closed by its largest part first.
    x = np.array([[1e308, 1e308, 1.0], [1e308, 1e308, 0.0], [2.0, 2.0, 6.0]])
    c = closure(x)
    assert c[0].tolist() == [0.5, 0.5, 5e-309]
    assert c[2].tolist() == [0.2, 0.2, 0.6]  # ordinary rows: unchanged (one rounding)
    r = replace_zeros(x)
    assert r[0].tolist() == [0.5, 0.5, 5e-309]
    assert r[1].tolist() == [4.0 / 9.0, 4.0 / 9.0, 1.0 / 9.0]
    assert np.all(np.isfinite(clr(r[:2])))
    f = closure(np.array([3e38, 3e38, 0.0], dtype=np.float32))
    assert f.dtype == np.float32 and f.tolist() == [0.5, 0.5, 0.0]
