"""CSV daily report: one row per finding, for spreadsheets.

Written by the one CSV writer (:mod:`vulnmark._csv`): a cell a spreadsheet would run as a
formula gets a leading ``'``, a cell with a line break is quoted (ticket text is untrusted).
"""

from __future__ import annotations

import logging

from vulnmark._csv import csv_text
from vulnmark._time import iso
from vulnmark.report.interface import ReportFormatter, where
from vulnmark.report.model import DailyReport

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "ticket", "kind", "title", "classification", "suggested", "confidence",
    "due_at", "reporter", "url", "evidence",
)
#: Separator between evidence snippets in the ``evidence`` cell.
EVIDENCE_SEPARATOR = " | "


class CsvFormat(ReportFormatter):
    """RFC 4180 CSV (CRLF line ends) with a header row; findings in section order."""

    media_type = "text/csv"

    def format(self, report: DailyReport) -> str:
        rows = []
        for section in report.sections():
            for f in section.findings:
                evidence = EVIDENCE_SEPARATOR.join(f"{where(e)}: {e.text}" for e in f.evidence)
                rows.append([
                    f.ticket, f.kind, f.title, f.classification, f.suggested,
                    None if f.confidence is None else f"{f.confidence:.2f}",
                    iso(f.due_at), f.reporter, f.url, evidence,
                ])
        return csv_text(COLUMNS, rows, line_end="\r\n")
