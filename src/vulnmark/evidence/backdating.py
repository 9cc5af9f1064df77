"""Backdated evidence: changes that claim an earlier time than the one they were written at.

Two kinds, both shown wherever the change appears (``evidence verify``, the daily report,
``metrics``, the pack):

* **declared**: an outcome, a label change (``ticket label``/``unlabel``), a reclassification
  (or an incident change, ``vulnmark incident … --effective DAY``)
  entered with ``--effective TIME --why TEXT``: it took effect at TIME,
  was entered later, and says why. Deadlines are judged by TIME; the gap and the reason are
  part of the record.
* **clock override**: a record whose own time lies more than
  :data:`~vulnmark.evidence.chain.CLOCK_SLACK_SECONDS` before the wall clock it was written at
  (``--now`` under ``VULNMARK_ALLOW_CLOCK_OVERRIDE=1``, for demos and tests), or, for records
  written before the wall clock was kept, one dated earlier than the record before it.

Pure functions of records and outcomes: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from vulnmark._time import iso, parse
from vulnmark.errors import InputError
from vulnmark.evidence.chain import CLOCK_SLACK_SECONDS, Record
from vulnmark.evidence.events import (
    IncidentChanged,
    OutcomeRecorded,
    Reclassified,
    TicketRelabelled,
    read,
)
from vulnmark.model import Outcome

__all__ = ["Backdated", "backdated_note", "declared_reason", "describe", "gap", "scan"]


@dataclass(frozen=True)
class Backdated:
    """One backdated record."""

    seq: int
    kind: str
    ticket: str | None
    claimed: datetime
    """The time the record claims (an outcome's effective time, or the record's own time)."""
    recorded: datetime
    """When it was actually written (the wall clock)."""
    why: str | None
    """The reason given (None: dated by a clock override, no reason recorded)."""
    recorded_by: str | None = None

    @property
    def declared(self) -> bool:
        return self.why is not None


def declared_reason(effective: datetime | None, why: str | None, at: datetime,
                    what: str) -> str | None:
    """The reason of a change entered with ``--effective TIME --why TEXT`` at ``at`` (None
    without ``--effective``); :class:`InputError` when one comes without the other or TIME
    is later than ``at``."""
    if effective is None:
        return None
    if why is None or not why.strip():
        raise InputError(f"--effective TIME needs --why TEXT (why the {what} is entered only "
                         "now)", field="--why")
    if effective > at:
        raise InputError(f"--effective {iso(effective)} is later than now ({iso(at)}): a "
                         f"{what} cannot take effect in the future", field="--effective")
    return why.strip()


def gap(claimed: datetime, recorded: datetime) -> str:
    """How much later it was written than it claims: ``41.0 h`` or ``3.2 d``."""
    hours = (recorded - claimed).total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 72 else f"{hours:.1f} h"


def backdated_note(outcome: Outcome) -> str:
    """One line for a backdated outcome ("" when it is not backdated)."""
    if not outcome.backdated or outcome.entered_at is None:
        return ""
    by = f" by {outcome.entered_by}" if outcome.entered_by else ""
    return (f"effective {iso(outcome.recorded_at)}, entered {iso(outcome.entered_at)}{by} "
            f"({gap(outcome.recorded_at, outcome.entered_at)} later): {outcome.why}")


def describe(b: Backdated) -> str:
    """One line for an auditor."""
    subject = f" {b.ticket}" if b.ticket else ""
    by = f" by {b.recorded_by}" if b.recorded_by else ""
    head = (f"record {b.seq} ({b.kind}{subject}): claims {iso(b.claimed)}, written "
            f"{iso(b.recorded)}{by} ({gap(b.claimed, b.recorded)} later)")
    return f"{head}: {b.why}" if b.declared else f"{head}, dated by a clock override"


def scan(records: Iterable[Record]) -> list[Backdated]:
    """Every backdated record among ``records`` (in sequence order)."""
    out: list[Backdated] = []
    latest: datetime | None = None
    for r in records:
        at = parse(r.at)
        if at is None:
            continue
        written = parse(r.recorded_at) if r.recorded_at else None
        event = read(r)
        ticket = getattr(event, "ticket", None) if event is not None else None
        if isinstance(event, OutcomeRecorded) and event.why:
            out.append(Backdated(r.seq, r.kind, event.ticket, event.recorded_at,
                                 written or at, event.why, r.recorded_by))
        elif isinstance(event, TicketRelabelled | Reclassified) and event.effective \
                and event.why:
            out.append(Backdated(r.seq, r.kind, event.ticket, event.effective,
                                 written or at, event.why, r.recorded_by))
        elif isinstance(event, IncidentChanged) and event.effective and event.why:
            claimed = datetime.fromisoformat(event.effective).replace(tzinfo=UTC)
            out.append(Backdated(r.seq, r.kind, f"incident {event.incident}", claimed,
                                 written or at, event.why, r.recorded_by))
        elif written is not None and (written - at).total_seconds() > CLOCK_SLACK_SECONDS:
            out.append(Backdated(r.seq, r.kind, ticket, at, written, None, r.recorded_by))
        elif written is None and latest is not None and at < latest:
            out.append(Backdated(r.seq, r.kind, ticket, at, latest, None))
        latest = at if latest is None else max(latest, at)
    return out
