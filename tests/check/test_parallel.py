"""The multi-process evaluation of a large backlog gives exactly what the single-process path
gives (chosen with CheckOptions, on SQLite and PostgreSQL), never clears a ticket that changed
after a worker read it, and falls back when the workers cannot run."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core_support import APACHE_SAMPLE, APACHE_SAMPLE_SIZE
from vulnmark.check import engine, parallel
from vulnmark.check.engine import CheckOptions
from vulnmark.config.presets import preset
from vulnmark.model import TicketKey
from vulnmark.sources.files.load import load_file
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


SINGLE = CheckOptions(parallel=False)


def _single_process(path: Path) -> list[tuple[object, ...]]:
    with _store(path) as one:
        assert engine.refresh(one, POLICY, options=SINGLE) == N
        return _evaluations(one)


def test_workers_give_exactly_the_single_process_result(tmp_path: Path, store_url: str) -> None:
    expected = _single_process(tmp_path / "one.db")
    # every ticket through the workers, several ranges in flight
    pool = CheckOptions(parallel_min=0, chunk=200, workers=2)
    with _store(store_url) as many:  # SQLite and PostgreSQL
        assert engine.refresh(many, POLICY, options=pool) == N
        assert _evaluations(many) == expected
        assert _pending(many) == 0
        assert engine.refresh(many, POLICY, options=pool) == 0  # nothing left to do


def test_a_shared_backlog_gives_exactly_the_single_process_result(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process takes ranges while the worker starts, the worker takes ranges once it
    answers, and the result is the single process's. The test waits for the worker before
    this process evaluates its first range, so the worker always takes part."""
    expected = _single_process(tmp_path / "one.db")
    starters: list[parallel._Starter] = []
    start = parallel._Starter.start

    def recorded(self: parallel._Starter) -> None:
        starters.append(self)
        start(self)

    here: list[int] = []
    refresh_here = engine._refresh_here

    def counted(*args: Any, **kwargs: Any) -> int:
        deadline = time.monotonic() + 120
        while not here and not starters[0].is_ready() and time.monotonic() < deadline:
            time.sleep(0.05)  # the first range waits for the worker
        assert starters[0].is_ready(), "the worker process never started"
        here.append(refresh_here(*args, **kwargs))
        return here[-1]

    written: list[int] = []
    write = parallel._write
    monkeypatch.setattr(parallel._Starter, "start", recorded)
    monkeypatch.setattr(engine, "_refresh_here", counted)
    monkeypatch.setattr(parallel, "_write", lambda *a, **k: written.append(write(*a, **k))
                        or written[-1])
    # PARALLEL_MIN stays above 1,200: shared; 1,200 // 32 = 37 tickets a range
    shared = CheckOptions(shared_min=0, shared_chunk=20, workers=2)
    with _store(store_url) as many:  # SQLite and PostgreSQL
        assert engine.refresh(many, POLICY, options=shared) == N
        assert _evaluations(many) == expected
        assert _pending(many) == 0
    assert here and all(n <= 40 for n in here), here  # this process took ranges
    assert written and sum(written) > 0, "the worker took no range"
    assert sum(here) + sum(written) == N


def test_a_ticket_changed_after_the_worker_read_it_stays_pending(tmp_path: Path) -> None:
    with _store(tmp_path / "race.db") as store:
        with store.reading() as conn:
            keys = sorted(conn.execute(select(dirty_tickets.c.key)).scalars())[:2]
        rows: list[tuple[object, ...]] = []
        stale = [(keys[0], "0" * 64)]  # the worker saw another version of this ticket
        with store.reading() as conn:
            current = conn.execute(select(tickets.c.content_hash).where(
                tickets.c.key == keys[1])).scalar_one()
        parallel._write(store, (rows, stale + [(keys[1], current)], []),
                        progress=None)
        with store.reading() as conn:
            pending = set(conn.execute(select(dirty_tickets.c.key)).scalars())
        assert keys[0] in pending and keys[1] not in pending


@pytest.mark.parametrize("mode", ["pool", "shared"])
def test_without_workers_this_process_does_everything(
        mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "pool":  # no worker process can start at all
        options = CheckOptions(parallel_min=0, workers=2)
        monkeypatch.setattr(parallel, "refresh", _broken)
    else:  # the worker starts but never answers: this process takes every range
        options = CheckOptions(shared_min=0, workers=2)
        monkeypatch.setattr(parallel, "_ready", _never_ready)
    with _store(tmp_path / "fallback.db") as store:
        assert engine.refresh(store, POLICY, options=options) == N
        assert _pending(store) == 0
        assert len(_evaluations(store)) == N


def _broken(*_a: object, **_k: object) -> int:
    raise OSError("no processes here")


def _never_ready() -> bool:
    raise RuntimeError("this worker cannot work")


def test_rules_survive_the_trip_to_a_worker() -> None:
    import pickle

    rules = POLICY.outcomes
    assert pickle.loads(pickle.dumps(rules)) == rules
