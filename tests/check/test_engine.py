"""Evaluation over a real store (SQLite and PostgreSQL): only changed tickets are re-read,
findings at an instant come from the cache, policy changes re-evaluate everything."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core_support import make_ticket
from vulnmark._time import stored
from vulnmark.check import cache, engine, results
from vulnmark.check.infer import read
from vulnmark.config.outcomes import OutcomeRules
from vulnmark.config.policy import Policy
from vulnmark.config.presets import preset
from vulnmark.model import Comment, Reading, Ticket
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.triage import outcomes

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
P = preset("etsi-319-401")


class Counting:
    """The real reader, recording which tickets it was asked to read."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, t: Ticket, policy: Policy) -> Reading:
        self.keys.append(t.key)
        return read(t, policy)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def many(n: int) -> list[Ticket]:
    out = []
    for i in range(n):
        labels = [(), ("Vulnerability",), ("Sérülékenység", "HIGH"), ("LOW",)][i % 4]
        out.append(make_ticket(f"T-{i:04d}", title=f"ticket {i}", labels=labels))
    return out


def kinds(result: results.CheckResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result.findings:
        out.setdefault(f.ticket, []).append(f.kind)
    return out


def test_changing_one_of_n_reevaluates_exactly_one(store: Store) -> None:
    tickets = many(40)
    store.upsert_tickets(tickets, at=NOW)
    first = Counting()
    assert engine.refresh(store, P, reader=first) == 40
    assert sorted(first.keys) == [t.key for t in tickets]

    idle = Counting()
    assert engine.refresh(store, P, reader=idle) == 0 and idle.keys == []

    # an import of the same data changes nothing
    store.upsert_tickets(tickets, at=NOW)
    assert engine.refresh(store, P, reader=Counting()) == 0

    changed = replace(tickets[17], comments=(Comment("rated HIGH"),))
    store.upsert_tickets([changed], at=NOW)
    one = Counting()
    assert engine.refresh(store, P, reader=one) == 1
    assert one.keys == ["T-0017"]


def test_findings_follow_the_change(store: Store) -> None:
    t = make_ticket("T-1", labels=("Vulnerability",))
    store.upsert_tickets([t], at=NOW)
    assert kinds(results.check(store, P, NOW)) == {"T-1": ["unclassified"]}
    store.upsert_tickets([replace(t, labels=("Vulnerability", "HIGH"))], at=NOW)
    assert kinds(results.check(store, P, NOW)) == {}


def test_a_policy_change_reevaluates_everything(store: Store) -> None:
    store.upsert_tickets(many(12), at=NOW)
    engine.refresh(store, P)
    other = preset("ncssr-v1")
    assert engine.refresh(store, other, reader=Counting()) == 12
    assert engine.refresh(store, other, reader=Counting()) == 0


def test_a_policy_change_applies_to_tickets_discovered_after_it(store: Store) -> None:
    # CRITICAL: 48 h under ETSI, 96 h under NCSSR v1
    old = make_ticket("C-1", labels=("Vulnerability", "CRITICAL"),
                      created=NOW - timedelta(hours=60))
    store.upsert_tickets([old], at=NOW)
    assert kinds(results.check(store, P, NOW)) == {"C-1": ["overdue"]}
    ncssr = preset("ncssr-v1")
    later = NOW + timedelta(hours=1)
    # the ticket discovered under ETSI keeps its 48 h deadline
    (f,) = results.check(store, ncssr, later).findings
    assert (f.kind, f.due_at) == ("overdue", old.created + timedelta(hours=48))
    new = make_ticket("C-2", labels=("Vulnerability", "CRITICAL"),
                      created=later + timedelta(hours=1))
    store.upsert_tickets([new], at=later)
    at = new.created + timedelta(hours=48, seconds=1)  # overdue under ETSI, not under NCSSR
    assert kinds(results.check(store, ncssr, at)).get("C-2") is None
    at = new.created + timedelta(hours=96, seconds=1)
    assert kinds(results.check(store, ncssr, at))["C-2"] == ["overdue"]
    with store.reading() as conn:
        changes = [e for e in store_events.iter_events(conn) if e.kind == "policy_change"]
    assert [e.payload["digest"] for e in changes] == [P.digest(), ncssr.digest()]
    assert store.verify_evidence().ok


def test_deadline_findings_move_with_now_without_reevaluating(store: Store) -> None:
    created = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    store.upsert_tickets([make_ticket("C-2", labels=("Sérülékenység", "KRITIKUS"),
                                      created=created)], at=NOW)
    engine.refresh(store, P)
    due = created + timedelta(hours=48)
    assert kinds(results.collect(store, P, due - timedelta(hours=24, seconds=1))) == {}
    assert kinds(results.collect(store, P, due - timedelta(hours=24))) == {"C-2": ["due_soon"]}
    assert kinds(results.collect(store, P, due)) == {"C-2": ["due_soon"]}
    over = results.collect(store, P, due + timedelta(seconds=1))
    assert kinds(over) == {"C-2": ["overdue"]}
    assert over.findings[0].due_at == due
    assert engine.refresh(store, P, reader=Counting()) == 0


def test_discovery_time_starts_the_clock(store: Store) -> None:
    created = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    store.upsert_tickets([make_ticket(
        "C-3", labels=("Sérülékenység", "CRITICAL"), created=created,
        discovered=created - timedelta(days=5))], at=NOW)
    (f,) = results.check(store, P, NOW).findings
    assert f.kind == "overdue" and f.due_at == created - timedelta(days=3)


def test_summary_counts(store: Store) -> None:
    store.upsert_tickets(many(8), at=NOW)
    result = results.check(store, P, NOW)
    assert result.tickets == 8 and result.vulnerabilities == 6
    assert result.by_class["HIGH"] == 2 and result.by_class["LOW"] == 2
    assert result.by_class["unclassified"] == 2
    assert result.by_kind["unclassified"] == 2 and result.by_kind["unmarked"] == 2


def test_gone_tickets_drop_out(store: Store) -> None:
    store.upsert_tickets([make_ticket("G-1", labels=("Vulnerability",)),
                          make_ticket("G-2", labels=("Vulnerability",))], at=NOW)
    assert set(kinds(results.check(store, P, NOW))) == {"G-1", "G-2"}
    store.mark_gone(["G-1"], at=NOW, reason="deleted at the source")
    assert set(kinds(results.check(store, P, NOW))) == {"G-2"}
    assert store.verify_evidence().ok


def test_more_than_one_batch(store: Store) -> None:
    store.upsert_tickets(many(30), at=NOW)
    assert engine.refresh(store, P, options=engine.CheckOptions(batch=7)) == 30
    result = results.collect(store, P, NOW)
    assert result.tickets == 30
    assert result.by_kind["unclassified"] == 8 and result.by_kind["unmarked"] == 7


def test_vulnerabilities_listing(store: Store) -> None:
    store.upsert_tickets(many(8), at=NOW)
    engine.refresh(store, P)
    rows = results.vulnerabilities(store, P, NOW)
    assert [r.ticket for r in rows] == ["T-0001", "T-0002", "T-0003", "T-0005", "T-0006",
                                        "T-0007"]
    high = results.vulnerabilities(store, P, NOW, results.Filters(classes=frozenset({"HIGH"})))
    assert [r.classification for r in high] == ["HIGH", "HIGH"]


def test_rows_of_unmarked_tickets_keep_discovery_and_recorded_outcomes(store: Store) -> None:
    plain = make_ticket("U-1")
    found_earlier = make_ticket("U-2", discovered=NOW - timedelta(days=9))
    closed = make_ticket("U-3")
    store.upsert_tickets([plain, found_earlier, closed], at=NOW)
    outcomes.record(store, "U-3", "remediated", at=NOW, text="patched")
    with store.reading() as conn:
        context = engine.Context(P, read, engine.PolicyVersions(), OutcomeRules(), None)
        rows = engine.page_rows(conn, [plain, found_earlier, closed], context)
    created = stored(plain.created)
    assert rows[0] == ("U-1", 0, None, "open", created, None, None, 0, "", created, None,
                       None, None)
    assert rows[1][9] == stored(NOW - timedelta(days=9))
    assert rows[2][11:] == (stored(NOW), "remediated")  # the outcome is kept on an unmarked one


def test_refresh_restores_the_garbage_collector_settings(store: Store) -> None:
    before = gc.get_threshold()
    store.upsert_tickets(many(5), at=NOW)
    assert engine.refresh(store, P) == 5
    assert gc.get_threshold() == before
    with engine.fewer_collections():
        assert gc.get_threshold()[0] == engine.CheckOptions().gc_threshold
    assert gc.get_threshold() == before


def test_cached_findings_come_back_field_for_field() -> None:
    from vulnmark.check.rules import marking, marking_findings

    t = make_ticket("SEC-7", labels=("Vulnerability", "LOW"), url="https://jira/SEC-7",
                    description="Scored CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H here.",
                    comments=("rated CRITICAL after review",))
    m = marking(t, P)
    found = marking_findings(t, P, read(t, P), m)
    assert [f.kind for f in found] == ["mismatch"] and found[0].evidence
    common, back = cache.decode(t.key, cache.encode(t, m.classification, found))
    assert back == found
    base = cache.ticket_finding(common)
    assert (base.ticket, base.title, base.url, base.labels, base.classification,
            base.reporter, base.created) == (t.key, t.title, t.url, t.labels, "LOW",
                                              t.reporter, t.created)


def test_evaluations_cached_in_an_older_layout_are_redone(store: Store) -> None:
    store.upsert_tickets(many(4), at=NOW)
    assert engine.refresh(store, P) == 4
    stamp = store.get_state(engine.POLICY_STATE)
    assert stamp is not None and f" cache-{cache.FORMAT} " in stamp
    store.set_state(engine.POLICY_STATE, stamp.split(" cache-")[0])  # as vulnmark wrote it
    assert engine.refresh(store, P) == 4
    assert engine.refresh(store, P) == 0
