"""Jira source settings (``[source.jira]`` plus secrets from the environment) and errors.

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
from typing import Any, Literal
from urllib.parse import urlsplit

from vulnmark.errors import ExternalError, InputError, SourceError
from vulnmark.policy import Policy

logger = logging.getLogger(__name__)

Flavour = Literal["cloud", "datacenter", "auto"]


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
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


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
    """Seconds for connect, read and write of every request."""
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

    @property
    def site(self) -> str:
        return self.url.rstrip("/")

    @classmethod
    def from_policy(cls, policy: Policy, env: Mapping[str, str]) -> JiraSettings:
        """Read ``[source.jira]`` and ``JIRA_EMAIL``/``JIRA_TOKEN``/``JIRA_PAT``."""
        sec = policy.section(SECTION)
        if not sec:
            raise JiraConfigError("no [source.jira] section in the configuration; add url and "
                                  "jql (for example jql = \"project = SEC\")", field=SECTION)
        known = {"url", "flavour", "jql", "discovery_field", "page_size", "ca_bundle",
                 "timeout", "overlap_minutes", "concurrency", "max_retries", "hydrate"}
        for key in sec:
            if key not in known:
                raise JiraConfigError(f"unknown key; known keys: {', '.join(sorted(known))}",
                                      field=f"{SECTION}.{key}")
        url = _str(sec, "url", required=True)
        assert url is not None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise JiraConfigError(f"{url!r} is not an http(s) URL", field=f"{SECTION}.url")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise JiraConfigError("use https:// (plain http is allowed only for loopback "
                                  "test servers)", field=f"{SECTION}.url")
        jql = _str(sec, "jql", required=True)
        assert jql is not None
        flavour = _str(sec, "flavour") or "auto"
        if flavour not in ("cloud", "datacenter", "auto"):
            raise JiraConfigError(f"{flavour!r}: choose cloud, datacenter or auto",
                                  field=f"{SECTION}.flavour")
        page_size = _int(sec, "page_size", 1, 5000)
        settings = cls(
            url=url.rstrip("/"), jql=jql, flavour=flavour,  # type: ignore[arg-type]
            discovery_field=_str(sec, "discovery_field"), page_size=page_size,
            ca_bundle=_str(sec, "ca_bundle"), email=env.get("JIRA_EMAIL") or None,
            token=env.get("JIRA_TOKEN") or None, pat=env.get("JIRA_PAT") or None,
        )
        for key, lo, hi in (("timeout", 1, 600), ("overlap_minutes", 0, 1440),
                            ("concurrency", 1, 32), ("max_retries", 0, 20)):
            value = _int(sec, key, lo, hi)
            if value is not None:
                settings = _replace(settings, key, value)
        hydrate = sec.get("hydrate", False)
        if not isinstance(hydrate, bool):
            raise JiraConfigError(f"must be true or false, got {hydrate!r}",
                                  field=f"{SECTION}.hydrate")
        settings = replace(settings, hydrate=hydrate)
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


def _replace(settings: JiraSettings, key: str, value: int) -> JiraSettings:
    changes: dict[str, Any] = {key: float(value) if key == "timeout" else value}
    return replace(settings, **changes)


def _str(sec: Mapping[str, object], key: str, *, required: bool = False) -> str | None:
    value = sec.get(key)
    if value is None or value == "":
        if required:
            raise JiraConfigError("missing (required)", field=f"{SECTION}.{key}")
        return None
    if not isinstance(value, str):
        raise JiraConfigError(f"must be a string, got {type(value).__name__}",
                              field=f"{SECTION}.{key}")
    return value.strip()


def _int(sec: Mapping[str, object], key: str, lo: int, hi: int) -> int | None:
    value = sec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise JiraConfigError(f"must be a number from {lo} to {hi}, got {value!r}",
                              field=f"{SECTION}.{key}")
    return int(value)
