"""The ``conformance`` check: the reference passes it at the default budget and leaves the workspace the
later checks read as it found it; each planted bug fails it on the operation it breaks."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from gridtwin.contracts.harness import DEFAULT_MAX_EXAMPLES, CheckResult
from gridtwin.contracts.harness.checks import _conformance_domain as domain
from gridtwin.contracts.harness.checks._conformance_schemathesis import Runner, load_schema
from gridtwin.contracts.harness.http import Counter
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import boundary_500, missing_auth, wrong_total_items
from ..apps.base import broken_world
from .workspace import one_check, snapshot

# a bug run needs every phase (coverage finds the boundary) but not the default fuzzing budget
BUG_MAX_EXAMPLES = 1
THERMOSTAT_MODE = "POST /v1/commands/thermostat/set-operating-mode"


@pytest.fixture(scope="module")
def world() -> Iterator[RunningWorld]:
    with reference_world() as running:
        yield running


def conformance(running: RunningWorld, max_examples: int | None = None) -> CheckResult:
    return one_check(running, "conformance", seed=7, max_examples=max_examples)


def test_reference_passes_at_the_default_budget_and_keeps_the_workspace(world: RunningWorld) -> None:
    before = snapshot(world)
    result = conformance(world)
    assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
    assert result.status == "passed"
    # every phase judged something: the examples, ~2800 coverage cases, fuzzing, stateful steps
    assert result.cases > 3000 and result.requests >= result.cases
    after = snapshot(world)
    # the run adds its own records (customers, sites, keys) but changes none that were there
    for kind in ("devices", "customers", "sites"):
        assert {k: after[kind].get(k) for k in before[kind]} == before[kind], kind
    assert before["keys"] <= after["keys"]


def test_wrong_total_items_is_caught_on_every_list() -> None:
    with broken_world(wrong_total_items.BUG) as running:
        result = conformance(running, BUG_MAX_EXAMPLES)
    lists = {f"{m} {p}" for m, p, _ in domain.paginated()}
    flagged = {f.operation for f in result.failures if "totalItems" in f.message}
    assert wrong_total_items.CAUGHT_BY == "conformance"
    assert flagged == lists
    devices = next(f for f in result.failures if f.operation == "GET /v1/devices" and "distinct" in f.message)
    assert devices.observed == "totalItems 23" and "(22)" in devices.expected and "perPage=3" in devices.curl
    assert {f.operation for f in result.failures} <= lists


def test_boundary_500_is_found_by_the_coverage_phase() -> None:
    with broken_world(boundary_500.BUG) as running:
        result = conformance(running, BUG_MAX_EXAMPLES)
    assert {f.operation for f in result.failures} == {THERMOSTAT_MODE}
    crash = next(f for f in result.failures if "Server error" in f.message)
    assert "coverage phase" in crash.message and crash.observed.startswith("500 ")
    assert "INTERNAL_ERROR" in crash.observed and "set-operating-mode" in crash.curl


def test_missing_auth_is_caught_on_the_list_it_opens() -> None:
    with broken_world(missing_auth.BUG) as running:
        result = conformance(running, BUG_MAX_EXAMPLES)
    assert {f.operation for f in result.failures} == {"GET /v1/devices"}
    sweep = next(f for f in result.failures if f.subject == "no Texture-Api-Key")
    assert sweep.observed.startswith("200 ") and "401" in sweep.expected
    assert "Texture-Api-Key" not in sweep.curl  # the replay line really sends no key


def test_fuzzing_is_deterministic_for_a_seed() -> None:
    """The same seed draws the same cases; another seed draws others (no server needed)."""

    def drawn(seed: int) -> list[str]:
        ctx = SimpleNamespace(seed=seed, max_examples=DEFAULT_MAX_EXAMPLES, counter=Counter())
        runner = Runner(ctx, box=None, schema=load_schema("api_" + "0" * 32, seed))  # type: ignore[arg-type]
        cases: list[str] = []
        runner.run_case = lambda case: cases.append(repr((case.path_parameters, case.query, case.body)))  # type: ignore[method-assign]
        runner.fuzzing(runner.schema["/v1/customers"]["POST"])
        return cases

    assert drawn(1) == drawn(1)
    assert drawn(1) != drawn(2)
