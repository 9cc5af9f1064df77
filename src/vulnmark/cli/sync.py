"""``vulnmark sync``: read the configured Jira scope into the store."""

from __future__ import annotations

import os
import sys

import click

from vulnmark.cli.app import App, pass_app
from vulnmark.errors import SourceError, StoreUnavailable
from vulnmark.sources.jira_progress import tty_progress
from vulnmark.sources.jira_settings import JiraSettings
from vulnmark.sources.jira_sync import run_sync
from vulnmark.store import runs as store_runs


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
    settings = JiraSettings.from_config(app.config.jira, os.environ)
    app.creates_store = True
    store = app.store
    progress = tty_progress(sys.stderr)
    try:
        result = run_sync(store, settings, full=full, progress=progress)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the last page is checkpointed; run `vulnmark sync` again to "
                   "resume", err=True)
        raise SystemExit(130) from None
    except (SourceError, StoreUnavailable) as e:
        try:  # the next report shows the failed sync; if the store itself failed, it cannot
            store_runs.record_run(store, kind="sync", at=app.now, policy_digest=app.policy.digest(),
                            counts={}, error=f"{settings.site}: {e}")
        except StoreUnavailable:
            pass
        raise
    finally:
        if progress:
            progress.close()
    store_runs.record_run(store, kind="sync", at=app.now, policy_digest=app.policy.digest(),
                    counts={"issues": result.issues, "inserted": result.inserted,
                            "updated": result.updated, "unchanged": result.unchanged,
                            "gone": result.gone, "requests": result.requests})
    click.echo(result.summary())
