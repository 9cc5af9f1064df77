"""Text inference for a page of tickets across worker processes.

``ParallelReader(policy).read_many(tickets)`` returns exactly ``[read(t, policy) for t in
tickets]``, computed by a pool of worker processes (``concurrent.futures``) while this process
reads a share of the page itself. Only what inference looks at crosses the process boundary:
the title, the description, the comment bodies and the priority of each ticket (about 1.7 KB
for a typical ticket, a quarter of the cost of pickling the whole Ticket), and an empty reading
comes back as ``None``. The policy is sent once, to each worker's initializer.

Small pages, one CPU or ``workers=0`` read in this process. A worker that dies makes
``read_many`` read in this process from then on (logged once), so a check never fails
because of the pool.

    with ParallelReader(policy) as reader:
        readings = reader.read_many(page)

Measured on 2 shared cores with 20,000 typical tickets (``benchmarks/check_scale.py`` texts)
after ``read`` itself got fast (~30 us a ticket): ``read_many`` alone is ~1.25x faster than
sequential reading, but a check that waits for each page gains nothing end to end. Reading
the next page ahead with :meth:`ParallelReader.submit` while this process writes the
current one gains 10-18 % of the wall time of a cold check.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from types import TracebackType

from vulnmark.classify import read
from vulnmark.model import Comment, Reading, Ticket, TicketKey
from vulnmark.policy import Policy

logger = logging.getLogger(__name__)

#: Fewer tickets than this are read in this process (a pool round trip costs ~1 ms).
MIN_PARALLEL = 200
#: Tickets per task sent to a worker.
CHUNK = 250

_Texts = tuple[str, str, tuple[str, ...], str | None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY = Reading()
_worker_policy: Policy | None = None


def _texts(t: Ticket) -> _Texts:
    return t.title, t.description, tuple(c.body for c in t.comments), t.priority


def _init_worker(policy: Policy) -> None:
    global _worker_policy
    _worker_policy = policy


def _read_texts(chunk: list[_Texts]) -> list[Reading | None]:
    """In a worker: read the texts of a chunk; None stands for an empty reading."""
    policy = _worker_policy
    assert policy is not None, "worker not initialised"
    out: list[Reading | None] = []
    for title, description, bodies, priority in chunk:
        ticket = Ticket(key=TicketKey(""), title=title, created=_EPOCH, description=description,
                        comments=tuple(Comment(b) for b in bodies), priority=priority)
        reading = read(ticket, policy)
        out.append(None if reading == _EMPTY else reading)
    return out


def _default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, cpus - 1)


class ParallelReader:
    """``read(t, policy)`` over many tickets, on ``workers`` processes plus this one.

    ``workers`` counts the processes besides this one (None: one per CPU but this one; 0: read
    everything here). The pool starts on the first page big enough to share; ``close`` (or
    leaving a ``with`` block) stops it. Workers start with ``start_method`` (default
    "forkserver" where there is one, ~0.15 s once): they do not inherit this process's
    database connections or threads, as forked workers would.
    """

    def __init__(self, policy: Policy, workers: int | None = None, *, chunk: int = CHUNK,
                 min_parallel: int = MIN_PARALLEL, start_method: str | None = None) -> None:
        if workers is not None and workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.policy = policy
        self.workers = _default_workers() if workers is None else workers
        self.chunk = chunk
        self.min_parallel = min_parallel
        methods = multiprocessing.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else methods[0]
        elif start_method not in methods:
            raise ValueError(f"start_method must be one of {', '.join(methods)}")
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False

    def read_many(self, tickets: Sequence[Ticket]) -> list[Reading]:
        """The readings of ``tickets``, in order: equal to ``read(t, policy)`` for each."""
        if self.workers == 0 or self._broken or len(tickets) < self.min_parallel:
            return [read(t, self.policy) for t in tickets]
        # This process reads its share (the head of the page) while the workers read the rest.
        own = len(tickets) // (self.workers + 1)
        futures: list[Future[list[Reading | None]]] = []
        try:
            pool = self._start()
            for lo in range(own, len(tickets), self.chunk):
                part = [_texts(t) for t in tickets[lo:lo + self.chunk]]
                futures.append(pool.submit(_read_texts, part))
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            return self._fallback(tickets, futures, e)
        readings = [read(t, self.policy) for t in tickets[:own]]
        try:
            for future in futures:
                readings.extend(_EMPTY if r is None else r for r in future.result())
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            return readings[:own] + self._fallback(tickets[own:], futures, e)
        return readings

    def submit(self, tickets: Sequence[Ticket]) -> Pending:
        """Start reading ``tickets`` in the workers and return at once; ``result()`` of the
        returned handle gives what :meth:`read_many` gives. Lets this process fetch the next
        page or write the previous one meanwhile (in-process mode reads at ``result()``)."""
        if self.workers == 0 or self._broken or len(tickets) < self.min_parallel:
            return Pending(self, tickets, [])
        futures: list[Future[list[Reading | None]]] = []
        try:
            pool = self._start()
            for lo in range(0, len(tickets), self.chunk):
                part = [_texts(t) for t in tickets[lo:lo + self.chunk]]
                futures.append(pool.submit(_read_texts, part))
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            return Pending(self, tickets, [], self._fallback(tickets, futures, e))
        return Pending(self, tickets, futures)

    def close(self) -> None:
        """Stop the worker processes (the reader still works, in this process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParallelReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(self.start_method),
                initializer=_init_worker, initargs=(self.policy,))
        return self._pool

    def _fallback(self, tickets: Sequence[Ticket], futures: list[Future[list[Reading | None]]],
                  error: BaseException) -> list[Reading]:
        logger.warning("worker processes failed (%s); reading in this process from now on",
                       error)
        for future in futures:
            future.cancel()
        self._broken = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        return [read(t, self.policy) for t in tickets]


class Pending:
    """The readings of a page being read by :meth:`ParallelReader.submit`."""

    def __init__(self, reader: ParallelReader, tickets: Sequence[Ticket],
                 futures: list[Future[list[Reading | None]]],
                 readings: list[Reading] | None = None) -> None:
        self._reader = reader
        self._tickets = tickets
        self._futures = futures
        self._readings = readings

    def result(self) -> list[Reading]:
        """The readings, in the order of the submitted tickets."""
        if self._readings is None:
            self._readings = self._collect()
        return self._readings

    def _collect(self) -> list[Reading]:
        reader = self._reader
        if not self._futures:
            return [read(t, reader.policy) for t in self._tickets]
        readings: list[Reading] = []
        try:
            for future in self._futures:
                readings.extend(_EMPTY if r is None else r for r in future.result())
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            return reader._fallback(self._tickets, self._futures, e)
        return readings
