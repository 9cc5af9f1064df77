"""Dismissed findings (see :mod:`vulnmark.triage.dismiss`) and what the scope of the daily
report needs to know about tickets with findings (state, creation and update times)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from vulnmark._time import parse, stored
from vulnmark.store.schema import dismissals, outcomes, tickets

CHUNK = 2000


@dataclass(frozen=True)
class Dismissal:
    """One dismissal of one finding kind on one ticket."""

    id: int
    ticket: str
    kind: str
    reason: str
    why: str
    actor: str
    at: datetime
    until: datetime | None
    fingerprint: str
    content_hash: str
    ended_at: datetime | None = None
    ended_why: str | None = None


def add(conn: Connection, *, ticket: str, kind: str, reason: str, why: str, actor: str,
        at: datetime, until: datetime | None, fingerprint: str, content_hash: str) -> int:
    return int(conn.execute(dismissals.insert().returning(dismissals.c.id).values(
        ticket_key=ticket, kind=kind, reason=reason, why=why, actor=actor, at=stored(at),
        until=stored(until) if until else None, fingerprint=fingerprint,
        content_hash=content_hash)).scalar_one())


def end(conn: Connection, ids: Sequence[int], *, at: datetime, why: str) -> None:
    """End dismissals (undismissed, expired or lifted by a change)."""
    if ids:
        conn.execute(update(dismissals).where(dismissals.c.id.in_(list(ids)),
                                              dismissals.c.ended_at.is_(None))
                     .values(ended_at=stored(at), ended_why=why))


def rehash(conn: Connection, dismissal_id: int, content_hash: str) -> None:
    """The ticket changed, but not materially: remember its new content hash."""
    conn.execute(update(dismissals).where(dismissals.c.id == dismissal_id)
                 .values(content_hash=content_hash))


def listed(conn: Connection, *, active: bool = True, ticket: str | None = None,
           kind: str | None = None) -> list[Dismissal]:
    """Dismissals by ticket and kind (``active``: not ended), oldest first."""
    query = select(dismissals).order_by(dismissals.c.ticket_key, dismissals.c.id)
    if active:
        query = query.where(dismissals.c.ended_at.is_(None))
    if ticket is not None:
        query = query.where(dismissals.c.ticket_key == ticket)
    if kind is not None:
        query = query.where(dismissals.c.kind == kind)
    return [_dismissal(r) for r in conn.execute(query).mappings()]


def _dismissal(r: object) -> Dismissal:
    m = dict(r)  # type: ignore[call-overload]
    at = parse(m["at"])
    assert at is not None
    return Dismissal(id=int(m["id"]), ticket=m["ticket_key"], kind=m["kind"],
                     reason=m["reason"], why=m["why"], actor=m["actor"], at=at,
                     until=parse(m["until"]), fingerprint=m["fingerprint"],
                     content_hash=m["content_hash"], ended_at=parse(m["ended_at"]),
                     ended_why=m["ended_why"])


def content_hashes(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    """The current content hash of each ticket of ``keys`` that exists."""
    out: dict[str, str] = {}
    for part in _chunks(keys):
        out.update((str(k), str(h)) for k, h in conn.execute(
            select(tickets.c.key, tickets.c.content_hash).where(tickets.c.key.in_(part))))
    return out


@dataclass(frozen=True)
class Activity:
    """Whether a ticket is open, and when it was created and last changed at its source."""

    open: bool
    created: datetime | None
    updated: datetime | None


def activity(conn: Connection, keys: Sequence[str]) -> dict[str, Activity]:
    """:class:`Activity` of each ticket of ``keys``."""
    out: dict[str, Activity] = {}
    cols = (tickets.c.key, tickets.c.resolved_at, tickets.c.created_at, tickets.c.updated_at)
    for part in _chunks(keys):
        for key, resolved, created, updated in conn.execute(
                select(*cols).where(tickets.c.key.in_(part))):
            out[str(key)] = Activity(resolved is None, parse(created), parse(updated))
    return out


def _chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    unique = sorted(set(keys))
    for i in range(0, len(unique), CHUNK):
        yield unique[i:i + CHUNK]


def false_positive_keys(conn: Connection) -> set[str]:
    """Tickets with a ``no_remediation`` outcome for reason ``false_positive``."""
    return {str(k) for (k,) in conn.execute(
        select(outcomes.c.ticket_key).where(outcomes.c.kind == "no_remediation",
                                            outcomes.c.reason == "false_positive").distinct())}
