"""The multi-process evaluation of a large backlog gives exactly what the single-process path
gives, never clears a ticket that changed after a worker read it, and falls back when the
workers cannot run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core_support import APACHE_SAMPLE, APACHE_SAMPLE_SIZE
from vulnmark import evaluate, fanout
from vulnmark.model import TicketKey
from vulnmark.outcomes import OutcomeRules
from vulnmark.policy import preset
from vulnmark.sources.files import load_file
from vulnmark.store import Store
from vulnmark.store.schema import dirty_tickets, evaluations, tickets

POLICY = preset("etsi-319-401")
COPIES = 40
N = COPIES * APACHE_SAMPLE_SIZE


def _store(path: Path | str) -> Store:
    store = Store.open(path if isinstance(path, str) else f"sqlite:///{path}")
    # the vendored real Apache issues, 40 times under other keys
    tickets = [replace(t, key=TicketKey(f"{t.key}-{i:02d}")) for i in range(COPIES)
               for t in load_file(APACHE_SAMPLE)]
    # one poisoned ticket (F1): the workers must report it as bad_date like this process does
    poison = replace(tickets[0], key=TicketKey("ZZZ-1"), labels=("Vulnerability", "CRITICAL"),
                     discovered=datetime(9999, 12, 31, tzinfo=UTC))
    store.upsert_tickets([*tickets[1:], poison])
    return store


def _evaluations(store: Store) -> list[tuple[object, ...]]:
    with store.reading() as conn:
        return [tuple(r) for r in conn.execute(select(evaluations)
                                               .order_by(evaluations.c.ticket_key))]


def _pending(store: Store) -> int:
    with store.reading() as conn:
        return len(conn.execute(select(dirty_tickets.c.key)).all())


def test_workers_give_exactly_the_single_process_result(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with _store(tmp_path / "one.db") as one:
        evaluate.refresh(one, POLICY)
        expected = _evaluations(one)
    monkeypatch.setattr(evaluate, "PARALLEL_MIN", 0)
    monkeypatch.setattr(fanout, "CHUNK", 200)  # several ranges, several in flight
    monkeypatch.setattr(evaluate.os, "cpu_count", lambda: 2)
    with _store(tmp_path / "many.db") as many:
        assert evaluate.refresh(many, POLICY) == N
        assert _evaluations(many) == expected
        assert _pending(many) == 0
        assert evaluate.refresh(many, POLICY) == 0  # nothing left to do


def test_a_shared_backlog_gives_exactly_the_single_process_result(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with _store(tmp_path / "one.db") as one:
        evaluate.refresh(one, POLICY)
        expected = _evaluations(one)
    shared: list[int] = []
    here = evaluate._refresh_here

    def counted(*args: Any, **kwargs: Any) -> int:
        shared.append(here(*args, **kwargs))
        return shared[-1]

    monkeypatch.setattr(evaluate, "SHARED_MIN", 0)  # PARALLEL_MIN stays above 1,200
    monkeypatch.setattr(evaluate, "SHARED_CHUNK", 20)  # 1,200 // 32 = 37 a range
    monkeypatch.setattr(evaluate, "_refresh_here", counted)
    monkeypatch.setattr(evaluate.os, "cpu_count", lambda: 2)
    written: list[int] = []
    write = fanout._write
    monkeypatch.setattr(fanout, "_write", lambda *a, **k: written.append(write(*a, **k))
                        or written[-1])
    with _store(store_url) as many:  # SQLite and PostgreSQL
        assert evaluate.refresh(many, POLICY) == N
        assert _evaluations(many) == expected
        assert _pending(many) == 0
    # this process took ranges while the worker started, and the worker took the rest
    # (unless it never started in time: then this process did everything)
    assert shared and all(n <= 40 for n in shared)
    assert sum(shared) + sum(written) == N


def test_a_ticket_changed_after_the_worker_read_it_stays_pending(tmp_path: Path) -> None:
    with _store(tmp_path / "race.db") as store:
        with store.reading() as conn:
            keys = sorted(conn.execute(select(dirty_tickets.c.key)).scalars())[:2]
        rows: list[tuple[object, ...]] = []
        stale = [(keys[0], "0" * 64)]  # the worker saw another version of this ticket
        with store.reading() as conn:
            current = conn.execute(select(tickets.c.content_hash).where(
                tickets.c.key == keys[1])).scalar_one()
        fanout._write(store, (rows, stale + [(keys[1], current)], []), fresh=True,
                      progress=None)
        with store.reading() as conn:
            pending = set(conn.execute(select(dirty_tickets.c.key)).scalars())
        assert keys[0] in pending and keys[1] not in pending


@pytest.mark.parametrize("mode", ["pool", "shared"])
def test_without_workers_this_process_does_everything(
        mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate.os, "cpu_count", lambda: 2)
    if mode == "pool":  # no worker process can start at all
        monkeypatch.setattr(evaluate, "PARALLEL_MIN", 0)
        monkeypatch.setattr(fanout, "refresh", _broken)
    else:  # the worker starts but never answers: this process takes every range
        monkeypatch.setattr(evaluate, "SHARED_MIN", 0)
        monkeypatch.setattr(fanout, "_ready", _never_ready)
    with _store(tmp_path / "fallback.db") as store:
        assert evaluate.refresh(store, POLICY) == N
        assert _pending(store) == 0
        assert len(_evaluations(store)) == N


def _broken(*_a: object, **_k: object) -> int:
    raise OSError("no processes here")


def _never_ready() -> bool:
    raise RuntimeError("this worker cannot work")


def test_rules_survive_the_trip_to_a_worker() -> None:
    import pickle

    rules = OutcomeRules.from_policy(POLICY)
    assert pickle.loads(pickle.dumps(rules)) == rules
