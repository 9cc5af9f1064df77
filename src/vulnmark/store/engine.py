"""Opening a store: engine, SQLite pragmas, Alembic migrations."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from vulnmark._files import loosely_readable
from vulnmark.errors import StoreError, StoreUnavailable

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, create: bool = True, check_mode: bool = True) -> Engine:
    """An engine for ``url``; with ``create=False`` a missing SQLite file is an error, so a
    mistyped --db cannot silently give an empty store (and an empty, reassuring report).
    ``check_mode``: create a new SQLite file 0600, warn when an existing one is readable by
    others (off in worker processes)."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"--db: not a database URL: {url!r}") from e
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"--db: directory {parent} does not exist" + _absolute_hint(
                    database))
            path = Path(database).expanduser()
            if not create and not path.exists():
                raise StoreError(
                    f"--db: no store at {database}; create one with `vulnmark init` or "
                    "`vulnmark import`, or point --db / VULNMARK_DB at the existing store")
            if check_mode:
                _private(path)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        _sqlite_pragmas(engine)
        return engine
    if backend != "postgresql":
        raise StoreError(f"--db: unsupported database {backend!r} (use sqlite:/// or postgresql://)")
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except (ImportError, ModuleNotFoundError) as e:
        raise StoreError(
            "PostgreSQL needs the driver: pip install 'vulnmark[postgres]'"
        ) from e


def _private(path: Path) -> None:
    """A new store file is created 0600; an existing one that others may read is named in a
    warning (m12): it holds every vulnerability of the CA."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        return
    except FileExistsError:
        pass
    except OSError as e:
        raise StoreUnavailable(f"--db: cannot create {path}: {e.strerror}") from e
    mode = loosely_readable(path)
    if mode is not None:
        logger.warning("the store %s can be read by other users (mode %04o): run chmod 600 %s",
                       path, mode, path)


def refuse_ephemeral(url: str) -> None:
    """Refuse a store URL that names no file (F5): ``sqlite://``, ``sqlite:///`` (what
    ``sqlite:///$UNSET`` becomes) or ``sqlite:///:memory:`` would give an empty store that
    vanishes at exit, and a reassuring "No findings" report."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"--db: not a database URL: {url!r}") from e
    if parsed.get_backend_name() == "sqlite" and (parsed.database or ":memory:") == ":memory:":
        raise StoreError(
            f"--db {url!r} names no database file (an unset variable?); an in-memory store "
            "would be empty and lost at exit. Use sqlite:///FILE (relative to the working "
            "directory), sqlite:////ABSOLUTE/PATH, or postgresql://…")


def _absolute_hint(database: str) -> str:
    """A hint when ``sqlite:///x/y.db`` (relative) was probably meant as ``/x/y.db``."""
    if Path(database).is_absolute() or database.startswith("~"):
        return ""
    return (f" (sqlite:///{database} is relative to the working directory; an absolute path "
            f"takes four slashes: sqlite:////{database})")


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (pysqlite's implicit transactions are off).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection: more costs memory
        # (~100 MB at 1M tickets) and no measurable time; the OS caches the file anyway
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the lock at the start (BEGIN IMMEDIATE), so the evidence
        # chain head cannot race; readers (execution option "readonly") do not block writers.
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision.

    The revision is read first in a read-only transaction: a store that is already current is
    not write-locked, so opening it (``vulnmark list`` while an import runs) never waits for a
    writer on SQLite.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    try:
        with engine.connect().execution_options(readonly=True) as conn:
            if set(MigrationContext.configure(conn).get_current_heads()) == heads:
                return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # several processes opening a new database at once migrate one after the
                # other (SQLite's BEGIN IMMEDIATE does the same); the later ones find it done
                conn.execute(text("SELECT pg_advisory_xact_lock(7306)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        raise StoreUnavailable(f"database {engine.url.render_as_string()}: "
                               f"{explain(reason)}") from e


def explain(reason: BaseException) -> str:
    """A database failure's message, with what to do when the file is damaged."""
    text = str(reason).strip()
    if "malformed" in text or "not a database" in text:
        text += " (the store file is damaged: restore it from a backup)"
    return text
