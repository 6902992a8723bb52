"""The batch half of the ``schedules`` check: one command by tag reaches exactly the compatible devices.

The check puts a tag of its own on every device of two homes (a mix of types and vendors), sends
``thermostat:set-fan-mode`` to the tag, and judges: every tagged device is listed once, exactly those
that offer the command are commanded (the rest skipped with a reason), the batch's reads show each
command's status, the commands complete and the thermostats' truth shows the fan mode, and only the
commanded devices received vendor writes. A tag nobody carries is refused with nothing sent. Afterwards
the fans and the tags are put back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Context
from ..sim import SimDevice

SLUG = "thermostat:set-fan-mode"
HOMES = 2  # devices of this many homes carry the tag
SETTLE_STEP_S = 30.0
SETTLE_MAX_S = 600.0
OPEN = ("pending", "scheduled")
CREATE = "POST /v1/batch-commands"


@dataclass
class BatchRun:
    ctx: Context
    devices: list[dict[str, Any]]
    tag: str
    members: list[dict[str, Any]] = field(default_factory=list)
    tags_before: dict[str, list[str]] = field(default_factory=dict)
    fans_before: dict[str, str] = field(default_factory=dict)  # unified id -> fan mode, of the commanded

    def run(self) -> None:
        twins = self.ctx.sim.by_key()
        twin_of = {d["id"]: twins.get((str(d.get("manufacturer")), str(d.get("manufacturerDeviceId")),
                                       str(d.get("type")))) for d in self.devices}
        homes = sorted({t.home_id for t in twin_of.values() if t is not None})[:HOMES]
        self.members = [d for d in sorted(self.devices, key=lambda d: str(d["id"]))
                        if twin_of[d["id"]] is not None and twin_of[d["id"]].home_id in homes]
        compatible = {d["id"] for d in self.members
                      if SLUG in {c.get("slug") for c in d.get("availableCommands") or []}}
        if not compatible:
            self.ctx.note(f"no device of {', '.join(homes)} offers {SLUG}: batch commands not judged")
            return
        fans = {d: str(self.ctx.sim.truth(twin_of[d].device_id).get("fan_mode")) for d in compatible}  # type: ignore[union-attr]
        fan = "on" if sum(f == "on" for f in fans.values()) * 2 < len(fans) else "auto"
        self.fans_before = fans
        for d in self.members:
            self.tags_before[d["id"]] = list(d.get("tags") or [])
            self.ctx.api.put(f"/v1/devices/{d['id']}/tags", {"tags": [*self.tags_before[d["id"]], self.tag]})
        self._refused_when_nobody_carries_it()
        seq = int(self.ctx.sim.events(since_seq=0)["last_seq"])
        r = self.ctx.api.post("/v1/batch-commands", {"tag": self.tag, "command": {"slug": SLUG,
                                                                                   "input": {"fanMode": fan}}})
        curl = self.ctx.api.last_curl
        self.ctx.case()
        batch = _json(r)
        if r.status_code != 201 or not isinstance(batch, dict) or not isinstance(batch.get("id"), str):
            self.ctx.fail(CREATE, "a batch command to a tag with compatible devices was not accepted",
                          expected="201 with the batch", observed=f"{r.status_code} {r.text[:300]}",
                          subject=f"tag {self.tag}", curl=curl)
            return
        commanded = self._outcomes(batch, compatible, "POST /v1/batch-commands", curl)
        batch = self._settle(batch["id"]) or batch
        self._outcomes(batch, compatible, "GET /v1/batch-commands/{batchId}", self.ctx.api.last_curl)
        self._truth(commanded, twin_of, fan)
        events = self.ctx.sim.events(since_seq=seq)["events"]
        allowed = {twin_of[d].device_id for d in commanded if twin_of[d] is not None}  # type: ignore[union-attr]
        stray = sorted({str(e.get("device_id")) for e in events} - allowed)
        silent = sorted(allowed - {str(e.get("device_id")) for e in events})
        self.ctx.case()
        if stray or silent:
            self.ctx.fail("vendor writes", "the batch's vendor writes did not go to exactly its commanded devices",
                          expected=f"writes to {', '.join(sorted(allowed))}",
                          observed=f"also to {', '.join(stray) or 'none'}; none to {', '.join(silent) or 'none'}",
                          subject=f"batch {batch.get('id')} (tag {self.tag})", curl=curl)

    def restore(self) -> None:
        """The fans as they were, and the tags as they were."""
        api = self.ctx.api
        for device_id, fan in self.fans_before.items():
            if fan in ("auto", "on", "off", "circulate"):
                api.post("/v1/commands/thermostat/set-fan-mode", {"deviceId": device_id, "input": {"fanMode": fan}})
        for device_id, tags in self.tags_before.items():
            api.put(f"/v1/devices/{device_id}/tags", {"tags": tags})
        if self.fans_before:
            self.ctx.sim.advance(2 * SETTLE_STEP_S)

    # -- judgements ---------------------------------------------------------------------------
    def _refused_when_nobody_carries_it(self) -> None:
        seq = int(self.ctx.sim.events(since_seq=0)["last_seq"])
        r = self.ctx.api.post("/v1/batch-commands", {"tag": f"{self.tag}-nobody",
                                                     "command": {"slug": SLUG, "input": {"fanMode": "auto"}}})
        self.ctx.case()
        if r.status_code != 422 or self.ctx.sim.events(since_seq=seq)["events"]:
            self.ctx.fail(CREATE, "a batch command to a tag no device carries was not refused with nothing sent",
                          expected="422, and no vendor write", observed=f"{r.status_code} {r.text[:300]}",
                          subject=f"tag {self.tag}-nobody", curl=self.ctx.api.last_curl)

    def _outcomes(self, batch: dict[str, Any], compatible: set[str], operation: str, curl: str) -> set[str]:
        """Judge the per-device outcomes; the ids the batch commanded."""
        rows = [d for d in batch.get("devices") or [] if isinstance(d, dict)]
        listed = [str(d.get("deviceId")) for d in rows]
        commanded = {str(d.get("deviceId")) for d in rows if d.get("outcome") == "commanded"}
        members = {d["id"] for d in self.members}
        unexplained = [d["deviceId"] for d in rows if d.get("outcome") == "skipped" and not d.get("reason")]
        without_id = [d["deviceId"] for d in rows if d.get("outcome") == "commanded" and not d.get("commandId")]
        self.ctx.case()
        problems = []
        if sorted(listed) != sorted(members):
            problems.append(f"devices listed {sorted(listed)} (expected each tagged device once: {sorted(members)})")
        if commanded != compatible:
            problems.append(f"commanded {sorted(commanded)}")
        if unexplained:
            problems.append(f"skipped without a reason: {unexplained}")
        if without_id:
            problems.append(f"commanded without a commandId: {without_id}")
        if problems:
            self.ctx.fail(operation, "the batch did not command exactly the tag's devices that offer the command",
                          expected=f"commanded {sorted(compatible)} (those listing {SLUG}), every other tagged "
                          "device skipped with a reason", observed="; ".join(problems),
                          subject=f"batch {batch.get('id')} (tag {self.tag})", curl=curl)
        return commanded & compatible

    def _settle(self, batch_id: str) -> dict[str, Any] | None:
        waited, body = 0.0, None
        while waited <= SETTLE_MAX_S:
            r = self.ctx.api.get(f"/v1/batch-commands/{batch_id}")
            body = _json(r) if r.status_code == 200 else None
            statuses = [d.get("commandStatus") for d in (body or {}).get("devices") or []
                        if d.get("outcome") == "commanded"]
            if body is None or not any(s in OPEN for s in statuses):
                break
            self.ctx.sim.advance(SETTLE_STEP_S)
            waited += SETTLE_STEP_S
        if body is None:
            self.ctx.fail("GET /v1/batch-commands/{batchId}", "the batch command could not be read",
                          expected="200 with the batch", observed=f"{r.status_code} {r.text[:300]}",
                          subject=f"batch {batch_id}", curl=self.ctx.api.last_curl)
            return None
        for d in body.get("devices") or []:
            if d.get("outcome") != "commanded" or not d.get("commandId"):
                continue
            c = _json(self.ctx.api.get(f"/v1/commands/{d['commandId']}"))
            self.ctx.case()
            if not isinstance(c, dict) or c.get("status") != d.get("commandStatus") or c.get("status") != "completed":
                self.ctx.fail("GET /v1/batch-commands/{batchId}", "a batch's command did not complete as its "
                              "batch says", expected="completed in both GET /v1/commands/{commandId} and the batch",
                              observed=f"command {c.get('status') if isinstance(c, dict) else c!r}, batch "
                              f"{d.get('commandStatus')!r}", subject=f"command {d['commandId']} of batch {batch_id}",
                              curl=self.ctx.api.last_curl)
        return body

    def _truth(self, commanded: set[str], twin_of: dict[str, SimDevice | None], fan: str) -> None:
        for device_id in sorted(commanded):
            twin = twin_of.get(device_id)
            if twin is None:
                continue
            have = self.ctx.sim.truth(twin.device_id).get("fan_mode")
            self.ctx.case()
            if have != fan:
                self.ctx.fail("POST /v1/batch-commands", "a commanded thermostat's truth does not show the batch's "
                              "fan mode", expected=f"fan_mode {fan!r}", observed=f"fan_mode {have!r}",
                              subject=f"device {device_id} (sim {twin.device_id})", curl="")


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


__all__ = ["BatchRun"]
