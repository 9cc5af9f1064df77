"""The tables of ``vulnmark.toml`` that do not change findings, parsed at load: ``[smtp]``,
``[tracker]`` and ``[source.jira]``. Each parser checks every key (an unknown key, a wrong type,
a value out of range is an error naming ``table.key``) and refuses secrets: they come only from
the environment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from vulnmark.errors import ConfigError

TlsMode = Literal["none", "starttls", "ssl"]
TLS_MODES: tuple[str, ...] = ("none", "starttls", "ssl")
Flavour = Literal["cloud", "datacenter", "auto"]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class SmtpSettings:
    """The ``[smtp]`` table (the environment may override it; see :mod:`vulnmark.deliver.smtp`)."""

    host: str = "localhost"
    port: int = 25
    tls: TlsMode = "none"
    user: str | None = None
    sender: str = "vulnmark@localhost"
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0
    deadline: float = 300.0
    """Most seconds one delivery attempt may take in all (``timeout`` is per network read)."""


#: The keys of ``[smtp]``: (accepted types, SmtpSettings field).
SMTP_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "host": (str, "host"), "port": (int, "port"), "tls": (str, "tls"),
    "user": (str, "user"), "from": (str, "sender"), "timeout": ((int, float), "timeout"),
    "retries": (int, "retries"), "backoff": ((int, float), "backoff"),
    "deadline": ((int, float), "deadline"),
}


def parse_smtp(table: Mapping[str, Any]) -> SmtpSettings:
    kinds = SMTP_KEYS
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "password":
            raise ConfigError("smtp.password: secrets come only from the environment "
                              "(VULNMARK_SMTP_PASSWORD), never from the file")
        if key not in kinds:
            raise ConfigError(f"unknown key 'smtp.{key}'")
        kind, attr = kinds[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"smtp.{key}: wrong type {type(value).__name__}")
        values[attr] = value
    if values.get("tls", "none") not in TLS_MODES:
        raise ConfigError(f"smtp.tls: expected none, starttls or ssl, got {values['tls']!r}")
    _check_smtp_numbers(values)
    return replace(SmtpSettings(), **values)


#: The ranges of the numbers of ``[smtp]`` (m7: 0, negative, NaN or inf crashed the send and
#: left the run pending): (SmtpSettings field, key, lowest, highest, lowest allowed itself).
SMTP_RANGES = (("port", "port", 1, 65535, True), ("timeout", "timeout", 0, 600, False),
               ("retries", "retries", 1, 20, True), ("backoff", "backoff", 0, 3600, True),
               ("deadline", "deadline", 0, 3600, False))


def _check_smtp_numbers(values: Mapping[str, Any]) -> None:
    for attr, key, low, high, low_ok in SMTP_RANGES:
        value = values.get(attr)
        if value is None:
            continue
        if not (math.isfinite(value) and (value >= low if low_ok else value > low)
                and value <= high):
            lowest = f"from {low}" if low_ok else f"above {low}"
            raise ConfigError(f"smtp.{key}: expected a number {lowest} up to {high}, "
                              f"got {value!r}")


@dataclass(frozen=True)
class TrackerSettings:
    """The ``[tracker]`` table of the embedded tracker."""

    prefix: str = "VULN"
    """Key prefix of tickets created with ``vulnmark ticket new`` (PREFIX-1, PREFIX-2 …)."""


def parse_tracker(table: Mapping[str, Any]) -> TrackerSettings:
    for key in table:
        if key != "prefix":
            raise ConfigError(f"unknown key 'tracker.{key}' (expected prefix)")
    prefix = table.get("prefix", "VULN")
    if not isinstance(prefix, str) or not prefix or any(ch.isspace() for ch in prefix) \
            or len(prefix) > 64:
        raise ConfigError(f"tracker.prefix: expected a key prefix without spaces, got "
                          f"{prefix!r}")
    return TrackerSettings(prefix)


@dataclass(frozen=True)
class JiraSection:
    """The ``[source.jira]`` table as written (checked at load; the sync also needs ``url`` and
    ``jql``, and credentials from JIRA_EMAIL + JIRA_TOKEN or JIRA_PAT)."""

    url: str | None = None
    jql: str | None = None
    flavour: Flavour = "auto"
    discovery_field: str | None = None
    page_size: int | None = None
    ca_bundle: str | None = None
    timeout: int | None = None
    overlap_minutes: int | None = None
    concurrency: int | None = None
    max_retries: int | None = None
    max_response_mb: int | None = None
    hydrate: bool = False


_JIRA = "source.jira"
#: The numeric keys of ``[source.jira]`` and their ranges.
JIRA_RANGES: dict[str, tuple[int, int]] = {
    "page_size": (1, 5000), "timeout": (1, 600), "overlap_minutes": (0, 1440),
    "concurrency": (1, 32), "max_retries": (0, 20), "max_response_mb": (1, 1024)}
_JIRA_TEXT = ("url", "jql", "flavour", "discovery_field", "ca_bundle")
JIRA_KEYS = frozenset({*_JIRA_TEXT, *JIRA_RANGES, "hydrate"})
_JIRA_SECRETS = ("token", "pat", "password", "api_token", "email")


def parse_jira(table: Mapping[str, Any]) -> JiraSection:
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{_JIRA}.{key}"
        if key in _JIRA_SECRETS:
            raise ConfigError(f"{where}: credentials come only from the environment "
                              "(JIRA_EMAIL and JIRA_TOKEN, or JIRA_PAT), never from the file")
        if key in _JIRA_TEXT:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: must be a string, got {type(value).__name__}")
            values[key] = value.strip() or None
        elif key in JIRA_RANGES:
            lo, hi = JIRA_RANGES[key]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not lo <= value <= hi:
                raise ConfigError(f"{where}: must be a number from {lo} to {hi}, got {value!r}")
            values[key] = int(value)
        elif key == "hydrate":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: must be true or false, got {value!r}")
            values[key] = value
        else:
            raise ConfigError(f"unknown key '{where}'; known keys: {', '.join(sorted(JIRA_KEYS))}")
    section = replace(JiraSection(), **values)
    if section.flavour not in ("cloud", "datacenter", "auto"):
        raise ConfigError(f"{_JIRA}.flavour: {section.flavour!r}: choose cloud, datacenter or "
                          "auto")
    if section.url is not None:
        check_jira_url(section.url)
    return section


def check_jira_url(url: str) -> None:
    """An http(s) URL without credentials; plain http only for loopback test servers."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(f"{_JIRA}.url: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ConfigError(f"{_JIRA}.url: use https:// (plain http is allowed only for "
                          "loopback test servers)")
