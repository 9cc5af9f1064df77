"""Ticket storage: idempotent upserts by key, streaming reads, label history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, func, select, update

from vulnmark._time import stored
from vulnmark.evidence.events import LabelChanged, UpsertEvent
from vulnmark.model import Comment, LabelChange, Ticket
from vulnmark.store import driver, events, overlay
from vulnmark.store.codec import (
    COMMENT_COLUMNS,
    HISTORY_COLUMNS,
    TICKET_COLUMNS,
    comment_from_values,
    comment_rows,
    content_hash,
    history_row,
    label_change_from_values,
    ticket_from_row,
    ticket_from_values,
    ticket_row,
)
from vulnmark.store.schema import comments, dirty_tickets, tickets
from vulnmark.store.schema import label_changes as history_table

BATCH = 500


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(self.inserted + other.inserted, self.updated + other.updated,
                            self.unchanged + other.unchanged)


def _chunks(items: Iterable[Ticket], size: int) -> Iterator[list[Ticket]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def upsert(conn: Connection, items: Iterable[Ticket], *, at: datetime,
           actor: str | None, from_source: bool = False) -> UpsertCounts:
    """Insert new tickets, update changed ones, skip unchanged ones (inside one transaction).

    A ticket whose labels changed and that brings no label history of its own gets a history
    entry (who: ``actor``; when: the ticket's update time, recorded at ``at``) and an evidence
    record (at ``at``, the source's time beside it). ``from_source``: the tickets are as a
    source shows them (import, sync, webhook): the labels vulnmark applied that the source
    lacks are kept over them (:func:`vulnmark.store.overlay.observe`).
    """
    total = UpsertCounts()
    for chunk in _chunks(items, BATCH):
        keys = [t.key for t in chunk]
        existing = {
            r.key: r
            for r in conn.execute(
                select(tickets.c.key, tickets.c.content_hash, tickets.c.labels,
                       tickets.c.gone_at, tickets.c.source).where(tickets.c.key.in_(keys))
            )
        }
        if from_source:
            chunk = overlay.observe(
                conn, chunk, {k: (r.source, json.loads(r.labels)) for k, r in existing.items()},
                at=at)
        new_rows: list[dict[str, Any]] = []
        new_comments: list[dict[str, Any]] = []
        new_history: list[dict[str, Any]] = []
        changed: list[tuple[Ticket, str]] = []
        seen: set[str] = set()
        inserted = updated = unchanged = 0
        for t in chunk:
            digest = content_hash(t)
            old = existing.get(t.key)
            if t.key in seen:
                # the same key twice in one batch: the later one wins
                changed.append((t, digest))
                continue
            seen.add(t.key)
            if old is None:
                new_rows.append(ticket_row(t, digest))
                new_comments.extend(comment_rows(t))
                new_history.extend(history_row(t.key, h, at) for h in t.label_history)
                inserted += 1
            elif old.content_hash == digest and old.gone_at is None:
                unchanged += 1
            else:
                changed.append((t, digest))
                updated += 1
                _label_diff(conn, t, json.loads(old.labels), at=at, actor=actor,
                            from_source=from_source)
        if new_rows:
            conn.execute(tickets.insert(), new_rows)
            conn.execute(dirty_tickets.insert(), [{"key": r["key"]} for r in new_rows])
        if new_comments:
            conn.execute(comments.insert(), new_comments)
        if new_history:
            conn.execute(history_table.insert(), new_history)
        for t, digest in changed:
            _replace(conn, t, digest, at)
        total = total + UpsertCounts(inserted, updated, unchanged)
    return total


def save(conn: Connection, items: Iterable[Ticket], *, at: datetime, actor: str | None,
         event: UpsertEvent | None = None, from_source: bool = False) -> UpsertCounts:
    """:func:`upsert`, and ``event`` recorded with the upsert's counts, in the caller's
    transaction."""
    counts = upsert(conn, items, at=at, actor=actor, from_source=from_source)
    if event is not None:
        events.record(conn, replace(event, inserted=counts.inserted, updated=counts.updated,
                                    unchanged=counts.unchanged), at)
    return counts


def _replace(conn: Connection, t: Ticket, digest: str, at: datetime) -> None:
    row = ticket_row(t, digest)
    del row["key"]
    conn.execute(
        update(tickets).where(tickets.c.key == t.key)
        .values(**row, version=tickets.c.version + 1, gone_at=None, gone_reason=None)
    )
    mark_dirty(conn, [t.key])
    conn.execute(comments.delete().where(comments.c.ticket_key == t.key))
    if t.comments:
        conn.execute(comments.insert(), comment_rows(t))
    if t.label_history:
        # the source's whole history replaces the stored one; a change seen before keeps the
        # time it was first recorded
        first_seen = {(r.at, r.author, r.added, r.removed): r.recorded_at for r in conn.execute(
            select(history_table).where(history_table.c.ticket_key == t.key))}
        conn.execute(history_table.delete().where(history_table.c.ticket_key == t.key))
        rows = [history_row(t.key, h, at) for h in t.label_history]
        for row in rows:
            seen = first_seen.get((row["at"], row["author"], row["added"], row["removed"]))
            row["recorded_at"] = seen or row["recorded_at"]
        conn.execute(history_table.insert(), rows)


def mark_dirty(conn: Connection, keys: Sequence[str]) -> None:
    """Queue tickets for evaluation (idempotent)."""
    if keys:
        conn.execute(dirty_tickets.delete().where(dirty_tickets.c.key.in_(keys)))
        conn.execute(dirty_tickets.insert(), [{"key": k} for k in keys])


def _label_diff(conn: Connection, t: Ticket, old_labels: Sequence[str], *, at: datetime,
                actor: str | None, from_source: bool) -> None:
    """Record a change of labels: seen in a source (``from_source``) it is dated ``at``, the
    wall clock, with the source's time (the ticket's ``updated``) beside it."""
    added = tuple(label for label in t.labels if label not in old_labels)
    removed = tuple(label for label in old_labels if label not in t.labels)
    if not (added or removed):
        return
    if not t.label_history:
        conn.execute(history_table.insert(),
                     [history_row(t.key, LabelChange(t.updated or at, actor, added, removed),
                                  at)])
    events.record(conn, LabelChanged(t.key, added, removed, by=actor, via=t.source,
                                     observed_at=at,
                                     source_at=t.updated if from_source else None), at)


def get(conn: Connection, key: str, *, history: bool = True) -> Ticket | None:
    row = conn.execute(select(tickets).where(tickets.c.key == key)).first()
    if row is None:
        return None
    cs = conn.execute(select(comments).where(comments.c.ticket_key == key)
                      .order_by(comments.c.idx)).all()
    hs = conn.execute(select(history_table).where(history_table.c.ticket_key == key)
                      .order_by(history_table.c.at, history_table.c.id)).all() \
        if history else []
    return ticket_from_row(row, cs, hs)


@dataclass(frozen=True)
class People:
    """Who reported a ticket and who it is assigned to, with their ids and addresses."""

    reporter: str | None = None
    reporter_id: str | None = None
    reporter_email: str | None = None
    assignee: str | None = None
    assignee_id: str | None = None
    assignee_email: str | None = None


def people(conn: Connection, keys: Sequence[str]) -> dict[str, People]:
    """The :class:`People` of each of ``keys`` found in the store."""
    cols = (tickets.c.reporter, tickets.c.reporter_id, tickets.c.reporter_email,
            tickets.c.assignee, tickets.c.assignee_id, tickets.c.assignee_email)
    found: dict[str, People] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), BATCH):
        for row in conn.execute(select(tickets.c.key, *cols)
                                .where(tickets.c.key.in_(unique[i:i + BATCH]))):
            found[row[0]] = People(*row[1:])
    return found


_SELECT_TICKET = f"SELECT {', '.join(TICKET_COLUMNS)}"


@dataclass(frozen=True)
class PendingPage:
    """A page of the tickets waiting for evaluation (``dirty_tickets``), in key order."""

    live: list[Ticket]
    """The tickets to evaluate (with comments and label history)."""
    read: list[tuple[str, str]]
    """(key, content hash) of every ticket of the page, gone ones included."""
    gone: list[str]
    """Keys of tickets no longer in their source (their evaluation is dropped)."""

    @property
    def last(self) -> str | None:
        return self.read[-1][0] if self.read else None


def pending_page(conn: Connection, *, after: str | None, limit: int,
                 last: str | None = None) -> PendingPage:
    """The next ``limit`` pending tickets with a key after ``after`` (and up to ``last``).

    This is the hot path of a first check over a whole store: rows come straight from the
    driver (:mod:`vulnmark.store.driver`) and become tickets without the SQL layer.
    """
    conds, params = [], []
    if after is not None:
        conds.append("key > ?")
        params.append(after)
    if last is not None:
        conds.append("key <= ?")
        params.append(last)
    where = f"WHERE {' AND '.join(conds)} " if conds else ""
    rows = driver.fetch(
        conn, f"{_SELECT_TICKET}, content_hash, gone_at FROM tickets WHERE key IN "
              f"(SELECT key FROM dirty_tickets {where}ORDER BY key LIMIT ?) ORDER BY key",
        [*params, limit])
    digest, gone = len(TICKET_COLUMNS), len(TICKET_COLUMNS) + 1  # after the ticket's columns
    live = [r for r in rows if r[gone] is None]
    return PendingPage(
        live=_tickets(conn, live, after=after, history=True),
        read=[(r[0], r[digest]) for r in rows], gone=[r[0] for r in rows if r[gone] is not None])


def page(conn: Connection, *, after: str | None = None, limit: int = 1000,
         history: bool = False) -> list[Ticket]:
    """One page of tickets in key order after ``after`` (keyset pagination)."""
    if after is None:
        rows = driver.fetch(conn, f"{_SELECT_TICKET} FROM tickets ORDER BY key LIMIT ?",
                            [limit])
    else:
        rows = driver.fetch(conn, f"{_SELECT_TICKET} FROM tickets WHERE key > ? "
                                  "ORDER BY key LIMIT ?", [after, limit])
    return _tickets(conn, rows, after=after, history=history)


def _tickets(conn: Connection, rows: Sequence[driver.Row], *, after: str | None,
             history: bool) -> list[Ticket]:
    """Tickets from their rows (:data:`TICKET_COLUMNS` first), with comments and history."""
    if not rows:
        return []
    keys = [r[0] for r in rows]
    # Rows holding every key of their range (a full scan, the first check of a store where
    # every ticket is pending) take their comments by key range; others list their keys.
    if _range_count(conn, after, keys[-1], len(keys) + 1) == len(keys):
        in_page, params = "BETWEEN ? AND ?", [keys[0], keys[-1]]
    else:
        in_page, params = f"IN ({driver.marks(len(keys))})", keys
    by_key: dict[str, list[Comment]] = {}
    for key, body, author, created_at in driver.fetch(
            conn, f"SELECT ticket_key, {', '.join(COMMENT_COLUMNS)} FROM comments "
                  f"WHERE ticket_key {in_page} ORDER BY ticket_key, idx", params):
        found = by_key.get(key)
        if found is None:
            found = by_key[key] = []
        found.append(comment_from_values(body, author, created_at))
    hist: dict[str, list[driver.Row]] = {}
    if history:
        for h in driver.fetch(
                conn, f"SELECT ticket_key, {', '.join(HISTORY_COLUMNS)} FROM label_changes "
                      f"WHERE ticket_key {in_page} ORDER BY ticket_key, at, id", params):
            hist.setdefault(h[0], []).append(h[1:])
    out = []
    for r in rows:
        changes: Sequence[LabelChange] = ()
        if r[0] in hist:
            changes = [label_change_from_values(at, author, added, removed, r[2])
                       for at, author, added, removed in hist[r[0]]]
        out.append(ticket_from_values(r, by_key.get(r[0], ()), changes))
    return out


def _range_count(conn: Connection, after: str | None, last: str, limit: int) -> int:
    """How many tickets have a key in ``(after, last]``, counting no further than ``limit``
    (a sparse page can span most of a large store)."""
    where, params = ("key <= ?", [last]) if after is None else ("key > ? AND key <= ?",
                                                               [after, last])
    (n,), = driver.fetch(conn, f"SELECT count(*) FROM (SELECT 1 FROM tickets WHERE {where} "
                               "LIMIT ?) AS page", [*params, limit])
    return int(n)


def iter_rows(conn: Connection, *, batch: int = 1000, history: bool = False) -> Iterator[Ticket]:
    """Stream tickets in key order; memory stays bounded by ``batch``."""
    after: str | None = None
    while rows := page(conn, after=after, limit=batch, history=history):
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].key


def exists(conn: Connection, key: str) -> bool:
    return conn.execute(select(tickets.c.key).where(tickets.c.key == key)).first() is not None


def of_source(conn: Connection, keys: Sequence[str], source: str) -> set[str]:
    """The keys among ``keys`` whose ticket came from ``source`` (``jira``, ``embedded`` …)."""
    rows = conn.execute(select(tickets.c.key).where(tickets.c.key.in_(list(keys)),
                                                    tickets.c.source == source))
    return {str(k) for (k,) in rows}


def label_changes(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The label changes vulnmark recorded in ``[since, until)`` (by ``recorded_at``, the wall
    clock; a change recorded before 0010 by its own time), in that order: ``ticket``,
    ``recorded_at``, ``at`` (when it took effect, the source's time for a change seen in a
    source), ``by``, ``added`` and ``removed`` (lists)."""
    when = func.coalesce(history_table.c.recorded_at, history_table.c.at)
    rows = conn.execute(select(history_table, when.label("when")).where(
        when >= stored(since), when < stored(until))
        .order_by(when, history_table.c.id)).mappings()
    return [{"ticket": r["ticket_key"], "recorded_at": r["when"], "at": r["at"],
             "by": r["author"], "added": json.loads(r["added"]),
             "removed": json.loads(r["removed"])} for r in rows]
