"""The one check of the time-stamps in a run of evidence records (the store's log or a pack's).

Each ``timestamp`` record (:class:`~vulnmark.evidence.events.HeadTimestamped`) carries an RFC
3161 token over the head of record ``seq``. With the TSA's certificate, each token is proven
(:func:`vulnmark.evidence.timestamp.check`), its message imprint must be the head the record
claims, and that head must be the hash of record ``seq`` in the chain. A proven token gives two
facts about time, checked for every record's wall clock (``recorded_at``):

* record ``seq`` and every record before it existed at the TSA's ``genTime``: a record at or
  before the next time-stamped head claiming a later time is named;
* the token did not exist before ``genTime``, and every record after the ``timestamp`` record
  chains over it: a record after the previous ``timestamp`` record claiming an earlier time
  is named.

:data:`CLOCK_TOLERANCE_SECONDS` (plus the accuracy the TSA states) allows for the host's clock
and the TSA's differing a little and for ``genTime`` in whole seconds. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from vulnmark._time import parse as parse_time
from vulnmark._time import stored
from vulnmark.errors import TimestampError
from vulnmark.evidence import timestamp
from vulnmark.evidence.chain import Record
from vulnmark.evidence.events import HeadTimestamped, TimestampFailed, read

CLOCK_TOLERANCE_SECONDS = 5.0

__all__ = ["CLOCK_TOLERANCE_SECONDS", "Proven", "StampCheck", "check", "token_bytes"]


@dataclass(frozen=True)
class Proven:
    """A token proven against the TSA's certificate."""

    record: int
    """The ``timestamp`` record that carries it."""
    seq: int
    """The record whose head it stamps."""
    head: str
    gen_time: datetime
    accuracy: float


@dataclass(frozen=True)
class StampCheck:
    tokens: int
    """``timestamp`` records found."""
    checked: bool
    """Whether the tokens were checked (a TSA certificate was given)."""
    proven: tuple[Proven, ...] = ()
    failures: tuple[tuple[int, TimestampFailed], ...] = ()
    """(record, failure) of each head that could not be time-stamped."""
    problems: tuple[str, ...] = ()


def token_bytes(event: HeadTimestamped) -> bytes:
    """The DER token a record carries (TimestampError when it is not base64)."""
    try:
        return base64.b64decode(event.token, validate=True)
    except (binascii.Error, ValueError) as e:
        raise TimestampError("the token is not base64") from e


def check(records: Sequence[Record], tsa: timestamp.TsaCertificate | None, *,
          known_heads: Mapping[int, str] | None = None) -> StampCheck:
    """Every token of ``records`` (in sequence order) and every record's wall clock against
    the proven ones; ``known_heads`` adds hashes of records before them (a pack's anchor)."""
    stamps: list[tuple[Record, HeadTimestamped]] = []
    failures: list[tuple[int, TimestampFailed]] = []
    for r in records:
        if r.kind not in (HeadTimestamped.kind, TimestampFailed.kind):
            continue
        event = read(r)
        if isinstance(event, HeadTimestamped):
            stamps.append((r, event))
        elif isinstance(event, TimestampFailed):
            failures.append((r.seq, event))
    if tsa is None:
        return StampCheck(len(stamps), False, failures=tuple(failures))
    hashes = dict(known_heads or {})
    hashes.update((r.seq, r.hash) for r in records)
    problems: list[str] = []
    proven: list[Proven] = []
    for r, event in stamps:
        name = f"record {r.seq} (time-stamp of record {event.seq} by {event.tsa})"
        try:
            token = timestamp.check(token_bytes(event), tsa)
        except TimestampError as e:
            problems.append(f"{name}: {e}")
            continue
        if token.algorithm != "sha256" or token.imprint != event.head.lower():
            problems.append(f"{name}: the token stamps {token.imprint[:16]}… ({token.algorithm}),"
                            f" not the head it claims, {event.head[:16]}… (moved to another "
                            "head)")
            continue
        if event.seq >= r.seq:
            problems.append(f"{name}: stamps a record that does not precede it")
            continue
        actual = hashes.get(event.seq)
        if actual is not None and actual != event.head:
            problems.append(f"{name}: stamps head {event.head[:16]}…, but record {event.seq}'s "
                            f"hash is {actual[:16]}… (the token was moved, or the log "
                            "rewritten)")
            continue
        proven.append(Proven(r.seq, event.seq, event.head, token.gen_time, token.accuracy))
    problems += _windows(records, proven)
    return StampCheck(len(stamps), True, tuple(proven), tuple(failures), tuple(problems))


def _windows(records: Sequence[Record], proven: Sequence[Proven]) -> list[str]:
    """Each record whose ``recorded_at`` lies outside the window its time-stamps prove."""
    if not proven:
        return []
    by_head = sorted(proven, key=lambda p: p.seq)
    heads = [p.seq for p in by_head]
    by_record = sorted(proven, key=lambda p: p.record)
    carriers = [p.record for p in by_record]
    problems: list[str] = []
    for r in records:
        if r.recorded_at is None:
            continue
        try:
            claimed = parse_time(r.recorded_at)
        except ValueError:
            claimed = None
        if claimed is None:
            problems.append(f"record {r.seq} ({r.kind}): recorded_at {r.recorded_at!r} is not "
                            "a time")
            continue
        i = bisect_left(heads, r.seq)  # the next time-stamped head at or after it
        if i < len(by_head):
            after = by_head[i]
            if claimed > after.gen_time + _slack(after):
                problems.append(
                    f"record {r.seq} ({r.kind}): claims it was recorded at {r.recorded_at}, "
                    f"later than {stored(after.gen_time)}, when the TSA time-stamped the head "
                    f"of record {after.seq} (token in record {after.record}) that already "
                    "contains it: its time is false")
        j = bisect_right(carriers, r.seq) - 1  # the last time-stamp record at or before it
        if j >= 0:
            before = by_record[j]
            if claimed < before.gen_time - _slack(before):
                problems.append(
                    f"record {r.seq} ({r.kind}): claims it was recorded at {r.recorded_at}, "
                    f"earlier than {stored(before.gen_time)}, when the TSA made the time-stamp "
                    f"in record {before.record} that precedes it in the chain: its time is "
                    "false")
    return problems


def _slack(p: Proven) -> timedelta:
    return timedelta(seconds=CLOCK_TOLERANCE_SECONDS + p.accuracy)
