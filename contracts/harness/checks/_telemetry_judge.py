"""Judging unified readings against a truth trace, and collecting what was found (pure).

A reading is one state as the API answered it (device list, device read or history), with when it was
measured (``createdAt``) and when the harness saw it. Findings are grouped per operation, device and
field, keeping the worst instance and a count, so a wrong unit on every reading is one finding that
says "20 of 20 readings", not twenty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..sim import SimDevice
from ._telemetry_fields import FIELDS, UNKNOWN, Measure, Setting, number
from ._telemetry_trace import Series


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Subject:
    """A unified device and the simulator device that is its truth."""

    api_id: str
    sim: SimDevice
    type: str
    bound_s: float  # the staleness bound the contract declares for its manufacturer

    def text(self) -> str:
        return f"{self.api_id} ({self.sim.vendor} {self.type} {self.sim.vendor_device_id}; truth {self.sim.device_id})"


@dataclass(frozen=True)
class Reading:
    subject: Subject
    state: Mapping[str, Any]
    created_s: float
    observed_s: float  # when the harness read it (history: the end of the window)
    operation: str
    curl: str


@dataclass
class Finding:
    operation: str
    subject: str
    topic: str  # the field, or "staleness", "history order", ...
    message: str
    expected: str
    observed: str
    curl: str
    excess: float  # how far outside the tolerance (the worst instance is kept)
    count: int = 1
    judged: int = 0


class Findings:
    """Worst finding and counts per (operation, subject, topic)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Finding] = {}
        self.judged: dict[tuple[str, str, str], int] = {}

    def judged_one(self, operation: str, subject: str, topic: str) -> None:
        key = (operation, subject, topic)
        self.judged[key] = self.judged.get(key, 0) + 1

    def add(self, f: Finding) -> None:
        key = (f.operation, f.subject, f.topic)
        old = self.items.get(key)
        if old is None:
            self.items[key] = f
        else:
            count = old.count + 1
            if f.excess > old.excess:
                self.items[key] = f
            self.items[key].count = count

    def by_topic(self) -> dict[str, int]:
        """How many judgements each field (or aspect) got, over every device and operation."""
        out: dict[str, int] = {}
        for (_op, _subject, topic), n in self.judged.items():
            out[topic] = out.get(topic, 0) + n
        return out

    def sorted(self) -> list[Finding]:
        out = []
        for key in sorted(self.items):
            f = self.items[key]
            f.judged = max(self.judged.get(key, 0), f.count)
            out.append(f)
        return out


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def judge_reading(r: Reading, series: Series, findings: Findings) -> int:
    """Judge every mapped field of ``r`` that truth can speak for; the number of fields judged."""
    judged = 0
    for spec in FIELDS.get(r.subject.type, ()):
        raw = r.state.get(spec.field)
        if raw in UNKNOWN:
            continue  # not reported by this vendor: nothing to compare
        found = _measure(spec, raw, r, series) if isinstance(spec, Measure) else _setting(spec, raw, r, series)
        if found is None:
            continue
        judged += 1
        findings.judged_one(r.operation, r.subject.text(), spec.field)
        if found is not True:
            findings.add(found)
    return judged


def _finding(r: Reading, topic: str, message: str, expected: str, observed: str, excess: float) -> Finding:
    return Finding(r.operation, r.subject.text(), topic, message, expected, observed, r.curl, excess)


def _measure(m: Measure, raw: Any, r: Reading, series: Series) -> Finding | bool | None:
    around = series.bracket(r.created_s)
    if not around or series.silenced(r.created_s, r.created_s) or not all(m.only_if(s) for s in around):
        return None
    value = number(raw)
    if value is None:
        return _finding(r, m.field, f"{r.subject.type} {m.field} is not a number", f"a number, {m.unit}",
                        repr(raw), float("inf"))
    best: tuple[float, str] | None = None
    for name in m.truth:
        raws = [number(s.get(name)) for s in around]
        if any(x is None for x in raws):
            continue
        conv = [m.convert(x) for x in raws if x is not None]
        tol = max(m.tolerance(x, s) for x, s in zip(raws, around, strict=True) if x is not None)
        lo, hi = min(conv), max(conv)
        excess = max(lo - tol - value, value - hi - tol, 0.0)
        span = (f"{_fmt(lo)}" if lo == hi else f"{_fmt(lo)}..{_fmt(hi)}")
        when = iso(float(around[0]["time_s"])) + ("" if len(around) == 1 else f"..{iso(float(around[-1]['time_s']))}")
        text = f"{span} {m.unit} ± {m.tolerance_text} (truth {name} at {when})"
        if best is None or excess < best[0]:
            best = (excess, text)
    if best is None:
        return None
    if best[0] <= 0:
        return True
    return _finding(r, m.field, f"{r.subject.type} {m.field} measured at {iso(r.created_s)} differs from truth "
                    "after unit and sign conversion", best[1],
                    f"{_fmt(value)} {m.unit} (createdAt {iso(r.created_s)})", best[0])


def _setting(s: Setting, raw: Any, r: Reading, series: Series) -> Finding | bool | None:
    if not s.applies(r.state) or r.created_s < series.start:
        return None
    span = series.span(r.created_s, min(r.observed_s, series.end))
    held = [s.convert(x.get(s.truth)) for x in span if x.get(s.truth) is not None]
    if not held or series.silenced(r.created_s, min(r.observed_s, series.end)):
        return None
    if s.tolerance > 0:
        value = number(raw)
        nums = [v for v in (number(h) for h in held) if v is not None]
        if value is None or not nums:
            excess = float("inf") if value is None else 0.0
        else:
            excess = min(abs(value - v) for v in nums) - s.tolerance
        if excess <= 0:
            return True
        expected = " or ".join(sorted({_fmt(v) for v in nums})) + f" {s.unit} ± {_fmt(s.tolerance)}"
    else:
        if raw in held:
            return True
        excess, expected = 1.0, " or ".join(sorted({repr(h) for h in held}))
    observed = " ".join(p for p in (repr(raw), s.unit, f"(createdAt {iso(r.created_s)})") if p)
    return _finding(r, s.field, f"{r.subject.type} {s.field} is not a value truth ({s.truth}) held between the "
                    f"measurement ({iso(r.created_s)}) and the read ({iso(r.observed_s)})",
                    f"{expected} (truth {s.truth})", observed, excess)


def judge_staleness(r: Reading, series: Series, findings: Findings, *, excused: bool) -> bool:
    """``createdAt`` at most the declared bound before the read, and never after it; False when not judged."""
    if excused or series.silenced(r.observed_s - r.subject.bound_s, r.observed_s):
        return False
    findings.judged_one(r.operation, r.subject.text(), "staleness")
    age = r.observed_s - r.created_s
    bound = r.subject.bound_s
    if age > bound:
        findings.add(_finding(r, "staleness", f"the state is older than the staleness bound the contract declares "
                              f"for {r.subject.sim.vendor} (DeviceState.x-staleness-bound-s)",
                              f"createdAt no older than {_fmt(bound)} s before {iso(r.observed_s)}",
                              f"createdAt {iso(r.created_s)}: {_fmt(age)} s old", age - bound))
    elif age < -1.0:  # a clock a second ahead is rounding, more is a state from the future
        findings.add(_finding(r, "staleness", "the state's createdAt is after the moment it was read",
                              f"createdAt at or before {iso(r.observed_s)}", f"createdAt {iso(r.created_s)}", -age))
    return True
