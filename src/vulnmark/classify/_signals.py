"""Vulnerability signals: what makes an unmarked ticket ``suspected``.

Advisory identifiers (CVE, GHSA, RUSTSEC, PYSEC) and vulnerability words in English,
Hungarian, German and French, plus attack terms that rarely appear in ordinary bug reports.
The term list was chosen by measurement on the FARSEC corpus (see
``benchmarks/classify_eval.py``): each term kept has a precision well above the plain
"security" keyword, which is deliberately *not* a signal on its own.
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
_WORDS = (
    # vulnerability words, four languages
    r"vulnerab(?:le|ility|ilities)|sérülékeny\w*|sebezhető\w*|schwachstelle\w*"
    r"|sicherheitslücke\w*|vulnérabilités?|failles?\s+de\s+sécurité"
    # attack classes and terms
    r"|remote\s+code\s+execution|arbitrary\s+code\s+execution|code\s+injection|xss"
    r"|cross[- ]site\s+(?:scripting|request\s+forgery)|csrf|xsrf|sql\s+injection"
    r"|command\s+injection|privilege\s+escalation|escalation\s+of\s+privileges?"
    r"|(?:path|directory)\s+traversal|use[- ]after[- ]free|denial[- ]of[- ]service"
    r"|information\s+disclosure|clickjacking|same[- ]origin\s+policy|exploit(?:s|ed|able)?"
    r"|attackers?|malicious|spoof(?:ing|ed)?"
    r"|security\s+(?:issue|flaw|hole|bug|vulnerability|problem|defect|advisory|fix)"
)
#: Runs on lower-cased text, only in windows around these substrings.
_SIGNAL = re.compile(rf"{_IDS}|\b(?:{_WORDS})\b")
STEMS: tuple[str, ...] = (
    "cve-", "ghsa-", "sec-", "vuln", "sérülékeny", "sebezhet", "schwachstelle", "sicherheitsl",
    "faille", "execution", "injection", "xss", "cross", "srf", "escalation",
    "traversal", "after-free", "after free", "denial", "disclosure", "clickjack", "origin",
    "exploit", "attacker", "malicious", "spoof", "security",
)
_ID_PREFIX = ("cve-", "ghsa-", "rustsec-", "pysec-")


#: How far windows reach before and after a stem.
MARGIN = (32, 48)


def signal_spans(low: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_identifier) of each signal in lower-cased text, inside ``spans``."""
    last = -1
    for lo, hi in spans:
        for m in _SIGNAL.finditer(low, lo, hi):
            s, e = m.span()
            if s > last:
                last = s
                yield s, e, low.startswith(_ID_PREFIX, s)
