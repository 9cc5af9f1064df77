"""m3 of the reliability report: a ticket key is an identifier in its source's syntax.

Import accepted ``../../etc``, ``/etc/passwd``, ``A B``, a line break, ESC, NUL and 5,000
characters as keys; a crafted Jira key then made ``backfill --to-jira`` send the Jira token to
``/secure/admin/ViewUsers.jspa``. Keys are checked on every way in (JSON Lines, Jira JSON,
``ticket new --key``), and a Jira request path is built only from a valid key, percent-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core_support import Cli, make_ticket
from vulnmark.model import TicketKey
from vulnmark.sources.jira.client import issue_path
from vulnmark.store import Store
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

TRAVERSAL = "../../../../secure/admin/ViewUsers.jspa?x="
BAD_KEYS = ["../../etc", "/etc/passwd", "A B", "K-1\nK-2", "ESC-1\x1b[31m", "NUL-1\x00",
            "K-" + "1" * 5000, TRAVERSAL, "", "VULN-1/../../x", "VULN-%2e%2e"]
PAT = "pat-SECRET"


def _dump(db_url: str) -> list[tuple[str, str]]:
    with Store.open(db_url) as store:
        return [(t.key, t.title) for t in store.iter_tickets()]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_m3_import_refuses_a_key_that_is_not_an_identifier(vm: Cli, tmp_path: Path,
                                                           key: str) -> None:
    good = {"key": "OK-1", "title": "fine", "created": "2026-11-26T00:00:00Z"}
    bad = {"key": key, "title": "rated HIGH by review", "created": "2026-11-26T00:00:00Z",
           "labels": ["Vulnerability"]}
    path = tmp_path / "keys.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    before = _dump(vm.db_url)
    result = vm("import", str(path))
    assert result.exit_code == 2, result.output
    assert "keys.jsonl: line 2: field key:" in result.stderr
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr
    assert _dump(vm.db_url) == before  # nothing of the file was written


@pytest.mark.parametrize("key", [TRAVERSAL, "sec-1", "S-1", "SEC-1 ", "SEC-1\u202e"])
def test_m3_jira_import_refuses_keys_outside_jira_syntax(vm: Cli, tmp_path: Path,
                                                         key: str) -> None:
    doc = {"issues": [{"key": key, "fields": {"summary": "rated HIGH by review",
                                              "created": "2026-11-26T00:00:00.000+0000",
                                              "labels": ["Vulnerability"]}}]}
    path = tmp_path / "travkey.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = vm("import", str(path))
    assert result.exit_code == 2, result.output
    assert "field key:" in result.stderr and "is not a Jira issue key" in result.stderr


def test_m3_ticket_new_refuses_a_crafted_key(vm: Cli) -> None:
    for key in ("../x", "A B", "VULN-1\x1b[2J"):
        result = vm("ticket", "new", "--title", "t", "--key", key)
        assert result.exit_code == 2 and "field --key" in result.stderr, result.output
    assert vm.ok("ticket", "new", "--title", "t", "--key", "OPS-7").stdout.strip() == "OPS-7"


def test_m3_issue_paths_are_built_from_valid_keys_only() -> None:
    assert issue_path("/rest/api/2", "SEC-12", "comment") == "/rest/api/2/issue/SEC-12/comment"
    for key in BAD_KEYS + ["sec-1"]:
        with pytest.raises(Exception, match="not a Jira issue key|must be a non-empty|longer than"):
            issue_path("/rest/api/2", key)


@pytest.fixture
def recording_jira() -> Iterator[tuple[JiraEmulator, str]]:
    emu = JiraEmulator(flavour="datacenter", auth={f"Bearer {PAT}"})
    emu.generate(2, project="SEC", labels=(("Vulnerability",),))
    with serve_in_thread(emu) as url:
        yield emu, url


def test_m3_backfill_to_jira_never_sends_the_token_to_a_crafted_path(
        vm: Cli, tmp_path: Path, recording_jira: tuple[JiraEmulator, str]) -> None:
    """The store was filled before keys were checked (the library writes the crafted key as an
    old import did); the write-back refuses the key and sends nothing for it."""
    emu, url = recording_jira
    crafted = make_ticket(TRAVERSAL, title="rated HIGH by review", labels=("Vulnerability",),
                          source="jira", created=datetime(2026, 11, 26, tzinfo=UTC))
    genuine = make_ticket("SEC-1", title="rated HIGH by review", labels=("Vulnerability",),
                          source="jira", created=datetime(2026, 11, 26, tzinfo=UTC))
    assert crafted.key == TicketKey(TRAVERSAL)
    with Store.open(vm.db_url) as store:
        store.upsert_tickets([crafted, genuine], at=datetime(2026, 11, 26, tzinfo=UTC))
    cfg = tmp_path / "tk.toml"
    cfg.write_text(f'[source.jira]\nurl = "{url}"\njql = "project = SEC"\nmax_retries = 0\n'
                   'flavour = "datacenter"\n', encoding="utf-8")
    result = vm("backfill", "--apply", "--min-confidence", "0.5", "--to-jira", config=cfg,
                env={"JIRA_PAT": PAT})
    assert "Traceback" not in result.output
    paths = [e.path for e in emu.exchanges]
    assert paths, "the write-back did not talk to Jira at all"
    assert all(p.startswith("/rest/api/") for p in paths), paths
    assert not any("secure" in p or "ViewUsers" in p for p in paths), paths
    assert "not a Jira issue key" in result.stderr, result.output
    assert "HIGH" in emu.issues["SEC-1"].fields["labels"]  # the genuine key was written back
