"""The clock rule: ``--now``/``VULNMARK_NOW`` sets the evaluation instant of read commands only;
write commands refuse it unless ``VULNMARK_ALLOW_CLOCK_OVERRIDE=1``; a change that took effect
earlier is entered with ``--effective TIME --why TEXT`` and shown as backdated.

The attack of F11 (reliability report): back-dating an outcome with ``--now`` turned an overdue
CRITICAL into "met, 100 %" and ``evidence verify`` exited 0.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.store import Store

CREATED = "2026-11-25T15:00:00Z"  # CRITICAL: due 48 h later, 2026-11-27T15:00Z
LATER = "2026-11-29T07:00:00Z"


@pytest.fixture
def overdue(vm: Cli) -> Cli:
    """A store with one CRITICAL vulnerability, overdue at LATER (set up under the override,
    as tests do); the returned CLI runs without the override, as an operator does."""
    vm.ok("ticket", "new", "--title", "OpenSSL on OCSP", "--label", "Vulnerability",
          "--label", "CRITICAL", "--key", "CA-102", now=CREATED)
    return Cli(vm.db_url, vm.workdir, now=LATER, override=False)


def _records(db_url: str) -> list[tuple[int, str, str, str | None, str | None]]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT seq, at, kind, recorded_at, recorded_by FROM events "
                            "ORDER BY seq").fetchall()


def _overdue(vm: Cli) -> int:
    check = json.loads(vm.ok("check", "--format", "json").output)
    return int(check["summary"]["by_kind"].get("overdue", 0))


def test_f11_backdating_an_outcome_with_now_is_refused(overdue: Cli) -> None:
    vm = overdue
    assert _overdue(vm) == 1
    before = _records(vm.db_url)
    r = vm("outcome", "CA-102", "--remediated", now="2026-11-27T14:00:00Z")
    assert r.exit_code == 2
    assert "VULNMARK_ALLOW_CLOCK_OVERRIDE" in r.stderr and "--effective" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert _records(vm.db_url) == before  # nothing written
    # the same through the environment variable instead of the option
    env_run = Cli(vm.db_url, vm.workdir, now="", override=False)
    r = env_run("outcome", "CA-102", "--remediated", env={"VULNMARK_NOW": "2026-11-27T14:00Z"})
    assert r.exit_code == 2 and _records(vm.db_url) == before
    assert _overdue(vm) == 1  # still overdue


@pytest.mark.parametrize("args", [
    ["outcome", "CA-102", "--remediated"],
    ["outcome", "CA-102", "--mitigation-plan", "WAF rule"],
    ["reclassify", "CA-102", "HIGH", "--why", "rescored"],
    ["ticket", "new", "--title", "x"],
    ["ticket", "label", "CA-102", "LOW"],
    ["ticket", "unlabel", "CA-102", "CRITICAL"],
    ["ticket", "comment", "CA-102", "patched"],
    ["ticket", "resolve", "CA-102"],
    ["backfill", "--apply"],
    ["report", "daily", "--send", "--to", "mso@example.org"],
    ["schedule", "--once", "--no-send"],
    ["evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--output", "p.zip"],
    ["sync"],
], ids=lambda a: " ".join(a[:2]))
def test_every_write_command_refuses_now(overdue: Cli, args: list[str]) -> None:
    before = _records(overdue.db_url)
    r = overdue(*args)
    assert r.exit_code == 2, r.output + r.stderr
    assert "VULNMARK_ALLOW_CLOCK_OVERRIDE=1" in r.stderr
    assert _records(overdue.db_url) == before
    assert not Path("p.zip").exists()


def test_import_refuses_now(overdue: Cli, tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps({"key": "N-1", "title": "t", "created": CREATED}) + "\n")
    r = overdue("import", str(src))
    assert r.exit_code == 2 and "VULNMARK_ALLOW_CLOCK_OVERRIDE" in r.stderr
    # import has no --effective: the refusal does not send the user to an option it lacks
    assert "--effective" not in r.stderr and "without --now" in r.stderr


@pytest.mark.parametrize("args", [
    ["check"], ["list"], ["report", "daily"], ["metrics"], ["evidence", "verify"],
    ["outcome", "CA-102", "--list"], ["runs"], ["ticket", "show", "CA-102"],
    ["backfill"], ["schedule", "--next", "2"],
], ids=" ".join)
def test_read_commands_take_now(overdue: Cli, args: list[str]) -> None:
    overdue.ok(*args)


def test_the_override_lets_tests_date_changes(overdue: Cli) -> None:
    vm = Cli(overdue.db_url, overdue.workdir, now=LATER, override=True)
    vm.ok("outcome", "CA-102", "--remediated", now="2026-11-27T14:00:00Z")
    assert _overdue(vm) == 0
    # ...but the record still carries the real wall clock, and verify says it was backdated
    [(seq, at, kind, recorded_at, recorded_by)] = [
        r for r in _records(vm.db_url) if r[2] == "outcome"]
    assert kind == "outcome" and at.startswith("2026-11-27T14:00")
    assert recorded_at is not None and recorded_at[:4] == str(datetime.now(UTC).year)
    assert recorded_by == getpass.getuser()
    out = vm.ok("evidence", "verify").output
    assert f"record {seq} (outcome CA-102): claims 2026-11-27T14:00:00Z" in out
    assert "clock override" in out


def test_effective_and_why_enter_an_earlier_outcome_as_backdated(overdue: Cli) -> None:
    vm = overdue
    effective = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    eff = effective.isoformat().replace("+00:00", "Z")
    wall = Cli(vm.db_url, vm.workdir, now="", override=False)  # no --now: the wall clock
    done = wall.ok("outcome", "CA-102", "--remediated", "--effective", eff, "--why",
                   "patched during the tracker outage")
    assert "BACKDATED" in done.output and "patched during the tracker outage" in done.output
    assert "48.0 h later" in done.output or "47.9 h later" in done.output
    listed = json.loads(wall.ok("outcome", "CA-102", "--list", "--format", "json").output)
    assert listed[0]["backdated"] is True and listed[0]["recorded_at"].startswith(eff[:19])
    assert listed[0]["why"] == "patched during the tracker outage"
    assert listed[0]["entered_by"] == getpass.getuser()
    out = wall.ok("evidence", "verify").output
    assert "BACKDATED: 1 change(s) entered after they took effect" in out
    assert f"claims {eff}" in out and "patched during the tracker outage" in out


def test_effective_is_judged_against_the_deadline(overdue: Cli) -> None:
    vm = Cli(overdue.db_url, overdue.workdir, now=LATER, override=True)
    vm.ok("outcome", "CA-102", "--remediated", "--effective", "2026-11-27T14:00:00Z",
          "--why", "fixed on site; entered late")
    assert _overdue(vm) == 0
    metrics = json.loads(vm.ok("metrics", "--from", "2026-11-01", "--to", "2026-11-30",
                               "--format", "json").output)
    assert metrics["by_month"][0]["met"] == 1
    # metrics show it as backdated, in every format
    assert metrics["by_month"][0]["backdated"] == 1
    [late] = metrics["backdated_outcomes"]
    assert (late["ticket"], late["effective"], late["gap_hours"], late["why"]) == (
        "CA-102", "2026-11-27T14:00:00Z", 41.0, "fixed on site; entered late")
    table = vm.ok("metrics", "--from", "2026-11-01", "--to", "2026-11-30").output
    assert "backdated" in table.splitlines()[0]
    assert "BACKDATED OUTCOME CA-102 (remediated): effective 2026-11-27T14:00:00Z, entered " \
           "2026-11-29T07:00:00Z" in table and "(41.0 h later): fixed on site" in table
    rows = vm.ok("metrics", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv",
                 "--by", "class").output.splitlines()
    header = rows[0].split(",")
    assert dict(zip(header, rows[1].split(","), strict=True))["backdated"] == "1"
    # the daily report says so, with the reason and the gap
    text = vm.ok("report", "daily").output
    assert "BACKDATED OUTCOME CA-102: effective 2026-11-27T14:00:00Z, entered " \
           "2026-11-29T07:00:00Z" in text and "(41.0 h later): fixed on site" in text
    data = json.loads(vm.ok("report", "daily", "--format", "json").output)
    assert any("BACKDATED OUTCOME CA-102" in n for n in data["health"]["notes"])


@pytest.mark.parametrize(("args", "message"), [
    (["--effective", "2026-11-27T14:00:00Z"], "--why"),
    (["--why", "late"], "--effective"),
    (["--effective", "2026-12-30T00:00:00Z", "--why", "x"], "future"),
    (["--effective", "yesterday", "--why", "x"], "ISO-8601"),
])
def test_effective_usage_errors(overdue: Cli, args: list[str], message: str) -> None:
    vm = Cli(overdue.db_url, overdue.workdir, now=LATER, override=True)
    before = _records(vm.db_url)
    r = vm("outcome", "CA-102", "--remediated", *args)
    assert r.exit_code == 2 and message in r.output + r.stderr
    assert _records(vm.db_url) == before


def test_the_wall_clock_and_user_are_bound_to_the_chain(overdue: Cli) -> None:
    path = overdue.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET recorded_at = '2026-11-25T15:00:00.000000Z' "
                     "WHERE seq = 1")
    r = overdue("evidence", "verify")
    assert r.exit_code == 1 and "record 1" in r.stderr
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET recorded_at = NULL, recorded_by = NULL WHERE seq = 1")
    r = overdue("evidence", "verify")
    assert r.exit_code == 1 and "record 1" in r.stderr


def test_records_written_before_the_wall_clock_was_kept_still_verify(tmp_path: Path) -> None:
    from vulnmark.evidence.chain import GENESIS, canonical, chain_hash

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    prev = GENESIS
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        for seq in (1, 2):
            at, payload = f"2026-11-0{seq}T07:00:00.000000Z", canonical({"i": seq})
            digest = chain_hash(prev, seq, at, "test", payload)
            conn.execute("INSERT INTO events (seq, at, kind, payload, prev_hash, hash) "
                         "VALUES (?, ?, 'test', ?, ?, ?)", (seq, at, payload, prev, digest))
            prev = digest
    with Store.open(url) as store:
        assert store.verify_evidence().ok
