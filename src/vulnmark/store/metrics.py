"""Metrics of the control: time to classify, time to outcome, share within deadline.

Computed with one SQL aggregate over the cached evaluations (see :mod:`vulnmark.check.engine`), so
the cost is one scan of the vulnerabilities discovered in the period, grouped by month of
discovery (UTC) and class:

* time to classify: ticket creation to the first classification label (label history);
* time to outcome: discovery to the earliest outcome (recorded, or inferred from resolution);
* within deadline: of the tickets whose class has a deadline, ``met`` (an outcome at or before
  the deadline), ``missed`` (an outcome after it, none while past it, or resolved without one)
  and ``pending`` (open, no outcome, deadline not reached). Share = met / (met + missed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TIMESTAMP, Connection, and_, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from vulnmark._time import parse, stored
from vulnmark.model import Outcome
from vulnmark.store import Store
from vulnmark.store.outcomes import list_outcomes
from vulnmark.store.schema import evaluations, outcomes

logger = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"
COLUMNS = ("month", "classification", "discovered", "classified", "classify_hours_mean",
           "classify_hours_max", "with_outcome", "outcome_hours_mean", "with_deadline", "met",
           "missed", "pending", "backdated", "share_within_deadline")


@dataclass(frozen=True)
class ClassMonth:
    """The metrics of one class for tickets discovered in one month."""

    month: str
    classification: str
    discovered: int
    classified: int
    classify_hours_mean: float | None
    classify_hours_max: float | None
    with_outcome: int
    outcome_hours_mean: float | None
    with_deadline: int
    met: int
    missed: int
    pending: int
    backdated: int = 0
    """Vulnerabilities whose first outcome (the one the deadline is judged by) was entered
    after it took effect (``outcome --effective TIME --why TEXT``)."""

    @property
    def share_within_deadline(self) -> float | None:
        judged = self.met + self.missed
        return self.met / judged if judged else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "share_within_deadline": _round(self.share_within_deadline, 4)}


@dataclass(frozen=True)
class Metrics:
    since: datetime
    until: datetime
    generated_at: datetime
    rows: tuple[ClassMonth, ...]

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(sorted({r.month for r in self.rows}))

    @property
    def classes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.rows:
            seen.setdefault(r.classification)
        return tuple(seen)

    def totals(self) -> tuple[ClassMonth, ...]:
        """One row per class over the whole period (month ``"all"``)."""
        return tuple(_merge("all", c, [r for r in self.rows if r.classification == c])
                     for c in self.classes)

    def as_dict(self) -> dict[str, Any]:
        return {"from": stored(self.since), "to": stored(self.until),
                "generated_at": stored(self.generated_at),
                "by_month": [r.as_dict() for r in self.rows],
                "by_class": [r.as_dict() for r in self.totals()]}


def _merge(month: str, cls: str, rows: list[ClassMonth]) -> ClassMonth:
    def mean(pairs: Iterable[tuple[float | None, int]]) -> float | None:
        known = [(v, n) for v, n in pairs if v is not None and n]
        total = sum(n for _, n in known)
        return sum(v * n for v, n in known) / total if total else None

    maxes = [r.classify_hours_max for r in rows if r.classify_hours_max is not None]
    return ClassMonth(
        month, cls, sum(r.discovered for r in rows), sum(r.classified for r in rows),
        _round(mean((r.classify_hours_mean, r.classified) for r in rows)),
        max(maxes) if maxes else None,
        sum(r.with_outcome for r in rows),
        _round(mean((r.outcome_hours_mean, r.with_outcome) for r in rows)),
        sum(r.with_deadline for r in rows), sum(r.met for r in rows),
        sum(r.missed for r in rows), sum(r.pending for r in rows),
        sum(r.backdated for r in rows))


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _hours(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """``end - start`` in hours, for the stored ISO-8601 UTC text."""
    if conn.dialect.name == "postgresql":
        stamp = TIMESTAMP(timezone=True)
        return func.extract("epoch", cast(end, stamp) - cast(start, stamp)) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def compute(store: Store, since: datetime, until: datetime, now: datetime) -> Metrics:
    """Metrics of the vulnerabilities discovered in ``[since, until)`` as evaluated at ``now``.

    Call :func:`vulnmark.check.engine.refresh` first so the evaluations are current.
    """
    e = evaluations.c
    with store.reading() as conn:
        classify = _hours(conn, e.created_at, e.classified_at)
        outcome = _hours(conn, e.discovered_at, e.outcome_at)
        has_due = e.due_at.is_not(None)
        met = and_(has_due, e.outcome_at.is_not(None), e.outcome_at <= e.due_at)
        pending = and_(has_due, e.outcome_at.is_(None), e.state == "open",
                       e.due_at >= literal(stored(now)))
        month = func.substr(e.discovered_at, 1, 7).label("month")
        cls = func.coalesce(e.classification, UNCLASSIFIED).label("cls")
        late = _backdated_why(e)
        query = (
            select(
                month, cls, func.count(),
                func.count(e.classified_at), func.avg(classify), func.max(classify),
                func.count(e.outcome_at), func.avg(outcome),
                func.count(e.due_at),
                func.sum(case((met, 1), else_=0)),
                func.sum(case((pending, 1), else_=0)),
                func.count(late),
            )
            .where(e.is_vulnerability == 1, e.discovered_at >= stored(since),
                   e.discovered_at < stored(until))
            .group_by(month, cls)
            .order_by(month, cls)
        )
        rows = []
        for r in conn.execute(query):
            n_due, n_met, n_pending = int(r[8]), int(r[9] or 0), int(r[10] or 0)
            rows.append(ClassMonth(
                month=r[0], classification=r[1], discovered=int(r[2]), classified=int(r[3]),
                classify_hours_mean=_round(r[4]), classify_hours_max=_round(r[5]),
                with_outcome=int(r[6]), outcome_hours_mean=_round(r[7]),
                with_deadline=n_due, met=n_met, missed=n_due - n_met - n_pending,
                pending=n_pending, backdated=int(r[11] or 0)))
    return Metrics(since, until, now, tuple(rows))


def _backdated_why(e: Any) -> Any:
    """The reason of the backdated outcome a vulnerability's deadline is judged by (NULL: its
    first outcome was not backdated, or it has none)."""
    o = outcomes.c
    return (select(o.why).where(o.ticket_key == e.ticket_key, o.recorded_at == e.outcome_at,
                                o.why.is_not(None))
            .order_by(o.id).limit(1).scalar_subquery())


BASIS_KEYS = ("ticket", "class", "created_at", "discovered_at", "classified_at", "outcome_at",
              "due_at", "state", "backdated_why")


def basis(store: Store, since: datetime, until: datetime) -> list[dict[str, str | None]]:
    """What :func:`compute` aggregates, one row per vulnerability discovered in the period
    (:data:`BASIS_KEYS`, stored times): an evidence pack carries it so that its metrics can be
    recomputed by anyone (:func:`from_basis`)."""
    e = evaluations.c
    query = (select(e.ticket_key, func.coalesce(e.classification, UNCLASSIFIED), e.created_at,
                    e.discovered_at, e.classified_at, e.outcome_at, e.due_at, e.state,
                    _backdated_why(e))
             .where(e.is_vulnerability == 1, e.discovered_at >= stored(since),
                    e.discovered_at < stored(until))
             .order_by(e.discovered_at, e.ticket_key))
    with store.reading() as conn:
        return [dict(zip(BASIS_KEYS, (None if v is None else str(v) for v in r), strict=True))
                for r in conn.execute(query)]


def from_basis(rows: Iterable[Mapping[str, str | None]], since: datetime, until: datetime,
               now: datetime) -> Metrics:
    """The metrics :func:`compute` gives, from :func:`basis` rows (pure: no I/O)."""
    groups: dict[tuple[str, str], list[Mapping[str, str | None]]] = {}
    for r in rows:
        groups.setdefault((str(r["discovered_at"])[:7], str(r["class"])), []).append(r)
    at_now = stored(now) or ""
    out = []
    for (month, cls), group in sorted(groups.items()):
        classify = [_between(r["created_at"], r["classified_at"]) for r in group
                    if r["classified_at"] is not None]
        outcome = [_between(r["discovered_at"], r["outcome_at"]) for r in group
                   if r["outcome_at"] is not None]
        due = [r for r in group if r["due_at"] is not None]
        met = sum(1 for r in due if r["outcome_at"] is not None
                  and str(r["outcome_at"]) <= str(r["due_at"]))
        pending = sum(1 for r in due if r["outcome_at"] is None and r["state"] == "open"
                      and str(r["due_at"]) >= at_now)
        out.append(ClassMonth(
            month=month, classification=cls, discovered=len(group), classified=len(classify),
            classify_hours_mean=_round(sum(classify) / len(classify)) if classify else None,
            classify_hours_max=_round(max(classify)) if classify else None,
            with_outcome=len(outcome),
            outcome_hours_mean=_round(sum(outcome) / len(outcome)) if outcome else None,
            with_deadline=len(due), met=met, missed=len(due) - met - pending,
            pending=pending, backdated=sum(1 for r in group if r["backdated_why"] is not None)))
    return Metrics(since, until, now, tuple(out))


def _between(start: str | None, end: str | None) -> float:
    a, b = parse(start), parse(end)
    assert a is not None and b is not None
    return (b - a).total_seconds() / 3600.0


def backdated_outcomes(store: Store, since: datetime, until: datetime) -> list[Outcome]:
    """Every backdated outcome of the vulnerabilities discovered in ``[since, until)``
    (entered with ``--effective TIME --why TEXT``), in order of effective time."""
    e, o = evaluations.c, outcomes.c
    query = (select(e.ticket_key).where(
        e.is_vulnerability == 1, e.discovered_at >= stored(since),
        e.discovered_at < stored(until),
        select(o.id).where(o.ticket_key == e.ticket_key, o.why.is_not(None)).exists()))
    with store.reading() as conn:
        keys = sorted(str(k) for (k,) in conn.execute(query))
        found = list_outcomes(conn, keys=keys) if keys else []
    return [x for x in found if x.backdated]


def baseline(store: Store, since: datetime, until: datetime) -> int:
    """A bare SQL aggregate over the same rows (count per month and class), for benchmarks."""
    e = evaluations.c
    month = func.substr(e.discovered_at, 1, 7)
    query = (select(month, e.classification, func.count())
             .where(e.is_vulnerability == 1, e.discovered_at >= stored(since),
                    e.discovered_at < stored(until))
             .group_by(month, e.classification))
    with store.reading() as conn:
        return len(conn.execute(query).all())


__all__ = ["BASIS_KEYS", "COLUMNS", "ClassMonth", "Metrics", "backdated_outcomes", "basis",
           "baseline", "compute", "from_basis"]
