"""The control plane (``/_sim/v1``) as the harness sees it: time, ground truth, the device map, faults.

Ground truth is in SI units with canonical signs (battery ``power_w`` positive = discharging, grid
positive = import); a unified device is matched to its truth by ``manufacturer`` +
``manufacturerDeviceId`` + type, as contracts/openapi/unified.yaml promises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .http import SIM_PREFIX, Http, UnexpectedAnswer

# simulator kind -> unified device type
TYPE_OF_KIND = {"solar": "inverter", "battery": "battery", "thermostat": "thermostat", "charger": "charger",
                "vehicle": "vehicle"}


def parse_ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()


@dataclass(frozen=True)
class SimDevice:
    device_id: str
    kind: str
    home_id: str
    vendor: str
    vendor_device_id: str
    account_id: str

    @property
    def unified_type(self) -> str:
        return TYPE_OF_KIND[self.kind]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.vendor, self.vendor_device_id, self.unified_type)


class Sim:
    """A thin client of the control plane; every call raises :class:`UnexpectedAnswer` on a non-2xx."""

    def __init__(self, http: Http, *, settle_s: float = 0.0) -> None:
        self.http = http
        self.settle_s = settle_s
        self._devices: list[SimDevice] | None = None

    def _ok(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        r = self.http.request(method, SIM_PREFIX + path, json_body=body, params=params)
        if r.status_code >= 300:
            raise UnexpectedAnswer(f"{method} {SIM_PREFIX}{path}", r, self.http.last_curl)
        return r.json() if r.content else None

    # -- time ----------------------------------------------------------------------------------
    def clock(self) -> dict[str, Any]:
        return self._ok("GET", "/clock")

    def now_s(self) -> float:
        return float(self.clock()["now_s"])

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; the new time.

        On a manual clock the reference world runs every job due on the way before answering. On a
        running (scaled) clock, as under ``gridtwin serve``, the API under test polls on its own
        schedule, so the harness then waits ``settle_s`` of wall time for it to catch up.
        """
        clock = self._ok("POST", "/clock/advance", {"seconds": seconds})
        if clock.get("mode") == "scaled" and self.settle_s > 0:
            time.sleep(self.settle_s)
            return self.now_s()  # the clock ran on meanwhile: what the API may have read is up to now
        return float(clock["now_s"])

    def step_s(self) -> float:
        return float(self.clock().get("step_s") or 60.0)

    # -- the fleet -----------------------------------------------------------------------------
    def devices(self, *, fresh: bool = False) -> list[SimDevice]:
        if self._devices is None or fresh:
            self._devices = [SimDevice(d["device_id"], d["kind"], d["home_id"], d["vendor"], str(d["vendor_device_id"]),
                                       d["account_id"]) for d in self._ok("GET", "/devices")]
        return self._devices

    def by_key(self) -> dict[tuple[str, str, str], SimDevice]:
        return {d.key: d for d in self.devices()}

    def truth(self, device_id: str) -> dict[str, Any]:
        return self._ok("GET", f"/devices/{device_id}/truth")

    def homes(self) -> list[dict[str, Any]]:
        return self._ok("GET", "/homes")

    def home_truth(self, home_id: str) -> dict[str, Any]:
        return self._ok("GET", f"/homes/{home_id}/truth")

    def carbon(self, latitude: float, longitude: float, start: str | None = None,
               end: str | None = None) -> dict[str, Any]:
        """The carbon-intensity provider's quarter hours at a point over [start, end) (g CO2/kWh)."""
        params: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        params.update({k: v for k, v in (("start", start), ("end", end)) if v is not None})
        return self._ok("GET", "/carbon", params=params)

    def accounts(self) -> dict[str, Any]:
        return self._ok("GET", "/accounts")

    def events(self, since_seq: int = 0, device_id: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"since": since_seq}
        if device_id is not None:
            params["device_id"] = device_id
        return self._ok("GET", "/events", params=params)

    # -- faults --------------------------------------------------------------------------------
    def add_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._ok("POST", "/faults", body)

    def faults(self) -> list[dict[str, Any]]:
        body = self._ok("GET", "/faults")
        return list(body["faults"]) if isinstance(body, dict) else list(body)

    def clear_fault(self, fault_id: str) -> None:
        self._ok("DELETE", f"/faults/{fault_id}")
