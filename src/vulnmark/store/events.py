"""The evidence log's table: appending a record, reading records, verifying the whole log.

Records are appended inside the caller's transaction, so a change never lands without its
evidence; :func:`record` writes a typed event (:mod:`vulnmark.evidence.events`). Writers
serialise on the chain head: SQLite by ``BEGIN IMMEDIATE``
(:mod:`vulnmark.store.engine`), PostgreSQL by a transaction-scoped advisory lock. The hashing
and the verifier are :mod:`vulnmark.evidence.chain`'s.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update

from vulnmark._time import stored
from vulnmark.evidence.chain import (
    GENESIS,
    HEAD,
    Record,
    Verification,
    canonical,
    chain_hash,
    check_head,
    verify_rows,
)
from vulnmark.evidence.events import Event
from vulnmark.store.schema import events, state

HEAD_INFO = "vulnmark.evidence_head"
"""Where :func:`append` leaves the transaction's last (seq, hash, recorded_at) for the store to
append to the head file once the transaction has committed."""


def os_user() -> str:
    """The operating-system user running vulnmark (what ``--by`` cannot change)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def wall_clock() -> datetime:
    """The host's clock: every record's ``recorded_at`` (no option sets it; time-stamps
    bound it, :mod:`vulnmark.evidence.stamps`)."""
    return datetime.now(UTC)


def record(conn: Connection, event: Event, at: datetime) -> Record:
    """Record ``event`` at ``at`` inside the caller's transaction: the one writer."""
    return append(conn, event.kind, event.payload(), at)


def append(conn: Connection, kind: str, payload: Mapping[str, Any], at: datetime) -> Record:
    """Append one record of any kind and payload (what :func:`record` does for a typed
    event) inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7305)"))
    head = conn.execute(
        select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    when = stored(at)
    assert when is not None
    # The wall clock and the OS user, taken here and nowhere else: no option changes them.
    recorded_at, recorded_by = stored(wall_clock()), os_user()
    body = canonical(dict(payload))
    digest = chain_hash(prev, seq, when, kind, body, recorded_at, recorded_by)
    conn.execute(
        events.insert().values(seq=seq, at=when, kind=kind, payload=body, prev_hash=prev,
                               hash=digest, recorded_at=recorded_at, recorded_by=recorded_by)
    )
    # The head is kept apart so that deleting records from the end is detected too.
    head_value = canonical([seq, digest])
    conn.info[HEAD_INFO] = (seq, digest, recorded_at)  # for the head file, after the commit
    if not conn.execute(update(state).where(state.c.name == HEAD).values(value=head_value)
                        ).rowcount:
        conn.execute(state.insert().values(name=HEAD, value=head_value))
    return Record(seq, when, kind, json.loads(body), prev, digest, recorded_at, recorded_by)


def iter_events(conn: Connection, *, since: str | None = None, until: str | None = None,
                kinds: Sequence[str] | None = None) -> Iterator[Record]:
    """The records in sequence order (those with ``since <= at < until``, stored times; of
    ``kinds`` only, when given)."""
    query = select(events).order_by(events.c.seq)
    if kinds is not None:
        query = query.where(events.c.kind.in_(list(kinds)))
    if since:
        query = query.where(events.c.at >= since)
    if until:
        query = query.where(events.c.at < until)
    for row in conn.execute(query).mappings():
        yield Record(row["seq"], row["at"], row["kind"], json.loads(row["payload"]),
                     row["prev_hash"], row["hash"], row["recorded_at"], row["recorded_by"])


def verify(conn: Connection) -> Verification:
    """The whole log: the chain (:func:`~vulnmark.evidence.chain.verify_rows`) and the head
    kept apart (records deleted from the end)."""
    rows = conn.execute(
        select(events.c.seq, events.c.at, events.c.kind, events.c.payload,
               events.c.prev_hash, events.c.hash, events.c.recorded_at, events.c.recorded_by
               ).order_by(events.c.seq)
    )
    result = verify_rows(tuple(r) for r in rows)
    recorded = conn.execute(select(state.c.value).where(state.c.name == HEAD)).scalar()
    return check_head(result, recorded)


def last(conn: Connection) -> tuple[int, str] | None:
    """The head of the log: the last record's (seq, hash); None when it is empty."""
    row = conn.execute(select(events.c.seq, events.c.hash).order_by(events.c.seq.desc())
                       .limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def of_kind(conn: Connection, kind: str) -> Iterator[Record]:
    """The records of one kind, in sequence order."""
    query = select(events).where(events.c.kind == kind).order_by(events.c.seq)
    for row in conn.execute(query).mappings():
        yield Record(row["seq"], row["at"], row["kind"], json.loads(row["payload"]),
                     row["prev_hash"], row["hash"])
