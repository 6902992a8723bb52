"""Immutable reads of the world: per-device and per-home states, and whole-fleet snapshots.

Reads never change the simulation: dynamic quantities come from each fleet's closed-form
``read(row, t)``, so two reads at the same instant are identical, and a read between ticks is
exact. A :class:`Snapshot` holds frozen copies of the fleet arrays (materialised to its instant)
and builds state objects from them on demand, so taking one for 10,000 homes costs a few
memory copies, not 50,000 objects.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from .devices import thermostat as tdev
from .devices.base import ALL, Fleet
from .errors import UnknownDevice
from .physics import battery as bp
from .physics import ev
from .state import (
    BatteryState,
    ChargerState,
    DeviceInfo,
    DeviceState,
    Faults,
    HomeInfo,
    HomeState,
    SolarState,
    ThermostatState,
    VehicleState,
)


def faults_of(active: dict[str, float] | None) -> Faults:
    if not active:
        return Faults()
    return Faults(
        offline="offline" in active, stale_telemetry="stale_telemetry" in active,
        command_rejected="command_rejected" in active, command_not_applied="command_not_applied" in active,
        inverter_trip="inverter_trip" in active, sensor_bias_c=float(active.get("sensor_bias", 0.0)),
    )


class View:
    """What the builders read: fleets, the meter, weather and static facts (live or frozen)."""

    def __init__(self, world: Any, fleets: dict[str, Fleet], meter: Any, weather: dict[str, Any],
                 device_faults: dict[str, dict[str, float]]) -> None:
        self.world = world
        self.fleets = fleets
        self.meter = meter
        self.weather = weather
        self.device_faults = device_faults

    def device(self, device_id: str, t: float) -> DeviceState:
        try:
            kind, _, row = self.world.device_index[device_id]
        except KeyError:
            raise UnknownDevice(device_id) from None
        info = self.world.device_info[device_id]
        f = faults_of(self.device_faults.get(device_id))
        fleet = self.fleets["charger" if kind == "vehicle" else kind]
        build = {"battery": _battery, "solar": _solar, "thermostat": _thermostat, "charger": _charger,
                 "vehicle": _vehicle}[kind]
        return build(self, fleet, row, t, info, f)  # type: ignore[operator]

    def home(self, home_id: str, t: float) -> HomeState:
        try:
            h = self.world.home_index[home_id]
        except KeyError:
            raise UnknownDevice(home_id) from None
        info: HomeInfo = self.world.home_info[h]
        m = self.meter
        c = int(self.world.home_cell[h])
        counters = m.read(h, t)
        soc = indoor = ev_soc = None
        b, ts, ch = self.fleets["battery"], self.fleets["thermostat"], self.fleets["charger"]
        if b.row_of_home[h] >= 0:
            r = int(b.row_of_home[h])
            soc = 100.0 * b.read(r, t)["energy_wh"] / float(b.capacity_wh[r])
        if ts.row_of_home[h] >= 0:
            indoor = ts.read(int(ts.row_of_home[h]), t)["t_air"]
        if ch.row_of_home[h] >= 0:
            ev_soc = 100.0 * ch.read(int(ch.row_of_home[h]), t)["soc"]
        period = int(self.weather["period"][c])
        return HomeState(
            info=info, time_s=t, load_w=float(m.load_w[h]), pv_w=float(m.pv_w[h]), battery_w=float(m.battery_w[h]),
            hvac_w=float(m.hvac_w[h]), ev_w=float(m.ev_w[h]), grid_w=float(m.grid_w[h]), shed_w=float(m.shed_w[h]),
            outage=bool(m.outage[h]), outdoor_temp_c=float(self.weather["t_out"][c]),
            carbon_g_per_kwh=float(self.weather["carbon"][c]), tariff_period=bp.PERIOD_NAMES[period],
            price_per_kwh=float(self.weather["price"][c]), import_wh=counters["import_wh"],
            export_wh=counters["export_wh"], battery_soc_pct=soc, indoor_temp_c=indoor, ev_soc_pct=ev_soc,
        )


def _battery(v: View, b: Any, row: int, t: float, info: DeviceInfo, f: Faults) -> BatteryState:
    r = b.read(row, t)
    cap = float(b.capacity_wh[row])
    h = int(b.home[row])
    return BatteryState(
        info=info, time_s=t, soc_pct=100.0 * r["energy_wh"] / cap, energy_wh=r["energy_wh"], capacity_wh=cap,
        power_w=float(b.power_w[row]), mode=bp.MODE_NAMES[b.mode[row]], reserve_pct=float(b.reserve_frac[row] * 100.0),
        grid_charging=bool(b.grid_charging[row]), export_rule=bp.EXPORT_NAMES[b.export_rule[row]],
        storm_mode=bool(b.storm_mode[row]), storm_watch=bool(v.meter.storm_watch[h]), outage=bool(v.meter.outage[h]),
        p_charge_max_w=float(b.p_charge_max_w[row]), p_discharge_max_w=float(b.p_discharge_max_w[row]),
        charged_wh=r["charged_wh"], discharged_wh=r["discharged_wh"], faults=f,
    )


def _solar(v: View, s: Any, row: int, t: float, info: DeviceInfo, f: Faults) -> SolarState:
    limit = float(s.curtail_w[row])
    return SolarState(
        info=info, time_s=t, power_w=float(s.power_w[row]), available_w=float(s.available_w[row]),
        dc_power_w=float(s.dc_w[row]), energy_wh=s.read(row, t)["energy_wh"], pdc0_w=float(s.pdc0_w[row]),
        pac0_w=float(s.pac0_w[row]), curtail_limit_w=None if np.isinf(limit) else limit,
        ghi_w_m2=float(v.weather["ghi"][int(s.cell[row])]), faults=f,
    )


def _thermostat(v: View, ts: Any, row: int, t: float, info: DeviceInfo, f: Faults) -> ThermostatState:
    r = ts.read(row, t)
    hold = int(ts.hold[row])
    c = int(ts.cell[row])
    return ThermostatState(
        info=info, time_s=t, indoor_temp_c=r["t_air"], sensed_temp_c=r["t_air"] + float(ts.sensor_bias_c[row]),
        mass_temp_c=r["t_mass"], outdoor_temp_c=float(ts.t_out_c[row]),
        humidity_pct=float(np.clip(0.55 * v.weather["humidity"][c] + 18.0, 20.0, 70.0)),
        mode=tdev.MODE_NAMES[ts.mode[row]], running=tdev.RUN_NAMES[ts.running[row]],
        fan_mode=tdev.FAN_NAMES[ts.fan_mode[row]], fan_on=bool(ts.fan_on[row]),
        heat_setpoint_c=float(ts.heat_sp_c[row]), cool_setpoint_c=float(ts.cool_sp_c[row]),
        hold=tdev.HOLD_NAMES[hold], hold_until_s=float(ts.hold_until_s[row]) if hold == tdev.HOLD_UNTIL else None,
        heat_source=tdev.HEAT_SOURCE_NAMES[ts.heat_source[row]], hvac_power_w=float(ts.electric_w[row]),
        gas_power_w=float(ts.gas_w[row]), heat_to_air_w=float(ts.hvac_heat_w[row]),
        electric_energy_wh=r["electric_wh"], faults=f,
    )


def _charger_common(ch: Any, row: int) -> tuple[int, int]:
    p = float(ch.power_w[row])
    plugged = bool(ch.plugged[row])
    enabled = bool(ch.enabled[row]) and not bool(ch.locked[row])
    state = int(ev.pilot_state(plugged, enabled, p, bool(ch.fault[row])))
    at_limit = plugged and p == 0.0 and enabled
    status = int(ev.ocpp_status(state, p, plugged, enabled, at_limit, bool(ch.fault[row])))
    return state, status


def _charger(v: View, ch: Any, row: int, t: float, info: DeviceInfo, f: Faults) -> ChargerState:
    r = ch.read(row, t)
    state, status = _charger_common(ch, row)
    return ChargerState(
        info=info, time_s=t, plugged=bool(ch.plugged[row]), pilot_state=ev.STATE_LETTERS[state],
        ocpp_status=ev.OCPP_STATUS_NAMES[status], charging_enabled=bool(ch.enabled[row]),
        locked=bool(ch.locked[row]),
        current_limit_a=float(ch.current_limit_a[row]), max_current_a=float(ch.max_current_a[row]),
        voltage_v=float(ch.voltage_v[row]), power_w=float(ch.power_w[row]), session_energy_wh=r["session_wh"],
        energy_wh=r["energy_wh"], vehicle_id=ch.vehicle_ids[row], faults=f,
    )


def _vehicle(v: View, ch: Any, row: int, t: float, info: DeviceInfo, f: Faults) -> VehicleState:
    r = ch.read(row, t)
    cap = float(ch.capacity_wh[row])
    dep = float(ch.departure_s[row])
    return VehicleState(
        info=info, time_s=t, soc_pct=100.0 * r["soc"], energy_wh=r["soc"] * cap, capacity_wh=cap,
        charge_limit_pct=float(ch.charge_limit_frac[row] * 100.0), plugged=bool(ch.plugged[row]),
        charging=float(ch.power_w[row]) > 0.0, power_w=float(ch.power_w[row]),
        departure_s=None if np.isnan(dep) else dep, charger_id=ch.ids[row], faults=f,
    )


def _frozen(fleet: Fleet, t: float) -> Fleet:
    """A copy of ``fleet`` with its own arrays, materialised to ``t``; the live fleet is untouched."""
    twin = copy.copy(fleet)
    for name, value in fleet.arrays().items():
        setattr(twin, name, value.copy())
    if fleet.n:
        twin.materialise(t, ALL)
    for value in twin.arrays().values():
        value.setflags(write=False)
    return twin


class Snapshot:
    """The whole world at one instant; immutable, safe to hand to any thread."""

    def __init__(self, world: Any) -> None:
        t = float(world.env.now)
        self.time_s = t
        fleets = {k: _frozen(getattr(world, k), t) for k in ("battery", "solar", "thermostat", "charger")}
        meter = _frozen(world.meter, t)
        weather = {k: np.array(v, copy=True) for k, v in world.weather.items()}
        faults = {k: dict(v) for k, v in world.device_faults.items()}
        self._view = View(world, fleets, meter, weather, faults)
        self._device_ids = tuple(world.device_info)
        self._home_ids = tuple(h.home_id for h in world.home_info)

    def device(self, device_id: str) -> DeviceState:
        return self._view.device(device_id, self.time_s)

    def home(self, home_id: str) -> HomeState:
        return self._view.home(home_id, self.time_s)

    def devices(self, kind: str | None = None) -> Iterator[DeviceState]:
        for dev in self._device_ids:
            if kind is None or self._view.world.device_info[dev].kind == kind:
                yield self.device(dev)

    def homes(self) -> Iterator[HomeState]:
        for h in self._home_ids:
            yield self.home(h)

    def columns(self, kind: str) -> dict[str, Any]:
        """Every device of one kind at once, as aligned columns (cheap for thousands of devices).

        ``device_id`` (list) and numpy arrays in SI units and gridtwin signs: battery ``power_w``,
        ``soc_pct``, ``energy_wh``, ``capacity_wh``, ``charged_wh``, ``discharged_wh``; solar
        ``power_w``, ``energy_wh``; plus boolean ``offline`` and ``stale_telemetry`` (faults).
        """
        f = self._view.fleets[kind]  # frozen: materialised to this instant
        ids = list(f.ids)
        faults = self._view.device_faults
        offline = np.zeros(len(ids), dtype=bool)
        stale = np.zeros(len(ids), dtype=bool)
        for dev, active in faults.items():  # usually none or a handful
            dkind, _, row = self._view.world.device_index[dev]
            if dkind == kind:
                offline[row] = "offline" in active
                stale[row] = "stale_telemetry" in active
        out: dict[str, Any] = {"device_id": ids, "offline": offline, "stale_telemetry": stale}
        if kind == "battery":
            out.update(power_w=f.power_w, soc_pct=100.0 * f.energy_wh / f.capacity_wh, energy_wh=f.energy_wh,
                       capacity_wh=f.capacity_wh, charged_wh=f.charged_wh, discharged_wh=f.discharged_wh)
        elif kind == "solar":
            out.update(power_w=f.power_w, energy_wh=f.energy_wh)
        else:
            raise ValueError(f"columns are available for battery and solar, not {kind!r}")
        return out

    def arrays(self, kind: str) -> dict[str, np.ndarray]:
        """Read-only arrays of one fleet (``battery``, ``solar``, ``thermostat``, ``charger``, ``meter``)."""
        src = self._view.meter if kind == "meter" else self._view.fleets[kind]
        return dict(src.arrays())
