"""The ``metrics`` check: ``GET /v1/metrics/{metric}`` agrees with device history, with ground truth and with
the carbon provider, for a few sites and their customers.

1. Picks sites whose batteries and inverters have a truth (``_metrics_world``) and records a truth trace
   of their devices and homes, a fleet step at a time, over quarter hours starting half an hour on.
2. Asks every metric for those quarter hours by device and by site, and judges each point
   (``_metrics_judge``):

   * against the API's own history: the trapezoids of ``chargeRate``, ``power`` and ``gridPower`` cut at
     the window's edges, the latest ``charge`` of the window, and a point exactly where readings are;
   * against truth: the energy counters (``charged_wh``, ``discharged_wh``, ``energy_wh``, the home's
     ``import_wh - export_wh``) within 2 % or 50 W plus what the readings' cadence may miss; the latest
     ``charge`` against truth's ``energy_wh`` at that reading, within a point of state of charge;
   * emissions against the carbon provider (``GET /_sim/v1/carbon`` at the site): grid energy times the
     quarter hour's intensity, in pounds, both the API's grid energy and truth's;
   * a site is the sum of its devices, a customer the sum of their sites, an hour the sum (storage: the
     latest) of its quarter hours inside the range.
3. Texture's short form (``?period=day&timeframe=1d``) equals its long form; bad combinations are 400s
   naming a parameter they involve; unknown ids are 404s.

Fault windows the control plane lists excuse the truth judgement of what they would disturb. Truth is
judged only where the trace is dense (samples a fleet step apart, as on a manual clock): on a running
clock (a served API) each advance also waits for the API, the samples are minutes apart and could miss
what flowed between them, so there the points are judged against history, the provider and each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..engine import Context
from ..http import UnexpectedAnswer
from ..sim import parse_ts
from . import _metrics_judge as judge
from ._metrics_world import PER_PAGE, QUARTER_S, Subject, Trace, record, subjects
from ._telemetry_judge import Finding, Findings, iso
from ._telemetry_trace import FaultWindow, fault_windows

NAME = "metrics"
OP = "GET /v1/metrics/{metric}"
HISTORY = "GET /v1/devices/{deviceId}/history"
METRICS = ("consumption", "production", "storage", "generation", "grid-energy", "emissions")
READS = {"consumption": "battery", "production": "battery", "storage": "battery", "generation": "inverter"}
HOUR_S = 3600.0
SOC_TOL_PCT = 1.0  # storage against truth: a point of state of charge, as telemetry judges ``charge``


@dataclass
class Answer:
    points: dict[tuple[str, str], float]  # (series id, ts) -> v
    body: dict[str, Any]
    curl: str


@dataclass
class Judged:
    """What one subject's metrics said, as the judgements need them."""

    subject: Subject
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # API device id -> states
    by_device: dict[str, Answer] = field(default_factory=dict)  # metric -> DEVICE answer
    by_site: dict[str, Answer] = field(default_factory=dict)  # metric -> SITE answer


def run(ctx: Context) -> None:
    how_many = min(max(ctx.max_examples // 5, 1), 6)
    n_windows = min(max(ctx.max_examples // 5, 2), 8)
    chosen = subjects(ctx, how_many)
    if not chosen:
        ctx.fail("GET /v1/sites", "no site of the API holds a battery or inverter that matches a simulated device",
                 expected="sites whose devices are the control plane's (manufacturer, manufacturerDeviceId, type)",
                 observed="none")
        return
    trace = record(ctx, chosen, n_windows)
    findings = Findings()
    faults = fault_windows(ctx.sim.faults(), ctx.sim.now_s())
    cases = 0
    for subject in chosen:
        ctx.progress(f"judging {subject.text()}")
        cases += _judge_subject(ctx, subject, trace, findings, faults)
    ctx.progress("short form and refusals")
    cases += _short_form(ctx, findings) + _refusals(ctx, chosen[0], trace, findings)
    for f in findings.sorted():
        ctx.fail(f.operation, f"{f.message} ({f.count} of {f.judged} judged)", expected=f.expected,
                 observed=f.observed, subject=f.subject, curl=f.curl)
    ctx.case(cases)
    ctx.note(f"windows {iso(trace.first)}..{iso(trace.last)} ({len(trace.windows)} quarter hours), truth every "
             f"{trace.step_s:g} s; {len(chosen)} sites: " + ", ".join(s.text() for s in chosen))
    ctx.note("judged: " + ", ".join(f"{topic} {n}" for topic, n in sorted(findings.by_topic().items())))


# -- asking ---------------------------------------------------------------------------------------------------
def _ask(ctx: Context, metric: str, params: dict[str, Any], key: str) -> Answer:
    path = f"/v1/metrics/{metric}"
    r = ctx.api.get(path, params=params)
    curl = ctx.api.last_curl
    if r.status_code != 200:
        raise UnexpectedAnswer(OP, r, curl)
    body = r.json()
    points = {}
    for p in body.get("data") or []:
        points[(str(p.get(key)), _ts_text(p.get("ts")))] = float(p.get("v"))
    return Answer(points, body, curl)


def _ts_text(value: Any) -> str:
    """A point's ``ts`` normalised (any ISO-8601 spelling of the same instant compares equal)."""
    try:
        return iso(parse_ts(str(value)))
    except ValueError:
        return str(value)


def _history(ctx: Context, device_id: str, trace: Trace) -> list[dict[str, Any]]:
    params = {"from": iso(trace.first - 4 * HOUR_S), "to": iso(trace.last + 2 * HOUR_S)}
    try:
        return ctx.api.pages(f"/v1/devices/{device_id}/history", params, per_page=PER_PAGE, most=2000)
    except UnexpectedAnswer as err:
        raise UnexpectedAnswer(HISTORY, err.response, err.curl) from None


# -- one subject ------------------------------------------------------------------------------------------------
def _judge_subject(ctx: Context, s: Subject, trace: Trace, findings: Findings, faults: list[FaultWindow]) -> int:
    span = {"filterRangeAfter": iso(trace.first), "filterRangeBefore": iso(trace.last), "windowSize": "FIFTEEN_MINUTES"}
    j = Judged(s, history={d: _history(ctx, d, trace) for d in sorted(s.devices)})
    for metric in METRICS:
        j.by_device[metric] = _ask(ctx, metric, {**span, "filterSiteId[]": s.site_id, "groupBy": "DEVICE"}, "deviceId")
        j.by_site[metric] = _ask(ctx, metric, {**span, "filterSiteId[]": s.site_id, "groupBy": "SITE"}, "siteId")
    cases = _energy(ctx, j, trace, findings, faults)
    cases += _storage(j, trace, findings, faults)
    cases += _emissions(ctx, j, trace, findings, faults)
    cases += _site_sums(j, trace, findings)
    if s.customer_id is not None:
        cases += _customer(ctx, j, trace, span, findings)
    cases += _hours(ctx, j, trace, findings)
    return cases


def _samples(j: Judged, device_id: str, state_field: str) -> list[judge.Sample]:
    return judge.samples_of(j.history.get(device_id, []), state_field, parse_ts)


def _disturbed(faults: list[FaultWindow], trace_series: Any, sim_id: str, home: str, vendor: str, a: float,
               b: float) -> bool:
    return (any(w.covers(sim_id, home, vendor, a, b) for w in faults)
            or (trace_series is not None and trace_series.silenced(a - QUARTER_S, b + QUARTER_S)))


def _meter(j: Judged) -> str | None:
    """The device the contract makes the site's meter (the battery, else the inverter, lowest id first)."""
    for kind in ("battery", "inverter"):
        ids = j.subject.of_type(kind)
        if ids:
            return ids[0]
    return None


def _device_text(j: Judged, metric: str, device_id: str) -> str:
    sim = j.subject.devices[device_id]
    return f"{metric} of device {device_id} ({sim.vendor} {sim.unified_type}; truth {sim.device_id})"


def _energy(ctx: Context, j: Judged, trace: Trace, findings: Findings, faults: list[FaultWindow]) -> int:
    cases = 0
    meter = _meter(j)
    for metric, (state_field, part) in judge.ENERGY.items():
        answer = j.by_device[metric]
        if metric == "grid-energy":
            devices = [meter] if meter is not None else []
            series = {k for k, _ in answer.points}
            if meter is not None and series and series != {meter}:
                findings.add(Finding(OP, f"grid-energy of {j.subject.text()}", "grid-energy meter",
                                     "the site's meter is not read from one device, the battery else the inverter",
                                     f"one series, device {meter}", f"series {sorted(series)}", answer.curl, 1.0))
        else:
            devices = j.subject.of_type(READS[metric])
        for d in devices:
            samples = _samples(j, d, state_field)
            sim = j.subject.devices[d]
            truth = trace.homes.get(j.subject.home_id) if metric == "grid-energy" else trace.devices.get(sim.device_id)
            text = _device_text(j, metric, d)
            for a in trace.windows:
                b = a + QUARTER_S
                got = answer.points.get((d, iso(a)))
                expected = judge.energy_from_history(samples, a, b, part)
                if expected is not None:
                    cases += 1
                    _against(findings, f"{metric} history", text, got, expected, answer.curl,
                             f"the {metric} of the quarter hour {iso(a)}",
                             "is not the trapezoid integral of the device's own history")
                if got is None or truth is None or not judge.bracketed(samples, a, b):
                    continue
                if _disturbed(faults, truth, sim.device_id, j.subject.home_id, sim.vendor, a, b):
                    continue
                allowance = judge.cadence_allowance(samples, a, b, truth, judge.TRUTH_POWER[metric],
                                                    trace.dense_gap_s)
                truth_wh = judge.truth_energy(truth, metric, a, b)
                if allowance is None or truth_wh is None:
                    continue
                cases += 1
                tol = judge.truth_tolerance(truth_wh, a, b, allowance)
                _against(findings, f"{metric} truth", text, got, judge.Expected(truth_wh, tol, (
                    f"truth's counter over the window ± {tol:.1f} Wh (2 % or 50 W, plus {allowance:.1f} Wh the "
                    f"readings' cadence may miss)")), answer.curl, f"the {metric} of the quarter hour {iso(a)}",
                    "does not match truth's energy counter")
    return cases


def _against(findings: Findings, topic: str, subject: str, got: float | None, expected: judge.Expected, curl: str,
             what: str, wrong: str) -> None:
    findings.judged_one(OP, subject, topic)
    if expected.value is None:
        if got is not None:
            findings.add(Finding(OP, subject, topic, f"{what} has a point where it should have none", expected.why,
                                 f"v = {got:.6g}", curl, abs(got)))
        return
    if got is None:
        findings.add(Finding(OP, subject, topic, f"{what} has no point", f"{expected.value:.6g} ({expected.why})",
                             "no point", curl, abs(expected.value)))
        return
    excess = abs(got - expected.value) - expected.tolerance
    if excess > 0:
        findings.add(Finding(OP, subject, topic, f"{what} {wrong}",
                             f"{expected.value:.6g} ± {expected.tolerance:.3g} ({expected.why})", f"{got:.6g}", curl,
                             excess))


def _storage(j: Judged, trace: Trace, findings: Findings, faults: list[FaultWindow]) -> int:
    cases = 0
    answer = j.by_device["storage"]
    for d in j.subject.of_type("battery"):
        samples = _samples(j, d, "charge")
        sim = j.subject.devices[d]
        truth = trace.devices.get(sim.device_id)
        text = _device_text(j, "storage", d)
        for a in trace.windows:
            got = answer.points.get((d, iso(a)))
            t, expected = judge.latest_from_history(samples, a, a + QUARTER_S)
            cases += 1
            _against(findings, "storage latest", text, got, expected, answer.curl,
                     f"the storage of the quarter hour {iso(a)}", "is not the latest reading of the window")
            if (got is None or expected.value is None or truth is None
                    or not judge.dense(truth, t, t, trace.dense_gap_s)):
                continue
            if _disturbed(faults, truth, sim.device_id, j.subject.home_id, sim.vendor, t, t):
                continue
            stored = truth.interpolate("energy_wh", t)
            capacity = truth.interpolate("capacity_wh", t)
            if stored is None:
                continue
            cases += 1
            tol = SOC_TOL_PCT / 100.0 * (capacity or 0.0) + 1.0
            _against(findings, "storage truth", text, got, judge.Expected(stored, tol, (
                f"truth's energy_wh at the reading's createdAt {iso(t)} ± a point of state of charge")),
                answer.curl, f"the storage of the quarter hour {iso(a)}", "does not match truth's stored energy")
    return cases


def _carbon(ctx: Context, site: dict[str, Any], trace: Trace) -> dict[str, float]:
    where = site.get("coordinates") or {}
    body = ctx.sim.carbon(where.get("latitude"), where.get("longitude"), iso(trace.first), iso(trace.last))
    return {iso(parse_ts(str(q["start"]))): float(q["value"]) for q in body.get("data") or []}


def _emissions(ctx: Context, j: Judged, trace: Trace, findings: Findings, faults: list[FaultWindow]) -> int:
    cases = 0
    intensity = _carbon(ctx, j.subject.site, trace)
    site, text = j.subject.site_id, f"emissions of {j.subject.text()}"
    answer, grid = j.by_site["emissions"], j.by_site["grid-energy"]
    home = trace.homes.get(j.subject.home_id)
    meter = _meter(j)
    for a in trace.windows:
        g_per_kwh = intensity.get(iso(a))
        wh = grid.points.get((site, iso(a)))
        got = answer.points.get((site, iso(a)))
        if g_per_kwh is None:
            continue
        cases += 1
        if wh is None:
            expected = judge.Expected(None, 0.0, "no point: no grid energy in the window")
        else:
            lbs = judge.emissions_lbs(wh, g_per_kwh)
            expected = judge.Expected(lbs, 2e-6 + 2e-4 * abs(lbs), f"the site's grid-energy {wh:.6g} Wh × "
                                      f"{g_per_kwh:.6g} g/kWh (the carbon provider's quarter hour) / "
                                      f"{judge.G_PER_LB} g/lb")
        _against(findings, "emissions intensity", text, got, expected, answer.curl,
                 f"the emissions of the quarter hour {iso(a)}", "are not grid energy times the carbon intensity")
        if got is None or home is None or meter is None:
            continue
        samples = _samples(j, meter, "gridPower")
        sim = j.subject.devices[meter]
        b = a + QUARTER_S
        if not judge.bracketed(samples, a, b) or _disturbed(faults, home, sim.device_id, j.subject.home_id,
                                                            sim.vendor, a, b):
            continue
        allowance = judge.cadence_allowance(samples, a, b, home, "grid_w", trace.dense_gap_s)
        truth_wh = judge.truth_energy(home, "grid-energy", a, a + QUARTER_S)
        if allowance is None or truth_wh is None:
            continue
        cases += 1
        tol_wh = judge.truth_tolerance(truth_wh, a, a + QUARTER_S, allowance)
        _against(findings, "emissions truth", text, got, judge.Expected(
            judge.emissions_lbs(truth_wh, g_per_kwh), judge.emissions_lbs(tol_wh, g_per_kwh),
            f"truth's net grid energy {truth_wh:.6g} Wh ± {tol_wh:.1f} Wh × {g_per_kwh:.6g} g/kWh"), answer.curl,
            f"the emissions of the quarter hour {iso(a)}", "do not match truth's grid energy times the intensity")
    return cases


def _sums(parts: Iterable[float | None]) -> tuple[float, int] | None:
    values = [v for v in parts if v is not None]
    return (sum(values), len(values)) if values else None


def _sum_expected(total: tuple[float, int] | None, whose: str, parts: str) -> judge.Expected:
    """A sum of ``parts``' points: none when no part has one; else the sum, within rounding per part."""
    if total is None:
        return judge.Expected(None, 0.0, f"no point: none of {whose} {parts} has one")
    return judge.Expected(total[0], 0.002 * total[1] + 1e-6 * abs(total[0]),
                          f"the sum of {whose} {total[1]} {parts}' points")


def _site_sums(j: Judged, trace: Trace, findings: Findings) -> int:
    """A site's point is the sum of its devices' points (the site meter's, for grid-energy and emissions)."""
    cases = 0
    site = j.subject.site_id
    for metric in METRICS:
        devices = defaultdict(dict)
        for (d, ts), v in j.by_device[metric].points.items():
            devices[d][ts] = v
        answer = j.by_site[metric]
        for a in trace.windows:
            total = _sums(per.get(iso(a)) for per in devices.values())
            got = answer.points.get((site, iso(a)))
            cases += 1
            expected = _sum_expected(total, "its", "devices")
            _against(findings, "site sum", f"{metric} of {j.subject.text()}", got, expected, answer.curl,
                     f"the site's {metric} of the quarter hour {iso(a)}", "is not the sum of its devices' points")
    return cases


def _customer(ctx: Context, j: Judged, trace: Trace, span: dict[str, Any], findings: Findings) -> int:
    """A customer's point (their default grouping) is the sum of their sites' points."""
    cases = 0
    c = str(j.subject.customer_id)
    for metric in ("generation", "grid-energy", "consumption", "storage"):
        whole = _ask(ctx, metric, {**span, "filterCustomerId[]": c}, "customerId")
        sites = _ask(ctx, metric, {**span, "filterCustomerId[]": c, "groupBy": "SITE"}, "siteId")
        for a in trace.windows:
            total = _sums(v for (_s, ts), v in sites.points.items() if ts == iso(a))
            got = whole.points.get((c, iso(a)))
            cases += 1
            expected = _sum_expected(total, "their", "sites")
            _against(findings, "customer sum", f"{metric} of customer {c}", got, expected, whole.curl,
                     f"the customer's {metric} of the quarter hour {iso(a)}", "is not the sum of their sites' points")
    return cases


def _hours(ctx: Context, j: Judged, trace: Trace, findings: Findings) -> int:
    """Hour windows over a longer range (from two hours before the first quarter hour): aligned to the
    hour, cut to the range, each what the device's history makes of it (storage: its latest reading), and
    inside the judged quarter hours the sum (storage: the latest) of their points."""
    cases = 0
    lo, hi = trace.first - 2 * HOUR_S, trace.last
    span = {"filterRangeAfter": iso(lo), "filterRangeBefore": iso(hi), "windowSize": "HOUR",
            "filterSiteId[]": j.subject.site_id, "groupBy": "DEVICE"}
    for metric in ("consumption", "generation", "storage"):
        hours = _ask(ctx, metric, span, "deviceId")
        quarters = j.by_device[metric].points
        for d in j.subject.of_type(READS[metric]):
            samples = _samples(j, d, "charge" if metric == "storage" else judge.ENERGY[metric][0])
            h = _hour(lo)
            while h < hi:
                a, b = max(h, lo), min(h + HOUR_S, hi)
                got = hours.points.get((d, iso(h)))
                expected = (judge.latest_from_history(samples, a, b)[1] if metric == "storage"
                            else judge.energy_from_history(samples, a, b, judge.ENERGY[metric][1]))
                if expected is not None:
                    cases += 1
                    _against(findings, "hour windows", _device_text(j, metric, d), got, expected, hours.curl,
                             f"the hour {iso(h)} (cut to {iso(a)}..{iso(b)})",
                             "is not what the device's history makes of it")
                inside = [quarters.get((d, iso(q))) for q in trace.windows if _hour(q) == h]
                present = [v for v in inside if v is not None]
                if present and a >= trace.first:
                    cases += 1
                    agg = present[-1] if metric == "storage" else sum(present)
                    _against(findings, "hour windows", _device_text(j, metric, d), got, judge.Expected(
                        agg, 0.002 * len(present) + 1e-6 * abs(agg),
                        "its last quarter hour's point" if metric == "storage" else
                        f"the sum of its {len(present)} quarter hours inside the range"), hours.curl,
                        f"the hour {iso(h)} (cut to {iso(a)}..{iso(b)})", "does not add up its quarter hours")
                h += HOUR_S
    return cases


def _hour(t: float) -> float:
    return t - t % HOUR_S


# -- the short form and the refusals -------------------------------------------------------------------------
def _short_form(ctx: Context, findings: Findings) -> int:
    short = _ask(ctx, "consumption", {"period": "day", "timeframe": "1d"}, "deviceId")
    long = _ask(ctx, "consumption", {"windowSize": "DAY", "filterRangeRelative": "1d"}, "deviceId")
    subject = "consumption of the whole workspace"
    findings.judged_one(OP, subject, "short form")
    midnights = [ts for _d, ts in short.points if datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)
                 .time().isoformat() != "00:00:00"]
    if midnights:
        findings.add(Finding(OP, subject, "short form", "period=day windows do not start at UTC midnight",
                             "every ts at 00:00:00Z", f"{midnights[0]}", short.curl, 1.0))
    if ctx.sim.clock().get("mode") != "scaled" and short.points != long.points:
        findings.add(Finding(OP, subject, "short form", "?period=day&timeframe=1d differs from "
                             "?windowSize=DAY&filterRangeRelative=1d", f"{sorted(long.points.items())[:4]}",
                             f"{sorted(short.points.items())[:4]}", short.curl, 1.0))
    return 1


REFUSALS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("period with windowSize", {"period": "day", "windowSize": "DAY"}, {"period", "windowSize"}),
    ("timeframe with filterRangeRelative", {"timeframe": "1d", "filterRangeRelative": "7d"},
     {"timeframe", "filterRangeRelative"}),
    ("an unknown windowSize", {"windowSize": "FORTNIGHT"}, {"windowSize"}),
    ("an unknown groupBy", {"groupBy": "STREET"}, {"groupBy"}),
]


def _refusals(ctx: Context, s: Subject, trace: Trace, findings: Findings) -> int:
    cases = [
        *REFUSALS,
        ("filterRangeAfter with filterRangeRelative",
         {"filterRangeAfter": iso(trace.first), "filterRangeRelative": "1d"},
         {"filterRangeAfter", "filterRangeRelative"}),
        ("filterRangeAfter after filterRangeBefore",
         {"filterRangeAfter": iso(trace.last), "filterRangeBefore": iso(trace.first)},
         {"filterRangeAfter", "filterRangeBefore"}),
    ]
    n = 0
    for what, params, names in cases:
        n += 1
        r = ctx.api.get("/v1/metrics/consumption", params={**params, "filterSiteId[]": s.site_id})
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        details = body.get("details") if isinstance(body, dict) else None
        named = isinstance(details, dict) and bool(names & set(details))
        findings.judged_one(OP, "refusals", what)
        if r.status_code != 400 or not named:
            findings.add(Finding(OP, "refusals", what, f"{what} is not refused naming the parameter",
                                 f"400 with details naming {' or '.join(sorted(names))}",
                                 f"{r.status_code} {r.text[:200]}", ctx.api.last_curl, 1.0))
    for name in ("filterDeviceId[]", "filterSiteId[]", "filterCustomerId[]"):
        n += 1
        r = ctx.api.get("/v1/metrics/consumption", params={name: "c" + "0" * 24})
        findings.judged_one(OP, "refusals", f"unknown {name}")
        if r.status_code != 404:
            findings.add(Finding(OP, "refusals", f"unknown {name}", f"an id never issued in {name} is not a 404",
                                 "404", f"{r.status_code} {r.text[:200]}", ctx.api.last_curl, 1.0))
    return n
