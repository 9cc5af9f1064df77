"""What an incident owes, and by when: the deadlines of the guidelines in force, computed from
the recorded state (``vulnmark incident due`` and the daily report's incident section).

Each clock follows the IRG version in force on the day it starts (:func:`~.irg.in_force`):

* ``report``: a Preliminary or Full report within 72 h of awareness of the incident or of an
  audit finding not yet reported (IRG 3.0+);
* ``full_report``: the Full report within 14 days of the first disclosure (IRG 3.0+);
* ``update``: the next update by the "Next update" date the last post asked for, else within
  7 days of it ("weekly" under IRG 1.0/2.0), and within 3 days of an action item changed,
  completed or delayed after it (IRG 3.1+);
* ``action``: an action item not done by its due date;
* ``audit_documents``: the audit statement within 92 days of the audit period's end (CCADB
  Policy 2.1 §5), until its attestation date is recorded;
* ``fulfilment``: the national non-conformity fulfilment report to the conformity assessment
  body and the supervisory body, ``[incident] fulfilment_months`` (default 3) after the on-site
  audit, for ETSI (major or minor) non-conformities;
* ``closure``: every action item is done and no Closure Report was posted yet (no clock).

A day-based deadline ends with its day (UTC): an item due 2023-11-30 is overdue from
2023-12-01T00:00Z; ``due_soon`` is the policy's window before it, as for tickets.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from vulnmark.incident.irg import AUDIT_DOCUMENT_DAYS, in_force
from vulnmark.incident.service import irg_of
from vulnmark.incident.status import rows
from vulnmark.model_incident import Incident

#: The states of an obligation, as ticket deadlines name them (``ready``: closure, no clock).
STATES: tuple[str, ...] = ("overdue", "due_soon", "open", "ready")
#: ETSI severities that need a non-conformity fulfilment report.
NON_CONFORMITIES = ("major", "minor")


@dataclass(frozen=True)
class Obligation:
    incident: int
    what: str
    """``report``, ``full_report``, ``update``, ``action``, ``audit_documents``,
    ``fulfilment`` or ``closure``."""
    subject: str
    """What is owed, in words ("Next status update", an action item's title)."""
    due_at: datetime | None
    """The deadline (None for ``closure``)."""
    state: str
    rule: str
    """Where the deadline comes from ("IRG 2.0: weekly, no Next update set")."""


def end_of(day: date) -> datetime:
    """The instant a day-based deadline passes: the next day's midnight, UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st of a shorter month: its last day)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def state_of(due_at: datetime, now: datetime, due_soon: timedelta) -> str:
    if now >= due_at:
        return "overdue"
    return "due_soon" if now >= due_at - due_soon else "open"


def obligations(incident: Incident, now: datetime, *, due_soon_hours: int = 24,
                fulfilment_months: int = 3) -> list[Obligation]:
    """Every obligation of ``incident`` still open at ``now``, the most urgent first."""
    window = timedelta(hours=due_soon_hours)
    found: list[Obligation] = []

    def owe(what: str, subject: str, due_at: datetime | None, rule: str) -> None:
        state = "ready" if due_at is None else state_of(due_at, now, window)
        found.append(Obligation(int(incident.id), what, subject, due_at, state, rule))

    today = now.date()
    for what, subject, due_at, rule in (*_reports(incident, now), *_update(incident, today),
                                        *_findings(incident, today, fulfilment_months)):
        owe(what, subject, due_at, rule)
    for r in rows(incident, today):
        if r.group != "done":
            owe("action", r.item.title, end_of(r.state.due), f"action item due {r.state.due}")
    shown = rows(incident, today)
    if shown and all(r.group == "done" for r in shown) and not any(
            p.kind == "closure" and p.day <= today for p in incident.posts):
        owe("closure", "Closure Report: every action item is done", None,
            f"IRG {in_force(today).version}: post the Closure Report and ask for closure")
    return sorted(found, key=lambda o: (STATES.index(o.state), o.due_at or now, o.what))


Owed = tuple[str, str, datetime | None, str]


def _reports(incident: Incident, now: datetime) -> Iterable[Owed]:
    posted = [p for p in incident.posts if p.day <= now.date()]
    aware = incident.aware_at or min(
        (datetime.combine(f.found, time(0), tzinfo=UTC) for f in incident.findings if f.found),
        default=None)
    if aware is not None and not posted:
        irg = in_force(aware.date())
        if irg.report_hours:
            yield ("report", "Preliminary or Full incident report",
                   aware + timedelta(hours=irg.report_hours),
                   f"IRG {irg.version}: within {irg.report_hours} h of awareness")
    if posted and not irg_of(incident).legacy and not any(p.template == "full"
                                                          for p in posted):
        first = min(p.day for p in posted)
        irg = in_force(first)
        if irg.full_days:
            yield ("full_report", "Full incident report",
                   end_of(first + timedelta(days=irg.full_days)),
                   f"IRG {irg.version}: within {irg.full_days} days of the first disclosure")


def _update(incident: Incident, today: date) -> Iterable[Owed]:
    last = incident.last_post(today)
    if last is None or any(p.kind == "closure" and p.day <= today for p in incident.posts):
        return
    irg = in_force(last.day)
    if last.next_update and last.next_update > last.day:
        due, rule = last.next_update, f"the Next update date asked for on {last.day}"
    else:
        due = last.day + timedelta(days=irg.update_days)
        rule = (f"IRG {irg.version}: weekly, after" if irg.legacy else
                f"IRG {irg.version}: within {irg.update_days} days of") + f" the post of {last.day}"
    for item in incident.actions:
        for change in item.changes_between(last.day, today):
            days = in_force(change.effective).change_days
            if days is not None and change.effective + timedelta(days=days) < due:
                due = change.effective + timedelta(days=days)
                rule = (f"IRG {in_force(change.effective).version}: within {days} days of "
                        f"{item.title!r} changing on {change.effective}")
    yield "update", "Next status update", end_of(due), rule


def _findings(incident: Incident, today: date, months: int) -> Iterable[Owed]:
    for f in incident.findings:
        name = f"finding {f.number} ({f.standard} {f.clause})"
        if f.attestation is None:
            end = f.period_end or f.audit_end
            yield ("audit_documents", f"Audit statement for {name}",
                   end_of(end + timedelta(days=AUDIT_DOCUMENT_DAYS)),
                   f"CCADB Policy 2.1 §5: within {AUDIT_DOCUMENT_DAYS} days of the audit "
                   f"period's end ({end})")
        if f.severity in NON_CONFORMITIES and f.fulfilment_sent is None:
            yield ("fulfilment", f"Non-conformity fulfilment report for {name}",
                   end_of(add_months(f.audit_end, months)),
                   f"{months} months after the on-site audit ({f.audit_end})")


def report_notes(incidents: Iterable[Incident], now: datetime, *, due_soon_hours: int = 24,
                 fulfilment_months: int = 3) -> tuple[str, ...]:
    """The lines of the daily report about incidents: every obligation overdue or due soon,
    and every incident ready for closure (``vulnmark incident due`` lists them all)."""
    lines = []
    for incident in incidents:
        for o in obligations(incident, now, due_soon_hours=due_soon_hours,
                             fulfilment_months=fulfilment_months):
            if o.state == "open":
                continue
            when = f" (due {o.due_at:%Y-%m-%d %H:%M} UTC)" if o.due_at else ""
            lines.append(f"Incident {incident.id} {incident.title}: {o.subject} "
                         f"{o.state.replace('_', ' ')}{when}; {o.rule}")
    return tuple(lines)
