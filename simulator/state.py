"""Immutable snapshots of devices and homes, exact at the instant they were read.

SI units and gridtwin signs (see :mod:`gridtwin.simulator.units`): battery ``power_w`` is positive
when discharging, home ``grid_w`` positive when importing. Times are epoch seconds (UTC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DeviceKind = Literal["battery", "solar", "thermostat", "charger", "vehicle"]
DEVICE_KINDS: tuple[DeviceKind, ...] = ("battery", "solar", "thermostat", "charger", "vehicle")


@dataclass(frozen=True)
class DeviceInfo:
    """Static facts of a device: who it is, where, and whose cloud it reports to."""

    device_id: str
    kind: DeviceKind
    home_id: str
    vendor: str
    model: str


@dataclass(frozen=True)
class Faults:
    """Active device faults (applied by the HTTP layer to reported values, except ``inverter_trip``
    and ``sensor_bias_c``, which have physical consequences)."""

    offline: bool = False
    stale_telemetry: bool = False
    command_rejected: bool = False
    command_not_applied: bool = False
    inverter_trip: bool = False
    sensor_bias_c: float = 0.0


@dataclass(frozen=True)
class BatteryState:
    info: DeviceInfo
    time_s: float
    soc_pct: float
    energy_wh: float
    capacity_wh: float
    power_w: float  # + discharging
    mode: str  # self_consumption | time_of_use | backup
    reserve_pct: float
    grid_charging: bool
    export_rule: str  # solar_only | battery_ok | never
    storm_mode: bool
    storm_watch: bool
    outage: bool
    p_charge_max_w: float
    p_discharge_max_w: float
    charged_wh: float  # lifetime AC energy into the battery
    discharged_wh: float  # lifetime AC energy out of the battery
    faults: Faults = field(default_factory=Faults)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SolarState:
    info: DeviceInfo
    time_s: float
    power_w: float  # AC output after clipping and curtailment
    available_w: float  # AC the array could deliver now (before curtailment)
    dc_power_w: float
    energy_wh: float  # lifetime AC energy
    pdc0_w: float
    pac0_w: float
    curtail_limit_w: float | None
    ghi_w_m2: float
    faults: Faults = field(default_factory=Faults)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ThermostatState:
    info: DeviceInfo
    time_s: float
    indoor_temp_c: float
    sensed_temp_c: float
    mass_temp_c: float
    outdoor_temp_c: float
    humidity_pct: float
    mode: str  # off | heat | cool | auto | eco | emergency_heat
    running: str  # idle | heat | cool
    fan_mode: str  # auto | on | circulate
    fan_on: bool
    heat_setpoint_c: float  # effective now
    cool_setpoint_c: float
    hold: str | None  # None | permanent | next_transition | until
    hold_until_s: float | None
    heat_source: str  # heat_pump | furnace
    hvac_power_w: float  # electric
    gas_power_w: float
    heat_to_air_w: float  # thermal, negative when cooling
    electric_energy_wh: float
    faults: Faults = field(default_factory=Faults)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChargerState:
    info: DeviceInfo
    time_s: float
    plugged: bool
    pilot_state: str  # J1772 A-F
    ocpp_status: str
    charging_enabled: bool
    locked: bool
    current_limit_a: float
    max_current_a: float
    voltage_v: float
    power_w: float
    session_energy_wh: float
    energy_wh: float  # lifetime
    vehicle_id: str
    faults: Faults = field(default_factory=Faults)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VehicleState:
    info: DeviceInfo
    time_s: float
    soc_pct: float
    energy_wh: float
    capacity_wh: float
    charge_limit_pct: float
    plugged: bool
    charging: bool
    power_w: float
    departure_s: float | None
    charger_id: str
    faults: Faults = field(default_factory=Faults)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DeviceState = BatteryState | SolarState | ThermostatState | ChargerState | VehicleState


@dataclass(frozen=True)
class HomeInfo:
    """Static facts of a home and its household (the customer a unified API would link)."""

    home_id: str
    name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    postal_code: str
    lat: float
    lon: float
    timezone: str
    cell: str
    utility: str
    iso: str
    device_ids: tuple[str, ...]


@dataclass(frozen=True)
class HomeState:
    info: HomeInfo
    time_s: float
    load_w: float
    pv_w: float
    battery_w: float
    hvac_w: float
    ev_w: float
    grid_w: float
    shed_w: float
    outage: bool
    outdoor_temp_c: float
    carbon_g_per_kwh: float
    tariff_period: str
    price_per_kwh: float
    import_wh: float
    export_wh: float
    battery_soc_pct: float | None
    indoor_temp_c: float | None
    ev_soc_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
