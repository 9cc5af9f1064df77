"""``vulnmark sync`` and ``vulnmark backfill --to-jira`` through the CLI against the Jira
emulator served on 127.0.0.1: sync, write-back with evidence, the next sync sees the labels, and
a failed sync exits 3 and shows in the next report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

EMAIL, TOKEN = "sec@example.org", "api-token-123"
ENV = {"JIRA_EMAIL": EMAIL, "JIRA_TOKEN": TOKEN}


@pytest.fixture
def jira(tmp_path: Path) -> Iterator[tuple[JiraEmulator, Path]]:
    emu = JiraEmulator(auth={JiraEmulator.basic(EMAIL, TOKEN)})
    emu.generate(6, labels=(("HIGH",), ("Vulnerability", "LOW")))
    with serve_in_thread(emu) as url:
        cfg = tmp_path / "vulnmark.toml"
        cfg.write_text(f'[source.jira]\nurl = "{url}"\nflavour = "cloud"\n'
                       'jql = "project = VULN"\n', encoding="utf-8")
        yield emu, cfg


def test_sync_then_backfill_writes_back_to_jira_with_evidence(
        vm: Cli, jira: tuple[JiraEmulator, Path]) -> None:
    emu, cfg = jira
    out = vm.ok("sync", config=cfg, env=ENV).stdout
    assert "Synced 6 issues from Jira (first)" in out
    unmarked = {k for k, i in emu.issues.items() if i.fields["labels"] == ["HIGH"]}
    assert unmarked  # labels are drawn from the two sets; some tickets lack the vuln label

    vm.ok("backfill", "--apply", "--min-confidence", "0.95", "--to-jira", config=cfg, env=ENV)
    for key in unmarked:  # the vulnerability label reached Jira itself
        assert "Sérülékenység" in emu.issues[key].fields["labels"]
    with Store.open(vm.db_url) as store, store.reading() as conn:
        records = [e for e in store_events.iter_events(conn) if e.kind == "backfill"]
    assert {r.payload["ticket"] for r in records} == unmarked
    assert all(r.payload["via"] == "jira" for r in records)

    assert "Synced" in vm.ok("sync", config=cfg, env=ENV).stdout
    check = vm("check", "--kind", "unmarked", "--format", "json", config=cfg, env=ENV)
    assert '"findings": []' in check.stdout


def test_a_failed_sync_exits_3_naming_the_site_and_shows_in_the_next_report(
        vm: Cli, jira: tuple[JiraEmulator, Path]) -> None:
    _emu, cfg = jira
    bad = vm("sync", config=cfg, env={"JIRA_EMAIL": EMAIL, "JIRA_TOKEN": "wrong"})
    assert bad.exit_code == 3
    assert "127.0.0.1" in bad.stderr
    assert "wrong" not in bad.stderr  # the secret never reaches the output
    report = vm.ok("report", "daily", config=cfg).stdout
    assert "FAILED SYNC" in report
    failed = json.loads(vm.ok("runs", "--kind", "sync", "--format", "json").stdout)
    assert [r["kind"] for r in failed] == ["sync"]  # sync runs can be listed on their own
    assert "127.0.0.1" in failed[0]["error"]


def test_sync_without_a_jira_section_is_a_usage_error(vm: Cli) -> None:
    result = vm("sync", env=ENV)
    assert result.exit_code == 2
    assert "source.jira" in result.stderr


def test_d4_backfill_to_jira_says_nothing_when_no_jira_ticket_needs_a_label(
        vm: Cli, jira: tuple[JiraEmulator, Path]) -> None:
    """Only embedded-tracker tickets have proposals: Jira gets nothing, and the command says
    so (before, operator precedence swallowed the "nothing" and printed "Jira SITE: ")."""
    _, cfg = jira
    vm.ok("ticket", "new", "--title", "OCSP", "--label", "HIGH", "--by", "ann", config=cfg)
    out = vm.ok("backfill", "--apply", "--min-confidence", "0.95", "--to-jira", config=cfg,
                env=ENV).stdout
    assert "Jira http://127.0.0.1:" in out and ": nothing\n" in out
    assert "applied 1 labels to 1 tickets" in out


def test_sync_keeps_labels_vulnmark_applied_until_jira_has_them(
        vm: Cli, jira: tuple[JiraEmulator, Path]) -> None:
    """The re-import overlay through `sync` (issue 11 point 6): labels applied in the store
    (not written back) survive a full sync of issues that lack them, the check reports
    source_diverged, Jira carrying the label clears it, --accept-source-labels drops the rest."""
    emu, cfg = jira
    vm.ok("sync", config=cfg, env=ENV)
    unmarked = sorted(k for k, i in emu.issues.items() if i.fields["labels"] == ["HIGH"])
    assert len(unmarked) >= 2
    vm.ok("backfill", "--apply", "--min-confidence", "0.95", config=cfg)  # store only
    emu.touch(unmarked)  # edited in Jira: the next sync brings them again, without the label
    assert "Synced" in vm.ok("sync", "--full", config=cfg, env=ENV).stdout
    check = json.loads(vm.ok("check", "--format", "json", config=cfg).stdout)
    assert not [f for f in check["findings"] if f["kind"] == "unmarked"]
    diverged = sorted(f["ticket"] for f in check["findings"] if f["kind"] == "source_diverged")
    assert diverged == unmarked
    first, *rest = unmarked
    issue = emu.issues[first]
    old = list(issue.fields["labels"])
    issue.fields["labels"] = [*old, "Sérülékenység"]
    emu.new_history(issue, old, issue.fields["labels"])
    vm.ok("sync", config=cfg, env=ENV)
    check = json.loads(vm.ok("check", "--kind", "source_diverged", "--format", "json",
                             config=cfg).stdout)
    assert sorted(f["ticket"] for f in check["findings"]) == rest
    with Store.open(vm.db_url) as store, store.reading() as conn:
        cleared = [e.payload for e in store_events.iter_events(conn)
                   if e.kind == "overlay_cleared"]
    assert [c["ticket"] for c in cleared] == [first]
    vm.ok("import", "--accept-source-labels", config=cfg)
    check = json.loads(vm.ok("check", "--format", "json", config=cfg).stdout)
    assert sorted(f["ticket"] for f in check["findings"] if f["kind"] == "unmarked") == rest
    assert check["summary"]["by_kind"]["source_diverged"] == 0
