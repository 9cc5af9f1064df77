"""CVSS v2, v3.0, v3.1 and v4.0 vectors and bare scores in text.

Vectors are parsed with the ``cvss`` package (cached by vector string); an invalid vector is
ignored. Each version's qualitative scale applies: v2 has no CRITICAL, v3 and v4 rate 0.0 as
NONE (INFORMATIVE). A v2 vector has no ``CVSS:`` prefix ("AV:N/AC:L/Au:N/C:P/I:P/A:P",
"(AV:N/…)", "CVSS2#AV:N/…"). Bare scores need the word CVSS (or "base score") before them:
"CVSS 9.8", "CVSS base score: 7.5", "CVSSv2 score 5.0".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from vulnmark.check.infer._vocab import severity_from_score

logger = logging.getLogger(__name__)


_V34 = re.compile(
    r"CVSS:(?P<ver>3\.[01]|4\.0)/(?P<body>(?:[A-Za-z]{1,3}:(?:Clear|Green|Amber|Red|[A-Za-z])/?)+)"
)
_V3_BODY = re.compile(
    r"AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH](?:/[A-Za-z]{1,3}:[A-Za-z])*"
)
_V2_BODY = re.compile(
    r"AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC](?:/(?:E|RL|RC|CDP|TD|CR|IR|AR):[A-Z]{1,3})*"
)
# What may stand right before a bare vector: "CVSS2#", "CVSS:2.0/", "(", a space...
_V2_PREFIX = re.compile(r"CVSS(?::?2(?:\.0)?)?[#/:]\s*$")
_SCORE = re.compile(
    # possessive blanks (*+): backtracking into a long run of blanks took cubic time (m12)
    r"\b(?:cvss[ \t]*+(?::|v|version)?[ \t]*+(?P<ver>[234](?:\.[01])?)?|base[ \t]*score)"
    r"(?P<fill>[^\d\n/]{0,32}?)"
    r"(?<![\d.])(?P<score>10(?:[.,]0)?|\d[.,]\d)(?![\d.,]\d|\.\d)"
)  # runs on lower-cased text
_MAX_HITS = 1000
_VERSIONS = frozenset({"2.0", "3.0", "3.1", "4.0"})
_SCORE_WORD = re.compile(
    r"score|pontsz|wert|note|érték|\bof\b|\bis\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Rating:
    """A class derived from a CVSS vector or score found at ``[start, end)``."""

    cls: str
    version: int
    start: int
    end: int
    confidence: float


@lru_cache(maxsize=8192)
def vector_class(vector: str) -> tuple[str, int] | None:
    """(canonical class, major version) of a CVSS vector, or None when it does not parse."""
    try:
        if vector.startswith("CVSS:4"):
            score4 = float(CVSS4(vector).base_score)
            return severity_from_score(score4, 4), 4
        if vector.startswith("CVSS:3"):
            return severity_from_score(float(CVSS3(vector).scores()[0]), 3), 3
        return severity_from_score(float(CVSS2(vector).scores()[0]), 2), 2
    except (CVSSError, ValueError, KeyError, IndexError, TypeError, ArithmeticError) as e:
        logger.debug("ignoring invalid CVSS vector %r: %s", vector, e)
        return None


def _clean(body: str) -> str:
    return body.rstrip("/")


def ratings(text: str, low: str) -> Iterator[Rating]:
    """Every CVSS-derived class in ``text`` (``low``: the same, lower-cased), with spans."""
    has_cvss = "cvss" in low
    has_av = "av:" in low
    if not has_cvss and not has_av and "score" not in low:
        return
    taken: list[tuple[int, int]] = []
    if has_cvss:
        for i in _positions(text, "CVSS:"):
            m = _V34.match(text, i)
            if m is None:
                continue
            found = vector_class(f"CVSS:{m.group('ver')}/{_clean(m.group('body'))}")
            taken.append(m.span())
            if found:
                yield Rating(found[0], found[1], m.start(), m.end(), 0.95)
    if has_av:
        for i in _positions(text, "AV:"):
            if _inside(i, taken):
                continue
            prefix = _V2_PREFIX.search(text, max(0, i - 12), i)
            if prefix is None and i > 0 and (text[i - 1].isalnum() or text[i - 1] in ":/"):
                continue
            start = prefix.start() if prefix else i
            m3 = _V3_BODY.match(text, i)
            if m3 is not None:
                found = vector_class(f"CVSS:3.1/{_clean(m3.group(0))}")
                taken.append((start, m3.end()))
                if found:
                    yield Rating(found[0], found[1], start, m3.end(), 0.9)
                continue
            m2 = _V2_BODY.match(text, i)
            if m2 is not None:
                found = vector_class(_clean(m2.group(0)))
                taken.append((start, m2.end()))
                if found:
                    yield Rating(found[0], 2, start, m2.end(), 0.95)
    for m in _score_matches(low, has_cvss):
        if _inside(m.start("score"), taken):
            continue
        ver_text = m.group("ver")
        fill = m.group("fill") or ""
        worded = _SCORE_WORD.search(fill) is not None
        if ver_text is not None and not worded and fill.strip(" \t:=()-") != "":
            continue  # "CVSS v3.1 and v2.0": versions, not a score
        if ver_text is None and not worded and m.group("score") in _VERSIONS:
            continue  # "CVSS 3.1" names a version
        taken.append(m.span("score"))
        score = float(m.group("score").replace(",", "."))
        version = 2 if ver_text is not None and ver_text.startswith("2") else 3
        yield Rating(severity_from_score(score, version), version, m.start(), m.end(), 0.85)


def _score_matches(low: str, has_cvss: bool) -> Iterator[re.Match[str]]:
    """``_SCORE`` anchored at each "cvss" / "base score" of the lower-cased text."""
    starts: list[int] = []
    for stem in ("cvss", "base") if has_cvss else ("base",):
        starts.extend(_positions(low, stem))
    for i in sorted(starts):
        m = _SCORE.match(low, i)
        if m is not None:
            yield m


def _positions(text: str, needle: str) -> Iterator[int]:
    """Where ``needle`` occurs; hostile text with thousands of them is read up to a cap."""
    i = text.find(needle)
    for _ in range(_MAX_HITS):
        if i < 0:
            return
        yield i
        i = text.find(needle, i + len(needle))


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)
