"""The daily job: evaluate, build the report, keep it, deliver it, record everything.

    job = DailyJob(store, config, notifier=SmtpNotifier(config.smtp, password))
    run = job.run(now)          # the report is kept (and sent) and the run recorded
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from vulnmark.check import results
from vulnmark.check.engine import CheckOptions, Progress, Reader, fewer_collections
from vulnmark.config.load import Config
from vulnmark.control import health as runs
from vulnmark.control import reminders, scope, stamping
from vulnmark.deliver import Attachment, Delivery, Notifier
from vulnmark.errors import DeliveryFailed, NotifyError
from vulnmark.evidence.chain import Verification
from vulnmark.evidence.events import TicketsImported
from vulnmark.incident.obligations import report_notes
from vulnmark.incident.service import all_incidents
from vulnmark.intake.status import digest as intake_digest
from vulnmark.report import DailyReport, ReportFormat, subject
from vulnmark.report.csv import CsvFormat
from vulnmark.report.mail import attachments, mail_bodies, packed
from vulnmark.sources.demo import sample_tickets
from vulnmark.store import Store
from vulnmark.store import runs as store_runs

logger = logging.getLogger(__name__)

#: Stored bodies besides the report's text, HTML and JSON: the email as sent (its text and HTML
#: parts) and, for a sent run, the CSV attached to it.
MAIL_TEXT, MAIL_HTML, CSV = "mail_text", "mail_html", "csv"


@dataclass(frozen=True)
class DailyRun:
    report: DailyReport
    run_id: int
    bodies: dict[str, str]
    delivery: Delivery | None = None
    stamp: stamping.Stamp | None = None
    """The time-stamp of the head after the run, or its failure (None: no TSA configured)."""


class DailyJob:
    """The daily control of one store under one configuration.

    ``notifier`` sends the report (None: it is built and kept, not sent); ``recipients``
    overrides the configured ones (``--to``). ``reader``, ``progress`` and ``options`` go to
    the check (:func:`vulnmark.check.results.check`).
    """

    def __init__(self, store: Store, config: Config, *, notifier: Notifier | None = None,
                 recipients: Sequence[str] = (), reader: Reader | None = None,
                 progress: Progress | None = None, options: CheckOptions | None = None) -> None:
        self.store = store
        self.config = config
        self.notifier = notifier
        self.recipients = tuple(recipients) or config.recipients
        self.reader = reader
        self.progress = progress
        self.options = options
        self.last_run_id: int | None = None
        """The run the last :meth:`run` or :meth:`resend` recorded (also when it raised)."""
        self.last_stamp: stamping.Stamp | None = None
        """The time-stamp (or its failure) after the last :meth:`run` or :meth:`resend`,
        also when the delivery failed."""

    def build(self, now: datetime) -> DailyReport:
        """The report at ``now`` (the evaluations are brought up to date first)."""
        policy = self.config.policy
        result = results.check(self.store, policy, now, reader=self.reader,
                               progress=self.progress, options=self.options)
        listed = scope.scoped(self.store, result.findings, now,
                              self.config.report.suspected_scope)
        health = runs.control_health(self.store, policy, now, self.config.schedule,
                                     page_configured=self.config.publish is not None)
        if self.config.reminders.enabled:
            note = reminders.unreachable_note(
                reminders.plan(self.store, self.config, listed.findings, now))
            if note:
                health = replace(health, notes=(*health.notes, note))
        incident_notes = report_notes(
            all_incidents(self.store), now, due_soon_hours=int(policy.due_soon_hours),
            fulfilment_months=self.config.incident.fulfilment_months)
        if incident_notes:
            health = replace(health, notes=(*health.notes, *incident_notes))
        if self.notifier is not None and (notes := self.notifier.health_notes()):
            health = replace(health, notes=(*health.notes, *notes))
        return DailyReport.from_policy(
            policy, generated_at=now, tickets=result.tickets,
            vulnerabilities=result.vulnerabilities, by_class=result.by_class,
            findings=listed.findings, health=health,
            by_kind=result.by_kind, left_out=scope.left_out(listed, policy.timezone),
            intake=intake_digest(self.store, policy, now),
        )

    def run(self, now: datetime) -> DailyRun:
        """Build and keep the report; send it when there is a notifier.

        The report is stored (text, HTML and JSON) before any delivery is tried, so a failed
        delivery loses nothing: the run is recorded as undelivered, the next report shows it,
        and :class:`~vulnmark.errors.DeliveryFailed` propagates for the caller's exit code.
        """
        store = self.store
        with fewer_collections():  # thousands of findings, each several objects
            report = self.build(now)
            bodies = {fmt.value: fmt.to_format().format(report)
                      for fmt in (ReportFormat.TEXT, ReportFormat.HTML, ReportFormat.JSON)}
            mail = mail_bodies(report, self.config.report.mail_items)
            # the email as sent is kept too: a resend (by hand, or the scheduler's retry)
            # sends it again
            bodies |= {MAIL_TEXT: mail.text, MAIL_HTML: mail.html}
            if self.notifier is not None:
                bodies[CSV] = CsvFormat().format(report)
        digest = hashlib.sha256(bodies["json"].encode()).hexdigest()
        counts = {"tickets": report.tickets, "vulnerabilities": report.vulnerabilities,
                  **{f"kind.{k}": n for k, n in report.by_kind.items() if n},
                  **{f"class.{k}": n for k, n in report.by_class.items()}}
        run_id = store_runs.record_run(
            store, kind="report", at=now, policy_digest=self.config.policy.digest(),
            counts=counts, report_digest=digest, bodies=bodies,
            delivery_status="pending" if self.notifier else "not_sent")
        self.last_run_id = run_id
        try:
            delivery = self._send(run_id, report, bodies, now) if self.notifier else None
        finally:  # a delivered or failed report: its head is time-stamped either way
            self.last_stamp = stamping.stamp_head(store, self.config.evidence, run_id, now)
        return DailyRun(report, run_id, bodies, delivery, self.last_stamp)

    def _send(self, run_id: int, report: DailyReport, bodies: dict[str, str],
              now: datetime) -> Delivery:
        assert self.notifier is not None
        # the email stored with the run (and sent again as such by a resend)
        delivery = self._deliver(run_id, subject(report), bodies[MAIL_TEXT], bodies[MAIL_HTML],
                                 now, attachments(report, bodies["html"], bodies[CSV]))
        if self.config.reminders.enabled:
            reminders.send(self.store, self.config, self.notifier,
                           reminders.plan(self.store, self.config, report.findings, now), now,
                           self.recipients)
        return delivery

    def resend(self, run_id: int, now: datetime) -> Delivery:
        """Send a stored report again as the email it was (``report resend``, and the
        scheduler's retry of a failed delivery): the summary with the full report attached
        (HTML, and CSV when the run was sent); a run kept before the email was stored sends its
        full text and HTML. The delivery is recorded on that run."""
        bodies = store_runs.stored_bodies(self.store, run_id)
        run = store_runs.get_run(self.store, run_id)
        if "text" not in bodies or "html" not in bodies or run is None:
            raise NotifyError(f"run {run_id}: no stored report to resend")
        if self.notifier is None:
            raise NotifyError("resend needs a mail server (VULNMARK_SMTP_HOST or [smtp])")
        self.last_run_id = run_id
        first = bodies["text"].splitlines()[0] if bodies["text"] else f"run {run_id}"
        title = f"[vulnmark] {first} (resent)"
        files: tuple[Attachment, ...] = ()
        text, html = bodies["text"], bodies["html"]
        if MAIL_TEXT in bodies and MAIL_HTML in bodies:
            day = run.started_at.astimezone(ZoneInfo(self.config.policy.timezone)).date()
            name = f"vulnmark-report-{day.isoformat()}"
            full = [Attachment(f"{name}.html", html.encode(), "text/html")]
            if CSV in bodies:
                full.append(Attachment(f"{name}.csv", bodies[CSV].encode(), "text/csv"))
            files = packed(name, full, run.started_at)
            text, html = bodies[MAIL_TEXT], bodies[MAIL_HTML]
        try:
            return self._deliver(run_id, title, text, html, now, files)
        finally:
            self.last_stamp = stamping.stamp_head(self.store, self.config.evidence, run_id,
                                                  now)

    def _deliver(self, run_id: int, title: str, text: str, html: str, now: datetime,
                 files: Sequence[Attachment] = ()) -> Delivery:
        """Send, and record the delivery or the failure on ``run_id``."""
        store = self.store
        assert self.notifier is not None
        if not self.recipients:
            store_runs.record_failed(store, run_id, at=now, error="no recipients configured")
            raise NotifyError("no recipients: set 'recipients' in vulnmark.toml or pass --to")
        try:
            delivery = self.notifier.send(title, text, html, self.recipients,
                                          attachments=files)
        except DeliveryFailed as e:
            store_runs.record_failed(store, run_id, at=now,
                                     error=f"{e} (last reply: {e.last_reply})",
                                     attempts=e.attempts)
            raise
        except NotifyError as e:
            store_runs.record_failed(store, run_id, at=now, error=str(e))
            raise
        store_runs.record_delivered(store, run_id, at=now, message_id=delivery.message_id,
                                    server_reply=delivery.server_reply,
                                    recipients=delivery.recipients, attempts=delivery.attempts,
                                    sent_at=delivery.sent_at)
        return delivery


def demo(config: Config, now: datetime) -> tuple[DailyRun, Verification]:
    """``vulnmark demo``: the daily job over the sample tickets (:mod:`vulnmark.sources.demo`)
    in a fresh temporary store; the run and the store's verified evidence log."""
    with tempfile.TemporaryDirectory(prefix="vulnmark-demo-") as tmp:
        with Store.open(f"sqlite:///{Path(tmp) / 'demo.db'}") as store:
            store.upsert_tickets(sample_tickets(now), actor="demo", at=now,
                                 event=TicketsImported("demo samples"))
            run = DailyJob(store, config).run(now)
            return run, store.verify_evidence()
