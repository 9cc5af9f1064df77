"""A small async Jira REST client: auth, timeouts, retries, paging, errors that name the site.

The HTTP layer is injectable (``transport=httpx.ASGITransport(app=emulator)`` in tests). Every
request has a timeout; 429 and 503 (and 502/504, network errors) are retried, honouring
``Retry-After`` (seconds or an HTTP date) and ``X-RateLimit-Reset`` (ISO 8601), otherwise with
exponential backoff, full jitter and a cap.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from vulnmark.errors import InputError
from vulnmark.sources import strict_json
from vulnmark.sources.interface import JIRA_KEY, check_key
from vulnmark.sources.jira.settings import (
    JiraAuthError,
    JiraConfigError,
    JiraHTTPError,
    JiraNotFound,
    JiraQueryError,
    JiraResponseError,
    JiraSettings,
    JiraUnavailable,
)

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
RETRY_STATUSES = {429, 502, 503, 504}


@dataclass
class Stats:
    requests: int = 0
    """HTTP requests sent, retries included."""
    retries: int = 0
    extra: int = 0
    """Requests for comment / changelog pages that a search result cut off."""
    waited: float = 0.0


def issue_path(api: str, key: str, *rest: str) -> str:
    """``{api}/issue/{key}[/rest...]`` for a valid Jira issue key (:data:`JIRA_KEY`), every
    segment percent-encoded: a key from an import file or an old store never becomes a path of
    its own choosing (m3: ``../../secure/admin/...`` took the token there)."""
    check_key(key, syntax=JIRA_KEY)
    return "/".join([api, "issue", *(quote(part, safe="") for part in (key, *rest))])


def _safe_path(path: str) -> str:
    """``path`` if it is a plain absolute path (no dot segments, query or fragment); the last
    line of defence before the credentials go out with a request."""
    if (not path.startswith("/") or "?" in path or "#" in path or "\\" in path
            or any(seg in (".", "..") or "%2e" in seg.lower() for seg in path.split("/"))):
        raise InputError(f"refusing to send a request to the path {ascii(path[:80])}",
                         field="key")
    return path


class JiraClient:
    """Use as ``async with JiraClient(settings) as jira: ...``."""

    def __init__(
        self,
        settings: JiraSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.stats = Stats()
        self._sleep = sleep
        self._rng = rng
        self.flavour: Literal["cloud", "datacenter"] | None = (
            None if settings.flavour == "auto" else settings.flavour
        )
        verify: ssl.SSLContext | bool = True
        if settings.ca_bundle:
            try:
                verify = ssl.create_default_context(cafile=settings.ca_bundle)
            except (OSError, ssl.SSLError) as e:
                raise JiraConfigError(f"cannot load CA bundle {settings.ca_bundle}: {e}",
                                      field="source.jira.ca_bundle") from e
        headers = {"Accept": "application/json", "User-Agent": "vulnmark"}
        auth: httpx.Auth | None = None
        if settings.pat:
            headers["Authorization"] = f"Bearer {settings.pat}"
        elif settings.email and settings.token:
            auth = httpx.BasicAuth(settings.email, settings.token)
        self._http = httpx.AsyncClient(
            base_url=settings.site, headers=headers, auth=auth, verify=verify,
            timeout=httpx.Timeout(settings.timeout), transport=transport,
            limits=httpx.Limits(max_connections=max(4, settings.concurrency * 2)),
        )

    async def __aenter__(self) -> JiraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.flavour == "cloud" else "/rest/api/2"

    # ---- requests --------------------------------------------------------------------------
    async def request(self, method: str, path: str, *, what: str, params: JSON | None = None,
                      json: Any = None, idempotent: bool = True) -> Any:
        """One call with retries; returns the decoded JSON (None for 204). A request that is
        not ``idempotent`` (a creation) is retried only when Jira surely did not act on it
        (429, or the connection was never made); a timeout or a 5xx after sending is
        :class:`JiraUnavailable` at once (the caller finds out what happened)."""
        attempt = 0
        if what.startswith(("comments of", "changelog of")):
            self.stats.extra += 1
        while True:
            self.stats.requests += 1
            try:
                async with asyncio.timeout(self.settings.timeout):
                    resp = await self._send(method, _safe_path(path), what, params=params,
                                            json=json)
            except (httpx.TimeoutException, TimeoutError) as e:
                reason = f"timed out after {self.settings.timeout:g} s ({type(e).__name__})"
                delay = None
                sent = not isinstance(e, httpx.ConnectTimeout)
            except httpx.TransportError as e:
                if _cert_error(e):
                    raise JiraUnavailable(
                        f"{self.settings.site}: {what}: TLS certificate verification failed "
                        f"({e}); if the site uses a private CA, set source.jira.ca_bundle to "
                        "its PEM file (verification is never turned off)") from e
                reason, delay = f"connection failed: {e}", None
                sent = not isinstance(e, httpx.ConnectError)
            else:
                if resp.status_code < 400:
                    return self._decode(resp, what)
                if resp.status_code not in RETRY_STATUSES:
                    self._raise(resp, what)
                reason = f"HTTP {resp.status_code}"
                delay = self._server_delay(resp)
                sent = resp.status_code != 429
            if sent and not idempotent:
                raise JiraUnavailable(f"{self.settings.site}: {what}: {reason}; not retried "
                                      "(Jira may have acted on it)")
            if attempt >= self.settings.max_retries:
                raise JiraUnavailable(f"{self.settings.site}: {what}: {reason}; gave up after "
                                      f"{attempt + 1} attempts")
            if delay is None:
                cap = min(self.settings.backoff_cap, self.settings.backoff_base * 2**attempt)
                delay = cap * (0.5 + self._rng() / 2)
            elif delay > self.settings.max_retry_after:
                raise JiraUnavailable(f"{self.settings.site}: {what}: {reason}; Jira asks to wait "
                                      f"{delay:.0f} s, more than {self.settings.max_retry_after:g}")
            attempt += 1
            self.stats.retries += 1
            self.stats.waited += delay
            logger.info("%s: %s: %s; retry %d in %.1f s", self.settings.site, what, reason,
                        attempt, delay)
            await self._sleep(delay)

    async def _send(self, method: str, path: str, what: str, *, params: JSON | None,
                    json: Any) -> httpx.Response:
        """One HTTP exchange, the body read up to ``max_response_mb`` (decompressed)."""
        limit = self.settings.max_response_mb * 1024 * 1024
        async with self._http.stream(method, path, params=params, json=json) as resp:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise JiraResponseError(
                        f"{self.settings.site}: {what}: the response is larger than "
                        f"source.jira.max_response_mb = {self.settings.max_response_mb} MiB")
                chunks.append(chunk)
        headers = [(k, v) for k, v in resp.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length",
                                        "transfer-encoding")]
        return httpx.Response(resp.status_code, headers=headers, content=b"".join(chunks),
                              request=resp.request)

    @staticmethod
    def _server_delay(resp: httpx.Response) -> float | None:
        value = resp.headers.get("Retry-After")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                    return max(0.0, (when - datetime.now(UTC)).total_seconds())
                except (TypeError, ValueError):
                    pass
        reset = resp.headers.get("X-RateLimit-Reset")
        if reset:
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except ValueError:
                pass
        return None

    def _decode(self, resp: httpx.Response, what: str) -> Any:
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return strict_json.loads(resp.content, replace=True)
        except InputError as e:  # a duplicate member, a huge integer
            raise JiraResponseError(f"{self.settings.site}: {what}: {e}") from None
        except ValueError:
            raise JiraResponseError(
                f"{self.settings.site}: {what}: the response is not JSON (HTTP "
                f"{resp.status_code}, {resp.headers.get('content-type', 'no content type')}): "
                f"{resp.text[:120]!r}") from None

    def _raise(self, resp: httpx.Response, what: str) -> None:
        site, status = self.settings.site, resp.status_code
        detail = _messages(resp)
        if status == 401:
            how = ("JIRA_PAT (a Data Center personal access token)" if self.settings.pat
                   else "JIRA_EMAIL and JIRA_TOKEN (an Atlassian API token for that account)")
            raise JiraAuthError(f"{site}: authentication failed (401) for {what}: check {how}"
                                + (f" — Jira says: {detail}" if detail else ""))
        if status == 403:
            need = ("'Edit Issues' on the project (and the labels field on the edit screen)"
                    if what.startswith(("edit", "bulk")) else
                    "'Create Issues' (and 'Assign Issues' for an assignee) on the project"
                    if what.startswith("create") else
                    "'Add Comments' on the project" if what.startswith("comment on") else
                    "'Browse Projects' on every project in the scope")
            raise JiraAuthError(f"{site}: permission denied (403) for {what}: the account needs "
                                f"{need}" + (f" — Jira says: {detail}" if detail else ""))
        if status == 400 and what.startswith("search"):
            raise JiraQueryError(f"{site}: Jira rejected the query: {detail}",
                                 field="source.jira.jql")
        if status == 404 and what.startswith(("comments of", "changelog of", "issue", "edit")):
            raise JiraNotFound(f"{site}: {what}: not found (deleted or no permission)", 404)
        if status == 410:
            raise JiraHTTPError(f"{site}: {what}: 410 Gone — {detail}", 410)
        raise JiraHTTPError(f"{site}: {what}: HTTP {status}" + (f": {detail}" if detail else ""),
                            status, _field_errors(resp))

    # ---- endpoints -------------------------------------------------------------------------
    async def detect_flavour(self) -> Literal["cloud", "datacenter"]:
        if self.flavour is None:
            info = await self.request("GET", "/rest/api/2/serverInfo", what="serverInfo")
            kind = info.get("deploymentType") if isinstance(info, dict) else None
            self.flavour = "cloud" if kind == "Cloud" else "datacenter"
            logger.info("%s: deploymentType %s -> %s", self.settings.site, kind, self.flavour)
        return self.flavour

    async def search_cloud(self, body: JSON) -> JSON:
        page = await self.request("POST", f"{self.api}/search/jql", what="search", json=body)
        if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
            raise JiraResponseError(f"{self.settings.site}: search: response has no 'issues' "
                                    "list")
        return page

    async def search_dc(self, params: JSON) -> JSON:
        page = await self.request("POST", "/rest/api/2/search", what="search", json=params)
        if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
            raise JiraResponseError(f"{self.settings.site}: search: response has no 'issues' "
                                    "list")
        for name in ("startAt", "maxResults", "total"):
            if not isinstance(page.get(name), int):
                raise JiraResponseError(f"{self.settings.site}: search: field {name!r} is "
                                        f"missing or not an integer")
        return page

    async def paged(self, path: str, *, what: str, start: int, list_field: str,
                    page_size: int = 100) -> AsyncIterator[JSON]:
        """Yield items of a startAt-paged per-issue endpoint from ``start`` to the end."""
        while True:
            page = await self.request("GET", path, what=what,
                                      params={"startAt": start, "maxResults": page_size})
            items = page.get(list_field) if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise JiraResponseError(f"{self.settings.site}: {what}: no {list_field!r} list")
            for item in items:
                yield item
            start += len(items)
            total = page.get("total")
            if not items or page.get("isLast") is True or (
                    isinstance(total, int) and start >= total):
                return

    async def edit_labels(self, key: str, add: list[str], remove: list[str]) -> None:
        ops = [{"add": a} for a in add] + [{"remove": r} for r in remove]
        await self.request("PUT", issue_path(self.api, key), what=f"edit labels of {key}",
                           json={"update": {"labels": ops}})


def _cert_error(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
                seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _field_errors(resp: httpx.Response) -> dict[str, str]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}


def _messages(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    if not isinstance(body, dict):
        return ""
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(parts)
