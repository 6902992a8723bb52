"""What the enrollments check sets up, and tears down whatever happens.

* :class:`Names`: seeded, collision-free identities (a rerun with the same seed moves past leftovers);
* :class:`Made`: every record the check created, deleted again at the end (enrollments, instances, leads,
  customers; a program only when the API had none, since the contract has no way to delete one);
* :class:`World`: the program, two instances of it open to the run's state (``automatic`` and ``manual``
  evaluation), the customer whose activity feed shows the events, and a lead with everything an
  enrollment needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Context, contract
from ._linking_world import call, expect

# the run's enrollees live where the contract's own example address is; "elsewhere" is another state
ELSEWHERE = {"streetOne": "88 Pine Street", "city": "Seattle", "state": "WA", "postalCode": "98101", "country": "US"}
REQUIRED = ("firstName", "lastName", "email", "address.streetOne", "address.city", "address.state",
            "address.postalCode")

INSTANCES = "POST /v1/programs/{programSlug}/instances"
PROGRAMS = "GET /v1/programs"


class Names:
    """Fresh emails, referenceIds and slugs from the seed, past any a previous run left behind."""

    def __init__(self, ctx: Context) -> None:
        base = f"gridtwin-enrollments-{ctx.seed}-{ctx.rng.getrandbits(24):06x}"
        self.tag = base
        for n in range(50):
            self.tag = f"{base}-{n}"
            r = ctx.api.get("/v1/leads", params={"email": self.email("lead")})
            if r.status_code != 200 or not r.json().get("totalItems"):
                break
        self._n = 0

    def email(self, label: str) -> str:
        return f"{self.tag}.{label}@example.com"

    def slug(self, label: str) -> str:
        return f"{self.tag}-{label}"

    def fresh(self) -> str:
        """A new label (for a person no one has enrolled yet)."""
        self._n += 1
        return f"p{self._n}"

    def address(self, label: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
        """A street of the run's own (people are matched by address too) in the city of ``where``
        (default: the contract's own example address, which any implementation takes)."""
        city = where or home()
        return {"streetOne": f"{sum(map(ord, label)) % 900 + 100} {self.tag.replace('-', ' ').title()} "
                f"{label.upper()} Lane", "city": city["city"], "state": city["state"],
                "postalCode": city["postalCode"], "country": "US"}

    def person(self, label: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
        """customerInfo fields of a complete person."""
        return {"firstName": "Enrollment", "lastName": label.title(), "email": self.email(label),
                "address": self.address(label, where)}

    def lead(self, label: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
        """A lead with every detail an enrollment needs."""
        a = self.address(label, where)
        return {"email": self.email(label), "firstName": "Lead", "lastName": label.title(), "address1": a["streetOne"],
                "city": a["city"], "state": a["state"], "postalCode": a["postalCode"], "country": "US"}


def home() -> dict[str, str]:
    """The contract's own example address (createSite's ``addressOnly``): its city, state and ZIP code."""
    media = contract()["paths"]["/v1/sites"]["post"]["requestBody"]["content"]["application/json"]
    return dict(media["examples"]["addressOnly"]["value"]["address"])


@dataclass
class Made:
    """What the run created, deleted at the end whatever happened (children first)."""

    enrollments: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)

    def cleanup(self, ctx: Context) -> None:
        for path, ids in (("/v1/enrollments", self.enrollments), ("/v1/programInstances", self.instances),
                          ("/v1/leads", self.leads), ("/v1/customers", self.customers)):
            for ident in dict.fromkeys(ids):
                ctx.api.delete(f"{path}/{ident}")
            ids.clear()


@dataclass
class World:
    names: Names
    program: dict[str, Any]
    auto: str  # instance id: evaluation automatic, open to the run's state, no device needed
    manual: str  # instance id: the same criteria, evaluation manual
    customer: dict[str, Any]  # the enrollee whose activity feed the check reads
    lead: dict[str, Any]  # a lead with every detail an enrollment needs


def setup(ctx: Context, made: Made) -> World | None:
    names = Names(ctx)
    program = _program(ctx, names)
    if program is None:
        return None
    state = home()["state"]
    instances = []
    for evaluation in ("automatic", "manual"):
        a = call(ctx.api, "POST", f"/v1/programs/{program['slug']}/instances", INSTANCES, body={
            "slug": names.slug(evaluation), "name": f"gridtwin enrollments check ({evaluation})",
            "eligibilityCriteria": {"states": [state], "deviceTypes": [], "evaluation": evaluation}})
        if not expect(ctx, a, 201, f"program {program['slug']}", "creating a program instance failed"):
            return None
        made.instances.append(a.body["id"])
        instances.append(a.body["id"])
    c = call(ctx.api, "POST", "/v1/customers", "POST /v1/customers", body={
        "referenceId": names.slug("customer"), **names.person("customer")})
    if not expect(ctx, c, 201, names.email("customer"), "creating the run's customer failed"):
        return None
    made.customers.append(c.body["id"])
    lead = call(ctx.api, "POST", "/v1/leads", "POST /v1/leads", body=names.lead("lead"))
    if not expect(ctx, lead, 201, names.email("lead"), "creating a lead with every detail failed"):
        return None
    made.leads.append(lead.body["id"])
    return World(names, program, instances[0], instances[1], c.body, lead.body)


def _program(ctx: Context, names: Names) -> dict[str, Any] | None:
    """The first active program (a built-in one first, then by slug); one of the run's own when there is none."""
    a = call(ctx.api, "GET", "/v1/programs", PROGRAMS, params={"perPage": 100})
    if not expect(ctx, a, 200, "programs", "the programs could not be listed"):
        return None
    active = sorted((p for p in a.body.get("data") or [] if p.get("active")),
                    key=lambda p: (not p.get("builtIn"), str(p.get("slug"))))
    if active:
        return active[0]
    made = call(ctx.api, "POST", "/v1/programs", "POST /v1/programs", body={
        "slug": names.slug("program"), "name": "gridtwin enrollments check", "states": [home()["state"]]})
    if not expect(ctx, made, 201, names.slug("program"), "the API lists no program and creating one failed"):
        return None
    ctx.note(f"the API listed no active program: the run created {made.body['slug']} (programs cannot be deleted)")
    return dict(made.body)
