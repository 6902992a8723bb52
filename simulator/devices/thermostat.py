"""Thermostat + house + HVAC fleet: 2R2C envelope, schedule/hold/eco setpoints, deadband control."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics import thermal as th
from .base import Fleet, Index, code_array, param_array

MODE_NAMES = ("off", "heat", "cool", "auto", "eco", "emergency_heat")
RUN_NAMES = ("idle", "heat", "cool")
FAN_NAMES = ("auto", "on", "circulate")
HEAT_SOURCE_NAMES = ("heat_pump", "furnace")
HOLD_NONE, HOLD_PERMANENT, HOLD_NEXT_TRANSITION, HOLD_UNTIL = 0, 1, 2, 3
HOLD_NAMES = (None, "permanent", "next_transition", "until")
PERIODS = ("wake", "away", "home", "sleep")
_J_PER_KWH = 3.6e6


class ThermostatFleet(Fleet):
    kind = "thermostat"

    def __init__(self, world: Any, homes: list[int], ids: list[str], specs: list[dict[str, Any]]) -> None:
        super().__init__(world, homes, ids)
        p = param_array
        self.c_air = p(specs, "c_air_kwh_per_k") * _J_PER_KWH
        self.c_mass = p(specs, "c_mass_kwh_per_k") * _J_PER_KWH
        self.r_im = p(specs, "r_im_k_per_kw") / 1000.0
        self.r_io = p(specs, "r_io_k_per_kw") / 1000.0
        self.r_mo = p(specs, "r_mo_k_per_kw") / 1000.0
        self.gains_w = p(specs, "internal_gains_w")
        self.aperture_m2 = p(specs, "solar_aperture_m2")
        self.heat_source = code_array(specs, "heat_source", HEAT_SOURCE_NAMES)
        self.hp_w = p(specs, "hp_capacity_w")
        self.aux_w = p(specs, "aux_capacity_w")
        self.furnace_w = p(specs, "furnace_capacity_w")
        self.afue = p(specs, "furnace_afue")
        self.fan_w = p(specs, "fan_power_w")
        self.shr = p(specs, "shr")
        self.deadband_k = p(specs, "deadband_k")
        self.min_on_s = p(specs, "min_on_s")
        self.min_off_s = p(specs, "min_off_s")
        self.mode = code_array(specs, "mode", MODE_NAMES)
        self.fan_mode = code_array(specs, "fan_mode", FAN_NAMES)
        self.eco_heat_c = p(specs, "eco_heat_c")
        self.eco_cool_c = p(specs, "eco_cool_c")
        sched_h = np.stack([p(specs, f"{k}_h") for k in PERIODS], axis=1) if self.n else np.zeros((0, 4))
        self.sched_heat = np.stack([p(specs, f"heat_{k}_c") for k in PERIODS], axis=1) if self.n else np.zeros((0, 4))
        self.sched_cool = np.stack([p(specs, f"cool_{k}_c") for k in PERIODS], axis=1) if self.n else np.zeros((0, 4))
        # schedule edges sorted per device, so the period in force is a count of edges passed
        self.sched_order = np.argsort(sched_h, axis=1, kind="stable")
        # edge k of every device as one contiguous array (k = 0..3), for cheap compares per tick
        self.sched_edges = np.ascontiguousarray(np.take_along_axis(sched_h, self.sched_order, axis=1).T)
        self.sched_in_order = bool(np.all(self.sched_order == np.arange(4)))
        self.sched_heat_now = np.zeros(self.n)
        self.sched_cool_now = np.zeros(self.n)
        self.hold = np.zeros(self.n, dtype=np.int8)
        self.hold_heat_c = np.zeros(self.n)
        self.hold_cool_c = np.zeros(self.n)
        self.hold_until_s = np.full(self.n, np.inf)
        self.hold_period = np.zeros(self.n, dtype=np.intp)
        self._step = th.rc2_step_matrix(c_air_j_per_k=self.c_air, c_mass_j_per_k=self.c_mass,
                                        r_im_k_per_w=self.r_im, r_io_k_per_w=self.r_io, r_mo_k_per_w=self.r_mo,
                                        dt_s=world.step_s)
        self.t_air = p(specs, "initial_temp_c")
        self.t_mass = self.t_air.copy()
        self.sensor_bias_c = np.zeros(self.n)
        self.running = np.zeros(self.n, dtype=np.int8)
        self.last_switch_s = np.full(self.n, world.start_s - 3600.0)
        self.fan_on = np.zeros(self.n, dtype=bool)
        self.heat_sp_c = np.zeros(self.n)
        self.cool_sp_c = np.zeros(self.n)
        self.period = np.full(self.n, -1, dtype=np.intp)
        self.next_edge_s = np.full(self.n, -np.inf)
        # held over the step
        self.q_air_w = np.zeros(self.n)
        self.q_mass_w = np.zeros(self.n)
        self.t_out_c = np.zeros(self.n)
        self.hvac_heat_w = np.zeros(self.n)
        self.electric_w = np.zeros(self.n)
        self.gas_w = np.zeros(self.n)
        self.electric_wh = np.zeros(self.n)

    def _rc(self, idx: Index, dt: Any) -> tuple[Any, Any]:
        return th.rc2_advance(
            self.t_air[idx], self.t_mass[idx], self.t_out_c[idx], self.q_air_w[idx], self.q_mass_w[idx],
            c_air_j_per_k=self.c_air[idx], c_mass_j_per_k=self.c_mass[idx], r_im_k_per_w=self.r_im[idx],
            r_io_k_per_w=self.r_io[idx], r_mo_k_per_w=self.r_mo[idx], dt_s=dt,
        )

    def materialise(self, t: float, idx: Index) -> None:
        dt = t - self.t0[idx]
        if isinstance(idx, slice) and self.n:
            # a whole-fleet tick: the precomputed one-step propagator, except for rows a command
            # or event re-planned mid-step (their interval is shorter)
            odd = np.abs(dt - self.world.step_s) > 1e-6
            s = self._step
            t_air, t_mass = th.rc2_advance_step(self.t_air, self.t_mass, self.t_out_c, self.q_air_w, self.q_mass_w, s)
            if odd.any():
                rows = np.flatnonzero(odd)
                t_air[rows], t_mass[rows] = self._rc(rows, dt[rows])
            self.t_air, self.t_mass = t_air, t_mass
        else:
            self.t_air[idx], self.t_mass[idx] = self._rc(idx, dt)
        self.electric_wh[idx] += self.electric_w[idx] * dt / 3600.0
        self.t0[idx] = t

    def schedule_period(self, idx: Index, local_hour: Any) -> Any:
        """Index of the schedule period in force: the latest edge at or before the local hour."""
        e = self.sched_edges
        count = (local_hour >= e[0][idx]).astype(np.intp)
        count += local_hour >= e[1][idx]
        count += local_hour >= e[2][idx]
        count += local_hour >= e[3][idx]
        count -= 1
        count %= 4  # before the first edge of the day: the last period of yesterday
        if self.sched_in_order:
            return count
        return np.take_along_axis(self.sched_order[idx], count[:, None], axis=1)[:, 0]

    def _hours_to_next_edge(self, idx: Index, local_hour: Any) -> Any:
        """Hours from ``local_hour`` to each row's next schedule edge (in (0, 24])."""
        ahead = (self.sched_edges[:, idx] - local_hour) % 24.0
        ahead[ahead <= 1e-9] = 24.0
        return ahead.min(axis=0)

    def _setpoints(self, t: float, idx: Index, full: bool) -> None:
        """Refresh the schedule's setpoints, expire holds and resolve the effective setpoints.

        They only change at schedule edges, hold expiry and commands, so a full tick recomputes
        only when something changed; a replan (``full`` False) always recomputes its rows.
        """
        dirty = not full
        # a full tick looks only at the rows whose next schedule edge has come (usually none)
        rows = np.flatnonzero(t + 1e-6 >= self.next_edge_s) if full else idx
        if not self.empty(rows):
            hour = self.world.cell_local_hour[self.cell[rows]]
            period = self.schedule_period(rows, hour)
            self.next_edge_s[rows] = t + 3600.0 * self._hours_to_next_edge(rows, hour)
            if full:
                moved = period != self.period[rows]
                rows, period = rows[moved], period[moved]
                dirty = bool(rows.size)
            self.period[rows] = period
            p = period[:, None]
            self.sched_heat_now[rows] = np.take_along_axis(self.sched_heat[rows], p, axis=1)[:, 0]
            self.sched_cool_now[rows] = np.take_along_axis(self.sched_cool[rows], p, axis=1)[:, 0]
        period = self.period[idx]
        hold = self.hold[idx]
        if hold.any():  # holds expire at their time or at the next schedule transition
            expired = ((hold == HOLD_UNTIL) & (t >= self.hold_until_s[idx])) | (
                (hold == HOLD_NEXT_TRANSITION) & (period != self.hold_period[idx]))
            if expired.any():
                self.hold[idx] = np.where(expired, HOLD_NONE, hold).astype(np.int8)
                dirty = True
        if dirty:
            heat_sp, cool_sp = th.effective_setpoints(
                self.mode[idx], self.hold[idx] != HOLD_NONE, self.hold_heat_c[idx], self.hold_cool_c[idx],
                self.sched_heat_now[idx], self.sched_cool_now[idx], self.eco_heat_c[idx], self.eco_cool_c[idx],
            )
            self.heat_sp_c[idx] = heat_sp
            self.cool_sp_c[idx] = cool_sp

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        w = self.world
        c = self.cell[idx]
        weather = w.weather
        full = isinstance(idx, slice)
        self._setpoints(t, idx, full)
        heat_sp = self.heat_sp_c[idx]
        mode = self.mode[idx]
        t_air = self.t_air[idx]
        old = self.running[idx]
        running = th.thermostat_control(
            t_air + self.sensor_bias_c[idx], heat_sp, self.cool_sp_c[idx], mode, old, t - self.last_switch_s[idx],
            deadband_k=self.deadband_k[idx], min_on_s=self.min_on_s[idx], min_off_s=self.min_off_s[idx],
        )
        switched = running != old
        if switched.any():
            self.last_switch_s[idx] = np.where(switched, t, self.last_switch_s[idx])
        self.running[idx] = running
        fan_on = th.fan_running(self.fan_mode[idx], running, t % 3600.0)
        self.fan_on[idx] = fan_on
        t_out = np.take(weather["t_out"], c)
        if running.any() or fan_on.any():
            q_hvac, electric, gas = th.hvac_flows(
                running, mode, t_out, t_air, heat_sp, heat_source=self.heat_source[idx], hp_capacity_w=self.hp_w[idx],
                aux_capacity_w=self.aux_w[idx], furnace_capacity_w=self.furnace_w[idx], furnace_afue=self.afue[idx],
                fan_power_w=self.fan_w[idx], shr=self.shr[idx], fan_on=fan_on,
            )
        else:  # nothing runs anywhere in these rows
            q_hvac = electric = gas = 0.0
        half_gains = 0.5 * self.gains_w[idx]
        self.hvac_heat_w[idx] = q_hvac
        self.q_air_w[idx] = q_hvac + half_gains
        self.q_mass_w[idx] = half_gains + self.aperture_m2[idx] * np.take(weather["ghi"], c)
        self.t_out_c[idx] = t_out
        self.electric_w[idx] = electric
        self.gas_w[idx] = gas
        w.hvac_w[self.homes_of(idx)] = electric

    def read(self, row: int, t: float) -> dict[str, float]:
        dt = t - self.t0[row]
        idx = np.array([row])
        t_air, t_mass = self._rc(idx, dt)
        return {"t_air": float(t_air[0]), "t_mass": float(t_mass[0]),
                "electric_wh": float(self.electric_wh[row] + self.electric_w[row] * dt / 3600.0)}
