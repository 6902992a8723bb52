"""The ``commands`` check: the reference passes it at the default budget, the same seed gives the same run,
and each planted bug fails it with findings that name the command and the device."""

from __future__ import annotations

import re

import pytest

from gridtwin.contracts.harness import CheckResult, run
from gridtwin.contracts.harness.checks._commands_track import SETTLE_BOUND_S
from gridtwin.contracts.harness.checks._commands_truth import applied_by_failure, c_to_f, expectation, shown
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import completed_never_sent, never_confirmed
from ..apps.base import broken_world

# a bug shows on the first commands it touches: a small budget is enough to catch it
BUG_MAX_EXAMPLES = 3
SUBJECT = re.compile(r"^command \S+ to device \S+ \((tesla|enphase|ecobee|nest|wallbox) \w+, sim [a-z]+-\d+")


def commands(running: RunningWorld, max_examples: int | None = None, seed: int = 0) -> CheckResult:
    result = run(running.target(), ["commands"], seed=seed, max_examples=max_examples).results[0]
    assert result.error is None, result.error
    return result


def accepted_and_settled(result: CheckResult) -> tuple[int, int]:
    note = next(n for n in result.notes if "commands accepted" in n)
    m = re.match(r"(\d+) commands accepted, (\d+) settled", note)
    assert m, note
    return int(m[1]), int(m[2])


def test_reference_passes_at_the_default_budget() -> None:
    with reference_world() as running:
        result = commands(running)
    assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
    assert result.status == "passed"
    accepted, settled = accepted_and_settled(result)
    # commands of every kind were judged (sends, refusals, replays), and every accepted one settled
    assert accepted >= 30 and settled == accepted
    assert result.cases > 2 * accepted and result.requests > result.cases


def test_the_same_seed_sends_the_same_commands() -> None:
    runs = []
    for _ in range(2):
        with reference_world() as running:
            result = commands(running, max_examples=2, seed=5)
        runs.append((result.requests, result.cases, result.notes, result.status))
    assert runs[0] == runs[1]
    assert accepted_and_settled(result)[0] > 0


def test_completed_never_sent_is_caught() -> None:
    assert completed_never_sent.CAUGHT_BY == "commands"
    with broken_world(completed_never_sent.BUG) as running:
        result = commands(running, BUG_MAX_EXAMPLES)
    assert result.status == "failed"
    unsent = [f for f in result.failures if "never received a vendor write" in f.message]
    untrue = [f for f in result.failures if "truth does not show" in f.message]
    assert unsent and untrue
    for f in result.failures:  # only the fabricated commands are found wanting
        assert f.check == "commands" and f.subject.startswith("command cfake"), f.text()
        assert SUBJECT.match(f.subject), f.subject
        assert f.operation.startswith("POST /v1/commands/") and "-H 'Idempotency-Key: " in f.curl
    assert unsent[0].expected == "at least one vendor write in /_sim/v1/events"
    assert unsent[0].observed.startswith("no event for ")


def test_never_confirmed_is_caught() -> None:
    assert never_confirmed.CAUGHT_BY == "commands"
    with broken_world(never_confirmed.BUG) as running:
        result = commands(running, BUG_MAX_EXAMPLES)
    assert result.status == "failed" and result.failures
    for f in result.failures:
        assert "is still 'pending'" in f.message and f.observed == "pending", f.text()
        assert f.expected == f"completed or failed within {SETTLE_BOUND_S:.0f} s"
        assert SUBJECT.match(f.subject), f.subject
        cid = f.subject.split()[1]
        assert f.operation == f"GET /v1/commands/{cid}" and f.curl.endswith(f"/v1/commands/{cid} -H "
                                                                             "'Texture-Api-Key: "
                                                                             f"{running.api_key}'")


# -- the truth each command must show (pure) ------------------------------------------------------------

BATTERY = {"mode": "self_consumption", "reserve_pct": 20.0, "soc_pct": 50.0, "capacity_wh": 13500.0,
           "p_charge_max_w": 5000.0, "p_discharge_max_w": 5000.0}


def test_thermostat_targets_are_judged_in_fahrenheit_for_the_modes_that_use_them() -> None:
    expect, note = expectation("thermostat:set-operating-mode",
                               {"operatingMode": "heat", "heatTarget": 68, "coolTarget": 80}, {}, staleness_s=660)
    assert note is None and [w.field for w in expect[0]] == ["mode", "heat_setpoint_c"]  # heat ignores coolTarget
    c = (68 - 32) * 5 / 9
    assert shown(expect, {"mode": "heat", "heat_setpoint_c": c + 0.25})  # 0.45 °F off
    assert not shown(expect, {"mode": "heat", "heat_setpoint_c": c + 0.3})  # 0.54 °F off
    assert round(c_to_f(c), 9) == 68
    # a schedule may take the setpoint back after the hold: the applied write is then the evidence
    write = {"status": "applied", "params": {"heat_setpoint_c": c}}
    assert shown(expect, {"mode": "heat", "heat_setpoint_c": 18.0}, [write])
    assert not shown(expect, {"mode": "heat", "heat_setpoint_c": 18.0}, [{**write, "status": "rejected"}])


def test_a_charge_start_or_stop_is_shown_by_its_write_when_a_car_plugged_in_since() -> None:
    """A car plugging in re-enables charging by itself (no command): served, the harness may read truth after
    that, so the applied StartCharging/StopCharging write since the command is the evidence."""
    for slug in ("charger:set-operating-mode", "vehicle:set-operating-mode"):
        expect, _ = expectation(slug, {"operatingMode": "stop-charging"}, {}, staleness_s=660)
        assert shown(expect, {"charging_enabled": False})
        assert not shown(expect, {"charging_enabled": True})
        stop = {"status": "applied", "command": "StopCharging", "params": {}}
        assert shown(expect, {"charging_enabled": True}, [stop])
        assert not shown(expect, {"charging_enabled": True}, [{**stop, "command": "StartCharging"}])
        assert not shown(expect, {"charging_enabled": True}, [{**stop, "status": "rejected"}])


def test_battery_operating_mode_defaults() -> None:
    charge, _ = expectation("battery:set-operating-mode", {"operatingMode": "charge", "enableGridInteraction": True},
                            BATTERY, staleness_s=660)
    assert shown(charge, {"mode": "time_of_use", "reserve_pct": 100.0})
    assert not shown(charge, {"mode": "self_consumption", "reserve_pct": 100.0})
    # discharge keeps "the current reserve" as the API knows it: any the device had within the staleness bound
    recent = {"mode": ["self_consumption"], "reserve_pct": [20.0, 100.0]}
    discharge, _ = expectation("battery:set-operating-mode", {"operatingMode": "discharge"}, BATTERY,
                               staleness_s=660, recent=recent)
    assert shown(discharge, {"mode": "self_consumption", "reserve_pct": 100.0})
    assert not shown(discharge, {"mode": "self_consumption", "reserve_pct": 50.0})
    # idle: the charge level the API last read, which full power moves 6.8 points in 660 s
    idle, _ = expectation("battery:set-operating-mode", {"operatingMode": "idle"}, BATTERY, staleness_s=660)
    assert shown(idle, {"mode": "self_consumption", "reserve_pct": 57.0})
    assert not shown(idle, {"mode": "self_consumption", "reserve_pct": 58.0})
    unknown, note = expectation("battery:set-operating-mode", {"operatingMode": "reset"}, BATTERY, staleness_s=660)
    assert unknown == [] and note and "not judged" in note
    reset, _ = expectation("battery:set-operating-mode", {"operatingMode": "reset"}, BATTERY, staleness_s=660,
                           restorable=[{"mode": ["backup"], "reserve_pct": [30.0]}])
    assert shown(reset, {"mode": "backup", "reserve_pct": 30.0})
    assert not shown(reset, {"mode": "backup", "reserve_pct": 20.0})


def test_a_failed_command_is_judged_on_what_changed() -> None:
    expect, _ = expectation("battery:set-operating-mode",
                            {"operatingMode": "charge", "maximumBatteryReserve": 90, "enableGridInteraction": True},
                            BATTERY, staleness_s=660)
    assert applied_by_failure(expect, BATTERY, BATTERY) == "none"
    assert applied_by_failure(expect, BATTERY, {**BATTERY, "mode": "time_of_use"}) == "part"
    assert applied_by_failure(expect, BATTERY, {**BATTERY, "mode": "time_of_use", "reserve_pct": 90.0}) == "all"
    storm, _ = expectation("battery:set-storm-mode", {"enabled": False}, BATTERY, staleness_s=660)
    # already so before: proves nothing either way
    assert applied_by_failure(storm, {"storm_mode": False}, {"storm_mode": False}) == "none"


@pytest.mark.parametrize(("slug", "inp", "truth"), [
    ("battery:set-reserve", {"chargePercentage": 33.5}, {"reserve_pct": 34.0}),  # Enphase takes whole percent
    ("battery:set-storm-mode", {"enabled": True}, {"storm_mode": True}),
    ("thermostat:set-fan-mode", {"fanMode": "on"}, {"fan_mode": "on"}),
    ("charger:set-operating-mode", {"operatingMode": "stop-charging"}, {"charging_enabled": False}),
    ("vehicle:set-operating-mode", {"operatingMode": "start-charging"}, {"charging_enabled": True}),
    ("charger:set-current-limit", {"currentLimit": 16.5}, {"current_limit_a": 16.0}),  # Wallbox takes whole amps
    ("vehicle:set-charge-limit", {"chargeLimit": "80"}, {"charge_limit_pct": 80.0}),
])
def test_each_command_maps_to_its_truth_field(slug: str, inp: dict[str, object], truth: dict[str, object]) -> None:
    expect, note = expectation(slug, inp, {}, staleness_s=660)
    assert note is None and shown(expect, truth)
    field = next(iter(truth))
    wrong = {field: not truth[field] if isinstance(truth[field], bool) else 0.0}
    assert not shown(expect, wrong)
