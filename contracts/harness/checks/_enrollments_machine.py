"""Enrollments, part 2: the status machine (changeEnrollmentStatus) and the events it writes.

The contract's moves: ``candidate → eligible | ineligible``, ``eligible → submitted``, ``submitted →
approved | rejected``, ``approved → unenrolled``. A legal move answers 200 in the new status and sticks;
any other request answers 409 naming the current status in ``details.status``, and a fresh read shows the
status unchanged. Each enrollment's events in its customer's activity feed are exactly one
``enrollment.created`` and one event per applied move (``enrollment.submitted|approved|rejected``, else
``enrollment.status_changed``), each with the status it moved to.

Two drivers: a sweep that walks every status and requests every illegal move there (so one bad pair is
always found), and Hypothesis-drawn sequences that mix legal and arbitrary requests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from ..engine import Context, contract
from ._enrollments_people import enroll
from ._enrollments_world import Made, World
from ._linking_world import call, expect

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "candidate": ("eligible", "ineligible"), "eligible": ("submitted",), "submitted": ("approved", "rejected"),
    "approved": ("unenrolled",), "ineligible": (), "rejected": (), "unenrolled": (),
}
EVENTS = {"submitted": "enrollment.submitted", "approved": "enrollment.approved", "rejected": "enrollment.rejected"}
MOVE = "POST /v1/enrollments/{enrollmentId}/status"
READ = "GET /v1/enrollments/{enrollmentId}"
FEED = "GET /v1/customers/{customerId}/activity"
# the sweep's walks: (instance, moves); together they stand in every status
WALKS = (("manual", ("ineligible",)), ("manual", ("eligible", "submitted", "approved", "unenrolled")),
         ("auto", ("submitted", "rejected")))
# requests per drawn sequence, at most
STEPS = 8


def statuses() -> list[str]:
    return list(contract()["components"]["schemas"]["EnrollmentStatus"]["enum"])


def event_type(status: str) -> str:
    return EVENTS.get(status, "enrollment.status_changed")


@dataclass
class Judge:
    """Findings once per kind of defect and move (a broken move is reported once, however often it is tried)."""

    ctx: Context
    seen: set[tuple[str, ...]] = field(default_factory=set)
    requests: int = 0

    def fail(self, key: tuple[str, ...], operation: str, message: str, **kw: Any) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self.ctx.fail(operation, message, **kw)


@dataclass
class Tracked:
    """One enrollment under test: the status the contract says it is in, and the moves that applied.

    After a finding it is ``tainted``: what the API says next follows from a defect already reported, so
    the walk over it ends there and its events are not judged (one defect, one finding).
    """

    id: str
    initial: str
    status: str
    moves: list[tuple[str, str]] = field(default_factory=list)
    tainted: bool = False

    @property
    def subject(self) -> str:
        return f"enrollment {self.id}"


def request(ctx: Context, judge: Judge, t: Tracked, to: str) -> None:
    """Ask for ``to`` and judge the answer against the machine, and a fresh read against the answer."""
    before = t.status
    a = call(ctx.api, "POST", f"/v1/enrollments/{t.id}/status", MOVE, body={"status": to, "reason": "contract check"})
    ctx.case()
    judge.requests += 1
    body = a.body if isinstance(a.body, dict) else {}
    if to in TRANSITIONS[before]:
        if a.status != 200 or body.get("status") != to:
            _finding(judge, t, ("legal", before, to), MOVE, f"a legal move {before} -> {to} was not applied",
                     expected=f"HTTP 200 with status {to}", observed=f"HTTP {a.status}: {str(a.body)[:300]}",
                     curl=a.curl)
            return
        t.status = to
        t.moves.append((before, to))
        _read(ctx, judge, t, f"a legal move {before} -> {to} did not stick", ("stick", before, to))
        return
    if a.status == 200:
        _finding(judge, t, ("illegal", before, to), MOVE, f"an illegal move {before} -> {to} was accepted",
                 expected=f"HTTP 409 naming status {before}", observed=f"HTTP 200 with status {body.get('status')}",
                 curl=a.curl)
        return
    named = (body.get("details") or {}).get("status")
    if a.status != 409 or named != before:
        _finding(judge, t, ("refusal", before, to), MOVE, f"an illegal move {before} -> {to} was not refused with "
                 "409 naming the current status", expected=f"HTTP 409 with details.status {before}",
                 observed=f"HTTP {a.status}: {str(a.body)[:300]}", curl=a.curl)
        return
    _read(ctx, judge, t, f"a refused move {before} -> {to} changed the enrollment's status", ("changed", before, to))


def _finding(judge: Judge, t: Tracked, key: tuple[str, ...], operation: str, message: str, **kw: Any) -> None:
    t.tainted = True
    judge.fail(key, operation, message, subject=t.subject, **kw)


def _read(ctx: Context, judge: Judge, t: Tracked, message: str, key: tuple[str, ...]) -> None:
    a = call(ctx.api, "GET", f"/v1/enrollments/{t.id}", READ)
    ctx.case()
    now = a.body.get("status") if a.status == 200 and isinstance(a.body, dict) else None
    if now != t.status:
        _finding(judge, t, key, READ, message, expected=f"status {t.status}", observed=f"HTTP {a.status}: status {now}",
                 curl=a.curl)


def start(ctx: Context, w: World, made: Made, which: str) -> Tracked | None:
    """The run's customer enrolled in the ``auto`` or ``manual`` instance (eligible, or candidate)."""
    instance = w.auto if which == "auto" else w.manual
    want = "eligible" if which == "auto" else "candidate"
    body = {"identificationType": "customerId", "customerId": w.customer["id"]}
    a = enroll(ctx, made, instance, body)
    if not expect(ctx, a, 201, f"customer {w.customer['id']}", "enrolling the run's customer failed"):
        return None
    status = str(a.body.get("status"))
    ctx.case()
    if status != want:
        ctx.fail(a.operation, f"a new enrollment in a {which} instance whose criteria the customer meets is not {want}",
                 expected=want, observed=status, subject=f"enrollment {a.body['id']}", curl=a.curl)
    return Tracked(a.body["id"], status, status)


def finish(ctx: Context, judge: Judge, w: World, made: Made, t: Tracked) -> None:
    """Judge the enrollment's events (unless a finding spoilt it), then delete it (204, and 404 afterwards)."""
    if not t.tainted:
        events(ctx, judge, w, t)
    gone = call(ctx.api, "DELETE", f"/v1/enrollments/{t.id}", "DELETE /v1/enrollments/{enrollmentId}")
    ctx.case()
    if expect(ctx, gone, 204, t.subject, "deleting an enrollment failed"):
        made.enrollments.remove(t.id)
        after = call(ctx.api, "GET", f"/v1/enrollments/{t.id}", READ)
        expect(ctx, after, 404, t.subject, "a deleted enrollment still answers")


def events(ctx: Context, judge: Judge, w: World, t: Tracked) -> None:
    """The enrollment's events in its customer's feed: one created, one per applied move, each with its status."""
    cid = w.customer["id"]
    feed = ctx.api.pages(f"/v1/customers/{cid}/activity", {"type": "enrollment"})
    mine = [e for e in feed if (e.get("data") or {}).get("enrollmentId") == t.id]
    got = Counter((e.get("type"), (e.get("data") or {}).get("status")) for e in mine)
    want = Counter([("enrollment.created", t.initial), *((event_type(to), to) for _, to in t.moves)])
    ctx.case()
    if got != want:
        missing, extra = want - got, got - want
        judge.fail(("events", *sorted(f"{k}:{v}" for k, v in (missing + extra))), FEED,
                   "the enrollment's events are not one per change with the status it reached",
                   expected=f"{sorted(want.elements())} (missing {sorted(missing.elements())})",
                   observed=f"{sorted(got.elements())} (unexpected {sorted(extra.elements())})", subject=t.subject,
                   curl=ctx.api.curl_for("GET", f"/v1/customers/{cid}/activity", params={"type": "enrollment"}))


def sweep(ctx: Context, judge: Judge, w: World, made: Made) -> None:
    """Walk into every status and ask there for every move the contract forbids."""
    for which, moves in WALKS:
        t = start(ctx, w, made, which)
        if t is None:
            continue
        for to in (*moves, None):
            for illegal in (s for s in statuses() if s not in TRANSITIONS.get(t.status, ())):
                if not t.tainted:
                    request(ctx, judge, t, illegal)
            if to is not None and not t.tainted:
                request(ctx, judge, t, to)
        finish(ctx, judge, w, made, t)


def sequences(ctx: Context, judge: Judge, w: World, made: Made) -> None:
    """Hypothesis-drawn request sequences (legal moves and arbitrary ones mixed), from the seed alone."""
    everything = statuses()

    @settings(max_examples=ctx.max_examples, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @given(st.data())
    def drawn(data: st.DataObject) -> None:
        t = start(ctx, w, made, data.draw(st.sampled_from(["auto", "manual"]), label="instance"))
        if t is None:
            return
        for _ in range(data.draw(st.integers(1, STEPS), label="steps")):
            if t.tainted:
                break
            legal = TRANSITIONS.get(t.status, ())
            if legal and data.draw(st.booleans(), label="legal move"):
                to = data.draw(st.sampled_from(legal), label="to")
            else:
                to = data.draw(st.sampled_from(everything), label="to")
            request(ctx, judge, t, to)
        finish(ctx, judge, w, made, t)

    seed(ctx.seed)(drawn)()
