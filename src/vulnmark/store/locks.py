"""Locks between processes sharing one store (F4).

Two evaluations of the same queue at once (the scheduler and a person running ``check``, or two
``report daily`` after a large import) used to evaluate the same tickets twice and collide on
``evaluations.ticket_key``. :func:`exclusive` serialises them: the second waits for the first and
then finds the queue (nearly) empty. It holds no transaction, so writers that do not evaluate
(``import``, ``sync``, outcomes) go on meanwhile.

- SQLite file: ``flock`` on a lock file next to the store (``STORE.lock``, created 0600; never
  the database file itself: closing another descriptor of it would drop SQLite's own POSIX
  locks). The kernel releases it when the holder dies, so a killed ``check`` never leaves the
  store locked.
- PostgreSQL: a session-level advisory lock on a connection of its own, released at the end
  (or by the server when that connection drops).
- In-memory SQLite (``demo``): one process only; a lock between its threads suffices (every
  store also takes it, so threads of one process queue before the file or advisory lock).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from vulnmark.errors import StoreUnavailable

logger = logging.getLogger(__name__)


def lock_file(engine: Engine, name: str) -> Path | None:
    """The lock file ``STORE.NAME.lock`` of a SQLite file store (None for other stores)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    db = Path(str(url.database)).expanduser()
    return db.with_name(f"{db.name}.{name}.lock")


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Hold the store-wide lock ``name`` (one per purpose) while the block runs: against other
    processes, and against other threads of this one."""
    with _thread_lock(engine, name):
        path = lock_file(engine, name)
        if path is not None:
            with _file_lock(path):
                yield
        elif engine.url.get_backend_name() == "postgresql":
            with _advisory_lock(engine, name):
                yield
        else:
            yield


_thread_locks: dict[tuple[str, str], threading.Lock] = {}
_guard = threading.Lock()


def _thread_lock(engine: Engine, name: str) -> threading.Lock:
    key = (engine.url.render_as_string(hide_password=False), name)
    with _guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise StoreUnavailable(f"{path}: cannot open the lock file: {e.strerror}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another process working on this store (%s)", path)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _key(name: str) -> int:
    """A stable 63-bit advisory lock key for ``name`` (the migration lock uses 7306)."""
    return 0x766D000000000000 | zlib.crc32(name.encode())


@contextmanager
def _advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    key = _key(name)
    try:
        conn = engine.connect()
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()  # the lock is the session's: no transaction stays open while it is held
    except SQLAlchemyError as e:
        raise StoreUnavailable(f"database {engine.url.render_as_string()}: "
                               f"{getattr(e, 'orig', None) or e}") from e
    try:
        yield
    finally:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
            conn.close()
        except SQLAlchemyError:
            conn.invalidate()  # a dropped connection releases the lock on the server
