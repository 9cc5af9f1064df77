"""The re-import overlay: labels vulnmark applied that the ticket's source does not show yet.

A ticket from a source (a Jira site, an import file) gets labels from vulnmark too:
``backfill --apply``/``--accept``, ``ticket label``/``unlabel``. The source does not know them,
so the next ``import`` or ``sync`` would silently undo them (the newcomer's "5 vulnerabilities,
then 0"). Each such change is kept here, one row per label (``add`` or ``remove``), and a source
observation of the ticket (:func:`observe`, called by the store's upsert for ``import``,
``sync`` and the webhook) keeps it: the ticket's labels are the source's, plus the labels
vulnmark added, minus the ones it removed. The row goes

* when the source shows the change itself (recorded as ``overlay_cleared``), or
* when a person takes the source's labels (:func:`accept_source`,
  ``vulnmark import --accept-source-labels``, recorded as ``source_labels_accepted``).

Until then the check reports the row as a ``source_diverged`` finding. A ticket of the embedded
tracker has no source but the store: its changes need no overlay; if an import brings a ticket
with the key of a tracker ticket, the tracker's labels the file lacks are kept the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from vulnmark._time import parse, stored
from vulnmark.evidence.events import LabelOverlayCleared, LabelOverlayKept
from vulnmark.model import LabelChange, Ticket
from vulnmark.store import events
from vulnmark.store.schema import evaluations, tickets
from vulnmark.store.schema import label_overlay as overlay_table

EMBEDDED = "embedded"
Op = Literal["add", "remove"]


@dataclass(frozen=True)
class Entry:
    """One label vulnmark added (``add``) or removed (``remove``) that the source lacks."""

    ticket: str
    label: str
    op: Op
    by: str | None
    via: str
    """What applied it: ``backfill``, ``ticket``, ``embedded`` (a tracker ticket's label)."""
    applied_at: datetime
    seen_at: datetime | None = None
    """The last time a source showed the ticket without the change (None: not seen since)."""
    seen_via: str | None = None

    def describe(self) -> str:
        """One line for the finding's detail."""
        did = "added" if self.op == "add" else "removed"
        lacks = "lacks it" if self.op == "add" else "still has it"
        seen = (f"; {self.seen_via or 'the source'} showed it without the change at "
                f"{stored(self.seen_at)}" if self.seen_at else "")
        return (f"label {self.label} {did} by vulnmark ({self.via}, {self.by or '-'}, "
                f"{stored(self.applied_at)}) and kept; the source {lacks}{seen}. Put it in the "
                "source, or take the source's labels: vulnmark import --accept-source-labels")


def _entry(r: Any) -> Entry:
    applied = parse(r.applied_at)
    assert applied is not None
    return Entry(r.ticket_key, r.label, r.op, r.by, r.via, applied, parse(r.seen_at),
                 r.seen_via)


def entries(conn: Connection, keys: Sequence[str] | None = None) -> dict[str, list[Entry]]:
    """The overlay of ``keys`` (every ticket's when None), by ticket, in label order."""
    query = select(overlay_table).order_by(overlay_table.c.ticket_key, overlay_table.c.label)
    if keys is not None:
        if not keys:
            return {}
        query = query.where(overlay_table.c.ticket_key.in_(list(keys)))
    out: dict[str, list[Entry]] = {}
    for r in conn.execute(query):
        out.setdefault(r.ticket_key, []).append(_entry(r))
    return out


def record(conn: Connection, t: Ticket, change: LabelChange, *, via: str) -> None:
    """vulnmark changed the labels of ``t`` (``change``): keep it over ``t``'s source.

    An addition undoes an earlier removal of the same label and the other way round (the
    ticket is then as its source has it); tracker tickets keep nothing (no other source)."""
    if t.source == EMBEDDED:
        return
    have = {e.label: e for e in entries(conn, [t.key]).get(t.key, [])}
    for op, labels in (("add", change.added), ("remove", change.removed)):
        for label in labels:
            old = have.get(label)
            if old is not None and old.op != op:
                _delete(conn, t.key, [label])
            elif old is None:
                conn.execute(overlay_table.insert().values(
                    ticket_key=t.key, label=label, op=op, by=change.author, via=via,
                    applied_at=stored(change.at)))


def forget(conn: Connection, key: str) -> None:
    """Drop everything kept over ``key``'s source (a person took the source's labels)."""
    conn.execute(overlay_table.delete().where(overlay_table.c.ticket_key == key))


def _delete(conn: Connection, key: str, labels: Iterable[str]) -> None:
    conn.execute(overlay_table.delete().where(overlay_table.c.ticket_key == key,
                                              overlay_table.c.label.in_(list(labels))))


def effective(t: Ticket, kept: Sequence[Entry]) -> Ticket:
    """``t`` as its source has it, with the ``kept`` changes over it: the source's labels minus
    the ones vulnmark removed, plus the ones it added; a source that brings its own label
    history gets vulnmark's changes in it too (the store keeps the source's history)."""
    if not kept:
        return t
    removed = {e.label for e in kept if e.op == "remove"}
    added = tuple(e.label for e in kept if e.op == "add" and e.label not in t.labels)
    labels = tuple(label for label in t.labels if label not in removed) + added
    history = t.label_history
    if history:
        mine = [LabelChange(e.applied_at, e.by, (e.label,) if e.op == "add" else (),
                            (e.label,) if e.op == "remove" else ()) for e in kept]
        history = tuple(sorted((*history, *mine), key=lambda h: h.at))
    return replace(t, labels=labels, label_history=history)


def observe(conn: Connection, chunk: Sequence[Ticket], previous: dict[str, tuple[str, list[str]]],
            *, at: datetime) -> list[Ticket]:
    """The tickets of a source observation (``chunk``) as the store keeps them: each with its
    overlay (:func:`effective`). A change the source now shows is dropped (``overlay_cleared``);
    a change the source was first seen to lack is recorded (``overlay_kept``).

    ``previous``: the stored (source, labels) of the chunk's tickets already in the store; a
    tracker ticket's labels the source lacks become overlay entries first."""
    for t in chunk:
        old = previous.get(t.key)
        if old is not None and old[0] == EMBEDDED and t.source != EMBEDDED:
            lacking = [label for label in old[1] if label not in t.labels]
            if lacking:
                record(conn, t, LabelChange(at, None, tuple(lacking), ()), via=EMBEDDED)
    found = entries(conn, [t.key for t in chunk])
    if not found:
        return list(chunk)
    out = []
    for t in chunk:
        rows = found.get(t.key)
        if not rows:
            out.append(t)
            continue
        shown = [e for e in rows if (e.op == "add") == (e.label in t.labels)]
        kept = [e for e in rows if e not in shown]
        if shown:
            _delete(conn, t.key, [e.label for e in shown])
            events.record(conn, LabelOverlayCleared(
                t.key, tuple(e.label for e in shown if e.op == "add"),
                tuple(e.label for e in shown if e.op == "remove"), via=t.source,
                source_at=t.updated), at)
        new = [e for e in kept if e.seen_at is None]
        if kept:
            conn.execute(update(overlay_table).where(
                overlay_table.c.ticket_key == t.key,
                overlay_table.c.label.in_([e.label for e in kept]))
                .values(seen_at=stored(at), seen_via=t.source))
        if new:
            events.record(conn, LabelOverlayKept(
                t.key, tuple(e.label for e in new if e.op == "add"),
                tuple(e.label for e in new if e.op == "remove"), via=t.source,
                source_at=t.updated), at)
        out.append(effective(t, kept))
    return out


@dataclass(frozen=True)
class Diverged:
    """A ticket with labels kept over its source, as the check reports it."""

    ticket: str
    title: str
    url: str | None
    labels: tuple[str, ...]
    reporter: str | None
    created: datetime
    classification: str | None
    state: str
    is_vulnerability: bool
    entries: tuple[Entry, ...]


def diverged(conn: Connection) -> list[Diverged]:
    """Every ticket still in its source whose labels differ from the source's by the overlay,
    in key order, with its evaluation's classification and state."""
    rows = conn.execute(
        select(overlay_table, tickets.c.title, tickets.c.url, tickets.c.labels,
               tickets.c.reporter, tickets.c.created_at, tickets.c.resolved_at,
               evaluations.c.classification, evaluations.c.state,
               evaluations.c.is_vulnerability)
        .select_from(overlay_table.join(tickets, tickets.c.key == overlay_table.c.ticket_key)
                     .outerjoin(evaluations, evaluations.c.ticket_key == tickets.c.key))
        .where(tickets.c.gone_at.is_(None))
        .order_by(overlay_table.c.ticket_key, overlay_table.c.label)).all()
    out: list[Diverged] = []
    for r in rows:
        if not out or out[-1].ticket != r.ticket_key:
            created = parse(r.created_at)
            assert created is not None
            state = r.state or ("resolved" if r.resolved_at else "open")
            out.append(Diverged(r.ticket_key, r.title, r.url, tuple(json.loads(r.labels)),
                                r.reporter, created, r.classification, state,
                                bool(r.is_vulnerability), ()))
        out[-1] = replace(out[-1], entries=(*out[-1].entries, _entry(r)))
    return out
