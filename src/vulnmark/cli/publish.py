"""``vulnmark policy page`` and ``vulnmark policy publish``: the marking rules as a
page, written to a file or published on Confluence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from vulnmark._files import write_atomic
from vulnmark.cli.app import App, pass_app
from vulnmark.errors import PublishError, StoreError, StoreUnavailable
from vulnmark.publish import Lang, PageFormat, build_page
from vulnmark.publish.confluence import site_for
from vulnmark.publish.page import PolicyPage
from vulnmark.publish.publisher import Publisher
from vulnmark.publish.state import effective_since


def register(cli: click.Group) -> None:
    group = cli.commands["policy"]
    assert isinstance(group, click.Group)
    group.add_command(policy_page)
    group.add_command(policy_publish)


def _effective(app: App, digest: str) -> datetime | None:
    """When the policy took effect, from the store's evidence log; None when there is no
    store yet (a page can be written before the first check)."""
    try:
        store = app.store
    except StoreUnavailable:
        raise
    except StoreError:
        return None
    return effective_since(store, digest)


def page_of(app: App, lang: Lang) -> PolicyPage:
    return build_page(app.config, lang=lang, generated_at=app.now,
                      effective_at=_effective(app, app.policy.digest()))


@click.command("page")
@click.option("--format", "fmt", type=click.Choice([f.value for f in PageFormat]),
              default="md", show_default=True,
              help="md (Markdown), html (a whole document) or confluence (storage format).")
@click.option("--lang", type=click.Choice([lang.value for lang in Lang]), default=None,
              help="Language of the page [default: publish.lang, else en].")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the page to FILE (created private) instead of stdout.")
@pass_app
def policy_page(app: App, fmt: str, lang: str | None, output: Path | None) -> None:
    """Write the page that tells people how to mark vulnerability tickets, generated from
    the policy in force (labels, classes, deadlines, JQL, the daily report, the digest).

    \b
    Example:
      vulnmark policy page --lang hu
      vulnmark policy page --format html -o marking-rules.html
    """
    chosen = Lang(lang or (app.config.publish.lang if app.config.publish else "en"))
    text = PageFormat(fmt).to_format().format(page_of(app, chosen))
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)  # whole or not at all (m5), 0600
    click.echo(f"wrote {output} ({fmt}, {chosen.value}, policy digest "
               f"{app.policy.digest()[:16]}…)", err=True)


@click.command("publish")
@click.option("--force", is_flag=True,
              help="Publish a new version even when the page already says the same.")
@click.option("--dry-run", is_flag=True, help="Say what would be published; send nothing.")
@pass_app
def policy_publish(app: App, force: bool, dry_run: bool) -> None:
    """Create or update the policy page on Confluence ([publish] table; credentials from
    VULNMARK_CONFLUENCE_USER and VULNMARK_CONFLUENCE_TOKEN) and record the version and the
    policy digest in the evidence log. Nothing is sent when the page is already current.

    \b
    Example:
      vulnmark policy publish --dry-run
      vulnmark policy publish
    """
    settings = app.config.publish
    if settings is None:
        raise PublishError("no [publish] table in the configuration: set publish.url and "
                           "publish.space")
    site = site_for(settings)
    try:
        # a publication is recorded: --now only under the clock override (a dry run may preview)
        now = app.now if dry_run else app.write_now
        done = Publisher(app.store, app.config, site).publish(now, force=force, dry_run=dry_run)
    finally:
        site.close()
    where = f"page {done.page_id}" if done.page_id else f"a new page in space {settings.space}"
    if done.action == "current":
        click.echo(f"{where} version {done.version} already states policy {done.digest[:16]}…;"
                   " nothing published")
    elif done.action == "dry-run":
        click.echo(f"would publish {where} as version {done.version} ({done.title!r}, policy "
                   f"{done.digest[:16]}…)")
    else:
        click.echo(f"{done.action} {where} version {done.version} on {settings.url} "
                   f"(policy {done.digest[:16]}…); recorded in the evidence log")
