"""The findings at an instant, read back from the stored evaluations, and the views on them:
``check`` (findings with counts), ``list`` (vulnerabilities) and the check JSON contract.

Marking findings come from each evaluation's cache (:mod:`.cache`); deadline findings are
derived from the indexed due dates at the instant (:func:`.rules.deadline_findings`), and the
assessment-clock findings of threat-intake tickets from their intake records
(:func:`.rules.assessment_findings`). The store
is brought up to date first by :func:`vulnmark.check.engine.refresh` (:func:`check` does both).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vulnmark._time import iso, parse, stored
from vulnmark.check import cache
from vulnmark.check.engine import CheckOptions, Progress, Reader, refresh
from vulnmark.check.kinds import NAMES as FINDING_KINDS
from vulnmark.check.rules import assessment_findings, deadline_findings
from vulnmark.config.policy import Policy
from vulnmark.model import Evidence, Finding, TicketKey, filled
from vulnmark.store import Connection, Store, evaluations, overlay
from vulnmark.store import intake as intake_records
from vulnmark.store import runs as store_runs


@dataclass(frozen=True)
class Filters:
    """The filters shared by ``check``, ``list`` and ``jql``."""

    kinds: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    unclassified: bool = False
    state: str | None = None  # "open" | "resolved" | None for both

    def keeps(self, f: Finding, state: str, is_vulnerability: bool) -> bool:
        """Whether a finding on a ticket in ``state`` passes; ``--class``/``--unclassified``
        select vulnerabilities (marked tickets), as ``list`` does."""
        if self.kinds and f.kind not in self.kinds:
            return False
        if self.state and state != self.state:
            return False
        if self.classes or self.unclassified:
            return (f.classification in self.classes) or (
                self.unclassified and is_vulnerability and f.classification is None)
        return True


@dataclass(frozen=True)
class CheckResult:
    generated_at: datetime
    tickets: int
    vulnerabilities: int
    by_class: dict[str, int]
    findings: tuple[Finding, ...]
    by_kind: dict[str, int] = field(default_factory=dict)


def _deadline(common: dict[str, Any], *, state: str, due_at: str | None,
              resolved_at: str | None, outcome_at: str | None, outcome_kind: str | None,
              now: datetime, window: timedelta, needs_outcome: bool) -> list[Finding]:
    """The deadline findings of one evaluation row (times as stored) at ``now``."""
    if due_at is None and not needs_outcome:  # no deadline finding can arise
        return []
    return deadline_findings(
        cache.ticket_finding(common), state=state, due_at=parse(due_at),
        resolved_at=parse(resolved_at), now=now, due_soon=window,
        outcome_at=parse(outcome_at), outcome_kind=outcome_kind, needs_outcome=needs_outcome)


def _assessment(conn: Connection, now: datetime, window: timedelta
                ) -> Iterator[tuple[Finding, str, bool]]:
    """(finding, ticket state, is a vulnerability) of every threat-intake ticket whose impact is
    not assessed and whose assessment clock ended or ends within ``window`` of ``now``."""
    for r in intake_records.clock_rows(conn, now + window):
        base = filled(Finding, ticket=r.ticket, kind="assessment_overdue", title=r.title,
                      url=r.url, labels=r.labels, classification=r.classification,
                      suggested=None, confidence=None, evidence=(), due_at=None,
                      reporter=r.reporter, created=r.created, detail="")
        for f in assessment_findings(base, due_at=r.assess_due_at,
                                     assessed_at=None, now=now, due_soon=window):
            yield f, r.state, r.is_vulnerability


def collect(store: Store, policy: Policy, now: datetime,
            filters: Filters = Filters()) -> CheckResult:
    """Findings at ``now`` from the stored evaluations (call :func:`.engine.refresh` first)."""
    window = timedelta(hours=policy.due_soon_hours)
    required = policy.outcomes.required
    found: list[Finding] = []
    with store.reading() as conn:
        # both by index: the primary key's, and the vulnerabilities' (no scan of the rows)
        total, per_class = evaluations.counts(conn)
        by_class = dict.fromkeys(policy.class_names, 0)
        by_class["unclassified"] = 0
        vulns = 0
        for cls, n in per_class.items():
            by_class[cls or "unclassified"] = by_class.get(cls or "unclassified", 0) + n
            vulns += n
        soon = stored(now + window)
        for key, state, due_at, resolved_at, raw, outcome_at, outcome_kind, is_vuln in \
                evaluations.candidate_rows(conn, soon, required):
            if not raw:
                continue
            common, candidates = cache.decode(key, raw)
            candidates += _deadline(common, state=state, due_at=due_at, resolved_at=resolved_at,
                                    outcome_at=outcome_at, outcome_kind=outcome_kind, now=now,
                                    window=window, needs_outcome=required and bool(is_vuln))
            found.extend(f for f in candidates if filters.keeps(f, state, bool(is_vuln)))
        found.extend(f for d in overlay.diverged(conn)
                     if filters.keeps(f := source_finding(d), d.state, d.is_vulnerability))
        found.extend(f for f, state, is_vuln in _assessment(conn, now, window)
                     if filters.keeps(f, state, is_vuln))
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    found.sort(key=lambda f: (order[f.kind], f.ticket))
    counts: Counter[str] = Counter(f.kind for f in found)
    return CheckResult(
        generated_at=now, tickets=int(total), vulnerabilities=int(vulns), by_class=by_class,
        findings=tuple(found), by_kind={k: counts.get(k, 0) for k in FINDING_KINDS},
    )


def source_finding(d: overlay.Diverged) -> Finding:
    """The ``source_diverged`` finding of a ticket with labels kept over its source: one
    ``label`` evidence item per label, saying who applied it and what the source shows."""
    lacks = [e.label for e in d.entries if e.op == "add"]
    has = [e.label for e in d.entries if e.op == "remove"]
    detail = "; ".join(part for part in (
        f"the source lacks {', '.join(lacks)} (applied by vulnmark)" if lacks else "",
        f"the source still has {', '.join(has)} (removed by vulnmark)" if has else "") if part)
    return Finding(
        ticket=TicketKey(d.ticket), kind="source_diverged", title=d.title, url=d.url,
        labels=d.labels, classification=d.classification, reporter=d.reporter,
        created=d.created, detail=detail,
        evidence=tuple(Evidence("label", e.describe()) for e in d.entries))


def check(store: Store, policy: Policy, now: datetime, filters: Filters = Filters(), *,
          reader: Reader | None = None, progress: Progress | None = None,
          options: CheckOptions | None = None) -> CheckResult:
    """Bring the evaluations up to date, then the findings at ``now``."""
    refresh(store, policy, reader=reader, progress=progress, now=now,
            options=options or CheckOptions())
    return collect(store, policy, now, filters)


def run_check(store: Store, policy: Policy, now: datetime, filters: Filters = Filters(), *,
              progress: Progress | None = None) -> CheckResult:
    """``vulnmark check``: :func:`check`, recorded as a check run (counts per kind)."""
    result = check(store, policy, now, filters, progress=progress)
    store_runs.record_run(store, kind="check", at=now, policy_digest=policy.digest(),
                          counts={"tickets": result.tickets,
                                  "vulnerabilities": result.vulnerabilities,
                                  **{f"kind.{k}": n for k, n in result.by_kind.items() if n}})
    return result


#: The finding keys of DESIGN.md's check JSON, exactly (the report JSON carries more).
CONTRACT_KEYS = ("ticket", "kind", "title", "url", "labels", "classification", "suggested",
                 "confidence", "evidence", "due_at", "reporter")


def check_json(result: CheckResult, policy: Policy) -> dict[str, object]:
    """The JSON of ``vulnmark check`` (the contract of DESIGN.md)."""
    return {
        "generated_at": iso(result.generated_at),
        "policy": {"preset": policy.preset, "digest": policy.digest()},
        "summary": {"tickets": result.tickets, "vulnerabilities": result.vulnerabilities,
                    "by_class": result.by_class, "by_kind": result.by_kind},
        "findings": [{k: v for k, v in f.as_dict().items() if k in CONTRACT_KEYS}
                     for f in result.findings],
    }


@dataclass(frozen=True)
class Vulnerability:
    """One row of ``vulnmark list``."""

    ticket: str
    title: str
    classification: str | None
    state: str
    created: datetime
    due_at: datetime | None
    labels: tuple[str, ...]
    url: str | None
    kinds: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "ticket": self.ticket, "title": self.title, "classification": self.classification,
            "state": self.state, "created": iso(self.created), "due_at": iso(self.due_at),
            "labels": list(self.labels), "url": self.url, "findings": list(self.kinds),
        }


def vulnerabilities(store: Store, policy: Policy, now: datetime,
                    filters: Filters = Filters()) -> list[Vulnerability]:
    """Marked tickets (vulnerability or classification label) with their classification."""
    window = timedelta(hours=policy.due_soon_hours)
    required = policy.outcomes.required
    out = []
    with store.reading() as conn:
        kept = {d.ticket for d in overlay.diverged(conn)}
        clock: dict[str, list[str]] = {}
        for f, _, _ in _assessment(conn, now, window):
            clock.setdefault(f.ticket, []).append(f.kind)
        for r in evaluations.vulnerability_rows(conn, state=filters.state,
                                                classes=sorted(filters.classes),
                                                unclassified=filters.unclassified):
            kinds: list[str] = []
            if r["findings"]:
                common, found = cache.decode(r["ticket_key"], r["findings"])
                kinds = [f.kind for f in found]
                kinds += [f.kind for f in _deadline(
                    common, state=r["state"], due_at=r["due_at"], resolved_at=r["resolved_at"],
                    outcome_at=r["outcome_at"], outcome_kind=r["outcome_kind"], now=now,
                    window=window, needs_outcome=required)]
            if r["ticket_key"] in kept:
                kinds.append("source_diverged")
            kinds += clock.get(r["ticket_key"], [])
            if filters.kinds and not filters.kinds.intersection(kinds):
                continue
            created = parse(r["created_at"])
            assert created is not None
            out.append(Vulnerability(
                ticket=r["ticket_key"], title=r["title"], classification=r["classification"],
                state=r["state"], created=created, due_at=parse(r["due_at"]),
                labels=tuple(json.loads(r["labels"])), url=r["url"], kinds=tuple(kinds)))
    return out
