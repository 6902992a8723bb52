"""A truth trace: ground truth of each device sampled at every clock step, and questions about it.

The control plane answers truth only "now", while a unified state was measured at its ``createdAt``.
So the telemetry check samples truth after every step of the clock and asks the trace what truth was
around an instant: the samples bracketing it, the samples covering a span, a value interpolated in
time (energy counters are integrals of power, linear enough between one-minute samples).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..sim import parse_ts

Truth = Mapping[str, Any]
# device faults that make a vendor report nothing current: readings then are not judged against truth
SILENCING_FAULTS = ("offline", "stale_telemetry")
# listed faults that may keep a vendor from being read (every HTTP fault does too); the others (commands
# rejected or not applied, sensor bias, storm watch) leave telemetry to be judged as usual
DISTURBING_KINDS = ("offline", "stale_telemetry", "inverter_trip", "outage")


@dataclass
class Series:
    """One device's truth samples, in time order (``time_s`` of each sample)."""

    times: list[float] = field(default_factory=list)
    samples: list[Truth] = field(default_factory=list)

    def add(self, truth: Truth) -> None:
        t = float(truth["time_s"]) if truth.get("time_s") is not None else parse_ts(str(truth["time"]))
        i = bisect.bisect_right(self.times, t)
        self.times.insert(i, t)
        self.samples.insert(i, truth)

    def bracket(self, t: float) -> list[Truth]:
        """The sample at ``t``, or the two around it; [] when ``t`` is outside the trace."""
        if not self.times or t < self.times[0] or t > self.times[-1]:
            return []
        i = bisect.bisect_left(self.times, t)
        if self.times[i] == t:
            return [self.samples[i]]
        return [self.samples[i - 1], self.samples[i]]

    def span(self, t0: float, t1: float) -> list[Truth]:
        """The samples that cover [t0, t1]: from the one at or before ``t0`` to the one at or after ``t1``."""
        if not self.times or t0 > self.times[-1] or t1 < self.times[0]:
            return []
        i = max(bisect.bisect_right(self.times, t0) - 1, 0)
        j = min(bisect.bisect_left(self.times, t1), len(self.times) - 1)
        return self.samples[i:j + 1]

    def interpolate(self, name: str, t: float) -> float | None:
        """``name`` at ``t``, linear between the bracketing samples (None outside the trace)."""
        around = self.bracket(t)
        if not around:
            return None
        values = [a.get(name) for a in around]
        if any(not isinstance(v, int | float) for v in values):
            return None
        if len(around) == 1:
            return float(values[0])
        i = bisect.bisect_left(self.times, t)
        t0, t1 = self.times[i - 1], self.times[i]
        return float(values[0]) + (float(values[1]) - float(values[0])) * (t - t0) / (t1 - t0)

    def silenced(self, t0: float, t1: float) -> bool:
        """Whether a fault that silences the vendor was active on any sample covering [t0, t1]."""
        return any(bool((s.get("faults") or {}).get(k)) for s in self.span(t0, t1) for k in SILENCING_FAULTS)

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        return self.times[-1]


@dataclass(frozen=True)
class FaultWindow:
    """A fault the control plane lists, as the time span and the devices it may disturb."""

    start: float
    end: float
    target: str | None  # a device or home id (device faults)
    vendor: str | None  # HTTP faults hit a vendor's whole API

    def covers(self, device_id: str, home_id: str, vendor: str, t0: float, t1: float) -> bool:
        hits = self.target in (device_id, home_id) or (self.target is None and self.vendor == vendor)
        return hits and self.start <= t1 and t0 <= self.end


def fault_windows(listed: Any, now_s: float) -> list[FaultWindow]:
    """The faults of ``GET /_sim/v1/faults`` (a list, or ``{"faults": [...]}``) that may disturb telemetry,
    as windows; an open end is "until now"."""
    items = listed.get("faults", []) if isinstance(listed, Mapping) else listed or []
    out = []
    for f in items:
        try:
            start = parse_ts(str(f["start"]))
            end = min(parse_ts(str(f["end"])), now_s) if f.get("end") else now_s
        except (KeyError, ValueError):
            continue
        layer_http = f.get("layer") == "http"
        if not layer_http and f.get("kind") not in DISTURBING_KINDS:
            continue
        out.append(FaultWindow(start, end, None if layer_http else f.get("target"),
                               f.get("vendor") if layer_http else None))
    return out
