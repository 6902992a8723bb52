"""The ``webhooks`` check: every event that should fire reaches a destination exactly once (after dedup by
``key``), signed, in the contract's envelope and in order; a redelivery after a failure is the same event.

1. The check starts its own receiver on loopback and registers it as a destination with its own secret,
   subscribed to customer, site, command and ``device.updated`` events (anything else arriving breaks
   the filter).
2. It causes events (``_webhooks_story``): its own customer and site, created, updated and deleted, and
   one thermostat command; it lets simulated time pass through the control plane.
3. Every request received is judged (``_webhooks_judge``): HMAC over the exact body bytes, a
   ``Texture-Timestamp``, compact JSON, the envelope; every event caused arrived exactly once with the
   right data; per customer and per site in the order caused, per device never back in time.
4. Retries: the receiver answers 500 to the first two attempts of a second customer's events. Each must
   come again with the same key and bytes, backing off, and the customer's update only after its
   creation got through; the delivery log shows the attempts.
5. The destination is deleted; an event after that must not arrive.

The story is fixed (``max_examples`` does not change it) and takes a few simulated minutes.
"""

from __future__ import annotations

from typing import Any

from ..engine import Context
from ..http import curl
from . import _webhooks_judge as judge
from ._webhooks_receiver import Hit, Receiver
from ._webhooks_story import PREFIX, Story, create_customer, customer_story, send_command, settle_command, site_story

NAME = "webhooks"
SUBSCRIBED = ("CUSTOMER_CREATED", "CUSTOMER_UPDATED", "CUSTOMER_DELETED", "SITE_CREATED", "SITE_UPDATED",
              "SITE_DELETED", "COMMAND_SUCCEEDED", "COMMAND_FAILED", "DEVICE_UPDATED")
FAILED_FIRST = 2  # the retry phase answers 500 to this many attempts of each of its events
DELIVER_STEP_S = 10.0
RETRY_STEPS_S = (10.0, 45.0, 60.0, 60.0, 60.0, 120.0, 240.0)  # enough for 30 s, 60 s backoffs twice over


def run(ctx: Context) -> None:
    receiver = Receiver().start()
    try:
        _run(ctx, receiver)
    finally:
        receiver.stop()


def _run(ctx: Context, receiver: Receiver) -> None:
    token = f"{ctx.seed}-{ctx.rng.getrandbits(32):08x}"
    secret = f"whsec_gridtwin_{token}"
    manual = ctx.sim.clock().get("mode") == "manual"

    def advance(seconds: float) -> None:
        ctx.sim.advance(seconds)
        if not manual:  # a served API delivers on its own schedule: let what is in flight land
            receiver.wait_quiet()

    ctx.progress("registering the check's receiver as a destination")
    dest = _create_destination(ctx, receiver.url, secret)
    if dest is None:
        return
    subscribed = {judge.dot_form(t) for t in SUBSCRIBED}
    retried: list[judge.Expect] = []
    story = Story()
    made: list[str] = []  # the retry phase's customer, deleted after the destination
    try:
        ctx.progress("causing events: a customer, a site, a command")
        customer_story(ctx, story, f"{PREFIX}-{token}")
        site_story(ctx, story, f"{PREFIX}-{token}")
        sent = send_command(ctx, story)
        if sent is not None:
            settle_command(ctx, story, sent, advance)
        advance(DELIVER_STEP_S)
        ctx.progress("judging what arrived")
        _judge_story(ctx, story, receiver.snapshot())
        ctx.progress("retries: the receiver fails the first attempts")
        retried = _retry_phase(ctx, receiver, token, advance, made)
        _judge_log(ctx, dest["id"], retried, receiver.snapshot())
    finally:
        deleted = _delete(ctx, dest["id"])
        _after_delete(ctx, receiver, made, advance, judged=deleted)
    hits = receiver.snapshot()
    _judge_requests(ctx, hits, secret, subscribed)
    _judge_device_order(ctx, hits)
    keys = {h.key for h in hits if h.accepted}
    ctx.note(f"{len(hits)} deliveries received, {len(keys)} events after dedup by key; "
             f"{len(story.causes)} events caused and judged, {len(retried)} through retries")
    for note in story.notes:
        ctx.note(note)


def _create_destination(ctx: Context, url: str, secret: str) -> dict[str, Any] | None:
    body = {"label": "gridtwin contract harness", "url": url, "secret": secret, "eventTypes": list(SUBSCRIBED),
            "headers": {"X-Gridtwin-Check": NAME}}
    r = ctx.api.post("/v1/destinations", body)
    ctx.case()
    if r.status_code != 201:
        ctx.fail("POST /v1/destinations", "could not register a destination, so no webhook can be judged",
                 expected="HTTP 201 with the destination", observed=f"{r.status_code} {r.text[:300]}")
        return None
    dest = dict(r.json())
    shown = {"url": dest.get("url"), "secret": dest.get("secret"), "eventTypes": sorted(dest.get("eventTypes") or [])}
    want = {"url": url, "secret": secret, "eventTypes": sorted(SUBSCRIBED)}
    if shown != want:
        ctx.fail("POST /v1/destinations", "the new destination does not show what it was created with (the secret in "
                 "full, only in this answer)", expected=repr(want), observed=repr(shown), subject=str(dest.get("id")))
    return dest


def _judge_story(ctx: Context, story: Story, hits: list[Hit]) -> None:
    groups = {c.expect: judge.arrivals(c.expect, hits) for c in story.causes}
    for cause in story.causes:
        ctx.case()
        for f in judge.once_findings(groups[cause.expect]):
            ctx.fail(cause.expect.operation, f.message, expected=f.expected, observed=f.observed,
                     subject=cause.expect.subject, curl=cause.curl)
    for chain in story.chains:
        ctx.case()
        for f in judge.order_findings([groups[e] for e in chain]):
            ctx.fail(chain[-1].operation, f.message, expected=f.expected, observed=f.observed,
                     subject=chain[0].subject, curl=story.curl_of(chain[0]))


def _retry_phase(ctx: Context, receiver: Receiver, token: str, advance: Any, made: list[str]) -> list[judge.Expect]:
    """A second customer's creation and update, each refused twice by the receiver: both must come again."""
    base = f"{PREFIX}-{token}-retry"
    receiver.fail = lambda hit, attempt: str(hit.data.get("referenceId") or "").startswith(base) and (
        attempt < FAILED_FIRST)
    c = create_customer(ctx, base, firstName="Retry")
    if c is None:
        return []
    made.append(str(c["id"]))
    created_curl = ctx.api.last_curl
    r = ctx.api.patch(f"/v1/customers/{c['id']}", {"lastName": "Retried"})
    if r.status_code != 200:
        ctx.fail("PATCH /v1/customers/{customerId}", "could not update the retry phase's customer",
                 expected="HTTP 200", observed=f"{r.status_code} {r.text[:300]}")
        return []
    subject = f"customer {c['id']} (referenceId {c['referenceId']}; its events refused twice by the receiver)"
    created = judge.Expect("customer.created", (("id", c["id"]),), "POST /v1/customers", subject)
    updated = judge.Expect("customer.updated", (("id", c["id"]), ("lastName", "Retried")),
                           "PATCH /v1/customers/{customerId}", subject)
    curls = {created: created_curl, updated: ctx.api.last_curl}
    for step in RETRY_STEPS_S:
        advance(step)
        if all(judge.arrivals(e, receiver.snapshot()).first is not None for e in (created, updated)):
            break
    hits = receiver.snapshot()
    groups = [judge.arrivals(e, hits) for e in (created, updated)]
    for got in groups:
        ctx.case()
        for f in judge.once_findings(got) + judge.retry_findings(got, FAILED_FIRST):
            ctx.fail(got.expect.operation, f.message, expected=f.expected, observed=f.observed, subject=subject,
                     curl=curls[got.expect])
    for f in judge.order_findings(groups):
        ctx.fail(updated.operation, f.message + " (the creation was being retried)", expected=f.expected,
                 observed=f.observed, subject=subject, curl=curls[updated])
    receiver.fail = lambda _hit, _attempt: False
    return [created, updated]


def _judge_log(ctx: Context, dest_id: str, retried: list[judge.Expect], hits: list[Hit]) -> None:
    """The delivery log lists each retried event, delivered, with every attempt counted."""
    for expect in retried:
        got = judge.arrivals(expect, hits)
        first = got.first
        if first is None or len(got.keys) != 1:
            continue  # (already reported)
        attempts = len(got.keys[str(first.key)])
        path = f"/v1/destinations/{dest_id}/deliveries"
        rows = ctx.api.pages(path, {"status": "delivered"}, most=500)
        ctx.case()
        row = next((d for d in rows if d.get("eventKey") == first.key), None)
        observed = None if row is None else {k: row.get(k) for k in ("status", "attempts", "eventType")}
        want = {"status": "delivered", "attempts": attempts, "eventType": expect.type}
        if observed != want or (row is not None and row.get("payload") != first.envelope):
            ctx.fail("GET /v1/destinations/{destinationId}/deliveries", f"the delivery log does not show "
                     f"{expect.describe()} as the receiver saw it", expected=f"{want} and the payload received",
                     observed=repr(observed), subject=expect.subject)


def _delete(ctx: Context, dest_id: str) -> bool:
    """Delete the check's destination; whether it is gone."""
    r = ctx.api.delete(f"/v1/destinations/{dest_id}")
    ctx.case()
    if r.status_code != 204:
        ctx.fail("DELETE /v1/destinations/{destinationId}", "the check could not delete its destination",
                 expected="HTTP 204", observed=f"{r.status_code} {r.text[:300]}", subject=dest_id)
        return False
    r = ctx.api.get(f"/v1/destinations/{dest_id}")
    if r.status_code != 404:
        ctx.fail("GET /v1/destinations/{destinationId}", "a deleted destination is still there",
                 expected="HTTP 404", observed=f"{r.status_code} {r.text[:300]}", subject=dest_id)
        return False
    return True


def _after_delete(ctx: Context, receiver: Receiver, made: list[str], advance: Any, *, judged: bool) -> None:
    """Delete the retry phase's customer: with the destination gone, its event must not arrive."""
    for customer_id in made:
        if ctx.api.delete(f"/v1/customers/{customer_id}").status_code != 204 or not judged:
            continue
        advance(DELIVER_STEP_S)
        ctx.case()
        late = [h for h in receiver.snapshot() if h.type == "customer.deleted" and h.data.get("id") == customer_id]
        if late:
            ctx.fail("DELETE /v1/destinations/{destinationId}", "an event that happened after the destination was "
                     "deleted was delivered to it", expected="nothing more", observed=late[0].describe(),
                     subject=f"customer {customer_id}")


def _judge_requests(ctx: Context, hits: list[Hit], secret: str, subscribed: set[str]) -> None:
    """Every request as a receiver sees it; one finding per kind of problem (the first request showing it)."""
    first: dict[str, tuple[Hit, judge.Finding]] = {}
    for hit in hits:
        ctx.case()
        for f in judge.request_findings(hit, secret, subscribed):
            first.setdefault(f.message, (hit, f))
    for hit, f in first.values():
        ctx.fail(f"POST {hit.path} (webhook {hit.type})", f.message, expected=f.expected, observed=f.observed,
                 subject=hit.describe(), curl=_replay(hit))


def _judge_device_order(ctx: Context, hits: list[Hit]) -> None:
    reported: set[str] = set()
    for device, f in judge.device_order_findings(hits):
        if device not in reported:  # one finding per device
            reported.add(device)
            ctx.fail("webhook deliveries", f.message, expected=f.expected, observed=f.observed,
                     subject=f"device {device}", curl="")


def _replay(hit: Hit) -> str:
    """A curl line that sends the receiver exactly what the API sent (to replay it against a receiver)."""
    headers = {k: v for k, v in hit.headers.items() if k in ("texture-signature", "texture-timestamp")}
    return curl("POST", f"http://127.0.0.1{hit.path}", headers, hit.envelope)
