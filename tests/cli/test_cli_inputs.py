"""Bad input through the CLI: exit 2, a message naming the file or field, and a store left
exactly as it was. Also the embedded tracker's happy path."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from core_support import APACHE_SAMPLE, Cli
from vulnmark.evidence import chain
from vulnmark.store import Store
from vulnmark.store import events as store_events


def snapshot(vm: Cli) -> tuple[int, int, str | None]:
    """Ticket count, evidence count and head: what bad input must not change."""
    with Store.open(vm.db_url) as store, store.reading() as conn:
        n = store_events.count(conn)
        head = store.get_state(chain.HEAD)
        return store.count_tickets(), n, head


@pytest.fixture
def seeded(vm: Cli, tmp_path: Path) -> Cli:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"key": "G-1", "title": "ok", "created": "2026-11-01",
                                "labels": ["Vulnerability", "HIGH"]}) + "\n", encoding="utf-8")
    vm.ok("import", str(good))
    vm.ok("ticket", "new", "--title", "tracker ticket", "--label", "Vulnerability", "--by", "ann")
    return vm


def assert_rejected(vm: Cli, args: list[str], *named: str, config: Path | None = None) -> None:
    before = snapshot(vm)
    result = vm(*args, config=config)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    for text in named:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(vm) == before


def test_malformed_json(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"issues": [{"key": "X-1", "fields": {"summary": "a"}},\n  {"key": ]}',
                   encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "broken.json", "line 2")


def test_malformed_json_lines(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"key": "X-1", "title": "a", "created": "2026-11-01"}\n{"key": "X-2",\n',
                   encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "broken.jsonl", "line 2")


def test_a_bad_file_among_good_ones_writes_nothing(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "zzz.json"
    bad.write_text("[", encoding="utf-8")
    assert_rejected(seeded, ["import", str(APACHE_SAMPLE), str(bad)], "zzz.json")


def test_non_utf8_file(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"key": "X-1", "title": "Sérülékenység", "created": "2026-11-01"}\n'
                    .encode("latin-1"))
    assert_rejected(seeded, ["import", str(bad)], "latin1.jsonl", "UTF-8")


def test_utf16_file(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "utf16.json"
    bad.write_bytes('{"issues": []}'.encode("utf-16"))
    assert_rejected(seeded, ["import", str(bad)], "utf16.json")


def test_label_with_spaces_in_json_lines(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "spaces.jsonl"
    bad.write_text(
        json.dumps({"key": "X-1", "title": "a", "created": "2026-11-01", "labels": ["HIGH"]})
        + "\n" + json.dumps({"key": "X-2", "title": "b", "created": "2026-11-01",
                             "labels": ["Vulnerability", "very high"]}) + "\n",
        encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "spaces.jsonl", "line 2", "labels[1]",
                    "very high")


def test_label_with_spaces_in_jira_json(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "jira.json"
    bad.write_text(json.dumps({"issues": [{"key": "J-1", "fields": {
        "summary": "x", "created": "2026-11-01T10:00:00.000+0000",
        "labels": ["Sérülékenység", "nagyon magas"]}}]}), encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "jira.json", "nagyon magas")


def test_unknown_field_in_json_lines(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "typo.jsonl"
    bad.write_text(json.dumps({"key": "X-1", "title": "a", "created": "2026-11-01",
                               "lables": ["HIGH"]}) + "\n", encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "typo.jsonl", "lables")


def test_label_with_spaces_via_ticket_label(seeded: Cli) -> None:
    assert_rejected(seeded, ["ticket", "label", "VULN-1", "HIGH", "very high"], "very high")


def test_label_with_spaces_via_ticket_new(seeded: Cli) -> None:
    assert_rejected(seeded, ["ticket", "new", "--title", "t", "--label", "a b"], "a b")


def test_unknown_preset_in_init(seeded: Cli, tmp_path: Path) -> None:
    assert_rejected(seeded, ["init", "--preset", "nope"], "nope", "--preset")
    assert not (tmp_path / "vulnmark.toml").exists()


def test_unknown_preset_in_the_config(seeded: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "nope.toml"
    cfg.write_text('preset = "nope"\n', encoding="utf-8")
    for args in (["check"], ["report", "daily"], ["ticket", "label", "VULN-1", "HIGH"]):
        assert_rejected(seeded, args, "nope.toml", "unknown preset 'nope'", config=cfg)


def test_bad_now(seeded: Cli) -> None:
    before = snapshot(seeded)
    result = seeded("check", now="yesterday")
    assert result.exit_code == 2 and "--now" in result.stderr
    assert snapshot(seeded) == before


def test_unknown_ticket(seeded: Cli) -> None:
    assert_rejected(seeded, ["ticket", "label", "NOPE-1", "HIGH"], "NOPE-1")
    assert_rejected(seeded, ["ticket", "show", "NOPE-1"], "NOPE-1")


def test_bad_database_url(vm: Cli, tmp_path: Path) -> None:
    result = Cli("mysql://localhost/x", tmp_path)("check")
    assert result.exit_code == 2 and "--db" in result.stderr
    missing = Cli(f"sqlite:///{tmp_path}/no/such/dir/x.db", tmp_path)("check")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_unreachable_postgres_exits_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = Cli(f"postgresql://nobody@127.0.0.1:{port}/x", tmp_path)("check")
    assert result.exit_code == 3, result.stderr
    assert "127.0.0.1" in result.stderr


# -- the embedded tracker ----------------------------------------------------------------------

def test_tracker_round_trip(vm: Cli) -> None:
    assert vm.ok("ticket", "new", "--title", "Heap overflow", "--label", "Sérülékenység",
                 "--by", "ann").stdout.strip() == "VULN-1"
    assert vm.ok("ticket", "new", "--title", "Second", "--by", "ann").stdout.strip() == "VULN-2"
    vm.ok("ticket", "comment", "VULN-1", "rated HIGH after review", "--by", "bob")
    kinds = {f["kind"]: f for f in json.loads(vm.ok("check", "--format", "json").stdout)
             ["findings"]}
    assert kinds["unclassified"]["suggested"] == "HIGH"
    vm.ok("ticket", "label", "VULN-1", "HIGH", "--by", "ann")
    again = vm.ok("ticket", "label", "VULN-1", "HIGH", "--by", "ann")
    assert "nothing to change" in again.stdout
    assert json.loads(vm.ok("check", "--format", "json").stdout)["findings"] == []
    shown = json.loads(vm.ok("ticket", "show", "VULN-1", "--format", "json").stdout)
    assert shown["labels"] == ["Sérülékenység", "HIGH"]
    assert [c["body"] for c in shown["comments"]] == ["rated HIGH after review"]
    assert [h["added"] for h in shown["label_history"]] == [["Sérülékenység"], ["HIGH"]]
    vm.ok("ticket", "unlabel", "VULN-1", "HIGH", "--by", "carol")
    vm.ok("ticket", "resolve", "VULN-1", "--by", "carol")
    shown = json.loads(vm.ok("ticket", "show", "VULN-1", "--format", "json").stdout)
    assert shown["labels"] == ["Sérülékenység"] and shown["resolved"] == "2026-11-27T07:00:00Z"
    table = vm.ok("ticket", "show", "VULN-1").stdout
    assert "carol" in table and "rated HIGH after review" in table
    assert vm.ok("evidence", "verify").exit_code == 0


def test_tracker_prefix_from_the_config(vm: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text('[tracker]\nprefix = "CA"\n', encoding="utf-8")
    assert vm.ok("ticket", "new", "--title", "x", "--by", "a", config=cfg).stdout.strip() == "CA-1"


def test_nfd_label_from_the_tracker_is_noncanonical(vm: Cli) -> None:
    nfd = unicodedata.normalize("NFD", "Sérülékenység")
    vm.ok("ticket", "new", "--title", "x", "--label", nfd, "--label", "high", "--by", "a")
    found = json.loads(vm.ok("check", "--format", "json").stdout)["findings"]
    assert sorted(f["evidence"][0]["text"] for f in found if f["kind"] == "noncanonical") == \
        sorted([nfd, "high"])
    assert not [f for f in found if f["kind"] == "unclassified"]


def test_init_writes_a_loadable_config_and_creates_the_store(vm: Cli, tmp_path: Path,
                                                             db_file: Path) -> None:
    out = vm.ok("init", "--preset", "ncssr-v1").stdout
    assert "vulnmark.toml" in out and db_file.exists()
    shown = json.loads(vm.ok("policy", "show", "--format", "json").stdout)
    assert shown["preset"] == "ncssr-v1"
    again = vm("init")
    assert again.exit_code == 2 and "exists" in again.stderr
    vm.ok("init", "--preset", "pci-dss", "--force")


def test_import_twice_reports_nothing_new(vm: Cli) -> None:
    first = vm.ok("import", str(APACHE_SAMPLE)).stdout
    assert "30 new, 0 updated" in first
    second = vm.ok("import", str(APACHE_SAMPLE)).stdout
    assert "0 new, 0 updated, 30 unchanged" in second


def test_init_with_a_combination_preset(vm: Cli) -> None:
    vm.ok("init", "--preset", "etsi-319-401+ncssr-v1")
    shown = json.loads(vm.ok("policy", "show", "--format", "json").stdout)
    assert shown["preset"] == "etsi-319-401+ncssr-v1"
    hours = {c["name"]: c["deadline_hours"] for c in shown["classes"]}
    assert (hours["CRITICAL"], hours["HIGH"]) == (48, 96)


def test_init_does_not_configure_a_placeholder_recipient(vm: Cli) -> None:
    vm.ok("init")
    shown = json.loads(vm.ok("policy", "show", "--format", "json").stdout)
    assert shown["recipients"] == []
    result = vm("report", "daily", "--send")
    assert result.exit_code == 2 and "recipients" in result.stderr


def test_key_with_spaces_is_rejected(seeded: Cli) -> None:
    assert_rejected(seeded, ["ticket", "new", "--title", "t", "--key", "CA 1"], "--key", "CA 1")


def test_resolving_twice_does_not_move_the_resolution_time(seeded: Cli) -> None:
    seeded.ok("ticket", "resolve", "VULN-1", "--by", "ann")
    assert_rejected(seeded, ["ticket", "resolve", "VULN-1", "--by", "ann"], "already resolved")
    shown = json.loads(seeded.ok("ticket", "show", "VULN-1", "--format", "json").stdout)
    assert shown["resolved"] == "2026-11-27T07:00:00Z"


# -- m2 / m4: what Python's json lets through, refused naming the line and member ----------

@pytest.mark.parametrize("line, named", [
    ('{"key":"DK-1","title":"a","created":"2026-01-01T00:00:00Z",'
     '"labels":["Vulnerability","CRITICAL"],"labels":[]}', "duplicate member name 'labels'"),
    ('{"key":"DK-1","key":"DK-2","title":"a","created":"2026-01-01T00:00:00Z"}',
     "duplicate member name 'key'"),
])
def test_m2_duplicate_json_members_are_refused(seeded: Cli, tmp_path: Path, line: str,
                                               named: str) -> None:
    bad = tmp_path / "dup.jsonl"
    bad.write_text(line + "\n", encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "dup.jsonl", "line 1", named)


def test_m2_duplicate_members_in_jira_json_are_refused(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "dup.json"
    bad.write_text('{"issues":[{"key":"J-1","fields":{"summary":"s","created":'
                   '"2026-01-01T00:00:00.000+0000","labels":["Vulnerability","HIGH"],'
                   '"labels":[]}}]}', encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "dup.json", "duplicate member name 'labels'")


@pytest.mark.parametrize("name, text, named", [
    ("bigint.json", '{"key":"BI-1","title":"a","created":"2026-01-01","priority":'
     + "9" * 5000 + "}", "integer of 5000 digits"),
    ("surrogate.jsonl", '{"key":"LS-1","title":"a\\ud800b","created":"2026-01-01"}\n',
     "lone surrogate"),
    ("nul.jsonl", '{"key":"NU-1","title":"a\\u0000b","created":"2026-01-01"}\n', "NUL"),
    ("tz1.jsonl", '{"key":"TZ-1","title":"a","created":"0001-01-01T00:00:00+01:00"}\n',
     "time out of range"),
    ("tz9.jsonl", '{"key":"TZ-9","title":"a","created":"9999-12-31T23:59:59-01:00"}\n',
     "time out of range"),
])
def test_m4_input_python_cannot_hold_is_exit_2_not_a_traceback(
        seeded: Cli, tmp_path: Path, name: str, text: str, named: str) -> None:
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], name, named)


# -- m1: stored fields have limits; a cut is visible, warned about and in the evidence -------

def test_m1_a_huge_title_is_capped_warned_and_recorded(seeded: Cli, tmp_path: Path) -> None:
    from vulnmark.sources.interface import MAX_NAME_CHARS, MAX_TITLE_CHARS

    big = tmp_path / "bigtitle.jsonl"
    big.write_text(json.dumps({"key": "TT-1", "title": "T" * (20 * 1024 * 1024),
                               "created": "2026-11-26T00:00:00Z", "labels": ["Vulnerability"],
                               "reporter": "r" * 5000, "url": "https://x/" + "u" * 5000,
                               "comments": [{"body": "ok", "author": "a" * 1000}]}) + "\n",
                   encoding="utf-8")
    result = seeded.ok("import", str(big))
    assert "1 field(s) longer than their limit were cut" in result.stderr
    with Store.open(seeded.db_url) as store:
        t = store.get_ticket("TT-1")
        assert t is not None and len(t.title) == MAX_TITLE_CHARS
        assert t.title.endswith("more characters not stored]")
        assert t.reporter is not None and len(t.reporter) == MAX_NAME_CHARS
        assert t.url is None and len(t.comments[0].author or "") == MAX_NAME_CHARS
        with store.reading() as conn:
            last = list(store_events.iter_events(conn))[-1]
    assert last.kind == "import" and last.payload["truncated"] == ["TT-1 title"]
    report = seeded.ok("report", "daily", "--format", "json").stdout
    assert len(report) < 200_000  # the title is not copied into every report whole


def test_m1_a_key_over_255_characters_is_refused(seeded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "longkey.jsonl"
    bad.write_text(json.dumps({"key": "K" * 300 + "-1", "title": "t",
                               "created": "2026-11-26T00:00:00Z"}) + "\n", encoding="utf-8")
    assert_rejected(seeded, ["import", str(bad)], "longkey.jsonl", "field key",
                    "longer than 255")
