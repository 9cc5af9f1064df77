"""``vulnmark init`` and ``vulnmark policy show``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import click

from vulnmark._files import write_atomic
from vulnmark.cli.app import App, echo, echo_data, pass_app, table
from vulnmark.config.presets import PRESETS, preset
from vulnmark.config.settings import template
from vulnmark.deliver.smtp import effective_smtp, plaintext_login
from vulnmark.errors import ConfigError


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(policy_group)


def _preset_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return preset(value).preset
    except ConfigError as e:
        raise click.BadParameter(str(e)) from None


@click.command()
@click.option("--preset", "preset_name", default="etsi-319-401", show_default=True,
              metavar="NAME[+NAME]", callback=_preset_name,
              help=f"The framework whose deadlines apply: {', '.join(sorted(PRESETS))}; "
                   "join several with + (the strictest deadline wins).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write [default: the --config path].")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def init(app: App, preset_name: str, output: Path | None, force: bool) -> None:
    """Write a commented vulnmark.toml for a preset and create the store.

    \b
    Example:
      vulnmark init --preset ncssr-v1
      vulnmark init --preset etsi-319-401+ncssr-v1
    """
    path = output or app.config_path
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; use --force to overwrite")
    app.creates_store = True
    write_atomic(path, template(preset(preset_name)))  # 0600, whole or not at all
    app.store  # noqa: B018 - creates and migrates the store
    echo(f"wrote {path} (preset {preset_name}); store {app.store.url} is ready")


@click.group("policy")
def policy_group() -> None:
    """Inspect the effective policy.

    \b
    Example:
      vulnmark policy show
    """


#: Setting names as vulnmark.toml spells them.
_SMTP_NAMES = {"sender": "from"}


@policy_group.command("show")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_app
def policy_show(app: App, fmt: str) -> None:
    """Print the effective policy: preset plus vulnmark.toml.

    \b
    Example:
      vulnmark --config vulnmark.toml policy show --format json
    """
    cfg = app.config
    # What a send would use: the environment overrides vulnmark.toml (newcomer report m3).
    smtp, origins = effective_smtp(cfg.smtp, os.environ)
    p = cfg.policy
    if fmt == "json":
        data = asdict(p)
        data["inference"] = p.inference.mapping()
        data.update(recipients=list(cfg.recipients), smtp=asdict(smtp), smtp_origin=origins,
                    schedule=None if cfg.schedule is None else {
                        "cron": cfg.schedule.cron.expr, "timezone": cfg.schedule.timezone,
                        "catch_up": cfg.schedule.catch_up,
                        "retry_seconds": cfg.schedule.retry_seconds,
                        "retry_max_seconds": cfg.schedule.retry_max_seconds},
                    source_jira=None if cfg.jira is None else asdict(cfg.jira),
                    tracker=asdict(cfg.tracker),
                    publish=None if cfg.publish is None else asdict(cfg.publish),
                    digest=p.digest())
        echo_data(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    echo(f"preset:               {p.preset}")
    echo(f"digest:               {p.digest()}")
    echo(f"vulnerability labels: {', '.join(p.vulnerability_labels)}")
    echo(f"timezone:             {p.timezone}")
    echo(f"due soon window:      {p.due_soon_hours:g} h")
    echo(f"recipients:           {', '.join(cfg.recipients) or '(none)'}")
    echo(f"smtp:                 {smtp.host}:{smtp.port} tls={smtp.tls} "
         f"(login without TLS: {plaintext_login(smtp) or 'no'})")
    for name, value in asdict(smtp).items():
        shown = "(none)" if value is None else str(value).lower() if isinstance(value, bool) \
            else value
        echo(f"  {_SMTP_NAMES.get(name, name):<20} {shown!s:<28} {origins[name]}")
    echo(f"  {'password':<20} {'(set, not shown)' if origins['password'] != 'not set' else '-':<28}"
         f" {origins['password']}")
    echo()
    echo(table(["class", "accepted labels", "deadline"], [
        [c.name, list(c.accepted),
         "no fixed clock" if c.deadline_hours is None else f"{c.deadline_hours:g} h"]
        for c in p.classes
    ]), nl=False)
