"""Run records: every check and report run, its deliveries, and the control's health."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from vulnmark import evidence
from vulnmark import schedule as _schedule
from vulnmark._time import parse, stored
from vulnmark.model import Run
from vulnmark.notify import Delivery
from vulnmark.policy import Policy
from vulnmark.report import ControlHealth
from vulnmark.store import Store
from vulnmark.store.schema import reports, runs

HEALTH_DAYS = 90
"""How far back the report looks for days without a run."""


def record_run(store: Store, *, kind: str, at: datetime, policy_digest: str,
               counts: Mapping[str, int], report_digest: str | None = None,
               bodies: Mapping[str, str] | None = None, delivery_status: str | None = None,
               error: str | None = None) -> int:
    """Insert a run (and the rendered report bodies) with its evidence record.

    A run that failed (e.g. ``kind="sync"`` when Jira did not answer) passes ``error``: the
    next report lists it under Control health.
    """
    with store.transaction() as conn:
        run_id = int(conn.execute(runs.insert().returning(runs.c.id).values(
            kind=kind, started_at=stored(at), finished_at=stored(at), policy_digest=policy_digest,
            counts=json.dumps(dict(counts), sort_keys=True), report_digest=report_digest,
            delivery_status=delivery_status, error=error,
        )).scalar_one())
        if bodies:
            conn.execute(reports.insert(), [
                {"run_id": run_id, "format": fmt, "body": body} for fmt, body in bodies.items()
            ])
        evidence.append(conn, "run", {
            "run": run_id, "kind": kind, "policy_digest": policy_digest, "counts": dict(counts),
            "report_digest": report_digest, **({"error": error} if error else {}),
        }, at)
    return run_id


def record_delivery(store: Store, run_id: int, *, at: datetime, delivery: Delivery | None,
                    error: str | None = None, attempts: int = 0) -> None:
    """The outcome of sending a report: delivered (Message-ID, server reply) or failed."""
    with store.transaction() as conn:
        if delivery is not None:
            values = {"delivery_status": "delivered", "message_id": delivery.message_id,
                      "server_reply": delivery.server_reply, "error": None}
            payload: dict[str, object] = {
                "run": run_id, "status": "delivered", "message_id": delivery.message_id,
                "server_reply": delivery.server_reply, "recipients": list(delivery.recipients),
                "attempts": delivery.attempts, "sent_at": stored(delivery.sent_at),
            }
        else:
            values = {"delivery_status": "failed", "error": error}
            payload = {"run": run_id, "status": "failed", "error": error, "attempts": attempts}
        conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
        evidence.append(conn, "delivery", payload, at)


def list_runs(store: Store, *, kind: str | None = None, limit: int | None = None,
              since: datetime | None = None, until: datetime | None = None) -> list[Run]:
    """Runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc())
    if kind:
        query = query.where(runs.c.kind == kind)
    if since:
        query = query.where(runs.c.started_at >= stored(since))
    if until:
        query = query.where(runs.c.started_at < stored(until))
    if limit:
        query = query.limit(limit)
    with store.reading() as conn:
        return [_run(r) for r in conn.execute(query).mappings()]


def report_body(store: Store, run_id: int, fmt: str) -> str | None:
    with store.reading() as conn:
        return conn.execute(select(reports.c.body).where(
            reports.c.run_id == run_id, reports.c.format == fmt)).scalar()


def _run(r: Any) -> Run:
    started = parse(str(r["started_at"]))
    assert started is not None
    return Run(
        id=int(str(r["id"])), kind=str(r["kind"]), started_at=started,
        policy_digest=str(r["policy_digest"]), counts=json.loads(str(r["counts"])),
        report_digest=_opt(r["report_digest"]), delivery_status=_opt(r["delivery_status"]),
        message_id=_opt(r["message_id"]), server_reply=_opt(r["server_reply"]),
        error=_opt(r["error"]),
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def control_health(store: Store, policy: Policy, now: datetime) -> ControlHealth:
    """Previous runs, days without a report run, the last delivery and what is undelivered."""
    zone = ZoneInfo(policy.timezone)
    recent = list_runs(store, since=now - timedelta(days=HEALTH_DAYS))
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
    sched = _schedule.from_policy(policy) if policy.section("schedule") else None
    if sched is not None:
        missed = tuple(s.astimezone(sched.zone).date()
                       for s in missed_slots(report_runs, now, sched))
        notes.append(f"Schedule: cron {sched.cron.expr!r} in {sched.timezone}")
    else:
        missed = missed_days(report_runs, now, zone)
    with store.reading() as conn:
        check = evidence.verify(conn)
    if check.ok:
        notes.append(f"Evidence log verified: {check.records} records, head {check.head[:16]}")
    else:
        notes.append(f"EVIDENCE LOG BROKEN: {check.problem}")
    return ControlHealth(
        runs=tuple(r for r in recent if r.started_at <= now)[:10],
        missed_days=missed,
        last_delivery=last_delivery,
        undelivered=tuple(undelivered),
        notes=tuple(notes),
    )


def missed_days(report_runs: list[Run], now: datetime, zone: ZoneInfo) -> tuple[date, ...]:
    """Days since the first report run, up to yesterday, on which no report ran."""
    if not report_runs:
        return ()
    days = {r.started_at.astimezone(zone).date() for r in report_runs}
    first, today = min(days), now.astimezone(zone).date()
    out = []
    day = first
    while day < today:
        if day not in days:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def missed_slots(report_runs: list[Run], now: datetime,
                 sched: _schedule.Schedule) -> tuple[datetime, ...]:
    """Due slots since the first report run that no report run covered.

    A slot is covered by a report run at or after it and before the next slot. The latest
    slot at or before ``now`` is not judged: the run being made now covers it.
    """
    if not report_runs:
        return ()
    times = sorted(r.started_at for r in report_runs)
    start = sched.previous(times[0]) or times[0]
    slots = list(sched.slots(start, now))
    out = []
    for slot, following in zip(slots, slots[1:], strict=False):
        i = bisect_left(times, slot)
        if i >= len(times) or times[i] >= following:
            out.append(slot)
    return tuple(out)


def covered(store: Store, slot: datetime, following: datetime | None) -> bool:
    """Whether a report run started at or after ``slot`` and before ``following``."""
    query = select(runs.c.id).where(runs.c.kind == "report", runs.c.started_at >= stored(slot))
    if following is not None:
        query = query.where(runs.c.started_at < stored(following))
    with store.reading() as conn:
        return conn.execute(query.limit(1)).first() is not None
