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

from vulnmark.check.infer._text import sentence_start
from vulnmark.check.infer._vocab import (
    ANY_CLASS,
    DE_CLASS,
    EN_CLASS,
    FALSE_FRIEND_NEXT,
    FR_CLASS,
    HU_CLASS,
    NEGATION,
    TEMPLATE_AFTER,
    TEMPLATE_BEFORE,
    canonical_class,
)

logger = logging.getLogger(__name__)

_F = re.NOFLAG  # patterns run on lower-cased text
# Punctuation and mark-up between a cue and its class ("*Severity:* High", "||Severity|High|").
_P = r"[ \t*_:=|>\-–—\u00a0\u202f\"'`]"
_NL = r"(?:[ \t]*\n[ \t]*)"
# m12 (ReDoS): a step of blanks or mark-up between a cue and its class is atomic (a line break
# with its blanks, else one character), and the blanks before the class are possessive.
# Before, the optional line break (it could match nothing) and the blanks it shares with _P
# let a cue followed by " \n" * 12 try every way to split them: 30 s for one ticket.
# The "from" side of a change is not the class: "from HIGH to MEDIUM", "von hoch auf mittel".
_NOT_FROM = r"(?<!from )(?<!\bde )(?<!von )"

# --- English ----------------------------------------------------------------------------
_EN_CUE = (
    r"severity|severities|criticality|(?:re-?)?classified|(?:re-?)?classification"
    r"|(?:re-?)?rated|re-?rating|rating|risk\s+(?:rating|level|class)"
    r"|downgraded|upgraded|impact\s+rating"
)
_EN_FILL = (
    r"(?:is|was|are|were|has|have|had|been|be|being|of|as|to|at|now|level|rating|score"
    r"|set|considered|deemed|assessed|changed|lowered|raised|updated|revised|adjusted"
    r"|final|overall|a|an|the|it|this|not|n't|no|longer|never|very|extremely"
    rf"|from\s+\W{{0,2}}{EN_CLASS}\W{{0,2}})"
)
_EN_CUE_FIRST = re.compile(
    rf"\b(?:{_EN_CUE})\b(?:\s+{_EN_FILL}\b|(?>{_NL}|{_P})){{0,12}}?{_P}*+\s*+\(?{_NOT_FROM}(?P<cls>{EN_CLASS})\b",
    _F,
)
_EN_CLASS_FIRST = re.compile(
    rf"\b(?P<cls>{EN_CLASS})(?:[\s\-]+|\s*\)\s*)(?:severity|criticality|risk\s+rating"
    r"|impact\s+rating|rated\b|classification)",
    _F,
)
# Security advisories end a title with the rating in parentheses: "Path traversal (High)".
_EN_PAREN = re.compile(
    r"\((?P<cls>Critical|High|Medium|Moderate|Low|CRITICAL|HIGH|MEDIUM|MODERATE|LOW)\)"
    r"[ \t]*(?=\n|\Z)"
)

# --- Hungarian --------------------------------------------------------------------------
_HU_CUE = (
    r"(?:át|be)?sorol\w*|súlyosság\w*|kritikusság\w*|minősít\w*|minősül\w*|értékel\w*"
    r"|osztályoz\w*|kategóri\w*|kockázati\s+(?:szint|besorolás)\w*|veszélyesség\w*"
)
_HU_FILL = r"(?:a|az|egy|is|most|már|lett|lettek|volt|szint\w*|nem|sem|ként|pedig|\w+r[óő]l)"
_HU_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_HU_CUE})(?:\s+{_HU_FILL}(?!\w)|(?>{_NL}|{_P})){{0,12}}?{_P}*+\s*+(?P<cls>{HU_CLASS})(?!\w)",
    _F,
)
_HU_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?P<cls>{HU_CLASS})(?:\s+(?:a|az|lett|lettek|volt|is|módosít\w*|változ\w*"
    rf"|nem|került|kapott))*[\s\-]+(?:{_HU_CUE})",
    _F,
)

# --- German -----------------------------------------------------------------------------
_DE_CUE = (
    r"schweregrad\w*|kritikalität\w*|einstufung\w*|eingestuft|bewertung\w*|bewertet"
    r"|risikostufe|risikobewertung|risikoklasse|klassifizierung\w*|klassifiziert"
    r"|herabgestuft|hochgestuft|eingeschätzt|schwere"
)
_DE_FILL = (
    r"(?:ist|sind|war|wurde|wurden|als|auf|nun|jetzt|sehr|nicht|kein\w*|mit|der|die"
    rf"|von\s+{DE_CLASS}(?=\s+auf))"
)
_DE_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_DE_CUE})(?:\s+{_DE_FILL}(?!\w)|(?>{_NL}|{_P})){{0,12}}?{_P}*+\s*+{_NOT_FROM}(?P<cls>{DE_CLASS})(?!\w)",
    _F,
)
_DE_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?P<cls>{DE_CLASS})[\s\-]+(?:(?:wurde|ist|sind|worden)\s+)?(?:{_DE_CUE})",
    _F,
)

# --- French -----------------------------------------------------------------------------
_FR_CUE = (
    r"criticité|sévérité|gravité|(?:re)?classée?s?|(?:re)?classification|niveau\s+de\s+risque"
    r"|évaluée?s?|notée?s?|cotée?s?"
)
_FR_FILL = (
    r"(?:est|était|a|été|comme|en|à|de|du|très|pas|non|ne|n'est|le|la|niveau|jugée?s?"
    r"|considérée?s?"
    rf"|de\s+{FR_CLASS}(?=\s+à))"
)
_FR_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_FR_CUE})(?:\s+{_FR_FILL}(?!\w)|(?>{_NL}|{_P})){{0,12}}?{_P}*+\s*+{_NOT_FROM}(?P<cls>{FR_CLASS})(?!\w)",
    _F,
)
_FR_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?:de\s+)(?P<cls>{FR_CLASS})\s+(?:criticité|sévérité|gravité)",
    _F,
)

#: Language groups: the substrings that must occur for a group's patterns to be tried (on
#: lower-cased text, in windows around each occurrence), and its (pattern, confidence) pairs.
_GROUPS: tuple[tuple[tuple[str, ...], tuple[tuple[re.Pattern[str], float], ...]], ...] = (
    (
        ("severit", "criticalit", "classif", "rated", "rating", "risk", "graded"),
        ((_EN_CUE_FIRST, 0.9), (_EN_CLASS_FIRST, 0.9)),
    ),
    (
        ("sorol", "súlyos", "kritikusság", "minősí", "minősü", "értékel", "osztályoz",
         "kategóri", "kockázat", "veszélyes"),
        ((_HU_CUE_FIRST, 0.9), (_HU_CLASS_FIRST, 0.9)),
    ),
    (
        ("schwere", "kritikalit", "einstuf", "gestuft", "bewert", "klassifi", "eingeschätzt",
         "risiko"),
        ((_DE_CUE_FIRST, 0.9), (_DE_CLASS_FIRST, 0.9)),
    ),
    (
        ("criticit", "sévérit", "gravit", "classé", "classif", "évalué", "noté", "coté",
         "risque"),
        ((_FR_CUE_FIRST, 0.9), (_FR_CLASS_FIRST, 0.9)),
    ),
)
#: How far a group's windows reach before and after a stem.
MARGIN = (90, 140)
GROUP_STEMS: tuple[tuple[str, ...], ...] = tuple(stems for stems, _ in _GROUPS)
#: The class words a title ends with in parentheses ("Path traversal (High)"), lower-cased.
PAREN_WORDS = ("critical", "high", "medium", "moderate", "low")
_PAREN = re.compile(rf"\((?:{'|'.join(PAREN_WORDS)})\)")

_FROM = re.compile(r"\b(?:from|von|de|ről|ról)\s*\W{0,2}$", _F)
_HU_FROM = re.compile(r"(?:ról|ről)$", _F)
# A range ("low to medium severity") states no single class; a change ("from high to low")
# does, so a range is only one without "from" before it.
_RANGE_AFTER = re.compile(rf"\s*(?:to|bis|à|-|–)\s*{ANY_CLASS}\b", _F)
_RANGE_BEFORE = re.compile(rf"\b{ANY_CLASS}\s*(?:to|bis|à|-|–)\s*$", _F)
_CHANGE_BEFORE = re.compile(rf"\b(?:from|von|de)\s+\W?{ANY_CLASS}\W?\s*(?:to|auf|à)\s*$", _F)
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
    if _FROM.search(text, max(0, cs - 12), cs):
        return True
    if m.re is _EN_PAREN:
        return False
    lo = max(sentence_start(text, m.start(), 60), m.start() - 15)
    return NEGATION.search(text, lo, max(cs, m.end())) is not None


def statements(
    text: str, low: str, wins: Sequence[list[tuple[int, int]]]
) -> Iterator[Statement]:
    """Every accepted classification statement.

    ``text`` has quotes blanked, ``low`` is it lower-cased with the same offsets, and
    ``wins`` holds, per language group of ``GROUP_STEMS``, the windows where its stems occur.
    """
    seen: set[int] = set()
    for (_stems, patterns), spans in zip(_GROUPS, wins, strict=True):
        for lo, hi in spans:
            for pattern, confidence in patterns:
                for m in pattern.finditer(low, lo, hi):
                    if m.start() in seen or _rejected(low, m):
                        continue
                    cls = canonical_class(m.group("cls"))
                    if cls is not None:
                        seen.add(m.start())
                        yield Statement(cls, m.start(), m.end(), confidence)
    if "(" in low:
        for p in _PAREN.finditer(low):
            pm = _EN_PAREN.match(text, p.start())
            cls = canonical_class(pm.group("cls")) if pm else None
            if pm is not None and cls is not None and pm.start() not in seen:
                yield Statement(cls, pm.start(), pm.end(), 0.75)
