"""The pack's summary files, computed only from what the pack itself holds: written by the
export, recomputed by ``verify`` and compared byte for byte.

* ``control_days.csv`` and ``charts/control_days.svg``: the due slots of the period (the
  schedule and the first report run are in the manifest's ``control``) against the report runs
  the evidence records describe;
* ``metrics.json``, ``metrics.csv`` and the two metric charts: from ``metrics_basis.jsonl``, one
  row per vulnerability discovered in the period (:func:`vulnmark.store.metrics.from_basis`),
  whose outcome times are checked against the outcome records;
* ``index.html``: every number above, the runs, outcomes, reclassifications and policy changes
  of the records (dismissals by reason and their ends included), the label-change count of
  ``label_changes.csv`` and ``evidence/chain.json``.

So one number changed in any of them is named even by a forger who recomputes the manifest;
changing ``metrics_basis.jsonl`` itself consistently is caught only by the signature (the basis
is the evaluations at export time, not an evidence record). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from vulnmark._csv import csv_text
from vulnmark._time import parse, stored
from vulnmark.config.schedule import parse as parse_schedule
from vulnmark.evidence.bound import BoundRun, expected_runs
from vulnmark.evidence.chain import Record
from vulnmark.evidence.events import (
    DismissalEnded,
    FindingDismissed,
    OutcomeRecorded,
    PolicyChanged,
    Reclassified,
    read,
)
from vulnmark.evidence.pack import charts
from vulnmark.evidence.pack.html import summary_page
from vulnmark.model import Outcome, TicketKey
from vulnmark.store import metrics

BASIS = "metrics_basis.jsonl"
SUMMARY = ("control_days.csv", "metrics.json", "metrics.csv", "charts/within_deadline.svg",
           "charts/time_to_classify.svg", "charts/control_days.svg", "index.html")
DEFAULT_CRON = "0 0 * * *"
"""Without a schedule, one slot a day at midnight (policy timezone)."""


@dataclass(frozen=True)
class Period:
    """What the manifest says about the period and the control (all a summary needs besides
    the records and the basis)."""

    since: datetime
    until: datetime
    now: datetime
    preset: str
    digest: str
    timezone: str
    cron: str
    schedule_timezone: str
    first_report_at: datetime | None

    def control(self) -> dict[str, Any]:
        """The manifest's ``control`` entry."""
        return {"cron": self.cron, "timezone": self.schedule_timezone,
                "first_report_at": stored(self.first_report_at)}

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Period:
        """Raises ValueError, KeyError or TypeError on a manifest that does not say it."""
        policy, control = manifest["policy"], manifest["control"]
        since, until, now = (parse(manifest[k]) for k in ("from", "to", "generated_at"))
        if since is None or until is None or now is None:
            raise ValueError("a period time is empty")
        return cls(since, until, now, str(policy["preset"]), str(policy["digest"]),
                   str(policy["timezone"]), str(control["cron"]), str(control["timezone"]),
                   parse(control.get("first_report_at")))


def control_days(runs: Sequence[BoundRun], period: Period,
                 ) -> list[tuple[datetime, str, BoundRun | None]]:
    """Each due slot of the period with what happened: delivered, not_sent, failed, missed,
    pending (no run yet, the slot's window is still open at the export) or not_started (before
    the first report run ever)."""
    sched = parse_schedule({"cron": period.cron, "timezone": period.schedule_timezone})
    until, started = min(period.until, period.now), period.first_report_at
    times = sorted((r for r in runs if r.kind == "report"), key=lambda r: r.started_at)
    slots = list(sched.slots(period.since, until - timedelta(microseconds=1)))
    out: list[tuple[datetime, str, BoundRun | None]] = []
    for i, slot in enumerate(slots):
        following = slots[i + 1] if i + 1 < len(slots) else sched.next(slot)
        hits = [r for r in times if _at(r) >= slot and (following is None or _at(r) < following)]
        if not hits:
            before = started is None or (following is not None and following <= started)
            open_window = following is None or following > until  # its window has not ended
            out.append((slot, "not_started" if before else "pending" if open_window
                        else "missed", None))
            continue
        best = next((r for r in hits if r.status == "delivered"), hits[-1])
        status = best.status or "not_sent"
        out.append((slot, status if status in charts.STATUS_COLOURS else "not_sent", best))
    return out


def basis_lines(rows: Sequence[Mapping[str, str | None]]) -> bytes:
    return "".join(json.dumps(dict(r), sort_keys=True) + "\n" for r in rows).encode()


def read_basis(data: bytes) -> list[dict[str, str | None]]:
    """The basis rows of a pack; raises ValueError naming the line when one is not a row."""
    rows = []
    for lineno, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = json.loads(line)
            if isinstance(row, dict):
                row.setdefault("backdated_why", None)  # not kept in the first packs
            if not isinstance(row, dict) or set(row) != set(metrics.BASIS_KEYS) or not all(
                    v is None or isinstance(v, str) for v in row.values()):
                raise ValueError
            for key in ("created_at", "discovered_at", "classified_at", "outcome_at",
                        "due_at"):
                parse(row[key])
            if row["discovered_at"] is None or row["created_at"] is None:
                raise ValueError
        except ValueError:
            raise ValueError(f"line {lineno} is not a row of {', '.join(metrics.BASIS_KEYS)}"
                             ) from None
        rows.append(cast(dict[str, str | None], row))
    return rows


def basis_problems(rows: Sequence[Mapping[str, str | None]],
                   records: Sequence[Record]) -> list[str]:
    """A vulnerability of the basis with a recorded outcome must have an outcome time no later
    than that outcome's effective time (an outcome made later or removed is named), and is
    marked backdated when the outcome it is judged by was entered late."""
    by_ticket = {str(r["ticket"]): r for r in rows}
    problems = []
    for rec in records:
        event = read(rec)
        if not isinstance(event, OutcomeRecorded) or event.ticket not in by_ticket:
            continue
        row = by_ticket[event.ticket]
        have, effective = row["outcome_at"], stored(event.recorded_at) or ""
        if have is None or have > effective:
            problems.append(f"{BASIS}: {event.ticket} has outcome_at {have!r}, but evidence "
                            f"record {rec.seq} records an outcome effective {effective} (edited)")
        elif have == effective and event.why is not None and row["backdated_why"] is None:
            problems.append(f"{BASIS}: {event.ticket} is not marked backdated, but evidence "
                            f"record {rec.seq} records its outcome as entered late (edited)")
    return problems


def summary_files(records: Sequence[Record], period: Period,
                  basis: Sequence[Mapping[str, str | None]], *, label_changes: int,
                  chain: Mapping[str, Any], names: Sequence[str]) -> dict[str, bytes]:
    """Each summary file of a pack; ``names`` are the pack's other files (listed on the page)."""
    zone = ZoneInfo(period.timezone)
    runs = sorted(expected_runs(records).values(), key=lambda r: r.id)
    days = control_days(runs, period)
    m = metrics.from_basis(basis, period.since, period.until, period.now)
    out: dict[str, bytes] = {
        "control_days.csv": csv_text(["slot", "local_date", "status", "run", "message_id"], [
            [stored(s), s.astimezone(zone).date().isoformat(), status,
             r.id if r else None, r.message_id if r else None] for s, status, r in days
        ]).encode(),
        "metrics.json": (json.dumps(m.as_dict(), indent=2, ensure_ascii=False, sort_keys=True)
                         + "\n").encode(),
        "metrics.csv": csv_text(metrics.COLUMNS, [[r.as_dict()[c] for c in metrics.COLUMNS]
                                                  for r in (*m.rows, *m.totals())]).encode(),
    }
    months = list(m.months)

    def series(attr: str, scale: float = 1.0) -> list[tuple[str, list[float | None]]]:
        found = []
        for c in m.classes:
            by_month = {r.month: getattr(r, attr) for r in m.rows if r.classification == c}
            values = [None if by_month.get(mo) is None else by_month[mo] * scale
                      for mo in months]
            if any(v is not None for v in values):
                found.append((c, values))
        return found

    out["charts/within_deadline.svg"] = charts.bar_chart(
        "Share handled within deadline, per class and month of discovery", months,
        series("share_within_deadline", 100.0), unit="%", max_value=100.0).encode()
    out["charts/time_to_classify.svg"] = charts.bar_chart(
        "Mean time to classify (hours), per class and month", months,
        series("classify_hours_mean"), unit=" h").encode()
    out["charts/control_days.svg"] = charts.day_strip(
        "Daily control: one square per due run",
        [(s.astimezone(zone).date(), status) for s, status, _ in days]).encode()
    typed = [(r, read(r)) for r in records]
    done = [Outcome(ticket=TicketKey(e.ticket), kind=cast(Any, e.outcome),
                    recorded_at=e.recorded_at, text=e.text, reason=e.reason, actor=e.by,
                    entered_at=parse(r.recorded_at or r.at), entered_by=r.recorded_by, why=e.why)
            for r, e in typed if isinstance(e, OutcomeRecorded)]
    out["index.html"] = summary_page(
        preset=period.preset, digest=period.digest, timezone=period.timezone,
        since=period.since, until=period.until, now=period.now, runs=runs, days=days,
        metrics=m, outcomes=done,
        reclassifications=[e for _, e in typed if isinstance(e, Reclassified)],
        policy_changes=[(r.at, e) for r, e in typed if isinstance(e, PolicyChanged)],
        label_changes=label_changes, chain=chain,
        files=sorted({*names, *out} - {"index.html"}),
        dismissals=[e for _, e in typed if isinstance(e, FindingDismissed)],
        dismissals_ended=sum(isinstance(e, DismissalEnded) for _, e in typed)).encode()
    return out


def _at(run: BoundRun) -> datetime:
    value = parse(run.started_at)
    assert value is not None
    return value
