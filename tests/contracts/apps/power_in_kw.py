"""Planted bug: inverter ``power`` and battery ``chargeRate`` in kW where the contract says W (a vendor's
kW passed through unconverted), in device reads, device lists and history alike."""

from __future__ import annotations

from typing import Any

from ._states import edit_states, scale
from .base import Call, Mutant

CAUGHT_BY = "telemetry"


def _kilowatts(kind: str, state: dict[str, Any]) -> None:
    if kind == "inverter":
        scale(state, "power", 1e-3)
    elif kind == "battery":
        scale(state, "chargeRate", 1e-3)


class BUG(Mutant):
    name = "power_in_kw"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return edit_states(call, status, body, _kilowatts)
