"""Weather, carbon intensity and tariff per weather cell, generated a UTC day at a time.

The fleet kernel never calls pvlib per device: each cell's sun, clear sky, clouds, outdoor
temperature, humidity and carbon intensity are generated once per day at step resolution
(sampled at the middle of each step, since every power is held over its step) into
``(cells, steps)`` arrays; a tick then reads one column. Each cell draws from its own
``SeedSequence(seed, spawn_key=(1, k))`` where ``k`` is the cell's index in the catalogue, so a
cell's weather does not depend on which other cells a scenario uses.

Only the current and the previous day's arrays are kept, but the carbon intensity of every generated
day is logged as quarter-hour means for :data:`CARBON_LOG_DAYS` days (a few KB per cell and day): a
carbon provider answers past intervals from it, as real ones (WattTime, Electricity Maps) do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from .catalog import CELLS, Cell, Tariff
from .physics import home as home_physics
from .physics import weather as wx

Array = NDArray[np.float64]
_DAY_S = 86400.0
_CLEAR_INDEX_OF_REGIME = (1.0, 0.7, 0.3)
_CONDITIONS = ("clear", "partly_cloudy", "cloudy")
CARBON_INTERVAL_S = 900.0  # the carbon log's resolution: quarter hours, aligned to UTC
CARBON_LOG_DAYS = 400  # how long the log reaches back (a year-long metrics range, and some)


@dataclass
class _CellState:
    cell: Cell
    rng: np.random.Generator
    regime: int = wx.CLOUD_CLEAR
    cloud_state: float = 0.0
    noise_k: float = 0.0
    anomaly_k: float = 0.0
    extremes: dict[int, tuple[float, float]] = field(default_factory=dict)  # solar day -> (t_min, t_max)
    last_solar_day: int | None = None


def utc_offset_s(timezone: str, t_s: float) -> float:
    """UTC offset [s] of ``timezone`` at epoch ``t_s``."""
    when = dt.datetime.fromtimestamp(t_s, tz=dt.UTC).astimezone(ZoneInfo(timezone))
    off = when.utcoffset()
    return off.total_seconds() if off else 0.0


class Climate:
    """Per-cell weather of a scenario, as ``(cells, steps_per_day)`` arrays for the current day."""

    FIELDS = ("ghi", "dni", "dhi", "ghi_clear", "zenith", "azimuth", "t_out", "humidity", "carbon",
              "local_hour", "period", "price", "regime")

    def __init__(self, cells: tuple[Cell, ...], tariff: Tariff, step_s: float, seed: int) -> None:
        names = list(CELLS)
        self.cells = cells
        self.index = {c.name: i for i, c in enumerate(cells)}
        self.tariff = tariff
        self.step_s = float(step_s)
        self.n = round(_DAY_S / step_s)
        self._state = [
            _CellState(c, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, names.index(c.name)))))
            for c in cells
        ]
        self.day: int | None = None
        self.days: dict[int, dict[str, Array]] = {}
        # UTC day -> (cells, 96) quarter-hour means of the carbon intensity [gCO2/kWh]
        self.carbon_log: dict[int, Array] = {}

    # -- generation ------------------------------------------------------------------------
    def _extremes(self, st: _CellState, solar_day: int, mean_clear: float) -> None:
        """Draw daily extremes for every solar day up to ``solar_day``, in order (determinism)."""
        first = solar_day - 3 if st.last_solar_day is None else st.last_solar_day + 1
        for d in range(first, solar_day + 1):
            doy = int(dt.datetime.fromtimestamp(d * _DAY_S, tz=dt.UTC).timetuple().tm_yday)
            t_min, t_max, st.anomaly_k = wx.daily_temperature_extremes(
                st.rng, doy, st.anomaly_k, t_annual_mean_c=st.cell.t_annual_mean_c,
                annual_amplitude_k=st.cell.annual_amplitude_k, dtr_clear_k=st.cell.dtr_clear_k,
                mean_clear_index=mean_clear, lat_deg=st.cell.lat,
            )
            st.extremes[d] = (float(t_min), float(t_max))
        st.last_solar_day = solar_day
        for old in [k for k in st.extremes if k < solar_day - 4]:
            del st.extremes[old]

    def _generate_cell(self, st: _CellState, day: int) -> dict[str, Array]:
        c = st.cell
        times = day * _DAY_S + (np.arange(self.n) + 0.5) * self.step_s
        geo = wx.solar_geometry(c.lat, c.lon, c.elevation_m, times)
        st.regime = wx.next_cloud_regime(st.rng, st.regime)
        k, st.cloud_state = wx.cloud_index(st.rng, st.regime, self.n, self.step_s, st.cloud_state)
        ghi, dni, dhi = wx.split_irradiance(k, geo, times)
        # temperature: Campbell-Norman on solar time, extremes per solar day (one day ahead)
        solar_s = times + c.lon / 15.0 * 3600.0
        solar_day = np.floor(solar_s / _DAY_S).astype(np.int64)
        self._extremes(st, int(solar_day.max()) + 1, _CLEAR_INDEX_OF_REGIME[st.regime])
        ext = st.extremes
        t_min = np.array([ext[d][0] for d in solar_day])
        t_max = np.array([ext[d][1] for d in solar_day])
        t_max_y = np.array([ext[d - 1][1] for d in solar_day])
        t_min_t = np.array([ext[d + 1][0] for d in solar_day])
        hours_solar = (solar_s % _DAY_S) / 3600.0
        t_out = wx.diurnal_temperature_c(hours_solar, t_min, t_max, t_max_y, t_min_t)
        hourly, last = wx.temperature_noise(st.rng, 24, st.noise_k)
        noise = np.interp((times - day * _DAY_S) / 3600.0, np.arange(25.0), np.concatenate(([st.noise_k], hourly)))
        st.noise_k = last
        t_out = t_out + noise
        # relative humidity from a dew point near the day's minimum (Magnus formula)
        dew = t_min - 1.0
        rh = 100.0 * np.exp(17.625 * dew / (243.04 + dew)) / np.exp(17.625 * t_out / (243.04 + t_out))
        offset = utc_offset_s(c.timezone, day * _DAY_S + _DAY_S / 2)
        local_hour = ((times + offset) % _DAY_S) / 3600.0
        shape = np.clip(geo.ghi_clear_w_m2 / 1000.0, 0.0, 1.0) * k.clip(0, 1)
        carbon = wx.carbon_intensity_g_per_kwh(
            local_hour, shape, mean_g_per_kwh=c.carbon_mean_g_per_kwh, solar_alpha=c.carbon_solar_alpha,
            noise=0.5 * noise / 1.6 * 0.1,
        )
        t = self.tariff
        period = home_physics.tariff_period(local_hour, peak_start_h=t.peak_start_h, peak_end_h=t.peak_end_h,
                                            off_peak_start_h=t.off_peak_start_h, off_peak_end_h=t.off_peak_end_h)
        price = np.array([t.price_off_peak, t.price_shoulder, t.price_peak])[period]
        return {
            "ghi": ghi, "dni": dni, "dhi": dhi, "ghi_clear": geo.ghi_clear_w_m2, "zenith": geo.zenith_deg,
            "azimuth": geo.azimuth_deg, "t_out": t_out, "humidity": np.clip(rh, 5.0, 100.0), "carbon": carbon,
            "local_hour": local_hour, "period": period.astype(np.float64), "price": price,
            "regime": np.full(self.n, float(st.regime)),
        }

    def ensure_day(self, day: int) -> dict[str, Array]:
        """The ``(cells, steps)`` arrays of UTC day ``day`` (days are generated in order)."""
        if day not in self.days:
            last = max(self.days) if self.days else day - 1
            for d in range(last + 1, day + 1):
                per_cell = [self._generate_cell(st, d) for st in self._state]
                self.days[d] = {f: np.stack([pc[f] for pc in per_cell]) for f in self.FIELDS}
                self.carbon_log[d] = self._quarter_means(self.days[d]["carbon"])
            for old in [d for d in self.days if d < day - 1]:
                del self.days[old]
            for old in [d for d in self.carbon_log if d <= day - CARBON_LOG_DAYS]:
                del self.carbon_log[old]
        return self.days[day]

    def _quarter_means(self, per_step: Array) -> Array:
        """Time-weighted means over each UTC quarter hour of a day of per-step values held over their
        steps (any step length: the running integral is piecewise linear between step edges)."""
        edges = np.arange(self.n + 1) * self.step_s
        running = np.concatenate((np.zeros((per_step.shape[0], 1)), np.cumsum(per_step * self.step_s, axis=1)),
                                 axis=1)
        quarters = np.arange(round(_DAY_S / CARBON_INTERVAL_S) + 1) * CARBON_INTERVAL_S
        at = np.stack([np.interp(quarters, edges, row) for row in running])
        return np.diff(at, axis=1) / CARBON_INTERVAL_S

    # -- reads -----------------------------------------------------------------------------
    def column(self, t_s: float) -> dict[str, Array]:
        """Per-cell values held over the step containing ``t_s`` (each an array of cells)."""
        day = int(t_s // _DAY_S)
        k = min(int((t_s - day * _DAY_S) // self.step_s), self.n - 1)
        arrays = self.ensure_day(day)
        return {f: arrays[f][:, k] for f in self.FIELDS}

    def local_hour(self, t_s: float) -> Array:
        """Exact local hour of each cell at ``t_s`` (for loads and schedules)."""
        day = int(t_s // _DAY_S)
        arrays = self.ensure_day(day)
        k = min(int((t_s - day * _DAY_S) // self.step_s), self.n - 1)
        mid = day * _DAY_S + (k + 0.5) * self.step_s
        return (arrays["local_hour"][:, k] + (t_s - mid) / 3600.0) % 24.0

    def local_midnight_s(self, cell: str, t_s: float) -> float:
        """Epoch of the local midnight starting the local day that contains ``t_s``."""
        off = utc_offset_s(self.cells[self.index[cell]].timezone, t_s)
        return float(np.floor((t_s + off) / _DAY_S) * _DAY_S - off)

    def carbon_quarters(self, cell: int, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
        """(start [epoch s], mean intensity [gCO2/kWh]) of the logged quarter hours of cell index ``cell``
        that overlap [t0_s, t1_s), oldest first. Days never generated (before the scenario started, after
        the current day, or older than the log) have none."""
        out: list[tuple[float, float]] = []
        if t1_s <= t0_s:
            return out
        first = int(np.floor(t0_s / CARBON_INTERVAL_S))
        last = int(np.ceil(t1_s / CARBON_INTERVAL_S))  # exclusive
        per_day = round(_DAY_S / CARBON_INTERVAL_S)
        for q in range(first, last):
            day, k = divmod(q, per_day)
            logged = self.carbon_log.get(day)
            if logged is not None:
                out.append((q * CARBON_INTERVAL_S, float(logged[cell, k])))
        return out

    @staticmethod
    def condition(regime: float) -> str:
        return _CONDITIONS[int(regime)]
