"""Property tests of the vectorised PV chain (device-physics §3.4) and its agreement with pvlib."""

from __future__ import annotations

import functools

import numpy as np
import pvlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtwin.simulator.physics import solar, weather

N_DEVICES = 64
ETA_NOM, ETA_REF = 0.96, 0.9637

seeds = st.integers(min_value=0, max_value=2**32 - 1)
zeniths = st.floats(min_value=0.0, max_value=89.9)
azimuths = st.floats(min_value=0.0, max_value=360.0)
irradiances = st.floats(min_value=0.0, max_value=1400.0)
air_temps = st.floats(min_value=-30.0, max_value=50.0)


def _fleet(seed: int, n: int = N_DEVICES) -> dict[str, np.ndarray]:
    """A random residential fleet: orientation, DC nameplate (lognormal) and DC/AC ratio."""
    rng = np.random.default_rng(seed)
    pdc0 = np.exp(rng.normal(np.log(7400.0), 0.35, n))
    return {
        "tilt_deg": rng.uniform(0.0, 60.0, n),
        "surface_azimuth_deg": rng.uniform(0.0, 360.0, n),
        "pdc0_w": pdc0,
        "pac0_w": pdc0 / rng.uniform(1.05, 1.35, n),
    }


def _eta(pdc_w: np.ndarray, pac0_w: np.ndarray) -> np.ndarray:
    """PVWatts inverter efficiency written independently from the module under test."""
    zeta = pdc_w / (pac0_w / ETA_NOM)
    return ETA_NOM / ETA_REF * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)


def test_system_losses_are_the_pvwatts_defaults_combined() -> None:
    losses_frac = solar.SYSTEM_LOSSES_FRAC
    assert losses_frac == pytest.approx(pvlib.pvsystem.pvwatts_losses() / 100.0, abs=1e-12)
    assert losses_frac == pytest.approx(0.1408, abs=5e-5)


@given(
    seed=seeds,
    zenith=zeniths,
    azimuth=azimuths,
    dni=irradiances,
    dhi=st.floats(min_value=0.0, max_value=600.0),
    ghi=irradiances,
    t_air=air_temps,
    curtail_frac=st.floats(min_value=0.0, max_value=1.5),
)
def test_ac_within_rating_below_dc_and_curtailment(
    seed: int,
    zenith: float,
    azimuth: float,
    dni: float,
    dhi: float,
    ghi: float,
    t_air: float,
    curtail_frac: float,
) -> None:
    fleet = _fleet(seed)
    limit = curtail_frac * fleet["pac0_w"]
    ac, dc = solar.pv_ac_power_w(zenith, azimuth, dni, dhi, ghi, t_air, curtail_limit_w=limit, **fleet)
    assert ac.shape == (N_DEVICES,)
    assert np.all(ac >= 0.0)
    assert np.all(ac <= fleet["pac0_w"])
    assert np.all(ac <= dc)
    assert np.all(ac <= limit)


@given(
    seed=seeds,
    zenith=st.floats(min_value=90.0, max_value=180.0),
    dni=st.floats(min_value=1.0, max_value=1400.0),
    ghi=st.floats(min_value=1.0, max_value=1400.0),
)
def test_zero_when_sun_at_or_below_horizon(seed: int, zenith: float, dni: float, ghi: float) -> None:
    ac, dc = solar.pv_ac_power_w(zenith, 180.0, dni, 0.3 * ghi, ghi, 20.0, **_fleet(seed))
    assert np.all(ac == 0.0)
    assert np.all(dc == 0.0)


@given(seed=seeds, zenith=st.floats(min_value=0.0, max_value=70.0), ghi=st.floats(100.0, 1200.0))
def test_zero_exactly_where_tripped(seed: int, zenith: float, ghi: float) -> None:
    fleet = _fleet(seed)
    tripped = np.random.default_rng(seed).random(N_DEVICES) < 0.5
    ac, dc = solar.pv_ac_power_w(zenith, 180.0, 0.8 * ghi, 0.2 * ghi, ghi, 20.0, tripped=tripped, **fleet)
    free, _ = solar.pv_ac_power_w(zenith, 180.0, 0.8 * ghi, 0.2 * ghi, ghi, 20.0, **fleet)
    assert np.all(ac[tripped] == 0.0)
    assert np.all(dc[tripped] == 0.0)
    np.testing.assert_array_equal(ac[~tripped], free[~tripped])
    all_off, _ = solar.pv_ac_power_w(zenith, 180.0, 0.8 * ghi, 0.2 * ghi, ghi, 20.0, tripped=True, **fleet)
    assert np.all(all_off == 0.0)


@given(
    seed=seeds,
    zenith=zeniths,
    azimuth=azimuths,
    dni=st.floats(min_value=0.0, max_value=1000.0),
    dhi=st.floats(min_value=0.0, max_value=400.0),
    ghi=st.floats(min_value=0.0, max_value=1000.0),
    t_air=air_temps,
    factor=st.floats(min_value=1.0, max_value=1.4),
)
def test_more_irradiance_never_lowers_power(
    seed: int,
    zenith: float,
    azimuth: float,
    dni: float,
    dhi: float,
    ghi: float,
    t_air: float,
    factor: float,
) -> None:
    fleet = _fleet(seed)
    ac_lo, dc_lo = solar.pv_ac_power_w(zenith, azimuth, dni, dhi, ghi, t_air, **fleet)
    ac_hi, dc_hi = solar.pv_ac_power_w(
        zenith, azimuth, factor * dni, factor * dhi, factor * ghi, t_air, **fleet
    )
    assert np.all(dc_hi >= dc_lo - 1e-9)
    assert np.all(ac_hi >= ac_lo - 1e-9)
    # and PVWatts DC alone, at a fixed cell temperature
    poa = np.random.default_rng(seed).uniform(0.0, 1400.0, N_DEVICES)
    t_cell = t_air + 20.0
    lo = solar.pvwatts_dc_w(poa, t_cell, pdc0_w=fleet["pdc0_w"])
    hi = solar.pvwatts_dc_w(poa * factor, t_cell, pdc0_w=fleet["pdc0_w"])
    assert np.all(hi >= lo)


@given(
    seed=seeds,
    zenith=zeniths,
    ghi=st.floats(min_value=0.0, max_value=1200.0),
    t_air=air_temps,
    warmer_k=st.floats(min_value=0.0, max_value=30.0),
    gamma=st.floats(min_value=-0.005, max_value=-0.002),
)
def test_hotter_never_raises_dc(
    seed: int, zenith: float, ghi: float, t_air: float, warmer_k: float, gamma: float
) -> None:
    fleet = _fleet(seed)
    poa = np.random.default_rng(seed).uniform(0.0, 1400.0, N_DEVICES)
    cool = solar.pvwatts_dc_w(poa, t_air, pdc0_w=fleet["pdc0_w"], gamma_per_c=gamma)
    hot = solar.pvwatts_dc_w(poa, t_air + warmer_k, pdc0_w=fleet["pdc0_w"], gamma_per_c=gamma)
    assert np.all(hot <= cool)
    args = (zenith, 180.0, 0.8 * ghi, 0.2 * ghi, ghi)
    _, dc_cool = solar.pv_ac_power_w(*args, t_air, gamma_per_c=gamma, **fleet)
    _, dc_hot = solar.pv_ac_power_w(*args, t_air + warmer_k, gamma_per_c=gamma, **fleet)
    assert np.all(dc_hot <= dc_cool)


@given(seed=seeds, zeta_max=st.floats(min_value=0.5, max_value=3.0))
def test_clipping_is_exact(seed: int, zeta_max: float) -> None:
    rng = np.random.default_rng(seed)
    pac0 = rng.uniform(1000.0, 12000.0, 256)
    pdc = rng.uniform(1e-3, zeta_max, 256) * pac0 / ETA_NOM
    ac = solar.inverter_ac_w(pdc, pac0_w=pac0)
    clipped = _eta(pdc, pac0) * pdc >= pac0
    np.testing.assert_array_equal(ac[clipped], pac0[clipped])
    assert np.all(ac[~clipped] < pac0[~clipped])


@given(seed=seeds)
def test_pvwatts_dc_agrees_with_pvlib(seed: int) -> None:
    rng = np.random.default_rng(seed)
    poa = rng.uniform(0.0, 1500.0, 500)
    t_cell = rng.uniform(-30.0, 90.0, 500)
    pdc0 = rng.uniform(500.0, 20000.0, 500)
    gamma = rng.uniform(-0.005, -0.002, 500)
    ours = solar.pvwatts_dc_w(poa, t_cell, pdc0_w=pdc0, gamma_per_c=gamma)
    ref = pvlib.pvsystem.pvwatts_dc(poa, t_cell, pdc0, gamma)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


@given(seed=seeds)
def test_inverter_agrees_with_pvlib(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pac0 = rng.uniform(1000.0, 12000.0, 500)
    pdc = rng.uniform(-0.05, 1.6, 500) * pac0 / ETA_NOM
    pdc[:20] = 0.0
    pdc[20:40] = rng.uniform(0.0, 0.007, 20) * pac0[20:40] / ETA_NOM  # around where eta turns negative
    ours = solar.inverter_ac_w(pdc, pac0_w=pac0)
    ref = pvlib.inverter.pvwatts(pdc, pac0 / ETA_NOM, eta_inv_nom=ETA_NOM, eta_inv_ref=ETA_REF)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    assert np.all(ours[:20] == 0.0)


@given(seed=seeds, zenith=zeniths, azimuth=azimuths, albedo=st.floats(min_value=0.0, max_value=0.9))
def test_poa_and_cell_temperature_agree_with_pvlib(
    seed: int, zenith: float, azimuth: float, albedo: float
) -> None:
    rng = np.random.default_rng(seed)
    fleet = _fleet(seed)
    dni, dhi, ghi = rng.uniform(0.0, 1000.0), rng.uniform(0.0, 400.0), rng.uniform(0.0, 1100.0)
    ours = solar.plane_of_array_w_m2(
        zenith,
        azimuth,
        dni,
        dhi,
        ghi,
        tilt_deg=fleet["tilt_deg"],
        surface_azimuth_deg=fleet["surface_azimuth_deg"],
        albedo=albedo,
    )
    ref = pvlib.irradiance.get_total_irradiance(
        fleet["tilt_deg"],
        fleet["surface_azimuth_deg"],
        zenith,
        azimuth,
        dni,
        ghi,
        dhi,
        albedo=albedo,
        model="isotropic",
    )["poa_global"]
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    t_air, wind = rng.uniform(-20.0, 45.0, N_DEVICES), rng.uniform(0.0, 10.0, N_DEVICES)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]
    np.testing.assert_allclose(
        solar.cell_temperature_c(ours, t_air, wind),
        pvlib.temperature.sapm_cell(ours, t_air, wind, **params),
        rtol=1e-9,
        atol=1e-9,
    )


# Daily energy under clouds versus clear sky -------------------------------------------------

_DAYS = {  # (lat, lon, elevation, start of the UTC day [s])
    "san_francisco_june": (37.77, -122.42, 16.0, 1718928000.0),
    "san_francisco_december": (37.77, -122.42, 16.0, 1703116800.0),
    "sydney_june": (-33.87, 151.21, 50.0, 1718928000.0 - 36000.0),
    "oslo_december": (59.91, 10.75, 100.0, 1703116800.0 - 3600.0),
}


@functools.cache
def _day(name: str) -> tuple[np.ndarray, weather.SolarGeometry]:
    lat, lon, elevation, start = _DAYS[name]
    times_s = start + 60.0 * np.arange(1440)
    return times_s, weather.solar_geometry(lat, lon, elevation, times_s)


@given(
    day=st.sampled_from(sorted(_DAYS)),
    regime=st.sampled_from([weather.CLOUD_CLEAR, weather.CLOUD_BROKEN, weather.CLOUD_OVERCAST]),
    seed=seeds,
    tilt=st.floats(min_value=0.0, max_value=45.0),
    azimuth_offset=st.floats(min_value=-90.0, max_value=90.0),
    t_air=st.floats(min_value=-10.0, max_value=35.0),
)
def test_daily_energy_under_clouds_never_beats_clear_sky(
    day: str, regime: int, seed: int, tilt: float, azimuth_offset: float, t_air: float
) -> None:
    """Equator-facing half-plane, residential tilts; ε = 5% covers the Erbs vs Ineichen split."""
    times_s, geo = _day(day)
    equator_azimuth = 180.0 if _DAYS[day][0] >= 0 else 0.0
    system = {
        "tilt_deg": tilt,
        "surface_azimuth_deg": (equator_azimuth + azimuth_offset) % 360.0,
        "pdc0_w": 7400.0,
        "pac0_w": 6200.0,
    }
    k, _ = weather.cloud_index(np.random.default_rng(seed), regime, times_s.size, 60.0, 0.0)
    ghi, dni, dhi = weather.split_irradiance(k, geo, times_s)
    cloudy, _ = solar.pv_ac_power_w(geo.zenith_deg, geo.azimuth_deg, dni, dhi, ghi, t_air, **system)
    clear, _ = solar.pv_ac_power_w(
        geo.zenith_deg,
        geo.azimuth_deg,
        geo.dni_clear_w_m2,
        geo.dhi_clear_w_m2,
        geo.ghi_clear_w_m2,
        t_air,
        **system,
    )
    assert clear.sum() > 0.0
    assert cloudy.sum() <= 1.05 * clear.sum()
    if regime == weather.CLOUD_OVERCAST:
        assert cloudy.sum() <= 0.6 * clear.sum()


def test_fleet_of_ten_thousand_in_one_call() -> None:
    """10,000 systems in one vectorised call, per-device curtailment and trips; no timing assert."""
    fleet = _fleet(7, 10_000)
    rng = np.random.default_rng(7)
    limit = np.where(rng.random(10_000) < 0.1, 3000.0, np.inf)
    tripped = rng.random(10_000) < 0.01
    ac, dc = solar.pv_ac_power_w(
        30.0, 170.0, 850.0, 110.0, 900.0, 25.0, curtail_limit_w=limit, tripped=tripped, **fleet
    )
    assert ac.shape == dc.shape == (10_000,)
    assert np.all(ac[tripped] == 0.0)
    assert np.all(ac[~tripped & (limit > 1e9)] > 0.0)
    assert np.all(ac <= np.minimum(limit, fleet["pac0_w"]))
