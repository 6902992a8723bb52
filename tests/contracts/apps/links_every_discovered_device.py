"""Planted bug: the Connect flow's finish links every device it discovered in the account, not only the
ones the person selected (the selection form is read, then ignored), so an app gets devices its user
never agreed to share."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from gridtwin.fixtures.unified import db

from .base import Mutant

CAUGHT_BY = "connect"
FINISH = re.compile(r"^/connect/([^/]+)/devices$")


class BUG(Mutant):
    name = "links_every_discovered_device"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        match = FINISH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "POST":
            await super().__call__(scope, receive, send)
            return
        while (await receive()).get("more_body"):
            pass  # the person's selection, dropped
        with self.world.unified.Session() as session:
            link = session.scalars(select(db.ConnectLink).where(db.ConnectLink.token == match.group(1))).first()
            found = list(link.discovered or []) if link is not None else []
        body = urlencode([("device", f"{d['type']}:{d['manufacturer_device_id']}") for d in found]).encode()
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
