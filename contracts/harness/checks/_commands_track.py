"""The commands check's bookkeeping and judgements, shared by every example of its state machine.

The tracker sends commands, follows them to a terminal status across clock advances, and judges each
against the control plane: the device's truth for what it commanded, the event log for the vendor
writes it caused. A group (see ``_commands_fleet``) with no outstanding command is *watched*: any
vendor write it receives then has no accepted command to explain it (a refused command that was sent
anyway, a replay sent twice, a late duplicate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..engine import Context
from ._commands_fleet import Device
from ._commands_truth import Expectation, applied_by_failure, describe, expectation, observed, shown

# A command must be `completed` or `failed` this long (simulated) after it was accepted. The contract
# names no number; the slowest vendor modelled (Enphase: the gateway picks a write up at its 5-minute
# check-in) confirms in about 7 minutes, and the reference gives up with reason `timeout` at 15.
# Five more minutes cover the polling cadence of any implementation.
SETTLE_BOUND_S = 20 * 60.0
# the reset of battery:set-operating-mode restores settings cached within this window (the contract)
RESET_WINDOW_S = 24 * 3600.0
OPEN = ("pending", "scheduled")
# what battery:set-operating-mode sets, and what its reset restores
BATTERY_SETTINGS = ("mode", "reserve_pct")
TERMINAL = ("completed", "failed")
# a write still pending on the device when its command is judged: wait (simulated) for it to take effect
PENDING_STEP_S = 30.0
PENDING_WAITS = 4
# findings of one kind beyond this are counted, not listed (a systematic bug repeats on every command)
MAX_PER_KIND = 3
# actions remembered per watched group, to name what preceded an unexplained write
WATCH_HISTORY = 3


@dataclass
class Command:
    """An accepted command and what is known about it."""

    id: str
    slug: str
    path: str
    body: dict[str, Any]
    key: str
    device: Device
    accepted_s: float
    baseline_seq: int  # events after this one may be its vendor writes
    before: dict[str, Any]  # the holder's truth when it was sent
    expect: Expectation
    curl: str
    status: str = "pending"
    writes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"command {self.id} to {self.device.label()}"

    def request(self) -> str:
        return f"{self.slug} {json.dumps(self.body['input'], separators=(',', ':'))}"


class Tracker:
    def __init__(self, ctx: Context, devices: list[Device], *, key_prefix: str) -> None:
        self.ctx = ctx
        self.devices = devices
        self.key_prefix = key_prefix
        self.group_of = {sim_id: d.key for d in devices for sim_id in d.group}
        self.now_s = ctx.sim.now_s()
        self.last_seq = 0
        self.unknown_history: set[str] = set()
        self.busy: dict[str, Command] = {}
        # group -> what it last went through (the device and the action), newest last
        self.watched: dict[str, list[tuple[Device, str]]] = {}
        # groups with commands still open from before this check (another check's): their late writes
        # (a retry after a vendor's 429) have a cause this check cannot see, so they are not judged
        self.foreign: set[str] = set()
        self.tainted: set[str] = set()  # groups whose command never settled: nothing more is sent there
        self.issued: list[Command] = []  # accepted commands sent with a key (replays pick from these)
        self.settled: dict[str, str] = {}  # command id -> its terminal status
        # per group: (when, the settings an API may have cached then) at each battery operating-mode command
        self.opmode_cache: dict[str, list[tuple[float, dict[str, list[Any]]]]] = {}
        self.faults: list[tuple[str, float]] = []
        self.counts: dict[str, int] = {}
        self.sent = 0
        self._read_history()

    # -- findings ------------------------------------------------------------------------------
    def fail(self, kind: str, operation: str, message: str, *, expected: Any, observed: Any, subject: str,
             curl: str | None = None) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] <= MAX_PER_KIND:
            self.ctx.fail(operation, message, expected=expected, observed=observed, subject=subject, curl=curl)

    def close(self) -> None:
        for kind, n in sorted(self.counts.items()):
            if n > MAX_PER_KIND:
                self.ctx.note(f"{n - MAX_PER_KIND} more findings of kind {kind!r} not listed")

    # -- the event log -------------------------------------------------------------------------
    def _read_history(self) -> None:
        """Start the event cursor, and find the batteries whose operating mode may have been commanded before
        this check (by the API's own command lists, and by vendor writes within the reset window)."""
        log = self.ctx.sim.events(since_seq=0)
        self.last_seq = int(log["last_seq"])
        for e in log["events"]:
            group = self.group_of.get(e["device_id"])
            if group is not None and e["received_s"] >= self.now_s - RESET_WINDOW_S:
                self.unknown_history.add(group)
        for d in self.devices:
            if "battery:set-operating-mode" not in d.offered or d.key in self.unknown_history:
                continue
            r = self.ctx.api.get(f"/v1/devices/{d.id}/commands", params={"perPage": 100})
            page = _json(r) if r.status_code == 200 else None
            listed = page.get("data") if isinstance(page, dict) else None
            # an accepted command may have failed before any write, yet its settings were cached
            if not isinstance(listed, list) or any(
                    isinstance(c, dict) and c.get("command") == "battery:set-operating-mode" for c in listed):
                self.unknown_history.add(d.key)
        self.foreign = {d.key for d in self.devices if d.offered and self._open_before(d)}

    def _open_before(self, device: Device) -> bool:
        r = self.ctx.api.get(f"/v1/devices/{device.id}/commands", params={"status": list(OPEN), "perPage": 1})
        page = _json(r) if r.status_code == 200 else None
        return not isinstance(page, dict) or bool(page.get("data"))

    def recheck_foreign(self) -> None:
        """Forget the groups whose commands from before this check have all ended."""
        self.foreign = {k for k in self.foreign if any(self._open_before(d) for d in self.devices if d.key == k)}

    def sync_events(self) -> None:
        """Read new vendor writes; give each to its group's outstanding command, or judge it unexplained."""
        log = self.ctx.sim.events(since_seq=self.last_seq)
        for e in log["events"]:
            group = self.group_of.get(e["device_id"])
            if group is None:
                continue
            cmd = self.busy.get(group)
            if cmd is not None and e["seq"] > cmd.baseline_seq:
                cmd.writes.append(e)
            elif group in self.watched and group not in self.foreign:
                seen = self.watched[group]
                self.fail("unexplained-write", "GET /_sim/v1/events",
                          f"the device received a vendor write that no accepted command explains "
                          f"(after: {'; '.join(what for _d, what in seen)})",
                          expected="no vendor write", observed=_event_text(e), subject=seen[-1][0].label(),
                          curl=self.ctx.sim.http.last_curl)
        self.last_seq = max(self.last_seq, int(log["last_seq"]))

    def watch(self, device: Device, what: str) -> None:
        """From now on, a vendor write to the device's group needs a cause: ``what`` is the latest action."""
        self.watched[device.key] = [*self.watched.get(device.key, [])[-(WATCH_HISTORY - 1):], (device, what)]

    # -- time ----------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        self.now_s = self.ctx.sim.advance(seconds)
        self.faults = [(f, end) for f, end in self.faults if end > self.now_s]

    def clear_faults(self) -> None:
        for fault_id, _end in self.faults:
            self.ctx.sim.clear_fault(fault_id)
        self.faults = []

    # -- sending -------------------------------------------------------------------------------
    def new_key(self) -> str:
        self.sent += 1
        return f"{self.key_prefix}-{self.sent}"

    def truth(self, device: Device) -> dict[str, Any]:
        return self.ctx.sim.truth(device.holder) if device.holder else {}

    def restorable(self, device: Device) -> list[dict[str, list[Any]]] | None:
        if device.key in self.unknown_history:
            return None
        return [s for t, s in self.opmode_cache.get(device.key, []) if t >= self.now_s - RESET_WINDOW_S]

    def recent_settings(self, device: Device, before: dict[str, Any], staleness_s: float) -> dict[str, list[Any]]:
        """Every battery ``mode`` and ``reserve_pct`` the device had within ``staleness_s`` before now: the
        values an API's cached state may hold (the event log's applied changes, undone from ``before``)."""
        out: dict[str, list[Any]] = {f: [before.get(f)] for f in BATTERY_SETTINGS}
        since = self.now_s - staleness_s
        for e in reversed(self.ctx.sim.events(device_id=device.holder)["events"]):
            if e.get("status") != "applied" or (e.get("effective_s") or 0.0) <= since:
                continue
            for f in BATTERY_SETTINGS:
                change = (e.get("changes") or {}).get(f)
                if change and change.get("old") not in out[f]:
                    out[f].append(change["old"])
        return out

    def track(self, device: Device, slug: str, path: str, body: dict[str, Any], key: str, answer: dict[str, Any],
              before: dict[str, Any], baseline_seq: int, curl: str) -> Command:
        staleness_s = self.ctx.staleness_bound_s(str(device.api.get("manufacturer")))
        recent = None
        if slug == "battery:set-operating-mode" and device.holder:
            recent = self.recent_settings(device, before, staleness_s)
        expect, note = expectation(slug, body["input"], before, staleness_s=staleness_s, recent=recent,
                                   restorable=self.restorable(device))
        if note:
            self.ctx.note(f"{device.label()}: {note}")
        if recent is not None:
            self.opmode_cache.setdefault(device.key, []).append((self.now_s, recent))
        cmd = Command(str(answer["id"]), slug, path, body, key, device, self.now_s, baseline_seq, before, expect,
                      curl, str(answer.get("status")))
        self.busy[device.key] = cmd
        self.watched.pop(device.key, None)
        self.issued.append(cmd)
        return cmd

    # -- following -----------------------------------------------------------------------------
    def poll_all(self) -> None:
        """Read every outstanding command once, then judge those that reached a terminal status."""
        done = []
        for cmd in list(self.busy.values()):
            answer = self.read(cmd)
            if answer is not None and answer["status"] in TERMINAL:
                done.append((cmd, answer))
        self.sync_events()
        for cmd, answer in done:
            self.finish(cmd, answer)
        for cmd in list(self.busy.values()):
            if self.now_s - cmd.accepted_s > SETTLE_BOUND_S:
                self.fail("unsettled", f"GET /v1/commands/{cmd.id}",
                          f"the command is still {cmd.status!r} {self.now_s - cmd.accepted_s:.0f} simulated s after it "
                          f"was accepted ({cmd.request()})",
                          expected=f"completed or failed within {SETTLE_BOUND_S:.0f} s", observed=cmd.status,
                          subject=cmd.subject, curl=self.ctx.api.curl_for("GET", f"/v1/commands/{cmd.id}"))
                del self.busy[cmd.device.key]
                self.tainted.add(cmd.device.key)

    def read(self, cmd: Command) -> dict[str, Any] | None:
        """GET the command; judge the answer's shape; None when it cannot be followed."""
        r = self.ctx.api.get(f"/v1/commands/{cmd.id}")
        body = _json(r)
        ok = r.status_code == 200 and isinstance(body, dict) and body.get("id") == cmd.id
        if not ok or body.get("status") not in OPEN + TERMINAL:
            self.fail("bad-read", "GET /v1/commands/{commandId}", "reading an accepted command failed",
                      expected=f"200 with id {cmd.id} and a status of {', '.join(OPEN + TERMINAL)}",
                      observed=f"{r.status_code} {r.text[:300]}", subject=cmd.subject)
            return None
        cmd.status = body["status"]
        return body

    def finish(self, cmd: Command, answer: dict[str, Any]) -> None:
        """Judge a command that reached ``completed`` or ``failed``; its group becomes watched."""
        self.ctx.case()
        del self.busy[cmd.device.key]
        self.settled[cmd.id] = answer["status"]
        self.watch(cmd.device, f"command {cmd.id} ({cmd.request()}) {answer['status']}")
        if answer["status"] == "completed":
            self._judge_completed(cmd)
        else:
            self._judge_failed(cmd, answer)

    def _judge_completed(self, cmd: Command) -> None:
        if cmd.device.holder is None or not cmd.expect:
            return
        op = f"POST {cmd.path}"
        # a device already in the requested state needs no write (a vendor may refuse a no-op, e.g. Nest)
        if not cmd.writes and not shown(cmd.expect, cmd.before):
            self.fail("completed-unsent", op, f"the command is `completed` but the device never received a vendor "
                      f"write after it was accepted ({cmd.request()})",
                      expected="at least one vendor write in /_sim/v1/events", observed="no event for "
                      + ", ".join(sorted(cmd.device.group)), subject=cmd.subject, curl=cmd.curl)
        truth = self.truth(cmd.device)
        if not shown(cmd.expect, truth, cmd.writes):
            # a setpoint may have been taken back by the schedule since: the applied write is the evidence
            # (the whole group's: a vehicle's charge start or stop is written to its charger)
            writes = self.group_writes(cmd)
            # a vendor may confirm a write the device has not applied yet (Wallbox with no car connected
            # cannot show a pause at all): judge the device once its writes have taken effect
            for _ in range(PENDING_WAITS):
                if not any(e.get("status") == "pending" for e in writes):
                    break
                self.advance(PENDING_STEP_S)
                writes = self.group_writes(cmd)
                truth = self.truth(cmd.device)
            if not shown(cmd.expect, truth, writes):
                self.fail("completed-untrue", op, f"the command is `completed` but the device's truth does not show "
                          f"what it asked for ({cmd.request()})", expected=describe(cmd.expect),
                          observed=observed(cmd.expect, truth), subject=cmd.subject, curl=cmd.curl)

    def group_writes(self, cmd: Command) -> list[dict[str, Any]]:
        return [e for e in self.ctx.sim.events(since_seq=cmd.baseline_seq)["events"]
                if e.get("device_id") in cmd.device.group]

    def _judge_failed(self, cmd: Command, answer: dict[str, Any]) -> None:
        reason = answer.get("reason")
        op = f"GET /v1/commands/{cmd.id}"
        if not isinstance(reason, str) or not reason.strip():
            self.fail("failed-no-reason", op, f"the command `failed` without a reason ({cmd.request()})",
                      expected="a non-empty reason", observed=repr(reason), subject=cmd.subject,
                      curl=self.ctx.api.curl_for("GET", f"/v1/commands/{cmd.id}"))
        if cmd.device.holder is None or not cmd.expect:
            return
        truth = self.truth(cmd.device)
        verdict = applied_by_failure(cmd.expect, cmd.before, truth)
        if verdict in ("all", "part"):  # a failed command leaves truth as it was: not even half of it
            what = "everything" if verdict == "all" else "part of what"
            self.fail("failed-applied", f"POST {cmd.path}", f"the command `failed` ({reason}) but the device now "
                      f"shows {what} it asked for, changed since it was sent ({cmd.request()})",
                      expected=f"the commanded fields unchanged: {observed(cmd.expect, cmd.before)}",
                      observed=observed(cmd.expect, truth), subject=cmd.subject, curl=cmd.curl)


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _event_text(e: dict[str, Any]) -> str:
    return (f"seq {e['seq']} {e['device_id']} {e['command']} {json.dumps(e.get('params'), separators=(',', ':'))} "
            f"received {e.get('received')} ({e.get('status')})")


__all__ = ["MAX_PER_KIND", "OPEN", "SETTLE_BOUND_S", "TERMINAL", "Command", "Tracker"]
