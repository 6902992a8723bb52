"""Which unified state field stands for which ground-truth field, in which unit, within which tolerance.

Pure data. Two kinds of field:

* a **measure** changes continuously (power, state of charge, temperature): the reading must lie within
  the range truth spans over the samples bracketing its ``createdAt``, widened by the tolerance;
* a **setting** changes only by an event (a command, a schedule edge, a plug-in): the reading must equal
  a value truth held between its ``createdAt`` and the moment the harness read it (a vendor may read
  settings later than it measured, and an event may fall in between).

Tolerances are the issue's: power 1 % or 50 W, temperature 0.5 °F, state of charge 1 point. Units and
signs are the contract's (unified.yaml): W and Wh, °F for thermostats, battery ``chargeRate`` positive
when discharging, exactly as truth's ``power_w``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Truth = Mapping[str, Any]

POWER_ABS_W = 50.0
POWER_REL = 0.01
TEMP_F = 0.5
SOC_PCT = 1.0
CURRENT_A = 0.5


def c_to_f(c: float) -> float:
    return c * 9.0 / 5.0 + 32.0


def same(v: Any) -> Any:
    return v


def power_tol(truth_w: float, _truth: Truth) -> float:
    return max(POWER_ABS_W, POWER_REL * abs(truth_w))


def fixed(tol: float) -> Callable[[float, Truth], float]:
    return lambda _v, _t: tol


def stored_energy_tol(_v: float, truth: Truth) -> float:
    # one point of state of charge, in Wh of this battery's usable capacity
    return SOC_PCT / 100.0 * float(truth.get("capacity_wh") or 0.0) + 1.0


def plugged(truth: Truth) -> bool:
    return bool(truth.get("plugged"))


def always(_truth: Truth) -> bool:
    return True


@dataclass(frozen=True)
class Measure:
    """A continuously varying field: within [min, max] of the bracketing truth ± tolerance."""

    field: str
    truth: tuple[str, ...]  # truth fields; the reading may agree with any one (thermostat: air or sensor)
    unit: str
    tolerance: Callable[[float, Truth], float]
    tolerance_text: str
    convert: Callable[[float], float] = same  # truth unit -> unified unit
    only_if: Callable[[Truth], bool] = always  # judged only when every bracketing sample satisfies it


@dataclass(frozen=True)
class Setting:
    """An event-driven field: equal (within ``tolerance``) to a value truth held since ``createdAt``."""

    field: str
    truth: str
    unit: str = ""
    tolerance: float = 0.0  # 0: exact (enums, booleans)
    convert: Callable[[Any], Any] = same
    # judged only when the reading itself says the field applies (setpoints of the active mode)
    applies: Callable[[Mapping[str, Any]], bool] = lambda _state: True


def _mode(truth_mode: Any) -> Any:
    # the contract's modes lack emergency heat: it is heating
    return "heat" if truth_mode == "emergency_heat" else truth_mode


def _uses(*modes: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda state: state.get("operatingMode") in modes


POWER = "1 % or 50 W"
FIELDS: dict[str, tuple[Measure | Setting, ...]] = {
    "battery": (
        Measure("chargePercentage", ("soc_pct",), "%", fixed(SOC_PCT), "1 point"),
        Measure("chargeRate", ("power_w",), "W (+ discharging)", power_tol, POWER),
        Measure("charge", ("energy_wh",), "Wh", stored_energy_tol, "1 % of capacity"),
        Setting("backupReserve", "reserve_pct", "%", SOC_PCT),
        Setting("strategy", "mode"),
        Setting("isStormModeEnabled", "storm_mode"),
    ),
    "inverter": (
        Measure("power", ("power_w",), "W", power_tol, POWER),
    ),
    "thermostat": (
        Measure("ambientTemperature", ("indoor_temp_c", "sensed_temp_c"), "°F", fixed(TEMP_F), "0.5 °F", c_to_f),
        Setting("operatingMode", "mode", convert=_mode),
        Setting("heatTarget", "heat_setpoint_c", "°F", TEMP_F, c_to_f, _uses("heat", "auto")),
        Setting("coolTarget", "cool_setpoint_c", "°F", TEMP_F, c_to_f, _uses("cool", "auto")),
        Setting("fanMode", "fan_mode"),
    ),
    "charger": (
        Measure("chargerWattage", ("power_w",), "W", power_tol, POWER),
        Setting("isPluggedIn", "plugged"),
        Setting("currentLimit", "current_limit_a", "A", CURRENT_A),
    ),
    "vehicle": (
        # a vehicle away from its charger reports nothing current through it: judged while plugged in
        Measure("chargePercentage", ("soc_pct",), "%", fixed(SOC_PCT), "1 point", only_if=plugged),
        Measure("chargerWattage", ("power_w",), "W", power_tol, POWER),
        Setting("isPluggedIn", "plugged"),
        Setting("chargeLimit", "charge_limit_pct", "%", SOC_PCT),
    ),
}

# values a reading may give when the vendor cannot say (never compared with truth)
UNKNOWN = (None, "unknown")


def number(value: Any) -> float | None:
    """A finite JSON number (booleans are not numbers here), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if v == v and v not in (float("inf"), float("-inf")) else None
