"""Scenario files: YAML in, validated :class:`Scenario` out.

A scenario names its start, step, seed, tariff and homes; homes are listed explicitly or
generated (Faker-backed, seeded per home). Every problem is collected before refusing, so a
user sees all offending keys at once (:class:`ScenarioError`).

Determinism: home ``i`` draws everything (cell, devices, parameters, address) from
``SeedSequence(seed, spawn_key=(0, i))``, so it does not depend on how many homes there are.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .catalog import CELL_RADIUS_DEG, CELLS, DEFAULTS, MODELS, PARAM_BOUNDS, TARIFFS, Cell, Tariff
from .errors import ScenarioError

BUILTIN_SCENARIOS = ("single-home", "all-vendors", "neighbourhood", "fleet-10k")
DEVICE_SLOTS = ("solar", "battery", "thermostat", "charger")
_TOP_KEYS = {"name", "description", "seed", "start", "step_s", "tariff", "homes", "outages", "faults"}
_FAULT_KINDS = ("offline", "stale_telemetry", "command_rejected", "command_not_applied", "inverter_trip",
                "sensor_bias")


@dataclass(frozen=True)
class DeviceSpec:
    kind: str
    model: str
    vendor: str
    params: dict[str, Any]


@dataclass(frozen=True)
class HomeSpec:
    index: int
    home_id: str
    name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    postal_code: str
    lat: float
    lon: float
    cell: str
    base_load_mean_w: float
    devices: dict[str, DeviceSpec]
    seed_u64: int


@dataclass(frozen=True)
class WindowSpec:
    """A timed window on a home (outage, storm watch) or a device (fault)."""

    target: str
    kind: str
    start_s: float
    end_s: float
    value: float = 0.0
    where: str = ""  # the file key it came from, for error messages


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    start_s: float
    step_s: float
    tariff: Tariff
    homes: tuple[HomeSpec, ...]
    windows: tuple[WindowSpec, ...] = field(default=())

    def home(self, home_id: str) -> HomeSpec | None:
        """The home with this id (ids are ``home-<index>``, so no scan is needed)."""
        try:
            index = int(home_id.removeprefix("home-"))
        except ValueError:
            return None
        if 0 <= index < len(self.homes) and self.homes[index].home_id == home_id:
            return self.homes[index]
        return None

    @property
    def cells(self) -> tuple[Cell, ...]:
        names = sorted({h.cell for h in self.homes})
        return tuple(CELLS[n] for n in names)


def home_id(index: int) -> str:
    return f"home-{index:05d}"


def device_id(kind: str, index: int) -> str:
    return f"{kind}-{index:05d}"


def _read_source(name_or_path: str | Path) -> tuple[str, dict[str, Any]]:
    text: str
    if str(name_or_path) in BUILTIN_SCENARIOS:
        res = importlib.resources.files("gridtwin.simulator.scenarios").joinpath(f"{name_or_path}.yaml")
        text = res.read_text(encoding="utf-8")
        source = str(name_or_path)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(str(name_or_path), [
                f"no such scenario: not a file and not one of {', '.join(BUILTIN_SCENARIOS)}"])
        text = path.read_text(encoding="utf-8")
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioError(source, [f"not valid YAML: {err}"]) from err
    if not isinstance(data, dict):
        raise ScenarioError(source, ["the top level must be a mapping"])
    return source, data


def _parse_time(value: Any, key: str, problems: list[str]) -> float:
    if isinstance(value, dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return t.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{key}: {value!r} is not an ISO 8601 time")
        return 0.0
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _check_params(kind: str, params: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """Merge ``params`` over the defaults of ``kind``; record every unknown or out-of-range key."""
    merged = dict(DEFAULTS[kind])
    if params is None:
        return merged
    if not isinstance(params, dict):
        problems.append(f"{where}: must be a mapping of parameters")
        return merged
    bounds = PARAM_BOUNDS[kind]
    for key, value in params.items():
        rule = bounds.get(key)
        if rule is None:
            problems.append(f"{where}.{key}: unknown parameter for {kind} (known: {', '.join(sorted(bounds))})")
        elif rule is bool:
            if not isinstance(value, bool):
                problems.append(f"{where}.{key}: {value!r} must be true or false")
            else:
                merged[key] = value
        elif isinstance(rule[0], str):
            if value not in rule:
                problems.append(f"{where}.{key}: {value!r} must be one of {', '.join(rule)}")
            else:
                merged[key] = value
        else:
            lo, hi = rule
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                problems.append(f"{where}.{key}: {value!r} must be a number in [{lo:g}, {hi:g}]")
            elif not lo <= value <= hi:
                problems.append(f"{where}.{key}: {value!r} is out of range [{lo:g}, {hi:g}]")
            else:
                merged[key] = float(value)
    return merged


def _device(slot: str, entry: Any, where: str, problems: list[str]) -> DeviceSpec | None:
    if not isinstance(entry, dict) or "model" not in entry:
        problems.append(f"{where}: missing required key 'model' (one of the {slot} models: "
                        + ", ".join(m for m, d in MODELS.items() if d.kind == slot) + ")")
        return None
    unknown = set(entry) - {"model", "params", "vendor"}
    for key in sorted(unknown):
        problems.append(f"{where}.{key}: unknown key (allowed: model, params, vendor)")
    model = MODELS.get(str(entry["model"]))
    if model is None or model.kind != slot:
        problems.append(f"{where}.model: {entry['model']!r} is not a {slot} model (known: "
                        + ", ".join(m for m, d in MODELS.items() if d.kind == slot) + ")")
        return None
    base = {**model.params, **(entry.get("params") or {})} if isinstance(entry.get("params") or {}, dict) \
        else entry.get("params")
    params = _check_params(slot, base, f"{where}.params", problems)
    return DeviceSpec(slot, model.name, str(entry.get("vendor", model.vendor)), params)


class _Addresser:
    """Names and street addresses from Faker's en_US word lists, drawn with the home's own rng.

    Drawing from the lists (rather than re-seeding a Faker instance per home) keeps a home's
    identity independent of fleet size and costs microseconds, not a third of a millisecond.
    """

    def __init__(self) -> None:
        from faker.providers.address.en_US import Provider as Address
        from faker.providers.person.en_US import Provider as Person

        self._first = tuple(Person.first_names)
        self._last = tuple(Person.last_names)
        self._suffixes = tuple(Address.street_suffixes)
        self._secondary = ("Apt.", "Suite", "Unit")

    def _pick(self, rng: np.random.Generator, options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    def person(self, cell: Cell, rng: np.random.Generator, index: int) -> dict[str, str]:
        first, last = self._pick(rng, self._first), self._pick(rng, self._last)
        street_name = self._pick(rng, self._first + self._last)
        street = f"{int(rng.integers(100, 9999))} {street_name} {self._pick(rng, self._suffixes)}"
        if rng.random() < 0.15:
            street += f" {self._pick(rng, self._secondary)} {int(rng.integers(1, 400))}"
        city = cell.cities[int(rng.integers(len(cell.cities)))]
        zip_code = cell.zip_prefixes[int(rng.integers(len(cell.zip_prefixes)))] + f"{int(rng.integers(100)):02d}"
        return {
            "name": f"{first} {last}",
            # the index keeps emails unique inside a scenario (auto-linking matches on email)
            "email": f"{first}.{last}.{index}@example.com".lower(),
            "phone": f"+1{cell.area_code}{int(rng.integers(2_000_000, 9_999_999)):07d}",
            "street": street,
            "city": city,
            "state": cell.state,
            "postal_code": zip_code,
        }


def _choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([float(weights[n]) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def season_mode(start_s: float, lat_deg: float) -> str:
    """The thermostat mode people leave on in that season: cool in summer, heat in winter."""
    month = dt.datetime.fromtimestamp(start_s, tz=dt.UTC).month
    if lat_deg < 0:
        month = (month + 5) % 12 + 1
    return "cool" if month in (6, 7, 8, 9) else "heat" if month in (11, 12, 1, 2, 3) else "auto"


def _jitter(kind: str, params: dict[str, Any], rng: np.random.Generator, start_s: float,
            cell: Cell) -> dict[str, Any]:
    """Per-home variety for generated fleets (sizes, envelopes, habits), inside the bounds."""
    p = dict(params)
    if kind == "solar":
        p["pdc0_w"] = float(np.clip(p["pdc0_w"] * np.exp(rng.normal(0.0, 0.25)), 2000.0, 20_000.0))
        p["tilt_deg"] = float(rng.uniform(15.0, 35.0))
        p["azimuth_deg"] = float(rng.uniform(120.0, 240.0))
    elif kind == "battery":
        p["initial_soc_pct"] = float(rng.uniform(25.0, 90.0))
        p["reserve_pct"] = float(rng.choice([10.0, 20.0, 20.0, 30.0, 50.0]))
    elif kind == "thermostat":
        scale = float(np.exp(rng.normal(0.0, 0.25)))  # house size / leakiness
        p["r_io_k_per_kw"] = float(np.clip(p["r_io_k_per_kw"] / scale, 2.0, 50.0))
        p["r_mo_k_per_kw"] = float(np.clip(p["r_mo_k_per_kw"] / scale, 1.0, 25.0))
        p["c_mass_kwh_per_k"] = float(np.clip(p["c_mass_kwh_per_k"] * scale, 5.0, 40.0))
        p["mode"] = season_mode(start_s, cell.lat)
        # houses start near where their season's setpoints keep them
        lo, hi = {"cool": (23.0, 26.0), "heat": (18.5, 21.5)}.get(p["mode"], (20.0, 23.0))
        p["initial_temp_c"] = float(rng.uniform(lo, hi))
        shift = float(rng.choice([-0.5, -0.25, 0.0, 0.25, 0.5]))
        for key in ("wake_h", "away_h", "home_h", "sleep_h"):
            p[key] = float(p[key] + shift)
        offset = float(rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0]))
        for key in ("heat_wake_c", "heat_home_c", "cool_wake_c", "cool_home_c"):
            p[key] = float(p[key] + offset)
    elif kind == "charger":
        p["initial_soc_pct"] = float(rng.uniform(30.0, 80.0))
        p["charge_limit_pct"] = float(rng.choice([80.0, 80.0, 90.0, 100.0]))
    return p


def _weights(value: Any, where: str, problems: list[str]) -> dict[str, float]:
    """A list of names (equal weights) or a mapping name -> weight >= 0 with a positive sum."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {v: 1.0 for v in value}
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a list of names or a mapping of name -> weight")
        return {}
    out = {}
    for name, w in value.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            problems.append(f"{where}.{name}: weight {w!r} must be a number >= 0")
        else:
            out[str(name)] = float(w)
    if value and out and sum(out.values()) <= 0:
        problems.append(f"{where}: the weights sum to 0 (at least one must be > 0)")
    return out


def _generated_homes(spec: Any, count: int | None, seed: int, start_s: float,
                     problems: list[str]) -> list[HomeSpec]:
    if not isinstance(spec, dict):
        problems.append("homes.generate: must be a mapping (count, cells, devices)")
        return []
    where = "homes.generate"
    for key in sorted(set(spec) - {"count", "cells", "devices", "home"}):
        problems.append(f"{where}.{key}: unknown key (allowed: count, cells, devices, home)")
    n = count if count is not None else spec.get("count")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 200_000:
        problems.append(f"{where}.count: {n!r} must be a whole number in [1, 200000]")
    cells = _weights(spec.get("cells") or list(CELLS), f"{where}.cells", problems)
    for c in cells:
        if c not in CELLS:
            problems.append(f"{where}.cells.{c}: unknown weather cell (known: {', '.join(CELLS)})")
    devices = spec.get("devices") or {}
    if not isinstance(devices, dict):
        problems.append(f"{where}.devices: must be a mapping of device slot -> {{probability, models}}")
        devices = {}
    for slot, entry in devices.items():
        if slot not in DEVICE_SLOTS:
            problems.append(f"{where}.devices.{slot}: unknown device slot (known: {', '.join(DEVICE_SLOTS)})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{where}.devices.{slot}: must be a mapping (probability, models)")
            continue
        for key in sorted(set(entry) - {"probability", "models"}):
            problems.append(f"{where}.devices.{slot}.{key}: unknown key (allowed: probability, models)")
        prob = entry.get("probability", 1.0)
        if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0.0 <= prob <= 1.0:
            problems.append(f"{where}.devices.{slot}.probability: {prob!r} must be a number in [0, 1]")
        models = _weights(entry.get("models") or {}, f"{where}.devices.{slot}.models", problems)
        for m in models:
            if m not in MODELS or MODELS[m].kind != slot:
                problems.append(f"{where}.devices.{slot}.models.{m}: not a {slot} model (known: "
                                + ", ".join(k for k, d in MODELS.items() if d.kind == slot) + ")")
    base_load = _check_params("home", spec.get("home"), "homes.generate.home", problems)
    if problems:
        return []
    assert isinstance(n, int)
    addresser = _Addresser()
    homes = []
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, i)))
        cell = CELLS[_choose(rng, cells)]
        chosen: dict[str, DeviceSpec] = {}
        for slot in DEVICE_SLOTS:
            entry = devices.get(slot)
            draw = rng.random()  # always drawn, so one slot's mix never shifts another's
            pick = rng.random()
            if not entry or draw >= float(entry.get("probability", 1.0)):
                continue
            models = entry.get("models") or {m: 1.0 for m, d in MODELS.items() if d.kind == slot}
            # a battery follows its solar's vendor where it can, as real installs pair them
            vendor_pref = chosen["solar"].vendor if slot == "battery" and "solar" in chosen else None
            same = {m: w for m, w in models.items() if MODELS[m].vendor == vendor_pref}
            pool = same or models
            names = list(pool)
            weights = np.array([float(pool[m]) for m in names])
            model = MODELS[names[int(np.searchsorted(np.cumsum(weights / weights.sum()), pick))]]
            params = _jitter(slot, {**DEFAULTS[slot], **model.params}, rng, start_s, cell)
            chosen[slot] = DeviceSpec(slot, model.name, model.vendor, params)
        homes.append(_home(i, cell, chosen, base_load["base_load_mean_w"], rng, addresser, seed))
    return homes


def _home(index: int, cell: Cell, devices: dict[str, DeviceSpec], base_load_mean_w: float,
          rng: np.random.Generator, addresser: _Addresser, seed: int,
          overrides: dict[str, Any] | None = None) -> HomeSpec:
    person = addresser.person(cell, rng, index)
    r = CELL_RADIUS_DEG * np.sqrt(rng.random())
    theta = rng.uniform(0.0, 2.0 * np.pi)
    lat = round(cell.lat + r * np.cos(theta), 5)
    lon = round(cell.lon + r * np.sin(theta) / np.cos(np.radians(cell.lat)), 5)
    load = float(base_load_mean_w * np.exp(rng.normal(0.0, 0.3)))
    seed_u64 = int(rng.integers(0, 2**63))
    person.update({k: str(v) for k, v in (overrides or {}).items() if k in person})
    return HomeSpec(index=index, home_id=home_id(index), lat=float(lat), lon=float(lon), cell=cell.name,
                    base_load_mean_w=load, devices=devices, seed_u64=seed_u64, **person)


def _listed_homes(entries: Any, seed: int, problems: list[str]) -> list[HomeSpec]:
    if not isinstance(entries, list) or not entries:
        problems.append("homes.list: must be a non-empty list of homes")
        return []
    addresser = _Addresser()
    homes = []
    emails: dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"homes.list[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        allowed = {"cell", "devices", "params", "name", "email", "phone", "street", "city", "postal_code"}
        for key in sorted(set(entry) - allowed):
            problems.append(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
        cell = CELLS.get(str(entry.get("cell", "")))
        if cell is None:  # keep checking the rest of the home, so no problem hides another
            problems.append(f"{where}.cell: {entry.get('cell')!r} is missing or unknown (known: {', '.join(CELLS)})")
        devices = {}
        listed = entry.get("devices") or {}
        if not isinstance(listed, dict):
            problems.append(f"{where}.devices: must be a mapping of device slot -> {{model, params}}")
            listed = {}
        for slot, dev in listed.items():
            if slot not in DEVICE_SLOTS:
                problems.append(f"{where}.devices.{slot}: unknown device slot (known: {', '.join(DEVICE_SLOTS)})")
                continue
            spec = _device(slot, dev, f"{where}.devices.{slot}", problems)
            if spec:
                devices[slot] = spec
        home_params = _check_params("home", entry.get("params"), f"{where}.params", problems)
        email = str(entry.get("email", "")).lower()
        if email and email in emails:
            problems.append(f"{where}.email: {entry['email']!r} repeats homes.list[{emails[email]}] "
                            "(emails identify customers and must be unique)")
        elif email:
            emails[email] = i
        if cell is None or problems:
            continue
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, i)))
        overrides = {k: entry[k] for k in ("name", "email", "phone", "street", "city", "postal_code") if k in entry}
        homes.append(_home(i, cell, devices, home_params["base_load_mean_w"], rng, addresser, seed, overrides))
    return homes


def _windows(data: dict[str, Any], start_s: float, problems: list[str]) -> list[WindowSpec]:
    out = []
    for key, kinds in (("outages", ("outage", "storm_watch")), ("faults", _FAULT_KINDS)):
        for i, w in enumerate(data.get(key) or []):
            where = f"{key}[{i}]"
            if not isinstance(w, dict):
                problems.append(f"{where}: must be a mapping")
                continue
            for extra in sorted(set(w) - {"target", "kind", "start", "end", "value"}):
                problems.append(f"{where}.{extra}: unknown key (allowed: end, kind, start, target, value)")
            missing = [k for k in ("target", "start", "end") if k not in w]
            for k in missing:
                problems.append(f"{where}.{k}: missing")
            kind = w.get("kind", "outage" if key == "outages" else None)
            if kind not in kinds:
                problems.append(f"{where}.kind: {kind!r} must be one of {', '.join(kinds)}")
            if missing or kind not in kinds:
                continue
            value = w.get("value", 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                problems.append(f"{where}.value: {value!r} must be a number")
                continue
            t0 = _parse_time(w["start"], f"{where}.start", problems)
            t1 = _parse_time(w["end"], f"{where}.end", problems)
            if t1 <= t0:
                problems.append(f"{where}.end: must be after start")
            out.append(WindowSpec(str(w["target"]), str(kind), t0, t1, float(value), where))
    return out


def load_scenario(name_or_path: str | Path, *, homes: int | None = None, seed: int | None = None,
                  step_s: float | None = None) -> Scenario:
    """Load a built-in scenario by name or a YAML file; ``homes``, ``seed`` and ``step_s`` override it."""
    source, data = _read_source(name_or_path)
    problems: list[str] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"{key}: unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "start", "homes"):
        if key not in data:
            problems.append(f"{key}: missing required key")
    the_seed = seed if seed is not None else data.get("seed", 0)
    if isinstance(the_seed, bool) or not isinstance(the_seed, int) or the_seed < 0:
        problems.append(f"seed: {the_seed!r} must be a non-negative integer")
        the_seed = 0
    step = step_s if step_s is not None else data.get("step_s", 60)
    if isinstance(step, bool) or not isinstance(step, int | float) or not 1 <= step <= 3600:
        problems.append(f"step_s: {step!r} is out of range [1, 3600]")
        step = 60
    elif 86400 % step:
        problems.append(f"step_s: {step!r} must divide a day (86400 s) evenly")
    tariff = TARIFFS.get(str(data.get("tariff", "tou-evening-peak")))
    if tariff is None:
        problems.append(f"tariff: {data.get('tariff')!r} is unknown (known: {', '.join(TARIFFS)})")
    start_s = _parse_time(data.get("start", "2026-01-01T00:00:00Z"), "start", problems)
    if start_s % 86400:
        problems.append(f"start: {data.get('start')!r} must be a UTC midnight")
    home_data = data.get("homes")
    home_list: list[HomeSpec] = []
    if isinstance(home_data, dict) and ("generate" in home_data) != ("list" in home_data):
        if "generate" in home_data:
            home_list = _generated_homes(home_data["generate"], homes, int(the_seed), start_s, problems)
        elif homes is not None:
            problems.append("--homes applies only to scenarios with homes.generate")
        else:
            home_list = _listed_homes(home_data["list"], int(the_seed), problems)
    elif "homes" in data:
        problems.append("homes: must be a mapping with exactly one of 'generate' or 'list'")
    windows = _windows(data, start_s, problems)
    ids = {h.home_id for h in home_list} | {device_id(k, h.index) for h in home_list for k in h.devices}
    ids |= {device_id("vehicle", h.index) for h in home_list if "charger" in h.devices}
    for w in windows:
        if home_list and w.target not in ids:
            problems.append(f"{w.where}.target: {w.target!r} is not a home or device of this scenario")
    if problems:
        raise ScenarioError(source, problems)
    assert tariff is not None
    return Scenario(str(data["name"]), str(data.get("description", "")), int(the_seed), start_s, float(step),
                    tariff, tuple(home_list), tuple(windows))
