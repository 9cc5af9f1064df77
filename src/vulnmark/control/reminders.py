"""Reminders to ticket authors: the security officer's daily follow-up, automated.

With ``[reminders] enabled = true`` each reporter of a ticket that needs classification (or,
with ``to = "assignee"``, its assignee; an unassigned ticket's reporter) gets one short email a
day listing their tickets, the suggestion with its evidence and the exact labels to add. After
``escalate_after_days`` days of reminders about a ticket, the report's recipients (the MSO) are
copied. Addresses: the ticket's own (Jira ``emailAddress``, ``ticket new --reporter-email`` /
``--assignee-email``), else ``[reminders.addresses]`` (display name, then account id ->
address), else a name that is an address ("Ann <ann@x>"). Someone without an address is listed
in the MSO's report as "author not reachable". Every reminder sent is an evidence record
(``notice``, channel ``reminder``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from html import escape
from zoneinfo import ZoneInfo

from vulnmark.check.kinds import report_sections
from vulnmark.config.load import Config
from vulnmark.deliver import Notifier
from vulnmark.errors import NotifyError
from vulnmark.evidence.events import NoticeSent
from vulnmark.model import Finding
from vulnmark.report.interface import one_line, safe_url, snippet
from vulnmark.store import Store, events, notices
from vulnmark.store import tickets as store_tickets
from vulnmark.store.tickets import People

logger = logging.getLogger(__name__)

CHANNEL = "reminder"
NO_REPORTER = "(no reporter)"
#: The kinds a reminder is about: the report's "Needs classification" section.
KINDS: tuple[str, ...] = dict(report_sections())["Needs classification"]


@dataclass(frozen=True)
class Reminder:
    """One person's reminder of the day."""

    author: str
    address: str | None
    """None: not reachable."""
    findings: tuple[Finding, ...]
    escalate: bool = False
    """Copy the MSO (a ticket has been reminded about for ``escalate_after_days``)."""
    already_sent: bool = False
    """This person already got today's reminder."""
    role: str = "reporter"
    """``reporter`` or ``assignee``: why this person is reminded."""


def address_of(name: str | None, config: Config, *, email: str | None = None,
               ident: str | None = None) -> str | None:
    """The address of a person: the ticket's own, else ``[reminders.addresses]`` by display
    name then account id, else the name when it is an address; None: not reachable."""
    if email:
        return email
    mapped = config.reminders.addresses
    for known in (name, ident):
        if known and mapped.get(known):
            return mapped[known]
    if not name:
        return None
    _, addr = parseaddr(name)
    return addr if "@" in addr and " " not in addr else None


def recipient(f: Finding, who: People | None, config: Config) -> tuple[str, str, str | None]:
    """(role, name, address) of the person reminded about ``f``."""
    p = who or People(reporter=f.reporter)
    if config.reminders.to == "assignee" and (p.assignee or p.assignee_id or p.assignee_email):
        name = p.assignee or p.assignee_email or p.assignee_id or ""
        return "assignee", name, address_of(name, config, email=p.assignee_email,
                                            ident=p.assignee_id)
    reporter = p.reporter or f.reporter or p.reporter_email or p.reporter_id
    if not reporter:
        return "reporter", NO_REPORTER, None
    return "reporter", reporter, address_of(reporter, config, email=p.reporter_email,
                                            ident=p.reporter_id)


def labels_to_add(f: Finding, config: Config) -> str:
    """What the author must do, in labels."""
    policy = config.policy
    vuln = policy.vulnerability_labels[0]
    classes = " / ".join(policy.class_names)
    if f.kind == "unclassified":
        return (f"add the classification label {f.suggested} (suggested) or one of {classes}"
                if f.suggested else f"add one classification label: {classes}")
    if f.kind == "unmarked":
        return f"add the vulnerability label {vuln}"
    if f.kind == "conflicting":
        return (f"keep exactly one classification label; it has "
                f"{', '.join(x for x in f.labels if x != vuln)}")
    return "classify it"


def plan(store: Store, config: Config, findings: Sequence[Finding], now: datetime
         ) -> list[Reminder]:
    """Today's reminders: one per person (by address, else by name) reminded about a ticket
    that needs classification."""
    mine = [f for f in findings if f.kind in KINDS]
    today = _day(config, now)
    days = config.reminders.escalate_after_days
    with store.reading() as conn:
        who = store_tickets.people(conn, [f.ticket for f in mine])
        done_today = notices.recipients_on(conn, CHANNEL, today)
        first = notices.first_sent_by_ticket(conn, CHANNEL, [f.ticket for f in mine])
    groups: dict[tuple[str, str], tuple[str, str, str | None, list[Finding]]] = {}
    for f in mine:
        role, name, addr = recipient(f, who.get(f.ticket), config)
        group = ("@", addr.casefold()) if addr else (role, name)
        groups.setdefault(group, (role, name, addr, []))[3].append(f)
    out = []
    for role, name, addr, found in sorted(groups.values(), key=lambda g: (g[1], g[2] or "")):
        escalate = any(f.ticket in first and (now - first[f.ticket]).days >= days
                       for f in found)
        out.append(Reminder(name, addr, tuple(found), escalate, addr in done_today, role))
    return out


def unreachable_note(reminders: Sequence[Reminder]) -> str | None:
    """The MSO report's line about people without an address."""
    lost = [r for r in reminders if r.address is None]
    if not lost:
        return None
    roles = {r.role for r in lost}
    who = f"{roles.pop()}(s)" if len(roles) == 1 else "person(s)"
    shown = "; ".join(f"{one_line(r.author, 60)} ({', '.join(f.ticket for f in r.findings[:5])}"
                      f"{', …' if len(r.findings) > 5 else ''})" for r in lost[:20])
    return (f"Reminders: author not reachable for {len(lost)} {who}: {shown} — add "
            "[reminders.addresses]")


def _day(config: Config, now: datetime) -> str:
    return now.astimezone(ZoneInfo(config.policy.timezone)).date().isoformat()


def message(r: Reminder, config: Config) -> tuple[str, str, str]:
    """(subject, text, HTML) of a reminder."""
    n = len(r.findings)
    subject = (f"[vulnmark] {n} of your tickets need{'s' if n == 1 else ''} a "
               "classification label")
    whose = "assigned to you" if r.role == "assignee" else "you reported"
    intro = (f"{'This ticket' if n == 1 else 'These tickets'} {whose} "
             f"need{'s' if n == 1 else ''} the vulnerability marking the security officer "
             "requires:")
    text = [f"Hello {one_line(r.author, 80)},", "", intro, ""]
    html = [f"<p>Hello {escape(one_line(r.author, 80))},</p><p>{escape(intro)}</p><ul>"]
    for f in r.findings:
        todo = labels_to_add(f, config)
        text.append(f"- {f.ticket}: {one_line(f.title)}")
        text.append(f"    To do: {todo}")
        link = safe_url(f.url)
        if link:
            text.append(f"    {link}")
        text += [f"    Evidence: {snippet(e)}" for e in f.evidence[:2]]
        key = escape(f.ticket)
        if link:
            key = f'<a href="{escape(link)}">{key}</a>'
        html.append(f"<li style=\"overflow-wrap:anywhere;\"><strong>{key}</strong> "
                    f"{escape(one_line(f.title))}<br>To do: <strong>{escape(todo)}</strong>"
                    + "".join(f"<br><small>{escape(snippet(e))}</small>"
                              for e in f.evidence[:2]) + "</li>")
    footer = ("You get this once a day while a ticket needs classification"
              + ("; the security officer is copied because it has been waiting."
                 if r.escalate else "."))
    text += ["", footer]
    html.append(f"</ul><p><small>{escape(footer)}</small></p>")
    return subject, "\n".join(text) + "\n", "".join(html)


def send(store: Store, config: Config, notifier: Notifier, reminders: Sequence[Reminder],
         now: datetime, mso: Sequence[str]) -> list[Reminder]:
    """Send the reminders not sent today; each one is recorded (evidence and notices). The
    ones sent. A failure to deliver one is logged and does not stop the others."""
    today = _day(config, now)
    sent = []
    for r in reminders:
        if r.address is None or r.already_sent:
            continue
        subject, text, html = message(r, config)
        cc = tuple(mso) if r.escalate else ()
        try:
            delivery = notifier.send(subject, text, html, [r.address], cc=cc)
        except NotifyError as e:  # one author's address must not stop the others
            logger.warning("reminder to %s not delivered: %s", r.address, e)
            continue
        keys = tuple(f.ticket for f in r.findings)
        with store.transaction() as conn:
            notices.add(conn, CHANNEL, [(k, today, r.address) for k in keys], now)
            events.record(conn, NoticeSent(CHANNEL, keys, tuple(f.kind for f in r.findings),
                                           (r.address,), delivery.message_id, cc), now)
        sent.append(r)
    return sent
