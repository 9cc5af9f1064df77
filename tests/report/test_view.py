"""What the human formats show of a finding, computed once per report."""

from __future__ import annotations

from dataclasses import replace

from vulnmark.report.interface import confidence, labels, one_line, snippet
from vulnmark.report.model import DailyReport
from vulnmark.report.view import shown


def test_shown_values_are_the_helpers_values_once_per_report(report: DailyReport) -> None:
    f = next(f for f in report.findings if f.evidence)
    v = shown(report, f)
    assert v.title == one_line(f.title) and v.labels == labels(f.labels)
    assert v.evidence == tuple(snippet(e) for e in f.evidence)
    assert (v.confidence, v.due, v.age) == (confidence(f.confidence), report.local(f.due_at),
                                            report.age(f))
    assert shown(report, f) is v  # remembered with the report
    later = replace(report, generated_at=report.generated_at.replace(year=2030))
    assert shown(later, later.findings[report.findings.index(f)]).age != v.age  # not shared
