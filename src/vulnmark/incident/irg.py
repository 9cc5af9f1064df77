"""The CCADB Incident Reporting Guidelines as data: each version, the day it took effect, its
clocks and its vocabulary (../shared/reference/standards.md §3.1-§3.4).

A clock is judged by the version in force on the day it runs: an update due on 2025-07-20
after an action item changed on 2025-07-16 follows IRG 3.1's 3-day rule, the same change on
2025-07-10 did not. An incident's vocabulary (kinds, statuses, templates) is the one of the
version in force on the day it was opened; a report under IRG 1.0/2.0 is an "Audit Incident
Report" with free statuses (OPEN / IN PROGRESS / DONE) and the kind ``***`` allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vulnmark.errors import IncidentError

#: The groups of action item statuses, in the order the status table shows them: done items
#: first, then those in progress, then the open ones (each by due date).
GROUPS: tuple[str, ...] = ("done", "progress", "open")

#: IRG 3.x: Kind and Status enumerations of the Action Items table, verbatim.
KINDS_3: tuple[str, ...] = ("Prevent", "Mitigate", "Detect")
STATUSES_3: dict[str, str] = {"Complete": "done", "Canceled": "done", "Delayed": "progress",
                              "Ongoing": "progress"}
#: IRG 1.0/2.0 audit incident reports: the kinds plus ``***`` (not a prevent/detect action:
#: a report to file), and the free statuses CAs used.
KINDS_2: tuple[str, ...] = (*KINDS_3, "***")
STATUSES_2: dict[str, str] = {"DONE": "done", "CANCELED": "done", "IN PROGRESS": "progress",
                              "DELAYED": "progress", "OPEN": "open"}


@dataclass(frozen=True)
class Irg:
    """One version of the guidelines."""

    version: str
    effective: date
    update_days: int
    """An open report is updated within this many days when no "Next update" date is set."""
    change_days: int | None
    """... and within this many days of an action item changed, completed or delayed."""
    report_hours: int | None
    """Preliminary or Full report after awareness of an incident or a finding not reported."""
    full_days: int | None
    """Full report after the first disclosure."""
    answer_days: int | None
    """Answer to a comment or question."""

    @property
    def legacy(self) -> bool:
        """IRG 1.0/2.0: audit incident reports, free statuses, the 4-column status table."""
        return self.version in ("1.0", "2.0")

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS_2 if self.legacy else KINDS_3

    @property
    def statuses(self) -> dict[str, str]:
        return STATUSES_2 if self.legacy else STATUSES_3

    @property
    def first_status(self) -> str:
        return "OPEN" if self.legacy else "Ongoing"

    def status(self, value: str) -> str:
        """``value`` as this version spells it (case-insensitive), or IncidentError."""
        return pick(value, tuple(self.statuses), f"status (IRG {self.version})")

    def kind(self, value: str) -> str:
        return pick(value, self.kinds, f"kind (IRG {self.version})")

    def group(self, status: str) -> str:
        return self.statuses.get(status, "open")


#: Every version (standards.md §3.1); the clocks from §3.2 ("weekly" until 3.0, 7 days since).
VERSIONS: tuple[Irg, ...] = (
    Irg("1.0", date(2023, 2, 15), 7, None, None, None, None),
    Irg("2.0", date(2023, 10, 17), 7, None, None, None, None),
    Irg("3.0", date(2025, 3, 1), 7, None, 72, 14, 7),
    Irg("3.1", date(2025, 7, 15), 7, 3, 72, 14, 7),
    Irg("3.2", date(2026, 3, 20), 7, 3, 72, 14, 7),
)

#: CCADB Policy 2.1 §5: audit documents within this many days of the audit period's end.
AUDIT_DOCUMENT_DAYS = 92


def in_force(day: date) -> Irg:
    """The version in force on ``day`` (IRG 1.0 for any earlier day: the first there was)."""
    found = VERSIONS[0]
    for v in VERSIONS:
        if v.effective <= day:
            found = v
    return found


def by_version(name: str) -> Irg:
    for v in VERSIONS:
        if v.version == name:
            return v
    raise IncidentError(f"unknown IRG version {name!r} "
                        f"(known: {', '.join(v.version for v in VERSIONS)})")


def pick(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` as ``allowed`` spells it (case and spacing aside), or IncidentError."""
    folded = " ".join(value.split()).casefold()
    for a in allowed:
        if a.casefold() == folded:
            return a
    raise IncidentError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
