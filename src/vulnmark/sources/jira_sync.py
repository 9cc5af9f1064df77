"""``vulnmark sync``: read a Jira site completely and cheaply into the store, resumably.

* One search request per page of issues, asking only for the fields vulnmark reads and the
  changelog; comments and changelog entries are paged through the per-issue endpoints only for
  issues whose search result cut them off.
* Cloud (``/rest/api/3/search/jql``): token paging is sequential, so the next page is requested
  while the current one is converted and stored. Data Center (``/rest/api/2/search``): the first
  page tells the total and the page size the server chose; the other pages are fetched
  ``concurrency`` at a time and stored in order.
* Query: the scope, ``ORDER BY created ASC, key ASC`` (an edit never moves an issue, new ones
  arrive at the end). After a completed sync the next one asks only for
  ``updated >= (start of the last sync − overlap)``, written as a relative ``"-Nm"`` so the Jira
  user's time zone cannot shift it.
* Checkpoint: each page is stored in one transaction together with the sync state (the
  creation time of the last issue stored). A sync killed at any point resumes with
  ``created >= that time``: pages already stored are not fetched again, issues on the boundary
  are upserted again (idempotent), nothing is skipped.
* ``full=True`` fetches the whole scope and records every stored Jira ticket it did not see as
  gone (deleted or moved out of scope) — kept in the store, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from vulnmark.jql import quote, sync_jql
from vulnmark.model import Ticket
from vulnmark.sources.interface import InputError
from vulnmark.sources.jira_client import JSON, JiraClient
from vulnmark.sources.jira_json import ticket_from_jira
from vulnmark.sources.jira_settings import JiraNotFound, JiraResponseError, JiraSettings
from vulnmark.store import Store

logger = logging.getLogger(__name__)

STATE_KEY = "jira.sync"
FIELDS = ("summary", "description", "labels", "created", "updated", "status", "resolution",
          "resolutiondate", "reporter", "priority", "issuetype", "comment")
GONE_REASON = "not returned by a full sync of the Jira scope (deleted or moved out of scope)"
Progress = Callable[[int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class SyncResult:
    flavour: str
    full: bool
    resumed: bool
    since: datetime | None
    pages: int
    issues: int
    inserted: int
    updated: int
    unchanged: int
    gone: int
    requests: int
    extra_requests: int
    """Comment / changelog pages fetched for issues whose search result was cut off."""
    retries: int

    def summary(self) -> str:
        mode = "full" if self.full else ("incremental" if self.since else "first")
        resumed = ", resumed" if self.resumed else ""
        return (f"Synced {self.issues} issues from Jira ({mode}{resumed}): {self.inserted} new, "
                f"{self.updated} changed, {self.unchanged} unchanged"
                + (f", {self.gone} gone" if self.full else "")
                + f"; {self.requests} requests")


def scope_digest(settings: JiraSettings) -> str:
    return hashlib.sha256(f"{settings.site}\n{settings.jql}".encode()).hexdigest()[:16]


def run_sync(
    store: Store,
    settings: JiraSettings,
    *,
    full: bool = False,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncResult:
    """Sync the configured scope into ``store``; see the module docstring."""
    return asyncio.run(Syncer(store, settings, progress=progress, transport=transport,
                              clock=clock).run(full=full))


class Syncer:
    def __init__(self, store: Store, settings: JiraSettings, *, progress: Progress | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.settings = settings
        self.progress = progress
        self.transport = transport
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vulnmark-store")
        url = getattr(getattr(store, "engine", None), "url", None)
        self._in_memory = url is not None and url.get_backend_name() == "sqlite" and (
            url.database in (None, "", ":memory:"))

    # ---- state -----------------------------------------------------------------------------
    def _load_state(self) -> dict[str, Any]:
        raw = self.store.get_state(STATE_KEY)
        digest = scope_digest(self.settings)
        state: dict[str, Any] = {}
        if raw:
            try:
                state = json.loads(raw)
            except ValueError:
                logger.warning("sync state %s is not JSON; starting over", STATE_KEY)
        if state.get("scope") != digest:
            if state:
                logger.info("Jira site or scope JQL changed: the next sync reads everything")
            state = {"scope": digest, "watermark": None, "run": None}
        return state

    async def _off_loop(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn`` on the store's worker thread, so the next page downloads meanwhile
        (inline for an in-memory SQLite store, which lives in one connection)."""
        if self._in_memory:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _store(self, tickets: list[Ticket], state: dict[str, Any]) -> Any:
        dumped = json.dumps(state, sort_keys=True)
        return await self._off_loop(
            lambda: self.store.upsert_tickets(tickets, state={STATE_KEY: dumped}))

    def _convert_and_store(self, raw_issues: list[JSON],
                           state: dict[str, Any]) -> tuple[list[Ticket], Any]:
        """Convert a page and store it with the checkpoint that follows it (one transaction)."""
        tickets = [self._ticket(issue) for issue in raw_issues]
        run = state["run"]
        if tickets:
            run["after_created"] = _iso(max(t.created for t in tickets))
        run["pages"] += 1
        run["issues"] += len(tickets)
        dumped = json.dumps(state, sort_keys=True)
        return tickets, self.store.upsert_tickets(tickets, state={STATE_KEY: dumped})

    # ---- the run ---------------------------------------------------------------------------
    async def run(self, *, full: bool) -> SyncResult:
        try:
            async with JiraClient(self.settings, transport=self.transport) as jira:
                return await self._run(jira, full)
        finally:
            self._pool.shutdown(wait=True)

    async def _run(self, jira: JiraClient, full: bool) -> SyncResult:
        state = self._load_state()
        flavour = await jira.detect_flavour()
        run: dict[str, Any] | None = state.get("run")
        resumed = run is not None and bool(run["full"] or not full)
        if run is not None and resumed:
            full = bool(run["full"])
            logger.info("resuming the interrupted sync started %s after %d pages",
                        run["started"], run["pages"])
        else:
            since = None
            if not full and state.get("watermark"):
                overlap = timedelta(minutes=self.settings.overlap_minutes)
                since = _parse(state["watermark"]) - overlap
            run = {"started": _iso(self.clock()), "since": _iso(since) if since else None,
                   "full": full, "after_created": None, "pages": 0, "issues": 0}
            state["run"] = run
            await self._store([], state)
        since = _parse(run["since"]) if run["since"] else None
        after = _parse(run["after_created"]) if run["after_created"] else None
        jql = sync_jql(self.settings.jql, now=self.clock(), updated_since=since,
                       created_from=after)
        logger.info("Jira %s search: %s", flavour, jql)
        seen: set[str] = set()
        pages = issues_n = ins = upd = unch = 0
        async for raw_issues in self._pages(jira, flavour, jql):
            raw_issues = await self._complete(jira, flavour, raw_issues)
            tickets, counts = await self._off_loop(self._convert_and_store, raw_issues, state)
            pages += 1
            issues_n += len(tickets)
            ins, upd, unch = ins + counts.inserted, upd + counts.updated, unch + counts.unchanged
            seen.update(t.key for t in tickets)
            if self.progress:
                self.progress(len(tickets))
        gone = 0
        if full:
            if resumed:
                seen = await self._all_keys(jira, flavour)
            missing = self.store.ticket_keys(source="jira") - seen
            gone = self.store.mark_gone(missing, at=self.clock(), reason=GONE_REASON)
        state["watermark"] = run["started"]
        state["run"] = None
        await self._store([], state)
        result = SyncResult(flavour, full, resumed, since, pages, issues_n, ins, upd, unch, gone,
                            jira.stats.requests, jira.stats.extra, jira.stats.retries)
        self.store.record("jira_sync", {
            "site": self.settings.site, "scope": self.settings.jql, "flavour": flavour,
            "full": full, "resumed": resumed, "since": run["since"], "issues": issues_n,
            "inserted": ins, "updated": upd, "unchanged": unch, "gone": gone,
            "requests": jira.stats.requests})
        return result

    def _ticket(self, issue: JSON) -> Ticket:
        try:
            return ticket_from_jira(issue, base_url=self.settings.site,
                                    discovery_field=self.settings.discovery_field, source="jira")
        except InputError as e:
            key = issue.get("key") if isinstance(issue, dict) else None
            raise JiraResponseError(f"{self.settings.site}: issue {key or '(no key)'}: {e}; "
                                    "pages before it are stored, the next sync resumes here"
                                    ) from e

    # ---- paging ----------------------------------------------------------------------------
    def _page_size(self, flavour: str) -> int:
        return self.settings.page_size or (100 if flavour == "cloud" else 1000)

    def _fields(self) -> list[str]:
        extra = [self.settings.discovery_field] if self.settings.discovery_field else []
        return [*FIELDS, *extra]

    async def _pages(self, jira: JiraClient, flavour: str, jql: str) -> AsyncIterator[list[JSON]]:
        if flavour == "cloud" and self.settings.hydrate:
            gen = self._pages_hydrated(jira, jql, self._fields())
        elif flavour == "cloud":
            gen = self._pages_cloud(jira, jql, self._fields(), self._page_size(flavour))
        else:
            gen = self._pages_dc(jira, jql, self._fields(), self._page_size(flavour))
        async for page in _prefetched(gen, depth=4):
            yield page

    async def _pages_hydrated(self, jira: JiraClient, jql: str,
                              fields: list[str]) -> AsyncIterator[list[JSON]]:
        """Cloud: ids in order (sequential, 5000 a page), issues 100 at a time concurrently,
        yielded in the ids' order so checkpoints stay ordered."""
        pending: deque[tuple[list[str], asyncio.Future[Any]]] = deque()

        def fetch(ids: list[str]) -> asyncio.Future[Any]:
            return asyncio.ensure_future(jira.request(
                "POST", "/rest/api/3/issue/bulkfetch", what="issue bulkfetch",
                json={"issueIdsOrKeys": ids, "fields": fields, "expand": ["changelog"]}))

        async def ready() -> list[JSON]:
            ids, fut = pending.popleft()
            page = await fut
            issues = page.get("issues") if isinstance(page, dict) else None
            if not isinstance(issues, list):
                raise JiraResponseError(f"{self.settings.site}: issue/bulkfetch: no 'issues'")
            by_id = {str(i.get("id")): i for i in issues if isinstance(i, dict)}
            if len(by_id) < len(ids):
                logger.info("%d issues vanished between listing and fetching",
                            len(ids) - len(by_id))
            return [by_id[i] for i in ids if i in by_id]

        try:
            async for id_page in self._pages_cloud(jira, jql, ["id"], 5000, expand=None):
                ids = [str(i.get("id")) for i in id_page]
                for n in range(0, len(ids), 100):
                    pending.append((ids[n:n + 100], fetch(ids[n:n + 100])))
                    while len(pending) > self.settings.concurrency:
                        yield await ready()
            while pending:
                yield await ready()
        finally:
            for _, fut in pending:
                fut.cancel()

    async def _pages_cloud(
        self, jira: JiraClient, jql: str, fields: list[str], size: int,
        expand: str | None = "changelog",
    ) -> AsyncIterator[list[JSON]]:
        body: JSON = {"jql": jql, "maxResults": size, "fields": fields}
        if expand:
            body["expand"] = expand
        task = asyncio.ensure_future(jira.search_cloud(body))
        token: str | None = None
        try:
            while True:
                page = await task
                nxt = page.get("nextPageToken")
                last = page.get("isLast") is True or not nxt
                if not last:
                    if nxt == token:
                        raise JiraResponseError(f"{self.settings.site}: search: the same "
                                                "nextPageToken came back twice")
                    token = str(nxt)
                    task = asyncio.ensure_future(
                        jira.search_cloud({**body, "nextPageToken": nxt}))
                yield page["issues"]
                if last:
                    return
        finally:
            if not task.done():
                task.cancel()

    async def _pages_dc(self, jira: JiraClient, jql: str, fields: list[str],
                        size: int, expand: list[str] | None = None) -> AsyncIterator[list[JSON]]:
        """``startAt`` pages; if the total changed during the run (an issue deleted or moved
        out of the scope shifts every later offset by one, so one issue would be skipped), the
        keys are listed again and any issue not yet read is fetched by key."""
        totals: set[int] = set()
        seen: set[str] = set()
        async for page in self._pages_dc_raw(jira, jql, fields, size, expand, totals):
            seen.update(str(i.get("key")) for i in page)
            yield page
        if len(totals) <= 1:
            return
        listed: list[str] = []
        async for page in self._pages_dc_raw(jira, jql, ["key"], 1000, [], set()):
            listed += [str(i.get("key")) for i in page]
        missing = [k for k in listed if k not in seen]
        if missing:
            logger.warning("the result set changed during the sync; reading %d issues the "
                           "shifted pages skipped", len(missing))
        for n in range(0, len(missing), 100):
            fixed = await jira.search_dc({
                "jql": "key in (" + ", ".join(quote(k) for k in missing[n:n + 100]) + ")",
                "startAt": 0, "maxResults": 100, "fields": fields,
                "expand": ["changelog"] if expand is None else expand})
            yield fixed["issues"]

    async def _pages_dc_raw(self, jira: JiraClient, jql: str, fields: list[str], size: int,
                            expand: list[str] | None, totals: set[int],
                            ) -> AsyncIterator[list[JSON]]:
        base: JSON = {"jql": jql, "maxResults": size, "fields": fields,
                      "expand": ["changelog"] if expand is None else expand}
        first = await jira.search_dc({**base, "startAt": 0})
        totals.add(first["total"])
        yield first["issues"]
        step = first["maxResults"] or len(first["issues"])
        total = first["total"]
        pos = len(first["issues"])
        if step <= 0 or pos == 0:
            return
        starts = list(range(pos, total, step))
        tasks: dict[int, asyncio.Future[JSON]] = {}
        window = self.settings.concurrency  # pages in flight or waiting: bounded memory

        def top_up(i: int) -> None:
            for j in range(i, min(i + window, len(starts))):
                if j not in tasks:
                    tasks[j] = asyncio.ensure_future(
                        jira.search_dc({**base, "startAt": starts[j]}))

        try:
            for i, start in enumerate(starts):
                top_up(i)
                page = await tasks.pop(i)
                totals.add(page["total"])
                got = page["issues"]
                yield got
                total = max(total, page["total"])
                end = start + len(got)
                target = min(start + step, page["total"])
                while got and end < target:
                    # the server returned a short page: read the gap before going on
                    got = (await jira.search_dc({**base, "startAt": end}))["issues"]
                    if got:
                        yield got
                    end += len(got)
                pos = max(pos, end)
            while pos < total:  # issues created during the sync
                page = await jira.search_dc({**base, "startAt": pos})
                if not page["issues"]:
                    break
                yield page["issues"]
                pos += len(page["issues"])
                total = page["total"]
        finally:
            for t in tasks.values():
                if not t.done():
                    t.cancel()
                elif not t.cancelled():
                    t.exception()  # retrieved: a failed prefetch is not logged as lost

    async def _all_keys(self, jira: JiraClient, flavour: str) -> set[str]:
        """Every key in the scope, asking for nothing else (5000 a page on Cloud)."""
        jql = sync_jql(self.settings.jql, now=self.clock())
        keys: set[str] = set()
        if flavour == "cloud":
            gen = self._pages_cloud(jira, jql, ["key"], 5000, expand=None)
        else:
            gen = self._pages_dc_raw(jira, jql, ["key"], 1000, [], set())
        async for page in gen:
            keys.update(str(i.get("key")) for i in page)
        return keys

    # ---- completing truncated comments and changelog ----------------------------------------
    async def _complete(self, jira: JiraClient, flavour: str, issues: list[JSON]) -> list[JSON]:
        sem = asyncio.Semaphore(self.settings.concurrency)

        async def one(issue: JSON) -> JSON:
            async with sem:
                return await self._complete_one(jira, flavour, issue)

        todo = [i for i, issue in enumerate(issues) if _truncated(issue)]
        if not todo:
            return issues
        done = await asyncio.gather(*(one(issues[i]) for i in todo))
        out = list(issues)
        for i, issue in zip(todo, done, strict=True):
            out[i] = issue
        return out

    async def _complete_one(self, jira: JiraClient, flavour: str, issue: JSON) -> JSON:
        """The issue with every comment and changelog entry (both fetched at once)."""
        key = str(issue.get("key"))
        fields = dict(issue.get("fields") or {})
        issue = {**issue, "fields": fields}

        async def comments() -> None:
            comment = fields.get("comment")
            if not _cut(comment, "comments"):
                return
            assert isinstance(comment, dict)
            have = list(comment["comments"])
            start = int(comment.get("startAt") or 0) + len(have)
            async for c in jira.paged(f"{jira.api}/issue/{key}/comment",
                                      what=f"comments of {key}", start=start,
                                      list_field="comments"):
                have.append(c)
            fields["comment"] = {**comment, "comments": have, "maxResults": len(have),
                                 "total": len(have), "startAt": 0}

        async def changelog() -> None:
            if not _cut(issue.get("changelog"), "histories"):
                return
            if flavour == "cloud":
                histories = [h async for h in jira.paged(
                    f"{jira.api}/issue/{key}/changelog", what=f"changelog of {key}", start=0,
                    list_field="values")]
            else:
                full = await jira.request("GET", f"{jira.api}/issue/{key}",
                                          what=f"changelog of {key}",
                                          params={"fields": "labels", "expand": "changelog"})
                histories = list(((full or {}).get("changelog") or {}).get("histories", []))
            issue["changelog"] = {"startAt": 0, "maxResults": len(histories),
                                  "total": len(histories), "histories": histories}

        try:
            await asyncio.gather(comments(), changelog())
        except JiraNotFound:
            logger.warning("%s disappeared while its comments/changelog were read; storing what "
                           "the search returned", key)
        return issue


async def _prefetched(gen: AsyncIterator[_T], depth: int) -> AsyncIterator[_T]:
    """Run ``gen`` in a background task up to ``depth`` items ahead of the consumer, so that
    the next search request never waits for the current page to be stored."""
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        try:
            async for item in gen:
                await queue.put((True, item))
            await queue.put((False, None))
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # handed to the consumer, raised there (a crash included)
            await queue.put((False, e))

    task = asyncio.ensure_future(produce())
    try:
        while True:
            more, item = await queue.get()
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        aclose = getattr(gen, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def _cut(page: object, list_field: str) -> bool:
    if not isinstance(page, dict):
        return False
    items = page.get(list_field)
    total = page.get("total")
    return isinstance(items, list) and isinstance(total, int) and total > len(items)


def _truncated(issue: JSON) -> bool:
    fields = issue.get("fields")
    return (isinstance(fields, dict) and _cut(fields.get("comment"), "comments")) or _cut(
        issue.get("changelog"), "histories")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _parse(s: str) -> datetime:
    return datetime.fromisoformat(s)
