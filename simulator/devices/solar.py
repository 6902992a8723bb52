"""PV array + inverter fleet: available AC power per step from the cell's sky; curtailment."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics import solar
from .base import Fleet, Index, param_array


class SolarFleet(Fleet):
    kind = "solar"

    def __init__(self, world: Any, homes: list[int], ids: list[str], specs: list[dict[str, Any]]) -> None:
        super().__init__(world, homes, ids)
        self.pdc0_w = param_array(specs, "pdc0_w")
        self.pac0_w = self.pdc0_w / param_array(specs, "dc_ac_ratio")
        self.tilt_deg = param_array(specs, "tilt_deg")
        self.azimuth_deg = param_array(specs, "azimuth_deg")
        self.losses_frac = param_array(specs, "losses_frac")
        self.gamma_per_c = param_array(specs, "gamma_per_c")
        self.orient = solar.orientation(self.tilt_deg, self.azimuth_deg)
        self.curtail_w = np.full(self.n, np.inf)
        self.tripped = np.zeros(self.n, dtype=bool)
        self.energy_wh = np.zeros(self.n)
        self.available_w = np.zeros(self.n)
        self.dc_w = np.zeros(self.n)
        self.power_w = np.zeros(self.n)  # after curtailment and the meter's islanding/export limits

    def materialise(self, t: float, idx: Index) -> None:
        self.energy_wh[idx] += self.power_w[idx] * (t - self.t0[idx]) / 3600.0
        self.t0[idx] = t

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        w = self.world.weather
        home = self.homes_of(idx)
        sun = solar.sun_vector(w["zenith"], w["azimuth"])  # per cell: a dozen values
        if sun.down.all():  # night everywhere: nothing to compute
            self.available_w[idx] = 0.0
            self.dc_w[idx] = 0.0
            self.power_w[idx] = 0.0
            self.world.pv_avail_w[home] = 0.0
            return
        c = self.cell[idx]

        def per_row(values: np.ndarray) -> np.ndarray:
            return np.take(values, c)

        o = self.orient
        orient = solar.Orientation(o.up[idx], o.east[idx], o.north[idx], o.sky[idx], o.ground[idx])
        ac, dc = solar.pv_ac_power_oriented_w(
            solar.SunVector(per_row(sun.east), per_row(sun.north), per_row(sun.up), per_row(sun.down)),
            per_row(w["dni"]), per_row(w["dhi"]), per_row(w["ghi"]), per_row(w["t_out"]), orient,
            pdc0_w=self.pdc0_w[idx], pac0_w=self.pac0_w[idx], losses_frac=self.losses_frac[idx],
            curtail_limit_w=self.curtail_w[idx], tripped=self.tripped[idx], gamma_per_c=self.gamma_per_c[idx],
        )
        self.available_w[idx] = ac
        self.dc_w[idx] = dc
        self.power_w[idx] = ac
        self.world.pv_avail_w[home] = ac

    def read(self, row: int, t: float) -> dict[str, float]:
        dt = t - self.t0[row]
        return {"energy_wh": float(self.energy_wh[row] + self.power_w[row] * dt / 3600.0)}
