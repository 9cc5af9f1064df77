"""The interface every report format implements, and small helpers the formats share."""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from functools import lru_cache
from urllib.parse import urlsplit

from vulnmark.model import Evidence, Run
from vulnmark.report.model import DailyReport

logger = logging.getLogger(__name__)

#: Longest evidence snippet shown in human formats (JSON keeps the full text).
SNIPPET_CHARS = 200


class ReportFormatter(ABC):
    """Turns a :class:`DailyReport` into a string. No I/O: the caller decides where it goes."""

    #: MIME type of the output, for whoever serves or mails it.
    media_type: str = "text/plain"

    @abstractmethod
    def format(self, report: DailyReport) -> str:
        """The whole report as one string."""


#: Bidirectional overrides and isolates ("Trojan Source"): they reorder what people read.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


#: Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + "".join(sorted(_BIDI)) + "]")


def clean(text: str) -> str:
    """``text`` with control characters (terminal escapes, NUL) and bidi overrides shown as
    U+FFFD, so hostile ticket text cannot rewrite a terminal or reorder a line."""
    return _UNSAFE.sub("\ufffd", text)


def one_line(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Whitespace collapsed to single spaces, controls replaced (:func:`clean`), and cut to
    ``limit`` characters with "…"."""
    if (len(text) <= limit and text.isprintable() and "  " not in text
            and text[:1] != " " and text[-1:] != " "):
        return text  # already one clean line: no control, no space but single ASCII ones
    flat = clean(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def where(evidence: Evidence) -> str:
    """Where a snippet comes from: "title", "comment 3" (1-based for people), "label"."""
    if evidence.field == "comment" and evidence.index is not None:
        return f"comment {evidence.index + 1}"
    return evidence.field


def snippet(evidence: Evidence, limit: int = SNIPPET_CHARS) -> str:
    """'comment 3: "rated HIGH by the pentest"'."""
    return f'{where(evidence)}: "{one_line(evidence.text, limit)}"'


@lru_cache(maxsize=4096)
def labels(values: tuple[str, ...]) -> str:
    """Labels quoted so stray spaces and control characters stay visible: '"high ", "LOW"'.

    (Cached: a report of thousands of findings shows a few dozen label sets.)"""
    if not values:
        return "(none)"
    return clean(json.dumps(list(values), ensure_ascii=False)[1:-1])


def confidence(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s) without whitespace or quotes; else None (never a link)."""
    if not url:
        return None
    if any(c.isspace() or c in "\"'<>`" for c in url):
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def run_line(report: DailyReport, run: Run) -> str:
    """'#12 report 2026-11-26 07:00 CET (+01:00) delivered <id> — 250 OK'."""
    parts = [f"#{run.id}", run.kind, report.local(run.started_at)]
    if run.delivery_status:
        parts.append(run.delivery_status)
    if run.message_id:
        parts.append(run.message_id)
    if run.server_reply:
        parts.append(f"reply: {one_line(run.server_reply, 120)}")
    if run.error:
        parts.append(f"error: {one_line(run.error, 160)}")
    return " ".join(parts)


def health_summary(report: DailyReport) -> tuple[str, ...]:
    """Plain sentences about the control's own health, in a fixed order."""
    h = report.health
    lines: list[str] = []
    if h.missed_days:
        days = ", ".join(d.isoformat() for d in h.missed_days)
        lines.append(f"Missed daily runs: {len(h.missed_days)} ({days})")
    else:
        lines.append("Missed daily runs: none")
    if h.undelivered:
        lines.append(f"Undelivered reports: {len(h.undelivered)} (shown below, kept for resend)")
    else:
        lines.append("Undelivered reports: none")
    if h.last_delivery is None:
        lines.append("Last delivery: none recorded")
    else:
        lines.append(f"Last delivery: {run_line(report, h.last_delivery)}")
    return tuple(lines)


#: Intake tickets listed by name in the report's Intake section (the counts cover them all).
INTAKE_SHOWN = 50
INTAKE_TITLE = "Intake"


def intake_lines(report: DailyReport) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Intake section: (summary sentences, one line per ticket that needs someone);
    ticket text is made one clean line here."""
    d = report.intake
    if d is None:
        return (), ()
    summary = (f"New: {d.new}; escalated (KEV or a class proposal): {d.escalated}",
               f"Awaiting assessment: {d.awaiting + d.due_soon} ({d.due_soon} due soon); "
               f"overdue: {d.overdue}; assessed: {d.assessed}",
               f"Class proposals: {d.proposals}; rejected at the source: {d.rejected}")
    items = []
    for i in d.items[:INTAKE_SHOWN]:
        notes = [n for n, on in (("new", i.new), ("escalated", i.escalated),
                                 (f"proposed {i.proposed}", i.proposed is not None),
                                 ("rejected", i.rejected)) if on]
        due = f", assess by {report.local(i.due_at)}" if i.due_at else ""
        items.append(one_line(f"{i.ticket} {i.record} [{i.state}] {i.cls or 'unclassified'}"
                              f"{due}{'; ' + ', '.join(notes) if notes else ''}", 300))
    if len(d.items) > INTAKE_SHOWN:
        items.append(f"… and {len(d.items) - INTAKE_SHOWN} more (vulnmark intake status)")
    return summary, tuple(items)
