"""vulnmark's own JSON Lines format: one ticket per line, one JSON object per ticket.

Schema (every time is ISO 8601; without an offset it is taken as UTC; a bare date is midnight
UTC; :func:`ticket_to_json` writes UTC with a ``Z``)::

    {"key": "CA-17",                       required, non-empty string
     "title": "Weak TLS cipher on OCSP",   required string
     "created": "2026-01-05T09:00:00Z",    required time
     "description": "...",                 string (default "")
     "labels": ["Sérülékenység", "HIGH"],  list of labels: non-empty, no whitespace, <= 255 chars
     "status": "Open",                     string (default "Open")
     "updated": null, "resolved": null,    time or null
     "resolution": null,                   string or null
     "reporter": null, "url": null, "priority": null, "issue_type": null,   string or null
     "discovered": null,                   time or null (deadline clock start; default created)
     "reporter_id": null, "assignee": null, "assignee_id": null,            string or null
     "reporter_email": null, "assignee_email": null,   plain email address or null
     "source": "jsonl",                    string (default "jsonl"), the system the ticket is from
     "comments": [{"body": "rated HIGH", "author": "ann", "created": "2026-01-06T10:00:00Z"}],
     "label_history": [{"at": "2026-01-06T10:05:00Z", "author": "ann",
                        "added": ["HIGH"], "removed": []}]}

``comments[].body`` and ``label_history[].at`` are required; the other keys of their objects
may be null or absent. Any key not listed here is an error, so a typo never drops data
silently. Texts longer than ``MAX_TEXT_CHARS`` are cut with a marker, as for Jira input.
"""

from __future__ import annotations

import logging
from datetime import datetime

from vulnmark._time import iso
from vulnmark.errors import InputError
from vulnmark.model import Comment, LabelChange, Ticket
from vulnmark.sources.interface import (
    cap_text,
    cap_ticket,
    check_email,
    check_key,
    check_labels,
    parse_time,
    type_name,
)

logger = logging.getLogger(__name__)

TICKET_KEYS: tuple[str, ...] = (
    "key",
    "title",
    "description",
    "labels",
    "status",
    "created",
    "updated",
    "resolved",
    "resolution",
    "reporter",
    "url",
    "priority",
    "issue_type",
    "discovered",
    "source",
    "comments",
    "label_history",
    "reporter_id",
    "reporter_email",
    "assignee",
    "assignee_id",
    "assignee_email",
)
COMMENT_KEYS: tuple[str, ...] = ("body", "author", "created")
LABEL_CHANGE_KEYS: tuple[str, ...] = ("at", "author", "added", "removed")
DEFAULT_SOURCE = "jsonl"


def ticket_to_json(ticket: Ticket) -> dict[str, object]:
    """The JSON Lines object of ``ticket`` (every key present; ``json.dumps`` it per line)."""
    return {
        "key": ticket.key,
        "title": ticket.title,
        "description": ticket.description,
        "labels": list(ticket.labels),
        "status": ticket.status,
        "created": iso(ticket.created),
        "updated": iso(ticket.updated),
        "resolved": iso(ticket.resolved),
        "resolution": ticket.resolution,
        "reporter": ticket.reporter,
        "url": ticket.url,
        "priority": ticket.priority,
        "issue_type": ticket.issue_type,
        "discovered": iso(ticket.discovered),
        "source": ticket.source,
        "comments": [
            {"body": c.body, "author": c.author, "created": iso(c.created)}
            for c in ticket.comments
        ],
        "label_history": [
            {
                "at": iso(change.at),
                "author": change.author,
                "added": list(change.added),
                "removed": list(change.removed),
            }
            for change in ticket.label_history
        ],
        "reporter_id": ticket.reporter_id,
        "reporter_email": ticket.reporter_email,
        "assignee": ticket.assignee,
        "assignee_id": ticket.assignee_id,
        "assignee_email": ticket.assignee_email,
    }


def ticket_from_json(obj: object, *, file: str, line: int) -> Ticket:
    """Validate one JSON Lines object and build its Ticket; errors name file, line and field."""
    try:
        return _ticket(obj)
    except InputError as err:
        raise err.located(file=file, line=line) from None


def _ticket(obj: object) -> Ticket:
    if not isinstance(obj, dict):
        raise InputError(f"a ticket must be a JSON object, got {type_name(obj)}")
    key = check_key(obj.get("key"))
    _no_unknown_keys(obj, TICKET_KEYS, key, "")
    title = obj.get("title")
    if not isinstance(title, str):
        raise InputError(f"{key}: title must be a string, got {type_name(title)}", field="title")
    return cap_ticket(Ticket(
        key=key,
        title=title,
        created=parse_time(obj.get("created"), what=key, field="created"),
        description=cap_text(_opt_str(obj, "description", key) or "", what=f"{key} description"),
        labels=check_labels(obj.get("labels"), what=key),
        status=_opt_str(obj, "status", key) or "Open",
        resolved=_opt_time(obj, "resolved", key),
        resolution=_opt_str(obj, "resolution", key),
        updated=_opt_time(obj, "updated", key),
        reporter=_opt_str(obj, "reporter", key),
        url=_opt_str(obj, "url", key),
        priority=_opt_str(obj, "priority", key),
        issue_type=_opt_str(obj, "issue_type", key),
        source=_opt_str(obj, "source", key) or DEFAULT_SOURCE,
        discovered=_opt_time(obj, "discovered", key),
        comments=tuple(_comment(c, key, i) for i, c in enumerate(_list(obj, "comments", key))),
        label_history=tuple(
            _label_change(c, key, i) for i, c in enumerate(_list(obj, "label_history", key))
        ),
        reporter_id=_opt_str(obj, "reporter_id", key),
        reporter_email=check_email(obj.get("reporter_email"), what=key, field="reporter_email"),
        assignee=_opt_str(obj, "assignee", key),
        assignee_id=_opt_str(obj, "assignee_id", key),
        assignee_email=check_email(obj.get("assignee_email"), what=key, field="assignee_email"),
    ))


def _comment(obj: object, key: str, index: int) -> Comment:
    where = f"comments[{index}]"
    if not isinstance(obj, dict):
        raise InputError(f"{key}: a comment must be an object", field=where)
    _no_unknown_keys(obj, COMMENT_KEYS, key, where + ".")
    body = obj.get("body")
    if not isinstance(body, str):
        raise InputError(
            f"{key}: comment body must be a string, got {type_name(body)}", field=where + ".body"
        )
    return Comment(
        body=cap_text(body, what=f"{key} {where}"),
        author=_opt_str(obj, "author", key, where + "."),
        created=_opt_time(obj, "created", key, where + "."),
    )


def _label_change(obj: object, key: str, index: int) -> LabelChange:
    where = f"label_history[{index}]"
    if not isinstance(obj, dict):
        raise InputError(f"{key}: a label change must be an object", field=where)
    _no_unknown_keys(obj, LABEL_CHANGE_KEYS, key, where + ".")
    return LabelChange(
        at=parse_time(obj.get("at"), what=key, field=where + ".at"),
        author=_opt_str(obj, "author", key, where + "."),
        added=check_labels(obj.get("added"), what=key, field=where + ".added"),
        removed=check_labels(obj.get("removed"), what=key, field=where + ".removed"),
    )


def _no_unknown_keys(obj: dict[str, object], allowed: tuple[str, ...], key: str, at: str) -> None:
    for name in obj:
        if name not in allowed:
            raise InputError(
                f"{key}: unknown key {name!r} (allowed: {', '.join(allowed)})", field=at + name
            )


def _opt_str(obj: dict[str, object], name: str, key: str, at: str = "") -> str | None:
    value = obj.get(name)
    if value is None or isinstance(value, str):
        return value
    raise InputError(
        f"{key}: {name} must be a string or null, got {type_name(value)}", field=at + name
    )


def _opt_time(obj: dict[str, object], name: str, key: str, at: str = "") -> datetime | None:
    value = obj.get(name)
    return None if value is None else parse_time(value, what=key, field=at + name)


def _list(obj: dict[str, object], name: str, key: str) -> list[object]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{key}: {name} must be a list, got {type_name(value)}", field=name)
    return value


