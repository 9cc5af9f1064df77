"""The report's Intake section: counts, and each intake ticket that needs someone, in every
human format and in JSON; hostile record ids are neutralised; no section without intake."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from canned_report import NOW, XSS

from vulnmark.report import DailyReport, IntakeDigest, IntakeItem, ReportFormat

DIGEST = IntakeDigest(
    new=2, escalated=1, awaiting=1, due_soon=1, overdue=1, assessed=3, proposals=1, rejected=0,
    items=(IntakeItem("VULN-7", "CVE-2026-0007", "overdue", "CRITICAL",
                      datetime(2026, 11, 26, 6, 0, tzinfo=UTC), False, True, "CRITICAL"),
           IntakeItem("VULN-8", f"CVE-2026-0008{XSS}\x1b[2J", "due_soon", "HIGH",
                      datetime(2026, 11, 27, 20, 0, tzinfo=UTC), True, False),
           IntakeItem("VULN-9", "GHSA-x", "awaiting", None, None, True, False)))


def _render(report: DailyReport, fmt: str) -> str:
    return ReportFormat(fmt).to_format().format(report)


def test_every_format_shows_the_intake_section(report: DailyReport) -> None:
    with_intake = replace(report, intake=DIGEST)
    text = _render(with_intake, "text")
    assert "\nIntake\n======\n" in text
    assert "Awaiting assessment: 2 (1 due soon); overdue: 1; assessed: 3" in text
    assert "- VULN-7 CVE-2026-0007 [overdue] CRITICAL, assess by 2026-11-26 07:00" in text
    assert "escalated, proposed CRITICAL" in text and "VULN-9 GHSA-x [awaiting] unclassified" \
        in text
    assert "\x1b" not in text
    md = _render(with_intake, "md")
    assert "## Intake" in md and "<script>" not in md
    html = _render(with_intake, "html")
    assert ">Intake</h2>" in html and "<script>" not in html and "&lt;script&gt;" in html
    data = json.loads(_render(with_intake, "json"))
    assert data["intake"]["overdue"] == 1 and data["intake"]["tickets"][0] == {
        "ticket": "VULN-7", "id": "CVE-2026-0007", "state": "overdue", "class": "CRITICAL",
        "assess_due_at": "2026-11-26T06:00:00Z", "new": False, "escalated": True,
        "proposed": "CRITICAL", "rejected": False}


def test_no_intake_no_section(report: DailyReport) -> None:
    assert report.intake is None
    assert "Intake" not in _render(report, "text")
    assert "intake" not in json.loads(_render(report, "json"))
    assert NOW == report.generated_at


def test_the_email_shows_the_intake_section(report: DailyReport) -> None:
    from vulnmark.report.mail import mail_bodies

    mail = mail_bodies(replace(report, intake=DIGEST))
    for body in (mail.text, mail.html):
        assert "Intake" in body and "Awaiting assessment: 2 (1 due soon)" in body
        assert "VULN-7 CVE-2026-0007 [overdue] CRITICAL" in body
        assert "\x1b" not in body
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "Intake" not in mail_bodies(report).text
