"""Markdown daily report (for chat tools, wikis and tickets).

Every ticket-supplied text is escaped: ``&``, ``<`` and ``>`` become HTML entities (renderers
that pass raw HTML through must not see a tag) and Markdown metacharacters, including ``|``
in table cells, get a backslash. Links are made only from plain http(s) URLs.
"""

from __future__ import annotations

import logging

from vulnmark.model import Finding
from vulnmark.report.interface import (
    INTAKE_TITLE,
    ReportFormatter,
    confidence,
    health_summary,
    intake_lines,
    labels,
    one_line,
    run_line,
    safe_url,
    snippet,
)
from vulnmark.report.model import COUNTS_TITLE, EMPTY_MESSAGE, HEALTH_TITLE, DailyReport

logger = logging.getLogger(__name__)

#: Inline Markdown metacharacters; block markers (``#``, ``-``, ``1.``) cannot start a cell
#: or a list item's text here, and ``(``/``!`` are inert once ``[``/``]`` are escaped.
_META = set("\\`*_[]|~")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Text safe inside Markdown and inside a table cell (one line, no live markup)."""
    out: list[str] = []
    for ch in one_line(text, limit=10_000):
        if ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _META:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _link(text: str, url: str | None) -> str:
    safe = safe_url(url)
    if safe is None:
        return escape(text)
    target = safe.replace("(", "%28").replace(")", "%29")
    return f"[{escape(text)}]({target})"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


class MarkdownFormat(ReportFormatter):
    """GitHub-flavoured Markdown with one table per finding section."""

    media_type = "text/markdown"

    def format(self, report: DailyReport) -> str:
        out = [
            f"# vulnmark daily classification report — {report.local_date}",
            "",
            f"- Generated: {escape(report.local(report.generated_at))}",
            f"- Policy: {escape(report.policy_name)} (digest `{report.policy_digest[:12]}`)",
            f"- Tickets: {report.tickets}; vulnerabilities: {report.vulnerabilities}",
            *(f"- Not listed: {escape(line)}" for line in report.left_out),
            "",
        ]
        if report.is_empty:
            out += [f"**{escape(EMPTY_MESSAGE)}**", ""]
        for section in report.sections():
            heading = f"## {section.number}. {section.title}"
            if section.kinds:
                heading += f" ({section.count})"
            out += [heading, ""]
            if section.title == HEALTH_TITLE:
                out += self._health(report)
            elif section.title == COUNTS_TITLE:
                out += [_row(["Class", "Vulnerabilities"]), _row(["---", "---:"])]
                out += [_row([escape(n), str(c)]) for n, c in report.counts_table]
                out.append(_row(["**total**", f"**{report.vulnerabilities}**"]))
            elif not section.findings:
                out.append("None.")
            else:
                out += [
                    _row(["Ticket", "Kind", "Title", "Class", "Suggested", "Due",
                          "Reporter", "Age", "Evidence"]),
                    _row(["---"] * 9),
                ]
                out += [self._finding(report, f) for f in section.findings]
            out.append("")
        summary, items = intake_lines(report)
        if summary:
            out += [f"## {INTAKE_TITLE}", "", *(f"- {escape(line)}" for line in summary), "",
                    *(f"- {escape(line)}" for line in items), ""]
        return "\n".join(out).rstrip() + "\n"

    def _finding(self, report: DailyReport, f: Finding) -> str:
        suggested = "-"
        if f.suggested is not None or f.confidence is not None:
            suggested = f"{escape(f.suggested or '-')} ({escape(confidence(f.confidence))})"
        evidence = "<br>".join(escape(snippet(e)) for e in f.evidence) or "-"
        title = escape(one_line(f.title))
        if f.detail:
            title += f"<br>{escape(one_line(f.detail))}"
        if f.labels:
            title += f"<br>labels: {escape(labels(f.labels))}"
        return _row([
            _link(f.ticket, f.url),
            escape(f.kind),
            title,
            escape(f.classification or "-"),
            suggested,
            escape(report.local(f.due_at)),
            escape(f.reporter or "-"),
            escape(report.age(f)),
            evidence,
        ])

    def _health(self, report: DailyReport) -> list[str]:
        h = report.health
        lines = [f"- {escape(line)}" for line in health_summary(report)]
        lines += [f"- undelivered: {escape(run_line(report, r))}" for r in h.undelivered]
        lines += [f"- {escape(n)}" for n in h.notes]
        if h.runs:
            lines += ["", "Previous runs (newest first):", ""]
            lines += [f"- {escape(run_line(report, r))}" for r in h.runs[:7]]
        else:
            lines.append("- Previous runs: none recorded")
        return lines
