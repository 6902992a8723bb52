"""The ``schedules`` check: schedules fire at their edges on the simulated clock, and a batch command by tag
reaches exactly the compatible devices.

1. **Device schedules.** A battery and a thermostat each get a one-rule schedule whose edges are a few
   simulated minutes ahead, written on the local clock of the home the device is in (from the control
   plane) and sent without ``deviceTimezone``: the API must take the site's time zone, and say so, and
   name the rising edge as ``nextEdgeAt``. The clock then crosses both edges: before each, no command;
   within a minute after it, exactly one command with the mode now in force (the rule's at the rising
   edge, the default at the falling one); once it settles, ``completed`` and the device's truth shows
   that mode. The control plane's event log must show vendor writes to the scheduled devices only.
   The default mode is the device's own settings from before, so the falling edge puts it back.
2. **Batch command.** See ``_schedules_batch``.

Restores what it changed: its schedules are deleted, its tag removed, the fans set back.
"""

from __future__ import annotations

from typing import Any

from ..engine import Context
from ._schedules_batch import BatchRun
from ._schedules_edges import EdgeRun, iso
from ._schedules_plan import choose, edges

NAME = "schedules"


def run(ctx: Context) -> None:
    ctx.progress("choosing a battery and a thermostat")
    listed = ctx.api.pages("/v1/devices")
    subjects, notes = choose(listed, ctx.sim, lambda device_id: _has_active_schedule(ctx, device_id),
                             lambda site_id: _site_timezone(ctx, site_id))
    for n in notes:
        ctx.note(n)
    stamp = int(ctx.sim.now_s())
    rising, falling = edges(ctx.sim.now_s(), [s.timezone for s in subjects])
    schedules = EdgeRun(ctx, subjects, rising, falling)
    try:
        schedules.run()
    finally:
        schedules.restore()
    for s in subjects:
        for n in s.notes:
            ctx.note(n)
    ctx.progress("batch command by tag")
    batch = BatchRun(ctx, listed, f"gridtwin-schedules-{ctx.seed}-{stamp}")
    try:
        batch.run()
    finally:
        batch.restore()
    ctx.note(f"scheduled {', '.join(s.label() for s in subjects) or 'nothing'}; edges {iso(rising)} and "
             f"{iso(falling)}; batch over {len(batch.members)} tagged devices")


def _has_active_schedule(ctx: Context, device_id: str) -> bool:
    """Whether the device has an active schedule of its own (the check never replaces one)."""
    r = ctx.api.get(f"/v1/devices/{device_id}/schedules", params={"perPage": 100})
    body: Any = r.json() if r.status_code == 200 else None
    return isinstance(body, dict) and any(s.get("status") == "active" for s in body.get("data") or [])


def _site_timezone(ctx: Context, site_id: str) -> str | None:
    r = ctx.api.get(f"/v1/sites/{site_id}")
    body: Any = r.json() if r.status_code == 200 else None
    return body.get("timezone") if isinstance(body, dict) else None
