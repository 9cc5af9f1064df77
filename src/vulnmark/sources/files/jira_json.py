"""Jira REST issue JSON (API v2 wiki-markup strings or v3 ADF) to :class:`~vulnmark.model.Ticket`.

Accepted documents (:func:`iter_jira_document`): a search response ``{"issues": [...]}`` from
``/rest/api/2/search`` (``startAt``/``total``) or ``/rest/api/3/search/jql``
(``nextPageToken``/``isLast``), a single issue (``IssueBean``), or a JSON list of issues.

Mapping (:func:`ticket_from_jira`), unknown and custom fields ignored, nulls allowed where
Jira sends them:

=================  =============================================================================
Ticket             Jira
=================  =============================================================================
key                ``key`` (required)
title              ``fields.summary`` (required string)
created / updated  ``fields.created`` (required) / ``fields.updated``, to aware UTC
description        ``fields.description``: v2 string kept as is, v3 ADF via :func:`adf_to_text`
labels             ``fields.labels`` (each a non-empty string, no whitespace, <= 255 chars)
status             ``fields.status.name`` (default ``Open``)
resolved           ``fields.resolutiondate``; resolution = ``fields.resolution.name``
reporter           ``fields.reporter``: displayName, else emailAddress, name, accountId;
                   reporter_id = accountId (Cloud) else name (Data Center), reporter_email =
                   emailAddress when shown and a plain address (else left out, logged)
assignee           ``fields.assignee``, the same way: assignee, assignee_id, assignee_email
priority           ``fields.priority.name``; issue_type = ``fields.issuetype.name``
url                ``{base_url}/browse/{key}``, base from ``base_url`` or ``self`` before /rest/api/
discovered         ``fields[discovery_field]`` (date or date-time) when a field is configured
comments           ``fields.comment.comments`` (PageOfComments; a bare list is accepted too)
label_history      ``changelog.histories`` (or PageBean ``values``) items with field ``labels``
=================  =============================================================================

Search results carry at most 20-40 comments and changelog entries; fetching the rest is the
sync's job, not this module's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from vulnmark.errors import InputError
from vulnmark.model import Comment, LabelChange, Ticket
from vulnmark.sources.files.adf import adf_to_text
from vulnmark.sources.interface import (
    JIRA_KEY,
    cap_text,
    cap_ticket,
    check_email,
    check_key,
    check_labels,
    parse_time,
    type_name,
)

logger = logging.getLogger(__name__)


def iter_jira_document(doc: object, *, file: str) -> Iterator[dict[str, Any]]:
    """Yield the issue objects of a search response, a single issue or a list of issues."""
    if isinstance(doc, dict) and "issues" in doc:
        issues = doc["issues"]
        if not isinstance(issues, list):
            raise InputError("'issues' must be a list", file=file, field="issues")
        where = "issues"
    elif isinstance(doc, dict) and ("fields" in doc or "key" in doc):
        yield doc
        return
    elif isinstance(doc, list):
        issues, where = doc, ""
    else:
        raise InputError(
            "not a Jira document: expected a search response {\"issues\": [...]}, "
            "an issue {\"key\", \"fields\"} or a list of issues",
            file=file,
        )
    for index, issue in enumerate(issues):
        if not isinstance(issue, dict):
            raise InputError(
                f"issue #{index + 1} is not a JSON object", file=file, field=f"{where}[{index}]"
            )
        yield issue


def ticket_from_jira(
    issue: dict[str, Any],
    *,
    base_url: str | None = None,
    discovery_field: str | None = None,
    source: str = "jira",
) -> Ticket:
    """Map one Jira issue (v2 or v3 JSON) to a Ticket; bad input raises :class:`InputError`."""
    if not isinstance(issue, dict):
        raise InputError("issue is not a JSON object")
    raw_key = issue.get("key")
    if not isinstance(raw_key, str) or not raw_key:
        raise InputError(
            f"issue {_describe(issue)} has no 'key' string (got {type_name(raw_key)})",
            field="key",
        )
    key = check_key(raw_key, syntax=JIRA_KEY)
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise InputError(
            f"{key}: 'fields' must be an object (got {type_name(fields)}); "
            "request fields=*navigable or at least summary,created,labels",
            field="fields",
        )
    summary = fields.get("summary")
    if not isinstance(summary, str):
        raise InputError(f"{key}: summary must be a string, got {type_name(summary)}",
                         field="summary")
    discovered = None
    if discovery_field is not None and fields.get(discovery_field) is not None:
        discovered = parse_time(fields[discovery_field], what=key, field=discovery_field)
    resolution = _name(fields.get("resolution"), key, "resolution")
    reporter = _person(fields.get("reporter"), key, "reporter")
    assignee = _person(fields.get("assignee"), key, "assignee")
    return cap_ticket(Ticket(
        key=key,
        title=summary,
        created=parse_time(fields.get("created"), what=key, field="created"),
        description=_text(fields.get("description"), key, "description"),
        labels=check_labels(fields.get("labels"), what=key),
        status=_name(fields.get("status"), key, "status") or "Open",
        resolved=_time(fields.get("resolutiondate"), key, "resolutiondate"),
        resolution=resolution,
        updated=_time(fields.get("updated"), key, "updated"),
        reporter=reporter[0], reporter_id=reporter[1], reporter_email=reporter[2],
        assignee=assignee[0], assignee_id=assignee[1], assignee_email=assignee[2],
        url=_browse_url(key, base_url, issue.get("self")),
        priority=_name(fields.get("priority"), key, "priority"),
        issue_type=_name(fields.get("issuetype"), key, "issuetype"),
        source=source,
        discovered=discovered,
        comments=_comments(fields.get("comment"), key),
        label_history=_label_history(issue.get("changelog"), key),
    ))


def _describe(issue: dict[str, object]) -> str:
    ident = issue.get("id")
    return f"id {ident}" if isinstance(ident, str | int) else "(no id)"



def _text(value: object, key: str, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list):
        text = adf_to_text(value)
    else:
        raise InputError(
            f"{key}: {field} must be a string or an ADF document, got {type_name(value)}",
            field=field,
        )
    return cap_text(text, what=f"{key} {field}")


def _time(value: object, key: str, field: str) -> datetime | None:
    return None if value is None else parse_time(value, what=key, field=field)


def _name(value: object, key: str, field: str) -> str | None:
    """``{"name": ...}`` objects (status, priority, issuetype, resolution); a string is its name."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        if name is None or isinstance(name, str):
            return name
    raise InputError(f"{key}: {field} must be an object with a 'name' string", field=field)


def _user(value: object, key: str, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise InputError(f"{key}: {field} must be a user object", field=field)
    for attr in ("displayName", "emailAddress", "name", "accountId"):
        candidate = value.get(attr)
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _person(value: object, key: str, field: str) -> tuple[str | None, str | None, str | None]:
    """(name, account id, email) of a Jira user object; a bare string is a name."""
    name = _user(value, key, field)
    if not isinstance(value, dict):
        return name, None, None
    ident = next((v for v in (value.get("accountId"), value.get("name"))
                  if isinstance(v, str) and v), None)
    email = check_email(value.get("emailAddress"), what=key, field=f"{field}.emailAddress",
                        strict=False)
    return name, ident, email


def _browse_url(key: str, base_url: str | None, self_link: object) -> str | None:
    base = base_url
    if base is None and isinstance(self_link, str) and "/rest/api/" in self_link:
        base = self_link[: self_link.index("/rest/api/")]
    return f"{base.rstrip('/')}/browse/{key}" if base else None


def _comments(value: object, key: str) -> tuple[Comment, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        items = value.get("comments")
        if items is None:
            return ()
    else:
        items = value  # the spec's search example shows a bare list
    if not isinstance(items, list):
        raise InputError(f"{key}: comment.comments must be a list", field="comment.comments")
    comments: list[Comment] = []
    for index, item in enumerate(items):
        field = f"comment.comments[{index}]"
        if not isinstance(item, dict):
            raise InputError(f"{key}: comment #{index + 1} is not an object", field=field)
        comments.append(
            Comment(
                body=_text(item.get("body"), key, f"{field}.body"),
                author=_user(item.get("author"), key, f"{field}.author"),
                created=_time(item.get("created"), key, f"{field}.created"),
            )
        )
    return tuple(comments)


def _label_history(changelog: object, key: str) -> tuple[LabelChange, ...]:
    if not isinstance(changelog, dict):
        return ()
    histories = changelog.get("histories", changelog.get("values"))
    if histories is None:
        return ()
    if not isinstance(histories, list):
        raise InputError(f"{key}: changelog.histories must be a list", field="changelog.histories")
    changes: list[LabelChange] = []
    for index, history in enumerate(histories):
        field = f"changelog.histories[{index}]"
        if not isinstance(history, dict) or not isinstance(history.get("items"), list):
            continue
        added: list[str] = []
        removed: list[str] = []
        for item in cast(list[object], history["items"]):
            if not isinstance(item, dict) or (item.get("field") or item.get("fieldId")) != "labels":
                continue
            before = _label_set(item.get("fromString"))
            after = _label_set(item.get("toString"))
            added += [label for label in after if label not in before and label not in added]
            removed += [label for label in before if label not in after and label not in removed]
        if added or removed:
            changes.append(
                LabelChange(
                    at=parse_time(history.get("created"), what=key, field=f"{field}.created"),
                    author=_user(history.get("author"), key, f"{field}.author"),
                    added=tuple(added),
                    removed=tuple(removed),
                )
            )
    changes.sort(key=lambda change: change.at)
    return tuple(changes)


def _label_set(value: object) -> list[str]:
    """A changelog label value: the whole label set, space-separated (order kept, no dupes)."""
    if not isinstance(value, str):
        return []
    return list(dict.fromkeys(value.split()))
