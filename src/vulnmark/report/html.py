"""Self-contained HTML daily report for mail clients: tables, inline CSS, no JS, no external
resources. Rendered by Jinja2 with autoescape on, so every ticket text is escaped."""

from __future__ import annotations

import logging
from functools import cache
from html import escape

import jinja2
from markupsafe import Markup

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
from vulnmark.report.view import shown

logger = logging.getLogger(__name__)

TEMPLATE = "daily.html.j2"
RUNS_SHOWN = 7


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vulnmark.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        confidence=confidence,
        labels=labels,
        one_line=one_line,
        run_line=run_line,
        safe_url=safe_url,
        snippet=snippet,
        EMPTY_MESSAGE=EMPTY_MESSAGE,
        HEALTH_TITLE=HEALTH_TITLE,
        COUNTS_TITLE=COUNTS_TITLE,
        RUNS_SHOWN=RUNS_SHOWN,
    )
    return env


_CELL = ('<td style="border:1px solid #dddddd;overflow-wrap:anywhere;word-break:break-word;{}">'
         '{}</td>')
_SMALL = '<br><span style="{}font-size:12px;">{}</span>'
_SNIPPET = ('<br><span style="color:#444444;font-size:12px;font-family:Consolas,Menlo,'
            'monospace;">{}</span>')


def _rows(report: DailyReport, findings: tuple[Finding, ...]) -> Markup:
    """The table rows of a section's findings, every value escaped here.

    Built in Python rather than by the template: each ``{{ }}`` in a template costs a
    ``Markup`` object and a helper call costs several times a Python call, and a report can
    hold tens of thousands of findings (this made the HTML four times faster).
    """
    out = []
    for f in findings:
        v = shown(report, f)
        link = safe_url(f.url)
        ticket = escape(f.ticket)
        if link:
            ticket = f'<a href="{escape(link)}" style="color:#0b57d0;">{ticket}</a>'
        text = f"<strong>{escape(v.title)}</strong>"
        if f.labels:
            text += _SMALL.format("color:#555555;", "labels: " + escape(v.labels))
        if f.detail:
            text += _SMALL.format("", escape(v.detail))
        text += "".join(_SNIPPET.format(escape(e)) for e in v.evidence)
        cls = escape(f.classification or "-")
        if f.suggested or f.confidence is not None:
            cls += _SMALL.format("", escape(f"suggested {f.suggested or '-'} ({v.confidence})"))
        out.append("\n".join((
            '<tr style="vertical-align:top;">',
            _CELL.format("", ticket),
            _CELL.format("", escape(f.kind)),
            _CELL.format("", text),
            _CELL.format("", cls),
            _CELL.format("", escape(v.due)),
            _CELL.format("", escape(v.reporter)),
            _CELL.format("", escape(v.age)),
            "</tr>\n")))
    return Markup("".join(out))


class HtmlFormat(ReportFormatter):
    """HTML email body (``templates/daily.html.j2``)."""

    media_type = "text/html"

    def format(self, report: DailyReport) -> str:
        template = _environment().get_template(TEMPLATE)
        sections = report.sections()
        return template.render(
            report=report,
            sections=sections,
            rows={s.number: _rows(report, s.findings) for s in sections},
            health_lines=health_summary(report),
            intake=intake_lines(report),
            INTAKE_TITLE=INTAKE_TITLE,
        )
