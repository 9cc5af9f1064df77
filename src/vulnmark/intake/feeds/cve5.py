"""CVE JSON 5.x records (CVE Record Format 5.0/5.1): single files, folders laid out like the
CVE list repository (``cves/2024/1xxx/CVE-2024-1234.json``), or a delta (a folder of the
changed records). Files not named ``CVE-*.json`` (``delta.json``, ``deltaLog.json``) are
indexes, not records, and are skipped in folders.

Ratings come from the CNA container (``cna``) and each ADP container (``adp``, e.g. CISA's
Vulnrichment): ``cvssV4_0``, ``cvssV3_1``, ``cvssV3_0``, ``cvssV2_0`` and worded severities
in ``other`` (``{"type": "Textual description of severity", "content": {"text":
"important"}}``). A REJECTED record has no metrics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from vulnmark.errors import FeedError
from vulnmark.intake.feeds.interface import (
    Advisory,
    AdvisoryId,
    Feed,
    Fields,
    Rating,
    english,
    files,
    worded_severity,
)

METRICS = (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0"))


class Cve5Feed(Feed):
    name = "cve5"

    def read(self, path: Path) -> Iterator[Advisory]:
        for file in files(path, (".json", ".json.gz")):
            if path.is_dir() and not file.name.startswith("CVE-"):
                continue
            try:
                yield from self.parse(self.load(file), file=str(file))
            except FeedError as e:
                raise e.located(str(file)) from None

    def parse(self, document: Any, *, file: str) -> Iterator[Advisory]:
        records = document if isinstance(document, list) else [document]
        return iter([record(r, file=file) for r in records])


def record(value: Any, *, file: str | None = None) -> Advisory:
    f = Fields(None, file)
    doc = f.obj(value, "(record)")
    if doc.get("dataType") != "CVE_RECORD":
        raise f.error("dataType", f"expected CVE_RECORD, got {doc.get('dataType')!r} (is this "
                                  "a CVE JSON 5 record?)")
    meta = f.obj(doc.get("cveMetadata"), "cveMetadata")
    cve_id = meta.get("cveId")
    if not isinstance(cve_id, str) or not cve_id.startswith("CVE-"):
        raise f.error("cveMetadata.cveId", f"expected a CVE id, got {cve_id!r}")
    f = Fields(cve_id, file)
    containers = f.obj(doc.get("containers"), "containers")
    cna = f.obj(containers.get("cna"), "containers.cna")
    state = f.text(meta.get("state"), "cveMetadata.state")
    ratings = list(_ratings(cna, "cna", "containers.cna", f))
    refs = [*_refs(cna, "containers.cna", f)]
    vendors: list[str] = []
    products: list[tuple[str, str]] = []
    cpes: list[str] = []
    for i, adp in enumerate(f.items(containers.get("adp"), "containers.adp")):
        where = f"containers.adp[{i}]"
        a = f.obj(adp, where)
        ratings += _ratings(a, "adp", where, f)
        refs += _refs(a, where, f)
        _affected(a, where, f, vendors, products, cpes)
    _affected(cna, "containers.cna", f, vendors, products, cpes)
    description = english(f.items(cna.get("descriptions"), "containers.cna.descriptions"), f,
                          "containers.cna.descriptions")
    if state == "REJECTED" and not description:
        description = english(f.items(cna.get("rejectedReasons"),
                                      "containers.cna.rejectedReasons"), f,
                              "containers.cna.rejectedReasons")
    return Advisory(
        id=AdvisoryId(cve_id), feed="cve5",
        title=f.text(cna.get("title"), "containers.cna.title", optional=True),
        description=description,
        published=f.time(meta.get("datePublished"), "cveMetadata.datePublished"),
        modified=f.time(meta.get("dateUpdated"), "cveMetadata.dateUpdated"),
        references=tuple(dict.fromkeys(refs)), ratings=tuple(ratings),
        vendors=tuple(dict.fromkeys(vendors)), products=tuple(dict.fromkeys(products)),
        cpes=tuple(dict.fromkeys(cpes)), rejected=state == "REJECTED", status=state,
        source_file=file)


def _ratings(container: Mapping[str, Any], who: str, where: str, f: Fields) -> Iterator[Rating]:
    scorer = None
    meta = container.get("providerMetadata")
    if isinstance(meta, dict) and isinstance(meta.get("shortName"), str):
        scorer = meta["shortName"]
    for i, metric in enumerate(f.items(container.get("metrics"), f"{where}.metrics")):
        at = f"{where}.metrics[{i}]"
        m = f.obj(metric, at)
        for key, version in METRICS:
            if key in m:
                data = f.obj(m[key], f"{at}.{key}")
                severity = f.text(data.get("baseSeverity"), f"{at}.{key}.baseSeverity",
                                  optional=True)
                yield Rating(who, version,
                             f.text(data.get("vectorString"), f"{at}.{key}.vectorString"),
                             f.score(data.get("baseScore"), f"{at}.{key}.baseScore"),
                             severity.upper() or None, scorer)
        other = m.get("other")
        if isinstance(other, dict) and "severity" in str(other.get("type", "")).lower():
            content = other.get("content")
            text = content.get("text") if isinstance(content, dict) else content
            word = worded_severity(text) if isinstance(text, str) else None
            if word is not None:
                yield Rating(who, "text", None, None, word, scorer)


def _refs(container: Mapping[str, Any], where: str, f: Fields) -> Iterator[str]:
    for i, ref in enumerate(f.items(container.get("references"), f"{where}.references")):
        yield f.text(f.obj(ref, f"{where}.references[{i}]").get("url"),
                     f"{where}.references[{i}].url")


def _affected(container: Mapping[str, Any], where: str, f: Fields, vendors: list[str],
              products: list[tuple[str, str]], cpes: list[str]) -> None:
    for i, item in enumerate(f.items(container.get("affected"), f"{where}.affected")):
        at = f"{where}.affected[{i}]"
        a = f.obj(item, at)
        vendor = f.text(a.get("vendor"), f"{at}.vendor", optional=True)
        product = f.text(a.get("product") or a.get("packageName"), f"{at}.product",
                         optional=True)
        if vendor:
            vendors.append(vendor)
        if vendor or product:
            products.append((vendor, product))
        for j, cpe in enumerate(f.items(a.get("cpes"), f"{at}.cpes")):
            cpes.append(f.text(cpe, f"{at}.cpes[{j}]"))
