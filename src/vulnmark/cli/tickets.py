"""``vulnmark import`` and the embedded tracker, ``vulnmark ticket …``
(:mod:`vulnmark.sources.embedded`)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from vulnmark._time import stored
from vulnmark.cli.app import App, echo, echo_data, parse_instant, pass_app, table
from vulnmark.report.interface import one_line
from vulnmark.sources import embedded
from vulnmark.sources.files.jsonl import ticket_to_json
from vulnmark.sources.files.load import import_files, load_files
from vulnmark.sources.interface import check_labels
from vulnmark.triage.source_labels import accept_source_labels, kept_over


def register(cli: click.Group) -> None:
    cli.add_command(import_)
    cli.add_command(ticket)


@click.command("import")
@click.argument("files", nargs=-1,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help="Jira site URL for ticket links.")
@click.option("--discovery-field", default=None, metavar="FIELD",
              help="Jira field holding the discovery time (default: creation).")
@click.option("--accept-source-labels", "accept", is_flag=True,
              help="Take the source's labels over the ones vulnmark applied and keeps "
                   "(source_diverged): of the tickets in FILES, of --ticket, or of all.")
@click.option("--ticket", "keys", multiple=True, metavar="KEY",
              help="With --accept-source-labels: only this ticket (repeatable).")
@pass_app
def import_(app: App, files: tuple[Path, ...], base_url: str | None,
            discovery_field: str | None, accept: bool, keys: tuple[str, ...]) -> None:
    """Import Jira REST JSON (v2 or v3, search responses, issues, lists) or JSON Lines.

    Every file is read and validated before anything is written: a bad file changes nothing.
    Importing again updates changed tickets and skips unchanged ones (upsert by key). Labels
    vulnmark applied (backfill, ticket label) that a file lacks are kept, and reported by the
    check as source_diverged until the source has them or --accept-source-labels takes the
    source's labels (recorded in the evidence log).

    \b
    Example:
      vulnmark import search_page_00.json search_page_01.json tickets.jsonl
      vulnmark import --accept-source-labels --ticket AMQ-2625
    """
    if not files and not accept:
        raise click.UsageError("give the FILE(s) to import (or --accept-source-labels)")
    if keys and not accept:
        raise click.UsageError("--ticket goes with --accept-source-labels")
    imported: list[str] = []
    if files:
        loaded = load_files(files, base_url=base_url, discovery_field=discovery_field)
        app.creates_store = True  # only once every file was read and checked
        for done in import_files(app.store, loaded, at=app.write_now):
            c = done.counts
            echo(f"{done.path}: {done.tickets} tickets ({c.inserted} new, {c.updated} "
                 f"updated, {c.unchanged} unchanged)")
            if done.truncated:
                echo(f"warning: {done.path}: {done.truncated} field(s) longer than their "
                     "limit were cut (named in the import's evidence record)", err=True)
        imported = [t.key for _, items in loaded for t in items]
    if not accept:
        kept = kept_over(app.store, imported)
        if kept:
            echo(f"note: {len(kept)} ticket(s) keep labels vulnmark applied that the file "
                 f"lacks ({', '.join(kept[:5])}{' …' if len(kept) > 5 else ''}); "
                 "vulnmark check --kind source_diverged", err=True)
        return
    chosen = list(keys) if keys else (kept_over(app.store, imported) if files else None)
    accepted = accept_source_labels(app.store, by=getpass.getuser(), at=app.write_now,
                                    keys=chosen)
    for a in accepted:
        echo(f"{a.ticket}: source labels taken: {', '.join(a.labels) or '(none)'}"
             + (f" (removed {', '.join(a.dropped)})" if a.dropped else "")
             + (f" (restored {', '.join(a.restored)})" if a.restored else ""))
    echo(f"{len(accepted)} ticket(s) now have their source's labels")


@click.group()
def ticket() -> None:
    """The embedded tracker: a vulnerability register for teams without Jira.

    \b
    Example:
      vulnmark ticket new --title "Weak TLS cipher on OCSP" --label Sérülékenység
      vulnmark ticket label VULN-1 MAGAS
    """


def _actor(by: str | None) -> str:
    return by or getpass.getuser()


by_option = click.option("--by", default=None, help="Who does it [default: the login name].")


@ticket.command("new")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--key", default=None, help="Explicit key [default: PREFIX-N from [tracker]].")
@click.option("--reporter", default=None, help="Who reported it [default: --by].")
@click.option("--reporter-email", default=None, metavar="ADDRESS",
              help="Where reminders reach the reporter.")
@click.option("--assignee", default=None, help="Who must act on it.")
@click.option("--assignee-email", default=None, metavar="ADDRESS",
              help="Where reminders reach the assignee.")
@click.option("--url", default=None)
@by_option
@pass_app
def ticket_new(app: App, title: str, description: str, labels: tuple[str, ...], key: str | None,
               reporter: str | None, reporter_email: str | None, assignee: str | None,
               assignee_email: str | None, url: str | None, by: str | None) -> None:
    """Create a ticket; prints its key.

    \b
    Example:
      vulnmark ticket new --title "OpenSSL CVE-2026-1234 on the OCSP responder" \\
        --label Vulnerability --label HIGH \\
        --assignee "Anna Kovács" --assignee-email anna.kovacs@example.org
    """
    app.creates_store = True
    t = embedded.create(app.store, title=title, description=description, labels=labels,
                        key=key, reporter=reporter, url=url, by=_actor(by), at=app.write_now,
                        prefix=app.config.tracker.prefix, reporter_email=reporter_email,
                        assignee=assignee, assignee_email=assignee_email)
    echo(t.key)


@ticket.command("show")
@click.argument("key")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def ticket_show(app: App, key: str, fmt: str) -> None:
    """Show a ticket with its comments and label history.

    \b
    Example:
      vulnmark ticket show VULN-1 --format json
    """
    t = embedded.get(app.store, key)
    if fmt == "json":
        echo_data(json.dumps(ticket_to_json(t), indent=2, ensure_ascii=False))
        return
    echo(f"{t.key}  {t.title}")
    echo(f"state: {t.state} ({t.status})  created: {t.created.isoformat()}  "
         f"reporter: {_person(t.reporter, t.reporter_email)}  "
         f"assignee: {_person(t.assignee, t.assignee_email)}")
    echo(f"labels: {', '.join(t.labels) or '(none)'}")
    if t.description:
        echo("\n" + t.description)
    for i, c in enumerate(t.comments):
        when = c.created.isoformat() if c.created else ""
        echo(f"\n[comment {i}] {c.author or '-'} {when}")
        echo(c.body)
    if t.label_history:
        echo()
        echo(table(["when", "who", "added", "removed"], [
            [h.at.isoformat(), h.author, list(h.added), list(h.removed)]
            for h in t.label_history]), nl=False)


def _person(name: str | None, email: str | None) -> str:
    if email and name and name != email:
        return f"{name} <{email}>"
    return name or email or "-"


effective_option = click.option(
    "--effective", default=None, metavar="TIME",
    help="When the change took effect, if before now (ISO-8601; needs --why): deadlines "
         "count with it, and it is shown as backdated.")
why_option = click.option("--why", default=None, metavar="TEXT",
                          help="Why it is entered only now (with --effective).")


def _relabel(app: App, key: str, add: tuple[str, ...], remove: tuple[str, ...],
             by: str | None, effective: str | None, why: str | None) -> None:
    when = parse_instant(effective, "--effective") if effective is not None else None
    t = embedded.label(app.store, key, add=add, remove=remove, by=_actor(by), at=app.write_now,
                       effective=when, why=why)
    if t is None:
        echo(f"{key}: nothing to change")
    else:
        echo(f"{key}: labels {', '.join(t.labels) or '(none)'}"
             + (f" — BACKDATED: effective {stored(when)}, entered "
                f"{stored(app.write_now)}: {one_line(why or '', 300)}" if when else ""))


@ticket.command("label")
@click.argument("key")
@click.argument("labels", nargs=-1, required=True)
@by_option
@effective_option
@why_option
@pass_app
def ticket_label(app: App, key: str, labels: tuple[str, ...], by: str | None,
                 effective: str | None, why: str | None) -> None:
    """Add labels (recorded in the label history and the evidence log).

    \b
    Example:
      vulnmark ticket label VULN-1 Sérülékenység MAGAS
      vulnmark ticket label VULN-1 HIGH --effective 2026-11-27T14:00:00Z \\
        --why "rated in the review meeting; the tracker was down"
    """
    _relabel(app, key, check_labels(list(labels), what="label", field="LABELS"), (), by,
             effective, why)


@ticket.command("unlabel")
@click.argument("key")
@click.argument("labels", nargs=-1, required=True)
@by_option
@effective_option
@why_option
@pass_app
def ticket_unlabel(app: App, key: str, labels: tuple[str, ...], by: str | None,
                   effective: str | None, why: str | None) -> None:
    """Remove labels.

    \b
    Example:
      vulnmark ticket unlabel VULN-1 HIGH
    """
    _relabel(app, key, (), labels, by, effective, why)


@ticket.command("comment")
@click.argument("key")
@click.argument("text")
@by_option
@pass_app
def ticket_comment(app: App, key: str, text: str, by: str | None) -> None:
    """Add a comment.

    \b
    Example:
      vulnmark ticket comment VULN-1 "Rated HIGH after review"
    """
    t = embedded.comment(app.store, key, text, by=_actor(by), at=app.write_now)
    echo(f"{key}: comment {len(t.comments) - 1} added")


@ticket.command("resolve")
@click.argument("key")
@click.option("--resolution", default="Fixed", show_default=True)
@by_option
@pass_app
def ticket_resolve(app: App, key: str, resolution: str, by: str | None) -> None:
    """Resolve a ticket (its deadline is then judged met or late).

    \b
    Example:
      vulnmark ticket resolve VULN-1 --resolution Fixed
    """
    embedded.resolve(app.store, key, resolution=resolution, by=_actor(by), at=app.write_now)
    echo(f"{key}: resolved ({resolution})")
