"""The ``[intake]`` table: the watchlist and how a publication's class is read, checked at load.

The watchlist is the table's own ``vendors``/``products``/``cpe_prefixes``/``packages``/
``keywords`` (one entry) plus any number of ``[[intake.watch]]`` entries with the same keys and
an optional ``owner`` and ``labels`` of their own. Every key is declared in
:data:`vulnmark.config.settings.SETTINGS`; an unknown key, a wrong type or a class the policy
does not have is an error naming ``intake.key``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vulnmark.errors import ConfigError

SOURCES = ("nvd", "cna", "adp", "osv", "secondary")
V2_RULES = ("ncssr-v1", "nvd")
CLOCK_FROM = ("published", "first_seen")
DEFAULT_ASSESSMENT_HOURS = {"CRITICAL": 24.0, "HIGH": 72.0, "MEDIUM": 168.0, "LOW": 720.0}
ENTRY_KEYS = frozenset({"vendors", "products", "cpe_prefixes", "packages", "keywords"})
WATCH_KEYS = ENTRY_KEYS | {"owner", "labels", "name"}
INTAKE_KEYS = ENTRY_KEYS | {"watch", "precedence", "v2_rule", "unrated", "kev_min_class",
                            "clock_from", "assessment_hours", "nvd_url", "jira_project",
                            "jira_issue_type"}
NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Jira's default project key rule: a letter, then letters, digits or underscores.
PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,254}")


@dataclass(frozen=True)
class WatchEntry:
    """What concerns us: any one of these matches a publication."""

    name: str
    vendors: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    """``product`` or ``vendor/product``; compared case-insensitively, ``_`` as a space."""
    cpe_prefixes: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    """``pkg:`` package URLs (without version) or ``Ecosystem/name`` (``PyPI/django``)."""
    keywords: tuple[str, ...] = ()
    """Whole words or phrases, case-insensitive, in the title or description."""
    owner: str | None = None
    labels: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.vendors or self.products or self.cpe_prefixes or self.packages
                    or self.keywords)


@dataclass(frozen=True)
class IntakeSettings:
    watch: tuple[WatchEntry, ...] = ()
    precedence: tuple[str, ...] = ("nvd", "cna", "adp", "osv")
    """Whose rating is the original classification, first found wins (the newest CVSS
    version of that source)."""
    v2_rule: str = "ncssr-v1"
    """``ncssr-v1``: a CVSS v2-only score of 7.0 or more is CRITICAL (NCSSR v1.6 "Critical
    Vulnerability"); ``nvd``: the NVD's v2 scale (7.0 and more is HIGH)."""
    unrated: str = "unclassified"
    """A publication without any rating: ``unclassified`` opens the ticket with the
    vulnerability label only (the daily check reports it ``unclassified``), ``skip`` opens
    none, or a class name to assume (written in the ticket)."""
    kev_min_class: str | None = "HIGH"
    """A CVE in the CISA KEV catalog is at least this class (None: no escalation)."""
    clock_from: str = "published"
    assessment_hours: tuple[tuple[str, float | None], ...] = tuple(
        DEFAULT_ASSESSMENT_HOURS.items())
    nvd_url: str = NVD_URL
    """The CVE API 2.0 endpoint of ``vulnmark intake run`` without ``--from``."""
    jira_project: str | None = None
    """Open the tickets in this Jira project ([source.jira] site) instead of the embedded
    tracker."""
    jira_issue_type: str = "Bug"

    def hours(self, cls: str | None) -> float | None:
        return dict(self.assessment_hours).get(cls) if cls else None


def parse_intake(table: Mapping[str, Any], classes: Sequence[str]) -> IntakeSettings:
    for key in table:
        if key in ("api_key", "apikey", "nvd_api_key"):
            raise ConfigError(f"intake.{key}: the NVD API key comes only from the environment "
                              "(VULNMARK_NVD_API_KEY), never from the file")
        if key not in INTAKE_KEYS:
            raise ConfigError(f"unknown key 'intake.{key}'; known keys: "
                              f"{', '.join(sorted(INTAKE_KEYS))}")
    entries = []
    own = {k: v for k, v in table.items() if k in ENTRY_KEYS}
    if own:
        entries.append(_entry(own, "intake", "intake"))
    watch = table.get("watch", [])
    if not isinstance(watch, list):
        raise ConfigError("intake.watch: expected a list of tables ([[intake.watch]])")
    for i, item in enumerate(watch):
        where = f"intake.watch[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a table")
        for key in item:
            if key not in WATCH_KEYS:
                raise ConfigError(f"unknown key '{where}.{key}'; known keys: "
                                  f"{', '.join(sorted(WATCH_KEYS))}")
        entries.append(_entry(item, where, str(item.get("name") or where)))
    precedence = tuple(_strings(table.get("precedence", ["nvd", "cna", "adp", "osv"]),
                                "intake.precedence"))
    for i, source in enumerate(precedence):
        if source not in SOURCES:
            raise ConfigError(f"intake.precedence[{i}]: {source!r}: choose from "
                              f"{', '.join(SOURCES)}")
    if not precedence:
        raise ConfigError("intake.precedence: at least one source")
    v2 = _choice(table, "v2_rule", V2_RULES, "ncssr-v1")
    clock = _choice(table, "clock_from", CLOCK_FROM, "published")
    unrated = table.get("unrated", "unclassified")
    if unrated not in ("unclassified", "skip", *classes):
        raise ConfigError(f"intake.unrated: {unrated!r}: choose unclassified, skip or a class "
                          f"({', '.join(classes)})")
    kev = table.get("kev_min_class", "HIGH")
    if kev == "none":
        kev = None
    if kev is not None and kev not in classes:
        raise ConfigError(f"intake.kev_min_class: {kev!r} is not a class of the policy "
                          f"({', '.join(classes)}) or \"none\"")
    hours = table.get("assessment_hours",
                      {c: h for c, h in DEFAULT_ASSESSMENT_HOURS.items() if c in classes})
    if not isinstance(hours, dict):
        raise ConfigError("intake.assessment_hours: expected a table {CLASS = hours}")
    checked: list[tuple[str, float | None]] = []
    for cls, value in hours.items():
        if cls not in classes:
            raise ConfigError(f"intake.assessment_hours.{cls}: not a class of the policy "
                              f"({', '.join(classes)})")
        if value == "none":
            checked.append((cls, None))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not 0 < value <= 24 * 366 * 10:
            raise ConfigError(f"intake.assessment_hours.{cls}: expected a positive number of "
                              f"hours or \"none\", got {value!r}")
        checked.append((cls, float(value)))
    url = table.get("nvd_url", NVD_URL)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc or \
            (parts.scheme == "http" and parts.hostname not in LOOPBACK):
        raise ConfigError(f"intake.nvd_url: {url!r}: an https:// URL (plain http only for "
                          "loopback test servers)")
    project = table.get("jira_project")
    if project is not None and (not isinstance(project, str)
                                or not PROJECT_KEY.fullmatch(project)):
        raise ConfigError(f"intake.jira_project: {project!r} is not a Jira project key (like "
                          "SEC: capital letters, digits, _)")
    issue_type = table.get("jira_issue_type", "Bug")
    if not isinstance(issue_type, str) or not issue_type.strip() or len(issue_type) > 255:
        raise ConfigError(f"intake.jira_issue_type: expected the name of an issue type (like "
                          f"Bug), got {issue_type!r}")
    return IntakeSettings(tuple(entries), precedence, v2, str(unrated), kev, clock,
                          tuple(checked), url, project, issue_type.strip())


def _entry(table: Mapping[str, Any], where: str, name: str) -> WatchEntry:
    values = {k: tuple(v.strip() for v in _strings(table.get(k, []), f"{where}.{k}"))
              for k in sorted(ENTRY_KEYS)}
    for k, items in values.items():
        for i, item in enumerate(items):
            if not item:
                raise ConfigError(f"{where}.{k}[{i}]: empty")
    for i, prefix in enumerate(values["cpe_prefixes"]):
        if not prefix.startswith(("cpe:2.3:", "cpe:/")):
            raise ConfigError(f"{where}.cpe_prefixes[{i}]: {prefix!r} is not a CPE name "
                              "(cpe:2.3:a:vendor:product…)")
    for i, package in enumerate(values["packages"]):
        if not package.startswith("pkg:") and "/" not in package:
            raise ConfigError(f"{where}.packages[{i}]: {package!r}: a package URL "
                              "(pkg:pypi/django) or Ecosystem/name (PyPI/django)")
    for i, word in enumerate(values["keywords"]):
        try:
            re.compile(re.escape(word))
        except re.error as e:  # pragma: no cover - escaped text always compiles
            raise ConfigError(f"{where}.keywords[{i}]: {e}") from e
    owner = table.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner.strip()):
        raise ConfigError(f"{where}.owner: expected a name, got {owner!r}")
    labels = tuple(_strings(table.get("labels", []), f"{where}.labels"))
    for i, label in enumerate(labels):
        if not label or any(ch.isspace() for ch in label) or len(label) > 255:
            raise ConfigError(f"{where}.labels[{i}]: invalid label {label!r} (labels have no "
                              "spaces)")
    entry = WatchEntry(name=name, owner=owner, labels=labels, **values)
    if entry.empty:
        raise ConfigError(f"{where}: watches nothing (give vendors, products, cpe_prefixes, "
                          "packages or keywords)")
    return entry


def _choice(table: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
    value = table.get(key, default)
    if value not in choices:
        raise ConfigError(f"intake.{key}: {value!r}: choose {' or '.join(choices)}")
    return str(value)


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings")
    return list(value)
