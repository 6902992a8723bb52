"""The fleet as the commands check sees it: unified devices matched to their simulated twins.

A unified device's commanded settings live in one simulated device's truth (its *holder*): the device
itself, except a vehicle, whose charging is switched by its charger (the vehicle's truth names it). The
holder and the device form a *group*: their event log is where the vendor writes of a command show
up, and the check keeps at most one command outstanding per group, so every write has one cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..sim import Sim, SimDevice


@dataclass(frozen=True)
class Device:
    api: dict[str, Any]  # the unified device as listed
    sim: SimDevice | None  # its twin (None: the control plane does not know it)
    holder: str | None  # the simulated device whose truth holds the commanded settings
    group: frozenset[str]  # simulated ids whose events its commands may cause

    @property
    def id(self) -> str:
        return str(self.api["id"])

    @property
    def type(self) -> str:
        return str(self.api["type"])

    @property
    def offered(self) -> dict[str, dict[str, Any]]:
        """``availableCommands`` as slug -> input JSON Schema."""
        return {c["slug"]: c.get("input") or {"type": "object"} for c in self.api.get("availableCommands") or []}

    @property
    def key(self) -> str:
        """The group's name: at most one outstanding command per key."""
        return self.holder or self.id

    def label(self) -> str:
        twin = f", sim {self.sim.device_id}" if self.sim else ", no simulated twin"
        via = f" via {self.holder}" if self.sim and self.holder != self.sim.device_id else ""
        return f"device {self.id} ({self.api.get('manufacturer')} {self.type}{twin}{via})"


def fleet(listed: list[dict[str, Any]], sim: Sim) -> tuple[list[Device], list[str]]:
    """The devices (sorted by id, so draws are reproducible) and notes on those that cannot be judged."""
    twins = sim.by_key()
    out, notes = [], []
    for d in sorted(listed, key=lambda d: str(d["id"])):
        twin = twins.get((str(d.get("manufacturer")), str(d.get("manufacturerDeviceId")), str(d.get("type"))))
        if twin is None:
            notes.append(f"device {d['id']} ({d.get('manufacturer')} {d.get('type')}) has no simulated twin: "
                         "its commands are judged on answers only")
            out.append(Device(d, None, None, frozenset()))
            continue
        holder = twin.device_id
        if twin.kind == "vehicle":
            holder = str(sim.truth(twin.device_id).get("charger_id") or twin.device_id)
        out.append(Device(d, twin, holder, frozenset({twin.device_id, holder})))
    return out, notes


__all__ = ["Device", "fleet"]
