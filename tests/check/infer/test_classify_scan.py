"""The stem scan: the Aho-Corasick accelerator finds exactly the windows the regex trie finds."""

from __future__ import annotations

import json

import pytest

from shared_data import data as dataset
from vulnmark.check.infer import _read
from vulnmark.check.infer._scan import StemIndex, ahocorasick_rs, scan
from vulnmark.check.infer._text import lowered

needs_accelerator = pytest.mark.skipif(ahocorasick_rs is None,
                                       reason="ahocorasick-rs (extra 'fast') not installed")


def _real_texts() -> list[str]:
    """Lower-cased FARSEC bug reports and Apache Jira descriptions, plus hostile and
    non-ASCII text (Hungarian, German, French stems; stems at the very start and end)."""
    texts = []
    farsec = dataset("farsec_security_bug_reports", "farsec_reports.jsonl")
    for line in farsec.read_text(encoding="utf-8").splitlines():
        texts.append(json.loads(line)["text"])
    for page in sorted(dataset("jira_apache_issues").glob("search_page_*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            texts.append(issue["fields"].get("description") or "")
    texts += [
        "severity", "x" * 50 + "severit", "rated\0rating\0reclassified\0classé",
        "Besorolás: MAGAS, a sérülékenység súlyossága kritikusnak minősül. Jogosultság-emelés.",
        "Als kritisch eingestuft; Schwachstelle mit Sicherheitslücke, Angreifer, Risikostufe.",
        "Criticité : élevée. Vulnérabilité, faille de sécurité, déni de service, évaluée.",
        "cross-site " * 300 + "CVE-2024-1234 ghsa-abcd rustsec-2020-0001 pysec-2021-1",
        "_rated generated unauthorized insecure csrf xsrf use-after-free after free",
    ]
    return [lowered(t) for t in texts if t]


@needs_accelerator
@pytest.mark.parametrize("table", ["_STEMS", "_ASCII_STEMS", "_SIGNAL_ONLY"])
def test_accelerated_scan_equals_trie_scan(table: str) -> None:
    stems = getattr(_read, table)
    fast = StemIndex.build(stems)
    slow = StemIndex.build(stems, accelerate=False)
    assert fast.automaton is not None and slow.automaton is None
    margins = _read._MARGINS if table != "_SIGNAL_ONLY" else _read._SIGNAL_MARGINS
    texts = _real_texts()
    assert len(texts) > 6000
    found = 0
    for low in texts:
        if table == "_ASCII_STEMS" and not low.isascii():
            continue
        expected = scan(low, slow, margins)
        assert scan(low, fast, margins) == expected, low[:200]
        found += any(expected)
    assert found > 1000  # the texts do hit stems


def test_scan_finds_word_start_and_mid_word_stems() -> None:
    index = StemIndex.build(_read._STEMS, accelerate=False)
    low = "it was generated. reclassified as low. rated high."
    wins = scan(low, index, _read._MARGINS)
    english = wins[0]
    assert english, "reclassified (mid-word stem) and rated (word start) open windows"
    assert all(0 <= lo < hi <= len(low) for lo, hi in english)
    # "generated" holds "rated" inside a word: alone it opens no window
    assert scan("it was generated.", index, _read._MARGINS)[0] == []
