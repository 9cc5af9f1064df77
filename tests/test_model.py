"""Domain records: the JSON round trip of findings and the fast record builder."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from vulnmark.model import Evidence, Finding, TicketKey, filled, replaced

AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def test_a_finding_survives_its_json_form_field_for_field() -> None:
    finding = Finding(
        ticket=TicketKey("SEC-1"), kind="mismatch", title="Path traversal", url="https://x/1",
        labels=("Vulnerability", "LOW"), classification="LOW", suggested="HIGH",
        confidence=0.9, evidence=(Evidence("comment", "rated HIGH", 2),), due_at=AT,
        reporter="ann", created=AT, detail="labelled LOW but the text says HIGH")
    back = Finding.from_dict(finding.as_dict())
    assert back == finding
    assert set(vars(back)) == {f.name for f in fields(Finding)}
    assert set(vars(back.evidence[0])) == {f.name for f in fields(Evidence)}
    minimal = Finding.from_dict({"ticket": "SEC-2", "kind": "unclassified", "title": "t"})
    assert minimal == Finding(TicketKey("SEC-2"), "unclassified", "t")


def test_filled_records_stay_frozen() -> None:
    evidence = filled(Evidence, field="title", text="CVE-2026-1", index=None)
    assert evidence == Evidence("title", "CVE-2026-1")
    with pytest.raises(AttributeError):
        evidence.text = "changed"  # type: ignore[misc]


def test_replaced_is_dataclasses_replace() -> None:
    from dataclasses import replace

    base = Finding(TicketKey("SEC-3"), "unclassified", "t", labels=("Vulnerability",))
    assert replaced(base, kind="overdue", due_at=AT) == replace(base, kind="overdue", due_at=AT)
    with pytest.raises(TypeError, match="no field kindd"):
        replaced(base, kindd="overdue")
