"""Planted bug: a device schedule's edges are evaluated in UTC instead of the schedule's time zone.

The schedule still *says* it runs in the site's (or the requested) time zone, in every read; only the
edges it computes, and so the instants its commands go out, are those of the rules read as UTC times
(the classic naive-datetime mistake). ``nextEdgeAt`` shows the wrong instant, and no command comes at
the real edges.
"""

from __future__ import annotations

import re
from typing import Any

from gridtwin.fixtures.unified import db
from gridtwin.fixtures.unified.render import iso
from gridtwin.fixtures.unified.schedules import compile_rules
from gridtwin.fixtures.unified.wallclock import next_edge, zone

from .base import Call, Mutant

CAUGHT_BY = "schedules"
CREATE = re.compile(r"^/v1/devices/(?P<device>[^/]+)/schedule$")
READS = re.compile(r"^/v1/devices/[^/]+/(schedule/[^/]+|schedules)$")


class BUG(Mutant):
    name = "schedule_edges_in_utc"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.claimed: dict[str, str] = {}  # schedule id -> the time zone it claims

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return status, body
        if call.method == "POST" and CREATE.match(call.path) and status == 201:
            self.claimed[body["id"]] = body["schedule"]["deviceTimezone"]
            api = self.world.unified
            with api.Session.begin() as session:
                s = session.get(db.DeviceSchedule, body["id"])
                s.timezone = "UTC"  # the bug: local rule times read as UTC
                s.next_edge_at = next_edge(compile_rules(s.rules), zone("UTC"), api.now())
                body["nextEdgeAt"] = iso(s.next_edge_at)
        if call.method == "GET" and READS.match(call.path) and status == 200:
            for item in body.get("data", [body]):
                if isinstance(item, dict) and item.get("id") in self.claimed:
                    item["schedule"]["deviceTimezone"] = self.claimed[item["id"]]  # and hides it
        return status, body
