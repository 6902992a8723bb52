"""Hypothesis strategies for tests against a unified API: scenarios, devices, commands and setpoints.

Pure strategies over what a client sees (the contract and the API's own answers), so they serve any
implementation: ``commands(device)`` draws valid ``(slug, input)`` pairs from the device's
``availableCommands`` JSON Schemas; ``setpoints()`` thermostat targets in °F within the contract's bounds.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# the simulator's built-in scenarios (tests/contracts check this list against the simulator's own)
BUILTIN_SCENARIOS = ("single-home", "all-vendors", "neighbourhood", "fleet-10k")
# small enough to build in well under a second: what a property test can afford per example
SMALL_SCENARIOS = ("single-home", "all-vendors")
DEVICE_TYPES = ("battery", "charger", "inverter", "thermostat", "vehicle")
# ThermostatSetOperatingModeInput: the cool target at least this far above the heat target when both are given
MIN_GAP_F = 3.0


@dataclass(frozen=True)
class ScenarioChoice:
    """A scenario by name and seed (the same pair always builds the same world)."""

    name: str
    seed: int


def scenarios(names: tuple[str, ...] = SMALL_SCENARIOS, *,
              max_seed: int = 2**31 - 1) -> st.SearchStrategy[ScenarioChoice]:
    return st.builds(ScenarioChoice, name=st.sampled_from(names), seed=st.integers(0, max_seed))


def devices(listed: list[dict[str, Any]], *, type: str | None = None,
            command: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """One of ``listed`` (unified device objects), optionally of one type or accepting one command."""
    pool = [d for d in listed if (type is None or d["type"] == type)
            and (command is None or any(c["slug"] == command for c in d.get("availableCommands") or []))]
    if not pool:
        raise ValueError(f"no device of type {type!r} accepting {command!r} among {len(listed)}")
    return st.sampled_from(pool)


def from_input_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid values of a command input JSON Schema (the subset the contract uses: object, enum, number,
    integer, boolean, string with pattern, array, anyOf); optional properties are drawn or left out."""
    if "anyOf" in schema:
        return st.one_of([from_input_schema(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_input_schema({**schema, "type": k}) for k in kind])
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_input_schema(v) for k, v in props.items() if k in required},
            optional={k: from_input_schema(v) for k, v in props.items() if k not in required})
    if kind in ("number", "integer"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if kind == "integer":
            return st.integers(min_value=lo, max_value=hi)
        # whole and half values, as a person types them; the bounds themselves are drawn too
        return st.one_of(st.sampled_from([v for v in (lo, hi) if v is not None] or [0.0]),
                         st.integers(int(lo if lo is not None else -1000) * 2,
                                     int(hi if hi is not None else 1000) * 2).map(lambda v: v / 2)
                         .filter(lambda v: (lo is None or v >= lo) and (hi is None or v <= hi)))
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
    if kind == "array":
        items = from_input_schema(schema.get("items", {"type": "string"}))
        unique = schema.get("uniqueItems", False)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 3), unique=unique)
    if kind == "null":
        return st.none()
    raise ValueError(f"unsupported input schema: {schema}")


def commands(device: dict[str, Any]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """``(slug, input)`` pairs the device says it accepts (its ``availableCommands``), within the rules the
    contract states in prose too (a thermostat's cool target at least 3 °F above its heat target).

    A vendor may still refuse a value it cannot do (ecobee has no fan ``off``): the contract lets the API
    answer 422 for that, up front."""
    offered = device.get("availableCommands") or []
    if not offered:
        raise ValueError(f"device {device.get('id')} accepts no command")
    return st.one_of([from_input_schema(c["input"]).map(lambda inp, s=c["slug"]: (s, _within_prose_rules(s, inp)))
                      for c in offered])


def _within_prose_rules(slug: str, inp: dict[str, Any]) -> dict[str, Any]:
    # what a JSON Schema cannot say: "coolTarget ... at least 3 °F above heatTarget when both are given"
    if slug == "thermostat:set-operating-mode" and "heatTarget" in inp and "coolTarget" in inp:
        return {**inp, "coolTarget": max(inp["coolTarget"], inp["heatTarget"] + MIN_GAP_F)}
    return inp


@functools.cache
def _thermostat_bounds() -> dict[str, tuple[float, float]]:
    import yaml

    text = importlib.resources.files("gridtwin.contracts").joinpath("openapi/unified.yaml").read_text()
    spec = yaml.safe_load(text)
    props = spec["components"]["schemas"]["ThermostatSetOperatingModeInput"]["properties"]
    return {k: (float(props[k]["minimum"]), float(props[k]["maximum"])) for k in ("heatTarget", "coolTarget")}


def setpoints(*, mode: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A thermostat ``set-operating-mode`` input in °F within the contract's bounds; where both targets
    are given (auto, eco) the cool target is at least ``MIN_GAP_F`` above the heat target, as the contract says."""
    b = _thermostat_bounds()
    modes = [mode] if mode else ["off", "heat", "cool", "auto", "eco"]

    def build(m: str, heat: float, cool: float) -> dict[str, Any]:
        out: dict[str, Any] = {"operatingMode": m}
        if m in ("heat", "auto", "eco"):
            out["heatTarget"] = heat
        if m in ("cool", "auto", "eco"):
            out["coolTarget"] = max(cool, heat + MIN_GAP_F) if m in ("auto", "eco") else cool
        return out

    half = lambda lo, hi: st.integers(int(lo * 2), int(hi * 2)).map(lambda v: v / 2)  # noqa: E731
    return st.builds(build, st.sampled_from(modes), half(*b["heatTarget"]), half(*b["coolTarget"])).filter(
        lambda d: d.get("coolTarget", 0) <= b["coolTarget"][1])


__all__ = ["BUILTIN_SCENARIOS", "DEVICE_TYPES", "MIN_GAP_F", "SMALL_SCENARIOS", "ScenarioChoice", "commands", "devices",
           "from_input_schema", "scenarios", "setpoints"]
