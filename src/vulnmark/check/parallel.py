"""Evaluate a large backlog of changed tickets on several cores (for :mod:`.engine`).

A cold check of a big store (the first one, or after a policy change) is CPU-bound in Python:
reading rows into tickets, inference and building the evaluation rows. Worker processes do all
of that for disjoint key ranges, each in one read snapshot of its own connection; this process
only writes what they return. A ticket's dirty flag is cleared only if its content hash is still
the one the worker read, so a ticket changed meanwhile (by a sync) is evaluated again next time.
Memory stays bounded: key ranges are found by streaming the dirty keys, and only a few ranges are
in flight at once.

A mid-sized backlog (a day of changes in a large store) is shared: this process evaluates ranges
itself from the start, and a worker, started in the background, takes ranges once it answers.

What a page of tickets becomes is the engine's business: it passes the page function (a
module-level function, so a worker imports it by name) and the context it needs.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

from vulnmark.model import Ticket
from vulnmark.store import Connection, Store, evaluations
from vulnmark.store import tickets as store_tickets

logger = logging.getLogger(__name__)

Row = evaluations.Row
Result = tuple[list[Row], list[tuple[str, str]], list[str]]
C = TypeVar("C")
PageRows = Callable[[Connection, list[Ticket], C], list[Row]]
"""(connection, tickets of a page, context) -> their evaluation rows."""


class Options(Protocol):
    """What this module reads of the engine's CheckOptions."""

    @property
    def batch(self) -> int: ...

    @property
    def chunk(self) -> int: ...

    @property
    def gc_threshold(self) -> int: ...


PRELOAD = ("vulnmark.check.engine", "vulnmark.check.infer")
"""What the forkserver imports once, when it starts: each worker is then forked ready instead
of importing SQLAlchemy, the engine and the inference itself."""

_worker: dict[str, Any] = {}


def _init(url: str, page_rows: PageRows[Any], context: Any, batch: int,
          gc_threshold: int) -> None:
    gc.freeze()  # what the imports built lives as long as the worker: never scan it again
    gc.set_threshold(gc_threshold, *gc.get_threshold()[1:])
    _worker.update(store=Store.open(url, create=False, migrated=True), page_rows=page_rows,
                   context=context, batch=batch)


def _task(after: str | None, last: str) -> Result:
    """Evaluation rows, (key, content hash) read, and gone keys of the dirty tickets in
    ``(after, last]``."""
    store: Store = _worker["store"]
    rows: list[Row] = []
    seen: list[tuple[str, str]] = []
    gone: list[str] = []
    with store.reading() as conn:  # one snapshot for the whole range
        while True:
            page = store_tickets.pending_page(conn, after=after, last=last,
                                              limit=_worker["batch"])
            if not page.read:
                break
            rows += _worker["page_rows"](conn, page.live, _worker["context"])
            seen += page.read
            gone += page.gone
            after = page.last
    return rows, seen, gone


def ranges(store: Store, size: int) -> Iterator[tuple[str | None, str]]:
    """Consecutive key ranges ``(after, last]`` of about ``size`` dirty tickets each."""
    with store.reading() as conn:
        yield from evaluations.pending_ranges(conn, size)


def refresh(store: Store, page_rows: PageRows[C], context: C, options: Options, *,
            workers: int, progress: Callable[[int], None] | None = None,
            here: Callable[[str | None, str], int] | None = None,
            chunk: int | None = None) -> int:
    """Evaluate every dirty ticket with ``workers`` processes; returns how many.

    With ``here`` (which evaluates and stores the dirty tickets of one key range in this
    process) this process takes ranges too, from the start, and workers get ranges once one of
    them has answered: a new forkserver needs about half a second before its first worker
    runs, which is most of a mid-sized backlog's time.
    """
    url = store.engine.url.render_as_string(hide_password=False)
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_init,
                               initargs=(url, page_rows, context, options.batch,
                                         options.gc_threshold))
    todo = ranges(store, chunk or options.chunk)
    if here is None:
        with pool:
            return _share(store, pool, workers, progress, todo)
    starter = _Starter(pool)
    starter.start()
    try:
        return _share(store, pool, workers, progress, todo, here, starter.is_ready)
    finally:
        starter.close()


def _share(store: Store, pool: ProcessPoolExecutor, workers: int,
           progress: Callable[[int], None] | None, todo: Iterator[tuple[str | None, str]],
           here: Callable[[str | None, str], int] | None = None,
           is_ready: Callable[[], bool] = lambda: True) -> int:
    done = 0
    pending: deque[Future[Result]] = deque()
    for after, last in todo:
        while pending and pending[0].done():
            done += _write(store, pending.popleft().result(), progress)
        if here is not None and (len(pending) >= 2 * workers or not is_ready()):
            done += here(after, last)
            continue
        pending.append(pool.submit(_task, after, last))
        if len(pending) > 2 * workers:
            done += _write(store, pending.popleft().result(), progress)
    while pending:
        done += _write(store, pending.popleft().result(), progress)
    return done


class _Starter(threading.Thread):
    """Starts a pool's workers without holding up this process: the first worker of a new
    forkserver blocks whoever asks for it until the forkserver has imported vulnmark."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        super().__init__(name="vulnmark-workers")
        self._pool = pool
        self._lock = threading.Lock()
        self._ready: Future[bool] | None = None
        self._closed = False

    def run(self) -> None:
        try:
            ready = self._pool.submit(_ready)
        except (OSError, RuntimeError) as e:  # no worker: this process does all the work
            logger.warning("worker processes could not start (%s)", e)
            return
        with self._lock:
            self._ready, closed = ready, self._closed
        if closed:  # the work was done without the workers
            self._pool.shutdown(wait=True)

    def is_ready(self) -> bool:
        ready = self._ready
        return ready is not None and ready.done() and ready.exception() is None

    def close(self) -> None:
        with self._lock:
            self._closed, ready = True, self._ready
        if ready is not None:  # else run() shuts the pool down once it has started
            self._pool.shutdown(wait=ready.done())


def _ready() -> bool:
    return True


def _context() -> multiprocessing.context.ForkServerContext:
    """The forkserver, told to import vulnmark's evaluation once (:data:`PRELOAD`)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _write(store: Store, result: Result,
           progress: Callable[[int], None] | None) -> int:
    rows, seen, gone = result
    with store.transaction() as conn:
        evaluations.write(conn, rows)
        evaluations.drop(conn, gone)
        evaluations.done_if_unchanged(conn, seen)  # a ticket changed since it was read waits
    if progress:
        progress(len(seen))
    return len(seen)
