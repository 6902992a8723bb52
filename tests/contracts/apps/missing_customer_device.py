"""Planted bug: a customer's device list drops their first device and adjusts its totals to match, so
the page looks consistent and only a comparison with the customer's accounts shows the hole."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qs

from .base import Call, Mutant

CAUGHT_BY = "linking"
CUSTOMER_DEVICES = re.compile(r"^/v1/(customers|contacts)/[^/]+/devices$")


class BUG(Mutant):
    name = "missing_customer_device"

    def response(self, call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method != "GET" or status != 200 or not CUSTOMER_DEVICES.match(call.path):
            return status, body
        total = int(body.get("totalItems") or 0)
        if total == 0:
            return status, body
        if int(parse_qs(call.query).get("page", ["1"])[0]) == 1 and body.get("data"):
            body["data"] = body["data"][1:]
        per_page = int(body.get("perPage") or 20)
        body["totalItems"] = total - 1
        body["totalPages"] = math.ceil((total - 1) / per_page)
        return status, body
