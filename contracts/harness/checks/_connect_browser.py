"""A headless "browser" for HTML forms: fetch a page, parse its forms with the stdlib ``html.parser``,
fill and submit one, follow redirects by hand (so a redirect to the app's own URL is seen, not fetched).

Generic on purpose: it knows HTML, not the pages. What to type comes from the caller as plain name ->
value maps (the Connect pages name their inputs after ``customerInfo`` fields and the vendor's own
credentials, as the contract says), so the same code fills the API's pages and a vendor's consent page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx

MAX_REDIRECTS = 10
TEXT_TYPES = {"text", "email", "tel", "password", "url", "search", "number", ""}


@dataclass
class Field:
    tag: str  # input | select | button
    type: str
    name: str
    value: str
    checked: bool = False
    id: str = ""
    options: list[str] = field(default_factory=list)  # select


@dataclass
class Form:
    id: str
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        """Every value an input named ``name`` offers (radio and checkbox choices, select options)."""
        out = []
        for f in self.fields:
            if f.name == name:
                out += f.options if f.tag == "select" else [f.value]
        return out

    def buttons(self) -> list[Field]:
        return [f for f in self.fields if f.tag == "button" or f.type in ("submit", "image")]

    def fill(self, values: dict[str, Any], press: str | None = None) -> list[tuple[str, str]]:
        """The form's data set with ``values`` typed in (a list for checkboxes) and the button ``press``
        (its id, name or value; default the first submit button)."""
        out: list[tuple[str, str]] = []
        for f in self.fields:
            if not f.name or f.tag == "button" or f.type in ("submit", "image", "reset", "button", "file"):
                continue
            if f.type == "radio":
                chosen = values.get(f.name)
                if (f.value == chosen) if chosen is not None else f.checked:
                    out.append((f.name, f.value))
            elif f.type == "checkbox":
                chosen = values.get(f.name)
                if (f.value in chosen) if chosen is not None else f.checked:
                    out.append((f.name, f.value or "on"))
            elif f.type == "hidden":  # nobody types into a hidden input (an OAuth ``state`` is no US state)
                out.append((f.name, f.value))
            elif f.tag == "select" or f.type in TEXT_TYPES:
                out.append((f.name, str(values.get(f.name, f.value))))
        buttons = self.buttons()
        button = next((b for b in buttons if press in (b.id, b.name, b.value)), None) if press else None
        button = button or (buttons[0] if buttons else None)
        if button is not None and button.name:
            out.append((button.name, button.value))
        return out


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.main: dict[str, str] = {}
        self.links: dict[str, str] = {}  # anchor id -> href
        self.title = ""
        self._form: Form | None = None
        self._select: Field | None = None
        self._button: Field | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.main = {k: v for k, v in a.items() if k.startswith("data-")}
        elif tag == "title":
            self._in_title = True
        elif tag == "a" and a.get("href"):
            self.links[a.get("id") or a["href"]] = a["href"]
        elif tag == "form":
            self._form = Form(a.get("id", ""), (a.get("method") or "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._form.fields.append(Field("input", a.get("type", "text").lower(), a.get("name", ""),
                                           a.get("value", ""), "checked" in a, a.get("id", "")))
        elif tag == "button":
            self._button = Field("button", a.get("type", "submit").lower(), a.get("name", ""), a.get("value", ""),
                                 id=a.get("id", ""))
            if self._button.type == "submit":
                self._form.fields.append(self._button)
        elif tag == "select":
            self._select = Field("select", "select", a.get("name", ""), "", id=a.get("id", ""))
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or not self._select.value:
                self._select.value = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "title":
            self._in_title = False
        elif tag == "button":
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@dataclass
class Page:
    url: str
    status: int
    text: str
    forms: list[Form]
    main: dict[str, str]  # the data-* attributes of <main>
    links: dict[str, str]
    title: str

    @property
    def step(self) -> str | None:
        return self.main.get("data-step")

    @property
    def error_code(self) -> str | None:
        return self.main.get("data-error-code")

    def form(self) -> Form | None:
        """The page's main form: the one with id ``connect-form``, else the first with a submit button."""
        return next((f for f in self.forms if f.id == "connect-form"), None) or next(
            (f for f in self.forms if f.buttons()), None)


@dataclass(frozen=True)
class Landing:
    """A redirect that left the pages for the app's own URL (not fetched)."""

    url: str
    status: int


def parse(url: str, response: httpx.Response) -> Page:
    p = _Parser()
    text = response.text
    if "html" in response.headers.get("content-type", ""):
        p.feed(text)
    return Page(url, response.status_code, text, p.forms, p.main, p.links, p.title.strip())


class Browser:
    """Pages through ``client`` (no key header on it: these are a person's pages), redirects by hand.

    A redirect to a URL that starts with one of ``stop_at`` ends the walk with a :class:`Landing`.
    ``on_request(method, url)`` sees every request (counting, curl lines).
    """

    def __init__(self, client: httpx.Client, *, stop_at: tuple[str, ...] = (),
                 on_request: Callable[[str, str], None] | None = None) -> None:
        self.client = client
        self.stop_at = stop_at
        self.on_request = on_request or (lambda _m, _u: None)
        self.trail: list[str] = []  # "METHOD url -> status", the whole walk

    def get(self, url: str) -> Page | Landing:
        return self._go("GET", url, None)

    def submit(self, page: Page, form: Form, values: dict[str, Any] | None = None,
               press: str | None = None) -> Page | Landing:
        data = form.fill(values or {}, press)
        target = urljoin(page.url, form.action) if form.action else page.url
        if form.method == "get":
            query = str(httpx.QueryParams(data))
            return self._go("GET", target.split("?", 1)[0] + ("?" + query if query else ""), None)
        return self._go("POST", target, data)

    def _go(self, method: str, url: str, data: list[tuple[str, str]] | None) -> Page | Landing:
        for _ in range(MAX_REDIRECTS + 1):
            self.on_request(method, url)
            if data is not None:
                body = str(httpx.QueryParams(data)).encode()
                r = self.client.request(method, url, content=body, follow_redirects=False,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
            else:
                r = self.client.request(method, url, follow_redirects=False)
            self.trail.append(f"{method} {url} -> {r.status_code}")
            location = r.headers.get("location")
            if r.status_code not in (301, 302, 303, 307, 308) or not location:
                return parse(url, r)
            nxt = urljoin(url, location)
            if any(nxt.startswith(prefix) for prefix in self.stop_at):
                return Landing(nxt, r.status_code)
            if r.status_code in (301, 302, 303):
                method, data = "GET", None
            url = nxt
        raise RuntimeError(f"more than {MAX_REDIRECTS} redirects: {' / '.join(self.trail[-4:])}")
