"""``intake run``: one classified ticket per matching publication, once; later changes become
comments and proposals, never silent label changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake_support import cve, write_nvd
from vulnmark.config.load import from_mapping
from vulnmark.errors import FeedError, IntakeError
from vulnmark.evidence.events import IntakeOpened, IntakeUpdated, read
from vulnmark.intake.feeds import NvdFeed
from vulnmark.intake.run import Intake, IntakeOptions, read_feed
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.store import intake as records

NOW = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
CONFIG = from_mapping({"intake": {"vendors": ["OpenSSL"], "watch": [
    {"name": "pki", "keywords": ["OCSP"], "owner": "pki-team", "labels": ["pki"]}]}})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'v.db'}")


def _run(store: Store, path: Path, *, now: datetime = NOW, dry: bool = False) -> object:
    return Intake(store, CONFIG, IntakeOptions(dry_run=dry)).run(
        read_feed("nvd", path), feed="nvd", now=now)


def _events(store: Store, kind: str) -> list[object]:
    with store.reading() as conn:
        return [read(r) for r in store_events.iter_events(conn) if r.kind == kind]


def test_opens_one_classified_ticket_per_publication_once(store: Store, tmp_path: Path) -> None:
    path = write_nvd(tmp_path / "a.json", [
        cve(1), cve(2, score=9.8, severity="CRITICAL"),
        cve(3, description="An OCSP responder flaw in OpenSSL.", score=None),
        cve(4, description="Nothing we run.")])
    path4 = cve(4, description="Nothing we run.")
    path4["configurations"] = []
    write_nvd(path, [cve(1), cve(2, score=9.8, severity="CRITICAL"),
                     cve(3, description="An OCSP responder flaw in OpenSSL.", score=None),
                     path4])
    first = _run(store, path)
    assert first.matched == 3 and len(first.opened) == 3  # type: ignore[attr-defined]
    t1, t2, t3 = (store.get_ticket(k) for k in first.opened)  # type: ignore[attr-defined]
    assert t1 is not None and t2 is not None and t3 is not None
    assert t1.labels == ("Sérülékenység", "HIGH") and t2.labels == ("Sérülékenység", "CRITICAL")
    assert t3.labels == ("Sérülékenység", "pki")  # unrated: the check reports it unclassified
    assert "vendor 'OpenSSL'" in t1.comments[0].body and "CVSS:3.1/" in t1.description
    with store.reading() as conn:
        r3 = records.find(conn, ["CVE-2026-0003"])
    assert r3 is not None and r3.owner == "pki-team" and r3.published_class is None
    assert t3.assignee == "pki-team" and t1.assignee is None  # the watch entry's owner
    opened = _events(store, "intake_opened")
    assert [e.ticket for e in opened if isinstance(e, IntakeOpened)] == first.opened  # type: ignore[attr-defined]
    again = _run(store, path)
    assert again.opened == [] and again.unchanged == 3  # type: ignore[attr-defined]
    assert store.count_tickets() == 3


def test_a_rescoring_is_a_proposal_with_evidence_not_a_label_change(
        store: Store, tmp_path: Path) -> None:
    first = _run(store, write_nvd(tmp_path / "a.json", [cve(1)]))
    key = first.opened[0]  # type: ignore[attr-defined]
    later = write_nvd(tmp_path / "b.json", [cve(1, score=9.8, severity="CRITICAL",
                                               modified="2026-11-04T00:00:00.000")])
    result = _run(store, later)
    assert result.updated == [key] and result.proposals == [f"{key}: CRITICAL"]  # type: ignore[attr-defined]
    ticket = store.get_ticket(key)
    assert ticket is not None and "HIGH" in ticket.labels and "CRITICAL" not in ticket.labels
    assert "proposed reclassification to CRITICAL" in ticket.comments[-1].body
    [update] = _events(store, "intake_update")
    assert isinstance(update, IntakeUpdated)
    assert (update.previous, update.published, update.proposed) == ("HIGH", "CRITICAL",
                                                                    "CRITICAL")
    with store.reading() as conn:
        r = records.find(conn, ["CVE-2026-0001"])
    assert r is not None and r.proposed_class == "CRITICAL"
    assert _run(store, later).unchanged == 1  # type: ignore[attr-defined]


def test_a_rejected_cve_closes_nothing_silently(store: Store, tmp_path: Path) -> None:
    key = _run(store, write_nvd(tmp_path / "a.json", [cve(1)])).opened[0]  # type: ignore[attr-defined]
    _run(store, write_nvd(tmp_path / "b.json", [cve(1, status="Rejected")]))
    ticket = store.get_ticket(key)
    assert ticket is not None and ticket.state == "open" and "HIGH" in ticket.labels
    assert "rejected at the source" in ticket.comments[-1].body
    [update] = _events(store, "intake_update")
    assert isinstance(update, IntakeUpdated) and update.rejected
    fresh = _run(store, write_nvd(tmp_path / "c.json", [cve(2, status="Rejected")]))
    assert fresh.opened == [] and "rejected" in fresh.skipped[0]  # type: ignore[attr-defined]


def test_kev_escalates_and_its_due_date_shortens_the_clock(store: Store, tmp_path: Path) -> None:
    low = cve(1, score=3.1, severity="LOW")
    key = _run(store, write_nvd(tmp_path / "a.json", [low])).opened[0]  # type: ignore[attr-defined]
    with store.reading() as conn:
        before = records.find(conn, ["CVE-2026-0001"])
    assert before is not None and before.assess_due_at is not None
    _run(store, write_nvd(tmp_path / "b.json", [{**low, **cve(1, score=3.1, severity="LOW",
                                                              kev_due="2026-11-04")}]))
    with store.reading() as conn:
        after = records.find(conn, ["CVE-2026-0001"])
    assert after is not None and after.kev_due == "2026-11-04"
    assert after.proposed_class == "HIGH"  # KEV raises LOW to HIGH: a proposal
    assert after.assess_due_at == min(before.assess_due_at,
                                      datetime(2026, 11, 5, tzinfo=UTC))
    ticket = store.get_ticket(key)
    assert ticket is not None and "LOW" in ticket.labels


def test_dry_run_and_a_bad_record_write_nothing(store: Store, tmp_path: Path) -> None:
    path = write_nvd(tmp_path / "a.json", [cve(1), cve(2)])
    dry = _run(store, path, dry=True)
    assert dry.opened == ["CVE-2026-0001", "CVE-2026-0002"]  # type: ignore[attr-defined]
    assert store.count_tickets() == 0
    bad = write_nvd(tmp_path / "b.json", [cve(3), {**cve(4), "published": "soon"}])
    with pytest.raises(FeedError, match="record CVE-2026-0004: field published"):
        _run(store, bad)
    assert store.count_tickets() == 0
    with pytest.raises(IntakeError, match=r"no \[intake\] table"):
        Intake(store, from_mapping({}))


def test_a_crash_mid_batch_resumes_without_duplicates(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_nvd(tmp_path / "a.json", [cve(n) for n in range(1, 9)])
    real = records.insert
    calls = {"n": 0}

    def crash_on_the_fifth(conn: object, r: records.IntakeRecord) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # the process dies inside the fifth transaction
        real(conn, r)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "insert", crash_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        _run(store, path)
    assert store.count_tickets() == 4  # the fifth ticket went with its record
    monkeypatch.setattr(records, "insert", real)
    resumed = _run(store, path)
    assert len(resumed.opened) == 4 and resumed.unchanged == 4  # type: ignore[attr-defined]
    with store.reading() as conn:
        keys = sorted(r.ticket for r in records.iter_records(conn))
    assert len(keys) == len(set(keys)) == 8 and store.count_tickets() == 8


def test_aliases_join_feeds_into_one_ticket(store: Store, tmp_path: Path) -> None:
    import json

    key = _run(store, write_nvd(tmp_path / "a.json", [cve(1)])).opened[0]  # type: ignore[attr-defined]
    osv = tmp_path / "GHSA-1.json"
    osv.write_text(json.dumps({
        "id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-0001"],
        "modified": "2026-11-04T00:00:00Z",
        "summary": "OpenSSL flaw", "details": "OpenSSL reads memory.",
        "severity": [{"type": "CVSS_V3",
                      "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}),
        encoding="utf-8")
    result = Intake(store, CONFIG).run(read_feed("osv", osv), feed="osv", now=NOW)
    assert result.opened == [] and result.updated == [key]
    with store.reading() as conn:
        r = records.find(conn, ["GHSA-aaaa-bbbb-cccc"])
    assert r is not None and r.ticket == key and "GHSA-aaaa-bbbb-cccc" in r.aliases
    assert r.published_class == "HIGH"  # the NVD's score still comes first


def test_real_nvd_records_get_their_own_class(store: Store) -> None:
    import gzip
    import json

    from shared_data import data

    path = data("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    result = Intake(store, CONFIG).run(NvdFeed().read(path), feed="nvd", now=NOW)
    assert len(result.opened) > 30
    with gzip.open(path, "rb") as f:
        raw = {v["cve"]["id"]: v["cve"] for v in json.load(f)["vulnerabilities"]}
    with store.reading() as conn:
        found = list(records.iter_records(conn))
    for r in found:
        ticket = store.get_ticket(r.ticket)
        assert ticket is not None
        primary = [m for m in raw[r.id]["metrics"].get("cvssMetricV30", [])
                   if m["type"] == "Primary"]
        if primary and "KEV" not in r.basis:
            assert primary[0]["cvssData"]["baseSeverity"] in ticket.labels, r.id
    again = Intake(store, CONFIG).run(NvdFeed().read(path), feed="nvd", now=NOW)
    assert again.opened == [] and again.unchanged == len(found)


def test_every_event_reads_back(store: Store, tmp_path: Path) -> None:
    _run(store, write_nvd(tmp_path / "a.json", [cve(1)]))
    [opened] = _events(store, "intake_opened")
    assert isinstance(opened, IntakeOpened) and opened.cls == "HIGH"
    assert replace(opened) == opened and opened.inserted == 1
