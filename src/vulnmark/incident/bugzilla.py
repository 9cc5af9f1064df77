"""Posting to Bugzilla through its REST API (bmo.readthedocs.io ``api/core/v1``): a rendered
update or report as a Markdown comment (``POST /rest/bug/{id}/comment``), and the bug's
whiteboard for its "Next update" date (``GET /rest/bug/{id}?include_fields=whiteboard``).

The API key comes only from ``VULNMARK_BUGZILLA_API_KEY`` and travels only in the
``X-BUGZILLA-API-KEY`` header; no error message, log line or evidence record contains it.
The HTTP layer is injectable (``client=``), as for Jira.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date
from typing import Any

import httpx

from vulnmark.config.incident import IncidentSettings
from vulnmark.errors import BugzillaError, IncidentError

logger = logging.getLogger(__name__)

API_KEY_ENV = "VULNMARK_BUGZILLA_API_KEY"
NEXT_UPDATE = re.compile(r"next[ _-]?update:?\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def next_update(whiteboard: str) -> date | None:
    """The "Next update" date of a whiteboard (``[ca-compliance] Next update 2023-12-10``)."""
    found = NEXT_UPDATE.search(whiteboard or "")
    if not found:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


class Bugzilla:
    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._key = api_key
        self._client = client or httpx.Client(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: IncidentSettings,
                      client: httpx.Client | None = None) -> Bugzilla:
        if not settings.bugzilla_url:
            raise IncidentError("posting needs [incident] bugzilla_url in vulnmark.toml")
        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise IncidentError(f"posting needs the Bugzilla API key in {API_KEY_ENV}")
        return cls(settings.bugzilla_url, key, timeout=settings.bugzilla_timeout,
                   client=client)

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self._client.request(method, self.url + path,
                                            headers={"X-BUGZILLA-API-KEY": self._key,
                                                     "Accept": "application/json"}, **kw)
        except httpx.HTTPError as e:
            raise BugzillaError(f"Bugzilla {self.url}: {type(e).__name__}: "
                                f"{self._clean(str(e))}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and body.get("error")):
            message = body.get("message") if isinstance(body, dict) else None
            raise BugzillaError(f"Bugzilla {self.url}{path}: HTTP {response.status_code}: "
                                f"{self._clean(str(message or response.reason_phrase))}")
        if not isinstance(body, dict):
            raise BugzillaError(f"Bugzilla {self.url}{path}: not a JSON object")
        return body

    def _clean(self, text: str) -> str:
        return text.replace(self._key, "[API key]")[:300]

    def whiteboard(self, bug: int) -> str:
        body = self._call("GET", f"/rest/bug/{bug}", params={"include_fields": "id,whiteboard"})
        bugs = body.get("bugs")
        if not isinstance(bugs, list) or not bugs or not isinstance(bugs[0], dict):
            raise BugzillaError(f"Bugzilla {self.url}: bug {bug} not in the answer")
        return str(bugs[0].get("whiteboard") or "")

    def comment(self, bug: int, markdown: str) -> int:
        """Post ``markdown`` as a public Markdown comment; returns the comment's id."""
        body = self._call("POST", f"/rest/bug/{bug}/comment",
                          json={"comment": markdown, "is_markdown": True, "is_private": False})
        found = body.get("id")
        if not isinstance(found, int) or isinstance(found, bool):
            raise BugzillaError(f"Bugzilla {self.url}: no comment id in the answer")
        logger.info("posted comment %s on bug %s", found, bug)
        return found
