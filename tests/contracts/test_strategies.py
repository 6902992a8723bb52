"""gridtwin.contracts.strategies: what they draw is what the contract allows and the reference accepts.

Each drawn command is judged twice: against the contract file's own request schema for that command
(JSON Schema 2020-12, as OpenAPI 3.1 says) and by the reference unified API, which must take it (201),
or refuse it up front because the device's vendor cannot do that value (422 ``UNSUPPORTED_COMMAND``
naming the device and the command: ecobee has no fan ``off``, Nest no ``circulate``...), as the
contract allows. Batteries, chargers and vehicles have no such limits: there, every draw is taken.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtwin.contracts import strategies
from gridtwin.contracts.harness.engine import contract
from gridtwin.fixtures.plugin_world import WorldHost
from gridtwin.simulator.scenario import BUILTIN_SCENARIOS

# one world for the module: the examples only add commands, which the reference takes whatever is pending
SHARED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@pytest.fixture(scope="module")
def host() -> Iterator[WorldHost]:
    world = WorldHost("all-vendors", None)
    try:
        yield world
    finally:
        world.close()


class Fleet:
    """The reference's client and device list (a short repr: Hypothesis prints the test's arguments)."""

    def __init__(self, host: WorldHost, api: httpx.Client) -> None:
        self.host = host
        self.api = api
        self.listed: list[dict[str, Any]] = api.get("/v1/devices", params={"perPage": 100}).raise_for_status(
            ).json()["data"]

    def __repr__(self) -> str:
        return f"Fleet({len(self.listed)} devices)"


@pytest.fixture(scope="module")
def fleet(host: WorldHost) -> Iterator[Fleet]:
    with host.client({"Texture-Api-Key": host.api_key}) as api:
        yield Fleet(host, api)


def command_path(slug: str) -> str:
    device_type, _, name = slug.partition(":")
    return f"/v1/commands/{device_type}/{name}"


@functools.cache
def request_validator(slug: str) -> jsonschema_rs.Draft202012Validator:
    """The contract's request body schema of a command's endpoint, with its components to resolve refs."""
    spec = contract()
    schema = spec["paths"][command_path(slug)]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})


def judge(fleet: Fleet, device: dict[str, Any], slug: str, inp: dict[str, Any]) -> None:
    body = {"deviceId": device["id"], "input": inp}
    errors = [e.message for e in request_validator(slug).iter_errors(body)]
    assert not errors, f"{slug} {inp} breaks the contract's request schema: {errors}"
    r = fleet.api.post(command_path(slug), json=body)
    if r.status_code == 429:  # at most 10 commands a minute per device: wait (simulated time) as a client would
        fleet.host.advance(float(r.json()["details"]["retryAfter"]))
        r = fleet.api.post(command_path(slug), json=body)
    where = f"{slug} {inp} on {device['manufacturer']} {device['type']} {device['id']}"
    if r.status_code == 422 and device["type"] == "thermostat":
        refusal = r.json()
        assert refusal["code"] == "UNSUPPORTED_COMMAND", f"{where}: {r.text}"
        assert (refusal["details"]["deviceId"], refusal["details"]["command"]) == (device["id"], slug), r.text
        return
    assert r.status_code == 201, f"{where}: {r.status_code} {r.text}"


def test_builtin_scenarios_are_the_simulators() -> None:
    assert tuple(strategies.BUILTIN_SCENARIOS) == tuple(BUILTIN_SCENARIOS)
    assert set(strategies.SMALL_SCENARIOS) <= set(BUILTIN_SCENARIOS)


def test_device_types_are_the_contracts() -> None:
    assert set(strategies.DEVICE_TYPES) == set(contract()["components"]["schemas"]["DeviceType"]["enum"])


@given(choice=strategies.scenarios())
def test_scenarios_are_small_builtins_with_a_seed(choice: strategies.ScenarioChoice) -> None:
    assert choice.name in strategies.SMALL_SCENARIOS
    assert 0 <= choice.seed <= 2**31 - 1


@SHARED
@given(data=st.data())
def test_every_drawn_command_is_valid_and_accepted(fleet: Fleet, data: st.DataObject) -> None:
    device = data.draw(strategies.devices([d for d in fleet.listed if d["availableCommands"]]), label="device")
    slug, inp = data.draw(strategies.commands(device), label="command")
    assert slug in {c["slug"] for c in device["availableCommands"]}
    offered = next(c["input"] for c in device["availableCommands"] if c["slug"] == slug)
    assert jsonschema_rs.Draft202012Validator(offered).is_valid(inp), (slug, inp, offered)
    judge(fleet, device, slug, inp)


@SHARED
@given(data=st.data())
def test_every_drawn_setpoint_is_valid_and_accepted(fleet: Fleet, data: st.DataObject) -> None:
    device = data.draw(strategies.devices(fleet.listed, type="thermostat", command="thermostat:set-operating-mode"))
    judge(fleet, device, "thermostat:set-operating-mode", data.draw(strategies.setpoints()))


@given(inp=strategies.setpoints(mode="auto"))
def test_auto_setpoints_keep_the_contracts_gap(inp: dict[str, Any]) -> None:
    assert inp["operatingMode"] == "auto"
    assert inp["coolTarget"] - inp["heatTarget"] >= 3


def test_devices_filters_by_type_and_command(fleet: Fleet) -> None:
    listed = fleet.listed

    @given(d=strategies.devices(listed, type="battery", command="battery:set-storm-mode"))
    def storm_capable_batteries(d: dict[str, Any]) -> None:
        assert d["type"] == "battery"
        assert "battery:set-storm-mode" in {c["slug"] for c in d["availableCommands"]}

    storm_capable_batteries()
    with pytest.raises(ValueError, match="no device of type 'inverter' accepting 'battery:set-reserve'"):
        strategies.devices(listed, type="inverter", command="battery:set-reserve")
    with pytest.raises(ValueError, match="accepts no command"):
        strategies.commands(next(d for d in listed if d["type"] == "inverter"))
