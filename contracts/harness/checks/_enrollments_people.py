"""Enrollments, part 1: who may enroll, and what an enrollment must be told (createEnrollment).

* by ``leadId``, ``customerId`` and ``customerInfo``: 201 in the instance asked for, naming the lead or
  customer; ``customerInfo`` of a new person makes them a customer (readable, with their email), of a
  known email gives the enrollment to the customer who has it;
* eligibility: a person in the instance's state is ``eligible`` at once (``automatic``) or a ``candidate``
  (``manual``); a person elsewhere is ``ineligible`` with a reason;
* an active enrollment holds its place: enrolling the customer again in the instance is 409 naming it;
* an unknown lead, customer or instance is 404;
* missing fields: 400 whose ``details.missing`` lists exactly the fields left out, and nothing is created.
"""

from __future__ import annotations

from typing import Any

from ..engine import Context
from ._conformance_sandbox import never_issued
from ._enrollments_world import ELSEWHERE, REQUIRED, Made, World
from ._linking_world import Answer, call, expect

CREATE = "POST /v1/programInstances/{instanceId}/enrollments"
CREATE_TOP = "POST /v1/enrollments"
GET = "GET /v1/enrollments/{enrollmentId}"
# subsets of the required fields left out together, beyond each one alone
DRAWN_SUBSETS = 3


def enroll(ctx: Context, made: Made, instance: str, body: dict[str, Any]) -> Answer:
    a = call(ctx.api, "POST", f"/v1/programInstances/{instance}/enrollments", CREATE, body=body)
    if a.status == 201 and isinstance(a.body, dict) and a.body.get("id"):
        made.enrollments.append(a.body["id"])
    return a


def _subject(body: dict[str, Any]) -> str:
    kind = body.get("identificationType")
    return f"enrollment by {kind} {body.get(kind) or body.get('email') or ''}".rstrip()


def judge_created(ctx: Context, a: Answer, instance: str, status: str, fields: dict[str, Any],
                  body: dict[str, Any]) -> dict[str, Any] | None:
    """``a`` is a 201 in ``instance`` with ``status`` and ``fields``, and a fresh read agrees."""
    subject = _subject(body)
    ctx.case()
    if not expect(ctx, a, 201, subject, f"enrolling by {body.get('identificationType')} failed"):
        return None
    got = {k: a.body.get(k) for k in ("status", "programInstanceId", *fields)}
    want = {"status": status, "programInstanceId": instance, **fields}
    if got != want:
        ctx.fail(a.operation, "the new enrollment is not what the contract says it is", expected=want,
                 observed=got, subject=subject, curl=a.curl)
    read = call(ctx.api, "GET", f"/v1/enrollments/{a.body['id']}", GET)
    if expect(ctx, read, 200, subject, "a new enrollment could not be read") and read.body.get("status") != a.body[
            "status"]:
        ctx.fail(GET, "a new enrollment reads back with another status", expected=a.body["status"],
                 observed=read.body.get("status"), subject=subject, curl=read.curl)
    return dict(a.body)


def identification(ctx: Context, w: World, made: Made) -> None:
    """The three identification types, eligibility, the place an enrollment holds, and the 404s."""
    c = w.customer
    by_lead = {"identificationType": "leadId", "leadId": w.lead["id"]}
    judge_created(ctx, enroll(ctx, made, w.auto, by_lead), w.auto, "eligible", {"leadId": w.lead["id"]}, by_lead)
    by_customer = {"identificationType": "customerId", "customerId": c["id"]}
    first = judge_created(ctx, enroll(ctx, made, w.auto, by_customer), w.auto, "eligible",
                          {"customerId": c["id"]}, by_customer)
    known = {"identificationType": "customerInfo", **w.names.person("customer")}
    judge_created(ctx, enroll(ctx, made, w.manual, known), w.manual, "candidate", {"customerId": c["id"]}, known)
    _new_person(ctx, w, made)
    _elsewhere(ctx, w, made)
    if first is not None:
        _holds_its_place(ctx, w, made, by_customer, first)
    never = never_issued(ctx.rng)
    for body, instance, what in (({"identificationType": "leadId", "leadId": never}, w.auto, "an unknown lead"),
                                 ({"identificationType": "customerId", "customerId": never}, w.auto,
                                  "an unknown customer"),
                                 (by_lead, never, "an unknown program instance")):
        ctx.case()
        expect(ctx, enroll(ctx, made, instance, body), 404, _subject(body), f"enrolling {what} was not a 404")
    # the customer is free again for the status machine
    for ident in list(made.enrollments):
        ctx.api.delete(f"/v1/enrollments/{ident}")
        made.enrollments.remove(ident)


def _new_person(ctx: Context, w: World, made: Made) -> None:
    info = w.names.person(w.names.fresh())
    body = {"identificationType": "customerInfo", **info}
    e = judge_created(ctx, enroll(ctx, made, w.auto, body), w.auto, "eligible", {}, body)
    if e is None:
        return
    subject = _subject(body)
    cid = e.get("customerId")
    ctx.case()
    if not cid or cid == w.customer["id"]:
        ctx.fail(CREATE, "enrolling a new person by customerInfo did not give the enrollment a new customer",
                 expected="customerId of a new customer", observed=f"customerId {cid}", subject=subject)
        return
    made.customers.append(cid)
    a = call(ctx.api, "GET", f"/v1/customers/{cid}", "GET /v1/customers/{customerId}")
    if expect(ctx, a, 200, subject, "the customer made by enrolling with customerInfo cannot be read") and \
            str(a.body.get("email") or "").lower() != info["email"].lower():
        ctx.fail(a.operation, "the customer made by enrolling with customerInfo has another email",
                 expected=info["email"], observed=a.body.get("email"), subject=subject, curl=a.curl)


def _elsewhere(ctx: Context, w: World, made: Made) -> None:
    label = w.names.fresh()
    lead = call(ctx.api, "POST", "/v1/leads", "POST /v1/leads", body=w.names.lead(label, ELSEWHERE))
    if not expect(ctx, lead, 201, w.names.email(label), "creating a lead failed"):
        return
    made.leads.append(lead.body["id"])
    body = {"identificationType": "leadId", "leadId": lead.body["id"]}
    e = judge_created(ctx, enroll(ctx, made, w.auto, body), w.auto, "ineligible", {}, body)
    ctx.case()
    if e is not None and not (e.get("statusReason") or (e.get("eligibility") or {}).get("reason")):
        ctx.fail(CREATE, "an ineligible enrollment does not say why", expected="a statusReason",
                 observed=e.get("statusReason"), subject=_subject(body))


def _holds_its_place(ctx: Context, w: World, made: Made, body: dict[str, Any], first: dict[str, Any]) -> None:
    a = enroll(ctx, made, w.auto, body)
    ctx.case()
    holder = (a.body.get("details") or {}).get("enrollmentId") if isinstance(a.body, dict) else None
    if a.status != 409 or holder != first["id"]:
        ctx.fail(CREATE, "enrolling a customer again where they hold an active enrollment was not refused naming it",
                 expected=f"HTTP 409 with details.enrollmentId {first['id']}",
                 observed=f"HTTP {a.status}: {str(a.body)[:300]}", subject=_subject(body), curl=a.curl)


# -- missing fields -------------------------------------------------------------------------------------
def _without(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out = {**body, "address": dict(body["address"])}
    for f in fields:
        if f.startswith("address."):
            out["address"].pop(f.split(".", 1)[1], None)
        else:
            out.pop(f, None)
    return out


def missing_fields(ctx: Context, w: World, made: Made) -> None:
    """Every field left out is listed in the 400's ``details.missing``, and nothing is created."""
    before = _count(ctx, w.auto)
    full = {"identificationType": "customerInfo", **w.names.person(w.names.fresh())}
    subsets = [(f,) for f in REQUIRED]
    subsets += [tuple(sorted(ctx.rng.sample(REQUIRED, ctx.rng.randint(2, len(REQUIRED)))))
                for _ in range(DRAWN_SUBSETS)]
    for fields in subsets:
        _refused(ctx, CREATE, f"/v1/programInstances/{w.auto}/enrollments", _without(full, fields), set(fields))
    bare = call(ctx.api, "POST", "/v1/leads", "POST /v1/leads", body={"email": w.names.email("bare")})
    if expect(ctx, bare, 201, w.names.email("bare"), "creating a lead with only an email failed"):
        made.leads.append(bare.body["id"])
        _refused(ctx, CREATE, f"/v1/programInstances/{w.auto}/enrollments",
                 {"identificationType": "leadId", "leadId": bare.body["id"]}, set(REQUIRED) - {"email"})
    _refused(ctx, CREATE, f"/v1/programInstances/{w.auto}/enrollments", {"identificationType": "leadId"}, {"leadId"})
    _refused(ctx, CREATE_TOP, "/v1/enrollments", {"identificationType": "customerId",
                                                  "customerId": w.customer["id"]}, {"programInstanceId"})
    after = _count(ctx, w.auto)
    ctx.case()
    if before is not None and after is not None and after != before:
        ctx.fail("GET /v1/programInstances/{instanceId}/enrollments", "a refused enrollment was created all the same",
                 expected=f"{before} enrollments", observed=f"{after} enrollments", subject=f"instance {w.auto}")


def _refused(ctx: Context, operation: str, path: str, body: dict[str, Any], missing: set[str]) -> None:
    a = call(ctx.api, "POST", path, operation, body=body)
    ctx.case()
    listed = (a.body.get("details") or {}).get("missing") if isinstance(a.body, dict) else None
    if a.status == 201 and isinstance(a.body, dict):
        ctx.api.delete(f"/v1/enrollments/{a.body.get('id')}")
    if a.status != 400 or not isinstance(listed, list) or set(listed) != missing:
        ctx.fail(operation, "an enrollment lacking fields was not refused listing exactly those fields",
                 expected=f"HTTP 400 with details.missing {sorted(missing)}",
                 observed=f"HTTP {a.status}: {str(a.body)[:300]}", subject=_subject(body), curl=a.curl)


def _count(ctx: Context, instance: str) -> int | None:
    r = ctx.api.get(f"/v1/programInstances/{instance}/enrollments", params={"perPage": 1})
    return r.json().get("totalItems") if r.status_code == 200 else None
