"""Planted bug: every state's ``createdAt`` two hours in the past (a vendor's local time taken for UTC),
in device reads, device lists and history alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ._states import edit_states
from .base import Call, Mutant

CAUGHT_BY = "telemetry"
SHIFT = timedelta(hours=2)


def _earlier(_kind: str, state: dict[str, Any]) -> None:
    text = state.get("createdAt")
    if isinstance(text, str):
        t = datetime.fromisoformat(text.replace("Z", "+00:00")) - SHIFT
        state["createdAt"] = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BUG(Mutant):
    name = "stale_timestamps"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        return edit_states(call, status, body, _earlier)
