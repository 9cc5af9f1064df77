"""``vulnmark metrics``: time to classify, time to outcome, share within deadline."""

from __future__ import annotations

import json
from datetime import datetime

import click

from vulnmark._csv import csv_text
from vulnmark._time import iso
from vulnmark.cli.app import App, echo, echo_data, pass_app, table
from vulnmark.control.metrics import compute, period
from vulnmark.evidence.backdating import backdated_note
from vulnmark.report.interface import one_line
from vulnmark.store import metrics


def register(cli: click.Group) -> None:
    cli.add_command(metrics_command)


@click.command("metrics")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (policy timezone) [default: 89 days before --to].")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day, inclusive [default: today].")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("--by", type=click.Choice(["month", "class"]), default="month", show_default=True,
              help="Rows per class and month of discovery, or per class over the period.")
@pass_app
def metrics_command(app: App, since: datetime | None, until: datetime | None, fmt: str,
                    by: str) -> None:
    """Time to classify, time to outcome and the share within deadline, per class.

    Counts the vulnerabilities discovered in the period (months in UTC). Time to classify runs
    from creation to the first classification label; time to outcome from discovery to the
    first outcome. A deadline is met by an outcome recorded at or before it. An outcome entered
    after it took effect (``outcome --effective TIME --why TEXT``) is judged by its effective
    time and counted under "backdated"; each is listed with its reason and gap.

    \b
    Example:
      vulnmark metrics --from 2026-01-01 --to 2026-12-31
      vulnmark metrics --from 2026-11-01 --to 2026-11-30 --format csv > november.csv
    """
    start, end = period(app.policy, since and since.date(), until and until.date(), app.now)
    result = compute(app.store, app.policy, start, end, app.now)
    late = metrics.backdated_outcomes(app.store, start, end)
    if fmt == "json":
        echo_data(json.dumps(result.as_dict() | {"backdated_outcomes": [{
            "ticket": str(o.ticket), "kind": o.kind, "effective": iso(o.recorded_at),
            "entered_at": iso(o.entered_at) if o.entered_at else None,
            "entered_by": o.entered_by, "by": o.actor, "why": o.why,
            "gap_hours": round((o.entered_at - o.recorded_at).total_seconds() / 3600, 1)
            if o.entered_at else None} for o in late]}, indent=2, ensure_ascii=False))
        return
    rows = result.rows if by == "month" else result.totals()
    values = [[r.as_dict()[c] for c in metrics.COLUMNS] for r in rows]
    if fmt == "csv":
        echo_data(csv_text(metrics.COLUMNS, values), nl=False)
        return
    headers = ["month", "class", "n", "classified", "classify h (mean)", "classify h (max)",
               "outcome", "outcome h (mean)", "deadline", "met", "missed", "pending", "backdated",
               "within"]
    pretty = [[*v[:-1], "-" if v[-1] is None else f"{v[-1]:.0%}"] for v in values]
    echo(table(headers, pretty) if pretty else "no vulnerabilities discovered in the "
         "period\n", nl=False)
    for o in late:
        echo(f"BACKDATED OUTCOME {one_line(str(o.ticket), 80)} ({o.kind}): "
             f"{one_line(backdated_note(o), 400)}")
