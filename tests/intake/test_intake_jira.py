"""``intake run`` with ``intake.jira_project``: one Jira issue per vulnerability, created with
its labels, body and assignee, the match reason as a comment; once, also across a crash and
a response lost after Jira created the issue; later changes as comments and proposals; Jira's
refusals named. Through the CLI against the emulator on 127.0.0.1, every exchange checked
against the official OpenAPI document."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core_support import Cli
from intake_support import cve, write_nvd
from shared_data import jira_spec
from vulnmark.intake.jira import ID_LABEL
from vulnmark.store import Store
from vulnmark.store import intake as records
from vulnmark.testing import JiraEmulator, spec
from vulnmark.testing.server import serve_in_thread

EMAIL, TOKEN = "sec@example.org", "api-token-123"
ENV = {"JIRA_EMAIL": EMAIL, "JIRA_TOKEN": TOKEN}
OWNER = "5b10ac8d82e05b22cc7d4ef5"


@pytest.fixture(scope="module")
def openapi() -> Any:
    return spec.load(jira_spec())


def config(tmp_path: Path, url: str, *, project: str = "SEC", extra: str = "",
           owner: str = OWNER) -> Path:
    path = tmp_path / "vulnmark.toml"
    path.write_text(f"""{extra}
[source.jira]
url = "{url}"
jql = "project = {project}"

[intake]
vendors = ["OpenSSL"]
jira_project = "{project}"
jira_issue_type = "Bug"

[[intake.watch]]
name = "pki"
keywords = ["OCSP"]
owner = "{owner}"
labels = ["pki"]
""", encoding="utf-8")
    return path


def feed(tmp_path: Path, name: str = "a.json", **kw: Any) -> Path:
    return write_nvd(tmp_path / name, [
        cve(1, **kw), cve(2, score=9.8, severity="CRITICAL"),
        cve(3, description="An OCSP responder flaw in OpenSSL.", score=None)])


def created(emu: JiraEmulator) -> list[str]:
    return [json.loads(e.response)["key"] for e in emu.exchanges
            if e.method == "POST" and e.path.endswith("/issue") and e.status == 201]


def records_of(vm: Cli) -> dict[str, str]:
    with Store.open(vm.db_url) as store, store.reading() as conn:
        return {r.id: r.ticket for r in records.iter_records(conn)}


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_opens_one_jira_issue_per_record_with_labels_body_assignee_and_comment(
        vm: Cli, tmp_path: Path, openapi: Any, flavour: str) -> None:
    emu = JiraEmulator(flavour=flavour, auth={JiraEmulator.basic(EMAIL, TOKEN)},
                       users={OWNER})
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        out = vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV).output
        assert "opened 3" in out and f"in Jira {url}/browse/SEC-1" in out
        assert sorted(emu.issues) == ["SEC-1", "SEC-2", "SEC-3"]
        first = len(emu.exchanges)
        again = vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
        assert "opened 0" in again.output and "unchanged 3" in again.output
        assert len(emu.exchanges) == first  # a re-run sends nothing
        synced = vm.ok("sync", config=cfg, env=ENV).output
    assert "Synced 3 issues" in synced
    by_cve = records_of(vm)
    one = emu.full_issue(by_cve["CVE-2026-0001"])
    three = emu.full_issue(by_cve["CVE-2026-0003"])
    assert one["fields"]["labels"] == ["Sérülékenység", "HIGH", ID_LABEL + "CVE-2026-0001"]
    assert emu.full_issue(by_cve["CVE-2026-0002"])["fields"]["labels"][:2] == [
        "Sérülékenység", "CRITICAL"]
    assert three["fields"]["labels"] == ["Sérülékenység", "pki", ID_LABEL + "CVE-2026-0003"]
    assert one["fields"]["summary"].startswith("CVE-2026-0001: A flaw in OpenSSL")
    assert one["fields"]["issuetype"]["name"] == "Bug"
    assert "assignee" not in one["fields"]  # the vendor entry has no owner
    who = "accountId" if flavour == "cloud" else "name"
    assert three["fields"]["assignee"][who] == OWNER
    description = one["fields"]["description"]
    comment = one["fields"]["comment"]["comments"][0]["body"]
    if flavour == "cloud":
        assert description["type"] == "doc" and comment["type"] == "doc"
        text = json.dumps(description)
        assert '"href": "https://example.org/advisory/1"' in text
        comment_text = json.dumps(comment)
    else:
        assert isinstance(description, str) and isinstance(comment, str)
        text, comment_text = description, comment
        assert "* [https://example.org/advisory/1]" in text and "h3. Ratings" in text
    assert "A flaw in OpenSSL lets a remote attacker read memory." in text
    assert "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" in text
    assert "vendor 'OpenSSL'" in comment_text
    posts = [e for e in emu.exchanges if e.method == "POST" and "/search" not in e.path]
    assert len(posts) == 6  # two requests per ticket: the issue, its comment
    checked, problems = spec.check(openapi, emu.exchanges)
    assert problems == [] and checked == len(emu.exchanges)
    with Store.open(vm.db_url) as store:
        local = store.get_ticket(by_cve["CVE-2026-0001"])
        assigned = store.get_ticket(by_cve["CVE-2026-0003"])
    assert local is not None and local.source == "jira" and "HIGH" in local.labels
    assert assigned is not None and assigned.assignee_id == OWNER  # synced back from Jira


def test_a_response_lost_after_jira_created_the_issue_creates_no_second_one(
        vm: Cli, tmp_path: Path) -> None:
    """503 after the POST was carried out: not retried blindly; found by its label."""
    emu = JiraEmulator()
    emu.inject(503, path="/rest/api/3/issue", method="POST", after=True)
    with serve_in_thread(emu) as url:
        vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=config(tmp_path, url),
              env=ENV)
    assert len(emu.issues) == 3
    for issue in emu.issues.values():
        bodies = [json.dumps(c["body"]) for c in issue.comments]
        assert sum("Opened by threat intake" in b for b in bodies) == 1
    assert set(records_of(vm).values()) == set(emu.issues)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_a_comment_whose_answer_was_lost_is_not_posted_twice(
        vm: Cli, tmp_path: Path, flavour: str) -> None:
    """Jira added the comment but the answer was lost (503): exit 3, the intent stays; the
    next run finds the issue and its comment and adds nothing."""
    emu = JiraEmulator(flavour=flavour)
    emu.inject(503, path="/comment", method="POST", after=True)
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        r = vm("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
        assert r.exit_code == 3 and "CVE-2026-0001" in r.output and "run intake again" in r.output
        assert records_of(vm) == {} and len(emu.issues) == 1
        vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
    assert len(emu.issues) == 3 and set(records_of(vm).values()) == set(emu.issues)
    assert [len(i.comments) for i in emu.issues.values()] == [1, 1, 1]


def test_a_process_killed_between_create_and_commit_resumes_without_duplicates(
        vm: Cli, tmp_path: Path) -> None:
    """A real ``vulnmark intake run`` process is SIGKILLed when it sends the comment of its
    second issue: that issue exists in Jira, without its comment, and the store knows only
    the first. The next run finds the issue by its id label, adds the comment, and opens the
    third: three issues, three records, one comment each."""
    emu = JiraEmulator(flavour="datacenter")
    proc: list[subprocess.Popen[str]] = []
    comments = 0

    def kill_on_second_comment(e: JiraEmulator, path: str, n: int) -> None:
        nonlocal comments
        if path.endswith("/comment") and proc:
            comments += 1
            if comments == 2:
                proc[0].send_signal(signal.SIGKILL)
                proc[0].wait(10)
                e.inject(503, path=path)  # this request dies with the process
    emu.on_request = kill_on_second_comment
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        argv = [sys.executable, "-m", "vulnmark", "--db", vm.db_url, "--config", str(cfg),
                "intake", "run", "--from", str(feed(tmp_path))]
        env = {**os.environ, **ENV}
        env.pop("VULNMARK_CONFIG", None)
        proc.append(subprocess.Popen(argv, env=env, cwd=tmp_path, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        proc[0].communicate(timeout=120)
        assert proc[0].returncode == -signal.SIGKILL
        assert len(emu.issues) == 2 and len(records_of(vm)) == 1
        proc.clear()
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    assert "opened 2" in done.stdout
    assert len(emu.issues) == 3 and set(records_of(vm).values()) == set(emu.issues)
    for issue in emu.issues.values():
        assert sum("Opened by threat intake" in c["body"] for c in issue.comments) == 1
    with Store.open(vm.db_url) as store, store.reading() as conn:
        assert records.all_pending(conn) == {}


def test_a_rescoring_is_a_jira_comment_and_a_proposal_never_a_label_change(
        vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
        later = feed(tmp_path, "b.json", score=9.8, severity="CRITICAL",
                     modified="2026-11-04T00:00:00.000")
        out = vm.ok("intake", "run", "--from", str(later), config=cfg, env=ENV).output
        again = vm.ok("intake", "run", "--from", str(later), config=cfg, env=ENV).output
    key = records_of(vm)["CVE-2026-0001"]
    assert "new proposals 1" in out and "unchanged 3" in again
    issue = emu.full_issue(key)
    assert "HIGH" in issue["fields"]["labels"] and "CRITICAL" not in issue["fields"]["labels"]
    notes = [json.dumps(c["body"]) for c in issue["fields"]["comment"]["comments"]]
    assert len(notes) == 2 and "proposed reclassification to CRITICAL" in notes[1]
    assert not any(e.method == "PUT" for e in emu.exchanges)  # no label edit, ever


def test_unknown_project_is_a_config_error_naming_record_and_key(
        vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        r = vm("intake", "run", "--from", str(feed(tmp_path)),
               config=config(tmp_path, url, project="NOPE"), env=ENV)
    assert r.exit_code == 2
    assert "CVE-2026-0001" in r.output and "intake.jira_project" in r.output
    assert "valid project is required" in r.output and "Traceback" not in r.output
    assert emu.issues == {} and records_of(vm) == {}
    with Store.open(vm.db_url) as store, store.reading() as conn:
        assert records.all_pending(conn) == {}


def test_unknown_assignee_names_the_owner(vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator(users={OWNER})
    with serve_in_thread(emu) as url:
        r = vm("intake", "run", "--from", str(feed(tmp_path)),
               config=config(tmp_path, url, owner="pki-team"), env=ENV)
    assert r.exit_code == 2 and "CVE-2026-0003" in r.output
    assert "intake.watch[].owner" in r.output and "'pki-team'" in r.output
    assert len(emu.issues) == 2  # the two before it are kept, each whole
    assert len(records_of(vm)) == 2


def test_a_label_with_spaces_is_refused_before_anything_is_sent(
        vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url, extra='[labels]\nvulnerability = ["Security Flaw"]\n')
        r = vm("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
    assert r.exit_code == 2, r.output
    assert "labels.vulnerability[0]" in r.output and "no spaces" in r.output
    assert emu.exchanges == []


def test_create_refuses_a_label_jira_would_refuse_naming_record_and_field() -> None:
    import asyncio

    from vulnmark.sources.jira.client import JiraClient
    from vulnmark.sources.jira.create import NewIssue, create_issue
    from vulnmark.sources.jira.settings import JiraSettings, LabelError

    async def go() -> None:
        settings = JiraSettings(url="http://127.0.0.1:9", jql="", flavour="cloud")
        async with JiraClient(settings) as jira:
            await create_issue(jira, NewIssue("SEC", "Bug", "x", (), ("HIGH", "a b")),
                               what="CVE-2026-0001")

    with pytest.raises(LabelError) as e:
        asyncio.run(go())
    assert "CVE-2026-0001" in str(e.value) and e.value.field == "labels[1]"


def test_bad_credentials_exit_3_and_429_is_waited_out(vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator(auth={JiraEmulator.basic(EMAIL, TOKEN)})
    emu.inject(429, retry_after="0", path="/rest/api/3/issue", method="POST", times=2)
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        bad = vm("intake", "run", "--from", str(feed(tmp_path)), config=cfg,
                 env={"JIRA_EMAIL": EMAIL, "JIRA_TOKEN": "wrong"})
        assert bad.exit_code == 3 and "401" in bad.output and "wrong" not in bad.output
        assert records_of(vm) == {}
        vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
    assert len(emu.issues) == 3
    assert [e.status for e in emu.exchanges].count(429) == 2


def test_dry_run_sends_nothing_and_needs_no_credentials(vm: Cli, tmp_path: Path) -> None:
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        out = vm.ok("intake", "run", "--dry-run", "--from", str(feed(tmp_path)),
                    config=config(tmp_path, url)).output
    assert "would open 3" in out and "would open CVE-2026-0001 in Jira SEC" in out
    assert emu.exchanges == []


def test_an_unreachable_site_names_the_record_and_leaves_no_intent(
        vm: Cli, tmp_path: Path) -> None:
    cfg = config(tmp_path, "http://127.0.0.1:9")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'jql = "project = SEC"', 'jql = "project = SEC"\nmax_retries = 0'), encoding="utf-8")
    r = vm("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
    assert r.exit_code == 3 and "CVE-2026-0001" in r.output and "127.0.0.1:9" in r.output
    assert records_of(vm) == {}
    with Store.open(vm.db_url) as store, store.reading() as conn:
        assert records.all_pending(conn) == {}


def test_real_nvd_and_kev_records_become_jira_issues_with_their_own_class(
        vm: Cli, tmp_path: Path) -> None:
    """The NVD's 2016 records and the KEV catalog in ../shared/data, watched for OpenSSL and
    Apache httpd: each matching CVE is one Jira issue whose class label is the record's own
    NVD Primary severity (or the KEV escalation), and a second run creates nothing."""
    import gzip

    from shared_data import data

    nvd = data("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    kev = data("cisa_kev", "known_exploited_vulnerabilities.json")
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        cfg.write_text(cfg.read_text(encoding="utf-8").replace(
            'vendors = ["OpenSSL"]', 'vendors = ["OpenSSL"]\nproducts = ["apache/http_server"]'),
            encoding="utf-8")
        vm.ok("intake", "run", "--from", str(nvd), config=cfg, env=ENV)
        vm.ok("intake", "run", "--from", str(kev), config=cfg, env=ENV)
        posts = sum(1 for e in emu.exchanges if e.method == "POST")
        again = vm.ok("intake", "run", "--from", str(nvd), config=cfg, env=ENV).output
        assert "opened 0" in again
        assert sum(1 for e in emu.exchanges if e.method == "POST") == posts
    with gzip.open(nvd, "rb") as f:
        raw = {v["cve"]["id"]: v["cve"] for v in json.load(f)["vulnerabilities"]}
    by_cve = records_of(vm)
    assert len(by_cve) == len(emu.issues) > 40
    assert posts == 2 * len(emu.issues)  # the issue and its comment, nothing else
    classes = {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
    checked = 0
    for cve_id, key in by_cve.items():
        labels = emu.issues[key].fields["labels"]
        assert labels[0] == "Sérülékenység" and ID_LABEL + cve_id in labels
        primary = [m for m in raw.get(cve_id, {}).get("metrics", {}).get("cvssMetricV30", [])
                   if m["type"] == "Primary"]
        with Store.open(vm.db_url) as store, store.reading() as conn:
            record = records.find(conn, [cve_id])
        assert record is not None
        if primary and "KEV" not in record.basis:
            assert primary[0]["cvssData"]["baseSeverity"] in labels, cve_id
            checked += 1
        if "KEV" in record.basis:
            assert classes & set(labels) & {"HIGH", "CRITICAL"}, cve_id
    assert checked > 20


def test_assess_reclassify_changes_the_class_label_in_jira_first(
        vm: Cli, tmp_path: Path, openapi: Any) -> None:
    emu = JiraEmulator()
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        vm.ok("intake", "run", "--from", str(feed(tmp_path)), config=cfg, env=ENV)
        key = records_of(vm)["CVE-2026-0001"]
        emu.inject(403, path=f"/issue/{key}", method="PUT")
        refused = vm("assess", key, "--reclassify", "LOW", "--why", "internal only",
                     config=cfg, env=ENV)
        assert refused.exit_code == 3 and "not recorded" in refused.output
        assert "HIGH" in emu.issues[key].fields["labels"]
        out = vm.ok("assess", key, "--reclassify", "LOW", "--why", "internal only",
                    config=cfg, env=ENV).output
        assert "HIGH -> LOW" in out
        vm.ok("sync", config=cfg, env=ENV)
    labels = emu.issues[key].fields["labels"]
    assert "LOW" in labels and "HIGH" not in labels
    with Store.open(vm.db_url) as store:
        local = store.get_ticket(key)
    assert local is not None and "LOW" in local.labels and "HIGH" not in local.labels
    checked, problems = spec.check(openapi, emu.exchanges)
    assert problems == []


def test_three_concurrent_processes_open_each_issue_once(vm: Cli, tmp_path: Path) -> None:
    """Three real ``intake run`` processes at once on one store and one Jira: they take turns
    (the store-wide lock ``intake-jira``), so each vulnerability is one issue."""
    emu = JiraEmulator(latency=0.02)
    with serve_in_thread(emu) as url:
        cfg = config(tmp_path, url)
        argv = [sys.executable, "-m", "vulnmark", "--db", vm.db_url, "--config", str(cfg),
                "intake", "run", "--from", str(feed(tmp_path))]
        env = {**os.environ, **ENV}
        env.pop("VULNMARK_CONFIG", None)
        procs = [subprocess.Popen(argv, env=env, cwd=tmp_path, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(3)]
        outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert sorted(emu.issues) == ["SEC-1", "SEC-2", "SEC-3"]
    assert sum("opened 3" in out for out, _ in outs) == 1
    assert set(records_of(vm).values()) == set(emu.issues)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_an_intent_whose_post_never_reached_jira_creates_the_issue_once(
        tmp_path: Path, flavour: str) -> None:
    """A run died after committing its intent, before its POST reached Jira: the next run
    finds no issue with the id label and creates it; on Cloud (search eventually consistent)
    only after looking again after the settle waits."""
    import time

    import httpx

    from vulnmark.config.load import load
    from vulnmark.intake.jira import JiraIntake
    from vulnmark.intake.run import Intake, read_feed
    from vulnmark.sources.jira.settings import JiraSettings

    emu = JiraEmulator(flavour=flavour)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    cfg = load(config(tmp_path, "http://127.0.0.1:9"))
    with Store.open(f"sqlite:///{tmp_path / 'v.db'}") as store:
        with store.transaction() as conn:
            records.set_pending(conn, "CVE-2026-0001", {"kind": "open", "at": time.time()})
        intake = Intake(store, cfg)
        settings = JiraSettings(url="http://jira.test", jql="", flavour=flavour,
                                email=EMAIL, token=TOKEN)
        intake.writer = JiraIntake(intake, settings, transport=httpx.ASGITransport(app=emu),
                                   sleep=sleep)
        from datetime import UTC, datetime

        result = intake.run(read_feed("nvd", feed(tmp_path)), feed="nvd",
                            now=datetime(2026, 11, 5, tzinfo=UTC))
        with store.reading() as conn:
            assert records.all_pending(conn) == {}
    assert len(result.opened) == 3 and len(emu.issues) == 3
    assert slept == ([2.0, 5.0] if flavour == "cloud" else [])
    searches = [e for e in emu.exchanges if "/search" in e.path]
    assert len(searches) == (3 if flavour == "cloud" else 1)
