"""Vulnerability signals: what makes an unmarked ticket ``suspected``.

Two tiers, chosen by measurement on FARSEC and the Apache issues, against their labels and
against a person's reading (``benchmarks/suspect_ranker.py``, ``benchmarks/farsec_read.jsonl``):

* **strong** signals suffice alone: advisory ids (CVE, GHSA, RUSTSEC, PYSEC), vulnerability
  words in English, Hungarian, German and French, attack classes that rarely occur in ordinary
  bug reports (XSS, SQL injection, remote code execution, privilege escalation, use-after-free,
  memory corruption, "attacker", "malicious", ...), and the way reporters describe a control
  that does not hold without naming a class ("no authentication at all", "for admins only",
  "exposes local file paths", "the password is logged", "unauthenticated users can …");
* **weak** terms (security, permission/privilege/grant, unauthorized, password, credential,
  sanitize, bypass, untrusted, sandbox, in four languages) count only when two *different*
  concepts occur in the ticket. "security" alone is as noisy as a coin toss on FARSEC (P 0.54);
  permission, privilege and grant/revoke are one concept (a GRANT feature names all three); and
  words a CA uses every day (certificate, TLS, encryption, authentication) are deliberately
  not terms at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

logger = logging.getLogger(__name__)

_IDS = (
    r"\bcve-\d{4}-\d{4,7}\b|\bghsa(?:-[23456789cfghjmpqrvwx]{4}){3}\b"
    r"|\brustsec-\d{4}-\d{4}\b|\bpysec-\d{4}-\d{1,6}\b"
)
_STRONG_WORDS = (
    # vulnerability words, four languages
    r"vulnerab(?:le|ility|ilities)|sérülékeny\w*|sebezhető\w*|schwachstelle\w*"
    r"|sicherheitslücke\w*|vulnérabilités?|failles?\s+de\s+sécurité"
    # attack classes and terms
    r"|remote\s+code\s+execution|arbitrary\s+code\s+execution|code\s+injection|xss"
    r"|cross[- ]site\s+(?:scripting|request\s+forgery)|csrf|xsrf|sql\s+injection"
    r"|injection\s+sql|command\s+injection|privilege\s+escalation|escalation\s+of\s+privileges?"
    r"|élévation\s+de\s+privilèges|rechteausweitung|jogosultság[- ]?(?:kiterjesztés|emelés)\w*"
    r"|távoli\s+kódfuttatás\w*|(?:path|directory)\s+traversal|use[- ]after[- ]free"
    r"|denial[- ]of[- ]service|déni\s+de\s+service|memory\s+corruption|(?:buffer|heap)[- ]overflow"
    r"|out[- ]of[- ]bounds\s+(?:read|write)|information\s+disclosure|clickjacking"
    r"|same[- ]origin\s+policy|exploit(?:s|ed|able)?|attackers?|angreifer\w*|támadó\w*"
    r"|malicious|spoof(?:ing|ed)?"
    r"|security\s+(?:issue|flaw|hole|bug|vulnerability|problem|defect|advisory|fix|weakness"
    r"|breach|loophole)s?"
    # classes the first vocabulary missed (CWE names and how reporters say them)
    r"|open\s+redirect\w*|(?:full\s+)?path\s+disclosure|man[- ]in[- ]the[- ]middle|mitm"
    r"|(?:user|username|account)\s+enumeration|session\s+(?:fixation|hijacking)|xxe"
    r"|xml\s+external\s+entit(?:y|ies)|ssrf|server[- ]side\s+request\s+forgery"
    r"|sandbox\s+(?:escape|bypass)|stack\s+smashing|smash(?:es)?\s+the\s+stack|cross[- ]origin"
    r"|(?:privacy|information|credential|password|token)\s+leak(?:s|age)?"
    r"|(?:remote|local)\s+dos|dos\s+(?:attack|via|vulnerability|condition)"
    r"|(?:sent|stored|transmitted|logged)\s+in\s+(?:the\s+)?clear(?:[- ]?text)?"
    r"|(?:clear|plain)[- ]?text\s+passwords?|cross[- ]frame|integer\s+overflow"
    r"|(?:html|header|host\s+header|ldap|xpath|template|crlf|script|javascript|xml|css|cookie)"
    r"\s+injection|idor|insecure\s+direct\s+object\s+references?"
)
#: Both run on lower-cased text, only in windows around their stems. A line or title that
#: starts with "Security:", "[Security]" or "(Security)" is how reporters tag a security bug
#: ("Security: heap overflow in …", "(Security) ui actions should have authorization").
_STRONG = re.compile(rf"{_IDS}|\b(?:{_STRONG_WORDS})\b")
_TAG = re.compile(r"security:(?=[ \t])|[\[(]security[\])]")
_WEAK = re.compile(
    r"\b(?:security|insecure|sicherheit\w*|biztonság\w*|sécurité|permissions?|berechtigung\w*"
    r"|jogosults\w*|privileges?|privilèges?|(?:un)?authori[sz]\w*|autorisation|passwor[dt]s?"
    r"|mot\s+de\s+passe|jelszó\w*|credentials?|saniti[sz]\w*|bypass\w*|grant\w*|revoke\w*"
    r"|untrusted|sandbox\w*"
    r")\b"
)
STRONG_STEMS: tuple[str, ...] = (
    "cve-", "ghsa-", "sec-", "vulnerab", "vulnérab", "sérülékeny", "sebezhet", "schwachstelle",
    "sicherheit",
    "faille", "execution", "kódfuttat", "injection", "xss", "cross", "srf", "escalation",
    "élévation", "rechteausweitung", "jogosult", "traversal", "after-free", "after free",
    "denial", "déni", "corruption", "overflow", "bounds", "disclosure", "clickjack", "origin",
    "exploit", "attack", "angreifer", "támadó", "malicious", "spoof", "secur",
    "open redirect", "path disclosure", "in-the-middle", "in the middle", "mitm",
    "enumeration", "session fix", "session hij", "xxe", "external entit", "ssrf",
    "request forgery", "sandbox", "smash", "privacy leak", "information leak", "credential leak",
    "password leak", "token leak", "remote dos", "local dos", "dos attack", "dos via",
    "dos vuln", "dos condition", "in clear", "in the clear", "cleartext", "clear text",
    "clear-text", "plaintext", "plain text", "plain-text", "idor", "direct object",
)
WEAK_STEMS: tuple[str, ...] = (
    "secur", "sicherheit", "biztonság", "sécurité", "permission", "berechtigung", "jogosult",
    "privil", "authori", "autoris", "passw", "mot de passe", "jelszó", "credential", "saniti",
    "bypass", "grant", "revoke", "untrusted", "sandbox",
)
#: How far windows reach before and after a stem.
MARGIN = (32, 48)
_ID_PREFIX = ("cve-", "ghsa-", "rustsec-", "pysec-")
_CONCEPTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("secur", "insecur", "sicherheit", "biztons", "sécur"), "security"),
    (("permission", "berechtigung", "jogosult", "privil"), "permission"),
    (("authori", "unauthori", "autoris"), "authorization"),
    (("passw", "mot de passe", "jelszó"), "password"),
    (("credential",), "credential"),
    (("saniti",), "sanitizing"),
    (("grant", "revoke"), "permission"),  # "the privilege is granted": one idea, not two
    (("bypass",), "bypass"),
    (("untrusted",), "untrusted"),
    (("sandbox",), "sandbox"),
)


def strong_spans(low: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_identifier) of each strong signal in lower-cased text, in ``spans``
    (merged windows: they never overlap, so no match is found twice)."""
    for lo, hi in spans:
        for m in _STRONG.finditer(low, lo, hi):
            yield m.start(), m.end(), low.startswith(_ID_PREFIX, m.start())
        if "security" in low[lo:hi]:  # the tag at a line start or after a title's " - "
            for m in _TAG.finditer(low, lo, hi):
                s = m.start()
                if _tag_position(low, s):
                    yield s, m.end(), False


def _tag_position(low: str, s: int) -> bool:
    """Whether "security:" at ``s`` starts a line or follows a title's dash ("Issue 29323 -
    chromium -    Security: …"), with any few blanks between (never "non-security:")."""
    j = s
    while j > 0 and s - j < 16 and low[j - 1] in " \t\xa0":
        j -= 1
    return j == 0 or low[j - 1] == "\n" or (j < s and low[j - 1] == "-")


def weak_spans(low: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    """(start, end, concept) of each weak term in lower-cased text, in ``spans``."""
    for lo, hi in spans:
        for m in _WEAK.finditer(low, lo, hi):
            yield m.start(), m.end(), concept(m.group(0))


def concept(term: str) -> str:
    """The concept a weak term stands for: two different concepts make a signal."""
    for prefixes, name in _CONCEPTS:
        if term.startswith(prefixes):
            return name
    return term
