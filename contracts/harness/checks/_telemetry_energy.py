"""Energy from power samples: trapezoids between samples, split by sign (pure, shared by two checks).

The contract defines energy totals as "integrated from device history (trapezoids between samples)";
the telemetry check integrates a history to compare it with truth's energy counters, the linking check
to recompute a customer's usage from the devices' own histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

Sample = tuple[float, float]  # (epoch seconds, watts)
WH_PER_WS = 1.0 / 3600.0


def _at(t: float, a: Sample, b: Sample) -> float:
    return a[1] + (b[1] - a[1]) * (t - a[0]) / (b[0] - a[0])


def _split(t0: float, p0: float, t1: float, p1: float) -> tuple[float, float]:
    """Positive and negative (a magnitude) watt-seconds of one linear segment, cut where it crosses zero."""
    dt = t1 - t0
    if p0 >= 0 and p1 >= 0:
        return (p0 + p1) / 2 * dt, 0.0
    if p0 <= 0 and p1 <= 0:
        return 0.0, -(p0 + p1) / 2 * dt
    tz = dt * p0 / (p0 - p1)
    first, second = p0 * tz / 2, p1 * (dt - tz) / 2
    return (first, -second) if p0 > 0 else (second, -first)


def integrate(samples: Sequence[Sample], start: float, end: float) -> tuple[float, float]:
    """(positive Wh, negative Wh as a magnitude) of time-sorted samples, linear between them, over
    [start, end]; segments crossing an edge are cut there, time outside the samples counts nothing."""
    pos = neg = 0.0
    for a, b in pairwise(samples):
        if b[0] <= a[0] or b[0] <= start or a[0] >= end:
            continue
        t0, t1 = max(a[0], start), min(b[0], end)
        up, down = _split(t0, _at(t0, a, b), t1, _at(t1, a, b))
        pos, neg = pos + up, neg + down
    return pos * WH_PER_WS, neg * WH_PER_WS


def net(samples: Sequence[Sample], start: float, end: float) -> float:
    """The signed trapezoid integral over [start, end], Wh."""
    pos, neg = integrate(samples, start, end)
    return pos - neg
