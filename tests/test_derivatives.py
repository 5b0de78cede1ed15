"""Closed-form derivatives (softmaxkit.derivatives) against high-precision differentiation.

The reference for every Jacobian, Hessian, JVP and VJP is ``mpmath.diff`` (50 significant
digits) applied to a multiple-precision implementation of the map written here from its
definition, with the input floats taken as exact. Nothing in the reference uses a closed form.
Errors are measured two ways:

* elementwise relative error, for Jacobians and Hessians (every entry is a product of
  probabilities or of their reciprocals, so each can be computed to a few ulp);
* normwise relative error per row (``max |got − ref| / max |ref|``), for JVPs and VJPs, whose
  entries are differences like ``v_i − ⟨p, v⟩`` that may cancel to any small value: their
  elementwise error is then the conditioning of the problem, not the algorithm's.

The bound is 1e-12 in float64 (the measured errors are a few 1e-16).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import mpmath
import numpy as np
import pytest

import softmaxkit as sk

DPS = 50
TOL = 1e-12
NINF = -math.inf

# --------------------------------------------------------------------------------------------
# multiple-precision maps, one row at a time (lists of mpf); they honour mpmath's working
# precision, which mpmath.diff raises while it differentiates
# --------------------------------------------------------------------------------------------

Row = list  # of mpmath.mpf


def _admissible(xs: Row, keep: Sequence[bool]) -> list[bool]:
    return [bool(k) and x != mpmath.ninf for x, k in zip(xs, keep, strict=True)]


def mp_softmax(xs: Row, t: Any, keep: Sequence[bool]) -> Row:
    adm = _admissible(xs, keep)
    if not any(adm):
        return [mpmath.mpf(0)] * len(xs)
    m = max(x for x, a in zip(xs, adm, strict=True) if a)
    e = [mpmath.exp((x - m) / t) if a else mpmath.mpf(0) for x, a in zip(xs, adm, strict=True)]
    s = mpmath.fsum(e)
    return [v / s for v in e]


def mp_log_softmax(xs: Row, t: Any, keep: Sequence[bool]) -> Row:
    adm = _admissible(xs, keep)
    m = max(x for x, a in zip(xs, adm, strict=True) if a)
    s = mpmath.fsum(mpmath.exp((x - m) / t) for x, a in zip(xs, adm, strict=True) if a)
    return [(x - m) / t - mpmath.log(s) if a else mpmath.ninf for x, a in zip(xs, adm, strict=True)]


def mp_logsumexp(xs: Row, t: Any, keep: Sequence[bool]) -> Row:
    adm = _admissible(xs, keep)
    m = max(x for x, a in zip(xs, adm, strict=True) if a)
    s = mpmath.fsum(mpmath.exp((x - m) / t) for x, a in zip(xs, adm, strict=True) if a)
    return [m + t * mpmath.log(s)]


def mp_inverse(ps: Row, t: Any, fin: Sequence[bool], gauge: str, ref: int, value: Any) -> Row:
    """x_i = T log p_i + c(p) on the finite set ``fin`` (fixed: zeros stay on their face)."""
    logs = [t * mpmath.log(p) if f else None for p, f in zip(ps, fin, strict=True)]
    live = [v for v in logs if v is not None]
    if gauge == "center":
        c = value - mpmath.fsum(live) / len(live)
    elif gauge == "sum":
        c = (value - mpmath.fsum(live)) / len(live)
    elif gauge == "reference":
        c = value - logs[ref]
    else:
        c = value - t * mpmath.log(mpmath.fsum(p for p, f in zip(ps, fin, strict=True) if f))
    x = [mpmath.ninf if v is None else v + c for v in logs]
    if gauge == "reference":
        x[ref] = value  # by definition (T log p_r + c would leave a rounding of 1e-60)
    return x


def mp_base_softmax(zs: Row, t: Any, keep: Sequence[bool], base: int) -> Row:
    xs = [*zs[:base], mpmath.mpf(0), *zs[base:]]
    return mp_softmax(xs, t, [*keep[:base], True, *keep[base:]])


def mp_base_logits(ps: Row, t: Any, fin: Sequence[bool], base: int) -> Row:
    x = mp_inverse(ps, t, fin, "reference", base, 0)
    return x[:base] + x[base + 1 :]


def _diff(g: Callable[..., Any], at: tuple[int, ...], order: tuple[int, ...]) -> Any:
    """mpmath.diff of one output component; a component that is infinite at and around the
    point (the constant −inf of an excluded entry) has derivative exactly 0."""
    zero = [mpmath.mpf(0)] * len(at)
    if mpmath.isinf(g(*zero)):
        h = mpmath.mpf(2) ** -80
        for sign in (1, -1):
            if g(*[sign * h] * len(at)) != g(*zero):
                return mpmath.nan  # not locally constant: no derivative
        return mpmath.mpf(0)
    if len(at) == 1:
        return mpmath.diff(g, 0, order[0])
    return mpmath.diff(g, tuple(zero), order)


def mp_jacobian(f: Callable[[Row], Row], x: Row) -> list[list[Any]]:
    """J[i][j] = ∂f_i/∂x_j by mpmath.diff, one evaluation of f shared by all i."""
    cols = []
    for j in range(len(x)):
        cache: dict[Any, Row] = {}

        def moved(t: Any, j: int = j, cache: dict = cache) -> Row:
            key = (t, mpmath.mp.prec)
            if key not in cache:
                y = list(x)
                y[j] = y[j] + t
                cache[key] = f(y)
            return cache[key]

        m = len(moved(mpmath.mpf(0)))
        cols.append([_diff(lambda t, i=i: moved(t)[i], (0,), (1,)) for i in range(m)])
    return [list(r) for r in zip(*cols, strict=True)]


def mp_directional(f: Callable[[Row], Row], x: Row, v: Row) -> Row:
    """d/dt f(x + t v) at t = 0 by mpmath.diff."""
    cache: dict[Any, Row] = {}

    def moved(t: Any) -> Row:
        key = (t, mpmath.mp.prec)
        if key not in cache:
            cache[key] = f([a + t * b for a, b in zip(x, v, strict=True)])
        return cache[key]

    m = len(moved(mpmath.mpf(0)))
    return [_diff(lambda t, i=i: moved(t)[i], (0,), (1,)) for i in range(m)]


def mp_hessian(f: Callable[[Row], Row], x: Row) -> list[list[list[Any]]]:
    """H[i][j][k] = ∂²f_i/∂x_j∂x_k by mpmath.diff (mixed partial of f(x + s e_j + t e_k))."""
    n = len(x)
    m = len(f(list(x)))
    h = [[[None] * n for _ in range(n)] for _ in range(m)]
    for j in range(n):
        for k in range(j, n):
            cache: dict[Any, Row] = {}

            def moved(s: Any, t: Any, j: int = j, k: int = k, cache: dict = cache) -> Row:
                key = (s, t, mpmath.mp.prec)
                if key not in cache:
                    y = list(x)
                    y[j] = y[j] + s
                    y[k] = y[k] + t
                    cache[key] = f(y)
                return cache[key]

            for i in range(m):
                val = _diff(lambda s, t, i=i: moved(s, t)[i], (0, 0), (1, 1))
                h[i][j][k] = h[i][k][j] = val
    return h


def _mp(v: float) -> mpmath.mpf:
    return mpmath.mpf(float(v))  # exact: every float64 is an mpf


# --------------------------------------------------------------------------------------------
# error measures
# --------------------------------------------------------------------------------------------


def rel_error(got: Any, ref: Any) -> float:
    """Largest elementwise relative error; an exact 0 must be matched exactly (else inf)."""
    got = np.asarray(got, dtype=np.float64)
    ref_f = np.asarray(ref, dtype=object)
    assert got.shape == ref_f.shape, (got.shape, ref_f.shape)
    worst = 0.0
    for g, r in zip(got.ravel().tolist(), ref_f.ravel().tolist(), strict=True):
        if math.isnan(g) or mpmath.isnan(r):
            return math.inf  # NaN is never expected here
        if r == 0:
            if g != 0:
                return math.inf
            continue
        worst = max(worst, float(abs((mpmath.mpf(g) - r) / r)))
    return worst


def norm_error(got: Any, ref: Any, block_ndim: int) -> float:
    """Largest over blocks (the last ``block_ndim`` axes) of max |got − ref| / max |ref|."""
    got = np.asarray(got, dtype=np.float64)
    ref_o = np.asarray(ref, dtype=object)
    assert got.shape == ref_o.shape, (got.shape, ref_o.shape)
    block = int(np.prod(got.shape[got.ndim - block_ndim :]))
    g2 = got.reshape(-1, block)
    r2 = ref_o.reshape(-1, block)
    worst = 0.0
    for gr, rr in zip(g2, r2, strict=True):
        if np.isnan(gr).any() or any(mpmath.isnan(r) for r in rr):
            return math.inf
        scale = max(abs(r) for r in rr)
        diff = max(abs(mpmath.mpf(float(g)) - r) for g, r in zip(gr, rr, strict=True))
        if scale == 0:
            if diff != 0:
                return math.inf
            continue
        worst = max(worst, float(diff / scale))
    return worst


# --------------------------------------------------------------------------------------------
# problems: a map, a batch of points, its keywords and the mpmath map of each row
# --------------------------------------------------------------------------------------------

KINDS = ("T=1", "T=0.37", "T per row", "mask")
GAUGES = ("center", "reference", "sum", "logsumexp")
NAMES = (
    "softmax",
    "log_softmax",
    "logsumexp",
    *(f"inverse_softmax[{g}]" for g in GAUGES),
    "base_softmax",
    "base_logits",
)


@dataclass
class Problem:
    """``fn(x, **kw)`` on ``rows`` rows along the last axis; ``rows_mp[r]`` is (the mpmath map
    of row r, the exact inputs of row r)."""

    fn: Callable[..., Any]
    x: np.ndarray
    kw: dict[str, Any]
    rows_mp: list[tuple[Callable[[Row], Row], Row]]
    scalar: bool = False  # one output per row (logsumexp)


def _temperature(kind: str, rows: int) -> Any:
    if kind == "T=0.37":
        return 0.37
    if kind == "T per row":
        return np.linspace(0.3, 2.5, rows).reshape(rows, 1)
    if kind == "mask":
        return 0.8
    return 1.0


def problem(name: str, kind: str, rows: int, n: int, seed: int) -> Problem:
    """Random points (logits 2·N(0, 1), or their softmax for the inverse maps); ``kind`` picks
    the temperature, or a mask with −inf entries and zero probabilities."""
    rng = np.random.default_rng(seed)
    t = _temperature(kind, rows)
    t_rows = np.broadcast_to(np.asarray(t, dtype=np.float64), (rows, 1))[:, 0]
    base = int(rng.integers(-n, n)) if name.startswith("base") else 0
    if name.startswith(("inverse", "base_logits")):
        p = sk.softmax(2.0 * rng.standard_normal((rows, n)))
        where = None
        if kind == "mask":
            # zero probabilities (a face of the simplex) and, for inverse_softmax, a masked
            # entry holding a value that is ignored
            # never at the reference index (2) or the base, where the map is not defined
            avoid = 2 if name.startswith("inverse") else base % n
            for r in range(0, rows, 2):
                j = (r // 2) % (n - 1)
                j += j >= avoid
                p[r, j] = 0.0
                p[r] /= p[r].sum()
            if name.startswith("inverse"):
                where = np.ones(p.shape, dtype=bool)
                for r in range(1, rows, 2):
                    where[r, 1] = False
                    p[r, 1] = 0.0
                    p[r] /= p[r].sum()
                    p[r, 1] = 0.7
        if name.startswith("inverse"):
            gauge = name[name.index("[") + 1 : -1]
            kw = {"temperature": t, "gauge": gauge, "reference": 2, "value": 0.5, "where": where}
            fn = sk.inverse_softmax
        else:
            kw, fn = {"temperature": t, "base": base}, sk.base_logits
        rows_mp = []
        for r in range(rows):
            fin = [bool(p[r, i] > 0) and (where is None or bool(where[r, i])) for i in range(n)]
            tr = _mp(t_rows[r])
            if fn is sk.inverse_softmax:
                g = partial(mp_inverse, t=tr, fin=fin, gauge=kw["gauge"], ref=2, value=_mp(0.5))
            else:
                g = partial(mp_base_logits, t=tr, fin=fin, base=base % n)
            rows_mp.append((g, [_mp(a) for a in p[r]]))
        return Problem(fn, p, kw, rows_mp)

    x = 2.0 * rng.standard_normal((rows, n))
    where = None
    if kind == "mask":
        where = np.ones((rows, n), dtype=bool)
        for r in range(rows):
            if r % 3 == 0:
                where[r, r % n] = False
            elif r % 3 == 1:
                x[r, (r + 1) % n] = NINF
    kw = {"temperature": t, "where": where}
    fn = getattr(sk, name)
    rows_mp = []
    for r in range(rows):
        keep = [True] * n if where is None else [bool(k) for k in where[r]]
        tr = _mp(t_rows[r])
        if name == "base_softmax":
            g = partial(mp_base_softmax, t=tr, keep=keep, base=base % (n + 1))
        else:
            g = partial(MAPS_MP[name], t=tr, keep=keep)
        rows_mp.append((g, [_mp(a) for a in x[r]]))
    if name == "base_softmax":
        kw["base"] = base
    return Problem(fn, x, kw, rows_mp, scalar=name == "logsumexp")


MAPS_MP: dict[str, Callable[..., Row]] = {
    "softmax": mp_softmax,
    "log_softmax": mp_log_softmax,
    "logsumexp": mp_logsumexp,
}


def measure(
    prob: Problem, *, hessian: bool = True, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Errors of jacobian, hessian, jvp and vjp against mpmath.diff: (elementwise, normwise)."""
    rng = np.random.default_rng(seed)
    x, kw = prob.x, prob.kw
    ref_j, ref_h, ref_jvp = [], [], []
    v = rng.standard_normal(x.shape)
    for g, xs in prob.rows_mp:
        jr = mp_jacobian(g, xs)
        ref_j.append(jr[0] if prob.scalar else jr)
        ref_jvp.append(mp_directional(g, xs, [_mp(a) for a in v[len(ref_jvp)]]))
        if hessian:
            hr = mp_hessian(g, xs)
            ref_h.append(hr[0] if prob.scalar else hr)
    m = 1 if prob.scalar else len(np.asarray(ref_j[0], dtype=object))
    u = rng.standard_normal((x.shape[0],) if prob.scalar else (x.shape[0], m))
    ref_vjp = []
    for r, jr in enumerate(ref_j):
        rows_j = [jr] if prob.scalar else jr
        ur = [_mp(u[r])] if prob.scalar else [_mp(a) for a in u[r]]
        ref_vjp.append(
            [mpmath.fsum(ur[i] * rows_j[i][j] for i in range(m)) for j in range(x.shape[1])]
        )
    if prob.scalar:
        ref_jvp = [r[0] for r in ref_jvp]
    out = {}
    got = sk.jacobian(prob.fn, x, **kw)
    out["jacobian"] = (rel_error(got, ref_j), norm_error(got, ref_j, 1 if prob.scalar else 2))
    if hessian:
        got = sk.hessian(prob.fn, x, **kw)
        out["hessian"] = (rel_error(got, ref_h), norm_error(got, ref_h, 2 if prob.scalar else 3))
    got = sk.jvp(prob.fn, x, v, **kw)
    out["jvp"] = (rel_error(got, ref_jvp), norm_error(got, ref_jvp, 0 if prob.scalar else 1))
    got = sk.vjp(prob.fn, x, u, **kw)
    out["vjp"] = (rel_error(got, ref_vjp), norm_error(got, ref_vjp, 1))
    return out


@pytest.fixture(autouse=True)
def _precision() -> Any:
    with mpmath.workdps(DPS):
        yield


# --------------------------------------------------------------------------------------------
# every map against mpmath.diff
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_derivatives_match_mpmath(name: str, kind: str) -> None:
    # Jacobians and Hessians elementwise; JVPs and VJPs normwise (see the module docstring).
    seed = zlib.crc32(f"{name} {kind}".encode())
    errors = measure(problem(name, kind, rows=4, n=4, seed=seed), seed=seed)
    assert errors["jacobian"][0] <= TOL
    assert errors["hessian"][0] <= TOL
    assert errors["jvp"][1] <= TOL
    assert errors["vjp"][1] <= TOL


def test_probability_near_one_keeps_relative_accuracy() -> None:
    # p_0 = 1 − 4e-18: the naive 1 − p_0 is 0, so the diagonal p_0 (1 − p_0) would be lost,
    # and v_0 − ⟨p, v⟩ would be all rounding error.
    x = np.array([[0.0, -40.0, -41.5]])
    for name in ("softmax", "log_softmax"):
        f = partial(MAPS_MP[name], t=1, keep=[True] * 3)
        errors = measure(Problem(getattr(sk, name), x, {}, [(f, [_mp(a) for a in x[0]])]))
        assert max(e[0] for k, e in errors.items() if k != "vjp") <= TOL, (name, errors)
        assert errors["vjp"][1] <= TOL
    assert sk.softmax_jacobian(x)[0, 0, 0] > 0


# --------------------------------------------------------------------------------------------
# consistency: jvp = J v, vjp = u J, axes, chain rules
# --------------------------------------------------------------------------------------------

ALL_MAPS = {
    "softmax": {"temperature": 0.7},
    "log_softmax": {"temperature": 1.3},
    "logsumexp": {"temperature": 0.9},
    "hardmax": {},
}


@pytest.mark.parametrize("name", list(ALL_MAPS))
@pytest.mark.parametrize("axis", [-1, 0, (0, 2)])
def test_jvp_vjp_agree_with_jacobian(name: str, axis: Any, rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4, 5))
    kw = {**ALL_MAPS[name], "axis": axis}
    jac = sk.jacobian(name, x, **kw)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % 3 for a in axes)
    batch = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    n = math.prod(x.shape[a] for a in axes)

    def rows(a: np.ndarray) -> np.ndarray:
        moved = np.moveaxis(a, axes, tuple(range(3 - len(axes), 3)))
        return moved.reshape((*batch, n))

    v = rng.standard_normal(x.shape)
    got = sk.jvp(name, x, v, **kw)
    if name == "logsumexp":
        assert jac.shape == (*batch, n)
        np.testing.assert_allclose(got, np.sum(jac * rows(v), axis=-1), rtol=1e-13, atol=1e-15)
        u = rng.standard_normal(batch)
        expect = u[..., None] * jac
    else:
        assert jac.shape == (*batch, n, n)
        np.testing.assert_allclose(
            rows(got), np.einsum("...ij,...j->...i", jac, rows(v)), rtol=1e-13, atol=1e-15
        )
        u = rng.standard_normal(x.shape)
        expect = np.einsum("...i,...ij->...j", rows(u), jac)
    np.testing.assert_allclose(rows(sk.vjp(name, x, u, **kw)), expect, rtol=1e-13, atol=1e-15)


def test_tuple_axes_flatten_in_c_order(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4))
    got = sk.softmax_jacobian(x, axis=(0, 2), temperature=0.6)
    flat = np.moveaxis(x, 1, 0).reshape(3, 8)
    np.testing.assert_array_equal(got, sk.softmax_jacobian(flat, temperature=0.6))
    h = sk.log_softmax_hessian(x, axis=(0, 2))
    np.testing.assert_array_equal(h, sk.log_softmax_hessian(flat))
    assert sk.logsumexp_hessian(x, axis=None).shape == (24, 24)


def test_hessian_is_the_jacobian_of_the_jacobian() -> None:
    # Independent of mpmath: the Hessian agrees with forward differences of the closed-form
    # Jacobian to the O(h) truncation error, and is symmetric in its last two indices.
    x = np.array([[0.3, -1.2, 0.8, 2.0]])
    h = sk.softmax_hessian(x, temperature=0.7)
    np.testing.assert_allclose(h, np.swapaxes(h, -1, -2), rtol=0, atol=1e-17)
    step = 1e-6
    for k in range(4):
        e = np.zeros_like(x)
        e[0, k] = step
        fd = (
            sk.softmax_jacobian(x + e, temperature=0.7)
            - sk.softmax_jacobian(x - e, temperature=0.7)
        ) / (2 * step)
        np.testing.assert_allclose(h[0, :, :, k], fd[0], atol=1e-8)


@pytest.mark.parametrize("gauge", ["center", "reference", "sum", "logsumexp"])
def test_inverse_jacobian_is_inverse_on_the_simplex(gauge: str) -> None:
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 0.25, 0.25]])
    t = 0.8
    x = sk.inverse_softmax(p, temperature=t, gauge=gauge, reference=2)
    j_inv = sk.inverse_softmax_jacobian(p, temperature=t, gauge=gauge, reference=2)
    j_sm = sk.softmax_jacobian(x, temperature=t)
    # softmax ∘ inverse_softmax = id on the simplex: J_sm J_inv v = v for Σ v = 0 on the face.
    v = np.array([[0.3, -0.1, -0.5, 0.3], [0.2, 0.0, -0.3, 0.1]])
    np.testing.assert_allclose(np.einsum("rij,rjk,rk->ri", j_sm, j_inv, v), v, atol=1e-14)
    # every gauge is invariant under p -> λ p
    np.testing.assert_allclose(np.einsum("rij,rj->ri", j_inv, p), 0, atol=1e-13)


def test_base_maps_are_inverse_to_first_order(rng: np.random.Generator) -> None:
    z = rng.standard_normal((3, 4))
    for base in (0, 2, -1):
        p = sk.base_softmax(z, temperature=1.4, base=base)
        j_f = sk.base_softmax_jacobian(z, temperature=1.4, base=base)
        j_b = sk.base_logits_jacobian(p, temperature=1.4, base=base)
        np.testing.assert_allclose(j_b @ j_f, np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-13)


def test_jvp_never_forms_the_jacobian() -> None:
    # A row of 4 million entries: its Jacobian would need 128 TB.
    x = np.linspace(-3.0, 3.0, 4_000_000)
    v = np.cos(x)
    out = sk.softmax_jvp(x, v)
    p = sk.softmax(x)
    expect = p * (v - p @ v)
    # v − ⟨p, v⟩ cancels near the zero crossing: compare normwise
    np.testing.assert_allclose(out, expect, rtol=0, atol=1e-12 * np.abs(expect).max())
    assert sk.log_softmax_vjp(x, v).shape == x.shape


# --------------------------------------------------------------------------------------------
# edge cases: exact zeros, special rows, temperatures
# --------------------------------------------------------------------------------------------


def test_masked_and_minus_inf_entries_give_exact_zeros() -> None:
    x = np.array([[0.5, -np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf, -np.inf]])
    where = np.array([True, True, False, True])
    for name in ("softmax", "log_softmax"):
        j = sk.jacobian(name, x, where=where, temperature=0.6)
        assert np.isfinite(j).all()
        assert (j[0, [1, 2], :] == 0).all() and (j[0, :, [1, 2]] == 0).all()
        assert (j[1] == 0).all()  # an empty row
        h = sk.hessian(name, x, where=where)
        assert np.isfinite(h).all() and (h[1] == 0).all()
        assert (h[0][[1, 2]] == 0).all() and (h[0][:, [1, 2]] == 0).all()
        assert (h[0][:, :, [1, 2]] == 0).all()
        # tangents at excluded entries are ignored even when not finite
        v = np.array([[1.0, np.inf, np.nan, 0.0], [np.inf, 1.0, 2.0, 3.0]])
        out = sk.jvp(name, x, v, where=where)
        assert np.isfinite(out).all() and (out[:, [1, 2]] == 0).all() and (out[1] == 0).all()
        out = sk.vjp(name, x, v, where=where)
        assert np.isfinite(out).all() and (out[:, [1, 2]] == 0).all()
    g = sk.logsumexp_jacobian(x, where=where)
    assert (g[1] == 0).all() and (g[0, [1, 2]] == 0).all()
    assert (sk.logsumexp_vjp(x, np.ones(2), where=where)[1] == 0).all()


def test_zeros_where_torch_autograd_gives_nan() -> None:
    torch = pytest.importorskip("torch")
    from torch.func import jacrev

    x = torch.tensor([[0.0, 1.0, -np.inf], [-np.inf, -np.inf, -np.inf]], dtype=torch.float64)
    # torch: the fully masked row is NaN, and log_softmax's −inf entry gets a nonzero row
    # although its output is the constant −inf.
    assert torch.isnan(jacrev(lambda a: torch.softmax(a, -1))(x[1])).all()
    assert torch.isnan(jacrev(lambda a: torch.logsumexp(a, -1))(x[1])).all()
    assert (jacrev(lambda a: torch.log_softmax(a, -1))(x[0])[2] != 0).any()
    # ours: exact zeros, on torch tensors
    j = sk.softmax_jacobian(x)
    assert isinstance(j, torch.Tensor) and (j[1] == 0).all()
    torch.testing.assert_close(j[0], jacrev(lambda a: torch.softmax(a, -1))(x[0]))
    assert (sk.logsumexp_jacobian(x)[1] == 0).all()
    jl = sk.log_softmax_jacobian(x)
    assert (jl[0, 2] == 0).all() and (jl[1] == 0).all()
    torch.testing.assert_close(jl[0, :2], jacrev(lambda a: torch.log_softmax(a, -1))(x[0])[:2])


def test_special_rows() -> None:
    x = np.array(
        [
            [0.0, np.inf, np.inf, 1.0],  # +inf entries share the mass: constant
            [0.0, np.nan, 1.0, 2.0],  # NaN: this row only
            [0.0, 1.0, 2.0, 3.0],  # ordinary
        ]
    )
    for name in ("softmax", "log_softmax"):
        j = sk.jacobian(name, x)
        assert (j[0] == 0).all() and np.isnan(j[1]).all() and np.isfinite(j[2]).all()
        assert (j[2] != 0).any()
        out = sk.jvp(name, x, np.ones_like(x))
        assert (out[0] == 0).all() and np.isnan(out[1]).all() and np.isfinite(out[2]).all()
        h = sk.hessian(name, x)
        assert (h[0] == 0).all() and np.isnan(h[1]).all()
    g = sk.logsumexp_jacobian(x)
    np.testing.assert_array_equal(g[0], [0, 0.5, 0.5, 0])  # the share of the +inf entries
    assert np.isnan(g[1]).all()
    h = sk.logsumexp_hessian(x)
    assert (h[0] == 0).all() and np.isnan(h[1]).all() and np.isfinite(h[2]).all()
    j = sk.hardmax_jacobian(x)
    assert (j[[0, 2]] == 0).all() and np.isnan(j[1]).all()


@pytest.mark.parametrize("t", [0.0, np.inf])
def test_zero_and_infinite_temperature(t: float) -> None:
    x = np.array([[0.0, 2.0, 2.0, -1.0], [1.0, np.nan, 0.0, 0.0]])
    for name in ("softmax", "log_softmax"):
        j = sk.jacobian(name, x, temperature=t)
        assert (j[0] == 0).all() and np.isnan(j[1]).all()
        assert (sk.vjp(name, x, np.ones_like(x), temperature=t)[0] == 0).all()
    # logsumexp's gradient is the limit of softmax: hardmax at 0, uniform at inf
    g = sk.logsumexp_jacobian(x, temperature=t)
    np.testing.assert_array_equal(g[0], sk.softmax(x[0], temperature=t))
    assert (sk.logsumexp_hessian(x, temperature=t)[0] == 0).all()
    # per-row temperature array holding the limit: only that row is constant
    tr = np.array([[t], [1.0]])
    y = np.array([[0.0, 2.0, 1.0, -1.0], [1.0, 0.5, 0.0, 0.0]])
    j = sk.softmax_jacobian(y, temperature=tr)
    assert (j[0] == 0).all()
    np.testing.assert_allclose(j[1], sk.softmax_jacobian(y[1]), rtol=1e-15)


def test_hardmax_derivatives_are_zero() -> None:
    x = np.array([[1.0, 3.0, 3.0], [0.0, -1.0, 2.0]])
    assert (sk.hardmax_jacobian(x) == 0).all() and sk.hardmax_jacobian(x).shape == (2, 3, 3)
    assert sk.hardmax_hessian(x).shape == (2, 3, 3, 3) and (sk.hardmax_hessian(x) == 0).all()
    assert (sk.jvp(sk.hardmax, x, np.ones_like(x)) == 0).all()
    assert (sk.vjp(sk.hardmax, x, np.ones_like(x)) == 0).all()


def test_inverse_zero_and_masked_probabilities_give_exact_zeros() -> None:
    p = np.array([0.5, 0.0, 0.25, 0.25])
    where = np.array([True, True, True, False])
    q = np.array([0.5, 0.0, 0.5, 0.9])  # the masked entry's value is ignored
    for gauge in ("center", "reference", "sum", "logsumexp"):
        j = sk.inverse_softmax_jacobian(p, gauge=gauge)
        assert np.isfinite(j).all() and (j[1] == 0).all() and (j[:, 1] == 0).all()
        jm = sk.inverse_softmax_jacobian(q, gauge=gauge, where=where)
        assert (jm[[1, 3]] == 0).all() and (jm[:, [1, 3]] == 0).all()
        h = sk.inverse_softmax_hessian(q, gauge=gauge, where=where)
        assert np.isfinite(h).all() and (h[[1, 3]] == 0).all() and (h[:, :, [1, 3]] == 0).all()
        out = sk.inverse_softmax_jvp(p, np.array([1.0, np.inf, 0.0, -1.0]), gauge=gauge)
        assert np.isfinite(out).all() and out[1] == 0
    z = sk.base_logits(p)
    assert z[0] == -np.inf
    jb = sk.base_logits_jacobian(p)
    assert (jb[0] == 0).all() and (jb[:, 1] == 0).all()
    js = sk.base_softmax_jacobian(z)
    assert (js[1] == 0).all() and (js[:, 0] == 0).all()


# --------------------------------------------------------------------------------------------
# peers: torch.func and jax where the derivatives are finite
# --------------------------------------------------------------------------------------------


def _peer_inputs(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    return 3.0 * rng.standard_normal((4, 6)), 0.37


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_agrees_with_torch_func(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    from torch.func import hessian, jacrev, jvp, vjp

    x_np, t = _peer_inputs(rng)
    x = torch.from_numpy(x_np)
    v = torch.from_numpy(rng.standard_normal(x_np.shape))
    peers = {
        "softmax": lambda a: torch.softmax(a / t, -1),
        "log_softmax": lambda a: torch.log_softmax(a / t, -1),
        "logsumexp": lambda a: t * torch.logsumexp(a / t, -1),
    }
    for name, f in peers.items():
        jac = sk.jacobian(name, x, temperature=t)
        hess = sk.hessian(name, x, temperature=t)
        assert isinstance(jac, torch.Tensor) and jac.dtype == torch.float64
        for r in range(4):
            torch.testing.assert_close(jac[r], jacrev(f)(x[r]), rtol=1e-13, atol=1e-15)
            torch.testing.assert_close(hess[r], hessian(f)(x[r]), rtol=1e-12, atol=1e-14)
        _, tangent = jvp(f, (x,), (v,))
        torch.testing.assert_close(
            sk.jvp(name, x, v, temperature=t), tangent, rtol=1e-12, atol=1e-14
        )
        out, pull = vjp(f, x)
        u = torch.ones_like(out)
        torch.testing.assert_close(
            sk.vjp(name, x, u, temperature=t), pull(u)[0], rtol=1e-12, atol=1e-14
        )


def test_agrees_with_jax(rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x_np, t = _peer_inputs(rng)
    v_np = rng.standard_normal(x_np.shape)
    with jax.enable_x64(True):
        x = jnp.asarray(x_np)
        v = jnp.asarray(v_np)
        peers = {
            "softmax": lambda a: jax.nn.softmax(a / t, axis=-1),
            "log_softmax": lambda a: jax.nn.log_softmax(a / t, axis=-1),
            "logsumexp": lambda a: t * jax.nn.logsumexp(a / t, axis=-1),
        }
        for name, f in peers.items():
            # Under jit (the closed forms are traceable; eager JAX is tested below): one
            # compilation instead of one per operation keeps this test fast.
            ours = jax.jit(
                lambda a, b, name=name: (
                    sk.jacobian(name, a, temperature=t),
                    sk.hessian(name, a, temperature=t),
                    sk.jvp(name, a, b, temperature=t),
                )
            )
            theirs = jax.jit(
                lambda a, b, f=f: (
                    jax.vmap(jax.jacfwd(f))(a),
                    jax.vmap(jax.hessian(f))(a),
                    jax.jvp(f, (a,), (b,))[1],
                )
            )
            jac, hess, tangent = ours(x, v)
            ref_j, ref_h, ref_t = theirs(x, v)
            assert isinstance(jac, jax.Array) and jac.dtype == jnp.float64
            np.testing.assert_allclose(jac, ref_j, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(hess, ref_h, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(tangent, ref_t, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------------
# backends, dtypes, dispatch, errors
# --------------------------------------------------------------------------------------------


def _backends() -> list[tuple[str, Callable[[np.ndarray], Any], Callable[[Any], bool]]]:
    import array_api_compat

    out = []
    try:
        import torch

        out.append(("torch", torch.from_numpy, array_api_compat.is_torch_array))
    except ImportError:  # pragma: no cover
        pass
    try:
        import dask.array as da

        out.append(("dask", lambda a: da.from_array(a, chunks=2), array_api_compat.is_dask_array))
    except ImportError:  # pragma: no cover
        pass
    try:
        import array_api_strict as xs

        out.append(
            (
                "array_api_strict",
                xs.asarray,
                lambda a: type(a).__module__.startswith("array_api_strict"),
            )
        )
    except ImportError:  # pragma: no cover
        pass
    return out


@pytest.mark.parametrize("backend", _backends(), ids=lambda b: b[0])
def test_backends_return_their_own_arrays(backend: Any, rng: np.random.Generator) -> None:
    _, conv, is_kind = backend
    x = rng.standard_normal((4, 5))
    x[0, 1] = -np.inf
    where = np.ones((4, 5), dtype=bool)
    where[2, 3] = False
    v = rng.standard_normal((4, 5))
    t = np.array([[0.5], [1.0], [2.0], [0.3]])
    for name in ("softmax", "log_softmax", "logsumexp", "hardmax"):
        kw: dict[str, Any] = {"where": conv(where)}
        if name != "hardmax":
            kw["temperature"] = conv(t)
        kw_np = {"where": where, **({"temperature": t} if name != "hardmax" else {})}
        u = v if name != "logsumexp" else v[:, 0]
        for kind, args, args_np in (
            ("jvp", (conv(x), conv(v)), (x, v)),
            ("vjp", (conv(x), conv(u)), (x, u)),
            ("jacobian", (conv(x),), (x,)),
        ):
            got = getattr(sk, kind)(name, *args, **kw)
            assert is_kind(got), (name, kind, type(got))
            expect = getattr(sk, kind)(name, *args_np, **kw_np)
            np.testing.assert_allclose(np.asarray(got), expect, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("t", [1.0, 0.6, "rows"])
def test_numpy_fast_path_matches_generic_path(t: Any, rng: np.random.Generator) -> None:
    # NumPy over the last axis without a mask takes a blocked, threaded path; an all-True mask
    # sends the same input through the generic array-API path. Big enough for several blocks
    # on several threads, with −inf entries (log_softmax's excluded entries) and, in a second
    # call, a +inf row and a NaN row (which send the NumPy path back to the generic one).
    x = 3.0 * rng.standard_normal((300, 256))
    x[5, :10] = -np.inf
    v = rng.standard_normal(x.shape)
    temp = np.linspace(0.2, 3.0, 300).reshape(300, 1) if t == "rows" else t
    everything = np.ones(x.shape, dtype=bool)
    special = x.copy()
    special[7, 3] = np.inf
    special[9, 4] = np.nan
    for xx in (x, special):
        for fn in (sk.softmax_jvp, sk.softmax_vjp, sk.log_softmax_jvp, sk.log_softmax_vjp):
            got = fn(xx, v, temperature=temp)
            ref = fn(xx, v, temperature=temp, where=everything)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
            ok = ~np.isnan(ref)
            scale = np.abs(ref[ok]).max()
            np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-13, atol=1e-15 * scale)
    out = sk.softmax_jvp(special, v)
    assert (out[7] == 0).all() and np.isnan(out[9]).all()
    got32 = sk.softmax_vjp(x.astype(np.float32), v.astype(np.float32))
    assert got32.dtype == np.float32
    ref = sk.softmax_vjp(x.astype(np.float32).astype(np.float64), v.astype(np.float32))
    np.testing.assert_allclose(got32, ref, rtol=1e-6, atol=1e-7 * np.abs(ref).max())


def test_jax_backend(rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    # Eager JAX compiles every operation on first use, so one call stands for the rest.
    z = rng.standard_normal((3, 4))
    u = rng.standard_normal((3, 5))
    with jax.enable_x64(True):
        got = sk.base_softmax_vjp(jnp.asarray(z), jnp.asarray(u), base=2)
        assert isinstance(got, jax.Array)
        np.testing.assert_allclose(got, sk.base_softmax_vjp(z, u, base=2), rtol=1e-13, atol=1e-15)


def test_float32_and_float16_keep_their_dtype(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5))
    v = rng.standard_normal((3, 5))
    ref = sk.softmax_jvp(x, v)
    for dt, rtol in ((np.float32, 1e-6), (np.float16, 2e-3)):
        got = sk.softmax_jvp(x.astype(dt), v.astype(dt))
        assert got.dtype == dt
        # the input is rounded to dt first: compare with the float64 derivative at that input
        expect = sk.softmax_jvp(x.astype(dt).astype(np.float64), v.astype(dt).astype(np.float64))
        np.testing.assert_allclose(got.astype(np.float64), expect, rtol=rtol, atol=rtol * 1e-2)
        assert np.abs(expect - ref).max() < 1e-2
    torch = pytest.importorskip("torch")
    tx = torch.from_numpy(x).to(torch.float32)
    assert sk.softmax_jacobian(tx).dtype == torch.float32


def test_dispatch_by_function_and_name(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3))
    v = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(
        sk.jvp(sk.softmax, x, v, temperature=2), sk.softmax_jvp(x, v, temperature=2)
    )
    np.testing.assert_array_equal(sk.jacobian("log_softmax", x), sk.log_softmax_jacobian(x))
    with pytest.raises(TypeError, match=r"no closed-form derivative for exp.*softmaxkit\.softmax"):
        sk.jvp(np.exp, x, v)
    with pytest.raises(TypeError, match="no closed-form derivative for 'tanh'"):
        sk.hessian("tanh", x)
    with pytest.raises(TypeError, match="unexpected keyword"):
        sk.jacobian(sk.hardmax, x, temperature=2.0)


def test_errors_name_the_function_and_argument() -> None:
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"softmax_jvp: v of shape \(2, 4\)"):
        sk.softmax_jvp(x, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"softmax_jacobian: temperature=-1\.0 is invalid"):
        sk.softmax_jacobian(x, temperature=-1.0)
    with pytest.raises(ValueError, match=r"logsumexp_vjp: u of shape \(3,\)"):
        sk.logsumexp_vjp(x, np.zeros(3))
    with pytest.raises(TypeError, match="softmax_vjp: u is a torch"):
        torch = pytest.importorskip("torch")
        sk.softmax_vjp(x, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"p\[0, 1\] = -0.5 is negative"):
        sk.inverse_softmax_jacobian(np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match="temperature=0 is not allowed"):
        sk.inverse_softmax_jvp(np.array([0.5, 0.5]), np.zeros(2), temperature=0)
    with pytest.raises(ValueError, match="base=5 is out of range"):
        sk.base_softmax_jacobian(np.zeros(3), base=5)


def test_logsumexp_weights_and_keepdims(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    b = np.abs(rng.standard_normal((3, 4)))
    b[1, 2] = 0.0
    g = sk.logsumexp_jacobian(x, b=b, temperature=0.6)
    # gradient of T log Σ b exp(x/T) = b exp(x/T) / Σ b exp(x/T)
    e = b * np.exp(x / 0.6)
    np.testing.assert_allclose(g, e / e.sum(-1, keepdims=True), rtol=1e-14)
    v = rng.standard_normal((3, 4))
    assert sk.logsumexp_jvp(x, v, b=b, keepdims=True).shape == (3, 1)
    np.testing.assert_allclose(
        sk.logsumexp_jvp(x, v, b=b, temperature=0.6), np.sum(g * v, -1), rtol=1e-14
    )
    np.testing.assert_array_equal(
        sk.logsumexp_vjp(x, np.ones((3, 1))), sk.logsumexp_vjp(x, np.ones(3))
    )


# --------------------------------------------------------------------------------------------
# accuracy report: python tests/test_derivatives.py [--rows R] [--n N]
# --------------------------------------------------------------------------------------------


def accuracy_table(rows: int, n: int, hessian_rows: int) -> str:
    """Largest errors against mpmath.diff over ``rows`` random rows per map and case."""
    header = (
        "map",
        "case",
        "jac elem",
        "hess elem",
        "jvp elem",
        "jvp norm",
        "vjp elem",
        "vjp norm",
    )
    lines = [header]
    worst: dict[str, float] = {}
    for name in NAMES:
        for kind in KINDS:
            seed = zlib.crc32(f"report {name} {kind}".encode())
            big = measure(problem(name, kind, rows, n, seed), hessian=False, seed=seed)
            small = measure(problem(name, kind, hessian_rows, n, seed + 1), seed=seed + 1)
            cells = {
                "jac elem": max(big["jacobian"][0], small["jacobian"][0]),
                "hess elem": small["hessian"][0],
                "jvp elem": max(big["jvp"][0], small["jvp"][0]),
                "jvp norm": max(big["jvp"][1], small["jvp"][1]),
                "vjp elem": max(big["vjp"][0], small["vjp"][0]),
                "vjp norm": max(big["vjp"][1], small["vjp"][1]),
            }
            for k, val in cells.items():
                worst[k] = max(worst.get(k, 0.0), val)
            lines.append((name, kind, *(f"{cells[k]:.1e}" for k in header[2:])))
    lines.append(("all", "max", *(f"{worst[k]:.1e}" for k in header[2:])))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in lines
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Errors of the closed-form derivatives (float64) "
        "against mpmath.diff at 50 digits."
    )
    parser.add_argument("--rows", type=int, default=50, help="random rows per map and case")
    parser.add_argument("--hessian-rows", type=int, default=10, help="rows for the Hessians")
    parser.add_argument("--n", type=int, default=6, help="entries per row")
    args = parser.parse_args()
    with mpmath.workdps(DPS):
        print(accuracy_table(args.rows, args.n, args.hessian_rows))
