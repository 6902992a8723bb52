"""Synthetic weather per weather cell: sun, clear sky, clouds, temperature, grid carbon intensity.

Everything here is computed once per weather cell (a few km across), never per device. pvlib is
called only by :func:`solar_geometry` (once per cell per day chunk) and :func:`split_irradiance`
(Erbs decomposition, per cell). Randomness comes only from an explicit
:class:`numpy.random.Generator`. Times are float64 epoch seconds UTC (``times_s``).

Typical use by the kernel, per cell and day::

    geo = solar_geometry(lat_deg, lon_deg, elevation_m, times_s)       # 1-min table for the day
    regime = next_cloud_regime(rng, regime)
    k, cloud_state = cloud_index(rng, regime, times_s.size, 60.0, cloud_state)
    ghi, dni, dhi = split_irradiance(k, geo, times_s)
    t_min, t_max, anomaly = daily_temperature_extremes(rng, doy, anomaly, ..., mean_clear_index=k.mean())

References
----------
device-physics.md §3.1-3.2 (sun, clear sky, clouds) and §6 (temperature, carbon intensity).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import ArrayLike, NDArray

from gridtwin.simulator.errors import InvalidParameter

FloatArray = NDArray[np.float64]

LINKE_TURBIDITY = 3.0
"""Constant Linke turbidity used for the Ineichen clear sky [unitless] (typical range 2-5)."""

_DAYS_PER_YEAR = 365.0
_ANNUAL_PEAK_DOY_NORTH = 200.0  # warmest day, northern mid-latitudes (~19 July)


# --------------------------------------------------------------------------------------------
# Sun and clear sky
# --------------------------------------------------------------------------------------------


class SolarGeometry(NamedTuple):
    """Sun position and clear-sky irradiance of one weather cell; every field shaped like ``times_s``.

    Irradiances are 0 whenever ``zenith_deg >= 90`` (sun at or below the horizon).
    """

    zenith_deg: FloatArray
    """Apparent (refraction-corrected) solar zenith [degrees]."""
    azimuth_deg: FloatArray
    """Solar azimuth, clockwise from north [degrees]."""
    ghi_clear_w_m2: FloatArray
    """Clear-sky global horizontal irradiance [W/m^2]."""
    dni_clear_w_m2: FloatArray
    """Clear-sky direct normal irradiance [W/m^2]."""
    dhi_clear_w_m2: FloatArray
    """Clear-sky diffuse horizontal irradiance [W/m^2]."""
    dni_extra_w_m2: FloatArray
    """Extraterrestrial normal irradiance (Spencer) [W/m^2]."""


def solar_geometry(lat_deg: float, lon_deg: float, elevation_m: float, times_s: ArrayLike) -> SolarGeometry:
    """Solar position and Ineichen clear-sky irradiance for one site and many times.

    Parameters
    ----------
    lat_deg : float
        Latitude, north positive [degrees].
    lon_deg : float
        Longitude, east positive [degrees].
    elevation_m : float
        Site altitude above sea level [m].
    times_s : array_like
        Epoch seconds UTC [s].

    Returns
    -------
    SolarGeometry
        Plain numpy arrays shaped like ``times_s``.

    Notes
    -----
    Solar position uses pvlib's ``ephemeris`` method: within 0.01° of SPA (checked over a
    year at 5 min in San Francisco) and about 7x faster than ``nrel_numpy``. The clear sky is
    ``pvlib.clearsky.ineichen`` with a constant Linke turbidity of 3.0 (no HDF5 lookup), the
    Kasten-Young absolute airmass at the pressure of ``elevation_m``, and the Spencer
    extraterrestrial irradiance. Irradiance is set to 0 where the apparent zenith is >= 90°.
    Call this once per weather cell per day chunk, never per device.
    """
    times = np.asarray(times_s, dtype=np.float64)
    flat = times.ravel()
    index = pd.DatetimeIndex(pd.to_datetime(flat, unit="s", utc=True))
    pressure_pa = pvlib.atmosphere.alt2pres(elevation_m)
    with warnings.catch_warnings():
        # pvlib's ephemeris reads DatetimeIndex.dayofyear, deprecated in pandas 3 (harmless).
        warnings.filterwarnings("ignore", message=".*dayofyear is deprecated", category=DeprecationWarning)
        position = pvlib.solarposition.get_solarposition(
            index, lat_deg, lon_deg, altitude=elevation_m, pressure=pressure_pa, method="ephemeris"
        )
    zenith = position["apparent_zenith"].to_numpy(dtype=np.float64)
    azimuth = position["azimuth"].to_numpy(dtype=np.float64)
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(_day_of_year(flat)), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # night: cos z = 0, airmass NaN
        airmass = pvlib.atmosphere.get_absolute_airmass(
            pvlib.atmosphere.get_relative_airmass(zenith), pressure_pa
        )
        clear = pvlib.clearsky.ineichen(
            zenith, airmass, LINKE_TURBIDITY, altitude=elevation_m, dni_extra=dni_extra
        )
    up = zenith < 90.0

    def _clean(values: ArrayLike) -> FloatArray:
        arr = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
        return np.where(up, np.maximum(arr, 0.0), 0.0).reshape(times.shape)

    return SolarGeometry(
        zenith_deg=zenith.reshape(times.shape),
        azimuth_deg=azimuth.reshape(times.shape),
        ghi_clear_w_m2=_clean(clear["ghi"]),
        dni_clear_w_m2=_clean(clear["dni"]),
        dhi_clear_w_m2=_clean(clear["dhi"]),
        dni_extra_w_m2=dni_extra.reshape(times.shape),
    )


# --------------------------------------------------------------------------------------------
# Clouds: a daily regime chain and an intraday clear-sky index
# --------------------------------------------------------------------------------------------

CLOUD_CLEAR, CLOUD_BROKEN, CLOUD_OVERCAST = 0, 1, 2

CLOUD_REGIME_TRANSITIONS: FloatArray = np.array(
    [
        [0.65, 0.25, 0.10],  # from clear
        [0.20, 0.60, 0.20],  # from broken
        [0.10, 0.25, 0.65],  # from overcast
    ]
)
"""Daily Markov matrix of cloud regimes, ``P[today, tomorrow]`` (rows sum to 1) [assumption]."""
CLOUD_REGIME_TRANSITIONS.setflags(write=False)

K_MAX = 1.2
"""Cap of the clear-sky index (cloud-edge enhancement) [unitless]."""

_CLEAR_K_MEAN, _K_NOISE_SD = 1.0, 0.02
_OVERCAST_BETA_A, _OVERCAST_BETA_B = 4.5, 10.5  # mean 0.3, sd 0.115
_BROKEN_ON_DWELL_S, _BROKEN_OFF_DWELL_S = 360.0, 300.0  # mean sunlit / shaded dwell
_BROKEN_K_ON_MEAN, _BROKEN_K_ON_SD = 1.05, 0.05
_BROKEN_K_OFF_LOW, _BROKEN_K_OFF_HIGH = 0.3, 0.5


def next_cloud_regime(rng: np.random.Generator, regime: int) -> int:
    """Draw tomorrow's cloud regime from :data:`CLOUD_REGIME_TRANSITIONS`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (one draw).
    regime : int
        Today's regime: ``CLOUD_CLEAR``, ``CLOUD_BROKEN`` or ``CLOUD_OVERCAST``.

    Returns
    -------
    int
        Tomorrow's regime.
    """
    _check_regime(regime)
    cumulative = np.cumsum(CLOUD_REGIME_TRANSITIONS[regime])
    return int(min(np.searchsorted(cumulative, rng.random(), side="right"), 2))


def cloud_index(
    rng: np.random.Generator, regime: int, n: int, dt_s: float, state: float
) -> tuple[FloatArray, float]:
    """Clear-sky index k = GHI/GHI_clear for ``n`` consecutive steps of one regime.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    regime : int
        ``CLOUD_CLEAR``: k ~ N(1.0, 0.02). ``CLOUD_OVERCAST``: k ~ Beta(4.5, 10.5) (mean 0.3).
        ``CLOUD_BROKEN``: a sunlit/shaded 2-state process with exponential dwell times (means
        6 and 5 min); each sunlit spell has k_on ~ N(1.05, 0.05) clipped to [1.0, 1.2]
        (cloud-edge enhancement), each shaded spell k_off ~ U(0.3, 0.5); each step gets the
        time average over the step plus N(0, 0.02) noise.
    n : int
        Number of steps (>= 0).
    dt_s : float
        Step length [s] (> 0).
    state : float
        Continuity of the broken regime between calls: the signed remaining dwell [s] of the
        current spell, > 0 sunlit, < 0 shaded, 0 = no memory (the phase is then drawn from the
        stationary distribution; exponential dwells are memoryless, so this is exact). Pass the
        returned value to the next call; start with 0.0.

    Returns
    -------
    k : numpy.ndarray
        Clear-sky index per step, always within [0, 1.2] [unitless].
    state : float
        State for the next call; 0.0 after a clear or overcast call.

    Notes
    -----
    Clear and overcast steps are independent draws (no autocorrelation), adequate for 1-min
    steps; the broken regime carries the autocorrelation that matters for PV ramps.
    A cheap version of the Markov-chain mixture models of Munkhammar et al. (device-physics §3.2).
    """
    _check_regime(regime)
    if n < 0:
        raise InvalidParameter("n", n, ">= 0")
    if not dt_s > 0:
        raise InvalidParameter("dt_s", dt_s, "> 0")
    if n == 0:
        return np.zeros(0), float(state)
    if regime == CLOUD_CLEAR:
        k = rng.normal(_CLEAR_K_MEAN, _K_NOISE_SD, n)
        return np.clip(k, 0.0, K_MAX), 0.0
    if regime == CLOUD_OVERCAST:
        return rng.beta(_OVERCAST_BETA_A, _OVERCAST_BETA_B, n), 0.0
    return _broken_cloud_index(rng, n, float(dt_s), float(state))


def _broken_cloud_index(
    rng: np.random.Generator, n: int, dt_s: float, state: float
) -> tuple[FloatArray, float]:
    """The broken regime of :func:`cloud_index`: step averages of a piecewise-constant k(t)."""
    total_s = n * dt_s
    if state != 0.0:
        first_on, first_s = state > 0.0, abs(state)
    else:
        first_on = bool(rng.random() < _BROKEN_ON_DWELL_S / (_BROKEN_ON_DWELL_S + _BROKEN_OFF_DWELL_S))
        first_s = float(rng.exponential(_BROKEN_ON_DWELL_S if first_on else _BROKEN_OFF_DWELL_S))
    chunks, count, covered_s = [np.array([first_s])], 1, first_s
    batch = int(total_s / _BROKEN_OFF_DWELL_S) + 8
    while covered_s <= total_s:  # over batches of spells, rarely more than once
        spell_on = (np.arange(count, count + batch) % 2 == 0) == first_on
        chunks.append(rng.exponential(np.where(spell_on, _BROKEN_ON_DWELL_S, _BROKEN_OFF_DWELL_S)))
        count, covered_s = count + batch, covered_s + float(chunks[-1].sum())
    dwell_s = np.concatenate(chunks)
    phase_on = (np.arange(dwell_s.size) % 2 == 0) == first_on
    k_on = np.clip(rng.normal(_BROKEN_K_ON_MEAN, _BROKEN_K_ON_SD, dwell_s.size), 1.0, K_MAX)
    k_off = rng.uniform(_BROKEN_K_OFF_LOW, _BROKEN_K_OFF_HIGH, dwell_s.size)
    k_spell = np.where(phase_on, k_on, k_off)
    edges_s = np.concatenate(([0.0], np.cumsum(dwell_s)))
    integral = np.concatenate(([0.0], np.cumsum(k_spell * dwell_s)))  # ∫k dt at the spell edges
    k = np.diff(np.interp(dt_s * np.arange(n + 1), edges_s, integral)) / dt_s
    k = np.clip(k + rng.normal(0.0, _K_NOISE_SD, n), 0.0, K_MAX)
    last = int(np.searchsorted(edges_s, total_s, side="right")) - 1
    remaining_s = float(edges_s[last + 1] - total_s)
    return k, (remaining_s if phase_on[last] else -remaining_s)


def split_irradiance(
    k: ArrayLike, geometry: SolarGeometry, times_s: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """GHI from the clear-sky index, split into DNI and DHI (Erbs).

    Parameters
    ----------
    k : array_like
        Clear-sky index [unitless]; clipped to [0, 1.2].
    geometry : SolarGeometry
        The cell's sun and clear sky at ``times_s``.
    times_s : array_like
        Epoch seconds UTC [s] (for the day of year of the Erbs model).

    Returns
    -------
    ghi_w_m2, dni_w_m2, dhi_w_m2 : numpy.ndarray
        Global horizontal, direct normal and diffuse horizontal irradiance [W/m^2].

    Notes
    -----
    ``ghi = k * ghi_clear``; ``pvlib.irradiance.erbs`` gives the diffuse fraction. Where
    k < 0.25 (thick cloud) all light is diffuse: ``dhi = ghi``, ``dni = 0``. Erbs also sets
    DNI to 0 for zenith > 87°. Closure ``dni * cos(zenith) + dhi == ghi`` holds everywhere, and
    all components are >= 0.
    """
    kk = np.clip(np.asarray(k, dtype=np.float64), 0.0, K_MAX)
    ghi = kk * geometry.ghi_clear_w_m2
    doy = _day_of_year(times_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = pvlib.irradiance.erbs(ghi, geometry.zenith_deg, doy)
    dni = np.asarray(parts["dni"], dtype=np.float64)
    dhi = np.asarray(parts["dhi"], dtype=np.float64)
    thick = kk < 0.25
    return ghi, np.where(thick, 0.0, dni), np.where(thick, ghi, dhi)


def _day_of_year(times_s: ArrayLike) -> NDArray[np.int64]:
    """Day of year (1-366, UTC) of epoch seconds."""
    t = np.asarray(times_s, dtype=np.float64).astype("datetime64[s]")
    return (t.astype("datetime64[D]") - t.astype("datetime64[Y]")).astype(np.int64) + 1


def _check_regime(regime: int) -> None:
    if regime not in (CLOUD_CLEAR, CLOUD_BROKEN, CLOUD_OVERCAST):
        raise InvalidParameter("regime", regime, "one of 0 (clear), 1 (broken), 2 (overcast)")


# --------------------------------------------------------------------------------------------
# Outdoor temperature
# --------------------------------------------------------------------------------------------


def daily_temperature_extremes(
    rng: np.random.Generator,
    day_of_year: int,
    prev_anomaly_k: float,
    *,
    t_annual_mean_c: float,
    annual_amplitude_k: float,
    dtr_clear_k: float = 11.0,
    mean_clear_index: float = 1.0,
    lat_deg: float = 40.0,
    anomaly_phi: float = 0.7,
    anomaly_sigma_k: float = 3.0,
) -> tuple[float, float, float]:
    """Today's minimum and maximum air temperature, and the day anomaly to carry forward.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (one normal draw).
    day_of_year : int
        Day of year, 1-366.
    prev_anomaly_k : float
        Yesterday's anomaly [K]; 0.0 to start.
    t_annual_mean_c : float
        Annual mean temperature [°C].
    annual_amplitude_k : float
        Half the difference between the warmest and coldest day means [K].
    dtr_clear_k : float, default 11.0
        Diurnal temperature range of a clear day [K].
    mean_clear_index : float, default 1.0
        The day's mean clear-sky index k̄ (clipped to [0, 1]); DTR = DTR_clear·(0.4 + 0.6·k̄).
    lat_deg : float, default 40.0
        Latitude [degrees]; the annual peak is day 200 north of the equator, half a year later
        (day 17.5) south of it.
    anomaly_phi : float, default 0.7
        Day-to-day AR(1) coefficient of the anomaly [unitless].
    anomaly_sigma_k : float, default 3.0
        Stationary standard deviation of the anomaly [K]; the innovation is
        N(0, sigma·sqrt(1 - phi^2)).

    Returns
    -------
    t_min_c, t_max_c : float
        Today's extremes [°C]: mean(d) + anomaly ∓ DTR/2.
    anomaly_k : float
        Today's anomaly [K], to pass as ``prev_anomaly_k`` tomorrow.
    """
    peak_doy = _ANNUAL_PEAK_DOY_NORTH if lat_deg >= 0 else _ANNUAL_PEAK_DOY_NORTH - _DAYS_PER_YEAR / 2
    mean_c = t_annual_mean_c + annual_amplitude_k * np.cos(
        2.0 * np.pi * (day_of_year - peak_doy) / _DAYS_PER_YEAR
    )
    innovation_sd = anomaly_sigma_k * np.sqrt(1.0 - anomaly_phi**2)
    anomaly = anomaly_phi * prev_anomaly_k + rng.normal(0.0, innovation_sd)
    dtr = dtr_clear_k * (0.4 + 0.6 * float(np.clip(mean_clear_index, 0.0, 1.0)))
    return float(mean_c + anomaly - dtr / 2), float(mean_c + anomaly + dtr / 2), float(anomaly)


def diurnal_temperature_c(
    hours_solar: ArrayLike,
    t_min_today_c: ArrayLike,
    t_max_today_c: ArrayLike,
    t_max_yesterday_c: ArrayLike,
    t_min_tomorrow_c: ArrayLike,
) -> FloatArray:
    """Air temperature through the day from the daily extremes (Campbell & Norman 1998).

    Parameters
    ----------
    hours_solar : array_like
        Local solar time [h]; taken modulo 24.
    t_min_today_c, t_max_today_c : array_like
        Today's minimum and maximum [°C].
    t_max_yesterday_c : array_like
        Yesterday's maximum [°C], used before 05:00.
    t_min_tomorrow_c : array_like
        Tomorrow's minimum [°C], used after 14:00.

    Returns
    -------
    numpy.ndarray
        T(t) = T_max·Γ(t) + T_min·(1 − Γ(t)) [°C], with
        Γ(t) = 0.44 − 0.46·sin(ωt + 0.9) + 0.11·sin(2ωt + 0.9), ω = π/12.

    Notes
    -----
    Γ has its minimum (0.03) at 04:30 and its maximum (1.00) at 13:54. Switching extremes at
    05:00 and 14:00 leaves jumps of at most 3% of the day-to-day change of the extreme.

    References
    ----------
    G. S. Campbell and J. M. Norman, An Introduction to Environmental Biophysics, 2nd ed.,
    Springer, 1998, eq. 2.2-2.3.
    """
    t = np.mod(np.asarray(hours_solar, dtype=np.float64), 24.0)
    w = np.pi / 12.0
    gamma = 0.44 - 0.46 * np.sin(w * t + 0.9) + 0.11 * np.sin(2.0 * w * t + 0.9)
    t_max = np.where(t < 5.0, t_max_yesterday_c, t_max_today_c)
    t_min = np.where(t > 14.0, t_min_tomorrow_c, t_min_today_c)
    return t_max * gamma + t_min * (1.0 - gamma)


def temperature_noise(
    rng: np.random.Generator, n: int, state_k: float, *, phi: float = 0.93, sigma_k: float = 0.6
) -> tuple[FloatArray, float]:
    """Hourly AR(1) temperature perturbation e_{h+1} = phi·e_h + N(0, sigma).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (``n`` normal draws).
    n : int
        Number of hourly values to generate (>= 0).
    state_k : float
        The last value e_0 [K]; 0.0 to start.
    phi : float, default 0.93
        Hour-to-hour autocorrelation [unitless].
    sigma_k : float, default 0.6
        Innovation standard deviation [K] (stationary sd = sigma/sqrt(1 - phi^2) ≈ 1.6 K).

    Returns
    -------
    noise_k : numpy.ndarray
        e_1 ... e_n, the values at the next ``n`` whole hours [K].
    state_k : float
        e_n, to pass to the next call.

    Notes
    -----
    Defaults are BOPTEST's "medium" temperature forecast-error emulator (F 0.93, K 0.6 K; low
    0.92/0.4, high 0.95/0.7). The process is hourly: at sub-hourly steps, generate the hourly
    values once (e.g. 24 per day) and linearly interpolate them to the tick times with
    ``numpy.interp``, anchoring the first interval at the previous ``state_k``. Do not call it
    per tick with hourly ``phi``, which would make the noise far too rough.
    """
    if n < 0:
        raise InvalidParameter("n", n, ">= 0")
    shocks = rng.normal(0.0, sigma_k, n)
    out = np.empty(n)
    value = float(state_k)
    for h in range(n):  # over hours of one cell, never over devices
        value = phi * value + shocks[h]
        out[h] = value
    return out, value


# --------------------------------------------------------------------------------------------
# Grid carbon intensity
# --------------------------------------------------------------------------------------------

_EVENING_PEAK_H, _EVENING_WIDTH_H = 19.0, 1.5


def carbon_intensity_g_per_kwh(
    hours_local: ArrayLike,
    solar_shape: ArrayLike,
    *,
    mean_g_per_kwh: float = 380.0,
    solar_alpha: float = 0.45,
    evening_beta: float = 0.15,
    noise: ArrayLike | None = None,
    floor_g_per_kwh: float = 11.0,
    ceiling_g_per_kwh: float = 820.0,
) -> FloatArray:
    """Average grid carbon intensity from a cheap shape model (device-physics §6.2).

    Parameters
    ----------
    hours_local : array_like
        Local clock time [h]; taken modulo 24.
    solar_shape : array_like
        Normalised regional solar output ŝ in [0, 1] (e.g. GHI / peak clear-sky GHI) [unitless].
    mean_g_per_kwh : float, default 380.0
        Mean intensity CI_mean [gCO2e/kWh].
    solar_alpha : float, default 0.45
        Depth of the midday solar dip α (0.3-0.6 for solar-heavy grids) [unitless].
    evening_beta : float, default 0.15
        Height of the evening bump β (0.1-0.2) [unitless].
    noise : array_like, optional
        Additive noise [gCO2e/kWh], broadcast against ``hours_local`` (e.g. an AR(1) series
        from :func:`temperature_noise` with ``sigma_k`` read as g/kWh).
    floor_g_per_kwh, ceiling_g_per_kwh : float, default 11.0, 820.0
        Clip range [gCO2e/kWh]: IPCC AR5 life-cycle medians of onshore wind and coal.

    Returns
    -------
    numpy.ndarray
        CI = clip(CI_mean·(1 − α·ŝ + β·ê) + noise, floor, ceiling) [gCO2e/kWh], where ê is a
        Gaussian bump (sd 1.5 h) centred at 19:00.

    Notes
    -----
    One series per region per run; devices look it up, it is never computed per device.
    """
    hours = np.mod(np.asarray(hours_local, dtype=np.float64), 24.0)
    distance_h = np.abs(np.mod(hours - _EVENING_PEAK_H + 12.0, 24.0) - 12.0)
    evening = np.exp(-0.5 * (distance_h / _EVENING_WIDTH_H) ** 2)
    shape = np.clip(np.asarray(solar_shape, dtype=np.float64), 0.0, 1.0)
    ci = mean_g_per_kwh * (1.0 - solar_alpha * shape + evening_beta * evening)
    if noise is not None:
        ci = ci + np.asarray(noise, dtype=np.float64)
    return np.clip(ci, floor_g_per_kwh, ceiling_g_per_kwh)
