r"""Boltzmann populations, the partition function, thermodynamics, and energies from populations.

The canonical ensemble is softmax read by a physicist. A system with states of energy
:math:`\varepsilon_i` and degeneracy :math:`g_i` at temperature :math:`T` occupies state ``i``
with probability

.. math:: p_i = \frac{g_i\, e^{-\varepsilon_i/kT}}{Z}, \qquad
          Z = \sum_j g_j\, e^{-\varepsilon_j/kT},

that is ``p = softmax(-ε/kT + log g)``. This module is a thin layer over the library's maps:
populations are :func:`softmaxkit.softmax` of ``-ε + kT·log g`` at temperature ``kT`` (``kT``
expressed in the energies' own unit, so the energies are never rescaled), ``log Z`` is
:func:`softmaxkit.logsumexp` of the same at the same temperature divided by ``kT``, the entropy
uses :func:`softmaxkit.log_softmax`, and :func:`energies_from_populations` is
:func:`softmaxkit.inverse_softmax` with its gauges.

Units
-----
``units`` names the unit of the energies (and of the energy-valued results):

============  ===========================================  ====================
unit          meaning                                      per
============  ===========================================  ====================
``J``         joule                                        particle
``J/mol``     joule per mole                               mole
``kJ/mol``    kilojoule per mole                           mole
``kcal/mol``  thermochemical kilocalorie (4184 J) per mole  mole
``eV``        electronvolt                                 particle
``hartree``   hartree (atomic unit of energy)              particle
``cm^-1``     wavenumber, energy / (h c)                   particle
``K``         temperature equivalent, energy / k_B          particle
============  ===========================================  ====================

Boltzmann's constant in each unit is built from constants written out in this module, so
the module needs nothing beyond NumPy: k, h, c, e and N_A are exact by definition in the SI
since 20 May 2019, and the thermochemical calorie is exactly 4.184 J. The hartree is the only
measured constant used; it is the CODATA 2022 recommended value, the one :mod:`scipy.constants`
holds (the tests check that every unit's constant equals SciPy's where SciPy is installed).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from softmaxkit._base.arrays import device_of, first_index, host_copy
from softmaxkit._base.core import (
    Setup,
    dtype_name,
    finish,
    is_lazy,
    prepare,
    quiet,
    setup,
)
from softmaxkit._base.errors import InvalidProbabilityError
from softmaxkit.inverse import inverse_softmax
from softmaxkit.maps import log_softmax, logsumexp, softmax

__all__ = [
    "UNITS",
    "Thermodynamics",
    "boltzmann_constant",
    "convert_energy",
    "energies_from_populations",
    "partition_function",
    "populations",
    "thermodynamics",
]

Array = Any

UNITS = ("J", "J/mol", "kJ/mol", "kcal/mol", "eV", "hartree", "cm^-1", "K")
_ALIASES = {"cm-1": "cm^-1", "1/cm": "cm^-1", "Eh": "hartree", "kj/mol": "kJ/mol"}
_PER_MOLE = {"J/mol", "kJ/mol", "kcal/mol"}


# --------------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------------


# The defining constants of the SI, exact since 20 May 2019 (BIPM, The International System
# of Units, 9th edition, 2019, section 2.2; CODATA lists them as "exact").
_K_B = 1.380649e-23  # Boltzmann constant, J/K
_N_A = 6.02214076e23  # Avogadro constant, 1/mol
_H = 6.62607015e-34  # Planck constant, J s
_C = 299792458.0  # speed of light in vacuum, m/s
_E = 1.602176634e-19  # elementary charge, C (so 1 eV = _E J exactly)
# The thermochemical calorie, exactly 4.184 J by definition (the kcal/mol of chemistry).
_CALORIE = 4.184
# The Hartree energy E_h in J: a measured value, the CODATA 2022 recommended one (E. Tiesinga,
# P. J. Mohr, D. B. Newell, B. N. Taylor, "The 2022 CODATA Recommended Values of the Fundamental
# Physical Constants", Web Version 9.0, NIST, 2024, https://physics.nist.gov/constants),
# standard uncertainty 0.0000000000048e-18 J. CODATA 2018 had 4.3597447222071e-18 J;
# scipy.constants holds the 2022 value (checked with SciPy 1.17, and by the tests).
_HARTREE = 4.3597447222060e-18


@functools.cache
def _k_table() -> dict[str, float]:
    """Boltzmann's constant in each unit, per kelvin (exact SI constants; CODATA 2022 hartree).

    Every entry is the same floating-point expression of the same constants that
    :mod:`scipy.constants` holds, so the values agree with SciPy's bit for bit.
    """
    molar = _K_B * _N_A  # the gas constant R, exact by definition
    return {
        "J": _K_B,
        "J/mol": molar,
        "kJ/mol": molar / 1e3,
        "kcal/mol": molar / (1e3 * _CALORIE),
        "eV": _K_B / _E,
        "hartree": _K_B / _HARTREE,
        "cm^-1": _K_B / (100.0 * _H * _C),
        "K": 1.0,
    }


def _unit(units: Any, fn: str, name: str = "units") -> str:
    if isinstance(units, str):
        u = _ALIASES.get(units, units)
        if u in UNITS:
            return u
    valid = ", ".join(repr(u) for u in UNITS)
    raise ValueError(f"{fn}: {name}={units!r} is not a known energy unit; expected one of {valid}")


def boltzmann_constant(units: str = "kJ/mol") -> float:
    """Boltzmann's constant in ``units`` per kelvin (the gas constant R for molar units).

    Parameters
    ----------
    units : str, default "kJ/mol"
        One of ``J``, ``J/mol``, ``kJ/mol``, ``kcal/mol``, ``eV``, ``hartree``, ``cm^-1``
        (alias ``cm-1``) or ``K``.

    Returns
    -------
    float
        ``k_B`` in ``units``/K from the exact SI constants (the CODATA 2022 hartree for
        ``hartree``); 1 for ``K``. No SciPy needed.

    Examples
    --------
    >>> from softmaxkit.boltzmann import boltzmann_constant
    >>> boltzmann_constant("kcal/mol")      # R in kcal/(mol K)
    0.0019872042586408316
    >>> boltzmann_constant("cm^-1")         # k / (h c) in cm^-1/K
    0.6950348004861275
    """
    return _k_table()[_unit(units, "boltzmann_constant")]


def convert_energy(values: Any, from_units: str, to_units: str) -> Any:
    """Convert energies between units: ``values · k_B[to] / k_B[from]``.

    Molar and per-particle units convert through Avogadro's number (e.g. 1 kJ/mol is
    1000/N_A J); ``K`` is energy / k_B.

    Examples
    --------
    >>> from softmaxkit.boltzmann import convert_energy
    >>> convert_energy(1.0, "kcal/mol", "kJ/mol")
    4.184
    >>> round(convert_energy(1.0, "eV", "cm^-1"), 3)
    8065.544
    """
    a = _unit(from_units, "convert_energy", "from_units")
    b = _unit(to_units, "convert_energy", "to_units")
    if a == b:
        return values
    table = _k_table()
    return values * (table[b] / table[a])


# --------------------------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------------------------


@dataclass
class _Setup:
    """The energies' entry record (:class:`Setup`, the state axis reduced) composed with what a
    Boltzmann reading adds: the unit, the temperatures in kelvin, the degeneracies, and the
    layout with the state axis moved last.

    ``e`` has shape ``batch + (n,)``, where ``batch`` broadcasts the energies' other axes with
    the temperature's shape; ``kT`` is a float or an array of shape ``batch + (1,)``.
    """

    entry: Setup  # the energies (or populations) as given, validated by setup()
    e: Array
    lg: Array | None  # log g (0 where g == 0: those states are masked), or None
    adm: Array | None  # admissible states: where= and g > 0
    t: float | Array  # temperature in K, as given (float or batch + (1,))
    kT: float | Array
    k: float
    units: str
    axis_out: int
    batch: tuple[int, ...]

    @property
    def xp(self) -> Any:
        """The energies' array namespace."""
        return self.entry.xp

    @property
    def out_dtype(self) -> Any:
        """The dtype of the results."""
        return self.entry.out_dtype

    def back(self, a: Array) -> Array:
        """A per-state result (state axis last) in the caller's layout and dtype."""
        xp = self.xp
        if self.axis_out != a.ndim - 1:
            a = xp.moveaxis(a, -1, self.axis_out)
        return finish(xp, a, self.out_dtype)

    def reduced(self, a: Array) -> Array:
        """A per-row result (``batch + (1,)``) squeezed to ``batch``, in the output dtype."""
        a = self.xp.reshape(a, self.batch)
        out = finish(self.xp, a, self.out_dtype)
        if isinstance(out, np.ndarray) and out.ndim == 0:
            return out[()]
        return out


def _temperature_values(temperature: Any, fn: str) -> Any:
    """A float for scalars, else the array as given (lists become NumPy arrays), validated."""
    if isinstance(temperature, (bool, str, bytes)) or temperature is None:
        raise ValueError(f"{fn}: temperature must be a number >= 0 (kelvin), got {temperature!r}")
    if isinstance(temperature, numbers.Real) or (
        isinstance(temperature, np.ndarray | np.generic) and np.ndim(temperature) == 0
    ):
        t = float(temperature)
        if math.isnan(t) or t < 0:
            raise ValueError(
                f"{fn}: temperature={t!r} is invalid; expected a number of kelvin >= 0 "
                "(0 gives the ground state(s), inf the degeneracy-weighted uniform limit)"
            )
        return t
    if isinstance(temperature, (list, tuple)):
        temperature = np.asarray(temperature, dtype=np.float64)
    if not array_api_compat.is_array_api_obj(temperature):
        raise ValueError(
            f"{fn}: temperature must be a number >= 0 or an array of them, "
            f"got {type(temperature).__name__}"
        )
    name = dtype_name(temperature.dtype)
    if not (name.startswith(("float", "int", "uint")) or name == "bfloat16"):
        raise ValueError(f"{fn}: temperature must hold real numbers, got dtype {name}")
    if not is_lazy(temperature):
        t = host_copy(temperature)
        bad = ~(t >= 0)
        if bad.any():
            idx = [int(i) for i in np.argwhere(bad)[0]]
            raise ValueError(
                f"{fn}: temperature{idx} = {float(t[tuple(idx)])!r} is invalid; temperatures "
                "must be numbers of kelvin >= 0"
            )
    return temperature


def _as_xp(xp: Any, a: Any, like: Array) -> Array:
    """``a`` (NumPy or ``xp``) as an ``xp`` array on ``like``'s device and dtype."""
    dev = device_of(like)
    if isinstance(a, np.ndarray) and not isinstance(like, np.ndarray):
        return xp.asarray(a, dtype=like.dtype, device=dev)
    return xp.astype(xp.asarray(a), like.dtype)


def _degeneracies(xp: Any, g: Any, e: Array, fn: str) -> Array:
    """Validated degeneracies (finite, >= 0) broadcast to the energies' shape."""
    prep = prepare(g, name="degeneracies", fn=fn)
    garr = prep.raw
    shape = tuple(e.shape)
    try:
        ok = np.broadcast_shapes(tuple(garr.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: degeneracies of shape {tuple(garr.shape)} do not broadcast to the energies' "
            f"shape {shape}"
        )
    if not is_lazy(garr):
        h = np.asarray(host_copy(garr), dtype=np.float64)
        bad = ~(np.isfinite(h) & (h >= 0))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            where = "degeneracies[" + ", ".join(map(str, idx)) + "]"
            raise ValueError(
                f"{fn}: {where} = {float(h[idx])!r} is invalid; degeneracies must be finite "
                "and >= 0 (0 removes a state)"
            )
    return xp.broadcast_to(_as_xp(xp, prep.x, e), shape)


def _mask(xp: Any, where: Any, e: Array, fn: str) -> Array:
    """The states taking part, broadcast to the energies' shape.

    Kept beside :func:`setup` rather than passed to it: its messages name the energies
    ("the energies' shape"), where setup's mask check says "the input", and the readings'
    messages do not change.
    """
    if isinstance(where, (list, tuple, bool, np.bool_)):
        where = np.asarray(where)
    if not array_api_compat.is_array_api_obj(where) or dtype_name(where.dtype) not in (
        "bool",
        "bool_",
    ):
        raise TypeError(f"{fn}: where must be a boolean array")
    shape = tuple(e.shape)
    try:
        ok = np.broadcast_shapes(tuple(where.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: where of shape {tuple(where.shape)} does not broadcast to the energies' "
            f"shape {shape}"
        )
    if isinstance(where, np.ndarray) and not isinstance(e, np.ndarray):
        where = xp.asarray(where, device=device_of(e))
    return xp.broadcast_to(where, shape)


def _unmasked(x: Any) -> tuple[Any, Any]:
    """``(values, keep)`` of a NumPy masked array: the values with the masked entries filled
    with 0 (they are never read: the mask excludes them, and a hidden NaN or a hidden positive
    population must not raise), and ``keep``, False where masked; ``keep`` is None when no
    entry is masked. Anything else passes through as ``(x, None)``."""
    if not isinstance(x, np.ma.MaskedArray):
        return x, None
    hidden = np.ma.getmaskarray(x)
    if not hidden.any():
        return np.ma.getdata(x), None
    return np.ma.filled(x, 0), ~hidden


def _setup(
    fn: str,
    energies: Any,
    temperature: Any,
    units: Any,
    degeneracies: Any,
    axis: Any,
    where: Any,
    *,
    name: str = "energies",
) -> _Setup:
    """Validate a Boltzmann reading's arguments; the energies and their axis through
    :func:`setup`, the physics (unit, kelvin, degeneracies) here."""
    u = _unit(units, fn)
    k = _k_table()[u]
    t_in = _temperature_values(temperature, fn)
    energies, hidden = _unmasked(energies)
    entry = setup(fn, energies, axis=axis, name=name, along="the states lie along it")
    a = entry.axes[0]
    xp = entry.xp
    e = entry.x
    g = None if degeneracies is None else _degeneracies(xp, degeneracies, e, fn)
    mask = None if where is None else _mask(xp, where, e, fn)
    if hidden is not None:
        # A masked entry is a state left out, exactly like where=False (the maps' rule).
        mask = hidden if mask is None else (mask & hidden)
    if a != e.ndim - 1:
        e = xp.moveaxis(e, a, -1)
        g = None if g is None else xp.moveaxis(g, a, -1)
        mask = None if mask is None else xp.moveaxis(mask, a, -1)
    batch = tuple(e.shape[:-1])
    n = int(e.shape[-1])

    t: float | Array
    if isinstance(t_in, float):
        t, kT = t_in, t_in * k
        out_batch = batch
    else:
        tarr = _as_xp(xp, t_in, e)
        try:
            out_batch = tuple(np.broadcast_shapes(batch, tuple(tarr.shape)))
        except ValueError:
            raise ValueError(
                f"{fn}: temperature of shape {tuple(tarr.shape)} does not broadcast against the "
                f"{name}' shape without the state axis, {batch}"
            ) from None
        t = xp.reshape(xp.broadcast_to(tarr, out_batch), (*out_batch, 1))
        kT = t * k
    full = (*out_batch, n)
    if tuple(e.shape) != full:
        e = xp.broadcast_to(e, full)
        g = None if g is None else xp.broadcast_to(g, full)
        mask = None if mask is None else xp.broadcast_to(mask, full)

    lg = None
    adm = mask
    if g is not None:
        pos = g > 0
        one = xp.ones_like(g)
        lg = xp.where(pos, xp.log(xp.where(pos, g, one)), 0.0 * one)
        adm = pos if mask is None else (mask & pos)
    axis_out = a + (len(out_batch) - len(batch))
    return _Setup(entry, e, lg, adm, t, kT, k, u, axis_out, out_batch)


# --------------------------------------------------------------------------------------------
# the ensemble
# --------------------------------------------------------------------------------------------


@dataclass
class _Ensemble:
    """Populations and what the thermodynamics need, state axis last (float64 or the input's).

    Three regimes are chosen per row: ``ground`` (T = 0, or a state at ε = −inf: the lowest
    states share the mass in proportion to g), ``flat`` (T = inf: p = g / Σg over the states of
    finite energy) and the finite temperatures in between.
    """

    p: Array
    logp: Array | None
    emin: Array  # lowest admissible energy per row (batch + (1,))
    ground: Array  # rows in the ground-state regime (bool, batch + (1,))
    flat: Array  # rows in the T = inf regime
    kT_safe: float | Array  # kT where finite and > 0, else 1
    lse: Array | None  # logsumexp(-ε + kT log g, temperature=kT) of the finite-T rows
    log_g0: Array | None  # log Σg over the ground states
    log_g: Array | None  # log Σg over the states of finite energy
    rownan: Array


def _admissible_min(xp: Any, e: Array, adm: Array | None) -> Array:
    if adm is not None:
        e = xp.where(adm, e, math.inf)
    return xp.min(e, axis=-1, keepdims=True)


def _ensemble(s: _Setup, *, need_log: bool = False, need_lse: bool = False) -> _Ensemble:
    xp, e, lg, adm, kT = s.xp, s.e, s.lg, s.adm, s.kT
    emin = _admissible_min(xp, e, adm)
    nan_in = xp.isnan(e) if adm is None else (xp.isnan(e) & adm)
    rownan = xp.any(nan_in, axis=-1, keepdims=True)
    # -inf energies are limits taken before the temperature (the maps' rule for +inf logits):
    # such a row is in its ground states at every T.
    ground: Array = emin == -math.inf
    if isinstance(kT, float):
        kT_safe: float | Array = kT if 0.0 < kT < math.inf else 1.0
        if kT == 0.0:
            ground = xp.ones_like(ground)
        flat: Array = ~ground if kT == math.inf else xp.zeros_like(ground)
    else:
        kT_safe = xp.where((kT > 0) & (kT < math.inf), kT, xp.ones_like(kT))
        ground = ground | (kT == 0)
        flat = (kT == math.inf) & ~ground

    x = -e if lg is None else -e + kT_safe * lg
    # Finite temperatures: softmax at temperature kT. Without degeneracies the map's own
    # T = 0 (maxima share equally) and T = inf (uniform) limits are already the physical ones.
    temp = kT if lg is None else kT_safe
    p = softmax(x, axis=-1, temperature=temp, where=adm)
    logp = log_softmax(x, axis=-1, temperature=temp, where=adm) if need_log else None
    lse = None
    if need_lse:
        lse = logsumexp(x, axis=-1, temperature=kT_safe, where=adm, keepdims=True)

    # The limits with degeneracies: softmax of log g over the states that take part.
    lgz = xp.zeros_like(e) if lg is None else lg
    finite_e = e < math.inf
    in_ground = (e == emin) & finite_e
    in_flat = finite_e & ~xp.isnan(e)
    if adm is not None:
        in_ground = in_ground & adm
        in_flat = in_flat & adm
    lazy = is_lazy(e)
    log_g0 = log_g = None
    if (lg is not None or need_lse) and (lazy or bool(xp.any(ground))):
        p = xp.where(ground, softmax(lgz, axis=-1, where=in_ground), p)
        if logp is not None:
            logp = xp.where(ground, log_softmax(lgz, axis=-1, where=in_ground), logp)
        log_g0 = logsumexp(lgz, axis=-1, where=in_ground, keepdims=True)
    if (lg is not None or need_lse) and (lazy or bool(xp.any(flat))):
        p = xp.where(flat, softmax(lgz, axis=-1, where=in_flat), p)
        if logp is not None:
            logp = xp.where(flat, log_softmax(lgz, axis=-1, where=in_flat), logp)
        log_g = logsumexp(lgz, axis=-1, where=in_flat, keepdims=True)
    p = xp.where(rownan, math.nan, p)
    if logp is not None:
        logp = xp.where(rownan, math.nan, logp)
    return _Ensemble(p, logp, emin, ground, flat, kT_safe, lse, log_g0, log_g, rownan)


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------


@quiet
def populations(
    energies: Any,
    temperature: Any,
    *,
    units: str = "kJ/mol",
    degeneracies: Any = None,
    axis: int = -1,
    where: Any = None,
) -> Array:
    r"""Boltzmann populations :math:`p_i = g_i e^{-\varepsilon_i/kT} / Z` of states along ``axis``.

    Computed as ``softmax(-ε + kT·log g, temperature=kT)`` with ``kT`` in the energies' unit
    (:math:`= \mathrm{softmax}(-\varepsilon/kT + \log g)`), so the energies are used as given.

    Parameters
    ----------
    energies : array_like
        State energies along ``axis`` (any array-API array: NumPy, PyTorch, JAX, ...). Only
        differences matter. ``+inf`` is a state that is never occupied; ``-inf`` states take
        all the mass at every temperature; a NaN makes its row NaN. The masked entries of a
        NumPy masked array are states left out, like ``where=False`` (combined with ``where``
        by logical and; the values under the mask are not read).
    temperature : float or array
        T in kelvin, ≥ 0. An array broadcasts against the energies' shape *without* the state
        axis, and the result takes the broadcast shape plus the state axis: ``energies`` of
        shape ``(n,)`` with ``temperature`` of shape ``(m,)`` gives ``(m, n)`` with
        ``axis=-1`` (a temperature scan in one call).
        T = 0 gives the ground state(s), sharing the mass in proportion to their degeneracy;
        T = inf gives ``g_i / Σg`` over the states of finite energy.
    units : str, default "kJ/mol"
        Unit of the energies: ``J``, ``J/mol``, ``kJ/mol``, ``kcal/mol``, ``eV``, ``hartree``,
        ``cm^-1`` or ``K`` (energy / k_B). See the module documentation.
    degeneracies : array_like, optional
        ``g_i ≥ 0`` (finite; need not be integers), broadcastable to ``energies``; ``g_i = 0``
        removes the state (population exactly 0). Default all 1.
    axis : int, default -1
        The axis of ``energies`` that runs over the states.
    where : array of bool, optional
        States that take part (broadcastable to ``energies``); the others get population 0.

    Returns
    -------
    array
        Populations summing to 1 along the state axis; same array kind as ``energies``. A row
        with no state that can be occupied (all removed, masked or at +inf) gives zeros.

    Raises
    ------
    ValueError
        Unknown ``units``; a temperature that is negative, NaN or of a shape that does not
        broadcast; degeneracies that are negative, infinite or NaN.

    Notes
    -----
    Accuracy is that of :func:`softmaxkit.softmax`: without degeneracies within a few ulp of
    the exact populations of the given energies, however wide their spread (energies
    :math:`10^6\,kT` apart give 0 and 1, never overflow). With degeneracies ``kT·log g`` is
    added to ``-ε`` first, one more rounding of ``|ε|·eps``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.boltzmann import populations
    >>> e = np.array([0.0, 0.5, 1.5])               # kcal/mol
    >>> populations(e, 298.15, units="kcal/mol")
    array([0.66244835, 0.28487181, 0.05267983])
    >>> populations(e, 298.15, units="kcal/mol", degeneracies=[1, 2, 0])
    array([0.53761781, 0.46238219, 0.        ])
    >>> populations(e, [0.0, np.inf], units="kcal/mol", degeneracies=[1, 2, 1])
    array([[1.  , 0.  , 0.  ],
           [0.25, 0.5 , 0.25]])
    """
    s = _setup("populations", energies, temperature, units, degeneracies, axis, where)
    return s.back(_ensemble(s).p)


def _log_z(s: _Setup, ens: _Ensemble) -> tuple[Array, Array]:
    """(log Z, F in the input unit), batch + (1,)."""
    xp = s.xp
    assert ens.lse is not None
    kT_safe = ens.kT_safe
    log_z = ens.lse / kT_safe
    f = -ens.lse
    emin = ens.emin
    if ens.log_g0 is not None:
        # T -> 0: log Z = -ε0/kT + log G0 -> -inf, log G0 or +inf as ε0 >, =, < 0; F -> ε0.
        lz0 = xp.where(emin > 0, -math.inf, xp.where(emin < 0, math.inf, ens.log_g0))
        log_z = xp.where(ens.ground, lz0, log_z)
        f = xp.where(ens.ground, emin, f)
    if ens.log_g is not None:
        # T -> inf: log Z -> log Σg, and F = -kT log Σg + <ε>_g -> -inf, <ε>_g, +inf.
        e_mean = _mean_energy(s, ens)
        f_inf = xp.where(ens.log_g > 0, -math.inf, xp.where(ens.log_g < 0, math.inf, e_mean))
        log_z = xp.where(ens.flat, ens.log_g, log_z)
        f = xp.where(ens.flat, f_inf, f)
    nan = math.nan
    log_z = xp.where(ens.rownan, nan, log_z)
    f = xp.where(ens.rownan, nan, f)
    return log_z, f


def _centred(s: _Setup, ens: _Ensemble) -> tuple[Array, Array, Array]:
    """(reference energy, m = <y>, y - m) with y = (ε - ε_ref) / kT on the occupied states.

    The energies are centred on the ground state before anything is summed, and the variance
    is then taken about the mean with the corrected two-pass formula, so neither a large
    common offset nor a spread of 10^6 kT costs precision.
    """
    xp, e, p = s.xp, s.e, ens.p
    occupied = p > 0
    ref = xp.where(xp.isfinite(ens.emin), ens.emin, 0.0 * ens.emin)
    zero = xp.zeros_like(e)
    y = xp.where(occupied, (e - ref) / ens.kT_safe, zero)
    m = xp.sum(p * y, axis=-1, keepdims=True)
    c = xp.where(occupied, y - m, zero)
    return ref, m, c


def _mean_energy(s: _Setup, ens: _Ensemble) -> Array:
    ref, m, _ = _centred(s, ens)
    return ref + ens.kT_safe * m


@quiet
def partition_function(
    energies: Any,
    temperature: Any,
    *,
    units: str = "kJ/mol",
    degeneracies: Any = None,
    axis: int = -1,
    where: Any = None,
    log: bool = False,
) -> Array:
    r"""The partition function :math:`Z = \sum_i g_i e^{-\varepsilon_i/kT}`, or its log.

    Parameters
    ----------
    energies, temperature, units, degeneracies, axis, where
        As for :func:`populations`. Z depends on the zero of energy: the energies are taken as
        given.
    log : bool, default False
        Return :math:`\log Z` (``logsumexp(-ε + kT log g, temperature=kT) / kT``), which does
        not overflow; ``Z`` itself is ``exp`` of it and overflows to inf beyond ~1e308.

    Returns
    -------
    array
        Z (or log Z) with the state axis reduced. Limits: T = 0 gives log Z = −inf, log G0 or
        +inf as the ground energy is > 0, = 0 or < 0 (G0 = Σg over the ground states);
        T = inf gives log Σg; a row with nothing to occupy gives Z = 0 (log Z = −inf).

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.boltzmann import partition_function
    >>> partition_function(np.array([0.0, 100.0]), 100.0, units="K")     # 1 + 1/e
    np.float64(1.3678794411714423)
    >>> partition_function(np.array([-1e6, 0.0]), 1.0, units="K", log=True)   # Z = e^1e6
    np.float64(1000000.0)
    """
    fn = "partition_function"
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"{fn}: log must be True or False, got {log!r}")
    s = _setup(fn, energies, temperature, units, degeneracies, axis, where)
    ens = _ensemble(s, need_lse=True)
    log_z, _ = _log_z(s, ens)
    return s.reduced(log_z if log else s.xp.exp(log_z))


@dataclass(frozen=True)
class Thermodynamics:
    r"""Thermodynamic functions of a set of states at given temperatures.

    Energies are in :attr:`units` (per mole for ``J/mol``, ``kJ/mol``, ``kcal/mol``, per
    particle otherwise); :attr:`S` and :attr:`Cv` are in :attr:`units` per kelvin, so with
    ``units="K"`` they are in units of Boltzmann's constant (S/k, Cv/k).

    Attributes
    ----------
    temperature : array
        T in kelvin, broadcast to the shape of the results.
    log_Z : array
        :math:`\log Z` (dimensionless; it does not overflow).
    Z : array
        :math:`Z = \sum_i g_i e^{-\varepsilon_i/kT}` (overflows to inf where log Z > ~709).
    F : array
        Helmholtz free energy :math:`F = -kT \log Z`.
    U : array
        Mean energy :math:`U = \langle\varepsilon\rangle = \sum_i p_i \varepsilon_i`.
    S : array
        Entropy :math:`S = (U - F)/T = -k \sum_i p_i \log(p_i/g_i)`.
    Cv : array
        Heat capacity
        :math:`C_V = (\langle\varepsilon^2\rangle - \langle\varepsilon\rangle^2)/kT^2`.
    units : str
        The energy unit of F and U.
    """

    temperature: Array
    log_Z: Array
    Z: Array
    F: Array
    U: Array
    S: Array
    Cv: Array
    units: str


@quiet
def thermodynamics(
    energies: Any,
    temperature: Any,
    *,
    units: str = "kJ/mol",
    degeneracies: Any = None,
    axis: int = -1,
    where: Any = None,
    output_units: str | None = None,
) -> Thermodynamics:
    r"""Z, log Z, F, U, S and Cv of the canonical ensemble over states along ``axis``.

    .. math::
        \log Z = \log\sum_i g_i e^{-\varepsilon_i/kT},\quad F = -kT\log Z,\quad
        U = \langle\varepsilon\rangle,\quad S = \frac{U - F}{T},\quad
        C_V = \frac{\langle\varepsilon^2\rangle - \langle\varepsilon\rangle^2}{kT^2}.

    Parameters
    ----------
    energies, temperature, units, degeneracies, axis, where
        As for :func:`populations`; a temperature array gives a scan.
    output_units : str, optional
        Unit of F and U (S and Cv are in it per kelvin); default ``units``. A molar unit
        (``J/mol``, ``kJ/mol``, ``kcal/mol``) gives molar quantities, the others per particle;
        ``"K"`` gives S and Cv in units of k (S/k, Cv/k).

    Returns
    -------
    Thermodynamics
        Arrays with the state axis reduced (shape of the broadcast batch).

    Notes
    -----
    *Stability.* log Z and F come from :func:`softmaxkit.logsumexp` (no overflow for any
    spread of energies). U and Cv are computed from the energies centred on the ground state
    in units of kT, ``y_i = (ε_i − ε_0)/kT``: ``U = ε_0 + kT·Σ p_i y_i`` and
    ``Cv/k = Σ p_i (y_i − m)² − (Σ p_i (y_i − m))²`` with ``m = Σ p_i y_i`` (the corrected
    two-pass variance), so a common offset of the energies or a spread of 10^6 kT costs no
    precision and ``<ε²> − <ε>²`` never cancels catastrophically. S is the Gibbs form
    ``−k Σ p_i (log p_i − log g_i)`` (from :func:`softmaxkit.log_softmax`), equal to
    ``(U − F)/T`` without its cancellation at low T. States with zero population contribute
    nothing (no ``0·inf``).

    *Limits.* T = 0: F = U = ε_0 (the ground energy), S = k log G0 (G0 = Σg over the ground
    states), Cv = 0, log Z as in :func:`partition_function`. T = inf: U = Σ g ε / Σ g,
    S = k log Σg, Cv = 0, F = −inf, U or +inf as Σg >, =, < 1. A row with no state to occupy
    gives Z = 0, F = +inf and U, S, Cv NaN (there is no system); a NaN energy makes its row NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.boltzmann import thermodynamics
    >>> th = thermodynamics(np.array([0.0, 1.0]), 1 / 2.399357, units="K")  # two levels
    >>> round(float(th.Cv), 6)                      # the Schottky peak, in units of k
    0.439229
    >>> th = thermodynamics(np.array([0.0, 0.6]), [0.0, 298.15], units="kcal/mol",
    ...                     degeneracies=[1, 2], output_units="J/mol")
    >>> th.S                                        # J/(mol K): R log 1 at T = 0
    array([0.       , 8.0834348])
    """
    fn = "thermodynamics"
    s = _setup(fn, energies, temperature, units, degeneracies, axis, where)
    out_u = s.units if output_units is None else _unit(output_units, fn, "output_units")
    xp = s.xp
    ens = _ensemble(s, need_log=True, need_lse=True)
    log_z, f = _log_z(s, ens)
    ref, m, c = _centred(s, ens)
    u = ref + ens.kT_safe * m
    p = ens.p
    assert ens.logp is not None
    lg = xp.zeros_like(p) if s.lg is None else s.lg
    occupied = p > 0
    zero = xp.zeros_like(p)
    s_k = 0.0 - xp.sum(xp.where(occupied, p * (ens.logp - lg), zero), axis=-1, keepdims=True)
    var = xp.sum(p * c * c, axis=-1, keepdims=True) - xp.sum(p * c, axis=-1, keepdims=True) ** 2
    cv_k = xp.where(ens.ground | ens.flat, 0.0, var)
    has = xp.any(occupied, axis=-1, keepdims=True)
    nan = math.nan
    u = xp.where(has, u, nan)
    s_k = xp.where(has, s_k, nan)
    cv_k = xp.where(has, cv_k, nan)

    k_out = _k_table()[out_u]
    factor = k_out / s.k
    t = s.t
    t_arr = (
        xp.full(tuple(log_z.shape), t, dtype=log_z.dtype, device=device_of(log_z))
        if isinstance(t, float)
        else t
    )
    return Thermodynamics(
        temperature=s.reduced(t_arr),
        log_Z=s.reduced(log_z),
        Z=s.reduced(xp.exp(log_z)),
        F=s.reduced(f * factor if factor != 1.0 else f),
        U=s.reduced(u * factor if factor != 1.0 else u),
        S=s.reduced(s_k * k_out),
        Cv=s.reduced(cv_k * k_out),
        units=out_u,
    )


@quiet
def energies_from_populations(
    p: Any,
    temperature: Any,
    *,
    units: str = "kJ/mol",
    reference: int | str = 0,
    degeneracies: Any = None,
    axis: int = -1,
    where: Any = None,
    normalize: bool = False,
    atol: float | None = None,
) -> Array:
    r"""Energies back from Boltzmann populations: :math:`\varepsilon_i = -kT\log(p_i/g_i) + c`.

    The inverse of :func:`populations`, through :func:`softmaxkit.inverse_softmax`: its
    logits at temperature kT are ``-ε`` up to the constant, which ``reference`` fixes.

    Parameters
    ----------
    p : array_like
        Populations along ``axis``, each row summing to 1 (within ``atol``; or any positive
        weights with ``normalize=True``). The masked entries of a NumPy masked array are
        absent states, like ``where=False``, and come back as ``+inf``.
    temperature : float or array
        T in kelvin, finite and > 0 (at T = 0 and T = inf the populations forget the
        energies); an array broadcasts as in :func:`populations`.
    units : str, default "kJ/mol"
        Unit of the returned energies.
    reference : int, "min" or "mean", default 0
        An int ``r``: ``ε_r = 0`` (gauge ``"reference"``: energies relative to state ``r``,
        which needs ``p_r > 0``); ``"min"``: the lowest energy is 0 (gauge ``"logsumexp"``,
        then shifted); ``"mean"``: the finite energies have mean 0 (gauge ``"center"``).
    degeneracies : array_like, optional
        Divided out: ``ε_i = -kT log(p_i / g_i) + c``. A state with ``g_i = 0`` is absent
        (its population must be 0).
    axis, where
        The state axis; states that take part (the others are absent).
    normalize, atol
        As for :func:`softmaxkit.inverse_softmax`.

    Returns
    -------
    array
        Energies; a zero population (or an absent state) gives ``+inf`` exactly, which
        :func:`populations` maps back to 0.

    Raises
    ------
    ValueError
        Bad populations (naming the entry, as :func:`softmaxkit.inverse_softmax` does), a
        temperature of 0, inf, < 0 or NaN, a zero population at the reference state, a
        positive population where ``g = 0``, an unknown ``reference``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit.boltzmann import energies_from_populations, populations
    >>> p = populations(np.array([0.0, 0.5, 1.5]), 298.15, units="kcal/mol")
    >>> energies_from_populations(p, 298.15, units="kcal/mol")
    array([0. , 0.5, 1.5])
    >>> energies_from_populations([0.5, 0.5, 0.0], 300.0, units="kJ/mol",
    ...                           degeneracies=[1, 2, 1])         # RT log 2 apart
    array([0.       , 1.7289439,       inf])
    """
    fn = "energies_from_populations"
    if isinstance(reference, str):
        if reference not in ("min", "mean"):
            raise ValueError(
                f"{fn}: reference={reference!r} is invalid; expected a state index, 'min' or 'mean'"
            )
    elif isinstance(reference, bool) or not isinstance(reference, numbers.Integral):
        raise TypeError(f"{fn}: reference must be an int, 'min' or 'mean', got {reference!r}")
    t_in = _temperature_values(temperature, fn)
    if isinstance(t_in, float) and not 0.0 < t_in < math.inf:
        raise ValueError(
            f"{fn}: temperature={t_in!r} is not allowed: at T = 0 (all mass on the ground "
            "states) and T = inf (p = g/Σg) the populations do not depend on the energies; "
            "use a finite temperature > 0"
        )
    s = _setup(fn, p, t_in, units, degeneracies, axis, where, name="p")
    xp = s.xp
    if s.lg is not None and not is_lazy(s.e):
        wrong = (s.adm is not None) & ~s.adm & (s.e > 0) if s.adm is not None else None
        idx = None if wrong is None else first_index(xp, wrong)
        if idx is not None:
            raise ValueError(
                f"{fn}: p{list(idx)} = {float(host_copy(s.e)[idx])!r} is positive where the "
                "state is absent (degeneracy 0 or where=False); an absent state has no "
                "population"
            )
    gauge = {"min": "logsumexp", "mean": "center"}.get(reference, "reference")  # type: ignore[call-overload]
    ref = 0 if isinstance(reference, str) else int(reference)
    try:
        x = inverse_softmax(
            s.e,
            axis=-1,
            temperature=s.kT,
            gauge=gauge,
            reference=ref,
            atol=atol,
            normalize=normalize,
            where=s.adm,
        )
    except InvalidProbabilityError as exc:
        raise ValueError(str(exc).replace("inverse_softmax:", f"{fn}:", 1)) from None
    except ValueError as exc:
        if "temperature" in str(exc):
            raise ValueError(
                f"{fn}: temperatures must be finite and > 0 kelvin (at T = 0 and T = inf the "
                f"populations do not depend on the energies): {exc}"
            ) from None
        raise
    finite = x > -math.inf
    eps = 0.0 - x  # +0, not -0, at the reference
    if s.lg is not None:
        eps = eps + s.kT * s.lg
        if isinstance(reference, str) and reference == "mean":
            cnt = xp.sum(xp.astype(finite, eps.dtype), axis=-1, keepdims=True)
            tot = xp.sum(xp.where(finite, s.lg, xp.zeros_like(s.lg)), axis=-1, keepdims=True)
            eps = eps - s.kT * (tot / xp.where(cnt > 0, cnt, xp.ones_like(cnt)))
        elif not isinstance(reference, str):
            eps = eps - s.kT * s.lg[..., ref : ref + 1]
    if isinstance(reference, str) and reference == "min":
        low = xp.min(xp.where(finite, eps, math.inf), axis=-1, keepdims=True)
        eps = eps - xp.where(xp.isfinite(low), low, xp.zeros_like(low))
    eps = xp.where(finite, eps, math.inf)
    return s.back(eps)
