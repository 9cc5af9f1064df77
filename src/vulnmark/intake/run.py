"""``vulnmark intake run``: publications that concern us become classified tickets, once.

Everything is read and matched first (a bad record stops the run before anything is written);
then each matching publication is one transaction: the ticket with the vulnerability label
and the class label of its original classification, the match reason as its first comment,
the intake record and the evidence, together. The same vulnerability (by CVE, GHSA, OSV id
and every alias) opens one ticket however many feeds and runs bring it; concurrent runs take
turns (:func:`vulnmark.store.intake.lock`) and a run stopped half-way resumes without
duplicates. A later change of the publication (a new score, KEV, a rejection) becomes a
comment and, where the class changes, a proposal: the label changes only by a person
(``vulnmark assess KEY --reclassify CLASS --why …``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from vulnmark.config.intake import IntakeSettings
from vulnmark.config.load import Config
from vulnmark.config.policy import add_hours
from vulnmark.errors import IntakeError
from vulnmark.evidence.events import IntakeOpened, IntakeUpdated
from vulnmark.intake.classify import Original, original
from vulnmark.intake.feeds import FEEDS, Advisory, KevEntry, Rating
from vulnmark.intake.ticket import body, clip, title, url
from vulnmark.intake.watchlist import Match, matches
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey
from vulnmark.store import Connection, Store, events
from vulnmark.store import intake as records
from vulnmark.store import tickets as store_tickets
from vulnmark.store.intake import IntakeRecord

logger = logging.getLogger(__name__)

ACTOR = "vulnmark-intake"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class IntakeOptions:
    dry_run: bool = False
    since: datetime | None = None
    """Only publications modified (else published) at or after this time."""
    actor: str = ACTOR


@dataclass(frozen=True)
class Planned:
    advisory: Advisory
    matched: tuple[Match, ...]


@dataclass(frozen=True)
class Opening:
    """A ticket to open for a publication."""

    advisory: Advisory
    original: Original
    primary: str
    """The record's id: the CVE where it has one."""
    labels: tuple[str, ...]
    owner: str | None
    reason: str
    """Why the watchlist matched."""
    due: datetime | None

    @property
    def comment(self) -> str:
        return f"Opened by threat intake: the watchlist matched ({self.reason})."


@dataclass(frozen=True)
class Change:
    """What a later publication changes of an open record."""

    record: IntakeRecord
    new: IntakeRecord
    feed: str
    changes: tuple[str, ...]
    """Each worth a comment (empty: new ratings, the same class)."""
    cls: str | None
    proposed: str | None
    rejected: bool

    @property
    def comment(self) -> str:
        return clip(f"Threat intake ({self.feed}): " + "; ".join(self.changes) + ".")


@dataclass
class IntakeResult:
    feed: str
    read: int = 0
    matched: int = 0
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    """Matching publications that opened nothing, with why (rejected, unrated and skip)."""
    proposals: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """What was (or, dry, would be) done, one line each."""


def settings_of(config: Config) -> IntakeSettings:
    if config.intake is None:
        raise IntakeError("no [intake] table in the configuration: add a watchlist "
                          "(vendors, products, cpe_prefixes, packages or keywords) first")
    return config.intake


def read_feed(feed: str, path: Path) -> Iterator[Advisory]:
    if feed not in FEEDS:
        raise IntakeError(f"unknown feed {feed!r}; choose {', '.join(FEEDS)}")
    return FEEDS[feed]().read(path)


def plan(advisories: Iterable[Advisory], settings: IntakeSettings,
         options: IntakeOptions, result: IntakeResult, known: frozenset[str] = frozenset()
         ) -> tuple[list[Planned], list[Advisory]]:
    """The matching publications (all records read first), those of a vulnerability already
    opened (``known`` ids: any feed's news of it counts), and the KEV entries seen."""
    out: list[Planned] = []
    kev: list[Advisory] = []
    for a in advisories:
        result.read += 1
        if a.kev is not None and a.feed == "kev":
            kev.append(a)
        when = a.modified or a.published
        if options.since is not None and when is not None and when < options.since:
            continue
        found = matches(a, settings.watch)
        if found or not known.isdisjoint(a.ids):
            out.append(Planned(a, tuple(found)))
    result.matched = len(out)
    return out, kev


class Writer(Protocol):
    """Where the tickets go when not to the embedded tracker (:mod:`.jira`)."""

    def run(self, planned: list[Planned], kev: dict[str, tuple[str, str | None]],
            now: datetime, result: IntakeResult) -> None: ...


class Intake:
    """Opens and updates the tickets of matching publications."""

    def __init__(self, store: Store, config: Config, options: IntakeOptions = IntakeOptions()
                 ) -> None:
        self.store = store
        self.config = config
        self.settings = settings_of(config)
        self.options = options
        self.writer: Writer | None = None
        """Set by :func:`vulnmark.intake.jira.attach` for ``intake.jira_project``."""

    def run(self, advisories: Iterable[Advisory], *, feed: str, now: datetime) -> IntakeResult:
        result = IntakeResult(feed)
        with self.store.reading() as conn:
            known = records.known_ids(conn)
        planned, kev_entries = plan(advisories, self.settings, self.options, result, known)
        if kev_entries and not self.options.dry_run:
            with self.store.transaction() as conn:
                records.lock(conn)
                records.replace_kev(conn, ((a.id, a.kev.date_added.isoformat(),
                                            a.kev.due_date.isoformat() if a.kev.due_date
                                            else None) for a in kev_entries if a.kev))
        with self.store.reading() as conn:
            kev = records.kev(conn)
        kev.update({a.id: (a.kev.date_added.isoformat(),
                           a.kev.due_date.isoformat() if a.kev.due_date else None)
                    for a in kev_entries if a.kev})
        if self.writer is not None and not self.options.dry_run:
            self.writer.run(planned, kev, now, result)
            return result
        for p in planned:
            if self.options.dry_run:
                with self.store.reading() as conn:
                    self._one(conn, p, kev, now, result)
            else:
                with self.store.transaction() as conn:
                    records.lock(conn)
                    self._one(conn, p, kev, now, result)
        return result

    # -- one publication ------------------------------------------------------------------

    def _one(self, conn: Connection, p: Planned, kev: dict[str, tuple[str, str | None]],
             now: datetime, result: IntakeResult) -> None:
        action = self.decide(conn, p, kev, now, result)
        if isinstance(action, Opening):
            self.write_open(conn, action, TicketKey(records.next_key(
                conn, self.config.tracker.prefix)), now, result)
        elif isinstance(action, Change):
            self.write_change(conn, action, now, result)

    def decide(self, conn: Connection, p: Planned, kev: dict[str, tuple[str, str | None]],
               now: datetime, result: IntakeResult) -> Opening | Change | None:
        """What the publication asks for: a ticket to open, a change to record, or nothing
        (unchanged, skipped, or, dry, only said)."""
        a = _with_kev(p.advisory, kev)
        existing = records.find(conn, a.ids)
        if existing is None:
            return self._open(a, p.matched, now, result)
        return self._update(conn, existing, a, result)

    def _open(self, a: Advisory, matched: tuple[Match, ...], now: datetime,
              result: IntakeResult) -> Opening | None:
        policy = self.config.policy
        if a.rejected:
            result.skipped.append(f"{a.id}: rejected at the source; no ticket opened")
            return None
        o = original(a, policy, self.settings)
        if o.rating is None and self.settings.unrated == "skip":
            result.skipped.append(f"{a.id}: no rating and intake.unrated = skip")
            return None
        labels = [policy.vulnerability_label, *([o.cls] if o.cls else [])]
        for m in matched:
            labels += [label for label in m.entry.labels if label not in labels]
        owner = next((m.entry.owner for m in matched if m.entry.owner), None)
        reason = "; ".join(f"{m.entry.name}: {', '.join(m.reasons)}" for m in matched)
        primary = a.cve or a.id
        op = Opening(a, o, primary, tuple(labels), owner, reason, self._due(a, o, now))
        if self.options.dry_run:
            result.opened.append(primary)
            where = f" in Jira {self.settings.jira_project}" if self.settings.jira_project \
                else ""
            result.lines.append(f"would open {primary}{where}: {o.cls or 'unclassified'} "
                                f"({o.basis}); matched {reason}")
            return None
        return op

    def ticket_of(self, op: Opening, key: TicketKey, now: datetime, **kw: Any) -> Ticket:
        """The ticket ``op`` opens (in Jira: its local copy, until ``sync`` reads it)."""
        actor = self.options.actor
        return replace(Ticket(
            key=key, title=title(op.primary, op.advisory), created=now, updated=now,
            description=body(op.advisory, op.original, op.due, op.owner, now),
            labels=op.labels, reporter=actor, url=url(op.advisory),
            comments=(Comment(op.comment, actor, now),),
            label_history=(LabelChange(now, actor, op.labels, ()),), assignee=op.owner,
            assignee_email=op.owner if op.owner and _EMAIL.fullmatch(op.owner) else None),
            **kw)

    def write_open(self, conn: Connection, op: Opening, key: TicketKey, now: datetime,
                   result: IntakeResult, ticket: Ticket | None = None) -> None:
        """Store the opened ticket (``ticket``: the local copy of a Jira issue), its intake
        record and the evidence, in the caller's transaction."""
        a, o, actor = op.advisory, op.original, self.options.actor
        rec = IntakeRecord(
            id=op.primary, ticket=key, feed=a.feed,
            aliases=tuple(i for i in a.ids if i != op.primary), published_class=o.cls,
            basis=o.basis, ratings=_ratings_json(a.ratings), digest=_digest(a, o),
            first_seen_at=now, published_at=a.published, modified_at=a.modified,
            assess_due_at=op.due,
            kev_due=a.kev.due_date.isoformat() if a.kev and a.kev.due_date else None,
            rejected=False, owner=op.owner)
        store_tickets.save(conn, [ticket or self.ticket_of(op, key, now)], at=now, actor=actor,
                           event=IntakeOpened(key, op.primary, rec.aliases, a.feed, o.cls,
                                              o.basis, op.reason, op.owner, actor))
        records.insert(conn, rec)
        result.opened.append(key)
        result.lines.append(f"opened {key} for {op.primary}: {o.cls or 'unclassified'} "
                            f"({o.basis})")

    def _update(self, conn: Connection, r: IntakeRecord, a: Advisory,
                result: IntakeResult) -> Change | None:
        merged = _merge(r.ratings, a.ratings)
        whole = replace(a, ratings=merged)
        o = original(whole, self.config.policy, self.settings)
        rejected = r.rejected or a.rejected
        digest = _digest(replace(whole, rejected=rejected), o)
        if digest == r.digest:
            result.unchanged += 1
            return None
        changes: list[str] = []
        proposed = r.proposed_class
        if o.cls != r.published_class:
            changes.append(f"the publication's class is now {o.cls or 'unrated'} (was "
                           f"{r.published_class or 'unrated'}): {o.basis}")
            ticket = store_tickets.get(conn, r.ticket, history=False)
            current = None if ticket is None else next(
                (m.canonical for label in ticket.labels
                 if (m := self.config.policy.match_label(label)) and m.role == "class"), None)
            proposed = o.cls if o.cls is not None and o.cls != current else None
            if proposed:
                changes.append(f"proposed reclassification to {proposed}: vulnmark assess "
                               f"{r.ticket} --reclassify {proposed} --why TEXT")
        kev_due = r.kev_due
        due = r.assess_due_at
        if a.kev is not None and r.kev_due is None and a.kev.due_date is not None:
            kev_due = a.kev.due_date.isoformat()
            changes.append(f"added to the CISA KEV catalog on {a.kev.date_added}, due "
                           f"{kev_due}: {a.kev.required_action}".rstrip(": "))
            if r.assessed_at is None:
                end = _end_of(a.kev.due_date)
                due = end if due is None else min(due, end)
        if a.rejected and not r.rejected:
            changes.append("the CVE was rejected at the source; the ticket stays open until "
                           f"it is assessed (vulnmark assess {r.ticket} --not-affected "
                           "--basis TEXT)")
        new = replace(r, published_class=o.cls, basis=o.basis, ratings=_ratings_json(merged),
                      digest=digest, modified_at=a.modified or r.modified_at, kev_due=kev_due,
                      assess_due_at=due, rejected=rejected, proposed_class=proposed,
                      aliases=tuple(dict.fromkeys((*r.aliases, *(i for i in a.ids
                                                                  if i != r.id)))))
        if self.options.dry_run:
            result.updated.append(r.ticket)
            result.lines.append(f"would update {r.ticket} ({r.id}): " + "; ".join(changes or
                                ["new ratings, same class"]))
            return None
        return Change(r, new, a.feed, tuple(changes), o.cls, proposed, rejected)

    def write_change(self, conn: Connection, c: Change, now: datetime,
                     result: IntakeResult) -> None:
        """Store a change: the comment on the local ticket, the evidence, the record."""
        r = c.record
        if c.changes:
            ticket = store_tickets.get(conn, r.ticket, history=False)
            if ticket is not None:
                note = Comment(c.comment, self.options.actor, now)
                store_tickets.save(conn, [replace(ticket, comments=(*ticket.comments, note),
                                                  updated=now)], at=now,
                                   actor=self.options.actor)
            events.record(conn, IntakeUpdated(r.ticket, r.id, c.feed, c.changes,
                                              r.published_class, c.cls, c.proposed, c.rejected,
                                              self.options.actor), now)
        records.save(conn, c.new)
        result.updated.append(r.ticket)
        if c.proposed and c.proposed != r.proposed_class:
            result.proposals.append(f"{r.ticket}: {c.proposed}")
        result.lines.append(f"updated {r.ticket} ({r.id}): " + "; ".join(
            c.changes or ["new ratings, same class"]))

    def _due(self, a: Advisory, o: Original, now: datetime) -> datetime | None:
        start = a.published if self.settings.clock_from == "published" and a.published \
            else now
        due = add_hours(start, self.settings.hours(o.cls))
        if a.kev is not None and a.kev.due_date is not None:
            end = _end_of(a.kev.due_date)
            due = end if due is None else min(due, end)
        return due


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(days=1)


def _with_kev(a: Advisory, kev: dict[str, tuple[str, str | None]]) -> Advisory:
    if a.kev is not None or a.cve is None or a.cve not in kev:
        return a
    added, due = kev[a.cve]
    return replace(a, kev=KevEntry(date.fromisoformat(added),
                                   date.fromisoformat(due) if due else None))


def _ratings_json(ratings: Iterable[Rating]) -> str:
    return json.dumps(sorted((asdict(r) for r in ratings), key=lambda d: json.dumps(
        d, sort_keys=True)), sort_keys=True)


def _merge(stored_json: str, new: tuple[Rating, ...]) -> tuple[Rating, ...]:
    """The ratings seen so far and the new ones (every feed's): a new rating by the same
    scorer, source and CVSS version replaces the old one (a rescoring)."""
    merged: dict[tuple[str, str | None, str], Rating] = {}
    for r in (*(Rating(**d) for d in json.loads(stored_json)), *new):
        key = (r.source, r.scorer, r.version)
        if key in merged and r in new and merged[key] not in new:
            del merged[key]  # replaced, and moved after the others
        merged.setdefault(key, r)
    return tuple(merged.values())


def _digest(a: Advisory, o: Original) -> str:
    blob = json.dumps([_ratings_json(a.ratings), o.cls, a.rejected,
                       a.kev.due_date.isoformat() if a.kev and a.kev.due_date else None])
    return hashlib.sha256(blob.encode()).hexdigest()
