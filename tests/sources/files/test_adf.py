"""ADF -> plain text: every text survives, structure reads naturally, surprises never raise."""

from __future__ import annotations

from typing import Any

import pytest

from vulnmark.sources.files.adf import MAX_DEPTH, adf_to_text


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def para(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def item(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def cell(*content: dict[str, Any], header: bool = False) -> dict[str, Any]:
    return {"type": "tableHeader" if header else "tableCell", "attrs": {}, "content": list(content)}


RICH_DOC: dict[str, Any] = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Impact")]},
        para(
            text("Reported by "),
            {"type": "mention", "attrs": {"id": "5b10a284", "text": "@Mia Krystof"}},
            text(" "),
            {"type": "emoji", "attrs": {"shortName": ":warning:", "id": "26a0", "text": "⚠️"}},
            {"type": "emoji", "attrs": {"shortName": ":lock:"}},
            text(" see "),
            text("the advisory", marks=[{"type": "link", "attrs": {
                "href": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"}}]),
            {"type": "hardBreak"},
            text("rated "),
            text("HIGH", marks=[{"type": "strong"}]),
            text(" on "),
            {"type": "date", "attrs": {"timestamp": "1767225600000"}},
            text(" "),
            {"type": "status", "attrs": {"text": "TRIAGED", "color": "blue"}},
            text(" "),
            {"type": "inlineCard", "attrs": {"url": "https://jira.example.test/browse/CA-1"}},
        ),
        {
            "type": "orderedList",
            "attrs": {"order": 3},
            "content": [
                item(
                    para(text("patch OCSP")),
                    {"type": "bulletList", "content": [
                        item(para(text("nested a"))),
                        item(para(text("nested b")), {"type": "bulletList", "content": [
                            item(para(text("deeper"))),
                        ]}),
                    ]},
                ),
                item(para(text("rotate keys"))),
            ],
        },
        {
            "type": "table",
            "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": [
                {"type": "tableRow", "content": [
                    cell(para(text("Vector")), header=True),
                    cell(para(text("Score")), header=True),
                ]},
                {"type": "tableRow", "content": [
                    cell(para(text("CVSS:3.1/AV:N/AC:L")), para(text("(network)"))),
                    cell(para(text("8.1"))),
                ]},
            ],
        },
        {"type": "codeBlock", "attrs": {"language": "bash"},
         "content": [text("openssl s_client \\\n  -connect ocsp:443")]},
        {"type": "blockquote",
         "content": [para(text("besorolás: kritikus")), para(text("-- MSO"))]},
        {"type": "panel", "attrs": {"panelType": "warning"}, "content": [para(text("in a panel"))]},
        {"type": "expand", "attrs": {"title": "Details"}, "content": [para(text("hidden text"))]},
        {"type": "rule"},
        {"type": "blockCard", "attrs": {"url": "https://example.test/report.pdf"}},
        {"type": "futureWidget", "attrs": {"x": 1}, "content": [para(text("kept from unknown"))]},
        {"type": "taskList", "attrs": {"localId": "t"}, "content": [
            {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("done")]},
            {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [text("todo")]},
        ]},
    ],
}


def test_rich_document_renders_every_text_with_structure() -> None:
    assert adf_to_text(RICH_DOC) == "\n".join(
        [
            "Impact",
            "Reported by @Mia Krystof ⚠️:lock: see the advisory "
            "(https://nvd.nist.gov/vuln/detail/CVE-2021-44228)",
            "rated HIGH on 2026-01-01 TRIAGED https://jira.example.test/browse/CA-1",
            "3. patch OCSP",
            "   - nested a",
            "   - nested b",
            "     - deeper",
            "4. rotate keys",
            "Vector | Score",
            "CVSS:3.1/AV:N/AC:L (network) | 8.1",
            "openssl s_client \\",
            "  -connect ocsp:443",
            "> besorolás: kritikus",
            "> -- MSO",
            "in a panel",
            "Details",
            "hidden text",
            "https://example.test/report.pdf",
            "kept from unknown",
            "[x] done",
            "[ ] todo",
        ]
    )


def test_mention_without_text_uses_display_name_with_at() -> None:
    doc = para({"type": "mention", "attrs": {"id": "x", "displayName": "Ann"}})
    assert adf_to_text(doc) == "@Ann"


def test_link_whose_text_is_the_url_is_not_repeated() -> None:
    url = "https://example.test/a"
    doc = para(text(url, marks=[{"type": "link", "attrs": {"href": url}}]))
    assert adf_to_text(doc) == url


def test_unknown_inline_leaf_and_attrs_text_are_kept() -> None:
    doc = para(
        text("a "),
        {"type": "sparkle", "text": "leaf"},
        text(" "),
        {"type": "placeholder", "attrs": {"text": "fill me"}},
    )
    assert adf_to_text(doc) == "a leaf fill me"


@pytest.mark.parametrize("value", [None, 42, "plain string", 3.5, True, b"bytes"])
def test_non_document_input_is_empty(value: object) -> None:
    assert adf_to_text(value) == ""


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"type": "doc"},
        {"type": "doc", "content": None},
        {"type": "doc", "content": "not a list"},
        {"type": "doc", "content": [None, 1, "x", []]},
        {"type": "paragraph", "content": [{"type": "text"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": 5}]},
        {"type": "mention"},
        {"type": "emoji", "attrs": None},
        {"type": "date", "attrs": {"timestamp": "not-a-number"}},
        {"type": "date", "attrs": {"timestamp": "99999999999999999999999"}},
        {"type": "orderedList", "attrs": {"order": "x"}, "content": [None]},
        {"type": "table", "content": [{"type": "tableRow", "content": "oops"}, 7]},
        {"type": 12, "content": [{"type": None}]},
    ],
)
def test_malformed_nodes_never_raise(doc: object) -> None:
    assert isinstance(adf_to_text(doc), str)


def test_malformed_nodes_keep_surviving_text() -> None:
    doc = {"type": "doc", "content": [None, para(text("kept")), {"content": [text("also")]}]}
    assert adf_to_text(doc) == "kept\nalso"


def test_list_input_is_rendered_as_content() -> None:
    assert adf_to_text([para(text("one")), para(text("two"))]) == "one\ntwo"


def test_absurd_nesting_is_flattened_not_lost() -> None:
    node: dict[str, Any] = para(text("bottom"))
    for level in range(5000):
        node = {"type": "blockquote" if level % 2 else "panel", "content": [node]}
    doc = {"type": "doc", "content": [para(text("top")), node]}
    rendered = adf_to_text(doc)
    assert rendered.startswith("top\n")
    assert rendered.endswith("bottom")


def test_structure_is_kept_up_to_max_depth() -> None:
    node: dict[str, Any] = para(text("x"))
    for _ in range(MAX_DEPTH // 2 - 2):
        node = {"type": "blockquote", "content": [node]}
    assert adf_to_text(node) == "> " * (MAX_DEPTH // 2 - 2) + "x"
