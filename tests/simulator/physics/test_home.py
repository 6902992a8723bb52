"""Property tests of ``gridtwin.simulator.physics.home``: the counter hash, base load, TOU tariff,
the meter and the islanded balance (device-physics.md §7 cross-cutting properties).

Signs (gridtwin): battery positive when discharging, grid positive when importing.
Tolerances: the meter and island balances are sums and products of a few doubles, held to
``1e-9`` W; statistical checks use margins of at least 5 standard deviations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtwin.simulator.physics import battery as bp
from gridtwin.simulator.physics import home as hp

W_TOL = 1e-9
U64 = st.integers(0, 2**64 - 1)
COUNTERS = st.integers(-(2**62), 2**62)
NOISE_HALF_WIDTH = 0.25 * math.sqrt(3.0)  # the default noise_frac, as a uniform half-width


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _shape_ref(hour: np.ndarray) -> np.ndarray:
    """Independent periodic linear interpolation of the 24 hourly shape values."""
    s = hp.BASE_LOAD_SHAPE
    return np.interp(np.asarray(hour) % 24.0, np.arange(25.0), np.append(s, s[0]))


# --- hash_uniform -----------------------------------------------------------------------------


@given(st.lists(st.tuples(U64, COUNTERS), min_size=1, max_size=50))
def test_hash_uniform_in_unit_interval_deterministic_and_elementwise(pairs):
    """In [0, 1); the same (seed, counter) gives the same value, alone or inside any array."""
    seeds = np.array([s for s, _ in pairs], dtype=np.uint64)
    counters = np.array([c for _, c in pairs], dtype=np.int64)
    u = hp.hash_uniform(seeds, counters)
    assert u.shape == (len(pairs),)
    assert np.all((u >= 0.0) & (u < 1.0))
    np.testing.assert_array_equal(u, hp.hash_uniform(seeds, counters))
    alone = [float(hp.hash_uniform(s, c)) for s, c in pairs]
    np.testing.assert_array_equal(u, alone)
    order = np.arange(len(pairs))[::-1]
    np.testing.assert_array_equal(hp.hash_uniform(seeds[order], counters[order]), u[order])


@given(U64, st.lists(COUNTERS, min_size=1, max_size=20))
def test_hash_uniform_broadcasts_a_scalar_seed(seed, counters):
    u = hp.hash_uniform(seed, np.array(counters, dtype=np.int64))
    np.testing.assert_array_equal(u, [float(hp.hash_uniform(seed, c)) for c in counters])


@given(st.integers(0, 2**63), st.integers(0, 2**40))
def test_hash_uniform_is_roughly_uniform(seed0, counter0):
    """20k values (200 consecutive seeds × 100 consecutive counters): mean 0.5 ± 0.02 (σ ≈ 0.002),
    every decile holds 10 % ± 1.5 % (σ ≈ 0.2 %), and the values are not all distinct by accident."""
    seeds = (np.uint64(seed0) + np.arange(200, dtype=np.uint64))[:, None]
    counters = counter0 + np.arange(100, dtype=np.int64)[None, :]
    u = hp.hash_uniform(seeds, counters).ravel()
    assert u.size == 20_000
    assert abs(u.mean() - 0.5) < 0.02
    deciles = np.bincount(np.minimum((u * 10).astype(int), 9), minlength=10) / u.size
    assert np.all(np.abs(deciles - 0.1) < 0.015)
    assert np.unique(u).size > 19_990
    # neighbouring counters and neighbouring seeds are not correlated
    grid = u.reshape(200, 100)
    assert abs(np.corrcoef(grid[:, :-1].ravel(), grid[:, 1:].ravel())[0, 1]) < 0.05
    assert abs(np.corrcoef(grid[:-1, :].ravel(), grid[1:, :].ravel())[0, 1]) < 0.05


# --- base load --------------------------------------------------------------------------------

hours = _floats(0.0, 24.0).filter(lambda h: h < 24.0)
slots = st.integers(0, 10**7)
means_w = _floats(100.0, 3_000.0)


@given(hours, slots, U64, means_w, _floats(0.0, 1.0))
def test_base_load_is_never_negative(hour, slot, seed, mean_w, noise_frac):
    """Even with noise wider than ±100 % (noise_frac > 1/√3) the load is clipped at 0."""
    load = float(hp.base_load_w(hour, slot, seed_u64=seed, mean_w=mean_w, noise_frac=noise_frac))
    assert math.isfinite(load)
    assert load >= 0.0


@given(st.lists(st.tuples(hours, slots, U64, means_w), min_size=1, max_size=20))
def test_base_load_depends_only_on_hour_and_slot(rows):
    """mean·shape(hour)·(1 + noise(seed, slot)), elementwise: the same whatever the fleet around it."""
    h = np.array([r[0] for r in rows])
    slot = np.array([r[1] for r in rows], dtype=np.int64)
    seed = np.array([r[2] for r in rows], dtype=np.uint64)
    mean_w = np.array([r[3] for r in rows])
    load = hp.base_load_w(h, slot, seed_u64=seed, mean_w=mean_w)
    noise = (2.0 * hp.hash_uniform(seed, slot) - 1.0) * NOISE_HALF_WIDTH
    np.testing.assert_allclose(load, mean_w * _shape_ref(h) * (1.0 + noise), rtol=1e-12)
    alone = [float(hp.base_load_w(*r[:2], seed_u64=r[2], mean_w=r[3])) for r in rows]
    np.testing.assert_array_equal(load, alone)


@given(U64, means_w, st.sampled_from([1, 10, 30, 60, 120, 300, 450, 900]), st.sampled_from([60, 300, 900, 1800]))
def test_base_load_is_independent_of_step_size(seed, mean_w, dt_a, dt_b):
    """Sampling a day every dt_a or dt_b seconds gives identical loads at the shared instants, and
    within one 15-minute slot the noise factor load/(mean·shape) is constant."""
    t_a = np.arange(0, 86_400, dt_a)
    t_b = np.arange(0, 86_400, dt_b)

    def day(t: np.ndarray) -> np.ndarray:
        return hp.base_load_w(t / 3600.0, t // 900, seed_u64=seed, mean_w=mean_w)

    la, lb = day(t_a), day(t_b)
    common = np.intersect1d(t_a, t_b)
    np.testing.assert_array_equal(la[np.searchsorted(t_a, common)], lb[np.searchsorted(t_b, common)])
    factor = la / (mean_w * _shape_ref(t_a / 3600.0))
    for slot in np.unique(t_a // 900):
        in_slot = factor[t_a // 900 == slot]
        np.testing.assert_allclose(in_slot, in_slot[0], rtol=1e-12)
    per_slot = [factor[t_a // 900 == s][0] for s in np.unique(t_a // 900)]
    assert np.unique(np.round(per_slot, 12)).size > 80  # 96 slots: the noise does change per slot


@given(st.integers(0, 2**63), means_w, st.integers(0, 10_000))
def test_base_load_daily_mean_over_many_seeds(seed0, mean_w, day):
    """The mean over 200 homes of a day sampled each minute is mean_w within 5 % (σ ≈ 0.15 %)."""
    seeds = (np.uint64(seed0) + np.arange(200, dtype=np.uint64))[:, None]
    t = np.arange(0, 86_400, 60)[None, :]
    load = hp.base_load_w(t / 3600.0, day * 96 + t // 900, seed_u64=seeds, mean_w=mean_w)
    assert load.mean() == pytest.approx(mean_w, rel=0.05)


@given(U64, means_w, st.integers(0, 10_000))
def test_base_load_evening_peak_above_night_minimum(seed, mean_w, day):
    """Per home and day (noise ±43 %): the evening maximum (17-21 h) exceeds the night minimum (0-6 h);
    averaged over homes, the profile peaks in the evening and bottoms out at night."""
    t = np.arange(0, 86_400, 300)
    load = hp.base_load_w(t / 3600.0, day * 96 + t // 900, seed_u64=seed, mean_w=mean_w)
    h = t / 3600.0
    assert load[(h >= 17) & (h < 21)].max() > load[h < 6].min()
    seeds = np.uint64(seed % 2**63) + np.arange(300, dtype=np.uint64)[:, None]
    profile = hp.base_load_w(h, day * 96 + t // 900, seed_u64=seeds, mean_w=mean_w).mean(axis=0)
    assert 17 <= h[np.argmax(profile)] < 21
    assert 0 <= h[np.argmin(profile)] < 6


# --- tariff -----------------------------------------------------------------------------------

quarter_hours = st.integers(0, 95).map(lambda q: q * 15)  # window bounds in minutes


def _inside_min(m: int, a: int, b: int) -> bool:
    """Minute m in the window [a, b) (minutes), wrapping midnight; a == b is empty."""
    return (m - a) % 1440 < (b - a) % 1440


@given(quarter_hours, quarter_hours, quarter_hours, quarter_hours, st.integers(0, 1439), st.integers(-3, 3))
def test_tariff_period_matches_an_integer_reference(ps, pe, os_, oe, minute, days):
    """Windows may wrap midnight; peak overrides off-peak where they overlap; any day offset."""
    code = hp.tariff_period(
        minute / 60.0 + 24.0 * days,
        peak_start_h=ps / 60,
        peak_end_h=pe / 60,
        off_peak_start_h=os_ / 60,
        off_peak_end_h=oe / 60,
    )
    expected = 2 if _inside_min(minute, ps, pe) else 0 if _inside_min(minute, os_, oe) else 1
    assert int(code) == expected


def test_tariff_period_examples():
    """Off-peak 21:00-07:00 (wraps), peak 06:00-10:00 and 17:00-... overlapping the off-peak at 6-7."""
    hours_ = np.array([0.0, 5.99, 6.0, 6.5, 7.0, 9.99, 10.0, 20.99, 21.0, 23.5, 24.0, 30.5, -1.0])
    code = hp.tariff_period(hours_, peak_start_h=6.0, peak_end_h=10.0, off_peak_start_h=21.0, off_peak_end_h=7.0)
    np.testing.assert_array_equal(code, [0, 0, 2, 2, 2, 2, 1, 1, 0, 0, 0, 2, 0])
    wrap_peak = hp.tariff_period(
        np.array([21.0, 23.0, 0.5, 1.0, 12.0]),
        peak_start_h=22.0,
        peak_end_h=1.0,
        off_peak_start_h=0.0,
        off_peak_end_h=6.0,
    )
    np.testing.assert_array_equal(wrap_peak, [1, 2, 2, 0, 1])


@given(_floats(0.0, 24.0), _floats(0.0, 24.0), st.lists(_floats(0.0, 48.0), min_size=1, max_size=50))
def test_flat_tariff_is_all_shoulder(a, b, hours_):
    """All windows empty (start == end): every hour is shoulder (code 1)."""
    code = hp.tariff_period(np.array(hours_), peak_start_h=a, peak_end_h=a, off_peak_start_h=b, off_peak_end_h=b)
    assert code.dtype == np.int8
    np.testing.assert_array_equal(code, 1)


# --- meter ------------------------------------------------------------------------------------

powers = _floats(0.0, 20_000.0)
battery_powers = _floats(-12_000.0, 12_000.0)


@given(powers, powers, powers, powers, battery_powers)
def test_grid_w_is_the_meter_balance(load, hvac, ev, pv, bat):
    """grid = load + hvac + ev − pv − battery: discharging lowers import, charging raises it."""
    g = float(hp.grid_w(load, hvac, ev, pv, bat))
    assert g == pytest.approx(load + hvac + ev - pv - bat, abs=W_TOL, rel=1e-15)
    g0 = float(hp.grid_w(load, hvac, ev, pv, 0.0))
    assert g - g0 == pytest.approx(-bat, abs=1e-8)
    if bat > 1e-3:
        assert g < g0  # a discharging battery reduces import (or increases export)
    elif bat < -1e-3:
        assert g > g0
    if pv == 0 and bat <= 0:
        assert g >= load + hvac + ev - W_TOL  # nothing on site generates: all import


@given(st.lists(st.tuples(powers, powers, powers, powers, battery_powers), min_size=1, max_size=20))
def test_grid_w_is_elementwise(rows):
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    np.testing.assert_array_equal(hp.grid_w(*cols), [float(hp.grid_w(*r)) for r in rows])


# --- island -----------------------------------------------------------------------------------


@st.composite
def islanded_homes(draw: st.DrawFn) -> tuple[float, float, float]:
    """(consumption, pv, battery) with the battery dispatched as in an outage (any mode/reserve)."""
    cons = draw(st.one_of(st.just(0.0), _floats(1e-3, 15_000.0)))
    pv = draw(st.one_of(st.just(0.0), _floats(1e-3, 15_000.0)))
    cap = draw(_floats(3_000.0, 30_000.0))
    eta = math.sqrt(draw(_floats(0.8, 0.98)))
    bat = float(
        bp.dispatch_w(
            draw(_floats(0.0, 1.0)) * cap,
            cons - pv,
            capacity_wh=cap,
            p_charge_max_w=draw(_floats(2e3, 12e3)),
            p_discharge_max_w=draw(_floats(2e3, 12e3)),
            grid_charge_max_w=draw(_floats(1e3, 12e3)),
            eta_charge=eta,
            eta_discharge=eta,
            mode=draw(st.sampled_from([0, 1, 2])),
            reserve_frac=draw(_floats(0.0, 1.0)),
            grid_charging=draw(st.booleans()),
            export_rule=draw(st.sampled_from([0, 1, 2])),
            period=draw(st.sampled_from([0, 1, 2])),
            storm_watch=draw(st.booleans()),
            outage=True,
            dt_s=draw(_floats(1.0, 900.0)),
        )
    )
    return cons, pv, bat


@given(islanded_homes())
def test_island_balances_to_zero_grid(home):
    """served·consumption − pv_used − battery = 0; served ∈ [0, 1]; 0 ≤ pv_used ≤ pv; full service
    exactly when PV + discharge cover the consumption."""
    cons, pv, bat = home
    served, pv_used = (float(x) for x in hp.island(cons, pv, bat))
    assert 0.0 <= served <= 1.0
    assert 0.0 <= pv_used <= pv
    assert served * cons - pv_used - bat == pytest.approx(0.0, abs=W_TOL)
    assert float(hp.grid_w(served * cons, 0.0, 0.0, pv_used, bat)) == pytest.approx(0.0, abs=W_TOL)
    if pv + max(bat, 0.0) >= cons:
        assert served == 1.0
    else:
        assert served == pytest.approx((pv + max(bat, 0.0)) / cons, rel=1e-12)


def test_island_examples():
    # deficit fully covered by the battery; deficit half covered; surplus absorbed then curtailed;
    # no consumption at all
    served, pv_used = hp.island(
        [3000.0, 4000.0, 1000.0, 0.0], [1000.0, 0.0, 5000.0, 2000.0], [2000.0, 2000.0, -1500.0, -500.0]
    )
    np.testing.assert_allclose(served, [1.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(pv_used, [1000.0, 0.0, 2500.0, 500.0])


# --- regressions --------------------------------------------------------------------------------


@pytest.mark.parametrize("hour", [-1e-17, -1e-16, -1e-15, -5e-324])
def test_a_hair_below_midnight_reads_as_midnight(hour):
    """``-1e-17 % 24.0 == 24.0`` in floating point: ``floor(h) == 24`` indexed past the 24-entry
    shape table (IndexError) and a window [0, 6) missed the hour. Such an hour (≈ −1.8e-15 … 0)
    is midnight."""
    assert hour % 24.0 == 24.0  # the rounding this guards against
    load = float(hp.base_load_w(hour, 0, seed_u64=1, mean_w=500.0))
    assert load == pytest.approx(float(hp.base_load_w(0.0, 0, seed_u64=1, mean_w=500.0)), rel=1e-12)
    tariff = {"peak_start_h": 17.0, "peak_end_h": 21.0, "off_peak_start_h": 0.0, "off_peak_end_h": 6.0}
    assert int(hp.tariff_period(hour, **tariff)) == 0
