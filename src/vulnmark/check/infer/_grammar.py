"""The statement grammar of English, Hungarian, German and French, as regular expressions.

Each language has the same three forms, built from explicit word lists:

* **cue first** (predicative and passive): a cue (severity noun, or a rating verb: rated,
  classified, declared, considered, deemed, assessed, scored, determined to be; eingestuft,
  bewertet, gilt als; jugée, qualifiée de, considérée comme, catégorisée comme, classée;
  besorolás, minősítés) then at most twelve filler words (auxiliaries, articles, "of this
  issue", "comme", quotes, mark-up) then the class word: "the severity of this issue was
  determined to be high", "Sie wurde als kritisch eingestuft", "jugée « critique »";
* **class first** (attributive): "high-severity", "critically rated", ``"moderate" rated``,
  "eine kritische Schwachstelle", "de faible criticité", "magas kockázatú",
  "KÖZEPES besorolású";
* **header** lines: "Impact: Critical", "**Security impact** — High" (other headers,
  "Severity — High", "Schweregrad: hoch", "Sévérité : élevée", are cue-first statements).

Every pattern runs on lower-cased text, only in windows around the stems of its language
(:data:`GROUPS`), and is built without nested unbounded repetition: the filler is a bounded
repetition of alternatives that each start with a different character class, so matching
time stays linear in the window.
"""

from __future__ import annotations

import logging
import re

from vulnmark.check.infer._vocab import DE_CLASS, EN_CLASS, FR_CLASS, HU_CLASS

logger = logging.getLogger(__name__)

_F = re.NOFLAG  # patterns run on lower-cased text
# Punctuation and mark-up between a cue and its class ("*Severity:* High", "||Severity|High|",
# "comme « critique »", "as “critical”"), and filler words (each starts with a letter).
# Between two words: at most six of these characters (the line break included), so each
# character can be read in one way only and a failed match costs linear time.
_S = r"[\s*_:=|>\-–—\"'`«»“”„‘’]{0,6}"
# The "from" side of a change is not the class: "from HIGH to MEDIUM", "von hoch auf mittel"
# (French "de élevée à moyenne" is told from "de faible criticité" by what follows).
_NOT_FROM = r"(?<!from )(?<!von )"

# --- English ----------------------------------------------------------------------------
_EN_CUE = (
    r"severity|severities|criticality|(?:re-?)?classified|(?:re-?)?classification"
    r"|(?:re-?)?rated|re-?rating|rating|risk\s+(?:rating|level|class)"
    r"|downgraded|upgraded|impact\s+rating|declared|deemed|(?:re-?)?assessed|(?:re-?)?scored"
    r"|categori[sz]ed|considered|determined"
)
_EN_FILL = (
    r"(?:is|was|are|were|has|have|had|been|be|being|of|as|to|at|now|level|rating|score"
    r"|set|considered|deemed|assessed|changed|lowered|raised|updated|revised|adjusted"
    r"|final|overall|a|an|the|it|this|that|these|issue|issues|vulnerability|bug|flaw"
    r"|problem|finding|report|determined|judged|found|assigned|given|by|us|our|team|security"
    r"|update|having|impact"
    r"|initially|originally|also|still|currently|officially|internally"
    r"|not|n't|no|longer|never|very|extremely"
    rf"|from\s+\W{{0,2}}{EN_CLASS}\W{{0,2}})"
)
# A leading look-ahead on the possible first letters lets the engine skip most positions of a
# window at once (about twice as fast as trying the alternation everywhere).
EN_CUE_FIRST = re.compile(
    rf"(?=[acdirsu])\b(?:{_EN_CUE})\b(?:{_S}{_EN_FILL}\b){{0,12}}?{_S}\(?{_NOT_FROM}"
    rf"(?P<cls>{EN_CLASS})\b",
    _F,
)
EN_CLASS_FIRST = re.compile(
    rf"(?=[chmlipn])\b(?P<cls>{EN_CLASS}|critically)[\"'”’]?(?:[\s\-]+|\s*\)\s*)(?:severity|criticality"
    r"|risk\s+rating|impact\s+rating|rated\b|classification)",
    _F,
)
EN_HEADER = re.compile(
    r"^(?=[ \t>*#_|is])[ \t>*#_|]{0,8}(?:security[ \t]+)?impact[ \t*_\"'“”:\-–—|]{0,8}"
    r"(?:\n[ \t*_\"'“”]{0,8})?"
    rf"(?P<cls>{EN_CLASS})\b[ \t*_\"'“”.|]{{0,8}}$",
    re.MULTILINE,
)
# Security advisories end a title with the rating in parentheses: "Path traversal (High)".
EN_PAREN = re.compile(
    r"\((?P<cls>Critical|High|Medium|Moderate|Low|CRITICAL|HIGH|MEDIUM|MODERATE|LOW)\)"
    r"[ \t]*(?=\n|\Z)"
)

# --- Hungarian --------------------------------------------------------------------------
_HU_CUE = (
    r"(?:át|be)?sorol\w*|súlyosság\w*|kritikusság\w*|minősít\w*|minősül\w*|értékel\w*"
    r"|osztályoz\w*|kategóri\w*|kockázat\w*|veszélyesség\w*"
)
_HU_FILL = r"(?:a|az|egy|is|most|már|lett|lettek|volt|szint\w*|nem|sem|ként|pedig|\w+r[óő]l)"
HU_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_HU_CUE})(?:{_S}{_HU_FILL}(?!\w)){{0,12}}?{_S}"
    rf"(?P<cls>{HU_CLASS})(?!\w)",
    _F,
)
HU_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?P<cls>{HU_CLASS})(?:\s+(?:a|az|lett|lettek|volt|is|módosít\w*|változ\w*"
    rf"|nem|került|kapott))*[\s\-]+(?:{_HU_CUE})",
    _F,
)

# --- German -----------------------------------------------------------------------------
_DE_CUE = (
    r"schweregrad\w*|kritikalität\w*|einstufung\w*|eingestuft|bewertung\w*|bewertet"
    r"|risikostufe|risikobewertung|risikoklasse|klassifizierung\w*|klassifiziert"
    r"|herabgestuft|hochgestuft|eingeschätzt|schwere|gilt|gelten|galt|beurteilt|deklariert"
)
_DE_FILL = (
    r"(?:ist|sind|war|wurde|wurden|als|auf|nun|jetzt|sehr|nicht|kein\w*|mit|der|die|insgesamt"
    rf"|von\s+{DE_CLASS}(?=\s+auf))"
)
DE_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_DE_CUE})(?:{_S}{_DE_FILL}(?!\w)){{0,12}}?{_S}{_NOT_FROM}"
    rf"(?P<cls>{DE_CLASS})(?!\w)",
    _F,
)
DE_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?P<cls>{DE_CLASS})[\s\-]+(?:(?:wurde|ist|sind|worden)\s+)?(?:{_DE_CUE}"
    r"|(?:sicherheits)?(?:schwachstelle|lücke)n?(?!\w)|sicherheitslücken?(?!\w))",
    _F,
)

# --- French -----------------------------------------------------------------------------
_FR_CUE = (
    r"criticité|sévérité|gravité|(?:re)?classée?s?|(?:re)?classification|niveau\s+de\s+risque"
    r"|évaluée?s?|notée?s?|cotée?s?|jugée?s?|qualifiée?s?|considérée?s?|catégorisée?s?"
    r"|estimée?s?|risques?"
)
_FR_FILL = (
    r"(?:est|était|a|été|comme|en|à|de|du|très|pas|non|ne|n'est|le|la|niveau|jugée?s?"
    r"|considérée?s?|d'un|d'une|un|une|sévérité|criticité|gravité|risque"
    rf"|de\s+{FR_CLASS}(?=\s+à))"
)
FR_CUE_FIRST = re.compile(
    rf"(?<!\w)(?:{_FR_CUE})(?:{_S}{_FR_FILL}(?!\w)){{0,12}}?{_S}"
    rf"(?!{FR_CLASS}\s+à\s+{FR_CLASS})(?P<cls>{FR_CLASS})(?!\w)",
    _F,
)
FR_CLASS_FIRST = re.compile(
    rf"(?<!\w)(?:de\s+)(?P<cls>{FR_CLASS})\s+(?:criticité|sévérité|gravité)", _F
)
FR_ATTRIBUTIVE = re.compile(
    r"(?<!\w)(?:vulnérabilité|faille)s?(?:\s+de\s+sécurité)?\s+"
    r"(?P<cls>critiques?|importantes?)(?!\w)",
    _F,
)

#: Language groups: the substrings that must occur for a group's patterns to be tried (on
#: lower-cased text, in windows around each occurrence), and its (pattern, confidence) pairs.
GROUPS: tuple[tuple[tuple[str, ...], tuple[tuple[re.Pattern[str], float], ...]], ...] = (
    (
        ("severit", "criticalit", "classif", "rated", "rating", "risk", "graded", "declared",
         "deemed", "assessed", "scored", "categori", "considered a", "considered to",
         "considered c", "considered h", "considered m", "considered l", "considered i",
         "determined to", "critically", "impact:", "impact*", "impact\n", "impact -",
         "impact —", "impact –", "impact |", "impact\t"),
        ((EN_CUE_FIRST, 0.9), (EN_CLASS_FIRST, 0.9), (EN_HEADER, 0.85)),
    ),
    (
        ("sorol", "súlyos", "kritikusság", "minősí", "minősü", "értékel", "osztályoz",
         "kategóri", "kockázat", "veszélyes"),
        ((HU_CUE_FIRST, 0.9), (HU_CLASS_FIRST, 0.9)),
    ),
    (
        ("schwere", "kritikalit", "einstuf", "gestuft", "bewert", "klassifi", "eingeschätzt",
         "risiko", "schwachstelle", "lücke", "gilt", "gelten", "galt", "beurteilt"),
        ((DE_CUE_FIRST, 0.9), (DE_CLASS_FIRST, 0.9)),
    ),
    (
        ("criticit", "sévérit", "gravit", "classé", "classif", "évalué", "noté", "coté",
         "risque", "jugé", "qualifié", "considéré", "catégoris", "estimé", "vulnérabilit",
         "faille"),
        ((FR_CUE_FIRST, 0.9), (FR_CLASS_FIRST, 0.9), (FR_ATTRIBUTIVE, 0.85)),
    ),
)
#: Stems found inside words ("reclassified", "downgraded", "eingestuft", "besorolás",
#: "sicherheitslücke"); every other stem counts only at the start of a word.
MID_WORD = frozenset({
    "classif", "graded", "gestuft", "sorol", "minősí", "minősü", "értékel", "classé",
    "lücke", "schwachstelle",
})
