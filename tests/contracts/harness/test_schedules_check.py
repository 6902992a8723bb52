"""The ``schedules`` check: the reference passes and leaves the devices as they were; a server whose schedule
edges are evaluated in UTC instead of the schedule's time zone fails it, naming the edge and the device.

Both runs share one world behind a switchable planted bug (off: every call passes through to the
reference untouched), since a world costs more than a run of the check.
"""

from __future__ import annotations

from typing import Any

import httpx

from gridtwin.contracts.harness import CheckResult
from gridtwin.fixtures.servers import RunningWorld
from gridtwin.fixtures.unified import db

from ..apps import schedule_edges_in_utc
from ..apps.base import Call, broken_world
from .workspace import one_check

SWITCH = {"bug": False}


class Switched(schedule_edges_in_utc.BUG):
    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return super().response(call, status, body) if SWITCH["bug"] else (status, body)


def schedules(running: RunningWorld) -> CheckResult:
    return one_check(running, "schedules", seed=3)


def touched(running: RunningWorld) -> dict[str, Any]:
    """What the check may change: batteries' strategy and reserve, thermostats' mode and fan, every tag, and
    whether any device has a schedule."""
    with httpx.Client(base_url=running.sim_url) as control:
        truths = {d["device_id"]: control.get(f"/_sim/v1/devices/{d['device_id']}/truth").json()
                  for d in control.get("/_sim/v1/devices").json() if d["kind"] in ("battery", "thermostat")}
    with running.world.unified.Session() as session:
        tags = {d.id: list(d.tags or []) for d in session.query(db.Device)}
        schedules = session.query(db.DeviceSchedule).count()
    return {"truth": {k: (t.get("mode"), t.get("reserve_pct"), t.get("fan_mode")) for k, t in truths.items()},
            "tags": tags, "schedules": schedules}


def test_reference_passes_restores_the_devices_and_edges_in_utc_are_caught() -> None:
    assert schedule_edges_in_utc.CAUGHT_BY == "schedules"
    SWITCH["bug"] = False
    try:
        with broken_world(Switched) as running:
            before = touched(running)
            reference = schedules(running)
            after = touched(running)
            SWITCH["bug"] = True
            broken = schedules(running)
    finally:
        SWITCH["bug"] = False
    assert reference.failures == [], "\n\n".join(f.text() for f in reference.failures)
    assert reference.status == "passed" and reference.cases >= 20
    assert "battery" in reference.notes[-1] and "thermostat" in reference.notes[-1]
    assert after == before and after["schedules"] == 0  # schedules deleted, modes, fans and tags as they were

    assert broken.status == "failed"
    messages = [f.message for f in broken.failures]
    assert sum("the next edge is not the rule's start" in m for m in messages) == 2  # battery and thermostat
    assert sum("the rising edge did not issue exactly one command" in m for m in messages) == 2
    for f in broken.failures:
        assert f.check == "schedules" and f.seed == 3 and f.subject, f.text()
        assert "America/Los_Angeles" in f.subject or f.operation == "vendor writes", f.text()
    edge = next(f for f in broken.failures if "next edge" in f.message)
    assert edge.operation == "POST /v1/devices/{deviceId}/schedule" and edge.curl.startswith("curl ")
