"""The home around the devices: base load and the meter (balance, islanding, export limits).

Both are "fleets" whose rows are homes. The meter runs last in every plan: it closes the
balance ``grid = load + hvac + ev − pv − battery``, islands homes in an outage (grid 0, shedding
what PV + battery cannot serve, curtailing PV the battery cannot absorb) and curtails PV where
export is forbidden, writing the served powers back to the device fleets so every device
integrates what it really delivered.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .devices.base import Fleet, Index
from .physics import home as hp


class LoadStage(Fleet):
    """Household base load (everything but HVAC and EV), a pure function of home and time."""

    kind = "load"

    def __init__(self, world: Any, mean_w: list[float], seeds: list[int]) -> None:
        super().__init__(world, list(range(world.n_homes)), [])
        self.mean_w = np.array(mean_w, dtype=float)
        self.seed_u64 = np.array(seeds, dtype=np.uint64)
        self._slot = float("nan")
        self._noise = np.zeros(self.n)

    def materialise(self, t: float, idx: Index) -> None:
        self.t0[idx] = t

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        w = self.world
        # evaluated at the middle of the held interval, like the weather; the shape per cell,
        # the noise per 15-minute slot (cached: it is a pure function of home and slot)
        shape = hp.load_shape(w.cell_local_hour + 0.5 * horizon_s / 3600.0)
        slot = float(np.floor((t + 0.5 * horizon_s) / hp.LOAD_NOISE_SLOT_S))
        if slot != self._slot:
            self._noise = hp.load_noise(self.seed_u64, slot)
            self._slot = slot
        load = self.mean_w[idx] * np.take(shape, self.cell[idx]) * (1.0 + self._noise[idx])
        w.load_w[idx] = np.maximum(load, 0.0)


class Meter(Fleet):
    """Grid balance per home, import/export energy counters, islanding and export limits."""

    kind = "meter"

    def __init__(self, world: Any) -> None:
        super().__init__(world, list(range(world.n_homes)), [])
        n = world.n_homes
        for name in ("load_w", "pv_avail_w", "pv_w", "hvac_w", "ev_w", "battery_w", "grid_w", "shed_w",
                     "import_wh", "export_wh", "load_wh", "shed_wh"):
            setattr(self, name, np.zeros(n))
        self.outage = np.zeros(n, dtype=bool)
        self.storm_watch = np.zeros(n, dtype=bool)

    def materialise(self, t: float, idx: Index) -> None:
        dt_h = (t - self.t0[idx]) / 3600.0
        g = self.grid_w[idx]
        self.import_wh[idx] += np.maximum(g, 0.0) * dt_h
        self.export_wh[idx] += np.maximum(-g, 0.0) * dt_h
        self.load_wh[idx] += self.load_w[idx] * dt_h
        if self.shed_w.any():  # only during outages
            self.shed_wh[idx] += self.shed_w[idx] * dt_h
        self.t0[idx] = t

    def read(self, row: int, t: float) -> dict[str, float]:
        dt_h = (t - self.t0[row]) / 3600.0
        g = self.grid_w[row]
        return {"import_wh": float(self.import_wh[row] + max(g, 0.0) * dt_h),
                "export_wh": float(self.export_wh[row] + max(-g, 0.0) * dt_h)}

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        w = self.world
        h = self.homes_of(idx)
        load, hvac, ev_w = self.load_w[h], self.hvac_w[h], self.ev_w[h]
        pv, bat = self.pv_avail_w[h], self.battery_w[h]
        shed = np.zeros_like(pv)
        out = self.outage[h]
        if out.any():
            served, pv_used = hp.island(load + hvac + ev_w, pv, bat)
            served = np.where(out, served, 1.0)
            shed = (load + hvac + ev_w) * (1.0 - served)
            load, hvac, ev_w = load * served, hvac * served, ev_w * served
            pv = np.where(out, pv_used, pv)
            short = served < 1.0
            if short.any():
                homes = np.arange(self.n)[h] if isinstance(h, slice) else h
                self._write_back(homes[short], served[short])
        grid = hp.grid_w(load, hvac, ev_w, pv, bat)
        never = w.export_never[h] & (grid < 0.0) & ~out
        if never.any():
            pv = np.where(never, pv + grid, pv)  # curtail exactly the export
            grid = np.where(never, 0.0, grid)
        self.load_w[h], self.hvac_w[h], self.ev_w[h] = load, hvac, ev_w
        self.pv_w[h] = pv
        self.shed_w[h] = shed
        self.grid_w[h] = np.where(out, 0.0, grid)
        if w.solar.n and (out.any() or never.any()):
            rows = w.solar.row_of_home[h]
            has = rows >= 0
            w.solar.power_w[rows[has]] = pv[has]

    def _write_back(self, homes: Any, served: Any) -> None:
        """Scale the HVAC and EV the devices really drew when part of a home is shed."""
        w = self.world
        for fleet, attrs in ((w.thermostat, ("electric_w", "gas_w", "hvac_heat_w")), (w.charger, ("power_w",))):
            if not fleet.n:
                continue
            rows = fleet.row_of_home[homes]
            has = rows >= 0
            for a in attrs:
                getattr(fleet, a)[rows[has]] *= served[has]
            if fleet is w.thermostat:
                r = rows[has]
                fleet.q_air_w[r] = fleet.hvac_heat_w[r] + 0.5 * fleet.gains_w[r]

