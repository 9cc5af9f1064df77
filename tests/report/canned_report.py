"""The canned daily report's parts: one finding of every kind, hostile ticket text, a failed
delivery (a module with a unique name: ``conftest`` names are ambiguous across folders)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from vulnmark.model import Evidence, Finding, Run, TicketKey
from vulnmark.report.model import ControlHealth

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
        _f("SEC-12", "source_diverged", labels=("Vulnerability", "HIGH"), classification="HIGH",
           detail="the source lacks HIGH (applied by vulnmark)",
           evidence=(Evidence("label", "label HIGH added by vulnmark (backfill, mso)"),)),
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
