"""Planted bug: ``storage`` aggregated like the energy metrics: each window's point is the sum of every
``charge`` reading in the window instead of the latest one (one aggregation function for all metrics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from gridtwin.fixtures.unified import db
from gridtwin.fixtures.unified.metrics import FIXED_S

from .base import Call, Mutant

CAUGHT_BY = "metrics"


class BUG(Mutant):
    name = "storage_summed"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method != "GET" or call.path != "/v1/metrics/storage" or status != 200 or not isinstance(body, dict):
            return status, body
        meta = body.get("meta") or {}
        size = FIXED_S.get(meta.get("windowSize"))
        if size is None:  # months and years: left as they are
            return status, body
        start, end = _epoch(meta["start"]), _epoch(meta["end"])
        api = self.world.unified  # the reference world's storage, read as the buggy code would
        with api.Session() as session:
            for point in body.get("data") or []:
                ts = _epoch(point["ts"])
                devices = select(db.Device.id).where(db.Device.type == "battery", db.Device.deleted.is_(False))
                if point.get("deviceId"):
                    devices = devices.where(db.Device.id == point["deviceId"])
                elif point.get("siteId"):
                    devices = devices.where(db.Device.site_id == point["siteId"])
                else:
                    devices = devices.where(db.Device.customer_id == point["customerId"])
                H = db.HistoryRow
                rows = session.execute(select(H.state).where(H.device_id.in_(devices), H.ts >= max(ts, start),
                                                             H.ts < min(ts + size, end)))
                point["v"] = round(sum(float(s.get("charge") or 0.0) for (s,) in rows), 3)
        return status, body


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
