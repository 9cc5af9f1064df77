"""``vulnmark init`` and ``vulnmark policy show``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from vulnmark.cli.app import App, pass_app, table
from vulnmark.errors import ConfigError
from vulnmark.policy import PRESETS, Policy, preset


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(policy_group)


def template(policy: Policy) -> str:
    """A commented vulnmark.toml for a preset: every key shown, with its effect."""
    name = policy.preset
    about = " / ".join(PRESETS[p][0] for p in name.split("+"))
    lines = [
        "# vulnmark policy. Every key is optional; unknown keys are errors.",
        "# Secrets (SMTP password, Jira tokens) come only from the environment.",
        f"# Preset {name}: {about}",
        f'preset = "{name}"',
        "",
        "# IANA timezone in which reports show times (stored times are UTC).",
        'timezone = "UTC"',
        "# A ticket is due_soon this many hours before its deadline.",
        f"due_soon_hours = {policy.due_soon_hours:g}",
        "# Who receives the daily report (--to overrides). Until this is set, --send stops",
        "# with an error instead of mailing a placeholder address.",
        '# recipients = ["security-officer@example.org"]',
        "",
        "[labels]",
        "# Accepted vulnerability labels; the first is canonical.",
        "vulnerability = " + json.dumps(list(policy.vulnerability_labels), ensure_ascii=False),
        "",
        "# Classes, most severe first. deadline_hours counts calendar hours from discovery;",
        '# "none" means no fixed clock. Aliases are other accepted labels of the class.',
        "# class_order = " + json.dumps(list(policy.class_names)),
    ]
    for c in policy.classes:
        hours = "\"none\"" if c.deadline_hours is None else f"{c.deadline_hours:g}"
        lines += ["", f"[classes.{c.name}]",
                  "aliases = " + json.dumps(list(c.aliases), ensure_ascii=False),
                  f"deadline_hours = {hours}"]
    lines += [
        "",
        "[smtp]",
        "# Overridden by VULNMARK_SMTP_HOST/PORT/TLS/USER and VULNMARK_REPORT_FROM;",
        "# the password only from VULNMARK_SMTP_PASSWORD.",
        'host = "localhost"',
        "port = 25",
        'tls = "none"        # none | starttls | ssl',
        '# user = "vulnmark"',
        'from = "vulnmark@example.org"',
        "retries = 3",
        "backoff = 2.0",
        "",
        "[tracker]",
        "# Key prefix of tickets created with `vulnmark ticket new`.",
        'prefix = "VULN"',
        "",
    ]
    return "\n".join(lines)


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
    path.write_text(template(preset(preset_name)), encoding="utf-8")
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
    p = app.policy
    if fmt == "json":
        data = asdict(p)
        data["sections"] = {k: json.loads(v) for k, v in p.sections}
        data["digest"] = p.digest()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"preset:               {p.preset}")
    click.echo(f"digest:               {p.digest()}")
    click.echo(f"vulnerability labels: {', '.join(p.vulnerability_labels)}")
    click.echo(f"timezone:             {p.timezone}")
    click.echo(f"due soon window:      {p.due_soon_hours:g} h")
    click.echo(f"recipients:           {', '.join(p.recipients) or '(none)'}")
    click.echo(f"smtp:                 {p.smtp.host}:{p.smtp.port} tls={p.smtp.tls}")
    click.echo()
    click.echo(table(["class", "accepted labels", "deadline"], [
        [c.name, list(c.accepted),
         "no fixed clock" if c.deadline_hours is None else f"{c.deadline_hours:g} h"]
        for c in p.classes
    ]), nl=False)
