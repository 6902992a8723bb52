"""The planted-bug collection itself: at least ten servers, one defect and one catching check each,
every one proven by a test of its check (tests/contracts/harness), and the CLI's verdict on one."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from gridtwin.contracts.harness import CHECKS
from gridtwin.fixtures.cli import main

from . import apps
from .apps.base import Mutant, broken_world

BUGS = sorted(m.name for m in pkgutil.iter_modules(apps.__path__) if not m.name.startswith("_") and m.name != "base")
HARNESS_TESTS = "\n".join(p.read_text() for p in (Path(__file__).parent / "harness").glob("test_*.py"))


def test_at_least_ten_planted_bugs_each_with_one_defect_and_its_check() -> None:
    assert len(BUGS) >= 10, BUGS
    for name in BUGS:
        module = importlib.import_module(f"{apps.__name__}.{name}")
        assert issubclass(module.BUG, Mutant) and module.BUG is not Mutant, name
        assert module.CAUGHT_BY in CHECKS, (name, module.CAUGHT_BY)
        assert module.__doc__ and len(module.__doc__.strip()) > 20, f"{name}: say what the defect is"


def test_every_planted_bug_is_proven_by_a_test_of_its_check() -> None:
    unproven = [name for name in BUGS if name not in HARNESS_TESTS]
    assert not unproven, unproven


def test_the_cli_fails_a_broken_server_with_the_right_check(capsys: pytest.CaptureFixture[str]) -> None:
    from .apps import power_in_kw

    with broken_world(power_in_kw.BUG) as running:
        code = main(["contract", "--base-url", running.base_url, "--api-key", running.api_key, "--checks",
                     "telemetry,linking", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    # telemetry names the unit; linking may also see it (usage shares are recomputed from the history)
    assert "FAILED: " in out and "telemetry" in out.split("FAILED: ")[1]
    assert "[telemetry] GET /v1/devices" in out and "reproduce: curl" in out
