"""Checking an evidence pack on its own: its layout, and every problem named.

A file changed, missing or added (the manifest's SHA-256), an evidence record edited, deleted or
reordered (the chain, through the one verifier of :mod:`vulnmark.evidence.chain`), a report that
is not the one its run recorded (the run record's report digest), or an edited manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulnmark.errors import PackError
from vulnmark.evidence.chain import GENESIS, Row, canonical, verify_rows

logger = logging.getLogger(__name__)

FORMAT = "vulnmark-evidence-pack/1"
MANIFEST = "manifest.json"
EVENTS = "evidence/events.jsonl"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
"""Every file's time in a ZIP pack (a pack's bytes depend on its content only)."""


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


def manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


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
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
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
                        str(e.get("prev_hash")), str(e.get("hash")),
                        _optional(e.get("recorded_at")), _optional(e.get("recorded_by")))
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


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
