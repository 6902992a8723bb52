"""Planted bug: webhook deliveries go out without ``Texture-Signature``, so no receiver can tell them from
a forgery (everything else about them, the body, the key, the timestamp, is the reference's)."""

from __future__ import annotations

from typing import Any

import httpx

from ._outbound import plant
from .base import Mutant

CAUGHT_BY = "webhooks"


class BUG(Mutant):
    name = "unsigned_webhooks"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        plant(world, self.unsign)

    @staticmethod
    async def unsign(request: httpx.Request) -> httpx.Request:
        del request.headers["Texture-Signature"]
        return request
