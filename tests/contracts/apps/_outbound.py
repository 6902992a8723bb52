"""A tampering layer on the reference API's *outgoing* webhook requests: the counterpart, for deliveries, of
the ``Mutant`` ASGI layer on incoming requests. A planted webhook bug rewrites each request on its way out
(through the delivery job's injectable transport); the API itself stays the reference."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select

from gridtwin.fixtures.unified import db, events

Tamper = Callable[[httpx.Request], Awaitable[httpx.Request]]


class Outbound(httpx.AsyncBaseTransport):
    """Real sockets, with ``tamper`` applied to every request first."""

    def __init__(self, tamper: Tamper) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.tamper = tamper

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(await self.tamper(request))

    async def aclose(self) -> None:
        await self.inner.aclose()


def plant(world: Any, tamper: Tamper) -> None:
    """Send the world's webhooks through ``tamper`` from now on."""
    world.unified.webhooks.use_transport(lambda: Outbound(tamper))


def rebuilt(request: httpx.Request, body: bytes, headers: dict[str, str]) -> httpx.Request:
    keep = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", *map(str.lower, headers))}
    return httpx.Request(request.method, request.url, headers={**keep, **headers}, content=body)


def secret_of(world: Any, url: str) -> str:
    """The secret of the destination at ``url`` (what the API signs with)."""
    with world.unified.Session() as session:
        return str(session.scalars(select(db.Destination.secret).where(db.Destination.url == url)).first())


def resign(world: Any, request: httpx.Request, body: bytes) -> httpx.Request:
    """``request`` with another body, signed as the API would sign it (the defect is in the body, not the HMAC)."""
    return rebuilt(request, body, {"Texture-Signature": events.sign(secret_of(world, str(request.url)), body)})
