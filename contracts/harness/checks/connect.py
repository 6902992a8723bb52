"""The ``connect`` check: Texture Connect links exactly the devices a person selects, and nothing when the
flow fails.

In a fresh workspace (``POST /v1/workspaces``: the sandbox's own accounts stay untouched), over HTTP only:

1. ``POST /v1/connections``, then the hosted flow walked like a person would (``_connect_flow``): the
   contact form, the manufacturer picker, the vendor's own consent page (signing in with the account's
   credentials from the control plane's ``/_sim/v1/accounts``) or its credentials form, and the device
   selection, where a strict subset of the account's devices is chosen;
2. judged: the flow offered every device of the account; it ends in a redirect to ``redirectUrl`` (its
   query kept) with a ``scoped_`` key; the customer is the one the link named; exactly the selected
   devices are linked to them, exist in the workspace, reach the scoped key and carry the tags; one
   ``device.discovered`` per linked device in the customer's activity;
3. the used link opened again ends on an error page and links nothing more;
4. a new link whose consent the person denies ends on an error page (``access_denied``) and links nothing.

The devices it linked are deleted at the end, so the extra workspace stops polling the vendors.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ..engine import Context
from ..http import Http, UnexpectedAnswer
from ..sim import TYPE_OF_KIND
from ._connect_browser import Browser, Landing
from ._connect_flow import Person, Walk, browser_for, create_link, walk

NAME = "connect"
APP = "https://app.gridtwin.invalid/connected"  # never fetched: the walk stops at the redirect
# accounts polled from a second workspace cost the vendor's shared budgets least at these vendors
PREFERRED = ("tesla", "wallbox", "ecobee", "nest", "enphase", "solaredge")
FLOW = "GET /connect/{linkToken}"
FINISH = "POST /connect/{linkToken}/devices"


@dataclass
class Linked:
    link: dict[str, Any]
    reference_id: str
    chosen: set[str]
    device_ids: list[str]


def run(ctx: Context) -> None:
    made = ctx.api.post("/v1/workspaces", {"name": f"gridtwin-connect-{ctx.seed}"})
    if made.status_code != 201:
        ctx.fail("POST /v1/workspaces", "the check connects accounts in a fresh workspace", expected="HTTP 201",
                 observed=f"HTTP {made.status_code}: {made.text[:300]}")
        return
    ws = ctx.client(made.json()["apiKey"]["key"])
    accounts = _accounts(ctx)
    homes = {h["home_id"]: h for h in ctx.sim.homes()}
    tag = f"gridtwin-connect-{ctx.seed}"
    browser = browser_for(ctx, APP)
    try:
        pick = _choose_account(ctx, accounts)
        if pick is None:
            ctx.note("no vendor account to connect")
            return
        ctx.progress(f"connecting a {pick['vendor']} account, selecting a strict subset")
        linked = connect_and_judge(ctx, ws, browser, _person(pick, homes), tag)
        if linked is not None:
            ctx.progress("the used link again")
            reuse(ctx, ws, browser, linked)
        oauth = next((a for a in _ordered(accounts) if a["auth"] == "oauth2"), None)
        if oauth is not None:
            ctx.progress(f"consent denied at {oauth['vendor']}")
            deny(ctx, ws, browser, _person(oauth, homes), f"{tag}-denied", linked)
    finally:
        with contextlib.suppress(UnexpectedAnswer, httpx.HTTPError):  # best effort: the findings stand
            for d in _pages(ws, "/v1/devices"):
                ws.delete(f"/v1/devices/{d['id']}")
        browser.client.close()
    ctx.note(f"connected {pick['account_id'] if pick else 'nothing'} in a fresh workspace; run {tag}")


# -- the successful connection ----------------------------------------------------------------------------
def connect_and_judge(ctx: Context, ws: Http, browser: Browser, person: Person, tag: str) -> Linked | None:
    link = create_link(ctx, ws, {"redirectUrl": f"{APP}?run={tag}", "referenceId": tag, "tags": [tag],
                                 "clientName": "gridtwin contract harness"})
    if link is None:
        return None
    subject = f"connection {link['linkToken'][:12]}… (referenceId {tag}, {person.vendor} account)"

    def pick(offered: list[str]) -> list[str]:
        if len(offered) < 2:
            return list(offered)
        return sorted(ctx.rng.sample(offered, ctx.rng.randint(1, len(offered) - 1)))

    w = walk(browser, link["linkUrl"], person, pick)
    ctx.case()
    if not w.offered:
        _fail_walk(ctx, w, subject, "the flow reaches a device selection page", "a page with device checkboxes")
        return None
    missing = person.device_keys - set(w.offered)
    if missing:
        ctx.fail(FLOW, "device selection offers every device of the connected account", subject=subject,
                 expected=sorted(person.device_keys), observed=sorted(w.offered), curl=w.curl())
    ctx.case()
    if not isinstance(w.end, Landing):
        _fail_walk(ctx, w, subject, "finishing the flow redirects to redirectUrl with the scoped key",
                   f"a 303 to {APP}?run={tag}&texture_scoped_key=scoped_…")
        return None
    query = parse_qs(urlsplit(w.end.url).query)
    scoped = (query.get("texture_scoped_key") or [""])[0]
    if not w.end.url.startswith(APP + "?") or query.get("run") != [tag] or not scoped.startswith("scoped_"):
        ctx.fail(FINISH, "the redirect keeps redirectUrl and its query and adds texture_scoped_key=scoped_…",
                 subject=subject, expected=f"{APP}?run={tag}&texture_scoped_key=scoped_…", observed=w.end.url,
                 curl=w.curl())
    chosen = set(w.chosen)
    ctx.case()
    customer = _the_customer(ctx, ws, link, tag, subject)
    linked_ids = judge_links(ctx, ws, customer, chosen, tag, subject, scoped if scoped.startswith("scoped_") else None)
    return Linked(link, tag, chosen, linked_ids)


def judge_links(ctx: Context, ws: Http, customer: dict[str, Any] | None, chosen: set[str], tag: str, subject: str,
                scoped: str | None) -> list[str]:
    everything = _pages(ws, "/v1/devices")
    ctx.case()
    if _keys(everything) != chosen:
        ctx.fail("GET /v1/devices", "the workspace has exactly the selected devices (nothing else discovered "
                 "into it)", subject=subject, expected=sorted(chosen), observed=sorted(_keys(everything)),
                 curl=ws.last_curl)
    if customer is not None:
        own = _pages(ws, f"/v1/customers/{customer['id']}/devices")
        ctx.case()
        if _keys(own) != chosen:
            ctx.fail("GET /v1/customers/{customerId}/devices", "exactly the selected devices are linked to the "
                     "connecting customer", subject=subject, expected=sorted(chosen), observed=sorted(_keys(own)),
                     curl=ws.last_curl)
        events = _pages(ws, f"/v1/customers/{customer['id']}/activity", {"type": "device.discovered"})
        ctx.case()
        found = sorted(str(e.get("deviceId")) for e in events)
        want = sorted(d["id"] for d in everything if _key(d) in chosen)
        if found != want:
            ctx.fail("GET /v1/customers/{customerId}/activity", "one device.discovered per linked device",
                     subject=subject, expected=want, observed=found, curl=ws.last_curl)
    for d in everything:
        ctx.case()
        if tag not in (d.get("tags") or []) or d.get("referenceId") != tag:
            ctx.fail("GET /v1/devices", "a linked device carries the connection's tags and referenceId",
                     subject=f"{subject}, device {d.get('id')}", expected={"tags": [tag], "referenceId": tag},
                     observed={"tags": d.get("tags"), "referenceId": d.get("referenceId")}, curl=ws.last_curl)
    if scoped is not None:
        key_client = ctx.client(scoped)
        visible = _pages(key_client, "/v1/devices")
        ctx.case()
        if _keys(visible) != chosen:
            ctx.fail("GET /v1/devices", "the redirect's scoped key reaches exactly the selected devices",
                     subject=subject, expected=sorted(chosen), observed=sorted(_keys(visible)),
                     curl=key_client.last_curl)
    return [d["id"] for d in everything]


def _the_customer(ctx: Context, ws: Http, link: dict[str, Any], tag: str, subject: str) -> dict[str, Any] | None:
    found = _pages(ws, "/v1/customers", {"referenceId": tag})
    ctx.case()
    if len(found) != 1 or found[0].get("id") != link["customerId"]:
        ctx.fail("GET /v1/customers", "the flow links to the customer POST /v1/connections named", subject=subject,
                 expected=f"one customer {link['customerId']} with referenceId {tag}",
                 observed=[c.get("id") for c in found], curl=ws.last_curl)
    return found[0] if found else None


# -- failures link nothing ----------------------------------------------------------------------------------
def reuse(ctx: Context, ws: Http, browser: Browser, linked: Linked) -> None:
    subject = f"connection {linked.link['linkToken'][:12]}… (referenceId {linked.reference_id}), opened again"
    again = browser.get(linked.link["linkUrl"])
    ctx.case()
    if isinstance(again, Landing) or again.status < 400:
        ctx.fail(FLOW, "a Connect link works once: opened again it shows an error page", subject=subject,
                 expected="HTTP 410 error page (link_used)",
                 observed=f"HTTP {again.status}" + (f" {again.step or ''}" if not isinstance(again, Landing) else ""),
                 curl=f"curl -sS -i {linked.link['linkUrl']}")
    after = _keys(_pages(ws, "/v1/devices"))
    ctx.case()
    if after != linked.chosen:
        ctx.fail("GET /v1/devices", "opening a used link links nothing more", subject=subject,
                 expected=sorted(linked.chosen), observed=sorted(after), curl=ws.last_curl)


def deny(ctx: Context, ws: Http, browser: Browser, person: Person, tag: str, linked: Linked | None) -> None:
    before = linked.chosen if linked is not None else set()
    link = create_link(ctx, ws, {"redirectUrl": f"{APP}?run={tag}", "referenceId": tag, "tags": [tag],
                                 "customerInfo": {**{k: person.contact[k] for k in ("firstName", "lastName",
                                                                                    "email")},
                                                  "location": {k: person.contact[k] for k in (
                                                      "streetOne", "city", "state", "postalCode")}},
                                 "manufacturerFilters": {"manufacturers": [person.vendor]}})
    if link is None:
        return
    subject = f"connection {link['linkToken'][:12]}… (referenceId {tag}), consent denied at {person.vendor}"
    w = walk(browser, link["linkUrl"], person, list, decision="deny")
    ctx.case()
    end = w.end
    if isinstance(end, Landing) or end.status < 400 or end.error_code != "access_denied":
        observed = end.url if isinstance(end, Landing) else f"HTTP {end.status} {end.error_code or end.step or ''}"
        ctx.fail("GET /connect/callback", "consent denied at the vendor ends the flow on an error page "
                 "(data-error-code access_denied)", subject=subject,
                 expected="HTTP 403 error page, data-error-code access_denied", observed=observed, curl=w.curl())
    now = _keys(_pages(ws, "/v1/devices"))
    customers = _pages(ws, "/v1/customers", {"referenceId": tag})
    owned = [d for c in customers for d in _pages(ws, f"/v1/customers/{c['id']}/devices")]
    ctx.case()
    if now != before or owned:
        ctx.fail("GET /v1/devices", "a denied consent links nothing", subject=subject,
                 expected=sorted(before), observed={"workspace": sorted(now), "customer": sorted(_keys(owned))},
                 curl=ws.last_curl)


# -- small parts ----------------------------------------------------------------------------------------------
def _accounts(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for v in ctx.sim.accounts().get("vendors") or []:
        for a in v.get("accounts") or []:
            out.append({**a, "vendor": v["vendor"], "auth": v.get("auth")})
    return out


def _ordered(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {v: i for i, v in enumerate(PREFERRED)}
    return sorted(accounts, key=lambda a: (rank.get(a["vendor"], len(rank)), a["account_id"]))


def _choose_account(ctx: Context, accounts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An account with two devices or more (so a strict subset exists), preferring consent-page vendors."""
    ordered = _ordered(accounts)
    several = [a for a in ordered if len(a.get("devices") or []) >= 2]
    return next((a for a in several if a["auth"] == "oauth2"), None) or (several or ordered or [None])[0]


def _person(account: dict[str, Any], homes: dict[str, dict[str, Any]]) -> Person:
    home = homes.get(account["home_id"], {})
    first, _, last = str(home.get("name") or "Alex Doe").partition(" ")
    contact = {"firstName": first, "lastName": last or "Doe", "email": str(home.get("email") or account["email"]),
               "phone": str(home.get("phone") or ""), "streetOne": str(home.get("street") or ""),
               "city": str(home.get("city") or ""), "state": str(home.get("state") or ""),
               "postalCode": str(home.get("postal_code") or ""), "country": "US"}
    keys = {f"{TYPE_OF_KIND.get(d['kind'], d['kind'])}:{d['vendor_device_id']}" for d in account.get("devices") or []}
    return Person(contact, account["vendor"], dict(account.get("credentials") or {}), keys)


def _key(d: dict[str, Any]) -> str:
    return f"{d.get('type')}:{d.get('manufacturerDeviceId')}"


def _keys(devices: list[dict[str, Any]]) -> set[str]:
    return {_key(d) for d in devices}


def _pages(client: Http, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return client.pages(path, params)


def _fail_walk(ctx: Context, w: Walk, subject: str, message: str, expected: str) -> None:
    end = w.end
    observed = (end.url if isinstance(end, Landing) else
                f"HTTP {end.status} at {end.url.split('?')[0]} ({end.error_code or end.step or end.title})")
    ctx.fail(FLOW, message, subject=subject, expected=expected,
             observed=f"{observed}; pages: {' → '.join(w.pages)}", curl=w.curl())
