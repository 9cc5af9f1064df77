"""What the evidence log says about the policy and its page: when the policy in force took
effect, and which page version was last published with which digest (read by
``vulnmark policy page``/``publish`` and by the report's control health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vulnmark._time import parse
from vulnmark.evidence.chain import Record
from vulnmark.evidence.events import PolicyChanged, PolicyPagePublished, read
from vulnmark.store import Store
from vulnmark.store import events as store_events


@dataclass(frozen=True)
class Published:
    """The last publication of the policy page, as the evidence log records it."""

    at: datetime
    event: PolicyPagePublished


def effective_since(store: Store, digest: str) -> datetime | None:
    """When the policy with ``digest`` was first recorded as in force (None: not yet)."""
    with store.reading() as conn:
        for record in store_events.of_kind(conn, PolicyChanged.kind):
            event = read(record)
            if isinstance(event, PolicyChanged) and event.digest == digest:
                return _at(record)
    return None


def last_published(store: Store) -> Published | None:
    """The newest ``policy_page`` record (None: the page was never published)."""
    found = None
    with store.reading() as conn:
        for record in store_events.of_kind(conn, PolicyPagePublished.kind):
            event = read(record)
            if isinstance(event, PolicyPagePublished):
                found = Published(_at(record), event)
    return found


def _at(record: Record) -> datetime:
    at = parse(record.at)
    assert at is not None  # every record has its time
    return at
