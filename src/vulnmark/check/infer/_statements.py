"""Explicit classification statements in English, Hungarian, German and French.

A statement needs a *cue* (severity, criticality, classification, rating words) next to a
class word: "rated HIGH", "severity: critical", "high-severity", "besorolás: magas",
"kritikus besorolást kapott", "als kritisch eingestuft", "criticité : élevée". A class word
alone ("high availability", "a critical fix") is never a statement. Rejected: negated
statements ("not critical", "nem kritikus"), class words offered as alternatives in a
template ("[CRITICAL|HIGH|MEDIUM|LOW]"), the "from" side of a change ("from HIGH to MEDIUM")
and class words followed by a false friend ("high load").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vulnmark.check.infer._grammar import EN_PAREN, FR_CLASS_FIRST, GROUPS
from vulnmark.check.infer._text import sentence_start
from vulnmark.check.infer._vocab import (
    ANY_CLASS,
    FALSE_FRIEND_NEXT,
    NEGATION,
    TEMPLATE_AFTER,
    TEMPLATE_BEFORE,
    canonical_class,
)

logger = logging.getLogger(__name__)

_F = re.NOFLAG  # patterns run on lower-cased text

GROUP_STEMS: tuple[tuple[str, ...], ...] = tuple(stems for stems, _ in GROUPS)
#: How far a group's windows reach before and after a stem.
MARGIN = (48, 120)
#: The class words a title ends with in parentheses ("Path traversal (High)"), lower-cased.
PAREN_WORDS = ("critical", "high", "medium", "moderate", "low")
_PAREN = re.compile(rf"\((?:{'|'.join(PAREN_WORDS)})\)")

_FROM = re.compile(r"\b(?:from|von|ről|ról)\s{0,4}\W{0,2}$", _F)
# Conditional and hypothetical statements are evidence of nothing: "could be upgraded to
# Critical", "would be critical", "if … then critical", "könnte kritisch sein", "pourrait être
# critique", "ha …, kritikus lenne" (checked from the sentence start to the class word).
_MODAL = re.compile(
    r"\b(?:could|would|might|may|if|unless|whether|potentially|könnte\w*|würde\w*|falls|wenn"
    r"|pourrai\w*|serai\w*|si|lehetne|lenne|ha)\b",
    _F,
)
# An explicit re-rating of the same issue: the latest one wins over earlier statements.
_REVISION = re.compile(
    r"downgrad|upgrad|re-?rat|re-?classif|reclass|re-?scor|re-?assess|re-?evaluat|lowered"
    r"|raised|changed|reduced|increased|adjusted|revised|corrected|our\s+assessment|after\s+(?:further\s+)?"
    r"(?:review|investigation|triage|analysis|discussion)|herabgestuft|hochgestuft|geändert"
    r"|neu\s+bewertet|korrigiert|átsorol|módosít|abaissée?|rehaussée?|révisée?|modifiée?",
    _F,
)
_HU_FROM = re.compile(r"(?:ról|ről)$", _F)
# A range ("low to medium severity") states no single class; a change ("from high to low")
# does, so a range is only one without "from" before it.
_RANGE_AFTER = re.compile(rf"\s{{0,4}}(?:to|bis|à|-|–)\s{{0,4}}{ANY_CLASS}\b", _F)
_RANGE_BEFORE = re.compile(rf"\b{ANY_CLASS}\s{{0,4}}(?:to|bis|à|-|–)\s{{0,4}}$", _F)
_CHANGE_BEFORE = re.compile(
    rf"\b(?:from|von|de)\s{{1,4}}\W?{ANY_CLASS}\W?\s{{0,4}}(?:to|auf|à)\s{{0,4}}$", _F
)
# Words that make a class word mean something else when they follow it.
_WORD_NEXT = {
    "important": re.compile(r"\s+(?:to|that|for|because|enough|when|than|in)\b", _F),
    "none": re.compile(r"\s+(?:yet|set|assigned|given|specified|provided|so\s+far)\b", _F),
}


#: The separators TEMPLATE_BEFORE needs ("[CRITICAL|HIGH", "high or", "hoch oder", "vagy").
_TEMPLATE_SEPARATORS = ("|", "/", ",", "or", "oder", "ou", "vagy")


@dataclass(frozen=True)
class Statement:
    """A class stated in the text: its canonical name and where the statement is."""

    cls: str
    start: int
    end: int
    confidence: float
    revises: bool = False
    """The statement re-rates the issue ("downgraded to", "after review … LOW")."""
    word: str = ""
    """The class word as written ("problematisch", "Important")."""


def _rejected(text: str, m: re.Match[str]) -> bool:
    cs, ce = m.span("cls")
    word = text[cs:ce]
    if _HU_FROM.search(word):
        return True
    if FALSE_FRIEND_NEXT.match(text, ce):
        return True
    special = _WORD_NEXT.get(word.casefold())
    if special is not None and special.match(text, ce):
        return True
    if TEMPLATE_AFTER.match(text, ce):
        return True
    before = text[max(0, cs - 40):cs].lower()
    # the search needs one of its separators in the window: most windows have none
    if any(sep in before for sep in _TEMPLATE_SEPARATORS) and TEMPLATE_BEFORE.search(
            text, max(0, cs - 40), cs):
        return True
    if _RANGE_AFTER.match(text, ce):
        return True
    if _RANGE_BEFORE.search(text, max(0, cs - 30), cs) and not _CHANGE_BEFORE.search(
        text, max(0, cs - 40), cs
    ):
        return True
    if m.re is not FR_CLASS_FIRST and _FROM.search(text, max(0, cs - 12), cs):
        return True
    if m.re is EN_PAREN:
        return False
    start = sentence_start(text, m.start(), 60)
    if _MODAL.search(text, start, cs) is not None or _is_question(text, m.end()):
        return True
    lo = max(start, m.start() - 15)
    return NEGATION.search(text, lo, max(cs, m.end())) is not None


def _is_question(text: str, end: int) -> bool:
    """Whether the sentence that goes on at ``end`` ends with a question mark."""
    stop = min(len(text), end + 80)
    for i in range(end, stop):
        ch = text[i]
        if ch in ".!\n;":
            return False
        if ch == "?":
            return True
    return False


def _revises(text: str, m: re.Match[str]) -> bool:
    return _REVISION.search(text, max(0, m.start() - 40), m.end()) is not None


def statements(
    text: str, low: str, wins: Sequence[list[tuple[int, int]]]
) -> Iterator[Statement]:
    """Every accepted classification statement.

    ``text`` has quotes blanked, ``low`` is it lower-cased with the same offsets, and
    ``wins`` holds, per language group of ``GROUP_STEMS``, the windows where its stems occur.
    """
    seen: set[int] = set()
    for (_stems, patterns), spans in zip(GROUPS, wins, strict=True):
        for lo, hi in spans:
            for pattern, confidence in patterns:
                for m in pattern.finditer(low, lo, hi):
                    if m.start() in seen or _rejected(low, m):
                        continue
                    cls = canonical_class(m.group("cls"))
                    if cls is not None:
                        seen.add(m.start())
                        yield Statement(cls, m.start(), m.end(), confidence, _revises(low, m),
                                        m.group("cls"))
    if "(" in low:
        for p in _PAREN.finditer(low):
            pm = EN_PAREN.match(text, p.start())
            cls = canonical_class(pm.group("cls")) if pm else None
            if pm is not None and cls is not None and pm.start() not in seen:
                yield Statement(cls, pm.start(), pm.end(), 0.75, word=pm.group("cls"))
