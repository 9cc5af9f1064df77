"""F1 of the reliability report: one ticket dated 9999 must not stop the daily control.

A ticket whose created or discovery date is implausible (outside ``dates.earliest`` …
evaluation + ``dates.future_days``) is a ``bad_date`` finding in label hygiene; no deadline is
computed from that date; every command goes on and the daily run is recorded and mailed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import core_support
from core_support import Cli
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

NOW = "2026-11-27T07:00:00Z"


def _jsonl(path: Path, *tickets: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tickets), encoding="utf-8")
    return path


POISON = {"key": "P-1", "title": "x", "created": "9999-12-31T00:00:00Z",
          "labels": ["Vulnerability", "CRITICAL"]}
FUTURE_DISCOVERY = {"key": "P-2", "title": "Outdated OpenSSL on the RA",
                    "created": "2026-11-20T07:00:00Z", "discovered": "9999-12-31",
                    "labels": ["Vulnerability", "CRITICAL"]}
NORMAL = {"key": "OK-1", "title": "Weak ciphers", "created": "2026-11-26T07:00:00Z",
          "labels": ["Vulnerability", "HIGH"]}


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    with core_support.smtp_sink() as sink:
        yield sink


def test_f1_a_ticket_dated_9999_is_a_finding_not_a_crash(vm: Cli, tmp_path: Path) -> None:
    vm.ok("import", str(_jsonl(tmp_path / "t.jsonl", POISON, FUTURE_DISCOVERY, NORMAL)))
    out = vm.ok("check", "--format", "json").stdout
    doc = json.loads(out)
    bad = {f["ticket"]: f for f in doc["findings"] if f["kind"] == "bad_date"}
    assert set(bad) == {"P-1", "P-2"}
    assert doc["summary"]["by_kind"]["bad_date"] == 2
    # P-2 has a plausible creation time: its deadline counts from there (48 h, ETSI)
    assert bad["P-2"]["due_at"] == "2026-11-22T07:00:00Z"
    overdue = {f["ticket"] for f in doc["findings"] if f["kind"] == "overdue"}
    assert "P-2" in overdue  # the implausible discovery date did not hide the overdue ticket
    assert bad["P-1"]["due_at"] is None
    table = vm.ok("check").stdout
    assert "P-1" in table and "bad_date" in table and "implausible date" in table
    listing = vm.ok("list", "--format", "json").stdout
    assert {"P-1", "P-2", "OK-1"} <= {r["ticket"] for r in json.loads(listing)}


def test_f1_the_daily_report_is_recorded_and_mailed(vm: Cli, tmp_path: Path,
                                                     smtp_sink: tuple[int, list[bytes]]) -> None:
    port, received = smtp_sink
    vm.ok("import", str(_jsonl(tmp_path / "t.jsonl", POISON, NORMAL)))
    env = {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)}
    vm.ok("report", "daily", "--send", "--to", "mso@example.org", env=env)
    assert len(received) == 1 and b"P-1" in received[0]
    runs = vm.ok("runs", "--format", "json").stdout
    assert any(r["kind"] == "report" and r["delivery"] == "delivered"
               for r in json.loads(runs))
    cfg = tmp_path / "s.toml"
    cfg.write_text('recipients = ["mso@example.org"]\n[schedule]\ncron = "0 7 * * *"\n',
                   encoding="utf-8")
    vm.ok("schedule", "--once", config=cfg, env=env, now="2026-11-28T07:30:00Z")


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_f1_m4_times_that_overflow_in_utc_are_an_input_error(vm: Cli, tmp_path: Path,
                                                             created: str) -> None:
    result = vm("import", str(_jsonl(tmp_path / "t.jsonl", {**NORMAL, "created": created})))
    assert result.exit_code == 2, result.output
    assert "created" in result.stderr and "out of range" in result.stderr


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z"])
def test_f1_an_evaluation_instant_out_of_range_is_refused(vm: Cli, now: str) -> None:
    result = vm("report", "daily", now=now)
    assert result.exit_code == 2
    assert "--now" in result.stderr


def test_f1_the_date_window_is_configurable(vm: Cli, tmp_path: Path) -> None:
    old = {**NORMAL, "key": "OLD-1", "created": "1995-03-01T00:00:00Z"}
    vm.ok("import", str(_jsonl(tmp_path / "t.jsonl", old)))
    assert "bad_date" not in vm.ok("check").stdout
    cfg = tmp_path / "d.toml"
    cfg.write_text("[dates]\nearliest = 2000-01-01\nfuture_days = 30\n", encoding="utf-8")
    assert "bad_date" in vm.ok("check", config=cfg).stdout
    for bad in ("earliest = \"yesterday\"", "future_days = 0", "future_days = 1.5",
                "horizon = 3"):
        cfg.write_text(f"[dates]\n{bad}\n", encoding="utf-8")
        result = vm("check", config=cfg)
        assert result.exit_code == 2 and "dates." in result.stderr, (bad, result.stderr)


@pytest.mark.parametrize("value", ["nan", "inf", "1e300", "-1"])
def test_f1_m12_deadlines_that_would_overflow_are_refused_at_load(vm: Cli, tmp_path: Path,
                                                                  value: str) -> None:
    cfg = tmp_path / "n.toml"
    cfg.write_text(f"[classes.CRITICAL]\ndeadline_hours = {value}\n", encoding="utf-8")
    result = vm("check", config=cfg)
    assert result.exit_code == 2, result.output
    assert "classes.CRITICAL.deadline_hours" in result.stderr
    cfg.write_text(f"due_soon_hours = {value}\n", encoding="utf-8")
    result = vm("check", config=cfg)
    assert result.exit_code == 2 and "due_soon_hours" in result.stderr


@pytest.mark.slow
def test_f1_a_jira_discovery_field_of_9999_does_not_stop_the_control(tmp_path: Path) -> None:
    emu = JiraEmulator(auth={JiraEmulator.basic("a@example.org", "tok")})
    emu.generate(5, project="SEC")
    first = sorted(emu.issues)[0]
    emu.issues[first].fields["customfield_10050"] = "9999-12-31"
    emu.issues[first].fields["labels"] = ["Vulnerability", "CRITICAL"]
    db = f"sqlite:///{tmp_path / 'v.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VULNMARK_", "JIRA_"))}
    env.update(JIRA_EMAIL="a@example.org", JIRA_TOKEN="tok")
    with serve_in_thread(emu) as url:
        cfg = tmp_path / "j.toml"
        cfg.write_text(f'[source.jira]\nurl = "{url}"\nflavour = "cloud"\njql = "project = SEC"\n'
                       'discovery_field = "customfield_10050"\n', encoding="utf-8")
        base = [sys.executable, "-m", "vulnmark", "--db", db, "--config", str(cfg)]
        sync = subprocess.run([*base, "sync"], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert sync.returncode == 0, sync.stderr
    for command in (["check", "--format", "json"], ["list"], ["report", "daily"]):
        done = subprocess.run([*base, *command], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
    doc = json.loads(subprocess.run([*base, "check", "--format", "json"], env=env, cwd=tmp_path,
                                    capture_output=True, text=True, timeout=120).stdout)
    assert [f["ticket"] for f in doc["findings"] if f["kind"] == "bad_date"] == [first]
