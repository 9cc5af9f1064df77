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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vulnmark._files import PRIVATE_DIR, atomic_dir, atomic_file, write_private
from vulnmark._time import stored
from vulnmark.check.engine import refresh
from vulnmark.config.load import Config
from vulnmark.errors import PackError
from vulnmark.evidence import signing
from vulnmark.evidence.chain import GENESIS
from vulnmark.evidence.events import PackExported
from vulnmark.evidence.pack.derived import derived_files, label_changes_csv
from vulnmark.evidence.pack.summary import (
    BASIS,
    DEFAULT_CRON,
    Period,
    basis_lines,
    summary_files,
)
from vulnmark.evidence.pack.verify import (
    CHAIN,
    EVENTS,
    FORMAT,
    MANIFEST,
    ZIP_TIME,
    manifest_digest,
    report_name,
)
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


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


@dataclass
class _Files:
    items: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes | str) -> None:
        self.items[name] = data.encode() if isinstance(data, str) else data


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
    for name, data in derived_files(events).items():  # recomputed by verify from the records
        f.add(name, data)
    f.add("label_changes.csv", label_changes_csv(changes))
    rows = metrics.basis(store, since, until)
    f.add(BASIS, basis_lines(rows))
    chain = {"anchor_prev_hash": events[0].prev_hash if events else GENESIS,
             "first_seq": events[0].seq if events else None,
             "last_seq": events[-1].seq if events else None, "head": head,
             "log_records": log.records, "log_head": log.head, "log_verified": log.ok,
             "log_problem": log.problem or None}
    f.add(CHAIN, _json(chain))
    sched = config.schedule
    period = Period(since, until, now, policy.preset, policy.digest(), policy.timezone,
                    sched.cron.expr if sched else DEFAULT_CRON,
                    sched.timezone if sched else policy.timezone, started)
    for name, data in summary_files(events, period, rows, label_changes=len(changes),
                                    chain=chain, names=list(f.items)).items():
        f.add(name, data)  # recomputed by verify from the records, the basis and the manifest
    manifest: dict[str, Any] = {
        "format": FORMAT, "generated_at": stored(now), "from": stored(since), "to": stored(until),
        "policy": {"preset": policy.preset, "digest": policy.digest(),
                   "timezone": policy.timezone},
        "chain": {k: chain[k] for k in ("anchor_prev_hash", "first_seq", "last_seq", "head")},
        "control": period.control(),
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
