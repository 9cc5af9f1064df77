"""The hash chain of the evidence log, and the one verifier.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of
``[seq, at, kind, payload]``; the first record chains from :data:`GENESIS`. :func:`verify_rows`
recomputes a chain and names the first record that does not match: any edit, deletion,
insertion or reordering breaks it. The store's log (:func:`vulnmark.store.events.verify`) and an
exported pack's ``events.jsonl`` are checked by this same function. Nothing here touches the
database.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD = "evidence.head"
"""The state entry that keeps the last record's (seq, hash) apart from the log, so that
records deleted from the end are detected too."""


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    """The hash of a record whose payload is the JSON text ``payload``."""
    body = canonical([seq, at, kind, json.loads(payload)])
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class Record:
    """One stored record of the evidence log."""

    seq: int
    at: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    problem: str = ""
    backdated: tuple[int, ...] = ()
    """Intact records dated earlier than their predecessor (written with --now in the past):
    not tampering, since the chain order is what counts, but worth an auditor's question."""


Row = tuple[int, str, str, str, str, str]
"""(seq, at, kind, payload as JSON text, prev_hash, hash)."""


def verify_rows(rows: Iterable[Row], *, anchor: str = GENESIS,
                first_seq: int = 1) -> Verification:
    """Recompute the chain over ``rows`` in sequence order: the first must follow ``anchor``
    (the hash before it) and be record ``first_seq``; a whole log starts at the genesis."""
    prev, expected_seq, count = anchor, first_seq, 0
    latest, backdated = "", []
    for seq, at, kind, payload, prev_hash, digest in rows:
        count += 1
        if at < latest:
            backdated.append(seq)
        latest = max(latest, at)
        if seq != expected_seq:
            return Verification(False, count, prev, seq,
                                f"record {seq}: expected record {expected_seq} "
                                "(a record was deleted, inserted or reordered)")
        if prev_hash != prev:
            return Verification(False, count, prev, seq,
                                f"record {seq}: prev_hash does not match record {seq - 1}")
        try:
            recomputed = chain_hash(prev, seq, at, kind, payload)
        except ValueError:
            return Verification(False, count, prev, seq, f"record {seq}: payload is not JSON")
        if recomputed != digest:
            return Verification(False, count, prev, seq,
                                f"record {seq}: content does not match its hash (edited)")
        prev, expected_seq = digest, seq + 1
    return Verification(True, count, prev, backdated=tuple(backdated))


def check_head(result: Verification, recorded_head: str | None) -> Verification:
    """``result`` of a whole log, also failed when the head kept apart (:data:`HEAD`, the
    JSON of ``[seq, hash]``) names a record the log no longer has."""
    if not result.ok or not recorded_head:
        return result
    seq = json.loads(recorded_head)[0]
    if result.records < seq:
        return Verification(
            False, result.records, result.head, result.records + 1,
            f"the log ends at record {result.records} but record {seq} was written "
            "(records were deleted from the end)")
    return result
