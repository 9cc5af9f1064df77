"""The whole CLI loop on both stores: SQLite file and PostgreSQL server (``--db``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core_support import APACHE_SAMPLE, Cli
from vulnmark.cli import cli
from vulnmark.store import Store


def test_the_daily_loop_on_each_store(store_url: str, tmp_path: Path) -> None:
    vm = Cli(store_url, tmp_path)
    assert "30 new" in vm.ok("import", str(APACHE_SAMPLE)).stdout
    assert "30 unchanged" in vm.ok("import", str(APACHE_SAMPLE)).stdout
    assert vm.ok("ticket", "new", "--title", "OCSP heap overflow", "--label", "Sérülékenység",
                 "--by", "ann").stdout.strip() == "VULN-1"
    vm.ok("ticket", "comment", "VULN-1", "besorolás: kritikus", "--by", "bob")
    data = json.loads(vm.ok("check", "--format", "json").stdout)
    assert data["summary"]["tickets"] == 31 and data["summary"]["vulnerabilities"] == 1
    (uncl,) = [f for f in data["findings"] if f["kind"] == "unclassified"]
    assert (uncl["ticket"], uncl["suggested"]) == ("VULN-1", "CRITICAL")
    assert data["summary"]["by_kind"]["suspected"] > 0
    vm.ok("ticket", "label", "VULN-1", "KRITIKUS", "--by", "ann")
    listed = json.loads(vm.ok("list", "--format", "json").stdout)
    assert [(r["ticket"], r["classification"]) for r in listed] == [("VULN-1", "CRITICAL")]
    assert listed[0]["due_at"] == "2026-11-29T07:00:00Z"
    overdue = json.loads(vm.ok("check", "--format", "json", "--kind", "overdue",
                               now="2026-11-29T07:00:01Z").stdout)
    assert [f["ticket"] for f in overdue["findings"]] == ["VULN-1"]
    report = vm.ok("report", "daily").stdout
    assert "Tickets: 31" in report
    runs = json.loads(vm.ok("runs", "--format", "json").stdout)
    assert [r["kind"] for r in runs] == ["report", "check", "check"]
    assert "evidence log OK" in vm.ok("evidence", "verify").stdout


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
@pytest.mark.parametrize("command", [("report", "daily"), ("check",), ("import", "x.jsonl"),
                                     ("init",)])
def test_f5_a_db_url_naming_no_file_is_refused(tmp_path: Path, url: str,
                                               command: tuple[str, ...]) -> None:
    (tmp_path / "x.jsonl").write_text("", encoding="utf-8")
    result = Cli(url, tmp_path)(*command)
    assert result.exit_code == 2, result.output
    assert "names no database file" in result.stderr and "No findings" not in result.stdout
    assert "Traceback" not in result.output


def test_f5_the_env_variable_unset_in_a_shell_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "daily"], env={"VULNMARK_DB": "sqlite:///"})
    assert result.exit_code == 2 and "names no database file" in result.stderr


def test_f5_a_relative_path_meant_as_absolute_gets_a_hint(tmp_path: Path) -> None:
    result = Cli("sqlite:///srv/vulnmark/v.db", tmp_path)("check")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "sqlite:////srv/vulnmark/v.db" in result.stderr


def test_f5_demo_keeps_its_own_temporary_store(tmp_path: Path) -> None:
    result = Cli("sqlite:///", tmp_path)("demo")
    assert result.exit_code == 0, result.output


# -- m4: a damaged store or a vanished working directory is one line and an exit code -------

def test_m4_a_corrupted_store_file_is_exit_3_naming_the_damage(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    vm = Cli(f"sqlite:///{db}", tmp_path)
    vm.ok("import", str(APACHE_SAMPLE))
    size = db.stat().st_size
    with db.open("r+b") as f:  # garbage over every page but the header and the schema
        f.seek(8192)
        f.write(b"\xde\xad\xbe\xef" * ((size - 8192) // 4))
    for command in (("check",), ("list",), ("report", "daily"), ("import", str(APACHE_SAMPLE))):
        result = vm(*command)
        assert result.exit_code == 3, (command, result.output)
        assert "malformed" in result.stderr and "damaged" in result.stderr
        assert "Traceback" not in result.output


def test_m4_a_file_that_is_not_a_store_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "n.db").write_bytes(b"this is not SQLite" * 100)
    result = Cli(f"sqlite:///{tmp_path / 'n.db'}", tmp_path)("check")
    assert result.exit_code == 3 and "not a database" in result.stderr


def test_m4_a_deleted_working_directory_is_exit_2(tmp_path: Path) -> None:
    script = (f"mkdir gone && cd gone && rmdir ../gone && exec {sys.executable} -m vulnmark "
              "check")
    done = subprocess.run(["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert "working directory no longer exists" in done.stderr
    assert "Traceback" not in done.stderr


def test_m4_an_unforeseen_error_is_one_line_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vulnmark.cli import checks

    def boom(*_a: object, **_k: object) -> None:
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr(checks, "_evaluate", boom)
    vm = Cli(f"sqlite:///{tmp_path / 'u.db'}", tmp_path)
    vm.ok("import", str(APACHE_SAMPLE))
    result = vm("check")
    assert result.exit_code == 2
    assert "unexpected ValueError: something nobody foresaw" in result.stderr
    assert "Traceback" not in result.output


def test_m4_nul_and_over_long_values_are_handled_alike_on_each_store(
        store_url: str, tmp_path: Path) -> None:
    """PostgreSQL refused what SQLite stored (NUL, a key or reporter over 255, a source over
    64) with a DataError traceback: now the input is checked before either sees it."""
    vm = Cli(store_url, tmp_path)
    refused = {
        "nul_key.jsonl": {"key": "N-1\u0000", "title": "t", "created": "2026-11-01"},
        "nul_title.jsonl": {"key": "N-2", "title": "a\u0000b", "created": "2026-11-01"},
        "long_key.jsonl": {"key": "K" * 300, "title": "t", "created": "2026-11-01"},
    }
    for name, obj in refused.items():
        (tmp_path / name).write_text(json.dumps(obj) + "\n", encoding="utf-8")
        result = vm("import", str(tmp_path / name))
        assert result.exit_code == 2, (name, result.output)
        assert name in result.stderr and "Traceback" not in result.output
    cut = tmp_path / "long_names.jsonl"
    cut.write_text(json.dumps({"key": "L-1", "title": "t", "created": "2026-11-01",
                               "reporter": "r" * 300, "source": "s" * 100,
                               "status": "x" * 300}) + "\n", encoding="utf-8")
    vm.ok("import", str(cut))
    vm.ok("check")
    with Store.open(store_url) as store:
        t = store.get_ticket("L-1")
    assert t is not None and len(t.reporter or "") == 255 and len(t.source) == 64
