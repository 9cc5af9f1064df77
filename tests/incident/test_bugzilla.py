"""Posting updates to Bugzilla: the client against the emulator served on 127.0.0.1, through
the CLI, with the API key only from the environment and never in output or evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from core_support import Cli
from vulnmark.config.incident import IncidentSettings
from vulnmark.errors import BugzillaError, IncidentError
from vulnmark.incident.bugzilla import API_KEY_ENV, Bugzilla, next_update
from vulnmark.store import Store
from vulnmark.testing.bugzilla_emulator import BugzillaEmulator
from vulnmark.testing.server import serve_in_thread

KEY = "bmo-key-0123456789abcdef"


@pytest.fixture
def bmo() -> Iterator[tuple[BugzillaEmulator, str]]:
    emu = BugzillaEmulator(api_key=KEY)
    emu.add_bug(1863375, summary="Example CA: Findings in 2023 Audit",
                whiteboard="[ca-compliance] [audit-finding] Next update 2026-12-04")
    with serve_in_thread(emu) as url:
        yield emu, url


@pytest.mark.parametrize(("whiteboard", "expected"), [
    ("[ca-compliance] Next update 2023-12-10", date(2023, 12, 10)),
    ("[ca-compliance] [next-update:2024-01-15]", date(2024, 1, 15)),
    ("[ca-compliance]", None),
    ("Next update 2023-13-40", None),
])
def test_the_next_update_of_a_whiteboard(whiteboard: str, expected: date | None) -> None:
    assert next_update(whiteboard) == expected


def test_the_client_speaks_the_rest_api(bmo: tuple[BugzillaEmulator, str]) -> None:
    emu, url = bmo
    client = Bugzilla(url, KEY)
    assert next_update(client.whiteboard(1863375)) == date(2026, 12, 4)
    comment = client.comment(1863375, "## Incident Status Report - 2026-11-27\n")
    assert emu.comments[-1].id == comment and emu.comments[-1].is_markdown
    assert not emu.comments[-1].is_private
    method, path, headers = emu.requests[-1]
    assert (method, path) == ("POST", "/rest/bug/1863375/comment")
    assert headers["x-bugzilla-api-key"] == KEY and KEY not in path
    with pytest.raises(BugzillaError, match="Bug #9 does not exist") as e:
        client.comment(9, "x")
    assert KEY not in str(e.value)
    with pytest.raises(BugzillaError, match="HTTP 401: The API key you specified is invalid"):
        Bugzilla(url, "wrong").whiteboard(1863375)
    emu.fail_next = 1
    with pytest.raises(BugzillaError, match="HTTP 503"):
        client.whiteboard(1863375)
    client.close()


def test_an_unreachable_bugzilla_names_the_site_not_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.headers['x-bugzilla-api-key']}")

    client = Bugzilla("https://bugzilla.example", KEY,
                      client=httpx.Client(transport=httpx.MockTransport(refuse)))
    with pytest.raises(BugzillaError) as e:
        client.comment(1, "x")
    assert "bugzilla.example" in str(e.value) and KEY not in str(e.value)


def test_settings_and_key_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IncidentError, match="bugzilla_url"):
        Bugzilla.from_settings(IncidentSettings())
    with pytest.raises(IncidentError, match=API_KEY_ENV):
        Bugzilla.from_settings(IncidentSettings(bugzilla_url="https://bugzilla.example"))


def _config(vm: Cli, url: str) -> Path:
    cfg = vm.workdir / "vulnmark.toml"
    cfg.write_text(f'[incident]\nbugzilla_url = "{url}"\n', encoding="utf-8")
    return cfg


def test_post_an_update_through_the_cli(vm: Cli, bmo: tuple[BugzillaEmulator, str],
                                        db_file: Path) -> None:
    emu, url = bmo
    cfg = _config(vm, url)
    vm.ok("incident", "new", "--title", "Findings in 2026 Audit", "--ca-owner", "Example CA",
          "--bug", "1863375", config=cfg)
    vm.ok("incident", "action", "add", "1", "--title", "DAILY REPORT", "--kind", "Detect",
          "--due", "2026-12-01", config=cfg)
    r = vm("incident", "update", "1", "--post", config=cfg)
    assert r.exit_code == 2 and API_KEY_ENV in r.output + r.stderr and not emu.comments
    r = vm.ok("incident", "update", "1", "--post", config=cfg, env={API_KEY_ENV: KEY})
    assert emu.comments[-1].text == r.stdout and emu.comments[-1].bug == 1863375
    assert f"comment {emu.comments[-1].id}" in r.stderr
    shown = json.loads(vm.ok("incident", "show", "1", "--format", "json").output)
    post = shown["posts"][-1]
    assert post["comment_id"] == emu.comments[-1].id
    assert post["next_update"] == "2026-12-04"  # read from the bug's whiteboard
    due = json.loads(vm.ok("incident", "due", "--format", "json").output)["obligations"]
    assert {"what": "update", "due_at": "2026-12-05T00:00:00Z"}.items() <= next(
        o for o in due if o["what"] == "update").items()
    with Store.open(f"sqlite:///{db_file}") as store, store.reading() as conn:
        from vulnmark.store.events import iter_events
        records = [r for r in iter_events(conn) if r.kind == "incident"]
    assert records[-1].payload["detail"]["comment_id"] == emu.comments[-1].id
    assert all(KEY not in json.dumps(r.payload) for r in records)
    assert KEY not in r.output


def test_a_refused_post_records_nothing(vm: Cli, bmo: tuple[BugzillaEmulator, str]) -> None:
    emu, url = bmo
    cfg = _config(vm, url)
    vm.ok("incident", "new", "--title", "T", "--ca-owner", "CA", "--bug", "404404", config=cfg)
    r = vm("incident", "update", "1", "--post", config=cfg, env={API_KEY_ENV: KEY})
    assert r.exit_code == 3 and "Bug #404404 does not exist" in r.output + r.stderr
    assert json.loads(vm.ok("incident", "show", "1", "--format", "json").output)["posts"] == []
    r = vm("incident", "update", "1", "--post", "--date", "2026-11-20", config=cfg,
           env={API_KEY_ENV: KEY})
    assert r.exit_code == 2 and "today" in r.output + r.stderr


def test_set_the_bug_and_the_ccadb_id(vm: Cli) -> None:
    vm.ok("incident", "new", "--title", "T", "--ca-owner", "CA")
    vm.ok("incident", "set", "1", "bug", "1863375")
    vm.ok("incident", "set", "1", "ccadb_id", "A000123")
    shown = json.loads(vm.ok("incident", "show", "1", "--format", "json").output)
    assert (shown["bug"], shown["ccadb_id"]) == (1863375, "A000123")
    for field, value in (("bug", "-3"), ("bug", "12a"), ("ccadb_id", "A12")):
        r = vm("incident", "set", "1", field, value)
        assert r.exit_code == 2 and field in r.output + r.stderr
