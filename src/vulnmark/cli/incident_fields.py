"""``vulnmark incident set|factor|lesson|related|due``: the report's narrative parts, and what
every incident owes by when."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import click

from vulnmark._time import iso
from vulnmark.cli.app import EXIT_FINDINGS, App, pass_app, table
from vulnmark.cli.incident import DAY, by_option, incident, when
from vulnmark.errors import IncidentError
from vulnmark.incident import service
from vulnmark.incident.obligations import STATES, obligations
from vulnmark.incident.templates import FIELDS
from vulnmark.model_incident import (
    LESSON_KINDS,
    ContributingFactor,
    Incident,
    IncidentId,
    Lesson,
    RelatedIncident,
)
from vulnmark.report.interface import one_line

#: Fields of the incident itself that ``incident set`` also takes.
OWN_FIELDS = ("bug", "ccadb_id")


@incident.command("set")
@click.argument("incident_id", type=int)
@click.argument("field", type=click.Choice(sorted([*FIELDS, *OWN_FIELDS])))
@click.argument("value")
@by_option
@pass_app
def incident_set(app: App, incident_id: int, field: str, value: str, by: str | None) -> None:
    """Set a narrative field of the reports (an empty VALUE clears it: the report says N/A),
    or the incident's Bugzilla bug or CCADB id.

    \b
    Example:
      vulnmark incident set 1 description "A HIGH vulnerability's class was only in a comment."
      vulnmark incident set 1 total_certificates 0
      vulnmark incident set 1 bug 1863375
    """
    text = value.strip()

    def apply(i: Incident) -> Incident:
        if field == "bug":
            if not text.isdigit() or int(text) < 1:
                raise IncidentError(f"bug {value!r}: a Bugzilla bug id is a positive number")
            return replace(i, bug=int(text))
        if field == "ccadb_id":
            if not service.CCADB_ID.fullmatch(text):
                raise IncidentError(f"ccadb_id {value!r}: expected \"A\" and 6 digits "
                                    "(A000123)")
            return replace(i, ccadb_id=text)
        fields = {k: v for k, v in i.fields.items() if k != field}
        return replace(i, fields={**fields, field: text} if text else fields)

    service.edit(app.store, IncidentId(incident_id), when(app, by), "field_set", apply,
                 field=field, value=text)
    name = FIELDS.get(field, field)
    click.echo(f"incident {incident_id}: {name} {'set' if text else 'cleared'}")


@incident.group("factor")
def factor() -> None:
    """Contributing factors of the Root Cause Analysis (Full report).

    \b
    Example:
      vulnmark incident factor add 1 --title "No machine-readable classification" \\
        --description "The class was written in a comment" --detection "External audit"
    """


@factor.command("add")
@click.argument("incident_id", type=int)
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--timeline", default="")
@click.option("--detection", default="")
@click.option("--interaction", default="", help="Interaction with other factors.")
@click.option("--methodology", default="", help="e.g. 5-Whys, Fishbone.")
@by_option
@pass_app
def factor_add(app: App, incident_id: int, title: str, description: str, timeline: str,
               detection: str, interaction: str, methodology: str, by: str | None) -> None:
    """Add a contributing factor.

    \b
    Example:
      vulnmark incident factor add 1 --title "No rule for marking" --methodology 5-Whys
    """
    new = ContributingFactor(service.text(title, "--title"), description.strip(),
                             timeline.strip(), detection.strip(), interaction.strip(),
                             methodology.strip())
    done = service.edit(app.store, IncidentId(incident_id), when(app, by), "factor_added",
                        lambda i: replace(i, factors=(*i.factors, new)), title=new.title)
    click.echo(f"incident {incident_id}: contributing factor #{len(done.factors)}")


@incident.group("lesson")
def lesson() -> None:
    """Lessons learned (Full report).

    \b
    Example:
      vulnmark incident lesson add 1 --kind went-badly "Monitoring watched the fixing only."
    """


@lesson.command("add")
@click.argument("incident_id", type=int)
@click.argument("text")
@click.option("--kind", type=click.Choice(list(LESSON_KINDS)), required=True,
              help="went-well, went-badly (what didn't go well), lucky, other.")
@by_option
@pass_app
def lesson_add(app: App, incident_id: int, text: str, kind: str, by: str | None) -> None:
    """Add a lesson learned.

    \b
    Example:
      vulnmark incident lesson add 1 --kind went-well "The auditor's finding was precise."
    """
    new = Lesson(kind, service.text(text, "TEXT"))
    service.edit(app.store, IncidentId(incident_id), when(app, by), "lesson_added",
                 lambda i: replace(i, lessons=(*i.lessons, new)), kind=kind)
    click.echo(f"incident {incident_id}: lesson ({LESSON_KINDS[kind]})")


@incident.group("related")
def related() -> None:
    """Related incidents (Full report: at least the last 2 years, other CAs' too).

    \b
    Example:
      vulnmark incident related add 1 --bug 1234567 --date 2022-05-02 "Similar finding."
    """


@related.command("add")
@click.argument("incident_id", type=int)
@click.argument("description")
@click.option("--bug", required=True, help="Bug id or URL.")
@click.option("--date", "day", type=DAY, required=True)
@by_option
@pass_app
def related_add(app: App, incident_id: int, description: str, bug: str, day: date,
                by: str | None) -> None:
    """Add a related incident.

    \b
    Example:
      vulnmark incident related add 1 --bug 1234567 --date 2022-05-02 "Similar finding."
    """
    new = RelatedIncident(service.text(bug, "--bug"), day, description.strip())
    service.edit(app.store, IncidentId(incident_id), when(app, by), "related_added",
                 lambda i: replace(i, related=(*i.related, new)), bug=new.bug)
    click.echo(f"incident {incident_id}: related incident {one_line(new.bug)}")


@incident.command("due")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--fail-on", default="", metavar="STATES",
              help="Exit 1 when an obligation is in one of these states (overdue,due_soon).")
@pass_app
def incident_due(app: App, fmt: str, fail_on: str) -> None:
    """What every incident owes and by when, under the guidelines in force: reports, updates,
    action items, audit documents, the fulfilment report, closure. Most urgent first.

    \b
    Example:
      vulnmark incident due
      vulnmark --now 2023-11-29T08:00Z incident due --fail-on overdue
    """
    wanted = {s.strip() for s in fail_on.split(",") if s.strip()}
    if wanted - set(STATES):
        raise click.BadParameter(f"unknown state {', '.join(sorted(wanted - set(STATES)))} "
                                 f"(expected {', '.join(STATES)})", param_hint="--fail-on")
    cfg = app.config
    found = [o for i in service.all_incidents(app.store) for o in obligations(
        i, app.now, due_soon_hours=int(cfg.policy.due_soon_hours),
        fulfilment_months=cfg.incident.fulfilment_months)]
    if fmt == "json":
        click.echo(json.dumps({"generated_at": iso(app.now), "obligations": [
            {"incident": o.incident, "what": o.what, "subject": o.subject,
             "due_at": iso(o.due_at), "state": o.state, "rule": o.rule} for o in found]},
            indent=2, ensure_ascii=False))
    elif not found:
        click.echo("No incident owes anything.")
    else:
        click.echo(table(["incident", "state", "due", "what", "subject", "rule"], [
            [o.incident, o.state, f"{o.due_at:%Y-%m-%d %H:%M}" if o.due_at else "-", o.what,
             one_line(o.subject), o.rule] for o in found], max_width=70), nl=False)
    if any(o.state in wanted for o in found):
        raise SystemExit(EXIT_FINDINGS)
