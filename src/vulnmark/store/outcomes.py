"""Recorded outcomes: how a vulnerability was handled (see :mod:`vulnmark.triage.outcomes`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, and_, select

from vulnmark._time import parse, stored
from vulnmark.model import Outcome, TicketKey
from vulnmark.store import evaluations
from vulnmark.store.schema import outcomes


def add(conn: Connection, outcome: Outcome) -> None:
    """Insert an outcome; the ticket's evaluation keeps the earliest outcome."""
    conn.execute(outcomes.insert().values(
        ticket_key=outcome.ticket, kind=outcome.kind, reason=outcome.reason, text=outcome.text,
        actor=outcome.actor, recorded_at=stored(outcome.recorded_at),
        entered_at=stored(outcome.entered_at), entered_by=outcome.entered_by, why=outcome.why))
    evaluations.set_outcome(conn, outcome.ticket, outcome.recorded_at, outcome.kind)


def list_outcomes(conn: Connection, *, keys: Sequence[str] | None = None,
                  key_range: tuple[str, str] | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> list[Outcome]:
    """Recorded outcomes in time order (optionally of some tickets, of the tickets whose key
    is in ``[first, last]`` of ``key_range``, or of a period)."""
    query = select(outcomes).order_by(outcomes.c.recorded_at, outcomes.c.id)
    conds: list[ColumnElement[bool]] = []
    if keys is not None:
        conds.append(outcomes.c.ticket_key.in_(list(keys)))
    if key_range is not None:
        conds.append(outcomes.c.ticket_key.between(*key_range))
    if since is not None:
        conds.append(outcomes.c.recorded_at >= stored(since))
    if until is not None:
        conds.append(outcomes.c.recorded_at < stored(until))
    if conds:
        query = query.where(and_(*conds))
    out = []
    for r in conn.execute(query).mappings():
        when = parse(r["recorded_at"])
        assert when is not None
        out.append(Outcome(ticket=TicketKey(r["ticket_key"]), kind=cast(Any, r["kind"]),
                           recorded_at=when, text=r["text"], reason=r["reason"],
                           actor=r["actor"], entered_at=parse(r["entered_at"]),
                           entered_by=r["entered_by"], why=r["why"]))
    return out


def backdated(conn: Connection, *, entered_since: datetime) -> list[Outcome]:
    """Outcomes entered since ``entered_since`` with an earlier effective time and a reason
    (``outcome --effective TIME --why TEXT``), in the order they were entered."""
    rows = conn.execute(select(outcomes.c.ticket_key).where(
        outcomes.c.why.is_not(None), outcomes.c.entered_at >= stored(entered_since)))
    keys = sorted({str(k) for (k,) in rows})
    found = list_outcomes(conn, keys=keys) if keys else []
    return sorted((o for o in found if o.backdated and o.entered_at is not None
                   and o.entered_at >= entered_since), key=lambda o: o.entered_at or o.recorded_at)
