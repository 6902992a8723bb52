"""What a command must do to the device's ground truth, read from the contract's command descriptions.

Each command input becomes the truth fields (SI, from ``/_sim/v1/devices/{id}/truth``) it commands and
the values they must take. Only commanded fields are judged: the rest of a device moves on its own.
Numbers are compared within half a unit plus a hair, because a vendor that takes whole units (Enphase
percent, Wallbox amperes) rounds a half-unit input by exactly 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

HALF_UNIT = 0.51


def c_to_f(c: float) -> float:
    return c * 9 / 5 + 32

# a car plugging in re-enables charging by itself: these writes are the evidence of a start or stop
CHARGING_SET_BY = (("StartCharging", True), ("StopCharging", False))


@dataclass(frozen=True)
class Want:
    """One commanded truth field and the value it must show (in the contract's unit)."""

    field: str
    value: Any
    tol: float = 0.0
    unit: str = ""
    convert: Callable[[float], float] | None = None  # truth (SI) -> the contract's unit
    # the simulator command parameter that carries the value (SI): a thermostat's schedule may take a
    # setpoint back after the hold ends, and then the applied write is the evidence (see ``shown_by``)
    param: str | None = None
    # simulator commands that set the field outright (``StartCharging`` -> True): the device may change it by
    # itself since (a car plugging in re-enables charging), and then such an applied write is the evidence
    set_by: tuple[tuple[str, Any], ...] = ()

    def observed(self, truth: dict[str, Any]) -> Any:
        have = truth.get(self.field)
        if self.convert is not None and isinstance(have, int | float) and not isinstance(have, bool):
            return round(self.convert(have), 3)
        return have

    def holds(self, truth: dict[str, Any]) -> bool:
        return _matches(self.observed(truth), self.value, self.tol)

    def shown_by(self, writes: Sequence[dict[str, Any]]) -> bool:
        """Whether the last applied write carrying ``param`` set this value (or, for ``set_by``, whether an
        applied write since the command set it)."""
        if self.set_by:
            table = dict(self.set_by)
            return any(e.get("status") == "applied" and e.get("command") in table
                       and _matches(table[e["command"]], self.value, self.tol) for e in writes)
        if self.param is None:
            return False
        carrying = [e for e in writes if e.get("status") == "applied" and self.param in (e.get("params") or {})]
        if not carrying:
            return False
        value = carrying[-1]["params"][self.param]
        if self.convert is not None and isinstance(value, int | float):
            value = self.convert(value)
        return _matches(value, self.value, self.tol)

    def text(self) -> str:
        if isinstance(self.value, float):
            tol = f" ± {self.tol:g}" if self.tol else ""
            return f"{self.name} = {self.value:g}{tol} {self.unit}".rstrip()
        return f"{self.name} = {self.value!r}"

    @property
    def name(self) -> str:
        return f"{self.field} in {self.unit}" if self.convert else self.field


def _matches(have: Any, want: Any, tol: float) -> bool:
    if isinstance(want, bool) or not isinstance(want, int | float):
        return have == want
    return isinstance(have, int | float) and not isinstance(have, bool) and abs(have - want) <= tol


# alternatives: the command did what it must if every Want of one of them holds
Expectation = list[tuple[Want, ...]]


def _pct(field: str, value: float) -> Want:
    return Want(field, float(value), HALF_UNIT, "%")


def _settings(options: dict[str, list[Any]], strategy: Want | None = None) -> Expectation:
    """Every combination of the candidate ``mode`` and ``reserve_pct`` values (a fixed strategy if given)."""
    modes = [strategy] if strategy else [Want("mode", m) for m in options.get("mode", [])]
    return [(m, _pct("reserve_pct", r)) for m in modes for r in options.get("reserve_pct", [])]


def _battery_mode(inp: dict[str, Any], before: dict[str, Any], staleness_s: float, recent: dict[str, list[Any]],
                  restorable: list[dict[str, list[Any]]] | None) -> tuple[Expectation, str | None]:
    mode = inp["operatingMode"]
    if mode == "reset":
        if restorable is None:
            return [], "reset not judged: the device had commands within 24 h before this check began"
        return [alt for options in restorable for alt in _settings(options)], None
    strategy = Want("mode", "time_of_use" if inp.get("enableGridInteraction", False) else "self_consumption")
    if mode == "charge":
        return [(strategy, _pct("reserve_pct", inp.get("maximumBatteryReserve", 100.0)))], None
    if mode == "discharge":
        if "minimumBatteryReserve" in inp:
            return [(strategy, _pct("reserve_pct", inp["minimumBatteryReserve"]))], None
        # "the current reserve" as the API knows it: any the device had within the staleness bound
        return _settings({"reserve_pct": recent.get("reserve_pct", [before.get("reserve_pct")])}, strategy), None
    # idle: the reserve becomes "the current charge level" as the API last read it, which may be as old as
    # the contract's staleness bound; the charge moves at most at full power meanwhile
    capacity = float(before.get("capacity_wh") or 0.0)
    power = max(float(before.get("p_charge_max_w") or 0.0), float(before.get("p_discharge_max_w") or 0.0))
    drift = power * staleness_s / 3600.0 / capacity * 100.0 if capacity > 0 else 100.0
    return [(strategy, Want("reserve_pct", float(before["soc_pct"]), drift + HALF_UNIT, "%"))], None


def _thermostat_mode(inp: dict[str, Any]) -> Expectation:
    mode = inp["operatingMode"]
    wants = [Want("mode", mode)]
    # the targets a mode uses (the contract: heat uses heatTarget, cool coolTarget, auto both; eco's
    # setpoints are the device's own eco ones)
    if mode in ("heat", "auto") and "heatTarget" in inp:
        wants.append(Want("heat_setpoint_c", float(inp["heatTarget"]), HALF_UNIT, "°F", c_to_f, "heat_setpoint_c"))
    if mode in ("cool", "auto") and "coolTarget" in inp:
        wants.append(Want("cool_setpoint_c", float(inp["coolTarget"]), HALF_UNIT, "°F", c_to_f, "cool_setpoint_c"))
    return [tuple(wants)]


def expectation(slug: str, inp: dict[str, Any], before: dict[str, Any], *, staleness_s: float,
                recent: dict[str, list[Any]] | None = None,
                restorable: list[dict[str, list[Any]]] | None = None) -> tuple[Expectation, str | None]:
    """``(alternatives, note)`` for ``slug`` with ``inp`` on a device whose truth was ``before``.

    ``before`` is the truth of the device that holds the commanded fields (a vehicle's charger).
    A battery's operating mode works from the settings the API has cached, which may be as old as the
    staleness bound: ``recent`` holds every ``mode`` and ``reserve_pct`` the device had within it, and
    ``restorable`` the same at each earlier operating-mode command within 24 h (None: unknown history).
    An empty expectation with a note means the command is not judged on truth.
    """
    if slug == "battery:set-reserve":
        return [(_pct("reserve_pct", inp["chargePercentage"]),)], None
    if slug == "battery:set-operating-mode":
        return _battery_mode(inp, before, staleness_s, recent or {}, restorable)
    if slug == "battery:set-storm-mode":
        return [(Want("storm_mode", bool(inp["enabled"])),)], None
    if slug == "thermostat:set-operating-mode":
        return _thermostat_mode(inp), None
    if slug == "thermostat:set-fan-mode":
        return [(Want("fan_mode", inp["fanMode"]),)], None
    if slug in ("charger:set-operating-mode", "vehicle:set-operating-mode"):
        return [(Want("charging_enabled", inp["operatingMode"] == "start-charging", set_by=CHARGING_SET_BY),)], None
    if slug == "charger:set-current-limit":
        return [(Want("current_limit_a", float(inp["currentLimit"]), HALF_UNIT, "A"),)], None
    if slug == "vehicle:set-charge-limit":
        return [(_pct("charge_limit_pct", float(inp["chargeLimit"])),)], None
    return [], f"{slug} is not judged on truth (unknown command)"


def shown(expect: Expectation, truth: dict[str, Any], writes: Sequence[dict[str, Any]] = ()) -> bool:
    """Whether the device shows one alternative (a setpoint may instead be shown by the applied write)."""
    return any(all(w.holds(truth) or w.shown_by(writes) for w in alt) for alt in expect)


def applied_by_failure(expect: Expectation, before: dict[str, Any], after: dict[str, Any]) -> str:
    """How much of a *failed* command the device shows: ``all`` (it did happen), ``part`` or ``none``.

    Only changes count: a field that already had the requested value proves nothing.
    """
    verdict = "none"
    for alt in expect:
        moved = [w for w in alt if w.holds(after) and not w.holds(before)]
        if moved and all(w.holds(after) for w in alt):
            return "all"
        if moved:
            verdict = "part"
    return verdict


def describe(expect: Expectation) -> str:
    return " or ".join(", ".join(w.text() for w in alt) for alt in expect) or "nothing judged"


def observed(expect: Expectation, truth: dict[str, Any]) -> str:
    by_field = {w.field: w for alt in expect for w in alt}
    return ", ".join(f"{w.name} = {w.observed(truth)!r}" for w in by_field.values())


__all__ = ["HALF_UNIT", "Expectation", "Want", "applied_by_failure", "c_to_f", "describe", "expectation",
           "observed", "shown"]
