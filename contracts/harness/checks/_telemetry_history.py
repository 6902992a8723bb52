"""Judging a device's history over the trace window: order, range, gaps, and energy against truth (pure).

* **order**: ascending by ``createdAt``, each state once, every ``createdAt`` inside the ``[from, to]``
  asked for (the contract's getDeviceHistory);
* **gaps**: from the window's start to its end, no two consecutive states further apart than the
  staleness bound, except where a fault window covers the gap;
* **energy**: the trapezoid integral of inverter ``power`` (battery ``chargeRate``) between the first and
  the last state inside the window equals truth's counter over the same instants (``energy_wh``;
  ``discharged_wh - charged_wh``). Tolerance: 5 % or 50 Wh (each reading may be off by 1 % or 50 W,
  which over a window of at most an hour is at most that), plus the error the cadence itself makes:
  the trapezoid of *truth's* power at the same instants against truth's counter, so a cloud passing
  between two polls is not blamed on the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..sim import parse_ts
from ._telemetry_energy import net
from ._telemetry_fields import number
from ._telemetry_judge import Finding, Findings, Subject, iso
from ._telemetry_trace import Series

ENERGY_REL = 0.05
ENERGY_ABS_WH = 50.0


@dataclass(frozen=True)
class Window:
    start: float  # the trace's first sample
    end: float  # the trace's last sample
    from_s: float  # what the history was asked from (start minus the bound, or the device's discovery)


# device type -> (state power field, truth power field, truth counter as a function of a sample)
ENERGY: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], float | None]]] = {
    "inverter": ("power", "power_w", lambda s: number(s.get("energy_wh"))),
    "battery": ("chargeRate", "power_w", lambda s: _diff(number(s.get("discharged_wh")), number(s.get("charged_wh")))),
}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def judge_history(subject: Subject, states: Sequence[Mapping[str, Any]], series: Series, window: Window,
                  excused: Callable[[float, float], bool], findings: Findings, *, operation: str,
                  curl: str) -> None:
    def fail(topic: str, message: str, expected: str, observed: str, excess: float = 1.0) -> None:
        findings.add(Finding(operation, subject.text(), topic, message, expected, observed, curl, excess))

    timed: list[tuple[float, Mapping[str, Any]]] = []
    for s in states:
        try:
            timed.append((_ts(s["createdAt"]), s))
        except (KeyError, TypeError, ValueError):
            fail("history order", "a history state without a valid createdAt", "an ISO-8601 createdAt",
                 repr(s.get("createdAt")))
            return
    findings.judged_one(operation, subject.text(), "history order")
    times = [t for t, _ in timed]
    for i, (a, b) in enumerate(pairwise(times)):
        if b < a:
            fail("history order", "history is not ascending by createdAt", f"state {i + 2} at or after {iso(a)}",
                 f"state {i + 2} at {iso(b)}")
            break
    ids = [s.get("id") for _, s in timed]
    if len(set(ids)) != len(ids):
        fail("history order", "a state appears twice in the history", "each state id once",
             f"{len(ids) - len(set(ids))} repeated ids")
    outside = [t for t in times if not window.from_s - 0.001 <= t <= window.end + 0.001]
    if outside:
        fail("history order", "history answered states outside the [from, to] asked for",
             f"createdAt within {iso(window.from_s)}..{iso(window.end)}",
             f"{len(outside)} of {len(times)} outside, e.g. {iso(outside[0])}", abs(outside[0] - window.end))
    _gaps(subject, sorted(t for t in times if window.from_s <= t <= window.end), window, excused, findings,
          fail, operation)
    _energy(subject, sorted(timed, key=lambda x: x[0]), series, window, excused, findings, fail, operation)


def _ts(text: Any) -> float:
    return parse_ts(str(text))


def _gaps(subject: Subject, times: list[float], window: Window, excused: Callable[[float, float], bool],
          findings: Findings, fail: Callable[..., None], operation: str) -> None:
    findings.judged_one(operation, subject.text(), "history gaps")
    points = [window.from_s, *times, window.end]
    worst: tuple[float, float, float] | None = None
    for a, b in pairwise(points):
        gap = b - a
        if gap > subject.bound_s and not excused(a, b) and (worst is None or gap > worst[0]):
            worst = (gap, a, b)
    if worst is not None:
        gap, a, b = worst
        fail("history gaps", "the history has a gap longer than the staleness bound outside any fault window",
             f"consecutive states at most {subject.bound_s:.0f} s apart over {iso(window.from_s)}..{iso(window.end)}",
             f"no state between {iso(a)} and {iso(b)} ({gap:.0f} s; {len(times)} states in the window)",
             gap - subject.bound_s)


def _energy(subject: Subject, timed: list[tuple[float, Mapping[str, Any]]], series: Series, window: Window,
            excused: Callable[[float, float], bool], findings: Findings, fail: Callable[..., None],
            operation: str) -> None:
    spec = ENERGY.get(subject.type)
    if spec is None:
        return
    field, truth_power, counter = spec
    inside = [(t, number(s.get(field))) for t, s in timed if window.start <= t <= window.end]
    samples = [(t, p) for t, p in inside if p is not None]
    if len(samples) < 2 or len(samples) != len(inside):
        return  # one state spans no time; a missing value leaves nothing to integrate honestly
    a, b = samples[0][0], samples[-1][0]
    if b <= a or excused(a, b) or series.silenced(a, b):
        return
    c0, c1 = counter(_sample_at(series, a)), counter(_sample_at(series, b))
    truth_p = [(t, series.interpolate(truth_power, t)) for t, _ in samples]
    if c0 is None or c1 is None or any(p is None for _, p in truth_p):
        return
    truth_wh = c1 - c0
    cadence_wh = abs(truth_wh - net([(t, float(p)) for t, p in truth_p if p is not None], a, b))
    # truth's power at a reading's instant is only known between the truth samples around it (clouds move
    # within a clock step): each reading may differ from the interpolation by up to that spread
    unsure_wh = sum(w * _spread(series, truth_power, t) for (t, _), w in zip(samples, _weights_h(samples),
                                                                               strict=True))
    got_wh = net(samples, a, b)
    tol = max(ENERGY_REL * abs(truth_wh), ENERGY_ABS_WH) + cadence_wh + unsure_wh
    findings.judged_one(operation, subject.text(), f"{field} energy")
    if abs(got_wh - truth_wh) > tol:
        what = "discharged_wh - charged_wh" if subject.type == "battery" else "energy_wh"
        fail(f"{field} energy", f"the trapezoid integral of history {field} does not match truth's energy counter",
             f"{truth_wh:.1f} Wh ± {tol:.1f} Wh (truth {what} from {iso(a)} to {iso(b)}; 5 % or 50 Wh plus "
             f"{cadence_wh:.1f} Wh the {len(samples)}-sample cadence itself misses, plus {unsure_wh:.1f} Wh for "
             "truth's power between its own samples)",
             f"{got_wh:.1f} Wh over {len(samples)} states", abs(got_wh - truth_wh) - tol)


def _spread(series: Series, name: str, t: float) -> float:
    """How far apart truth's ``name`` is in the samples around ``t`` (0 at a sample)."""
    values = [v for v in (number(s.get(name)) for s in series.bracket(t)) if v is not None]
    return max(values) - min(values) if values else 0.0


def _weights_h(samples: Sequence[tuple[float, Any]]) -> list[float]:
    """Each reading's weight (hours) in the trapezoid integral of the readings."""
    times = [t for t, _ in samples]
    return [((times[i] - times[i - 1] if i else 0.0) + (times[i + 1] - times[i] if i + 1 < len(times) else 0.0))
            / 2 / 3600.0 for i in range(len(times))]


def _sample_at(series: Series, t: float) -> dict[str, Any]:
    """Truth's counters interpolated at ``t`` (only the fields the energy check reads)."""
    return {k: series.interpolate(k, t) for k in ("energy_wh", "discharged_wh", "charged_wh")}
