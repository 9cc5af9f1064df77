"""``vulnmark incident update|report|timeline``: what is posted about an incident, and its
timeline."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import click
from click.decorators import FC

from vulnmark.cli.app import App, pass_app
from vulnmark.cli.incident import DAY, INSTANT, by_option, incident, when, why_option
from vulnmark.errors import BugzillaError, IncidentError
from vulnmark.incident import service, status, templates
from vulnmark.incident.bugzilla import Bugzilla
from vulnmark.incident.bugzilla import next_update as read_next_update
from vulnmark.model_incident import Incident, IncidentId, Post, TimelineEntry

logger = logging.getLogger(__name__)


def sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_option(what: str) -> Callable[[FC], FC]:
    return click.option(
        "--record", "record_", is_flag=True,
        help=f"Record the {what} as posted on --date (a day before today needs --why).")


next_update_option = click.option(
    "--next-update", type=DAY, default=None,
    help='The "Next update" date the post asks for (the bug\'s whiteboard).')


post_option = click.option(
    "--post", "post_", is_flag=True,
    help="Post it to the incident's Bugzilla bug as a Markdown comment (today only; "
         "[incident] bugzilla_url, key in VULNMARK_BUGZILLA_API_KEY) and record it with the "
         "comment id; without --next-update, the bug whiteboard's Next update date is kept.")


def publish(app: App, found: Incident, kind: str, day: date, template: str, body: str,
            next_update: date | None, by: str | None, why: str | None) -> Post:
    """Post ``body`` to the incident's bug, then record the post with Bugzilla's comment id
    (nothing is recorded when Bugzilla refuses)."""
    app.write_now  # noqa: B018  (the clock rule refuses before anything is posted)
    if day != app.now.date():
        raise click.BadParameter(f"--post posts today's {kind}; {day} is not today "
                                 f"({app.now.date()})", param_hint="--date")
    if found.bug is None:
        raise IncidentError(f"incident {found.id} has no Bugzilla bug: "
                            f"vulnmark incident set {found.id} bug NUMBER")
    client = Bugzilla.from_settings(app.config.incident)
    try:
        comment_id = client.comment(found.bug, body)
        click.echo(f"incident {found.id}: posted as comment {comment_id} on bug {found.bug}",
                   err=True)
        if next_update is None:
            try:
                next_update = read_next_update(client.whiteboard(found.bug))
            except BugzillaError as e:
                logger.warning("the whiteboard of bug %s was not read: %s", found.bug, e)
    finally:
        client.close()
    return record(app, found.id, kind, day, template, body, next_update, by, why, comment_id)


def record(app: App, incident_id: int, kind: str, day: date, template: str, body: str,
           next_update: date | None, by: str | None, why: str | None,
           comment_id: int | None = None) -> Post:
    post = Post(number=0, kind=kind, day=day, template=template, sha256=sha256(body),
                next_update=next_update, comment_id=comment_id)
    done = service.record_post(app.store, incident_id,
                               when(app, by, day if day < app.now.date() else None, why), post)
    click.echo(f"incident {incident_id}: {kind} of {day} recorded as post {done.number}", err=True)
    return done


@incident.command("update")
@click.argument("incident_id", type=int)
@click.option("--date", "day", type=DAY, default=None, help="Day of the update [default: today].")
@record_option("update")
@post_option
@next_update_option
@why_option
@by_option
@pass_app
def incident_update(app: App, incident_id: int, day: date | None, record_: bool, post_: bool,
                    next_update: date | None, why: str | None, by: str | None) -> None:
    """Render the status update of a day, as Markdown to paste into Bugzilla: a section for
    each action item changed since the previous post, and the Action Items Status table.

    \b
    Example:
      vulnmark incident update 1 --date 2023-11-29
      vulnmark incident update 1 --record --next-update 2023-12-10
      vulnmark incident update 1 --post
    """
    day = day or app.now.date()
    if day > app.now.date():
        raise click.BadParameter(f"{day} is after today ({app.now.date()})", param_hint="--date")
    found = service.get(app.store, incident_id)
    body = status.update(found, day)
    if post_:
        publish(app, found, "update", day, "status-update", body, next_update, by, why)
    elif record_:
        record(app, incident_id, "update", day, "status-update", body, next_update, by, why)
    click.echo(body, nl=False)



@incident.group("timeline")
def timeline() -> None:
    """The incident's timeline (UTC, minute granularity), for the Full report.

    \b
    Example:
      vulnmark incident timeline add 1 --at 2023-09-12T09:30Z "The auditor found the ticket."
    """


@timeline.command("add")
@click.argument("incident_id", type=int)
@click.argument("text")
@click.option("--at", "at", type=INSTANT, required=True, help="When (UTC, to the minute).")
@by_option
@pass_app
def timeline_add(app: App, incident_id: int, text: str, at: datetime, by: str | None) -> None:
    """Add a timeline entry.

    \b
    Example:
      vulnmark incident timeline add 1 --at 2023-10-16T00:00Z "Attestation letter received."
    """
    entry = TimelineEntry(at=at.replace(second=0, microsecond=0),
                          text=service.text(text, "TEXT"))
    service.edit(app.store, IncidentId(incident_id), when(app, by), "timeline_added",
                 lambda i: replace(i, timeline=tuple(sorted((*i.timeline, entry),
                                                            key=lambda t: t.at))),
                 at=entry.at.isoformat(), text=entry.text)
    click.echo(f"incident {incident_id}: timeline {entry.at:%Y-%m-%d %H:%M} UTC")


@incident.command("report")
@click.argument("incident_id", type=int)
@click.option("--template", type=click.Choice(templates.TEMPLATES), required=True,
              help="preliminary, full, closure (IRG 3.2) or audit-v2 (IRG 2.0 Audit "
                   "Incident Report).")
@click.option("--date", "day", type=DAY, default=None,
              help="The action items as of this day [default: today].")
@record_option("report")
@post_option
@next_update_option
@why_option
@by_option
@pass_app
def incident_report(app: App, incident_id: int, template: str, day: date | None,
                    record_: bool, post_: bool, next_update: date | None, why: str | None,
                    by: str | None) -> None:
    """Render a report in Markdown, ready to paste into Bugzilla: the template's headings and
    bold field names, "N/A" where nothing is recorded. Recording a closure report (--record)
    asks for closure: the incident then owes no more updates.

    \b
    Example:
      vulnmark incident report 1 --template full
      vulnmark incident report 1 --template closure --record
    """
    day = day or app.now.date()
    if day > app.now.date():
        raise click.BadParameter(f"{day} is after today ({app.now.date()})", param_hint="--date")
    found = service.get(app.store, incident_id)
    body = templates.render(template, found, day)
    kind = "closure" if template == "closure" else "report"
    if post_:
        publish(app, found, kind, day, template, body, next_update, by, why)
    elif record_:
        record(app, incident_id, kind, day, template, body, next_update, by, why)
    click.echo(body, nl=False)
