"""Judging metric points: against the API's own history (exactly) and against a truth trace (pure).

The contract defines each metric of a window from device history (``getMetrics``): trapezoids between
readings cut at the window's edges (consumption, production, generation, grid-energy), the latest reading
in the window (storage), each quarter hour's grid energy times its carbon intensity (emissions, lbs). So
there are two judgements:

* **history** (exact, within rounding): the point equals what the harness computes from the readings
  ``GET /v1/devices/{deviceId}/history`` answers; a window with readings has a point and one without
  has none. Windows touched by a segment longer than :data:`MAX_SEGMENT_S` are left out (the contract's
  gap rule depends on the API's polling interval, which the harness does not know).
* **truth**: the point equals truth's energy counter over the window within ``max(2 %, 50 W × window)``
  (a reading may be off by 1 % or 50 W) plus what the cadence itself can miss: for each segment of
  readings overlapping the window, the span of truth's power over the readings that shape it times the
  overlap. A reading is truth's power at its instant or its mean over the interval before it, so it lies
  in that span, and so does the straight line between two readings: the trapezoid cannot be further from
  the true integral. Judged only where readings bracket the window and the trace covers them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ._telemetry_energy import integrate
from ._telemetry_trace import Series

Sample = tuple[float, float]
QUARTER_S = 900.0
MAX_SEGMENT_S = 3600.0  # every API's gap rule counts a segment this long (the contract: 1 h or 4 polls)
G_PER_LB = 453.59237
ABS_WH = 0.01  # history judgement: rounding to 3 decimals, and float sums
REL = 1e-5
TRUTH_REL = 0.02
TRUTH_ABS_W = 50.0

# metric -> (the state field it reads, the part of its area)
ENERGY: dict[str, tuple[str, str]] = {"consumption": ("chargeRate", "neg"), "production": ("chargeRate", "pos"),
                                      "generation": ("power", "pos"), "grid-energy": ("gridPower", "net")}
# metric -> truth's counter of the subject (a device's truth, or the home's for grid-energy)
COUNTERS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "consumption": lambda s: _num(s.get("charged_wh")),
    "production": lambda s: _num(s.get("discharged_wh")),
    "generation": lambda s: _num(s.get("energy_wh")),
    "grid-energy": lambda s: _diff(_num(s.get("import_wh")), _num(s.get("export_wh"))),
}
# metric -> truth's power field (W, the contract's signs) of the same subject
TRUTH_POWER = {"consumption": "power_w", "production": "power_w", "generation": "power_w", "grid-energy": "grid_w"}


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def samples_of(states: Sequence[Mapping[str, Any]], field: str, parse: Callable[[str], float]) -> list[Sample]:
    """(createdAt, value) of one field, time-sorted, skipping states without a number there."""
    out = []
    for s in states:
        v = _num(s.get(field))
        if v is not None:
            try:
                out.append((parse(str(s["createdAt"])), v))
            except (KeyError, ValueError):
                continue
    return sorted(out)


# -- the history judgement --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    value: float | None  # None: the window must have no point
    tolerance: float
    why: str  # how it was computed, for the failure's "expected"


def _segments(samples: Sequence[Sample], a: float, b: float) -> list[tuple[Sample, Sample]]:
    return [(p, q) for p, q in pairwise(samples) if q[0] > a and p[0] < b and q[0] > p[0]]


def energy_from_history(samples: Sequence[Sample], a: float, b: float, part: str) -> Expected | None:
    """What an energy point over [a, b) must be; None when a segment is too long to say."""
    segs = _segments(samples, a, b)
    if any(q[0] - p[0] > MAX_SEGMENT_S for p, q in segs):
        return None
    if not segs:
        return Expected(None, 0.0, "no point: no two readings span any of the window")
    pos, neg = integrate(samples, a, b)
    value = {"pos": pos, "neg": neg}.get(part, pos - neg)
    return Expected(value, ABS_WH + REL * abs(value), f"the trapezoids of {len(segs)} segments of history")


def latest_from_history(samples: Sequence[Sample], a: float, b: float) -> tuple[float, Expected]:
    """(the reading's time, what a storage point over [a, b) must be): the latest reading inside it."""
    inside = [s for s in samples if a <= s[0] < b]
    if not inside:
        return math.nan, Expected(None, 0.0, "no point: no reading in the window")
    t, v = inside[-1]
    return t, Expected(v, 0.001 + 1e-7 * abs(v), f"the latest of {len(inside)} readings in the window")


# -- the truth judgement ----------------------------------------------------------------------------------
def bracketed(samples: Sequence[Sample], a: float, b: float) -> bool:
    """Readings at or before ``a`` and at or after ``b``, and no segment between them too long."""
    times = [t for t, _ in samples]
    i, j = bisect.bisect_right(times, a) - 1, bisect.bisect_left(times, b)
    if i < 0 or j >= len(times):
        return False
    return all(times[k + 1] - times[k] <= MAX_SEGMENT_S for k in range(i, j))


def dense(series: Series, t0: float, t1: float, max_gap_s: float) -> bool:
    """Whether the trace covers [t0, t1] with samples at most ``max_gap_s`` apart (a fleet step, or about:
    powers are held over fleet steps, so then no value between two samples went unseen)."""
    if not series.times or t0 < series.start - 1e-6 or t1 > series.end + 1e-6:
        return False
    lo = max(bisect.bisect_right(series.times, t0 + 1e-6) - 1, 0)
    hi = min(bisect.bisect_left(series.times, t1 - 1e-6) + 1, len(series.times))
    return all(b - a <= max_gap_s for a, b in pairwise(series.times[lo:hi]))


def spread(series: Series, field: str, t0: float, t1: float, max_gap_s: float = math.inf) -> float | None:
    """max - min of truth's ``field`` over [t0, t1] (from the sample at or before t0, whose value holds into
    it), or None when the trace does not cover it densely enough to have seen every value."""
    if not dense(series, t0, t1, max_gap_s):
        return None
    lo = max(bisect.bisect_right(series.times, t0 + 1e-6) - 1, 0)
    hi = bisect.bisect_right(series.times, t1)
    values = [_num(s.get(field)) for s in series.samples[lo:hi]]
    if not values or any(v is None for v in values):
        return None
    return max(values) - min(values)  # type: ignore[type-var]


def cadence_allowance(samples: Sequence[Sample], a: float, b: float, series: Series, field: str,
                      max_gap_s: float = math.inf) -> float | None:
    """Wh the trapezoids may miss over [a, b): each overlapping segment's truth power span times its
    overlap (the span from the reading before the segment, whose interval a mean reading covers); None
    where the trace is not dense (``max_gap_s``) over those readings."""
    total = 0.0
    times = [t for t, _ in samples]
    for k, ((t0, _), (t1, _)) in enumerate(pairwise(samples)):
        if t1 <= a or t0 >= b or t1 <= t0:
            continue
        before = times[k - 1] if k > 0 else t0
        s = spread(series, field, before, t1, max_gap_s)
        if s is None:
            return None
        total += s * (min(t1, b) - max(t0, a)) / 3600.0
    return total


def truth_energy(series: Series, metric: str, a: float, b: float) -> float | None:
    """Truth's counter over [a, b] (interpolated: a counter is linear within a fleet step)."""
    counter = COUNTERS[metric]
    at = [{k: series.interpolate(k, t) for k in ("charged_wh", "discharged_wh", "energy_wh", "import_wh",
                                                  "export_wh")} for t in (a, b)]
    c0, c1 = counter(at[0]), counter(at[1])
    return None if c0 is None or c1 is None else c1 - c0


def truth_tolerance(truth_wh: float, a: float, b: float, allowance: float) -> float:
    return max(TRUTH_REL * abs(truth_wh), TRUTH_ABS_W * (b - a) / 3600.0) + allowance


def emissions_lbs(grid_wh: float, g_per_kwh: float) -> float:
    return grid_wh / 1000.0 * g_per_kwh / G_PER_LB
