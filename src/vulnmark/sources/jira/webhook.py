"""Jira webhook handling (the web server comes later; it will call :meth:`WebhookHandler.handle`).

* Authenticity: an admin webhook with a secret sends ``X-Hub-Signature: sha256=<hex>``, the
  HMAC-SHA256 of the raw body; it is checked on the raw bytes, before parsing, with a
  constant-time compare. Without a configured secret every request is refused (fail closed)
  unless ``allow_unsigned=True``.
* Deduplication: ``X-Atlassian-Webhook-Identifier`` is stable across Jira's retries; the last
  :data:`DEDUPE_KEEP` identifiers are kept in the store's state, written in the same
  transaction as the ticket, so a retry after a crash is neither lost nor applied twice.
* ``jira:issue_created`` / ``jira:issue_updated``: the issue (v2 representation) is upserted;
  a ``labels`` item of the event's changelog becomes a label-history entry, added to the
  history already stored; comments already stored are kept when the payload carries fewer.
* ``jira:issue_deleted``: the ticket is recorded as gone (kept, not dropped).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from vulnmark.errors import InputError, SourceError
from vulnmark.model import Ticket
from vulnmark.sources.files.jira_json import ticket_from_jira
from vulnmark.store import Store

logger = logging.getLogger(__name__)

STATE_KEY = "jira.webhook.seen"
DEDUPE_KEEP = 1000
HANDLED = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


class WebhookError(SourceError):
    """A request the receiver must refuse; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookResult:
    status: Literal["applied", "deleted", "duplicate", "ignored"]
    event: str | None = None
    key: str | None = None


def signature(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class WebhookHandler:
    def __init__(self, store: Store, *, secret: str | bytes | None, base_url: str | None = None,
                 discovery_field: str | None = None, allow_unsigned: bool = False) -> None:
        self.store = store
        self.secret = secret
        self.base_url = base_url
        self.discovery_field = discovery_field
        self.allow_unsigned = allow_unsigned

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        if not self.secret:
            if self.allow_unsigned:
                return
            raise WebhookError("no webhook secret is configured; refusing unsigned requests", 401)
        sent = _header(headers, "X-Hub-Signature")
        if not sent:
            raise WebhookError("missing X-Hub-Signature header", 401)
        if not hmac.compare_digest(sent.strip().encode(), signature(self.secret, body).encode()):
            raise WebhookError("X-Hub-Signature does not match the body", 401)

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        self.verify(body, headers)
        delivery = _header(headers, "X-Atlassian-Webhook-Identifier")
        seen = self._seen()
        if delivery and delivery in seen:
            return WebhookResult("duplicate")
        try:
            payload = json.loads(body)
        except ValueError as e:
            raise WebhookError(f"body is not JSON: {e}", 400) from None
        if not isinstance(payload, dict):
            raise WebhookError("body is not a JSON object", 400)
        event = payload.get("webhookEvent")
        issue = payload.get("issue")
        if event not in HANDLED:
            return WebhookResult("ignored", str(event) if event else None)
        if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
            raise WebhookError(f"{event}: no issue key in the payload", 400)
        key = issue["key"]
        at = _timestamp(payload.get("timestamp"))
        state = {STATE_KEY: json.dumps((seen + [delivery])[-DEDUPE_KEEP:])} if delivery else {}
        if event == "jira:issue_deleted":
            self.store.mark_gone([key], at=at, reason="deleted in Jira (webhook)")
            if state:
                self.store.upsert_tickets([], state=state)
            return WebhookResult("deleted", event, key)
        issue = _with_label_change(issue, payload, at)
        try:
            ticket = ticket_from_jira(issue, base_url=self.base_url,
                                      discovery_field=self.discovery_field, source="jira")
        except InputError as e:
            raise WebhookError(f"{event}: issue {key}: {e}", 400) from e
        ticket = self._merge(ticket)
        self.store.upsert_tickets([ticket], state=state)
        return WebhookResult("applied", event, key)

    def _seen(self) -> list[str]:
        raw = self.store.get_state(STATE_KEY)
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            value = []
        return [str(v) for v in value] if isinstance(value, list) else []

    def _merge(self, ticket: Ticket) -> Ticket:
        old = self.store.get_ticket(ticket.key)
        if old is None:
            return ticket
        history = list(old.label_history)
        for change in ticket.label_history:
            if change not in history:
                history.append(change)
        history.sort(key=lambda c: c.at)
        comments = ticket.comments if len(ticket.comments) >= len(old.comments) else old.comments
        return replace(ticket, label_history=tuple(history), comments=comments)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    low = name.lower()
    for k, v in headers.items():
        if k.lower() == low:
            return v
    return None


def _timestamp(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.now(UTC)


def _with_label_change(issue: dict[str, Any], payload: dict[str, Any],
                       at: datetime) -> dict[str, Any]:
    """The event's changelog as a one-entry ``changelog.histories`` of the issue."""
    changelog = payload.get("changelog")
    if not isinstance(changelog, dict):
        return issue
    items = [i for i in changelog.get("items") or [] if isinstance(i, dict)
             and i.get("field") == "labels"]
    if not items:
        return issue
    history = {"id": str(changelog.get("id", "")), "author": payload.get("user"),
               "created": at.isoformat(), "items": items}
    return {**issue, "changelog": {"startAt": 0, "maxResults": 1, "total": 1,
                                   "histories": [history]}}
