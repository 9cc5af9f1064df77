"""ParallelReader returns exactly what sequential ``read`` returns, on real ticket texts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from vulnmark.classify import read
from vulnmark.model import Comment, Reading, Ticket
from vulnmark.parallel import ParallelReader
from vulnmark.policy import Policy, preset
from vulnmark.sources.files import load_file

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "jira_apache_issues"


@pytest.fixture(scope="module")
def jira_tickets() -> list[Ticket]:
    """The 1,299 Apache Jira issues, the later ones given comments taken from other issues
    (quoted, empty and worded ones) so every segment kind crosses the process boundary."""
    tickets = [t for page in sorted(DATA.glob("search_page_*.json")) for t in load_file(page)]
    assert len(tickets) > 1000
    out = []
    for i, t in enumerate(tickets):
        if i % 3 == 0:
            donor = tickets[(i * 7 + 11) % len(tickets)]
            comments = (
                Comment(donor.description[:400], "someone"),
                Comment(""),  # empty bodies keep their index in the evidence
                Comment("> quoted: Severity: High\nReclassified to MEDIUM after review."),
            )
            t = replace(t, comments=comments)
        out.append(t)
    return out


def _inference_policy(priority_is_severity: bool) -> Policy:
    section = {"priority_is_severity": priority_is_severity,
               "patterns": [{"regex": r"P1 security", "class": "CRITICAL"}]}
    base = preset("etsi-319-401")
    return replace(base, sections=(*base.sections, ("inference", json.dumps(section))))


@pytest.mark.parametrize("policy", [
    preset("etsi-319-401"), _inference_policy(True),
], ids=["preset", "priority-and-patterns"])
def test_read_many_equals_sequential_read(jira_tickets: list[Ticket], policy: Policy) -> None:
    expected = [read(t, policy) for t in jira_tickets]
    assert any(r.suggested for r in expected)
    assert sum(1 for r in expected if r.signals) > 50
    with ParallelReader(policy, workers=2, chunk=97, min_parallel=10) as reader:
        got = reader.read_many(jira_tickets)
        again = reader.read_many(jira_tickets[:300])  # the pool is reused
    assert got == expected
    assert again == expected[:300]


def test_priority_counts_only_when_the_policy_says_so(jira_tickets: list[Ticket]) -> None:
    policy = _inference_policy(True)
    with ParallelReader(policy, workers=1, min_parallel=1) as reader:
        got = reader.read_many(jira_tickets)
    from_priority = [r for r in got if r.evidence and r.evidence[0].field == "label"]
    assert from_priority, "the Jira priorities must reach the workers"
    assert all(r.evidence[0].text.startswith("priority: ") for r in from_priority)


def test_small_pages_and_zero_workers_read_in_process(jira_tickets: list[Ticket]) -> None:
    policy = preset("etsi-319-401")
    few = jira_tickets[:20]
    reader = ParallelReader(policy, workers=2, min_parallel=50)
    assert reader.read_many(few) == [read(t, policy) for t in few]
    assert reader._pool is None  # no pool was started for a small page
    assert reader.read_many([]) == []
    reader.close()
    inline = ParallelReader(policy, workers=0, min_parallel=0)
    assert inline.read_many(jira_tickets[:200]) == [read(t, policy) for t in jira_tickets[:200]]
    assert inline._pool is None


def test_empty_readings_come_back_empty(jira_tickets: list[Ticket]) -> None:
    policy = preset("etsi-319-401")
    with ParallelReader(policy, workers=1, min_parallel=1, chunk=50) as reader:
        got = reader.read_many(jira_tickets[:400])
    assert Reading() in got
    assert all(isinstance(r, Reading) for r in got)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="workers"):
        ParallelReader(preset("etsi-319-401"), workers=-1)
    with pytest.raises(ValueError, match="chunk"):
        ParallelReader(preset("etsi-319-401"), chunk=0)
    with pytest.raises(ValueError, match="start_method"):
        ParallelReader(preset("etsi-319-401"), start_method="teleport")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_other_start_methods(jira_tickets: list[Ticket], method: str) -> None:
    policy = _inference_policy(True)
    page = jira_tickets[:400]
    with ParallelReader(policy, workers=1, min_parallel=1, start_method=method) as reader:
        assert reader.read_many(page) == [read(t, policy) for t in page]


def test_submit_reads_pages_ahead(jira_tickets: list[Ticket]) -> None:
    policy = preset("etsi-319-401")
    pages = [jira_tickets[:500], jira_tickets[500:1000], jira_tickets[1000:]]
    expected = [[read(t, policy) for t in page] for page in pages]
    with ParallelReader(policy, workers=1, chunk=128, min_parallel=100) as reader:
        pending = [reader.submit(page) for page in pages]  # all in flight at once
        assert [p.result() for p in pending] == expected
        assert pending[0].result() is pending[0].result()  # collected once
    inline = ParallelReader(policy, workers=0)
    assert inline.submit(pages[0]).result() == expected[0]
