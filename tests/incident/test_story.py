"""The user story of issue 16, entered through the CLI: the three Action Items Status tables
exactly as the CA posted them, and the status updates of 2023-11-29 and 2023-12-07."""

from __future__ import annotations

import json

import pytest

from core_support import Cli
from incident.conftest import TABLE_2023_11_21, TABLE_2023_11_29, TABLE_2023_12_07, WHY


def test_the_three_tables_as_posted(story: tuple[Cli, str]) -> None:
    vm, incident = story
    for day, expected in (("2023-11-21", TABLE_2023_11_21), ("2023-11-29", TABLE_2023_11_29),
                          ("2023-12-07", TABLE_2023_12_07)):
        shown = vm.ok("incident", "show", incident, "--format", "md", "--date", day).output
        assert shown == expected, day


def test_the_updates_show_what_changed_since_the_previous_post(story: tuple[Cli, str]) -> None:
    vm, incident = story
    vm.ok("incident", "update", incident, "--date", "2023-11-21", "--record",
          "--next-update", "2023-11-30", *WHY)
    update = vm.ok("incident", "update", incident, "--date", "2023-11-29").output
    assert update.startswith("## Audit Incident Status Report - 2023-11-29\n\n")
    sections = [line[4:] for line in update.splitlines() if line.startswith("### ")]
    assert sections == ["JIRA AUTOMATIC REPORT", "MOZILLA INCIDENT REPORT",
                        "Action Items Status"]
    assert "mailed to the MSO every morning." in update
    assert update.endswith("### Action Items Status\n\n" + TABLE_2023_11_29)

    vm.ok("incident", "update", incident, "--date", "2023-11-29", "--record",
          "--next-update", "2023-12-10", *WHY)
    update = vm.ok("incident", "update", incident, "--date", "2023-12-07").output
    sections = [line[4:] for line in update.splitlines() if line.startswith("### ")]
    assert sections == ["NON-CONFORMITY FULFILMENT REPORT", "Action Items Status"]
    assert update.endswith(TABLE_2023_12_07)


def test_the_json_keeps_the_history(story: tuple[Cli, str]) -> None:
    vm, incident = story
    shown = json.loads(vm.ok("incident", "show", incident, "--format", "json", "--date",
                             "2023-11-29").output)
    assert shown["irg"] == "2.0" and shown["source"] == "Audit"
    auto = next(a for a in shown["actions"] if a["title"] == "JIRA AUTOMATIC REPORT")
    assert [h["status"] for h in auto["history"]] == ["OPEN", "DONE"]
    assert auto["history"][1]["why"] == WHY[1] and auto["since"] == "2023-11-29"
    listed = json.loads(vm.ok("incident", "list", "--format", "json").output)
    assert [i["id"] for i in listed] == [int(incident)]


def test_every_change_is_in_the_evidence_log(story: tuple[Cli, str]) -> None:
    vm, _ = story
    assert "OK" in vm.ok("evidence", "verify").output


@pytest.mark.parametrize(("args", "message"), [
    (["action", "add", "1", "--title", "X", "--kind", "Repair", "--due", "2023-11-30"],
     "kind (IRG 2.0) 'Repair' is not one of: Prevent, Mitigate, Detect, ***"),
    (["action", "set", "1", "IMPROVE REQUIREMENTS", "--status", "Complete"],
     "status (IRG 2.0) 'Complete' is not one of: DONE, CANCELED, IN PROGRESS"),
    (["action", "set", "1", "NO SUCH ITEM", "--status", "DONE"], "no action item 'NO SUCH"),
    (["action", "set", "1", "1", "--status", "DONE", "--effective", "2023-12-01"],
     "needs --why"),
    (["action", "set", "1", "1"], "nothing to change"),
    (["action", "add", "1", "--title", "IMPROVE requirements", "--kind", "Detect", "--due",
      "2023-11-30"], "already has an action item"),
    (["show", "7"], "no incident 7"),
    (["new", "--title", "T", "--ca-owner", "CA", "--ccadb-id", "B123"], "A000123"),
    (["new", "--title", " ", "--ca-owner", "CA"], "--title is empty"),
    (["action", "add", "1", "--title", "X", "--kind", "Detect", "--due", "2023-13-01"],
     "not a date"),
    (["finding", "add", "1", "--standard", "S", "--clause", "C", "--severity", "minor",
      "--audit-start", "2023-09-13", "--audit-end", "2023-09-11"], "before --audit-start"),
    (["action", "add", "1", "--title", "X", "--kind", "Detect", "--due", "2023-11-30",
      "--effective", "2099-01-01"], "after today"),
])
def test_bad_input_exits_2_and_changes_nothing(story: tuple[Cli, str], args: list[str],
                                              message: str) -> None:
    vm, _ = story
    before = vm.ok("incident", "show", "1", "--format", "json").output
    r = vm("incident", *args)
    assert r.exit_code == 2, r.output
    assert message in r.output + r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert vm.ok("incident", "show", "1", "--format", "json").output == before


def test_hostile_titles_are_neutralised_in_the_markdown(vm: Cli) -> None:
    vm.ok("incident", "new", "--title", "T", "--ca-owner", "CA")
    vm.ok("incident", "action", "add", "1", "--title", "A | B \x1b[31m\u202eX", "--kind",
          "Detect", "--due", "2026-12-01", "--note", "line one\n\n\x1b]0;owned\x07two")
    md = vm.ok("incident", "update", "1").output
    assert "| A \\| B" in md and "\x1b" not in md and "\u202e" not in md
    row = next(line for line in md.splitlines() if line.startswith("| A"))
    assert row.count(" | ") == 5  # six cells under IRG 3.2, the pipe in the title escaped


def test_the_clock_rule_applies_to_incident_writes(vm: Cli) -> None:
    strict = Cli(vm.db_url, vm.workdir, override=False)
    r = strict("incident", "new", "--title", "T", "--ca-owner", "CA")
    assert r.exit_code == 2 and "VULNMARK_ALLOW_CLOCK_OVERRIDE" in r.output + r.stderr
    assert strict.ok("incident", "list", "--format", "json").output.strip() == "[]"
    done = strict.ok("incident", "new", "--title", "T", "--ca-owner", "CA", now="")
    assert done.output.strip() == "1"


def test_evidence_verify_lists_the_backdated_incident_changes(story: tuple[Cli, str]) -> None:
    vm, _ = story
    out = vm.ok("evidence", "verify").output
    assert "(incident incident 1): claims 2023-11-29T00:00:00Z" in out
    assert WHY[1] in out
