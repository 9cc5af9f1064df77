"""The [intake] table is checked at load: every key, type and class."""

from __future__ import annotations

import pytest

from vulnmark.config.load import from_mapping
from vulnmark.errors import ConfigError


def test_a_watchlist_with_entries_of_its_own() -> None:
    config = from_mapping({"intake": {
        "vendors": ["OpenSSL"], "keywords": ["PKCS#11"],
        "watch": [{"name": "hsm", "vendors": ["Thales"], "owner": "pki", "labels": ["hsm"]}],
        "assessment_hours": {"CRITICAL": 12, "LOW": "none"}}})
    intake = config.intake
    assert intake is not None
    assert [e.name for e in intake.watch] == ["intake", "hsm"]
    assert intake.watch[1].owner == "pki" and intake.hours("CRITICAL") == 12.0
    assert intake.hours("LOW") is None and intake.kev_min_class == "HIGH"
    assert from_mapping({}).intake is None


@pytest.mark.parametrize(("table", "message"), [
    ({"vendor": ["x"]}, "unknown key 'intake.vendor'"),
    ({"watch": [{"owner": "x"}]}, r"intake.watch\[0\]: watches nothing"),
    ({"watch": [{"vendors": ["x"], "assignee": "y"}]}, r"unknown key 'intake.watch\[0\].assignee'"),
    ({"keywords": "HSM"}, "intake.keywords: expected a list of strings"),
    ({"cpe_prefixes": ["apache"]}, r"intake.cpe_prefixes\[0\]: 'apache' is not a CPE name"),
    ({"packages": ["django"]}, r"intake.packages\[0\]"),
    ({"precedence": ["nist"]}, r"intake.precedence\[0\]: 'nist'"),
    ({"v2_rule": "v3"}, "intake.v2_rule"),
    ({"unrated": "SEVERE"}, "intake.unrated: 'SEVERE'"),
    ({"kev_min_class": "URGENT"}, "intake.kev_min_class: 'URGENT'"),
    ({"assessment_hours": {"URGENT": 4}}, "intake.assessment_hours.URGENT"),
    ({"assessment_hours": {"HIGH": -1}}, "intake.assessment_hours.HIGH"),
    ({"watch": [{"vendors": ["x"], "labels": ["a b"]}]}, r"labels\[0\]: invalid label"),
])
def test_a_bad_intake_table_names_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping({"intake": table})
