"""The NVD CVE API 2.0, live: the records modified in a period, page by page.

* ``lastModStartDate``/``lastModEndDate`` windows of at most 120 days (the API's limit), each
  read with ``resultsPerPage=2000`` from ``startIndex`` 0 until ``totalResults``;
* the API key from ``VULNMARK_NVD_API_KEY`` only, sent in the ``apiKey`` header (never logged);
* the published rate limits, kept by the client itself: 5 requests in a rolling 30 s without a
  key, 50 with one (:attr:`NvdApi.sent` holds the times of the recent requests, on the wall
  clock, so that the next run, in another process, can go on counting from them);
* 403 and 429 (the NVD's answer to too many requests), 502, 503 and 504 and network errors
  are retried after ``Retry-After`` (else a backoff) up to ``max_retries``; an invalid key
  (404 naming it) stops at once;
* :class:`Cursor` says where the next page starts, so a run can be checkpointed and resumed.

Each page is parsed whole (:func:`vulnmark.intake.feeds.nvd.parse_page`) before it is
yielded: a bad record stops the run with nothing of its page used.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from vulnmark.errors import FeedError, FeedUnavailable
from vulnmark.intake.feeds.interface import Advisory
from vulnmark.intake.feeds.nvd import parse_page

logger = logging.getLogger(__name__)

URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
MAX_WINDOW = timedelta(days=120)
PAGE_SIZE = 2000
RATE_WINDOW = 30.0
LIMIT_WITHOUT_KEY, LIMIT_WITH_KEY = 5, 50
RETRY_STATUSES = frozenset({403, 429, 502, 503, 504})


@dataclass(frozen=True)
class Cursor:
    """Where reading stands: the window being read and the next ``startIndex`` in it."""

    since: datetime
    until: datetime
    window_start: datetime
    index: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "window_start": self.window_start.isoformat(), "index": self.index}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cursor:
        return cls(datetime.fromisoformat(d["since"]), datetime.fromisoformat(d["until"]),
                   datetime.fromisoformat(d["window_start"]), int(d["index"]))


@dataclass(frozen=True)
class Page:
    advisories: list[Advisory]
    next: Cursor | None
    """Where to go on after this page (None: the period is read)."""
    total: int
    """``totalResults`` of this page's window."""


def windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """``[since, until]`` cut into windows of at most 120 days."""
    out = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        out.append((start, end))
        start = end
    return out


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


class NvdApi:
    """A client of the CVE API 2.0 (``client`` injectable, for a transport or a test)."""

    def __init__(self, url: str = URL, api_key: str | None = None, *,
                 client: httpx.Client | None = None, timeout: float = 60.0,
                 max_retries: int = 6, page_size: int = PAGE_SIZE,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 sent: Iterable[float] = ()) -> None:
        self.url = url
        self.api_key = api_key or None
        self.client = client or httpx.Client(timeout=timeout)
        self.max_retries = max_retries
        self.page_size = min(page_size, PAGE_SIZE)
        self.clock = clock
        self.sleep = sleep
        self.limit = LIMIT_WITH_KEY if self.api_key else LIMIT_WITHOUT_KEY
        now = clock()
        self.sent: deque[float] = deque(sorted(t for t in sent if now - RATE_WINDOW < t <= now))
        """When the requests of the last 30 s were sent (also those of an earlier run)."""
        self.requests = 0

    def pages(self, since: datetime, until: datetime, *, resume: Cursor | None = None
              ) -> Iterator[Page]:
        """Every page of the records modified in ``[since, until]`` (from ``resume`` on)."""
        if resume is not None:
            since, until = resume.since, resume.until
        for start, end in windows(since, until):
            if resume is not None and end <= resume.window_start:
                continue
            index = resume.index if resume is not None and start == resume.window_start else 0
            while True:
                doc = self._get({"lastModStartDate": _stamp(start), "lastModEndDate": _stamp(end),
                                 "resultsPerPage": self.page_size, "startIndex": index})
                parsed = list(parse_page(doc, file=f"{self.url} (startIndex {index})"))
                # both ends of a window are inclusive: a record modified at the boundary was
                # in the window before
                advisories = [a for a in parsed if start == since or a.modified is None
                              or a.modified > start]
                total = doc.get("totalResults")
                if not isinstance(total, int) or total < 0:
                    raise FeedError(f"totalResults {total!r} is not a count", file=self.url,
                                    field="totalResults")
                index += len(parsed)
                more = 0 < len(parsed) and index < total
                if more:
                    nxt: Cursor | None = Cursor(since, until, start, index)
                elif end < until:
                    nxt = Cursor(since, until, end, 0)
                else:
                    nxt = None
                yield Page(advisories, nxt, total)
                if not more:
                    break
            resume = None

    # -- one request ------------------------------------------------------------------------

    def _wait_for_the_rate_limit(self) -> None:
        while True:
            now = self.clock()
            while self.sent and now - self.sent[0] >= RATE_WINDOW:
                self.sent.popleft()
            if len(self.sent) < self.limit:
                self.sent.append(now)
                return
            self.sleep(RATE_WINDOW - (now - self.sent[0]) + 0.01)

    def _get(self, params: dict[str, Any]) -> Any:
        headers = {"apiKey": self.api_key} if self.api_key else {}
        for attempt in range(self.max_retries + 1):
            self._wait_for_the_rate_limit()
            self.requests += 1
            try:
                response = self.client.get(self.url, params=params, headers=headers)
            except httpx.HTTPError as e:
                reason = f"{type(e).__name__}: {e}"
                if attempt == self.max_retries:
                    raise FeedUnavailable(f"NVD API {self.url}: {reason}") from e
                self.sleep(self._backoff(attempt, None))
                continue
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError as e:
                    raise FeedError("the NVD API answered with something that is not JSON",
                                    file=self.url) from e
            message = response.headers.get("message", "")
            if response.status_code == 404 and "apikey" in message.lower():
                raise FeedUnavailable("the NVD API refused the API key (VULNMARK_NVD_API_KEY): "
                                      f"{message}")
            if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                raise FeedUnavailable(f"NVD API {self.url}: HTTP {response.status_code}"
                                      f"{': ' + message if message else ''}"
                                      f" (after {attempt + 1} attempts)")
            wait = self._backoff(attempt, response.headers.get("retry-after"))
            logger.warning("NVD API answered %s; retrying in %.0f s", response.status_code, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                try:
                    when = parsedate_to_datetime(retry_after)
                    return max(0.0, (when - datetime.now(UTC)).total_seconds())
                except (TypeError, ValueError):
                    pass
        return float(min(RATE_WINDOW * 2, 6.0 * 2 ** attempt))
