"""Ticket text as ordered segments, with quoted text blanked out, and evidence snippets.

Quoted text (e-mail style ``>`` lines, Jira ``{quote}…{quote}`` blocks and ``bq.`` lines)
repeats what someone else said, so it must not count as a statement of the ticket. It is
replaced by spaces of the same length, keeping every offset valid for evidence snippets.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from vulnmark.model import EvidenceField, Ticket

logger = logging.getLogger(__name__)

_QUOTE_BLOCK = re.compile(r"\{quote\}.*?(?:\{quote\}|\Z)", re.DOTALL | re.IGNORECASE)
_QUOTE_LINE = re.compile(r"^[ \t]*(?:>|bq\.[ \t]).*$", re.MULTILINE)
# A commented-out setting ("#cvss = ...", "# severity = high") was withdrawn, not stated.
_COMMENTED = re.compile(r"^[ \t]*#[ \t]*[\w.-]+[ \t]*=.*$", re.MULTILINE)
# Cheap gates (a literal "\n" prefix lets the regex engine skip quickly).
_LINE_GATE = re.compile(r"\n[ \t]*(?:>|bq\.|#)")
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n|\|\||\t")
_MAX_SNIPPET = 200
#: m12 (ReDoS): inference reads at most this much of one field (of a longer one its start and
#: its end, where templates and the latest word are), and of one ticket (title and description
#: first, then the newest comments), so that attacker-written text costs bounded time whatever
#: the patterns do with it (benchmarks/redos.py measures the worst inputs).
FIELD_CHARS = 50_000
TICKET_CHARS = 200_000


def capped(text: str) -> str:
    """``text``, or of a text longer than :data:`FIELD_CHARS` its start and end (a line apart)."""
    if len(text) <= FIELD_CHARS:
        return text
    half = FIELD_CHARS // 2
    return text[:half] + "\n" + text[-half + 1:]


class Segment(NamedTuple):
    """One piece of ticket text in reading order (title, description, comments 0..n).

    A named tuple, not a dataclass: five of them are built per ticket on the hot path.
    """

    order: int
    field: EvidenceField
    comment: int | None
    """The comment's index (None for the title and the description)."""
    raw: str
    text: str
    """``raw`` with quoted regions blanked (same length)."""
    low: str
    """``text`` in lower case (same length)."""


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def unquote(text: str) -> str:
    """``text`` with quoted regions replaced by spaces (newlines kept)."""
    if "{quote}" in text or "{QUOTE}" in text:
        text = _QUOTE_BLOCK.sub(_blank, text)
    if text.lstrip(" \t").startswith((">", "bq.", "#")) or _LINE_GATE.search(text):
        text = _QUOTE_LINE.sub(_blank, text)
        text = _COMMENTED.sub(_blank, text)
    return text


def split(ticket: Ticket) -> tuple[list[Segment], str]:
    """The segments, and the lower-cased text of all of them joined by newlines (one string to
    scan; segment ``i`` starts right after the ``i``-th newline). Text without any quote
    mark-up is lower-cased in one piece and not unquoted piecewise."""
    parts: list[tuple[int, EvidenceField, int | None, str]] = [
        (0, "title", None, capped(ticket.title))]
    if ticket.description:
        parts.append((1, "description", None, capped(ticket.description)))
    budget = TICKET_CHARS - sum(len(p[3]) for p in parts)
    comments: list[tuple[int, EvidenceField, int | None, str]] = []
    for i in range(len(ticket.comments) - 1, -1, -1):  # the newest first, while they fit
        body = capped(ticket.comments[i].body)
        if body and (budget := budget - len(body)) >= 0:
            comments.append((2 + i, "comment", i, body))
    parts += reversed(comments)
    # One look at all the text: a quote line at the start of a piece shows as one after a
    # newline (or at the very start); without any mark-up, unquote() returns each piece itself.
    everything = "\n".join([raw for _, _, _, raw in parts])
    if ("{quote}" in everything or "{QUOTE}" in everything or _LINE_GATE.search(everything)
            or ticket.title.lstrip(" \t").startswith((">", "bq.", "#"))):
        segs = [_segment(*part) for part in parts]
        return segs, "\n".join([seg.low for seg in segs])
    low = lowered(everything)
    segs, start = [], 0
    for order, field, index, raw in parts:
        end = start + len(raw)
        segs.append(Segment(order, field, index, raw, raw, low[start:end]))
        start = end + 1
    return segs, low


def _segment(order: int, field: EvidenceField, index: int | None, raw: str) -> Segment:
    text = unquote(raw)
    return Segment(order, field, index, raw, text, lowered(text))


def lowered(text: str) -> str:
    """``text`` in lower case, with the same length (so offsets stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def sentence_start(text: str, pos: int, limit: int = 120) -> int:
    """Where the sentence holding ``pos`` starts (not further back than ``limit``)."""
    lo = max(0, pos - limit)
    start = lo
    for m in _SENTENCE_END.finditer(text, lo, pos):
        start = m.end()
    return start


def snippet(seg: Segment, start: int, end: int) -> str:
    """The sentence or phrase around ``[start, end)``: an exact substring, at most 200 chars."""
    text = seg.text
    s = sentence_start(text, start, 100)
    m = _SENTENCE_END.search(text, end, min(len(text), end + 120))
    e = m.start() + (1 if m.group(0) in ".!?;" else 0) if m else min(len(text), end + 100)
    if e - s > _MAX_SNIPPET:
        s = max(s, start - 60)
        e = min(e, max(end, s + _MAX_SNIPPET))
        e = min(e, s + _MAX_SNIPPET) if end - s <= _MAX_SNIPPET else end
    while s < start and text[s].isspace():
        s += 1
    while e > end and text[e - 1].isspace():
        e -= 1
    piece = seg.raw[s:e]
    if piece != text[s:e]:  # ran into a blanked quote: keep the match alone
        piece = seg.raw[start:end]
    return piece[:_MAX_SNIPPET]
