"""Scenario files: the built-ins load, bad files are refused with every problem listed, and the
generated fleet is deterministic per home (independent of fleet size) and geographically sane."""

from __future__ import annotations

import importlib.resources
import math
import textwrap
from pathlib import Path

import pytest
import yaml

from gridtwin.simulator.catalog import CELL_RADIUS_DEG, CELLS, MODELS
from gridtwin.simulator.errors import ScenarioError
from gridtwin.simulator.scenario import BUILTIN_SCENARIOS, DEVICE_SLOTS, HomeSpec, Scenario, load_scenario

START_S = 1_784_073_600.0  # 2026-07-15T00:00:00Z


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def keys_of(err: ScenarioError) -> set[str]:
    """The offending key of each problem (the text before the first ': ')."""
    return {p.split(": ", 1)[0] for p in err.problems}


def check_ids(sc: Scenario) -> None:
    assert [h.index for h in sc.homes] == list(range(len(sc.homes)))
    assert [h.home_id for h in sc.homes] == [f"home-{i:05d}" for i in range(len(sc.homes))]
    for h in sc.homes:
        assert h.cell in CELLS
        for slot, dev in h.devices.items():
            assert slot in DEVICE_SLOTS
            assert dev.kind == slot
            assert MODELS[dev.model].kind == slot
            assert dev.vendor == MODELS[dev.model].vendor


# -- the built-ins ---------------------------------------------------------------------------


def test_builtin_names() -> None:
    assert set(BUILTIN_SCENARIOS) == {"single-home", "all-vendors", "neighbourhood", "fleet-10k"}


def test_single_home_loads() -> None:
    sc = load_scenario("single-home")
    assert sc.name == "single-home"
    assert sc.start_s == START_S
    assert sc.step_s == 60.0
    assert len(sc.homes) == 1
    home = sc.homes[0]
    assert set(home.devices) == set(DEVICE_SLOTS)
    assert home.cell == "sacramento"
    assert (home.name, home.email) == ("Ada Lovelace", "ada@example.com")
    assert home.devices["battery"].params["initial_soc_pct"] == 60.0
    assert home.devices["thermostat"].params["mode"] == "cool"
    check_ids(sc)


def test_neighbourhood_loads() -> None:
    sc = load_scenario("neighbourhood")
    assert len(sc.homes) == 100
    assert {h.cell for h in sc.homes} == {"sacramento"}
    assert all("thermostat" in h.devices for h in sc.homes)  # probability 1.0
    # the mixed probabilities give a mix, not all or nothing
    for slot in ("solar", "battery", "charger"):
        count = sum(slot in h.devices for h in sc.homes)
        assert 10 < count < 95, (slot, count)
    check_ids(sc)


def test_fleet_10k_declares_ten_thousand_homes_and_loads_small() -> None:
    text = (
        importlib.resources.files("gridtwin.simulator.scenarios")
        .joinpath("fleet-10k.yaml")
        .read_text("utf-8")
    )
    data = yaml.safe_load(text)
    assert data["homes"]["generate"]["count"] == 10_000
    assert "10,000" in data["description"]
    sc = load_scenario("fleet-10k", homes=50)
    assert len(sc.homes) == 50
    assert all(set(h.devices) == set(DEVICE_SLOTS) for h in sc.homes)  # every device, probability 1
    assert len({h.cell for h in sc.homes}) >= 8  # spread over the twelve cells
    check_ids(sc)


def test_overrides_apply() -> None:
    sc = load_scenario("neighbourhood", homes=7, seed=11, step_s=300)
    assert (len(sc.homes), sc.seed, sc.step_s) == (7, 11, 300.0)


def test_homes_override_refused_for_a_listed_scenario() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("single-home", homes=3)
    assert any("--homes" in p for p in err.value.problems)


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("no-such-scenario")
    assert "single-home" in str(err.value)


# -- refusals --------------------------------------------------------------------------------

BAD_LIST = """\
    name: bad
    colour: blue
    seed: 1
    homes:
      list:
        - cell: atlantis
          devices:
            solar: {model: tesla-solar-7kw}
        - cell: sacramento
          devices:
            battery: {model: powerwall-2, params: {reserve_pct: 150}}
            thermostat: {model: honeywell-t6}
"""


def test_bad_file_lists_every_offending_key(tmp_path: Path) -> None:
    path = write(tmp_path, BAD_LIST)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    expected = {
        "colour",  # unknown top key
        "start",  # missing required key
        "homes.list[0].cell",  # unknown weather cell
        "homes.list[1].devices.battery.params.reserve_pct",  # out of range
        "homes.list[1].devices.thermostat.model",  # unknown model
    }
    assert keys_of(err.value) == expected
    message = str(err.value)
    for key in expected:
        assert key in message
    assert "150" in message and "[0, 100]" in message
    assert "honeywell-t6" in message and "atlantis" in message
    assert err.value.source == str(path)
    assert isinstance(err.value, ValueError)


def test_generated_fleet_problems_are_all_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: gen-problems
        start: "2026-07-15T00:00:00Z"
        seed: -3
        step_s: 7000
        tariff: free-power
        homes:
          generate:
            count: 5
            cells: [sacramento, atlantis]
            devices:
              solar: {probability: 1.5, models: {tesla-solar-7kw: 1, powerwall-2: 1}}
              toaster: {probability: 0.5}
            home: {base_load_mean_w: 1}
    """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert keys_of(err.value) == {
        "seed",
        "step_s",
        "tariff",
        "homes.generate.cells.atlantis",
        "homes.generate.devices.solar.probability",
        "homes.generate.devices.solar.models.powerwall-2",
        "homes.generate.devices.toaster",
        "homes.generate.home.base_load_mean_w",
    }


def test_start_must_be_a_utc_midnight_and_step_divide_a_day(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: odd-times
        start: "2026-07-15T10:00:00Z"
        step_s: 7
        homes: {list: [{cell: sacramento}]}
        outages: [{target: home-00000, start: "2026-07-15T18:00:00Z", end: "2026-07-15T17:00:00Z"}]
    """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert keys_of(err.value) == {"start", "step_s", "outages[0].end"}


def test_window_targets_must_exist(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: ghost-targets
        start: "2026-07-15T00:00:00Z"
        homes: {list: [{cell: sacramento, devices: {solar: {model: tesla-solar-7kw}}}]}
        outages: [{target: home-00009, start: "2026-07-15T18:00:00Z", end: "2026-07-15T19:00:00Z"}]
        faults:
          - {target: battery-00000, kind: offline, start: "2026-07-15T18:00:00Z", end: "2026-07-15T19:00:00Z"}
    """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert len(err.value.problems) == 2
    assert "home-00009" in str(err.value) and "battery-00000" in str(err.value)


def test_window_target_problem_names_the_file_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: ghost-targets
        start: "2026-07-15T00:00:00Z"
        homes: {list: [{cell: sacramento, devices: {solar: {model: tesla-solar-7kw}}}]}
        outages: [{target: home-00009, start: "2026-07-15T18:00:00Z", end: "2026-07-15T19:00:00Z"}]
        faults:
          - {target: battery-00000, kind: offline, start: "2026-07-15T18:00:00Z", end: "2026-07-15T19:00:00Z"}
    """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert keys_of(err.value) == {"outages[0].target", "faults[0].target"}


def test_invalid_yaml_is_a_scenario_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ScenarioError):
        load_scenario(path)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("homes: {generate: {count: 3, cels: [boston]}}", "homes.generate.cels"),
        (
            "homes: {generate: {count: 3, devices: {solar: {probabilty: 0.1}}}}",
            "homes.generate.devices.solar.probabilty",
        ),
        (
            "homes: {list: [{cell: sacramento, devcies: {solar: {model: tesla-solar-7kw}}}]}",
            "homes.list[0].devcies",
        ),
        (
            "homes: {list: [{cell: sacramento}]}\n"
            "outages: [{target: home-00000, start: '2026-07-15T18:00:00Z', end: '2026-07-15T19:00:00Z', "
            "colour: red}]",
            "outages[0].colour",
        ),
    ],
    ids=["generate", "device-slot", "listed-home", "outage"],
)
def test_nested_unknown_keys_are_refused(tmp_path: Path, body: str, key: str) -> None:
    path = write(tmp_path, 'name: typo\nstart: "2026-07-15T00:00:00Z"\n' + body + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert key in keys_of(err.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "homes: {list: [{cell: atlantis, devices: {solar: {model: no-such-panel}}}]}",
            {"homes.list[0].cell", "homes.list[0].devices.solar.model"},
        ),
        (
            "homes: {generate: {count: 0, cells: [atlantis]}}",
            {"homes.generate.count", "homes.generate.cells.atlantis"},
        ),
    ],
    ids=["cell-hides-model", "count-hides-cells"],
)
def test_one_problem_does_not_hide_another(tmp_path: Path, body: str, expected: set[str]) -> None:
    path = write(tmp_path, 'name: hidden\nstart: "2026-07-15T00:00:00Z"\n' + body + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert expected <= keys_of(err.value)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("homes: {generate: {count: ten}}", "homes.generate.count"),
        ("homes: {generate: {count: 2.7}}", "homes.generate.count"),
        ("homes: {generate: {count: 3, devices: [solar]}}", "homes.generate.devices"),
        ("homes: {list: [{cell: sacramento, devices: [solar]}]}", "homes.list[0].devices"),
        (
            "homes: {list: [{cell: sacramento}]}\n"
            "outages: [{target: home-00000, start: '2026-07-15T18:00:00Z', end: '2026-07-15T19:00:00Z', "
            "value: high}]",
            "outages[0].value",
        ),
        (
            "homes: {generate: {count: 3, devices: {solar: {models: "
            "{tesla-solar-7kw: -1, enphase-iq8-6kw: 1}}}}}",
            "homes.generate.devices.solar.models.tesla-solar-7kw",
        ),
        (
            "homes: {generate: {count: 3, devices: {solar: {models: "
            "{tesla-solar-7kw: 0, enphase-iq8-6kw: 0}}}}}",
            "homes.generate.devices.solar.models",
        ),
    ],
    ids=[
        "count-text",
        "count-fraction",
        "devices-list",
        "listed-devices-list",
        "window-value-text",
        "negative-weight",
        "weights-sum-zero",
    ],
)
def test_malformed_values_are_scenario_errors(tmp_path: Path, body: str, key: str) -> None:
    """Regression: these escaped as raw ValueError/AttributeError or were accepted (found in this suite)."""
    path = write(tmp_path, 'name: malformed\nstart: "2026-07-15T00:00:00Z"\n' + body + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert key in keys_of(err.value)


# -- determinism and generated homes ---------------------------------------------------------


def test_same_seed_same_homes() -> None:
    a = load_scenario("neighbourhood", homes=30, seed=5)
    b = load_scenario("neighbourhood", homes=30, seed=5)
    assert a.homes == b.homes
    c = load_scenario("neighbourhood", homes=30, seed=6)
    assert a.homes != c.homes
    differing = sum(x != y for x, y in zip(a.homes, c.homes, strict=True))
    assert differing == 30  # a new seed changes every home, not just some


@pytest.mark.parametrize("name", ["neighbourhood", "fleet-10k"])
def test_home_i_does_not_depend_on_fleet_size(name: str) -> None:
    small = load_scenario(name, homes=10, seed=3)
    large = load_scenario(name, homes=40, seed=3)
    for h_small, h_large in zip(small.homes, large.homes[:10], strict=True):
        assert h_small == h_large


def test_listed_homes_are_deterministic() -> None:
    assert load_scenario("single-home").homes == load_scenario("single-home").homes
    assert load_scenario("single-home", seed=1).homes[0].lat != load_scenario("single-home").homes[0].lat


def distance_deg(h: HomeSpec) -> float:
    """Equirectangular distance [degrees of latitude] from the home to its cell's centre."""
    cell = CELLS[h.cell]
    dlat = h.lat - cell.lat
    dlon = (h.lon - cell.lon) * math.cos(math.radians(cell.lat))
    return math.hypot(dlat, dlon)


def test_generated_homes_sit_in_their_cell() -> None:
    sc = load_scenario("fleet-10k", homes=400, seed=2)
    assert {h.cell for h in sc.homes} == set(CELLS)
    for h in sc.homes:
        cell = CELLS[h.cell]
        assert distance_deg(h) <= CELL_RADIUS_DEG + 1e-5, (h.home_id, h.cell, h.lat, h.lon)
        assert h.state == cell.state
        assert h.city in cell.cities
        assert h.postal_code[:3] in cell.zip_prefixes and len(h.postal_code) == 5
        assert h.phone.startswith("+1" + cell.area_code) and len(h.phone) == 12
    # and they fill the disc rather than sit on the centre
    assert max(distance_deg(h) for h in sc.homes) > 0.8 * CELL_RADIUS_DEG


def test_listed_home_sits_in_its_cell() -> None:
    home = load_scenario("single-home").homes[0]
    assert distance_deg(home) <= CELL_RADIUS_DEG + 1e-5


def test_generated_emails_are_unique() -> None:
    sc = load_scenario("fleet-10k", homes=2000, seed=0)
    emails = [h.email for h in sc.homes]
    assert len(set(emails)) == len(emails)
    assert all(e == e.lower() and e.endswith("@example.com") for e in emails)


def test_listed_homes_with_the_same_email_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: twins
        start: "2026-07-15T00:00:00Z"
        homes:
          list:
            - {cell: sacramento, email: same@example.com}
            - {cell: sacramento, email: same@example.com}
    """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert any("email" in k for k in keys_of(err.value))
