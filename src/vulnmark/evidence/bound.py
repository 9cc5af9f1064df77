"""What the hash chain says the run records and stored reports must be, and every difference.

A run's evidence record (``run``) carries its kind, time, policy digest, counts, initial
delivery status and the SHA-256 of each stored report body; each ``delivery`` record after it
changes the delivery status, Message-ID, server reply and error. :func:`expected_runs` replays
the records into the state every ``runs`` row must have; :func:`compare_runs` and
:func:`compare_bodies` name each row or body that differs, is missing or was added. So editing a
run from failed to delivered, or a stored text report from ``[late]`` to ``[met]``, is named by
``evidence verify`` even though neither is in the chain itself. Pure functions: no I/O.

Records written before the body digests and status were kept (no ``bodies``/``status``) bind
what they have: the JSON body (``report_digest``) and the fields of later delivery records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vulnmark.evidence.chain import Record
from vulnmark.evidence.events import ReportDelivered, ReportNotDelivered, RunRecorded, read

__all__ = ["BoundRun", "compare_bodies", "compare_runs", "expected_runs"]


@dataclass(frozen=True)
class BoundRun:
    """A run as the evidence log describes it."""

    id: int
    seq: int
    """The record that created it."""
    kind: str
    started_at: str
    policy_digest: str
    counts: dict[str, int]
    report_digest: str | None
    bodies: dict[str, str] | None
    status: str | None
    """Delivery status; None when the log does not say (an old run never delivered)."""
    message_id: str | None = None
    server_reply: str | None = None
    error: str | None = None
    status_seq: int | None = None
    """The last record that set the delivery status."""
    fields_known: frozenset[str] = field(default_factory=frozenset)


def expected_runs(records: Iterable[Record]) -> dict[int, BoundRun]:
    """Every run the records create, in the state the later delivery records leave it."""
    out: dict[int, BoundRun] = {}
    for r in records:
        event = read(r)
        if isinstance(event, RunRecorded):
            known = {"kind", "started_at", "policy_digest", "counts", "report_digest"}
            if event.status is not None:
                known |= {"delivery_status", "error", "message_id", "server_reply"}
            out[event.run] = BoundRun(
                event.run, r.seq, event.run_kind, r.at, event.policy_digest, event.counts,
                event.report_digest, event.bodies, event.status, error=event.error,
                status_seq=r.seq, fields_known=frozenset(known))
        elif isinstance(event, ReportDelivered) and event.run in out:
            run = out[event.run]
            out[event.run] = replace(
                run, status="delivered", message_id=event.message_id,
                server_reply=event.server_reply, error=None, status_seq=r.seq,
                fields_known=run.fields_known | {"delivery_status", "message_id",
                                                 "server_reply", "error"})
        elif isinstance(event, ReportNotDelivered) and event.run in out:
            run = out[event.run]
            out[event.run] = replace(run, status="failed", error=event.error, status_seq=r.seq,
                                     fields_known=run.fields_known | {"delivery_status",
                                                                      "error"})
    return out


_FIELDS = {"kind": "kind", "started_at": "started_at", "policy_digest": "policy_digest",
           "counts": "counts", "report_digest": "report_digest",
           "delivery_status": "status", "message_id": "message_id",
           "server_reply": "server_reply", "error": "error"}


def compare_runs(expected: Mapping[int, BoundRun],
                 rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each ``runs`` row (as stored: ``counts`` decoded) against the log: every field that
    differs, every row the log does not know (added), every run it has and the table lacks."""
    problems: list[str] = []
    seen: set[int] = set()
    for row in rows:
        run_id = int(row["id"])
        seen.add(run_id)
        bound = expected.get(run_id)
        if bound is None:
            problems.append(f"runs row {run_id}: no evidence record created it (added)")
            continue
        for column, attr in _FIELDS.items():
            if column not in bound.fields_known:
                continue
            want, have = getattr(bound, attr), row.get(column)
            if want != have:
                seq = bound.status_seq if attr in ("status", "message_id", "server_reply",
                                                   "error") else bound.seq
                problems.append(f"runs row {run_id}: {column} is {have!r}, evidence record "
                                f"{seq} says {want!r} (edited)")
    for run_id in sorted(set(expected) - seen):
        problems.append(f"runs row {run_id}: missing (deleted; evidence record "
                        f"{expected[run_id].seq} created it)")
    return problems


def stored_report(run_id: int, fmt: str) -> str:
    return f"stored report of run {run_id} ({fmt})"


def compare_bodies(expected: Mapping[int, BoundRun],
                   digests: Iterable[tuple[int, str, str]], *, runs: Iterable[int] | None = None,
                   name: Callable[[int, str], str] = stored_report) -> list[str]:
    """Each stored report body (run id, format, SHA-256) against the digests its run's record
    carries; ``runs`` limits the check to those runs (None: every run); ``name`` names a body
    in the problems (a table row, a file of a pack)."""
    problems: list[str] = []
    have: dict[tuple[int, str], str] = {(run, fmt): d for run, fmt, d in digests}
    checked = set(expected) if runs is None else set(runs) & set(expected)
    for (run_id, fmt), digest in sorted(have.items()):
        bound = expected.get(run_id)
        if bound is None:
            if runs is None or run_id in set(runs):
                problems.append(f"{name(run_id, fmt)}: no evidence record "
                                "describes the run (added)")
            continue
        want = _want(bound, fmt)
        if want is None and bound.bodies is not None:
            problems.append(f"{name(run_id, fmt)}: not among the bodies evidence "
                            f"record {bound.seq} lists (added)")
        elif want is not None and want != digest:
            problems.append(f"{name(run_id, fmt)}: SHA-256 differs from evidence "
                            f"record {bound.seq} (edited)")
    for run_id in sorted(checked):
        bound = expected[run_id]
        for fmt in sorted(bound.bodies or {}):
            if (run_id, fmt) not in have:
                problems.append(f"{name(run_id, fmt)}: missing (deleted; evidence "
                                f"record {bound.seq} lists it)")
    return problems


def _want(bound: BoundRun, fmt: str) -> str | None:
    if bound.bodies is not None:
        return bound.bodies.get(fmt)
    return bound.report_digest if fmt == "json" else None
