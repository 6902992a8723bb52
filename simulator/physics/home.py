"""The home around the devices: base load, TOU tariff and the meter balance.

Pure functions, vectorised over homes. Randomness is a counter-based hash of a per-home seed
and a time slot (splitmix64), so a home's load does not depend on fleet size, step size or
read order: ``load(t)`` is a pure function of the home and ``t``.

Meter (gridtwin signs): ``grid_w = load_w + hvac_w + ev_w − pv_w − battery_w``,
grid positive = import, battery positive = discharge.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

# Residential base-load shape (fraction of the daily mean, by local hour): morning and evening
# humps, night minimum. Mean of the 24 values is 1.0. [assumption, shaped like EIA RECS profiles]
_SHAPE = np.array(
    [0.62, 0.56, 0.53, 0.52, 0.53, 0.60, 0.82, 1.08, 1.12, 1.00, 0.93, 0.92,
     0.93, 0.93, 0.95, 1.02, 1.15, 1.38, 1.58, 1.62, 1.52, 1.34, 1.10, 0.82],
)
BASE_LOAD_SHAPE = _SHAPE / _SHAPE.mean()
LOAD_NOISE_SLOT_S = 900.0  # the multiplicative noise changes every 15 minutes

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def hash_uniform(seed_u64: ArrayLike, counter: ArrayLike) -> Array:
    """Uniform [0, 1) from a splitmix64 hash of ``(seed, counter)``; vectorised, stateless."""
    with np.errstate(over="ignore"):
        z = np.asarray(seed_u64, dtype=np.uint64) + np.asarray(counter, dtype=np.int64).astype(np.uint64) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _wrap_hour(local_hour: ArrayLike) -> Array:
    """Hour in [0, 24): ``x % 24`` rounds a tiny negative up to exactly 24.0, which is wrapped to 0."""
    h = np.asarray(local_hour, dtype=float) % 24.0
    return np.where(h >= 24.0, 0.0, h)


def load_shape(local_hour: ArrayLike) -> Array:
    """Base-load shape (fraction of the daily mean) at a local hour, linearly interpolated."""
    h = _wrap_hour(local_hour)
    i0 = np.floor(h).astype(np.intp)
    frac = h - i0
    return BASE_LOAD_SHAPE[i0] * (1.0 - frac) + BASE_LOAD_SHAPE[(i0 + 1) % 24] * frac


def load_noise(seed_u64: ArrayLike, slot: ArrayLike, noise_frac: float = 0.25) -> Array:
    """Multiplicative load noise of a 15-minute ``slot``: uniform, mean 0, sd ``noise_frac``."""
    return (2.0 * hash_uniform(seed_u64, slot) - 1.0) * (noise_frac * np.sqrt(3.0))


def base_load_w(
    local_hour: ArrayLike, slot: ArrayLike, *, seed_u64: ArrayLike, mean_w: ArrayLike, noise_frac: float = 0.25
) -> Array:
    """Household base load [W] (everything but HVAC and EV charging).

    ``mean_w``·shape(hour, linearly interpolated)·(1 + noise), where the noise is uniform in
    ``±noise_frac·√3`` (standard deviation ``noise_frac``) per 15-minute ``slot``. Never negative.
    """
    noise = load_noise(seed_u64, slot, noise_frac)
    return np.maximum(np.asarray(mean_w, dtype=float) * load_shape(local_hour) * (1.0 + noise), 0.0)


def tariff_period(local_hour: ArrayLike, *, peak_start_h: float, peak_end_h: float,
                  off_peak_start_h: float, off_peak_end_h: float) -> NDArray[np.int8]:
    """TOU period code (0 off-peak, 1 shoulder, 2 peak) for a local hour; windows may wrap midnight."""
    h = _wrap_hour(local_hour)

    def inside(a: float, b: float) -> NDArray[np.bool_]:
        return (h >= a) & (h < b) if a <= b else (h >= a) | (h < b)

    out = np.ones(h.shape, dtype=np.int8)
    out[inside(off_peak_start_h, off_peak_end_h)] = 0
    out[inside(peak_start_h, peak_end_h)] = 2
    return out


def grid_w(load_w: ArrayLike, hvac_w: ArrayLike, ev_w: ArrayLike, pv_w: ArrayLike, battery_w: ArrayLike) -> Array:
    """The meter: grid power [W], positive = import (battery positive = discharge)."""
    return (np.asarray(load_w, dtype=float) + hvac_w + ev_w) - pv_w - battery_w


def island(
    consumption_w: ArrayLike, pv_available_w: ArrayLike, battery_w: ArrayLike
) -> tuple[Array, Array]:
    """Balance an islanded home (grid = 0).

    Returns ``(served_frac, pv_used_w)``: the fraction of consumption that can be served from
    PV + battery discharge (the rest is shed), and the PV actually used (surplus beyond what the
    battery absorbs is curtailed).
    """
    cons = np.asarray(consumption_w, dtype=float)
    pv = np.asarray(pv_available_w, dtype=float)
    b = np.asarray(battery_w, dtype=float)
    supply = pv + np.maximum(b, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        served = np.where(cons > 0.0, np.minimum(supply / np.where(cons > 0, cons, 1.0), 1.0), 1.0)
    pv_used = np.minimum(pv, cons * served + np.maximum(-b, 0.0))
    return served, pv_used
