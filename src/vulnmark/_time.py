"""The one UTC time codec: times as the store keeps them, as JSON shows them, and back.

* :func:`stored`: fixed-width ISO-8601 UTC text, ``2026-11-27T07:00:00.000000Z``. The store
  keeps every time this way: it sorts and compares correctly in SQL on SQLite and PostgreSQL.
* :func:`iso`: ISO-8601 UTC with a ``Z`` suffix, ``2026-11-27T07:00:00Z`` (microseconds only
  when there are some): the JSON contract's time format, also used in evidence and sync state.
* :func:`parse`: either text back to an aware datetime.

Naive datetimes are taken as UTC; aware ones are converted to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "parse", "stored", "utc"]


def utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive datetime is taken as UTC)."""
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stored(value: datetime | None) -> str | None:
    """A time as the store keeps it (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = utc(value)
    # isoformat is several times faster than strftime; years 1-9999 keep the fixed width
    return value.isoformat(timespec="microseconds")[:26] + "Z"


def iso(value: datetime | None) -> str | None:
    """A time as JSON shows it (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = utc(value)
    return value.isoformat().replace("+00:00", "Z")


def parse(value: str | None) -> datetime | None:
    """Stored or JSON text back to a datetime (None or "" gives None)."""
    return datetime.fromisoformat(value) if value else None
