"""The one JQL builder: quoting, escaping, negation with EMPTY, and the sync query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vulnmark.sources.jira import jql
from vulnmark.testing import _jql


def test_every_value_is_quoted_and_escaped() -> None:
    assert jql.quote("HIGH") == '"HIGH"'
    assert jql.quote('a"b') == '"a\\"b"'
    assert jql.quote("a\\b") == '"a\\\\b"'
    assert jql.quote("it's") == '"it\\\'s"'
    assert jql.quote("tab\there") == '"tab\\there"'
    assert jql.quote("\x01") == '"\\u0001"'
    assert jql.quote("Sérülékenység") == '"Sérülékenység"'


def test_hostile_label_stays_one_value() -> None:
    hostile = 'x") OR project = "OTHER'
    q = jql.labels_in([hostile])
    tokens = _jql.tokenize(q)
    values = [t.text for t in tokens if t.quoted]
    assert values == [hostile]


def test_labels_not_in_is_always_paired_with_is_empty() -> None:
    assert jql.labels_not_in(["HIGH", "LOW"]) == (
        '(labels not in ("HIGH", "LOW") OR labels is EMPTY)'
    )


def test_filter_unclassified_open_with_scope() -> None:
    q = jql.filter_jql(
        vulnerability_labels=["Sérülékenység", "Vulnerability"],
        unclassified_classes=["CRITICAL", "KRITIKUS", "HIGH"],
        state="open",
        scope="project = SEC OR project = PKI ORDER BY created DESC",
    )
    assert q == (
        '(project = SEC OR project = PKI) AND labels in ("Sérülékenység", "Vulnerability") AND '
        '(labels not in ("CRITICAL", "KRITIKUS", "HIGH") OR labels is EMPTY) AND '
        "resolution is EMPTY ORDER BY key ASC"
    )


def test_filter_by_class_resolved() -> None:
    q = jql.filter_jql(vulnerability_labels=["V"], class_labels=["HIGH", "MAGAS"],
                       state="resolved", order_by=None)
    assert q == 'labels in ("V") AND labels in ("HIGH", "MAGAS") AND resolution is not EMPTY'


def test_sync_jql_uses_relative_minutes_and_stable_order() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    q = jql.sync_jql("project = SEC ORDER BY key", now=now,
                     updated_since=now - timedelta(hours=2, seconds=30),
                     created_from=now - timedelta(days=1))
    assert q == ('(project = SEC) AND updated >= "-122m" AND created >= "-1441m" '
                 "ORDER BY created ASC, key ASC")


def test_sync_jql_rejects_unbounded_scope() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        jql.sync_jql("ORDER BY key", now=datetime.now(UTC))


class _Issue:
    def __init__(self, labels: tuple[str, ...], resolution: str | None = None) -> None:
        self.labels = labels
        self.resolution = resolution

    def field_values(self, name: str) -> tuple[str, ...]:
        if name == "labels":
            return self.labels
        if name == "resolution":
            return (self.resolution,) if self.resolution else ()
        if name == "project":
            return ("SEC",)
        return ()


def test_built_filters_select_what_they_say() -> None:
    """Evaluated by the emulator's JQL engine: the unclassified filter matches a vulnerability
    with no label of a class, including one with no other labels."""
    q = jql.filter_jql(vulnerability_labels=["V"], unclassified_classes=["HIGH"], state="open",
                       scope="project = SEC", order_by=None)
    pred = _jql.parse(q).predicate
    assert pred is not None
    now = datetime.now(UTC)
    assert pred(_Issue(("V",)), now)
    assert not pred(_Issue(("V", "HIGH")), now)
    assert not pred(_Issue(("other",)), now)
    assert not pred(_Issue(("V",), resolution="Fixed"), now)
