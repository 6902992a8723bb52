"""Destinations in the conformance run: a real id for ``destinationId``, the destinations that existed
before the run kept out of its writes, no delivery to any address the fuzzer makes up, and every
destination the run made deleted when it ends.

Generated destinations would otherwise receive the workspace's events for the rest of the harness run,
POSTed to whatever URL the fuzzer drew (a real host, on a machine with a network): every URL a create or
update carries is swapped for a loopback port where nothing listens.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..engine import Context

if TYPE_CHECKING:
    from ._conformance_sandbox import Sandbox

# the discard port on loopback: connection refused at once, never anyone else's server
NOWHERE = "http://127.0.0.1:9/gridtwin-conformance"
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_WRITES = {("POST", "/v1/destinations"), ("PATCH", "/v1/destinations/{destinationId}")}


def records(ctx: Context, box: Sandbox, prefix: str) -> None:
    """Note the destinations that exist (protected) and make the run's own, subscribed to an event the
    reference never sends (so its delivery log does not move while the pagination walk reads it)."""
    box.protected["destination"] = {d["id"] for d in _destinations(ctx)}
    r = ctx.api.post("/v1/destinations", {"label": prefix, "url": NOWHERE, "eventTypes": ["ALERT_CREATED"]})
    if r.status_code == 201:
        box.own["destination"] = str(r.json()["id"])
        box.pools["destinationId"] = [box.own["destination"]]
    else:
        ctx.note(f"no destination of the run's own ({r.status_code}): destinationId cases use ids never issued")


def guard(box: Sandbox, case: Any) -> None:
    """Writes to a destination that existed go to the run's own; any URL a write carries goes nowhere."""
    params = case.path_parameters or {}
    if params.get("destinationId") in box.protected.get("destination", ()) and case.method.upper() != "GET":
        params["destinationId"] = box.own.get("destination", params["destinationId"] + "x")
    if (case.method.upper(), case.path) in _WRITES and isinstance(case.body, dict):
        url = case.body.get("url")
        if isinstance(url, str) and _HTTP.match(url):
            case.body = {**case.body, "url": NOWHERE}


def restore(ctx: Context, box: Sandbox) -> None:
    """Delete every destination the run made (its own and the generated ones)."""
    for d in _destinations(ctx):
        if d["id"] not in box.protected.get("destination", ()):
            ctx.api.delete(f"/v1/destinations/{d['id']}")


def _destinations(ctx: Context) -> list[dict[str, Any]]:
    r = ctx.api.get("/v1/destinations", params={"perPage": 100})
    if r.status_code != 200 or not isinstance(r.json(), dict):
        return []  # (the conformance phases report an API without destinations)
    rows = list(r.json().get("data") or [])
    page, total_pages = 1, int(r.json().get("totalPages") or 1)
    while page < min(total_pages, 50):
        page += 1
        more = ctx.api.get("/v1/destinations", params={"perPage": 100, "page": page})
        if more.status_code != 200:
            break
        rows += list(more.json().get("data") or [])
    return rows
