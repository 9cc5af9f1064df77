"""``vulnmark backfill``: proposals with evidence, the JSON/CSV review round trip, the
confidence threshold, idempotence, and the evidence log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.store import Store
from vulnmark.store import events as store_events


@pytest.fixture
def tickets(vm: Cli) -> Cli:
    vm.ok("ticket", "new", "--key", "B-1", "--title", "OCSP responder issue",
          "--label", "Vulnerability")
    vm.ok("ticket", "comment", "B-1", "After review this is rated HIGH.")
    vm.ok("ticket", "new", "--key", "B-2", "--title", "Unlabelled", "--label", "LOW")
    vm.ok("ticket", "new", "--key", "B-3", "--title", "log4j CVE-2021-44228 on the TSA")
    vm.ok("ticket", "new", "--key", "B-4", "--title", "Nothing to see",
          "--label", "Vulnerability", "--label", "MEDIUM")
    return vm


def backfill_events(vm: Cli) -> list[dict[str, object]]:
    with Store.open(vm.db_url) as store, store.reading() as conn:
        return [e.payload for e in store_events.iter_events(conn) if e.kind == "backfill"]


def labels(vm: Cli, key: str) -> list[str]:
    return json.loads(vm.ok("ticket", "show", key, "--format", "json").stdout)["labels"]


def test_dry_run_lists_proposals_grouped_by_confidence_and_writes_nothing(tickets: Cli) -> None:
    out = tickets.ok("backfill").stdout
    assert "high confidence" in out and "low confidence" in out
    assert "rated HIGH" in out  # the evidence
    assert "dry run" in out
    assert labels(tickets, "B-1") == ["Vulnerability"]
    assert backfill_events(tickets) == []


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_review_round_trip_applies_only_accepted_rows_once(tickets: Cli, tmp_path: Path,
                                                           fmt: str) -> None:
    review = tmp_path / f"review.{fmt}"
    tickets.ok("backfill", "--format", fmt, "-o", str(review))
    text = review.read_text(encoding="utf-8")
    if fmt == "json":
        rows = json.loads(text)
        assert {r["ticket"] for r in rows} == {"B-1", "B-2", "B-3"}
        b1 = next(r for r in rows if r["ticket"] == "B-1")
        assert b1["add"] == ["HIGH"] and b1["evidence"][0]["field"] == "comment"
        assert b1["evidence"][0]["index"] == 0
        for r in rows:
            r["accept"] = "yes" if r["ticket"] in ("B-1", "B-2") else "no"
        review.write_text(json.dumps(rows), encoding="utf-8")
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["ticket"] for r in rows} == {"B-1", "B-2", "B-3"}
        for r in rows:
            r["accept"] = "yes" if r["ticket"] in ("B-1", "B-2") else ""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        review.write_text(out.getvalue(), encoding="utf-8")

    assert "applied 2 labels to 2 tickets" in tickets.ok("backfill", "--accept",
                                                         str(review)).stdout
    assert labels(tickets, "B-1") == ["Vulnerability", "HIGH"]
    assert labels(tickets, "B-2") == ["LOW", "Sérülékenység"]
    assert labels(tickets, "B-3") == []  # rejected
    events = backfill_events(tickets)
    assert {e["ticket"] for e in events} == {"B-1", "B-2"}
    b1 = next(e for e in events if e["ticket"] == "B-1")
    assert b1["evidence"] and "rated HIGH" in str(b1["evidence"])
    assert str(b1["reviewed"]).startswith("review.")

    again = tickets.ok("backfill", "--accept", str(review)).stdout
    assert "applied 0 labels to 0 tickets (2 already had them)" in again
    assert len(backfill_events(tickets)) == 2
    assert tickets.ok("evidence", "verify").exit_code == 0


def test_apply_with_a_threshold_is_idempotent(tickets: Cli) -> None:
    first = tickets.ok("backfill", "--apply", "--min-confidence", "0.9").stdout
    assert "applied 2 labels to 2 tickets" in first  # B-2 (1.00) and B-1 (0.90); not B-3 (0.50)
    assert labels(tickets, "B-3") == []
    second = tickets.ok("backfill", "--apply", "--min-confidence", "0.9").stdout
    assert "applied 0 labels to 0 tickets" in second
    check = json.loads(tickets.ok("check", "--format", "json").stdout)
    kinds = {(f["ticket"], f["kind"]) for f in check["findings"]}
    assert ("B-1", "unclassified") not in kinds and ("B-2", "unmarked") not in kinds
    assert ("B-3", "suspected") in kinds


def test_a_bad_review_file_names_the_line_and_changes_nothing(tickets: Cli,
                                                              tmp_path: Path) -> None:
    review = tmp_path / "review.csv"
    review.write_text("ticket,add,accept\nB-1,HIGH,yes\nB-2,Sérülékenység extra-label,yes\n"
                      "B-3,,yes\n", encoding="utf-8")
    result = tickets("backfill", "--accept", str(review))
    assert result.exit_code == 2
    assert "review.csv" in result.stderr and "line 4" in result.stderr
    assert labels(tickets, "B-1") == ["Vulnerability"]
    assert backfill_events(tickets) == []
