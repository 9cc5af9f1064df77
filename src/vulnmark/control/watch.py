"""``vulnmark watch``: alerts within minutes, not the next morning.

Every interval the tick brings the store up to date (an incremental Jira sync when
``[source.jira]`` is configured, the live NVD intake when ``[intake]`` is: a new intake ticket is
a ticket like any other; the embedded tracker and imports are already in the store),
evaluates what changed and sends one email with an alert for each ticket that newly

* became a vulnerability without a classification (``needs_classification``),
* got a class whose deadline is ``alert.max_deadline_hours`` or shorter (``short_deadline``:
  CRITICAL under ETSI), or
* became ``due_soon``, or
* is a threat-intake ticket whose assessment clock ends soon (``assessment_due_soon``).

Each (ticket, reason) alerts once; what was sent is remembered (the ``notices`` table) and
recorded in the evidence log. An alert that could not be delivered is tried again at the next
tick. The first tick on a store records what is already there as known (the daily report
lists it) and alerts only on what comes after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from vulnmark.check import results
from vulnmark.check.results import Filters
from vulnmark.config.load import Config
from vulnmark.deliver import Delivery, Notifier
from vulnmark.errors import NotifyError, VulnmarkError
from vulnmark.evidence.events import NoticeSent
from vulnmark.report.interface import one_line, safe_url
from vulnmark.store import Store, events, notices

logger = logging.getLogger(__name__)

CHANNEL = "alert"
BASELINE = ("*", "baseline")
REASONS = {"needs_classification": "vulnerability without a classification",
           "short_deadline": "short deadline", "due_soon": "due soon",
           "assessment_due_soon": "assessment due soon"}
#: The finding kinds that alert, and their reason.
ALERTING = {"unclassified": "needs_classification", "due_soon": "due_soon",
            "assessment_due_soon": "assessment_due_soon"}


@dataclass(frozen=True)
class Alert:
    ticket: str
    reason: str
    title: str
    classification: str | None
    due_at: datetime | None
    url: str | None


@dataclass(frozen=True)
class Tick:
    """What one tick did."""

    at: datetime
    alerts: tuple[Alert, ...]
    first: bool = False
    """The store's first tick: what is there is taken as known."""
    baseline: int = 0
    """Alerts recorded as already known on the first tick."""
    delivery: Delivery | None = None
    error: str | None = None
    intake_error: str | None = None
    """The intake of this tick failed (recorded as a failed ``intake`` run); the tick went on."""


def candidates(store: Store, config: Config, now: datetime) -> list[Alert]:
    """Every (ticket, reason) that calls for an alert at ``now``."""
    policy = config.policy
    limit = config.alert.max_deadline_hours
    short = {c.name for c in policy.classes
             if c.deadline_hours is not None and c.deadline_hours <= limit}
    found = results.check(store, policy, now)
    out: list[Alert] = []
    for f in found.findings:
        reason = ALERTING.get(f.kind)
        if reason:
            out.append(Alert(f.ticket, reason, f.title, f.classification, f.due_at, f.url))
    for v in results.vulnerabilities(store, policy, now, Filters(state="open")):
        if v.classification in short:
            out.append(Alert(v.ticket, "short_deadline", v.title, v.classification, v.due_at,
                             v.url))
    return out


def message(alerts: Sequence[Alert], now: datetime) -> tuple[str, str, str]:
    """(subject, text, HTML) of one batch."""
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a.reason] = counts.get(a.reason, 0) + 1
    what = ", ".join(f"{n} {REASONS[r]}" for r, n in counts.items())
    subject = f"[vulnmark] ALERT: {what}"
    text = [f"vulnmark alert at {now:%Y-%m-%d %H:%M} UTC", ""]
    html = [f"<p><strong>vulnmark alert at {now:%Y-%m-%d %H:%M} UTC</strong></p><ul>"]
    for a in alerts:
        due = f"; due {a.due_at:%Y-%m-%d %H:%M} UTC" if a.due_at else ""
        line = (f"{a.ticket} [{REASONS[a.reason]}] {one_line(a.title)} (class "
                f"{a.classification or '-'}{due})")
        text.append(f"- {line}")
        link = safe_url(a.url)
        if link:
            text.append(f"    {link}")
        key = escape(a.ticket)
        if link:
            key = f'<a href="{escape(link)}">{key}</a>'
        html.append(f'<li style="overflow-wrap:anywhere;"><strong>{key}</strong> '
                    f"{escape(line[len(a.ticket):])}</li>")
    text += ["", "Each ticket alerts once per reason; the daily report lists everything."]
    html.append("</ul>")
    return subject, "\n".join(text) + "\n", "".join(html)


def tick(store: Store, config: Config, notifier: Notifier | None, recipients: Sequence[str],
         now: datetime, *, sync: Callable[[], object] | None = None,
         intake: Callable[[], object] | None = None) -> Tick:
    """One tick: sync, intake, evaluate, alert on what is new (nothing is sent without a
    notifier). A failed intake does not stop the tick (the tickets already in the store still
    alert); a failed sync does."""
    if sync is not None:
        sync()
    intake_error = None
    if intake is not None:
        try:
            intake()
        except VulnmarkError as e:
            logger.info("intake failed: %s", e)  # the caller shows Tick.intake_error
            intake_error = str(e)
    found = candidates(store, config, now)
    with store.reading() as conn:
        known = notices.sent(conn, CHANNEL)
    new = [a for a in found if (a.ticket, a.reason) not in known]
    if BASELINE not in known:
        with store.transaction() as conn:
            notices.add(conn, CHANNEL, [BASELINE + ("",)]
                        + [(a.ticket, a.reason, "(baseline)") for a in new], now)
        return Tick(now, (), first=True, baseline=len(new), intake_error=intake_error)
    if not new or notifier is None:
        return Tick(now, tuple(new), intake_error=intake_error)
    subject, text, html = message(new, now)
    try:
        delivery = notifier.send(subject, text, html, recipients)
    except NotifyError as e:  # the next tick retries; the loop goes on
        logger.warning("alert not delivered: %s", e)
        return Tick(now, tuple(new), error=str(e), intake_error=intake_error)
    with store.transaction() as conn:
        notices.add(conn, CHANNEL, [(a.ticket, a.reason, ",".join(recipients)) for a in new],
                    now)
        events.record(conn, NoticeSent(CHANNEL, tuple(a.ticket for a in new),
                                       tuple(a.reason for a in new), tuple(recipients),
                                       delivery.message_id), now)
    return Tick(now, tuple(new), delivery=delivery, intake_error=intake_error)


def parse_interval(text: str) -> timedelta:
    """"30s", "5m", "1h" (a bare number is minutes)."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    unit = value[-1:] if value[-1:] in units else "m"
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"--interval: {text!r} is not like 30s, 5m or 1h") from None
    if not 1 <= seconds <= 24 * 3600:
        raise ValueError(f"--interval: {text!r} must be from 1 s to 24 h")
    return timedelta(seconds=seconds)
