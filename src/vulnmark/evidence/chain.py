"""The hash chain of the evidence log, and the one verifier.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of
``[seq, at, kind, payload, recorded_at, recorded_by]`` (records written before the wall clock
and the OS user were kept hash ``[seq, at, kind, payload]``: they keep verifying); the first
record chains from :data:`GENESIS`. ``at`` is the time the record is about (the evaluation
instant of a run, the time of a change); ``recorded_at`` is the wall clock when it was written
and ``recorded_by`` the operating-system user who wrote it, both taken by the writer itself.
:func:`verify_rows` recomputes a chain and names the first record that does not match: any
edit, deletion, insertion or reordering breaks it. The store's log
(:func:`vulnmark.store.events.verify`) and an exported pack's ``events.jsonl`` are checked by
this same function. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vulnmark._time import parse as _parse_time

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD = "evidence.head"
"""The state entry that keeps the last record's (seq, hash) apart from the log, so that
records deleted from the end are detected too."""


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str,
               recorded_at: str | None = None, recorded_by: str | None = None) -> str:
    """The hash of a record whose payload is the JSON text ``payload``."""
    fields: list[object] = [seq, at, kind, json.loads(payload)]
    if recorded_at is not None:
        fields += [recorded_at, recorded_by]
    body = canonical(fields)
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
    recorded_at: str | None = None
    """The wall clock when the record was written (None: written before it was kept)."""
    recorded_by: str | None = None
    """The operating-system user who wrote it (None: written before it was kept)."""

    def row(self) -> Row:
        return (self.seq, self.at, self.kind, canonical(self.payload), self.prev_hash,
                self.hash, self.recorded_at, self.recorded_by)


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    problem: str = ""
    problems: tuple[str, ...] = ()
    """Every problem found (``problem`` is the first): the chain's, then the rows and files
    bound to it (:mod:`vulnmark.evidence.bound`) and the anchors kept outside the log."""
    backdated: tuple[int, ...] = ()
    """Intact records dated earlier than they were written (``at`` more than
    :data:`CLOCK_SLACK` before ``recorded_at``: a clock override, ``--now`` under
    ``VULNMARK_ALLOW_CLOCK_OVERRIDE``) or, for records without a wall clock, earlier than their
    predecessor: not tampering, since the chain order is what counts, but an auditor's question
    (:mod:`vulnmark.evidence.backdating` explains each)."""


Row = tuple[int, str, str, str, str, str, str | None, str | None]
"""(seq, at, kind, payload as JSON text, prev_hash, hash, recorded_at, recorded_by)."""

CLOCK_SLACK_SECONDS = 300
"""How far a record's ``at`` may lie before its wall clock before it counts as backdated
(a long run records its start time when it ends)."""


def verify_rows(rows: Iterable[Row], *, anchor: str = GENESIS,
                first_seq: int = 1) -> Verification:
    """Recompute the chain over ``rows`` in sequence order: the first must follow ``anchor``
    (the hash before it) and be record ``first_seq``; a whole log starts at the genesis."""
    prev, expected_seq, count = anchor, first_seq, 0
    latest, backdated = "", []
    for seq, at, kind, payload, prev_hash, digest, recorded_at, recorded_by in rows:
        count += 1
        if _backdated(at, recorded_at, latest):
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
            recomputed = chain_hash(prev, seq, at, kind, payload, recorded_at, recorded_by)
        except ValueError:
            return Verification(False, count, prev, seq, f"record {seq}: payload is not JSON")
        if recomputed != digest:
            return Verification(False, count, prev, seq,
                                f"record {seq}: content does not match its hash (edited)")
        prev, expected_seq = digest, seq + 1
    return Verification(True, count, prev, backdated=tuple(backdated))


def _backdated(at: str, recorded_at: str | None, latest: str) -> bool:
    if recorded_at is None:
        return at < latest
    try:
        return (parse(recorded_at) - parse(at)).total_seconds() > CLOCK_SLACK_SECONDS
    except (TypeError, ValueError):
        return True


def parse(value: str) -> datetime:
    when = _parse_time(value)
    if when is None:
        raise ValueError("empty time")
    return when


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
