"""NVD CVE API 2.0 documents: a response page, or a file of them (plain or gzipped).

The shape is the API's (``{"format": "NVD_CVE", "version": "2.0", "vulnerabilities":
[{"cve": {...}}]}``, schema ``cve_api_json_2.0``); files written by NVD mirrors (vulnz, the
NVD's own 2.0 feeds) have the same shape. :func:`advisory` reads one ``cve`` object and is
shared with the live client (:mod:`.nvd_api`). Metric keys this version does not know
(``ssvcV203``) are skipped.

Who rated: an entry of ``type`` ``Primary`` is the NVD's own score (``nvd``); a ``Secondary``
one from the record's ``sourceIdentifier`` is the CNA's (``cna``); other Secondary scorers
(CISA's ADP) are ``adp``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vulnmark.errors import FeedError
from vulnmark.intake.feeds.interface import (
    Advisory,
    AdvisoryId,
    Feed,
    Fields,
    KevEntry,
    Rating,
    english,
)

#: The metric keys read, newest CVSS version first, and the version each holds.
METRICS = (("cvssMetricV40", "4.0"), ("cvssMetricV31", "3.1"), ("cvssMetricV30", "3.0"),
           ("cvssMetricV2", "2.0"))


class NvdFeed(Feed):
    name = "nvd"

    def parse(self, document: Any, *, file: str) -> Iterator[Advisory]:
        return parse_page(document, file=file)


def parse_page(document: Any, *, file: str | None = None) -> Iterator[Advisory]:
    """The advisories of one API 2.0 document (every record is checked before any is
    yielded: a bad record stops the document, and nothing of it is used)."""
    f = Fields(None, file)
    doc = f.obj(document, "(document)")
    if doc.get("format") not in (None, "NVD_CVE"):
        raise f.error("format", f"expected NVD_CVE, got {doc.get('format')!r} (is this an "
                                "NVD CVE API 2.0 document?)")
    if "vulnerabilities" not in doc:
        raise f.error("vulnerabilities", "missing (is this an NVD CVE API 2.0 document?)")
    parsed = []
    for i, item in enumerate(f.items(doc.get("vulnerabilities"), "vulnerabilities")):
        entry = f.obj(item, f"vulnerabilities[{i}]")
        parsed.append(advisory(entry.get("cve"), file=file, index=i))
    return iter(parsed)


def advisory(value: Any, *, file: str | None = None, index: int | None = None) -> Advisory:
    """One ``cve`` object of the API as an :class:`Advisory`."""
    where = "cve" if index is None else f"vulnerabilities[{index}].cve"
    cve = Fields(None, file).obj(value, where)
    raw_id = cve.get("id")
    if not isinstance(raw_id, str) or not raw_id.startswith("CVE-"):
        raise FeedError(f"expected a CVE id, got {raw_id!r}", file=file,
                        record=f"#{index}" if index is not None else None, field=f"{where}.id")
    f = Fields(raw_id, file)
    scorer = cve.get("sourceIdentifier")
    ratings = tuple(_ratings(f.obj(cve.get("metrics") or {}, "metrics"), scorer, f))
    cpes = tuple(dict.fromkeys(_cpes(f.items(cve.get("configurations"), "configurations"), f)))
    refs = []
    for i, ref in enumerate(f.items(cve.get("references"), "references")):
        refs.append(f.text(f.obj(ref, f"references[{i}]").get("url"), f"references[{i}].url"))
    kev = None
    if cve.get("cisaExploitAdd") is not None:
        added = f.day(cve.get("cisaExploitAdd"), "cisaExploitAdd")
        assert added is not None
        kev = KevEntry(added, f.day(cve.get("cisaActionDue"), "cisaActionDue"),
                       f.text(cve.get("cisaRequiredAction"), "cisaRequiredAction",
                              optional=True))
    status = f.text(cve.get("vulnStatus"), "vulnStatus", optional=True) or None
    name = f.text(cve.get("cisaVulnerabilityName"), "cisaVulnerabilityName", optional=True)
    return Advisory(
        id=AdvisoryId(raw_id), feed="nvd", title=name,
        description=english(f.items(cve.get("descriptions"), "descriptions"), f,
                            "descriptions"),
        published=f.time(cve.get("published"), "published"),
        modified=f.time(cve.get("lastModified"), "lastModified"),
        references=tuple(dict.fromkeys(refs)), ratings=ratings, cpes=cpes,
        rejected=status == "Rejected", kev=kev, status=status, source_file=file)


def _ratings(metrics: Mapping[str, Any], cna: Any, f: Fields) -> Iterator[Rating]:
    for key, version in METRICS:
        for i, entry in enumerate(f.items(metrics.get(key), f"metrics.{key}")):
            where = f"metrics.{key}[{i}]"
            e = f.obj(entry, where)
            data = f.obj(e.get("cvssData"), f"{where}.cvssData")
            # v2 keeps baseSeverity beside cvssData, v3.x and v4.0 inside it
            severity = data.get("baseSeverity") or e.get("baseSeverity")
            source = e.get("source")
            kind = e.get("type")
            who = "nvd" if kind == "Primary" else "cna" if source == cna else "adp"
            yield Rating(
                source=who, version=version,
                vector=f.text(data.get("vectorString"), f"{where}.cvssData.vectorString"),
                score=f.score(data.get("baseScore"), f"{where}.cvssData.baseScore"),
                severity=f.text(severity, f"{where}.baseSeverity", optional=True).upper()
                or None,
                scorer=source if isinstance(source, str) else None)


def _cpes(configurations: list[Any], f: Fields) -> Iterator[str]:
    for i, conf in enumerate(configurations):
        nodes = f.items(f.obj(conf, f"configurations[{i}]").get("nodes"),
                        f"configurations[{i}].nodes")
        for j, node in enumerate(nodes):
            where = f"configurations[{i}].nodes[{j}]"
            for k, match in enumerate(f.items(f.obj(node, where).get("cpeMatch"),
                                              f"{where}.cpeMatch")):
                m = f.obj(match, f"{where}.cpeMatch[{k}]")
                if m.get("vulnerable", True):
                    yield f.text(m.get("criteria"), f"{where}.cpeMatch[{k}].criteria")
