"""The ``enrollments`` check: the reference passes at the default budget within its time, leaves the
workspace as it found it and asks the same questions again with the same seed; the planted bug
(approved → submitted allowed) fails it naming the move; and each smaller defect is caught by its part."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest

from gridtwin.contracts.harness import CheckResult
from gridtwin.contracts.harness.http import Counter, Http
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import enrollment_resubmitted
from ..apps.base import Call, Mutant, broken_world
from .workspace import one_check, snapshot

# the sweep finds a broken move whatever the budget; two drawn sequences are plenty
BUG_MAX_EXAMPLES = 2
STATUS = re.compile(r"^/v1/enrollments/([^/]+)/status$")
ENROLLMENT = re.compile(r"^/v1/enrollments/([^/]+)$")


def enrollments(running: RunningWorld, max_examples: int | None = None, seed: int = 5) -> CheckResult:
    return one_check(running, "enrollments", seed=seed, max_examples=max_examples)


def programs_snapshot(running: RunningWorld) -> dict[str, Any]:
    api = Http("api", running.base_url, headers={"Texture-Api-Key": running.api_key}, counter=Counter(),
               timeout_s=30)
    try:
        return {path: sorted(x["id"] for x in api.pages(path))
                for path in ("/v1/programs", "/v1/programInstances", "/v1/enrollments", "/v1/leads")}
    finally:
        api.close()


def test_reference_passes_in_time_leaves_the_workspace_as_it_was_and_reruns() -> None:
    # the check reads no telemetry: the world needs no warm-up
    with reference_world(warmup_s=0) as running:
        before = (snapshot(running), programs_snapshot(running))
        first = enrollments(running)
        after = (snapshot(running), programs_snapshot(running))
        again = enrollments(running, BUG_MAX_EXAMPLES)
    for result in (first, again):
        assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
        assert result.status == "passed" and result.cases > 150
    statuses = int(re.search(r"(\d+) status requests", first.notes[-1]).group(1))  # type: ignore[union-attr]
    assert statuses > 80  # the sweep (about 50) and ten drawn sequences
    # everything made (enrollments, instances, leads, customers) is deleted; a built-in program was used
    assert after == before
    assert len(before[1]["/v1/programs"]) == 4 and "program high-country-solar-pilot," in first.notes[-1]
    # the same seed uses the same identities again (the first run left none behind)
    assert again.notes[-1].rsplit(";", 1)[1] == first.notes[-1].rsplit(";", 1)[1]


def test_planted_bug_fails_enrollments(switched: Any) -> None:
    assert enrollment_resubmitted.CAUGHT_BY == "enrollments"
    result = with_defect(switched, enrollment_resubmitted.BUG)
    assert result.status == "failed"
    # reported once (however often the sequences try it), with the move, the enrollment and a replayable line
    assert [(f.operation, f.message) for f in result.failures] == [
        ("POST /v1/enrollments/{enrollmentId}/status", "an illegal move approved -> submitted was accepted")]
    f = result.failures[0]
    assert re.fullmatch(r"enrollment c\w+", f.subject) and f.curl.startswith("curl -sS -X POST")
    assert f.expected == "HTTP 409 naming status approved" and f.seed == 5


# -- smaller defects, one part of the check each (all in one world, the defect swapped between runs) -----
class RefusalChangesStatus(Mutant):
    """A refused move answers 409 but the enrollment reads back in the status asked for."""

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.asked: dict[str, str] = {}

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        m, read = STATUS.match(call.path), ENROLLMENT.match(call.path)
        if m and status == 409:
            self.asked[m.group(1)] = (call.body or {}).get("status")
        elif m and status == 200:
            self.asked.pop(m.group(1), None)
        elif read and call.method == "GET" and status == 200 and read.group(1) in self.asked:
            body["status"] = self.asked[read.group(1)]
        return status, body


class RefusalNamesTheRequest(Mutant):
    """A refused move's 409 names the status asked for instead of the current one."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if STATUS.match(call.path) and status == 409:
            body["details"]["status"] = (call.body or {}).get("status")
        return status, body


class LegalMoveNotKept(Mutant):
    """A legal move answers 200 in the new status, but reads still show the old one."""

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.old: dict[str, str] = {}

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        m, read = STATUS.match(call.path), ENROLLMENT.match(call.path)
        if m and status == 200:
            self.old[m.group(1)] = body["statusHistory"][-2]["status"]
        elif read and call.method == "GET" and status == 200 and read.group(1) in self.old:
            body["status"] = self.old[read.group(1)]
        return status, body


class MissingListsOnlyOne(Mutant):
    """A 400 for missing fields lists only the first of them."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        missing = (body.get("details") or {}).get("missing") if isinstance(body, dict) else None
        if status == 400 and isinstance(missing, list) and len(missing) > 1:
            body["details"]["missing"] = missing[:1]
        return status, body


class ApprovalNotRecorded(Mutant):
    """The activity feed leaves out enrollment.approved events."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.path.endswith("/activity") and status == 200:
            kept = [e for e in body["data"] if e["type"] != "enrollment.approved"]
            body["totalItems"] -= len(body["data"]) - len(kept)
            body["data"] = kept
        return status, body


class CustomerInfoUnlinked(Mutant):
    """An enrollment by customerInfo names no customer (neither a new one nor the one with the email)."""

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "POST" and status == 201 and (call.body or {}).get("identificationType") == "customerInfo":
            body["customerId"] = None
        return status, body


class Switch(Mutant):
    """The mutant in front of the shared world: it forwards to whichever defect is in force."""

    live: ClassVar[list[Switch]] = []

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.defect: Mutant | None = None
        Switch.live.append(self)

    def request(self, call: Call) -> tuple[int, Any] | None:
        return self.defect.request(call) if self.defect else None

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return self.defect.response(call, status, body) if self.defect else (status, body)


MOVE, READ, CREATE = ("POST /v1/enrollments/{enrollmentId}/status", "GET /v1/enrollments/{enrollmentId}",
                      "POST /v1/programInstances/{instanceId}/enrollments")
# (the CI budget runs one defect per part by default; the rest are in the slow suite)
SLOW = pytest.mark.slow
SMALL = [
    pytest.param(RefusalChangesStatus, {(READ, "a refused move")}, id="RefusalChangesStatus"),
    pytest.param(RefusalNamesTheRequest, {(MOVE, "was not refused with 409 naming the current status")},
                 id="RefusalNamesTheRequest", marks=SLOW),
    pytest.param(LegalMoveNotKept, {(READ, "did not stick")}, id="LegalMoveNotKept", marks=SLOW),
    pytest.param(MissingListsOnlyOne, {(CREATE, "not refused listing exactly those fields")},
                 id="MissingListsOnlyOne"),
    pytest.param(ApprovalNotRecorded, {("GET /v1/customers/{customerId}/activity", "events are not one per change")},
                 id="ApprovalNotRecorded"),
    pytest.param(CustomerInfoUnlinked, {(CREATE, "the new enrollment is not what the contract says"),
                                        (CREATE, "did not give the enrollment a new customer")},
                 id="CustomerInfoUnlinked", marks=SLOW),
]


@pytest.fixture(scope="module")
def switched() -> Any:
    with broken_world(Switch, warmup_s=0) as running:
        yield running, Switch.live[-1]


def with_defect(switched: Any, defect: type[Mutant]) -> CheckResult:
    """The check's result against the shared world with ``defect`` in force (and none afterwards)."""
    running, switch = switched
    switch.defect = defect(switch.app, switch.world)
    try:
        return enrollments(running, BUG_MAX_EXAMPLES)
    finally:
        switch.defect = None


@pytest.mark.parametrize(("defect", "expected"), SMALL)
def test_each_part_catches_its_defect(switched: Any, defect: type[Mutant], expected: set[tuple[str, str]]) -> None:
    result = with_defect(switched, defect)
    assert result.status == "failed"
    found = {(op, part) for f in result.failures for op, part in expected if f.operation == op and part in f.message}
    assert found == expected, [f.text() for f in result.failures]
    # and nothing else: every finding is one the defect explains
    assert all(any(f.operation == op and part in f.message for op, part in expected) for f in result.failures), [
        f.text() for f in result.failures]
