"""The evidence log: an append-only, hash-chained record of runs, deliveries, label changes,
outcomes and policy changes.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of
``[seq, at, kind, payload]``. ``verify`` recomputes the chain and names the first record that
does not match: any edit, deletion, insertion or reordering breaks it. Records are appended in the
same transaction as the change they describe, so a change never lands without its evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update

from vulnmark._time import stored
from vulnmark.store.schema import events, state

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD = "evidence.head"


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    body = canonical([seq, at, kind, json.loads(payload)])
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    seq: int
    at: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def append(conn: Connection, kind: str, payload: Mapping[str, Any], at: datetime) -> Event:
    """Append one record inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7305)"))
    head = conn.execute(
        select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    when = stored(at)
    assert when is not None
    body = canonical(dict(payload))
    digest = chain_hash(prev, seq, when, kind, body)
    conn.execute(
        events.insert().values(seq=seq, at=when, kind=kind, payload=body, prev_hash=prev,
                               hash=digest)
    )
    # The head is kept apart so that deleting records from the end is detected too.
    head_value = canonical([seq, digest])
    if not conn.execute(update(state).where(state.c.name == HEAD).values(value=head_value)
                        ).rowcount:
        conn.execute(state.insert().values(name=HEAD, value=head_value))
    return Event(seq, when, kind, json.loads(body), prev, digest)


def iter_events(conn: Connection, *, since: str | None = None,
                until: str | None = None) -> Iterator[Event]:
    query = select(events).order_by(events.c.seq)
    if since:
        query = query.where(events.c.at >= since)
    if until:
        query = query.where(events.c.at < until)
    for row in conn.execute(query).mappings():
        yield Event(row["seq"], row["at"], row["kind"], json.loads(row["payload"]),
                    row["prev_hash"], row["hash"])


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


def verify_rows(rows: Iterator[tuple[int, str, str, str, str, str]]) -> Verification:
    """Recompute the chain over (seq, at, kind, payload, prev_hash, hash) rows in seq order."""
    prev, expected_seq, count = GENESIS, 1, 0
    latest, backdated = "", []
    for seq, at, kind, payload, prev_hash, digest in rows:
        count += 1
        if at < latest:
            backdated.append(seq)
        latest = max(latest, at)
        if seq != expected_seq:
            return Verification(False, count, prev, seq,
                                f"record {seq}: expected sequence number {expected_seq} "
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


def verify(conn: Connection) -> Verification:
    rows = conn.execute(
        select(events.c.seq, events.c.at, events.c.kind, events.c.payload,
               events.c.prev_hash, events.c.hash).order_by(events.c.seq)
    )
    return verify_rows((seq, at, kind, payload, prev, digest)
                       for seq, at, kind, payload, prev, digest in rows)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
