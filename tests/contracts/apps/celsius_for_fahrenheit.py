"""Planted bug: thermostat temperatures in °C (as Nest sends them) where the contract says °F: ambient
temperature and both setpoints, in device reads, device lists and history alike."""

from __future__ import annotations

from typing import Any

from ._states import edit_states
from .base import Call, Mutant

CAUGHT_BY = "telemetry"
FIELDS = ("ambientTemperature", "heatTarget", "coolTarget")


def _celsius(kind: str, state: dict[str, Any]) -> None:
    if kind != "thermostat":
        return
    for field in FIELDS:
        f = state.get(field)
        if isinstance(f, int | float) and not isinstance(f, bool):
            state[field] = round((f - 32.0) * 5.0 / 9.0, 1)


class BUG(Mutant):
    name = "celsius_for_fahrenheit"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return edit_states(call, status, body, _celsius)
