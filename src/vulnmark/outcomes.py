"""Outcomes of vulnerabilities and reclassifications, each recorded with its evidence.

An outcome says how a vulnerability was handled (NCSSR v1 4.f, ETSI EN 319 401 REQ-7.9.2-10):
``remediated``, ``mitigation_plan`` with the plan, or ``no_remediation`` with a reason code and
the factual basis. Outcomes come from two places:

* recorded explicitly (``vulnmark outcome``), kept in the ``outcomes`` table;
* inferred from a resolved ticket's resolution name through the ``[outcomes]`` table of the
  configuration (Jira: ``remediated = ["Fixed", "Done"]``, ``no_remediation = ["Won't Fix"]``),
  dated at the resolution time.

A deadline is met when the earliest outcome is at or before it. Every write appends an evidence
record in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from vulnmark.check.rules import marking
from vulnmark.config.policy import Policy
from vulnmark.errors import OutcomeError
from vulnmark.evidence.events import OutcomeRecorded, Reclassified
from vulnmark.model import (
    NO_REMEDIATION_REASONS,
    OUTCOME_KINDS,
    LabelChange,
    Outcome,
    TicketKey,
)
from vulnmark.store import Store, events
from vulnmark.store import outcomes as store_outcomes
from vulnmark.store import tickets as store_tickets

logger = logging.getLogger(__name__)

OutcomeKind = str
MAX_TEXT = 20_000




def validate(kind: str, text: str, reason: str | None) -> None:
    if kind not in OUTCOME_KINDS:
        raise OutcomeError(f"unknown outcome {kind!r}; expected one of {', '.join(OUTCOME_KINDS)}")
    if len(text) > MAX_TEXT:
        raise OutcomeError(f"outcome text is {len(text)} characters; at most {MAX_TEXT}")
    if kind == "mitigation_plan" and not text.strip():
        raise OutcomeError("a mitigation plan needs its text (--mitigation-plan TEXT)")
    if kind == "no_remediation":
        if reason not in NO_REMEDIATION_REASONS:
            raise OutcomeError(f"no-remediation reason {reason!r} is not one of "
                               f"{', '.join(NO_REMEDIATION_REASONS)}")
        if not text.strip():
            raise OutcomeError("no remediation needs the factual basis (--basis TEXT)")
    elif reason is not None:
        raise OutcomeError("a reason code belongs only to --no-remediation")


def record(store: Store, key: str, kind: str, *, at: datetime, text: str = "",
           reason: str | None = None, actor: str | None = None) -> Outcome:
    """Record an outcome, its evidence and the cached evaluation, in one transaction."""
    validate(kind, text, reason)
    outcome = Outcome(ticket=TicketKey(key), kind=cast(Any, kind), recorded_at=at, text=text,
                      reason=reason, actor=actor)
    with store.transaction() as conn:
        if not store_tickets.exists(conn, key):
            raise OutcomeError(f"no ticket {key!r} in the store")
        store_outcomes.add(conn, outcome)
        events.record(conn, OutcomeRecorded(key, kind, reason, text, actor, at), at)
    return outcome



@dataclass(frozen=True)
class Reclassification:
    ticket: str
    previous: str | None
    new: str
    at: datetime
    by: str
    why: str


def reclassify(store: Store, policy: Policy, key: str, new_class: str, *, why: str, by: str,
               at: datetime) -> Reclassification:
    """Replace a ticket's classification label; record who, when and why as evidence.

    Only tickets of the embedded tracker are relabelled here: a Jira ticket is relabelled in
    Jira and the change arrives (with its author and time) at the next sync.
    """
    if new_class not in policy.class_names:
        raise OutcomeError(f"unknown class {new_class!r}; the policy has "
                           f"{', '.join(policy.class_names)}")
    if not why.strip():
        raise OutcomeError("a reclassification needs its reason (--why TEXT)")
    t = store.get_ticket(key)
    if t is None:
        raise OutcomeError(f"no ticket {key!r} in the store")
    if t.source != "embedded":
        raise OutcomeError(f"{key} comes from {t.source}: change its label there; the change is "
                           "recorded with its author and time at the next sync")
    previous = marking(t, policy).classification
    if previous == new_class:
        raise OutcomeError(f"{key} is already classified {new_class}")
    removed = tuple(label for label in t.labels
                    if (m := policy.match_label(label)) is not None and m.role == "class")
    added = (new_class,)
    labels = tuple(label for label in t.labels if label not in removed) + added
    change = LabelChange(at, by, added, removed)
    store.upsert_tickets(
        [replace(t, labels=labels, updated=at, label_history=(*t.label_history, change))],
        actor=by, at=at,
        event=Reclassified(key, previous, new_class, by, why))
    return Reclassification(key, previous, new_class, at, by, why)
