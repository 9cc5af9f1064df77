"""Every language has the whole catalogue, and a page never mixes languages."""

from __future__ import annotations

import re

import pytest
from publish_support import NOW

from vulnmark.config.load import Config
from vulnmark.config.presets import PRESETS, preset
from vulnmark.publish import Lang, PageFormat, build_page
from vulnmark.publish.texts import texts


@pytest.mark.parametrize("lang", list(Lang))
def test_every_catalogue_has_exactly_the_english_keys_and_every_preset(lang: Lang) -> None:
    t, en = texts(lang), texts(Lang.EN)
    assert set(t.strings) == set(en.strings)
    assert set(t.presets) == set(PRESETS)
    for key, value in t.strings.items():  # same placeholders, so every value is shown
        assert set(re.findall(r"\{(\w+)\}", value)) == set(
            re.findall(r"\{(\w+)\}", en.strings[key])), key


def _sentences(lang: Lang) -> set[str]:
    """The catalogue's texts long enough to be language-specific, placeholders removed."""
    t = texts(lang)
    pieces = set()
    for value in [*t.strings.values(), *t.presets.values()]:
        pieces |= {p.strip() for p in re.split(r"\{\w+\}", value) if len(p.strip()) > 12}
    return pieces


@pytest.mark.parametrize("lang", list(Lang))
def test_a_page_uses_one_language_only(lang: Lang) -> None:
    config = Config(preset("etsi-319-401+ncssr-v1"))
    page = PageFormat.MD.to_format().format(build_page(config, lang=lang, generated_at=NOW))
    own = _sentences(lang)
    for other in Lang:
        if other is lang:
            continue
        foreign = _sentences(other) - own
        assert [s for s in foreign if s in page] == [], other
    assert texts(lang)["title"] in page


def test_decimal_separators_follow_the_language() -> None:
    assert texts(Lang.EN).number(1.5) == "1.5" and texts(Lang.HU).number(1.5) == "1,5"
    assert texts(Lang.FR).score(9) == "9,0" and texts(Lang.DE).number(48.0) == "48"
