"""The ``commands`` check: commands take effect, or fail with a reason, and the device's truth agrees.

A Hypothesis state machine mixes unified API calls with the control plane's clock: it sends commands
the devices list (inputs drawn from their ``availableCommands`` JSON Schemas), replays them with the
same ``Idempotency-Key``, reuses a key for another body, sends commands a device does not list, takes
devices offline for a while, advances time and polls. Every accepted command must reach ``completed``
or ``failed`` within ``SETTLE_BOUND_S`` simulated seconds; ``completed`` only when the device's truth
shows what was asked and the device received a vendor write; ``failed`` with a reason and without
the change having happened. Refusals (and replays) must never reach the vendor.

Findings go through ``ctx.fail`` and never raise, so Hypothesis never shrinks against the live world:
the seed alone makes a run reproducible.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, precondition, rule

from ..engine import Context
from ._commands_fleet import Device, fleet
from ._commands_inputs import Slug, catalogue, command_input
from ._commands_track import OPEN, SETTLE_BOUND_S, TERMINAL, Tracker

NAME = "commands"

# steps per example; with settling at the end of each, ten examples take about half a minute
STEPS = 40
ADVANCE_S = (30, 600)
# devices commanded in one step
BURST = 3
# settling polls often at first (most vendors confirm within a minute), then every two minutes
SETTLE_STEPS_S = (30, 30, 60, 60, 60, 60)
SETTLE_STEP_LATE_S = 120
OFFLINE_S = (120, 600)
ACCEPTED = (200, 201)
# answers that refuse a listed command: bad for the device's situation (400), a key conflict (409), not
# for this device's vendor (422), or not now (429)
REFUSED = (400, 409, 422, 429)


class _Check:
    """What a run of the machine needs: the tracker, the fleet and the contract's command slugs."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        devices, notes = fleet(ctx.api.pages("/v1/devices"), ctx.sim)
        for n in notes:
            ctx.note(n)
        stamp = int(ctx.sim.now_s())
        self.t = Tracker(ctx, devices, key_prefix=f"gridtwin-commands-{ctx.seed}-{stamp}")
        self.slugs = catalogue()
        self.example = 0

    # -- what may be drawn ---------------------------------------------------------------------
    def free(self) -> list[Device]:
        return [d for d in self.t.devices if d.key not in self.t.busy and d.key not in self.t.tainted]

    def commandable(self) -> list[Device]:
        return [d for d in self.free() if d.offered]

    def unlisted(self, device: Device) -> list[Slug]:
        return [s for s in self.slugs if s.slug not in device.offered]

    # -- actions -------------------------------------------------------------------------------
    def send(self, device: Device, slug: str, path: str, inp: dict[str, Any], *, listed: bool) -> None:
        t, api = self.t, self.ctx.api
        before = t.truth(device) if listed else {}  # a command the device does not list must change nothing
        body, key = {"deviceId": device.id, "input": inp}, t.new_key()
        baseline = t.last_seq
        r = api.post(path, body, headers={"Idempotency-Key": key})
        curl = api.last_curl
        answer = _json(r)
        request = f"{slug} {json.dumps(inp, separators=(',', ':'))}"
        self.ctx.case()
        if r.status_code in ACCEPTED and not listed:
            t.fail("unlisted-accepted", f"POST {path}", f"a command the device does not list was accepted ({request})",
                   expected="422 up front", observed=f"{r.status_code} {r.text[:300]}", subject=device.label(),
                   curl=curl)
        elif r.status_code not in ACCEPTED and not listed:
            if r.status_code not in (422, 429):
                t.fail("unlisted-status", f"POST {path}", f"a command the device does not list was not refused with "
                       f"422 ({request})", expected="422", observed=f"{r.status_code} {r.text[:300]}",
                       subject=device.label(), curl=curl)
            t.watch(device, f"refused {request} ({r.status_code})")
            return
        elif r.status_code in REFUSED:
            t.watch(device, f"refused {request} ({r.status_code})")
            return
        elif r.status_code not in ACCEPTED:
            t.fail("bad-answer", f"POST {path}", f"sending a listed command answered neither an accepted command nor "
                   f"a documented refusal ({request})", expected="201 (or 400/409/422/429)",
                   observed=f"{r.status_code} {r.text[:300]}", subject=device.label(), curl=curl)
            t.watch(device, f"answered {r.status_code} to {request}")
            return
        if not self._accepted_shape(answer, device, slug, path, curl, r.text):
            t.watch(device, f"answered {r.status_code} to {request}")
            return
        cmd = t.track(device, slug, path, body, key, answer, before, baseline, curl)
        if cmd.status in TERMINAL:
            t.sync_events()
            t.finish(cmd, answer)

    def _accepted_shape(self, answer: Any, device: Device, slug: str, path: str, curl: str, text: str) -> bool:
        ok = (isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]
              and answer.get("status") in OPEN + TERMINAL and answer.get("command") == slug
              and answer.get("deviceId") == device.id)
        if not ok:
            self.t.fail("bad-answer", f"POST {path}", "the accepted command's answer does not describe it",
                        expected=f"a Command with an id, command {slug}, deviceId {device.id} and a status of "
                        f"{', '.join(OPEN + TERMINAL)}", observed=text[:300], subject=device.label(), curl=curl)
        return bool(ok)

    def replay(self, cmd: Any) -> None:
        t, api = self.t, self.ctx.api
        r = api.post(cmd.path, cmd.body, headers={"Idempotency-Key": cmd.key})
        answer = _json(r)
        self.ctx.case()
        same = isinstance(answer, dict) and answer.get("id") == cmd.id
        if r.status_code != 200 or not same:
            t.fail("replay", f"POST {cmd.path}", "a retry with the same Idempotency-Key and body did not answer the "
                   f"original command ({cmd.request()})", expected=f"200 with id {cmd.id}",
                   observed=f"{r.status_code} {r.text[:300]}", subject=cmd.subject, curl=api.last_curl)
        elif cmd.id in t.settled and answer.get("status") != t.settled[cmd.id]:
            t.fail("replay", f"POST {cmd.path}", "the replayed command's status moved after it was terminal",
                   expected=t.settled[cmd.id], observed=answer.get("status"), subject=cmd.subject,
                   curl=api.last_curl)
        if cmd.device.key not in t.busy and cmd.device.key not in t.tainted:
            t.watch(cmd.device, f"replay of command {cmd.id} ({cmd.request()})")

    def reuse_key(self, cmd: Any, other: dict[str, Any]) -> None:
        t, api = self.t, self.ctx.api
        body = {**cmd.body, "input": other}
        r = api.post(cmd.path, body, headers={"Idempotency-Key": cmd.key})
        self.ctx.case()
        if r.status_code != 409:
            t.fail("key-reused", f"POST {cmd.path}", f"an Idempotency-Key reused with another body was not refused "
                   f"(first {cmd.request()}, then input {json.dumps(other, separators=(',', ':'))})",
                   expected="409", observed=f"{r.status_code} {r.text[:300]}", subject=cmd.subject,
                   curl=api.last_curl)
        if cmd.device.key not in t.busy and cmd.device.key not in t.tainted:
            t.watch(cmd.device, f"reused key of command {cmd.id} with another body")

    def poll_one(self, cmd: Any) -> None:
        """Read one outstanding command, and find it in its device's list with the same status (or later)."""
        t, api = self.t, self.ctx.api
        answer = t.read(cmd)
        if answer is None:
            return
        r = api.get(f"/v1/devices/{cmd.device.id}/commands", params={"perPage": 100})
        page = _json(r) if r.status_code == 200 else None
        items = page.get("data", []) if isinstance(page, dict) else []
        listed = next((c for c in items if isinstance(c, dict) and c.get("id") == cmd.id), None)
        # newest first: an older command may be past the first page when the device has had many
        beyond = isinstance(page, dict) and page.get("totalItems", 0) > len(items)
        seen = listed.get("status") if listed else None
        if (page is None or (listed is None and not beyond)
                or (listed is not None and seen != answer["status"] and not _later(seen, answer["status"]))):
            t.fail("device-list", "GET /v1/devices/{deviceId}/commands", "the device's command list does not show "
                   "the command as GET /v1/commands/{commandId} does",
                   expected=f"{cmd.id} with status {answer['status']}",
                   observed=f"{r.status_code}: " + (f"status {seen}" if listed else "not listed"),
                   subject=cmd.subject, curl=api.last_curl)
        if answer["status"] in TERMINAL:
            t.sync_events()
            t.finish(cmd, answer)

    def offline(self, device: Device, seconds: int) -> None:
        fault = self.ctx.sim.add_fault({"kind": "offline", "target": device.holder, "duration_s": seconds})
        self.t.faults.append((str(fault["fault_id"]), self.t.now_s + seconds))

    def settle(self) -> None:
        """Advance until every outstanding command is terminal (or found unsettled past the bound)."""
        t, waited, i = self.t, 0.0, 0
        while t.busy and waited <= SETTLE_BOUND_S + SETTLE_STEP_LATE_S:
            step = SETTLE_STEPS_S[i] if i < len(SETTLE_STEPS_S) else SETTLE_STEP_LATE_S
            t.advance(step)
            waited, i = waited + step, i + 1
            t.poll_all()

    def end_example(self) -> None:
        self.settle()
        self.t.clear_faults()
        self.t.sync_events()
        if self.t.foreign:
            self.t.recheck_foreign()
        self.example += 1
        self.ctx.progress(f"example {self.example}: {len(self.t.issued)} commands accepted, "
                          f"{self.ctx.result.cases} cases")


def _later(status: Any, than: str) -> bool:
    """Whether ``status`` is a step after ``than`` (read a moment later: open, then terminal)."""
    return than in OPEN and status in TERMINAL


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def machine(check: _Check) -> type[RuleBasedStateMachine]:
    """The state machine over one run's ``_Check`` (each example starts where the last one settled)."""
    t = check.t

    class CommandsMachine(RuleBasedStateMachine):
        @precondition(lambda self: bool(check.commandable()))
        @rule(data=st.data())
        def send_listed(self, data: st.DataObject) -> None:
            # a few devices at once: commands in flight on several devices (and vendors) together
            devices = data.draw(st.lists(st.sampled_from(check.commandable()), min_size=1, max_size=BURST,
                                         unique_by=lambda d: d.key), label="devices")
            for device in devices:
                slug = data.draw(st.sampled_from(sorted(device.offered)), label="command")
                inp = data.draw(command_input(slug, device.offered[slug]), label="input")
                check.send(device, slug, "/v1/commands/" + slug.replace(":", "/"), inp, listed=True)

        @precondition(lambda self: bool(check.free()))
        @rule(data=st.data())
        def send_unlisted(self, data: st.DataObject) -> None:
            device = data.draw(st.sampled_from(check.free()), label="device")
            other = check.unlisted(device)
            if not other:
                return
            s = data.draw(st.sampled_from(other), label="command")
            inp = data.draw(command_input(s.slug, s.input_schema, anywhere=True), label="input")
            check.send(device, s.slug, s.path, inp, listed=False)

        @precondition(lambda self: bool(t.issued))
        @rule(data=st.data(), same_body=st.booleans())
        def retry(self, data: st.DataObject, same_body: bool) -> None:
            """The same Idempotency-Key again: with the same body (a replay) or another one (a conflict)."""
            pool = t.issued[-20:] if same_body else [
                c for c in t.issued[-20:] if c.id in t.settled and c.device.key not in t.busy]
            if not pool:
                return
            cmd = data.draw(st.sampled_from(pool), label="command")
            if same_body:
                check.replay(cmd)
                return
            other = data.draw(command_input(cmd.slug, cmd.device.offered.get(cmd.slug) or {"type": "object"}),
                              label="input")
            if other != cmd.body["input"]:
                check.reuse_key(cmd, other)

        @rule(seconds=st.integers(*ADVANCE_S))
        def advance(self, seconds: int) -> None:
            t.advance(seconds)
            t.poll_all()

        @precondition(lambda self: bool(t.busy))
        @rule(data=st.data())
        def poll(self, data: st.DataObject) -> None:
            check.poll_one(data.draw(st.sampled_from(sorted(t.busy.values(), key=lambda c: c.id)), label="command"))

        @precondition(lambda self: not t.faults and any(d.holder for d in check.commandable()))
        @rule(data=st.data(), seconds=st.integers(*OFFLINE_S))
        def go_offline(self, data: st.DataObject, seconds: int) -> None:
            device = data.draw(st.sampled_from([d for d in check.commandable() if d.holder]), label="device")
            check.offline(device, seconds)

        def teardown(self) -> None:
            check.end_example()

    return CommandsMachine


def run(ctx: Context) -> None:
    check = _Check(ctx)
    test = get_state_machine_test(machine(check), settings=settings(
        max_examples=ctx.max_examples, stateful_step_count=STEPS, phases=[Phase.generate], derandomize=False,
        database=None, deadline=None, suppress_health_check=list(HealthCheck), print_blob=False,
        verbosity=Verbosity.quiet))
    try:
        seed(ctx.seed)(test)()
    finally:
        check.t.clear_faults()
        check.t.close()
    ctx.note(f"{len(check.t.issued)} commands accepted, {len(check.t.settled)} settled; bound "
             f"{SETTLE_BOUND_S:.0f} simulated s")
