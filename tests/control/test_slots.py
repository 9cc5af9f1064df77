"""Exactly one delivered report per slot (issue 11, F3 of the reliability report): N real
``vulnmark schedule --once`` processes started together against one store (SQLite and
PostgreSQL) send one email; a crashed holder's claim is taken over after its lease; a preview or
a failed delivery never covers the slot, and the failed run is resent as it was."""

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
from vulnmark.store import Store, slots

NOW = "2026-11-27T07:30:00Z"
SLOT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(envelope.content)
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    box, port = Sink(), _port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _config(tmp_path: Path, port: int) -> Path:
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text(f"""recipients = ["mso@example.org"]
[smtp]
host = "127.0.0.1"
port = {port}
retries = 1
backoff = 0.0
timeout = 20
[schedule]
cron = "0 7 * * *"
""", encoding="utf-8")
    return cfg


def _store(url: str) -> str:
    with Store.open(url) as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"))],
                             at=SLOT - timedelta(days=1), actor="ann")
    return url


def _start(url: str, cfg: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VULNMARK_ALLOW_CLOCK_OVERRIDE": "1"}
    return subprocess.Popen([sys.executable, "-m", "vulnmark", "--db", url, "--config",
                             str(cfg), "--now", NOW, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cfg.parent)


def _run(url: str, cfg: Path, *args: str) -> tuple[int, str]:
    proc = _start(url, cfg, *args)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 5, 10])
def test_n_schedulers_at_the_same_moment_send_one_report(
        store_url: str, tmp_path: Path, sink: tuple[Sink, int], n: int) -> None:
    box, port = sink
    cfg = _config(tmp_path, port)
    url = _store(store_url)
    procs = [_start(url, cfg, "schedule", "--once") for _ in range(n)]
    results = [(p.wait(timeout=300), p.communicate()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert len(box.messages) == 1, [out for _, (out, _) in results]
    # a later tick finds the slot covered
    code, out = _run(url, cfg, "schedule", "--once")
    assert code == 0 and "nothing due" in out and len(box.messages) == 1


def test_a_crashed_holders_claim_is_taken_over_after_its_lease(
        tmp_path: Path, sink: tuple[Sink, int]) -> None:
    box, port = sink
    cfg = _config(tmp_path, port)
    url = _store(f"sqlite:///{tmp_path / 's.db'}")
    with Store.open(url) as store:  # a holder that died 20 minutes into its 15-minute lease
        assert slots.claim(store, SLOT, "dead-host:1", SLOT + timedelta(minutes=10)) is not None
    code, out = _run(url, cfg, "schedule", "--once")
    assert code == 0 and len(box.messages) == 1, out
    with Store.open(url) as store:
        assert slots.covered(store, SLOT) is True


def test_a_live_holders_claim_is_respected(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    box, port = sink
    cfg = _config(tmp_path, port)
    url = _store(f"sqlite:///{tmp_path / 's.db'}")
    with Store.open(url) as store:  # claimed five minutes ago: still running elsewhere
        assert slots.claim(store, SLOT, "other-host:7", SLOT + timedelta(minutes=25)) is not None
    code, out = _run(url, cfg, "schedule", "--once")
    assert code == 0 and "held by another scheduler" in out and box.messages == []


def test_a_preview_does_not_cover_the_slot(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    box, port = sink
    cfg = _config(tmp_path, port)
    url = _store(f"sqlite:///{tmp_path / 's.db'}")
    assert _run(url, cfg, "report", "daily")[0] == 0  # a preview at 07:30
    code, out = _run(url, cfg, "schedule", "--once")
    assert code == 0 and len(box.messages) == 1, out


def test_a_failed_delivery_is_resent_as_the_same_run(tmp_path: Path,
                                                    sink: tuple[Sink, int]) -> None:
    box, port = sink
    url = _store(f"sqlite:///{tmp_path / 's.db'}")
    down = _config(tmp_path, _port())  # nothing listens there: the outage
    code, out = _run(url, down, "schedule", "--once")
    assert code == 3 and box.messages == [], out
    cfg = _config(tmp_path, port)
    code, out = _run(url, cfg, "schedule", "--once")
    assert code == 0 and "report run 1 resent" in out, out
    assert len(box.messages) == 1 and b"(resent)" in box.messages[0]
    code, out = _run(url, cfg, "runs", "--kind", "report", "--format", "csv")
    assert out.count("\n1,report,") == 1 and ",delivered," in out and "\n2," not in out
    code, out = _run(url, cfg, "schedule", "--once")
    assert "nothing due" in out and len(box.messages) == 1


def test_report_resend_sends_a_stored_run_again(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    box, port = sink
    cfg = _config(tmp_path, port)
    url = _store(f"sqlite:///{tmp_path / 's.db'}")
    assert _run(url, cfg, "report", "daily")[0] == 0
    code, out = _run(url, cfg, "report", "resend", "1")
    assert code == 0 and "run 1 sent to mso@example.org" in out, out
    assert len(box.messages) == 1
    code, out = _run(url, cfg, "report", "resend", "9")
    assert code == 2 and "run 9: no stored report" in out
    code, out = _run(url, cfg, "evidence", "verify")
    assert code == 0, out


def test_resend_sends_the_email_as_it_was_sent_not_the_full_report(
        vm: Any, tmp_path: Path) -> None:
    """A resend is the summary email of the run with the full report attached, the same parts
    as the first delivery; a run kept without sending is resent as that email too; the pack
    holds the email as sent and verifies."""
    from email import message_from_bytes, policy

    from core_support import smtp_sink

    def parts(raw: bytes) -> tuple[str, str, list[str]]:
        msg = message_from_bytes(raw, policy=policy.default)
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        names = sorted(str(a.get_filename()) for a in msg.iter_attachments())  # type: ignore[attr-defined]
        return text, html, names

    for i in range(40):  # more findings than the email lists (report.mail_items = 25)
        vm.ok("ticket", "new", "--title", f"Unrated issue {i}", "--label", "Vulnerability")
    with smtp_sink() as (port, got):
        env = {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)}
        to = ("--to", "mso@example.org")
        vm.ok("report", "daily", "--send", *to, env=env)
        vm.ok("report", "resend", "1", *to, env=env)
        vm.ok("report", "daily", "-o", str(tmp_path / "kept.txt"))  # run 2: kept, not sent
        vm.ok("report", "resend", "2", *to, env=env)
    first, again, kept = (parts(raw) for raw in got)
    assert again == first
    assert "... and 15 more" in first[0]  # the summary, not the 40 findings of the full report
    assert first[2] == ["vulnmark-report-2026-11-27.csv", "vulnmark-report-2026-11-27.html"]
    assert "... and 15 more" in kept[0] and kept[2] == ["vulnmark-report-2026-11-27.html"]
    assert b"(resent)" in got[1]
    pack = tmp_path / "pack.zip"
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-12-01", "-o", str(pack))
    import zipfile
    names = zipfile.ZipFile(pack).namelist()
    assert {"reports/run-000001.mail.txt", "reports/run-000001.mail.html",
            "reports/run-000001.csv", "reports/run-000002.mail.txt"} <= set(names)
    assert "reports/run-000002.csv" not in names
    checked = vm("evidence", "verify", "--pack", str(pack))  # the mail bodies are bound too
    assert checked.exit_code == 4 and "pack consistent but unsigned" in checked.output
