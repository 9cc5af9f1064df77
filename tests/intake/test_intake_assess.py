"""``vulnmark assess`` and the assessment clock: verdicts with evidence, late ones marked,
and the states ``intake status`` and the report show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_support import cve, write_nvd
from vulnmark.config.load import from_mapping
from vulnmark.errors import IntakeError, OutcomeError
from vulnmark.evidence.events import IntakeAssessed, Reclassified, read
from vulnmark.intake.assess import assess
from vulnmark.intake.run import Intake, read_feed
from vulnmark.intake.status import states, summary
from vulnmark.sources import embedded
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.store.outcomes import list_outcomes

CONFIG = from_mapping({"intake": {"vendors": ["OpenSSL"], "clock_from": "first_seen",
                                  "assessment_hours": {"CRITICAL": 24, "HIGH": 72}}})
POLICY = CONFIG.policy
NOW = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def opened(tmp_path: Path) -> tuple[Store, list[str]]:
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    path = write_nvd(tmp_path / "a.json", [cve(1), cve(2, score=9.8, severity="CRITICAL"),
                                           cve(3), cve(4, score=5.0, severity="MEDIUM")])
    result = Intake(store, CONFIG).run(read_feed("nvd", path), feed="nvd", now=NOW)
    return store, result.opened


def _events(store: Store) -> list[object]:
    with store.reading() as conn:
        return [read(r) for r in store_events.iter_events(conn)]


def test_the_clock_per_class_and_the_states(opened: tuple[Store, list[str]]) -> None:
    store, keys = opened
    at = {s.record.ticket: s for s in states(store, POLICY, NOW)}
    assert at[keys[0]].record.assess_due_at == NOW + timedelta(hours=72)
    assert at[keys[1]].record.assess_due_at == NOW + timedelta(hours=24)
    assert at[keys[3]].record.assess_due_at is None  # MEDIUM has no clock here
    assert at[keys[1]].state == "due_soon" and at[keys[0]].state == "awaiting"
    later = {s.record.ticket: s.state for s in states(store, POLICY, NOW + timedelta(hours=30))}
    assert later[keys[1]] == "overdue"
    assert summary(states(store, POLICY, NOW), since=NOW)["new"] == 4


def test_three_verdicts_with_their_evidence(opened: tuple[Store, list[str]]) -> None:
    store, keys = opened
    done = assess(store, POLICY, keys[0], "affected", text="on the OCSP hosts", by="mso",
                  at=NOW + timedelta(hours=1))
    assert done.verdict == "affected" and not done.late and done.cls == "HIGH"
    late = assess(store, POLICY, keys[1], "not_affected", text="module not built", by="mso",
                  at=NOW + timedelta(hours=30), reason="false_positive")
    assert late.late
    with store.reading() as conn:
        [outcome] = list_outcomes(conn, keys=[keys[1]])
    assert outcome.kind == "no_remediation" and outcome.reason == "false_positive"
    moved = assess(store, POLICY, keys[2], "reclassified", text="admin LAN only", by="mso",
                   at=NOW + timedelta(hours=2), new_class="MEDIUM")
    assert (moved.previous, moved.cls) == ("HIGH", "MEDIUM")
    ticket = store.get_ticket(keys[2])
    assert ticket is not None and "MEDIUM" in ticket.labels and "HIGH" not in ticket.labels
    assert ticket.label_history[-1].added == ("MEDIUM",)
    found = _events(store)
    assessed = [e for e in found if isinstance(e, IntakeAssessed)]
    assert [(e.ticket, e.verdict, e.late) for e in assessed] == [
        (keys[0], "affected", False), (keys[1], "not_affected", True),
        (keys[2], "reclassified", False)]
    [why] = [e for e in found if isinstance(e, Reclassified)]
    assert (why.previous, why.new, why.why) == ("HIGH", "MEDIUM", "admin LAN only")
    by_state = {s.record.ticket: s.state for s in states(store, POLICY, NOW)}
    assert by_state[keys[0]] == by_state[keys[1]] == by_state[keys[2]] == "assessed"


def test_what_cannot_be_assessed(opened: tuple[Store, list[str]]) -> None:
    store, keys = opened
    with pytest.raises(IntakeError, match="needs its reason"):
        assess(store, POLICY, keys[0], "reclassified", text=" ", by="x", at=NOW,
               new_class="LOW")
    with pytest.raises(IntakeError, match="not a class"):
        assess(store, POLICY, keys[0], "reclassified", text="x", by="x", at=NOW,
               new_class="URGENT")
    with pytest.raises(IntakeError, match="already classified HIGH"):
        assess(store, POLICY, keys[0], "reclassified", text="x", by="x", at=NOW,
               new_class="HIGH")
    with pytest.raises(OutcomeError, match="factual basis"):
        assess(store, POLICY, keys[0], "not_affected", text="", by="x", at=NOW)
    hand = embedded.create(store, title="by hand", by="x", at=NOW, prefix="VULN")
    with pytest.raises(IntakeError, match="not opened by threat intake"):
        assess(store, POLICY, hand.key, "affected", text="", by="x", at=NOW)
    assess(store, POLICY, keys[0], "affected", text="", by="x", at=NOW)
    with pytest.raises(IntakeError, match="already assessed"):
        assess(store, POLICY, keys[0], "affected", text="", by="x", at=NOW)
    assert len([e for e in _events(store) if isinstance(e, IntakeAssessed)]) == 1


def test_the_daily_report_has_an_intake_section(opened: tuple[Store, list[str]]) -> None:
    from vulnmark.control.daily import DailyJob
    from vulnmark.report import ReportFormat

    store, keys = opened
    assess(store, POLICY, keys[0], "affected", text="", by="mso", at=NOW)
    report = DailyJob(store, CONFIG).build(NOW + timedelta(hours=30))
    assert report.intake is not None
    assert (report.intake.new, report.intake.overdue, report.intake.assessed) == (0, 1, 1)
    text = ReportFormat.TEXT.to_format().format(report)
    assert f"- {keys[1]} CVE-2026-0002 [overdue] CRITICAL" in text
    assert keys[0] not in text.split("Intake\n")[1]  # assessed, nothing to do
