"""The embedded tracker's one relabel rule, used by the tracker, reclassify and backfill."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core_support import make_ticket
from vulnmark.errors import InputError, TicketNotFound
from vulnmark.evidence.events import TicketRelabelled
from vulnmark.sources import embedded
from vulnmark.store import Store
from vulnmark.store import events as store_events

AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def test_relabelled_removes_then_adds_and_records_the_change() -> None:
    t = make_ticket("E-1", labels=("Vulnerability", "HIGH", "LOW"))
    done = embedded.relabelled(t, add=("HIGH",), remove=("HIGH", "LOW"), by="ann", at=AT)
    assert done is not None
    new, change = done
    assert new.labels == ("Vulnerability", "HIGH")  # a class kept across remove + add
    assert (change.added, change.removed, change.author) == (("HIGH",), ("HIGH", "LOW"), "ann")
    assert new.label_history[-1] == change and new.updated == AT


def test_relabelled_adds_each_label_once_and_only_what_is_missing() -> None:
    t = make_ticket("E-2", labels=("HIGH",))
    new, change = embedded.relabelled(t, add=("HIGH", "Vulnerability", "Vulnerability"),
                                      by="a", at=AT) or (None, None)
    assert new is not None and change is not None
    assert new.labels == ("HIGH", "Vulnerability") and change.added == ("Vulnerability",)
    assert embedded.relabelled(new, add=("HIGH",), remove=("LOW",), by="a", at=AT) is None


def test_the_tracker_labels_through_the_store_with_evidence(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        t = embedded.create(store, title="OCSP", labels=["Vulnerability"], by="ann", at=AT,
                            prefix="CA")
        assert t.key == "CA-1"
        labelled = embedded.label(store, "CA-1", add=["HIGH"], by="bob", at=AT)
        assert labelled is not None and labelled.labels == ("Vulnerability", "HIGH")
        assert embedded.label(store, "CA-1", add=["HIGH"], by="bob", at=AT) is None
        with store.reading() as conn:
            kinds = [r.kind for r in store_events.iter_events(conn)]
            last = list(store_events.iter_events(conn))[-1]
        assert kinds == ["ticket_created", "label_change", "ticket_relabelled"]
        assert last.payload == TicketRelabelled("CA-1", "bob", updated=1).payload()
        with pytest.raises(TicketNotFound):
            embedded.label(store, "CA-9", add=["HIGH"], by="bob", at=AT)
        embedded.resolve(store, "CA-1", resolution="Fixed", by="ann", at=AT)
        with pytest.raises(InputError, match="already resolved"):
            embedded.resolve(store, "CA-1", resolution="Fixed", by="ann", at=AT)
