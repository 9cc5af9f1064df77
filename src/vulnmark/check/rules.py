"""Policy + ticket -> findings: the rules. Pure functions: no I/O, no clock (``now`` is a
parameter).

Findings split in two families (:mod:`vulnmark.check.kinds`): *marking* findings depend only on
the ticket and the policy (:func:`marking_findings`) and are cached per ticket version;
*deadline* findings depend on the evaluation instant and the outcomes
(:func:`deadline_findings`) and are derived from the cached evaluation at every run. A change
that makes the rules find something else for an unchanged ticket bumps :data:`RULES_VERSION`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from vulnmark.config.policy import DateWindow, Policy
from vulnmark.model import Evidence, Finding, Outcome, Reading, Ticket, replaced

RULES_VERSION = 4
"""Bumped whenever the rules' findings for an unchanged ticket change (2: ``bad_date``; 3: the
evidence of a suggestion names the scale its class word was read on; 4: `suspected` reads
access-control failures, exposures and title tags); part
of the evaluation stamp (:mod:`vulnmark.check.engine`), so every store is evaluated again once."""


@dataclass(frozen=True)
class Marking:
    """What a ticket's labels say under a policy."""

    vulnerability: bool
    classes: tuple[str, ...]
    """Distinct canonical classes, in policy order."""
    noncanonical: tuple[tuple[str, str], ...]
    """(label as written, canonical form) for labels accepted only after normalisation."""

    @property
    def classification(self) -> str | None:
        return self.classes[0] if len(self.classes) == 1 else None

    @property
    def is_marked(self) -> bool:
        return self.vulnerability or bool(self.classes)


_UNMARKED = Marking(False, (), ())


def marking(ticket: Ticket, policy: Policy) -> Marking:
    if not ticket.labels:
        return _UNMARKED
    vulnerability = False
    found: set[str] = set()
    odd: list[tuple[str, str]] = []
    for label in ticket.labels:
        m = policy.match_label(label)
        if m is None:
            continue
        if m.role == "vulnerability":
            vulnerability = True
        else:
            found.add(m.canonical)
        if not m.exact:
            odd.append((label, m.canonical))
    classes = tuple(c for c in policy.class_names if c in found)
    return Marking(vulnerability, classes, tuple(odd))


#: Which deadline a finding shows when the caller did not compute it.
_POLICY_DEADLINE = object()


def marking_findings(ticket: Ticket, policy: Policy, reading: Reading,
                     m: Marking | None = None, *, window: DateWindow | None = None,
                     due_at: datetime | None | object = _POLICY_DEADLINE) -> list[Finding]:
    """The label findings of one ticket, with the text's suggestion where it helps; with a
    date ``window``, a ``bad_date`` finding for dates outside it. ``due_at`` is the deadline
    the caller computed (default: the policy's, from the discovery time)."""
    if m is None:
        m = marking(ticket, policy)
    bad = bad_dates(ticket, window) if window is not None else ()
    if not (m.is_marked or reading.signals or bad):
        return []  # most tickets: nothing to say
    if due_at is _POLICY_DEADLINE:
        due_at = policy.deadline(m.classification, deadline_base(ticket, window))
    assert due_at is None or isinstance(due_at, datetime)
    suggested = reading.suggested if reading.suggested in policy.class_names else None
    base = Finding(
        ticket=ticket.key,
        kind="unclassified",
        title=ticket.title,
        url=ticket.url,
        labels=ticket.labels,
        classification=m.classification,
        suggested=suggested,
        confidence=reading.confidence if suggested else None,
        evidence=reading.evidence if suggested else (),
        due_at=due_at,
        reporter=ticket.reporter,
        created=ticket.created,
    )
    out: list[Finding] = []
    if m.vulnerability and not m.classes:
        out.append(replaced(base, detail="vulnerability label without a classification label"))
    if len(m.classes) > 1:
        out.append(replaced(base, kind="conflicting",
                           detail="several classification labels: " + ", ".join(m.classes)))
    if m.classes and not m.vulnerability:
        out.append(replaced(base, kind="unmarked",
                           detail=f"classification label without the vulnerability label "
                                  f"{policy.vulnerability_label!r}"))
    if not m.is_marked and reading.signals:
        out.append(replaced(
            base, kind="suspected", evidence=_unique(reading.signals + base.evidence),
            detail="no vulnerability label, but the text says vulnerability"))
    for label, canonical in m.noncanonical:
        out.append(replaced(
            base, kind="noncanonical", suggested=None, confidence=None,
            evidence=(Evidence("label", label),),
            detail=f"label {label!r} is accepted as {canonical!r} but differs "
                   f"({_difference(label, canonical)}); use the canonical form"))
    if m.classification and suggested and suggested != m.classification:
        out.append(replaced(
            base, kind="mismatch",
            detail=f"labelled {m.classification} but the text says {suggested}"))
    if bad:
        assert window is not None
        out.append(replaced(
            base, kind="bad_date", suggested=None, confidence=None, evidence=(),
            detail=_bad_date_detail(ticket, bad, window, due_at, clock=bool(
                m.classification and policy.class_def(m.classification).deadline_hours))))
    return out


_DATE_FIELDS = ("created", "discovered", "resolved")


def bad_dates(ticket: Ticket, window: DateWindow) -> tuple[str, ...]:
    """The ticket's date fields that lie outside ``window``."""
    return tuple(name for name in _DATE_FIELDS
                 if (value := getattr(ticket, name)) is not None and not window.contains(value))


def deadline_base(ticket: Ticket, window: DateWindow | None) -> datetime:
    """The time a deadline counts from: the discovery time, else (or when the discovery time
    is implausible) the creation time."""
    if window is not None and ticket.discovered is not None \
            and not window.contains(ticket.discovered):
        return ticket.created
    return ticket.discovered_at


def _bad_date_detail(ticket: Ticket, bad: tuple[str, ...], window: DateWindow,
                     due_at: datetime | None, *, clock: bool) -> str:
    dates = ", ".join(f"{name} {getattr(ticket, name).date().isoformat()}" for name in bad)
    if clock and due_at is None:
        what = "no deadline can be computed; fix the date in the source"
    elif clock and "discovered" in bad:
        what = "the deadline counts from the creation time; fix the date in the source"
    else:
        what = "fix the date in the source"
    return (f"implausible date ({dates}; accepted: {window.earliest.date().isoformat()} to "
            f"{window.latest.date().isoformat()}): {what}")


def _difference(label: str, canonical: str) -> str:
    """How an accepted label differs from its canonical form, in words."""
    ways = []
    if label != label.strip():
        ways.append("surrounding spaces")
    core = label.strip()
    composed = unicodedata.normalize("NFC", core)
    if composed != core:
        ways.append("Unicode NFD encoding")
    if composed != canonical and composed.casefold() == canonical.casefold():
        ways.append("letter case")
    return ", ".join(ways) or "an accepted alias spelled differently"


def deadline_findings(base: Finding, *, state: str, due_at: datetime | None,
                      resolved_at: datetime | None, now: datetime,
                      due_soon: timedelta, outcome_at: datetime | None = None,
                      outcome_kind: str | None = None,
                      needs_outcome: bool = False) -> list[Finding]:
    """The deadline findings of one ticket at ``now``.

    A deadline is met by an outcome (remediation, mitigation plan or documented basis) recorded
    at or before ``due_at``; overdue starts strictly after it. ``outcome_at`` is the earliest
    outcome (explicit, or inferred from the resolution). Open and unaddressed: ``overdue`` or
    ``due_soon``; addressed or resolved after the deadline: ``late``; resolved without any
    outcome while ``needs_outcome``: ``no_outcome``.
    """
    out: list[Finding] = []
    if state != "open" and needs_outcome and outcome_at is None:
        out.append(replaced(base, kind="no_outcome", due_at=due_at,
                           detail="resolved without a documented outcome (remediated, "
                                  "mitigation plan or no-remediation basis)"))
    if due_at is None or (outcome_at is not None and outcome_at <= due_at):
        return out
    if outcome_at is not None:
        what = (outcome_kind or "outcome").replace("_", " ")
        out.append(replaced(base, kind="late", due_at=due_at,
                           detail=f"{what} recorded {_span(outcome_at - due_at)} after its "
                                  "deadline"))
    elif state == "open":
        if now > due_at:
            out.append(replaced(base, kind="overdue", due_at=due_at,
                               detail=f"open {_span(now - due_at)} past its deadline"))
        elif now >= due_at - due_soon:
            out.append(replaced(base, kind="due_soon", due_at=due_at,
                               detail=f"due in {_span(due_at - now)}"))
    elif resolved_at is not None and resolved_at > due_at:
        out.append(replaced(base, kind="late", due_at=due_at,
                           detail=f"resolved {_span(resolved_at - due_at)} after its deadline"))
    return out


def assessment_state(due_at: datetime | None, assessed_at: datetime | None, now: datetime,
                     due_soon: timedelta) -> str:
    """Where a threat-intake ticket's assessment clock stands at ``now``: ``assessed``,
    ``overdue`` (strictly after ``due_at``, as for deadlines: an assessment at ``due_at`` is on
    time), ``due_soon`` (within the due-soon window) or ``awaiting``."""
    if assessed_at is not None:
        return "assessed"
    if due_at is None:
        return "awaiting"
    if now > due_at:
        return "overdue"
    return "due_soon" if now >= due_at - due_soon else "awaiting"


def assessment_findings(base: Finding, *, due_at: datetime | None,
                        assessed_at: datetime | None, now: datetime,
                        due_soon: timedelta) -> list[Finding]:
    """The assessment-clock findings of one threat-intake ticket at ``now``: its impact not
    assessed (``vulnmark assess``) and the clock ended (``assessment_overdue``) or ending
    within the due-soon window (``assessment_due_soon``). A resolved ticket is no exception:
    resolving it does not record the assessment (the CA's finding was exactly that)."""
    where = assessment_state(due_at, assessed_at, now, due_soon)
    if where == "overdue":
        assert due_at is not None
        return [replaced(base, kind="assessment_overdue", due_at=due_at,
                         detail=f"not assessed, {_span(now - due_at)} past its clock: "
                                f"vulnmark assess {base.ticket}")]
    if where == "due_soon":
        assert due_at is not None
        return [replaced(base, kind="assessment_due_soon", due_at=due_at,
                         detail=f"to be assessed within {_span(due_at - now)}: "
                                f"vulnmark assess {base.ticket}")]
    return []


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    if not days:
        parts.append(f"{mins} min")
    return " ".join(parts)


def _unique(items: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """Evidence without repeats (a snippet can be both a signal and a class statement)."""
    return tuple(dict.fromkeys(items))


def earliest(candidates: Sequence[Outcome | None]) -> Outcome | None:
    """The first outcome in time (ties: the explicit one listed first): the one that meets or
    misses a deadline."""
    found = [o for o in candidates if o is not None]
    return min(found, key=lambda o: o.recorded_at) if found else None
