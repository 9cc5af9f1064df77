"""The tables of ``vulnmark.toml`` about who is told what, and when: ``[report]`` (what the
daily email lists), ``[alert]`` (``vulnmark watch``) and ``[reminders]`` (mails to ticket
authors). Each parser checks every key; an error names ``table.key``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vulnmark.errors import ConfigError

Scope = Literal["new", "open", "all"]
SCOPES: tuple[str, ...] = ("new", "open", "all")


@dataclass(frozen=True)
class ReportSettings:
    """The ``[report]`` table."""

    suspected_scope: Scope = "new"
    """Which suspected tickets the daily report lists: ``new`` (open ones, and ones created or
    changed since the last delivered report), ``open``, or ``all``."""
    mail_items: int = 25
    """Findings listed per section in the email before "and K more"."""


@dataclass(frozen=True)
class AlertSettings:
    """The ``[alert]`` table of ``vulnmark watch``."""

    max_deadline_hours: float = 48.0
    """A newly classified ticket whose class has a deadline this short (or shorter) alerts."""
    recipients: tuple[str, ...] = ()
    """Who gets alerts (default: the report's recipients)."""


@dataclass(frozen=True)
class ReminderSettings:
    """The ``[reminders]`` table."""

    enabled: bool = False
    to: Literal["reporter", "assignee"] = "reporter"
    """Who is reminded: the reporter, or the assignee (an unassigned ticket's reporter)."""
    escalate_after_days: int = 3
    """After this many days of reminders about a ticket the MSO (the recipients) is copied."""
    addresses: Mapping[str, str] = field(default_factory=dict)
    """Display name or account id -> email address, where the source shows none."""


def _keys(table: Mapping[str, Any], name: str, known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown key '{name}.{key}'; known keys: {', '.join(known)}")


def _number(table: Mapping[str, Any], where: str, key: str, lo: float, hi: float,
            default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not lo <= value <= hi:
        raise ConfigError(f"{where}.{key}: expected a number from {lo:g} to {hi:g}, "
                          f"got {value!r}")
    return value


def _addresses(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v for v in value):
        raise ConfigError(f"{where}: expected a list of email addresses")
    return tuple(value)


REPORT_KEYS: tuple[str, ...] = ("suspected_scope", "mail_items")


def parse_report(table: Mapping[str, Any]) -> ReportSettings:
    _keys(table, "report", REPORT_KEYS)
    scope = table.get("suspected_scope", "new")
    if scope not in SCOPES:
        raise ConfigError(f"report.suspected_scope: {scope!r}: choose new, open or all")
    items = int(_number(table, "report", "mail_items", 1, 1000, 25))
    return ReportSettings(scope, items)


ALERT_KEYS: tuple[str, ...] = ("max_deadline_hours", "recipients")


def parse_alert(table: Mapping[str, Any]) -> AlertSettings:
    _keys(table, "alert", ALERT_KEYS)
    hours = float(_number(table, "alert", "max_deadline_hours", 0, 24 * 366, 48))
    recipients = _addresses(table.get("recipients", []), "alert.recipients")
    return AlertSettings(hours, recipients)


REMINDER_KEYS: tuple[str, ...] = ("enabled", "to", "escalate_after_days", "addresses")


def parse_reminders(table: Mapping[str, Any]) -> ReminderSettings:
    _keys(table, "reminders", REMINDER_KEYS)
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError(f"reminders.enabled: expected true or false, got {enabled!r}")
    to = table.get("to", "reporter")
    if to not in ("reporter", "assignee"):
        raise ConfigError(f"reminders.to: {to!r}: choose reporter or assignee")
    days = int(_number(table, "reminders", "escalate_after_days", 1, 365, 3))
    addresses = table.get("addresses", {})
    if not isinstance(addresses, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "@" in v
            for k, v in addresses.items()):
        raise ConfigError("reminders.addresses: expected a table of name = \"address\"")
    return ReminderSettings(enabled, to, days, dict(addresses))
