"""The events the ``webhooks`` check causes, each with what its delivery must carry.

A customer of the check's own (created, updated twice, deleted), a site of its own (created, renamed,
deleted; linked to no customer, so no event of the one leaks into the other), and one command to a
thermostat (its fan mode switched), whose outcome decides which command event is due. Identities come
from the seed; one taken by an earlier run moves on to the next number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Context
from ._webhooks_judge import Expect

PREFIX = "gridtwin-webhooks"
SETTLE_STEP_S = 60.0
SETTLE_STEPS = 15  # a command not settled in 15 minutes is the commands check's business
MAX_TRIES = 5


@dataclass
class Cause:
    """An expected event, with the curl line of the request that caused it."""

    expect: Expect
    curl: str


@dataclass
class Story:
    causes: list[Cause] = field(default_factory=list)
    chains: list[list[Expect]] = field(default_factory=list)  # per customer or site, in causal order
    notes: list[str] = field(default_factory=list)

    def add(self, ctx: Context, expect: Expect) -> Expect:
        self.causes.append(Cause(expect, ctx.api.last_curl))
        return expect

    def curl_of(self, expect: Expect) -> str:
        return next((c.curl for c in self.causes if c.expect == expect), "")


def _ok(ctx: Context, method: str, path: str, body: Any, want: int, what: str) -> dict[str, Any] | None:
    r = ctx.api.request(method, path, json_body=body)
    if r.status_code != want:
        ctx.fail(f"{method} {path}", f"could not {what}, so its events cannot be judged",
                 expected=f"HTTP {want}", observed=f"{r.status_code} {r.text[:300]}")
        return None
    return r.json() if r.content else {}


def create_customer(ctx: Context, base: str, **fields: Any) -> dict[str, Any] | None:
    """A customer with a fresh referenceId and email under ``base`` (409: the next number)."""
    for n in range(MAX_TRIES):
        ref = f"{base}-{n}"
        r = ctx.api.post("/v1/customers", {"referenceId": ref, "email": f"{ref}@example.org", **fields})
        if r.status_code == 201:
            return dict(r.json())
        if r.status_code != 409:
            break
    ctx.fail("POST /v1/customers", "could not create the check's own customer, so its events cannot be judged",
             expected="HTTP 201", observed=f"{r.status_code} {r.text[:300]}")
    return None


def customer_story(ctx: Context, story: Story, base: str) -> None:
    """created, updated (twice), deleted: four events of one customer, in this order."""
    c = create_customer(ctx, base, firstName="Webhook", lastName="Check")
    if c is None:
        return
    cid, subject = c["id"], f"customer {c['id']} (referenceId {c['referenceId']})"
    path = "/v1/customers/{customerId}"
    chain = [story.add(ctx, Expect("customer.created", (("id", cid),), "POST /v1/customers", subject,
                                   (("referenceId", c["referenceId"]), ("email", c["email"]))))]
    for last in ("Checked", "Double-Checked"):
        if _ok(ctx, "PATCH", f"/v1/customers/{cid}", {"lastName": last}, 200, "update the check's customer") is None:
            return
        chain.append(story.add(ctx, Expect("customer.updated", (("id", cid), ("lastName", last)), f"PATCH {path}",
                                           subject)))
    if _ok(ctx, "DELETE", f"/v1/customers/{cid}", None, 204, "delete the check's customer") is None:
        return
    chain.append(story.add(ctx, Expect("customer.deleted", (("id", cid),), f"DELETE {path}", subject)))
    story.chains.append(chain)


def site_story(ctx: Context, story: Story, base: str) -> None:
    """created, updated, deleted: three events of one site (of no customer), in this order."""
    site = None
    for n in range(MAX_TRIES):
        number = 1000 + (ctx.rng.randrange(8000) + n) % 9000
        r = ctx.api.post("/v1/sites", {"name": f"{base} site", "referenceId": f"{base}-site-{n}", "address": {
            "streetOne": f"{number} Webhook Lane", "city": "Austin", "state": "TX", "postalCode": "78701",
            "country": "US"}})
        if r.status_code == 201:
            site = r.json()
            break
        if r.status_code != 409:
            break
    if site is None:
        ctx.fail("POST /v1/sites", "could not create the check's own site, so its events cannot be judged",
                 expected="HTTP 201", observed=f"{r.status_code} {r.text[:300]}")
        return
    sid, subject, path = site["id"], f"site {site['id']}", "/v1/sites/{siteId}"
    chain = [story.add(ctx, Expect("site.created", (("id", sid),), "POST /v1/sites", subject))]
    if _ok(ctx, "PATCH", f"/v1/sites/{sid}", {"name": f"{base} renamed"}, 200, "rename the check's site") is None:
        return
    chain.append(story.add(ctx, Expect("site.updated", (("id", sid),), f"PATCH {path}", subject,
                                       (("siteName", f"{base} renamed"),))))
    if _ok(ctx, "DELETE", f"/v1/sites/{sid}", None, 204, "delete the check's site") is None:
        return
    chain.append(story.add(ctx, Expect("site.deleted", (("id", sid),), f"DELETE {path}", subject)))
    story.chains.append(chain)


def send_command(ctx: Context, story: Story) -> tuple[str, str, str] | None:
    """Switch a thermostat's fan mode; ``(command id, device id, curl)`` of the first one that takes it."""
    devices = ctx.api.pages("/v1/devices")
    fans = [d for d in devices if "thermostat:set-fan-mode" in {c.get("slug") for c in d.get("availableCommands") or []}
            and d.get("isOnline", True)]
    for d in sorted(fans, key=lambda d: str(d["id"])):
        mode = "auto" if (d.get("state") or {}).get("fanMode") == "on" else "on"
        r = ctx.api.post("/v1/commands/thermostat/set-fan-mode", {"deviceId": d["id"], "input": {"fanMode": mode}})
        if r.status_code in (200, 201):
            return str(r.json()["id"]), str(d["id"]), ctx.api.last_curl
        if r.status_code != 429:  # (rate limited: the next device)
            ctx.fail("POST /v1/commands/thermostat/set-fan-mode", "a thermostat would not take a fan-mode command, "
                     "so command events cannot be judged", expected="HTTP 201", observed=f"{r.status_code} "
                     f"{r.text[:300]}", subject=f"device {d['id']}")
            return None
    story.notes.append("no thermostat took a fan-mode command: command events not judged")
    return None


def settle_command(ctx: Context, story: Story, sent: tuple[str, str, str], advance: Any) -> None:
    """Let time pass until the command is ``completed`` or ``failed``; then its event is due."""
    command_id, device_id, curl = sent
    status = None
    for _ in range(SETTLE_STEPS):
        r = ctx.api.get(f"/v1/commands/{command_id}")
        status = r.json().get("status") if r.status_code == 200 else None
        if status in ("completed", "failed"):
            break
        advance(SETTLE_STEP_S)
    if status not in ("completed", "failed"):
        story.notes.append(f"command {command_id} still {status!r} after {SETTLE_STEPS} minutes: not judged here")
        return
    kind = "command.succeeded" if status == "completed" else "command.failed"
    expect = Expect(kind, (("commandId", command_id),), "POST /v1/commands/thermostat/set-fan-mode",
                    f"command {command_id} to device {device_id}", (("deviceId", device_id),))
    story.causes.append(Cause(expect, curl))
