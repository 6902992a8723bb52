"""The ``enrollments`` check: programs take enrollments as the contract documents, and the enrollment
status machine allows exactly its moves.

1. who may enroll (``_enrollments_people``): by ``leadId``, ``customerId`` and ``customerInfo`` (a new
   person becomes a customer, a known email matches theirs), eligibility from the instance's criteria
   (``automatic`` and ``manual``), one active enrollment per person and instance, 404 for unknown ids;
2. missing fields: a 400 listing exactly the fields left out (each required one alone, and seeded
   subsets), for a request and for a lead that lacks details; nothing is created;
3. the status machine (``_enrollments_machine``): a sweep through every status asking for every
   forbidden move, then Hypothesis-drawn sequences; legal moves apply and stick, illegal ones are 409
   naming the current status and change nothing;
4. events: each enrollment's customer's activity feed holds one ``enrollment.created`` and one event per
   applied move, of the contract's type, with the status reached.

It works in a program instance pair of its own (made from the first active program, or a program of its
own when the API lists none) with a customer and leads of its own, and deletes all of them at the end.
"""

from __future__ import annotations

from ..engine import Context
from ._enrollments_machine import Judge, sequences, sweep
from ._enrollments_people import identification, missing_fields
from ._enrollments_world import Made, setup

NAME = "enrollments"


def run(ctx: Context) -> None:
    made = Made()
    try:
        ctx.progress("setting up a program instance, a customer and a lead")
        w = setup(ctx, made)
        if w is None:
            return
        ctx.progress("enrolling by leadId, customerId and customerInfo")
        identification(ctx, w, made)
        ctx.progress("missing fields")
        missing_fields(ctx, w, made)
        judge = Judge(ctx)
        ctx.progress("status machine: every forbidden move from every status")
        sweep(ctx, judge, w, made)
        ctx.progress("status machine: drawn sequences")
        sequences(ctx, judge, w, made)
        ctx.note(f"program {w.program.get('slug')}, {judge.requests} status requests; run identities {w.names.tag}")
    finally:
        made.cleanup(ctx)
