"""The report format names the CLI and the web layer accept, mapped to formatter classes."""

from __future__ import annotations

import enum
import logging
from typing import assert_never

from vulnmark.errors import ReportError
from vulnmark.report.csv import CsvFormat
from vulnmark.report.html import HtmlFormat
from vulnmark.report.interface import ReportFormatter
from vulnmark.report.json import JsonFormat
from vulnmark.report.markdown import MarkdownFormat
from vulnmark.report.text import TextFormat

logger = logging.getLogger(__name__)


class ReportFormat(enum.StrEnum):
    """``--format`` choices for the daily report."""

    TEXT = "text"
    HTML = "html"
    MD = "md"
    JSON = "json"
    CSV = "csv"

    @classmethod
    def parse(cls, name: str) -> ReportFormat:
        try:
            return cls(name.strip().lower())
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise ReportError(f"unknown report format {name!r}; choose one of: {choices}") from None

    def to_format(self) -> ReportFormatter:
        if self is ReportFormat.TEXT:
            return TextFormat()
        if self is ReportFormat.HTML:
            return HtmlFormat()
        if self is ReportFormat.MD:
            return MarkdownFormat()
        if self is ReportFormat.JSON:
            return JsonFormat()
        if self is ReportFormat.CSV:
            return CsvFormat()
        assert_never(self)
