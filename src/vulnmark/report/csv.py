"""CSV daily report: one row per finding, for spreadsheets.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return) are prefixed with ``'`` (OWASP CSV injection advice): ticket text is
untrusted.
"""

from __future__ import annotations

import csv
import io
import logging

from vulnmark.report.interface import ReportFormatter, utc_iso, where
from vulnmark.report.model import DailyReport

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "ticket", "kind", "title", "classification", "suggested", "confidence",
    "due_at", "reporter", "url", "evidence",
)
#: Separator between evidence snippets in the ``evidence`` cell.
EVIDENCE_SEPARATOR = " | "
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would evaluate it."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


class CsvFormat(ReportFormatter):
    """RFC 4180 CSV (CRLF line ends) with a header row; findings in section order."""

    media_type = "text/csv"

    def format(self, report: DailyReport) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for section in report.sections():
            for f in section.findings:
                evidence = EVIDENCE_SEPARATOR.join(f"{where(e)}: {e.text}" for e in f.evidence)
                row = [
                    f.ticket, f.kind, f.title, f.classification or "", f.suggested or "",
                    "" if f.confidence is None else f"{f.confidence:.2f}",
                    utc_iso(f.due_at) or "", f.reporter or "", f.url or "", evidence,
                ]
                writer.writerow([defuse(c) for c in row])
        return buf.getvalue()
