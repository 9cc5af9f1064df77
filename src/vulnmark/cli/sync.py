"""``vulnmark sync``: read the configured Jira scope into the store."""

from __future__ import annotations

import os
import sys

import click

from vulnmark.cli.app import App, pass_app
from vulnmark.cli.progress import tty_progress
from vulnmark.sources.jira.settings import JiraSettings
from vulnmark.sources.jira.sync import sync_and_record


def register(cli: click.Group) -> None:
    cli.add_command(sync)


@click.command()
@click.option("--full", is_flag=True,
              help="Read the whole scope again and record issues deleted or moved out of it.")
@pass_app
def sync(app: App, full: bool) -> None:
    """Sync the [source.jira] scope: Cloud (REST v3) or Data Center (REST v2).

    The first run reads everything; later runs read what changed since the last sync (with an
    overlap). Every page is checkpointed with its tickets, so an interrupted sync resumes
    without duplicates or gaps. Credentials come from JIRA_EMAIL + JIRA_TOKEN (Cloud) or
    JIRA_PAT (Data Center) only. A failed sync is recorded and shown in the next report.

    \b
    Example:
      JIRA_EMAIL=mso@example.org JIRA_TOKEN=… vulnmark sync
      vulnmark sync --full
    """
    at = app.write_now
    settings = JiraSettings.from_config(app.config.jira, os.environ)
    app.creates_store = True
    store = app.store
    progress = tty_progress(sys.stderr)
    try:
        result = sync_and_record(store, settings, full=full, progress=progress, at=at,
                                 policy_digest=app.policy.digest())
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the last page is checkpointed; run `vulnmark sync` again to "
                   "resume", err=True)
        raise SystemExit(130) from None
    finally:
        if progress:
            progress.close()
    click.echo(result.summary())
