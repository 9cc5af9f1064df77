"""Small NVD API 2.0 documents for the intake tests that must run without ../shared."""

from __future__ import annotations

import json
from functools import lru_cache
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


#: The NVD's own response schema of the CVE API 2.0 and the CVSS schemas it refers to,
#: vendored (see the folder's SOURCE.txt).
NVD_SCHEMA = Path(__file__).resolve().parent / "data" / "nvd_schema"
_EXTERNAL = "https://csrc.nist.gov/schema/nvd/api/2.0/external/"


@lru_cache(maxsize=1)
def _official() -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for version in ("2.0", "3.0", "3.1", "4.0"):
        doc = json.loads((NVD_SCHEMA / f"cvss-v{version}.json").read_text(encoding="utf-8"))
        # draft-07 all (the resource says so below); without its "$schema" jsonschema checks it
        # with the validator below instead of a plain Draft7Validator of its own
        assert doc.pop("$schema") == "http://json-schema.org/draft-07/schema#"
        resource = Resource.from_contents(doc, default_specification=DRAFT7)
        # by the URL the NVD schema refers to, and by the schema's own $id (its base URI)
        resources += [(f"{_EXTERNAL}cvss-v{version}.json", resource)]
        if doc.get("$id"):
            resources += [(doc["$id"], resource)]
    schema = json.loads((NVD_SCHEMA / "cve_api_json_2.0.schema").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    # CVSS 4.0's scores are a multipleOf 0.1: 8.2 is one, though 8.2 / 0.1 in binary floating
    # point is 81.99999999999999 (jsonschema's float check would call a real NVD record
    # invalid); compared in decimal, as the schema means it
    validator = jsonschema.validators.extend(
        jsonschema.Draft7Validator, {"multipleOf": _decimal_multiple_of})
    return validator(schema, registry=Registry().with_resources(resources))


def _decimal_multiple_of(validator: Any, step: float, instance: Any, schema: Any) -> Any:
    from decimal import Decimal

    import jsonschema

    if not validator.is_type(instance, "number"):
        return
    if Decimal(str(instance)) % Decimal(str(step)) != 0:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step!r}")


def official_nvd_check(doc: dict[str, Any]) -> None:
    """Raise :class:`jsonschema.ValidationError` unless ``doc`` is valid under the NVD's
    ``cve_api_json_2.0.schema`` (formats are not asserted: the NVD's own times,
    ``2026-11-01T10:00:00.000``, carry no offset and are not RFC 3339 ``date-time``)."""
    _official().validate(doc)
