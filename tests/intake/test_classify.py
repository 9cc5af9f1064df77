"""The original classification: the publication's own rating by precedence, mapped to the
policy's classes, checked against each real record's own severity."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

from shared_data import data
from vulnmark.config.intake import IntakeSettings
from vulnmark.config.presets import preset
from vulnmark.intake.classify import original
from vulnmark.intake.feeds import Advisory, Cve5Feed, KevEntry, NvdFeed, Rating
from vulnmark.intake.feeds.interface import AdvisoryId

POLICY = preset("etsi-319-401")
SETTINGS = IntakeSettings()
NAMES = {"NONE": "INFORMATIVE"}


def test_every_real_nvd_record_gets_its_own_primary_severity() -> None:
    path = data("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    with gzip.open(path, "rb") as f:
        raw = {v["cve"]["id"]: v["cve"]["metrics"] for v in json.load(f)["vulnerabilities"]}
    checked = 0
    own = replace(SETTINGS, kev_min_class=None)  # KEV escalation is tested below
    for a in NvdFeed().read(path):
        metrics = raw[a.id]
        for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30"):
            primary = [m for m in metrics.get(key, []) if m["type"] == "Primary"]
            if primary:
                want = primary[0]["cvssData"]["baseSeverity"]
                assert original(a, POLICY, own).cls == NAMES.get(want, want), a.id
                checked += 1
                break
        else:
            v2 = [m for m in metrics.get("cvssMetricV2", []) if m["type"] == "Primary"]
            if v2:  # NCSSR v1.6: CVSS v2 >= 7.0 is a Critical Vulnerability
                score = v2[0]["cvssData"]["baseScore"]
                want = "CRITICAL" if score >= 7.0 else v2[0]["baseSeverity"]
                assert original(a, POLICY, own).cls == want, a.id
                checked += 1
    assert checked > 6000
    escalated = [a.id for a in NvdFeed().read(path) if a.kev is not None
                 and original(a, POLICY, SETTINGS).escalated]
    assert "CVE-2016-0162" in escalated  # in KEV (cisaExploitAdd), NVD says MEDIUM


def test_cve5_takes_the_cna_then_the_adp_and_derives_v2_from_the_score() -> None:
    seen = set()
    for a in Cve5Feed().read(data("cve5_vulnrichment", "records")):
        got = original(a, POLICY, SETTINGS)
        if a.rejected or not a.ratings:
            continue
        cna = [r for r in a.ratings if r.source == "cna"]
        if got.rating is not None:
            seen.add((got.rating.source, got.rating.version))
            if cna and got.rating.source == "adp":
                assert all(r.version not in ("4.0", "3.1", "3.0", "2.0", "text") for r in cna)
            if got.rating.severity is not None and got.rating.version != "2.0":
                want = got.rating.severity
                assert got.cls == NAMES.get(want, want)
    assert {("cna", "4.0"), ("cna", "3.1"), ("cna", "2.0"), ("adp", "3.1")} <= seen


def _advisory(*ratings: Rating, kev: KevEntry | None = None) -> Advisory:
    return Advisory(id=AdvisoryId("CVE-2026-1"), feed="nvd", ratings=ratings, kev=kev)


def test_precedence_and_newest_version() -> None:
    nvd2 = Rating("nvd", "2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "HIGH")
    cna31 = Rating("cna", "3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N", 3.7, "LOW")
    nvd31 = Rating("nvd", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "HIGH")
    assert original(_advisory(nvd2, cna31, nvd31), POLICY, SETTINGS).cls == "HIGH"
    assert original(_advisory(nvd2, cna31), POLICY, SETTINGS).cls == "CRITICAL"  # v2 rule
    assert original(_advisory(nvd2), POLICY, replace(SETTINGS, v2_rule="nvd")).cls == "HIGH"
    cna_first = replace(SETTINGS, precedence=("cna", "nvd"))
    assert original(_advisory(nvd2, cna31, nvd31), POLICY, cna_first).cls == "LOW"


def test_unrated_is_never_a_silent_default_and_kev_escalates() -> None:
    got = original(_advisory(), POLICY, SETTINGS)
    assert got.cls is None and "no rating" in got.basis
    assumed = original(_advisory(), POLICY, replace(SETTINGS, unrated="MEDIUM"))
    assert assumed.cls == "MEDIUM" and "assumed" in assumed.basis
    low = Rating("nvd", "3.1", None, 3.1, "LOW")
    kev = KevEntry(added := __import__("datetime").date(2026, 1, 1), added)
    escalated = original(_advisory(low, kev=kev), POLICY, SETTINGS)
    assert escalated.cls == "HIGH" and escalated.escalated and "KEV" in escalated.basis
    crit = Rating("nvd", "3.1", None, 9.8, "CRITICAL")
    assert original(_advisory(crit, kev=kev), POLICY, SETTINGS).cls == "CRITICAL"
    assert original(_advisory(kev=kev), POLICY, SETTINGS).cls == "HIGH"
    off = replace(SETTINGS, kev_min_class=None)
    assert original(_advisory(low, kev=kev), POLICY, off).cls == "LOW"
