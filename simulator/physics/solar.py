"""Rooftop PV: plane of array, cell temperature, PVWatts DC and inverter, vectorised over devices.

Sun angles and irradiance come per weather cell from :mod:`gridtwin.simulator.physics.weather`;
everything here is plain numpy, broadcast over per-device arrays (tilt, azimuth, ratings), and
meant to be called once per tick on all systems at once. No pvlib call happens here: one pvlib
call costs about 2.7 ms, far too much per device. The PVWatts equations are the same as
``pvlib.pvsystem.pvwatts_dc`` and ``pvlib.inverter.pvwatts`` (tested to agree to 1e-9).

References
----------
device-physics.md §3.1 (chain and equations) and §3.4 (invariants);
A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

PVWATTS_LOSSES_PCT: dict[str, float] = {
    "soiling": 2.0,
    "shading": 3.0,
    "snow": 0.0,
    "mismatch": 2.0,
    "wiring": 2.0,
    "connections": 0.5,
    "lid": 1.5,
    "nameplate_rating": 1.0,
    "age": 0.0,
    "availability": 3.0,
}
"""Default loss components of ``pvlib.pvsystem.pvwatts_losses`` [%]."""

SYSTEM_LOSSES_FRAC: float = float(1.0 - np.prod([1.0 - p / 100.0 for p in PVWATTS_LOSSES_PCT.values()]))
"""Combined DC system losses, 1 − Π(1 − l/100) = 0.1408 [fraction]."""

_T_REF_C = 25.0
_E_REF_W_M2 = 1000.0


def plane_of_array_w_m2(
    zenith_deg: ArrayLike,
    azimuth_deg: ArrayLike,
    dni_w_m2: ArrayLike,
    dhi_w_m2: ArrayLike,
    ghi_w_m2: ArrayLike,
    *,
    tilt_deg: ArrayLike,
    surface_azimuth_deg: ArrayLike,
    albedo: ArrayLike = 0.2,
) -> FloatArray:
    """Total irradiance on the tilted array, isotropic sky.

    Parameters
    ----------
    zenith_deg, azimuth_deg : array_like
        Solar zenith and azimuth (clockwise from north) [degrees].
    dni_w_m2, dhi_w_m2, ghi_w_m2 : array_like
        Direct normal, diffuse horizontal and global horizontal irradiance [W/m^2].
    tilt_deg : array_like
        Array tilt from horizontal [degrees], typically one value per device.
    surface_azimuth_deg : array_like
        Array azimuth, clockwise from north (180 = south) [degrees].
    albedo : array_like, default 0.2
        Ground reflectance [unitless].

    Returns
    -------
    numpy.ndarray
        POA = DNI·max(cos AOI, 0) + DHI·(1 + cos β)/2 + GHI·ρ·(1 − cos β)/2 [W/m^2], >= 0,
        broadcast over all inputs; cos AOI = cos z·cos β + sin z·sin β·cos(γ_sun − γ_array).

    Notes
    -----
    Sun-side inputs are usually scalars of one weather cell, array-side inputs arrays of
    devices; any numpy-broadcastable mix works.
    """
    z = np.radians(zenith_deg)
    beta = np.radians(tilt_deg)
    cos_beta = np.cos(beta)
    cos_aoi = np.cos(z) * cos_beta + np.sin(z) * np.sin(beta) * np.cos(
        np.radians(np.subtract(azimuth_deg, surface_azimuth_deg))
    )
    beam = np.multiply(dni_w_m2, np.maximum(cos_aoi, 0.0))
    sky = np.multiply(dhi_w_m2, 0.5 * (1.0 + cos_beta))
    ground = np.multiply(np.multiply(ghi_w_m2, albedo), 0.5 * (1.0 - cos_beta))
    return np.maximum(beam + sky + ground, 0.0)


def cell_temperature_c(
    poa_w_m2: ArrayLike,
    t_air_c: ArrayLike,
    wind_m_s: ArrayLike = 1.0,
    *,
    a: float = -2.98,
    b: float = -0.0471,
    delta_t_c: float = 1.0,
) -> FloatArray:
    """Cell temperature, Sandia (SAPM) model.

    Parameters
    ----------
    poa_w_m2 : array_like
        Plane-of-array irradiance [W/m^2].
    t_air_c : array_like
        Air temperature [°C].
    wind_m_s : array_like, default 1.0
        Wind speed at 10 m [m/s].
    a, b, delta_t_c : float
        SAPM parameters [unitless, s/m, °C]; defaults ``close_mount_glass_glass`` (residential
        roofs). Open rack glass/polymer is (-3.56, -0.075, 3).

    Returns
    -------
    numpy.ndarray
        T_c = E·exp(a + b·WS) + T_a + (E/1000)·ΔT [°C]; equals ``pvlib.temperature.sapm_cell``.
    """
    poa = np.asarray(poa_w_m2, dtype=np.float64)
    t_module = poa * np.exp(a + np.multiply(b, wind_m_s)) + t_air_c
    return t_module + poa * (delta_t_c / _E_REF_W_M2)


def pvwatts_dc_w(
    poa_w_m2: ArrayLike, t_cell_c: ArrayLike, *, pdc0_w: ArrayLike, gamma_per_c: ArrayLike = -0.0037
) -> FloatArray:
    """PVWatts DC power at the maximum power point.

    Parameters
    ----------
    poa_w_m2 : array_like
        Effective plane-of-array irradiance [W/m^2].
    t_cell_c : array_like
        Cell temperature [°C].
    pdc0_w : array_like
        DC nameplate at 1000 W/m^2 and 25 °C [W].
    gamma_per_c : array_like, default -0.0037
        Temperature coefficient of power [1/°C] (modern c-Si; typically -0.002 to -0.005).

    Returns
    -------
    numpy.ndarray
        P_dc = (E/1000)·P_dc0·(1 + γ·(T_c − 25)) [W]; equals ``pvlib.pvsystem.pvwatts_dc``.
        Not clipped: it is negative only for absurd cell temperatures (T_c > 25 − 1/γ ≈ 295 °C).
    """
    poa = np.asarray(poa_w_m2, dtype=np.float64)
    return (
        poa
        * np.multiply(pdc0_w, 1.0 / _E_REF_W_M2)
        * (1.0 + np.multiply(gamma_per_c, np.subtract(t_cell_c, _T_REF_C)))
    )


def inverter_ac_w(
    pdc_w: ArrayLike, *, pac0_w: ArrayLike, eta_nom: float = 0.96, eta_ref: float = 0.9637
) -> FloatArray:
    """PVWatts inverter: part-load efficiency and clipping at the AC rating.

    Parameters
    ----------
    pdc_w : array_like
        DC input power [W].
    pac0_w : array_like
        AC rating (clipping limit) [W].
    eta_nom : float, default 0.96
        Nominal efficiency [unitless].
    eta_ref : float, default 0.9637
        Reference efficiency of the efficiency curve [unitless].

    Returns
    -------
    numpy.ndarray
        P_ac = clip(η·P_dc, 0, P_ac0) [W] with ζ = P_dc/P_dc0, P_dc0 = P_ac0/η_nom and
        η = (η_nom/η_ref)·(−0.0162·ζ − 0.0059/ζ + 0.9858). 0 where P_dc <= 0 or η < 0 (ζ below
        about 0.006); exactly P_ac0 where η·P_dc >= P_ac0. Equals ``pvlib.inverter.pvwatts``
        with ``pdc0 = pac0/eta_nom``.
    """
    pdc = np.asarray(pdc_w, dtype=np.float64)
    pdc0_inv = np.divide(pac0_w, eta_nom)
    zeta = pdc / pdc0_inv
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # 1/ζ at ζ = 0 or subnormal
        inv_zeta = np.where(pdc > 0.0, 1.0 / zeta, 0.0)
        eta = (eta_nom / eta_ref) * (-0.0162 * zeta - 0.0059 * inv_zeta + 0.9858)
        return np.clip(eta * pdc, 0.0, pac0_w)


def pv_ac_power_w(
    zenith_deg: ArrayLike,
    azimuth_deg: ArrayLike,
    dni_w_m2: ArrayLike,
    dhi_w_m2: ArrayLike,
    ghi_w_m2: ArrayLike,
    t_air_c: ArrayLike,
    *,
    tilt_deg: ArrayLike,
    surface_azimuth_deg: ArrayLike,
    pdc0_w: ArrayLike,
    pac0_w: ArrayLike,
    losses_frac: ArrayLike = SYSTEM_LOSSES_FRAC,
    curtail_limit_w: ArrayLike = np.inf,
    tripped: ArrayLike = False,
    wind_m_s: ArrayLike = 1.0,
    gamma_per_c: ArrayLike = -0.0037,
) -> tuple[FloatArray, FloatArray]:
    """The whole PV chain: irradiance and air temperature to AC output, for many systems.

    Parameters
    ----------
    zenith_deg, azimuth_deg : array_like
        Solar zenith and azimuth [degrees] (per cell, broadcast against devices).
    dni_w_m2, dhi_w_m2, ghi_w_m2 : array_like
        Irradiance components [W/m^2].
    t_air_c : array_like
        Air temperature [°C].
    tilt_deg, surface_azimuth_deg : array_like
        Array orientation [degrees], per device.
    pdc0_w : array_like
        DC nameplate [W].
    pac0_w : array_like
        Inverter AC rating [W].
    losses_frac : array_like, default SYSTEM_LOSSES_FRAC
        DC system losses applied before the inverter [fraction].
    curtail_limit_w : array_like, default inf
        Export/curtailment limit on AC output [W]; negative values act as 0.
    tripped : array_like of bool, default False
        Inverter tripped/off (true state, not what an API reports).
    wind_m_s : array_like, default 1.0
        Wind speed [m/s].
    gamma_per_c : array_like, default -0.0037
        Temperature coefficient of power [1/°C].

    Returns
    -------
    ac_w : numpy.ndarray
        AC output = min(inverter(dc), curtail_limit) [W], in [0, pac0], 0 when tripped or
        when the sun is at or below the horizon (zenith >= 90).
    dc_w : numpy.ndarray
        Available DC power at the inverter input, after ``losses_frac`` [W]: the MPP power,
        not reduced by clipping or curtailment; 0 when tripped (array open-circuit) or the sun
        is down. ``ac_w <= dc_w`` always.

    Notes
    -----
    POA (isotropic) → SAPM close-mount cell temperature → PVWatts DC → × (1 − losses) →
    PVWatts inverter. About a dozen numpy operations on device-sized arrays.
    """
    sun = sun_vector(zenith_deg, azimuth_deg)
    orient = orientation(tilt_deg, surface_azimuth_deg)
    return pv_ac_power_oriented_w(
        sun, dni_w_m2, dhi_w_m2, ghi_w_m2, t_air_c, orient, pdc0_w=pdc0_w, pac0_w=pac0_w,
        losses_frac=losses_frac, curtail_limit_w=curtail_limit_w, tripped=tripped, wind_m_s=wind_m_s,
        gamma_per_c=gamma_per_c,
    )


# --------------------------------------------------------------------------------------------
# The fleet's hot path: orientation constants once, no trigonometry per device per tick
# --------------------------------------------------------------------------------------------


class Orientation(NamedTuple):
    """Per-array constants of the isotropic plane-of-array model (computed once per array)."""

    up: FloatArray
    """cos(tilt): the panel normal's vertical component [-]."""
    east: FloatArray
    """sin(tilt)·sin(azimuth) [-]."""
    north: FloatArray
    """sin(tilt)·cos(azimuth) [-]."""
    sky: FloatArray
    """Isotropic sky view factor (1 + cos tilt)/2 [-]."""
    ground: FloatArray
    """Ground-reflected factor albedo·(1 − cos tilt)/2 [-]."""


class SunVector(NamedTuple):
    """Unit vector towards the sun (east, north, up) [-]; ``up`` = cos(zenith)."""

    east: FloatArray
    north: FloatArray
    up: FloatArray
    down: NDArray[np.bool_]
    """True where the sun is at or below the horizon (zenith >= 90°)."""


def orientation(tilt_deg: ArrayLike, surface_azimuth_deg: ArrayLike, albedo: ArrayLike = 0.2) -> Orientation:
    """Orientation constants of arrays tilted ``tilt_deg`` facing ``surface_azimuth_deg`` [°, clockwise from N]."""
    beta = np.radians(np.asarray(tilt_deg, dtype=np.float64))
    gamma = np.radians(np.asarray(surface_azimuth_deg, dtype=np.float64))
    cos_b, sin_b = np.cos(beta), np.sin(beta)
    return Orientation(cos_b, sin_b * np.sin(gamma), sin_b * np.cos(gamma), 0.5 * (1.0 + cos_b),
                       np.multiply(albedo, 0.5 * (1.0 - cos_b)))


def sun_vector(zenith_deg: ArrayLike, azimuth_deg: ArrayLike) -> SunVector:
    """Unit vector towards the sun from its zenith and azimuth [°] (per weather cell)."""
    z = np.radians(np.asarray(zenith_deg, dtype=np.float64))
    a = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    sin_z = np.sin(z)
    return SunVector(sin_z * np.sin(a), sin_z * np.cos(a), np.cos(z), np.asarray(zenith_deg) >= 90.0)


def pv_ac_power_oriented_w(
    sun: SunVector,
    dni_w_m2: ArrayLike,
    dhi_w_m2: ArrayLike,
    ghi_w_m2: ArrayLike,
    t_air_c: ArrayLike,
    orient: Orientation,
    *,
    pdc0_w: ArrayLike,
    pac0_w: ArrayLike,
    losses_frac: ArrayLike = SYSTEM_LOSSES_FRAC,
    curtail_limit_w: ArrayLike = np.inf,
    tripped: ArrayLike = False,
    wind_m_s: ArrayLike = 1.0,
    gamma_per_c: ArrayLike = -0.0037,
    eta_nom: float = 0.96,
    eta_ref: float = 0.9637,
) -> tuple[FloatArray, FloatArray]:
    """The chain of :func:`pv_ac_power_w` from a sun vector and orientation constants.

    Same results (POA isotropic, SAPM close-mount, PVWatts DC, losses, PVWatts inverter,
    curtailment), about twenty elementwise operations and no trigonometry, so it can run every
    tick on 10,000 arrays. The inverter is written as ``η·P_dc = (η_nom/η_ref)·(P_dc·(0.9858 −
    0.0162·ζ) − 0.0059·P_dc0,inv)`` (``P_dc/ζ = P_dc0,inv``), which needs no ``1/ζ`` and is
    negative exactly where pvlib's efficiency is, so one ``max(·, 0)`` covers both cases.
    """
    cos_aoi = sun.up * orient.up + sun.north * orient.north + sun.east * orient.east
    poa = np.multiply(dni_w_m2, np.maximum(cos_aoi, 0.0))
    poa += np.multiply(dhi_w_m2, orient.sky)
    poa += np.multiply(ghi_w_m2, orient.ground)
    np.maximum(poa, 0.0, out=poa)
    k_temp = np.exp(-2.98 + np.multiply(-0.0471, wind_m_s)) + 1.0 / _E_REF_W_M2  # SAPM close-mount
    t_cell = np.add(t_air_c, poa * k_temp)
    dc = poa * (np.multiply(pdc0_w, np.subtract(1.0, losses_frac)) / _E_REF_W_M2)
    dc *= 1.0 + np.multiply(gamma_per_c, t_cell - _T_REF_C)
    off = np.logical_or(sun.down, tripped)
    if np.any(off):
        dc = np.where(off, 0.0, dc)
    np.maximum(dc, 0.0, out=dc)
    pdc0_inv = np.divide(pac0_w, eta_nom)
    zeta = dc / pdc0_inv
    ac = dc * (0.9858 - 0.0162 * zeta)
    ac -= 0.0059 * pdc0_inv
    ac *= eta_nom / eta_ref
    np.maximum(ac, 0.0, out=ac)
    ac = np.minimum(ac, pac0_w)
    return np.minimum(ac, np.maximum(curtail_limit_w, 0.0)), dc
