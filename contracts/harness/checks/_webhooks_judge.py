"""What the ``webhooks`` check holds every delivery and every expected event to (pure: hits in, findings out).

* each request: ``Texture-Signature`` is hex HMAC-SHA256 of the exact body bytes keyed with the secret;
  ``Texture-Timestamp`` is an ISO-8601 time; the body is compact JSON (what a receiver re-signs); the
  envelope is ``{type, version, key, timestamp, data}`` with a dot-form type the destination subscribed to;
* each event the check caused: it arrived exactly once after dedup by ``key``, with the right ``data``;
* order: the events of one customer, one site, as they were caused; those of one device by time;
* a redelivery after a 500 carries the same key and the same bytes, later, backing off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from ._webhooks_receiver import Hit

HEX64 = re.compile(r"^[0-9a-f]{64}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
DOT_TYPE = re.compile(r"^[a-z]+\.[a-z_]+$")
# events of one device a served API stamps in two processes (API and sync worker) may differ by their clocks
ORDER_TOLERANCE_S = 1.0  # clock differences between the API's and the worker's processes, and timing jitter
MIN_FIRST_RETRY_S = 1.0  # a redelivery sooner than this is a hot loop, not a backoff


def parse_iso(text: Any) -> float | None:
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def dot_form(wire: str) -> str:
    """``CUSTOMER_CREATED`` -> ``customer.created``."""
    head, _, tail = wire.lower().partition("_")
    return f"{head}.{tail}"


@dataclass(frozen=True)
class Finding:
    message: str
    expected: str
    observed: str


# -- one request ---------------------------------------------------------------------------------------
def request_findings(hit: Hit, secret: str, subscribed: set[str]) -> list[Finding]:
    """Everything wrong with one delivery request, as any receiver would see it."""
    out = []
    signature = hit.headers.get("texture-signature")
    want = hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
    if signature is None:
        out.append(Finding("the delivery has no Texture-Signature header", f"Texture-Signature: {want}",
                           "no such header"))
    elif not hmac.compare_digest(signature.strip().lower(), want):
        out.append(Finding("Texture-Signature is not the hex HMAC-SHA256 of the body's bytes keyed with the "
                           "destination's secret", want, signature))
    stamp = hit.headers.get("texture-timestamp")
    if parse_iso(stamp) is None:
        out.append(Finding("Texture-Timestamp is missing or not an ISO-8601 time", "an ISO-8601 date-time",
                           repr(stamp)))
    if not hit.headers.get("content-type", "").lower().startswith("application/json"):
        out.append(Finding("the delivery is not sent as JSON", "Content-Type: application/json",
                           repr(hit.headers.get("content-type"))))
    if hit.envelope is None:
        out.append(Finding("the body is not a JSON object", "{type, version, key, timestamp, data}",
                           hit.body[:200].decode(errors="replace")))
        return out
    compact = json.dumps(hit.envelope, separators=(",", ":")).encode()
    if compact != hit.body:
        out.append(Finding("the body is not compact JSON: a receiver that re-encodes it to check the signature "
                           "(json.dumps(payload, separators=(',', ':'))) gets other bytes",
                           compact[:200].decode(errors="replace"), hit.body[:200].decode(errors="replace")))
    out += envelope_findings(hit.envelope, subscribed)
    return out


def envelope_findings(env: dict[str, Any], subscribed: set[str]) -> list[Finding]:
    out = []
    kind = env.get("type")
    if not isinstance(kind, str) or not DOT_TYPE.match(kind):
        out.append(Finding("the envelope's type is not a dot-form event type", "such as customer.created", repr(kind)))
    elif kind not in subscribed:
        out.append(Finding("an event type the destination did not subscribe to was delivered",
                           "one of " + ", ".join(sorted(subscribed)), kind))
    if not isinstance(env.get("version"), str) or not SEMVER.match(env["version"]):
        out.append(Finding("the envelope's version is not x.y.z", "such as 1.0.0", repr(env.get("version"))))
    if not isinstance(env.get("key"), str) or not HEX64.match(env["key"]):
        out.append(Finding("the envelope's key is not 64 hex characters (SHA-256)", "64 lower-case hex characters",
                           repr(env.get("key"))))
    if parse_iso(env.get("timestamp")) is None:
        out.append(Finding("the envelope's timestamp is not an ISO-8601 time", "an ISO-8601 date-time",
                           repr(env.get("timestamp"))))
    if not isinstance(env.get("data"), dict):
        out.append(Finding("the envelope has no data object", "data: {...}", repr(env.get("data"))[:200]))
    extra = sorted(set(env) - {"type", "version", "key", "timestamp", "data"})
    if extra:
        out.append(Finding("the envelope has fields beyond {type, version, key, timestamp, data}",
                           "exactly those five", ", ".join(extra)))
    return out


# -- the events the check caused -----------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """An event the check caused: its type and what its data must hold."""

    type: str
    match: tuple[tuple[str, Any], ...]  # (data field, value) pairs that identify it
    operation: str  # the request that caused it, e.g. "PATCH /v1/customers/{customerId}"
    subject: str
    check: tuple[tuple[str, Any], ...] = ()  # further (data field, value) pairs it must carry

    def matches(self, hit: Hit) -> bool:
        return hit.type == self.type and all(_get(hit.data, k) == v for k, v in self.match)

    def describe(self) -> str:
        return f"{self.type} of {self.subject}"


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


@dataclass
class Arrivals:
    """The accepted deliveries of one expected event, grouped by key."""

    expect: Expect
    keys: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def first(self) -> Hit | None:
        accepted = [h for hits in self.keys.values() for h in hits if h.accepted]
        return min(accepted, key=lambda h: h.seq) if accepted else None


def arrivals(expect: Expect, hits: list[Hit]) -> Arrivals:
    out = Arrivals(expect)
    for h in hits:
        if expect.matches(h) and h.key is not None:
            out.keys.setdefault(h.key, []).append(h)
    return out


def once_findings(got: Arrivals) -> list[Finding]:
    """Exactly once after dedup by key, accepted, with the data the check knows it must carry."""
    expect = got.expect
    accepted = {k: hs for k, hs in got.keys.items() if any(h.accepted for h in hs)}
    if not accepted:
        seen = f"{sum(len(hs) for hs in got.keys.values())} attempts, none answered 2xx" if got.keys else "nothing"
        return [Finding(f"{expect.describe()} never arrived", f"one {expect.type} whose data has "
                        + ", ".join(f"{k}={v!r}" for k, v in expect.match), seen)]
    out = []
    if len(accepted) > 1:
        out.append(Finding(f"{expect.describe()} arrived under {len(accepted)} different keys: after dedup by key "
                           "a receiver sees it more than once", "one key", ", ".join(k[:12] + "…" for k in accepted)))
    first = got.first
    assert first is not None
    for field_path, value in expect.check:
        if _get(first.data, field_path) != value:
            out.append(Finding(f"{expect.describe()} carries the wrong data.{field_path}", repr(value),
                               repr(_get(first.data, field_path))))
    return out


def order_findings(chain: list[Arrivals]) -> list[Finding]:
    """The events of one subject were accepted in the order the check caused them."""
    firsts = [(g.expect, g.first) for g in chain if g.first is not None]
    for (a, ha), (b, hb) in pairwise(firsts):
        assert ha is not None and hb is not None
        if hb.seq < ha.seq:
            return [Finding(f"{b.describe()} arrived before {a.describe()}, which happened first",
                            f"{a.type} then {b.type}", f"{b.type} (delivery #{hb.seq}) before {a.type} "
                            f"(delivery #{ha.seq})")]
    return []


def device_order_findings(hits: list[Hit]) -> list[tuple[str, Finding]]:
    """Per device, the accepted events (first arrival of each key) must not go back in time."""
    seen: set[str] = set()
    last: dict[str, tuple[float, Hit]] = {}
    out = []
    for h in hits:
        if not h.accepted or h.key is None or h.key in seen:
            continue
        seen.add(h.key)
        device, at = h.data.get("deviceId"), parse_iso((h.envelope or {}).get("timestamp"))
        if not isinstance(device, str) or at is None:
            continue
        before = last.get(device)
        if before is not None and at < before[0] - ORDER_TOLERANCE_S:
            out.append((device, Finding(f"events of device {device} arrived out of order: {h.describe()} happened "
                                        f"before {before[1].describe()}, which arrived earlier",
                                        "per device, events in the order they happened",
                                        f"{(before[1].envelope or {}).get('timestamp')} then "
                                        f"{(h.envelope or {}).get('timestamp')}")))
        if before is None or at >= before[0]:
            last[device] = (at, h)
    return out


def retry_findings(got: Arrivals, failed_first: int) -> list[Finding]:
    """After ``failed_first`` answers of 500, the event came again: same key, same bytes, later and later."""
    expect = got.expect
    if not got.keys:
        return []  # (reported as never arrived)
    if len(got.keys) > 1:
        return [Finding(f"the redelivery of {expect.describe()} after HTTP 500 carries a new key, so a receiver "
                        "deduplicating by key takes it for another event", "the same key on every attempt",
                        f"{len(got.keys)} keys: " + ", ".join(k[:12] + "…" for k in got.keys))]
    attempts = next(iter(got.keys.values()))
    if len(attempts) <= failed_first:
        return [Finding(f"{expect.describe()} was not delivered again after the receiver answered HTTP 500",
                        f"more than {failed_first} attempts", f"{len(attempts)} attempt(s)")]
    out = []
    if len({h.body for h in attempts}) > 1:
        out.append(Finding(f"the redelivery of {expect.describe()} changed the body", "the same bytes every time",
                           f"{len({h.body for h in attempts})} different bodies"))
    sent = [parse_iso(h.headers.get("texture-timestamp")) for h in attempts]
    if all(t is not None for t in sent):
        gaps = [b - a for a, b in pairwise(sent)]  # type: ignore[operator]
        # on a running clock the retries land on the harness's clock steps, a few ms apart either way
        if gaps[0] < MIN_FIRST_RETRY_S or any(b < a - ORDER_TOLERANCE_S for a, b in pairwise(gaps[:failed_first])):
            out.append(Finding(f"the retries of {expect.describe()} do not back off (Texture-Timestamp of each "
                               "attempt)", f"the first after at least {MIN_FIRST_RETRY_S:g} s, each later one "
                               "waiting at least as long as the one before",
                               "gaps " + ", ".join(f"{g:g} s" for g in gaps)))
    return out
