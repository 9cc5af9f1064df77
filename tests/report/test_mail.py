"""The daily email: the summary, health and chain head first, a cap per section with "and K
more", the HTML part under Gmail's clipping size whatever the store size, the text part
mirroring it, the full report attached (zipped when large)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from canned_report import HOSTILE, XSS, canned_findings, canned_health

from vulnmark.config.policy import Policy
from vulnmark.model import Evidence, Finding, TicketKey
from vulnmark.report.mail import BUDGET, attachments, mail_bodies
from vulnmark.report.model import DailyReport

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def big_report(policy: Policy, n: int, *, scale: int = 1) -> DailyReport:
    """``n`` findings of each of four kinds with long, unbreakable evidence."""
    frame = "at org.apache.activemq.security.AuthorizationBroker.addDestination(" * 3 * scale
    out: list[Finding] = []
    for i in range(n):
        for kind in ("unclassified", "overdue", "suspected", "mismatch"):
            out.append(Finding(
                ticket=TicketKey(f"BIG-{i:07d}"), kind=kind,  # type: ignore[arg-type]
                title=f"Ticket {i} {HOSTILE} " + "long title words " * 8,
                labels=("Vulnerability",), classification="HIGH", suggested="CRITICAL",
                confidence=0.7, due_at=NOW + timedelta(hours=i),
                evidence=(Evidence("description", frame), Evidence("comment", frame, 3),
                          Evidence("title", frame)),
                reporter="reporter " * 5, created=NOW - timedelta(days=30)))
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=n * 10, vulnerabilities=n * 3,
        by_class={"HIGH": n * 3}, findings=tuple(out), health=canned_health(),
        left_out=("7 dismissed findings: see `vulnmark dismiss --list`",))


def test_the_top_of_the_mail_is_the_summary_and_the_health(policy: Policy) -> None:
    mail = mail_bodies(big_report(policy, 40))
    top = mail.html[:6000]
    assert "Summary" in top and "Needs classification</td>" in top
    assert "Missed daily runs: 1 (2026-11-23)" in top  # control health
    assert "evidence chain verified: 123 records" in top  # the chain head line
    assert "7 dismissed findings" in top
    assert mail.html.index("Control health") < mail.html.index("BIG-0000000")
    text_top = mail.text[:3000]
    assert "Missed daily runs: 1" in text_top and "evidence chain verified" in text_top


def test_each_section_is_capped_with_the_command_for_the_rest(policy: Policy) -> None:
    mail = mail_bodies(big_report(policy, 40), items=10)
    assert mail.items == 10
    assert mail.html.count("BIG-0000009") == 4 and "BIG-0000010" not in mail.html
    assert "and 30 more: see the attached full report, or run <code>vulnmark check --kind " \
           "unclassified --kind conflicting --kind unmarked</code>" in mail.html
    assert "... and 30 more: see the attached full report, or run `vulnmark check --kind " \
           "suspected`" in mail.text
    for ticket in ("BIG-0000000", "BIG-0000009"):  # the text part lists the same tickets
        assert mail.text.count(ticket) == mail.html.count(ticket)


def test_the_html_part_fits_whatever_the_size(policy: Policy) -> None:
    for n, scale in ((10, 1), (1000, 1), (200, 40)):
        mail = mail_bodies(big_report(policy, n, scale=scale), items=200)
        assert len(mail.html.encode()) <= BUDGET, (n, scale)
        assert "Control health" in mail.html
    assert mail.items < 200  # it had to list fewer to fit


def test_hostile_text_is_escaped(policy: Policy) -> None:
    report = DailyReport.from_policy(policy, generated_at=NOW, tickets=40, vulnerabilities=12,
                                     by_class={}, findings=canned_findings(),
                                     health=canned_health())
    mail = mail_bodies(report)
    assert XSS not in mail.html and "&lt;script&gt;" in mail.html
    assert 'href="javascript' not in mail.html
    assert XSS in mail.text


def test_attachments_are_the_full_report_zipped_when_large(policy: Policy) -> None:
    small = attachments(big_report(policy, 3))
    assert [a.filename for a in small] == ["vulnmark-report-2026-11-27.html",
                                           "vulnmark-report-2026-11-27.csv"]
    assert small[0].mime == "text/html" and small[1].mime == "text/csv"
    large = attachments(big_report(policy, 600))
    assert [a.filename for a in large] == ["vulnmark-report-2026-11-27.zip"]
    with zipfile.ZipFile(io.BytesIO(large[0].content)) as z:
        assert z.namelist() == ["vulnmark-report-2026-11-27.html",
                                "vulnmark-report-2026-11-27.csv"]
        html = z.read("vulnmark-report-2026-11-27.html").decode()
    assert html.count("BIG-0000599") == 4  # every finding is in the full report


def test_an_empty_report_says_so(policy: Policy) -> None:
    empty = replace(big_report(policy, 0), left_out=())
    mail = mail_bodies(empty)
    assert "No findings" in mail.html and "No findings" in mail.text
