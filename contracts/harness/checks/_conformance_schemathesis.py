"""Schemathesis over every operation of contracts/openapi/unified.yaml, against the API under test over HTTP.

The four phases of ``st run``, driven one case at a time: the contract's examples, the coverage cases
(boundaries, every enum, missing and malformed parts), Hypothesis fuzzing of positive and negative data,
and stateful chains through the contract's declared links (inference off, so no chain is invented that
revokes the key). Every built-in check judges every answer; a finding becomes a harness failure, once per
operation and kind of failure. Cases are driven here rather than by the CLI's engine so that each one
can be aimed at real ids and kept off the records the later checks read (see ``_conformance_sandbox``).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import get_state_machine_test
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import overrides
from schemathesis.generation.drivers import CoverageGenerator, ExamplesGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import CoveragePhaseData
from schemathesis.transport.requests import SameHostRedirectsSession

from ..engine import DEFAULT_MAX_EXAMPLES, Context, contract_path
from ..http import KEY_HEADER
from ._conformance_sandbox import Sandbox

# what the API may answer to schema-valid data: a valid-looking id may not exist (404), a command may
# not suit the device (422) or come too often (429), a create may collide with a record (409)
ACCEPTED_FOR_VALID = ["2xx", "400", "404", "409", "422", "429"]
# steps per stateful scenario: create -> read -> update -> delete fits with room for a detour
STATEFUL_STEPS = 6
# scenarios per unit of max_examples: a scenario is a few cheap requests, and most random ones end early
STATEFUL_SCENARIOS_PER_EXAMPLE = 3
# simulated seconds to wait out a command rate limit when the answer names no Retry-After
DEFAULT_RETRY_S = 61.0
# and at most this long, whatever it names: the later checks judge a world that has not aged much
MAX_RETRY_S = 2 * DEFAULT_RETRY_S

# a key of the right shape that no workspace has (what the auth check's "invalid" variant amounts to)
WRONG_KEY = "api_" + "f" * 32
# what each kind of finding expected, for the failure's "expected" line
EXPECTED = {
    "ServerError": "no 5xx answer",
    "UndefinedStatusCode": "a status code documented for this operation",
    "JsonSchemaError": "a body valid against the documented response schema",
    "MissingContentType": "a Content-Type header",
    "UndefinedContentType": "a documented Content-Type",
    "MalformedMediaType": "a well-formed Content-Type",
    "MissingHeaders": "the documented response headers",
    "AcceptedNegativeData": "a 4xx refusal of a request that breaks the contract",
    "RejectedPositiveData": f"one of {', '.join(ACCEPTED_FOR_VALID)} for a request the contract allows",
    "IgnoredAuth": "401 without a valid Texture-Api-Key",
    "UseAfterFree": "404 for a deleted resource",
    "EnsureResourceAvailability": "a created resource readable through the contract's links",
    "MissingHeaderNotRejected": "a 4xx when a required header is missing",
    "UnsupportedMethodResponse": "405 for a method the contract does not declare",
    "AllowHeaderMismatch": "an Allow header listing the declared methods",
}


def load_schema(api_key: str, seed: int) -> Any:
    """The contract file (never the API's own schema) with the harness's key and judgement settings."""
    config = schemathesis.Config.from_dict({
        "seed": seed,
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_FOR_VALID}},
        "generation": {"database": "none", "deterministic": True},
        "phases": {"stateful": {"inference": {"algorithms": []}}},
        # schemathesis sets the key itself, so its auth checks (ignored_auth, coverage) can drop or spoil it
        "auth": {"openapi": {"TextureApiKey": {"api_key": api_key}}},
        # a failure's curl line must replay as sent, key included, like the rest of the harness's lines
        "output": {"sanitization": {"enabled": False}},
    })
    return schemathesis.openapi.from_path(contract_path(), config=config)


class CountingSession(SameHostRedirectsSession):
    """The session schemathesis would make, counting into the harness's counter (checks resend through it
    too). One session for the run keeps its connections alive."""

    def __init__(self, count: Callable[[], None]) -> None:
        super().__init__()
        self._count = count

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._count()
        return super().send(request, **kwargs)


@dataclass
class Runner:
    ctx: Context
    box: Sandbox
    schema: Any
    session: CountingSession = field(init=False)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _throttled: dict[str, float] = field(default_factory=dict)  # device id -> simulated seconds to wait

    def __post_init__(self) -> None:
        self.session = CountingSession(lambda: self.ctx.counter.add("api"))

    @property
    def root(self) -> str:
        return self.ctx.target.api_root

    def close(self) -> None:
        self.session.close()

    def operations(self) -> list[Any]:
        return [result.ok() for result in self.schema.get_all_operations()]

    # -- phases ---------------------------------------------------------------------------------
    def examples(self, operation: Any) -> None:
        fill = self.schema.config.phases_for(operation=operation).examples.fill_missing
        cases = ExamplesGenerator(operation=operation, override=self._override(operation), feedback=FeedbackSources(),
                                  fill_missing=fill)
        self._run_all(cases)

    def coverage(self, operation: Any) -> None:
        generation = self.schema.config.generation_for(operation=operation, phase="coverage")
        cases = CoverageGenerator(operation=operation, generation_modes=generation.modes,
                                  generation_config=generation, auth_storage=None,
                                  override=self._override(operation), feedback=FeedbackSources())
        # the whole phase at the default budget; a smaller one keeps every positive case (boundaries,
        # enums, examples) and a seeded share of the negative ones
        share = min(1.0, self.ctx.max_examples / DEFAULT_MAX_EXAMPLES)
        keep = random.Random(self._seed(operation.label))
        self._run_all(case for case in cases
                      if share >= 1 or not case.meta.generation.mode.is_negative or keep.random() < share)

    def fuzzing(self, operation: Any) -> None:
        modes = self.schema.config.generation_for(operation=operation, phase="fuzzing").modes
        strategy = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])

        @hypothesis.settings(self._settings(), max_examples=self.ctx.max_examples)
        @given(case=strategy)
        def fuzz(case: Any) -> None:
            self.run_case(case)

        try:
            hypothesis.seed(self._seed(operation.label))(fuzz)()
        except Unsatisfiable:
            self.ctx.note(f"fuzzing {operation.label}: the contract's schemas gave no case")

    def stateful(self) -> None:
        runner = self

        class Machine(self.schema.as_state_machine()):  # type: ignore[misc]
            def before_call(self, case: Any) -> None:
                runner.before_call(case)

            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"base_url": runner.root, "session": runner.session}

            def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                                  **kwargs: Any) -> None:
                runner.after_call(case, response)
                try:
                    super().validate_response(response, case, additional_checks=additional_checks, **kwargs)
                except FailureGroup as group:
                    runner.record(case, response, group.exceptions)
                except Failure as failure:
                    runner.record(case, response, [failure])

        scenarios = STATEFUL_SCENARIOS_PER_EXAMPLE * self.ctx.max_examples
        # one Hypothesis run per scenario, each with its own seed: a chain's draws depend on the live
        # API's answers, and one run holding many scenarios replays prefixes and then sees them diverge
        # (FlakyStrategyDefinition) whenever the world moved on in between
        settings = hypothesis.settings(self._settings(), derandomize=False, max_examples=1,
                                       stateful_step_count=STATEFUL_STEPS)
        test = get_state_machine_test(Machine, settings=settings, _min_steps=2)
        for i in range(scenarios):
            try:
                hypothesis.seed(self._seed(f"stateful:{i}"))(test)()
            except OSError as exc:  # requests' errors are OSErrors
                self.ctx.fail("stateful links", "the stateful phase lost its connection to the API",
                              expected="an HTTP answer", observed=repr(exc), curl="")
                return

    # -- one case -------------------------------------------------------------------------------
    def run_case(self, case: Any) -> None:
        self.box.prepare(case)
        self.before_call(case)
        try:
            response = case.call(base_url=self.root, session=self.session)
        except OSError as exc:  # requests' errors are OSErrors
            self._fail_once(case, "NoAnswer", "no HTTP answer", expected="an HTTP answer", observed=repr(exc))
            return
        self.after_call(case, response)
        try:
            case.validate_response(response, transport_kwargs={"base_url": self.root, "session": self.session})
        except FailureGroup as group:
            self.record(case, response, group.exceptions)
        except Failure as failure:
            self.record(case, response, [failure])

    def before_call(self, case: Any) -> None:
        self.box.guard(case)
        device = _command_device(case)
        if device is not None and device in self._throttled:
            # the per-device command limit is documented (429); wait it out in simulated time so later
            # command cases reach the handler instead of the limiter
            self.ctx.sim.advance(max(self._throttled.values()))
            self._throttled.clear()

    def after_call(self, case: Any, response: Any) -> None:
        self.ctx.case()
        device = _command_device(case)
        if device is not None and response.status_code == 429:
            retry = (response.headers.get("retry-after") or [""])[0]
            wait = float(retry) + 1 if retry.replace(".", "", 1).isdigit() else DEFAULT_RETRY_S
            self._throttled[device] = min(wait, MAX_RETRY_S)

    # -- findings -------------------------------------------------------------------------------
    def record(self, case: Any, response: Any, failures: Iterable[Failure]) -> None:
        observed = f"{response.status_code} {response.content[:300].decode('utf-8', 'replace')}"
        for failure in failures:
            message = f"{failure.title} [{failure.code}] in {_origin(case)}"
            detail = " ".join(failure.message.split())[:400]
            self._fail_once(case, type(failure).__name__, message,
                            expected=EXPECTED.get(type(failure).__name__, f"the {failure.kind_title} check to pass"),
                            observed=f"{observed} ({detail})" if detail else observed, failure=failure)

    def _fail_once(self, case: Any, kind: str, message: str, *, expected: str, observed: str,
                   failure: Failure | None = None) -> None:
        key = (case.operation.label, kind)
        if key in self._seen:
            return
        self._seen.add(key)
        self.ctx.fail(case.operation.label, message, expected=expected, observed=observed, subject=_subject(case),
                      curl=self._curl(case, failure))

    def _curl(self, case: Any, failure: Failure | None) -> str:
        """The case as a curl line; for an auth finding, as the auth check sent it (no key, or a wrong one)."""
        scenario = getattr(failure, "scenario", None)
        if scenario not in ("no_auth", "invalid_auth"):
            return str(case.as_curl_command(base_url=self.root))
        saved = case.headers
        headers = {k: v for k, v in (saved or {}).items() if k.lower() != KEY_HEADER.lower()}
        if scenario == "invalid_auth":
            headers[KEY_HEADER] = WRONG_KEY
        case.headers = headers
        try:
            return str(case.as_curl_command(base_url=self.root))
        finally:
            case.headers = saved

    # -- plumbing -------------------------------------------------------------------------------
    def _run_all(self, cases: Iterable[Any]) -> None:
        for case in cases:
            self.run_case(case)

    def _override(self, operation: Any) -> Any:
        return overrides.with_config_headers(self.schema.config, operation=operation)

    def _seed(self, label: str) -> int:
        return zlib.crc32(f"{self.ctx.seed}:{label}".encode())

    @staticmethod
    def _settings() -> hypothesis.settings:
        # no shrinking: a finding is recorded, never raised, so there is nothing to minimise
        return hypothesis.settings(derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                                   suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)


def _command_device(case: Any) -> str | None:
    if case.path.startswith("/v1/commands/") and isinstance(case.body, dict):
        device = case.body.get("deviceId")
        return device if isinstance(device, str) else None
    return None


def _origin(case: Any) -> str:
    meta = case.meta
    if meta is None:
        return "a stateful step"
    where = f"the {meta.phase.name.value} phase ({meta.generation.mode.value}"
    if isinstance(meta.phase.data, CoveragePhaseData):
        where += f": {meta.phase.data.description}"
    return where + ")"


def _subject(case: Any) -> str:
    ids = dict(case.path_parameters or {})
    if isinstance(case.body, dict) and isinstance(case.body.get("deviceId"), str):
        ids["deviceId"] = case.body["deviceId"]
    headers = case.headers or {}
    if KEY_HEADER not in headers:
        ids["key"] = "none"
    return ", ".join(f"{k}={v}" for k, v in ids.items())
