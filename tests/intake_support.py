"""Small NVD API 2.0 documents for the intake tests that must run without ../shared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def cve(number: int, *, score: float | None = 7.5, severity: str = "HIGH",
        description: str = "A flaw in OpenSSL lets a remote attacker read memory.",
        modified: str = "2026-11-02T00:00:00.000", status: str = "Analyzed",
        kev_due: str | None = None, source: str = "nvd@nist.gov",
        kind: str = "Primary") -> dict[str, Any]:
    """One ``cve`` object as the NVD API returns it."""
    record: dict[str, Any] = {
        "id": f"CVE-2026-{number:04d}", "sourceIdentifier": "cna@example.org",
        "published": "2026-11-01T10:00:00.000", "lastModified": modified,
        "vulnStatus": status, "descriptions": [{"lang": "en", "value": description}],
        "metrics": {}, "references": [{"url": f"https://example.org/advisory/{number}"}],
        "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [
            {"vulnerable": True, "criteria": "cpe:2.3:a:openssl:openssl:3.0.0:*:*:*:*:*:*:*",
             "matchCriteriaId": "00000000-0000-0000-0000-000000000000"}]}]}],
    }
    if score is not None:
        record["metrics"]["cvssMetricV31"] = [{
            "source": source, "type": kind, "cvssData": {
                "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                "baseScore": score, "baseSeverity": severity}}]
    if kev_due is not None:
        record.update(cisaExploitAdd="2026-11-03", cisaActionDue=kev_due,
                      cisaRequiredAction="Apply updates per vendor instructions.",
                      cisaVulnerabilityName="OpenSSL memory disclosure")
    return record


def nvd_document(cves: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resultsPerPage": len(cves), "startIndex": 0, "totalResults": len(cves),
            "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-05T00:00:00.000",
            "vulnerabilities": [{"cve": c} for c in cves]}


def write_nvd(path: Path, cves: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(nvd_document(cves)), encoding="utf-8")
    return path
