"""A finding's fields as the human formats show them, computed once per report.

The text and the HTML body of a daily report show the same flattened title, labels, snippets,
local due time and age of every finding; with tens of thousands of findings computing them once
for both is a measurable part of the report. The values are plain text: each format escapes
them its own way.
"""

from __future__ import annotations

from typing import NamedTuple

from vulnmark.model import Finding
from vulnmark.report.interface import confidence, labels, one_line, snippet
from vulnmark.report.model import DailyReport


class Shown(NamedTuple):
    """(A named tuple: one is built per finding.)"""

    ticket: str
    title: str
    labels: str
    detail: str
    evidence: tuple[str, ...]
    confidence: str
    due: str
    reporter: str
    age: str


def shown(report: DailyReport, f: Finding) -> Shown:
    """How ``f`` (one of ``report.findings``) reads in a human format."""
    # The memo lives in the report object's own dict, as functools.cached_property's values
    # do: it goes when the report goes, and a finding's id is unique while the report holds it.
    memo: dict[int, Shown] = report.__dict__.setdefault("_shown", {})
    found = memo.get(id(f))
    if found is None:
        found = memo[id(f)] = Shown(
            ticket=one_line(f.ticket, 300), title=one_line(f.title), labels=labels(f.labels),
            detail=one_line(f.detail) if f.detail else "",
            evidence=tuple(snippet(e) for e in f.evidence), confidence=confidence(f.confidence),
            due=report.local(f.due_at), reporter=one_line(f.reporter or "-", 80),
            age=report.age(f))
    return found
