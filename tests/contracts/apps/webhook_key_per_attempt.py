"""Planted bug: every delivery attempt carries a fresh ``key`` (the envelope re-keyed and re-signed per
attempt), so a redelivery after a failure looks like another event to a receiver deduplicating by key.
First attempts are the reference's own; only retries show it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from gridtwin.fixtures.unified import events

from ._outbound import plant, resign
from .base import Mutant

CAUGHT_BY = "webhooks"


class BUG(Mutant):
    name = "webhook_key_per_attempt"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.attempts: dict[str, int] = {}  # the reference's key -> attempts sent
        plant(world, self.rekey)

    async def rekey(self, request: httpx.Request) -> httpx.Request:
        envelope = json.loads(request.content)
        n = self.attempts[envelope["key"]] = self.attempts.get(envelope["key"], 0) + 1
        if n == 1:
            return request
        envelope["key"] = hashlib.sha256(f"{envelope['key']}:{n}".encode()).hexdigest()
        return resign(self.world, request, events.compact(envelope).encode())
