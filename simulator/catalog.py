"""Registries the scenarios refer to by name: weather cells, tariffs and device models.

A weather cell is a metro area (~10 km) that shares one sky and one outdoor temperature; homes
are placed within :data:`CELL_RADIUS_DEG` of its centre so their coordinates agree with their
weather. Device models bundle a vendor and default parameters; scenarios may override any
parameter (validated against :data:`PARAM_BOUNDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CELL_RADIUS_DEG = 0.05  # ≈ 5 km


@dataclass(frozen=True)
class Cell:
    name: str
    lat: float
    lon: float
    elevation_m: float
    timezone: str
    state: str
    cities: tuple[str, ...]
    zip_prefixes: tuple[str, ...]
    area_code: str
    t_annual_mean_c: float
    annual_amplitude_k: float
    dtr_clear_k: float
    utility: str
    iso: str
    carbon_mean_g_per_kwh: float
    carbon_solar_alpha: float


CELLS: dict[str, Cell] = {
    c.name: c
    for c in (
        Cell("sf-bay", 37.77, -122.42, 20, "America/Los_Angeles", "CA",
             ("San Francisco", "Daly City", "South San Francisco"), ("941", "940"), "415",
             14.5, 3.5, 8.0, "Pacific Gas and Electric", "CAISO", 230, 0.55),
        Cell("sacramento", 38.58, -121.49, 9, "America/Los_Angeles", "CA",
             ("Sacramento", "Elk Grove", "Carmichael"), ("958", "956"), "916",
             16.5, 8.0, 15.0, "Sacramento Municipal Utility District", "CAISO", 230, 0.55),
        Cell("los-angeles", 34.05, -118.24, 90, "America/Los_Angeles", "CA",
             ("Los Angeles", "Glendale", "Pasadena"), ("900", "912"), "213",
             18.5, 4.5, 10.0, "Southern California Edison", "CAISO", 240, 0.5),
        Cell("phoenix", 33.45, -112.07, 331, "America/Phoenix", "AZ",
             ("Phoenix", "Tempe", "Scottsdale"), ("850", "852"), "602",
             24.0, 10.0, 14.0, "Arizona Public Service", "WECC", 390, 0.35),
        Cell("denver", 39.74, -104.99, 1609, "America/Denver", "CO",
             ("Denver", "Aurora", "Lakewood"), ("802", "800"), "303",
             10.5, 11.5, 15.0, "Xcel Energy", "WECC", 560, 0.25),
        Cell("austin", 30.27, -97.74, 149, "America/Chicago", "TX",
             ("Austin", "Round Rock", "Pflugerville"), ("787", "786"), "512",
             21.0, 9.0, 11.0, "Austin Energy", "ERCOT", 390, 0.3),
        Cell("chicago", 41.88, -87.63, 181, "America/Chicago", "IL",
             ("Chicago", "Evanston", "Oak Park"), ("606", "602"), "312",
             10.5, 14.0, 9.5, "Commonwealth Edison", "PJM", 400, 0.1),
        Cell("boston", 42.36, -71.06, 43, "America/New_York", "MA",
             ("Boston", "Cambridge", "Somerville"), ("021", "022"), "617",
             11.0, 12.0, 8.5, "Eversource", "ISO-NE", 300, 0.15),
        Cell("new-york", 40.71, -74.01, 10, "America/New_York", "NY",
             ("Brooklyn", "Queens", "Jersey City"), ("112", "113"), "718",
             13.0, 11.5, 8.0, "Con Edison", "NYISO", 280, 0.1),
        Cell("atlanta", 33.75, -84.39, 320, "America/New_York", "GA",
             ("Atlanta", "Decatur", "Marietta"), ("303", "300"), "404",
             17.5, 9.0, 10.0, "Georgia Power", "SERC", 400, 0.2),
        Cell("miami", 25.76, -80.19, 2, "America/New_York", "FL",
             ("Miami", "Coral Gables", "Hialeah"), ("331", "330"), "305",
             25.5, 3.5, 7.0, "Florida Power & Light", "FRCC", 390, 0.2),
        Cell("seattle", 47.61, -122.33, 50, "America/Los_Angeles", "WA",
             ("Seattle", "Bellevue", "Redmond"), ("981", "980"), "206",
             11.5, 7.0, 8.0, "Seattle City Light", "WECC", 90, 0.05),
    )
}


@dataclass(frozen=True)
class Tariff:
    """A daily TOU tariff in local time; windows may wrap midnight. A flat tariff is all shoulder."""

    name: str
    peak_start_h: float
    peak_end_h: float
    off_peak_start_h: float
    off_peak_end_h: float
    price_off_peak: float
    price_shoulder: float
    price_peak: float


TARIFFS: dict[str, Tariff] = {
    t.name: t
    for t in (
        Tariff("tou-evening-peak", 16.0, 21.0, 23.0, 7.0, 0.18, 0.30, 0.48),
        Tariff("tou-midday-solar", 17.0, 20.0, 9.0, 14.0, 0.12, 0.28, 0.52),
        # peak and off-peak windows empty: every hour is shoulder
        Tariff("flat", 0.0, 0.0, 0.0, 0.0, 0.30, 0.30, 0.30),
    )
}

# name -> (minimum, maximum) for numbers; a tuple of strings for choices; bool for flags.
PARAM_BOUNDS: dict[str, dict[str, Any]] = {
    "battery": {
        "capacity_wh": (500.0, 500_000.0),
        "p_charge_max_w": (100.0, 100_000.0),
        "p_discharge_max_w": (100.0, 100_000.0),
        "grid_charge_max_w": (0.0, 100_000.0),
        "round_trip_efficiency": (0.5, 1.0),
        "self_discharge_pct_per_month": (0.0, 10.0),
        "initial_soc_pct": (0.0, 100.0),
        "reserve_pct": (0.0, 100.0),
        "mode": ("self_consumption", "time_of_use", "backup"),
        "export_rule": ("solar_only", "battery_ok", "never"),
        "grid_charging": bool,
        "storm_mode": bool,
    },
    "solar": {
        "pdc0_w": (100.0, 100_000.0),
        "dc_ac_ratio": (0.8, 2.0),
        "tilt_deg": (0.0, 90.0),
        "azimuth_deg": (0.0, 360.0),
        "losses_frac": (0.0, 0.6),
        "gamma_per_c": (-0.01, 0.0),
    },
    "thermostat": {
        "c_air_kwh_per_k": (0.1, 10.0),
        "c_mass_kwh_per_k": (1.0, 100.0),
        "r_im_k_per_kw": (0.05, 5.0),
        "r_io_k_per_kw": (1.0, 60.0),
        "r_mo_k_per_kw": (0.5, 30.0),
        "internal_gains_w": (0.0, 3000.0),
        "solar_aperture_m2": (0.0, 30.0),
        "heat_source": ("heat_pump", "furnace"),
        "hp_capacity_w": (1000.0, 30_000.0),
        "aux_capacity_w": (0.0, 25_000.0),
        "furnace_capacity_w": (3000.0, 50_000.0),
        "furnace_afue": (0.5, 0.99),
        "fan_power_w": (0.0, 2000.0),
        "shr": (0.5, 1.0),
        "deadband_k": (0.1, 3.0),
        "min_on_s": (0.0, 3600.0),
        "min_off_s": (0.0, 3600.0),
        "mode": ("off", "heat", "cool", "auto", "eco", "emergency_heat"),
        "fan_mode": ("auto", "on", "circulate"),
        "initial_temp_c": (0.0, 40.0),
        "eco_heat_c": (7.0, 32.0),
        "eco_cool_c": (10.0, 35.0),
        "wake_h": (0.0, 24.0),
        "away_h": (0.0, 24.0),
        "home_h": (0.0, 24.0),
        "sleep_h": (0.0, 24.0),
        "heat_wake_c": (7.0, 32.0),
        "heat_away_c": (7.0, 32.0),
        "heat_home_c": (7.0, 32.0),
        "heat_sleep_c": (7.0, 32.0),
        "cool_wake_c": (10.0, 35.0),
        "cool_away_c": (10.0, 35.0),
        "cool_home_c": (10.0, 35.0),
        "cool_sleep_c": (10.0, 35.0),
    },
    "charger": {
        "max_current_a": (6.0, 80.0),
        "current_limit_a": (6.0, 80.0),
        "voltage_v": (100.0, 260.0),
        "vehicle_capacity_wh": (5_000.0, 250_000.0),
        "vehicle_obc_max_w": (1000.0, 22_000.0),
        "vehicle_p_max_w": (1000.0, 350_000.0),
        "vehicle_efficiency": (0.6, 1.0),
        "charge_limit_pct": (50.0, 100.0),
        "initial_soc_pct": (0.0, 100.0),
        "plug_probability": (0.0, 1.0),
        "arrival_mean_h": (0.0, 24.0),
        "energy_mean_wh": (0.0, 150_000.0),
    },
    "home": {
        "base_load_mean_w": (50.0, 10_000.0),
    },
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "battery": {
        "capacity_wh": 13_500.0, "p_charge_max_w": 5000.0, "p_discharge_max_w": 5000.0,
        "grid_charge_max_w": 3300.0, "round_trip_efficiency": 0.90, "self_discharge_pct_per_month": 0.0,
        "initial_soc_pct": 50.0, "reserve_pct": 20.0, "mode": "self_consumption",
        "export_rule": "solar_only", "grid_charging": True, "storm_mode": False,
    },
    "solar": {
        "pdc0_w": 7400.0, "dc_ac_ratio": 1.2, "tilt_deg": 22.0, "azimuth_deg": 180.0,
        "losses_frac": 0.1408, "gamma_per_c": -0.0037,
    },
    "thermostat": {
        "c_air_kwh_per_k": 0.8, "c_mass_kwh_per_k": 15.0, "r_im_k_per_kw": 0.5, "r_io_k_per_kw": 12.0,
        "r_mo_k_per_kw": 3.5, "internal_gains_w": 400.0, "solar_aperture_m2": 3.0, "heat_source": "heat_pump",
        "hp_capacity_w": 10_000.0, "aux_capacity_w": 5000.0, "furnace_capacity_w": 20_000.0,
        "furnace_afue": 0.95, "fan_power_w": 300.0, "shr": 0.75, "deadband_k": 0.6, "min_on_s": 240.0,
        "min_off_s": 300.0, "mode": "auto", "fan_mode": "auto", "initial_temp_c": 21.0,
        "eco_heat_c": 16.0, "eco_cool_c": 28.0,
        "wake_h": 6.0, "away_h": 8.5, "home_h": 17.5, "sleep_h": 22.0,
        "heat_wake_c": 21.0, "heat_away_c": 17.0, "heat_home_c": 21.0, "heat_sleep_c": 18.0,
        "cool_wake_c": 24.0, "cool_away_c": 28.0, "cool_home_c": 24.0, "cool_sleep_c": 26.0,
    },
    "charger": {
        "max_current_a": 48.0, "current_limit_a": 40.0, "voltage_v": 240.0,
        "vehicle_capacity_wh": 75_000.0, "vehicle_obc_max_w": 11_500.0, "vehicle_p_max_w": 11_500.0,
        "vehicle_efficiency": 0.9, "charge_limit_pct": 80.0, "initial_soc_pct": 55.0,
        "plug_probability": 3.0 / 7.0, "arrival_mean_h": 18.5, "energy_mean_wh": 17_000.0,
    },
    "home": {"base_load_mean_w": 750.0},
}


@dataclass(frozen=True)
class DeviceModel:
    name: str
    kind: str
    vendor: str
    label: str
    params: dict[str, Any]


MODELS: dict[str, DeviceModel] = {
    m.name: m
    for m in (
        DeviceModel("powerwall-2", "battery", "tesla", "Tesla Powerwall 2", {}),
        DeviceModel("powerwall-3", "battery", "tesla", "Tesla Powerwall 3",
                    {"p_discharge_max_w": 11_500.0, "grid_charge_max_w": 5000.0}),
        DeviceModel("enphase-iq-battery-5p", "battery", "enphase", "Enphase IQ Battery 5P",
                    {"capacity_wh": 5000.0, "p_charge_max_w": 3840.0, "p_discharge_max_w": 3840.0,
                     "grid_charge_max_w": 3840.0, "round_trip_efficiency": 0.90}),
        DeviceModel("solaredge-home-battery", "battery", "solaredge", "SolarEdge Home Battery 10kWh",
                    {"capacity_wh": 9700.0, "p_charge_max_w": 5000.0, "p_discharge_max_w": 5000.0}),
        DeviceModel("tesla-solar-7kw", "solar", "tesla", "Tesla Solar 7.4 kW", {"pdc0_w": 7400.0}),
        DeviceModel("enphase-iq8-6kw", "solar", "enphase", "Enphase IQ8 microinverters 6.6 kW",
                    {"pdc0_w": 6600.0, "dc_ac_ratio": 1.15}),
        DeviceModel("solaredge-se7600h", "solar", "solaredge", "SolarEdge SE7600H 9 kW",
                    {"pdc0_w": 9000.0, "dc_ac_ratio": 9000.0 / 7600.0}),
        DeviceModel("ecobee-heat-pump", "thermostat", "ecobee", "ecobee Smart Thermostat (heat pump)",
                    {"heat_source": "heat_pump"}),
        DeviceModel("ecobee-furnace-ac", "thermostat", "ecobee", "ecobee Smart Thermostat (furnace + AC)",
                    {"heat_source": "furnace"}),
        DeviceModel("nest-heat-pump", "thermostat", "nest", "Google Nest Thermostat (heat pump)",
                    {"heat_source": "heat_pump"}),
        DeviceModel("nest-furnace-ac", "thermostat", "nest", "Google Nest Thermostat (furnace + AC)",
                    {"heat_source": "furnace"}),
        DeviceModel("wallbox-pulsar-plus-48a", "charger", "wallbox", "Wallbox Pulsar Plus 48 A", {}),
        DeviceModel("wallbox-pulsar-plus-40a", "charger", "wallbox", "Wallbox Pulsar Plus 40 A",
                    {"max_current_a": 40.0, "current_limit_a": 32.0, "vehicle_capacity_wh": 60_000.0,
                     "vehicle_obc_max_w": 7200.0, "vehicle_p_max_w": 7200.0}),
    )
}
