"""What the ``schedules`` check schedules: a battery and a thermostat, their edges, and their modes.

Each subject's *default* mode is the device's own settings before the check (read from its truth), so
the falling edge puts the device back as it was; the *rule* mode is a visibly different setting. Edges
are whole minutes a few minutes ahead; the rule's times are written on the local clock of the home the
device is in (the control plane knows it), and the request leaves ``deviceTimezone`` out, so the API
must take the device's site's time zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..sim import Sim, SimDevice
from ._commands_truth import Expectation, c_to_f, expectation

SLUGS = {"battery": "battery:set-operating-mode", "thermostat": "thermostat:set-operating-mode"}
LEAD_S = 300  # the rising edge is this far ahead (whole minutes)
LENGTH_S = 1200  # and the falling edge this long after it
SHIFT_S = 3600  # when the window would cross local midnight or an offset change, try an hour later
HEAT_F, COOL_F = (40.0, 90.0), (50.0, 95.0)  # the contract's target bounds
GAP_F = 3.0


@dataclass
class Subject:
    """One device the check schedules, and everything it expects of it."""

    device: dict[str, Any]  # the unified device as listed
    twin: SimDevice
    timezone: str  # of its home, from the control plane
    slug: str
    rule_mode: dict[str, Any]
    default_mode: dict[str, Any]
    rule_expect: Expectation
    default_expect: Expectation
    notes: list[str] = field(default_factory=list)
    schedule_id: str | None = None
    known_commands: set[str] = field(default_factory=set)  # ids listed before each edge

    @property
    def id(self) -> str:
        return str(self.device["id"])

    @property
    def type(self) -> str:
        return str(self.device["type"])

    def label(self) -> str:
        return f"{self.type} {self.id} ({self.device.get('manufacturer')}, sim {self.twin.device_id}, {self.timezone})"


def battery_modes(truth: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(rule, default, notes): the default restores the strategy and reserve; the rule changes both."""
    notes = []
    grid = truth.get("mode") == "time_of_use"
    if truth.get("mode") not in ("self_consumption", "time_of_use"):
        notes.append(f"the battery was in {truth.get('mode')!r} mode, which an operating mode cannot express: "
                     "its default mode is self_consumption")
    reserve = float(round(float(truth.get("reserve_pct") or 20.0)))
    default = {"operatingMode": "discharge", "minimumBatteryReserve": reserve, "enableGridInteraction": grid}
    # charge: the reserve becomes the target (below 81: some vendors refuse 81-99)
    rule = {"operatingMode": "charge", "maximumBatteryReserve": 60.0 if reserve < 45 else 30.0,
            "enableGridInteraction": not grid}
    return rule, default, notes


def thermostat_modes(truth: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(rule, default, notes): the default restores mode and targets; the rule switches heating and cooling."""
    mode = str(truth.get("mode") or "off")
    heat = round(c_to_f(float(truth.get("heat_setpoint_c") or 20.0)), 1)
    cool = round(c_to_f(float(truth.get("cool_setpoint_c") or 25.0)), 1)
    default: dict[str, Any] = {"operatingMode": mode if mode in ("off", "heat", "cool", "auto", "eco") else "off"}
    if HEAT_F[0] <= heat <= HEAT_F[1] and COOL_F[0] <= cool <= COOL_F[1] and cool - heat >= GAP_F:
        default.update(heatTarget=heat, coolTarget=cool)
    if mode == "cool":
        rule = {"operatingMode": "heat", "heatTarget": 64.0 if abs(heat - 64.0) > 1 else 62.0}
    else:
        rule = {"operatingMode": "cool", "coolTarget": 78.0 if abs(cool - 78.0) > 1 else 80.0}
    return rule, default, []


def subject(device: dict[str, Any], twin: SimDevice, timezone: str, truth: dict[str, Any]) -> Subject:
    modes = battery_modes if device["type"] == "battery" else thermostat_modes
    rule, default, notes = modes(truth)
    slug = SLUGS[device["type"]]
    rule_expect, _ = expectation(slug, rule, truth, staleness_s=0.0)
    default_expect, _ = expectation(slug, default, truth, staleness_s=0.0)
    return Subject(device, twin, timezone, slug, rule, default, rule_expect, default_expect, notes)


def choose(listed: list[dict[str, Any]], sim: Sim, has_schedule: Any,
           site_timezone: Any) -> tuple[list[Subject], list[str]]:
    """The first battery and the first thermostat (by id) that offer their operating-mode command, have a
    simulated twin and no active schedule of their own; notes on what is missing.

    A subject's time zone is its site's as the API answers it (the contract's default; Connect may have
    moved the device to an address far from its simulated home), else its home's."""
    twins = sim.by_key()
    homes = {h["home_id"]: h for h in sim.homes()}
    out, notes = [], []
    for device_type, slug in SLUGS.items():
        for d in sorted((d for d in listed if d.get("type") == device_type), key=lambda d: str(d["id"])):
            offered = {c.get("slug") for c in d.get("availableCommands") or []}
            twin = twins.get((str(d.get("manufacturer")), str(d.get("manufacturerDeviceId")), device_type))
            home = homes.get(twin.home_id) if twin else None
            if slug not in offered or twin is None or home is None or has_schedule(d["id"]):
                continue
            tz = (site_timezone(str(d["siteId"])) if d.get("siteId") else None) or str(home["timezone"])
            out.append(subject(d, twin, tz, sim.truth(twin.device_id)))
            break
        else:
            notes.append(f"no {device_type} offers {slug} with a simulated twin and no schedule of its own: "
                         f"no {device_type} schedule judged")
    return out, notes


def _local(t: float, tz: str) -> datetime:
    return datetime.fromtimestamp(t, ZoneInfo(tz))


def edges(now_s: float, zones: list[str]) -> tuple[float, float]:
    """(rising, falling): whole minutes ahead, the window inside one local day and one UTC offset in every zone."""
    rising = math.ceil(now_s / 60) * 60 + LEAD_S
    for _ in range(48):
        falling = rising + LENGTH_S
        if all(_local(rising, z).date() == _local(falling, z).date()
               and _local(rising, z).utcoffset() == _local(falling, z).utcoffset() for z in zones):
            return rising, falling
        rising += SHIFT_S
    return rising, rising + LENGTH_S


def rule(s: Subject, rising: float, falling: float) -> dict[str, Any]:
    """The subject's rule for the window, on its home's local clock (Texture's days: 0 = Sunday)."""
    a, b = _local(rising, s.timezone), _local(falling, s.timezone)
    return {"daysOfWeek": [(a.weekday() + 1) % 7], "startTime": a.strftime("%H:%M"), "endTime": b.strftime("%H:%M"),
            "deviceOperatingMode": s.rule_mode}


def body(s: Subject, rising: float, falling: float) -> dict[str, Any]:
    """The schedule request: no ``deviceTimezone``, so the API must use the site's."""
    return {"schedule": {"defaultDeviceOperatingMode": s.default_mode}, "rules": [rule(s, rising, falling)]}


__all__ = ["LEAD_S", "LENGTH_S", "Subject", "body", "choose", "edges", "rule"]
