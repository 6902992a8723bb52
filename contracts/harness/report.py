"""What a harness run found: one result per check, each failure replayable (seed + curl line).

Also the two machine-readable forms CI wants: JUnit XML (one testcase per check, one <failure> per
finding) and a self-contained HTML page.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any

CHECKS = ("conformance", "commands", "telemetry", "linking", "connect", "enrollments", "metrics", "webhooks",
          "schedules")


@dataclass
class Failure:
    """One finding: which check, on which operation and subject, what was expected and what was seen."""

    check: str
    operation: str  # e.g. "GET /v1/devices/{deviceId}"
    subject: str  # the device, customer, command or key concerned ("" when none)
    expected: str
    observed: str
    message: str
    seed: int
    curl: str = ""

    def text(self) -> str:
        lines = [f"[{self.check}] {self.operation}" + (f" ({self.subject})" if self.subject else ""),
                 f"  {self.message}", f"  expected: {self.expected}", f"  observed: {self.observed}",
                 f"  seed: {self.seed}"]
        if self.curl:
            lines.append(f"  reproduce: {self.curl}")
        return "\n".join(lines)


@dataclass
class CheckResult:
    name: str
    status: str = "pending"  # pending | running | passed | failed | error
    duration_s: float = 0.0
    requests: int = 0
    cases: int = 0  # examples, steps or subjects judged
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the check itself could not run (traceback summary)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class Report:
    target: str
    seed: int
    results: list[CheckResult] = field(default_factory=list)
    duration_s: float = 0.0
    requests: int = 0

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def result(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.results for f in r.failures]

    def failed_checks(self) -> set[str]:
        return {r.name for r in self.results if not r.passed}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"passed": self.passed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def summary(self) -> str:
        lines = [f"gridtwin contract against {self.target} (seed {self.seed})",
                 f"{'check':<13}{'status':<9}{'cases':>7}{'requests':>10}{'failures':>10}{'time s':>9}"]
        for r in self.results:
            lines.append(f"{r.name:<13}{r.status:<9}{r.cases:>7}{r.requests:>10}{len(r.failures):>10}"
                         f"{r.duration_s:>9.1f}")
        lines.append(f"{'total':<22}{'':>7}{self.requests:>10}{len(self.failures):>10}{self.duration_s:>9.1f}")
        return "\n".join(lines)

    def junit_xml(self) -> str:
        suite = ET.Element("testsuite", name="gridtwin-contract", tests=str(len(self.results)),
                           failures=str(sum(1 for r in self.results if r.status == "failed")),
                           errors=str(sum(1 for r in self.results if r.status == "error")),
                           time=f"{self.duration_s:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=self.target)
        ET.SubElement(props, "property", name="seed", value=str(self.seed))
        for r in self.results:
            case = ET.SubElement(suite, "testcase", classname="gridtwin.contract", name=r.name,
                                 time=f"{r.duration_s:.3f}")
            for f in r.failures:
                el = ET.SubElement(case, "failure", message=f"{f.operation}: {f.message}"[:500], type=f.check)
                el.text = f.text()
            if r.error:
                ET.SubElement(case, "error", message=r.error.splitlines()[0][:500] if r.error else "").text = r.error
            if r.status == "pending":
                ET.SubElement(case, "skipped")
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

    def html(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr class='{esc(r.status)}'><td>{esc(r.name)}</td><td>{esc(r.status)}</td><td>{r.cases}</td>"
            f"<td>{r.requests}</td><td>{len(r.failures)}</td><td>{r.duration_s:.1f}</td></tr>" for r in self.results)
        items = "".join(
            f"<section><h3>{esc(f.check)}: {esc(f.operation)} {esc(f.subject)}</h3><p>{esc(f.message)}</p>"
            f"<dl><dt>expected</dt><dd>{esc(f.expected)}</dd><dt>observed</dt><dd>{esc(f.observed)}</dd>"
            f"<dt>seed</dt><dd>{f.seed}</dd></dl><pre>{esc(f.curl)}</pre></section>" for f in self.failures)
        errors = "".join(f"<section><h3>{esc(r.name)}: error</h3><pre>{esc(r.error or '')}</pre></section>"
                         for r in self.results if r.error)
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>gridtwin contract report</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;"
            "border:1px solid #ccc}.passed td:nth-child(2){color:#070}.failed td:nth-child(2),.error td:nth-child(2)"
            "{color:#b00}pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap}</style></head><body>"
            f"<h1>gridtwin contract: {verdict}</h1><p>target {esc(self.target)}, seed {self.seed}, "
            f"{self.requests} requests in {self.duration_s:.1f} s</p>"
            "<table><tr><th>check</th><th>status</th><th>cases</th><th>requests</th><th>failures</th><th>time s</th>"
            f"</tr>{rows}</table><h2>Failures</h2>{items or '<p>none</p>'}{errors}</body></html>")
