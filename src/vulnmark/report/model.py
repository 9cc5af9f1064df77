"""The daily report: what the security officer reads every morning, independent of format.

A :class:`DailyReport` holds the findings of one check, the counts and the health of the control
itself (missed runs, undelivered reports). :meth:`DailyReport.sections` groups the findings in the
fixed order every format follows. Formats (``text``, ``html``, ``md``, ``json``, ``csv``) turn a
report into a string and never do I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vulnmark.check import kinds as finding_kinds
from vulnmark.config.policy import Policy
from vulnmark.errors import ReportError
from vulnmark.model import FINDING_KINDS, Finding, Run

logger = logging.getLogger(__name__)

EMPTY_MESSAGE = "No findings: every vulnerability ticket is marked and classified."

#: (title, finding kinds) of the finding sections, in report order: derived from the finding
#: kinds (:mod:`vulnmark.check.kinds`), so every kind is in exactly one section.
FINDING_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = finding_kinds.report_sections()
HEALTH_TITLE = "Control health"
COUNTS_TITLE = "Counts per class"
SECTION_TITLES: tuple[str, ...] = (
    *(title for title, _ in FINDING_SECTIONS),
    HEALTH_TITLE,
    COUNTS_TITLE,
)


@dataclass(frozen=True)
class ControlHealth:
    """Whether the control itself operated: the runs, missed days and report deliveries."""

    runs: tuple[Run, ...]
    """Previous runs, newest first."""
    missed_days: tuple[date, ...]
    """Days on which a due daily run did not happen."""
    last_delivery: Run | None
    """The last report run that tried to deliver."""
    undelivered: tuple[Run, ...]
    """Report runs whose delivery failed and were not yet delivered later."""
    notes: tuple[str, ...] = ()
    """Other control findings (e.g. "evidence chain verified: 123 records")."""

    @property
    def ok(self) -> bool:
        """No missed day and no undelivered report."""
        return not self.missed_days and not self.undelivered

    @property
    def problems(self) -> int:
        return len(self.missed_days) + len(self.undelivered)


@dataclass(frozen=True)
class Section:
    """One titled part of the report; the last two sections carry no findings."""

    number: int
    title: str
    kinds: tuple[str, ...]
    findings: tuple[Finding, ...]
    count: int
    """Findings in the section; for Control health the problems, for Counts the vulnerabilities."""


@dataclass(frozen=True)
class IntakeItem:
    """An intake ticket the report shows: new, escalated or not yet assessed."""

    ticket: str
    record: str
    """The publication's id (CVE-…)."""
    state: str
    """``overdue``, ``due_soon``, ``awaiting`` or ``assessed``."""
    cls: str | None
    due_at: datetime | None
    """When its impact must be assessed by."""
    new: bool
    escalated: bool
    """In CISA KEV, or a later publication proposes another class."""
    proposed: str | None = None
    rejected: bool = False


@dataclass(frozen=True)
class IntakeDigest:
    """Threat intake in the report: counts, and the tickets that need someone."""

    new: int
    escalated: int
    awaiting: int
    due_soon: int
    overdue: int
    assessed: int
    proposals: int
    rejected: int
    items: tuple[IntakeItem, ...]


@dataclass(frozen=True)
class DailyReport:
    """The daily classification report of one run."""

    generated_at: datetime
    timezone: str
    """IANA name of the policy timezone in which people read times."""
    policy_name: str
    policy_digest: str
    tickets: int
    vulnerabilities: int
    by_class: Mapping[str, int]
    """Vulnerabilities per class, including "unclassified"."""
    by_kind: Mapping[str, int]
    findings: tuple[Finding, ...]
    health: ControlHealth
    class_names: tuple[str, ...]
    """Policy order for the counts table."""
    intake: IntakeDigest | None = None
    """Threat intake (None: no intake ticket, no Intake section)."""
    left_out: tuple[str, ...] = ()
    """What the report counts but does not list, each with the command that lists it
    ("3 dismissed findings: see `vulnmark dismiss --list`")."""

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ReportError("generated_at must be timezone-aware")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ReportError(f"unknown timezone {self.timezone!r}") from e

    @classmethod
    def from_policy(
        cls,
        policy: Policy,
        *,
        generated_at: datetime,
        tickets: int,
        vulnerabilities: int,
        by_class: Mapping[str, int],
        findings: tuple[Finding, ...],
        health: ControlHealth,
        by_kind: Mapping[str, int] | None = None,
        intake: IntakeDigest | None = None,
        left_out: tuple[str, ...] = (),
    ) -> DailyReport:
        """A report with name, digest, timezone and class order taken from ``policy``.

        ``by_kind`` defaults to the count of ``findings`` per kind.
        """
        if by_kind is None:
            by_kind = {k: n for k in FINDING_KINDS if (n := sum(f.kind == k for f in findings))}
        return cls(
            generated_at=generated_at,
            timezone=policy.timezone,
            policy_name=policy.preset,
            policy_digest=policy.digest(),
            tickets=tickets,
            vulnerabilities=vulnerabilities,
            by_class=dict(by_class),
            by_kind=dict(by_kind),
            findings=tuple(findings),
            health=health,
            class_names=policy.class_names,
            intake=intake,
            left_out=left_out,
        )

    # -- grouping -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True when there is no finding at all (the report is still sent)."""
        return not self.findings

    def of_kinds(self, kinds: tuple[str, ...]) -> tuple[Finding, ...]:
        """Findings of ``kinds``, grouped by kind in that order, then by due time and ticket."""
        order = {k: i for i, k in enumerate(kinds)}
        chosen = [f for f in self.findings if f.kind in order]
        far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
        chosen.sort(key=lambda f: (order[f.kind], f.due_at or far, f.ticket))
        return tuple(chosen)

    def sections(self) -> tuple[Section, ...]:
        """The six sections in their fixed order (see :data:`SECTION_TITLES`)."""
        return self._sections

    @cached_property
    def _sections(self) -> tuple[Section, ...]:
        # once per report: every format walks them, and grouping sorts every finding
        out = [
            Section(i, title, kinds, found, len(found))
            for i, (title, kinds) in enumerate(FINDING_SECTIONS, start=1)
            for found in (self.of_kinds(kinds),)
        ]
        n = len(out)
        out.append(Section(n + 1, HEALTH_TITLE, (), (), self.health.problems))
        out.append(Section(n + 2, COUNTS_TITLE, (), (), self.vulnerabilities))
        return tuple(out)

    def count(self, *kinds: str) -> int:
        return sum(f.kind in kinds for f in self.findings)

    @property
    def counts_table(self) -> tuple[tuple[str, int], ...]:
        """(class, vulnerabilities) in policy order, then "unclassified", then unknown classes."""
        names = [*self.class_names, "unclassified"]
        names += sorted(k for k in self.by_class if k not in names)
        return tuple((n, int(self.by_class.get(n, 0))) for n in names)

    # -- display helpers shared by the human formats --------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, value: datetime | None) -> str:
        """``value`` in the policy timezone with its offset: "2026-03-29 10:00 CEST (+02:00)"."""
        if value is None:
            return "-"
        if value.tzinfo is None:
            raise ReportError(f"naive timestamp {value.isoformat()}")
        lv = value.astimezone(self.zone)
        offset = lv.strftime("%z")
        offset = f"{offset[:3]}:{offset[3:]}"
        name = lv.tzname() or ""
        if name and not name.startswith(("+", "-")) and name != "UTC":
            return f"{lv:%Y-%m-%d %H:%M} {name} ({offset})"
        return f"{lv:%Y-%m-%d %H:%M} ({offset})"

    @property
    def local_date(self) -> date:
        """The report's day in the policy timezone."""
        return self.generated_at.astimezone(self.zone).date()

    def age(self, finding: Finding) -> str:
        """How long ago the ticket was created, like "3 d 4 h"; "-" when unknown."""
        if finding.created is None:
            return "-"
        return format_age(self.generated_at - finding.created)


def format_age(delta: timedelta) -> str:
    """"3 d 4 h", "5 h 12 min", "7 min"; negative ages (clock skew) read "0 min"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def subject(report: DailyReport) -> str:
    """The mail subject, e.g.
    "[vulnmark] Daily classification report 2026-11-27: 3 need classification, 1 overdue"."""
    parts: list[str] = []
    for label, of_kinds in finding_kinds.subject_buckets():
        n = report.count(*of_kinds)
        if n:
            parts.append(f"{n} {label}")
    if not parts:
        parts.append("no findings")
    missed = len(report.health.missed_days)
    if missed:
        parts.append(f"{missed} missed run{'s' if missed != 1 else ''}")
    undelivered = len(report.health.undelivered)
    if undelivered:
        parts.append(f"{undelivered} undelivered report{'s' if undelivered != 1 else ''}")
    return f"[vulnmark] Daily classification report {report.local_date}: {', '.join(parts)}"
