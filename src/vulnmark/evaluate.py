"""Evaluate the store under a policy: only changed tickets are re-read, findings are cached.

``refresh`` streams the tickets whose content changed since they were last evaluated (or all of
them when the policy changed), runs inference and the marking rules, and stores one evaluation row
per ticket. ``collect`` then derives the findings at an instant from those rows with SQL: marking
findings from the cache (:mod:`vulnmark.cache`), deadline findings from the indexed due dates.
Memory stays bounded by the batch size plus the findings themselves. Tickets waiting for
evaluation are listed in ``dirty_tickets``; a large backlog (a first check, a policy change) is
evaluated by worker processes, a mid-sized one (a day of changes in a large store) by this
process and a worker together (:mod:`vulnmark.fanout`).
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from vulnmark import cache
from vulnmark._time import iso, parse, stored
from vulnmark._version import __version__
from vulnmark.check import deadline_base, deadline_findings, marking, marking_findings
from vulnmark.model import (
    FINDING_KINDS,
    Finding,
    Outcome,
    Reading,
    Ticket,
)
from vulnmark.outcomes import OutcomeRules, earliest
from vulnmark.policy import DateWindow, Policy, add_hours
from vulnmark.store import Connection, Store, evaluations, events
from vulnmark.store import tickets as _tickets
from vulnmark.store.outcomes import list_outcomes

logger = logging.getLogger(__name__)

Reader = Callable[[Ticket, Policy], Reading]
Progress = Callable[[int], None]
POLICY_STATE = "evaluate.policy_digest"
BATCH = 5000
"""Tickets per page (and per transaction in this process): fewer, larger commits cost less
than many small ones when the changed tickets are spread over a large store."""
PARALLEL_MIN = 20_000
"""From this many changed tickets on, worker processes evaluate them and this process writes
what they return (see fanout)."""
SHARED_MIN = 4_000
"""From this many changed tickets on (and below :data:`PARALLEL_MIN`), this process and
worker processes share them: about half a second of work, what a new worker needs to start."""
SHARED_CHUNK = 250
"""The fewest tickets in one range of a shared backlog."""
MAX_WORKERS = 4
GC_THRESHOLD = 100_000
RULES_VERSION = 2
"""Bumped whenever the rules' findings for an unchanged ticket change (2: ``bad_date``); part
of the evaluation stamp, so every store is evaluated again once."""
"""Allocations between two young-generation collections while evaluating (Python's is 700)."""


def default_reader() -> Reader:
    from vulnmark.classify import read

    return read


def refresh(store: Store, policy: Policy, *, reader: Reader | None = None,
            progress: Progress | None = None, now: datetime | None = None) -> int:
    """Re-evaluate changed tickets; returns how many were evaluated.

    A policy not seen before is recorded (digest and deadlines) in the evidence log and in the
    policy versions at ``now``: a ticket keeps the deadlines of the policy in force when it was
    discovered (tickets discovered before the first recorded policy take that one).
    """
    read = reader or default_reader()
    window = policy.date_window(now or datetime.now(UTC))
    digest = policy.digest()
    # Evaluations are valid for one policy and one version of the rules and inference.
    stamp = f"{digest} {__version__} cache-{cache.FORMAT} rules-{RULES_VERSION}"
    seen = store.get_state(POLICY_STATE)
    fresh = seen != stamp  # every evaluation was just dropped: nothing to replace
    if fresh:
        with store.transaction() as conn:
            if (seen or "").split(" ")[0] != digest:
                _record_policy(conn, policy, digest, now or datetime.now(UTC))
            # every ticket is pending now (most already are on a first check: add the rest)
            evaluations.queue_all(conn)
        store.set_state(POLICY_STATE, stamp)
    with store.reading() as conn:
        versions = PolicyVersions.load(conn)
    rules = OutcomeRules.from_policy(policy)
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    with fewer_collections():
        backlog = _dirty_count(store) if reader is None and workers > 1 else 0
        if backlog >= SHARED_MIN:
            from vulnmark import fanout

            def here(after: str | None, last: str) -> int:
                return _refresh_here(store, policy, read, versions, rules, window, progress,
                                     after=after, last=last)

            try:
                if backlog >= PARALLEL_MIN:  # this process writes what the workers return
                    return fanout.refresh(store, policy, versions, rules, window,
                                          workers=workers, fresh=fresh, progress=progress)
                # this process evaluates too, and a range is a small share of the backlog
                return fanout.refresh(store, policy, versions, rules, window,
                                      workers=workers - 1,
                                      fresh=fresh, progress=progress, here=here,
                                      chunk=max(SHARED_CHUNK, backlog // 32))
            except (BrokenProcessPool, OSError, RuntimeError) as e:
                # what the workers finished is stored; the rest is still dirty: go on here
                logger.warning("worker processes failed (%s); evaluating in this process", e)
        return _refresh_here(store, policy, read, versions, rules, window, progress)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while evaluating.

    Evaluation allocates millions of short-lived objects without reference cycles (tickets,
    readings, rows); reference counting frees them, and a collection every 700 allocations
    only costs time (about 5 % of a cold check).
    """
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _refresh_here(store: Store, policy: Policy, read: Reader, versions: PolicyVersions,
                  rules: OutcomeRules, window: DateWindow, progress: Progress | None, *,
                  after: str | None = None, last: str | None = None) -> int:
    """Evaluate the dirty tickets (those with a key in ``(after, last]``) in this process."""
    done = 0
    while True:
        with store.transaction() as conn:
            page = _tickets.pending_page(conn, after=after, last=last, limit=BATCH)
            if not page.read:
                break
            _store_evaluations(conn, page.live, policy, read, versions=versions, rules=rules,
                               window=window)
            evaluations.drop(conn, page.gone)
            evaluations.done(conn, [k for k, _ in page.read])
        done += len(page.read)
        after = page.last
        if progress:
            progress(len(page.read))
        if len(page.read) < BATCH:
            break
    return done


def _dirty_count(store: Store) -> int:
    with store.reading() as conn:
        return evaluations.pending_count(conn)


@dataclass(frozen=True)
class PolicyVersions:
    """The recorded policies: (effective from, deadline hours per class), oldest first."""

    items: tuple[tuple[datetime, dict[str, float | None]], ...] = ()

    @classmethod
    def load(cls, conn: Connection) -> PolicyVersions:
        return cls(tuple(evaluations.policy_versions(conn)))

    def deadline(self, policy: Policy, class_name: str | None,
                 discovered: datetime) -> datetime | None:
        """The deadline under the policy in force at ``discovered``."""
        if class_name is None:
            return None
        in_force: dict[str, float | None] | None = None
        for at, deadlines in self.items:
            if in_force is None or at <= discovered:
                in_force = deadlines
        if in_force is None or class_name not in in_force:
            return policy.deadline(class_name, discovered)
        return add_hours(discovered, in_force[class_name])


def deadlines_of(policy: Policy) -> dict[str, float | None]:
    return {c.name: c.deadline_hours for c in policy.classes}


def _record_policy(conn: Connection, policy: Policy, digest: str, at: datetime) -> None:
    deadlines = deadlines_of(policy)
    last = evaluations.add_policy_version(conn, digest, at, deadlines)
    events.append(conn, "policy_change", {
        "digest": digest, "previous": last, "preset": policy.preset,
        "deadlines_hours": deadlines, "timezone": policy.timezone,
        "due_soon_hours": policy.due_soon_hours}, at)


def _classified_at(t: Ticket, policy: Policy, classification: str | None) -> datetime | None:
    """When the ticket first got a classification label (creation when history is silent)."""
    if classification is None:
        return None
    for h in sorted(t.label_history, key=lambda h: h.at):
        for label in h.added:
            m = policy.match_label(label)
            if m is not None and m.role == "class":
                return h.at
    return t.created


def _store_evaluations(conn: Connection, page: Iterable[Ticket], policy: Policy,
                       read: Reader, *, versions: PolicyVersions | None = None,
                       rules: OutcomeRules | None = None,
                       window: DateWindow | None = None) -> None:
    rows = evaluation_rows(conn, page, policy, read, versions=versions, rules=rules,
                           window=window)
    write_evaluations(conn, rows)


EVALUATION_COLUMNS = evaluations.EVALUATION_COLUMNS
Row = evaluations.Row


def evaluation_rows(conn: Connection, page: Iterable[Ticket], policy: Policy, read: Reader, *,
                    versions: PolicyVersions | None = None,
                    rules: OutcomeRules | None = None,
                    window: DateWindow | None = None) -> list[Row]:
    """The evaluation rows of a page of tickets, as tuples in :data:`EVALUATION_COLUMNS`
    order (cheap to send from a worker process); reads only the recorded outcomes. Dates
    outside ``window`` are ``bad_date`` findings and never a deadline base."""
    versions = versions or PolicyVersions()
    rules = rules or OutcomeRules()
    rows: list[Row] = []
    page = list(page)
    if not page:
        return rows
    explicit: dict[str, Outcome] = {}
    keys = [t.key for t in page]
    # by key range: a thousand bound keys cost more than the (usually empty) range they span
    for o in list_outcomes(conn, key_range=(min(keys), max(keys))):
        explicit.setdefault(o.ticket, o)
    for t in page:
        m = marking(t, policy)
        due = (versions.deadline(policy, m.classification, deadline_base(t, window))
               if m.classification else None)
        found = marking_findings(t, policy, read(t, policy), m, window=window, due_at=due)
        created = stored(t.created)
        if not m.is_marked and not found and t.resolved is None and t.key not in explicit:
            # the common case (no label, nothing found, open): only the row's identity
            rows.append((t.key, 0, None, "open", created, None, None, 0, "",
                         created if t.discovered is None else stored(t.discovered),
                         None, None, None))
            continue
        outcome = earliest([explicit.get(t.key), rules.inferred(t)])
        doc = ""
        if found or due is not None or m.is_marked:
            doc = cache.encode(t, m.classification, found)
        rows.append((
            t.key, int(m.is_marked), m.classification, t.state, created, stored(due),
            stored(t.resolved), len(found), doc,
            stored(t.discovered_at), stored(_classified_at(t, policy, m.classification)),
            stored(outcome.recorded_at) if outcome else None, outcome.kind if outcome else None,
        ))
    return rows


def write_evaluations(conn: Connection, rows: list[Row], *, replace_old: bool = True) -> None:
    """Store evaluation rows (see :func:`vulnmark.store.evaluations.write`)."""
    evaluations.write(conn, rows, replace_old=replace_old)


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


def collect(store: Store, policy: Policy, now: datetime,
            filters: Filters = Filters()) -> CheckResult:
    """Findings at ``now`` from the stored evaluations (call :func:`refresh` first)."""
    window = timedelta(hours=policy.due_soon_hours)
    required = OutcomeRules.from_policy(policy).required
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
            needs_outcome = required and bool(is_vuln)
            if due_at is not None or needs_outcome:  # else no deadline finding can arise
                candidates += deadline_findings(
                    cache.ticket_finding(common), state=state, due_at=parse(due_at),
                    resolved_at=parse(resolved_at), now=now, due_soon=window,
                    outcome_at=parse(outcome_at), outcome_kind=outcome_kind,
                    needs_outcome=needs_outcome)
            found.extend(f for f in candidates if filters.keeps(f, state, bool(is_vuln)))
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    found.sort(key=lambda f: (order[f.kind], f.ticket))
    counts: Counter[str] = Counter(f.kind for f in found)
    return CheckResult(
        generated_at=now, tickets=int(total), vulnerabilities=int(vulns), by_class=by_class,
        findings=tuple(found), by_kind={k: counts.get(k, 0) for k in FINDING_KINDS},
    )


def check(store: Store, policy: Policy, now: datetime, filters: Filters = Filters(), *,
          reader: Reader | None = None, progress: Progress | None = None) -> CheckResult:
    refresh(store, policy, reader=reader, progress=progress, now=now)
    return collect(store, policy, now, filters)


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
    required = OutcomeRules.from_policy(policy).required
    out = []
    with store.reading() as conn:
        for r in evaluations.vulnerability_rows(conn, state=filters.state,
                                                classes=sorted(filters.classes),
                                                unclassified=filters.unclassified):
            kinds: list[str] = []
            if r["findings"]:
                common, found = cache.decode(r["ticket_key"], r["findings"])
                kinds = [f.kind for f in found]
                kinds += [f.kind for f in deadline_findings(
                    cache.ticket_finding(common), state=r["state"], due_at=parse(r["due_at"]),
                    resolved_at=parse(r["resolved_at"]), now=now, due_soon=window,
                    outcome_at=parse(r["outcome_at"]), outcome_kind=r["outcome_kind"],
                    needs_outcome=required)]
            if filters.kinds and not filters.kinds.intersection(kinds):
                continue
            created = parse(r["created_at"])
            assert created is not None
            out.append(Vulnerability(
                ticket=r["ticket_key"], title=r["title"], classification=r["classification"],
                state=r["state"], created=created, due_at=parse(r["due_at"]),
                labels=tuple(json.loads(r["labels"])), url=r["url"], kinds=tuple(kinds)))
    return out

