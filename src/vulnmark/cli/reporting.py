"""``vulnmark report daily``, ``vulnmark runs`` and ``vulnmark evidence``."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from vulnmark import daily, evidence, runs
from vulnmark.cli.app import EXIT_EXTERNAL, App, csv_text, fatal, pass_app, table
from vulnmark.notify import DeliveryFailed, SmtpNotifier, smtp_settings_from_env
from vulnmark.report import ReportFormat
from vulnmark.store.schema import ts


def register(cli: click.Group) -> None:
    cli.add_command(report)
    cli.add_command(runs_command)
    cli.add_command(evidence_group)


@click.group()
def report() -> None:
    """Build and send reports."""


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
    if send:
        settings = smtp_settings_from_env(app.policy.smtp, os.environ)
        notifier = SmtpNotifier(settings, os.environ.get("VULNMARK_SMTP_PASSWORD"))
    recipients = to or app.policy.recipients
    try:
        result = daily.run(app.store, app.policy, app.now, notifier=notifier,
                           recipients=recipients)
    except DeliveryFailed as e:
        fatal(f"report not delivered after {e.attempts} attempts: {e} — kept as undelivered; "
              "the next report shows it", EXIT_EXTERNAL)
    body = result.bodies.get(fmt) or ReportFormat(fmt).to_format().format(result.report)
    if output:
        output.write_text(body, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    elif not send or fmt != "text" or sys.stdout.isatty():
        click.echo(body, nl=not body.endswith("\n"))
    if result.delivery:
        click.echo(f"sent to {', '.join(result.delivery.recipients)}: "
                   f"{result.delivery.message_id} ({result.delivery.server_reply})", err=True)


@click.command("runs")
@click.option("--kind", type=click.Choice(["check", "report"]), default=None)
@click.option("--limit", type=int, default=30, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def runs_command(app: App, kind: str | None, limit: int, fmt: str) -> None:
    """List recorded runs, newest first, with their delivery result.

    \b
    Example:
      vulnmark runs --kind report --limit 7
    """
    found = runs.list_runs(app.store, kind=kind, limit=limit)
    headers = ["id", "kind", "started_at", "delivery", "message_id", "counts", "error"]
    rows = [[r.id, r.kind, ts(r.started_at), r.delivery_status, r.message_id,
             " ".join(f"{k}={v}" for k, v in sorted(r.counts.items())), r.error] for r in found]
    if fmt == "json":
        click.echo(json.dumps([dict(zip(headers, row, strict=True)) | {
            "policy_digest": r.policy_digest, "report_digest": r.report_digest,
            "server_reply": r.server_reply, "counts": r.counts}
            for row, r in zip(rows, found, strict=True)], indent=2))
    elif fmt == "csv":
        click.echo(csv_text(headers, rows), nl=False)
    else:
        click.echo(table(headers, rows, max_width=48) if rows else "no runs yet\n", nl=False)


@click.group("evidence")
def evidence_group() -> None:
    """Verify and export the hash-chained evidence log."""


@evidence_group.command("verify")
@pass_app
def evidence_verify(app: App) -> None:
    """Recompute the hash chain; exit 1 and name the first bad record on tampering.

    \b
    Example:
      vulnmark evidence verify
    """
    result = app.store.verify_evidence()
    if result.ok:
        click.echo(f"evidence log OK: {result.records} records, head {result.head}")
        return
    click.echo(f"evidence log BROKEN at record {result.first_bad}: {result.problem}", err=True)
    raise SystemExit(1)


@evidence_group.command("export")
@click.option("--from", "since", type=click.DateTime(), default=None, help="Start date (UTC).")
@click.option("--to", "until", type=click.DateTime(), default=None, help="End date (UTC).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write JSON Lines here [default: standard output].")
@pass_app
def evidence_export(app: App, since: datetime | None, until: datetime | None,
                    output: Path | None) -> None:
    """Export evidence records of a period as JSON Lines (seq, at, kind, payload, hashes).

    \b
    Example:
      vulnmark evidence export --from 2026-01-01 --to 2026-12-31 -o evidence.jsonl
    """
    lines = []
    with app.store.reading() as conn:
        for e in evidence.iter_events(conn, since=ts(_utc(since)), until=ts(_utc(until))):
            lines.append(json.dumps({"seq": e.seq, "at": e.at, "kind": e.kind,
                                     "payload": e.payload, "prev_hash": e.prev_hash,
                                     "hash": e.hash}, ensure_ascii=False, sort_keys=True))
    text = "".join(line + "\n" for line in lines)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(lines)} records to {output}", err=True)
    else:
        click.echo(text, nl=False)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
