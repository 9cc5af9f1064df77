"""Backdated label changes (issue 11, "Clock and actor"): ``ticket label``/``unlabel`` and
``reclassify`` take ``--effective TIME --why TEXT`` as ``outcome`` does: the label history is
dated TIME, the records are written at the wall clock, and the change is shown as backdated,
with the reason and the gap, by the command, ``evidence verify`` and the daily report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core_support import Cli

CREATED = "2026-11-25T15:00:00Z"


@pytest.fixture
def operator(vm: Cli) -> Cli:
    """One tracker ticket, then the CLI as an operator runs it: the wall clock, no override."""
    vm.ok("ticket", "new", "--title", "OpenSSL on OCSP", "--label", "Vulnerability",
          "--key", "CA-1", now=CREATED)
    return Cli(vm.db_url, vm.workdir, now="", override=False)


def _two_days_ago() -> str:
    return (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_label_change_entered_late_is_dated_when_it_took_effect_and_shown(
        operator: Cli) -> None:
    vm = operator
    when = _two_days_ago()
    out = vm.ok("ticket", "label", "CA-1", "CRITICAL", "--effective", when,
                "--why", "rated in the review meeting; the tracker was down").stdout
    assert "BACKDATED: effective " + when.replace("Z", "") in out
    shown = json.loads(vm.ok("ticket", "show", "CA-1", "--format", "json").stdout)
    last = shown["label_history"][-1]
    assert last["added"] == ["CRITICAL"] and last["at"].startswith(when[:19])
    verify = vm.ok("evidence", "verify").stdout
    assert "BACKDATED: 1 change(s) entered after they took effect" in verify
    assert "ticket_relabelled CA-1" in verify and "the tracker was down" in verify
    report = vm.ok("report", "daily").stdout
    assert "BACKDATED LABEL CHANGE CA-1" in report
    # and an unlabel the same way
    vm.ok("ticket", "unlabel", "CA-1", "CRITICAL", "--effective", when, "--why", "typo")
    assert "2 change(s) entered after they took effect" in vm.ok("evidence", "verify").stdout


def test_reclassify_entered_late_is_shown_as_backdated(operator: Cli) -> None:
    vm = operator
    vm.ok("ticket", "label", "CA-1", "LOW")
    when = _two_days_ago()
    out = vm.ok("reclassify", "CA-1", "HIGH", "--why", "vendor re-scored it on Monday",
                "--effective", when).stdout
    assert "LOW -> HIGH" in out and "BACKDATED" in out
    verify = vm.ok("evidence", "verify").stdout
    assert "reclassification CA-1" in verify and "vendor re-scored it on Monday" in verify


@pytest.mark.parametrize("args, message", [
    (["--effective", "2026-11-26T10:00:00Z"], "--why"),
    (["--effective", "2099-01-01T00:00:00Z", "--why", "x"], "future"),
    (["--effective", "yesterday", "--why", "x"], "--effective"),
])
def test_effective_usage_errors_exit_2_and_change_nothing(operator: Cli, args: list[str],
                                                          message: str) -> None:
    r = operator("ticket", "label", "CA-1", "HIGH", *args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr
    shown = json.loads(operator.ok("ticket", "show", "CA-1", "--format", "json").stdout)
    assert shown["labels"] == ["Vulnerability"]


def test_now_is_still_refused_and_points_at_effective(operator: Cli) -> None:
    r = operator("ticket", "label", "CA-1", "HIGH", now="2026-11-26T10:00:00Z")
    assert r.exit_code == 2 and "--effective" in r.stderr
