"""How reporters describe a security control that does not hold, without naming a class.

FARSEC's and the Apache issues' security reports often say what is wrong in plain words: "the
Netty transport does no authentication at all", "this should be for admins only", "Chromium
exposes file paths when dropping files", "trustStorePassword is logged", "any user can kill
other users' applications", "a specially crafted SVG file". Each pattern here is a strong
``suspected`` signal, found by reading the misses of the vulnerability words on those sets
(``benchmarks/farsec_read.jsonl``, ``benchmarks/suspected_read.jsonl``) and kept only where it
added true findings without false ones there, and where what a CA writes every day does not
match it: requirements ("should be restricted to administrators", "only administrators should
be allowed to revoke"), operations ("resource exhaustion during peak hours", "code execution
of the signing script takes 40 minutes") and risk assessment ("a security risk") stay quiet.
Both kinds of sentence are tests.

The patterns start with common words ("no", "for", "against"), so they run only in windows
around their own stems (:data:`STEMS`), never over the windows of the vulnerability words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

logger = logging.getLogger(__name__)

_WORDS = (
    r"(?:to|allows?|allowing|permits?|enabl\w*|achiev\w*|gain\w*|parsing)\s+(?:\w+\s+)?code\s+"
    r"execution|execut\w*\s+(?:arbitrary|untrusted|malicious|injected)"
    # attacks named by their kind or by what they are against ("protect against '..' attacks")
    r"|against\s+(?:\S+\s+){0,3}attacks?|attacks?\s+(?:vector|surface)s?"
    r"|(?:replay|brute[- ]?force|d?dos|timing|injection|phishing|downgrade|side[- ]channel"
    r"|dictionary|poodle|traversal|spoofing|xss|csrf)\s+attacks?"
    r"|arbit?rary\s+(?:code|commands?|javascript|scripts?|urls?)|(?:read|write)av@|writeav"
    r"|(?:read|write|access|open|delete|overwrite|download)\w*\s+(?:an?\s+|any\s+)?"
    r"arbitrary\s+files?"
    r"|out[- ]of[- ]bounds\s+(?:\w+\s+)?(?:read|write|access|index\w*)"
    r"|oob\s+(?:read|write|access|array|index\w*)"
    r"|(?:expos|disclos|leak|reveal)\w*\s+(?:(?:the|all|any|a|its|their|users?'?s?|other"
    r"|sensitive|private|secret|internal|full|local|delegation)\s+){0,3}(?:paths?"
    r"|path\s+info\w*|file\s?paths?|passwords?|credentials?|tokens?|secrets?|private\s+keys?"
    r"|cookies?|session\s+ids?|redirect\w*|history|parameters?)"
    r"|(?:files?|paths?|passwords?|credentials?|secrets?|tokens?|keys?)\s+(?:\w+\s+)?"
    r"(?:(?:is|are|was|were|gets?|being|been|can\s+be)\s+){0,2}(?:exposed|leaked|disclosed)"
    r"|(?:passwords?|credentials?|secrets?|private\s+keys?|(?:trust|key)?store\s?passwords?"
    r"|(?:db|database|admin|root|user)\s?passwords?)[\"'`]?\s+"
    r"(?:(?:is|are|was|were|gets?|being|been)\s+){0,2}(?:logged|printed|shown|displayed|visible)"
    # "no authentication at all", not "no authentication method configured"
    r"|(?:incorrect|improper|broken|missing|insufficient|no|lack\s+of)\s+(?:\w+\s+)?"
    r"(?:authori[sz]ation|authentication|access\s+control|(?:access|permission|acl)\s+checks?)"
    r"(?=\s+(?:at\s+all|whatsoever|on|for|in|when|is|are|was|were)\b|\s*[.,;:!)]|\s*$)"
    r"|(?:authori[sz]ation|authentication|permissions?|acls?|credentials|passwords?)\s+"
    r"(?:(?:is|are|was|were)\s+)?(?:not|never)\s+"
    r"(?:checked|enforced|verified|validated|honou?red|respected)"
    r"|(?:bypass\w*|circumvent\w*)\s+(?:the\s+)?(?:\w+\s+)?(?:authori[sz]ation"
    r"|authentication|security|access\s+(?:controls?|checks?|restrictions?)"
    r"|permission\s+checks?|sandbox|restrictions?|protections?|login|acls?|2fa|mfa"
    r"|two[- ]factor\s+\w+|otp|captcha|rate\s+limit\w*)"
    # web application weaknesses as trackers name them
    r"|brute[- ]?forc\w*\s+(?:the\s+)?(?:login|passwords?|tokens?|pins?|otps?|2fa|credentials?)"
    r"|(?:missing|without|no|lacks?)\s+(?:the\s+)?(?:httponly|secure)\s+(?:flag|attribute)"
    r"|(?:unescaped|unsanitized|unsanitised|not\s+(?:properly\s+)?(?:escaped|sanitized"
    r"|sanitised))\s+(?:\w+\s+)?(?:user\s+input|html)"
    r"|for\s+(?:the\s+)?(?:admins?|administrators?)\s+only"
    r"|unauthori[sz]ed\s+(?:access|users?|clients?|parties|modification|reads?|writes?|shutdown"
    r"|requests?|calls?|connections?)"
    r"|(?:gain\w*|obtain\w*|escalat\w*)\s+(?:\w+\s+){0,3}privileges?"
    r"|wider\s+permissions|world[- ](?:readable|writ(?:e)?able)|(?:too|overly)\s+permissive"
    r"|domain[- ]origin"
    r"|sandbox\s+violation|compromised\s+(?:renderer|process|host|server|machine|account"
    r"|system|client|plugin|key)|0[- ]?day|zero[- ]day"
    r"|(?:shown|displayed|printed|logged|visible|stored|written)\s+in\s+(?:plain|clear)[- ]?text"
    r"|passwords?\s+(?:\w+\s+)?can\s+be\s+(?:seen|read|viewed)|bof"
    r"|stack\s+exhaustion"
    r"|bypass\w*\s+(?:the\s+)?(?:\w+\s+){0,3}(?:dialog|warning|prompt|confirmation)s?"
    r"|succe\w*\s+(?:\w+\s+){0,2}(?:without|when|although|even\s+though)\s+(?:\w+\s+){0,2}"
    r"(?:permission|privilege|authori[sz]ation|access|grant)"
    r"|(?:retriev|obtain|learn|disclos|leak|reveal)\w*\s+(?:the\s+)?(?:full(?:y\s+qualified)?"
    r"|absolute|real|local)\s+(?:file\s+)?paths?"
    r"|(?:specially|maliciously|specifically|purposely)[- ]crafted"
    r"|(?:unprivileged|non-admin|unauthenticated|unauthori[sz]ed)\s+users?\s+(?:\w+\s+)?"
    r"(?:can|could|is\s+able\s+to|are\s+able\s+to)\b"
    r"|(?:any|every)\s+users?\s+can\s+(?:\w+\s+){0,3}(?:other|another)\s+users?"
    r"|grant(?:ed|s)\s+(?:\w+\s+)?(?:full|all|admin\w*)\s+(?:privileges|permissions|access|rights)"
    r"|grant\w*\s+(?:\w+\s+)?by\s+any\s+users?"
    r"|can\s+still\s+be\s+(?:executed|accessed|read|used|queried|run)"
)
# The lookahead lets the engine skip positions that cannot start a word before it tries each
# alternative (27 % less time on FARSEC's windows than a bare \b).
_CONTROL = re.compile(rf"(?=[a-z0-9])\b(?:{_WORDS})\b")
#: How far windows reach before and after a stem: every pattern above has its stem near one end.
MARGIN = (32, 32)
#: Where a pattern above can be: a window is read around each (see ``_read``).
STEMS: tuple[str, ...] = (
    "execution", "arbitrary", "arbitary", "readav", "writeav", "of bounds", "of-bounds", "oob",
    "attack", "expos", "disclos", "leak", "reveal", "passw", "credential", "secret",
    "private key", "authori", "authentic", "acl", "permission", "circumvent", "bypass", "admin",
    "privil", "not checked", "not enforced", "not verified", "not validated", "not honored",
    "not honoured", "not respected", "never checked", "never enforced", "wider permission",
    "world-r", "world r", "world-w", "world w", "permissive", "domain-origin", "domain origin",
    "compromised", "sandbox violation", "0day", "0-day", "zero-day", "zero day", "plain text",
    "plain-text", "plaintext", "clear text", "clear-text", "cleartext", "bof", "exhaustion",
    "crafted", "qualified path", "absolute path", "full path", "local path", "real path",
    "local file path", "full file path", "any user", "every user", "unprivileged", "non-admin",
    "unauthenticated", "full privileges", "all privileges", "full permissions",
    "all permissions", "full access", "admin access", "all access", "by any user",
    "can still be", "access check", "brute", "httponly", "unescaped", "unsanitized",
    "unsanitised", "escaped", "sanitized", "sanitised",
)


def control_spans(low: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """(start, end) of each description of a failed control in lower-cased text, in ``spans``
    (merged windows, which never overlap)."""
    for lo, hi in spans:
        for m in _CONTROL.finditer(low, lo, hi):
            yield m.span()
