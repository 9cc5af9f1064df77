"""The pure rules of check.py: each finding kind with positive and negative cases, and the exact
deadline boundaries."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from core_support import make_ticket
from vulnmark.check.infer import read
from vulnmark.check.rules import deadline_findings, marking, marking_findings
from vulnmark.config.presets import preset
from vulnmark.model import Evidence, Finding, Reading, Ticket, TicketKey

P = preset("etsi-319-401")
NFD = unicodedata.normalize("NFD", "Sérülékenység")
NOTHING = Reading()
SAYS_HIGH = Reading("HIGH", 0.9, (Evidence("comment", "rated HIGH", 2),))
SIGNAL = Reading(signals=(Evidence("title", "CVE-2026-1234"),))


def kinds(t: Ticket, reading: Reading = NOTHING) -> list[str]:
    return [f.kind for f in marking_findings(t, P, reading)]


# -- marking kinds with stated readings --------------------------------------------------------

@pytest.mark.parametrize(("labels", "expected"), [
    (("Sérülékenység",), ["unclassified"]),
    (("Vulnerability",), ["unclassified"]),
    (("Vulnerability", "bug", "ops"), ["unclassified"]),
    (("Sérülékenység", "HIGH"), []),
    (("Sérülékenység", "MAGAS"), []),
    (("Vulnerability", "INFORMATÍV"), []),
    (("Sérülékenység", "HIGH", "LOW"), ["conflicting"]),
    (("Sérülékenység", "KRITIKUS", "MAGAS"), ["conflicting"]),
    (("Sérülékenység", "HIGH", "MAGAS"), []),  # two forms of one class are not a conflict
    (("HIGH",), ["unmarked"]),
    (("ALACSONY", "bug"), ["unmarked"]),
    (("HIGH", "LOW"), ["conflicting", "unmarked"]),
    ((), []),
    (("bug", "security"), []),
])
def test_marking_kinds(labels: tuple[str, ...], expected: list[str]) -> None:
    assert kinds(make_ticket(labels=labels)) == expected


def test_unclassified_carries_the_suggestion_and_its_evidence() -> None:
    (f,) = marking_findings(make_ticket(labels=("Vulnerability",), reporter="ann"), P, SAYS_HIGH)
    assert f.kind == "unclassified" and f.classification is None
    assert (f.suggested, f.confidence) == ("HIGH", 0.9)
    assert f.evidence == (Evidence("comment", "rated HIGH", 2),)
    assert f.reporter == "ann" and f.due_at is None


def test_suggestion_outside_the_policy_is_dropped() -> None:
    (f,) = marking_findings(make_ticket(labels=("Vulnerability",)), P,
                            Reading("SEVERE", 0.9, (Evidence("title", "severe"),)))
    assert f.suggested is None and f.confidence is None and f.evidence == ()


def test_conflicting_has_no_classification_and_names_the_classes() -> None:
    (f,) = marking_findings(make_ticket(labels=("Vulnerability", "LOW", "CRITICAL")), P, NOTHING)
    assert f.kind == "conflicting" and f.classification is None
    assert "CRITICAL, LOW" in f.detail


def test_unmarked_classification_gets_its_deadline() -> None:
    t = make_ticket(labels=("CRITICAL",))
    (f,) = marking_findings(t, P, NOTHING)
    assert f.kind == "unmarked" and f.classification == "CRITICAL"
    assert f.due_at == t.created + timedelta(hours=48)


# -- suspected ---------------------------------------------------------------------------------

def test_suspected_only_without_any_marking() -> None:
    assert kinds(make_ticket(), SIGNAL) == ["suspected"]
    assert kinds(make_ticket(labels=("Vulnerability", "HIGH")), SIGNAL) == []
    assert kinds(make_ticket(labels=("Vulnerability",)), SIGNAL) == ["unclassified"]
    assert kinds(make_ticket(labels=("HIGH",)), SIGNAL) == ["unmarked"]
    assert kinds(make_ticket(), NOTHING) == []


def test_suspected_evidence_lists_the_signals_first() -> None:
    (f,) = marking_findings(make_ticket(), P, Reading("HIGH", 0.8,
                            (Evidence("comment", "rated HIGH", 0),), SIGNAL.signals))
    assert f.kind == "suspected" and f.suggested == "HIGH"
    assert [e.field for e in f.evidence] == ["title", "comment"]


@pytest.mark.parametrize("text", [
    "Upgrade libfoo for CVE-2024-3094",
    "See GHSA-jfh8-c2jp-5v3q for details",
    "Remote code execution in the OCSP responder",
    "Sérülékenység a CRL-elosztóban",
])
def test_real_reader_flags_unmarked_vulnerability_text(text: str) -> None:
    t = make_ticket(title=text)
    assert kinds(t, read(t, P)) == ["suspected"]


@pytest.mark.parametrize("text", ["Update the README", "Rename the OCSP config option",
                                  "Frissítsd a dokumentációt"])
def test_real_reader_leaves_ordinary_tickets_alone(text: str) -> None:
    t = make_ticket(title=text)
    assert kinds(t, read(t, P)) == []


# -- noncanonical ------------------------------------------------------------------------------

@pytest.mark.parametrize(("labels", "odd"), [
    ((NFD, "HIGH"), [NFD]),
    (("Sérülékenység", "high"), ["high"]),
    (("vulnerability", "magas"), ["vulnerability", "magas"]),
    (("Sérülékenység", "közepes"), ["közepes"]),
])
def test_noncanonical_labels_are_accepted_and_reported(labels: tuple[str, ...],
                                                       odd: list[str]) -> None:
    t = make_ticket(labels=labels)
    found = marking_findings(t, P, NOTHING)
    assert [f.kind for f in found] == ["noncanonical"] * len(odd)
    assert [f.evidence[0].text for f in found] == odd
    assert all(f.evidence[0].field == "label" for f in found)
    # accepted: the ticket is classified, not unclassified
    assert marking(t, P).classification is not None


@pytest.mark.parametrize("labels", [
    ("Sérülékenység", "HIGH"), ("Vulnerability", "KRITIKUS"), ("Sérülékenység", "KÖZEPES"),
    ("Sérülékenység", "ALACSONY"), ("Sérülékenység", "INFORMATÍV"),
    ("Sérülékenység", "MAGAS"),
])
def test_exact_forms_are_not_noncanonical(labels: tuple[str, ...]) -> None:
    assert "noncanonical" not in kinds(make_ticket(labels=labels))


# -- mismatch ----------------------------------------------------------------------------------

def test_mismatch_when_text_states_another_class() -> None:
    (f,) = marking_findings(make_ticket(labels=("Vulnerability", "LOW")), P, SAYS_HIGH)
    assert f.kind == "mismatch" and f.classification == "LOW" and f.suggested == "HIGH"
    assert f.evidence[0].index == 2


def test_no_mismatch_when_text_agrees_or_is_silent() -> None:
    assert kinds(make_ticket(labels=("Vulnerability", "HIGH")), SAYS_HIGH) == []
    assert kinds(make_ticket(labels=("Vulnerability", "MAGAS")), SAYS_HIGH) == []
    assert kinds(make_ticket(labels=("Vulnerability", "LOW")), NOTHING) == []


def test_real_reader_mismatch_from_a_cvss_vector() -> None:
    t = make_ticket(labels=("Vulnerability", "LOW"),
                    comments=("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",))
    reading = read(t, P)
    assert reading.suggested == "CRITICAL"
    (f,) = marking_findings(t, P, reading)
    assert f.kind == "mismatch"
    assert any(e.field == "comment" and e.index == 0 for e in f.evidence)


def test_real_reader_mismatch_from_a_hungarian_statement() -> None:
    t = make_ticket(labels=("Sérülékenység", "LOW"), comments=("ok", "besorolás: magas"))
    reading = read(t, P)
    assert reading.suggested == "HIGH"
    assert kinds(t, reading) == ["mismatch"]


# -- deadlines ---------------------------------------------------------------------------------

CREATED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
DUE = CREATED + timedelta(hours=48)
BASE = Finding(ticket=TicketKey("VULN-1"), kind="overdue", title="t", classification="CRITICAL")
SOON = timedelta(hours=24)


def deadline_kinds(now: datetime, *, state: str = "open", resolved: datetime | None = None,
                   due: datetime | None = DUE) -> list[str]:
    return [f.kind for f in deadline_findings(BASE, state=state, due_at=due,
                                              resolved_at=resolved, now=now, due_soon=SOON)]


def test_etsi_critical_is_due_at_exactly_48_hours() -> None:
    t = make_ticket(labels=("Sérülékenység", "CRITICAL"), created=CREATED)
    assert P.deadline(marking(t, P).classification, t.discovered_at) == DUE


@pytest.mark.parametrize(("offset", "expected"), [
    (timedelta(0), []),
    (timedelta(hours=23, minutes=59, seconds=59), []),
    (timedelta(hours=24), ["due_soon"]),
    (timedelta(hours=47, minutes=59, seconds=59), ["due_soon"]),
    (timedelta(hours=48), ["due_soon"]),  # met at exactly the deadline
    (timedelta(hours=48, seconds=1), ["overdue"]),
    (timedelta(days=30), ["overdue"]),
])
def test_open_ticket_deadline_boundaries(offset: timedelta, expected: list[str]) -> None:
    assert deadline_kinds(CREATED + offset) == expected


def test_overdue_carries_the_deadline_and_how_late() -> None:
    (f,) = deadline_findings(BASE, state="open", due_at=DUE, resolved_at=None,
                             now=DUE + timedelta(hours=25, minutes=3), due_soon=SOON)
    assert f.due_at == DUE and f.detail == "open 1 d 1 h past its deadline"


@pytest.mark.parametrize(("resolved_offset", "expected"), [
    (timedelta(hours=1), []),
    (timedelta(hours=48), []),
    (timedelta(hours=48, seconds=1), ["late"]),
    (timedelta(days=10), ["late"]),
])
def test_resolved_ticket_is_late_only_after_its_deadline(resolved_offset: timedelta,
                                                         expected: list[str]) -> None:
    now = CREATED + timedelta(days=60)
    assert deadline_kinds(now, state="resolved", resolved=CREATED + resolved_offset) == expected


def test_no_deadline_means_no_deadline_findings() -> None:
    assert deadline_kinds(CREATED + timedelta(days=999), due=None) == []
    assert deadline_kinds(CREATED + timedelta(days=999), state="resolved",
                          resolved=CREATED + timedelta(days=998), due=None) == []


def test_due_soon_window_zero_only_flags_overdue() -> None:
    found = deadline_findings(BASE, state="open", due_at=DUE, resolved_at=None,
                              now=DUE - timedelta(seconds=1), due_soon=timedelta(0))
    assert found == []


@pytest.mark.parametrize("title", [
    "Wildcard subscriptions bypass Authentication / Authorization",  # AMQ-5160
    "CVE-2015-5182 Severity:High CVSS Score: 6.8",                    # AMQ-7019
])
def test_suspected_evidence_has_no_duplicates(title: str) -> None:
    t = make_ticket(title=title)
    (f,) = marking_findings(t, P, read(t, P))
    keys = [(e.field, e.index, e.text) for e in f.evidence]
    assert len(keys) == len(set(keys)), keys
