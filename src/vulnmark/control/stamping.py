"""Time-stamping each report run's chain head (RFC 3161, ``evidence.tsa_url``), and what the
report's control health says about it.

After a run is recorded (and delivered or not), :func:`stamp_head` asks the TSA for a token over
the head of the log and records it (:class:`~vulnmark.evidence.events.HeadTimestamped`). A TSA
that is down, refuses or answers nonsense never loses the report: the failure is recorded
(:class:`~vulnmark.evidence.events.TimestampFailed`) and :func:`health_notes` shows it in the
next report until a head is stamped again.
"""

from __future__ import annotations

import base64
from datetime import datetime

from vulnmark._time import stored
from vulnmark.config.evidence import EvidenceSettings
from vulnmark.errors import TimestampError
from vulnmark.evidence import timestamp, tsa
from vulnmark.evidence.events import HeadTimestamped, TimestampFailed, read
from vulnmark.store import Store
from vulnmark.store import events as store_events

Stamp = HeadTimestamped | TimestampFailed


def stamp_head(store: Store, settings: EvidenceSettings, run: int | None,
               now: datetime) -> Stamp | None:
    """Time-stamp the log's head and record the token or the failure (None: no TSA is
    configured, or the log is empty)."""
    url = settings.tsa_url
    if url is None:
        return None
    with store.reading() as conn:
        head = store_events.last(conn)
    if head is None:
        return None
    seq, digest = head
    event: Stamp
    try:
        der = tsa.stamp(url, digest, timeout=settings.tsa_timeout)
        token = timestamp.read(der)
    except TimestampError as e:  # the caller shows it; the next report does too
        event = TimestampFailed(seq, digest, url, str(e), run=run)
    else:
        event = HeadTimestamped(seq, digest, url, base64.b64encode(der).decode(),
                                stored(token.gen_time) or "", run=run)
    store.record(event, at=now)
    return event


def describe(event: Stamp) -> str:
    """One line for a person: what was stamped, or why not."""
    if isinstance(event, HeadTimestamped):
        return (f"time-stamped head {event.head[:16]} (record {event.seq}) by {event.tsa} at "
                f"{event.gen_time}")
    return (f"TIME-STAMP FAILED for head {event.head[:16]} (record {event.seq}, "
            f"{event.tsa}): {event.error}")


def health_notes(store: Store, shown: int = 10) -> list[str]:
    """The last stamp, and every failure since it (never silent); nothing when no head was
    ever time-stamped or failed to be."""
    with store.reading() as conn:
        records = [*store_events.of_kind(conn, HeadTimestamped.kind),
                   *store_events.of_kind(conn, TimestampFailed.kind)]
    records.sort(key=lambda r: r.seq)
    last_ok = max((r.seq for r in records if r.kind == HeadTimestamped.kind), default=0)
    notes: list[str] = []
    failed = [(r, e) for r in records if r.seq > last_ok
              and isinstance(e := read(r), TimestampFailed)]
    for r, e in failed[-shown:]:
        notes.append(f"TIME-STAMP FAILED at {r.at[:16]}: head of record {e.seq} not "
                     f"time-stamped by {e.tsa}: {e.error}")
    if len(failed) > shown:
        notes.append(f"TIME-STAMP FAILED: {len(failed) - shown} more since the last stamp")
    if last_ok:
        ok = read(next(r for r in records if r.seq == last_ok))
        if isinstance(ok, HeadTimestamped):
            notes.append(f"Time-stamped: head {ok.head[:16]} (record {ok.seq}) by {ok.tsa} "
                         f"at {ok.gen_time}")
    return notes
