"""What the daily report lists: the findings that need a person now.

Needs-classification, deadline and hygiene findings are listed as they are. ``suspected``
findings are scoped by ``report.suspected_scope``:

* ``new`` (default): open tickets, and tickets created or changed since the last delivered
  report (without one, in the last day);
* ``open``: open tickets;
* ``all``: every ticket.

The rest is the historic backlog, which belongs to ``check`` and ``backfill``: the report
counts it and names the command that lists it. Dismissed findings (:mod:`vulnmark.triage
.dismiss`) leave the report and are counted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vulnmark.config.reach import Scope
from vulnmark.model import Finding
from vulnmark.store import Store
from vulnmark.store import dismissals as store_dismissals
from vulnmark.store import runs as store_runs
from vulnmark.triage import dismiss

FIRST_WINDOW = timedelta(days=1)
"""How far back "new" reaches when no report was ever delivered."""
BACKLOG_COMMAND = "vulnmark check --kind suspected --state resolved"
DISMISSED_COMMAND = "vulnmark dismiss --list"


@dataclass(frozen=True)
class Scoped:
    """The findings the report lists, and what it only counts."""

    findings: tuple[Finding, ...]
    scope: Scope
    since: datetime | None
    """The start of "new" (None for the other scopes)."""
    backlog: int = 0
    """Suspected findings left out by the scope."""
    dismissed: int = 0
    """Findings dismissed (or cleared by a false_positive outcome)."""


def since_when(store: Store, now: datetime) -> datetime:
    with store.reading() as conn:
        last = store_runs.last_delivered_at(conn, now)
    return last if last is not None else now - FIRST_WINDOW


def scoped(store: Store, findings: tuple[Finding, ...], now: datetime,
           scope: Scope = "new") -> Scoped:
    """The report's findings at ``now`` under ``scope``."""
    cleared = dismiss.clear(store, findings, now)
    kept = cleared.findings
    since = since_when(store, now) if scope == "new" else None
    backlog = 0
    if scope != "all":
        keys = [f.ticket for f in kept if f.kind == "suspected"]
        with store.reading() as conn:
            seen = store_dismissals.activity(conn, keys)
        out: list[Finding] = []
        for f in kept:
            if f.kind == "suspected":
                a = seen.get(f.ticket)
                listed = a is None or a.open or (since is not None and any(
                    t is not None and t >= since for t in (a.created, a.updated)))
                if not listed:
                    backlog += 1
                    continue
            out.append(f)
        kept = tuple(out)
    return Scoped(kept, scope, since, backlog, cleared.dismissed + cleared.false_positive)


def left_out(s: Scoped, timezone: str) -> tuple[str, ...]:
    """The report's sentences about what it counts but does not list."""
    out = []
    if s.backlog:
        since = ""
        if s.since is not None:
            local = s.since.astimezone(ZoneInfo(timezone))
            since = f", unchanged since {local:%Y-%m-%d %H:%M}"
        out.append(f"{s.backlog} older suspected ticket{'s' if s.backlog != 1 else ''} "
                   f"(resolved{since}): run `{BACKLOG_COMMAND}`")
    if s.dismissed:
        out.append(f"{s.dismissed} dismissed finding{'s' if s.dismissed != 1 else ''}: "
                   f"see `{DISMISSED_COMMAND}`")
    return tuple(out)
