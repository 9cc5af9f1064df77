"""The real data sets beside the repository (``../shared``), and what a test does without them.

A clone of the repository alone has no ``../shared`` beside it. A test that needs a data set
asks for the path with :func:`data` (or :func:`shared`) while it runs, never at collection, and
is skipped with a reason naming the missing path. CI sets ``VULNMARK_REQUIRE_DATA=1`` (see
``.ci/run``), which turns that skip into a failure, so CI always runs these tests. The small
fixtures the core tests need are vendored in ``tests/data/`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
#: Read at import, before the autouse fixture clears every VULNMARK_* variable.
REQUIRED = os.environ.get("VULNMARK_REQUIRE_DATA") == "1"


def shared(*parts: str) -> Path:
    """``../shared/PARTS``; skips the test when it is missing (fails with REQUIRED)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"needs {path}, which is not there (no ../shared beside this checkout)"
        if REQUIRED:
            pytest.fail(f"{message}; VULNMARK_REQUIRE_DATA=1", pytrace=False)
        pytest.skip(message)
    return path


def data(*parts: str) -> Path:
    """``../shared/data/PARTS`` (see :func:`shared`)."""
    return shared("data", *parts)


def jira_spec() -> Path:
    """Atlassian's official OpenAPI document of the Jira Cloud platform REST API v3."""
    return data("jira-openapi", "jira-platform-v3.swagger-v3.v3.json")


def apache_pages() -> list[Path]:
    """The 1,299 real Apache Jira issues in three REST v2 search pages."""
    return sorted(data("jira_apache_issues").glob("search_page_*.json"))
