"""The incident of the issue's user story, entered through the CLI as a CA would enter its
2023 audit incident today: every change backdated with --effective and --why."""

from __future__ import annotations

import pytest

from core_support import Cli

WHY = ["--why", "entered from the 2023 Bugzilla report"]

#: (title, kind, due, added, [(day, status, note)]) of the story's six action items.
ITEMS = [
    ("IMPROVE REQUIREMENTS", "Prevent", "2023-10-20", "2023-10-16",
     [("2023-10-20", "DONE", "The vulnerability handling rules now require a classification "
                             "label on every vulnerability ticket.")]),
    ("CHECK EXISTING TICKETS", "Detect", "2023-11-10", "2023-10-16",
     [("2023-11-10", "DONE", "Every existing ticket was checked and labelled.")]),
    ("JIRA FILTER FOR VULNERABILITIES", "Detect", "2023-11-10", "2023-10-16",
     [("2023-11-10", "DONE", "A saved Jira filter lists vulnerabilities by class.")]),
    ("MOZILLA INCIDENT REPORT", "***", "2023-11-21", "2023-10-16",
     [("2023-11-22", "IN PROGRESS", "The report was filed; we answer questions and post "
                                    "weekly updates.")]),
    ("JIRA AUTOMATIC REPORT", "Detect", "2023-11-30", "2023-10-16",
     [("2023-11-29", "DONE", "A report of vulnerabilities without classification is mailed "
                             "to the MSO every morning.")]),
    ("NON-CONFORMITY FULFILMENT REPORT", "***", "2023-12-10", "2023-10-16",
     [("2023-12-07", "DONE", "The fulfilment report was sent to the conformity assessment "
                             "body and the supervisory body.")]),
]

TABLE_2023_11_21 = """\
| Action Item | Kind | Due Date | Status |
|---|---|---|---|
| IMPROVE REQUIREMENTS | Prevent | 2023-10-20 | DONE |
| CHECK EXISTING TICKETS | Detect | 2023-11-10 | DONE |
| JIRA FILTER FOR VULNERABILITIES | Detect | 2023-11-10 | DONE |
| MOZILLA INCIDENT REPORT | *** | 2023-11-21 | OPEN |
| JIRA AUTOMATIC REPORT | Detect | 2023-11-30 | OPEN |
| NON-CONFORMITY FULFILMENT REPORT | *** | 2023-12-10 | OPEN |
"""

TABLE_2023_11_29 = """\
| Action Item | Kind | Due Date | Status |
|---|---|---|---|
| IMPROVE REQUIREMENTS | Prevent | 2023-10-20 | DONE |
| CHECK EXISTING TICKETS | Detect | 2023-11-10 | DONE |
| JIRA FILTER FOR VULNERABILITIES | Detect | 2023-11-10 | DONE |
| JIRA AUTOMATIC REPORT | Detect | 2023-11-30 | DONE |
| MOZILLA INCIDENT REPORT | *** | 2023-11-21 | IN PROGRESS |
| NON-CONFORMITY FULFILMENT REPORT | *** | 2023-12-10 | OPEN |
"""

TABLE_2023_12_07 = """\
| Action Item | Kind | Due Date | Status |
|---|---|---|---|
| IMPROVE REQUIREMENTS | Prevent | 2023-10-20 | DONE |
| CHECK EXISTING TICKETS | Detect | 2023-11-10 | DONE |
| JIRA FILTER FOR VULNERABILITIES | Detect | 2023-11-10 | DONE |
| JIRA AUTOMATIC REPORT | Detect | 2023-11-30 | DONE |
| NON-CONFORMITY FULFILMENT REPORT | *** | 2023-12-10 | DONE |
| MOZILLA INCIDENT REPORT | *** | 2023-11-21 | IN PROGRESS |
"""


def enter_story(vm: Cli) -> str:
    """The incident, its finding and its six items with their history; returns its id."""
    incident = vm.ok("incident", "new", "--title", "Findings in 2023 Audit", "--ca-owner",
                     "Example CA", "--source", "Audit", "--effective", "2023-11-21",
                     *WHY).output.strip()
    vm.ok("incident", "finding", "add", incident, "--standard", "ETSI EN 319 401",
          "--clause", "7.9 REQ-7.9-10", "--severity", "minor", "--audit-start", "2023-09-11",
          "--audit-end", "2023-09-13", "--found", "2023-09-12", "--attestation", "2023-10-16",
          "--text", "A HIGH vulnerability's class was only in a comment.")
    for title, kind, due, added, changes in ITEMS:
        vm.ok("incident", "action", "add", incident, "--title", title, "--kind", kind,
              "--due", due, "--effective", added, *WHY)
        for day, status, note in changes:
            vm.ok("incident", "action", "set", incident, title, "--status", status,
                  "--note", note, "--effective", day, *WHY)
    return incident


@pytest.fixture
def story(vm: Cli) -> tuple[Cli, str]:
    return vm, enter_story(vm)
