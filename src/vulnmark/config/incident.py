"""The ``[incident]`` table: the clocks of incident follow-up that are not the guidelines' own,
and the Bugzilla site updates are posted to (the API key only from the environment,
``VULNMARK_BUGZILLA_API_KEY``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vulnmark.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INCIDENT_KEYS: tuple[str, ...] = ("fulfilment_months", "bugzilla_url", "bugzilla_timeout")


@dataclass(frozen=True)
class IncidentSettings:
    fulfilment_months: int = 3
    """The national non-conformity fulfilment report is due this many months after the
    on-site audit."""
    bugzilla_url: str | None = None
    """Bugzilla site of ``incident update --post`` (e.g. https://bugzilla.mozilla.org)."""
    bugzilla_timeout: float = 30.0


def parse_incident(table: Mapping[str, Any]) -> IncidentSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("api_key", "bugzilla_api_key"):
            raise ConfigError(f"incident.{key}: secrets come only from the environment "
                              "(VULNMARK_BUGZILLA_API_KEY), never from the file")
        if key == "fulfilment_months":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24:
                raise ConfigError(f"incident.fulfilment_months: expected 1 to 24, got {value!r}")
        elif key == "bugzilla_url":
            if not isinstance(value, str) or not _url_ok(value):
                raise ConfigError("incident.bugzilla_url: expected an https:// URL "
                                  f"(http:// only on loopback), got {value!r}")
            value = value.rstrip("/")
        elif key == "bugzilla_timeout":
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not 0 < value <= 600:
                raise ConfigError(f"incident.bugzilla_timeout: expected 0 to 600 s, "
                                  f"got {value!r}")
            value = float(value)
        else:
            raise ConfigError(f"unknown key 'incident.{key}' (expected fulfilment_months, "
                              "bugzilla_url, bugzilla_timeout)")
        values[key] = value
    return IncidentSettings(**values)


def _url_ok(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in LOOPBACK
