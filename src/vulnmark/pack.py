"""The auditor's evidence pack: everything about the control in a period, verifiable offline.

``export`` writes a directory or a ZIP file with the runs and their stored reports, deliveries
(Message-IDs, server replies), label changes, reclassifications, outcomes, policy changes, the
hash-chained evidence records of the period, metrics with SVG charts, a summary page
(``index.html``) and ``manifest.json`` with the SHA-256 of every file and the chain head.

``verify`` checks a pack on its own and names every problem: a file changed, missing or added
(manifest), an evidence record edited, deleted or reordered (chain), a report that is not the one
the run recorded (report digest in the run's evidence record), or an edited manifest.
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
from typing import Any

from vulnmark import charts
from vulnmark._csv import csv_text
from vulnmark._time import stored
from vulnmark.config.load import Config
from vulnmark.config.policy import Policy
from vulnmark.config.schedule import parse as parse_schedule
from vulnmark.errors import PackError
from vulnmark.evidence.chain import GENESIS, Row, canonical, verify_rows
from vulnmark.model import Run
from vulnmark.pack_html import summary_page
from vulnmark.store import Store, metrics
from vulnmark.store import events as store_events
from vulnmark.store import runs as store_runs
from vulnmark.store import tickets as store_tickets
from vulnmark.store.outcomes import list_outcomes

logger = logging.getLogger(__name__)

FORMAT = "vulnmark-evidence-pack/1"
MANIFEST = "manifest.json"
EVENTS = "evidence/events.jsonl"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackResult:
    path: Path
    files: int
    events: int
    runs: int
    head: str


@dataclass(frozen=True)
class PackVerification:
    ok: bool
    files: int
    events: int
    head: str
    problems: tuple[str, ...] = ()


def report_name(run_id: int, fmt: str) -> str:
    ext = {"text": "txt"}.get(fmt, fmt)
    return f"reports/run-{run_id:06d}.{ext}"


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
           output: Path) -> PackResult:
    """Write the pack for ``[since, until)`` to a directory or a ``.zip`` file."""
    policy = config.policy
    is_zip = output.suffix.lower() == ".zip"
    if is_zip and output.exists():
        raise PackError(f"{output} exists; choose a new file name")
    if not is_zip and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise PackError(f"{output} exists and is not an empty directory")
    f = _Files()
    period_runs = sorted(store_runs.list_runs(store, since=since, until=until),
                         key=lambda r: r.id)
    with store.reading() as conn:
        log = store_events.verify(conn)
        events = list(store_events.iter_events(conn, since=stored(since), until=stored(until)))
        for run_id, fmt, body in store_runs.report_bodies(conn, [r.id for r in period_runs]):
            f.add(report_name(run_id, fmt), body)
        changes = store_tickets.label_changes(conn, since, until)
        done = list_outcomes(conn, since=since, until=until)
        started = store_runs.first_report_at(conn)
    f.add(EVENTS, "".join(json.dumps(
        {"seq": e.seq, "at": e.at, "kind": e.kind, "payload": e.payload,
         "prev_hash": e.prev_hash, "hash": e.hash}, ensure_ascii=False, sort_keys=True) + "\n"
        for e in events))
    head = events[-1].hash if events else ""
    run_rows = [[r.id, r.kind, stored(r.started_at), r.policy_digest, r.report_digest,
                 r.delivery_status, r.message_id, r.server_reply, r.error,
                 json.dumps(r.counts, sort_keys=True)] for r in period_runs]
    f.add("runs.csv", _csv(["id", "kind", "started_at", "policy_digest", "report_digest",
                            "delivery_status", "message_id", "server_reply", "error", "counts"],
                           run_rows))
    of = {e: [ev for ev in events if ev.kind == e] for e in
          ("delivery", "reclassification", "policy_change", "label_change")}
    f.add("deliveries.csv", _csv(
        ["at", "run", "status", "message_id", "server_reply", "recipients", "attempts", "error"],
        [[e.at, e.payload.get("run"), e.payload.get("status"), e.payload.get("message_id"),
          e.payload.get("server_reply"), e.payload.get("recipients"), e.payload.get("attempts"),
          e.payload.get("error")] for e in of["delivery"]]))
    f.add("label_changes.csv", _csv(["ticket", "at", "by", "added", "removed"], [
        [c["ticket"], c["at"], c["by"], c["added"], c["removed"]] for c in changes]))
    f.add("reclassifications.csv", _csv(["at", "ticket", "from", "to", "by", "why"], [
        [e.at, e.payload.get("ticket"), e.payload.get("from"), e.payload.get("to"),
         e.payload.get("by"), e.payload.get("why")] for e in of["reclassification"]]))
    f.add("outcomes.csv", _csv(["recorded_at", "ticket", "kind", "reason", "by", "text"], [
        [stored(o.recorded_at), o.ticket, o.kind, o.reason, o.actor, o.text] for o in done]))
    f.add("policy_changes.csv", _csv(["at", "digest", "previous", "preset", "deadlines_hours"], [
        [e.at, e.payload.get("digest"), e.payload.get("previous"), e.payload.get("preset"),
         json.dumps(e.payload.get("deadlines_hours"), sort_keys=True)]
        for e in of["policy_change"]]))
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
        metrics=m, outcomes=done, reclassifications=[e.payload for e in of["reclassification"]],
        policy_changes=[(e.at, e.payload) for e in of["policy_change"]],
        label_changes=len(changes), chain=chain, files=sorted(f.items)))
    manifest: dict[str, Any] = {
        "format": FORMAT, "generated_at": stored(now), "from": stored(since), "to": stored(until),
        "policy": {"preset": policy.preset, "digest": policy.digest(),
                   "timezone": policy.timezone},
        "chain": {k: chain[k] for k in ("anchor_prev_hash", "first_seq", "last_seq", "head")},
        "files": [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                  for n, d in sorted(f.items.items())],
    }
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    f.add(MANIFEST, _json(manifest))
    _write(f, output, is_zip)
    store.record("evidence_export", {
        "from": stored(since), "to": stored(until), "output": output.name, "files": len(f.items),
        "manifest_sha256": hashlib.sha256(f.items[MANIFEST]).hexdigest(), "head": head}, at=now)
    return PackResult(output, len(f.items), len(events), len(period_runs), head)


def _zone(policy: Policy) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(policy.timezone)


def _manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def _write(f: _Files, output: Path, is_zip: bool) -> None:
    try:
        if is_zip:
            tmp = output.with_name(output.name + ".part")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for name, data in sorted(f.items.items()):
                    z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data,
                               compress_type=zipfile.ZIP_DEFLATED)
            tmp.replace(output)
            return
        for name, data in f.items.items():
            target = output / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    except OSError as e:
        raise PackError(f"{output}: {e.strerror or e}") from e


# -- verification ----------------------------------------------------------------------------

def _read_pack(path: Path) -> dict[str, bytes]:
    try:
        if path.is_dir():
            return {p.relative_to(path).as_posix(): p.read_bytes()
                    for p in sorted(path.rglob("*")) if p.is_file()}
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    except (OSError, zipfile.BadZipFile) as e:
        raise PackError(f"{path}: not a readable pack ({e})") from e


def verify(path: Path) -> PackVerification:
    """Check a pack on its own; every problem names the file (and record) at fault."""
    files = _read_pack(path)
    problems: list[str] = []
    try:
        manifest = json.loads(files[MANIFEST])
    except KeyError:
        return PackVerification(False, len(files), 0, "", (f"{MANIFEST}: missing",))
    except ValueError:
        return PackVerification(False, len(files), 0, "", (f"{MANIFEST}: not JSON (edited)",))
    if manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST}: format {manifest.get('format')!r} is not {FORMAT}")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        problems.append(f"{MANIFEST}: content does not match its manifest_sha256 (edited)")
    listed = {e["path"]: e for e in manifest.get("files", [])}
    for name, entry in sorted(listed.items()):
        data = files.get(name)
        if data is None:
            problems.append(f"{name}: missing from the pack (deleted)")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{name}: SHA-256 does not match the manifest (modified)")
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        problems.append(f"{name}: not listed in the manifest (added)")
    chain = manifest.get("chain", {})
    n_events, head, run_digests = _verify_events(files.get(EVENTS, b""), chain, problems)
    for run_id, digest in sorted(run_digests.items()):
        name = report_name(run_id, "json")
        data = files.get(name)
        if data is not None and hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name}: not the report run {run_id} recorded in the evidence log "
                            "(report digest differs)")
    return PackVerification(not problems, len(files), n_events, head, tuple(problems))


def _verify_events(raw: bytes, chain: dict[str, Any],
                   problems: list[str]) -> tuple[int, str, dict[int, str]]:
    """The pack's records through the one verifier (:func:`vulnmark.evidence.chain.verify_rows`),
    from the manifest's anchor; returns (records, head, report digest per run)."""
    rows: list[Row] = []
    digests: dict[int, str] = {}
    for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            e = json.loads(line)
            row: Row = (int(e["seq"]), str(e["at"]), str(e["kind"]), canonical(e["payload"]),
                        str(e.get("prev_hash")), str(e.get("hash")))
            payload = e["payload"]
            if row[2] == "run" and payload.get("report_digest"):
                digests[int(payload["run"])] = str(payload["report_digest"])
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"{EVENTS}: line {lineno} is not an evidence record (edited)")
            return lineno, chain.get("anchor_prev_hash") or GENESIS, digests
        rows.append(row)
    anchor = chain.get("anchor_prev_hash") or GENESIS
    first = chain.get("first_seq")
    result = verify_rows(rows, anchor=anchor, first_seq=first if first is not None else 1)
    if not result.ok:
        problems.append(f"{EVENTS}: {result.problem}")
    elif rows and result.head != chain.get("head"):
        problems.append(f"{EVENTS}: chain head {result.head[:16]}… is not the manifest's head "
                        "(records deleted from the end)")
    return len(rows), result.head, digests
