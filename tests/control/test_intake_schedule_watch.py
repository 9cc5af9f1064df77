"""Threat intake inside the control loop, with real processes, a real SMTP server (aiosmtpd on
127.0.0.1) and the NVD emulator (checked against the NVD's schema): ``schedule`` runs the live
intake before the daily report and records it, and a failed intake does not stop the report,
whose control health shows it; ``watch`` polls the intake at each tick, and a new CRITICAL
intake ticket alerts like any other new ticket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from core_support import Cli, smtp_sink
from intake_support import cve, official_nvd_check
from vulnmark.testing import NvdEmulator
from vulnmark.testing.server import serve_in_thread

NOW = "2026-11-27T07:30:00Z"  # the 07:00 slot is due
KEY = "k-1f2e3d"


@dataclass
class Site:
    """The NVD emulator and the mail server of one test, and the configuration using both."""

    emu: NvdEmulator
    config: Path
    received: list[bytes]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    emu = NvdEmulator(api_keys={KEY}, validator=official_nvd_check)
    emu.add([cve(1, modified="2026-11-26T09:00:00.000"),
             cve(2, score=9.8, severity="CRITICAL", modified="2026-11-26T10:00:00.000")])
    with serve_in_thread(emu) as url, smtp_sink() as (port, received):
        yield Site(emu, _config(tmp_path, f"{url}/rest/json/cves/2.0", port), received)


def _config(tmp_path: Path, nvd_url: str, port: int) -> Path:
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text(f"""recipients = ["mso@example.org"]
[smtp]
host = "127.0.0.1"
port = {port}
retries = 1
backoff = 0.0
[schedule]
cron = "0 7 * * *"
[intake]
vendors = ["OpenSSL"]
clock_from = "first_seen"
nvd_url = "{nvd_url}"
""", encoding="utf-8")
    return cfg


def _schedule_once(vm: Cli, cfg: Path, key: str, db: str | None = None
                   ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VULNMARK_ALLOW_CLOCK_OVERRIDE": "1", "VULNMARK_NVD_API_KEY": key}
    return subprocess.run([sys.executable, "-m", "vulnmark", "--db", db or vm.db_url, "--config",
                           str(cfg), "--now", NOW, "schedule", "--once"], env=env, text=True,
                          capture_output=True, cwd=cfg.parent, timeout=300, check=False)


def _text(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_schedule_runs_the_intake_before_the_report_and_records_it(vm: Cli, site: Site
                                                                   ) -> None:
    emu, cfg, received = site.emu, site.config, site.received
    done = _schedule_once(vm, cfg, KEY)
    assert done.returncode == 0, done.stderr
    assert "intake: 2 records read, opened 2, updated 0" in done.stdout
    assert done.stdout.index("intake:") < done.stdout.index("report run")
    (mail,) = received
    text = _text(mail)
    # the report of the same run already has the tickets the intake opened
    assert "VULN-2" in text and "Intake" in text
    assert "Intake: last run at 2026-11-27T07:30:00" in text
    runs = json.loads(vm.ok("runs", "--kind", "intake", "--format", "json",
                            config=cfg).output)
    assert [(r["kind"], r["counts"]["opened"], r["error"]) for r in runs] == [
        ("intake", 2, None)]
    assert emu.requests and all(q.keyed for q in emu.requests) and emu.violations == 0


def test_a_failed_intake_does_not_stop_the_report(vm: Cli, site: Site) -> None:
    cfg, received = site.config, site.received
    done = _schedule_once(vm, cfg, "not-the-key")
    assert done.returncode == 0, done.stderr
    assert "intake failed: the NVD API refused the API key" in done.stderr
    assert "report run" in done.stdout and "sent" in done.stdout
    (mail,) = received
    text = _text(mail)
    assert "FAILED INTAKE at 2026-11-27T07:30:00" in text and "refused the API key" in text
    assert "not-the-key" not in text and "not-the-key" not in done.stderr
    runs = json.loads(vm.ok("runs", "--kind", "intake", "--format", "json",
                            config=cfg).output)
    assert len(runs) == 1 and "refused the API key" in runs[0]["error"]


def test_watch_polls_the_intake_and_a_new_critical_ticket_alerts(vm: Cli, site: Site) -> None:
    emu, cfg, received = site.emu, site.config, site.received
    env = {"VULNMARK_NVD_API_KEY": KEY}
    first = vm.ok("watch", "--once", now="2026-11-27T07:00:00Z", config=cfg, env=env).output
    assert "first tick" in first and received == []  # what intake opened now is baseline
    # a CRITICAL OpenSSL record published after the first tick
    emu.add([cve(4, score=9.1, severity="CRITICAL", modified="2026-11-27T07:03:00.000")])
    second = vm.ok("watch", "--once", now="2026-11-27T07:05:00Z", config=cfg, env=env).output
    assert "ALERT VULN-3 short deadline (class CRITICAL)" in second
    assert "ALERT VULN-3 assessment due soon (class CRITICAL)" in second
    (mail,) = received
    body = _text(mail)
    assert "VULN-3 [short deadline] CVE-2026-0004" in body
    third = vm.ok("watch", "--once", now="2026-11-27T07:10:00Z", config=cfg, env=env).output
    assert "nothing new" in third and len(received) == 1
    runs = json.loads(vm.ok("runs", "--kind", "intake", "--format", "json",
                            config=cfg).output)
    assert [r["counts"]["opened"] for r in runs] == [0, 1, 2]  # newest first
    assert emu.violations == 0


def test_with_intake_schedule_starts_on_a_new_store(vm: Cli, site: Site, tmp_path: Path) -> None:
    """The intake fills the store, as `intake run` does: no `vulnmark init` first."""
    fresh = tmp_path / "new.db"
    done = _schedule_once(vm, site.config, KEY, db=f"sqlite:///{fresh}")
    assert done.returncode == 0, done.stderr
    assert "opened 2" in done.stdout and fresh.is_file() and len(site.received) == 1
