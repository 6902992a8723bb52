"""A mutating ASGI layer in front of the reference world: one planted defect per subclass.

Requests under ``/v1`` pass through :meth:`Mutant.request` (which may answer by itself) and their
JSON answers through :meth:`Mutant.response`; everything else (the vendor fakes, the control plane)
is untouched, so ground truth stays true and only the unified API lies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gridtwin.fixtures.servers import RunningWorld, build_world, serve_in_thread


@dataclass
class Call:
    method: str
    path: str
    query: str
    key: str | None
    body: Any  # the request's JSON body (None when empty or not JSON)
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased


class Mutant:
    """Pass-through by default; a planted bug overrides ``request`` and/or ``response``."""

    name = "reference"

    def __init__(self, app: Any, world: Any) -> None:
        self.app = app
        self.world = world

    # -- the hooks a bug overrides ------------------------------------------------------------
    def request(self, call: Call) -> tuple[int, Any] | None:
        """Answer by itself (status, JSON) instead of the reference, or None to pass the call on."""
        return None

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return status, body

    # -- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        raw = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        call = Call(scope["method"], path, scope.get("query_string", b"").decode(), headers.get("texture-api-key"),
                    body, headers)
        own = self.request(call)
        if own is not None:
            await _send_json(send, *own)
            return
        sent: dict[str, Any] = {"status": 500, "headers": [], "body": b""}
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return {"type": "http.disconnect"}

        async def capture(msg: Any) -> None:
            if msg["type"] == "http.response.start":
                sent["status"], sent["headers"] = msg["status"], list(msg.get("headers", []))
            elif msg["type"] == "http.response.body":
                sent["body"] += msg.get("body", b"")

        await self.app(scope, replay, capture)
        ctype = next((v.decode() for k, v in sent["headers"] if k.lower() == b"content-type"), "")
        if "json" not in ctype or not sent["body"]:
            await send({"type": "http.response.start", "status": sent["status"], "headers": sent["headers"]})
            await send({"type": "http.response.body", "body": sent["body"]})
            return
        status, out = self.response(call, sent["status"], json.loads(sent["body"]))
        extra = [(k, v) for k, v in sent["headers"] if k.lower() not in (b"content-type", b"content-length")]
        await _send_json(send, status, out, extra)


async def _send_json(send: Any, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


@contextlib.contextmanager
def broken_world(mutant: type[Mutant], *, warmup_s: float = 600.0, **world_kw: Any) -> Iterator[RunningWorld]:
    """The reference world (all-vendors, ManualClock) served on loopback behind ``mutant``."""
    world = build_world(**world_kw)
    app = mutant(world.app, world)
    with serve_in_thread(app) as base:
        running = RunningWorld(world, base, world.key)
        if warmup_s > 0:
            running.advance(warmup_s)
        yield running
