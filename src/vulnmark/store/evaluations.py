"""Evaluations: one row per ticket with its cached findings, the queue of tickets waiting for
evaluation (``dirty_tickets``), and the recorded policy versions.

The check stage (:mod:`vulnmark.check`) decides what a row holds; this module only stores and
finds rows. The hot paths (writing a page of rows, reading the candidates of a report) go
through the driver (:mod:`vulnmark.store.driver`): at a million tickets the SQL layer's per-row
work costs more than the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select

from vulnmark._time import parse, stored
from vulnmark.store import driver
from vulnmark.store.schema import dirty_tickets, evaluations, tickets
from vulnmark.store.schema import policy_versions as versions

#: The columns of an evaluation row, in the order the check stage builds them.
EVALUATION_COLUMNS = ("ticket_key", "is_vulnerability", "classification", "state", "created_at",
                      "due_at", "resolved_at", "n_findings", "findings", "discovered_at",
                      "classified_at", "outcome_at", "outcome_kind")
Row = tuple[Any, ...]


# -- the queue of tickets waiting for evaluation -------------------------------------------

def pending_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(dirty_tickets)).scalar_one())


def queue_all(conn: Connection) -> None:
    """Every ticket waits for evaluation and every evaluation is dropped (a new policy or a
    new version of the rules: no old row is valid)."""
    pending = select(dirty_tickets.c.key).where(dirty_tickets.c.key == tickets.c.key)
    conn.execute(dirty_tickets.insert().from_select(
        ["key"], select(tickets.c.key).where(~pending.exists())))
    conn.execute(delete(evaluations))


def done(conn: Connection, keys: Sequence[str]) -> None:
    """The tickets ``keys`` no longer wait."""
    conn.execute(delete(dirty_tickets).where(dirty_tickets.c.key.in_(list(keys))))


def done_if_unchanged(conn: Connection, seen: Sequence[tuple[str, str]]) -> None:
    """The tickets of ``seen`` (key, content hash as read) no longer wait, unless they changed
    since they were read: those stay queued and are evaluated again next time."""
    driver.execute_many(
        conn, "DELETE FROM dirty_tickets WHERE key = ? AND (SELECT content_hash FROM "
              "tickets WHERE tickets.key = dirty_tickets.key) = ?", seen)


def pending_ranges(conn: Connection, size: int) -> Iterator[tuple[str | None, str]]:
    """Consecutive key ranges ``(after, last]`` of about ``size`` waiting tickets each."""
    after: str | None = None
    n, previous = 0, None
    for (key,) in conn.execute(select(dirty_tickets.c.key).order_by(dirty_tickets.c.key)):
        n, previous = n + 1, key
        if n == size:
            yield after, key
            after, n = key, 0
    if n:
        assert previous is not None
        yield after, previous


# -- evaluation rows -------------------------------------------------------------------------

_UPSERT = (
    f"INSERT INTO evaluations ({', '.join(EVALUATION_COLUMNS)}) "
    f"VALUES ({driver.marks(len(EVALUATION_COLUMNS))}) ON CONFLICT (ticket_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in EVALUATION_COLUMNS[1:])
)


def write(conn: Connection, rows: Sequence[Row]) -> None:
    """Store evaluation rows (tuples in :data:`EVALUATION_COLUMNS` order).

    Always an upsert (``ON CONFLICT … DO UPDATE``, SQLite and PostgreSQL alike): old rows are
    updated in place (a delete and a new insert touched twice the pages, which is most of the
    cost when the changed tickets are spread over a large store, benchmarks/README.md), and a
    row another process wrote meanwhile is replaced, never a constraint failure (F4)."""
    driver.execute_many(conn, _UPSERT, rows)


def drop(conn: Connection, keys: Sequence[str]) -> None:
    """The evaluations of ``keys`` (tickets gone from their source)."""
    if keys:
        conn.execute(delete(evaluations).where(evaluations.c.ticket_key.in_(list(keys))))


def set_outcome(conn: Connection, key: str, at: datetime, kind: str) -> None:
    """An outcome recorded for ``key`` at ``at``: the evaluation keeps the earliest."""
    when = stored(at)
    conn.execute(evaluations.update().where(
        evaluations.c.ticket_key == key,
        or_(evaluations.c.outcome_at.is_(None), evaluations.c.outcome_at > when),
    ).values(outcome_at=when, outcome_kind=kind))


def counts(conn: Connection) -> tuple[int, dict[str | None, int]]:
    """(evaluated tickets, vulnerabilities per classification), both by index."""
    total = conn.execute(select(func.count()).select_from(evaluations)).scalar_one()
    rows = conn.execute(select(evaluations.c.classification, func.count())
                        .where(evaluations.c.is_vulnerability == 1)
                        .group_by(evaluations.c.classification))
    return int(total), {cls: int(n) for cls, n in rows}


_CANDIDATE = ("SELECT ticket_key, state, due_at, resolved_at, findings, outcome_at, "
              "outcome_kind, is_vulnerability FROM evaluations")


def candidate_rows(conn: Connection, soon: str | None, required: bool) -> Iterator[Row]:
    """The evaluations that may yield a finding at an instant whose due-soon horizon is the
    stored time ``soon``: marking findings, deadline findings, and (when outcomes are
    required) resolved vulnerabilities without one. Each is read once, as
    ``(ticket_key, state, due_at, resolved_at, findings, outcome_at, outcome_kind,
    is_vulnerability)``.

    Separate queries rather than one ``OR``: each part can use its index (the partial one on
    findings, the one on due dates), where an ``OR`` over them scans every evaluation.
    """
    queries: list[tuple[str, list[Any]]] = [
        ("n_findings > 0", []),
        # '' sorts first: due_at > '' is "has a due date" and uses the partial index
        ("n_findings = 0 AND due_at > '' AND ((state = 'open' AND due_at <= ?) "
         "OR (state = 'resolved' AND resolved_at > due_at) OR outcome_at > due_at)",
         [soon]),
    ]
    if required:
        queries.append(("n_findings = 0 AND state = 'resolved' AND is_vulnerability = 1 "
                        "AND outcome_at IS NULL", []))
    seen: set[str] = set()
    for where, params in queries:
        for row in driver.fetch(conn, f"{_CANDIDATE} WHERE {where}", params):
            if row[0] not in seen:
                seen.add(row[0])
                yield row


def vulnerability_rows(conn: Connection, *, state: str | None = None,
                       classes: Sequence[str] = (),
                       unclassified: bool = False) -> Iterator[dict[str, Any]]:
    """Marked tickets with their evaluation and the ticket's title, labels and URL, by key;
    optionally of one state, of some classes (and/or without a class)."""
    query = (
        select(evaluations.c.ticket_key, evaluations.c.classification, evaluations.c.state,
               evaluations.c.created_at, evaluations.c.due_at, evaluations.c.resolved_at,
               evaluations.c.findings, evaluations.c.outcome_at, evaluations.c.outcome_kind,
               tickets.c.title, tickets.c.labels, tickets.c.url)
        .join(tickets, tickets.c.key == evaluations.c.ticket_key)
        .where(evaluations.c.is_vulnerability == 1).order_by(evaluations.c.ticket_key)
    )
    if state:
        query = query.where(evaluations.c.state == state)
    if classes or unclassified:
        wanted = evaluations.c.classification.in_(sorted(classes))
        query = query.where(or_(wanted, evaluations.c.classification.is_(None))
                            if unclassified else wanted)
    for r in conn.execute(query).mappings():
        yield dict(r)


# -- policy versions -------------------------------------------------------------------------

def policy_versions(conn: Connection) -> list[tuple[datetime, dict[str, float | None]]]:
    """The recorded policies: (effective from, deadline hours per class), oldest first."""
    out = []
    for at, raw in conn.execute(select(versions.c.effective_at, versions.c.deadlines)
                                .order_by(versions.c.effective_at, versions.c.id)):
        when = parse(at)
        assert when is not None
        out.append((when, json.loads(raw)))
    return out


def add_policy_version(conn: Connection, digest: str, at: datetime,
                       deadlines: dict[str, float | None]) -> str | None:
    """Record a policy in force from ``at``; returns the digest of the one before it."""
    last = conn.execute(select(versions.c.digest)
                        .order_by(versions.c.id.desc()).limit(1)).scalar()
    conn.execute(versions.insert().values(
        digest=digest, effective_at=stored(at), deadlines=json.dumps(deadlines, sort_keys=True)))
    return None if last is None else str(last)
