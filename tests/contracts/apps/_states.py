"""Where device states sit in the unified API's answers, for planted bugs that falsify telemetry.

A state is the ``state`` of a device object (``GET /v1/devices``, ``GET /v1/devices/{id}``, a customer's
or a tag's device list) or an item of ``GET /v1/devices/{id}/history``, which carries no type: that is
told from the fields the contract requires of each state schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .base import Call

# a state's type from the fields only its schema requires
_REQUIRED = (("battery", "backupReserve"), ("inverter", "batteryState"), ("thermostat", "ambientTemperature"),
             ("charger", "currentLimit"), ("vehicle", "range"))
HISTORY = re.compile(r"^/v1/devices/[^/]+/history$")
DEVICE = re.compile(r"^/v1/devices/[^/]+$")

StateEdit = Callable[[str, dict[str, Any]], None]  # (device type, state) -> edits the state in place


def state_type(state: dict[str, Any]) -> str | None:
    return next((kind for kind, field in _REQUIRED if field in state), None)


def edit_states(call: Call, status: int, body: Any, edit: StateEdit) -> tuple[int, Any]:
    """Apply ``edit`` to every state in a 200 answer of a device read, device list or history."""
    if call.method != "GET" or status != 200 or not isinstance(body, dict):
        return status, body
    if HISTORY.match(call.path):
        for state in body.get("data") or []:
            kind = state_type(state)
            if kind is not None:
                edit(kind, state)
    elif DEVICE.match(call.path):
        _edit_device(body, edit)
    elif isinstance(body.get("data"), list):  # device lists
        for item in body["data"]:
            if isinstance(item, dict) and "manufacturerDeviceId" in item:
                _edit_device(item, edit)
    return status, body


def _edit_device(device: dict[str, Any], edit: StateEdit) -> None:
    state = device.get("state")
    if isinstance(state, dict):
        edit(str(device.get("type")), state)


def scale(state: dict[str, Any], field: str, factor: float) -> None:
    value = state.get(field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        state[field] = value * factor
