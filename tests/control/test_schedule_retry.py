"""The ``schedule`` daemon retries a failed delivery inside its slot (issue 11): the same run is
resent after ``schedule.retry_seconds``, the wait doubling up to ``schedule.retry_max_seconds``,
until it is delivered or the slot ends; a slot that ends undelivered is listed as missed.

Real SMTP servers (aiosmtpd on 127.0.0.1) refuse and accept; the daemon runs as a real process
where its clock can stand still (``--now``), and in-process where the test must move the clock
to the slot's end without waiting for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core_support import make_ticket
from vulnmark.config.load import from_mapping
from vulnmark.control import daily, slot_run
from vulnmark.control.health import control_health
from vulnmark.control.schedule import Loop
from vulnmark.deliver import SmtpNotifier, smtp_settings_from_env
from vulnmark.store import Store
from vulnmark.store import runs as store_runs

NOW = "2026-11-27T07:30:00Z"
SLOT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


class Flaky:
    """An SMTP server that answers DATA with a temporary error ``refuse`` times, then accepts."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.attempts: list[bytes] = []
        self.accepted: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.attempts.append(envelope.content)
            if len(self.attempts) <= self.refuse:
                return "451 4.3.0 mailbox busy, try again later"
            self.accepted.append(envelope.content)
            return "250 OK"


def _serve(refuse: int) -> Iterator[tuple[Flaky, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    box = Flaky(refuse)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def refuses_once() -> Iterator[tuple[Flaky, int]]:
    yield from _serve(1)


@pytest.fixture
def refuses_always() -> Iterator[tuple[Flaky, int]]:
    yield from _serve(10_000)


def _config(port: int, retry: float, retry_max: float) -> dict[str, Any]:
    return {"recipients": ["mso@example.org"],
            "smtp": {"host": "127.0.0.1", "port": port, "retries": 1, "backoff": 0.0,
                     "timeout": 20},
            "schedule": {"cron": "0 7 * * *", "timezone": "UTC", "retry_seconds": retry,
                         "retry_max_seconds": retry_max}}


def _store(url: str) -> None:
    with Store.open(url) as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"))],
                             at=SLOT - timedelta(days=1), actor="ann")


def test_the_daemon_resends_the_same_run_when_the_server_accepts_again(
        tmp_path: Path, refuses_once: tuple[Flaky, int]) -> None:
    box, port = refuses_once
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text(f"""recipients = ["mso@example.org"]
[smtp]
host = "127.0.0.1"
port = {port}
retries = 1
backoff = 0.0
[schedule]
cron = "0 7 * * *"
timezone = "UTC"
retry_seconds = 0.05
retry_max_seconds = 0.2
""", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 's.db'}"
    _store(url)
    env = {**os.environ, "VULNMARK_ALLOW_CLOCK_OVERRIDE": "1"}
    # the daemon (not --once): catch-up run refused, then one retry inside the slot
    proc = subprocess.run([sys.executable, "-m", "vulnmark", "--db", url, "--config", str(cfg),
                           "--now", NOW, "schedule", "--max-runs", "2"], env=env, text=True,
                          capture_output=True, timeout=300, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert len(box.attempts) == 2 and len(box.accepted) == 1, out
    assert "retrying the slot 2026-11-27T07:00:00+00:00 in 0 s" in out
    assert "report run 1 resent sent <" in out
    assert b"(resent)" in box.accepted[0]
    with Store.open(url) as store:
        reports = store_runs.list_runs(store, kind="report")
    assert [(r.id, r.delivery_status) for r in reports] == [(1, "delivered")]


class VirtualTime(threading.Event):
    """The loop's clock and its only sleep: a wait moves the clock instead of sleeping, and
    stops the loop once the clock reaches ``end``."""

    def __init__(self, start: datetime, end: datetime) -> None:
        super().__init__()
        self.at, self.end = start, end
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.at

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        self.at += timedelta(seconds=timeout)
        if self.at >= self.end:
            self.at = self.end
            self.set()
        return self.is_set()


def test_retries_back_off_and_stop_at_the_slots_end_which_is_then_reported_missed(
        tmp_path: Path, refuses_always: tuple[Flaky, int]) -> None:
    box, port = refuses_always
    config = from_mapping(_config(port, retry=3600, retry_max=4 * 3600))
    assert config.schedule is not None
    url = f"sqlite:///{tmp_path / 's.db'}"
    _store(url)
    next_slot = SLOT + timedelta(days=1)
    time = VirtualTime(SLOT + timedelta(minutes=30), next_slot)  # stop at the next slot
    attempts: list[datetime] = []
    with Store.open(url) as store:
        notifier = SmtpNotifier(smtp_settings_from_env(config.smtp, {}), None,
                                sleep=lambda s: None)
        job = daily.DailyJob(store, config, notifier=notifier)

        def run(now: datetime) -> None:
            attempts.append(now)
            slot_run.run_slot(store, job, config.schedule.previous(now) or now, now)  # type: ignore[union-attr]

        loop = Loop(config.schedule, run, lambda s, n: slot_run.covered(store, s, n),
                    clock=time.now, stop=time)
        loop.serve()
        hours = [(a - SLOT).total_seconds() / 3600 for a in attempts]
        # 07:30, then 1, 2, 4, 4, 4, 4, 4 h later (capped); at 06:30 the next wait of 4 h
        # would pass the slot's end (07:00 the next day): no retry, the loop waits for the
        # next slot (30 min)
        assert hours == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5], hours
        assert time.waits == [3600, 7200, *[14400] * 5, 1800]
        assert len(box.attempts) == len(attempts) and box.accepted == []
        reports = store_runs.list_runs(store, kind="report")
        assert [r.id for r in reports] == [1] and reports[0].delivery_status == "failed"
        # the slot ended undelivered: the next report lists it as missed
        health = control_health(store, config.policy, next_slot + timedelta(hours=2),
                                config.schedule)
        assert SLOT.date() in health.missed_days
