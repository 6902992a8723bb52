"""Planted bug: every list envelope counts one item more than it has (``totalItems + 1``, and the
``totalPages`` that goes with it), an off-by-one in a count query."""

from __future__ import annotations

import math
from typing import Any

from .base import Call, Mutant

CAUGHT_BY = "conformance"


class BUG(Mutant):
    name = "wrong_total_items"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "GET" and status == 200 and isinstance(body, dict) and "totalItems" in body:
            body["totalItems"] += 1
            body["totalPages"] = math.ceil(body["totalItems"] / body["perPage"])
        return status, body
