"""Deadline arithmetic: every preset to the minute, across DST, and outcome-aware findings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core_support import make_ticket
from vulnmark.check import engine, results
from vulnmark.check.rules import deadline_findings
from vulnmark.config.presets import preset
from vulnmark.model import Finding, TicketKey
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.triage import outcomes

BUDAPEST = ZoneInfo("Europe/Budapest")
T0 = datetime(2026, 11, 2, 9, 17, tzinfo=UTC)
MIN = timedelta(minutes=1)
WINDOW = timedelta(hours=24)
BASE = Finding(ticket=TicketKey("VULN-1"), kind="overdue", title="t")

# (preset, class, handling hours) from ../shared/reference/standards.md §0 and §6
PRESET_DEADLINES = [
    ("etsi-319-401", "CRITICAL", 48),       # EN 319 401 REQ-7.9.2-09
    ("ncssr-v1", "CRITICAL", 96),           # NCSSR v1.7 4.f (CVSS v2 >= 7.0)
    ("ncssr-v1", "HIGH", 96),
    ("ncssr-v2", "CRITICAL", 96),           # CP/CPS 6.7 example: 96 h, 1, 3, 6 months
    ("ncssr-v2", "HIGH", 720),
    ("ncssr-v2", "MEDIUM", 2160),
    ("ncssr-v2", "LOW", 4320),
    ("pci-dss", "CRITICAL", 720),           # PCI DSS v4.0.1 6.3.3: one month
    ("etsi-319-401+ncssr-v1", "CRITICAL", 48),  # the strictest wins
    ("etsi-319-401+ncssr-v1", "HIGH", 96),
    ("pci-dss+ncssr-v2", "CRITICAL", 96),
]


def kinds(now: datetime, due: datetime | None, **kw: object) -> list[str]:
    args: dict[str, object] = {"state": "open", "resolved_at": None, **kw}
    return [f.kind for f in deadline_findings(BASE, due_at=due, now=now, due_soon=WINDOW,
                                              **args)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "cls", "hours"), PRESET_DEADLINES)
def test_preset_deadline_is_exact_to_the_minute(name: str, cls: str, hours: int) -> None:
    due = preset(name).deadline(cls, T0)
    assert due == T0 + timedelta(hours=hours)
    assert kinds(due - MIN, due) == ["due_soon"]
    assert kinds(due, due) == ["due_soon"]          # met at exactly due_at
    assert kinds(due + MIN, due) == ["overdue"]     # not rounded to a day
    assert kinds(due - WINDOW - MIN, due) == []


@pytest.mark.parametrize("name", ["etsi-319-401", "pci-dss"])
def test_classes_without_a_clock_have_no_deadline(name: str) -> None:
    assert preset(name).deadline("MEDIUM", T0) is None
    assert preset(name).deadline("INFORMATIVE", T0) is None
    assert kinds(T0 + timedelta(days=400), None) == []


@pytest.mark.parametrize(("local", "due_local"), [
    # spring forward: 2026-03-29 02:00 CET -> 03:00 CEST; 48 h of calendar time = 49 h on the wall
    (datetime(2026, 3, 28, 10, 0, tzinfo=BUDAPEST), "2026-03-30T11:00:00+02:00"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=BUDAPEST), "2026-03-31T02:30:00+02:00"),
    # fall back: 2026-10-25 03:00 CEST -> 02:00 CET; 48 h = 47 h on the wall
    (datetime(2026, 10, 24, 10, 0, tzinfo=BUDAPEST), "2026-10-26T09:00:00+01:00"),
    (datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BUDAPEST), "2026-10-27T02:30:00+01:00"),
])
def test_48_hours_across_dst_are_48_elapsed_hours(local: datetime, due_local: str) -> None:
    due = preset("etsi-319-401").deadline("CRITICAL", local.astimezone(UTC))
    assert due is not None
    assert (due - local).total_seconds() == 48 * 3600
    assert due.astimezone(BUDAPEST).isoformat() == due_local
    assert kinds(due, due) == ["due_soon"] and kinds(due + MIN, due) == ["overdue"]


def test_an_outcome_before_the_deadline_meets_it() -> None:
    due = T0 + timedelta(hours=48)
    later = due + timedelta(days=3)
    assert kinds(later, due, outcome_at=due, outcome_kind="mitigation_plan") == []
    assert kinds(later, due, outcome_at=due + MIN, outcome_kind="mitigation_plan") == ["late"]
    # resolved in time: met; resolved late without an outcome before the deadline: late
    assert kinds(later, due, state="resolved", resolved_at=due, outcome_at=due) == []
    assert kinds(later, due, state="resolved", resolved_at=due + MIN,
                 outcome_at=due + MIN) == ["late"]
    assert kinds(later, due, state="resolved", resolved_at=due + MIN, outcome_at=T0,
                 outcome_kind="no_remediation") == []


def test_resolved_without_outcome_is_no_outcome() -> None:
    due = T0 + timedelta(hours=48)
    assert kinds(due, due, state="resolved", resolved_at=T0, needs_outcome=True) == [
        "no_outcome"]
    assert kinds(due + MIN, due, state="resolved", resolved_at=due + MIN,
                 needs_outcome=True) == ["no_outcome", "late"]
    assert kinds(due, None, state="resolved", resolved_at=T0, needs_outcome=True) == [
        "no_outcome"]
    assert kinds(due, None, state="resolved", resolved_at=T0, needs_outcome=False) == []


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def _findings(store: Store, policy_name: str, now: datetime) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in results.check(store, preset(policy_name), now).findings:
        out.setdefault(f.ticket, set()).add(f.kind)
    return out


def test_store_joins_outcomes_and_resolutions(store: Store) -> None:
    crit = ("Vulnerability", "CRITICAL")
    store.upsert_tickets([
        make_ticket("VULN-1", labels=crit, created=T0),
        make_ticket("VULN-2", labels=crit, created=T0),
        make_ticket("VULN-3", labels=crit, created=T0, resolved=T0 + timedelta(hours=1),
                    resolution="Fixed", status="Resolved"),
        make_ticket("VULN-4", labels=("Vulnerability", "HIGH"), created=T0,
                    resolved=T0 + timedelta(hours=1), resolution="Duplicate",
                    status="Resolved"),
        make_ticket("VULN-5", labels=crit, created=T0, resolved=T0 + timedelta(hours=50),
                    resolution="Done", status="Resolved"),
    ], at=T0)
    outcomes.record(store, "VULN-2", "mitigation_plan", text="WAF rule", actor="mso",
                    at=T0 + timedelta(hours=47))
    found = _findings(store, "etsi-319-401", T0 + timedelta(hours=72))
    assert found == {"VULN-1": {"overdue"}, "VULN-4": {"no_outcome"}, "VULN-5": {"late"}}
    # an outcome recorded after the deadline turns overdue into late
    outcomes.record(store, "VULN-1", "no_remediation", reason="false_positive",
                    text="module not deployed", actor="mso", at=T0 + timedelta(hours=73))
    found = _findings(store, "etsi-319-401", T0 + timedelta(hours=74))
    assert found["VULN-1"] == {"late"}


def test_ticket_keeps_the_deadline_of_the_policy_at_discovery(store: Store) -> None:
    store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"),
                                      created=T0)], at=T0)
    engine.refresh(store, preset("pci-dss"), now=T0)          # 720 h in force
    later = T0 + timedelta(days=10)
    policy = preset("etsi-319-401")                               # 48 h from then on
    engine.refresh(store, policy, now=later - timedelta(hours=1))
    store.upsert_tickets([make_ticket("VULN-2", labels=("Vulnerability", "CRITICAL"),
                                      created=later)], at=later)
    result = results.check(store, policy, later + timedelta(hours=49))
    overdue = {f.ticket for f in result.findings if f.kind == "overdue"}
    assert overdue == {"VULN-2"}                                  # VULN-1 keeps 720 h
    rows = {v.ticket: v.due_at for v in results.vulnerabilities(store, policy, later)}
    assert rows["VULN-1"] == T0 + timedelta(hours=720)
    assert rows["VULN-2"] == later + timedelta(hours=48)
    with store.reading() as conn:
        changes = [e.payload for e in store_events.iter_events(conn) if e.kind == "policy_change"]
    assert [c["digest"] for c in changes] == [preset("pci-dss").digest(), policy.digest()]
    assert changes[1]["previous"] == changes[0]["digest"]
    assert changes[1]["deadlines_hours"]["CRITICAL"] == 48


def test_a_late_ticket_without_outcome_is_listed_once_per_kind(store: Store) -> None:
    # matches both the deadline query and the no-outcome query of collect: read once
    store.upsert_tickets([
        make_ticket("VULN-9", labels=("Vulnerability", "CRITICAL"), created=T0,
                    resolved=T0 + timedelta(hours=50), resolution="Duplicate",
                    status="Resolved"),
    ], at=T0)
    result = results.check(store, preset("etsi-319-401"), T0 + timedelta(hours=72))
    assert sorted(f.kind for f in result.findings) == ["late", "no_outcome"]
