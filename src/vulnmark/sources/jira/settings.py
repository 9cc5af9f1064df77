"""Jira source settings (``[source.jira]``, checked at load by :mod:`vulnmark.config.sections`,
plus credentials from the environment) and errors.

Errors (exit codes as the CLI maps them)::

    SourceError
    ├── InputError                              exit 2
    │   └── JiraConfigError     a [source.jira] key or JIRA_* variable is missing or invalid
    │       ├── JiraQueryError  Jira rejected the scope JQL (400)
    │       └── LabelError      a label to write back is invalid (spaces, > 255 characters)
    └── JiraError                               exit 3 (an ExternalError)
        ├── JiraAuthError       401 / 403, naming the site and the permission needed
        ├── JiraUnavailable     network failure, timeout, 429/5xx after all retries
        ├── JiraHTTPError       any other unexpected status (410 Gone included)
        │   └── JiraNotFound    404 for one issue (deleted while we looked)
        └── JiraResponseError   malformed or unexpected JSON, naming the issue key and field
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vulnmark.config.sections import Flavour, JiraSection, check_no_credentials
from vulnmark.errors import ConfigError, ExternalError, InputError, SourceError

logger = logging.getLogger(__name__)



class JiraConfigError(InputError):
    """Configuration of the Jira source is missing or invalid (``field`` names the key)."""


class JiraQueryError(JiraConfigError):
    """Jira rejected the configured JQL."""


class LabelError(JiraConfigError):
    """A label cannot be written to Jira."""


class JiraError(SourceError, ExternalError):
    """Jira (an external system) failed."""


class JiraAuthError(JiraError):
    """401 or 403."""


class JiraUnavailable(JiraError):
    """Network failure, timeout, or rate limiting / 5xx that outlasted the retries."""


class JiraHTTPError(JiraError):
    def __init__(self, message: str, status: int,
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.fields = fields or {}
        """The fields a 400's ``errors`` named, with Jira's message for each."""


class JiraNotFound(JiraHTTPError):
    """404 for one issue."""


class JiraResponseError(JiraError):
    """Jira answered something vulnmark cannot read; what was stored before stays stored."""


SECTION = "source.jira"


@dataclass(frozen=True)
class JiraSettings:
    """Everything the Jira source needs; secrets are excluded from ``repr``."""

    url: str
    jql: str
    flavour: Flavour = "auto"
    discovery_field: str | None = None
    page_size: int | None = None
    """Issues asked for per search page; None: 100 on Cloud, 1000 on Data Center."""
    ca_bundle: str | None = None
    email: str | None = None
    token: str | None = field(default=None, repr=False)
    pat: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    """Seconds for every request in all (connect, send, the whole response), m6."""
    max_response_mb: int = 64
    """The largest response body read (decompressed), in MiB; a larger one fails the request
    instead of filling the memory (m6: a 400 MB response took 1.7 GB)."""
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_retry_after: float = 600.0
    """A Retry-After longer than this fails the sync instead of sleeping."""
    overlap_minutes: float = 15.0
    """An incremental sync re-reads this much before the last sync (clock skew, eventual
    consistency of Cloud search)."""
    concurrency: int = 4
    """Requests in flight at once (Data Center pages, truncated comments/changelogs, Cloud
    hydration)."""
    hydrate: bool = False
    """Cloud: list matching ids sequentially (5000 a page, ``fields=id``) and fetch the issues
    100 at a time with ``POST /rest/api/3/issue/bulkfetch``, ``concurrency`` at once — a few
    more requests, several times less wall time on a slow link. Off: one search page at a
    time (token paging cannot be parallelised)."""

    def __post_init__(self) -> None:
        # m8: also when built by a library user, not only from vulnmark.toml (a URL is printed
        # and stored in runs, evidence and reports).
        try:
            check_no_credentials(self.url, f"{SECTION}.url")
        except ConfigError as e:
            raise JiraConfigError(str(e)) from None

    @property
    def site(self) -> str:
        return self.url.rstrip("/")

    @classmethod
    def from_config(cls, section: JiraSection | None, env: Mapping[str, str], *,
                    need_jql: bool = True) -> JiraSettings:
        """The ``[source.jira]`` table (checked at load) plus ``JIRA_EMAIL``/``JIRA_TOKEN``/
        ``JIRA_PAT``; the sync needs ``url`` and ``jql`` and credentials (intake, which
        creates issues, only ``url``)."""
        if section is None:
            raise JiraConfigError("no [source.jira] section in the configuration; add url and "
                                  "jql (for example jql = \"project = SEC\")", field=SECTION)
        for key in ("url", "jql") if need_jql else ("url",):
            if not getattr(section, key):
                raise JiraConfigError("missing (required)", field=f"{SECTION}.{key}")
        assert section.url is not None
        settings = cls(
            url=section.url.rstrip("/"), jql=section.jql or "", flavour=section.flavour,
            discovery_field=section.discovery_field, page_size=section.page_size,
            ca_bundle=section.ca_bundle, email=env.get("JIRA_EMAIL") or None,
            token=env.get("JIRA_TOKEN") or None, pat=env.get("JIRA_PAT") or None,
            hydrate=section.hydrate,
        )
        changes: dict[str, Any] = {k: getattr(section, k) for k in
                                   ("overlap_minutes", "concurrency", "max_retries",
                                    "max_response_mb")
                                   if getattr(section, k) is not None}
        if section.timeout is not None:
            changes["timeout"] = float(section.timeout)
        settings = replace(settings, **changes)
        settings.check_credentials()
        return settings

    def check_credentials(self) -> None:
        if self.pat:
            return
        if self.email and self.token:
            return
        if self.token and not self.email:
            raise JiraConfigError("JIRA_TOKEN is set but JIRA_EMAIL is not: Jira Cloud API "
                                  "tokens are used with the account's email", field="JIRA_EMAIL")
        raise JiraConfigError("no Jira credentials: set JIRA_EMAIL and JIRA_TOKEN (Cloud API "
                              "token) or JIRA_PAT (Data Center personal access token)",
                              field="JIRA_TOKEN")


