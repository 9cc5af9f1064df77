"""What an incident owes, by the guidelines in force: the story's three dates (IRG 2.0), a
30-day simulation of a new incident under IRG 3.2, and the pieces (month arithmetic, states)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core_support import Cli
from incident.conftest import WHY
from vulnmark.incident.obligations import add_months


def due(vm: Cli, now: str) -> list[tuple[str, str, str, str | None]]:
    """(state, what, subject, due_at) of every obligation at ``now``."""
    out = json.loads(vm.ok("incident", "due", "--format", "json", now=now).output)
    return [(o["state"], o["what"], o["subject"], o["due_at"]) for o in out["obligations"]]


FULFILMENT = "Non-conformity fulfilment report for finding 1 (ETSI EN 319 401 7.9 REQ-7.9-10)"


def test_the_story_on_its_three_dates(story: tuple[Cli, str]) -> None:
    vm, incident = story
    vm.ok("incident", "report", incident, "--template", "audit-v2", "--date", "2023-11-21",
          "--record", "--next-update", "2023-11-30", *WHY)
    # 2023-11-21: no 72 h rule yet (IRG 2.0); the Mozilla report item is due today
    assert due(vm, "2023-11-21T12:00:00Z") == [
        ("due_soon", "action", "MOZILLA INCIDENT REPORT", "2023-11-22T00:00:00Z"),
        ("open", "action", "JIRA AUTOMATIC REPORT", "2023-12-01T00:00:00Z"),
        ("open", "update", "Next status update", "2023-12-01T00:00:00Z"),
        ("open", "action", "NON-CONFORMITY FULFILMENT REPORT", "2023-12-11T00:00:00Z"),
        ("open", "fulfilment", FULFILMENT, "2023-12-14T00:00:00Z"),
    ]
    # before the 2023-11-29 update: the Next update date (11-30) is what counts, not 7 days
    assert ("open", "update", "Next status update", "2023-12-01T00:00:00Z") in due(
        vm, "2023-11-29T08:00:00Z")
    vm.ok("incident", "update", incident, "--date", "2023-11-29", "--record",
          "--next-update", "2023-12-07", *WHY)
    assert due(vm, "2023-11-29T12:00:00Z") == [
        ("overdue", "action", "MOZILLA INCIDENT REPORT", "2023-11-22T00:00:00Z"),
        ("open", "update", "Next status update", "2023-12-08T00:00:00Z"),
        ("open", "action", "NON-CONFORMITY FULFILMENT REPORT", "2023-12-11T00:00:00Z"),
        ("open", "fulfilment", FULFILMENT, "2023-12-14T00:00:00Z"),
    ]
    vm.ok("incident", "finding", "set", incident, "1", "--fulfilment-sent", "2023-12-07")
    vm.ok("incident", "update", incident, "--date", "2023-12-07", "--record", *WHY)
    # no Next update asked for: weekly (IRG 2.0); closure is not ready, one item is open
    assert due(vm, "2023-12-07T12:00:00Z") == [
        ("overdue", "action", "MOZILLA INCIDENT REPORT", "2023-11-22T00:00:00Z"),
        ("open", "update", "Next status update", "2023-12-15T00:00:00Z"),
    ]
    r = vm("incident", "due", "--fail-on", "overdue", now="2023-12-07T12:00:00Z")
    assert r.exit_code == 1 and "MOZILLA INCIDENT REPORT" in r.output


def test_thirty_days_of_a_new_incident_under_irg_3_2(vm: Cli) -> None:
    def at(day: int, hour: int = 9) -> str:
        return f"2026-11-{day:02d}T{hour:02d}:00:00Z"

    def states(day: int, hour: int = 9) -> dict[str, tuple[str, str | None]]:
        return {what if what != "action" else subject: (state, due_at)
                for state, what, subject, due_at in due(vm, at(day, hour))}

    vm.ok("incident", "new", "--title", "Unclassified vulnerability tickets", "--ca-owner",
          "Example CA", "--source", "Self Reported", "--ccadb-id", "A000123", "--aware",
          "2026-11-02T08:00Z", now=at(2, 10))
    vm.ok("incident", "action", "add", "1", "--title", "CLASSIFICATION CHECK", "--kind",
          "Prevent", "--due", "2026-11-20", now=at(2, 10))
    vm.ok("incident", "action", "add", "1", "--title", "DAILY REPORT", "--kind", "Detect",
          "--due", "2026-11-10", now=at(2, 10))
    assert states(3)["report"] == ("open", "2026-11-05T08:00:00Z")  # 72 h after awareness
    assert states(4)["report"][0] == "due_soon"
    vm.ok("incident", "report", "1", "--template", "preliminary", "--record", now=at(4, 12))
    s = states(5)
    assert "report" not in s
    assert s["full_report"] == ("open", "2026-11-19T00:00:00Z")  # 14 days after disclosure
    assert s["update"] == ("open", "2026-11-12T00:00:00Z")  # 7 days after the post
    vm.ok("incident", "action", "set", "1", "DAILY REPORT", "--status", "Complete",
          now=at(10, 12))
    vm.ok("incident", "report", "1", "--template", "full", "--record", now=at(11, 10))
    s = states(11, 12)
    assert "full_report" not in s and "DAILY REPORT" not in s
    assert s["update"] == ("open", "2026-11-19T00:00:00Z")
    # an action item delayed: the next update is due within 3 days (IRG 3.1+)
    vm.ok("incident", "action", "set", "1", "CLASSIFICATION CHECK", "--status", "Delayed",
          "--due", "2026-11-27", "--note", "The vendor's API changed.", now=at(12, 10))
    assert states(12, 12)["update"] == ("open", "2026-11-16T00:00:00Z")
    assert states(15)["update"][0] == "due_soon"
    assert states(16)["update"][0] == "overdue"  # missed
    update = vm.ok("incident", "update", "1", "--record", now=at(16, 10)).output
    assert "### CLASSIFICATION CHECK\n\nThe vendor's API changed." in update
    assert "| CLASSIFICATION CHECK | Prevent | N/A | N/A | 2026-11-27 | Delayed |" in update
    assert states(16, 12)["update"] == ("open", "2026-11-24T00:00:00Z")
    assert states(24)["update"][0] == "overdue"  # missed again
    vm.ok("incident", "update", "1", "--record", "--next-update", "2026-11-27", now=at(25))
    assert states(25, 12)["update"] == ("open", "2026-11-28T00:00:00Z")
    vm.ok("incident", "action", "set", "1", "CLASSIFICATION CHECK", "--status", "Complete",
          now=at(27))
    s = states(27, 10)
    assert s["closure"] == ("ready", None) and "CLASSIFICATION CHECK" not in s
    vm.ok("incident", "report", "1", "--template", "closure", "--record", now=at(27, 12))
    assert states(30) == {}
    assert "No incident owes anything." in vm.ok("incident", "due", now=at(30)).output


def test_a_closure_report_needs_every_item_complete(vm: Cli) -> None:
    vm.ok("incident", "new", "--title", "T", "--ca-owner", "CA")
    vm.ok("incident", "action", "add", "1", "--title", "A", "--kind", "Detect", "--due",
          "2026-12-01")
    r = vm("incident", "report", "1", "--template", "closure", "--record")
    assert r.exit_code == 2 and "still open on 2026-11-27: A" in r.output + r.stderr
    assert json.loads(vm.ok("incident", "show", "1", "--format", "json").output)["posts"] == []


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2023, 9, 13), 3, date(2023, 12, 13)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2023, 10, 31), 1, date(2023, 11, 30)),
    (date(2023, 12, 15), 1, date(2024, 1, 15)),
])
def test_months_are_calendar_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_fulfilment_months_come_from_the_config(story: tuple[Cli, str]) -> None:
    vm, _ = story
    cfg = vm.workdir / "vulnmark.toml"
    cfg.write_text("[incident]\nfulfilment_months = 2\n", encoding="utf-8")
    out = json.loads(vm.ok("incident", "due", "--format", "json", now="2023-11-01T00:00:00Z",
                           config=cfg).output)
    assert [o["due_at"] for o in out["obligations"] if o["what"] == "fulfilment"] == [
        "2023-11-14T00:00:00Z"]
    cfg.write_text("[incident]\nfulfilment_months = 0\n", encoding="utf-8")
    r = vm("incident", "due", config=cfg)
    assert r.exit_code == 2 and "incident.fulfilment_months" in r.output + r.stderr


def test_the_daily_report_shows_what_is_overdue_or_due_soon(story: tuple[Cli, str]) -> None:
    vm, incident = story
    vm.ok("incident", "update", incident, "--date", "2023-11-21", "--record", *WHY)
    text = vm.ok("report", "daily", now="2023-11-29T08:00:00Z").output
    assert ("Incident 1 Findings in 2023 Audit: Next status update overdue (due 2023-11-29 "
            "00:00 UTC); IRG 2.0: weekly, after the post of 2023-11-21") in text
    assert "MOZILLA INCIDENT REPORT overdue" in text
    assert "JIRA AUTOMATIC REPORT due soon" not in text  # due 2023-11-30: still open
    md = vm.ok("report", "daily", "--format", "md", now="2023-11-30T08:00:00Z").output
    assert "JIRA AUTOMATIC REPORT due soon" not in md  # done on 2023-11-29
    data = json.loads(vm.ok("report", "daily", "--format", "json",
                            now="2023-11-29T08:00:00Z").output)
    assert any("Next status update overdue" in n for n in data["health"]["notes"])
