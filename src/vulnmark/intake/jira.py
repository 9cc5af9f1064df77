"""Intake tickets opened in Jira (``intake.jira_project``): one issue per vulnerability, once,
even across a crash.

For each publication to open, in order:

1. the labels are checked (a label Jira would refuse stops the run before anything is sent);
2. an *intent* is committed to the store (:func:`vulnmark.store.intake.set_pending`);
3. ``POST /rest/api/{3|2}/issue`` creates the issue with the project, issue type, summary,
   description (ADF on Cloud, wiki markup on Data Center), the labels (the vulnerability
   label, the class, the watch entry's labels and :func:`id_label`, which carries the record's
   id) and the assignee (the watch entry's owner);
4. ``POST …/issue/{key}/comment`` adds the match reason;
5. the intake record, the local copy of the ticket (source ``jira``; ``sync`` refreshes it),
   the evidence record and the removal of the intent are committed together.

A run that finds an intent left by a run that stopped between 2 and 5 looks the issue up by its
id label (``project = P AND labels = "vulnmark-intake-CVE-…"``) before creating anything: found,
it is adopted (and its comment added if missing); not found, it is created. On Cloud, whose
search is eventually consistent, a young intent is looked up again after a short wait
(:attr:`JiraIntake.settle`) before a creation. Later changes of a publication become a Jira
comment the same way (intent, POST, commit; a comment carries a marker of its change, so a
resumed run does not post it twice). A run holds the store-wide lock ``intake-jira``:
concurrent runs take turns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime

import httpx

from vulnmark.config.load import Config
from vulnmark.errors import ConfigError, IntakeError, IntakeJiraFailed
from vulnmark.intake.run import Change, Intake, IntakeResult, Opening, Planned
from vulnmark.intake.ticket import blocks, title
from vulnmark.model import Ticket, TicketKey
from vulnmark.sources.jira import richtext
from vulnmark.sources.jira.client import JiraClient
from vulnmark.sources.jira.create import (
    NewIssue,
    add_comment,
    check_labels,
    comment_texts,
    create_issue,
    find_labelled,
)
from vulnmark.sources.jira.settings import (
    JiraError,
    JiraHTTPError,
    JiraSettings,
    JiraUnavailable,
    LabelError,
)
from vulnmark.store import intake as records
from vulnmark.store import tickets as store_tickets

ID_LABEL = "vulnmark-intake-"
LOCK = "intake-jira"
#: Where a field Jira refuses comes from in vulnmark.toml (exit 2: fix the configuration).
CONFIG_FIELDS = {"project": "intake.jira_project", "issuetype": "intake.jira_issue_type",
                 "assignee": "the watch entry's owner (intake.watch[].owner)"}


def id_label(record_id: str) -> str:
    """The label that finds a record's issue again: ``vulnmark-intake-CVE-2026-0001``."""
    return ID_LABEL + record_id


class JiraIntake:
    """Writes the decisions of an :class:`Intake` to Jira, then to the store."""

    settle: tuple[float, ...] = (2.0, 5.0)
    """Cloud: seconds to wait before searching again for a young intent's issue."""
    young: float = 600.0

    def __init__(self, intake: Intake, settings: JiraSettings, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 after_create: Callable[[str], None] | None = None) -> None:
        self.intake = intake
        self.settings = settings
        project = intake.settings.jira_project
        if project is None:
            raise ConfigError("intake.jira_project: not set")
        self.project = project
        self.transport = transport
        self.sleep = sleep
        self.after_create = after_create
        """Called with the key right after the issue is created (tests inject a crash)."""
        self.requests = 0

    def run(self, planned: list[Planned], kev: dict[str, tuple[str, str | None]],
            now: datetime, result: IntakeResult) -> None:
        store = self.intake.store
        with store.exclusive(LOCK):
            asyncio.run(self._batch(planned, kev, now, result))
        with store.reading() as conn:
            left = records.all_pending(conn)
        result.skipped += [f"{rid}: a Jira creation of an earlier run is pending; run intake "
                           "again with the feed that brought it" for rid in sorted(left)]

    async def _batch(self, planned: list[Planned], kev: dict[str, tuple[str, str | None]],
                     now: datetime, result: IntakeResult) -> None:
        store = self.intake.store
        async with JiraClient(self.settings, transport=self.transport,
                              sleep=self.sleep) as jira:
            try:
                for p in planned:
                    with store.reading() as conn:
                        action = self.intake.decide(conn, p, kev, now, result)
                    if isinstance(action, Opening):
                        await self._open(jira, action, now, result)
                    elif isinstance(action, Change):
                        await self._change(jira, action, now, result)
            finally:
                self.requests += jira.stats.requests

    # -- opening -----------------------------------------------------------------------

    async def _open(self, jira: JiraClient, op: Opening, now: datetime,
                    result: IntakeResult) -> None:
        store, rid = self.intake.store, op.primary
        labels = (*op.labels, id_label(rid))
        body = blocks(op.advisory, op.original, op.due, op.owner, now)
        try:
            check_labels(labels, what=rid)
        except LabelError as e:
            raise IntakeError(f"{rid}: {e.message} ({e.field}; the labels are "
                              "labels.vulnerability, the class and intake.watch[].labels): "
                              "Jira labels have no spaces; nothing was sent") from None
        try:
            await jira.detect_flavour()  # before any intent: an unreachable site leaves none
            with store.reading() as conn:
                intent = records.pending(conn, rid)
            key = await self._reconcile(jira, op, intent) if intent is not None else None
        except JiraError as e:
            raise _failed(rid, e, "looking up the issue", op.owner) from None
        if key is None:
            with store.transaction() as conn:
                records.set_pending(conn, rid, {"kind": "open", "at": time.time(),
                                                "label": id_label(rid)})
            issue = NewIssue(self.project, self.intake.settings.jira_issue_type,
                             title(rid, op.advisory), tuple(body), labels, op.owner)
            try:
                _, key = await create_issue(jira, issue, what=rid)
            except JiraUnavailable as e:  # Jira may have created it: look before anything
                try:
                    key = await self._reconcile(jira, op, {"at": time.time()})
                except JiraError:
                    key = None
                if key is None:
                    raise _failed(rid, e, "creating the issue (run intake again: it is "
                                  "looked up by its label first)", op.owner) from None
            except JiraError as e:
                if isinstance(e, JiraHTTPError) and 400 <= e.status < 500:
                    with store.transaction() as conn:  # refused: nothing was created
                        records.clear_pending(conn, rid)
                raise _failed(rid, e, "creating the issue", op.owner) from None
            else:
                if self.after_create is not None:
                    self.after_create(key)
                await self._comment(jira, key, op.comment, rid, op.owner)
        ticket = self.intake.ticket_of(replace(op, labels=labels), TicketKey(key), now,
                                       source="jira", url=f"{self.settings.site}/browse/{key}",
                                       assignee_id=op.owner, assignee_email=None)
        ticket = replace(ticket, description=richtext.plain(body))
        with store.transaction() as conn:
            records.lock(conn)
            self.intake.write_open(conn, op, TicketKey(key), now, result, ticket)
            records.clear_pending(conn, rid)
        result.lines[-1] += f" in Jira {self.settings.site}/browse/{key}"

    async def _reconcile(self, jira: JiraClient, op: Opening, intent: dict[str, object]
                         ) -> str | None:
        """The issue an interrupted run created for ``op`` (its match comment added if
        missing), or None when it never reached Jira."""
        label = id_label(op.primary)
        found = await find_labelled(jira, self.project, label)
        age = time.time() - float(intent.get("at") or 0)  # type: ignore[arg-type]
        if not found and jira.flavour == "cloud" and age < self.young:
            for delay in self.settle:  # Cloud search may not show a new issue at once
                await self.sleep(delay)
                found = await find_labelled(jira, self.project, label)
                if found:
                    break
        if not found:
            return None
        key = found[0][1]
        if not any(op.comment in text for text in await comment_texts(jira, key)):
            await self._comment(jira, key, op.comment, op.primary, op.owner)
        return key

    async def _comment(self, jira: JiraClient, key: str, text: str, rid: str,
                       owner: str | None) -> None:
        try:
            await add_comment(jira, key, (("p", tuple(text.splitlines())),), what=rid)
        except JiraError as e:
            raise _failed(rid, e, f"adding the comment on {key} (the issue exists; run intake "
                          "again to add it)", owner) from None

    # -- changes -----------------------------------------------------------------------

    async def _change(self, jira: JiraClient, c: Change, now: datetime,
                      result: IntakeResult) -> None:
        store, rid = self.intake.store, c.record.id
        with store.reading() as conn:
            local = store_tickets.get(conn, c.record.ticket, history=False)
        in_jira = local is not None and local.source == "jira"
        if c.changes and in_jira:
            mark = f"(vulnmark intake update {c.new.digest[:12]})"
            text = f"{c.comment} {mark}"
            with store.reading() as conn:
                intent = records.pending(conn, rid)
            done = intent is not None and intent.get("digest") == c.new.digest and any(
                mark in t for t in await comment_texts(jira, c.record.ticket))
            if not done:
                with store.transaction() as conn:
                    records.set_pending(conn, rid, {"kind": "update", "at": time.time(),
                                                    "digest": c.new.digest})
                await self._comment(jira, c.record.ticket, text, rid, None)
        with store.transaction() as conn:
            records.lock(conn)
            self.intake.write_change(conn, c, now, result)
            records.clear_pending(conn, rid)


def _failed(rid: str, e: JiraError, what: str, owner: str | None) -> IntakeError:
    fields = e.fields if isinstance(e, JiraHTTPError) else {}
    named = [f"field {name} ({CONFIG_FIELDS.get(name, 'from the record')}"
             + (f" = {owner!r}" if name == "assignee" and owner else "") + f"): {msg}"
             for name, msg in fields.items()]
    if named:
        message = f"{rid}: Jira refused {what}: {'; '.join(named)}"
    else:
        message = f"{rid}: {what}: {e}"
    if fields and set(fields) <= set(CONFIG_FIELDS):
        return IntakeError(message + "; nothing was created")
    return IntakeJiraFailed(message)


def attach(intake: Intake, env: Mapping[str, str], *,
           transport: httpx.AsyncBaseTransport | None = None) -> JiraIntake | None:
    """Make ``intake`` open its tickets in Jira when ``intake.jira_project`` is set (the site
    and credentials of ``[source.jira]``); returns the writer, or None for the embedded
    tracker."""
    if intake.settings.jira_project is None or intake.options.dry_run:
        return None  # a dry run sends nothing (and needs no credentials)
    settings = JiraSettings.from_config(intake.config.jira, env, need_jql=False)
    writer = JiraIntake(intake, settings, transport=transport)
    intake.writer = writer
    return writer


def relabel_in_jira(config: Config, env: Mapping[str, str], *,
                    transport: httpx.AsyncBaseTransport | None = None
                    ) -> Callable[[Ticket, tuple[str, ...], tuple[str, ...]], None]:
    """For ``vulnmark assess --reclassify`` of a ticket that lives in Jira: its class label
    changed there (``PUT issue`` with label add/remove operations) before anything is
    recorded, so the next ``sync`` does not undo it."""

    def relabel(ticket: Ticket, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
        settings = JiraSettings.from_config(config.jira, env, need_jql=False)

        async def go() -> None:
            async with JiraClient(settings, transport=transport) as jira:
                await jira.detect_flavour()
                await jira.edit_labels(ticket.key, list(add), list(remove))

        try:
            asyncio.run(go())
        except JiraError as e:
            raise IntakeJiraFailed(f"{ticket.key}: the reclassification was not recorded: "
                                   f"{e}") from None

    return relabel
