"""The ``connect`` check: the reference passes it (and again on a rerun); the planted bug that links every
discovered device fails it naming the connection; smaller defects in the reuse and denial paths are caught.

The worlds here pre-connect nothing: the check works in a fresh workspace of its own anyway.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from gridtwin.contracts.harness import CheckResult
from gridtwin.fixtures.servers import DEFAULT_KEY, RunningWorld, serve_in_thread
from gridtwin.fixtures.world import World
from gridtwin.simulator.runtime import Runtime

from ..apps import links_every_discovered_device
from ..apps.base import Mutant
from .workspace import one_check, snapshot

SCENARIO = "all-vendors"


@contextlib.contextmanager
def world(mutant: type[Mutant] | None = None) -> Iterator[RunningWorld]:
    rt = Runtime.from_scenario(SCENARIO)
    rt.advance(12 * 3600)
    w = World(rt, api_key_value=DEFAULT_KEY, preconnect=False)
    w.use_lifespan()
    app = mutant(w.app, w) if mutant is not None else w.app
    with serve_in_thread(app) as base:
        yield RunningWorld(w, base, DEFAULT_KEY)


def connect_check(running: RunningWorld, seed: int = 3) -> CheckResult:
    return one_check(running, "connect", seed=seed)


def test_reference_passes_and_reruns_leaving_the_sandbox_alone() -> None:
    with world() as running:
        before = snapshot(running)
        first = connect_check(running)
        again = connect_check(running)
        after = snapshot(running)
    for result in (first, again):
        assert result.failures == [], "\n\n".join(f.text() for f in result.failures)
        assert result.status == "passed" and result.cases >= 12, result.cases
    assert "connected tesla-home-" in first.notes[-1]
    assert after["devices"] == before["devices"] and after["customers"] == before["customers"]


def test_planted_bug_fails_connect() -> None:
    bug = links_every_discovered_device
    assert bug.CAUGHT_BY == "connect"
    with world(bug.BUG) as running:
        result = connect_check(running)
    assert result.status == "failed"
    messages = {f.message for f in result.failures}
    assert "exactly the selected devices are linked to the connecting customer" in messages
    assert "the redirect's scoped key reaches exactly the selected devices" in messages
    for f in result.failures:
        assert f.check == "connect" and f.curl.startswith("curl ")
        assert re.match(r"connection link_\w+… \(referenceId gridtwin-connect-3", f.subject), f.subject


class ReusableLink(Mutant):
    """A used link answers its welcome page again (single use not enforced)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def patched(msg: Any) -> None:
            if msg["type"] == "http.response.start" and msg["status"] == 410:
                msg = {**msg, "status": 200}
            await send(msg)

        await self.app(scope, receive, patched if scope.get("path", "").startswith("/connect/") else send)


class DenialIgnored(Mutant):
    """A consent denied at the vendor sends the person back into the flow instead of ending it."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("path") == "/connect/callback" and b"error=access_denied" in scope.get("query_string", b""):
            scope = {**scope, "query_string": scope["query_string"].replace(b"error=access_denied", b"")}
        await self.app(scope, receive, send)


@pytest.mark.parametrize(("mutant", "message"), [
    (ReusableLink, "a Connect link works once: opened again it shows an error page"),
    (DenialIgnored, "consent denied at the vendor ends the flow on an error page (data-error-code access_denied)"),
], ids=["reusable_link", "denial_ignored"])
def test_each_failure_path_catches_its_defect(mutant: type[Mutant], message: str) -> None:
    with world(mutant) as running:
        result = connect_check(running)
    assert result.status == "failed"
    assert message in {f.message for f in result.failures}, [f.text() for f in result.failures]
