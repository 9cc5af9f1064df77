"""Outcomes of vulnerabilities, each recorded with its evidence.

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
from datetime import datetime
from typing import Any, cast

from vulnmark._time import stored
from vulnmark.errors import OutcomeError
from vulnmark.evidence.events import OutcomeRecorded
from vulnmark.model import (
    NO_REMEDIATION_REASONS,
    OUTCOME_KINDS,
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
           reason: str | None = None, actor: str | None = None,
           effective: datetime | None = None, why: str | None = None) -> Outcome:
    """Record an outcome, its evidence and the cached evaluation, in one transaction.

    ``at`` is when it is entered; ``effective`` (with ``why``) when it took effect, if
    earlier: the deadline is judged by the effective time and the outcome is shown as
    backdated, with the reason and the gap, wherever it appears.
    """
    validate(kind, text, reason)
    if (effective is None) != (why is None or not why.strip()):
        raise OutcomeError("--effective TIME and --why TEXT go together (why the outcome is "
                           "entered after it took effect)")
    if effective is not None and effective > at:
        raise OutcomeError(f"--effective {stored(effective)} is later than now "
                           f"({stored(at)}): an outcome cannot take effect in the future")
    outcome = Outcome(ticket=TicketKey(key), kind=cast(Any, kind),
                      recorded_at=effective or at, text=text, reason=reason, actor=actor,
                      entered_at=at, entered_by=events.os_user(),
                      why=why.strip() if effective is not None and why else None)
    with store.transaction() as conn:
        if not store_tickets.exists(conn, key):
            raise OutcomeError(f"no ticket {key!r} in the store")
        store_outcomes.add(conn, outcome)
        events.record(conn, OutcomeRecorded(key, kind, reason, text, actor,
                                            outcome.recorded_at, outcome.why), at)
    return outcome
