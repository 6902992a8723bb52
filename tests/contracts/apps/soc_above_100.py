"""Planted bug: battery ``chargePercentage`` against the wrong capacity (SoC × 1.25, up to 125 %), in
device reads, device lists and history alike. The contract's maximum of 100 lets conformance see the
worst of it too, but only telemetry sees the 25 % too much at every charge level."""

from __future__ import annotations

from typing import Any

from ._states import edit_states
from .base import Call, Mutant

CAUGHT_BY = "telemetry"


def _overstated(kind: str, state: dict[str, Any]) -> None:
    soc = state.get("chargePercentage")
    if kind == "battery" and isinstance(soc, int | float) and not isinstance(soc, bool):
        state["chargePercentage"] = min(soc * 1.25, 125.0)


class BUG(Mutant):
    name = "soc_above_100"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return edit_states(call, status, body, _overstated)
