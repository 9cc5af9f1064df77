"""``vulnmark intake run|status|test`` and ``vulnmark assess`` (:mod:`vulnmark.intake`)."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from vulnmark._time import iso
from vulnmark.cli.app import (
    EXIT_USAGE,
    App,
    echo,
    echo_data,
    fatal,
    parse_instant,
    pass_app,
    table,
)
from vulnmark.intake.assess import assess as record_assessment
from vulnmark.intake.classify import original
from vulnmark.intake.feeds import FEEDS
from vulnmark.intake.feeds.detect import detect
from vulnmark.intake.feeds.nvd_api import NvdApi
from vulnmark.intake.jira import attach, relabel_in_jira
from vulnmark.intake.live import LiveRun, run_recorded
from vulnmark.intake.run import Intake, IntakeOptions, read_feed, settings_of
from vulnmark.intake.status import states, summary
from vulnmark.intake.watchlist import explain
from vulnmark.model import NO_REMEDIATION_REASONS
from vulnmark.report.interface import clean, one_line
from vulnmark.store import intake as records


def register(cli: click.Group) -> None:
    cli.add_command(intake)
    cli.add_command(assess)


@click.group()
def intake() -> None:
    """Threat intake: published vulnerabilities that concern you become classified tickets.

    \b
    Example:
      vulnmark intake run --feed nvd --from nvdcve-2.0-modified.json.gz
      vulnmark intake status
      vulnmark intake test CVE-2024-3094 --from nvdcve-2.0-modified.json.gz
    """


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value, "--since")
    except click.BadParameter:
        raise click.BadParameter(f"{value!r} is not a date or time (e.g. 2026-11-01)",
                                 param_hint="--since") from None


@intake.command("run")
@click.option("--feed", type=click.Choice(sorted(FEEDS)), default=None,
              help="What --from holds [default: told from the first file].")
@click.option("--from", "source", type=click.Path(exists=True, path_type=Path),
              default=None, help="A feed file or folder (NVD 2.0 JSON[.gz], CVE 5 records, "
                                 "the KEV catalog, OSV JSON/YAML) [default: the live NVD API].")
@click.option("--since", default=None, metavar="DATE",
              help="Only publications modified (else published) at or after DATE (the live "
                   "NVD: read from DATE instead of the end of the last run).")
@click.option("--dry-run", is_flag=True, help="Show what would be opened or updated; write "
                                              "nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def run(app: App, feed: str | None, source: Path | None, since: str | None, dry_run: bool,
        fmt: str) -> None:
    """Open one classified ticket per matching publication; update those already open.

    Every record is read and matched before anything is written (a bad record changes
    nothing). Each ticket carries the vulnerability label and the class of the publication's
    original classification; a re-run opens nothing new, and a later change of the
    publication is a comment and, for a new class, a proposal (`vulnmark assess`).
    Without --from it reads the NVD CVE API 2.0 (intake.nvd_url; key from
    VULNMARK_NVD_API_KEY) from the end of the last run, checkpointed page by page.

    \b
    Example:
      vulnmark intake run --from known_exploited_vulnerabilities.json
      vulnmark intake run --feed cve5 --from cvelistV5/cves --since 2026-11-01 --dry-run
      VULNMARK_NVD_API_KEY=… vulnmark intake run
    """
    settings = settings_of(app.config)
    options = IntakeOptions(dry_run=dry_run, since=_since(since))
    app.creates_store = not dry_run
    now = app.now if dry_run else app.write_now
    if source is None:
        if feed not in (None, "nvd"):
            fatal(f"--feed {feed} needs --from PATH (only the NVD is read live)", EXIT_USAGE)
        api = NvdApi(settings.nvd_url, os.environ.get("VULNMARK_NVD_API_KEY"))
        live = run_recorded(app.store, app.config, api, now=now, options=options,
                            prepare=lambda i: attach(i, os.environ))
        result, name = live.result, "nvd"
        echo(f"NVD API: {'resumed ' if live.resumed else ''}records modified "
             f"{iso(live.since)} .. {iso(live.until)}: {live.pages} pages, "
             f"{live.requests} requests")
    else:
        name = feed or detect(source)
        runner = Intake(app.store, app.config, options)
        attach(runner, os.environ)
        result = runner.run(read_feed(name, source), feed=name, now=now)
    if fmt == "json":
        echo_data(json.dumps({
            "feed": name, "dry_run": dry_run, "read": result.read, "matched": result.matched,
            "opened": result.opened, "updated": result.updated, "unchanged": result.unchanged,
            "skipped": result.skipped, "proposals": result.proposals}, indent=2,
            ensure_ascii=False))
        return
    for line in result.lines + result.skipped:
        echo(one_line(line, 400))
    verb = "would open" if dry_run else "opened"
    echo(f"{name}: {result.read} records read, {result.matched} matched the watchlist; "
         f"{verb} {len(result.opened)}, updated {len(result.updated)}, unchanged "
         f"{result.unchanged}, skipped {len(result.skipped)}, new proposals "
         f"{len(result.proposals)}")


def scheduled_intake(app: App) -> Callable[[datetime], LiveRun] | None:
    """The live NVD intake that ``schedule`` runs before each report and ``watch`` at each
    tick (None without ``[intake]``): recorded as an ``intake`` run, failed ones too."""
    settings = app.config.intake
    if settings is None:
        return None
    store = app.store

    def step(now: datetime) -> LiveRun:
        # two retries (6 s, 12 s), not six (3.5 min): the report or the tick must not wait
        # long for a site that is down; the next run or tick tries again
        api = NvdApi(settings.nvd_url, os.environ.get("VULNMARK_NVD_API_KEY"),
                     max_retries=2)
        try:
            return run_recorded(store, app.config, api, now=now,
                                prepare=lambda i: attach(i, os.environ))
        finally:
            api.client.close()

    return step


def intake_line(live: LiveRun) -> str:
    """One line of what a live intake run did."""
    r = live.result
    return (f"intake: {r.read} records read, opened {len(r.opened)}, updated "
            f"{len(r.updated)} ({live.requests} NVD requests)")


@intake.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def status(app: App, fmt: str) -> None:
    """Intake tickets: awaiting assessment, due soon, overdue, assessed; proposals.

    \b
    Example:
      vulnmark intake status
      vulnmark --now 2026-12-01T07:00:00Z intake status --format json
    """
    found = states(app.store, app.policy, app.now)
    counts = summary(found)
    if fmt == "json":
        echo_data(json.dumps({"generated_at": iso(app.now), "summary": counts, "tickets": [{
            "ticket": s.record.ticket, "id": s.record.id, "aliases": list(s.record.aliases),
            "state": s.state, "class": s.record.published_class,
            "assess_due_at": iso(s.record.assess_due_at), "kev_due": s.record.kev_due,
            "proposed": s.record.proposed_class, "rejected": s.record.rejected,
            "owner": s.record.owner, "assessment": s.record.assessment,
            "assessed_at": iso(s.record.assessed_at)} for s in found]}, indent=2,
            ensure_ascii=False))
        return
    if not found:
        echo("no intake tickets yet: run `vulnmark intake run --from PATH`")
        return
    echo(table(["ticket", "id", "state", "class", "assess by", "KEV due", "proposed",
                "owner"],
               [[s.record.ticket, s.record.id, s.state, s.record.published_class,
                 iso(s.record.assess_due_at), s.record.kev_due,
                 s.record.proposed_class, clean(s.record.owner or "")] for s in found]),
         nl=False)
    echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@intake.command("test")
@click.argument("record_id", metavar="ID")
@click.option("--feed", type=click.Choice(sorted(FEEDS)), default=None)
@click.option("--from", "source", type=click.Path(exists=True, path_type=Path),
              required=True, help="The feed file or folder holding the record.")
@pass_app
def test(app: App, record_id: str, feed: str | None, source: Path) -> None:
    """Explain why a publication matches the watchlist or not, and its original class.

    Writes nothing.

    \b
    Example:
      vulnmark intake test CVE-2016-2183 --from nvdcve-2016.json.gz
    """
    settings = settings_of(app.config)
    name = feed or detect(source)
    found = next((a for a in read_feed(name, source) if record_id in a.ids), None)
    if found is None:
        fatal(f"{source}: no record {record_id} in this {name} feed", EXIT_USAGE)
    o = original(found, app.policy, settings)
    echo(f"{found.id} ({name}{', also ' + ', '.join(found.ids[1:]) if found.aliases else ''})"
         f": {one_line(found.title or found.description, 160)}")
    echo(f"original class: {o.cls or 'none'} ({one_line(o.basis, 300)})")
    for line in explain(found, settings.watch):
        echo(one_line(line, 400))
    with app.store.reading() as conn:
        existing = records.find(conn, found.ids)
    echo(f"ticket: {existing.ticket}" if existing else "ticket: none yet")


@click.command("assess")
@click.argument("key")
@click.option("--affected", is_flag=True, help="It affects our systems: handle the ticket.")
@click.option("--not-affected", is_flag=True,
              help="It does not affect us (needs --basis; recorded as no_remediation).")
@click.option("--reclassify", "--class", "new_class", default=None, metavar="CLASS",
              help="Our assessment gives another class (needs --why).")
@click.option("--basis", default=None, metavar="TEXT", help="The factual basis of the verdict.")
@click.option("--why", default=None, metavar="TEXT", help="Why the class changes.")
@click.option("--reason", type=click.Choice(NO_REMEDIATION_REASONS), default=None,
              help="NCSSR v1 4.f reason code of --not-affected [default: other].")
@click.option("--by", default=None, help="Who assessed [default: the login name].")
@pass_app
def assess(app: App, key: str, affected: bool, not_affected: bool, new_class: str | None,
           basis: str | None, why: str | None, reason: str | None, by: str | None) -> None:
    """Record the assessment of an intake ticket's impact, within its class's clock.

    Exactly one of --affected, --not-affected --basis TEXT, or --reclassify CLASS --why TEXT
    (the documented reclassification: the label changes, with who, when and why in the
    evidence log).

    \b
    Example:
      vulnmark assess VULN-12 --affected --basis "OCSP responders run the affected version"
      vulnmark assess VULN-13 --not-affected --basis "module not installed" \\
        --reason false_positive
      vulnmark assess VULN-14 --reclassify MEDIUM --why "only reachable from the admin LAN"
    """
    chosen = [n for n, on in (("--affected", affected), ("--not-affected", not_affected),
                              ("--reclassify", new_class is not None)) if on]
    if len(chosen) != 1:
        fatal("give exactly one of --affected, --not-affected --basis TEXT, --reclassify "
              "CLASS --why TEXT", EXIT_USAGE)
    if reason is not None and not not_affected:
        fatal("--reason belongs to --not-affected", EXIT_USAGE)
    if new_class is not None:
        verdict, text = "reclassified", why or ""
    elif not_affected:
        verdict, text = "not_affected", basis or ""
    else:
        verdict, text = "affected", basis or ""
    done = record_assessment(app.store, app.policy, key, verdict, text=text,
                             by=by or getpass.getuser(), at=app.write_now, new_class=new_class,
                             reason=reason, remote=relabel_in_jira(app.config, os.environ))
    change = f" ({done.previous or 'unclassified'} -> {done.cls})" \
        if done.verdict == "reclassified" else ""
    echo(f"{key}: {done.verdict.replace('_', ' ')}{change}, assessed at {iso(done.at)}"
         f"{' (late)' if done.late else ''}")
