"""The NVD API emulator speaks the API's rules, and its responses, with the real records of
../shared/data loaded, pass the NVD's own response schema (``cve_api_json_2.0.schema``,
vendored in tests/data/nvd_schema) and read back through the NVD parser."""

from __future__ import annotations

import httpx
import jsonschema

from intake_support import NVD_SCHEMA, cve, nvd_document, official_nvd_check
from shared_data import data
from vulnmark.intake.feeds.nvd import parse_page
from vulnmark.testing import NvdEmulator
from vulnmark.testing.nvd_emulator import RESPONSE_SCHEMA
from vulnmark.testing.server import serve_in_thread

API = "/rest/json/cves/2.0"


def test_the_real_records_are_served_valid() -> None:
    """Every record of the NVD files and fixtures in ../shared/data, served in pages, is valid
    under the NVD's schema (the emulator checks each response; so does the test)."""
    emu = NvdEmulator(validator=official_nvd_check)
    n = emu.load(data("nvd_api2_vulnz_cache", "nvdcve-modified.json.gz"))
    for path in sorted(data("nvd_api2_small_fixtures").rglob("*.json")):
        emu.load(path)
    served = 0
    with serve_in_thread(emu) as url:
        for start, end in (("2019-01-01", "2019-05-01"), ("2022-01-01", "2022-05-01"),
                           ("2022-05-01", "2022-08-29"), ("2022-08-29", "2022-12-27"),
                           ("2022-12-27", "2023-04-26"), ("2023-04-26", "2023-08-24"),
                           ("2023-08-24", "2023-12-22"), ("2023-12-22", "2024-03-01"),
                           ("2024-03-01", "2024-06-28"), ("2024-06-28", "2024-10-26")):
            r = httpx.get(url + API, params={
                "lastModStartDate": f"{start}T00:00:00.000+00:00",
                "lastModEndDate": f"{end}T00:00:00.000+00:00", "resultsPerPage": 2000})
            assert r.status_code == 200, r.headers
            doc = r.json()
            official_nvd_check(doc)
            assert len(list(parse_page(doc))) == doc["resultsPerPage"]
            served += doc["totalResults"]
            emu._sent[False].clear()  # the rate limit is another test's business
    assert n == 1755 and served >= 1755


def test_the_nvd_schema_is_stricter_than_the_documented_shape() -> None:
    """A CVSS 3.1 score without its baseSeverity passes the shape written from standards.md
    but not the NVD's schema (the FIRST CVSS schema it refers to requires it): the emulator
    refuses to serve it."""
    record = cve(1)
    del record["metrics"]["cvssMetricV31"][0]["cvssData"]["baseSeverity"]
    doc = nvd_document([record])
    jsonschema.validate(doc, RESPONSE_SCHEMA)
    try:
        official_nvd_check(doc)
    except jsonschema.ValidationError as e:
        assert "'baseSeverity' is a required property" in e.message
    else:
        raise AssertionError("the NVD schema accepted a CVSS 3.1 score without its severity")
    emu = NvdEmulator(validator=official_nvd_check)
    emu.add([record])
    with serve_in_thread(emu) as url:
        try:
            status: int | None = httpx.get(url + API).status_code
        except httpx.TransportError:  # the server dropped the connection on the error
            status = None
    assert status in (None, 500) and emu.requests == []


def test_the_vendored_schema_is_the_nvds_and_every_reference_resolves() -> None:
    import json

    schema = json.loads((NVD_SCHEMA / "cve_api_json_2.0.schema").read_text(encoding="utf-8"))
    assert schema["title"].startswith("JSON Schema for NVD Vulnerability Data API")
    refs = {m for m in json.dumps(schema).split('"') if m.startswith("https://")}
    assert refs == {f"https://csrc.nist.gov/schema/nvd/api/2.0/external/cvss-v{v}.json"
                    for v in ("2.0", "3.0", "3.1", "4.0")}
    assert (NVD_SCHEMA / "SOURCE.txt").is_file()
    official_nvd_check(nvd_document([cve(1), cve(2, score=None), cve(3, kev_due="2026-12-01")]))


def test_the_api_rules() -> None:
    emu = NvdEmulator(api_keys={"good"}, validator=official_nvd_check)
    emu.add([cve(1), cve(2)])
    with serve_in_thread(emu) as url:
        def get(key: str | None = None, **params: object) -> httpx.Response:
            return httpx.get(url + API, params=params, headers={"apiKey": key} if key else {})

        assert get(lastModStartDate="2026-01-01T00:00:00.000Z").status_code == 404
        wide = get(lastModStartDate="2026-01-01T00:00:00.000Z",
                   lastModEndDate="2026-06-01T00:00:00.000Z")
        assert wide.status_code == 404 and "120 days" in wide.headers["message"]
        assert get(resultsPerPage=2001).status_code == 404
        bad = get("nope")
        assert bad.status_code == 404 and bad.headers["message"] == "Invalid apiKey"
        page = get(resultsPerPage=1, startIndex=1).json()
        assert page["totalResults"] == 2 and page["vulnerabilities"][0]["cve"]["id"] == \
            "CVE-2026-0002"
        statuses = [get().status_code for _ in range(5)]
    assert statuses.count(403) == 4 - 0 and emu.violations == 4  # 3 before, 5th+ refused
