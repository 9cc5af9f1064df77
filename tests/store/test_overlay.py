"""The re-import overlay on a real SQLite file and a real PostgreSQL database: labels vulnmark
applied to a source's ticket survive a source observation that lacks them, are cleared (and
recorded) when the source shows them, and give way when a person takes the source's labels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core_support import make_ticket
from vulnmark.check import results
from vulnmark.config.presets import preset
from vulnmark.model import LabelChange, Ticket
from vulnmark.sources import embedded
from vulnmark.store import Store, overlay
from vulnmark.store import events as store_events
from vulnmark.store import tickets as store_tickets
from vulnmark.triage.source_labels import accept_source_labels

AT = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
SOURCE_TIME = datetime(2010, 2, 24, 3, 53, 21, tzinfo=UTC)
POLICY = preset("etsi-319-401")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def _jira(key: str = "AMQ-1", labels: tuple[str, ...] = (), **kw: Any) -> Ticket:
    return make_ticket(key, labels=labels, source="jira", updated=SOURCE_TIME,
                       title="Broker auth bypass", **kw)


def _relabel(store: Store, key: str, *, add: tuple[str, ...] = (),
             remove: tuple[str, ...] = (), at: datetime = AT) -> None:
    with store.transaction() as conn:
        t = store.get_ticket(key)
        assert t is not None
        embedded.relabel(conn, t, add=add, remove=remove, by="mso", at=at, via="backfill")


def _kinds(store: Store) -> list[str]:
    with store.reading() as conn:
        return [e.kind for e in store_events.iter_events(conn)]


def _payloads(store: Store, kind: str) -> list[dict[str, object]]:
    with store.reading() as conn:
        return [e.payload for e in store_events.iter_events(conn) if e.kind == kind]


def test_a_reimport_keeps_what_vulnmark_applied_and_the_check_says_so(store: Store) -> None:
    store.upsert_tickets([_jira()], at=AT, actor="import", from_source=True)
    _relabel(store, "AMQ-1", add=("Vulnerability", "HIGH"))
    later = AT + timedelta(hours=1)
    counts = store.upsert_tickets([_jira()], at=later, actor="import", from_source=True)
    t = store.get_ticket("AMQ-1")
    assert t is not None and set(t.labels) == {"Vulnerability", "HIGH"}
    assert counts.updated == 1
    # the same file again changes nothing more
    again = store.upsert_tickets([_jira()], at=later, actor="import", from_source=True)
    assert (again.updated, again.unchanged) == (0, 1)
    kept = _payloads(store, "overlay_kept")
    assert kept == [{"ticket": "AMQ-1", "kept": ["HIGH", "Vulnerability"], "withheld": [],
                     "via": "jira", "source_at": "2010-02-24T03:53:21.000000Z"}]
    found = results.check(store, POLICY, later).findings
    diverged = [f for f in found if f.kind == "source_diverged"]
    assert [f.ticket for f in diverged] == ["AMQ-1"]
    assert diverged[0].classification == "HIGH"
    assert "the source lacks HIGH, Vulnerability" in diverged[0].detail
    assert [e.field for e in diverged[0].evidence] == ["label", "label"]
    assert "backfill, mso" in diverged[0].evidence[0].text
    assert [v.ticket for v in results.vulnerabilities(store, POLICY, later)] == ["AMQ-1"]
    assert store.verify_evidence().ok


def test_the_source_showing_the_label_clears_it_with_a_record(store: Store) -> None:
    store.upsert_tickets([_jira()], at=AT, from_source=True)
    _relabel(store, "AMQ-1", add=("Vulnerability", "HIGH"))
    store.upsert_tickets([_jira(labels=("Vulnerability",))], at=AT, from_source=True)
    with store.reading() as conn:
        assert [e.label for e in overlay.entries(conn)["AMQ-1"]] == ["HIGH"]
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH"))], at=AT, from_source=True)
    with store.reading() as conn:
        assert overlay.entries(conn) == {}
    cleared = _payloads(store, "overlay_cleared")
    assert [(c["added"], c["removed"]) for c in cleared] == [(["Vulnerability"], []),
                                                              (["HIGH"], [])]
    assert not [f for f in results.check(store, POLICY, AT).findings
                if f.kind == "source_diverged"]


def test_a_label_vulnmark_removed_stays_off_until_the_source_drops_it(store: Store) -> None:
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH", "LOW"))], at=AT,
                         from_source=True)
    _relabel(store, "AMQ-1", remove=("LOW",))
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH", "LOW"))], at=AT,
                         from_source=True)
    t = store.get_ticket("AMQ-1")
    assert t is not None and t.labels == ("Vulnerability", "HIGH")
    f = next(f for f in results.check(store, POLICY, AT).findings
             if f.kind == "source_diverged")
    assert "the source still has LOW" in f.detail
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH"))], at=AT, from_source=True)
    with store.reading() as conn:
        assert overlay.entries(conn) == {}


def test_adding_back_a_removed_label_leaves_nothing_kept(store: Store) -> None:
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH"))], at=AT, from_source=True)
    _relabel(store, "AMQ-1", remove=("HIGH",))
    _relabel(store, "AMQ-1", add=("HIGH",))
    with store.reading() as conn:
        assert overlay.entries(conn) == {}


def test_accepting_the_source_labels_restores_them_and_records_who(store: Store) -> None:
    store.upsert_tickets([_jira(labels=("Vulnerability", "LOW"))], at=AT, from_source=True)
    _relabel(store, "AMQ-1", add=("HIGH",), remove=("LOW",))
    store.upsert_tickets([_jira(labels=("Vulnerability", "LOW"))], at=AT, from_source=True)
    done = accept_source_labels(store, by="mso", at=AT + timedelta(hours=2))
    assert [(a.ticket, a.dropped, a.restored) for a in done] == [("AMQ-1", ("HIGH",),
                                                                   ("LOW",))]
    t = store.get_ticket("AMQ-1")
    assert t is not None and set(t.labels) == {"Vulnerability", "LOW"}
    assert _payloads(store, "source_labels_accepted") == [
        {"ticket": "AMQ-1", "dropped": ["HIGH"], "restored": ["LOW"], "by": "mso"}]
    with store.reading() as conn:
        assert overlay.entries(conn) == {}
        record = [e for e in store_events.iter_events(conn)
                  if e.kind == "source_labels_accepted"][0]
    assert record.recorded_by  # the OS user, beside "by"
    # the next import is as the source has it: nothing is kept any more
    store.upsert_tickets([_jira(labels=("Vulnerability", "LOW"))], at=AT, from_source=True)
    t = store.get_ticket("AMQ-1")
    assert t is not None and set(t.labels) == {"Vulnerability", "LOW"}
    assert store.verify_evidence().ok


def test_tracker_tickets_keep_nothing_over_a_source(store: Store) -> None:
    t = embedded.create(store, title="OCSP", labels=("Vulnerability",), by="ann", at=AT,
                        prefix="VULN")
    embedded.label(store, t.key, add=("HIGH",), by="ann", at=AT)
    with store.reading() as conn:
        assert overlay.entries(conn) == {}


def test_an_import_with_a_tracker_tickets_key_keeps_the_trackers_labels(store: Store) -> None:
    embedded.create(store, title="OCSP", labels=("Vulnerability", "HIGH"), by="ann", at=AT,
                    prefix="VULN", key="VULN-1")
    store.upsert_tickets([make_ticket("VULN-1", source="jsonl", labels=("Vulnerability",))],
                         at=AT, from_source=True)
    t = store.get_ticket("VULN-1")
    assert t is not None and set(t.labels) == {"Vulnerability", "HIGH"}
    with store.reading() as conn:
        assert [(e.label, e.via) for e in overlay.entries(conn)["VULN-1"]] == [
            ("HIGH", "embedded")]


def test_a_source_with_its_own_history_gets_vulnmarks_change_in_it(store: Store) -> None:
    history = (LabelChange(SOURCE_TIME, "jira-user", ("Vulnerability",), ()),)
    store.upsert_tickets([_jira(labels=("Vulnerability",), label_history=history)], at=AT,
                         from_source=True)
    _relabel(store, "AMQ-1", add=("HIGH",))
    store.upsert_tickets([_jira(labels=("Vulnerability",), label_history=history)],
                         at=AT + timedelta(hours=1), from_source=True)
    t = store.get_ticket("AMQ-1")
    assert t is not None and t.labels == ("Vulnerability", "HIGH")
    assert [(h.author, h.added) for h in t.label_history] == [
        ("jira-user", ("Vulnerability",)), ("mso", ("HIGH",))]


def test_a_label_change_seen_in_a_source_is_dated_when_seen(store: Store) -> None:
    store.upsert_tickets([_jira(labels=("Vulnerability", "HIGH"))], at=AT, from_source=True)
    seen = AT + timedelta(days=3)
    store.upsert_tickets([_jira(labels=("Vulnerability",))], at=seen, from_source=True)
    change = _payloads(store, "label_change")[-1]
    assert change["observed_at"] == "2026-12-05T06:00:00.000000Z"
    assert change["source_at"] == "2010-02-24T03:53:21.000000Z"
    assert change["v"] == 3
    with store.reading() as conn:
        rows = store_tickets.label_changes(conn, seen, seen + timedelta(days=1))
    assert [(r["recorded_at"], r["at"], r["removed"]) for r in rows] == [
        ("2026-12-05T06:00:00.000000Z", "2010-02-24T03:53:21.000000Z", ["HIGH"])]
