"""The one rule for showing untrusted text to a person: control characters are made visible.

Ticket keys, titles, labels, reporters, comments, SMTP replies and Jira error bodies come from
people vulnmark does not trust. Written raw to a terminal, an ESC sequence rewrites the screen
or the window title (OSC 0/2), writes the clipboard (OSC 52) or hides lines; a bidi override
(U+202E, "Trojan Source") reorders what people read. Every human output (terminal, text, HTML
and Markdown reports, email, CSV cells) passes its text through :func:`clean` or
:func:`for_terminal`; machine formats escape instead (:func:`json_safe`).
"""

from __future__ import annotations

import re

__all__ = ["BIDI", "REPLACEMENT", "clean", "for_terminal", "json_safe"]

#: Bidirectional overrides and isolates ("Trojan Source"): they reorder what people read.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REPLACEMENT = "\ufffd"

_BIDI_CLASS = "".join(sorted(BIDI))
#: Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; TAB, LF and CR are kept
#: (they are layout, and :func:`one_line`-style helpers collapse them where a line is needed).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI_CLASS + "]")
#: On a terminal a bare CR returns to the start of the line and lets later text overwrite
#: earlier text; only CR LF (a Windows line end) is kept, as LF.
_TERMINAL_UNSAFE = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI_CLASS + "]")
#: What JSON (ensure_ascii=False) leaves raw although a terminal acts on it: C1 controls
#: (U+009B is a one-byte CSI) and bidi overrides. JSON's own escaping covers U+0000-U+001F.
_JSON_RAW = re.compile("[\x7f-\x9f" + _BIDI_CLASS + "]")


def clean(text: str) -> str:
    """``text`` with control characters (terminal escapes, NUL, DEL, C1) and bidi overrides
    shown as U+FFFD; TAB, LF and CR stay."""
    return _UNSAFE.sub(REPLACEMENT, text)


def for_terminal(text: str) -> str:
    """:func:`clean`, and a CR not followed by LF shown as U+FFFD too (what a terminal sees)."""
    if text.isprintable():  # the common case: nothing to do (no control, no line break)
        return text
    return _TERMINAL_UNSAFE.sub(REPLACEMENT, text.replace("\r\n", "\n"))


def json_safe(text: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with C1 controls and bidi
    overrides written as ``\\uXXXX`` escapes: the same document, harmless on a terminal. (These
    characters can only occur inside JSON strings, where the escape means the same.)"""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
