"""Every finding kind has exactly one report section, so no finding can vanish from a report
(D3 of the architecture review: a kind missing from the section table disappeared from the text,
HTML, Markdown and CSV reports without even a "No findings")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vulnmark.config.presets import preset
from vulnmark.model import FINDING_KINDS, Finding, TicketKey
from vulnmark.report import EMPTY_MESSAGE, ControlHealth, DailyReport, ReportFormat

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def _report(kind: str) -> DailyReport:
    finding = Finding(ticket=TicketKey("ONLY-1"), kind=kind, title="The only finding")  # type: ignore[arg-type]
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=())
    return DailyReport.from_policy(preset("etsi-319-401"), generated_at=NOW, tickets=1,
                                   vulnerabilities=1, by_class={}, findings=(finding,),
                                   health=health)


def test_every_kind_is_in_exactly_one_section() -> None:
    sections = _report("unclassified").sections()
    listed = [k for s in sections for k in s.kinds]
    assert sorted(listed) == sorted(FINDING_KINDS)
    assert len(listed) == len(set(listed)), "a kind is listed in two sections"


@pytest.mark.parametrize("kind", FINDING_KINDS)
def test_a_lone_finding_of_any_kind_is_in_one_section_and_every_format(kind: str) -> None:
    report = _report(kind)
    holding = [s.title for s in report.sections() if any(f.kind == kind for f in s.findings)]
    assert len(holding) == 1, holding
    for fmt in ReportFormat:
        body = fmt.to_format().format(report)
        assert "ONLY-1" in body, (fmt, kind)
        assert EMPTY_MESSAGE not in body, (fmt, kind)
