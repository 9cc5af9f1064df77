"""The store's whole proof: the evidence chain, the head kept apart, and the run records and
stored reports bound to the chain (:mod:`vulnmark.evidence.bound`).

``evidence verify`` and the daily report's control health call :func:`verify`; every problem is
named (which record, which run row and column, which stored report and format).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Connection, select

from vulnmark.evidence import bound
from vulnmark.evidence.chain import Record, Verification
from vulnmark.store import anchor, events
from vulnmark.store.schema import events as events_table
from vulnmark.store.schema import reports, runs


def verify(conn: Connection, *, bodies_since: str | None = None,
           head_file: Path | None = None) -> Verification:
    """The chain and the head (:func:`vulnmark.store.events.verify`), then every ``runs`` row
    and stored report body against the records; ``bodies_since`` (a stored time) checks only
    the bodies of runs started since then (the daily report's health check stays cheap)."""
    result = events.verify(conn)
    problems = [result.problem] if not result.ok else []
    expected = bound.expected_runs(_readable(conn))
    rows = []
    for r in conn.execute(select(runs)).mappings():
        row = dict(r)
        try:
            row["counts"] = json.loads(row["counts"])
        except (TypeError, ValueError):
            pass  # compared as stored: named as edited
        rows.append(row)
    problems += bound.compare_runs(expected, rows)
    query = select(reports.c.run_id, reports.c.format, reports.c.body)
    limit_to = None
    if bodies_since is not None:
        recent = select(runs.c.id).where(runs.c.started_at >= bodies_since)
        query = query.where(reports.c.run_id.in_(recent))
        limit_to = [i for i, r in expected.items() if r.started_at >= bodies_since]
    digests = ((int(run_id), str(fmt), hashlib.sha256(str(body).encode()).hexdigest())
               for run_id, fmt, body in conn.execute(query))
    problems += bound.compare_bodies(expected, digests, runs=limit_to)
    problems += _check_head_file(conn, head_file)
    if not problems:
        return result
    return replace(result, ok=False, problem=problems[0], problems=tuple(problems))


def _check_head_file(conn: Connection, path: Path | None) -> list[str]:
    """The log against the head file kept beside it (:mod:`vulnmark.store.anchor`)."""
    if path is None:
        return []
    heads = anchor.read(path)
    problems = [f"head file {path}: line {n} is not 'SEQ HASH TIME' (edited)"
                for n in heads.bad_lines]
    if heads.last is None:
        kept = conn.execute(select(events_table.c.seq).where(
            events_table.c.recorded_at.is_not(None)).limit(1)).first()
        if kept is not None:  # every commit of such a record appended to the file
            problems.append(f"head file {path}: {'empty' if heads.exists else 'missing'}, but "
                            f"record {kept[0]} was written after it was kept (deleted?)")
        return problems
    seq, digest = heads.last
    row = conn.execute(select(events_table.c.hash).where(events_table.c.seq == seq)).first()
    if row is None:
        last = conn.execute(select(events_table.c.seq).order_by(
            events_table.c.seq.desc()).limit(1)).scalar()
        problems.append(f"head file {path}: record {seq} was written, but the log ends at "
                        f"{'record ' + str(last) if last else 'no record at all'} (records "
                        "deleted from the end, or the database replaced)")
    elif row[0] != digest:
        problems.append(f"head file {path}: record {seq} had hash {digest[:16]}…, the log's "
                        f"is {str(row[0])[:16]}… (the log was rewritten)")
    return problems


def _readable(conn: Connection) -> Iterator[Record]:
    """The records whose payload is still JSON (the chain check names the others)."""
    for row in conn.execute(select(events_table).order_by(events_table.c.seq)).mappings():
        try:
            payload = json.loads(row["payload"])
        except (TypeError, ValueError):
            continue
        if isinstance(payload, dict):
            yield Record(row["seq"], row["at"], row["kind"], payload, row["prev_hash"],
                         row["hash"], row["recorded_at"], row["recorded_by"])
