"""The one CSV writer (``vulnmark._csv``), and every CSV a person opens in a spreadsheet: no cell
a spreadsheet would evaluate, whatever the ticket text (F7 and D2 of the December reviews)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark._csv import FORMULA_START, csv_text, defuse, undefuse

CR_FORMULA = "Patch OpenSSL\r=cmd|' /C calc'!A0"
LF_FORMULA = "Patch OpenSSL\n@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA = "=HYPERLINK(\"http://evil.example/x\",\"open\")"


def spreadsheet_rows(text: str) -> list[list[str]]:
    """The rows a spreadsheet reads: a CR or LF outside quotes ends a row (Python's reader
    does the same with newline="")."""
    return list(csv.reader(io.StringIO(text, newline="")))


def formula_cells(text: str) -> list[str]:
    return [c for row in spreadsheet_rows(text) for c in row if c.startswith(FORMULA_START)]


def test_defuse_and_undefuse() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(1)", "\tx", "\rx"):
        assert defuse(text) == "'" + text and undefuse(defuse(text)) == text
    assert defuse("plain") == "plain" == undefuse("plain")
    assert undefuse("'quoted by a person") == "'quoted by a person"


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_f7_a_line_break_inside_a_cell_stays_inside_it(line_end: str) -> None:
    text = csv_text(["key", "title", "labels"], [["A-1", CR_FORMULA, ["x", "=y"]],
                                                  ["A-2", LF_FORMULA, None]], line_end=line_end)
    rows = spreadsheet_rows(text)
    assert rows == [["key", "title", "labels"], ["A-1", CR_FORMULA, "x;=y"],
                    ["A-2", LF_FORMULA, ""]]
    assert formula_cells(text) == []
    assert text.endswith(line_end)


@pytest.fixture
def hostile(vm: Cli, tmp_path: Path) -> Cli:
    lines = [
        {"key": "CSV-2", "title": CR_FORMULA, "description": "rated HIGH",
         "created": "2026-11-26T00:00:00Z", "labels": ["Vulnerability"]},
        {"key": "CSV-3", "title": LF_FORMULA, "description": "rated HIGH",
         "created": "2026-11-26T00:00:00Z", "labels": ["Vulnerability"], "reporter": "@bob"},
        {"key": "CSV-4", "title": FORMULA, "description": "rated HIGH",
         "created": "2026-11-26T00:00:00Z", "labels": ["Vulnerability"]},
    ]
    path = tmp_path / "csv.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    vm.ok("import", str(path))
    return vm


@pytest.mark.parametrize("command", [["check"], ["list"], ["report", "daily"]])
def test_f7_check_list_and_report_csv_have_no_formula_cell(hostile: Cli,
                                                           command: list[str]) -> None:
    text = hostile.ok(*command, "--format", "csv").stdout
    rows = spreadsheet_rows(text)
    assert len(rows) == 4 and {len(r) for r in rows} == {len(rows[0])}, rows
    assert formula_cells(text) == []
    assert any(CR_FORMULA in r for r in rows)  # defused only where it starts, kept otherwise


def test_f7_d2_backfill_review_csv_is_defused_and_reads_back(hostile: Cli, tmp_path: Path) -> None:
    text = hostile.ok("backfill", "--format", "csv").stdout
    assert formula_cells(text) == []
    rows = spreadsheet_rows(text)
    assert len(rows) == 4 and "'" + FORMULA in rows[3] + rows[2] + rows[1]
    review = tmp_path / "review.csv"
    accepted = [r[:-1] + ["yes"] if r[0] == "CSV-4" else r for r in rows]
    review.write_text(csv_text(accepted[0], accepted[1:]), encoding="utf-8")
    assert "applied 1 labels to 1 tickets" in hostile.ok("backfill", "--accept",
                                                         str(review)).stdout
    shown = json.loads(hostile.ok("ticket", "show", "CSV-4", "--format", "json").stdout)
    assert shown["labels"] == ["Vulnerability", "HIGH"] and shown["title"] == FORMULA


def test_f7_d2_evidence_pack_csvs_are_defused(vm: Cli, tmp_path: Path) -> None:
    vm.ok("ticket", "new", "--title", "t", "--label", "Vulnerability", "--label", "LOW",
          "--by", FORMULA)
    vm.ok("reclassify", "VULN-1", "HIGH", "--why", "=cmd|' /C calc'!A0", "--by", "-1+1")
    vm.ok("outcome", "VULN-1", "--mitigation-plan", "+1+cmd|x!A1", "--by", "@SUM(1)")
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30",
          "-o", str(tmp_path / "pack.zip"))
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        names = [n for n in z.namelist() if n.endswith(".csv")]
        texts = {n: z.read(n).decode("utf-8") for n in names}
    assert {"label_changes.csv", "reclassifications.csv", "outcomes.csv"} <= set(texts)
    for name, text in texts.items():
        assert formula_cells(text) == [], name
    cells = {name: {c for row in spreadsheet_rows(t) for c in row} for name, t in texts.items()}
    assert "'" + FORMULA in cells["label_changes.csv"]
    assert "'+1+cmd|x!A1" in cells["outcomes.csv"]
    assert "'=cmd|' /C calc'!A0" in cells["reclassifications.csv"]


def test_f6_f7_control_characters_in_a_cell_are_shown_not_sent() -> None:
    """A CSV printed to a terminal is a human output too: ESC, NUL, C1 and bidi overrides are
    replaced; TAB, CR and LF stay inside their quoted cell."""
    text = csv_text(["title"], [["\x1b]0;PWNED\x07x\x00\x9b\u202e"], ["a\r\nb\tc"]])
    assert spreadsheet_rows(text) == [["title"], ["\ufffd]0;PWNED\ufffdx\ufffd\ufffd\ufffd"],
                                      ["a\r\nb\tc"]]


def test_f7_every_csv_vulnmark_writes_goes_through_the_one_writer() -> None:
    """A new CSV output cannot bypass ``vulnmark._csv`` (defused, quoted, cleaned)."""
    src = Path(__file__).resolve().parents[1] / "src" / "vulnmark"
    offenders = [str(p.relative_to(src)) for p in sorted(src.rglob("*.py"))
                 if p.name != "_csv.py" and any(
                     w in p.read_text(encoding="utf-8")
                     for w in ("csv.writer(", "csv.DictWriter(", "csv.excel"))]
    assert not offenders, offenders
