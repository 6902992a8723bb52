"""Helpers the check tests share: run one check against a world, and snapshot what later checks read."""

from __future__ import annotations

from typing import Any

from gridtwin.contracts.harness import CheckResult, run
from gridtwin.contracts.harness.http import Counter, Http
from gridtwin.fixtures.servers import RunningWorld


def one_check(running: RunningWorld, name: str, *, seed: int, max_examples: int | None = None) -> CheckResult:
    """The result of check ``name`` (it must not have crashed)."""
    result = run(running.target(), [name], seed=seed, max_examples=max_examples).results[0]
    assert result.error is None, result.error
    return result


def snapshot(running: RunningWorld) -> dict[str, Any]:
    """Each device's site, customer and referenceId; each customer's and site's identity and links; the keys."""
    api = Http("api", running.base_url, headers={"Texture-Api-Key": running.api_key}, counter=Counter(),
               timeout_s=30)
    try:
        return {
            "devices": {d["id"]: (d["siteId"], d["customerId"], d["referenceId"]) for d in api.pages("/v1/devices")},
            "customers": {c["id"]: (c["referenceId"], c["email"], sorted(c["deviceIds"]), sorted(c["siteIds"]))
                          for c in api.pages("/v1/customers")},
            "sites": {s["id"]: (s["referenceId"], s["customerId"], sorted(s["deviceIds"]), s["address"])
                      for s in api.pages("/v1/sites")},
            "keys": {k["id"] for k in api.pages("/v1/api-keys")},
        }
    finally:
        api.close()
