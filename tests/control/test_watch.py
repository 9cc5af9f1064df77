"""``vulnmark watch`` through the CLI with a real SMTP server (aiosmtpd on 127.0.0.1): the
first tick takes what is there as known; then one alert per ticket and reason, batched per
tick, never repeated, retried when the mail server was down, recorded as evidence."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core_support import Cli


@dataclass
class Sink:
    got: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.got.append(msg)
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, dict[str, str]]]:
    port = _port()
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)}
    controller.stop()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_alerts_once_per_ticket_and_reason(vm: Cli, sink: tuple[Sink, dict[str, str]]) -> None:
    handler, env = sink
    vm.ok("ticket", "new", "--title", "Old unclassified finding", "--label", "Vulnerability",
          now="2026-11-20T06:00:00Z")
    first = vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T06:01:00Z",
                  env=env).output
    assert "first tick: 1 alert(s) taken as known" in first and handler.got == []

    vm.ok("ticket", "new", "--title", "RCE in the OCSP responder", "--label", "Vulnerability",
          "--label", "CRITICAL", now="2026-11-20T07:05:00Z")
    vm.ok("ticket", "new", "--title", "XSS in the RA portal", "--label", "Vulnerability",
          now="2026-11-20T07:06:00Z")
    out = vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T07:10:00Z",
                env=env).output
    assert "ALERT VULN-2 short deadline (class CRITICAL)" in out
    assert "ALERT VULN-3 vulnerability without a classification" in out
    (msg,) = handler.got  # one mail per tick
    assert msg["Subject"] == ("[vulnmark] ALERT: 1 vulnerability without a classification, "
                              "1 short deadline")
    assert msg["To"] == "soc@ca.example"
    body = _body(msg)
    assert "VULN-2 [short deadline] RCE in the OCSP responder (class CRITICAL; due " \
           "2026-11-22 07:05 UTC)" in body
    assert "VULN-1" not in body

    again = vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T07:15:00Z",
                  env=env).output
    assert "nothing new" in again and len(handler.got) == 1

    soon = vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-21T08:00:00Z",
                 env=env).output  # 23 h before VULN-2's deadline: due_soon, once
    assert "ALERT VULN-2 due soon" in soon and len(handler.got) == 2
    assert "evidence log OK" in vm.ok("evidence", "verify").output


def test_an_undelivered_alert_is_sent_at_the_next_tick(vm: Cli,
                                                        sink: tuple[Sink, dict[str, str]]
                                                        ) -> None:
    handler, env = sink
    vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T06:00:00Z", env=env)
    vm.ok("ticket", "new", "--title", "Key compromise suspected", "--label", "Vulnerability",
          "--label", "CRITICAL", now="2026-11-20T07:05:00Z")
    down = {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(_port())}
    cfg = vm.workdir / "fast.toml"
    cfg.write_text("[smtp]\nretries = 1\nbackoff = 0.01\n")
    r = vm("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T07:10:00Z", env=down,
           config=cfg)
    assert r.exit_code == 0 and "alert NOT delivered" in r.stderr
    out = vm.ok("watch", "--once", "--to", "soc@ca.example", now="2026-11-20T07:15:00Z",
                env=env, config=cfg).output
    assert "ALERT VULN-1 short deadline" in out and len(handler.got) == 1


def test_bad_interval_and_no_recipients_exit_2(vm: Cli) -> None:
    r = vm("watch", "--interval", "soon", "--once")
    assert r.exit_code == 2 and "--interval" in r.stderr
    r = vm("watch", "--once")
    assert r.exit_code == 2 and "no recipients" in r.stderr


def test_the_loop_stops_on_sigterm(vm: Cli, tmp_path: Path) -> None:
    """A real process: ticks every second until SIGTERM, then exits 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "vulnmark", "--db", vm.db_url, "watch", "--interval", "1s",
         "--no-send"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    lines = [proc.stdout.readline(), proc.stdout.readline()]  # two ticks, a second apart
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "first tick" in lines[0] and "nothing new" in lines[1]


def test_schedule_runs_the_watch_beside_the_daily_job(vm: Cli, tmp_path: Path) -> None:
    """One process does both: `vulnmark schedule --watch 1s` ticks while it waits for the
    next slot, and stops on SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "vulnmark", "--db", vm.db_url, "schedule", "--no-send",
         "--watch", "1s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tmp_path)
    assert proc.stdout is not None
    lines = []
    while len([x for x in lines if "nothing new" in x or "first tick" in x]) < 2:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        lines.append(line)
    proc.terminate()
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert any("first tick" in x for x in lines) and any("nothing new" in x for x in lines)
