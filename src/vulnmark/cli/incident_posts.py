"""``vulnmark incident update|timeline``: what is posted about an incident, and its timeline."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import click
from click.decorators import FC

from vulnmark.cli.app import App, pass_app
from vulnmark.cli.incident import DAY, INSTANT, by_option, incident, when, why_option
from vulnmark.incident import service, status
from vulnmark.model_incident import IncidentId, Post, TimelineEntry


def sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_option(what: str) -> Callable[[FC], FC]:
    return click.option(
        "--record", "record_", is_flag=True,
        help=f"Record the {what} as posted on --date (a day before today needs --why).")


next_update_option = click.option(
    "--next-update", type=DAY, default=None,
    help='The "Next update" date the post asks for (the bug\'s whiteboard).')


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
@next_update_option
@why_option
@by_option
@pass_app
def incident_update(app: App, incident_id: int, day: date | None, record_: bool,
                    next_update: date | None, why: str | None, by: str | None) -> None:
    """Render the status update of a day, as Markdown to paste into Bugzilla: a section for
    each action item changed since the previous post, and the Action Items Status table.

    \b
    Example:
      vulnmark incident update 1 --date 2023-11-29
      vulnmark incident update 1 --record --next-update 2023-12-10
    """
    day = day or app.now.date()
    if day > app.now.date():
        raise click.BadParameter(f"{day} is after today ({app.now.date()})", param_hint="--date")
    found = service.get(app.store, incident_id)
    body = status.update(found, day)
    click.echo(body, nl=False)
    if record_:
        record(app, incident_id, "update", day, "status-update", body, next_update, by, why)



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
