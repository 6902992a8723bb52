"""Command inputs for the commands check: every slug the contract defines, and valid inputs for each.

Listed commands are drawn from the JSON Schema the device itself advertises (``availableCommands``);
commands a device does *not* list are drawn from the contract's own request schemas, so a refusal
can only be about the device, never about a malformed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ...strategies import from_input_schema
from ..engine import contract

COMMAND_PATH = re.compile(r"^/v1/commands/(?P<type>[a-z]+)/(?P<action>[a-z-]+)$")
# the contract: "coolTarget at least 3 °F above heatTarget" when both are given (else 400)
MIN_HEAT_COOL_GAP_F = 3.0


@dataclass(frozen=True)
class Slug:
    """One command endpoint of the contract."""

    slug: str
    path: str
    input_schema: dict[str, Any]

    @property
    def device_type(self) -> str:
        return self.slug.split(":")[0]


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with every ``$ref`` into ``spec`` replaced by its target (the input schemas are small trees)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(spec, target)
        return {k: _resolve(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(spec, v) for v in node]
    return node


def catalogue() -> list[Slug]:
    """Every ``POST /v1/commands/{deviceType}/{action}`` of the contract, with its input schema."""
    spec = contract()
    out = []
    for path, item in spec["paths"].items():
        m = COMMAND_PATH.match(path)
        if not m or "post" not in item:
            continue
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = _resolve(spec, body)["properties"]["input"]
        out.append(Slug(f"{m['type']}:{m['action']}", path, schema))
    return out


def _keep_gap(inp: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Move ``coolTarget`` up (or ``heatTarget`` down) to keep the contract's 3 °F gap, within the bounds."""
    heat, cool = inp.get("heatTarget"), inp.get("coolTarget")
    if heat is None or cool is None or cool - heat >= MIN_HEAT_COOL_GAP_F:
        return inp
    props = schema.get("properties", {})
    cool_max = props.get("coolTarget", {}).get("maximum", 95.0)
    if heat + MIN_HEAT_COOL_GAP_F <= cool_max:
        return {**inp, "coolTarget": heat + MIN_HEAT_COOL_GAP_F}
    return {**inp, "heatTarget": cool - MIN_HEAT_COOL_GAP_F}


def command_input(slug: str, schema: dict[str, Any], *, anywhere: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Valid inputs of ``slug`` under ``schema``.

    ``anywhere``: only inputs valid whatever the device's situation (no ``reset``, which needs an
    earlier operating-mode command), for commands sent where they must be refused with 422.
    """
    base = from_input_schema(schema)
    if slug == "thermostat:set-operating-mode":
        base = base.map(lambda inp: _keep_gap(inp, schema))
    if anywhere and slug == "battery:set-operating-mode":
        base = base.filter(lambda inp: inp.get("operatingMode") != "reset")
    return base


__all__ = ["MIN_HEAT_COOL_GAP_F", "Slug", "catalogue", "command_input"]
