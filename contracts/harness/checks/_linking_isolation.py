"""Linking, part 5: workspaces and scoped keys never see each other's data.

* a second workspace (``POST /v1/workspaces``) gets its own ``api`` key: with it, every list is empty and
  every id of this workspace (devices, their history, customers, their devices, sites) answers 404;
* a ``scoped`` key of one ``referenceId`` lists exactly that referenceId's devices, reads them, gets 403
  on another referenceId's device and on every operation outside device reads and commands;
* a revoked key answers 401. Both new keys are revoked at the end.
"""

from __future__ import annotations

from typing import Any

from ..engine import Context
from ..http import Http
from ._linking_world import Names, Snapshot, call, customer_text, device_text, expect

LISTS = (("/v1/devices", "GET /v1/devices"), ("/v1/customers", "GET /v1/customers"), ("/v1/sites", "GET /v1/sites"))
# operations outside a scoped key's reach (contract: 403 "on anything else")
NOT_FOR_SCOPED = (("GET", "/v1/customers", "GET /v1/customers"), ("GET", "/v1/sites", "GET /v1/sites"),
                  ("GET", "/v1/api-keys", "GET /v1/api-keys"), ("GET", "/v1/workspace", "GET /v1/workspace"))


def other_workspace(ctx: Context, snap: Snapshot, names: Names) -> None:
    a = call(ctx.api, "POST", "/v1/workspaces", "POST /v1/workspaces", body={"name": names.reference("workspace")})
    if not expect(ctx, a, 201, "a new workspace", "creating a second workspace failed"):
        return
    key = (a.body.get("apiKey") or {}).get("key")
    if not key:
        ctx.fail(a.operation, "a new workspace came without its first api key", expected="apiKey.key",
                 observed=str(a.body)[:300], subject="a new workspace", curl=a.curl)
        return
    other = ctx.client(key)
    subject = f"workspace {a.body.get('id')} (another workspace's key)"
    for path, op in LISTS:
        got = call(other, "GET", path, op, params={"perPage": 100})
        ctx.case()
        if expect(ctx, got, 200, subject, "another workspace's key could not list") and (
                got.body.get("data") or got.body.get("totalItems")):
            ctx.fail(op, "another workspace's key lists this workspace's data", expected="an empty page",
                     observed=f"{got.body.get('totalItems')} items, e.g. {str(got.body.get('data'))[:200]}",
                     subject=subject, curl=got.curl)
    for path, op in _foreign_ids(ctx, snap):
        got = call(other, "GET", path, op)
        ctx.case()
        if got.status != 404:
            ctx.fail(op, "another workspace's key reached an id of this workspace", expected="HTTP 404",
                     observed=f"HTTP {got.status}: {str(got.body)[:200]}", subject=f"{subject}: {path}",
                     curl=got.curl)
    _revoke(ctx, other, a.body["apiKey"], subject)


def _foreign_ids(ctx: Context, snap: Snapshot) -> list[tuple[str, str]]:
    """A seeded sample of this workspace's ids, as the paths that read them."""
    n = max(ctx.max_examples, 1)
    devices = sorted(snap.devices)
    customers = sorted(snap.customers)
    sites = sorted({str(d["siteId"]) for d in snap.devices.values() if d.get("siteId")})
    out: list[tuple[str, str]] = []
    for d in ctx.rng.sample(devices, min(n, len(devices))):
        out += [(f"/v1/devices/{d}", "GET /v1/devices/{deviceId}"),
                (f"/v1/devices/{d}/history", "GET /v1/devices/{deviceId}/history")]
    for c in ctx.rng.sample(customers, min(n, len(customers))):
        out += [(f"/v1/customers/{c}", "GET /v1/customers/{customerId}"),
                (f"/v1/customers/{c}/devices", "GET /v1/customers/{customerId}/devices")]
    for s in ctx.rng.sample(sites, min(n, len(sites))):
        out.append((f"/v1/sites/{s}", "GET /v1/sites/{siteId}"))
    return out


def scoped_key(ctx: Context, snap: Snapshot, names: Names) -> None:
    refs = sorted({str(d["referenceId"]) for d in snap.devices.values() if d.get("referenceId")})
    if len(refs) < 2:
        ctx.note("fewer than two referenceIds among the devices: scoped keys not judged")
        return
    ref = ctx.rng.choice(refs)
    a = call(ctx.api, "POST", "/v1/api-keys", "POST /v1/api-keys",
             body={"kind": "scoped", "referenceId": ref, "name": names.reference("scoped")})
    if not expect(ctx, a, 201, f"a scoped key of {ref}", "creating a scoped key failed") or not a.body.get("key"):
        return
    scoped = ctx.client(a.body["key"])
    subject = f"scoped key {a.body.get('id')} of referenceId {ref}"
    mine = {i for i, d in snap.devices.items() if d.get("referenceId") == ref}
    _sees_only_its_own(ctx, scoped, mine, subject)
    own = snap.devices[ctx.rng.choice(sorted(mine))]
    foreign = snap.devices[ctx.rng.choice(sorted(set(snap.devices) - mine))]
    for d, status in ((own, 200), (foreign, 403)):
        for suffix, op in (("", "GET /v1/devices/{deviceId}"), ("/history", "GET /v1/devices/{deviceId}/history")):
            got = call(scoped, "GET", f"/v1/devices/{d['id']}{suffix}", op)
            ctx.case()
            expect(ctx, got, status, f"{subject}: {device_text(d)} (referenceId {d.get('referenceId')})",
                   "a scoped key reaches exactly the devices of its referenceId")
    owner = next((c for c in snap.customers.values() if c.get("referenceId") == ref), None)
    checks = list(NOT_FOR_SCOPED)
    if owner is not None:
        checks.append(("GET", f"/v1/customers/{owner['id']}", "GET /v1/customers/{customerId}"))
    for method, path, op in checks:
        got = call(scoped, method, path, op)
        ctx.case()
        expect(ctx, got, 403, subject if owner is None or "{" not in op else f"{subject}: {customer_text(owner)}",
               "a scoped key may only read its devices and command them (403 on anything else)")
    escalate = call(scoped, "POST", "/v1/api-keys", "POST /v1/api-keys", body={"kind": "api"})
    ctx.case()
    if not expect(ctx, escalate, 403, subject, "a scoped key may not create keys") and escalate.status == 201:
        ctx.api.delete(f"/v1/api-keys/{escalate.body.get('id')}")
    _revoke(ctx, ctx.api, a.body, subject, probe=scoped)


def _sees_only_its_own(ctx: Context, scoped: Http, mine: set[str], subject: str) -> None:
    seen: list[dict[str, Any]] = []
    for page in range(1, 100):
        got = call(scoped, "GET", "/v1/devices", "GET /v1/devices", params={"page": page, "perPage": 100})
        if not expect(ctx, got, 200, subject, "a scoped key could not list its devices"):
            return
        seen += got.body.get("data") or []
        if page >= int(got.body.get("totalPages") or 0) or not got.body.get("data"):
            break
    ids = {d.get("id") for d in seen}
    ctx.case()
    if ids != mine:
        ctx.fail("GET /v1/devices", "a scoped key's device list is not exactly its referenceId's devices",
                 expected=f"{len(mine)} devices: {sorted(mine)}",
                 observed=f"{len(ids)} devices; foreign {sorted(str(i) for i in ids - mine)[:5]}, "
                 f"missing {sorted(mine - ids)[:5]}", subject=subject, curl=got.curl)


def _revoke(ctx: Context, owner: Http, key: dict[str, Any], subject: str, probe: Http | None = None) -> None:
    """Revoke a key the check made (with a key of its workspace); it must then answer 401."""
    a = call(owner, "DELETE", f"/v1/api-keys/{key.get('id')}", "DELETE /v1/api-keys/{keyId}")
    if not expect(ctx, a, 204, subject, "revoking the check's own key failed"):
        return
    after = call(probe or owner, "GET", "/v1/devices", "GET /v1/devices")
    ctx.case()
    expect(ctx, after, 401, subject, "a revoked key still works")
