"""Threat intake's records: one row per published vulnerability that opened a ticket, every
id it is known by, and the KEV catalog (see :mod:`vulnmark.intake`).

A record and its ticket are written in one transaction; every write of intake starts with
:func:`lock`, so concurrent ``vulnmark intake run`` processes take turns (SQLite's
``BEGIN IMMEDIATE`` does the same) and each finds what the previous one opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, select, text, update

from vulnmark._time import parse, stored
from vulnmark.store.schema import (
    evaluations,
    intake_ids,
    intake_kev,
    intake_records,
    state,
    tickets,
)


@dataclass(frozen=True)
class IntakeRecord:
    """A published vulnerability that opened a ticket."""

    id: str
    ticket: str
    feed: str
    aliases: tuple[str, ...]
    published_class: str | None
    """The class the publication gives now (the ticket's label changes only by a person)."""
    basis: str
    ratings: str
    """The publication's ratings as JSON (all feeds seen, merged)."""
    digest: str
    """Of what the publication says (a re-run with the same content changes nothing)."""
    first_seen_at: datetime
    published_at: datetime | None = None
    modified_at: datetime | None = None
    assess_due_at: datetime | None = None
    kev_due: str | None = None
    rejected: bool = False
    owner: str | None = None
    proposed_class: str | None = None
    """A class a later publication gives that the ticket does not carry (a proposal)."""
    assessed_at: datetime | None = None
    assessment: str | None = None
    assessed_by: str | None = None


_TIMES = ("first_seen_at", "published_at", "modified_at", "assess_due_at", "assessed_at")
_COLUMNS = {"ticket": "ticket_key"}


def _row(r: IntakeRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(r):
        value = getattr(r, f.name)
        if f.name in _TIMES:
            value = stored(value)
        elif f.name == "aliases":
            value = json.dumps(list(value))
        elif f.name == "rejected":
            value = int(value)
        out[_COLUMNS.get(f.name, f.name)] = value
    return out


def _record(row: RowMapping) -> IntakeRecord:
    values: dict[str, Any] = {}
    for f in fields(IntakeRecord):
        value = row[_COLUMNS.get(f.name, f.name)]
        if f.name in _TIMES:
            value = parse(value)
        elif f.name == "aliases":
            value = tuple(json.loads(value))
        elif f.name == "rejected":
            value = bool(value)
        values[f.name] = value
    return IntakeRecord(**values)


def lock(conn: Connection) -> None:
    """Serialise intake writers (PostgreSQL; SQLite writers already take turns)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7315)"))


def find(conn: Connection, ids: Sequence[str]) -> IntakeRecord | None:
    """The record known by any of ``ids``."""
    found = conn.execute(select(intake_ids.c.record_id).where(
        intake_ids.c.alias.in_(list(ids))).limit(1)).scalar()
    if found is None:
        return None
    row = conn.execute(select(intake_records).where(intake_records.c.id == found)).mappings()
    return _record(row.one())


def by_ticket(conn: Connection, key: str) -> IntakeRecord | None:
    row = conn.execute(select(intake_records).where(intake_records.c.ticket_key == key)
                       ).mappings().first()
    return None if row is None else _record(row)


def insert(conn: Connection, r: IntakeRecord) -> None:
    conn.execute(intake_records.insert().values(**_row(r)))
    _add_ids(conn, r)


def save(conn: Connection, r: IntakeRecord) -> None:
    """Replace the record ``r.id`` (and learn any new alias)."""
    row = _row(r)
    del row["id"]
    conn.execute(update(intake_records).where(intake_records.c.id == r.id).values(**row))
    _add_ids(conn, r)


def _add_ids(conn: Connection, r: IntakeRecord) -> None:
    known = set(conn.execute(select(intake_ids.c.alias).where(
        intake_ids.c.alias.in_([r.id, *r.aliases]))).scalars())
    new = [a for a in dict.fromkeys((r.id, *r.aliases)) if a not in known]
    if new:
        conn.execute(intake_ids.insert(), [{"alias": a, "record_id": r.id} for a in new])


def known_ids(conn: Connection) -> frozenset[str]:
    """Every id an intake record is known by."""
    return frozenset(conn.execute(select(intake_ids.c.alias)).scalars())


def iter_records(conn: Connection) -> Iterator[IntakeRecord]:
    for row in conn.execute(select(intake_records).order_by(intake_records.c.first_seen_at,
                                                            intake_records.c.id)).mappings():
        yield _record(row)


def next_key(conn: Connection, prefix: str) -> str:
    """The next free PREFIX-N, inside the caller's (locked) transaction."""
    keys = conn.execute(select(tickets.c.key).where(tickets.c.key.like(f"{prefix}-%"))
                        ).scalars()
    numbers = [int(k[len(prefix) + 1:]) for k in keys if k[len(prefix) + 1:].isdigit()]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def replace_kev(conn: Connection, entries: Iterable[tuple[str, str, str | None]]) -> int:
    """The KEV catalog as last read: (cve, date added, due date) rows."""
    rows = [{"cve": c, "date_added": a, "due_date": d} for c, a, d in entries]
    conn.execute(delete(intake_kev))
    if rows:
        conn.execute(intake_kev.insert(), rows)
    return len(rows)


def kev(conn: Connection) -> dict[str, tuple[str, str | None]]:
    """CVE -> (date added, due date) of the KEV catalog as last read."""
    return {r.cve: (r.date_added, r.due_date) for r in conn.execute(select(intake_kev))}


@dataclass(frozen=True)
class ClockRow:
    """An intake ticket whose impact is not assessed yet and whose clock ends by a given time,
    with what a finding on it shows (see :func:`vulnmark.check.results.collect`)."""

    ticket: str
    record: str
    assess_due_at: datetime
    state: str
    """The ticket's evaluated state (``open``, ``resolved``)."""
    is_vulnerability: bool
    classification: str | None
    title: str
    url: str | None
    labels: tuple[str, ...]
    reporter: str | None
    created: datetime


def clock_rows(conn: Connection, soon: datetime) -> Iterator[ClockRow]:
    """The unassessed intake tickets whose assessment clock ends at or before ``soon``, by
    ticket key; only tickets with a current evaluation (a ticket gone from its source has
    none)."""
    query = (
        select(intake_records.c.ticket_key, intake_records.c.id, intake_records.c.assess_due_at,
               evaluations.c.state, evaluations.c.is_vulnerability,
               evaluations.c.classification, tickets.c.title, tickets.c.url, tickets.c.labels,
               tickets.c.reporter, tickets.c.created_at)
        .join(evaluations, evaluations.c.ticket_key == intake_records.c.ticket_key)
        .join(tickets, tickets.c.key == intake_records.c.ticket_key)
        .where(intake_records.c.assessed_at.is_(None),
               intake_records.c.assess_due_at.is_not(None),
               intake_records.c.assess_due_at <= stored(soon))
        .order_by(intake_records.c.ticket_key))
    for r in conn.execute(query):
        due, created = parse(r.assess_due_at), parse(r.created_at)
        assert due is not None and created is not None
        yield ClockRow(r.ticket_key, r.id, due, r.state, bool(r.is_vulnerability),
                       r.classification, r.title, r.url, tuple(json.loads(r.labels)),
                       r.reporter, created)


def assessed(r: IntakeRecord, *, at: datetime, verdict: str, by: str) -> IntakeRecord:
    return replace(r, assessed_at=at, assessment=verdict, assessed_by=by, proposed_class=None)


# -- Jira creations in flight ----------------------------------------------------------------

PENDING = "intake.jira.pending."
"""State key prefix of an intent: a Jira issue (or comment) about to be created for a record,
committed before the POST and removed with the record's commit after it."""


def pending(conn: Connection, record_id: str) -> dict[str, Any] | None:
    value = conn.execute(select(state.c.value).where(state.c.name == PENDING + record_id)
                         ).scalar()
    return None if value is None else dict(json.loads(value))


def set_pending(conn: Connection, record_id: str, intent: dict[str, Any]) -> None:
    clear_pending(conn, record_id)
    conn.execute(state.insert().values(name=PENDING + record_id, value=json.dumps(intent)))


def clear_pending(conn: Connection, record_id: str) -> None:
    conn.execute(delete(state).where(state.c.name == PENDING + record_id))


def all_pending(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(state.c.name, state.c.value).where(
        state.c.name.like(PENDING + "%")))
    return {name[len(PENDING):]: dict(json.loads(value)) for name, value in rows}
