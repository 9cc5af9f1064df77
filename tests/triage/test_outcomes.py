"""Outcomes and reclassifications: validation, evidence in the same transaction, inference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core_support import make_ticket
from vulnmark.check import engine, results
from vulnmark.config.load import from_mapping
from vulnmark.config.outcomes import OutcomeRules, parse_rules
from vulnmark.config.presets import preset
from vulnmark.errors import ConfigError, OutcomeError
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.store.schema import outcomes as outcomes_table
from vulnmark.triage import outcomes
from vulnmark.triage.reclassify import reclassify

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    s = Store.open("sqlite:///x.db")
    s.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"), created=T0),
                      make_ticket("VULN-2", labels=("Sérülékenység", "MAGAS"), created=T0)],
                     at=T0)
    return s


def _events(store: Store, kind: str) -> list[dict[str, object]]:
    with store.reading() as conn:
        return [e.payload for e in store_events.iter_events(conn) if e.kind == kind]


def test_outcome_is_stored_with_its_evidence(store: Store) -> None:
    at = T0 + timedelta(hours=5)
    done = outcomes.record(store, "VULN-1", "no_remediation", reason="compensating_controls",
                           text="HSM network is isolated", actor="mso", at=at)
    assert done.kind == "no_remediation" and done.recorded_at == at
    [payload] = _events(store, "outcome")
    assert payload == {"ticket": "VULN-1", "kind": "no_remediation",
                       "reason": "compensating_controls", "text": "HSM network is isolated",
                       "by": "mso", "recorded_at": "2026-11-20T13:00:00.000000Z"}
    assert store.verify_evidence().ok


@pytest.mark.parametrize(("kind", "text", "reason", "message"), [
    ("fixed", "", None, "unknown outcome"),
    ("mitigation_plan", "  ", None, "needs its text"),
    ("no_remediation", "basis", "because", "is not one of"),
    ("no_remediation", "", "false_positive", "factual basis"),
    ("remediated", "", "other", "only to --no-remediation"),
])
def test_invalid_outcomes_change_nothing(store: Store, kind: str, text: str,
                                         reason: str | None, message: str) -> None:
    with pytest.raises(OutcomeError, match=message):
        outcomes.record(store, "VULN-1", kind, text=text, reason=reason, at=T0)
    with store.reading() as conn:
        assert conn.execute(select(outcomes_table)).first() is None
    assert not _events(store, "outcome")


def test_outcome_for_an_unknown_ticket_is_rolled_back(store: Store) -> None:
    with store.reading() as conn:
        before = store_events.count(conn)
    with pytest.raises(OutcomeError, match="no ticket 'VULN-404'"):
        outcomes.record(store, "VULN-404", "remediated", at=T0)
    with store.reading() as conn:
        assert store_events.count(conn) == before


def test_rules_infer_outcomes_from_resolution_names() -> None:
    rules = parse_rules({"remediated": ["Fixed", "Done"], "no_remediation": ["Won't Fix"],
                         "mitigation_plan": ["Mitigated"],
                         "no_remediation_reason": "false_positive"})
    assert rules.infer("fixed") == "remediated"
    assert rules.infer(" Mitigated ") == "mitigation_plan"
    assert rules.infer("Duplicate") is None and rules.infer(None) is None
    t = make_ticket(resolved=T0, resolution="Won't Fix", status="Closed")
    o = rules.inferred(t)
    assert o is not None and o.kind == "no_remediation" and o.reason == "false_positive"
    assert o.recorded_at == T0
    assert OutcomeRules().inferred(make_ticket(resolution="Fixed")) is None  # not resolved


@pytest.mark.parametrize(("table", "message"), [
    ({"remediated": "Fixed"}, "outcomes.remediated: expected a list"),
    ({"fixed": ["Fixed"]}, "unknown key 'outcomes.fixed'"),
    ({"no_remediation_reason": "lazy"}, "outcomes.no_remediation_reason"),
    ({"required": "yes"}, "outcomes.required"),
    ({"remediated": ["Done"], "no_remediation": ["done"]}, "listed under both"),
])
def test_outcomes_section_errors_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping({"outcomes": table})


def test_configured_resolution_names_drive_no_outcome(store: Store) -> None:
    store.upsert_tickets([make_ticket("VULN-3", labels=("Vulnerability", "LOW"), created=T0,
                                      resolved=T0, resolution="Mitigated", status="Closed")],
                         at=T0)
    now = T0 + timedelta(days=1)
    plain = results.check(store, preset("etsi-319-401"), now)
    assert [f.ticket for f in plain.findings if f.kind == "no_outcome"] == ["VULN-3"]
    policy = from_mapping({"outcomes": {"mitigation_plan": ["Mitigated"]}}).policy
    configured = results.check(store, policy, now)
    assert not [f for f in configured.findings if f.kind == "no_outcome"]
    relaxed = from_mapping({"outcomes": {"required": False}}).policy
    assert not [f for f in results.check(store, relaxed, now).findings
                if f.kind == "no_outcome"]


def test_reclassification_records_who_when_why(store: Store) -> None:
    policy = preset("etsi-319-401")
    at = T0 + timedelta(hours=3)
    done = reclassify(store, policy, "VULN-2", "CRITICAL", why="exploit published",
                               by="mso", at=at)
    assert (done.previous, done.new) == ("HIGH", "CRITICAL")
    t = store.get_ticket("VULN-2")
    assert t is not None and t.labels == ("Sérülékenység", "CRITICAL")
    assert t.label_history[-1].added == ("CRITICAL",)
    assert t.label_history[-1].removed == ("MAGAS",)
    [payload] = _events(store, "reclassification")
    assert {k: payload[k] for k in ("ticket", "from", "to", "by", "why")} == {
        "ticket": "VULN-2", "from": "HIGH", "to": "CRITICAL", "by": "mso",
        "why": "exploit published"}
    # the clock still runs from discovery: 48 h after T0, not after the reclassification
    engine.refresh(store, policy, now=at)
    rows = {v.ticket: v.due_at for v in results.vulnerabilities(store, policy, at)}
    assert rows["VULN-2"] == T0 + timedelta(hours=48)


@pytest.mark.parametrize(("key", "cls", "why", "message"), [
    ("VULN-2", "SEVERE", "x", "unknown class"),
    ("VULN-2", "HIGH", "x", "already classified HIGH"),
    ("VULN-2", "LOW", " ", "needs its reason"),
    ("VULN-9", "LOW", "x", "no ticket"),
])
def test_bad_reclassification(store: Store, key: str, cls: str, why: str,
                              message: str) -> None:
    with pytest.raises(OutcomeError, match=message):
        reclassify(store, preset("etsi-319-401"), key, cls, why=why, by="x", at=T0)


def test_jira_tickets_are_reclassified_in_jira(store: Store) -> None:
    store.upsert_tickets([make_ticket("CA-1", labels=("Vulnerability", "LOW"), created=T0,
                                      source="jira")], at=T0)
    with pytest.raises(OutcomeError, match="comes from jira"):
        reclassify(store, preset("etsi-319-401"), "CA-1", "HIGH", why="x", by="x",
                            at=T0)
