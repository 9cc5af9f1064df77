"""Policy + ticket -> findings. Pure functions: no I/O, no clock (``now`` is a parameter).

Findings split in two: *marking* findings depend only on the ticket and the policy
(``unclassified``, ``conflicting``, ``unmarked``, ``suspected``, ``noncanonical``, ``mismatch``)
and are cached per ticket version; *deadline* findings (``due_soon``, ``overdue``, ``late``)
(and ``no_outcome``) depend on the evaluation instant and the outcomes, and are derived from
the cached evaluation at every run.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from vulnmark.model import Evidence, Finding, Reading, Ticket, replaced
from vulnmark.policy import Policy


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


def marking_findings(ticket: Ticket, policy: Policy, reading: Reading,
                     m: Marking | None = None) -> list[Finding]:
    """The label findings of one ticket, with the text's suggestion where it helps."""
    if m is None:
        m = marking(ticket, policy)
    if not (m.is_marked or reading.signals):
        return []  # most tickets: nothing to say
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
        due_at=policy.deadline(m.classification, ticket.discovered_at),
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
    return out


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
