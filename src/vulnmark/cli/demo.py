"""``vulnmark demo``: the daily control on sample tickets, in a fresh temporary store."""

from __future__ import annotations

from pathlib import Path

import click

from vulnmark._files import write_atomic
from vulnmark.cli.app import App, pass_app
from vulnmark.control import daily


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("vulnmark-demo-report.html"), show_default=True,
              help="Where to write the HTML report.")
@pass_app
def demo(app: App, html_path: Path) -> None:
    """Run the daily control on sample tickets and print the report.

    The samples tell the story of the audit finding vulnmark was built for: a vulnerability
    rated HIGH only in a comment, a correctly marked one, a Hungarian comment, a CVE in an
    unmarked ticket, conflicting labels and an NFD-encoded label. The store is a fresh
    temporary SQLite file; your --db is not touched.

    \b
    Example:
      vulnmark demo --html /tmp/report.html
    """
    result, check = daily.demo(app.config, app.now)
    click.echo(result.bodies["text"], nl=False)
    write_atomic(html_path, result.bodies["html"])
    click.echo(f"\nHTML report written to {html_path}")
    click.echo(f"Evidence log: {check.records} records, chain {'intact' if check.ok else 'BROKEN'}"
               f" (head {check.head[:16]}…)")
