"""EV charger + plugged-in vehicle fleet: J1772 states, CC-CV acceptance, seeded sessions.

Sessions are discrete SimPy events, one small process per vehicle that sleeps until the next
arrival and departure (a few wake-ups a day); charging power is planned with the fleet tick.
A paused charge (StopCharging) lasts for the current session, as on real chargers.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from ..physics import ev
from .base import Fleet, Index, param_array


class ChargerFleet(Fleet):
    kind = "charger"

    def __init__(self, world: Any, homes: list[int], ids: list[str], vehicle_ids: list[str],
                 specs: list[dict[str, Any]], seeds: list[np.random.SeedSequence]) -> None:
        super().__init__(world, homes, ids)
        self.vehicle_ids = list(vehicle_ids)
        p = param_array
        self.max_current_a = p(specs, "max_current_a")
        self.current_limit_a = np.minimum(p(specs, "current_limit_a"), self.max_current_a)
        self.voltage_v = p(specs, "voltage_v")
        self.capacity_wh = p(specs, "vehicle_capacity_wh")
        self.obc_max_w = p(specs, "vehicle_obc_max_w")
        self.p_max_w = p(specs, "vehicle_p_max_w")
        self.efficiency = p(specs, "vehicle_efficiency")
        self.charge_limit_frac = p(specs, "charge_limit_pct") / 100.0
        self.plug_probability = p(specs, "plug_probability")
        self.arrival_mean_h = p(specs, "arrival_mean_h")
        self.energy_mean_wh = p(specs, "energy_mean_wh")
        self.soc = p(specs, "initial_soc_pct") / 100.0
        self.plugged = np.zeros(self.n, dtype=bool)
        self.enabled = np.ones(self.n, dtype=bool)
        self.locked = np.zeros(self.n, dtype=bool)  # a setting that outlives sessions
        self.fault = np.zeros(self.n, dtype=bool)
        self.session_target_frac = self.charge_limit_frac.copy()
        self.departure_s = np.full(self.n, np.nan)
        self.power_w = np.zeros(self.n)
        self.session_wh = np.zeros(self.n)
        self.energy_wh = np.zeros(self.n)
        self._rngs = [np.random.default_rng(s) for s in seeds]

    # -- physics -------------------------------------------------------------------------
    def target_frac(self, idx: Index) -> Any:
        return np.minimum(self.session_target_frac[idx], self.charge_limit_frac[idx])

    def materialise(self, t: float, idx: Index) -> None:
        # a whole-fleet tick: only the vehicles drawing power change
        rows = np.flatnonzero(self.power_w) if isinstance(idx, slice) else idx
        dt = t - self.t0[rows]
        self.t0[idx] = t
        p = self.power_w[rows]
        self.soc[rows] = ev.advance_soc(self.soc[rows], p, efficiency=self.efficiency[rows],
                                        capacity_wh=self.capacity_wh[rows], dt_s=dt)
        e = p * dt / 3600.0
        self.session_wh[rows] += e
        self.energy_wh[rows] += e

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        homes, rows = self.homes_of(idx), idx
        if isinstance(idx, slice):  # whole fleet: only plugged-in vehicles can draw power
            self.power_w[:] = 0.0
            rows = np.flatnonzero(self.plugged)
        r = rows  # short name for the long call below
        p = ev.charge_power_w(
            self.soc[r], plugged=self.plugged[r], charging_enabled=self.enabled[r] & ~self.fault[r] & ~self.locked[r],
            offered_current_a=self.current_limit_a[r], voltage_v=self.voltage_v[r], obc_max_w=self.obc_max_w[r],
            p_max_w=self.p_max_w[r], charge_limit_frac=self.target_frac(r), capacity_wh=self.capacity_wh[r],
            efficiency=self.efficiency[r], dt_s=horizon_s,
        )
        self.power_w[r] = p
        self.world.ev_w[homes] = self.power_w[idx]

    def read(self, row: int, t: float) -> dict[str, float]:
        dt = t - self.t0[row]
        p = self.power_w[row]
        soc = ev.advance_soc(self.soc[row], p, efficiency=self.efficiency[row],
                             capacity_wh=self.capacity_wh[row], dt_s=dt)
        e = p * dt / 3600.0
        return {"soc": float(soc), "session_wh": float(self.session_wh[row] + e),
                "energy_wh": float(self.energy_wh[row] + e)}

    # -- sessions (discrete events) ------------------------------------------------------
    def start_sessions(self, env: simpy.Environment) -> None:
        for row in range(self.n):
            env.process(self._sessions(env, row))

    def _sessions(self, env: simpy.Environment, row: int) -> Generator[simpy.Event, Any, None]:
        rng = self._rngs[row]
        cell = self.world.cell_names[self.cell[row]]
        while True:
            now = env.now
            arrival, departure, need_wh = ev.draw_next_session(
                rng, now, day_start_s=self.world.climate.local_midnight_s(cell, now),
                plug_probability=float(self.plug_probability[row]),
                arrival_mean_h=float(self.arrival_mean_h[row]), energy_mean_wh=float(self.energy_mean_wh[row]),
                capacity_wh=float(self.capacity_wh[row]),
            )
            # plug-in and departure land on the fleet's tick grid, so the tick that follows at the
            # same instant plans the change; no replan of the home is needed
            yield env.timeout(self.world.tick_at_or_after(arrival) - now)
            departure = self.world.tick_at_or_after(max(departure, env.now + self.world.step_s))
            self.world.ev_arrive(row, need_wh, departure)
            yield env.timeout(departure - env.now)
            self.world.ev_depart(row)

    def arrive(self, row: int, need_wh: float, departure_s: float) -> None:
        """The vehicle plugs in having used ``need_wh`` since it left; charging starts next tick."""
        cap = self.capacity_wh[row]
        s0 = max(0.05, float(self.soc[row]) - need_wh / cap)
        self.soc[row] = s0
        self.session_target_frac[row] = float(ev.session_limit_frac(s0, need_wh, capacity_wh=cap,
                                                                     charge_limit_frac=1.0))
        self.plugged[row] = True
        self.enabled[row] = True
        self.session_wh[row] = 0.0
        self.departure_s[row] = departure_s

    def depart(self, row: int) -> None:
        self.plugged[row] = False
        self.power_w[row] = 0.0
        self.departure_s[row] = np.nan
