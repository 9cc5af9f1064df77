"""``vulnmark outcome``, ``reclassify``, ``metrics``, ``schedule`` and ``evidence`` through the
CLI: exit codes, messages, and an Example block in every --help."""

from __future__ import annotations

import json

import pytest

from core_support import Cli


@pytest.fixture
def vm_crit(vm: Cli) -> Cli:
    vm.ok("ticket", "new", "--title", "OpenSSL on OCSP", "--label", "Vulnerability",
          "--label", "CRITICAL", "--by", "ann", now="2026-11-20T07:00:00Z")
    return vm


@pytest.mark.parametrize("command", [["outcome"], ["reclassify"], ["metrics"], ["schedule"],
                                     ["evidence", "export"], ["evidence", "verify"]])
def test_help_has_an_example(vm: Cli, command: list[str]) -> None:
    out = vm.ok(*command, "--help").output
    assert "Example:" in out


def test_outcome_meets_the_deadline(vm_crit: Cli) -> None:
    vm = vm_crit
    r = vm.ok("outcome", "VULN-1", "--mitigation-plan", "block port 8080", "--by", "mso",
              now="2026-11-21T07:00:00Z")
    assert "mitigation plan recorded at 2026-11-21T07:00:00" in r.output
    check = json.loads(vm.ok("check", "--format", "json", now="2026-11-25T07:00:00Z").output)
    assert check["summary"]["by_kind"].get("overdue", 0) == 0
    listed = json.loads(vm.ok("outcome", "VULN-1", "--list", "--format", "json").output)
    assert listed[0]["kind"] == "mitigation_plan" and listed[0]["by"] == "mso"


@pytest.mark.parametrize(("args", "message"), [
    ([], "exactly one of"),
    (["--remediated", "--mitigation-plan", "x"], "exactly one of"),
    (["--no-remediation", "false_positive"], "factual basis"),
    (["--no-remediation", "nope", "--basis", "x"], "Invalid value"),
    (["--mitigation-plan", "x", "--basis", "y"], "--basis belongs to --no-remediation"),
])
def test_outcome_usage_errors_exit_2(vm_crit: Cli, args: list[str], message: str) -> None:
    r = vm_crit("outcome", "VULN-1", *args)
    assert r.exit_code == 2 and message in r.output + r.stderr


def test_outcome_for_a_missing_ticket_exits_2(vm: Cli) -> None:
    r = vm("outcome", "VULN-9", "--remediated")
    assert r.exit_code == 2 and "no ticket 'VULN-9'" in r.stderr


def test_reclassify_and_its_evidence(vm_crit: Cli) -> None:
    vm = vm_crit
    assert "CRITICAL -> HIGH" in vm.ok("reclassify", "VULN-1", "HIGH", "--why",
                                       "vendor rescored", "--by", "mso").output
    r = vm("reclassify", "VULN-1", "HIGH", "--why", "again")
    assert r.exit_code == 2 and "already classified HIGH" in r.stderr
    r = vm("reclassify", "VULN-1", "LOW")
    assert r.exit_code == 2 and "--why" in r.stderr


def test_metrics_formats(vm_crit: Cli) -> None:
    vm = vm_crit
    vm.ok("outcome", "VULN-1", "--remediated", now="2026-11-21T07:00:00Z")
    data = json.loads(vm.ok("metrics", "--from", "2026-11-01", "--to", "2026-11-30",
                            "--format", "json").output)
    [row] = data["by_month"]
    assert row["classification"] == "CRITICAL" and row["met"] == 1
    assert row["outcome_hours_mean"] == 24.0 and row["share_within_deadline"] == 1.0
    csv_out = vm.ok("metrics", "--format", "csv", "--by", "class").output.splitlines()
    assert csv_out[0].startswith("month,classification,discovered")
    assert csv_out[1].startswith("all,CRITICAL,1,1,")
    r = vm("metrics", "--from", "2026-12-01", "--to", "2026-11-01")
    assert r.exit_code == 2


def test_bad_schedule_config_exits_2(vm: Cli, tmp_path: object) -> None:
    from pathlib import Path

    cfg = Path("vulnmark.toml")
    cfg.write_text('[schedule]\ncron = "0 25 * * *"\n', encoding="utf-8")
    r = vm("schedule", "--once", "--no-send", config=cfg)
    assert r.exit_code == 2 and "schedule.cron" in r.stderr and "hour '25'" in r.stderr


def test_schedule_once_runs_only_what_is_due(vm: Cli) -> None:
    first = vm.ok("schedule", "--once", "--no-send", now="2026-11-27T07:30:00Z").output
    assert "report run 1" in first
    again = vm.ok("schedule", "--once", "--no-send", now="2026-11-27T09:30:00Z").output
    assert "nothing due" in again
    nxt = vm.ok("schedule", "--next", "2", now="2026-11-27T09:30:00Z").output.split()
    assert nxt[0] == "2026-11-28T07:00:00.000000Z"


def test_export_needs_a_period_and_a_new_output(vm_crit: Cli) -> None:
    vm = vm_crit
    r = vm("evidence", "export", "--to", "2026-11-30", "--output", "p.zip")
    assert r.exit_code == 2
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--output",
          "p.zip")
    r = vm("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--output",
           "p.zip")
    assert r.exit_code == 2 and "exists" in r.stderr
    r = vm("evidence", "verify", "--pack", "p.zip")
    assert r.exit_code == 4 and "unsigned: integrity not proven" in r.output


def test_schedule_catches_up_then_stops_cleanly_on_sigterm(tmp_path: object) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from vulnmark.store import Store

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VULNMARK_", "JIRA_"))}
    Store.open("sqlite:///sched.db").close()  # the daemon refuses a store that does not exist
    proc = subprocess.Popen(
        [sys.executable, "-m", "vulnmark", "--db", "sqlite:///sched.db", "schedule",
         "--no-send"], cwd=Path.cwd(), env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()          # the catch-up run (no report run exists yet)
        assert "report run 1" in first
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopping after the running job" in err and "stopped after 1 run" in err
