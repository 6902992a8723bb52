"""HTTP to the two things the harness may talk to: the unified API under test and the control plane.

Every request is counted and can be turned into a curl line, so a failure can always be replayed by
hand. Plain httpx with an optional injected transport: the harness never imports an implementation.
"""

from __future__ import annotations

import json
import shlex
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

KEY_HEADER = "Texture-Api-Key"
SIM_PREFIX = "/_sim/v1"


@dataclass(frozen=True)
class Target:
    """What to test: the unified API's root URL (paths start with ``/v1``), its key, and the control plane.

    ``sim_url`` is the root where ``/_sim/v1`` lives (``gridtwin serve``'s address); it defaults to
    ``base_url`` because the reference server serves both.
    """

    base_url: str
    api_key: str
    sim_url: str | None = None
    sim_token: str | None = None
    timeout_s: float = 30.0
    # wall seconds to wait after each clock advance when the world runs on a scaled clock (a served
    # API polls on its own schedule); a manual clock needs none
    settle_s: float = 2.0
    transport: httpx.BaseTransport | None = field(default=None, compare=False)

    @property
    def api_root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def sim_root(self) -> str:
        root = (self.sim_url or self.base_url).rstrip("/")
        return root[: -len(SIM_PREFIX)] if root.endswith(SIM_PREFIX) else root


@dataclass
class Counter:
    """Requests made, by client; shared by every check of a run (thread-safe: schemathesis may use threads)."""

    by_client: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, client: str, n: int = 1) -> None:
        with self._lock:
            self.by_client[client] = self.by_client.get(client, 0) + n

    @property
    def total(self) -> int:
        return sum(self.by_client.values())


def curl(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None) -> str:
    """A copy-paste curl line for one request (JSON body inline)."""
    parts = ["curl", "-sS", "-X", method.upper(), shlex.quote(url)]
    for name, value in (headers or {}).items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None:
        parts += ["-H", shlex.quote("Content-Type: application/json"),
                  "--data", shlex.quote(json.dumps(body, separators=(",", ":")))]
    return " ".join(parts)


class Http:
    """A counting client for one root URL; ``last_curl`` replays the latest request."""

    def __init__(self, name: str, root: str, *, headers: dict[str, str], counter: Counter, timeout_s: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.root = root
        self.headers = headers
        self.counter = counter
        self.client = httpx.Client(base_url=root, headers=headers, timeout=timeout_s, transport=transport)
        self.last_curl = ""

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        hdrs = {**self.headers, **(headers or {})}
        url = self.root + path + (("?" + str(httpx.QueryParams(params))) if params else "")
        self.last_curl = curl(method, url, hdrs, json_body)
        self.counter.add(self.name)
        return self.client.request(method, path, params=params, json=json_body, headers=headers)

    def curl_for(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                 headers: dict[str, str] | None = None) -> str:
        url = self.root + path + (("?" + str(httpx.QueryParams(params))) if params else "")
        return curl(method, url, {**self.headers, **(headers or {})}, body)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def pages(self, path: str, params: dict[str, Any] | None = None, *, per_page: int = 100,
              most: int = 100_000) -> list[dict[str, Any]]:
        """Every item of a paginated list (``page``/``perPage``), raising on a non-200 answer."""
        out: list[dict[str, Any]] = []
        page = 1
        while len(out) < most:
            r = self.get(path, params={**(params or {}), "page": page, "perPage": per_page})
            if r.status_code != 200:
                raise UnexpectedAnswer(f"GET {path}", r, self.last_curl)
            body = r.json()
            out += body["data"]
            if page >= body.get("totalPages", 0) or not body["data"]:
                return out
            page += 1
        return out[:most]

    def close(self) -> None:
        self.client.close()


class UnexpectedAnswer(Exception):
    """An answer the harness needed to go on and did not get (the check reports it as a failure)."""

    def __init__(self, operation: str, response: httpx.Response, curl_line: str) -> None:
        super().__init__(f"{operation} answered {response.status_code}: {response.text[:300]}")
        self.operation = operation
        self.response = response
        self.curl = curl_line
