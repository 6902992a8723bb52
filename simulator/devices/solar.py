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
        c = self.cell[idx]
        ac, dc = solar.pv_ac_power_w(
            w["zenith"][c], w["azimuth"][c], w["dni"][c], w["dhi"][c], w["ghi"][c], w["t_out"][c],
            tilt_deg=self.tilt_deg[idx], surface_azimuth_deg=self.azimuth_deg[idx], pdc0_w=self.pdc0_w[idx],
            pac0_w=self.pac0_w[idx], losses_frac=self.losses_frac[idx], curtail_limit_w=self.curtail_w[idx],
            tripped=self.tripped[idx], gamma_per_c=self.gamma_per_c[idx],
        )
        self.available_w[idx] = ac
        self.dc_w[idx] = dc
        self.power_w[idx] = ac
        self.world.pv_avail_w[self.home[idx]] = ac

    def read(self, row: int, t: float) -> dict[str, float]:
        dt = t - self.t0[row]
        return {"energy_wh": float(self.energy_wh[row] + self.power_w[row] * dt / 3600.0)}
