"""The device-schedule half of the ``schedules`` check: create, cross both edges on the simulated clock, judge.

Around each edge the clock stops just before it (nothing may have fired yet), then just past the bound
(one command, created within the bound of the edge, carrying the mode now in force), then until the
command settles (``completed``, and the device's truth shows that mode). Throughout, the control plane's
event log must show vendor writes only to the scheduled devices, and none before an edge.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..engine import Context
from ..sim import parse_ts
from ._commands_truth import describe, observed, shown
from ._schedules_plan import Subject, body

EDGE_BOUND_S = 60.0  # a command must be created within this long after its edge (the contract's promise)
BEFORE_S = 30.0  # how long before an edge the check looks for early commands
RUNNING_LEAD_MIN_S = 5.0  # on a running clock, stop at least this far before an edge
RUNNING_PAST_S = 2.0  # and let it run this far past it before jumping on
WALL_SLACK_S = 10.0
SETTLE_STEP_S = 30.0
SETTLE_MAX_S = 600.0
OPEN = ("pending", "scheduled")
CREATE = "POST /v1/devices/{deviceId}/schedule"
LIST = "GET /v1/devices/{deviceId}/commands"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class EdgeRun:
    ctx: Context
    subjects: list[Subject]
    rising: float
    falling: float
    baseline_seq: int = 0
    groups: set[str] = field(default_factory=set)  # simulated ids that may receive writes

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> None:
        self.baseline_seq = int(self.ctx.sim.events(since_seq=0)["last_seq"])
        self.subjects = [s for s in self.subjects if self._create(s)]
        if not self.subjects:
            return
        self.groups = {s.twin.device_id for s in self.subjects}
        for edge, kind in ((self.rising, "rising"), (self.falling, "falling")):
            self.ctx.progress(f"{kind} edge at {iso(edge)}")
            self._edge(edge, kind)
        self._elsewhere()

    def restore(self) -> None:
        """Delete the check's schedules (their default mode already put the devices back)."""
        for s in self.subjects:
            if s.schedule_id:
                self.ctx.api.delete(f"/v1/devices/{s.id}/schedule/{s.schedule_id}")

    # -- steps --------------------------------------------------------------------------------
    def _create(self, s: Subject) -> bool:
        api = self.ctx.api
        s.known_commands = {c["id"] for c in self._commands(s)}
        r = api.post(f"/v1/devices/{s.id}/schedule", body(s, self.rising, self.falling))
        self.ctx.case()
        answer = _json(r)
        if r.status_code != 201 or not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            self.ctx.fail(CREATE, "a valid schedule for a battery or thermostat was not created",
                          expected="201 with the schedule", observed=f"{r.status_code} {r.text[:300]}",
                          subject=s.label())
            return False
        s.schedule_id = answer["id"]
        tz = (answer.get("schedule") or {}).get("deviceTimezone")
        if tz != s.timezone:
            self.ctx.fail(CREATE, "without deviceTimezone the schedule must take the device's site's time zone",
                          expected=f"schedule.deviceTimezone {s.timezone} (the device's site)",
                          observed=f"schedule.deviceTimezone {tz!r}", subject=s.label(), curl=api.last_curl)
        if not _same_instant(answer.get("nextEdgeAt"), self.rising):
            rule = json.dumps(body(s, self.rising, self.falling)["rules"][0])
            self.ctx.fail(CREATE, f"the next edge is not the rule's start on the local clock of {s.timezone}",
                          expected=f"nextEdgeAt {iso(self.rising)} (rule {rule})",
                          observed=f"nextEdgeAt {answer.get('nextEdgeAt')!r}", subject=s.label(), curl=api.last_curl)
        return True

    def _edge(self, edge: float, kind: str) -> None:
        sim = self.ctx.sim
        speed = self._running_speed()
        # on a running clock an API learns of a jump only when it next reads the clock: the check stops
        # far enough ahead that it has caught up before the edge, and lets the clock live through it
        lead = BEFORE_S if speed is None else max(RUNNING_LEAD_MIN_S, 3 * sim.settle_s * speed)
        sim.advance(max(0.0, edge - lead - sim.now_s()))
        for s in self.subjects:
            # by the commands' own times: on a running clock the look may come after the edge
            early = [c for c in self._new(s) if (_ts(c.get("createdAt")) or edge) < edge - 1.0]
            self.ctx.case()
            if early:
                self._fail_commands(s, f"a command was issued before the {kind} edge", early,
                                    expected=f"no command before {iso(edge)}")
                s.known_commands |= {c["id"] for c in early}
        if speed is not None:
            deadline = time.monotonic() + (lead + RUNNING_PAST_S) / speed + WALL_SLACK_S
            while sim.now_s() < edge + RUNNING_PAST_S and time.monotonic() < deadline:
                time.sleep(min(0.5, RUNNING_PAST_S / speed))
        sim.advance(max(0.0, edge + EDGE_BOUND_S - sim.now_s()))
        fired: dict[str, dict[str, Any]] = {}
        for s in self.subjects:
            found = self._fired(s, edge, kind)
            if found is not None:
                fired[s.id] = found
        waited = 0.0
        while waited < SETTLE_MAX_S and any(self._status(c) in OPEN for c in fired.values()):
            sim.advance(SETTLE_STEP_S)
            waited += SETTLE_STEP_S
        for s in self.subjects:
            if s.id in fired:
                self._settled(s, fired[s.id], kind)
            s.known_commands |= {c["id"] for c in self._commands(s)}

    def _fired(self, s: Subject, edge: float, kind: str) -> dict[str, Any] | None:
        """The one command the edge issued (judged on time and input), or None."""
        mode = s.rule_mode if kind == "rising" else s.default_mode
        new = self._new(s)
        timely = [c for c in new if edge - 1.0 <= (_ts(c.get("createdAt")) or 0.0) <= edge + EDGE_BOUND_S]
        self.ctx.case()
        if len(timely) != 1:
            self._fail_commands(s, f"the {kind} edge did not issue exactly one command within "
                                f"{EDGE_BOUND_S:g} s", new,
                                expected=f"one {s.slug} {json.dumps(mode)} created in [{iso(edge)}, "
                                f"{iso(edge + EDGE_BOUND_S)}]")
            return None
        c = timely[0]
        if c.get("command") != s.slug or c.get("input") != mode:
            which = "the rule's mode" if kind == "rising" else "the default mode"
            self._fail_commands(s, f"the {kind} edge's command does not carry {which}", new,
                                expected=f"{s.slug} with input {json.dumps(mode)}")
        return c

    def _settled(self, s: Subject, c: dict[str, Any], kind: str) -> None:
        r = self.ctx.api.get(f"/v1/commands/{c['id']}")
        now = _json(r) if r.status_code == 200 else None
        status = now.get("status") if isinstance(now, dict) else None
        expect = s.rule_expect if kind == "rising" else s.default_expect
        truth = self.ctx.sim.truth(s.twin.device_id)
        writes = self.ctx.sim.events(since_seq=self.baseline_seq, device_id=s.twin.device_id)["events"]
        self.ctx.case()
        if status != "completed":
            self.ctx.fail("GET /v1/commands/{commandId}", f"the {kind} edge's command did not complete",
                          expected=f"completed within {SETTLE_MAX_S:g} s",
                          observed=f"{r.status_code}: status {status!r}, reason {(now or {}).get('reason')!r}",
                          subject=f"command {c['id']} of {s.label()}", curl=self.ctx.api.last_curl)
        elif not shown(expect, truth, writes):
            self.ctx.fail("GET /v1/commands/{commandId}", f"the {kind} edge's command completed but the "
                          "device's truth does not show its mode", expected=describe(expect),
                          observed=observed(expect, truth), subject=f"command {c['id']} of {s.label()}",
                          curl=self.ctx.api.last_curl)
        edge = self.rising if kind == "rising" else self.falling
        early = [e for e in writes if float(e.get("received_s") or 0.0) < self.rising]
        if kind == "rising" and early:
            self.ctx.fail("vendor writes", "the device received a vendor write before the rising edge",
                          expected=f"no write to {s.twin.device_id} before {iso(edge)}",
                          observed=", ".join(f"{e.get('command')} at {e.get('received')}" for e in early[:5]),
                          subject=s.label(), curl="")
        got = self.ctx.api.get(f"/v1/devices/{s.id}/schedule/{s.schedule_id}")
        shown_by = _json(got) if got.status_code == 200 else None
        self.ctx.case()
        if not isinstance(shown_by, dict) or shown_by.get("lastCommandId") != c["id"] or not _same_instant(
                shown_by.get("lastEdgeAt"), edge, slack_s=EDGE_BOUND_S):
            self.ctx.fail("GET /v1/devices/{deviceId}/schedule/{scheduleId}", f"after the {kind} edge the schedule "
                          "does not name the edge and its command", expected=f"lastEdgeAt {iso(edge)}, "
                          f"lastCommandId {c['id']}", observed=f"{got.status_code} {got.text[:300]}",
                          subject=s.label(), curl=self.ctx.api.last_curl)

    def _elsewhere(self) -> None:
        """Vendor writes since the schedules were made went to the scheduled devices only."""
        events = self.ctx.sim.events(since_seq=self.baseline_seq)["events"]
        stray = sorted({str(e.get("device_id")) for e in events} - self.groups)
        self.ctx.case()
        if stray:
            self.ctx.fail("vendor writes", "devices without a schedule received vendor writes while the schedules ran",
                          expected=f"writes to {', '.join(sorted(self.groups))} only",
                          observed=f"writes to {', '.join(stray)}", curl="")

    def _running_speed(self) -> float | None:
        """Simulated seconds per wall second when the world's clock runs by itself (None: a manual clock)."""
        clock = self.ctx.sim.clock()
        speed = float(clock.get("speed") or 0.0)
        return speed if clock.get("mode") == "scaled" and not clock.get("paused") and speed > 0 else None

    # -- reads --------------------------------------------------------------------------------
    def _commands(self, s: Subject) -> list[dict[str, Any]]:
        r = self.ctx.api.get(f"/v1/devices/{s.id}/commands", params={"perPage": 100})
        body_ = _json(r)
        if r.status_code != 200 or not isinstance(body_, dict):
            self.ctx.fail(LIST, "the device's commands could not be listed", expected="200 with a page of commands",
                          observed=f"{r.status_code} {r.text[:300]}", subject=s.label())
            return []
        return [c for c in body_.get("data") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]

    def _new(self, s: Subject) -> list[dict[str, Any]]:
        return [c for c in self._commands(s) if c["id"] not in s.known_commands]

    def _status(self, c: dict[str, Any]) -> str | None:
        r = self.ctx.api.get(f"/v1/commands/{c['id']}")
        answer = _json(r)
        return answer.get("status") if r.status_code == 200 and isinstance(answer, dict) else None

    def _fail_commands(self, s: Subject, message: str, found: list[dict[str, Any]], *, expected: str) -> None:
        seen = "; ".join(f"{c.get('command')} {json.dumps(c.get('input'))} created {c.get('createdAt')}"
                         for c in found) or "no new command"
        self.ctx.fail(LIST, message, expected=expected, observed=seen, subject=s.label(),
                      curl=self.ctx.api.curl_for("GET", f"/v1/devices/{s.id}/commands", params={"perPage": 100}))


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _ts(value: Any) -> float | None:
    try:
        return parse_ts(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _same_instant(value: Any, t: float, *, slack_s: float = 1.0) -> bool:
    at = _ts(value)
    return at is not None and abs(at - t) <= slack_s


__all__ = ["EDGE_BOUND_S", "EdgeRun"]
