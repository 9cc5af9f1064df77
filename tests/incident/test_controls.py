"""An action item bound to the daily report: its criterion checked from the recorded runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core_support import Cli
from vulnmark.store import Store
from vulnmark.store.runs import record_delivered, record_run


def _delivered(db_file: Path, days: list[int]) -> None:
    with Store.open(f"sqlite:///{db_file}") as store:
        for d in days:
            at = datetime(2026, 11, d, 7, 0, tzinfo=UTC)
            run = record_run(store, kind="report", at=at, policy_digest="p" * 64, counts={})
            record_delivered(store, run, at=at + timedelta(seconds=5), message_id=f"<{d}@x>",
                             server_reply="250 OK", recipients=["mso@example.org"],
                             attempts=1, sent_at=at + timedelta(seconds=5))


def test_the_daily_report_criterion(vm: Cli, db_file: Path) -> None:
    vm.ok("incident", "new", "--title", "T", "--ca-owner", "CA", now="2026-11-15T08:00:00Z")
    vm.ok("incident", "action", "add", "1", "--title", "JIRA AUTOMATIC REPORT", "--kind",
          "Detect", "--due", "2026-11-20", "--control", "daily-report",
          now="2026-11-15T08:00:00Z")
    vm.ok("incident", "action", "set", "1", "1", "--status", "Complete",
          now="2026-11-20T08:00:00Z")
    _delivered(db_file, [20, 21, 22, 23, 24, 25, 26])
    shown = vm.ok("incident", "show", "1", "--date", "2026-11-26").output
    assert ("JIRA AUTOMATIC REPORT <- daily-report: daily report delivered every day since "
            "2026-11-20: yes, 7/7") in shown
    shown = vm.ok("incident", "show", "1", "--date", "2026-11-27").output
    assert "since 2026-11-20: no, 7/8" in shown
    shown = vm.ok("incident", "show", "1", "--date", "2026-11-18").output
    assert "since 2026-11-20: not yet due" in shown
