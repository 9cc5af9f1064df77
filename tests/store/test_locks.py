"""F4: evaluations, imports, syncs, reports and the scheduler running at once on one store
(SQLite file and PostgreSQL) all finish, with the evaluations one process alone would store.
Every actor is a real process, started together. At 3,000 tickets the code before the fix
failed this test (UNIQUE constraint failed: evaluations.ticket_key); at 600 it did not."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from core_support import APACHE_SAMPLE
from vulnmark.check import engine
from vulnmark.check.engine import CheckOptions
from vulnmark.config.presets import preset
from vulnmark.model import TicketKey
from vulnmark.sources.files.load import load_file
from vulnmark.store import Store
from vulnmark.store.locks import lock_file
from vulnmark.store.schema import dirty_tickets, evaluations
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

POLICY = preset("etsi-319-401")
COPIES = 100

# A library evaluation with thresholds low enough that the backlog goes to worker processes
# (the path that failed: UNIQUE constraint failed: evaluations.ticket_key).
EVALUATE = """
import sys, time
from vulnmark.check import engine
from vulnmark.check.engine import CheckOptions
from vulnmark.config.presets import preset
from vulnmark.store import Store
store = Store.open(sys.argv[1], create=False)
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(engine.refresh(store, preset("etsi-319-401"),
      options=CheckOptions(parallel_min=500, shared_min=100, chunk=300, workers=2)))
"""


def _tickets() -> list:  # type: ignore[type-arg]
    return [replace(t, key=TicketKey(f"{t.key}-{i:02d}")) for i in range(COPIES)
            for t in load_file(APACHE_SAMPLE)]


def _evaluations(store: Store) -> list[tuple[object, ...]]:
    with store.reading() as conn:
        return [tuple(r) for r in conn.execute(select(evaluations)
                                               .order_by(evaluations.c.ticket_key))]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VULNMARK_", "JIRA_"))}
    env.update(JIRA_EMAIL="a@example.org", JIRA_TOKEN="tok")
    return env


@pytest.mark.slow
def test_f4_concurrent_check_report_import_sync_schedule_all_finish(
        store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url) as store:
        store.upsert_tickets(_tickets())
    emu = JiraEmulator(auth={JiraEmulator.basic("a@example.org", "tok")})
    emu.generate(40, project="SEC")
    env = _env()
    with serve_in_thread(emu) as url:
        cfg = tmp_path / "v.toml"
        cfg.write_text(f'[source.jira]\nurl = "{url}"\nflavour = "cloud"\n'
                       'jql = "project = SEC"\n', encoding="utf-8")
        cli = [sys.executable, "-m", "vulnmark", "--db", store_url, "--config", str(cfg)]
        start = f"{time.time() + 3:.3f}"
        commands = [
            [sys.executable, "-c", EVALUATE, store_url, start],
            [sys.executable, "-c", EVALUATE, store_url, start],
            [sys.executable, "-c", EVALUATE, store_url, start],
            [*cli, "check", "--format", "json"],
            [*cli, "report", "daily"],
            [*cli, "list"],
            [*cli, "import", str(APACHE_SAMPLE)],
            [*cli, "sync"],
            [*cli, "schedule", "--once", "--no-send"],
        ]
        logs = [tmp_path / f"out-{i}.txt" for i in range(len(commands))]
        procs = []
        for command, log in zip(commands, logs, strict=True):
            with log.open("w") as out:  # files, not pipes: nobody blocks on a full pipe
                procs.append(subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out,
                                              stderr=subprocess.STDOUT))
        codes = [p.wait(timeout=300) for p in procs]
    outcomes = [(c[-3:], code, log.read_text()) for c, code, log in zip(commands, codes, logs,
                                                                         strict=True)]
    for command, code, err in outcomes:
        assert code == 0 and "Traceback" not in err, (command, err)
    with Store.open(store_url, create=False) as store:
        # everything written meanwhile is evaluated by one more pass, as one process would
        engine.refresh(store, POLICY, options=CheckOptions(parallel=False))
        with store.reading() as conn:
            assert conn.execute(select(dirty_tickets.c.key)).first() is None
        got = _evaluations(store)
        everything = list(store.iter_tickets(history=True))
    with Store.open(f"sqlite:///{tmp_path / 'alone.db'}") as alone:
        alone.upsert_tickets(everything)
        engine.refresh(alone, POLICY, options=CheckOptions(parallel=False))
        assert got == _evaluations(alone)
    assert len(got) == COPIES * 30 + 30 + 40


def test_f4_the_evaluation_lock_is_a_private_file_next_to_the_store(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        engine.refresh(store, POLICY)
        path = lock_file(store.engine, "evaluate")
    assert path == tmp_path / "s.db.evaluate.lock"
    assert path.exists() and path.stat().st_mode & 0o777 == 0o600
