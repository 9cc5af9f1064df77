"""Which feed a file or folder holds, from its first document (``intake run --from PATH``
without ``--feed``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vulnmark.errors import FeedError
from vulnmark.intake.feeds.interface import files, load_json


def detect(path: Path) -> str:
    """``nvd``, ``cve5``, ``kev`` or ``osv``; a FeedError when it cannot tell."""
    first = next(iter(files(path, (".json", ".json.gz", ".yaml", ".yml"))), None)
    if first is None:
        raise FeedError("no .json, .json.gz or .yaml file here", file=str(path))
    if first.name.endswith((".yaml", ".yml")):
        return "osv"
    found = _kind(load_json(first))
    if found is None:
        raise FeedError("not a feed this version reads (NVD API 2.0, CVE JSON 5, CISA KEV, "
                        "OSV); name it with --feed", file=str(first))
    return found


def _kind(doc: Any) -> str | None:
    if isinstance(doc, list):
        return _kind(doc[0]) if doc else None
    if not isinstance(doc, dict):
        return None
    if doc.get("format") == "NVD_CVE" or "vulnerabilities" in doc and "totalResults" in doc:
        return "nvd"
    if "catalogVersion" in doc:
        return "kev"
    if doc.get("dataType") == "CVE_RECORD":
        return "cve5"
    if "id" in doc and ("affected" in doc or "modified" in doc or "aliases" in doc):
        return "osv"
    return None
