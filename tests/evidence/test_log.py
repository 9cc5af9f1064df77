"""The hash-chained evidence log: any edit, deletion or reordering is detected and the first bad
record is named. Tampering is done behind vulnmark's back, with raw SQL on the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.evidence import chain
from vulnmark.store import Store
from vulnmark.store import events as store_events

T0 = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
N = 6


def raw_sql(url: str, statements: list[str]) -> None:
    """Run SQL on the database directly (sqlite3 on the file, psycopg on the server)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for sql in statements:
                conn.execute(sql)
        return
    import psycopg

    with psycopg.connect(url, autocommit=False) as conn:
        for sql in statements:
            conn.execute(sql)  # type: ignore[arg-type]
        conn.commit()


def note(store: Store, payload: dict[str, object], at: datetime) -> None:
    """A record of a kind of the test's own, through the store's low-level append."""
    with store.transaction() as conn:
        store_events.append(conn, "test", payload, at)


@pytest.fixture
def logged(store_url: str) -> Iterator[str]:
    with Store.open(store_url) as store:
        for i in range(1, N + 1):
            note(store, {"i": i, "text": f"record {i} — ő"}, T0 + timedelta(hours=i))
        assert store.verify_evidence().ok
    yield store_url


def verify(url: str) -> chain.Verification:
    with Store.open(url) as store:
        return store.verify_evidence()


def test_intact_log_verifies(logged: str) -> None:
    v = verify(logged)
    assert v.ok and v.records == N and v.first_bad is None and len(v.head) == 64


def test_chain_links_each_record_to_the_previous(logged: str) -> None:
    with Store.open(logged) as store, store.reading() as conn:
        events = list(store_events.iter_events(conn))
    assert [e.seq for e in events] == list(range(1, N + 1))
    assert events[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[2].payload == {"i": 3, "text": "record 3 — ő"}


def test_edited_payload_is_detected(logged: str) -> None:
    raw_sql(logged, ["UPDATE events SET payload = '{\"i\": 33, \"text\": \"record 3\"}' "
                     "WHERE seq = 3"])
    v = verify(logged)
    assert not v.ok and v.first_bad == 3 and "record 3" in v.problem and "edited" in v.problem


def test_edited_time_or_kind_is_detected(logged: str) -> None:
    raw_sql(logged, ["UPDATE events SET at = '2026-11-01T09:30:00.000000Z' WHERE seq = 2"])
    assert verify(logged).first_bad == 2


def test_payload_that_is_no_longer_json_is_detected(logged: str) -> None:
    raw_sql(logged, ["UPDATE events SET payload = 'not json' WHERE seq = 5"])
    v = verify(logged)
    assert v.first_bad == 5 and "JSON" in v.problem


def test_deleted_middle_record_is_detected(logged: str) -> None:
    raw_sql(logged, ["DELETE FROM events WHERE seq = 3"])
    v = verify(logged)
    assert not v.ok and v.first_bad == 4
    assert "expected record 3" in v.problem


def test_deleted_last_record_is_detected(logged: str) -> None:
    raw_sql(logged, [f"DELETE FROM events WHERE seq = {N}"])
    v = verify(logged)
    assert not v.ok and v.first_bad == N
    assert f"record {N} was written" in v.problem


def test_deleted_first_record_is_detected(logged: str) -> None:
    raw_sql(logged, ["DELETE FROM events WHERE seq = 1"])
    v = verify(logged)
    assert not v.ok and v.first_bad == 2


def test_swapped_records_are_detected(logged: str) -> None:
    # swap the sequence numbers of records 2 and 4 (a reordering)
    raw_sql(logged, ["UPDATE events SET seq = -2 WHERE seq = 2",
                     "UPDATE events SET seq = 2 WHERE seq = 4",
                     "UPDATE events SET seq = 4 WHERE seq = -2"])
    v = verify(logged)
    assert not v.ok and v.first_bad == 2


def test_swapped_contents_are_detected(logged: str) -> None:
    # keep the sequence numbers and hashes, swap what the records say
    raw_sql(logged, [
        "UPDATE events SET payload = (SELECT payload FROM events WHERE seq = 5), "
        "at = (SELECT at FROM events WHERE seq = 5) WHERE seq = 4",
    ])
    v = verify(logged)
    assert not v.ok and v.first_bad == 4


def test_appending_after_tampering_does_not_heal_the_chain(logged: str) -> None:
    raw_sql(logged, ["UPDATE events SET payload = '{\"i\": 0}' WHERE seq = 2"])
    with Store.open(logged) as store:
        note(store, {"i": 99}, T0 + timedelta(days=1))
        v = store.verify_evidence()
    assert v.first_bad == 2


# -- through the CLI ---------------------------------------------------------------------------

def _cli_history(vm: Cli) -> None:
    vm.ok("ticket", "new", "--title", "OCSP heap overflow", "--label", "Vulnerability",
          "--by", "ann")
    vm.ok("ticket", "label", "VULN-1", "HIGH", "--by", "ann")
    vm.ok("ticket", "comment", "VULN-1", "rated HIGH", "--by", "bob")
    vm.ok("check")


def test_cli_verify_intact_exits_0(vm: Cli) -> None:
    _cli_history(vm)
    result = vm.ok("evidence", "verify")
    assert "evidence log OK" in result.stdout


def test_cli_verify_names_the_first_bad_record(vm: Cli, db_file: Path) -> None:
    _cli_history(vm)
    raw_sql(f"sqlite:///{db_file}",
            ["UPDATE events SET payload = replace(payload, 'ann', 'eve') WHERE seq = 2"])
    result = vm("evidence", "verify")
    assert result.exit_code == 1
    assert "record 2" in result.stderr


def test_cli_verify_detects_a_deleted_last_record(vm: Cli, db_file: Path) -> None:
    _cli_history(vm)
    raw_sql(f"sqlite:///{db_file}", ["DELETE FROM events WHERE seq = (SELECT max(seq) "
                                     "FROM events)"])
    result = vm("evidence", "verify")
    assert result.exit_code == 1 and "deleted" in result.stderr


def test_label_changes_of_the_tracker_are_in_the_log(vm: Cli) -> None:
    _cli_history(vm)
    with Store.open(vm.db_url) as store, store.reading() as conn:
        records = list(store_events.iter_events(conn))
    kinds = [e.kind for e in records]
    assert kinds[:3] == ["ticket_created", "label_change", "ticket_relabelled"]
    change = records[1].payload
    assert change["ticket"] == "VULN-1" and change["added"] == ["HIGH"]
    assert change["by"] == "ann"
    assert "run" in kinds and "policy_change" in kinds
    assert [e.seq for e in records] == list(range(1, len(records) + 1))


def test_broken_log_is_shown_in_the_next_report(vm: Cli, db_file: Path) -> None:
    _cli_history(vm)
    raw_sql(f"sqlite:///{db_file}", ["UPDATE events SET kind = 'forged' WHERE seq = 1"])
    report = vm.ok("report", "daily").stdout
    assert "EVIDENCE LOG BROKEN" in report and "record 1" in report


def test_concurrent_writers_keep_one_valid_chain(store_url: str) -> None:
    import threading

    Store.open(store_url).close()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with Store.open(store_url) as store:
                for i in range(15):
                    note(store, {"writer": name, "i": i}, T0)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    v = verify(store_url)
    assert v.ok and v.records == 45


def test_backdated_records_are_shown_but_not_called_tampering(vm: Cli) -> None:
    vm.ok("ticket", "new", "--title", "first", now="2026-11-27T07:00:00Z")
    vm.ok("ticket", "new", "--title", "second, backdated", now="2020-01-01T00:00:00Z")
    result = vm("evidence", "verify")
    assert result.exit_code == 0
    assert "evidence log OK" in result.stdout
    # both were dated by the override (the tests' --now): each is named with its wall clock
    assert "BACKDATED: 2 record(s) dated before they were written" in result.stdout
    assert "record 2 (ticket_created VULN-2): claims 2020-01-01T00:00:00Z" in result.stdout
