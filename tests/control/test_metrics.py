"""Metrics: exact numbers on a small store, period bounds, and chart escaping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest

from core_support import make_ticket
from vulnmark.check import engine
from vulnmark.config.presets import preset
from vulnmark.evidence.pack import charts
from vulnmark.model import LabelChange
from vulnmark.store import Store, metrics
from vulnmark.triage import outcomes

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    crit = ("Vulnerability", "CRITICAL")
    s.upsert_tickets([
        # classified 6 h after creation, remediated (resolution Fixed) after 30 h: met
        make_ticket("VULN-1", labels=crit, created=T0, resolved=T0 + 30 * H,
                    resolution="Fixed", status="Done",
                    label_history=(LabelChange(T0, "ann", ("Vulnerability",)),
                                   LabelChange(T0 + 6 * H, "mso", ("CRITICAL",)))),
        # labelled at creation; open, no outcome, past 48 h: missed
        make_ticket("VULN-2", labels=crit, created=T0),
        # created in November, still within its deadline at "now": pending
        make_ticket("VULN-3", labels=crit, created=datetime(2026, 11, 26, 20, tzinfo=UTC)),
        # HIGH has no clock under ETSI; outcome after 10 h
        make_ticket("VULN-4", labels=("Vulnerability", "HIGH"), created=T0),
        # not a vulnerability: not counted
        make_ticket("OTHER-1", created=T0),
        # outside the period
        make_ticket("VULN-5", labels=crit, created=datetime(2026, 9, 30, tzinfo=UTC)),
    ], at=T0)
    outcomes.record(s, "VULN-4", "no_remediation", reason="other", text="test system only",
                    at=T0 + 20 * H, effective=T0 + 10 * H, why="entered late")
    yield s
    s.close()


def test_metrics_by_class_and_month(store: Store) -> None:
    now = datetime(2026, 11, 27, 7, tzinfo=UTC)
    policy = preset("etsi-319-401")
    engine.refresh(store, policy, now=now)
    m = metrics.compute(store, datetime(2026, 10, 1, tzinfo=UTC),
                        datetime(2026, 12, 1, tzinfo=UTC), now)
    rows = {(r.month, r.classification): r for r in m.rows}
    assert set(rows) == {("2026-10", "CRITICAL"), ("2026-10", "HIGH"), ("2026-11", "CRITICAL")}
    oct_crit = rows[("2026-10", "CRITICAL")]
    assert (oct_crit.discovered, oct_crit.classified) == (2, 2)
    assert oct_crit.classify_hours_mean == 3.0 and oct_crit.classify_hours_max == 6.0
    assert (oct_crit.with_outcome, oct_crit.outcome_hours_mean) == (1, 30.0)
    assert (oct_crit.with_deadline, oct_crit.met, oct_crit.missed, oct_crit.pending) == (
        2, 1, 1, 0)
    assert oct_crit.share_within_deadline == 0.5
    nov = rows[("2026-11", "CRITICAL")]
    assert (nov.pending, nov.share_within_deadline) == (1, None)
    high = rows[("2026-10", "HIGH")]
    assert (high.with_deadline, high.outcome_hours_mean, high.backdated) == (0, 10.0, 1)
    assert oct_crit.backdated == 0
    [late] = metrics.backdated_outcomes(store, m.since, m.until)
    assert (late.ticket, late.why) == ("VULN-4", "entered late")
    [total_crit, total_high] = m.totals()
    assert (total_crit.classification, total_crit.discovered, total_crit.met) == (
        "CRITICAL", 3, 1)
    assert total_high.classification == "HIGH"
    d = m.as_dict()
    assert d["from"] == "2026-10-01T00:00:00.000000Z" and len(d["by_month"]) == 3
    assert metrics.baseline(store, m.since, m.until) == 3


def test_the_basis_of_a_pack_gives_the_same_metrics_as_the_sql_aggregate(store: Store) -> None:
    """An evidence pack carries one row per vulnerability (the basis) and recomputes its
    metrics from it in Python (so verify can): the same numbers as ``vulnmark metrics``."""
    since, until = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    for now in (datetime(2026, 10, 6, 7, tzinfo=UTC), datetime(2026, 11, 27, 7, tzinfo=UTC)):
        engine.refresh(store, preset("etsi-319-401"), now=now)
        rows = metrics.basis(store, since, until)
        assert {r["ticket"] for r in rows} == {"VULN-1", "VULN-2", "VULN-3", "VULN-4"}
        assert metrics.from_basis(rows, since, until, now) == metrics.compute(
            store, since, until, now)


def test_charts_escape_text_and_draw_bars() -> None:
    svg = charts.bar_chart("<b>&title", ["2026-10"], [("<x>", [50.0])], unit="%",
                           max_value=100.0)
    assert "<b>" not in svg and "&lt;b&gt;&amp;title" in svg and "&lt;x&gt;" in svg
    assert svg.count("<rect") == 3  # background, one bar, one legend square
    empty = charts.bar_chart("t", [], [])
    assert "no data in the period" in empty
    strip = charts.day_strip("days", [(date(2026, 11, 1), "delivered"),
                                      (date(2026, 11, 2), "missed")])
    assert "2026-11-02: missed" in strip
    for doc in (svg, empty, strip):
        ElementTree.fromstring(doc)  # well-formed XML: browsers refuse anything else
