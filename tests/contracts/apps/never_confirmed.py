"""Planted bug: commands reach the vendor, but every read of a command shows it ``pending`` forever.

The reference sends and confirms as usual; only what clients read about commands (the POST's answer,
``GET /v1/commands/{id}``, a device's command list) is stuck at ``pending``.
"""

from __future__ import annotations

import re
from typing import Any

from .base import Call, Mutant

CAUGHT_BY = "commands"
COMMANDS = re.compile(r"^/v1/commands/|^/v1/devices/[^/]+/commands$")


def _pending(command: Any) -> None:
    if isinstance(command, dict) and "status" in command:
        command.update(status="pending", reason=None, executedAt=None)


class BUG(Mutant):
    name = "never_confirmed"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if status in (200, 201) and COMMANDS.match(call.path) and isinstance(body, dict):
            for command in body["data"] if isinstance(body.get("data"), list) else [body]:
                _pending(command)
        return status, body
