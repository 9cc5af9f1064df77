"""Whether a vulnerability word stands in prose, where a person says something about the ticket.

Signals read in code and config blocks, stack traces, log lines, HTTP headers and names give
most false ``suspected`` findings on real trackers: ``X-XSS-Protection`` and
``Content-Security-Policy`` headers, Smarty ``[security]`` keys, ``GRANT … IDENTIFIED BY``,
"Form security key is invalid" in a log line, ``org.apache.derby.security``, ``mod_security``,
``SECURITY.md``; and "This isn't a security issue" says the opposite of a signal. The checks
run only at the few places where a signal word was found (never over the whole text), each on
the one line around it, so they cost nothing on ordinary tickets. Every pattern is anchored or
bounded, with no nested repetition.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left

logger = logging.getLogger(__name__)

# A line that is code, configuration, a log entry, a stack frame or a header, not prose. Blanks
# include the no-break space: Jira's editor indents pasted XML and licence headers with it.
_NOT_PROSE_LINE = re.compile(
    r"[ \t]{0,40}(?:"
    r"at [\w$.<>]{1,200}\(|caused by:|exception in thread|\.{3} \d+ more"  # stack traces
    r"|\d{4}-\d\d-\d\d[ t]\d\d:\d\d|\d\d:\d\d:\d\d[,.]\d"  # log lines
    r"|\[?(?:error|warn|warning|info|debug|trace|fatal|severe)\]?[ \t]{0,8}[:\]\[]"
    r"|<[\w:-]{1,60}[ \t][^\n>=]{0,200}=|</|<\?xml|<!--|<[\w:-]{1,60}>[^\s<]{0,200}</"  # XML
    r"|[\[{][\w. \"-]{0,60}[\]}]?[ \t]{0,8}$|\"[\w.-]{1,60}\"[ \t]{0,8}:"  # INI, JSON
    r"|[\w.-]{1,60}[ \t]{0,8}=[ \t]{0,8}[\"'\[{]?[\w.$/-]{0,200}[\"'\]}]?[ \t]{0,8}[,;]?"
    r"[ \t]{0,8}$"  # key = value
    r"|x-[\w-]{1,60}:|[\w-]{1,60}-(?:policy|protection|options)[ \t]{0,8}:"  # HTTP headers
    r"|(?:select|insert|update|delete|grant|revoke|create|alter|drop)[ \t]+\S[^\n;]{0,400};"  # SQL
    r"|(?:sqlstate|sqlcode|errno|error code)\b"
    r"|[#*][ \t]*(?:licensed|copyright|apache license)"  # licence headers
    r"|(?:see the license|licensed under|distributed under the license|limitations under)"
    r"|(?:\$|>>>)[ \t]+\S"  # shell prompts
    r")".replace(r"[ \t]", r"[ \t\xa0]"),
)
_FENCES = ("```", "{code", "{noformat")
_NAME_BEFORE = frozenset("._/\\-$@")
_NAME_AFTER = re.compile(r"[._/\\$]\w|\(|=")
_NEGATED = re.compile(
    r"(?:\bnot|n't|\bno|\bnothing to do with|\bnon-|\bnon|\bwithout)"
    r"(?: (?:a|an|the|any|really|actually|related to))* ?$"
)


# "security" as a switch or a component, not a property of this ticket: "if security is turned
# off", "with security enabled", "in secure mode", "the Security Wizard".
_SWITCH_AFTER = re.compile(
    r"(?:[ \t]{1,4}(?:is|was|are|were|has been|being|gets?))?"
    r"(?:[ \t]{1,4}(?:also|still|now|currently|already|not))?(?:[ \t]{1,4}turned)?[ \t]{1,4}"
    r"(?:on|off|enabled|disabled|mode|wizard|extensions?|context|settings?|features?|realm"
    r"|configuration|config|manager)\b"
)
# Java's sense of "privileged": code run in a privileged block (AccessController.doPrivileged)
# is about the JVM's security manager, not about what a user may do.
_JAVA_PRIVILEGED = re.compile(r"[ \t]{1,4}(?:block|blocks|calls?|actions?|code|context|section)\b")
_SWITCH_BEFORE = re.compile(
    r"\b(?:enabl\w{0,6}|disabl\w{0,6}|turn\w{0,3} (?:on|off)|with|without|kerberos|ldap|hadoop"
    r"|ha)(?: the)? ?$"
)
_LONGEST_LINE = 2000  # a longer "line" is prose: no code, config or log line is that long


class Prose:
    """The prose test for one lower-cased text; fence positions are found once, when first
    needed, so a text with many signal words is still read in linear time."""

    def __init__(self, low: str) -> None:
        self.low = low
        self._fences: list[int] | None = None
        self._lines: dict[int, bool] = {}  # line start -> whether the line is not prose

    def _inside_fence(self, pos: int) -> bool:
        """Whether ``pos`` lies inside a fenced code block (an odd number of fences before)."""
        if self._fences is None:
            low = self.low
            self._fences = sorted(
                m.start() for fence in _FENCES if fence in low
                for m in re.finditer(re.escape(fence), low)
            )
        return bool(self._fences) and bisect_left(self._fences, pos) % 2 == 1

    def __call__(self, start: int, end: int) -> bool:
        """Whether the signal word ``low[start:end]`` is prose: not in a code block, not on a
        code/config/log/header line, not part of a name, not negated ("not a security
        issue")."""
        low = self.low
        if start > 0 and low[start - 1] in _NAME_BEFORE:
            return False
        if _NAME_AFTER.match(low, end):
            return False
        floor = max(0, start - _LONGEST_LINE)
        line_start = low.rfind("\n", floor, start) + 1 or floor
        if line_start > floor or floor == 0:
            code = self._lines.get(line_start)
            if code is None:
                code = self._lines[line_start] = bool(_NOT_PROSE_LINE.match(low, line_start))
            if code:
                return False
        if _NEGATED.search(low, max(line_start, start - 40), start):
            return False
        if low.startswith("privileged", start) and _JAVA_PRIVILEGED.match(low, end):
            return False
        if low.startswith(("secur", "sicherheit"), start) and (
                _SWITCH_AFTER.match(low, end)
                or _SWITCH_BEFORE.search(low, max(line_start, start - 30), start)):
            return False
        return not self._inside_fence(start)
