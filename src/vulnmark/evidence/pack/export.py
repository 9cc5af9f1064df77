"""Writing the auditor's evidence pack: everything about the control in a period.

``export`` writes a directory or a ZIP file with the runs and their stored reports, deliveries
(Message-IDs, server replies), label changes, reclassifications, outcomes, policy changes, the
hash-chained evidence records of the period, metrics with SVG charts, a summary page
(``index.html``) and ``manifest.json`` with the SHA-256 of every file and the chain head
(:mod:`.verify` checks it). Records are read as typed events (:mod:`vulnmark.evidence.events`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from vulnmark._csv import csv_text
from vulnmark._files import PRIVATE_DIR, atomic_dir, atomic_file, write_private
from vulnmark._time import parse, stored
from vulnmark.check.engine import refresh
from vulnmark.config.load import Config
from vulnmark.config.policy import Policy
from vulnmark.config.schedule import parse as parse_schedule
from vulnmark.errors import PackError
from vulnmark.evidence import signing
from vulnmark.evidence.chain import GENESIS
from vulnmark.evidence.events import (
    OutcomeRecorded,
    PackExported,
    PolicyChanged,
    Reclassified,
    read,
)
from vulnmark.evidence.pack import charts
from vulnmark.evidence.pack.derived import derived_files
from vulnmark.evidence.pack.html import summary_page
from vulnmark.evidence.pack.verify import (
    EVENTS,
    FORMAT,
    MANIFEST,
    ZIP_TIME,
    manifest_digest,
    report_name,
)
from vulnmark.model import Outcome, Run, TicketKey
from vulnmark.store import Store, integrity, metrics
from vulnmark.store import events as store_events
from vulnmark.store import runs as store_runs
from vulnmark.store import tickets as store_tickets

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class PackResult:
    path: Path
    files: int
    events: int
    runs: int
    head: str


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file of the pack (authors, labels, reasons and outcome texts are defused)."""
    return csv_text(headers, rows).encode()


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


@dataclass
class _Files:
    items: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes | str) -> None:
        self.items[name] = data.encode() if isinstance(data, str) else data


def control_days(report_runs: Sequence[Run], config: Config, since: datetime,
                 until: datetime, started: datetime | None = None,
                 ) -> list[tuple[datetime, str, Run | None]]:
    """Each due slot of the period with what happened: delivered, not_sent, failed, missed,
    pending (no run yet, the slot's window is still open at ``until``) or not_started (before
    the first report run ever, ``started``); without a schedule, one slot a day at midnight."""
    sched = config.schedule or parse_schedule({"cron": "0 0 * * *"}, config.policy.timezone)
    times = sorted(report_runs, key=lambda r: r.started_at)
    slots = list(sched.slots(since, until - timedelta(microseconds=1)))
    out: list[tuple[datetime, str, Run | None]] = []
    for i, slot in enumerate(slots):
        following = slots[i + 1] if i + 1 < len(slots) else sched.next(slot)
        hits = [r for r in times if r.started_at >= slot
                and (following is None or r.started_at < following)]
        if not hits:
            before = started is None or (following is not None and following <= started)
            open_window = following is None or following > until  # its window has not ended
            out.append((slot, "not_started" if before else "pending" if open_window
                        else "missed", None))
            continue
        best = next((r for r in hits if r.delivery_status == "delivered"), hits[-1])
        status = best.delivery_status or "not_sent"
        out.append((slot, status if status in charts.STATUS_COLOURS else "not_sent", best))
    return out


def export(store: Store, config: Config, since: datetime, until: datetime, now: datetime,
           output: Path, *, signing_key: Path | None = None) -> PackResult:
    """Write the pack for ``[since, until)`` to a directory or a ``.zip`` file (the
    evaluations are brought up to date first: the pack's metrics come from them); with
    ``signing_key`` (an Ed25519 PEM file) the manifest is signed (``manifest.sig``)."""
    policy = config.policy
    is_zip = output.suffix.lower() == ".zip"
    if signing_key is not None:  # a bad key stops the export before anything is written
        signing.sign(b"", signing_key)
    if is_zip and output.exists():
        raise PackError(f"{output} exists; choose a new file name")
    if not is_zip and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise PackError(f"{output} exists and is not an empty directory")
    refresh(store, policy, now=now)
    f = _Files()
    period_runs = sorted(store_runs.list_runs(store, since=since, until=until),
                         key=lambda r: r.id)
    with store.reading() as conn:
        log = integrity.verify(conn)
        events = list(store_events.iter_events(conn, since=stored(since), until=stored(until)))
        for run_id, fmt, body in store_runs.report_bodies(conn, [r.id for r in period_runs]):
            f.add(report_name(run_id, fmt), body)
        changes = store_tickets.label_changes(conn, since, until)
        started = store_runs.first_report_at(conn)
    f.add(EVENTS, "".join(json.dumps(
        {"seq": e.seq, "at": e.at, "kind": e.kind, "payload": e.payload,
         "prev_hash": e.prev_hash, "hash": e.hash}
        | ({"recorded_at": e.recorded_at, "recorded_by": e.recorded_by}
           if e.recorded_at is not None else {}), ensure_ascii=False, sort_keys=True) + "\n"
        for e in events))
    head = events[-1].hash if events else ""
    typed = [(e, read(e)) for e in events]
    reclassified = [(r.at, e) for r, e in typed if isinstance(e, Reclassified)]
    policy_changes = [(r.at, e) for r, e in typed if isinstance(e, PolicyChanged)]
    done = [Outcome(ticket=TicketKey(e.ticket), kind=cast(Any, e.outcome),
                    recorded_at=e.recorded_at, text=e.text, reason=e.reason, actor=e.by,
                    entered_at=parse(r.recorded_at or r.at), entered_by=r.recorded_by, why=e.why)
            for r, e in typed if isinstance(e, OutcomeRecorded)]
    for name, data in derived_files(events).items():  # recomputed by verify from the records
        f.add(name, data)
    f.add("label_changes.csv", _csv(["ticket", "recorded_at", "at", "by", "added", "removed"], [
        [c["ticket"], c["recorded_at"], c["at"], c["by"], c["added"], c["removed"]]
        for c in changes]))
    report_runs = [r for r in period_runs if r.kind == "report"]
    days = control_days(report_runs, config, since, min(until, now), started)
    f.add("control_days.csv", _csv(["slot", "local_date", "status", "run", "message_id"], [
        [stored(s), s.astimezone(_zone(policy)).date().isoformat(), status,
         r.id if r else None, r.message_id if r else None] for s, status, r in days]))
    m = metrics.compute(store, since, until, now)
    f.add("metrics.json", _json(m.as_dict()))
    f.add("metrics.csv", _csv(metrics.COLUMNS, [[r.as_dict()[c] for c in metrics.COLUMNS]
                                                 for r in (*m.rows, *m.totals())]))
    months = list(m.months)

    def series(attr: str, scale: float = 1.0) -> list[tuple[str, list[float | None]]]:
        out = []
        for c in m.classes:
            by_month = {r.month: getattr(r, attr) for r in m.rows if r.classification == c}
            values = [None if by_month.get(mo) is None else by_month[mo] * scale
                      for mo in months]
            if any(v is not None for v in values):
                out.append((c, values))
        return out

    f.add("charts/within_deadline.svg", charts.bar_chart(
        "Share handled within deadline, per class and month of discovery", months,
        series("share_within_deadline", 100.0), unit="%", max_value=100.0))
    f.add("charts/time_to_classify.svg", charts.bar_chart(
        "Mean time to classify (hours), per class and month", months,
        series("classify_hours_mean"), unit=" h"))
    f.add("charts/control_days.svg", charts.day_strip(
        "Daily control: one square per due run", [
            (s.astimezone(_zone(policy)).date(), status) for s, status, _ in days]))
    chain = {"anchor_prev_hash": events[0].prev_hash if events else GENESIS,
             "first_seq": events[0].seq if events else None,
             "last_seq": events[-1].seq if events else None, "head": head,
             "log_records": log.records, "log_head": log.head, "log_verified": log.ok,
             "log_problem": log.problem or None}
    f.add("evidence/chain.json", _json(chain))
    f.add("index.html", summary_page(
        policy=policy, since=since, until=until, now=now, runs=period_runs, days=days,
        metrics=m, outcomes=done, reclassifications=[e for _, e in reclassified],
        policy_changes=policy_changes,
        label_changes=len(changes), chain=chain, files=sorted(f.items)))
    manifest: dict[str, Any] = {
        "format": FORMAT, "generated_at": stored(now), "from": stored(since), "to": stored(until),
        "policy": {"preset": policy.preset, "digest": policy.digest(),
                   "timezone": policy.timezone},
        "chain": {k: chain[k] for k in ("anchor_prev_hash", "first_seq", "last_seq", "head")},
        "files": [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                  for n, d in sorted(f.items.items())],
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    f.add(MANIFEST, _json(manifest))
    key_id = None
    if signing_key is not None:
        signature, key_id = signing.sign(f.items[MANIFEST], signing_key)
        f.add(signing.SIGNATURE, signature)
    _write(f, output, is_zip)
    store.record(PackExported(
        since=stored(since) or "", until=stored(until) or "", output=output.name,
        files=len(f.items), manifest_sha256=hashlib.sha256(f.items[MANIFEST]).hexdigest(),
        head=head, signed_by=key_id), at=now)
    return PackResult(output, len(f.items), len(events), len(period_runs), head)


def _zone(policy: Policy) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(policy.timezone)


def _write(f: _Files, output: Path, is_zip: bool) -> None:
    """The pack, whole or not at all: built under a temporary name next to ``output`` and
    renamed into place; nothing is left behind on failure (m5). Files 0600, folders 0700."""
    try:
        if is_zip:
            with atomic_file(output) as raw, \
                    zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for name, data in sorted(f.items.items()):
                    z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data,
                               compress_type=zipfile.ZIP_DEFLATED)
            return
        with atomic_dir(output) as folder:
            for name, data in f.items.items():
                target = folder / name
                target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
                write_private(target, data)
    except OSError as e:
        raise PackError(f"{output}: {e.strerror or e}") from e
