"""The ``telemetry`` check: every device's unified state equals ground truth after unit and sign
conversion, is fresh, and its history is ordered, gap-free and integrates to truth's energy.

A state is measured at its ``createdAt`` (the vendor's poll or report), while the control plane tells
truth only "now". So the check records a truth trace: it advances the clock in fleet steps over a
window (``2 × max_examples`` steps, 20 simulated minutes by default), reading the truth of every judged
device and the API's device list after each step. Then it judges

* each distinct reading (device list at every step, device read and history at the end) against the
  truth samples bracketing its ``createdAt`` (fields, units and tolerances: ``_telemetry_fields``);
* every observation for staleness: ``createdAt`` at most ``DeviceState.x-staleness-bound-s`` (declared
  per manufacturer in the contract) before the moment it was read;
* each device's history over the window (``_telemetry_history``).

Fault windows the control plane lists (and truth's own fault flags) excuse what they would disturb.
Devices are matched to truth by manufacturer, manufacturerDeviceId and type, as the contract promises.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..engine import Context
from ..http import UnexpectedAnswer
from ..sim import SimDevice, parse_ts
from ._telemetry_history import Window, judge_history
from ._telemetry_judge import Finding, Findings, Reading, Subject, iso, judge_reading, judge_staleness
from ._telemetry_trace import Series, fault_windows

NAME = "telemetry"
STEPS_PER_EXAMPLE = 2
MIN_STEPS, MAX_STEPS = 6, 120
DEVICES_PER_EXAMPLE = 4  # 40 devices at the default budget: the whole all-vendors fleet (22)
PER_PAGE = 100

LIST = "GET /v1/devices"
READ = "GET /v1/devices/{deviceId}"
HISTORY = "GET /v1/devices/{deviceId}/history"


def run(ctx: Context) -> None:
    subjects, listed = _subjects(ctx)
    if not subjects:
        ctx.fail(LIST, "no device of the API matches a simulated device (manufacturer, manufacturerDeviceId, "
                 "type)", expected="the devices of the control plane's /_sim/v1/devices",
                 observed=f"{len(listed)} devices, none matching")
        return
    steps = min(max(STEPS_PER_EXAMPLE * ctx.max_examples, MIN_STEPS), MAX_STEPS)
    step_s = ctx.sim.step_s()
    trace = {s.sim.device_id: Series() for s in subjects}
    readings: list[Reading] = []
    missing: list[Reading] = []  # devices listed without a state
    now = ctx.sim.now_s()
    for k in range(steps + 1):
        if k:
            now = ctx.sim.advance(step_s)
        for s in subjects:
            trace[s.sim.device_id].add(ctx.sim.truth(s.sim.device_id))
        got, empty = _list_readings(ctx, subjects, now)
        readings += got
        missing += empty
        ctx.progress(f"truth trace: step {k}/{steps}")
    start, end = min(x.start for x in trace.values()), now
    readings += _device_readings(ctx, subjects, end)
    windows = fault_windows(ctx.sim.faults(), end)
    findings = Findings()

    def excused_for(s: Subject) -> Callable[[float, float], bool]:
        return lambda a, b: any(w.covers(s.sim.device_id, s.sim.home_id, s.sim.vendor, a, b) for w in windows)

    cases = _judge_readings(readings, trace, findings, excused_for)
    cases += _judge_missing(missing, listed, findings)
    ctx.progress("history")
    for s in subjects:
        cases += _history(ctx, s, trace[s.sim.device_id], start, end, listed, findings, excused_for(s))
    for f in findings.sorted():
        ctx.fail(f.operation, f"{f.message} ({f.count} of {f.judged} judged)", expected=f.expected,
                 observed=f.observed, subject=f.subject, curl=f.curl)
    ctx.case(cases)
    ctx.note(f"truth trace {iso(start)}..{iso(end)}: {steps} steps of {step_s:g} s, {len(subjects)} devices, "
             f"{len(readings)} readings")
    ctx.note("judged: " + ", ".join(f"{topic} {n}" for topic, n in sorted(findings.by_topic().items())))


def _subjects(ctx: Context) -> tuple[list[Subject], dict[str, dict[str, Any]]]:
    """The API's devices that have a truth, a seeded sample of at most 4 per example, every kind first."""
    listed = {d["id"]: d for d in ctx.api.pages("/v1/devices", per_page=PER_PAGE)}
    by_key = ctx.sim.by_key()
    groups: dict[tuple[str, str], list[Subject]] = defaultdict(list)
    for d in sorted(listed.values(), key=lambda d: str(d["id"])):
        sim: SimDevice | None = by_key.get((d.get("manufacturer"), str(d.get("manufacturerDeviceId")), d.get("type")))
        if sim is not None:
            groups[(sim.vendor, sim.unified_type)].append(
                Subject(d["id"], sim, sim.unified_type, ctx.staleness_bound_s(sim.vendor)))
    order = sorted(groups)
    ctx.rng.shuffle(order)  # which kinds a small budget leaves out is the seed's choice
    for key in order:
        ctx.rng.shuffle(groups[key])
    chosen: list[Subject] = []
    limit = DEVICES_PER_EXAMPLE * ctx.max_examples
    while len(chosen) < limit and any(groups.values()):
        for key in order:  # round robin: every vendor and type before a second of any
            if groups[key] and len(chosen) < limit:
                chosen.append(groups[key].pop())
    return sorted(chosen, key=lambda s: s.api_id), listed


def _list_readings(ctx: Context, subjects: list[Subject], now: float) -> tuple[list[Reading], list[Reading]]:
    """The states of the judged devices as ``GET /v1/devices`` (every page) answers them now."""
    wanted = {s.api_id: s for s in subjects}
    got: list[Reading] = []
    empty: list[Reading] = []
    page = 1
    while True:
        r = ctx.api.get("/v1/devices", params={"page": page, "perPage": PER_PAGE})
        if r.status_code != 200:
            raise UnexpectedAnswer(LIST, r, ctx.api.last_curl)
        body = r.json()
        for d in body.get("data") or []:
            s = wanted.get(d.get("id"))
            if s is not None:
                reading = _reading(s, d.get("state"), now, LIST, ctx.api.last_curl)
                (got if reading.state else empty).append(reading)
        if page >= int(body.get("totalPages") or 0) or not body.get("data"):
            return got, empty
        page += 1


def _device_readings(ctx: Context, subjects: list[Subject], now: float) -> list[Reading]:
    out = []
    for s in subjects:
        r = ctx.api.get(f"/v1/devices/{s.api_id}")
        if r.status_code != 200:
            raise UnexpectedAnswer(READ, r, ctx.api.last_curl)
        state = r.json().get("state")
        if state:
            out.append(_reading(s, state, now, READ, ctx.api.last_curl))
    return out


def _reading(s: Subject, state: Any, observed: float, operation: str, curl: str) -> Reading:
    created = float("nan")
    if isinstance(state, dict):
        with contextlib.suppress(ValueError):
            created = parse_ts(str(state.get("createdAt")))
    return Reading(s, state if isinstance(state, dict) else {}, created, observed, operation, curl)


def _judge_readings(readings: list[Reading], trace: dict[str, Series], findings: Findings,
                    excused_for: Callable[[Subject], Callable[[float, float], bool]]) -> int:
    cases = 0
    seen: set[tuple[str, str, Any]] = set()
    for r in readings:
        series = trace[r.subject.sim.device_id]
        excused = excused_for(r.subject)
        if r.created_s != r.created_s:  # NaN: no valid createdAt
            findings.add(_bad_created(r))
            continue
        cases += judge_staleness(r, series, findings, excused=excused(r.observed_s - r.subject.bound_s, r.observed_s))
        # the same state read again judges nothing new: its first read bounds its settings best
        key = (r.operation, r.subject.api_id, r.state.get("id") or r.state.get("createdAt"))
        if key in seen or excused(r.created_s, r.observed_s):
            continue
        seen.add(key)
        cases += judge_reading(r, series, findings)
    return cases


def _bad_created(r: Reading) -> Finding:
    return Finding(r.operation, r.subject.text(), "createdAt", "the state has no valid createdAt",
                   "an ISO-8601 date-time in UTC", repr(r.state.get("createdAt")), r.curl, 1.0)


def _judge_missing(missing: list[Reading], listed: dict[str, dict[str, Any]], findings: Findings) -> int:
    """A device with no state at all, longer after its discovery than the staleness bound."""
    cases = 0
    for r in missing:
        try:
            discovered = parse_ts(str(listed[r.subject.api_id].get("createdAt")))
        except (KeyError, ValueError):
            continue
        cases += 1
        if r.observed_s - discovered > r.subject.bound_s:
            findings.add(Finding(r.operation, r.subject.text(), "staleness", "the device has no state long after "
                                 "its discovery", f"a state within {r.subject.bound_s:.0f} s of discovery "
                                 f"({iso(discovered)})", f"state null at {iso(r.observed_s)}", r.curl,
                                 r.observed_s - discovered))
    return cases


def _history(ctx: Context, s: Subject, series: Series, start: float, end: float, listed: dict[str, dict[str, Any]],
             findings: Findings, excused: Callable[[float, float], bool]) -> int:
    try:
        discovered = parse_ts(str(listed[s.api_id].get("createdAt")))
    except (KeyError, ValueError):
        discovered = start - s.bound_s
    window = Window(start, end, max(start - s.bound_s, discovered))
    params = {"from": iso(window.from_s), "to": iso(end), "perPage": PER_PAGE}
    path = f"/v1/devices/{s.api_id}/history"
    states: list[dict[str, Any]] = []
    page = 1
    while True:
        r = ctx.api.get(path, params={**params, "page": page})
        if r.status_code != 200:
            raise UnexpectedAnswer(HISTORY, r, ctx.api.last_curl)
        body = r.json()
        states += body.get("data") or []
        if page >= int(body.get("totalPages") or 0) or not body.get("data") or page >= 50:
            break
        page += 1
    curl = ctx.api.curl_for("GET", path, params=params)
    judge_history(s, states, series, window, excused, findings, operation=HISTORY, curl=curl)
    readings = [_reading(s, st, end, HISTORY, curl) for st in states]
    seen: set[Any] = set()
    cases = 1
    for r in readings:
        if r.created_s == r.created_s and not excused(r.created_s, end) and r.state.get("id") not in seen:
            seen.add(r.state.get("id"))
            cases += judge_reading(r, series, findings)
    return cases
