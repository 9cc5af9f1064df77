"""Checking an evidence pack on its own, offline: every problem named, and what is proven.

* **read safely** (:mod:`.read`): no link followed, no duplicate or unsafe name, sizes capped;
* **every file listed**: each file's SHA-256 against the manifest; missing and added files;
* **the chain**: the period's records through the one verifier
  (:func:`vulnmark.evidence.chain.verify_rows`), from the manifest's anchor to its head;
* **bound to the chain**: each stored report (every format) against the digest its run's record
  carries, and the derived files (:mod:`.derived`) recomputed from the records;
* **recomputed**: the summary files (:mod:`.summary`: control days, metrics, charts, the
  index page's numbers) from the records, the metrics basis and the manifest's period;
* **time-stamped**: with ``tsa`` (the TSA's certificate), every RFC 3161 token proven and every
  record's claimed time checked against them (:mod:`vulnmark.evidence.stamps`); the token files
  (``evidence/timestamps/``) are derived from the records;
* **signed**: with ``public_key``, ``manifest.sig`` must be that key's Ed25519 signature over
  ``manifest.json``, which binds every file above. Without a signature (or without a key to
  check it against), a consistent pack is only **unsigned: integrity not proven** — whoever
  edits a file can recompute the manifest;
* **anchored**: each ``heads`` value (a head printed in a delivered daily report) must be the
  hash of one of the pack's records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulnmark.errors import ScheduleError
from vulnmark.evidence import bound, signing, stamps
from vulnmark.evidence.backdating import Backdated, scan
from vulnmark.evidence.chain import GENESIS, Record, Row, canonical, verify_rows
from vulnmark.evidence.pack.derived import (
    LABEL_CHANGES,
    TOKENS,
    derived_files,
    label_change_problems,
)
from vulnmark.evidence.pack.read import read_pack
from vulnmark.evidence.pack.summary import (
    BASIS,
    SUMMARY,
    Period,
    basis_problems,
    read_basis,
    summary_files,
)
from vulnmark.evidence.timestamp import TsaCertificate

logger = logging.getLogger(__name__)

FORMAT = "vulnmark-evidence-pack/1"
MANIFEST = "manifest.json"
EVENTS = "evidence/events.jsonl"
CHAIN = "evidence/chain.json"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
"""Every file's time in a ZIP pack (a pack's bytes depend on its content only)."""
EXTENSIONS = {"text": "txt", "mail_text": "mail.txt", "mail_html": "mail.html"}

VERIFIED, TAMPERED, UNSIGNED = "verified", "tampered", "unsigned"


@dataclass(frozen=True)
class PackVerification:
    ok: bool
    """No problem found (for a signed pack checked against a key: integrity proven)."""
    files: int
    events: int
    head: str
    problems: tuple[str, ...] = ()
    signed_by: str | None = None
    """The key id of a signature checked against the given public key."""
    status: str = VERIFIED
    """``verified``, ``tampered`` (problems) or ``unsigned`` (consistent, but no signature
    was checked against a key: integrity not proven)."""
    note: str = ""
    time_stamps: stamps.StampCheck | None = None
    """The time-stamps found (and, with a TSA certificate, checked)."""
    backdated: tuple[Backdated, ...] = ()
    """The pack's records entered after the time they claim (:mod:`..backdating`)."""


def report_name(run_id: int, fmt: str) -> str:
    return f"reports/run-{run_id:06d}.{EXTENSIONS.get(fmt, fmt)}"


def manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def verify(path: Path, *, public_key: Any = None, heads: tuple[str, ...] = (),
           tsa: TsaCertificate | None = None) -> PackVerification:
    """Check a pack; every problem names the file (and record) at fault. ``public_key`` is an
    Ed25519 public key (:func:`vulnmark.evidence.signing.load_public`); ``tsa`` the TSA's
    certificate (:func:`vulnmark.evidence.timestamp.load_certificate`)."""
    files, problems = read_pack(path)
    raw_manifest = files.get(MANIFEST)
    if raw_manifest is None:
        return _done(files, 0, "", [*problems, f"{MANIFEST}: missing"])
    manifest, why = _parse_manifest(raw_manifest)
    if manifest is None:
        return _done(files, 0, "", [*problems, f"{MANIFEST}: {why}"])
    if manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST}: format {manifest.get('format')!r} is not {FORMAT}")
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
        problems.append(f"{MANIFEST}: content does not match its manifest_sha256 (edited)")
    listed = {e["path"]: e for e in manifest["files"]}
    for name, entry in sorted(listed.items()):
        data = files.get(name)
        if data is None:
            problems.append(f"{name}: missing from the pack (deleted)")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{name}: SHA-256 does not match the manifest (modified)")
    for name in sorted(set(files) - set(listed) - {MANIFEST, signing.SIGNATURE}):
        problems.append(f"{name}: not listed in the manifest (added)")
    chain = manifest["chain"]
    records = _read_events(files.get(EVENTS), problems)
    chain_problems = len(problems)
    head = _verify_chain(records, chain, problems)
    found = None
    if records is not None and len(problems) == chain_problems:  # bound to an intact chain
        _verify_bound(files, records, problems)
        if "control" in manifest:  # packs before the summary was recomputable lack it
            _verify_summary(files, records, manifest, problems)
        _verify_heads(records, chain, heads, problems)
        first = chain.get("first_seq")
        found = stamps.check(records, tsa, known_heads={first - 1: chain["anchor_prev_hash"]}
                             if isinstance(first, int) else None)
        problems += found.problems
    signed_by, note = None, ""
    sig = files.get(signing.SIGNATURE)
    if sig is None and public_key is not None:
        problems.append(f"{signing.SIGNATURE}: missing (the pack is unsigned, but a public key "
                        "was given: the signature was removed or never made)")
    elif sig is None:
        note = "unsigned: integrity not proven (the pack has no manifest.sig)"
    elif public_key is None:
        note = ("unsigned: integrity not proven (signed, but no --public-key to check the "
                "signature against)")
    else:
        wrong = signing.check(raw_manifest, sig, public_key)
        if wrong:
            problems.append(wrong)
        else:
            signed_by = json.loads(sig)["key_id"]
    return _done(files, len(records or ()), head, problems, signed_by, note, found,
                 tuple(scan(records or ())))


def _done(files: dict[str, bytes], events: int, head: str, problems: list[str],
          signed_by: str | None = None, note: str = "",
          found: stamps.StampCheck | None = None,
          backdated: tuple[Backdated, ...] = ()) -> PackVerification:
    status = TAMPERED if problems else VERIFIED if signed_by else UNSIGNED
    return PackVerification(not problems, len(files), events, head, tuple(problems),
                            signed_by, status, note, found, backdated)


def _parse_manifest(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The manifest, or why it is not one (malformed input is named, never a traceback)."""
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, "not JSON (edited)"
    if not isinstance(manifest, dict):
        return None, "not a JSON object (edited)"
    entries = manifest.get("files")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("path"), str)
            and isinstance(e.get("sha256"), str) for e in entries):
        return None, "'files' is not a list of {path, sha256} (edited)"
    if len({e["path"] for e in entries}) != len(entries):
        return None, "'files' lists a path twice (edited)"
    chain = manifest.get("chain")
    if not isinstance(chain, dict) or not all(
            isinstance(chain.get(k), t) for k, t in (("anchor_prev_hash", str),
                                                     ("head", str))) \
            or not all(chain.get(k) is None or isinstance(chain.get(k), int)
                       for k in ("first_seq", "last_seq")):
        return None, "'chain' is not {anchor_prev_hash, first_seq, last_seq, head} (edited)"
    return manifest, ""


def _read_events(raw: bytes | None, problems: list[str]) -> list[Record] | None:
    """The pack's records (None when ``events.jsonl`` is unreadable: named in problems)."""
    records: list[Record] = []
    if raw is None:
        return None  # named as missing by the manifest check (or the manifest is edited)
    for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            e = json.loads(line)
            if not isinstance(e["payload"], dict):
                raise TypeError
            records.append(Record(int(e["seq"]), str(e["at"]), str(e["kind"]), e["payload"],
                                  str(e.get("prev_hash")), str(e.get("hash")),
                                  _optional(e.get("recorded_at")),
                                  _optional(e.get("recorded_by"))))
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"{EVENTS}: line {lineno} is not an evidence record (edited)")
            return None
    return records


def _verify_chain(records: list[Record] | None, chain: dict[str, Any],
                  problems: list[str]) -> str:
    anchor = chain.get("anchor_prev_hash") or GENESIS
    if records is None:
        return ""
    first = chain.get("first_seq")
    rows: list[Row] = [r.row() for r in records]
    result = verify_rows(rows, anchor=anchor, first_seq=first if first is not None else 1)
    if not result.ok:
        problems.append(f"{EVENTS}: {result.problem}")
    elif result.head != (chain.get("head") or anchor) and (rows or chain.get("head")):
        problems.append(f"{EVENTS}: chain head {result.head[:16]}… is not the manifest's head "
                        f"{str(chain.get('head'))[:16]}… (records deleted from the end, or the "
                        "file emptied)")
    elif rows and (rows[-1][0] != chain.get("last_seq")):
        problems.append(f"{EVENTS}: ends at record {rows[-1][0]}, the manifest says "
                        f"{chain.get('last_seq')}")
    return result.head if rows else ""


def _verify_bound(files: dict[str, bytes], records: list[Record], problems: list[str]) -> None:
    """Reports against their runs' digests; derived files against the records."""
    expected = bound.expected_runs(records)
    by_name = {report_name(run, fmt): (run, fmt) for run, r in expected.items()
               for fmt in (r.bodies or {"json": ""})}
    digests = []
    for name, data in files.items():
        if name.startswith("reports/run-"):
            run_fmt = by_name.get(name) or _parse_report_name(name)
            if run_fmt is not None:
                digests.append((*run_fmt, hashlib.sha256(data).hexdigest()))
    problems += bound.compare_bodies(expected, digests, name=report_name)
    derived = derived_files(records)
    for name, data in sorted(derived.items()):
        have = files.get(name)
        if have is None and name.startswith(TOKENS + "/"):
            problems.append(f"{name}: missing (its evidence record carries a time-stamp "
                            "token)")
        elif have is not None and have != data:
            problems.append(f"{name}: differs from what the evidence records give (edited, "
                            "even if the manifest was recomputed)")
    for name in sorted(files):
        if name.startswith(TOKENS + "/") and name not in derived:
            problems.append(f"{name}: no evidence record carries this time-stamp token "
                            "(added)")


def _verify_summary(files: dict[str, bytes], records: list[Record], manifest: dict[str, Any],
                    problems: list[str]) -> None:
    """The summary files (control days, metrics, charts, index page) recomputed from the
    records, the metrics basis, the label changes and the manifest's period and control."""
    inputs = {n: files.get(n) for n in (BASIS, LABEL_CHANGES, CHAIN)}
    if any(v is None for v in inputs.values()):
        return  # named as missing by the manifest check
    try:
        period = Period.from_manifest(manifest)
    except (ValueError, KeyError, TypeError, AttributeError):
        problems.append(f"{MANIFEST}: 'policy', 'control' or the period is malformed (edited)")
        return
    try:
        basis = read_basis(inputs[BASIS] or b"")
    except ValueError as e:
        problems.append(f"{BASIS}: {e} (edited)")
        return
    problems += basis_problems(basis, records)
    count, wrong = label_change_problems(inputs[LABEL_CHANGES] or b"",
                                         str(manifest.get("from")), str(manifest.get("to")),
                                         records)
    problems += wrong
    try:
        chain = json.loads(inputs[CHAIN] or b"")
        if not isinstance(chain, dict) or any(chain.get(k) != manifest["chain"].get(k) for k in
                                              ("anchor_prev_hash", "first_seq", "last_seq",
                                               "head")):
            raise ValueError
    except ValueError:
        problems.append(f"{CHAIN}: does not describe the manifest's chain (edited)")
        return
    names = sorted(set(files) - set(SUMMARY) - {MANIFEST, signing.SIGNATURE})
    try:
        expected = summary_files(records, period, basis, label_changes=count, chain=chain,
                                 names=names)
    except (ValueError, KeyError, TypeError, ScheduleError) as e:
        problems.append(f"{MANIFEST}: the period or control cannot be replayed ({e}) (edited)")
        return
    for name, data in sorted(expected.items()):
        have = files.get(name)
        if have is not None and have != data:
            problems.append(f"{name}: differs from what the evidence records, {BASIS} and the "
                            "manifest give (edited, even if the manifest was recomputed)")


def _parse_report_name(name: str) -> tuple[int, str] | None:
    stem, _, ext = name.removeprefix("reports/run-").partition(".")
    if not stem.isdigit():
        return None
    fmt = {v: k for k, v in EXTENSIONS.items()}.get(ext, ext)
    return int(stem), fmt


def _verify_heads(records: list[Record], chain: dict[str, Any], heads: tuple[str, ...],
                  problems: list[str]) -> None:
    known = [r.hash for r in records] + [str(chain.get("anchor_prev_hash"))]
    for given in heads:
        if not any(h.startswith(given.lower()) for h in known):
            problems.append(f"--head {given}: not the hash of any record in {EVENTS} (records "
                            "removed or the chain rebuilt)")


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
