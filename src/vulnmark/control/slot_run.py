"""One scheduled report per slot: claim the slot, run (or resend the failed run), end the claim.

However many schedulers run against one store (two hosts on one PostgreSQL, a cron line and a
daemon), each due slot gets exactly one delivered report: the claim (:mod:`vulnmark.store.slots`)
is taken in one transaction with a unique key, so only one scheduler builds and sends; a
crashed holder's claim is taken over when its lease expires. A failed delivery releases the
claim at once: the next tick (``schedule --once`` from cron, or the daemon's retry) resends the
same stored run until it is delivered.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from vulnmark.control.daily import DailyJob
from vulnmark.deliver import Delivery
from vulnmark.store import Store, slots


def holder() -> str:
    """Who holds a claim: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class SlotRun:
    slot: datetime
    run_id: int | None
    """None: the slot is covered or another scheduler holds it (nothing done here)."""
    delivery: Delivery | None = None
    resent: bool = False
    taken_over: bool = False


def run_slot(store: Store, job: DailyJob, slot: datetime, now: datetime,
             who: str | None = None) -> SlotRun:
    """Claim ``slot`` and run the daily job for it (or resend its failed run); an error is
    raised after the claim is released as failed."""
    claim = slots.claim(store, slot, who or holder(), now)
    if claim is None:
        return SlotRun(slot, None)
    try:
        if claim.run is not None and job.notifier is not None:
            delivery: Delivery | None = job.resend(claim.run, now)
            run_id = claim.run
        else:
            result = job.run(now)
            run_id, delivery = result.run_id, result.delivery
    except BaseException:
        slots.finish(store, claim, status="failed", run=job.last_run_id)
        raise
    slots.finish(store, claim, status="delivered" if delivery else "kept", run=run_id)
    return SlotRun(slot, run_id, delivery, resent=claim.run is not None,
                   taken_over=claim.taken_over)


def covered(store: Store, slot: datetime, following: datetime | None) -> bool:
    """Whether ``slot`` needs no run: its claim ended delivered (or kept by a scheduler told
    not to send), or a report run in its window was delivered (``report daily --send``)."""
    from vulnmark.store import runs

    return slots.covered(store, slot) is True or runs.covered(store, slot, following)
