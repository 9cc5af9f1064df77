"""The evidence pack: contents, offline verification, and tampering of any file or record."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from core_support import make_ticket
from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control import daily
from vulnmark.errors import PackError
from vulnmark.evidence import chain, pack
from vulnmark.store import Store
from vulnmark.triage import outcomes

T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack over four days of runs (one day missed) with an outcome and a relabel."""
    root = tmp_path_factory.mktemp("pack")
    config = Config(preset("etsi-319-401"))
    with Store.open(f"sqlite:///{root / 'x.db'}") as store:
        store.upsert_tickets([make_ticket("VULN-1", title="<script>alert(1)</script>",
                                          labels=("Vulnerability", "CRITICAL"), created=T0)],
                             at=T0, actor="ann")
        for day in (0, 1, 3):
            daily.DailyJob(store, config).run(T0 + timedelta(days=day, hours=1))
        outcomes.record(store, "VULN-1", "mitigation_plan", text="isolate host", actor="mso",
                        at=T0 + timedelta(days=1))
        out = root / "pack.zip"
        pack.export(store, config, SINCE, UNTIL, T0 + timedelta(days=4), out)
        pack.export(store, config, SINCE, UNTIL, T0 + timedelta(days=4), root / "dir")
    return out


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _rezip(files: dict[str, bytes], target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return target


def test_pack_contents(built: Path) -> None:
    files = _files(built)
    for name in ("index.html", "manifest.json", "evidence/events.jsonl", "runs.csv",
                 "deliveries.csv", "label_changes.csv", "outcomes.csv", "reclassifications.csv",
                 "policy_changes.csv", "control_days.csv", "metrics.json", "metrics.csv",
                 "charts/within_deadline.svg", "charts/control_days.svg",
                 "reports/run-000001.html", "reports/run-000003.json"):
        assert name in files, name
    manifest = json.loads(files["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    assert manifest["chain"]["head"] == json.loads(
        files["evidence/events.jsonl"].splitlines()[-1])["hash"]
    html = files["index.html"].decode()
    assert "1 of" in html and "missed" in html and "<script>alert" not in html
    assert b"isolate host" in files["outcomes.csv"]
    days = files["control_days.csv"].decode().splitlines()
    assert sum(",missed," in d for d in days) == 1 and days[1].split(",")[2] == "not_started"
    assert "<script>" not in files["reports/run-000001.html"].decode()
    for svg in ("charts/within_deadline.svg", "charts/control_days.svg",
                "charts/time_to_classify.svg"):
        assert ElementTree.fromstring(files[svg]).tag == "{http://www.w3.org/2000/svg}svg"


def test_a_fresh_pack_verifies(built: Path) -> None:
    result = pack.verify(built)
    assert result.ok, result.problems
    assert result.events > 0 and result.head
    assert pack.verify(built.parent / "dir").ok


def test_tampering_with_any_file_is_named(built: Path, tmp_path: Path) -> None:
    original = _files(built)
    for name in sorted(original):
        files = dict(original)
        files[name] = files[name].replace(b"0", b"1", 1) + b" "
        result = pack.verify(_rezip(files, tmp_path / "t.zip"))
        assert not result.ok, name
        assert any(p.startswith(name) for p in result.problems), (name, result.problems)


def test_deleted_and_added_files_are_named(built: Path, tmp_path: Path) -> None:
    files = _files(built)
    del files["outcomes.csv"]
    files["extra.txt"] = b"hello"
    problems = pack.verify(_rezip(files, tmp_path / "t.zip")).problems
    assert "outcomes.csv: missing from the pack (deleted)" in problems
    assert "extra.txt: not listed in the manifest (added)" in problems


def _reseal(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a careful forger does: recompute every SHA-256 and the manifest's own digest."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256(files[entry["path"]]).hexdigest()
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(chain.canonical(body).encode()).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    return files


def test_a_resealed_forgery_is_still_caught_by_the_chain(built: Path, tmp_path: Path) -> None:
    files = _files(built)
    lines = files["evidence/events.jsonl"].decode().splitlines()
    record = json.loads(lines[1])
    record["payload"]["by"] = "mallory"
    lines[1] = json.dumps(record)
    files["evidence/events.jsonl"] = ("\n".join(lines) + "\n").encode()
    problems = pack.verify(_rezip(_reseal(files), tmp_path / "t.zip")).problems
    assert problems == (f"evidence/events.jsonl: record {record['seq']}: content does not "
                        "match its hash (edited)",)


def test_a_swapped_report_is_caught_by_its_run_digest(built: Path, tmp_path: Path) -> None:
    files = _files(built)
    files["reports/run-000002.json"] = files["reports/run-000001.json"]
    problems = pack.verify(_rezip(_reseal(files), tmp_path / "t.zip")).problems
    assert len(problems) == 1 and problems[0].startswith(
        "reports/run-000002.json: SHA-256 differs from evidence record"), problems


def test_removed_or_reordered_records_are_named(built: Path, tmp_path: Path) -> None:
    original = _files(built)
    lines = original["evidence/events.jsonl"].decode().splitlines()
    for changed, expected in [
        (lines[:1] + lines[2:], "expected record"),
        ([lines[1], lines[0], *lines[2:]], "expected record"),
        (lines[:-1], "chain head"),
    ]:
        files = dict(original)
        files["evidence/events.jsonl"] = ("\n".join(changed) + "\n").encode()
        problems = pack.verify(_rezip(_reseal(files), tmp_path / "t.zip")).problems
        assert len(problems) == 1 and expected in problems[0], problems


def test_not_a_pack(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(PackError, match="not a readable pack"):
        pack.verify(bad)
    empty = _rezip({"a.txt": b"x"}, tmp_path / "e.zip")
    assert pack.verify(empty).problems == ("manifest.json: missing",)
