"""The fleet kernel: one SimPy environment, one process per device type, home balance.

Continuous physics is vectorised: at every fleet step each stage process (climate, solar,
thermostat, charger, load, battery, meter — started in that order, so SimPy runs them in that
order at every tick) materialises its rows to ``t`` in closed form and plans the powers to
hold until the next tick. Discrete events — commands, EV plug-in and departure, fault and
outage windows — are SimPy events that edit rows and replan only the homes they touch.

``env.now`` is epoch seconds (UTC). Nothing outside :mod:`gridtwin.simulator.runtime` should
touch a :class:`World`.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from . import commands as cmd
from .climate import Climate
from .devices import thermostat as tdev
from .devices.base import ALL, Fleet
from .devices.battery import BatteryFleet
from .devices.charger import ChargerFleet
from .devices.solar import SolarFleet
from .devices.thermostat import ThermostatFleet
from .errors import CommandRejected, UnknownDevice
from .home import LoadStage, Meter
from .physics import battery as bp
from .physics import thermal as th
from .scenario import Scenario, device_id
from .state import DeviceInfo, HomeInfo

FAULT_KINDS = ("offline", "stale_telemetry", "command_rejected", "command_not_applied", "inverter_trip",
               "sensor_bias", "outage", "storm_watch")
HOME_WINDOW_KINDS = ("outage", "storm_watch")
_RAW = object()  # "log the array's own value"


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Freeze what exists now out of the garbage collector's scans while the block runs.

    A world of 10,000 homes is ~10^6 long-lived objects; without this, every few ticks the
    collector rescans them (3.1 s -> 2.3 s for a 10,000-home day). Unfrozen on exit, so callers
    inside a long process (tests) leave nothing frozen behind.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class FaultRecord:
    fault_id: str
    target: str
    kind: str
    start_s: float
    end_s: float
    value: float
    active: bool = False
    cleared: bool = False
    cancel: simpy.Event | None = field(default=None, repr=False)


class World:
    """A running scenario: arrays, SimPy processes and the discrete-event handlers."""

    def __init__(self, scenario: Scenario, *, fleet_processes: bool = True) -> None:
        self.scenario = scenario
        self.start_s = scenario.start_s
        self.step_s = scenario.step_s
        self.env = simpy.Environment(initial_time=self.start_s)
        homes = scenario.homes
        self.n_homes = len(homes)
        self.cell_names = [c.name for c in scenario.cells]
        self.climate = Climate(scenario.cells, scenario.tariff, self.step_s, scenario.seed)
        self.home_cell = np.array([self.climate.index[h.cell] for h in homes], dtype=np.intp)
        self.meter = Meter(self)
        m = self.meter
        # the fleets write the home's powers straight into the meter's arrays
        self.load_w, self.pv_avail_w, self.hvac_w, self.ev_w, self.battery_w = (
            m.load_w, m.pv_avail_w, m.hvac_w, m.ev_w, m.battery_w)
        self.outage, self.storm_watch = m.outage, m.storm_watch
        self.loads = LoadStage(self, [h.base_load_mean_w for h in homes], [h.seed_u64 for h in homes])
        self.solar = self._fleet(SolarFleet, "solar")
        self.battery = self._fleet(BatteryFleet, "battery")
        self.thermostat = self._fleet(ThermostatFleet, "thermostat")
        with_ev = [h for h in homes if "charger" in h.devices]
        self.charger = ChargerFleet(
            self, [h.index for h in with_ev], [device_id("charger", h.index) for h in with_ev],
            [device_id("vehicle", h.index) for h in with_ev], [h.devices["charger"].params for h in with_ev],
            [np.random.SeedSequence(scenario.seed, spawn_key=(0, h.index, 3)) for h in with_ev],
        )
        self.export_never = np.zeros(self.n_homes, dtype=bool)
        self.export_never[self.battery.home] = self.battery.export_rule == bp.EXPORT_NEVER
        self.stages: list[Fleet] = [self.solar, self.thermostat, self.charger, self.loads, self.battery, self.meter]
        self._index_devices()
        self.faults: dict[str, FaultRecord] = {}
        self.device_faults: dict[str, dict[str, float]] = {}
        self._fault_seq = 0
        self._fault_depth: dict[tuple[str, str], int] = {}
        self.observers: list[Callable[[float], None]] = []
        self.weather = self.climate.column(self.start_s)
        self.cell_local_hour = self.climate.local_hour(self.start_s)
        self.replan(self.start_s)
        if fleet_processes:  # the benchmark's naive baseline adds per-device processes instead
            self._start_processes()
        self.charger.start_sessions(self.env)
        for w in scenario.windows:
            self.add_fault(w.target, w.kind, w.start_s, w.end_s, w.value)

    # -- construction ------------------------------------------------------------------
    def _fleet(self, cls: type, kind: str) -> Any:
        homes = [h for h in self.scenario.homes if kind in h.devices]
        return cls(self, [h.index for h in homes], [device_id(kind, h.index) for h in homes],
                   [h.devices[kind].params for h in homes])

    def _index_devices(self) -> None:
        self.device_index: dict[str, tuple[str, Fleet, int]] = {}
        self.device_info: dict[str, DeviceInfo] = {}
        self.home_index: dict[str, int] = {}
        self.home_info: list[HomeInfo] = []
        per_home: dict[int, list[str]] = {h.index: [] for h in self.scenario.homes}
        for fleet in (self.solar, self.battery, self.thermostat, self.charger):
            for row, dev in enumerate(fleet.ids):
                self.device_index[dev] = (fleet.kind, fleet, row)
                home = self.scenario.homes[int(fleet.home[row])]
                spec = home.devices[fleet.kind]
                self.device_info[dev] = DeviceInfo(dev, fleet.kind, home.home_id, spec.vendor, spec.model)  # type: ignore[arg-type]
                per_home[home.index].append(dev)
        for row, veh in enumerate(self.charger.vehicle_ids):
            self.device_index[veh] = ("vehicle", self.charger, row)
            home = self.scenario.homes[int(self.charger.home[row])]
            spec = home.devices["charger"]
            self.device_info[veh] = DeviceInfo(veh, "vehicle", home.home_id, spec.vendor, spec.model + "/vehicle")
            per_home[home.index].append(veh)
        for h in self.scenario.homes:
            cell = self.climate.cells[self.climate.index[h.cell]]
            self.home_index[h.home_id] = h.index
            self.home_info.append(HomeInfo(
                h.home_id, h.name, h.email, h.phone, h.street, h.city, h.state, h.postal_code, h.lat, h.lon,
                cell.timezone, cell.name, cell.utility, cell.iso, tuple(sorted(per_home[h.index])),
            ))

    # -- time --------------------------------------------------------------------------
    def tick_at_or_after(self, t: float) -> float:
        k = math.ceil((t - self.start_s) / self.step_s - 1e-9)
        return self.start_s + k * self.step_s

    def next_tick_s(self, t: float) -> float:
        k = math.floor((t - self.start_s) / self.step_s + 1e-9) + 1
        return self.start_s + k * self.step_s

    def _start_processes(self) -> None:
        """One SimPy process per stage (weather, then each device type, then the meter).

        Started in stage order, they re-schedule their timeouts in that order at every tick,
        so SimPy runs them in that order at every tick: each sees the home context (PV, HVAC,
        EV, load) the earlier stages planned for the same instant.
        """
        self.env.process(self._stage_process(self._tick_weather))
        for stage in self.stages:
            if stage.n:
                self.env.process(self._stage_process(lambda t, s=stage: self._tick_stage(s, t)))
        self.env.process(self._stage_process(self._notify))

    def _stage_process(self, tick: Callable[[float], None]) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.step_s)
            tick(self.env.now)

    def _tick_weather(self, t: float) -> None:
        self.weather = self.climate.column(t)
        self.cell_local_hour = self.climate.local_hour(t)

    def _tick_stage(self, stage: Fleet, t: float) -> None:
        stage.materialise(t, ALL)
        stage.plan(t, ALL, self.step_s)

    def _notify(self, t: float) -> None:
        for observer in self.observers:
            observer(t)

    def replan(self, t: float, homes: np.ndarray | None = None) -> None:
        """Materialise and re-plan ``homes`` (all when None) at ``t``, in stage order."""
        self.weather = self.climate.column(t)
        self.cell_local_hour = self.climate.local_hour(t)
        horizon = self.next_tick_s(t) - t
        for stage in self.stages:
            idx = stage.rows(homes)
            if stage.n and not stage.empty(idx):
                stage.materialise(t, idx)
                stage.plan(t, idx, horizon)

    def run_until(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)
        self.drain()

    def drain(self) -> None:
        """Process the events due at the current instant (zero-delay commands, windows)."""
        env = self.env
        while env.peek() <= env.now:
            env.step()

    # -- discrete events ---------------------------------------------------------------
    def ev_arrive(self, row: int, need_wh: float, departure_s: float) -> None:
        t = self.env.now
        self.charger.materialise(t, np.array([row]))
        self.charger.arrive(row, need_wh, departure_s)

    def ev_depart(self, row: int) -> None:
        """On a tick instant, before the tick's stages run: they plan the home without the car."""
        self.charger.materialise(self.env.now, np.array([row]))
        self.charger.depart(row)

    def locate(self, ident: str) -> tuple[str, Fleet, int]:
        try:
            return self.device_index[ident]
        except KeyError:
            raise UnknownDevice(ident) from None

    def check(self, c: cmd.Command) -> None:
        """Validate a command against the device's kind and current state."""
        kind, _fleet, row = self.locate(c.device_id)
        if kind not in c.target_kind:
            raise CommandRejected("device_id", c.device_id, f"a {' or '.join(c.target_kind)} device "
                                  f"({c.name} cannot target a {kind})", device_id=c.device_id)
        c.check()
        if isinstance(c, cmd.SetChargeCurrent) and c.current_a > self.charger.max_current_a[row]:
            raise CommandRejected("current_a", c.current_a, f"<= the charger's rating "
                                  f"{self.charger.max_current_a[row]:g} A", device_id=c.device_id)
        if isinstance(c, cmd.SetSetpoints):
            f = self.thermostat
            heat = c.heat_setpoint_c if c.heat_setpoint_c is not None else float(f.heat_sp_c[row])
            cool = c.cool_setpoint_c if c.cool_setpoint_c is not None else float(f.cool_sp_c[row])
            if f.mode[row] == th.MODE_AUTO and cool < heat + th.MIN_AUTO_GAP_K - 1e-9:
                raise CommandRejected("cool_setpoint_c", cool, f">= heat_setpoint_c + {th.MIN_AUTO_GAP_K:.2f} K "
                                      f"(3 °F) in auto mode (heat {heat:g} °C)", device_id=c.device_id)
            if c.hold == "until" and c.hold_until_s is not None and c.hold_until_s <= self.env.now:
                raise CommandRejected("hold_until_s", c.hold_until_s, f"> now ({self.env.now:g})",
                                      device_id=c.device_id)

    def apply(self, c: cmd.Command) -> dict[str, tuple[Any, Any]]:
        """Apply a checked command now; return the changed fields as ``{name: (old, new)}``."""
        t = self.env.now
        _kind, fleet, row = self.locate(c.device_id)
        home = np.array([fleet.home[row]])
        self.replan(t, home)  # materialise first, so the change starts exactly now
        changes: dict[str, tuple[Any, Any]] = {}

        def setv(name: str, array: np.ndarray, value: Any, shown: Any = _RAW, old_shown: Any = _RAW) -> None:
            """Set ``array[row]``; log ``(old, new)`` as shown to users (names, not codes)."""
            old = array[row].item()
            array[row] = value
            if old != array[row].item():
                changes[name] = (old if old_shown is _RAW else old_shown,
                                 array[row].item() if shown is _RAW else shown)

        b, ts, ch, so = self.battery, self.thermostat, self.charger, self.solar
        if isinstance(c, cmd.SetBatteryMode):
            setv("mode", b.mode, bp.MODE_NAMES.index(c.mode), c.mode, bp.MODE_NAMES[b.mode[row]])
        elif isinstance(c, cmd.SetBatteryReserve):
            setv("reserve_pct", b.reserve_frac, c.reserve_pct / 100.0, float(c.reserve_pct),
                 float(b.reserve_frac[row] * 100.0))
        elif isinstance(c, cmd.SetStormMode):
            setv("storm_mode", b.storm_mode, c.enabled)
        elif isinstance(c, cmd.SetGridPermissions):
            if c.grid_charging is not None:
                setv("grid_charging", b.grid_charging, c.grid_charging)
            if c.export_rule is not None:
                setv("export_rule", b.export_rule, bp.EXPORT_NAMES.index(c.export_rule), c.export_rule,
                     bp.EXPORT_NAMES[b.export_rule[row]])
                self.export_never[home] = c.export_rule == "never"
        elif isinstance(c, cmd.SetThermostatMode):
            setv("mode", ts.mode, tdev.MODE_NAMES.index(c.mode), c.mode, tdev.MODE_NAMES[ts.mode[row]])
        elif isinstance(c, cmd.SetSetpoints):
            heat = c.heat_setpoint_c if c.heat_setpoint_c is not None else float(ts.heat_sp_c[row])
            cool = c.cool_setpoint_c if c.cool_setpoint_c is not None else float(ts.cool_sp_c[row])
            old_heat, old_cool = float(ts.heat_sp_c[row]), float(ts.cool_sp_c[row])
            ts.hold_heat_c[row] = heat
            ts.hold_cool_c[row] = cool
            for name, old_v, new_v in (("heat_setpoint_c", old_heat, heat), ("cool_setpoint_c", old_cool, cool)):
                if old_v != new_v:
                    changes[name] = (old_v, new_v)
            setv("hold", ts.hold, tdev.HOLD_NAMES.index(c.hold), c.hold, tdev.HOLD_NAMES[ts.hold[row]])
            ts.hold_until_s[row] = c.hold_until_s if c.hold == "until" else np.inf
            ts.hold_period[row] = ts.period[row]
            if c.hold == "until" and c.hold_until_s is not None:
                self.env.process(self._replan_at(float(c.hold_until_s), int(fleet.home[row])))
        elif isinstance(c, cmd.ResumeSchedule):
            setv("hold", ts.hold, tdev.HOLD_NONE, None, tdev.HOLD_NAMES[ts.hold[row]])
        elif isinstance(c, cmd.SetFanMode):
            setv("fan_mode", ts.fan_mode, tdev.FAN_NAMES.index(c.fan_mode), c.fan_mode,
                 tdev.FAN_NAMES[ts.fan_mode[row]])
        elif isinstance(c, cmd.StartCharging | cmd.StopCharging):
            setv("charging_enabled", ch.enabled, isinstance(c, cmd.StartCharging))
        elif isinstance(c, cmd.SetChargerLock):
            setv("locked", ch.locked, c.locked)
        elif isinstance(c, cmd.SetChargeCurrent):
            setv("current_limit_a", ch.current_limit_a, float(c.current_a))
        elif isinstance(c, cmd.SetVehicleChargeLimit):
            setv("charge_limit_pct", ch.charge_limit_frac, c.limit_pct / 100.0, float(c.limit_pct),
                 float(ch.charge_limit_frac[row] * 100.0))
        elif isinstance(c, cmd.CurtailSolar):
            limit = np.inf if c.limit_w is None else float(c.limit_w)
            old = so.curtail_w[row]
            so.curtail_w[row] = limit
            if old != limit:
                changes["curtail_limit_w"] = (None if np.isinf(old) else float(old), c.limit_w)
        self.replan(t, home)
        return changes

    def _replan_at(self, t: float, home: int) -> Generator[simpy.Event, Any, None]:
        """Re-plan one home at ``t`` (a hold that ends between ticks ends exactly then)."""
        yield self.env.timeout(max(t - self.env.now, 0.0))
        self.replan(self.env.now, np.array([home]))

    # -- faults and windows ------------------------------------------------------------
    def add_fault(self, target: str, kind: str, start_s: float, end_s: float, value: float = 0.0) -> FaultRecord:
        if kind not in FAULT_KINDS:
            raise CommandRejected("kind", kind, "one of " + ", ".join(FAULT_KINDS))
        if kind in HOME_WINDOW_KINDS:
            if target not in self.home_index:
                raise UnknownDevice(target)
        else:
            fkind, _, _ = self.locate(target)
            if kind == "inverter_trip" and fkind != "solar":
                raise CommandRejected("kind", kind, f"a fault of a solar device (target is a {fkind})")
            if kind == "sensor_bias" and fkind != "thermostat":
                raise CommandRejected("kind", kind, f"a fault of a thermostat (target is a {fkind})")
        if not end_s > start_s:
            raise CommandRejected("end_s", end_s, f"> start_s ({start_s:g})")
        self._fault_seq += 1
        rec = FaultRecord(f"fault-{self._fault_seq:05d}", target, kind, float(start_s), float(end_s), float(value))
        rec.cancel = self.env.event()
        self.faults[rec.fault_id] = rec
        self.env.process(self._fault_window(rec))
        return rec

    def clear_fault(self, fault_id: str) -> FaultRecord:
        rec = self.faults.get(fault_id)
        if rec is None:
            raise UnknownDevice(fault_id)
        if not rec.cleared and rec.cancel is not None and not rec.cancel.triggered:
            rec.cancel.succeed()
        rec.cleared = True
        return rec

    def _fault_window(self, rec: FaultRecord) -> Generator[simpy.Event, Any, None]:
        assert rec.cancel is not None
        wait = max(rec.start_s - self.env.now, 0.0)
        yield self.env.timeout(wait) | rec.cancel
        if rec.cancel.triggered:
            return
        self._set_fault(rec, True)
        yield self.env.timeout(max(rec.end_s - self.env.now, 0.0)) | rec.cancel
        self._set_fault(rec, False)

    def _set_fault(self, rec: FaultRecord, on: bool) -> None:
        """Start or end one window; overlapping windows of one kind on one target stack."""
        t = self.env.now
        rec.active = on
        key = (rec.target, rec.kind)
        depth = self._fault_depth.get(key, 0) + (1 if on else -1)
        self._fault_depth[key] = depth
        if not on and depth > 0:
            return  # another window of the same kind still holds
        if rec.kind in HOME_WINDOW_KINDS:
            h = self.home_index[rec.target]
            self.replan(t, np.array([h]))  # materialise before the change
            getattr(self.meter, rec.kind)[h] = on
            self.replan(t, np.array([h]))
            return
        active = self.device_faults.setdefault(rec.target, {})
        if on:
            active[rec.kind] = rec.value
        else:
            active.pop(rec.kind, None)
            if not active:
                del self.device_faults[rec.target]
        _kind, fleet, row = self.locate(rec.target)
        if rec.kind in ("inverter_trip", "sensor_bias"):
            self.replan(t, np.array([fleet.home[row]]))  # materialise before the change
            if rec.kind == "inverter_trip":
                self.solar.tripped[row] = on
            else:
                self.thermostat.sensor_bias_c[row] = rec.value if on else 0.0
            self.replan(t, np.array([fleet.home[row]]))
