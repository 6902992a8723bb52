"""Driving one Connect flow the way a person would, over HTTP only: create the link, then walk its pages
(the API's and the vendor's own consent page) by filling whatever forms they show from what a person
knows (contact details, the manufacturer, the account's login or key, which devices to share).
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..engine import Context
from ..http import Http
from ._connect_browser import Browser, Landing, Page

MAX_PAGES = 12  # a flow that is still not done after this many forms is going in circles


@dataclass(frozen=True)
class Person:
    """Who connects, and what they type: contact details, the vendor account's credentials."""

    contact: dict[str, str]  # customerInfo field names -> values
    vendor: str
    credentials: dict[str, str]  # as the control plane lists them (username/password, api_key ...)
    device_keys: set[str]  # "<type>:<vendorDeviceId>" of the account's devices


@dataclass
class Walk:
    """Where a walk ended, and what it saw on the way."""

    end: Page | Landing
    offered: list[str] = field(default_factory=list)  # the device checkboxes' values
    chosen: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # each page's step or URL path
    trail: list[str] = field(default_factory=list)  # every request and its status

    def curl(self) -> str:
        """A curl line for the last request of the walk (GET; a form post is shown as its URL)."""
        last = self.trail[-1] if self.trail else "GET ?"
        method, url = last.split(" -> ")[0].split(" ", 1)
        return f"curl -sS -i -X {method} {shlex.quote(url)}"


def browser_for(ctx: Context, app_url: str) -> Browser:
    """A key-less client of the pages (a person's browser), counting its requests; the caller closes
    ``browser.client``."""
    client = httpx.Client(timeout=ctx.target.timeout_s, transport=ctx.target.transport)
    return Browser(client, stop_at=(app_url,), on_request=lambda _m, _u: ctx.counter.add("connect"))


def create_link(ctx: Context, api: Http, body: dict[str, Any]) -> dict[str, Any] | None:
    """``POST /v1/connections``; None (and a failure) when it does not answer a link."""
    r = api.post("/v1/connections", body)
    data: Any = None
    with contextlib.suppress(ValueError):
        data = r.json()
    if r.status_code != 200 or not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("linkToken", "linkUrl", "customerId")):
        ctx.fail("POST /v1/connections", "a Connect link is created with 200 {linkToken, linkUrl, customerId}",
                 expected="HTTP 200 with linkToken, linkUrl and customerId",
                 observed=f"HTTP {r.status_code}: {str(data if data is not None else r.text)[:300]}",
                 subject=f"referenceId {body.get('referenceId')}")
        return None
    return data


def walk(browser: Browser, url: str, person: Person, pick: Callable[[list[str]], list[str]], *,
         decision: str = "allow") -> Walk:
    """Open ``url`` and fill each page's form until the flow leaves for the app, stops on an error page
    or shows no form. ``pick`` chooses among the offered device checkboxes; ``decision`` is the button
    pressed on the vendor's consent page (allow or deny)."""
    values: dict[str, Any] = {**person.contact, **person.credentials, "manufacturer": person.vendor}
    out = Walk(browser.get(url))
    for _ in range(MAX_PAGES):
        page = out.end
        if isinstance(page, Landing) or page.status >= 400:
            break
        out.pages.append(page.step or page.url.split("?")[0])
        form = page.form()
        if form is None:
            break
        fields = {f.name for f in form.fields}
        press = None
        if "device" in fields:
            out.offered = form.values("device")
            out.chosen = pick(out.offered)
            values["device"] = out.chosen
        if "password" in fields and any(b.value in ("allow", "deny") for b in form.buttons()):
            press = decision  # the vendor's consent page
        out.end = browser.submit(page, form, values, press=press)
    out.trail = list(browser.trail)
    return out
