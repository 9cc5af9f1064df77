"""The policy: everything that decides the findings, and nothing else.

A policy says which labels mark a vulnerability, which classes exist (ordered from the most to
the least severe), each class's accepted label forms and handling time, the due-soon window,
which ticket dates are plausible, how resolutions imply outcomes and what inference reads. It
is built from a preset (:mod:`.presets`) plus the user's ``vulnmark.toml`` (:mod:`.load`), and
its :meth:`Policy.digest` is what the evaluations are valid for: a setting that cannot change a
finding (the mail server, the recipients, the Jira site, the schedule) is not in it, so changing
one evaluates nothing again. The timezone in which people read the policy's times travels
with it but is not part of the digest either.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Literal

from vulnmark.config.outcomes import OutcomeRules


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
class LabelMatch:
    """How a label matched the policy."""

    role: Literal["vulnerability", "class"]
    canonical: str
    exact: bool


@dataclass(frozen=True)
class InferenceTable:
    """The ``[inference]`` table as canonical JSON (``{}`` when absent): hashable, so the
    inference compiles it once (:func:`vulnmark.check.infer._options.options_for`)."""

    text: str = "{}"

    @classmethod
    def of(cls, table: dict[str, object]) -> InferenceTable:
        return cls(json.dumps(table, sort_keys=True, ensure_ascii=False, default=str))

    def mapping(self) -> dict[str, object]:
        value = json.loads(self.text)
        assert isinstance(value, dict)
        return value


_NOT_DIGESTED = frozenset({"timezone"})


@dataclass(frozen=True)
class Policy:
    preset: str = "etsi-319-401"
    vulnerability_labels: tuple[str, ...] = ("Sérülékenység", "Vulnerability")
    classes: tuple[ClassDef, ...] = ()
    due_soon_hours: float = 24.0
    timezone: str = "UTC"
    """IANA name of the zone in which reports show times (not part of the digest)."""
    earliest_date: date = date(1990, 1, 1)
    """Ticket dates before this day are a ``bad_date`` finding, not a deadline base."""
    future_days: int = 366
    """Ticket dates more than this many days after the evaluation are a ``bad_date`` finding."""
    outcomes: OutcomeRules = field(default_factory=OutcomeRules)
    """The ``[outcomes]`` table: which resolutions imply an outcome, and whether one is needed."""
    inference: InferenceTable = field(default_factory=lambda: InferenceTable())
    """The ``[inference]`` table, validated at load by the inference's own parser."""

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

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of what decides the findings (recorded with every run
        and in the evaluation stamp); the timezone is left out."""
        fields = {k: v for k, v in asdict(self).items() if k not in _NOT_DIGESTED}
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @cached_property
    def _label_table(self) -> dict[str, LabelMatch]:
        exact: dict[str, LabelMatch] = {}
        for label in self.vulnerability_labels:
            exact[label] = LabelMatch("vulnerability", self.vulnerability_label, True)
        for c in self.classes:
            for label in c.accepted:
                exact[label] = LabelMatch("class", c.name, True)
        folded = {fold_label(k): replace(v, exact=False) for k, v in reversed(exact.items())}
        return {**{"\0" + k: v for k, v in folded.items()}, **exact}

    def match_label(self, label: str) -> LabelMatch | None:
        """Exact on accepted forms; after NFC, trimming and case folding, a non-exact match."""
        table = self._label_table
        return table.get(label) or table.get("\0" + fold_label(label))

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
