"""The Jira emulator behaves like Jira Cloud / Data Center, and its answers match the official
OpenAPI document (requests and responses, via openapi-core)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared_data import apache_pages, jira_spec
from vulnmark.testing import JiraEmulator, spec
from vulnmark.testing.server import serve_in_thread


@pytest.fixture(scope="module")
def openapi() -> Any:
    return spec.load(jira_spec())


def client(emu: JiraEmulator) -> httpx.Client:
    return httpx.Client(base_url="http://127.0.0.1", transport=_SyncASGI(emu))


class _SyncASGI(httpx.BaseTransport):
    """Drive the ASGI app from a sync client (the tests here are plain functions)."""

    def __init__(self, app: JiraEmulator) -> None:
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        async def go() -> httpx.Response:
            req = httpx.Request(request.method, request.url, headers=request.headers,
                                content=request.read())
            resp = await self.inner.handle_async_request(req)
            body = await resp.aread()
            return httpx.Response(resp.status_code, headers=resp.headers, content=body)

        return asyncio.run(go())


def cloud_pages(c: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        r = c.post("/rest/api/3/search/jql", json={**body, **({"nextPageToken": token}
                                                              if token else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        token = page.get("nextPageToken")
        if page["isLast"]:
            assert "nextPageToken" not in page
            return pages


def test_cloud_token_paging_covers_every_issue_once() -> None:
    emu = JiraEmulator(cloud_page_cap=40)
    emu.generate(101)
    with client(emu) as c:
        pages = cloud_pages(c, {"jql": "project = VULN ORDER BY created ASC, key ASC",
                                "maxResults": 1000, "fields": ["summary"]})
    keys = [i["key"] for p in pages for i in p["issues"]]
    assert [len(p["issues"]) for p in pages] == [40, 40, 21]
    assert keys == [f"VULN-{n}" for n in range(1, 102)]
    assert all("total" not in p and "startAt" not in p for p in pages)


def test_cloud_defaults_to_ids_and_allows_5000_for_ids_only() -> None:
    emu = JiraEmulator(cloud_page_cap=10)
    emu.generate(30)
    with client(emu) as c:
        page = c.get("/rest/api/3/search/jql", params={"jql": "project = VULN",
                                                       "maxResults": 5000}).json()
    assert len(page["issues"]) == 30 and page["issues"][0]["fields"] == {}


def test_cloud_rejects_unbounded_jql_and_old_search_is_gone() -> None:
    emu = JiraEmulator()
    emu.generate(3)
    with client(emu) as c:
        r = c.post("/rest/api/3/search/jql", json={"jql": "ORDER BY key DESC"})
        assert r.status_code == 400 and "Unbounded" in r.json()["errorMessages"][0]
        for path in ("/rest/api/3/search", "/rest/api/2/search"):
            r = c.get(path, params={"jql": "project = VULN"})
            assert r.status_code == 410
            assert "CHANGE-2046" in r.json()["errorMessages"][0]


def test_unknown_key_in_jql_is_an_error_like_jira() -> None:
    emu = JiraEmulator()
    emu.generate(2)
    with client(emu) as c:
        r = c.post("/rest/api/3/search/jql", json={"jql": 'key in ("VULN-1", "VULN-7")'})
    assert r.status_code == 400
    assert r.json()["errorMessages"] == ["An issue with key 'VULN-7' does not exist for field "
                                         "'key'."]


def test_datacenter_chooses_its_page_size_and_reports_total() -> None:
    emu = JiraEmulator(flavour="datacenter", dc_page_cap=37)
    emu.generate(80)
    with client(emu) as c:
        page = c.get("/rest/api/2/search", params={"jql": "project = VULN", "startAt": 74,
                                                   "maxResults": 500}).json()
        assert c.get("/rest/api/3/search/jql").status_code == 404
    assert (page["startAt"], page["maxResults"], page["total"]) == (74, 37, 80)
    assert len(page["issues"]) == 6
    assert isinstance(page["issues"][0]["fields"]["description"], str)  # v2: wiki strings


def test_cloud_truncates_comments_and_changelog_inline_and_pages_them() -> None:
    emu = JiraEmulator()
    emu.generate(1, many_comments_every=1)
    with client(emu) as c:
        issue = c.post("/rest/api/3/search/jql", json={
            "jql": "project = VULN", "fields": ["comment"], "expand": "changelog"}).json()[
                "issues"][0]
        assert len(issue["fields"]["comment"]["comments"]) == 20
        assert issue["fields"]["comment"]["total"] == 45
        assert len(issue["changelog"]["histories"]) == 40 and issue["changelog"]["total"] == 45
        assert issue["fields"]["comment"]["comments"][0]["body"]["type"] == "doc"  # ADF
        rest = c.get("/rest/api/3/issue/VULN-1/comment", params={"startAt": 20}).json()
        assert len(rest["comments"]) == 25 and rest["total"] == 45
        log = c.get("/rest/api/3/issue/VULN-1/changelog",
                    params={"startAt": 0, "maxResults": 30}).json()
        assert (len(log["values"]), log["isLast"]) == (30, False) and "nextPage" in log


def test_label_edit_is_validated_idempotent_and_recorded() -> None:
    emu = JiraEmulator()
    emu.generate(1, labels=(("Sérülékenység",),))
    with client(emu) as c:
        r = c.put("/rest/api/3/issue/VULN-1", json={"update": {"labels": [{"add": "a b"}]}})
        assert r.status_code == 400
        assert r.json()["errors"]["labels"] == "The label 'a b' contains spaces which is invalid."
        r = c.put("/rest/api/3/issue/VULN-1", json={"update": {"labels": [{"add": "x" * 256}]}})
        assert r.status_code == 400 and "255" in r.json()["errors"]["labels"]
        before = len(emu.issues["VULN-1"].histories)
        for _ in range(2):
            r = c.put("/rest/api/3/issue/VULN-1", json={"update": {"labels": [{"add": "HIGH"}]}})
            assert r.status_code == 204
    issue = emu.issues["VULN-1"]
    assert issue.fields["labels"] == ["Sérülékenység", "HIGH"]
    assert len(issue.histories) == before + 1
    item = issue.histories[-1]["items"][0]
    assert (item["fromString"], item["toString"]) == ("Sérülékenység", "Sérülékenység HIGH")


def test_injected_faults_latency_and_auth() -> None:
    emu = JiraEmulator(auth={JiraEmulator.basic("a@example.org", "tok")})
    emu.generate(1)
    with client(emu) as c:
        r = c.get("/rest/api/3/serverInfo")
        assert r.status_code == 401
        emu.inject(429, retry_after="7", times=2)
        auth = ("a@example.org", "tok")
        assert c.get("/rest/api/3/serverInfo", auth=auth).headers["retry-after"] == "7"
        assert c.get("/rest/api/3/serverInfo", auth=auth).status_code == 429
        assert c.get("/rest/api/3/serverInfo", auth=auth).status_code == 200
        emu.inject(503, reset="2030-01-01T00:00Z", path="/comment")
        assert c.get("/rest/api/3/serverInfo", auth=auth).status_code == 200
        r = c.get("/rest/api/3/issue/VULN-1/comment", auth=auth)
        assert r.status_code == 503 and r.headers["x-ratelimit-reset"] == "2030-01-01T00:00Z"


def test_served_on_loopback() -> None:
    emu = JiraEmulator(flavour="datacenter")
    emu.generate(5)
    with serve_in_thread(emu) as url, httpx.Client(base_url=url) as c:
        assert url.startswith("http://127.0.0.1:")
        info = c.get("/rest/api/2/serverInfo").json()
        assert info["deploymentType"] == "Server"
        assert c.post("/rest/api/2/search", json={"jql": "project = VULN"}).json()["total"] == 5


def test_every_exchange_matches_the_official_spec(openapi: Any) -> None:
    """Searches (Cloud and DC, real Apache issues included), comments, changelog, GET/PUT issue,
    bulk edit and its task, serverInfo: requests and responses valid against the document."""
    for flavour in ("cloud", "datacenter"):
        emu = JiraEmulator(flavour=flavour, dc_page_cap=200)
        emu.generate(30, many_comments_every=10)
        emu.load_search_pages(apache_pages()[:1])
        v = "3" if flavour == "cloud" else "2"
        with client(emu) as c:
            c.get(f"/rest/api/{v}/serverInfo")
            body = {"jql": "project in (VULN, AMQ, HADOOP, HDFS, HIVE) ORDER BY created ASC",
                    "fields": ["summary", "description", "labels", "comment", "created",
                               "updated", "status", "resolution", "reporter", "priority"],
                    "maxResults": 100}
            if flavour == "cloud":
                cloud_pages(c, {**body, "expand": "changelog"})
                c.get("/rest/api/3/issue/VULN-1/changelog", params={"startAt": 0})
                task = c.post("/rest/api/3/bulk/issues/fields", json={
                    "selectedIssueIdsOrKeys": ["VULN-2", "VULN-3"], "selectedActions": ["labels"],
                    "editedFieldsInput": {"labelsFields": [{
                        "fieldId": "labels", "bulkEditMultiSelectFieldOption": "ADD",
                        "labels": [{"name": "HIGH"}]}]},
                    "sendBulkNotification": False}).json()["taskId"]
                c.get(f"/rest/api/3/bulk/queue/{task}")
                c.get(f"/rest/api/3/bulk/queue/{task}")
                r = c.post("/rest/api/3/issue/bulkfetch", json={
                    "issueIdsOrKeys": ["VULN-1", "NOPE-1"], "fields": ["labels"]})
                assert [i["key"] for i in r.json()["issues"]] == ["VULN-1"]
            else:
                c.post("/rest/api/2/search", json={**body, "startAt": 0, "expand": ["changelog"]})
            c.get(f"/rest/api/{v}/issue/VULN-1/comment", params={"startAt": 0})
            c.get(f"/rest/api/{v}/issue/VULN-1", params={"expand": "changelog"})
            c.put(f"/rest/api/{v}/issue/VULN-1", json={"update": {"labels": [{"add": "LOW"}]}})
            c.put(f"/rest/api/{v}/issue/VULN-1", json={"update": {"labels": [{"add": "a b"}]}})
        checked, problems = spec.check(openapi, emu.exchanges)
        assert problems == []
        assert checked == len(emu.exchanges) >= 6  # every exchange was a declared one


def test_spec_check_catches_drift(openapi: Any) -> None:
    """The check is not vacuous: a wrong type or a wrong request body is reported."""
    from vulnmark.testing.jira_emulator import Exchange

    bad_response = Exchange("POST", "/rest/api/3/search/jql", "",
                            json.dumps({"jql": "project = X"}).encode(), 200,
                            json.dumps({"issues": [], "isLast": "yes"}).encode())
    bad_request = Exchange("POST", "/rest/api/3/search/jql", "",
                           json.dumps({"jql": "project = X", "expand": ["changelog"]}).encode(),
                           200, json.dumps({"issues": [], "isLast": True}).encode())
    _, problems = spec.check(openapi, [bad_response, bad_request])
    assert len(problems) == 2
    assert "response" in problems[0] and "boolean" in problems[0]
    assert "request" in problems[1]


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_issue_and_comment_creation_validated_like_jira_and_against_the_spec(
        openapi: Any, flavour: str) -> None:
    """POST issue / comment: what Jira refuses (400 with ``errors`` naming the field) and
    what it accepts, every exchange valid against the document; a created issue is found by
    search and renders in both API versions."""
    emu = JiraEmulator(flavour=flavour, users={"alice"})
    v = "3" if flavour == "cloud" else "2"
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Flaw in OCSP."}]}]}
    body = doc if flavour == "cloud" else "Flaw in OCSP."
    who = {"accountId": "alice"} if flavour == "cloud" else {"name": "alice"}
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"},
              "summary": "CVE-2026-1: flaw", "description": body, "labels": ["HIGH"],
              "assignee": who}
    refused = {
        "project": {**fields, "project": {"key": "NOPE"}},
        "issuetype": {**fields, "issuetype": {"name": "Epic"}},
        "summary": {k: x for k, x in fields.items() if k != "summary"},
        "labels": {**fields, "labels": ["a b"]},
        "description": {**fields, "description": "text" if flavour == "cloud" else doc},
        "assignee": {**fields, "assignee": {"accountId": "bob"} if flavour == "cloud"
                     else {"name": "bob"}},
        "customfield_1": {**fields, "customfield_1": "x"},
    }
    with client(emu) as c:
        for name, sent in refused.items():
            r = c.post(f"/rest/api/{v}/issue", json={"fields": sent})
            assert r.status_code == 400, name
            assert name in r.json()["errors"], (name, r.json())
        assert emu.issues == {}
        r = c.post(f"/rest/api/{v}/issue", json={"fields": fields})
        assert r.status_code == 201 and r.json()["key"] == "SEC-1"
        r = c.post(f"/rest/api/{v}/issue/SEC-1/comment", json={"body": body})
        assert r.status_code == 201 and r.json()["body"] == body
        assert c.post(f"/rest/api/{v}/issue/SEC-1/comment", json={"body": ""}
                      ).status_code == 400
        assert c.post(f"/rest/api/{v}/issue/SEC-9/comment", json={"body": body}
                      ).status_code == 404
        if flavour == "cloud":
            found = cloud_pages(c, {"jql": 'project = SEC AND labels = "HIGH"',
                                    "fields": ["labels", "description", "assignee"]})
            issue = found[0]["issues"][0]
        else:
            issue = c.post("/rest/api/2/search", json={"jql": 'labels = "HIGH"'}
                           ).json()["issues"][0]
            assert issue["fields"]["description"] == "Flaw in OCSP."
        assert issue["key"] == "SEC-1" and issue["fields"]["assignee"]["displayName"] == "alice"
    checked, problems = spec.check(openapi, emu.exchanges)
    assert problems == [] and checked == len(emu.exchanges)
