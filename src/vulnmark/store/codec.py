"""Converting tickets to rows and back, and the content hash that detects changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from vulnmark._time import parse, stored
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey, filled

#: The people columns (migration 0009): who reported the ticket and who it is assigned to.
PEOPLE: tuple[str, ...] = (
    "reporter_id", "reporter_email", "assignee", "assignee_id", "assignee_email")


def content_hash(t: Ticket) -> str:
    """SHA-256 over everything a check or a reminder can depend on.

    The people fields are appended only when one is set, so a ticket without them keeps the
    hash it had before they were stored (no store-wide rewrite after the upgrade)."""
    people = [getattr(t, name) for name in PEOPLE]
    blob = json.dumps(
        [
            t.key, t.title, t.description, list(t.labels), t.status, t.resolution,
            stored(t.created), stored(t.updated), stored(t.resolved), stored(t.discovered),
            t.reporter, t.url, t.priority, t.issue_type, t.source,
            [[c.body, c.author, stored(c.created)] for c in t.comments],
            [[stored(h.at), h.author, list(h.added), list(h.removed)] for h in t.label_history],
            *([people] if any(people) else []),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def ticket_row(t: Ticket, digest: str) -> dict[str, Any]:
    return {
        "key": t.key,
        "source": t.source,
        "title": t.title,
        "description": t.description,
        "labels": json.dumps(list(t.labels), ensure_ascii=False),
        "status": t.status,
        "resolution": t.resolution,
        "created_at": stored(t.created),
        "updated_at": stored(t.updated),
        "resolved_at": stored(t.resolved),
        "discovered_at": stored(t.discovered),
        "reporter": t.reporter,
        "url": t.url,
        "priority": t.priority,
        "issue_type": t.issue_type,
        **{name: getattr(t, name) for name in PEOPLE},
        "content_hash": digest,
    }


def comment_rows(t: Ticket) -> list[dict[str, Any]]:
    return [
        {"ticket_key": t.key, "idx": i, "author": c.author, "created_at": stored(c.created),
         "body": c.body}
        for i, c in enumerate(t.comments)
    ]


def history_row(key: str, h: LabelChange, recorded_at: datetime | None = None) -> dict[str, Any]:
    """A label-history row; ``recorded_at``: when vulnmark recorded it (the wall clock)."""
    return {
        "ticket_key": key,
        "at": stored(h.at),
        "author": h.author,
        "added": json.dumps(list(h.added), ensure_ascii=False),
        "removed": json.dumps(list(h.removed), ensure_ascii=False),
        "recorded_at": stored(recorded_at),
    }


def ticket_from_row(row: Any, comments: Sequence[Any] = (), history: Sequence[Any] = ()) -> Ticket:
    """A ticket from its row and its comment and label-history rows (attribute access)."""
    created = parse(row.created_at)
    assert created is not None
    return Ticket(
        key=TicketKey(row.key),
        title=row.title,
        created=created,
        description=row.description,
        labels=tuple(json.loads(row.labels)),
        status=row.status,
        resolved=parse(row.resolved_at),
        resolution=row.resolution,
        updated=parse(row.updated_at),
        reporter=row.reporter,
        url=row.url,
        priority=row.priority,
        issue_type=row.issue_type,
        source=row.source,
        discovered=parse(row.discovered_at),
        **{name: getattr(row, name) for name in PEOPLE},
        comments=tuple(
            Comment(body=c.body, author=c.author, created=parse(c.created_at))
            for c in comments
        ),
        label_history=tuple(
            LabelChange(
                at=parse(h.at) or created,
                author=h.author,
                added=tuple(json.loads(h.added)),
                removed=tuple(json.loads(h.removed)),
            )
            for h in history
        ),
    )


#: The ticket columns :func:`ticket_from_values` takes, in this order.
TICKET_COLUMNS: tuple[str, ...] = (
    "key", "title", "created_at", "description", "labels", "status", "resolved_at",
    "resolution", "updated_at", "reporter", "url", "priority", "issue_type", "source",
    "discovered_at", *PEOPLE,
)
#: The comment columns :func:`comment_from_values` takes (after ``ticket_key``).
COMMENT_COLUMNS: tuple[str, ...] = ("body", "author", "created_at")
#: The label-change columns :func:`label_change_from_values` takes (after ``ticket_key``).
HISTORY_COLUMNS: tuple[str, ...] = ("at", "author", "added", "removed")

_fromiso = datetime.fromisoformat


def _labels(raw: str) -> tuple[str, ...]:
    return () if raw == "[]" else tuple(json.loads(raw))


# Pages of a million tickets are built here, with :func:`vulnmark.model.filled`;
# tests/store/test_pages.py checks them against the constructors, field for field.

def comment_from_values(body: str, author: str | None, created_at: str | None) -> Comment:
    return filled(Comment, body=body, author=author,
                  created=_fromiso(created_at) if created_at else None)


def label_change_from_values(at: str | None, author: str | None, added: str, removed: str,
                             created_at: str) -> LabelChange:
    """A label change; one without a time took place at ``created_at`` (the ticket's)."""
    return LabelChange(_fromiso(at or created_at), author, _labels(added), _labels(removed))


def ticket_from_values(values: Sequence[Any], comments: Sequence[Comment] = (),
                       history: Sequence[LabelChange] = ()) -> Ticket:
    """A ticket from the values of :data:`TICKET_COLUMNS` (the fast path of a page read);
    the same ticket :func:`ticket_from_row` builds."""
    (key, title, created_at, description, labels, status, resolved_at, resolution, updated_at,
     reporter, url, priority, issue_type, source, discovered_at, reporter_id, reporter_email,
     assignee, assignee_id, assignee_email) = values[:len(TICKET_COLUMNS)]
    return filled(
        Ticket, key=key, title=title, created=_fromiso(created_at), description=description,
        labels=_labels(labels), status=status,
        resolved=_fromiso(resolved_at) if resolved_at else None, resolution=resolution,
        updated=_fromiso(updated_at) if updated_at else None, reporter=reporter, url=url,
        priority=priority, issue_type=issue_type, source=source,
        discovered=_fromiso(discovered_at) if discovered_at else None,
        comments=tuple(comments), label_history=tuple(history), reporter_id=reporter_id,
        reporter_email=reporter_email, assignee=assignee, assignee_id=assignee_id,
        assignee_email=assignee_email,
    )
