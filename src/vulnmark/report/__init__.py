"""The daily report: model, sections and one formatter per output format."""

from vulnmark.errors import ReportError
from vulnmark.report.formats import ReportFormat
from vulnmark.report.interface import ReportFormatter
from vulnmark.report.model import (
    EMPTY_MESSAGE,
    SECTION_TITLES,
    ControlHealth,
    DailyReport,
    IntakeDigest,
    IntakeItem,
    Section,
    format_age,
    subject,
)

__all__ = [
    "EMPTY_MESSAGE",
    "SECTION_TITLES",
    "ControlHealth",
    "DailyReport",
    "IntakeDigest",
    "IntakeItem",
    "ReportError",
    "ReportFormat",
    "ReportFormatter",
    "Section",
    "format_age",
    "subject",
]
