"""Linking, part 1 and 3: a customer's devices are exactly their accounts' devices, and their usage
is the sum of its parts.

1. For every customer whose ``referenceId`` is a simulated home, three views of their devices (their
   device list, the device list filtered by ``customerId``, the customer's own ``deviceIds``) each equal,
   as (manufacturer, manufacturerDeviceId, type), the devices of that home's vendor accounts.
2. ``GET /v1/customers/{id}/usage`` over the last hour: ``totals`` is the sum over ``sites``, and for
   device-level fields over ``devices`` too (the contract's Usage); its sites are the customer's; and
   each inverter's solar and each battery's charge and discharge equal the trapezoid integral of that
   device's own history (EnergyTotals: "integrated from device history"), recomputed here.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from ..engine import Context
from ..sim import parse_ts
from ._linking_world import PER_PAGE, Answer, Key, Snapshot, call, customer_text, expect, key_of
from ._telemetry_energy import integrate
from ._telemetry_judge import iso

ENERGY = ("solarProductionWh", "batteryChargeWh", "batteryDischargeWh", "gridImportWh", "gridExportWh", "evChargeWh")
DEVICE_LEVEL = ("solarProductionWh", "batteryChargeWh", "batteryDischargeWh", "evChargeWh")
SUM_ABS_WH, SUM_REL = 0.5, 1e-4  # rounding of the parts
HISTORY_ABS_WH, HISTORY_REL = 1.0, 0.005  # the same trapezoids over the same samples, up to rounding
USAGE_WINDOW_S = 3600.0


LIST_CUSTOMER_DEVICES = "GET /v1/customers/{customerId}/devices"
LIST_DEVICES = "GET /v1/devices"
GET_CUSTOMER = "GET /v1/customers/{customerId}"


def customers_own_their_devices(ctx: Context, snap: Snapshot) -> None:
    if not snap.home_customers:
        ctx.note("no customer has a simulated home's id as referenceId: pre-connected ownership not judged")
    for c in snap.home_customers:
        subject = customer_text(c)
        expected = snap.keys_of_home(str(c["referenceId"]))
        # (operation, which view, devices, curl): three ways the API tells who owns what
        views: list[tuple[str, str, list[dict[str, Any]], str]] = []
        listed = _all_pages(ctx, f"/v1/customers/{c['id']}/devices", LIST_CUSTOMER_DEVICES, subject)
        if listed is not None:
            views.append((LIST_CUSTOMER_DEVICES, "the customer's device list", *listed))
        filtered = _all_pages(ctx, "/v1/devices", LIST_DEVICES, subject, params={"customerId": c["id"]})
        if filtered is not None:
            views.append((LIST_DEVICES, "the device list filtered by customerId", *filtered))
        got = call(ctx.api, "GET", f"/v1/customers/{c['id']}", GET_CUSTOMER)
        if expect(ctx, got, 200, subject, "the customer could not be read"):
            ids = got.body.get("deviceIds") or []
            views.append((GET_CUSTOMER, "the customer's deviceIds", [snap.devices.get(i, {"id": i}) for i in ids],
                          got.curl))
        for operation, view, devices, curl in views:
            ctx.case()
            _same_devices(ctx, operation, view, subject, expected, devices, curl, snap)
            wrong = [d["id"] for d in devices if "customerId" in d and d.get("customerId") != c["id"]]
            if wrong:
                ctx.fail(operation, f"{view}: a device listed for this customer names another customer",
                         expected=f"customerId {c['id']}", observed=f"{wrong[:5]}", subject=subject, curl=curl)


def _all_pages(ctx: Context, path: str, operation: str, subject: str,
               params: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], str] | None:
    """Every item of a list, checking that the pages' totals agree with what they hold."""
    out: list[dict[str, Any]] = []
    first_curl = ""
    for page in range(1, 1000):
        a = call(ctx.api, "GET", path, operation, params={**(params or {}), "page": page, "perPage": PER_PAGE})
        first_curl = first_curl or a.curl
        if not expect(ctx, a, 200, subject, "the list could not be read"):
            return None
        out += a.body.get("data") or []
        if page >= int(a.body.get("totalPages") or 0) or not a.body.get("data"):
            total = a.body.get("totalItems")
            if total != len(out):
                ctx.fail(operation, "totalItems disagrees with the items the pages hold",
                         expected=f"totalItems {len(out)}", observed=f"totalItems {total}", subject=subject,
                         curl=a.curl)
            return out, first_curl
    return out, first_curl


def _same_devices(ctx: Context, operation: str, view: str, subject: str, expected: dict[Key, str],
                  devices: list[dict[str, Any]], curl: str, snap: Snapshot) -> None:
    got = {key_of(d): d for d in devices}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing:
        ctx.fail(operation, f"{view} lacks devices of the vendor accounts linked to the customer",
                 expected=f"{len(expected)} devices including " + ", ".join(
                     f"{m[0]} {m[2]} {m[1]} (truth {expected[m]})" for m in missing),
                 observed=f"{len(got)} devices: " + ", ".join(f"{k[0]} {k[2]} {k[1]}" for k in sorted(got)),
                 subject=subject, curl=curl)
    if extra:
        owner = {k: snap.sims[k].home_id if k in snap.sims else "no simulated device" for k in extra}
        ctx.fail(operation, f"{view} includes devices of accounts not linked to the customer",
                 expected=f"only the {len(expected)} devices of their home's accounts",
                 observed=", ".join(f"{k[0]} {k[2]} {k[1]} (of {owner[k]}; id {got[k].get('id')})" for k in extra),
                 subject=subject, curl=curl)


# -- usage -------------------------------------------------------------------------------------------------
def usage_adds_up(ctx: Context, snap: Snapshot) -> None:
    end = ctx.sim.now_s()
    start = end - USAGE_WINDOW_S
    judged = recomputed = 0
    for c in snap.home_customers[: max(ctx.max_examples, 1)]:
        subject = customer_text(c)
        a = call(ctx.api, "GET", f"/v1/customers/{c['id']}/usage", "GET /v1/customers/{customerId}/usage",
                 params={"from": iso(start), "to": iso(end)})
        if not expect(ctx, a, 200, subject, "the customer's usage could not be read"):
            continue
        ctx.case()
        judged += 1
        _sums(ctx, a, subject)
        _parts_are_the_customers(ctx, a, c, subject, snap)
        for part in a.body.get("devices") or []:
            device = snap.devices.get(part.get("id"))
            if device is not None and part.get("type") in ("inverter", "battery"):
                recomputed += _part_from_history(ctx, a, part, device, subject, start, end)
    ctx.note(f"usage over {iso(start)}..{iso(end)}: {judged} customers, {recomputed} device shares recomputed "
             "from history")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(SUM_ABS_WH, SUM_REL * max(abs(a), abs(b)))


def _sums(ctx: Context, a: Answer, subject: str) -> None:
    totals = a.body.get("totals") or {}
    for name, parts, fields in (("sites", a.body.get("sites") or [], ENERGY),
                                ("devices", a.body.get("devices") or [], DEVICE_LEVEL)):
        for f in fields:
            total = float(totals.get(f) or 0.0)
            summed = sum(float((p.get("totals") or {}).get(f) or 0.0) for p in parts)
            if not _close(total, summed):
                ctx.fail(a.operation, f"usage totals.{f} is not the sum over its {name}",
                         expected=f"{summed:.3f} Wh (the sum over {len(parts)} {name}) ± {SUM_ABS_WH} Wh",
                         observed=f"totals.{f} {total:.3f} Wh", subject=subject, curl=a.curl)


def _parts_are_the_customers(ctx: Context, a: Answer, c: dict[str, Any], subject: str, snap: Snapshot) -> None:
    sites = {p.get("id") for p in a.body.get("sites") or []}
    if sites != set(c.get("siteIds") or []):
        ctx.fail(a.operation, "usage sites are not the customer's sites", expected=sorted(c.get("siteIds") or []),
                 observed=sorted(str(s) for s in sites), subject=subject, curl=a.curl)
    theirs = set(c.get("deviceIds") or []) | {d for d, dev in snap.devices.items() if dev.get("siteId") in sites}
    for p in a.body.get("devices") or []:
        dev = snap.devices.get(p.get("id"))
        if p.get("id") not in theirs:
            ctx.fail(a.operation, "usage counts a device that is neither the customer's nor at their sites",
                     expected=f"one of {len(theirs)} devices of the customer", observed=f"device {p.get('id')}",
                     subject=subject, curl=a.curl)
        elif dev is not None and p.get("type") != dev.get("type"):
            ctx.fail(a.operation, "a usage part's type is not its device's type", expected=dev.get("type"),
                     observed=p.get("type"), subject=f"{subject}, device {p.get('id')}", curl=a.curl)


def _part_from_history(ctx: Context, a: Answer, part: dict[str, Any], device: dict[str, Any], subject: str,
                       start: float, end: float) -> bool:
    """A device's share recomputed from its own history (skipped where the history has a gap)."""
    field = "power" if device["type"] == "inverter" else "chargeRate"
    bound = ctx.staleness_bound_s(str(device.get("manufacturer")))
    params = {"from": iso(start - USAGE_WINDOW_S), "to": iso(end), "perPage": PER_PAGE}
    states: list[dict[str, Any]] = []
    for page in range(1, 50):
        h = call(ctx.api, "GET", f"/v1/devices/{device['id']}/history", "GET /v1/devices/{deviceId}/history",
                 params={**params, "page": page})
        if not expect(ctx, h, 200, subject, "a device's history could not be read"):
            return False
        states += h.body.get("data") or []
        if page >= int(h.body.get("totalPages") or 0) or not h.body.get("data"):
            break
    samples = sorted((parse_ts(str(s["createdAt"])), float(s[field])) for s in states
                     if isinstance(s.get(field), int | float) and s.get("createdAt"))
    segments = [(t0, t1) for (t0, _), (t1, _) in pairwise(samples) if t1 > start and t0 < end]
    if not segments or any(t1 - t0 > bound for t0, t1 in segments):
        return False  # no samples, or a gap: how a gap counts is the implementation's choice
    pos, neg = integrate(samples, start, end)
    totals = part.get("totals") or {}
    pairs = ([("solarProductionWh", pos)] if field == "power"
             else [("batteryDischargeWh", pos), ("batteryChargeWh", neg)])
    ctx.case()
    for name, mine in pairs:
        theirs = float(totals.get(name) or 0.0)
        tol = max(HISTORY_ABS_WH, HISTORY_REL * abs(mine))
        if not math.isclose(theirs, mine, abs_tol=tol):
            ctx.fail(a.operation, f"a device's {name} is not the trapezoid integral of its own history {field}",
                     expected=f"{mine:.2f} Wh ± {tol:.2f} Wh (from {len(samples)} history states over "
                     f"{iso(start)}..{iso(end)})", observed=f"{theirs:.2f} Wh",
                     subject=f"{subject}, device {device['id']} ({device.get('manufacturer')} {device['type']})",
                     curl=a.curl)
    return True
