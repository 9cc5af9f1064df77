"""A canned daily report with one finding of every kind and hostile ticket text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vulnmark.config.presets import preset
from vulnmark.model import Evidence, Finding, Run, TicketKey
from vulnmark.report.model import ControlHealth, DailyReport

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 CET in Budapest
XSS = "<script>alert(1)</script>"
QUOTES = "\"&'"
HOSTILE = f"{XSS} {QUOTES} a|b *bold* [x](javascript:alert(2))"


def _f(key: str, kind: str, **kw: object) -> Finding:
    kw.setdefault("title", f"Title of {key}")
    kw.setdefault("created", datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    return Finding(ticket=TicketKey(key), kind=kind, **kw)  # type: ignore[arg-type]


def canned_findings() -> tuple[Finding, ...]:
    return (
        _f("SEC-1", "unclassified", title=f"TLS issue {HOSTILE}", labels=("Sérülékenység",),
           suggested="HIGH", confidence=0.9, reporter=f"mallory {XSS} {QUOTES}",
           url="https://jira.example/browse/SEC-1",
           evidence=(Evidence("comment", f"rated HIGH {XSS} {QUOTES}", 2),
                     Evidence("title", "TLS issue")),
           created=datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
        _f("SEC-2", "conflicting", labels=("Vulnerability", "HIGH", "LOW"),
           classification="HIGH", url="javascript:alert(3)"),
        _f("SEC-3", "unmarked", labels=("MAGAS",), classification="HIGH"),
        _f("SEC-4", "overdue", classification="CRITICAL",
           due_at=datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        _f("SEC-5", "due_soon", classification="CRITICAL",
           due_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
        _f("SEC-6", "late", classification="CRITICAL",
           due_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        _f("SEC-7", "no_outcome", classification="LOW",
           due_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        _f("SEC-8", "suspected", title="CVE-2026-0001 in OpenSSL", suggested="CRITICAL",
           confidence=0.6, evidence=(Evidence("description", "CVE-2026-0001"),)),
        _f("SEC-9", "noncanonical", labels=("high ",), classification="HIGH",
           detail="label 'high ' is accepted as HIGH; use 'HIGH'"),
        _f("SEC-10", "mismatch", labels=("Vulnerability", "LOW"), classification="LOW",
           suggested="CRITICAL", confidence=0.95,
           evidence=(Evidence("description", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),)),
        _f("=SEC-11", "unclassified", title="=HYPERLINK(\"http://evil\")", reporter="@bob"),
    )


def canned_health() -> ControlHealth:
    ok = Run(11, "report", datetime(2026, 11, 26, 6, 0, tzinfo=UTC), "d" * 64,
             {"findings": 3}, delivery_status="delivered", message_id="<a@ca.example>",
             server_reply="250 OK queued as 1")
    failed = Run(10, "report", datetime(2026, 11, 25, 6, 0, tzinfo=UTC), "d" * 64,
                 delivery_status="failed", error="451 4.3.0 try later")
    return ControlHealth(
        runs=(ok, failed),
        missed_days=(date(2026, 11, 23),),
        last_delivery=ok,
        undelivered=(failed,),
        notes=("evidence chain verified: 123 records",),
    )


@pytest.fixture
def policy():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(preset("etsi-319-401"), timezone="Europe/Budapest")


@pytest.fixture
def report(policy) -> DailyReport:  # type: ignore[no-untyped-def]
    findings = canned_findings()
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=40, vulnerabilities=12,
        by_class={"CRITICAL": 4, "HIGH": 3, "LOW": 2, "unclassified": 3},
        findings=findings, health=canned_health(),
    )


@pytest.fixture
def empty_report(policy) -> DailyReport:  # type: ignore[no-untyped-def]
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=())
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=5, vulnerabilities=2,
        by_class={"HIGH": 2, "unclassified": 0}, findings=(), health=health,
    )
