"""A Bugzilla emulator (ASGI; serve it on 127.0.0.1 with :func:`~.server.serve_in_thread`) for
the two calls vulnmark makes, built from the public REST documentation of bugzilla.mozilla.org
(bmo.readthedocs.io, ``api/core/v1/bug.html``, ``comment.html``, ``general.html``):

* ``GET /rest/bug/{id}?include_fields=...`` -> ``{"bugs": [{"id", "summary", "whiteboard",
  ...}], "faults": []}``;
* ``POST /rest/bug/{id}/comment`` with a JSON body ``{"comment": text, "is_markdown": bool,
  "is_private": bool}`` -> ``201 {"id": new comment id}``.

Authentication is the ``X-BUGZILLA-API-KEY`` header (an API key in the URL is refused, as BMO
does since 2020). Errors are Bugzilla's: ``{"error": true, "code": N, "message": ...,
"documentation": url}`` with 401 (code 306: bad API key), 404 (101: no such bug), 400 (a
missing or empty comment, an unknown parameter: 54/100).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from vulnmark.testing._emu_http import read_body

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

DOCS = "https://bmo.readthedocs.io/en/latest/api/"
#: The parameters the comment call accepts (others are an error, as in Bugzilla).
COMMENT_KEYS = frozenset({"comment", "is_private", "is_markdown", "work_time", "id"})


@dataclass
class Comment:
    id: int
    bug: int
    text: str
    is_markdown: bool
    is_private: bool


@dataclass
class BugzillaEmulator:
    api_key: str
    bugs: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(method, path with query, headers) of every request, for assertions."""
    fail_next: int = 0
    """Answer this many requests with 503 (a maintenance window)."""
    next_comment_id: int = 16_000_000

    def add_bug(self, bug: int, *, summary: str, whiteboard: str = "") -> None:
        self.bugs[bug] = {"id": bug, "summary": summary, "whiteboard": whiteboard,
                          "status": "ASSIGNED", "product": "CA Program",
                          "component": "CA Certificate Compliance"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        query = scope.get("query_string", b"").decode()
        self.requests.append((scope["method"], scope["path"] + ("?" + query if query else ""),
                              headers))
        status, payload = self._route(scope["method"], scope["path"], parse_qs(query),
                                      headers, body)
        raw = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

    def _route(self, method: str, path: str, query: dict[str, list[str]],
               headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, _error(503, "Bugzilla is down for maintenance.")
        if "api_key" in query or "Bugzilla_api_key" in query:
            return 400, _error(300, "API keys in the URL are not accepted; use the "
                                    "X-BUGZILLA-API-KEY header.")
        if headers.get("x-bugzilla-api-key") != self.api_key:
            return 401, _error(306, "The API key you specified is invalid.")
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["rest", "bug"] or not parts[2].isdigit():
            return 404, _error(32614, f"A REST API resource was not found for '{method} "
                                      f"{path}'.")
        bug = self.bugs.get(int(parts[2]))
        if bug is None:
            return 404, _error(101, f"Bug #{parts[2]} does not exist.")
        if method == "GET" and len(parts) == 3:
            wanted = {f for v in query.get("include_fields", []) for f in v.split(",") if f}
            shown = {k: v for k, v in bug.items() if not wanted or k in wanted}
            return 200, {"bugs": [shown], "faults": []}
        if method == "POST" and parts[3:] == ["comment"]:
            return self._comment(bug, body)
        return 404, _error(32614, f"A REST API resource was not found for '{method} {path}'.")

    def _comment(self, bug: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return 400, _error(32000, "The JSON body could not be parsed.")
        if not isinstance(data, dict) or set(data) - COMMENT_KEYS:
            return 400, _error(100, "Unknown parameter in the comment call.")
        text = data.get("comment")
        if not isinstance(text, str) or not text.strip():
            return 400, _error(54, "You must specify a comment.")
        self.next_comment_id += 1
        self.comments.append(Comment(self.next_comment_id, bug["id"], text,
                                     bool(data.get("is_markdown")),
                                     bool(data.get("is_private"))))
        return 201, {"id": self.next_comment_id}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": True, "code": code, "message": message, "documentation": DOCS}
