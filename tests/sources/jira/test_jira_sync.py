"""``run_sync`` against the emulator: completeness, request economy, incremental windows,
resume after a crash, gone detection, malformed data — and every exchange checked against the
official OpenAPI document."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared_data import apache_pages, jira_spec
from vulnmark.sources.files.jira_json import ticket_from_jira
from vulnmark.sources.jira.settings import JiraResponseError, JiraSettings
from vulnmark.sources.jira.sync import GONE_REASON, STATE_KEY, run_sync
from vulnmark.store import Store
from vulnmark.testing import JiraEmulator, spec
from vulnmark.testing.transports import KillAfter, Killed

SITE = "https://example.atlassian.net"


def settings(flavour: str = "cloud", jql: str = "project = VULN", **kw: Any) -> JiraSettings:
    return JiraSettings(url=SITE, jql=jql, flavour=flavour,  # type: ignore[arg-type]
                        email="sec@example.org", token="t0ken", **kw)


def sync(store: Store, emu: JiraEmulator, s: JiraSettings, **kw: Any) -> Any:
    return run_sync(store, s, transport=httpx.ASGITransport(app=emu), **kw)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(f"sqlite:///{tmp_path / 'v.db'}") as st:
        yield st


def assert_store_equals_emulator(store: Store, emu: JiraEmulator, keys: Any = None) -> None:
    expected_keys = set(keys if keys is not None else emu.issues)
    assert store.ticket_keys(source="jira") == expected_keys
    for key in sorted(expected_keys):
        want = ticket_from_jira(emu.full_issue(key), base_url=SITE, source="jira")
        got = store.get_ticket(key)
        assert got == want, key


def test_cloud_first_sync_is_complete_at_minimum_cost(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=50)
    emu.generate(230, many_comments_every=40)  # 6 issues with 45 comments and 45 changes
    r = sync(store, emu, settings())
    assert r.issues == 230 and r.inserted == 230 and r.pages == 5
    # one request per page + per truncated issue one comment page and one changelog page
    assert r.extra_requests == 6 * 2
    assert r.requests == 5 + 12
    assert emu.request_count == r.requests
    assert_store_equals_emulator(store, emu)
    t = store.get_ticket("VULN-1")
    assert t is not None and len(t.comments) == 45 and len(t.label_history) == 45
    # only the fields vulnmark reads were asked for
    body = json.loads(emu.exchanges[0].body)
    assert "*all" not in body["fields"] and "summary" in body["fields"]
    assert body["expand"] == "changelog"


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_sync_keeps_reporter_and_assignee_with_their_addresses(store: Store,
                                                               flavour: str) -> None:
    emu = JiraEmulator(flavour=flavour)
    emu.generate(12)
    sync(store, emu, settings(flavour))
    search = next(x for x in emu.exchanges if "/search" in x.path)
    asked = json.loads(search.body)["fields"] if search.body else search.query
    assert "assignee" in asked and "reporter" in asked
    tickets = [store.get_ticket(f"VULN-{i}") for i in range(1, 13)]
    assigned = [t for t in tickets if t is not None and t.assignee]
    assert len(assigned) == 8  # every third issue is unassigned
    for t in assigned:
        raw = emu.full_issue(t.key)["fields"]["assignee"]
        assert t.assignee == raw["displayName"]
        assert t.assignee_id == raw.get("accountId", raw.get("name"))
        assert t.assignee_email == raw.get("emailAddress")
    assert {t.reporter_email for t in tickets if t is not None} > {None}
    assert_store_equals_emulator(store, emu)


def test_cloud_hydration_lists_ids_then_fetches_pages_concurrently(store: Store) -> None:
    emu = JiraEmulator(latency=0.005)
    emu.generate(730, many_comments_every=100)
    killer = KillAfter(httpx.ASGITransport(app=emu), limit=4, match="/bulkfetch")
    with pytest.raises(Killed):
        run_sync(store, settings(hydrate=True, concurrency=2), transport=killer)
    assert 0 < len(store.ticket_keys(source="jira")) < 730
    emu.exchanges.clear()
    r = sync(store, emu, settings(hydrate=True))
    assert r.resumed
    assert_store_equals_emulator(store, emu)
    with Store.open("sqlite://") as fresh:
        emu.exchanges.clear()
        r = sync(fresh, emu, settings(hydrate=True))
        # one id page (up to 5000) + one bulkfetch per 100 issues + 2 pages per cut issue
        assert r.requests == 1 + 8 + 8 * 2 and r.extra_requests == 16
        assert_store_equals_emulator(fresh, emu)
    ids_only = json.loads(emu.exchanges[0].body)
    assert ids_only["fields"] == ["id"] and ids_only["maxResults"] == 5000
    _, problems = spec.check(spec.load(jira_spec()), emu.exchanges)
    assert problems == []


def test_datacenter_pages_by_the_size_the_server_returns(store: Store) -> None:
    emu = JiraEmulator(flavour="datacenter", dc_page_cap=37)
    emu.generate(200)
    r = sync(store, emu, settings("datacenter", page_size=500))
    assert r.pages == math.ceil(200 / 37) and r.requests == r.pages
    assert_store_equals_emulator(store, emu)
    starts = sorted(json.loads(e.body)["startAt"] for e in emu.exchanges)
    assert starts == list(range(0, 200, 37))


def test_datacenter_completes_cut_comments_and_changelog(store: Store) -> None:
    emu = JiraEmulator(flavour="datacenter", dc_truncates=True)
    emu.generate(40, many_comments_every=20)
    r = sync(store, emu, settings("datacenter"))
    assert r.extra_requests == 2 * 2  # a comment page and a GET issue?expand=changelog each
    assert_store_equals_emulator(store, emu)
    paths = {e.path for e in emu.exchanges}
    assert "/rest/api/2/issue/VULN-1/comment" in paths and "/rest/api/2/issue/VULN-1" in paths
    _, problems = spec.check(spec.load(jira_spec()), emu.exchanges)
    assert problems == []


def test_datacenter_issue_deleted_mid_sync_shifts_no_issue_out(store: Store) -> None:
    """Deleting an issue already read shifts later startAt offsets by one; without repair the
    issue on the next page boundary would be skipped for good."""
    def delete_early(emu: JiraEmulator, path: str, n: int) -> None:
        if n == 3:
            emu.delete("VULN-2")

    emu = JiraEmulator(flavour="datacenter", dc_page_cap=10, on_request=delete_early)
    emu.generate(50)
    r = sync(store, emu, settings("datacenter", concurrency=1))
    assert store.ticket_keys(source="jira") == set(emu.issues) | {"VULN-2"}
    assert r.issues >= 49
    full = sync(store, emu, settings("datacenter"), full=True)
    assert full.gone == 1 and store.ticket_keys(source="jira") == set(emu.issues)


def test_flavour_auto_detects_from_server_info(store: Store) -> None:
    for flavour in ("cloud", "datacenter"):
        emu = JiraEmulator(flavour=flavour)  # type: ignore[arg-type]
        emu.generate(3)
        r = sync(store, emu, settings("auto"), full=True)
        assert r.flavour == flavour
        assert emu.exchanges[0].path == "/rest/api/2/serverInfo"


def test_incremental_sync_reads_only_what_changed(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=50)
    emu.generate(300)
    first = sync(store, emu, settings())
    emu.touch(["VULN-7", "VULN-250", "VULN-300"])
    emu.exchanges.clear()
    second = sync(store, emu, settings())
    assert second.since is not None and second.issues == 3 and second.updated == 3
    assert second.requests == 1 and first.requests == 6
    jql = json.loads(emu.exchanges[0].body)["jql"]
    assert 'updated >= "-' in jql and jql.endswith("ORDER BY created ASC, key ASC")
    assert_store_equals_emulator(store, emu)


def test_resume_after_kill_has_no_gap_and_no_duplicate(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=40)
    emu.generate(400, many_comments_every=90)
    killer = KillAfter(httpx.ASGITransport(app=emu), limit=5)
    with pytest.raises(Killed):
        run_sync(store, settings(), transport=killer)
    stored = store.ticket_keys(source="jira")
    assert 0 < len(stored) < 400
    state = json.loads(store.get_state(STATE_KEY) or "{}")
    assert state["run"]["pages"] >= 3 and state["watermark"] is None
    emu.touch(["VULN-3"])  # changed during the outage: picked up by the next incremental
    emu.exchanges.clear()
    r = sync(store, emu, settings())
    assert r.resumed and r.issues < 400
    assert r.pages <= 10 - state["run"]["pages"] + 1  # stored pages are not fetched again
    assert store.ticket_keys(source="jira") == set(emu.issues)  # no gap
    assert store.count_tickets() == 400  # no duplicate
    stale = store.get_ticket("VULN-3")
    assert stale is not None and not stale.title.endswith("(edited)")
    nxt = sync(store, emu, settings())  # the run's start is the next window's start
    assert not nxt.resumed and nxt.since is not None and nxt.issues == 1
    assert_store_equals_emulator(store, emu)


def test_full_sync_records_deleted_and_out_of_scope_as_gone(store: Store) -> None:
    emu = JiraEmulator()
    emu.generate(20, labels=(("Sérülékenység",),))
    scope = 'project = VULN AND labels in ("Sérülékenység")'
    sync(store, emu, settings(jql=scope))
    emu.delete("VULN-4")
    emu.issues["VULN-5"].fields["labels"] = ["other"]
    emu.touch(["VULN-5"])
    inc = sync(store, emu, settings(jql=scope))
    assert inc.gone == 0 and "VULN-4" in store.ticket_keys(source="jira")
    r = sync(store, emu, settings(jql=scope), full=True)
    assert r.full and r.gone == 2 and r.issues == 18
    assert store.ticket_keys(source="jira") == set(emu.issues) - {"VULN-5"}
    assert store.get_ticket("VULN-4") is not None  # recorded, not dropped
    assert GONE_REASON.startswith("not returned by a full sync")


def test_resumed_full_sync_lists_keys_before_declaring_gone(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=10)
    emu.generate(50)
    sync(store, emu, settings())
    emu.delete("VULN-49")
    with pytest.raises(Killed):
        run_sync(store, settings(), full=True,
                 transport=KillAfter(httpx.ASGITransport(app=emu), limit=3))
    r = sync(store, emu, settings(), full=True)
    assert r.resumed and r.full and r.gone == 1
    assert store.ticket_keys(source="jira") == set(emu.issues)


def test_retries_429_and_503_then_completes(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=20)
    emu.generate(100, many_comments_every=30)
    emu.inject(429, retry_after="0", times=2, path="/search")
    emu.inject(503, retry_after="0", at=4)
    emu.inject(429, reset="2000-01-01T00:00Z", path="/comment")
    r = sync(store, emu, settings())
    assert r.retries == 4 and r.issues == 100
    assert_store_equals_emulator(store, emu)


def test_malformed_issue_names_key_and_field_and_keeps_earlier_pages(store: Store) -> None:
    emu = JiraEmulator(cloud_page_cap=10)
    emu.generate(30)
    emu.issues["VULN-15"].fields["labels"] = ["fine", "not fine"]
    with pytest.raises(JiraResponseError, match=r"VULN-15.*labels\[1\]"):
        sync(store, emu, settings())
    assert len(store.ticket_keys(source="jira")) == 10
    emu.issues["VULN-15"].fields["labels"] = ["fixed"]
    r = sync(store, emu, settings())
    assert r.resumed
    assert_store_equals_emulator(store, emu)


def test_scope_change_starts_over(store: Store) -> None:
    emu = JiraEmulator()
    emu.generate(5)
    sync(store, emu, settings())
    r = sync(store, emu, settings(jql="project = VULN AND labels is not EMPTY"))
    assert r.since is None


def test_two_thousand_issues_with_real_apache_data_and_spec_check(store: Store) -> None:
    """2,000 issues (1,299 real Apache Jira issues plus synthetic ones), both flavours, with
    injected 429s and a crash: the store ends equal to the emulator, and every request and
    response of the run is valid against the official OpenAPI document."""
    openapi = spec.load(jira_spec())
    projects = "VULN, AMQ, HADOOP, HDFS, HIVE, MAPREDUCE, STORM, YARN, ZOOKEEPER"
    for flavour in ("cloud", "datacenter"):
        with Store.open("sqlite://") as st:
            emu = JiraEmulator(flavour=flavour, dc_page_cap=150)  # type: ignore[arg-type]
            assert emu.load_search_pages(apache_pages()) == 1299
            emu.generate(701, many_comments_every=100)
            emu.inject(429, retry_after="0", times=3, path="/search", at=3)
            s = settings(flavour, jql=f"project in ({projects})")
            with pytest.raises(Killed):
                run_sync(st, s, transport=KillAfter(httpx.ASGITransport(app=emu), limit=8))
            r = sync(st, emu, s)
            assert r.resumed
            assert_store_equals_emulator(st, emu)
            checked, problems = spec.check(openapi, emu.exchanges)
            assert problems == []
            assert checked >= len(emu.exchanges) - 3  # the injected 429s are not in the spec
