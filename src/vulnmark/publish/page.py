"""The policy page's model: everything the page says, taken from the configuration in force.

    page = build_page(config, lang=Lang.HU, generated_at=now, effective_at=since)
    text = PageFormat.MD.to_format().format(page)

Nothing here is copied by hand: the labels, classes, deadlines and JQL come from the
:class:`~vulnmark.config.policy.Policy` (the JQL from the same builder as ``vulnmark jql``),
the CVSS ranges from the scale the inference rates scores on, the recipients and schedule
from the rest of the :class:`~vulnmark.config.load.Config`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from vulnmark._version import __version__
from vulnmark.check.infer import cvss_range
from vulnmark.config.load import Config
from vulnmark.publish.texts import Lang, Texts, texts
from vulnmark.sources.jira import jql

#: What a framework asks for a vulnerability without a fixed clock (the page's follow-up line).
FOLLOW_UP: dict[str, str] = {
    "etsi-319-401": "ETSI EN 319 401 REQ-7.9.2-10",
    "ncssr-v1": "NCSSR v1.7 4.f",
    "ncssr-v2": "NCSSR v2.0.5 4.2, CP/CPS 6.7",
    "pci-dss": "PCI DSS v4.0.1 6.3.3",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ClassRow:
    """One class as the page shows it."""

    name: str
    labels: tuple[str, ...]
    """Accepted labels, canonical first."""
    deadline_hours: float | None
    cvss: tuple[float, float] | None
    """The CVSS v3.x/v4.0 base scores rated as this class (None: not on the scale)."""


@dataclass(frozen=True)
class PolicyPage:
    """One policy page in one language (formats render it; see :mod:`.interface`)."""

    texts: Texts
    presets: tuple[str, ...]
    vulnerability_labels: tuple[str, ...]
    classes: tuple[ClassRow, ...]
    jql_all: str
    jql_unclassified: str
    due_soon_hours: float
    recipients: tuple[str, ...]
    schedule: tuple[str, str] | None
    """(cron expression, timezone) of the daily run; None: once a calendar day."""
    escalate_after_days: int | None
    """With ``[reminders]`` enabled: the days of reminders to an author before the report's
    recipients are copied; None: no reminders."""
    timezone: str
    digest: str
    effective_at: datetime | None
    """When the policy with this digest took effect (its first record in the evidence log)."""
    generated_at: datetime
    version: str = __version__
    remind_assignee: bool = False
    """With reminders: an assigned ticket's assignee is reminded instead of its reporter."""

    @property
    def lang(self) -> Lang:
        return self.texts.lang

    @property
    def title(self) -> str:
        return self.texts["title"]

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def copy_labels(self) -> str:
        """The labels to copy, one a line: the vulnerability label, then each class's."""
        return "\n".join((self.vulnerability_labels[0], *self.class_names))

    @property
    def follow_up(self) -> tuple[str, ...]:
        """The framework references a class without a fixed clock answers to."""
        return tuple(FOLLOW_UP[p] for p in self.presets if p in FOLLOW_UP)

    @property
    def has_open_clock(self) -> bool:
        return any(c.deadline_hours is None for c in self.classes)

    def unchanging(self) -> PolicyPage:
        """The same page with the generation time fixed: two pages that differ only in when
        they were generated render the same (see :func:`fingerprint`)."""
        return replace(self, generated_at=EPOCH)


def build_page(config: Config, *, lang: Lang, generated_at: datetime,
               effective_at: datetime | None = None) -> PolicyPage:
    """The page of ``config``'s policy in ``lang``."""
    policy = config.policy
    scope = config.jira.jql if config.jira else None
    accepted = [label for c in policy.classes for label in c.accepted]
    return PolicyPage(
        texts=texts(lang),
        presets=tuple(policy.preset.split("+")),
        vulnerability_labels=policy.vulnerability_labels,
        classes=tuple(ClassRow(c.name, c.accepted, c.deadline_hours, cvss_range(c.name))
                      for c in policy.classes),
        jql_all=jql.filter_jql(vulnerability_labels=policy.vulnerability_labels, scope=scope),
        jql_unclassified=jql.filter_jql(vulnerability_labels=policy.vulnerability_labels,
                                        unclassified_classes=accepted, state="open",
                                        scope=scope),
        due_soon_hours=policy.due_soon_hours,
        recipients=config.recipients,
        schedule=None if config.schedule is None else (config.schedule.cron.expr,
                                                       config.schedule.timezone),
        escalate_after_days=(config.reminders.escalate_after_days
                             if config.reminders.enabled else None),
        remind_assignee=config.reminders.to == "assignee",
        timezone=policy.timezone,
        digest=policy.digest(),
        effective_at=effective_at,
        generated_at=generated_at,
    )


def fingerprint(body: str) -> str:
    """SHA-256 of a rendered page (recorded with each publication)."""
    return hashlib.sha256(body.encode()).hexdigest()
