"""httpx transports for tests: crash a client mid-run, or count what it sends."""

from __future__ import annotations

import httpx


class Killed(BaseException):
    """Stands for a crash (kill -9, Ctrl-C): not an Exception, so nothing catches it politely."""


class KillAfter(httpx.AsyncBaseTransport):
    """Pass requests to ``inner``; the ``limit``-th request whose path contains ``match``
    raises :class:`Killed` instead of being sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int, match: str = "/search"):
        self.inner = inner
        self.limit = limit
        self.match = match
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.match in request.url.path:
            self.seen += 1
            if self.seen >= self.limit:
                raise Killed(f"killed at request {self.seen} to {request.url.path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class TimeoutOnce(httpx.AsyncBaseTransport):
    """Raise ``httpx.ReadTimeout`` for the first ``times`` requests, then pass through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, times: int = 1):
        self.inner = inner
        self.times = times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.times > 0:
            self.times -= 1
            raise httpx.ReadTimeout("injected read timeout", request=request)
        return await self.inner.handle_async_request(request)
