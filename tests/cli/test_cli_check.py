"""``vulnmark check``, ``list`` and ``jql`` through the CLI: every finding kind in the JSON of
DESIGN.md, deadline boundaries to the second, filters and ``--fail-on``."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core_support import NOW_DT, Cli
from vulnmark.model import FINDING_KINDS

NFD = unicodedata.normalize("NFD", "Sérülékenység")
TOP_KEYS = {"generated_at", "policy", "summary", "findings"}
SUMMARY_KEYS = {"tickets", "vulnerabilities", "by_class", "by_kind"}
FINDING_KEYS = {"ticket", "kind", "title", "url", "labels", "classification", "suggested",
                "confidence", "evidence", "due_at", "reporter"}
EXTRA_FINDING_KEYS = {"created", "detail"}  # documented extras of Finding.as_dict
EVIDENCE_KEYS = {"field", "index", "text"}


def iso(delta: timedelta) -> str:
    return (NOW_DT + delta).isoformat().replace("+00:00", "Z")


def jsonl(tmp_path: Path, rows: list[dict[str, Any]], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def row(key: str, title: str, labels: list[str], *, age: timedelta = timedelta(days=2),
        comments: tuple[str, ...] = (), resolved_after: timedelta | None = None,
        **extra: Any) -> dict[str, Any]:
    created = -age
    out: dict[str, Any] = {
        "key": key, "title": title, "labels": labels, "created": iso(created),
        "reporter": "ann", "url": f"https://jira.example.org/browse/{key}",
        "comments": [{"body": c, "author": "bob"} for c in comments], **extra,
    }
    if resolved_after is not None:
        out["resolved"] = iso(created + resolved_after)
        out["status"] = "Resolved"
    return out


H48 = timedelta(hours=48)
ROWS = [
    row("K-UNCL", "Heap overflow in the CRL parser", ["Sérülékenység"],
        comments=("looked at it", "rated HIGH by the security team")),
    row("K-CONF", "Weak cipher suites", ["Vulnerability", "HIGH", "LOW"]),
    row("K-UNMK", "Outdated jQuery", ["MEDIUM"]),
    row("K-SUSP", "Upgrade OpenSSL for CVE-2026-1111", []),
    row("K-NONC", "Timing leak", [NFD, "LOW"]),
    row("K-MISM", "RCE in OCSP responder", ["Vulnerability", "LOW"],
        comments=("severity: critical",)),
    row("K-SOON", "Critical, 30 h old", ["Sérülékenység", "CRITICAL"], age=timedelta(hours=30)),
    row("K-EDGE", "Critical, exactly 48 h old", ["Sérülékenység", "CRITICAL"], age=H48),
    row("K-OVER", "Critical, 48 h 1 s old", ["Sérülékenység", "CRITICAL"],
        age=H48 + timedelta(seconds=1)),
    row("K-LATE", "Critical, fixed after 49 h", ["Sérülékenység", "CRITICAL"],
        age=timedelta(days=10), resolved_after=timedelta(hours=49)),
    row("K-INTIME", "Critical, fixed after 47 h", ["Sérülékenység", "CRITICAL"],
        age=timedelta(days=10), resolved_after=timedelta(hours=47)),
    row("K-HIGH", "High, no fixed clock", ["Sérülékenység", "MAGAS"], age=timedelta(days=400)),
    row("K-PLAIN", "Rename a config option", []),
]
EXPECTED = {
    "K-UNCL": ["unclassified"],
    "K-CONF": ["conflicting"],
    "K-UNMK": ["unmarked"],
    "K-SUSP": ["suspected"],
    "K-NONC": ["noncanonical"],
    "K-MISM": ["mismatch"],
    "K-SOON": ["due_soon"],
    "K-EDGE": ["due_soon"],
    "K-OVER": ["overdue"],
    "K-LATE": ["late"],
}


@pytest.fixture
def loaded(vm: Cli, tmp_path: Path) -> Cli:
    vm.ok("import", str(jsonl(tmp_path, ROWS)))
    return vm


def check_json(vm: Cli, *args: str, now: str | None = None) -> dict[str, Any]:
    result = vm("check", "--format", "json", *args, now=now)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_ticket(data: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in data["findings"]:
        if f["kind"] != "no_outcome":  # outcomes are another module's tests
            out.setdefault(f["ticket"], []).append(f["kind"])
    return out


def test_every_kind_positive_and_negative(loaded: Cli) -> None:
    data = check_json(loaded)
    assert by_ticket(data) == EXPECTED  # K-INTIME, K-HIGH and K-PLAIN: nothing


def test_check_json_shape_is_the_contract(loaded: Cli) -> None:
    data = check_json(loaded)
    assert set(data) == TOP_KEYS
    assert set(data["summary"]) == SUMMARY_KEYS
    assert data["generated_at"] == "2026-11-27T07:00:00Z"
    assert data["policy"]["preset"] == "etsi-319-401" and len(data["policy"]["digest"]) == 64
    s = data["summary"]
    assert s["tickets"] == len(ROWS)
    assert s["vulnerabilities"] == 11  # every marked ticket, K-UNMK included
    assert s["by_class"] == {"CRITICAL": 5, "HIGH": 1, "MEDIUM": 1, "LOW": 2,
                             "INFORMATIVE": 0, "unclassified": 2}
    assert list(s["by_kind"]) == list(FINDING_KINDS)
    assert {k: n for k, n in s["by_kind"].items() if k != "no_outcome"} == {
        "unclassified": 1, "conflicting": 1, "unmarked": 1, "suspected": 1, "noncanonical": 1,
        "mismatch": 1, "bad_date": 0, "due_soon": 2, "overdue": 1, "late": 1,
        "source_diverged": 0, "assessment_due_soon": 0, "assessment_overdue": 0}
    for f in data["findings"]:
        assert FINDING_KEYS <= set(f) <= FINDING_KEYS | EXTRA_FINDING_KEYS, f
        assert isinstance(f["labels"], list)
        for e in f["evidence"]:
            assert set(e) == EVIDENCE_KEYS
            assert e["field"] in ("title", "description", "comment", "label")
            assert (e["index"] is not None) == (e["field"] == "comment")


def test_finding_details(loaded: Cli) -> None:
    found = {(f["ticket"], f["kind"]): f for f in check_json(loaded)["findings"]}
    uncl = found["K-UNCL", "unclassified"]
    assert (uncl["suggested"], uncl["classification"], uncl["reporter"]) == ("HIGH", None, "ann")
    assert 0 < uncl["confidence"] <= 1
    assert {"field": "comment", "index": 1} == {k: uncl["evidence"][0][k]
                                                for k in ("field", "index")}
    assert "rated HIGH" in uncl["evidence"][0]["text"]
    assert uncl["url"] == "https://jira.example.org/browse/K-UNCL"
    assert uncl["labels"] == ["Sérülékenység"]
    nonc = found["K-NONC", "noncanonical"]
    assert nonc["evidence"] == [{"field": "label", "index": None, "text": NFD}]
    assert nonc["classification"] == "LOW"
    mism = found["K-MISM", "mismatch"]
    assert (mism["classification"], mism["suggested"]) == ("LOW", "CRITICAL")
    over = found["K-OVER", "overdue"]
    assert over["due_at"] == iso(-timedelta(seconds=1))
    edge = found["K-EDGE", "due_soon"]
    assert edge["due_at"] == "2026-11-27T07:00:00Z"
    susp = found["K-SUSP", "suspected"]
    assert any("CVE-2026-1111" in e["text"] for e in susp["evidence"])


def test_deadline_boundary_to_the_second(vm: Cli, tmp_path: Path) -> None:
    created = "2026-11-25T07:00:00Z"
    vm.ok("import", str(jsonl(tmp_path, [{"key": "E-1", "title": "critical",
                                          "created": created,
                                          "labels": ["Sérülékenység", "CRITICAL"]}])))
    at = check_json(vm, now="2026-11-27T07:00:00Z")["findings"]
    assert [f["kind"] for f in at] == ["due_soon"]
    after = check_json(vm, now="2026-11-27T07:00:01Z")["findings"]
    assert [f["kind"] for f in after] == ["overdue"]
    assert after[0]["due_at"] == "2026-11-27T07:00:00Z"
    before_window = check_json(vm, now="2026-11-26T06:59:59Z")["findings"]
    assert before_window == []


def test_ncssr_v1_deadline_is_96_hours(vm: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "ncssr.toml"
    cfg.write_text('preset = "ncssr-v1"\n', encoding="utf-8")
    vm.ok("import", str(jsonl(tmp_path, [{"key": "N-1", "title": "high",
                                          "created": "2026-11-20T00:00:00Z",
                                          "labels": ["Vulnerability", "HIGH"]}])))
    r = vm("check", "--format", "json", config=cfg, now="2026-11-24T00:00:00Z")
    assert [f["kind"] for f in json.loads(r.stdout)["findings"]] == ["due_soon"]
    r = vm("check", "--format", "json", config=cfg, now="2026-11-24T00:00:01Z")
    (f,) = json.loads(r.stdout)["findings"]
    assert (f["kind"], f["due_at"]) == ("overdue", "2026-11-24T00:00:00Z")


def test_fail_on(loaded: Cli) -> None:
    assert loaded("check", "--fail-on", "unclassified").exit_code == 1
    assert loaded("check", "--fail-on", "overdue,late").exit_code == 1
    assert loaded("check", "--fail-on", "any").exit_code == 1
    assert loaded("check", "--kind", "suspected", "--fail-on", "unclassified").exit_code == 0
    assert loaded("check").exit_code == 0
    bad = loaded("check", "--fail-on", "unclasified")
    assert bad.exit_code == 2 and "unclasified" in bad.stderr


def test_fail_on_respects_the_filters(loaded: Cli) -> None:
    assert loaded("check", "--kind", "suspected", "--fail-on", "overdue").exit_code == 0


def test_filters(loaded: Cli) -> None:
    assert set(by_ticket(check_json(loaded, "--kind", "overdue", "--kind", "late"))) == {
        "K-OVER", "K-LATE"}
    assert set(by_ticket(check_json(loaded, "--class", "LOW"))) == {"K-NONC", "K-MISM"}
    assert set(by_ticket(check_json(loaded, "--unclassified", "--kind", "unclassified"))) == {
        "K-UNCL"}
    assert set(by_ticket(check_json(loaded, "--state", "resolved"))) == {"K-LATE"}
    assert set(by_ticket(check_json(loaded, "--state", "resolved", "--kind", "late"))) == {
        "K-LATE"}
    assert "K-LATE" not in by_ticket(check_json(loaded, "--state", "open"))
    bad = loaded("check", "--class", "SEVERE")
    assert bad.exit_code == 2 and "SEVERE" in bad.stderr


def test_table_and_csv(loaded: Cli) -> None:
    table = loaded.ok("check").stdout
    assert "K-OVER" in table and "13 tickets, 11 vulnerabilities, " in table
    lines = loaded.ok("check", "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("ticket,kind,classification")
    assert len(lines) == 1 + len(check_json(loaded)["findings"])


def test_check_records_a_run(loaded: Cli) -> None:
    loaded.ok("check")
    runs = json.loads(loaded.ok("runs", "--format", "json").stdout)
    assert runs[0]["kind"] == "check" and runs[0]["counts"]["tickets"] == len(ROWS)


def test_list_shows_vulnerabilities_and_their_class(loaded: Cli) -> None:
    rows = json.loads(loaded.ok("list", "--format", "json").stdout)
    got = {r["ticket"]: r["classification"] for r in rows}
    assert got == {"K-UNCL": None, "K-CONF": None, "K-UNMK": "MEDIUM", "K-NONC": "LOW",
                   "K-MISM": "LOW", "K-SOON": "CRITICAL", "K-EDGE": "CRITICAL",
                   "K-OVER": "CRITICAL", "K-LATE": "CRITICAL", "K-INTIME": "CRITICAL",
                   "K-HIGH": "HIGH"}
    crit_open = json.loads(loaded.ok("list", "--class", "CRITICAL", "--state", "open",
                                     "--format", "json").stdout)
    assert [r["ticket"] for r in crit_open] == ["K-EDGE", "K-OVER", "K-SOON"]
    uncl = json.loads(loaded.ok("list", "--unclassified", "--format", "json").stdout)
    assert {r["ticket"] for r in uncl} == {"K-UNCL", "K-CONF"}
    over = json.loads(loaded.ok("list", "--kind", "overdue", "--format", "json").stdout)
    assert [r["ticket"] for r in over] == ["K-OVER"]


def test_jql_quotes_and_escapes_labels(vm: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "q.toml"
    cfg.write_text('[labels]\nvulnerability = ["Vuln\\"x", "back\\\\slash"]\n',
                   encoding="utf-8")
    out = vm.ok("jql", "--unclassified", "--state", "open", config=cfg).stdout
    assert '"Vuln\\"x"' in out and '"back\\\\slash"' in out
    assert '"KRITIKUS"' in out and '"INFORMATÍV"' in out
    crit = vm.ok("jql", "--class", "CRITICAL").stdout
    assert '"CRITICAL"' in crit and '"KRITIKUS"' in crit and '"LOW"' not in crit


def test_an_unchanged_store_is_not_reevaluated(loaded: Cli) -> None:
    from vulnmark.check import engine
    from vulnmark.config.presets import preset
    from vulnmark.store import Store

    loaded.ok("check")
    with Store.open(loaded.db_url) as store:
        assert engine.refresh(store, preset("etsi-319-401")) == 0


def test_unclassified_filter_keeps_only_vulnerabilities(loaded: Cli) -> None:
    assert set(by_ticket(check_json(loaded, "--unclassified"))) == {"K-UNCL", "K-CONF"}


def test_csv_output_does_not_let_a_title_become_a_formula(vm: Cli, tmp_path: Path) -> None:
    vm.ok("import", str(jsonl(tmp_path, [row("F-1", '=HYPERLINK("http://evil")',
                                             ["Vulnerability"])])))
    out = vm.ok("check", "--format", "csv").stdout
    assert "'=HYPERLINK" in out
    assert ',=HYPERLINK' not in out and ',"=HYPERLINK' not in out
