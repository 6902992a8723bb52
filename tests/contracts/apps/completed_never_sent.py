"""Planted bug: a command the device can perform is answered at once as ``completed`` and never sent.

The fabricated commands are kept here, so ``GET /v1/commands/{id}``, the device's command list and an
``Idempotency-Key`` replay all agree with the lie; what the device cannot perform is still refused by
the reference (422), so only the missing write and the unchanged truth give the bug away.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from gridtwin.fixtures.unified import db

from .base import Call, Mutant

CAUGHT_BY = "commands"
SEND = re.compile(r"^/v1/commands/(?P<type>[a-z]+)/(?P<action>[a-z-]+)$")
READ = re.compile(r"^/v1/commands/(?P<id>[^/]+)$")
LIST = re.compile(r"^/v1/devices/(?P<id>[^/]+)/commands$")


class BUG(Mutant):
    name = "completed_never_sent"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.fakes: dict[str, dict[str, Any]] = {}  # id -> the fabricated command
        self.by_key: dict[str, tuple[str, Any]] = {}  # Idempotency-Key -> (id, request)

    def _performable(self, device_id: Any, device_type: str, slug: str) -> bool:
        api = self.world.unified
        with api.Session() as session:
            d = session.get(db.Device, device_id) if isinstance(device_id, str) else None
            adapter = api.adapters.get(d.manufacturer) if d is not None else None
            return adapter is not None and d.type == device_type and slug in adapter.supported.get(d.type, ())

    def _fabricate(self, call: Call, slug: str, device_type: str) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.world.runtime.now_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        cid = f"cfake{len(self.fakes):020d}"
        self.fakes[cid] = {"id": cid, "deviceId": call.body["deviceId"], "command": slug, "deviceType": device_type,
                           "input": call.body.get("input"), "status": "completed", "reason": None, "createdAt": now,
                           "updatedAt": now, "issuedAt": now, "executedAt": now}
        return self.fakes[cid]

    def request(self, call: Call) -> tuple[int, Any] | None:
        if call.method == "POST" and (m := SEND.match(call.path)) and isinstance(call.body, dict):
            slug = f"{m['type']}:{m['action']}"
            if not self._performable(call.body.get("deviceId"), m["type"], slug):
                return None  # the reference refuses it (404, 422)
            key = call.headers.get("idempotency-key")
            request = (call.path, json.dumps(call.body, sort_keys=True))
            if key is not None and key in self.by_key:
                cid, first = self.by_key[key]
                if first != request:
                    return 409, {"code": "IDEMPOTENCY_CONFLICT", "message": "key reused with another body",
                                 "details": {"Idempotency-Key": key, "commandId": cid}}
                return 200, self.fakes[cid]
            fake = self._fabricate(call, slug, m["type"])
            if key is not None:
                self.by_key[key] = (fake["id"], request)
            return 201, fake
        if call.method == "GET" and (m := READ.match(call.path)) and m["id"] in self.fakes:
            return 200, self.fakes[m["id"]]
        return None

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        m = LIST.match(call.path)
        if call.method != "GET" or not m or status != 200 or not isinstance(body, dict):
            return status, body
        wanted = parse_qs(call.query).get("status")
        mine = [c for c in reversed(list(self.fakes.values()))
                if c["deviceId"] == m["id"] and (not wanted or c["status"] in wanted)]
        if body.get("page", 1) == 1:
            body["data"] = (mine + list(body.get("data") or []))[: body.get("perPage", 20)]
        body["totalItems"] = body.get("totalItems", 0) + len(mine)
        return status, body
