"""Schedules in the conformance run: real ids for ``scheduleId``, ``tagScheduleId`` and ``batchId``, the
schedules that existed before the run kept out of its writes, and every schedule the run made deleted when
it ends.

A schedule left behind would fire commands at its edges while the later checks judge the devices, so the
run confines what it creates: device schedules go to devices without an active schedule of their own (a
new one would replace it), tag schedules to the run's own tag, and at the end every schedule that was not
there before is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..engine import Context

if TYPE_CHECKING:
    from ._conformance_sandbox import Sandbox

SCHEDULABLE = {"battery": "battery:set-operating-mode", "thermostat": "thermostat:set-operating-mode"}
# the run's own schedules never fire while it lasts: a weekly rule three days ahead, a tag instant years ahead
OWN_RULE_DAYS_AHEAD = 3
OWN_TAG_INSTANT_S = 10 * 365 * 86400.0


def records(ctx: Context, box: Sandbox) -> None:
    """Find the schedules that exist (protected), and make the run's own schedule, tag schedule and batch."""
    api = ctx.api
    schedules: dict[str, list[dict[str, Any]]] = {}
    for d in box.devices:
        r = api.get(f"/v1/devices/{d['id']}/schedules", params={"perPage": 100})
        if r.status_code == 200 and isinstance(r.json(), dict):
            schedules[d["id"]] = list(r.json().get("data") or [])
    box.protected["schedule"] = {s["id"] for rows in schedules.values() for s in rows}
    box.protected["scheduleHolder"] = {d for d, rows in schedules.items() if rows}
    box.protected["scheduledDevice"] = {d for d, rows in schedules.items() if any(s.get("status") == "active"
                                                                                   for s in rows)}
    tag = box.own.get("tag")
    existing = _tag_schedules(ctx, tag) if tag else []
    box.protected["tagSchedule"] = {s["id"] for s in existing}
    _own_schedule(ctx, box)
    if tag:
        _own_tag_schedule(ctx, box, tag)
    r = api.get("/v1/batch-commands", params={"perPage": 1})
    found = r.json().get("data") if r.status_code == 200 and isinstance(r.json(), dict) else None
    batch = str(found[0]["id"]) if found else _own_batch(ctx, box)
    if batch:
        box.own["batch"] = batch
        box.pools["batchId"] = [batch]
    else:
        ctx.note("no batch command to aim GET /v1/batch-commands/{batchId} at: its cases use ids never issued")


def _tag_schedules(ctx: Context, tag: str) -> list[dict[str, Any]]:
    r = ctx.api.get(f"/v1/schedules/tags/{tag}", params={"perPage": 100})
    return list(r.json().get("data") or []) if r.status_code == 200 and isinstance(r.json(), dict) else []


def _own_schedule(ctx: Context, box: Sandbox) -> None:
    """A schedule on the first battery or thermostat without an active one, in UTC, that fires days from now."""
    for d in box.devices:
        slug = SCHEDULABLE.get(d.get("type", ""))
        offered = {c.get("slug") for c in d.get("availableCommands") or []}
        if slug is None or slug not in offered or d["id"] in box.protected["scheduledDevice"]:
            continue
        day = (datetime.fromtimestamp(ctx.sim.now_s(), UTC).weekday() + 1 + OWN_RULE_DAYS_AHEAD) % 7
        mode = ({"operatingMode": "charge", "maximumBatteryReserve": 80} if d["type"] == "battery"
                else {"operatingMode": "heat", "heatTarget": 66})
        r = ctx.api.post(f"/v1/devices/{d['id']}/schedule", {
            "schedule": {"deviceTimezone": "UTC", "defaultDeviceOperatingMode": mode},
            "rules": [{"daysOfWeek": [day], "startTime": "10:00", "endTime": "11:00", "deviceOperatingMode": mode}]})
        if r.status_code == 201:
            box.own["schedule"], box.own["scheduleDevice"] = str(r.json()["id"]), d["id"]
            box.pools["scheduleId"] = [box.own["schedule"]]
            return
    ctx.note("no schedule to aim the scheduleId cases at: they use ids never issued")


def _own_tag_schedule(ctx: Context, box: Sandbox, tag: str) -> None:
    at = datetime.fromtimestamp(ctx.sim.now_s() + OWN_TAG_INSTANT_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = ctx.api.post(f"/v1/schedules/tags/{tag}", {"command": {"slug": "thermostat:set-fan-mode",
                                                               "input": {"fanMode": "auto"}},
                                                   "schedule": {"type": "iso", "value": at}})
    if r.status_code == 201:
        box.own["tagSchedule"] = str(r.json()["id"])
        box.pools["tagScheduleId"] = [box.own["tagSchedule"]]
    else:
        ctx.note("no tag schedule to aim the tagScheduleId cases at: they use ids never issued")


def _own_batch(ctx: Context, box: Sandbox) -> str | None:
    """A batch that changes nothing: a thermostat's fan set to what it is, through a tag of the run's own
    (put on the thermostat for the request, then taken off again)."""
    for d in box.devices:
        fan = (d.get("state") or {}).get("fanMode")
        if "thermostat:set-fan-mode" not in {c.get("slug") for c in d.get("availableCommands") or []} or fan not in (
                "auto", "on", "off", "circulate"):
            continue
        tag, tags = f"{box.own.get('tag') or 'gridtwin-conformance'}-batch", list(d.get("tags") or [])
        ctx.api.put(f"/v1/devices/{d['id']}/tags", {"tags": [*tags, tag]})
        try:
            r = ctx.api.post("/v1/batch-commands", {"tag": tag, "command": {"slug": "thermostat:set-fan-mode",
                                                                            "input": {"fanMode": fan}}})
        finally:
            ctx.api.put(f"/v1/devices/{d['id']}/tags", {"tags": tags})
        return str(r.json()["id"]) if r.status_code == 201 else None
    return None


def prepare(box: Sandbox, case: Any) -> None:
    """Keep a real schedule id with the device (or tag) it belongs to."""
    params = case.path_parameters or {}
    if params.get("scheduleId") and params["scheduleId"] == box.own.get("schedule") and "deviceId" in params:
        params["deviceId"] = box.own["scheduleDevice"]
    if params.get("tagScheduleId") and params["tagScheduleId"] == box.own.get("tagSchedule") and "tag" in params:
        params["tag"] = box.own["tag"]


def guard(box: Sandbox, case: Any) -> None:
    """Keep schedule writes off the schedules that existed before the run, and tag schedules on its own tag."""
    method, path, params = case.method.upper(), case.path, case.path_parameters or {}
    if method == "GET":
        return
    fallback = box.own.get("scheduleDevice")
    if path == "/v1/devices/{deviceId}/schedule" and params.get("deviceId") in box.protected.get("scheduledDevice", ()):
        params["deviceId"] = fallback or _never(box)  # a new schedule would replace the device's own
    if path == "/v1/devices/{deviceId}/schedules" and params.get("deviceId") in box.protected.get("scheduleHolder", ()):
        params["deviceId"] = fallback or _never(box)
    if params.get("scheduleId") in box.protected.get("schedule", ()):
        params["scheduleId"] = _never(box)
    if params.get("tagScheduleId") in box.protected.get("tagSchedule", ()):
        params["tagScheduleId"] = _never(box)
    if method == "POST" and path == "/v1/schedules/tags/{tag}" and box.own.get("tag"):
        params["tag"] = box.own["tag"]  # so the run finds (and deletes) every tag schedule it made


def restore(ctx: Context, box: Sandbox) -> None:
    """Delete every device and tag schedule the run made (the ones that existed before stay)."""
    kept = box.protected.get("schedule", set())
    for d in box.devices:
        r = ctx.api.get(f"/v1/devices/{d['id']}/schedules", params={"perPage": 100})
        if r.status_code != 200 or not isinstance(r.json(), dict):
            continue
        for s in r.json().get("data") or []:
            if s["id"] not in kept:
                ctx.api.delete(f"/v1/devices/{d['id']}/schedule/{s['id']}")
    tag = box.own.get("tag")
    if tag:
        for s in _tag_schedules(ctx, tag):
            if s["id"] not in box.protected.get("tagSchedule", set()):
                ctx.api.delete(f"/v1/schedules/tags/{tag}/{s['id']}")


def _never(box: Sandbox) -> str:
    from ._conformance_sandbox import never_issued

    return never_issued(box.rng)


__all__ = ["guard", "prepare", "records", "restore"]
