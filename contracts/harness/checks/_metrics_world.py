"""What the metrics check judges and the truth it records: sites of the API matched to simulated homes,
and a truth trace of their batteries, inverters and homes over the judged windows.

A subject is one site of the API whose batteries or inverters match simulated devices (manufacturer,
manufacturerDeviceId, type), with the home they live in and the site's customer. The trace samples truth
after every fleet step (five minutes on a running clock, where each advance also waits for the API) from
before the first judged window, so that every reading shaping it is covered, to after the last.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..engine import Context
from ..sim import SimDevice
from ._telemetry_trace import Series

PER_PAGE = 100
QUARTER_S = 900.0
LEAD_S = 1800.0  # from the trace's start to the first window: Enphase's readings come 15 minutes apart
TAIL_S = 1200.0  # after the last window: the reading after its end (and its poll) must have arrived
SCALED_STEP_S = 300.0


@dataclass
class Subject:
    site: dict[str, Any]
    home_id: str
    devices: dict[str, SimDevice] = field(default_factory=dict)  # API device id -> its truth (batteries, inverters)

    @property
    def site_id(self) -> str:
        return str(self.site["id"])

    @property
    def customer_id(self) -> str | None:
        return self.site.get("customerId")

    def of_type(self, kind: str) -> list[str]:
        return sorted(d for d, s in self.devices.items() if s.unified_type == kind)

    def text(self) -> str:
        return f"site {self.site_id} (truth {self.home_id})"


def subjects(ctx: Context, how_many: int) -> list[Subject]:
    """Up to ``how_many`` sites with a battery or an inverter that has a truth: sites with a battery first,
    then by the seed, one per battery vendor before a second of any."""
    by_key = ctx.sim.by_key()
    found: dict[str, Subject] = {}
    sites = {s["id"]: s for s in ctx.api.pages("/v1/sites", per_page=PER_PAGE)}
    for d in ctx.api.pages("/v1/devices", per_page=PER_PAGE):
        sim = by_key.get((str(d.get("manufacturer")), str(d.get("manufacturerDeviceId")), str(d.get("type"))))
        site = sites.get(d.get("siteId"))
        if sim is None or site is None or sim.unified_type not in ("battery", "inverter"):
            continue
        subject = found.setdefault(site["id"], Subject(site, sim.home_id))
        if subject.home_id == sim.home_id:  # a site mixing homes has no single truth: its other devices are left out
            subject.devices[d["id"]] = sim
    pool = sorted(found.values(), key=lambda s: s.site_id)
    ctx.rng.shuffle(pool)
    by_vendor: dict[str, list[Subject]] = defaultdict(list)
    for s in pool:
        batteries = s.of_type("battery")
        by_vendor[s.devices[batteries[0]].vendor if batteries else ""].append(s)
    chosen: list[Subject] = []
    vendors = sorted(v for v in by_vendor if v) + ([""] if "" in by_vendor else [])
    while len(chosen) < how_many and any(by_vendor.values()):
        for v in vendors:
            if by_vendor[v] and len(chosen) < how_many:
                chosen.append(by_vendor[v].pop(0))
    return chosen


@dataclass
class Trace:
    """Truth of every judged device and home, sampled at every step from ``start`` to ``end``."""

    step_s: float
    fleet_step_s: float  # the simulation's step: powers are held over it
    devices: dict[str, Series] = field(default_factory=dict)  # sim device id -> its truth
    homes: dict[str, Series] = field(default_factory=dict)  # home id -> its truth
    windows: list[float] = field(default_factory=list)  # the judged quarter hours' starts
    scaled: bool = False

    @property
    def dense_gap_s(self) -> float:
        """Truth samples further apart than this may have missed a value (a running clock's trace)."""
        return 1.5 * self.fleet_step_s

    @property
    def first(self) -> float:
        return self.windows[0]

    @property
    def last(self) -> float:
        return self.windows[-1] + QUARTER_S


def record(ctx: Context, chosen: list[Subject], n_windows: int) -> Trace:
    clock = ctx.sim.clock()
    scaled = clock.get("mode") == "scaled"
    fleet_step = float(clock.get("step_s") or 60.0)
    step = SCALED_STEP_S if scaled else fleet_step
    now = float(clock["now_s"])
    first = math.ceil((now + LEAD_S) / QUARTER_S) * QUARTER_S
    trace = Trace(step, fleet_step, windows=[first + k * QUARTER_S for k in range(n_windows)], scaled=scaled)
    sims = sorted({s.device_id for subject in chosen for s in subject.devices.values()})
    homes = sorted({subject.home_id for subject in chosen})
    until = trace.last + TAIL_S
    steps = math.ceil((until - now) / step)
    for k in range(steps + 1):
        if k:
            now = ctx.sim.advance(min(step, max(until - now, 1.0)))
        for d in sims:
            trace.devices.setdefault(d, Series()).add(ctx.sim.truth(d))
        for h in homes:
            trace.homes.setdefault(h, Series()).add(ctx.sim.home_truth(h))
        if k % 10 == 0:
            ctx.progress(f"truth trace: step {k}/{steps}")
        if now >= until:
            break
    return trace
