"""Jira webhook handling (the web server comes later; it will call :meth:`WebhookHandler.handle`).

* Authenticity: an admin webhook with a secret sends ``X-Hub-Signature: sha256=<hex>``, the
  HMAC-SHA256 of the raw body; it is checked on the raw bytes, before parsing, with a
  constant-time compare. Without a configured secret every request is refused (fail closed)
  unless ``allow_unsigned=True``.
* Limits: a body over :data:`MAX_BODY_BYTES` is refused (413) before anything else; after the
  signature, the body is decoded strictly (:mod:`vulnmark.sources.strict_json`: duplicate
  members, lone surrogates, NUL, huge integers) and at most :data:`MAX_DEPTH` levels deep.
* Deduplication: ``X-Atlassian-Webhook-Identifier`` is stable across Jira's retries; the last
  :data:`DEDUPE_KEEP` identifiers are kept in the store's state, written in the same
  transaction as the ticket. Deliveries are applied one at a time (a store-wide lock, across
  threads and processes: m11), so concurrent deliveries neither lose an identifier nor apply a
  retry twice.
* Order: Jira does not deliver in order, and an identifier proves nothing about freshness (a
  captured signed body can be replayed under a new one). An event is applied only if the
  issue's ``fields.updated`` (else the event's ``timestamp``) is not older than what is stored
  for that issue; an older one is answered ``stale`` and changes nothing (F13).
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
from vulnmark.sources import strict_json
from vulnmark.sources.files.jira_json import ticket_from_jira
from vulnmark.store import Store

logger = logging.getLogger(__name__)

STATE_KEY = "jira.webhook.seen"
DEDUPE_KEEP = 1000
#: The largest body accepted (Jira's issue events are a few KiB; with comments, rarely 1 MiB).
MAX_BODY_BYTES = 8 * 1024 * 1024
#: The deepest nesting of arrays and objects accepted in a body.
MAX_DEPTH = 64
HANDLED = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


class WebhookError(SourceError):
    """A request the receiver must refuse; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookResult:
    status: Literal["applied", "deleted", "duplicate", "ignored", "stale"]
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
        if len(body) > MAX_BODY_BYTES:
            raise WebhookError(f"body of {len(body)} bytes is larger than {MAX_BODY_BYTES}", 413)
        self.verify(body, headers)  # the signature first: nothing unsigned is even parsed
        try:
            payload = strict_json.loads(body, max_depth=MAX_DEPTH, replace=True)
        except InputError as e:
            raise WebhookError(f"body refused: {e}", 400) from None
        except ValueError as e:
            raise WebhookError(f"body is not JSON: {e}", 400) from None
        with self.store.exclusive("webhook"):  # one delivery at a time (m11)
            return self._apply(payload, _header(headers, "X-Atlassian-Webhook-Identifier"))

    def _apply(self, payload: object, delivery: str | None) -> WebhookResult:
        seen = self._seen()
        if delivery and delivery in seen:
            return WebhookResult("duplicate")
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
        stored = self.store.get_ticket(key)
        if event == "jira:issue_deleted":
            if stored is not None and _older(at, stored):
                self.store.upsert_tickets([], state=state)
                return WebhookResult("stale", event, key)
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
        if stored is not None and _older(ticket.updated or at, stored):
            self.store.upsert_tickets([], state=state)  # remembered, changes nothing
            logger.info("webhook %s for %s is older than the stored issue: not applied",
                        event, key)
            return WebhookResult("stale", event, key)
        ticket = self._merge(ticket, stored)
        self.store.upsert_tickets([ticket], state=state, from_source=True)
        return WebhookResult("applied", event, key)

    def _seen(self) -> list[str]:
        raw = self.store.get_state(STATE_KEY)
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            value = []
        return [str(v) for v in value] if isinstance(value, list) else []

    @staticmethod
    def _merge(ticket: Ticket, old: Ticket | None) -> Ticket:
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
    """The event's ``timestamp`` (milliseconds since the epoch); now when absent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):  # 1e300, -1e20, nan
            raise WebhookError(f"timestamp {value!r} is not a time", 400) from None
    return datetime.now(UTC)


def _older(when: datetime, stored: Ticket) -> bool:
    """Whether an event about the state at ``when`` is older than the stored issue."""
    current = stored.updated or stored.created
    return when < current


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
