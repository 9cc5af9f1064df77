"""``vulnmark intake run|status|test`` and ``vulnmark assess`` through the CLI: exit codes,
messages naming file, record and key, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core_support import Cli
from intake_support import cve, official_nvd_check, write_nvd


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "vulnmark.toml"
    path.write_text('[intake]\nvendors = ["OpenSSL"]\n', encoding="utf-8")
    return path


def test_run_status_test_and_assess(vm: Cli, tmp_path: Path, config: Path) -> None:
    feed = write_nvd(tmp_path / "nvd.json", [cve(1), cve(2, description="\x1b[31mred\x1b[0m "
                                                         "OpenSSL issue")])
    dry = vm.ok("intake", "run", "--from", str(feed), "--dry-run", config=config).output
    assert "would open CVE-2026-0001: HIGH" in dry and "would open 2" in dry
    out = vm.ok("intake", "run", "--from", str(feed), "--format", "json", config=config)
    done = json.loads(out.output)
    assert done["feed"] == "nvd" and done["opened"] == ["VULN-1", "VULN-2"]
    again = vm.ok("intake", "run", "--from", str(feed), "--feed", "nvd", config=config).output
    assert "opened 0, updated 0, unchanged 2" in again
    status = json.loads(vm.ok("intake", "status", "--format", "json", config=config).output)
    assert status["summary"]["tickets"] == 2 and status["tickets"][0]["class"] == "HIGH"
    table = vm.ok("intake", "status", config=config).output
    assert "CVE-2026-0002" in table and "\x1b" not in table
    why = vm.ok("intake", "test", "CVE-2026-0002", "--from", str(feed), config=config).output
    assert "matches: vendor 'OpenSSL'" in why and "ticket: VULN-2" in why and "\x1b" not in why
    r = vm.ok("assess", "VULN-1", "--class", "LOW", "--why", "lab only", config=config)
    assert "reclassified (HIGH -> LOW)" in r.output
    r = vm("assess", "VULN-1", "--affected", config=config)
    assert r.exit_code == 2 and "already assessed" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["assess", "VULN-1"], "exactly one of"),
    (["assess", "VULN-1", "--affected", "--reason", "other"], "--reason belongs"),
    (["assess", "VULN-9", "--affected"], "not opened by threat intake"),
    (["intake", "run", "--from", "nvd.json", "--since", "soon"], "not a date"),
    (["intake", "test", "CVE-2026-0404", "--from", "nvd.json"], "no record CVE-2026-0404"),
])
def test_usage_errors_exit_2(vm: Cli, tmp_path: Path, config: Path, args: list[str],
                             message: str) -> None:
    write_nvd(tmp_path / "nvd.json", [cve(1)])
    args = [str(tmp_path / a) if a == "nvd.json" else a for a in args]
    if args[0] == "assess" and args[1] == "VULN-9":
        vm.ok("ticket", "new", "--title", "by hand", "--key", "VULN-9", config=config)
    r = vm(*args, config=config)
    assert r.exit_code == 2 and message in r.output, r.output


def test_a_bad_feed_names_file_record_and_field(vm: Cli, tmp_path: Path,
                                                config: Path) -> None:
    feed = write_nvd(tmp_path / "nvd.json", [cve(1), {**cve(2), "lastModified": 5}])
    r = vm("intake", "run", "--from", str(feed), config=config)
    assert r.exit_code == 2
    assert f"{feed}: record CVE-2026-0002: field lastModified: expected a string" in r.output
    assert "Traceback" not in r.output
    none = tmp_path / "empty.toml"
    none.write_text("", encoding="utf-8")
    r = vm("intake", "run", "--from", str(write_nvd(tmp_path / "ok.json", [cve(1)])),
           config=none)
    assert r.exit_code == 2 and "no [intake] table" in r.output
    strange = tmp_path / "x.json"
    strange.write_text('{"hello": 1}', encoding="utf-8")
    r = vm("intake", "run", "--from", str(strange), config=config)
    assert r.exit_code == 2 and "name it with --feed" in r.output


def test_run_reads_the_live_nvd_api_with_the_key_from_the_environment(
        vm: Cli, tmp_path: Path) -> None:
    from vulnmark.testing import NvdEmulator
    from vulnmark.testing.server import serve_in_thread

    emu = NvdEmulator(api_keys={"s3cret-key"}, validator=official_nvd_check)
    emu.add([cve(1, modified="2026-11-26T00:00:00.000"), cve(2)])
    with serve_in_thread(emu) as url:
        config = tmp_path / "live.toml"
        config.write_text(f'[intake]\nvendors = ["OpenSSL"]\nnvd_url = "{url}/rest/json/cves/'
                          '2.0"\n', encoding="utf-8")
        r = vm.ok("intake", "run", config=config, env={"VULNMARK_NVD_API_KEY": "s3cret-key"})
        assert "records modified 2026-11-20T07:00:00Z .. 2026-11-27T07:00:00Z" in r.output
        assert "opened VULN-1 for CVE-2026-0001" in r.output and "s3cret" not in r.output
        assert all(q.keyed for q in emu.requests)
        refused = vm("intake", "run", config=config, env={"VULNMARK_NVD_API_KEY": "wrong"},
                     now="2026-11-28T07:00:00Z")
        assert refused.exit_code == 3 and "refused the API key" in refused.output
        assert "wrong" not in refused.output.replace("VULNMARK_NVD_API_KEY", "")
    secret = tmp_path / "secret.toml"
    secret.write_text('[intake]\nvendors = ["x"]\napi_key = "abc"\n', encoding="utf-8")
    r = vm("intake", "status", config=secret)
    assert r.exit_code == 2 and "only from the environment" in r.output


def test_run_and_assess_follow_the_clock_rule(vm: Cli, tmp_path: Path, config: Path) -> None:
    feed = write_nvd(tmp_path / "nvd.json", [cve(1)])
    vm.ok("intake", "run", "--from", str(feed), config=config)
    operator = Cli(vm.db_url, vm.workdir, override=False)
    for args in (["intake", "run", "--from", str(feed)], ["assess", "VULN-1", "--affected"]):
        r = operator(*args, config=config)
        assert r.exit_code == 2 and "VULNMARK_ALLOW_CLOCK_OVERRIDE" in r.output, args
    assert "would open 0" in operator.ok("intake", "run", "--from", str(feed), "--dry-run",
                                         config=config).output
    assert "affected" in operator.ok("assess", "VULN-1", "--affected", now="",
                                     config=config).output
