"""Dismissals: a person's decision that a finding needs no action, with who, when and why.

``vulnmark dismiss KEY --kind K --reason CODE --why TEXT [--until DATE]`` records one; the
finding leaves the daily report (which still counts it) until

* the dismissal expires (``--until``: it is then simply no longer active),
* a person ends it (``vulnmark undismiss``), or
* the ticket's text or labels change materially (a :func:`fingerprint` of title, description,
  comments and labels, with case and whitespace folded, differs from the one taken at the
  dismissal): it is lifted, and the lifting is recorded, the next time findings are scoped.

Every dismissal and every end is an evidence record, in the same transaction as the change.
A ``no_remediation`` outcome with reason ``false_positive`` clears ``suspected`` the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vulnmark.check.kinds import NAMES as FINDING_KINDS
from vulnmark.errors import DismissError
from vulnmark.evidence.events import DismissalEnded, FindingDismissed
from vulnmark.model import Finding, Ticket
from vulnmark.store import Store, events
from vulnmark.store import dismissals as store_dismissals
from vulnmark.store import tickets as store_tickets
from vulnmark.store.dismissals import Dismissal

logger = logging.getLogger(__name__)

REASONS: tuple[str, ...] = (
    "not_a_vulnerability", "duplicate", "accepted_risk", "out_of_scope", "other")
MAX_WHY = 2000
LIFTED = "the ticket's text or labels changed"


def fingerprint(t: Ticket) -> str:
    """SHA-256 of what a person judged: title, description, comments and labels, with case
    and runs of whitespace folded (a status change or a re-wrapped line is not material)."""
    def fold(text: str) -> str:
        return " ".join(text.casefold().split())
    blob = json.dumps([fold(t.title), fold(t.description), sorted(fold(x) for x in t.labels),
                       [fold(c.body) for c in t.comments]], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def dismiss(store: Store, key: str, kind: str, *, reason: str, why: str, by: str,
            at: datetime, until: datetime | None = None) -> Dismissal:
    """Record a dismissal (replacing an active one of the same ticket and kind)."""
    if kind not in FINDING_KINDS:
        raise DismissError(f"--kind: unknown finding kind {kind!r}; one of "
                           f"{', '.join(FINDING_KINDS)}")
    if reason not in REASONS:
        raise DismissError(f"--reason: {reason!r} is not one of {', '.join(REASONS)}")
    if not why.strip():
        raise DismissError("--why: say why the finding needs no action (it is recorded)")
    if len(why) > MAX_WHY:
        raise DismissError(f"--why: {len(why)} characters; at most {MAX_WHY}")
    if until is not None and until <= at:
        raise DismissError(f"--until: {until.date().isoformat()} is not in the future")
    with store.transaction() as conn:
        ticket = store_tickets.get(conn, key, history=False)
        if ticket is None:
            raise DismissError(f"no ticket {key!r} in the store")
        old = store_dismissals.listed(conn, ticket=key, kind=kind)
        store_dismissals.end(conn, [d.id for d in old], at=at, why="replaced")
        mark = fingerprint(ticket)
        new_id = store_dismissals.add(
            conn, ticket=key, kind=kind, reason=reason, why=why, actor=by, at=at, until=until,
            fingerprint=mark,
            content_hash=store_dismissals.content_hashes(conn, [key])[key])
        events.record(conn, FindingDismissed(key, kind, reason, why, by, until, mark), at)
    return Dismissal(new_id, key, kind, reason, why, by, at, until, mark, "")


def undismiss(store: Store, key: str, kind: str | None, *, by: str, at: datetime,
              why: str = "undismissed") -> list[Dismissal]:
    """End the active dismissals of ``key`` (of ``kind``, or all); the ones ended."""
    with store.transaction() as conn:
        found = store_dismissals.listed(conn, ticket=key, kind=kind)
        if not found:
            raise DismissError(f"{key}: no active dismissal"
                               f"{' of kind ' + kind if kind else ''}")
        store_dismissals.end(conn, [d.id for d in found], at=at, why=why)
        for d in found:
            events.record(conn, DismissalEnded(key, d.kind, why, by), at)
    return found


def is_active(d: Dismissal, now: datetime) -> bool:
    return d.ended_at is None and (d.until is None or d.until > now)


def active(store: Store, now: datetime) -> list[Dismissal]:
    """The dismissals in force at ``now``. Those whose ticket changed materially since are
    lifted here (ended, with an evidence record): they are not in force."""
    with store.reading() as conn:
        found = [d for d in store_dismissals.listed(conn) if is_active(d, now)]
        hashes = store_dismissals.content_hashes(conn, [d.ticket for d in found])
    changed = [d for d in found if hashes.get(d.ticket, d.content_hash) != d.content_hash]
    if not changed:
        return found
    lifted: set[int] = set()
    with store.transaction() as conn:
        for d in changed:
            ticket = store_tickets.get(conn, d.ticket, history=False)
            if ticket is None:
                continue
            if fingerprint(ticket) == d.fingerprint:
                store_dismissals.rehash(conn, d.id, hashes[d.ticket])
                continue
            store_dismissals.end(conn, [d.id], at=now, why=LIFTED)
            events.record(conn, DismissalEnded(d.ticket, d.kind, LIFTED, None), now)
            lifted.add(d.id)
    if lifted:
        logger.info("%d dismissal(s) lifted: the ticket changed", len(lifted))
    return [d for d in found if d.id not in lifted]


@dataclass(frozen=True)
class Cleared:
    """Findings without the dismissed ones, and how many were left out."""

    findings: tuple[Finding, ...]
    dismissed: int
    false_positive: int


def clear(store: Store, findings: Iterable[Finding], now: datetime) -> Cleared:
    """``findings`` without those dismissed at ``now`` and without ``suspected`` findings of
    tickets with a ``false_positive`` outcome."""
    off = {(d.ticket, d.kind) for d in active(store, now)}
    with store.reading() as conn:
        false_pos = store_dismissals.false_positive_keys(conn)
    kept: list[Finding] = []
    dismissed = cleared = 0
    for f in findings:
        if (f.ticket, f.kind) in off:
            dismissed += 1
        elif f.kind == "suspected" and f.ticket in false_pos:
            cleared += 1
        else:
            kept.append(f)
    return Cleared(tuple(kept), dismissed, cleared)
