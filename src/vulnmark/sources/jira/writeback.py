"""Write labels back to Jira (used by ``backfill --apply``): validated, idempotent, evidenced.

* Every label is checked (non-empty, no whitespace, at most 255 characters) before any request;
  one bad label stops the whole batch with :class:`LabelError` (exit 2).
* The current labels are read first (one search per 100 issues, ``fields=labels``): a label
  already present is not added again, a label absent is not removed, an issue needing nothing is
  reported ``unchanged`` and not touched.
* Dry run is the default: nothing is written, the outcomes say what would be.
* Per issue ``PUT /rest/api/{3|2}/issue/{key}`` with ``{"update": {"labels": [{"add": …}]}}``;
  on Cloud, ``bulk_threshold`` or more issues needing the same change go through
  ``POST /rest/api/3/bulk/issues/fields`` (1000 issues a task) and the task is polled.
* Every applied change is appended to the evidence log (a ``label_change`` record).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from vulnmark.errors import InputError
from vulnmark.evidence.events import LabelChanged
from vulnmark.sources.interface import JIRA_KEY, MAX_KEY_LENGTH, check_label
from vulnmark.sources.jira.client import JSON, JiraClient, issue_path
from vulnmark.sources.jira.settings import (
    JiraAuthError,
    JiraError,
    JiraNotFound,
    JiraResponseError,
    JiraSettings,
    LabelError,
)
from vulnmark.store import Store

logger = logging.getLogger(__name__)

Status = Literal["would_apply", "applied", "unchanged", "not_found", "failed"]


@dataclass(frozen=True)
class LabelEdit:
    """Labels to add to and remove from one issue."""

    key: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelOutcome:
    key: str
    status: Status
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    error: str | None = None


def validate(edits: Iterable[LabelEdit]) -> list[LabelEdit]:
    """Check every label before anything is sent; raises :class:`LabelError`."""
    out = []
    for edit in edits:
        for kind, labels in (("add", edit.add), ("remove", edit.remove)):
            for i, label in enumerate(labels):
                try:
                    check_label(label, what=edit.key, field=f"{kind}[{i}]")
                except InputError as e:
                    raise LabelError(e.message, field=e.field) from None
        out.append(edit)
    return out


def apply_labels(
    store: Store,
    settings: JiraSettings,
    edits: Iterable[LabelEdit],
    *,
    dry_run: bool = True,
    actor: str | None = None,
    bulk_threshold: int = 50,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[LabelOutcome]:
    """Apply ``edits`` (or, with ``dry_run``, say what would be applied)."""
    checked = validate(edits)
    return asyncio.run(_apply(store, settings, checked, dry_run=dry_run, actor=actor,
                              bulk_threshold=bulk_threshold, transport=transport, sleep=sleep))


async def _apply(store: Store, settings: JiraSettings, edits: list[LabelEdit], *, dry_run: bool,
                 actor: str | None, bulk_threshold: int,
                 transport: httpx.AsyncBaseTransport | None,
                 sleep: Callable[[float], Awaitable[None]]) -> list[LabelOutcome]:
    # m3: a key that is not a Jira issue key is never sent (not in a path, not in a body).
    bad = [e for e in edits if not JIRA_KEY.fullmatch(e.key) or len(e.key) > MAX_KEY_LENGTH]
    edits = [e for e in edits if e not in bad]
    async with JiraClient(settings, transport=transport, sleep=sleep) as jira:
        flavour = await jira.detect_flavour()
        current = await _current(jira, flavour, [e.key for e in edits])
        plan: list[LabelOutcome] = [
            LabelOutcome(e.key, "failed", error="not a Jira issue key (like PROJ-123); "
                                                "nothing sent") for e in bad]
        for e in edits:
            if e.key not in current:
                plan.append(LabelOutcome(e.key, "not_found", error="not in Jira or not visible"))
                continue
            have = set(current[e.key][1])
            add = tuple(dict.fromkeys(a for a in e.add if a not in have))
            remove = tuple(dict.fromkeys(r for r in e.remove if r in have and r not in add))
            status: Status = "unchanged" if not add and not remove else "would_apply"
            plan.append(LabelOutcome(e.key, status, add, remove))
        if dry_run:
            for p in plan:
                if p.status == "would_apply":
                    logger.info("would change labels of %s: +%s -%s", p.key, list(p.added),
                                list(p.removed))
            return plan
        todo = [p for p in plan if p.status == "would_apply"]
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[LabelOutcome]] = (
            defaultdict(list))
        for p in todo:
            groups[(p.added, p.removed)].append(p)
        done: dict[str, LabelOutcome] = {}
        sem = asyncio.Semaphore(settings.concurrency)

        async def put(p: LabelOutcome) -> None:
            async with sem:
                try:
                    await jira.edit_labels(p.key, list(p.added), list(p.removed))
                    done[p.key] = LabelOutcome(p.key, "applied", p.added, p.removed)
                except JiraAuthError:
                    raise
                except JiraError as err:
                    done[p.key] = LabelOutcome(p.key, "failed", p.added, p.removed, str(err))

        for (add, remove), members in groups.items():
            if flavour == "cloud" and len(members) >= bulk_threshold:
                ids = {m.key: current[m.key][0] for m in members}
                for chunk_start in range(0, len(members), 1000):
                    chunk = members[chunk_start:chunk_start + 1000]
                    ok = await _bulk(jira, [m.key for m in chunk], add, remove, sleep)
                    for m in chunk:
                        applied = ids[m.key] in ok
                        done[m.key] = LabelOutcome(
                            m.key, "applied" if applied else "failed", add, remove,
                            None if applied else "bulk edit did not process this issue")
            else:
                await asyncio.gather(*(put(m) for m in members))
        outcomes = [done.get(p.key, p) for p in plan]
        for o in outcomes:
            if o.status == "applied":
                now = datetime.now(UTC)
                store.record(LabelChanged(o.key, o.added, o.removed, by=actor or "vulnmark",
                                          via="jira", observed_at=now, site=settings.site),
                             at=now)
        return outcomes


async def _current(jira: JiraClient, flavour: str,
                   keys: Sequence[str]) -> dict[str, tuple[int, list[str]]]:
    """Issue id and labels for ``keys``: 100 a request on Cloud (``issue/bulkfetch``, which
    leaves out unknown keys where a ``key in (…)`` search would fail), one GET each on DC."""
    out: dict[str, tuple[int, list[str]]] = {}
    unique = list(dict.fromkeys(keys))
    found: list[JSON] = []
    if flavour == "cloud":
        for i in range(0, len(unique), 100):
            page = await jira.request("POST", "/rest/api/3/issue/bulkfetch",
                                      what="issue labels",
                                      json={"issueIdsOrKeys": unique[i:i + 100],
                                            "fields": ["labels"]})
            issues = (page or {}).get("issues")
            if not isinstance(issues, list):
                raise JiraResponseError(f"{jira.settings.site}: issue/bulkfetch: no 'issues'")
            found += issues
    else:
        sem = asyncio.Semaphore(jira.settings.concurrency)

        async def one(key: str) -> JSON | None:
            async with sem:
                try:
                    issue = await jira.request("GET", issue_path(jira.api, key),
                                               what=f"issue {key}", params={"fields": "labels"})
                except JiraNotFound:
                    return None
                return issue if isinstance(issue, dict) else None

        found = [i for i in await asyncio.gather(*(one(k) for k in unique)) if i]
    for issue in found:
        labels = (issue.get("fields") or {}).get("labels") or []
        if not isinstance(labels, list):
            raise JiraResponseError(f"{jira.settings.site}: issue {issue.get('key')}: field "
                                    "labels is not a list")
        out[str(issue.get("key"))] = (int(issue.get("id") or 0), [str(x) for x in labels])
    return out


async def _bulk(jira: JiraClient, keys: list[str], add: tuple[str, ...], remove: tuple[str, ...],
                sleep: Callable[[float], Awaitable[None]]) -> set[int]:
    """Cloud bulk edit: one task per option (ADD, REMOVE); returns the ids processed by all."""
    processed: set[int] | None = None
    for option, labels in (("ADD", add), ("REMOVE", remove)):
        if not labels:
            continue
        body: JSON = {
            "selectedIssueIdsOrKeys": keys, "selectedActions": ["labels"],
            "editedFieldsInput": {"labelsFields": [{
                "fieldId": "labels", "bulkEditMultiSelectFieldOption": option,
                "labels": [{"name": n} for n in labels]}]},
            "sendBulkNotification": False}
        task = await jira.request("POST", "/rest/api/3/bulk/issues/fields",
                                  what=f"bulk edit of {len(keys)} issues", json=body)
        task_id = str((task or {}).get("taskId"))
        delay = 0.5
        while True:
            progress = await jira.request("GET", f"/rest/api/3/bulk/queue/{task_id}",
                                          what=f"bulk edit task {task_id}")
            status = (progress or {}).get("status")
            if status in ("COMPLETE", "FAILED", "CANCELLED", "DEAD"):
                break
            await sleep(delay)
            delay = min(delay * 2, 10.0)
        ids = {int(x) for x in (progress.get("processedAccessibleIssues") or [])}
        processed = ids if processed is None else processed & ids
    return processed or set()
