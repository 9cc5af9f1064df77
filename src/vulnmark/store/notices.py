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


def first_sent(conn: Connection, channel: str, ticket: str) -> datetime | None:
    """When the first notice about ``ticket`` went out on ``channel``."""
    return parse(conn.execute(select(func.min(notices.c.sent_at)).where(
        notices.c.channel == channel, notices.c.ticket_key == ticket)).scalar())
