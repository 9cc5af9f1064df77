"""Typed evidence events: each kind's stored name and payload keys are the ones records were
written with before the kinds had classes (the hash chain covers old records), old records read
back as typed events, and a log mixing old and new records verifies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vulnmark.evidence import events as ev
from vulnmark.model import Evidence
from vulnmark.store import Store
from vulnmark.store import events as store_events

AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)

#: (event, stored kind, payload keys) as vulnmark wrote them before typed events (v1), except
#: label_change, whose one shape now carries "v": 3 (and "source_at" for a change seen in a
#: source).
CONTRACT = [
    (ev.TicketsImported("f.json", sha256="ab", tickets=3), "import",
     {"file", "sha256", "tickets", "inserted", "updated", "unchanged"}),
    (ev.TicketsImported("demo samples"), "import", {"file", "inserted", "updated", "unchanged"}),
    (ev.TicketCreated("VULN-1", "ann"), "ticket_created",
     {"ticket", "by", "inserted", "updated", "unchanged"}),
    (ev.TicketRelabelled("VULN-1", "ann"), "ticket_relabelled",
     {"ticket", "by", "inserted", "updated", "unchanged"}),
    (ev.TicketCommented("VULN-1", "ann"), "ticket_commented",
     {"ticket", "by", "inserted", "updated", "unchanged"}),
    (ev.TicketResolved("VULN-1", "ann"), "ticket_resolved",
     {"ticket", "by", "inserted", "updated", "unchanged"}),
    (ev.Reclassified("VULN-1", "LOW", "HIGH", "ann", "re-scored"), "reclassification",
     {"ticket", "from", "to", "by", "why", "inserted", "updated", "unchanged"}),
    (ev.LabelChanged("VULN-1", ("HIGH",), (), by="ann", via="embedded", observed_at=AT),
     "label_change", {"ticket", "added", "removed", "by", "via", "observed_at", "v"}),
    (ev.LabelChanged("AMQ-1", (), ("HIGH",), by="import", via="jira", observed_at=AT,
                     source_at=datetime(2010, 2, 24, tzinfo=UTC)),
     "label_change", {"ticket", "added", "removed", "by", "via", "observed_at", "v",
                      "source_at"}),
    (ev.LabelOverlayKept("AMQ-1", ("HIGH",), (), "jira", AT), "overlay_kept",
     {"ticket", "kept", "withheld", "via", "source_at"}),
    (ev.LabelOverlayCleared("AMQ-1", ("HIGH",), (), "jira", AT), "overlay_cleared",
     {"ticket", "added", "removed", "via", "source_at"}),
    (ev.SourceLabelsAccepted("AMQ-1", ("HIGH",), ("LOW",), "mso"), "source_labels_accepted",
     {"ticket", "dropped", "restored", "by"}),
    (ev.TicketsGone(("J-1",), "deleted"), "tickets_gone", {"tickets", "reason"}),
    (ev.JiraSynced("https://x", "project = X", "cloud", False, False, None, 1, 1, 0, 0, 0, 2),
     "jira_sync", {"site", "scope", "flavour", "full", "resumed", "since", "issues", "inserted",
                   "updated", "unchanged", "gone", "requests"}),
    (ev.BackfillApplied("VULN-1", ("HIGH",), "ann", "unclassified", 0.9,
                        (Evidence("comment", "rated HIGH", 2),), "review.csv:2"), "backfill",
     {"ticket", "added", "by", "kind", "confidence", "evidence", "reviewed"}),
    (ev.OutcomeRecorded("VULN-1", "remediated", None, "", "ann", AT), "outcome",
     {"ticket", "kind", "reason", "text", "by", "recorded_at"}),
    (ev.PolicyChanged("d" * 64, None, "etsi-319-401", {"CRITICAL": 48.0}, "UTC", 24.0),
     "policy_change",
     {"digest", "previous", "preset", "deadlines_hours", "timezone", "due_soon_hours"}),
    (ev.PolicyPagePublished("https://example.atlassian.net", "cloud", "SEC", "557001",
                            "Marking vulnerability tickets", 7, "d" * 64, "hu", "c" * 64),
     "policy_page",
     {"site", "flavour", "space", "page_id", "title", "version", "digest", "lang",
      "page_sha256"}),
    (ev.RunRecorded(1, "report", "d" * 64, {"tickets": 1}, "r" * 64), "run",
     {"run", "kind", "policy_digest", "counts", "report_digest"}),
    (ev.RunRecorded(2, "sync", "d" * 64, {}, None, "Jira 503"), "run",
     {"run", "kind", "policy_digest", "counts", "report_digest", "error"}),
    (ev.ReportDelivered(1, "<m@x>", "250 OK", ("a@x",), 1, AT), "delivery",
     {"run", "status", "message_id", "server_reply", "recipients", "attempts", "sent_at"}),
    (ev.ReportNotDelivered(1, "451 later", 3), "delivery", {"run", "status", "error", "attempts"}),
    (ev.PackExported("2026-11-01", "2026-12-01", "p.zip", 20, "m" * 64, "h" * 64),
     "evidence_export", {"from", "to", "output", "files", "manifest_sha256", "head"}),
    (ev.IntakeOpened("VULN-2", "CVE-2026-1", ("GHSA-x",), "nvd", "HIGH", "nvd 3.1 -> HIGH",
                     "intake: vendor 'OpenSSL'", None, "vulnmark-intake"), "intake_opened",
     {"ticket", "record", "aliases", "feed", "class", "basis", "matched", "owner", "by",
      "inserted", "updated", "unchanged"}),
    (ev.IntakeUpdated("VULN-2", "CVE-2026-1", "kev", ("added to KEV",), "LOW", "HIGH", "HIGH",
                      False, "vulnmark-intake"), "intake_update",
     {"ticket", "record", "feed", "changes", "from", "to", "proposed", "rejected", "by"}),
    (ev.IntakeAssessed("VULN-2", "CVE-2026-1", "reclassified", "MEDIUM", "HIGH", None,
                       "admin LAN only", "mso", AT, False), "assessment",
     {"ticket", "record", "verdict", "class", "from", "reason", "basis", "by", "due_at",
      "late"}),
    (ev.FindingDismissed("T-1", "suspected", "duplicate", "same as T-0", "ann", AT, "f" * 64),
     "dismissal", {"ticket", "kind", "reason", "why", "by", "until", "fingerprint"}),
    (ev.FindingDismissed("T-1", "suspected", "other", "x", "ann", None, "f" * 64),
     "dismissal", {"ticket", "kind", "reason", "why", "by", "until", "fingerprint"}),
    (ev.DismissalEnded("T-1", "suspected", "the ticket's text or labels changed", None),
     "dismissal_end", {"ticket", "kind", "why", "by"}),
    (ev.NoticeSent("alert", ("T-1",), ("short_deadline",), ("soc@x",), "<m@x>", ()),
     "notice", {"channel", "tickets", "reasons", "recipients", "message_id", "copied"}),
    (ev.IncidentChanged(1, "action_added", {"item": 1, "due": "2023-11-30"}, "mso"),
     "incident", {"incident", "change", "detail", "by"}),
    (ev.IncidentChanged(1, "action_changed", {"item": 1, "status": "DONE"}, "mso",
                        effective="2023-11-29", why="entered from the 2023 report"),
     "incident", {"incident", "change", "detail", "by", "effective", "why"}),
    (ev.HeadTimestamped(7, "h" * 64, "https://tsa.example", "MIIB", "2026-11-27T07:00:01Z",
                        run=3), "timestamp", {"seq", "head", "tsa", "token", "gen_time", "run"}),
    (ev.TimestampFailed(7, "h" * 64, "https://tsa.example", "HTTP 503"), "timestamp_failure",
     {"seq", "head", "tsa", "error"}),
]


@pytest.mark.parametrize(("event", "kind", "keys"), CONTRACT,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CONTRACT)])
def test_kind_and_payload_keys_are_the_contract(event: ev.Event, kind: str,
                                                keys: set[str]) -> None:
    assert event.kind == kind
    assert set(event.payload()) == keys


@pytest.mark.parametrize(("event", "kind", "keys"), CONTRACT,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CONTRACT)])
def test_a_stored_event_reads_back_as_itself(tmp_path: Path, event: ev.Event, kind: str,
                                             keys: set[str]) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        record = store.record(event, at=AT)
        assert ev.read(record) == event


def test_every_kind_is_registered() -> None:
    kinds = {c[1] for c in CONTRACT}
    assert kinds == set(ev.KINDS)


def test_both_old_label_change_shapes_read_as_version_1() -> None:
    store_shape = {"ticket": "T-1", "added": ["HIGH"], "removed": [], "by": "import",
                   "observed_at": "2026-11-27T07:00:00.000000Z", "via": "jira"}
    writeback_shape = {"ticket": "T-2", "added": ["HIGH"], "removed": [], "source": "jira",
                       "site": "https://x.atlassian.net", "actor": "mso"}
    a = ev.LabelChanged.from_payload(store_shape)
    b = ev.LabelChanged.from_payload(writeback_shape)
    assert (a.v, a.by, a.via, a.observed_at) == (1, "import", "jira", AT)
    assert (b.v, b.by, b.via, b.site, b.observed_at) == (1, "mso", "jira",
                                                         "https://x.atlassian.net", None)
    assert ev.LabelChanged("T-3", (), ("X",), by="a", via="jira").payload()["v"] == 3
    v2 = {**store_shape, "v": 2}  # version 2: observed_at was the source's time
    assert ev.LabelChanged.from_payload(v2).v == 2


def test_a_log_of_old_records_then_typed_ones_verifies(tmp_path: Path) -> None:
    """Records as the untyped writers wrote them (no "v", the write-back's keys), then typed
    ones: one chain, verified; every record reads back as a typed event."""
    old = [
        ("label_change", {"ticket": "T-1", "added": ["HIGH"], "removed": [], "by": "import",
                          "observed_at": "2026-11-27T07:00:00.000000Z", "via": "jira"}),
        ("label_change", {"ticket": "T-2", "added": ["HIGH"], "removed": [], "source": "jira",
                          "site": "https://x.atlassian.net", "actor": "mso"}),
        ("run", {"run": 1, "kind": "report", "policy_digest": "d", "counts": {},
                 "report_digest": None}),
        ("reclassification", {"ticket": "T-1", "from": "LOW", "to": "HIGH", "by": "ann",
                              "why": "x", "inserted": 0, "updated": 1, "unchanged": 0}),
    ]
    with Store.open(f"sqlite:///{tmp_path / 'mixed.db'}") as store:
        with store.transaction() as conn:
            for kind, payload in old:
                store_events.append(conn, kind, payload, AT)
        for event, _, _ in CONTRACT[:4]:
            store.record(event, at=AT)
        with store.reading() as conn:
            assert store_events.verify(conn).ok  # the chain (this run record has no row)
            records = list(store_events.iter_events(conn))
    typed = [ev.read(r) for r in records]
    assert all(t is not None for t in typed)
    assert isinstance(typed[1], ev.LabelChanged) and typed[1].by == "mso"
    assert isinstance(typed[3], ev.Reclassified) and typed[3].previous == "LOW"
