"""``vulnmark report daily|remind`` and ``vulnmark runs``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from vulnmark._csv import csv_text
from vulnmark._files import write_atomic
from vulnmark._time import stored
from vulnmark.cli.app import (
    EXIT_EXTERNAL,
    App,
    ProgressBar,
    echo,
    echo_data,
    fatal,
    pass_app,
    table,
)
from vulnmark.control import daily, reminders, stamping
from vulnmark.deliver import SmtpNotifier, smtp_settings_from_env
from vulnmark.errors import DeliveryFailed
from vulnmark.report import ReportFormat
from vulnmark.report.interface import clean, one_line
from vulnmark.store import runs as store_runs


def register(cli: click.Group) -> None:
    cli.add_command(report)
    cli.add_command(runs_command)


@click.group()
def report() -> None:
    """Build and send reports.

    \b
    Example:
      vulnmark report daily --send --to mso@example.org
    """


@report.command("daily")
@click.option("--format", "fmt", type=click.Choice([f.value for f in ReportFormat]),
              default="text", show_default=True, help="What to print (or write with --output).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to a file instead of standard output.")
@click.option("--send", is_flag=True, help="Email it (text + HTML) to the recipients over SMTP.")
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Recipient, overriding the policy's (repeatable).")
@pass_app
def report_daily(app: App, fmt: str, output: Path | None, send: bool, to: tuple[str, ...]) -> None:
    """The daily classification report; every run is kept and recorded as evidence.

    An empty report is still a report (and is still sent): it proves the control ran.
    A delivery that fails after the retries exits 3; the run is kept as undelivered and the
    next report says so.

    \b
    Example:
      vulnmark report daily --format html -o report.html
      VULNMARK_SMTP_HOST=mail.example.org vulnmark report daily --send --to mso@example.org
    """
    notifier = None
    now = app.write_now if send else app.now  # a preview may be evaluated at any instant
    if send:
        settings = smtp_settings_from_env(app.config.smtp, os.environ)
        notifier = SmtpNotifier(settings, os.environ.get("VULNMARK_SMTP_PASSWORD"))
    bar = ProgressBar("Evaluating tickets")  # a first report over a large store takes a while
    job = daily.DailyJob(app.store, app.config, notifier=notifier, recipients=to, progress=bar)
    try:
        result = job.run(now)
    except DeliveryFailed as e:
        bar.close()
        if job.last_stamp is not None:
            echo(one_line(stamping.describe(job.last_stamp), 400), err=True)
        fatal(f"report not delivered after {e.attempts} attempts: {e} — kept as undelivered; "
              "the next report shows it", EXIT_EXTERNAL)
    finally:
        bar.close()
    body = result.bodies.get(fmt) or ReportFormat(fmt).to_format().format(result.report)
    if output:
        write_atomic(output, body)  # whole or not at all (m5), 0600
        echo(f"wrote {output}", err=True)
    elif not send or fmt != "text" or sys.stdout.isatty():
        echo_data(body, nl=not body.endswith("\n"))  # formats clean what they show
    if result.delivery:
        echo(f"sent to {', '.join(result.delivery.recipients)}: "
             f"{result.delivery.message_id} ({result.delivery.server_reply})", err=True)
    if result.stamp is not None:
        echo(one_line(stamping.describe(result.stamp), 400), err=True)


@report.command("resend")
@click.argument("run_id", type=int)
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Recipient, overriding the policy's (repeatable).")
@pass_app
def report_resend(app: App, run_id: int, to: tuple[str, ...]) -> None:
    """Send a stored report again, as it was kept (after an outage, or a lost mail).

    The delivery (or the failure) is recorded on that run; a slot whose report was not
    delivered is covered once it is.

    \b
    Example:
      vulnmark runs --kind report          # find the undelivered run
      vulnmark report resend 42
    """
    now = app.write_now
    settings = smtp_settings_from_env(app.config.smtp, os.environ)
    notifier = SmtpNotifier(settings, os.environ.get("VULNMARK_SMTP_PASSWORD"))
    job = daily.DailyJob(app.store, app.config, notifier=notifier, recipients=to)
    try:
        delivery = job.resend(run_id, now)
    except DeliveryFailed as e:
        if job.last_stamp is not None:
            echo(one_line(stamping.describe(job.last_stamp), 400), err=True)
        fatal(f"run {run_id} not delivered after {e.attempts} attempts: {e}", EXIT_EXTERNAL)
    echo(f"run {run_id} sent to {', '.join(delivery.recipients)}: "
         f"{delivery.message_id} ({delivery.server_reply})")
    if job.last_stamp is not None:
        echo(one_line(stamping.describe(job.last_stamp), 400), err=True)


@report.command("remind")
@click.option("--dry-run", is_flag=True, help="Show who would get what; send nothing.")
@pass_app
def report_remind(app: App, dry_run: bool) -> None:
    """Send today's reminders to the reporters of tickets that need classification.

    Each reporter (or assignee, with [reminders] to = "assignee") gets one short email a day
    listing their tickets, the suggestion with its evidence and the exact labels to add; after
    [reminders] escalate_after_days the report's recipients are copied. The daily report sends
    them too when [reminders] enabled = true. Addresses come from the ticket (Jira
    emailAddress), else [reminders.addresses], else a reporter field that is an address.

    \b
    Example:
      vulnmark report remind --dry-run
      VULNMARK_SMTP_HOST=mail.example.org vulnmark report remind
    """
    job = daily.DailyJob(app.store, app.config)
    planned = reminders.plan(app.store, app.config, job.build(app.now).findings, app.now)
    if not planned:
        echo("no ticket needs classification: no reminder")
        return
    for r in planned:
        status = ("NOT REACHABLE (add [reminders.addresses])" if r.address is None else
                  "already reminded today" if r.already_sent else
                  "to " + r.address + (" cc the recipients" if r.escalate else ""))
        role = " (assignee)" if r.role == "assignee" else ""
        echo(f"{clean(r.author)}{role}: {len(r.findings)} ticket(s), {status}")
        for f in r.findings:
            echo(f"  {clean(f.ticket)}: {reminders.labels_to_add(f, app.config)}")
    if dry_run:
        return
    settings = smtp_settings_from_env(app.config.smtp, os.environ)
    notifier = SmtpNotifier(settings, os.environ.get("VULNMARK_SMTP_PASSWORD"))
    sent = reminders.send(app.store, app.config, notifier, planned, app.write_now,
                          app.config.recipients)
    echo(f"sent {len(sent)} reminder(s)", err=True)


@click.command("runs")
@click.option("--kind", type=click.Choice(["check", "report", "sync", "intake"]), default=None,
              help="Only runs of this kind (sync: Jira syncs, intake: live NVD intake; "
                   "failed ones with their error).")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True,
              help="At most this many runs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def runs_command(app: App, kind: str | None, limit: int, fmt: str) -> None:
    """List recorded runs, newest first, with their delivery result.

    \b
    Example:
      vulnmark runs --kind report --limit 7
    """
    found = store_runs.list_runs(app.store, kind=kind, limit=limit)
    headers = ["id", "kind", "started_at", "delivery", "message_id", "counts", "error"]
    rows = [[r.id, r.kind, stored(r.started_at), r.delivery_status, r.message_id,
             " ".join(f"{k}={v}" for k, v in sorted(r.counts.items())), r.error] for r in found]
    if fmt == "json":
        echo_data(json.dumps([dict(zip(headers, row, strict=True)) | {
            "policy_digest": r.policy_digest, "report_digest": r.report_digest,
            "server_reply": r.server_reply, "counts": r.counts}
            for row, r in zip(rows, found, strict=True)], indent=2))
    elif fmt == "csv":
        echo_data(csv_text(headers, rows), nl=False)
    else:
        echo(table(headers, rows, max_width=48) if rows else "no runs yet\n", nl=False)
