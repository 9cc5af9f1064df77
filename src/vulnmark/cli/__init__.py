"""The thin command-line front end: parses options, calls the library, maps errors to exits.

Exit codes: 0 success and nothing to flag; 1 findings of the kinds named by ``--fail-on``;
2 usage, configuration or input error; 3 an external system failed (Jira, SMTP, database).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from vulnmark._version import __version__
from vulnmark.cli.app import (
    App,
    TerminalFormatter,
    errors_to_exit_codes,
    fatal,
    unexpected_errors,
)

EPILOG = """\b
Environment: VULNMARK_CONFIG, VULNMARK_DB, VULNMARK_NOW, VULNMARK_ALLOW_CLOCK_OVERRIDE,
VULNMARK_SMTP_HOST, VULNMARK_SMTP_PORT, VULNMARK_SMTP_TLS, VULNMARK_SMTP_USER,
VULNMARK_SMTP_PASSWORD, VULNMARK_REPORT_FROM, VULNMARK_SIGNING_KEY, VULNMARK_LOGLEVEL,
JIRA_EMAIL, JIRA_TOKEN, JIRA_PAT, VULNMARK_CONFLUENCE_USER, VULNMARK_CONFLUENCE_TOKEN,
VULNMARK_NVD_API_KEY, VULNMARK_BUGZILLA_API_KEY.
Exit codes: 0 ok, 1 findings (--fail-on), 2 usage/config/input error, 3 external failure.
"""


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        with unexpected_errors(), errors_to_exit_codes():
            try:
                return super().invoke(ctx)
            finally:
                app = ctx.find_object(App)
                if app is not None:
                    app.close()


@click.group(cls=_Group, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="VULNMARK_CONFIG", default=None,
              help="Policy file [default: ./vulnmark.toml; without it the etsi-319-401 preset].")
@click.option("--db", "db_url", envvar="VULNMARK_DB", default="sqlite:///vulnmark.db",
              show_default=True, help="Store URL: sqlite:///FILE or postgresql://…")
@click.option("--now", "now_text", envvar="VULNMARK_NOW", default=None, metavar="ISO-8601",
              help="Evaluation instant of read commands, for reproducible reports (default: "
                   "the clock); write commands refuse it unless "
                   "VULNMARK_ALLOW_CLOCK_OVERRIDE=1 (demos, tests).")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(__version__, prog_name="vulnmark")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, db_url: str, now_text: str | None,
        verbose: int) -> None:
    """Keep every vulnerability ticket machine-classified and prove the control ran.

    \b
    Example:
      vulnmark import jira-export.json
      vulnmark check --fail-on unclassified
      vulnmark report daily --send --to mso@example.org
    """
    try:
        os.getcwd()
    except OSError:
        fatal("the working directory no longer exists (was it deleted?): cd to an existing "
              "directory, or give --db and --config as absolute paths")
    # Everything vulnmark creates (the store and its -wal/-shm files, reports, packs, the
    # config) is private: 0600 files, 0700 folders (m12).
    os.umask(0o077)
    level = os.environ.get("VULNMARK_LOGLEVEL") or ("DEBUG" if verbose > 1 else
                                                     "INFO" if verbose else "WARNING")
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("vulnmark: %(levelname)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    ctx.obj = App(
        config_path=config_path or Path("vulnmark.toml"),
        config_explicit=config_path is not None,
        db_url=db_url,
        now_text=now_text,
    )


def main() -> None:
    cli(prog_name="vulnmark")


from vulnmark.cli import (  # noqa: E402  (the commands need cli)
    backfill,
    checks,
    demo,
    dismissals,
    evidence,
    incident,
    incident_fields,
    incident_posts,
    intake,
    metrics,
    outcomes,
    publish,
    reporting,
    schedule,
    setup,
    sync,
    tickets,
    watch,
)

for _module in (setup, publish, tickets, sync, checks, reporting, evidence, backfill, outcomes,
                dismissals, metrics, schedule, watch, demo, incident, intake):
    _module.register(cli)
del incident_fields, incident_posts  # (their commands join the ``incident`` group on import)

__all__ = ["cli", "main"]
