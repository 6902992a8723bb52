"""Planted bug: a device read that would answer 404 for the caller's key (an id of another workspace)
is retried with the sandbox's own key and answered: workspace isolation broken on one route."""

from __future__ import annotations

import re
from typing import Any

import httpx

from .base import Mutant

CAUGHT_BY = "linking"
DEVICE = re.compile(r"^/v1/devices/[^/]+$")


class BUG(Mutant):
    name = "cross_workspace_read"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not DEVICE.match(scope.get("path", "")):
            await super().__call__(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unified") as client:
            answer = await client.get(scope["path"], headers={"Texture-Api-Key": headers.get("texture-api-key", "")})
            if answer.status_code == 404:  # not in the caller's workspace: ask again as the sandbox
                answer = await client.get(scope["path"], headers={"Texture-Api-Key": self.world.key})
        body = answer.content
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
