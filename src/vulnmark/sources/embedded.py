"""The embedded tracker: tickets kept in vulnmark's own store, for teams without Jira.

Every change is one transaction with its evidence: the ticket (with its label history), a
``label_change`` record when labels change, and the record of what was done
(``ticket_created``, ``ticket_relabelled`` …). :func:`relabelled` is the one rule for changing
a ticket's labels; the tracker's ``label``/``unlabel``, ``vulnmark reclassify`` and
``vulnmark backfill`` all go through :func:`relabel`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from vulnmark.errors import InputError, TicketNotFound
from vulnmark.evidence.backdating import declared_reason
from vulnmark.evidence.events import (
    TicketCommented,
    TicketCreated,
    TicketRelabelled,
    TicketResolved,
    UpsertEvent,
)
from vulnmark.model import Comment, LabelChange, Ticket
from vulnmark.sources.interface import (
    EMBEDDED_KEY,
    cap_ticket,
    check_email,
    check_key,
    check_labels,
)
from vulnmark.store import Connection, Store, overlay
from vulnmark.store import tickets as store_tickets

logger = logging.getLogger(__name__)

SOURCE = "embedded"


def relabelled(t: Ticket, *, add: Sequence[str] = (), remove: Sequence[str] = (),
               by: str | None, at: datetime,
               effective: datetime | None = None) -> tuple[Ticket, LabelChange] | None:
    """``t`` with ``remove`` taken off and then ``add`` put on (labels it already keeps are
    not added twice), the change appended to its label history (dated ``effective``, when it
    took effect earlier than ``at``); None when nothing changes."""
    kept = tuple(label for label in t.labels if label not in remove)
    added = tuple(dict.fromkeys(label for label in add if label not in kept))
    removed = tuple(label for label in remove if label in t.labels)
    if not (added or removed):
        return None
    change = LabelChange(effective or at, by, added, removed)
    return replace(t, labels=kept + added, updated=at,
                   label_history=(*t.label_history, change)), change


def relabel(conn: Connection, t: Ticket, *, add: Sequence[str] = (),
            remove: Sequence[str] = (), by: str | None, at: datetime,
            event: UpsertEvent | None = None, via: str = "ticket",
            effective: datetime | None = None) -> LabelChange | None:
    """Change ``t``'s labels (:func:`relabelled`) and store it, with ``event``, inside the
    caller's transaction; returns the change (None: nothing to change, nothing written).

    On a ticket from a source (Jira, an import file) the change is kept over the source's
    labels until the source shows it (:mod:`vulnmark.store.overlay`); ``via`` names what made
    it (``ticket``, ``backfill``, ``reclassify``). ``effective``: when it took effect, if
    earlier than ``at`` (the history says so; the records are written at ``at``)."""
    done = relabelled(t, add=add, remove=remove, by=by, at=at, effective=effective)
    if done is None:
        return None
    store_tickets.save(conn, [done[0]], at=at, actor=by, event=event)
    overlay.record(conn, t, done[1], via=via)
    return done[1]


def get(store: Store, key: str) -> Ticket:
    found = store.get_ticket(key)
    if found is None:
        raise TicketNotFound(key)
    return found


def create(store: Store, *, title: str, by: str, at: datetime, prefix: str,
           description: str = "", labels: Sequence[str] = (), key: str | None = None,
           reporter: str | None = None, url: str | None = None,
           reporter_email: str | None = None, assignee: str | None = None,
           assignee_email: str | None = None) -> Ticket:
    """A new ticket: ``key`` or the next free PREFIX-N; its labels are its first history.
    ``assignee`` is who must act on it (reminders can go to the assignee instead of the
    reporter); the addresses are where reminders reach them."""
    checked = check_labels(list(labels), what="--label", field="label")
    reporter_email = check_email(reporter_email, what="", field="--reporter-email")
    assignee_email = check_email(assignee_email, what="", field="--assignee-email")
    if assignee_email and not assignee:
        assignee = assignee_email
    if key is not None:
        new_key = check_key(key, syntax=EMBEDDED_KEY, field="--key")
    else:
        new_key = check_key(store.next_key(prefix), syntax=EMBEDDED_KEY,
                            what=f"tracker.prefix {prefix!r}", field="tracker.prefix")
    if store.get_ticket(new_key) is not None:
        raise InputError(f"ticket {new_key} exists", field="--key")
    history = (LabelChange(at, by, checked, ()),) if checked else ()
    t = Ticket(key=new_key, title=title, description=description, labels=checked, created=at,
               updated=at, reporter=reporter or by, url=url, label_history=history,
               reporter_email=reporter_email, assignee=assignee or None,
               assignee_email=assignee_email)
    t = cap_ticket(t)
    store.upsert_tickets([t], actor=by, at=at, event=TicketCreated(t.key, by))
    return t


def label(store: Store, key: str, *, add: Sequence[str] = (), remove: Sequence[str] = (),
          by: str, at: datetime, effective: datetime | None = None,
          why: str | None = None) -> Ticket | None:
    """Add and remove labels; None when the ticket already is so. ``effective`` and ``why``:
    a change that took effect earlier, entered now (judged by ``effective``, shown as
    backdated with the reason)."""
    reason = declared_reason(effective, why, at, "label change")
    with store.transaction() as conn:
        t = store_tickets.get(conn, key)
        if t is None:
            raise TicketNotFound(key)
        changed = relabel(conn, t, add=add, remove=remove, by=by, at=at, effective=effective,
                          event=TicketRelabelled(t.key, by, effective=effective, why=reason))
        return None if changed is None else store_tickets.get(conn, key, history=False)


def comment(store: Store, key: str, text: str, *, by: str, at: datetime) -> Ticket:
    t = get(store, key)
    new = replace(t, comments=(*t.comments, Comment(text, by, at)), updated=at)
    store.upsert_tickets([new], actor=by, at=at, event=TicketCommented(t.key, by))
    return new


def resolve(store: Store, key: str, *, resolution: str, by: str, at: datetime) -> Ticket:
    """Resolve a ticket (once: moving the resolution time would change whether its deadline
    was met)."""
    t = get(store, key)
    if t.resolved is not None:
        raise InputError(f"{key} was already resolved at {t.resolved.isoformat()}",
                         field="KEY")
    new = replace(t, resolved=at, resolution=resolution, status="Resolved", updated=at)
    store.upsert_tickets([new], actor=by, at=at, event=TicketResolved(t.key, by))
    return new
