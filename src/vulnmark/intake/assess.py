"""``vulnmark assess``: the impact of an intake ticket's vulnerability, examined and recorded.

Three verdicts, each one transaction with its evidence (``assessment``): ``affected`` (the
ticket stays open and is handled within its class's deadline), ``not_affected`` with the
factual basis and an NCSSR v1 4.f reason code (also recorded as the ``no_remediation``
outcome), or ``reclassified``: the ticket's class label replaced, with the reason, as a
``reclassification`` record. An assessment after the clock ran out is recorded as late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from vulnmark.config.policy import Policy
from vulnmark.errors import IntakeError
from vulnmark.evidence.events import IntakeAssessed, OutcomeRecorded, Reclassified
from vulnmark.model import Outcome, Ticket, TicketKey
from vulnmark.sources import embedded
from vulnmark.store import Store, events
from vulnmark.store import intake as records
from vulnmark.store import outcomes as store_outcomes
from vulnmark.store import tickets as store_tickets
from vulnmark.triage.outcomes import validate

logger = logging.getLogger(__name__)

VERDICTS = ("affected", "not_affected", "reclassified")


@dataclass(frozen=True)
class Assessment:
    ticket: str
    record: str
    verdict: str
    cls: str | None
    previous: str | None
    late: bool
    at: datetime


def assess(store: Store, policy: Policy, key: str, verdict: str, *, text: str, by: str,
           at: datetime, new_class: str | None = None, reason: str | None = None,
           remote: Callable[[Ticket, tuple[str, ...], tuple[str, ...]], None] | None = None
           ) -> Assessment:
    """Record the assessment of intake ticket ``key``. A reclassification of a ticket that
    lives in Jira changes its labels there first through ``remote`` (ticket, add, remove;
    :func:`vulnmark.intake.jira.relabel_in_jira`): if Jira refuses, nothing is recorded."""
    if verdict not in VERDICTS:
        raise IntakeError(f"unknown verdict {verdict!r}; choose {', '.join(VERDICTS)}")
    if verdict == "reclassified":
        if new_class not in policy.class_names:
            raise IntakeError(f"--reclassify {new_class!r}: not a class of the policy "
                              f"({', '.join(policy.class_names)})")
        if not text.strip():
            raise IntakeError("a reclassification needs its reason (--why TEXT)")
    if verdict == "not_affected":
        validate("no_remediation", text, reason or "other")
    with store.transaction() as conn:
        records.lock(conn)
        r = records.by_ticket(conn, key)
        if r is None:
            raise IntakeError(f"{key} was not opened by threat intake: record its handling with "
                              "`vulnmark outcome` or `vulnmark reclassify`")
        if r.assessed_at is not None:
            raise IntakeError(f"{key} was already assessed ({r.assessment}) at "
                              f"{r.assessed_at:%Y-%m-%d %H:%M} UTC by {r.assessed_by}")
        t = store_tickets.get(conn, key)
        if t is None:
            raise IntakeError(f"no ticket {key!r} in the store")
        classes = tuple(label for label in t.labels
                        if (m := policy.match_label(label)) is not None and m.role == "class")
        previous = next((m.canonical for label in classes
                         if (m := policy.match_label(label)) is not None), None)
        cls = previous
        if verdict == "reclassified":
            assert new_class is not None
            if new_class == previous:
                raise IntakeError(f"{key} is already classified {new_class}: assess it "
                                  "--affected or --not-affected")
            if remote is not None and t.source == "jira":
                remote(t, (new_class,), classes)
            embedded.relabel(conn, t, add=(new_class,), remove=classes, by=by, at=at,
                             event=Reclassified(key, previous, new_class, by, text))
            cls = new_class
        if verdict == "not_affected":
            code = reason or "other"
            store_outcomes.add(conn, Outcome(TicketKey(key), "no_remediation", at, text, code,
                                             by, entered_at=at))
            events.record(conn, OutcomeRecorded(key, "no_remediation", code, text, by, at), at)
        late = r.assess_due_at is not None and at > r.assess_due_at
        events.record(conn, IntakeAssessed(key, r.id, verdict, cls, previous,
                                           reason if verdict == "not_affected" else None,
                                           text, by, r.assess_due_at, late), at)
        records.save(conn, replace(records.assessed(r, at=at, verdict=verdict, by=by)))
    return Assessment(key, r.id, verdict, cls, previous, late, at)
