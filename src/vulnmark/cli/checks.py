"""``vulnmark check``, ``vulnmark list`` and ``vulnmark jql``: one set of filters, three views."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from vulnmark._csv import csv_text
from vulnmark.check import kinds as finding_kinds
from vulnmark.check import results
from vulnmark.check.engine import refresh
from vulnmark.check.kinds import NAMES as FINDING_KINDS
from vulnmark.check.results import CheckResult, Filters, check_json
from vulnmark.cli.app import (
    EXIT_FINDINGS,
    App,
    ProgressBar,
    colour_on,
    echo,
    echo_data,
    echo_painted,
    pass_app,
    table,
)
from vulnmark.config.policy import Policy
from vulnmark.model import Finding
from vulnmark.sources.jira import jql
from vulnmark.triage import dismiss

LISTING_FORMATS = click.Choice(["table", "json", "csv"])


def register(cli: click.Group) -> None:
    cli.add_command(check)
    cli.add_command(list_)
    cli.add_command(jql_command)


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--class", "classes", multiple=True, metavar="CLASS",
                     help="Only this classification (repeatable)."),
        click.option("--unclassified", is_flag=True,
                     help="Only vulnerabilities without a classification."),
        click.option("--state", type=click.Choice(["open", "resolved", "all"]), default="all",
                     show_default=True),
        click.option("--kind", "kinds", multiple=True, type=click.Choice(FINDING_KINDS),
                     help="Only findings of this kind (repeatable)."),
    ]):
        fn = option(fn)
    return fn


def make_filters(policy: Policy, classes: tuple[str, ...], unclassified: bool, state: str,
                 kinds: tuple[str, ...]) -> Filters:
    known = set(policy.class_names)
    for c in classes:
        if c not in known:
            raise click.BadParameter(f"unknown class {c!r}; the policy has "
                                     f"{', '.join(policy.class_names)}", param_hint="--class")
    return Filters(kinds=frozenset(kinds), classes=frozenset(classes),
                            unclassified=unclassified, state=None if state == "all" else state)


def _evaluate(app: App, filters: Filters) -> CheckResult:
    bar = ProgressBar("Evaluating tickets")
    try:
        return results.run_check(app.store, app.policy, app.now, filters, progress=bar)
    finally:
        bar.close()


FINDING_COLUMNS = ["ticket", "kind", "classification", "suggested", "confidence", "due_at",
                   "title", "detail"]


@click.command()
@filter_options
@click.option("--format", "fmt", type=LISTING_FORMATS, default="table", show_default=True)
@click.option("--fail-on", "fail_on", default="", metavar="KINDS",
              help="Exit 1 when findings of these kinds exist (comma-separated, or 'any'); "
                   "dismissed findings do not count.")
@click.option("--include-dismissed", is_flag=True,
              help="Also list (and count for --fail-on) dismissed findings and suspected ones "
                   "cleared by a false_positive outcome.")
@pass_app
def check(app: App, classes: tuple[str, ...], unclassified: bool, state: str,
          kinds: tuple[str, ...], fmt: str, fail_on: str, include_dismissed: bool) -> None:
    """Check every ticket against the policy and list the findings.

    Dismissed findings (vulnmark dismiss) are left out of the listing, the summary and
    --fail-on, and counted on a line of their own.

    \b
    Example:
      vulnmark check --fail-on unclassified,conflicting --format json
    """
    fail_kinds = _fail_kinds(fail_on)
    filters = make_filters(app.policy, classes, unclassified, state, kinds)
    result = _evaluate(app, filters)
    left_out = 0
    if not include_dismissed:
        result, left_out = _without_dismissed(app, result)
    note = (f"{left_out} dismissed finding{'s' if left_out != 1 else ''} not listed: see "
            "`vulnmark dismiss --list` (--include-dismissed lists them)") if left_out else ""
    if fmt == "json":
        echo_data(json.dumps(check_json(result, app.policy), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        echo_data(csv_text(FINDING_COLUMNS + ["labels", "url", "reporter", "evidence"],
                           [_row(f) + [list(f.labels), f.url, f.reporter, _evidence(f)]
                            for f in result.findings]), nl=False)
    else:
        if result.findings:
            echo_painted(table(FINDING_COLUMNS, [_row(f) for f in result.findings],
                               colour=colour_on()), nl=False)
        echo(f"{result.tickets} tickets, {result.vulnerabilities} vulnerabilities, "
             f"{len(result.findings)} findings"
             + "".join(f", {n} {k}" for k, n in result.by_kind.items() if n))
    if note:
        echo(note, err=fmt != "table")
    if any(result.by_kind.get(k) for k in fail_kinds):
        raise SystemExit(EXIT_FINDINGS)


def _without_dismissed(app: App, result: CheckResult) -> tuple[CheckResult, int]:
    """``result`` without the findings dismissed at ``app.now`` (and suspected ones cleared by
    a false_positive outcome), its counts by kind recounted; and how many were left out."""
    cleared = dismiss.clear(app.store, result.findings, app.now)
    left_out = cleared.dismissed + cleared.false_positive
    if not left_out:
        return result, 0
    by_kind = dict.fromkeys(result.by_kind, 0)
    for f in cleared.findings:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    return replace(result, findings=cleared.findings, by_kind=by_kind), left_out


def _fail_kinds(text: str) -> set[str]:
    kinds = {k.strip() for k in text.split(",") if k.strip()}
    if "any" in kinds:
        return set(FINDING_KINDS)
    unknown = kinds - set(FINDING_KINDS)
    if unknown:
        raise click.BadParameter(f"unknown kind(s) {', '.join(sorted(unknown))}; choose from "
                                 f"{', '.join(FINDING_KINDS)} or 'any'", param_hint="--fail-on")
    return kinds


def _row(f: Finding) -> list[Any]:
    return [f.ticket, f.kind, f.classification, f.suggested,
            None if f.confidence is None else f"{f.confidence:.2f}",
            f.due_at.isoformat() if f.due_at else None, f.title, f.detail]


def _evidence(f: Finding) -> str:
    return " | ".join(f"{e.field}{'' if e.index is None else f'[{e.index}]'}: {e.text}"
                      for e in f.evidence)


@click.command("list")
@filter_options
@click.option("--format", "fmt", type=LISTING_FORMATS, default="table", show_default=True)
@pass_app
def list_(app: App, classes: tuple[str, ...], unclassified: bool, state: str,
          kinds: tuple[str, ...], fmt: str) -> None:
    """List vulnerabilities and their classification.

    \b
    Example:
      vulnmark list --class CRITICAL --state open
      vulnmark list --unclassified --format csv > unclassified.csv
    """
    filters = make_filters(app.policy, classes, unclassified, state, kinds)
    bar = ProgressBar("Evaluating tickets")
    try:
        refresh(app.store, app.policy, now=app.now, progress=bar)
    finally:
        bar.close()
    rows = results.vulnerabilities(app.store, app.policy, app.now, filters)
    headers = ["ticket", "classification", "state", "created", "due_at", "findings", "title"]
    data = [[v.ticket, v.classification, v.state, v.created.isoformat(),
             v.due_at.isoformat() if v.due_at else None, list(v.kinds), v.title] for v in rows]
    if fmt == "json":
        echo_data(json.dumps([v.as_dict() for v in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        echo_data(csv_text(headers + ["labels", "url"],
                           [d + [list(v.labels), v.url] for d, v in zip(data, rows,
                                                                        strict=True)]), nl=False)
    else:
        if data:
            echo_painted(table(headers, data, colour=colour_on()), nl=False)
        echo(f"{len(rows)} vulnerabilities")


@click.command("jql")
@filter_options
@pass_app
def jql_command(app: App, classes: tuple[str, ...], unclassified: bool, state: str,
                kinds: tuple[str, ...]) -> None:
    """Print the JQL of the same filters, to save as a Jira filter.

    \b
    Example:
      vulnmark jql --unclassified --state open
    """
    policy = app.policy
    make_filters(policy, classes, unclassified, state, kinds)
    all_class_labels = [label for c in policy.classes for label in c.accepted]
    unclassified = unclassified or "unclassified" in kinds
    other = [k for k in kinds if not finding_kinds.BY_NAME[k].in_jql]
    if other:
        echo(f"vulnmark: note: kinds {', '.join(other)} depend on ticket text and cannot "
             "be expressed in JQL; the query lists the vulnerabilities to look at",
             err=True)
    scope = app.config.jira.jql if app.config.jira else None
    echo(jql.filter_jql(
        vulnerability_labels=policy.vulnerability_labels,
        class_labels=[label for c in policy.classes if c.name in classes for label in c.accepted],
        unclassified_classes=all_class_labels if unclassified else None,
        state=state,  # type: ignore[arg-type]
        scope=str(scope) if scope else None,
    ))
