"""Jira REST JSON -> Ticket: real Apache data, v3 shapes checked against the spec, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared_data import jira_spec
from vulnmark.errors import InputError
from vulnmark.sources.files.jira_json import iter_jira_document, ticket_from_jira
from vulnmark.sources.interface import MAX_TEXT_CHARS

# ---------------------------------------------------------------- the real Apache issues (v2)


def test_real_apache_issues_map_field_by_field(
    apache_pages: list[Path], apache_manifest: dict[str, dict[str, Any]]
) -> None:
    seen: set[str] = set()
    for page in apache_pages:
        doc = json.loads(page.read_text(encoding="utf-8"))
        for issue in iter_jira_document(doc, file=str(page)):
            ticket = ticket_from_jira(issue)
            fields = issue["fields"]
            assert ticket.key not in seen
            seen.add(ticket.key)
            row = apache_manifest[ticket.key]
            assert list(ticket.labels) == row["labels"]
            assert ticket.priority == row["priority"]
            assert ticket.issue_type == row["issuetype"]
            raw_comments = (fields.get("comment") or {}).get("comments") or []
            assert len(ticket.comments) == len(raw_comments)
            assert ticket.title == fields["summary"]
            assert ticket.description == (fields["description"] or "")
            assert ticket.status == fields["status"]["name"]
            assert (ticket.resolved is None) == (fields["resolutiondate"] is None)
            assert ticket.resolution == (fields["resolution"] or {}).get("name")
            assert ticket.reporter == fields["reporter"]["displayName"]
            assert ticket.reporter_id == fields["reporter"]["name"]
            assert ticket.reporter_email is None  # Apache's Jira hides addresses
            assignee = fields.get("assignee") or {}
            assert (ticket.assignee, ticket.assignee_id) == (assignee.get("displayName"),
                                                             assignee.get("name"))
            assert ticket.url == f"https://issues.apache.org/jira/browse/{ticket.key}"
            assert ticket.source == "jira"
            assert ticket.created.tzinfo is UTC
            assert ticket.updated is not None and ticket.updated >= ticket.created
    assert len(seen) == 1299 == len(apache_manifest)


def test_real_security_labels_survive(apache_pages: list[Path]) -> None:
    doc = json.loads(apache_pages[0].read_text(encoding="utf-8"))
    tickets = [ticket_from_jira(issue) for issue in doc["issues"]]
    assert any("security" in t.labels for t in tickets)


# ---------------------------------------------------------------- v2 mapping details


def test_v2_issue_mapping(v2_issue: dict[str, Any]) -> None:
    ticket = ticket_from_jira(v2_issue, discovery_field="customfield_10900")
    assert ticket.key == "CA-42"
    assert ticket.title == "OCSP responder accepts SHA-1 requests"
    assert ticket.description == "h2. Impact\n{quote}rated HIGH by the auditor{quote}"
    assert ticket.labels == ("Sérülékenység", "HIGH")
    assert ticket.status == "In Progress"
    assert ticket.state == "open"
    assert ticket.created == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert ticket.created.utcoffset() is not None and ticket.created.tzinfo is UTC
    assert ticket.discovered == datetime(2026, 1, 3, tzinfo=UTC)
    assert ticket.discovered_at == ticket.discovered
    assert ticket.reporter == "Ann Auditor"
    assert ticket.url == "https://jira.example.test/jira/browse/CA-42"
    assert [(c.body, c.author) for c in ticket.comments] == [
        ("first", "Bob"),
        ("besorolás: kritikus", None),
    ]
    assert ticket.comments[0].created == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_base_url_wins_and_resolution_is_mapped(v2_issue: dict[str, Any]) -> None:
    v2_issue["fields"]["resolution"] = {"name": "Fixed", "id": "1"}
    v2_issue["fields"]["resolutiondate"] = "2026-01-07T23:30:00.000-0200"
    ticket = ticket_from_jira(v2_issue, base_url="https://jira.ca.test/", source="jira-dc")
    assert ticket.url == "https://jira.ca.test/browse/CA-42"
    assert ticket.source == "jira-dc"
    assert ticket.resolution == "Fixed"
    assert ticket.resolved == datetime(2026, 1, 8, 1, 30, tzinfo=UTC)
    assert ticket.state == "resolved"


def test_null_and_absent_optional_fields_are_fine() -> None:
    issue = {
        "key": "XY-1",
        "fields": {
            "summary": "",
            "created": "2026-01-01T00:00:00.000+0000",
            "description": None,
            "labels": None,
            "status": None,
            "reporter": None,
            "comment": None,
            "priority": None,
        },
        "changelog": None,
    }
    ticket = ticket_from_jira(issue, discovery_field="customfield_1")
    assert (ticket.description, ticket.labels, ticket.status, ticket.url) == ("", (), "Open", None)
    assert ticket.comments == () and ticket.label_history == () and ticket.discovered is None


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"emailAddress": "a@example.test", "accountId": "557058:1"}, "a@example.test"),
        ({"name": "bob", "accountId": "557058:2"}, "bob"),
        ({"accountId": "557058:3", "displayName": ""}, "557058:3"),
        ({"active": False}, None),
    ],
)
def test_reporter_falls_back(v2_issue: dict[str, Any], user: dict[str, Any], expected: str) -> None:
    v2_issue["fields"]["reporter"] = user
    assert ticket_from_jira(v2_issue).reporter == expected


def test_reporter_and_assignee_keep_id_and_email_v2(v2_issue: dict[str, Any]) -> None:
    v2_issue["fields"]["reporter"] = {"name": "ann", "key": "JIRAUSER1",
                                      "displayName": "Ann Auditor",
                                      "emailAddress": "ann@ca.example"}
    v2_issue["fields"]["assignee"] = {"name": "bob", "displayName": "Bob Builder",
                                      "emailAddress": "bob@ca.example"}
    t = ticket_from_jira(v2_issue)
    assert (t.reporter, t.reporter_id, t.reporter_email) == ("Ann Auditor", "ann",
                                                             "ann@ca.example")
    assert (t.assignee, t.assignee_id, t.assignee_email) == ("Bob Builder", "bob",
                                                             "bob@ca.example")


def test_unassigned_and_hidden_addresses_are_none(v2_issue: dict[str, Any]) -> None:
    # Cloud hides emailAddress unless the user's profile allows it: absent or ""
    v2_issue["fields"]["reporter"] = {"accountId": "557058:1", "displayName": "Ann",
                                      "emailAddress": ""}
    v2_issue["fields"]["assignee"] = None
    t = ticket_from_jira(v2_issue)
    assert (t.reporter, t.reporter_id, t.reporter_email) == ("Ann", "557058:1", None)
    assert (t.assignee, t.assignee_id, t.assignee_email) == (None, None, None)


@pytest.mark.parametrize("address", [
    "ann@ca.example>\r\nBcc: all@ca.example", "ann@ca.example, eve@evil.example",
    "Ann <ann@ca.example>", "no-at-sign", "a@b@c.example", "ann@ca.example\x00", 5,
    "x" * 250 + "@ca.example",
])
def test_an_address_that_is_not_plain_is_left_out_and_the_ticket_kept(
        v2_issue: dict[str, Any], address: object, caplog: pytest.LogCaptureFixture) -> None:
    v2_issue["fields"]["assignee"] = {"name": "bob", "displayName": "Bob",
                                      "emailAddress": address}
    t = ticket_from_jira(v2_issue)
    assert (t.key, t.assignee, t.assignee_id, t.assignee_email) == ("CA-42", "Bob", "bob", None)
    assert "CA-42: assignee.emailAddress is not a plain email address" in caplog.text


def test_huge_comment_is_kept_with_a_marker(v2_issue: dict[str, Any]) -> None:
    body = "rated CRITICAL " + "x" * (5 * 1024 * 1024)
    v2_issue["fields"]["comment"]["comments"][0]["body"] = body
    comment = ticket_from_jira(v2_issue).comments[0]
    assert len(comment.body) == MAX_TEXT_CHARS
    assert comment.body.startswith("rated CRITICAL xxx")
    omitted = len(body) - comment.body.index("\n[vulnmark: text truncated")
    assert comment.body.endswith(f"{omitted} more characters not stored]")


# ---------------------------------------------------------------- v3 (Cloud) shapes

ADF_DESCRIPTION = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Main order flow broken"}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "CVE-2026-0001"}]}]}]},
    ],
}


def _history(hid: str, created: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    # Changelog.created is an RFC 3339 date-time in the spec, so "+00:00" here; real Jira (and
    # the spec's own example) write "+0000", which the fields above and other tests use.
    created = created.replace("+0000", "+00:00")
    return {
        "id": hid,
        "author": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof",
                   "active": True},
        "created": created,
        "items": items,
    }


def _labels_item(before: str | None, after: str | None) -> dict[str, Any]:
    # The spec declares ChangeDetails strings non-nullable (real Jira sends nulls): omit them.
    item = {"field": "labels", "fieldtype": "jira", "fieldId": "labels",
            "fromString": before, "toString": after}
    return {name: value for name, value in item.items() if value is not None}


V3_SEARCH_RESPONSE: dict[str, Any] = {
    "isLast": True,
    "issues": [
        {
            "expand": "changelog",
            "id": "10002",
            "key": "ED-1",
            "self": "https://your-domain.atlassian.net/rest/api/3/issue/10002",
            "fields": {
                "summary": "Order flow leaks session tokens",
                "description": ADF_DESCRIPTION,
                "labels": ["vulnerability", "HIGH"],
                "created": "2026-02-01T08:00:00.000+0000",
                "updated": "2026-02-03T08:00:00.000+0000",
                "status": {"name": "To Do"},
                "reporter": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
                "comment": {
                    "comments": [
                        {"id": "1", "author": {"displayName": "Ann"},
                         "created": "2026-02-01T09:00:00.000+0000",
                         "body": {"type": "doc", "version": 1, "content": [
                             {"type": "paragraph", "content": [
                                 {"type": "text", "text": "rated "},
                                 {"type": "text", "text": "HIGH",
                                  "marks": [{"type": "strong"}]}]}]}},
                    ],
                    "maxResults": 1, "startAt": 0, "total": 1,
                },
            },
            "changelog": {
                "startAt": 0,
                "maxResults": 4,
                "total": 4,
                "histories": [
                    # Jira lists newest first in search results; we sort by time.
                    _history("3", "2026-02-03T08:00:00.000+0000",
                             [_labels_item("vulnerability MEDIUM", "vulnerability HIGH")]),
                    _history("2", "2026-02-02T08:00:00.000+0000", [
                        {"field": "status", "fieldtype": "jira", "fromString": "Open",
                         "toString": "To Do"},
                        _labels_item("vulnerability", "vulnerability MEDIUM"),
                    ]),
                    _history("4", "2026-02-03T09:00:00.000+0000",
                             [_labels_item("vulnerability HIGH", "HIGH vulnerability")]),
                    _history("1", "2026-02-01T08:05:00.000+0000",
                             [_labels_item(None, "vulnerability")]),
                ],
            },
        }
    ],
}


@pytest.fixture(scope="module")
def openapi() -> Any:
    openapi_core = pytest.importorskip("openapi_core")
    from openapi_core import Config

    return openapi_core.OpenAPI.from_file_path(str(jira_spec()),
                                               config=Config(spec_validator_cls=None))


def test_v3_fixture_is_a_valid_search_jql_response(openapi: Any) -> None:
    from openapi_core.testing import MockRequest, MockResponse
    from openapi_core.validation.response.exceptions import InvalidData

    request = MockRequest("https://your-domain.atlassian.net", "get", "/rest/api/3/search/jql",
                          args={"jql": "project = ED", "expand": "changelog"})
    response = MockResponse(json.dumps(V3_SEARCH_RESPONSE).encode(), status_code=200,
                            content_type="application/json")
    openapi.validate_response(request, response)
    bad = json.loads(json.dumps(V3_SEARCH_RESPONSE))
    bad["issues"][0]["changelog"]["histories"] = "nope"
    with pytest.raises(InvalidData):
        openapi.validate_response(request, MockResponse(json.dumps(bad).encode(), status_code=200,
                                                        content_type="application/json"))


def test_v3_issue_with_adf_and_changelog() -> None:
    [issue] = list(iter_jira_document(V3_SEARCH_RESPONSE, file="page.json"))
    ticket = ticket_from_jira(issue)
    assert ticket.description == "Main order flow broken\n- CVE-2026-0001"
    assert ticket.comments[0].body == "rated HIGH"
    assert ticket.url == "https://your-domain.atlassian.net/browse/ED-1"
    history = [(c.at.isoformat(), c.author, c.added, c.removed) for c in ticket.label_history]
    assert history == [
        ("2026-02-01T08:05:00+00:00", "Mia Krystof", ("vulnerability",), ()),
        ("2026-02-02T08:00:00+00:00", "Mia Krystof", ("MEDIUM",), ()),
        ("2026-02-03T08:00:00+00:00", "Mia Krystof", ("HIGH",), ("MEDIUM",)),
    ]  # history 4 only reordered the set: no change recorded


def test_v3_assignee_with_account_id_and_email(openapi: Any) -> None:
    from openapi_core.testing import MockRequest, MockResponse

    doc = json.loads(json.dumps(V3_SEARCH_RESPONSE))
    doc["issues"][0]["fields"]["assignee"] = {
        "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
        "displayName": "Kim Lee", "emailAddress": "kim.lee@example.org", "active": True}
    doc["issues"][0]["fields"]["reporter"]["emailAddress"] = "mia@example.org"
    request = MockRequest("https://your-domain.atlassian.net", "get", "/rest/api/3/search/jql",
                          args={"jql": "project = ED", "expand": "changelog"})
    openapi.validate_response(request, MockResponse(json.dumps(doc).encode(), status_code=200,
                                                    content_type="application/json"))
    t = ticket_from_jira(doc["issues"][0])
    assert (t.reporter, t.reporter_id, t.reporter_email) == (
        "Mia Krystof", "5b10a2844c20165700ede21g", "mia@example.org")
    assert (t.assignee, t.assignee_id, t.assignee_email) == (
        "Kim Lee", "5b10ac8d82e05b22cc7d4ef5", "kim.lee@example.org")


def test_changelog_page_bean_values_are_read() -> None:
    issue = json.loads(json.dumps(V3_SEARCH_RESPONSE["issues"][0]))
    issue["changelog"] = {"isLast": True, "values": issue["changelog"]["histories"][:1]}
    assert [c.added for c in ticket_from_jira(issue).label_history] == [("HIGH",)]


def test_comment_as_bare_list_like_the_spec_search_example() -> None:
    issue = json.loads(json.dumps(V3_SEARCH_RESPONSE["issues"][0]))
    issue["fields"]["comment"] = [{"body": "plain", "author": {"displayName": "Z"}}]
    assert [c.body for c in ticket_from_jira(issue).comments] == ["plain"]


# ---------------------------------------------------------------- documents


def test_iter_jira_document_shapes(v2_issue: dict[str, Any]) -> None:
    assert list(iter_jira_document(v2_issue, file="f")) == [v2_issue]
    assert list(iter_jira_document([v2_issue, v2_issue], file="f")) == [v2_issue, v2_issue]
    v2_search = {"startAt": 0, "maxResults": 50, "total": 1, "issues": [v2_issue]}
    assert list(iter_jira_document(v2_search, file="f")) == [v2_issue]
    assert list(iter_jira_document({"issues": [], "isLast": True}, file="f")) == []


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"issues": {"a": 1}}, "issues"),
        ({"issues": [1]}, "issues[0]"),
        ([{"key": "A-1", "fields": {}}, "x"], "[1]"),
        ({"errorMessages": ["nope"]}, None),
        ("just a string", None),
    ],
)
def test_iter_jira_document_rejects_other_shapes(doc: object, field: str | None) -> None:
    with pytest.raises(InputError) as err:
        list(iter_jira_document(doc, file="dump.json"))
    assert err.value.file == "dump.json" and err.value.field == field
    assert str(err.value).startswith("dump.json: ")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("labels", "field", "needle"),
    [
        (["ok", "has space"], "labels[1]", "contains whitespace"),
        (["tab\there"], "labels[0]", "contains whitespace"),
        (["ok", 5], "labels[1]", "must be a string"),
        ([""], "labels[0]", "empty"),
        (["x" * 256], "labels[0]", "longer than 255"),
        ("HIGH", "labels", "must be a list"),
    ],
)
def test_invalid_labels_name_key_and_field(
    v2_issue: dict[str, Any], labels: object, field: str, needle: str
) -> None:
    v2_issue["fields"]["labels"] = labels
    with pytest.raises(InputError) as err:
        ticket_from_jira(v2_issue)
    assert err.value.field == field
    assert "CA-42" in str(err.value) and needle in str(err.value)


def test_label_limit_counts_utf16_units(v2_issue: dict[str, Any]) -> None:
    v2_issue["fields"]["labels"] = ["x" * 255, "é" * 255]
    assert len(ticket_from_jira(v2_issue).labels) == 2
    v2_issue["fields"]["labels"] = ["🔒" * 128]  # 256 UTF-16 units, 128 code points
    with pytest.raises(InputError, match="longer than 255"):
        ticket_from_jira(v2_issue)


@pytest.mark.parametrize(
    ("path", "value", "field", "needle"),
    [
        ((), {"fields": {}}, "key", "no 'key'"),
        (("key",), 17, "key", "no 'key'"),
        (("fields",), None, "fields", "CA-42"),
        (("fields", "summary"), ["a"], "summary", "CA-42: summary must be a string"),
        (("fields", "summary"), None, "summary", "got null"),
        (("fields", "created"), None, "created", "CA-42"),
        (("fields", "created"), 1767225600, "created", "got int"),
        (("fields", "created"), "yesterday", "created", "not an ISO 8601 time"),
        (("fields", "updated"), "2026-13-01", "updated", "not an ISO 8601 time"),
        (("fields", "description"), 12, "description", "ADF document"),
        (("fields", "status"), ["Open"], "status", "'name' string"),
        (("fields", "reporter"), 3, "reporter", "user object"),
        (("fields", "comment"), {"comments": "x"}, "comment.comments", "must be a list"),
        (("fields", "customfield_10900"), "soon", "customfield_10900", "not an ISO 8601"),
        (("changelog",), {"histories": 3}, "changelog.histories", "must be a list"),
    ],
)
def test_bad_fields_name_key_and_field(
    v2_issue: dict[str, Any], path: tuple[str, ...], value: object, field: str, needle: str
) -> None:
    if not path:
        v2_issue = value  # type: ignore[assignment]
    else:
        target = v2_issue
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    with pytest.raises(InputError) as err:
        ticket_from_jira(v2_issue, discovery_field="customfield_10900")
    assert err.value.field == field
    assert needle in str(err.value)


def test_bad_comment_names_its_index(v2_issue: dict[str, Any]) -> None:
    v2_issue["fields"]["comment"]["comments"][1]["created"] = "31/12/2025"
    with pytest.raises(InputError) as err:
        ticket_from_jira(v2_issue)
    assert err.value.field == "comment.comments[1].created"
