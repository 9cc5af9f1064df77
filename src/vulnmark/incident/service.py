"""What people do with an incident: open it, add and change action items, findings, timeline
entries and report fields, record what was posted. Each change is one transaction with its
evidence record (:class:`~vulnmark.evidence.events.IncidentChanged`).

A change that took effect before the day it is entered (``effective``) needs a reason
(``why``); both are kept with the change and in the evidence log, where the record's own time
is the time it was entered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

from vulnmark.errors import IncidentError
from vulnmark.evidence.events import IncidentChanged
from vulnmark.incident.irg import Irg, in_force, pick
from vulnmark.model_incident import (
    FINDING_SEVERITIES,
    SOURCES,
    ActionItem,
    AuditFinding,
    Incident,
    IncidentId,
    ItemChange,
    Post,
)
from vulnmark.store import Store
from vulnmark.store import events as evidence
from vulnmark.store import incidents as repo

T = TypeVar("T")
CCADB_ID = re.compile(r"A\d{6}")


@dataclass(frozen=True)
class When:
    """Who makes a change, when it is entered, and when it took effect."""

    at: datetime
    """The time the change is entered (the evidence record's time)."""
    by: str | None = None
    effective: date | None = None
    why: str | None = None

    @property
    def day(self) -> date:
        return self.effective or self.at.date()

    def check(self) -> None:
        if self.effective is not None and self.effective < self.at.date() and not (
                self.why and self.why.strip()):
            raise IncidentError(f"--effective {self.effective}: a change that took effect "
                                "earlier needs --why (why it is entered late)")
        if self.effective is not None and self.effective > self.at.date():
            raise IncidentError(f"--effective {self.effective}: a change cannot take effect "
                                f"after today ({self.at.date()})")


def irg_of(incident: Incident) -> Irg:
    """The guidelines whose vocabulary the incident uses: those in force when it opened."""
    return in_force(incident.opened)


def text(value: str, what: str) -> str:
    """A single-line name (a title): trimmed, not empty."""
    flat = " ".join(value.split())
    if not flat:
        raise IncidentError(f"{what} is empty")
    return flat


def get(store: Store, incident_id: int) -> Incident:
    with store.reading() as conn:
        return repo.get(conn, incident_id)


def all_incidents(store: Store) -> list[Incident]:
    with store.reading() as conn:
        return [repo.get(conn, i) for i in repo.ids(conn)]


def open_incident(store: Store, when: When, *, title: str, ca_owner: str, source: str,
                  ccadb_id: str | None = None, aware_at: datetime | None = None,
                  bug: int | None = None, policies: tuple[str, ...] = ()) -> Incident:
    when.check()
    if ccadb_id is not None and not CCADB_ID.fullmatch(ccadb_id):
        raise IncidentError(f"--ccadb-id {ccadb_id!r}: expected \"A\" and 6 digits (A000123)")
    if bug is not None and bug < 1:
        raise IncidentError(f"--bug {bug}: a Bugzilla bug id is a positive number")
    incident = Incident(
        id=IncidentId(0), title=text(title, "--title"), ca_owner=text(ca_owner, "--ca-owner"),
        source=pick(source, SOURCES, "--source"), opened=when.day, ccadb_id=ccadb_id,
        aware_at=aware_at, bug=bug, policies=tuple(text(p, "--policy") for p in policies))
    with store.transaction() as conn:
        new_id = repo.create(conn, incident)
        _record(conn, new_id, "opened", when, title=incident.title, ca_owner=incident.ca_owner,
                source=incident.source, ccadb_id=ccadb_id, bug=bug,
                irg=in_force(incident.opened).version)
        return repo.get(conn, new_id)


def add_action(store: Store, incident_id: int, when: When, *, title: str, kind: str, due: date,
               status: str | None = None, root_causes: str = "", criteria: str = "",
               note: str = "", control: str | None = None) -> ActionItem:
    when.check()

    def change(conn: Any, incident: Incident) -> ActionItem:
        irg = irg_of(incident)
        name = text(title, "--title")
        if incident.action(name) is not None:
            raise IncidentError(f"incident {incident.id} already has an action item {name!r}")
        item = ActionItem(
            number=len(incident.actions) + 1, title=name, kind=irg.kind(kind),
            root_causes=root_causes.strip(), criteria=criteria.strip(), control=control,
            history=(ItemChange(effective=when.day, status=irg.status(status or
                                                                      irg.first_status),
                                due=due, note=note.strip(), recorded_at=when.at, why=when.why,
                                by=when.by),))
        repo.add_action(conn, incident.id, item)
        _record(conn, incident.id, "action_added", when, item=item.number, title=item.title,
                kind=item.kind, due=due.isoformat(), status=item.history[0].status)
        return item

    return _change(store, incident_id, change)


def change_action(store: Store, incident_id: int, ref: str, when: When, *,
                  status: str | None = None, due: date | None = None,
                  note: str = "") -> ActionItem:
    """A new state of item ``ref`` (number or title) from ``when.day``."""
    when.check()
    if status is None and due is None and not note.strip():
        raise IncidentError("nothing to change: give --status, --due or --note")

    def change(conn: Any, incident: Incident) -> ActionItem:
        item = incident.action(ref)
        if item is None:
            raise IncidentError(f"incident {incident.id} has no action item {ref!r}")
        before = item.at(when.day)
        if before is None:
            raise IncidentError(f"action item {item.title!r} was added on {item.added}, "
                                f"after {when.day}")
        new = ItemChange(effective=when.day,
                         status=irg_of(incident).status(status) if status else before.status,
                         due=due or before.due, note=note.strip(), recorded_at=when.at,
                         why=when.why, by=when.by)
        repo.add_change(conn, incident.id, item.number, new)
        _record(conn, incident.id, "action_changed", when, item=item.number, title=item.title,
                status=new.status, due=new.due.isoformat(), was_status=before.status,
                was_due=before.due.isoformat())
        return repo.get(conn, incident.id).actions[item.number - 1]

    return _change(store, incident_id, change)


def add_finding(store: Store, incident_id: int, when: When, *, standard: str, clause: str,
                text_: str, severity: str, audit_start: date, audit_end: date,
                found: date | None = None, period_end: date | None = None,
                attestation: date | None = None) -> AuditFinding:
    if audit_end < audit_start:
        raise IncidentError(f"--audit-end {audit_end} is before --audit-start {audit_start}")

    def change(conn: Any, incident: Incident) -> AuditFinding:
        finding = AuditFinding(
            number=len(incident.findings) + 1, standard=text(standard, "--standard"),
            clause=text(clause, "--clause"), text=text_.strip(),
            severity=pick(severity, FINDING_SEVERITIES, "--severity"),
            audit_start=audit_start, audit_end=audit_end, found=found, period_end=period_end,
            attestation=attestation)
        repo.save(conn, replace(incident, findings=(*incident.findings, finding)))
        _record(conn, incident.id, "finding_added", when, finding=finding.number,
                clause=f"{finding.standard} {finding.clause}", severity=finding.severity)
        return finding

    return _change(store, incident_id, change)


def set_finding(store: Store, incident_id: int, number: int, when: When, *,
                attestation: date | None = None,
                fulfilment_sent: date | None = None) -> AuditFinding:
    def change(conn: Any, incident: Incident) -> AuditFinding:
        if not 1 <= number <= len(incident.findings):
            raise IncidentError(f"incident {incident.id} has no finding {number}")
        old = incident.findings[number - 1]
        new = replace(old, attestation=attestation or old.attestation,
                      fulfilment_sent=fulfilment_sent or old.fulfilment_sent)
        findings = list(incident.findings)
        findings[number - 1] = new
        repo.save(conn, replace(incident, findings=tuple(findings)))
        _record(conn, incident.id, "finding_changed", when, finding=number,
                attestation=_iso(new.attestation), fulfilment_sent=_iso(new.fulfilment_sent))
        return new

    return _change(store, incident_id, change)


def edit(store: Store, incident_id: int, when: When, what: str,
         apply: Callable[[Incident], Incident], **detail: Any) -> Incident:
    """Any other change of the incident's own fields (``apply`` returns the new incident)."""
    def change(conn: Any, incident: Incident) -> Incident:
        new = apply(incident)
        repo.save(conn, new)
        _record(conn, incident.id, what, when, **detail)
        return new

    return _change(store, incident_id, change)


def record_post(store: Store, incident_id: int, when: When, post: Post) -> Post:
    """Record that ``post`` was posted (by hand, or by vulnmark with its comment id)."""
    def change(conn: Any, incident: Incident) -> Post:
        done = repo.add_post(conn, incident.id, post)
        _record(conn, incident.id, f"{post.kind}_posted", when, post=done.number,
                day=done.day.isoformat(), template=done.template, sha256=done.sha256,
                next_update=_iso(done.next_update), comment_id=done.comment_id,
                bug=incident.bug)
        return done

    return _change(store, incident_id, change)


def _change(store: Store, incident_id: int, change: Callable[[Any, Incident], T]) -> T:
    with store.transaction() as conn:
        return change(conn, repo.get(conn, incident_id, lock=True))


def _record(conn: Any, incident_id: int, what: str, when: When, **detail: Any) -> None:
    backdated = when.effective is not None and when.effective < when.at.date()
    evidence.record(conn, IncidentChanged(
        incident=int(incident_id), change=what, detail=detail, by=when.by,
        effective=when.effective.isoformat() if backdated and when.effective else None,
        why=when.why if backdated else None), when.at)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
