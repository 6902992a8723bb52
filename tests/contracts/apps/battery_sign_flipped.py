"""Planted bug: battery ``chargeRate`` with the vendor's sign (positive when charging) where the contract
says positive when discharging, in device reads, device lists and history alike."""

from __future__ import annotations

from typing import Any

from ._states import edit_states, scale
from .base import Call, Mutant

CAUGHT_BY = "telemetry"


def _flip(kind: str, state: dict[str, Any]) -> None:
    if kind == "battery":
        scale(state, "chargeRate", -1.0)


class BUG(Mutant):
    name = "battery_sign_flipped"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return edit_states(call, status, body, _flip)
