"""The kinds of evidence record: one frozen dataclass per kind, with a stable ``kind`` name and
stable payload keys.

The hash chain covers every record ever written, so a kind's name and its payload keys are
frozen once records exist: a new field is a new key, never a renamed one. A kind's payload is
its fields (a field may be written under another key, ``metadata={"key": …}``; an optional one
may be left out when it is None, ``metadata={"omit": True}``); times are written as the store
keeps them (``2026-11-27T07:00:00.000000Z``).

Write an event with :meth:`vulnmark.store.Store.record`, or inside a transaction with
:func:`vulnmark.store.events.record`: the one writer, in the same transaction as the change.
Read one back with :func:`read`. A new kind is one class here, registered in :data:`KINDS`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, ClassVar

from vulnmark._time import parse, stored
from vulnmark.evidence.chain import Record
from vulnmark.model import Evidence


@dataclass(frozen=True)
class Event:
    """Base of every kind of evidence record."""

    kind: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The record's payload: JSON-safe, under the kind's stable keys."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit"):
                continue
            out[f.metadata.get("key", f.name)] = _to_json(value)
        return out

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Event:
        """The event a stored payload records (keys it does not know are ignored)."""
        hints = _hints(cls)
        values = {}
        for f in fields(cls):
            key = f.metadata.get("key", f.name)
            if key in payload:
                values[f.name] = _from_json(payload[key], hints[f.name])
        return cls(**values)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return stored(value)
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Evidence):
        return value.as_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in fields(value)}
    return value


def _from_json(value: Any, hint: Any) -> Any:
    text = str(hint)
    if value is None:
        return None
    if "datetime" in text and isinstance(value, str):
        return parse(value)
    if "Evidence" in text and isinstance(value, list):
        return tuple(Evidence(e.get("field", "description"), e.get("text", ""), e.get("index"))
                     for e in value if isinstance(e, dict))
    if text.startswith("tuple") and isinstance(value, list):
        return tuple(value)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


@dataclass(frozen=True)
class UpsertEvent(Event):
    """A record written with a batch of tickets: the store adds what the upsert did."""

    inserted: int = field(default=0, kw_only=True)
    updated: int = field(default=0, kw_only=True)
    unchanged: int = field(default=0, kw_only=True)


# -- tickets ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketsImported(UpsertEvent):
    """``vulnmark import`` of one file (or the demo's sample tickets)."""

    kind: ClassVar[str] = "import"
    file: str
    sha256: str | None = field(default=None, metadata={"omit": True})
    tickets: int | None = field(default=None, metadata={"omit": True})
    truncated: tuple[str, ...] | None = field(default=None, metadata={"omit": True})
    """The fields cut to their stored limit (``KEY title``, ``KEY comments[2]``), m1."""


@dataclass(frozen=True)
class TicketCreated(UpsertEvent):
    """A ticket of the embedded tracker created (``vulnmark ticket new``)."""

    kind: ClassVar[str] = "ticket_created"
    ticket: str
    by: str | None


@dataclass(frozen=True)
class TicketRelabelled(TicketCreated):
    """Labels added or removed with ``vulnmark ticket label``/``unlabel``."""

    kind: ClassVar[str] = "ticket_relabelled"
    effective: datetime | None = field(default=None, metadata={"omit": True})
    """When the change took effect, if before it was entered (``--effective TIME``)."""
    why: str | None = field(default=None, metadata={"omit": True})
    """Why it was entered only now (``--why TEXT``, with ``--effective``)."""


@dataclass(frozen=True)
class TicketCommented(TicketCreated):
    kind: ClassVar[str] = "ticket_commented"


@dataclass(frozen=True)
class TicketResolved(TicketCreated):
    kind: ClassVar[str] = "ticket_resolved"


@dataclass(frozen=True)
class Reclassified(UpsertEvent):
    """A ticket's class changed by a person, with the reason (``vulnmark reclassify``)."""

    kind: ClassVar[str] = "reclassification"
    ticket: str
    previous: str | None = field(metadata={"key": "from"})
    new: str = field(metadata={"key": "to"})
    by: str | None
    why: str
    effective: datetime | None = field(default=None, metadata={"omit": True})
    """When the new class took effect, if before it was entered (``--effective TIME``; the
    reason is ``why``)."""


@dataclass(frozen=True)
class LabelChanged(Event):
    """Labels added and removed on one ticket, as vulnmark saw or made the change.

    Version 3 (``v = 3``) is the one shape of every writer: ``observed_at`` is the wall clock
    when vulnmark made or saw the change, ``source_at`` the source's own time of the ticket
    (its ``updated``) for a change seen in a source. Version 2 wrote the source's time as
    ``observed_at``. Records written before version 2 have no ``v`` and one of two shapes: the
    store's (``by``, ``observed_at``, ``via``) and the Jira write-back's (``actor``, ``source``,
    ``site``); :meth:`from_payload` reads them all.
    """

    kind: ClassVar[str] = "label_change"
    ticket: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    by: str | None
    """Who made the change (the import's actor, the Jira user, the person who approved)."""
    via: str
    """Where it was made or seen: a ticket source (``embedded``, ``jira``, ``import`` …)."""
    observed_at: datetime | None = None
    """When vulnmark made or saw the change (the wall clock; before version 3: the ticket's
    update time at its source, or now)."""
    site: str | None = field(default=None, metadata={"omit": True})
    """The Jira site a write-back went to."""
    v: int = 3
    source_at: datetime | None = field(default=None, metadata={"omit": True})
    """The source's own time of the change (the ticket's ``updated`` there), beside
    ``observed_at``: a re-import of an old export is dated when it happened, not in 2010."""

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> LabelChanged:
        if "v" not in payload and "actor" in payload:  # version 1, the Jira write-back
            payload = {**payload, "by": payload.get("actor"), "via": payload.get("source")}
        event = super().from_payload({**payload, "v": payload.get("v", 1)})
        assert isinstance(event, LabelChanged)
        return event


@dataclass(frozen=True)
class LabelOverlayKept(Event):
    """A source showed a ticket without labels vulnmark applied (or with labels it removed):
    they were kept over the source's labels (:mod:`vulnmark.store.overlay`), and the check
    reports ``source_diverged`` until the source shows them or a person takes the source's."""

    kind: ClassVar[str] = "overlay_kept"
    ticket: str
    kept: tuple[str, ...]
    """Labels vulnmark added that the source lacks, kept on the ticket."""
    withheld: tuple[str, ...]
    """Labels vulnmark removed that the source still has, kept off the ticket."""
    via: str
    """The source (``jira``, ``jsonl`` …)."""
    source_at: datetime | None
    """The ticket's ``updated`` time at the source."""


@dataclass(frozen=True)
class LabelOverlayCleared(Event):
    """The source now shows labels vulnmark applied (or removed): nothing is kept over it."""

    kind: ClassVar[str] = "overlay_cleared"
    ticket: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    via: str
    source_at: datetime | None


@dataclass(frozen=True)
class SourceLabelsAccepted(Event):
    """A person took the source's labels over vulnmark's (``vulnmark import
    --accept-source-labels``): the labels vulnmark added are removed, the ones it removed are
    back, and nothing is kept over the source any more."""

    kind: ClassVar[str] = "source_labels_accepted"
    ticket: str
    dropped: tuple[str, ...]
    """Labels vulnmark had added, now removed."""
    restored: tuple[str, ...]
    """Labels vulnmark had removed, now back."""
    by: str


@dataclass(frozen=True)
class TicketsGone(Event):
    """Tickets deleted at their source or moved out of scope (kept in the store)."""

    kind: ClassVar[str] = "tickets_gone"
    tickets: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class JiraSynced(Event):
    """A completed ``vulnmark sync``."""

    kind: ClassVar[str] = "jira_sync"
    site: str
    scope: str
    flavour: str
    full: bool
    resumed: bool
    since: str | None
    issues: int
    inserted: int
    updated: int
    unchanged: int
    gone: int
    requests: int


@dataclass(frozen=True)
class BackfillApplied(Event):
    """Labels ``vulnmark backfill`` added, with the evidence that justified them."""

    kind: ClassVar[str] = "backfill"
    ticket: str
    added: tuple[str, ...]
    by: str
    finding: str = field(metadata={"key": "kind"})
    """The finding kind the proposal answered."""
    confidence: float
    evidence: tuple[Evidence, ...]
    reviewed: str | None
    """The review file and row a person accepted it in (None: above the threshold)."""
    via: str | None = field(default=None, metadata={"omit": True})
    """``jira`` when written back to Jira."""


# -- dismissals, alerts and reminders ----------------------------------------------------------

@dataclass(frozen=True)
class FindingDismissed(Event):
    """A person decided a finding needs no action (``vulnmark dismiss``)."""

    kind: ClassVar[str] = "dismissal"
    ticket: str
    finding: str = field(metadata={"key": "kind"})
    reason: str
    why: str
    by: str
    until: datetime | None
    fingerprint: str
    """SHA-256 of the ticket's text and labels when dismissed: a material change lifts it."""


@dataclass(frozen=True)
class DismissalEnded(Event):
    """A dismissal that no longer applies: undismissed by a person, or lifted because the
    ticket's text or labels changed."""

    kind: ClassVar[str] = "dismissal_end"
    ticket: str
    finding: str = field(metadata={"key": "kind"})
    why: str
    by: str | None


@dataclass(frozen=True)
class NoticeSent(Event):
    """An alert (``vulnmark watch``) or a reminder to a ticket's author, accepted by the mail
    server: which tickets, why, to whom."""

    kind: ClassVar[str] = "notice"
    channel: str
    tickets: tuple[str, ...]
    reasons: tuple[str, ...]
    recipients: tuple[str, ...]
    message_id: str
    copied: tuple[str, ...] = ()


# -- outcomes and policy -----------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeRecorded(Event):
    """How a vulnerability was handled (``vulnmark outcome``)."""

    kind: ClassVar[str] = "outcome"
    ticket: str
    outcome: str = field(metadata={"key": "kind"})
    reason: str | None
    text: str
    by: str | None
    recorded_at: datetime
    """When it took effect (the record's own time is when it was entered)."""
    why: str | None = field(default=None, metadata={"omit": True})
    """Why it was entered after it took effect (``--effective TIME --why TEXT``)."""


@dataclass(frozen=True)
class PolicyChanged(Event):
    """A policy not seen before, in force from the record's time."""

    kind: ClassVar[str] = "policy_change"
    digest: str
    previous: str | None
    preset: str
    deadlines_hours: dict[str, float | None]
    timezone: str
    due_soon_hours: float


@dataclass(frozen=True)
class PolicyPagePublished(Event):
    """The policy page created or updated on Confluence (``vulnmark policy publish``)."""

    kind: ClassVar[str] = "policy_page"
    site: str
    flavour: str
    space: str | None
    page_id: str
    title: str
    version: int
    """The page's version number after the publication (1 when it was created)."""
    digest: str
    """The digest of the policy the page states."""
    lang: str
    page_sha256: str
    """SHA-256 of the storage-format body sent, with its generation time left out (two
    publications that differ only in when they were made have the same hash)."""


# -- runs and deliveries ---------------------------------------------------------------------

@dataclass(frozen=True)
class RunRecorded(Event):
    """A check, report or sync run (the report's JSON body has ``report_digest``)."""

    kind: ClassVar[str] = "run"
    run: int
    run_kind: str = field(metadata={"key": "kind"})
    policy_digest: str
    counts: dict[str, int]
    report_digest: str | None
    error: str | None = field(default=None, metadata={"omit": True})
    bodies: dict[str, str] | None = field(default=None, metadata={"omit": True})
    """The SHA-256 of each stored report body, by format: an edited body is named."""
    status: str | None = field(default=None, metadata={"omit": True})
    """The run row's delivery status when recorded (``pending``, ``not_sent`` …)."""


@dataclass(frozen=True)
class ReportDelivered(Event):
    """A report the mail server accepted."""

    kind: ClassVar[str] = "delivery"
    run: int
    message_id: str
    server_reply: str
    recipients: tuple[str, ...]
    attempts: int
    sent_at: datetime
    status: str = "delivered"


@dataclass(frozen=True)
class ReportNotDelivered(Event):
    """A report that could not be delivered, and why (same kind as a delivery)."""

    kind: ClassVar[str] = "delivery"
    run: int
    error: str | None
    attempts: int
    status: str = "failed"


@dataclass(frozen=True)
class PackExported(Event):
    """An auditor's evidence pack written (``vulnmark evidence export``)."""

    kind: ClassVar[str] = "evidence_export"
    since: str = field(metadata={"key": "from"})
    until: str = field(metadata={"key": "to"})
    output: str
    files: int
    manifest_sha256: str
    head: str
    signed_by: str | None = field(default=None, metadata={"omit": True})
    """The signing key's id (SHA-256 of the raw Ed25519 public key); None: unsigned."""


@dataclass(frozen=True)
class HeadTimestamped(Event):
    """A chain head time-stamped by an RFC 3161 Time-Stamp Authority (``evidence.tsa_url``):
    record ``seq`` (hash ``head``) existed at the TSA's ``gen_time``, and every record after
    this one was written after it. ``token`` is the DER TimeStampToken, base64; ``evidence
    verify --tsa-cert`` proves it (:mod:`vulnmark.evidence.stamps`)."""

    kind: ClassVar[str] = "timestamp"
    seq: int
    head: str
    tsa: str
    token: str
    gen_time: str
    """The TSA's time as the token says (verify reads it from the token itself)."""
    run: int | None = field(default=None, metadata={"omit": True})
    """The report run whose head it is."""


@dataclass(frozen=True)
class TimestampFailed(Event):
    """A head that could not be time-stamped (the TSA unreachable, refused, or a bad reply):
    the run went on; the report's control health and ``evidence verify`` show it."""

    kind: ClassVar[str] = "timestamp_failure"
    seq: int
    head: str
    tsa: str
    error: str
    run: int | None = field(default=None, metadata={"omit": True})


@dataclass(frozen=True)
class IncidentChanged(Event):
    """An incident created or changed, an action item added or changed, a report or update
    recorded or posted (``vulnmark incident …``). ``effective`` and ``why`` say when a backdated
    change took effect and why it was entered late; ``detail`` holds the new values."""

    kind: ClassVar[str] = "incident"
    incident: int
    change: str
    detail: dict[str, Any]
    by: str | None = None
    effective: str | None = field(default=None, metadata={"omit": True})
    why: str | None = field(default=None, metadata={"omit": True})


# -- threat intake ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IntakeOpened(UpsertEvent):
    """A published vulnerability that matched the watchlist opened a ticket with its original
    classification (``vulnmark intake run``)."""

    kind: ClassVar[str] = "intake_opened"
    ticket: str
    record: str
    """The publication's id (the CVE where it has one)."""
    aliases: tuple[str, ...]
    feed: str
    cls: str | None = field(metadata={"key": "class"})
    basis: str
    """How the original class was reached (whose rating, which CVSS version, KEV)."""
    matched: str
    owner: str | None
    by: str


@dataclass(frozen=True)
class IntakeUpdated(Event):
    """A later publication of an intake ticket's vulnerability changed what it says: a new
    rating, KEV membership, a rejection. The label is not changed: a class change is a
    proposal."""

    kind: ClassVar[str] = "intake_update"
    ticket: str
    record: str
    feed: str
    changes: tuple[str, ...]
    previous: str | None = field(metadata={"key": "from"})
    published: str | None = field(metadata={"key": "to"})
    proposed: str | None
    rejected: bool
    by: str


@dataclass(frozen=True)
class IntakeAssessed(Event):
    """The impact of an intake ticket's vulnerability was assessed (``vulnmark assess``)."""

    kind: ClassVar[str] = "assessment"
    ticket: str
    record: str
    verdict: str
    """``affected``, ``not_affected`` or ``reclassified``."""
    cls: str | None = field(metadata={"key": "class"})
    """The ticket's class after the assessment."""
    previous: str | None = field(metadata={"key": "from"})
    reason: str | None
    basis: str
    by: str
    due_at: datetime | None
    late: bool


#: Every kind, by its stored name (``delivery`` has two shapes, told apart by ``status``).
KINDS: dict[str, type[Event]] = {
    k.kind: k for k in (TicketsImported, TicketCreated, TicketRelabelled, TicketCommented,
                        TicketResolved, Reclassified, LabelChanged, LabelOverlayKept,
                        LabelOverlayCleared, SourceLabelsAccepted, TicketsGone, JiraSynced,
                        BackfillApplied, OutcomeRecorded, PolicyChanged, PolicyPagePublished,
                        RunRecorded, ReportDelivered, PackExported, FindingDismissed,
                        DismissalEnded, NoticeSent, IncidentChanged, HeadTimestamped,
                        TimestampFailed,
                        IntakeOpened, IntakeUpdated, IntakeAssessed)}


def read(record: Record) -> Event | None:
    """The typed event of a stored record (None for a kind this version does not know)."""
    cls = KINDS.get(record.kind)
    if cls is ReportDelivered and record.payload.get("status") == "failed":
        cls = ReportNotDelivered
    if cls is None:
        return None
    try:
        return cls.from_payload(record.payload)
    except TypeError:  # a payload without the kind's keys: not a record this version wrote
        return None
