"""Planted bug: energy metrics in kWh where the contract (and ``meta.unit: WATT_HOURS``) says Wh: every
point of consumption, production, storage, generation and grid-energy divided by 1000, a unit
conversion applied once too often."""

from __future__ import annotations

from typing import Any

from .base import Call, Mutant

CAUGHT_BY = "metrics"


class BUG(Mutant):
    name = "metrics_in_kwh"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if (call.method == "GET" and call.path.startswith("/v1/metrics/") and status == 200 and isinstance(body, dict)
                and (body.get("meta") or {}).get("unit") == "WATT_HOURS"):
            for point in body.get("data") or []:
                point["v"] = point["v"] / 1000.0
        return status, body
