"""The whole CLI loop on both stores: SQLite file and PostgreSQL server (``--db``)."""

from __future__ import annotations

import json
from pathlib import Path

from core_support import APACHE_SAMPLE, Cli


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
