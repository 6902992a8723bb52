"""Commands the outside world may submit to the simulation (through the runtime only).

Each command is a frozen dataclass naming its target ``device_id``. :meth:`Command.check` validates
the fields that need no device state and raises :class:`CommandRejected` naming the field, the
bound and the value; the runtime adds the checks that need state (device kind, current
setpoints, charger rating).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from .errors import CommandRejected

BATTERY_MODES = ("self_consumption", "time_of_use", "backup")
EXPORT_RULES = ("solar_only", "battery_ok", "never")
THERMOSTAT_MODES = ("off", "heat", "cool", "auto", "eco", "emergency_heat")
FAN_MODES = ("auto", "on", "circulate")
HOLD_KINDS = ("permanent", "next_transition", "until")
HEAT_SETPOINT_RANGE_C = (7.0, 32.0)  # 45-90 °F
COOL_SETPOINT_RANGE_C = (10.0, 35.0)  # 50-95 °F
CHARGE_LIMIT_RANGE_PCT = (50.0, 100.0)
CURRENT_RANGE_A = (6.0, 48.0)


def _range(name: str, value: float, lo: float, hi: float, device_id: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise CommandRejected(name, value, f"a finite number in [{lo:g}, {hi:g}]", device_id=device_id)
    if not lo <= value <= hi:
        raise CommandRejected(name, value, f"in [{lo:g}, {hi:g}]", device_id=device_id)


def _choice(name: str, value: object, options: tuple[str, ...], device_id: str) -> None:
    if value not in options:
        raise CommandRejected(name, value, "one of " + ", ".join(options), device_id=device_id)


def _flag(name: str, value: object, device_id: str) -> None:
    if not isinstance(value, bool):
        raise CommandRejected(name, value, "true or false", device_id=device_id)


@dataclass(frozen=True)
class Command:
    """Base of all commands."""

    device_id: str
    target_kind: ClassVar[tuple[str, ...]] = ()

    @property
    def name(self) -> str:
        return type(self).__name__

    def check(self) -> None:
        """Validate fields without device state; raise :class:`CommandRejected`."""

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "device_id"}


@dataclass(frozen=True)
class SetBatteryMode(Command):
    mode: str = "self_consumption"
    target_kind: ClassVar[tuple[str, ...]] = ("battery",)

    def check(self) -> None:
        _choice("mode", self.mode, BATTERY_MODES, self.device_id)


@dataclass(frozen=True)
class SetBatteryReserve(Command):
    reserve_pct: float = 20.0
    target_kind: ClassVar[tuple[str, ...]] = ("battery",)

    def check(self) -> None:
        _range("reserve_pct", self.reserve_pct, 0.0, 100.0, self.device_id)


@dataclass(frozen=True)
class SetStormMode(Command):
    enabled: bool = True
    target_kind: ClassVar[tuple[str, ...]] = ("battery",)

    def check(self) -> None:
        _flag("enabled", self.enabled, self.device_id)


@dataclass(frozen=True)
class SetGridPermissions(Command):
    grid_charging: bool | None = None
    export_rule: str | None = None
    target_kind: ClassVar[tuple[str, ...]] = ("battery",)

    def check(self) -> None:
        if self.grid_charging is None and self.export_rule is None:
            raise CommandRejected("grid_charging", None, "set (or export_rule set)", device_id=self.device_id)
        if self.grid_charging is not None:
            _flag("grid_charging", self.grid_charging, self.device_id)
        if self.export_rule is not None:
            _choice("export_rule", self.export_rule, EXPORT_RULES, self.device_id)


@dataclass(frozen=True)
class SetThermostatMode(Command):
    mode: str = "auto"
    target_kind: ClassVar[tuple[str, ...]] = ("thermostat",)

    def check(self) -> None:
        _choice("mode", self.mode, THERMOSTAT_MODES, self.device_id)


@dataclass(frozen=True)
class SetSetpoints(Command):
    """Hold new setpoints; ``hold`` says until when (``until`` needs ``hold_until_s``)."""

    heat_setpoint_c: float | None = None
    cool_setpoint_c: float | None = None
    hold: str = "permanent"
    hold_until_s: float | None = None
    target_kind: ClassVar[tuple[str, ...]] = ("thermostat",)

    def check(self) -> None:
        if self.heat_setpoint_c is None and self.cool_setpoint_c is None:
            raise CommandRejected("heat_setpoint_c", None, "set (or cool_setpoint_c set)", device_id=self.device_id)
        if self.heat_setpoint_c is not None:
            _range("heat_setpoint_c", self.heat_setpoint_c, *HEAT_SETPOINT_RANGE_C, self.device_id)
        if self.cool_setpoint_c is not None:
            _range("cool_setpoint_c", self.cool_setpoint_c, *COOL_SETPOINT_RANGE_C, self.device_id)
        _choice("hold", self.hold, HOLD_KINDS, self.device_id)
        if self.hold == "until" and self.hold_until_s is None:
            raise CommandRejected("hold_until_s", None, "set when hold is 'until'", device_id=self.device_id)


@dataclass(frozen=True)
class ResumeSchedule(Command):
    target_kind: ClassVar[tuple[str, ...]] = ("thermostat",)


@dataclass(frozen=True)
class SetFanMode(Command):
    fan_mode: str = "auto"
    target_kind: ClassVar[tuple[str, ...]] = ("thermostat",)

    def check(self) -> None:
        _choice("fan_mode", self.fan_mode, FAN_MODES, self.device_id)


@dataclass(frozen=True)
class StartCharging(Command):
    target_kind: ClassVar[tuple[str, ...]] = ("charger", "vehicle")


@dataclass(frozen=True)
class StopCharging(Command):
    target_kind: ClassVar[tuple[str, ...]] = ("charger", "vehicle")


@dataclass(frozen=True)
class SetChargerLock(Command):
    """Lock or unlock a charger: a locked charger never charges, whatever plugs in."""

    locked: bool = True
    target_kind: ClassVar[tuple[str, ...]] = ("charger",)

    def check(self) -> None:
        _flag("locked", self.locked, self.device_id)


@dataclass(frozen=True)
class SetChargeCurrent(Command):
    current_a: float = 32.0
    target_kind: ClassVar[tuple[str, ...]] = ("charger",)

    def check(self) -> None:
        _range("current_a", self.current_a, *CURRENT_RANGE_A, self.device_id)


@dataclass(frozen=True)
class SetVehicleChargeLimit(Command):
    limit_pct: float = 80.0
    target_kind: ClassVar[tuple[str, ...]] = ("vehicle",)

    def check(self) -> None:
        _range("limit_pct", self.limit_pct, *CHARGE_LIMIT_RANGE_PCT, self.device_id)


@dataclass(frozen=True)
class CurtailSolar(Command):
    """Cap PV AC output at ``limit_w``; ``None`` lifts the cap."""

    limit_w: float | None = None
    target_kind: ClassVar[tuple[str, ...]] = ("solar",)

    def check(self) -> None:
        if self.limit_w is not None:
            _range("limit_w", self.limit_w, 0.0, 1e6, self.device_id)


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        SetBatteryMode, SetBatteryReserve, SetStormMode, SetGridPermissions, SetThermostatMode,
        SetSetpoints, ResumeSchedule, SetFanMode, StartCharging, StopCharging, SetChargerLock, SetChargeCurrent,
        SetVehicleChargeLimit, CurtailSolar,
    )
}
