"""The daily email: a summary that fits in a mail client, the full report attached.

Gmail clips an HTML part above about 102 KB, and what is clipped is what nobody reads. The
email therefore puts first what the security officer must see every day — the counts of each
section, the control's health and the evidence chain head — then the first findings of each
section, most urgent first, and "and K more" with the command that lists them. When a section
does not fit in :data:`BUDGET` even so, fewer findings are listed (:func:`mail_bodies`). The
text part mirrors the HTML part. The full report goes as attachments (:func:`attachments`).

Formats return strings and do no I/O; the caller sends them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from vulnmark.deliver.interface import Attachment
from vulnmark.model import Finding
from vulnmark.report.csv import CsvFormat
from vulnmark.report.html import HtmlFormat
from vulnmark.report.interface import (
    INTAKE_TITLE,
    clean,
    health_summary,
    intake_lines,
    one_line,
    run_line,
    safe_url,
)
from vulnmark.report.model import COUNTS_TITLE, EMPTY_MESSAGE, HEALTH_TITLE, DailyReport, Section
from vulnmark.report.view import shown

BUDGET = 100_000
"""The largest HTML part, in bytes (Gmail clips at about 102 KB)."""
ZIP_ABOVE = 1_000_000
"""Attachments larger than this together go as one ZIP file."""
EVIDENCE_SHOWN = 2


def more_command(section: Section) -> str:
    return "vulnmark check " + " ".join(f"--kind {k}" for k in section.kinds)


@dataclass(frozen=True)
class Mail:
    text: str
    html: str
    items: int
    """Findings listed per section (after fitting the budget)."""


def mail_bodies(report: DailyReport, items: int = 25, budget: int = BUDGET) -> Mail:
    """The text and HTML parts, listing at most ``items`` findings per section, and the
    most that fit when all of them would make the HTML part exceed ``budget`` bytes."""
    html = mail_html(report, items)
    if len(html.encode()) > budget:
        lo, hi = 0, items - 1  # the most that fit is in [lo, hi]; 0 always fits
        fitting = mail_html(report, 0)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            candidate = mail_html(report, mid)
            if len(candidate.encode()) <= budget:
                lo, fitting = mid, candidate
            else:
                hi = mid - 1
        items, html = lo, fitting
    return Mail(mail_text(report, items), html, items)


# -- text ------------------------------------------------------------------------------------

def mail_text(report: DailyReport, items: int) -> str:
    out = [f"vulnmark daily classification report — {report.local_date}",
           f"Generated: {report.local(report.generated_at)}; policy {report.policy_name} "
           f"(digest {report.policy_digest[:12]})",
           f"Tickets: {report.tickets}; vulnerabilities: {report.vulnerabilities}", "",
           "Summary", "======="]
    out += [f"  {s.title}: {s.count}" for s in report.sections() if s.kinds]
    out += [f"  Not listed: {line}" for line in report.left_out]
    out += ["", HEALTH_TITLE, "=" * len(HEALTH_TITLE), *_health(report), ""]
    if report.is_empty:
        out += [EMPTY_MESSAGE, ""]
    for s in report.sections():
        if not s.kinds or not s.findings:
            continue
        heading = f"{s.title} ({s.count})"
        out += [heading, "=" * len(heading)]
        for f in s.findings[:items]:
            v = shown(report, f)
            out.append(f"- {v.ticket} [{f.kind}] {v.title}")
            out.append(f"    {_facts(report, f)}")
            out += [f"    Evidence: {e}" for e in v.evidence[:EVIDENCE_SHOWN]]
        if s.count > items:
            out.append(f"... and {s.count - items} more: see the attached full report, or run "
                       f"`{more_command(s)}`")
        out.append("")
    summary, items_ = intake_lines(report)
    if summary:
        out += [INTAKE_TITLE, "=" * len(INTAKE_TITLE), *summary,
                *(f"- {line}" for line in items_), ""]
    out += [COUNTS_TITLE, "=" * len(COUNTS_TITLE)]
    out += [f"  {name}: {n}" for name, n in report.counts_table]
    out += ["", "The full report is attached (HTML, and CSV for spreadsheets)."]
    return clean("\n".join(out) + "\n")  # F6: the net under the cleaned values


def _health(report: DailyReport) -> list[str]:
    h = report.health
    lines = [f"  {line}" for line in health_summary(report)]
    lines += [f"  UNDELIVERED: {run_line(report, r)}" for r in h.undelivered[:10]]
    lines += [f"  {one_line(n, 300)}" for n in h.notes]
    return lines


def _facts(report: DailyReport, f: Finding) -> str:
    v = shown(report, f)
    parts = [f"class {f.classification or '-'}"]
    if f.suggested or f.confidence is not None:
        parts.append(f"suggested {f.suggested or '-'} ({v.confidence})")
    if f.due_at is not None:
        parts.append(f"due {v.due}")
    parts.append(f"reporter {v.reporter}")
    parts.append(f"age {v.age}")
    return "; ".join(parts)


# -- HTML ------------------------------------------------------------------------------------

_WRAP = "overflow-wrap:anywhere;word-break:break-word;"
_H2 = ('<h2 style="font-size:16px;margin:18px 0 6px 0;border-bottom:1px solid #cccccc;'
       'padding-bottom:2px;">{}</h2>')


def mail_html(report: DailyReport, items: int) -> str:
    """One column of blocks (no wide tables): readable from 320 px to a desktop."""
    e = escape
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>vulnmark daily classification report {report.local_date}</title></head>",
        '<body style="margin:0;padding:12px;background:#ffffff;color:#1a1a1a;font-family:'
        f'Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4;{_WRAP}">',
        '<div style="max-width:760px;margin:0 auto;">',
        f'<h1 style="font-size:19px;margin:0 0 6px 0;">vulnmark daily classification report '
        f"&mdash; {report.local_date}</h1>",
        f'<p style="margin:0 0 8px 0;color:#555555;font-size:13px;">Generated '
        f"{e(report.local(report.generated_at))}; policy {e(report.policy_name)} (digest "
        f"{e(report.policy_digest[:12])}); {report.tickets} tickets, "
        f"{report.vulnerabilities} vulnerabilities</p>",
        _H2.format("Summary"),
        '<table role="presentation" cellpadding="3" cellspacing="0" style="border-collapse:'
        'collapse;font-size:14px;">',
    ]
    for s in report.sections():
        if s.kinds:
            colour = "#b71c1c" if s.count and s.number <= 2 else "#1a1a1a"
            out.append(f'<tr><td style="padding-right:12px;">{e(s.title)}</td>'
                       f'<td align="right" style="font-weight:bold;color:{colour};">{s.count}'
                       "</td></tr>")
    out.append("</table>")
    out += [f'<p style="margin:4px 0;color:#555555;font-size:13px;">Not listed: {e(line)}</p>'
            for line in report.left_out]
    ok = report.health.ok
    out.append(_H2.format(HEALTH_TITLE + ("" if ok else " &mdash; PROBLEMS")))
    out.append('<ul style="margin:0;padding-left:18px;font-size:13px;">')
    out += [f"<li>{e(line.strip())}</li>" for line in _health(report)]
    out.append("</ul>")
    if report.is_empty:
        out.append(f'<p style="padding:8px;background:#e8f5e9;"><strong>{e(EMPTY_MESSAGE)}'
                   "</strong></p>")
    for s in report.sections():
        if not s.kinds or not s.findings:
            continue
        out.append(_H2.format(f"{e(s.title)} ({s.count})"))
        out += [_finding_html(report, f) for f in s.findings[:items]]
        if s.count > items:
            out.append(f'<p style="margin:6px 0;font-size:13px;">&hellip; and {s.count - items} '
                       "more: see the attached full report, or run "
                       f"<code>{e(more_command(s))}</code></p>")
    summary, intake_items = intake_lines(report)
    if summary:
        out.append(_H2.format(INTAKE_TITLE))
        out += [f'<p style="margin:2px 0;font-size:13px;">{e(line)}</p>' for line in summary]
        out += [f'<div style="font-size:12px;margin:2px 0 2px 8px;">{e(line)}</div>'
                for line in intake_items]
    out.append(_H2.format(COUNTS_TITLE))
    out.append('<p style="margin:0;font-size:13px;">' + "; ".join(
        f"{e(name)}: {n}" for name, n in report.counts_table) + "</p>")
    out.append('<p style="margin-top:18px;font-size:11px;color:#777777;">The full report is '
               "attached (HTML, and CSV for spreadsheets). Suggestions need a person to confirm "
               "them.</p></div></body></html>")
    return clean("\n".join(out) + "\n")  # F6: escaped is not cleaned


def _finding_html(report: DailyReport, f: Finding) -> str:
    e = escape
    v = shown(report, f)
    ticket = e(v.ticket)
    link = safe_url(f.url)
    if link:
        ticket = f'<a href="{e(link)}" style="color:#0b57d0;">{ticket}</a>'
    snippets = "".join(
        f'<div style="color:#444444;font-size:12px;font-family:Consolas,Menlo,monospace;">'
        f"{e(x)}</div>" for x in v.evidence[:EVIDENCE_SHOWN])
    return (f'<div style="margin:0 0 8px 0;padding:4px 0 4px 8px;border-left:3px solid '
            f'#dddddd;"><strong>{ticket}</strong> <span style="color:#555555;">[{e(f.kind)}]'
            f"</span> {e(v.title)}"
            f'<div style="font-size:12px;color:#333333;">{e(_facts(report, f))}</div>'
            f"{snippets}</div>")


# -- attachments -------------------------------------------------------------------------------

def attachments(report: DailyReport, html: str | None = None,
                table: str | None = None) -> tuple[Attachment, ...]:
    """The full report as HTML and CSV (``html``/``table`` when already formatted); one ZIP of
    both when they are large together."""
    name = f"vulnmark-report-{report.local_date}"
    full = html if html is not None else HtmlFormat().format(report)
    rows = table if table is not None else CsvFormat().format(report)
    return packed(name, (Attachment(f"{name}.html", full.encode(), "text/html"),
                         Attachment(f"{name}.csv", rows.encode(), "text/csv")),
                  report.generated_at)


def packed(name: str, files: Sequence[Attachment], when: datetime) -> tuple[Attachment, ...]:
    """``files`` as they are, or one ZIP ``name``.zip of them when together they are larger
    than :data:`ZIP_ABOVE`; its entries dated ``when`` (the same report, the same bytes)."""
    if sum(len(a.content) for a in files) <= ZIP_ABOVE:
        return tuple(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for a in files:
            info = zipfile.ZipInfo(a.filename, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, a.content)
    return (Attachment(f"{name}.zip", buffer.getvalue(), "application/zip"),)
