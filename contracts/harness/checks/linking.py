"""The ``linking`` check: customers, sites and devices are linked as the contract documents, and
workspaces and scoped keys never see each other's data.

1. a customer's devices are exactly those of the vendor accounts linked to them (every customer whose
   ``referenceId`` is a simulated home: the sandbox links each home's accounts to one), in all three
   views the API gives (``_linking_ownership``);
2. auto-linking by referenceId and address, and dedupe by email, referenceId and address
   (``_linking_lifecycle``);
3. a customer's usage is the sum of its parts, each part the integral of its device's history;
4. deleting a customer unlinks their site and device and deletes neither;
5. another workspace's key gets 404 for this workspace's ids and empty lists; a scoped key sees only its
   referenceId's devices and gets 403 elsewhere (``_linking_isolation``).

Everything the check creates carries seeded, fresh identities and is deleted again; the one
pre-connected device it borrows is linked back to its own site and customer.
"""

from __future__ import annotations

from ..engine import Context
from ._linking_isolation import other_workspace, scoped_key
from ._linking_lifecycle import Made, auto_linking, delete_unlinks
from ._linking_ownership import customers_own_their_devices, usage_adds_up
from ._linking_world import Names, Snapshot

NAME = "linking"


def run(ctx: Context) -> None:
    snap = Snapshot.read(ctx)
    ctx.progress("customers own their accounts' devices")
    customers_own_their_devices(ctx, snap)
    ctx.progress("usage adds up")
    usage_adds_up(ctx, snap)
    names = Names(ctx)
    made = Made()
    try:
        ctx.progress("auto-linking")
        auto_linking(ctx, names, made)
        ctx.progress("delete unlinks, never deletes")
        delete_unlinks(ctx, snap, names, made)
    finally:
        made.cleanup(ctx)
    ctx.progress("workspace isolation")
    other_workspace(ctx, snap, names)
    ctx.progress("scoped keys")
    scoped_key(ctx, snap, names)
    ctx.note(f"{len(snap.home_customers)} pre-connected customers judged; run identities {names.tag}")
