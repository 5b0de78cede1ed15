"""Boltzmann populations and thermodynamics against closed forms and independent computations.

References are computed here by hand: mpmath at 40 digits or NumPy/SciPy with the constants
taken straight from ``scipy.constants``, never from the module under test.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.constants as C
from scipy.optimize import brentq, minimize_scalar

from softmaxkit.boltzmann import (
    UNITS,
    Thermodynamics,
    boltzmann_constant,
    convert_energy,
    energies_from_populations,
    partition_function,
    populations,
    thermodynamics,
)
from softmaxkit.io import example_path

mp.mp.dps = 40
R = C.k * C.N_A


def close(actual: object, expected: object, rtol: float, atol: float = 0.0) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------ constants


def test_boltzmann_constant_in_every_unit_from_codata() -> None:
    expected = {
        "J": C.k,
        "J/mol": R,
        "kJ/mol": R / 1000,
        "kcal/mol": R / 4184,
        "eV": C.k / C.e,
        "hartree": C.k / 4.3597447222060e-18,  # CODATA 2022 hartree energy
        "cm^-1": C.k / (100 * C.h * C.c),
        "K": 1.0,
    }
    assert set(expected) == set(UNITS)
    for unit, value in expected.items():
        assert boltzmann_constant(unit) == pytest.approx(value, rel=1e-15)
    assert boltzmann_constant("cm-1") == boltzmann_constant("cm^-1")
    assert convert_energy(1.0, "kcal/mol", "kJ/mol") == pytest.approx(4.184, rel=1e-15)
    assert convert_energy(1.0, "hartree", "eV") == pytest.approx(27.211386245981, rel=1e-13)
    assert convert_energy(1.0, "eV", "kJ/mol") == pytest.approx(96.48533212331, rel=1e-12)


def test_bad_units_and_temperatures_raise_naming_the_argument() -> None:
    e = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="units='kJ' is not a known energy unit"):
        populations(e, 300.0, units="kJ")
    with pytest.raises(ValueError, match=r"temperature=-1\.0 is invalid"):
        populations(e, -1.0)
    with pytest.raises(ValueError, match=r"temperature\[1\] = nan is invalid"):
        populations(e, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"temperature of shape \(3,\) does not broadcast"):
        populations(np.zeros((2, 4)), np.ones(3))
    with pytest.raises(ValueError, match=r"degeneracies\[1\] = -1\.0 is invalid"):
        populations(e, 300.0, degeneracies=[1.0, -1.0])
    with pytest.raises(ValueError, match="degeneracies of shape"):
        populations(e, 300.0, degeneracies=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="output_units='cal' is not a known"):
        thermodynamics(e, 300.0, output_units="cal")


# ------------------------------------------------------------------------------ populations


def _conformer_table() -> tuple[np.ndarray, list[str]]:
    rows = example_path("dodecane_conformers.csv").read_text().splitlines()
    header = rows[0].split(",")
    col = header.index("energy_kcal_mol")
    return np.array([float(r.split(",")[col]) for r in rows[1:]]), header


def test_populations_match_an_independent_weighting() -> None:
    e, _ = _conformer_table()
    for t in (100.0, 298.15, 1000.0):
        rt = mp.mpf(R) * t / 4184  # kcal/mol
        w = [mp.exp(-mp.mpf(float(x)) / rt) for x in e]
        ref = np.array([float(v / mp.fsum(w)) for v in w])
        got = populations(e, t, units="kcal/mol")
        close(got, ref, rtol=2e-15)
        # the same energies in other units give the same populations
        for unit in ("J", "eV", "hartree", "cm^-1", "K", "J/mol"):
            other = convert_energy(e, "kcal/mol", unit)
            close(populations(other, t, units=unit), ref, rtol=1e-13)


def test_degeneracies_weight_and_zero_removes() -> None:
    e = np.array([0.0, 2.0, 2.0, 5.0])
    g = np.array([1.0, 3.0, 0.0, 2.5])
    t = 3.0
    w = g * np.exp(-e / t)
    got = populations(e, t, units="K", degeneracies=g)
    close(got, w / w.sum(), rtol=1e-15)
    assert got[2] == 0.0


def test_zero_and_infinite_temperature_limits_share_by_degeneracy() -> None:
    e = np.array([1.0, 0.0, 0.0, 0.0, 3.0])
    g = np.array([1.0, 1.0, 3.0, 0.0, 4.0])
    close(populations(e, 0.0, degeneracies=g), [0, 0.25, 0.75, 0, 0], rtol=0)
    close(populations(e, np.inf, degeneracies=g), g / g.sum(), rtol=1e-15)
    close(populations(e, 0.0), [0, 1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-15)
    close(populations(e, np.inf), np.full(5, 0.2), rtol=1e-15)
    # as limits: a tiny T approaches the T = 0 answer, a huge one the T = inf answer
    close(populations(e, 1e-3, units="K", degeneracies=g), [0, 0.25, 0.75, 0, 0], rtol=1e-15)
    close(populations(e, 1e12, units="K", degeneracies=g), g / g.sum(), rtol=1e-9)
    # +inf energies are never occupied, not even at T = inf; -inf ones take all the mass
    close(populations(np.array([0.0, np.inf]), np.inf), [1.0, 0.0], rtol=0)
    got = populations(np.array([-np.inf, -np.inf, 0.0]), 300.0, degeneracies=[1.0, 2.0, 9.0])
    close(got, [1 / 3, 2 / 3, 0.0], rtol=1e-15)


def test_temperature_scan_broadcasts_and_matches_loop() -> None:
    e = np.array([[0.0, 1.0, 2.5], [0.3, 0.0, 4.0]])  # kJ/mol, two molecules
    temps = np.array([0.0, 50.0, 300.0, np.inf])
    got = populations(e[0], temps, degeneracies=[1.0, 2.0, 1.0])
    assert got.shape == (4, 3)
    for i, t in enumerate(temps):
        close(got[i], populations(e[0], float(t), degeneracies=[1.0, 2.0, 1.0]), rtol=0)
    # (m, 1) temperatures against a (2, 3) batch: (m, 2, 3); states along axis 0 as well
    grid = populations(e, temps[1:3, None])
    assert grid.shape == (2, 2, 3)
    close(grid[1, 0], populations(e[0], 300.0), rtol=0)
    by_col = populations(e.T, temps[1:3, None], axis=0)
    assert by_col.shape == (2, 3, 2)
    close(np.swapaxes(by_col, -1, -2), grid, rtol=0)


def test_mask_and_special_rows() -> None:
    e = np.array([0.0, 1.0, 2.0])
    got = populations(e, 500.0, where=np.array([False, True, True]))
    close(got, [0.0, *populations(e[1:], 500.0)], rtol=0)
    close(populations(np.array([0.0, np.nan]), 300.0), [np.nan, np.nan], rtol=0)
    close(populations(np.array([1.0, 2.0]), 300.0, degeneracies=[0.0, 0.0]), [0.0, 0.0], rtol=0)
    close(populations(np.array([np.nan, 2.0]), 0.0, degeneracies=[1.0, 1.0]), [np.nan] * 2, rtol=0)


def test_spread_of_a_million_kT_neither_overflows_nor_warns() -> None:
    e = np.array([0.0, 1e6, -1e6, 3.0])  # K
    got = populations(e, 1.0, units="K")
    assert got.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert partition_function(e, 1.0, units="K", log=True) == 1e6
    assert partition_function(e, 1.0, units="K") == np.inf
    th = thermodynamics(e, 1.0, units="K")
    assert (float(th.F), float(th.U), float(th.S), float(th.Cv)) == (-1e6, -1e6, 0.0, 0.0)


def test_float32_and_torch_backends() -> None:
    torch = pytest.importorskip("torch")
    e = np.array([[0.0, 0.5, 1.5, 3.0], [1.0, 0.0, 0.2, 9.0]])
    g = np.array([1.0, 2.0, 1.0, 3.0])
    ref = populations(e, 250.0, units="kcal/mol", degeneracies=g)
    got = populations(torch.tensor(e), 250.0, units="kcal/mol", degeneracies=torch.tensor(g))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    close(got.numpy(), ref, rtol=1e-14)
    t = torch.tensor([100.0, 250.0], dtype=torch.float64)
    scan = populations(torch.tensor(e[0]), t, units="kcal/mol")
    assert tuple(scan.shape) == (2, 4)
    close(scan[1].numpy(), populations(e[0], 250.0, units="kcal/mol"), rtol=1e-14)
    f32 = populations(torch.tensor(e, dtype=torch.float32), 250.0, units="kcal/mol")
    assert f32.dtype == torch.float32
    close(f32.numpy(), populations(e, 250.0, units="kcal/mol"), rtol=2e-6)
    th = thermodynamics(torch.tensor(e), t[:, None], units="kcal/mol")
    th_np = thermodynamics(e, np.array([[100.0], [250.0]]), units="kcal/mol")
    close(th.Cv.numpy(), th_np.Cv, rtol=1e-13)
    close(th.F.numpy(), th_np.F, rtol=1e-14)
    n32 = populations(e.astype(np.float32), 250.0, units="kcal/mol")
    assert n32.dtype == np.float32
    close(n32, populations(e, 250.0, units="kcal/mol"), rtol=6e-8)


# ------------------------------------------------------------------------------ closed forms


def _two_level_ref(x: float | mp.mpf) -> dict[str, float]:
    """Two levels 0 and Δ, in units of Δ and k: x = Δ/kT."""
    xm = mp.mpf(x)
    log_z = mp.log1p(mp.exp(-xm))
    u = 1 / (mp.exp(xm) + 1)  # in units of Δ
    s = log_z + xm / (mp.exp(xm) + 1)
    cv = xm**2 * mp.exp(xm) / (mp.exp(xm) + 1) ** 2
    return {"log_Z": float(log_z), "U": float(u), "S": float(s), "Cv": float(cv)}


def test_two_level_system_everywhere_from_1e3_to_1e6_kelvin() -> None:
    delta = 300.0  # K
    temps = np.geomspace(1e-3, 1e6, 61)
    th = thermodynamics(np.array([0.0, delta]), temps, units="K")
    for i, t in enumerate(temps):
        ref = _two_level_ref(mp.mpf(delta) / mp.mpf(float(t)))  # x exact, not rounded
        assert th.log_Z[i] == pytest.approx(ref["log_Z"], rel=1e-14, abs=1e-300)
        assert th.U[i] == pytest.approx(delta * ref["U"], rel=1e-13, abs=1e-300)
        assert th.S[i] == pytest.approx(ref["S"], rel=1e-13, abs=1e-300)
        assert th.Cv[i] == pytest.approx(ref["Cv"], rel=1e-12, abs=1e-300)
        assert th.F[i] == pytest.approx(-t * ref["log_Z"], rel=1e-14, abs=1e-300)
    # deep in the tail (x = 650) Cv is ~1e-277, still to 12 digits: no cancellation
    deep = thermodynamics(np.array([0.0, 650.0]), 1.0, units="K")
    assert float(deep.Cv) == pytest.approx(_two_level_ref(650.0)["Cv"], rel=1e-12)
    assert 0 < float(deep.Cv) < 1e-270


def test_schottky_peak() -> None:
    x_star = brentq(lambda x: x * math.tanh(x / 2) - 2, 1.0, 4.0, xtol=1e-15)
    cv_star = x_star**2 / (4 * math.cosh(x_star / 2) ** 2)
    assert x_star == pytest.approx(2.399357, abs=1e-6)  # the Δ/kT ≈ 2.399
    assert cv_star == pytest.approx(0.4392288, abs=1e-7)  # Cv_max ≈ 0.4392 k
    delta = 1.0  # meV, through eV units: Cv in eV/K, divided by k below
    e = np.array([0.0, delta * 1e-3])
    k = C.k / C.e

    def neg_cv(t: float) -> float:
        return -float(thermodynamics(e, t, units="eV").Cv) / k

    best = minimize_scalar(neg_cv, bounds=(2.0, 10.0), method="bounded", options={"xatol": 1e-9})
    x_found = (delta * 1e-3) / (k * best.x)
    assert x_found == pytest.approx(x_star, rel=1e-6)  # the argmax of a flat peak
    assert -best.fun == pytest.approx(cv_star, rel=1e-14)


def test_large_common_offset_does_not_cancel_in_cv() -> None:
    # ⟨ε²⟩ − ⟨ε⟩² would lose all 16 digits at 1e8 K above the levels' spread of 10 K
    base = 1e8
    th = thermodynamics(np.array([base, base + 10.0]), 10.0 / 2.0, units="K")
    ref = _two_level_ref(2.0)
    assert float(th.Cv) == pytest.approx(ref["Cv"], rel=1e-12)
    assert float(th.S) == pytest.approx(ref["S"], rel=1e-12)
    assert float(th.U) - base == pytest.approx(10.0 * ref["U"], rel=1e-7)  # ulp(1e8)=1.5e-8


def test_harmonic_oscillator() -> None:
    wavenumber = 1000.0  # cm^-1
    n = np.arange(600)
    e = (n + 0.5) * wavenumber
    temps = np.array([15.0, 50.0, 300.0, 1000.0, 5000.0])
    th = thermodynamics(e, temps, units="cm^-1", output_units="K")
    th_cm = thermodynamics(e, temps, units="cm^-1")
    theta = 100 * C.h * C.c * wavenumber / C.k  # ħω/k in K
    for i, t in enumerate(temps):
        x = mp.mpf(theta) / t
        h = x / 2
        tail = mp.log1p(-mp.exp(-x))  # log(1 - e^-x), without cancellation at low T
        log_z = -h - tail  # = -log(2 sinh(x/2))
        u = mp.mpf(theta) * (mp.mpf(1) / 2 + 1 / mp.expm1(x))  # (θ/2) coth(x/2), K
        s = x / mp.expm1(x) - tail  # (x/2) coth(x/2) - log(2 sinh(x/2))
        cv = h**2 / mp.sinh(h) ** 2
        assert th.log_Z[i] == pytest.approx(float(log_z), rel=1e-13)
        assert th.U[i] == pytest.approx(float(u), rel=1e-13)
        assert th.S[i] == pytest.approx(float(s), rel=1e-13)
        assert th.Cv[i] == pytest.approx(float(cv), rel=1e-13)
        assert th.F[i] == pytest.approx(float(-t * log_z), rel=1e-13)
        assert th_cm.U[i] == pytest.approx(wavenumber / 2 * float(mp.coth(h)), rel=1e-13)
    assert th.Z[2] == pytest.approx(float(1 / (2 * mp.sinh(mp.mpf(theta) / 600))), rel=1e-13)


def test_rigid_rotor_high_temperature_limit() -> None:
    b = 1.9225  # cm^-1
    j = np.arange(500)
    e = b * j * (j + 1.0)
    g = 2 * j + 1.0
    temps = np.array([300.0, 1000.0, 3000.0])
    th = thermodynamics(e, temps, units="cm^-1", degeneracies=g, output_units="K")
    kcm = mp.mpf(C.k) / (100 * mp.mpf(C.h) * mp.mpf(C.c))  # k/(hc) in cm^-1/K

    def log_z_series(t: mp.mpf) -> mp.mpf:  # Mulholland's expansion
        s = kcm * t / b
        return mp.log(s + mp.mpf(1) / 3 + 1 / (15 * s) + 4 / (315 * s**2))

    for i, t in enumerate(temps):
        sigma = float(kcm * t / b)
        assert th.Z[i] / sigma == pytest.approx(1.0, abs=1 / (3 * sigma) + 1 / (10 * sigma**2))
        lz = log_z_series(mp.mpf(t))
        u = t**2 * mp.diff(log_z_series, mp.mpf(t))  # K
        cv = mp.diff(lambda tt: tt**2 * mp.diff(log_z_series, tt), mp.mpf(t))
        assert th.log_Z[i] == pytest.approx(float(lz), rel=1e-10)
        assert th.U[i] == pytest.approx(float(u), rel=1e-9)
        assert th.Cv[i] == pytest.approx(float(cv), rel=1e-8)
        assert th.Cv[i] == pytest.approx(1.0, abs=1 / (40 * sigma**2))  # -> k


def test_thermodynamics_limits_units_and_empty_rows() -> None:
    e = np.array([0.6, 0.0, 0.0])  # kcal/mol
    g = np.array([1.0, 1.0, 2.0])
    th = thermodynamics(e, [0.0, np.inf], units="kcal/mol", degeneracies=g)
    assert isinstance(th, Thermodynamics) and th.units == "kcal/mol"
    close(th.U, [0.0, 0.6 / 4], rtol=1e-15)
    close(th.S, [R / 4184 * math.log(3), R / 4184 * math.log(4)], rtol=1e-15)
    close(th.Cv, [0.0, 0.0], rtol=0)
    close(th.log_Z, [math.log(3), math.log(4)], rtol=1e-15)
    close(th.F, [0.0, -np.inf], rtol=0)
    # per particle (J) and per mole (kJ/mol) differ by N_A / 1000
    mol = thermodynamics(e, 310.0, units="kcal/mol", degeneracies=g, output_units="kJ/mol")
    one = thermodynamics(e, 310.0, units="kcal/mol", degeneracies=g, output_units="J")
    for name in ("F", "U", "S", "Cv"):
        close(getattr(one, name) * C.N_A / 1000, getattr(mol, name), rtol=1e-14)
    # S = (U - F)/T holds where it does not cancel
    assert float(mol.S) == pytest.approx((float(mol.U) - float(mol.F)) / 310.0, rel=1e-13)
    empty = thermodynamics(np.array([1.0, 2.0]), 300.0, where=np.array([False, False]))
    assert float(empty.log_Z) == -np.inf and float(empty.F) == np.inf
    assert math.isnan(float(empty.U)) and math.isnan(float(empty.S))


# ------------------------------------------------------------------------------ inverse


def test_round_trip_energies_populations_energies() -> None:
    rng = np.random.default_rng(6)
    e = rng.uniform(0, 20, size=(5, 7))  # kJ/mol
    g = rng.integers(1, 4, size=7).astype(float)
    t = 350.0
    p = populations(e, t, degeneracies=g)
    back = energies_from_populations(p, t, degeneracies=g)
    close(back, e - e[:, :1], rtol=0, atol=2e-13)
    back_min = energies_from_populations(p, t, degeneracies=g, reference="min")
    close(back_min, e - e.min(axis=1, keepdims=True), rtol=0, atol=2e-13)
    assert (back_min.min(axis=1) == 0).all()
    back_mean = energies_from_populations(p, t, degeneracies=g, reference="mean")
    close(back_mean, e - e.mean(axis=1, keepdims=True), rtol=0, atol=2e-13)
    close(populations(back_mean, t, degeneracies=g), p, rtol=1e-13)
    # a temperature scan inverts row by row
    temps = np.array([100.0, 1000.0])
    ps = populations(e[0], temps)
    close(energies_from_populations(ps, temps), np.vstack([e[0] - e[0, 0]] * 2), rtol=0, atol=1e-12)


def test_inverse_zeros_and_errors() -> None:
    p = np.array([0.5, 0.0, 0.5])
    assert energies_from_populations(p, 300.0, units="K").tolist() == [0.0, np.inf, 0.0]
    assert populations(energies_from_populations(p, 300.0), 300.0).tolist() == p.tolist()
    with pytest.raises(ValueError, match=r"temperature=0\.0 is not allowed"):
        energies_from_populations(p, 0.0)
    with pytest.raises(ValueError, match=r"reference='max' is invalid"):
        energies_from_populations(p, 300.0, reference="max")
    with pytest.raises(ValueError, match=r"energies_from_populations: p\[1\] = 0"):
        energies_from_populations(p, 300.0, reference=1)
    with pytest.raises(ValueError, match=r"p\[2\] = 0.5 is positive where the state is absent"):
        energies_from_populations(p, 300.0, degeneracies=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="sum to"):
        energies_from_populations(np.array([0.5, 0.6]), 300.0)
    close(
        energies_from_populations(np.array([1.0, 3.0]), 300.0, units="K", normalize=True),
        [0.0, -300.0 * math.log(3)],
        rtol=1e-15,
    )


# --------------------------------------------------------------------------------------------
# NumPy masked arrays: a masked state is left out, like where=False (issue 14)
# --------------------------------------------------------------------------------------------


def test_masked_energies_are_states_left_out():
    # The hidden value is NaN: it must not be read (it would make the row NaN).
    e = np.ma.masked_array([0.0, np.nan, 1.0], mask=[0, 1, 0])
    plain = np.array([0.0, 1.0])
    p = populations(e, 300.0)
    assert type(p) is np.ndarray
    assert p[1] == 0.0
    np.testing.assert_allclose(p[[0, 2]], populations(plain, 300.0), rtol=1e-15)
    kT = 300.0 * 8.314462618e-3  # kJ/mol (k_B N_A exact: 8.31446261815324 J/(mol K))
    np.testing.assert_allclose(p[2], 1.0 / (1.0 + math.exp(1.0 / kT)), rtol=1e-9)
    # combined with where= by logical and
    p2 = populations(e, 300.0, where=np.array([True, True, False]))
    assert p2.tolist() == [1.0, 0.0, 0.0]
    assert partition_function(e, 300.0, log=True) == pytest.approx(
        float(partition_function(plain, 300.0, log=True)), rel=1e-15
    )
    th, th0 = thermodynamics(e, 300.0), thermodynamics(plain, 300.0)
    for name in ("log_Z", "F", "U", "S", "Cv"):
        assert float(getattr(th, name)) == pytest.approx(float(getattr(th0, name)), rel=1e-14)
    # along axis 0 of a 2-D array
    e2 = np.ma.masked_array([[0.0, 1.0], [2.0, 3.0]], mask=[[0, 1], [0, 0]])
    p3 = populations(e2, 300.0, axis=0)
    assert p3[:, 1].tolist() == [0.0, 1.0]
    np.testing.assert_allclose(p3[:, 0], populations(np.array([0.0, 2.0]), 300.0), rtol=1e-15)


def test_masked_populations_are_absent_states():
    # the hidden 5.0 would be "positive where g = 0" if it were read
    pm = np.ma.masked_array([0.6, 5.0, 0.4], mask=[0, 1, 0])
    for g in (None, [1.0, 0.0, 1.0]):
        eps = energies_from_populations(pm, 300.0, degeneracies=g)
        assert eps[0] == 0.0 and eps[1] == math.inf
        assert eps[2] == pytest.approx(
            float(energies_from_populations(np.array([0.6, 0.4]), 300.0)[1]), rel=1e-15
        )
    # a masked array with nothing masked is its data
    full = np.ma.masked_array([0.6, 0.4])
    assert energies_from_populations(full, 300.0).tolist() == energies_from_populations(
        np.array([0.6, 0.4]), 300.0
    ).tolist()
