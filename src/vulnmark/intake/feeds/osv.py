"""OSV advisories (the Open Source Vulnerability schema), JSON or YAML, files or folders.

Ratings: ``severity[]`` (``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4`` vectors; OSV gives no score,
the class comes from the vector) and a worded ``database_specific.severity`` (GitHub's
advisories: ``HIGH``, ``MODERATE``). A ``withdrawn`` advisory counts as rejected. YAML needs
PyYAML (``pip install 'vulnmark[yaml]'``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vulnmark.errors import FeedError
from vulnmark.intake.feeds.interface import (
    Advisory,
    AdvisoryId,
    Feed,
    Fields,
    Package,
    Rating,
    load_json,
    worded_severity,
)

VERSIONS = {"CVSS_V4": "4.0", "CVSS_V3": "3.1", "CVSS_V2": "2.0"}


class OsvFeed(Feed):
    name = "osv"
    suffixes = (".json", ".json.gz", ".yaml", ".yml")

    def load(self, path: Path) -> Any:
        if not path.name.endswith((".yaml", ".yml")):
            return load_json(path)
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML is in the test extra
            raise FeedError("reading OSV YAML needs PyYAML: pip install 'vulnmark[yaml]'",
                            file=str(path)) from None
        try:
            with path.open(encoding="utf-8") as f:
                return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except UnicodeDecodeError as e:
            raise FeedError(f"not UTF-8 ({e.reason} at byte {e.start})", file=str(path)) from e
        except yaml.YAMLError as e:
            raise FeedError(f"not YAML: {str(e).splitlines()[0]}", file=str(path)) from e
        except OSError as e:
            raise FeedError(f"cannot read: {e}", file=str(path)) from e

    def parse(self, document: Any, *, file: str) -> Iterator[Advisory]:
        items = document if isinstance(document, list) else [document]
        return iter([advisory(item, file=file) for item in items])


def advisory(value: Any, *, file: str | None = None) -> Advisory:
    f = Fields(None, file)
    doc = f.obj(value, "(advisory)")
    raw_id = doc.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise f.error("id", f"expected the advisory id, got {raw_id!r} (is this an OSV "
                            "advisory?)")
    f = Fields(raw_id, file)
    aliases = [f.text(a, f"aliases[{i}]")
               for i, a in enumerate(f.items(doc.get("aliases"), "aliases"))]
    ratings: list[Rating] = []
    for i, sev in enumerate(f.items(doc.get("severity"), "severity")):
        s = f.obj(sev, f"severity[{i}]")
        kind = f.text(s.get("type"), f"severity[{i}].type")
        if kind in VERSIONS:
            vector = f.text(s.get("score"), f"severity[{i}].score")
            version = vector[5:8] if vector.startswith("CVSS:") else VERSIONS[kind]
            ratings.append(Rating("osv", version, vector, None, None, "osv"))
    specific = doc.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        word = worded_severity(specific["severity"])
        if word is not None:
            ratings.append(Rating("osv", "text", None, None, word, "osv"))
    packages = []
    for i, item in enumerate(f.items(doc.get("affected"), "affected")):
        a = f.obj(item, f"affected[{i}]")
        if a.get("package") is None:
            continue
        p = f.obj(a.get("package"), f"affected[{i}].package")
        packages.append(Package(f.text(p.get("ecosystem"), f"affected[{i}].package.ecosystem"),
                                f.text(p.get("name"), f"affected[{i}].package.name"),
                                f.text(p.get("purl"), f"affected[{i}].package.purl",
                                       optional=True) or None))
    refs = [f.text(f.obj(r, f"references[{i}]").get("url"), f"references[{i}].url")
            for i, r in enumerate(f.items(doc.get("references"), "references"))]
    return Advisory(
        id=AdvisoryId(raw_id), feed="osv",
        title=f.text(doc.get("summary"), "summary", optional=True),
        description=f.text(doc.get("details"), "details", optional=True),
        published=f.time(doc.get("published"), "published"),
        modified=f.time(doc.get("modified"), "modified"),
        aliases=tuple(dict.fromkeys(aliases)), references=tuple(dict.fromkeys(refs)),
        ratings=tuple(ratings), packages=tuple(dict.fromkeys(packages)),
        rejected=doc.get("withdrawn") is not None, source_file=file)
