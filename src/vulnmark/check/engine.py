"""Keep the stored evaluations current: only changed tickets are read again, findings are cached.

:func:`refresh` evaluates the tickets waiting in the store's queue (new, changed or gone; all of
them when the policy, the rules or the cached layout changed): inference, the marking rules and
one evaluation row per ticket with its cached findings (:mod:`.cache`). Memory stays bounded by
the batch size plus the findings themselves. A large backlog (a first check, a policy change) is
evaluated by worker processes and a mid-sized one (a day of changes in a large store) by this
process and a worker together (:mod:`.parallel`); :class:`CheckOptions` says from when, and
``CheckOptions(parallel=False)`` keeps the work in this process. The findings at an instant are
read back by :mod:`.results`.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from vulnmark._time import stored
from vulnmark._version import __version__
from vulnmark.check import cache, parallel
from vulnmark.check.infer import read as infer_read
from vulnmark.check.rules import (
    RULES_VERSION,
    deadline_base,
    earliest,
    marking,
    marking_findings,
)
from vulnmark.config.outcomes import OutcomeRules
from vulnmark.config.policy import DateWindow, Policy, add_hours
from vulnmark.evidence.events import PolicyChanged
from vulnmark.model import Outcome, Reading, Ticket
from vulnmark.store import Connection, Store, evaluations, events
from vulnmark.store import tickets as store_tickets
from vulnmark.store.outcomes import list_outcomes

logger = logging.getLogger(__name__)

Reader = Callable[[Ticket, Policy], Reading]
Progress = Callable[[int], None]
Row = evaluations.Row
POLICY_STATE = "evaluate.policy_digest"
"""The state entry holding the evaluation stamp (named before the check package existed; kept,
so that stores keep their stamp)."""


@dataclass(frozen=True)
class CheckOptions:
    """How :func:`refresh` spends processes and memory. The defaults suit a large store on a few
    cores; the results are the same whichever path runs (tests/check/test_parallel.py)."""

    parallel: bool = True
    """False: evaluate in this process only, whatever the backlog."""
    batch: int = 5000
    """Tickets per page (and per transaction in this process): fewer, larger commits cost less
    than many small ones when the changed tickets are spread over a large store."""
    parallel_min: int = 20_000
    """From this many changed tickets on, worker processes evaluate them and this process
    writes what they return."""
    shared_min: int = 4_000
    """From this many changed tickets on (and below :attr:`parallel_min`), this process and a
    worker share them: about half a second of work, what a new worker needs to start."""
    shared_chunk: int = 250
    """The fewest tickets in one range of a shared backlog."""
    chunk: int = 5000
    """Tickets per task of a worker: large enough to amortise a task, small enough to stream."""
    max_workers: int = 4
    workers: int | None = None
    """Processes to use (this one included); default: the CPUs, at most :attr:`max_workers`."""
    gc_threshold: int = 100_000
    """Allocations between two young-generation collections while evaluating (Python's is
    700; see :func:`fewer_collections`)."""

    def process_count(self) -> int:
        if not self.parallel:
            return 1
        return self.workers or min(os.cpu_count() or 1, self.max_workers)


@dataclass(frozen=True)
class PolicyVersions:
    """The recorded policies: (effective from, deadline hours per class), oldest first."""

    items: tuple[tuple[datetime, dict[str, float | None]], ...] = ()

    @classmethod
    def load(cls, conn: Connection) -> PolicyVersions:
        return cls(tuple(evaluations.policy_versions(conn)))

    def deadline(self, policy: Policy, class_name: str | None,
                 discovered: datetime) -> datetime | None:
        """The deadline under the policy in force at ``discovered``."""
        if class_name is None:
            return None
        in_force: dict[str, float | None] | None = None
        for at, deadlines in self.items:
            if in_force is None or at <= discovered:
                in_force = deadlines
        if in_force is None or class_name not in in_force:
            return policy.deadline(class_name, discovered)
        return add_hours(discovered, in_force[class_name])


@dataclass(frozen=True)
class Context:
    """What evaluating a page of tickets needs besides the tickets (sent to each worker)."""

    policy: Policy
    read: Reader
    versions: PolicyVersions
    rules: OutcomeRules
    window: DateWindow | None
    """Dates outside it are ``bad_date`` findings; None: no date is judged."""


def refresh(store: Store, policy: Policy, *, reader: Reader | None = None,
            progress: Progress | None = None, now: datetime | None = None,
            options: CheckOptions = CheckOptions()) -> int:
    """Re-evaluate changed tickets; returns how many were evaluated.

    A policy not seen before is recorded (digest and deadlines) in the evidence log and in the
    policy versions at ``now``: a ticket keeps the deadlines of the policy in force when it was
    discovered (tickets discovered before the first recorded policy take that one). A
    ``reader`` other than the inference's keeps the work in this process.
    """
    # one evaluation of a store at a time (F4): a second one waits, then finds little to do
    with store.exclusive("evaluate"):
        return _refresh(store, policy, reader=reader, progress=progress,
                        when=now or datetime.now(UTC), options=options)


def _refresh(store: Store, policy: Policy, *, reader: Reader | None,
             progress: Progress | None, when: datetime, options: CheckOptions) -> int:
    digest = policy.digest()
    # Evaluations are valid for one policy and one version of the rules and inference.
    stamp = f"{digest} {__version__} cache-{cache.FORMAT} rules-{RULES_VERSION}"
    seen = store.get_state(POLICY_STATE)
    if seen != stamp:  # every evaluation is dropped and every ticket queued
        with store.transaction() as conn:
            if (seen or "").split(" ")[0] != digest:
                _record_policy(conn, policy, digest, when)
            # every ticket is pending now (most already are on a first check: add the rest)
            evaluations.queue_all(conn)
        store.set_state(POLICY_STATE, stamp)
    with store.reading() as conn:
        context = Context(policy, reader or infer_read, PolicyVersions.load(conn),
                          policy.outcomes,
                          policy.date_window(when))
    processes = options.process_count() if reader is None else 1
    start = getattr(progress, "start", None)  # a display that can show a bar with a length
    with fewer_collections(options.gc_threshold):
        backlog = 0
        if processes > 1 or start is not None:
            with store.reading() as conn:
                backlog = evaluations.pending_count(conn)
        if start is not None:
            start(backlog)
        if backlog >= options.shared_min:

            def here(after: str | None, last: str) -> int:
                return _refresh_here(store, context, progress, options, after=after, last=last)

            try:
                if backlog >= options.parallel_min:  # this process writes what workers return
                    return parallel.refresh(store, page_rows, context, options,
                                            workers=processes, progress=progress)
                # this process evaluates too, and a range is a small share of the backlog
                return parallel.refresh(store, page_rows, context, options,
                                        workers=processes - 1, progress=progress,
                                        here=here,
                                        chunk=max(options.shared_chunk, backlog // 32))
            except (BrokenProcessPool, OSError, RuntimeError) as e:
                # what the workers finished is stored; the rest is still dirty: go on here
                logger.warning("worker processes failed (%s); evaluating in this process", e)
        return _refresh_here(store, context, progress, options)


@contextmanager
def fewer_collections(threshold: int = CheckOptions.gc_threshold) -> Iterator[None]:
    """Run the cyclic garbage collector less often while evaluating.

    Evaluation allocates millions of short-lived objects without reference cycles (tickets,
    readings, rows); reference counting frees them, and a collection every 700 allocations
    only costs time (about 5 % of a cold check).
    """
    before = gc.get_threshold()
    gc.set_threshold(threshold, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _refresh_here(store: Store, context: Context, progress: Progress | None,
                  options: CheckOptions, *, after: str | None = None,
                  last: str | None = None) -> int:
    """Evaluate the dirty tickets (those with a key in ``(after, last]``) in this process."""
    done = 0
    while True:
        with store.transaction() as conn:
            page = store_tickets.pending_page(conn, after=after, last=last, limit=options.batch)
            if not page.read:
                break
            evaluations.write(conn, page_rows(conn, page.live, context))
            evaluations.drop(conn, page.gone)
            evaluations.done(conn, [k for k, _ in page.read])
        done += len(page.read)
        after = page.last
        if progress:
            progress(len(page.read))
        if len(page.read) < options.batch:
            break
    return done


def deadlines_of(policy: Policy) -> dict[str, float | None]:
    return {c.name: c.deadline_hours for c in policy.classes}


def _record_policy(conn: Connection, policy: Policy, digest: str, at: datetime) -> None:
    deadlines = deadlines_of(policy)
    last = evaluations.add_policy_version(conn, digest, at, deadlines)
    events.record(conn, PolicyChanged(digest, last, policy.preset, deadlines, policy.timezone,
                                      policy.due_soon_hours), at)


def _classified_at(t: Ticket, policy: Policy, classification: str | None) -> datetime | None:
    """When the ticket first got a classification label (creation when history is silent)."""
    if classification is None:
        return None
    for h in sorted(t.label_history, key=lambda h: h.at):
        for label in h.added:
            m = policy.match_label(label)
            if m is not None and m.role == "class":
                return h.at
    return t.created


def page_rows(conn: Connection, page: Iterable[Ticket], context: Context) -> list[Row]:
    """The evaluation rows of a page of tickets, as tuples in
    :data:`vulnmark.store.evaluations.EVALUATION_COLUMNS` order (cheap to send from a worker
    process); reads only the recorded outcomes. Dates outside the context's window are
    ``bad_date`` findings and never a deadline base."""
    policy, read, versions, rules, window = (context.policy, context.read, context.versions,
                                             context.rules, context.window)
    rows: list[Row] = []
    page = list(page)
    if not page:
        return rows
    explicit: dict[str, Outcome] = {}
    keys = [t.key for t in page]
    # by key range: a thousand bound keys cost more than the (usually empty) range they span
    for o in list_outcomes(conn, key_range=(min(keys), max(keys))):
        explicit.setdefault(o.ticket, o)
    for t in page:
        m = marking(t, policy)
        due = (versions.deadline(policy, m.classification, deadline_base(t, window))
               if m.classification else None)
        found = marking_findings(t, policy, read(t, policy), m, window=window, due_at=due)
        created = stored(t.created)
        if not m.is_marked and not found and t.resolved is None and t.key not in explicit:
            # the common case (no label, nothing found, open): only the row's identity
            rows.append((t.key, 0, None, "open", created, None, None, 0, "",
                         created if t.discovered is None else stored(t.discovered),
                         None, None, None))
            continue
        outcome = earliest([explicit.get(t.key), rules.inferred(t)])
        doc = ""
        if found or due is not None or m.is_marked:
            doc = cache.encode(t, m.classification, found)
        rows.append((
            t.key, int(m.is_marked), m.classification, t.state, created, stored(due),
            stored(t.resolved), len(found), doc,
            stored(t.discovered_at), stored(_classified_at(t, policy, m.classification)),
            stored(outcome.recorded_at) if outcome else None, outcome.kind if outcome else None,
        ))
    return rows
