"""The finding kinds: one entry per kind, from which everything that depends on a kind derives.

The daily report's finding sections, the mail subject's buckets, the backfill actions, the
``--kind`` choices and the JSON ``by_kind`` keys all come from :data:`KINDS`, so a kind cannot
be left out of any of them (a kind missing from the report's section table once vanished from
every human format). A new kind is one entry here, its name in
:data:`vulnmark.model.FindingKind` (the same order: the JSON contract's), and the rule that
finds it in :mod:`vulnmark.check.rules`. Checked at import: a mismatch is an error, not a
report that silently drops findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vulnmark.model import FINDING_KINDS

Family = Literal["marking", "deadline", "source", "assessment"]
Backfill = Literal["class", "vulnerability", "vulnerability_and_class"]

#: The report's finding sections, in report order.
SECTIONS: tuple[str, ...] = (
    "Needs classification", "Deadlines", "Suspected vulnerabilities", "Label hygiene")
#: The mail subject's counts, in subject order ("3 need classification, 1 overdue, …").
SUBJECT_BUCKETS: tuple[str, ...] = (
    "need classification", "overdue", "due soon", "suspected", "other")


@dataclass(frozen=True)
class Kind:
    """One finding kind and where it shows."""

    name: str
    """The exact string of the public contract (DESIGN.md)."""
    family: Family
    """``marking``: from the ticket and the policy alone, cached per ticket version
    (:func:`.rules.marking_findings`); ``deadline``: from the evaluation instant and the
    outcomes, derived at every run (:func:`.rules.deadline_findings`); ``source``: from the
    labels vulnmark keeps over a ticket's source, read at every run
    (:mod:`vulnmark.store.overlay`); ``assessment``: from the evaluation instant and a
    threat-intake ticket's assessment clock, derived at every run
    (:func:`.rules.assessment_findings`)."""
    section: str
    """The report section that lists it (one of :data:`SECTIONS`)."""
    position: int
    """Its place among the section's kinds (findings are grouped by kind in that order)."""
    subject: str
    """The mail subject's bucket that counts it (one of :data:`SUBJECT_BUCKETS`)."""
    backfill: Backfill | None = None
    """What ``vulnmark backfill`` proposes for it: the class the text states, the
    vulnerability label, or both; None when backfill has nothing to propose."""
    in_jql: bool = False
    """Whether ``vulnmark jql`` can express it (it depends on labels only)."""
    summary: str = ""


KINDS: tuple[Kind, ...] = (
    Kind("unclassified", "marking", "Needs classification", 1, "need classification",
         backfill="class", in_jql=True,
         summary="vulnerability label without a classification label"),
    Kind("conflicting", "marking", "Needs classification", 2, "need classification",
         summary="two or more classification labels"),
    Kind("unmarked", "marking", "Needs classification", 3, "need classification",
         backfill="vulnerability",
         summary="classification label without the vulnerability label"),
    Kind("suspected", "marking", "Suspected vulnerabilities", 1, "suspected",
         backfill="vulnerability_and_class",
         summary="no marking, but the text says vulnerability"),
    Kind("noncanonical", "marking", "Label hygiene", 1, "other",
         summary="a label accepted only after normalisation"),
    Kind("mismatch", "marking", "Label hygiene", 2, "other",
         summary="the label's class differs from the class the text states"),
    Kind("bad_date", "marking", "Label hygiene", 3, "other",
         summary="a created, discovery or resolution date outside [dates]"),
    Kind("due_soon", "deadline", "Deadlines", 2, "due soon",
         summary="open and due within due_soon_hours"),
    Kind("overdue", "deadline", "Deadlines", 1, "overdue",
         summary="open past its deadline"),
    Kind("late", "deadline", "Deadlines", 3, "other",
         summary="an outcome or resolution after the deadline"),
    Kind("no_outcome", "deadline", "Deadlines", 4, "other",
         summary="resolved without a documented outcome"),
    Kind("source_diverged", "source", "Label hygiene", 4, "other",
         summary="a label vulnmark applied that the ticket's source (Jira, an import file) "
                 "lacks, or still has after vulnmark removed it"),
    # threat intake's clock (intake.assessment_hours): its own kinds, not due_soon/overdue, so
    # that a classified intake ticket's handling deadline and assessment deadline are two
    # findings with two due dates, dismissed, counted and alerted on each by its own name
    Kind("assessment_due_soon", "assessment", "Deadlines", 6, "due soon",
         summary="intake ticket's impact not assessed, its clock ends within due_soon_hours"),
    Kind("assessment_overdue", "assessment", "Deadlines", 5, "overdue",
         summary="intake ticket's impact not assessed past its assessment clock"),
)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
"""The kinds in contract order: ``--kind`` choices, the JSON ``by_kind`` keys, the order of
``check``'s findings."""


def report_sections() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(title, kinds in section order) of every finding section, in report order."""
    return tuple(
        (title, tuple(k.name for k in sorted((k for k in KINDS if k.section == title),
                                             key=lambda k: k.position)))
        for title in SECTIONS)


def subject_buckets() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(bucket, kinds) of the mail subject's counts, in subject order."""
    return tuple((b, tuple(k.name for k in KINDS if k.subject == b)) for b in SUBJECT_BUCKETS)


def backfill_kinds() -> frozenset[str]:
    """The kinds ``vulnmark backfill`` proposes labels for."""
    return frozenset(k.name for k in KINDS if k.backfill is not None)


def _check() -> None:
    names = tuple(k.name for k in KINDS)
    if names != FINDING_KINDS:
        raise AssertionError(f"check.kinds.KINDS {names} differ from model.FindingKind "
                             f"{FINDING_KINDS} (same kinds, same order)")
    for k in KINDS:
        if k.section not in SECTIONS or k.subject not in SUBJECT_BUCKETS:
            raise AssertionError(f"finding kind {k.name!r}: unknown section or subject bucket")
    for title, kinds in report_sections():
        positions = [BY_NAME[n].position for n in kinds]
        if not kinds or len(set(positions)) != len(positions):
            raise AssertionError(f"report section {title!r}: no kind, or two at one position")


_check()
