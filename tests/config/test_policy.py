"""Presets, label normalisation and deadline arithmetic of the policy."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from vulnmark.config.policy import Policy
from vulnmark.config.presets import PRESETS, preset
from vulnmark.errors import ConfigError

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
HU_ALIASES = {"CRITICAL": "KRITIKUS", "HIGH": "MAGAS", "MEDIUM": "KÖZEPES", "LOW": "ALACSONY",
              "INFORMATIVE": "INFORMATÍV"}


def hours(p: Policy, cls: str) -> float | None:
    return p.class_def(cls).deadline_hours


def test_default_preset_is_etsi_with_the_five_classes_in_order() -> None:
    p = preset("etsi-319-401")
    assert p.class_names == ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE")
    assert p.vulnerability_labels == ("Sérülékenység", "Vulnerability")
    assert p.rank("CRITICAL") == 0 and p.rank("INFORMATIVE") == 4
    assert hours(p, "CRITICAL") == 48
    # "no fixed clock" is None, never 0
    assert [hours(p, c) for c in ("HIGH", "MEDIUM", "LOW", "INFORMATIVE")] == [None] * 4


@pytest.mark.parametrize(("name", "expected"), [
    ("etsi-319-401", {"CRITICAL": 48, "HIGH": None}),
    ("ncssr-v1", {"CRITICAL": 96, "HIGH": 96, "MEDIUM": None}),
    ("ncssr-v2", {"CRITICAL": 96, "HIGH": 720, "MEDIUM": 2160, "LOW": 4320,
                  "INFORMATIVE": None}),
    ("pci-dss", {"CRITICAL": 720, "HIGH": None}),
    ("etsi-319-401+ncssr-v1", {"CRITICAL": 48, "HIGH": 96, "MEDIUM": None}),
    ("pci-dss+ncssr-v2", {"CRITICAL": 96, "HIGH": 720, "LOW": 4320}),
])
def test_preset_deadlines(name: str, expected: dict[str, float | None]) -> None:
    p = preset(name)
    assert p.preset == name
    for cls, h in expected.items():
        assert hours(p, cls) == h, cls


def test_combination_takes_the_strictest_whatever_the_order() -> None:
    a, b = preset("etsi-319-401+ncssr-v1"), preset("ncssr-v1+etsi-319-401")
    assert [c.deadline_hours for c in a.classes] == [c.deadline_hours for c in b.classes]


def test_every_preset_has_a_description() -> None:
    assert set(PRESETS) == {"etsi-319-401", "ncssr-v1", "ncssr-v2", "pci-dss"}
    assert all(about for about, _ in PRESETS.values())


@pytest.mark.parametrize("name", ["nope", "etsi-319-401+nope", "", "ETSI-319-401"])
def test_unknown_preset_names_itself(name: str) -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        preset(name)


def test_deadline_arithmetic() -> None:
    p = preset("etsi-319-401")
    assert p.deadline("CRITICAL", T0) == T0 + timedelta(hours=48)
    assert p.deadline("HIGH", T0) is None
    assert p.deadline(None, T0) is None
    assert p.deadline("NOT-A-CLASS", T0) is None
    assert preset("pci-dss").deadline("CRITICAL", T0) == T0 + timedelta(days=30)


def test_digest_is_stable_and_changes_with_the_policy() -> None:
    assert preset("etsi-319-401").digest() == preset("etsi-319-401").digest()
    assert preset("etsi-319-401").digest() != preset("ncssr-v1").digest()
    assert len(preset("pci-dss").digest()) == 64


# -- label normalisation -----------------------------------------------------------------------

P = preset("etsi-319-401")
NFC = unicodedata.normalize("NFC", "Sérülékenység")
NFD = unicodedata.normalize("NFD", "Sérülékenység")


def test_nfc_and_nfd_are_really_different_strings() -> None:
    assert NFC != NFD and len(NFD) > len(NFC)


@pytest.mark.parametrize(("label", "role", "canonical"), [
    ("Sérülékenység", "vulnerability", "Sérülékenység"),
    ("Vulnerability", "vulnerability", "Sérülékenység"),
    *[(c, "class", c) for c in HU_ALIASES],
    *[(hu, "class", c) for c, hu in HU_ALIASES.items()],
])
def test_accepted_forms_match_exactly(label: str, role: str, canonical: str) -> None:
    m = P.match_label(label)
    assert m is not None
    assert (m.role, m.canonical, m.exact) == (role, canonical, True)


@pytest.mark.parametrize(("label", "canonical"), [
    (NFD, "Sérülékenység"),
    ("sérülékenység", "Sérülékenység"),
    ("SÉRÜLÉKENYSÉG", "Sérülékenység"),
    (" Vulnerability ", "Sérülékenység"),
    ("vulnerability", "Sérülékenység"),
    ("high", "HIGH"),
    ("High", "HIGH"),
    ("HIGH\t", "HIGH"),
    ("kritikus", "CRITICAL"),
    ("Magas", "HIGH"),
    ("közepes", "MEDIUM"),
    (unicodedata.normalize("NFD", "KÖZEPES"), "MEDIUM"),
    ("alacsony", "LOW"),
    ("informatív", "INFORMATIVE"),
    (unicodedata.normalize("NFD", "INFORMATÍV"), "INFORMATIVE"),
])
def test_normalised_forms_match_but_not_exactly(label: str, canonical: str) -> None:
    m = P.match_label(label)
    assert m is not None, label
    assert m.canonical == canonical
    assert m.exact is False


@pytest.mark.parametrize("label", ["HIGHER", "Sev-1", "security", "KRITIKUSS", "INFORMATIV",
                                   "", "CRITICAL-HIGH", "Serulekenyseg"])
def test_unrelated_labels_do_not_match(label: str) -> None:
    assert P.match_label(label) is None


def test_custom_alias_with_case_only_difference_prefers_exact() -> None:
    from dataclasses import replace

    from vulnmark.config.policy import ClassDef

    p = replace(P, classes=(ClassDef("CRITICAL", ("critical",), 48),) + P.classes[1:])
    exact = p.match_label("critical")
    assert exact is not None and exact.exact and exact.canonical == "CRITICAL"
    folded = p.match_label("Critical")
    assert folded is not None and not folded.exact and folded.canonical == "CRITICAL"
