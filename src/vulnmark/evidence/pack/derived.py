"""The pack's files derived from its evidence records: written by the export from the records,
recomputed by ``verify`` from the pack's ``evidence/events.jsonl`` and compared byte for byte.

So an edited ``outcomes.csv`` (a backdated plan, a ``late`` made ``met``) is named even by a
forger who recomputes the manifest: the records it must agree with are hash-chained. Pure: no
I/O; the same function serves both sides.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vulnmark._csv import csv_text
from vulnmark._time import parse, stored
from vulnmark.errors import TimestampError
from vulnmark.evidence import bound
from vulnmark.evidence.chain import Record
from vulnmark.evidence.events import (
    DismissalEnded,
    FindingDismissed,
    HeadTimestamped,
    OutcomeRecorded,
    PolicyChanged,
    Reclassified,
    ReportDelivered,
    ReportNotDelivered,
    read,
)
from vulnmark.evidence.stamps import token_bytes

DERIVED = ("runs.csv", "deliveries.csv", "outcomes.csv", "reclassifications.csv",
           "policy_changes.csv", "dismissals.csv")
TOKENS = "evidence/timestamps"
"""Each time-stamp token as a DER file named by the record that carries it (an auditor can also
check one with ``openssl ts -verify -digest HEAD -in FILE -token_in -CAfile tsa.pem``)."""


def token_name(record: int) -> str:
    return f"{TOKENS}/record-{record:06d}.tsr"


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file of the pack (authors, labels, reasons and outcome texts are defused)."""
    return csv_text(headers, rows).encode()


def derived_files(records: Sequence[Record]) -> dict[str, bytes]:
    """Each derived file of a pack whose evidence records are ``records``."""
    typed = [(r, read(r)) for r in records]
    runs = bound.expected_runs(records)
    out = {
        "runs.csv": _csv(
            ["id", "kind", "started_at", "policy_digest", "report_digest", "delivery_status",
             "message_id", "server_reply", "error", "counts", "record"],
            [[r.id, r.kind, r.started_at, r.policy_digest, r.report_digest, r.status,
              r.message_id, r.server_reply, r.error, json.dumps(r.counts, sort_keys=True),
              r.seq] for r in sorted(runs.values(), key=lambda x: x.id)]),
        "deliveries.csv": _csv(
            ["at", "run", "status", "message_id", "server_reply", "recipients", "attempts",
             "error", "record"],
            [[r.at, e.run, e.status, e.message_id, e.server_reply, e.recipients, e.attempts,
              None, r.seq] if isinstance(e, ReportDelivered) else
             [r.at, e.run, e.status, None, None, None, e.attempts, e.error, r.seq]
             for r, e in typed if isinstance(e, ReportDelivered | ReportNotDelivered)]),
        "outcomes.csv": _csv(
            ["recorded_at", "ticket", "kind", "reason", "by", "text", "entered_at",
             "entered_by", "backdated_why", "record"],
            [[stored(e.recorded_at), e.ticket, e.outcome, e.reason, e.by, e.text,
              r.recorded_at or r.at, r.recorded_by, e.why, r.seq]
             for r, e in typed if isinstance(e, OutcomeRecorded)]),
        "reclassifications.csv": _csv(
            ["at", "ticket", "from", "to", "by", "why", "recorded_by", "record"],
            [[r.at, e.ticket, e.previous, e.new, e.by, e.why, r.recorded_by, r.seq]
             for r, e in typed if isinstance(e, Reclassified)]),
        "policy_changes.csv": _csv(
            ["at", "digest", "previous", "preset", "deadlines_hours", "record"],
            [[r.at, e.digest, e.previous, e.preset, json.dumps(e.deadlines_hours,
                                                               sort_keys=True), r.seq]
             for r, e in typed if isinstance(e, PolicyChanged)]),
        "dismissals.csv": _csv(
            ["at", "ticket", "kind", "action", "reason", "by", "until", "why", "record"],
            [[r.at, e.ticket, e.finding, "dismissed", e.reason, e.by,
              stored(e.until) if e.until else None, e.why, r.seq]
             if isinstance(e, FindingDismissed) else
             [r.at, e.ticket, e.finding, "ended", None, e.by, None, e.why, r.seq]
             for r, e in typed if isinstance(e, FindingDismissed | DismissalEnded)]),
    }
    for r, e in typed:
        if isinstance(e, HeadTimestamped):
            try:
                out[token_name(r.seq)] = token_bytes(e)
            except TimestampError:
                continue  # named by the check of the tokens
    return out


LABEL_CHANGES = "label_changes.csv"
LABEL_HEADERS = ["ticket", "recorded_at", "at", "by", "added", "removed"]
"""``recorded_at``: when vulnmark recorded the change (the wall clock; the period is chosen by
it), ``at``: when it took effect (the source's time for a change seen in a source)."""
OLD_LABEL_HEADERS = ["ticket", "at", "by", "added", "removed"]
"""The columns of packs exported before ``recorded_at`` (still verified)."""


def label_changes_csv(changes: Sequence[Mapping[str, Any]]) -> bytes:
    """``label_changes.csv``: the label changes vulnmark recorded in the period (a source's
    history included), in the order it recorded them."""
    return _csv(LABEL_HEADERS, [[c["ticket"], c["recorded_at"], c["at"], c["by"], c["added"],
                                 c["removed"]] for c in changes])


def label_change_problems(data: bytes, since: str, until: str) -> tuple[int, list[str]]:
    """The rows of ``label_changes.csv`` and what is wrong with them: every row has the
    header's columns, a time (its second column: ``recorded_at``, or ``at`` in an older pack)
    inside the period and not before the row above it. (Its content comes from the sources'
    label histories, not from evidence records: beyond this, only the signature proves it.)"""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
    if not rows or rows[0] not in (LABEL_HEADERS, OLD_LABEL_HEADERS):
        return 0, [f"{LABEL_CHANGES}: the header is not {','.join(LABEL_HEADERS)} (edited)"]
    columns = len(rows[0])
    previous = ""
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != columns:
            return len(rows) - 1, [f"{LABEL_CHANGES}: line {lineno} does not have "
                                   f"{columns} columns (edited)"]
        at = row[1]
        try:
            parse(at)
        except ValueError:
            return len(rows) - 1, [f"{LABEL_CHANGES}: line {lineno}: {at!r} is not a time "
                                   "(edited)"]
        if not since <= at < until or at < previous:
            return len(rows) - 1, [f"{LABEL_CHANGES}: line {lineno}: {at} is outside the "
                                   "period or before the line above (edited)"]
        previous = at
    return len(rows) - 1, []
