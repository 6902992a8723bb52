"""Two judgements schemathesis cannot make: every operation refuses a missing or unknown key, and every
paginated list is consistent across its pages.

Both walk the operations of the contract file, so an operation added to the contract is judged too.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..engine import Context, contract
from ..http import Http
from ._conformance_sandbox import Sandbox

METHODS = ("get", "post", "put", "patch", "delete")
# small pages, so that even the short lists of a sandbox span several of them
PER_PAGE = 3
# a longer list is walked with bigger pages, so that no walk takes more than this many requests
MAX_PAGES = 30
MAX_PER_PAGE = 100  # the contract's bound
UNAUTHENTICATED = "UNAUTHENTICATED"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation object) for every operation of the contract, in file order."""
    return [(m.upper(), path, op) for path, ops in contract()["paths"].items() for m, op in ops.items()
            if m in METHODS]


def fill(path: str, value_for: Any) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(value_for(m.group(1))), path)


# -- auth ------------------------------------------------------------------------------------------
def auth_sweep(ctx: Context, box: Sandbox) -> None:
    """Each operation, once without a key and once with one never issued: 401 ``{code, message}``."""
    wrong = f"api_{box.rng.getrandbits(128):032x}"
    clients = {"no Texture-Api-Key": ctx.client(None), "a Texture-Api-Key never issued": ctx.client(wrong)}
    for method, path, op in operations():
        # reads aim at real records; writes at the run's own, so an API that lets them through harms nothing
        url = fill(path, (lambda name, p=path: box.for_write(name, p)) if method != "GET" else box.real)
        body = request_example(op)
        for label, client in clients.items():
            r = client.request(method, url, json_body=body)
            ctx.case()
            problem = _not_refused(r)
            if problem:
                ctx.fail(f"{method} {path}", f"answered a request with {label}: {problem}",
                         expected=f"401 with body {{code: {UNAUTHENTICATED}, message: <text>}}",
                         observed=f"{r.status_code} {r.text[:300]}", subject=label, curl=client.last_curl)


def _not_refused(r: Any) -> str | None:
    if r.status_code != 401:
        return f"status {r.status_code}, not 401"
    try:
        body = r.json()
    except ValueError:
        return "the 401 has no JSON body"
    if not isinstance(body, dict) or body.get("code") != UNAUTHENTICATED or not isinstance(body.get("message"), str):
        return "the 401 body is not the documented {code: UNAUTHENTICATED, message}"
    return None


def request_example(op: dict[str, Any]) -> Any:
    """The first example of the operation's JSON request body (a valid body: auth must win over validation)."""
    media = ((op.get("requestBody") or {}).get("content") or {}).get("application/json")
    if not media:
        return None
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        if "$ref" in example:
            example = contract()["components"]["examples"][example["$ref"].rsplit("/", 1)[-1]]
        return example.get("value")
    return {}


# -- pagination ------------------------------------------------------------------------------------
def paginated() -> list[tuple[str, str, dict[str, Any]]]:
    """The list operations: GETs that take both ``page`` and ``perPage``."""
    out = []
    for method, path, op in operations():
        names = {_param_name(p) for p in op.get("parameters", [])}
        if method == "GET" and {"page", "perPage"} <= names:
            out.append((method, path, op))
    return out


def _param_name(param: dict[str, Any]) -> str:
    if "$ref" in param:
        return str(contract()["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]["name"])
    return str(param.get("name"))


def pagination(ctx: Context, box: Sandbox) -> None:
    """Walk every list with small pages: totals, page counts, echoes and items must agree."""
    now = ctx.sim.clock()["now"]
    for method, path, op in paginated():
        # a device's commands are walked on the device that has one
        command_device = box.own.get("commandDevice") if path.endswith("/commands") else None
        url = fill(path, lambda name, d=command_device: d if name == "deviceId" and d else box.real(name))
        names = {_param_name(p) for p in op.get("parameters", [])}
        # a fixed end keeps a time-ordered list from growing during the walk on a running clock
        params = {"to": now} if "to" in names else {}
        _Walk(ctx, ctx.api, f"{method} {path}", url, params).run()
        ctx.case()


@dataclass
class _Walk:
    ctx: Context
    api: Http
    operation: str
    url: str
    params: dict[str, Any]
    problems: dict[str, tuple[str, Any, Any, str]] = field(default_factory=dict)

    def run(self) -> None:
        first = self._page(1, PER_PAGE)
        if first is None:
            return
        total = first.get("totalItems")
        per = min(MAX_PER_PAGE, max(PER_PAGE, math.ceil(total / MAX_PAGES))) if isinstance(total, int) else PER_PAGE
        seen: dict[str, int] = {}
        page, body, complete = 1, first if per == PER_PAGE else self._page(1, per), False
        while body is not None:
            self._judge_page(body, page, per, total)
            for item in body.get("data") or []:
                key = _identity(item)
                if key in seen:
                    self._problem("repeat", f"item {key} on page {page} already seen on page {seen[key]}",
                                  "no item on two pages", f"{key} on pages {seen[key]} and {page}")
                seen.setdefault(key, page)
            complete = page >= (body.get("totalPages") or 0)
            if complete or page >= MAX_PAGES + 2:
                break
            page += 1
            body = self._page(page, per)
        if complete and isinstance(total, int) and len(seen) != total:
            self._problem("total", f"totalItems says {total}, the pages held {len(seen)} distinct items",
                          f"totalItems == distinct items over all pages ({len(seen)})", f"totalItems {total}")
        for message, expected, observed, curl in self.problems.values():
            self.ctx.fail(self.operation, message, expected=expected, observed=observed, subject=self.url,
                          curl=curl)

    def _page(self, page: int, per: int) -> dict[str, Any] | None:
        r = self.api.get(self.url, params={**self.params, "page": page, "perPage": per})
        if r.status_code != 200:
            self._problem("status", f"page {page} (perPage {per}) did not answer 200", "200",
                          f"{r.status_code} {r.text[:300]}")
            return None
        body = r.json()
        return body if isinstance(body, dict) else None

    def _judge_page(self, body: dict[str, Any], page: int, per: int, total: Any) -> None:
        if body.get("page") != page or body.get("perPage") != per:
            self._problem("echo", "the envelope does not echo the page asked for",
                          f"page {page}, perPage {per}", f"page {body.get('page')}, perPage {body.get('perPage')}")
        if body.get("totalItems") != total:
            self._problem("moving", f"totalItems changed between pages 1 and {page}", f"totalItems {total}",
                          f"totalItems {body.get('totalItems')}")
        if isinstance(total, int):
            pages = math.ceil(total / per)
            if body.get("totalPages") != pages:
                self._problem("pages", f"totalPages is not ceil(totalItems / perPage) = ceil({total} / {per})",
                              f"totalPages {pages}", f"totalPages {body.get('totalPages')}")
            size = max(0, min(per, total - (page - 1) * per))
            if len(body.get("data") or []) != size:
                self._problem("size", f"page {page} of {pages} holds the wrong number of items",
                              f"{size} items (totalItems {total}, perPage {per})", f"{len(body.get('data') or [])}")

    def _problem(self, kind: str, message: str, expected: Any, observed: Any) -> None:
        # one finding per kind and list: the first page that shows it, with its curl line
        self.problems.setdefault(kind, (message, expected, observed, self.api.last_curl))


def _identity(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("id", "name"):
            if isinstance(item.get(key), str):
                return item[key]
    return json.dumps(item, sort_keys=True)
