"""The newcomer's M2 as an attack through the CLI, on a real SQLite file: import → backfill
--accept → import the same file again used to drop every label backfill applied ("5
vulnerabilities, then 0") and date the removal with the source's 2010 time, out of the period's
evidence pack. Now the labels are kept over the source, the check and the report say so
(``source_diverged``), the source carrying them clears it, and ``import --accept-source-labels``
takes the source's labels, recorded with the OS user."""

from __future__ import annotations

import csv
import getpass
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.store import Store
from vulnmark.store import events as store_events

OLD = "2010-02-24T03:53:21.000+0000"


def _issue(key: str, summary: str, description: str, labels: list[str]) -> dict[str, object]:
    return {"key": key, "fields": {"summary": summary, "description": description,
                                   "labels": labels, "status": {"name": "Open"},
                                   "created": "2010-02-20T10:00:00.000+0000", "updated": OLD}}


def _page(path: Path, extra: dict[str, list[str]] | None = None) -> Path:
    """A Jira search response of five issues whose text states a class and that carry no
    marking (plus ``extra`` labels per key)."""
    extra = extra or {}
    issues = [_issue(f"AMQ-{n}", f"Broker flaw {n}",
                     f"After review this vulnerability is rated {cls}.", extra.get(f"AMQ-{n}", []))
              for n, cls in enumerate(["HIGH", "CRITICAL", "LOW", "MEDIUM", "HIGH"], start=1)]
    issues.append(_issue("AMQ-9", "Docs typo", "nothing to see", []))
    path.write_text(json.dumps({"startAt": 0, "maxResults": 50, "total": len(issues),
                                "issues": issues}), encoding="utf-8")
    return path


def _accept_all(vm: Cli, tmp_path: Path) -> None:
    review = tmp_path / "review.csv"
    vm.ok("backfill", "--format", "csv", "-o", str(review))
    rows = list(csv.DictReader(io.StringIO(review.read_text(encoding="utf-8"))))
    assert len(rows) == 5
    for row in rows:
        row["accept"] = "yes"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    review.write_text(out.getvalue(), encoding="utf-8")
    assert "to 5 tickets" in vm.ok("backfill", "--accept", str(review)).stdout


def _list(vm: Cli) -> list[dict[str, object]]:
    return list(json.loads(vm.ok("list", "--format", "json").stdout))


def _events(vm: Cli, kind: str) -> list[dict[str, object]]:
    with Store.open(vm.db_url) as store, store.reading() as conn:
        return [e.payload for e in store_events.iter_events(conn) if e.kind == kind]


@pytest.fixture
def accepted(vm: Cli, tmp_path: Path) -> tuple[Cli, Path]:
    page = _page(tmp_path / "search_page_00.json")
    vm.ok("import", str(page))
    _accept_all(vm, tmp_path)
    assert len(_list(vm)) == 5
    return vm, page


def test_m2_reimport_keeps_the_labels_backfill_applied(accepted: tuple[Cli, Path]) -> None:
    vm, page = accepted
    result = vm.ok("import", str(page))
    assert "5 updated" in result.stdout
    assert "5 ticket(s) keep labels vulnmark applied that the file lacks" in result.stderr
    listed = _list(vm)
    assert len(listed) == 5  # was 0
    assert all("source_diverged" in v["findings"] for v in listed)  # type: ignore[operator]
    check = json.loads(vm.ok("check", "--format", "json").stdout)
    assert check["summary"]["by_kind"]["source_diverged"] == 5
    assert set(check["findings"][0]) == {"ticket", "kind", "title", "url", "labels",
                                         "classification", "suggested", "confidence",
                                         "evidence", "due_at", "reporter"}
    diverged = [f for f in check["findings"] if f["kind"] == "source_diverged"]
    assert {f["ticket"] for f in diverged} == {f"AMQ-{n}" for n in range(1, 6)}
    assert all(e["field"] == "label" for f in diverged for e in f["evidence"])
    assert vm("check", "--fail-on", "source_diverged").exit_code == 1
    report = vm.ok("report", "daily").stdout
    assert "source_diverged" in report and "AMQ-3" in report
    # a third import of the same file is a no-op
    assert "0 updated, 6 unchanged" in vm.ok("import", str(page)).stdout
    assert len(_list(vm)) == 5
    assert "evidence log OK" in vm.ok("evidence", "verify").stdout


def test_the_source_carrying_the_labels_clears_the_divergence(accepted: tuple[Cli, Path],
                                                              tmp_path: Path) -> None:
    vm, page = accepted
    vm.ok("import", str(page))
    shown = vm.ok("ticket", "show", "AMQ-1", "--format", "json").stdout
    labels = json.loads(shown)["labels"]
    fixed = _page(tmp_path / "search_page_01.json", {"AMQ-1": labels})
    vm.ok("import", str(fixed))
    check = json.loads(vm.ok("check", "--kind", "source_diverged", "--format", "json").stdout)
    assert {f["ticket"] for f in check["findings"]} == {"AMQ-2", "AMQ-3", "AMQ-4", "AMQ-5"}
    cleared = _events(vm, "overlay_cleared")
    assert [(c["ticket"], set(c["added"])) for c in cleared] == [("AMQ-1", set(labels))]


def test_accept_source_labels_takes_the_sources_and_records_who(accepted: tuple[Cli, Path]
                                                                 ) -> None:
    vm, page = accepted
    vm.ok("import", str(page))
    out = vm.ok("import", "--accept-source-labels", "--ticket", "AMQ-2").stdout
    assert "AMQ-2: source labels taken: (none)" in out
    assert len(_list(vm)) == 4
    assert [a["ticket"] for a in _events(vm, "source_labels_accepted")] == ["AMQ-2"]
    assert _events(vm, "source_labels_accepted")[0]["by"] == getpass.getuser()
    # with the files: the tickets of the file take the file's labels
    out = vm.ok("import", "--accept-source-labels", str(page)).stdout
    assert "4 ticket(s) now have their source's labels" in out
    assert _list(vm) == []
    check = json.loads(vm.ok("check", "--format", "json").stdout)
    assert check["summary"]["by_kind"]["source_diverged"] == 0
    # a key with nothing kept is named, and nothing else happens
    bad = vm("import", "--accept-source-labels", "--ticket", "AMQ-1")
    assert bad.exit_code == 2 and "AMQ-1" in bad.stderr
    assert "evidence log OK" in vm.ok("evidence", "verify").stdout


def test_import_needs_files_or_the_accept_option(vm: Cli) -> None:
    assert vm("import").exit_code == 2
    assert vm("import", "--ticket", "AMQ-1", "x.json").exit_code == 2


def test_a_removal_seen_in_a_source_is_dated_now_and_lands_in_this_periods_pack(
        vm: Cli, tmp_path: Path) -> None:
    """The source's time stays beside it (``source_at`` and the ``at`` column)."""
    vm.ok("import", str(_page(tmp_path / "a.json", {"AMQ-1": ["Vulnerability", "HIGH"]})),
          now="")
    before = datetime.now(UTC)
    vm.ok("import", str(_page(tmp_path / "b.json")), now="")
    change = [c for c in _events(vm, "label_change") if c["ticket"] == "AMQ-1"][-1]
    assert change["removed"] == ["Vulnerability", "HIGH"]
    observed = datetime.fromisoformat(str(change["observed_at"]))
    assert before - timedelta(seconds=1) <= observed <= datetime.now(UTC)
    assert change["source_at"] == "2010-02-24T03:53:21.000000Z"
    today = before.date()
    pack = tmp_path / "pack.zip"
    vm.ok("evidence", "export", "--from", today.isoformat(),
          "--to", (today + timedelta(days=1)).isoformat(), "--output", str(pack), now="")
    with zipfile.ZipFile(pack) as z:
        rows = list(csv.DictReader(io.StringIO(z.read("label_changes.csv").decode())))
    removal = [r for r in rows if r["ticket"] == "AMQ-1" and "HIGH" in r["removed"]]
    assert len(removal) == 1
    assert removal[0]["at"].startswith("2010-02-24")
    assert removal[0]["recorded_at"].startswith(today.isoformat())
