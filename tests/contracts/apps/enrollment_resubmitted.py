"""Planted bug: an approved enrollment may be submitted again (``approved → submitted`` answers 200),
a transition table with one edge too many; every other move behaves."""

from __future__ import annotations

import re
from typing import Any

from .base import Call, Mutant

CAUGHT_BY = "enrollments"
STATUS = re.compile(r"^/v1/enrollments/([^/]+)/status$")


class BUG(Mutant):
    name = "enrollment_resubmitted"

    def __init__(self, app: Any, world: Any) -> None:
        super().__init__(app, world)
        self.seen: dict[str, dict[str, Any]] = {}  # the last body of each enrollment answered

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        m = STATUS.match(call.path)
        if isinstance(body, dict) and "programInstanceId" in body and "identificationType" in body:
            self.seen[body["id"]] = body
        if m and status == 409 and (body.get("details") or {}).get("status") == "approved" and \
                (call.body or {}).get("status") == "submitted" and m.group(1) in self.seen:
            reason = (call.body or {}).get("reason")
            return 200, {**self.seen[m.group(1)], "status": "submitted", "statusReason": reason}
        return status, body
