"""``vulnmark dismiss`` / ``undismiss`` and the report's scope, through the CLI: a dismissed
finding leaves the report but is counted; it comes back when it expires, when a person ends
it, or when the ticket's text or labels change; every step is in the evidence log and the
pack; the suspected section lists what is open or new."""

from __future__ import annotations

import csv
import getpass
import io
import json
import zipfile
from pathlib import Path

import pytest

from core_support import Cli

T0 = "2026-11-10T07:00:00Z"


def _report(vm: Cli, now: str, config: Path | None = None) -> dict[str, object]:
    out = vm.ok("report", "daily", "--format", "json", now=now, config=config).output
    return json.loads(out)  # type: ignore[no-any-return]


def _listed(report: dict[str, object]) -> list[tuple[str, str]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return [(f["ticket"], f["kind"]) for f in findings]


@pytest.fixture
def suspect(vm: Cli) -> Cli:
    """VULN-1: open, unmarked, its title names a CVE (a ``suspected`` finding)."""
    vm.ok("ticket", "new", "--title", "Heap overflow in the CRL parser, CVE-2026-1234",
          "--description", "an attacker can crash the OCSP responder", now=T0)
    return vm


def test_dismiss_leaves_the_report_and_is_counted(suspect: Cli) -> None:
    vm = suspect
    assert ("VULN-1", "suspected") in _listed(_report(vm, "2026-11-11T07:00:00Z"))
    r = vm.ok("dismiss", "VULN-1", "--kind", "suspected", "--reason", "not_a_vulnerability",
              "--why", "a test fixture's title", now="2026-11-11T08:00:00Z")
    assert "suspected dismissed (not_a_vulnerability)" in r.output
    report = _report(vm, "2026-11-12T07:00:00Z")
    assert ("VULN-1", "suspected") not in _listed(report)
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["left_out"] == ["1 dismissed finding: see `vulnmark dismiss --list`"]
    text = vm.ok("report", "daily", now="2026-11-12T07:00:00Z").output
    assert "1 dismissed finding: see `vulnmark dismiss --list`" in text
    listed = json.loads(vm.ok("dismiss", "--list", "--format", "json").output)
    assert listed == [{"ticket": "VULN-1", "kind": "suspected", "reason": "not_a_vulnerability",
                       "why": "a test fixture's title", "by": getpass.getuser(),
                       "at": "2026-11-11T08:00:00.000000Z", "until": None, "state": "active"}]


def test_undismiss_brings_it_back_and_both_are_evidence(suspect: Cli, tmp_path: Path) -> None:
    vm = suspect
    vm.ok("dismiss", "VULN-1", "--kind", "suspected", "--reason", "duplicate", "--why",
          "same as VULN-0", now="2026-11-11T08:00:00Z")
    assert "suspected no longer dismissed" in vm.ok(
        "undismiss", "VULN-1", "--why", "not a duplicate after all",
        now="2026-11-11T09:00:00Z").output
    assert ("VULN-1", "suspected") in _listed(_report(vm, "2026-11-12T07:00:00Z"))
    r = vm("undismiss", "VULN-1")
    assert r.exit_code == 2 and "no active dismissal" in r.stderr
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "-o",
          str(tmp_path / "pack.zip"), now="2026-12-01T07:00:00Z")
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        rows = list(csv.DictReader(io.StringIO(z.read("dismissals.csv").decode())))
        kinds = [json.loads(line)["kind"]
                 for line in z.read("evidence/events.jsonl").decode().splitlines()]
        index = z.read("index.html").decode()
    assert ("In the period: 1 finding(s) dismissed (1 duplicate); 1 dismissal(s) ended"
            in index)
    assert '<a href="dismissals.csv">dismissals.csv</a>' in index
    checked = vm("evidence", "verify", "--pack", str(tmp_path / "pack.zip"))  # recomputes it
    assert checked.exit_code == 4 and "pack consistent but unsigned" in checked.output
    assert [(r["ticket"], r["action"], r["reason"], r["why"]) for r in rows] == [
        ("VULN-1", "dismissed", "duplicate", "same as VULN-0"),
        ("VULN-1", "ended", "", "not a duplicate after all")]
    assert rows[0]["by"] == rows[1]["by"] == getpass.getuser()
    assert "dismissal" in kinds and "dismissal_end" in kinds
    assert "evidence log OK" in vm.ok("evidence", "verify").output


def test_a_dismissal_expires_after_until(suspect: Cli) -> None:
    vm = suspect
    vm.ok("dismiss", "VULN-1", "--kind", "suspected", "--reason", "accepted_risk", "--why",
          "reviewed in the risk board", "--until", "2026-11-20", now="2026-11-11T08:00:00Z")
    assert ("VULN-1", "suspected") not in _listed(_report(vm, "2026-11-20T23:00:00Z"))
    assert ("VULN-1", "suspected") in _listed(_report(vm, "2026-11-21T00:00:01Z"))
    everything = json.loads(vm.ok("dismiss", "--list", "--all", "--format", "json",
                                  now="2026-11-22T00:00:00Z").output)
    assert [(d["until"], d["state"]) for d in everything] == [
        ("2026-11-21T00:00:00.000000Z", "expired")]
    r = vm("dismiss", "VULN-1", "--kind", "suspected", "--reason", "other", "--why", "x",
           "--until", "2026-11-01", now="2026-11-11T08:00:00Z")
    assert r.exit_code == 2 and "--until" in r.stderr


def test_a_material_change_lifts_it_a_status_change_does_not(suspect: Cli) -> None:
    vm = suspect
    vm.ok("dismiss", "VULN-1", "--kind", "suspected", "--reason", "not_a_vulnerability",
          "--why", "only a test", now="2026-11-11T08:00:00Z")
    vm.ok("ticket", "resolve", "VULN-1", now="2026-11-12T08:00:00Z")  # not material
    assert ("VULN-1", "suspected") not in _listed(_report(vm, "2026-11-12T09:00:00Z"))
    vm.ok("ticket", "comment", "VULN-1", "Reproduced: remote code execution on the responder",
          now="2026-11-13T08:00:00Z")
    assert ("VULN-1", "suspected") in _listed(_report(vm, "2026-11-13T09:00:00Z"))
    ended = json.loads(vm.ok("dismiss", "--list", "--all", "--format", "json").output)
    assert ended[0]["state"] == "ended: the ticket's text or labels changed"
    assert "evidence log OK" in vm.ok("evidence", "verify").output


def test_a_false_positive_outcome_clears_suspected(suspect: Cli) -> None:
    vm = suspect
    vm.ok("outcome", "VULN-1", "--no-remediation", "false_positive", "--basis",
          "the CVE is in a library we do not ship", now="2026-11-11T08:00:00Z")
    report = _report(vm, "2026-11-12T07:00:00Z")
    assert ("VULN-1", "suspected") not in _listed(report)


@pytest.mark.parametrize(("args", "message"), [
    (["VULN-1", "--kind", "suspected", "--reason", "other"], "missing: --why"),
    (["VULN-1", "--kind", "suspected", "--reason", "nope", "--why", "x"], "Invalid value"),
    (["VULN-1", "--kind", "suspected", "--reason", "other", "--why", "  "], "--why"),
    (["VULN-9", "--kind", "suspected", "--reason", "other", "--why", "x"], "no ticket 'VULN-9'"),
    (["--list", "VULN-1"], "--list takes no KEY"),
])
def test_bad_dismissals_exit_2(suspect: Cli, args: list[str], message: str) -> None:
    r = suspect("dismiss", *args)
    assert r.exit_code == 2 and message in r.output + r.stderr


def test_the_suspected_section_lists_what_is_open_or_new(vm: Cli, tmp_path: Path) -> None:
    for title in ("SQL injection in the RA portal, CVE-2026-0001",
                  "XSS in the enrolment form, CVE-2026-0002",
                  "Path traversal in the CRL publisher, CVE-2026-0003"):
        vm.ok("ticket", "new", "--title", title, now=T0)
    vm.ok("ticket", "resolve", "VULN-1", now="2026-11-11T07:00:00Z")  # old news by the 20th
    vm.ok("ticket", "resolve", "VULN-2", now="2026-11-19T20:00:00Z")  # changed in the last day
    report = _report(vm, "2026-11-20T07:00:00Z")
    assert sorted(_listed(report)) == [("VULN-2", "suspected"), ("VULN-3", "suspected")]
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["left_out"] == [
        "1 older suspected ticket (resolved, unchanged since 2026-11-19 07:00): run "
        "`vulnmark check --kind suspected --state resolved`"]
    assert summary["by_kind"]["suspected"] == 3  # counted, not listed
    scoped = tmp_path / "open.toml"
    scoped.write_text('[report]\nsuspected_scope = "open"\n')
    assert _listed(_report(vm, "2026-11-20T07:00:00Z", scoped)) == [("VULN-3", "suspected")]
    scoped.write_text('[report]\nsuspected_scope = "all"\n')
    assert len(_listed(_report(vm, "2026-11-20T07:00:00Z", scoped))) == 3
    scoped.write_text('[report]\nsuspected_scope = "recent"\n')
    r = vm("report", "daily", config=scoped)
    assert r.exit_code == 2 and "report.suspected_scope" in r.stderr


def test_check_leaves_dismissed_findings_out_of_listing_and_fail_on(suspect: Cli) -> None:
    vm = suspect
    vm.ok("ticket", "new", "--title", "OCSP signer rotation", "--label", "Vulnerability",
          now=T0)  # VULN-2: unclassified
    assert vm("check", "--fail-on", "suspected").exit_code == 1
    vm.ok("dismiss", "VULN-1", "--kind", "suspected", "--reason", "not_a_vulnerability",
          "--why", "a test fixture, not a product")
    r = vm("check", "--fail-on", "suspected")
    assert r.exit_code == 0, r.output
    assert "VULN-1" not in r.stdout
    assert "1 dismissed finding not listed: see `vulnmark dismiss --list`" in r.stdout
    assert vm("check", "--fail-on", "unclassified").exit_code == 1  # others still count
    r = vm("check", "--format", "json", "--fail-on", "any")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert set(doc) == {"generated_at", "policy", "summary", "findings"}  # the contract
    assert set(doc["summary"]) == {"tickets", "vulnerabilities", "by_class", "by_kind"}
    assert [(f["ticket"], f["kind"]) for f in doc["findings"]] == [("VULN-2", "unclassified")]
    assert doc["summary"]["by_kind"]["suspected"] == 0
    assert doc["summary"]["by_kind"]["unclassified"] == 1
    assert "1 dismissed finding not listed" in r.stderr
    r = vm("check", "--format", "csv", "--kind", "suspected")
    assert r.exit_code == 0 and "VULN-1" not in r.stdout and "dismissed" in r.stderr
    r = vm("check", "--include-dismissed", "--fail-on", "suspected", "--format", "json")
    assert r.exit_code == 1 and "dismissed" not in r.stderr
    assert ("VULN-1", "suspected") in [(f["ticket"], f["kind"])
                                      for f in json.loads(r.stdout)["findings"]]
    vm.ok("undismiss", "VULN-1")
    assert vm("check", "--fail-on", "suspected").exit_code == 1
