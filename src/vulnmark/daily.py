"""The daily job: evaluate, build the report, keep it, deliver it, record everything."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vulnmark import runs
from vulnmark.check import results
from vulnmark.check.engine import Progress, Reader, fewer_collections
from vulnmark.errors import DeliveryFailed, NotifyError
from vulnmark.notify import Delivery, Notifier
from vulnmark.policy import Policy
from vulnmark.report import DailyReport, ReportFormat, subject
from vulnmark.store import Store
from vulnmark.store import runs as store_runs

logger = logging.getLogger(__name__)


def build(store: Store, policy: Policy, now: datetime, *,
          reader: Reader | None = None,
          progress: Progress | None = None) -> DailyReport:
    result = results.check(store, policy, now, reader=reader, progress=progress)
    return DailyReport.from_policy(
        policy, generated_at=now, tickets=result.tickets,
        vulnerabilities=result.vulnerabilities, by_class=result.by_class,
        findings=result.findings, health=runs.control_health(store, policy, now),
        by_kind=result.by_kind,
    )


@dataclass(frozen=True)
class DailyRun:
    report: DailyReport
    run_id: int
    bodies: dict[str, str]
    delivery: Delivery | None = None


def run(store: Store, policy: Policy, now: datetime, *, notifier: Notifier | None = None,
        recipients: Sequence[str] = (), reader: Reader | None = None,
        progress: Progress | None = None) -> DailyRun:
    """Build and keep the report; send it when a notifier is given.

    The report is stored (text, HTML and JSON) before any delivery is tried, so a failed
    delivery loses nothing: the run is recorded as undelivered, the next report shows it, and
    :class:`~vulnmark.notify.DeliveryFailed` propagates for the caller's exit code.
    """
    with fewer_collections():  # thousands of findings, each several objects
        report = build(store, policy, now, reader=reader, progress=progress)
        bodies = {fmt.value: fmt.to_format().format(report)
                  for fmt in (ReportFormat.TEXT, ReportFormat.HTML, ReportFormat.JSON)}
    digest = hashlib.sha256(bodies["json"].encode()).hexdigest()
    counts = {"tickets": report.tickets, "vulnerabilities": report.vulnerabilities,
              **{f"kind.{k}": n for k, n in report.by_kind.items() if n},
              **{f"class.{k}": n for k, n in report.by_class.items()}}
    run_id = store_runs.record_run(store, kind="report", at=now, policy_digest=policy.digest(),
                             counts=counts, report_digest=digest, bodies=bodies,
                             delivery_status="pending" if notifier else "not_sent")
    if notifier is None:
        return DailyRun(report, run_id, bodies)
    if not recipients:
        store_runs.record_failed(store, run_id, at=now, error="no recipients configured")
        raise NotifyError("no recipients: set 'recipients' in vulnmark.toml or pass --to")
    try:
        delivery = notifier.send(subject(report), bodies["text"], bodies["html"], recipients)
    except DeliveryFailed as e:
        store_runs.record_failed(store, run_id, at=now,
                                 error=f"{e} (last reply: {e.last_reply})", attempts=e.attempts)
        raise
    except NotifyError as e:
        store_runs.record_failed(store, run_id, at=now, error=str(e))
        raise
    store_runs.record_delivered(store, run_id, at=now, message_id=delivery.message_id,
                                server_reply=delivery.server_reply,
                                recipients=delivery.recipients, attempts=delivery.attempts,
                                sent_at=delivery.sent_at)
    return DailyRun(report, run_id, bodies, delivery)
