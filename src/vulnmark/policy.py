"""Policy model, presets, label normalisation and deadline arithmetic.

A policy says which labels mark a vulnerability, which classes exist (ordered from the most to
the least severe), each class's accepted label forms and handling time, the due-soon window and
who receives the daily report. It is built from a preset plus the user's ``vulnmark.toml``
(see :mod:`vulnmark.config`).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Literal

from vulnmark.errors import ConfigError


@dataclass(frozen=True)
class ClassDef:
    """One classification class: canonical label, accepted aliases and handling time."""

    name: str
    aliases: tuple[str, ...] = ()
    deadline_hours: float | None = None
    """Calendar hours from discovery; None means no fixed clock (never 0)."""

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    tls: Literal["none", "starttls", "ssl"] = "none"
    user: str | None = None
    sender: str = "vulnmark@localhost"
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0


@dataclass(frozen=True)
class LabelMatch:
    """How a label matched the policy."""

    role: Literal["vulnerability", "class"]
    canonical: str
    exact: bool


@dataclass(frozen=True)
class Policy:
    preset: str = "etsi-319-401"
    vulnerability_labels: tuple[str, ...] = ("Sérülékenység", "Vulnerability")
    classes: tuple[ClassDef, ...] = ()
    due_soon_hours: float = 24.0
    recipients: tuple[str, ...] = ()
    timezone: str = "UTC"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    earliest_date: date = date(1990, 1, 1)
    """Ticket dates before this day are a ``bad_date`` finding, not a deadline base."""
    future_days: int = 366
    """Ticket dates more than this many days after the evaluation are a ``bad_date`` finding."""
    sections: tuple[tuple[str, str], ...] = ()
    """Other configuration sections (``inference``, ``source.jira``, ``schedule`` …) as
    (dotted name, canonical JSON); read them with :meth:`section`."""

    @property
    def vulnerability_label(self) -> str:
        return self.vulnerability_labels[0]

    @cached_property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def class_def(self, name: str) -> ClassDef:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)

    def rank(self, name: str) -> int:
        """0 for the most severe class."""
        return self.class_names.index(name)

    def section(self, name: str) -> dict[str, object]:
        for key, raw in self.sections:
            if key == name:
                value = json.loads(raw)
                assert isinstance(value, dict)
                return value
        return {}

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the policy (recorded with every run)."""
        blob = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @cached_property
    def _label_table(self) -> dict[str, LabelMatch]:
        exact: dict[str, LabelMatch] = {}
        for label in self.vulnerability_labels:
            exact[label] = LabelMatch("vulnerability", self.vulnerability_label, True)
        for c in self.classes:
            for label in c.accepted:
                exact[label] = LabelMatch("class", c.name, True)
        folded = {_fold(k): replace(v, exact=False) for k, v in reversed(exact.items())}
        return {**{"\0" + k: v for k, v in folded.items()}, **exact}

    def match_label(self, label: str) -> LabelMatch | None:
        """Exact on accepted forms; after NFC, trimming and case folding, a non-exact match."""
        table = self._label_table
        return table.get(label) or table.get("\0" + _fold(label))

    def deadline(self, class_name: str | None, discovered: datetime) -> datetime | None:
        if class_name is None or class_name not in self.class_names:
            return None
        return add_hours(discovered, self.class_def(class_name).deadline_hours)

    def date_window(self, now: datetime) -> DateWindow:
        """The ticket dates that are plausible at ``now``: from :attr:`earliest_date` to
        :attr:`future_days` after ``now`` (``now`` itself is checked by the CLI)."""
        earliest = datetime.combine(self.earliest_date, time(), UTC)
        try:
            latest = now + timedelta(days=self.future_days)
        except OverflowError:
            latest = datetime.max.replace(tzinfo=UTC)
        return DateWindow(earliest, latest)


@dataclass(frozen=True)
class DateWindow:
    """The plausible ticket dates of one evaluation: a ticket dated outside it (a discovery
    field set to 9999-12-31 by anyone who can edit it) is reported as ``bad_date`` and no
    deadline is computed from that date, so one ticket cannot stop the daily control."""

    earliest: datetime
    latest: datetime

    def contains(self, when: datetime) -> bool:
        return self.earliest <= when <= self.latest


def add_hours(start: datetime, hours: float | None) -> datetime | None:
    """``start`` plus a handling time; None for no fixed clock, and None (never an
    ``OverflowError``) when the sum leaves datetime's range, which only a date outside the
    :class:`DateWindow` can cause (and that is a ``bad_date`` finding)."""
    if hours is None:
        return None
    try:
        return start + timedelta(hours=hours)
    except OverflowError:
        return None


def fold_label(label: str) -> str:
    """The form labels are compared in when an exact match fails (NFC, trimmed, case-folded)."""
    return unicodedata.normalize("NFC", label).strip().casefold()


_fold = fold_label


HU = {"CRITICAL": "KRITIKUS", "HIGH": "MAGAS", "MEDIUM": "KÖZEPES", "LOW": "ALACSONY",
      "INFORMATIVE": "INFORMATÍV"}
CLASS_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE")


def _classes(deadlines: dict[str, float | None]) -> tuple[ClassDef, ...]:
    return tuple(ClassDef(n, (HU[n],), deadlines.get(n)) for n in CLASS_ORDER)


#: Presets: handling time in calendar hours per class, from ../shared/reference/standards.md.
PRESETS: dict[str, tuple[str, dict[str, float | None]]] = {
    "etsi-319-401": (
        "ETSI EN 319 401 V3.2.1 REQ-7.9.2-09: a critical vulnerability is addressed within 48 h "
        "of discovery; other classes have no fixed clock (REQ-7.9.2-10: plan or documented basis).",
        {"CRITICAL": 48},
    ),
    "ncssr-v1": (
        "CA/B Forum NCSSR v1.7 4.f: 96 h for a Critical Vulnerability (CVSS v2.0 >= 7.0, i.e. "
        "this policy's CRITICAL and HIGH).",
        {"CRITICAL": 96, "HIGH": 96},
    ),
    "ncssr-v2": (
        "CA/B Forum NCSSR v2.0.5 4.2: the CA's own CP/CPS 6.7 timeframes. Defaults follow a "
        "published CP/CPS (critical 96 h, high 1 month, medium 3 months, low 6 months); set yours.",
        {"CRITICAL": 96, "HIGH": 720, "MEDIUM": 2160, "LOW": 4320},
    ),
    "pci-dss": (
        "PCI DSS v4.0.1 6.3.3: critical vulnerabilities patched within one month (720 h); "
        "other classes in a time frame the entity sets.",
        {"CRITICAL": 720},
    ),
}


def preset(name: str) -> Policy:
    """The policy of a preset; several presets joined by ``+`` take the strictest deadline."""
    names = [n.strip() for n in name.split("+")]
    deadlines: dict[str, float | None] = {}
    for n in names:
        if n not in PRESETS:
            raise ConfigError(
                f"unknown preset {n!r}; choose one of: {', '.join(sorted(PRESETS))}"
            )
        for cls, hours in PRESETS[n][1].items():
            if hours is not None:
                current = deadlines.get(cls)
                deadlines[cls] = hours if current is None else min(current, hours)
    return Policy(preset="+".join(names), classes=_classes(deadlines))
