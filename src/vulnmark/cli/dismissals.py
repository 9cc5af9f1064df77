"""``vulnmark dismiss`` and ``vulnmark undismiss``: a person's "no action needed", recorded."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from vulnmark._time import stored
from vulnmark.check.kinds import NAMES as FINDING_KINDS
from vulnmark.cli.app import EXIT_USAGE, App, fatal, pass_app, table
from vulnmark.store import dismissals as store_dismissals
from vulnmark.triage import dismiss as triage
from vulnmark.triage.dismiss import REASONS


def register(cli: click.Group) -> None:
    cli.add_command(dismiss)
    cli.add_command(undismiss)


def _state(d: store_dismissals.Dismissal, now: datetime) -> str:
    if d.ended_at is not None:
        return f"ended: {d.ended_why}"
    return "active" if triage.is_active(d, now) else "expired"


@click.command("dismiss")
@click.argument("key", required=False)
@click.option("--kind", type=click.Choice(FINDING_KINDS), default=None,
              help="The finding kind dismissed on the ticket.")
@click.option("--reason", type=click.Choice(REASONS), default=None, help="The reason code.")
@click.option("--why", default=None, metavar="TEXT", help="Why no action is needed (recorded).")
@click.option("--until", "until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day the dismissal holds (policy timezone); default: until the ticket "
                   "changes or `vulnmark undismiss`.")
@click.option("--list", "show", is_flag=True,
              help="List the dismissals in force (with --all, also expired and ended ones).")
@click.option("--all", "everything", is_flag=True, help="With --list: every dismissal ever.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def dismiss(app: App, key: str | None, kind: str | None, reason: str | None, why: str | None,
            until: datetime | None, show: bool, everything: bool, fmt: str) -> None:
    """Dismiss a finding: it leaves the daily report, which still counts it.

    Who (your login name), when, why and until when go to the evidence log. A dismissal ends
    after --until, with `vulnmark undismiss`, or by itself when the ticket's text or labels
    change materially (a new comment, an edited description, a label added or removed).

    \b
    Reason codes: not_a_vulnerability, duplicate, accepted_risk, out_of_scope, other.

    \b
    Example:
      vulnmark dismiss AMQ-1239 --kind suspected --reason not_a_vulnerability \\
        --why "package name in a build log, no security statement"
      vulnmark dismiss VULN-4 --kind mismatch --reason accepted_risk \\
        --why "vendor rates it LOW; we keep HIGH" --until 2027-03-31
      vulnmark dismiss --list
    """
    if show:
        if key is not None or kind or reason or why or until:
            fatal("--list takes no KEY, --kind, --reason, --why or --until", EXIT_USAGE)
        _list(app, everything, fmt)
        return
    if key is None or kind is None or reason is None or why is None:
        missing = [name for name, v in (("KEY", key), ("--kind", kind), ("--reason", reason),
                                        ("--why", why)) if v is None]
        fatal(f"dismiss needs KEY --kind KIND --reason CODE --why TEXT (missing: "
              f"{', '.join(missing)}); or --list", EXIT_USAGE)
    end = None
    if until is not None:  # through that day, in the policy timezone
        zone = ZoneInfo(app.policy.timezone)
        end = datetime.combine(until.date() + timedelta(days=1), time(), zone)
    done = triage.dismiss(app.store, key, kind, reason=reason, why=why, by=getpass.getuser(),
                          at=app.write_now, until=end)
    click.echo(f"{key}: {kind} dismissed ({reason}) by {done.actor}"
               f"{' until ' + until.date().isoformat() if until else ''}; "
               "undo with `vulnmark undismiss " + key + "`")


def _list(app: App, everything: bool, fmt: str) -> None:
    now = app.now
    if everything:
        with app.store.reading() as conn:
            found = store_dismissals.listed(conn, active=False)
    else:
        found = triage.active(app.store, now)
    if fmt == "json":
        click.echo(json.dumps([{
            "ticket": d.ticket, "kind": d.kind, "reason": d.reason, "why": d.why,
            "by": d.actor, "at": stored(d.at), "until": stored(d.until) if d.until else None,
            "state": _state(d, now)} for d in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no dismissals in force" if not everything else "no dismissals recorded")
        return
    click.echo(table(["ticket", "kind", "reason", "by", "at", "until", "state", "why"], [
        [d.ticket, d.kind, d.reason, d.actor, str(stored(d.at))[:16],
         str(stored(d.until))[:10] if d.until else "-", _state(d, now), d.why] for d in found],
        max_width=60), nl=False)


@click.command("undismiss")
@click.argument("key")
@click.option("--kind", type=click.Choice(FINDING_KINDS), default=None,
              help="Only this finding kind [default: every dismissal of the ticket].")
@click.option("--why", default="undismissed", metavar="TEXT", help="Why (recorded).")
@pass_app
def undismiss(app: App, key: str, kind: str | None, why: str) -> None:
    """End a ticket's dismissals: its findings are listed in the report again.

    \b
    Example:
      vulnmark undismiss AMQ-1239 --why "the reporter found a real bypass"
    """
    ended = triage.undismiss(app.store, key, kind, by=getpass.getuser(), at=app.write_now,
                             why=why)
    click.echo(f"{key}: {', '.join(d.kind for d in ended)} no longer dismissed")
