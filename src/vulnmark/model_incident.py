"""Incident records: a CCADB incident (or audit incident), its action items with their history,
its audit findings, timeline and the reports and updates posted about it.

Frozen dataclasses like :mod:`vulnmark.model`; days are :class:`datetime.date` (the guidelines
count action items, updates and deadlines in days), instants are aware UTC datetimes. The store
(:mod:`vulnmark.store.incidents`) keeps them; :mod:`vulnmark.incident` works on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NewType

IncidentId = NewType("IncidentId", int)

#: ``Source of incident disclosure`` (IRG 3.2 §Summary), verbatim.
SOURCES: tuple[str, ...] = ("Self Reported", "Third Party Reported", "Audit")
#: Severity of an audit finding: ETSI non-conformities and WebTrust findings (IRG 3.2).
FINDING_SEVERITIES: tuple[str, ...] = ("major", "minor", "qualification", "other matter")
#: Lessons Learned headings of the Full report (IRG 3.2), by the key the CLI takes.
LESSON_KINDS: dict[str, str] = {
    "went-well": "What went well",
    "went-badly": "What didn't go well",
    "lucky": "Where we got lucky",
    "other": "Additional",
}
#: What a post is: the first report, a status update, the closure report.
POST_KINDS: tuple[str, ...] = ("report", "update", "closure")


@dataclass(frozen=True)
class ItemChange:
    """One state of an action item, in force from ``effective`` (its creation is the first)."""

    effective: date
    """The day the change took effect (earlier than ``recorded_at`` when backdated)."""
    status: str
    due: date
    note: str = ""
    """What happened, as the status update's paragraph for this item says it."""
    recorded_at: datetime | None = None
    why: str | None = None
    """Why it was entered after the fact (a backdated change), else None."""
    by: str | None = None


@dataclass(frozen=True)
class ActionItem:
    """An action item of an incident; ``history`` is never empty, oldest first."""

    number: int
    """1-based, in the order the items were added."""
    title: str
    kind: str
    history: tuple[ItemChange, ...]
    root_causes: str = ""
    criteria: str = ""
    """Evaluation criteria (IRG 3.x)."""
    control: str | None = None
    """A vulnmark control whose evidence proves the item (``daily-report``)."""

    @property
    def added(self) -> date:
        return self.history[0].effective

    def at(self, day: date) -> ItemChange | None:
        """The item's state at the end of ``day`` (None: not added yet)."""
        found = None
        for change in self.history:
            if change.effective <= day:
                found = change
        return found

    def changes_between(self, after: date | None, until: date) -> tuple[ItemChange, ...]:
        """The changes that took effect in ``(after, until]`` (all up to ``until`` without
        ``after``)."""
        return tuple(c for c in self.history
                     if c.effective <= until and (after is None or c.effective > after))


@dataclass(frozen=True)
class AuditFinding:
    """A finding of an audit (an ETSI non-conformity, a WebTrust qualification)."""

    number: int
    standard: str
    """e.g. ``ETSI EN 319 401``."""
    clause: str
    """e.g. ``7.9 REQ-7.9-10``."""
    text: str
    severity: str
    audit_start: date
    audit_end: date
    """The on-site audit's first and last day."""
    found: date | None = None
    """The day the finding was made (the CA became aware of it)."""
    period_end: date | None = None
    """The end of the audit period (default: the end of the on-site audit)."""
    attestation: date | None = None
    """The date of the attestation letter / audit statement."""
    fulfilment_sent: date | None = None
    """The day the non-conformity fulfilment report was sent."""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    """UTC, minute granularity."""
    text: str


@dataclass(frozen=True)
class ContributingFactor:
    """A ``Contributing Factor #n`` block of the Root Cause Analysis (IRG 3.2)."""

    title: str
    description: str = ""
    timeline: str = ""
    detection: str = ""
    interaction: str = ""
    methodology: str = ""


@dataclass(frozen=True)
class Lesson:
    kind: str
    """A key of :data:`LESSON_KINDS`."""
    text: str


@dataclass(frozen=True)
class RelatedIncident:
    bug: str
    day: date
    description: str


@dataclass(frozen=True)
class Post:
    """A report or status update posted (in Bugzilla, by hand or by ``--post``)."""

    number: int
    kind: str
    """One of :data:`POST_KINDS`."""
    day: date
    template: str
    sha256: str
    """Of the rendered Markdown that was posted."""
    next_update: date | None = None
    """The "Next update" date the post asked for (the bug's whiteboard)."""
    comment_id: int | None = None
    """Bugzilla's id of the comment, when vulnmark posted it."""
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Incident:
    id: IncidentId
    title: str
    ca_owner: str
    source: str
    opened: date
    """The day the incident was opened in vulnmark (or, backdated, in Bugzilla)."""
    ccadb_id: str | None = None
    aware_at: datetime | None = None
    bug: int | None = None
    policies: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    """Narrative fields of the reports, by key (:data:`vulnmark.incident.templates.FIELDS`)."""
    actions: tuple[ActionItem, ...] = ()
    findings: tuple[AuditFinding, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    factors: tuple[ContributingFactor, ...] = ()
    lessons: tuple[Lesson, ...] = ()
    related: tuple[RelatedIncident, ...] = ()
    posts: tuple[Post, ...] = ()

    def action(self, ref: str) -> ActionItem | None:
        """The item numbered ``ref``, else the one titled ``ref`` (case-insensitive)."""
        for a in self.actions:
            if ref.isdigit() and a.number == int(ref):
                return a
        folded = ref.strip().casefold()
        return next((a for a in self.actions if a.title.casefold() == folded), None)

    def posts_before(self, day: date) -> tuple[Post, ...]:
        return tuple(p for p in self.posts if p.day < day)

    def last_post(self, until: date) -> Post | None:
        """The latest post on or before ``until``."""
        found = [p for p in self.posts if p.day <= until]
        return max(found, key=lambda p: (p.day, p.number)) if found else None
