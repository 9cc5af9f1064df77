"""``vulnmark import`` and the embedded tracker, ``vulnmark ticket …``."""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import click

from vulnmark.cli.app import App, pass_app, table
from vulnmark.errors import TicketNotFound
from vulnmark.evidence.events import (
    TicketCommented,
    TicketCreated,
    TicketRelabelled,
    TicketResolved,
    TicketsImported,
)
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey
from vulnmark.sources.files import load_file
from vulnmark.sources.interface import check_labels
from vulnmark.sources.jsonl import ticket_to_json


def register(cli: click.Group) -> None:
    cli.add_command(import_)
    cli.add_command(ticket)


@click.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help="Jira site URL for ticket links.")
@click.option("--discovery-field", default=None, metavar="FIELD",
              help="Jira field holding the discovery time (default: creation).")
@pass_app
def import_(app: App, files: tuple[Path, ...], base_url: str | None,
            discovery_field: str | None) -> None:
    """Import Jira REST JSON (v2 or v3, search responses, issues, lists) or JSON Lines.

    Every file is read and validated before anything is written: a bad file changes nothing.
    Importing again updates changed tickets and skips unchanged ones (upsert by key).

    \b
    Example:
      vulnmark import search_page_00.json search_page_01.json tickets.jsonl
    """
    loaded = [(path, load_file(path, base_url=base_url, discovery_field=discovery_field))
              for path in files]
    app.creates_store = True
    for path, items in loaded:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        counts = app.store.upsert_tickets(
            items, actor="import", at=app.now,
            event=TicketsImported(path.name, sha256=digest, tickets=len(items)))
        click.echo(f"{path}: {len(items)} tickets ({counts.inserted} new, {counts.updated} "
                   f"updated, {counts.unchanged} unchanged)")


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


def _get(app: App, key: str) -> Ticket:
    found = app.store.get_ticket(key)
    if found is None:
        raise TicketNotFound(key)
    return found


def _save(app: App, t: Ticket, event: type[TicketCreated], by: str) -> None:
    app.store.upsert_tickets([t], actor=by, at=app.now, event=event(t.key, by))


by_option = click.option("--by", default=None, help="Who does it [default: the login name].")


@ticket.command("new")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--key", default=None, help="Explicit key [default: PREFIX-N from [tracker]].")
@click.option("--reporter", default=None)
@click.option("--url", default=None)
@by_option
@pass_app
def ticket_new(app: App, title: str, description: str, labels: tuple[str, ...], key: str | None,
               reporter: str | None, url: str | None, by: str | None) -> None:
    """Create a ticket; prints its key.

    \b
    Example:
      vulnmark ticket new --title "OpenSSL CVE-2026-1234 on the OCSP responder" \\
        --label Vulnerability --label HIGH
    """
    app.creates_store = True
    who = _actor(by)
    checked = check_labels(list(labels), what="--label", field="label")
    prefix = app.config.tracker.prefix
    if key is not None and (not key.strip() or any(ch.isspace() for ch in key) or len(key) > 255):
        raise click.BadParameter(f"{key!r}: a key has no spaces and at most 255 characters",
                                 param_hint="--key")
    new_key = TicketKey(key or app.store.next_key(prefix))
    if app.store.get_ticket(new_key) is not None:
        raise click.UsageError(f"ticket {new_key} exists")
    history = (LabelChange(app.now, who, checked, ()),) if checked else ()
    t = Ticket(key=new_key, title=title, description=description, labels=checked,
               created=app.now, updated=app.now, reporter=reporter or who, url=url,
               label_history=history)
    _save(app, t, TicketCreated, who)
    click.echo(new_key)


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
    t = _get(app, key)
    if fmt == "json":
        click.echo(json.dumps(ticket_to_json(t), indent=2, ensure_ascii=False))
        return
    click.echo(f"{t.key}  {t.title}")
    click.echo(f"state: {t.state} ({t.status})  created: {t.created.isoformat()}  "
               f"reporter: {t.reporter or '-'}")
    click.echo(f"labels: {', '.join(t.labels) or '(none)'}")
    if t.description:
        click.echo("\n" + t.description)
    for i, c in enumerate(t.comments):
        when = c.created.isoformat() if c.created else ""
        click.echo(f"\n[comment {i}] {c.author or '-'} {when}")
        click.echo(c.body)
    if t.label_history:
        click.echo()
        click.echo(table(["when", "who", "added", "removed"], [
            [h.at.isoformat(), h.author, list(h.added), list(h.removed)]
            for h in t.label_history]), nl=False)


def _relabel(app: App, key: str, add: tuple[str, ...], remove: tuple[str, ...],
             by: str | None) -> None:
    who = _actor(by)
    t = _get(app, key)
    added = tuple(label for label in add if label not in t.labels)
    removed = tuple(label for label in remove if label in t.labels)
    if not (added or removed):
        click.echo(f"{key}: nothing to change")
        return
    labels = tuple(label for label in t.labels if label not in removed) + added
    change = LabelChange(app.now, who, added, removed)
    _save(app, replace(t, labels=labels, updated=app.now,
                       label_history=(*t.label_history, change)), TicketRelabelled, who)
    click.echo(f"{key}: labels {', '.join(labels) or '(none)'}")


@ticket.command("label")
@click.argument("key")
@click.argument("labels", nargs=-1, required=True)
@by_option
@pass_app
def ticket_label(app: App, key: str, labels: tuple[str, ...], by: str | None) -> None:
    """Add labels (recorded in the label history and the evidence log).

    \b
    Example:
      vulnmark ticket label VULN-1 Sérülékenység MAGAS
    """
    _relabel(app, key, check_labels(list(labels), what="label", field="LABELS"), (), by)


@ticket.command("unlabel")
@click.argument("key")
@click.argument("labels", nargs=-1, required=True)
@by_option
@pass_app
def ticket_unlabel(app: App, key: str, labels: tuple[str, ...], by: str | None) -> None:
    """Remove labels.

    \b
    Example:
      vulnmark ticket unlabel VULN-1 HIGH
    """
    _relabel(app, key, (), labels, by)


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
    who = _actor(by)
    t = _get(app, key)
    _save(app, replace(t, comments=(*t.comments, Comment(text, who, app.now)),
                       updated=app.now), TicketCommented, who)
    click.echo(f"{key}: comment {len(t.comments)} added")


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
    who = _actor(by)
    t = _get(app, key)
    if t.resolved is not None:
        # moving the resolution time would change whether the deadline was met
        raise click.UsageError(f"{key} was already resolved at {t.resolved.isoformat()}")
    _save(app, replace(t, resolved=app.now, resolution=resolution, status="Resolved",
                       updated=app.now), TicketResolved, who)
    click.echo(f"{key}: resolved ({resolution})")
