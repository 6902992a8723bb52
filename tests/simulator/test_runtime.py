"""The runtime handle: commands (validation, delays, the event log), faults on commands, reset,
time, and the physical effect of the commands that matter most."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from gridtwin.simulator import commands as c
from gridtwin.simulator.clock import ManualClock, ScaledClock
from gridtwin.simulator.errors import CommandRejected, InvalidParameter, UnknownDevice
from gridtwin.simulator.runtime import CommandReceipt, Runtime, load_scenario

HOUR_S = 3600.0
START_S = 1_784_073_600.0  # 2026-07-15T00:00:00Z = 17:00 in Sacramento
BAT, SOL, THERM, CHG, VEH = (
    "battery-00000",
    "solar-00000",
    "thermostat-00000",
    "charger-00000",
    "vehicle-00000",
)


ANY = object()  # an old value these tests do not pin (see the dedicated test)


def single_home() -> Runtime:
    return Runtime.from_scenario("single-home")


def last_event(rt: Runtime):
    return rt.events()[-1]


# -- every command type: takes effect, is logged, honours delay_s ------------------------------


@dataclass
class Case:
    """A command, what must be true once it took effect, and the changes it must log."""

    command: c.Command
    applied: Callable[[Runtime], bool]
    changes: dict[str, tuple[object, object]]
    setup: list[c.Command] = field(default_factory=list)


CASES: dict[str, Case] = {
    "SetBatteryMode": Case(
        c.SetBatteryMode(BAT, mode="backup"),
        lambda rt: rt.truth(BAT).mode == "backup",
        {"mode": ("self_consumption", "backup")},
    ),
    "SetBatteryReserve": Case(
        c.SetBatteryReserve(BAT, reserve_pct=42.0),
        lambda rt: rt.truth(BAT).reserve_pct == 42.0,
        {"reserve_pct": (20.0, 42.0)},
    ),
    "SetStormMode": Case(
        c.SetStormMode(BAT, enabled=True),
        lambda rt: rt.truth(BAT).storm_mode is True,
        {"storm_mode": (False, True)},
    ),
    "SetGridPermissions": Case(
        c.SetGridPermissions(BAT, grid_charging=False, export_rule="never"),
        lambda rt: (rt.truth(BAT).grid_charging, rt.truth(BAT).export_rule) == (False, "never"),
        {"grid_charging": (True, False), "export_rule": ("solar_only", "never")},
    ),
    "SetThermostatMode": Case(
        c.SetThermostatMode(THERM, mode="heat"),
        lambda rt: rt.truth(THERM).mode == "heat",
        {"mode": ("cool", "heat")},
    ),
    "SetSetpoints": Case(
        c.SetSetpoints(THERM, heat_setpoint_c=19.0, cool_setpoint_c=25.5),
        lambda rt: (
            (rt.truth(THERM).heat_setpoint_c, rt.truth(THERM).cool_setpoint_c, rt.truth(THERM).hold)
            == (19.0, 25.5, "permanent")
        ),
        # old values: see test_set_setpoints_logs_the_setpoints_it_replaced
        {"heat_setpoint_c": (ANY, 19.0), "cool_setpoint_c": (ANY, 25.5), "hold": (ANY, "permanent")},
    ),
    "ResumeSchedule": Case(
        c.ResumeSchedule(THERM),
        lambda rt: (
            rt.truth(THERM).hold is None
            and (rt.truth(THERM).heat_setpoint_c, rt.truth(THERM).cool_setpoint_c) != (19.0, 25.5)
        ),
        {"hold": ("permanent", None)},
        setup=[c.SetSetpoints(THERM, heat_setpoint_c=19.0, cool_setpoint_c=25.5)],
    ),
    "SetFanMode": Case(
        c.SetFanMode(THERM, fan_mode="on"),
        lambda rt: (rt.truth(THERM).fan_mode, rt.truth(THERM).fan_on) == ("on", True),
        {"fan_mode": ("auto", "on")},
    ),
    "StopCharging": Case(
        c.StopCharging(CHG),
        lambda rt: rt.truth(CHG).charging_enabled is False,
        {"charging_enabled": (True, False)},
    ),
    "StartCharging": Case(
        c.StartCharging(VEH),
        lambda rt: rt.truth(CHG).charging_enabled is True,
        {"charging_enabled": (False, True)},
        setup=[c.StopCharging(CHG)],
    ),
    "SetChargerLock": Case(
        c.SetChargerLock(CHG, locked=True),
        lambda rt: rt.truth(CHG).locked is True and rt.truth(CHG).pilot_state in ("A", "B"),
        {"locked": (False, True)},
    ),
    "SetChargeCurrent": Case(
        c.SetChargeCurrent(CHG, current_a=24.0),
        lambda rt: rt.truth(CHG).current_limit_a == 24.0,
        {"current_limit_a": (40.0, 24.0)},
    ),
    "SetVehicleChargeLimit": Case(
        c.SetVehicleChargeLimit(VEH, limit_pct=90.0),
        lambda rt: rt.truth(VEH).charge_limit_pct == 90.0,
        {"charge_limit_pct": (80.0, 90.0)},
    ),
    "CurtailSolar": Case(
        c.CurtailSolar(SOL, limit_w=1000.0),
        lambda rt: rt.truth(SOL).curtail_limit_w == 1000.0 and 0 < rt.truth(SOL).power_w <= 1000.0,
        {"curtail_limit_w": (None, 1000.0)},
    ),
    "CurtailSolar-lift": Case(
        c.CurtailSolar(SOL, limit_w=None),
        lambda rt: rt.truth(SOL).curtail_limit_w is None and rt.truth(SOL).power_w > 1000.0,
        {"curtail_limit_w": (1000.0, None)},
        setup=[c.CurtailSolar(SOL, limit_w=1000.0)],
    ),
}


def test_the_table_covers_every_command_type() -> None:
    assert {type(case.command) for case in CASES.values()} == set(c.COMMAND_TYPES.values())


def prepared(case: Case) -> Runtime:
    rt = single_home()
    rt.advance(600.0)
    for s in case.setup:
        rt.submit(s)
    assert not case.applied(rt), "the case must change something"
    return rt




@pytest.mark.parametrize(
    "name", list(CASES)
)
def test_command_takes_effect_and_is_logged(name: str) -> None:
    case = CASES[name]
    rt = prepared(case)
    now = rt.now_s
    receipt = rt.submit(case.command)
    assert isinstance(receipt, CommandReceipt)
    assert (receipt.device_id, receipt.command) == (case.command.device_id, type(case.command).__name__)
    assert receipt.received_s == receipt.effective_s == now
    assert case.applied(rt)
    event = last_event(rt)
    assert event.command_id == receipt.command_id
    assert (event.status, event.received_s, event.effective_s, event.reason) == ("applied", now, now, None)
    assert event.params == case.command.params()
    assert event.changes.keys() == case.changes.keys()
    for key, (old, new) in case.changes.items():
        if old is not ANY:
            assert event.changes[key][0] == old, key
        assert event.changes[key][1] == new, key
    assert event.to_dict()["changes"] == {k: {"old": o, "new": n} for k, (o, n) in event.changes.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_delayed_command_takes_effect_only_after_the_delay(name: str) -> None:
    case = CASES[name]
    rt = prepared(case)
    now = rt.now_s
    receipt = rt.submit(case.command, delay_s=300.0)
    assert (receipt.received_s, receipt.effective_s) == (now, now + 300.0)
    event = last_event(rt)
    assert (event.status, event.effective_s, event.changes) == ("pending", None, {})
    assert not case.applied(rt)
    rt.advance(299.5)
    assert not case.applied(rt) and event.status == "pending"
    rt.advance(0.5)
    assert case.applied(rt)
    assert (event.status, event.received_s, event.effective_s) == ("applied", now, now + 300.0)
    assert event.changes  # something changed, and the log says what


def test_setting_the_current_value_logs_no_change() -> None:
    rt = single_home()
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=20.0))
    event = last_event(rt)
    assert event.status == "applied" and event.changes == {}


def test_set_setpoints_logs_the_setpoints_it_replaced() -> None:
    rt = single_home()
    before = rt.truth(THERM)
    rt.submit(c.SetSetpoints(THERM, heat_setpoint_c=19.0, cool_setpoint_c=25.5))
    assert last_event(rt).changes == {
        "heat_setpoint_c": (before.heat_setpoint_c, 19.0),
        "cool_setpoint_c": (before.cool_setpoint_c, 25.5),
        "hold": (None, "permanent"),
    }


def test_cool_setpoint_hold_in_cool_mode_is_what_truth_shows() -> None:
    rt = single_home()
    assert rt.truth(THERM).mode == "cool"
    rt.submit(c.SetSetpoints(THERM, cool_setpoint_c=18.0))
    assert last_event(rt).changes["cool_setpoint_c"][1] == 18.0
    assert rt.truth(THERM).cool_setpoint_c == 18.0


def test_next_transition_hold_ends_at_the_schedule_edge() -> None:
    rt = single_home()  # 17:00 local, "away"; the "home" period starts at 17:30 (t0 + 1800 s)
    rt.submit(c.SetSetpoints(THERM, heat_setpoint_c=19.0, cool_setpoint_c=26.0, hold="next_transition"))
    rt.advance_to(START_S + 1799.0)
    t = rt.truth(THERM)
    assert (t.hold, t.heat_setpoint_c, t.cool_setpoint_c) == ("next_transition", 19.0, 26.0)
    rt.advance_to(START_S + 1800.0)
    t = rt.truth(THERM)
    assert t.hold is None and (t.heat_setpoint_c, t.cool_setpoint_c) == (21.0, 24.0)  # the "home" setpoints


def test_until_hold_ends_at_its_time() -> None:
    rt = single_home()
    rt.submit(
        c.SetSetpoints(
            THERM, heat_setpoint_c=19.0, cool_setpoint_c=26.0, hold="until", hold_until_s=START_S + 630
        )
    )
    rt.advance_to(START_S + 629.0)
    assert rt.truth(THERM).hold == "until"
    rt.advance_to(START_S + 631.0)
    t = rt.truth(THERM)
    assert t.hold is None and (t.heat_setpoint_c, t.cool_setpoint_c) != (19.0, 26.0)


def test_events_filter_by_device_and_sequence() -> None:
    rt = single_home()
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=30.0))
    rt.submit(c.SetFanMode(THERM, fan_mode="circulate"))
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=40.0))
    assert [e.seq for e in rt.events()] == [1, 2, 3]
    assert [e.seq for e in rt.events(device_id=BAT)] == [1, 3]
    assert [e.seq for e in rt.events(since_seq=1)] == [2, 3]
    assert len({e.command_id for e in rt.events()}) == 3


def test_a_delayed_command_is_checked_again_when_it_falls_due() -> None:
    rt = single_home()
    rt.submit(
        c.SetSetpoints(THERM, heat_setpoint_c=21.0, cool_setpoint_c=22.0), delay_s=300.0
    )  # fine in cool
    pending = last_event(rt)
    rt.submit(c.SetThermostatMode(THERM, mode="auto"))  # now the 3 °F gap applies
    rt.advance(300.0)
    assert pending.status == "rejected"
    assert pending.effective_s == rt.now_s
    assert "cool_setpoint_c" in (pending.reason or "")
    assert rt.truth(THERM).hold is None


@pytest.mark.parametrize("delay", [-1.0, math.nan])
def test_bad_delay_is_refused(delay: float) -> None:
    rt = single_home()
    with pytest.raises(InvalidParameter):
        rt.submit(c.SetBatteryReserve(BAT, reserve_pct=30.0), delay_s=delay)
    assert rt.events() == []


# -- refusals ----------------------------------------------------------------------------------

RATED_40A = """\
name: small-charger
start: "2026-07-15T00:00:00Z"
homes:
  list:
    - cell: sacramento
      devices:
        charger: {model: wallbox-pulsar-plus-40a}
        thermostat: {model: nest-heat-pump, params: {mode: auto}}
"""

# (command, field, value, words the bound must contain)
REJECTIONS: dict[str, tuple[c.Command, str, object, tuple[str, ...]]] = {
    "reserve-above": (c.SetBatteryReserve(BAT, reserve_pct=101.0), "reserve_pct", 101.0, ("0", "100")),
    "reserve-below": (c.SetBatteryReserve(BAT, reserve_pct=-5.0), "reserve_pct", -5.0, ("0", "100")),
    "reserve-nan": (c.SetBatteryReserve(BAT, reserve_pct=math.nan), "reserve_pct", None, ("finite",)),
    "heat-too-low": (c.SetSetpoints(THERM, heat_setpoint_c=5.0), "heat_setpoint_c", 5.0, ("7", "32")),
    "cool-too-high": (c.SetSetpoints(THERM, cool_setpoint_c=40.0), "cool_setpoint_c", 40.0, ("10", "35")),
    "no-setpoint": (c.SetSetpoints(THERM), "heat_setpoint_c", None, ("cool_setpoint_c",)),
    "hold-until-missing": (
        c.SetSetpoints(THERM, heat_setpoint_c=20.0, hold="until"),
        "hold_until_s",
        None,
        ("until",),
    ),
    "hold-until-past": (
        c.SetSetpoints(THERM, heat_setpoint_c=20.0, hold="until", hold_until_s=START_S - 1),
        "hold_until_s",
        START_S - 1,
        ("now",),
    ),
    "current-above-range": (c.SetChargeCurrent(CHG, current_a=50.0), "current_a", 50.0, ("6", "48")),
    "limit-below": (c.SetVehicleChargeLimit(VEH, limit_pct=40.0), "limit_pct", 40.0, ("50", "100")),
    "battery-mode-name": (c.SetBatteryMode(BAT, mode="turbo"), "mode", "turbo", ("backup",)),
    "flag-not-bool": (c.SetStormMode(BAT, enabled=1), "enabled", 1, ("true",)),  # type: ignore[arg-type]
    "kind-battery-cmd-on-thermostat": (
        c.SetBatteryMode(THERM, mode="backup"),
        "device_id",
        THERM,
        ("battery", "thermostat"),
    ),
    "kind-limit-on-charger": (c.SetVehicleChargeLimit(CHG, limit_pct=80.0), "device_id", CHG, ("vehicle",)),
    "kind-current-on-vehicle": (c.SetChargeCurrent(VEH, current_a=16.0), "device_id", VEH, ("charger",)),
    "kind-curtail-on-battery": (c.CurtailSolar(BAT, limit_w=0.0), "device_id", BAT, ("solar",)),
}


def assert_rejection(
    rt: Runtime, command: c.Command, fld: str, value: object, words: tuple[str, ...]
) -> None:
    before = rt.truth(command.device_id)
    n = len(rt.events())
    with pytest.raises(CommandRejected) as err:
        rt.submit(command)
    e = err.value
    assert e.field == fld
    assert e.device_id == command.device_id
    message = str(e)
    assert fld in message
    if value is not None:
        assert e.value == value
        assert repr(value) in message
    for w in words:
        assert w in e.bound and w in message, (w, message)
    assert rt.truth(command.device_id) == before  # nothing changed
    assert len(rt.events()) == n + 1
    assert (rt.events()[-1].status, rt.events()[-1].reason) == ("rejected", message)


@pytest.mark.parametrize("name", list(REJECTIONS))
def test_invalid_command_is_rejected_naming_field_bound_and_value(name: str) -> None:
    command, fld, value, words = REJECTIONS[name]
    assert_rejection(single_home(), command, fld, value, words)


def test_current_above_the_charger_rating_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "small-charger.yaml"
    path.write_text(RATED_40A, encoding="utf-8")
    rt = Runtime.from_scenario(path)
    assert rt.truth(CHG).max_current_a == 40.0
    assert_rejection(rt, c.SetChargeCurrent(CHG, current_a=44.0), "current_a", 44.0, ("rating", "40 A"))
    rt.submit(c.SetChargeCurrent(CHG, current_a=40.0))  # the rating itself is fine
    assert rt.truth(CHG).current_limit_a == 40.0


def test_auto_mode_needs_a_3f_gap(tmp_path: Path) -> None:
    path = tmp_path / "auto.yaml"
    path.write_text(RATED_40A, encoding="utf-8")
    rt = Runtime.from_scenario(path)
    assert rt.truth(THERM).mode == "auto"
    assert_rejection(
        rt,
        c.SetSetpoints(THERM, heat_setpoint_c=21.0, cool_setpoint_c=22.0),
        "cool_setpoint_c",
        22.0,
        ("3 °F", "heat_setpoint_c"),
    )
    # 3 °F = 5/3 K exactly is enough
    rt.submit(c.SetSetpoints(THERM, heat_setpoint_c=21.0, cool_setpoint_c=21.0 + 5.0 / 3.0))
    assert rt.truth(THERM).cool_setpoint_c == pytest.approx(21.0 + 5.0 / 3.0)


def test_unknown_device() -> None:
    rt = single_home()
    with pytest.raises(UnknownDevice) as err:
        rt.submit(c.SetBatteryReserve("battery-99999", reserve_pct=30.0))
    assert "battery-99999" in str(err.value)
    assert isinstance(err.value, KeyError)
    assert rt.events() == []
    with pytest.raises(UnknownDevice):
        rt.truth("battery-99999")
    with pytest.raises(UnknownDevice):
        rt.home_truth("home-99999")
    with pytest.raises(UnknownDevice):
        rt.add_fault("solar-99999", "inverter_trip", end_s=rt.now_s + 60)


def test_fault_requests_are_validated() -> None:
    rt = single_home()
    with pytest.raises(CommandRejected):
        rt.add_fault(SOL, "gremlins", end_s=rt.now_s + 60)
    with pytest.raises(CommandRejected):
        rt.add_fault(BAT, "inverter_trip", end_s=rt.now_s + 60)  # only a solar device trips
    with pytest.raises(CommandRejected):
        rt.add_fault(SOL, "inverter_trip", start_s=rt.now_s + 60, end_s=rt.now_s + 60)


# -- command faults ----------------------------------------------------------------------------


def test_command_rejected_fault_makes_submit_raise_for_its_window() -> None:
    rt = single_home()
    rt.add_fault(BAT, "command_rejected", end_s=rt.now_s + 600.0)
    assert rt.truth(BAT).faults.command_rejected
    with pytest.raises(CommandRejected) as err:
        rt.submit(c.SetBatteryReserve(BAT, reserve_pct=50.0))
    assert err.value.field == "device_id" and "command_rejected" in str(err.value)
    assert rt.events()[-1].status == "rejected"
    assert rt.truth(BAT).reserve_pct == 20.0
    rt.submit(c.SetFanMode(THERM, fan_mode="on"))  # other devices are not affected
    rt.advance(600.0)
    assert not rt.truth(BAT).faults.command_rejected
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=50.0))
    assert rt.truth(BAT).reserve_pct == 50.0


def test_command_not_applied_fault_logs_not_applied_and_leaves_truth_alone() -> None:
    rt = single_home()
    rt.add_fault(BAT, "command_not_applied", end_s=rt.now_s + 600.0)
    receipt = rt.submit(c.SetBatteryReserve(BAT, reserve_pct=50.0))  # accepted...
    event = last_event(rt)
    assert event.command_id == receipt.command_id
    assert event.status == "not_applied" and "command_not_applied" in (event.reason or "")
    assert event.effective_s == rt.now_s and event.changes == {}
    assert rt.truth(BAT).reserve_pct == 20.0  # ...but never applied
    rt.advance(60.0)
    assert rt.truth(BAT).reserve_pct == 20.0


def test_command_not_applied_is_judged_when_the_command_falls_due() -> None:
    rt = single_home()
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=50.0), delay_s=120.0)
    rt.add_fault(BAT, "command_not_applied", start_s=rt.now_s + 60.0, end_s=rt.now_s + 600.0)
    rt.advance(120.0)
    assert last_event(rt).status == "not_applied"
    assert rt.truth(BAT).reserve_pct == 20.0


# -- reset and time ----------------------------------------------------------------------------


def test_reset_gives_back_the_same_world() -> None:
    fresh, used = (
        Runtime.from_scenario("neighbourhood", homes=5),
        Runtime.from_scenario("neighbourhood", homes=5),
    )
    used.advance(2 * HOUR_S)
    battery = next(d.device_id for d in used.devices() if d.kind == "battery")
    used.submit(c.SetBatteryReserve(battery, reserve_pct=90.0))
    used.add_fault("home-00000", "storm_watch", end_s=used.now_s + HOUR_S)
    used.reset()
    assert used.now_s == START_S and used.clock.now_s() == START_S
    assert used.events() == [] and used.faults() == []
    for d in fresh.devices():
        assert used.truth(d.device_id) == fresh.truth(d.device_id)
    fresh.advance(3 * HOUR_S)
    used.advance(3 * HOUR_S)
    for kind in ("battery", "solar", "thermostat", "charger", "meter"):
        a, b = fresh.snapshot().arrays(kind), used.snapshot().arrays(kind)
        for name in a:
            assert np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"), (kind, name)


def test_reset_with_a_new_seed_rebuilds_the_fleet() -> None:
    rt = Runtime.from_scenario("neighbourhood", homes=5)
    rt.reset(seed=7)
    assert rt.scenario.seed == 7
    assert rt.scenario.homes == load_scenario("neighbourhood", homes=5, seed=7).homes
    assert [h.home_id for h in rt.homes()] == [f"home-{i:05d}" for i in range(5)]
    rt.reset()
    assert rt.scenario.seed == 7  # a plain reset keeps the seed


def test_advance_to_refuses_going_backwards() -> None:
    rt = single_home()
    rt.advance(100.0)
    with pytest.raises(InvalidParameter):
        rt.advance_to(START_S + 50.0)
    for bad in (-1.0, math.nan):
        with pytest.raises(InvalidParameter):
            rt.advance(bad)
    assert rt.now_s == START_S + 100.0
    assert rt.advance_to(START_S + 100.0) == START_S + 100.0  # "now" is fine
    assert isinstance(rt.clock, ManualClock) and rt.clock.now_s() == rt.now_s


@pytest.mark.parametrize(
    "call",
    [lambda rt: rt.advance(math.inf), lambda rt: rt.advance_to(math.inf), lambda rt: rt.advance_to(math.nan)],
    ids=["advance-inf", "advance_to-inf", "advance_to-nan"],
)
def test_non_finite_times_are_refused(
    call: Callable[[Runtime], float], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = single_home()
    ran_to: list[float] = []
    # stand-in for the kernel, so a missing guard shows up as a call instead of a run that never ends
    monkeypatch.setattr(rt.world, "run_until", ran_to.append)
    with pytest.raises(InvalidParameter):
        call(rt)
    assert ran_to == []
    assert rt.now_s == START_S


class FakeWall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_sync_follows_a_scaled_clock() -> None:
    wall = FakeWall()
    rt = Runtime(load_scenario("single-home"), ScaledClock(START_S, 60.0, wall=wall))
    assert rt.sync() == START_S
    wall.t += 10.0
    assert rt.lag_s() == 600.0
    assert rt.sync() == START_S + 600.0 and rt.lag_s() == 0.0
    rt.clock.pause()  # type: ignore[attr-defined]
    wall.t += 1000.0
    assert rt.sync() == START_S + 600.0
    rt.advance(900.0)  # advancing past the clock drags the clock along
    assert rt.clock.now_s() == rt.now_s == START_S + 1500.0
    rt.clock.resume()  # type: ignore[attr-defined]
    wall.t += 1.0
    assert rt.sync() == START_S + 1560.0


def test_reset_keeps_the_clock_source() -> None:
    wall = FakeWall()
    rt = Runtime(load_scenario("single-home"), ScaledClock(START_S, 60.0, wall=wall))
    wall.t += 10.0
    rt.sync()
    rt.reset()
    assert rt.now_s == START_S
    wall.t += 10.0
    assert rt.sync() == START_S + 600.0


# -- physical effects --------------------------------------------------------------------------


def test_full_reserve_with_grid_charging_charges_the_battery() -> None:
    rt = single_home()
    rt.advance(9 * HOUR_S)  # 02:00 local: no sun, the battery serves the house
    b0, h0 = rt.truth(BAT), rt.home_truth("home-00000")
    assert b0.power_w > 0.0 and b0.grid_charging
    rt.submit(c.SetBatteryReserve(BAT, reserve_pct=100.0))
    b1, h1 = rt.truth(BAT), rt.home_truth("home-00000")
    assert b1.power_w < 0.0  # charging, at once
    assert -b1.power_w <= 3300.0 + 1e-6  # Powerwall 2 grid-charge limit
    assert h1.grid_w == pytest.approx(h0.grid_w + b0.power_w - b1.power_w, abs=1e-6)
    rt.advance(1800.0)
    b2 = rt.truth(BAT)
    assert b2.soc_pct > b0.soc_pct + 5.0
    assert b2.power_w < 0.0


def test_backup_mode_stops_discharge() -> None:
    rt = single_home()
    rt.advance(9 * HOUR_S)
    assert rt.truth(BAT).power_w > 0.0
    rt.submit(c.SetBatteryMode(BAT, mode="backup"))
    soc = rt.truth(BAT).soc_pct
    for _ in range(12):
        b = rt.truth(BAT)
        assert b.power_w <= 0.0
        assert b.soc_pct >= soc - 1e-9
        soc = b.soc_pct
        rt.advance(601.0)


def test_cool_hold_far_below_indoor_makes_the_house_cool() -> None:
    rt = single_home()
    t = rt.truth(THERM)
    assert t.mode == "cool" and t.running == "idle"
    rt.submit(c.SetSetpoints(THERM, heat_setpoint_c=10.0, cool_setpoint_c=16.0))
    assert rt.truth(THERM).cool_setpoint_c == 16.0
    rt.advance(300.0)  # "within minutes": the next ticks, minimum off-time included
    t1 = rt.truth(THERM)
    assert t1.running == "cool"
    assert t1.hvac_power_w > 0.0 and t1.heat_to_air_w < 0.0
    assert rt.home_truth("home-00000").hvac_w == t1.hvac_power_w
    rt.advance(1200.0)
    assert rt.truth(THERM).indoor_temp_c < t1.indoor_temp_c


def first_charging(rt: Runtime) -> str:
    t0 = rt.now_s
    for k in range(1, 3 * 24 * 6):
        rt.advance_to(t0 + 600.0 * k)
        for d in rt.devices():
            if d.kind == "charger" and rt.truth(d.device_id).power_w > 0.0:
                return d.device_id
    raise AssertionError("no EV charged within three days")


def test_stop_charging_stops_the_ev_drawing_power() -> None:
    rt = Runtime.from_scenario("neighbourhood", homes=10)
    charger = first_charging(rt)
    ch = rt.truth(charger)
    home = {d.device_id: d.home_id for d in rt.devices()}[charger]
    assert rt.home_truth(home).ev_w == ch.power_w > 0.0
    rt.submit(c.StopCharging(charger))
    ch = rt.truth(charger)
    assert ch.power_w == 0.0 and not ch.charging_enabled and ch.plugged
    assert (ch.pilot_state, ch.ocpp_status) == ("B", "SuspendedEVSE")
    assert rt.home_truth(home).ev_w == 0.0
    soc = rt.truth(ch.vehicle_id).soc_pct
    rt.advance(1800.0)
    assert rt.truth(charger).power_w == 0.0
    assert rt.truth(ch.vehicle_id).soc_pct == soc
    rt.submit(c.StartCharging(charger))
    rt.advance(60.0)
    assert rt.truth(charger).power_w > 0.0


def test_a_locked_charger_never_charges_across_sessions() -> None:
    """A lock outlives sessions: a car that plugs in while the charger is locked draws nothing."""
    rt = Runtime.from_scenario("single-home")
    rt.submit(c.SetChargerLock(CHG, locked=True))
    saw_plugged = False
    for _ in range(3 * 24 * 6):  # three days in 10-minute reads
        rt.advance(600.0)
        charger = rt.truth(CHG)
        assert charger.power_w == 0.0 and charger.locked
        saw_plugged |= charger.plugged
    assert saw_plugged, "a car should have plugged in over three days"
    rt.submit(c.SetChargerLock(CHG, locked=False))
