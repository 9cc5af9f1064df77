"""``vulnmark init`` and ``vulnmark policy show``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from vulnmark._files import write_atomic
from vulnmark.cli.app import App, pass_app, table
from vulnmark.config.presets import PRESETS, preset
from vulnmark.config.settings import template
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
    click.echo(f"wrote {path} (preset {preset_name}); store {app.store.url} is ready")


@click.group("policy")
def policy_group() -> None:
    """Inspect the effective policy.

    \b
    Example:
      vulnmark policy show
    """


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
    p = cfg.policy
    if fmt == "json":
        data = asdict(p)
        data["inference"] = p.inference.mapping()
        data.update(recipients=list(cfg.recipients), smtp=asdict(cfg.smtp),
                    schedule=None if cfg.schedule is None else {
                        "cron": cfg.schedule.cron.expr, "timezone": cfg.schedule.timezone,
                        "catch_up": cfg.schedule.catch_up},
                    source_jira=None if cfg.jira is None else asdict(cfg.jira),
                    tracker=asdict(cfg.tracker),
                    publish=None if cfg.publish is None else asdict(cfg.publish),
                    digest=p.digest())
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"preset:               {p.preset}")
    click.echo(f"digest:               {p.digest()}")
    click.echo(f"vulnerability labels: {', '.join(p.vulnerability_labels)}")
    click.echo(f"timezone:             {p.timezone}")
    click.echo(f"due soon window:      {p.due_soon_hours:g} h")
    click.echo(f"recipients:           {', '.join(cfg.recipients) or '(none)'}")
    click.echo(f"smtp:                 {cfg.smtp.host}:{cfg.smtp.port} tls={cfg.smtp.tls}")
    click.echo()
    click.echo(table(["class", "accepted labels", "deadline"], [
        [c.name, list(c.accepted),
         "no fixed clock" if c.deadline_hours is None else f"{c.deadline_hours:g} h"]
        for c in p.classes
    ]), nl=False)
