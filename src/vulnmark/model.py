"""Domain records: tickets, comments, label history, findings, outcomes and runs.

All records are frozen dataclasses; times are timezone-aware and in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NewType, TypeVar, get_args

from vulnmark._time import iso, parse

TicketKey = NewType("TicketKey", str)

FindingKind = Literal[
    "unclassified",
    "conflicting",
    "unmarked",
    "suspected",
    "noncanonical",
    "mismatch",
    "bad_date",
    "due_soon",
    "overdue",
    "late",
    "no_outcome",
    "source_diverged",
    "assessment_due_soon",
    "assessment_overdue",
]
#: The finding kinds, exact strings of the public contract (DESIGN.md), in report order.
FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)

#: Fields an evidence snippet can come from.
EvidenceField = Literal["title", "description", "comment", "label"]

R = TypeVar("R")


def filled(cls: type[R], **fields: Any) -> R:
    """A record of ``cls`` with every field given, built without its ``__init__``.

    For the paths that build records by the million (pages of tickets, cached findings): a
    frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which costs
    more than reading the row. The records here have no ``__post_init__``; callers pass every
    field (tests compare the result with the constructor's)."""
    record = object.__new__(cls)
    record.__dict__.update(fields)
    return record


def replaced(record: R, **changes: Any) -> R:
    """``dataclasses.replace`` for records built on hot paths (same result, no ``__init__``)."""
    fields = record.__dict__
    unknown = changes.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {', '.join(sorted(unknown))}")
    return filled(type(record), **{**fields, **changes})


OUTCOME_KINDS: tuple[str, ...] = ("remediated", "mitigation_plan", "no_remediation")
NO_REMEDIATION_REASONS: tuple[str, ...] = (
    "disagree_with_rating",
    "false_positive",
    "compensating_controls",
    "other",
)


@dataclass(frozen=True)
class Comment:
    """One comment of a ticket, in the order the source returned them."""

    body: str
    author: str | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class LabelChange:
    """Labels added and removed on a ticket at one moment (from the changelog or the tracker)."""

    at: datetime
    author: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ticket:
    """An issue from a source (the embedded store, a Jira site, an import file)."""

    key: TicketKey
    title: str
    created: datetime
    description: str = ""
    labels: tuple[str, ...] = ()
    status: str = "Open"
    resolved: datetime | None = None
    resolution: str | None = None
    updated: datetime | None = None
    reporter: str | None = None
    url: str | None = None
    priority: str | None = None
    issue_type: str | None = None
    source: str = "embedded"
    discovered: datetime | None = None
    comments: tuple[Comment, ...] = ()
    label_history: tuple[LabelChange, ...] = ()
    reporter_id: str | None = None
    """The reporter's account id (Jira Cloud ``accountId``, Data Center user ``name``)."""
    reporter_email: str | None = None
    """The reporter's address where the source shows it (Jira ``emailAddress``)."""
    assignee: str | None = None
    """Who the ticket is assigned to: display name (Jira ``fields.assignee``)."""
    assignee_id: str | None = None
    assignee_email: str | None = None

    @property
    def state(self) -> Literal["open", "resolved"]:
        return "resolved" if self.resolved is not None else "open"

    @property
    def discovered_at(self) -> datetime:
        """When the deadline clock starts: the configured discovery time, else creation."""
        return self.discovered or self.created


@dataclass(frozen=True)
class Evidence:
    """A snippet of ticket text that supports a finding or a suggestion."""

    field: EvidenceField
    text: str
    index: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "index": self.index, "text": self.text}


@dataclass(frozen=True)
class Reading:
    """What the text of a ticket says: a stated class and signs that it is a vulnerability.

    ``suggested`` is a canonical severity name (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIVE)
    or None when the text states none: inference abstains rather than guesses.
    """

    suggested: str | None = None
    confidence: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    signals: tuple[Evidence, ...] = ()

    @property
    def is_suspect(self) -> bool:
        return bool(self.signals)


@dataclass(frozen=True)
class Finding:
    """One rule violated by one ticket."""

    ticket: TicketKey
    kind: FindingKind
    title: str
    url: str | None = None
    labels: tuple[str, ...] = ()
    classification: str | None = None
    suggested: str | None = None
    confidence: float | None = None
    evidence: tuple[Evidence, ...] = ()
    due_at: datetime | None = None
    reporter: str | None = None
    created: datetime | None = None
    detail: str = ""

    def as_dict(self, time: Callable[[datetime | None], str | None] | None = None
                ) -> dict[str, object]:
        """The JSON shape of DESIGN.md (``detail`` and ``created`` are extra, stable keys);
        ``time`` writes the two times (default :func:`vulnmark._time.iso`)."""
        time = time or iso
        return {
            "ticket": self.ticket,
            "kind": self.kind,
            "title": self.title,
            "url": self.url,
            "labels": list(self.labels),
            "classification": self.classification,
            "suggested": self.suggested,
            "confidence": self.confidence,
            "evidence": [e.as_dict() for e in self.evidence],
            "due_at": time(self.due_at),
            "reporter": self.reporter,
            "created": time(self.created),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """The inverse of :meth:`as_dict`."""
        return filled(
            cls,
            ticket=TicketKey(d["ticket"]),
            kind=d["kind"],
            title=d["title"],
            url=d.get("url"),
            labels=tuple(d.get("labels") or ()),
            classification=d.get("classification"),
            suggested=d.get("suggested"),
            confidence=d.get("confidence"),
            evidence=tuple(
                filled(Evidence, field=e["field"], text=e["text"], index=e.get("index"))
                for e in d.get("evidence") or ()
            ),
            due_at=parse(d.get("due_at")),
            reporter=d.get("reporter"),
            created=parse(d.get("created")),
            detail=d.get("detail") or "",
        )


@dataclass(frozen=True)
class Outcome:
    """How a vulnerability was handled (NCSSR v1 4.f and ETSI EN 319 401 REQ-7.9.2-10)."""

    ticket: TicketKey
    kind: Literal["remediated", "mitigation_plan", "no_remediation"]
    recorded_at: datetime
    """When it took effect: the deadline is judged by it."""
    text: str = ""
    reason: str | None = None
    actor: str | None = None
    entered_at: datetime | None = None
    """The wall clock when it was entered (None: inferred, or entered before it was kept)."""
    entered_by: str | None = None
    """The operating-system user who entered it (``actor`` is ``--by`` when given)."""
    why: str | None = None
    """Why it was entered after it took effect (``--effective TIME --why TEXT``)."""

    @property
    def backdated(self) -> bool:
        """Entered with an effective time earlier than the time it was entered."""
        return self.why is not None and self.entered_at is not None \
            and self.entered_at > self.recorded_at


@dataclass(frozen=True)
class Run:
    """One execution of the check or the daily report."""

    id: int
    kind: str
    started_at: datetime
    policy_digest: str
    counts: dict[str, int] = field(default_factory=dict)
    report_digest: str | None = None
    delivery_status: str | None = None
    message_id: str | None = None
    server_reply: str | None = None
    error: str | None = None

