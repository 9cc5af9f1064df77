"""The assessment clock of threat intake as ``check`` findings, through the CLI on a real SQLite
file: ``assessment_due_soon`` and ``assessment_overdue`` (their own kinds, beside the handling
deadline's ``due_soon``/``overdue``), in ``check --fail-on``, ``list``, the daily report and
``intake status``; ``vulnmark assess`` stops them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core_support import Cli
from intake_support import cve, write_nvd
from vulnmark.check.results import CONTRACT_KEYS

NOW = "2026-11-27T07:00:00Z"
#: NOW + 25 h: the CRITICAL clock (24 h from first seen) ran out an hour ago
AFTER_CRITICAL = "2026-11-28T08:00:00Z"
#: NOW + 50 h: the ETSI handling deadline of CRITICAL (48 h) ran out too
AFTER_HANDLING = "2026-11-29T09:00:00Z"


@pytest.fixture
def opened(vm: Cli, tmp_path: Path) -> Path:
    """VULN-1 HIGH (72 h to assess), VULN-2 CRITICAL (24 h), opened at NOW."""
    config = tmp_path / "vulnmark.toml"
    config.write_text('[intake]\nvendors = ["OpenSSL"]\nclock_from = "first_seen"\n'
                      "assessment_hours = { CRITICAL = 24, HIGH = 72 }\n", encoding="utf-8")
    feed = write_nvd(tmp_path / "nvd.json", [cve(1), cve(2, score=9.8, severity="CRITICAL")])
    assert "opened 2" in vm.ok("intake", "run", "--from", str(feed), config=config).output
    return config


def _check(vm: Cli, config: Path, now: str, *args: str) -> dict[str, object]:
    out = vm("check", "--format", "json", *args, now=now, config=config)
    assert out.exit_code in (0, 1), out.output
    doc: dict[str, object] = json.loads(out.output)
    return doc


def _clock(doc: dict[str, object]) -> list[tuple[str, str, str]]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return [(f["ticket"], f["kind"], f["due_at"]) for f in findings
            if f["kind"].startswith("assessment_")]


def test_due_soon_then_overdue_in_check_json_with_the_contract_keys(
        vm: Cli, opened: Path) -> None:
    doc = _check(vm, opened, NOW)
    assert _clock(doc) == [("VULN-2", "assessment_due_soon", "2026-11-28T07:00:00Z")]
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert summary["by_kind"]["assessment_due_soon"] == 1
    assert summary["by_kind"]["assessment_overdue"] == 0
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert all(tuple(f) == CONTRACT_KEYS for f in findings)  # the contract, exactly
    # exactly at the end of the clock it is still due (an assessment then is on time) ...
    assert _clock(_check(vm, opened, "2026-11-28T07:00:00Z")) == [
        ("VULN-2", "assessment_due_soon", "2026-11-28T07:00:00Z")]
    # ... one second later overdue
    assert _clock(_check(vm, opened, "2026-11-28T07:00:01Z")) == [
        ("VULN-2", "assessment_overdue", "2026-11-28T07:00:00Z")]


def test_the_handling_deadline_and_the_assessment_clock_are_two_findings(
        vm: Cli, opened: Path) -> None:
    doc = _check(vm, opened, AFTER_HANDLING, "--kind", "overdue", "--kind",
                 "assessment_overdue")
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert [(f["ticket"], f["kind"], f["due_at"]) for f in findings] == [
        ("VULN-2", "overdue", "2026-11-29T07:00:00Z"),             # ETSI: 48 h to handle
        ("VULN-2", "assessment_overdue", "2026-11-28T07:00:00Z"),  # intake: 24 h to assess
    ]


def test_fail_on_and_assess_stops_them(vm: Cli, opened: Path) -> None:
    assert vm("check", "--fail-on", "assessment_overdue", now=NOW,
              config=opened).exit_code == 0
    late = vm("check", "--fail-on", "assessment_overdue", now=AFTER_CRITICAL, config=opened)
    assert late.exit_code == 1
    assert "VULN-2" in late.output and "assessment_overdue" in late.output
    assert vm("check", "--fail-on", "any", "--kind", "assessment_due_soon", now=NOW,
              config=opened).exit_code == 1
    listed = vm.ok("list", "--kind", "assessment_overdue", "--format", "json",
                   now=AFTER_CRITICAL, config=opened).output
    assert [v["ticket"] for v in json.loads(listed)] == ["VULN-2"]
    # the assessment, late: recorded as late, and the finding is gone
    r = vm.ok("assess", "VULN-2", "--affected", "--basis", "OCSP hosts run 3.0.0",
              now=AFTER_CRITICAL, config=opened)
    assert "late" in r.output
    assert vm("check", "--fail-on", "assessment_overdue,assessment_due_soon",
              now=AFTER_CRITICAL, config=opened).exit_code == 0
    # VULN-1 (HIGH, 72 h) runs out in its turn; a reclassification is an assessment too
    assert _clock(_check(vm, opened, "2026-11-30T07:00:01Z")) == [
        ("VULN-1", "assessment_overdue", "2026-11-30T07:00:00Z")]
    vm.ok("assess", "VULN-1", "--class", "LOW", "--why", "lab hosts only",
          now="2026-11-30T08:00:00Z", config=opened)
    assert _clock(_check(vm, opened, "2026-12-01T07:00:00Z")) == []


def test_a_resolved_ticket_still_needs_its_assessment(vm: Cli, opened: Path) -> None:
    """Resolving the ticket records no assessment: the finding stays until `vulnmark assess`."""
    vm.ok("ticket", "resolve", "VULN-2", now="2026-11-27T08:00:00Z", config=opened)
    doc = _check(vm, opened, AFTER_CRITICAL, "--state", "resolved")
    assert _clock(doc) == [("VULN-2", "assessment_overdue", "2026-11-28T07:00:00Z")]
    status = json.loads(vm.ok("intake", "status", "--format", "json", now=AFTER_CRITICAL,
                              config=opened).output)
    states = {t["ticket"]: t["state"] for t in status["tickets"]}
    assert states["VULN-2"] == "overdue"


def test_in_the_daily_report_and_its_subject(vm: Cli, opened: Path) -> None:
    doc = json.loads(vm.ok("report", "daily", "--format", "json", now=AFTER_CRITICAL,
                           config=opened).output)
    kinds = {f["kind"] for f in doc["findings"]}
    assert "assessment_overdue" in kinds and "assessment_due_soon" not in kinds
    text = vm.ok("report", "daily", now=AFTER_CRITICAL, config=opened).output
    deadlines = text.split("Deadlines")[1].split("Suspected")[0]
    assert "VULN-2" in deadlines and "assessment_overdue" in deadlines
    assert "not assessed" in deadlines and "vulnmark assess VULN-2" in deadlines
