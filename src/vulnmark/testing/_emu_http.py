"""HTTP plumbing of the Jira emulator: Jira's error body and pre-serialised issue lists."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from vulnmark.testing._emu_data import JSON


class RawIssues(bytes):
    """An already serialised JSON array of issues (the render cache's output)."""


def dumps(payload: Any) -> bytes:
    if isinstance(payload, dict) and isinstance(payload.get("issues"), RawIssues):
        rest = {k: v for k, v in payload.items() if k != "issues"}
        head = json.dumps(rest)[:-1] + (", " if rest else "")
        issues: bytes = payload["issues"]
        return (head + '"issues": ').encode() + issues + b"}"
    return json.dumps(payload).encode()


class HttpError(Exception):
    def __init__(self, status: int, messages: Iterable[str] = (), errors: JSON | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = {"errorMessages": list(messages), "errors": errors or {}}
        self.headers = headers or {}


async def read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """The whole body of an ASGI request (every ``http.request`` message)."""
    body = b""
    while True:
        msg = await receive()
        body += bytes(msg.get("body", b""))
        if not msg.get("more_body"):
            return body
