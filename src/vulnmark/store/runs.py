"""Run records: every check, report and sync run, its stored report bodies and its deliveries,
each written with its evidence record in the same transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from vulnmark._time import parse, stored
from vulnmark.evidence.events import ReportDelivered, ReportNotDelivered, RunRecorded
from vulnmark.model import Run
from vulnmark.store import events
from vulnmark.store.schema import reports, runs
from vulnmark.store.store import Store


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
            kind=kind, started_at=stored(at), finished_at=stored(at),
            policy_digest=policy_digest, counts=json.dumps(dict(counts), sort_keys=True),
            report_digest=report_digest, delivery_status=delivery_status, error=error,
        )).scalar_one())
        if bodies:
            conn.execute(reports.insert(), [
                {"run_id": run_id, "format": fmt, "body": body} for fmt, body in bodies.items()
            ])
        digests = {fmt: hashlib.sha256(body.encode()).hexdigest()
                   for fmt, body in sorted((bodies or {}).items())}
        events.record(conn, RunRecorded(run_id, kind, policy_digest, dict(counts), report_digest,
                                        error or None, digests or None, delivery_status), at)
    return run_id


def record_delivered(store: Store, run_id: int, *, at: datetime, message_id: str,
                     server_reply: str, recipients: Sequence[str], attempts: int,
                     sent_at: datetime) -> None:
    """A report the mail server accepted (its Message-ID and reply)."""
    with store.transaction() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            delivery_status="delivered", message_id=message_id, server_reply=server_reply,
            error=None))
        events.record(conn, ReportDelivered(run_id, message_id, server_reply, tuple(recipients),
                                            attempts, sent_at), at)


def record_failed(store: Store, run_id: int, *, at: datetime, error: str | None,
                  attempts: int = 0) -> None:
    """A report that could not be delivered, and why."""
    with store.transaction() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            delivery_status="failed", error=error))
        events.record(conn, ReportNotDelivered(run_id, error, attempts), at)


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


def get_run(store: Store, run_id: int) -> Run | None:
    with store.reading() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    return None if row is None else _run(row)


def covered(store: Store, slot: datetime, following: datetime | None) -> bool:
    """Whether a report run started at or after ``slot`` and before ``following`` was
    delivered (a preview, a failed or a pending delivery never covers a slot)."""
    query = select(runs.c.id).where(runs.c.kind == "report", runs.c.started_at >= stored(slot),
                                    runs.c.delivery_status == "delivered")
    if following is not None:
        query = query.where(runs.c.started_at < stored(following))
    with store.reading() as conn:
        return conn.execute(query.limit(1)).first() is not None


def report_bodies(conn: Connection, run_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(run id, format, body) of the stored reports of ``run_ids``."""
    rows = conn.execute(select(reports.c.run_id, reports.c.format, reports.c.body).where(
        reports.c.run_id.in_(list(run_ids))))
    return [(int(run_id), str(fmt), str(body)) for run_id, fmt, body in rows]


def stored_bodies(store: Store, run_id: int) -> dict[str, str]:
    """The stored report bodies of one run, by format."""
    with store.reading() as conn:
        return {fmt: body for _, fmt, body in report_bodies(conn, [run_id])}


def first_report_at(conn: Connection) -> datetime | None:
    """When the first report run ever started."""
    return parse(conn.execute(select(func.min(runs.c.started_at)).where(
        runs.c.kind == "report")).scalar())


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


def last_delivered_at(conn: Connection, before: datetime) -> datetime | None:
    """When the newest report run before ``before`` that was delivered started."""
    return parse(conn.execute(select(func.max(runs.c.started_at)).where(
        runs.c.kind == "report", runs.c.delivery_status == "delivered",
        runs.c.started_at < stored(before))).scalar())
