"""Every feed reads the real records in ../shared/data, and each one's ratings are those of
the raw JSON (checked here against the file, not against the parser)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

from shared_data import data
from vulnmark.intake.feeds import Cve5Feed, KevFeed, NvdFeed, OsvFeed


def test_the_nvd_fixtures_and_cache_read_whole() -> None:
    small = list(NvdFeed().read(data("nvd_api2_small_fixtures")))
    assert len(small) == 75
    versions = Counter(r.version for a in small for r in a.ratings)
    assert versions["4.0"] == 1 and versions["3.1"] >= 68 and versions["2.0"] >= 13
    big = list(NvdFeed().read(data("nvd_api2_vulnz_cache")))
    assert len(big) == 14_867
    assert sum(a.rejected for a in big) > 0
    assert all(a.published is not None and a.published.tzinfo is not None for a in big)


def test_nvd_ratings_are_those_of_the_raw_json() -> None:
    path = data("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    with gzip.open(path, "rb") as f:
        raw = {v["cve"]["id"]: v["cve"] for v in json.load(f)["vulnerabilities"]}
    for a in NvdFeed().read(path):
        cve = raw[a.id]
        primary = [m for m in cve["metrics"].get("cvssMetricV30", []) if m["type"] == "Primary"]
        mine = [r for r in a.ratings if r.source == "nvd" and r.version == "3.0"]
        assert [(r.vector, r.score, r.severity) for r in mine] == [
            (m["cvssData"]["vectorString"], m["cvssData"]["baseScore"],
             m["cvssData"]["baseSeverity"]) for m in primary]
        v2 = list(cve["metrics"].get("cvssMetricV2", []))
        assert [r.severity for r in a.ratings if r.version == "2.0"] == \
            [m["baseSeverity"] for m in v2]  # v2 keeps it beside cvssData


def test_the_unknown_ssvc_metric_is_tolerated_and_v4_read() -> None:
    folder = data("nvd_api2_small_fixtures", "osv_dev")
    found = {a.id: a for a in NvdFeed().read(folder)}
    assert "CVE-2024-3094" in found
    v4 = [r for r in found["CVE-2025-4565"].ratings if r.version == "4.0"]
    assert v4 and v4[0].vector is not None and v4[0].vector.startswith("CVSS:4.0/")


def test_cve5_records_with_cna_and_adp_containers() -> None:
    records = list(Cve5Feed().read(data("cve5_vulnrichment", "records")))
    assert len(records) == 3017
    assert sum(a.rejected for a in records) == 40
    sources = Counter(r.source for a in records for r in a.ratings)
    assert sources["cna"] > 0 and sources["adp"] > 0
    assert any(r.version == "4.0" for a in records for r in a.ratings)
    assert any(r.version == "text" for a in records for r in a.ratings)  # "important"
    one = next(a for a in records if a.id == "CVE-2019-1226")
    assert "Microsoft" in one.vendors and one.cpes
    assert one.published is not None and one.published.year == 2019


def test_cve5_single_file_is_one_record() -> None:
    path = data("cve5_vulnrichment", "records", "2019", "1xxx", "CVE-2019-1226.json")
    [a] = Cve5Feed().read(path)
    assert a.id == "CVE-2019-1226" and a.feed == "cve5"


def test_the_kev_catalog() -> None:
    entries = list(KevFeed().read(data("cisa_kev", "known_exploited_vulnerabilities.json")))
    assert len(entries) == 1404
    assert all(a.kev is not None and a.kev.due_date is not None for a in entries)
    assert not any(a.ratings for a in entries)  # KEV states no severity


def test_the_pypa_osv_yaml_advisories() -> None:
    advisories = list(OsvFeed().read(data("pypa_osv_advisories", "vulns")))
    assert len(advisories) == 2661
    assert sum(bool(a.ratings) for a in advisories) == 202
    assert sum(a.rejected for a in advisories) == 10  # withdrawn
    one = next(a for a in advisories if a.id == "PYSEC-2021-335")
    assert "CVE-2021-32807" in one.aliases and one.packages[0].purl == "pkg:pypi/accesscontrol"


def test_osv_json_reads_the_same_as_yaml(tmp_path: Path) -> None:
    import yaml

    src = data("pypa_osv_advisories", "vulns", "accesscontrol", "PYSEC-2021-335.yaml")
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    out = tmp_path / "a.json"
    out.write_text(json.dumps(doc, default=str), encoding="utf-8")
    [from_yaml] = OsvFeed().read(src)
    [from_json] = OsvFeed().read(out)
    assert from_json.ids == from_yaml.ids and from_json.packages == from_yaml.packages
    assert from_json.published == from_yaml.published
