"""The IRG 3.2 Full, Preliminary and Closure reports and the IRG 2.0 Audit Incident Report,
field by field against ../shared/reference/standards.md §3.3-§3.4 ("N/A" where nothing
applies)."""

from __future__ import annotations

import re

import pytest

from core_support import Cli

FULL_FIELDS = [
    "CA Owner CCADB unique ID", "Incident description", "Timeline summary",
    "Non-compliance start date", "Non-compliance identified date", "Non-compliance end date",
    "Relevant policies", "Source of incident disclosure", "Total number of certificates",
    'Total number of "remaining valid" certificates', "Affected certificate types",
    "Incident heuristic",
    "Was issuance stopped in response to this incident, and why or why not?", "Analysis",
    "Additional considerations", "Description", "Timeline", "Detection",
    "Interaction with other factors", "Root Cause Analysis methodology used",
    "What went well", "What didn't go well", "Where we got lucky", "Additional",
]
FULL_HEADINGS = ["## Full Incident Report", "### Summary", "### Impact", "### Timeline",
                 "### Related Incidents", "### Root Cause Analysis",
                 "#### Contributing Factor #1: No machine-readable classification",
                 "### Lessons Learned", "### Action Items", "### Appendix"]


@pytest.fixture
def new_incident(vm: Cli) -> Cli:
    vm.ok("incident", "new", "--title", "Vulnerability class only in a comment", "--ca-owner",
          "Example CA", "--source", "self reported", "--ccadb-id", "A000123", "--policy",
          "ETSI EN 319 401 V3.1.1 REQ-7.9.2-09X", "--aware", "2026-11-20T08:15Z")
    vm.ok("incident", "set", "1", "description", "A HIGH vulnerability's class was only in a "
          "comment, so its deadline was not tracked.")
    vm.ok("incident", "set", "1", "noncompliance_start", "2026-10-01")
    vm.ok("incident", "set", "1", "total_certificates", "0")
    vm.ok("incident", "timeline", "add", "1", "--at", "2026-11-20T08:15:42Z",
          "The MSO finds the ticket.")
    vm.ok("incident", "factor", "add", "1", "--title", "No machine-readable classification",
          "--description", "The class was written in a comment.", "--methodology", "5-Whys")
    vm.ok("incident", "lesson", "add", "1", "--kind", "went-badly",
          "Monitoring watched the fixing, not the marking.")
    vm.ok("incident", "related", "add", "1", "--bug", "1863375", "--date", "2023-11-21",
          "The 2023 audit finding of the same kind.")
    vm.ok("incident", "action", "add", "1", "--title", "DAILY REPORT", "--kind", "detect",
          "--due", "2026-11-30", "--root-cause", "Contributing Factor #1", "--criteria",
          "A report delivered every day (evidence log)")
    return vm


def test_the_full_report_field_by_field(new_incident: Cli) -> None:
    md = new_incident.ok("incident", "report", "1", "--template", "full").output
    assert [line for line in md.splitlines() if line.startswith("#")] == FULL_HEADINGS
    names = re.findall(r"^\s*- \*\*(.+?):\*\*", md, flags=re.M)
    assert names == FULL_FIELDS
    assert "- **CA Owner CCADB unique ID:** A000123" in md
    assert "- **Source of incident disclosure:** Self Reported" in md
    assert "  - **Non-compliance start date:** 2026-10-01" in md
    assert "  - **Non-compliance end date:** N/A" in md  # nothing recorded: N/A
    assert "- **Total number of certificates:** 0" in md
    assert "- **Relevant policies:** ETSI EN 319 401 V3.1.1 REQ-7.9.2-09X" in md
    assert "- 2026-11-20 08:15 UTC: The MSO finds the ticket." in md  # minute granularity
    assert "| 1863375 | 2023-11-21 | The 2023 audit finding of the same kind. |" in md
    assert "- **Root Cause Analysis methodology used:** 5-Whys" in md
    assert "- **Timeline:** N/A" in md
    assert "- **What didn't go well:**\n  - Monitoring watched the fixing, not the marking." in md
    assert "- **Where we got lucky:** N/A" in md
    assert ("| Action Item | Kind | Corresponding Root Cause(s) | Evaluation Criteria | "
            "Due Date | Status |") in md
    assert ("| DAILY REPORT | Detect | Contributing Factor #1 | A report delivered every day "
            "(evidence log) | 2026-11-30 | Ongoing |") in md
    assert md.rstrip().endswith("### Appendix\n\nN/A")


def test_the_preliminary_report(new_incident: Cli) -> None:
    md = new_incident.ok("incident", "report", "1", "--template", "preliminary").output
    assert md.splitlines()[:3] == ["## Preliminary Incident Report", "", "### Summary"]
    assert re.findall(r"^- \*\*(.+?):\*\*", md, flags=re.M) == [
        "Incident description", "Relevant policies", "Source of incident disclosure"]


def test_the_closure_report(new_incident: Cli) -> None:
    vm = new_incident
    vm.ok("incident", "action", "set", "1", "DAILY REPORT", "--status", "complete")
    vm.ok("incident", "set", "1", "remediation", "vulnmark reports unclassified tickets daily.")
    md = vm.ok("incident", "report", "1", "--template", "closure").output
    assert md.splitlines()[0] == "### Report Closure Summary"
    assert re.findall(r"^- \*\*(.+?):\*\*", md, flags=re.M) == [
        "Incident description", "Incident Root Cause(s)", "Remediation description",
        "Commitment summary"]
    assert "- **Incident Root Cause(s):** N/A" in md
    assert md.rstrip().splitlines()[-1].startswith("All Action Items disclosed in this "
                                                   "Incident Report have been completed")


def test_the_irg_2_audit_incident_report(story: tuple[Cli, str]) -> None:
    vm, incident = story
    md = vm.ok("incident", "report", incident, "--template", "audit-v2", "--date",
               "2023-11-21").output
    assert [line for line in md.splitlines() if line.startswith("#")] == [
        "## Audit Incident Report", "### Finding #1", "### Root Cause Analysis",
        "### Action Items"]
    assert "- **Standard and clause:** ETSI EN 319 401 7.9 REQ-7.9-10" in md
    assert "| Action Item | Kind | Due Date |\n|---|---|---|\n| IMPROVE REQUIREMENTS | " \
           "Prevent | 2023-10-20 |" in md


def test_irg_3_vocabulary_is_enforced(new_incident: Cli) -> None:
    r = new_incident("incident", "action", "add", "1", "--title", "X", "--kind", "***",
                     "--due", "2026-12-01")
    assert r.exit_code == 2 and "Prevent, Mitigate, Detect" in r.output + r.stderr
    r = new_incident("incident", "action", "set", "1", "1", "--status", "DONE")
    assert r.exit_code == 2 and "Complete, Canceled, Delayed, Ongoing" in r.output + r.stderr
