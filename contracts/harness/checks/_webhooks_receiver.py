"""The harness's own webhook receiver: a stdlib HTTP server on loopback, in a thread of its own.

It binds 127.0.0.1 on a free port (the API under test runs on the same machine in every supported
setup), records every request exactly as it came (headers, the body's bytes, the order of arrival)
and answers 200, or 500 to the first attempts of the events a failure rule names (the retry phase).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/gridtwin/webhooks"
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass
class Hit:
    """One request received."""

    seq: int  # order of arrival, from 0
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what the receiver answered
    envelope: dict[str, Any] | None  # the body as JSON, when it is a JSON object

    @property
    def key(self) -> str | None:
        key = (self.envelope or {}).get("key")
        return key if isinstance(key, str) else None

    @property
    def type(self) -> str | None:
        kind = (self.envelope or {}).get("type")
        return kind if isinstance(kind, str) else None

    @property
    def data(self) -> dict[str, Any]:
        data = (self.envelope or {}).get("data")
        return data if isinstance(data, dict) else {}

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def describe(self) -> str:
        return f"delivery #{self.seq} ({self.type or 'no type'}, key {(self.key or '?')[:12]}…)"


# a failure rule: (the hit, how many earlier attempts of its event arrived) -> answer 500?
FailRule = Callable[[Hit, int], bool]


@dataclass
class Receiver:
    """Start with :meth:`start`; ``url`` is where to point a destination; ``stop`` when done."""

    hits: list[Hit] = field(default_factory=list)
    fail: FailRule = lambda _hit, _attempt: False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the receiver first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
                body = self.rfile.read(length)
                status = receiver.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                answer = b"ok" if status < 300 else b"planned failure (the harness's retry test)"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the harness reports what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="gridtwin-webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        envelope = parsed if isinstance(parsed, dict) else None
        with self._lock:
            hit = Hit(len(self.hits), path, headers, body, 200, envelope)
            # earlier attempts of this event: its key, or (an API that re-keys retries) its type and data
            attempt = sum(1 for h in self.hits if h.envelope is not None and envelope is not None and (
                h.key == hit.key or (h.type == hit.type and h.data == hit.data)))
            hit.status = 500 if self.fail(hit, attempt) else 200
            self.hits.append(hit)
            return hit.status

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def wait_quiet(self, quiet_s: float = 0.2, most_s: float = 3.0) -> None:
        """Wait (wall time) until nothing has arrived for ``quiet_s``: deliveries in flight land first."""
        deadline = time.monotonic() + most_s
        seen = -1
        while time.monotonic() < deadline:
            n = len(self.hits)
            if n == seen:
                return
            seen = n
            time.sleep(quiet_s)
