"""Property tests of the synthetic weather of one cell (device-physics §3.2, §6.3)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtwin.simulator.errors import InvalidParameter
from gridtwin.simulator.physics import weather

REGIMES = (weather.CLOUD_CLEAR, weather.CLOUD_BROKEN, weather.CLOUD_OVERCAST)
JUNE_SOLSTICE_2024_S = 1718928000.0  # 2024-06-21 00:00 UTC
YEAR_2024_S = 1704067200.0  # 2024-01-01 00:00 UTC

seeds = st.integers(min_value=0, max_value=2**32 - 1)
regimes = st.sampled_from(REGIMES)
latitudes = st.floats(min_value=-66.0, max_value=66.0)
longitudes = st.floats(min_value=-180.0, max_value=180.0)
days = st.integers(min_value=0, max_value=365)


def _day_times(day: int, step_s: float = 60.0) -> np.ndarray:
    return YEAR_2024_S + 86400.0 * day + step_s * np.arange(int(86400 / step_s))


@functools.cache
def _san_francisco_june() -> tuple[np.ndarray, weather.SolarGeometry]:
    times_s = JUNE_SOLSTICE_2024_S + 60.0 * np.arange(1440)
    return times_s, weather.solar_geometry(37.77, -122.42, 16.0, times_s)


# Sun and clear sky ---------------------------------------------------------------------------


@given(lat=latitudes, lon=longitudes, elevation=st.floats(min_value=0.0, max_value=3000.0), day=days)
def test_clear_sky_is_zero_at_night_and_closed_by_day(
    lat: float, lon: float, elevation: float, day: int
) -> None:
    times_s = _day_times(day, step_s=300.0)
    geo = weather.solar_geometry(lat, lon, elevation, times_s)
    for field in geo:
        assert type(field) is np.ndarray
        assert field.shape == times_s.shape
        assert np.all(np.isfinite(field))
    down = geo.zenith_deg >= 90.0
    for irradiance in (geo.ghi_clear_w_m2, geo.dni_clear_w_m2, geo.dhi_clear_w_m2):
        assert np.all(irradiance[down] == 0.0)
        assert np.all(irradiance >= 0.0)
    assert np.all(geo.ghi_clear_w_m2[geo.zenith_deg < 80.0] > 0.0)
    assert np.all(geo.ghi_clear_w_m2 <= geo.dni_extra_w_m2)
    cos_z = np.cos(np.radians(geo.zenith_deg))
    np.testing.assert_allclose(
        geo.dni_clear_w_m2 * np.where(down, 0.0, cos_z) + geo.dhi_clear_w_m2,
        geo.ghi_clear_w_m2,
        atol=1e-6,
    )
    assert np.all((geo.azimuth_deg >= 0.0) & (geo.azimuth_deg <= 360.0))


def test_noon_zenith_in_san_francisco_at_the_june_solstice() -> None:
    _, geo = _san_francisco_june()
    noon_elevation_deg = 90.0 - geo.zenith_deg.min()
    assert noon_elevation_deg == pytest.approx(90.0 - (37.77 - 23.44), abs=0.5)
    noon = int(np.argmin(geo.zenith_deg))
    assert 150.0 < geo.azimuth_deg[noon] < 210.0  # due south at solar noon
    assert 900.0 < geo.ghi_clear_w_m2.max() < 1100.0


def test_solar_geometry_runs_on_a_day_of_minutes_and_keeps_the_shape() -> None:
    """Performance sanity (no timing assert): one call for 1440 points, any input shape."""
    times_s = JUNE_SOLSTICE_2024_S + 60.0 * np.arange(1440)
    geo = weather.solar_geometry(37.77, -122.42, 16.0, times_s)
    assert geo.zenith_deg.shape == (1440,)
    grid = weather.solar_geometry(37.77, -122.42, 16.0, times_s.reshape(24, 60))
    np.testing.assert_array_equal(grid.ghi_clear_w_m2.ravel(), geo.ghi_clear_w_m2)


# Clouds --------------------------------------------------------------------------------------


def test_regime_matrix_is_a_persistent_stochastic_matrix() -> None:
    p = weather.CLOUD_REGIME_TRANSITIONS
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(p >= 0.0)
    assert np.all((np.diag(p) >= 0.6) & (np.diag(p) <= 0.7))
    with pytest.raises(ValueError):
        p[0, 0] = 1.0  # read-only: nobody can skew the shared chain


@given(seed=seeds, regime=regimes)
def test_next_regime_is_valid_and_reproducible(seed: int, regime: int) -> None:
    a = [weather.next_cloud_regime(np.random.default_rng(seed), regime) for _ in range(2)]
    assert a[0] == a[1]
    assert a[0] in REGIMES


def test_next_regime_follows_the_matrix() -> None:
    rng = np.random.default_rng(2024)
    for regime in REGIMES:
        draws = np.array([weather.next_cloud_regime(rng, regime) for _ in range(20_000)])
        freq = np.bincount(draws, minlength=3) / draws.size
        np.testing.assert_allclose(freq, weather.CLOUD_REGIME_TRANSITIONS[regime], atol=0.015)


@given(
    seed=seeds,
    regime=regimes,
    n=st.integers(min_value=0, max_value=2000),
    dt_s=st.floats(min_value=1.0, max_value=3600.0),
    state=st.one_of(st.just(0.0), st.floats(min_value=-7200.0, max_value=7200.0)),
)
def test_cloud_index_stays_within_bounds_and_is_reproducible(
    seed: int, regime: int, n: int, dt_s: float, state: float
) -> None:
    k, new_state = weather.cloud_index(np.random.default_rng(seed), regime, n, dt_s, state)
    again, again_state = weather.cloud_index(np.random.default_rng(seed), regime, n, dt_s, state)
    assert k.shape == (n,)
    assert np.all((k >= 0.0) & (k <= 1.2))
    np.testing.assert_array_equal(k, again)
    assert new_state == again_state
    assert np.isfinite(new_state)
    if regime != weather.CLOUD_BROKEN and n > 0:
        assert new_state == 0.0


def test_regimes_have_their_documented_levels() -> None:
    rng = np.random.default_rng(11)
    means = {r: weather.cloud_index(rng, r, 100_000, 60.0, 0.0)[0].mean() for r in REGIMES}
    assert means[weather.CLOUD_CLEAR] == pytest.approx(1.0, abs=0.01)
    assert means[weather.CLOUD_OVERCAST] == pytest.approx(0.3, abs=0.01)
    assert means[weather.CLOUD_OVERCAST] < means[weather.CLOUD_BROKEN] < means[weather.CLOUD_CLEAR]
    broken = weather.cloud_index(rng, weather.CLOUD_BROKEN, 100_000, 60.0, 0.0)[0]
    assert broken.max() > 1.05  # cloud-edge enhancement happens
    assert np.corrcoef(broken[:-1], broken[1:])[0, 1] > 0.5  # spells last minutes


@given(seed=seeds, dwell_s=st.floats(min_value=1800.0, max_value=7200.0))
def test_broken_state_carries_the_current_spell(seed: int, dwell_s: float) -> None:
    """state > 0 is a sunlit spell with that many seconds left, state < 0 a shaded one."""
    rng = np.random.default_rng(seed)
    n = int(dwell_s // 60.0) - 1
    sunlit, left = weather.cloud_index(rng, weather.CLOUD_BROKEN, n, 60.0, dwell_s)
    assert np.all(sunlit > 0.9)
    assert left == pytest.approx(dwell_s - 60.0 * n)
    shaded, left = weather.cloud_index(rng, weather.CLOUD_BROKEN, n, 60.0, -dwell_s)
    assert np.all(shaded < 0.6)
    assert left == pytest.approx(-(dwell_s - 60.0 * n))


def test_cloud_index_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameter):
        weather.cloud_index(rng, 3, 10, 60.0, 0.0)
    with pytest.raises(InvalidParameter):
        weather.cloud_index(rng, weather.CLOUD_CLEAR, 10, 0.0, 0.0)
    with pytest.raises(InvalidParameter):
        weather.next_cloud_regime(rng, -1)


@given(
    seed=seeds,
    regime=regimes,
    lat=latitudes,
    day=days,
    spread=st.floats(min_value=0.0, max_value=0.5),
)
def test_split_irradiance_is_bounded_and_closed(
    seed: int, regime: int, lat: float, day: int, spread: float
) -> None:
    rng = np.random.default_rng(seed)
    times_s = _day_times(day, step_s=300.0)
    geo = weather.solar_geometry(lat, 0.0, 0.0, times_s)
    k, _ = weather.cloud_index(rng, regime, times_s.size, 300.0, 0.0)
    k = k + rng.normal(0.0, spread, k.size)  # also values outside [0, 1.2]
    ghi, dni, dhi = weather.split_irradiance(k, geo, times_s)
    assert np.all(ghi >= 0.0) and np.all(dni >= 0.0) and np.all(dhi >= 0.0)
    assert np.all(ghi <= 1.2 * geo.ghi_clear_w_m2 + 1e-9)
    assert np.all(ghi[geo.zenith_deg >= 90.0] == 0.0)
    cos_z = np.cos(np.radians(geo.zenith_deg))
    np.testing.assert_allclose(dni * cos_z + dhi, ghi, rtol=1e-9, atol=1e-6)
    thick = k < 0.25
    np.testing.assert_array_equal(dhi[thick], ghi[thick])


# Temperature ---------------------------------------------------------------------------------

CLIMATES = {  # lat, annual mean [°C], annual amplitude [K]
    "san_francisco": (37.8, 14.5, 3.5),
    "minneapolis": (45.0, 7.5, 16.0),
    "miami": (25.8, 25.2, 4.0),
    "sydney": (-33.9, 18.0, 4.5),
    "chicago": (41.9, 10.0, 13.0),
}
_REGIME_MEAN_K = {weather.CLOUD_CLEAR: 1.0, weather.CLOUD_BROKEN: 0.77, weather.CLOUD_OVERCAST: 0.3}


def _simulate_year(seed: int, lat: float, mean_c: float, amplitude_k: float) -> np.ndarray:
    """Hourly temperature for 365 days (rows) the way the kernel chains the functions."""
    rng = np.random.default_rng(seed)
    t_min, t_max = np.empty(367), np.empty(367)
    anomaly, regime = 0.0, weather.CLOUD_CLEAR
    for d in range(367):  # day 0 is 31 December, day 366 is 1 January: neighbours of the year
        regime = weather.next_cloud_regime(rng, regime)
        t_min[d], t_max[d], anomaly = weather.daily_temperature_extremes(
            rng,
            (d - 1) % 365 + 1,
            anomaly,
            t_annual_mean_c=mean_c,
            annual_amplitude_k=amplitude_k,
            mean_clear_index=_REGIME_MEAN_K[regime],
            lat_deg=lat,
        )
    hours = np.arange(24.0)[None, :]
    temp = weather.diurnal_temperature_c(
        hours, t_min[1:-1, None], t_max[1:-1, None], t_max[:-2, None], t_min[2:, None]
    )
    noise, _ = weather.temperature_noise(rng, temp.size, 0.0)
    return temp + noise.reshape(temp.shape)


@pytest.mark.parametrize("climate", sorted(CLIMATES))
@given(seed=seeds)
def test_a_simulated_year_stays_plausible(climate: str, seed: int) -> None:
    lat, mean_c, amplitude_k = CLIMATES[climate]
    temp = _simulate_year(seed, lat, mean_c, amplitude_k)
    assert np.all((temp >= -40.0) & (temp <= 50.0))
    daily = temp.mean(axis=1)
    assert abs(daily.mean() - mean_c) < 3.0
    # June-August minus December-February follows the annual cosine (peak day 200 north,
    # 17.5 south); 6 K is > 5 sd of the sampling error of two 3-month means
    peak = 200.0 if lat >= 0 else 17.5
    seasonal = amplitude_k * np.cos(2.0 * np.pi * (np.arange(1, 366) - peak) / 365.0)
    jja, djf = np.r_[151:243], np.r_[0:59, 334:365]
    expected = seasonal[jja].mean() - seasonal[djf].mean()
    assert abs((daily[jja].mean() - daily[djf].mean()) - expected) < 6.0


@given(
    seed=seeds,
    doy=st.integers(min_value=1, max_value=365),
    mean_c=st.floats(min_value=-10.0, max_value=30.0),
    amplitude_k=st.floats(min_value=0.0, max_value=20.0),
    lat=latitudes,
)
def test_clear_day_maximum_is_in_the_afternoon(
    seed: int, doy: int, mean_c: float, amplitude_k: float, lat: float
) -> None:
    rng = np.random.default_rng(seed)
    extremes, anomaly = [], 0.0
    for d in (doy - 1, doy, doy + 1):
        t_min, t_max, anomaly = weather.daily_temperature_extremes(
            rng, d, anomaly, t_annual_mean_c=mean_c, annual_amplitude_k=amplitude_k, lat_deg=lat
        )
        assert t_max - t_min == pytest.approx(11.0)  # a clear day has the full DTR
        extremes.append((t_min, t_max))
    (_, max_yesterday), (min_today, max_today), (min_tomorrow, _) = extremes
    hours = np.arange(0.0, 24.0, 1.0 / 60.0)
    temp = weather.diurnal_temperature_c(hours, min_today, max_today, max_yesterday, min_tomorrow)
    assert 12.0 <= hours[np.argmax(temp)] <= 17.0
    assert temp.max() == pytest.approx(max_today, abs=0.05)


@given(seed=seeds, mean_clear_index=st.floats(min_value=0.0, max_value=1.0))
def test_cloudy_days_have_a_smaller_range(seed: int, mean_clear_index: float) -> None:
    kwargs = {"t_annual_mean_c": 12.0, "annual_amplitude_k": 10.0}
    t_min, t_max, _ = weather.daily_temperature_extremes(
        np.random.default_rng(seed), 100, 0.0, mean_clear_index=mean_clear_index, **kwargs
    )
    assert t_max - t_min == pytest.approx(11.0 * (0.4 + 0.6 * mean_clear_index))


def test_diurnal_curve_is_continuous_across_midnight() -> None:
    today = weather.diurnal_temperature_c(23.999, 8.0, 20.0, 18.0, 6.0)
    tomorrow = weather.diurnal_temperature_c(0.0, 6.0, 17.0, 20.0, 9.0)
    assert today == pytest.approx(tomorrow, abs=0.01)


@given(seed=seeds, n=st.integers(min_value=0, max_value=200), state=st.floats(-5.0, 5.0))
def test_temperature_noise_is_reproducible_and_carries_its_state(seed: int, n: int, state: float) -> None:
    noise, last = weather.temperature_noise(np.random.default_rng(seed), n, state)
    again, _ = weather.temperature_noise(np.random.default_rng(seed), n, state)
    np.testing.assert_array_equal(noise, again)
    assert noise.shape == (n,)
    assert last == (noise[-1] if n else state)


def test_temperature_noise_has_the_boptest_magnitude() -> None:
    noise, _ = weather.temperature_noise(np.random.default_rng(5), 200_000, 0.0)
    assert noise.std() == pytest.approx(0.6 / np.sqrt(1.0 - 0.93**2), rel=0.05)
    assert np.corrcoef(noise[:-1], noise[1:])[0, 1] == pytest.approx(0.93, abs=0.01)


# Carbon intensity ----------------------------------------------------------------------------


@given(
    seed=seeds,
    mean=st.floats(min_value=0.0, max_value=1500.0),
    alpha=st.floats(min_value=0.0, max_value=1.5),
    beta=st.floats(min_value=0.0, max_value=1.0),
    noise_sd=st.floats(min_value=0.0, max_value=300.0),
)
def test_carbon_intensity_within_floor_and_ceiling(
    seed: int, mean: float, alpha: float, beta: float, noise_sd: float
) -> None:
    rng = np.random.default_rng(seed)
    hours = rng.uniform(-48.0, 48.0, 500)
    ci = weather.carbon_intensity_g_per_kwh(
        hours,
        rng.uniform(-0.5, 1.5, 500),
        mean_g_per_kwh=mean,
        solar_alpha=alpha,
        evening_beta=beta,
        noise=rng.normal(0.0, noise_sd, 500),
    )
    assert np.all((ci >= 11.0) & (ci <= 820.0))


def test_carbon_intensity_dips_at_solar_noon_on_a_solar_heavy_grid() -> None:
    times_s, geo = _san_francisco_june()
    hours_local = np.mod((times_s - JUNE_SOLSTICE_2024_S) / 3600.0 - 7.0, 24.0)  # PDT
    shape = geo.ghi_clear_w_m2 / geo.ghi_clear_w_m2.max()
    ci = weather.carbon_intensity_g_per_kwh(hours_local, shape, solar_alpha=0.5)
    noon = int(np.argmax(shape))
    evening = int(np.argmin(np.abs(hours_local - 19.5)))
    assert ci[noon] < ci[evening]
    assert ci[noon] == pytest.approx(380.0 * 0.5, rel=0.05)
    assert ci.argmax() == pytest.approx(evening, abs=120)
