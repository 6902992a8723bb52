"""Linking, parts 2 and 4: auto-linking as the contract documents it, and delete-unlinks-never-deletes.

Auto-linking (createSite, SiteCreate, createCustomer, CustomerInput, the 409 responses):

* a site created with a customer's ``referenceId`` joins that customer;
* a site created at a customer's address joins that customer;
* a customer created after a site with their ``referenceId`` picks the site up;
* a second customer with a taken email or referenceId is refused with 409 naming the first
  (``details.customerId``), and a second site at a taken address with 409 naming it (``details.siteId``).

Delete: a customer with a site and a borrowed device is deleted; the site and the device stay, with
``customerId`` null. The device is then linked back to its own site and customer, and everything the
check created is deleted again.
"""

from __future__ import annotations

from typing import Any

from ..engine import Context
from ._linking_world import Names, Snapshot, call, customer_text, device_text, expect

CUSTOMER = "POST /v1/customers"
SITE = "POST /v1/sites"
GET_SITE = "GET /v1/sites/{siteId}"
GET_CUSTOMER = "GET /v1/customers/{customerId}"
GET_DEVICE = "GET /v1/devices/{deviceId}"


class Made:
    """What the check created, deleted at the end whatever happened."""

    def __init__(self) -> None:
        self.customers: list[str] = []
        self.sites: list[str] = []

    def cleanup(self, ctx: Context) -> None:
        for cid in self.customers:
            ctx.api.delete(f"/v1/customers/{cid}")
        for sid in self.sites:
            ctx.api.delete(f"/v1/sites/{sid}")


def _customer(ctx: Context, made: Made, body: dict[str, Any]) -> dict[str, Any] | None:
    a = call(ctx.api, "POST", "/v1/customers", CUSTOMER, body=body)
    if not expect(ctx, a, 201, f"new customer {body.get('referenceId') or body.get('email')}",
                  "creating a customer with a fresh referenceId and email failed"):
        return None
    made.customers.append(a.body["id"])
    return a.body | {"_curl": a.curl}


def _site(ctx: Context, made: Made, body: dict[str, Any]) -> dict[str, Any] | None:
    a = call(ctx.api, "POST", "/v1/sites", SITE, body=body)
    if not expect(ctx, a, 201, f"new site {body.get('referenceId')}", "creating a site at a fresh address failed"):
        return None
    made.sites.append(a.body["id"])
    return a.body | {"_curl": a.curl}


def _linked(ctx: Context, site: dict[str, Any], customer: dict[str, Any] | None, rule: str) -> None:
    """``site`` (as created) belongs to ``customer`` (None: to nobody), by its answer and by a fresh read."""
    want = customer["id"] if customer else None
    subject = f"site {site['id']} ({rule})"
    ctx.case()
    if site.get("customerId") != want:
        ctx.fail(SITE, f"the new site is not linked as auto-linking by {rule} documents", expected=f"customerId {want}",
                 observed=f"customerId {site.get('customerId')}", subject=subject, curl=site["_curl"])
    if customer is None:
        return
    a = call(ctx.api, "GET", f"/v1/customers/{want}", GET_CUSTOMER)
    if expect(ctx, a, 200, customer_text(customer), "the customer could not be read") and \
            site["id"] not in (a.body.get("siteIds") or []):
        ctx.fail(GET_CUSTOMER, f"the customer does not list the site auto-linked to them by {rule}",
                 expected=f"siteIds including {site['id']}", observed=f"siteIds {a.body.get('siteIds')}",
                 subject=customer_text(customer), curl=a.curl)


def auto_linking(ctx: Context, names: Names, made: Made) -> None:
    # by referenceId: customer first, then a site with their referenceId
    a = _customer(ctx, made, {"referenceId": names.reference("a"), "email": names.email("a")})
    if a is not None:
        site = _site(ctx, made, {"referenceId": names.reference("a"), "address": names.address("a")})
        if site is not None:
            _linked(ctx, site, a, "referenceId")
            _conflicts(ctx, a, site, names)
    # by address: a customer with an address, then a site there (its own referenceId matches nobody)
    b = _customer(ctx, made, {"referenceId": names.reference("b"), "email": names.email("b"),
                              "address": names.address("b")})
    if b is not None:
        site = _site(ctx, made, {"referenceId": names.reference("b-site"), "address": names.address("b")})
        if site is not None:
            _linked(ctx, site, b, "address")
    # a stranger's site stays unlinked, until a customer with its referenceId is created
    site = _site(ctx, made, {"referenceId": names.reference("c"), "address": names.address("c")})
    if site is not None:
        _linked(ctx, site, None, "nothing matching")
        c = _customer(ctx, made, {"referenceId": names.reference("c"), "email": names.email("c")})
        if c is not None:
            _picked_up(ctx, c, site)


def _picked_up(ctx: Context, c: dict[str, Any], site: dict[str, Any]) -> None:
    ctx.case()
    if site["id"] not in (c.get("siteIds") or []):
        ctx.fail(CUSTOMER, "a new customer did not pick up the unlinked site with their referenceId",
                 expected=f"siteIds including {site['id']}", observed=f"siteIds {c.get('siteIds')}",
                 subject=customer_text(c), curl=c["_curl"])
    a = call(ctx.api, "GET", f"/v1/sites/{site['id']}", GET_SITE)
    if expect(ctx, a, 200, f"site {site['id']}", "the site could not be read") and a.body.get("customerId") != c["id"]:
        ctx.fail(GET_SITE, "the site with a new customer's referenceId was not linked to them",
                 expected=f"customerId {c['id']}", observed=f"customerId {a.body.get('customerId')}",
                 subject=f"site {site['id']}", curl=a.curl)


def _conflicts(ctx: Context, a: dict[str, Any], site: dict[str, Any], names: Names) -> None:
    """Dedupe: a taken email or referenceId, or a taken address, answers 409 naming the holder."""
    for body, field in (({"email": a["email"]}, "email"),
                        ({"referenceId": a["referenceId"], "email": names.email("a-again")}, "referenceId")):
        ans = call(ctx.api, "POST", "/v1/customers", CUSTOMER, body=body)
        ctx.case()
        holder = (ans.body.get("details") or {}).get("customerId") if isinstance(ans.body, dict) else None
        if ans.status != 409 or holder != a["id"]:
            ctx.fail(CUSTOMER, f"a customer with a taken {field} was not refused as a duplicate of the first",
                     expected=f"HTTP 409 with details.customerId {a['id']}",
                     observed=f"HTTP {ans.status}: {str(ans.body)[:300]}", subject=customer_text(a), curl=ans.curl)
        if ans.status == 201 and isinstance(ans.body, dict):
            ctx.api.delete(f"/v1/customers/{ans.body.get('id')}")
    ans = call(ctx.api, "POST", "/v1/sites", SITE, body={"address": site["address"]})
    ctx.case()
    holder = (ans.body.get("details") or {}).get("siteId") if isinstance(ans.body, dict) else None
    if ans.status != 409 or holder != site["id"]:
        ctx.fail(SITE, "a second site at a taken address was not refused naming the first",
                 expected=f"HTTP 409 with details.siteId {site['id']}",
                 observed=f"HTTP {ans.status}: {str(ans.body)[:300]}", subject=f"site {site['id']}", curl=ans.curl)
    if ans.status == 201 and isinstance(ans.body, dict):
        ctx.api.delete(f"/v1/sites/{ans.body.get('id')}")


# -- delete unlinks, never deletes -----------------------------------------------------------------------
def delete_unlinks(ctx: Context, snap: Snapshot, names: Names, made: Made) -> None:
    placed = sorted((d for d in snap.devices.values() if d.get("customerId") and d.get("siteId")),
                    key=lambda d: str(d["id"]))
    d = ctx.rng.choice(placed) if placed else None
    cust = _customer(ctx, made, {"referenceId": names.reference("d"), "email": names.email("d")})
    if cust is None:
        return
    site = _site(ctx, made, {"referenceId": names.reference("d"), "address": names.address("d"),
                             "customerId": cust["id"]})
    if site is None:
        return
    try:
        if d is not None:
            _borrow(ctx, d, site, cust)
        gone = call(ctx.api, "DELETE", f"/v1/customers/{cust['id']}", "DELETE /v1/customers/{customerId}")
        if not expect(ctx, gone, 204, customer_text(cust), "deleting a customer failed"):
            return
        made.customers.remove(cust["id"])
        ctx.case()
        after = call(ctx.api, "GET", f"/v1/customers/{cust['id']}", GET_CUSTOMER)
        expect(ctx, after, 404, customer_text(cust), "a deleted customer's id still answers")
        _left_unlinked(ctx, GET_SITE, f"/v1/sites/{site['id']}", f"site {site['id']}", cust)
        if d is not None:
            _left_unlinked(ctx, GET_DEVICE, f"/v1/devices/{d['id']}", device_text(d), cust)
    finally:
        if d is not None:
            _give_back(ctx, d)


def _borrow(ctx: Context, d: dict[str, Any], site: dict[str, Any], cust: dict[str, Any]) -> None:
    """Place a pre-connected device at the run's site and give it to the run's customer."""
    for path, body, op in ((f"/v1/sites/{site['id']}/devices", {"deviceIds": [d["id"]]},
                            "POST /v1/sites/{siteId}/devices"),
                           (f"/v1/customers/{cust['id']}/devices", {"deviceIds": [d["id"]]},
                            "POST /v1/customers/{customerId}/devices")):
        a = call(ctx.api, "POST", path, op, body=body)
        expect(ctx, a, 200, device_text(d), "linking a device failed")
    a = call(ctx.api, "GET", f"/v1/devices/{d['id']}", GET_DEVICE)
    ctx.case()
    if expect(ctx, a, 200, device_text(d), "the device could not be read") and \
            (a.body.get("customerId"), a.body.get("siteId")) != (cust["id"], site["id"]):
        ctx.fail(GET_DEVICE, "a device linked to a site and a customer does not say so",
                 expected=f"customerId {cust['id']}, siteId {site['id']}",
                 observed=f"customerId {a.body.get('customerId')}, siteId {a.body.get('siteId')}",
                 subject=device_text(d), curl=a.curl)


def _left_unlinked(ctx: Context, op: str, path: str, subject: str, cust: dict[str, Any]) -> None:
    a = call(ctx.api, "GET", path, op)
    ctx.case()
    if a.status != 200:
        ctx.fail(op, f"deleting customer {cust['id']} deleted what was linked to them (it must only unlink)",
                 expected="HTTP 200, customerId null", observed=f"HTTP {a.status}: {str(a.body)[:200]}",
                 subject=subject, curl=a.curl)
    elif a.body.get("customerId") is not None:
        ctx.fail(op, f"after customer {cust['id']} was deleted, what was linked to them still names a customer",
                 expected="customerId null", observed=f"customerId {a.body.get('customerId')}", subject=subject,
                 curl=a.curl)


def _give_back(ctx: Context, d: dict[str, Any]) -> None:
    """Link the borrowed device to its own site and customer again, and check it is as it was."""
    ctx.api.post(f"/v1/sites/{d['siteId']}/devices", {"deviceIds": [d["id"]]})
    ctx.api.post(f"/v1/customers/{d['customerId']}/devices", {"deviceIds": [d["id"]]})
    a = call(ctx.api, "GET", f"/v1/devices/{d['id']}", GET_DEVICE)
    now = (a.body.get("customerId"), a.body.get("siteId")) if isinstance(a.body, dict) else None
    if a.status != 200 or now != (d["customerId"], d["siteId"]):
        ctx.fail(GET_DEVICE, "a device linked back to its own site and customer is not as it was",
                 expected=f"customerId {d['customerId']}, siteId {d['siteId']}", observed=f"HTTP {a.status}: {now}",
                 subject=device_text(d), curl=a.curl)
