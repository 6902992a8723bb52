"""What the linking check knows before it starts, and the small tools its parts share.

* :class:`Snapshot`: the API's devices and customers and the control plane's homes and vendor accounts,
  read once (the world the sandbox pre-connected: each home's accounts linked to a customer whose
  ``referenceId`` is the home's id);
* :func:`call` and :func:`expect`: one request with its curl line, and "this status or a failure";
* :class:`Names`: seeded, collision-free identities for what the check creates (a rerun against the same
  server with the same seed moves on to fresh ones instead of tripping over leftovers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Context, contract
from ..http import Http
from ..sim import SimDevice

Key = tuple[str, str, str]  # (manufacturer, manufacturerDeviceId, type)
PER_PAGE = 100


@dataclass(frozen=True)
class Answer:
    operation: str
    status: int
    body: Any
    curl: str


def call(client: Http, method: str, path: str, operation: str, *, body: Any = None,
         params: dict[str, Any] | None = None) -> Answer:
    r = client.request(method, path, params=params, json_body=body)
    try:
        data = r.json() if r.content else None
    except ValueError:
        data = r.text[:300]
    return Answer(operation, r.status_code, data, client.last_curl)


def expect(ctx: Context, a: Answer, status: int, subject: str, what: str) -> bool:
    """Record a failure unless ``a`` has ``status``; whether it had."""
    if a.status == status:
        return True
    ctx.fail(a.operation, what, expected=f"HTTP {status}", observed=f"HTTP {a.status}: {str(a.body)[:300]}",
             subject=subject, curl=a.curl)
    return False


def key_of(device: dict[str, Any]) -> Key:
    return (str(device.get("manufacturer")), str(device.get("manufacturerDeviceId")), str(device.get("type")))


@dataclass
class Snapshot:
    devices: dict[str, dict[str, Any]]  # the API's devices by id
    customers: dict[str, dict[str, Any]]  # the API's customers by id
    sims: dict[Key, SimDevice]  # truth devices by key
    accounts: list[dict[str, Any]]  # the control plane's vendor accounts, flattened
    homes: dict[str, dict[str, Any]]  # sim home id -> home
    home_customers: list[dict[str, Any]] = field(default_factory=list)  # customers whose referenceId is a home

    @classmethod
    def read(cls, ctx: Context) -> Snapshot:
        devices = {d["id"]: d for d in ctx.api.pages("/v1/devices", per_page=PER_PAGE)}
        customers = {c["id"]: c for c in ctx.api.pages("/v1/customers", per_page=PER_PAGE)}
        homes = {h["home_id"]: h for h in ctx.sim.homes()}
        accounts = [a for v in ctx.sim.accounts().get("vendors") or [] for a in v.get("accounts") or []]
        snap = cls(devices, customers, ctx.sim.by_key(), accounts, homes)
        snap.home_customers = sorted((c for c in customers.values() if c.get("referenceId") in homes),
                                     key=lambda c: str(c["id"]))
        return snap

    def supported_vendors(self) -> set[str]:
        """Vendors the API serves at all (it lists at least one of their devices)."""
        return {str(d.get("manufacturer")) for d in self.devices.values()}

    def keys_of_home(self, home_id: str) -> dict[Key, str]:
        """The devices of a home's vendor accounts (vendors the API serves): key -> truth device id.

        Read from the device map, not the accounts' device lists: a vehicle belongs to the account of
        the charger it reports through without being one of that account's listed devices.
        """
        served = self.supported_vendors()
        accounts = {a["account_id"] for a in self.accounts if a.get("home_id") == home_id}
        return {k: s.device_id for k, s in self.sims.items() if s.account_id in accounts and s.vendor in served}


def customer_text(c: dict[str, Any]) -> str:
    return f"customer {c.get('id')} (referenceId {c.get('referenceId')})"


def device_text(d: dict[str, Any]) -> str:
    return f"device {d.get('id')} ({d.get('manufacturer')} {d.get('type')} {d.get('manufacturerDeviceId')})"


def _listed(client: Http, path: str, params: dict[str, Any]) -> bool:
    r = client.get(path, params=params)
    return r.status_code == 200 and bool(r.json().get("totalItems"))


class Names:
    """Fresh referenceIds, emails and addresses for the run's own customers and sites.

    Derived from the seed (the same seed asks the same questions) plus a counter that moves past any
    identity a previous run left behind (a customer or site already holding the first referenceId).
    """

    def __init__(self, ctx: Context) -> None:
        base = f"gridtwin-linking-{ctx.seed}-{ctx.rng.getrandbits(24):06x}"
        self.tag = base
        self._street = ctx.rng.randrange(100, 9000)
        for n in range(50):
            self.tag = f"{base}-{n}"
            marker = self.reference("a")
            taken = any(_listed(ctx.api, path, {"referenceId": marker}) for path in ("/v1/customers", "/v1/sites"))
            if not taken:
                break

    def reference(self, label: str) -> str:
        return f"{self.tag}-{label}"

    def email(self, label: str) -> str:
        return f"{self.tag}.{label}@example.com"

    def address(self, label: str) -> dict[str, Any]:
        """A new street in the city of the contract's own example address (any geocoder places that)."""
        example = contract()["paths"]["/v1/sites"]["post"]["requestBody"]["content"]["application/json"]
        where = example["examples"]["addressOnly"]["value"]["address"]
        number = self._street + sum(map(ord, label))
        return {"streetOne": f"{number} {self.tag.replace('-', ' ').title()} {label.upper()} Lane",
                "city": where["city"], "state": where["state"], "postalCode": where["postalCode"], "country": "US"}
