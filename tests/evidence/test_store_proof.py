"""The store's own proof (F9, F10, m9 of the reliability report): run records and stored report
bodies are bound to the chain, the head is anchored outside the database, and the daily report
prints the real verification result. Tampering is done behind vulnmark's back, with raw SQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from core_support import make_ticket
from vulnmark.cli import cli
from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control import daily
from vulnmark.store import Store

T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def raw_sql(url: str, *statements: str) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for sql in statements:
                conn.execute(sql)
        return
    import psycopg

    with psycopg.connect(url) as conn:
        for sql in statements:
            conn.execute(sql)  # type: ignore[arg-type]
        conn.commit()


@pytest.fixture
def reported(store_url: str) -> str:
    """A store with a vulnerability and two report runs (kept, not sent)."""
    config = Config(preset("etsi-319-401"))
    with Store.open(store_url) as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"),
                                          created=T0)], at=T0, actor="ann")
        for day in (0, 1):
            daily.DailyJob(store, config).run(T0 + timedelta(days=day, hours=1))
        assert store.verify_evidence().ok
    return store_url


def _verify(url: str, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--db", url, "evidence", "verify", *args],
                           catch_exceptions=False)
    return r.exit_code, r.stdout + r.stderr


def test_an_intact_store_verifies(reported: str) -> None:
    code, out = _verify(reported)
    assert code == 0 and "evidence log OK" in out


@pytest.mark.parametrize(("sql", "named"), [
    ("UPDATE runs SET delivery_status = 'delivered', message_id = '<x@y>' WHERE id = 1",
     "runs row 1: delivery_status is 'delivered'"),
    ("UPDATE runs SET counts = '{\"tickets\": 0}' WHERE id = 2", "runs row 2: counts"),
    ("UPDATE runs SET started_at = '2026-11-01T07:00:00.000000Z' WHERE id = 2",
     "runs row 2: started_at"),
    ("DELETE FROM runs WHERE id = 2", "runs row 2: missing (deleted"),
    ("INSERT INTO runs (kind, started_at, policy_digest, counts, delivery_status) VALUES "
     "('report', '2026-11-05T07:00:00.000000Z', 'x', '{}', 'delivered')",
     "runs row 3: no evidence record created it (added)"),
    ("UPDATE reports SET body = replace(body, 'CRITICAL', 'LOW') WHERE format = 'text' "
     "AND run_id = 1", "stored report of run 1 (text): SHA-256 differs"),
    ("UPDATE reports SET body = body || ' ' WHERE format = 'html' AND run_id = 2",
     "stored report of run 2 (html): SHA-256 differs"),
    ("DELETE FROM reports WHERE format = 'json' AND run_id = 1",
     "stored report of run 1 (json): missing"),
])
def test_edited_runs_and_reports_are_named(reported: str, sql: str, named: str) -> None:
    raw_sql(reported, sql)
    code, out = _verify(reported)
    assert code == 1 and named in out, out


def test_the_daily_report_never_says_verified_when_it_is_not(reported: str) -> None:
    raw_sql(reported, "UPDATE runs SET delivery_status = 'delivered' WHERE id = 1")
    config = Config(preset("etsi-319-401"))
    with Store.open(reported) as store:
        text = daily.DailyJob(store, config).run(T0 + timedelta(days=2, hours=1)).bodies["text"]
    assert "Evidence log verified" not in text
    assert "EVIDENCE LOG BROKEN: runs row 1: delivery_status" in text


def _sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = Config(preset("etsi-319-401"))
    with Store.open(url) as store:
        store.upsert_tickets([make_ticket("VULN-1")], at=T0, actor="ann")
        for day in range(3):
            daily.DailyJob(store, config).run(T0 + timedelta(days=day, hours=1))
    return url


def test_the_head_file_is_private_and_follows_every_commit(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    heads = tmp_path / "store.db.heads"
    assert heads.stat().st_mode & 0o777 == 0o600
    lines = heads.read_text().splitlines()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    assert lines[-1].split()[:2] == [str(last[0]), last[1]]
    assert _verify(url)[0] == 0


def test_tail_deletion_with_the_head_row_is_named_by_the_head_file(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    raw_sql(url, "DELETE FROM events WHERE seq >= 3", "DELETE FROM state WHERE name = "
            "'evidence.head'")
    code, out = _verify(url)
    assert code == 1 and "store.db.heads: record" in out and "deleted from the end" in out


def test_a_full_wipe_is_named(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    raw_sql(url, "DELETE FROM reports", "DELETE FROM runs", "DELETE FROM events",
            "DELETE FROM state")
    code, out = _verify(url)
    assert code == 1 and "no record at all" in out
    assert "OK: 0 records" not in out


def test_a_rewritten_log_is_named(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    heads = (tmp_path / "store.db.heads").read_text()
    (tmp_path / "store.db").unlink()
    _sqlite(tmp_path)  # a new store, built again, in the same place
    (tmp_path / "store.db.heads").write_text(heads)  # the forger cannot unwrite the anchor
    code, out = _verify(url)
    assert code == 1 and "the log was rewritten" in out


def test_a_deleted_head_file_is_named(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    (tmp_path / "store.db.heads").unlink()
    code, out = _verify(url)
    assert code == 1 and "store.db.heads: missing" in out


def test_a_head_from_an_email_must_be_on_the_chain(reported: str) -> None:
    with Store.open(reported) as store:
        head = store.verify_evidence().head
    assert _verify(reported, "--head", head[:16])[0] == 0
    raw_sql(reported, "DELETE FROM events WHERE seq >= 3",
            "DELETE FROM state WHERE name = 'evidence.head'",
            "DELETE FROM reports", "DELETE FROM runs")
    code, out = _verify(reported, "--head", head[:16])
    assert code == 1 and f"--head {head[:16]}: not the hash of any record" in out
    code, out = _verify(reported, "--head", "xyz")
    assert code == 2 and "16 hex digits" in out
