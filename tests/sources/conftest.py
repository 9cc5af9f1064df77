"""Shared fixtures for the source tests: real data paths and small Jira issue builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared_data import data


@pytest.fixture(scope="session")
def apache_pages() -> list[Path]:
    pages = sorted(data("jira_apache_issues").glob("search_page_0[012].json"))
    assert len(pages) == 3, "real Apache Jira pages missing"
    return pages


@pytest.fixture(scope="session")
def apache_manifest() -> dict[str, dict[str, Any]]:
    with data("jira_apache_issues", "manifest.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {row["key"]: row for row in rows}


V2_ISSUE: dict[str, Any] = {
    "expand": "operations,changelog",
    "id": "10042",
    "self": "https://jira.example.test/jira/rest/api/2/issue/10042",
    "key": "CA-42",
    "fields": {
        "summary": "OCSP responder accepts SHA-1 requests",
        "description": "h2. Impact\n{quote}rated HIGH by the auditor{quote}",
        "labels": ["Sérülékenység", "HIGH"],
        "status": {"name": "In Progress", "id": "3"},
        "resolution": None,
        "resolutiondate": None,
        "created": "2026-01-05T09:00:00.000+0100",
        "updated": "2026-01-06T10:30:00.000+0000",
        "reporter": {"name": "ann", "key": "ann", "displayName": "Ann Auditor"},
        "priority": {"name": "Critical"},
        "issuetype": {"name": "Bug"},
        "customfield_10900": "2026-01-03",
        "customfield_99999": {"value": "ignored"},
        "comment": {
            "comments": [
                {"body": "first", "author": {"displayName": "Bob"},
                 "created": "2026-01-05T10:00:00.000+0000"},
                {"body": "besorolás: kritikus", "author": None, "created": None},
            ],
            "maxResults": 2,
            "total": 2,
            "startAt": 0,
        },
    },
}


@pytest.fixture
def v2_issue() -> dict[str, Any]:
    """A fresh, mutable Data Center (REST v2) issue."""
    return copy.deepcopy(V2_ISSUE)


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[str, object], Path]:
    """Write ``doc`` as UTF-8 JSON to ``tmp_path / name`` and return the path."""

    def write(name: str, doc: object) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return path

    return write
