"""Class words of the four languages and how they map to the canonical severities.

Every word list here is matched case-insensitively. Hungarian words carry case suffixes
("magasra", "kritikusnak", "közepesre"), German and French adjectives their inflections
("hohe", "kritischen", "élevée"); the stems below accept those forms.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

logger = logging.getLogger(__name__)

#: The canonical severities, from the most to the least severe.
CANONICAL: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE")

# One regex alternative per language; each must be a whole word (callers add \b).
_EN = (
    r"critical|high|medium|moderate|low|important|problematic|informational|informative|info"
    r"|none"
)
_HU = (
    r"kritikus(?:nak|ra|ként|sá)?|magas(?:nak|ra|ként|sá)?|közepes(?:nek|re|ként|sé)?"
    r"|súlyos(?:nak|ra|ként|sá)?|alacsony(?:nak|ra|ként|ná)?|informatív(?:nak|ra|ként|vá)?|tájékoztató(?:nak|ra|ként)?"
)
_DE = (
    r"kritisch(?:e[nmrs]?)?|hoch|hohe[nmrs]?|mittel|mittlere[nmrs]?|mittelschwer(?:e[nmrs]?)?"
    r"|problematisch(?:e[nmrs]?)?"
    r"|niedrig(?:e[nmrs]?)?|gering(?:e[nmrs]?)?|informativ(?:e[nmrs]?)?"
)
_FR = (
    r"critiques?|élevée?s?|haute?s?|importante?s?|moyenne?s?|modérée?s?|faibles?|basse?s?"
    r"|informati(?:ve|f)s?|informationnel(?:le)?s?"
)

EN_CLASS = f"(?:{_EN})"
HU_CLASS = f"(?:{_HU})"
DE_CLASS = f"(?:{_DE})"
FR_CLASS = f"(?:{_FR})"
ANY_CLASS = f"(?:{_EN}|{_HU}|{_DE}|{_FR})"

#: The scales people quote, as data: (scale, word prefix, canonical class). A word is read on
#: the scale whose longest prefix it starts with (the first such row on a tie); the scale's name
#: is what the evidence of a suggestion names (see :func:`scale_note`). The table is
#: documented in the README.
SCALES: tuple[tuple[str, str, str], ...] = (
    # CVSS qualitative ratings (v3/v4; v2 has no CRITICAL), in English
    ("CVSS qualitative", "critical", "CRITICAL"),
    ("CVSS qualitative", "high", "HIGH"),
    ("CVSS qualitative", "medium", "MEDIUM"),
    ("CVSS qualitative", "low", "LOW"),
    ("CVSS qualitative", "none", "INFORMATIVE"),
    ("CVSS qualitative", "info", "INFORMATIVE"),
    # Mozilla critical/high/moderate/low; Microsoft and Red Hat Critical/Important/Moderate/Low
    ("Mozilla/Microsoft/Red Hat", "moderate", "MEDIUM"),
    ("Microsoft/Red Hat", "important", "HIGH"),
    # VulDB: "classified as critical", "rated as problematic" (German "problematisch")
    ("VulDB", "problemati", "MEDIUM"),
    # Hungarian (NVD and GovCERT translations: kritikus / súlyos / magas / közepes / alacsony)
    ("Hungarian", "kritikus", "CRITICAL"),
    ("Hungarian", "magas", "HIGH"),
    ("Hungarian", "súlyos", "HIGH"),
    ("Hungarian", "közepes", "MEDIUM"),
    ("Hungarian", "alacsony", "LOW"),
    ("Hungarian", "tájékoztató", "INFORMATIVE"),
    # German
    ("German", "kritisch", "CRITICAL"),
    ("German", "hoch", "HIGH"),
    ("German", "hohe", "HIGH"),
    ("German", "mittel", "MEDIUM"),
    ("German", "mittler", "MEDIUM"),
    ("German", "niedrig", "LOW"),
    ("German", "gering", "LOW"),
    # French (ANSSI, Microsoft and Red Hat French pages: critique / importante / modérée)
    ("French", "critique", "CRITICAL"),
    ("French", "élev", "HIGH"),
    ("French", "haut", "HIGH"),
    ("French", "important", "HIGH"),
    ("French", "moyen", "MEDIUM"),
    ("French", "modér", "MEDIUM"),
    ("French", "faible", "LOW"),
    ("French", "bas", "LOW"),
)

#: The scale a policy's own reading of a word is named by (the ``[inference] scales`` key).
POLICY_SCALE = "inference.scales"


@lru_cache(maxsize=4096)
def scale_of(word: str) -> tuple[str, str] | None:
    """(scale, canonical severity) a class word is read as, or None (cached: few words)."""
    w = word.strip().casefold()
    best: tuple[int, str, str] | None = None
    for scale, prefix, cls in SCALES:
        if w.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), scale, cls)
    return (best[1], best[2]) if best else None


def canonical_class(word: str) -> str | None:
    """The canonical severity a class word names, or None."""
    found = scale_of(word)
    return found[1] if found else None


def scale_note(word: str, cls: str, scale: str | None) -> str:
    """What the evidence adds to say how ``word`` was read as ``cls``: `` [scale: Microsoft/Red
    Hat, important = HIGH]``; nothing for a word that is the class's own name or a form of it
    ("High", "critically", whatever the scale), which needs no reading. ``scale`` None: the
    built-in scale of the word."""
    w = word.strip().casefold()
    if w.startswith(cls.casefold()):
        return ""
    if scale is None:
        found = scale_of(w)
        if found is None:
            return ""
        scale = found[0]
    return f" [scale: {scale}, {w} = {cls}]"


#: The CVSS v3.x and v4.0 qualitative rating scale (base score ranges, inclusive), as
#: :func:`severity_from_score` applies it; the policy page shows it per class.
CVSS_RANGES: dict[str, tuple[float, float]] = {
    "CRITICAL": (9.0, 10.0), "HIGH": (7.0, 8.9), "MEDIUM": (4.0, 6.9), "LOW": (0.1, 3.9),
    "INFORMATIVE": (0.0, 0.0)}


def cvss_range(class_name: str) -> tuple[float, float] | None:
    """The CVSS v3.x/v4.0 base scores that rate as ``class_name`` (None: not on the scale)."""
    return CVSS_RANGES.get(class_name)


def severity_from_score(score: float, version: int) -> str:
    """The qualitative rating of a CVSS base score on the scale of its version.

    v2 has no CRITICAL (0-3.9 LOW, 4-6.9 MEDIUM, 7-10 HIGH); v3 and v4 rate 0 as NONE,
    which vulnmark calls INFORMATIVE.
    """
    if version == 2:
        return "LOW" if score < 4.0 else "MEDIUM" if score < 7.0 else "HIGH"
    if score == 0.0:
        return "INFORMATIVE"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    return "HIGH" if score < 9.0 else "CRITICAL"


#: Words that turn a class word into something else when they follow it ("high availability").
FALSE_FRIEND_NEXT = re.compile(
    r"[\s\-]{0,8}(?:availability|available|load|loads|memory|cpu|traffic|volume|priority|"
    r"performance|level|end|quality|speed|latency|complexity|privileges?|usage|throughput|resolution|level\s+of\s+"
    r"detail|rendelkezésre|terhelés\w*|prioritás\w*|verfügbarkeit|last|priorität|"
    r"disponibilité|charge|priorité)\b",
    re.IGNORECASE,
)

#: Negators in the four languages (checked in the same sentence, just before a class word).
NEGATION = re.compile(
    r"\b(?:not|n't|never|no\s+longer|nem|sem|nicht|kein\w*|pas|non|ni)\b|n't\b",
    re.IGNORECASE,
)

#: A class word offered next to another one: "[CRITICAL|HIGH|MEDIUM|LOW]", "high or low".
TEMPLATE_AFTER = re.compile(
    rf"\s{{0,8}}(?:\||/|,|\bor\b|\boder\b|\bou\b|\bvagy\b)\s{{0,8}}\W{{0,2}}{ANY_CLASS}\b",
    re.IGNORECASE
)
TEMPLATE_BEFORE = re.compile(
    rf"\b{ANY_CLASS}\W{{0,2}}\s{{0,8}}(?:\||/|,|\bor|\boder|\bou|\bvagy)\s{{0,8}}\W{{0,2}}$",
    re.IGNORECASE
)
