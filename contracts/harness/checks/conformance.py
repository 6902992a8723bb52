"""The ``conformance`` check: does the API answer as contracts/openapi/unified.yaml says, operation by operation?

1. Schemathesis over every operation of the contract file: examples, coverage, fuzzing (``max_examples``
   per operation) and stateful chains through the declared links, every built-in check on every answer.
2. Auth: every operation refuses a request without a key and one with a key never issued (401).
3. Pagination: every list, walked with small pages, agrees with its own totals.

The run mutates the sandbox (it creates customers, sites, keys, sends commands), as any client would,
but never a record that existed before it (see ``_conformance_sandbox``): the checks after it still
see the workspace they expect. It ends by waiting out the per-device command limit in simulated time,
so the next check's commands are not refused for this one's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from ..engine import Context
from . import _conformance_domain as domain
from . import _conformance_sandbox as sandbox
from ._conformance_schemathesis import DEFAULT_RETRY_S, Runner, load_schema

NAME = "conformance"


def run(ctx: Context) -> None:
    ctx.progress("discovering the workspace")
    box = sandbox.build(ctx)
    try:
        _judge(ctx, box)
    finally:
        sandbox.restore(ctx, box)


def _judge(ctx: Context, box: sandbox.Sandbox) -> None:
    ctx.progress("auth: every operation without a key and with a key never issued")
    domain.auth_sweep(ctx, box)
    ctx.progress("pagination: every list in small pages")
    domain.pagination(ctx, box)
    if ctx.target.transport is not None:
        # schemathesis sends with requests over a socket; an injected httpx transport has none
        ctx.note("schemathesis phases skipped: the target is an in-process transport, not a URL")
        return
    runner = Runner(ctx, box, load_schema(ctx.target.api_key, ctx.seed))
    try:
        _schemathesis(ctx, runner)
    finally:
        runner.close()
    ctx.sim.advance(DEFAULT_RETRY_S)


def _schemathesis(ctx: Context, runner: Runner) -> None:
    operations = runner.operations()
    for phase in (runner.examples, runner.coverage, runner.fuzzing):
        with _timed(ctx, phase.__name__):
            for i, operation in enumerate(operations, 1):
                ctx.progress(f"{phase.__name__} {i}/{len(operations)}: {operation.label}")
                phase(operation)
    with _timed(ctx, "stateful"):
        ctx.progress("stateful: chains through the contract's links")
        runner.stateful()


@contextlib.contextmanager
def _timed(ctx: Context, phase: str) -> Iterator[None]:
    """A note of what a phase judged and how long it took (the budget is tuned from these)."""
    cases, t0 = ctx.result.cases, time.perf_counter()
    yield
    ctx.note(f"{phase}: {ctx.result.cases - cases} cases in {time.perf_counter() - t0:.1f} s")
