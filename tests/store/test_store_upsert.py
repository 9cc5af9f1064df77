"""The store on a real SQLite file and a real PostgreSQL database: upserts, label history,
transactions, WAL and concurrent access."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core_support import APACHE_SAMPLE, APACHE_SAMPLE_SIZE, make_ticket
from vulnmark.evidence import chain
from vulnmark.evidence.events import TicketsImported
from vulnmark.model import Ticket
from vulnmark.sources.files.load import load_file
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.store.schema import label_changes

AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def _events(store: Store, kind: str | None = None) -> list[chain.Record]:
    with store.reading() as conn:
        return [e for e in store_events.iter_events(conn) if kind is None or e.kind == kind]


def test_second_import_of_real_apache_issues_changes_nothing(store: Store) -> None:
    n = APACHE_SAMPLE_SIZE
    tickets = load_file(APACHE_SAMPLE)
    assert len(tickets) == n
    first = store.upsert_tickets(tickets, actor="import", at=AT)
    assert (first.inserted, first.updated, first.unchanged) == (n, 0, 0)
    second = store.upsert_tickets(load_file(APACHE_SAMPLE), actor="import", at=AT)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, n)
    assert store.count_tickets() == n
    # no label history invented by a no-op import
    assert _events(store, "label_change") == []


def test_roundtrip_keeps_every_field(store: Store) -> None:
    t = make_ticket("CA-7", title="Zöld <b>", labels=("Sérülékenység", "HIGH"),
                    description="leírás", comments=("rated HIGH", "második"),
                    url="https://jira.example/CA-7", resolved=AT, resolution="Fixed")
    store.upsert_tickets([t], at=AT)
    got = store.get_ticket("CA-7")
    assert got is not None
    assert got.title == t.title and got.labels == t.labels and got.description == t.description
    assert [c.body for c in got.comments] == ["rated HIGH", "második"]
    assert got.created == t.created and got.resolved == AT and got.state == "resolved"


def test_a_changed_ticket_is_updated_not_duplicated(store: Store) -> None:
    t = make_ticket("CA-1", title="old")
    store.upsert_tickets([t], at=AT)
    counts = store.upsert_tickets([replace(t, title="new")], at=AT)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 0)
    got = store.get_ticket("CA-1")
    assert got is not None and got.title == "new"
    assert store.count_tickets() == 1


def test_label_change_writes_history_and_an_evidence_record(store: Store) -> None:
    t = make_ticket("CA-2", labels=("Vulnerability",))
    store.upsert_tickets([t], actor="import", at=AT)
    later = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    store.upsert_tickets([replace(t, labels=("Vulnerability", "HIGH"))], actor="ann", at=later)
    got = store.get_ticket("CA-2")
    assert got is not None
    assert [(h.added, h.removed, h.author) for h in got.label_history] == [
        (("HIGH",), (), "ann")]
    records = _events(store, "label_change")
    assert len(records) == 1
    assert records[0].payload["ticket"] == "CA-2"
    assert records[0].payload["added"] == ["HIGH"]
    assert records[0].payload["removed"] == []
    assert records[0].payload["by"] == "ann"
    # removing it is recorded too
    store.upsert_tickets([replace(t, labels=())], actor="bob", at=later)
    last = _events(store, "label_change")[-1]
    assert last.payload["removed"] == ["Vulnerability", "HIGH"] and last.payload["by"] == "bob"
    assert store.verify_evidence().ok


def test_import_event_lands_with_its_tickets(store: Store) -> None:
    store.upsert_tickets([make_ticket("CA-3")], at=AT,
                         event=TicketsImported("f.json"))
    (record,) = _events(store, "import")
    assert record.payload["file"] == "f.json" and record.payload["inserted"] == 1


def test_a_failing_write_is_rolled_back_entirely(store: Store) -> None:
    store.upsert_tickets([make_ticket("CA-0")], at=AT)
    before = (store.count_tickets(), len(_events(store)))

    def items() -> Iterator[Ticket]:
        yield make_ticket("CA-10")
        yield make_ticket("CA-11", labels=("HIGH",))
        raise RuntimeError("source died mid-page")

    with pytest.raises(RuntimeError):
        store.upsert_tickets(items(), at=AT, event=TicketsImported("x"))
    assert (store.count_tickets(), len(_events(store))) == before
    assert store.get_ticket("CA-10") is None


def test_next_key_counts_numerically(store: Store) -> None:
    store.upsert_tickets([make_ticket("VULN-9"), make_ticket("VULN-10"),
                          make_ticket("OTHER-99")], at=AT)
    assert store.next_key("VULN") == "VULN-11"
    assert store.next_key("NEW") == "NEW-1"


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    Store.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_reader_and_a_writer_work_at_once(store_url: str) -> None:
    with Store.open(store_url) as reader_store, Store.open(store_url) as writer_store:
        writer_store.upsert_tickets([make_ticket(f"CA-{i:03d}") for i in range(30)], at=AT)
        with reader_store.reading() as conn:
            rows = conn.execute(select(label_changes.c.id)).all()  # opens the read transaction
            stream = reader_store.iter_tickets(batch=10)
            first = next(stream)
            # the writer commits while the reader is in the middle of its scan
            counts = writer_store.upsert_tickets(
                [make_ticket("CA-999", labels=("Vulnerability",))], at=AT)
            assert counts.inserted == 1
            rest = list(stream)
            assert rows == []
        assert first.key == "CA-000"
        assert len(rest) >= 29
        assert reader_store.count_tickets() == 31


def test_unknown_database_url_is_a_usage_error(tmp_path: Path) -> None:
    from vulnmark.errors import StoreError

    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://localhost/x")
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path}/missing/dir/x.db")


def test_label_history_from_a_source_is_kept(store: Store) -> None:
    from vulnmark.model import LabelChange

    h = (LabelChange(AT, "jira-user", ("Vulnerability",), ()),)
    store.upsert_tickets([make_ticket("CA-4", labels=("Vulnerability",), label_history=h)],
                         at=AT)
    got = store.get_ticket("CA-4")
    assert got is not None and got.label_history == h
    with store.reading() as conn:
        (added,) = conn.execute(select(label_changes.c.added)).one()
    assert json.loads(added) == ["Vulnerability"]


def test_opening_and_reading_while_a_write_is_in_progress(store_url: str) -> None:
    """A second process (``vulnmark list`` during a long import) opens the store and reads
    without waiting for the writer: opening a current store takes no write lock."""
    import threading

    from sqlalchemy import text

    with Store.open(store_url) as writer:
        writer.upsert_tickets([make_ticket("CA-1")], at=AT)
        seen: list[int] = []
        with writer.transaction() as conn:
            conn.execute(text("UPDATE tickets SET title = 'being written'"))

            def other_process() -> None:
                with Store.open(store_url) as reader:
                    seen.append(reader.count_tickets())
                    got = reader.get_ticket("CA-1")
                    assert got is not None and got.title == "Some ticket"  # last commit
                    seen.append(1)

            thread = threading.Thread(target=other_process, daemon=True)
            thread.start()
            thread.join(timeout=10)
            assert not thread.is_alive(), "opening the store waited for the writer"
        assert seen == [1, 1]


def test_a_gone_ticket_that_comes_back_unchanged_is_back(store: Store) -> None:
    from vulnmark.check import results
    from vulnmark.config.presets import preset

    policy = preset("etsi-319-401")
    t = make_ticket("CA-5", labels=("Vulnerability",))
    store.upsert_tickets([t], at=AT)
    assert len(results.check(store, policy, AT).findings) == 1
    store.mark_gone(["CA-5"], at=AT, reason="moved out of the sync scope")
    assert store.ticket_keys() == set()
    assert results.check(store, policy, AT).findings == ()
    counts = store.upsert_tickets([t], at=AT)  # back in scope, same content
    assert counts.updated == 1
    assert store.ticket_keys() == {"CA-5"}
    assert [f.kind for f in results.check(store, policy, AT).findings] == ["unclassified"]


def test_the_same_key_twice_in_one_import_keeps_the_last(store: Store) -> None:
    counts = store.upsert_tickets([make_ticket("CA-6", labels=("HIGH",)),
                                   make_ticket("CA-6", labels=("LOW",))], at=AT)
    assert counts.inserted == 1 and store.count_tickets() == 1
    got = store.get_ticket("CA-6")
    assert got is not None and got.labels == ("LOW",)


def test_several_processes_opening_a_new_store_at_once(store_url: str) -> None:
    """First use by a cron job and a person at the same moment: both migrate safely."""
    import subprocess
    import sys

    code = f"from vulnmark.store import Store; Store.open({store_url!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [rc for rc, _ in results] == [0] * 4, [err[-400:] for _, err in results]
    with Store.open(store_url) as store:
        assert store.count_tickets() == 0
