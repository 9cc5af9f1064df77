"""``vulnmark backfill``: review and apply the labels the text already implies."""

from __future__ import annotations

import getpass
import os
from collections import Counter
from pathlib import Path

import click

from vulnmark._files import write_atomic
from vulnmark.cli.app import EXIT_EXTERNAL, App, pass_app, progress_callback, table
from vulnmark.triage import backfill as _backfill


def register(cli: click.Group) -> None:
    cli.add_command(backfill)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json/csv give a review file for a spreadsheet.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the proposals (review file) here.")
@click.option("--accept", "accept_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), default=None,
              help="Apply the rows of an edited review file whose accept column says yes.")
@click.option("--apply", "do_apply", is_flag=True,
              help="Apply proposals at or above --min-confidence (default: dry run).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.95, show_default=True)
@click.option("--to-jira", is_flag=True,
              help="Write labels of Jira tickets back to Jira ([source.jira]); the next sync "
                   "brings them into the store. Other tickets are labelled in the store.")
@click.option("--by", default=None, help="Who approves [default: the login name].")
@pass_app
def backfill(app: App, fmt: str, output: Path | None, accept_file: Path | None, do_apply: bool,
             min_confidence: float, to_jira: bool, by: str | None) -> None:
    """Propose the missing vulnerability and classification labels, with evidence.

    Without --apply or --accept nothing is written (dry run). Applied labels are recorded in
    the label history and the evidence log with the evidence that justified them; running
    again applies nothing twice.

    \b
    Example:
      vulnmark backfill --format csv -o review.csv     # edit: accept = yes
      vulnmark backfill --accept review.csv
      vulnmark backfill --apply --min-confidence 0.95
      vulnmark backfill --accept review.csv --to-jira
    """
    actor = by or getpass.getuser()
    if accept_file is not None or do_apply:
        app.write_now  # noqa: B018  (refuses --now before anything is read)
    if accept_file is not None:
        chosen = _backfill.read_review(accept_file)
        _apply(app, chosen, actor, to_jira)
        return
    proposals = _backfill.propose(app.store, app.policy, app.now)
    if do_apply:
        _apply(app, [p for p in proposals if p.confidence >= min_confidence], actor, to_jira)
        return
    if fmt in ("json", "csv"):
        text = _backfill.review_text(proposals, fmt)
        if output:
            write_atomic(output, text)
            click.echo(f"wrote {len(proposals)} proposals to {output}", err=True)
        else:
            click.echo(text, nl=False)
        return
    for group in ("high", "medium", "low"):
        rows = [[p.ticket, " ".join(p.add), p.kind, f"{p.confidence:.2f}",
                 p.evidence[0].text if p.evidence else "", p.title]
                for p in proposals if p.group == group]
        if rows:
            click.echo(f"\n{group} confidence ({len(rows)})")
            click.echo(table(["ticket", "add", "kind", "confidence", "evidence", "title"], rows,
                             max_width=50), nl=False)
    click.echo(f"\n{len(proposals)} proposals (dry run: nothing written; use --apply or "
               "--accept FILE)")


def _apply(app: App, chosen: list[_backfill.Proposal], actor: str, to_jira: bool) -> None:
    update, done = progress_callback(len(chosen), "applying")
    try:
        result = _backfill.apply_approved(app.store, app.config, chosen, actor=actor,
                                          at=app.write_now, to_jira=to_jira, env=os.environ,
                                          progress=update)
    finally:
        done()
    if result.jira_site is not None:
        counts = Counter(o.status for o in result.jira)
        click.echo(f"Jira {result.jira_site}: "
                   + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing"))
    for o in result.jira_failed:
        click.echo(f"  {o.key}: {o.error}", err=True)
    if result.applied is None:
        raise SystemExit(EXIT_EXTERNAL)
    a = result.applied
    click.echo(f"applied {a.labels} labels to {a.tickets} tickets ({a.skipped} already had them)")
