"""``vulnmark ticket new`` and ``vulnmark import`` keep who reported a ticket and who it is
assigned to, with the addresses reminders need; a bad address is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

from core_support import Cli


def shown(vm: Cli, key: str) -> dict[str, object]:
    return json.loads(vm.ok("ticket", "show", key, "--format", "json").stdout)


def test_ticket_new_keeps_the_assignee_and_the_addresses(vm: Cli) -> None:
    vm.ok("ticket", "new", "--key", "T-1", "--title", "Weak TLS cipher on OCSP",
          "--reporter", "Ann", "--reporter-email", "ann@ca.example",
          "--assignee", "Bob Builder", "--assignee-email", "bob@ca.example")
    t = shown(vm, "T-1")
    assert (t["reporter"], t["reporter_email"]) == ("Ann", "ann@ca.example")
    assert (t["assignee"], t["assignee_id"], t["assignee_email"]) == (
        "Bob Builder", None, "bob@ca.example")
    table = vm.ok("ticket", "show", "T-1").stdout
    assert "reporter: Ann <ann@ca.example>  assignee: Bob Builder <bob@ca.example>" in table
    vm.ok("ticket", "new", "--key", "T-2", "--title", "Nobody assigned", "--by", "carol")
    t = shown(vm, "T-2")
    assert (t["reporter"], t["reporter_email"], t["assignee"]) == ("carol", None, None)
    assert "assignee: -" in vm.ok("ticket", "show", "T-2").stdout


def test_a_bad_address_is_refused_by_option_and_nothing_is_created(vm: Cli) -> None:
    r = vm("ticket", "new", "--key", "T-1", "--title", "x",
           "--assignee-email", "bob@ca.example\nBcc: eve@evil.example")
    assert r.exit_code == 2
    assert "field --assignee-email: not a plain email address ('bob@ca.example\\nBcc" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert vm("ticket", "show", "T-1").exit_code != 0


def test_import_of_jira_json_keeps_reporter_address_and_assignee(vm: Cli, tmp_path: Path) -> None:
    issue = {"key": "CA-1", "self": "https://jira.ca.example/rest/api/2/issue/1", "fields": {
        "summary": "OCSP responder accepts SHA-1", "created": "2026-11-20T08:00:00.000+0000",
        "labels": ["Vulnerability"],
        "reporter": {"name": "ann", "displayName": "Ann Auditor",
                     "emailAddress": "ann@ca.example"},
        "assignee": {"name": "bob", "displayName": "Bob Builder",
                     "emailAddress": "bob@ca.example"}}}
    cloud = {"key": "CA-2", "fields": {
        "summary": "Cloud issue", "created": "2026-11-20T08:00:00.000+0000",
        "reporter": {"accountId": "557058:ann", "displayName": "Ann Auditor"},
        "assignee": {"accountId": "557058:kim", "displayName": "Kim",
                     "emailAddress": "kim@ca.example"}}}
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"startAt": 0, "total": 2, "issues": [issue, cloud]}))
    vm.ok("import", str(page))
    t = shown(vm, "CA-1")
    assert (t["reporter"], t["reporter_id"], t["reporter_email"]) == (
        "Ann Auditor", "ann", "ann@ca.example")
    assert (t["assignee"], t["assignee_id"], t["assignee_email"]) == (
        "Bob Builder", "bob", "bob@ca.example")
    t = shown(vm, "CA-2")
    assert (t["reporter_id"], t["reporter_email"]) == ("557058:ann", None)
    assert (t["assignee"], t["assignee_id"], t["assignee_email"]) == (
        "Kim", "557058:kim", "kim@ca.example")
    # reassigned in Jira: importing the new state updates the ticket
    issue["fields"]["assignee"] = None
    page.write_text(json.dumps({"issues": [issue]}))
    assert "1 updated" in vm.ok("import", str(page)).stdout
    assert shown(vm, "CA-1")["assignee"] is None
