"""Bad feed input: a clear error naming the file, the record and the field; no partial
record is ever yielded."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from vulnmark.errors import FeedError
from vulnmark.intake.feeds import Cve5Feed, KevFeed, NvdFeed, OsvFeed


def _nvd(cves: list[object]) -> dict[str, object]:
    return {"format": "NVD_CVE", "version": "2.0", "resultsPerPage": len(cves),
            "startIndex": 0, "totalResults": len(cves),
            "vulnerabilities": [{"cve": c} for c in cves]}


GOOD = {"id": "CVE-2026-0001", "sourceIdentifier": "cna@example.org",
        "published": "2026-01-02T03:04:05.000", "lastModified": "2026-01-03T00:00:00.000",
        "vulnStatus": "Analyzed", "descriptions": [{"lang": "en", "value": "A flaw."}],
        "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                                       "cvssData": {"version": "3.1", "baseScore": 9.8,
                                                    "baseSeverity": "CRITICAL",
                                                    "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/"
                                                                    "UI:N/S:U/C:H/I:H/A:H"}}]},
        "references": []}


def _write(path: Path, doc: object, *, gz: bool = False) -> Path:
    blob = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


def test_a_gzipped_nvd_file_reads_like_a_plain_one(tmp_path: Path) -> None:
    plain = list(NvdFeed().read(_write(tmp_path / "a.json", _nvd([GOOD]))))
    packed = list(NvdFeed().read(_write(tmp_path / "b.json.gz", _nvd([GOOD]), gz=True)))
    assert plain == packed and plain[0].ratings[0].severity == "CRITICAL"


@pytest.mark.parametrize(("cve", "field"), [
    ({**GOOD, "published": "yesterday"}, "published"),
    ({**GOOD, "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {
        "vectorString": "CVSS:3.1/AV:N", "baseScore": 99}}]}},
     "metrics.cvssMetricV31[0].cvssData.baseScore"),
    ({**GOOD, "descriptions": "text"}, "descriptions"),
    ({**GOOD, "configurations": [{"nodes": [{"cpeMatch": [{"vulnerable": True}]}]}]},
     "configurations[0].nodes[0].cpeMatch[0].criteria"),
])
def test_a_bad_nvd_record_is_named_and_nothing_of_the_file_is_used(
        tmp_path: Path, cve: dict[str, object], field: str) -> None:
    path = _write(tmp_path / "page.json", _nvd([GOOD, {**cve, "id": "CVE-2026-0002"}]))
    got: list[object] = []
    with pytest.raises(FeedError) as e:
        got.extend(NvdFeed().read(path))
    assert got == []  # the good record before the bad one was not yielded either
    assert str(e.value).startswith(f"{path}: record CVE-2026-0002: field {field}: ")


def test_not_json_not_gzip_and_missing_paths(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_bytes(b"{\"format\": ")
    with pytest.raises(FeedError, match=r"x.json: not JSON"):
        list(NvdFeed().read(bad))
    broken = tmp_path / "y.json.gz"
    broken.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(FeedError, match=r"y.json.gz: cannot read"):
        list(NvdFeed().read(broken))
    with pytest.raises(FeedError, match="no such file or folder"):
        list(NvdFeed().read(tmp_path / "nope"))
    with pytest.raises(FeedError, match=r"field vulnerabilities: missing"):
        list(NvdFeed().read(_write(tmp_path / "z.json", {"hello": 1})))


def test_a_kev_entry_without_a_required_field(tmp_path: Path) -> None:
    doc = {"catalogVersion": "1", "dateReleased": "2026-01-01T00:00:00Z", "count": 1,
           "vulnerabilities": [{"cveID": "CVE-2026-0003", "vendorProject": "Acme"}]}
    with pytest.raises(FeedError, match=r"record CVE-2026-0003: field product: missing"):
        list(KevFeed().read(_write(tmp_path / "kev.json", doc)))


def test_a_cve5_file_that_is_not_a_record(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"field dataType: expected CVE_RECORD"):
        list(Cve5Feed().read(_write(tmp_path / "CVE-1.json", {"dataType": "x"})))
    folder = tmp_path / "delta"
    folder.mkdir()
    _write(folder / "delta.json", {"new": []})  # an index of the delta, not a record
    assert list(Cve5Feed().read(folder)) == []


def test_an_osv_yaml_that_does_not_parse(tmp_path: Path) -> None:
    bad = tmp_path / "PYSEC-1.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(FeedError, match=r"PYSEC-1.yaml: not YAML"):
        list(OsvFeed().read(bad))
    (tmp_path / "PYSEC-1.yaml").write_text("id: PYSEC-1\nseverity: 3\n", encoding="utf-8")
    with pytest.raises(FeedError, match=r"record PYSEC-1: field severity: expected a list"):
        list(OsvFeed().read(bad))
