"""Planted bug: ``GET /v1/devices`` answers without any key (an auth bypass: a request with no
``Texture-Api-Key`` is served as the sandbox's)."""

from __future__ import annotations

from typing import Any

from .base import Mutant

CAUGHT_BY = "conformance"


class BUG(Mutant):
    name = "missing_auth"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.key = world.key

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = scope.get("headers", [])
        if (scope["type"] == "http" and scope["method"] == "GET" and scope.get("path") == "/v1/devices"
                and not any(k.lower() == b"texture-api-key" for k, _ in headers)):
            scope = {**scope, "headers": [*headers, (b"texture-api-key", self.key.encode())]}
        await super().__call__(scope, receive, send)
