"""Loading ``vulnmark.toml`` into a :class:`~vulnmark.policy.Policy`; the settings as data.

Every key the file may hold is declared in :data:`SETTINGS` (and documented in the README; a
test keeps the two in step). Unknown keys are errors that name the key: a typo must not silently
fall back to a default in a control an auditor relies on. Secrets are never read from the file.
"""

from __future__ import annotations

import json
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vulnmark.errors import ConfigError
from vulnmark.policy import ClassDef, Policy, SmtpSettings, fold_label, preset


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("preset", "etsi-319-401",
            "Base policy: etsi-319-401, ncssr-v1, ncssr-v2 or pci-dss; join with + to apply "
            "several (the strictest deadline wins)."),
    Setting("timezone", "UTC", "IANA timezone in which reports show times."),
    Setting("due_soon_hours", 24, "Window before a deadline in which a ticket is due_soon."),
    Setting("recipients", [], "Who receives the daily report (--to overrides)."),
    Setting("labels.vulnerability", ["Sérülékenység", "Vulnerability"],
            "Accepted vulnerability labels; the first is canonical."),
    Setting("class_order", ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE"],
            "The classes, most severe first (may add or drop classes)."),
    Setting("classes.NAME.aliases", ["KRITIKUS"], "Other accepted labels for class NAME."),
    Setting("classes.NAME.deadline_hours", 48,
            "Handling time of class NAME in calendar hours from discovery; \"none\" for no "
            "fixed clock."),
    Setting("smtp.host", "localhost", "SMTP server (env VULNMARK_SMTP_HOST)."),
    Setting("smtp.port", 25, "SMTP port (env VULNMARK_SMTP_PORT)."),
    Setting("smtp.tls", "none", "none, starttls or ssl (env VULNMARK_SMTP_TLS)."),
    Setting("smtp.user", None, "SMTP login; the password only from VULNMARK_SMTP_PASSWORD."),
    Setting("smtp.from", "vulnmark@localhost", "Sender address (env VULNMARK_REPORT_FROM)."),
    Setting("smtp.timeout", 30, "Seconds before an SMTP operation times out."),
    Setting("smtp.retries", 3, "Delivery attempts before a report counts as undelivered."),
    Setting("smtp.backoff", 2.0, "Base of the exponential backoff between attempts, seconds."),
    Setting("dates.earliest", "1990-01-01",
            "Ticket dates (created, discovered, resolved) before this day are a bad_date "
            "finding and never the base of a deadline."),
    Setting("dates.future_days", 366,
            "Ticket dates more than this many days after the evaluation are a bad_date "
            "finding (a discovery date of 9999-12-31 cannot stop the daily control)."),
    Setting("tracker.prefix", "VULN", "Key prefix of tickets created with `vulnmark ticket new`."),
    Setting("inference.patterns", [],
            "Your own phrasings: a list of {regex, class} tables; a match states that class "
            "(case-insensitive), e.g. {regex = \"kockázat: magas\", class = \"HIGH\"}."),
    Setting("inference.priority_is_severity", False,
            "Read the Jira priority (High, Critical…) as a severity statement (weakest "
            "evidence). Off by default: a priority is not a classification."),
    Setting("source.jira.url", None, "Jira site, https://…atlassian.net or your Data Center URL."),
    Setting("source.jira.jql", None,
            "Scope of `vulnmark sync` (bounded, e.g. project = SEC); its ORDER BY is replaced."),
    Setting("source.jira.flavour", "auto",
            "cloud (REST v3, nextPageToken), datacenter (REST v2, startAt) or auto "
            "(/rest/api/2/serverInfo)."),
    Setting("source.jira.discovery_field", None,
            "Field holding the discovery time (e.g. customfield_10050); default: created."),
    Setting("source.jira.page_size", None, "Issues per search page (default 100 Cloud, 1000 DC)."),
    Setting("source.jira.ca_bundle", None, "PEM file of a private CA; TLS is always verified."),
    Setting("source.jira.timeout", 30, "Seconds for every request."),
    Setting("source.jira.max_retries", 6,
            "Retries on 429/503/network errors (Retry-After honoured, else backoff+jitter)."),
    Setting("source.jira.overlap_minutes", 15,
            "An incremental sync re-reads this much before the last sync."),
    Setting("source.jira.concurrency", 4, "Requests in flight at once where the API allows."),
    Setting("source.jira.hydrate", False,
            "Cloud: list ids, then fetch issues 100 at a time with bulkfetch (faster on slow "
            "links)."),
    Setting("schedule.cron", "0 7 * * *",
            "When the daily run is due: minute hour day-of-month month day-of-week. Without a "
            "[schedule] table a missed run is a calendar day without a report run."),
    Setting("schedule.timezone", "(the policy timezone)", "IANA timezone of the cron times."),
    Setting("schedule.catch_up", True,
            "`vulnmark schedule` runs an uncovered slot at start (after downtime)."),
    Setting("outcomes.remediated", ["Fixed", "Done"],
            "Resolution names that mean the vulnerability was remediated (Jira)."),
    Setting("outcomes.mitigation_plan", [],
            "Resolution names that mean a mitigation plan was put in place."),
    Setting("outcomes.no_remediation", ["Won't Fix", "Won't Do"],
            "Resolution names that mean no remediation is needed."),
    Setting("outcomes.no_remediation_reason", "other",
            "Reason code given to an outcome inferred from a no_remediation resolution."),
    Setting("outcomes.required", True,
            "A resolved vulnerability without any outcome is a no_outcome finding."),
)

#: Tables whose content other modules validate (they may grow without touching this file).
SECTIONS = ("inference", "source.jira", "schedule", "tracker", "outcomes")
_TOP = {"preset", "timezone", "due_soon_hours", "recipients", "class_order", "labels",
        "classes", "smtp", "source", "dates", *SECTIONS}
MAX_HOURS = 24 * 366 * 10
"""The longest handling time or due-soon window accepted (ten years): longer ones are typos
(1e300 would overflow every deadline)."""


def load(path: Path | None, *, required: bool = False) -> Policy:
    """The effective policy: the preset plus the file; without a file the default preset."""
    if path is None or not path.exists():
        if required and path is not None:
            raise ConfigError(f"{path}: no such configuration file")
        return preset("etsi-319-401")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    try:
        return from_mapping(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e


def from_mapping(raw: Mapping[str, Any]) -> Policy:
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
    return replace(
        policy,
        vulnerability_labels=vuln,
        classes=tuple(classes[c] for c in order),
        due_soon_hours=float(window),
        recipients=recipients,
        timezone=tz,
        smtp=_smtp(_table(raw, "smtp")),
        sections=_sections(raw, tuple(order)),
        **_dates(_table(raw, "dates"), policy),
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


def _smtp(table: Mapping[str, Any]) -> SmtpSettings:
    base = SmtpSettings()
    kinds: dict[str, tuple[type | tuple[type, ...], str]] = {
        "host": (str, "host"), "port": (int, "port"), "tls": (str, "tls"),
        "user": (str, "user"), "from": (str, "sender"), "timeout": ((int, float), "timeout"),
        "retries": (int, "retries"), "backoff": ((int, float), "backoff"),
    }
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
    if values.get("tls", "none") not in ("none", "starttls", "ssl"):
        raise ConfigError(f"smtp.tls: expected none, starttls or ssl, got {values['tls']!r}")
    if values.get("retries", 1) < 1:
        raise ConfigError("smtp.retries: at least 1")
    return replace(base, **values)


def _sections(raw: Mapping[str, Any], class_names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found: dict[str, Any] = {}
    for name in SECTIONS:
        head, _, tail = name.partition(".")
        value = raw.get(head)
        if tail and isinstance(value, dict):
            value = value.get(tail)
        if value is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{name}: expected a table")
            found[name] = value
    for key in _table(raw, "source"):
        if f"source.{key}" not in SECTIONS:
            raise ConfigError(f"unknown key 'source.{key}'")
    _validate_sections(found, raw.get("timezone", "UTC"), class_names)
    return tuple((k, json.dumps(v, sort_keys=True, ensure_ascii=False, default=str))
                 for k, v in sorted(found.items()))


def _validate_sections(found: Mapping[str, Any], timezone: object,
                       class_names: tuple[str, ...]) -> None:
    """The tables other modules own are checked here too, so a typo fails at load."""
    from vulnmark import schedule
    from vulnmark.check.infer import validate_section
    from vulnmark.outcomes import parse_rules

    if "inference" in found:
        validate_section(found["inference"], class_names)
    if "schedule" in found:
        schedule.parse(found["schedule"], timezone if isinstance(timezone, str) else "UTC")
    if "outcomes" in found:
        parse_rules(found["outcomes"])


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table")
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
