"""The ``webhooks`` check: the reference passes and leaves nothing behind; each planted webhook bug
(``unsigned_webhooks``, ``webhook_key_per_attempt``) fails it with findings that name the defect; and
the judge catches smaller defects one by one (pure: hand-made deliveries)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from gridtwin.contracts.harness.checks import _webhooks_judge as judge
from gridtwin.contracts.harness.checks._webhooks_receiver import Hit, Receiver
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import unsigned_webhooks, webhook_key_per_attempt
from .workspace import one_check

SECRET = "whsec_judge_0123456789"
SUBSCRIBED = {"customer.created", "customer.updated", "device.updated"}


@pytest.fixture(scope="module")
def running() -> Any:
    with reference_world() as r:
        yield r


def leftovers(running: RunningWorld) -> list[Any]:
    """What a webhooks run may leave behind: destinations, and customers or sites of its identities."""
    h = {"Texture-Api-Key": running.api_key}
    out: list[Any] = httpx.get(f"{running.base_url}/v1/destinations", headers=h).json()["data"]
    for kind in ("customers", "sites"):
        rows = httpx.get(f"{running.base_url}/v1/{kind}", headers=h, params={"perPage": 100}).json()["data"]
        out += [r["id"] for r in rows if str(r.get("referenceId") or "").startswith("gridtwin-webhooks")]
    return out


def test_reference_passes_and_leaves_nothing_behind(running: RunningWorld) -> None:
    result = one_check(running, "webhooks", seed=3)
    assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
    assert result.status == "passed" and result.cases >= 25
    # every event of the story (4 customer, 3 site, 1 command) and both retried ones were judged
    assert "8 events caused and judged, 2 through retries" in result.notes[0], result.notes
    assert leftovers(running) == []


@pytest.mark.parametrize("bug", [unsigned_webhooks, webhook_key_per_attempt],
                         ids=["unsigned_webhooks", "webhook_key_per_attempt"])
def test_planted_bug_fails_webhooks(running: RunningWorld, bug: Any) -> None:
    assert bug.CAUGHT_BY == "webhooks"
    bug.BUG(running.world.app, running.world)  # the defect is in the deliveries going out, not in /v1
    try:
        result = one_check(running, "webhooks", seed=4)
    finally:
        running.world.unified.webhooks.use_transport(None)
    assert result.status == "failed" and result.failures
    for f in result.failures:
        assert f.check == "webhooks" and f.seed == 4
    if bug is unsigned_webhooks:
        # one finding for the kind of defect, naming the first delivery and the signature it should have had
        assert [f.message for f in result.failures] == ["the delivery has no Texture-Signature header"]
        f = result.failures[0]
        assert f.observed == "no such header" and f.expected.startswith("Texture-Signature: ")
        assert f.operation.startswith("POST /gridtwin/webhooks (webhook ") and f.curl.startswith("curl ")
    else:
        # only retries are re-keyed: the two events of the retry phase, each with its three keys
        assert [f.operation for f in result.failures] == ["POST /v1/customers", "PATCH /v1/customers/{customerId}"]
        for f in result.failures:
            assert "carries a new key" in f.message and f.observed.startswith("3 keys: ")
            assert "refused twice by the receiver" in f.subject
    assert leftovers(running) == []


# -- the judge, defect by defect ------------------------------------------------------------------------------
def hit(envelope: dict[str, Any], *, seq: int = 0, status: int = 200, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> Hit:
    raw = body if body is not None else json.dumps(envelope, separators=(",", ":")).encode()
    h = {"content-type": "application/json", "texture-timestamp": "2026-07-15T12:00:01.000Z",
         "texture-signature": hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest(), **(headers or {})}
    return Hit(seq, "/gridtwin/webhooks", h, raw, status, envelope)


def envelope(kind: str = "customer.created", key: str = "a" * 64, ts: str = "2026-07-15T12:00:00.000Z",
             **data: Any) -> dict[str, Any]:
    return {"type": kind, "version": "0.0.1", "key": key, "timestamp": ts, "data": {"id": "c1", **data}}


def messages(found: list[judge.Finding]) -> list[str]:
    return [f.message for f in found]


def test_a_well_formed_delivery_has_no_findings() -> None:
    assert judge.request_findings(hit(envelope()), SECRET, SUBSCRIBED) == []


@pytest.mark.parametrize(("make", "words"), [
    (lambda: hit(envelope(), headers={"texture-signature": "0" * 64}), "not the hex HMAC-SHA256"),
    (lambda: hit(envelope(), body=json.dumps(envelope()).encode()), "not compact JSON"),
    (lambda: hit(envelope(), headers={"texture-timestamp": "yesterday"}), "Texture-Timestamp"),
    (lambda: hit(envelope("site.created")), "did not subscribe"),
    (lambda: hit(envelope(key="XYZ")), "64 hex"),
    (lambda: hit({**envelope(), "deviceId": "d1"}), "beyond {type, version, key, timestamp, data}"),
    (lambda: hit(envelope(), headers={"content-type": "text/plain"}), "not sent as JSON"),
])
def test_each_request_defect_is_found(make: Any, words: str) -> None:
    found = messages(judge.request_findings(make(), SECRET, SUBSCRIBED))
    assert len(found) == 1 and words in found[0], found


def test_exactly_once_after_dedup_and_the_data_it_must_carry() -> None:
    expect = judge.Expect("customer.created", (("id", "c1"),), "POST /v1/customers", "customer c1",
                          (("email", "a@example.org"),))
    same_key_twice = [hit(envelope(email="a@example.org")), hit(envelope(email="a@example.org"), seq=1)]
    assert judge.once_findings(judge.arrivals(expect, same_key_twice)) == []  # at least once is fine
    two_keys = [same_key_twice[0], hit(envelope(key="b" * 64, email="a@example.org"), seq=1)]
    assert "under 2 different keys" in messages(judge.once_findings(judge.arrivals(expect, two_keys)))[0]
    assert "never arrived" in messages(judge.once_findings(judge.arrivals(expect, [])))[0]
    refused = [hit(envelope(email="a@example.org"), status=500)]
    assert judge.once_findings(judge.arrivals(expect, refused))[0].observed == "1 attempts, none answered 2xx"
    wrong = judge.once_findings(judge.arrivals(expect, [hit(envelope(email="b@example.org"))]))
    assert messages(wrong) == ["customer.created of customer c1 carries the wrong data.email"]


def test_order_per_subject_and_per_device() -> None:
    created = judge.Expect("customer.created", (("id", "c1"),), "POST", "customer c1")
    updated = judge.Expect("customer.updated", (("id", "c1"),), "PATCH", "customer c1")
    hits = [hit(envelope("customer.updated", key="b" * 64)), hit(envelope(), seq=1)]
    found = judge.order_findings([judge.arrivals(created, hits), judge.arrivals(updated, hits)])
    assert messages(found) == ["customer.updated of customer c1 arrived before customer.created of customer c1, "
                               "which happened first"]
    late = [hit(envelope("device.updated", key="c" * 64, ts="2026-07-15T12:05:00.000Z", deviceId="d1")),
            hit(envelope("device.updated", key="d" * 64, ts="2026-07-15T12:01:00.000Z", deviceId="d1"), seq=1),
            hit(envelope("device.updated", key="e" * 64, ts="2026-07-15T12:00:00.000Z", deviceId="d2"), seq=2)]
    assert [device for device, _ in judge.device_order_findings(late)] == ["d1"]


def test_retries_keep_key_and_bytes_and_back_off() -> None:
    expect = judge.Expect("customer.created", (("id", "c1"),), "POST", "customer c1")

    def attempts(stamps: list[str], keys: list[str] | None = None) -> list[Hit]:
        return [hit(envelope(key=(keys or ["a" * 64] * 3)[i]), seq=i, status=200 if i == len(stamps) - 1 else 500,
                    headers={"texture-timestamp": t}) for i, t in enumerate(stamps)]

    good = attempts(["2026-07-15T12:00:00Z", "2026-07-15T12:00:30Z", "2026-07-15T12:01:30Z"])
    assert judge.retry_findings(judge.arrivals(expect, good), 2) == []
    # served, retries land on the harness's clock steps: the later gap may come out a few ms shorter
    stepped = attempts(["2026-07-15T12:00:00.000Z", "2026-07-15T12:01:02.015Z", "2026-07-15T12:02:04.003Z"])
    assert judge.retry_findings(judge.arrivals(expect, stepped), 2) == []
    hot = attempts(["2026-07-15T12:00:00Z", "2026-07-15T12:00:30Z", "2026-07-15T12:00:31Z"])
    assert "do not back off" in messages(judge.retry_findings(judge.arrivals(expect, hot), 2))[0]
    rekeyed = attempts(["2026-07-15T12:00:00Z", "2026-07-15T12:00:30Z", "2026-07-15T12:01:30Z"],
                       ["a" * 64, "b" * 64, "c" * 64])
    assert "carries a new key" in messages(judge.retry_findings(judge.arrivals(expect, rekeyed), 2))[0]
    once = attempts(["2026-07-15T12:00:00Z"])
    once[0].status = 500
    assert "not delivered again" in messages(judge.retry_findings(judge.arrivals(expect, once), 2))[0]


def test_the_receiver_counts_attempts_of_an_event_even_when_its_key_changes() -> None:
    receiver = Receiver(fail=lambda _hit, attempt: attempt < 2).start()
    try:
        answers = [httpx.post(receiver.url, content=json.dumps(envelope(key=k * 64)).encode(),
                              headers={"Content-Type": "application/json"}).status_code for k in "abc"]
    finally:
        receiver.stop()
    assert answers == [500, 500, 200]
    assert [h.status for h in receiver.snapshot()] == answers and receiver.snapshot()[2].key == "c" * 64
