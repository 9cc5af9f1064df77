"""Reminders to ticket authors: the security officer's daily follow-up, automated.

With ``[reminders] enabled = true`` each reporter of a ticket that needs classification gets
one short email a day listing their tickets, the suggestion with its evidence and the exact
labels to add. After ``escalate_after_days`` days of reminders about a ticket, the report's
recipients (the MSO) are copied. Addresses: a reporter that is an address ("Ann <ann@x>"),
else ``[reminders.addresses]`` (display name or account id -> address). A reporter without an
address is listed in the MSO's report as "author not reachable". Every reminder sent is an
evidence record (``notice``, channel ``reminder``).
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

logger = logging.getLogger(__name__)

CHANNEL = "reminder"
#: The kinds a reminder is about: the report's "Needs classification" section.
KINDS: tuple[str, ...] = dict(report_sections())["Needs classification"]


@dataclass(frozen=True)
class Reminder:
    """One author's reminder of the day."""

    author: str
    address: str | None
    """None: not reachable."""
    findings: tuple[Finding, ...]
    escalate: bool = False
    """Copy the MSO (a ticket has been reminded about for ``escalate_after_days``)."""
    already_sent: bool = False
    """This author already got today's reminder."""


def address_of(author: str, config: Config) -> str | None:
    """The author's email address, or None."""
    mapped = config.reminders.addresses.get(author)
    if mapped:
        return mapped
    _, addr = parseaddr(author)
    return addr if "@" in addr and " " not in addr else None


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
    """Today's reminders: one per author of a ticket that needs classification."""
    mine = [f for f in findings if f.kind in KINDS]
    by_author: dict[str, list[Finding]] = {}
    for f in mine:
        by_author.setdefault(f.reporter or "(no reporter)", []).append(f)
    today = _day(config, now)
    days = config.reminders.escalate_after_days
    with store.reading() as conn:
        done_today = notices.recipients_on(conn, CHANNEL, today)
        first = notices.first_sent_by_ticket(conn, CHANNEL, [f.ticket for f in mine])
    out = []
    for author in sorted(by_author):
        found = tuple(by_author[author])
        addr = address_of(author, config) if author != "(no reporter)" else None
        escalate = any(f.ticket in first and (now - first[f.ticket]).days >= days
                       for f in found)
        out.append(Reminder(author, addr, found, escalate, addr in done_today))
    return out


def unreachable_note(reminders: Sequence[Reminder]) -> str | None:
    """The MSO report's line about authors without an address."""
    lost = [r for r in reminders if r.address is None]
    if not lost:
        return None
    shown = "; ".join(f"{one_line(r.author, 60)} ({', '.join(f.ticket for f in r.findings[:5])}"
                      f"{', …' if len(r.findings) > 5 else ''})" for r in lost[:20])
    return (f"Reminders: author not reachable for {len(lost)} reporter(s): {shown} — add "
            "[reminders.addresses]")


def _day(config: Config, now: datetime) -> str:
    return now.astimezone(ZoneInfo(config.policy.timezone)).date().isoformat()


def message(r: Reminder, config: Config) -> tuple[str, str, str]:
    """(subject, text, HTML) of a reminder."""
    n = len(r.findings)
    subject = (f"[vulnmark] {n} of your tickets need{'s' if n == 1 else ''} a "
               "classification label")
    text = [f"Hello {one_line(r.author, 80)},", "",
            f"{'This ticket needs' if n == 1 else 'These tickets need'} the vulnerability "
            "marking the security officer requires:", ""]
    html = [f"<p>Hello {escape(one_line(r.author, 80))},</p><p>"
            f"{'This ticket needs' if n == 1 else 'These tickets need'} the vulnerability "
            "marking the security officer requires:</p><ul>"]
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
