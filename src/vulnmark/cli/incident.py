"""``vulnmark incident …``: CCADB incidents and audit findings, their action items, the status
updates and reports (:mod:`vulnmark.incident`)."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime

import click

from vulnmark.cli.app import App, echo, echo_data, parse_instant, pass_app, table
from vulnmark.incident import controls, service, status
from vulnmark.incident.controls import CONTROLS
from vulnmark.incident.export import as_dict
from vulnmark.incident.service import When
from vulnmark.model_incident import FINDING_SEVERITIES, SOURCES
from vulnmark.report.interface import one_line


class _Day(click.ParamType[date]):
    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:  # a time (--effective TIME, as the other commands take it): its UTC day
            return parse_instant(text, "").date()
        except click.BadParameter:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class _Instant(click.ParamType[datetime]):
    name = "ISO-8601"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(str(value).strip(), "")
        except click.BadParameter as refused:
            self.fail(refused.message, param, ctx)


DAY, INSTANT = _Day(), _Instant()

by_option = click.option("--by", default=None, help="Who does it [default: the login name].")
effective_option = click.option(
    "--effective", type=DAY, default=None,
    help="The day the change took effect, when earlier than today (needs --why).")
why_option = click.option("--why", default=None, metavar="TEXT",
                          help="Why a backdated change is entered late.")


def when(app: App, by: str | None, effective: date | None = None,
         why: str | None = None) -> When:
    """Who writes, and when: the wall clock (``--now`` only under the clock override)."""
    return When(at=app.write_now, by=by or getpass.getuser(), effective=effective, why=why)


def register(cli: click.Group) -> None:
    cli.add_command(incident)


@click.group()
def incident() -> None:
    """CCADB incidents and audit findings: action items, status updates, reports, deadlines.

    \b
    Example:
      vulnmark incident new --title "Findings in 2023 Audit" --ca-owner "Example CA" \\
        --source Audit
      vulnmark incident action add 1 --title "JIRA AUTOMATIC REPORT" --kind Detect \\
        --due 2023-11-30
      vulnmark incident update 1 --date 2023-11-29
    """


@incident.command("new")
@click.option("--title", required=True, help="Brief title (the bug summary follows it).")
@click.option("--ca-owner", required=True, help="The CA Owner name as spelled in the CCADB.")
@click.option("--source", type=click.Choice(SOURCES, case_sensitive=False), default="Audit",
              show_default=True, help="Source of incident disclosure.")
@click.option("--ccadb-id", default=None, metavar="A000000", help="CA Owner CCADB unique ID.")
@click.option("--policy", "policies", multiple=True,
              help="A relevant policy: name, version and section (repeatable).")
@click.option("--aware", type=INSTANT, default=None,
              help="When the CA became aware of the incident (UTC).")
@click.option("--bug", type=int, default=None, help="Its Bugzilla bug id.")
@effective_option
@why_option
@by_option
@pass_app
def incident_new(app: App, title: str, ca_owner: str, source: str, ccadb_id: str | None,
                 policies: tuple[str, ...], aware: datetime | None, bug: int | None,
                 effective: date | None, why: str | None, by: str | None) -> None:
    """Open an incident; prints its id. Its vocabulary (kinds, statuses, templates) is the one
    of the IRG version in force on the day it opened (--effective, else today).

    \b
    Example:
      vulnmark incident new --title "Findings in 2023 Audit" --ca-owner "Example CA" \\
        --source Audit --effective 2023-11-21 --why "kept on paper until now"
    """
    app.creates_store = True
    found = service.open_incident(
        app.store, when(app, by, effective, why), title=title, ca_owner=ca_owner,
        source=source, ccadb_id=ccadb_id, aware_at=aware, bug=bug, policies=policies)
    echo(found.id)


@incident.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def incident_list(app: App, fmt: str) -> None:
    """List the incidents with their action items' progress.

    \b
    Example:
      vulnmark incident list --format json
    """
    found = service.all_incidents(app.store)
    day = app.now.date()
    if fmt == "json":
        echo_data(json.dumps([as_dict(i, day) for i in found], indent=2, ensure_ascii=False))
        return
    rows = []
    for i in found:
        shown = status.rows(i, day)
        done = sum(1 for r in shown if r.group == "done")
        rows.append([i.id, one_line(i.title), one_line(i.ca_owner), i.source, i.opened.isoformat(),
                     i.bug or "-", f"{done}/{len(shown)}"])
    echo(table(["id", "title", "CA owner", "source", "opened", "bug", "items done"],
               rows), nl=False)


@incident.command("show")
@click.argument("incident_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table",
              help="md: the Action Items Status table (Markdown) of --date.")
@click.option("--date", "day", type=DAY, default=None, help="As of this day [default: today].")
@pass_app
def incident_show(app: App, incident_id: int, fmt: str, day: date | None) -> None:
    """Show an incident and its action items as they stood on a day.

    \b
    Example:
      vulnmark incident show 1 --format md --date 2023-11-21
    """
    found = service.get(app.store, incident_id)
    day = day or app.now.date()
    if fmt == "json":
        echo_data(json.dumps(as_dict(found, day), indent=2, ensure_ascii=False))
        return
    if fmt == "md":
        echo(status.table(found, day), nl=False)
        return
    irg = service.irg_of(found)
    echo(f"incident {found.id}  {status.cell(found.title)}")
    echo(f"CA owner: {status.cell(found.ca_owner)}  CCADB id: {found.ccadb_id or '-'}  "
         f"source: {found.source}  opened: {found.opened}  IRG {irg.version}  "
         f"bug: {found.bug or '-'}")
    echo(f"as of {day}:")
    rows = [[r.item.number, one_line(r.item.title), r.item.kind, r.state.due.isoformat(),
             r.state.status, r.state.effective.isoformat()] for r in status.rows(found, day)]
    echo(table(["#", "action item", "kind", "due", "status", "since"], rows), nl=False)
    for r in status.rows(found, day):
        checked = controls.check(app.store, r.item, day)
        if checked:
            echo(f"{one_line(r.item.title)} <- {r.item.control}: {checked}")
    for f in found.findings:
        echo(f"finding {f.number}: {status.cell(f.standard)} {status.cell(f.clause)} "
             f"({f.severity}), audit {f.audit_start}..{f.audit_end}")
    for p in found.posts:
        echo(f"post {p.number}: {p.kind} {p.day} ({p.template})"
             + (f" comment {p.comment_id}" if p.comment_id else ""))


@incident.group("action")
def action() -> None:
    """Action items: add one, change its status or due date.

    \b
    Example:
      vulnmark incident action add 1 --title "IMPROVE REQUIREMENTS" --kind Prevent \\
        --due 2023-10-20
      vulnmark incident action set 1 "IMPROVE REQUIREMENTS" --status DONE
    """


@action.command("add")
@click.argument("incident_id", type=int)
@click.option("--title", required=True)
@click.option("--kind", required=True,
              help="Prevent, Mitigate or Detect (IRG 1.0/2.0 incidents: also ***).")
@click.option("--due", type=DAY, required=True, help="Due date.")
@click.option("--status", "status_", default=None,
              help="Initial status [default: OPEN under IRG 1.0/2.0, Ongoing since 3.0].")
@click.option("--root-cause", "root_causes", default="", help="Corresponding root cause(s).")
@click.option("--criteria", default="", help="Evaluation criteria.")
@click.option("--note", default="", help="A paragraph for the next status update.")
@click.option("--control", type=click.Choice(CONTROLS), default=None,
              help="A vulnmark control that proves the item (`incident show` checks it).")
@effective_option
@why_option
@by_option
@pass_app
def action_add(app: App, incident_id: int, title: str, kind: str, due: date,
               status_: str | None, root_causes: str, criteria: str, note: str,
               control: str | None, effective: date | None, why: str | None,
               by: str | None) -> None:
    """Add an action item.

    \b
    Example:
      vulnmark incident action add 1 --title "JIRA AUTOMATIC REPORT" --kind Detect \\
        --due 2023-11-30 --effective 2023-10-20 --why "entered from the report"
    """
    item = service.add_action(app.store, incident_id, when(app, by, effective, why),
                              title=title, kind=kind, due=due, status=status_,
                              root_causes=root_causes, criteria=criteria, note=note,
                              control=control)
    echo(f"incident {incident_id}: action item {item.number} {status.cell(item.title)} "
         f"({item.history[0].status}, due {due})")


@action.command("set")
@click.argument("incident_id", type=int)
@click.argument("item")
@click.option("--status", "status_", default=None, help="New status.")
@click.option("--due", type=DAY, default=None, help="New due date.")
@click.option("--note", default="", help="What happened (the status update's paragraph).")
@effective_option
@why_option
@by_option
@pass_app
def action_set(app: App, incident_id: int, item: str, status_: str | None, due: date | None,
               note: str, effective: date | None, why: str | None, by: str | None) -> None:
    """Change an action item (by number or title): status, due date, a note. The history keeps
    every state; the status updates show it as of their day.

    \b
    Example:
      vulnmark incident action set 1 "JIRA AUTOMATIC REPORT" --status DONE \\
        --note "The daily report is mailed to the MSO every morning."
    """
    done = service.change_action(app.store, incident_id, item, when(app, by, effective, why),
                                 status=status_, due=due, note=note)
    now = done.history[-1]
    echo(f"incident {incident_id}: action item {done.number} {status.cell(done.title)} "
         f"{now.status}, due {now.due} (from {now.effective})")


@incident.group("finding")
def finding() -> None:
    """Audit findings: the standard and clause, the audit dates, the fulfilment report.

    \b
    Example:
      vulnmark incident finding add 1 --standard "ETSI EN 319 401" \\
        --clause "7.9 REQ-7.9-10" --severity minor --audit-start 2023-09-11 \\
        --audit-end 2023-09-13 --text "class of a vulnerability only in a comment"
    """


@finding.command("add")
@click.argument("incident_id", type=int)
@click.option("--standard", required=True)
@click.option("--clause", required=True)
@click.option("--text", "text_", default="", help="The finding as the auditor wrote it.")
@click.option("--severity", type=click.Choice(FINDING_SEVERITIES, case_sensitive=False),
              required=True)
@click.option("--audit-start", type=DAY, required=True, help="First day of the on-site audit.")
@click.option("--audit-end", type=DAY, required=True, help="Last day of the on-site audit.")
@click.option("--found", type=DAY, default=None, help="Day the finding was made.")
@click.option("--period-end", type=DAY, default=None,
              help="End of the audit period [default: --audit-end].")
@click.option("--attestation", type=DAY, default=None, help="Date of the attestation letter.")
@by_option
@pass_app
def finding_add(app: App, incident_id: int, standard: str, clause: str, text_: str,
                severity: str, audit_start: date, audit_end: date, found: date | None,
                period_end: date | None, attestation: date | None, by: str | None) -> None:
    """Add an audit finding to an incident.

    \b
    Example:
      vulnmark incident finding add 1 --standard "ETSI EN 319 401" \\
        --clause "7.9 REQ-7.9-10" --severity minor --audit-start 2023-09-11 \\
        --audit-end 2023-09-13 --found 2023-09-12 --attestation 2023-10-16
    """
    f = service.add_finding(app.store, incident_id, when(app, by), standard=standard,
                            clause=clause, text_=text_, severity=severity.lower(),
                            audit_start=audit_start, audit_end=audit_end, found=found,
                            period_end=period_end, attestation=attestation)
    echo(f"incident {incident_id}: finding {f.number} {status.cell(f.standard)} "
         f"{status.cell(f.clause)}")


@finding.command("set")
@click.argument("incident_id", type=int)
@click.argument("number", type=int)
@click.option("--attestation", type=DAY, default=None, help="Date of the attestation letter.")
@click.option("--fulfilment-sent", type=DAY, default=None,
              help="Day the non-conformity fulfilment report was sent.")
@by_option
@pass_app
def finding_set(app: App, incident_id: int, number: int, attestation: date | None,
                fulfilment_sent: date | None, by: str | None) -> None:
    """Record the attestation letter or the non-conformity fulfilment report of a finding.

    \b
    Example:
      vulnmark incident finding set 1 1 --fulfilment-sent 2023-12-07
    """
    if attestation is None and fulfilment_sent is None:
        raise click.UsageError("give --attestation or --fulfilment-sent")
    f = service.set_finding(app.store, incident_id, number, when(app, by),
                            attestation=attestation, fulfilment_sent=fulfilment_sent)
    echo(f"incident {incident_id}: finding {f.number} attestation "
         f"{f.attestation or '-'}, fulfilment report sent {f.fulfilment_sent or '-'}")
