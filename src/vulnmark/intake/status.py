"""Where every intake ticket stands: assessed, awaiting assessment, due soon or overdue.

The assessment clock runs per class (``intake.assessment_hours``) from the publication (or
when vulnmark first saw it), and a CISA KEV ``dueDate`` shortens it; the due-soon window is
the policy's. The daily report's Intake section and ``vulnmark intake status`` read this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from vulnmark.check.rules import assessment_state
from vulnmark.config.policy import Policy
from vulnmark.report.model import IntakeDigest, IntakeItem
from vulnmark.store import Store
from vulnmark.store import intake as records
from vulnmark.store.intake import IntakeRecord

STATES = ("overdue", "due_soon", "awaiting", "assessed")


@dataclass(frozen=True)
class IntakeState:
    record: IntakeRecord
    state: str
    """``overdue``, ``due_soon``, ``awaiting`` (assessment not yet due) or ``assessed``."""


def state_of(r: IntakeRecord, policy: Policy, now: datetime) -> str:
    """The record's clock state, by the rule of ``vulnmark check``'s ``assessment_overdue`` and
    ``assessment_due_soon`` findings (:func:`vulnmark.check.rules.assessment_state`)."""
    return assessment_state(r.assess_due_at, r.assessed_at, now,
                            timedelta(hours=policy.due_soon_hours))


def states(store: Store, policy: Policy, now: datetime) -> list[IntakeState]:
    """Every intake record with its state, the most urgent first."""
    with store.reading() as conn:
        found = [IntakeState(r, state_of(r, policy, now)) for r in records.iter_records(conn)]
    return sorted(found, key=lambda s: (STATES.index(s.state),
                                        s.record.assess_due_at or datetime.max.replace(
                                            tzinfo=now.tzinfo), s.record.ticket))


def summary(found: list[IntakeState], *, since: datetime | None = None) -> dict[str, int]:
    """Counts: ``tickets``, one per state, ``proposals``, ``rejected``, ``kev`` and, with
    ``since``, ``new`` (first seen at or after it)."""
    counts = Counter(s.state for s in found)
    out = {"tickets": len(found), **{k: counts.get(k, 0) for k in STATES},
           "proposals": sum(1 for s in found if s.record.proposed_class),
           "rejected": sum(1 for s in found if s.record.rejected),
           "kev": sum(1 for s in found if s.record.kev_due)}
    if since is not None:
        out["new"] = sum(1 for s in found if s.record.first_seen_at >= since)
    return out


def escalated(r: IntakeRecord) -> bool:
    """In CISA KEV, raised by it, or a later publication proposes another class."""
    return r.kev_due is not None or "KEV" in r.basis or r.proposed_class is not None


def digest(store: Store, policy: Policy, now: datetime, *,
           new_within: timedelta = timedelta(hours=24)) -> IntakeDigest | None:
    """The report's Intake section (None when intake never opened a ticket)."""
    found = states(store, policy, now)
    if not found:
        return None
    since = now - new_within
    counts = summary(found, since=since)
    items = tuple(
        IntakeItem(s.record.ticket, s.record.id, s.state, s.record.published_class,
                   s.record.assess_due_at, s.record.first_seen_at >= since,
                   escalated(s.record), s.record.proposed_class, s.record.rejected)
        for s in found if s.state != "assessed" or s.record.first_seen_at >= since
        or s.record.proposed_class)
    return IntakeDigest(
        new=counts["new"], escalated=sum(escalated(s.record) for s in found),
        awaiting=counts["awaiting"], due_soon=counts["due_soon"], overdue=counts["overdue"],
        assessed=counts["assessed"], proposals=counts["proposals"],
        rejected=counts["rejected"], items=items)
