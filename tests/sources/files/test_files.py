"""load_file / FileSource: format detection, strict decoding, whole-file validation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vulnmark.errors import InputError, SourceError
from vulnmark.sources.files.jsonl import ticket_to_json
from vulnmark.sources.files.load import FileSource, load_file
from vulnmark.sources.interface import TicketSource

WriteJson = Callable[[str, object], Path]


def _lines(*objs: object) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objs)


def _ticket_line(key: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": f"title {key}", "created": "2026-01-01T00:00:00Z", **extra}


def test_real_apache_pages_load(apache_pages: list[Path]) -> None:
    tickets = [t for page in apache_pages for t in load_file(page)]
    assert len(tickets) == 1299
    assert len({t.key for t in tickets}) == 1299
    assert sum("security" in t.labels for t in tickets) == 81


def test_single_issue_list_and_search_documents(
    write_json: WriteJson, v2_issue: dict[str, Any]
) -> None:
    other = json.loads(json.dumps(v2_issue))
    other["key"] = "CA-43"
    assert [t.key for t in load_file(write_json("one.json", v2_issue))] == ["CA-42"]
    assert [t.key for t in load_file(write_json("list.json", [v2_issue, other]))] == [
        "CA-42", "CA-43"
    ]
    search = {"isLast": True, "issues": [other, v2_issue]}
    tickets = load_file(write_json("page.json", search), base_url="https://j.test",
                        discovery_field="customfield_10900")
    assert [t.url for t in tickets] == ["https://j.test/browse/CA-43", "https://j.test/browse/CA-42"]
    assert tickets[0].discovered == datetime(2026, 1, 3, tzinfo=UTC)


def test_jsonl_file_and_detection_of_jsonl_content(tmp_path: Path) -> None:
    content = _lines(_ticket_line("A-1"), _ticket_line("A-2", labels=["HIGH"])) + "\n  \n"
    (tmp_path / "t.jsonl").write_text(content, encoding="utf-8")
    (tmp_path / "t.json").write_text(content, encoding="utf-8")
    (tmp_path / "t.ndjson").write_text(content.replace("\n", "\r\n"), encoding="utf-8")
    for name in ("t.jsonl", "t.json", "t.ndjson"):
        tickets = load_file(tmp_path / name)
        assert [(t.key, t.labels, t.source) for t in tickets] == [
            ("A-1", (), "jsonl"), ("A-2", ("HIGH",), "jsonl")
        ]
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert load_file(tmp_path / "empty.jsonl") == []


def test_single_vulnmark_ticket_as_json(write_json: WriteJson) -> None:
    [ticket] = load_file(write_json("t.json", _ticket_line("A-1")))
    assert ticket.key == "A-1" and ticket.source == "jsonl"


def test_utf8_bom_is_accepted(tmp_path: Path, v2_issue: dict[str, Any]) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(v2_issue).encode())
    assert load_file(path)[0].labels == ("Sérülékenység", "HIGH")


def test_exported_tickets_reimport_identically(tmp_path: Path, apache_pages: list[Path]) -> None:
    tickets = load_file(apache_pages[2])
    path = tmp_path / "export.jsonl"
    path.write_text(_lines(*(ticket_to_json(t) for t in tickets)), encoding="utf-8")
    assert load_file(path) == tickets


# ---------------------------------------------------------------- bad input


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"issues": [\n  {"key": "A-1",\n   "fields": {]}\n]}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_file(path)
    assert err.value.line == 3
    assert str(err.value) == (
        f"{path}: line 3: malformed JSON: Expecting property name enclosed in double quotes"
        " (column 15)"
    )


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_lines(_ticket_line("A-1")) + '{"key": "A-2",\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl: line 2: malformed JSON: .*\(column 15\)"):
        load_file(path)


def test_empty_json_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_bytes(b"")
    with pytest.raises(InputError, match=r"e\.json: line 1: malformed JSON"):
        load_file(tmp_path / "e.json")


@pytest.mark.parametrize(
    ("name", "data", "line", "byte"),
    [
        ("latin1.json", '{"key": "A-1", "title": "Sérülékenység"}'.encode("latin-1"), 1, 0xE9),
        ("utf16.json", '{"issues": []}'.encode("utf-16"), 1, 0xFF),
        ("t.jsonl", _lines(_ticket_line("A-1")).encode() + b'{"key": "\xc3"}\n', 2, 0xC3),
    ],
)
def test_non_utf8_bytes(tmp_path: Path, name: str, data: bytes, line: int, byte: int) -> None:
    (tmp_path / name).write_bytes(data)
    offset = data.index(bytes([byte]))  # the first byte that cannot start or continue UTF-8
    with pytest.raises(InputError) as err:
        load_file(tmp_path / name)
    assert str(err.value) == (
        f"{tmp_path / name}: line {line}: not UTF-8 (byte 0x{byte:02x} at offset {offset}); "
        "convert the file to UTF-8"
    )


def test_label_with_spaces_names_file_issue_and_field(
    write_json: WriteJson, v2_issue: dict[str, Any]
) -> None:
    v2_issue["fields"]["labels"] = ["Sérülékenység", "HIGH RISK"]
    path = write_json("page.json", {"issues": [v2_issue]})
    with pytest.raises(InputError) as err:
        load_file(path)
    assert str(err.value) == (
        f"{path}: field labels[1]: CA-42: label 'HIGH RISK' contains whitespace"
    )


def test_unknown_jsonl_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_lines(_ticket_line("A-1"), _ticket_line("A-2", severity="HIGH")),
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_file(path)
    assert str(err.value).startswith(f"{path}: line 2: field severity: A-2: unknown key 'severity'")


def test_missing_key_names_file_and_issue_position(
    write_json: WriteJson, v2_issue: dict[str, Any]
) -> None:
    keyless = json.loads(json.dumps(v2_issue))
    del keyless["key"]
    path = write_json("page.json", {"issues": [v2_issue, keyless]})
    with pytest.raises(InputError) as err:
        load_file(path)
    assert str(err.value) == (
        f"{path}: field key: issue #2: issue id 10042 has no 'key' string (got null)"
    )


def test_duplicate_keys_are_rejected(
    tmp_path: Path, write_json: WriteJson, v2_issue: dict[str, Any]
) -> None:
    with pytest.raises(InputError, match=r"issue CA-42 appears more than once \(issues #1 and #2"):
        load_file(write_json("dup.json", [v2_issue, v2_issue]))
    path = tmp_path / "dup.jsonl"
    path.write_text(_lines(_ticket_line("A-1"), _ticket_line("B-1"), _ticket_line("A-1")),
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: field key: .*first on line 1"):
        load_file(path)


@pytest.mark.parametrize(
    "doc",
    [{"errorMessages": ["The requested API has been removed."], "errors": {}}, 42, "text"],
)
def test_non_jira_json_is_an_input_error(write_json: WriteJson, doc: object) -> None:
    with pytest.raises(InputError, match="not a Jira document"):
        load_file(write_json("x.json", doc))


def test_hostile_nesting_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        load_file(tmp_path / "deep.json")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.json: cannot read"):
        load_file(tmp_path / "nope.json")


def test_one_bad_issue_fails_the_whole_file(
    write_json: WriteJson, v2_issue: dict[str, Any], apache_pages: list[Path]
) -> None:
    doc = json.loads(apache_pages[1].read_text(encoding="utf-8"))
    v2_issue["fields"]["created"] = "not a time"
    doc["issues"].append(v2_issue)
    path = write_json("page.json", doc)
    with pytest.raises(SourceError, match=r"page\.json: field created: CA-42: not an ISO 8601"):
        load_file(path)


# ---------------------------------------------------------------- the TicketSource


def test_file_source_fetches_all_files_and_filters_by_since(
    tmp_path: Path, apache_pages: list[Path]
) -> None:
    shutil.copy(apache_pages[2], tmp_path / "page.json")
    (tmp_path / "own.jsonl").write_text(
        _lines(_ticket_line("OWN-1", updated="2030-01-01T00:00:00Z")), encoding="utf-8"
    )
    source = FileSource([tmp_path / "page.json", tmp_path / "own.jsonl"])
    assert isinstance(source, TicketSource)
    assert len(list(source.fetch())) == 299 + 1
    assert [t.key for t in source.fetch(since=datetime(2029, 1, 1, tzinfo=UTC))] == ["OWN-1"]


def test_file_source_validates_every_file_before_yielding(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_text(_lines(_ticket_line("A-1")), encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("{", encoding="utf-8")
    fetched = FileSource([tmp_path / "good.jsonl", tmp_path / "bad.jsonl"]).fetch()
    with pytest.raises(InputError, match=r"bad\.jsonl: line 1"):
        next(fetched)
