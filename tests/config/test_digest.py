"""D1: the policy digest covers what changes findings and nothing else. Changing the mail
server, a recipient, the Jira site, the schedule, the tracker prefix, the timezone or where
the policy page is published (``[publish]``) evaluates no
ticket again and writes no policy_change record; changing a deadline does both."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core_support import make_ticket
from vulnmark.check import engine
from vulnmark.config.load import from_mapping
from vulnmark.store import Store
from vulnmark.store import events as store_events

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "recipients": ["mso@example.org"], "smtp": {"host": "mail.example.org"},
    "source": {"jira": {"url": "https://a.atlassian.net", "jql": "project = SEC"}},
    "schedule": {"cron": "0 7 * * *"}, "tracker": {"prefix": "VULN"},
}


def _policy_changes(store: Store) -> int:
    with store.reading() as conn:
        return sum(r.kind == "policy_change" for r in store_events.iter_events(conn))


@pytest.mark.parametrize(("what", "change"), [
    ("smtp.host", {"smtp": {"host": "relay.example.org"}}),
    ("a recipient", {"recipients": ["mso@example.org", "ciso@example.org"]}),
    ("the Jira URL", {"source": {"jira": {"url": "https://b.atlassian.net",
                                          "jql": "project = SEC"}}}),
    ("the cron", {"schedule": {"cron": "30 6 * * 1-5"}}),
    ("the tracker prefix", {"tracker": {"prefix": "CA"}}),
    ("the timezone", {"timezone": "Europe/Budapest"}),
    ("the policy page's site", {"publish": {"url": "https://wiki.example.org",
                                            "space": "SEC", "lang": "hu"}}),
])
def test_d1_a_setting_that_changes_no_finding_evaluates_nothing_again(
        tmp_path: Path, what: str, change: dict[str, Any]) -> None:
    before, after = from_mapping(BASE), from_mapping({**BASE, **change})
    assert before != after, what
    assert before.policy.digest() == after.policy.digest(), what
    with Store.open(f"sqlite:///{tmp_path / 'd1.db'}") as store:
        store.upsert_tickets([make_ticket(f"T-{i}", labels=("Vulnerability",))
                              for i in range(8)], at=NOW)
        assert engine.refresh(store, before.policy, now=NOW) == 8
        assert engine.refresh(store, before.policy, now=NOW) == 0
        assert engine.refresh(store, after.policy, now=NOW) == 0, what
        assert _policy_changes(store) == 1, what


def test_d1_a_setting_that_changes_findings_evaluates_everything_and_is_recorded(
        tmp_path: Path) -> None:
    before = from_mapping(BASE)
    after = from_mapping({**BASE, "classes": {"HIGH": {"deadline_hours": 72}}})
    assert before.policy.digest() != after.policy.digest()
    with Store.open(f"sqlite:///{tmp_path / 'd1.db'}") as store:
        store.upsert_tickets([make_ticket(f"T-{i}") for i in range(8)], at=NOW)
        assert engine.refresh(store, before.policy, now=NOW) == 8
        assert engine.refresh(store, after.policy, now=NOW) == 8
        assert _policy_changes(store) == 2
