"""Planted bug: a thermostat's set-operating-mode crashes (500) when a target sits exactly on a bound of
its input schema (an off-by-one range check that indexes past a lookup table), as the coverage phase's
boundary values hit it; values inside the range work."""

from __future__ import annotations

from typing import Any

from gridtwin.contracts.harness.engine import contract

from .base import Call, Mutant

CAUGHT_BY = "conformance"
PATH = "/v1/commands/thermostat/set-operating-mode"


def _bounds() -> dict[str, tuple[float, float]]:
    """heatTarget/coolTarget -> (minimum, maximum), as the contract declares them."""
    props = contract()["components"]["schemas"]["ThermostatSetOperatingModeInput"]["properties"]
    return {name: (props[name]["minimum"], props[name]["maximum"]) for name in ("heatTarget", "coolTarget")}


class BUG(Mutant):
    name = "boundary_500"

    def request(self, call: Call) -> tuple[int, Any] | None:
        if call.method != "POST" or call.path != PATH or not isinstance(call.body, dict):
            return None
        given = call.body.get("input")
        if not isinstance(given, dict):
            return None
        for name, bounds in _bounds().items():
            value = given.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value in bounds:
                return 500, {"code": "INTERNAL_ERROR", "message": f"setpoint table has no entry for {value}"}
        return None
