"""contracts/openapi/unified.yaml is a sound OpenAPI 3.1 document that says what the route table says.

Structural checks only (no server): it loads in schemathesis, every ``$ref`` resolves, the operations are
exactly those of the unified API's route table (gridtwin issue 4) with their statuses, every 2xx and request
body has examples that validate, every create and command links onward for the stateful phase, and the
request and response shapes mirror ``gridtwin.fixtures.unified.schemas`` (field names, bounds, strictness)
and ``model.py`` (command inputs, state fields).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import yaml
from pydantic import BaseModel
from schemathesis.core.result import Ok

from gridtwin.fixtures.unified import program_schemas as programs
from gridtwin.fixtures.unified import schedule_schemas as schedules
from gridtwin.fixtures.unified import schemas as wire
from gridtwin.fixtures.unified.model import COMMANDS, STATE_FIELDS
from gridtwin.fixtures.unified.routers import connections

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "openapi" / "unified.yaml"

CMD = ((200, 201), (400, 401, 403, 404, 409, 422, 429))
# operationId -> (method, path, success statuses, error statuses): the route table, verbatim
TABLE: dict[str, tuple[str, str, tuple[int, ...], tuple[int, ...]]] = {
    "listDevices": ("GET", "/v1/devices", (200,), (400, 401, 403)),
    "getDevice": ("GET", "/v1/devices/{deviceId}", (200,), (401, 403, 404)),
    "deleteDevice": ("DELETE", "/v1/devices/{deviceId}", (204,), (401, 403, 404)),
    "getDeviceHistory": ("GET", "/v1/devices/{deviceId}/history", (200,), (400, 401, 403, 404)),
    "listDeviceCommands": ("GET", "/v1/devices/{deviceId}/commands", (200,), (400, 401, 403, 404)),
    "getDeviceTags": ("GET", "/v1/devices/{deviceId}/tags", (200,), (401, 403, 404)),
    "setDeviceTags": ("PUT", "/v1/devices/{deviceId}/tags", (200,), (400, 401, 403, 404)),
    "listTags": ("GET", "/v1/tags", (200,), (400, 401, 403)),
    "listTagDevices": ("GET", "/v1/tags/{tag}/devices", (200,), (400, 401, 403)),
    "batterySetReserve": ("POST", "/v1/commands/battery/set-reserve", *CMD),
    "batterySetOperatingMode": ("POST", "/v1/commands/battery/set-operating-mode", *CMD),
    "batterySetStormMode": ("POST", "/v1/commands/battery/set-storm-mode", *CMD),
    "thermostatSetOperatingMode": ("POST", "/v1/commands/thermostat/set-operating-mode", *CMD),
    "thermostatSetFanMode": ("POST", "/v1/commands/thermostat/set-fan-mode", *CMD),
    "chargerSetOperatingMode": ("POST", "/v1/commands/charger/set-operating-mode", *CMD),
    "chargerSetCurrentLimit": ("POST", "/v1/commands/charger/set-current-limit", *CMD),
    "vehicleSetOperatingMode": ("POST", "/v1/commands/vehicle/set-operating-mode", *CMD),
    "vehicleSetChargeLimit": ("POST", "/v1/commands/vehicle/set-charge-limit", *CMD),
    "getCommand": ("GET", "/v1/commands/{commandId}", (200,), (401, 403, 404)),
    "createSite": ("POST", "/v1/sites", (201,), (400, 401, 403, 404, 409)),
    "listSites": ("GET", "/v1/sites", (200,), (400, 401, 403)),
    "getSite": ("GET", "/v1/sites/{siteId}", (200,), (400, 401, 403, 404)),
    "updateSite": ("PATCH", "/v1/sites/{siteId}", (200,), (400, 401, 403, 404, 409)),
    "deleteSite": ("DELETE", "/v1/sites/{siteId}", (204,), (401, 403, 404)),
    "linkSiteDevices": ("POST", "/v1/sites/{siteId}/devices", (200,), (400, 401, 403, 404)),
    "unlinkSiteDevice": ("DELETE", "/v1/sites/{siteId}/devices/{deviceId}", (200,), (401, 403, 404)),
    "createCustomer": ("POST", "/v1/customers", (201,), (400, 401, 403, 409)),
    "listCustomers": ("GET", "/v1/customers", (200,), (400, 401, 403)),
    "getCustomer": ("GET", "/v1/customers/{customerId}", (200,), (401, 403, 404)),
    "updateCustomer": ("PATCH", "/v1/customers/{customerId}", (200,), (400, 401, 403, 404, 409)),
    "deleteCustomer": ("DELETE", "/v1/customers/{customerId}", (204,), (401, 403, 404)),
    "listCustomerSites": ("GET", "/v1/customers/{customerId}/sites", (200,), (400, 401, 403, 404)),
    "linkCustomerSites": ("POST", "/v1/customers/{customerId}/sites", (200,), (400, 401, 403, 404)),
    "unlinkCustomerSite": ("DELETE", "/v1/customers/{customerId}/sites/{siteId}", (200,), (401, 403, 404)),
    "listCustomerDevices": ("GET", "/v1/customers/{customerId}/devices", (200,), (400, 401, 403, 404)),
    "linkCustomerDevices": ("POST", "/v1/customers/{customerId}/devices", (200,), (400, 401, 403, 404)),
    "unlinkCustomerDevice": ("DELETE", "/v1/customers/{customerId}/devices/{deviceId}", (200,), (401, 403, 404)),
    "getCustomerUsage": ("GET", "/v1/customers/{customerId}/usage", (200,), (400, 401, 403, 404)),
    "listCustomerActivity": ("GET", "/v1/customers/{customerId}/activity", (200,), (400, 401, 403, 404)),
    "getWorkspace": ("GET", "/v1/workspace", (200,), (401, 403)),
    "createWorkspace": ("POST", "/v1/workspaces", (201,), (400, 401, 403)),
    "listApiKeys": ("GET", "/v1/api-keys", (200,), (400, 401, 403)),
    "createApiKey": ("POST", "/v1/api-keys", (201,), (400, 401, 403)),
    "deleteApiKey": ("DELETE", "/v1/api-keys/{keyId}", (204,), (401, 403, 404)),
    "createConnection": ("POST", "/v1/connections", (200,), (400, 401, 403, 404)),
}
# /v1/contacts... is an alias of every /v1/customers... route, with `Contact` operationIds
TABLE.update({
    op_id.replace("Customers", "Contacts").replace("Customer", "Contact"):
        (method, path.replace("/v1/customers", "/v1/contacts"), ok, errors)
    for op_id, (method, path, ok, errors) in list(TABLE.items()) if path.startswith("/v1/customers")
})
EXPECTED_OPERATION_IDS = {
    "listDevices", "getDevice", "deleteDevice", "getDeviceHistory", "listDeviceCommands", "getDeviceTags",
    "setDeviceTags", "listTags", "listTagDevices",
    "batterySetReserve", "batterySetOperatingMode", "batterySetStormMode", "thermostatSetOperatingMode",
    "thermostatSetFanMode", "chargerSetOperatingMode", "chargerSetCurrentLimit", "vehicleSetOperatingMode",
    "vehicleSetChargeLimit", "getCommand",
    "createSite", "listSites", "getSite", "updateSite", "deleteSite", "linkSiteDevices", "unlinkSiteDevice",
    "createCustomer", "listCustomers", "getCustomer", "updateCustomer", "deleteCustomer", "listCustomerSites",
    "linkCustomerSites", "unlinkCustomerSite", "listCustomerDevices", "linkCustomerDevices", "unlinkCustomerDevice",
    "getCustomerUsage", "listCustomerActivity",
    "createContact", "listContacts", "getContact", "updateContact", "deleteContact", "listContactSites",
    "linkContactSites", "unlinkContactSite", "listContactDevices", "linkContactDevices", "unlinkContactDevice",
    "getContactUsage", "listContactActivity",
    "getWorkspace", "createWorkspace", "listApiKeys", "createApiKey", "deleteApiKey",
    "createConnection",
}
# programs, program instances, enrollments and leads (gridtwin issue 6)
PROGRAM_OPS: dict[str, tuple[str, str, tuple[int, ...], tuple[int, ...]]] = {
    "listPrograms": ("GET", "/v1/programs", (200,), (400, 401, 403)),
    "createProgram": ("POST", "/v1/programs", (201,), (400, 401, 403, 409)),
    "getProgram": ("GET", "/v1/programs/{programSlug}", (200,), (401, 403, 404)),
    "createProgramInstanceOfProgram": ("POST", "/v1/programs/{programSlug}/instances", (201,),
                                       (400, 401, 403, 404, 409)),
    "createProgramInstance": ("POST", "/v1/programInstances", (201,), (400, 401, 403, 404, 409)),
    "listProgramInstances": ("GET", "/v1/programInstances", (200,), (400, 401, 403)),
    "getProgramInstance": ("GET", "/v1/programInstances/{instanceId}", (200,), (401, 403, 404)),
    "updateProgramInstance": ("PATCH", "/v1/programInstances/{instanceId}", (200,), (400, 401, 403, 404, 409)),
    "deleteProgramInstance": ("DELETE", "/v1/programInstances/{instanceId}", (204,), (401, 403, 404)),
    "createInstanceEnrollment": ("POST", "/v1/programInstances/{instanceId}/enrollments", (201,),
                                 (400, 401, 403, 404, 409)),
    "listInstanceEnrollments": ("GET", "/v1/programInstances/{instanceId}/enrollments", (200,),
                                (400, 401, 403, 404)),
    "createEnrollment": ("POST", "/v1/enrollments", (201,), (400, 401, 403, 404, 409)),
    "listEnrollments": ("GET", "/v1/enrollments", (200,), (400, 401, 403)),
    "getEnrollment": ("GET", "/v1/enrollments/{enrollmentId}", (200,), (401, 403, 404)),
    "deleteEnrollment": ("DELETE", "/v1/enrollments/{enrollmentId}", (204,), (401, 403, 404)),
    "changeEnrollmentStatus": ("POST", "/v1/enrollments/{enrollmentId}/status", (200,), (400, 401, 403, 404, 409)),
    "createLead": ("POST", "/v1/leads", (201,), (400, 401, 403)),
    "listLeads": ("GET", "/v1/leads", (200,), (400, 401, 403)),
    "getLead": ("GET", "/v1/leads/{leadId}", (200,), (401, 403, 404)),
    "updateLead": ("PATCH", "/v1/leads/{leadId}", (200,), (400, 401, 403, 404)),
    "deleteLead": ("DELETE", "/v1/leads/{leadId}", (204,), (401, 403, 404)),
}
TABLE.update(PROGRAM_OPS)
EXPECTED_OPERATION_IDS |= {
    "listPrograms", "createProgram", "getProgram", "createProgramInstanceOfProgram", "createProgramInstance",
    "listProgramInstances", "getProgramInstance", "updateProgramInstance", "deleteProgramInstance",
    "createInstanceEnrollment", "listInstanceEnrollments", "createEnrollment", "listEnrollments", "getEnrollment",
    "deleteEnrollment", "changeEnrollmentStatus", "createLead", "listLeads", "getLead", "updateLead", "deleteLead",
}
COMMAND_OPS = {"batterySetReserve": "battery:set-reserve", "batterySetOperatingMode": "battery:set-operating-mode",
               "batterySetStormMode": "battery:set-storm-mode",
               "thermostatSetOperatingMode": "thermostat:set-operating-mode",
               "thermostatSetFanMode": "thermostat:set-fan-mode",
               "chargerSetOperatingMode": "charger:set-operating-mode",
               "chargerSetCurrentLimit": "charger:set-current-limit",
               "vehicleSetOperatingMode": "vehicle:set-operating-mode",
               "vehicleSetChargeLimit": "vehicle:set-charge-limit"}
DEVICE_OPS = {"getDevice", "getDeviceHistory", "listDeviceCommands", "getDeviceTags", "setDeviceTags", "deleteDevice"}
# request body schema -> the pydantic model it mirrors (Strict models forbid extra fields)
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "SiteCreate": wire.SiteIn, "SitePatch": wire.SitePatch, "CustomerInput": wire.CustomerIn, "Tags": wire.Tags,
    "DeviceIds": wire.DeviceIds, "SiteIds": wire.SiteIds, "WorkspaceCreate": wire.WorkspaceIn,
    "ApiKeyCreate": wire.ApiKeyIn, "Address": wire.Address,
    "ConnectionCreate": connections.ConnectionIn, "ConnectionCustomerInfo": connections.ConnectionCustomerInfo,
    "ConnectionLocation": connections.ConnectionLocation, "ManufacturerFilters": connections.ManufacturerFilters,
    **{name: wire.CommandIn for name in (
        "BatterySetReserveRequest", "BatterySetOperatingModeRequest", "BatterySetStormModeRequest",
        "ThermostatSetOperatingModeRequest", "ThermostatSetFanModeRequest", "ChargerSetOperatingModeRequest",
        "ChargerSetCurrentLimitRequest", "VehicleSetOperatingModeRequest", "VehicleSetChargeLimitRequest")},
}
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "Error": wire.Error, "Coordinates": wire.Coordinates, "Location": wire.Location,
    "AvailableCommand": wire.AvailableCommand, "Device": wire.DeviceOut, "Tag": wire.TagOut, "Command": wire.CommandOut,
    "Site": wire.SiteOut, "Customer": wire.CustomerOut, "EnergyTotals": wire.EnergyTotals, "UsagePart": wire.UsagePart,
    "Usage": wire.UsageOut, "Activity": wire.ActivityOut, "ApiKey": wire.ApiKeyOut, "Workspace": wire.WorkspaceOut,
}
REQUEST_MODELS.update({
    "ProgramCreate": programs.ProgramIn, "EligibilityCriteriaInput": programs.EligibilityCriteria,
    "ProgramInstanceInput": programs.ProgramInstanceIn, "ProgramInstanceCreate": programs.ProgramInstanceCreateIn,
    "ProgramInstancePatch": programs.ProgramInstancePatch, "EnrollmentAddress": programs.EnrollmentAddress,
    "EnrollmentCreate": programs.EnrollmentIn, "EnrollmentStatusChange": programs.EnrollmentStatusIn,
    "LeadCreate": programs.LeadIn, "LeadPatch": programs.LeadPatch,
})
RESPONSE_MODELS.update({
    "Program": programs.ProgramOut, "EligibilityCriteria": programs.EligibilityCriteriaOut,
    "ProgramInstance": programs.ProgramInstanceOut, "Eligibility": programs.Eligibility,
    "StatusChange": programs.StatusChange, "EnrolleeAddress": programs.EnrolleeAddressOut,
    "Enrollment": programs.EnrollmentOut, "Lead": programs.LeadOut,
})
# each create links to its reads, updates and deletes
PROGRAM_CREATES = {
    "createProgram": {"getProgram", "createProgramInstanceOfProgram", "createProgramInstance"},
    "createProgramInstanceOfProgram": {"getProgramInstance", "updateProgramInstance", "deleteProgramInstance",
                                       "createInstanceEnrollment", "listInstanceEnrollments"},
    "createProgramInstance": {"getProgramInstance", "updateProgramInstance", "deleteProgramInstance",
                              "createInstanceEnrollment", "listInstanceEnrollments"},
    "createInstanceEnrollment": {"getEnrollment", "changeEnrollmentStatus", "deleteEnrollment"},
    "createEnrollment": {"getEnrollment", "changeEnrollmentStatus", "deleteEnrollment"},
    "createLead": {"getLead", "updateLead", "deleteLead"},
}
# device schedules, tag schedules and batch commands (gridtwin issue 6)
SCHEDULE_OPS: dict[str, tuple[str, str, tuple[int, ...], tuple[int, ...]]] = {
    "listDeviceSchedules": ("GET", "/v1/devices/{deviceId}/schedules", (200,), (400, 401, 403, 404)),
    "deleteDeviceSchedules": ("DELETE", "/v1/devices/{deviceId}/schedules", (204,), (401, 403, 404)),
    "createDeviceSchedule": ("POST", "/v1/devices/{deviceId}/schedule", (201,), (400, 401, 403, 404, 422)),
    "getDeviceSchedule": ("GET", "/v1/devices/{deviceId}/schedule/{scheduleId}", (200,), (401, 403, 404)),
    "deleteDeviceSchedule": ("DELETE", "/v1/devices/{deviceId}/schedule/{scheduleId}", (204,), (401, 403, 404)),
    "createTagSchedule": ("POST", "/v1/schedules/tags/{tag}", (201,), (400, 401, 403)),
    "listTagSchedules": ("GET", "/v1/schedules/tags/{tag}", (200,), (400, 401, 403)),
    "getTagSchedule": ("GET", "/v1/schedules/tags/{tag}/{tagScheduleId}", (200,), (401, 403, 404)),
    "deleteTagSchedule": ("DELETE", "/v1/schedules/tags/{tag}/{tagScheduleId}", (204,), (401, 403, 404)),
    "createBatchCommand": ("POST", "/v1/batch-commands", (201,), (400, 401, 403, 422)),
    "listBatchCommands": ("GET", "/v1/batch-commands", (200,), (400, 401, 403)),
    "getBatchCommand": ("GET", "/v1/batch-commands/{batchId}", (200,), (401, 403, 404)),
}
TABLE.update(SCHEDULE_OPS)
EXPECTED_OPERATION_IDS |= set(SCHEDULE_OPS)
REQUEST_MODELS.update({
    "DeviceScheduleCreate": schedules.DeviceScheduleIn, "DeviceScheduleSettings": schedules.DeviceScheduleSettings,
    "ScheduleRule": schedules.ScheduleRule, "TagScheduleCreate": schedules.TagScheduleIn,
    "TagCommand": schedules.TagCommand, "TagScheduleTiming": schedules.TagScheduleTiming,
    "BatchCommandCreate": schedules.BatchCommandIn,
})
RESPONSE_MODELS.update({
    "DeviceSchedule": schedules.DeviceScheduleOut, "TagSchedule": schedules.TagScheduleOut,
    "BatchCommand": schedules.BatchCommandOut, "BatchDevice": schedules.BatchDeviceOut,
    "BatchTotals": schedules.BatchTotals,
})
SCHEDULE_CREATES = {
    "createDeviceSchedule": {"getDeviceSchedule", "listDeviceSchedules", "deleteDeviceSchedule",
                             "deleteDeviceSchedules", "listDeviceCommands"},
    "createTagSchedule": {"getTagSchedule", "listTagSchedules", "deleteTagSchedule"},
    "createBatchCommand": {"getBatchCommand", "getCommand"},
}
# webhook destinations and their delivery log (gridtwin issue 6)
DESTINATION_OPS: dict[str, tuple[str, str, tuple[int, ...], tuple[int, ...]]] = {
    "createDestination": ("POST", "/v1/destinations", (201,), (400, 401, 403)),
    "listDestinations": ("GET", "/v1/destinations", (200,), (400, 401, 403)),
    "getDestination": ("GET", "/v1/destinations/{destinationId}", (200,), (401, 403, 404)),
    "updateDestination": ("PATCH", "/v1/destinations/{destinationId}", (200,), (400, 401, 403, 404)),
    "deleteDestination": ("DELETE", "/v1/destinations/{destinationId}", (204,), (401, 403, 404)),
    "listDestinationDeliveries": ("GET", "/v1/destinations/{destinationId}/deliveries", (200,), (400, 401, 403, 404)),
    "reactivateDestination": ("POST", "/v1/destinations/{destinationId}/reactivate", (200,), (401, 403, 404)),
}
TABLE.update(DESTINATION_OPS)
EXPECTED_OPERATION_IDS |= set(DESTINATION_OPS)
REQUEST_MODELS.update({"DestinationCreate": wire.DestinationIn, "DestinationPatch": wire.DestinationPatch})
RESPONSE_MODELS.update({"Destination": wire.DestinationOut, "Delivery": wire.DeliveryOut})
DESTINATION_CREATES = {"createDestination": {"getDestination", "updateDestination", "deleteDestination",
                                             "listDestinationDeliveries", "reactivateDestination"}}
# metrics (gridtwin issue 6)
METRIC_OPS: dict[str, tuple[str, str, tuple[int, ...], tuple[int, ...]]] = {
    "getMetrics": ("GET", "/v1/metrics/{metric}", (200,), (400, 401, 403, 404, 503)),
}
TABLE.update(METRIC_OPS)
EXPECTED_OPERATION_IDS |= set(METRIC_OPS)
STATE_SCHEMAS = {"battery": "BatteryState", "inverter": "InverterState", "thermostat": "ThermostatState",
                 "charger": "ChargerState", "vehicle": "VehicleState"}
BOUNDS = ("minLength", "maxLength", "pattern", "minItems", "maxItems", "minimum", "maximum")
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))


def operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {o["operationId"]: (method.upper(), path, o)
            for path, item in doc["paths"].items() for method, o in item.items() if method in METHODS}


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow ``$ref`` chains (local JSON pointers) to the node they name."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]}, validate_formats=True)


def named_examples(doc: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    return {name: resolve(doc, e)["value"] for name, e in (media.get("examples") or {}).items()}


def props(doc: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, through ``allOf``."""
    schema = resolve(doc, schema)
    properties, required = dict(schema.get("properties", {})), set(schema.get("required", ()))
    for part in schema.get("allOf", ()):
        p, r = props(doc, part)
        properties = {**p, **properties}
        required |= r
    return properties, required


def bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """The bound keywords of a (pydantic or contract) property schema, through anyOf branches."""
    found = {k: schema[k] for k in BOUNDS if k in schema}
    for branch in schema.get("anyOf", ()):
        found.update(bounds(branch))
    return found


# -- the document as a whole ---------------------------------------------------------------------------


def test_loads_in_schemathesis_as_openapi_3_1(doc: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_path(str(CONTRACT))
    results = list(schema.get_all_operations())
    failed = [r.err() for r in results if not isinstance(r, Ok)]
    assert not failed, failed
    assert len(results) == len(EXPECTED_OPERATION_IDS) == len(TABLE)
    assert doc["openapi"] == "3.1.0"
    assert [s["url"] for s in doc["servers"]] == ["/"]
    assert all(path.startswith("/v1/") for path in doc["paths"])
    assert doc["components"]["securitySchemes"]["TextureApiKey"] == {
        **doc["components"]["securitySchemes"]["TextureApiKey"], "type": "apiKey", "in": "header",
        "name": "Texture-Api-Key"}
    assert doc["security"] == [{"TextureApiKey": []}]
    assert all("security" not in o for _, _, o in operations(doc).values()), "every operation needs the key"
    schema.as_state_machine()  # every link names a real operation and real parameters


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    unresolved = []
    for ref in set(refs):
        try:
            resolve(doc, {"$ref": ref})
        except (KeyError, TypeError):
            unresolved.append(ref)
    assert not unresolved


def test_every_example_validates_against_its_schema(doc: dict[str, Any]) -> None:
    checked, problems = 0, []
    for op_id, (_, _, o) in operations(doc).items():
        medias = [("request", o["requestBody"]["content"]["application/json"])] if "requestBody" in o else []
        for status, response in o["responses"].items():
            media = (resolve(doc, response).get("content") or {}).get("application/json")
            if media:
                medias.append((status, media))
        for where, media in medias:
            v = validator(doc, media["schema"])
            for name, value in named_examples(doc, media).items():
                checked += 1
                problems += [f"{op_id} {where} {name}: {e}" for e in v.iter_errors(value)]
        for p in o.get("parameters", ()):
            p = resolve(doc, p)
            if "example" in p:
                checked += 1
                problems += [f"{op_id} {p['name']}: {e}" for e in validator(doc, p["schema"]).iter_errors(p["example"])]
    assert checked > 100
    assert not problems, "\n".join(problems)


# -- the route table ------------------------------------------------------------------------------------


def test_operation_ids_are_unique_and_exactly_the_tables(doc: dict[str, Any]) -> None:
    ids = [o["operationId"] for item in doc["paths"].values() for m, o in item.items() if m in METHODS]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_OPERATION_IDS == set(TABLE)


@pytest.mark.parametrize("op_id", sorted(TABLE))
def test_operation_has_the_tables_path_method_and_statuses(doc: dict[str, Any], op_id: str) -> None:
    method, path, ok, errors = TABLE[op_id]
    got_method, got_path, o = operations(doc)[op_id]
    assert (got_method, got_path) == (method, path)
    statuses = {int(s) for s in o["responses"]}
    assert 401 in statuses
    assert statuses == set(ok) | set(errors)
    for status in errors:
        response = resolve(doc, o["responses"][str(status)])
        media = response["content"]["application/json"]
        error_schema = resolve(doc, media["schema"])
        assert error_schema.get("allOf", [{}])[0] == {"$ref": "#/components/schemas/Error"}, (op_id, status)
        assert named_examples(doc, media), (op_id, status)
    if 429 in errors:
        assert resolve(doc, o["responses"]["429"])["headers"]["Retry-After"]["required"] is True
    for status in ok:
        response = o["responses"][str(status)]
        if status == 204:
            assert "content" not in response
            continue
        media = response["content"]["application/json"]
        assert named_examples(doc, media), f"{op_id} {status} has no named example"
    if "requestBody" in o:
        assert o["requestBody"]["required"] is True
        assert named_examples(doc, o["requestBody"]["content"]["application/json"]), f"{op_id} body has no example"
    assert set(re.findall(r"{(\w+)}", path)) == {
        resolve(doc, p)["name"] for p in o.get("parameters", ()) if resolve(doc, p)["in"] == "path"}


def test_lists_are_paginated(doc: dict[str, Any]) -> None:
    page = doc["components"]["parameters"]["page"]["schema"]
    per_page = doc["components"]["parameters"]["perPage"]["schema"]
    assert (page["minimum"], page["default"]) == (1, 1)
    assert (per_page["minimum"], per_page["maximum"], per_page["default"]) == (1, 100, 20)
    lists = 0
    for op_id, (_, _, o) in operations(doc).items():
        schema = o["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").endswith("Page"):
            lists += 1
            names = {resolve(doc, p)["name"] for p in o.get("parameters", ())}
            assert {"page", "perPage"} <= names, op_id
            _, required = props(doc, schema)
            assert required == {"data", "page", "perPage", "totalItems", "totalPages"}, op_id
    assert lists == 15 + 5 + 3 + 2  # + programs, program instances, enrollments (twice), leads; + schedules;
    # + destinations and their deliveries


def test_commands_take_an_idempotency_key_and_their_catalogue_input(doc: dict[str, Any]) -> None:
    header = doc["components"]["parameters"]["IdempotencyKey"]
    assert (header["name"], header["in"], header["required"]) == ("Idempotency-Key", "header", False)
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 200)
    ops = operations(doc)
    for op_id, slug in COMMAND_OPS.items():
        _, path, o = ops[op_id]
        assert path == "/v1/commands/" + slug.replace(":", "/")
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in o["parameters"]
        body = resolve(doc, o["requestBody"]["content"]["application/json"]["schema"])
        assert body["required"] == ["deviceId", "input"] and body["additionalProperties"] is False
        assert strip(resolve(doc, body["properties"]["input"])) == strip(COMMANDS[slug].input_schema), slug
    assert set(COMMAND_OPS.values()) == set(COMMANDS)


def strip(schema: Any) -> Any:
    """A JSON Schema without descriptions and patterns (the contract keeps vehicle:set-charge-limit's string
    form to 0-100, where model.py's pattern admits up to 999)."""
    if isinstance(schema, dict):
        return {k: strip(v) for k, v in schema.items() if k not in ("description", "pattern")}
    if isinstance(schema, list):
        return [strip(v) for v in schema]
    return schema


# -- links for the stateful phase -----------------------------------------------------------------------


def links_of(o: dict[str, Any], status: str) -> dict[str, str]:
    return {name: link["operationId"] for name, link in o["responses"][status].get("links", {}).items()}


def test_every_create_links_to_its_reads_updates_and_deletes(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    created = {op_id for op_id, (method, _, o) in ops.items() if method == "POST" and "201" in o["responses"]}
    assert created == {"createSite", "createCustomer", "createContact", "createWorkspace", "createApiKey",
                       *COMMAND_OPS, *PROGRAM_CREATES, *SCHEDULE_CREATES, *DESTINATION_CREATES}
    for op_id in created:
        assert links_of(ops[op_id][2], "201"), op_id
    assert set(links_of(ops["createSite"][2], "201").values()) >= {
        "getSite", "updateSite", "deleteSite", "linkSiteDevices", "unlinkSiteDevice"}
    for customer in ("Customer", "Contact"):
        want = {f"get{customer}", f"update{customer}", f"delete{customer}", f"list{customer}Sites",
                f"link{customer}Sites", f"unlink{customer}Site", f"list{customer}Devices", f"link{customer}Devices",
                f"unlink{customer}Device", f"get{customer}Usage", f"list{customer}Activity"}
        assert set(links_of(ops[f"create{customer}"][2], "201").values()) >= want, customer
    assert "deleteApiKey" in links_of(ops["createApiKey"][2], "201").values()
    for op_id, want in {**PROGRAM_CREATES, **SCHEDULE_CREATES, **DESTINATION_CREATES}.items():
        assert set(links_of(ops[op_id][2], "201").values()) >= want, op_id
    for op_id in COMMAND_OPS:
        for status in ("201", "200"):
            link = ops[op_id][2]["responses"][status]["links"]
            assert link["GetCommand"] == {"operationId": "getCommand",
                                          "parameters": {"commandId": "$response.body#/id"}}
            assert link["GetDevice"] == {"operationId": "getDevice",
                                         "parameters": {"deviceId": "$response.body#/deviceId"}}
    for op_id, expr in (("listDevices", "$response.body#/data/0/id"), ("getDevice", "$response.body#/id")):
        links = ops[op_id][2]["responses"]["200"]["links"]
        targets = {link["operationId"]: link for link in links.values()}
        assert set(targets) >= (DEVICE_OPS - {op_id}) | set(COMMAND_OPS), op_id
        for target in DEVICE_OPS - {op_id}:
            assert targets[target]["parameters"] == {"deviceId": expr}, (op_id, target)


def test_no_link_lets_a_list_revoke_the_callers_own_key(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    assert not ops["listApiKeys"][2]["responses"]["200"].get("links")


# -- shapes mirror the pydantic models and the device model ------------------------------------------------


@pytest.mark.parametrize("name", sorted(REQUEST_MODELS))
def test_request_body_mirrors_its_model(doc: dict[str, Any], name: str) -> None:
    model = REQUEST_MODELS[name]
    schema = doc["components"]["schemas"][name]
    strict = model.model_config.get("extra") == "forbid"
    assert strict, f"{model.__name__} is a request body, so it is Strict"
    assert schema.get("additionalProperties") is False, name
    mine, required = props(doc, schema)
    theirs = model.model_json_schema(ref_template="#/$defs/{model}")
    assert set(mine) == set(theirs["properties"]), name
    assert required >= set(theirs.get("required", ())), name
    for field, spec in theirs["properties"].items():
        want = bounds(spec)
        got = bounds(resolve(doc, mine[field]))
        assert got == want, (name, field)
        nullable = any(b.get("type") == "null" for b in spec.get("anyOf", ()))
        assert accepts_null(doc, mine[field]) == nullable, (name, field)


def accepts_null(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = resolve(doc, schema)
    types = schema.get("type", ())
    return "null" in (types if isinstance(types, list) else [types]) or any(
        accepts_null(doc, b) for b in schema.get("anyOf", ()))


@pytest.mark.parametrize("name", sorted(RESPONSE_MODELS))
def test_response_schema_mirrors_its_model(doc: dict[str, Any], name: str) -> None:
    model = RESPONSE_MODELS[name]
    mine, required = props(doc, doc["components"]["schemas"][name])
    fields = model.model_fields
    assert set(mine) == set(fields), name
    assert required == {f for f, info in fields.items() if info.is_required()}, name


def test_state_schemas_have_every_state_field_required_and_nullable(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for device_type, name in STATE_SCHEMAS.items():
        properties, required = props(doc, schemas[name])
        assert list(properties) == ["id", "createdAt", *STATE_FIELDS[device_type]], name
        assert required == set(properties), name
        for field in STATE_FIELDS[device_type]:
            assert accepts_null(doc, properties[field]), (name, field)
    assert [r["$ref"].rsplit("/", 1)[1] for r in schemas["DeviceState"]["anyOf"]] == list(
        dict.fromkeys(STATE_SCHEMAS[t] for t in ("battery", "inverter", "thermostat", "charger", "vehicle")))


def test_units_and_signs_are_written_down(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    battery = schemas["BatteryState"]["properties"]
    assert "positive when discharging" in battery["chargeRate"]["description"]
    assert "positive when importing" in battery["gridPower"]["description"]
    assert "positive when importing" in schemas["InverterState"]["properties"]["gridPower"]["description"]
    assert schemas["InverterState"]["properties"]["power"]["minimum"] == 0
    for field in ("ambientTemperature", "heatTarget", "coolTarget"):
        assert "°F" in schemas["ThermostatState"]["properties"][field]["description"]
    assert "miles" in schemas["VehicleState"]["properties"]["range"]["description"]
    assert "W" in battery["chargeRate"]["description"] and "Wh" in battery["charge"]["description"]
