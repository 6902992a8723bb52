"""Home battery as an energy reservoir (Powerwall-class), vectorised over a fleet.

The model is the one of REopt, OCHRE ("constant" efficiency) and CityLearn: stored energy on a
*usable* scale (0 … capacity), split charge/discharge efficiencies (REopt: η_c = η_rect·√η_int,
η_d = η_inv·√η_int, round trip ≈ 0.90), a charge taper above ~80 % SoC (CityLearn capacity-power
curve), a discharge taper below 10 %, optional self-discharge, and the operating modes of Tesla's
Powerwall (self-consumption, time-based control, backup-only) with grid-charging and export
permissions, storm watch and islanded operation.

Sign convention (gridtwin): battery AC power is **positive when discharging**.

Power is held constant between two plans (ticks); :func:`max_charge_w` and
:func:`max_discharge_w` already cap it so that the energy window is never crossed within the
step, so :func:`advance_energy_wh` is exact for any ``dt_s`` up to that step.

References
----------
NREL REopt.jl ``electric_storage.jl``; NREL OCHRE ``Equipment/Battery.py``;
CityLearn ``energy_model.py`` (Battery); Tesla "Powerwall modes" and "Backup reserve" support pages.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

MODE_SELF_CONSUMPTION, MODE_TIME_OF_USE, MODE_BACKUP = 0, 1, 2
MODE_NAMES = ("self_consumption", "time_of_use", "backup")
EXPORT_SOLAR_ONLY, EXPORT_BATTERY_OK, EXPORT_NEVER = 0, 1, 2
EXPORT_NAMES = ("solar_only", "battery_ok", "never")
PERIOD_OFF_PEAK, PERIOD_SHOULDER, PERIOD_PEAK = 0, 1, 2
PERIOD_NAMES = ("off_peak", "shoulder", "peak")

ETA_RECT = 0.96
ETA_INV = 0.96
ETA_INT = 0.975
ETA_CHARGE = ETA_RECT * np.sqrt(ETA_INT)  # ≈ 0.948
ETA_DISCHARGE = ETA_INV * np.sqrt(ETA_INT)  # ≈ 0.948
_EPS_WH = 1e-9


def max_charge_w(
    energy_wh: ArrayLike,
    *,
    capacity_wh: ArrayLike,
    p_charge_max_w: ArrayLike,
    eta_charge: ArrayLike,
    dt_s: ArrayLike,
    ceiling_frac: ArrayLike = 1.0,
    taper_soc: float = 0.8,
    taper_end_frac: float = 0.2,
) -> Array:
    """Largest AC charge power [W] that may be held for ``dt_s`` [s].

    ``P ≤ P_ch,max·f_c(s)`` with ``f_c = 1`` up to ``taper_soc`` and linear down to
    ``taper_end_frac`` at full (CityLearn's capacity-power curve), and
    ``P ≤ (E_ceiling − E)/(η_c·Δt)`` so the ceiling (``ceiling_frac``·capacity [Wh]) is never
    crossed within the step.
    """
    e = np.asarray(energy_wh, dtype=float)
    cap = np.asarray(capacity_wh, dtype=float)
    slope = (1.0 - taper_end_frac) / (1.0 - taper_soc)
    # f_c(s) = min(1, 1 − slope·(s − s_t)); s ≤ 1 keeps it ≥ taper_end_frac
    taper = np.minimum(1.0 + slope * taper_soc - (slope / cap) * e, 1.0)
    room_wh = np.multiply(ceiling_frac, cap) - e
    window_w = room_wh * (3600.0 / np.maximum(np.multiply(eta_charge, dt_s), 1e-9))
    return np.maximum(np.minimum(np.multiply(p_charge_max_w, taper), window_w), 0.0)


def max_discharge_w(
    energy_wh: ArrayLike,
    *,
    capacity_wh: ArrayLike,
    p_discharge_max_w: ArrayLike,
    eta_discharge: ArrayLike,
    dt_s: ArrayLike,
    floor_frac: ArrayLike = 0.0,
    self_discharge_per_s: ArrayLike = 0.0,
) -> Array:
    """Largest AC discharge power [W] that may be held for ``dt_s`` [s].

    ``P ≤ P_dis,max·f_d(s)`` with ``f_d = 1`` above 10 % SoC and linear to 0.2 at empty, and
    ``P ≤ (E·e^{−kΔt} − E_floor)·η_d/Δt`` so the floor (``floor_frac``·capacity [Wh]) is never
    crossed, self-discharge (``k`` [1/s]) included: what leaks away cannot also be delivered.
    """
    e = np.asarray(energy_wh, dtype=float)
    cap = np.asarray(capacity_wh, dtype=float)
    taper = np.minimum(0.2 + (8.0 / cap) * e, 1.0)  # 0.2 + 0.8·s/0.1, capped at 1
    k = np.asarray(self_discharge_per_s, dtype=float)
    kept = e if not k.any() else e * np.exp(-k * np.asarray(dt_s, dtype=float))
    avail_wh = kept - np.multiply(floor_frac, cap)
    window_w = avail_wh * (np.multiply(eta_discharge, 3600.0) / np.maximum(dt_s, 1e-9))
    return np.maximum(np.minimum(np.multiply(p_discharge_max_w, taper), window_w), 0.0)


def advance_energy_wh(
    energy_wh: ArrayLike,
    power_w: ArrayLike,
    *,
    eta_charge: ArrayLike,
    eta_discharge: ArrayLike,
    dt_s: ArrayLike,
    capacity_wh: ArrayLike,
    self_discharge_per_s: ArrayLike = 0.0,
) -> Array:
    """Stored energy [Wh] after holding AC ``power_w`` [W] (+ discharge) for ``dt_s`` [s].

    Exact for constant power: ``dE/dt = r − k·E`` with ``r = η_c·P_ch`` or ``−P_dis/η_d``, so
    ``E(t) = E∞ + (E₀ − E∞)·e^{−k·t}`` (``E₀ + r·t`` when ``k = 0``). The result is clipped to
    ``[0, capacity_wh]`` only against floating-point residue; the power caps keep it inside.
    """
    e0 = np.asarray(energy_wh, dtype=float)
    p = np.asarray(power_w, dtype=float)
    dt = np.asarray(dt_s, dtype=float)
    rate_w = np.where(p < 0.0, -p * np.asarray(eta_charge), -p / np.asarray(eta_discharge))
    k = np.asarray(self_discharge_per_s, dtype=float)
    if not k.any():
        e = e0 + rate_w * dt / 3600.0
    else:
        # E(t) = E₀·e^{−kt} + r·(1 − e^{−kt})/k, written with expm1 so that it neither cancels
        # for tiny k nor drifts above the k = 0 result; (1 − e^{−kt})/k → t as k → 0
        m1 = np.expm1(-k * dt)  # e^{−kt} − 1, in (−1, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            held_s = np.where(k > 0.0, -m1 / np.where(k > 0.0, k, 1.0), dt)
        e = e0 + e0 * m1 + rate_w * np.minimum(held_s, dt) / 3600.0
    return np.clip(e, 0.0, np.asarray(capacity_wh, dtype=float))


def losses_w(power_w: ArrayLike, *, eta_charge: ArrayLike, eta_discharge: ArrayLike) -> Array:
    """Conversion losses [W] (heat, always ≥ 0) of an AC power (+ discharge)."""
    p = np.asarray(power_w, dtype=float)
    return np.where(p < 0.0, -p * (1.0 - np.asarray(eta_charge)), p * (1.0 / np.asarray(eta_discharge) - 1.0))


def dispatch_w(
    energy_wh: ArrayLike,
    net_load_w: ArrayLike,
    *,
    capacity_wh: ArrayLike,
    p_charge_max_w: ArrayLike,
    p_discharge_max_w: ArrayLike,
    grid_charge_max_w: ArrayLike,
    eta_charge: ArrayLike,
    eta_discharge: ArrayLike,
    mode: ArrayLike,
    reserve_frac: ArrayLike,
    grid_charging: ArrayLike,
    export_rule: ArrayLike,
    period: ArrayLike,
    storm_watch: ArrayLike,
    outage: ArrayLike,
    dt_s: ArrayLike,
    self_discharge_per_s: ArrayLike = 0.0,
) -> Array:
    """AC battery power [W] (+ discharge) to hold for the next ``dt_s`` [s].

    Parameters
    ----------
    energy_wh : stored energy [Wh] on the usable scale.
    net_load_w : home consumption minus available PV [W] (positive = deficit).
    mode : ``MODE_*`` code; reserve_frac : backup reserve [0-1];
    grid_charging : bool, may charge from the grid; export_rule : ``EXPORT_*`` code;
    period : tariff ``PERIOD_*`` code; storm_watch, outage : bool.

    Notes
    -----
    * Self-consumption: discharge to cover the deficit down to the reserve, charge from the PV
      surplus; below the reserve, charge from the grid (when allowed) to restore it.
    * Time of use: off-peak charges to full (from the grid when allowed, else surplus only and
      no discharge); peak discharges to cover the deficit down to the reserve (at full power,
      exporting, when the export rule allows the battery to export) and never charges from the
      grid; shoulder is self-consumption.
    * Backup, and storm watch: reserve 100 % — never discharge on-grid, charge to full.
    * Outage (islanded): the reserve is available; serve the deficit down to empty, absorb the
      surplus; no grid.
    * Export "solar only" / "never": the battery never discharges past the home's deficit.
    """
    e = np.asarray(energy_wh, dtype=float)
    net = np.asarray(net_load_w, dtype=float)
    mode = np.asarray(mode)
    on_grid = ~np.asarray(outage, dtype=bool)
    backup_like = (mode == MODE_BACKUP) | np.asarray(storm_watch, dtype=bool)
    # backup-like: reserve 100 %; islanded: the reserve is available (reserve 0)
    reserve = np.maximum(reserve_frac, backup_like) * on_grid
    deficit = np.maximum(net, 0.0)
    surplus = deficit - net
    tou = (mode == MODE_TIME_OF_USE) & on_grid
    period = np.asarray(period)
    off_peak = tou & (period == PERIOD_OFF_PEAK)
    peak = tou & (period == PERIOD_PEAK)
    peak_export = peak & (np.asarray(export_rule) == EXPORT_BATTERY_OK)

    discharge = max_discharge_w(e, capacity_wh=capacity_wh, p_discharge_max_w=p_discharge_max_w,
                                eta_discharge=eta_discharge, dt_s=dt_s, floor_frac=reserve,
                                self_discharge_per_s=self_discharge_per_s)
    # cover the deficit; peak TOU with battery export allowed: full power; off-peak TOU: hold
    discharge = np.where(peak_export, discharge, np.minimum(deficit, discharge)) * ~off_peak
    # charge: the PV surplus always; from the grid (when allowed) up to the reserve, or to full
    # off-peak and in backup
    ch_cap = max_charge_w(e, capacity_wh=capacity_wh, p_charge_max_w=p_charge_max_w, eta_charge=eta_charge,
                          dt_s=dt_s)
    # grid top-up only where allowed and below the target (usually a handful of rows)
    grid_target = np.maximum(reserve, off_peak | backup_like)
    # (never at time-of-use peak prices: a TOU battery waits for off-peak or shoulder to top up)
    # (a storm watch still fills up)
    need = np.asarray(grid_charging, dtype=bool) & on_grid & ~(peak & ~backup_like) & (e < grid_target * capacity_wh)
    if need.any():
        shape = np.broadcast_shapes(need.shape, surplus.shape)
        r = np.flatnonzero(np.broadcast_to(need, shape))

        def at(v: ArrayLike) -> Array:
            return np.broadcast_to(v, shape).reshape(-1)[r]

        flat = np.broadcast_to(surplus, shape).astype(float).reshape(-1)  # a copy
        flat[r] += max_charge_w(at(e), capacity_wh=at(capacity_wh), p_charge_max_w=at(grid_charge_max_w),
                                eta_charge=at(eta_charge), dt_s=at(dt_s), ceiling_frac=at(grid_target))
        surplus = flat.reshape(shape)
    charge = np.minimum(surplus, ch_cap)
    return np.where(discharge > 0.0, discharge, -charge)
