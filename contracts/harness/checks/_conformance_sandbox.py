"""Real ids for generated requests, and the guard that keeps them from wrecking the sandbox.

Random ids only ever reach the 404 branches, so most positive cases get a real id of the workspace
instead (``REAL_SHARE``). The records that existed before the run (devices, sites, customers, keys)
belong to the later checks: a mutating request aimed at one of them is redirected to a site and a
customer the run created itself, or to an id that was never issued.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from ..engine import Context, contract
from . import _schedules_conformance as schedules
from . import _webhooks_conformance as destinations

# share of positive cases whose ids are swapped for real ones (the rest exercise the 404 branches)
REAL_SHARE = 0.7
# the run's own records carry this referenceId prefix, so a rerun against the same server reuses them
OWN_PREFIX = "gridtwin-conformance"
# writes that change nothing the later checks read keep their real ids: commands (the commands check
# judges only its own), tags, new keys and new workspaces, Connect links (nothing is linked until a person
# walks the flow)
SAFE_WRITES = {("PUT", "/v1/devices/{deviceId}/tags"), ("POST", "/v1/api-keys"), ("POST", "/v1/workspaces"),
               ("POST", "/v1/connections")}
ID_ALPHABET = string.ascii_lowercase + string.digits
# records of the programs area the run protects (path parameters instanceId, enrollmentId, leadId)
PROGRAM_KINDS = ("instance", "enrollment", "lead")


def never_issued(rng: random.Random) -> str:
    """An id shaped like the API's (``c`` + 24 characters) that no server will have issued."""
    return "c" + "".join(rng.choice(ID_ALPHABET) for _ in range(24))


@dataclass
class Sandbox:
    """What the run aims at: real ids per path parameter, and the run's own site, customer and key."""

    rng: random.Random
    pools: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> real ids
    by_type: dict[str, list[str]] = field(default_factory=dict)  # device type -> device ids
    protected: dict[str, set[str]] = field(default_factory=dict)  # "device" | "site" | "customer" | "key"
    # "site" | "customer" | "key" | "command" (and its "commandDevice") | "tag"
    own: dict[str, str] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)

    # -- generated cases ------------------------------------------------------------------------
    def prepare(self, case: Any) -> None:
        """Swap generated ids for real ones in most positive cases (a negative case keeps its broken parts)."""
        meta = case.meta
        if meta is not None and meta.generation.mode.is_negative:
            return
        params = case.path_parameters or {}
        for name in list(params):
            pool = self.pools.get(name)
            if pool and self.rng.random() < REAL_SHARE:
                params[name] = self.rng.choice(pool)
        body = case.body
        if case.path.startswith("/v1/commands/") and isinstance(body, dict) and "deviceId" in body:
            ids = self.by_type.get(case.path.split("/")[3])
            if ids and self.rng.random() < REAL_SHARE:
                body["deviceId"] = self.rng.choice(ids)
        schedules.prepare(self, case)

    def guard(self, case: Any) -> None:
        """Redirect a mutating request away from the records that existed before the run."""
        method = case.method.upper()
        schedules.guard(self, case)
        destinations.guard(self, case)
        if method == "GET" or case.path.startswith("/v1/commands/") or (method, case.path) in SAFE_WRITES:
            return
        params = case.path_parameters or {}
        deleting_device = method == "DELETE" and case.path == "/v1/devices/{deviceId}"
        for name, value in list(params.items()):
            params[name] = self._redirect(value, delete_device=deleting_device and name == "deviceId")
        if isinstance(case.body, (dict, list)):
            body = self._redirect_body(case.body)
            if body != case.body:
                case.body = body

    def _redirect(self, value: Any, *, delete_device: bool = False, in_body: bool = False) -> Any:
        if not isinstance(value, str):
            return value
        if value in self.protected.get("site", ()):
            return self.own.get("site") or never_issued(self.rng)
        if value in self.protected.get("customer", ()):
            return self.own.get("customer") or never_issued(self.rng)
        if value in self.protected.get("key", ()):
            return self.own.get("key") or never_issued(self.rng)
        for kind in PROGRAM_KINDS:  # program instances, enrollments, leads
            if value in self.protected.get(kind, ()):
                return self.own.get(kind) or never_issued(self.rng)
        # a real device in a link body would move to the run's own site or customer; a deleted one is gone
        if value in self.protected.get("device", ()) and (delete_device or in_body):
            return never_issued(self.rng)
        return value

    def _redirect_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            return {k: self._redirect_body(v) for k, v in body.items()}
        if isinstance(body, list):
            return [self._redirect_body(v) for v in body]
        return self._redirect(body, in_body=True)

    # -- ids for the domain checks --------------------------------------------------------------
    def real(self, name: str) -> str:
        """A real id for a path parameter (the first of its pool), or one never issued."""
        pool = self.pools.get(name)
        return pool[0] if pool else never_issued(self.rng)

    def for_write(self, name: str, path: str) -> str:
        """An id a mutating request may carry: the run's own record, or one never issued."""
        own = {"siteId": "site", "customerId": "customer", "keyId": "key", "destinationId": "destination",
               **{f"{kind}Id": kind for kind in PROGRAM_KINDS}}.get(name)
        if own and own in self.own:
            return self.own[own]
        if name == "deviceId" and path != "/v1/devices/{deviceId}":
            return self.real(name)  # unlinking a real device from the run's own site or customer is harmless
        return never_issued(self.rng)


def build(ctx: Context) -> Sandbox:
    """Discover the workspace over the API and create the run's own customer, site, key, command and tag."""
    box = Sandbox(rng=random.Random(f"{ctx.seed}:conformance-ids"))
    api = ctx.api
    box.devices = api.pages("/v1/devices")
    sites, customers, keys = api.pages("/v1/sites"), api.pages("/v1/customers"), api.pages("/v1/api-keys")
    box.protected = {"device": {d["id"] for d in box.devices}, "site": _theirs(sites), "customer": _theirs(customers),
                     "key": {k["id"] for k in keys}}
    for d in box.devices:
        box.by_type.setdefault(d["type"], []).append(d["id"])
    # one device per type first, so real-id cases cover every state schema
    firsts = [ids[0] for ids in box.by_type.values()]
    box.pools["deviceId"] = firsts + [d["id"] for d in box.devices if d["id"] not in firsts]
    # the records with the most devices first: the lists walked for pagination are then the longest
    box.pools["siteId"] = [s["id"] for s in sorted(sites, key=_device_count, reverse=True)]
    box.pools["customerId"] = [c["id"] for c in sorted(customers, key=_device_count, reverse=True)]
    # GET /v1/metrics/{metric}: a name, not an id (every one, so the auth sweep reaches a real handler)
    box.pools["metric"] = list(contract()["components"]["schemas"]["MetricName"]["enum"])
    _own_records(ctx, box)
    schedules.records(ctx, box)
    destinations.records(ctx, box, OWN_PREFIX)
    _program_records(ctx, box)
    return box


def restore(ctx: Context, box: Sandbox) -> None:
    """Undo what would act on its own after the run: the schedules it made fire commands at their edges,
    the destinations it made receive events."""
    schedules.restore(ctx, box)
    destinations.restore(ctx, box)


def _device_count(row: dict[str, Any]) -> int:
    return len(row.get("deviceIds") or [])


def _theirs(rows: list[dict[str, Any]]) -> set[str]:
    """Ids of the records not made by an earlier conformance run."""
    return {r["id"] for r in rows if not str(r.get("referenceId") or "").startswith(OWN_PREFIX)}


def _own_records(ctx: Context, box: Sandbox) -> None:
    ref = f"{OWN_PREFIX}-{ctx.seed}"
    customer = _create(ctx, "/v1/customers", {"referenceId": ref, "email": f"{ref}@example.org",
                                              "firstName": "Conformance", "lastName": "Run"}, ref)
    site = _create(ctx, "/v1/sites", {
        "referenceId": ref, "name": "conformance", "customerId": customer,
        "address": {"streetOne": f"{ctx.seed % 100000} Conformance Way", "city": "Testville", "state": "CA",
                    "postalCode": "99999", "country": "US"}}, ref)
    key = _create(ctx, "/v1/api-keys", {"kind": "connect", "name": ref})
    found, command = _some_command(ctx, box), None
    if found is not None:
        command, box.own["commandDevice"] = found
    for kind, value in (("customer", customer), ("site", site), ("key", key), ("command", command)):
        if value is not None:
            box.own[kind] = value
            box.pools.setdefault(f"{kind}Id", []).append(value)
    box.own["tag"] = _some_tag(ctx, box)
    box.pools["tag"] = [box.own["tag"]]


def _create(ctx: Context, path: str, body: dict[str, Any], ref: str | None = None) -> str | None:
    """Create one of the run's own records; on 409 (a rerun with this seed made it) find it by referenceId.

    Without it, writes aimed at real records go to ids never issued instead, so the run goes on.
    """
    r = ctx.api.post(path, body)
    if r.status_code == 201:
        return str(r.json()["id"])
    failed, curl = r, ctx.api.last_curl
    if r.status_code == 409 and ref is not None:
        found = ctx.api.get(path, params={"referenceId": ref})
        if found.status_code == 200 and found.json().get("data"):
            return str(found.json()["data"][0]["id"])
    ctx.fail(f"POST {path}", "the run could not create its own record (writes then aim at ids never issued)",
             expected="201 with the new record, or 409 and the record found by its referenceId",
             observed=f"{failed.status_code} {failed.text[:300]}", curl=curl)
    return None


def _program_records(ctx: Context, box: Sandbox) -> None:
    """Programs, their instances, enrollments and leads: real ids for their path parameters, the ones that
    existed before the run protected, and the run's own instance, lead and enrollment to aim writes at."""
    api, ref = ctx.api, f"{OWN_PREFIX}-{ctx.seed}"
    programs = api.pages("/v1/programs")
    instances, enrollments = api.pages("/v1/programInstances"), api.pages("/v1/enrollments")
    leads = api.pages("/v1/leads")
    box.pools["programSlug"] = [p["slug"] for p in programs]
    mine = {i["id"] for i in instances if str(i.get("slug") or "").startswith(OWN_PREFIX)}
    my_leads = {x["id"] for x in leads if str(x.get("email") or "").startswith(OWN_PREFIX)}
    box.protected["instance"] = {i["id"] for i in instances} - mine
    box.protected["lead"] = {x["id"] for x in leads} - my_leads
    box.protected["enrollment"] = {e["id"] for e in enrollments if e.get("programInstanceId") not in mine
                                   and e.get("leadId") not in my_leads}
    box.pools["instanceId"] = [i["id"] for i in instances if i["id"] not in mine]
    box.pools["enrollmentId"] = sorted(box.protected["enrollment"])
    box.pools["leadId"] = sorted(box.protected["lead"])
    instance = _own_instance(ctx, box, programs, instances, ref)
    lead = next(iter(sorted(my_leads)), None) or _create(ctx, "/v1/leads", {
        "email": f"{ref}@example.org", "firstName": "Conformance", "lastName": "Run", "address1": "1 Conformance Way",
        "city": "Testville", "state": "CA", "postalCode": "99999"})
    enrollment = None
    if instance and lead:
        r = api.post(f"/v1/programInstances/{instance}/enrollments", {"identificationType": "leadId", "leadId": lead})
        held = (r.json().get("details") or {}).get("enrollmentId") if r.status_code == 409 else None
        enrollment = r.json()["id"] if r.status_code == 201 else held
    for kind, value in (("instance", instance), ("lead", lead), ("enrollment", enrollment)):
        if value is not None:
            box.own[kind] = value
            box.pools.setdefault(f"{kind}Id", []).append(value)


def _own_instance(ctx: Context, box: Sandbox, programs: list[dict[str, Any]], instances: list[dict[str, Any]],
                  ref: str) -> str | None:
    """The run's program instance (open to anyone), of the first program; found again on a rerun."""
    for i in instances:
        if i.get("slug") == ref:
            return str(i["id"])
    if not programs:
        ctx.note("no program to make an instance of: writes to program instances aim at ids never issued")
        return None
    return _create(ctx, f"/v1/programs/{programs[0]['slug']}/instances",
                   {"slug": ref, "eligibilityCriteria": {"states": [], "deviceTypes": []}})


def _some_command(ctx: Context, box: Sandbox) -> tuple[str, str] | None:
    """(command id, device id) of an existing command, or of one sent now: a thermostat's fan mode set
    to what it already is."""
    for device in box.devices:
        r = ctx.api.get(f"/v1/devices/{device['id']}/commands", params={"perPage": 1})
        if r.status_code == 200 and r.json()["data"]:
            return str(r.json()["data"][0]["id"]), device["id"]
    for device in box.devices:
        slugs = {c["slug"] for c in device.get("availableCommands") or []}
        if "thermostat:set-fan-mode" in slugs:
            fan = (device.get("state") or {}).get("fanMode") or "auto"
            r = ctx.api.post("/v1/commands/thermostat/set-fan-mode",
                             {"deviceId": device["id"], "input": {"fanMode": fan}})
            if r.status_code in (200, 201):
                return str(r.json()["id"]), device["id"]
    ctx.note("no command to aim GET /v1/commands/{commandId} at: its cases use ids never issued")
    return None


def _some_tag(ctx: Context, box: Sandbox) -> str:
    """A tag in use, or one the run puts on a device (added to its tags, never replacing them)."""
    r = ctx.api.get("/v1/tags", params={"perPage": 1})
    if r.status_code == 200 and r.json()["data"]:
        return str(r.json()["data"][0]["name"])
    tag = OWN_PREFIX
    if box.devices:
        device = box.devices[0]
        ctx.api.put(f"/v1/devices/{device['id']}/tags", {"tags": [*device.get("tags", []), tag]})
    return tag
