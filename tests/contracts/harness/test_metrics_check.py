"""The ``metrics`` check: the reference passes at the default budget, judging every metric against history,
truth and the carbon provider; each planted metrics bug fails it on what it falsifies; and the pure judge
on hand-made numbers."""

from __future__ import annotations

from types import ModuleType

import pytest

from gridtwin.contracts.harness import CheckResult
from gridtwin.contracts.harness.checks import _metrics_judge as judge
from gridtwin.contracts.harness.checks._telemetry_trace import Series
from gridtwin.fixtures.servers import RunningWorld, reference_world

from ..apps import metrics_in_kwh, storage_summed
from ..apps.base import broken_world
from .workspace import one_check

BUG_MAX_EXAMPLES = 5  # one site, two quarter hours


def metrics(running: RunningWorld, max_examples: int | None = None) -> CheckResult:
    return one_check(running, "metrics", seed=4, max_examples=max_examples)


def judged(result: CheckResult) -> dict[str, int]:
    note = next(n for n in result.notes if n.startswith("judged: "))
    return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in note.removeprefix("judged: ").split(", "))}


def test_reference_passes_at_the_default_budget() -> None:
    with reference_world() as running:
        result = metrics(running)
    assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
    assert result.status == "passed"
    counts = judged(result)
    # two sites over two quarter hours: every metric against history and truth, sums, hours, refusals
    for topic in ("consumption", "production", "generation", "grid-energy"):
        assert counts[f"{topic} history"] >= 4 and counts[f"{topic} truth"] >= 2, (topic, counts)
    for topic in ("storage latest", "storage truth", "emissions intensity", "emissions truth", "site sum",
                  "customer sum", "hour windows", "short form", "period with windowSize", "unknown filterSiteId[]"):
        assert counts.get(topic, 0) >= 1, (topic, counts)
    assert result.cases > 80 and result.requests < 1200


@pytest.mark.slow  # a broken world each (~8 s): the judgements that catch them are tested below on every run
@pytest.mark.parametrize(("bug", "topics"), [
    (metrics_in_kwh, {"generation history", "grid-energy history", "storage latest", "storage truth"}),
    (storage_summed, {"hour windows"}),  # only hours with several readings show it
], ids=["metrics_in_kwh", "storage_summed"])
def test_planted_bug_fails_metrics(bug: ModuleType, topics: set[str]) -> None:
    assert bug.CAUGHT_BY == "metrics"
    with broken_world(bug.BUG) as running:
        result = metrics(running, BUG_MAX_EXAMPLES)
    assert result.status == "failed"
    found = {f.message.split(" (")[0] for f in result.failures}
    about = {_topic(f.subject, f.message) for f in result.failures}
    assert topics <= about, (about, found)
    for f in result.failures:
        assert f.check == "metrics" and f.seed == 4 and f.curl.startswith("curl ")
        assert f.operation == "GET /v1/metrics/{metric}" and f.expected and f.observed


def _topic(subject: str, message: str) -> str:
    metric = subject.split(" ", 1)[0]
    if message.startswith("the hour "):
        return "hour windows"
    if "latest reading" in message:
        return "storage latest"
    if "trapezoid" in message:
        return f"{metric} history"
    if "truth" in message:
        return f"{metric} truth"
    if "carbon intensity" in message:
        return "emissions intensity"
    return message


# -- the pure judge ------------------------------------------------------------------------------------------------
def test_history_energy_is_the_trapezoid_cut_at_the_edges() -> None:
    samples = [(0.0, -1000.0), (600.0, -1000.0), (1200.0, 2000.0)]
    e = judge.energy_from_history(samples, 300.0, 1200.0, "neg")
    # 300..600 at 1000 W, then from -1000 to +2000: a third of the 600 s below zero
    assert e is not None and e.value == pytest.approx(1000 * 300 / 3600 + 1000 * 200 / 2 / 3600)
    assert judge.energy_from_history(samples, 1200.0, 2100.0, "pos") == judge.Expected(
        None, 0.0, "no point: no two readings span any of the window")
    assert judge.energy_from_history([(0.0, 1.0), (7200.0, 1.0)], 0.0, 900.0, "pos") is None  # a gap: unknown


def test_latest_reading_of_the_window() -> None:
    samples = [(0.0, 10.0), (400.0, 20.0), (899.0, 30.0), (900.0, 40.0)]
    t, e = judge.latest_from_history(samples, 0.0, 900.0)
    assert (t, e.value) == (899.0, 30.0)
    assert judge.latest_from_history(samples, 1000.0, 1900.0)[1].value is None


def test_cadence_allowance_is_the_truth_span_times_the_overlap() -> None:
    series = Series()
    for k in range(41):  # truth power: 1000 W, a 3 kW spike for one step at 10 minutes
        series.add({"time_s": 60.0 * k, "faults": {}, "power_w": 4000.0 if k == 10 else 1000.0})
    readings = [(0.0, 1000.0), (300.0, 1000.0), (900.0, 1000.0), (1500.0, 1000.0), (2100.0, 1000.0)]
    # the segment 300..900 saw the spike; so may the reading at 900 (a mean over 300..900), and with it the
    # segment 900..1500; the segment after that is clear
    assert judge.cadence_allowance(readings, 0.0, 900.0, series, "power_w") == pytest.approx(3000.0 * 600 / 3600)
    assert judge.cadence_allowance(readings, 900.0, 1500.0, series, "power_w") == pytest.approx(3000.0 * 600 / 3600)
    assert judge.cadence_allowance(readings, 1500.0, 2100.0, series, "power_w") == 0.0
    assert judge.cadence_allowance([(-600.0, 1.0), (300.0, 1.0)], 0.0, 300.0, series, "power_w") is None
    assert judge.bracketed(readings, 300.0, 900.0) and not judge.bracketed(readings, 1000.0, 2200.0)


def test_a_kwh_point_is_far_outside_the_truth_tolerance() -> None:
    """What the kWh bug looks like to the truth judgement on a steady quarter hour."""
    series = Series()
    for k in range(31):
        series.add({"time_s": 60.0 * k, "faults": {}, "power_w": 2000.0, "energy_wh": 2000.0 * 60 * k / 3600})
    readings = [(0.0, 2000.0), (300.0, 2000.0), (600.0, 2000.0), (900.0, 2000.0), (1200.0, 2000.0)]
    truth = judge.truth_energy(series, "generation", 0.0, 900.0)
    allowance = judge.cadence_allowance(readings, 0.0, 900.0, series, "power_w")
    assert truth == pytest.approx(500.0) and allowance == 0.0
    tol = judge.truth_tolerance(truth, 0.0, 900.0, allowance)
    assert abs(500.0 - truth) <= tol < abs(0.5 - truth)
    assert judge.emissions_lbs(1000.0, judge.G_PER_LB) == pytest.approx(1.0)
