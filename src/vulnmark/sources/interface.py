"""The ticket-source interface: one ABC, one error tree, and the checks every source shares.

Errors::

    SourceError                 base error of every source (Jira sync failures subclass it too)
    └── InputError              bad input; ``str(e)`` names the file, JSONL line and field

Shared checks (used by the Jira JSON and JSON Lines readers so both accept the same tickets):
:func:`parse_time` (ISO 8601 and Jira's ``+0000`` offsets -> aware UTC), :func:`check_labels`
(Jira's label rules: a non-empty string without whitespace, at most 255 UTF-16 units),
:func:`check_key` (a ticket key is an identifier in its source's syntax: :data:`JIRA_KEY`,
:data:`EMBEDDED_KEY`, :data:`FILE_KEY`), :func:`cap_text` (text fields above
:data:`MAX_TEXT_CHARS` are cut with a visible marker) and :func:`cap_ticket` (the per-field
limits of what is stored, m1: key, title, names, URL, label count; README "Input limits").
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from vulnmark.errors import InputError
from vulnmark.model import Ticket, TicketKey

logger = logging.getLogger(__name__)

#: Jira refuses labels longer than this (counted as Java ``String.length()``, UTF-16 units).
MAX_LABEL_LENGTH = 255
#: A Jira issue key: the project key (a capital letter, then capitals, digits or ``_``; Jira's
#: own project-key rule) and the issue number. Keys go into request paths (m3): nothing else
#: is ever sent to Jira as a key.
JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]+-[0-9]+")
#: A key of vulnmark's own tracker (``PREFIX-N``, ``ticket new --key``): a letter, then
#: letters, digits or ``_``, a dash and a number.
EMBEDDED_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
#: A key in vulnmark's JSON Lines files, which carry the tracker's keys, Jira keys and keys of
#: other trackers (``INC0012345``, ``CVE-2026-1234``): an identifier of letters, digits and
#: ``_ . : -`` that starts with a letter or digit — no ``/``, ``%``, space or control
#: character, so never a path, a URL part or a terminal sequence.
FILE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
#: Longest key accepted (the store keeps up to 255 characters).
MAX_KEY_LENGTH = 255
#: Text fields (description, comment bodies) longer than this are cut to this length,
#: keeping the start and ending with :data:`TRUNCATION_MARKER`.
MAX_TEXT_CHARS = 1_000_000
TRUNCATION_MARKER = "\n[vulnmark: text truncated, {omitted} more characters not stored]"


class TicketSource(ABC):
    """Anything that yields tickets: an import file, a Jira site, the embedded tracker."""

    @abstractmethod
    def fetch(self, since: datetime | None = None) -> Iterator[Ticket]:
        """Yield the tickets of this source; with ``since``, at least those updated since then.

        Raises :class:`SourceError` (or a subclass) when the source cannot be read.
        """


def parse_time(value: object, *, what: str, field: str) -> datetime:
    """Parse an ISO 8601 time or date (Jira's ``2006-10-31T18:45:07.000+0000`` included) to UTC.

    A value without offset is taken as UTC; a bare date is midnight UTC. ``what`` prefixes the
    error message (usually the ticket key).
    """
    if not isinstance(value, str):
        raise InputError(
            f"{what}: expected an ISO 8601 time string, got {type_name(value)}", field=field
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{what}: not an ISO 8601 time: {value[:60]!r}", field=field) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00, 9999-12-31T23:59-01:00
        raise InputError(f"{what}: time out of range: {value[:60]!r}", field=field) from None


def check_key(key: object, *, syntax: re.Pattern[str] = FILE_KEY, what: str = "",
              field: str = "key") -> TicketKey:
    """Return ``key`` if it is a key in ``syntax`` (and at most :data:`MAX_KEY_LENGTH`
    characters), else raise :class:`InputError` showing it escaped (it may hold controls);
    ``what`` prefixes the message."""
    kind, example = {JIRA_KEY: ("a Jira issue key", "PROJ-123"),
                     EMBEDDED_KEY: ("a tracker key", "PREFIX-123")}.get(
                         syntax, ("a ticket key", "SEC-123"))
    prefix = f"{what}: " if what else ""
    if not isinstance(key, str) or not key:
        got = "an empty string" if key == "" else type_name(key)
        raise InputError(f"{prefix}{kind} must be a non-empty string, got {got}", field=field)
    shown = ascii(key[:60]) + ("..." if len(key) > 60 else "")
    if len(key) > MAX_KEY_LENGTH:
        raise InputError(f"{prefix}key {shown} is longer than {MAX_KEY_LENGTH} characters "
                         f"({len(key)})", field=field)
    if not syntax.fullmatch(key):
        raise InputError(f"{prefix}{shown} is not {kind} (like {example}: {syntax.pattern}, "
                         f"at most {MAX_KEY_LENGTH} characters)", field=field)
    return TicketKey(key)


def check_label(label: object, *, what: str, field: str) -> str:
    """Return ``label`` if Jira would accept it, else raise :class:`InputError`."""
    if not isinstance(label, str):
        raise InputError(f"{what}: label must be a string, got {type_name(label)}", field=field)
    if not label:
        raise InputError(f"{what}: label is empty", field=field)
    if any(ch.isspace() for ch in label):
        raise InputError(f"{what}: label {label[:80]!r} contains whitespace", field=field)
    if len(label.encode("utf-16-le")) // 2 > MAX_LABEL_LENGTH:
        raise InputError(
            f"{what}: label {label[:40]!r}... is longer than {MAX_LABEL_LENGTH} characters",
            field=field,
        )
    return label


def check_labels(labels: object, *, what: str, field: str = "labels") -> tuple[str, ...]:
    """Validate a list of labels (``None`` is no labels); errors name ``labels[i]``."""
    if labels is None:
        return ()
    if not isinstance(labels, list | tuple):
        raise InputError(f"{what}: labels must be a list, got {type_name(labels)}", field=field)
    return tuple(
        check_label(label, what=what, field=f"{field}[{i}]") for i, label in enumerate(labels)
    )


def cap_text(text: str, *, what: str) -> str:
    """Keep at most :data:`MAX_TEXT_CHARS` characters, marking the cut so nobody is misled.

    The marker counts towards the limit, so a capped text passes unchanged next time.
    """
    if len(text) <= MAX_TEXT_CHARS:
        return text
    keep = MAX_TEXT_CHARS
    for _ in range(3):  # the marker's length depends on the count it prints; settle both
        marker = TRUNCATION_MARKER.format(omitted=len(text) - keep)
        keep = MAX_TEXT_CHARS - len(marker)
    marker = TRUNCATION_MARKER.format(omitted=len(text) - keep)
    logger.warning("%s: text of %d characters truncated to %d", what, len(text), MAX_TEXT_CHARS)
    return text[:keep] + marker


# -- limits on what is stored (m1) ---------------------------------------------------------
#: Longest ticket key (a key is an identifier: a longer one is refused, never cut).
MAX_KEY_CHARS = 255
#: Titles are cut to this many characters with :data:`TITLE_MARKER` (a 20 MB title was copied
#: into every daily report); the full text belongs in the description.
MAX_TITLE_CHARS = 1_000
TITLE_MARKER = " [vulnmark: title truncated, {omitted} more characters not stored]"
#: Names (reporter, comment and label-change authors, status, resolution, priority, issue
#: type) are cut to this many characters, ending with "…".
MAX_NAME_CHARS = 255
#: The ``source`` of a ticket (a system name).
MAX_SOURCE_CHARS = 64
#: Longer URLs are not stored (a cut URL would point somewhere else).
MAX_URL_CHARS = 2_048
#: Most labels on one ticket (a longer list is refused).
MAX_LABELS = 1_000
#: Largest import file read (vulnmark reads a file whole before writing any of it).
MAX_IMPORT_FILE_BYTES = 512 * 1024 * 1024

_MARKER = re.compile(r"\[vulnmark: (?:text|title) truncated, (\d+) more characters not stored\]$")


def cap_ticket(t: Ticket) -> Ticket:
    """``t`` within the stored limits: key and label count checked (:class:`InputError`),
    title and names cut with a visible marker, an over-long URL left out; each cut is logged
    as a warning, and :func:`truncated_fields` finds them again."""
    if len(t.key) > MAX_KEY_CHARS:
        raise InputError(f"key {t.key[:40]!r}... is longer than {MAX_KEY_CHARS} characters",
                         field="key")
    if len(t.labels) > MAX_LABELS:
        raise InputError(f"{t.key}: {len(t.labels)} labels, at most {MAX_LABELS}",
                         field="labels")
    changes: dict[str, object] = {}
    if len(t.title) > MAX_TITLE_CHARS:
        changes["title"] = _cut(t.title, MAX_TITLE_CHARS, TITLE_MARKER, f"{t.key} title")
    for name in ("reporter", "status", "resolution", "priority", "issue_type", "source",
                 "reporter_id", "assignee", "assignee_id"):
        value = getattr(t, name)
        limit = MAX_SOURCE_CHARS if name == "source" else MAX_NAME_CHARS
        if value is not None and len(value) > limit:
            logger.warning("%s: %s of %d characters cut to %d", t.key, name, len(value), limit)
            changes[name] = value[:limit - 1] + "…"
    if t.url is not None and len(t.url) > MAX_URL_CHARS:
        logger.warning("%s: url of %d characters not stored (at most %d)", t.key, len(t.url),
                       MAX_URL_CHARS)
        changes["url"] = None
    if any(c.author and len(c.author) > MAX_NAME_CHARS for c in t.comments):
        changes["comments"] = tuple(
            replace(c, author=_name(c.author)) for c in t.comments)
    if any(h.author and len(h.author) > MAX_NAME_CHARS for h in t.label_history):
        changes["label_history"] = tuple(
            replace(h, author=_name(h.author)) for h in t.label_history)
    return replace(t, **changes) if changes else t  # type: ignore[arg-type]


def _name(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_NAME_CHARS:
        return value
    return value[:MAX_NAME_CHARS - 1] + "…"


def _cut(text: str, limit: int, template: str, what: str) -> str:
    keep = limit
    for _ in range(3):  # the marker's length depends on the count it prints; settle both
        keep = limit - len(template.format(omitted=len(text) - keep))
    logger.warning("%s of %d characters truncated to %d", what, len(text), limit)
    return text[:keep] + template.format(omitted=len(text) - keep)


def truncated_fields(t: Ticket) -> list[str]:
    """Where ``t`` holds text cut at import (``title``, ``description``, ``comments[2]``)."""
    found = [name for name, text in (("title", t.title), ("description", t.description))
             if _MARKER.search(text)]
    found += [f"comments[{i}]" for i, c in enumerate(t.comments) if _MARKER.search(c.body)]
    return found


#: An address vulnmark may mail: a local part, one "@" and an ASCII domain; no whitespace,
#: control characters, quotes, brackets, commas or semicolons, so an address taken from ticket
#: data is one recipient and never a header or a second recipient.
_EMAIL = re.compile(r"[^\s\x00-\x1f\x7f@<>,;:\"()\[\]\\]{1,64}"
                    r"@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
MAX_EMAIL_CHARS = 254


def check_email(value: object, *, what: str, field: str, strict: bool = True) -> str | None:
    """A plain email address, or None when absent (Jira hides ``emailAddress`` by privacy
    setting: it is then missing or empty). A value that is not a plain address raises
    :class:`InputError`, or with ``strict=False`` is logged and left out (the ticket is kept)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= MAX_EMAIL_CHARS and _EMAIL.fullmatch(value):
        return value
    shown = repr(value)[:60] if isinstance(value, str) else type_name(value)
    message = (f"{what}: {field} is not" if what else "not") + f" a plain email address ({shown})"
    if strict:
        raise InputError(message, field=field)
    logger.warning("%s; not kept", message)
    return None


def type_name(value: object) -> str:
    """How an input value's type is named in error messages (JSON's ``null`` for None)."""
    return "null" if value is None else type(value).__name__
