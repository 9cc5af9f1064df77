"""The policy page says what the policy says: every label string and deadline on it is read
back from the rendered page (Markdown parsed by markdown-it-py, HTML and Confluence storage
format by an XML/HTML parser) and compared with the policy, for every preset and language."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from publish_support import NOW

from vulnmark.config.load import Config
from vulnmark.config.policy import Policy
from vulnmark.config.presets import PRESETS, preset
from vulnmark.publish import Lang, PageFormat, build_page
from vulnmark.publish.page import PolicyPage
from vulnmark.publish.texts import texts
from vulnmark.sources.jira import jql

Cell = tuple[str, tuple[str, ...]]  # (text, code spans)


def md_tables(text: str) -> list[list[list[Cell]]]:
    """Every table of a Markdown page: rows of cells (header row included)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables: list[list[list[Cell]]] = []
    row: list[Cell] = []
    in_cell = False
    for tok in tokens:
        if tok.type == "table_open":
            tables.append([])
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            tables[-1].append(row)
        elif tok.type in ("td_open", "th_open", "td_close", "th_close"):
            in_cell = tok.type.endswith("open")
        elif tok.type == "inline" and in_cell:
            children = tok.children or []
            codes = tuple(c.content for c in children if c.type == "code_inline")
            row.append(("".join(c.content for c in children), codes))
    return tables


def md_code_blocks(text: str) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    return [t.content.rstrip("\n") for t in tokens if t.type == "fence"]


class _Html(HTMLParser):
    """Table rows (cells as text + <code> texts), <pre> blocks, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[Cell]] = []
        self.tags: list[str] = []
        self.pre: list[str] = []
        self._cell: list[str] | None = None
        self._codes: list[str] = []
        self._code: list[str] | None = None
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell, self._codes = [], []
        elif tag == "code":
            self._code = []
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(("".join(self._cell), tuple(self._codes)))
            self._cell = None
        elif tag == "code" and self._code is not None:
            self._codes.append("".join(self._code))
            self._code = None
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._code is not None:
            self._code.append(data)
        if self._in_pre:
            self.pre[-1] += data


def class_rows(page_text: str, fmt: PageFormat, policy: Policy) -> dict[str, list[Cell]]:
    """The rows of the classes table, by the class code in the first cell."""
    if fmt is PageFormat.MD:
        rows = md_tables(page_text)[0]
    else:
        parser = _Html()
        parser.feed(page_text)
        rows = parser.rows
    found = {}
    for row in rows:
        if row and row[0][1] and row[0][1][0] in policy.class_names:
            found[row[0][1][0]] = row
    return found


def expected_deadline(page: PolicyPage, hours: float | None) -> re.Pattern[str]:
    if hours is None:
        return re.compile(re.escape(page.texts["no_clock"]))
    number = page.texts.number(hours)
    return re.compile(rf"^{re.escape(number)}\D")


PAIRS = [(p, lang) for p in sorted(PRESETS) for lang in Lang]


@pytest.mark.parametrize("fmt", [PageFormat.MD, PageFormat.HTML, PageFormat.CONFLUENCE])
@pytest.mark.parametrize(("name", "lang"), PAIRS, ids=[f"{p}-{lang}" for p, lang in PAIRS])
def test_every_label_and_deadline_on_the_page_is_the_policys(
        name: str, lang: Lang, fmt: PageFormat) -> None:
    config = Config(preset(name))
    policy = config.policy
    page = build_page(config, lang=lang, generated_at=NOW)
    text = fmt.to_format().format(page)
    rows = class_rows(text, fmt, policy)
    assert list(rows) == list(policy.class_names)  # every class, in the policy's order
    for cls in policy.classes:
        (_, name_codes), (_, label_codes), _cvss, (deadline, _) = rows[cls.name]
        assert label_codes == cls.accepted
        assert expected_deadline(page, cls.deadline_hours).search(deadline.strip()), deadline
    assert f"{policy.digest()}" in text
    assert policy.vulnerability_label in text


@pytest.mark.parametrize("lang", list(Lang))
def test_the_jql_and_the_labels_to_copy_are_the_policys(lang: Lang) -> None:
    config = Config(preset("ncssr-v1"))
    text = PageFormat.MD.to_format().format(build_page(config, lang=lang, generated_at=NOW))
    blocks = md_code_blocks(text)
    policy = config.policy
    assert blocks[0].splitlines() == [policy.vulnerability_label, *policy.class_names]
    assert blocks[1] == jql.filter_jql(vulnerability_labels=policy.vulnerability_labels)
    assert "labels not in" in blocks[2] and blocks[2].startswith(blocks[1].split(" ORDER")[0])


def test_hostile_labels_survive_markdown_exactly(hostile: Config) -> None:
    policy = hostile.policy
    text = PageFormat.MD.to_format().format(build_page(hostile, lang=Lang.EN,
                                                       generated_at=NOW))
    rows = class_rows(text, PageFormat.MD, policy)
    assert rows["CRITICAL"][1][1] == policy.class_def("CRITICAL").accepted
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    codes = [c.content for t in tokens if t.type == "inline" for c in t.children or []
             if c.type == "code_inline"]
    assert "a|b`c" in codes and "<img/src=x/onerror=alert(1)>" in codes
    assert "<b>boss</b>@example.org" in codes
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in html and "<script" not in html and "<b>" not in html


@pytest.mark.parametrize("fmt", [PageFormat.HTML, PageFormat.CONFLUENCE])
def test_html_and_storage_format_escape_every_configured_string(
        hostile: Config, fmt: PageFormat) -> None:
    policy = hostile.policy
    text = fmt.to_format().format(build_page(hostile, lang=Lang.HU, generated_at=NOW))
    parser = _Html()
    parser.feed(text)
    assert {"img", "script", "b"}.isdisjoint(parser.tags)
    rows = class_rows(text, fmt, policy)
    assert rows["CRITICAL"][1][1] == policy.class_def("CRITICAL").accepted
    assert "<b>boss</b>@example.org" not in text


def test_storage_format_is_well_formed_xml_and_its_code_macros_hold_the_jql(
        hostile: Config) -> None:
    page = build_page(hostile, lang=Lang.EN, generated_at=NOW)
    body = PageFormat.CONFLUENCE.to_format().format(page)
    root = ET.fromstring(
        '<root xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/ri">'
        f"{body}</root>")
    ac = "{http://atlassian.com/content}"
    bodies = [el.text for el in root.iter(f"{ac}plain-text-body")]
    assert bodies == [page.copy_labels, page.jql_all, page.jql_unclassified]
    assert "]]>&amp;" in page.jql_unclassified  # the CDATA split kept it whole


def test_an_html_page_is_one_document_and_storage_format_only_a_body() -> None:
    page = build_page(Config.default(), lang=Lang.FR, generated_at=NOW)
    html = PageFormat.HTML.to_format().format(page)
    storage = PageFormat.CONFLUENCE.to_format().format(page)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert "<html" not in storage and "<h1>" not in storage  # Confluence shows the title
    assert "ac:structured-macro" in storage and "ac:structured-macro" not in html


def test_the_page_names_its_digest_the_date_it_took_effect_and_when_it_was_made() -> None:
    config = Config(preset("pci-dss"))
    since = NOW.replace(month=11, day=20)
    text = PageFormat.MD.to_format().format(
        build_page(config, lang=Lang.EN, generated_at=NOW, effective_at=since))
    about = {row[0][0]: row[1] for row in md_tables(text)[1]}
    assert about["Policy digest"][1] == (config.policy.digest(),)
    assert about["In force since"][0] == "2026-11-20 14:00 (UTC)"
    assert about["Page generated"][0] == "2026-12-02 14:00 (UTC)"
    assert "PCI DSS v4.0.1" in text and texts(Lang.EN).presets["pci-dss"] in text


def test_recipients_and_schedule_appear_when_configured(hostile: Config) -> None:
    text = PageFormat.MD.to_format().format(build_page(hostile, lang=Lang.DE,
                                                       generated_at=NOW))
    assert "`0 7 * * 1-5` (`Europe/Budapest`)" in text
    assert "`mso@example.org`" in text
    bare = PageFormat.MD.to_format().format(build_page(Config.default(), lang=Lang.DE,
                                                       generated_at=NOW))
    assert texts(Lang.DE)["report_to_none"] in bare and texts(Lang.DE)["report_daily"] in bare


def test_the_cvss_column_is_the_scale_the_inference_rates_on() -> None:
    from vulnmark.check.infer._vocab import CVSS_RANGES, severity_from_score

    for cls, (lo, hi) in CVSS_RANGES.items():
        assert severity_from_score(lo, 3) == cls and severity_from_score(hi, 3) == cls
    page = build_page(Config.default(), lang=Lang.EN, generated_at=NOW)
    rows = class_rows(PageFormat.MD.to_format().format(page), PageFormat.MD,
                      Config.default().policy)
    assert rows["HIGH"][2][0] == "7.0–8.9" and rows["INFORMATIVE"][2][0] == "0.0"


def test_the_readme_shows_the_page_the_command_prints() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- policy-page -->\n````markdown\n")[1].split("````\n")[0]
    page = build_page(Config.default(), lang=Lang.EN, generated_at=NOW)
    assert shown == PageFormat.MD.to_format().format(page)


@pytest.mark.parametrize("lang", list(Lang))
def test_reminders_and_escalation_appear_when_configured(lang: Lang) -> None:
    from vulnmark.config.load import from_mapping

    t = texts(lang)
    off = PageFormat.MD.to_format().format(build_page(Config.default(), lang=lang,
                                                      generated_at=NOW))
    assert t["reminder"].split("{")[0] not in off
    for days, key in ((5, "reminder"), (1, "reminder_one_day")):
        config = from_mapping({"reminders": {"enabled": True, "escalate_after_days": days}})
        page = build_page(config, lang=lang, generated_at=NOW)
        for fmt in (PageFormat.MD, PageFormat.HTML):
            text = fmt.to_format().format(page)
            assert t[key].format(days=days) in text.replace("\\", ""), (fmt, key)
            assert t["reminder_assignee"] not in text
    config = from_mapping({"reminders": {"enabled": True, "to": "assignee"}})
    page = build_page(config, lang=lang, generated_at=NOW)
    for fmt in (PageFormat.MD, PageFormat.HTML):
        assert t["reminder_assignee"] in fmt.to_format().format(page).replace("\\", "")
