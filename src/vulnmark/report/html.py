"""Self-contained HTML daily report for mail clients: tables, inline CSS, no JS, no external
resources. Rendered by Jinja2 with autoescape on, so every ticket text is escaped."""

from __future__ import annotations

import logging
from functools import cache

import jinja2

from vulnmark.report.interface import (
    ReportFormatter,
    confidence,
    health_summary,
    labels,
    one_line,
    run_line,
    safe_url,
    snippet,
)
from vulnmark.report.model import COUNTS_TITLE, EMPTY_MESSAGE, HEALTH_TITLE, DailyReport

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


class HtmlFormat(ReportFormatter):
    """HTML email body (``templates/daily.html.j2``)."""

    media_type = "text/html"

    def format(self, report: DailyReport) -> str:
        template = _environment().get_template(TEMPLATE)
        return template.render(
            report=report,
            sections=report.sections(),
            health_lines=health_summary(report),
        )
