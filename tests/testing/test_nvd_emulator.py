"""The NVD API emulator speaks the API's rules, and its responses, with the real records of
../shared/data loaded, pass the response schema and read back through the NVD parser."""

from __future__ import annotations

import httpx
import jsonschema

from intake_support import cve
from shared_data import data
from vulnmark.intake.feeds.nvd import parse_page
from vulnmark.testing import NvdEmulator
from vulnmark.testing.nvd_emulator import RESPONSE_SCHEMA
from vulnmark.testing.server import serve_in_thread

API = "/rest/json/cves/2.0"


def test_the_real_records_are_served_valid() -> None:
    emu = NvdEmulator()
    n = emu.load(data("nvd_api2_vulnz_cache", "nvdcve-modified.json.gz"))
    for path in sorted(data("nvd_api2_small_fixtures").rglob("*.json")):
        emu.load(path)
    with serve_in_thread(emu) as url:
        r = httpx.get(url + API, params={
            "lastModStartDate": "2024-03-01T00:00:00.000+00:00",
            "lastModEndDate": "2024-06-28T00:00:00.000+00:00", "resultsPerPage": 2000})
    assert r.status_code == 200
    doc = r.json()
    jsonschema.validate(doc, RESPONSE_SCHEMA)
    assert doc["totalResults"] > 0 and n == 1755
    assert len(list(parse_page(doc))) == doc["resultsPerPage"]


def test_the_api_rules() -> None:
    emu = NvdEmulator(api_keys={"good"})
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
