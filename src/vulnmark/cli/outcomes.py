"""``vulnmark outcome`` and ``vulnmark reclassify``: documented handling, with evidence."""

from __future__ import annotations

import getpass
import json

import click

from vulnmark._time import stored
from vulnmark.cli.app import EXIT_USAGE, App, echo, echo_data, fatal, parse_instant, pass_app, table
from vulnmark.evidence.backdating import backdated_note
from vulnmark.model import NO_REMEDIATION_REASONS
from vulnmark.report.interface import one_line
from vulnmark.store.outcomes import list_outcomes
from vulnmark.triage import outcomes
from vulnmark.triage.reclassify import reclassify as reclassify_ticket


def register(cli: click.Group) -> None:
    cli.add_command(outcome)
    cli.add_command(reclassify)


@click.command("outcome")
@click.argument("key")
@click.option("--remediated", is_flag=True, help="The vulnerability was fixed.")
@click.option("--mitigation-plan", "plan", default=None, metavar="TEXT",
              help="A mitigation plan was created (and is being implemented): the plan.")
@click.option("--no-remediation", "reason", default=None,
              type=click.Choice(NO_REMEDIATION_REASONS),
              help="No remediation is needed, for this reason (needs --basis).")
@click.option("--basis", default=None, metavar="TEXT",
              help="The factual basis for no remediation (or a note on a remediation).")
@click.option("--by", default=None,
              help="Who decided it [default: the login name]; the login name is kept beside it.")
@click.option("--effective", default=None, metavar="TIME",
              help="When it took effect, if before now (ISO-8601; needs --why): judged by it "
                   "and shown as backdated.")
@click.option("--why", default=None, metavar="TEXT",
              help="Why it is entered only now (with --effective).")
@click.option("--list", "show", is_flag=True, help="List the ticket's outcomes instead.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def outcome(app: App, key: str, remediated: bool, plan: str | None, reason: str | None,
            basis: str | None, by: str | None, effective: str | None, why: str | None,
            show: bool, fmt: str) -> None:
    """Record how a vulnerability was handled (NCSSR v1 4.f, ETSI EN 319 401 REQ-7.9.2-10).

    Exactly one of --remediated, --mitigation-plan TEXT or --no-remediation REASON --basis TEXT.
    The outcome is kept with its time and author and appended to the evidence log in the same
    transaction. A deadline is met when an outcome is recorded at or before it. An outcome
    that took effect earlier than it is entered takes --effective TIME --why TEXT: it is
    judged by TIME and shown as backdated (reason and gap) in reports, metrics and packs.

    \b
    Example:
      vulnmark outcome VULN-7 --remediated
      vulnmark outcome VULN-8 --mitigation-plan "WAF rule blocks the path; patch in 2026-12"
      vulnmark outcome VULN-9 --no-remediation false_positive \\
        --basis "the affected module is not installed on any CA host"
      vulnmark outcome VULN-5 --remediated --effective 2026-11-27T14:00:00Z \\
        --why "patched during the outage; the tracker was down"
      vulnmark outcome VULN-9 --list
    """
    if show:
        with app.store.reading() as conn:
            found = list_outcomes(conn, keys=[key])
        if fmt == "json":
            echo_data(json.dumps([{"ticket": o.ticket, "kind": o.kind, "reason": o.reason,
                                   "text": o.text, "by": o.actor,
                                   "recorded_at": stored(o.recorded_at),
                                   "entered_at": stored(o.entered_at),
                                   "entered_by": o.entered_by, "backdated": o.backdated,
                                   "why": o.why} for o in found],
                                 indent=2, ensure_ascii=False))
        else:
            echo(table(["recorded_at", "kind", "reason", "by", "text", "backdated"], [
                [stored(o.recorded_at), o.kind, o.reason, o.actor, o.text,
                 one_line(backdated_note(o), 200)] for o in found])
                if found else f"{key}: no outcome recorded\n", nl=False)
        return
    chosen = [name for name, on in (("--remediated", remediated), ("--mitigation-plan", plan),
                                    ("--no-remediation", reason)) if on]
    if len(chosen) != 1:
        fatal("give exactly one of --remediated, --mitigation-plan TEXT, "
              "--no-remediation REASON --basis TEXT", EXIT_USAGE)
    if reason is not None:
        kind, text = "no_remediation", basis or ""
    elif plan is not None:
        if basis is not None:
            fatal("--basis belongs to --no-remediation (the plan is the text)", EXIT_USAGE)
        kind, text = "mitigation_plan", plan
    else:
        kind, text = "remediated", basis or ""
    when = parse_instant(effective, "--effective") if effective is not None else None
    done = outcomes.record(app.store, key, kind, at=app.write_now, text=text, reason=reason,
                           actor=by or getpass.getuser(), effective=when, why=why)
    echo(f"{key}: {done.kind.replace('_', ' ')}"
         f"{' (' + done.reason + ')' if done.reason else ''} recorded at "
         f"{stored(done.recorded_at)}"
         + (f" — BACKDATED: {one_line(backdated_note(done), 400)}"
            if done.backdated else ""))


@click.command("reclassify")
@click.argument("key")
@click.argument("new_class", metavar="CLASS")
@click.option("--why", required=True, metavar="TEXT", help="Why the class changes (recorded).")
@click.option("--by", default=None, help="Who decides it [default: the login name].")
@click.option("--effective", default=None, metavar="TIME",
              help="When the new class took effect, if before now (ISO-8601): the deadline "
                   "counts with it; shown as backdated, --why being the reason.")
@pass_app
def reclassify(app: App, key: str, new_class: str, why: str, by: str | None,
               effective: str | None) -> None:
    """Change a ticket's classification label; who, when and why go to the evidence log.

    The ticket keeps its discovery time: its deadline is the new class's handling time from
    discovery under the policy in force then. Jira tickets are relabelled in Jira.

    \b
    Example:
      vulnmark reclassify VULN-3 HIGH --why "CVSS 3.1 re-scored 7.5 after vendor advisory"
    """
    when = parse_instant(effective, "--effective") if effective is not None else None
    done = reclassify_ticket(app.store, app.policy, key, new_class, why=why,
                             by=by or getpass.getuser(), at=app.write_now, effective=when)
    echo(f"{key}: {done.previous or 'unclassified'} -> {done.new}"
         + (f" — BACKDATED: effective {stored(when)}, entered {stored(done.at)}"
            if when else ""))
