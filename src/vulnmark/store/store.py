"""The store: one object the CLI and the library talk to. Every write is one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from vulnmark._time import stored
from vulnmark.errors import StoreError, StoreUnavailable
from vulnmark.evidence.chain import Record, Verification
from vulnmark.evidence.events import Event, TicketsGone, UpsertEvent
from vulnmark.model import Ticket
from vulnmark.store import anchor, events, integrity, locks
from vulnmark.store import tickets as _tickets
from vulnmark.store.engine import explain, make_engine, migrate, refuse_ephemeral
from vulnmark.store.schema import state, tickets

logger = logging.getLogger(__name__)


class Store:
    """Tickets, comments, label history, evaluations, runs and the evidence log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, create: bool = True, migrated: bool = False,
             in_memory: bool = True) -> Store:
        """Open (and migrate) a store; ``create=False`` refuses to create a new SQLite file;
        ``migrated=True`` skips the schema check (a worker process of a store just opened);
        ``in_memory=False`` refuses a SQLite URL naming no file (the CLI's ``--db``)."""
        if not in_memory:
            refuse_ephemeral(url)
        engine = make_engine(url, create=create, check_mode=not migrated)
        if not migrated:
            migrate(engine)
        return cls(engine)

    @property
    def in_memory(self) -> bool:
        """An in-memory SQLite store (it lives in one connection)."""
        url = self.engine.url
        return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def head_file(self) -> Path | None:
        """The append-only file beside an SQLite store that keeps every committed head of the
        evidence log (:mod:`vulnmark.store.anchor`); None for PostgreSQL and in-memory."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or self.in_memory or not url.database:
            return None
        return anchor.head_file_of(Path(url.database))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; database failures become store errors (:meth:`_failed`)."""
        head = None
        try:
            with self.engine.begin() as conn:
                try:
                    yield conn
                finally:
                    head = conn.info.pop(events.HEAD_INFO, None)
            if head is not None:
                anchor.append(self.head_file, *head)
        except self._errors as e:
            raise self._failed(e) from e

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect().execution_options(readonly=True) as conn:
                yield conn
        except self._errors as e:
            raise self._failed(e) from e

    @property
    def _errors(self) -> tuple[type[Exception], ...]:
        """SQLAlchemy's errors and the driver's own (the hot paths use its cursor:
        :mod:`.driver`)."""
        dbapi = getattr(self.engine.dialect, "loaded_dbapi", None)
        error = getattr(dbapi, "Error", None)
        if isinstance(error, type) and issubclass(error, Exception):
            return (SQLAlchemyError, error)
        return (SQLAlchemyError,)

    def _failed(self, e: Exception) -> StoreError:
        """A constraint or a value the database refused is a usage/input error (exit 2);
        anything else (locked, unreachable, a corrupted file, disk full) is the database
        failing (exit 3). Never a traceback (m4)."""
        reason = getattr(e, "orig", None) or e
        name = type(reason).__name__
        if isinstance(e, IntegrityError) or name == "IntegrityError":
            return StoreError(f"database constraint failed: {reason}")
        if isinstance(e, DataError) or name in ("DataError", "StringDataRightTruncation"):
            return StoreError(f"database {self.url} refused a value: {reason}".strip())
        return StoreUnavailable(f"database {self.url}: {explain(reason)}")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the store-wide lock ``name`` across processes (:mod:`vulnmark.store.locks`);
        call it outside any transaction."""
        with locks.exclusive(self.engine, name):
            yield

    # -- tickets ------------------------------------------------------------------------

    def upsert_tickets(self, items: Iterable[Ticket], *, state: Mapping[str, str] | None = None,
                       actor: str | None = None, at: datetime | None = None,
                       event: UpsertEvent | None = None,
                       from_source: bool = False) -> _tickets.UpsertCounts:
        """Idempotent upsert by key, plus sync-state keys and an optional evidence record (with
        the upsert's counts), all in one transaction (a checkpoint lands with its page).

        ``from_source``: the tickets are as their source shows them (``import``, ``sync``, the
        webhook); labels vulnmark applied that the source lacks are kept
        (:mod:`vulnmark.store.overlay`)."""
        when = at or datetime.now(UTC)
        with self.transaction() as conn:
            counts = _tickets.save(conn, items, at=when, actor=actor, event=event,
                                   from_source=from_source)
            for name, value in (state or {}).items():
                _set_state(conn, name, value)
        return counts

    def get_ticket(self, key: str, *, history: bool = True) -> Ticket | None:
        with self.reading() as conn:
            return _tickets.get(conn, key, history=history)

    def iter_tickets(self, *, history: bool = False, batch: int = 1000) -> Iterator[Ticket]:
        with self.reading() as conn:
            yield from _tickets.iter_rows(conn, history=history, batch=batch)

    def ticket_keys(self, source: str | None = None) -> set[str]:
        query = select(tickets.c.key).where(tickets.c.gone_at.is_(None))
        if source is not None:
            query = query.where(tickets.c.source == source)
        with self.reading() as conn:
            return set(conn.execute(query).scalars())

    def count_tickets(self) -> int:
        with self.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())

    def next_key(self, prefix: str) -> str:
        """The next free key PREFIX-N of the embedded tracker."""
        with self.reading() as conn:
            keys = conn.execute(select(tickets.c.key).where(
                tickets.c.key.like(f"{prefix}-%"))).scalars().all()
        numbers = [int(k[len(prefix) + 1:]) for k in keys if k[len(prefix) + 1:].isdigit()]
        return f"{prefix}-{max(numbers, default=0) + 1}"

    def mark_gone(self, keys: Iterable[str], *, at: datetime, reason: str) -> int:
        """Record tickets deleted at the source or moved out of scope (kept, not dropped)."""
        keys = sorted(set(keys))
        if not keys:
            return 0
        with self.transaction() as conn:
            n = conn.execute(
                update(tickets).where(tickets.c.key.in_(keys), tickets.c.gone_at.is_(None))
                .values(gone_at=stored(at), gone_reason=reason)
            ).rowcount
            _tickets.mark_dirty(conn, list(conn.execute(
                select(tickets.c.key).where(tickets.c.key.in_(keys))).scalars()))
            events.record(conn, TicketsGone(tuple(keys), reason), at)
        return int(n or 0)

    # -- state and evidence ---------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        with self.reading() as conn:
            return conn.execute(select(state.c.value).where(state.c.name == name)).scalar()

    def set_state(self, name: str, value: str) -> None:
        with self.transaction() as conn:
            _set_state(conn, name, value)

    def record(self, event: Event, *, at: datetime | None = None) -> Record:
        """Record one event in a transaction of its own (:func:`vulnmark.store.events.record`)."""
        with self.transaction() as conn:
            return events.record(conn, event, at or datetime.now(UTC))

    def verify_evidence(self) -> Verification:
        """The whole evidence log and what is bound to it, verified
        (:func:`vulnmark.store.integrity.verify`)."""
        with self.reading() as conn:
            return integrity.verify(conn, head_file=self.head_file)


def _set_state(conn: Connection, name: str, value: str) -> None:
    done = conn.execute(update(state).where(state.c.name == name).values(value=value)).rowcount
    if not done:
        conn.execute(state.insert().values(name=name, value=value))



