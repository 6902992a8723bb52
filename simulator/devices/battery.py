"""Battery fleet: dispatch by mode against the home's net load, exact SoC between ticks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics import battery as bp
from .base import Fleet, Index, code_array, param_array

_MONTH_S = 30.0 * 86400.0


class BatteryFleet(Fleet):
    kind = "battery"

    def __init__(self, world: Any, homes: list[int], ids: list[str], specs: list[dict[str, Any]]) -> None:
        super().__init__(world, homes, ids)
        self.capacity_wh = param_array(specs, "capacity_wh")
        self.p_charge_max_w = param_array(specs, "p_charge_max_w")
        self.p_discharge_max_w = param_array(specs, "p_discharge_max_w")
        self.grid_charge_max_w = param_array(specs, "grid_charge_max_w")
        rte = param_array(specs, "round_trip_efficiency")
        self.eta_charge = np.sqrt(rte)
        self.eta_discharge = np.sqrt(rte)
        self.self_discharge_per_s = param_array(specs, "self_discharge_pct_per_month") / 100.0 / _MONTH_S
        self.energy_wh = param_array(specs, "initial_soc_pct") / 100.0 * self.capacity_wh
        self.reserve_frac = param_array(specs, "reserve_pct") / 100.0
        self.mode = code_array(specs, "mode", bp.MODE_NAMES)
        self.export_rule = code_array(specs, "export_rule", bp.EXPORT_NAMES)
        self.grid_charging = param_array(specs, "grid_charging", bool)
        self.storm_mode = param_array(specs, "storm_mode", bool)
        self.power_w = np.zeros(self.n)
        self.charged_wh = np.zeros(self.n)
        self.discharged_wh = np.zeros(self.n)

    def materialise(self, t: float, idx: Index) -> None:
        dt = t - self.t0[idx]
        p = self.power_w[idx]
        self.energy_wh[idx] = bp.advance_energy_wh(
            self.energy_wh[idx], p, eta_charge=self.eta_charge[idx], eta_discharge=self.eta_discharge[idx],
            dt_s=dt, capacity_wh=self.capacity_wh[idx], self_discharge_per_s=self.self_discharge_per_s[idx],
        )
        self.charged_wh[idx] += np.maximum(-p, 0.0) * dt / 3600.0
        self.discharged_wh[idx] += np.maximum(p, 0.0) * dt / 3600.0
        self.t0[idx] = t

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:
        w = self.world
        h = self.homes_of(idx)
        net = w.load_w[h] + w.hvac_w[h] + w.ev_w[h] - w.pv_avail_w[h]
        p = bp.dispatch_w(
            self.energy_wh[idx], net, capacity_wh=self.capacity_wh[idx], p_charge_max_w=self.p_charge_max_w[idx],
            p_discharge_max_w=self.p_discharge_max_w[idx], grid_charge_max_w=self.grid_charge_max_w[idx],
            eta_charge=self.eta_charge[idx], eta_discharge=self.eta_discharge[idx], mode=self.mode[idx],
            reserve_frac=self.reserve_frac[idx], grid_charging=self.grid_charging[idx],
            export_rule=self.export_rule[idx], period=w.weather["period"][self.cell[idx]],
            storm_watch=w.storm_watch[h] & self.storm_mode[idx], outage=w.outage[h], dt_s=horizon_s,
            self_discharge_per_s=self.self_discharge_per_s[idx],
        )
        self.power_w[idx] = p
        w.battery_w[h] = p

    def read(self, row: int, t: float) -> dict[str, float]:
        dt = t - self.t0[row]
        p = self.power_w[row]
        e = bp.advance_energy_wh(
            self.energy_wh[row], p, eta_charge=self.eta_charge[row], eta_discharge=self.eta_discharge[row],
            dt_s=dt, capacity_wh=self.capacity_wh[row], self_discharge_per_s=self.self_discharge_per_s[row],
        )
        return {
            "energy_wh": float(e),
            "charged_wh": float(self.charged_wh[row] + max(-p, 0.0) * dt / 3600.0),
            "discharged_wh": float(self.discharged_wh[row] + max(p, 0.0) * dt / 3600.0),
        }
