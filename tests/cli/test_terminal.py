"""What a person sees on a terminal: a progress bar with a length while a large first check
runs (nothing under cron), kinds and classes in colour, no colour with NO_COLOR or
--no-color. Real processes on a pseudo-terminal (see test_pty_smoke.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_pty_smoke import run_on_pty

from vulnmark.model import Ticket, TicketKey
from vulnmark.sources.files.jsonl import ticket_to_json

ESC = "\x1b["
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of 2,500 tickets that no check has seen (its first check takes a while)."""
    work = tmp_path_factory.mktemp("terminal")
    tickets = [Ticket(key=TicketKey(f"BIG-{i:05d}"), title=f"Ticket {i}: buffer overflow in "
                      "the CRL parser" if i % 7 == 0 else f"Ticket {i}",
                      labels=("Vulnerability", "CRITICAL") if i % 50 == 0 else (),
                      created=T0 + timedelta(minutes=i)) for i in range(2500)]
    (work / "big.jsonl").write_text("\n".join(json.dumps(ticket_to_json(t)) for t in tickets)
                                    + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "vulnmark", "--db", f"sqlite:///{work / 'v.db'}",
                    "import", "big.jsonl"], cwd=work, check=True, capture_output=True,
                   env=_env(work))
    (work / "pristine.db").write_bytes((work / "v.db").read_bytes())
    return work


def _env(work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VULNMARK_", "JIRA_", "NO_COLOR"))}
    env.update(TERM="xterm-256color", COLUMNS="160", LINES="40",
               VULNMARK_DB=f"sqlite:///{work / 'v.db'}", **extra)
    return env


def test_first_check_shows_a_bar_then_colours(big: Path) -> None:
    ran = run_on_pty([sys.executable, "-m", "vulnmark", "check"], env=_env(big), cwd=big)
    assert ran.code == 0, ran.output
    assert "Evaluating tickets" in ran.output and "2500/2500" in ran.output  # a length
    assert f"{ESC}36msuspected" in ran.output  # the kind in colour
    again = run_on_pty([sys.executable, "-m", "vulnmark", "list"], env=_env(big), cwd=big)
    assert "Evaluating tickets" not in again.output  # nothing left to evaluate: no bar
    assert f"{ESC}31m{ESC}1mCRITICAL" in again.output.replace(f"{ESC}1m{ESC}31m",
                                                             f"{ESC}31m{ESC}1m")


@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
def test_no_color(big: Path, how: str) -> None:
    extra = {"NO_COLOR": "1"} if how == "NO_COLOR" else {}
    argv = [sys.executable, "-m", "vulnmark", *(["--no-color"] if how != "NO_COLOR" else []),
            "list"]
    ran = run_on_pty(argv, env=_env(big, **extra), cwd=big)
    assert ran.code == 0 and "CRITICAL" in ran.output
    assert ESC not in ran.output


def test_quiet_and_plain_under_cron(tmp_path: Path, big: Path) -> None:
    """No terminal: no bar, no escape codes (on a copy of the store as imported, so the check
    is the same first, large one)."""
    (tmp_path / "v.db").write_bytes((big / "pristine.db").read_bytes())
    done = subprocess.run([sys.executable, "-m", "vulnmark", "check"], cwd=tmp_path,
                          capture_output=True, text=True, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Evaluating" not in done.stderr and ESC not in done.stdout + done.stderr
    assert "2500 tickets" in done.stdout and "suspected" in done.stdout


def test_a_first_daily_report_shows_the_bar_too(tmp_path: Path, big: Path) -> None:
    """``report daily`` evaluates what no check has seen: the same bar on a terminal, none
    under cron (a copy of the store as imported)."""
    (tmp_path / "v.db").write_bytes((big / "pristine.db").read_bytes())
    ran = run_on_pty([sys.executable, "-m", "vulnmark", "report", "daily", "-o", "r.txt"],
                     env=_env(tmp_path), cwd=tmp_path)
    assert ran.code == 0, ran.output
    assert "Evaluating tickets" in ran.output and "2500/2500" in ran.output
    (tmp_path / "v.db").write_bytes((big / "pristine.db").read_bytes())
    done = subprocess.run([sys.executable, "-m", "vulnmark", "report", "daily"], cwd=tmp_path,
                          capture_output=True, text=True, env=_env(tmp_path))
    assert done.returncode == 0 and "Evaluating" not in done.stderr, done.stderr
