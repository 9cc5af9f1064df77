"""An NVD CVE API 2.0 emulator (ASGI; serve it with :func:`vulnmark.testing.server.
serve_in_thread` on 127.0.0.1) for tests and benchmarks of the live intake.

It answers ``GET /rest/json/cves/2.0`` as the NVD documents it: ``lastModStartDate`` and
``lastModEndDate`` together and at most 120 days apart, ``resultsPerPage`` up to 2,000,
``startIndex`` paging, records in ``lastModified`` order; the ``apiKey`` header (an unknown
key is a 404 whose ``message`` header says so); the rate limits (5 requests in a rolling 30 s
without a key, 50 with one; beyond them 403, counted in :attr:`violations`); injected 403 or
503 answers with ``Retry-After``. Every response it sends is checked by :attr:`NvdEmulator.
validator`: the project's tests pass one for the NVD's own ``cve_api_json_2.0.schema`` (vendored
in ``tests/data/nvd_schema``); without one, against :data:`RESPONSE_SCHEMA` (the response shape
of ``../shared/reference/standards.md`` §5.1, which needs no file).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

PATH = "/rest/json/cves/2.0"
WINDOW = 30.0

_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"}
_METRIC = {"type": "array", "items": {
    "type": "object", "required": ["source", "type", "cvssData"],
    "properties": {"source": {"type": "string"},
                   "type": {"enum": ["Primary", "Secondary"]},
                   "cvssData": {"type": "object", "required": ["version", "vectorString",
                                                               "baseScore"]}}}}
#: The response wrapper and ``cve`` object (field names and types of the NVD's
#: cve_api_json_2.0 schema as standards.md §5.1 lists them).
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resultsPerPage", "startIndex", "totalResults", "format", "version",
                 "timestamp", "vulnerabilities"],
    "properties": {
        "resultsPerPage": {"type": "integer", "minimum": 0},
        "startIndex": {"type": "integer", "minimum": 0},
        "totalResults": {"type": "integer", "minimum": 0},
        "format": {"const": "NVD_CVE"}, "version": {"const": "2.0"}, "timestamp": _TIME,
        "vulnerabilities": {"type": "array", "items": {
            "type": "object", "required": ["cve"], "properties": {"cve": {
                "type": "object",
                "required": ["id", "published", "lastModified", "references", "descriptions"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^CVE-\d{4}-\d{4,}$"},
                    "sourceIdentifier": {"type": "string"}, "published": _TIME,
                    "lastModified": _TIME, "vulnStatus": {"type": "string"},
                    "descriptions": {"type": "array", "items": {
                        "type": "object", "required": ["lang", "value"]}},
                    "references": {"type": "array", "items": {
                        "type": "object", "required": ["url"]}},
                    "metrics": {"type": "object", "properties": dict.fromkeys(
                        ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"),
                        _METRIC)},
                    "configurations": {"type": "array"}, "weaknesses": {"type": "array"},
                }}}}},
    },
}


@dataclass
class NvdFault:
    status: int
    times: int = 1
    retry_after: str | None = None


@dataclass(frozen=True)
class NvdRequest:
    params: dict[str, str]
    keyed: bool
    status: int
    at: float


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass
class NvdEmulator:
    api_keys: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    validate: bool = True
    validator: Callable[[dict[str, Any]], None] | None = None
    """Raises unless a response document is valid (None: against :data:`RESPONSE_SCHEMA`)."""
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[NvdFault] = field(default_factory=list)
    requests: list[NvdRequest] = field(default_factory=list)
    violations: int = 0
    """Requests beyond the rate limit (each was answered 403)."""
    _sent: dict[bool, deque[float]] = field(default_factory=lambda: {True: deque(),
                                                                    False: deque()})
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _order: list[tuple[str, str]] | None = None

    # -- data -------------------------------------------------------------------------------

    def add(self, cves: Iterable[dict[str, Any]]) -> None:
        for cve in cves:
            self.records[cve["id"]] = cve
        self._order = None

    def load(self, path: Path) -> int:
        """Add the records of an NVD 2.0 JSON file (gzipped or not)."""
        from vulnmark.intake.feeds.interface import load_json

        doc = load_json(path)
        before = len(self.records)
        self.add(v["cve"] for v in doc["vulnerabilities"])
        return len(self.records) - before

    def touch(self, ids: Iterable[str], at: datetime) -> None:
        """Mark records modified at ``at`` (a rescoring, a new reference)."""
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000")
        for i in ids:
            self.records[i] = {**self.records[i], "lastModified": stamp}
        self._order = None

    def inject(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        self.faults.append(NvdFault(status, times, retry_after))

    def max_in_window(self, keyed: bool | None = None) -> int:
        """The most requests the emulator saw in any rolling 30 s."""
        times = sorted(r.at for r in self.requests if keyed is None or r.keyed == keyed)
        best, j = 0, 0
        for i, t in enumerate(times):
            while t - times[j] >= WINDOW:
                j += 1
            best = max(best, i - j + 1)
        return best

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        params = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        with self._lock:
            status, extra, body = self._answer(scope["method"], scope["path"], params,
                                               headers.get("apikey"))
        raw = json.dumps(body).encode() if body is not None else b""
        hdrs = [(b"content-type", b"application/json")] if body is not None else []
        hdrs += [(k.encode(), v.encode()) for k, v in extra.items()]
        hdrs.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": raw})

    def _answer(self, method: str, path: str, params: dict[str, str], key: str | None
                ) -> tuple[int, dict[str, str], Any]:
        now = self.clock()
        keyed = key is not None

        def done(status: int, extra: dict[str, str] | None = None, body: Any = None
                 ) -> tuple[int, dict[str, str], Any]:
            self.requests.append(NvdRequest(params, keyed, status, now))
            return status, extra or {}, body

        if method != "GET" or path != PATH:
            return done(404, {"message": "Not found"})
        if keyed and key not in self.api_keys:
            return done(404, {"message": "Invalid apiKey"})
        sent = self._sent[keyed]
        while sent and now - sent[0] >= WINDOW:
            sent.popleft()
        sent.append(now)
        if len(sent) > (50 if keyed else 5):
            self.violations += 1
            return done(403, {"message": "Rate limit exceeded"})
        if self.faults:
            fault = self.faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self.faults.pop(0)
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return done(fault.status, extra)
        try:
            doc = self._page(params)
        except ValueError as e:
            return done(404, {"message": str(e)})
        if self.validate and self.validator is not None:
            self.validator(doc)
        elif self.validate:
            import jsonschema

            jsonschema.validate(doc, RESPONSE_SCHEMA)
        return done(200, {}, doc)

    def _page(self, params: dict[str, str]) -> dict[str, Any]:
        start_text, end_text = params.get("lastModStartDate"), params.get("lastModEndDate")
        if (start_text is None) != (end_text is None):
            raise ValueError("Both lastModStartDate and lastModEndDate are required")
        size = int(params.get("resultsPerPage", "2000"))
        index = int(params.get("startIndex", "0"))
        if not 0 < size <= 2000 or index < 0:
            raise ValueError("Invalid resultsPerPage or startIndex")
        if self._order is None:
            self._order = sorted((r["lastModified"], i) for i, r in self.records.items())
        chosen = self._order
        if start_text is not None and end_text is not None:
            start, end = _time(start_text), _time(end_text)
            if end < start or end - start > timedelta(days=120):
                raise ValueError("The date range must not exceed 120 days")
            chosen = [(m, i) for m, i in chosen if start <= _time(m) <= end]
        page = chosen[index:index + size]
        return {"resultsPerPage": len(page), "startIndex": index, "totalResults": len(chosen),
                "format": "NVD_CVE", "version": "2.0",
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "vulnerabilities": [{"cve": self.records[i]} for _, i in page]}
