"""``vulnmark intake run`` without ``--from``: the NVD CVE API 2.0, incremental and resumable.

A run reads the records modified since the end of the last completed run (``--since`` for
the first one; default 7 days back), page by page (:class:`~vulnmark.intake.feeds.nvd_api.
NvdApi`). After each page's publications are in the store, the page's cursor is saved (state
``intake.nvd.cursor``); a run that stops is resumed from it by the next run, and the pages read
again change nothing (each publication is idempotent). A completed run saves its end as
``intake.nvd.until``, the start of the next one. :func:`run_recorded` is the same run recorded
as an ``intake`` run (``vulnmark intake run``, ``schedule`` before each report, ``watch`` at each
tick): a failed one too, so that the daily report's control health shows it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vulnmark.config.load import Config
from vulnmark.errors import StoreUnavailable, VulnmarkError
from vulnmark.intake.feeds.nvd_api import Cursor, NvdApi
from vulnmark.intake.run import Intake, IntakeOptions, IntakeResult
from vulnmark.store import Store
from vulnmark.store import runs as store_runs

logger = logging.getLogger(__name__)

CURSOR = "intake.nvd.cursor"
SENT = "intake.nvd.sent"
"""The times of the last requests (the rate limit is a rolling 30 s across runs)."""
UNTIL = "intake.nvd.until"
FIRST_RUN = timedelta(days=7)
RUN_KIND = "intake"


@dataclass(frozen=True)
class LiveRun:
    result: IntakeResult
    since: datetime
    until: datetime
    resumed: bool
    requests: int
    pages: int


def run_live(store: Store, config: Config, api: NvdApi, *, now: datetime,
             options: IntakeOptions | None = None,
             progress: Callable[[int], None] | None = None,
             prepare: Callable[[Intake], object] | None = None) -> LiveRun:
    """Read the NVD from where the last run stopped (or ``options.since``) up to ``now``
    (``prepare`` is called with the :class:`Intake` first, e.g. to open tickets in Jira)."""
    options = options or IntakeOptions()
    saved = store.get_state(CURSOR)
    resume = Cursor.from_dict(json.loads(saved)) if saved else None
    if resume is not None and options.since is None:
        since, until = resume.since, resume.until
    else:
        resume = None
        last = store.get_state(UNTIL)
        since = options.since or (datetime.fromisoformat(last) if last else now - FIRST_RUN)
        until = now
    saved_sent = store.get_state(SENT)
    if saved_sent and not api.sent:  # a new client: go on counting from the run before
        api.sent.extend(sorted(json.loads(saved_sent)))
    intake = Intake(store, config, options)
    if prepare is not None:
        prepare(intake)
    total = IntakeResult("nvd")
    pages = 0
    for page in api.pages(since, until, resume=resume):
        done = intake.run(page.advisories, feed="nvd", now=now)
        _add(total, done)
        pages += 1
        if progress is not None:
            progress(len(page.advisories))
        if not options.dry_run:
            store.set_state(SENT, json.dumps(list(api.sent)))
            store.set_state(CURSOR, json.dumps(page.next.as_dict()) if page.next else "")
    if not options.dry_run:
        store.set_state(UNTIL, until.isoformat())
        store.set_state(CURSOR, "")
    return LiveRun(total, since, until, resume is not None, api.requests, pages)


def run_recorded(store: Store, config: Config, api: NvdApi, *, now: datetime,
                 options: IntakeOptions | None = None,
                 progress: Callable[[int], None] | None = None,
                 prepare: Callable[[Intake], object] | None = None) -> LiveRun:
    """:func:`run_live`, recorded as an ``intake`` run with its counts; a run that failed (the
    NVD down, the key refused, a bad record) is recorded with its error, then the error is
    raised. A dry run records nothing."""
    options = options or IntakeOptions()
    if options.dry_run:
        return run_live(store, config, api, now=now, options=options, progress=progress,
                        prepare=prepare)
    digest = config.policy.digest()
    try:
        live = run_live(store, config, api, now=now, options=options, progress=progress,
                        prepare=prepare)
    except VulnmarkError as e:  # a feed or Jira failure, or Jira's settings
        try:
            store_runs.record_run(store, kind=RUN_KIND, at=now, policy_digest=digest,
                                  counts={"requests": api.requests}, error=str(e))
        except StoreUnavailable:
            pass
        raise
    r = live.result
    store_runs.record_run(store, kind=RUN_KIND, at=now, policy_digest=digest, counts={
        "read": r.read, "matched": r.matched, "opened": len(r.opened),
        "updated": len(r.updated), "unchanged": r.unchanged, "skipped": len(r.skipped),
        "proposals": len(r.proposals), "pages": live.pages, "requests": live.requests})
    return live


def _add(total: IntakeResult, part: IntakeResult) -> None:
    total.read += part.read
    total.matched += part.matched
    total.opened += part.opened
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.skipped += part.skipped
    total.proposals += part.proposals
    total.lines += part.lines
