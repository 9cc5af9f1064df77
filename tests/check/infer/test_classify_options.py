"""``validate_section``: the [inference] table of vulnmark.toml."""

from __future__ import annotations

import pytest
from classify_support import make, with_inference

from vulnmark.check.infer import __all__ as exported
from vulnmark.check.infer import read, validate_section
from vulnmark.errors import ConfigError


def test_public_api() -> None:
    assert sorted(exported) == ["cvss_range", "read", "severity_from_score", "validate_section",
                                "vector_class"]


def test_valid_sections() -> None:
    validate_section({})
    validate_section({"priority_is_severity": True})
    validate_section({"patterns": [{"regex": "P1 sec", "class": "CRITICAL"},
                                   {"regex": "sev2", "class": "high"}]})
    validate_section({"patterns": [{"regex": "x", "class": "KRITISCH"}]},
                     class_names=("KRITISCH", "HOCH"))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"patterns": [{"regex": "a", "class": "LOW"}, {"regex": "b", "class": "LOW"},
                       {"regex": "c", "class": "HUGE"}]},
         "inference.patterns[2].class: unknown class 'HUGE'"),
        ({"patterns": [{"regex": "(", "class": "LOW"}]},
         "inference.patterns[0].regex: invalid regular expression"),
        ({"patterns": [{"regex": "a?", "class": "LOW"}]},
         "inference.patterns[0].regex: matches the empty string"),
        ({"patterns": [{"class": "LOW"}]}, "inference.patterns[0].regex: missing"),
        ({"patterns": [{"regex": "a"}]}, "inference.patterns[0].class: missing"),
        ({"patterns": [{"regex": "a", "class": "LOW", "flags": "i"}]},
         "inference.patterns[0].flags: unknown key"),
        ({"patterns": ["a"]}, "inference.patterns[0]: expected a table"),
        ({"patterns": {"regex": "a"}}, "inference.patterns: expected a list"),
        ({"patterns": [{"regex": 5, "class": "LOW"}]},
         "inference.patterns[0].regex: expected a non-empty string"),
        ({"patterns": [{"regex": "a", "class": 3}]},
         "inference.patterns[0].class: expected a class name"),
        ({"priority_is_severity": "yes"}, "inference.priority_is_severity: expected true or false"),
        ({"prioritty_is_severity": True}, "inference.prioritty_is_severity: unknown key"),
    ],
)
def test_errors_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_section(section)
    assert str(info.value).startswith(message)


def test_class_must_be_one_of_the_policys_classes() -> None:
    with pytest.raises(ConfigError, match=r"unknown class 'MAGAS'; choose one of: KRITISCH"):
        validate_section({"patterns": [{"regex": "x", "class": "MAGAS"}]},
                         class_names=("KRITISCH", "HOCH"))


def test_read_rejects_an_invalid_section() -> None:
    policy = with_inference({"patterns": [{"regex": "x", "class": "HUGE"}]})
    with pytest.raises(ConfigError, match=r"inference.patterns\[0\].class"):
        read(make("x"), policy)


def test_scales_override_how_a_class_word_reads() -> None:
    text = "A vulnerability was found in Acme 1.0. It has been rated as problematic."
    assert read(make(text), with_inference({})).suggested == "MEDIUM"  # VulDB's scale
    policy = with_inference({"scales": {"problematic": "LOW", "Importante": "critical"}})
    assert read(make(text), policy).suggested == "LOW"
    assert read(make("Gravité : importante"), policy).suggested == "CRITICAL"
    assert read(make("Severity: high"), policy).suggested == "HIGH"  # the rest as built in


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"scales": ["problematic"]}, "inference.scales: expected a table"),
        ({"scales": {"problematic": "HUGE"}}, "inference.scales.problematic: unknown class"),
        ({"scales": {" ": "LOW"}}, "expected a non-empty word"),
    ],
)
def test_bad_scales_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_section(section)
