"""The ``linking`` check: the reference passes at the default budget, leaves the workspace as it found it
and passes again on a rerun with the same seed; each planted linking bug fails it naming the customer
or device; and smaller defects in usage, auto-linking, delete and scoped keys are caught too."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from gridtwin.contracts.harness import CheckResult
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import cross_workspace_read, missing_customer_device
from ..apps.base import Call, Mutant, broken_world
from .workspace import one_check, snapshot

BUG_MAX_EXAMPLES = 2


def linking(running: RunningWorld, max_examples: int | None = None, seed: int = 5) -> CheckResult:
    return one_check(running, "linking", seed=seed, max_examples=max_examples)


def test_reference_passes_leaves_the_workspace_as_it_was_and_reruns() -> None:
    with reference_world() as running:
        before = snapshot(running)
        first = linking(running)
        after = snapshot(running)
        again = linking(running)
        # a leftover holding the run's first identity (a crashed run's) moves the next run on to fresh ones
        tag = first.notes[-1].rsplit(" ", 1)[1]
        leftover = httpx.post(f"{running.base_url}/v1/customers", json={"referenceId": f"{tag}-a"},
                              headers={"Texture-Api-Key": running.api_key})
        assert leftover.status_code == 201
        third = linking(running)
    for result in (first, again, third):
        assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
        assert result.status == "passed" and result.cases > 80
    shares = re.search(r": 6 customers, (\d+) device shares recomputed from history", first.notes[0])
    assert shares and int(shares.group(1)) >= 4, first.notes
    # everything made is deleted, the borrowed device is back, both keys are revoked
    assert after == before
    # the same seed asks the same questions with the same identities (the first run left none behind)
    assert again.notes[-1] == first.notes[-1] != third.notes[-1]
    assert third.notes[-1].endswith(tag[:-1] + "1")


@pytest.mark.parametrize("bug", [missing_customer_device, cross_workspace_read],
                         ids=["missing_customer_device", "cross_workspace_read"])
def test_planted_bug_fails_linking(bug: Any) -> None:
    assert bug.CAUGHT_BY == "linking"
    with broken_world(bug.BUG) as running:
        result = linking(running, BUG_MAX_EXAMPLES)
    assert result.status == "failed"
    for f in result.failures:
        assert f.check == "linking" and f.curl.startswith("curl ") and f.seed == 5
    if bug is missing_customer_device:
        # every pre-connected customer, by id and referenceId, with the device missing named with its truth id
        assert {f.operation for f in result.failures} == {"GET /v1/customers/{customerId}/devices"}
        assert len(result.failures) == 6
        for f in result.failures:
            assert re.fullmatch(r"customer c\w+ \(referenceId home-\d{5}\)", f.subject), f.subject
            assert "device list lacks devices" in f.message and "(truth " in f.expected
    else:
        assert {f.operation for f in result.failures} == {"GET /v1/devices/{deviceId}"}
        for f in result.failures:
            assert "another workspace" in f.subject and "/v1/devices/c" in f.subject
            assert f.expected == "HTTP 404" and f.observed.startswith("HTTP 200")


# -- smaller defects, one part of the check each ------------------------------------------------------------
class UsageTotalInflated(Mutant):
    """Usage totals that are not the sum of their parts."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.path.endswith("/usage") and status == 200:
            body["totals"]["solarProductionWh"] += 100.0
        return status, body


class SiteNotAutoLinked(Mutant):
    """A new site's answer forgets the customer auto-linking (referenceId, address) gave it."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "POST" and call.path == "/v1/sites" and status == 201 and not (call.body or {}).get(
                "customerId"):
            body["customerId"] = None
        return status, body


class DeletedCustomerLingers(Mutant):
    """Sites of a deleted customer still name them."""

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.gone: list[str] = []

    def request(self, call: Call) -> tuple[int, Any] | None:
        if call.method == "DELETE" and call.path.startswith("/v1/customers/"):
            self.gone.append(call.path.rsplit("/", 1)[1])
        return None

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "GET" and call.path.startswith("/v1/sites/") and status == 200 and \
                body.get("customerId") is None and self.gone:
            body["customerId"] = self.gone[-1]
        return status, body


class ScopedKeyReadsAll(Mutant):
    """A scoped key reads another referenceId's device."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if (call.key or "").startswith("scoped_") and status == 403 and call.path.startswith("/v1/devices/"):
            return 200, {"id": call.path.split("/")[3]}
        return status, body


SMALL = [(UsageTotalInflated, "GET /v1/customers/{customerId}/usage", "totals.solarProductionWh is not the sum"),
         (SiteNotAutoLinked, "POST /v1/sites", "is not linked as auto-linking by"),
         (DeletedCustomerLingers, "GET /v1/sites/{siteId}", "still names a customer"),
         (ScopedKeyReadsAll, "GET /v1/devices/{deviceId}", "a scoped key reaches exactly"),
         (ScopedKeyReadsAll, "GET /v1/devices/{deviceId}/history", "a scoped key reaches exactly")]


@pytest.mark.parametrize("mutant", list(dict.fromkeys(m for m, _, _ in SMALL)), ids=lambda m: m.__name__)
def test_each_part_catches_its_defect(mutant: type[Mutant]) -> None:
    with broken_world(mutant) as running:
        result = linking(running, BUG_MAX_EXAMPLES)
    assert result.status == "failed"
    expected = {(op, message) for m, op, message in SMALL if m is mutant}
    found = {(f.operation, message) for f in result.failures for op, message in expected if message in f.message}
    assert found == expected and len(found) == len({f.operation for f in result.failures}), [
        f.text() for f in result.failures]
