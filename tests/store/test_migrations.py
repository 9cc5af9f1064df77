"""The Alembic migrations against the table definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from core_support import make_ticket
from vulnmark.check import results
from vulnmark.config.presets import preset
from vulnmark.store import Store
from vulnmark.store.codec import content_hash
from vulnmark.store.engine import MIGRATIONS, make_engine
from vulnmark.store.schema import metadata

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def _upgrade(url: str, revision: str, step: Any = command.upgrade) -> None:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        step(cfg, revision)
    engine.dispose()


def test_migrations_build_the_tables_the_code_defines(store_url: str) -> None:
    with Store.open(store_url) as store, store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_the_due_date_index_holds_only_rows_with_a_due_date(store_url: str) -> None:
    # a store made before 0004 keeps its evaluations and gets the partial index
    _upgrade(store_url, "0003")
    _upgrade(store_url, "0003")  # idempotent at a revision
    engine = make_engine(store_url)
    with engine.connect() as conn:
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("evaluations")}
        assert "ix_evaluations_due" in indexes
    engine.dispose()
    with Store.open(store_url) as store:
        store.upsert_tickets([make_ticket("V-1", labels=("Vulnerability", "CRITICAL"),
                                          created=NOW - timedelta(days=3)),
                              make_ticket("P-1")], at=NOW)
        result = results.check(store, preset("etsi-319-401"), NOW)
        assert [f.kind for f in result.findings] == ["overdue"]
        with store.reading() as conn:
            if conn.dialect.name == "sqlite":
                sql = conn.execute(text("SELECT sql FROM sqlite_master "
                                        "WHERE name = 'ix_evaluations_due'")).scalar_one()
                plan = " ".join(str(r[3]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT ticket_key FROM evaluations "
                    "WHERE n_findings = 0 AND due_at > '' AND due_at <= '2027'")))
                assert "ix_evaluations_due" in plan
            else:
                sql = conn.execute(text("SELECT indexdef FROM pg_indexes "
                                        "WHERE indexname = 'ix_evaluations_due'")).scalar_one()
            assert "due_at IS NOT NULL" in sql
        counts = results.collect(store, preset("etsi-319-401"), NOW)
        assert (counts.tickets, counts.vulnerabilities, counts.by_class["CRITICAL"]) == (2, 1, 1)


def test_tickets_stored_before_0009_keep_their_hash_and_get_the_people_columns(
        store_url: str) -> None:
    """A store of 0008 upgrades in place: its tickets read back as before (no people), their
    content hash unchanged (no store-wide rewrite), and a later import fills the columns."""
    _upgrade(store_url, "0008")
    old = make_ticket("J-1", labels=("Vulnerability",))
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (key, source, title, description, labels, status, created_at, "
            "reporter, content_hash) VALUES ('J-1', 'embedded', 'Some ticket', '', "
            "'[\"Vulnerability\"]', 'Open', '2026-11-25T07:00:00.000000Z', 'ann', :h)"),
            {"h": content_hash(old)})
    engine.dispose()
    with Store.open(store_url) as store:  # upgrades to the head
        assert store.get_ticket("J-1") == old
        counts = store.upsert_tickets([old], at=NOW)
        assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 1)
        assigned = replace(old, assignee="Bob", assignee_id="bob", assignee_email="bob@x.example",
                           reporter_email="ann@x.example")
        assert store.upsert_tickets([assigned], at=NOW).updated == 1
        assert store.get_ticket("J-1") == assigned
    _upgrade(store_url, "0008", command.downgrade)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("tickets")}
    engine.dispose()
    assert "assignee" not in columns and "reporter" in columns

