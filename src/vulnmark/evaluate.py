"""Evaluate the store under a policy: only changed tickets are re-read, findings are cached.

``refresh`` streams the tickets whose content changed since they were last evaluated (or all of
them when the policy changed), runs inference and the marking rules, and stores one evaluation row
per ticket. ``collect`` then derives the findings at an instant from those rows with SQL: marking
findings from the cache, deadline findings from the indexed due dates. Memory stays bounded by the
batch size plus the findings themselves.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from vulnmark.check import deadline_findings, marking, marking_findings
from vulnmark.model import FINDING_KINDS, Finding, Reading, Ticket
from vulnmark.policy import Policy
from vulnmark.store import Store
from vulnmark.store import tickets as _tickets
from vulnmark.store.schema import dt, evaluations, tickets, ts

logger = logging.getLogger(__name__)

Reader = Callable[[Ticket, Policy], Reading]
Progress = Callable[[int], None]
POLICY_STATE = "evaluate.policy_digest"
BATCH = 1000


def default_reader() -> Reader:
    from vulnmark.classify import read

    return read


def refresh(store: Store, policy: Policy, *, reader: Reader | None = None,
            progress: Progress | None = None) -> int:
    """Re-evaluate changed tickets; returns how many were evaluated."""
    read = reader or default_reader()
    digest = policy.digest()
    if store.get_state(POLICY_STATE) != digest:
        with store.transaction() as conn:
            conn.execute(update(tickets).values(dirty=1))
            conn.execute(delete(evaluations))
        store.set_state(POLICY_STATE, digest)
    done, after = 0, None
    while True:
        with store.transaction() as conn:
            page = _tickets.page(conn, where=tickets.c.dirty == 1, after=after, limit=BATCH)
            if not page:
                break
            gone = {k for (k,) in conn.execute(select(tickets.c.key).where(
                tickets.c.key.in_([t.key for t in page]), tickets.c.gone_at.is_not(None)))}
            _store_evaluations(conn, [t for t in page if t.key not in gone], policy, read)
            conn.execute(delete(evaluations).where(evaluations.c.ticket_key.in_(gone)))
            conn.execute(update(tickets).where(tickets.c.key.in_([t.key for t in page]))
                         .values(dirty=0))
        done += len(page)
        after = page[-1].key
        if progress:
            progress(len(page))
        if len(page) < BATCH:
            break
    return done


def _store_evaluations(conn: Connection, page: Iterable[Ticket], policy: Policy,
                       read: Reader) -> None:
    rows: list[dict[str, Any]] = []
    keys = []
    for t in page:
        m = marking(t, policy)
        found = marking_findings(t, policy, read(t, policy))
        due = policy.deadline(m.classification, t.discovered_at)
        doc: dict[str, Any] = {}
        if found or due is not None:
            doc = {"t": _summary(t, m.classification), "f": [f.as_dict() for f in found]}
        keys.append(t.key)
        rows.append({
            "ticket_key": t.key, "is_vulnerability": int(m.is_marked),
            "classification": m.classification, "state": t.state, "created_at": ts(t.created),
            "due_at": ts(due), "resolved_at": ts(t.resolved), "n_findings": len(found),
            "findings": json.dumps(doc, ensure_ascii=False) if doc else "",
        })
    if keys:
        conn.execute(delete(evaluations).where(evaluations.c.ticket_key.in_(keys)))
        conn.execute(evaluations.insert(), rows)


def _summary(t: Ticket, classification: str | None) -> dict[str, Any]:
    return Finding(ticket=t.key, kind="overdue", title=t.title, url=t.url, labels=t.labels,
                   classification=classification, reporter=t.reporter,
                   created=t.created).as_dict()


@dataclass(frozen=True)
class Filters:
    """The filters shared by ``check``, ``list`` and ``jql``."""

    kinds: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    unclassified: bool = False
    state: str | None = None  # "open" | "resolved" | None for both

    def keeps(self, f: Finding, state: str) -> bool:
        if self.kinds and f.kind not in self.kinds:
            return False
        if self.state and state != self.state:
            return False
        if self.classes or self.unclassified:
            return (f.classification in self.classes) or (
                self.unclassified and f.classification is None)
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
    found: list[Finding] = []
    with store.reading() as conn:
        total, vulns = conn.execute(
            select(func.count(), func.coalesce(func.sum(evaluations.c.is_vulnerability), 0))
        ).one()
        by_class = dict.fromkeys(policy.class_names, 0)
        by_class["unclassified"] = 0
        for cls, n in conn.execute(
            select(evaluations.c.classification, func.count())
            .where(evaluations.c.is_vulnerability == 1)
            .group_by(evaluations.c.classification)
        ):
            by_class[cls or "unclassified"] = by_class.get(cls or "unclassified", 0) + n
        soon = ts(now + window)
        query = select(evaluations.c.state, evaluations.c.due_at, evaluations.c.resolved_at,
                       evaluations.c.findings).where(or_(
            evaluations.c.n_findings > 0,
            and_(evaluations.c.state == "open", evaluations.c.due_at <= soon),
            and_(evaluations.c.state == "resolved",
                 evaluations.c.resolved_at > evaluations.c.due_at),
        ))
        for state, due_at, resolved_at, raw in conn.execute(query):
            doc = json.loads(raw)
            candidates = [Finding.from_dict(d) for d in doc["f"]]
            candidates += deadline_findings(
                Finding.from_dict(doc["t"]), state=state, due_at=dt(due_at),
                resolved_at=dt(resolved_at), now=now, due_soon=window)
            found.extend(f for f in candidates if filters.keeps(f, state))
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    found.sort(key=lambda f: (order[f.kind], f.ticket))
    counts: Counter[str] = Counter(f.kind for f in found)
    return CheckResult(
        generated_at=now, tickets=int(total), vulnerabilities=int(vulns), by_class=by_class,
        findings=tuple(found), by_kind={k: counts.get(k, 0) for k in FINDING_KINDS},
    )


def check(store: Store, policy: Policy, now: datetime, filters: Filters = Filters(), *,
          reader: Reader | None = None, progress: Progress | None = None) -> CheckResult:
    refresh(store, policy, reader=reader, progress=progress)
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
            "state": self.state, "created": _iso(self.created), "due_at": _iso(self.due_at),
            "labels": list(self.labels), "url": self.url, "findings": list(self.kinds),
        }


def vulnerabilities(store: Store, policy: Policy, now: datetime,
                    filters: Filters = Filters()) -> list[Vulnerability]:
    """Marked tickets (vulnerability or classification label) with their classification."""
    window = timedelta(hours=policy.due_soon_hours)
    query = (
        select(evaluations.c.ticket_key, evaluations.c.classification, evaluations.c.state,
               evaluations.c.created_at, evaluations.c.due_at, evaluations.c.resolved_at,
               evaluations.c.findings, tickets.c.title, tickets.c.labels, tickets.c.url)
        .join(tickets, tickets.c.key == evaluations.c.ticket_key)
        .where(evaluations.c.is_vulnerability == 1).order_by(evaluations.c.ticket_key)
    )
    if filters.state:
        query = query.where(evaluations.c.state == filters.state)
    if filters.classes or filters.unclassified:
        wanted = evaluations.c.classification.in_(sorted(filters.classes))
        query = query.where(or_(wanted, evaluations.c.classification.is_(None))
                            if filters.unclassified else wanted)
    out = []
    with store.reading() as conn:
        for r in conn.execute(query).mappings():
            kinds: list[str] = []
            if r["findings"]:
                doc = json.loads(r["findings"])
                kinds = [f["kind"] for f in doc["f"]]
                kinds += [f.kind for f in deadline_findings(
                    Finding.from_dict(doc["t"]), state=r["state"], due_at=dt(r["due_at"]),
                    resolved_at=dt(r["resolved_at"]), now=now, due_soon=window)]
            if filters.kinds and not filters.kinds.intersection(kinds):
                continue
            created = dt(r["created_at"])
            assert created is not None
            out.append(Vulnerability(
                ticket=r["ticket_key"], title=r["title"], classification=r["classification"],
                state=r["state"], created=created, due_at=dt(r["due_at"]),
                labels=tuple(json.loads(r["labels"])), url=r["url"], kinds=tuple(kinds)))
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
