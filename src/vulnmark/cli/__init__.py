"""The thin command-line front end: parses options, calls the library, maps errors to exits.

Exit codes: 0 success and nothing to flag; 1 findings of the kinds named by ``--fail-on``;
2 usage, configuration or input error; 3 an external system failed (Jira, SMTP, database).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from vulnmark._version import __version__
from vulnmark.cli import _index
from vulnmark.cli._index import MODULES
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


def _short(text: str, limit: int) -> str:
    """``text`` cut at a word to ``limit`` characters with "...", as click shortens help."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 1)].rsplit(" ", 1)[0].rstrip(",;:") + "..."


class _Group(click.Group):
    """The top-level group: commands are imported on first use (:data:`MODULES`)."""

    loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self.loaded:
            self.loaded.add(module)
            _index.load(module, self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_index.INDEX))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module = _index.INDEX.get(cmd_name, (None, ""))[0]
            for name in (module,) if module else MODULES:  # unknown: maybe not indexed yet
                self._load(name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help from the index (no command module is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, _short(_index.INDEX[name][1], limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names (with their help) from the index, then the group's options."""
        items = [CompletionItem(name, help=_index.INDEX.get(name, (None, ""))[1] or None)
                 for name in self.list_commands(ctx) if name.startswith(incomplete)]
        items.extend(click.Command.shell_complete(self, ctx, incomplete))
        return items

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
@click.option("--no-color", "no_color", is_flag=True,
              help="No colour on a terminal (as with NO_COLOR set).")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(__version__, prog_name="vulnmark")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, db_url: str, now_text: str | None,
        no_color: bool, verbose: int) -> None:
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
    if no_color:
        os.environ["NO_COLOR"] = "1"
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


__all__ = ["MODULES", "cli", "main"]
