"""The fleet kernel, observed through the runtime handle (the only door).

Meter balance, physical bounds over a day, determinism, fleet-size independence, pure and
exact-between-ticks reads, outages (islanding), inverter trips and EV sessions.
Fleets are small (1-12 homes) so the whole file runs in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from gridtwin.simulator import commands as c
from gridtwin.simulator.runtime import Runtime
from gridtwin.simulator.state import BatteryState, HomeState, SolarState, ThermostatState, VehicleState

DAY_S = 86400.0
HOUR_S = 3600.0
KINDS = ("battery", "solar", "thermostat", "charger", "meter")


def neighbourhood(homes: int = 10, seed: int | None = None) -> Runtime:
    return Runtime.from_scenario("neighbourhood", homes=homes, seed=seed)


def balance_error_w(h: HomeState) -> float:
    """|grid − (load + hvac + ev − pv − battery)| [W] (battery + discharging, grid + importing)."""
    return abs(h.grid_w - ((h.load_w + h.hvac_w + h.ev_w) - h.pv_w - h.battery_w))


def arrays(rt: Runtime) -> dict[str, dict[str, np.ndarray]]:
    snap = rt.snapshot()
    return {k: snap.arrays(k) for k in KINDS}


def assert_arrays_equal(a: dict[str, dict[str, np.ndarray]], b: dict[str, dict[str, np.ndarray]]) -> None:
    for kind in KINDS:
        assert a[kind].keys() == b[kind].keys()
        for name in a[kind]:
            assert np.array_equal(a[kind][name], b[kind][name], equal_nan=a[kind][name].dtype.kind == "f"), (
                f"{kind}.{name} differs"
            )


def assert_arrays_close(
    a: dict[str, dict[str, np.ndarray]], b: dict[str, dict[str, np.ndarray]], tol: float
) -> None:
    for kind in KINDS:
        for name in a[kind]:
            x, y = a[kind][name], b[kind][name]
            if x.dtype.kind == "f":
                np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"{kind}.{name}")
            else:
                assert np.array_equal(x, y), f"{kind}.{name} differs"


def flat(state: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = value

    walk("", state.to_dict())
    return out


def assert_states_close(a: Any, b: Any, tol: float = 1e-9) -> None:
    fa, fb = flat(a), flat(b)
    assert fa.keys() == fb.keys()
    for k in fa:
        x, y = fa[k], fb[k]
        if isinstance(x, float) and isinstance(y, float):
            assert math.isclose(x, y, rel_tol=tol, abs_tol=tol) or (math.isnan(x) and math.isnan(y)), (
                k,
                x,
                y,
            )
        else:
            assert x == y, (k, x, y)


# -- one observed day of a 10-home neighbourhood (shared by the balance and bounds tests) -----


@dataclass
class Day:
    rt: Runtime
    never_home: str = ""
    homes: list[list[HomeState]] = field(default_factory=list)  # per instant, per home
    devices: list[dict[str, Any]] = field(default_factory=list)  # per instant: device id -> state
    initial: dict[str, Any] = field(default_factory=dict)

    def of_kind(self, kind: type) -> Iterator[tuple[int, Any]]:
        for i, states in enumerate(self.devices):
            for s in states.values():
                if isinstance(s, kind):
                    yield i, s


@pytest.fixture(scope="module")
def day() -> Day:
    rt = neighbourhood(10)
    never = [
        d.device_id
        for d in rt.devices()
        if d.kind == "battery" and f"solar-{d.device_id[-5:]}" in {x.device_id for x in rt.devices()}
    ]
    assert never, "the 10-home neighbourhood should have a home with PV and a battery"
    # one home may never export: exercises the meter's export curtailment branch
    rt.submit(c.SetGridPermissions(never[0], export_rule="never"))
    out = Day(rt, never_home=f"home-{never[0][-5:]}")
    out.initial = {d.device_id: rt.truth(d.device_id) for d in rt.devices()}
    end = rt.now_s + DAY_S
    while rt.now_s < end:
        rt.advance(437.0)  # an odd step: most reads fall between fleet ticks
        out.homes.append([rt.home_truth(h.home_id) for h in rt.homes()])
        out.devices.append({d.device_id: rt.truth(d.device_id) for d in rt.devices()})
    return out


def test_meter_balance_holds_at_every_instant(day: Day) -> None:
    assert len(day.homes) > 190
    mid_step = 0
    for states in day.homes:
        for h in states:
            assert balance_error_w(h) <= 1e-6, (h.info.home_id, h.time_s, h)
            mid_step += (h.time_s - day.rt.scenario.start_s) % 60.0 != 0.0
    assert mid_step > 0.9 * sum(len(s) for s in day.homes)
    assert min(h.grid_w for states in day.homes for h in states) < -100.0  # some homes export
    # the no-export home never exports, and its PV really was curtailed at times (the branch ran)
    never = [h for states in day.homes for h in states if h.info.home_id == day.never_home]
    assert min(h.grid_w for h in never) >= -1e-6
    solar = "solar-" + day.never_home[-5:]
    curtailed = [
        s for states in day.devices for d, s in states.items() if d == solar and s.power_w < s.available_w - 1
    ]
    assert len(curtailed) >= 5


def test_snapshot_homes_agree_with_home_truth(day: Day) -> None:
    snap = day.rt.snapshot()
    for h in day.rt.homes():
        assert snap.home(h.home_id) == day.rt.home_truth(h.home_id)
        assert balance_error_w(snap.home(h.home_id)) <= 1e-6


def test_battery_soc_stays_in_bounds_and_respects_its_reserve(day: Day) -> None:
    seen_charge = seen_discharge = False
    for _, b in day.of_kind(BatteryState):
        start = day.initial[b.info.device_id]
        assert 0.0 <= b.soc_pct <= 100.0
        assert 0.0 <= b.energy_wh <= b.capacity_wh
        assert b.soc_pct == pytest.approx(100.0 * b.energy_wh / b.capacity_wh)
        # on-grid the battery never discharges below its reserve (it may start below it)
        assert b.soc_pct >= min(start.soc_pct, b.reserve_pct) - 1e-6, (
            b.info.device_id,
            b.soc_pct,
            b.reserve_pct,
        )
        assert -b.p_charge_max_w - 1e-6 <= b.power_w <= b.p_discharge_max_w + 1e-6
        if b.soc_pct <= b.reserve_pct + 1e-9 and not b.outage:
            assert b.power_w <= 1e-6  # at or below the reserve: no discharge
        seen_charge |= b.power_w < -100.0
        seen_discharge |= b.power_w > 100.0
    assert seen_charge and seen_discharge


def test_lifetime_counters_never_decrease(day: Day) -> None:
    last: dict[str, tuple[float, ...]] = {}
    for states in day.devices:
        for dev, s in states.items():
            if isinstance(s, BatteryState):
                now: tuple[float, ...] = (s.charged_wh, s.discharged_wh)
            elif isinstance(s, SolarState):
                now = (s.energy_wh,)
            elif isinstance(s, ThermostatState):
                now = (s.electric_energy_wh,)
            else:
                continue
            if dev in last:
                assert all(n >= p - 1e-9 for n, p in zip(now, last[dev], strict=True)), dev
            last[dev] = now
    previous: dict[str, tuple[float, float]] = {}
    for states in day.homes:
        for h in states:
            pair = (h.import_wh, h.export_wh)
            if h.info.home_id in previous:
                assert pair[0] >= previous[h.info.home_id][0] and pair[1] >= previous[h.info.home_id][1]
            previous[h.info.home_id] = pair


def test_temperatures_and_powers_are_plausible(day: Day) -> None:
    indoor = []
    for _, t in day.of_kind(ThermostatState):
        assert 15.0 <= t.indoor_temp_c <= 35.0, t
        assert 15.0 <= t.mass_temp_c <= 35.0, t
        assert 5.0 <= t.outdoor_temp_c <= 48.0, t  # Sacramento in July
        assert t.hvac_power_w >= 0.0
        assert t.cool_setpoint_c >= t.heat_setpoint_c
        if t.running == "cool":
            assert t.hvac_power_w > 0.0 and t.heat_to_air_w < 0.0
        indoor.append(t.indoor_temp_c)
    assert max(indoor) - min(indoor) > 0.5  # the houses do move
    pv_peak = 0.0
    for _, s in day.of_kind(SolarState):
        assert 0.0 <= s.power_w <= s.available_w + 1e-6
        assert s.available_w <= s.pac0_w + 1e-6
        pv_peak = max(pv_peak, s.power_w)
    assert pv_peak > 1000.0  # a July day in Sacramento has sun
    for _, v in day.of_kind(VehicleState):
        assert 0.0 <= v.soc_pct <= 100.0
    for states in day.homes:
        for h in states:
            assert h.load_w > 0.0 and h.pv_w >= 0.0 and h.hvac_w >= 0.0 and h.ev_w >= 0.0
            assert not h.outage and h.shed_w == 0.0


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_same_world_bit_for_bit() -> None:
    a, b = neighbourhood(5, seed=4), neighbourhood(5, seed=4)
    a.advance(DAY_S)
    b.advance(DAY_S)
    assert_arrays_equal(arrays(a), arrays(b))
    for h in a.homes():
        assert a.home_truth(h.home_id) == b.home_truth(h.home_id)
    other = neighbourhood(5, seed=5)
    other.advance(HOUR_S)
    a_hour = neighbourhood(5, seed=4)
    a_hour.advance(HOUR_S)
    assert arrays(other)["meter"]["load_w"].tolist() != arrays(a_hour)["meter"]["load_w"].tolist()


@pytest.mark.parametrize("name", ["neighbourhood", "fleet-10k"])
def test_device_trajectory_does_not_depend_on_fleet_size(name: str) -> None:
    small = Runtime.from_scenario(name, homes=3, seed=2)
    large = Runtime.from_scenario(name, homes=12, seed=2)
    small.advance(6 * HOUR_S)
    large.advance(6 * HOUR_S)
    batteries = [d.device_id for d in small.devices() if d.kind == "battery"]
    assert batteries, "pick a seed whose first three homes include a battery"
    assert abs(small.truth(batteries[0]).soc_pct - large.truth(batteries[0]).soc_pct) <= 1e-9
    assert (
        abs(small.truth("thermostat-00000").indoor_temp_c - large.truth("thermostat-00000").indoor_temp_c)
        <= 1e-9
    )
    for d in small.devices():
        assert_states_close(small.truth(d.device_id), large.truth(d.device_id))
    for h in small.homes():
        assert_states_close(small.home_truth(h.home_id), large.home_truth(h.home_id))


# -- reads -------------------------------------------------------------------------------------


def read_everything(rt: Runtime) -> None:
    for d in rt.devices():
        first, second = rt.truth(d.device_id), rt.truth(d.device_id)
        assert first == second  # two reads at one instant are identical
    for h in rt.homes():
        assert rt.home_truth(h.home_id) == rt.home_truth(h.home_id)
    snap = rt.snapshot()
    assert snap.time_s == rt.now_s


def test_reads_do_not_change_the_trajectory() -> None:
    jumps = np.arange(97.3, 6 * HOUR_S, 97.3)
    read, unread = neighbourhood(10), neighbourhood(10)
    t0 = read.now_s
    for j in jumps:
        read.advance_to(t0 + j)
        read_everything(read)
        unread.advance_to(t0 + j)
    read.advance_to(t0 + 6 * HOUR_S)
    unread.advance_to(t0 + 6 * HOUR_S)
    assert_arrays_equal(arrays(read), arrays(unread))


def test_one_jump_equals_many_small_jumps() -> None:
    one, many = neighbourhood(10), neighbourhood(10)
    t0 = one.now_s
    one.advance_to(t0 + 6 * HOUR_S + 17.0)
    for j in np.arange(13.0, 6 * HOUR_S, 13.0 * 17):
        many.advance_to(t0 + j)
    many.advance_to(t0 + 6 * HOUR_S + 17.0)
    assert_arrays_close(arrays(one), arrays(many), 1e-6)
    for d in one.devices():
        assert_states_close(one.truth(d.device_id), many.truth(d.device_id), 1e-6)


def test_reads_between_ticks_are_exact_interpolations() -> None:
    """A battery at constant power between ticks: SoC is linear in time within the step."""
    rt = Runtime.from_scenario("single-home")
    rt.advance(9 * HOUR_S + 60.0)  # 02:01 local: night, the battery serves the house
    b0 = rt.truth("battery-00000")
    assert b0.power_w > 0.0
    rt.advance(20.0)
    b1 = rt.truth("battery-00000")
    rt.advance(20.0)
    b2 = rt.truth("battery-00000")
    assert b0.power_w == b1.power_w == b2.power_w
    assert b1.energy_wh - b0.energy_wh == pytest.approx(b2.energy_wh - b1.energy_wh, rel=1e-9)
    assert b1.energy_wh < b0.energy_wh
    # the AC energy out over 20 s, divided by the discharge efficiency, is the stored energy lost
    eta_d = math.sqrt(0.90)
    assert (b0.energy_wh - b1.energy_wh) == pytest.approx(b0.power_w * 20.0 / 3600.0 / eta_d, rel=1e-9)


def test_snapshot_is_immutable_and_frozen_in_time() -> None:
    rt = Runtime.from_scenario("single-home")
    rt.advance(HOUR_S + 30.0)
    snap = rt.snapshot()
    soc = snap.device("battery-00000").soc_pct
    home = snap.home("home-00000")
    rt.advance(2 * HOUR_S)
    assert snap.device("battery-00000").soc_pct == soc
    assert snap.home("home-00000") == home
    assert rt.truth("battery-00000").soc_pct != soc
    for kind in KINDS:
        for a in snap.arrays(kind).values():
            assert not a.flags.writeable
    with pytest.raises(ValueError):
        snap.arrays("battery")["energy_wh"][0] = 0.0


# -- outages (islanding) -----------------------------------------------------------------------


def test_outage_within_a_step_islands_the_home_and_releases_the_reserve() -> None:
    rt = Runtime.from_scenario("single-home")
    rt.advance(8 * HOUR_S + 30.0)  # 01:00:30 local, no sun
    soc = rt.truth("battery-00000").soc_pct
    rt.submit(c.SetBatteryReserve("battery-00000", reserve_pct=math.ceil(soc) + 1.0))
    before = rt.home_truth("home-00000")
    assert rt.truth("battery-00000").power_w < 0.0 and before.grid_w > 0.0  # grid refills the reserve
    rt.add_fault("home-00000", "outage", end_s=rt.now_s + 25.0)
    for _ in range(2):
        h = rt.home_truth("home-00000")
        b = rt.truth("battery-00000")
        assert h.outage and b.outage
        assert h.grid_w == 0.0
        assert balance_error_w(h) <= 1e-6
        assert b.power_w > 0.0  # islanded: the battery serves the house although below its reserve
        assert b.soc_pct < b.reserve_pct
        rt.advance(10.0)
    rt.advance(10.0)  # the window has closed (still before the next tick)
    h = rt.home_truth("home-00000")
    assert not h.outage and h.grid_w > 0.0
    assert rt.truth("battery-00000").power_w < 0.0


def test_outage_window_islands_the_home_over_many_ticks() -> None:
    rt = Runtime.from_scenario("single-home")
    t0 = rt.now_s
    rt.advance(2 * HOUR_S)
    rt.submit(c.SetBatteryReserve("battery-00000", reserve_pct=70.0))
    rt.add_fault("home-00000", "outage", start_s=t0 + 3 * HOUR_S, end_s=t0 + 11 * HOUR_S)
    rt.advance_to(t0 + 3 * HOUR_S - 1.0)
    assert rt.truth("battery-00000").soc_pct >= 70.0 - 1e-6
    lowest = 100.0
    t = rt.now_s
    while t < t0 + 11 * HOUR_S - 601.0:
        t += 601.0
        rt.advance_to(t)
        h, b = rt.home_truth("home-00000"), rt.truth("battery-00000")
        assert h.outage and b.outage
        assert h.grid_w == 0.0
        assert balance_error_w(h) <= 1e-6
        assert h.shed_w >= 0.0
        lowest = min(lowest, b.soc_pct)
    assert lowest < 70.0 - 5.0  # the reserve is available while islanded
    rt.advance_to(t0 + 11 * HOUR_S + 120.0)
    h, b = rt.home_truth("home-00000"), rt.truth("battery-00000")
    assert not h.outage and not b.outage
    assert b.power_w < 0.0 and h.grid_w > 0.0  # back on grid, below the reserve: recharge from the grid


# -- inverter trip -----------------------------------------------------------------------------


def test_inverter_trip_zeroes_pv_for_its_window() -> None:
    rt = Runtime.from_scenario("single-home")  # starts 17:00 local: evening sun
    t0 = rt.now_s
    assert rt.truth("solar-00000").power_w > 1000.0
    fault = rt.add_fault("solar-00000", "inverter_trip", start_s=t0 + 600.0, end_s=t0 + 2400.0)
    rt.advance_to(t0 + 599.0)
    assert rt.truth("solar-00000").power_w > 0.0 and not fault.active
    rt.advance_to(t0 + 600.0)
    s = rt.truth("solar-00000")
    assert fault.active and s.faults.inverter_trip
    assert s.power_w == 0.0 and s.available_w == 0.0
    energy = s.energy_wh
    for t in (t0 + 1000.0, t0 + 1777.7, t0 + 2399.0):
        rt.advance_to(t)
        s = rt.truth("solar-00000")
        h = rt.home_truth("home-00000")
        assert s.power_w == 0.0 and h.pv_w == 0.0
        assert s.energy_wh == energy
        assert balance_error_w(h) <= 1e-6
    rt.advance_to(t0 + 2400.0)
    s = rt.truth("solar-00000")
    assert not fault.active and not s.faults.inverter_trip
    assert s.power_w > 500.0 and rt.home_truth("home-00000").pv_w == s.power_w
    rt.advance(300.0)
    assert rt.truth("solar-00000").energy_wh > energy


def test_clearing_an_inverter_trip_restores_pv_at_once() -> None:
    rt = Runtime.from_scenario("single-home")
    fault = rt.add_fault("solar-00000", "inverter_trip", end_s=rt.now_s + 4 * HOUR_S)
    rt.advance(300.0)
    assert rt.truth("solar-00000").power_w == 0.0
    rt.clear_fault(fault.fault_id)
    assert not fault.active and fault.cleared
    assert rt.truth("solar-00000").power_w > 0.0
    rt.advance(300.0)
    assert rt.truth("solar-00000").power_w > 0.0


def test_overlapping_inverter_trips_keep_pv_off_until_the_last_ends() -> None:
    rt = Runtime.from_scenario("single-home")
    t0 = rt.now_s
    rt.add_fault("solar-00000", "inverter_trip", start_s=t0 + 60.0, end_s=t0 + 1800.0)
    second = rt.add_fault("solar-00000", "inverter_trip", start_s=t0 + 900.0, end_s=t0 + 2700.0)
    rt.advance_to(t0 + 2000.0)
    assert second.active
    s = rt.truth("solar-00000")
    assert s.faults.inverter_trip
    assert s.power_w == 0.0
    rt.advance_to(t0 + 2700.0)
    s = rt.truth("solar-00000")
    assert not second.active and not s.faults.inverter_trip
    assert s.power_w > 0.0


def test_overlapping_outages_keep_the_home_islanded_until_the_last_ends() -> None:
    rt = Runtime.from_scenario("single-home")
    t0 = rt.now_s
    rt.add_fault("home-00000", "outage", start_s=t0 + 60.0, end_s=t0 + 1800.0)
    rt.add_fault("home-00000", "outage", start_s=t0 + 900.0, end_s=t0 + 2700.0)
    for t in (t0 + 1000.0, t0 + 2000.0, t0 + 2699.0):
        rt.advance_to(t)
        h = rt.home_truth("home-00000")
        assert h.outage and h.grid_w == 0.0, t - t0
        assert balance_error_w(h) <= 1e-6
    rt.advance_to(t0 + 2700.0)
    assert not rt.home_truth("home-00000").outage


# -- EV sessions -------------------------------------------------------------------------------


def test_ev_sessions_over_three_days() -> None:
    rt = neighbourhood(10)
    params = {h.home_id: h.devices["charger"].params for h in rt.scenario.homes if "charger" in h.devices}
    vehicles = [d for d in rt.devices() if d.kind == "vehicle"]
    assert len(vehicles) >= 3
    t0 = rt.now_s
    prev: dict[str, tuple[VehicleState, Any]] = {}
    charged: set[str] = set()
    plugged_seen: set[str] = set()
    checked = 0
    for k in range(1, int(3 * DAY_S / 600) + 1):
        rt.advance_to(t0 + 600.0 * k + 0.5)
        for d in vehicles:
            v = rt.truth(d.device_id)
            ch = rt.truth(v.charger_id)
            p = params[d.home_id]
            assert isinstance(v, VehicleState)
            assert v.soc_pct <= v.charge_limit_pct + 1e-7, (d.device_id, v.soc_pct, v.charge_limit_pct)
            assert v.soc_pct >= 0.0
            assert v.plugged == ch.plugged and v.power_w == ch.power_w
            assert rt.home_truth(d.home_id).ev_w == ch.power_w
            if not v.plugged:
                assert ch.power_w == 0.0 and ch.pilot_state == "A" and v.departure_s is None
            else:
                plugged_seen.add(d.device_id)
                assert v.departure_s is not None and v.departure_s > rt.now_s
            if ch.power_w > 0.0:
                charged.add(d.device_id)
                assert ch.pilot_state == "C" and ch.ocpp_status == "Charging" and v.charging
                assert ch.power_w <= ch.current_limit_a * ch.voltage_v + 1e-6
            if d.device_id in prev:
                pv, pc = prev[d.device_id]
                assert ch.energy_wh >= pc.energy_wh - 1e-9
                if pv.plugged and v.plugged and ch.session_energy_wh >= pc.session_energy_wh:
                    # energy delivered by the charger = SoC gain × capacity / efficiency
                    delivered_wh = ch.session_energy_wh - pc.session_energy_wh
                    gain_wh = (v.soc_pct - pv.soc_pct) / 100.0 * p["vehicle_capacity_wh"]
                    assert delivered_wh == pytest.approx(gain_wh / p["vehicle_efficiency"], abs=1e-6)
                    checked += 1
            prev[d.device_id] = (v, ch)
    assert plugged_seen and charged, "no vehicle plugged in and charged in three days"
    assert checked > 50
