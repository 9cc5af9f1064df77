"""CVSS v2, v3.0, v3.1 and v4.0 vectors and bare scores, each on its own version's scale."""

from __future__ import annotations

import pytest
from classify_support import make

from vulnmark.check.infer import read
from vulnmark.check.infer._cvss import vector_class
from vulnmark.check.infer._vocab import severity_from_score
from vulnmark.config.policy import Policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CRITICAL"),  # 9.8
        ("Vector CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N.", "MEDIUM"),  # 4.8
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "INFORMATIVE"),  # 0.0 = NONE
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "LOW"),  # 1.8
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CRITICAL"),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", "HIGH"),
        # v4 with supplemental metrics whose values are words
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N/U:Clear", "MEDIUM"),
        # v2 has no CRITICAL: 10.0 is HIGH
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", "HIGH"),
        ("NVD: (AV:N/AC:L/Au:N/C:P/I:P/A:P)", "HIGH"),  # 7.5
        ("CVSS2#AV:N/AC:L/Au:N/C:N/I:N/A:P", "MEDIUM"),  # 5.0
        ("CVSS:2.0/AV:L/AC:H/Au:N/C:P/I:N/A:N", "LOW"),  # 1.2
        # a v3 vector without its prefix
        ("vector AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "HIGH"),  # 7.5
        # bare scores
        ("CVSS 9.8", "CRITICAL"),
        ("CVSS base score: 7.5", "HIGH"),
        ("CVSS v3.1 base score 5.3", "MEDIUM"),
        ("CVSSv3: 3.7", "LOW"),
        ("CVSS 7,5 pontszám", "HIGH"),
        ("CVSSv2 score 10.0", "HIGH"),
        ("Base Score: 4.8 (Medium)", "MEDIUM"),
        ("CVSS 9.8/10", "CRITICAL"),
    ],
)
def test_vector_or_score(text: str, expected: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.suggested == expected
    assert reading.confidence >= 0.8


@pytest.mark.parametrize(
    "text",
    [
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # invalid value
        "CVSS:3.1/AV:N/AC:L",  # incomplete
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:U/A:U",  # real npm record, invalid I:U
        "CVSS:4.0/AV:N",
        "We moved to CVSS 3.1 and CVSS 4.0 last year.",  # versions, not scores
        "CVSS v3.1 and v2.0 both apply.",
        "attack complexity AC:H and PR:L",
    ],
)
def test_invalid_or_not_a_rating_is_ignored(text: str, policy: Policy) -> None:
    assert read(make(text), policy).suggested is None


def test_v3_outranks_v2_in_the_same_text(policy: Policy) -> None:
    text = (
        "NVD: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H (9.8 CRITICAL), "
        "legacy CVSS v2 AV:N/AC:L/Au:N/C:P/I:P/A:P (7.5 HIGH)"
    )
    reading = read(make(text), policy)
    assert reading.suggested == "CRITICAL"


def test_vector_parsing_is_cached() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    before = vector_class.cache_info().hits
    assert vector_class(vector) == ("HIGH", 3)
    assert vector_class(vector) == ("HIGH", 3)
    assert vector_class.cache_info().hits >= before + 1


@pytest.mark.parametrize(
    ("score", "version", "expected"),
    [
        (0.0, 2, "LOW"), (3.9, 2, "LOW"), (4.0, 2, "MEDIUM"), (6.9, 2, "MEDIUM"),
        (7.0, 2, "HIGH"), (10.0, 2, "HIGH"),
        (0.0, 3, "INFORMATIVE"), (0.1, 3, "LOW"), (3.9, 3, "LOW"), (4.0, 3, "MEDIUM"),
        (6.9, 3, "MEDIUM"), (7.0, 3, "HIGH"), (8.9, 3, "HIGH"), (9.0, 3, "CRITICAL"),
        (10.0, 4, "CRITICAL"), (0.0, 4, "INFORMATIVE"),
    ],
)
def test_qualitative_scales(score: float, version: int, expected: str) -> None:
    assert severity_from_score(score, version) == expected
