"""The finding-kind registry: everything that depends on a kind derives from it, and the rules
find each kind in its declared family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vulnmark.check import kinds
from vulnmark.check.rules import deadline_findings
from vulnmark.config.presets import preset
from vulnmark.model import FINDING_KINDS, Finding, TicketKey
from vulnmark.report import ControlHealth, DailyReport
from vulnmark.report.model import FINDING_SECTIONS, subject

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def test_one_entry_per_kind_in_the_contract_order() -> None:
    assert tuple(k.name for k in kinds.KINDS) == FINDING_KINDS


def test_every_kind_is_in_exactly_one_report_section() -> None:
    listed = [k for _, section in FINDING_SECTIONS for k in section]
    assert sorted(listed) == sorted(FINDING_KINDS) and len(listed) == len(set(listed))
    assert [title for title, _ in FINDING_SECTIONS] == list(kinds.SECTIONS)


def test_every_kind_counts_in_one_subject_bucket() -> None:
    buckets = [k for _, of in kinds.subject_buckets() for k in of]
    assert sorted(buckets) == sorted(FINDING_KINDS) and len(buckets) == len(set(buckets))
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=())
    for kind in FINDING_KINDS:
        f = Finding(ticket=TicketKey("S-1"), kind=kind, title="t")  # type: ignore[arg-type]
        report = DailyReport.from_policy(preset("etsi-319-401"), generated_at=NOW, tickets=1,
                                         vulnerabilities=1, by_class={}, findings=(f,),
                                         health=health)
        assert "1 " + kinds.BY_NAME[kind].subject in subject(report), kind


def test_backfill_proposes_for_the_kinds_the_registry_names() -> None:
    from vulnmark.triage import backfill

    assert backfill.KINDS == {"unclassified", "unmarked", "suspected"} == \
        {k.name for k in kinds.KINDS if k.backfill}


def test_deadline_rules_find_only_deadline_kinds() -> None:
    deadline = {k.name for k in kinds.KINDS if k.family == "deadline"}
    base = Finding(ticket=TicketKey("D-1"), kind="overdue", title="t")
    due = NOW - timedelta(days=1)
    found = set()
    for state, outcome_at, resolved_at, now in (
            ("open", None, None, NOW), ("open", None, None, due - timedelta(hours=1)),
            ("resolved", NOW, NOW, NOW), ("resolved", None, NOW, NOW)):
        found |= {f.kind for f in deadline_findings(
            base, state=state, due_at=due, resolved_at=resolved_at, now=now,
            due_soon=timedelta(hours=24), outcome_at=outcome_at, needs_outcome=True)}
    assert found == deadline


def test_assessment_rules_find_only_assessment_kinds() -> None:
    from vulnmark.check.rules import assessment_findings

    clock = {k.name for k in kinds.KINDS if k.family == "assessment"}
    base = Finding(ticket=TicketKey("I-1"), kind="assessment_overdue", title="t")
    due = NOW + timedelta(hours=10)
    found: list[str] = []
    for now, assessed in ((NOW, None), (due + timedelta(seconds=1), None),
                          (NOW - timedelta(days=3), None), (due + timedelta(days=1), NOW)):
        found += [f.kind for f in assessment_findings(
            base, due_at=due, assessed_at=assessed, now=now, due_soon=timedelta(hours=24))]
    assert found == ["assessment_due_soon", "assessment_overdue"]
    assert set(found) == clock
