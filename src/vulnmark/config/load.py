"""Loading ``vulnmark.toml`` into a :class:`Config`: parsed and validated once, at load.

Every table is checked when the file is read, for every command: an unknown key, a wrong type
or an invalid value is an error that names the key (a typo must not silently fall back to a
default in a control an auditor relies on), and secrets are refused (they come only from the
environment). What changes findings goes into the :class:`~vulnmark.config.policy.Policy`; the
rest (mail, recipients, schedule, Jira site, tracker) sits beside it in the :class:`Config`.
Every key is declared in :data:`vulnmark.config.settings.SETTINGS`.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vulnmark.check.infer import validate_section
from vulnmark.config.evidence import EvidenceSettings, parse_evidence
from vulnmark.config.incident import IncidentSettings, parse_incident
from vulnmark.config.intake import IntakeSettings, parse_intake
from vulnmark.config.outcomes import OutcomeRules, parse_rules
from vulnmark.config.policy import ClassDef, InferenceTable, Policy, fold_label
from vulnmark.config.presets import preset
from vulnmark.config.publish import PublishSettings, parse_publish
from vulnmark.config.reach import (
    AlertSettings,
    ReminderSettings,
    ReportSettings,
    parse_alert,
    parse_reminders,
    parse_report,
)
from vulnmark.config.schedule import Schedule
from vulnmark.config.schedule import parse as parse_schedule
from vulnmark.config.sections import (
    JiraSection,
    SmtpSettings,
    TrackerSettings,
    check_no_credentials,
    parse_jira,
    parse_smtp,
    parse_tracker,
)
from vulnmark.config.settings import known_keys
from vulnmark.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Everything ``vulnmark.toml`` says, checked."""

    policy: Policy
    """What decides the findings (its digest is what evaluations are valid for)."""
    recipients: tuple[str, ...] = ()
    """Who receives the daily report (``--to`` overrides)."""
    smtp: SmtpSettings = SmtpSettings()
    schedule: Schedule | None = None
    """The ``[schedule]`` table; None without one (a missed run is then a calendar day)."""
    jira: JiraSection | None = None
    """The ``[source.jira]`` table; None without one."""
    tracker: TrackerSettings = TrackerSettings()
    intake: IntakeSettings | None = None
    """The ``[intake]`` table (watchlist, original classification); None without one."""
    report: ReportSettings = ReportSettings()
    alert: AlertSettings = AlertSettings()
    reminders: ReminderSettings = ReminderSettings()
    publish: PublishSettings | None = None
    """The ``[publish]`` table (where the policy page goes); None without one."""
    incident: IncidentSettings = IncidentSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    """The ``[evidence]`` table (the Time-Stamp Authority of the chain heads)."""
    path: Path | None = None
    """The file it was read from (None: no file, the default preset)."""

    @classmethod
    def default(cls) -> Config:
        return cls(preset("etsi-319-401"))


_TOP = known_keys("") | {"labels", "classes", "smtp", "source", "dates", "tracker", "inference",
                        "schedule", "outcomes", "report", "reminders", "alert", "publish",
                        "intake", "incident", "evidence"}
MAX_HOURS = 24 * 366 * 10
"""The longest handling time or due-soon window accepted (ten years): longer ones are typos
(1e300 would overflow every deadline)."""


def load(path: Path | None, *, required: bool = False) -> Config:
    """The configuration of ``path``: the preset plus the file; without a file the default
    preset (``required``: a missing file is an error)."""
    if path is None or not path.exists():
        if required and path is not None:
            raise ConfigError(f"{path}: no such configuration file")
        return Config.default()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    try:
        return replace(from_mapping(raw), path=path)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _no_credentials_in_urls(value: object, where: str) -> None:
    """m8: no value anywhere in the file is a URL with ``user:password@`` in it (secrets come
    only from the environment; URLs are printed and stored), whatever the key."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _no_credentials_in_urls(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_credentials_in_urls(item, f"{where}[{i}]")
    elif isinstance(value, str) and _URL.match(value.strip()):
        check_no_credentials(value.strip(), where)


def from_mapping(raw: Mapping[str, Any]) -> Config:
    """The configuration of a parsed ``vulnmark.toml``."""
    _no_credentials_in_urls(raw, "")
    for key in raw:
        if key not in _TOP:
            raise ConfigError(f"unknown key {key!r}")
    name = _typed(raw, "preset", str, "etsi-319-401")
    policy = preset(name)
    classes = {c.name: c for c in policy.classes}
    for cname, table in _table(raw, "classes").items():
        if not isinstance(table, dict):
            raise ConfigError(f"classes.{cname}: expected a table")
        current = classes.get(cname, ClassDef(cname))
        for key in table:
            if key not in ("aliases", "deadline_hours"):
                raise ConfigError(f"unknown key 'classes.{cname}.{key}'")
        aliases = tuple(_labels(table.get("aliases", list(current.aliases)),
                                f"classes.{cname}.aliases"))
        hours = table.get("deadline_hours", current.deadline_hours)
        if hours == "none":
            hours = None
        if hours is not None and not _hours(hours, positive=True):
            raise ConfigError(f"classes.{cname}.deadline_hours: expected a positive number of "
                              f"hours up to {MAX_HOURS} or \"none\", got {hours!r}")
        classes[cname] = ClassDef(cname, aliases, float(hours) if hours is not None else None)
    order = _labels(raw.get("class_order", list(classes)), "class_order")
    for cname in order:
        if cname not in classes:
            classes[cname] = ClassDef(cname)
    if not order:
        raise ConfigError("class_order: at least one class is needed")
    labels = _table(raw, "labels")
    for key in labels:
        if key != "vulnerability":
            raise ConfigError(f"unknown key 'labels.{key}'")
    vuln = tuple(_labels(labels.get("vulnerability", list(policy.vulnerability_labels)),
                         "labels.vulnerability"))
    if not vuln:
        raise ConfigError("labels.vulnerability: at least one label is needed")
    _check_unambiguous(raw, order, classes, vuln)
    tz = _typed(raw, "timezone", str, "UTC")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"timezone: unknown timezone {tz!r}") from e
    window = raw.get("due_soon_hours", policy.due_soon_hours)
    if not _hours(window, positive=False):
        raise ConfigError(f"due_soon_hours: expected a number of hours from 0 to {MAX_HOURS}, "
                          f"got {window!r}")
    recipients = tuple(_strings(raw.get("recipients", []), "recipients"))
    for key in _table(raw, "source"):
        if key != "jira":
            raise ConfigError(f"unknown key 'source.{key}'")
    inference = _table(raw, "inference")
    validate_section(inference, tuple(order))  # the inference owns the table's grammar
    policy = replace(
        policy,
        vulnerability_labels=vuln,
        classes=tuple(classes[c] for c in order),
        due_soon_hours=float(window),
        timezone=tz,
        outcomes=parse_rules(_table(raw, "outcomes")) if "outcomes" in raw else OutcomeRules(),
        inference=InferenceTable.of(inference),
        **_dates(_table(raw, "dates"), policy),
    )
    jira = _table(_table(raw, "source"), "jira", "source.jira")
    return Config(
        policy=policy,
        recipients=recipients,
        smtp=parse_smtp(_table(raw, "smtp")),
        schedule=parse_schedule(_table(raw, "schedule"), tz) if "schedule" in raw else None,
        jira=parse_jira(jira) if "source" in raw and "jira" in raw["source"] else None,
        tracker=parse_tracker(_table(raw, "tracker")),
        intake=parse_intake(_table(raw, "intake"), order) if "intake" in raw else None,
        report=parse_report(_table(raw, "report")),
        reminders=parse_reminders(_table(raw, "reminders")),
        alert=parse_alert(_table(raw, "alert")),
        publish=parse_publish(_table(raw, "publish")) if "publish" in raw else None,
        incident=parse_incident(_table(raw, "incident")),
        evidence=parse_evidence(_table(raw, "evidence")),
    )


def _hours(value: object, *, positive: bool) -> bool:
    """A finite number of hours in range (NaN and infinity fail every comparison but !=)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (0 < value if positive else 0 <= value) and value <= MAX_HOURS


def _dates(table: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key == "earliest":
            try:
                out["earliest_date"] = (value if isinstance(value, date) and
                                        not isinstance(value, datetime)
                                        else date.fromisoformat(str(value)))
            except ValueError:
                raise ConfigError(f"dates.earliest: expected a date like 1990-01-01, got "
                                  f"{value!r}") from None
        elif key == "future_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3660:
                raise ConfigError(f"dates.future_days: expected a whole number of days from 1 "
                                  f"to 3660, got {value!r}")
            out["future_days"] = value
        else:
            raise ConfigError(f"unknown key 'dates.{key}'")
    earliest = out.get("earliest_date", policy.earliest_date)
    if not date(1900, 1, 1) <= earliest <= date(2100, 1, 1):
        raise ConfigError(f"dates.earliest: {earliest.isoformat()} is not between 1900-01-01 "
                          "and 2100-01-01")
    return out


def _check_unambiguous(raw: Mapping[str, Any], order: list[str], classes: dict[str, ClassDef],
                       vuln: tuple[str, ...]) -> None:
    """Every class is listed once, every configured class is used, and every label (also after
    normalisation) means one thing: a label that could mark two classes would be read as
    whichever came last, silently."""
    for i, cname in enumerate(order):
        if cname in order[:i]:
            raise ConfigError(f"class_order[{i}]: {cname!r} is listed twice")
    if "class_order" in raw:
        for cname in _table(raw, "classes"):
            if cname not in order:
                raise ConfigError(f"classes.{cname}: the class is not in class_order")
    owner: dict[str, tuple[str, str]] = {}  # folded label -> (meaning, where it is set)
    entries = [(label, "the vulnerability label", f"labels.vulnerability[{i}]")
               for i, label in enumerate(vuln)]
    for cname in order:
        entries.append((cname, f"class {cname}", f"class_order ({cname})"))
        entries += [(alias, f"class {cname}", f"classes.{cname}.aliases[{i}]")
                    for i, alias in enumerate(classes[cname].aliases)]
    for label, meaning, where in entries:
        key = fold_label(label)
        if key in owner and owner[key][0] != meaning:
            raise ConfigError(f"{where}: label {label!r} would also match {owner[key][0]} "
                              f"({owner[key][1]})")
        owner.setdefault(key, (meaning, where))


def _table(raw: Mapping[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where or key}: expected a table")
    return value


def _typed(raw: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = raw.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings")
    return list(value)


def _labels(value: object, key: str) -> list[str]:
    items = _strings(value, key)
    for i, label in enumerate(items):
        if not label or any(ch.isspace() for ch in label) or len(label) > 255:
            raise ConfigError(f"{key}[{i}]: invalid label {label!r} (labels have no spaces and "
                              "at most 255 characters)")
    return items
