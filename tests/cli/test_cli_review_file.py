"""The review file of ``backfill`` as real spreadsheets save it (newcomer report m4): Excel in
a Hungarian (German, French) locale writes ``;``-separated CSV in Windows-1250, and people
answer ``igen``. The delimiter is sniffed, UTF-8 with or without BOM and cp1250 (with a
warning) are read, yes/no is understood in the policy's languages, and any other answer is
refused naming the line (it was silently ignored)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from core_support import Cli


@pytest.fixture
def review(vm: Cli) -> tuple[Cli, list[list[str]]]:
    vm.ok("ticket", "new", "--key", "B-1", "--title", "OCSP válaszadó hiba",
          "--label", "Vulnerability")
    vm.ok("ticket", "comment", "B-1", "After review this is rated HIGH.")
    vm.ok("ticket", "new", "--key", "B-3", "--title", "log4j CVE-2021-44228 on the TSA")
    rows = list(csv.reader(io.StringIO(vm.ok("backfill", "--format", "csv").stdout,
                                       newline="")))
    assert rows[0][0] == "ticket" and rows[0][-1] == "accept" and len(rows) == 3
    return vm, rows


def _write(path: Path, rows: list[list[str]], *, delimiter: str, encoding: str) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _answer(rows: list[list[str]], answers: dict[str, str]) -> list[list[str]]:
    return [rows[0]] + [r[:-1] + [answers.get(r[0], "")] for r in rows[1:]]


def _labels(vm: Cli, key: str) -> list[str]:
    return json.loads(vm.ok("ticket", "show", key, "--format", "json").stdout)["labels"]


@pytest.mark.parametrize(("delimiter", "encoding", "yes"), [
    (";", "cp1250", "igen"), (";", "utf-8-sig", "Ja"), (",", "utf-8", "oui"),
    ("\t", "utf-8", "YES"), (";", "utf-8", "x"),
])
def test_m4_review_file_from_a_localised_spreadsheet(review: tuple[Cli, list[list[str]]],
                                                     tmp_path: Path, delimiter: str,
                                                     encoding: str, yes: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    vm, rows = review
    path = _write(tmp_path / "review.csv", _answer(rows, {"B-1": yes, "B-3": "nem"}),
                  delimiter=delimiter, encoding=encoding)
    result = vm.ok("backfill", "--accept", str(path))
    assert "applied 1 labels to 1 tickets" in result.stdout, result.output
    assert "HIGH" in _labels(vm, "B-1") and _labels(vm, "B-3") == []
    # (on a terminal: "vulnmark: WARNING: review.csv: not UTF-8 …; read as Windows-1250")
    assert ("Windows-1250" in caplog.text) == (encoding == "cp1250")


def test_m4_excel_sep_line_is_understood(review: tuple[Cli, list[list[str]]],
                                         tmp_path: Path) -> None:
    vm, rows = review
    path = tmp_path / "review.csv"
    body = _write(tmp_path / "x.csv", _answer(rows, {"B-1": "igen"}), delimiter=";",
                  encoding="utf-8").read_text(encoding="utf-8")
    path.write_text("sep=;\r\n" + body, encoding="utf-8")
    assert "applied 1 labels" in vm.ok("backfill", "--accept", str(path)).stdout


@pytest.mark.parametrize("answer", ["talán", "maybe", "accept?", "yes please"])
def test_m4_an_answer_that_is_neither_yes_nor_no_is_refused_naming_the_line(
        review: tuple[Cli, list[list[str]]], tmp_path: Path, answer: str) -> None:
    vm, rows = review
    path = _write(tmp_path / "review.csv", _answer(rows, {"B-1": "igen", "B-3": answer}),
                  delimiter=";", encoding="utf-8")
    line = 1 + next(i for i, r in enumerate(rows) if r[0] == "B-3")
    result = vm("backfill", "--accept", str(path))
    assert result.exit_code == 2, result.output
    assert f"review.csv: line {line}: field accept:" in result.stderr
    assert "igen/nem" in result.stderr
    assert "HIGH" not in _labels(vm, "B-1")  # nothing applied from a file with an error


def test_m4_a_file_that_is_not_a_review_says_which_columns_are_missing(
        review: tuple[Cli, list[list[str]]], tmp_path: Path) -> None:
    vm, _ = review
    path = tmp_path / "other.csv"
    path.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    result = vm("backfill", "--accept", str(path))
    assert result.exit_code == 2 and "missing column(s) accept, add, ticket" in result.stderr
