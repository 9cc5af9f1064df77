"""Run records: every check and report run, its deliveries, and the control's health."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from vulnmark import evidence
from vulnmark.model import Run
from vulnmark.notify import Delivery
from vulnmark.policy import Policy
from vulnmark.report import ControlHealth
from vulnmark.store import Store
from vulnmark.store.schema import dt, reports, runs, ts

HEALTH_DAYS = 90
"""How far back the report looks for days without a run."""


def record_run(store: Store, *, kind: str, at: datetime, policy_digest: str,
               counts: Mapping[str, int], report_digest: str | None = None,
               bodies: Mapping[str, str] | None = None, delivery_status: str | None = None,
               ) -> int:
    """Insert a run (and the rendered report bodies) with its evidence record."""
    with store.transaction() as conn:
        run_id = int(conn.execute(runs.insert().returning(runs.c.id).values(
            kind=kind, started_at=ts(at), finished_at=ts(at), policy_digest=policy_digest,
            counts=json.dumps(dict(counts), sort_keys=True), report_digest=report_digest,
            delivery_status=delivery_status,
        )).scalar_one())
        if bodies:
            conn.execute(reports.insert(), [
                {"run_id": run_id, "format": fmt, "body": body} for fmt, body in bodies.items()
            ])
        evidence.append(conn, "run", {
            "run": run_id, "kind": kind, "policy_digest": policy_digest, "counts": dict(counts),
            "report_digest": report_digest,
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
                "attempts": delivery.attempts, "sent_at": ts(delivery.sent_at),
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
        query = query.where(runs.c.started_at >= ts(since))
    if until:
        query = query.where(runs.c.started_at < ts(until))
    if limit:
        query = query.limit(limit)
    with store.reading() as conn:
        return [_run(r) for r in conn.execute(query).mappings()]


def report_body(store: Store, run_id: int, fmt: str) -> str | None:
    with store.reading() as conn:
        return conn.execute(select(reports.c.body).where(
            reports.c.run_id == run_id, reports.c.format == fmt)).scalar()


def _run(r: Any) -> Run:
    started = dt(str(r["started_at"]))
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
        if r.delivery_status == "failed":
            undelivered.append(r)
    notes: list[str] = []
    with store.reading() as conn:
        check = evidence.verify(conn)
    if check.ok:
        notes.append(f"Evidence log verified: {check.records} records, head {check.head[:16]}")
    else:
        notes.append(f"EVIDENCE LOG BROKEN: {check.problem}")
    return ControlHealth(
        runs=tuple(r for r in recent if r.started_at <= now)[:10],
        missed_days=missed_days(report_runs, now, zone),
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
