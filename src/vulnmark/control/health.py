"""The control's health: previous runs, days or slots without a report run, the last delivery,
undelivered reports and the evidence chain (the runs themselves: :mod:`vulnmark.store.runs`)."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vulnmark._time import stored
from vulnmark.config.policy import Policy
from vulnmark.config.schedule import Schedule
from vulnmark.control import stamping
from vulnmark.evidence import backdating
from vulnmark.evidence.backdating import backdated_note
from vulnmark.evidence.events import Reclassified, TicketRelabelled
from vulnmark.model import Run
from vulnmark.publish.state import effective_since, last_published
from vulnmark.report import ControlHealth
from vulnmark.store import Store, integrity
from vulnmark.store import events as store_events
from vulnmark.store import outcomes as store_outcomes
from vulnmark.store import runs as store_runs

HEALTH_DAYS = 90
"""How far back the report looks for days without a run."""
LABEL_KINDS = (TicketRelabelled.kind, Reclassified.kind)
"""The records of label changes that may be entered backdated (``--effective``)."""


def control_health(store: Store, policy: Policy, now: datetime,
                   schedule: Schedule | None = None, *,
                   page_configured: bool = False) -> ControlHealth:
    """Previous runs, days (or, with a ``schedule``, slots) without a report run, the last
    delivery, what is undelivered, and whether the published policy page states the policy
    in force (when it was ever published, or ``page_configured``)."""
    zone = ZoneInfo(policy.timezone)
    recent = store_runs.list_runs(store, since=now - timedelta(days=HEALTH_DAYS))
    report_runs = [r for r in recent if r.kind == "report" and r.started_at <= now]
    last_delivery = next((r for r in report_runs if r.delivery_status in ("delivered", "failed")),
                         None)
    undelivered: list[Run] = []
    for r in report_runs:  # newest first: failures since the last successful delivery
        if r.delivery_status == "delivered":
            break
        # "pending" on an earlier run means the process died while sending: not delivered
        if r.delivery_status in ("failed", "pending"):
            undelivered.append(r)
    notes: list[str] = []
    failed_syncs = [r for r in recent if r.kind == "sync" and r.started_at <= now
                    and (r.error or r.delivery_status == "failed")]
    for r in failed_syncs[:10]:
        notes.append(f"FAILED SYNC at {stored(r.started_at)}: {r.error or 'no detail'}")
    notes += intake_notes([r for r in recent if r.kind == "intake" and r.started_at <= now])
    # only a delivered report covers a slot: previews, failed and pending runs leave it missed
    delivered = [r for r in report_runs if r.delivery_status == "delivered"]
    started = min((r.started_at for r in report_runs), default=None)
    sched = schedule
    if sched is not None:
        missed = tuple(s.astimezone(sched.zone).date()
                       for s in missed_slots(delivered, now, sched, started))
        notes.append(f"Schedule: cron {sched.cron.expr!r} in {sched.timezone}")
    else:
        missed = missed_days(delivered, now, zone, started)
    page = policy_page_note(store, policy, page_configured)
    if page is not None:
        notes.append(page)
    with store.reading() as conn:
        check = integrity.verify(conn, bodies_since=stored(now - timedelta(days=HEALTH_DAYS)))
        late = store_outcomes.backdated(conn, entered_since=now - timedelta(days=HEALTH_DAYS))
        relabelled = [b for b in backdating.scan(store_events.iter_events(
            conn, since=stored(now - timedelta(days=HEALTH_DAYS)), kinds=LABEL_KINDS))
            if b.declared]
    for o in late[:20]:  # an outcome entered after it took effect is never silent
        notes.append(f"BACKDATED OUTCOME {o.ticket}: {backdated_note(o)}")
    if len(late) > 20:
        notes.append(f"BACKDATED OUTCOMES: {len(late) - 20} more (vulnmark evidence verify)")
    for b in relabelled[:20]:  # nor is a label change or a reclassification
        notes.append(f"BACKDATED LABEL CHANGE {b.ticket}: {backdating.describe(b)}")
    if len(relabelled) > 20:
        notes.append(f"BACKDATED LABEL CHANGES: {len(relabelled) - 20} more "
                     "(vulnmark evidence verify)")
    notes += stamping.health_notes(store)
    if check.ok:
        notes.append(f"Evidence log verified: {check.records} records, head {check.head[:16]}")
    else:
        more = len(check.problems) - 1
        notes.append(f"EVIDENCE LOG BROKEN: {check.problem}"
                     + (f" (and {more} more problem{'s' if more > 1 else ''}: run "
                        "`vulnmark evidence verify`)" if more > 0 else ""))
    return ControlHealth(
        runs=tuple(r for r in recent if r.started_at <= now)[:10],
        missed_days=missed,
        last_delivery=last_delivery,
        undelivered=tuple(undelivered),
        notes=tuple(notes),
    )


def intake_notes(intake_runs: list[Run]) -> list[str]:
    """The last threat-intake run (newest first in ``intake_runs``): what it did, or that it
    FAILED and how many runs failed since the last complete one."""
    if not intake_runs:
        return []
    last = intake_runs[0]
    if not last.error:
        c = last.counts
        return [f"Intake: last run at {stored(last.started_at)}: {c.get('read', 0)} records "
                f"read, opened {c.get('opened', 0)}, updated {c.get('updated', 0)}"]
    failed = 0
    complete = None
    for r in intake_runs:
        if not r.error:
            complete = r
            break
        failed += 1
    since = (f"the last complete one at {stored(complete.started_at)}" if complete
             else "none completed in the last 90 days")
    return [f"FAILED INTAKE at {stored(last.started_at)}: {last.error} ({failed} failed "
            f"run{'s' if failed != 1 else ''}; {since})"]


def policy_page_note(store: Store, policy: Policy, configured: bool) -> str | None:
    """"Policy page: published version 7 matches digest …", "POLICY PAGE OUT OF DATE since …"
    or "never published"; None when no page was ever published and none is configured."""
    last = last_published(store)
    digest = policy.digest()
    if last is None:
        return ("POLICY PAGE NEVER PUBLISHED: run `vulnmark policy publish` ([publish] is "
                "configured)") if configured else None
    page = last.event
    if page.digest == digest:
        return (f"Policy page: published version {page.version} matches digest "
                f"{digest[:16]} (page {page.page_id}, {page.lang}, {_minute(last.at)})")
    since = effective_since(store, digest)
    when = f"since {_minute(since)}" if since else "since the policy changed"
    return (f"POLICY PAGE OUT OF DATE {when}: published version {page.version} (page "
            f"{page.page_id}) states digest {page.digest[:16]}, the policy in force is "
            f"{digest[:16]}; run `vulnmark policy publish`")


def _minute(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def missed_days(report_runs: list[Run], now: datetime, zone: ZoneInfo,
                started: datetime | None = None) -> tuple[date, ...]:
    """Days since the first report run (or ``started``), up to yesterday, on which no report
    ran (pass only the delivered runs: a preview or a failed delivery covers nothing)."""
    if not report_runs and started is None:
        return ()
    days = {r.started_at.astimezone(zone).date() for r in report_runs}
    first = min([*days, *([started.astimezone(zone).date()] if started else [])])
    today = now.astimezone(zone).date()
    out = []
    day = first
    while day < today:
        if day not in days:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def missed_slots(report_runs: list[Run], now: datetime, sched: Schedule,
                 started: datetime | None = None) -> tuple[datetime, ...]:
    """Due slots since the first report run (or ``started``) that no report run covered
    (pass only the delivered runs).

    A slot is covered by a report run at or after it and before the next slot. The latest
    slot at or before ``now`` is not judged: the run being made now covers it.
    """
    if not report_runs and started is None:
        return ()
    times = sorted(r.started_at for r in report_runs)
    first = min([*times[:1], *([started] if started else [])])
    start = sched.previous(first) or first
    slots = list(sched.slots(start, now))
    out = []
    for slot, following in zip(slots, slots[1:], strict=False):
        i = bisect_left(times, slot)
        if i >= len(times) or times[i] >= following:
            out.append(slot)
    return tuple(out)

