"""Plain-text daily report: the text/plain part of the mail and the terminal output."""

from __future__ import annotations

import logging

from vulnmark.model import Finding
from vulnmark.report.interface import (
    INTAKE_TITLE,
    ReportFormatter,
    health_summary,
    intake_lines,
    one_line,
    run_line,
)
from vulnmark.report.model import COUNTS_TITLE, EMPTY_MESSAGE, HEALTH_TITLE, DailyReport, Section
from vulnmark.report.view import shown

logger = logging.getLogger(__name__)

#: Previous runs listed under Control health.
RUNS_SHOWN = 7


class TextFormat(ReportFormatter):
    """A readable plain-text report, 100 columns wide at most for headers."""

    media_type = "text/plain"

    def format(self, report: DailyReport) -> str:
        out: list[str] = [
            f"vulnmark daily classification report — {report.local_date}",
            f"Generated: {report.local(report.generated_at)}",
            f"Policy: {report.policy_name} (digest {report.policy_digest[:12]})",
            f"Tickets: {report.tickets}; vulnerabilities: {report.vulnerabilities}",
            *(f"Not listed: {line}" for line in report.left_out),
            "",
        ]
        if report.is_empty:
            out += [EMPTY_MESSAGE, ""]
        for section in report.sections():
            heading = f"{section.number}. {section.title}"
            if section.kinds:
                heading += f" ({section.count})"
            out += [heading, "=" * len(heading)]
            if section.title == HEALTH_TITLE:
                out += self._health(report)
            elif section.title == COUNTS_TITLE:
                out += self._counts(report)
            else:
                out += self._findings(report, section)
            out.append("")
        summary, items = intake_lines(report)
        if summary:
            out += [INTAKE_TITLE, "=" * len(INTAKE_TITLE), *summary,
                    *(f"- {line}" for line in items), ""]
        return "\n".join(out).rstrip() + "\n"

    def _findings(self, report: DailyReport, section: Section) -> list[str]:
        if not section.findings:
            return ["None."]
        lines: list[str] = []
        for f in section.findings:
            lines += self._finding(report, f)
        return lines

    def _finding(self, report: DailyReport, f: Finding) -> list[str]:
        v = shown(report, f)
        lines = [f"- {f.ticket} [{f.kind}] {v.title}"]
        lines.append(f"    Labels: {v.labels}; class: {f.classification or '-'}")
        if f.suggested is not None or f.confidence is not None:
            lines.append(f"    Suggested: {f.suggested or '-'} (confidence {v.confidence})")
        if f.due_at is not None:
            lines.append(f"    Due: {v.due}")
        if f.detail:
            lines.append(f"    Detail: {v.detail}")
        lines.extend(f"    Evidence: {e}" for e in v.evidence)
        lines.append(f"    Reporter: {v.reporter}; age: {v.age}")
        if f.url:
            lines.append(f"    {one_line(f.url, 300)}")
        return lines

    def _health(self, report: DailyReport) -> list[str]:
        h = report.health
        lines = list(health_summary(report))
        lines.extend(f"  undelivered: {run_line(report, r)}" for r in h.undelivered)
        lines.extend(f"Note: {one_line(n, 300)}" for n in h.notes)
        if h.runs:
            lines.append(f"Previous runs (newest first, {min(len(h.runs), RUNS_SHOWN)} shown):")
            lines.extend(f"  {run_line(report, r)}" for r in h.runs[:RUNS_SHOWN])
        else:
            lines.append("Previous runs: none recorded")
        return lines

    def _counts(self, report: DailyReport) -> list[str]:
        rows = report.counts_table
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {n:>6}" for name, n in rows]
        lines.append(f"{'total':<{width}}  {report.vulnerabilities:>6}")
        return lines
