"""One engine under every front-end (CLI, pytest plugin, ``gridtwin_contract``): run the selected
checks against a :class:`Target` and return a :class:`Report`.

A check is a module with ``NAME`` and ``run(ctx)``; it reports findings through ``ctx.fail`` and may
raise :class:`UnexpectedAnswer` when the API under test answers something it cannot go on from
(recorded as a failure of that check, not a crash of the harness).
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import random
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .http import KEY_HEADER, Counter, Http, Target, UnexpectedAnswer
from .report import CHECKS, CheckResult, Failure, Report
from .sim import Sim

# the default budget of each check (``max_examples`` scales them)
DEFAULT_MAX_EXAMPLES = 10


@functools.cache
def contract() -> dict[str, Any]:
    """contracts/openapi/unified.yaml, parsed once."""
    text = importlib.resources.files("gridtwin.contracts").joinpath("openapi/unified.yaml").read_text()
    return yaml.safe_load(text)


def contract_path() -> str:
    return str(importlib.resources.files("gridtwin.contracts").joinpath("openapi/unified.yaml"))


class HarnessError(Exception):
    """Bad harness input (unknown check, unreachable target): the front-ends turn it into a usage error."""


@dataclass
class Context:
    """What a check gets: clients for the API and the control plane, the seed, its budget, and ``fail``."""

    target: Target
    result: CheckResult
    seed: int
    max_examples: int
    counter: Counter
    api: Http
    sim: Sim
    progress: Callable[[str], None] = lambda _m: None
    rng: random.Random = field(init=False)
    _clients: list[Http] = field(default_factory=list)

    def __post_init__(self) -> None:
        # one stream per check, so adding a check never changes another's draws
        self.rng = random.Random(f"{self.seed}:{self.result.name}")

    # -- findings ------------------------------------------------------------------------------
    def fail(self, operation: str, message: str, *, expected: Any, observed: Any, subject: str = "",
             curl: str | None = None) -> None:
        self.result.failures.append(Failure(
            check=self.result.name, operation=operation, subject=subject, expected=_text(expected),
            observed=_text(observed), message=message, seed=self.seed,
            curl=self.api.last_curl if curl is None else curl))

    def case(self, n: int = 1) -> None:
        self.result.cases += n

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    # -- clients -------------------------------------------------------------------------------
    def client(self, key: str | None) -> Http:
        """A client of the API under test with another key (``None``: no key at all)."""
        headers = {KEY_HEADER: key} if key is not None else {}
        http = Http("api", self.target.api_root, headers=headers, counter=self.counter,
                    timeout_s=self.target.timeout_s, transport=self.target.transport)
        self._clients.append(http)
        return http

    def close(self) -> None:
        for c in self._clients:
            c.close()

    # -- declared bounds -----------------------------------------------------------------------
    def staleness_bound_s(self, manufacturer: str) -> float:
        """How old a device's state may be, as the contract declares it (``x-staleness-bound-s``)."""
        bounds = contract()["components"]["schemas"]["DeviceState"]["x-staleness-bound-s"]
        return float(bounds.get(manufacturer, bounds["default"]))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def check_module(name: str) -> Any:
    if name not in CHECKS:
        raise HarnessError(f"unknown check {name!r}: choose from {', '.join(CHECKS)}")
    return importlib.import_module(f"gridtwin.contracts.harness.checks.{name}")


def run(target: Target, checks: Iterable[str] = CHECKS, *, seed: int = 0, max_examples: int | None = None,
        on_event: Callable[[str, CheckResult, str], None] | None = None) -> Report:
    """Run ``checks`` (in the canonical order) against ``target``; never raises for a finding.

    ``on_event(kind, result, text)`` sees ``start``, ``progress`` and ``end`` for each check (the
    CLI's live display).
    """
    wanted = list(dict.fromkeys(checks))
    for name in wanted:
        check_module(name)  # unknown names fail before anything runs
    emit = on_event or (lambda _k, _r, _t: None)
    counter = Counter()
    report = Report(target=target.api_root, seed=seed)
    report.results = [CheckResult(name) for name in CHECKS if name in wanted]
    api = Http("api", target.api_root, headers={KEY_HEADER: target.api_key}, counter=counter,
               timeout_s=target.timeout_s, transport=target.transport)
    sim_headers = {"X-Sim-Token": target.sim_token} if target.sim_token else {}
    sim_http = Http("sim", target.sim_root, headers=sim_headers, counter=counter, timeout_s=target.timeout_s,
                    transport=target.transport)
    t_run = time.perf_counter()
    try:
        for result in report.results:
            ctx = Context(target=target, result=result, seed=seed,
                          max_examples=max_examples or DEFAULT_MAX_EXAMPLES, counter=counter, api=api,
                          sim=Sim(sim_http, settle_s=target.settle_s),
                          progress=lambda text, r=result: emit("progress", r, text))
            result.status = "running"
            emit("start", result, "")
            before, t0 = counter.total, time.perf_counter()
            try:
                check_module(result.name).run(ctx)
            except UnexpectedAnswer as exc:
                ctx.fail(exc.operation, "the API answered something the check could not go on from",
                         expected="a documented success answer", observed=f"{exc.response.status_code} "
                         f"{exc.response.text[:300]}", curl=exc.curl)
            except Exception as exc:  # a crash of the check is an error, never a pass
                result.error = "".join(traceback.format_exception(exc))[-4000:]
            finally:
                ctx.close()
            result.duration_s = time.perf_counter() - t0
            result.requests = counter.total - before
            result.status = "error" if result.error else "failed" if result.failures else "passed"
            emit("end", result, "")
    finally:
        api.close()
        sim_http.close()
    report.duration_s = time.perf_counter() - t_run
    report.requests = sum(r.requests for r in report.results)
    return report
