"""Reading Jira page by page for the sync: search paging per flavour, prefetching, and
completing comments and changelogs that a search result cut off.

* Cloud, default: ``/rest/api/3/search/jql`` token paging; a producer task keeps requesting the
  next page while earlier ones are stored (token paging cannot be parallelised).
* Cloud, ``hydrate``: ids listed 5000 a page, issues fetched 100 at a time with
  ``issue/bulkfetch``, ``concurrency`` requests in flight, yielded in order.
* Data Center: ``/rest/api/2/search``; the first page gives the total and the page size the
  server chose, later ``startAt`` pages are fetched ``concurrency`` at a time (a bounded window).
  If the total changes mid-run, the keys are listed again and skipped issues read by key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TypeVar

from vulnmark.sources.jira.client import JSON, JiraClient, issue_path
from vulnmark.sources.jira.jql import quote, sync_jql
from vulnmark.sources.jira.settings import JiraNotFound, JiraResponseError, JiraSettings

logger = logging.getLogger(__name__)

FIELDS = ("summary", "description", "labels", "created", "updated", "status", "resolution",
          "resolutiondate", "reporter", "assignee", "priority", "issuetype", "comment")
_T = TypeVar("_T")


class Pager:
    """Pages of raw issue JSON for one sync run."""

    def __init__(self, settings: JiraSettings) -> None:
        self.settings = settings

    def page_size(self, flavour: str) -> int:
        return self.settings.page_size or (100 if flavour == "cloud" else 1000)

    def fields(self) -> list[str]:
        extra = [self.settings.discovery_field] if self.settings.discovery_field else []
        return [*FIELDS, *extra]

    async def pages(self, jira: JiraClient, flavour: str, jql: str) -> AsyncIterator[list[JSON]]:
        if flavour == "cloud" and self.settings.hydrate:
            gen = self._pages_hydrated(jira, jql, self.fields())
        elif flavour == "cloud":
            gen = self._pages_cloud(jira, jql, self.fields(), self.page_size(flavour))
        else:
            gen = self._pages_dc(jira, jql, self.fields(), self.page_size(flavour))
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

    async def all_keys(self, jira: JiraClient, flavour: str, now: datetime) -> set[str]:
        """Every key in the scope, asking for nothing else (5000 a page on Cloud)."""
        jql = sync_jql(self.settings.jql, now=now)
        keys: set[str] = set()
        if flavour == "cloud":
            gen = self._pages_cloud(jira, jql, ["key"], 5000, expand=None)
        else:
            gen = self._pages_dc_raw(jira, jql, ["key"], 1000, [], set())
        async for page in gen:
            keys.update(str(i.get("key")) for i in page)
        return keys

    # ---- completing truncated comments and changelog ----------------------------------------
    async def complete(self, jira: JiraClient, flavour: str, issues: list[JSON]) -> list[JSON]:
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
            async for c in jira.paged(issue_path(jira.api, key, "comment"),
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
                    issue_path(jira.api, key, "changelog"), what=f"changelog of {key}", start=0,
                    list_field="values")]
            else:
                full = await jira.request("GET", issue_path(jira.api, key),
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
