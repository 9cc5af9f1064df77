"""Every report format over the canned report: order, escaping, shapes and times."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from vulnmark._time import iso
from vulnmark.errors import ReportError
from vulnmark.model import Finding, TicketKey
from vulnmark.report import (
    EMPTY_MESSAGE,
    SECTION_TITLES,
    DailyReport,
    ReportFormat,
    format_age,
    subject,
)
from vulnmark.report.csv import COLUMNS, CsvFormat
from vulnmark.report.html import HtmlFormat
from vulnmark.report.json import JsonFormat
from vulnmark.report.markdown import MarkdownFormat, escape
from vulnmark.report.text import TextFormat

HUMAN = [TextFormat(), HtmlFormat(), MarkdownFormat()]
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # as in conftest.py
XSS = "<script>alert(1)</script>"


def test_sections_in_fixed_order(report: DailyReport) -> None:
    sections = report.sections()
    assert [s.title for s in sections] == [
        "Needs classification", "Deadlines", "Suspected vulnerabilities", "Label hygiene",
        "Control health", "Counts per class",
    ]
    assert list(SECTION_TITLES) == [s.title for s in sections]
    assert [s.number for s in sections] == [1, 2, 3, 4, 5, 6]
    kinds = {s.title: {f.kind for f in s.findings} for s in sections}
    assert kinds["Needs classification"] == {"unclassified", "conflicting", "unmarked"}
    assert kinds["Deadlines"] == {"due_soon", "overdue", "late", "no_outcome"}
    assert kinds["Suspected vulnerabilities"] == {"suspected"}
    assert kinds["Label hygiene"] == {"noncanonical", "mismatch", "source_diverged"}
    # every finding appears in exactly one section
    assert sum(len(s.findings) for s in sections) == len(report.findings)
    assert [f.kind for f in sections[1].findings] == ["overdue", "due_soon", "late", "no_outcome"]


@pytest.mark.parametrize("fmt", HUMAN, ids=lambda f: type(f).__name__)
def test_human_formats_show_sections_in_order(fmt: object, report: DailyReport) -> None:
    out = fmt.format(report)  # type: ignore[attr-defined]
    positions = [out.index(f"{i}. {t}") for i, t in enumerate(SECTION_TITLES, start=1)]
    assert positions == sorted(positions)
    assert EMPTY_MESSAGE not in out


@pytest.mark.parametrize("fmt", HUMAN, ids=lambda f: type(f).__name__)
def test_empty_report_says_so(fmt: object, empty_report: DailyReport) -> None:
    out = fmt.format(empty_report)  # type: ignore[attr-defined]
    assert EMPTY_MESSAGE in out
    for i, title in enumerate(SECTION_TITLES, start=1):
        assert f"{i}. {title}" in out
    assert "Missed daily runs: none" in out


def test_empty_text_report_exact_lines(empty_report: DailyReport) -> None:
    out = TextFormat().format(empty_report)
    assert out.splitlines()[5] == EMPTY_MESSAGE
    assert "1. Needs classification (0)\n===========================\nNone.\n" in out
    assert "Last delivery: none recorded" in out
    assert re.search(r"^HIGH +2$", out, re.M)
    assert re.search(r"^unclassified +0$", out, re.M)


def test_text_details_of_a_finding(report: DailyReport) -> None:
    out = TextFormat().format(report)
    assert "Generated: 2026-11-27 07:00 CET (+01:00)" in out
    block = out[out.index("- SEC-1 [unclassified]"):out.index("- SEC-2 ")]
    assert "Suggested: HIGH (confidence 0.90)" in block
    assert 'Evidence: comment 3: "rated HIGH' in block  # index 2 shown 1-based
    assert "Reporter: mallory" in block and "age: 3 d 4 h" in block
    assert 'Labels: "high "; class: HIGH' in out  # stray space stays visible
    assert "Missed daily runs: 1 (2026-11-23)" in out
    assert "undelivered: #10 report 2026-11-25 07:00 CET (+01:00) failed" in out
    assert "Note: evidence chain verified: 123 records" in out


def test_html_escapes_every_ticket_text(report: DailyReport) -> None:
    out = HtmlFormat().format(report)
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    # title, evidence and reporter are each escaped
    assert out.count("&lt;script&gt;") == 3
    assert "&quot;&amp;&#x27;" in out  # html.escape's spelling (the findings rows)
    assert 'href="javascript:' not in out and "href='javascript:" not in out
    assert '<a href="https://jira.example/browse/SEC-1"' in out


def test_html_is_self_contained(report: DailyReport) -> None:
    out = HtmlFormat().format(report)
    assert out.startswith("<!DOCTYPE html>")
    assert "<table" in out
    for banned in ("<link", "<img", "src=", "@import", "<style", "<iframe", "onload", "url("):
        assert banned not in out.lower()
    assert re.findall(r'href="([^"]+)"', out) == ["https://jira.example/browse/SEC-1"]


def test_markdown_escapes_ticket_text(report: DailyReport) -> None:
    out = MarkdownFormat().format(report)
    assert "<script" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "a\\|b \\*bold\\* \\[x\\](javascript:alert(2))" in out
    assert "&amp;" in out and '"&amp;\'' in out
    assert "](javascript:" not in out.replace("\\](javascript:", "")
    assert "[SEC-1](https://jira.example/browse/SEC-1)" in out
    # every table row keeps its column count despite "|" in the title
    for line in out.splitlines():
        if line.startswith("| ") and "Ticket" not in line and "---" not in line:
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) in (2, 9), line


def test_markdown_escape_function() -> None:
    assert escape("a|b") == "a\\|b"
    assert escape("<b>&") == "&lt;b&gt;&amp;"
    assert escape("*x* _y_ `z` [l](u) ~s~ \\") == "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~s\\~ \\\\"
    assert escape("two\nlines") == "two lines"


def test_json_shape(report: DailyReport) -> None:
    data = json.loads(JsonFormat().format(report))
    assert list(data) == ["generated_at", "policy", "summary", "findings", "sections", "health"]
    assert data["generated_at"] == "2026-11-27T06:00:00Z"
    assert data["policy"] == {
        "name": "etsi-319-401", "digest": report.policy_digest, "timezone": "Europe/Budapest",
    }
    assert list(data["summary"]) == ["tickets", "vulnerabilities", "by_class", "by_kind",
                                     "left_out"]
    assert list(data["summary"]["by_class"]) == [
        "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE", "unclassified",
    ]
    assert data["summary"]["by_kind"]["unclassified"] == 2
    assert len(data["findings"]) == len(report.findings)
    first = data["findings"][0]
    assert set(first) >= {"ticket", "kind", "title", "url", "labels", "classification",
                          "suggested", "confidence", "evidence", "due_at", "reporter"}
    assert first["title"].startswith("TLS issue <script>")  # JSON keeps the raw text
    assert first["evidence"][0] == {"field": "comment", "index": 2,
                                    "text": "rated HIGH <script>alert(1)</script> \"&'"}
    assert [s["title"] for s in data["sections"]] == list(SECTION_TITLES)
    assert data["sections"][0] == {"title": "Needs classification",
                                   "kinds": ["unclassified", "conflicting", "unmarked"],
                                   "count": 4}
    health = data["health"]
    assert health["missed_days"] == ["2026-11-23"]
    assert health["last_delivery"]["message_id"] == "<a@ca.example>"
    assert health["undelivered"][0]["started_at"] == "2026-11-25T06:00:00Z"
    assert health["ok"] is False


def test_json_times_are_utc_even_when_input_is_not(report: DailyReport) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Budapest"))
    f = Finding(TicketKey("X-1"), "overdue", "t", due_at=local)
    data = json.loads(JsonFormat().format(replace(report, findings=(f,))))
    assert data["findings"][0]["due_at"] == "2026-07-01T10:00:00Z"


def test_json_findings_are_the_findings_contract_shape(report: DailyReport) -> None:
    # the report builds each finding's dict itself (for speed): same keys, order and values
    # as Finding.as_dict, times in UTC
    data = json.loads(JsonFormat().format(report))
    assert len(report.findings) >= 4
    for f, out in zip(report.findings, data["findings"], strict=True):
        expected = json.loads(json.dumps(f.as_dict()))
        expected["due_at"] = iso(f.due_at)
        expected["created"] = iso(f.created)
        assert list(out) == list(expected) and out == expected


def test_csv_parses_back(report: DailyReport) -> None:
    out = CsvFormat().format(report)
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(report.findings)
    sec1 = next(r for r in rows if r["ticket"] == "SEC-1")
    assert sec1["title"] == next(f.title for f in report.findings if f.ticket == "SEC-1")
    assert sec1["confidence"] == "0.90"
    assert sec1["evidence"] == f"comment 3: rated HIGH {XSS} \"&' | title: TLS issue"
    assert sec1["reporter"].startswith("mallory <script>")
    due = next(r for r in rows if r["ticket"] == "SEC-5")["due_at"]
    assert due == "2026-07-01T10:00:00Z"
    # formula injection is defused
    evil = next(r for r in rows if r["kind"] == "unclassified" and "HYPERLINK" in r["title"])
    assert evil["ticket"] == "'=SEC-11"
    assert evil["title"].startswith("'=HYPERLINK")
    assert evil["reporter"] == "'@bob"


def test_empty_csv_has_header_only(empty_report: DailyReport) -> None:
    assert CsvFormat().format(empty_report) == ",".join(COLUMNS) + "\r\n"


def test_timezone_display_across_dst(report: DailyReport) -> None:
    out = TextFormat().format(report)
    assert "Due: 2026-07-01 12:00 CEST (+02:00)" in out  # summer
    assert "Due: 2026-11-26 03:00 CET (+01:00)" in out  # winter
    # 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST at 01:00 UTC
    assert "Due: 2026-03-29 01:30 CET (+01:00)" in out
    assert "Due: 2026-03-29 03:30 CEST (+02:00)" in out
    html = HtmlFormat().format(report)
    assert "2026-07-01 12:00 CEST (+02:00)" in html
    md = MarkdownFormat().format(report)
    assert "2026-03-29 03:30 CEST (+02:00)" in md


def test_utc_policy_shows_offset(report: DailyReport) -> None:
    utc = replace(report, timezone="UTC")
    assert utc.local(NOW) == "2026-11-27 06:00 (+00:00)"
    assert replace(report, timezone="Asia/Kolkata").local(NOW) == "2026-11-27 11:30 IST (+05:30)"


def test_bad_timezone_and_naive_time_are_report_errors(report: DailyReport) -> None:
    with pytest.raises(ReportError, match="Mars/Olympus"):
        replace(report, timezone="Mars/Olympus")
    with pytest.raises(ReportError, match="timezone-aware"):
        replace(report, generated_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
        (timedelta(hours=5, minutes=12), "5 h 12 min"),
        (timedelta(minutes=7, seconds=59), "7 min"),
        (timedelta(minutes=-5), "0 min"),
    ],
)
def test_format_age(delta: timedelta, text: str) -> None:
    assert format_age(delta) == text


def test_subject(report: DailyReport, empty_report: DailyReport) -> None:
    assert subject(report) == (
        "[vulnmark] Daily classification report 2026-11-27: 4 need classification, 1 overdue, "
        "1 due soon, 1 suspected, 5 other, 1 missed run, 1 undelivered report"
    )
    assert subject(empty_report) == (
        "[vulnmark] Daily classification report 2026-11-27: no findings"
    )
    # the date is the policy-local day: 23:30 UTC is already tomorrow in Budapest
    late = replace(empty_report, generated_at=datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    assert subject(late).endswith("2026-11-28: no findings")


class TestReportFormat:
    def test_every_choice_maps_to_a_formatter(self, report: DailyReport) -> None:
        for choice in ReportFormat:
            out = choice.to_format().format(report)
            assert isinstance(out, str) and out

    def test_names(self) -> None:
        assert [f.value for f in ReportFormat] == ["text", "html", "md", "json", "csv"]
        assert ReportFormat.parse(" HTML ") is ReportFormat.HTML
        assert str(ReportFormat.MD) == "md"
        with pytest.raises(ReportError, match="text, html, md, json, csv"):
            ReportFormat.parse("pdf")

    def test_media_types(self) -> None:
        types = {f.value: f.to_format().media_type for f in ReportFormat}
        assert types == {"text": "text/plain", "html": "text/html", "md": "text/markdown",
                         "json": "application/json", "csv": "text/csv"}


def test_control_characters_and_bidi_overrides_are_neutralised(report: DailyReport) -> None:
    nasty = Finding(TicketKey("SEC-99"), "unclassified", "clear\x1b[2J screen \u202egnp.exe",
                    labels=("bad\x07label",), reporter="nul\x00byte", created=NOW)
    r = replace(report, findings=(nasty,))
    for fmt in HUMAN:
        out = fmt.format(r)
        for ch in ("\x1b", "\u202e", "\x00", "\x07"):
            assert ch not in out, (type(fmt).__name__, repr(ch))
        assert "clear\ufffd[2J screen" in out or "clear\ufffd\\[2J screen" in out


def test_html_template_ships_as_package_data() -> None:
    from importlib.resources import files

    assert (files("vulnmark.report") / "templates" / "daily.html.j2").is_file()
