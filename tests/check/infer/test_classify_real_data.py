"""Real advisory text from ../shared/data: what people actually write."""

from __future__ import annotations

import gzip
import json

import pytest
from classify_support import make

from shared_data import data as dataset
from vulnmark.check.infer import read
from vulnmark.check.infer._cvss import vector_class
from vulnmark.config.policy import Policy


def _node(n: int) -> dict[str, object]:
    path = dataset("nodejs_security_wg_vulns", "vuln", "core", f"{n}.json")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("record", "expected", "phrase"),
    [
        (49, "HIGH", "the severity is HIGH"),
        (12, "HIGH", "labelled high severity"),
        (128, "HIGH", "(High)"),
        (129, "MEDIUM", "(Medium)"),
        (130, "LOW", "(Low)"),
        # "marked as high severity in the corresponding Chromium release ... our assessment
        # is that this is low severity for Node.js users": the later statement wins
        (24, "LOW", "low severity for"),
        # 13 moves ciphers "from the HIGH to MEDIUM group": no severity statement at all
        (13, None, None),
        # 18: "low severity security defect" and later a CVSS:3.0 vector, Base Score 4.8
        # (Medium), and "Attack Complexity: High (AC:H)" as a false friend
        (18, "MEDIUM", None),
    ],
)
def test_nodejs_core_overviews(
    record: int, expected: str | None, phrase: str | None, policy: Policy
) -> None:
    data = _node(record)
    ticket = make(str(data["overview"]), title=str(data.get("description", "")))
    reading = read(ticket, policy)
    assert reading.suggested == expected
    if phrase is not None:
        assert phrase in reading.evidence[0].text


def test_rustsec_front_matter_vector(policy: Policy) -> None:
    path = next(dataset("rustsec_advisories", "crates").glob("*/RUSTSEC-2026-0207.md"))
    text = path.read_text(encoding="utf-8")
    reading = read(make(text), policy)
    # CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N scores 8.2
    assert reading.suggested == "HIGH"
    assert reading.evidence[0].text.startswith('cvss = "CVSS:4.0/')


def test_rustsec_commented_out_vector_is_not_a_statement(policy: Policy) -> None:
    path = next(dataset("rustsec_advisories", "crates").glob("*/RUSTSEC-2021-0125.md"))
    text = path.read_text(encoding="utf-8")
    assert '#cvss = "CVSS:3.1/' in text
    assert read(make(text), policy).suggested is None


def test_vuldb_statement_in_english_and_german(policy: Policy) -> None:
    path = dataset("cve5_vulnrichment", "records", "2005", "10xxx", "CVE-2005-10003.json")
    cna = json.loads(path.read_text(encoding="utf-8"))["containers"]["cna"]
    texts = {d["lang"]: d["value"] for d in cna["descriptions"]}
    en, de = read(make(texts["en"]), policy), read(make(texts["de"]), policy)
    # the text states VulDB's own class; "the complexity of an attack is rather high" and
    # "Die Komplexität eines Angriffs ist eher hoch" are not statements
    assert en.suggested == de.suggested == "CRITICAL"
    assert de.evidence[0].text == ("Sie wurde als kritisch eingestuft."
                                   " [scale: German, kritisch = CRITICAL]")
    assert en.is_suspect and de.is_suspect


def test_nvd_vectors_match_base_severity(policy: Policy) -> None:
    path = dataset("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        items = json.load(fh)["vulnerabilities"][:300]
    checked = 0
    for item in items:
        metrics = item["cve"].get("metrics", {})
        for key in ("cvssMetricV2", "cvssMetricV30", "cvssMetricV31"):
            for metric in metrics.get(key, [])[:1]:
                data = metric["cvssData"]
                truth = data.get("baseSeverity") or metric.get("baseSeverity")
                reading = read(make("", f"Vector: {data['vectorString']}"), policy)
                assert reading.suggested == truth, (item["cve"]["id"], key)
                checked += 1
    assert checked > 300


def test_cvss4_records_of_cve5(policy: Policy) -> None:
    checked = 0
    for path in sorted(dataset("cve5_vulnrichment", "records", "2024").glob("*/*.json"))[:400]:
        cna = json.loads(path.read_text(encoding="utf-8"))["containers"].get("cna", {})
        for metric in cna.get("metrics", []):
            data = metric.get("cvssV4_0")
            if data and data.get("baseSeverity"):
                assert vector_class(data["vectorString"]) == (data["baseSeverity"], 4)
                checked += 1
    assert checked > 20


def test_jira_priority_alone_never_suggests(policy: Policy) -> None:
    page = json.loads(dataset("jira_apache_issues", "search_page_00.json").read_text("utf-8"))
    stated = []
    for issue in page["issues"]:
        fields = issue["fields"]
        priority = (fields.get("priority") or {}).get("name")
        ticket = make(fields.get("description") or "", title=fields.get("summary") or "",
                      priority=priority)
        reading = read(ticket, policy)
        if reading.suggested is not None:
            stated.append(reading.evidence[0].text)
    # 500 real issues with Blocker/Critical/Major priorities: a suggestion only where the
    # text itself states a severity ("CVE-2015-5182 Severity:High  CVSS Score: 6.8")
    assert len(stated) <= 2
    assert all("severity" in t.lower() or "cvss" in t.lower() for t in stated)
