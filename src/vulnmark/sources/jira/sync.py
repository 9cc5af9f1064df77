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
import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from vulnmark._time import iso, parse
from vulnmark.errors import InputError, SourceError, StoreUnavailable
from vulnmark.evidence.events import JiraSynced
from vulnmark.model import Ticket
from vulnmark.sources.files.jira_json import ticket_from_jira
from vulnmark.sources.jira.client import JSON, JiraClient
from vulnmark.sources.jira.jql import sync_jql
from vulnmark.sources.jira.paging import Pager
from vulnmark.sources.jira.settings import JiraResponseError, JiraSettings
from vulnmark.store import Store
from vulnmark.store.runs import record_run

logger = logging.getLogger(__name__)

STATE_KEY = "jira.sync"
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


def sync_and_record(store: Store, settings: JiraSettings, *, at: datetime, policy_digest: str,
                    full: bool = False, progress: Progress | None = None) -> SyncResult:
    """``vulnmark sync``: :func:`run_sync`, recorded as a sync run; a failed sync is recorded
    too (the next report lists it) unless the store itself failed."""
    try:
        result = run_sync(store, settings, full=full, progress=progress)
    except (SourceError, StoreUnavailable) as e:
        try:
            record_run(store, kind="sync", at=at, policy_digest=policy_digest, counts={},
                       error=f"{settings.site}: {e}")
        except StoreUnavailable:
            pass
        raise
    record_run(store, kind="sync", at=at, policy_digest=policy_digest,
               counts={"issues": result.issues, "inserted": result.inserted,
                       "updated": result.updated, "unchanged": result.unchanged,
                       "gone": result.gone, "requests": result.requests})
    return result


class Syncer:
    def __init__(self, store: Store, settings: JiraSettings, *, progress: Progress | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.settings = settings
        self.progress = progress
        self.transport = transport
        self.clock = clock
        self.pager = Pager(settings)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vulnmark-store")
        self._in_memory = store.in_memory

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
            lambda: self.store.upsert_tickets(tickets, state={STATE_KEY: dumped},
                                              from_source=True))

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
        return tickets, self.store.upsert_tickets(tickets, state={STATE_KEY: dumped},
                                                  from_source=True)

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
        async for raw_issues in self.pager.pages(jira, flavour, jql):
            raw_issues = await self.pager.complete(jira, flavour, raw_issues)
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
                seen = await self.pager.all_keys(jira, flavour, self.clock())
            missing = self.store.ticket_keys(source="jira") - seen
            gone = self.store.mark_gone(missing, at=self.clock(), reason=GONE_REASON)
        state["watermark"] = run["started"]
        state["run"] = None
        await self._store([], state)
        result = SyncResult(flavour, full, resumed, since, pages, issues_n, ins, upd, unch, gone,
                            jira.stats.requests, jira.stats.extra, jira.stats.retries)
        self.store.record(JiraSynced(
            site=self.settings.site, scope=self.settings.jql, flavour=flavour, full=full,
            resumed=resumed, since=run["since"], issues=issues_n, inserted=ins, updated=upd,
            unchanged=unch, gone=gone, requests=jira.stats.requests))
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

def _iso(t: datetime) -> str:
    text = iso(t)
    assert text is not None
    return text


def _parse(s: str) -> datetime:
    when = parse(s)
    assert when is not None
    return when
