"""Alerts and reminders sent: what ``vulnmark watch`` and the reminders must not repeat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select

from vulnmark._time import parse, stored
from vulnmark.store.schema import notices


def sent(conn: Connection, channel: str) -> set[tuple[str, str]]:
    """(ticket, reason) of every notice sent on ``channel``."""
    return {(str(k), str(r)) for k, r in conn.execute(
        select(notices.c.ticket_key, notices.c.reason).where(notices.c.channel == channel))}


def add(conn: Connection, channel: str, rows: Sequence[tuple[str, str, str]],
        at: datetime) -> None:
    """Remember notices: (ticket, reason, recipient) each."""
    if rows:
        conn.execute(notices.insert(), [
            {"channel": channel, "ticket_key": t, "reason": r, "recipient": to,
             "sent_at": stored(at)} for t, r, to in rows])


def count(conn: Connection, channel: str) -> int:
    return int(conn.execute(select(func.count()).select_from(notices)
                            .where(notices.c.channel == channel)).scalar_one())


def recipients_on(conn: Connection, channel: str, reason: str) -> set[str]:
    """Who got a notice on ``channel`` for ``reason`` (e.g. a reminder on a given day)."""
    return {str(r) for (r,) in conn.execute(
        select(notices.c.recipient).where(notices.c.channel == channel,
                                          notices.c.reason == reason).distinct())}


def first_sent_by_ticket(conn: Connection, channel: str,
                         keys: Sequence[str]) -> dict[str, datetime]:
    """When the first notice about each ticket of ``keys`` went out on ``channel``."""
    out: dict[str, datetime] = {}
    unique = sorted(set(keys))
    for i in range(0, len(unique), 2000):
        for key, at in conn.execute(
                select(notices.c.ticket_key, func.min(notices.c.sent_at))
                .where(notices.c.channel == channel,
                       notices.c.ticket_key.in_(unique[i:i + 2000]))
                .group_by(notices.c.ticket_key)):
            when = parse(at)
            if when is not None:
                out[str(key)] = when
    return out
