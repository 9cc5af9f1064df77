"""vulnmark JSON Lines: the schema, a lossless round trip, and errors naming file, line and key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from vulnmark.errors import InputError
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey
from vulnmark.sources.files.jsonl import TICKET_KEYS, ticket_from_json, ticket_to_json

FULL = Ticket(
    key=TicketKey("CA-7"),
    title="Weak cipher <script>alert(1)</script> on OCSP",
    created=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    description="line 1\nbesorolás: kritikus\n{quote}rated HIGH{quote}",
    labels=("Sérülékenység", "MAGAS"),
    status="Done",
    resolved=datetime(2026, 1, 7, 9, 0, 0, 123456, tzinfo=UTC),
    resolution="Fixed",
    updated=datetime(2026, 1, 7, 10, 0, tzinfo=UTC),
    reporter="Ann Auditor",
    url="https://jira.example.test/browse/CA-7",
    priority="High",
    issue_type="Vulnerability",
    source="jira",
    discovered=datetime(2026, 1, 4, tzinfo=UTC),
    comments=(
        Comment(body="rated HIGH", author="Bob", created=datetime(2026, 1, 5, 10, tzinfo=UTC)),
        Comment(body="anonymous"),
    ),
    label_history=(
        LabelChange(at=datetime(2026, 1, 5, 11, tzinfo=UTC), author="Bob",
                    added=("Sérülékenység", "MAGAS")),
        LabelChange(at=datetime(2026, 1, 6, 11, tzinfo=UTC), author=None, removed=("OLD",)),
    ),
    reporter_id="ann", reporter_email="ann@jira.example.test", assignee="Bob Builder",
    assignee_id="557058:bob", assignee_email="bob@jira.example.test",
)

MINIMAL_LINE = {"key": "CA-1", "title": "t", "created": "2026-01-01T00:00:00Z"}


def test_round_trip_through_json_text_is_lossless() -> None:
    line = json.dumps(ticket_to_json(FULL), ensure_ascii=False)
    assert ticket_from_json(json.loads(line), file="t.jsonl", line=1) == FULL


def test_round_trip_of_minimal_ticket_and_defaults() -> None:
    ticket = ticket_from_json(MINIMAL_LINE, file="t.jsonl", line=1)
    assert ticket == Ticket(key=TicketKey("CA-1"), title="t",
                            created=datetime(2026, 1, 1, tzinfo=UTC), source="jsonl")
    assert ticket_from_json(ticket_to_json(ticket), file="t.jsonl", line=1) == ticket


def test_written_object_has_exactly_the_documented_keys() -> None:
    obj = ticket_to_json(FULL)
    assert tuple(obj) == TICKET_KEYS
    assert obj["created"] == "2026-01-05T09:00:00Z"
    assert obj["comments"] == [
        {"body": "rated HIGH", "author": "Bob", "created": "2026-01-05T10:00:00Z"},
        {"body": "anonymous", "author": None, "created": None},
    ]
    history = obj["label_history"]
    assert isinstance(history, list)
    assert history[1] == {
        "at": "2026-01-06T11:00:00Z", "author": None, "added": [], "removed": ["OLD"]
    }


def test_times_are_normalised_to_utc() -> None:
    obj = dict(MINIMAL_LINE, created="2026-01-01T02:00:00+02:00", updated="2026-01-02T03:04:05",
               discovered="2025-12-31")
    ticket = ticket_from_json(obj, file="t.jsonl", line=1)
    assert ticket.created == datetime(2026, 1, 1, tzinfo=UTC) and ticket.created.tzinfo is UTC
    assert ticket.updated == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert ticket.discovered == datetime(2025, 12, 31, tzinfo=UTC)


def test_non_utc_ticket_round_trips_to_the_same_instant() -> None:
    cet = timezone(timedelta(hours=1))
    ticket = Ticket(key=TicketKey("A-1"), title="t", created=datetime(2026, 1, 1, 1, tzinfo=cet))
    back = ticket_from_json(ticket_to_json(ticket), file="f", line=1)
    assert back.created == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"colour": "red"}, "colour", "unknown key 'colour'"),
        ({"comments": [{"body": "b", "date": "x"}]}, "comments[0].date", "unknown key 'date'"),
        ({"label_history": [{"at": "2026-01-01", "who": "x"}]}, "label_history[0].who",
         "unknown key"),
        ({"key": ""}, "key", "non-empty string"),
        ({"key": None}, "key", "non-empty string"),
        ({"title": None}, "title", "title must be a string"),
        ({"created": None}, "created", "expected an ISO 8601"),
        ({"created": "01/02/2026"}, "created", "not an ISO 8601 time"),
        ({"labels": ["HIGH", "not ok"]}, "labels[1]", "contains whitespace"),
        ({"labels": "HIGH"}, "labels", "must be a list"),
        ({"status": 3}, "status", "must be a string or null"),
        ({"comments": {"body": "x"}}, "comments", "must be a list"),
        ({"comments": ["x"]}, "comments[0]", "must be an object"),
        ({"comments": [{"author": "x"}]}, "comments[0].body", "body must be a string"),
        ({"comments": [{"body": "x", "created": "later"}]}, "comments[0].created", "ISO 8601"),
        ({"label_history": [{"added": ["x"]}]}, "label_history[0].at", "ISO 8601"),
        ({"assignee_email": "bob@x.example\nBcc: eve@x.example"}, "assignee_email",
         "not a plain email address"),
        ({"reporter_email": ["ann@x.example"]}, "reporter_email", "not a plain email address"),
        ({"assignee": 7}, "assignee", "must be a string or null"),
        ({"label_history": [{"at": "2026-01-01", "added": ["a b"]}]},
         "label_history[0].added[0]", "whitespace"),
    ],
)
def test_bad_lines_name_file_line_and_field(
    change: dict[str, Any], field: str, needle: str
) -> None:
    obj = dict(MINIMAL_LINE, **change)
    with pytest.raises(InputError) as err:
        ticket_from_json(obj, file="tickets.jsonl", line=12)
    assert (err.value.file, err.value.line, err.value.field) == ("tickets.jsonl", 12, field)
    assert str(err.value).startswith(f"tickets.jsonl: line 12: field {field}: ")
    assert needle in str(err.value)


@pytest.mark.parametrize("obj", [[MINIMAL_LINE], "CA-1", 5, None])
def test_line_that_is_not_an_object(obj: object) -> None:
    with pytest.raises(InputError, match=r"^t\.jsonl: line 3: a ticket must be a JSON object"):
        ticket_from_json(obj, file="t.jsonl", line=3)
