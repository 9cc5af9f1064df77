"""A protocol-faithful Jira emulator (Cloud REST v3 and Data Center REST v2) as an ASGI app.

Use it in-process with ``httpx.AsyncClient(transport=httpx.ASGITransport(app=emu))`` or serve it
on 127.0.0.1 with :func:`vulnmark.testing.server.serve_in_thread`. It implements what vulnmark
uses, with the behaviour of the real APIs (``reference/jira.md``):

* Cloud: ``GET|POST /rest/api/{2,3}/search/jql`` with ``nextPageToken``/``isLast``, no total,
  unbounded JQL rejected (400), ``fields`` default ``id``, at most ``cloud_page_cap`` issues a
  page (5000 when only ids/keys are asked for), comments cut to 20 and changelog to 40 inline;
  the old ``/rest/api/{2,3}/search`` answers 410 Gone with Atlassian's message.
* Data Center: ``GET|POST /rest/api/2/search`` with ``startAt``/``total`` and a page size the
  server chooses (``dc_page_cap``), whatever ``maxResults`` asked for.
* Both: ``POST issue`` (create, validated like Jira: project, issue type, summary, ADF or
  wiki description, labels, assignee) and ``POST issue/{key}/comment``; ``serverInfo``,
  ``GET issue`` (with ``expand=changelog``), paged ``issue/{key}/comment``
  and (Cloud) ``issue/{key}/changelog``, ``PUT issue`` label edits (validated like Jira, recorded
  in the changelog), Cloud bulk label edit with task polling.
* Faults: :meth:`JiraEmulator.inject` queues 429/503 (with ``Retry-After`` /
  ``X-RateLimit-Reset``) or delays, also after carrying the request out (``after=True``: a
  response lost after Jira acted); ``latency`` delays every request; ``auth`` checks the
  ``Authorization`` header (401), ``forbid`` answers 403 on matching paths.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from vulnmark.testing import _emu_reads as _reads
from vulnmark.testing._emu_create import CreateMixin
from vulnmark.testing._emu_data import (
    JSON,
    EmuIssue,
    jira_time,
    label_history,
    render_issue,
    synthetic,
    user,
)
from vulnmark.testing._emu_http import HttpError, dumps, read_body
from vulnmark.testing._emu_writes import WritesMixin

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

GONE_410 = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


@dataclass
class Fault:
    status: int | None
    times: int = 1
    retry_after: str | None = None
    reset: str | None = None
    delay: float = 0.0
    path: str | None = None
    at: int | None = None
    after: bool = False
    """Carry the request out, then answer the fault (a response lost after Jira acted)."""
    method: str | None = None


@dataclass(frozen=True)
class Exchange:
    """One request and the emulator's answer (for counting and spec validation)."""

    method: str
    path: str
    query: str
    body: bytes
    status: int
    response: bytes


@dataclass
class JiraEmulator(WritesMixin, CreateMixin):
    flavour: Literal["cloud", "datacenter"] = "cloud"
    latency: float = 0.0
    cloud_page_cap: int = 100
    dc_page_cap: int = 1000
    comment_limit: int | None = 20
    changelog_limit: int | None = 40
    auth: set[str] | None = None
    forbid: tuple[str, ...] = ()
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    record: bool = True
    dc_truncates: bool = False
    """Data Center normally returns comments and changelog whole in a search; set this to
    make it cut them like Cloud (to exercise the client's completion path)."""
    on_request: Callable[[JiraEmulator, str, int], None] | None = None
    """Called with (emulator, path, request number) before each request is answered: lets a
    test change the data while a client is paging through it."""
    cache_renders: bool = False
    """Keep each issue's rendered JSON until the next change (for benchmarks: an emulator
    whose own CPU cost does not hide the client's). Off when tests edit issues directly."""
    issues: dict[str, EmuIssue] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    request_count: int = 0
    _order: list[tuple[str, str, int]] = field(default_factory=list)
    _order_keys: list[str] = field(default_factory=list)
    _version: int = 0
    _cache: dict[str, tuple[int, float, list[str], list[tuple[str, str, int]]]] = field(
        default_factory=dict
    )
    _next_id: int = 900000
    tasks: dict[str, int] = field(default_factory=dict)
    bulk_results: dict[str, tuple[list[int], int]] = field(default_factory=dict)
    _render_cache: dict[tuple[str, Any], bytes] = field(default_factory=dict)
    _render_cache_version: int = -1
    _by_id: dict[int, str] = field(default_factory=dict)
    projects: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "VULN": ("Bug", "Task"), "SEC": ("Bug", "Task", "Vulnerability")})
    """Projects issues may be created in, with their issue types (the projects of loaded
    issues are known too, with Bug and Task)."""
    users: set[str] | None = None
    """Assignees that exist (account ids on Cloud, user names on DC); None: any."""

    # ---- content -------------------------------------------------------------------------
    def add(self, issues: Iterable[EmuIssue]) -> None:
        for issue in issues:
            if issue.key in self.issues:
                self._remove_order(self.issues[issue.key])
            self.issues[issue.key] = issue
            self._by_id[issue.id] = issue.key
            sk = issue.sort_key()
            pos = bisect.bisect(self._order, sk)
            self._order.insert(pos, sk)
            self._order_keys.insert(pos, issue.key)
        self._version += 1

    def _remove_order(self, issue: EmuIssue) -> None:
        pos = bisect.bisect_left(self._order, issue.sort_key())
        del self._order[pos]
        del self._order_keys[pos]

    def generate(self, n: int, **kw: Any) -> None:
        kw.setdefault("start", datetime(2024, 1, 1, tzinfo=UTC))
        kw.setdefault("first_id", 10000 + len(self.issues))
        self.add(synthetic(n, cloud=self.cloud, **kw))

    def load_search_pages(self, paths: Iterable[Any]) -> int:
        """Load issue objects from ``/rest/api/2/search``-shaped JSON files; returns the count."""
        added = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                page = json.load(f)
            for raw in page["issues"]:
                fields = dict(raw["fields"])
                comment = fields.pop("comment", None) or {}
                history = (raw.get("changelog") or {}).get("histories", [])
                added.append(EmuIssue(int(raw["id"]), raw["key"], fields,
                                      list(comment.get("comments", [])), list(history)))
        self.add(added)
        return len(added)

    def delete(self, key: str) -> None:
        issue = self.issues.pop(key)
        self._by_id.pop(issue.id, None)
        self._remove_order(issue)
        self._version += 1

    def touch(self, keys: Iterable[str], *, summary_suffix: str = " (edited)") -> None:
        now = jira_time(self.clock())
        for key in keys:
            issue = self.issues[key]
            issue.fields["summary"] = str(issue.fields.get("summary", "")) + summary_suffix
            issue.fields["updated"] = now
        self._version += 1

    def inject(self, status: int | None = None, **kw: Any) -> None:
        """Queue a fault: ``inject(429, retry_after="1", times=2, path="/search")``."""
        self.faults.append(Fault(status, **kw))

    def full_issue(self, key: str) -> JSON:
        """The issue with every field, all comments and the whole changelog (for assertions)."""
        base = self._base(3 if self.cloud else 2)
        return render_issue(self.issues[key], v3=self.cloud, base=base, fields=None,
                            changelog=True, comment_limit=None, changelog_limit=None)

    def search_requests(self) -> int:
        return sum(1 for e in self.exchanges if "/search" in e.path)

    # ---- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = await read_body(receive)
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        self.request_count += 1
        if self.on_request is not None:
            self.on_request(self, path, self.request_count)
        status, out_headers, payload = await self._dispatch(method, path, query, headers, body)
        raw = b"" if payload is None else dumps(payload)
        if self.record:
            self.exchanges.append(Exchange(method, path, query, body, status, raw))
        hdrs = [(b"content-type", b"application/json;charset=UTF-8")] if raw else []
        hdrs += [(k.lower().encode(), v.encode()) for k, v in out_headers.items()]
        hdrs.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": raw})

    async def _dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            for fault in list(self.faults):
                if fault.path and fault.path not in path:
                    continue
                if fault.method and fault.method != method:
                    continue
                if fault.at is not None and self.request_count < fault.at:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.after:
                    self._check_auth(headers)
                    self._route(method, path, parse_qs(query), body)
                if fault.status is not None:
                    h = {}
                    if fault.retry_after is not None:
                        h["Retry-After"] = fault.retry_after
                    if fault.reset is not None:
                        h["X-RateLimit-Reset"] = fault.reset
                    if fault.status == 429:
                        h["RateLimit-Reason"] = "jira-burst-based"
                    raise HttpError(fault.status, ["Rate limit exceeded." if fault.status == 429
                                                   else "Service unavailable."], headers=h)
                break
            self._check_auth(headers)
            if any(f in path for f in self.forbid):
                raise HttpError(403, ["You do not have the permission to see the specified issue."])
            status, payload = self._route(method, path, parse_qs(query), body)
            return status, {"X-AAccountId": "5b10ac8d82e05b22cc7d4ef5"}, payload
        except HttpError as e:
            return e.status, e.headers, e.body

    def _check_auth(self, headers: dict[str, str]) -> None:
        if self.auth is None:
            return
        if headers.get("authorization") not in self.auth:
            raise HttpError(401, ["You are not authenticated. Authentication required to "
                                  "perform this operation."],
                            headers={"WWW-Authenticate": 'Basic realm="protected-area"'})

    @staticmethod
    def basic(email: str, token: str) -> str:
        return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()

    def _base(self, version: int) -> str:
        host = "https://your-domain.atlassian.net" if self.cloud else "https://jira.example.org"
        return f"{host}/rest/api/{version}"

    # ---- routing -------------------------------------------------------------------------
    _ROUTES = re.compile(r"^/rest/api/(?P<v>[23]|latest)/(?P<rest>.*)$")

    def _route(
        self, method: str, path: str, q: dict[str, list[str]], body: bytes
    ) -> tuple[int, Any]:
        if path.startswith("/_emulator/"):
            return self._control(path, body)
        m = self._ROUTES.match(path)
        if not m:
            raise HttpError(404, [f"No resource at {path}"])
        v = 3 if m["v"] in ("3", "latest") else 2
        rest = m["rest"].rstrip("/")
        if not self.cloud and v == 3:
            raise HttpError(404, ["REST API v3 does not exist on Jira Data Center."])
        params: dict[str, Any] = {k: vals[-1] if len(vals) == 1 else vals for k, vals in q.items()}
        if method == "POST" and body and rest in ("search", "search/jql"):
            params = json.loads(body)
        if rest == "serverInfo" and method == "GET":
            return 200, self._server_info(v)
        if rest == "search/jql" and method in ("GET", "POST"):
            if not self.cloud:
                raise HttpError(404, ["null for uri: /rest/api/2/search/jql"])
            return 200, _reads.search_cloud(self, v, params)
        if rest == "search" and method in ("GET", "POST"):
            if self.cloud:
                raise HttpError(410, [GONE_410])
            return 200, _reads.search_dc(self, params)
        if rest == "issue" and method == "POST":
            return 201, self.create_issue(v, _json(body))
        if rest == "issue/bulkfetch" and method == "POST" and self.cloud:
            return 200, _reads.bulkfetch(self, v, json.loads(body or b"{}"))
        im = re.match(r"^issue/(?P<key>[^/]+)(?:/(?P<sub>comment|changelog))?$", rest)
        if im:
            issue = self._issue(im["key"])
            sub = im["sub"]
            if sub == "comment" and method == "POST":
                return 201, self.add_comment(issue, v, _json(body), self._base(v))
            if sub == "comment" and method == "GET":
                return 200, _reads.comments(self, issue, v, params)
            if sub == "changelog" and method == "GET":
                if not self.cloud:
                    raise HttpError(404, ["null for uri: changelog"])
                return 200, _reads.changelog(self, issue, v, params)
            if sub is None and method == "GET":
                return 200, _reads.get_issue(self, issue, v, params)
            if sub is None and method == "PUT":
                self.edit_labels(issue, json.loads(body or b"{}"))
                return 204, None
            if sub is None and method == "DELETE":
                self.delete(issue.key)
                return 204, None
        if rest == "bulk/issues/fields" and method == "POST" and self.cloud:
            return 201, self.bulk_edit(json.loads(body or b"{}"))
        bm = re.match(r"^bulk/queue/(?P<task>[^/]+)$", rest)
        if bm and method == "GET" and self.cloud:
            return 200, self.bulk_progress(bm["task"])
        raise HttpError(404, [f"No {method} resource at {path}"])

    def _control(self, path: str, body: bytes) -> tuple[int, Any]:
        """Test-only control endpoints for an emulator served in another process."""
        args = json.loads(body or b"{}")
        if path == "/_emulator/touch":
            rng = random.Random(int(args.get("seed", 1)))
            keys = rng.sample(self._order_keys, round(len(self._order_keys) * args["fraction"]))
            self.touch(keys)
            return 200, {"touched": len(keys)}
        if path == "/_emulator/stats":
            return 200, {"requests": self.request_count, "issues": len(self.issues)}
        raise HttpError(404, [f"no control endpoint {path}"])

    def _issue(self, key_or_id: str) -> EmuIssue:
        issue = self.issues.get(key_or_id)
        if issue is None and key_or_id.isdigit():
            key = self._by_id.get(int(key_or_id))
            issue = self.issues.get(key) if key else None
        if issue is None:
            raise HttpError(404, [NOT_FOUND])
        return issue

    def _server_info(self, v: int) -> JSON:
        now = jira_time(self.clock())
        if self.cloud:
            return {"baseUrl": "https://your-domain.atlassian.net", "version": "1001.0.0-SNAPSHOT",
                    "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                    "buildNumber": 100284, "buildDate": "2026-06-10T00:00:00.000+0000",
                    "serverTime": now, "scmInfo": "32b43b28d3f0c3ee7f2535b395e90b205ac3bc6f",
                    "serverTitle": "Jira"}
        return {"baseUrl": "https://jira.example.org", "version": "9.12.4",
                "versionNumbers": [9, 12, 4], "deploymentType": "Server", "buildNumber": 912004,
                "buildDate": "2024-03-01T00:00:00.000+0000", "serverTime": now,
                "scmInfo": "a1b2c3", "serverTitle": "Jira Data Center"}

    def new_history(self, issue: EmuIssue, old: list[str], new: list[str]) -> None:
        self._next_id += 1
        now = self.clock()
        issue.histories.append(label_history(self._next_id, user("vulnmark-bot", cloud=self.cloud),
                                             now, old, new))
        issue.fields["updated"] = jira_time(now)
        self._version += 1


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise HttpError(400, ["Unexpected character: the request body is not JSON."]) from None
