"""Changing a ticket's class: who, when and why go to the evidence log with the new label.

Only tickets of the embedded tracker are relabelled here (through the tracker's one relabel
path, :func:`vulnmark.sources.embedded.relabel`): a Jira ticket is relabelled in Jira and the
change arrives, with its author and time, at the next sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from vulnmark.check.rules import marking
from vulnmark.config.policy import Policy
from vulnmark.errors import OutcomeError
from vulnmark.evidence.backdating import declared_reason
from vulnmark.evidence.events import Reclassified
from vulnmark.sources import embedded
from vulnmark.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reclassification:
    ticket: str
    previous: str | None
    new: str
    at: datetime
    by: str
    why: str
    effective: datetime | None = None


def reclassify(store: Store, policy: Policy, key: str, new_class: str, *, why: str, by: str,
               at: datetime, effective: datetime | None = None) -> Reclassification:
    """Replace a ticket's classification label; record who, when and why as evidence.

    ``effective``: when the new class took effect, if earlier than ``at`` (the deadline counts
    with it; shown as backdated, ``why`` being the reason).

    Only tickets of the embedded tracker are relabelled here: a Jira ticket is relabelled in
    Jira and the change arrives (with its author and time) at the next sync.
    """
    if new_class not in policy.class_names:
        raise OutcomeError(f"unknown class {new_class!r}; the policy has "
                           f"{', '.join(policy.class_names)}")
    if not why.strip():
        raise OutcomeError("a reclassification needs its reason (--why TEXT)")
    declared_reason(effective, why, at, "reclassification")
    t = store.get_ticket(key)
    if t is None:
        raise OutcomeError(f"no ticket {key!r} in the store")
    if t.source != "embedded":
        raise OutcomeError(f"{key} comes from {t.source}: change its label there; the change is "
                           "recorded with its author and time at the next sync")
    previous = marking(t, policy).classification
    if previous == new_class:
        raise OutcomeError(f"{key} is already classified {new_class}")
    classes = tuple(label for label in t.labels
                    if (m := policy.match_label(label)) is not None and m.role == "class")
    with store.transaction() as conn:
        embedded.relabel(conn, t, add=(new_class,), remove=classes, by=by, at=at,
                         effective=effective, via="reclassify",
                         event=Reclassified(key, previous, new_class, by, why, effective))
    return Reclassification(key, previous, new_class, at, by, why, effective)
